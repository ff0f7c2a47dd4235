/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: TDX planner, MRTD model, TD HOB, RTMR precompute and refusals (tdx/).
 * Expected values: vectors/tdx/VECTORS.md sections A-C.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>

#include <cvmkit/tdx.h>
#include <cvmkit/util.h>

#include "tests/unit/helper_vectors.h"
#include "tests/fuzz/plan_input.h"

#define DEBIAN_OVMF "/usr/share/ovmf/OVMF.fd"
#define DEBIAN_OVMF_CODE "/usr/share/OVMF/OVMF_CODE.fd"
#define DEBIAN_OVMF_CODE_4M "/usr/share/OVMF/OVMF_CODE_4M.fd"

#define GIB (1024ull * 1024 * 1024)

/* ---- vectors (VECTORS.md) ---------------------------------------------------------------- */

#define A_MRTD_SINGLE                                                                          \
	"4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb231c47"
#define A_MRTD_TWO                                                                             \
	"acccbcc870a381adab0d3919d90a7f268ac3b0364771f202ed4bb4e892d045b33db3b32e6924cba830a724eed443f7e1"
#define A_CFV                                                                                  \
	"f87302177b059d54a2cf0c5f13340dbabf5c9dd60dc3f996c68b776fbe4de959769443a3d8ef6538b97d7e151c8298e8"
#define A_HOB_2G                                                                               \
	"0b8772e5b0b41b83e6044a68397e02f49fb47066b4fbe4917ea2c45c64f323fdacbb37948f821ebaf8bc9c938ba8a749"
#define A_HOB_4G                                                                               \
	"5b684faf8d02a733945f821d9cdd170802e72103977acf66949c9382500283adc90cbec57f8e7653f8bee1cab83689de"
#define A_HOB_8G                                                                               \
	"2e070cda358b5aa00f27cca25c47381bb564f4be3a84d059805a73cbbde764ed8341f7e09915b5e7b370f9c08a743fbd"

#define B_SECUREBOOT                                                                           \
	"9dc3a1f80bcec915391dcda5ffbb15e7419f77eab462bbf72b42166fb70d50325e37b36f93537a863769bcf9bedae6fb"
#define B_PK                                                                                   \
	"6f2e3cbc14f9def86980f5f66fd85e99d63e69a73014ed8a5633ce56eca5b64b692108c56110e22acadcef58c3250f1b"
#define B_KEK                                                                                  \
	"d607c0efb41c0d757d69bca0615c3a9ac0b1db06c557d992e906c6b7dee40e0e031640c7bfd7bcd35844ef9edeadc6f9"
#define B_DB                                                                                   \
	"08a74f8963b337acb6c93682f934496373679dd26af1089cb4eaf0c30cf260a12e814856385ab8843e56a9acea19e127"
#define B_DBX                                                                                  \
	"18cc6e01f0c6ea99aa23f8a280423e94ad81d96d0aeb5180504fc0f7a40cb3619dd39bd6a95ec1680a86ed6ab0f9828d"
#define B_SEPARATOR                                                                            \
	"394341b7182cd227c5c6b07ef8000cdfd86136c4292b8e576573ad7ed9ae41019f5818b4b971c9effc60e1ad9f1289f0"
#define B_BOOTORDER                                                                            \
	"1dd6f7b457ad880d840d41c961283bab688e94e4b59359ea45686581e90feccea3c624b1226113f824f315eb60ae0a7c"
#define B_BOOT0000                                                                             \
	"23ada07f5261f12f34a0bd8e46760962d6b4d576a416f1fea1c64bc656b1d28eacf7047ae6e967c58fd2a98bfa74c298"
#define B_CALLING                                                                              \
	"77a0dab2312b4e1e57a84d865a21e5b2ee8d677a21012ada819d0a98988078d3d740f6346bfe0abaa938ca20439a8d71"
#define B_EBS                                                                                  \
	"214b0bef1379756011344877743fdc2a5382bac6e70362d624ccf3f654407c1b4badf7d8f9295dd3dabdef65b27677e0"
#define B_EBS_OK                                                                               \
	"0a2e01c85deae718a530ad8c6d20a84009babe6c8989269e950d8cf440c6e997695e64d455c4174a652cd080f6230b74"
#define B_RTMR_SEPARATOR_ONLY                                                                  \
	"518923b0f955d08da077c96aaba522b9decede61c599cea6c41889cfbea4ae4d50529d96fe4d1afdafb65e7f95bf23c4"

#define C_SINGLE                                                                               \
	"9f6f2b4794af938d8e88008dac7ef1351b96cdb56e081987a8cb5c078182f9db912e13b712456b81d579d00edbebd1c0"
#define C_TWO                                                                                  \
	"add128560a6079c0fa63e73c0278289d1b898ea59c3d7e03e3a8651b6956059d68727c3e3643bc292ce2484a1200be9c"
#define C_HOB_2G                                                                               \
	"c0a7570a3927672c43bbce53fdd60e5048f5a29fb482d0e017c975ae8726d494295599d3a607e33405cd1e474fbab5de"
#define C_AUG_HONOUR_SINGLE                                                                    \
	"e0acc8237781488d8b32ba0a445ffc0330ecec1ff8f6b380b59dfd68a08b391059f0725da762a91a66b638d5c739b078"
#define C_AUG_HONOUR_TWO                                                                       \
	"9f1a9c2397994c650555293b862791aba80f79b035188322f1780ac12d95710c3fbb9c5e1f38263abed836512f167189"
#define C_AUG_IGNORE_SINGLE                                                                    \
	"81e745249b7a2e2118f4b6f50256200e9929d1e138a8813346fb1ad6fcca61bc1d49fe74032b9c8f3c33321cad91c536"
#define C_AUG_IGNORE_TWO                                                                       \
	"6d663892aca7c71283a8affeab676912805357451bb73100d791721f85601f17e508d135d3fc1259c5f8813118d5b1f4"
#define C_AUG_HOB_2G                                                                           \
	"de6ec35d134d59e1a047e82587eb3631b86c600f4e6f618bbb836ad5ae0429448223c724e7325cb77ec1529e91b60cf2"

/* Authenticode SHA-384 of the test PE below, as osslsigncode 2.5 computes it. */
#define PE_AUTHENTICODE                                                                        \
	"d5c820bcd348a844f229de295e984093510ff5a2638aaa07f609e8b3c9647d53e581f955d3c6168ddecd4bc49af6a7d3"

/* Debian 12 OVMF.fd sections (VECTORS.md A), for the HOB vectors without the file. */
static const struct cvm_tdvf_section debian_sections[] = {
	{0x20000, 0x1e0000, 0xffe20000, 0x1e0000, CVM_TDVF_BFV, CVM_TDVF_ATTR_MR_EXTEND},
	{0x0, 0x20000, 0xffe00000, 0x20000, CVM_TDVF_CFV, 0},
	{0, 0, 0x810000, 0x10000, CVM_TDVF_TEMP_MEM, 0},
	{0, 0, 0x80b000, 0x2000, CVM_TDVF_TEMP_MEM, 0},
	{0, 0, 0x809000, 0x2000, CVM_TDVF_TD_HOB, 0},
	{0, 0, 0x800000, 0x6000, CVM_TDVF_TEMP_MEM, 0},
};

/* ---- helpers ------------------------------------------------------------------------------- */

static char *vector_path(const char *name)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s/vectors/tdx/%s", cvm_test_shared_dir(), name) > 0);
	return p;
}

static void assert_hex48(const uint8_t d[48], const char *hex)
{
	char got[97];
	cvm_hex_encode(d, 48, got);
	assert_string_equal(got, hex);
}

static void test_policy(struct cvm_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->version = 1;
	p->tee = CVM_TEE_TDX;
	p->vmm = CVM_VMM_QEMU;
	p->cpus.count = 1;
	p->memory_size = 2 * GIB;
	p->tdx.sept_ve_disable = true;
	p->tdx.xfam = 0xe7;
	p->tdx.measure_order = CVM_TDX_ORDER_SINGLE_PASS;
}

/* Load a firmware image; NULL (after a SKIP message) when the file is not there. */
static struct cvm_firmware *load_fw(const char *path)
{
	if (access(path, R_OK) != 0)
		return NULL;
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_firmware_load(path, &fw, &err);
	if (rc)
		print_message("# %s\n", cvm_error_message(&err));
	assert_int_equal(rc, 0);
	return fw;
}

static struct cvm_firmware *load_vector_fw(const char *name)
{
	char *path = vector_path(name);
	struct cvm_firmware *fw = load_fw(path);
	free(path);
	assert_non_null(fw);
	return fw;
}

static void mrtd_of(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		    uint8_t out[48])
{
	struct cvm_plan plan;
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_tdx_plan_build(policy, fw, &plan, &err);
	if (rc)
		print_message("# %s\n", cvm_error_message(&err));
	assert_int_equal(rc, 0);
	struct cvm_tdx_model *model = cvm_tdx_model_new();
	assert_non_null(model);
	struct cvm_backend b = {cvm_tdx_model_ops(), model};
	assert_int_equal(cvm_plan_execute(&plan, &b, 1, &err), 0);
	cvm_tdx_model_digest(model, out);
	cvm_tdx_model_free(model);
	cvm_plan_release(&plan);
}

static void assert_mrtd(const char *image, enum cvm_tdx_order order, bool honour_aug,
			const char *expect)
{
	struct cvm_firmware *fw = load_vector_fw(image);
	struct cvm_policy policy;
	test_policy(&policy);
	policy.tdx.measure_order = order;
	policy.tdx.honour_page_aug = honour_aug;
	uint8_t d[48];
	mrtd_of(&policy, fw, d);
	assert_hex48(d, expect);
	cvm_firmware_free(fw);
}

static void assert_hob(const struct cvm_tdvf_section *s, size_t n, uint64_t mem,
		       size_t expect_len, const char *expect)
{
	uint8_t *hob = NULL;
	size_t len = 0;
	struct cvm_error err;
	assert_int_equal(cvm_tdx_hob_build(s, n, mem, 0x809000, &hob, &len, &err), 0);
	assert_int_equal(len, expect_len);
	uint8_t d[48];
	cvm_tdx_hob_digest(hob, len, d);
	assert_hex48(d, expect);
	free(hob);
}

