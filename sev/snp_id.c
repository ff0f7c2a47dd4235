/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SNP ID block and ID auth structure (spec/snp-measurement.md section 7; SNP ABI
 * SNP_LAUNCH_FINISH).  ECDSA P-384 with SHA-384 through OpenSSL; AMD stores every big number
 * little-endian in a 72-byte field, so R, S, Qx and Qy are converted from OpenSSL's big-endian.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cvmkit/snp.h>
#include <cvmkit/util.h>

#define SNP_ECC_FIELD 72      /* bytes of one coordinate / signature half in AMD structures */
#define SNP_CURVE_P384 2u     /* public key "curve" field */
#define SNP_ALGO_ECDSA_P384 1u /* ID auth key algorithm: ECDSA P-384 with SHA-384 */
#define SNP_SIG_SIZE 0x200
#define ID_KEY_MAX (64u << 10)  /* a PEM key file (docs/limits.md) */

/* Never let OpenSSL prompt for a passphrase on the terminal: encrypted keys are an error. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int openssl_error(struct cvm_error *err, int code, const char *what, const char *path)
{
	unsigned long e = ERR_peek_last_error();
	char detail[160] = "";
	if (e)
		ERR_error_string_n(e, detail, sizeof(detail));
	ERR_clear_error();
	return cvm_error_set(err, code, "%s %s%s%s", what, path, detail[0] ? ": " : "", detail);
}

/* Load a PEM key; private keys first, public keys too when allow_public. Checks P-384. */
static int load_p384(const char *what, const char *path, bool allow_public, EVP_PKEY **out,
		     struct cvm_error *err)
{
	struct cvm_file f;
	int rc = cvm_file_read(path, ID_KEY_MAX, &f, err);
	if (rc)
		return cvm_error_wrap(err, "%s", what);
	EVP_PKEY *pkey = NULL;
	BIO *bio = f.size <= INT_MAX ? BIO_new_mem_buf(f.data, (int)f.size) : NULL;
	if (bio)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (bio && !pkey && allow_public) {
		ERR_clear_error();
		(void)BIO_reset(bio);
		pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	}
	BIO_free(bio);
	cvm_file_close(&f);
	if (!pkey) {
		ERR_clear_error();
		return cvm_error_set(err, -EINVAL, "%s %s: no unencrypted PEM %s found", what, path,
				     allow_public ? "key" : "private key");
	}

	char group[64] = "";
	if (!EVP_PKEY_is_a(pkey, "EC")) {
		EVP_PKEY_free(pkey);
		return cvm_error_set(err, -EINVAL, "%s %s: not an EC key (ECDSA P-384 expected)", what,
				     path);
	}
	if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					    NULL) ||
	    strcmp(group, SN_secp384r1) != 0) {
		EVP_PKEY_free(pkey);
		ERR_clear_error();
		return cvm_error_set(err, -EINVAL,
				     "%s %s: curve %s, expected P-384 (secp384r1)", what, path,
				     group[0] ? group : "(unknown)");
	}
	*out = pkey;
	return 0;
}

static bool bn_to_field(const BIGNUM *bn, uint8_t out[SNP_ECC_FIELD])
{
	return BN_bn2lebinpad(bn, out, SNP_ECC_FIELD) == SNP_ECC_FIELD;
}

/* The 0x404-byte AMD public-key structure of an EC P-384 key. */
static int pubkey_struct(EVP_PKEY *pkey, const char *path, uint8_t key[CVM_SNP_PUBKEY_SIZE],
			 struct cvm_error *err)
{
	BIGNUM *x = NULL, *y = NULL;
	uint8_t tmp[CVM_SNP_PUBKEY_SIZE] = {0};
	int rc = 0;
	cvm_put_le32(tmp, SNP_CURVE_P384);
	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) || !bn_to_field(x, tmp + 4) ||
	    !bn_to_field(y, tmp + 4 + SNP_ECC_FIELD))
		rc = openssl_error(err, -EINVAL, "public key of", path);
	else
		memcpy(key, tmp, sizeof(tmp));
	BN_free(x);
	BN_free(y);
	return rc;
}

static int sha384(const uint8_t *data, size_t len, uint8_t out[CVM_SNP_DIGEST_SIZE],
		  struct cvm_error *err)
{
	if (!EVP_Digest(data, len, out, NULL, EVP_sha384(), NULL))
		return cvm_error_set(err, -EIO, "SHA-384 failed (OpenSSL)");
	return 0;
}

/* ECDSA-P384-SHA384 of msg, as the AMD signature structure (R, S little-endian). */
static int sign_p384(EVP_PKEY *pkey, const char *path, const uint8_t *msg, size_t len,
		     uint8_t sig_out[SNP_SIG_SIZE], struct cvm_error *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t der[160];
	size_t der_len = sizeof(der);
	ECDSA_SIG *sig = NULL;
	int rc = 0;
	if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha384(), NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, der, &der_len, msg, len) != 1) {
		rc = openssl_error(err, -EIO, "signing with", path);
		goto out;
	}
	const uint8_t *p = der;
	sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	const BIGNUM *r, *s;
	if (!sig) {
		rc = openssl_error(err, -EIO, "decoding the signature of", path);
		goto out;
	}
	ECDSA_SIG_get0(sig, &r, &s);
	memset(sig_out, 0, SNP_SIG_SIZE);
	if (!bn_to_field(r, sig_out) || !bn_to_field(s, sig_out + SNP_ECC_FIELD))
		rc = cvm_error_set(err, -EIO, "signature of %s does not fit 72 bytes", path);
out:
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	return rc;
}

