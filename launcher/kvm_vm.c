/* SPDX-License-Identifier: Apache-2.0 */
/* Guest memory (guest_memfd + memslots + attributes), vCPUs, the pre-fault loop, the run loop. */
#include <cvmkit/kvm.h>
#include "launcher/kvm_uapi.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The offset bits inside a 4 KiB page (what the kernel writes ~PAGE_MASK). */
#define PAGE_OFFSET_MASK 0xFFFull
#define PREFAULT_SPLIT_MIN (256ull << 20)
#define PREFAULT_REPORT_STEP (64ull << 20) /* bytes per call when progress is reported */

/* ---- Memory ----------------------------------------------------------------------------- */

static int add_region(struct cvm_kvm_vm *vm, const char *name, uint64_t gpa, uint64_t size,
		      bool private_mem, bool mappable, struct cvm_error *err)
{
	const struct cvm_kvm_seam *s = vm->seam;
	if (vm->nregions == CVM_KVM_MAX_REGIONS)
		return cvm_error_set(err, -E2BIG, "too many memory regions");
	struct cvm_kvm_region *r = &vm->regions[vm->nregions++];
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->gpa = gpa;
	r->size = size;
	r->gmem_fd = -1;
	r->slot = (uint32_t)(vm->nregions - 1);

	uint64_t flags = !private_mem ? CVM_GUEST_MEMFD_FLAG_MMAP | CVM_GUEST_MEMFD_FLAG_INIT_SHARED
			 : mappable   ? CVM_GUEST_MEMFD_FLAG_MMAP
				      : 0;
	r->gmem_mappable = private_mem && mappable;
	int rc = cvm_kvm_create_guest_memfd(s, vm->vm_fd, size, flags);
	if (rc < 0)
		return cvm_error_set(err, rc, "KVM_CREATE_GUEST_MEMFD %s size 0x%llx flags 0x%llx: %s%s",
				     name, (unsigned long long)size, (unsigned long long)flags,
				     cvm_errno_name(rc),
				     rc == -EACCES ? " (denied by the security policy: allow guest_memfd)"
						   : "");
	r->gmem_fd = rc;

	void *map = NULL;
	if (private_mem)
		rc = s->ops->mmap(s->ctx, size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, &map);
	else
		rc = s->ops->mmap(s->ctx, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->gmem_fd, &map);
	if (rc < 0)
		return cvm_error_set(err, rc, "mmap %s %s (0x%llx bytes): %s", name,
				     private_mem ? "shared backing" : "guest_memfd",
				     (unsigned long long)size, cvm_errno_name(rc));
	if (private_mem)
		r->shared = map;
	else
		r->gmem_map = map;

	rc = cvm_kvm_set_memory_region2(s, vm->vm_fd, r->slot, CVM_KVM_MEM_GUEST_MEMFD, gpa, size,
					map, r->gmem_fd, 0);
	if (rc < 0)
		return cvm_error_set(err, rc, "KVM_SET_USER_MEMORY_REGION2 slot %u %s [0x%llx, 0x%llx): %s",
				     r->slot, name, (unsigned long long)gpa,
				     (unsigned long long)(gpa + size), cvm_errno_name(rc));
	if (private_mem) {
		rc = cvm_kvm_set_memory_attributes(s, vm->vm_fd, gpa, size,
						   CVM_KVM_MEMORY_ATTRIBUTE_PRIVATE);
		if (rc < 0)
			return cvm_error_set(err, rc, "KVM_SET_MEMORY_ATTRIBUTES(PRIVATE) %s [0x%llx, 0x%llx): %s",
					     name, (unsigned long long)gpa,
					     (unsigned long long)(gpa + size), cvm_errno_name(rc));
		r->private_attr = true;
	}
	return 0;
}

/*
 * Whether this VM (not the host's default VM: upstream refuses MMAP to private memory) can map
 * its guest_memfds: 1 or 0, or -errno with err set.
 */