/* A firmware view over caller bytes with hand-written sections (for the refusals). */
static struct cvm_firmware fake_fw(const uint8_t *data, size_t size, struct cvm_tdvf_section *s,
				   size_t n)
{
	struct cvm_firmware fw;
	memset(&fw, 0, sizeof(fw));
	fw.data = data;
	fw.size = size;
	fw.load_gpa = 0x100000000ull - size;
	fw.tdx_status = CVM_FW_OK;
	fw.tdx_sections = s;
	fw.ntdx = n;
	return fw;
}

static int plan_error(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		      struct cvm_error *err)
{
	struct cvm_plan plan;
	cvm_error_clear(err);
	int rc = cvm_tdx_plan_build(policy, fw, &plan, err);
	if (rc == 0)
		cvm_plan_release(&plan);
	return rc;
}

static const struct cvm_mr_event *find_event(const struct cvm_measurement *m, uint32_t rtmr,
					     const char *desc_prefix)
{
	for (size_t i = 0; i < m->nevents; i++)
		if (m->events[i].rtmr == rtmr &&
		    strncmp(m->events[i].description, desc_prefix, strlen(desc_prefix)) == 0)
			return &m->events[i];
	return NULL;
}

static const char *find_input(const struct cvm_measurement *m, const char *key)
{
	for (size_t i = 0; i < m->ninputs; i++)
		if (strcmp(m->inputs[i].key, key) == 0)
			return m->inputs[i].value;
	return NULL;
}

/* ---- A: Debian OVMF.fd --------------------------------------------------------------------- */

/* Debian's OVMF.fd, or the test is skipped (package ovmf). */
static struct cvm_firmware *debian_ovmf_or_skip(void)
{
	struct cvm_firmware *fw = load_fw(DEBIAN_OVMF);
	if (!fw) {
		print_message("# SKIP " DEBIAN_OVMF " not installed (package ovmf)\n");
		skip();
	}
	return fw;
}

static void debian_ovmf_mrtd_both_orders(void **state)
{
	(void)state;
	struct cvm_firmware *fw = debian_ovmf_or_skip();
	struct cvm_policy policy;
	test_policy(&policy);
	uint8_t d[48];
	mrtd_of(&policy, fw, d);
	assert_hex48(d, A_MRTD_SINGLE);
	policy.tdx.measure_order = CVM_TDX_ORDER_TWO_PASS;
	mrtd_of(&policy, fw, d);
	assert_hex48(d, A_MRTD_TWO);
	cvm_firmware_free(fw);
}

static void debian_ovmf_plan_has_six_sections_in_metadata_order(void **state)
{
	(void)state;
	struct cvm_firmware *fw = debian_ovmf_or_skip();
	struct cvm_policy policy;
	test_policy(&policy);
	policy.memory_size = 4 * GIB;
	policy.tdx.mrowner[0] = 0xaa;
	struct cvm_plan plan;
	struct cvm_error err;
	assert_int_equal(cvm_tdx_plan_build(&policy, fw, &plan, &err), 0);
	assert_int_equal(plan.nops, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(plan.ops[i].kind, CVM_OP_LOAD);
		assert_int_equal(plan.ops[i].gpa, debian_sections[i].gpa);
		assert_int_equal(plan.ops[i].size, debian_sections[i].mem_size);
	}
	assert_int_equal(plan.ops[0].flags & CVM_OP_MR_EXTEND, CVM_OP_MR_EXTEND);
	assert_int_equal(plan.ops[1].flags & CVM_OP_MR_EXTEND, 0);
	assert_ptr_equal(plan.ops[0].data, fw->data + 0x20000);
	assert_int_equal(plan.ops[0].data_len, 0x1e0000);
	assert_int_equal(plan.ops[4].data_len, 496); /* the 4 GiB HOB */
	assert_int_equal(plan.tdx.td_hob_gpa, 0x809000);
	assert_int_equal(plan.tdx.attributes, 1ull << 28);
	assert_int_equal(plan.tdx.xfam, 0xe7);
	assert_int_equal(plan.tdx.mrowner[0], 0xaa);
	assert_int_equal(plan.mem_size, 4 * GIB);
	uint8_t d[48];
	cvm_tdx_hob_digest(plan.ops[4].data, plan.ops[4].data_len, d);
	assert_hex48(d, A_HOB_4G);
	cvm_plan_release(&plan);
	cvm_firmware_free(fw);
}

/* The input keys are the documented snake_case names (docs/measurement.md), in order. */
static void measure_inputs_use_documented_snake_case_keys(void **state)
{
	(void)state;
	static const char *const want[] = {
		"firmware_path",   "firmware_sha256", "firmware_size",	 "vmm",
		"memory_size",	   "vcpus",	      "measure_order",	 "page_aug",
		"page_add_count",  "mr_extend_count", "td_hob_gpa",	 "attributes",
		"xfam",		   "mrconfigid",      "mrowner",	 "mrownerconfig",
		"firmware_generation", "td_hob_sha384",
	};
	struct cvm_firmware *fw = load_vector_fw("synth_tdvf.bin");
	struct cvm_policy policy;
	test_policy(&policy);
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_tdx_measure(&policy, fw, &m, &err);
	if (rc)
		print_message("# %s\n", cvm_error_message(&err));
	assert_int_equal(rc, 0);
	assert_int_equal(m->ninputs, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < m->ninputs; i++) {
		assert_string_equal(m->inputs[i].key, want[i]);
		assert_null(strchr(m->inputs[i].key, '.'));
	}
	assert_string_equal(find_input(m, "vcpus"), "1");
	assert_string_equal(find_input(m, "xfam"), "0x00000000000000e7");
	cvm_measurement_free(m);
	cvm_firmware_free(fw);
}

static void debian_ovmf_measure_document(void **state)
{
	(void)state;
	struct cvm_firmware *fw = debian_ovmf_or_skip();
	struct cvm_policy policy;
	test_policy(&policy);
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_tdx_measure(&policy, fw, &m, &err);
	if (rc)
		print_message("# %s\n", cvm_error_message(&err));
	assert_int_equal(rc, 0);
	assert_int_equal(m->tee, CVM_TEE_TDX);
	assert_int_equal(m->digest_len, 48);
	assert_hex48(m->digest, A_MRTD_SINGLE);
	assert_true(m->has_td_fields);
	assert_int_equal(m->td_attributes, 1ull << 28);
	assert_int_equal(m->xfam, 0xe7);
	assert_string_equal(find_input(m, "firmware_sha256"),
			    "7b456907dd0786d415999e801a1ac4637b8ed4d7cf5378cfc6edbe5e574dd773");
	assert_string_equal(find_input(m, "measure_order"), "single-pass");
	assert_string_equal(find_input(m, "page_add_count"), "538");
	assert_string_equal(find_input(m, "mr_extend_count"), "7680");
	assert_string_equal(find_input(m, "memory_size"), "2147483648");
	assert_string_equal(find_input(m, "td_hob_sha384"), A_HOB_2G);
	assert_non_null(find_input(m, "page_aug"));
	assert_non_null(find_input(m, "firmware_generation"));
	assert_non_null(find_input(m, "mrconfigid"));
	/* RTMR0 needs ACPI tables; its known events are listed; no kernel: RTMR1/2 notes */
	assert_false(m->rtmr_known[0]);
	assert_non_null(strstr(m->rtmr_note[0], "not computed: needs ACPI tables from the VMM"));
	assert_non_null(strstr(m->rtmr_note[0], "edk2"));
	const struct cvm_mr_event *cfv = find_event(m, 0, "CFV");
	assert_non_null(cfv);
	assert_hex48(cfv->digest, A_CFV);
	const struct cvm_mr_event *hob = find_event(m, 0, "TD HOB");
	assert_non_null(hob);
	assert_hex48(hob->digest, A_HOB_2G);
	assert_false(m->rtmr_known[1]);
	assert_false(m->rtmr_known[2]);
	assert_non_null(strstr(m->rtmr_note[1], "no kernel"));
	assert_non_null(strstr(m->rtmr_note[2], "no kernel"));
	assert_true(m->rtmr_known[3]);
	cvm_measurement_free(m);

	policy.tdx.measure_order = CVM_TDX_ORDER_TWO_PASS;
	assert_int_equal(cvm_tdx_measure(&policy, fw, &m, &err), 0);
	assert_hex48(m->digest, A_MRTD_TWO);
	assert_string_equal(find_input(m, "measure_order"), "two-pass");
	cvm_measurement_free(m);
	cvm_firmware_free(fw);
}

/* A launch's document: the offline plan against the launched one, no MRTD computed again. */
static void measure_against_a_launched_plan_compares_it_and_leaves_the_digest(void **state)
{
	(void)state;
	struct cvm_firmware *fw = debian_ovmf_or_skip();
	struct cvm_policy policy;
	test_policy(&policy);
	struct cvm_plan launched;
	struct cvm_error err;
	assert_int_equal(cvm_tdx_plan_build(&policy, fw, &launched, &err), 0);
	struct cvm_tdx_measure_opts opts = {.launched = &launched};
	struct cvm_measurement *m = NULL;
	int rc = cvm_tdx_measure_ex(&policy, fw, &opts, &m, &err);
	if (rc)
		fail_msg("%s", cvm_error_message(&err));
	assert_int_equal(m->digest_len, 0);
	assert_string_equal(find_input(m, "td_hob_sha384"), A_HOB_2G);
	assert_string_equal(find_input(m, "mr_extend_count"), "7680");
	cvm_measurement_free(m);

	/* Another order issues other operations: refused, nothing returned. */
	policy.tdx.measure_order = CVM_TDX_ORDER_TWO_PASS;
	m = NULL;
	assert_int_equal(cvm_tdx_measure_ex(&policy, fw, &opts, &m, &err), -EPROTO);
	assert_null(m);
	assert_non_null(strstr(cvm_error_message(&err), "the launch plan is not the offline plan"));
	/* ... and a launched plan whose HOB bytes were changed */
	policy.tdx.measure_order = CVM_TDX_ORDER_SINGLE_PASS;
	bool changed = false;
	for (size_t i = 0; i < launched.nops && !changed; i++) {
		const uint8_t *d = launched.ops[i].data;
		if (launched.ops[i].data_len && d && (d < fw->data || d >= fw->data + fw->size)) {
			((uint8_t *)(uintptr_t)d)[0] ^= 1; /* the plan's own HOB copy */
			changed = true;
		}
	}
	assert_true(changed);
	assert_int_equal(cvm_tdx_measure_ex(&policy, fw, &opts, &m, &err), -EPROTO);
	cvm_plan_release(&launched);
	cvm_firmware_free(fw);
}

