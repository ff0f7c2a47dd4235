/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: AMD revocation (sev/snp_revocation.c) in SNP verdicts.  No real AMD CRL is among
 * the vectors (KDS serves them, none was captured), so the chain is made here: a local RSA-PSS
 * "ARK-Milan" (the verifier's only Milan trust anchor in these tests), an "SEV-Milan" ASK it
 * signs, a P-384 "SEV-VCEK" with AMD's extensions, an SNP report that VCEK signs, and CRLs the
 * local ARK signs (or others do, wrongly).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cvmkit/util.h>
#include <cvmkit/verify.h>

#include "sev/snp_verify_internal.h"

#define T0 1748736000 /* 2025-06-01T00:00:00Z */
#define DAY 86400

static const uint8_t chip_id[64] = {0xc1, 0xd2, 0xe3, 0xf4, 0x05, 0x16, 0x27, 0x38};

struct world {
	EVP_PKEY *ark_key, *ask_key, *vcek_key, *other_key;
	X509 *ark, *ask, *vcek;
	struct cvm_snp_report report;
};

/* ---- making certificates, CRLs and a report ---- */

static EVP_PKEY *rsa_key(void)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	assert_non_null(k);
	return k;
}

/* A signing context: RSASSA-PSS (hash, MGF1 hash, salt) or, pss false, PKCS#1 v1.5 SHA-384. */
static EVP_MD_CTX *rsa_signer(EVP_PKEY *key, bool pss, const EVP_MD *md, int salt)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, md, NULL, key), 1);
	if (pss) {
		assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0);
	}
	return ctx;
}

static X509_NAME *amd_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();
	assert_true(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
					       (const unsigned char *)"Advanced Micro Devices", -1,
					       -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn,
					       -1, -1, 0));
	return n;
}

static void add_ext_der(X509 *x, const char *oid, const uint8_t *der, size_t len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	assert_true(ASN1_OCTET_STRING_set(os, der, (int)len));
	X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
}

static void add_spl(X509 *x, const char *oid, uint8_t v)
{
	uint8_t der[] = {0x02, 0x01, v};
	add_ext_der(x, oid, der, sizeof(der));
}

static X509 *make_cert(const char *cn, const char *issuer_cn, long serial, EVP_PKEY *subject_key,
		       EVP_PKEY *issuer_key, bool vcek)
{
	X509 *x = X509_new();
	assert_true(X509_set_version(x, 2));
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME *s = amd_name(cn), *i = amd_name(issuer_cn);
	assert_true(X509_set_subject_name(x, s) && X509_set_issuer_name(x, i));
	X509_NAME_free(s);
	X509_NAME_free(i);
	ASN1_TIME_set(X509_getm_notBefore(x), T0 - 365 * DAY);
	ASN1_TIME_set(X509_getm_notAfter(x), T0 + 365 * DAY);
	assert_true(X509_set_pubkey(x, subject_key));
	if (vcek) {
		add_spl(x, "1.3.6.1.4.1.3704.1.3.1", 3);   /* blSPL */
		add_spl(x, "1.3.6.1.4.1.3704.1.3.2", 0);   /* teeSPL */
		add_spl(x, "1.3.6.1.4.1.3704.1.3.3", 8);   /* snpSPL */
		add_spl(x, "1.3.6.1.4.1.3704.1.3.8", 115); /* ucodeSPL */
		uint8_t hwid[66] = {0x04, 0x40};
		memcpy(hwid + 2, chip_id, 64);
		add_ext_der(x, "1.3.6.1.4.1.3704.1.4", hwid, sizeof(hwid));
	}
	EVP_MD_CTX *ctx = rsa_signer(issuer_key, true, EVP_sha384(), 48);
	assert_true(X509_sign_ctx(x, ctx) > 0);
	EVP_MD_CTX_free(ctx);
	return x;
}

