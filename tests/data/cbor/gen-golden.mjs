// gen-golden.mjs - regenerate golden.txt with @ipld/dag-cbor (10.0.2).
// Usage: put it in a directory whose node_modules is (a link to) the
// oracle's, e.g.  mkdir g && ln -s ORACLE/node_modules g/ && cp gen-golden.mjs g/
//   node g/gen-golden.mjs > golden.txt
// Each line: case name, then the hex dag-cbor encoding of that value.
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'

const cid = CID.parse('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')
const cidv0 = CID.parse('QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n')
const cidraw = CID.parse('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e')
const cases = {
  uint_0: 0,
  uint_23: 23,
  uint_24: 24,
  uint_255: 255,
  uint_256: 256,
  uint_65535: 65535,
  uint_65536: 65536,
  uint_u32max: 4294967295,
  uint_u32max1: 4294967296,
  uint_u64max: 18446744073709551615n,
  neg_1: -1,
  neg_24: -24,
  neg_25: -25,
  neg_256: -256,
  neg_257: -257,
  neg_2p32: -4294967296,
  neg_i64min: -9223372036854775808n,
  neg_2p64: -18446744073709551616n,
  float_1_5: 1.5,
  float_m0_1: -0.1,
  float_1e300: 1e300,
  float_tiny: 5e-324,
  bytes_empty: new Uint8Array(0),
  bytes_3: Uint8Array.from([1, 2, 3]),
  bytes_24: new Uint8Array(24).fill(0xaa),
  bytes_300: new Uint8Array(300).fill(0x55),
  text_empty: '',
  text_a: 'a',
  text_ietf: 'IETF',
  text_utf8: '\u00fc\u6c34\u{10151}',
  text_24: 'abcdefghijklmnopqrstuvwx',
  true: true,
  false: false,
  null: null,
  array_empty: [],
  array_123: [1, 2, 3],
  array_nested: [[1], [2, [3, []]]],
  array_25: Array.from({ length: 25 }, (_, i) => i),
  map_empty: {},
  map_ab: { a: 1, b: 2 },
  map_order: { bb: 1, a: 2, c: 3, aaa: 4 },
  cid_v1: cid,
  cid_v0: cidv0,
  car_header: { version: 1, roots: [cid] },
  links_doc: { z: [cidraw, { x: cidv0 }], a: cid, m: { k: [1, cidraw] } },
  deal: {
    PieceCID: cid, PieceSize: 34359738368, VerifiedDeal: false,
    Client: 'f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za', Provider: 'f01000',
    Label: 'hello', StartEpoch: 1000, EndEpoch: 1540000,
    StoragePricePerEpoch: Uint8Array.from([0, 0x0b, 0xb8]),
    ProviderCollateral: new Uint8Array(0), Ratio: -0.5, Tags: ['a', 'b']
  }
}
for (const [name, v] of Object.entries(cases)) {
  process.stdout.write(`${name} ${Buffer.from(dagCbor.encode(v)).toString('hex')}\n`)
}
