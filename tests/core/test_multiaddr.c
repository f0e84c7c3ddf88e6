/*
 * test_multiaddr.c - binary multiaddrs: golden vectors from
 * @multiformats/multiaddr (tests/data/multiaddr, both directions), the
 * HTTP base URLs Curio's client makes (a table from its Go code),
 * malformed bytes and text, every truncation, and output caps.  The
 * module allocates nothing, so there is no allocation-failure loop.
 */
#include "core/multiaddr.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "tests/harness.h"

#define LINE_MAX_ 1024

/* Call fn(bytes, n, text) for each "hex text" line of a vector file. */
static int each_vector(const char *name,
		       void (*fn)(const uint8_t *b, size_t n, const char *t))
{
	struct buf file = BUF_INIT(BUF_NOCAP);
	const char *p, *end;
	int count = 0;

	CU_ASSERT_EQUAL_FATAL(harness_read_data(&file, name), 0);
	p = (const char *)file.ptr;
	end = p + file.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[LINE_MAX_], *sp;
		uint8_t b[512];
		long bn;

		CU_ASSERT_FATAL(n < sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + 1;
		if (!n || line[0] == '#')
			continue;
		sp = strchr(line, ' ');
		CU_ASSERT_FATAL(sp != NULL);
		*sp = '\0';
		bn = harness_unhex(b, sizeof(b), line);
		CU_ASSERT_FATAL(bn > 0);
		fn(b, (size_t)bn, sp + 1);
		count++;
	}
	buf_release(&file);
	return count;
}

static void check_format(const uint8_t *b, size_t n, const char *text)
{
	char got[MULTIADDR_STR_MAX];
	uint8_t back[512];
	long len = multiaddr_format(got, sizeof(got), b, n);

	CU_ASSERT_EQUAL(len, (long)strlen(text));
	CU_ASSERT_STRING_EQUAL(got, text);
	CU_ASSERT_EQUAL(multiaddr_validate(b, n), 0);
	len = multiaddr_parse(back, sizeof(back), text, strlen(text));
	CU_ASSERT(len == (long)n && !memcmp(back, b, n));
	if (len != (long)n || memcmp(back, b, n))
		fprintf(stderr, "format/parse: %s: %s\n", text,
			efs_error_msg());
}

static void test_multiaddr__golden(void)
{
	CU_ASSERT(each_vector("multiaddr/vectors.txt", check_format) >= 40);
}

static void check_parse(const uint8_t *b, size_t n, const char *text)
{
	uint8_t got[512];
	long len = multiaddr_parse(got, sizeof(got), text, strlen(text));

	CU_ASSERT_EQUAL(len, (long)n);
	CU_ASSERT(len == (long)n && !memcmp(got, b, n));
	if (len != (long)n)
		fprintf(stderr, "parse: %s: %s\n", text, efs_error_msg());
}

static void test_multiaddr__parse_variants(void)
{
	CU_ASSERT(each_vector("multiaddr/parse.txt", check_parse) >= 8);
}

/* Text to the URL through the binary form. */
static long url_of(char *out, size_t cap, const char *text)
{
	uint8_t b[512];
	long n = multiaddr_parse(b, sizeof(b), text, strlen(text));

	CU_ASSERT_FATAL(n > 0);
	return multiaddr_http_url(out, cap, b, (size_t)n);
}

/*
 * Expected URLs follow the Go code Curio's client runs: maurl.ToURL
 * (scheme: https if /https, /tls + /http, /wss or /tls + /ws; host and
 * port from manet.DialArgs), then Curio's ws -> http, wss -> https.
 */