static int gmem_mmap_offered(const struct cvm_kvm_vm *vm, struct cvm_error *err)
{
	int rc = cvm_kvm_check_extension(vm->seam, vm->vm_fd, CVM_KVM_CAP_GUEST_MEMFD_FLAGS);
	if (rc < 0)
		return cvm_error_set(err, rc, "KVM_CHECK_EXTENSION(GUEST_MEMFD_FLAGS) on the VM: %s",
				     cvm_errno_name(rc));
	return ((uint64_t)rc & CVM_GUEST_MEMFD_FLAG_MMAP) != 0;
}

int cvm_kvm_vm_add_memory(struct cvm_kvm_vm *vm, uint64_t mem_size, uint64_t fw_size,
			  bool private_mem, struct cvm_error *err)
{
	const struct cvm_kvm_seam *s = vm->seam;
	if (!mem_size || (mem_size & PAGE_OFFSET_MASK) || (fw_size & PAGE_OFFSET_MASK) ||
	    fw_size > (1ull << 30))
		return cvm_error_set(err, -EINVAL,
				     "memory size 0x%llx / firmware size 0x%llx: must be page multiples (firmware <= 1 GiB)",
				     (unsigned long long)mem_size, (unsigned long long)fw_size);
	if (mem_size > (1ull << 46))
		return cvm_error_set(err, -EINVAL, "memory size 0x%llx is larger than 64 TiB",
				     (unsigned long long)mem_size);
	if (private_mem) {
		int rc = cvm_kvm_check_extension(s, vm->vm_fd, CVM_KVM_CAP_MEMORY_ATTRIBUTES);
		if (rc < 0)
			return cvm_error_set(err, rc, "KVM_CHECK_EXTENSION(MEMORY_ATTRIBUTES): %s",
					     cvm_errno_name(rc));
		if (!((uint64_t)rc & CVM_KVM_MEMORY_ATTRIBUTE_PRIVATE))
			return cvm_error_set(err, -EOPNOTSUPP,
					     "this VM cannot have private memory (KVM_CAP_MEMORY_ATTRIBUTES = 0x%x)",
					     (unsigned)rc);
	} else {
		uint64_t need = CVM_GUEST_MEMFD_FLAG_MMAP | CVM_GUEST_MEMFD_FLAG_INIT_SHARED;
		if ((vm->caps.guest_memfd_flags & need) != need)
			return cvm_error_set(err, -EOPNOTSUPP,
					     "this host's guest_memfd cannot be mapped shared (KVM_CAP_GUEST_MEMFD_FLAGS = 0x%llx, need MMAP|INIT_SHARED = 0x3)",
					     (unsigned long long)vm->caps.guest_memfd_flags);
	}
	uint64_t low = mem_size < CVM_KVM_LOW_RAM_LIMIT ? mem_size : CVM_KVM_LOW_RAM_LIMIT;
	int fw_mappable = private_mem && vm->fw_gmem_mmap && fw_size ? gmem_mmap_offered(vm, err) : 0;
	if (fw_mappable < 0)
		return fw_mappable;
	int rc = add_region(vm, "ram-low", 0, low, private_mem, false, err);
	if (!rc && mem_size > low)
		rc = add_region(vm, "ram-high", CVM_KVM_FOUR_GIB, mem_size - low, private_mem, false,
				err);
	if (!rc && fw_size)
		rc = add_region(vm, "firmware", CVM_KVM_FOUR_GIB - fw_size, fw_size, private_mem,
				fw_mappable == 1, err);
	return rc;
}

const struct cvm_kvm_region *cvm_kvm_vm_find_region(const struct cvm_kvm_vm *vm, uint64_t gpa,
						    uint64_t size)
{
	for (size_t i = 0; i < vm->nregions; i++) {
		const struct cvm_kvm_region *r = &vm->regions[i];
		if (gpa >= r->gpa && gpa - r->gpa <= r->size && size <= r->size - (gpa - r->gpa))
			return r;
	}
	return NULL;
}

