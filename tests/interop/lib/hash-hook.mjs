// hash-hook.mjs - module resolution hook (module.register) for efs-ref.mjs:
// when ipfs-unixfs-importer's utils/persist.js imports
// 'multiformats/hashes/sha2', hand it sha2-stand-in.mjs instead, whose
// sha256 hashes with the function efs-ref.mjs chose.  Every other import
// resolves normally.
const STAND_IN = new URL('./sha2-stand-in.mjs', import.meta.url).href
const PERSIST = /\/ipfs-unixfs-importer\/dist\/src\/utils\/persist\.js$/

export async function resolve (specifier, context, next) {
  if (specifier === 'multiformats/hashes/sha2' && PERSIST.test(context.parentURL ?? '')) {
    return { url: STAND_IN, shortCircuit: true }
  }
  return next(specifier, context)
}
