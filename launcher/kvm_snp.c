/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SEV-SNP KVM backend (DESIGN.md "Launch sequences", spec/kvm-uapi.md 8a):
 *   [KVM_GET_DEVICE_ATTR(SEV VMSA features) with features] [KVM_GET_DEVICE_ATTR(SNP_REQ_CERTS)
 *   with snp.certificates] -> KVM_CREATE_VM(SNP) -> open /dev/sev -> KVM_SEV_INIT2(vmsa_features)
 *   -> [KVM_SET_TSC_KHZ(VM) for SecureTSC] -> [/dev/sev SNP_PLATFORM_STATUS + SEV_GET_ID2 for the
 *   endorsement cache, KVM_SEV_SNP_ENABLE_REQ_CERTS] ->
 *   guest_memfd + memslots + PRIVATE -> SNP_LAUNCH_START(policy) -> vCPUs (CPUID without
 *   what the firmware refuses) -> SNP_LAUNCH_UPDATE per plan op
 *   (source staged in a page-aligned shared buffer; the firmware's NORMAL pages in place
 *   through the guest_memfd where the posted series allows: docs/snp-launch.md) -> vCPU state
 *   per VMSA op ->
 *   SNP_LAUNCH_FINISH(ID block, auth, host data) -> pre-fault.
 * Every kvm_sev_cmd carries the /dev/sev descriptor in sev_fd (spec 8a): SNP_LAUNCH_START
 * refuses the command without it (EBADF), as QEMU's flow opens it first (launch-flows.md 1).
 */
#include <cvmkit/kvm.h>
#include <cvmkit/snp.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "launcher/kvm_backend.h"
#include "launcher/kvm_uapi.h"

static int fw_failure(struct cvm_error *err, int rc, uint32_t fw_error, const char *what)
{
	cvm_error_set(err, rc, "%s: %s", what, cvm_errno_name(rc));
	if (rc == -EIO || fw_error)
		cvm_error_set_fw(err, fw_error);
	return rc;
}

/* One KVM CPUID entry without the bits the SNP firmware refuses (QEMU's mask). */
static void mask_refused_cpuid(struct kvm_cpuid_entry2 *e)
{
	e->eax = cvm_snp_cpuid_mask(e->function, e->index, CVM_CPUID_EAX, e->eax);
	e->ebx = cvm_snp_cpuid_mask(e->function, e->index, CVM_CPUID_EBX, e->ebx);
	e->ecx = cvm_snp_cpuid_mask(e->function, e->index, CVM_CPUID_ECX, e->ecx);
	e->edx = cvm_snp_cpuid_mask(e->function, e->index, CVM_CPUID_EDX, e->edx);
}

/*
 * The SEV features the plan asks KVM_SEV_INIT2 for, checked against what this host's KVM
 * advertises, before anything is created.  Without features (QEMU's default) nothing is asked.
 */
static int check_host_features(const struct cvm_kvm_seam *s, uint64_t want, struct cvm_error *err)
{
	if (!want)
		return 0;
	char names[256];
	cvm_sev_features_text(want, ", ", names, sizeof(names));
	uint64_t have = 0;
	int rc = cvm_kvm_sev_vmsa_features(s, &have, err);
	if (rc)
		return cvm_error_wrap(err, "the policy asks for SEV features %s (0x%llx) and the "
				      "host cannot say which it supports", names,
				      (unsigned long long)want);
	uint64_t missing = want & ~have;
	if (!missing)
		return 0;
	char lack[256], offers[256];
	cvm_sev_features_text(missing, ", ", lack, sizeof(lack));
	cvm_sev_features_text(have, ", ", offers, sizeof(offers));
	bool one = (missing & (missing - 1)) == 0;
	return cvm_error_set(err, -EOPNOTSUPP,
			     "this host's KVM cannot enable the SEV feature%s %s (0x%llx) the policy "
			     "asks for (it offers %s, 0x%llx): remove %s from snp.features or "
			     "snp.guest_features, or launch on a host that has %s",
			     one ? "" : "s", lack, (unsigned long long)missing, offers,
			     (unsigned long long)have, one ? "it" : "them", one ? "it" : "them");
}

