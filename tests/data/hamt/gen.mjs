// gen.mjs - regenerate the HAMT golden vectors in this directory.
//
// Run through gen.sh (which makes the oracle's node_modules resolvable):
//   sh tests/data/hamt/gen.sh ../shared/oracle tests/data/hamt
//
// For each case it writes a directory of small files, imports it with the
// oracle's cid-of-tree.mjs (ipfs-unixfs-importer, kubo-equivalent) with a
// small --hamt-threshold so it shards, and reads the CAR back to record
// every entry (name, CID, Tsize) as the importer linked it, the root CID,
// the root's cumulative size, the number of shard blocks and the top
// shard's mode/mtime.  hamt_build must reproduce the root from the entries.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CarReader } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'

const [oracle, outDir] = process.argv.slice(2)
if (!outDir) throw new Error('usage: gen.mjs ORACLE_DIR OUTDIR')

function ownNames (count) {
  const names = new Set([
    'a', 'aa', 'aaa', 'aaaa', 'a'.repeat(40), 'b', 'ab', 'abc', 'abcd',
    'file', 'file.txt', 'file.txt.bak', 'file.txt~', 'File.TXT',
    '.hidden', '-', '_', '0', '00', '000', 'with space', ' leading',
    'trailing ', 'ünïcødé', 'naïve café', '日本語のファイル', 'Ωmega',
    'emoji 😀 🎉', '한국어', 'עברית', 'x'.repeat(200), 'Z', 'z', 'zz'
  ])
  for (let i = 0; names.size < count; i++) {
    names.add(i % 3 === 0 ? `file${i}` : i % 3 === 1 ? `entry-${String(i).padStart(4, '0')}.dat` : `ü${i}`)
  }
  return [...names].slice(0, count)
}

function kuboNames (dir, count, len, last, seed) {
  execFileSync('node', [path.join(oracle, 'gen-deterministic.mjs'), 'hamt-dir', dir,
    String(count), String(len), String(last), seed])
  return null
}

const cases = [
  { name: 'kubo-v0-4033', kubo: [4033, 31, 31, 'hamt-unixfs-v0-2015'],
    args: ['--profile', 'unixfs-v0-2015'], expect: 'QmeMiJzmhpJAUgynAcxTQYek5PPKgdv3qEvFsdV3XpVnvP' },
  { name: 'kubo-v1-4766', kubo: [4766, 11, 22, 'hamt-unixfs-v1-2025'],
    args: [], expect: 'bafybeiegvuterwurhdtkikfhbxcldohmxp566vpjdofhzmnhv6o4freidu' },
  { name: 'own-256', count: 400, args: ['--hamt-threshold', '1000'] },
  { name: 'own-16', count: 400, args: ['--hamt-threshold', '1000', '--hamt-fanout', '16'] },
  { name: 'own-1024', count: 1500, args: ['--hamt-threshold', '1000', '--hamt-fanout', '1024'] },
  { name: 'own-8', count: 60, args: ['--hamt-threshold', '100', '--hamt-fanout', '8'] },
  { name: 'own-small', count: 3, args: ['--hamt-threshold', '10'] },
  { name: 'own-v0-meta', count: 50, meta: true,
    args: ['--profile', 'unixfs-v0-2015', '--hamt-threshold', '1000', '--preserve-mode', '--preserve-mtime'] },
  { name: 'own-blake2b', count: 100, args: ['--hamt-threshold', '1000', '--hash', 'blake2b-256'] }
]

function makeDir (c) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hamt-gen-'))
  const tree = path.join(dir, 'd')
  if (c.kubo) {
    kuboNames(tree, ...c.kubo)
  } else {
    fs.mkdirSync(tree)
    for (const n of ownNames(c.count)) fs.writeFileSync(path.join(tree, n), n + '\n')
  }
  if (c.meta) {
    for (const n of fs.readdirSync(tree)) {
      fs.chmodSync(path.join(tree, n), 0o640)
      fs.utimesSync(path.join(tree, n), 1600000000, 1600000000)
    }
    fs.chmodSync(tree, 0o750)
    fs.utimesSync(tree, 1700000000.5, 1700000000.25)
  }
  return { dir, tree }
}

async function walk (blocks, cid, out) {
  const node = dagPb.decode(blocks.get(cid.toString()))
  const fs5 = UnixFS.unmarshal(node.Data)
  if (fs5.type !== 'hamt-sharded-directory') throw new Error('not a shard')
  out.shards++
  const width = (Number(fs5.fanout) - 1).toString(16).length
  for (const l of node.Links) {
    if (l.Name.length === width) await walk(blocks, l.Hash, out)
    else out.entries.push({ name: l.Name.slice(width), cid: l.Hash.toString(), tsize: l.Tsize })
  }
}

for (const c of cases) {
  const { dir, tree } = makeDir(c)
  const car = path.join(dir, 'out.car')
  const root = execFileSync('node', [path.join(oracle, 'cid-of-tree.mjs'), ...c.args, '--car', car, tree]).toString().trim()
  if (c.expect && root !== c.expect) throw new Error(`${c.name}: ${root} != ${c.expect}`)
  const reader = await CarReader.fromBytes(fs.readFileSync(car))
  const blocks = new Map()
  for await (const b of reader.blocks()) blocks.set(b.cid.toString(), b.bytes)
  const rootBlock = blocks.get(root)
  const rootNode = dagPb.decode(rootBlock)
  const top = UnixFS.unmarshal(rootNode.Data)
  const out = { shards: 0, entries: [] }
  await walk(blocks, reader._header?.roots?.[0] ?? (await reader.getRoots())[0], out)
  const tsize = rootNode.Links.reduce((s, l) => s + l.Tsize, rootBlock.length)
  const first = out.entries[0]
  const same = out.entries.every(e => e.cid === first.cid && e.tsize === first.tsize)
  const lines = [
    `# ${c.name}: cid-of-tree.mjs ${c.args.join(' ')} (see README.md)`,
    `fanout ${top.fanout}`,
    `cidv ${root.startsWith('Qm') ? 0 : 1}`,
    `hash ${c.args.includes('blake2b-256') ? 'blake2b-256' : 'sha2-256'}`,
    `root ${root}`,
    `tsize ${tsize}`,
    `shards ${out.shards}`
  ]
  if (top.mode !== undefined && c.meta) lines.push(`mode ${top.mode.toString(8)}`)
  if (top.mtime !== undefined) lines.push(`mtime ${top.mtime.secs} ${top.mtime.nsecs ?? 0}`)
  if (same) lines.push(`child ${first.cid} ${first.tsize}`)
  for (const e of out.entries) {
    if (e.name.includes('\n')) throw new Error('newline in name')
    lines.push(same ? `e - - ${e.name}` : `e ${e.cid} ${e.tsize} ${e.name}`)
  }
  fs.writeFileSync(path.join(outDir, `${c.name}.txt`), lines.join('\n') + '\n')
  fs.rmSync(dir, { recursive: true })
  console.log(`${c.name}: ${root} (${out.entries.length} entries, ${out.shards} shards)`)
}
