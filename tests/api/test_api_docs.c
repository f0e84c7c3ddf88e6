/*
 * test_api_docs.c - docs/api.md's route table kept complete: every route
 * of every table the daemon's server serves (api_server_table) must have
 * a row in it, and every row must name a route the server serves, with
 * a method it takes and a scope no smaller than the one it enforces.
 * The failure names each "METHOD /path" missing, or each stale row.
 *
 * The rows: the lines of docs/api.md's "## Routes" section (up to the
 * next "## " heading) shaped "| METHOD | `PATH` | SCOPE | ... |", one
 * method per row (other lines there, the table's head, are skipped):
 *
 *  - an exact route is written as it is: `/public/stats`;
 *  - a prefix route (its path ends in '/', "/" alone excepted) is
 *    written as its prefix and a parameter in braces: "/content/" by
 *    `/content/{id}`, "/ipfs/" by `/ipfs/{cid}[/path]`;
 *  - a route of one method needs a row of that method (a GET row
 *    stands for HEAD too); a route whose handler judges the method
 *    (NULL in its table) needs a row of at least one method;
 *  - backwards, a row's path with each {...} made "x" and each [...]
 *    left out must reach, as the server's first-match walk does, a
 *    route whose method allows the row's, and the row's SCOPE (PUBLIC,
 *    READ, WRITE, ADMIN; '*' ignored) must be at least the route's (a
 *    handler may ask for more, as GET /auth or POST /pins do, never for
 *    less than the frame checks);
 *  - the row's fourth cell links to its section, "[...](#anchor)", an
 *    anchor of a heading of docs/api.md as GitHub makes them (lower
 *    case; letters, digits, '-' and '_' kept, spaces made '-', the
 *    rest dropped).
 *
 * The file is found through $EFS_API_DOC (tests/api/meson.build).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_i.h"
#include "core/buf.h"
#include "tests/harness.h"

#include "core/banned.h"

#define ROWS_MAX 256
#define CELL_MAX 256

/* One row of the doc's route table. */
struct row {
	char method[16];
	char path[CELL_MAX];
	enum api_scope scope;
	char anchor[CELL_MAX]; /* "" when the row links nowhere */
	unsigned line;
};

static struct row rows[ROWS_MAX];
static size_t nrows;

/* The anchors of the doc's headings. */
#define ANCHORS_MAX 512
static char anchors[ANCHORS_MAX][CELL_MAX];
static size_t nanchors;

/* ---- the doc's rows ---- */

/* Cell i of the table line s (trimmed) into out; false when there is
 * none or it does not fit. */
static bool cell(char *out, size_t cap, const char *s, unsigned i)
{
	const char *p = s, *end;
	size_t n;

	for (unsigned k = 0; k <= i; k++) {
		p = strchr(p, '|');
		if (!p)
			return false;
		p++;
	}
	end = strchr(p, '|');
	if (!end)
		return false;
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	n = (size_t)(end - p);
	if (n >= cap)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static bool scope_parse(enum api_scope *out, const char *s)
{
	static const char *const names[] = {"public", "read", "write", "admin"};
	char w[16];
	size_t n = 0;

	for (; *s && n < sizeof(w) - 1; s++)
		if (*s != '*')
			w[n++] = *s;
	w[n] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(w, names[i]) == 0) {
			*out = (enum api_scope)i;
			return true;
		}
	return false;
}

/* The line s as a row into r: false when it is not one. */
static bool row_parse(struct row *r, const char *s)
{
	char m[CELL_MAX], p[CELL_MAX], sc[CELL_MAX], sec[CELL_MAX];
	const char *a, *end;
	size_t n;

	if (s[0] != '|' || !cell(m, sizeof(m), s, 0) ||
	    !cell(p, sizeof(p), s, 1) || !cell(sc, sizeof(sc), s, 2))
		return false;
	if (!*m || strlen(m) >= sizeof(r->method) ||
	    strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(m))
		return false;
	n = strlen(p);
	if (n < 3 || p[0] != '`' || p[n - 1] != '`' || p[1] != '/')
		return false;
	snprintf(r->method, sizeof(r->method), "%s", m);
	snprintf(r->path, sizeof(r->path), "%.*s", (int)(n - 2), p + 1);
	r->anchor[0] = '\0';
	if (cell(sec, sizeof(sec), s, 3) && (a = strstr(sec, "](#")) &&
	    (end = strchr(a + 3, ')')))
		snprintf(r->anchor, sizeof(r->anchor), "%.*s",
			 (int)(end - a - 3), a + 3);
	if (!scope_parse(&r->scope, sc)) {
		fprintf(stderr,
			"docs/api.md: the row of %s %s has no scope "
			"(PUBLIC, READ, WRITE or ADMIN): \"%s\"\n",
			r->method, r->path, sc);
		CU_FAIL("a route row without a scope");
		return false;
	}
	return true;
}

