/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: the firmware reader (measure/firmware*.c) on Debian's OVMF images, the shared SNP
 * and TDX fixtures (expected tables from vectors/{snp,tdx}/VECTORS.md), and corrupted copies.
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

#include <cvmkit/error.h>
#include <cvmkit/firmware.h>
#include <cvmkit/policy.h>
#include <cvmkit/pool.h>
#include <cvmkit/util.h>

#define DEBIAN_OVMF "/usr/share/ovmf/OVMF.fd"
#define DEBIAN_CODE "/usr/share/OVMF/OVMF_CODE.fd"
#define DEBIAN_CODE_4M "/usr/share/OVMF/OVMF_CODE_4M.fd"

/* ---- helpers ----------------------------------------------------------------------------- */

static const char *shared_dir(void)
{
	const char *d = getenv("CVMKIT_SHARED");
	return d && *d ? d : CVMKIT_SHARED_DIR;
}

/* A private, writable copy of a file (so tests can corrupt it); NULL if it is missing. */
static uint8_t *read_copy(const char *path, size_t *size)
{
	struct cvm_file f;
	if (cvm_file_open(path, &f, NULL) != 0)
		return NULL;
	uint8_t *copy = malloc(f.size ? f.size : 1);
	assert_non_null(copy);
	memcpy(copy, f.data, f.size);
	*size = f.size;
	cvm_file_close(&f);
	return copy;
}

static uint8_t *read_vector(const char *rel, size_t *size)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/vectors/%s", shared_dir(), rel);
	return read_copy(path, size);
}

#define REQUIRE(ptr, what)                                                                     \
	do {                                                                                   \
		if (!(ptr)) {                                                                  \
			print_message("# SKIP %s not found\n", what);                          \
			skip();                                                                \
		}                                                                              \
	} while (0)

static struct cvm_firmware *parse_ok(const uint8_t *data, size_t size)
{
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_firmware_parse(data, size, &fw, &err);
	if (rc)
		print_message("parse failed: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_non_null(fw);
	return fw;
}

static void parse_fails_with(const uint8_t *data, size_t size, const char *needle)
{
	struct cvm_firmware *fw = (struct cvm_firmware *)0x1;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_firmware_parse(data, size, &fw, &err), -EINVAL);
	assert_ptr_equal(fw, (struct cvm_firmware *)0x1); /* untouched on failure */
	if (!strstr(err.msg, needle))
		print_message("message: %s\nexpected to contain: %s\n", err.msg, needle);
	assert_non_null(strstr(err.msg, needle));
}

static void assert_reason(const char *reason, const char *needle)
{
	if (!strstr(reason, needle))
		print_message("reason: %s\nexpected to contain: %s\n", reason, needle);
	assert_non_null(strstr(reason, needle));
}

struct sev_row {
	uint32_t gpa, size, type;
};

static void assert_sev_table(const struct cvm_firmware *fw, const struct sev_row *rows, size_t n)
{
	assert_int_equal(fw->sev_status, CVM_FW_OK);
	assert_int_equal(fw->nsev, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(fw->sev_sections[i].gpa, rows[i].gpa);
		assert_int_equal(fw->sev_sections[i].size, rows[i].size);
		assert_int_equal(fw->sev_sections[i].type, rows[i].type);
	}
}

struct tdx_row {
	uint32_t type, data_offset, raw_size;
	uint64_t gpa, mem_size;
	uint32_t attributes;
};

static void assert_tdx_table(const struct cvm_firmware *fw, const struct tdx_row *rows, size_t n)
{
	assert_int_equal(fw->ntdx, n);
	for (size_t i = 0; i < n; i++) {
		const struct cvm_tdvf_section *s = &fw->tdx_sections[i];
		assert_int_equal(s->type, rows[i].type);
		assert_int_equal(s->data_offset, rows[i].data_offset);
		assert_int_equal(s->raw_size, rows[i].raw_size);
		assert_int_equal(s->gpa, rows[i].gpa);
		assert_int_equal(s->mem_size, rows[i].mem_size);
		assert_int_equal(s->attributes, rows[i].attributes);
	}
}

/* File offset of a table entry's 18-byte header (u16 length, GUID). */
static size_t entry_header(const struct cvm_firmware *fw, const struct cvm_guid *g)
{
	const struct cvm_fw_table_entry *e = cvm_firmware_find(fw, g);
	assert_non_null(e);
	return (size_t)e->offset + e->len;
}

/* File offset of the ASEV header / TDVF descriptor of a clean copy. */
static size_t sev_header(const uint8_t *data, size_t size)
{
	struct cvm_firmware *fw = parse_ok(data, size);
	size_t at = size - fw->sev_metadata_offset;
	cvm_firmware_free(fw);
	return at;
}

static size_t tdvf_header(const uint8_t *data, size_t size)
{
	struct cvm_firmware *fw = parse_ok(data, size);
	size_t at = size - fw->tdx_metadata_offset;
	cvm_firmware_free(fw);
	return at;
}

/* Parse a corrupted copy: the image as a whole parses, the SEV side is invalid for `needle`. */
static void sev_invalid_with(const uint8_t *data, size_t size, const char *needle)
{
	struct cvm_firmware *fw = parse_ok(data, size);
	assert_int_equal(fw->sev_status, CVM_FW_INVALID);
	assert_reason(fw->sev_reason, needle);
	cvm_firmware_free(fw);
}

static void tdx_invalid_with(const uint8_t *data, size_t size, const char *needle)
{
	struct cvm_firmware *fw = parse_ok(data, size);
	assert_int_equal(fw->tdx_status, CVM_FW_INVALID);
	assert_reason(fw->tdx_reason, needle);
	cvm_firmware_free(fw);
}

static const struct sev_row amdsev_rows[] = {
	{0x800000, 0x9000, CVM_SEV_SEC_MEM},  {0x80a000, 0x3000, CVM_SEV_SEC_MEM},
	{0x80d000, 0x1000, CVM_SEV_SECRETS},  {0x80e000, 0x1000, CVM_SEV_CPUID},
	{0x80f000, 0x1000, CVM_SEV_SVSM_CAA}, {0x810000, 0x1000, CVM_SEV_KERNEL_HASHES},
	{0x811000, 0xf000, CVM_SEV_SEC_MEM},
};

