/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM policy: one structure, read from JSON (for people) or CBOR (for control planes; the same
 * map with text keys).  docs/policy.md documents every field.
 *
 * Ownership: a struct cvm_policy is created by cvm_policy_load()/cvm_policy_parse() and owns all
 * its strings and arrays; cvm_policy_free() releases it (NULL is fine).  Paths inside it are
 * already resolved against the policy file's folder.
 */
#ifndef CVMKIT_POLICY_H
#define CVMKIT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/*
 * The most vCPUs a policy may ask for: KVM's own ceiling on x86 (KVM_MAX_VCPUS is the kernel's
 * CONFIG_KVM_MAX_NR_VCPUS, 1024 by default and at most 4096).  A host built with a lower limit
 * refuses the extra vCPUs when they are created.
 */
#define CVM_MAX_VCPUS 4096u

/*
 * Guest RAM as cvmkit's launcher lays it out: [0, min(memory.size, CVM_GUEST_LOW_RAM_END)) and
 * the rest from 4 GiB up (the firmware is mapped just below 4 GiB).
 */
#define CVM_GUEST_LOW_RAM_END 0xC0000000ull
#define CVM_GUEST_HIGH_RAM_START 0x100000000ull

enum cvm_tee {
	CVM_TEE_NONE = 0, /* plain KVM VM (the only kind the development machines offer) */
	CVM_TEE_SNP,
	CVM_TEE_TDX,
};

/* The VMM whose launch behaviour (page types, vCPU reset state) the digest models. */
enum cvm_vmm {
	CVM_VMM_QEMU = 0,
	CVM_VMM_EC2,
	CVM_VMM_GCE,
	CVM_VMM_CVMKIT, /* our own launcher; measures exactly like QEMU */
};

enum cvm_prefault_mode {
	CVM_PREFAULT_OFF = 0,
	CVM_PREFAULT_BEST_EFFORT, /* EOPNOTSUPP is reported as a skip */
	CVM_PREFAULT_REQUIRED,    /* EOPNOTSUPP is an error */
};

enum cvm_tdx_order {
	CVM_TDX_ORDER_SINGLE_PASS = 0, /* ADD p, EXTEND p x16, ADD p+1 ... (upstream KVM/QEMU) */
	CVM_TDX_ORDER_TWO_PASS,        /* all ADDs of a section, then its EXTENDs (QEMU 8.x TDX) */
};

struct cvm_prefault_range {
	uint64_t gpa;
	uint64_t size;
};

/* SEV-SNP guest policy bits (spec/snp-report.md section 2). */
struct cvm_snp_guest_policy {
	uint8_t abi_major;
	uint8_t abi_minor;
	bool smt;
	bool migrate_ma;
	bool debug;
	bool single_socket;
	bool cxl_allow;
	bool mem_aes_256_xts;
	bool rapl_dis;
	bool ciphertext_hiding;
	bool page_swap_disable;
};

struct cvm_snp_id_block_input {
	bool present;
	uint8_t family_id[16];
	uint8_t image_id[16];
	uint32_t guest_svn;
	char *id_key_path;     /* PEM, ECDSA P-384 private key */
	char *author_key_path; /* PEM, optional (NULL: no author key) */
};

/*
 * The certificates served to the guest's extended attestation requests (KVM_EXIT_SNP_REQ_CERTS,
 * docs/snp-launch.md): from the endorsement cache when it holds this host's VCEK and chain
 * (cache), else from these files (DER or PEM, served as they are).
 */
struct cvm_policy_snp_certs {
	bool present;            /* snp.certificates given: the launch enables the exit */
	bool cache;              /* try the endorsement cache first (default true) */
	bool vlek;               /* the files are a VLEK and its ASVK, not a VCEK and its ASK */
	char *key_path;          /* VCEK or VLEK; NULL when not given */
	char *intermediate_path; /* ASK or ASVK */
	char *ark_path;          /* ARK */
};

