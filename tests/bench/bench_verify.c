/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Verification throughput for a batch of evidence with the chain cached, against the raw
 * signature verifies every piece of evidence needs at the least (ECDSA P-384 for an SNP report;
 * two ECDSA P-256 for a TDX quote: the quote and the QE report), done alone with OpenSSL.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cvmkit/util.h>
#include <cvmkit/verify.h>

#define SNP_BATCH 400
#define TDX_BATCH 1000
#define VERIFY_AT "2025-06-01T00:00:00Z"

struct verify_ctx {
	int batch;
	struct cvm_verifier *v;
	struct cvm_verify_options opt;
	struct cvm_file evidence;
	/* floor material */
	EVP_PKEY *key1, *key2;
	const uint8_t *msg1, *msg2;
	size_t msg1_len, msg2_len;
	uint8_t *sig1, *sig2; /* DER ECDSA-Sig-Value */
	size_t sig1_len, sig2_len;
	const EVP_MD *md;
};

static int verify_batch(void *arg)
{
	struct verify_ctx *c = arg;
	for (int i = 0; i < c->batch; i++) {
		struct cvm_verify_result res;
		struct cvm_error err;
		if (cvm_verify_evidence(c->v, c->evidence.data, c->evidence.size, &c->opt, &res, &err) ||
		    !cvm_verify_result_ok(&res))
			return -1;
	}
	return 0;
}

static int verify_one(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t len,
		      const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
		 EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int floor_batch(void *arg)
{
	struct verify_ctx *c = arg;
	for (int i = 0; i < c->batch; i++) {
		if (verify_one(c->key1, c->md, c->msg1, c->msg1_len, c->sig1, c->sig1_len))
			return -1;
		if (c->key2 && verify_one(c->key2, c->md, c->msg2, c->msg2_len, c->sig2, c->sig2_len))
			return -1;
	}
	return 0;
}

/* DER signature from big-endian r and s of n bytes each. */
static uint8_t *der_sig(const uint8_t *r, const uint8_t *s, int n, size_t *len)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = BN_bin2bn(r, n, NULL), *bs = BN_bin2bn(s, n, NULL);
	uint8_t *der = NULL;
	if (sig && br && bs && ECDSA_SIG_set0(sig, br, bs) == 1) {
		br = bs = NULL;
		int l = i2d_ECDSA_SIG(sig, &der);
		*len = l > 0 ? (size_t)l : 0;
	}
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(sig);
	return der;
}

static void reverse(uint8_t *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = in[n - 1 - i];
}

static EVP_PKEY *cert_key_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	X509 *x = f ? d2i_X509_fp(f, NULL) : NULL;
	EVP_PKEY *k = x ? X509_get_pubkey(x) : NULL;
	X509_free(x);
	if (f)
		fclose(f);
	return k;
}

static EVP_PKEY *p256_key(const uint8_t xy[64])
{
	uint8_t pub[65] = {0x04};
	memcpy(pub + 1, xy, 64);
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (b && ctx && OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
	    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)) &&
	    (params = OSSL_PARAM_BLD_to_param(b)) && EVP_PKEY_fromdata_init(ctx) == 1)
		EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

static int load_file_into_verifier(struct cvm_verifier *v, const char *path, struct cvm_error *err)
{
	struct cvm_file f;
	int rc = cvm_file_open(path, &f, err);
	if (!rc) {
		rc = cvm_verifier_add_certs(v, f.data, f.size, path, err);
		cvm_file_close(&f);
	}
	return rc < 0 ? rc : 0;
}

/* argv of `cvmkit verify` over the batch: the evidence path batch times, then the options. */
static char **cli_argv(const struct bench_env *env, const struct verify_ctx *c, const char *path,
		       const char *const *opts)
{
	static char *argv[TDX_BATCH + 16];
	size_t n = 0;
	argv[n++] = (char *)env->cli;
	argv[n++] = (char *)"verify";
	for (int i = 0; i < c->batch; i++)
		argv[n++] = (char *)path;
	for (; *opts && n < CVM_ARRAY_SIZE(argv) - 1; opts++)
		argv[n++] = (char *)*opts;
	argv[n] = NULL;
	return argv;
}

static void finish(const struct bench_env *env, struct verify_ctx *c, struct bench_result *r,
		   char **argv, const char *what)
{
	char all[64], loop[64];
	snprintf(all, sizeof(all), "cvmkit verify, %d files (CLI, %u CPUs)", c->batch, env->cpus);
	snprintf(loop, sizeof(loop), "cvm_verify_evidence x %d, 1 thread", c->batch);
	struct bench_side sides[] = {
		{.tag = "CLI", .label = all, .argv = argv},
		{.tag = "CLI 1 CPU", .label = "the same command on one CPU", .argv = argv, .one_cpu = true},
		{.tag = "library 1T", .label = loop, .fn = verify_batch, .ctx = c},
		{.tag = "raw verifies", .label = "raw signature verifies alone, 1 thread",
		 .fn = floor_batch, .ctx = c},
	};
	if (bench_compare(env, sides, 4, 0, r))
		return;
	bench_target(r, BENCH_SPEEDUP_MIN, 0, 1, 1.7, "#17");
	bench_target(r, BENCH_RATIO_MAX, 2, 3, 1.3, "#6");
	bench_note(r, "chain cached; the one-CPU run is the same process pinned to one CPU (a "
		      "different one each run), so start-up and loading are on both sides; library "
		      "loop %.0f/s, raw: %s (%.0f/s)",
		   c->batch / r->sides[2].median_s, what, c->batch / r->sides[3].median_s);
}