static const struct sev_row debian_sev_rows[] = {
	{0x800000, 0x9000, CVM_SEV_SEC_MEM}, {0x80a000, 0x3000, CVM_SEV_SEC_MEM},
	{0x80d000, 0x1000, CVM_SEV_SECRETS}, {0x80e000, 0x1000, CVM_SEV_CPUID},
	{0x80f000, 0x11000, CVM_SEV_SEC_MEM},
};

static const struct tdx_row debian_tdx_rows[] = {
	{CVM_TDVF_BFV, 0x20000, 0x1e0000, 0xffe20000, 0x1e0000, CVM_TDVF_ATTR_MR_EXTEND},
	{CVM_TDVF_CFV, 0x0, 0x20000, 0xffe00000, 0x20000, 0},
	{CVM_TDVF_TEMP_MEM, 0, 0, 0x810000, 0x10000, 0},
	{CVM_TDVF_TEMP_MEM, 0, 0, 0x80b000, 0x2000, 0},
	{CVM_TDVF_TD_HOB, 0, 0, 0x809000, 0x2000, 0},
	{CVM_TDVF_TEMP_MEM, 0, 0, 0x800000, 0x6000, 0},
};

static const struct tdx_row synth_rows[] = {
	{CVM_TDVF_BFV, 0x8000, 0x8000, 0xffff8000, 0x8000, CVM_TDVF_ATTR_MR_EXTEND},
	{CVM_TDVF_CFV, 0x0, 0x2000, 0xffff0000, 0x2000, 0},
	{CVM_TDVF_TD_HOB, 0, 0, 0x809000, 0x2000, 0},
	{CVM_TDVF_TEMP_MEM, 0, 0, 0x800000, 0x6000, 0},
	{CVM_TDVF_TEMP_MEM, 0, 0, 0x80b000, 0x2000, CVM_TDVF_ATTR_PAGE_AUG}, /* pageaug only */
};

/* ---- GUIDs and names --------------------------------------------------------------------- */

static void guid_format_uses_mixed_endian(void **state)
{
	(void)state;
	char s[37];
	cvm_guid_format(&CVM_GUID_OVMF_TABLE_FOOTER, s);
	assert_string_equal(s, "96b582de-1fb2-45f7-baea-a366c55a082d");
	cvm_guid_format(&CVM_GUID_SEV_ES_RESET_BLOCK, s);
	assert_string_equal(s, "00f771de-1a7e-4fcb-890e-68c77e2fb44e");
	cvm_guid_format(&CVM_GUID_SEV_HASH_TABLE, s);
	assert_string_equal(s, "7255371f-3a3b-4b04-927b-1da6efa8d454");
	cvm_guid_format(&CVM_GUID_SEV_SECRET_BLOCK, s);
	assert_string_equal(s, "4c2eb361-7d9b-4cc3-8081-127c90d3d294");
	cvm_guid_format(&CVM_GUID_SEV_METADATA, s);
	assert_string_equal(s, "dc886566-984a-4798-a75e-5585a7bf67cc");
	cvm_guid_format(&CVM_GUID_TDX_METADATA, s);
	assert_string_equal(s, "e47a6535-984a-4798-865e-4685a7bf8ec2");
	cvm_guid_format(&CVM_GUID_SVSM_INFO, s);
	assert_string_equal(s, "a789a612-0597-4c4b-a49f-cbb1fe9d1ddd");
}

static void guid_and_type_names(void **state)
{
	(void)state;
	struct cvm_guid other = {{0}};
	assert_string_equal(cvm_guid_name(&CVM_GUID_SEV_ES_RESET_BLOCK), "SEV-ES reset block");
	assert_string_equal(cvm_guid_name(&CVM_GUID_TDX_METADATA), "TDX metadata");
	assert_null(cvm_guid_name(&other));
	assert_string_equal(cvm_sev_section_type_name(CVM_SEV_SEC_MEM), "SNP_SEC_MEM");
	assert_string_equal(cvm_sev_section_type_name(CVM_SEV_KERNEL_HASHES), "SNP_KERNEL_HASHES");
	assert_string_equal(cvm_sev_section_type_name(99), "UNKNOWN");
	assert_string_equal(cvm_tdvf_section_type_name(CVM_TDVF_BFV), "BFV");
	assert_string_equal(cvm_tdvf_section_type_name(CVM_TDVF_TEMP_MEM), "TempMem");
	assert_string_equal(cvm_tdvf_section_type_name(9), "UNKNOWN");
}

/* ---- SNP fixtures ------------------------------------------------------------------------ */

static void amdsev_fixture_has_vector_layout(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *d = read_vector("snp/ovmf_AmdSev_suffix.bin", &size);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	struct cvm_firmware *fw = parse_ok(d, size);
	assert_int_equal(fw->size, 0x1000);
	assert_int_equal(fw->load_gpa, 0xfffff000ull);
	assert_int_equal(fw->ntable, 5);
	assert_true(fw->has_reset_block);
	assert_int_equal(fw->ap_reset_eip, 0x80b004);
	assert_true(fw->has_secret_block);
	assert_int_equal(fw->secret_base, 0x810000);
	assert_int_equal(fw->secret_size, 0xc00);
	assert_true(fw->has_hash_table);
	assert_int_equal(fw->hash_table_gpa, 0x810c00);
	assert_int_equal(fw->hash_table_size, 0x400);
	assert_int_equal(fw->sev_metadata_offset, 0x554);
	assert_int_equal(fw->tdx_metadata_offset, 0x9d0);
	assert_sev_table(fw, amdsev_rows, CVM_ARRAY_SIZE(amdsev_rows));
	assert_string_equal(fw->sev_warnings, "");
	/* Only the last 4 KiB of a 4 MiB image: the TDVF raw data is not there. */
	assert_int_equal(fw->tdx_status, CVM_FW_INVALID);
	assert_reason(fw->tdx_reason, "raw data 0x84000+0x37c000 beyond the end of the image");
	assert_reason(fw->tdx_reason, "truncated");
	/* Table order is walk order: the entry nearest the footer first. */
	assert_memory_equal(fw->table[0].guid.b, CVM_GUID_SEV_ES_RESET_BLOCK.b, 16);
	assert_int_equal(fw->table[0].offset, 0xfb8);
	assert_int_equal(fw->table[0].len, 4);
	assert_ptr_equal(cvm_firmware_find(fw, &CVM_GUID_SEV_METADATA), &fw->table[3]);
	assert_null(cvm_firmware_find(fw, &CVM_GUID_SVSM_INFO));
	cvm_firmware_free(fw);
	free(d);
}

