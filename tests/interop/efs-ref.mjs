#!/usr/bin/env node
// efs-ref.mjs - the JavaScript side of the estuaryfs interop test: what the
// reference implementations (ipfs-unixfs-importer, @ipld/car,
// @web3-storage/data-segment) make of the same input.
//
//   node efs-ref.mjs import [--profile P] [--hash H] [--chunk-size N]
//        [--max-links N] [--raw-leaves|--no-raw-leaves] [--cid-version V]
//        [--no-hidden] [--preserve-mode] [--preserve-mtime] [--car OUT]
//        [--only-hash] PATH...
//       prints the root CID of each PATH, one a line; --car (one PATH
//       only) also writes a CARv1 with the blocks in depth-first pre-order
//       from the root, each block once (the Filecoin "deterministic CAR",
//       as `ipfs dag export` writes it); --only-hash keeps no blocks (for
//       timing the importer: bench/core.sh)
//   node efs-ref.mjs commp FILE...
//       prints "V1 V2 PAYLOAD PADDED UNPADDED" of each file's bytes
//   node efs-ref.mjs check-car FILE ROOT [FILE ROOT]...
//       reads each CAR (v1 or v2) with @ipld/car, re-hashes every block,
//       checks the header root and that the blocks are the DAG under ROOT
//       in depth-first pre-order, each once; prints one line per CAR,
//       "ok N" (N blocks) or what is wrong
//
// Exit status: 0 ok, 1 mismatch or failure, 2 usage.
import fs from 'node:fs'
import path from 'node:path'
import { register } from 'node:module'
import { parseArgs } from 'node:util'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { identity } from 'multiformats/hashes/identity'
import { blake2b256 } from '@multiformats/blake2/blake2b'

const HASHERS = new Map([
  ['sha2-256', sha256],
  ['blake2b-256', blake2b256]
])
const BY_CODE = new Map([...HASHERS.values()].map((h) => [h.code, h]))

const PROFILES = {
  'unixfs-v1-2025': { cidVersion: 1, rawLeaves: true, chunkSize: 1048576, maxLinks: 1024, split: 'block-bytes' },
  'unixfs-v0-2015': { cidVersion: 0, rawLeaves: false, chunkSize: 262144, maxLinks: 174, split: 'links-bytes' }
}

function die (msg, code = 1) {
  process.stderr.write(`efs-ref: ${msg}\n`)
  process.exit(code)
}

const key = (cid) => cid.toV1().toString()

// Blocks kept in memory, keyed on the multihash (v0 and v1 of one block
// are one block).
class MemStore {
  constructor () { this.blocks = new Map() }
  put (cid, bytes) {
    if (!this.blocks.has(key(cid))) this.blocks.set(key(cid), bytes)
    return cid
  }
  async * get (cid) { yield this.getSync(cid) }
  getSync (cid) { return this.blocks.get(key(cid)) }
  has (cid) { return this.blocks.has(key(cid)) }
}

// Keeps nothing: for timing the importer alone (bench/core.sh).
class NullStore {
  put (cid) { return cid }
  async * get (cid) { throw new Error(`NullStore holds no blocks (${cid})`) }
  has () { return false }
}

function linksOf (cid, bytes) {
  if (cid.code === dagPb.code) return dagPb.decode(bytes).Links.map((l) => l.Hash)
  if (cid.code === raw.code) return []
  throw new Error(`unexpected codec 0x${cid.code.toString(16)} in ${cid}`)
}

// Depth-first pre-order from root, each block at its first occurrence,
// children in link order; identity CIDs have no block.
function dfsOrder (root, getBytes) {
  const order = []
  const seen = new Set()
  const stack = [root]
  while (stack.length > 0) {
    const cid = stack.pop()
    if (cid.multihash.code === identity.code || seen.has(key(cid))) continue
    seen.add(key(cid))
    const bytes = getBytes(cid)
    if (bytes == null) throw new Error(`block missing: ${cid}`)
    order.push({ cid, bytes })
    const kids = linksOf(cid, bytes)
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i])
  }
  return order
}

