/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: SNP planner, VMSA builder, kernel-hashes page, PAGE_INFO model, legacy SEV/SEV-ES
 * digests and the matrix (sev/snp_*.c).  Expected values: vectors/snp/VECTORS.md (sev-snp-measure
 * 0.0.13).  The Debian OVMF values are not in VECTORS.md: they were computed with an independent
 * Python (hashlib) transcription of spec/snp-measurement.md that reproduces the fixture vectors.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>

#include <openssl/evp.h>

#include <cvmkit/emit.h>
#include <cvmkit/firmware.h>
#include <cvmkit/plan.h>
#include <cvmkit/policy.h>
#include <cvmkit/progress.h>
#include <cvmkit/pool.h>
#include <cvmkit/snp.h>
#include <cvmkit/util.h>
#include "tests/fuzz/plan_input.h"

#define AMDSEV "ovmf_AmdSev_suffix.bin"
#define OVMFX64 "ovmf_OvmfX64_suffix.bin"
#define DEBIAN_CODE "/usr/share/OVMF/OVMF_CODE.fd"
#define DEBIAN_CODE_4M "/usr/share/OVMF/OVMF_CODE_4M.fd"

#define OVMF_HASH_AMDSEV                                                                     \
	"086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d" \
	"466b74"

static const char *shared_dir(void)
{
	const char *d = getenv("CVMKIT_SHARED");
	return d && *d ? d : CVMKIT_SHARED_DIR;
}

static struct cvm_firmware *load_fixture(const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/vectors/snp/%s", shared_dir(), name);
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	if (cvm_firmware_load(path, &fw, &err))
		fail_msg("%s: %s", path, cvm_error_message(&err));
	return fw;
}

static struct cvm_firmware *load_system(const char *path)
{
	if (access(path, R_OK) != 0)
		return NULL;
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	if (cvm_firmware_load(path, &fw, &err))
		fail_msg("%s: %s", path, cvm_error_message(&err));
	return fw;
}

/* A policy on the stack whose strings point at literals: never cvm_policy_free it. */
struct case_policy {
	struct cvm_policy p;
	char model[32];
	char cmdline[128];
};

static void case_init(struct case_policy *c, enum cvm_vmm vmm, uint32_t vcpus, const char *model,
		      uint64_t features)
{
	memset(c, 0, sizeof(*c));
	cvm_policy_init(&c->p);
	c->p.tee = CVM_TEE_SNP;
	c->p.vmm = vmm;
	c->p.cpus.count = vcpus;
	if (model) {
		snprintf(c->model, sizeof(c->model), "%s", model);
		c->p.cpus.model = c->model;
	}
	c->p.snp.guest_features = features;
}

/* kernel=/dev/null initrd=/dev/null append=cmdline, as in the sev-snp-measure tests. */
static void case_direct_boot(struct case_policy *c, const char *cmdline)
{
	static char devnull[] = "/dev/null";
	c->p.boot.kernel = devnull;
	c->p.boot.initrd = devnull;
	snprintf(c->cmdline, sizeof(c->cmdline), "%s", cmdline);
	c->p.boot.cmdline = c->cmdline;
}

static void case_seed(struct case_policy *c, const char *hex)
{
	c->p.snp.has_firmware_digest = true;
	assert_int_equal(cvm_hex_decode(hex, c->p.snp.firmware_digest, 48), 0);
}

static const char *input_of(const struct cvm_measurement *m, const char *key)
{
	for (size_t i = 0; i < m->ninputs; i++)
		if (strcmp(m->inputs[i].key, key) == 0)
			return m->inputs[i].value;
	return NULL;
}

/*
 * The digest of p in mode, the same on this thread (no pool) and on pools of 1, 2, 3 threads;
 * on a pool a firmware read from a file is read again with its SHA-256 taken on the pool
 * (cvm_firmware_load_on), and the document names the same SHA-256.
 */
static void expect_digest(const struct cvm_policy *p, const struct cvm_firmware *fw,
			  enum cvm_sev_mode mode, const char *hex)
{
	char fw_sha256[65] = "";
	for (unsigned threads = 0; threads <= 3; threads++) {
		struct cvm_snp_measure_opts opts = {.mode = mode};
		struct cvm_measurement *m = NULL;
		struct cvm_error err;
		cvm_error_clear(&err);
		struct cvm_firmware *pooled = NULL;
		if (threads) {
			assert_int_equal(cvm_pool_new(threads, &opts.pool, &err), 0);
			if (fw->path)
				assert_int_equal(
					cvm_firmware_load_on(fw->path, opts.pool, &pooled, &err), 0);
		}
		if (cvm_snp_measure_ex(p, pooled ? pooled : fw, &opts, &m, &err))
			fail_msg("measure (%u threads): %s", threads, cvm_error_message(&err));
		char got[97];
		cvm_hex_encode(m->digest, m->digest_len, got);
		assert_string_equal(got, hex);
		const char *sha = input_of(m, "firmware_sha256");
		assert_non_null(sha);
		if (!threads)
			snprintf(fw_sha256, sizeof(fw_sha256), "%s", sha);
		assert_string_equal(sha, fw_sha256);
		cvm_measurement_free(m);
		cvm_firmware_free(pooled);
		cvm_pool_free(opts.pool);
	}
}

static void expect_failure(const struct cvm_policy *p, const struct cvm_firmware *fw,
			   enum cvm_sev_mode mode, const char *needle)
{
	struct cvm_snp_measure_opts opts = {.mode = mode};
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_snp_measure_ex(p, fw, &opts, &m, &err);
	assert_int_not_equal(rc, 0);
	assert_null(m);
	if (!strstr(cvm_error_message(&err), needle))
		fail_msg("error '%s' lacks '%s'", cvm_error_message(&err), needle);
}

static void sha384_hex(const uint8_t *data, size_t len, char out[97])
{
	uint8_t d[48];
	unsigned int n = 0;
	assert_true(EVP_Digest(data, len, d, &n, EVP_sha384(), NULL));
	cvm_hex_encode(d, 48, out);
}

/* ---- vCPU types, VMSA, PAGE_INFO, hashes table ------------------------------------------ */

static void cpu_signature_encodes_extended_family(void **state)
{
	(void)state;
	assert_int_equal(cvm_cpu_signature(23, 1, 2), 0x800f12);
	assert_int_equal(cvm_cpu_signature(14, 1, 2), 0x0e12);
	assert_int_equal(cvm_cpu_signature(25, 17, 0), 0xa10f10);
}

static void cpu_models_map_to_spec_signatures(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint32_t sig;
	} cases[] = {
		{"EPYC", 0x800f12},          {"EPYC-v1", 0x800f12},       {"EPYC-v2", 0x800f12},
		{"EPYC-v3", 0x800f12},       {"EPYC-v4", 0x800f12},       {"EPYC-IBPB", 0x800f12},
		{"EPYC-Rome", 0x830f10},     {"EPYC-Rome-v1", 0x830f10},  {"EPYC-Rome-v2", 0x830f10},
		{"EPYC-Rome-v3", 0x830f10},  {"EPYC-Milan", 0xa00f11},    {"EPYC-Milan-v1", 0xa00f11},
		{"EPYC-Milan-v2", 0xa00f11}, {"EPYC-Genoa", 0xa10f10},    {"EPYC-Genoa-v1", 0xa10f10},
		{"EPYC-Turin", 0xb00f00},    {"epyc-milan", 0xa00f11},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
		uint32_t sig = 0;
		assert_int_equal(cvm_snp_cpu_model_signature(cases[i].name, &sig), 0);
		assert_int_equal(sig, cases[i].sig);
	}
	uint32_t sig = 0;
	assert_int_equal(cvm_snp_cpu_model_signature("Skylake-Server", &sig), -ENOENT);
	assert_string_equal(cvm_snp_cpu_model_name(0), "EPYC");
	size_t n = 0;
	while (cvm_snp_cpu_model_name(n))
		n++;
	assert_int_equal(n, 16);
}

