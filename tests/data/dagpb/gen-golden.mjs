// gen-golden.mjs - writes golden.txt: dag-pb blocks and UnixFS Data
// messages produced by the JavaScript reference implementations
// (@ipld/dag-pb 4.2.0, ipfs-unixfs 13.1.1, ipfs-unixfs-importer 17.1.1).
// See README.md for how to run it.
//
// Output lines:  KIND NAME CID HEX
//   block      a canonical dag-pb block; CID names it
//   datafirst  a valid block in the old Data-before-Links order
//   unixfs     a UnixFS Data message (CID is "-")
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced, trickle } from 'ipfs-unixfs-importer/layout'
import { UnixFS } from 'ipfs-unixfs'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { identity } from 'multiformats/hashes/identity'
import { blake2b256 } from '@multiformats/blake2/blake2b'

const hex = (b) => Buffer.from(b).toString('hex')
const out = []
const seen = new Set()

function emit (kind, name, cid, bytes) {
  out.push(`${kind} ${name} ${cid ?? '-'} ${hex(bytes)}`)
}

async function cidOf (bytes, version = 1, hasher = sha256) {
  const mh = await hasher.digest(bytes)
  return CID.create(version, dagPb.code, mh)
}

// Import entries; emit every dag-pb block written (once), named prefix-N,
// and the root as prefix-root.
async function imp (prefix, entries, options) {
  const blocks = []
  const store = {
    put: (cid, bytes) => { blocks.push({ cid, bytes }); return cid },
    get: () => { throw new Error('get') },
    has: () => false
  }
  let root
  for await (const e of importer(entries, store, options)) root = e
  let n = 0
  for (const { cid, bytes } of blocks) {
    if (cid.code !== dagPb.code || seen.has(cid.toString())) continue
    seen.add(cid.toString())
    const isRoot = cid.equals(root.cid)
    emit('block', isRoot ? `${prefix}-root` : `${prefix}-${n++}`, cid, bytes)
  }
  return root
}

const v0 = { cidVersion: 0, rawLeaves: false, reduceSingleLeafToSelf: true, layout: balanced({ maxChildrenPerNode: 174 }) }
const v1 = { cidVersion: 1, rawLeaves: true, reduceSingleLeafToSelf: true, layout: balanced({ maxChildrenPerNode: 1024 }) }
const bytes = (s) => new TextEncoder().encode(s)

// Files
await imp('empty-file-v0', [{ content: new Uint8Array(0) }], v0)
emit('block', 'empty-file-v1', await cidOf(Uint8Array.of(0x0a, 0x04, 0x08, 0x02, 0x18, 0x00)),
  Uint8Array.of(0x0a, 0x04, 0x08, 0x02, 0x18, 0x00))
await imp('hello-v0', [{ content: bytes('hello world') }], v0)
await imp('raw-1mib1', [{ content: new Uint8Array(1048577) }], { ...v1, chunker: fixedSize({ chunkSize: 1048576 }) })
await imp('chunked-v0', [{ content: bytes('hello world, in chunks') }], { ...v0, chunker: fixedSize({ chunkSize: 8 }) })
await imp('deep-v0', [{ content: bytes('abcdefghijklmnopqrstuvwxyz') }],
  { ...v0, chunker: fixedSize({ chunkSize: 2 }), layout: balanced({ maxChildrenPerNode: 3 }) })
await imp('trickle-v0', [{ content: bytes('trickle layout leaves are type raw') }],
  { ...v0, chunker: fixedSize({ chunkSize: 5 }), leafType: 'raw', layout: trickle({ maxChildrenPerNode: 3 }) })

// Directories, symlinks, metadata
await imp('empty-dir-v0', [{ path: 'd' }], v0)
await imp('dir-v1', [
  { path: 'd/b', content: bytes('b') },
  { path: 'd/a', content: bytes('a') },
  { path: 'd/ab', content: bytes('ab') },
  { path: 'd/a b', content: bytes('a b') },
  { path: 'd/Z', content: bytes('Z') },
  { path: 'd/\u00e9t\u00e9', content: bytes('summer') },
  { path: 'd/sub/x', content: bytes('x') }
], v1)
await imp('symlink-v0', [{ path: 'd/l', link: 'foo' }, { path: 'd/abs', link: '/etc/passwd' }], v0)
await imp('meta-v1', [
  { path: 'd', mode: 0o700, mtime: { secs: 1700000000n } },
  { path: 'd/f', content: bytes('meta'), mode: 0o755, mtime: { secs: 1700000001n, nsecs: 123456789 } },
  { path: 'd/g', content: bytes('default mode'), mode: 0o644, mtime: { secs: -5n, nsecs: 1 } }
], v1)