static void test_multiaddr__http_url(void)
{
	static const struct {
		const char *ma;
		const char *url;
	} cases[] = {
		/* the example of filecoin-apis.md §1.1 */
		{ "/dns4/sp.example/tcp/443/wss", "https://sp.example:443" },
		{ "/ip4/127.0.0.1/tcp/1234/http", "http://127.0.0.1:1234" },
		{ "/ip4/1.2.3.4/tcp/443/tls/http", "https://1.2.3.4:443" },
		{ "/ip4/1.2.3.4/tcp/80/ws", "http://1.2.3.4:80" },
		{ "/ip4/1.2.3.4/tcp/443/wss", "https://1.2.3.4:443" },
		/* maurl: /tls/ws is wss; Curio: wss is https */
		{ "/ip4/1.2.3.4/tcp/443/tls/ws", "https://1.2.3.4:443" },
		/* no HTTP protocol at all: maurl's default scheme */
		{ "/ip4/203.0.113.5/tcp/24001", "http://203.0.113.5:24001" },
		/* tls alone does not make https in maurl */
		{ "/ip4/1.2.3.4/tcp/443/tls", "http://1.2.3.4:443" },
		/* /http wins over a later /wss (maurl checks http first) */
		{ "/ip4/1.2.3.4/tcp/80/http/wss", "http://1.2.3.4:80" },
		{ "/ip4/1.2.3.4/tcp/24001/p2p/"
		  "12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf",
		  "http://1.2.3.4:24001" },
		{ "/ip6/::1/tcp/80/http", "http://[::1]:80" },
		{ "/ip6/2001:db8::1/tcp/8080/https",
		  "https://[2001:db8::1]:8080" },
		/* DialArgs stops at a non-port component: no port */
		{ "/ip6/fe80::1/ip6zone/eth0/tcp/80", "http://[fe80::1]" },
		{ "/ip4/10.0.0.1/ipcidr/8", "http://10.0.0.1" },
		/* a zone first: Go escapes its '%' in the host (RFC 6874) */
		{ "/ip6zone/eth0/ip6/fe80::1/tcp/80/http",
		  "http://[fe80::1%25eth0]:80" },
		/* Go writes "::ffff:1.2.3.4"; the same address, WHATWG text */
		{ "/ip6/::ffff:1.2.3.4/tcp/1", "http://[::ffff:102:304]:1" },
		{ "/dns/sp.example/tcp/443/https", "https://sp.example:443" },
		{ "/dns/sp.example/https", "https://sp.example" },
		{ "/dns6/sp6.example/tcp/12310/http",
		  "http://sp6.example:12310" },
		{ "/dns/localhost/tcp/3000/ws", "http://localhost:3000" },
		{ "/dns/h/tcp/1/tls/sni/h/http", "https://h:1" },
		{ "/dns/A-b_c.Example.org/tcp/8443/tls/ws",
		  "https://A-b_c.Example.org:8443" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char url[MULTIADDR_URL_MAX];
		long n = url_of(url, sizeof(url), cases[i].ma);

		CU_ASSERT_EQUAL(n, (long)strlen(cases[i].url));
		CU_ASSERT_STRING_EQUAL(url, cases[i].url);
		if (n < 0 || strcmp(url, cases[i].url))
			fprintf(stderr, "url %s: got %s (%s)\n", cases[i].ma,
				n >= 0 ? url : "", efs_error_msg());
	}
}

/* Multiaddrs Curio would turn into a URL no HTTP client can use. */
static void test_multiaddr__http_url_refused(void)
{
	static const char *const cases[] = {
		"/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf",
		"/ip4/1.2.3.4/udp/4001/quic-v1",
		"/ip4/1.2.3.4/sctp/5000",
		"/ip4/1.2.3.4/dccp/5000",
		"/dnsaddr/bootstrap.libp2p.io",
		"/tcp/80/http",
		"/http",
		"/ip6zone/eth0/tcp/80",
		"/ip6zone/eth0",
		"/ip6zone/eth0/ip4/1.2.3.4",
		"/ip6zone/e%th0/ip6/fe80::1",
		"/dns/user@evil.example/tcp/80/http",
		"/dns/evil.example?x/tcp/80",
		"/dns/sp.example:8080/https",
		"/dns/\xc3\xa9.example/https",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char url[MULTIADDR_URL_MAX];

		CU_ASSERT_EQUAL(url_of(url, sizeof(url), cases[i]),
				EFS_EUNSUPPORTED);
		CU_ASSERT_STRING_EQUAL(url, "");
	}
}

static void test_multiaddr__corrupt(void)
{
	static const struct {
		const char *hex;
		int err;
	} cases[] = {
		{ "", EFS_ECORRUPT },                  /* empty */
		{ "04010203", EFS_ECORRUPT },          /* ip4 cut short */
		{ "06", EFS_ECORRUPT },                /* tcp without port */
		{ "0600", EFS_ECORRUPT },
		{ "04010203040601", EFS_ECORRUPT },
		{ "29000000000000000000000000000000", EFS_ECORRUPT },
		{ "3500", EFS_ECORRUPT },              /* empty dns */
		{ "3502", EFS_ECORRUPT },              /* length past end */
		{ "350561", EFS_ECORRUPT },
		{ "35ffffffffffffffffff01", EFS_ECORRUPT }, /* huge length */
		{ "358002", EFS_ECORRUPT },            /* length 256, cut */
		{ "3501ff", EFS_ECORRUPT },            /* not UTF-8 */
		{ "35012f", EFS_ECORRUPT },            /* '/' */
		{ "350100", EFS_ECORRUPT },            /* NUL */
		{ "35010a", EFS_ECORRUPT },            /* newline */
		{ "35017f", EFS_ECORRUPT },            /* DEL */
		{ "8000", EFS_ECORRUPT },              /* non-minimal code */
		{ "80", EFS_ECORRUPT },                /* cut varint */
		{ "e0038000", EFS_ECORRUPT },
		{ "a50300", EFS_ECORRUPT },            /* empty p2p */
		{ "a503021220", EFS_ECORRUPT },        /* sha2-256, no digest */
		{ "a50303000200", EFS_ECORRUPT },      /* identity, wrong len */
		{ "a50304b2200100", EFS_ECORRUPT },    /* not a peer ID hash */
		{ "d20300", EFS_ECORRUPT },            /* empty certhash */
		{ "ff01", EFS_EUNSUPPORTED },          /* code 0xff */
		/* http-path */
		{ "0401020304e10304612f6263", EFS_EUNSUPPORTED },
		{ "9003", EFS_EUNSUPPORTED },          /* unix */
		{ "0401020304bc03", EFS_EUNSUPPORTED }, /* onion */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[64];
		char s[MULTIADDR_STR_MAX];
		long n = harness_unhex(b, sizeof(b), cases[i].hex);

		CU_ASSERT_FATAL(n >= 0);
		CU_ASSERT_EQUAL(multiaddr_validate(b, (size_t)n),
				cases[i].err);
		CU_ASSERT_EQUAL(multiaddr_format(s, sizeof(s), b, (size_t)n),
				cases[i].err);
		CU_ASSERT_STRING_EQUAL(s, "");
		CU_ASSERT_EQUAL(multiaddr_http_url(s, sizeof(s), b, (size_t)n),
				cases[i].err);
	}
}

/* A 300-byte dns name: a well-formed length, but over the cap. */
static void test_multiaddr__long_value(void)
{
	uint8_t b[400] = { 0x35, 0xac, 0x02 };
	char s[MULTIADDR_STR_MAX];

	memset(b + 3, 'a', 300);
	CU_ASSERT_EQUAL(multiaddr_validate(b, 303), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(multiaddr_format(s, sizeof(s), b, 303), EFS_ECORRUPT);
	/* 256 is the cap: allowed */
	b[1] = 0x80;
	b[2] = 0x02;
	CU_ASSERT_EQUAL(multiaddr_validate(b, 259), 0);
	CU_ASSERT_EQUAL(multiaddr_format(s, sizeof(s), b, 259), 261);
}

static void test_multiaddr__bad_text(void)
{
	static const struct {
		const char *text;
		int err;
	} cases[] = {
		{ "", EFS_ECORRUPT },
		{ "ip4/1.2.3.4", EFS_ECORRUPT },
		{ "/", EFS_ECORRUPT },
		{ "//", EFS_ECORRUPT },
		{ "/ip4/1.2.3.4/", EFS_ECORRUPT },
		{ "/ip4/1.2.3.4//tcp/1", EFS_ECORRUPT },
		{ "/ip4", EFS_ECORRUPT },
		{ "/ip4/", EFS_ECORRUPT },
		{ "/ip4/256.1.1.1", EFS_ECORRUPT },
		{ "/ip4/01.2.3.4", EFS_ECORRUPT },
		{ "/ip4/1.2.3", EFS_ECORRUPT },
		{ "/ip4/::1", EFS_ECORRUPT },
		{ "/ip6/1.2.3.4", EFS_ECORRUPT },
		{ "/ip6/fe80::1%eth0", EFS_ECORRUPT },
		{ "/ip6/1:2:3:4:5:6:7:8:9", EFS_ECORRUPT },
		{ "/tcp/65536", EFS_ECORRUPT },
		{ "/tcp/-1", EFS_ECORRUPT },
		{ "/tcp/080", EFS_ECORRUPT },
		{ "/tcp/ 80", EFS_ECORRUPT },
		{ "/tcp/123456", EFS_ECORRUPT },
		{ "/ipcidr/256", EFS_ECORRUPT },
		{ "/dns/a\x01" "b", EFS_ECORRUPT },
		{ "/dns/\xff", EFS_ECORRUPT },
		{ "/p2p/0OIl", EFS_ECORRUPT },
		{ "/p2p/notacid", EFS_ECORRUPT },
		{ "/certhash/!x", EFS_ECORRUPT },
		{ "/nope/1", EFS_EUNSUPPORTED },
		{ "/unix/tmp", EFS_EUNSUPPORTED },
		{ "/ip4/1.2.3.4/http-path/x", EFS_EUNSUPPORTED },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[512];
		long n = multiaddr_parse(b, sizeof(b), cases[i].text,
					 strlen(cases[i].text));

		CU_ASSERT_EQUAL(n, cases[i].err);
		if (n != cases[i].err)
			fprintf(stderr, "parse '%s': %ld\n", cases[i].text, n);
	}
}

/* Every prefix of every golden vector: an error or a whole multiaddr,
 * never a crash, and the three readers agree. */
static void check_truncations(const uint8_t *b, size_t n, const char *text)
{
	for (size_t k = 0; k < n; k++) {
		char s[MULTIADDR_STR_MAX], u[MULTIADDR_URL_MAX];
		int v = multiaddr_validate(b, k);
		long f = multiaddr_format(s, sizeof(s), b, k);
		long url = multiaddr_http_url(u, sizeof(u), b, k);

		CU_ASSERT(v == 0 || v == EFS_ECORRUPT);
		CU_ASSERT(v < 0 ? f == v : f > 0);
		CU_ASSERT(v < 0 ? url == v : url > 0 || url ==
			  EFS_EUNSUPPORTED);
		/* a whole prefix is a prefix of the text too */
		CU_ASSERT(v < 0 || !strncmp(s, text, (size_t)f));
	}
}

static void test_multiaddr__truncated(void)
{
	each_vector("multiaddr/vectors.txt", check_truncations);
}

/* Every cap below the needed size is EFS_ETOOBIG, with out a string. */
static void test_multiaddr__caps(void)
{
	const char *text = "/dns4/sp.example/tcp/443/wss";
	const char *url = "https://sp.example:443";
	uint8_t b[64], small[64];
	char s[64];
	long n = multiaddr_parse(b, sizeof(b), text, strlen(text));

	CU_ASSERT_FATAL(n == 17);
	for (size_t cap = 0; cap <= strlen(text); cap++) {
		memset(s, 'x', sizeof(s));
		CU_ASSERT_EQUAL(multiaddr_format(s, cap, b, (size_t)n),
				EFS_ETOOBIG);
		CU_ASSERT(cap == 0 || memchr(s, '\0', cap) != NULL);
	}
	CU_ASSERT_EQUAL(multiaddr_format(s, strlen(text) + 1, b, (size_t)n),
			(long)strlen(text));
	for (size_t cap = 0; cap <= strlen(url); cap++)
		CU_ASSERT_EQUAL(multiaddr_http_url(s, cap, b, (size_t)n),
				EFS_ETOOBIG);
	CU_ASSERT_EQUAL(multiaddr_http_url(s, strlen(url) + 1, b, (size_t)n),
			(long)strlen(url));
	CU_ASSERT_STRING_EQUAL(s, url);
	for (size_t cap = 0; cap < 17; cap++)
		CU_ASSERT_EQUAL(multiaddr_parse(small, cap, text, strlen(text)),
				EFS_ETOOBIG);
}

/* Walking the parts gives names, values and the end. */
static void test_multiaddr__next(void)
{
	const char *text = "/dns4/sp.example/tcp/443/wss";
	struct multiaddr_part part;
	uint8_t b[64];
	size_t pos = 0;
	long n = multiaddr_parse(b, sizeof(b), text, strlen(text));

	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(multiaddr_next(&part, b, (size_t)n, &pos), 0);
	CU_ASSERT_EQUAL(part.code, MULTIADDR_DNS4);
	CU_ASSERT_STRING_EQUAL(part.name, "dns4");
	CU_ASSERT_EQUAL(part.len, 10);
	CU_ASSERT(!memcmp(part.value, "sp.example", 10));
	CU_ASSERT_EQUAL(multiaddr_next(&part, b, (size_t)n, &pos), 0);
	CU_ASSERT_EQUAL(part.code, MULTIADDR_TCP);
	CU_ASSERT_EQUAL(part.value[0] << 8 | part.value[1], 443);
	CU_ASSERT_EQUAL(multiaddr_next(&part, b, (size_t)n, &pos), 0);
	CU_ASSERT_EQUAL(part.code, MULTIADDR_WSS);
	CU_ASSERT_EQUAL(part.len, 0);
	CU_ASSERT_PTR_NULL(part.value);
	CU_ASSERT_EQUAL(multiaddr_next(&part, b, (size_t)n, &pos),
			EFS_ITEROVER);
	CU_ASSERT_EQUAL(pos, (size_t)n);
}

static CU_TestInfo multiaddr_tests[] = {
	{ "golden", test_multiaddr__golden },
	{ "parse_variants", test_multiaddr__parse_variants },
	{ "http_url", test_multiaddr__http_url },
	{ "http_url_refused", test_multiaddr__http_url_refused },
	{ "corrupt", test_multiaddr__corrupt },
	{ "long_value", test_multiaddr__long_value },
	{ "bad_text", test_multiaddr__bad_text },
	{ "truncated", test_multiaddr__truncated },
	{ "caps", test_multiaddr__caps },
	{ "next", test_multiaddr__next },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "multiaddr", .pTests = multiaddr_tests })
