/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: attestation verification (sev/snp_verify*.c, tdx/tdx_verify*.c) against every file
 * of vectors/attest with the outcome its README gives, at pinned times.
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

#include <openssl/x509.h>

#include <cvmkit/emit.h>
#include <cvmkit/util.h>
#include <cvmkit/verify.h>

#include "sev/snp_verify_internal.h"
#include "tdx/tdx_verify_internal.h"
#include "tests/unit/helper_vectors.h"

#define BUF_MAX 16384
#define TRUSTEE "confidential-containers-trustee/"
#define GOSEV "google-go-sev-guest/"
#define GOTDX "google-go-tdx-guest/"
#define VIRTEE "virtee-sev/"

struct blob {
	uint8_t data[BUF_MAX];
	size_t len;
};

static void load(const char *rel, struct blob *b)
{
	char path[512];
	snprintf(path, sizeof(path), "attest/%s", rel);
	b->len = cvm_test_vector_load(path, b->data, sizeof(b->data));
}

static time_t at(const char *rfc3339)
{
	time_t t;
	assert_int_equal(cvm_time_parse_rfc3339(rfc3339, &t), 0);
	return t;
}

static struct cvm_verifier *verifier_with(const char *const *rels)
{
	struct cvm_verifier *v = NULL;
	assert_int_equal(cvm_verifier_new(&v, NULL), 0);
	struct blob *b = malloc(sizeof(*b));
	for (; rels && *rels; rels++) {
		load(*rels, b);
		assert_true(cvm_verifier_add_certs(v, b->data, b->len, *rels, NULL) > 0);
	}
	free(b);
	return v;
}

/* Issue 13: no check is lost; 40 passes and one failure (or a failure past the list) fail. */
static void no_check_is_lost(void **state)
{
	(void)state;
	struct cvm_verify_result *r = malloc(sizeof(*r));
	assert_non_null(r);
	cvm_verify_result_init(r);
	for (int i = 0; i < 40; i++)
		cvm_verify_result_add(r, "p", CVM_CHECK_PASS, "fine");
	assert_true(cvm_verify_result_ok(r));
	cvm_verify_result_add(r, "late", CVM_CHECK_FAIL, "the 41st check fails");
	assert_false(cvm_verify_result_ok(r));
	assert_non_null(cvm_verify_result_find(r, "late"));

	cvm_verify_result_init(r);
	for (int i = 0; i < CVM_VERIFY_MAX_CHECKS; i++)
		cvm_verify_result_add(r, "p", CVM_CHECK_PASS, "fine");
	assert_true(cvm_verify_result_ok(r));
	cvm_verify_result_add(r, "lost", CVM_CHECK_FAIL, "does not fit");
	assert_int_equal(r->lost, 1);
	assert_false(cvm_verify_result_ok(r));
	free(r);
}

static void allow_list_parses_check_names(void **state)
{
	(void)state;
	uint32_t m = 0;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_verify_allow_parse("tcb-status,qe-identity", &m, &err), 0);
	assert_int_equal(m, CVM_ALLOW_TCB_STATUS | CVM_ALLOW_QE_IDENTITY);
	assert_int_equal(cvm_verify_allow_parse("cert-chain,reported-tcb,chip-id", &m, &err), 0);
	assert_int_equal(m, CVM_ALLOW_CERT_CHAIN | CVM_ALLOW_REPORTED_TCB | CVM_ALLOW_CHIP_ID);
	m = 7;
	assert_int_equal(cvm_verify_allow_parse("tcb-status,signature", &m, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "'signature'"));
	assert_int_equal(m, 7);
	assert_int_equal(cvm_verify_allow_parse("", &m, &err), -EINVAL);
}

static struct cvm_verify_options pinned(const char *when)
{
	struct cvm_verify_options o;
	memset(&o, 0, sizeof(o));
	o.has_time = true;
	o.time = at(when);
	return o;
}

/* A quote verified without collateral: TCB status and QE identity accepted unevaluated. */
static struct cvm_verify_options pinned_unevaluated(const char *when)
{
	struct cvm_verify_options o = pinned(when);
	o.allow_unevaluated = CVM_ALLOW_TCB_STATUS | CVM_ALLOW_QE_IDENTITY;
	return o;
}

static enum cvm_check_status status_of(const struct cvm_verify_result *r, const char *name)
{
	const struct cvm_check *c = cvm_verify_result_find(r, name);
	if (!c) {
		print_message("# check %s not found\n", name);
		fail();
	}
	return c->status;
}

static void assert_check(const struct cvm_verify_result *r, const char *name,
			 enum cvm_check_status want)
{
	enum cvm_check_status got = status_of(r, name);
	if (got != want) {
		for (size_t i = 0; i < r->nchecks; i++)
			print_message("#   %s %s: %s\n", cvm_check_status_name(r->checks[i].status),
				      r->checks[i].name, r->checks[i].reason);
	}
	assert_int_equal(got, want);
}

static void assert_reason_has(const struct cvm_verify_result *r, const char *name, const char *text)
{
	const struct cvm_check *c = cvm_verify_result_find(r, name);
	assert_non_null(c);
	if (!strstr(c->reason, text))
		print_message("# reason of %s: %s\n", name, c->reason);
	assert_non_null(strstr(c->reason, text));
}

static void verify_blob(struct cvm_verifier *v, const struct blob *b,
			const struct cvm_verify_options *o, struct cvm_verify_result *r)
{
	assert_int_equal(cvm_verify_evidence(v, b->data, b->len, o, r, NULL), 0);
}

/* ---- SNP ---------------------------------------------------------------------------------- */

static void go_sev_guest_report_is_genuine_but_debug_is_refused(void **state)
{
	(void)state;
	static const char *const certs[] = {GOSEV "vcek.testcer", GOSEV "ask_ark_milan.pem", NULL};
	struct cvm_verifier *v = verifier_with(certs);
	static struct blob b;
	load(GOSEV "attestation.bin", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "cert-chain", CVM_CHECK_PASS);
	assert_check(&r, "signature", CVM_CHECK_PASS);
	assert_check(&r, "reported-tcb", CVM_CHECK_PASS);
	assert_check(&r, "chip-id", CVM_CHECK_PASS);
	assert_check(&r, "debug", CVM_CHECK_FAIL);
	assert_int_equal(r.product, CVM_AMD_MILAN);
	assert_false(cvm_verify_result_ok(&r));
	o.allow_debug = true;
	verify_blob(v, &b, &o, &r);
	assert_true(cvm_verify_result_ok(&r));
	/* REPORT_DATA = 01 02 03 04 05 00... */
	o.has_report_data = true;
	memset(o.report_data, 0, 64);
	memcpy(o.report_data, "\x01\x02\x03\x04\x05", 5);
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "report-data", CVM_CHECK_PASS);
	o.report_data[5] = 6;
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "report-data", CVM_CHECK_FAIL);
	cvm_verifier_free(v);
}

static void virtee_milan_report_is_valid_from_hex_text(void **state)
{
	(void)state;
	static const char *const certs[] = {VIRTEE "vcek_milan.der", VIRTEE "cert_chain_milan", NULL};
	struct cvm_verifier *v = verifier_with(certs);
	static struct blob b;
	load(VIRTEE "report_milan.hex", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	verify_blob(v, &b, &o, &r);
	assert_true(cvm_verify_result_ok(&r));
	assert_check(&r, "debug", CVM_CHECK_PASS);
	cvm_verifier_free(v);
}

static void virtee_flipped_vcek_byte40_fails_the_chain(void **state)
{
	(void)state;
	struct cvm_verifier *v = verifier_with(NULL);
	static struct blob vcek, rep;
	load(VIRTEE "vcek_milan.der", &vcek);
	vcek.data[40] ^= 0xff;
	assert_int_equal(cvm_verifier_add_certs(v, vcek.data, vcek.len, "flipped", NULL), 1);
	load(VIRTEE "report_milan.bin", &rep);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	verify_blob(v, &rep, &o, &r);
	assert_check(&r, "cert-chain", CVM_CHECK_FAIL);
	assert_reason_has(&r, "cert-chain", "signature does not verify");
	assert_false(cvm_verify_result_ok(&r));
	cvm_verifier_free(v);
}

static void virtee_report_byte21_bit7_fails_the_signature(void **state)
{
	(void)state;
	static const char *const certs[] = {VIRTEE "vcek_milan.der", NULL};
	struct cvm_verifier *v = verifier_with(certs);
	static struct blob b;
	load(VIRTEE "report_milan.bin", &b);
	b.data[21] ^= 0x80;
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "cert-chain", CVM_CHECK_PASS);
	assert_check(&r, "signature", CVM_CHECK_FAIL);
	cvm_verifier_free(v);
}

static void trustee_report_valid_and_its_bit_flips_fail_the_right_check(void **state)
{
	(void)state;
	static const char *const certs[] = {TRUSTEE "snp/test-vcek.der",
					    TRUSTEE "vendor-certs/milan_ask_ark_asvk.pem", NULL};
	struct cvm_verifier *v = verifier_with(certs);
	static struct blob b;
	load(TRUSTEE "snp/test-report.bin", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	/* CURRENT ucode 206, COMMITTED 115: provisional firmware, refused when committed is
	   required. */
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "committed-firmware", CVM_CHECK_PASS);
	assert_true(cvm_verify_result_ok(&r));
	struct cvm_verify_rules rules = {.require_committed = true};
	o.rules = &rules;
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "committed-firmware", CVM_CHECK_FAIL);
	o.rules = NULL;

	b.data[42]++;
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "signature", CVM_CHECK_FAIL);
	assert_check(&r, "cert-chain", CVM_CHECK_PASS);
	b.data[42]--;

	b.data[0x180]++;
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "reported-tcb", CVM_CHECK_FAIL);
	assert_reason_has(&r, "reported-tcb", "blSPL");
	cvm_verifier_free(v);
}

static void trustee_vlek_expired_now_valid_in_june_2025(void **state)
{
	(void)state;
	static const char *const certs[] = {TRUSTEE "snp/test-vlek.der", NULL};
	struct cvm_verifier *v = verifier_with(certs);
	static struct blob b;
	load(TRUSTEE "snp/test-vlek-report.bin", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	/* VMPL 1: refused by default (VMPL 0 only), accepted when the verifier allows it. */
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "vmpl", CVM_CHECK_FAIL);
	o.vmpl_mask = 0x3;
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "vmpl", CVM_CHECK_PASS);
	assert_check(&r, "cert-chain", CVM_CHECK_PASS);
	assert_check(&r, "signature", CVM_CHECK_PASS);
	assert_check(&r, "chip-id", CVM_CHECK_SKIP);
	assert_true(cvm_verify_result_ok(&r));

	o.has_time = false; /* the clock: after 2025-12-10 */
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "cert-chain", CVM_CHECK_FAIL);
	assert_reason_has(&r, "cert-chain", "VLEK expired at 2025-12-10");
	assert_check(&r, "signature", CVM_CHECK_PASS);

	/* VMPL 1: refused when only VMPL 0 is allowed. */
	o = pinned("2025-06-01T00:00:00Z");
	o.vmpl_mask = 1u;
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "vmpl", CVM_CHECK_FAIL);
	o.vmpl_mask = 3u;
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "vmpl", CVM_CHECK_PASS);
	cvm_verifier_free(v);
}