struct cvm_policy_snp {
	struct cvm_snp_guest_policy policy;
	uint64_t guest_features;       /* VMSA sev_features; default 0x1 */
	bool has_host_data;
	uint8_t host_data[32];
	bool has_firmware_digest;      /* launch digest after the firmware pages (split computation) */
	uint8_t firmware_digest[48];
	struct cvm_snp_id_block_input id_block;
	/* The CPUID page and the SEV features by name (docs/policy.md "SEV features"). */
	bool cpuid_retry;              /* PSP rejected the CPUID page: retry once with its values */
	bool features_named;           /* snp.features given: guest_features is written back by name */
	uint32_t tsc_khz;              /* SecureTSC: the guest's TSC in kHz; 0 = the host's */
	struct cvm_policy_snp_certs certs;
};

/* The edk2 (OVMF) event layout of the RTMRs (docs/tdx-rtmr.md). */
enum cvm_tdx_fw_gen {
	CVM_TDX_FW_EDK2_PRE_202411 = 0, /* "<=202408" (Debian 12 ovmf 2022.11) */
	CVM_TDX_FW_EDK2_202411,         /* "202411..202502": ReadyToBoot separator in RTMR1 */
	CVM_TDX_FW_EDK2_202505,         /* ">=202505": fw_cfg and SMBIOS events, two boot entries */
};

/* One RTMR0 input blob: a file (path) or the SHA-384 the firmware extends for it. */
struct cvm_policy_tdx_blob {
	char *path;                    /* NULL: not given as a file */
	bool has_sha384;
	uint8_t sha384[48];
};

/* The SecureBoot variable as the firmware measures it. */
enum cvm_tdx_secure_boot {
	CVM_TDX_SB_AUTO = 0,      /* from the variable store: PK enrolled -> enabled, else unsupported */
	CVM_TDX_SB_UNSUPPORTED,   /* a build without Secure Boot: the variable is absent (empty) */
	CVM_TDX_SB_DISABLED,      /* SecureBoot = 0 */
	CVM_TDX_SB_ENABLED,       /* SecureBoot = 1 */
};

/* One Boot#### load option (EFI_LOAD_OPTION fields). */
struct cvm_policy_boot_entry {
	uint16_t number;
	uint32_t attributes;           /* default 1 (LOAD_OPTION_ACTIVE) */
	char *description;             /* ASCII */
	uint8_t *device_path;          /* device path bytes, ending with the end node */
	size_t device_path_len;
	uint8_t *optional_data;
	size_t optional_data_len;
};

/* One fw_cfg item edk2 >= 202505 measures into RTMR0 (name as edk2 lists it, raw bytes). */
struct cvm_policy_fw_cfg_item {
	char *name;
	uint8_t *data;
	size_t len;
};

/* RTMR0 inputs beyond the firmware image and the TD HOB; every member optional. */
struct cvm_policy_tdx_rtmr {
	bool has_fw_gen;
	enum cvm_tdx_fw_gen fw_gen;    /* default CVM_TDX_FW_EDK2_PRE_202411 */
	struct cvm_policy_tdx_blob acpi[3]; /* etc/table-loader, etc/acpi/rsdp, etc/acpi/tables */
	struct cvm_policy_tdx_blob cfv;     /* path: an OVMF variable-store file; or the digest */
	enum cvm_tdx_secure_boot secure_boot;
	bool has_boot_order;
	uint16_t *boot_order;
	size_t nboot_order;
	struct cvm_policy_boot_entry *boot_entries;
	size_t nboot_entries;
	bool has_smbios_sha384;        /* >= 202505: the SMBIOS handoff-table event's digest */
	uint8_t smbios_sha384[48];
	bool has_fw_cfg;               /* >= 202505: the fw_cfg items (default: BootMenu 0) */
	struct cvm_policy_fw_cfg_item *fw_cfg;
	size_t nfw_cfg;
};

