/*
 * bigint.h - signed integers of up to 256 bits with exact arithmetic, for
 * Filecoin token amounts (attoFIL), storage power and DataCap.
 *
 * Filecoin's big integers travel as decimal strings in JSON
 * ("1000000000000000000") and as CBOR byte strings: empty for zero, else a
 * sign byte (0x00 positive, 0x01 negative) followed by the big-endian
 * magnitude without leading zeros.  FIL amounts: 1 FIL = 10^18 attoFIL.
 *
 * A struct bigint is a plain value (copy it with =); zero is
 * { .neg = false } with every word 0 and never negative.  Every operation
 * that could leave 256 bits fails with EFS_ERANGE and leaves out
 * unchanged.  All functions are reentrant.
 */
#ifndef EFS_BIGINT_H
#define EFS_BIGINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BIGINT_WORDS 4
/* Room for any decimal string: 78 digits, sign and NUL. */
#define BIGINT_STR_MAX 80
/* Longest CBOR byte form: sign byte + 32 magnitude bytes. */
#define BIGINT_BYTES_MAX 33
/* attoFIL per FIL. */
#define BIGINT_ATTO_PER_FIL 1000000000000000000ULL

struct bigint {
	bool neg;
	uint64_t w[BIGINT_WORDS];  /* magnitude, least significant word first */
};

void bigint_from_u64(struct bigint *out, uint64_t v);
void bigint_from_i64(struct bigint *out, int64_t v);

/*
 * The value as int64/uint64.  Returns 0 or EFS_ERANGE when it does not
 * fit (negative for to_u64).
 */
int bigint_to_i64(int64_t *out, const struct bigint *a);
int bigint_to_u64(uint64_t *out, const struct bigint *a);

bool bigint_is_zero(const struct bigint *a);
/* -1, 0 or 1 as a <, =, > b. */
int bigint_cmp(const struct bigint *a, const struct bigint *b);

/* out = a + b, a - b, a * b.  out may alias a or b.  0 or EFS_ERANGE. */
int bigint_add(struct bigint *out, const struct bigint *a,
	       const struct bigint *b);
int bigint_sub(struct bigint *out, const struct bigint *a,
	       const struct bigint *b);
int bigint_mul(struct bigint *out, const struct bigint *a,
	       const struct bigint *b);
/*
 * Truncating division as Go's big.Int.Quo/Rem (quotient rounds toward
 * zero, remainder takes a's sign).  Note that go-state-types' big.Div and
 * big.Mod are Euclidean (Go's Div/Mod) and differ for negative operands;
 * for the non-negative amounts Filecoin divides they agree.  Either output
 * may be NULL.  Returns 0 or EFS_EINVAL for b = 0.
 */
int bigint_divmod(struct bigint *quo, struct bigint *rem,
		  const struct bigint *a, const struct bigint *b);

/*
 * Parse a decimal integer s[0..len) as Go's big.Int.SetString(s, 10)
 * (what Lotus' JSON decoder uses): an optional '-' or '+', then digits
 * only (leading zeros allowed), no spaces; "-0" is zero.  Returns 0,
 * EFS_EINVAL (not a number) or EFS_ERANGE (over 256 bits).
 */
int bigint_parse(struct bigint *out, const char *s, size_t len);

/* Decimal string into out (room for BIGINT_STR_MAX); returns its length. */
size_t bigint_format(char *out, const struct bigint *a);

/* CBOR byte-string payload (room for BIGINT_BYTES_MAX); returns length. */
size_t bigint_to_bytes(uint8_t *out, const struct bigint *a);

/*
 * Decode the CBOR byte-string payload p[0..len) as go-state-types'
 * big.FromBytes does: empty is zero; otherwise a sign byte 0 or 1 and a
 * big-endian magnitude in which leading zero bytes are accepted (so [0x00]
 * and [0x01] are zero too, as in Go).  Returns 0 or EFS_ECORRUPT (sign
 * byte other than 0/1, more than 128 bytes as BigIntMaxSerializedLen, a
 * value over 256 bits).  Callers that hash or sign re-encode with
 * bigint_to_bytes, which writes the one canonical form.
 */
int bigint_from_bytes(struct bigint *out, const uint8_t *p, size_t len);

/*
 * Parse an amount of FIL as Lotus' types.ParseFIL (chain/types/fil.go)
 * does: the leading run of "-.0123456789" is a decimal number (optional
 * '-', digits with at most one '.', at least one digit: "5", "-1.5",
 * ".5", "5."; at most 50 characters); the rest, trimmed of white space
 * and compared case-insensitively, is the unit: none or "FIL", or
 * "attoFIL" / "aFIL".  Lotus accepts no other unit ("milliFIL" is an
 * error).  The value must be a whole number of attoFIL (fractional digits
 * past the 18th, or any for attoFIL, must be zeros).  out is in attoFIL.
 * Returns 0, EFS_EINVAL (with a message naming the problem: unrecognized
 * suffix, not a number, finer than an attoFIL, too long) or EFS_ERANGE.
 */
int bigint_parse_fil(struct bigint *out, const char *s, size_t len);

/*
 * Format attoFIL a as Lotus' types.FIL.String does: the value in FIL
 * with trailing fractional zeros removed and " FIL" appended ("0 FIL",
 * "1.5 FIL", "0.000000000000000001 FIL").  out has room for
 * BIGINT_STR_MAX + 8 bytes; returns the length.
 */
size_t bigint_format_fil(char *out, const struct bigint *a);

#endif
