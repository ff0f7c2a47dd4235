/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TDX quote verification: the PCK chain carried in the quote up to the bundled Intel SGX Root CA,
 * the QE report signature by the PCK key, the binding of the attestation key to the QE report,
 * the quote signature by the attestation key, optional collateral, the verifier policy and the
 * expected measurement document.  Each step is one named check (spec/tdx-quote.md §3-§5).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <cvmkit/emit.h>

#include "tdx/tdx_verify_internal.h"

/* ECDSA-P256/SHA-256, r‖s as two 32-byte big-endian values: 1 verifies, 0 not, -1 unchecked. */
static int p256_verify(EVP_PKEY *key, const uint8_t rs[64], const uint8_t *msg, size_t len)
{
	return cvm_ecdsa_verify_rs(key, EVP_sha256(), rs, rs + 32, 32, false, msg, len);
}

/* The attestation key X‖Y as a P-256 public key; NULL when it is not a point on the curve. */
static EVP_PKEY *p256_key_from_xy(const uint8_t xy[64])
{
	uint8_t pub[65];
	pub[0] = 0x04;
	memcpy(pub + 1, xy, 64);
	EVP_PKEY *key = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (bld && ctx &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)) == 1 &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		key = NULL;
	ERR_clear_error();
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

struct pck_chain {
	struct cvm_cert *leaf, *ca, *root;
};

/* The attestation key of a quote, from the verifier's cache or made and cached (borrowed). */
static EVP_PKEY *attestation_key(struct cvm_verifier *verifier, const uint8_t xy[64])
{
	struct cvm_tdx_verifier_state *v = cvm_tdx_verifier_state(verifier);
	for (size_t i = 0; i < v->nak_cache; i++)
		if (memcmp(v->ak_cache[i].xy, xy, 64) == 0)
			return v->ak_cache[i].key;
	EVP_PKEY *key = p256_key_from_xy(xy);
	if (!key)
		return NULL;
	bool full = v->nak_cache == CVM_AK_CACHE_SIZE;
	struct cvm_ak_cache_entry *e =
		&v->ak_cache[cvm_cache_slot(&v->nak_cache, &v->ak_cache_next, CVM_AK_CACHE_SIZE)];
	if (full)
		EVP_PKEY_free(e->key);
	memcpy(e->xy, xy, 64);
	e->key = key;
	return key;
}

static bool pem_sha256(const struct cvm_tdx_quote *q, unsigned char out[32])
{
	unsigned int len = 0;
	return EVP_Digest(q->pck_chain, q->pck_chain_len, out, &len, EVP_sha256(), NULL) == 1 &&
	       len == 32;
}

static void pck_cache_put(struct cvm_tdx_verifier_state *v, const unsigned char sha[32],
			  const struct pck_chain *ch)
{
	struct cvm_pck_cache_entry *e =
		&v->pck_cache[cvm_cache_slot(&v->npck_cache, &v->pck_cache_next, CVM_PCK_CACHE_SIZE)];
	memcpy(e->pem_sha256, sha, 32);
	e->leaf = ch->leaf;
	e->ca = ch->ca;
	e->root = ch->root;
}

