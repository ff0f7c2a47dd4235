/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AMD SEV-SNP: planner, VMSA builder, kernel-hashes page, PAGE_INFO measurement model, legacy
 * SEV/SEV-ES digests, CPUID page, ID block / ID auth.  spec/snp-measurement.md.  Pure: no KVM,
 * no network, nothing printed.
 *
 * Ownership: plans follow include/cvmkit/plan.h; a plan built from a firmware borrows the
 * firmware's mapped image, which must outlive the plan.
 */
#ifndef CVMKIT_SNP_H
#define CVMKIT_SNP_H

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

#define CVM_SNP_VMSA_GPA 0xFFFFFFFFF000ull
#define CVM_SNP_DIGEST_SIZE 48

/* ---- Planner and measurement (sev/snp_plan.c, sev/snp_model.c, ...) ---------------------- */

/*
 * Build the SNP launch plan of a policy: firmware pages NORMAL at 4 GiB - size, then each SEV
 * metadata section in table order with its page type, then one VMSA per vCPU.  The plan borrows
 * fw's image.
 */
int cvm_snp_plan_build(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		       struct cvm_plan *plan, struct cvm_error *err);

struct cvm_pool; /* cvmkit/pool.h */

/* The PAGE_INFO chain model as a plan executor.  Free with cvm_snp_model_free(). */
struct cvm_snp_model;
struct cvm_snp_model *cvm_snp_model_new(void);
void cvm_snp_model_free(struct cvm_snp_model *model);
/*
 * Hash the pages of the ops the model runs on pool (borrowed, must outlive the model's use;
 * NULL: on the calling thread, the default).  The chain still consumes them in order: the
 * digest does not depend on the pool.
 */
void cvm_snp_model_set_pool(struct cvm_snp_model *model, struct cvm_pool *pool);
const struct cvm_backend_ops *cvm_snp_model_ops(void);
void cvm_snp_model_digest(const struct cvm_snp_model *model, uint8_t out[CVM_SNP_DIGEST_SIZE]);
/*
 * digest is cvm_snp_firmware_digest() of fw, computed ahead (a launch hashes it beside the boot
 * files): an unseeded plan whose first op loads exactly fw's bytes (the same buffer, GPA and
 * size) takes it instead of hashing the pages again.  The model borrows fw->data's address.
 */
void cvm_snp_model_set_firmware_digest(struct cvm_snp_model *model, const struct cvm_firmware *fw,
				       const uint8_t digest[CVM_SNP_DIGEST_SIZE]);

/*
 * Whole offline measurement of a policy: plan -> model -> measurement document with every input
 * that changes the digest.  *out is owned by the caller (cvm_measurement_free).
 */
int cvm_snp_measure(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		    struct cvm_measurement **out, struct cvm_error *err);

/* ---- vCPU signature, reset state and VMSA page (sev/snp_vmsa.c) --------------------------- */

#define CVM_SNP_BSP_RESET_EIP 0xFFFFFFF0u
#define CVM_SNP_VMSA_SIZE 4096

/* Signature of a QEMU CPU model name ("EPYC-Milan-v2", case-insensitive); -ENOENT if unknown. */
int cvm_snp_cpu_model_signature(const char *name, uint32_t *sig);

/* The i-th known CPU model name, NULL past the end (for listings and error messages). */
const char *cvm_snp_cpu_model_name(size_t i);

/*
 * The reset state a VMM gives a vCPU that starts at eip (CVM_SNP_BSP_RESET_EIP for the BSP, the
 * SEV-ES reset block address for APs), as KVM's VMSA will hold it (EFER.SVME and CR4.MCE
 * included).  signature goes to RDX where the VMM puts it (QEMU, cvmkit); EC2 and GCE put 0x600.
 */
void cvm_snp_vcpu_reset_init(enum cvm_vmm vmm, uint32_t eip, uint32_t signature,
			     uint64_t sev_features, struct cvm_vcpu_reset *out);

/* Serialise a reset state as the 4096-byte VMSA page (struct sev_es_save_area layout). */
void cvm_snp_vmsa_build(const struct cvm_vcpu_reset *reset, uint8_t page[CVM_SNP_VMSA_SIZE]);

/* ---- Kernel-hashes table (sev/snp_hashes.c) ----------------------------------------------- */

