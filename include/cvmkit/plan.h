/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launch plan: the exact, ordered list of launch operations that the vendor planners build
 * from a policy and the firmware's metadata, and that two kinds of executor consume through one
 * ops table (struct cvm_backend_ops): the measurement models (sev/, tdx/, and the default VM's
 * plain model in launcher/default_vm.c: what the hardware hashes) and the KVM backends
 * (launcher/kvm_*.c: the ioctls).  Running both in lockstep makes the
 * emitted digest the digest of exactly the operations issued.
 *
 * Ownership: a plan owns its op array, its pre-fault ranges and every buffer registered with
 * cvm_plan_own() (VMSA pages, the kernel-hashes page, the TD HOB, ...).  Op data may also point into inputs the caller
 * keeps alive for the plan's lifetime (the mapped firmware image): the planner documents which.
 */
#ifndef CVMKIT_PLAN_H
#define CVMKIT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/error.h>
#include <cvmkit/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* SNP page types of SNP_LAUNCH_UPDATE / PAGE_INFO (spec/snp-measurement.md section 1). */
enum cvm_snp_page_type {
	CVM_SNP_PAGE_NONE = 0, /* not an SNP op */
	CVM_SNP_PAGE_NORMAL = 1,
	CVM_SNP_PAGE_VMSA = 2,
	CVM_SNP_PAGE_ZERO = 3,
	CVM_SNP_PAGE_UNMEASURED = 4,
	CVM_SNP_PAGE_SECRETS = 5,
	CVM_SNP_PAGE_CPUID = 6,
};

enum cvm_op_kind {
	CVM_OP_LOAD, /* place bytes at a GPA (SNP LAUNCH_UPDATE, TDX INIT_MEM_REGION, plain copy) */
	CVM_OP_VCPU, /* one vCPU's initial register state (SNP: its VMSA, measured at LAUNCH_FINISH) */
};

/* CVM_OP_LOAD flags */
#define CVM_OP_MR_EXTEND (1u << 0)   /* TDX: TDH.MR.EXTEND every 256 bytes of the op */
#define CVM_OP_NO_PAGE_ADD (1u << 1) /* TDX: PAGE_AUG honoured, no TDH.MEM.PAGE.ADD */
#define CVM_OP_FIRMWARE (1u << 2)    /* the firmware image itself (skipped when seeded) */

struct cvm_segment {
	uint16_t selector;
	uint16_t attrib; /* VMSA-style packed attributes (e.g. 0x9b for a code segment) */
	uint32_t limit;
	uint64_t base;
};

/* Initial architectural state of a vCPU, the one source for VMSA pages and KVM_SET_[S]REGS. */
struct cvm_vcpu_reset {
	struct cvm_segment es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;
	uint64_t efer, cr0, cr3, cr4, dr6, dr7, rflags, rip, rsp, rdx, rsi, rbp;
	uint64_t g_pat, xcr0, sev_features;
	uint32_t mxcsr;
	uint16_t x87_fcw;
};

struct cvm_plan_op {
	enum cvm_op_kind kind;
	const char *label;       /* "firmware", "SNP_SEC_MEM", ... (static or owned by the plan) */
	uint64_t gpa;
	uint64_t size;           /* bytes, a multiple of 4 KiB */
	const uint8_t *data;     /* source bytes; NULL means zero pages */
	size_t data_len;         /* <= size; bytes past data_len are zero */
	uint8_t snp_page_type;   /* enum cvm_snp_page_type */
	uint32_t flags;          /* CVM_OP_* */
	uint32_t vcpu_index;     /* CVM_OP_VCPU */
	const struct cvm_vcpu_reset *vcpu; /* CVM_OP_VCPU; owned by the plan */
};

struct cvm_plan_snp {
	uint64_t policy;         /* SNP_LAUNCH_START guest policy */
	uint64_t vmsa_features;  /* KVM_SEV_INIT2 vmsa_features (sev_features minus SNPActive) */
	bool has_initial_digest; /* model starts from this digest and skips CVM_OP_FIRMWARE ops */
	uint8_t initial_digest[48];
	bool id_block_en, auth_key_en;
	uint8_t id_block[96];
	uint8_t *id_auth;        /* 4096 bytes, owned by the plan, NULL without an ID block */
	uint8_t host_data[32];
	bool cpuid_retry;        /* retry a rejected CPUID page once with the PSP's corrections */
	uint32_t tsc_khz;        /* SecureTSC: KVM_SET_TSC_KHZ on the VM before LAUNCH_START; 0 none */
};