static void ovmfx64_fixture_has_vector_layout(void **state)
{
	(void)state;
	static const struct sev_row rows[] = {
		{0x800000, 0x9000, CVM_SEV_SEC_MEM},  {0x80a000, 0x3000, CVM_SEV_SEC_MEM},
		{0x80d000, 0x1000, CVM_SEV_SECRETS},  {0x80e000, 0x1000, CVM_SEV_CPUID},
		{0x80f000, 0x1000, CVM_SEV_SVSM_CAA}, {0x810000, 0x10000, CVM_SEV_SEC_MEM},
	};
	size_t size = 0;
	uint8_t *d = read_vector("snp/ovmf_OvmfX64_suffix.bin", &size);
	REQUIRE(d, "vectors/snp/ovmf_OvmfX64_suffix.bin");
	struct cvm_firmware *fw = parse_ok(d, size);
	assert_int_equal(fw->ap_reset_eip, 0x80b004);
	assert_true(fw->has_hash_table);
	assert_int_equal(fw->hash_table_gpa, 0);
	assert_int_equal(fw->hash_table_size, 0);
	assert_int_equal(fw->secret_base, 0);
	assert_sev_table(fw, rows, CVM_ARRAY_SIZE(rows));
	cvm_firmware_free(fw);
	free(d);
}

/* ---- TDX fixtures ------------------------------------------------------------------------ */

static void synth_tdvf_has_vector_layout(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *d = read_vector("tdx/synth_tdvf.bin", &size);
	REQUIRE(d, "vectors/tdx/synth_tdvf.bin");
	struct cvm_firmware *fw = parse_ok(d, size);
	assert_int_equal(fw->load_gpa, 0xffff0000ull);
	assert_int_equal(fw->tdx_status, CVM_FW_OK);
	assert_string_equal(fw->tdx_reason, "");
	assert_string_equal(fw->tdx_warnings, "");
	assert_tdx_table(fw, synth_rows, 4);
	assert_int_equal(fw->sev_status, CVM_FW_ABSENT);
	assert_reason(fw->sev_reason, "no SEV metadata entry");
	assert_false(fw->has_reset_block);
	cvm_firmware_free(fw);
	free(d);
}

/* A BFV whose memory size is huge is not a valid TDVF (inspect said ok, measure looped). */
static void tdvf_bfv_memory_size_past_the_image_is_invalid(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *d = read_vector("tdx/synth_tdvf.bin", &size);
	REQUIRE(d, "vectors/tdx/synth_tdvf.bin");
	uint8_t *bfv = d + 0xf000 + 16; /* the descriptor's first section: BFV */
	assert_int_equal(cvm_le32(bfv + 24), CVM_TDVF_BFV);
	cvm_put_le64(bfv + 16, 0xfffffff0000ull); /* memory size */
	struct cvm_firmware *fw = parse_ok(d, size);
	assert_int_equal(fw->tdx_status, CVM_FW_INVALID);
	assert_reason(fw->tdx_reason, "TDX section 0 (BFV): memory size 0xfffffff0000 exceeds raw "
				      "size 0x8000 and runs past the end of the image");
	cvm_firmware_free(fw);
	/* one more page of memory than raw data, and the image has those bytes: valid */
	cvm_put_le64(bfv + 16, 0x8000);
	cvm_put_le32(bfv, 0x7000);
	cvm_put_le64(bfv + 8, 0xffff7000ull);
	cvm_put_le64(bfv + 16, 0x9000);
	fw = parse_ok(d, size);
	assert_int_equal(fw->tdx_status, CVM_FW_OK);
	cvm_firmware_free(fw);
	free(d);
}

static void synth_tdvf_pageaug_has_vector_layout(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *d = read_vector("tdx/synth_tdvf_pageaug.bin", &size);
	REQUIRE(d, "vectors/tdx/synth_tdvf_pageaug.bin");
	struct cvm_firmware *fw = parse_ok(d, size);
	assert_int_equal(fw->tdx_status, CVM_FW_OK);
	assert_tdx_table(fw, synth_rows, 5);
	cvm_firmware_free(fw);
	free(d);
}

/* ---- Debian firmware --------------------------------------------------------------------- */

static void debian_ovmf_fd_has_both_tables(void **state)
{
	(void)state;
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	if (access(DEBIAN_OVMF, R_OK) != 0) {
		print_message("# SKIP %s missing (package ovmf)\n", DEBIAN_OVMF);
		skip();
	}
	assert_int_equal(cvm_firmware_load(DEBIAN_OVMF, &fw, &err), 0);
	assert_string_equal(fw->path, DEBIAN_OVMF);
	assert_int_equal(fw->size, 2097152);
	assert_int_equal(fw->load_gpa, 0xffe00000ull);
	assert_int_equal(fw->ntable, 5);
	assert_int_equal(fw->ap_reset_eip, 0x80b004);
	assert_int_equal(fw->hash_table_gpa, 0);
	assert_sev_table(fw, debian_sev_rows, CVM_ARRAY_SIZE(debian_sev_rows));
	assert_int_equal(fw->tdx_status, CVM_FW_OK);
	assert_int_equal(fw->tdx_metadata_offset, 0x840);
	assert_int_equal(fw->size - fw->tdx_metadata_offset, 0x1ff7c0);
	assert_tdx_table(fw, debian_tdx_rows, CVM_ARRAY_SIZE(debian_tdx_rows));
	cvm_firmware_free(fw);
}

