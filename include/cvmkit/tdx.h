/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel TDX: planner (TDVF sections -> PAGE.ADD / MR.EXTEND ops), MRTD model, TD HOB builder,
 * RTMR precompute.  spec/tdx-measurement.md.
 *
 * Ownership: plans follow include/cvmkit/plan.h; a plan built from a firmware borrows the
 * firmware's mapped image, which must outlive the plan.
 */
#ifndef CVMKIT_TDX_H
#define CVMKIT_TDX_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/emit.h>
#include <cvmkit/error.h>
#include <cvmkit/firmware.h>
#include <cvmkit/plan.h>
#include <cvmkit/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

#define CVM_TDX_DIGEST_SIZE 48

/*
 * Build the TDX launch plan: for each TDVF section in metadata order, one CVM_OP_LOAD op (flags
 * CVM_OP_MR_EXTEND / CVM_OP_NO_PAGE_ADD), with the TD HOB bytes as the TD_HOB section's data.
 * plan->tdx carries INIT_VM parameters and the TD HOB GPA.  The plan borrows fw's image.
 */
int cvm_tdx_plan_build(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		       struct cvm_plan *plan, struct cvm_error *err);

/*
 * Check that fw carries usable TDVF metadata: present (Debian's 4 MiB builds have none), every
 * section of a type QEMU/KVM loads, page aligned, raw data inside the file (the split
 * OVMF_CODE.fd fails here: use the unified OVMF.fd), no two sections overlapping.
 */
int cvm_tdx_firmware_check(const struct cvm_firmware *fw, struct cvm_error *err);

/* The MRTD model as a plan executor (honours plan->tdx.order).  Free with cvm_tdx_model_free(). */
struct cvm_tdx_model;
struct cvm_tdx_model *cvm_tdx_model_new(void);
void cvm_tdx_model_free(struct cvm_tdx_model *model);
const struct cvm_backend_ops *cvm_tdx_model_ops(void);
/*
 * Optional: the model gives up with -ECANCELED once *cancel is non-zero (checked every few
 * hundred pages, so a huge section stops promptly).  cancel is borrowed; NULL turns it off.
 */
void cvm_tdx_model_set_cancel(struct cvm_tdx_model *model, volatile sig_atomic_t *cancel);
/* MRTD after finish; valid only once the plan's finish has run (all zero before). */
void cvm_tdx_model_digest(const struct cvm_tdx_model *model, uint8_t out[CVM_TDX_DIGEST_SIZE]);

/*
 * Whole offline measurement: MRTD, RTMRs (or why not), and every input, as a measurement
 * document owned by the caller.  Checks the policy's firmware SHA-256 pin against fw, reads the
 * policy's kernel/initrd files for RTMR1/RTMR2 and its tdx RTMR0 input files (ACPI blobs,
 * variable store), and follows the policy's tdx.firmware_generation (default: the edk2 <=
 * stable202408 sequence of Debian 12's OVMF), which the document states.  RTMR0 is computed
 * when the policy supplies its inputs (docs/tdx-rtmr.md); otherwise its known events are listed
 * and rtmr_missing[0] names what it lacks.
 */
int cvm_tdx_measure(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		    struct cvm_measurement **out, struct cvm_error *err);

struct cvm_tdx_measure_opts {
	/* optional: non-zero (e.g. from a signal or another thread) stops the MRTD model with
	   -ECANCELED; borrowed */
	volatile sig_atomic_t *cancel;
	/* optional: the plan a launch executed, whose MRTD the launch took call by call; borrowed.
	   The offline plan is compared with it op by op (-EPROTO when they differ) and no MRTD is
	   computed again: the document's digest_len is 0 and the caller supplies the digest. */
	const struct cvm_plan *launched;
	/* optional: the kernel and initrd are hashed on one of its threads beside the MRTD chain;
	   borrowed */
	struct cvm_pool *pool;
};

/* cvm_tdx_measure() with options (opts NULL: none). */
int cvm_tdx_measure_ex(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		       const struct cvm_tdx_measure_opts *opts, struct cvm_measurement **out,
		       struct cvm_error *err);

/* ---- TD HOB (tdx/tdx_hob.c, spec section 6) ------------------------------------------------ */