/* A v2 report with that CHIP_ID and REPORTED_TCB bl 3 tee 0 snp 8 ucode 115, signed by key. */
static void make_report(EVP_PKEY *key, struct cvm_snp_report *out)
{
	uint8_t raw[CVM_SNP_REPORT_SIZE] = {0};
	cvm_put_le32(raw + 0x00, 2);
	cvm_put_le64(raw + 0x08, 0x30000);
	cvm_put_le32(raw + 0x34, 1); /* ECDSA P-384 with SHA-384 */
	static const uint8_t tcb[8] = {3, 0, 0, 0, 0, 0, 8, 115};
	memcpy(raw + 0x38, tcb, 8);
	memcpy(raw + 0x180, tcb, 8);
	memcpy(raw + 0x1e0, tcb, 8);
	memcpy(raw + 0x1f0, tcb, 8);
	memcpy(raw + 0x1a0, chip_id, 64);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[128];
	size_t siglen = sizeof(sig);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha384(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, raw, CVM_SNP_SIGNED_SIZE), 1);
	EVP_MD_CTX_free(ctx);
	const unsigned char *p = sig;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
	assert_non_null(es);
	uint8_t be[48];
	const BIGNUM *r, *s;
	ECDSA_SIG_get0(es, &r, &s);
	const BIGNUM *parts[] = {r, s};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(BN_bn2binpad(parts[i], be, 48), 48);
		for (int j = 0; j < 48; j++)
			raw[0x2a0 + 72 * i + j] = be[47 - j]; /* little-endian, zero-padded to 72 */
	}
	ECDSA_SIG_free(es);
	assert_int_equal(cvm_snp_report_parse(raw, sizeof(raw), out, NULL), 0);
}

struct crl_spec {
	EVP_PKEY *key;
	const char *issuer;
	bool pss;
	const EVP_MD *md;
	int salt;
	time_t last, next;
	long revoked[2];
	size_t nrevoked;
	bool pem;
};

static uint8_t *make_crl(const struct crl_spec *s, size_t *len)
{
	X509_CRL *crl = X509_CRL_new();
	X509_NAME *name = amd_name(s->issuer);
	assert_true(X509_CRL_set_version(crl, 1) && X509_CRL_set_issuer_name(crl, name));
	X509_NAME_free(name);
	ASN1_TIME *a = ASN1_TIME_set(NULL, s->last), *b = ASN1_TIME_set(NULL, s->next);
	assert_true(X509_CRL_set1_lastUpdate(crl, a) && X509_CRL_set1_nextUpdate(crl, b));
	for (size_t i = 0; i < s->nrevoked; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *serial = ASN1_INTEGER_new();
		ASN1_INTEGER_set(serial, s->revoked[i]);
		assert_true(X509_REVOKED_set_serialNumber(r, serial));
		assert_true(X509_REVOKED_set_revocationDate(r, a));
		assert_true(X509_CRL_add0_revoked(crl, r));
		ASN1_INTEGER_free(serial);
	}
	assert_true(X509_CRL_sort(crl));
	EVP_MD_CTX *ctx = rsa_signer(s->key, s->pss, s->md ? s->md : EVP_sha384(),
				     s->salt ? s->salt : 48);
	assert_true(X509_CRL_sign_ctx(crl, ctx) > 0);
	EVP_MD_CTX_free(ctx);
	uint8_t *out = NULL;
	if (s->pem) {
		BIO *bio = BIO_new(BIO_s_mem());
		assert_true(PEM_write_bio_X509_CRL(bio, crl));
		char *p;
		long n = BIO_get_mem_data(bio, &p);
		out = malloc((size_t)n);
		memcpy(out, p, (size_t)n);
		*len = (size_t)n;
		BIO_free(bio);
	} else {
		int n = i2d_X509_CRL(crl, &out);
		assert_true(n > 0);
		*len = (size_t)n;
	}
	ASN1_TIME_free(a);
	ASN1_TIME_free(b);
	X509_CRL_free(crl);
	return out;
}

static struct crl_spec good_crl(struct world *w)
{
	return (struct crl_spec){.key = w->ark_key, .issuer = "ARK-Milan", .pss = true,
				 .last = T0 - DAY, .next = T0 + 7 * DAY};
}

static int world_setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	w->ark_key = rsa_key();
	w->ask_key = rsa_key();
	w->other_key = rsa_key();
	w->vcek_key = EVP_EC_gen("P-384");
	w->ark = make_cert("ARK-Milan", "ARK-Milan", 1, w->ark_key, w->ark_key, false);
	w->ask = make_cert("SEV-Milan", "ARK-Milan", 0x1234, w->ask_key, w->ark_key, false);
	w->vcek = make_cert("SEV-VCEK", "SEV-Milan", 0x77, w->vcek_key, w->ask_key, true);
	make_report(w->vcek_key, &w->report);
	*state = w;
	return 0;
}

