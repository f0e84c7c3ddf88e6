/*
 * multiaddr.c - binary multiaddrs to text and back, and to the HTTP base
 * URL of a storage provider (see multiaddr.h).
 *
 * Design notes:
 * - One table gives each known protocol its code, name and value kind;
 *   the kind fixes the value's size and its text form.  Decoding,
 *   formatting, parsing and the URL all walk components with
 *   multiaddr_next, so a value is checked in one place.
 * - Text output goes through a small bounded writer that remembers an
 *   overflow, so formatting code reads straight through and the caller
 *   gets EFS_ETOOBIG once at the end.
 * - The URL follows IPNI's maurl.ToURL (what Curio's client calls) and
 *   go-multiaddr's DialArgs for the host and port, then Curio's
 *   ws -> http, wss -> https.  Where Go would build a URL that cannot
 *   work (a udp port, a host name with '/' or '@') we refuse instead.
 */
#include "core/multiaddr.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/cid.h"
#include "core/error.h"
#include "core/mbase.h"
#include "core/utf8.h"
#include "core/varint.h"

#include "core/banned.h"

/* How a protocol's value is sized and written. */
enum ma_kind {
	MA_NONE,      /* no value */
	MA_PORT,      /* 2 bytes big-endian, decimal */
	MA_IP4,       /* 4 bytes, dotted quad */
	MA_IP6,       /* 16 bytes, WHATWG text */
	MA_CIDR,      /* 1 byte, decimal */
	MA_TEXT,      /* length-prefixed UTF-8 without '/' */
	MA_P2P,       /* length-prefixed multihash, bare base58btc */
	MA_CERTHASH,  /* length-prefixed multihash, multibase base64url */
};

struct ma_proto {
	uint64_t code;
	const char *name;
	enum ma_kind kind;
};

static const struct ma_proto ma_protos[] = {
	{ MULTIADDR_IP4, "ip4", MA_IP4 },
	{ MULTIADDR_TCP, "tcp", MA_PORT },
	{ MULTIADDR_DCCP, "dccp", MA_PORT },
	{ MULTIADDR_IP6, "ip6", MA_IP6 },
	{ MULTIADDR_IP6ZONE, "ip6zone", MA_TEXT },
	{ MULTIADDR_IPCIDR, "ipcidr", MA_CIDR },
	{ MULTIADDR_DNS, "dns", MA_TEXT },
	{ MULTIADDR_DNS4, "dns4", MA_TEXT },
	{ MULTIADDR_DNS6, "dns6", MA_TEXT },
	{ MULTIADDR_DNSADDR, "dnsaddr", MA_TEXT },
	{ MULTIADDR_SCTP, "sctp", MA_PORT },
	{ MULTIADDR_UDP, "udp", MA_PORT },
	{ MULTIADDR_P2P_WEBRTC_STAR, "p2p-webrtc-star", MA_NONE },
	{ MULTIADDR_P2P_WEBRTC_DIRECT, "p2p-webrtc-direct", MA_NONE },
	{ MULTIADDR_P2P_STARDUST, "p2p-stardust", MA_NONE },
	{ MULTIADDR_WEBRTC_DIRECT, "webrtc-direct", MA_NONE },
	{ MULTIADDR_WEBRTC, "webrtc", MA_NONE },
	{ MULTIADDR_P2P_CIRCUIT, "p2p-circuit", MA_NONE },
	{ MULTIADDR_UDT, "udt", MA_NONE },
	{ MULTIADDR_UTP, "utp", MA_NONE },
	{ MULTIADDR_P2P, "p2p", MA_P2P },
	{ MULTIADDR_HTTPS, "https", MA_NONE },
	{ MULTIADDR_TLS, "tls", MA_NONE },
	{ MULTIADDR_SNI, "sni", MA_TEXT },
	{ MULTIADDR_NOISE, "noise", MA_NONE },
	{ MULTIADDR_QUIC, "quic", MA_NONE },
	{ MULTIADDR_QUIC_V1, "quic-v1", MA_NONE },
	{ MULTIADDR_WEBTRANSPORT, "webtransport", MA_NONE },
	{ MULTIADDR_CERTHASH, "certhash", MA_CERTHASH },
	{ MULTIADDR_WS, "ws", MA_NONE },
	{ MULTIADDR_WSS, "wss", MA_NONE },
	{ MULTIADDR_P2P_WEBSOCKET_STAR, "p2p-websocket-star", MA_NONE },
	{ MULTIADDR_HTTP, "http", MA_NONE },
};