static void debian_ovmf_code_is_split_for_tdx(void **state)
{
	(void)state;
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	if (access(DEBIAN_CODE, R_OK) != 0) {
		print_message("# SKIP %s missing (package ovmf)\n", DEBIAN_CODE);
		skip();
	}
	assert_int_equal(cvm_firmware_load(DEBIAN_CODE, &fw, &err), 0);
	assert_int_equal(fw->size, 0x1e0000);
	assert_int_equal(fw->load_gpa, 0xffe20000ull);
	assert_sev_table(fw, debian_sev_rows, CVM_ARRAY_SIZE(debian_sev_rows));
	assert_int_equal(fw->tdx_status, CVM_FW_INVALID);
	assert_reason(fw->tdx_reason, "TDX section 0 (BFV): raw data 0x20000+0x1e0000 beyond the end "
				      "of the image");
	assert_reason(fw->tdx_reason,
		      "this looks like a split OVMF_CODE.fd; use the unified OVMF.fd");
	/* The table is still there for display. */
	assert_tdx_table(fw, debian_tdx_rows, CVM_ARRAY_SIZE(debian_tdx_rows));
	cvm_firmware_free(fw);
}

static void debian_ovmf_code_4m_has_no_metadata(void **state)
{
	(void)state;
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	if (access(DEBIAN_CODE_4M, R_OK) != 0) {
		print_message("# SKIP %s missing (package ovmf)\n", DEBIAN_CODE_4M);
		skip();
	}
	assert_int_equal(cvm_firmware_load(DEBIAN_CODE_4M, &fw, &err), 0);
	assert_int_equal(fw->size, 0x37c000);
	assert_int_equal(fw->ntable, 3);
	assert_true(fw->has_reset_block);
	assert_int_equal(fw->ap_reset_eip, 0x808004);
	assert_int_equal(fw->sev_status, CVM_FW_ABSENT);
	assert_reason(fw->sev_reason, "no SEV metadata entry");
	assert_int_equal(fw->tdx_status, CVM_FW_ABSENT);
	assert_reason(fw->tdx_reason, "no TDX metadata entry");
	assert_reason(fw->tdx_reason, "cannot launch a TDX guest");
	assert_int_equal(fw->nsev, 0);
	assert_int_equal(fw->ntdx, 0);
	cvm_firmware_free(fw);
}

/* ---- whole-image errors ------------------------------------------------------------------ */

static void load_missing_file_fails(void **state)
{
	(void)state;
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_firmware_load("/nonexistent/OVMF.fd", &fw, &err), -ENOENT);
	assert_null(fw);
	assert_reason(err.msg, "/nonexistent/OVMF.fd");
}

/*
 * The image is read once into memory the firmware owns: truncating or rewriting the file after
 * cvm_firmware_load changes nothing (a live mapping would raise SIGBUS or show the new bytes).
 */
static void loaded_firmware_survives_its_file_changing(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *img = read_copy(DEBIAN_OVMF, &size);
	REQUIRE(img, DEBIAN_OVMF);
	char path[] = "/tmp/cvmkit-test-fw-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, size), (ssize_t)size);
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_firmware_load(path, &fw, &err), 0);
	uint8_t before[32], after[32];
	assert_int_equal(cvm_sha256(img, size, before, &err), 0);
	uint8_t junk[4096];
	memset(junk, 0xcc, sizeof(junk));
	assert_int_equal(pwrite(fd, junk, sizeof(junk), (off_t)size - sizeof(junk)),
			 (ssize_t)sizeof(junk));
	assert_int_equal(ftruncate(fd, 4096), 0);
	close(fd);
	assert_int_equal(fw->size, size);
	assert_int_equal(cvm_sha256(fw->data, fw->size, after, &err), 0);
	assert_memory_equal(after, before, 32);
	uint8_t pinned[32];
	assert_int_equal(cvm_firmware_sha256(fw, pinned, &err), 0);
	assert_memory_equal(pinned, before, 32);
	cvm_firmware_free(fw);
	unlink(path);
	free(img);
}

struct sha_reader {
	const struct cvm_firmware *fw;
	uint8_t sha[32];
	int rc;
};

static void *read_sha256(void *arg)
{
	struct sha_reader *r = arg;
	r->rc = cvm_firmware_sha256(r->fw, r->sha, NULL);
	return NULL;
}

/*
 * cvm_firmware_load_on: the SHA-256 taken on the pool is that of cvm_firmware_load, read by two
 * threads at once, checked against a pin, and a firmware freed before anyone asked for it
 * waits for its hash (the sanitizer build would see a worker reading freed bytes).
 */
static void load_on_a_pool_takes_the_same_sha256(void **state)
{
	(void)state;
	REQUIRE(access(DEBIAN_OVMF, R_OK) == 0, DEBIAN_OVMF);
	struct cvm_error err;
	struct cvm_firmware *fw = NULL;
	assert_int_equal(cvm_firmware_load(DEBIAN_OVMF, &fw, &err), 0);
	uint8_t want[32];
	assert_int_equal(cvm_firmware_sha256(fw, want, &err), 0);
	cvm_firmware_free(fw);
	for (unsigned threads = 1; threads <= 3; threads++) {
		struct cvm_pool *pool;
		assert_int_equal(cvm_pool_new(threads, &pool, &err), 0);
		assert_int_equal(cvm_firmware_load_on(DEBIAN_OVMF, pool, &fw, &err), 0);
		struct sha_reader r[2] = {{.fw = fw}, {.fw = fw}};
		pthread_t t;
		assert_int_equal(pthread_create(&t, NULL, read_sha256, &r[0]), 0);
		read_sha256(&r[1]);
		assert_int_equal(pthread_join(t, NULL), 0);
		for (size_t i = 0; i < 2; i++) {
			assert_int_equal(r[i].rc, 0);
			assert_memory_equal(r[i].sha, want, 32);
		}
		struct cvm_policy policy;
		memset(&policy, 0, sizeof(policy));
		policy.firmware.has_sha256 = true;
		memcpy(policy.firmware.sha256, want, 32);
		assert_int_equal(cvm_firmware_pin_check(&policy, fw, &err), 0);
		policy.firmware.sha256[0] ^= 1;
		assert_int_equal(cvm_firmware_pin_check(&policy, fw, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "firmware.sha256"));
		cvm_firmware_free(fw);

		assert_int_equal(cvm_firmware_load_on(DEBIAN_OVMF, pool, &fw, &err), 0);
		cvm_firmware_free(fw); /* its SHA-256 never asked for */
		cvm_pool_free(pool);
	}
}

static void image_size_must_be_page_multiple(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *d = read_vector("snp/ovmf_AmdSev_suffix.bin", &size);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	parse_fails_with(d + 1, size - 1, "image size 4095 (0xfff) is not a multiple of 4096");
	parse_fails_with(d, 0, "empty image");
	free(d);
}

