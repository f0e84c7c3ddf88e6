/*
 * filmsg_test.h - helpers shared by the chain-message test executables
 * (test_filmsg.c, test_filjson.c): the golden vectors of
 * tests/data/filecoin/messages.txt, read once per executable, and the
 * key address they are signed with.
 */
#ifndef EFS_FILMSG_TEST_H
#define EFS_FILMSG_TEST_H

#include <stdio.h>
#include <string.h>

#include "core/filmsg.h"
#include "tests/harness.h"

/* f1 of the secp256k1 key 0x01 * 32 (zondax keyRecover). */
#define KEY_ADDR "f1ksu3ktw4xhyaoltwr546b3epfs5wxxqfyyxipwi"

/* Room a vector needs: the longest in messages.txt is under this. */
#define MSG_VECTOR_MAX 512

/* The text of messages.txt once read; freed by msg_vectors_release. */
static struct buf msg_vectors = BUF_INIT(BUF_NOCAP);

/* A suite's cleanup function (pCleanupFunc). */
static inline int msg_vectors_release(void)
{
	buf_release(&msg_vectors);
	return 0;
}

/* The text of messages.txt, read on first use; a missing file fails
 * the test. */
static inline const struct buf *msg_vectors_text(void)
{
	if (!msg_vectors.len)
		CU_ASSERT_EQUAL_FATAL(harness_read_data(&msg_vectors,
					"filecoin/messages.txt"), 0);
	return &msg_vectors;
}

/* The vector "<prefix>-<name>" into out (room for MSG_VECTOR_MAX bytes);
 * a missing vector fails the test. */
static inline size_t msg_vector(uint8_t *out, const char *prefix,
				const char *name)
{
	char key[64];
	long n;

	snprintf(key, sizeof(key), "%s-%s", prefix, name);
	n = harness_vector_hex(out, MSG_VECTOR_MAX, msg_vectors_text(), key);
	CU_ASSERT_FATAL(n > 0);
	return (size_t)n;
}

#endif