/*
 * The TD HOB QEMU writes at the TD_HOB section for a guest of mem_size bytes on q35: PHIT, one
 * resource descriptor per RAM range sorted by address (TD_HOB/TempMem sections carved out as
 * SYSTEM_MEMORY, all other RAM MEMORY_UNACCEPTED), END_OF_HOB_LIST.  hob_gpa is where it is
 * placed.  *out (malloc'd, owned by the caller) holds *out_len bytes including the end header.
 * -EINVAL when a TD_HOB/TempMem section lies outside RAM.
 */
int cvm_tdx_hob_build(const struct cvm_tdvf_section *sections, size_t nsections,
		      uint64_t mem_size, uint64_t hob_gpa, uint8_t **out, size_t *out_len,
		      struct cvm_error *err);

/* The first RTMR0 event: SHA-384 of the HOB list without its END_OF_HOB_LIST header. */
void cvm_tdx_hob_digest(const uint8_t *hob, size_t hob_len, uint8_t out[CVM_TDX_DIGEST_SIZE]);

/* ---- RTMR precompute (tdx/tdx_rtmr.c, spec section 7) -------------------------------------- */

/* enum cvm_tdx_fw_gen (the edk2 event layout) is in cvmkit/policy.h. */

/* "edk2 <= stable202408 ..." */
const char *cvm_tdx_fw_gen_name(enum cvm_tdx_fw_gen gen);

/* RTMR_new = SHA-384(RTMR_old || digest). */
void cvm_tdx_rtmr_extend(uint8_t rtmr[CVM_TDX_DIGEST_SIZE], const uint8_t digest[CVM_TDX_DIGEST_SIZE]);

void cvm_tdx_sha384(const void *data, size_t len, uint8_t out[CVM_TDX_DIGEST_SIZE]);

/*
 * EV_EFI_VARIABLE_* digest: SHA-384(VendorGuid || u64 name chars || u64 data len ||
 * UTF-16LE(name) || data).  name is ASCII.
 */
void cvm_tdx_efi_variable_digest(const struct cvm_guid *vendor, const char *name,
				 const uint8_t *data, size_t len, uint8_t out[CVM_TDX_DIGEST_SIZE]);

/*
 * PE/COFF Authenticode SHA-384 of an image (headers without CheckSum and the certificate-table
 * directory entry, sections by file offset, trailing bytes without the certificate table).
 * -ENOEXEC when the bytes are not a PE image, -EINVAL when it is malformed.
 */
int cvm_tdx_authenticode_sha384(const uint8_t *pe, size_t len, uint8_t out[CVM_TDX_DIGEST_SIZE],
				struct cvm_error *err);

/* The same and, in the same pass over the bytes, the SHA-256 of the whole image. */
int cvm_tdx_authenticode_sha384_sha256(const uint8_t *pe, size_t len,
				       uint8_t out[CVM_TDX_DIGEST_SIZE], uint8_t sha256[32],
				       struct cvm_error *err);

/*
 * The Linux EFI stub's LoadOptions digest: SHA-384(UTF-16LE(cmdline + " initrd=initrd" when an
 * initrd is passed) || 00 00), as OVMF's QEMU kernel loader builds LoadOptions (each byte
 * widened to one UTF-16 unit).  NULL is empty.  Returns 0 or -ENOMEM.
 */
int cvm_tdx_cmdline_digest(const char *cmdline, bool has_initrd, uint8_t out[CVM_TDX_DIGEST_SIZE],
			   struct cvm_error *err);

/* Borrowed bytes; data NULL means absent. */
struct cvm_tdx_bytes {
	const uint8_t *data;
	size_t len;
};

/* ---- OVMF variable store (tdx/tdx_varstore.c) ---------------------------------------------- */

/* What the RTMR0 events take from a variable store; every pointer borrows the parsed bytes. */
struct cvm_tdx_varstore {
	bool authenticated;            /* the authenticated variable format (OVMF's) */
	size_t nvars;                  /* valid variables seen */
	struct cvm_tdx_bytes pk, kek, db, dbx, dbt; /* EFI_SIGNATURE_LIST data as stored */
	bool has_secure_boot_enable;
	uint8_t secure_boot_enable;
};

/*
 * Parse an OVMF variable store (an OVMF_VARS.fd file, or the CFV of a unified OVMF.fd): the FV
 * header, the variable store header (authenticated or plain), then the added variables.  The
 * bytes are untrusted; 0, or -EINVAL naming what is wrong.  *out is written only on success.
 */