#define CVM_SNP_HASHES_TABLE_SIZE 0xB0 /* 0xA8 bytes of table, zero-padded to 16 */

/* SHA-256 of the measured direct-boot inputs (initrd "" and cmdline "\0" when absent). */
struct cvm_snp_boot_hashes {
	uint8_t kernel[32];
	uint8_t initrd[32];
	uint8_t cmdline[32];
};

/*
 * Hash the policy's boot.kernel/initrd (files, on this thread) and cmdline.  Returns 0 with
 * *present = false when the policy has no kernel; initrd or cmdline without a kernel is -EINVAL.
 */
int cvm_snp_boot_hashes_compute(const struct cvm_policy *policy, struct cvm_snp_boot_hashes *out,
				bool *present, struct cvm_error *err);

/* What an SNP measure or launch hashes before it plans. */
struct cvm_snp_input_hashes {
	bool direct_boot;                   /* the policy has a kernel: boot is set */
	struct cvm_snp_boot_hashes boot;
	bool has_fw_digest;                 /* the firmware pages' chain was asked for */
	uint8_t fw_digest[CVM_SNP_DIGEST_SIZE];
};

/*
 * The boot files' SHA-256 (kernel and initrd each one item on pool, hashed as read; progress,
 * optional, names each file) beside the firmware pages' chain when fw is not NULL
 * (cvm_snp_firmware_digest_ex on this thread, its page hashes on the same pool).  pool NULL or
 * of one thread: all on this thread.  *out only on success; the first failure, in the order
 * firmware, kernel, initrd, is the result.
 */
struct cvm_progress;
int cvm_snp_hash_inputs(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			struct cvm_pool *pool, const struct cvm_progress *progress,
			struct cvm_snp_input_hashes *out, struct cvm_error *err);

/* The same from bytes in memory (a NULL kernel or initrd is empty; cmdline NULL means none). */
int cvm_snp_boot_hashes_from_bytes(const uint8_t *kernel, size_t kernel_len, const uint8_t *initrd,
				   size_t initrd_len, const char *cmdline,
				   struct cvm_snp_boot_hashes *out, struct cvm_error *err);

/* The padded SEV hashes table (GUIDed cmdline, initrd, kernel entries). */
void cvm_snp_hashes_table(const struct cvm_snp_boot_hashes *h,
			  uint8_t table[CVM_SNP_HASHES_TABLE_SIZE]);

/* ---- Planner and PAGE_INFO details (sev/snp_plan.c, sev/snp_model.c) ---------------------- */

/*
 * Every check that can refuse a policy/firmware pair for an SNP plan (the planner's own), without
 * building the plan or hashing anything; direct_boot as when the policy has a kernel.
 */
int cvm_snp_plan_check(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		       bool direct_boot, struct cvm_error *err);

/*
 * cvm_snp_plan_build() with the boot hashes already computed; hashes NULL means no measured
 * direct boot (the kernel-hashes section is measured as ZERO pages).
 */
int cvm_snp_plan_build_hashed(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			      const struct cvm_snp_boot_hashes *hashes, struct cvm_plan *plan,
			      struct cvm_error *err);

#define CVM_SNP_PAGE_INFO_SIZE 0x70

/* The 112-byte PAGE_INFO record; contents NULL means 48 zero bytes. */
void cvm_snp_page_info_encode(const uint8_t cur[CVM_SNP_DIGEST_SIZE],
			      const uint8_t contents[CVM_SNP_DIGEST_SIZE], uint8_t page_type,
			      uint64_t gpa, uint8_t out[CVM_SNP_PAGE_INFO_SIZE]);

/* The launch digest after the firmware pages alone (the split computation's seed, spec 4). */
int cvm_snp_firmware_digest(const struct cvm_firmware *fw, uint8_t out[CVM_SNP_DIGEST_SIZE],
			    struct cvm_error *err);
/* The same with the page hashes on pool (NULL: this thread). */
int cvm_snp_firmware_digest_ex(const struct cvm_firmware *fw, struct cvm_pool *pool,
			       uint8_t out[CVM_SNP_DIGEST_SIZE], struct cvm_error *err);

/* ---- Modes, full measurement, matrix (sev/snp_measure.c, sev/snp_legacy.c) ---------------- */

