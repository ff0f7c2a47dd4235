/* SPDX-License-Identifier: Apache-2.0 */
/* What the KVM backends (launcher/kvm_backend.c, kvm_snp.c, kvm_tdx.c) share; private. */
#ifndef CVMKIT_LAUNCHER_KVM_BACKEND_H
#define CVMKIT_LAUNCHER_KVM_BACKEND_H

#include <cvmkit/kvm.h>

/*
 * Give every vCPU the host's supported CPUID, with leaf 1 EAX (family/model/stepping) set to the
 * plan's vCPU signature (RDX of the reset state, as on real hardware) when it has one; kept in
 * ctx->cpuid for the SNP CPUID page.  Without it a guest sees no CPU features at all.
 */
int cvm_kvm_backend_set_cpuid(struct cvm_kvm_backend_ctx *ctx, const struct cvm_plan *plan,
			      struct cvm_error *err);

/* The same with adjust (non-NULL) applied to every entry first (SNP: what its firmware refuses). */
struct kvm_cpuid_entry2;
int cvm_kvm_backend_set_cpuid_adjusted(struct cvm_kvm_backend_ctx *ctx, const struct cvm_plan *plan,
				       void (*adjust)(struct kvm_cpuid_entry2 *e),
				       struct cvm_error *err);

/* Shared by the backends: the plan's firmware region size (ops flagged CVM_OP_FIRMWARE). */
uint64_t cvm_kvm_plan_firmware_size(const struct cvm_plan *plan);

/*
 * Shared by the backends: copy an op's bytes (zero-filled to op->size) into the context's
 * page-aligned shared staging buffer (grown as needed, owned by ctx); *out points into it.
 */
int cvm_kvm_backend_stage(struct cvm_kvm_backend_ctx *ctx, const struct cvm_plan_op *op,
			  uint8_t **out, struct cvm_error *err);

/*
 * The retry rule of the launch ioctls that load memory (SNP_LAUNCH_UPDATE, TDX
 * INIT_MEM_REGION), which advance their struct on partial progress and may answer EAGAIN or
 * EBUSY: call() issues the ioctl once and returns 0, -EAGAIN/-EBUSY (retried), or another
 * negative errno with err filled; left() is the work remaining (bytes, pages).  Runs until
 * left() is 0.  A retry is honoured at most CVM_KVM_RETRY_MAX times in a row without progress,
 * the cancel flag stops it, and a success that made no progress is an error (a kernel that
 * would loop for ever).  what names the call in messages.
 */
#define CVM_KVM_RETRY_MAX 10000u

int cvm_kvm_load_with_retries(int (*call)(void *ctx, struct cvm_error *err),
			      uint64_t (*left)(const void *ctx), void *ctx,
			      volatile sig_atomic_t *cancel, const char *what,
			      struct cvm_error *err);

/*
 * The prefault op of every KVM backend (ctx is a struct cvm_kvm_backend_ctx): pre-fault the
 * plan's ranges (or all RAM) per its mode, reporting bytes done over all of them to
 * ctx->progress.
 */
int cvm_kvm_backend_prefault(void *ctx, const struct cvm_plan *plan, struct cvm_error *err);

/*
 * Teardown of a TD (launcher/kvm_tdx.c), before its descriptors close: KVM_TDX_TERMINATE_VM
 * (Linux 6.17+) releases the TD's host key ID, so KVM reclaims its private memory without a TDX
 * module call per page, and marks the VM dead.  A kernel without it answers EINVAL (an unknown
 * sub-command), a VM that is no TD ENOTTY: both are 0 (nothing to do).  Returns 0 or another
 * -errno; teardown goes on either way.
 */
int cvm_kvm_tdx_terminate(struct cvm_kvm_vm *vm);

#endif