async function writeCar (file, root, order) {
  const { CarWriter } = await import('@ipld/car/writer')
  const { writer, out } = CarWriter.create([root])
  const ws = fs.createWriteStream(file)
  const pump = (async () => {
    for await (const chunk of out) {
      if (!ws.write(chunk)) await new Promise((resolve) => ws.once('drain', resolve))
    }
  })()
  for (const block of order) await writer.put(block)
  await writer.close()
  await pump
  await new Promise((resolve, reject) => ws.end((e) => (e ? reject(e) : resolve())))
}

// Walk a tree the way `estuaryfs add` does: every entry (hidden ones too
// unless noHidden), sorted by name, symlinks stored as symlinks.
// With keepMode/keepMtime, each entry carries its metadata as the JS
// importer wants it (mode & 07777; mtime seconds and nanoseconds).
function candidatesOf (input, o) {
  const ROOT = 'root'
  const meta = (s) => {
    const m = {}
    if (o.keepMode) m.mode = Number(s.mode & 0o7777n)
    if (o.keepMtime) {
      const secs = s.mtimeNs / 1000000000n
      const nsecs = Number(s.mtimeNs % 1000000000n)
      m.mtime = nsecs === 0 ? { secs } : { secs, nsecs }
    }
    return m
  }
  const stat = (p) => fs.lstatSync(p, { bigint: true })
  const file = (p) => fs.createReadStream(p, { highWaterMark: 1 << 20 })
  const st = stat(input)
  if (st.isFile()) return [{ content: file(input), ...meta(st) }]
  if (st.isSymbolicLink()) return [{ path: ROOT, link: fs.readlinkSync(input), ...meta(st) }]
  const list = [{ path: ROOT, ...meta(st) }]
  const walk = (abs, rel) => {
    const names = fs.readdirSync(abs).sort()
    for (const name of names) {
      if (o.noHidden && name.startsWith('.')) continue
      const a = path.join(abs, name)
      const r = `${rel}/${name}`
      const s = stat(a)
      if (s.isDirectory()) {
        list.push({ path: r, ...meta(s) })
        walk(a, r)
      } else if (s.isFile()) {
        list.push({ path: r, content: file(a), ...meta(s) })
      } else if (s.isSymbolicLink()) {
        list.push({ path: r, link: fs.readlinkSync(a), ...meta(s) })
      }
    }
  }
  walk(input, ROOT)
  return list
}

// ipfs-unixfs-importer 17 hashes every block with sha2-256, imported in
// exactly one module (utils/persist.js).  To build blake2b-256 DAGs that
// import is redirected to a stand-in that hashes with the chosen function;
// nothing else changes.
function hookHasher (hasher) {
  globalThis.__efsInteropHasher = hasher
  register('./lib/hash-hook.mjs', import.meta.url)
}

async function cmdImport (args) {
  const { values: o, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      profile: { type: 'string', default: 'unixfs-v1-2025' },
      hash: { type: 'string', default: 'sha2-256' },
      'chunk-size': { type: 'string' },
      'max-links': { type: 'string' },
      'raw-leaves': { type: 'boolean' },
      'no-raw-leaves': { type: 'boolean' },
      'cid-version': { type: 'string' },
      'no-hidden': { type: 'boolean', default: false },
      'preserve-mode': { type: 'boolean', default: false },
      'preserve-mtime': { type: 'boolean', default: false },
      'only-hash': { type: 'boolean', default: false },
      car: { type: 'string' }
    }
  })
  if (positionals.length < 1) die('import: expected a PATH', 2)
  if (o.car && positionals.length !== 1) die('import: --car takes one PATH', 2)
  if (o.car && o['only-hash']) die('import: --car and --only-hash exclude each other', 2)
  const prof = PROFILES[o.profile] ?? die(`unknown profile ${o.profile}`, 2)
  const hasher = HASHERS.get(o.hash) ?? die(`unknown hash ${o.hash}`, 2)
  let cidVersion = o['cid-version'] != null ? Number(o['cid-version']) : prof.cidVersion
  if (hasher !== sha256) cidVersion = 1
  const rawLeaves = o['raw-leaves'] ? true : o['no-raw-leaves'] ? false : prof.rawLeaves
  const chunkSize = o['chunk-size'] != null ? Number(o['chunk-size']) : prof.chunkSize
  const maxLinks = o['max-links'] != null ? Number(o['max-links']) : prof.maxLinks

  if (hasher !== sha256) hookHasher(hasher)
  const { importer } = await import('ipfs-unixfs-importer')
  const { fixedSize } = await import('ipfs-unixfs-importer/chunker')
  const { balanced } = await import('ipfs-unixfs-importer/layout')

  const walkOpts = { noHidden: o['no-hidden'], keepMode: o['preserve-mode'], keepMtime: o['preserve-mtime'] }
  for (const input of positionals) {
    const store = o['only-hash'] ? new NullStore() : new MemStore()
    let root
    for await (const entry of importer(candidatesOf(path.resolve(input), walkOpts), store, {
      cidVersion,
      rawLeaves,
      leafType: 'file',
      chunker: fixedSize({ chunkSize }),
      layout: balanced({ maxChildrenPerNode: maxLinks }),
      shardSplitThresholdBytes: 262144,
      shardSplitStrategy: prof.split,
      shardFanoutBits: 8,
      reduceSingleLeafToSelf: true
    })) root = entry
    if (root == null) die(`importer produced nothing for ${input}`)
    if (root.cid.multihash.code !== hasher.code) die('hasher hook was not applied')
    if (o.car) await writeCar(o.car, root.cid, dfsOrder(root.cid, (c) => store.getSync(c)))
    process.stdout.write(`${root.cid}\n`)
  }
}