/* ---- vCPUs ------------------------------------------------------------------------------ */

int cvm_kvm_vm_create_vcpus(struct cvm_kvm_vm *vm, uint32_t n, struct cvm_error *err)
{
	const struct cvm_kvm_seam *s = vm->seam;
	if (vm->nvcpus)
		return cvm_error_set(err, -EEXIST, "vCPUs already created");
	if (!n || n > CVM_MAX_VCPUS)
		return cvm_error_set(err, -EINVAL, "vCPU count %u out of range 1..%u", n, CVM_MAX_VCPUS);
	vm->vcpu_fds = malloc(n * sizeof(int));
	vm->runs = calloc(n, sizeof(*vm->runs));
	if (!vm->vcpu_fds || !vm->runs)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n; i++)
		vm->vcpu_fds[i] = -1;
	vm->nvcpus = n;
	for (uint32_t i = 0; i < n; i++) {
		int rc = cvm_kvm_ioctl(s, vm->vm_fd, KVM_CREATE_VCPU, i);
		if (rc < 0)
			return cvm_error_set(err, rc, "KVM_CREATE_VCPU %u: %s", i, cvm_errno_name(rc));
		vm->vcpu_fds[i] = rc;
		void *map = NULL;
		rc = s->ops->mmap(s->ctx, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				  vm->vcpu_fds[i], &map);
		if (rc < 0)
			return cvm_error_set(err, rc, "mmap kvm_run of vCPU %u: %s", i,
					     cvm_errno_name(rc));
		vm->runs[i] = map;
	}
	return 0;
}

#define CPUID_MAX_ENTRIES 1024u
/* KVM's own limit (KVM_MAX_CPUID_ENTRIES) for years: one call, where starting small cost a
   refused call of about 0.3 ms under nested virtualization. */
#define CPUID_FIRST_ENTRIES 256u

int cvm_kvm_supported_cpuid(const struct cvm_kvm_seam *s, int kvm_fd, struct kvm_cpuid2 **out,
			    struct cvm_error *err)
{
	for (uint32_t nent = CPUID_FIRST_ENTRIES; nent <= CPUID_MAX_ENTRIES; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(struct kvm_cpuid_entry2));
		if (!c)
			return cvm_error_set(err, -ENOMEM, "out of memory");
		c->nent = nent;
		int rc = cvm_kvm_ioctl(s, kvm_fd, KVM_GET_SUPPORTED_CPUID, (unsigned long)c);
		if (rc == 0 && c->nent <= nent) {
			*out = c;
			return 0;
		}
		free(c);
		if (rc != -E2BIG)
			return cvm_error_set(err, rc ? rc : -EIO, "KVM_GET_SUPPORTED_CPUID: %s",
					     cvm_errno_name(rc ? rc : -EIO));
	}
	return cvm_error_set(err, -E2BIG, "KVM_GET_SUPPORTED_CPUID: more than %u entries",
			     CPUID_MAX_ENTRIES);
}

int cvm_kvm_vm_set_cpuid(struct cvm_kvm_vm *vm, const struct kvm_cpuid2 *cpuid,
			 struct cvm_error *err)
{
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		int rc = cvm_kvm_ioctl(vm->seam, vm->vcpu_fds[i], KVM_SET_CPUID2,
				       (unsigned long)(uintptr_t)cpuid);
		if (rc < 0)
			return cvm_error_set(err, rc, "KVM_SET_CPUID2 vCPU %u: %s", i,
					     cvm_errno_name(rc));
	}
	return 0;
}

