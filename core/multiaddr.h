/*
 * multiaddr.h - binary multiaddrs (what Lotus's StateMinerInfo carries,
 * base64 in JSON, in Multiaddrs) to text and back, and the HTTP base URL
 * of a storage provider's deal and retrieval endpoints.
 *
 * Binary form: components one after another, each a varint protocol code
 * and a value whose size the protocol fixes (ip4 4 bytes, tcp 2 bytes
 * big-endian, ip6 16, none for http/https/ws/wss/tls...) or a varint
 * length then that many bytes (dns, dns4, dns6, p2p, sni...).  Text form:
 * "/name/value/name/..." as @multiformats/multiaddr writes it
 * (/dns4/sp.example/tcp/443/wss, /ip6/::1/tcp/80/http, p2p ids in bare
 * base58btc, certhash in base64url multibase 'u', IPv6 as the WHATWG URL
 * standard serializes it: lower case, the first longest run of two or
 * more zero groups as "::", never a dotted IPv4 tail).
 *
 * Codes known (multiformats/multiaddr protocols.csv): ip4, tcp, dccp,
 * ip6, ip6zone, ipcidr, dns, dns4, dns6, dnsaddr, sctp, udp,
 * p2p-webrtc-star, p2p-webrtc-direct, p2p-stardust, webrtc-direct,
 * webrtc, p2p-circuit, udt, utp, p2p, https, tls, sni, noise, quic,
 * quic-v1, webtransport, certhash, ws, wss, p2p-websocket-star, http.
 * Any other code (unix, onion, garlic, memory, http-path, ...) is
 * EFS_EUNSUPPORTED: its value's size is unknown, so nothing after it can
 * be read.  A caller holding several multiaddrs skips such a one.
 *
 * Stricter than the JS and Go libraries, so that one text maps to one
 * byte string and neither can smuggle a '/' or a control character into
 * a URL: the input must be whole (no truncated value, JS reads past the
 * end), codes and lengths are minimal varints, length-prefixed values are
 * not empty nor over 256 bytes, text values (dns*, sni, ip6zone) are
 * UTF-8 without '/', control characters or DEL, and a p2p value is a
 * peer ID (a sha2-256 multihash, or an identity one of at most 42 bytes).
 *
 * Errors: EFS_ECORRUPT (malformed bytes or text), EFS_EUNSUPPORTED (a
 * protocol not in the list; for multiaddr_http_url also an address no
 * HTTP URL can be made of), EFS_ETOOBIG (out too small).  Every function
 * is pure and reentrant.
 */
#ifndef EFS_MULTIADDR_H
#define EFS_MULTIADDR_H

#include <stddef.h>
#include <stdint.h>

/* Enough for the text of any multiaddr an SP puts on chain. */
#define MULTIADDR_STR_MAX 1024
/* Enough for any URL multiaddr_http_url makes of such a multiaddr. */
#define MULTIADDR_URL_MAX 320

enum multiaddr_code {
	MULTIADDR_IP4 = 0x04,
	MULTIADDR_TCP = 0x06,
	MULTIADDR_DCCP = 0x21,
	MULTIADDR_IP6 = 0x29,
	MULTIADDR_IP6ZONE = 0x2a,
	MULTIADDR_IPCIDR = 0x2b,
	MULTIADDR_DNS = 0x35,
	MULTIADDR_DNS4 = 0x36,
	MULTIADDR_DNS6 = 0x37,
	MULTIADDR_DNSADDR = 0x38,
	MULTIADDR_SCTP = 0x84,
	MULTIADDR_UDP = 0x0111,
	MULTIADDR_P2P_WEBRTC_STAR = 0x0113,
	MULTIADDR_P2P_WEBRTC_DIRECT = 0x0114,
	MULTIADDR_P2P_STARDUST = 0x0115,
	MULTIADDR_WEBRTC_DIRECT = 0x0118,
	MULTIADDR_WEBRTC = 0x0119,
	MULTIADDR_P2P_CIRCUIT = 0x0122,
	MULTIADDR_UDT = 0x012d,
	MULTIADDR_UTP = 0x012e,
	MULTIADDR_P2P = 0x01a5,
	MULTIADDR_HTTPS = 0x01bb,
	MULTIADDR_TLS = 0x01c0,
	MULTIADDR_SNI = 0x01c1,
	MULTIADDR_NOISE = 0x01c6,
	MULTIADDR_QUIC = 0x01cc,
	MULTIADDR_QUIC_V1 = 0x01cd,
	MULTIADDR_WEBTRANSPORT = 0x01d1,
	MULTIADDR_CERTHASH = 0x01d2,
	MULTIADDR_WS = 0x01dd,
	MULTIADDR_WSS = 0x01de,
	MULTIADDR_P2P_WEBSOCKET_STAR = 0x01df,
	MULTIADDR_HTTP = 0x01e0,
};