/* Load the quote's PEM chain into the verifier's pool (deduplicated, so links stay cached). */
static bool load_pck_chain(struct cvm_verifier *v, const struct cvm_tdx_quote *q,
			   struct pck_chain *out, char *why, size_t n)
{
	memset(out, 0, sizeof(*out));
	if (q->pck_chain_len > INT_MAX) {
		snprintf(why, n, "PCK chain too large");
		return false;
	}
	unsigned char sha[32];
	bool have_sha = pem_sha256(q, sha);
	struct cvm_tdx_verifier_state *st = cvm_tdx_verifier_state(v);
	for (size_t i = 0; have_sha && i < st->npck_cache; i++) {
		if (memcmp(st->pck_cache[i].pem_sha256, sha, 32) == 0) {
			out->leaf = st->pck_cache[i].leaf;
			out->ca = st->pck_cache[i].ca;
			out->root = st->pck_cache[i].root;
			return true;
		}
	}
	BIO *bio = BIO_new_mem_buf(q->pck_chain, (int)q->pck_chain_len);
	if (!bio) {
		snprintf(why, n, "out of memory");
		return false;
	}
	cvm_verifier_trim(v);
	struct cvm_cert *certs[3] = {NULL, NULL, NULL};
	size_t count = 0;
	X509 *x;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (count == 3) {
			X509_free(x);
			count++;
			break;
		}
		certs[count] = cvm_verifier_adopt(v, x, "quote", false);
		if (!certs[count]) {
			BIO_free(bio);
			snprintf(why, n, "out of memory");
			return false;
		}
		/* A copy of a certificate the caller gave stays; a new one is evictable. */
		if (!certs[count]->trusted && strcmp(certs[count]->origin, "quote") == 0)
			certs[count]->from_evidence = true;
		count++;
	}
	ERR_clear_error();
	BIO_free(bio);
	if (count != 3) {
		snprintf(why, n, "the quote's PCK chain holds %s%zu PEM certificates, expected 3 (PCK, CA, root)",
			 count > 3 ? "more than " : "", count > 3 ? (size_t)3 : count);
		return false;
	}
	out->leaf = certs[0];
	out->ca = certs[1];
	out->root = certs[2];
	if (have_sha)
		pck_cache_put(st, sha, out);
	return true;
}

static bool check_pck_chain(const struct pck_chain *ch, time_t t, char *why, size_t n)
{
	if (ch->leaf->role != CVM_CERT_INTEL_PCK) {
		snprintf(why, n, "first certificate of the chain is not an Intel SGX PCK Certificate");
		return false;
	}
	if (ch->ca->role != CVM_CERT_INTEL_PCK_CA) {
		snprintf(why, n, "second certificate is not an Intel SGX PCK Platform/Processor CA");
		return false;
	}
	if (ch->root->role != CVM_CERT_INTEL_ROOT || !ch->root->trusted) {
		snprintf(why, n, "the chain's root is not the bundled Intel SGX Root CA");
		return false;
	}
	if (!cvm_x509_ec_key_is(ch->leaf->x509, "prime256v1")) {
		snprintf(why, n, "PCK certificate key is not ECDSA P-256");
		return false;
	}
	return cvm_cert_link_ok(ch->leaf, ch->ca, t, "PCK certificate", why, n) &&
	       cvm_cert_link_ok(ch->ca, ch->root, t, "PCK CA", why, n) &&
	       cvm_cert_time_ok(ch->root, t, "Intel SGX Root CA", why, n);
}

static void check_qe_binding(const struct cvm_tdx_quote *q, struct cvm_verify_result *res)
{
	unsigned char digest[32];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int dlen = 0;
	bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		  EVP_DigestUpdate(md, q->attestation_key, 64) == 1 &&
		  EVP_DigestUpdate(md, q->qe_auth, q->qe_auth_len) == 1 &&
		  EVP_DigestFinal_ex(md, digest, &dlen) == 1;
	EVP_MD_CTX_free(md);
	static const uint8_t zero[32];
	if (!ok)
		cvm_check_add(res, "qe-binding", CVM_CHECK_FAIL, "SHA-256 failed");
	else if (!cvm_memeq_ct(q->qe_report.report_data, digest, 32))
		cvm_check_add(res, "qe-binding", CVM_CHECK_FAIL,
			      "QE REPORTDATA[0:32] is not SHA-256(attestation key || QE auth data)");
	else if (!cvm_memeq_ct(q->qe_report.report_data + 32, zero, 32))
		cvm_check_add(res, "qe-binding", CVM_CHECK_FAIL, "QE REPORTDATA[32:64] is not zero");
	else
		cvm_check_add(res, "qe-binding", CVM_CHECK_PASS,
			      "QE REPORTDATA binds the attestation key and %u bytes of QE auth data",
			      q->qe_auth_len);
}

