/*
 * filmsg.h - Filecoin chain messages: the unsigned message, its signature
 * and the signed message, in the CBOR that Lotus writes (cbor-gen, Lotus
 * chain/types/cbor_gen.go), and their CIDs.
 *
 * A message is a 10-element CBOR array
 *
 *	[Version, To, From, Nonce, Value, GasLimit, GasFeeCap, GasPremium,
 *	 Method, Params]
 *
 * with addresses as byte strings of their byte form (filaddr.h), token
 * amounts as byte strings of bigint_to_bytes, GasLimit a signed integer,
 * Params a byte string (at most FILMSG_PARAMS_MAX bytes).  Its CID is CIDv1
 * dag-cbor blake2b-256 of those bytes, and what a wallet signs is that
 * CID's binary form.  A signed message is the array [message, signature]
 * where the signature is a byte string: type byte || signature data.  The
 * CID of a signed message is that of the signed encoding, except for BLS,
 * whose signed messages are known by the unsigned message's CID (Lotus
 * chain/types/signedmessage.go).
 *
 * Structs are owned by one thread; the functions are reentrant.
 */
#ifndef EFS_FILMSG_H
#define EFS_FILMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bigint.h"
#include "core/buf.h"
#include "core/cid.h"
#include "core/filaddr.h"
#include "core/filsig.h"

/* The only message version there is (Lotus MessageVersion). */
#define FILMSG_VERSION 0
/* Longest Params cbor-gen decodes (cbg.ByteArrayMaxLen, 2 MiB). */
#define FILMSG_PARAMS_MAX (2u << 20)
/* Longest signature byte form, type byte included (SignatureMaxLength). */
#define FILMSG_SIG_BYTES_MAX 200
#define FILMSG_SIG_DATA_MAX (FILMSG_SIG_BYTES_MAX - 1)

/*
 * Method numbers of the built-in actors (go-state-types builtin/methods.go)
 * that estuaryfs and its devnet send.  Defines rather than an enum: the
 * FRC-42 numbers of exported methods do not fit an int.
 */
#define FILMSG_METHOD_SEND 0
#define FILMSG_METHOD_CONSTRUCTOR 1
/* account */
#define FILMSG_METHOD_ACCOUNT_PUBKEY_ADDRESS 2
#define FILMSG_METHOD_ACCOUNT_AUTHENTICATE_MESSAGE UINT64_C(2643134072)
/* init */
#define FILMSG_METHOD_INIT_EXEC 2
/* storage market (f05) */
#define FILMSG_METHOD_MARKET_ADD_BALANCE 2
#define FILMSG_METHOD_MARKET_WITHDRAW_BALANCE 3
#define FILMSG_METHOD_MARKET_PUBLISH_STORAGE_DEALS 4
#define FILMSG_METHOD_MARKET_VERIFY_DEALS_FOR_ACTIVATION 5
#define FILMSG_METHOD_MARKET_ACTIVATE_DEALS 6
#define FILMSG_METHOD_MARKET_ON_MINER_SECTORS_TERMINATE 7
#define FILMSG_METHOD_MARKET_CRON_TICK 9
#define FILMSG_METHOD_MARKET_ADD_BALANCE_EXPORTED UINT64_C(822473126)
#define FILMSG_METHOD_MARKET_WITHDRAW_BALANCE_EXPORTED UINT64_C(2280458852)
#define FILMSG_METHOD_MARKET_PUBLISH_STORAGE_DEALS_EXPORTED \
	UINT64_C(2236929350)
/* storage power (f04) */
#define FILMSG_METHOD_POWER_CREATE_MINER 2
/* storage miner */
#define FILMSG_METHOD_MINER_CONTROL_ADDRESSES 2
#define FILMSG_METHOD_MINER_CHANGE_WORKER_ADDRESS 3
#define FILMSG_METHOD_MINER_CHANGE_PEER_ID 4
#define FILMSG_METHOD_MINER_SUBMIT_WINDOWED_POST 5
#define FILMSG_METHOD_MINER_PRE_COMMIT_SECTOR 6
#define FILMSG_METHOD_MINER_PROVE_COMMIT_SECTOR 7
#define FILMSG_METHOD_MINER_WITHDRAW_BALANCE 16
#define FILMSG_METHOD_MINER_CHANGE_MULTIADDRS 18
#define FILMSG_METHOD_MINER_PRE_COMMIT_SECTOR_BATCH2 28
#define FILMSG_METHOD_MINER_PROVE_COMMIT_SECTORS3 34
/* verified registry (f06) */
#define FILMSG_METHOD_VERIFREG_ADD_VERIFIER 2
#define FILMSG_METHOD_VERIFREG_REMOVE_VERIFIER 3
#define FILMSG_METHOD_VERIFREG_ADD_VERIFIED_CLIENT 4
/* datacap (f07) */
#define FILMSG_METHOD_DATACAP_TRANSFER_EXPORTED UINT64_C(80475954)
/* EVM contracts: a plain send to an f410 address uses this */
#define FILMSG_METHOD_EVM_INVOKE_CONTRACT UINT64_C(3844450837)