enum cvm_sev_mode {
	CVM_SEV_MODE_SNP = 0, /* SEV-SNP PAGE_INFO chain, SHA-384 */
	CVM_SEV_MODE_SEV,     /* legacy SEV: SHA-256 of firmware || hashes table */
	CVM_SEV_MODE_SEVES,   /* legacy SEV-ES: ... || VMSA of every vCPU (sev_features 0) */
};

/* "snp", "sev", "seves" */
int cvm_sev_mode_parse(const char *name, enum cvm_sev_mode *out);
const char *cvm_sev_mode_name(enum cvm_sev_mode mode);

/*
 * Legacy SEV / SEV-ES launch digest (32 bytes, spec 6).  hashes NULL: no direct boot; with
 * hashes the firmware must carry a non-zero SEV hash-table location.
 */
int cvm_sev_legacy_digest(enum cvm_sev_mode mode, const struct cvm_policy *policy,
			  const struct cvm_firmware *fw, const struct cvm_snp_boot_hashes *hashes,
			  uint8_t out[32], struct cvm_error *err);

struct cvm_progress; /* cvmkit/progress.h */

struct cvm_snp_measure_opts {
	enum cvm_sev_mode mode;
	/* optional: bytes hashed of the kernel and initrd files ("hashing initrd.img"), reported
	   from the hashing threads; NULL reports nothing */
	const struct cvm_progress *progress;
	/* optional, borrowed: the firmware and other page hashes on this pool (NULL: this thread) */
	struct cvm_pool *pool;
};

/* cvm_snp_measure() in a given mode (opts NULL: SNP). */
int cvm_snp_measure_ex(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		       const struct cvm_snp_measure_opts *opts, struct cvm_measurement **out,
		       struct cvm_error *err);

/*
 * What an offline measurement accepts but a launch cannot honour: a seeded snp.firmware_digest
 * (the launch loads the firmware, so the PSP measures its real pages).  0 or -EINVAL.
 */
int cvm_snp_launch_policy_check(const struct cvm_policy *policy, struct cvm_error *err);

/*
 * The measurement document of a launch, without hashing its inputs again: the plan of policy
 * over fw and the launch's boot hashes (NULL: no direct boot) is rebuilt and compared op by op
 * with launched (cvm_plan_compare), so the digest of the launched operations is the offline
 * one.  with_digest runs that plan through the PAGE_INFO model (hashing the firmware pages: an
 * ID block must sign the digest before the launch); without it the document's digest_len is 0
 * and the caller gives it the digest its lockstep model computed over launched.  Refuses what
 * cvm_snp_launch_policy_check() refuses.  *out is the caller's.
 */
int cvm_snp_measure_launch(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			   const struct cvm_snp_boot_hashes *hashes, const struct cvm_plan *launched,
			   bool with_digest, struct cvm_measurement **out, struct cvm_error *err);

/* One digest of a matrix run. */
struct cvm_snp_matrix_row {
	uint32_t vcpus;
	const char *cpu;    /* borrowed from the cpus argument (NULL: the policy's own vCPU type) */
	uint32_t signature; /* the RDX value of the VMSAs */
	uint8_t digest[CVM_SNP_DIGEST_SIZE];
};

/*
 * The SNP digest for every combination of vCPU count and CPU model (rows CPU-major, counts in
 * the given order), hashing firmware, kernel and initrd once.  cpus[i] NULL means the policy's
 * own cpus.model/signature.  *rows is malloc'd and owned by the caller.
 */
int cvm_snp_measure_matrix(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			   const uint32_t *vcpu_counts, size_t ncounts, const char *const *cpus,
			   size_t ncpus, struct cvm_snp_matrix_row **rows, size_t *nrows,
			   struct cvm_error *err);

/*
 * The same with the direct-boot hashes already computed (a search over many policies hashes
 * the kernel, initrd and command line once): hashes non-NULL measures a direct boot with them
 * whatever policy->boot says; NULL reads the policy's boot files as above.
 */
int cvm_snp_measure_matrix_hashed(const struct cvm_policy *policy, const struct cvm_firmware *fw,
				  const struct cvm_snp_boot_hashes *hashes,
				  const uint32_t *vcpu_counts, size_t ncounts,
				  const char *const *cpus, size_t ncpus,
				  struct cvm_snp_matrix_row **rows, size_t *nrows,
				  struct cvm_error *err);

