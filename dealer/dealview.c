/*
 * dealview.c - the dealer's state for its readers (see dealview.h): the
 * read-only view of index.db, the commit list, each commit's
 * replication and the JSON helpers.  Moved here from the CLI
 * (cli/cli_view.c) so that the daemon's REST routes share it.
 *
 * Design notes:
 * - The commit list is the union of two logs: the filesystem's commits
 *   (what the user made, with paths; read through the caller's
 *   dealview_log_fn, since the dealer may not depend on fs/) and the
 *   piece store's (what the dealer took).  A commit in the first only is
 *   queued for the dealer; one in the second only (a build without the
 *   filesystem, a test) has no path.  Both are ordered by commit ID, so
 *   the union is a merge.
 * - "What the dealer will do next" is derived here from the stage and the
 *   deals (so a repository whose daemon is stopped still reads
 *   sensibly), except for a piece short of deals with a note from the
 *   dealer: the note says why (no eligible SP, funds, retries), which
 *   only the dealer knows.  A note is written by the last cycle; the
 *   deals' own states are fresher once deals are under way.
 */
#include "dealer/dealview.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "dealer/dealer.h"

#include "core/banned.h"

/* ---- the view ----------------------------------------------------------- */

static int report_load(struct dealview *v)
{
	json_error_t jerr;
	json_t *head, *h;
	char *text;
	int rc = dealer_report_read(&text, v->db);

	if (rc == EFS_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	v->report = json_loads(text, 0, &jerr);
	efs_free(text);
	if (!json_is_object(v->report))
		return efs_error_set(EFS_ECORRUPT, "status: the dealer's "
				     "report in %s is not a JSON object",
				     v->db);
	head = json_object_get(v->report, "head");
	h = json_object_get(head, "height");
	if (json_is_integer(h))
		v->head = json_integer_value(h);
	return 0;
}

/*
 * The PID holding repo's bstore.lock (core/bstore.c takes it with flock),
 * from /proc/locks: 0 when none holds it, -1 when that cannot be told.
 * Probing with flock itself could make a daemon starting at that very
 * moment fail to take its lock; reading /proc/locks takes nothing.
 */
static long lock_holder(const char *repo)
{
	char path[4096], line[256], kind[16];
	unsigned maj, min;
	unsigned long ino;
	struct stat st;
	long pid, found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bstore.lock", repo);
	if (stat(path, &st) < 0)
		return 0;
	if (!(f = fopen("/proc/locks", "re")))
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%lu", kind, &pid,
			   &maj, &min, &ino) == 5 &&
		    !strcmp(kind, "FLOCK") && maj == major(st.st_dev) &&
		    min == minor(st.st_dev) && ino == st.st_ino)
			found = pid;
	fclose(f);
	return found;
}

int dealview_open(struct dealview *v, const char *repo, dealview_log_fn log)
{
	struct piece_limits lim = PIECE_LIMITS_INIT;
	size_t n;
	int rc;

	memset(v, 0, sizeof(*v));
	config_defaults(&v->cfg);
	v->head = -1;
	v->log = log;
	v->now = efs_clock_real_ns() / 1000000000;
	if (!repo)
		return efs_error_set(EFS_EINVAL, "no repository directory");
	if (!(v->repo = efs_strdup(repo)))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	n = strlen(v->repo) + sizeof("/index.db");
	if (!(v->db = efs_malloc(n)))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	snprintf(v->db, n, "%s/index.db", v->repo);
	if ((rc = config_load(&v->cfg, v->repo)) < 0)
		return rc;
	v->daemon_pid = lock_holder(v->repo);
	v->has_index = access(v->db, F_OK) == 0;
	if (!v->has_index)
		return 0;
	/* only close_at depends on the limits here */
	lim.agg_max_age_s = v->cfg.aggregate_max_age;
	if ((rc = deals_open_ro(&v->deals, v->db)) == EFS_ENOTFOUND)
		rc = 0;
	if (rc == 0 &&
	    (rc = piece_store_open_ro(&v->ps, v->db, &lim)) == EFS_ENOTFOUND)
		rc = 0;
	if (rc == 0)
		rc = report_load(v);
	return rc;
}

