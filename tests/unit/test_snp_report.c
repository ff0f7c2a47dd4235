/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: SEV-SNP attestation report parser (sev/snp_report.c) on the real reports. */
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

/* Reads vectors/attest/REL into buf (at most cap bytes); skips the test when it is missing. */
static size_t load_vector(const char *rel, uint8_t *buf, size_t cap)
{
	char path[512];
	snprintf(path, sizeof(path), "attest/%s", rel);
	return cvm_test_vector_load(path, buf, cap);
}

static void load_report(const char *rel, uint8_t raw[CVM_SNP_REPORT_SIZE])
{
	assert_int_equal(load_vector(rel, raw, CVM_SNP_REPORT_SIZE), CVM_SNP_REPORT_SIZE);
}

static void parses_go_sev_guest_v2_debug_report(void **state)
{
	(void)state;
	uint8_t raw[CVM_SNP_REPORT_SIZE];
	load_report("google-go-sev-guest/attestation.bin", raw);
	struct cvm_snp_report r;
	assert_int_equal(cvm_snp_report_parse(raw, sizeof(raw), &r, NULL), 0);
	assert_int_equal(r.version, 2);
	assert_int_equal(r.policy, 0xb0000);
	assert_true(r.policy & CVM_SNP_POLICY_DEBUG);
	assert_int_equal(r.vmpl, 0);
	assert_int_equal(cvm_snp_report_signing_key(&r), CVM_SNP_KEY_VCEK);
	static const uint8_t rd[8] = {1, 2, 3, 4, 5, 0, 0, 0};
	assert_memory_equal(r.report_data, rd, sizeof(rd));
	assert_int_equal(r.reported_tcb, 0x4405000000000002ull);
	assert_int_equal(cvm_snp_report_product(&r), CVM_AMD_UNKNOWN); /* v2: no CPUID */
	size_t off;
	const char *what;
	assert_false(cvm_snp_report_reserved_nonzero(&r, &off, &what));
}

static void parses_trustee_report_with_id_block(void **state)
{
	(void)state;
	uint8_t raw[CVM_SNP_REPORT_SIZE];
	load_report("confidential-containers-trustee/snp/test-report.bin", raw);
	struct cvm_snp_report r;
	assert_int_equal(cvm_snp_report_parse(raw, sizeof(raw), &r, NULL), 0);
	assert_int_equal(r.policy, 0x3001f);
	assert_int_equal(r.guest_svn, 4);
	assert_int_equal(r.family_id[0], 0x01);
	assert_int_equal(r.image_id[0], 0x02);
	struct cvm_snp_tcb cur, com;
	cvm_snp_tcb_decode(r.current_tcb, CVM_AMD_MILAN, &cur);
	cvm_snp_tcb_decode(r.committed_tcb, CVM_AMD_MILAN, &com);
	assert_int_equal(cur.microcode, 206);
	assert_int_equal(com.microcode, 115);
}

static void parses_v3_vlek_report(void **state)
{
	(void)state;
	uint8_t raw[CVM_SNP_REPORT_SIZE];
	load_report("confidential-containers-trustee/snp/test-vlek-report.bin", raw);
	struct cvm_snp_report r;
	assert_int_equal(cvm_snp_report_parse(raw, sizeof(raw), &r, NULL), 0);
	assert_int_equal(r.version, 3);
	assert_int_equal(r.vmpl, 1);
	assert_int_equal(cvm_snp_report_signing_key(&r), CVM_SNP_KEY_VLEK);
	static const uint8_t zero[64];
	assert_memory_equal(r.chip_id, zero, 64);
	assert_int_equal(r.cpuid_fam_id, 0x19);
	assert_int_equal(cvm_snp_report_product(&r), CVM_AMD_MILAN);
}

static void rejects_truncated_and_padded_reports(void **state)
{
	(void)state;
	uint8_t raw[CVM_SNP_REPORT_SIZE + 16];
	memset(raw, 0, sizeof(raw));
	load_report("virtee-sev/report_milan.bin", raw);
	struct cvm_snp_report r;
	struct cvm_error err;
	assert_int_equal(cvm_snp_report_parse(raw, CVM_SNP_REPORT_SIZE - 1, &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "truncated"));
	assert_int_equal(cvm_snp_report_parse(raw, CVM_SNP_REPORT_SIZE + 16, &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "padded"));
	assert_int_equal(cvm_snp_report_parse(raw, 0, &r, &err), -EINVAL);
}

static void rejects_unknown_versions_and_algorithms(void **state)
{
	(void)state;
	uint8_t raw[CVM_SNP_REPORT_SIZE];
	load_report("virtee-sev/report_milan.bin", raw);
	struct cvm_snp_report r;
	struct cvm_error err;
	static const uint32_t bad[] = {0, 1, 6, 0x100};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(bad); i++) {
		cvm_put_le32(raw, bad[i]);
		assert_int_equal(cvm_snp_report_parse(raw, sizeof(raw), &r, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "version"));
	}
	cvm_put_le32(raw, 2);
	cvm_put_le32(raw + 0x34, 2);
	assert_int_equal(cvm_snp_report_parse(raw, sizeof(raw), &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "signature algorithm"));
}