struct filmsg {
	uint64_t version;          /* FILMSG_VERSION */
	struct filaddr to;
	struct filaddr from;
	uint64_t nonce;
	struct bigint value;       /* attoFIL */
	int64_t gas_limit;
	struct bigint gas_fee_cap;
	struct bigint gas_premium;
	uint64_t method;           /* FILMSG_METHOD_* */
	uint8_t *params;           /* owned (efs_malloc); NULL when empty */
	size_t params_len;
};

/*
 * A signature as a signed message carries it: the type (enum filsig_type,
 * core/filsig.h) and data of any length up to FILMSG_SIG_DATA_MAX, as
 * Lotus decodes it; struct filsig is the strict form that can be
 * verified (filmsg_sig_to_filsig).  A plain value (copy it with =).
 */
struct filmsg_sig {
	enum filsig_type type;
	size_t len;
	uint8_t data[FILMSG_SIG_DATA_MAX];
};

struct filmsg_signed {
	struct filmsg msg;
	struct filmsg_sig sig;
};

/* A message of version 0 with every field zero and no params. */
void filmsg_init(struct filmsg *m);

/* Free the params; m is then as after filmsg_init. */
void filmsg_release(struct filmsg *m);

/*
 * Replace the params with a copy of p[0..len).  Returns 0, EFS_ETOOBIG
 * (over FILMSG_PARAMS_MAX) or EFS_ENOMEM; m is unchanged on failure.
 */
int filmsg_set_params(struct filmsg *m, const void *p, size_t len);

/* A deep copy of src into out (release it).  0 or EFS_ENOMEM. */
int filmsg_copy(struct filmsg *out, const struct filmsg *src);

/* Whether a and b have equal fields (params compared by content), so
 * that they encode to the same bytes and have the same CID. */
bool filmsg_equal(const struct filmsg *a, const struct filmsg *b);

/*
 * Append the CBOR of m to out.  Returns 0 or buf's errors (EFS_ENOMEM,
 * EFS_ETOOBIG past out's cap).
 */
int filmsg_encode(struct buf *out, const struct filmsg *m);

/*
 * Decode a message from p[0..len), all of it, as cbor-gen does but
 * strictly (canonical DAG-CBOR only).  Returns 0, EFS_ECORRUPT (with a
 * message naming the field: wrong type, bad address or big integer,
 * params too long, version not 0, trailing bytes) or EFS_ENOMEM.  On
 * success out owns a copy of the params; on failure out holds nothing to
 * release.
 */
int filmsg_decode(struct filmsg *out, const uint8_t *p, size_t len);

/* The message's CID (what a wallet signs, as bytes).  0 or EFS_ENOMEM. */
int filmsg_cid(struct cid *out, const struct filmsg *m);

/* Bytes of the signature's byte form: type byte || data. */
size_t filmsg_sig_to_bytes(uint8_t *out, const struct filmsg_sig *s);

/*
 * Decode the byte form p[0..len) of a signature.  Returns 0 or
 * EFS_ECORRUPT (empty, over FILMSG_SIG_BYTES_MAX, unknown type).
 */
int filmsg_sig_from_bytes(struct filmsg_sig *out, const uint8_t *p,
			  size_t len);

/*
 * The strict form of s, for filsig_verify: 0, or EFS_ECORRUPT when its
 * length is wrong for its type (filsig_from_bytes).
 */
int filmsg_sig_to_filsig(struct filsig *out, const struct filmsg_sig *s);

/* The signature s (well formed) as a message carries it. */
void filmsg_sig_from_filsig(struct filmsg_sig *out, const struct filsig *s);

/* Release the message inside sm. */
void filmsg_signed_release(struct filmsg_signed *sm);

/* Whether a and b hold equal messages (filmsg_equal) and signatures
 * (type and bytes). */
bool filmsg_signed_equal(const struct filmsg_signed *a,
			 const struct filmsg_signed *b);

/* Append the CBOR of the signed message.  As filmsg_encode. */
int filmsg_signed_encode(struct buf *out, const struct filmsg_signed *sm);

/* Decode a signed message, all of p[0..len).  As filmsg_decode. */
int filmsg_signed_decode(struct filmsg_signed *out, const uint8_t *p,
			 size_t len);

/*
 * The signed message's CID: of its encoding, or for a BLS signature of
 * the unsigned message.  0 or EFS_ENOMEM.
 */
int filmsg_signed_cid(struct cid *out, const struct filmsg_signed *sm);

#endif