static void qemu_bsp_vmsa_matches_spec_hash(void **state)
{
	(void)state;
	struct cvm_vcpu_reset r;
	uint8_t page[CVM_SNP_VMSA_SIZE];
	char hex[97];
	cvm_snp_vcpu_reset_init(CVM_VMM_QEMU, CVM_SNP_BSP_RESET_EIP, 0x800f12, 0x21, &r);
	cvm_snp_vmsa_build(&r, page);
	assert_int_equal(cvm_le64(page + 0x10), 0x0000ffff009bf000ull);
	assert_int_equal(cvm_le64(page + 0x18), 0xffff0000ull);
	assert_int_equal(cvm_le64(page + 0x178), 0xfff0);
	assert_int_equal(cvm_le64(page + 0x310), 0x800f12);
	assert_int_equal(cvm_le32(page + 0x408), 0x1f80);
	assert_int_equal(cvm_le16(page + 0x410), 0x37f);
	sha384_hex(page, sizeof(page), hex);
	assert_string_equal(hex, "ae79efa6efbe1594a2717dfd42af495a0e4ed37b00e529a5fdf349bea04c3513"
				 "962ffb0c74cf65b0d9a1857271833d6e");
}

static void qemu_ap_vmsa_starts_at_reset_block(void **state)
{
	(void)state;
	struct cvm_vcpu_reset r;
	uint8_t page[CVM_SNP_VMSA_SIZE];
	char hex[97];
	cvm_snp_vcpu_reset_init(CVM_VMM_QEMU, 0x80b004, 0x800f12, 0x21, &r);
	assert_int_equal(r.cs.base, 0x800000);
	assert_int_equal(r.rip, 0xb004);
	cvm_snp_vmsa_build(&r, page);
	sha384_hex(page, sizeof(page), hex);
	assert_string_equal(hex, "180ef2675dc01615d31b3e84ef27a0a69d08bfbbb58ea4f6a0188f08884ab640"
				 "7591ada42f99749ce9a406fb4e5d8355");
}

static void cloud_vmm_reset_states_differ_as_specified(void **state)
{
	(void)state;
	struct cvm_vcpu_reset ec2_bsp, ec2_ap, gce, cvmkit, qemu;
	cvm_snp_vcpu_reset_init(CVM_VMM_EC2, CVM_SNP_BSP_RESET_EIP, 0x800f12, 1, &ec2_bsp);
	cvm_snp_vcpu_reset_init(CVM_VMM_EC2, 0x80b004, 0x800f12, 1, &ec2_ap);
	cvm_snp_vcpu_reset_init(CVM_VMM_GCE, CVM_SNP_BSP_RESET_EIP, 0x800f12, 1, &gce);
	cvm_snp_vcpu_reset_init(CVM_VMM_CVMKIT, CVM_SNP_BSP_RESET_EIP, 0x800f12, 1, &cvmkit);
	cvm_snp_vcpu_reset_init(CVM_VMM_QEMU, CVM_SNP_BSP_RESET_EIP, 0x800f12, 1, &qemu);
	assert_int_equal(ec2_bsp.cs.attrib, 0x9a);
	assert_int_equal(ec2_ap.cs.attrib, 0x9b);
	assert_int_equal(ec2_bsp.ss.attrib, 0x92);
	assert_int_equal(ec2_bsp.tr.attrib, 0x83);
	assert_int_equal(ec2_bsp.rdx, 0x600);
	assert_int_equal(ec2_bsp.mxcsr, 0);
	assert_int_equal(gce.g_pat, 0x70106);
	assert_int_equal(gce.rdx, 0x600);
	assert_int_equal(gce.x87_fcw, 0);
	assert_memory_equal(&cvmkit, &qemu, sizeof(qemu));
}

static void page_info_matches_worked_example(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	uint8_t zero[48] = {0}, contents[48], info[CVM_SNP_PAGE_INFO_SIZE];
	unsigned int n;
	assert_true(EVP_Digest(fw->data, 4096, contents, &n, EVP_sha384(), NULL));
	cvm_snp_page_info_encode(zero, contents, CVM_SNP_PAGE_NORMAL, 0xfffff000, info);
	char hex[2 * CVM_SNP_PAGE_INFO_SIZE + 1];
	cvm_hex_encode(info, sizeof(info), hex);
	assert_string_equal(hex, "00000000000000000000000000000000000000000000000000000000000000000000"
				 "0000000000000000000000000000161ace084859674ded7322ad102eb33f49457e"
				 "0f7845a8f9ad0e03a59eac3e3e360f8b78345363feaeac956ebba2d89470000100"
				 "0000000000f0ffff00000000");
	cvm_firmware_free(fw);
}

static void hashes_table_matches_vector(void **state)
{
	(void)state;
	struct cvm_snp_boot_hashes h;
	struct cvm_error err;
	uint8_t table[CVM_SNP_HASHES_TABLE_SIZE];
	assert_int_equal(
		cvm_snp_boot_hashes_from_bytes(NULL, 0, NULL, 0, "console=ttyS0 loglevel=7", &h, &err),
		0);
	cvm_snp_hashes_table(&h, table);
	char hex[2 * CVM_SNP_HASHES_TABLE_SIZE + 1];
	cvm_hex_encode(table, sizeof(table), hex);
	assert_string_equal(
		hex, "06d63894224fc94cb479a793d411fd21a800d82dd09720bd944caa78e7714d36ab2a3200321c8eec6"
		     "a77bad179511397f913a083067ad8cb737bb260aacbfe8df70fc50a31f7ba442f3ad74b9af141e2"
		     "9169781d3200e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855379"
		     "4e74dd2ab7f42b835d5b172d2045b3200e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
		     "4ca495991b7852b8550000000000000000");
}

static void boot_hashes_from_files_equal_bytes(void **state)
{
	(void)state;
	char dir[] = "/tmp/cvmkit-snp-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char kpath[64], ipath[64];
	snprintf(kpath, sizeof(kpath), "%s/k", dir);
	snprintf(ipath, sizeof(ipath), "%s/i", dir);
	FILE *f = fopen(kpath, "w");
	fputs("kernel bytes", f);
	fclose(f);
	f = fopen(ipath, "w");
	fclose(f); /* an empty initrd, like /dev/null */

	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC", 1);
	c.p.boot.kernel = kpath;
	c.p.boot.initrd = ipath;
	struct cvm_snp_boot_hashes a, b;
	bool present = false;
	struct cvm_error err;
	assert_int_equal(cvm_snp_boot_hashes_compute(&c.p, &a, &present, &err), 0);
	assert_true(present);
	assert_int_equal(cvm_snp_boot_hashes_from_bytes((const uint8_t *)"kernel bytes", 12,
							(const uint8_t *)"", 0, NULL, &b, &err),
			 0);
	assert_memory_equal(&a, &b, sizeof(a));
	unlink(kpath);
	unlink(ipath);
	rmdir(dir);
}

/* ---- the plan ------------------------------------------------------------------------- */