void dealview_release(struct dealview *v)
{
	for (size_t i = 0; i < v->nnotes; i++)
		efs_free(v->notes[i].text);
	efs_free(v->notes);
	efs_free(v->live);
	deals_close(v->deals);
	piece_store_close(v->ps);
	json_decref(v->report);
	config_release(&v->cfg);
	efs_free(v->repo);
	efs_free(v->db);
	memset(v, 0, sizeof(*v));
}

json_t *dealview_report(const struct dealview *v, const char *key)
{
	json_t *o = v->report ? json_object_get(v->report, key) : NULL;

	return json_is_object(o) ? o : NULL;
}

int64_t dealview_funds_time(const struct dealview *v)
{
	json_t *f = dealview_report(v, "funds");
	json_t *head = dealview_report(v, "head");
	json_t *t = json_object_get(f, "time");
	json_t *h = json_object_get(f, "height");

	if (json_is_integer(t))
		return json_integer_value(t);
	if (json_is_integer(h) && json_equal(h, json_object_get(head, "height"))
	    && json_is_integer(json_object_get(head, "time")))
		return json_integer_value(json_object_get(head, "time"));
	return 0;
}

/* ---- the commit list ---------------------------------------------------- */

static struct dealview_commit *commits_add(struct dealview_commits *c)
{
	struct dealview_commit *v;
	size_t cap;

	if (c->n == c->cap) {
		cap = c->cap ? c->cap * 2 : 16;
		if (!(v = efs_realloc(c->v, cap * sizeof(*v))))
			return NULL;
		c->v = v;
		c->cap = cap;
	}
	v = &c->v[c->n++];
	memset(v, 0, sizeof(*v));
	return v;
}

void dealview_commits_release(struct dealview_commits *c)
{
	for (size_t i = 0; i < c->n; i++)
		efs_free(c->v[i].path);
	efs_free(c->v);
	memset(c, 0, sizeof(*c));
}

static int log_cb(const struct dealview_log_entry *r, void *cls)
{
	struct dealview_commits *c = cls;
	struct dealview_commit *e = commits_add(c);

	if (!e || !(e->path = efs_strdup(r->path ? r->path : "")))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	e->id = r->id;
	e->root = r->root;
	e->time = r->time;
	e->size = r->size;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	const struct dealview_commit *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

struct dealview_commit *dealview_commits_find(struct dealview_commits *c,
					      int64_t id)
{
	struct dealview_commit key = { .id = id };

	return c->n ? bsearch(&key, c->v, c->n, sizeof(key), by_id) : NULL;
}

struct merge {
	struct dealview_commits *all;
	size_t nfs;                 /* the filesystem's, sorted, first */
};

static int piece_cb(const struct piece_commit_info *pc, void *cls)
{
	struct merge *m = cls;
	struct dealview_commits fs = { m->all->v, m->nfs, m->nfs };
	struct dealview_commit *e = dealview_commits_find(&fs, pc->commit_id);

	if (!e) {
		if (!(e = commits_add(m->all)))
			return efs_error_set(EFS_ENOMEM, "out of memory");
		e->id = pc->commit_id;
		e->root = pc->root;
	}
	e->in_store = true;
	e->pc = *pc;
	return 0;
}

int dealview_list_commits(struct dealview_commits *out, struct dealview *v)
{
	struct merge m = { out, 0 };
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!v->has_index)
		return 0;
	if (v->log && (rc = v->log(v->db, log_cb, out)) < 0)
		goto fail;
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), by_id);
	m.nfs = out->n;
	if (v->ps && (rc = piece_commits_foreach(v->ps, piece_cb, &m)) < 0)
		goto fail;
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), by_id);
	return 0;
fail:
	dealview_commits_release(out);
	return rc;
}

/* ---- a commit's replication --------------------------------------------- */

struct collect {
	struct dealview_state *s;
	size_t cap;
};

static int holding_cb(const struct piece_info *p, const struct piece_member *m,
		      void *cls)
{
	struct collect *c = cls;
	struct dealview_state *s = c->s;
	struct dealview_piece *v;

	if (s->npieces == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 4;
		if (!(v = efs_realloc(s->pieces, c->cap * sizeof(*v))))
			return efs_error_set(EFS_ENOMEM, "out of memory");
		s->pieces = v;
	}
	v = &s->pieces[s->npieces++];
	memset(v, 0, sizeof(*v));
	v->info = *p;
	v->share = m->has_sub ? m->seg_size : p->padded;
	v->renew_epoch = -1;
	return 0;
}