/* One component, as multiaddr_next reads it. */
struct multiaddr_part {
	uint64_t code;          /* enum multiaddr_code */
	const char *name;       /* "ip4", static */
	const uint8_t *value;   /* into the input (borrowed); NULL if len 0 */
	size_t len;             /* value bytes (without a length prefix) */
};

/*
 * Read the component at p[*pos..len) into out and move *pos past it.
 * Returns 0, EFS_ITEROVER when *pos == len, EFS_ECORRUPT or
 * EFS_EUNSUPPORTED.  The value is checked as multiaddr_format would.
 */
int multiaddr_next(struct multiaddr_part *out, const uint8_t *p, size_t len,
		   size_t *pos);

/* Whether p[0..len) is a whole, non-empty multiaddr of known codes:
 * 0, EFS_ECORRUPT or EFS_EUNSUPPORTED. */
int multiaddr_validate(const uint8_t *p, size_t len);

/*
 * The text form of p[0..len) into out[0..cap), NUL-terminated.  Returns
 * its length or a negative error.
 */
long multiaddr_format(char *out, size_t cap, const uint8_t *p, size_t len);

/*
 * The binary form of the text s[0..slen) into out[0..cap).  Accepts what
 * multiaddr_format writes and the usual variants of values (IPv6 in any
 * RFC 4291 form, p2p as a CID, certhash in any multibase); no empty
 * components ("//", a trailing "/").  Returns the byte count or a
 * negative error (EFS_EUNSUPPORTED for a protocol name not known).
 */
long multiaddr_parse(uint8_t *out, size_t cap, const char *s, size_t slen);

/*
 * The HTTP base URL (no trailing slash) of p[0..len), converted as
 * Curio's mk12 client does it (cmd/sptool/toolbox_deal_client.go: IPNI's
 * maurl.ToURL, then ws -> http and wss -> https):
 *
 *	/dns4/sp.example/tcp/443/wss        https://sp.example:443
 *	/ip4/10.0.0.1/tcp/8080/http         http://10.0.0.1:8080
 *	/ip4/10.0.0.1/tcp/443/tls/http      https://10.0.0.1:443
 *	/ip6/::1/tcp/80/ws                  http://[::1]:80
 *	/dns/sp.example/https               https://sp.example
 *	/ip4/10.0.0.1/tcp/24001             http://10.0.0.1:24001
 *
 * The scheme is https when the multiaddr has https, http with tls, wss,
 * or ws with tls; else http.  The port is the tcp that follows the host
 * (kept as written, 443 included, as Go's url.URL keeps it); an IPv6
 * zone is written "%25zone" (RFC 6874).  Refused with EFS_EUNSUPPORTED,
 * where Curio would make a URL no HTTP client can use: a first component
 * that is not ip4, ip6 (optionally after ip6zone), dns, dns4 or dns6; a
 * udp, sctp or dccp port; a DNS name or zone with characters other than
 * letters, digits, '-', '.', '_' (and '~' in a zone).
 * Returns the URL's length or a negative error.
 */
long multiaddr_http_url(char *out, size_t cap, const uint8_t *p, size_t len);

#endif