/* A VCEK whose blSPL is not an INTEGER: the reported-tcb check names the extension. */
static void malformed_vcek_extension_fails_reported_tcb(void **state)
{
	(void)state;
	static struct blob cert, b;
	load(VIRTEE "vcek_milan.der", &cert);
	/* OID 1.3.6.1.4.1.3704.1.3.1, then extnValue OCTET STRING { INTEGER ... } */
	static const uint8_t blspl[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x9c, 0x78,
					0x01, 0x03, 0x01, 0x04, 0x03, 0x02, 0x01};
	uint8_t *p = memmem(cert.data, cert.len, blspl, sizeof(blspl));
	assert_non_null(p);
	p[12] = 0x05; /* INTEGER -> NULL tag */
	struct cvm_verifier *v = verifier_with(NULL);
	assert_int_equal(cvm_verifier_add_certs(v, cert.data, cert.len, "edited", NULL), 1);
	load(VIRTEE "report_milan.bin", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "reported-tcb", CVM_CHECK_FAIL);
	assert_reason_has(&r, "reported-tcb", "blSPL");
	assert_false(cvm_verify_result_ok(&r));
	cvm_verifier_free(v);
}

static void edited_vceks_parse_but_fail_the_chain(void **state)
{
	(void)state;
	static const char *const names[] = {TRUSTEE "snp/test-vcek-invalid-legacy.der",
					    TRUSTEE "snp/test-vcek-invalid-new.der"};
	static struct blob b;
	load(TRUSTEE "snp/test-report.bin", &b);
	for (size_t i = 0; i < 2; i++) {
		const char *const certs[] = {names[i], NULL};
		struct cvm_verifier *v = verifier_with(certs);
		struct cvm_verify_result r;
		struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
		verify_blob(v, &b, &o, &r);
		assert_check(&r, "cert-chain", CVM_CHECK_FAIL);
		assert_false(cvm_verify_result_ok(&r));
		cvm_verifier_free(v);
	}
}

static void milan_vcek_does_not_chain_to_genoa(void **state)
{
	(void)state;
	static const char *const certs[] = {VIRTEE "vcek_milan.der", NULL};
	struct cvm_verifier *v = verifier_with(certs);
	static struct blob b;
	load(VIRTEE "report_milan.bin", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	o.product = CVM_AMD_GENOA;
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "cert-chain", CVM_CHECK_FAIL);
	assert_reason_has(&r, "cert-chain", "SEV-Genoa");
	cvm_verifier_free(v);
}

static void turin_vcek_chains_to_the_turin_ark(void **state)
{
	(void)state;
	static const char *const certs[] = {VIRTEE "vcek_turin.der", VIRTEE "cert_chain_turin", NULL};
	struct cvm_verifier *v = verifier_with(certs);
	/* No Turin report in the vectors: a v3 report claiming Turin CPUID exercises the chain. */
	static struct blob b;
	load(VIRTEE "report_milan.bin", &b);
	cvm_put_le32(b.data, 3);
	b.data[0x188] = 0x1a;
	b.data[0x189] = 0x02;
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	verify_blob(v, &b, &o, &r);
	assert_int_equal(r.product, CVM_AMD_TURIN);
	assert_check(&r, "cert-chain", CVM_CHECK_PASS);
	assert_reason_has(&r, "cert-chain", "ARK-Turin");
	assert_check(&r, "signature", CVM_CHECK_FAIL);
	cvm_verifier_free(v);
}

static void bundled_roots_are_self_signed_pss(void **state)
{
	(void)state;
	const struct cvm_bundled_cert *certs;
	size_t n = cvm_amd_bundled_certs(&certs);
	assert_int_equal(n, 9);
	for (size_t i = 0; i < n; i += 3) {
		const unsigned char *p = certs[i].der;
		X509 *ark = d2i_X509(NULL, &p, (long)certs[i].len);
		assert_non_null(ark);
		assert_int_equal(X509_get_signature_nid(ark), NID_rsassaPss);
		assert_int_equal(X509_verify(ark, X509_get0_pubkey(ark)), 1);
		for (size_t k = 1; k <= 2; k++) {
			p = certs[i + k].der;
			X509 *mid = d2i_X509(NULL, &p, (long)certs[i + k].len);
			assert_non_null(mid);
			assert_int_equal(X509_verify(mid, X509_get0_pubkey(ark)), 1);
			X509_free(mid);
		}
		X509_free(ark);
	}
}

static void user_copies_of_roots_are_deduplicated(void **state)
{
	(void)state;
	static const char *const certs[] = {GOSEV "ask_ark_genoa.pem", GOSEV "ask_ark_turin_vlek.pem",
					    TRUSTEE "vendor-certs/genoa_ask_ark_asvk.pem",
					    VIRTEE "builtin/milan_ark.pem", NULL};
	struct cvm_verifier *v = verifier_with(certs);
	assert_int_equal(v->ncerts, 10); /* 9 AMD + the Intel root, nothing new */
	for (size_t i = 0; i < v->ncerts; i++)
		assert_true(v->certs[i]->trusted);
	cvm_verifier_free(v);
}

static void policy_checks_smt_and_min_tcb(void **state)
{
	(void)state;
	static const char *const certs[] = {VIRTEE "vcek_milan.der", NULL};
	struct cvm_verifier *v = verifier_with(certs);
	static struct blob b;
	load(VIRTEE "report_milan.bin", &b); /* policy 0x30000: SMT allowed */
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	o.forbid_smt = true;
	o.has_min_tcb = true;
	o.min_tcb = 0x7308000000000003ull;
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "smt", CVM_CHECK_FAIL);
	assert_check(&r, "min-tcb", CVM_CHECK_PASS);
	o.min_tcb = 0x7309000000000003ull; /* snp 9 > 8 */
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "min-tcb", CVM_CHECK_FAIL);
	cvm_verifier_free(v);
}

static void snp_expectations_match_field_by_field(void **state)
{
	(void)state;
	static const char *const certs[] = {TRUSTEE "snp/test-vcek.der", NULL};
	struct cvm_verifier *v = verifier_with(certs);
	static struct blob b;
	load(TRUSTEE "snp/test-report.bin", &b);
	struct cvm_snp_report rep;
	assert_int_equal(cvm_snp_report_parse(b.data, b.len, &rep, NULL), 0);

	struct cvm_measurement m;
	memset(&m, 0, sizeof(m));
	m.tee = CVM_TEE_SNP;
	m.digest_len = 48;
	memcpy(m.digest, rep.measurement, 48);
	m.has_host_data = true;
	memcpy(m.host_data, rep.host_data, 32);
	m.has_id_key_digest = true;
	memcpy(m.id_key_digest, rep.id_key_digest, 48);
	m.has_snp_policy = true;
	m.snp_policy = 0x3001f;
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	o.expect = &m;

	assert_int_equal(cvm_verify_snp(v, &rep, &o, &r, NULL), 0);
	assert_check(&r, "measurement", CVM_CHECK_PASS);
	assert_check(&r, "host-data", CVM_CHECK_PASS);
	assert_check(&r, "id-key-digest", CVM_CHECK_PASS);
	assert_check(&r, "guest-policy", CVM_CHECK_PASS);
	assert_true(cvm_verify_result_ok(&r));

	m.digest[47] ^= 1;
	m.snp_policy = 0x30000;
	memset(m.host_data, 0x5a, 32);
	assert_int_equal(cvm_verify_snp(v, &rep, &o, &r, NULL), 0);
	assert_check(&r, "measurement", CVM_CHECK_FAIL);
	assert_check(&r, "guest-policy", CVM_CHECK_FAIL);
	assert_check(&r, "host-data", CVM_CHECK_FAIL);
	/* Both sides shown: the evidence value, then the expected one. */
	char want[256], h[2 * 48 + 1], w[2 * 48 + 1];
	char hh[2 * 8 + 1], ht[2 * 4 + 1], wh[2 * 8 + 1], wt[2 * 4 + 1];
	cvm_hex_encode(rep.measurement, 8, hh);
	cvm_hex_encode(rep.measurement + 44, 4, ht);
	cvm_hex_encode(m.digest, 8, wh);
	cvm_hex_encode(m.digest + 44, 4, wt);
	snprintf(want, sizeof(want), "MEASUREMENT %s...%s, expected %s...%s (first difference at byte 47)",
		 hh, ht, wh, wt);
	assert_reason_has(&r, "measurement", want);
	cvm_hex_encode(rep.host_data, 32, h);
	cvm_hex_encode(m.host_data, 32, w);
	snprintf(want, sizeof(want), "HOST_DATA %s, expected %s", h, w);
	assert_reason_has(&r, "host-data", want);
	assert_reason_has(&r, "guest-policy", "POLICY 0x3001f, expected 0x30000");

	m.tee = CVM_TEE_TDX;
	assert_int_equal(cvm_verify_snp(v, &rep, &o, &r, NULL), 0);
	assert_check(&r, "measurement", CVM_CHECK_FAIL);
	cvm_verifier_free(v);
}

static void nonzero_unsigned_trailer_fails(void **state)
{
	(void)state;
	static const char *const certs[] = {VIRTEE "vcek_milan.der", NULL};
	struct cvm_verifier *v = verifier_with(certs);
	static struct blob b;
	load(VIRTEE "report_milan.bin", &b);
	b.data[0x49f] = 0xee;
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "signature", CVM_CHECK_PASS); /* not covered by the signature */
	assert_check(&r, "reserved-zero", CVM_CHECK_FAIL);
	assert_reason_has(&r, "reserved-zero", "unsigned trailer");
	assert_false(cvm_verify_result_ok(&r));
	cvm_verifier_free(v);
}

static void missing_certificate_is_a_failed_check(void **state)
{
	(void)state;
	struct cvm_verifier *v = verifier_with(NULL);
	static struct blob b;
	load(GOSEV "attestation.bin", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "cert-chain", CVM_CHECK_FAIL);
	assert_check(&r, "product", CVM_CHECK_FAIL); /* v2 without certificate or --product */
	assert_check(&r, "signature", CVM_CHECK_FAIL);
	cvm_verifier_free(v);
}