/* What the replication of a piece needs of one live deal. */
struct dealview_live {
	int64_t piece_id;
	enum deal_state state;
	struct filaddr miner;
	int64_t next_check;
	int64_t end_epoch;
};

static int live_cb(const struct deal *d, void *cls)
{
	struct dealview *v = cls;
	struct dealview_live *l;

	if (v->nlive == v->live_cap) {
		v->live_cap = v->live_cap ? v->live_cap * 2 : 64;
		if (!(l = efs_realloc(v->live, v->live_cap * sizeof(*l))))
			return efs_error_set(EFS_ENOMEM, "out of memory");
		v->live = l;
	}
	l = &v->live[v->nlive++];
	l->piece_id = d->piece_id;
	l->state = d->state;
	l->miner = d->miner;
	l->next_check = d->next_check;
	l->end_epoch = d->end_epoch;
	return 0;
}

static int by_piece(const void *a, const void *b)
{
	const struct dealview_live *x = a, *y = b;

	return x->piece_id < y->piece_id ? -1 : x->piece_id > y->piece_id;
}

/*
 * Read every live deal once: one scan of the deals table, where a query
 * per piece would scan it per piece (deals_foreach of one piece does
 * not use the piece index).
 */
static int live_read(struct dealview *v)
{
	int rc;

	if (v->live_read || !v->deals)
		return 0;
	if ((rc = deals_foreach(v->deals, -1, true, live_cb, v)) < 0)
		return rc;
	if (v->nlive)
		qsort(v->live, v->nlive, sizeof(*v->live), by_piece);
	v->live_read = true;
	return 0;
}