/*
 * SecureTSC: the firmware takes the guest's TSC frequency at SNP_LAUNCH_START (desired_tsc_khz),
 * and KVM fills it from the VM's default frequency, so KVM_SET_TSC_KHZ on the VM comes first,
 * right after INIT2: before LAUNCH_START and before any vCPU (KVM refuses the VM ioctl after
 * one), whichever of the two a VMM does first.  No tsc_khz: the host's.
 */
static int set_secure_tsc(const struct cvm_kvm_backend_ctx *ctx, const struct cvm_plan *plan,
			  struct cvm_error *err)
{
	if (!(plan->snp.vmsa_features & CVM_SVM_SEV_FEAT_SECURE_TSC) || !plan->snp.tsc_khz)
		return 0;
	int rc = cvm_kvm_ioctl(ctx->seam, ctx->vm->vm_fd, KVM_SET_TSC_KHZ, plan->snp.tsc_khz);
	if (rc < 0)
		return cvm_error_set(err, rc, "KVM_SET_TSC_KHZ(%u kHz) for SecureTSC: %s%s",
				     plan->snp.tsc_khz, cvm_errno_name(rc),
				     rc == -EINVAL ? " (beyond what this host's TSC scaling allows?)"
						   : "");
	return 0;
}

/*
 * Certificates for the guest (docs/snp-launch.md): the sources resolved and read once (the
 * endorsement cache needs this host's chip ID and TCB from /dev/sev), then
 * KVM_SEV_SNP_ENABLE_REQ_CERTS, which KVM takes after INIT2 and before any vCPU.
 */
static int enable_req_certs(struct cvm_kvm_backend_ctx *ctx, struct cvm_error *err)
{
	const struct cvm_policy_snp_certs *cfg = ctx->snp_certs;
	struct cvm_kvm_vm *vm = ctx->vm;
	struct cvm_snp_host_id host;
	struct cvm_error why;
	cvm_error_clear(&why);
	bool known = cfg->cache && cvm_snp_host_id_read(ctx->seam, vm->sev_fd, &host, &why) == 0;
	int rc = cvm_snp_certs_open(cfg, known ? &host : NULL, ctx->snp_certs_cache_dir,
				    &vm->snp_certs, err);
	if (rc && why.code)
		return cvm_error_wrap(err, "%s", cvm_error_message(&why));
	if (rc)
		return rc;
	uint32_t fw_error = 0;
	rc = cvm_kvm_sev_op(ctx->seam, vm->vm_fd, vm->sev_fd, CVM_KVM_SEV_SNP_ENABLE_REQ_CERTS, NULL,
			    &fw_error);
	return rc ? fw_failure(err, rc, fw_error, "KVM_SEV_SNP_ENABLE_REQ_CERTS") : 0;
}