static void truncated_padded_and_flipped_reports_never_pass(void **state)
{
	(void)state;
	static const char *const certs[] = {VIRTEE "vcek_milan.der", NULL};
	struct cvm_verifier *v = verifier_with(certs);
	static struct blob b;
	load(VIRTEE "report_milan.bin", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	assert_int_equal(cvm_verify_evidence(v, b.data, b.len - 1, &o, &r, NULL), 0);
	assert_check(&r, "parse", CVM_CHECK_FAIL);
	assert_reason_has(&r, "parse", "truncated");
	b.data[b.len] = 0;
	assert_int_equal(cvm_verify_evidence(v, b.data, b.len + 1, &o, &r, NULL), 0);
	assert_reason_has(&r, "parse", "padded");
	/* One flipped bit in every 37th byte of the whole report. */
	for (size_t i = 0; i < b.len; i += 37) {
		b.data[i] ^= 0x04;
		verify_blob(v, &b, &o, &r);
		assert_false(cvm_verify_result_ok(&r));
		b.data[i] ^= 0x04;
	}
	/* Random bytes of report size. */
	srand(7);
	for (int k = 0; k < 20; k++) {
		for (size_t i = 0; i < b.len; i++)
			b.data[i] = (uint8_t)rand();
		verify_blob(v, &b, &o, &r);
		assert_false(cvm_verify_result_ok(&r));
	}
	cvm_verifier_free(v);
}

static void batch_reuses_cached_issuer_links(void **state)
{
	(void)state;
	static const char *const certs[] = {VIRTEE "vcek_milan.der", NULL};
	struct cvm_verifier *v = verifier_with(certs);
	static struct blob b;
	load(VIRTEE "report_milan.bin", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	for (int i = 0; i < 5; i++) {
		verify_blob(v, &b, &o, &r);
		assert_true(cvm_verify_result_ok(&r));
	}
	size_t linked = 0;
	for (size_t i = 0; i < v->ncerts; i++)
		if (v->certs[i]->verified_issuer)
			linked++;
	assert_int_equal(linked, 2); /* VCEK -> ASK, ASK -> ARK */
	cvm_verifier_free(v);
}

/* ---- TDX ---------------------------------------------------------------------------------- */

static void tdx_v4_debug_quote_genuine_but_debug_refused(void **state)
{
	(void)state;
	struct cvm_verifier *v = verifier_with(NULL);
	static struct blob b;
	load(TRUSTEE "tdx/tdx_quote_4.dat", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned_unevaluated("2025-06-01T00:00:00Z");
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "pck-chain", CVM_CHECK_PASS);
	assert_check(&r, "quote-signature", CVM_CHECK_PASS);
	assert_check(&r, "qe-report-signature", CVM_CHECK_PASS);
	assert_check(&r, "qe-binding", CVM_CHECK_PASS);
	assert_check(&r, "debug", CVM_CHECK_FAIL);
	assert_false(cvm_verify_result_ok(&r));
	o.allow_debug = true;
	verify_blob(v, &b, &o, &r);
	assert_true(cvm_verify_result_ok(&r));
	cvm_verifier_free(v);
}

static void tdx_v5_and_quote6_are_valid(void **state)
{
	(void)state;
	struct cvm_verifier *v = verifier_with(NULL);
	static struct blob b;
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned_unevaluated("2025-06-01T00:00:00Z");
	load(TRUSTEE "tdx/tdx_quote_5.dat", &b);
	verify_blob(v, &b, &o, &r);
	assert_true(cvm_verify_result_ok(&r));
	load(TRUSTEE "tdx/tdx_quote_6.dat", &b);
	verify_blob(v, &b, &o, &r);
	assert_true(cvm_verify_result_ok(&r));
	assert_check(&r, "trailing-data", CVM_CHECK_PASS);
	cvm_verifier_free(v);
}

static void tdx_bit_flips_fail_the_right_check(void **state)
{
	(void)state;
	struct cvm_verifier *v = verifier_with(NULL);
	static struct blob b;
	load(TRUSTEE "tdx/tdx_quote_5.dat", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned_unevaluated("2025-06-01T00:00:00Z");
	size_t sig = 0x36 + 648 + 4;

	b.data[0xbe] ^= 1; /* MRTD */
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "quote-signature", CVM_CHECK_FAIL);
	assert_check(&r, "qe-report-signature", CVM_CHECK_PASS);
	b.data[0xbe] ^= 1;

	b.data[sig + 0x86 + 320] ^= 1; /* QE REPORTDATA */
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "qe-report-signature", CVM_CHECK_FAIL);
	assert_check(&r, "qe-binding", CVM_CHECK_FAIL);
	assert_check(&r, "quote-signature", CVM_CHECK_PASS);
	b.data[sig + 0x86 + 320] ^= 1;

	b.data[sig + 0x40 + 10] ^= 1; /* attestation key */
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "quote-signature", CVM_CHECK_FAIL);
	assert_check(&r, "qe-binding", CVM_CHECK_FAIL);
	b.data[sig + 0x40 + 10] ^= 1;

	b.data[sig + 0x86 + 384 + 5] ^= 1; /* QE report signature */
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "qe-report-signature", CVM_CHECK_FAIL);
	b.data[sig + 0x86 + 384 + 5] ^= 1;

	verify_blob(v, &b, &o, &r);
	assert_true(cvm_verify_result_ok(&r));
	cvm_verifier_free(v);
}

static void tdx_pck_chain_time_is_enforced(void **state)
{
	(void)state;
	struct cvm_verifier *v = verifier_with(NULL);
	static struct blob b;
	load(TRUSTEE "tdx/tdx_quote_5.dat", &b); /* PCK from 2024-03-18 */
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2023-06-20T00:00:00Z");
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "pck-chain", CVM_CHECK_FAIL);
	assert_reason_has(&r, "pck-chain", "not valid before 2024-03-18");
	cvm_verifier_free(v);
}

static void tdx_random_report_dat_is_rejected(void **state)
{
	(void)state;
	struct cvm_verifier *v = verifier_with(NULL);
	static struct blob b;
	load(GOTDX "report.dat", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "parse", CVM_CHECK_FAIL);
	assert_false(cvm_verify_result_ok(&r));
	cvm_verifier_free(v);
}

static void add_collateral_file(struct cvm_verifier *v, const char *rel)
{
	static struct blob b;
	load(rel, &b);
	struct cvm_error err;
	int rc = cvm_verifier_add_collateral(v, b.data, b.len, rel, &err);
	if (rc < 0)
		print_message("# %s\n", err.msg);
	assert_true(rc > 0);
}

static void assert_same_checks(const struct cvm_verify_result *a, const struct cvm_verify_result *b)
{
	assert_int_equal(a->nchecks, b->nchecks);
	for (size_t i = 0; i < a->nchecks; i++) {
		assert_string_equal(a->checks[i].name, b->checks[i].name);
		assert_int_equal(a->checks[i].status, b->checks[i].status);
		assert_string_equal(a->checks[i].reason, b->checks[i].reason);
	}
}

/*
 * Issue 17: a clone holds the trust material of its source, shared (the source may be freed
 * first) and with the issuer signatures already checked, gives the same verdicts, takes none of
 * what evidence brought, and what is added to one is not in the other.
 */
static void clones_share_trust_material_not_evidence(void **state)
{
	(void)state;
	static const char *const certs[] = {VIRTEE "vcek_milan.der", VIRTEE "cert_chain_milan", NULL};
	struct cvm_verifier *v = verifier_with(certs);
	static struct blob rep, quote;
	load(VIRTEE "report_milan.bin", &rep);
	load(TRUSTEE "tdx/tdx_quote_4.dat", &quote);
	static struct cvm_verify_result r1, r2;
	struct cvm_verify_options o = pinned("2023-06-20T00:00:00Z");
	o.allow_debug = true;
	verify_blob(v, &rep, &o, &r1);
	assert_true(cvm_verify_result_ok(&r1));
	add_collateral_file(v, GOTDX "sample_tcbInfo_response");
	add_collateral_file(v, GOTDX "sample_qeIdentity_response");
	add_collateral_file(v, GOTDX "tcbInfoIssuerChain.pem");
	add_collateral_file(v, GOTDX "rootcrl.der");
	add_collateral_file(v, GOTDX "pckcrl");
	size_t trust_certs = v->ncerts;
	verify_blob(v, &quote, &o, &r2);
	assert_true(cvm_verify_result_ok(&r2));
	assert_true(v->ncerts > trust_certs); /* the quote's PCK chain is cached in v */
	/* Both documents' and both CRLs' signatures verified once, remembered for the next quote */
	assert_int_equal(cvm_tdx_verifier_state(v)->nsig_cache, 4);
	static struct cvm_verify_result r3;
	verify_blob(v, &quote, &o, &r3);
	assert_same_checks(&r2, &r3);
	assert_int_equal(cvm_tdx_verifier_state(v)->nsig_cache, 4);

	struct cvm_verifier *c = NULL;
	assert_int_equal(cvm_verifier_clone(v, &c, NULL), 0);
	assert_int_equal(c->ncerts, trust_certs);
	size_t linked = 0;
	for (size_t i = 0; i < c->ncerts; i++) {
		assert_ptr_equal(c->certs[i]->x509, v->certs[i]->x509); /* shared, not parsed again */
		assert_int_equal(c->certs[i]->role, v->certs[i]->role);
		linked += c->certs[i]->verified_issuer != NULL;
	}
	assert_true(linked >= 2); /* VCEK -> ASK -> ARK came along already checked */
	cvm_verifier_free(v);

	static struct cvm_verify_result again;
	verify_blob(c, &rep, &o, &again);
	assert_same_checks(&r1, &again);
	verify_blob(c, &quote, &o, &again);
	assert_same_checks(&r2, &again);
	assert_check(&again, "revocation", CVM_CHECK_PASS);
	assert_check(&again, "tcb-status", CVM_CHECK_PASS);

	/* What a clone is given stays its own. */
	struct cvm_verifier *bare = verifier_with(NULL), *d = NULL;
	assert_int_equal(cvm_verifier_clone(bare, &d, NULL), 0);
	add_collateral_file(d, GOTDX "rootcrl.der");
	add_collateral_file(d, GOTDX "pckcrl");
	struct cvm_verify_options u = pinned_unevaluated("2023-06-20T00:00:00Z");
	u.allow_debug = true;
	verify_blob(d, &quote, &u, &again);
	assert_check(&again, "revocation", CVM_CHECK_PASS);
	verify_blob(bare, &quote, &u, &again);
	assert_check(&again, "revocation", CVM_CHECK_SKIP);
	cvm_verifier_free(bare);
	cvm_verifier_free(d);
	cvm_verifier_free(c);
}

/*
 * Issue 17: an Intel CRL that came inside evidence (added while the verifier scopes) vouches for
 * that evidence only, like its certificates; the same CRL given by the caller stays.
 */
