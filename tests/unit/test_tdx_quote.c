/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: TDX quote parser (tdx/tdx_quote.c) on the real v4 and v5 quotes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cvmkit/util.h>
#include <cvmkit/verify.h>

#include "tests/unit/helper_vectors.h"

#define QUOTE_MAX 8192

/* Reads vectors/attest/REL into buf (at most cap bytes); skips the test when it is missing. */
static size_t load_vector(const char *rel, uint8_t *buf, size_t cap)
{
	char path[512];
	snprintf(path, sizeof(path), "attest/%s", rel);
	return cvm_test_vector_load(path, buf, cap);
}

static void assert_hex_prefix(const uint8_t *p, const char *hex)
{
	char buf[97];
	size_t n = strlen(hex) / 2;
	cvm_hex_encode(p, n, buf);
	assert_string_equal(buf, hex);
}

static void parses_v4_debug_quote(void **state)
{
	(void)state;
	static uint8_t q[QUOTE_MAX];
	size_t n = load_vector("confidential-containers-trustee/tdx/tdx_quote_4.dat", q, sizeof(q));
	struct cvm_tdx_quote t;
	assert_int_equal(cvm_tdx_quote_parse(q, n, &t, NULL), 0);
	assert_int_equal(t.version, 4);
	assert_int_equal(t.body_type, CVM_TDX_BODY_TDX10);
	assert_int_equal(t.tee_type, 0x81);
	assert_int_equal(t.body.td_attributes, 0x10000001ull);
	assert_int_equal(t.body.xfam, 0x642e7ull);
	assert_hex_prefix(t.body.mrtd, "705ee9381b8633a9");
	assert_hex_prefix(t.qe_vendor_id, "939a7233f79c4ca9940a0db3957f0607");
	assert_int_equal(t.signed_len, 0x278);
	assert_int_equal(t.qe_auth_len, 32);
	assert_int_equal(t.pck_chain_len, 3678);
	assert_int_equal(t.qe_report.isvprodid, 2);
	assert_hex_prefix(t.qe_report.mrsigner, "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");
	assert_int_equal(t.trailing, 0);
}

/* Expected values: trustee's tdx/parse_tdx_claims_expected.json for the same quote. */
static void v4_fields_match_trustee_claims(void **state)
{
	(void)state;
	static uint8_t q[QUOTE_MAX];
	size_t n = load_vector("confidential-containers-trustee/tdx/tdx_quote_4.dat", q, sizeof(q));
	struct cvm_tdx_quote t;
	assert_int_equal(cvm_tdx_quote_parse(q, n, &t, NULL), 0);
	assert_hex_prefix(t.body.mrseam, "2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9"
					 "a89b4869a9fab60fbe9d0c5a5363c656");
	assert_hex_prefix(t.body.rtmr[0], "e940da7c2712d2790e2961e00484f4fa8e6f9eed71361655ae22699476b14f9e"
					  "63867eb41edd4b480fef0c59f496b288");
	assert_hex_prefix(t.body.rtmr[1], "559cfcf42716ed6c40a48a73d5acb7da255435012f0a9f00fbe8c1c57612ede4"
					  "86a5684c4c9ff3ddf52315fcdca3a596");
	assert_hex_prefix(t.body.report_data, "7c71fe2c86eff65a7cf8dbc22b3275689fd0464a267baced1bf94fc1324656ae"
					      "b755da3d44d098c0c87382f3a5f85b45");
	assert_hex_prefix(t.body.tee_tcb_svn, "03000500000000000000000000000000");
	assert_hex_prefix(t.user_data, "d099bfec0a477aa85a605dceabf2b10800000000");
	static const uint8_t zero[48];
	assert_memory_equal(t.body.mrsignerseam, zero, 48);
	assert_memory_equal(t.body.rtmr[2], zero, 48);
}

static void parses_v5_tdx15_quote_with_shifted_offsets(void **state)
{
	(void)state;
	static uint8_t q[QUOTE_MAX];
	size_t n = load_vector("confidential-containers-trustee/tdx/tdx_quote_5.dat", q, sizeof(q));
	struct cvm_tdx_quote t;
	assert_int_equal(cvm_tdx_quote_parse(q, n, &t, NULL), 0);
	assert_int_equal(t.version, 5);
	assert_int_equal(t.body_type, CVM_TDX_BODY_TDX15);
	assert_int_equal(t.body_size, 648);
	assert_int_equal(t.signed_len, 0x36 + 648);
	assert_hex_prefix(t.body.mrtd, "dfba221b48a22af8");
	assert_memory_equal(t.body.mrtd, q + 0xbe, 48); /* v4 offset + 6 */
	assert_hex_prefix(t.body.tee_tcb_svn, "05010200000000000000000000000000");
}