#define MA_NPROTOS (sizeof(ma_protos) / sizeof(ma_protos[0]))

/* Cap on length-prefixed values: a DNS name is at most 253 bytes. */
#define MA_VALUE_MAX 256
/* A peer ID's identity multihash holds at most 42 bytes of key. */
#define MA_PEER_IDENTITY_MAX 42
/* Room for any one value's text. */
#define MA_VALUE_STR_MAX 400

static const struct ma_proto *proto_by_code(uint64_t code)
{
	for (size_t i = 0; i < MA_NPROTOS; i++)
		if (ma_protos[i].code == code)
			return &ma_protos[i];
	return NULL;
}

static const struct ma_proto *proto_by_name(const char *s, size_t n)
{
	/* "ipfs" is the old name of p2p; both libraries still read it. */
	if (n == 4 && !memcmp(s, "ipfs", 4))
		return proto_by_code(MULTIADDR_P2P);
	for (size_t i = 0; i < MA_NPROTOS; i++)
		if (strlen(ma_protos[i].name) == n &&
		    !memcmp(ma_protos[i].name, s, n))
			return &ma_protos[i];
	return NULL;
}

/* The fixed value size of a kind; 0 for none, SIZE_MAX for prefixed. */
static size_t kind_size(enum ma_kind k)
{
	switch (k) {
	case MA_NONE: return 0;
	case MA_PORT: return 2;
	case MA_IP4: return 4;
	case MA_IP6: return 16;
	case MA_CIDR: return 1;
	default: return SIZE_MAX;
	}
}

/* A text value: not empty, UTF-8, no '/', no control byte or DEL. */
static bool text_ok(const uint8_t *p, size_t len)
{
	if (len == 0 || !utf8_valid(p, len))
		return false;
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '/')
			return false;
	return true;
}

/*
 * A libp2p peer ID: the sha2-256 multihash of a key, or the identity
 * multihash of a short one.  Their base58 starts with "Qm" and "1", which
 * is how the text form tells them from a CID.
 */
static bool peer_id_ok(const uint8_t *p, size_t len)
{
	if (len == 34 && p[0] == 0x12 && p[1] == 0x20)
		return true;
	return len >= 2 && p[0] == 0x00 && p[1] == len - 2 &&
	       len - 2 <= MA_PEER_IDENTITY_MAX;
}

static int check_value(const struct ma_proto *pr, const uint8_t *v,
		       size_t len)
{
	if (kind_size(pr->kind) != SIZE_MAX)
		return 0;
	if (len == 0)
		return efs_error_set(EFS_ECORRUPT, "multiaddr: empty %s value",
				     pr->name);
	if (len > MA_VALUE_MAX)
		return efs_error_set(EFS_ECORRUPT,
				     "multiaddr: %s value of %zu bytes (at"
				     " most %d)", pr->name, len, MA_VALUE_MAX);
	if (pr->kind == MA_TEXT && !text_ok(v, len))
		return efs_error_set(EFS_ECORRUPT,
				     "multiaddr: %s value is not a name",
				     pr->name);
	if (pr->kind == MA_P2P && !peer_id_ok(v, len))
		return efs_error_set(EFS_ECORRUPT,
				     "multiaddr: p2p value is not a peer ID");
	return 0;
}

int multiaddr_next(struct multiaddr_part *out, const uint8_t *p, size_t len,
		   size_t *pos)
{
	const struct ma_proto *pr;
	uint64_t code, vlen;
	size_t at = *pos, used, size;

	if (at >= len)
		return EFS_ITEROVER;
	if (varint_decode(&code, &used, p + at, len - at) < 0)
		return efs_error_set(EFS_ECORRUPT,
				     "multiaddr: bad protocol code at byte %zu",
				     at);
	if (!(pr = proto_by_code(code)))
		return efs_error_set(EFS_EUNSUPPORTED,
				     "multiaddr: protocol 0x%llx not supported",
				     (unsigned long long)code);
	at += used;
	size = kind_size(pr->kind);
	if (size == SIZE_MAX) {
		if (varint_decode(&vlen, &used, p + at, len - at) < 0)
			return efs_error_set(EFS_ECORRUPT,
					     "multiaddr: bad %s length",
					     pr->name);
		at += used;
		size = vlen > len - at ? SIZE_MAX : (size_t)vlen;
	}
	if (size > len - at)
		return efs_error_set(EFS_ECORRUPT,
				     "multiaddr: %s value cut short", pr->name);
	out->code = code;
	out->name = pr->name;
	out->value = size ? p + at : NULL;
	out->len = size;
	*pos = at + size;
	return check_value(pr, out->value, size);
}