static int snp_begin(void *vctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	struct cvm_kvm_backend_ctx *ctx = vctx;
	const struct cvm_kvm_seam *s = ctx->seam;
	int rc = check_host_features(s, plan->snp.vmsa_features, err);
	if (!rc && ctx->snp_certs)
		rc = cvm_kvm_sev_snp_req_certs(s, err);
	if (rc)
		return rc;
	rc = cvm_kvm_vm_create(s, CVM_KVM_X86_SNP_VM, ctx->cancel, &ctx->vm, err);
	if (rc)
		return rc;
	int vm_fd = ctx->vm->vm_fd;
	uint32_t fw_error = 0;

	int sev_fd = s->ops->open(s->ctx, "/dev/sev", O_RDWR);
	if (sev_fd < 0)
		return cvm_error_set(err, sev_fd, "open /dev/sev: %s%s", cvm_errno_name(sev_fd),
				     sev_fd == -ENOENT ? " (no SEV firmware device: is the ccp driver loaded with SNP enabled?)"
				     : sev_fd == -EACCES ? " (permission denied: the launcher needs access to /dev/sev)"
							 : "");
	ctx->vm->sev_fd = sev_fd;

	struct cvm_kvm_sev_init init;
	memset(&init, 0, sizeof(init));
	init.vmsa_features = plan->snp.vmsa_features;
	if ((rc = cvm_kvm_sev_op(s, vm_fd, sev_fd, CVM_KVM_SEV_INIT2, &init, &fw_error)))
		return fw_failure(err, rc, fw_error, "KVM_SEV_INIT2");
	if ((rc = set_secure_tsc(ctx, plan, err)))
		return rc;
	if (ctx->snp_certs && (rc = enable_req_certs(ctx, err)))
		return rc;

	ctx->fw_size = cvm_kvm_plan_firmware_size(plan);
	ctx->vm->fw_gmem_mmap = true;
	if ((rc = cvm_kvm_vm_add_memory(ctx->vm, plan->mem_size, ctx->fw_size, true, err)))
		return rc;
	const struct cvm_kvm_region *fw = ctx->fw_size ? cvm_kvm_vm_find_region(
		ctx->vm, CVM_KVM_FOUR_GIB - ctx->fw_size, ctx->fw_size) : NULL;
	if (fw && !fw->gmem_mappable)
		snprintf(ctx->snp_fw_staged_why, sizeof(ctx->snp_fw_staged_why), "%s",
			 "this VM's guest_memfd cannot be mapped (KVM_CAP_GUEST_MEMFD_FLAGS on the VM)");

	struct cvm_kvm_sev_snp_launch_start start;
	memset(&start, 0, sizeof(start));
	start.policy = plan->snp.policy;
	if ((rc = cvm_kvm_sev_op(s, vm_fd, sev_fd, CVM_KVM_SEV_SNP_LAUNCH_START, &start, &fw_error)))
		return fw_failure(err, rc, fw_error, "SNP_LAUNCH_START");

	if ((rc = cvm_kvm_vm_create_vcpus(ctx->vm, plan->nvcpus, err)))
		return rc;
	/*
	 * The vCPUs' CPUID is also what goes into the CPUID page (QEMU: vCPU 0's), both without
	 * the features the SNP firmware refuses.
	 */
	ctx->snp_cpuid_retry = plan->snp.cpuid_retry;
	return cvm_kvm_backend_set_cpuid_adjusted(ctx, plan, mask_refused_cpuid, err);
}

/*
 * The CPUID page's contents come from the host, not the plan: the table of the CPUID the vCPUs
 * were given.  They are checked by the PSP but not measured, so the digest does not change.
 */
static int stage_cpuid_page(const struct cvm_kvm_backend_ctx *ctx, const struct cvm_plan_op *op,
			    uint8_t *buf, struct cvm_error *err)
{
	if (!ctx->cpuid)
		return cvm_error_set(err, -EINVAL, "CPUID page before the vCPUs' CPUID was set");
	if (op->size != 4096)
		return cvm_error_set(err, -EINVAL, "CPUID op of 0x%llx bytes, expected one page",
				     (unsigned long long)op->size);
	uint32_t n = ctx->cpuid->nent;
	struct cvm_cpuid_leaf *leaves = calloc(n ? n : 1, sizeof(*leaves));
	if (!leaves)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		const struct kvm_cpuid_entry2 *e = &ctx->cpuid->entries[i];
		leaves[i] = (struct cvm_cpuid_leaf){e->function, e->index,
						    (e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) != 0,
						    e->eax, e->ebx, e->ecx, e->edx};
	}
	int rc = cvm_snp_cpuid_page_build(leaves, n, buf, err);
	free(leaves);
	return rc ? cvm_error_wrap(err, "CPUID page gpa 0x%llx", (unsigned long long)op->gpa) : 0;
}

/*
 * One SNP_LAUNCH_UPDATE call; the kernel advances the struct on partial progress.  in_place:
 * no source (uaddr 0, the posted series' populate from the guest_memfd), kept 0 on every retry.
 */
struct snp_update {
	const struct cvm_kvm_seam *seam;
	int vm_fd, sev_fd;
	struct cvm_kvm_sev_snp_launch_update *up;
	bool in_place;
};

static int snp_update_once(void *vcall, struct cvm_error *err)
{
	struct snp_update *c = vcall;
	uint32_t fw_error = 0;
	if (c->in_place)
		c->up->uaddr = 0;
	int rc = cvm_kvm_sev_op(c->seam, c->vm_fd, c->sev_fd, CVM_KVM_SEV_SNP_LAUNCH_UPDATE, c->up,
				&fw_error);
	if (rc >= 0 || rc == -EAGAIN || rc == -EBUSY)
		return rc < 0 ? rc : 0;
	char what[96];
	snprintf(what, sizeof(what), "SNP_LAUNCH_UPDATE gpa 0x%llx (%s)",
		 (unsigned long long)(c->up->gfn_start << 12), cvm_snp_page_type_name(c->up->type));
	return fw_failure(err, rc, fw_error, what);
}

