#!/usr/bin/env node
// gen-datasegment-vectors.mjs - FRC-0058 data aggregation golden vectors
// from @web3-storage/data-segment (exact version in package-lock.json),
// written to stdout in the format of tests/data/datasegment/vectors.txt
// ("<name> <value>" lines, "#" comments); tests/core/test_datasegment.c
// checks core/datasegment against them byte for byte.
//
//   node gen-datasegment-vectors.mjs > tests/data/datasegment/vectors.txt
//
// Each case is a list of sub-pieces, each the CommP of `len` bytes of
// harness_fill_random(seed) (tests/harness.c, xorshift64*), written to an
// Aggregate builder in that order, with a fixed deal size or the smallest
// power of two the builder accepts.  Lines per case C:
//   C.subs     "len:seed ..." (text)
//   C.deal     deal size (padded); C.fixed 1 when the deal size was given,
//              0 when it is the smallest that fits
//   C.toobig   1 when the builder refused the pieces (nothing else follows)
//   C.piece.I  sub-piece I's piece CID v2
//   C.entry.I  index entry I, 64 bytes (Segment.toBytes)
//   C.index    the unpadded bytes of the index area, from
//              unpadded(indexAreaStart) to the end of the deal
//   C.payload  SHA-256 of the whole unpadded deal payload: sub-piece
//              payloads at unpadded(offset), zeros, the index area; its
//              CommP is checked here to be the aggregate's
//   C.aggregate the aggregate's piece CID v2
//   C.proof.I  InclusionProof of sub-piece I (Inclusion.encode, DAG-CBOR),
//              checked here with Inclusion.resolveAggregate
//
// Everything is deterministic: run.sh regenerates the file and compares it
// with the committed one.
import { createHash } from 'node:crypto'
import {
  Aggregate, Piece, Segment, Fr32, Inclusion, Index
} from '@web3-storage/data-segment'

const hex = (u) => Buffer.from(u).toString('hex')
const out = (line) => process.stdout.write(line + '\n')
const M64 = (1n << 64n) - 1n

// harness_fill_random(out, len, seed)
function fillRandom (len, seed) {
  let x = seed ? BigInt(seed) : 0x9e3779b97f4a7c15n
  let v = 0n
  const b = new Uint8Array(len)
  for (let i = 0; i < len; i++) {
    if (i % 8 === 0) {
      x ^= x >> 12n
      x ^= (x << 25n) & M64
      x ^= x >> 27n
      v = (x * 0x2545f4914f6cdd1dn) & M64
    }
    b[i] = Number((v >> BigInt(8 * (i % 8))) & 0xffn)
  }
  return b
}

const CASES = [
  // three small CARs' worth, the devnet test's shape
  { name: 'three', subs: [[1000, 1], [5000, 2], [300, 3]] },
  // largest first: the least padding
  {
    name: 'sorted',
    subs: [[70000, 4], [20000, 5], [9000, 6], [3000, 7], [1500, 8],
      [700, 9], [127, 10], [1, 11]]
  },
  // the same pieces in another order: more alignment padding
  {
    name: 'unsorted',
    subs: [[700, 9], [70000, 4], [1, 11], [9000, 6], [127, 10],
      [20000, 5], [1500, 8], [3000, 7]]
  },
  // an empty payload is a 128-byte piece too
  { name: 'empty', subs: [[0, 12], [200, 13]] },
  // exactly U = 127 * 512 bytes
  { name: 'one', subs: [[65024, 14]] },
  // as many pieces as the smallest index holds
  { name: 'full', subs: [[127, 15], [100, 16], [50, 17], [126, 18]] },
  // more than 8 entries: the deal grows to 2 MiB for its index
  {
    name: 'many',
    subs: [[100, 20], [101, 21], [102, 22], [103, 23], [104, 24],
      [105, 25], [106, 26], [107, 27], [108, 28]]
  },
  // a fixed deal size, far larger than the pieces
  { name: 'fixed', subs: [[1000, 1], [5000, 2], [300, 3]], deal: 1n << 20n },
  // does not fit
  { name: 'toobig', subs: [[1000, 1], [5000, 2], [300, 3]], deal: 8192n },
  // too many entries for the deal's index
  {
    name: 'toomany',
    subs: [[10, 30], [11, 31], [12, 32], [13, 33], [14, 34]],
    deal: 1n << 16n
  }
]

function tryBuild (pieces, size) {
  try {
    return Aggregate.build({ pieces, size })
  } catch (e) {
    if (e instanceof RangeError) return null
    throw e
  }
}

function gen (c) {
  const payloads = c.subs.map(([len, seed]) => fillRandom(len, seed))
  const pieces = payloads.map((p) => Piece.fromPayload(p))
  let deal = c.deal
  let agg = null
  if (deal) {
    agg = tryBuild(pieces, deal)
  } else {
    for (deal = 128n; deal <= 1n << 40n && !agg; deal *= 2n) {
      agg = tryBuild(pieces, deal)
      if (agg) break
    }
  }
  out(`# ${c.name}`)
  out(`${c.name}.subs ${c.subs.map(([l, s]) => `${l}:${s}`).join(' ')}`)
  out(`${c.name}.deal ${deal}`)
  out(`${c.name}.fixed ${c.deal ? 1 : 0}`)
  if (!agg) {
    out(`${c.name}.toobig 1`)
    return
  }
  out(`${c.name}.toobig 0`)
  pieces.forEach((p, i) => out(`${c.name}.piece.${i} ${p.link}`))

  // The index area, padded, then unpadded.
  const start = Inclusion.indexAreaStart(deal)
  const area = new Uint8Array(Number(deal - start))
  agg.index.forEach((e, i) => {
    const bytes = Segment.toBytes(e)
    out(`${c.name}.entry.${i} ${hex(bytes)}`)
    area.set(bytes, i * Number(Index.EntrySize))
  })
  const index = Fr32.unpad(area)
  out(`${c.name}.index ${hex(index)}`)

  // The whole payload an SP downloads.
  const U = Number(deal / 128n * 127n)
  const payload = new Uint8Array(U)
  agg.index.forEach((e, i) => {
    payload.set(payloads[i], Number(e.offset / 128n * 127n))
  })
  payload.set(index, Number(start / 128n * 127n))
  const whole = Piece.fromPayload(payload)
  if (whole.link.toString() !== agg.link.toString()) {
    throw new Error(`${c.name}: payload CommP ${whole.link} != ${agg.link}`)
  }
  out(`${c.name}.payload ${createHash('sha256').update(payload).digest('hex')}`)
  out(`${c.name}.aggregate ${agg.link}`)

  pieces.forEach((p, i) => {
    const r = agg.resolveProof(p.link)
    if (r.error) throw r.error
    const v = Inclusion.resolveAggregate(r.ok, p.link)
    if (v.error || v.ok.toString() !== agg.link.toString()) {
      throw new Error(`${c.name}: proof ${i} does not verify`)
    }
    out(`${c.name}.proof.${i} ${hex(Inclusion.encode(r.ok))}`)
  })
}

out('# FRC-0058 aggregates by @web3-storage/data-segment 5.3.0')
out('# (tests/interop/gen-datasegment-vectors.mjs; see README.md)')
for (const c of CASES) gen(c)