static void hob_debian_2g_4g_8g_match_vectors(void **state)
{
	(void)state;
	size_t n = CVM_ARRAY_SIZE(debian_sections);
	assert_hob(debian_sections, n, 2 * GIB, 448, A_HOB_2G);
	assert_hob(debian_sections, n, 4 * GIB, 496, A_HOB_4G);
	assert_hob(debian_sections, n, 8 * GIB, 496, A_HOB_8G);
}

static void hob_layout_is_qemu_q35(void **state)
{
	(void)state;
	uint8_t *hob = NULL;
	size_t len = 0;
	assert_int_equal(cvm_tdx_hob_build(debian_sections, CVM_ARRAY_SIZE(debian_sections),
					   4 * GIB, 0x809000, &hob, &len, NULL),
			 0);
	assert_int_equal(cvm_le16(hob), 0x0001);
	assert_int_equal(cvm_le16(hob + 2), 56);
	assert_int_equal(cvm_le64(hob + 48), 0x809000 + len); /* EfiEndOfHobList */
	/* last resource: RAM above 4 GiB, 2 GiB of it, unaccepted */
	const uint8_t *last = hob + len - 8 - 48;
	assert_int_equal(cvm_le32(last + 24), 7);
	assert_int_equal(cvm_le64(last + 32), 0x100000000ull);
	assert_int_equal(cvm_le64(last + 40), 2 * GIB);
	assert_int_equal(cvm_le16(hob + len - 8), 0xffff);
	free(hob);
}

static void hob_refuses_section_outside_ram(void **state)
{
	(void)state;
	uint8_t *hob = NULL;
	size_t len = 0;
	struct cvm_error err;
	assert_int_equal(cvm_tdx_hob_build(debian_sections, CVM_ARRAY_SIZE(debian_sections),
					   0x800000, 0x809000, &hob, &len, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "not inside the guest RAM"));
	assert_null(hob);
}

/* ---- C: synthetic images ------------------------------------------------------------------- */

static void synth_mrtd_single_and_two_pass(void **state)
{
	(void)state;
	assert_mrtd("synth_tdvf.bin", CVM_TDX_ORDER_SINGLE_PASS, false, C_SINGLE);
	assert_mrtd("synth_tdvf.bin", CVM_TDX_ORDER_TWO_PASS, false, C_TWO);
}

static void synth_page_aug_honoured(void **state)
{
	(void)state;
	assert_mrtd("synth_tdvf_pageaug.bin", CVM_TDX_ORDER_SINGLE_PASS, true, C_AUG_HONOUR_SINGLE);
	assert_mrtd("synth_tdvf_pageaug.bin", CVM_TDX_ORDER_TWO_PASS, true, C_AUG_HONOUR_TWO);
}

static void synth_page_aug_ignored_as_qemu(void **state)
{
	(void)state;
	assert_mrtd("synth_tdvf_pageaug.bin", CVM_TDX_ORDER_SINGLE_PASS, false,
		    C_AUG_IGNORE_SINGLE);
	assert_mrtd("synth_tdvf_pageaug.bin", CVM_TDX_ORDER_TWO_PASS, false, C_AUG_IGNORE_TWO);
}

static void synth_page_aug_flag_in_plan(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_vector_fw("synth_tdvf_pageaug.bin");
	struct cvm_policy policy;
	test_policy(&policy);
	policy.tdx.honour_page_aug = true;
	struct cvm_plan plan;
	assert_int_equal(cvm_tdx_plan_build(&policy, fw, &plan, NULL), 0);
	assert_int_equal(plan.nops, 5);
	assert_int_equal(plan.ops[4].flags & CVM_OP_NO_PAGE_ADD, CVM_OP_NO_PAGE_ADD);
	assert_int_equal(plan.ops[3].flags & CVM_OP_NO_PAGE_ADD, 0);
	cvm_plan_release(&plan);
	cvm_firmware_free(fw);
}

static void synth_hobs_match_vectors(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_vector_fw("synth_tdvf.bin");
	assert_hob(fw->tdx_sections, fw->ntdx, 2 * GIB, 304, C_HOB_2G);
	cvm_firmware_free(fw);
	fw = load_vector_fw("synth_tdvf_pageaug.bin");
	assert_hob(fw->tdx_sections, fw->ntdx, 2 * GIB, 352, C_AUG_HOB_2G);
	cvm_firmware_free(fw);
}

/* The model must give the same MRTD whether a plan is fed as one op or many (batching). */
static void model_batches_across_ops(void **state)
{
	(void)state;
	static uint8_t image[3 * 4096 + 100];
	for (size_t i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 31 + 7);
	struct cvm_plan one, many;
	cvm_plan_init(&one, CVM_TEE_TDX);
	cvm_plan_init(&many, CVM_TEE_TDX);
	struct cvm_plan_op op = {.kind = CVM_OP_LOAD, .label = "BFV", .gpa = 0x10000,
				 .size = 4 * 4096, .data = image, .data_len = sizeof(image),
				 .flags = CVM_OP_MR_EXTEND};
	assert_int_equal(cvm_plan_add(&one, &op, NULL), 0);
	for (int p = 0; p < 4; p++) {
		struct cvm_plan_op part = op;
		part.gpa = op.gpa + 4096u * p;
		part.size = 4096;
		part.data = image + 4096 * p;
		part.data_len = p < 3 ? 4096 : 100;
		assert_int_equal(cvm_plan_add(&many, &part, NULL), 0);
	}
	uint8_t a[48], b[48];
	struct cvm_tdx_model *model = cvm_tdx_model_new();
	struct cvm_backend be = {cvm_tdx_model_ops(), model};
	assert_int_equal(cvm_plan_execute(&one, &be, 1, NULL), 0);
	cvm_tdx_model_digest(model, a);
	assert_int_equal(cvm_plan_execute(&many, &be, 1, NULL), 0);
	cvm_tdx_model_digest(model, b);
	assert_memory_equal(a, b, 48);
	cvm_tdx_model_free(model);
	cvm_plan_release(&one);
	cvm_plan_release(&many);
}

/* ---- B: firmware-independent event digests ------------------------------------------------- */

static void event_digests_match_vectors(void **state)
{
	(void)state;
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_TDX, "tdx");
	assert_non_null(m);
	struct cvm_tdx_rtmr_inputs in = {.fw_gen = CVM_TDX_FW_EDK2_PRE_202411};
	assert_int_equal(cvm_tdx_rtmr_compute(&in, m, NULL), 0);
	const struct {
		const char *desc, *hex;
	} want[] = {
		{"SecureBoot", B_SECUREBOOT}, {"PK", B_PK},       {"KEK", B_KEK},
		{"db ", B_DB},                {"dbx", B_DBX},     {"separator", B_SEPARATOR},
		{"BootOrder", B_BOOTORDER},   {"Boot0000", B_BOOT0000},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(want); i++) {
		const struct cvm_mr_event *e = find_event(m, 0, want[i].desc);
		assert_non_null(e);
		assert_hex48(e->digest, want[i].hex);
	}
	cvm_measurement_free(m);

	uint8_t d[48];
	cvm_tdx_sha384("Calling EFI Application from Boot Option", 40, d);
	assert_hex48(d, B_CALLING);
	cvm_tdx_sha384("Exit Boot Services Invocation", 29, d);
	assert_hex48(d, B_EBS);
	cvm_tdx_sha384("Exit Boot Services Returned with Success", 40, d);
	assert_hex48(d, B_EBS_OK);

	uint8_t rtmr[48] = {0}, sep[48];
	cvm_tdx_sha384("\0\0\0\0", 4, sep);
	cvm_tdx_rtmr_extend(rtmr, sep);
	assert_hex48(rtmr, B_RTMR_SEPARATOR_ONLY);
}

static void rtmr0_computed_when_acpi_blobs_given(void **state)
{
	(void)state;
	static const uint8_t loader[4096], rsdp[20] = {'R', 'S', 'D', ' '}, tables[512];
	uint8_t *hob = NULL;
	size_t hob_len = 0;
	assert_int_equal(cvm_tdx_hob_build(debian_sections, CVM_ARRAY_SIZE(debian_sections),
					   2 * GIB, 0x809000, &hob, &hob_len, NULL),
			 0);
	static const uint8_t cfv[64];
	struct cvm_tdx_rtmr_inputs in = {
		.fw_gen = CVM_TDX_FW_EDK2_202411, .td_hob = hob, .td_hob_len = hob_len,
		.cfv = cfv, .cfv_len = sizeof(cfv),
		.acpi_table_loader = loader, .acpi_table_loader_len = sizeof(loader),
		.acpi_rsdp = rsdp, .acpi_rsdp_len = sizeof(rsdp),
		.acpi_tables = tables, .acpi_tables_len = sizeof(tables),
	};
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_TDX, "tdx");
	assert_int_equal(cvm_tdx_rtmr_compute(&in, m, NULL), 0);
	assert_true(m->rtmr_known[0]);
	/* replay the RTMR0 event list */
	uint8_t replay[48] = {0};
	size_t n0 = 0;
	for (size_t i = 0; i < m->nevents; i++)
		if (m->events[i].rtmr == 0) {
			cvm_tdx_rtmr_extend(replay, m->events[i].digest);
			n0++;
		}
	assert_int_equal(n0, 13); /* 202411: HOB CFV 5 vars sep 3 ACPI BootOrder Boot0000 */
	assert_memory_equal(replay, m->rtmr[0], 48);
	assert_non_null(strstr(m->rtmr_note[0], "202411"));
	cvm_measurement_free(m);
	free(hob);
}

/* ---- RTMR0 inputs from the policy: digests, variable store, boot entries, generations ------ */

