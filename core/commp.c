/*
 * commp.c - Filecoin piece commitment, streaming (see commp.h).
 *
 * The tree is never held.  Bytes are cut into 127-byte quads; each quad is
 * fr32-padded into four leaves and hashed down to one node at level 2
 * (three node hashes).  Level-2 nodes go onto a stack that holds at most
 * one node per level, like a binary counter:
 *
 *	quads = number of quads pushed so far
 *	bit (l - 2) of quads set  <=>  level l holds a left node that waits
 *	                               for its right sibling
 *
 * Pushing a node at level l hashes it with the waiting left nodes of
 * levels l, l+1, ... as the carry of quads += 2^(l-2) runs.  At finish,
 * the quad being filled (zero-padded) and the stack are folded up to the
 * root, with the hash of an all-zero subtree standing in for every missing
 * right sibling: the zero padding up to U is never hashed.
 *
 * Speed: each node costs two SHA-256 compressions (its 64 bytes and the
 * constant padding block), so the per-call overhead of the hash matters
 * as much as the compression itself.  Every node input sits in a 128-byte
 * block whose second half is that padding block, and children are hashed
 * straight into their parent's block.  One SHA256_Update of the 128 bytes
 * on a fresh context runs libcrypto's block function (SHA-NI where the CPU
 * has it) once over both blocks; the digest is then the context's state
 * words, and SHA256_Final is skipped.  Whole quads are hashed 16 at a
 * time, a level at a time, so that consecutive hashes do not wait for
 * each other.  Measured on the development machine (one core, 64 MiB in
 * memory): this path 500 MB/s; one quad at a time 418; with
 * SHA256_Init/Update/Final of the 64 bytes 367, two SHA256_Transform
 * calls 401, EVP ~100.  The low-level calls are deprecated in OpenSSL 3;
 * the warning is silenced for this file only.
 *
 * Threads: with n > 1 threads, a call to commp_update that brings at
 * least two whole chunks (COMMP_CHUNK_BYTES, a subtree of 2^13 quads) at
 * a chunk boundary of the stream hashes a batch of up to BATCH_MAX chunks
 * in parallel: the caller and n - 1 workers take chunks in turn from a
 * shared index, each into its own stack; the caller waits for all, then
 * pushes their roots, in order, at level 15.  The result does not depend
 * on threads or on how the input is split into calls.
 */
#include "core/commp.h"

#include <assert.h>
#include <endian.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/varint.h"

#include "core/banned.h"

#define NODE COMMP_NODE_SIZE
#define QUAD COMMP_QUAD_IN
/* A node's hash input: left || right || the SHA-256 padding block. */
#define BLOCK 128
/* Stack levels 2..COMMP_HEIGHT_MAX; level l lives in level[l - 2]. */
#define LEVELS (COMMP_HEIGHT_MAX - 1)
#define CHUNK_QUADS ((uint64_t)1 << COMMP_CHUNK_QUADS_LOG2)
#define CHUNK_LEVEL (2 + COMMP_CHUNK_QUADS_LOG2)
/* Chunks hashed per batch; bounds the roots kept in struct commp. */
#define BATCH_MAX 16
/* Quads hashed together, level by level (group_hash). */
#define GROUP_LOG2 4
#define GROUP_QUADS (1u << GROUP_LOG2)
#define THREADS_MAX 64

/* SHA-256 padding of a 64-byte message: 0x80, zeros, bit length 512. */
static const uint8_t sha_pad[64] = { 0x80, [62] = 0x02 };

struct stack {
	uint64_t quads;               /* quads pushed; see the file comment */
	uint8_t group[2 * GROUP_QUADS][BLOCK]; /* for group_hash */
	uint8_t level[LEVELS][BLOCK]; /* waiting left node, then the right */
};

/* A hashing thread's state; workers[0] is the caller's. */
struct worker {
	struct commp *c;
	pthread_t tid;
	struct stack st;
};

struct commp {
	struct stack st;
	uint64_t payload;         /* bytes added */
	size_t buf_len;           /* bytes of an unfinished quad in buf */
	uint8_t buf[QUAD];
	unsigned nthreads;        /* 1: no workers started */

