/*
 * dealproto.c - the protocol-neutral half of the deal-protocol interface
 * (see dealproto.h): dispatch through the ops table, names, how an HTTP
 * exchange maps to an outcome, and the classification of rejection texts.
 *
 * Design notes:
 * - Outcomes are judged once, here, from httpc's error code and the
 *   reply, so every protocol logs an SP the same way: no status line is
 *   "unreachable", a reply that breaks off or is not HTTP is "garbage".
 * - Rejection texts are free text from the SP.  The table below holds
 *   the phrases of Curio's market (market/mk12/mk12.go, the texts the
 *   devnet mirrors) and Boost's, most specific first: Curio wraps some
 *   reasons in generic ones ("internal server error: failed to apply
 *   filters" is a price or size outside the ask), so those phrases come
 *   before the generic "server error".
 * - Details are made printable and one line here, so nothing an SP sends
 *   can break a log line or a terminal.
 */
#include "dealer/dealproto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/mk12_check.h"
#include "core/utf8.h"
#include "net/httpc.h"

#include "core/banned.h"

int dealproto_ask(struct dealproto_ask *out, struct dealproto_call *call,
		  struct dealproto *dp, const struct dealproto_sp *sp)
{
	return dp->ops->ask(out, call, dp, sp);
}

int dealproto_propose(struct dealproto_proposal *out,
		      struct dealproto_call *call, struct dealproto *dp,
		      const struct dealproto_sp *sp,
		      const struct dealproto_deal *deal)
{
	return dp->ops->propose(out, call, dp, sp, deal);
}

int dealproto_status(struct dealproto_status *out,
		     struct dealproto_call *call, struct dealproto *dp,
		     const struct dealproto_sp *sp,
		     const struct dealproto_ref *ref)
{
	return dp->ops->status(out, call, dp, sp, ref);
}

void dealproto_free(struct dealproto *dp)
{
	if (dp)
		dp->ops->free(dp);
}

/* ---- names ---- */

const char *dealproto_outcome_name(enum dealproto_outcome o)
{
	static const char *const names[] = {
		"ok", "rejected", "unreachable", "timeout", "garbage", "error",
	};

	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o]
							       : "unknown";
}

const char *dealproto_reason_name(enum dealproto_reason r)
{
	static const char *const names[] = {
		"none", "busy", "ask", "funds", "datacap", "collateral",
		"epochs", "signature", "duplicate", "policy", "transfer",
		"invalid", "not_found", "server", "other",
	};

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r]
							       : "unknown";
}

const char *dealproto_state_name(enum dealproto_state s)
{
	static const char *const names[] = {
		"accepted", "transferring", "awaiting_publish", "published",
		"sealing", "active", "failed", "unknown",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s]
							       : "unknown";
}

/* ---- rejection texts ---- */