/* The first live deal of piece_id (v->nlive when none). */
static size_t live_first(const struct dealview *v, int64_t piece_id)
{
	size_t lo = 0, hi = v->nlive;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->live[mid].piece_id < piece_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void live_add(struct dealview_piece *p, const struct dealview_live *l,
		     int64_t renew_window)
{
	int64_t renew = l->end_epoch - renew_window;

	p->live++;
	if (l->state == DEAL_ACTIVE) {
		if (p->renew_epoch < 0 || renew < p->renew_epoch)
			p->renew_epoch = renew;
		return;
	}
	if (!p->has_wait || l->next_check < p->wait_check) {
		p->has_wait = true;
		p->wait_sp = l->miner;
		p->wait_state = l->state;
		p->wait_check = l->next_check;
	}
}

static int note_cb(int64_t piece_id, const char *note, int64_t time,
		   void *cls)
{
	struct dealview *v = cls;
	struct dealview_note *n;

	if (v->nnotes == v->notes_cap) {
		v->notes_cap = v->notes_cap ? 2 * v->notes_cap : 64;
		if (!(n = efs_realloc(v->notes,
				      v->notes_cap * sizeof(*n))))
			return EFS_ENOMEM;
		v->notes = n;
	}
	n = &v->notes[v->nnotes];
	if (!(n->text = efs_strdup(note)))
		return EFS_ENOMEM;
	n->piece_id = piece_id;
	n->time = time;
	v->nnotes++;
	return 0;
}

/* The dealer's note of piece_id into p (a copy), if it wrote one. */
static int piece_note(struct dealview *v, struct dealview_piece *p)
{
	size_t lo = 0, hi;
	int rc;

	if (!v->notes_read) {
		v->notes_read = true;
		rc = dealer_piece_notes(v->db, note_cb, v);
		if (rc < 0 && rc != EFS_ENOTFOUND)
			return rc;
	}
	for (hi = v->nnotes; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->notes[mid].piece_id < p->info.id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == v->nnotes || v->notes[lo].piece_id != p->info.id)
		return 0;
	p->note_time = v->notes[lo].time;
	return (p->note = efs_strdup(v->notes[lo].text)) ? 0 : EFS_ENOMEM;
}

static int piece_deals(struct dealview *v, struct dealview_piece *p)
{
	int rc;

	if (v->report && !v->no_notes && (rc = piece_note(v, p)) < 0)
		return rc;
	if (!v->deals)
		return 0;
	if ((rc = deals_count(&p->counting, &p->active, v->deals, p->info.id,
			      v->head > 0 ? v->head : 0,
			      v->cfg.renew_window)) < 0 ||
	    (rc = live_read(v)) < 0)
		return rc;
	for (size_t i = live_first(v, p->info.id);
	     i < v->nlive && v->live[i].piece_id == p->info.id; i++)
		live_add(p, &v->live[i], v->cfg.renew_window);
	return 0;
}

/* The report's first blocking reason (funds, DataCap, SPs), or NULL. */
static const char *blocked_reason(const struct dealview *v)
{
	static const char *const keys[] = { "funds", "datacap", "miners" };
	json_t *b = dealview_report(v, "blocked"), *m;

	for (size_t i = 0; b && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_is_string(m = json_object_get(b, keys[i])))
			return json_string_value(m);
	return NULL;
}

/* What a live deal waits for: the text around the SP's address. */
static const char *const waiting_for[][2] = {
	[DEAL_PROPOSING] = { "waiting for ", " to answer the proposal" },
	[DEAL_ACCEPTED] = { "waiting for ", " to fetch the data" },
	[DEAL_TRANSFERRING] = { "", " is fetching the data" },
	[DEAL_PUBLISHING] = { "waiting for ", " to publish the deal" },
	[DEAL_PUBLISHED] = { "waiting for ", " to seal the data (activation)" },
};

/* What the dealer does next for piece p, derived from its deals. */
static void next_of_piece(char *out, size_t cap, const struct dealview *v,
			  const struct dealview_piece *p, unsigned want)
{
	char sp[FILADDR_STR_MAX], when[32];
	const char *blocked = blocked_reason(v);
	unsigned k = want - (p->counting < want ? p->counting : want);
	int n;

	if (!p->info.ready) {
		snprintf(out, cap, "recording where its blocks lie; deals "
			 "start after");
	} else if (k) {
		n = snprintf(out, cap, "propose %u more deal%s", k,
			     k == 1 ? "" : "s");
		if (blocked && n > 0 && (size_t)n < cap)
			snprintf(out + n, cap - (size_t)n, "; BLOCKED: %s",
				 blocked);
	} else if (p->has_wait && p->wait_state <= DEAL_PUBLISHED) {
		filaddr_format(sp, &p->wait_sp, 'f');
		if (p->wait_check <= 0 ||
		    !efs_clock_format(when, sizeof(when),
				      p->wait_check * 1000000000, "%H:%M:%S"))
			snprintf(when, sizeof(when), "-");
		snprintf(out, cap, "%s%s%s (next check %s)",
			 waiting_for[p->wait_state][0], sp,
			 waiting_for[p->wait_state][1], when);
	} else if (p->renew_epoch >= 0) {
		snprintf(out, cap, "keep %u active; renew from epoch %" PRId64,
			 want, p->renew_epoch);
	} else {
		snprintf(out, cap, "nothing: replicated");
	}
}

/* The piece that needs the dealer most: short of deals, else waiting. */
static const struct dealview_piece *piece_first(const struct dealview_state *s)
{
	for (size_t i = 0; i < s->npieces; i++)
		if (s->pieces[i].counting < s->want || !s->pieces[i].info.ready)
			return &s->pieces[i];
	for (size_t i = 0; i < s->npieces; i++)
		if (s->pieces[i].has_wait)
			return &s->pieces[i];
	return s->npieces ? &s->pieces[0] : NULL;
}

static void next_of_commit(struct dealview_state *s, const struct dealview *v,
			   const struct dealview_commit *c)
{
	const struct dealview_piece *p;
	char when[32], cid[CID_STR_MAX];
	size_t n = 0;

	if (!c->in_store) {
		snprintf(s->next, sizeof(s->next), "waiting for the dealer to "
			 "take it%s", v->report ? "" : " (it has not run in "
			 "this repository)");
		return;
	}
	if (c->pc.stage == PIECE_STAGE_SIZING) {
		snprintf(s->next, sizeof(s->next), "making its CAR and piece "
			 "CID");
		return;
	}
	if (c->pc.stage == PIECE_STAGE_WAITING) {
		dealview_fmt_time(when, sizeof(when), c->pc.close_at);
		snprintf(s->next, sizeof(s->next), "aggregate closes by %s "
			 "(sooner once full)", when);
		return;
	}
	if (!(p = piece_first(s))) {
		snprintf(s->next, sizeof(s->next), "nothing: no piece holds "
			 "it (see the dealer's log)");
		return;
	}
	if (s->npieces > 1) {
		dealview_fmt_short(cid, sizeof(cid),
				   cid_tostr(cid, &p->info.cid));
		n = (size_t)snprintf(s->next, sizeof(s->next), "%s: ", cid);
	}
	/* the note says why the dealer is short of deals (no SP, funds);
	 * once deals are under way, their own states are fresher */
	if (p->note && p->info.ready && p->counting < s->want) {
		snprintf(s->next + n, sizeof(s->next) - n, "%s", p->note);
		s->next_from_dealer = true;
	} else {
		next_of_piece(s->next + n, sizeof(s->next) - n, v, p,
			      s->want);
	}
}

const char *dealview_stage_name(const struct dealview_commit *c)
{
	return c->in_store ? piece_stage_name(c->pc.stage) : "queued";
}

int dealview_commit_state(struct dealview_state *out, struct dealview *v,
			  const struct dealview_commit *c)
{
	struct collect col = { out, 0 };
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->want = v->cfg.replication;
	if (c->in_store && c->pc.stage == PIECE_STAGE_PIECED && v->ps) {
		if ((rc = piece_commit_foreach(v->ps, c->id, holding_cb,
					       &col)) < 0 ||
		    (rc = piece_commit_evicted(&out->evicted_blocks,
					       &out->evicted_bytes, v->ps,
					       c->id)) < 0)
			return rc;
	}
	for (size_t i = 0; i < out->npieces; i++) {
		struct dealview_piece *p = &out->pieces[i];

		if ((rc = piece_deals(v, p)) < 0)
			return rc;
		if (i == 0 || p->active < out->active)
			out->active = p->active;
		if (i == 0 || p->counting < out->counting)
			out->counting = p->counting;
	}
	next_of_commit(out, v, c);
	return 0;
}

void dealview_state_release(struct dealview_state *s)
{
	for (size_t i = 0; i < s->npieces; i++)
		efs_free(s->pieces[i].note);
	efs_free(s->pieces);
	memset(s, 0, sizeof(*s));
}

/* ---- formatting and JSON helpers ---------------------------------------- */

void dealview_fmt_time(char *out, size_t cap, int64_t t)
{
	if (t <= 0 || !efs_clock_format(out, cap, t * 1000000000,
					"%Y-%m-%d %H:%M:%S"))
		snprintf(out, cap, "-");
}

void dealview_fmt_short(char *out, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n <= 16)
		snprintf(out, cap, "%s", s);
	else
		snprintf(out, cap, "%.8s...%s", s, s + n - 4);
}