static int world_teardown(void **state)
{
	struct world *w = *state;
	X509_free(w->ark);
	X509_free(w->ask);
	X509_free(w->vcek);
	EVP_PKEY_free(w->ark_key);
	EVP_PKEY_free(w->ask_key);
	EVP_PKEY_free(w->vcek_key);
	EVP_PKEY_free(w->other_key);
	free(w);
	return 0;
}

static void add_x509(struct cvm_verifier *v, X509 *x, bool trusted)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	assert_true(n > 0);
	if (trusted)
		assert_int_equal(cvm_verifier_add_trusted_der(v, der, (size_t)n, "local ARK", NULL), 0);
	else
		assert_int_equal(cvm_verifier_add_endorsements(v, der, (size_t)n, "local", NULL), 1);
	OPENSSL_free(der);
}

/* A verifier whose only AMD trust anchor is the local ARK, holding the local ASK and VCEK. */
static struct cvm_verifier *local_verifier(struct world *w)
{
	struct cvm_verifier *v;
	assert_int_equal(cvm_verifier_new(&v, NULL), 0);
	for (size_t i = 0; i < v->ncerts; i++)
		v->certs[i]->trusted = false;
	add_x509(v, w->ark, true);
	add_x509(v, w->ask, false);
	add_x509(v, w->vcek, false);
	return v;
}

static void add_crl(struct cvm_verifier *v, const struct crl_spec *s)
{
	size_t len;
	uint8_t *crl = make_crl(s, &len);
	struct cvm_error err;
	cvm_error_clear(&err);
	if (cvm_verifier_add_endorsements(v, crl, len, "milan.crl", &err) != 1)
		fail_msg("adding the CRL: %s", err.msg);
	free(crl);
}

/* Verify the local report at t; the revocation check's status, its reason in why. */
static enum cvm_check_status verify_at(struct cvm_verifier *v, struct world *w, time_t t,
				       bool required, bool *ok, char *why)
{
	struct cvm_verify_options o = {.has_time = true, .time = t, .require_revocation = required};
	struct cvm_verify_result res;
	assert_int_equal(cvm_verify_snp(v, &w->report, &o, &res, NULL), 0);
	const struct cvm_check *chain = cvm_verify_result_find(&res, "cert-chain");
	const struct cvm_check *sig = cvm_verify_result_find(&res, "signature");
	assert_non_null(chain);
	if (chain->status != CVM_CHECK_PASS || sig->status != CVM_CHECK_PASS)
		fail_msg("the local chain does not verify: %s / %s", chain->reason, sig->reason);
	const struct cvm_check *c = cvm_verify_result_find(&res, "revocation");
	assert_non_null(c);
	strcpy(why, c->reason);
	*ok = cvm_verify_result_ok(&res);
	return c->status;
}

static void assert_has(const char *s, const char *needle)
{
	if (!strstr(s, needle))
		fail_msg("\"%s\" lacks \"%s\"", s, needle);
}

/* ---- tests ---- */

static void no_crl_is_skipped_unless_required(void **state)
{
	struct world *w = *state;
	struct cvm_verifier *v = local_verifier(w);
	char why[CVM_CHECK_REASON_MAX];
	bool ok;
	assert_int_equal(verify_at(v, w, T0, false, &ok, why), CVM_CHECK_SKIP);
	assert_true(ok);
	assert_has(why, "no CRL of ARK-Milan");
	assert_int_equal(verify_at(v, w, T0, true, &ok, why), CVM_CHECK_FAIL);
	assert_false(ok);
	cvm_verifier_free(v);
}

static void a_crl_revoking_nothing_passes(void **state)
{
	struct world *w = *state;
	struct cvm_verifier *v = local_verifier(w);
	struct crl_spec s = good_crl(w);
	s.revoked[0] = 0x9999; /* somebody else */
	s.nrevoked = 1;
	add_crl(v, &s);
	char why[CVM_CHECK_REASON_MAX];
	bool ok;
	assert_int_equal(verify_at(v, w, T0, true, &ok, why), CVM_CHECK_PASS);
	assert_true(ok);
	assert_has(why, "neither the ASK nor the VCEK is revoked by the CRL of ARK-Milan (milan.crl)");
	cvm_verifier_free(v);
}

