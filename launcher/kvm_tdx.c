/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TDX KVM backend (DESIGN.md "Launch sequences", spec/kvm-uapi.md 8b):
 *   KVM_CREATE_VM(TDX) -> KVM_TDX_CAPABILITIES (E2BIG: bigger buffer) -> split irqchip ->
 *   KVM_TDX_INIT_VM(attributes, xfam, mrconfigid, mrowner, mrownerconfig, CPUID) -> vCPUs ->
 *   KVM_TDX_INIT_VCPU(RCX = TD HOB GPA) each -> guest_memfd + memslots + PRIVATE ->
 *   KVM_TDX_INIT_MEM_REGION per op (MEASURE flag where MR.EXTEND) -> KVM_TDX_FINALIZE_VM ->
 *   pre-fault.
 */
#include <cvmkit/kvm.h>
#include "launcher/kvm_backend.h"
#include "launcher/kvm_uapi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TDX_CPUID_MAX 1024
#define TDX_INIT_VM_TRIES 10000
#define SPLIT_IRQCHIP_PINS 24

static int tdx_failure(struct cvm_error *err, int rc, uint64_t hw_error, const char *what)
{
	cvm_error_set(err, rc, "%s: %s", what, cvm_errno_name(rc));
	if (hw_error)
		cvm_error_set_fw(err, hw_error);
	return rc;
}

/* KVM_TDX_CAPABILITIES, growing the CPUID array on E2BIG (QEMU: start at 6, double). */
static int tdx_capabilities(struct cvm_kvm_backend_ctx *ctx,
			    struct cvm_kvm_tdx_capabilities **out, struct cvm_error *err)
{
	for (uint32_t nent = 6; nent <= TDX_CPUID_MAX; nent *= 2) {
		size_t len = sizeof(struct cvm_kvm_tdx_capabilities) +
			     nent * sizeof(struct kvm_cpuid_entry2);
		struct cvm_kvm_tdx_capabilities *caps = calloc(1, len);
		if (!caps)
			return cvm_error_set(err, -ENOMEM, "out of memory");
		caps->cpuid_nent = nent;
		uint64_t hw = 0;
		int rc = cvm_kvm_tdx_op(ctx->seam, ctx->vm->vm_fd, CVM_KVM_TDX_CAPABILITIES, 0,
					(uint64_t)(uintptr_t)caps, &hw);
		if (rc == 0 && caps->cpuid_nent <= nent) {
			*out = caps;
			return 0;
		}
		free(caps);
		if (rc != -E2BIG)
			return tdx_failure(err, rc ? rc : -EIO, hw, "KVM_TDX_CAPABILITIES");
	}
	return cvm_error_set(err, -E2BIG, "KVM_TDX_CAPABILITIES: more than %d CPUID entries",
			     TDX_CPUID_MAX);
}