static void accepts_zero_padding_after_quote6(void **state)
{
	(void)state;
	static uint8_t q[QUOTE_MAX];
	size_t n = load_vector("confidential-containers-trustee/tdx/tdx_quote_6.dat", q, sizeof(q));
	struct cvm_tdx_quote t;
	assert_int_equal(cvm_tdx_quote_parse(q, n, &t, NULL), 0);
	assert_int_equal(t.version, 4);
	assert_int_equal(t.trailing, 70);
	assert_false(t.trailing_nonzero);
	q[n - 1] = 1;
	assert_int_equal(cvm_tdx_quote_parse(q, n, &t, NULL), 0);
	assert_true(t.trailing_nonzero);
}

static void rejects_every_truncation(void **state)
{
	(void)state;
	static uint8_t q[QUOTE_MAX];
	size_t n = load_vector("confidential-containers-trustee/tdx/tdx_quote_5.dat", q, sizeof(q));
	struct cvm_tdx_quote t;
	for (size_t len = 0; len < n; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, q, len);
		struct cvm_error err;
		assert_int_equal(cvm_tdx_quote_parse(copy, len, &t, &err), -EINVAL);
		free(copy);
	}
}

static void rejects_bad_header_fields(void **state)
{
	(void)state;
	static uint8_t q[QUOTE_MAX];
	size_t n = load_vector("confidential-containers-trustee/tdx/tdx_quote_4.dat", q, sizeof(q));
	struct cvm_tdx_quote t;
	struct cvm_error err;
	q[0] = 3;
	assert_int_equal(cvm_tdx_quote_parse(q, n, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "version 3"));
	q[0] = 4;
	q[4] = 0;
	assert_int_equal(cvm_tdx_quote_parse(q, n, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "TEE type"));
	q[4] = 0x81;
	q[2] = 3;
	assert_int_equal(cvm_tdx_quote_parse(q, n, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "attestation key type"));
	q[2] = 2;
	cvm_put_le32(q + 0x278, 0xffffffffu); /* signature data length */
	assert_int_equal(cvm_tdx_quote_parse(q, n, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "signature data claims"));
}

static void rejects_unknown_v5_body_type(void **state)
{
	(void)state;
	static uint8_t q[QUOTE_MAX];
	size_t n = load_vector("confidential-containers-trustee/tdx/tdx_quote_5.dat", q, sizeof(q));
	struct cvm_tdx_quote t;
	struct cvm_error err;
	cvm_put_le16(q + 0x30, 1);
	assert_int_equal(cvm_tdx_quote_parse(q, n, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "body type 1"));
	cvm_put_le16(q + 0x30, 3);
	cvm_put_le32(q + 0x32, 584);
	assert_int_equal(cvm_tdx_quote_parse(q, n, &t, &err), -EINVAL);
}

static void rejects_random_report_dat(void **state)
{
	(void)state;
	uint8_t q[1024];
	size_t n = load_vector("google-go-tdx-guest/report.dat", q, sizeof(q));
	struct cvm_tdx_quote t;
	assert_int_equal(cvm_tdx_quote_parse(q, n, &t, NULL), -EINVAL);
	assert_int_equal(cvm_evidence_detect(q, n), CVM_EVIDENCE_UNKNOWN);
}

static void detects_quotes(void **state)
{
	(void)state;
	static uint8_t q[QUOTE_MAX];
	size_t n = load_vector("confidential-containers-trustee/tdx/tdx_quote_4.dat", q, sizeof(q));
	assert_int_equal(cvm_evidence_detect(q, n), CVM_EVIDENCE_TDX_QUOTE);
	assert_string_equal(cvm_evidence_kind_name(CVM_EVIDENCE_TDX_QUOTE), "tdx");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_v4_debug_quote),
		cmocka_unit_test(v4_fields_match_trustee_claims),
		cmocka_unit_test(parses_v5_tdx15_quote_with_shifted_offsets),
		cmocka_unit_test(accepts_zero_padding_after_quote6),
		cmocka_unit_test(rejects_every_truncation),
		cmocka_unit_test(rejects_bad_header_fields),
		cmocka_unit_test(rejects_unknown_v5_body_type),
		cmocka_unit_test(rejects_random_report_dat),
		cmocka_unit_test(detects_quotes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