/* The Intel quoting enclave's vendor ID (spec/tdx-quote.md §2). */
static const uint8_t intel_qe_vendor_id[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
					       0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

static void check_qe_vendor(const struct cvm_tdx_quote *q, struct cvm_verify_result *res)
{
	char hex[33];
	cvm_hex_encode(q->qe_vendor_id, 16, hex);
	if (memcmp(q->qe_vendor_id, intel_qe_vendor_id, 16) == 0)
		cvm_check_add(res, "qe-vendor-id", CVM_CHECK_PASS, "QE_VENDOR_ID %s is Intel's", hex);
	else
		cvm_check_add(res, "qe-vendor-id", CVM_CHECK_FAIL,
			      "QE_VENDOR_ID %s is not Intel's 939a7233f79c4ca9940a0db3957f0607", hex);
}

static void check_policy(const struct cvm_tdx_quote *q, const struct cvm_verify_options *opt,
			 struct cvm_verify_result *res)
{
	const struct cvm_tdx_td_body *b = &q->body;
	bool debug = (b->td_attributes & CVM_TDX_ATTR_DEBUG) != 0;
	if (!debug)
		cvm_check_add(res, "debug", CVM_CHECK_PASS, "TD is not debuggable (TDATTRIBUTES 0x%llx)",
			      (unsigned long long)b->td_attributes);
	else if (opt->allow_debug || cvm_verify_allows(opt, CVM_VERIFY_ALLOW_DEBUG))
		cvm_check_add(res, "debug", CVM_CHECK_PASS,
			      "TD is debuggable (TDATTRIBUTES 0x%llx; accepted: debug allowed)",
			      (unsigned long long)b->td_attributes);
	else
		cvm_check_add(res, "debug", CVM_CHECK_FAIL,
			      "TD is debuggable (TDATTRIBUTES 0x%llx has DEBUG); the verifier forbids it",
			      (unsigned long long)b->td_attributes);
	const uint8_t *min_svn = opt->has_min_tee_tcb_svn ? opt->min_tee_tcb_svn
			       : opt->rules && opt->rules->has_min_tee_tcb_svn ? opt->rules->min_tee_tcb_svn
			       : NULL;
	if (min_svn) {
		size_t i;
		for (i = 0; i < 16; i++)
			if (b->tee_tcb_svn[i] < min_svn[i])
				break;
		char have[33], want[33];
		cvm_hex_encode(b->tee_tcb_svn, 16, have);
		cvm_hex_encode(min_svn, 16, want);
		if (i == 16)
			cvm_check_add(res, "min-tee-tcb-svn", CVM_CHECK_PASS, "TEE_TCB_SVN %s >= %s", have,
				      want);
		else
			cvm_check_add(res, "min-tee-tcb-svn", CVM_CHECK_FAIL,
				      "TEE_TCB_SVN %s is below %s at byte %zu", have, want, i);
	}
	cvm_check_report_data(res, "REPORTDATA", b->report_data, opt);
}

static void match48(struct cvm_verify_result *res, const char *name, const char *field,
		    const uint8_t *have, const uint8_t *want)
{
	cvm_check_match_bytes(res, name, field, have, want, 48);
}

static void match_u64(struct cvm_verify_result *res, const char *name, const char *field,
		      uint64_t have, uint64_t want)
{
	if (have == want)
		cvm_check_add(res, name, CVM_CHECK_PASS, "%s 0x%llx as expected", field,
			      (unsigned long long)have);
	else
		cvm_check_add(res, name, CVM_CHECK_FAIL, "%s 0x%llx, expected 0x%llx", field,
			      (unsigned long long)have, (unsigned long long)want);
}

static void match_expectations(const struct cvm_tdx_quote *q, const struct cvm_measurement *m,
			       struct cvm_verify_result *res)
{
	static const char *const rtmr_names[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
	static const char *const rtmr_fields[4] = {"RTMR0", "RTMR1", "RTMR2", "RTMR3"};
	const struct cvm_tdx_td_body *b = &q->body;
	if (m->tee != CVM_TEE_TDX) {
		cvm_check_add(res, "mrtd", CVM_CHECK_FAIL, "the expected measurement document is not for TDX");
		return;
	}
	if (m->digest_len != 48)
		cvm_check_add(res, "mrtd", CVM_CHECK_FAIL, "the expected digest is %zu bytes, MRTD is 48",
			      m->digest_len);
	else
		match48(res, "mrtd", "MRTD", b->mrtd, m->digest);
	if (m->has_td_fields) {
		match_u64(res, "td-attributes", "TDATTRIBUTES", b->td_attributes, m->td_attributes);
		match_u64(res, "xfam", "XFAM", b->xfam, m->xfam);
		match48(res, "mrconfigid", "MRCONFIGID", b->mrconfigid, m->mrconfigid);
		match48(res, "mrowner", "MROWNER", b->mrowner, m->mrowner);
		match48(res, "mrownerconfig", "MROWNERCONFIG", b->mrownerconfig, m->mrownerconfig);
	}
	for (int i = 0; i < 4; i++)
		if (m->rtmr_known[i])
			match48(res, rtmr_names[i], rtmr_fields[i], b->rtmr[i], m->rtmr[i]);
}

int cvm_verify_tdx(struct cvm_verifier *v, const struct cvm_tdx_quote *q,
		   const struct cvm_verify_options *opt, struct cvm_verify_result *res,
		   struct cvm_error *err)
{
	cvm_verify_result_init(res);
	res->kind = CVM_EVIDENCE_TDX_QUOTE;
	time_t t = opt->has_time ? opt->time : time(NULL);
	cvm_check_add(res, "parse", CVM_CHECK_PASS, "TDX quote v%u, TD report body type %u (TDX %s)",
		      q->version, q->body_type, q->body_type == CVM_TDX_BODY_TDX15 ? "1.5" : "1.0");
	if (q->trailing_nonzero)
		cvm_check_add(res, "trailing-data", CVM_CHECK_FAIL,
			      "%zu bytes after the signature data are not zero", q->trailing);
	else if (q->trailing)
		cvm_check_add(res, "trailing-data", CVM_CHECK_PASS,
			      "%zu zero bytes of padding after the signature data", q->trailing);

	char why[CVM_CHECK_REASON_MAX];
	struct pck_chain ch;
	bool chain_loaded = load_pck_chain(v, q, &ch, why, sizeof(why));
	bool chain_ok = chain_loaded && check_pck_chain(&ch, t, why, sizeof(why));
	if (chain_ok)
		cvm_check_add(res, "pck-chain", CVM_CHECK_PASS,
			      "PCK certificate -> PCK CA -> Intel SGX Root CA (bundled)");
	else
		cvm_check_add(res, "pck-chain", CVM_CHECK_FAIL, "%s", why);

	if (chain_loaded) {
		int ok = p256_verify(X509_get0_pubkey(ch.leaf->x509), q->qe_report_signature,
				     q->qe_report_raw, 384);
		if (ok == 1)
			cvm_check_add(res, "qe-report-signature", CVM_CHECK_PASS,
				      "QE report signature verifies with the PCK key");
		else
			cvm_check_add(res, "qe-report-signature", CVM_CHECK_FAIL,
				      "QE report signature does not verify with the PCK key");
	} else {
		cvm_check_add(res, "qe-report-signature", CVM_CHECK_FAIL, "no PCK certificate to verify it with");
	}
	check_qe_binding(q, res);

	EVP_PKEY *ak = attestation_key(v, q->attestation_key);
	if (!ak) {
		cvm_check_add(res, "quote-signature", CVM_CHECK_FAIL,
			      "the attestation key is not a P-256 point");
	} else if (p256_verify(ak, q->quote_signature, q->signed_data, q->signed_len) == 1) {
		cvm_check_add(res, "quote-signature", CVM_CHECK_PASS,
			      "ECDSA P-256/SHA-256 over header and body (%zu bytes) verifies with the attestation key",
			      q->signed_len);
	} else {
		cvm_check_add(res, "quote-signature", CVM_CHECK_FAIL,
			      "ECDSA P-256/SHA-256 signature over header and body does not verify with the attestation key");
	}

	check_qe_vendor(q, res);
	if (chain_ok) {
		cvm_tdx_collateral_check(v, q, ch.leaf, ch.ca, ch.root, t, opt, res);
	} else {
		static const char *const after_chain[] = {"revocation", "qe-identity", "tcb-status"};
		for (size_t i = 0; i < CVM_ARRAY_SIZE(after_chain); i++)
			cvm_check_add(res, after_chain[i], CVM_CHECK_SKIP,
				      "not evaluated: the PCK chain did not verify");
	}

	check_policy(q, opt, res);
	cvm_tdx_rules_check(q, chain_ok ? ch.leaf : NULL, opt, res);
	if (opt->expect)
		match_expectations(q, opt->expect, res);
	(void)err;
	return 0;
}