static void tdx_crls_inside_evidence_are_dropped_after_its_verdict(void **state)
{
	(void)state;
	struct cvm_verifier *v = verifier_with(NULL);
	static struct blob quote, root, pck;
	load(TRUSTEE "tdx/tdx_quote_4.dat", &quote);
	load(GOTDX "rootcrl.der", &root);
	load(GOTDX "pckcrl", &pck);
	struct cvm_verify_options o = pinned_unevaluated("2023-06-20T00:00:00Z");
	o.allow_debug = true;
	static struct cvm_verify_result r;
	cvm_verifier_set_scoping(v, true);
	assert_true(cvm_verifier_add_endorsements(v, root.data, root.len, "evidence root", NULL) > 0);
	assert_true(cvm_verifier_add_endorsements(v, pck.data, pck.len, "evidence pck", NULL) > 0);
	cvm_verifier_set_scoping(v, false);
	verify_blob(v, &quote, &o, &r);
	assert_check(&r, "revocation", CVM_CHECK_PASS);
	cvm_verifier_drop_scoped(v); /* as the evidence path does after the verdict */
	verify_blob(v, &quote, &o, &r);
	assert_check(&r, "revocation", CVM_CHECK_SKIP);
	assert_reason_has(&r, "revocation", "no CRL for the PCK chain");
	/* Given first, then carried again: it stays. */
	assert_true(cvm_verifier_add_collateral(v, root.data, root.len, "given root", NULL) > 0);
	assert_true(cvm_verifier_add_collateral(v, pck.data, pck.len, "given pck", NULL) > 0);
	cvm_verifier_set_scoping(v, true);
	assert_true(cvm_verifier_add_endorsements(v, pck.data, pck.len, "evidence pck", NULL) > 0);
	cvm_verifier_set_scoping(v, false);
	cvm_verifier_drop_scoped(v);
	verify_blob(v, &quote, &o, &r);
	assert_check(&r, "revocation", CVM_CHECK_PASS);
	cvm_verifier_free(v);
}

/* Issue 13: what looks like collateral but does not load is an error, other data is not. */
static void tdx_collateral_loading_fails_closed(void **state)
{
	(void)state;
	struct cvm_verifier *v = verifier_with(NULL);
	static struct blob b;
	struct cvm_error err;
	load(GOTDX "sample_tcbInfo_response", &b);
	assert_int_equal(cvm_verifier_add_collateral(v, b.data, b.len / 2, "half", &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "half"));
	load(GOTDX "sample_qeIdentity_response", &b);
	assert_int_equal(cvm_verifier_add_collateral(v, b.data, b.len - 2, "qe", &err), -EINVAL);
	load(GOTDX "rootcrl.der", &b);
	assert_int_equal(cvm_verifier_add_collateral(v, b.data, b.len - 40, "crl", &err), -EINVAL);
	static const char other[] = "{\"quote\": \"AAAA\"}";
	assert_int_equal(cvm_verifier_add_collateral(v, (const uint8_t *)other, sizeof(other) - 1,
						     "evidence.json", &err),
			 -ENOMSG);
	static const char notes[] = "just notes\n";
	assert_int_equal(cvm_verifier_add_collateral(v, (const uint8_t *)notes, sizeof(notes) - 1,
						     "README", &err),
			 -ENOMSG);
	cvm_verifier_free(v);
}

/* PEM text of a DER file, appended to out (64 columns). */
static size_t pem_append(char *out, size_t at, const char *label, const struct blob *der)
{
	char *b64 = cvm_base64_encode(der->data, der->len);
	assert_non_null(b64);
	at += (size_t)sprintf(out + at, "-----BEGIN %s-----\n", label);
	for (size_t i = 0, n = strlen(b64); i < n; i += 64)
		at += (size_t)sprintf(out + at, "%.64s\n", b64 + i);
	at += (size_t)sprintf(out + at, "-----END %s-----\n", label);
	free(b64);
	return at;
}

/* A root CA CRL followed by the PCK CRL in one PEM text: both are read and checked. */
static void tdx_every_crl_of_a_pem_bundle_counts(void **state)
{
	(void)state;
	static struct blob root, pck, q;
	static char bundle[4 * BUF_MAX];
	load(GOTDX "rootcrl.der", &root);
	load(GOTDX "pckcrl", &pck);
	size_t n = pem_append(bundle, 0, "X509 CRL", &root);
	n = pem_append(bundle, n, "X509 CRL", &pck);
	struct cvm_verifier *v = verifier_with(NULL);
	assert_int_equal(cvm_verifier_add_collateral(v, (const uint8_t *)bundle, n, "bundle", NULL), 2);
	load(TRUSTEE "tdx/tdx_quote_4.dat", &q);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned_unevaluated("2023-06-20T00:00:00Z");
	o.allow_debug = true;
	o.require_revocation = true;
	verify_blob(v, &q, &o, &r);
	assert_check(&r, "revocation", CVM_CHECK_PASS);
	assert_true(cvm_verify_result_ok(&r));
	cvm_verifier_free(v);

	v = verifier_with(NULL); /* the root CA CRL alone: revocation unevaluated, required: fail */
	n = pem_append(bundle, 0, "X509 CRL", &root);
	assert_int_equal(cvm_verifier_add_collateral(v, (const uint8_t *)bundle, n, "root", NULL), 1);
	verify_blob(v, &q, &o, &r);
	assert_check(&r, "revocation", CVM_CHECK_FAIL);
	assert_true(cvm_verify_result_find(&r, "revocation")->unevaluated);
	cvm_verifier_free(v);
}

/* Two platforms' TCB infos: each quote is judged by its own FMSPC, whatever the order. */
static void tdx_tcb_info_per_fmspc(void **state)
{
	(void)state;
	static struct blob q4, q6;
	load(TRUSTEE "tdx/tdx_quote_4.dat", &q4);
	load(TRUSTEE "tdx/tdx_quote_6.dat", &q6);
	for (int order = 0; order < 2; order++) {
		struct cvm_verifier *v = verifier_with(NULL);
		const char *first = order ? TRUSTEE "tdx/tcbInfo.json" : GOTDX "sample_tcbInfo_response";
		const char *second = order ? GOTDX "sample_tcbInfo_response" : TRUSTEE "tdx/tcbInfo.json";
		add_collateral_file(v, first);
		add_collateral_file(v, second);
		add_collateral_file(v, GOTDX "sample_qeIdentity_response");
		add_collateral_file(v, GOTDX "tcbInfoIssuerChain.pem");
		/* An SGX TCB info of the same FMSPC, added last, is not the one a TD quote uses. */
		static struct blob sgx;
		load(GOTDX "sample_tcbInfo_response", &sgx);
		char *id = memmem(sgx.data, sgx.len, "\"id\":\"TDX\"", 10);
		assert_non_null(id);
		memcpy(id + 6, "SGX", 3);
		assert_int_equal(cvm_verifier_add_collateral(v, sgx.data, sgx.len, "sgx", NULL), 1);
		struct cvm_verify_result r;
		struct cvm_verify_options o = pinned("2023-06-20T00:00:00Z");
		o.allow_debug = true;
		verify_blob(v, &q4, &o, &r);
		assert_check(&r, "tcb-info", CVM_CHECK_PASS);
		assert_check(&r, "tcb-info-signature", CVM_CHECK_PASS);
		assert_reason_has(&r, "tcb-info", "50806f000000");
		assert_string_equal(r.tcb_status, "UpToDate");
		assert_true(cvm_verify_result_ok(&r));
		o = pinned("2025-11-01T00:00:00Z");
		verify_blob(v, &q6, &o, &r);
		assert_reason_has(&r, "tcb-info", "00a06d080000");
		assert_string_equal(r.tcb_status, "OutOfDate");
		cvm_verifier_free(v);
	}
}

/* A decoy VCEK given first does not shadow the VCEK whose key verifies the report. */
static void snp_decoy_vcek_does_not_shadow(void **state)
{
	(void)state;
	static const char *const certs[] = {VIRTEE "vcek_milan.der", TRUSTEE "snp/test-vcek.der", NULL};
	struct cvm_verifier *v = verifier_with(certs);
	static struct blob b;
	load(TRUSTEE "snp/test-report.bin", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "signature", CVM_CHECK_PASS);
	assert_check(&r, "cert-chain", CVM_CHECK_PASS);
	assert_string_equal(r.leaf_origin, TRUSTEE "snp/test-vcek.der");
	assert_true(cvm_verify_result_ok(&r));
	cvm_verifier_free(v);
}

static void tdx_go_tdx_guest_collateral_verifies_for_quote4(void **state)
{
	(void)state;
	struct cvm_verifier *v = verifier_with(NULL);
	add_collateral_file(v, GOTDX "sample_tcbInfo_response");
	add_collateral_file(v, GOTDX "sample_qeIdentity_response");
	add_collateral_file(v, GOTDX "tcbInfoIssuerChain.pem");
	add_collateral_file(v, GOTDX "rootcrl.der");
	add_collateral_file(v, GOTDX "pckcrl");
	static struct blob b;
	load(TRUSTEE "tdx/tdx_quote_4.dat", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2023-06-20T00:00:00Z");
	o.allow_debug = true;
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "revocation", CVM_CHECK_PASS);
	assert_check(&r, "collateral-signer", CVM_CHECK_PASS);
	assert_check(&r, "tcb-info-signature", CVM_CHECK_PASS);
	assert_check(&r, "tcb-info", CVM_CHECK_PASS);
	assert_check(&r, "tcb-status", CVM_CHECK_PASS);
	assert_string_equal(r.tcb_status, "UpToDate");
	assert_check(&r, "qe-identity-signature", CVM_CHECK_PASS);
	assert_check(&r, "qe-identity", CVM_CHECK_PASS);
	assert_true(cvm_verify_result_ok(&r));

	/* Two years later: the collateral and the CRLs are stale, the TCB signer expired. */
	o.time = at("2025-06-01T00:00:00Z");
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "revocation", CVM_CHECK_FAIL);
	assert_check(&r, "collateral-signer", CVM_CHECK_FAIL);
	assert_check(&r, "tcb-info-signature", CVM_CHECK_PASS);
	assert_check(&r, "tcb-info", CVM_CHECK_FAIL);
	assert_reason_has(&r, "tcb-info", "2023-07-18");
	cvm_verifier_free(v);
}

static void tdx_trustee_collateral_signatures_verify_for_quote6(void **state)
{
	(void)state;
	struct cvm_verifier *v = verifier_with(NULL);
	add_collateral_file(v, TRUSTEE "tdx/tcbInfo.json");
	add_collateral_file(v, TRUSTEE "tdx/enclaveIdentity.json");
	add_collateral_file(v, GOTDX "intel_sgx_tcb_signing_cert_from_test_headers.pem");
	static struct blob b;
	load(TRUSTEE "tdx/tdx_quote_6.dat", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-11-01T00:00:00Z");
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "tcb-info-signature", CVM_CHECK_PASS);
	assert_check(&r, "qe-identity-signature", CVM_CHECK_PASS);
	assert_check(&r, "tcb-info", CVM_CHECK_PASS);
	assert_check(&r, "qe-identity", CVM_CHECK_PASS);
	assert_check(&r, "tdx-module", CVM_CHECK_PASS);
	/* PCESVN 11 < 13: the platform is OutOfDate; reported, refused only when required. */
	assert_string_equal(r.tcb_status, "OutOfDate");
	assert_check(&r, "tcb-status", CVM_CHECK_PASS);
	/* The only TCB Signing certificate in the vectors expired 2025-05-21. */
	assert_check(&r, "collateral-signer", CVM_CHECK_FAIL);
	assert_reason_has(&r, "collateral-signer", "expired at 2025-05-21");
	o.require_uptodate = true;
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "tcb-status", CVM_CHECK_FAIL);
	/* A tampered document no longer verifies. */
	static struct blob doc;
	load(TRUSTEE "tdx/tcbInfo.json", &doc);
	char *p = memmem(doc.data, doc.len, "\"tcbEvaluationDataNumber\":17", 28);
	assert_non_null(p);
	p[27] = '8'; /* same platform, same dates: the later document is the one used */
	assert_true(cvm_verifier_add_collateral(v, doc.data, doc.len, "tampered", NULL) > 0);
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "tcb-info-signature", CVM_CHECK_FAIL);
	cvm_verifier_free(v);
}

