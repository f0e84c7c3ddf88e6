// gen-golden.mjs - regenerate golden.txt: the mk12 deal messages built as
// JavaScript values from the Go field layout (Curio market/mk12/types.go,
// legacytypes; go-state-types builtin/v9/market), encoded with
// @ipld/dag-cbor, and signed with @noble/curves as Lotus signs (secp256k1
// over blake2b-256, r || s || recovery id).
// Usage: in a scratch directory,
//   npm install @ipld/dag-cbor@10.0.2 multiformats@14.0.5 \
//     @noble/curves@2.4.0 @noble/hashes@2.4.0
//   node gen-golden.mjs > golden.txt
// Each line: case name, then hex.  Lines starting with '#' are comments.
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import * as Digest from 'multiformats/hashes/digest'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { blake2b } from '@noble/hashes/blake2.js'

const hex = (b) => Buffer.from(b).toString('hex')
const out = []
const emit = (name, bytes) => out.push(`${name} ${hex(bytes)}`)

// Go big.Int in CBOR: empty for zero, else sign byte + big-endian magnitude
function bigBytes (v) {
  v = BigInt(v)
  if (v === 0n) return new Uint8Array(0)
  const neg = v < 0n
  let m = neg ? -v : v
  const mag = []
  while (m > 0n) { mag.unshift(Number(m & 0xffn)); m >>= 8n }
  return Uint8Array.from([neg ? 1 : 0, ...mag])
}

// Filecoin secp256k1 key: f1 address = 0x01 || blake2b-160(uncompressed)
function key (seed) {
  const priv = Uint8Array.from({ length: 32 }, (_, i) => seed + i)
  const pub = secp256k1.getPublicKey(priv, false)
  const addr = Uint8Array.from([1, ...blake2b(pub, { dkLen: 20 })])
  return { priv, addr }
}

// Lotus sigs.Sign for secp256k1: sign blake2b-256(msg); r || s || v
function sign (k, msg) {
  const h = blake2b(msg, { dkLen: 32 })
  const rec = secp256k1.sign(h, k.priv, { prehash: false, format: 'recovered' })
  // noble's 'recovered' is v || r || s; Filecoin wants r || s || v
  return Uint8Array.from([1, ...rec.subarray(1), rec[0]])
}

function blakeCid (bytes) {
  const mh = Digest.create(0xb220, blake2b(bytes, { dkLen: 32 }))
  return CID.createV1(0x71, mh)
}

const client = key(1)   // private key 01 02 .. 20
const worker = key(33)  // private key 21 22 .. 40
const f01000 = Uint8Array.from([0x00, 0xe8, 0x07])
const piece = CID.parse('baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq')
const root = CID.parse('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')
const publish = CID.parse('bafy2bzacea3wsdh6y3a36tb3skempjoxqpuyompjbmfeyf34fi3uy6uue42v4')
const uuid = Uint8Array.from(Buffer.from('6ba7b8109dad41d180b400c04fd430c8', 'hex'))

out.push('# client key: private 0102..20, address bytes ' + hex(client.addr))
out.push('# worker key: private 2122..40, address bytes ' + hex(worker.addr))
emit('client_addr', client.addr)
emit('worker_addr', worker.addr)

// DealProposal: a tuple of 11, in Go field order
const proposal = [
  piece, 34359738368, false, client.addr, f01000, root.toString(),
  4210000, 4728400, bigBytes(3200000000), bigBytes(1000000000000000n),
  bigBytes(0)
]
const propBytes = dagCbor.encode(proposal)
emit('proposal', propBytes)
emit('proposal_cid', blakeCid(propBytes).bytes)
out.push('# proposal_cid ' + blakeCid(propBytes).toString())