static const struct kvm_cpuid_entry2 *find_leaf(const struct kvm_cpuid2 *c, uint32_t fn,
						uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

/*
 * INIT_VM's CPUID: each leaf the TDX module lets KVM configure, with the bits KVM supports
 * (supported & configurable), like QEMU's filtering of its CPU model by the capabilities.
 */
static int build_init_vm(struct cvm_kvm_backend_ctx *ctx, const struct cvm_plan *plan,
			 const struct cvm_kvm_tdx_capabilities *caps,
			 struct cvm_kvm_tdx_init_vm **out, struct cvm_error *err)
{
	struct kvm_cpuid2 *sup = NULL;
	int rc = cvm_kvm_supported_cpuid(ctx->seam, ctx->vm->kvm_fd, &sup, err);
	if (rc)
		return rc;
	const struct kvm_cpuid_entry2 *conf = (const struct kvm_cpuid_entry2 *)(caps + 1);
	size_t len = sizeof(struct cvm_kvm_tdx_init_vm) +
		     caps->cpuid_nent * sizeof(struct kvm_cpuid_entry2);
	struct cvm_kvm_tdx_init_vm *iv = calloc(1, len);
	if (!iv) {
		free(sup);
		return cvm_error_set(err, -ENOMEM, "out of memory");
	}
	iv->attributes = plan->tdx.attributes;
	iv->xfam = plan->tdx.xfam;
	memcpy(iv->mrconfigid, plan->tdx.mrconfigid, 48);
	memcpy(iv->mrowner, plan->tdx.mrowner, 48);
	memcpy(iv->mrownerconfig, plan->tdx.mrownerconfig, 48);
	struct kvm_cpuid_entry2 *ent = (struct kvm_cpuid_entry2 *)(iv + 1);
	uint32_t n = 0;
	for (uint32_t i = 0; i < caps->cpuid_nent; i++) {
		const struct kvm_cpuid_entry2 *s = find_leaf(sup, conf[i].function, conf[i].index);
		if (!s)
			continue;
		ent[n] = *s;
		ent[n].eax &= conf[i].eax;
		ent[n].ebx &= conf[i].ebx;
		ent[n].ecx &= conf[i].ecx;
		ent[n].edx &= conf[i].edx;
		n++;
	}
	iv->cpuid_nent = n;
	free(sup);
	*out = iv;
	return 0;
}

static int tdx_init_vm(struct cvm_kvm_backend_ctx *ctx, const struct cvm_plan *plan,
		       struct cvm_error *err)
{
	struct cvm_kvm_tdx_capabilities *caps = NULL;
	int rc = tdx_capabilities(ctx, &caps, err);
	if (rc)
		return rc;
	if ((plan->tdx.attributes & ~caps->supported_attrs) || (plan->tdx.xfam & ~caps->supported_xfam)) {
		rc = cvm_error_set(err, -EOPNOTSUPP,
				   "TD attributes 0x%llx / XFAM 0x%llx not supported by this TDX module (supported 0x%llx / 0x%llx)",
				   (unsigned long long)plan->tdx.attributes,
				   (unsigned long long)plan->tdx.xfam,
				   (unsigned long long)caps->supported_attrs,
				   (unsigned long long)caps->supported_xfam);
		free(caps);
		return rc;
	}
	/* TDX vCPUs need an in-kernel local APIC (x2APIC): split irqchip before any vCPU. */
	struct kvm_enable_cap cap;
	memset(&cap, 0, sizeof(cap));
	cap.cap = KVM_CAP_SPLIT_IRQCHIP;
	cap.args[0] = SPLIT_IRQCHIP_PINS;
	rc = cvm_kvm_ioctl(ctx->seam, ctx->vm->vm_fd, KVM_ENABLE_CAP, (unsigned long)&cap);
	if (rc < 0) {
		free(caps);
		return cvm_error_set(err, rc, "KVM_ENABLE_CAP(SPLIT_IRQCHIP): %s", cvm_errno_name(rc));
	}
	struct cvm_kvm_tdx_init_vm *iv = NULL;
	rc = build_init_vm(ctx, plan, caps, &iv, err);
	free(caps);
	if (rc)
		return rc;
	uint64_t hw = 0;
	/* TDH.MNG.CREATE may lack entropy: EAGAIN is retried (QEMU: up to 10000 times). */
	for (int i = 0; i < TDX_INIT_VM_TRIES; i++) {
		rc = cvm_kvm_tdx_op(ctx->seam, ctx->vm->vm_fd, CVM_KVM_TDX_INIT_VM, 0,
				    (uint64_t)(uintptr_t)iv, &hw);
		if (rc != -EAGAIN || (ctx->cancel && *ctx->cancel))
			break;
	}
	free(iv);
	return rc ? tdx_failure(err, rc, hw, "KVM_TDX_INIT_VM") : 0;
}

/*
 * KVM's view of the vCPUs' CPUID must match the TD's (what INIT_VM configured): read it back
 * from the TDX module (KVM_TDX_GET_CPUID on vCPU 0, grown on E2BIG) and give it to every vCPU.
 */
static int tdx_set_vcpu_cpuid(struct cvm_kvm_backend_ctx *ctx, struct cvm_error *err)
{
	for (uint32_t nent = 64; nent <= TDX_CPUID_MAX; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(struct kvm_cpuid_entry2));
		if (!c)
			return cvm_error_set(err, -ENOMEM, "out of memory");
		c->nent = nent;
		uint64_t hw = 0;
		int rc = cvm_kvm_tdx_op(ctx->seam, ctx->vm->vcpu_fds[0], CVM_KVM_TDX_GET_CPUID, 0,
					(uint64_t)(uintptr_t)c, &hw);
		if (rc == 0 && c->nent <= nent) {
			free(ctx->cpuid);
			ctx->cpuid = c;
			return cvm_kvm_vm_set_cpuid(ctx->vm, c, err);
		}
		free(c);
		if (rc != -E2BIG)
			return tdx_failure(err, rc ? rc : -EIO, hw, "KVM_TDX_GET_CPUID");
	}
	return cvm_error_set(err, -E2BIG, "KVM_TDX_GET_CPUID: more than %d entries", TDX_CPUID_MAX);
}