static void release(struct verify_ctx *c)
{
	cvm_verifier_free(c->v);
	cvm_file_close(&c->evidence);
	EVP_PKEY_free(c->key1);
	EVP_PKEY_free(c->key2);
	OPENSSL_free(c->sig1);
	OPENSSL_free(c->sig2);
}

void bench_verify_snp(const struct bench_env *env, struct bench_result *r)
{
	struct verify_ctx c = {.md = EVP_sha384(), .batch = SNP_BATCH};
	struct cvm_error err;
	char report[512], vcek[512], chain[512];
	snprintf(report, sizeof(report), "%s/vectors/attest/virtee-sev/report_milan.bin", env->shared);
	snprintf(vcek, sizeof(vcek), "%s/vectors/attest/virtee-sev/vcek_milan.der", env->shared);
	snprintf(chain, sizeof(chain), "%s/vectors/attest/virtee-sev/cert_chain_milan", env->shared);
	struct cvm_snp_report rep;
	if (cvm_file_open(report, &c.evidence, &err) || cvm_verifier_new(&c.v, &err) ||
	    load_file_into_verifier(c.v, vcek, &err) || load_file_into_verifier(c.v, chain, &err) ||
	    cvm_snp_report_parse(c.evidence.data, c.evidence.size, &rep, &err)) {
		bench_skip(r, "%s", cvm_error_message(&err));
		release(&c);
		return;
	}
	c.opt.has_time = cvm_time_parse_rfc3339(VERIFY_AT, &c.opt.time) == 0;
	uint8_t rb[48], sb[48];
	reverse(rb, rep.signature_r, 48);
	reverse(sb, rep.signature_s, 48);
	c.sig1 = der_sig(rb, sb, 48, &c.sig1_len);
	c.key1 = cert_key_file(vcek);
	c.msg1 = c.evidence.data;
	c.msg1_len = CVM_SNP_SIGNED_SIZE;
	if (!c.sig1 || !c.key1) {
		bench_skip(r, "floor setup failed");
	} else {
		const char *opts[] = {"--certs", vcek, "--certs", chain, "--at", VERIFY_AT, "--json",
				      NULL};
		finish(env, &c, r, cli_argv(env, &c, report, opts), "one ECDSA P-384 verify per report");
	}
	release(&c);
}

void bench_verify_tdx(const struct bench_env *env, struct bench_result *r)
{
	struct verify_ctx c = {.md = EVP_sha256(), .batch = TDX_BATCH};
	struct cvm_error err;
	char quote[512];
	snprintf(quote, sizeof(quote),
		 "%s/vectors/attest/confidential-containers-trustee/tdx/tdx_quote_5.dat", env->shared);
	struct cvm_tdx_quote q;
	if (cvm_file_open(quote, &c.evidence, &err) || cvm_verifier_new(&c.v, &err) ||
	    cvm_tdx_quote_parse(c.evidence.data, c.evidence.size, &q, &err)) {
		bench_skip(r, "%s", cvm_error_message(&err));
		release(&c);
		return;
	}
	c.opt.has_time = cvm_time_parse_rfc3339(VERIFY_AT, &c.opt.time) == 0;
	/* No Intel collateral in the vectors: the TCB status and QE identity stay unevaluated
	   (both required by default), as the CLI side is told too. */
	c.opt.allow_unevaluated = CVM_ALLOW_TCB_STATUS | CVM_ALLOW_QE_IDENTITY;
	c.key1 = p256_key(q.attestation_key);
	c.msg1 = q.signed_data;
	c.msg1_len = q.signed_len;
	c.sig1 = der_sig(q.quote_signature, q.quote_signature + 32, 32, &c.sig1_len);
	BIO *bio = BIO_new_mem_buf(q.pck_chain, (int)q.pck_chain_len);
	X509 *pck = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	c.key2 = pck ? X509_get_pubkey(pck) : NULL;
	X509_free(pck);
	BIO_free(bio);
	c.msg2 = q.qe_report_raw;
	c.msg2_len = 384;
	c.sig2 = der_sig(q.qe_report_signature, q.qe_report_signature + 32, 32, &c.sig2_len);
	if (!c.key1 || !c.key2 || !c.sig1 || !c.sig2) {
		bench_skip(r, "floor setup failed");
	} else {
		const char *opts[] = {"--at", VERIFY_AT, "--allow-unevaluated",
				      "tcb-status,qe-identity", "--json", NULL};
		finish(env, &c, r, cli_argv(env, &c, quote, opts),
		       "two ECDSA P-256 verifies per quote (quote, QE report)");
	}
	release(&c);
}