static void segment_to_kvm(const struct cvm_segment *in, struct kvm_segment *out)
{
	memset(out, 0, sizeof(*out));
	out->base = in->base;
	out->limit = in->limit;
	out->selector = in->selector;
	out->type = (uint8_t)(in->attrib & 0xf);
	out->s = (uint8_t)((in->attrib >> 4) & 1);
	out->dpl = (uint8_t)((in->attrib >> 5) & 3);
	out->present = (uint8_t)((in->attrib >> 7) & 1);
	out->avl = (uint8_t)((in->attrib >> 8) & 1);
	out->l = (uint8_t)((in->attrib >> 9) & 1);
	out->db = (uint8_t)((in->attrib >> 10) & 1);
	out->g = (uint8_t)((in->attrib >> 11) & 1);
	out->unusable = !out->present;
}

int cvm_kvm_vcpu_set_reset(struct cvm_kvm_vm *vm, uint32_t idx, const struct cvm_vcpu_reset *r,
			   struct cvm_error *err)
{
	const struct cvm_kvm_seam *s = vm->seam;
	if (idx >= vm->nvcpus)
		return cvm_error_set(err, -EINVAL, "vCPU %u does not exist (%u vCPUs)", idx,
				     vm->nvcpus);
	int fd = vm->vcpu_fds[idx];
	struct kvm_sregs sr;
	memset(&sr, 0, sizeof(sr));
	int rc = cvm_kvm_ioctl(s, fd, KVM_GET_SREGS, (unsigned long)&sr);
	if (rc < 0)
		return cvm_error_set(err, rc, "KVM_GET_SREGS vCPU %u: %s", idx, cvm_errno_name(rc));
	segment_to_kvm(&r->cs, &sr.cs);
	segment_to_kvm(&r->ds, &sr.ds);
	segment_to_kvm(&r->es, &sr.es);
	segment_to_kvm(&r->fs, &sr.fs);
	segment_to_kvm(&r->gs, &sr.gs);
	segment_to_kvm(&r->ss, &sr.ss);
	segment_to_kvm(&r->tr, &sr.tr);
	segment_to_kvm(&r->ldtr, &sr.ldt);
	/* A task register must stay usable (busy TSS) even when the packed form says absent. */
	sr.tr.unusable = 0;
	sr.tr.present = 1;
	sr.ldt.unusable = 0;
	sr.ldt.present = 1;
	sr.gdt.base = r->gdtr.base;
	sr.gdt.limit = (uint16_t)r->gdtr.limit;
	sr.idt.base = r->idtr.base;
	sr.idt.limit = (uint16_t)r->idtr.limit;
	sr.cr0 = r->cr0;
	sr.cr3 = r->cr3;
	sr.cr4 = r->cr4;
	sr.efer = r->efer;
	rc = cvm_kvm_ioctl(s, fd, KVM_SET_SREGS, (unsigned long)&sr);
	if (rc < 0)
		return cvm_error_set(err, rc, "KVM_SET_SREGS vCPU %u: %s", idx, cvm_errno_name(rc));
	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = r->rip;
	regs.rsp = r->rsp;
	regs.rbp = r->rbp;
	regs.rdx = r->rdx;
	regs.rsi = r->rsi;
	regs.rflags = r->rflags ? r->rflags : 0x2; /* bit 1 is always set */
	rc = cvm_kvm_ioctl(s, fd, KVM_SET_REGS, (unsigned long)&regs);
	if (rc < 0)
		return cvm_error_set(err, rc, "KVM_SET_REGS vCPU %u: %s", idx, cvm_errno_name(rc));
	return 0;
}

/* ---- Pre-fault -------------------------------------------------------------------------- */

/* What the vCPU threads of one pre-fault share: the bytes done by all of them. */
struct prefault_progress {
	const struct cvm_progress *progress;
	_Atomic uint64_t done;
	uint64_t total;
};

struct prefault_job {
	struct cvm_kvm_vm *vm;
	int vcpu_fd;
	uint64_t gpa, size;
	uint64_t done;
	int rc;
	struct cvm_error err;
	struct prefault_progress *shared;
};