static uint64_t snp_update_left(const void *vcall)
{
	const struct snp_update *c = vcall;
	return c->up->len;
}

#define SEV_RET_INVALID_PARAM 0x16u /* SEV firmware status of a rejected CPUID page */
#define CPUID_REPORT_MAX 16u
#define CPUID_REPORT_TEXT 640u

/*
 * The PSP rejected the CPUID page (EIO, INVALID_PARAM) and KVM copied its corrected page back
 * into the source buffer: name every register that differs, as QEMU does, and when the policy
 * allows it issue the page once more with the corrected values.
 */
static int cpuid_rejected(struct cvm_kvm_backend_ctx *ctx, struct snp_update *call,
			  const struct cvm_kvm_sev_snp_launch_update *orig, const uint8_t *sent,
			  const uint8_t *fixed, struct cvm_error *err)
{
	struct cvm_snp_cpuid_mismatch m[CPUID_REPORT_MAX];
	size_t total = cvm_snp_cpuid_page_compare(sent, fixed, m, CPUID_REPORT_MAX);
	char text[CPUID_REPORT_TEXT]; /* leaves room in the message for the failing call */
	if (!total)
		return cvm_error_wrap(err, "the PSP rejected the CPUID page and wrote back no "
				      "correction");
	cvm_snp_cpuid_mismatch_text(m, total < CPUID_REPORT_MAX ? total : CPUID_REPORT_MAX, total,
				    text, sizeof(text));
	if (!ctx->snp_cpuid_retry)
		return cvm_error_wrap(err, "the PSP rejected the CPUID page (%zu difference%s: %s; "
				      "snp.cpuid_retry retries with its values)",
				      total, total == 1 ? "" : "s", text);
	struct cvm_error first = *err;
	*call->up = *orig;
	cvm_error_clear(err);
	int again = cvm_kvm_load_with_retries(snp_update_once, snp_update_left, call, ctx->cancel,
					      "SNP_LAUNCH_UPDATE of the corrected CPUID page", err);
	if (!again) {
		ctx->snp_cpuid_corrected = true;
		return 0;
	}
	return cvm_error_wrap(err, "the PSP rejected the CPUID page (%s: %s), and the page with "
			      "its corrections too", cvm_error_message(&first), text);
}

/* ---- Firmware in place in guest_memfd (the posted series, docs/snp-launch.md) ----------- */

#define GMEM_EAGAIN_RETRIES 8u /* after cvmkit's own mapping is gone */

/*
 * KVM_SET_MEMORY_ATTRIBUTES2 over [off, off + size) of the region's guest_memfd.  EAGAIN means
 * a page still has references besides the guest_memfd's: cvmkit's own mapping is dropped and
 * the call retried; when it persists the error names error_offset.  ENOTTY and EINVAL come back
 * without a message (the caller falls back to the staged copy); other errors carry one.
 */
static int gmem_convert(const struct cvm_kvm_seam *s, struct cvm_kvm_region *r, uint64_t off,
			uint64_t size, uint64_t attributes, uint64_t mode, const char *what,
			struct cvm_error *err)
{
	uint64_t at = 0;
	int rc;
	for (unsigned tries = 0;; tries++) {
		rc = cvm_kvm_gmem_set_attributes2(s, r->gmem_fd, off, size, attributes, mode, &at);
		if (rc != -EAGAIN || tries == GMEM_EAGAIN_RETRIES)
			break;
		if (r->gmem_map) {
			s->ops->munmap(s->ctx, r->gmem_map, r->size);
			r->gmem_map = NULL;
		}
	}
	if (!rc || rc == -ENOTTY || rc == -EINVAL)
		return rc;
	if (rc == -EAGAIN)
		return cvm_error_set(err, rc, "KVM_SET_MEMORY_ATTRIBUTES2(%s) %s [0x%llx, +0x%llx): "
				     "EAGAIN after %u retries without cvmkit's mapping: guest_memfd "
				     "offset 0x%llx (gpa 0x%llx) still has other references",
				     what, r->name, (unsigned long long)(r->gpa + off),
				     (unsigned long long)size, GMEM_EAGAIN_RETRIES,
				     (unsigned long long)at, (unsigned long long)(r->gpa + at));
	return cvm_error_set(err, rc, "KVM_SET_MEMORY_ATTRIBUTES2(%s) %s [0x%llx, +0x%llx): %s", what,
			     r->name, (unsigned long long)(r->gpa + off), (unsigned long long)size,
			     cvm_errno_name(rc));
}