	pthread_mutex_t lock;     /* guards the batch fields below */
	pthread_cond_t work;      /* a batch was posted, or stop */
	pthread_cond_t done;      /* ndone reached nchunks */
	unsigned long gen;        /* batches posted */
	const uint8_t *batch;     /* the chunks of the current batch */
	size_t nchunks, next, ndone;
	bool stop;
	uint8_t roots[BATCH_MAX][NODE]; /* written by whoever took the chunk */

	struct worker workers[];  /* nthreads of them; none for one */
};

/* zero_node[l]: root of an all-zero subtree of height l. */
static uint8_t zero_node[COMMP_HEIGHT_MAX + 1][NODE];
static pthread_once_t zero_once = PTHREAD_ONCE_INIT;

static void block_init(uint8_t blk[BLOCK])
{
	memset(blk, 0, BLOCK - sizeof(sha_pad));
	memcpy(blk + BLOCK - sizeof(sha_pad), sha_pad, sizeof(sha_pad));
}

/* The node over blk's first 64 bytes; blk ends with sha_pad. */
static void node_hash(uint8_t out[NODE], const uint8_t blk[BLOCK])
{
	SHA256_CTX ctx;

	SHA256_Init(&ctx);
	/* Two whole blocks: one call of the block function, nothing kept
	 * back, so ctx.h is the digest of the 64-byte message. */
	SHA256_Update(&ctx, blk, BLOCK);
	for (int i = 0; i < 8; i++) {
		uint32_t be = htobe32((uint32_t)ctx.h[i]);

		memcpy(out + 4 * i, &be, 4);
	}
	out[NODE - 1] &= 0x3f;
}

static void zero_init(void)
{
	uint8_t blk[BLOCK];

	block_init(blk);
	for (int l = 1; l <= COMMP_HEIGHT_MAX; l++) {
		memcpy(blk, zero_node[l - 1], NODE);
		memcpy(blk + NODE, zero_node[l - 1], NODE);
		node_hash(zero_node[l], blk);
	}
}

static void stack_init(struct stack *s)
{
	s->quads = 0;
	for (unsigned i = 0; i < 2 * GROUP_QUADS; i++)
		block_init(s->group[i]);
	for (int i = 0; i < LEVELS; i++)
		block_init(s->level[i]);
}

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static void store_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

/*
 * One fr32 field: the 256 bits of in[0..32) and top (little-endian, top
 * as byte 32) shifted right by shift, with the two high bits cleared.
 */
static void fr32_field(uint8_t out[NODE], const uint8_t *in, unsigned shift,
		       uint8_t top)
{
	uint64_t w[5] = { load_le64(in), load_le64(in + 8),
			  load_le64(in + 16), load_le64(in + 24), top };

	for (int j = 0; j < 4; j++)
		store_le64(out + 8 * j,
			   shift ? w[j] >> shift | w[j + 1] << (64 - shift)
				 : w[j]);
	out[NODE - 1] &= 0x3f;
}

/*
 * fr32 padding of a quad: 4 x 254 bits in, 4 x 256 bits out (two zero
 * bits after every 254).  Leaves 0, 1 go to a, leaves 2, 3 to b.
 */
static void fr32_pad(uint8_t *a, uint8_t *b, const uint8_t in[QUAD])
{
	fr32_field(a, in, 0, 0);
	fr32_field(a + NODE, in + 31, 6, in[63]);
	fr32_field(b, in + 63, 4, in[95]);
	fr32_field(b + NODE, in + 95, 2, 0);
}

/*
 * The root (level 2 + log2 n) of the n quads at in, n a power of two up
 * to GROUP_QUADS.  blk: 2n blocks made by block_init.  Hashing a whole
 * level before the next one keeps consecutive hashes independent, so the
 * CPU overlaps them: 16 quads at a time is ~20% faster than one by one.
 * A node's output overwrites a block already hashed (j / 2 < j).
 */
static void group_hash(uint8_t out[NODE], uint8_t (*blk)[BLOCK],
		       const uint8_t *in, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		fr32_pad(blk[2 * i], blk[2 * i + 1], in + i * QUAD);
	for (unsigned m = 2 * n; m > 1; m /= 2)
		for (unsigned j = 0; j < m; j++)
			node_hash(blk[j / 2] + (j & 1) * NODE, blk[j]);
	node_hash(out, blk[0]);
}

