/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The default-VM KVM backend (firmware and image written into guest_memfd through its
 * MMAP|INIT_SHARED mapping) and what all KVM backends share: the firmware region of a plan, the
 * policy's pre-fault pass, releasing the context.
 */
#include <cvmkit/kvm.h>

#include <errno.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "launcher/kvm_backend.h"
#include "launcher/kvm_uapi.h"


uint64_t cvm_kvm_plan_firmware_size(const struct cvm_plan *plan)
{
	uint64_t low_end = plan->mem_size < CVM_KVM_LOW_RAM_LIMIT ? plan->mem_size : CVM_KVM_LOW_RAM_LIMIT;
	uint64_t start = CVM_KVM_FOUR_GIB;
	for (size_t i = 0; i < plan->nops; i++) {
		const struct cvm_plan_op *op = &plan->ops[i];
		if (op->kind != CVM_OP_LOAD)
			continue;
		bool fw = (op->flags & CVM_OP_FIRMWARE) || (op->gpa >= low_end && op->gpa < CVM_KVM_FOUR_GIB);
		if (fw && op->gpa < start)
			start = op->gpa;
	}
	return CVM_KVM_FOUR_GIB - (start & ~0xFFFull);
}

void cvm_kvm_backend_release(struct cvm_kvm_backend_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->staging && ctx->seam)
		ctx->seam->ops->munmap(ctx->seam->ctx, ctx->staging, ctx->staging_len);
	ctx->staging = NULL;
	ctx->staging_len = 0;
	free(ctx->cpuid);
	ctx->cpuid = NULL;
	if (ctx->vm && ctx->vm->type == CVM_KVM_X86_TDX_VM)
		(void)cvm_kvm_tdx_terminate(ctx->vm);
	cvm_kvm_vm_free(ctx->vm);
	ctx->vm = NULL;
}

/* The signature a vCPU reports in CPUID leaf 1 EAX: RDX of the first vCPU's reset state. */
static uint32_t plan_vcpu_signature(const struct cvm_plan *plan)
{
	for (size_t i = 0; i < plan->nops; i++)
		if (plan->ops[i].kind == CVM_OP_VCPU && plan->ops[i].vcpu)
			return (uint32_t)plan->ops[i].vcpu->rdx;
	return 0;
}

int cvm_kvm_backend_set_cpuid(struct cvm_kvm_backend_ctx *ctx, const struct cvm_plan *plan,
			      struct cvm_error *err)
{
	return cvm_kvm_backend_set_cpuid_adjusted(ctx, plan, NULL, err);
}

int cvm_kvm_backend_set_cpuid_adjusted(struct cvm_kvm_backend_ctx *ctx, const struct cvm_plan *plan,
				       void (*adjust)(struct kvm_cpuid_entry2 *e),
				       struct cvm_error *err)
{
	struct kvm_cpuid2 *cpuid = NULL;
	int rc = cvm_kvm_supported_cpuid(ctx->seam, ctx->vm->kvm_fd, &cpuid, err);
	if (rc)
		return rc;
	uint32_t signature = plan_vcpu_signature(plan);
	for (uint32_t i = 0; signature && i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 1)
			cpuid->entries[i].eax = signature;
	for (uint32_t i = 0; adjust && i < cpuid->nent; i++)
		adjust(&cpuid->entries[i]);
	free(ctx->cpuid);
	ctx->cpuid = cpuid;
	return cvm_kvm_vm_set_cpuid(ctx->vm, cpuid, err);
}

int cvm_kvm_backend_stage(struct cvm_kvm_backend_ctx *ctx, const struct cvm_plan_op *op,
			  uint8_t **out, struct cvm_error *err)
{
	const struct cvm_kvm_seam *s = ctx->seam;
	if (op->data_len > op->size || op->size > SIZE_MAX)
		return cvm_error_set(err, -EINVAL, "op data larger than the op");
	size_t len = (size_t)op->size;
	if (!ctx->staging || ctx->staging_len < len) {
		if (ctx->staging)
			s->ops->munmap(s->ctx, ctx->staging, ctx->staging_len);
		ctx->staging = NULL;
		ctx->staging_len = 0;
		void *p = NULL;
		int rc = s->ops->mmap(s->ctx, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				      -1, &p);
		if (rc < 0)
			return cvm_error_set(err, rc, "mmap staging buffer (%zu bytes): %s", len,
					     cvm_errno_name(rc));
		ctx->staging = p;
		ctx->staging_len = len;
	}
	uint8_t *buf = ctx->staging;
	size_t dlen = op->data ? op->data_len : 0;
	if (dlen)
		memcpy(buf, op->data, dlen);
	memset(buf + dlen, 0, len - dlen);
	*out = buf;
	return 0;
}

int cvm_kvm_load_with_retries(int (*call)(void *ctx, struct cvm_error *err),
			      uint64_t (*left)(const void *ctx), void *ctx,
			      volatile sig_atomic_t *cancel, const char *what,
			      struct cvm_error *err)
{
	unsigned stalls = 0;
	while (left(ctx) > 0) {
		uint64_t before = left(ctx);
		int rc = call(ctx, err);
		bool progress = left(ctx) < before;
		if (rc == -EAGAIN || rc == -EBUSY) {
			if (cancel && *cancel)
				return cvm_error_set(err, -ECANCELED, "%s cancelled", what);
			stalls = progress ? 0 : stalls + 1;
			if (stalls >= CVM_KVM_RETRY_MAX)
				return cvm_error_set(err, rc, "%s: %s %u times in a row without progress",
						     what, cvm_errno_name(rc), stalls);
			continue;
		}
		if (rc < 0)
			return rc;
		if (!progress)
			return cvm_error_set(err, -EIO, "%s made no progress", what);
		stalls = 0;
	}
	return 0;
}