/* From now on every op takes the staged copy; why says which call refused and how. */
static int fall_back(struct cvm_kvm_backend_ctx *ctx, int rc, const char *what)
{
	snprintf(ctx->snp_fw_staged_why, sizeof(ctx->snp_fw_staged_why),
		 "KVM_SET_MEMORY_ATTRIBUTES2(%s) on the firmware's guest_memfd: %s%s", what,
		 cvm_errno_name(rc), rc == -ENOTTY ? " (not offered by this kernel)" : "");
	return 1;
}

/*
 * Write an op's bytes through the guest_memfd's own mapping and make them private with their
 * contents: convert the range to shared (ZERO), write, convert to private with PRESERVE.
 * 0: ready for SNP_LAUNCH_UPDATE without a source; 1: use the staged copy (the range is private
 * again); negative: the launch fails, err set.
 */
static int write_in_place(struct cvm_kvm_backend_ctx *ctx, struct cvm_kvm_region *r,
			  const struct cvm_plan_op *op, struct cvm_error *err)
{
	const struct cvm_kvm_seam *s = ctx->seam;
	const uint64_t priv = CVM_KVM_MEMORY_ATTRIBUTE_PRIVATE;
	uint64_t off = op->gpa - r->gpa;
	int rc = gmem_convert(s, r, off, op->size, 0, CVM_KVM_SET_MEMORY_ATTRIBUTES2_ZERO, "shared",
			      err);
	if (rc == -ENOTTY || rc == -EINVAL)
		return fall_back(ctx, rc, "shared");
	if (rc)
		return rc;
	if (!r->gmem_map) {
		void *map = NULL;
		rc = s->ops->mmap(s->ctx, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->gmem_fd, &map);
		if (rc < 0)
			return cvm_error_set(err, rc, "mmap guest_memfd %s (0x%llx bytes): %s", r->name,
					     (unsigned long long)r->size, cvm_errno_name(rc));
		r->gmem_map = map;
	}
	size_t dlen = op->data ? op->data_len : 0;
	if (dlen)
		memcpy(r->gmem_map + off, op->data, dlen);
	memset(r->gmem_map + off + dlen, 0, op->size - dlen);
	rc = gmem_convert(s, r, off, op->size, priv, CVM_KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE,
			  "private, preserve", err);
	if (rc != -ENOTTY && rc != -EINVAL)
		return rc;
	/* Preservation refused: private again without the contents, which the staged copy loads. */
	int back = gmem_convert(s, r, off, op->size, priv, 0, "private", err);
	if (back == -ENOTTY || back == -EINVAL)
		return cvm_error_set(err, back, "KVM_SET_MEMORY_ATTRIBUTES2(private) %s [0x%llx, "
				     "+0x%llx) after PRESERVE was refused: %s", r->name,
				     (unsigned long long)op->gpa, (unsigned long long)op->size,
				     cvm_errno_name(back));
	return back ? back : fall_back(ctx, rc, "private, preserve");
}

/* The region an op is loaded in place into, or NULL (staged copy). */
static struct cvm_kvm_region *in_place_region(struct cvm_kvm_backend_ctx *ctx,
					      const struct cvm_plan_op *op)
{
	if (op->snp_page_type != CVM_KVM_SEV_SNP_PAGE_TYPE_NORMAL || ctx->snp_fw_staged_why[0])
		return NULL;
	const struct cvm_kvm_region *r = cvm_kvm_vm_find_region(ctx->vm, op->gpa, op->size);
	return r && r->gmem_mappable ? &ctx->vm->regions[r - ctx->vm->regions] : NULL;
}