/* Where the next node of level must be written. */
static uint8_t *stack_slot(struct stack *s, unsigned level)
{
	return s->level[level - 2] + (s->quads >> (level - 2) & 1) * NODE;
}

/* A node was written at stack_slot(s, level): run the carry. */
static void stack_settle(struct stack *s, unsigned level)
{
	uint64_t add = (uint64_t)1 << (level - 2);

	assert((s->quads & (add - 1)) == 0);
	while (s->quads >> (level - 2) & 1) {
		assert(level < COMMP_HEIGHT_MAX);
		node_hash(stack_slot(s, level + 1), s->level[level - 2]);
		level++;
	}
	s->quads += add;
}

/* Push the n quads at p, in the largest groups the stack's alignment
 * allows. */
static void stack_push_quads(struct stack *s, const uint8_t *p, uint64_t n)
{
	while (n) {
		unsigned g = GROUP_LOG2;

		while ((s->quads & ((1u << g) - 1)) || (1u << g) > n)
			g--;
		group_hash(stack_slot(s, 2 + g), s->group, p, 1u << g);
		stack_settle(s, 2 + g);
		p += (size_t)QUAD << g;
		n -= 1u << g;
	}
}

/* The root of the 2^13 quads at p, hashed on stack s. */
static void chunk_hash(uint8_t out[NODE], struct stack *s, const uint8_t *p)
{
	s->quads = 0;
	stack_push_quads(s, p, CHUNK_QUADS);
	memcpy(out, s->level[CHUNK_LEVEL - 2], NODE);
}

/* Take chunks of the current batch until none is left. */
static void batch_work(struct commp *c, struct stack *s)
{
	for (;;) {
		const uint8_t *p = NULL;
		size_t i;

		pthread_mutex_lock(&c->lock);
		i = c->next;
		if (i < c->nchunks) {
			p = c->batch + i * COMMP_CHUNK_BYTES;
			c->next++;
		}
		pthread_mutex_unlock(&c->lock);
		if (!p)
			return;
		chunk_hash(c->roots[i], s, p);
		pthread_mutex_lock(&c->lock);
		if (++c->ndone == c->nchunks)
			pthread_cond_signal(&c->done);
		pthread_mutex_unlock(&c->lock);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct commp *c = w->c;
	unsigned long seen = 0;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->stop && c->gen == seen)
			pthread_cond_wait(&c->work, &c->lock);
		if (c->stop)
			break;
		seen = c->gen;
		pthread_mutex_unlock(&c->lock);
		batch_work(c, &w->st);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Hash the n whole chunks at p in parallel and push their roots. */
static void batch_run(struct commp *c, const uint8_t *p, size_t n)
{
	assert(n <= BATCH_MAX && c->buf_len == 0);
	assert((c->st.quads & (CHUNK_QUADS - 1)) == 0);
	pthread_mutex_lock(&c->lock);
	c->batch = p;
	c->nchunks = n;
	c->next = 0;
	c->ndone = 0;
	c->gen++;
	pthread_cond_broadcast(&c->work);
	pthread_mutex_unlock(&c->lock);

	batch_work(c, &c->workers[0].st);

	pthread_mutex_lock(&c->lock);
	while (c->ndone < c->nchunks)
		pthread_cond_wait(&c->done, &c->lock);
	c->batch = NULL;
	c->nchunks = 0;
	pthread_mutex_unlock(&c->lock);

	for (size_t i = 0; i < n; i++) {
		memcpy(stack_slot(&c->st, CHUNK_LEVEL), c->roots[i], NODE);
		stack_settle(&c->st, CHUNK_LEVEL);
	}
}

/*
 * The part of p[0..len) worth sharing out: single quads up to a chunk
 * boundary, then batches of whole chunks.  Returns the bytes consumed.
 */
static size_t update_parallel(struct commp *c, const uint8_t *p, size_t len)
{
	uint64_t lead = -c->st.quads & (CHUNK_QUADS - 1);
	size_t used;

	if (len / QUAD < lead || len - lead * QUAD < 2 * COMMP_CHUNK_BYTES)
		return 0;
	stack_push_quads(&c->st, p, lead);
	used = lead * QUAD;
	while (len - used >= 2 * COMMP_CHUNK_BYTES) {
		size_t n = (len - used) / COMMP_CHUNK_BYTES;

		if (n > BATCH_MAX)
			n = BATCH_MAX;
		batch_run(c, p + used, n);
		used += n * COMMP_CHUNK_BYTES;
	}
	return used;
}

static void commp_stop(struct commp *c, unsigned started)
{
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_broadcast(&c->work);
	pthread_mutex_unlock(&c->lock);
	for (unsigned i = 1; i <= started; i++)
		pthread_join(c->workers[i].tid, NULL);
	pthread_cond_destroy(&c->done);
	pthread_cond_destroy(&c->work);
	pthread_mutex_destroy(&c->lock);
}

static int commp_start(struct commp *c)
{
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->work, NULL);
	pthread_cond_init(&c->done, NULL);
	for (unsigned i = 1; i < c->nthreads; i++) {
		int rc = pthread_create(&c->workers[i].tid, NULL, worker_main,
					&c->workers[i]);

		if (rc) {
			commp_stop(c, i - 1);
			return efs_error_set_errno(EFS_ERROR, rc,
						   "commp: starting thread %u",
						   i);
		}
	}
	return 0;
}