static bool cancelled(const struct cvm_kvm_vm *vm)
{
	return vm->cancel && *vm->cancel;
}

static void prefault_report(struct prefault_job *job, uint64_t bytes)
{
	uint64_t all = atomic_fetch_add(&job->shared->done, bytes) + bytes;
	cvm_progress_report(job->shared->progress, "pre-faulting guest memory", all,
			    job->shared->total);
}

/*
 * One vCPU's loop over its range: DESIGN.md's rules, without the EOPNOTSUPP policy.  KVM does a
 * whole range in one call unless interrupted, so with progress wanted the range is asked for in
 * windows of PREFAULT_REPORT_STEP, each call then having something to report.
 */
static void prefault_range(struct prefault_job *job)
{
	const struct cvm_kvm_seam *s = job->vm->seam;
	uint64_t end = job->gpa + job->size;
	uint64_t window = job->shared->progress ? PREFAULT_REPORT_STEP : job->size;
	uint64_t pos = job->gpa; /* everything before it is done */
	struct cvm_kvm_pre_fault_memory r;
	memset(&r, 0, sizeof(r));
	job->rc = 0;
	while (pos < end) {
		if (!r.size) {
			r.gpa = pos;
			r.size = end - pos < window ? end - pos : window;
		}
		uint64_t before = r.size;
		int rc = s->ops->ioctl(s->ctx, job->vcpu_fd, CVM_KVM_PRE_FAULT_MEMORY,
				       (unsigned long)&r);
		if (rc >= 0) {
			if (r.size >= before) {
				job->rc = cvm_error_set(&job->err, -EIO,
							"KVM_PRE_FAULT_MEMORY [0x%llx, 0x%llx): success without progress",
							(unsigned long long)pos, (unsigned long long)end);
				break;
			}
			pos += before - r.size;
			if (job->shared->progress)
				prefault_report(job, before - r.size);
			continue;
		}
		if (rc == -EINTR || rc == -EAGAIN) {
			if (cancelled(job->vm)) {
				job->rc = cvm_error_set(&job->err, -ECANCELED, "pre-fault cancelled");
				break;
			}
			continue;
		}
		job->rc = cvm_error_set(&job->err, rc, "KVM_PRE_FAULT_MEMORY [0x%llx, 0x%llx): %s",
					(unsigned long long)pos, (unsigned long long)end,
					cvm_errno_name(rc));
		break;
	}
	job->done = pos - job->gpa;
}

static void *prefault_thread(void *arg)
{
	prefault_range(arg);
	return NULL;
}