static void hex_to(const char *hex, uint8_t *out, size_t n)
{
	assert_int_equal(cvm_hex_decode(hex, out, n), 0);
}

static void assert_digest(const uint8_t d[48], const char *hex)
{
	char got[97];
	cvm_hex_encode(d, 48, got);
	assert_string_equal(got, hex);
}

/* ../shared/vectors/eventlog/README.md: CCEL_data_ovmf's RTMR0 from its four inputs. */
static void rtmr0_of_ccel_ovmf_from_cfv_and_acpi_digests(void **state)
{
	(void)state;
	uint8_t cfv[48], acpi[3][48];
	hex_to("344bc51c980ba621aaa00da3ed7436f7d6e549197dfe699515dfa2c6583d95e6412af21c097d4731"
	       "55875ffd561d6790", cfv, 48);
	hex_to("8db40217f1584456a532cd21ac440c8ee2204d497797a70b972d360a5eb2fde1be58be6fd9c6ea8d"
	       "dac235f4db29a42c", acpi[0], 48);
	hex_to("379c9de60d0dd6862394273f66ad30e8707ba61b601e379e9c4718a026e06c66f78a5d98d3fd147b"
	       "06d9398ccd4174ef", acpi[1], 48);
	hex_to("2213f7791b826d9e60cde6158fb77ae4ddaaf52bf58304c0c0d1350e374a64037b3e69e8759371b0"
	       "2b09fe904ece0718", acpi[2], 48);
	uint8_t *hob = NULL;
	size_t hob_len = 0;
	assert_int_equal(cvm_tdx_hob_build(debian_sections, CVM_ARRAY_SIZE(debian_sections),
					   2 * GIB, 0x809000, &hob, &hob_len, NULL),
			 0);
	struct cvm_tdx_rtmr_inputs in = {
		.fw_gen = CVM_TDX_FW_EDK2_PRE_202411, .td_hob = hob, .td_hob_len = hob_len,
		.cfv_sha384 = cfv, .acpi_sha384 = {acpi[0], acpi[1], acpi[2]},
	};
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_TDX, "tdx");
	assert_int_equal(cvm_tdx_rtmr_compute(&in, m, NULL), 0);
	assert_true(m->rtmr_known[0]);
	assert_int_equal(m->nrtmr_missing[0], 0);
	assert_digest(m->rtmr[0], "8566f998798db09443b244c62de9a3041fb02e2e6936c4396d784bba2e9017"
				  "7329ec5aba3bb484404f2ab9cc90abe193");
	cvm_measurement_free(m);

	/* one ACPI digest short: null, and the missing input named */
	in.acpi_sha384[1] = NULL;
	m = cvm_measurement_new(CVM_TEE_TDX, "tdx");
	assert_int_equal(cvm_tdx_rtmr_compute(&in, m, NULL), 0);
	assert_false(m->rtmr_known[0]);
	assert_int_equal(m->nrtmr_missing[0], 1);
	assert_string_equal(m->rtmr_missing[0][0], "tdx.acpi.rsdp");
	cvm_measurement_free(m);
	free(hob);
}

/* One authenticated variable: header, UCS-2 name with NUL, data, 4-byte aligned. */
static size_t put_auth_var(uint8_t *p, uint8_t state, const uint8_t guid[16], const char *name,
			   const uint8_t *data, size_t len)
{
	size_t nb = 2 * (strlen(name) + 1);
	memset(p, 0, 60);
	cvm_put_le16(p, 0x55aa);
	p[2] = state;
	cvm_put_le32(p + 4, 0x27);
	cvm_put_le32(p + 36, (uint32_t)nb);
	cvm_put_le32(p + 40, (uint32_t)len);
	memcpy(p + 44, guid, 16);
	for (size_t i = 0; i <= strlen(name); i++)
		cvm_put_le16(p + 60 + 2 * i, (uint8_t)name[i]);
	memcpy(p + 60 + nb, data, len);
	return (60 + nb + len + 3) & ~(size_t)3;
}

static const uint8_t g_global[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
				     0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};
static const uint8_t g_db[16] = {0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45,
				 0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f};
static const uint8_t g_sbe[16] = {0xc7, 0x0b, 0xa3, 0xf0, 0x08, 0xaf, 0x56, 0x45,
				  0x99, 0xc4, 0x00, 0x10, 0x09, 0xc9, 0x3a, 0x44};

/* An FV with an authenticated variable store; returns its length. */
static size_t make_varstore(uint8_t *b, size_t cap)
{
	static const uint8_t auth[16] = {0x78, 0x2c, 0xf3, 0xaa, 0x7b, 0x94, 0x9a, 0x43,
					 0xa1, 0x80, 0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92};
	memset(b, 0xff, cap);
	memset(b, 0, 72);
	memcpy(b + 40, "_FVH", 4);
	cvm_put_le16(b + 48, 72);
	uint8_t *store = b + 72;
	memcpy(store, auth, 16);
	cvm_put_le32(store + 16, (uint32_t)(cap - 72));
	store[20] = 0x5a;
	store[21] = 0xfe;
	memset(store + 22, 0, 6);
	size_t o = 28;
	static const uint8_t pk[5] = {1, 2, 3, 4, 5}, db_old[3] = {9, 9, 9}, db[2] = {7, 7};
	static const uint8_t off = 0;
	o += put_auth_var(store + o, 0x3f, g_global, "PK", pk, sizeof(pk));
	o += put_auth_var(store + o, 0x3c, g_db, "db", db_old, sizeof(db_old)); /* deleted */
	o += put_auth_var(store + o, 0x3e, g_db, "db", db_old, sizeof(db_old)); /* in transition */
	o += put_auth_var(store + o, 0x3f, g_db, "db", db, sizeof(db));
	o += put_auth_var(store + o, 0x3f, g_sbe, "SecureBootEnable", &off, 1);
	assert_true(o < cap - 72);
	return cap;
}

static void varstore_parser_takes_the_secure_boot_variables(void **state)
{
	(void)state;
	uint8_t b[1024];
	size_t len = make_varstore(b, sizeof(b));
	struct cvm_tdx_varstore vs;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_tdx_varstore_parse(b, len, &vs, &err), 0);
	assert_true(vs.authenticated);
	assert_int_equal(vs.nvars, 4);
	assert_int_equal(vs.pk.len, 5);
	assert_int_equal(vs.pk.data[4], 5);
	assert_int_equal(vs.db.len, 2); /* the added copy, not the one in deletion transition */
	assert_null(vs.kek.data);
	assert_null(vs.dbx.data);
	assert_true(vs.has_secure_boot_enable);
	assert_int_equal(vs.secure_boot_enable, 0);

	/* a variable whose data runs past the store */
	uint8_t bad[1024];
	memcpy(bad, b, sizeof(bad));
	cvm_put_le32(bad + 72 + 28 + 40, 0x10000);
	assert_int_equal(cvm_tdx_varstore_parse(bad, len, &vs, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "run past the store"));
	/* not an FV, a store larger than the file, an unknown store GUID */
	assert_int_equal(cvm_tdx_varstore_parse(b, 63, &vs, &err), -EINVAL);
	memcpy(bad, b, sizeof(bad));
	bad[40] = 'X';
	assert_int_equal(cvm_tdx_varstore_parse(bad, len, &vs, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "_FVH"));
	memcpy(bad, b, sizeof(bad));
	cvm_put_le32(bad + 72 + 16, 0x10000);
	assert_int_equal(cvm_tdx_varstore_parse(bad, len, &vs, &err), -EINVAL);
	memcpy(bad, b, sizeof(bad));
	bad[72] ^= 1;
	assert_int_equal(cvm_tdx_varstore_parse(bad, len, &vs, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "no variable store header"));
}

/*
 * Debian's OVMF_VARS_4M.ms.fd enrolls the db and dbx that CCEL_data_grub measured: parsed by
 * cvmkit, they give that log's db and dbx event digests.
 */
static void debian_ms_varstore_gives_the_grub_logs_db_and_dbx(void **state)
{
	(void)state;
	struct cvm_file f;
	if (cvm_file_open("/usr/share/OVMF/OVMF_VARS_4M.ms.fd", &f, NULL) != 0) {
		print_message("# SKIP /usr/share/OVMF/OVMF_VARS_4M.ms.fd not installed\n");
		skip();
	}
	struct cvm_tdx_varstore vs;
	assert_int_equal(cvm_tdx_varstore_parse(f.data, f.size, &vs, NULL), 0);
	assert_non_null(vs.pk.data);
	static const struct cvm_guid db_guid = {{0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45,
						 0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f}};
	uint8_t d[48];
	cvm_tdx_efi_variable_digest(&db_guid, "db", vs.db.data, vs.db.len, d);
	assert_digest(d, "9e9a3075edf75a466c09e4ffe463e65a800922dd7decbf9dd526ab95de33d8d2ccdd9792d2"
			 "39990a8deec1d173bb7464");
	cvm_tdx_efi_variable_digest(&db_guid, "dbx", vs.dbx.data, vs.dbx.len, d);
	assert_digest(d, "5f95c5051ade2e2314961e4011150fbe3315c0b78c93b27be3ac8e4df73930e6ad82aa50ac"
			 "3591d292ce364b04c850c7");
	cvm_file_close(&f);
}