struct cvm_policy_tdx {
	bool debug;                    /* TD attribute bit 0 */
	bool sept_ve_disable;          /* bit 28; default true */
	bool pks;                      /* bit 30 */
	bool perfmon;                  /* bit 63 */
	uint64_t xfam;                 /* default 0xe7 */
	uint8_t mrconfigid[48];
	uint8_t mrowner[48];
	uint8_t mrownerconfig[48];
	enum cvm_tdx_order measure_order;
	bool honour_page_aug;          /* skip PAGE.ADD of PAGE_AUG sections; default false (as QEMU) */
	struct cvm_policy_tdx_rtmr rtmr; /* RTMR inputs (docs/tdx-rtmr.md) */
};

/*
 * The verifier rules of a policy (its "verify" section, docs/policy.md): what `cvmkit verify
 * --policy` applies beside the measurement it computes from the same policy.  All zero is the
 * secure default: debug, MIGRATE_MA, CXL_ALLOW and TD_ATTRIBUTES bits outside
 * DEBUG/SEPT_VE_DISABLE/PKS/PERFMON refused, VMPL 0 only, COMMITTED firmware never above the
 * current one; each refusal is relaxed by name (CVM_VERIFY_ALLOW_*).  Every other rule is off
 * until set.  The struct owns no heap.
 */
#define CVM_VERIFY_MAX_KEYS 16u /* entries of each allow-list */

enum cvm_verify_allow {
	CVM_VERIFY_ALLOW_DEBUG = 1u << 0,                /* "debug" */
	CVM_VERIFY_ALLOW_MIGRATE_MA = 1u << 1,           /* "migrate_ma" */
	CVM_VERIFY_ALLOW_CXL = 1u << 2,                  /* "cxl_allow" */
	CVM_VERIFY_ALLOW_TD_ATTRIBUTES = 1u << 3,        /* "td_attributes_reserved" */
};

/* A minimum TCB by component (each compared alone); fmc counts on Turin only. */
struct cvm_verify_tcb_min {
	bool present;
	uint8_t bootloader, tee, snp, microcode, fmc;
};

struct cvm_verify_digests {
	size_t count;
	uint8_t digest[CVM_VERIFY_MAX_KEYS][48];
};

struct cvm_verify_rules {
	uint32_t allow;            /* CVM_VERIFY_ALLOW_* */
	bool refuse_smt;           /* SNP POLICY.SMT refused */
	bool require_committed;    /* SNP: COMMITTED TCB and version equal the current ones (no
				      provisional firmware) */
	/* SEV-SNP */
	uint32_t vmpl_mask;        /* bit n allows VMPL n; 0 = VMPL 0 only */
	uint32_t min_report_version;                  /* 0 = any */
	bool has_min_abi;          /* guest POLICY ABI_MAJOR.ABI_MINOR >= */
	uint8_t min_abi_major, min_abi_minor;
	bool has_min_firmware;     /* CURRENT major.minor.build >= */
	uint8_t min_fw_major, min_fw_minor, min_fw_build;
	uint64_t require_policy;   /* guest POLICY bits that must be set (CVM_SNP_POLICY_* bits) */
	bool has_platform_info_mask; /* PLATFORM_INFO may set only these bits */
	uint64_t platform_info_mask;
	uint32_t min_guest_svn;    /* 0 = any */
	uint64_t min_launch_mit_vector, min_current_mit_vector; /* bits a v5 report must set; 0 = any */
	struct cvm_verify_tcb_min min_reported_tcb, min_current_tcb, min_committed_tcb,
		min_launch_tcb;
	bool has_family_id, has_image_id, has_report_id, has_report_id_ma, has_chip_id;
	uint8_t family_id[16], image_id[16], report_id[32], report_id_ma[32], chip_id[64];
	bool require_author_key;   /* AUTHOR_KEY_EN must be 1 */
	struct cvm_verify_digests trusted_id_keys;     /* ID_KEY_DIGEST must be one (or signed by a
							  trusted author key); empty = unchecked */
	struct cvm_verify_digests trusted_author_keys; /* AUTHOR_KEY_DIGEST values trusted */
	/* TDX */
	bool require_sept_ve_disable;
	struct cvm_verify_digests mrseam, mrtd;        /* allow-lists; empty = unchecked */
	bool has_min_qe_svn, has_min_pce_svn, has_qe_vendor_id;
	uint16_t min_qe_svn, min_pce_svn;
	uint8_t qe_vendor_id[16];
	bool has_min_tee_tcb_svn, has_min_tee_tcb_svn2;
	uint8_t min_tee_tcb_svn[16], min_tee_tcb_svn2[16];
};