static int tdx_begin(void *vctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	struct cvm_kvm_backend_ctx *ctx = vctx;
	/* KVM adds and extends page by page (spec/tdx-measurement.md 4): a two-pass MRTD cannot
	 * come out of this launch, so it must not be the digest the launch reports. */
	if (plan->tdx.order == CVM_TDX_ORDER_TWO_PASS)
		return cvm_error_set(err, -EOPNOTSUPP,
				     "tdx.measure_order two-pass models the QEMU 8.x TDX trees; upstream KVM measures single-pass, so launch with \"single-pass\" (two-pass is for measure only)");
	int rc = cvm_kvm_vm_create(ctx->seam, CVM_KVM_X86_TDX_VM, ctx->cancel, &ctx->vm, err);
	if (rc)
		return rc;
	if ((rc = tdx_init_vm(ctx, plan, err)))
		return rc;
	if ((rc = cvm_kvm_vm_create_vcpus(ctx->vm, plan->nvcpus, err)))
		return rc;
	for (uint32_t i = 0; i < ctx->vm->nvcpus; i++) {
		uint64_t hw = 0;
		rc = cvm_kvm_tdx_op(ctx->seam, ctx->vm->vcpu_fds[i], CVM_KVM_TDX_INIT_VCPU, 0,
				    plan->tdx.td_hob_gpa, &hw);
		if (rc) {
			char what[64];
			snprintf(what, sizeof(what), "KVM_TDX_INIT_VCPU %u", i);
			return tdx_failure(err, rc, hw, what);
		}
	}
	if ((rc = tdx_set_vcpu_cpuid(ctx, err)))
		return rc;
	ctx->fw_size = cvm_kvm_plan_firmware_size(plan);
	return cvm_kvm_vm_add_memory(ctx->vm, plan->mem_size, ctx->fw_size, true, err);
}

/* One INIT_MEM_REGION call; the kernel advances the struct on partial progress. */
struct tdx_region {
	const struct cvm_kvm_seam *seam;
	int vcpu_fd;
	struct cvm_kvm_tdx_init_mem_region *r;
	uint32_t flags;
};

static int tdx_region_once(void *vcall, struct cvm_error *err)
{
	struct tdx_region *c = vcall;
	uint64_t hw = 0;
	int rc = cvm_kvm_tdx_op(c->seam, c->vcpu_fd, CVM_KVM_TDX_INIT_MEM_REGION, c->flags,
				(uint64_t)(uintptr_t)c->r, &hw);
	if (rc == 0 || rc == -EAGAIN || rc == -EBUSY)
		return rc;
	char what[96];
	snprintf(what, sizeof(what), "KVM_TDX_INIT_MEM_REGION gpa 0x%llx%s",
		 (unsigned long long)c->r->gpa, c->flags ? " (measured)" : "");
	return tdx_failure(err, rc, hw, what);
}

