/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Firmware image reader (OVMF / TDVF).  The image is mapped so that it ends at 4 GiB; its GUIDed
 * footer table ("OVMF table", just below the 32-byte reset area) carries the SEV-ES reset block,
 * SEV secret block, SEV hash-table location, SEV metadata offset and TDX metadata offset.
 * spec/snp-measurement.md section 2 and spec/tdx-measurement.md sections 1-2.
 *
 * The SEV metadata ("ASEV") and TDVF descriptor are parsed here too, so that one validated view
 * serves inspect, the SNP planner and the TDX planner.  A problem in one metadata kind does not
 * hide the other: each has its own status and reason.
 *
 * Ownership: struct cvm_firmware owns its image bytes, read once into memory (or borrows the
 * caller's bytes, see cvm_firmware_parse), and all arrays; cvm_firmware_free() releases it.
 */
#ifndef CVMKIT_FIRMWARE_H
#define CVMKIT_FIRMWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/error.h>
#include <cvmkit/pool.h>
#include <cvmkit/util.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct cvm_guid {
	uint8_t b[16]; /* on-disk (EFI mixed-endian) byte order */
};

/* GUIDs of the OVMF footer table, in on-disk byte order. */
extern const struct cvm_guid CVM_GUID_OVMF_TABLE_FOOTER;
extern const struct cvm_guid CVM_GUID_SEV_ES_RESET_BLOCK;
extern const struct cvm_guid CVM_GUID_SEV_HASH_TABLE;
extern const struct cvm_guid CVM_GUID_SEV_SECRET_BLOCK;
extern const struct cvm_guid CVM_GUID_SEV_METADATA;
extern const struct cvm_guid CVM_GUID_TDX_METADATA;
extern const struct cvm_guid CVM_GUID_SVSM_INFO;

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into out[37]. */
void cvm_guid_format(const struct cvm_guid *g, char out[37]);
const char *cvm_guid_name(const struct cvm_guid *g); /* "SEV-ES reset block", or NULL */

struct cvm_fw_table_entry {
	struct cvm_guid guid;
	uint64_t offset; /* file offset of the entry's data */
	const uint8_t *data;
	size_t len;      /* data bytes (entry length minus the 18-byte header) */
};

enum cvm_sev_section_type {
	CVM_SEV_SEC_MEM = 1,
	CVM_SEV_SECRETS = 2,
	CVM_SEV_CPUID = 3,
	CVM_SEV_SVSM_CAA = 4,
	CVM_SEV_KERNEL_HASHES = 0x10,
};

struct cvm_sev_section {
	uint32_t gpa;
	uint32_t size;
	uint32_t type; /* enum cvm_sev_section_type */
};

enum cvm_tdvf_section_type {
	CVM_TDVF_BFV = 0,
	CVM_TDVF_CFV = 1,
	CVM_TDVF_TD_HOB = 2,
	CVM_TDVF_TEMP_MEM = 3,
	CVM_TDVF_PERM_MEM = 4,
	CVM_TDVF_PAYLOAD = 5,
	CVM_TDVF_PAYLOAD_PARAM = 6,
	CVM_TDVF_TD_INFO = 7,
	CVM_TDVF_TD_PARAMS = 8,
};

#define CVM_TDVF_ATTR_MR_EXTEND (1u << 0)
#define CVM_TDVF_ATTR_PAGE_AUG (1u << 1)

struct cvm_tdvf_section {
	uint32_t data_offset;
	uint32_t raw_size;
	uint64_t gpa;
	uint64_t mem_size;
	uint32_t type;       /* enum cvm_tdvf_section_type */
	uint32_t attributes; /* CVM_TDVF_ATTR_* */
};

/* Status of one optional part of the image. */
enum cvm_fw_status {
	CVM_FW_ABSENT = 0, /* the image does not carry it (not an error by itself) */
	CVM_FW_OK,
	CVM_FW_INVALID,    /* present but malformed: see the reason */
};

struct cvm_fw_sha256_job;

struct cvm_firmware {
	char *path;          /* NULL when parsed from memory */
	struct cvm_file file; /* the image bytes (owned unless borrowed) */
	const uint8_t *data;
	size_t size;
	/* Of data: what firmware.sha256 pins.  Read it with cvm_firmware_sha256(): after
	   cvm_firmware_load_on() it may still be being taken on the pool. */
	uint8_t sha256_value[32];
	struct cvm_fw_sha256_job *sha256_job; /* internal: the pending SHA-256, or NULL */
	uint64_t load_gpa;   /* 4 GiB - size */

	struct cvm_fw_table_entry *table; /* footer table entries, in file order (walk order) */
	size_t ntable;