/*
 * {"tcbInfo":<signed>,"tcbInfo":<forged>,"signature":...}: the signature covers the first value,
 * and the forged second one (every level UpToDate) must not be what gets evaluated.
 */
static void tdx_duplicated_tcb_info_key_evaluates_the_signed_value(void **state)
{
	(void)state;
	static struct blob doc, b;
	static char forged[2 * BUF_MAX];
	load(TRUSTEE "tdx/tcbInfo.json", &doc);
	const char *sig = memmem(doc.data, doc.len, ",\"signature\"", 12);
	assert_non_null(sig);
	size_t signed_end = (size_t)(sig - (const char *)doc.data);
	const char *value = (const char *)doc.data + strlen("{\"tcbInfo\":");
	size_t value_len = signed_end - strlen("{\"tcbInfo\":");
	size_t n = 0;
	memcpy(forged + n, doc.data, signed_end);
	n += signed_end;
	n += (size_t)sprintf(forged + n, ",\"tcbInfo\":");
	for (size_t i = 0; i < value_len; i++) {
		if (i + 10 <= value_len && memcmp(value + i, "OutOfDate\"", 10) == 0) {
			memcpy(forged + n, "UpToDate\"", 9);
			n += 9;
			i += 9;
			continue;
		}
		forged[n++] = value[i];
	}
	memcpy(forged + n, sig, doc.len - signed_end);
	n += doc.len - signed_end;

	struct cvm_verifier *v = verifier_with(NULL);
	assert_true(cvm_verifier_add_collateral(v, (const uint8_t *)forged, n, "forged", NULL) > 0);
	add_collateral_file(v, GOTDX "intel_sgx_tcb_signing_cert_from_test_headers.pem");
	load(TRUSTEE "tdx/tdx_quote_6.dat", &b);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-11-01T00:00:00Z");
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "tcb-info-signature", CVM_CHECK_PASS);
	assert_string_equal(r.tcb_status, "OutOfDate");
	cvm_verifier_free(v);
}

static void tdx_expectations_and_policy(void **state)
{
	(void)state;
	struct cvm_verifier *v = verifier_with(NULL);
	static struct blob b;
	load(TRUSTEE "tdx/tdx_quote_5.dat", &b);
	struct cvm_tdx_quote q;
	assert_int_equal(cvm_tdx_quote_parse(b.data, b.len, &q, NULL), 0);
	struct cvm_measurement m;
	memset(&m, 0, sizeof(m));
	m.tee = CVM_TEE_TDX;
	m.digest_len = 48;
	memcpy(m.digest, q.body.mrtd, 48);
	m.has_td_fields = true;
	m.td_attributes = 0x10000000;
	m.xfam = 0x642e7;
	memcpy(m.mrconfigid, q.body.mrconfigid, 48);
	memcpy(m.mrowner, q.body.mrowner, 48);
	memcpy(m.mrownerconfig, q.body.mrownerconfig, 48);
	m.rtmr_known[0] = true;
	memcpy(m.rtmr[0], q.body.rtmr[0], 48);
	m.rtmr_known[2] = true;
	memset(m.rtmr[2], 0xab, 48);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	o.expect = &m;
	o.has_min_tee_tcb_svn = true;
	memcpy(o.min_tee_tcb_svn, q.body.tee_tcb_svn, 16);
	assert_int_equal(cvm_verify_tdx(v, &q, &o, &r, NULL), 0);
	assert_check(&r, "mrtd", CVM_CHECK_PASS);
	assert_check(&r, "td-attributes", CVM_CHECK_PASS);
	assert_check(&r, "xfam", CVM_CHECK_PASS);
	assert_check(&r, "mrconfigid", CVM_CHECK_PASS);
	assert_check(&r, "rtmr0", CVM_CHECK_PASS);
	assert_check(&r, "rtmr2", CVM_CHECK_FAIL);
	assert_check(&r, "min-tee-tcb-svn", CVM_CHECK_PASS);
	assert_null(cvm_verify_result_find(&r, "rtmr1"));
	assert_reason_has(&r, "rtmr2", ", expected abababababababab...abababab (first difference at byte 0)");
	o.min_tee_tcb_svn[2]++;
	m.rtmr_known[2] = false;
	m.xfam = 0x3;
	m.td_attributes = 0x0;
	m.mrowner[40] ^= 0x80;
	o.has_report_data = true;
	memcpy(o.report_data, q.body.report_data, 64);
	o.report_data[63] ^= 1;
	assert_int_equal(cvm_verify_tdx(v, &q, &o, &r, NULL), 0);
	assert_check(&r, "min-tee-tcb-svn", CVM_CHECK_FAIL);
	assert_check(&r, "xfam", CVM_CHECK_FAIL);
	assert_reason_has(&r, "xfam", "XFAM 0x642e7, expected 0x3");
	assert_reason_has(&r, "td-attributes", "TDATTRIBUTES 0x10000000, expected 0x0");
	char want[256], hh[2 * 8 + 1], hd[2 * 8 + 1], wd[2 * 8 + 1];
	cvm_hex_encode(q.body.mrowner, 8, hh);
	cvm_hex_encode(q.body.mrowner + 40, 8, hd);
	cvm_hex_encode(m.mrowner + 40, 8, wd);
	snprintf(want, sizeof(want), "MROWNER %s...%s, expected %s...%s (first difference at byte 40)",
		 hh, hd, hh, wd);
	assert_reason_has(&r, "mrowner", want);
	assert_check(&r, "report-data", CVM_CHECK_FAIL);
	assert_reason_has(&r, "report-data", "(first difference at byte 63)");
	m.xfam = 0x642e7;
	m.td_attributes = 0x10000000;
	m.mrowner[40] ^= 0x80;
	o.has_report_data = false;
	m.tee = CVM_TEE_SNP;
	o.min_tee_tcb_svn[2]--;
	assert_int_equal(cvm_verify_tdx(v, &q, &o, &r, NULL), 0);
	assert_check(&r, "mrtd", CVM_CHECK_FAIL);
	cvm_verifier_free(v);
}

static void tdx_certificate_cache_stays_bounded(void **state)
{
	(void)state;
	struct cvm_verifier *v = verifier_with(NULL);
	static struct blob b, orig;
	load(TRUSTEE "tdx/tdx_quote_4.dat", &orig);
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *end = memmem(orig.data, orig.len, "-----END CERTIFICATE-----", 25);
	assert_non_null(end);
	struct cvm_verify_result r;
	struct cvm_verify_options o = pinned_unevaluated("2025-06-01T00:00:00Z");
	o.allow_debug = true;
	/* 320 quotes whose PCK certificates differ in one signature character: all distinct. */
	size_t peak = 0;
	for (int i = 0; i < 320; i++) {
		b = orig;
		char *c = (char *)b.data + (end - (char *)orig.data) - 20 - (i / 64) * 3;
		if (*c == '\n')
			c--;
		*c = b64[(strchr(b64, *c) - b64 + 1 + i % 63) % 64];
		verify_blob(v, &b, &o, &r);
		assert_false(cvm_verify_result_ok(&r));
		peak = v->ncerts > peak ? v->ncerts : peak;
	}
	assert_true(peak >= 10 + CVM_VERIFIER_EVIDENCE_CERTS_MAX); /* the trim did run */
	assert_true(v->ncerts < 10 + CVM_VERIFIER_EVIDENCE_CERTS_MAX + 3);
	verify_blob(v, &orig, &o, &r);
	assert_true(cvm_verify_result_ok(&r));
	cvm_verifier_free(v);
}

static void mismatch_shows_both_values(void **state)
{
	(void)state;
	uint8_t have[64], want[64];
	for (size_t i = 0; i < sizeof(have); i++)
		have[i] = want[i] = (uint8_t)i;
	char buf[CVM_CHECK_REASON_MAX];

	/* Up to 32 bytes: whole. */
	want[3] = 0xff;
	cvm_mismatch_describe(buf, sizeof(buf), "HOST_DATA", have, want, 32);
	assert_string_equal(buf, "HOST_DATA 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f, "
				 "expected 000102ff0405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f "
				 "(first difference at byte 3)");
	want[3] = 3;

	/* 48 bytes: head, the 8 bytes from the difference, tail; both sides alike. */
	want[20] = 0xeb;
	cvm_mismatch_describe(buf, sizeof(buf), "MRTD", have, want, 48);
	assert_string_equal(buf, "MRTD 0001020304050607...1415161718191a1b...2c2d2e2f, "
				 "expected 0001020304050607...eb15161718191a1b...2c2d2e2f "
				 "(first difference at byte 20)");
	want[20] = 20;

	/* A difference near the end merges into the tail. */
	want[46] = 0xd1;
	cvm_mismatch_describe(buf, sizeof(buf), "MEASUREMENT", have, want, 48);
	assert_string_equal(buf, "MEASUREMENT 0001020304050607...2c2d2e2f, expected "
				 "0001020304050607...2c2dd12f (first difference at byte 46)");
	want[46] = 46;

	/* 64 bytes fit the reason too. */
	want[0] = 0xaa;
	cvm_mismatch_describe(buf, sizeof(buf), "REPORT_DATA", have, want, 64);
	assert_string_equal(buf, "REPORT_DATA 0001020304050607...3c3d3e3f, expected "
				 "aa01020304050607...3c3d3e3f (first difference at byte 0)");
	assert_true(strlen(buf) < sizeof(buf) - 1);

	/* Through the check: the pass text is unchanged, the fail text has both sides. */
	struct cvm_verify_result r;
	cvm_verify_result_init(&r);
	cvm_check_match_bytes(&r, "mrconfigid", "MRCONFIGID", have, have, 48);
	cvm_check_match_bytes(&r, "mrownerconfig", "MROWNERCONFIG", have, want, 48);
	assert_check(&r, "mrconfigid", CVM_CHECK_PASS);
	assert_reason_has(&r, "mrconfigid", "MRCONFIGID equals the expected value");
	assert_check(&r, "mrownerconfig", CVM_CHECK_FAIL);
	assert_reason_has(&r, "mrownerconfig", "MROWNERCONFIG 0001020304050607...2c2d2e2f, expected "
					       "aa01020304050607...2c2d2e2f (first difference at byte 0)");
}