int cvm_snp_key_from_pem(const char *path, uint8_t key[CVM_SNP_PUBKEY_SIZE],
			 uint8_t digest[CVM_SNP_DIGEST_SIZE], struct cvm_error *err)
{
	EVP_PKEY *pkey = NULL;
	uint8_t k[CVM_SNP_PUBKEY_SIZE], d[CVM_SNP_DIGEST_SIZE];
	int rc = load_p384("key", path, true, &pkey, err);
	if (rc)
		return rc;
	rc = pubkey_struct(pkey, path, k, err);
	EVP_PKEY_free(pkey);
	if (!rc)
		rc = sha384(k, sizeof(k), d, err);
	if (rc)
		return rc;
	if (key)
		memcpy(key, k, sizeof(k));
	if (digest)
		memcpy(digest, d, sizeof(d));
	return 0;
}

static void id_block_encode(const uint8_t ld[CVM_SNP_DIGEST_SIZE],
			    const struct cvm_snp_id_block_input *in, uint64_t policy,
			    uint8_t block[CVM_SNP_ID_BLOCK_SIZE])
{
	memset(block, 0, CVM_SNP_ID_BLOCK_SIZE);
	memcpy(block, ld, CVM_SNP_DIGEST_SIZE);
	memcpy(block + 0x30, in->family_id, 16);
	memcpy(block + 0x40, in->image_id, 16);
	cvm_put_le32(block + 0x50, 1); /* VERSION */
	cvm_put_le32(block + 0x54, in->guest_svn);
	cvm_put_le64(block + 0x58, policy);
}

/* Fill the author half of the ID auth: ID_KEY_SIG and AUTHOR_KEY. */
static int sign_id_key(const char *path, uint8_t *auth, uint8_t digest[CVM_SNP_DIGEST_SIZE],
		       struct cvm_error *err)
{
	EVP_PKEY *author = NULL;
	int rc = load_p384("author key", path, false, &author, err);
	if (rc)
		return rc;
	rc = pubkey_struct(author, path, auth + CVM_SNP_ID_AUTH_AUTHOR_KEY, err);
	if (!rc)
		rc = sign_p384(author, path, auth + CVM_SNP_ID_AUTH_ID_KEY, CVM_SNP_PUBKEY_SIZE,
			       auth + CVM_SNP_ID_AUTH_ID_KEY_SIG, err);
	if (!rc)
		rc = sha384(auth + CVM_SNP_ID_AUTH_AUTHOR_KEY, CVM_SNP_PUBKEY_SIZE, digest, err);
	EVP_PKEY_free(author);
	return rc;
}

int cvm_snp_id_build(const uint8_t ld[CVM_SNP_DIGEST_SIZE], const struct cvm_snp_id_block_input *in,
		     uint64_t policy, struct cvm_snp_id_result *out, struct cvm_error *err)
{
	if (!in || !in->present)
		return cvm_error_set(err, -EINVAL,
				     "no ID block inputs (the policy has no snp.id_block)");
	if (!in->id_key_path)
		return cvm_error_set(err, -EINVAL, "snp.id_block.id_key: no ID key file given");

	/* Built in a heap-free local and copied out at the end: *out only changes on success. */
	struct cvm_snp_id_result r;
	memset(&r, 0, sizeof(r));
	id_block_encode(ld, in, policy, r.id_block);

	EVP_PKEY *id_key = NULL;
	int rc = load_p384("ID key", in->id_key_path, false, &id_key, err);
	if (rc)
		return rc;
	cvm_put_le32(r.id_auth + 0x00, SNP_ALGO_ECDSA_P384);
	rc = sign_p384(id_key, in->id_key_path, r.id_block, sizeof(r.id_block),
		       r.id_auth + CVM_SNP_ID_AUTH_ID_BLOCK_SIG, err);
	if (!rc)
		rc = pubkey_struct(id_key, in->id_key_path, r.id_auth + CVM_SNP_ID_AUTH_ID_KEY, err);
	EVP_PKEY_free(id_key);
	if (!rc)
		rc = sha384(r.id_auth + CVM_SNP_ID_AUTH_ID_KEY, CVM_SNP_PUBKEY_SIZE, r.id_key_digest,
			    err);
	if (!rc && in->author_key_path) {
		cvm_put_le32(r.id_auth + 0x04, SNP_ALGO_ECDSA_P384);
		rc = sign_id_key(in->author_key_path, r.id_auth, r.author_key_digest, err);
		r.has_author_key = true;
	}
	if (rc)
		return rc;
	*out = r;
	return 0;
}

int cvm_snp_plan_attach_id_block(struct cvm_plan *plan, const struct cvm_snp_id_block_input *in,
				 const uint8_t digest[CVM_SNP_DIGEST_SIZE], struct cvm_error *err)
{
	struct cvm_snp_id_result *id = malloc(sizeof(*id));
	uint8_t *auth = malloc(CVM_SNP_ID_AUTH_SIZE);
	if (!id || !auth) {
		free(id);
		free(auth);
		return cvm_error_set(err, -ENOMEM, "out of memory");
	}
	int rc = cvm_snp_id_build(digest, in, plan->snp.policy, id, err);
	if (!rc) {
		memcpy(plan->snp.id_block, id->id_block, sizeof(plan->snp.id_block));
		memcpy(auth, id->id_auth, CVM_SNP_ID_AUTH_SIZE);
		plan->snp.auth_key_en = id->has_author_key;
	}
	free(id);
	if (rc) {
		free(auth);
		return cvm_error_wrap(err, "ID block");
	}
	if ((rc = cvm_plan_own(plan, auth, err)))
		return rc;
	plan->snp.id_auth = auth;
	plan->snp.id_block_en = true;
	return 0;
}