static void a_revoked_ask_fails_the_verdict(void **state)
{
	struct world *w = *state;
	struct cvm_verifier *v = local_verifier(w);
	struct crl_spec s = good_crl(w);
	s.revoked[0] = 0x1234;
	s.nrevoked = 1;
	add_crl(v, &s);
	char why[CVM_CHECK_REASON_MAX];
	bool ok;
	assert_int_equal(verify_at(v, w, T0, false, &ok, why), CVM_CHECK_FAIL);
	assert_false(ok);
	assert_has(why, "SEV-Milan (serial 0x1234) is revoked by the CRL of ARK-Milan");
	assert_has(why, "since 2025-05-31T00:00:00Z");
	cvm_verifier_free(v);
}

static void a_revoked_vcek_fails_the_verdict(void **state)
{
	struct world *w = *state;
	struct cvm_verifier *v = local_verifier(w);
	struct crl_spec s = good_crl(w);
	s.revoked[0] = 0x77;
	s.nrevoked = 1;
	s.pem = true;
	add_crl(v, &s);
	char why[CVM_CHECK_REASON_MAX];
	bool ok;
	assert_int_equal(verify_at(v, w, T0, false, &ok, why), CVM_CHECK_FAIL);
	assert_false(ok);
	assert_has(why, "SEV-VCEK (serial 0x77) is revoked");
	cvm_verifier_free(v);
}

static void the_window_is_enforced(void **state)
{
	struct world *w = *state;
	struct cvm_verifier *v = local_verifier(w);
	struct crl_spec s = good_crl(w);
	add_crl(v, &s);
	char why[CVM_CHECK_REASON_MAX];
	bool ok;
	assert_int_equal(verify_at(v, w, T0 + 7 * DAY, false, &ok, why), CVM_CHECK_FAIL);
	assert_has(why, "is valid 2025-05-31T00:00:00Z..2025-06-08T00:00:00Z, not at 2025-06-08");
	assert_int_equal(verify_at(v, w, T0 - 2 * DAY, false, &ok, why), CVM_CHECK_FAIL);
	assert_false(ok);
	assert_int_equal(verify_at(v, w, T0 + 6 * DAY, false, &ok, why), CVM_CHECK_PASS);
	cvm_verifier_free(v);
}

static void only_the_arks_pss_sha384_signature_counts(void **state)
{
	struct world *w = *state;
	struct {
		struct crl_spec spec;
		const char *needle;
	} cases[] = {
		{{.key = w->other_key, .pss = true}, "its signature does not verify with the ARK's key"},
		{{.key = w->ark_key, .pss = true, .md = EVP_sha256(), .salt = 32},
		 "not signed with RSASSA-PSS SHA-384"},
		{{.key = w->ark_key, .pss = true, .salt = 20}, "not signed with RSASSA-PSS SHA-384"},
		{{.key = w->ark_key, .pss = false}, "not signed with RSASSA-PSS SHA-384"},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
		struct cvm_verifier *v = local_verifier(w);
		struct crl_spec s = cases[i].spec;
		s.issuer = "ARK-Milan";
		s.last = T0 - DAY;
		s.next = T0 + DAY;
		add_crl(v, &s);
		char why[CVM_CHECK_REASON_MAX];
		bool ok;
		assert_int_equal(verify_at(v, w, T0, false, &ok, why), CVM_CHECK_FAIL);
		assert_false(ok);
		assert_has(why, cases[i].needle);
		cvm_verifier_free(v);
	}
}

static void crls_of_other_issuers_are_not_this_chains(void **state)
{
	struct world *w = *state;
	struct cvm_verifier *v = local_verifier(w);
	struct crl_spec s = good_crl(w);
	s.issuer = "ARK-Genoa";
	s.revoked[0] = 0x1234;
	s.nrevoked = 1;
	add_crl(v, &s);
	char why[CVM_CHECK_REASON_MAX];
	bool ok;
	assert_int_equal(verify_at(v, w, T0, false, &ok, why), CVM_CHECK_SKIP);
	assert_true(ok);
	/* Not an ARK's CRL at all: the SNP side leaves it (TDX collateral takes it). */
	s.issuer = "Intel SGX PCK Platform CA";
	size_t len;
	uint8_t *crl = make_crl(&s, &len);
	assert_int_equal(cvm_snp_crl_add(v, crl, len, "intel", NULL), 0);
	assert_int_equal(cvm_verifier_add_endorsements(v, crl, len, "intel", NULL), 1);
	assert_int_equal(verify_at(v, w, T0, false, &ok, why), CVM_CHECK_SKIP);
	free(crl);
	struct cvm_error err;
	assert_int_equal(cvm_snp_crl_add(v, (const uint8_t *)"nope", 4, "x", &err), -EINVAL);
	assert_has(err.msg, "x: not a CRL");
	assert_int_equal(cvm_verifier_add_endorsements(v, (const uint8_t *)"nope", 4, "x", &err),
			 -EINVAL);
	assert_has(err.msg, "x: not certificates (DER or PEM), a CRL or a GHCB certificate table");
	cvm_verifier_free(v);
}