static const struct {
	const char *phrase;         /* lower case */
	enum dealproto_reason reason;
} reason_phrases[] = {
	/* Curio hides the ask check behind an internal error */
	{ "failed to apply filters", DEALPROTO_REASON_ASK },
	{ "validating signature", DEALPROTO_REASON_SIGNATURE },
	{ "invalid signature", DEALPROTO_REASON_SIGNATURE },
	{ "signature verification", DEALPROTO_REASON_SIGNATURE },
	{ "already exists", DEALPROTO_REASON_DUPLICATE },
	{ "updated 0 rows", DEALPROTO_REASON_DUPLICATE },
	{ "backpressure", DEALPROTO_REASON_BUSY },
	{ "retry in some time", DEALPROTO_REASON_BUSY },
	{ "too many", DEALPROTO_REASON_BUSY },
	{ "temporarily unavailable", DEALPROTO_REASON_BUSY },
	{ "server error", DEALPROTO_REASON_SERVER },
	{ "internal error", DEALPROTO_REASON_SERVER },
	{ "failed to query", DEALPROTO_REASON_SERVER },
	{ "could not commit", DEALPROTO_REASON_SERVER },
	{ "inform the storage provider", DEALPROTO_REASON_SERVER },
	{ "proposal cid", DEALPROTO_REASON_SERVER },
	{ "marshal", DEALPROTO_REASON_SERVER },
	{ "escrow", DEALPROTO_REASON_FUNDS },
	{ "datacap", DEALPROTO_REASON_DATACAP },
	{ "data cap", DEALPROTO_REASON_DATACAP },
	{ "verified client", DEALPROTO_REASON_DATACAP },
	{ "collateral", DEALPROTO_REASON_COLLATERAL },
	{ "asking price", DEALPROTO_REASON_ASK },
	{ "pricing filter", DEALPROTO_REASON_ASK },
	{ "minimum required size", DEALPROTO_REASON_ASK },
	{ "maximum allowed size", DEALPROTO_REASON_ASK },
	{ "start epoch", DEALPROTO_REASON_EPOCHS },
	{ "end epoch", DEALPROTO_REASON_EPOCHS },
	{ "proposal end", DEALPROTO_REASON_EPOCHS },
	{ "duration", DEALPROTO_REASON_EPOCHS },
	{ "piece size is invalid", DEALPROTO_REASON_INVALID },
	{ "wrong prefix", DEALPROTO_REASON_INVALID },
	{ "piececid undefined", DEALPROTO_REASON_INVALID },
	{ "libp2p urls", DEALPROTO_REASON_TRANSFER },
	{ "transport params", DEALPROTO_REASON_TRANSFER },
	{ "padded piece size", DEALPROTO_REASON_TRANSFER },
	{ "transfer", DEALPROTO_REASON_TRANSFER },
	{ "not allowed", DEALPROTO_REASON_POLICY },
	{ "incorrect provider", DEALPROTO_REASON_POLICY },
	{ "disabled", DEALPROTO_REASON_POLICY },
	{ "allow list", DEALPROTO_REASON_POLICY },
	{ "label", DEALPROTO_REASON_INVALID },
	{ "failed to get sealed deal status", DEALPROTO_REASON_NOT_FOUND },
	{ "no storage deal found", DEALPROTO_REASON_NOT_FOUND },
	{ "not found", DEALPROTO_REASON_NOT_FOUND },
};

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether text[0..len) holds the lower-case phrase, ignoring case. */
static bool has_phrase(const char *text, size_t len, const char *phrase)
{
	size_t n = strlen(phrase);

	for (size_t i = 0; n <= len && i <= len - n; i++) {
		size_t j = 0;

		while (j < n && lower(text[i + j]) == phrase[j])
			j++;
		if (j == n)
			return true;
	}
	return false;
}

enum dealproto_reason dealproto_reason_of(const char *text, size_t len)
{
	size_t n = sizeof(reason_phrases) / sizeof(reason_phrases[0]);

	for (size_t i = 0; i < n; i++)
		if (has_phrase(text, len, reason_phrases[i].phrase))
			return reason_phrases[i].reason;
	return DEALPROTO_REASON_OTHER;
}

/* ---- details ---- */