static void plan_orders_firmware_sections_and_vmsas(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 3, "EPYC-v4", 0x21);
	struct cvm_snp_boot_hashes h;
	struct cvm_error err;
	assert_int_equal(cvm_snp_boot_hashes_from_bytes(NULL, 0, NULL, 0, "", &h, &err), 0);
	struct cvm_plan plan;
	assert_int_equal(cvm_snp_plan_build_hashed(&c.p, fw, &h, &plan, &err), 0);

	static const struct {
		const char *label;
		uint64_t gpa, size;
		uint8_t type;
	} want[] = {
		{"firmware", 0xfffff000, 0x1000, CVM_SNP_PAGE_NORMAL},
		{"SNP_SEC_MEM", 0x800000, 0x9000, CVM_SNP_PAGE_ZERO},
		{"SNP_SEC_MEM", 0x80a000, 0x3000, CVM_SNP_PAGE_ZERO},
		{"SNP_SECRETS", 0x80d000, 0x1000, CVM_SNP_PAGE_SECRETS},
		{"CPUID", 0x80e000, 0x1000, CVM_SNP_PAGE_CPUID},
		{"SVSM_CAA", 0x80f000, 0x1000, CVM_SNP_PAGE_ZERO},
		{"SNP_KERNEL_HASHES", 0x810000, 0x1000, CVM_SNP_PAGE_NORMAL},
		{"SNP_SEC_MEM", 0x811000, 0xf000, CVM_SNP_PAGE_ZERO},
	};
	assert_int_equal(plan.nops, CVM_ARRAY_SIZE(want) + 3);
	for (size_t i = 0; i < CVM_ARRAY_SIZE(want); i++) {
		assert_int_equal(plan.ops[i].kind, CVM_OP_LOAD);
		assert_string_equal(plan.ops[i].label, want[i].label);
		assert_int_equal(plan.ops[i].gpa, want[i].gpa);
		assert_int_equal(plan.ops[i].size, want[i].size);
		assert_int_equal(plan.ops[i].snp_page_type, want[i].type);
	}
	assert_true(plan.ops[0].flags & CVM_OP_FIRMWARE);
	assert_ptr_equal(plan.ops[0].data, fw->data);
	/* The hashes table sits at the hash-table GPA's page offset (0xc00). */
	assert_int_equal(cvm_le16(plan.ops[6].data + 0xc10), 0xa8);
	for (uint32_t i = 0; i < 3; i++) {
		const struct cvm_plan_op *op = &plan.ops[CVM_ARRAY_SIZE(want) + i];
		assert_int_equal(op->kind, CVM_OP_VCPU);
		assert_int_equal(op->vcpu_index, i);
		assert_int_equal(op->gpa, CVM_SNP_VMSA_GPA);
		assert_int_equal(op->snp_page_type, CVM_SNP_PAGE_VMSA);
		assert_int_equal(op->data_len, CVM_SNP_VMSA_SIZE);
		assert_non_null(op->vcpu);
		assert_int_equal(op->vcpu->rip, i == 0 ? 0xfff0 : 0xb004);
		assert_int_equal(cvm_le64(op->data + 0x310), 0x800f12);
	}
	assert_int_equal(plan.tee, CVM_TEE_SNP);
	assert_int_equal(plan.nvcpus, 3);
	assert_int_equal(plan.snp.policy, 0x30000);
	assert_int_equal(plan.snp.vmsa_features, 0x20);
	assert_false(plan.snp.has_initial_digest);
	cvm_plan_release(&plan);
	cvm_firmware_free(fw);
}

static void plan_ec2_measures_cpuid_last_and_gce_sec_mem_unmeasured(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	struct cvm_error err;
	struct cvm_plan plan;
	case_init(&c, CVM_VMM_EC2, 1, NULL, 1);
	assert_int_equal(cvm_snp_plan_build_hashed(&c.p, fw, NULL, &plan, &err), 0);
	assert_string_equal(plan.ops[7].label, "CPUID");
	assert_string_equal(plan.ops[6].label, "SNP_SEC_MEM");
	assert_int_equal(plan.ops[5].snp_page_type, CVM_SNP_PAGE_ZERO); /* hashes page, no kernel */
	cvm_plan_release(&plan);

	case_init(&c, CVM_VMM_GCE, 1, NULL, 1);
	assert_int_equal(cvm_snp_plan_build_hashed(&c.p, fw, NULL, &plan, &err), 0);
	assert_int_equal(plan.ops[1].snp_page_type, CVM_SNP_PAGE_UNMEASURED);
	assert_int_equal(plan.ops[5].snp_page_type, CVM_SNP_PAGE_ZERO); /* SVSM_CAA stays ZERO */
	cvm_plan_release(&plan);
	cvm_firmware_free(fw);
}

/* Runs the first nops ops of a plan through the model. */
static void model_digest_after(const struct cvm_plan *plan, size_t nops, char hex[97])
{
	struct cvm_plan view = *plan;
	view.nops = nops;
	struct cvm_snp_model *model = cvm_snp_model_new();
	assert_non_null(model);
	struct cvm_backend b = {cvm_snp_model_ops(), model};
	struct cvm_error err;
	if (cvm_plan_execute(&view, &b, 1, &err))
		fail_msg("%s", cvm_error_message(&err));
	uint8_t d[48];
	cvm_snp_model_digest(model, d);
	cvm_hex_encode(d, 48, hex);
	cvm_snp_model_free(model);
}

/* Plans of one policy compare equal; a changed op, a changed byte, a seed are named. */
static void plan_compare_names_the_first_difference(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 2, "EPYC-v4", 0x21);
	case_direct_boot(&c, "console=ttyS0");
	struct cvm_plan a, b;
	struct cvm_error err;
	assert_int_equal(cvm_snp_plan_build(&c.p, fw, &a, &err), 0);
	assert_int_equal(cvm_snp_plan_build(&c.p, fw, &b, &err), 0);
	assert_int_equal(cvm_plan_compare(&a, &b, &err), 0);
	b.ops[2].gpa += CVM_PAGE_SIZE;
	assert_int_equal(cvm_plan_compare(&a, &b, &err), -EPROTO);
	assert_non_null(strstr(cvm_error_message(&err), "op 2"));
	b.ops[2].gpa -= CVM_PAGE_SIZE;
	size_t last = b.nops - 1; /* an AP's VMSA page, owned by b */
	uint8_t *vmsa = (uint8_t *)(uintptr_t)b.ops[last].data;
	vmsa[0x310] ^= 1;
	assert_int_equal(cvm_plan_compare(&a, &b, &err), -EPROTO);
	vmsa[0x310] ^= 1;
	b.snp.has_initial_digest = true;
	assert_int_equal(cvm_plan_compare(&a, &b, &err), -EPROTO);
	assert_non_null(strstr(cvm_error_message(&err), "initial digest"));
	cvm_plan_release(&a);
	cvm_plan_release(&b);
	cvm_firmware_free(fw);
}

/* A firmware digest given ahead is taken only for an op that loads those very bytes. */
static void model_takes_a_firmware_digest_only_for_its_bytes(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC-v4", 0x21);
	struct cvm_plan plan;
	struct cvm_error err;
	assert_int_equal(cvm_snp_plan_build(&c.p, fw, &plan, &err), 0);
	static const uint8_t bogus[48] = {1};
	uint8_t want[48], got[48];
	struct cvm_backend b = {cvm_snp_model_ops(), cvm_snp_model_new()};
	assert_int_equal(cvm_plan_execute(&plan, &b, 1, &err), 0);
	cvm_snp_model_digest(b.ctx, want);
	cvm_snp_model_set_firmware_digest(b.ctx, fw, bogus); /* taken: the digest changes */
	assert_int_equal(cvm_plan_execute(&plan, &b, 1, &err), 0);
	cvm_snp_model_digest(b.ctx, got);
	assert_memory_not_equal(got, want, 48);
	uint8_t *copy = malloc(fw->size); /* the same bytes elsewhere: hashed, not taken */
	assert_non_null(copy);
	memcpy(copy, fw->data, fw->size);
	plan.ops[0].data = copy;
	assert_int_equal(cvm_plan_execute(&plan, &b, 1, &err), 0);
	cvm_snp_model_digest(b.ctx, got);
	assert_memory_equal(got, want, 48);
	free(copy);
	cvm_snp_model_free(b.ctx);
	cvm_plan_release(&plan);
	cvm_firmware_free(fw);
}