// edge values: bytes label, negative epochs and amounts, verified
const proposalEdge = [
  CID.parse('baga6ea4seaqgiktap34inmaex4wbs6cghlq5i2j2yd2bb2zndn5ep7ralzphkdy'),
  256, true, f01000, Uint8Array.from([0x00, 0x80, 0x08]),
  Uint8Array.from([0xde, 0xad, 0xbe, 0xef]),
  -1, -9223372036854775808n, bigBytes(2n ** 200n), bigBytes(-5),
  bigBytes(255)
]
emit('proposal_edge', dagCbor.encode(proposalEdge))

const propSig = sign(client, propBytes)
const cdp = [proposal, propSig]
const cdpBytes = dagCbor.encode(cdp)
emit('proposal_sig', propSig)
emit('client_proposal', cdpBytes)
const spc = CID.createV1(0x71, await sha256.digest(cdpBytes))
emit('signed_proposal_cid', spc.bytes)
out.push('# signed_proposal_cid ' + spc.toString())

const params = new TextEncoder().encode(
  '{"URL":"http://127.0.0.1:8080/deal/x.car","Headers":{"Authorization":"Bearer abc"}}')
emit('deal_params', dagCbor.encode({
  DealUUID: uuid,
  IsOffline: false,
  ClientDealProposal: cdp,
  DealDataRoot: root,
  Transfer: { Type: 'http', ClientID: '', Params: params, Size: 1040000 },
  RemoveUnsealedCopy: false,
  SkipIPNIAnnounce: true
}))
emit('deal_params_v120', dagCbor.encode({
  DealUUID: uuid,
  IsOffline: true,
  ClientDealProposal: cdp,
  DealDataRoot: root,
  Transfer: { Type: '', ClientID: '', Params: new Uint8Array(0), Size: 0 }
}))

emit('deal_response_ok', dagCbor.encode({ Accepted: true, Message: '' }))
emit('deal_response_rejected', dagCbor.encode({
  Accepted: false,
  Message: 'failed validation: deal start epoch 10 has already elapsed (current epoch: 20)'
}))

emit('uuid_sig', sign(client, uuid))
emit('status_request', dagCbor.encode({
  DealUUID: uuid, Signature: sign(client, uuid)
}))
emit('status_response_error', dagCbor.encode({
  DealUUID: uuid, Error: 'failed to get sealed deal status',
  DealStatus: null, IsOffline: false, TransferSize: 0, NBytesReceived: 0
}))
emit('status_response', dagCbor.encode({
  DealUUID: uuid,
  Error: '',
  DealStatus: {
    Error: '',
    Status: 'Sealed',
    SealingStatus: 'Sealed and Indexed',
    Proposal: proposal,
    SignedProposalCid: spc,
    PublishCid: publish,
    ChainDealID: 74251133
  },
  IsOffline: false,
  TransferSize: 1,
  NBytesReceived: 1
}))
emit('status_response_processing', dagCbor.encode({
  DealUUID: uuid,
  Error: '',
  DealStatus: {
    Error: '',
    Status: 'Processing',
    SealingStatus: 'Not assigned to sector',
    Proposal: proposal,
    SignedProposalCid: spc,
    PublishCid: null,
    ChainDealID: 0
  },
  IsOffline: true,
  TransferSize: 1,
  NBytesReceived: 1
}))

const ask = {
  Price: bigBytes(50000000),
  VerifiedPrice: bigBytes(5000000),
  MinPieceSize: 256,
  MaxPieceSize: 34359738368,
  Miner: f01000,
  Timestamp: 4200000,
  Expiry: 14712000,
  SeqNo: 3
}
const askBytes = dagCbor.encode(ask)
emit('ask', askBytes)
emit('ask_sig', sign(worker, askBytes))
const signedAsk = { Ask: ask, Signature: sign(worker, askBytes) }
emit('signed_ask', dagCbor.encode(signedAsk))
emit('signed_ask_null', dagCbor.encode({ Ask: null, Signature: null }))
emit('ask_request', dagCbor.encode({ Miner: f01000 }))
emit('ask_response', dagCbor.encode({ Ask: signedAsk }))
emit('ask_response_null', dagCbor.encode({ Ask: null }))

console.log(out.join('\n'))