/* The load options of CCEL_data_grub, rebuilt from their fields, give its event digests. */
static void load_options_rebuild_the_grub_logs_boot_entries(void **state)
{
	(void)state;
	uint8_t dp1[40], opt1[16], dp0[44], *b = NULL, d[48];
	size_t n = 0;
	hex_to("02010c00d041030a000000000101060000010101060000000101060000010101060000007fff0400",
	       dp1, sizeof(dp1));
	hex_to("4eac0881119f594d850ee21a522c59b2", opt1, sizeof(opt1));
	hex_to("04071400c9bdb87cebf8344faaea3ee4af6516a10406140021aa2c4614760345836e8ab6f4662331"
	       "7fff0400", dp0, sizeof(dp0));
	assert_int_equal(cvm_tdx_load_option_encode(1, "UEFI Misc Device", dp1, sizeof(dp1), opt1,
						    sizeof(opt1), &b, &n, NULL),
			 0);
	assert_int_equal(n, 96);
	cvm_tdx_sha384(b, n, d);
	assert_digest(d, "3970e66d183f4f6307263d390de73c71609ffda1516cddcf39eec885829577390d272f8f9e"
			 "04266515c08de23b5a9df7");
	free(b);
	assert_int_equal(cvm_tdx_load_option_encode(0x109, "UiApp", dp0, sizeof(dp0), NULL, 0, &b,
						    &n, NULL),
			 0);
	cvm_tdx_sha384(b, n, d);
	assert_digest(d, "23ada07f5261f12f34a0bd8e46760962d6b4d576a416f1fea1c64bc656b1d28eacf7047ae6"
			 "e967c58fd2a98bfa74c298");
	free(b);

	/* BootOrder 0001,0000 with both entries: the log's three EV_EFI_VARIABLE_BOOT digests */
	uint8_t *o1 = NULL, *o0 = NULL;
	size_t n1 = 0, n0 = 0;
	assert_int_equal(cvm_tdx_load_option_encode(1, "UEFI Misc Device", dp1, sizeof(dp1), opt1,
						    sizeof(opt1), &o1, &n1, NULL),
			 0);
	assert_int_equal(cvm_tdx_load_option_encode(0x109, "UiApp", dp0, sizeof(dp0), NULL, 0,
						    &o0, &n0, NULL),
			 0);
	const uint16_t order[] = {1, 0};
	const struct cvm_tdx_boot_option opts[] = {{0, o0, n0, "UiApp"},
						   {1, o1, n1, "UEFI Misc Device"}};
	struct cvm_tdx_rtmr_inputs in = {.fw_gen = CVM_TDX_FW_EDK2_PRE_202411, .boot_order = order,
					 .nboot_order = 2, .boot_options = opts,
					 .nboot_options = 2, .secure_boot = CVM_TDX_SB_ENABLED};
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_TDX, "tdx");
	assert_int_equal(cvm_tdx_rtmr_compute(&in, m, NULL), 0);
	static const char *const want[] = {
		"7210af19145ec2a8e250a7fe8e9eeeac1301e524daab82366c36be614dc35402a289101e48cad61c45337f2f32c14fdc",
		"3970e66d183f4f6307263d390de73c71609ffda1516cddcf39eec885829577390d272f8f9e04266515c08de23b5a9df7",
		"23ada07f5261f12f34a0bd8e46760962d6b4d576a416f1fea1c64bc656b1d28eacf7047ae6e967c58fd2a98bfa74c298",
	};
	size_t k = 0;
	for (size_t i = 0; i < m->nevents; i++) {
		if (!strcmp(m->events[i].description, "SecureBoot (1 bytes)"))
			assert_digest(m->events[i].digest,
				      "2cded0c6f453d4c6f59c5e14ec61abc6b018314540a2367cba326a52aa2b315c"
				      "cc08ce68a816ce09c6ef2ac7e514ae1f");
		if (strcmp(m->events[i].type, "EV_EFI_VARIABLE_BOOT"))
			continue;
		assert_true(k < 3);
		assert_digest(m->events[i].digest, want[k++]);
	}
	assert_int_equal(k, 3);
	assert_false(m->rtmr_known[0]); /* no HOB, CFV or ACPI given */
	cvm_measurement_free(m);
	free(o0);
	free(o1);
}

static size_t count_events(const struct cvm_measurement *m, uint32_t rtmr, const char *type)
{
	size_t n = 0;
	for (size_t i = 0; i < m->nevents; i++)
		n += m->events[i].rtmr == rtmr && !strcmp(m->events[i].type, type);
	return n;
}

static void generations_move_separators_and_add_202505_events(void **state)
{
	(void)state;
	static const uint8_t cfv[48], a[48], smbios[48];
	struct cvm_tdx_rtmr_inputs in = {.cfv_sha384 = cfv, .acpi_sha384 = {a, a, a}};
	uint8_t *hob = NULL;
	size_t hob_len = 0;
	assert_int_equal(cvm_tdx_hob_build(debian_sections, CVM_ARRAY_SIZE(debian_sections),
					   2 * GIB, 0x809000, &hob, &hob_len, NULL),
			 0);
	in.td_hob = hob;
	in.td_hob_len = hob_len;
	static const enum cvm_tdx_fw_gen gens[] = {CVM_TDX_FW_EDK2_PRE_202411,
						   CVM_TDX_FW_EDK2_202411, CVM_TDX_FW_EDK2_202505};
	static const size_t rtmr0_separators[] = {2, 1, 1};
	for (size_t g = 0; g < CVM_ARRAY_SIZE(gens); g++) {
		in.fw_gen = gens[g];
		struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_TDX, "tdx");
		assert_int_equal(cvm_tdx_rtmr_compute(&in, m, NULL), 0);
		assert_int_equal(count_events(m, 0, "EV_SEPARATOR"), rtmr0_separators[g]);
		if (gens[g] == CVM_TDX_FW_EDK2_202505) {
			/* SMBIOS is an input of its own: without it, RTMR0 stays null */
			assert_false(m->rtmr_known[0]);
			assert_int_equal(m->nrtmr_missing[0], 1);
			assert_string_equal(m->rtmr_missing[0][0], "tdx.smbios_sha384");
			assert_int_equal(count_events(m, 0, "EV_PLATFORM_CONFIG_FLAGS"), 4);
			assert_int_equal(count_events(m, 0, "EV_EFI_VARIABLE_BOOT"), 3);
			assert_non_null(strstr(m->rtmr_note[0], "not confirmed by a real event log"));
		} else {
			assert_true(m->rtmr_known[0]);
			assert_int_equal(count_events(m, 0, "EV_PLATFORM_CONFIG_FLAGS"), 3);
			assert_int_equal(count_events(m, 0, "EV_EFI_VARIABLE_BOOT"), 2);
			/* only the layout two real logs show goes without a caveat */
			bool caveat = strstr(m->rtmr_note[0], "not confirmed") != NULL;
			assert_int_equal(caveat, gens[g] != CVM_TDX_FW_EDK2_PRE_202411);
		}
		cvm_measurement_free(m);
	}
	in.smbios_sha384 = smbios;
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_TDX, "tdx");
	assert_int_equal(cvm_tdx_rtmr_compute(&in, m, NULL), 0);
	assert_true(m->rtmr_known[0]);
	assert_int_equal(count_events(m, 0, "EV_EFI_HANDOFF_TABLES"), 1);
	bool saw_boot_menu = false;
	for (size_t i = 0; i < m->nevents; i++)
		if (!strcmp(m->events[i].description, "QEMU FW CFG BootMenu")) {
			static const uint8_t zero[2];
			uint8_t d[48];
			cvm_tdx_sha384(zero, 2, d);
			assert_memory_equal(m->events[i].digest, d, 48);
			saw_boot_menu = true;
		}
	assert_true(saw_boot_menu);
	cvm_measurement_free(m);
	free(hob);
}

/* ---- PE/COFF Authenticode and direct-boot RTMR1/RTMR2 --------------------------------------- */

/* A small PE32+ EFI application: two sections listed out of file order, trailing data. */
static uint8_t *make_test_pe(size_t *len, bool with_cert)
{
	size_t base = 0x640, total = with_cert ? base + 0x40 : base;
	uint8_t *b = calloc(1, total);
	assert_non_null(b);
	b[0] = 'M';
	b[1] = 'Z';
	cvm_put_le32(b + 0x3c, 0x40);
	memcpy(b + 0x40, "PE\0\0", 4);
	cvm_put_le16(b + 0x44, 0x8664);
	cvm_put_le16(b + 0x46, 2);
	cvm_put_le16(b + 0x54, 0xf0);
	cvm_put_le16(b + 0x56, 0x22);
	uint8_t *o = b + 0x58;
	cvm_put_le16(o, 0x20b);
	cvm_put_le32(o + 16, 0x1000);
	cvm_put_le32(o + 32, 0x1000);
	cvm_put_le32(o + 36, 0x200);
	cvm_put_le32(o + 56, 0x3000);
	cvm_put_le32(o + 60, 0x200);
	cvm_put_le32(o + 64, with_cert ? 0xdeadbeef : 0x12345678); /* CheckSum: not hashed */
	cvm_put_le16(o + 68, 10);
	cvm_put_le32(o + 108, 16);
	if (with_cert) {
		cvm_put_le32(o + 144, (uint32_t)base);
		cvm_put_le32(o + 148, 0x40);
	}
	const struct {
		const char *name;
		uint32_t va, ptr;
	} secs[] = {{".data", 0x2000, 0x400}, {".text", 0x1000, 0x200}};
	for (size_t i = 0; i < 2; i++) {
		uint8_t *s = b + 0x148 + 40 * i;
		memcpy(s, secs[i].name, strlen(secs[i].name));
		cvm_put_le32(s + 8, 0x200);
		cvm_put_le32(s + 12, secs[i].va);
		cvm_put_le32(s + 16, 0x200);
		cvm_put_le32(s + 20, secs[i].ptr);
		cvm_put_le32(s + 36, 0x60000020);
	}
	for (size_t i = 0x200; i < base; i++)
		b[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = base; i < total; i++)
		b[i] = 0xc5;
	*len = total;
	return b;
}

static void authenticode_matches_osslsigncode(void **state)
{
	(void)state;
	size_t len;
	uint8_t d[48];
	uint8_t *pe = make_test_pe(&len, false);
	assert_int_equal(cvm_tdx_authenticode_sha384(pe, len, d, NULL), 0);
	assert_hex48(d, PE_AUTHENTICODE);
	free(pe);
	/* a certificate table (and the CheckSum) do not change the hash */
	pe = make_test_pe(&len, true);
	assert_int_equal(cvm_tdx_authenticode_sha384(pe, len, d, NULL), 0);
	assert_hex48(d, PE_AUTHENTICODE);
	free(pe);
}

/* The one-pass variant gives the same Authenticode hash and the SHA-256 of the whole image. */
static void authenticode_pass_also_gives_the_sha256(void **state)
{
	(void)state;
	for (int signed_pe = 0; signed_pe < 2; signed_pe++) {
		size_t len;
		uint8_t d[48], sha[32], want[32];
		uint8_t *pe = make_test_pe(&len, signed_pe);
		assert_int_equal(cvm_tdx_authenticode_sha384_sha256(pe, len, d, sha, NULL), 0);
		assert_hex48(d, PE_AUTHENTICODE);
		assert_int_equal(cvm_sha256(pe, len, want, NULL), 0);
		assert_memory_equal(sha, want, 32);
		free(pe);
	}
}