/* The matrix's optional inputs (an all-zero struct: none). */
struct cvm_snp_matrix_opts {
	const struct cvm_snp_boot_hashes *hashes; /* as cvm_snp_measure_matrix_hashed() */
	struct cvm_pool *pool;                    /* the page hashes on it (NULL: this thread) */
};

/* cvm_snp_measure_matrix_hashed() with opts (NULL: none). */
int cvm_snp_measure_matrix_ex(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			      const struct cvm_snp_matrix_opts *opts, const uint32_t *vcpu_counts,
			      size_t ncounts, const char *const *cpus, size_t ncpus,
			      struct cvm_snp_matrix_row **rows, size_t *nrows,
			      struct cvm_error *err);

/* ---- CPUID page (sev/snp_cpuid.c) -------------------------------------------------------- */
/*
 * The SEV-SNP CPUID page: the table of CPUID results the VMM hands the PSP in the metadata's
 * CPUID section (LAUNCH_UPDATE page type CPUID).  The PSP checks each entry against what the
 * hardware allows and the guest firmware then answers CPUID from it, so an empty page makes an
 * SNP guest unable to boot.  Its contents are not part of the launch digest.
 *
 * Layout: u32 count, u32 reserved, u64 reserved, then up to 64 entries of 48 bytes
 * {u32 eax_in, u32 ecx_in, u64 xcr0_in, u64 xss_in, u32 eax, ebx, ecx, edx, u64 reserved}.
 */

#define CVM_SNP_CPUID_MAX_ENTRIES 64u
#define CVM_SNP_CPUID_ENTRY_SIZE 48u
#define CVM_SNP_CPUID_HEADER_SIZE 16u

/* One CPUID leaf as a vCPU is given it (what cvmkit uses of a KVM_SET_CPUID2 entry). */
struct cvm_cpuid_leaf {
	uint32_t function, index;
	bool index_significant; /* the leaf has sub-leaves (KVM_CPUID_FLAG_SIGNIFCANT_INDEX) */
	uint32_t eax, ebx, ecx, edx;
};

/*
 * Fill page (4096 bytes, zeroed here first) with the CPUID table of the n leaves a vCPU was
 * given, as QEMU does: the input ECX only for leaves with a significant index, and for XSAVE
 * leaf 0xD sub-leaves 0 and 1 the state of XCR0 = 1 (x87 only) with EBX = 0x240, the XSAVE area
 * size the firmware starts with.  More than 64 leaves is -E2BIG.
 */
int cvm_snp_cpuid_page_build(const struct cvm_cpuid_leaf *leaves, size_t n, uint8_t *page,
			     struct cvm_error *err);

/* A register of a CPUID result. */
enum cvm_cpuid_reg { CVM_CPUID_EAX, CVM_CPUID_EBX, CVM_CPUID_ECX, CVM_CPUID_EDX };

/*
 * value with the feature bits cleared that the SNP firmware refuses in a guest's CPUID, as QEMU's
 * sev_snp_mask_cpuid_features clears them before the vCPUs and the CPUID page get them:
 * leaf 1 ECX TSC_DEADLINE (24); leaf 7.0 EBX TSC_ADJUST (1); leaf 7.0 EDX SPEC_CTRL (26),
 * STIBP (27), FLUSH_L1D (28), ARCH_CAPABILITIES (29), CORE_CAPABILITY (30), SSBD (31); leaf
 * 0x80000008 EBX VIRT_SSBD (25).  Every other register is returned unchanged.
 */
uint32_t cvm_snp_cpuid_mask(uint32_t function, uint32_t index, enum cvm_cpuid_reg reg,
			    uint32_t value);

/*
 * One difference between the CPUID page the VMM provided and the one the PSP wrote back when it
 * rejected the page (SNP_LAUNCH_UPDATE: EIO, firmware status INVALID_PARAM): the entry's
 * function (eax_in) and index (ecx_in) as provided, the field ("count", "eax_in", "ecx_in",
 * "xcr0_in", "xss_in", "eax", "ebx", "ecx", "edx") and both values.
 */
struct cvm_snp_cpuid_mismatch {
	uint32_t function, index;
	const char *field; /* a constant string */
	uint64_t provided, expected;
};