static void time_parser_reads_rfc3339(void **state)
{
	(void)state;
	time_t t;
	assert_int_equal(cvm_time_parse_rfc3339("2025-06-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 1748736000);
	assert_int_equal(cvm_time_parse_rfc3339("2025-06-01T02:00:00+02:00", &t), 0);
	assert_int_equal(t, 1748736000);
	assert_int_equal(cvm_time_parse_rfc3339("2025-06-01", &t), 0);
	assert_int_equal(t, 1748736000);
	assert_int_equal(cvm_time_parse_rfc3339("2025-06-01T00:00:00", &t), -EINVAL);
	assert_int_equal(cvm_time_parse_rfc3339("yesterday", &t), -EINVAL);
}

/* Impossible dates are refused, not rolled over (2025-02-31 is not 3 March). */
static void time_parser_refuses_impossible_dates(void **state)
{
	(void)state;
	time_t t;
	static const char *const bad[] = {"2025-02-31T00:00:00Z", "2025-02-29", "2025-04-31",
					  "1900-02-29", "2025-12-32", "2025-00-10"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cvm_time_parse_rfc3339(bad[i], &t) != -EINVAL)
			fail_msg("%s was accepted", bad[i]);
	assert_int_equal(cvm_time_parse_rfc3339("2024-02-29", &t), 0); /* a leap year */
	assert_int_equal(cvm_time_parse_rfc3339("2000-02-29", &t), 0);
	assert_int_equal(cvm_time_parse_rfc3339("2025-01-31T23:59:60Z", &t), 0);
}

/* --- the verifier rules of a VM policy (sev/snp_verify_rules.c, tdx/tdx_verify_rules.c) --- */

struct snp_case {
	struct cvm_verifier *v;
	struct cvm_snp_report rep; /* the real report, changed field by field below */
	struct cvm_verify_rules rules;
	struct cvm_verify_options o;
	struct cvm_verify_result r;
};

/* Trustee's report (v2, policy 0x3001f, GUEST_SVN 4, ID block, COMMITTED ucode 115 < 206). */
static void snp_case_init(struct snp_case *c)
{
	static const char *const certs[] = {TRUSTEE "snp/test-vcek.der", NULL};
	static struct blob b;
	memset(c, 0, sizeof(*c));
	c->v = verifier_with(certs);
	load(TRUSTEE "snp/test-report.bin", &b);
	assert_int_equal(cvm_snp_report_parse(b.data, b.len, &c->rep, NULL), 0);
	c->o = pinned("2025-06-01T00:00:00Z");
	c->o.rules = &c->rules;
}

/* Verify c->rep with c->rules and return the status of one check. */
static enum cvm_check_status snp_rule(struct snp_case *c, const char *name)
{
	assert_int_equal(cvm_verify_snp(c->v, &c->rep, &c->o, &c->r, NULL), 0);
	return status_of(&c->r, name);
}

static void snp_rules_secure_defaults(void **state)
{
	(void)state;
	struct snp_case c;
	snp_case_init(&c);
	/* The real report passes every default. */
	assert_int_equal(snp_rule(&c, "vmpl"), CVM_CHECK_PASS);
	assert_check(&c.r, "migrate-ma", CVM_CHECK_PASS);
	assert_check(&c.r, "cxl", CVM_CHECK_PASS);
	assert_check(&c.r, "committed-firmware", CVM_CHECK_PASS);
	assert_check(&c.r, "cert-tcb", CVM_CHECK_PASS);
	assert_true(cvm_verify_result_ok(&c.r));
	assert_null(cvm_verify_result_find(&c.r, "guest-svn")); /* unset rules add no line */

	c.rep.vmpl = 2;
	assert_int_equal(snp_rule(&c, "vmpl"), CVM_CHECK_FAIL);
	c.rules.vmpl_mask = 0x4;
	assert_int_equal(snp_rule(&c, "vmpl"), CVM_CHECK_PASS);
	c.o.vmpl_mask = 0x1; /* the option overrides the rules */
	assert_int_equal(snp_rule(&c, "vmpl"), CVM_CHECK_FAIL);
	c.o.vmpl_mask = 0;

	c.rep.policy |= CVM_SNP_POLICY_MIGRATE_MA;
	assert_int_equal(snp_rule(&c, "migrate-ma"), CVM_CHECK_FAIL);
	c.rules.allow |= CVM_VERIFY_ALLOW_MIGRATE_MA;
	assert_int_equal(snp_rule(&c, "migrate-ma"), CVM_CHECK_PASS);

	c.rep.policy |= 1ull << 21; /* CXL_ALLOW */
	assert_int_equal(snp_rule(&c, "cxl"), CVM_CHECK_FAIL);
	c.rules.allow |= CVM_VERIFY_ALLOW_CXL;
	assert_int_equal(snp_rule(&c, "cxl"), CVM_CHECK_PASS);

	c.rep.policy |= CVM_SNP_POLICY_SMT;
	c.rules.refuse_smt = true;
	assert_int_equal(snp_rule(&c, "smt"), CVM_CHECK_FAIL);
	cvm_verifier_free(c.v);

	/* go-sev-guest's debug report: refused, accepted when the rules allow "debug". */
	static const char *const gcerts[] = {GOSEV "vcek.testcer", NULL};
	struct cvm_verifier *v = verifier_with(gcerts);
	static struct blob b;
	load(GOSEV "attestation.bin", &b);
	struct cvm_verify_rules rules = {0};
	struct cvm_verify_options o = pinned("2025-06-01T00:00:00Z");
	o.rules = &rules;
	struct cvm_verify_result r;
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "debug", CVM_CHECK_FAIL);
	rules.allow = CVM_VERIFY_ALLOW_DEBUG;
	verify_blob(v, &b, &o, &r);
	assert_check(&r, "debug", CVM_CHECK_PASS);
	cvm_verifier_free(v);
}

static void snp_rules_firmware_and_tcb(void **state)
{
	(void)state;
	struct snp_case c;
	snp_case_init(&c);
	/* COMMITTED ucode 115 < CURRENT 206: provisional, refused when committed is required. */
	c.rules.require_committed = true;
	assert_int_equal(snp_rule(&c, "committed-firmware"), CVM_CHECK_FAIL);
	assert_reason_has(&c.r, "committed-firmware", "ucode 115");
	c.rules.require_committed = false;
	uint64_t current = c.rep.current_tcb, committed = c.rep.committed_tcb;
	c.rep.committed_tcb = current | 0xffull << 56; /* committed above current: never */
	assert_int_equal(snp_rule(&c, "committed-firmware"), CVM_CHECK_FAIL);
	c.rep.committed_tcb = current;
	c.rep.committed_build = (uint8_t)(c.rep.current_build + 1);
	assert_int_equal(snp_rule(&c, "committed-firmware"), CVM_CHECK_FAIL);
	c.rep.committed_build = c.rep.current_build;
	c.rules.require_committed = true;
	assert_int_equal(snp_rule(&c, "committed-firmware"), CVM_CHECK_PASS);
	c.rules.require_committed = false;
	c.rep.committed_tcb = committed;

	/* Firmware 1.52.4. */
	c.rules.has_min_firmware = true;
	c.rules.min_fw_major = 1;
	c.rules.min_fw_minor = 52;
	c.rules.min_fw_build = 4;
	assert_int_equal(snp_rule(&c, "min-firmware"), CVM_CHECK_PASS);
	c.rules.min_fw_build = 5;
	assert_int_equal(snp_rule(&c, "min-firmware"), CVM_CHECK_FAIL);
	c.rules.min_fw_minor = 51;
	assert_int_equal(snp_rule(&c, "min-firmware"), CVM_CHECK_PASS);

	/* The VCEK's TCB (ucode 115) must not be above CURRENT_TCB. */
	c.rep.current_tcb = (current & ~(0xffull << 56)) | 0x72ull << 56;
	assert_int_equal(snp_rule(&c, "cert-tcb"), CVM_CHECK_FAIL);
	assert_check(&c.r, "reported-tcb", CVM_CHECK_PASS);
	c.rep.current_tcb = current;

	/* Minimum TCBs by component: REPORTED bl 3 tee 0 snp 8 ucode 115, CURRENT ucode 206. */
	c.rules.min_reported_tcb = (struct cvm_verify_tcb_min){true, 3, 0, 8, 115, 0};
	assert_int_equal(snp_rule(&c, "min-reported-tcb"), CVM_CHECK_PASS);
	c.rules.min_reported_tcb.microcode = 116;
	assert_int_equal(snp_rule(&c, "min-reported-tcb"), CVM_CHECK_FAIL);
	c.rules.min_current_tcb = (struct cvm_verify_tcb_min){.present = true, .microcode = 206};
	assert_int_equal(snp_rule(&c, "min-current-tcb"), CVM_CHECK_PASS);
	c.rules.min_committed_tcb = (struct cvm_verify_tcb_min){.present = true, .microcode = 206};
	assert_int_equal(snp_rule(&c, "min-committed-tcb"), CVM_CHECK_FAIL);
	c.rules.min_launch_tcb = (struct cvm_verify_tcb_min){.present = true, .snp = 9};
	assert_int_equal(snp_rule(&c, "min-launch-tcb"), CVM_CHECK_FAIL);
	c.rules.min_launch_tcb.snp = 8;
	assert_int_equal(snp_rule(&c, "min-launch-tcb"), CVM_CHECK_PASS);
	cvm_verifier_free(c.v);
}

static void snp_rules_policy_platform_and_ids(void **state)
{
	(void)state;
	struct snp_case c;
	snp_case_init(&c);
	/* POLICY 0x3001f: ABI 0.31, no SINGLE_SOCKET. */
	c.rules.require_policy = cvm_policy_verify_bit_parse("single_socket");
	assert_int_equal(snp_rule(&c, "required-policy"), CVM_CHECK_FAIL);
	assert_reason_has(&c.r, "required-policy", "single_socket");
	c.rep.policy |= 1ull << 20;
	assert_int_equal(snp_rule(&c, "required-policy"), CVM_CHECK_PASS);
	c.rules.has_min_abi = true;
	c.rules.min_abi_minor = 31;
	assert_int_equal(snp_rule(&c, "min-abi"), CVM_CHECK_PASS);
	c.rules.min_abi_major = 1;
	assert_int_equal(snp_rule(&c, "min-abi"), CVM_CHECK_FAIL);

	/* PLATFORM_INFO 0x1 (SMT_EN). */
	c.rules.has_platform_info_mask = true;
	c.rules.platform_info_mask = 0x1;
	assert_int_equal(snp_rule(&c, "platform-info"), CVM_CHECK_PASS);
	c.rules.platform_info_mask = 0x2;
	assert_int_equal(snp_rule(&c, "platform-info"), CVM_CHECK_FAIL);

	/* GUEST_SVN 4, report version 2. */
	c.rules.min_guest_svn = 4;
	assert_int_equal(snp_rule(&c, "guest-svn"), CVM_CHECK_PASS);
	c.rules.min_guest_svn = 5;
	assert_int_equal(snp_rule(&c, "guest-svn"), CVM_CHECK_FAIL);
	c.rules.min_report_version = 3;
	assert_int_equal(snp_rule(&c, "report-version"), CVM_CHECK_FAIL);
	c.rules.min_report_version = 2;
	assert_int_equal(snp_rule(&c, "report-version"), CVM_CHECK_PASS);

	/* Mitigation vectors: a v2 report has none, so a required bit fails; v5 compares bits. */
	c.rules.min_launch_mit_vector = 0x4;
	assert_int_equal(snp_rule(&c, "launch-mit-vector"), CVM_CHECK_FAIL);
	assert_reason_has(&c.r, "launch-mit-vector", "version 2");
	c.rep.version = 5;
	c.rep.launch_mit_vector = 0x5;
	assert_int_equal(snp_rule(&c, "launch-mit-vector"), CVM_CHECK_PASS);
	c.rules.min_current_mit_vector = 0x6;
	c.rep.current_mit_vector = 0x4;
	assert_int_equal(snp_rule(&c, "current-mit-vector"), CVM_CHECK_FAIL);
	assert_reason_has(&c.r, "current-mit-vector", "lacks required bits 0x2");
	c.rules.min_launch_mit_vector = c.rules.min_current_mit_vector = 0;
	c.rep.version = 2;

	/* Pins: FAMILY_ID 01..., IMAGE_ID 02..., and the report's own REPORT_ID(_MA), CHIP_ID. */
	struct {
		const char *name;
		bool *has;
		uint8_t *want, *field;
		size_t n;
	} pins[] = {
		{"family-id", &c.rules.has_family_id, c.rules.family_id, c.rep.family_id, 16},
		{"image-id", &c.rules.has_image_id, c.rules.image_id, c.rep.image_id, 16},
		{"report-id", &c.rules.has_report_id, c.rules.report_id, c.rep.report_id, 32},
		{"report-id-ma", &c.rules.has_report_id_ma, c.rules.report_id_ma, c.rep.report_id_ma,
		 32},
		{"chip-id-pin", &c.rules.has_chip_id, c.rules.chip_id, c.rep.chip_id, 64},
	};
	assert_int_equal(c.rep.family_id[0], 1);
	for (size_t i = 0; i < CVM_ARRAY_SIZE(pins); i++) {
		*pins[i].has = true;
		memcpy(pins[i].want, pins[i].field, pins[i].n);
		assert_int_equal(snp_rule(&c, pins[i].name), CVM_CHECK_PASS);
		pins[i].want[pins[i].n - 1] ^= 1;
		assert_int_equal(snp_rule(&c, pins[i].name), CVM_CHECK_FAIL);
		*pins[i].has = false;
	}
	cvm_verifier_free(c.v);
}

static void snp_rules_trusted_keys(void **state)
{
	(void)state;
	struct snp_case c;
	snp_case_init(&c);
	/* The report's ID block key; no author key (AUTHOR_KEY_EN 0). */
	c.rules.trusted_id_keys.count = 1;
	memcpy(c.rules.trusted_id_keys.digest[0], c.rep.id_key_digest, 48);
	assert_int_equal(snp_rule(&c, "id-key"), CVM_CHECK_PASS);
	c.rules.trusted_id_keys.digest[0][0] ^= 1;
	assert_int_equal(snp_rule(&c, "id-key"), CVM_CHECK_FAIL);

	uint8_t author[48];
	memset(author, 0xa5, sizeof(author));
	c.rules.trusted_author_keys.count = 1;
	memcpy(c.rules.trusted_author_keys.digest[0], author, 48);
	c.rules.require_author_key = true;
	assert_int_equal(snp_rule(&c, "author-key"), CVM_CHECK_FAIL);
	assert_reason_has(&c.r, "author-key", "AUTHOR_KEY_EN is 0");
	assert_check(&c.r, "id-key", CVM_CHECK_FAIL);
	c.rep.key_info |= 1; /* AUTHOR_KEY_EN, signed by the trusted author key */
	memcpy(c.rep.author_key_digest, author, 48);
	assert_int_equal(snp_rule(&c, "author-key"), CVM_CHECK_PASS);
	assert_check(&c.r, "id-key", CVM_CHECK_PASS);
	c.rep.author_key_digest[47] ^= 1;
	assert_int_equal(snp_rule(&c, "author-key"), CVM_CHECK_FAIL);
	cvm_verifier_free(c.v);
}

struct tdx_case {
	struct cvm_verifier *v;
	struct blob b;
	struct cvm_tdx_quote q;
	struct cvm_verify_rules rules;
	struct cvm_verify_options o;
	struct cvm_verify_result r;
};

static void tdx_case_init(struct tdx_case *c, const char *rel)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(cvm_verifier_new(&c->v, NULL), 0);
	load(rel, &c->b);
	assert_int_equal(cvm_tdx_quote_parse(c->b.data, c->b.len, &c->q, NULL), 0);
	c->o = pinned("2025-06-01T00:00:00Z");
	c->o.rules = &c->rules;
	c->o.allow_unevaluated = CVM_ALLOW_TCB_STATUS | CVM_ALLOW_QE_IDENTITY; /* no collateral */
}