static void commp_init(struct commp *c, unsigned nthreads)
{
	pthread_once(&zero_once, zero_init);
	stack_init(&c->st);
	c->payload = 0;
	c->buf_len = 0;
	c->nthreads = nthreads;
	for (unsigned i = 0; nthreads > 1 && i < nthreads; i++) {
		c->workers[i].c = c;
		stack_init(&c->workers[i].st);
	}
}

int commp_new(struct commp **out, unsigned threads)
{
	struct commp *c;
	size_t workers;
	int error;

	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (unsigned)n : 1;
	}
	if (threads > THREADS_MAX)
		threads = THREADS_MAX;
	workers = threads > 1 ? threads : 0;
	c = efs_calloc(1, sizeof(*c) + workers * sizeof(c->workers[0]));
	if (!c)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	commp_init(c, threads);
	if (threads > 1 && (error = commp_start(c)) < 0) {
		efs_free(c);
		return error;
	}
	*out = c;
	return 0;
}

void commp_free(struct commp *c)
{
	if (!c)
		return;
	if (c->nthreads > 1)
		commp_stop(c, c->nthreads - 1);
	efs_free(c);
}

void commp_reset(struct commp *c)
{
	c->st.quads = 0;
	c->payload = 0;
	c->buf_len = 0;
}

int commp_update(struct commp *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (len > COMMP_PAYLOAD_MAX - c->payload)
		return efs_error_set(EFS_ETOOBIG,
				     "commp: payload over %llu bytes",
				     (unsigned long long)COMMP_PAYLOAD_MAX);
	if (len == 0)
		return 0;
	c->payload += len;
	if (c->buf_len) {
		size_t n = QUAD - c->buf_len < len ? QUAD - c->buf_len : len;

		memcpy(c->buf + c->buf_len, p, n);
		c->buf_len += n;
		p += n;
		len -= n;
		if (c->buf_len < QUAD)
			return 0;
		stack_push_quads(&c->st, c->buf, 1);
		c->buf_len = 0;
	}
	if (c->nthreads > 1) {
		size_t used = update_parallel(c, p, len);

		p += used;
		len -= used;
	}
	stack_push_quads(&c->st, p, len / QUAD);
	p += len / QUAD * QUAD;
	len %= QUAD;
	if (len)
		memcpy(c->buf, p, len);
	c->buf_len = len;
	return 0;
}

static unsigned ceil_log2(uint64_t n)
{
	return n <= 1 ? 0 : 64 - (unsigned)__builtin_clzll(n - 1);
}

/* The node over left || right; out may alias either. */
static void pair_hash(uint8_t out[NODE], const uint8_t *left,
		      const uint8_t *right)
{
	uint8_t blk[BLOCK];

	block_init(blk);
	memcpy(blk, left, NODE);
	memcpy(blk + NODE, right, NODE);
	node_hash(out, blk);
}

/* The node of the last, unfinished quad: its bytes, zero-padded. */
static void tail_hash(uint8_t out[NODE], const struct commp *c)
{
	uint8_t blk[2][BLOCK];
	uint8_t in[QUAD] = { 0 };

	if (c->payload == 0) {
		memcpy(out, zero_node[2], NODE);
		return;
	}
	memcpy(in, c->buf, c->buf_len);
	block_init(blk[0]);
	block_init(blk[1]);
	group_hash(out, blk, in, 1);
}