int cvm_kvm_prefault(struct cvm_kvm_vm *vm, uint64_t gpa, uint64_t size,
		     enum cvm_prefault_mode mode, const struct cvm_progress *progress,
		     struct cvm_kvm_prefault_result *res, struct cvm_error *err)
{
	if (mode == CVM_PREFAULT_OFF || !size)
		return 0;
	if (!vm->nvcpus)
		return cvm_error_set(err, -EINVAL, "pre-fault needs a vCPU");
	if ((gpa | size) & PAGE_OFFSET_MASK || gpa + size < gpa)
		return cvm_error_set(err, -EINVAL, "pre-fault range [0x%llx, +0x%llx): not page aligned",
				     (unsigned long long)gpa, (unsigned long long)size);
	uint32_t n = size >= PREFAULT_SPLIT_MIN ? vm->nvcpus : 1;
	if (n > 64)
		n = 64;
	struct prefault_job *jobs = calloc(n, sizeof(*jobs));
	pthread_t *tids = calloc(n, sizeof(*tids));
	bool *started = calloc(n, sizeof(*started));
	if (!jobs || !tids || !started) {
		free(jobs);
		free(tids);
		free(started);
		return cvm_error_set(err, -ENOMEM, "out of memory");
	}
	struct prefault_progress shared = {.progress = progress, .total = size};
	atomic_init(&shared.done, 0);
	uint64_t chunk = (size / n) & ~PAGE_OFFSET_MASK;
	for (uint32_t i = 0; i < n; i++) {
		jobs[i].shared = &shared;
		jobs[i].vm = vm;
		jobs[i].vcpu_fd = vm->vcpu_fds[i];
		jobs[i].gpa = gpa + i * chunk;
		jobs[i].size = i + 1 == n ? size - i * chunk : chunk;
		cvm_error_clear(&jobs[i].err);
	}
	for (uint32_t i = 1; i < n; i++)
		started[i] = pthread_create(&tids[i], NULL, prefault_thread, &jobs[i]) == 0;
	prefault_range(&jobs[0]);
	for (uint32_t i = 1; i < n; i++) {
		if (started[i])
			pthread_join(tids[i], NULL);
		else
			prefault_range(&jobs[i]); /* no thread: do it here */
	}
	int rc = 0;
	bool unsupported = false;
	for (uint32_t i = 0; i < n; i++) {
		res->done += jobs[i].done;
		if (jobs[i].rc == -EOPNOTSUPP)
			unsupported = true;
		else if (jobs[i].rc && !rc) {
			rc = jobs[i].rc;
			if (err)
				*err = jobs[i].err;
		}
	}
	res->requested += size;
	if (n > res->threads)
		res->threads = n;
	free(jobs);
	free(tids);
	free(started);
	if (rc)
		return rc;
	if (unsupported) {
		if (mode == CVM_PREFAULT_REQUIRED)
			return cvm_error_set(err, -EOPNOTSUPP,
					     "KVM_PRE_FAULT_MEMORY [0x%llx, 0x%llx): EOPNOTSUPP, and prefault.mode is \"required\" (KVM_CAP_PRE_FAULT_MEMORY = %d: shadow paging or VM state)",
					     (unsigned long long)gpa, (unsigned long long)(gpa + size),
					     vm->caps.pre_fault_memory);
		res->skipped = true;
		snprintf(res->note, sizeof(res->note),
			 "KVM_PRE_FAULT_MEMORY: EOPNOTSUPP (KVM_CAP_PRE_FAULT_MEMORY = %d), skipped (best-effort)",
			 vm->caps.pre_fault_memory);
	}
	return 0;
}

/* ---- Run loop --------------------------------------------------------------------------- */

static const char *internal_error_name(uint32_t suberror)
{
	switch (suberror) {
	case KVM_INTERNAL_ERROR_EMULATION: return "instruction emulation failed";
	case KVM_INTERNAL_ERROR_SIMUL_EX: return "exception while delivering an exception";
	case KVM_INTERNAL_ERROR_DELIVERY_EV: return "event delivery failed";
	default: return "unexpected exit";
	}
}

