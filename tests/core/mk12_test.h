/*
 * mk12_test.h - one table over every mk12 message type, shared by
 * test_mk12.c and tests/fuzz/fuzz_mk12.c: each type's encode, decode and
 * release through void pointers (T_PROPOSAL ... T_ASK_RESPONSE), and a
 * union that holds a message of any type.  No CUnit here: the fuzz
 * target does not link the harness.
 */
#ifndef EFS_MK12_TEST_H
#define EFS_MK12_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/mk12.h"

struct msg_type {
	const char *name;
	size_t size;
	int (*encode)(struct buf *out, const void *m);
	int (*decode)(void *out, const uint8_t *p, size_t n);
	void (*release)(void *m);   /* NULL: owns nothing */
};

#define MSG(stem, rel)                                                    \
	{ #stem, sizeof(struct mk12_##stem),                              \
	  (int (*)(struct buf *, const void *))mk12_##stem##_encode,      \
	  (int (*)(void *, const uint8_t *, size_t))mk12_##stem##_decode, \
	  rel }
#define REL(stem) ((void (*)(void *))mk12_##stem##_release)

static const struct msg_type T_PROPOSAL = MSG(proposal, REL(proposal));
static const struct msg_type T_CLIENT_PROPOSAL =
	MSG(client_proposal, REL(client_proposal));
static const struct msg_type T_DEAL_PARAMS =
	MSG(deal_params, REL(deal_params));
static const struct msg_type T_DEAL_RESPONSE =
	MSG(deal_response, REL(deal_response));
static const struct msg_type T_STATUS_REQUEST = MSG(status_request, NULL);
static const struct msg_type T_STATUS_RESPONSE =
	MSG(status_response, REL(status_response));
static const struct msg_type T_ASK = MSG(ask, NULL);
static const struct msg_type T_SIGNED_ASK = MSG(signed_ask, NULL);
static const struct msg_type T_ASK_REQUEST = MSG(ask_request, NULL);
static const struct msg_type T_ASK_RESPONSE = MSG(ask_response, NULL);

union any_msg {
	struct mk12_proposal proposal;
	struct mk12_client_proposal client_proposal;
	struct mk12_deal_params deal_params;
	struct mk12_deal_response deal_response;
	struct mk12_status_request status_request;
	struct mk12_status_response status_response;
	struct mk12_ask ask;
	struct mk12_signed_ask signed_ask;
	struct mk12_ask_request ask_request;
	struct mk12_ask_response ask_response;
};

/* Free what the message m of type t owns. */
static inline void msg_release(const struct msg_type *t, void *m)
{
	if (t->release)
		t->release(m);
}

#endif