static enum cvm_check_status tdx_rule(struct tdx_case *c, const char *name)
{
	assert_int_equal(cvm_verify_tdx(c->v, &c->q, &c->o, &c->r, NULL), 0);
	return status_of(&c->r, name);
}

static void tdx_rules_attributes_and_xfam(void **state)
{
	(void)state;
	static struct tdx_case c;
	tdx_case_init(&c, TRUSTEE "tdx/tdx_quote_5.dat"); /* TD_ATTRIBUTES 0x10000000, XFAM 0x642e7 */
	assert_int_equal(tdx_rule(&c, "td-attributes-bits"), CVM_CHECK_PASS);
	assert_check(&c.r, "xfam-fixed", CVM_CHECK_PASS);
	assert_true(cvm_verify_result_ok(&c.r));
	c.q.body.td_attributes |= 1ull << 29; /* MIGRATABLE: outside the accepted bits */
	assert_int_equal(tdx_rule(&c, "td-attributes-bits"), CVM_CHECK_FAIL);
	c.rules.allow = CVM_VERIFY_ALLOW_TD_ATTRIBUTES;
	assert_int_equal(tdx_rule(&c, "td-attributes-bits"), CVM_CHECK_PASS);
	c.q.body.td_attributes &= ~(1ull << 29);
	uint64_t xfam = c.q.body.xfam;
	c.q.body.xfam = xfam & ~2ull; /* SSE cleared */
	assert_int_equal(tdx_rule(&c, "xfam-fixed"), CVM_CHECK_FAIL);
	c.q.body.xfam = xfam | 1ull << 20; /* fixed to 0 */
	assert_int_equal(tdx_rule(&c, "xfam-fixed"), CVM_CHECK_FAIL);
	c.q.body.xfam = xfam;
	c.rules.require_sept_ve_disable = true;
	assert_int_equal(tdx_rule(&c, "sept-ve-disable"), CVM_CHECK_PASS);
	cvm_verifier_free(c.v);

	/* Azure's TD quote has TD_ATTRIBUTES 0: SEPT_VE_DISABLE clear, refused when required. */
	tdx_case_init(&c, TRUSTEE "az-tdx-vtpm/td-quote.bin");
	c.rules.require_sept_ve_disable = true;
	assert_int_equal(tdx_rule(&c, "sept-ve-disable"), CVM_CHECK_FAIL);
	cvm_verifier_free(c.v);
}

static void tdx_rules_lists_and_minima(void **state)
{
	(void)state;
	static struct tdx_case c;
	tdx_case_init(&c, TRUSTEE "tdx/tdx_quote_5.dat");
	c.rules.mrseam.count = 2;
	memset(c.rules.mrseam.digest[0], 0x11, 48);
	memcpy(c.rules.mrseam.digest[1], c.q.body.mrseam, 48);
	c.rules.mrtd.count = 1;
	memcpy(c.rules.mrtd.digest[0], c.q.body.mrtd, 48);
	assert_int_equal(tdx_rule(&c, "mrseam"), CVM_CHECK_PASS);
	assert_check(&c.r, "mrtd-list", CVM_CHECK_PASS);
	c.rules.mrseam.count = 1;
	c.rules.mrtd.digest[0][5] ^= 1;
	assert_int_equal(tdx_rule(&c, "mrseam"), CVM_CHECK_FAIL);
	assert_check(&c.r, "mrtd-list", CVM_CHECK_FAIL);
	c.rules.mrseam.count = 0;
	c.rules.mrtd.count = 0;

	c.rules.has_qe_vendor_id = true;
	memcpy(c.rules.qe_vendor_id, "\x93\x9a\x72\x33\xf7\x9c\x4c\xa9\x94\x0a\x0d\xb3\x95\x7f\x06\x07",
	       16);
	assert_int_equal(tdx_rule(&c, "qe-vendor-id-pin"), CVM_CHECK_PASS);
	c.rules.qe_vendor_id[15] ^= 1;
	assert_int_equal(tdx_rule(&c, "qe-vendor-id-pin"), CVM_CHECK_FAIL);
	c.rules.has_qe_vendor_id = false;

	c.rules.has_min_qe_svn = true;
	c.rules.min_qe_svn = c.q.qe_report.isvsvn;
	assert_int_equal(tdx_rule(&c, "qe-svn"), CVM_CHECK_PASS);
	c.rules.min_qe_svn = (uint16_t)(c.q.qe_report.isvsvn + 1);
	assert_int_equal(tdx_rule(&c, "qe-svn"), CVM_CHECK_FAIL);
	c.rules.has_min_qe_svn = false;

	c.rules.has_min_pce_svn = true;
	c.rules.min_pce_svn = 1;
	assert_int_equal(tdx_rule(&c, "pce-svn"), CVM_CHECK_PASS);
	assert_reason_has(&c.r, "pce-svn", "PCK certificate PCESVN");
	c.rules.min_pce_svn = 0xffff;
	assert_int_equal(tdx_rule(&c, "pce-svn"), CVM_CHECK_FAIL);
	c.rules.has_min_pce_svn = false;

	/* TEE_TCB_SVN and TEE_TCB_SVN2 are 05 01 02 00...; the option overrides the rule. */
	c.rules.has_min_tee_tcb_svn = true;
	c.rules.min_tee_tcb_svn[0] = 5;
	assert_int_equal(tdx_rule(&c, "min-tee-tcb-svn"), CVM_CHECK_PASS);
	c.rules.min_tee_tcb_svn[1] = 2;
	assert_int_equal(tdx_rule(&c, "min-tee-tcb-svn"), CVM_CHECK_FAIL);
	c.o.has_min_tee_tcb_svn = true; /* all zero */
	assert_int_equal(tdx_rule(&c, "min-tee-tcb-svn"), CVM_CHECK_PASS);
	c.rules.has_min_tee_tcb_svn2 = true;
	c.rules.min_tee_tcb_svn2[2] = 2;
	assert_int_equal(tdx_rule(&c, "min-tee-tcb-svn2"), CVM_CHECK_PASS);
	c.rules.min_tee_tcb_svn2[2] = 3;
	assert_int_equal(tdx_rule(&c, "min-tee-tcb-svn2"), CVM_CHECK_FAIL);
	cvm_verifier_free(c.v);

	/* A TDX 1.0 quote has no TEE_TCB_SVN2: a rule asking for one fails. */
	tdx_case_init(&c, TRUSTEE "tdx/tdx_quote_6.dat");
	c.rules.has_min_tee_tcb_svn2 = true;
	assert_int_equal(tdx_rule(&c, "min-tee-tcb-svn2"), CVM_CHECK_FAIL);
	assert_reason_has(&c.r, "min-tee-tcb-svn2", "TDX 1.0");
	cvm_verifier_free(c.v);
}