static void authenticode_refuses_non_pe_and_truncated(void **state)
{
	(void)state;
	static const uint8_t elf[64] = {0x7f, 'E', 'L', 'F'};
	uint8_t d[48];
	struct cvm_error err;
	assert_int_equal(cvm_tdx_authenticode_sha384(elf, sizeof(elf), d, &err), -ENOEXEC);
	size_t len;
	uint8_t *pe = make_test_pe(&len, false);
	assert_int_equal(cvm_tdx_authenticode_sha384(pe, 0x500, d, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "runs past the end"));
	free(pe);
}

static void cmdline_digest_widens_and_appends_initrd_token(void **state)
{
	(void)state;
	uint8_t a[48], b[48];
	assert_int_equal(cvm_tdx_cmdline_digest("console=hvc0", true, a, NULL), 0);
	const char *text = "console=hvc0 initrd=initrd";
	size_t n = strlen(text);
	uint8_t u16[64] = {0};
	for (size_t i = 0; i < n; i++)
		u16[2 * i] = (uint8_t)text[i];
	cvm_tdx_sha384(u16, 2 * n + 2, b);
	assert_memory_equal(a, b, 48);
}

static char *write_temp(const void *data, size_t len)
{
	char *path = strdup("/tmp/cvmkit-test-tdx-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static void measure_direct_boot_computes_rtmr1_and_rtmr2(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_vector_fw("synth_tdvf.bin");
	size_t pe_len;
	uint8_t *pe = make_test_pe(&pe_len, false);
	char *kernel = write_temp(pe, pe_len);
	char *initrd = write_temp("initrd bytes", 12);
	struct cvm_policy policy;
	test_policy(&policy);
	policy.boot.kernel = kernel;
	policy.boot.initrd = initrd;
	policy.boot.cmdline = (char *)(uintptr_t)"console=hvc0";
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_tdx_measure(&policy, fw, &m, &err);
	if (rc)
		print_message("# %s\n", cvm_error_message(&err));
	assert_int_equal(rc, 0);
	assert_hex48(m->digest, C_SINGLE);
	assert_true(m->rtmr_known[1]);
	assert_true(m->rtmr_known[2]);

	/* RTMR1: kernel, calling, exit boot services x2 (pre-202411: no separator) */
	const struct cvm_mr_event *k = find_event(m, 1, "kernel");
	assert_non_null(k);
	assert_hex48(k->digest, PE_AUTHENTICODE);
	uint8_t r1[48] = {0}, r2[48] = {0};
	size_t n1 = 0, n2 = 0;
	for (size_t i = 0; i < m->nevents; i++) {
		if (m->events[i].rtmr == 1) {
			cvm_tdx_rtmr_extend(r1, m->events[i].digest);
			n1++;
		} else if (m->events[i].rtmr == 2) {
			cvm_tdx_rtmr_extend(r2, m->events[i].digest);
			n2++;
		}
	}
	assert_int_equal(n1, 4);
	assert_int_equal(n2, 2);
	assert_memory_equal(r1, m->rtmr[1], 48);
	assert_memory_equal(r2, m->rtmr[2], 48);
	uint8_t d[48];
	cvm_tdx_sha384("initrd bytes", 12, d);
	assert_memory_equal(find_event(m, 2, "initrd")->digest, d, 48);
	assert_non_null(find_input(m, "kernel_sha256"));
	assert_non_null(find_input(m, "initrd_sha256"));
	assert_string_equal(find_input(m, "cmdline"), "console=hvc0");
	assert_string_equal(find_input(m, "kernel_path"), kernel);
	assert_string_equal(find_input(m, "initrd_path"), initrd);
	for (size_t i = 0; i < m->ninputs; i++)
		assert_null(strchr(m->inputs[i].key, '.'));

	/* RVPS: what Trustee's default policy queries for a direct boot */
	uint8_t *msg = NULL, *prov = NULL;
	size_t msg_len = 0, prov_len = 0;
	assert_int_equal(cvm_measurement_encode(m, CVM_FMT_RVPS, &msg, &msg_len, NULL), 0);
	const char *b64 = strstr((const char *)msg, "\"payload\": \"");
	assert_non_null(b64);
	b64 += strlen("\"payload\": \"");
	assert_int_equal(cvm_base64_decode(b64, (size_t)(strchr(b64, '"') - b64), &prov,
					   &prov_len), 0);
	char *text = calloc(1, prov_len + 1), want[160], hex[97];
	assert_non_null(text);
	memcpy(text, prov, prov_len);
	snprintf(want, sizeof(want), "\"tdvfkernel\":\"%s\"", PE_AUTHENTICODE);
	assert_non_null(strstr(text, want));
	cvm_hex_encode(find_event(m, 2, "kernel command line")->digest, 48, hex);
	snprintf(want, sizeof(want), "\"tdvfkernelparams\":\"%s\"", hex);
	assert_non_null(strstr(text, want));
	cvm_hex_encode(m->rtmr[1], 48, hex);
	snprintf(want, sizeof(want), "\"rtmr_1\":[\"%s\"]", hex);
	assert_non_null(strstr(text, want));
	cvm_hex_encode(m->rtmr[2], 48, hex);
	snprintf(want, sizeof(want), "\"rtmr_2\":[\"%s\"]", hex);
	assert_non_null(strstr(text, want));
	assert_null(strstr(text, "rtmr_0"));
	free(text);
	free(prov);
	free(msg);
	cvm_measurement_free(m);

	unlink(kernel);
	unlink(initrd);
	free(kernel);
	free(initrd);
	free(pe);
	cvm_firmware_free(fw);
}

/*
 * The initrd is hashed as it is read (SHA-256 and SHA-384 in one pass): from a FIFO fed by a
 * writer process, RTMR2's initrd event is the SHA-384 of exactly the bytes written.
 */
static void measure_hashes_an_initrd_streamed_from_a_fifo(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_vector_fw("synth_tdvf.bin");
	size_t pe_len;
	uint8_t *pe = make_test_pe(&pe_len, false);
	char *kernel = write_temp(pe, pe_len);
	char dir[] = "/tmp/cvmkit-test-tdx-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char fifo[64];
	snprintf(fifo, sizeof(fifo), "%s/initrd", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	size_t n = (5u << 20) + 3;
	uint8_t *bytes = malloc(n);
	assert_non_null(bytes);
	for (size_t i = 0; i < n; i++)
		bytes[i] = (uint8_t)(i * 13 + (i >> 12));
	pid_t w = fork();
	assert_true(w >= 0);
	if (w == 0) {
		int fd = open(fifo, O_WRONLY);
		for (size_t done = 0; fd >= 0 && done < n;) {
			ssize_t k = write(fd, bytes + done, n - done);
			if (k <= 0)
				_exit(1);
			done += (size_t)k;
		}
		_exit(0);
	}
	struct cvm_policy policy;
	test_policy(&policy);
	policy.boot.kernel = kernel;
	policy.boot.initrd = fifo;
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_tdx_measure(&policy, fw, &m, &err);
	if (rc)
		print_message("# %s\n", cvm_error_message(&err));
	assert_int_equal(rc, 0);
	int status;
	assert_int_equal(waitpid(w, &status, 0), w);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(m->rtmr_known[2]);
	uint8_t d[48], d256[32];
	char hex[65];
	cvm_tdx_sha384(bytes, n, d);
	assert_memory_equal(find_event(m, 2, "initrd")->digest, d, 48);
	assert_int_equal(cvm_sha256(bytes, n, d256, &err), 0);
	cvm_hex_encode(d256, 32, hex);
	assert_string_equal(find_input(m, "initrd_sha256"), hex);
	cvm_measurement_free(m);
	unlink(fifo);
	rmdir(dir);
	unlink(kernel);
	free(kernel);
	free(bytes);
	free(pe);
	cvm_firmware_free(fw);
}

static void measure_non_pe_kernel_says_why(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_vector_fw("synth_tdvf.bin");
	char *kernel = write_temp("\x7f" "ELF not a PE image at all, padding padding padding....", 56);
	struct cvm_policy policy;
	test_policy(&policy);
	policy.boot.kernel = kernel;
	struct cvm_measurement *m = NULL;
	assert_int_equal(cvm_tdx_measure(&policy, fw, &m, NULL), 0);
	assert_false(m->rtmr_known[1]);
	assert_non_null(strstr(m->rtmr_note[1], "not a usable PE/COFF"));
	assert_false(m->rtmr_known[2]);
	assert_non_null(m->rtmr_note[2]);
	cvm_measurement_free(m);
	unlink(kernel);
	free(kernel);
	cvm_firmware_free(fw);
}

/* The JSON document of a direct-boot measure, the firmware loaded and the boot files hashed on
   a pool of threads threads (0: no pool at all); *rc_out gets the measure's result. */
static char *direct_boot_document(unsigned threads, const char *kernel, const char *initrd,
				  bool pin_wrong, int *rc_out, struct cvm_error *err)
{
	struct cvm_pool *pool = NULL;
	if (threads)
		assert_int_equal(cvm_pool_new(threads, &pool, err), 0);
	char *path = vector_path("synth_tdvf.bin");
	struct cvm_firmware *fw = NULL;
	assert_int_equal(cvm_firmware_load_on(path, pool, &fw, err), 0);
	free(path);
	struct cvm_policy policy;
	test_policy(&policy);
	policy.boot.kernel = (char *)(uintptr_t)kernel;
	policy.boot.initrd = (char *)(uintptr_t)initrd;
	policy.boot.cmdline = (char *)(uintptr_t)"console=hvc0";
	policy.firmware.has_sha256 = pin_wrong; /* all zeros */
	struct cvm_tdx_measure_opts opts = {.pool = pool};
	struct cvm_measurement *m = NULL;
	cvm_error_clear(err);
	*rc_out = cvm_tdx_measure_ex(&policy, fw, &opts, &m, err);
	char *doc = NULL;
	if (*rc_out == 0) {
		uint8_t *bytes = NULL;
		size_t len = 0;
		assert_int_equal(cvm_measurement_encode(m, CVM_FMT_JSON, &bytes, &len, NULL), 0);
		doc = calloc(1, len + 1);
		assert_non_null(doc);
		memcpy(doc, bytes, len);
		free(bytes);
	} else {
		assert_null(m);
	}
	cvm_measurement_free(m);
	cvm_firmware_free(fw); /* before the pool its SHA-256 ran on */
	cvm_pool_free(pool);
	return doc;
}

/* The boot files hashed beside the MRTD chain (a PE kernel's SHA-256 and SHA-384 side by side,
   an initrd of several 1 MiB pieces each hashed by both), the firmware's SHA-256 on the pool:
   the same document on no pool and on 1, 2 and 3 threads, and the same refusals. */
static void measure_on_a_pool_gives_the_same_document(void **state)
{
	(void)state;
	size_t pe_len;
	uint8_t *pe = make_test_pe(&pe_len, false);
	char *kernel = write_temp(pe, pe_len);
	char *elf = write_temp("\x7f" "ELF not a PE image, padding padding padding padding....", 56);
	size_t big_len = (3u << 20) + 5;
	uint8_t *big = malloc(big_len);
	assert_non_null(big);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 16));
	char *initrd = write_temp(big, big_len);
	struct cvm_error err;
	int rc;
	char *want = direct_boot_document(0, kernel, initrd, false, &rc, &err);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(want, "\"initrd_sha256\""));
	char *want_elf = direct_boot_document(0, elf, initrd, false, &rc, &err);
	assert_int_equal(rc, 0);
	for (unsigned t = 1; t <= 3; t++) {
		char *doc_elf = direct_boot_document(t, elf, initrd, false, &rc, &err);
		assert_int_equal(rc, 0);
		assert_string_equal(doc_elf, want_elf);
		free(doc_elf);
		char *doc = direct_boot_document(t, kernel, initrd, false, &rc, &err);
		assert_int_equal(rc, 0);
		assert_string_equal(doc, want);
		free(doc);
		/* a wrong pin still fails, with the pin's message */
		assert_null(direct_boot_document(t, kernel, initrd, true, &rc, &err));
		assert_int_equal(rc, -EINVAL);
		assert_non_null(strstr(err.msg, "firmware.sha256"));
		/* a boot file that cannot be read fails the measure, named */
		assert_null(direct_boot_document(t, kernel, "/nonexistent/initrd", false, &rc,
						 &err));
		assert_int_equal(rc, -ENOENT);
		assert_non_null(strstr(err.msg, "boot.initrd"));
	}
	free(want);
	free(want_elf);
	unlink(kernel);
	unlink(elf);
	unlink(initrd);
	free(kernel);
	free(elf);
	free(initrd);
	free(big);
	free(pe);
}