struct cvm_plan_tdx {
	uint64_t attributes, xfam;
	uint8_t mrconfigid[48], mrowner[48], mrownerconfig[48];
	uint64_t td_hob_gpa;     /* initial RCX of every vCPU */
	enum cvm_tdx_order order;
};

/*
 * What to pre-fault after finalisation (KVM_PRE_FAULT_MEMORY, DESIGN.md "Pre-fault"): the
 * ranges, or every RAM region when there are none.  Owned by the plan.
 */
struct cvm_plan_prefault {
	enum cvm_prefault_mode mode;
	struct cvm_prefault_range *ranges;
	size_t nranges;
};

struct cvm_plan {
	enum cvm_tee tee;
	enum cvm_vmm vmm;
	uint32_t nvcpus;
	uint64_t mem_size;
	struct cvm_plan_prefault prefault;
	struct cvm_plan_op *ops;
	size_t nops, ops_cap;
	struct cvm_plan_snp snp;
	struct cvm_plan_tdx tdx;
	void **owned;
	size_t nowned, owned_cap;
};

/* A zeroed plan (no allocation). */
void cvm_plan_init(struct cvm_plan *plan, enum cvm_tee tee);

/*
 * The fields every planner takes from the policy alike: VMM profile, vCPU count, memory size and
 * the pre-fault mode and ranges (copied), so that a VMM executing the plan needs no policy.
 * Returns 0 or -ENOMEM.
 */
int cvm_plan_take_policy(struct cvm_plan *plan, const struct cvm_policy *policy,
			 struct cvm_error *err);

/* Append a copy of op.  Returns 0 or -ENOMEM. */
int cvm_plan_add(struct cvm_plan *plan, const struct cvm_plan_op *op, struct cvm_error *err);

/* Hand a malloc'd buffer to the plan; it is freed with the plan (also on failure). */
int cvm_plan_own(struct cvm_plan *plan, void *buf, struct cvm_error *err);

/* Free everything the plan owns and reset it; the struct itself is the caller's. */
void cvm_plan_release(struct cvm_plan *plan);

/* Total bytes the plan loads (sum of CVM_OP_LOAD sizes). */
uint64_t cvm_plan_load_bytes(const struct cvm_plan *plan);

/*
 * 0 when a and b hash alike in every measurement model and launch the same guest: the same
 * TEE, vCPU count and memory size, the same ops in the same order (kind, GPA, size, page type,
 * flags, vCPU index and bytes), the same SNP initial digest and, for a TD, the same
 * TDH.MNG.INIT fields, TD HOB address and measure order; otherwise -EPROTO naming the first
 * difference.  Bytes two ops share by address are not compared again.
 */
int cvm_plan_compare(const struct cvm_plan *a, const struct cvm_plan *b, struct cvm_error *err);

/* "NORMAL", "ZERO", ... */
const char *cvm_snp_page_type_name(uint8_t type);

/*
 * One executor of a plan.  Every callback returns 0 or a negative errno with err filled.
 * prefault may be NULL (measurement models).  Callbacks run in plan order.
 */
struct cvm_backend_ops {
	const char *name;
	int (*begin)(void *ctx, const struct cvm_plan *plan, struct cvm_error *err);
	int (*load)(void *ctx, const struct cvm_plan_op *op, struct cvm_error *err);
	int (*vcpu)(void *ctx, const struct cvm_plan_op *op, struct cvm_error *err);
	int (*finish)(void *ctx, const struct cvm_plan *plan, struct cvm_error *err);
	int (*prefault)(void *ctx, const struct cvm_plan *plan, struct cvm_error *err);
	/* Optional: bytes [off, off + len) of a load op, called in order from off 0 to op->size
	   instead of load.  When every backend has it, cvm_plan_execute runs a load op in pieces
	   of CVM_PLAN_PIECE bytes across the backends, so what one copies another hashes while
	   it is in cache (the default VM's image). */
	int (*load_piece)(void *ctx, const struct cvm_plan_op *op, uint64_t off, uint64_t len,
			  struct cvm_error *err);
};

#define CVM_PLAN_PIECE (256u << 10)

struct cvm_backend {
	const struct cvm_backend_ops *ops;
	void *ctx;
};

/*
 * Run the plan through every backend in lockstep: begin on all, then each op on all in order
 * (a load op piece by piece when every backend has load_piece), then finish, then prefault.  The first failure stops the run; err names the op
 * ("op 3 (SNP_SECRETS gpa 0x80d000): ...").
 */
int cvm_plan_execute(const struct cvm_plan *plan, const struct cvm_backend *backends,
		     size_t nbackends, struct cvm_error *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