/*
 * Compare two CPUID pages (4096 bytes each) entry by entry, register by register, in page order.
 * Writes at most max differences to out (NULL with max 0 counts them) and returns how many
 * there are.  A different count is the first difference; entries are compared up to the smaller
 * count (at most 64).
 */
size_t cvm_snp_cpuid_page_compare(const uint8_t *provided, const uint8_t *expected,
				  struct cvm_snp_cpuid_mismatch *out, size_t max);

/*
 * The differences as one line, QEMU's words per register: "function 0x7 index 0x0 edx: provided
 * 0xfc000010, expected 0x00000010; ...", "count: provided 9, expected 8", ending with "; and N
 * more" when total exceeds n or the text does not fit in len.  Returns what snprintf would.
 */
int cvm_snp_cpuid_mismatch_text(const struct cvm_snp_cpuid_mismatch *m, size_t n, size_t total,
				char *out, size_t len);

/* ---- ID block and ID auth (sev/snp_id.c) ------------------------------------------------- */
/*
 * spec/snp-measurement.md section 7.  Keys are ECDSA P-384 PEM files (private keys for signing;
 * a digest can also be taken of a public-key PEM).  The ID block binds the launch digest, family
 * and image IDs, guest SVN and guest policy; the ID auth structure carries its signature by the
 * ID key and, with an author key, the ID key's signature by the author key.  The signatures are
 * randomized ECDSA, so two builds differ in id_auth but never in id_block or the digests.
 */

#define CVM_SNP_ID_BLOCK_SIZE 0x60
#define CVM_SNP_ID_AUTH_SIZE 0x1000
#define CVM_SNP_PUBKEY_SIZE 0x404 /* u32 curve (2 = P-384), Qx[72] LE, Qy[72] LE, zero */

/* Offsets inside the ID auth structure. */
#define CVM_SNP_ID_AUTH_ID_BLOCK_SIG 0x040
#define CVM_SNP_ID_AUTH_ID_KEY 0x240
#define CVM_SNP_ID_AUTH_ID_KEY_SIG 0x680
#define CVM_SNP_ID_AUTH_AUTHOR_KEY 0x880

/*
 * What SNP_LAUNCH_FINISH takes (id_block, id_auth, auth_key_en = has_author_key) and the two
 * digests an attestation report will show as ID_KEY_DIGEST / AUTHOR_KEY_DIGEST (SHA-384 of the
 * 0x404-byte public-key structures).  Plain data, no ownership.
 */
struct cvm_snp_id_result {
	uint8_t id_block[CVM_SNP_ID_BLOCK_SIZE];
	uint8_t id_auth[CVM_SNP_ID_AUTH_SIZE];
	uint8_t id_key_digest[CVM_SNP_DIGEST_SIZE];
	bool has_author_key;
	uint8_t author_key_digest[CVM_SNP_DIGEST_SIZE]; /* zero without an author key */
};

/*
 * Build the ID block for launch digest ld and guest policy (the u64 of cvm_snp_policy_value),
 * and sign it with in->id_key_path (and in->author_key_path when set).  Errors: in->present
 * false, a key file that is missing or not an EC private key, a curve other than P-384.
 * *out is written only on success.
 */
int cvm_snp_id_build(const uint8_t ld[CVM_SNP_DIGEST_SIZE], const struct cvm_snp_id_block_input *in,
		     uint64_t policy, struct cvm_snp_id_result *out, struct cvm_error *err);

/*
 * Give an SNP plan its ID block and ID auth for SNP_LAUNCH_FINISH: built for the launch digest
 * (the offline measurement of the same plan, which the ID block signs) and the plan's guest
 * policy, signed with in's keys.  The ID auth buffer is owned by the plan.
 */
int cvm_snp_plan_attach_id_block(struct cvm_plan *plan, const struct cvm_snp_id_block_input *in,
				 const uint8_t digest[CVM_SNP_DIGEST_SIZE], struct cvm_error *err);

/*
 * The 0x404-byte public-key structure and its SHA-384 (ID_KEY_DIGEST / AUTHOR_KEY_DIGEST) of the
 * P-384 key in a PEM file (private or public key).  Either output may be NULL.
 */
int cvm_snp_key_from_pem(const char *path, uint8_t key[CVM_SNP_PUBKEY_SIZE],
			 uint8_t digest[CVM_SNP_DIGEST_SIZE], struct cvm_error *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
