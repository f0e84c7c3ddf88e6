/*
 * fuzz_mk12_client.c - the mk12 client's reading of SP replies
 * (dealer/mk12_client_msg.c) and the classification of their texts
 * (dealer/dealproto.c).  The first byte picks what the rest is: an ask,
 * store or status reply (status with and without the proposal check), or
 * a rejection text.  Whatever the bytes, the call must come out as one
 * outcome with a printable one-line detail, a reason only for
 * rejections, and a status whose state agrees with the outcome.  A
 * broken rule aborts so libFuzzer reports it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "dealer/mk12_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated, printable, UTF-8 line shorter than cap. */
static void check_line(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n >= cap || !utf8_valid((const uint8_t *)s, n))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

static void check_call(const struct dealproto_call *call)
{
	if ((unsigned)call->outcome > DEALPROTO_ERROR ||
	    (unsigned)call->reason > DEALPROTO_REASON_OTHER)
		abort();
	if ((call->outcome == DEALPROTO_REJECTED) !=
	    (call->reason != DEALPROTO_REASON_NONE))
		abort();
	if (call->outcome == DEALPROTO_OK && call->detail[0])
		abort();
	if (call->outcome != DEALPROTO_OK && !call->detail[0])
		abort();
	check_line(call->detail, sizeof(call->detail));
}

static void check_status(const struct dealproto_status *st,
			 const struct dealproto_call *call)
{
	check_line(st->error, sizeof(st->error));
	check_line(st->sp_status, sizeof(st->sp_status));
	if ((unsigned)st->state > DEALPROTO_UNKNOWN)
		abort();
	if (call->outcome != DEALPROTO_OK && st->state != DEALPROTO_UNKNOWN)
		abort();
	if (st->state == DEALPROTO_FAILED && !st->error[0])
		abort();
	if (call->outcome == DEALPROTO_OK && st->state != DEALPROTO_FAILED &&
	    st->error[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dealproto_ref ref = { .check_proposal = false };
	struct dealproto_status st;
	struct dealproto_call call;
	struct dealproto_ask ask;
	struct filaddr miner;
	char line[64];
	uint8_t op;

	if (size == 0)
		return 0;
	op = data[0] % 6;
	data++;
	size--;
	dealproto_call_init(&call);
	filaddr_init_id(&miner, 1000);
	switch (op) {
	case 0:
		if (mk12_client_read_ask(&ask, &call, &miner, data, size) < 0)
			abort();
		check_call(&call);
		if (call.outcome == DEALPROTO_OK &&
		    (ask.min_piece > ask.max_piece || ask.price.neg))
			abort();
		break;
	case 1:
		if (mk12_client_read_store(&call, data, size) < 0)
			abort();
		check_call(&call);
		break;
	case 2:
	case 3:
		/* the golden UUID of tests/data/mk12; a check for op 3 */
		memcpy(ref.uuid, "\x6b\xa7\xb8\x10\x9d\xad\x41\xd1"
				 "\x80\xb4\x00\xc0\x4f\xd4\x30\xc8", 16);
		ref.check_proposal = op == 3;
		if (mk12_client_read_status(&st, &call, &ref, data, size) < 0)
			abort();
		check_call(&call);
		check_status(&st, &call);
		break;
	case 4:
		if (dealproto_reason_of((const char *)data, size) ==
		    DEALPROTO_REASON_NONE)
			abort();
		dealproto_call_reject(&call, (const char *)data, size);
		check_call(&call);
		break;
	default:
		dealproto_line(line, 1 + size % sizeof(line),
			       (const char *)data, size);
		check_line(line, 1 + size % sizeof(line));
		break;
	}
	return 0;
}