static uint64_t tdx_region_left(const void *vcall)
{
	const struct tdx_region *c = vcall;
	return c->r->nr_pages;
}

static int tdx_load(void *vctx, const struct cvm_plan_op *op, struct cvm_error *err)
{
	struct cvm_kvm_backend_ctx *ctx = vctx;
	/* PAGE_AUG sections are accepted by the guest later: nothing to add now. */
	if (op->flags & CVM_OP_NO_PAGE_ADD)
		return 0;
	if (!op->size || op->size % 4096 || op->gpa % 4096)
		return cvm_error_set(err, -EINVAL, "op [0x%llx, +0x%llx) is not page aligned",
				     (unsigned long long)op->gpa, (unsigned long long)op->size);
	if (!cvm_kvm_vm_find_region(ctx->vm, op->gpa, op->size))
		return cvm_error_set(err, -ERANGE, "[0x%llx, +0x%llx) is outside guest memory",
				     (unsigned long long)op->gpa, (unsigned long long)op->size);
	uint8_t *src = NULL;
	int rc = cvm_kvm_backend_stage(ctx, op, &src, err);
	if (rc)
		return rc;
	struct cvm_kvm_tdx_init_mem_region r;
	memset(&r, 0, sizeof(r));
	r.source_addr = (uint64_t)(uintptr_t)src;
	r.gpa = op->gpa;
	r.nr_pages = op->size / 4096;
	struct tdx_region call = {ctx->seam, ctx->vm->vcpu_fds[0], &r,
				  (op->flags & CVM_OP_MR_EXTEND) ? CVM_KVM_TDX_MEASURE_MEMORY_REGION : 0};
	char what[64];
	snprintf(what, sizeof(what), "KVM_TDX_INIT_MEM_REGION gpa 0x%llx",
		 (unsigned long long)op->gpa);
	if ((rc = cvm_kvm_load_with_retries(tdx_region_once, tdx_region_left, &call, ctx->cancel,
					    what, err)))
		return rc;
	ctx->loaded_bytes += op->size;
	return 0;
}

static int tdx_vcpu(void *vctx, const struct cvm_plan_op *op, struct cvm_error *err)
{
	/* The TDX module owns the initial vCPU state; only RCX (INIT_VCPU) is ours. */
	(void)vctx;
	(void)op;
	(void)err;
	return 0;
}

static int tdx_finish(void *vctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	(void)plan;
	struct cvm_kvm_backend_ctx *ctx = vctx;
	uint64_t hw = 0;
	int rc, tries = 0;
	do
		rc = cvm_kvm_tdx_op(ctx->seam, ctx->vm->vm_fd, CVM_KVM_TDX_FINALIZE_VM, 0, 0, &hw);
	while ((rc == -EBUSY || rc == -EAGAIN) && ++tries < TDX_INIT_VM_TRIES &&
	       !(ctx->cancel && *ctx->cancel));
	return rc ? tdx_failure(err, rc, hw, "KVM_TDX_FINALIZE_VM") : 0;
}

int cvm_kvm_tdx_terminate(struct cvm_kvm_vm *vm)
{
	uint64_t hw = 0;
	int rc = cvm_kvm_tdx_op(vm->seam, vm->vm_fd, CVM_KVM_TDX_TERMINATE_VM, 0, 0, &hw);
	return rc == -ENOTTY || rc == -EINVAL ? 0 : rc;
}

static const struct cvm_backend_ops tdx_kvm_ops = {
	.name = "kvm-tdx",
	.begin = tdx_begin,
	.load = tdx_load,
	.vcpu = tdx_vcpu,
	.finish = tdx_finish,
	.prefault = cvm_kvm_backend_prefault,
};

const struct cvm_backend_ops *cvm_tdx_kvm_ops(void)
{
	return &tdx_kvm_ops;
}