static void model_reproduces_intermediate_trace(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 2, "EPYC-v4", 0x21);
	case_direct_boot(&c, "console=ttyS0 loglevel=7");
	struct cvm_plan plan;
	struct cvm_error err;
	assert_int_equal(cvm_snp_plan_build(&c.p, fw, &plan, &err), 0);
	static const char *const trace[] = {
		OVMF_HASH_AMDSEV,
		"411a1360ae4001ab44e1c8a5f14115068566f56b565be90042aa16cc26de1492ef3025f10b7cdd14911ae69a"
		"aea7881a",
		"e0b2ff7ad80630d6c56ba3d43c7dd1cccca220d9cc60092fe69e5f31a6ab4e9537aa477497f03636ae29b186"
		"30df8477",
		"230c05427474c0649ea31849fe3144dbbef0921570105732b69ff5463dee1fe8612dee2db08667193770997"
		"18ecb46d8",
		"17af371be37e5a8f0f3d83cd4195cfb47b60caabf8c209e6c68ab44d6484381a057812c0760811d53f47b52"
		"2a16e5574",
		"1de7f0d81360fb802b5e2a7327f58ed1a2c9d1947a2e3cf0ae34184e6e1b4cb102da9ac69f421cded3105d1"
		"2d523e4e9",
		"ce06e9d69b176848cf5cbf7c89096ee2e45937a2721e168519ecbec9e0cc7b33df8b16c10c6004379d579d2"
		"ff03f528e",
		"36fcd572bd473b23cdcce6f078026377e7b2d18ede30fe022d371f062ac1fbd73ba70c6286951b488c864e3"
		"ff9392f43",
		"803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe77"
		"8d0228977",
		"fdee4756af4d830201fb4b9fbcf366a50721d28c3a78fdd816f80751c62cdbf8b33c14c1e2ad37778943330"
		"d2d64986a",
	};
	assert_int_equal(plan.nops, CVM_ARRAY_SIZE(trace));
	char hex[97];
	for (size_t i = 0; i < CVM_ARRAY_SIZE(trace); i++) {
		model_digest_after(&plan, i + 1, hex);
		assert_string_equal(hex, trace[i]);
	}
	char page_hash[97];
	sha384_hex(plan.ops[6].data, 4096, page_hash);
	assert_string_equal(page_hash, "adbef9bc7385f7a6dcb8774523cf024b403f193a47962309b277c4109aa70"
				       "b4ba0355d1657b50e9625d5bd1129e7fd27");
	cvm_plan_release(&plan);
	cvm_firmware_free(fw);
}

static void model_seeded_skips_firmware_ops(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC-v4", 0x21);
	case_direct_boot(&c, "console=ttyS0 loglevel=7");
	case_seed(&c, OVMF_HASH_AMDSEV);
	struct cvm_plan plan;
	struct cvm_error err;
	assert_int_equal(cvm_snp_plan_build(&c.p, fw, &plan, &err), 0);
	assert_true(plan.snp.has_initial_digest);
	char hex[97];
	model_digest_after(&plan, 1, hex);
	assert_string_equal(hex, OVMF_HASH_AMDSEV);
	model_digest_after(&plan, plan.nops, hex);
	assert_string_equal(hex, "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e"
				 "534442e7e1e17895dfe778d0228977");
	cvm_plan_release(&plan);
	cvm_firmware_free(fw);
}