int multiaddr_validate(const uint8_t *p, size_t len)
{
	struct multiaddr_part part;
	size_t pos = 0;
	int rc;

	if (len == 0)
		return efs_error_set(EFS_ECORRUPT, "multiaddr: empty");
	while ((rc = multiaddr_next(&part, p, len, &pos)) == 0)
		;
	return rc == EFS_ITEROVER ? 0 : rc;
}

/* ---- text out ---- */

/* A bounded writer: out[0..cap) always NUL-terminated, overflow noted. */
struct ma_writer {
	char *out;
	size_t cap;
	size_t len;
	bool over;
};

static void w_add(struct ma_writer *w, const char *s, size_t n)
{
	if (w->over || w->cap == 0 || n >= w->cap - w->len) {
		w->over = true;
		return;
	}
	memcpy(w->out + w->len, s, n);
	w->len += n;
	w->out[w->len] = '\0';
}

static void w_puts(struct ma_writer *w, const char *s)
{
	w_add(w, s, strlen(s));
}

static void w_printf(struct ma_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void w_printf(struct ma_writer *w, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		w->over = true;
	else
		w_add(w, tmp, (size_t)n);
}

/* The length written, or rc (or EFS_ETOOBIG) with out emptied. */
static long w_finish(struct ma_writer *w, int rc, const char *what)
{
	if (rc == 0 && w->over)
		rc = efs_error_set(EFS_ETOOBIG, "multiaddr: %s over %zu bytes",
				   what, w->cap);
	if (rc < 0 && w->cap)
		w->out[0] = '\0';
	return rc < 0 ? rc : (long)w->len;
}

/*
 * IPv6 text as the WHATWG URL standard serializes a host: lower-case hex
 * groups without leading zeros, the first longest run of two or more
 * zero groups as "::".  This is what @multiformats/multiaddr prints.
 */
static void ip6_text(struct ma_writer *w, const uint8_t *b)
{
	unsigned g[8];
	int best = -1, bestlen = 1;
	bool skip = false;

	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	for (int i = 0; i < 8;) {
		int j = i;

		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	for (int i = 0; i < 8; i++) {
		if (skip && g[i] == 0)
			continue;
		skip = false;
		if (i == best) {
			w_puts(w, i == 0 ? "::" : ":");
			skip = true;
			continue;
		}
		w_printf(w, "%x%s", g[i], i < 7 ? ":" : "");
	}
}

static int value_text(struct ma_writer *w, const struct ma_proto *pr,
		      const uint8_t *v, size_t len)
{
	char tmp[MA_VALUE_STR_MAX];
	long n;

	switch (pr->kind) {
	case MA_NONE:
		return 0;
	case MA_PORT:
		w_printf(w, "%u", (unsigned)v[0] << 8 | v[1]);
		return 0;
	case MA_IP4:
		w_printf(w, "%u.%u.%u.%u", v[0], v[1], v[2], v[3]);
		return 0;
	case MA_IP6:
		ip6_text(w, v);
		return 0;
	case MA_CIDR:
		w_printf(w, "%u", v[0]);
		return 0;
	case MA_TEXT:
		w_add(w, (const char *)v, len);
		return 0;
	case MA_P2P:
		n = mbase_base58_encode(tmp, sizeof(tmp), v, len);
		break;
	case MA_CERTHASH:
		n = mbase_encode(tmp, sizeof(tmp), 'u', v, len);
		break;
	default:
		return efs_error_set(EFS_EUNSUPPORTED, "multiaddr: %s",
				     pr->name);
	}
	if (n < 0)
		return (int)n;
	w_add(w, tmp, (size_t)n);
	return 0;
}

long multiaddr_format(char *out, size_t cap, const uint8_t *p, size_t len)
{
	struct ma_writer w = { out, cap, 0, false };
	struct multiaddr_part part;
	size_t pos = 0;
	int rc;

	if (cap)
		out[0] = '\0';
	if ((rc = multiaddr_validate(p, len)) < 0)
		return rc;
	while (rc == 0 && multiaddr_next(&part, p, len, &pos) == 0) {
		w_puts(&w, "/");
		w_puts(&w, part.name);
		if (part.len) {
			w_puts(&w, "/");
			rc = value_text(&w, proto_by_code(part.code),
					part.value, part.len);
		}
	}
	return w_finish(&w, rc, "text");
}

/* ---- text in ---- */

/* Decimal digits s[0..n) up to max into *out; no leading zeros (as the
 * JS library, so that one text gives one byte string). */
static bool parse_uint(unsigned *out, const char *s, size_t n, unsigned max)
{
	unsigned v = 0;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return v <= max;
}

static long parse_addr(uint8_t *out, int af, const char *s, size_t n)
{
	char tmp[64];

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(af, tmp, out) == 1 ? (af == AF_INET ? 4 : 16) : -1;
}

static long parse_p2p(uint8_t *out, size_t cap, const char *s, size_t n)
{
	struct cid id;

	/* As the JS library: base58btc for "Qm..." and "1...", else a CID
	 * whose multihash is the peer ID. */
	if (n && (s[0] == 'Q' || s[0] == '1'))
		return mbase_base58_decode(out, cap, s, n);
	if (cap < CID_MH_BYTES_MAX || cid_parse_n(&id, s, n) < 0)
		return -1;
	return (long)cid_mh_to_bytes(out, &id);
}

/* The value text s[0..n) of pr into out[0..cap); its size or < 0. */
static long parse_value(uint8_t *out, size_t cap, const struct ma_proto *pr,
			const char *s, size_t n)
{
	unsigned v;

	switch (pr->kind) {
	case MA_PORT:
		if (!parse_uint(&v, s, n, 65535))
			return -1;
		out[0] = (uint8_t)(v >> 8);
		out[1] = (uint8_t)v;
		return 2;
	case MA_CIDR:
		if (!parse_uint(&v, s, n, 255))
			return -1;
		out[0] = (uint8_t)v;
		return 1;
	case MA_IP4:
		return parse_addr(out, AF_INET, s, n);
	case MA_IP6:
		return parse_addr(out, AF_INET6, s, n);
	case MA_TEXT:
		if (n > cap || !text_ok((const uint8_t *)s, n))
			return -1;
		memcpy(out, s, n);
		return (long)n;
	case MA_P2P:
		return parse_p2p(out, cap, s, n);
	case MA_CERTHASH:
		return mbase_decode(out, cap, s, n);
	default:
		return -1;
	}
}

/* Append one component (code, value) to out[*len..cap). */
static int put_part(uint8_t *out, size_t cap, size_t *len,
		    const struct ma_proto *pr, const uint8_t *v, size_t vlen)
{
	uint8_t hdr[2 * VARINT_MAX_LEN];
	size_t h = varint_encode(hdr, pr->code);

	if (kind_size(pr->kind) == SIZE_MAX)
		h += varint_encode(hdr + h, vlen);
	if (h + vlen > cap - *len)
		return efs_error_set(EFS_ETOOBIG,
				     "multiaddr: over %zu bytes", cap);
	memcpy(out + *len, hdr, h);
	memcpy(out + *len + h, v, vlen);
	*len += h + vlen;
	return 0;
}

/* Length of the segment at s[i..n) up to the next '/'. */
static size_t seg_len(const char *s, size_t i, size_t n)
{
	size_t j = i;

	while (j < n && s[j] != '/')
		j++;
	return j - i;
}

long multiaddr_parse(uint8_t *out, size_t cap, const char *s, size_t slen)
{
	uint8_t v[MA_VALUE_STR_MAX];
	const struct ma_proto *pr;
	size_t i = 0, len = 0, n;
	long vlen;
	int rc;

	if (slen == 0 || s[0] != '/')
		return efs_error_set(EFS_ECORRUPT,
				     "multiaddr: text must start with '/'");
	while (i < slen) {
		n = seg_len(s, ++i, slen);
		if (n == 0)
			return efs_error_set(EFS_ECORRUPT,
					     "multiaddr: empty component");
		if (!(pr = proto_by_name(s + i, n)))
			return efs_error_set(EFS_EUNSUPPORTED,
					     "multiaddr: protocol '%.*s' not"
					     " supported", (int)n, s + i);
		i += n;
		vlen = 0;
		if (pr->kind != MA_NONE) {
			n = i < slen ? seg_len(s, ++i, slen) : 0;
			vlen = n ? parse_value(v, sizeof(v), pr, s + i, n) : -1;
			if (vlen < 0)
				return efs_error_set(EFS_ECORRUPT,
						     "multiaddr: bad %s value"
						     " '%.*s'", pr->name,
						     (int)n, s + i);
			i += n;
		}
		if ((rc = check_value(pr, v, (size_t)vlen)) < 0 ||
		    (rc = put_part(out, cap, &len, pr, v, (size_t)vlen)) < 0)
			return rc;
	}
	return (long)len;
}

/* ---- the HTTP URL ---- */

/* A DNS name or zone as a URL host can hold it without escapes. */
static bool host_ok(const uint8_t *p, size_t len, bool zone)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		      c == '_' || (zone && c == '~')))
			return false;
	}
	return true;
}

