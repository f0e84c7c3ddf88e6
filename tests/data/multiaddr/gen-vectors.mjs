// Golden vectors from @multiformats/multiaddr (13.0.3), installed next to
// this script:
//   node gen-vectors.mjs > vectors.txt   "<hex> <text>": the bytes the
//       library encodes each text to, and the text it prints them back as
//   node gen-vectors.mjs parse > parse.txt   "<hex> <text>": texts in
//       other accepted forms and the bytes the library parses them to
import { multiaddr } from '@multiformats/multiaddr'

const texts = [
  '/ip4/127.0.0.1/tcp/1234/http',
  '/ip4/0.0.0.0/tcp/0',
  '/ip4/255.255.255.255/tcp/65535/https',
  '/ip4/203.0.113.5/tcp/24001',
  '/ip4/1.2.3.4/tcp/80/http',
  '/ip4/1.2.3.4/tcp/443/tls/http',
  '/ip4/1.2.3.4/tcp/80/ws',
  '/ip4/1.2.3.4/tcp/443/wss',
  '/ip4/1.2.3.4/tcp/443/tls/ws',
  '/ip4/1.2.3.4/tcp/24001/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf',
  '/ip4/1.2.3.4/tcp/4001/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC',
  '/ip4/1.2.3.4/udp/4001/quic-v1',
  '/ip4/1.2.3.4/udp/4001/quic',
  '/ip4/1.2.3.4/udp/4001/quic-v1/webtransport/certhash/uEiAkH5a4DPGKUuOBjYw0CgwjvcJCJMD2K_1aluKR_tpevQ',
  '/ip4/1.2.3.4/udp/4001/webrtc-direct',
  '/ip6/::1/tcp/80/http',
  '/ip6/::/tcp/0',
  '/ip6/2001:db8::/tcp/1',
  '/ip6/2001:db8::1/tcp/8080/http',
  '/ip6/2001:db8:0:0:1:0:0:1/tcp/443/https',
  '/ip6/2001:db8:85a3:8d3:1319:8a2e:370:7348/tcp/443/wss',
  '/ip6/0:0:1:0:0:1:0:0/tcp/1',
  '/ip6/1:0:0:1::/tcp/1',
  '/ip6/::ffff:1.2.3.4/tcp/1',
  '/ip6/fe80::1/ip6zone/eth0/tcp/80',
  '/ip6zone/eth0/ip6/fe80::1/tcp/80/http',
  '/dns/sp.example/tcp/443/https',
  '/dns/sp.example/https',
  '/dns4/sp.example/tcp/443/wss',
  '/dns6/sp6.example/tcp/12310/http',
  '/dns/localhost/tcp/3000/ws',
  '/dnsaddr/bootstrap.libp2p.io',
  '/dns/h/tcp/1/tls/sni/h/http',
  '/dns/a-b_c.example.org/tcp/8443/tls/ws',
  '/ip4/10.0.0.1/ipcidr/8',
  '/ip4/1.2.3.4/sctp/5000',
  '/ip4/1.2.3.4/dccp/5000',
  '/ip4/1.2.3.4/tcp/4001/noise',
  '/ip4/1.2.3.4/tcp/4001/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf/p2p-circuit/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC',
  '/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf',
  '/ip4/1.2.3.4/udp/1/udt',
  '/ip4/1.2.3.4/udp/1/utp',
  '/ip4/1.2.3.4/tcp/1/ws/p2p-websocket-star',
  '/ip4/1.2.3.4/tcp/1/p2p-webrtc-star',
  '/ip4/1.2.3.4/tcp/1/p2p-webrtc-direct',
  '/ip4/1.2.3.4/tcp/1/p2p-stardust',
  '/ip4/1.2.3.4/udp/1/webrtc',
  '/http',
]
const variants = [
  '/ip6/2001:db8:0:0:1:0:0:1/tcp/443/https',
  '/ip6/0:0:0:0:0:0:0:1/tcp/80',
  '/ip6/2001:DB8::1/tcp/80',
  '/ip6/::ffff:1.2.3.4/tcp/1',
  '/ip6/0000:0000:0000:0000:0000:0000:0000:0000/tcp/0',
  '/ipfs/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC',
  '/p2p/bafzaajaiaejca2vy7twtax6tqomfasd73ockcctkcuqlqvcrpbwc4xciumbyr4tm',
  '/ip4/1.2.3.4/udp/4001/quic-v1/webtransport/certhash/bciqcih4wxagpdcss4oay3dbubigchpociismb5rl7vnjnyur73nf5pi',
]
const hex = b => Buffer.from(b).toString('hex')
if (process.argv[2] === 'parse') {
  for (const t of variants)
    console.log(hex(multiaddr(t).bytes), t)
} else {
  for (const t of texts) {
    const m = multiaddr(t)
    console.log(hex(m.bytes), multiaddr(m.bytes).toString())
  }
}