/* Page hashes on a pool: a range of odd length (partial last page, zero tail), every thread count. */
static void pooled_page_hashes_give_the_same_chain(void **state)
{
	(void)state;
	enum { PAGES = 1000 + 37 }; /* several windows, the last one short */
	size_t data_len = 700 * CVM_PAGE_SIZE + 123;
	uint8_t *data = malloc(data_len);
	assert_non_null(data);
	for (size_t i = 0; i < data_len; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	struct cvm_plan_op op = {.kind = CVM_OP_LOAD, .label = "range", .gpa = 0x100000,
				 .size = (uint64_t)PAGES * CVM_PAGE_SIZE, .data = data,
				 .data_len = data_len, .snp_page_type = CVM_SNP_PAGE_NORMAL};
	struct cvm_plan plan = {.tee = CVM_TEE_SNP, .ops = &op, .nops = 1};
	char want[97] = "";
	for (unsigned threads = 0; threads <= 4; threads++) {
		struct cvm_pool *pool = NULL;
		struct cvm_error err;
		if (threads)
			assert_int_equal(cvm_pool_new(threads, &pool, &err), 0);
		struct cvm_snp_model *model = cvm_snp_model_new();
		assert_non_null(model);
		cvm_snp_model_set_pool(model, pool);
		struct cvm_backend b = {cvm_snp_model_ops(), model};
		if (cvm_plan_execute(&plan, &b, 1, &err))
			fail_msg("%s", cvm_error_message(&err));
		uint8_t d[48];
		char hex[97];
		cvm_snp_model_digest(model, d);
		cvm_hex_encode(d, 48, hex);
		if (!threads)
			memcpy(want, hex, sizeof(want));
		assert_string_equal(hex, want);
		cvm_snp_model_free(model);
		cvm_pool_free(pool);
	}
	free(data);

	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct cvm_pool *pool;
	struct cvm_error err;
	assert_int_equal(cvm_pool_new(2, &pool, &err), 0);
	uint8_t d[48];
	char hex[97];
	assert_int_equal(cvm_snp_firmware_digest_ex(fw, pool, d, &err), 0);
	cvm_hex_encode(d, 48, hex);
	assert_string_equal(hex, OVMF_HASH_AMDSEV);
	cvm_pool_free(pool);
	cvm_firmware_free(fw);
}

static void firmware_digest_is_ovmf_hash(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	uint8_t d[48];
	char hex[97];
	struct cvm_error err;
	assert_int_equal(cvm_snp_firmware_digest(fw, d, &err), 0);
	cvm_hex_encode(d, 48, hex);
	assert_string_equal(hex, OVMF_HASH_AMDSEV);
	cvm_firmware_free(fw);
}

/* ---- sev-snp-measure vectors ----------------------------------------------------------- */

struct vector {
	const char *name;
	const char *fixture;
	enum cvm_sev_mode mode;
	enum cvm_vmm vmm;
	uint32_t vcpus;
	const char *cpu;
	uint64_t features;
	bool kernel;         /* kernel=/dev/null initrd=/dev/null */
	const char *cmdline; /* with kernel */
	const char *seed;
	const char *expected;
};

static const struct vector vectors[] = {
	{"snp_ovmf_hash_gen_default", AMDSEV, CVM_SEV_MODE_SNP, CVM_VMM_QEMU, 1, "EPYC-v4", 0x21,
	 true, "", OVMF_HASH_AMDSEV,
	 "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7"
	 "ef198"},
	{"snp_ovmf_hash_gen_feature_snp_only", AMDSEV, CVM_SEV_MODE_SNP, CVM_VMM_QEMU, 1, "EPYC-v4",
	 0x1, true, "", OVMF_HASH_AMDSEV,
	 "ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852"
	 "819b5"},
	{"snp_default", AMDSEV, CVM_SEV_MODE_SNP, CVM_VMM_QEMU, 1, "EPYC-v4", 0x21, true,
	 "console=ttyS0 loglevel=7", NULL,
	 "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d02"
	 "28977"},
	{"snp_guest_feature_snp_only", AMDSEV, CVM_SEV_MODE_SNP, CVM_VMM_QEMU, 1, "EPYC-v4", 0x1,
	 true, "console=ttyS0 loglevel=7", NULL,
	 "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4"
	 "b08fa"},
	{"snp_ec2_default", AMDSEV, CVM_SEV_MODE_SNP, CVM_VMM_EC2, 1, "EPYC-v4", 0x21, true, "",
	 NULL,
	 "0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b71052498ab52b2f1aa415db338033946ef93aa8278c0"
	 "d67fb"},
	{"snp_ec2_feature_snp_only", AMDSEV, CVM_SEV_MODE_SNP, CVM_VMM_EC2, 1, "EPYC-v4", 0x1, true,
	 "", NULL,
	 "0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964"
	 "e5056"},
	{"snp_gce_default", AMDSEV, CVM_SEV_MODE_SNP, CVM_VMM_GCE, 1, NULL, 0x1, true, "", NULL,
	 "5da7106cf14cf46b1725ebab123eb9e53bd46a1e9f400cd0c08e7827b04b688ea8b4e403c8404efed4397ea5d5d"
	 "0722e"},
	{"snp_gce_with_multiple_vcpus", AMDSEV, CVM_SEV_MODE_SNP, CVM_VMM_GCE, 4, NULL, 0x1, true, "",
	 NULL,
	 "5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab8"
	 "1e29d"},
	{"snp_without_kernel_default", AMDSEV, CVM_SEV_MODE_SNP, CVM_VMM_QEMU, 1, "EPYC-v4", 0x21,
	 false, NULL, NULL,
	 "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbc"
	 "d0e2b"},
	{"snp_without_kernel_feature_snp_only", AMDSEV, CVM_SEV_MODE_SNP, CVM_VMM_QEMU, 1, "EPYC-v4",
	 0x1, false, NULL, NULL,
	 "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5d"
	 "f632d"},
	{"snp_with_multiple_vcpus_default", AMDSEV, CVM_SEV_MODE_SNP, CVM_VMM_QEMU, 4, "EPYC-v4", 0x21,
	 true, "", NULL,
	 "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a6"
	 "31942"},
	{"snp_with_multiple_vcpus_feature_snp_only", AMDSEV, CVM_SEV_MODE_SNP, CVM_VMM_QEMU, 4,
	 "EPYC-v4", 0x1, true, "", NULL,
	 "5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e230"
	 "46ad5"},
	{"snp_with_ovmfx64_without_kernel_default", OVMFX64, CVM_SEV_MODE_SNP, CVM_VMM_QEMU, 1,
	 "EPYC-v4", 0x21, false, NULL, NULL,
	 "28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a6"
	 "4c385"},
	{"snp_with_ovmfx64_without_kernel_feature_snp_only", OVMFX64, CVM_SEV_MODE_SNP, CVM_VMM_QEMU,
	 1, "EPYC-v4", 0x1, false, NULL, NULL,
	 "da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30"
	 "b4005"},
	{"readme_ovmf_hash_seed", AMDSEV, CVM_SEV_MODE_SNP, CVM_VMM_QEMU, 1, "EPYC-v4", 0x21, true, "",
	 "cab7e085874b3acfdbe2d96dcaa3125111f00c35c6fc9708464c2ae74bfdb048a198cb9a9ccae0b3e5e1a33f5f2"
	 "49819",
	 "cddf7506c479497762a124417f6e67c1fac1c4f58cb88c0a6faa01a886001c91419bdddae02ad292e1329ab25bb"
	 "a7de7"},
	{"seves", AMDSEV, CVM_SEV_MODE_SEVES, CVM_VMM_QEMU, 1, "EPYC-v4", 0x21, true, "", NULL,
	 "13810ae661ea11e2bb205621f582fee268f0367c8f97bc297b7fadef3e12002c"},
	{"seves_with_multiple_vcpus", AMDSEV, CVM_SEV_MODE_SEVES, CVM_VMM_QEMU, 4, "EPYC-v4", 0x1,
	 true, "", NULL, "0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91"},
	{"sev", AMDSEV, CVM_SEV_MODE_SEV, CVM_VMM_QEMU, 1, NULL, 0x1, true,
	 "console=ttyS0 loglevel=7", NULL,
	 "82a3ee5d537c3620628270c292ae30cb40c3c878666a7890ee7ef2a08fb535ff"},
	{"sev_with_ovmfx64_without_kernel", OVMFX64, CVM_SEV_MODE_SEV, CVM_VMM_QEMU, 1, NULL, 0x1,
	 false, NULL, NULL, "b4c021e085fb83ceffe6571a3d357b4a98773c83c474e47f76c876708fe316da"},
};

static void sev_snp_measure_vectors_match(void **state)
{
	(void)state;
	for (size_t i = 0; i < CVM_ARRAY_SIZE(vectors); i++) {
		const struct vector *v = &vectors[i];
		print_message("# vector %s\n", v->name);
		struct cvm_firmware *fw = load_fixture(v->fixture);
		struct case_policy c;
		case_init(&c, v->vmm, v->vcpus, v->cpu, v->features);
		if (v->kernel)
			case_direct_boot(&c, v->cmdline);
		if (v->seed)
			case_seed(&c, v->seed);
		expect_digest(&c.p, fw, v->mode, v->expected);
		cvm_firmware_free(fw);
	}
}

static void sev_kernel_without_initrd_and_append(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	static char devnull[] = "/dev/null";
	case_init(&c, CVM_VMM_QEMU, 1, NULL, 1);
	c.p.boot.kernel = devnull;
	expect_digest(&c.p, fw, CVM_SEV_MODE_SEV,
		      "77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898");
	cvm_firmware_free(fw);
}

static void seves_needs_no_sev_features(void **state)
{
	(void)state;
	/* guest_features is ignored in SEV-ES: 0x21 and 0x1 give the same digest. */
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC-v4", 0x1);
	case_direct_boot(&c, "");
	expect_digest(&c.p, fw, CVM_SEV_MODE_SEVES,
		      "13810ae661ea11e2bb205621f582fee268f0367c8f97bc297b7fadef3e12002c");
	cvm_firmware_free(fw);
}

static void vcpu_signature_alternatives_agree(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	const char *want = "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278"
			   "a4a2ebe0eed9f22adbcd0e2b";
	case_init(&c, CVM_VMM_QEMU, 1, NULL, 0x21);
	c.p.cpus.has_signature = true;
	c.p.cpus.signature = 0x800f12;
	expect_digest(&c.p, fw, CVM_SEV_MODE_SNP, want);
	c.p.cpus.signature = cvm_cpu_signature(23, 1, 2);
	expect_digest(&c.p, fw, CVM_SEV_MODE_SNP, want);
	case_init(&c, CVM_VMM_CVMKIT, 1, "EPYC", 0x21); /* cvmkit measures like QEMU */
	expect_digest(&c.p, fw, CVM_SEV_MODE_SNP, want);
	cvm_firmware_free(fw);
}

/* Progress reports of one measurement, by label (the hashing threads report concurrently). */
struct hash_log {
	pthread_mutex_t mu;
	size_t n;
	char what[16][64];
	uint64_t done[16], total[16];
};

static void log_hashing(void *ctx, const char *what, uint64_t done, uint64_t total)
{
	struct hash_log *log = ctx;
	pthread_mutex_lock(&log->mu);
	if (log->n < 16) {
		snprintf(log->what[log->n], sizeof(log->what[0]), "%s", what);
		log->done[log->n] = done;
		log->total[log->n] = total;
		log->n++;
	}
	pthread_mutex_unlock(&log->mu);
}

static const char *input_value(const struct cvm_measurement *m, const char *key)
{
	for (size_t i = 0; i < m->ninputs; i++)
		if (strcmp(m->inputs[i].key, key) == 0)
			return m->inputs[i].value;
	fail_msg("input %s missing", key);
	return NULL;
}

static char *write_temp(const char *tmpl_name, const uint8_t *data, size_t len)
{
	char *path = malloc(64);
	assert_non_null(path);
	snprintf(path, 64, "/tmp/%s-XXXXXX", tmpl_name);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* A progress callback that truncates the initrd being hashed (ctx: its path) at 8 MiB. */
static void truncate_initrd(void *ctx, const char *what, uint64_t done, uint64_t total)
{
	if (strstr(what, "cvmkit-initrd") && done < total)
		assert_int_equal(truncate(ctx, 4096), 0);
}

/*
 * An initrd truncated while measure hashes it is a clear error: no SIGBUS (as with a mapping),
 * no digest of bytes that were never the file's.
 */
static void initrd_truncated_while_hashed_is_an_error(void **state)
{
	(void)state;
	size_t ilen = 20u << 20;
	uint8_t *initrd = calloc(1, ilen);
	assert_non_null(initrd);
	char *ipath = write_temp("cvmkit-initrd", initrd, ilen);
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC-v4", 0x1);
	static char devnull[] = "/dev/null";
	c.p.boot.kernel = devnull;
	c.p.boot.initrd = ipath;
	struct cvm_progress progress = {truncate_initrd, ipath};
	struct cvm_snp_measure_opts opts = {.mode = CVM_SEV_MODE_SNP, .progress = &progress};
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_snp_measure_ex(&c.p, fw, &opts, &m, &err), -EIO);
	assert_null(m);
	assert_non_null(strstr(cvm_error_message(&err), "initrd: "));
	assert_non_null(strstr(cvm_error_message(&err), "changed while it was read"));
	unlink(ipath);
	free(ipath);
	free(initrd);
	cvm_firmware_free(fw);
}

static void chunked_file_hashing_matches_one_shot_and_reports_progress(void **state)
{
	(void)state;
	/* Two full 8 MiB chunks and a partial one; a kernel smaller than one chunk. */
	size_t ilen = (16u << 20) + 12345, klen = 4097;
	uint8_t *initrd = malloc(ilen), *kernel = malloc(klen);
	assert_non_null(initrd);
	assert_non_null(kernel);
	for (size_t i = 0; i < ilen; i++)
		initrd[i] = (uint8_t)(i * 2654435761u >> 13);
	for (size_t i = 0; i < klen; i++)
		kernel[i] = (uint8_t)(i ^ 0x5a);
	char *ipath = write_temp("cvmkit-initrd", initrd, ilen);
	char *kpath = write_temp("cvmkit-kernel", kernel, klen);

	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC-v4", 0x1);
	c.p.boot.kernel = kpath;
	c.p.boot.initrd = ipath;

	struct hash_log log;
	memset(&log, 0, sizeof(log));
	pthread_mutex_init(&log.mu, NULL);
	struct cvm_progress progress = {log_hashing, &log};
	struct cvm_snp_measure_opts with = {.mode = CVM_SEV_MODE_SNP, .progress = &progress};
	struct cvm_measurement *a = NULL, *b = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	if (cvm_snp_measure_ex(&c.p, fw, &with, &a, &err) || cvm_snp_measure(&c.p, fw, &b, &err))
		fail_msg("measure: %s", cvm_error_message(&err));
	pthread_mutex_destroy(&log.mu);

	/* The chunked file hashes equal one-shot SHA-256 of the same bytes, with or without
	 * progress, and so do the digests. */
	struct cvm_snp_boot_hashes h;
	assert_int_equal(cvm_snp_boot_hashes_from_bytes(kernel, klen, initrd, ilen, "", &h, &err), 0);
	char ihex[65], khex[65];
	cvm_hex_encode(h.initrd, 32, ihex);
	cvm_hex_encode(h.kernel, 32, khex);
	assert_string_equal(input_value(a, "initrd_sha256"), ihex);
	assert_string_equal(input_value(a, "kernel_sha256"), khex);
	assert_string_equal(input_value(b, "initrd_sha256"), ihex);
	assert_memory_equal(a->digest, b->digest, 48);

	/* initrd: 8 MiB, 16 MiB, all; kernel: all at once; the firmware (in memory) is not a file. */
	const char *iname = strrchr(ipath, '/') + 1, *kname = strrchr(kpath, '/') + 1;
	char iwhat[64], kwhat[64];
	snprintf(iwhat, sizeof(iwhat), "hashing %s", iname);
	snprintf(kwhat, sizeof(kwhat), "hashing %s", kname);
	uint64_t want_initrd[] = {8u << 20, 16u << 20, ilen};
	size_t ni = 0, nk = 0;
	for (size_t i = 0; i < log.n; i++) {
		if (strcmp(log.what[i], iwhat) == 0) {
			assert_true(ni < 3);
			assert_int_equal(log.done[i], want_initrd[ni++]);
			assert_int_equal(log.total[i], ilen);
		} else {
			assert_string_equal(log.what[i], kwhat);
			assert_int_equal(log.done[i], klen);
			assert_int_equal(log.total[i], klen);
			nk++;
		}
	}
	assert_int_equal(ni, 3);
	assert_int_equal(nk, 1);

	cvm_measurement_free(a);
	cvm_measurement_free(b);
	cvm_firmware_free(fw);
	unlink(ipath);
	unlink(kpath);
	free(ipath);
	free(kpath);
	free(initrd);
	free(kernel);
}

static void measurement_document_carries_inputs(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 4, "EPYC-v4", 0x21);
	case_direct_boot(&c, "console=ttyS0");
	c.p.snp.has_host_data = true;
	memset(c.p.snp.host_data, 0xab, 32);
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_snp_measure(&c.p, fw, &m, &err), 0);
	assert_string_equal(m->mode, "snp");
	assert_string_equal(m->algorithm, "sha384");
	assert_int_equal(m->digest_len, 48);
	assert_true(m->has_snp_policy);
	assert_int_equal(m->snp_policy, 0x30000);
	assert_true(m->has_host_data);
	assert_int_equal(m->host_data[31], 0xab);
	static const char *const keys[] = {"firmware_sha256", "vmm",           "vcpus",
					   "vcpu_signature",  "guest_features", "kernel_sha256",
					   "initrd_sha256",   "cmdline_sha256"};
	for (size_t k = 0; k < CVM_ARRAY_SIZE(keys); k++) {
		bool found = false;
		for (size_t i = 0; i < m->ninputs; i++)
			found |= strcmp(m->inputs[i].key, keys[k]) == 0;
		if (!found)
			fail_msg("input %s missing", keys[k]);
	}
	for (size_t i = 0; i < m->ninputs; i++) {
		if (strcmp(m->inputs[i].key, "vcpu_signature") == 0)
			assert_string_equal(m->inputs[i].value, "0x00800f12");
		if (strcmp(m->inputs[i].key, "firmware_sha256") == 0)
			assert_string_equal(m->inputs[i].value, "8f765dfabc127fc0a938a0744a3103ec158"
								"64d7d794eb4c398aa976b6d6ab16c");
	}
	cvm_measurement_free(m);
	cvm_firmware_free(fw);
}