/* The anchor GitHub gives the heading text h (after its '#'s). */
static void anchor_of(char *out, size_t cap, const char *h)
{
	size_t n = 0;

	while (*h == ' ')
		h++;
	for (; *h && n + 1 < cap; h++) {
		unsigned char c = (unsigned char)*h;

		if (isalnum(c) || c == '-' || c == '_')
			out[n++] = (char)tolower(c);
		else if (c == ' ')
			out[n++] = '-';
	}
	out[n] = '\0';
}

static bool anchor_known(const char *a)
{
	for (size_t i = 0; i < nanchors; i++)
		if (strcmp(anchors[i], a) == 0)
			return true;
	return false;
}

/* The rows of the "## Routes" section of doc, NUL-terminated, into
 * rows[], and the anchors of its headings into anchors[]. */
static void rows_read(const char *doc)
{
	bool in = false, fence = false;
	unsigned line = 0;

	nrows = 0;
	nanchors = 0;
	for (const char *s = doc; *s; line++) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		char l[1024];

		snprintf(l, sizeof(l), "%.*s", (int)n, s);
		s += n + (nl != NULL);
		if (strncmp(l + strspn(l, " "), "```", 3) == 0)
			fence = !fence;
		if (fence)
			continue;
		if (l[0] == '#' && nanchors < ANCHORS_MAX)
			anchor_of(anchors[nanchors++], CELL_MAX,
				  l + strspn(l, "#"));
		if (strncmp(l, "## ", 3) == 0) {
			in = strcmp(l, "## Routes") == 0;
			continue;
		}
		if (!in || nrows == ROWS_MAX || !row_parse(&rows[nrows], l))
			continue;
		rows[nrows++].line = line + 1;
	}
}

static void rows_load(void)
{
	const char *path = getenv("EFS_API_DOC");
	struct buf b = BUF_INIT(BUF_NOCAP);

	nrows = 0;
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	if (harness_read_file(&b, path) < 0 || buf_addch(&b, '\0') < 0) {
		fprintf(stderr, "cannot read %s\n", path);
		CU_FAIL_FATAL("docs/api.md unreadable");
	}
	rows_read((const char *)b.ptr);
	buf_release(&b);
}

/* ---- the server's routes ---- */

static bool is_prefix(const char *path)
{
	size_t n = strlen(path);

	return n > 1 && path[n - 1] == '/';
}

/* Whether the row's path documents route path rp (the rule above). */
static bool row_names(const struct row *r, const char *rp)
{
	size_t n = strlen(rp);

	if (!is_prefix(rp))
		return strcmp(r->path, rp) == 0;
	return strncmp(r->path, rp, n) == 0 && r->path[n] == '{';
}

static bool row_method_is(const struct row *r, const char *m)
{
	return !m || strcmp(r->method, m) == 0;
}

/* The route the server gives path (api_server.c route_find's walk). */
static const struct api_route *route_find(const char *path)
{
	const struct api_route *t;
	size_t n;

	for (size_t i = 0; api_server_table(&t, &n, i); i++)
		for (size_t k = 0; k < n; k++) {
			size_t len = strlen(t[k].path);

			if (is_prefix(t[k].path)
				? strncmp(path, t[k].path, len) == 0
				: strcmp(path, t[k].path) == 0)
				return &t[k];
		}
	return NULL;
}

/* The row's path made a request path: {...} as "x", [...] left out. */
static void row_concrete(char *out, size_t cap, const char *p)
{
	size_t n = 0;

	for (; *p && n + 2 < cap; p++) {
		const char *close = NULL;

		if (*p == '{' || *p == '[')
			close = strchr(p, *p == '{' ? '}' : ']');
		if (close) {
			if (*p == '{')
				out[n++] = 'x';
			p = close;
			continue;
		}
		out[n++] = *p;
	}
	out[n] = '\0';
}

/* ---- the tests ---- */