/*
 * Names of the relaxations (CVM_VERIFY_ALLOW_*: "debug", "migrate_ma", "cxl_allow",
 * "td_attributes_reserved") and of the SNP guest POLICY bits a rule
 * may require ("single_socket", "mem_aes_256_xts", "rapl_dis", "ciphertext_hiding",
 * "page_swap_disable").  *_parse returns the bit, 0 when the name is unknown; *_name returns
 * the name of one bit, NULL for others.
 */
uint32_t cvm_policy_verify_allow_parse(const char *name);
const char *cvm_policy_verify_allow_name(uint32_t bit);
uint64_t cvm_policy_verify_bit_parse(const char *name);
const char *cvm_policy_verify_bit_name(uint64_t bit);

struct cvm_policy {
	uint32_t version;              /* 1 */
	char *name;
	enum cvm_tee tee;
	enum cvm_vmm vmm;

	struct {
		uint32_t count;        /* default 1 */
		char *model;           /* CPU model name (EPYC-Milan, ...) or NULL */
		bool has_signature;    /* raw CPUID(1).EAX, or derived from family/model/stepping */
		uint32_t signature;
	} cpus;

	uint64_t memory_size;          /* bytes, page multiple; default 2 GiB */

	struct {
		char *path;            /* resolved path of the firmware image (NULL: none) */
		bool has_sha256;
		uint8_t sha256[32];    /* pin: the image must hash to this */
	} firmware;

	struct {
		char *kernel;          /* NULL: no direct boot */
		char *initrd;          /* NULL: none */
		char *cmdline;         /* NULL: none ("" is an empty command line) */
	} boot;

	struct cvm_policy_snp snp;
	struct cvm_policy_tdx tdx;

	struct {
		enum cvm_prefault_mode mode;
		struct cvm_prefault_range *ranges;
		size_t nranges;
	} prefault;

	bool allow_debug;              /* debug guests are refused unless this is set */

	bool has_verify;               /* the "verify" section was given (written back) */
	struct cvm_verify_rules verify;

	char *base_dir;                /* folder relative paths were resolved against */
};

/*
 * Every problem found in a policy: the key path and what was expected.  Owned by the caller of
 * cvm_policy_parse(); free with cvm_policy_problems_free().
 */
struct cvm_policy_problem {
	char *path;    /* "snp.policy.abi_major" */
	char *message; /* "expected 0..255" */
};

struct cvm_policy_problems {
	struct cvm_policy_problem *items;
	size_t count; /* at most CVM_POLICY_MAX_PROBLEMS + 1: the last then says more follow */
};

#define CVM_POLICY_MAX_PROBLEMS 100

enum cvm_policy_format {
	CVM_POLICY_JSON = 0,
	CVM_POLICY_CBOR,
};

/* Defaults of every field; base_dir NULL means the current folder. */
void cvm_policy_init(struct cvm_policy *p);

/*
 * Parse a policy from bytes (format detected from the content).  base_dir resolves relative
 * paths.  On failure returns -EINVAL, fills problems (if non-NULL) with every problem found, and
 * err with a one-line summary naming the first.  *out is written only on success.
 */
int cvm_policy_parse(const uint8_t *data, size_t len, const char *base_dir,
		     struct cvm_policy **out, struct cvm_policy_problems *problems,
		     struct cvm_error *err);