	bool has_reset_block;
	uint32_t ap_reset_eip;      /* SEV-ES reset block: AP start address */
	bool has_hash_table;
	uint32_t hash_table_gpa;    /* SEV hash-table location (0/0 = not supported) */
	uint32_t hash_table_size;
	bool has_secret_block;
	uint32_t secret_base, secret_size;

	enum cvm_fw_status sev_status;
	char sev_reason[256];
	uint32_t sev_metadata_offset; /* from end of file */
	struct cvm_sev_section *sev_sections;
	size_t nsev;

	enum cvm_fw_status tdx_status;
	char tdx_reason[256];
	uint32_t tdx_metadata_offset; /* from end of file */
	struct cvm_tdvf_section *tdx_sections;
	size_t ntdx;

	/*
	 * Non-fatal findings, "; "-separated ("" when none): e.g. no CPUID section, td-shim section
	 * types.  When a status is CVM_FW_INVALID the section arrays still hold the entries that
	 * could be read (for display by inspect); planners must require CVM_FW_OK.
	 */
	char sev_warnings[256];
	char tdx_warnings[256];
};

/*
 * Read (once, at most CVM_FIRMWARE_MAX bytes, util.h) and parse a firmware image: sha256 and
 * every later use are of those bytes, whatever happens to the file.  Only structural errors of the image as a whole (unreadable,
 * empty, size not a page multiple, malformed footer table) fail; SEV/TDX metadata problems are
 * reported through sev_status/tdx_status and their reasons.  *out is written only on success
 * and released with cvm_firmware_free().
 */
int cvm_firmware_load(const char *path, struct cvm_firmware **out, struct cvm_error *err);

/*
 * cvm_firmware_load() with the image's SHA-256 taken on one of pool's threads, beside whatever
 * the caller does next (the page hashes of a measure: the SHA-256 is needed only for the pin
 * check and the document).  cvm_firmware_sha256() waits for it.  pool NULL or of one thread:
 * exactly cvm_firmware_load().  The pool must outlive the pending hash: free the firmware (or
 * call cvm_firmware_sha256()) before cvm_pool_free().
 */
int cvm_firmware_load_on(const char *path, struct cvm_pool *pool, struct cvm_firmware **out,
			 struct cvm_error *err);

/*
 * The image's SHA-256 into out, waiting for it if it is still being taken.  Safe to call from
 * several threads at once.  Fails only when OpenSSL could not take the hash.
 */
int cvm_firmware_sha256(const struct cvm_firmware *fw, uint8_t out[32], struct cvm_error *err);

/* True when a and b hold the same bytes. */
bool cvm_firmware_same_image(const struct cvm_firmware *a, const struct cvm_firmware *b);

struct cvm_policy;

/* cvm_policy_firmware_pin_check() of fw's SHA-256 (waiting for it as cvm_firmware_sha256()). */
int cvm_firmware_pin_check(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			   struct cvm_error *err);

/* Parse bytes the caller keeps alive for the lifetime of the result. */
int cvm_firmware_parse(const uint8_t *data, size_t size, struct cvm_firmware **out,
		       struct cvm_error *err);

const struct cvm_fw_table_entry *cvm_firmware_find(const struct cvm_firmware *fw,
						   const struct cvm_guid *guid);

/* "SNP_SEC_MEM", "BFV", ... */
const char *cvm_sev_section_type_name(uint32_t type);
const char *cvm_tdvf_section_type_name(uint32_t type);

/*
 * True when raw data of fw's TDVF sections runs past the end of the image the way it does for
 * the code half of a split OVMF (OVMF_CODE.fd: the unified image without its leading variable
 * store, so the image size plus the CFV's raw size is where the raw data ends); false for an
 * image that is truncated or does not match its metadata.
 */
bool cvm_tdvf_looks_split(const struct cvm_firmware *fw);

/* The guest-physical address space TDVF sections must stay in (52 bits). */
#define CVM_TDVF_GPA_LIMIT (1ull << 52)

void cvm_firmware_free(struct cvm_firmware *fw);

/*
 * What the image can do (measure/firmware_caps.c).  Each returns true, or false with a one-line
 * reason in why[n] (why may be NULL).  SNP launch: valid SEV metadata and an SEV-ES reset block.
 * SNP measured direct boot: additionally one 4 KiB SNP_KERNEL_HASHES section holding the SEV hash
 * table (non-zero location, room for the 0xB0-byte table in its page).  TDX launch: valid TDVF
 * metadata.
 */
bool cvm_firmware_can_snp(const struct cvm_firmware *fw, char *why, size_t n);
bool cvm_firmware_can_snp_kernel_hashes(const struct cvm_firmware *fw, char *why, size_t n);
bool cvm_firmware_can_tdx(const struct cvm_firmware *fw, char *why, size_t n);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
