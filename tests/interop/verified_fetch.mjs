// verified_fetch.mjs - fetch from an estuaryfs gateway with
// @helia/verified-fetch (a real trustless client: it asks the gateway for
// raw blocks, GET /ipfs/{cid}?format=raw with Accept
// application/vnd.ipld.raw, and verifies every block against its CID
// before walking the UnixFS DAG itself) and print one line per request.
//
// usage: node verified_fetch.mjs GATEWAY_URL REQUEST...
//   get:ipfs://CID[/path]        prints "<sha256 hex> <bytes>" of the body
//   range:SPEC:ipfs://CID[/path] the same with "Range: bytes=SPEC" (A-B,
//                                A- or -N); the answer must be 206 with a
//                                Content-Range; only A-B with A = 0, A-
//                                and -N: 2.0.1 cuts A-B with A > 0 to
//                                B+1 bytes from A (a client bug, fixed by
//                                2.6: ByteRangeContext.length)
//   hamt:CID                     the raw block of CID (verified) must be a
//                                UnixFS HAMT shard; prints "hamt CID"
//
// Only the given gateway is ever contacted: the version pinned here
// (2.0.1) builds an HTTP-only Helia (@helia/http: no libp2p transports);
// routers is empty (no delegated routing) and the one gateway is ours.
// Every fetch() goes through a guard that refuses, and counts as a
// failure, any other origin (a public gateway, delegated routing, DNS
// over HTTPS).
//
// Exit status: 0 ok, 1 a request failed or a check did not hold, 2 usage.
import { createHash } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import * as dagPb from '@ipld/dag-pb'
import { createVerifiedFetch } from '@helia/verified-fetch'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'

const [gateway, ...requests] = process.argv.slice(2)
if (!gateway || requests.length === 0) {
  console.error('usage: node verified_fetch.mjs GATEWAY_URL REQUEST...')
  process.exit(2)
}
const origin = new URL(gateway).origin

let failed = false
function fail (msg) {
  console.error(`FAIL: ${msg}`)
  failed = true
}

// The guard: only our gateway.
const realFetch = globalThis.fetch
let nfetch = 0
globalThis.fetch = async (input, init) => {
  const href = typeof input === 'string' ? input : (input.url ?? String(input))
  if (new URL(href).origin !== origin) {
    fail(`verified-fetch tried to reach ${href}, not the local gateway`)
    throw new Error(`blocked: ${href}`)
  }
  nfetch++
  return realFetch(input, init)
}

const vf = await createVerifiedFetch({
  gateways: [gateway],
  routers: [],
  allowLocal: true,
  allowInsecure: true
})

const signal = AbortSignal.timeout(30000)
setMaxListeners(Infinity, signal) // one listener per block request
// A block that fails verification is asked for again and again, and the
// body stream does not always see the abort: a hard limit.
setTimeout(() => {
  fail('no answer in 40 s (a block the client rejected?)')
  process.exit(1)
}, 40000).unref()

function digest (body) {
  return `${createHash('sha256').update(body).digest('hex')} ${body.length}`
}

async function get (url, headers = {}) {
  const res = await vf(url, { signal, headers })
  const body = new Uint8Array(await res.arrayBuffer())
  if (!res.ok) {
    const text = new TextDecoder().decode(body).slice(0, 200)
    fail(`${url}: HTTP ${res.status}: ${text}`)
    return null
  }
  return { res, body }
}

async function hamt (cidText) {
  const cid = CID.parse(cidText)
  const res = await realFetch(`${origin}/ipfs/${cid}`, {
    signal,
    headers: { Accept: 'application/vnd.ipld.raw' }
  })
  const block = new Uint8Array(await res.arrayBuffer())
  const hash = await sha256.digest(block)
  if (!res.ok || cid.code !== dagPb.code ||
      cid.multihash.code !== sha256.code ||
      !equal(hash.digest, cid.multihash.digest)) {
    return fail(`hamt:${cid}: HTTP ${res.status}, not the block of its CID`)
  }
  const node = dagPb.decode(block)
  const fs = UnixFS.unmarshal(node.Data)
  if (fs.type !== 'hamt-sharded-directory') {
    return fail(`hamt:${cid}: a ${fs.type}, not a HAMT shard`)
  }
  console.log(`hamt ${cid}`)
}

function equal (a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

try {
  for (const req of requests) {
    let m
    if ((m = /^get:(.*)$/.exec(req))) {
      const r = await get(m[1])
      if (r) console.log(digest(r.body))
    } else if ((m = /^range:(\d*-\d*):(.*)$/.exec(req))) {
      const r = await get(m[2], { Range: `bytes=${m[1]}` })
      const cr = r?.res.headers.get('content-range') ?? ''
      if (r && (r.res.status !== 206 || !/^bytes \d+-\d+\//.test(cr))) {
        fail(`${req}: HTTP ${r.res.status}, Content-Range "${cr}"`)
      } else if (r) {
        console.log(digest(r.body))
      }
    } else if ((m = /^hamt:(.*)$/.exec(req))) {
      await hamt(m[1])
    } else {
      console.error(`unknown request ${req}`)
      process.exit(2)
    }
  }
} catch (err) {
  fail(`${err.name}: ${err.message}`)
} finally {
  await vf.stop()
}
console.error(`verified_fetch: ${nfetch} requests to ${origin}`)
process.exit(failed ? 1 : 0)