/* ---- refusals ------------------------------------------------------------------------------ */

static void refuses_firmware_without_tdx_metadata(void **state)
{
	(void)state;
	static const uint8_t img[4096];
	struct cvm_firmware fw = fake_fw(img, sizeof(img), NULL, 0);
	fw.tdx_status = CVM_FW_ABSENT;
	struct cvm_policy policy;
	test_policy(&policy);
	struct cvm_error err;
	assert_int_equal(plan_error(&policy, &fw, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "no TDX metadata"));

	struct cvm_firmware *real = load_fw(DEBIAN_OVMF_CODE_4M);
	if (!real) {
		print_message("# SKIP " DEBIAN_OVMF_CODE_4M " not installed (package ovmf)\n");
		skip();
	}
	assert_int_equal(plan_error(&policy, real, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "no TDX metadata"));
	assert_non_null(strstr(err.msg, "unified OVMF.fd"));
	cvm_firmware_free(real);
}

static void refuses_split_ovmf_code(void **state)
{
	(void)state;
	static const uint8_t img[0x4000];
	/* the unified layout (CFV at file offset 0, then the BFV) without its CFV: split */
	struct cvm_tdvf_section s[] = {
		{0x2000, 0x4000, 0xffffc000, 0x4000, CVM_TDVF_BFV, CVM_TDVF_ATTR_MR_EXTEND},
		{0, 0x2000, 0xffffa000, 0x2000, CVM_TDVF_CFV, 0},
		{0, 0, 0x809000, 0x2000, CVM_TDVF_TD_HOB, 0},
	};
	struct cvm_firmware fw = fake_fw(img, sizeof(img), s, 3);
	struct cvm_policy policy;
	test_policy(&policy);
	struct cvm_error err;
	assert_int_equal(plan_error(&policy, &fw, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "past the end"));
	assert_non_null(strstr(err.msg, "split OVMF_CODE.fd"));
	assert_non_null(strstr(err.msg, "use the unified OVMF.fd"));

	/* the same raw data past the end of an image that is merely cut short: no split hint */
	struct cvm_tdvf_section t[] = {
		{0x2000, 0x4000, 0xffffc000, 0x4000, CVM_TDVF_BFV, CVM_TDVF_ATTR_MR_EXTEND},
		{0, 0, 0x809000, 0x2000, CVM_TDVF_TD_HOB, 0},
	};
	fw = fake_fw(img, sizeof(img), t, 2);
	assert_int_equal(plan_error(&policy, &fw, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "truncated"));
	assert_null(strstr(err.msg, "split"));

	struct cvm_firmware *real = load_fw(DEBIAN_OVMF_CODE);
	if (!real) {
		print_message("# SKIP " DEBIAN_OVMF_CODE " not installed (package ovmf)\n");
		skip();
	}
	assert_int_equal(plan_error(&policy, real, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "use the unified OVMF.fd"));
	cvm_firmware_free(real);
}

static void refuses_overlapping_sections(void **state)
{
	(void)state;
	static const uint8_t img[0x4000];
	struct cvm_tdvf_section s[] = {
		{0, 0x2000, 0xffffc000, 0x4000, CVM_TDVF_BFV, CVM_TDVF_ATTR_MR_EXTEND},
		{0, 0, 0x809000, 0x2000, CVM_TDVF_TD_HOB, 0},
		{0, 0, 0x808000, 0x2000, CVM_TDVF_TEMP_MEM, 0},
	};
	struct cvm_firmware fw = fake_fw(img, sizeof(img), s, 3);
	struct cvm_policy policy;
	test_policy(&policy);
	struct cvm_error err;
	assert_int_equal(plan_error(&policy, &fw, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "overlap"));
}

static void refuses_unaligned_sections(void **state)
{
	(void)state;
	static const uint8_t img[0x4000];
	struct cvm_tdvf_section s[] = {
		{0, 0x2000, 0xffffc000, 0x4000, CVM_TDVF_BFV, CVM_TDVF_ATTR_MR_EXTEND},
		{0, 0, 0x809800, 0x2000, CVM_TDVF_TD_HOB, 0},
	};
	struct cvm_firmware fw = fake_fw(img, sizeof(img), s, 2);
	struct cvm_policy policy;
	test_policy(&policy);
	struct cvm_error err;
	assert_int_equal(plan_error(&policy, &fw, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "4 KiB aligned"));
	s[1].gpa = 0x809000;
	s[1].mem_size = 0x1800;
	assert_int_equal(plan_error(&policy, &fw, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "4 KiB aligned"));
}

static void refuses_missing_td_hob(void **state)
{
	(void)state;
	static const uint8_t img[0x4000];
	struct cvm_tdvf_section s[] = {
		{0, 0x2000, 0xffffc000, 0x4000, CVM_TDVF_BFV, CVM_TDVF_ATTR_MR_EXTEND},
		{0, 0, 0x800000, 0x2000, CVM_TDVF_TEMP_MEM, 0},
	};
	struct cvm_firmware fw = fake_fw(img, sizeof(img), s, 2);
	struct cvm_policy policy;
	test_policy(&policy);
	struct cvm_error err;
	assert_int_equal(plan_error(&policy, &fw, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "no TD_HOB section"));
}

static void refuses_debug_without_allow(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_vector_fw("synth_tdvf.bin");
	struct cvm_policy policy;
	test_policy(&policy);
	policy.tdx.debug = true;
	struct cvm_error err;
	assert_int_equal(plan_error(&policy, fw, &err), -EPERM);
	assert_non_null(strstr(err.msg, "allow_debug"));
	policy.allow_debug = true;
	struct cvm_plan plan;
	assert_int_equal(cvm_tdx_plan_build(&policy, fw, &plan, &err), 0);
	assert_int_equal(plan.tdx.attributes & 1, 1);
	cvm_plan_release(&plan);
	cvm_firmware_free(fw);
}

static void refuses_policy_for_another_tee(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_vector_fw("synth_tdvf.bin");
	struct cvm_policy policy;
	test_policy(&policy);
	policy.tee = CVM_TEE_SNP;
	struct cvm_error err;
	assert_int_equal(plan_error(&policy, fw, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not \"tdx\""));
	cvm_firmware_free(fw);
}

static void refuses_firmware_pin_mismatch(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_vector_fw("synth_tdvf.bin");
	struct cvm_policy policy;
	test_policy(&policy);
	policy.firmware.has_sha256 = true;
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_tdx_measure(&policy, fw, &m, &err), -EINVAL);
	assert_null(m);
	assert_non_null(strstr(err.msg, "firmware.sha256"));
	assert_int_equal(cvm_hex_decode("6a51beb27320c7eb2686bc52e6a11084d933ae25a02001bb497f85d73a2b1f1c",
					policy.firmware.sha256, 32),
			 0);
	assert_int_equal(cvm_tdx_measure(&policy, fw, &m, &err), 0);
	cvm_measurement_free(m);
	cvm_firmware_free(fw);
}

/* ---- issue 12: TDVF sections bounded by the guest, QEMU's copy of BFV/CFV ------------------ */