static void test_api_docs__every_route_has_a_row(void)
{
	const struct api_route *t;
	size_t n, missing = 0, total = 0;

	rows_load();
	for (size_t i = 0; api_server_table(&t, &n, i); i++)
		for (size_t k = 0; k < n; k++) {
			bool found = false;

			total++;
			for (size_t j = 0; j < nrows && !found; j++)
				found = row_names(&rows[j], t[k].path) &&
					row_method_is(&rows[j], t[k].method);
			if (found)
				continue;
			fprintf(stderr,
				"docs/api.md's route table lacks %s %s%s\n",
				t[k].method ? t[k].method : "(any method)",
				t[k].path, is_prefix(t[k].path) ? "{...}" : "");
			missing++;
		}
	CU_ASSERT(total > 0);
	CU_ASSERT_EQUAL(missing, 0);
}

static void test_api_docs__every_row_is_served(void)
{
	size_t stale = 0;

	rows_load();
	CU_ASSERT(nrows > 0);
	for (size_t j = 0; j < nrows; j++) {
		const struct row *r = &rows[j];
		char path[CELL_MAX];
		const struct api_route *rt;
		const char *why = NULL;

		row_concrete(path, sizeof(path), r->path);
		rt = route_find(path);
		if (!rt)
			why = "no route serves it";
		else if (rt->method && strcmp(rt->method, r->method) != 0 &&
			 !(strcmp(rt->method, "GET") == 0 &&
			   strcmp(r->method, "HEAD") == 0))
			why = "its route takes another method";
		else if (r->scope < rt->scope)
			why = "its route needs a larger scope";
		else if (!anchor_known(r->anchor))
			why = "its section link is no heading's anchor";
		if (!why)
			continue;
		fprintf(stderr, "docs/api.md:%u: %s %s: %s (%s %s, %s)\n",
			r->line, r->method, r->path, why,
			rt && rt->method ? rt->method : "-",
			rt ? rt->path : "-",
			rt ? api_scope_name(rt->scope) : "-");
		stale++;
	}
	CU_ASSERT_EQUAL(stale, 0);
}

/* The rules themselves, on rows of their own. */
static void test_api_docs__rules(void)
{
	static const char doc[] = "# x\n"
				  "| method | path | scope | section |\n"
				  "|---|---|---|---|\n"
				  "| GET | `/health` | PUBLIC | [a](#x) |\n"
				  "## Routes\n"
				  "| method | path | scope | section |\n"
				  "|---|---|---|---|\n"
				  "| GET | `/ipfs/{cid}[/path]` | PUBLIC |"
				  " [g](#the-ipfs-gateway-ipfscidpath) |\n"
				  "| POST | `/gc` | **WRITE** | |\n"
				  "| `GET /metrics` | PUBLIC | what |\n"
				  "```\n"
				  "## Not a heading\n"
				  "```\n"
				  "## The IPFS gateway: /ipfs/{cid}[/path]\n"
				  "| GET | `/dealer` | PUBLIC | [a](#a) |\n"
				  "### Estuary's REST\n";
	char path[CELL_MAX];

	rows_read(doc);
	CU_ASSERT_EQUAL_FATAL(nrows, 2);
	CU_ASSERT_STRING_EQUAL(rows[0].method, "GET");
	CU_ASSERT_STRING_EQUAL(rows[0].path, "/ipfs/{cid}[/path]");
	CU_ASSERT_EQUAL(rows[0].scope, API_PUBLIC);
	CU_ASSERT_EQUAL(rows[1].scope, API_WRITE);
	CU_ASSERT_STRING_EQUAL(rows[0].anchor, "the-ipfs-gateway-ipfscidpath");
	CU_ASSERT_STRING_EQUAL(rows[1].anchor, "");
	CU_ASSERT(anchor_known(rows[0].anchor));
	CU_ASSERT(anchor_known("estuarys-rest"));
	CU_ASSERT(!anchor_known("not-a-heading"));
	CU_ASSERT(!anchor_known(""));
	CU_ASSERT(row_names(&rows[0], "/ipfs/"));
	CU_ASSERT(!row_names(&rows[0], "/ipfs"));
	CU_ASSERT(!row_names(&rows[1], "/"));
	CU_ASSERT(row_names(&rows[1], "/gc"));
	row_concrete(path, sizeof(path), rows[0].path);
	CU_ASSERT_STRING_EQUAL(path, "/ipfs/x");
	row_concrete(path, sizeof(path), "/content/status/{id}");
	CU_ASSERT_PTR_NOT_NULL(route_find(path));
	CU_ASSERT_PTR_NULL(route_find("/no/such/route"));
}

static CU_TestInfo tests[] = {
    {"rules", test_api_docs__rules},
    {"every_route_has_a_row", test_api_docs__every_route_has_a_row},
    {"every_row_is_served", test_api_docs__every_row_is_served},
    CU_TEST_INFO_NULL,
};

HARNESS_MAIN({.pName = "api_docs", .pTests = tests})