static int snp_load(void *vctx, const struct cvm_plan_op *op, struct cvm_error *err)
{
	struct cvm_kvm_backend_ctx *ctx = vctx;
	const struct cvm_kvm_seam *s = ctx->seam;
	uint8_t type = op->snp_page_type;
	if (type != CVM_KVM_SEV_SNP_PAGE_TYPE_NORMAL && type != CVM_KVM_SEV_SNP_PAGE_TYPE_ZERO &&
	    type != CVM_KVM_SEV_SNP_PAGE_TYPE_UNMEASURED &&
	    type != CVM_KVM_SEV_SNP_PAGE_TYPE_SECRETS && type != CVM_KVM_SEV_SNP_PAGE_TYPE_CPUID)
		return cvm_error_set(err, -EINVAL, "page type %u cannot be loaded by SNP_LAUNCH_UPDATE",
				     type);
	if (!op->size || op->size % 4096 || op->gpa % 4096 || op->data_len > op->size)
		return cvm_error_set(err, -EINVAL, "op [0x%llx, +0x%llx) is not page aligned",
				     (unsigned long long)op->gpa, (unsigned long long)op->size);
	if (!cvm_kvm_vm_find_region(ctx->vm, op->gpa, op->size))
		return cvm_error_set(err, -ERANGE, "[0x%llx, +0x%llx) is outside guest memory",
				     (unsigned long long)op->gpa, (unsigned long long)op->size);

	struct cvm_kvm_sev_snp_launch_update up;
	memset(&up, 0, sizeof(up));
	up.gfn_start = op->gpa >> 12;
	up.len = op->size;
	up.type = type;
	struct cvm_kvm_region *in_place = in_place_region(ctx, op);
	if (in_place) {
		int rc = write_in_place(ctx, in_place, op, err);
		if (rc < 0)
			return rc;
		if (rc)
			in_place = NULL;
	}
	if (type != CVM_KVM_SEV_SNP_PAGE_TYPE_ZERO && !in_place) {
		uint8_t *buf = NULL;
		int rc = cvm_kvm_backend_stage(ctx, op, &buf, err);
		if (!rc && type == CVM_KVM_SEV_SNP_PAGE_TYPE_CPUID)
			rc = stage_cpuid_page(ctx, op, buf, err);
		if (rc)
			return rc;
		up.uaddr = (uint64_t)(uintptr_t)buf;
	}
	struct snp_update call = {s, ctx->vm->vm_fd, ctx->vm->sev_fd, &up, in_place != NULL};
	char what[64];
	snprintf(what, sizeof(what), "SNP_LAUNCH_UPDATE gpa 0x%llx", (unsigned long long)op->gpa);
	bool cpuid = type == CVM_KVM_SEV_SNP_PAGE_TYPE_CPUID;
	uint8_t sent[CVM_PAGE_SIZE];
	const struct cvm_kvm_sev_snp_launch_update orig = up;
	if (cpuid)
		memcpy(sent, (const void *)(uintptr_t)up.uaddr, sizeof(sent));
	int rc = cvm_kvm_load_with_retries(snp_update_once, snp_update_left, &call, ctx->cancel,
					   what, err);
	if (rc == -EIO && cpuid && err && err->has_fw_status &&
	    err->fw_status == SEV_RET_INVALID_PARAM)
		rc = cpuid_rejected(ctx, &call, &orig, sent, (const uint8_t *)(uintptr_t)orig.uaddr,
				    err);
	if (rc)
		return rc;
	if ((up.gfn_start << 12) != op->gpa + op->size)
		return cvm_error_set(err, -EIO, "SNP_LAUNCH_UPDATE ended at 0x%llx, expected 0x%llx",
				     (unsigned long long)(up.gfn_start << 12),
				     (unsigned long long)(op->gpa + op->size));
	ctx->loaded_bytes += op->size;
	if (in_place)
		ctx->snp_fw_in_place_bytes += op->size;
	return 0;
}

#define MSR_IA32_CR_PAT 0x277u