async function cmdCommp (args) {
  if (args.length < 1) die('commp: expected a FILE', 2)
  const Hasher = await import('@web3-storage/data-segment/multihash')
  const { Piece } = await import('@web3-storage/data-segment')
  for (const file of args) {
    const h = Hasher.create()
    let payload = 0n
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
      h.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
      payload += BigInt(chunk.byteLength)
    }
    const piece = Piece.fromDigest(h.digest())
    const padded = 32n << BigInt(piece.height)
    const unpadded = padded / 128n * 127n
    process.stdout.write(`${piece.toInfo().link} ${piece.link} ${payload} ${padded} ${unpadded}\n`)
  }
}

async function checkCar (file, rootStr) {
  const { CarBlockIterator } = await import('@ipld/car/iterator')
  const root = CID.parse(rootStr)
  const blocks = []
  const byKey = new Map()
  const it = await CarBlockIterator.fromIterable(fs.createReadStream(file))
  const roots = await it.getRoots()
  if (roots.length !== 1 || !roots[0].equals(root)) return `header roots ${roots.join(',')} != ${root}`
  for await (const { cid, bytes } of it) {
    const hasher = BY_CODE.get(cid.multihash.code)
    if (hasher == null) return `unknown hash in ${cid}`
    const digest = await hasher.digest(bytes)
    if (Buffer.compare(digest.digest, cid.multihash.digest) !== 0) return `block ${cid} does not hash to its CID`
    if (byKey.has(key(cid))) return `block ${cid} appears twice`
    byKey.set(key(cid), bytes)
    blocks.push(cid)
  }
  const order = dfsOrder(root, (c) => byKey.get(key(c)))
  if (order.length !== blocks.length) return `${blocks.length} blocks, ${order.length} reachable from the root`
  for (let i = 0; i < order.length; i++) {
    if (!order[i].cid.equals(blocks[i])) return `block ${i} is ${blocks[i]}, depth-first pre-order wants ${order[i].cid}`
  }
  return `ok ${blocks.length}`
}

async function cmdCheckCar (args) {
  if (args.length < 2 || args.length % 2) die('check-car: expected FILE ROOT pairs', 2)
  for (let i = 0; i < args.length; i += 2) {
    let verdict
    try {
      verdict = await checkCar(args[i], args[i + 1])
    } catch (e) {
      verdict = e.message
    }
    process.stdout.write(`${verdict.replace(/\n/g, ' ')}\n`)
  }
}

const [cmd, ...rest] = process.argv.slice(2)
const cmds = { import: cmdImport, commp: cmdCommp, 'check-car': cmdCheckCar }
if (!cmds[cmd]) die('usage: efs-ref.mjs import|commp|check-car ...', 2)
try {
  await cmds[cmd](rest)
} catch (e) {
  die(`${cmd}: ${e.message}`)
}