static void bfv_memory_beyond_raw_data_is_loaded_from_the_image_as_qemu_does(void **state)
{
	(void)state;
	static uint8_t img[0x4000];
	memset(img, 0xa5, sizeof(img)); /* bytes after the raw data that QEMU does copy */
	struct cvm_tdvf_section s[] = {
		{0x1000, 0x1000, 0xffffc000, 0x2000, CVM_TDVF_BFV, CVM_TDVF_ATTR_MR_EXTEND},
		{0, 0, 0x809000, 0x2000, CVM_TDVF_TD_HOB, 0},
	};
	struct cvm_firmware fw = fake_fw(img, sizeof(img), s, 2);
	struct cvm_policy policy;
	test_policy(&policy);
	struct cvm_plan plan;
	struct cvm_error err;
	assert_int_equal(cvm_tdx_plan_build(&policy, &fw, &plan, &err), 0);
	const struct cvm_plan_op *bfv = &plan.ops[0];
	assert_string_equal(bfv->label, "BFV");
	/* KVM_TDX_INIT_MEM_REGION(source = image + DataOffset, MemoryDataSize bytes) */
	assert_ptr_equal(bfv->data, img + 0x1000);
	assert_int_equal(bfv->data_len, 0x2000);
	cvm_plan_release(&plan);

	/* the same memory size from an offset where the image has no such bytes: refused */
	s[0].data_offset = 0x3000;
	assert_int_equal(plan_error(&policy, &fw, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "exceeds the raw data"));
	assert_non_null(strstr(err.msg, "QEMU would load bytes that are not in the image"));
}

static void tdvf_sections_are_bounded_by_the_guest(void **state)
{
	(void)state;
	static uint8_t img[0x4000];
	struct cvm_policy policy;
	test_policy(&policy);
	struct cvm_error err;
	/* a BFV with a huge memory size (what made `measure` loop for ever) */
	struct cvm_tdvf_section huge[] = {
		{0, 0x4000, 0x1000, 0xfffffffff000ull, CVM_TDVF_BFV, CVM_TDVF_ATTR_MR_EXTEND},
		{0, 0, 0x809000, 0x2000, CVM_TDVF_TD_HOB, 0},
	};
	struct cvm_firmware fw = fake_fw(img, sizeof(img), huge, 2);
	assert_int_equal(plan_error(&policy, &fw, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "exceeds the raw data"));
	/* a BFV neither in RAM nor in the firmware window below 4 GiB */
	struct cvm_tdvf_section far[] = {
		{0, 0x4000, 0x200000000ull, 0x4000, CVM_TDVF_BFV, CVM_TDVF_ATTR_MR_EXTEND},
		{0, 0, 0x809000, 0x2000, CVM_TDVF_TD_HOB, 0},
	};
	fw = fake_fw(img, sizeof(img), far, 2);
	assert_int_equal(plan_error(&policy, &fw, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "neither in the guest's 0x80000000 bytes of RAM nor in the "
				       "firmware window"));
	policy.memory_size = 16 * GIB; /* now it is RAM */
	assert_int_equal(plan_error(&policy, &fw, &err), 0);
	test_policy(&policy);
	/* a TempMem past 52 bits, and one larger than the guest's memory */
	struct cvm_tdvf_section wide[] = {
		{0, 0x4000, 0xffffc000, 0x4000, CVM_TDVF_BFV, CVM_TDVF_ATTR_MR_EXTEND},
		{0, 0, 0x809000, 0x2000, CVM_TDVF_TD_HOB, 0},
		{0, 0, 0xffffffff00000ull, 0x200000000ull, CVM_TDVF_TEMP_MEM, 0},
	};
	fw = fake_fw(img, sizeof(img), wide, 3);
	assert_int_equal(plan_error(&policy, &fw, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "52-bit"));
	wide[2].gpa = 0x1000000;
	wide[2].mem_size = 4 * GIB;
	assert_int_equal(plan_error(&policy, &fw, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "TempMem"));
}

/* The reader's reason for a truncated image goes out as it is, without a split hint. */
static void truncated_image_is_not_called_split(void **state)
{
	(void)state;
	struct cvm_firmware *real = load_fw(DEBIAN_OVMF);
	if (!real) {
		print_message("# SKIP " DEBIAN_OVMF " not installed (package ovmf)\n");
		skip();
	}
	/* the front 64 KiB cut off: the metadata at the end survives, its offsets do not fit */
	struct cvm_firmware *cut = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_firmware_parse(real->data + 0x10000, real->size - 0x10000, &cut, &err),
			 0);
	struct cvm_policy policy;
	test_policy(&policy);
	assert_int_equal(plan_error(&policy, cut, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "truncated"));
	assert_null(strstr(err.msg, "split"));
	cvm_firmware_free(cut);
	cvm_firmware_free(real);
}

/* TDX with an SEV-SNP launch profile is refused, not silently measured as QEMU's TD HOB. */
static void tdx_planner_refuses_snp_vmm_profiles(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_vector_fw("synth_tdvf.bin");
	struct cvm_policy policy;
	test_policy(&policy);
	struct cvm_error err;
	const enum cvm_vmm refused[] = {CVM_VMM_GCE, CVM_VMM_EC2};
	for (size_t i = 0; i < 2; i++) {
		policy.vmm = refused[i];
		assert_int_equal(plan_error(&policy, fw, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "SEV-SNP launch profile"));
		struct cvm_measurement *m = NULL;
		assert_int_equal(cvm_tdx_measure(&policy, fw, &m, &err), -EINVAL);
		assert_null(m);
	}
	policy.vmm = CVM_VMM_CVMKIT;
	assert_int_equal(plan_error(&policy, fw, &err), 0);
	cvm_firmware_free(fw);
}

/* The fuzz target's seeds (tests/fuzz/corpus/%s) decode into a policy and firmware the planner
   accepts, so the fuzzer starts from inputs that reach it. */
static void for_each_seed(const char *name, void (*fn)(const struct plan_input *in, const char *file))
{
	char dir[256];
	snprintf(dir, sizeof(dir), "tests/fuzz/corpus/%s", name);
	DIR *d = opendir(dir);
	if (!d) {
		print_message("# SKIP %s not found (run from the source tree)\n", dir);
		skip();
	}
	size_t seen = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct cvm_file f;
		struct cvm_error err;
		assert_int_equal(cvm_file_open(path, &f, &err), 0);
		struct plan_input in;
		assert_true(plan_input_decode(f.data, f.size, CVM_TEE_TDX, &in));
		struct cvm_policy_problems pr = {0};
		if (cvm_policy_validate(&in.policy, &pr, &err))
			fail_msg("%s: policy: %s", path, cvm_error_message(&err));
		fn(&in, path);
		free(in.image);
		cvm_file_close(&f);
		seen++;
	}
	closedir(d);
	assert_true(seen >= 2);
}

static void tdx_seed_plans(const struct plan_input *in, const char *file)
{
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_firmware_parse(in->image, in->image_size, &fw, &err), 0);
	struct cvm_plan plan;
	if (cvm_tdx_plan_build(&in->policy, fw, &plan, &err))
		fail_msg("%s: %s", file, cvm_error_message(&err));
	cvm_plan_release(&plan);
	cvm_firmware_free(fw);
}

static void fuzz_tdx_plan_seeds_reach_the_planner(void **state)
{
	(void)state;
	for_each_seed("tdx_plan", tdx_seed_plans);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(debian_ovmf_mrtd_both_orders),
		cmocka_unit_test(debian_ovmf_plan_has_six_sections_in_metadata_order),
		cmocka_unit_test(measure_inputs_use_documented_snake_case_keys),
		cmocka_unit_test(debian_ovmf_measure_document),
		cmocka_unit_test(measure_against_a_launched_plan_compares_it_and_leaves_the_digest),
		cmocka_unit_test(hob_debian_2g_4g_8g_match_vectors),
		cmocka_unit_test(hob_layout_is_qemu_q35),
		cmocka_unit_test(hob_refuses_section_outside_ram),
		cmocka_unit_test(synth_mrtd_single_and_two_pass),
		cmocka_unit_test(synth_page_aug_honoured),
		cmocka_unit_test(synth_page_aug_ignored_as_qemu),
		cmocka_unit_test(synth_page_aug_flag_in_plan),
		cmocka_unit_test(synth_hobs_match_vectors),
		cmocka_unit_test(model_batches_across_ops),
		cmocka_unit_test(event_digests_match_vectors),
		cmocka_unit_test(rtmr0_computed_when_acpi_blobs_given),
		cmocka_unit_test(rtmr0_of_ccel_ovmf_from_cfv_and_acpi_digests),
		cmocka_unit_test(varstore_parser_takes_the_secure_boot_variables),
		cmocka_unit_test(debian_ms_varstore_gives_the_grub_logs_db_and_dbx),
		cmocka_unit_test(load_options_rebuild_the_grub_logs_boot_entries),
		cmocka_unit_test(generations_move_separators_and_add_202505_events),
		cmocka_unit_test(authenticode_matches_osslsigncode),
		cmocka_unit_test(authenticode_pass_also_gives_the_sha256),
		cmocka_unit_test(authenticode_refuses_non_pe_and_truncated),
		cmocka_unit_test(cmdline_digest_widens_and_appends_initrd_token),
		cmocka_unit_test(measure_direct_boot_computes_rtmr1_and_rtmr2),
		cmocka_unit_test(measure_hashes_an_initrd_streamed_from_a_fifo),
		cmocka_unit_test(measure_non_pe_kernel_says_why),
		cmocka_unit_test(measure_on_a_pool_gives_the_same_document),
		cmocka_unit_test(refuses_firmware_without_tdx_metadata),
		cmocka_unit_test(refuses_split_ovmf_code),
		cmocka_unit_test(refuses_overlapping_sections),
		cmocka_unit_test(refuses_unaligned_sections),
		cmocka_unit_test(refuses_missing_td_hob),
		cmocka_unit_test(refuses_debug_without_allow),
		cmocka_unit_test(refuses_policy_for_another_tee),
		cmocka_unit_test(refuses_firmware_pin_mismatch),
		cmocka_unit_test(bfv_memory_beyond_raw_data_is_loaded_from_the_image_as_qemu_does),
		cmocka_unit_test(tdvf_sections_are_bounded_by_the_guest),
		cmocka_unit_test(truncated_image_is_not_called_split),
		cmocka_unit_test(tdx_planner_refuses_snp_vmm_profiles),
		cmocka_unit_test(fuzz_tdx_plan_seeds_reach_the_planner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