static void reads_v5_mitigation_vectors_and_turin_cpuid(void **state)
{
	(void)state;
	uint8_t raw[CVM_SNP_REPORT_SIZE];
	load_report("confidential-containers-trustee/snp/test-vlek-report.bin", raw);
	cvm_put_le32(raw, 5);
	raw[0x188] = 0x1a;
	raw[0x189] = 0x02;
	cvm_put_le64(raw + 0x1f8, 0x11);
	cvm_put_le64(raw + 0x200, 0x22);
	struct cvm_snp_report r;
	assert_int_equal(cvm_snp_report_parse(raw, sizeof(raw), &r, NULL), 0);
	assert_int_equal(r.launch_mit_vector, 0x11);
	assert_int_equal(r.current_mit_vector, 0x22);
	assert_int_equal(cvm_snp_report_product(&r), CVM_AMD_TURIN);
	size_t off;
	const char *what;
	assert_false(cvm_snp_report_reserved_nonzero(&r, &off, &what));
	/* The same bytes in a v3 report are reserved. */
	cvm_put_le32(raw, 3);
	assert_int_equal(cvm_snp_report_parse(raw, sizeof(raw), &r, NULL), 0);
	assert_true(cvm_snp_report_reserved_nonzero(&r, &off, &what));
	assert_int_equal(off, 0x1f8);
}

static void finds_nonzero_unsigned_trailer(void **state)
{
	(void)state;
	uint8_t raw[CVM_SNP_REPORT_SIZE];
	load_report("virtee-sev/report_milan.bin", raw);
	raw[0x400] = 0x5a;
	struct cvm_snp_report r;
	assert_int_equal(cvm_snp_report_parse(raw, sizeof(raw), &r, NULL), 0);
	size_t off;
	const char *what;
	assert_true(cvm_snp_report_reserved_nonzero(&r, &off, &what));
	assert_int_equal(off, 0x400);
	assert_non_null(strstr(what, "unsigned trailer"));
}

/* KEY_INFO bits 31:5 must be zero; the offset names the byte that holds the set bit. */
static void finds_key_info_reserved_bits(void **state)
{
	(void)state;
	uint8_t raw[CVM_SNP_REPORT_SIZE];
	load_report("google-go-sev-guest/attestation.bin", raw);
	struct cvm_snp_report r;
	size_t off;
	const char *what;
	raw[0x4a] = 0x01; /* bit 16 */
	assert_int_equal(cvm_snp_report_parse(raw, sizeof(raw), &r, NULL), 0);
	assert_true(cvm_snp_report_reserved_nonzero(&r, &off, &what));
	assert_int_equal(off, 0x4a);
	assert_string_equal(what, "KEY_INFO bits 31:5");
	raw[0x48] |= 0x20; /* bit 5 */
	assert_int_equal(cvm_snp_report_parse(raw, sizeof(raw), &r, NULL), 0);
	assert_true(cvm_snp_report_reserved_nonzero(&r, &off, &what));
	assert_int_equal(off, 0x48);
}

static void decodes_tcb_in_both_layouts(void **state)
{
	(void)state;
	struct cvm_snp_tcb t;
	cvm_snp_tcb_decode(0x541700000000000Aull, CVM_AMD_GENOA, &t);
	assert_int_equal(t.bootloader, 10);
	assert_int_equal(t.tee, 0);
	assert_int_equal(t.snp, 23);
	assert_int_equal(t.microcode, 84);
	/* Turin: byte0 FMC, byte1 BL, byte2 TEE, byte3 SNP, byte7 ucode. */
	cvm_snp_tcb_decode(0x4800000004030201ull, CVM_AMD_TURIN, &t);
	assert_int_equal(t.fmc, 1);
	assert_int_equal(t.bootloader, 2);
	assert_int_equal(t.tee, 3);
	assert_int_equal(t.snp, 4);
	assert_int_equal(t.microcode, 0x48);
}

static void names_and_parses_products(void **state)
{
	(void)state;
	enum cvm_amd_product p;
	assert_int_equal(cvm_amd_product_parse("Genoa", &p), 0);
	assert_int_equal(p, CVM_AMD_GENOA);
	assert_string_equal(cvm_amd_product_name(CVM_AMD_TURIN), "turin");
	assert_int_equal(cvm_amd_product_parse("siena", &p), -EINVAL);
}

static void detects_evidence_kinds(void **state)
{
	(void)state;
	uint8_t raw[CVM_SNP_REPORT_SIZE];
	load_report("virtee-sev/report_milan.bin", raw);
	assert_int_equal(cvm_evidence_detect(raw, sizeof(raw)), CVM_EVIDENCE_SNP_REPORT);
	uint8_t hex_text[2 * CVM_SNP_REPORT_SIZE + 1];
	size_t n = load_vector("virtee-sev/report_milan.hex", hex_text, sizeof(hex_text));
	uint8_t *bin = NULL;
	size_t blen = 0;
	assert_int_equal(cvm_evidence_unhex(hex_text, n, &bin, &blen), 0);
	assert_int_equal(blen, CVM_SNP_REPORT_SIZE);
	assert_memory_equal(bin, raw, blen);
	free(bin);
	assert_int_equal(cvm_evidence_unhex(raw, sizeof(raw), &bin, &blen), -EINVAL);
	assert_int_equal(cvm_evidence_detect(raw, 2), CVM_EVIDENCE_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_go_sev_guest_v2_debug_report),
		cmocka_unit_test(parses_trustee_report_with_id_block),
		cmocka_unit_test(parses_v3_vlek_report),
		cmocka_unit_test(rejects_truncated_and_padded_reports),
		cmocka_unit_test(rejects_unknown_versions_and_algorithms),
		cmocka_unit_test(reads_v5_mitigation_vectors_and_turin_cpuid),
		cmocka_unit_test(finds_nonzero_unsigned_trailer),
		cmocka_unit_test(finds_key_info_reserved_bits),
		cmocka_unit_test(decodes_tcb_in_both_layouts),
		cmocka_unit_test(names_and_parses_products),
		cmocka_unit_test(detects_evidence_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
