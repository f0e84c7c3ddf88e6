// sha2-stand-in.mjs - what ipfs-unixfs-importer's persist.js sees as
// 'multiformats/hashes/sha2' when efs-ref.mjs builds a DAG with another
// hash function (see hash-hook.mjs).
import { sha256 as real, sha512 } from 'multiformats/hashes/sha2'

const chosen = () => globalThis.__efsInteropHasher ?? real

export const sha256 = {
  get name () { return chosen().name },
  get code () { return chosen().code },
  digest (input) { return chosen().digest(input) }
}
export { sha512 }
