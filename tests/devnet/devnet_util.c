/*
 * devnet_util.c - signed messages, proposals and the program's state
 * files for the devnet tests (see devnet_util.h).
 */
#include "tests/devnet/devnet_util.h"

#include <stdio.h>
#include <string.h>

#include "core/cbor.h"
#include "core/error.h"

int devnet_util_signed_msg(struct filmsg_signed *out, const struct filkey *k,
			   const struct filaddr *to, uint64_t nonce,
			   uint64_t method, const char *value_atto,
			   const uint8_t *params, size_t params_len)
{
	uint8_t cb[CID_BYTES_MAX];
	struct filsig sig;
	struct cid id;
	int rc;

	memset(out, 0, sizeof(*out));
	filmsg_init(&out->msg);
	out->msg.to = *to;
	out->msg.from = k->addr;
	out->msg.nonce = nonce;
	if (bigint_parse(&out->msg.value, value_atto, strlen(value_atto)) < 0)
		return EFS_EINVAL;
	out->msg.gas_limit = 6000000;
	bigint_from_u64(&out->msg.gas_fee_cap, 200000);
	bigint_from_u64(&out->msg.gas_premium, 100000);
	out->msg.method = method;
	if (params_len &&
	    (rc = filmsg_set_params(&out->msg, params, params_len)) < 0)
		return rc;
	if ((rc = filmsg_cid(&id, &out->msg)) < 0 ||
	    (rc = filkey_sign(&sig, k, cb, cid_to_bytes(cb, &id))) < 0)
		return rc;
	filmsg_sig_from_filsig(&out->sig, &sig);
	return 0;
}

int devnet_util_add_balance(struct filmsg_signed *out, const struct filkey *k,
			    const struct filaddr *who, uint64_t nonce,
			    const char *value_atto)
{
	uint8_t ab[FILADDR_BYTES_MAX];
	struct buf p = BUF_INIT(BUF_NOCAP);
	struct filaddr market;
	int rc;

	filaddr_init_id(&market, 5);
	if ((rc = cbor_put_bytes(&p, ab, filaddr_to_bytes(ab, who))) == 0)
		rc = devnet_util_signed_msg(out, k, &market, nonce, 2,
					    value_atto, p.ptr, p.len);
	buf_release(&p);
	return rc;
}

int devnet_util_withdraw(struct filmsg_signed *out, const struct filkey *k,
			 const struct filaddr *who, uint64_t nonce,
			 const char *amount_atto)
{
	uint8_t ab[FILADDR_BYTES_MAX], bb[BIGINT_BYTES_MAX];
	struct buf p = BUF_INIT(BUF_NOCAP);
	struct filaddr market;
	struct bigint amount;
	int rc;

	filaddr_init_id(&market, 5);
	if (bigint_parse(&amount, amount_atto, strlen(amount_atto)) < 0)
		return EFS_EINVAL;
	if ((rc = cbor_put_array(&p, 2)) == 0 &&
	    (rc = cbor_put_bytes(&p, ab, filaddr_to_bytes(ab, who))) == 0 &&
	    (rc = cbor_put_bytes(&p, bb, bigint_to_bytes(bb, &amount))) == 0)
		rc = devnet_util_signed_msg(out, k, &market, nonce, 3, "0",
					    p.ptr, p.len);
	buf_release(&p);
	return rc;
}

void devnet_util_proposal(struct mk12_proposal *out,
			  const struct filaddr *client, uint64_t provider,
			  uint64_t piece_size, int64_t start, int64_t end,
			  const char *price, const char *pcoll,
			  const char *ccoll, bool verified)
{
	static const char label[] = "devnet-test";

	memset(out, 0, sizeof(*out));
	/* The v1 piece CID of 128 zero bytes (FRC-0069). */
	cid_parse(&out->piece_cid, "baga6ea4seaqgiktap34inmaex4wbs6cghlq5i2j"
				   "2yd2bb2zndn5ep7ralzphkdy");
	out->piece_size = piece_size;
	out->verified = verified;
	out->client = *client;
	filaddr_init_id(&out->provider, provider);
	out->label.data.ptr = (uint8_t *)label;
	out->label.data.len = sizeof(label) - 1;
	out->start_epoch = start;
	out->end_epoch = end;
	bigint_parse(&out->price_per_epoch, price, strlen(price));
	bigint_parse(&out->provider_collateral, pcoll, strlen(pcoll));
	bigint_parse(&out->client_collateral, ccoll, strlen(ccoll));
}

int devnet_util_read_text(char *out, size_t cap, const char *dir,
			  const char *name)
{
	char path[512];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(out, 1, cap - 1, f);
	fclose(f);
	out[n] = '\0';
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return 0;
}