static void image_without_footer_has_empty_table(void **state)
{
	(void)state;
	uint8_t *d = calloc(1, 8192);
	assert_non_null(d);
	struct cvm_firmware *fw = parse_ok(d, 8192);
	assert_int_equal(fw->ntable, 0);
	assert_int_equal(fw->sev_status, CVM_FW_ABSENT);
	assert_int_equal(fw->tdx_status, CVM_FW_ABSENT);
	assert_reason(fw->sev_reason, "no OVMF GUID table");
	assert_reason(fw->tdx_reason, "no OVMF GUID table");
	assert_false(fw->has_reset_block);
	cvm_firmware_free(fw);
	free(d);
}

static void truncated_ovmf_has_no_table(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *d = read_copy(DEBIAN_OVMF, &size);
	REQUIRE(d, DEBIAN_OVMF);
	/* The first half: no footer at its end. */
	struct cvm_firmware *fw = parse_ok(d, size / 2);
	assert_int_equal(fw->ntable, 0);
	assert_int_equal(fw->tdx_status, CVM_FW_ABSENT);
	cvm_firmware_free(fw);
	/* The last 64 KiB: table intact, TDVF raw data gone. */
	fw = parse_ok(d + size - 0x10000, 0x10000);
	assert_int_equal(fw->sev_status, CVM_FW_OK);
	assert_int_equal(fw->tdx_status, CVM_FW_INVALID);
	assert_reason(fw->tdx_reason, "beyond the end of the image");
	cvm_firmware_free(fw);
	free(d);
}

/* ---- footer table corruption ------------------------------------------------------------- */

#define FOOTER(size) ((size) - 0x20 - 18)

static void footer_length_below_18_is_rejected(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *d = read_vector("snp/ovmf_AmdSev_suffix.bin", &size);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	cvm_put_le16(d + FOOTER(size), 10);
	parse_fails_with(d, size, "footer length 10 is smaller than its own 18 bytes");
	free(d);
}

static void footer_length_past_image_is_rejected(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *d = read_vector("snp/ovmf_AmdSev_suffix.bin", &size);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	cvm_put_le16(d + FOOTER(size), 0xffff);
	parse_fails_with(d, size, "length 0xffff runs past the start of the image");
	free(d);
}

static void footer_length_with_stray_bytes_is_rejected(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *d = read_vector("snp/ovmf_AmdSev_suffix.bin", &size);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	cvm_put_le16(d + FOOTER(size), 0x88 + 5);
	parse_fails_with(d, size, "5 stray bytes at the start of the table");
	free(d);
}

static void entry_length_below_18_is_rejected(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *d = read_vector("snp/ovmf_AmdSev_suffix.bin", &size);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	struct cvm_firmware *fw = parse_ok(d, size);
	size_t at = entry_header(fw, &CVM_GUID_SEV_SECRET_BLOCK);
	cvm_firmware_free(fw);
	cvm_put_le16(d + at, 17);
	parse_fails_with(d, size,
			 "entry 4c2eb361-7d9b-4cc3-8081-127c90d3d294 at offset 0xfa6: length 17 is "
			 "smaller than its 18-byte header");
	free(d);
}

static void entry_past_table_start_is_rejected(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *d = read_vector("snp/ovmf_AmdSev_suffix.bin", &size);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	struct cvm_firmware *fw = parse_ok(d, size);
	size_t at = entry_header(fw, &CVM_GUID_TDX_METADATA);
	cvm_firmware_free(fw);
	cvm_put_le16(d + at, 0x40);
	parse_fails_with(d, size, "length 64 runs past the start of the table (0x16 bytes left)");
	free(d);
}

static void duplicate_guid_is_rejected(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *d = read_vector("snp/ovmf_AmdSev_suffix.bin", &size);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	struct cvm_firmware *fw = parse_ok(d, size);
	size_t at = entry_header(fw, &CVM_GUID_SEV_HASH_TABLE);
	cvm_firmware_free(fw);
	memcpy(d + at + 2, CVM_GUID_SEV_ES_RESET_BLOCK.b, 16);
	parse_fails_with(d, size, "duplicate entry 00f771de-1a7e-4fcb-890e-68c77e2fb44e");
	/* The footer GUID inside the table is a duplicate too. */
	memcpy(d + at + 2, CVM_GUID_OVMF_TABLE_FOOTER.b, 16);
	parse_fails_with(d, size, "duplicate entry 96b582de");
	free(d);
}

static void short_entry_data_invalidates_its_side_only(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *d = read_vector("tdx/synth_tdvf.bin", &size);
	REQUIRE(d, "vectors/tdx/synth_tdvf.bin");
	/* Turn the TDX entry's 4 data bytes into a reset block of 4 bytes: fine... */
	struct cvm_firmware *fw = parse_ok(d, size);
	size_t at = entry_header(fw, &CVM_GUID_TDX_METADATA);
	cvm_firmware_free(fw);
	/* ...but as a secret block (needs 8) the SEV side becomes invalid, TDX absent. */
	memcpy(d + at + 2, CVM_GUID_SEV_SECRET_BLOCK.b, 16);
	sev_invalid_with(d, size, "SEV secret block entry holds 4 data bytes, expected at least 8");
	free(d);
}

/* ---- SEV metadata corruption ------------------------------------------------------------- */

static uint8_t *amdsev_copy(size_t *size, size_t *hdr)
{
	uint8_t *d = read_vector("snp/ovmf_AmdSev_suffix.bin", size);
	if (d)
		*hdr = sev_header(d, *size);
	return d;
}

static void asev_bad_signature(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = amdsev_copy(&size, &h);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	d[h] = 'B';
	sev_invalid_with(d, size, "bad signature 42 53 45 56, expected \"ASEV\"");
	free(d);
}

static void asev_bad_version(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = amdsev_copy(&size, &h);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	cvm_put_le32(d + h + 8, 2);
	sev_invalid_with(d, size, "SEV metadata: version 2, expected 1");
	free(d);
}