/* Read and parse a file; relative paths resolve against the file's folder. */
int cvm_policy_load(const char *path, struct cvm_policy **out,
		    struct cvm_policy_problems *problems, struct cvm_error *err);

/*
 * Encode as JSON (pretty, ending in a newline) or CBOR.  *out is malloc'd and owned by the
 * caller; *out and *out_len are written only on success.
 */
int cvm_policy_encode(const struct cvm_policy *p, enum cvm_policy_format fmt, uint8_t **out,
		      size_t *out_len, struct cvm_error *err);

/*
 * Validate a policy built or changed in code (e.g. a command line's overrides applied to a
 * loaded one) with exactly the rules the reader applies to a document: it is written out and
 * read back.  0, or -EINVAL with every problem in problems (if non-NULL) and err naming the
 * first, as cvm_policy_parse; -ENOMEM.
 */
int cvm_policy_validate(const struct cvm_policy *p, struct cvm_policy_problems *problems,
			struct cvm_error *err);

/* True when [gpa, gpa + size) lies inside the guest RAM of a policy with mem_size bytes. */
bool cvm_policy_range_in_ram(uint64_t mem_size, uint64_t gpa, uint64_t size);

/* CPUID(1).EAX from family/model/stepping, extended encoding (spec/snp-measurement.md 3.3). */
uint32_t cvm_cpu_signature(uint32_t family, uint32_t model, uint32_t stepping);

/*
 * The one check of the firmware pin: 0 when the policy pins no SHA-256 or pins sha256 (the hash
 * of the bytes that will be used); otherwise -EINVAL, "firmware.sha256: PATH hashes to X, the
 * policy pins Y".
 */
int cvm_policy_firmware_pin_check(const struct cvm_policy *p, const uint8_t sha256[32],
				  struct cvm_error *err);

/* The same for the file at firmware.path as it is now (policy check; a launch checks its bytes). */
int cvm_policy_check_firmware_pin(const struct cvm_policy *p, struct cvm_error *err);

/* The SNP guest policy as the u64 of SNP_LAUNCH_START (reserved bit 17 set). */
uint64_t cvm_snp_policy_value(const struct cvm_snp_guest_policy *gp);

/*
 * The VMSA SEV_FEATURES bits by name (spec/snp-measurement.md 3.2, AMD APM vol. 2 table 15-38):
 * 0 SNPActive, 1 vTOM, 2 ReflectVC, 3 RestrictedInjection, 4 AlternateInjection, 5 DebugSwap,
 * 6 PreventHostIBS, 7 BTBIsolation, 8 VmplSSS, 9 SecureTSC, 10 VmgexitParameter,
 * 12 IbsVirtualization, 14 VmsaRegProt, 15 SmtProtection, 16 SecureAVIC.  The name of a bit
 * (a constant string) or NULL; the bit of a name (exact spelling) or -1.
 */
#define CVM_SEV_FEATURE_SNP_ACTIVE (1ull << 0)
#define CVM_SEV_FEATURE_DEBUG_SWAP (1ull << 5)
#define CVM_SEV_FEATURE_SECURE_TSC (1ull << 9)
#define CVM_SEV_FEATURE_SECURE_AVIC (1ull << 16)
const char *cvm_sev_feature_name(unsigned bit);
int cvm_sev_feature_bit(const char *name);

/*
 * features as text: names joined by sep, an unnamed bit as "bit N" ("DebugSwap, SecureTSC");
 * "none" for 0.  Returns what snprintf would.
 */
int cvm_sev_features_text(uint64_t features, const char *sep, char *out, size_t len);

/* The TD attributes u64 from the policy's tdx block. */
uint64_t cvm_tdx_attributes_value(const struct cvm_policy_tdx *t);

const char *cvm_tee_name(enum cvm_tee tee);
const char *cvm_vmm_name(enum cvm_vmm vmm);

void cvm_policy_free(struct cvm_policy *p);
void cvm_policy_problems_free(struct cvm_policy_problems *problems);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
