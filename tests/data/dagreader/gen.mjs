// gen.mjs - regenerate the DAG reader's oracle CARs in this directory.
//
// Run through gen.sh (which makes the oracle's node_modules resolvable):
//   sh tests/data/dagreader/gen.sh ../shared/oracle tests/data/dagreader
//
// Builds one small tree, imports it three ways with the oracle's
// cid-of-tree.mjs (ipfs-unixfs-importer 17.1.1) into CARs, and writes
// manifest.txt: every path with its kind, size and sha2-256 (files),
// entry count (directories) or target (symlinks).  Small chunks and few
// links per node make the file DAGs several levels deep.
import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const [oracle, outDir] = process.argv.slice(2)
if (!outDir) throw new Error('usage: gen.mjs ORACLE_DIR OUTDIR')

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dagreader-gen-'))
const tree = path.join(tmp, 'tree')
const bytes = (n, seed) => execFileSync('node',
  [path.join(oracle, 'gen-deterministic.mjs'), 'bytes', String(n), seed, '-'],
  { maxBuffer: 1 << 24 })

fs.mkdirSync(path.join(tree, 'sub', 'nested'), { recursive: true })
fs.mkdirSync(path.join(tree, 'many'))
fs.mkdirSync(path.join(tree, 'empty-dir'))
fs.writeFileSync(path.join(tree, 'empty'), '')
fs.writeFileSync(path.join(tree, 'one'), 'x')
fs.writeFileSync(path.join(tree, 'small.txt'), 'hello world\n')
fs.writeFileSync(path.join(tree, 'four-chunks'), bytes(4096, 'dagreader-4'))
fs.writeFileSync(path.join(tree, 'odd.bin'), bytes(4097, 'dagreader-odd'))
fs.writeFileSync(path.join(tree, 'big.bin'), bytes(50000, 'dagreader-big'))
fs.writeFileSync(path.join(tree, 'sub', 'nested', 'deep.txt'), 'deep\n'.repeat(300))
fs.writeFileSync(path.join(tree, 'ünïcødé 😀.txt'), 'unicode\n')
fs.symlinkSync('sub/nested/deep.txt', path.join(tree, 'link'))
for (let i = 0; i < 300; i++) {
  fs.writeFileSync(path.join(tree, 'many', `f${String(i).padStart(3, '0')}`), `${i}\n`.repeat(i % 7))
}

const cars = [
  ['v1-balanced.car', ['--chunk', '1024', '--links', '4', '--hamt-threshold', '1000']],
  ['v0-balanced.car', ['--profile', 'unixfs-v0-2015', '--chunk', '1024', '--links', '4', '--hamt-threshold', '1000']],
  ['v0-trickle.car', ['--profile', 'unixfs-v0-2015', '--layout', 'trickle', '--chunk', '512', '--links', '4', '--hamt-threshold', '1000']]
]
const roots = []
for (const [name, args] of cars) {
  const root = execFileSync('node', [path.join(oracle, 'cid-of-tree.mjs'), ...args,
    '--car', path.join(outDir, name), tree]).toString().trim()
  roots.push(`car ${name} ${root}  # cid-of-tree.mjs ${args.join(' ')}`)
}

const lines = ['# kind path size|count|target sha2-256; see README.md', ...roots]
function walk (rel) {
  const abs = path.join(tree, rel)
  const st = fs.lstatSync(abs)
  if (st.isSymbolicLink()) {
    lines.push(`symlink ${rel} ${fs.readlinkSync(abs)}`)
  } else if (st.isDirectory()) {
    const names = fs.readdirSync(abs)
    lines.push(`dir ${rel || '.'} ${names.length}`)
    for (const n of names.sort()) walk(rel ? `${rel}/${n}` : n)
  } else {
    const data = fs.readFileSync(abs)
    lines.push(`file ${rel} ${data.length} ${crypto.createHash('sha256').update(data).digest('hex')}`)
  }
}
walk('')
fs.writeFileSync(path.join(outDir, 'manifest.txt'), lines.join('\n') + '\n')
fs.rmSync(tmp, { recursive: true })
console.log(roots.join('\n'))