static void asev_bad_length(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = amdsev_copy(&size, &h);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	cvm_put_le32(d + h + 4, 0x65);
	sev_invalid_with(d, size, "length 101 does not match 7 sections (expected 16 + 12 * 7 = 100)");
	/* A huge count cannot overflow the length check. */
	cvm_put_le32(d + h + 4, 16);
	cvm_put_le32(d + h + 12, 0xffffffff);
	sev_invalid_with(d, size, "does not match 4294967295 sections");
	free(d);
}

static void asev_sections_past_end(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = amdsev_copy(&size, &h);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	cvm_put_le32(d + h + 4, 16 + 12 * 200);
	cvm_put_le32(d + h + 12, 200);
	sev_invalid_with(d, size, "200 sections (length 2416) run past the end of the image");
	free(d);
}

static void asev_offset_outside_image(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *d = read_vector("snp/ovmf_AmdSev_suffix.bin", &size);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	struct cvm_firmware *fw = parse_ok(d, size);
	const struct cvm_fw_table_entry *e = cvm_firmware_find(fw, &CVM_GUID_SEV_METADATA);
	size_t at = (size_t)e->offset;
	cvm_firmware_free(fw);
	cvm_put_le32(d + at, 0x2000);
	sev_invalid_with(d, size, "SEV metadata offset 0x2000 (from the end) is outside the image");
	cvm_put_le32(d + at, 8);
	sev_invalid_with(d, size, "SEV metadata offset 0x8 ");
	free(d);
}

static void asev_zero_sections(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = amdsev_copy(&size, &h);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	cvm_put_le32(d + h + 4, 16);
	cvm_put_le32(d + h + 12, 0);
	sev_invalid_with(d, size, "SEV metadata lists no sections");
	free(d);
}

/* Section i field f (0 gpa, 1 size, 2 type) of the ASEV table at h. */
static void put_sev_field(uint8_t *d, size_t h, size_t i, size_t f, uint32_t v)
{
	cvm_put_le32(d + h + 16 + 12 * i + 4 * f, v);
}

static void asev_overlapping_sections(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = amdsev_copy(&size, &h);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	put_sev_field(d, h, 6, 0, 0x808000); /* SEC_MEM 0x808000+0xf000 over sections 0..5 */
	sev_invalid_with(d, size,
			 "SEV sections 0 (SNP_SEC_MEM 0x800000+0x9000) and 6 (SNP_SEC_MEM "
			 "0x808000+0xf000) overlap");
	free(d);
}

static void asev_unaligned_gpa(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = amdsev_copy(&size, &h);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	put_sev_field(d, h, 1, 0, 0x80a100);
	sev_invalid_with(d, size, "SEV section 1 (SNP_SEC_MEM): gpa 0x80a100 is not 4 KiB aligned");
	free(d);
}

static void asev_size_not_page_multiple(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = amdsev_copy(&size, &h);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	put_sev_field(d, h, 0, 1, 0x9001);
	sev_invalid_with(d, size,
			 "SEV section 0 (SNP_SEC_MEM): size 0x9001 is not a non-zero multiple of 4 KiB");
	put_sev_field(d, h, 0, 1, 0);
	sev_invalid_with(d, size, "SEV section 0 (SNP_SEC_MEM): size 0x0 is not a non-zero");
	free(d);
}

static void asev_section_past_4gib(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = amdsev_copy(&size, &h);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	put_sev_field(d, h, 6, 0, 0xfffff000);
	put_sev_field(d, h, 6, 1, 0x2000);
	sev_invalid_with(d, size, "SEV section 6 (SNP_SEC_MEM): 0xfffff000 + 0x2000 runs past 4 GiB");
	free(d);
}

static void asev_unknown_type(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = amdsev_copy(&size, &h);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	put_sev_field(d, h, 4, 2, 7);
	sev_invalid_with(d, size, "SEV section 4: unknown type 0x7");
	free(d);
}

static void asev_secrets_must_be_one_page(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = amdsev_copy(&size, &h);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	put_sev_field(d, h, 3, 1, 0x2000); /* CPUID 0x80e000+0x2000 */
	sev_invalid_with(d, size, "SEV section 3 (CPUID): size 0x2000, expected exactly one page");
	free(d);
}

static void asev_duplicate_cpuid(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = amdsev_copy(&size, &h);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	put_sev_field(d, h, 4, 2, CVM_SEV_CPUID); /* SVSM_CAA becomes a second CPUID */
	sev_invalid_with(d, size, "more than one CPUID section");
	free(d);
}

static void asev_missing_secrets_is_a_warning(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = amdsev_copy(&size, &h);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	put_sev_field(d, h, 2, 2, CVM_SEV_SEC_MEM);
	struct cvm_firmware *fw = parse_ok(d, size);
	assert_int_equal(fw->sev_status, CVM_FW_OK);
	assert_reason(fw->sev_warnings, "no SNP_SECRETS section");
	cvm_firmware_free(fw);
	free(d);
}

/* ---- TDVF corruption --------------------------------------------------------------------- */

static uint8_t *synth_copy(size_t *size, size_t *hdr)
{
	uint8_t *d = read_vector("tdx/synth_tdvf.bin", size);
	if (d)
		*hdr = tdvf_header(d, *size);
	return d;
}

/* Offsets inside a TDVF_SECTION. */
enum { TS_DATA = 0, TS_RAW = 4, TS_GPA = 8, TS_MEM = 16, TS_TYPE = 24, TS_ATTR = 28 };

static uint8_t *tdvf_item(uint8_t *d, size_t h, size_t i)
{
	return d + h + 16 + 32 * i;
}

static void tdvf_bad_signature_version_length(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = synth_copy(&size, &h);
	REQUIRE(d, "vectors/tdx/synth_tdvf.bin");
	d[h + 3] = 'X';
	tdx_invalid_with(d, size, "bad signature 54 44 56 58, expected \"TDVF\"");
	d[h + 3] = 'F';
	cvm_put_le32(d + h + 8, 0);
	tdx_invalid_with(d, size, "TDX metadata: version 0, expected 1");
	cvm_put_le32(d + h + 8, 1);
	cvm_put_le32(d + h + 4, 0x91);
	tdx_invalid_with(d, size, "length 145 does not match 4 sections (expected 16 + 32 * 4 = 144)");
	cvm_put_le32(d + h + 4, 48);
	cvm_put_le32(d + h + 12, 1);
	tdx_invalid_with(d, size, "TDX metadata lists 1 section, at least 2 are needed");
	free(d);
}