/* Progress of one range as part of all of them: the ranges before it count as done. */
struct ranges_progress {
	const struct cvm_progress *outer;
	uint64_t before, total;
};

static void ranges_progress_report(void *vctx, const char *what, uint64_t done, uint64_t total)
{
	(void)total;
	const struct ranges_progress *rp = vctx;
	cvm_progress_report(rp->outer, what, rp->before + done, rp->total);
}

/* The next range to pre-fault after *pos: the plan's ranges, or else every RAM region. */
static bool next_prefault_range(const struct cvm_plan_prefault *p, const struct cvm_kvm_vm *vm,
				size_t *pos, struct cvm_prefault_range *out)
{
	if (p->nranges) {
		if (*pos >= p->nranges)
			return false;
		*out = p->ranges[(*pos)++];
		return true;
	}
	for (; *pos < vm->nregions; (*pos)++) {
		const struct cvm_kvm_region *r = &vm->regions[*pos];
		if (strncmp(r->name, "ram", 3) == 0) {
			out->gpa = r->gpa;
			out->size = r->size;
			(*pos)++;
			return true;
		}
	}
	return false;
}

int cvm_kvm_backend_prefault(void *vctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	struct cvm_kvm_backend_ctx *ctx = vctx;
	const struct cvm_plan_prefault *p = &plan->prefault;
	struct cvm_kvm_vm *vm = ctx->vm;
	if (p->mode == CVM_PREFAULT_OFF || !vm)
		return 0;
	struct cvm_prefault_range r;
	struct ranges_progress rp = {ctx->progress, 0, 0};
	for (size_t pos = 0; next_prefault_range(p, vm, &pos, &r);)
		rp.total += r.size;
	struct cvm_progress each = {ranges_progress_report, &rp};
	int rc = 0;
	for (size_t pos = 0; !rc && !ctx->prefault.skipped && next_prefault_range(p, vm, &pos, &r);) {
		rc = cvm_kvm_prefault(vm, r.gpa, r.size, p->mode,
				      ctx->progress ? &each : NULL, &ctx->prefault, err);
		rp.before += r.size;
	}
	return rc;
}

/* ---- The default VM --------------------------------------------------------------------- */

static int default_begin(void *vctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	struct cvm_kvm_backend_ctx *ctx = vctx;
	int rc = cvm_kvm_vm_create(ctx->seam, CVM_KVM_X86_DEFAULT_VM, ctx->cancel, &ctx->vm, err);
	if (rc)
		return rc;
	ctx->fw_size = cvm_kvm_plan_firmware_size(plan);
	if ((rc = cvm_kvm_vm_add_memory(ctx->vm, plan->mem_size, ctx->fw_size, false, err)) ||
	    (rc = cvm_kvm_vm_create_vcpus(ctx->vm, plan->nvcpus, err)))
		return rc;
	return cvm_kvm_backend_set_cpuid(ctx, plan, err);
}

/* Bytes [off, off + len) of the op into guest memory (the whole op checked at its first piece). */
static int default_load_piece(void *vctx, const struct cvm_plan_op *op, uint64_t off,
			      uint64_t len, struct cvm_error *err)
{
	struct cvm_kvm_backend_ctx *ctx = vctx;
	const struct cvm_kvm_region *r = cvm_kvm_vm_find_region(ctx->vm, op->gpa, op->size);
	if (!r || !r->gmem_map)
		return cvm_error_set(err, -ERANGE, "[0x%llx, +0x%llx) is outside guest memory",
				     (unsigned long long)op->gpa, (unsigned long long)op->size);
	if (op->data_len > op->size)
		return cvm_error_set(err, -EINVAL, "op data larger than the op");
	/* A fresh guest_memfd reads as zeroes: only the data bytes are written. */
	uint64_t dlen = op->data ? op->data_len : 0, end = off + len;
	if (off < dlen)
		memcpy(r->gmem_map + (op->gpa - r->gpa) + off, op->data + off,
		       (end < dlen ? end : dlen) - off);
	if (end == op->size)
		ctx->loaded_bytes += op->size;
	return 0;
}

static int default_load(void *vctx, const struct cvm_plan_op *op, struct cvm_error *err)
{
	return default_load_piece(vctx, op, 0, op->size, err);
}

static int default_vcpu(void *vctx, const struct cvm_plan_op *op, struct cvm_error *err)
{
	struct cvm_kvm_backend_ctx *ctx = vctx;
	if (!op->vcpu)
		return cvm_error_set(err, -EINVAL, "vCPU op without a state");
	return cvm_kvm_vcpu_set_reset(ctx->vm, op->vcpu_index, op->vcpu, err);
}

static const struct cvm_backend_ops default_ops = {
	.name = "kvm",
	.begin = default_begin,
	.load = default_load,
	.load_piece = default_load_piece,
	.vcpu = default_vcpu,
	.finish = NULL,
	.prefault = cvm_kvm_backend_prefault,
};

const struct cvm_backend_ops *cvm_default_kvm_ops(void)
{
	return &default_ops;
}