/* --- every CoRIM reference value is enforced or refused --------------------------------- */

/* Byte offsets in Veraison's corim-sevsnp-valid.cbor (the CoMID is embedded unchanged). */
#define CORIM_VALID "veraison-services-sevsnp/corim/corim-sevsnp-valid.cbor"
#define CORIM_VMPL_LSB 261         /* mkey 5: 560(h'00000000') */
#define CORIM_REPORTED_TCB_LSB 545 /* mkey 647: 552(0x541700000000000a), bootloader byte */
#define CORIM_MKEY7 282            /* {0: 7, ...}: PLATFORM_INFO */

static struct cvm_measurement *corim_decode(const struct blob *b)
{
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_measurement_decode(b->data, b->len, &m, &err);
	if (rc)
		print_message("# %s\n", cvm_error_message(&err));
	assert_int_equal(rc, 0);
	return m;
}

/* Every check named ref-* passes (and there are some), or one of them has status st. */
static size_t ref_checks(const struct cvm_verify_result *r, const char *name,
			 enum cvm_check_status st)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nchecks; i++) {
		const struct cvm_check *c = &r->checks[i];
		if (strncmp(c->name, "ref-", 4) != 0)
			continue;
		n++;
		enum cvm_check_status want = strcmp(c->name, name) == 0 ? st : CVM_CHECK_PASS;
		if (c->status != want)
			print_message("# %s %s: %s\n", cvm_check_status_name(c->status), c->name,
				      c->reason);
		assert_int_equal(c->status, want);
	}
	return n;
}

static void corim_reference_values_are_enforced(void **state)
{
	(void)state;
	static struct blob c;
	load(CORIM_VALID, &c);
	struct cvm_measurement *m = corim_decode(&c);
	const struct cvm_snp_refvals *rv = &m->snp_rv;
	uint32_t all = CVM_SNP_RV_VERSION | CVM_SNP_RV_MIN_GUEST_SVN | CVM_SNP_RV_FAMILY_ID |
		       CVM_SNP_RV_IMAGE_ID | CVM_SNP_RV_VMPL | CVM_SNP_RV_CURRENT_TCB |
		       CVM_SNP_RV_PLATFORM_INFO | CVM_SNP_RV_REPORT_DATA | CVM_SNP_RV_REPORT_ID |
		       CVM_SNP_RV_REPORT_ID_MA | CVM_SNP_RV_REPORTED_TCB | CVM_SNP_RV_CHIP_ID |
		       CVM_SNP_RV_COMMITTED_TCB | CVM_SNP_RV_CURRENT_VERSION |
		       CVM_SNP_RV_COMMITTED_VERSION | CVM_SNP_RV_LAUNCH_TCB;
	assert_int_equal(rv->present, all);
	assert_int_equal(rv->vmpl, 0);
	assert_int_equal(rv->reported_tcb, 0x541700000000000aull);
	assert_int_equal(rv->current_version[1], 55);

	/* The real report given the reference's values (the signature is not what is tested). */
	struct snp_case sc;
	snp_case_init(&sc);
	struct cvm_snp_report *rep = &sc.rep;
	memcpy(rep->measurement, m->digest, 48);
	rep->policy = m->snp_policy;
	rep->version = rv->version;
	rep->guest_svn = rv->guest_svn;
	memcpy(rep->family_id, rv->family_id, 16);
	memcpy(rep->image_id, rv->image_id, 16);
	rep->vmpl = rv->vmpl;
	rep->platform_info = rv->platform_info;
	memcpy(rep->report_data, rv->report_data, 64);
	memcpy(rep->report_id, rv->report_id, 32);
	memcpy(rep->report_id_ma, rv->report_id_ma, 32);
	memcpy(rep->chip_id, rv->chip_id, 64);
	rep->current_tcb = rv->current_tcb;
	rep->reported_tcb = rv->reported_tcb;
	rep->committed_tcb = rv->committed_tcb;
	rep->launch_tcb = rv->launch_tcb;
	rep->current_major = rv->current_version[0];
	rep->current_minor = rv->current_version[1];
	rep->current_build = rv->current_version[2];
	rep->committed_major = rv->committed_version[0];
	rep->committed_minor = rv->committed_version[1];
	rep->committed_build = rv->committed_version[2];
	sc.o.expect = m;
	assert_int_equal(snp_rule(&sc, "measurement"), CVM_CHECK_PASS);
	assert_int_equal(ref_checks(&sc.r, "", CVM_CHECK_PASS), 16);

	/* Patched copies: VMPL 3, then a higher minimum REPORTED_TCB (bootloader 11). */
	c.data[CORIM_VMPL_LSB] = 3;
	struct cvm_measurement *vmpl3 = corim_decode(&c);
	sc.o.expect = vmpl3;
	assert_int_equal(snp_rule(&sc, "ref-vmpl"), CVM_CHECK_FAIL);
	ref_checks(&sc.r, "ref-vmpl", CVM_CHECK_FAIL);
	assert_false(cvm_verify_result_ok(&sc.r));
	c.data[CORIM_VMPL_LSB] = 0;
	c.data[CORIM_REPORTED_TCB_LSB]++;
	struct cvm_measurement *tcb = corim_decode(&c);
	sc.o.expect = tcb;
	assert_int_equal(snp_rule(&sc, "ref-reported-tcb"), CVM_CHECK_FAIL);
	ref_checks(&sc.r, "ref-reported-tcb", CVM_CHECK_FAIL);
	c.data[CORIM_REPORTED_TCB_LSB]--;

	/* GUEST_SVN is a minimum (553): above passes, below fails; IMAGE_ID exact. */
	rep->guest_svn = rv->guest_svn + 1;
	sc.o.expect = m;
	assert_int_equal(snp_rule(&sc, "ref-guest-svn"), CVM_CHECK_PASS);
	rep->image_id[3] ^= 1;
	assert_int_equal(snp_rule(&sc, "ref-image-id"), CVM_CHECK_FAIL);
	rep->family_id[0] ^= 1;
	assert_int_equal(snp_rule(&sc, "ref-family-id"), CVM_CHECK_FAIL);

	/* A reference value cvmkit does not know is refused, never ignored. */
	assert_int_equal(c.data[CORIM_MKEY7], 7);
	c.data[CORIM_MKEY7] = 8;
	struct cvm_measurement *unknown = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_measurement_decode(c.data, c.len, &unknown, &err), -ENOTSUP);
	assert_null(unknown);
	assert_non_null(strstr(cvm_error_message(&err), "reference value mkey 8 is not supported"));
	c.data[CORIM_MKEY7] = 7;

	cvm_measurement_free(m);
	cvm_measurement_free(vmpl3);
	cvm_measurement_free(tcb);
	cvm_verifier_free(sc.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_check_is_lost),
		cmocka_unit_test(tdx_collateral_loading_fails_closed),
		cmocka_unit_test(tdx_every_crl_of_a_pem_bundle_counts),
		cmocka_unit_test(tdx_tcb_info_per_fmspc),
		cmocka_unit_test(snp_decoy_vcek_does_not_shadow),
		cmocka_unit_test(allow_list_parses_check_names),
		cmocka_unit_test(go_sev_guest_report_is_genuine_but_debug_is_refused),
		cmocka_unit_test(time_parser_refuses_impossible_dates),
		cmocka_unit_test(virtee_milan_report_is_valid_from_hex_text),
		cmocka_unit_test(virtee_flipped_vcek_byte40_fails_the_chain),
		cmocka_unit_test(virtee_report_byte21_bit7_fails_the_signature),
		cmocka_unit_test(trustee_report_valid_and_its_bit_flips_fail_the_right_check),
		cmocka_unit_test(trustee_vlek_expired_now_valid_in_june_2025),
		cmocka_unit_test(malformed_vcek_extension_fails_reported_tcb),
		cmocka_unit_test(edited_vceks_parse_but_fail_the_chain),
		cmocka_unit_test(milan_vcek_does_not_chain_to_genoa),
		cmocka_unit_test(turin_vcek_chains_to_the_turin_ark),
		cmocka_unit_test(bundled_roots_are_self_signed_pss),
		cmocka_unit_test(user_copies_of_roots_are_deduplicated),
		cmocka_unit_test(policy_checks_smt_and_min_tcb),
		cmocka_unit_test(snp_expectations_match_field_by_field),
		cmocka_unit_test(nonzero_unsigned_trailer_fails),
		cmocka_unit_test(missing_certificate_is_a_failed_check),
		cmocka_unit_test(truncated_padded_and_flipped_reports_never_pass),
		cmocka_unit_test(batch_reuses_cached_issuer_links),
		cmocka_unit_test(clones_share_trust_material_not_evidence),
		cmocka_unit_test(tdx_crls_inside_evidence_are_dropped_after_its_verdict),
		cmocka_unit_test(tdx_v4_debug_quote_genuine_but_debug_refused),
		cmocka_unit_test(tdx_v5_and_quote6_are_valid),
		cmocka_unit_test(tdx_bit_flips_fail_the_right_check),
		cmocka_unit_test(tdx_pck_chain_time_is_enforced),
		cmocka_unit_test(tdx_random_report_dat_is_rejected),
		cmocka_unit_test(tdx_go_tdx_guest_collateral_verifies_for_quote4),
		cmocka_unit_test(tdx_trustee_collateral_signatures_verify_for_quote6),
		cmocka_unit_test(tdx_duplicated_tcb_info_key_evaluates_the_signed_value),
		cmocka_unit_test(tdx_expectations_and_policy),
		cmocka_unit_test(tdx_certificate_cache_stays_bounded),
		cmocka_unit_test(mismatch_shows_both_values),
		cmocka_unit_test(time_parser_reads_rfc3339),
		cmocka_unit_test(snp_rules_secure_defaults),
		cmocka_unit_test(snp_rules_firmware_and_tcb),
		cmocka_unit_test(snp_rules_policy_platform_and_ids),
		cmocka_unit_test(snp_rules_trusted_keys),
		cmocka_unit_test(tdx_rules_attributes_and_xfam),
		cmocka_unit_test(tdx_rules_lists_and_minima),
		cmocka_unit_test(corim_reference_values_are_enforced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