int cvm_tdx_varstore_parse(const uint8_t *data, size_t len, struct cvm_tdx_varstore *out,
			   struct cvm_error *err);

/*
 * EFI_LOAD_OPTION bytes: attributes, FilePathListLength, the description as UCS-2 with its NUL,
 * the device path, the optional data.  description is ASCII.  *out is malloc'd (caller frees).
 * 0, -EINVAL (device path longer than 65535 bytes) or -ENOMEM.
 */
int cvm_tdx_load_option_encode(uint32_t attributes, const char *description,
			       const uint8_t *device_path, size_t device_path_len,
			       const uint8_t *optional_data, size_t optional_data_len,
			       uint8_t **out, size_t *out_len, struct cvm_error *err);

/* One Boot#### variable as measured: its number and its EFI_LOAD_OPTION bytes (borrowed). */
struct cvm_tdx_boot_option {
	uint16_t number;
	const uint8_t *data;
	size_t len;
	const char *description;       /* for the event list; NULL: none */
};

/* One fw_cfg item measured into RTMR0 by edk2 >= 202505 (borrowed). */
struct cvm_tdx_fw_cfg_item {
	const char *name;
	const uint8_t *data;
	size_t len;
};

/* What the RTMR precompute knows.  Every pointer is borrowed; NULL means unknown/absent. */
struct cvm_tdx_rtmr_inputs {
	enum cvm_tdx_fw_gen fw_gen;
	const uint8_t *td_hob;          /* the HOB as placed (with its end header) */
	size_t td_hob_len;
	const uint8_t *cfv;             /* CFV raw bytes (the var store the image carries) */
	size_t cfv_len;
	/* fw_cfg ACPI blobs as QEMU serves them; RTMR0 needs all three */
	const uint8_t *acpi_table_loader, *acpi_rsdp, *acpi_tables;
	size_t acpi_table_loader_len, acpi_rsdp_len, acpi_tables_len;
	const uint8_t *kernel;          /* NULL: no direct boot (RTMR1/RTMR2 not computed) */
	size_t kernel_len;
	/* The kernel's Authenticode SHA-384 when it was computed already (in the pass that took
	   its SHA-256); NULL: computed from kernel */
	const uint8_t *kernel_authenticode;
	const char *cmdline;            /* NULL: empty */
	const uint8_t *initrd;          /* NULL: no initrd (unless initrd_sha384 is given) */
	size_t initrd_len;
	/* The initrd's SHA-384 when it was hashed as it was read (its bytes are then not needed
	   and initrd may be NULL); NULL: hash initrd/initrd_len. */
	const uint8_t *initrd_sha384;

	/* RTMR0 inputs given as digests (each used when its blob above is NULL) */
	const uint8_t *cfv_sha384;      /* the EV_EFI_PLATFORM_FIRMWARE_BLOB2 digest */
	const uint8_t *acpi_sha384[3];  /* table-loader, rsdp, tables */
	/* Secure Boot: the SecureBoot variable (AUTO and UNSUPPORTED: absent, measured empty) and
	   the databases (absent: measured empty; dbt only when present) */
	enum cvm_tdx_secure_boot secure_boot;
	struct cvm_tdx_bytes pk, kek, db, dbx, dbt;
	/* BootOrder and the Boot#### it lists; boot_order NULL: the generation's defaults */
	const uint16_t *boot_order;
	size_t nboot_order;
	const struct cvm_tdx_boot_option *boot_options;
	size_t nboot_options;
	/* edk2 >= 202505 only: the fw_cfg items (has_fw_cfg false: BootMenu = 0 alone) and the
	   SMBIOS handoff-table digest (RTMR0 needs it) */
	bool has_fw_cfg;
	const struct cvm_tdx_fw_cfg_item *fw_cfg;
	size_t nfw_cfg;
	const uint8_t *smbios_sha384;
};

/*
 * Append the RTMR0..2 events (with their digests, in extend order) to m and set m->rtmr[i] with
 * rtmr_known[i] for the RTMRs whose every input is known; the others get a note saying why and
 * the list of missing inputs (policy key names, cvm_measurement_add_rtmr_missing).  RTMR3 is 0
 * at boot.  Returns 0, or -ENOMEM/-EINVAL with err filled.
 */
int cvm_tdx_rtmr_compute(const struct cvm_tdx_rtmr_inputs *in, struct cvm_measurement *m,
			 struct cvm_error *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