/* KVM_SET_MSRS of one MSR: KVM answers with the number of MSRs it set. */
static int set_msr(struct cvm_kvm_backend_ctx *ctx, uint32_t idx, uint32_t index, uint64_t value,
		   struct cvm_error *err)
{
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} m;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	struct kvm_msr_entry *e = (struct kvm_msr_entry *)(void *)(m.bytes + sizeof(struct kvm_msrs));
	e->index = index;
	e->data = value;
	int rc = cvm_kvm_ioctl(ctx->seam, ctx->vm->vcpu_fds[idx], KVM_SET_MSRS, (unsigned long)&m);
	if (rc == 1)
		return 0;
	return cvm_error_set(err, rc < 0 ? rc : -EIO, "KVM_SET_MSRS(0x%x) vCPU %u: %s", index, idx,
			     rc < 0 ? cvm_errno_name(rc) : "not set");
}

/*
 * The VMSA's x87 control word, MXCSR, XCR0 and guest PAT are measured too: set them, not trust
 * KVM's reset values (the GCE profile's PAT is not KVM's 0x0007040600070406).
 */
static int set_measured_state(struct cvm_kvm_backend_ctx *ctx, uint32_t idx,
			      const struct cvm_vcpu_reset *r, struct cvm_error *err)
{
	int fd = ctx->vm->vcpu_fds[idx];
	struct kvm_fpu fpu;
	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = r->x87_fcw;
	fpu.mxcsr = r->mxcsr;
	int rc = cvm_kvm_ioctl(ctx->seam, fd, KVM_SET_FPU, (unsigned long)&fpu);
	if (rc < 0)
		return cvm_error_set(err, rc, "KVM_SET_FPU vCPU %u: %s", idx, cvm_errno_name(rc));
	if ((rc = set_msr(ctx, idx, MSR_IA32_CR_PAT, r->g_pat, err)))
		return rc;
	if (!r->xcr0)
		return 0;
	struct kvm_xcrs xcrs;
	memset(&xcrs, 0, sizeof(xcrs));
	xcrs.nr_xcrs = 1;
	xcrs.xcrs[0].xcr = 0;
	xcrs.xcrs[0].value = r->xcr0;
	rc = cvm_kvm_ioctl(ctx->seam, fd, KVM_SET_XCRS, (unsigned long)&xcrs);
	if (rc < 0)
		return cvm_error_set(err, rc, "KVM_SET_XCRS vCPU %u: %s", idx, cvm_errno_name(rc));
	return 0;
}

static int snp_vcpu(void *vctx, const struct cvm_plan_op *op, struct cvm_error *err)
{
	struct cvm_kvm_backend_ctx *ctx = vctx;
	if (!op->vcpu)
		return cvm_error_set(err, -EINVAL, "VMSA op without a vCPU state");
	/* KVM builds and measures each VMSA from this state at LAUNCH_FINISH. */
	int rc = cvm_kvm_vcpu_set_reset(ctx->vm, op->vcpu_index, op->vcpu, err);
	if (rc)
		return rc;
	return set_measured_state(ctx, op->vcpu_index, op->vcpu, err);
}

static int snp_finish(void *vctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	struct cvm_kvm_backend_ctx *ctx = vctx;
	struct cvm_kvm_sev_snp_launch_finish fin;
	memset(&fin, 0, sizeof(fin));
	if (plan->snp.id_block_en) {
		fin.id_block_uaddr = (uint64_t)(uintptr_t)plan->snp.id_block;
		fin.id_auth_uaddr = (uint64_t)(uintptr_t)plan->snp.id_auth;
		fin.id_block_en = 1;
		fin.auth_key_en = plan->snp.auth_key_en ? 1 : 0;
		if (!plan->snp.id_auth)
			return cvm_error_set(err, -EINVAL, "ID block without ID auth information");
	}
	memcpy(fin.host_data, plan->snp.host_data, sizeof(fin.host_data));
	uint32_t fw_error = 0;
	int rc = cvm_kvm_sev_op(ctx->seam, ctx->vm->vm_fd, ctx->vm->sev_fd,
				CVM_KVM_SEV_SNP_LAUNCH_FINISH, &fin, &fw_error);
	return rc ? fw_failure(err, rc, fw_error, "SNP_LAUNCH_FINISH") : 0;
}

static const struct cvm_backend_ops snp_kvm_ops = {
	.name = "kvm-snp",
	.begin = snp_begin,
	.load = snp_load,
	.vcpu = snp_vcpu,
	.finish = snp_finish,
	.prefault = cvm_kvm_backend_prefault,
};

const struct cvm_backend_ops *cvm_snp_kvm_ops(void)
{
	return &snp_kvm_ops;
}