/* Fill out's sizes from height and payload; padding must not underflow. */
static void piece_sizes(struct commp_piece *out, unsigned height,
			uint64_t payload)
{
	out->height = height;
	out->padded_size = (uint64_t)NODE << height;
	out->unpadded_size = out->padded_size / 128 * 127;
	out->payload_size = payload;
	out->padding = out->unpadded_size - payload;
}

void commp_finish(struct commp_piece *out, const struct commp *c)
{
	const struct stack *s = &c->st;
	uint64_t n = s->quads;
	uint8_t cur[NODE];
	bool have = false;
	unsigned height;

	if (c->buf_len || c->payload == 0) {
		tail_hash(cur, c);
		have = true;
		n++;
	}
	height = 2 + ceil_log2(n);
	for (unsigned l = 2; l < height; l++) {
		const uint8_t *left = s->level[l - 2];

		if (s->quads >> (l - 2) & 1) {
			pair_hash(cur, left, have ? cur : zero_node[l]);
			have = true;
		} else if (have) {
			pair_hash(cur, cur, zero_node[l]);
		}
	}
	if (!have)
		memcpy(cur, s->level[height - 2], NODE);
	memcpy(out->root, cur, NODE);
	piece_sizes(out, height, c->payload);
}

int commp_compute(struct commp_piece *out, const void *data, size_t len)
{
	struct commp c; /* one thread: no workers[] */
	int error;

	commp_init(&c, 1);
	if ((error = commp_update(&c, data, len)) < 0)
		return error;
	commp_finish(out, &c);
	return 0;
}

bool commp_padded_valid(uint64_t padded)
{
	return padded >= COMMP_PADDED_MIN &&
	       padded <= (uint64_t)NODE << COMMP_HEIGHT_MAX &&
	       (padded & (padded - 1)) == 0;
}

bool commp_unpadded_valid(uint64_t unpadded)
{
	return unpadded % 127 == 0 &&
	       unpadded / 127 <= UINT64_MAX / 128 &&
	       commp_padded_valid(unpadded / 127 * 128);
}

uint64_t commp_unpadded_size(uint64_t payload)
{
	uint64_t quads;

	if (payload > COMMP_PAYLOAD_MAX)
		return 0;
	quads = (payload + QUAD - 1) / QUAD;
	return (uint64_t)QUAD << ceil_log2(quads ? quads : 1);
}

uint64_t commp_padded_size(uint64_t payload)
{
	return commp_unpadded_size(payload) / 127 * 128;
}

uint64_t commp_unpadded_of_padded(uint64_t padded)
{
	return commp_padded_valid(padded) ? padded / 128 * 127 : 0;
}

uint64_t commp_padded_of_unpadded(uint64_t unpadded)
{
	return commp_unpadded_valid(unpadded) ? unpadded / 127 * 128 : 0;
}

unsigned commp_height_of_padded(uint64_t padded)
{
	if (!commp_padded_valid(padded))
		return 0;
	return (unsigned)__builtin_ctzll(padded) - 5;
}

int commp_piece_init(struct commp_piece *out,
		     const uint8_t root[COMMP_NODE_SIZE], uint64_t padded_size,
		     uint64_t payload_size)
{
	if (!commp_padded_valid(padded_size))
		return efs_error_set(EFS_EINVAL, "commp: padded size %llu",
				     (unsigned long long)padded_size);
	if (payload_size > padded_size / 128 * 127)
		return efs_error_set(EFS_EINVAL,
				     "commp: payload of %llu bytes over "
				     "piece of %llu",
				     (unsigned long long)payload_size,
				     (unsigned long long)padded_size);
	if (root[NODE - 1] & 0xc0)
		return efs_error_set(EFS_EINVAL,
				     "commp: root is not a tree node");
	memcpy(out->root, root, NODE);
	piece_sizes(out, commp_height_of_padded(padded_size), payload_size);
	return 0;
}

void commp_cid_v1(struct cid *out, const struct commp_piece *p)
{
	int error = cid_init(out, 1, CID_CODEC_FIL_COMMITMENT_UNSEALED,
			     MHASH_SHA2_256_TRUNC254_PADDED, p->root, NODE);

	assert(error == 0);
	(void)error;
}