static int run_exit_error(struct kvm_run *run, struct cvm_error *err)
{
	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		return cvm_error_set(err, -EFAULT, "guest %s unbacked memory at gpa 0x%llx (MMIO exit, %u bytes)",
				     run->mmio.is_write ? "wrote" : "read",
				     (unsigned long long)run->mmio.phys_addr, run->mmio.len);
	case KVM_EXIT_INTERNAL_ERROR:
		return cvm_error_set(err, -EIO,
				     "KVM internal error (suberror %u: %s): the guest did something KVM "
				     "could not handle without a device model; --run is for small images "
				     "such as examples/guest.bin, a full firmware needs a VMM",
				     run->internal.suberror, internal_error_name(run->internal.suberror));
	case KVM_EXIT_FAIL_ENTRY:
		return cvm_error_set(err, -EIO, "VM entry failed (hardware reason 0x%llx)",
				     (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	default:
		return cvm_error_set(err, -EIO, "unexpected exit reason %u", run->exit_reason);
	}
}

/*
 * A served certificate request holds the files' locks across the KVM_RUN in which KVM has the
 * firmware sign the report (immediate_exit makes it return right after): drop them now.
 */
static void release_certs(struct cvm_kvm_vm *vm, struct kvm_run *run)
{
	if (!cvm_snp_certs_locked(vm->snp_certs))
		return;
	cvm_snp_certs_unlock(vm->snp_certs);
	run->immediate_exit = 0;
}

int cvm_kvm_run(struct cvm_kvm_vm *vm, uint32_t idx, cvm_kvm_io_fn on_io, void *ctx,
		struct cvm_kvm_run_result *out, struct cvm_error *err)
{
	const struct cvm_kvm_seam *s = vm->seam;
	struct cvm_kvm_run_result res;
	memset(&res, 0, sizeof(res));
	if (idx >= vm->nvcpus)
		return cvm_error_set(err, -EINVAL, "vCPU %u does not exist", idx);
	struct kvm_run *run = vm->runs[idx];
	for (;;) {
		if (cancelled(vm)) {
			release_certs(vm, run);
			res.stop = CVM_KVM_STOP_CANCELLED;
			break;
		}
		int rc = s->ops->ioctl(s->ctx, vm->vcpu_fds[idx], KVM_RUN, 0);
		release_certs(vm, run);
		if (rc < 0) {
			if (rc == -EINTR || rc == -EAGAIN)
				continue;
			if ((rc == -EFAULT || rc == -EHWPOISON) &&
			    run->exit_reason == CVM_KVM_EXIT_MEMORY_FAULT) {
				const struct cvm_kvm_memory_fault *mf =
					(const struct cvm_kvm_memory_fault *)(const void *)&run->hw;
				return cvm_error_set(err, rc,
						     "KVM_EXIT_MEMORY_FAULT: gpa 0x%llx size 0x%llx (%s access; the range's private/shared state does not match)",
						     (unsigned long long)mf->gpa,
						     (unsigned long long)mf->size,
						     mf->flags & CVM_KVM_MEMORY_EXIT_FLAG_PRIVATE ? "private"
												  : "shared");
			}
			return cvm_error_set(err, rc, "KVM_RUN vCPU %u: %s", idx, cvm_errno_name(rc));
		}
		res.exits++;
		if (run->exit_reason == KVM_EXIT_HLT) {
			res.stop = CVM_KVM_STOP_HLT;
			break;
		}
		if (run->exit_reason == KVM_EXIT_SHUTDOWN || run->exit_reason == KVM_EXIT_SYSTEM_EVENT) {
			res.stop = CVM_KVM_STOP_SHUTDOWN;
			break;
		}
		if (run->exit_reason == CVM_KVM_EXIT_TDX) {
			cvm_kvm_tdx_exit_answer(run, &res);
			continue;
		}
		if (run->exit_reason == CVM_KVM_EXIT_SNP_REQ_CERTS) {
			cvm_kvm_snp_req_certs_answer(vm, run, &res);
			continue;
		}
		if (run->exit_reason != KVM_EXIT_IO) {
			run_exit_error(run, err);
			return cvm_error_wrap(err, "vCPU %u", idx);
		}
		res.io_exits++;
		uint64_t bytes = (uint64_t)run->io.size * run->io.count;
		if (run->io.data_offset > vm->run_size || bytes > vm->run_size - run->io.data_offset)
			return cvm_error_set(err, -EIO, "KVM_EXIT_IO data outside kvm_run");
		uint8_t *data = (uint8_t *)run + run->io.data_offset;
		if (run->io.direction == KVM_EXIT_IO_IN) {
			memset(data, 0xff, bytes);
			continue;
		}
		struct cvm_kvm_io io = {run->io.port, run->io.size, run->io.count, data};
		if (on_io && !on_io(ctx, &io)) {
			res.stop = CVM_KVM_STOP_LIMIT;
			break;
		}
	}
	if (out)
		*out = res;
	return 0;
}