static void every_crl_of_the_ark_counts(void **state)
{
	struct world *w = *state;
	/* KDS's VCEK and VLEK CRLs are both the ARK's: one listing the ASK is enough. */
	struct crl_spec other = good_crl(w), cur = good_crl(w);
	other.last = T0 - 30 * DAY;
	other.next = T0 + 30 * DAY;
	cur.revoked[0] = 0x1234;
	cur.nrevoked = 1;
	char why[CVM_CHECK_REASON_MAX];
	bool ok;
	for (int order = 0; order < 2; order++) {
		struct cvm_verifier *v = local_verifier(w);
		add_crl(v, order ? &other : &cur);
		add_crl(v, order ? &cur : &other);
		assert_int_equal(verify_at(v, w, T0, false, &ok, why), CVM_CHECK_FAIL);
		assert_has(why, "revoked");
		cvm_verifier_free(v);
	}
	/* A revocation stays one after its CRL expired; an expired CRL beside a current one is
	   no failure by itself. */
	struct crl_spec expired = good_crl(w);
	expired.last = T0 - 60 * DAY;
	expired.next = T0 - 30 * DAY;
	struct cvm_verifier *v = local_verifier(w);
	add_crl(v, &expired);
	add_crl(v, &other);
	assert_int_equal(verify_at(v, w, T0, true, &ok, why), CVM_CHECK_PASS);
	assert_has(why, "or the other CRLs of the ARK");
	cvm_verifier_free(v);
	expired.revoked[0] = 0x77;
	expired.nrevoked = 1;
	v = local_verifier(w);
	add_crl(v, &other);
	add_crl(v, &expired);
	assert_int_equal(verify_at(v, w, T0, false, &ok, why), CVM_CHECK_FAIL);
	assert_has(why, "SEV-VCEK (serial 0x77) is revoked");
	cvm_verifier_free(v);
	/* The same CRL given again (and again) is held once; distinct ones up to the cap. */
	v = local_verifier(w);
	size_t len;
	uint8_t *crl = make_crl(&other, &len);
	for (unsigned i = 0; i < 2 * CVM_SNP_MAX_CRLS; i++)
		assert_int_equal(cvm_snp_crl_add(v, crl, len, "again", NULL), 1);
	free(crl);
	assert_int_equal(verify_at(v, w, T0, false, &ok, why), CVM_CHECK_PASS);
	for (unsigned i = 1; i < CVM_SNP_MAX_CRLS; i++)
		add_crl(v, &other); /* a fresh PSS salt each time: another CRL */
	crl = make_crl(&other, &len);
	struct cvm_error err;
	assert_int_equal(cvm_snp_crl_add(v, crl, len, "one too many", &err), -E2BIG);
	assert_has(err.msg, "more than 8 AMD CRLs");
	free(crl);
	cvm_verifier_free(v);
}

static void reports_without_a_chain_say_so(void **state)
{
	struct world *w = *state;
	struct cvm_verifier *v;
	assert_int_equal(cvm_verifier_new(&v, NULL), 0); /* no VCEK at all */
	struct cvm_verify_options o = {.has_time = true, .time = T0};
	struct cvm_verify_result res;
	assert_int_equal(cvm_verify_snp(v, &w->report, &o, &res, NULL), 0);
	const struct cvm_check *c = cvm_verify_result_find(&res, "revocation");
	assert_non_null(c);
	assert_int_equal(c->status, CVM_CHECK_SKIP);
	assert_has(c->reason, "no verified certificate chain");
	cvm_verifier_free(v);
}

int main(void)
{
#define T(t) cmocka_unit_test(t)
	const struct CMUnitTest tests[] = {
		T(no_crl_is_skipped_unless_required),
		T(a_crl_revoking_nothing_passes),
		T(a_revoked_ask_fails_the_verdict),
		T(a_revoked_vcek_fails_the_verdict),
		T(the_window_is_enforced),
		T(only_the_arks_pss_sha384_signature_counts),
		T(crls_of_other_issuers_are_not_this_chains),
		T(every_crl_of_the_ark_counts),
		T(reports_without_a_chain_say_so),
	};
	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