void dealview_jset(json_t *o, const char *key, json_t *v, bool *bad)
{
	if (!v || json_object_set_new(o, key, v) < 0)
		*bad = true;
}

json_t *dealview_jtime_ns(int64_t ns)
{
	char s[32];

	if (ns <= 0 || !efs_clock_format(s, sizeof(s), ns,
					 "%Y-%m-%dT%H:%M:%SZ"))
		return json_null();
	return json_string(s);
}

json_t *dealview_jtime(int64_t t)
{
	char s[32];

	if (t <= 0 || !efs_clock_format(s, sizeof(s), t * 1000000000,
					"%Y-%m-%dT%H:%M:%SZ"))
		return json_null();
	return json_string(s);
}

json_t *dealview_jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *dealview_jint(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

json_t *dealview_jcid(const struct cid *id)
{
	char s[CID_STR_MAX];

	return json_string(cid_tostr(s, id));
}

json_t *dealview_jamount(const struct bigint *a, bool *bad)
{
	char atto[BIGINT_STR_MAX], fil[BIGINT_STR_MAX + 8];
	json_t *o = json_object();

	if (!o) {
		*bad = true;
		return NULL;
	}
	bigint_format(atto, a);
	bigint_format_fil(fil, a);
	dealview_jset(o, "attofil", json_string(atto), bad);
	dealview_jset(o, "fil", json_string(fil), bad);
	return o;
}