static bool is_space(uint8_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

void dealproto_line(char *out, size_t cap, const char *text, size_t len)
{
	const uint8_t *p = (const uint8_t *)text;
	size_t n = 0, w;

	if (cap == 0)
		return;
	while (len && is_space(p[0])) {
		p++;
		len--;
	}
	while (len && is_space(p[len - 1]))
		len--;
	while (len) {
		w = utf8_width(p, len);
		if (w <= 1) {
			w = 1;
			if (n + 1 >= cap)
				break;
			out[n++] = p[0] < 0x20 || p[0] == 0x7f ? ' '
				   : p[0] >= 0x80	      ? '?'
							      : (char)p[0];
		} else {
			if (n + w >= cap)
				break;
			memcpy(out + n, p, w);
			n += w;
		}
		p += w;
		len -= w;
	}
	if (len && cap >= 4) {
		/* cut: end in "...", not inside a UTF-8 sequence */
		if (n + 3 >= cap) {
			n = cap - 4;
			while (n && ((uint8_t)out[n] & 0xc0) == 0x80)
				n--;
		}
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

void dealproto_call_init(struct dealproto_call *call)
{
	memset(call, 0, sizeof(*call));
}

int dealproto_call_set(struct dealproto_call *call,
		       enum dealproto_outcome outcome, const char *fmt, ...)
{
	char tmp[DEALPROTO_DETAIL_MAX * 2];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	call->outcome = outcome;
	if (outcome != DEALPROTO_REJECTED)
		call->reason = DEALPROTO_REASON_NONE;
	else if (call->reason == DEALPROTO_REASON_NONE)
		call->reason = DEALPROTO_REASON_OTHER;
	if (n < 0)
		n = 0;
	dealproto_line(call->detail, sizeof(call->detail), tmp,
		       (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
	return 0;
}

void dealproto_call_reject(struct dealproto_call *call, const char *text,
			   size_t len)
{
	call->outcome = DEALPROTO_REJECTED;
	call->reason = dealproto_reason_of(text, len);
	dealproto_line(call->detail, sizeof(call->detail), text, len);
	if (!call->detail[0])
		dealproto_call_set(call, DEALPROTO_REJECTED,
				   "rejected without a reason");
}

int dealproto_call_local(struct dealproto_call *call, int rc)
{
	dealproto_call_set(call, DEALPROTO_ERROR, "%s", efs_error_msg());
	return rc;
}

/* ---- HTTP ---- */

/* The first line of a text reply, or what the body is. */
static void body_line(char *out, size_t cap, const struct httpc_resp *resp)
{
	const char *p = (const char *)resp->body.ptr;
	size_t len = resp->body.len, i = 0;

	while (i < len && is_space((uint8_t)p[i]))
		i++;
	if (i == len) {
		snprintf(out, cap, "empty body");
		return;
	}
	if (p[i] == '<') {
		snprintf(out, cap, "an HTML page of %zu bytes", len);
		return;
	}
	len = i + strcspn(p + i, "\r\n");
	dealproto_line(out, cap < 100 ? cap : 100, p + i, len - i);
}

static bool starts_with_ci(const struct httpc_resp *resp, const char *s)
{
	size_t n = strlen(s);

	return resp->body.len >= n && has_phrase((const char *)resp->body.ptr,
						 n, s);
}

/* The outcome of a request that got no usable reply (rc < 0). */
static void judge_failure(struct dealproto_call *call, int rc, long status)
{
	const char *msg = efs_error_msg();

	if (rc == EFS_ETIMEDOUT)
		dealproto_call_set(call, DEALPROTO_TIMEOUT, "%s", msg);
	else if (rc == EFS_ETOOBIG)
		dealproto_call_set(call, DEALPROTO_GARBAGE, "%s", msg);
	else if (rc == EFS_EIO && status == 0)
		dealproto_call_set(call, DEALPROTO_UNREACHABLE, "%s", msg);
	else if (rc == EFS_EIO || rc == EFS_EINVAL)
		dealproto_call_set(call, DEALPROTO_GARBAGE, "broken reply: %s",
				   msg);
	else
		dealproto_call_set(call, DEALPROTO_ERROR, "%s", msg);
}

/* The outcome of a reply whose status is not 200. */
static void judge_status(struct dealproto_call *call,
			 const struct httpc_resp *resp)
{
	char line[100];

	body_line(line, sizeof(line), resp);
	if (resp->status == 429) {
		dealproto_call_set(call, DEALPROTO_REJECTED, "HTTP 429: %s",
				   line);
		call->reason = DEALPROTO_REASON_BUSY;
	} else if (resp->status == 503 && starts_with_ci(resp, "timeout")) {
		dealproto_call_set(call, DEALPROTO_TIMEOUT,
				   "the SP timed out: HTTP 503: %s", line);
	} else {
		dealproto_call_set(call, DEALPROTO_ERROR, "HTTP %ld: %s",
				   resp->status, line);
	}
}

bool dealproto_call_http(struct dealproto_call *call, int rc,
			 const struct httpc_resp *resp)
{
	call->http_status = resp->status;
	call->bytes_up = resp->bytes_up;
	call->bytes_down = resp->bytes_down;
	call->latency_us = resp->total_us;
	if (rc < 0)
		judge_failure(call, rc, resp->status);
	else if (resp->status != 200)
		judge_status(call, resp);
	return rc == 0 && resp->status == 200;
}

int dealproto_price_per_epoch(struct bigint *out,
			      const struct bigint *price_per_gib,
			      uint64_t padded)
{
	/* The storage market's rule, whatever the protocol: the least
	 * price an ask accepts is what a client offers. */
	return mk12_check_min_price(out, price_per_gib, padded);
}