void commp_cid_v2(struct cid *out, const struct commp_piece *p)
{
	uint8_t digest[VARINT_MAX_LEN + 1 + NODE];
	size_t n = varint_encode(digest, p->padding);
	int error;

	digest[n++] = (uint8_t)p->height;
	memcpy(digest + n, p->root, NODE);
	n += NODE;
	error = cid_init(out, 1, CID_CODEC_RAW,
			 MHASH_FR32_SHA256_TRUNC254_PADBINTREE, digest, n);
	assert(error == 0);
	(void)error;
}

bool commp_cid_is_v1(const struct cid *id)
{
	return id->version == 1 &&
	       id->codec == CID_CODEC_FIL_COMMITMENT_UNSEALED &&
	       id->hash == MHASH_SHA2_256_TRUNC254_PADDED &&
	       id->digest_len == NODE;
}

bool commp_cid_is_v2(const struct cid *id)
{
	return id->version == 1 && id->codec == CID_CODEC_RAW &&
	       id->hash == MHASH_FR32_SHA256_TRUNC254_PADBINTREE;
}

int commp_piece_from_cid(struct commp_piece *out, const struct cid *id)
{
	const uint8_t *d = id->digest;
	uint64_t padding;
	size_t used;
	unsigned height;

	if (!commp_cid_is_v2(id))
		return efs_error_set(EFS_EINVAL, "commp: not a piece cid v2");
	if (varint_decode(&padding, &used, d, id->digest_len) < 0)
		return efs_error_set(EFS_ECORRUPT,
				     "commp: bad padding in piece cid v2");
	if (id->digest_len != used + 1 + NODE)
		return efs_error_set(EFS_ECORRUPT,
				     "commp: piece cid v2 digest of %u bytes",
				     (unsigned)id->digest_len);
	height = d[used];
	if (height < 2)
		return efs_error_set(EFS_ECORRUPT,
				     "commp: piece cid v2 height %u", height);
	if (height > COMMP_HEIGHT_MAX)
		return efs_error_set(EFS_EUNSUPPORTED,
				     "commp: piece cid v2 height %u (max %d)",
				     height, COMMP_HEIGHT_MAX);
	if (d[used + NODE] & 0xc0)
		return efs_error_set(EFS_ECORRUPT,
				     "commp: piece cid v2 root is not a node");
	if (padding > ((uint64_t)NODE << height) / 128 * 127)
		return efs_error_set(EFS_ECORRUPT,
				     "commp: piece cid v2 padding %llu over "
				     "height %u",
				     (unsigned long long)padding, height);
	memcpy(out->root, d + used + 1, NODE);
	piece_sizes(out, height,
		    ((uint64_t)NODE << height) / 128 * 127 - padding);
	return 0;
}

int commp_piece_parse(struct commp_piece *out, const char *s)
{
	struct cid id;
	int error;

	if ((error = cid_parse(&id, s)) < 0)
		return error;
	return commp_piece_from_cid(out, &id);
}

void commp_node_hash(uint8_t out[COMMP_NODE_SIZE], const uint8_t *left,
		     const uint8_t *right)
{
	pair_hash(out, left, right);
}

const uint8_t *commp_zero_node(unsigned height)
{
	assert(height <= COMMP_HEIGHT_MAX);
	pthread_once(&zero_once, zero_init);
	return zero_node[height];
}

void commp_fr32_pad(uint8_t out[128], const uint8_t in[QUAD])
{
	fr32_pad(out, out + 2 * NODE, in);
}

/*
 * Leaf k's 254 bits go to bit 254k of the quad: byte 254k / 8, shifted
 * left by 254k % 8 (0, 6, 4, 2).
 */
void commp_fr32_unpad(uint8_t out[QUAD], const uint8_t in[128])
{
	memset(out, 0, QUAD);
	for (unsigned k = 0; k < 4; k++) {
		const uint8_t *leaf = in + k * NODE;
		unsigned at = 254 * k / 8, shift = 254 * k % 8;

		for (unsigned j = 0; j < NODE; j++) {
			uint8_t b = j == NODE - 1 ? leaf[j] & 0x3f : leaf[j];

			out[at + j] |= (uint8_t)(b << shift);
			if (shift && at + j + 1 < QUAD)
				out[at + j + 1] |= (uint8_t)(b >> (8 - shift));
		}
	}
}