/* The host (maurl's DialArgs): the first component or ip6zone + ip6. */
static int url_host(struct ma_writer *w, const uint8_t *p, size_t len,
		    size_t *pos)
{
	struct multiaddr_part a, zone = { 0 };
	int rc;

	if ((rc = multiaddr_next(&a, p, len, pos)) < 0)
		return rc;
	if (a.code == MULTIADDR_IP6ZONE) {
		zone = a;
		if ((rc = multiaddr_next(&a, p, len, pos)) < 0 &&
		    rc != EFS_ITEROVER)
			return rc;
		if (rc == EFS_ITEROVER || a.code != MULTIADDR_IP6)
			return efs_error_set(EFS_EUNSUPPORTED,
					     "multiaddr: ip6zone not followed"
					     " by ip6");
		if (!host_ok(zone.value, zone.len, true))
			return efs_error_set(EFS_EUNSUPPORTED,
					     "multiaddr: zone '%.*s' cannot be"
					     " in a URL", (int)zone.len,
					     (const char *)zone.value);
	}
	switch (a.code) {
	case MULTIADDR_IP4:
		return value_text(w, proto_by_code(a.code), a.value, a.len);
	case MULTIADDR_IP6:
		w_puts(w, "[");
		ip6_text(w, a.value);
		if (zone.len) {
			w_puts(w, "%25");
			w_add(w, (const char *)zone.value, zone.len);
		}
		w_puts(w, "]");
		return 0;
	case MULTIADDR_DNS:
	case MULTIADDR_DNS4:
	case MULTIADDR_DNS6:
		if (!host_ok(a.value, a.len, false))
			return efs_error_set(EFS_EUNSUPPORTED,
					     "multiaddr: '%.*s' is not a host"
					     " name", (int)a.len,
					     (const char *)a.value);
		w_add(w, (const char *)a.value, a.len);
		return 0;
	default:
		return efs_error_set(EFS_EUNSUPPORTED,
				     "multiaddr: /%s is not an IP address or"
				     " DNS name", a.name);
	}
}