static void tdvf_offset_outside_image(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *d = read_vector("tdx/synth_tdvf.bin", &size);
	REQUIRE(d, "vectors/tdx/synth_tdvf.bin");
	struct cvm_firmware *fw = parse_ok(d, size);
	size_t at = (size_t)cvm_firmware_find(fw, &CVM_GUID_TDX_METADATA)->offset;
	cvm_firmware_free(fw);
	cvm_put_le32(d + at, 0x20000);
	tdx_invalid_with(d, size, "TDX metadata offset 0x20000 (from the end) is outside the image");
	free(d);
}

static void tdvf_raw_data_past_end(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = synth_copy(&size, &h);
	REQUIRE(d, "vectors/tdx/synth_tdvf.bin");
	cvm_put_le32(tdvf_item(d, h, 0) + TS_DATA, 0xc000);
	tdx_invalid_with(d, size,
			 "TDX section 0 (BFV): raw data 0xc000+0x8000 beyond the end of the image "
			 "(0x10000 bytes): the image is truncated");
	/* Offset + size wrapping 32 bits is still past the end. */
	cvm_put_le32(tdvf_item(d, h, 0) + TS_DATA, 0xfffff000);
	tdx_invalid_with(d, size, "raw data 0xfffff000+0x8000 beyond the end");
	free(d);
}

static void tdvf_unaligned_gpa(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = synth_copy(&size, &h);
	REQUIRE(d, "vectors/tdx/synth_tdvf.bin");
	cvm_put_le64(tdvf_item(d, h, 2) + TS_GPA, 0x809800);
	tdx_invalid_with(d, size, "TDX section 2 (TD_HOB): gpa 0x809800 is not 4 KiB aligned");
	free(d);
}

static void tdvf_mem_size_checks(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = synth_copy(&size, &h);
	REQUIRE(d, "vectors/tdx/synth_tdvf.bin");
	uint8_t *s3 = tdvf_item(d, h, 3);
	cvm_put_le64(s3 + TS_MEM, 0x6001);
	tdx_invalid_with(d, size,
			 "TDX section 3 (TempMem): memory size 0x6001 is not a non-zero multiple of "
			 "4 KiB");
	cvm_put_le64(s3 + TS_MEM, 0);
	tdx_invalid_with(d, size, "TDX section 3 (TempMem): memory size 0x0 is not a non-zero");
	cvm_put_le64(s3 + TS_MEM, 0x6000);
	cvm_put_le64(tdvf_item(d, h, 1) + TS_MEM, 0x1000);
	tdx_invalid_with(d, size,
			 "TDX section 1 (CFV): memory size 0x1000 is smaller than raw size 0x2000");
	free(d);
}

static void tdvf_gpa_wraps(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = synth_copy(&size, &h);
	REQUIRE(d, "vectors/tdx/synth_tdvf.bin");
	cvm_put_le64(tdvf_item(d, h, 3) + TS_GPA, 0xfffffffffffff000ull);
	tdx_invalid_with(d, size, "TDX section 3 (TempMem): gpa 0xfffffffffffff000 + 0x6000 wraps");
	free(d);
}

static void tdvf_overlapping_sections(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = synth_copy(&size, &h);
	REQUIRE(d, "vectors/tdx/synth_tdvf.bin");
	cvm_put_le64(tdvf_item(d, h, 2) + TS_GPA, 0x805000); /* TD_HOB into TempMem 0x800000+0x6000 */
	tdx_invalid_with(d, size,
			 "TDX sections 2 (TD_HOB 0x805000+0x2000) and 3 (TempMem 0x800000+0x6000) "
			 "overlap");
	free(d);
}

static void tdvf_type_and_attribute_checks(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = synth_copy(&size, &h);
	REQUIRE(d, "vectors/tdx/synth_tdvf.bin");
	uint8_t *s2 = tdvf_item(d, h, 2);
	cvm_put_le32(s2 + TS_TYPE, 9);
	tdx_invalid_with(d, size, "TDX section 2: unknown type 9");
	cvm_put_le32(s2 + TS_TYPE, CVM_TDVF_TD_HOB);
	cvm_put_le32(s2 + TS_ATTR, 4);
	tdx_invalid_with(d, size, "TDX section 2 (TD_HOB): reserved attribute bits set (0x4)");
	cvm_put_le32(s2 + TS_ATTR, 0);
	cvm_put_le32(s2 + TS_RAW, 0x1000);
	tdx_invalid_with(d, size, "TDX section 2 (TD_HOB): raw size 0x1000, expected 0");
	cvm_put_le32(s2 + TS_RAW, 0);
	cvm_put_le32(tdvf_item(d, h, 1) + TS_RAW, 0);
	tdx_invalid_with(d, size, "TDX section 1 (CFV): no raw data");
	cvm_put_le32(tdvf_item(d, h, 1) + TS_RAW, 0x2000);
	cvm_put_le32(tdvf_item(d, h, 3) + TS_TYPE, CVM_TDVF_TD_HOB);
	tdx_invalid_with(d, size, "TDX metadata has 2 TD_HOB sections");
	cvm_put_le32(tdvf_item(d, h, 3) + TS_TYPE, CVM_TDVF_TEMP_MEM);
	cvm_put_le32(tdvf_item(d, h, 0) + TS_TYPE, CVM_TDVF_CFV);
	tdx_invalid_with(d, size, "TDX metadata has no BFV");
	free(d);
}

static void tdvf_td_shim_types_are_a_warning(void **state)
{
	(void)state;
	size_t size = 0, h = 0;
	uint8_t *d = synth_copy(&size, &h);
	REQUIRE(d, "vectors/tdx/synth_tdvf.bin");
	cvm_put_le32(tdvf_item(d, h, 3) + TS_TYPE, CVM_TDVF_PERM_MEM);
	struct cvm_firmware *fw = parse_ok(d, size);
	assert_int_equal(fw->tdx_status, CVM_FW_OK);
	assert_reason(fw->tdx_warnings, "td-shim section type");
	cvm_firmware_free(fw);
	free(d);
}

/* ---- capabilities ------------------------------------------------------------------------ */