/* ---- Debian's OVMF ---------------------------------------------------------------------- */

static void debian_ovmf_code_digests(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_system(DEBIAN_CODE);
	if (!fw) {
		print_message("# SKIP %s is missing (Debian package ovmf)\n", DEBIAN_CODE);
		skip();
	}
	static const struct {
		enum cvm_vmm vmm;
		uint32_t vcpus;
		const char *cpu;
		const char *digest;
	} cases[] = {
		{CVM_VMM_QEMU, 1, "EPYC-v4",
		 "a479327cbb0b50e876024c2dac7412d4e5e95c7315c1f8b0446f6d3be69fefba50766285475926737e4a"
		 "70b155252f88"},
		{CVM_VMM_QEMU, 4, "EPYC-Milan",
		 "cc2b38913550ecd41aadbcf2a5d309ae9d3cb0455c9e1f72892f6b18cfaea3f2e4f46a28b61ca0353724"
		 "ee707c73177c"},
		{CVM_VMM_QEMU, 16, "EPYC-Genoa",
		 "93f99244700888f359c9ca69c2131c97f0e8fbf080b33ce67fa94b4cf96f289332e88fa470b3198ee747"
		 "5159e332c31b"},
		{CVM_VMM_QEMU, 2, "EPYC-Rome",
		 "7e84c3f4e05b369e46b489dba86759332a852e0e9cdd97fa66f126aaa1f4a843616e82d6f77d0a537b25"
		 "db4b9c4ecbad"},
		{CVM_VMM_EC2, 2, NULL,
		 "d678fcd1097a1ac27f2ee75dac7c37a002c9aa5e3e407c6a284b780a99af8f39df3283f1ed05526483cc"
		 "5684f9b28630"},
		{CVM_VMM_GCE, 2, NULL,
		 "4533a3de7876297e19711fc610bff6b9928ca050a81516b3dcbe8f410ce38ba4769b29060d00322cefa1"
		 "9e4abcbab4ed"},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
		struct case_policy c;
		case_init(&c, cases[i].vmm, cases[i].vcpus, cases[i].cpu, 0x1);
		expect_digest(&c.p, fw, CVM_SEV_MODE_SNP, cases[i].digest);
	}
	uint8_t d[48];
	char hex[97];
	struct cvm_error err;
	assert_int_equal(cvm_snp_firmware_digest(fw, d, &err), 0);
	cvm_hex_encode(d, 48, hex);
	assert_string_equal(hex, "a5429c12f18e96502e1dd4917e8b0c35e4f4ebceac5fe8820b41d91d1c509abeb2"
				 "8146fcc453e8be4d3ede27c3fbaad3");
	cvm_firmware_free(fw);
}

static void debian_unified_ovmf_digest(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_system("/usr/share/ovmf/OVMF.fd");
	if (!fw) {
		print_message("# SKIP /usr/share/ovmf/OVMF.fd is missing (Debian package ovmf)\n");
		skip();
	}
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 4, "EPYC-Milan", 0x1);
	expect_digest(&c.p, fw, CVM_SEV_MODE_SNP,
		      "e9c10ab98f8086bf4a4993dcdc1f768b1128bcb02301d1791f1d3274329e790db2d12a301d66d"
		      "99a462a13b5d87e2840");
	cvm_firmware_free(fw);
}