/* Which of https, http, tls, wss, ws the multiaddr has. */
struct url_flags {
	bool https, http, tls, wss, ws;
};

static void url_flags(struct url_flags *f, const uint8_t *p, size_t len)
{
	struct multiaddr_part part;
	size_t pos = 0;

	memset(f, 0, sizeof(*f));
	while (multiaddr_next(&part, p, len, &pos) == 0) {
		f->https |= part.code == MULTIADDR_HTTPS;
		f->http |= part.code == MULTIADDR_HTTP;
		f->tls |= part.code == MULTIADDR_TLS;
		f->wss |= part.code == MULTIADDR_WSS;
		f->ws |= part.code == MULTIADDR_WS;
	}
}

/* maurl.ToURL's scheme choice, then Curio's ws -> http, wss -> https. */
static const char *url_scheme(const struct url_flags *f)
{
	if (f->https)
		return "https";
	if (f->http)
		return f->tls ? "https" : "http";
	if (f->wss)
		return "https";
	if (f->ws)
		return f->tls ? "https" : "http";
	return "http";
}

long multiaddr_http_url(char *out, size_t cap, const uint8_t *p, size_t len)
{
	struct ma_writer w = { out, cap, 0, false };
	struct multiaddr_part port;
	struct url_flags f;
	size_t pos = 0;
	int rc;

	if (cap)
		out[0] = '\0';
	if ((rc = multiaddr_validate(p, len)) < 0)
		return rc;
	url_flags(&f, p, len);
	w_puts(&w, url_scheme(&f));
	w_puts(&w, "://");
	rc = url_host(&w, p, len, &pos);
	if (rc == 0 && multiaddr_next(&port, p, len, &pos) == 0) {
		if (port.code == MULTIADDR_UDP || port.code == MULTIADDR_SCTP ||
		    port.code == MULTIADDR_DCCP)
			rc = efs_error_set(EFS_EUNSUPPORTED,
					   "multiaddr: HTTP does not run over"
					   " %s", port.name);
		else if (port.code == MULTIADDR_TCP)
			w_printf(&w, ":%u",
				 (unsigned)port.value[0] << 8 | port.value[1]);
	}
	return w_finish(&w, rc, "URL");
}