static void capabilities_of_amdsev_fixture(void **state)
{
	(void)state;
	size_t size = 0;
	char why[256];
	uint8_t *d = read_vector("snp/ovmf_AmdSev_suffix.bin", &size);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	struct cvm_firmware *fw = parse_ok(d, size);
	assert_true(cvm_firmware_can_snp(fw, why, sizeof(why)));
	assert_true(cvm_firmware_can_snp_kernel_hashes(fw, why, sizeof(why)));
	assert_false(cvm_firmware_can_tdx(fw, why, sizeof(why)));
	assert_reason(why, "beyond the end of the image");
	cvm_firmware_free(fw);
	free(d);
}

static void capabilities_without_kernel_hashes(void **state)
{
	(void)state;
	size_t size = 0;
	char why[256];
	uint8_t *d = read_vector("snp/ovmf_OvmfX64_suffix.bin", &size);
	REQUIRE(d, "vectors/snp/ovmf_OvmfX64_suffix.bin");
	struct cvm_firmware *fw = parse_ok(d, size);
	assert_true(cvm_firmware_can_snp(fw, NULL, 0));
	assert_false(cvm_firmware_can_snp_kernel_hashes(fw, why, sizeof(why)));
	assert_reason(why, "no SNP_KERNEL_HASHES section");
	cvm_firmware_free(fw);
	free(d);
}

static void capabilities_need_reset_block_and_hash_table(void **state)
{
	(void)state;
	size_t size = 0;
	char why[256];
	uint8_t *d = read_vector("snp/ovmf_AmdSev_suffix.bin", &size);
	REQUIRE(d, "vectors/snp/ovmf_AmdSev_suffix.bin");
	struct cvm_firmware *fw = parse_ok(d, size);
	size_t reset = entry_header(fw, &CVM_GUID_SEV_ES_RESET_BLOCK);
	size_t hash = (size_t)cvm_firmware_find(fw, &CVM_GUID_SEV_HASH_TABLE)->offset;
	cvm_firmware_free(fw);

	cvm_put_le32(d + hash, 0x810f80); /* table would cross the end of its page */
	fw = parse_ok(d, size);
	assert_false(cvm_firmware_can_snp_kernel_hashes(fw, why, sizeof(why)));
	assert_reason(why, "too small for the 0xb0-byte hashes table");
	cvm_firmware_free(fw);

	cvm_put_le32(d + hash, 0);
	fw = parse_ok(d, size);
	assert_false(cvm_firmware_can_snp_kernel_hashes(fw, why, sizeof(why)));
	assert_reason(why, "hash-table location in the OVMF table is missing or zero");
	cvm_firmware_free(fw);

	d[reset + 2] ^= 0xff; /* the reset block GUID becomes unknown */
	fw = parse_ok(d, size);
	assert_false(fw->has_reset_block);
	assert_false(cvm_firmware_can_snp(fw, why, sizeof(why)));
	assert_reason(why, "no SEV-ES reset block");
	cvm_firmware_free(fw);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(guid_format_uses_mixed_endian),
		cmocka_unit_test(guid_and_type_names),
		cmocka_unit_test(amdsev_fixture_has_vector_layout),
		cmocka_unit_test(ovmfx64_fixture_has_vector_layout),
		cmocka_unit_test(synth_tdvf_has_vector_layout),
		cmocka_unit_test(tdvf_bfv_memory_size_past_the_image_is_invalid),
		cmocka_unit_test(synth_tdvf_pageaug_has_vector_layout),
		cmocka_unit_test(debian_ovmf_fd_has_both_tables),
		cmocka_unit_test(debian_ovmf_code_is_split_for_tdx),
		cmocka_unit_test(debian_ovmf_code_4m_has_no_metadata),
		cmocka_unit_test(load_missing_file_fails),
		cmocka_unit_test(loaded_firmware_survives_its_file_changing),
		cmocka_unit_test(load_on_a_pool_takes_the_same_sha256),
		cmocka_unit_test(image_size_must_be_page_multiple),
		cmocka_unit_test(image_without_footer_has_empty_table),
		cmocka_unit_test(truncated_ovmf_has_no_table),
		cmocka_unit_test(footer_length_below_18_is_rejected),
		cmocka_unit_test(footer_length_past_image_is_rejected),
		cmocka_unit_test(footer_length_with_stray_bytes_is_rejected),
		cmocka_unit_test(entry_length_below_18_is_rejected),
		cmocka_unit_test(entry_past_table_start_is_rejected),
		cmocka_unit_test(duplicate_guid_is_rejected),
		cmocka_unit_test(short_entry_data_invalidates_its_side_only),
		cmocka_unit_test(asev_bad_signature),
		cmocka_unit_test(asev_bad_version),
		cmocka_unit_test(asev_bad_length),
		cmocka_unit_test(asev_sections_past_end),
		cmocka_unit_test(asev_offset_outside_image),
		cmocka_unit_test(asev_zero_sections),
		cmocka_unit_test(asev_overlapping_sections),
		cmocka_unit_test(asev_unaligned_gpa),
		cmocka_unit_test(asev_size_not_page_multiple),
		cmocka_unit_test(asev_section_past_4gib),
		cmocka_unit_test(asev_unknown_type),
		cmocka_unit_test(asev_secrets_must_be_one_page),
		cmocka_unit_test(asev_duplicate_cpuid),
		cmocka_unit_test(asev_missing_secrets_is_a_warning),
		cmocka_unit_test(tdvf_bad_signature_version_length),
		cmocka_unit_test(tdvf_offset_outside_image),
		cmocka_unit_test(tdvf_raw_data_past_end),
		cmocka_unit_test(tdvf_unaligned_gpa),
		cmocka_unit_test(tdvf_mem_size_checks),
		cmocka_unit_test(tdvf_gpa_wraps),
		cmocka_unit_test(tdvf_overlapping_sections),
		cmocka_unit_test(tdvf_type_and_attribute_checks),
		cmocka_unit_test(tdvf_td_shim_types_are_a_warning),
		cmocka_unit_test(capabilities_of_amdsev_fixture),
		cmocka_unit_test(capabilities_without_kernel_hashes),
		cmocka_unit_test(capabilities_need_reset_block_and_hash_table),
	};
	return cmocka_run_group_tests_name("firmware", tests, NULL, NULL);
}