/* ---- matrix ------------------------------------------------------------------------------ */

static void matrix_equals_single_measurements(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC-v4", 0x21);
	case_direct_boot(&c, "");
	const uint32_t counts[] = {4, 1};
	const char *const cpus[] = {"EPYC-v4", "EPYC-Milan"};
	struct cvm_snp_matrix_row *rows = NULL;
	size_t nrows = 0;
	struct cvm_error err;
	assert_int_equal(cvm_snp_measure_matrix(&c.p, fw, counts, 2, cpus, 2, &rows, &nrows, &err), 0);
	assert_int_equal(nrows, 4);
	char hex[97];
	cvm_hex_encode(rows[0].digest, 48, hex);
	assert_int_equal(rows[0].vcpus, 4);
	assert_string_equal(rows[0].cpu, "EPYC-v4");
	assert_int_equal(rows[0].signature, 0x800f12);
	assert_string_equal(hex, "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eaf"
				 "e7b422907be0b4698e2414a631942");
	for (size_t r = 0; r < nrows; r++) {
		struct case_policy one = c;
		one.p.cpus.model = (char *)(uintptr_t)rows[r].cpu;
		one.p.cpus.count = rows[r].vcpus;
		struct cvm_measurement *m = NULL;
		assert_int_equal(cvm_snp_measure(&one.p, fw, &m, &err), 0);
		assert_memory_equal(m->digest, rows[r].digest, 48);
		cvm_measurement_free(m);
	}
	/* The same rows with the page hashes on two threads. */
	struct cvm_snp_matrix_opts o = {0};
	assert_int_equal(cvm_pool_new(2, &o.pool, &err), 0);
	struct cvm_snp_matrix_row *pooled = NULL;
	assert_int_equal(cvm_snp_measure_matrix_ex(&c.p, fw, &o, counts, 2, cpus, 2, &pooled, &nrows,
						   &err), 0);
	assert_int_equal(nrows, 4);
	for (size_t r = 0; r < nrows; r++)
		assert_memory_equal(pooled[r].digest, rows[r].digest, 48);
	free(pooled);
	cvm_pool_free(o.pool);
	free(rows);

	const char *const bad[] = {"EPYC-Milan", "Pentium"};
	assert_int_not_equal(cvm_snp_measure_matrix(&c.p, fw, counts, 2, bad, 2, &rows, &nrows, &err),
			     0);
	assert_non_null(strstr(cvm_error_message(&err), "Pentium"));
	cvm_firmware_free(fw);
}

/* ---- refusals -------------------------------------------------------------------------- */

static void refuses_firmware_without_sev_metadata(void **state)
{
	(void)state;
	static uint8_t blank[8192];
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_firmware_parse(blank, sizeof(blank), &fw, &err), 0);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC", 1);
	expect_failure(&c.p, fw, CVM_SEV_MODE_SNP, "no SEV metadata");
	cvm_firmware_free(fw);

	fw = load_system(DEBIAN_CODE_4M);
	if (!fw) {
		print_message("# SKIP %s is missing\n", DEBIAN_CODE_4M);
		skip();
	}
	expect_failure(&c.p, fw, CVM_SEV_MODE_SNP, "no SEV metadata");
	cvm_firmware_free(fw);
}

static void refuses_firmware_without_reset_block(void **state)
{
	(void)state;
	struct cvm_firmware *orig = load_fixture(AMDSEV);
	uint8_t *copy = malloc(orig->size);
	memcpy(copy, orig->data, orig->size);
	static const uint8_t reset_guid[16] = {0xde, 0x71, 0xf7, 0x00, 0x7e, 0x1a, 0xcb, 0x4f,
					       0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e};
	uint8_t *hit = memmem(copy, orig->size, reset_guid, 16);
	assert_non_null(hit);
	hit[15] ^= 0xff; /* now an unknown GUID: the reset block is gone */
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_firmware_parse(copy, orig->size, &fw, &err), 0);
	assert_false(fw->has_reset_block);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC", 1);
	expect_failure(&c.p, fw, CVM_SEV_MODE_SNP, "SEV-ES reset block");
	expect_failure(&c.p, fw, CVM_SEV_MODE_SEVES, "SEV-ES reset block");
	cvm_firmware_free(fw);
	free(copy);
	cvm_firmware_free(orig);
}

static void refuses_kernel_for_firmware_without_hashes_section(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(OVMFX64);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC-v4", 0x21);
	case_direct_boot(&c, "");
	expect_failure(&c.p, fw, CVM_SEV_MODE_SNP, "AmdSev");
	expect_failure(&c.p, fw, CVM_SEV_MODE_SNP, "SNP_KERNEL_HASHES");
	c.p.cpus.has_signature = true;
	c.p.cpus.signature = 0;
	expect_failure(&c.p, fw, CVM_SEV_MODE_SEVES, "hash-table");
	expect_failure(&c.p, fw, CVM_SEV_MODE_SEV, "AmdSev");
	cvm_firmware_free(fw);

	fw = load_system(DEBIAN_CODE);
	if (!fw) {
		print_message("# SKIP %s is missing\n", DEBIAN_CODE);
		skip();
	}
	expect_failure(&c.p, fw, CVM_SEV_MODE_SNP, "AmdSev");
	cvm_firmware_free(fw);
}

static void refuses_sizes_that_are_not_pages(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct cvm_firmware odd = *fw;
	odd.size = 4095;
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC", 1);
	expect_failure(&c.p, &odd, CVM_SEV_MODE_SNP, "multiple of 4096");
	expect_failure(&c.p, &odd, CVM_SEV_MODE_SEV, "multiple of 4096");
	uint8_t d[48];
	struct cvm_error err;
	assert_int_equal(cvm_snp_firmware_digest(&odd, d, &err), -EINVAL);

	/* A metadata section that is not whole pages. */
	struct cvm_sev_section *secs = malloc(fw->nsev * sizeof(*secs));
	memcpy(secs, fw->sev_sections, fw->nsev * sizeof(*secs));
	secs[0].size = 0x1800;
	struct cvm_firmware bad = *fw;
	bad.sev_sections = secs;
	expect_failure(&c.p, &bad, CVM_SEV_MODE_SNP, "not whole 4 KiB pages");
	free(secs);
	cvm_firmware_free(fw);
}

static void refuses_unknown_cpu_model_listing_known_ones(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC-Mars", 1);
	expect_failure(&c.p, fw, CVM_SEV_MODE_SNP, "unknown CPU model 'EPYC-Mars'");
	expect_failure(&c.p, fw, CVM_SEV_MODE_SNP, "EPYC-Genoa-v1");
	case_init(&c, CVM_VMM_QEMU, 1, NULL, 1);
	expect_failure(&c.p, fw, CVM_SEV_MODE_SNP, "cpus.model");
	cvm_firmware_free(fw);
}

static void refuses_initrd_or_cmdline_without_kernel(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(OVMFX64);
	struct case_policy c;
	static char devnull[] = "/dev/null";
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC", 1);
	c.p.boot.initrd = devnull;
	expect_failure(&c.p, fw, CVM_SEV_MODE_SNP, "initrd given without a kernel");
	c.p.boot.initrd = NULL;
	c.p.boot.cmdline = c.cmdline;
	expect_failure(&c.p, fw, CVM_SEV_MODE_SNP, "cmdline given without a kernel");
	expect_failure(&c.p, fw, CVM_SEV_MODE_SEV, "cmdline given without a kernel");
	cvm_firmware_free(fw);
}

static void refuses_pinned_firmware_mismatch(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC", 1);
	c.p.firmware.has_sha256 = true;
	expect_failure(&c.p, fw, CVM_SEV_MODE_SNP, "firmware.sha256");
	cvm_firmware_free(fw);
}