// HAMT: a tiny threshold shards a small directory (fanout 256), and fanout 8
// makes sub-shards appear with few entries.
const files = []
for (let i = 0; i < 12; i++) files.push({ path: `h/file-${i}.txt`, content: bytes(`file ${i}`) })
await imp('hamt256-v1', files, { ...v1, shardSplitThresholdBytes: 1, shardSplitStrategy: 'block-bytes' })
await imp('hamt8-v0', files.map((f) => ({ ...f, path: f.path.replace('h/', 'k/') })),
  { ...v0, shardSplitThresholdBytes: 1, shardSplitStrategy: 'links-bytes', shardFanoutBits: 3 })

// Plain dag-pb nodes (not UnixFS) through @ipld/dag-pb.
async function node (name, n, hasher = sha256) {
  const b = dagPb.encode(dagPb.prepare(n))
  emit('block', name, await cidOf(b, 1, hasher), b)
  return b
}
const leaf = await cidOf(bytes('x'))
const idcid = CID.create(1, 0x55, await identity.digest(bytes('inline')))
const b2cid = CID.create(1, 0x55, await blake2b256.digest(bytes('b2')))
const v0cid = CID.parse('QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH')
await node('pb-empty', {})
await node('pb-empty-data', { Data: new Uint8Array(0) })
await node('pb-data-only', { Data: bytes('not unixfs') })
await node('pb-hash-only', { Links: [{ Hash: leaf }] })
await node('pb-name-only', { Links: [{ Hash: leaf, Name: 'n' }] })
await node('pb-tsize-only', { Links: [{ Hash: leaf, Tsize: 300 }] })
await node('pb-mixed-cids', {
  Data: bytes('d'),
  Links: [
    { Hash: v0cid, Name: 'v0', Tsize: 6 },
    { Hash: idcid, Name: 'identity', Tsize: 6 },
    { Hash: b2cid, Name: 'blake2b', Tsize: 2 },
    { Hash: leaf, Name: '', Tsize: 9007199254740991 }
  ]
})
await node('pb-blake2b', { Data: Uint8Array.of(8, 1), Links: [{ Hash: b2cid, Name: 'x', Tsize: 2 }] }, blake2b256)
await node('pb-sorted', {
  Links: ['b', '', 'a', 'ab', 'aa', '\u00ff', 'B', 'a'].map((Name, i) => ({ Hash: leaf, Name, Tsize: i }))
})

// The same node in the legacy Data-first order (decoders must accept it).
{
  const n = dagPb.prepare({ Data: Uint8Array.of(8, 1), Links: [{ Hash: leaf, Name: 'a', Tsize: 1 }, { Hash: leaf, Name: 'b', Tsize: 2 }] })
  const b = dagPb.encode(n, { fieldOrder: 'data-first' })
  emit('datafirst', 'pb-data-first', await cidOf(b), b)
  const c = dagPb.encode(n)
  emit('block', 'pb-data-first-canonical', await cidOf(c), c)
}

// UnixFS Data messages from ipfs-unixfs.
function ufs (name, u) { emit('unixfs', name, null, u.marshal()) }
ufs('ufs-raw', new UnixFS({ type: 'raw', data: bytes('raw node'), blockSizes: [3n, 4n] }))
ufs('ufs-metadata', new UnixFS({ type: 'metadata', data: bytes('text/plain') }))
ufs('ufs-file-blocksizes', new UnixFS({ type: 'file', blockSizes: [262144n, 262144n, 1n] }))
ufs('ufs-file-big', new UnixFS({ type: 'file', blockSizes: [2n ** 40n, 2n ** 63n - 1n] }))
ufs('ufs-dir-mode', new UnixFS({ type: 'directory', mode: 0o1777 }))
ufs('ufs-file-mode-0', new UnixFS({ type: 'file', mode: 0 }))
ufs('ufs-hamt', new UnixFS({ type: 'hamt-sharded-directory', data: Uint8Array.of(0x80, 0, 1), hashType: 0x22n, fanout: 256n }))
ufs('ufs-hamt-meta', new UnixFS({ type: 'hamt-sharded-directory', data: Uint8Array.of(1), hashType: 0x22n, fanout: 8n, mode: 0o750, mtime: { secs: 1n, nsecs: 999999999 } }))
ufs('ufs-mtime-neg', new UnixFS({ type: 'file', mtime: { secs: -1n } }))
ufs('ufs-mtime-max', new UnixFS({ type: 'file', mtime: { secs: 2n ** 63n - 1n } }))
// mode upper bits survive an unmarshal/marshal round trip: file with
// filesize 0 and mode 0100644 (S_IFREG | 0644, `38 a4 83 02`)
{
  const u = UnixFS.unmarshal(Uint8Array.of(0x08, 0x02, 0x18, 0x00, 0x38, 0xa4, 0x83, 0x02))
  emit('unixfs', 'ufs-mode-upper-bits', null, u.marshal())
}

process.stdout.write(out.join('\n') + '\n')