static void refuses_non_snp_tee_and_bad_vcpu_counts(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC", 1);
	c.p.tee = CVM_TEE_TDX;
	expect_failure(&c.p, fw, CVM_SEV_MODE_SNP, "not 'snp'");
	case_init(&c, CVM_VMM_QEMU, 0, "EPYC", 1);
	expect_failure(&c.p, fw, CVM_SEV_MODE_SNP, "cpus.count");
	/* KVM's limit, the policy's: 4096 vCPUs measure, 4097 do not, in a matrix neither */
	case_init(&c, CVM_VMM_QEMU, CVM_MAX_VCPUS + 1, "EPYC", 1);
	expect_failure(&c.p, fw, CVM_SEV_MODE_SNP, "cpus.count: 4097 is not in 1..4096");
	const uint32_t counts[] = {768, CVM_MAX_VCPUS + 1};
	const char *const cpus[] = {"EPYC"};
	struct cvm_snp_matrix_row *rows = NULL;
	size_t nrows = 0;
	struct cvm_error err;
	assert_int_equal(cvm_snp_measure_matrix(&c.p, fw, counts, 2, cpus, 1, &rows, &nrows, &err),
			 -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "4097 is not in 1..4096"));
	assert_int_equal(cvm_snp_measure_matrix(&c.p, fw, counts, 1, cpus, 1, &rows, &nrows, &err),
			 0);
	assert_int_equal(rows[0].vcpus, 768);
	free(rows);
	cvm_firmware_free(fw);
}

/* What QEMU refuses is refused: an AP reset address of 0 (any vCPU count), a hashes area
   smaller than the hashes table. */
static void refuses_what_qemu_refuses_in_the_sev_firmware(void **state)
{
	(void)state;
	struct cvm_firmware *fw = load_fixture(AMDSEV);
	struct cvm_firmware zero = *fw;
	zero.ap_reset_eip = 0;
	struct case_policy c;
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC", 1);
	expect_failure(&c.p, &zero, CVM_SEV_MODE_SNP, "SEV-ES reset address is zero");
	expect_failure(&c.p, &zero, CVM_SEV_MODE_SEVES, "SEV-ES reset address is zero");
	c.p.cpus.count = 2;
	expect_failure(&c.p, &zero, CVM_SEV_MODE_SNP, "AP reset address 0");

	struct cvm_firmware small = *fw;
	assert_true(small.has_hash_table && small.hash_table_size >= CVM_SNP_HASHES_TABLE_SIZE);
	small.hash_table_size = CVM_SNP_HASHES_TABLE_SIZE - 8; /* the table without its padding */
	case_init(&c, CVM_VMM_QEMU, 1, "EPYC-v4", 0x21);
	case_direct_boot(&c, "");
	expect_failure(&c.p, &small, CVM_SEV_MODE_SNP, "hashes table area is invalid");
	expect_failure(&c.p, &small, CVM_SEV_MODE_SEV, "hashes table area is invalid");
	small.hash_table_size = CVM_SNP_HASHES_TABLE_SIZE;
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_snp_measure(&c.p, &small, &m, &err), 0);
	cvm_measurement_free(m);
	cvm_firmware_free(fw);
}

static void model_rejects_ops_without_page_type(void **state)
{
	(void)state;
	struct cvm_plan plan;
	cvm_plan_init(&plan, CVM_TEE_SNP);
	struct cvm_plan_op op = {.kind = CVM_OP_LOAD, .label = "x", .gpa = 0, .size = 4096};
	struct cvm_error err;
	assert_int_equal(cvm_plan_add(&plan, &op, &err), 0);
	struct cvm_snp_model *model = cvm_snp_model_new();
	struct cvm_backend b = {cvm_snp_model_ops(), model};
	assert_int_equal(cvm_plan_execute(&plan, &b, 1, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "page type"));
	cvm_snp_model_free(model);
	cvm_snp_model_free(NULL);
	cvm_plan_release(&plan);
}

static void sev_modes_parse(void **state)
{
	(void)state;
	enum cvm_sev_mode m;
	assert_int_equal(cvm_sev_mode_parse("seves", &m), 0);
	assert_int_equal(m, CVM_SEV_MODE_SEVES);
	assert_int_equal(cvm_sev_mode_parse("sev", &m), 0);
	assert_int_equal(m, CVM_SEV_MODE_SEV);
	assert_int_equal(cvm_sev_mode_parse("snp", &m), 0);
	assert_int_equal(m, CVM_SEV_MODE_SNP);
	assert_int_equal(cvm_sev_mode_parse("snp:svsm", &m), -EINVAL);
	assert_string_equal(cvm_sev_mode_name(CVM_SEV_MODE_SEVES), "seves");
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
		assert_true(plan_input_decode(f.data, f.size, CVM_TEE_SNP, &in));
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

static void snp_seed_plans(const struct plan_input *in, const char *file)
{
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_firmware_parse(in->image, in->image_size, &fw, &err), 0);
	struct cvm_snp_boot_hashes h;
	static const uint8_t kernel[] = "MZ tiny kernel";
	assert_int_equal(cvm_snp_boot_hashes_from_bytes(kernel, sizeof(kernel), NULL, 0,
							"console=ttyS0", &h, &err), 0);
	struct cvm_plan plan;
	if (cvm_snp_plan_build_hashed(&in->policy, fw, in->policy.boot.cmdline ? &h : NULL, &plan,
				      &err))
		fail_msg("%s: %s", file, cvm_error_message(&err));
	cvm_plan_release(&plan);
	cvm_firmware_free(fw);
}

static void fuzz_snp_plan_seeds_reach_the_planner(void **state)
{
	(void)state;
	for_each_seed("snp_plan", snp_seed_plans);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cpu_signature_encodes_extended_family),
		cmocka_unit_test(cpu_models_map_to_spec_signatures),
		cmocka_unit_test(qemu_bsp_vmsa_matches_spec_hash),
		cmocka_unit_test(qemu_ap_vmsa_starts_at_reset_block),
		cmocka_unit_test(cloud_vmm_reset_states_differ_as_specified),
		cmocka_unit_test(page_info_matches_worked_example),
		cmocka_unit_test(hashes_table_matches_vector),
		cmocka_unit_test(boot_hashes_from_files_equal_bytes),
		cmocka_unit_test(plan_orders_firmware_sections_and_vmsas),
		cmocka_unit_test(plan_ec2_measures_cpuid_last_and_gce_sec_mem_unmeasured),
		cmocka_unit_test(model_reproduces_intermediate_trace),
		cmocka_unit_test(model_seeded_skips_firmware_ops),
		cmocka_unit_test(plan_compare_names_the_first_difference),
		cmocka_unit_test(model_takes_a_firmware_digest_only_for_its_bytes),
		cmocka_unit_test(firmware_digest_is_ovmf_hash),
		cmocka_unit_test(pooled_page_hashes_give_the_same_chain),
		cmocka_unit_test(sev_snp_measure_vectors_match),
		cmocka_unit_test(sev_kernel_without_initrd_and_append),
		cmocka_unit_test(seves_needs_no_sev_features),
		cmocka_unit_test(vcpu_signature_alternatives_agree),
		cmocka_unit_test(measurement_document_carries_inputs),
		cmocka_unit_test(chunked_file_hashing_matches_one_shot_and_reports_progress),
		cmocka_unit_test(initrd_truncated_while_hashed_is_an_error),
		cmocka_unit_test(debian_ovmf_code_digests),
		cmocka_unit_test(debian_unified_ovmf_digest),
		cmocka_unit_test(matrix_equals_single_measurements),
		cmocka_unit_test(refuses_firmware_without_sev_metadata),
		cmocka_unit_test(refuses_firmware_without_reset_block),
		cmocka_unit_test(refuses_kernel_for_firmware_without_hashes_section),
		cmocka_unit_test(refuses_sizes_that_are_not_pages),
		cmocka_unit_test(refuses_unknown_cpu_model_listing_known_ones),
		cmocka_unit_test(refuses_initrd_or_cmdline_without_kernel),
		cmocka_unit_test(refuses_pinned_firmware_mismatch),
		cmocka_unit_test(refuses_non_snp_tee_and_bad_vcpu_counts),
		cmocka_unit_test(refuses_what_qemu_refuses_in_the_sev_firmware),
		cmocka_unit_test(model_rejects_ops_without_page_type),
		cmocka_unit_test(sev_modes_parse),
		cmocka_unit_test(fuzz_snp_plan_seeds_reach_the_planner),
	};
	return cmocka_run_group_tests_name("snp", tests, NULL, NULL);
}
