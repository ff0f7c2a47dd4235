/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The spec fake KVM, core (see helper_spec_kvm.h and the rule list in spec_kvm_priv.h): the
 * seam, descriptors, the table of ioctls with one handler each, guest memory (guest_memfd,
 * memslots, the PRIVATE attribute), vCPU state, pre-fault, scripted answers and the event log.
 * The SNP and TDX sub-commands live in helper_spec_kvm_snp.c and helper_spec_kvm_tdx.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tests/unit/spec_kvm_priv.h"

#define SPEC_API_VERSION 12        /* KVM_GET_API_VERSION's answer since Linux 2.6.22 */
#define SPEC_RUN_SIZE (3 * 4096)   /* KVM_GET_VCPU_MMAP_SIZE */
#define SPEC_MAX_VCPU_ID 4096
#define MEM_LOG_DIRTY_PAGES 1u     /* [U 2] */
#define MEM_READONLY 2u
#define MEM_GUEST_MEMFD 4u
#define GMEM_FLAG_MMAP 1ull        /* [U 3] */
#define GMEM_FLAG_INIT_SHARED 2ull
#define ATTR_PRIVATE (1ull << 3)   /* [U 4] */
#define CAP_SPLIT_IRQCHIP 121      /* [X] */
#define CAP_APIC_BUS_CYCLES_NS 237 /* [U 1] */
#define MSR_PAT_DEFAULT 0x0007040600070406ull

/* ---- Small helpers ---------------------------------------------------------------------- */

int spec_user_read(void *dst, uint64_t src, size_t len)
{
	if (!len)
		return 0;
	if (!src)
		return -EFAULT;
	struct iovec local = {dst, len}, remote = {(void *)(uintptr_t)src, len};
	ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

int spec_user_write(uint64_t dst, const void *src, size_t len)
{
	if (!len)
		return 0;
	if (!dst)
		return -EFAULT;
	struct iovec local = {(void *)(uintptr_t)src, len}, remote = {(void *)(uintptr_t)dst, len};
	ssize_t n = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

int spec_copy_out(struct spec_call *c, const struct spec_layout *l)
{
	return spec_user_write(c->data, c->in, l->size);
}

static void append_refusal(struct spec_kvm *k, const char *name, const char *why)
{
	size_t add = strlen(name) + strlen(why) + 3;
	char *r = realloc(k->refusals, k->refusals_len + add + 1);
	if (!r)
		return;
	k->refusals = r;
	k->refusals_len += (size_t)snprintf(r + k->refusals_len, add + 1, "%s: %s\n", name, why);
}

int spec_refuse(struct spec_call *c, int err, const char *fmt, ...)
{
	char why[sizeof(c->ev->refused)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(c->ev->refused, sizeof(c->ev->refused), "%s", why);
	append_refusal(c->k, c->ev->name, why);
	return -err;
}

static int new_fd(struct spec_kvm *k, enum spec_fd_kind kind, int vm, int idx)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fd >= SPEC_MAX_FDS) {
		close(fd);
		return -EMFILE;
	}
	k->fds[fd] = (struct spec_fd){kind, vm, idx};
	return fd;
}

/* A guest_memfd's descriptor is a memfd of its size: its contents outlive any mapping. */
static int new_gmem_fd(struct spec_kvm *k, int vm, int idx, uint64_t size)
{
	int fd = memfd_create("spec-guest-memfd", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fd >= SPEC_MAX_FDS || ftruncate(fd, (off_t)size)) {
		int rc = fd >= SPEC_MAX_FDS ? -EMFILE : -errno;
		close(fd);
		return rc;
	}
	k->fds[fd] = (struct spec_fd){SPEC_FD_GMEM, vm, idx};
	return fd;
}

static const struct spec_fd *fd_of(const struct spec_kvm *k, int fd)
{
	static const struct spec_fd none = {SPEC_FD_NONE, -1, -1};
	return fd >= 0 && fd < SPEC_MAX_FDS ? &k->fds[fd] : &none;
}

/* ---- Guest memory ----------------------------------------------------------------------- */

struct spec_slot *spec_gmem_slot(struct spec_vm *vm, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < vm->nslots; i++) {
		struct spec_slot *s = &vm->slots[i];
		if (s->gmem >= 0 && gpa >= s->gpa && gpa - s->gpa < s->size &&
		    len <= s->size - (gpa - s->gpa))
			return s;
	}
	return NULL;
}

int spec_gmem_page_state(const struct spec_vm *vm, const struct spec_slot *s, uint64_t gpa)
{
	if (s->gmem < 0 || !vm->gmem[s->gmem].state)
		return SPEC_GP_VM;
	return vm->gmem[s->gmem].state[(s->gmem_offset + (gpa - s->gpa)) / SPEC_PAGE];
}

int spec_gmem_read(const struct spec_vm *vm, const struct spec_slot *s, uint64_t gpa,
		   uint8_t *page)
{
	if (s->gmem < 0)
		return -EFAULT;
	off_t off = (off_t)(s->gmem_offset + (gpa - s->gpa));
	return pread(vm->gmem[s->gmem].fd, page, SPEC_PAGE, off) == SPEC_PAGE ? 0 : -EFAULT;
}

static const struct spec_slot *slot_at(const struct spec_vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < vm->nslots; i++)
		if (gpa >= vm->slots[i].gpa && gpa - vm->slots[i].gpa < vm->slots[i].size)
			return &vm->slots[i];
	return NULL;
}

/* The private ranges are kept sorted, disjoint and merged. */
bool spec_is_private(const struct spec_vm *vm, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < vm->npriv; i++)
		if (gpa >= vm->priv[i].start && gpa + len <= vm->priv[i].end)
			return true;
	return false;
}

static int set_private(struct spec_vm *vm, uint64_t start, uint64_t end, bool priv)
{
	struct spec_range out[SPEC_MAX_RANGES];
	unsigned n = 0;
	for (unsigned i = 0; i < vm->npriv; i++) {
		struct spec_range r = vm->priv[i];
		if (r.end <= start || r.start >= end) {
			out[n++] = r;
		} else {
			if (r.start < start)
				out[n++] = (struct spec_range){r.start, start};
			if (r.end > end && n < SPEC_MAX_RANGES)
				out[n++] = (struct spec_range){end, r.end};
		}
		if (n >= SPEC_MAX_RANGES - 1)
			return -ENOSPC;
	}
	if (priv)
		out[n++] = (struct spec_range){start, end};
	/* sort (insertion) and merge */
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && out[j - 1].start > out[j].start; j--) {
			struct spec_range t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	vm->npriv = 0;
	for (unsigned i = 0; i < n; i++) {
		if (vm->npriv && vm->priv[vm->npriv - 1].end >= out[i].start) {
			if (out[i].end > vm->priv[vm->npriv - 1].end)
				vm->priv[vm->npriv - 1].end = out[i].end;
		} else {
			vm->priv[vm->npriv++] = out[i];
		}
	}
	return 0;
}

bool spec_populated(const struct spec_slot *s, uint64_t gpa)
{
	uint64_t page = (gpa - s->gpa) / SPEC_PAGE;
	return s->populated && (s->populated[page / 8] >> (page % 8) & 1);
}

int spec_mark_populated(struct spec_slot *s, uint64_t gpa)
{
	if (!s->populated && !(s->populated = calloc(s->size / SPEC_PAGE / 8 + 1, 1)))
		return -ENOMEM;
	uint64_t page = (gpa - s->gpa) / SPEC_PAGE;
	s->populated[page / 8] |= (uint8_t)(1u << (page % 8));
	return 0;
}

/* ---- /dev/kvm ioctls -------------------------------------------------------------------- */

static int h_api_version(struct spec_call *c)
{
	(void)c;
	return SPEC_API_VERSION;
}

static const struct spec_tee *tee_of_type(unsigned long type)
{
	static const struct spec_tee *const tees[] = {&spec_tee_default, &spec_tee_snp,
						      &spec_tee_tdx};
	for (size_t i = 0; i < sizeof(tees) / sizeof(tees[0]); i++)
		if (tees[i]->vm_type == type)
			return tees[i];
	return NULL;
}

/* [U 7] the type is KVM_CREATE_VM's argument; KVM_CAP_VM_TYPES lists the supported ones. */
static int h_create_vm(struct spec_call *c)
{
	struct spec_kvm *k = c->k;
	unsigned long type = c->arg;
	const struct spec_tee *tee = tee_of_type(type);
	if (type >= 64 || !(k->vm_types & (1ull << type)) || !tee)
		return spec_refuse(c, EINVAL, "VM type %lu not supported (KVM_CAP_VM_TYPES 0x%llx)",
				   type, (unsigned long long)k->vm_types);
	if (k->nvms == SPEC_MAX_VMS)
		return spec_refuse(c, ENOMEM, "more VMs than the fake keeps");
	struct spec_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->type = type;
	vm->tee = tee;
	vm->pre_fault_allowed = !(tee->attributes & ATTR_PRIVATE); /* [U 5] svm_vm_init */
	vm->default_tsc_khz = k->host_tsc_khz;
	vm->snp.digest_rc = -ENODATA;
	int fd = new_fd(k, SPEC_FD_VM, (int)k->nvms, -1);
	if (fd < 0) {
		free(vm);
		return fd;
	}
	vm->fd = fd;
	k->vms[k->nvms++] = vm;
	return fd;
}

/* [U 1] answers on /dev/kvm (vm NULL) and on a VM fd. */
/* The guest_memfd flags this VM is offered (KVM_CAP_GUEST_MEMFD_FLAGS on the VM). */
static uint64_t vm_gmem_flags(const struct spec_kvm *k, const struct spec_vm *vm)
{
	return vm->tee->gmem_flags & ~k->gmem_flags_withheld;
}

static int h_check_extension(struct spec_call *c)
{
	const struct spec_vm *vm = c->vm;
	switch (c->arg) {
	case 231: /* USER_MEMORY2 */
	case 232: /* MEMORY_FAULT_INFO */
	case 234: /* GUEST_MEMFD */
	case CAP_APIC_BUS_CYCLES_NS:
	case CAP_SPLIT_IRQCHIP:
		return 1;
	case 233: /* MEMORY_ATTRIBUTES: the VM's own, or all KVM supports */
		return (int)(vm ? vm->tee->attributes : ATTR_PRIVATE);
	case 235: /* VM_TYPES */
		return (int)c->k->vm_types;
	case 236: /* PRE_FAULT_MEMORY: tdp_enabled */
		return c->k->prefault_errno == EOPNOTSUPP ? 0 : 1;
	case 244: /* GUEST_MEMFD_FLAGS: INIT_SHARED only without private memory [GMEM] */
		return (int)(vm ? vm_gmem_flags(c->k, vm)
				: GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED);
	default:
		return 0;
	}
}

static int h_vcpu_mmap_size(struct spec_call *c)
{
	(void)c;
	return SPEC_RUN_SIZE;
}

/*
 * The host CPUID the fake offers: an EPYC-Milan-like part with 48 physical address bits, with
 * what KVM advertises there and the SNP firmware refuses in a guest ([P]): TSC_DEADLINE (leaf 1
 * ECX 24), TSC_ADJUST (7.0 EBX 1), SPEC_CTRL..SSBD (7.0 EDX 26-31), VIRT_SSBD (0x80000008 EBX
 * 25).
 */
static const uint32_t host_cpuid[][7] = {
	/* function, index, flags, eax, ebx, ecx, edx */
	{0x0, 0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65},
	{0x1, 0, 0, 0x00a00f11, 0x00000800, 0x7ff8320b, 0x178bfbff},
	{0x7, 0, 1, 0, 0x219c97ab, 0x0040068c, 0xfc000010},
	{0xd, 0, 1, 0x7, 0x340, 0x340, 0},
	{0xd, 1, 1, 0xf, 0x340, 0, 0},
	{0x80000000, 0, 0, 0x80000021, 0x68747541, 0x444d4163, 0x69746e65},
	{0x80000001, 0, 0, 0x00a00f11, 0, 0x75c237ff, 0x2fd3fbff},
	{0x80000008, 0, 0, 0x00303030, 0x3bb7d7ff, 0x0000f03f, 0},
};

void spec_put_cpuid_entry(uint8_t *e, const uint32_t v[7])
{
	memset(e, 0, L_CPUID_ENTRY.size);
	unsigned idx[] = {CE_FUNCTION, CE_INDEX, CE_FLAGS, CE_EAX, CE_EBX, CE_ECX, CE_EDX};
	for (unsigned i = 0; i < 7; i++)
		spec_put(e, &L_CPUID_ENTRY, idx[i], v[i]);
}

/* [X] KVM_GET_SUPPORTED_CPUID: E2BIG while nent is too small, else nent and the entries. */
static int h_supported_cpuid(struct spec_call *c)
{
	uint32_t n = sizeof(host_cpuid) / sizeof(host_cpuid[0]);
	if (spec_get(c->in, &L_CPUID2, CP_NENT) < n)
		return -E2BIG;
	uint8_t e[40];
	for (uint32_t i = 0; i < n; i++) {
		spec_put_cpuid_entry(e, host_cpuid[i]);
		if (spec_user_write(c->arg + L_CPUID2.size + i * L_CPUID_ENTRY.size, e, sizeof(e)))
			return -EFAULT;
	}
	spec_put(c->in, &L_CPUID2, CP_NENT, n);
	return 0;
}

/* ---- VM ioctls -------------------------------------------------------------------------- */

static int tee_rule(struct spec_call *c, int (*rule)(struct spec_call *, const char *),
		    const char *what)
{
	return rule ? rule(c, what) : 0;
}

/* [U 3] size page aligned and non-zero, flags among those the VM offers. */
static int h_create_gmem(struct spec_call *c)
{
	struct spec_vm *vm = c->vm;
	int rc = tee_rule(c, vm->tee->memory_setup, "KVM_CREATE_GUEST_MEMFD");
	if (rc)
		return rc;
	uint64_t size = spec_get(c->in, &L_CREATE_GMEM, CG_SIZE);
	uint64_t flags = spec_get(c->in, &L_CREATE_GMEM, CG_FLAGS);
	if (!size || size % SPEC_PAGE)
		return spec_refuse(c, EINVAL, "size 0x%llx is not a non-zero page multiple",
				   (unsigned long long)size);
	if (flags & ~vm_gmem_flags(c->k, vm))
		return spec_refuse(c, EINVAL, "flags 0x%llx not offered to this VM (0x%llx)",
				   (unsigned long long)flags,
				   (unsigned long long)vm_gmem_flags(c->k, vm));
	if (vm->ngmem == SPEC_MAX_GMEMS)
		return spec_refuse(c, ENOMEM, "more guest_memfds than the fake keeps");
	int vmi = c->k->fds[vm->fd].vm;
	int fd = new_gmem_fd(c->k, vmi, (int)vm->ngmem, size);
	if (fd < 0)
		return fd;
	vm->gmem[vm->ngmem++] = (struct spec_gmem){fd, size, flags, NULL};
	vm->memory_seen = true;
	return fd;
}

static bool gmem_bound(const struct spec_vm *vm, int gmem, uint64_t off, uint64_t size)
{
	for (unsigned i = 0; i < vm->nslots; i++) {
		const struct spec_slot *s = &vm->slots[i];
		if (s->gmem == gmem && off < s->gmem_offset + s->size && s->gmem_offset < off + size)
			return true;
	}
	return false;
}

static int delete_slot(struct spec_call *c, uint32_t id)
{
	struct spec_vm *vm = c->vm;
	for (unsigned i = 0; i < vm->nslots; i++) {
		if (vm->slots[i].slot != id)
			continue;
		free(vm->slots[i].populated);
		vm->slots[i] = vm->slots[--vm->nslots];
		return 0;
	}
	return 0;
}

/* [U 2] and pitfall 2 of launch-flows.md: no read-only slots with private memory. */
static int h_region2(struct spec_call *c)
{
	struct spec_vm *vm = c->vm;
	int rc = tee_rule(c, vm->tee->memory_setup, "KVM_SET_USER_MEMORY_REGION2");
	if (rc)
		return rc;
	const uint8_t *in = c->in;
	uint32_t id = (uint32_t)spec_get(in, &L_REGION2, R2_SLOT);
	uint32_t flags = (uint32_t)spec_get(in, &L_REGION2, R2_FLAGS);
	uint64_t gpa = spec_get(in, &L_REGION2, R2_GPA), size = spec_get(in, &L_REGION2, R2_SIZE);
	uint64_t uaddr = spec_get(in, &L_REGION2, R2_UADDR);
	uint64_t goff = spec_get(in, &L_REGION2, R2_GMEM_OFFSET);
	int gfd = (int)spec_get(in, &L_REGION2, R2_GMEM);
	if (flags & ~(MEM_LOG_DIRTY_PAGES | MEM_READONLY | MEM_GUEST_MEMFD))
		return spec_refuse(c, EINVAL, "unknown flags 0x%x", flags);
	if ((flags & MEM_READONLY) && (vm->tee->attributes & ATTR_PRIVATE))
		return spec_refuse(c, EINVAL, "KVM_MEM_READONLY on a VM with private memory");
	if ((gpa | size | uaddr) % SPEC_PAGE)
		return spec_refuse(c, EINVAL, "gpa 0x%llx size 0x%llx userspace_addr 0x%llx not page aligned",
				   (unsigned long long)gpa, (unsigned long long)size,
				   (unsigned long long)uaddr);
	if (!size)
		return delete_slot(c, id);
	for (unsigned i = 0; i < vm->nslots; i++) {
		const struct spec_slot *s = &vm->slots[i];
		if (s->slot == id)
			return spec_refuse(c, EINVAL, "slot %u exists (moving or changing slots is not modelled)",
					   id);
		if (gpa < s->gpa + s->size && s->gpa < gpa + size)
			return spec_refuse(c, EEXIST, "[0x%llx, 0x%llx) overlaps slot %u",
					   (unsigned long long)gpa, (unsigned long long)(gpa + size),
					   s->slot);
	}
	int gmem = -1;
	if (flags & MEM_GUEST_MEMFD) {
		const struct spec_fd *f = fd_of(c->k, gfd);
		if (f->kind == SPEC_FD_NONE)
			return spec_refuse(c, EBADF, "guest_memfd %d is not a descriptor", gfd);
		if (f->kind != SPEC_FD_GMEM || c->k->vms[f->vm] != vm)
			return spec_refuse(c, EINVAL, "descriptor %d is not a guest_memfd of this VM", gfd);
		const struct spec_gmem *g = &vm->gmem[f->idx];
		if (goff % SPEC_PAGE || goff > g->size || size > g->size - goff)
			return spec_refuse(c, EINVAL, "[0x%llx, +0x%llx) is outside the 0x%llx-byte guest_memfd",
					   (unsigned long long)goff, (unsigned long long)size,
					   (unsigned long long)g->size);
		if (gmem_bound(vm, f->idx, goff, size))
			return spec_refuse(c, EINVAL, "guest_memfd range already bound to a slot");
		gmem = f->idx;
	}
	if (vm->nslots == SPEC_MAX_SLOTS)
		return spec_refuse(c, ENOMEM, "more memslots than the fake keeps");
	vm->slots[vm->nslots++] = (struct spec_slot){id, flags, gpa, size, uaddr, goff, gmem, NULL};
	vm->memory_seen = true;
	return 0;
}

/* [U 4] page aligned non-zero range, flags 0, attributes the VM supports. */
static int h_mem_attr(struct spec_call *c)
{
	uint64_t addr = spec_get(c->in, &L_MEM_ATTR, MA_ADDRESS);
	uint64_t size = spec_get(c->in, &L_MEM_ATTR, MA_SIZE);
	uint64_t attrs = spec_get(c->in, &L_MEM_ATTR, MA_ATTRIBUTES);
	if (!size || (addr | size) % SPEC_PAGE || addr + size < addr)
		return spec_refuse(c, EINVAL, "[0x%llx, +0x%llx) is not a page-aligned non-empty range",
				   (unsigned long long)addr, (unsigned long long)size);
	if (attrs & ~c->vm->tee->attributes)
		return spec_refuse(c, EINVAL, "attributes 0x%llx not supported by this VM (0x%llx)",
				   (unsigned long long)attrs,
				   (unsigned long long)c->vm->tee->attributes);
	if (set_private(c->vm, addr, addr + size, attrs & ATTR_PRIVATE))
		return spec_refuse(c, ENOMEM, "too many attribute ranges for the fake");
	return 0;
}

static int h_create_vcpu(struct spec_call *c)
{
	struct spec_vm *vm = c->vm;
	int rc = vm->tee->vcpu_create ? vm->tee->vcpu_create(c) : 0;
	if (rc)
		return rc;
	if (c->arg >= SPEC_MAX_VCPU_ID || vm->nvcpus == SPEC_MAX_VCPUS)
		return spec_refuse(c, EINVAL, "vCPU id %lu out of range", c->arg);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].id == c->arg)
			return spec_refuse(c, EEXIST, "vCPU id %lu exists", c->arg);
	int fd = new_fd(c->k, SPEC_FD_VCPU, c->k->fds[vm->fd].vm, (int)vm->nvcpus);
	if (fd < 0)
		return fd;
	struct spec_vcpu *v = &vm->vcpus[vm->nvcpus++];
	memset(v, 0, sizeof(*v));
	v->id = c->arg;
	v->fd = fd;
	v->pat = MSR_PAT_DEFAULT;
	v->rcx = ~0ull;
	return fd;
}

/* [X] split irqchip (TDX needs it) and the APIC bus frequency: before any vCPU. */
static int h_enable_cap(struct spec_call *c)
{
	uint64_t cap = spec_get(c->in, &L_ENABLE_CAP, EC_CAP);
	if (cap != CAP_SPLIT_IRQCHIP && cap != CAP_APIC_BUS_CYCLES_NS)
		return spec_refuse(c, EINVAL, "capability %llu is not modelled",
				   (unsigned long long)cap);
	if (c->vm->nvcpus)
		return spec_refuse(c, EINVAL, "capability %llu after the first vCPU",
				   (unsigned long long)cap);
	if (cap == CAP_SPLIT_IRQCHIP)
		c->vm->split_irqchip = true;
	return 0;
}

/*
 * KVM_SET_TSC_KHZ: on a VM it sets the default frequency of the vCPUs to come, and KVM refuses it
 * once a vCPU exists (EINVAL); SNP's LAUNCH_START hands that default to the firmware as
 * desired_tsc_khz for a SecureTSC guest.
 */
static int h_set_tsc_khz(struct spec_call *c)
{
	if (!c->arg || c->arg > UINT32_MAX)
		return spec_refuse(c, EINVAL, "TSC frequency %lu kHz", c->arg);
	if (c->ev->on == SPEC_FD_VM) {
		if (c->vm->nvcpus)
			return spec_refuse(c, EINVAL, "KVM_SET_TSC_KHZ on the VM after its first vCPU");
		if (c->vm->snp.started)
			return spec_refuse(c, EINVAL, "KVM_SET_TSC_KHZ after SNP_LAUNCH_START: the firmware has its frequency already");
		c->vm->default_tsc_khz = (uint32_t)c->arg;
	}
	return 0;
}

/*
 * [U 8a] KVM_GET_DEVICE_ATTR on /dev/kvm: group KVM_X86_GRP_SEV (1), attribute
 * KVM_X86_SEV_VMSA_FEATURES (0) is the u64 of VMSA features KVM_SEV_INIT2 accepts; a KVM without
 * SEV answers ENXIO (kvm-uapi.md 9).
 */
static int h_get_device_attr(struct spec_call *c)
{
	uint64_t group = spec_get(c->in, &L_DEVICE_ATTR, DA_GROUP);
	uint64_t attr = spec_get(c->in, &L_DEVICE_ATTR, DA_ATTR);
	uint8_t v[8];
	/* amd-memory-encryption.rst (7.0): KVM_X86_SEV_SNP_REQ_CERTS (2), 1 when offered */
	if (group == 1 && attr == 2) {
		if (c->k->snp_req_certs_errno)
			return -c->k->snp_req_certs_errno;
		spec_put_le(v, 8, c->k->snp_req_certs_attr);
		return spec_user_write(spec_get(c->in, &L_DEVICE_ATTR, DA_ADDR), v, sizeof(v));
	}
	if (group != 1 || attr != 0)
		return -ENXIO;
	if (c->k->sev_attr_errno)
		return -c->k->sev_attr_errno;
	spec_put_le(v, 8, c->k->sev_vmsa_features);
	return spec_user_write(spec_get(c->in, &L_DEVICE_ATTR, DA_ADDR), v, sizeof(v));
}

/* ---- guest_memfd ioctls (the posted in-place conversion series) ------------------------- */

#define ATTR2_ZERO 1ull     /* content modes of the posted series */
#define ATTR2_PRESERVE 2ull

/*
 * KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd as the posted series documents it: ENOTTY on a
 * kernel without it (every upstream one, the default here); EINVAL for an empty, unaligned or
 * out-of-file range, attributes other than PRIVATE, an unknown or double content mode, or
 * PRESERVE where the VM type does not allow it; EAGAIN with error_offset for a page that has
 * other references; ENOMEM.
 */
/* The first offset of [off, off + size) of the guest_memfd that a caller's mapping covers. */
static bool gmem_mapped_at(const struct spec_kvm *k, const struct spec_vm *vm, int gmem,
			   uint64_t off, uint64_t size, uint64_t *at)
{
	int vmi = k->fds[vm->fd].vm;
	for (unsigned i = 0; i < k->nmaps; i++) {
		const struct spec_map *m = &k->maps[i];
		if (m->vm == vmi && m->gmem == gmem && off < m->len) {
			*at = off;
			return size > 0;
		}
	}
	return false;
}

/*
 * The conversion itself: every page of the range gets the new state; ZERO (and a conversion to
 * private without PRESERVE, whose contents the series leaves undefined) clears the contents.
 */
static int gmem_convert(struct spec_vm *vm, int gmem, uint64_t off, uint64_t size, uint64_t attrs,
			uint64_t flags)
{
	struct spec_gmem *g = &vm->gmem[gmem];
	if (!g->state && !(g->state = calloc(g->size / SPEC_PAGE, 1)))
		return -ENOMEM;
	bool keep = flags & ATTR2_PRESERVE;
	uint8_t to = !(attrs & ATTR_PRIVATE) ? SPEC_GP_SHARED
		     : keep			 ? SPEC_GP_PRIVATE_KEPT
						 : SPEC_GP_PRIVATE;
	memset(g->state + off / SPEC_PAGE, to, size / SPEC_PAGE);
	if (!keep && fallocate(g->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			       (off_t)size))
		return -errno;
	return 0;
}

static int h_gmem_attr2(struct spec_call *c)
{
	struct spec_kvm *k = c->k;
	if (!k->gmem_attr2) /* an ioctl the kernel does not know: an answer, not a refused rule */
		return -ENOTTY;
	const struct spec_gmem *g = &c->vm->gmem[c->gmem];
	uint64_t off = spec_get(c->in, &L_MEM_ATTR2, MA2_OFFSET);
	uint64_t size = spec_get(c->in, &L_MEM_ATTR2, MA2_SIZE);
	uint64_t attrs = spec_get(c->in, &L_MEM_ATTR2, MA2_ATTRIBUTES);
	uint64_t flags = spec_get(c->in, &L_MEM_ATTR2, MA2_FLAGS);
	if (!size || (off | size) % SPEC_PAGE || off > g->size || size > g->size - off)
		return spec_refuse(c, EINVAL, "[0x%llx, +0x%llx) is not a page range of the 0x%llx-byte file",
				   (unsigned long long)off, (unsigned long long)size,
				   (unsigned long long)g->size);
	if (attrs & ~ATTR_PRIVATE)
		return spec_refuse(c, EINVAL, "attributes 0x%llx", (unsigned long long)attrs);
	if (flags & ~(ATTR2_ZERO | ATTR2_PRESERVE) || flags == (ATTR2_ZERO | ATTR2_PRESERVE))
		return spec_refuse(c, EINVAL, "content mode 0x%llx", (unsigned long long)flags);
	if ((flags & ATTR2_PRESERVE) && !k->gmem_attr2_preserve)
		return spec_refuse(c, EINVAL, "PRESERVE is not supported for this VM type");
	if (k->gmem_attr2_fails) {
		k->gmem_attr2_fails--;
		if (k->gmem_attr2_errno == EAGAIN)
			spec_put(c->in, &L_MEM_ATTR2, MA2_ERROR_OFFSET, k->gmem_attr2_error_offset);
		return -k->gmem_attr2_errno;
	}
	uint64_t held;
	if ((attrs & ATTR_PRIVATE) && !k->gmem_attr2_unmaps &&
	    gmem_mapped_at(k, c->vm, c->gmem, off, size, &held)) {
		spec_put(c->in, &L_MEM_ATTR2, MA2_ERROR_OFFSET, held);
		return spec_refuse(c, EAGAIN, "offset 0x%llx is still mapped by the caller",
				   (unsigned long long)held);
	}
	return gmem_convert(c->vm, c->gmem, off, size, attrs, flags);
}

void spec_kvm_withhold_gmem_flags(struct spec_kvm *k, uint64_t flags)
{
	k->gmem_flags_withheld = flags;
}

void spec_kvm_gmem_attr2_unmaps(struct spec_kvm *k, bool unmaps)
{
	k->gmem_attr2_unmaps = unmaps;
}

void spec_kvm_set_gmem_attr2(struct spec_kvm *k, bool supported, bool preserve)
{
	k->gmem_attr2 = supported;
	k->gmem_attr2_preserve = preserve;
}

void spec_kvm_gmem_attr2_fail(struct spec_kvm *k, int errno_, unsigned times, uint64_t error_offset)
{
	k->gmem_attr2_errno = errno_;
	k->gmem_attr2_fails = times;
	k->gmem_attr2_error_offset = error_offset;
}

/* ---- /dev/sev ---------------------------------------------------------------------------- */

#define SEV_GET_ID2 8         /* psp-sev.h enum sev_cmd */
#define SNP_PLATFORM_STATUS 9
#define SNP_STATUS_SIZE 32    /* psp-sev.h sev_user_data_snp_status, __packed */
#define SNP_STATUS_FLAGS 8    /* u32: bit 0 mask_chip_id, 1 mask_chip_key, 2 vlek_en */
#define SNP_STATUS_REPORTED_TCB 24
#define CHIP_ID_SIZE 64

/* psp-sev.h SEV_ISSUE_CMD: the two commands that name the host's VCEK (others EINVAL). */
static int h_sev_issue(struct spec_call *c)
{
	uint64_t cmd = spec_get(c->in, &L_SEV_ISSUE_CMD, SV_CMD);
	uint64_t data = spec_get(c->in, &L_SEV_ISSUE_CMD, SV_DATA);
	if (cmd == SNP_PLATFORM_STATUS) {
		uint8_t st[SNP_STATUS_SIZE];
		memset(st, 0, sizeof(st));
		st[0] = 1;
		st[1] = 55;
		st[2] = 1; /* INIT */
		spec_put_le(st + SNP_STATUS_FLAGS, 4, c->k->vlek_loaded ? 1u << 2 : 0);
		spec_put_le(st + 16, 8, c->k->reported_tcb);
		spec_put_le(st + SNP_STATUS_REPORTED_TCB, 8, c->k->reported_tcb);
		return data ? spec_user_write(data, st, sizeof(st)) : spec_refuse(c, EINVAL, "no data");
	}
	if (cmd == SEV_GET_ID2) {
		uint8_t id2[12];
		if (spec_user_read(id2, data, sizeof(id2)))
			return -EFAULT;
		uint64_t addr = spec_get(id2, &L_SEV_GET_ID2, GI_ADDRESS);
		if (spec_get(id2, &L_SEV_GET_ID2, GI_LENGTH) < CHIP_ID_SIZE)
			return spec_refuse(c, EIO, "SEV_GET_ID2 length below %d", CHIP_ID_SIZE);
		return spec_user_write(addr, c->k->chip_id, CHIP_ID_SIZE);
	}
	return spec_refuse(c, EINVAL, "SEV command %llu is not one the fake knows",
			   (unsigned long long)cmd);
}

/* ---- vCPU ioctls ------------------------------------------------------------------------ */

static int vcpu_state_rule(struct spec_call *c)
{
	return tee_rule(c, c->vm->tee->vcpu_state, c->ev->name);
}

static int h_get_regs(struct spec_call *c)
{
	memcpy(c->in, c->vcpu->regs, sizeof(c->vcpu->regs));
	return vcpu_state_rule(c);
}

static int h_set_regs(struct spec_call *c)
{
	int rc = vcpu_state_rule(c);
	if (rc)
		return rc;
	memcpy(c->vcpu->regs, c->in, sizeof(c->vcpu->regs));
	c->vcpu->has_regs = true;
	return 0;
}

/* What KVM_GET_SREGS shows before any KVM_SET_SREGS: zeroes but the APIC base (BSP bit on 0). */
static int h_get_sregs(struct spec_call *c)
{
	int rc = vcpu_state_rule(c);
	if (rc)
		return rc;
	if (c->vcpu->has_sregs) {
		memcpy(c->in, c->vcpu->sregs, sizeof(c->vcpu->sregs));
	} else {
		memset(c->in, 0, L_SREGS.size);
		spec_put(c->in, &L_SREGS, SR_APIC_BASE, 0xfee00800ull | (c->vcpu->id ? 0 : 0x100));
	}
	return 0;
}

static int h_set_sregs(struct spec_call *c)
{
	int rc = vcpu_state_rule(c);
	if (rc)
		return rc;
	memcpy(c->vcpu->sregs, c->in, sizeof(c->vcpu->sregs));
	c->vcpu->has_sregs = true;
	return 0;
}

static int h_set_fpu(struct spec_call *c)
{
	int rc = vcpu_state_rule(c);
	if (rc)
		return rc;
	memcpy(c->vcpu->fpu, c->in, sizeof(c->vcpu->fpu));
	c->vcpu->has_fpu = true;
	return 0;
}

/* [X] KVM_SET_XCRS: at most 16, only XCR0, and XCR0 keeps x87 (bit 0). */
static int h_set_xcrs(struct spec_call *c)
{
	int rc = vcpu_state_rule(c);
	if (rc)
		return rc;
	uint64_t n = spec_get(c->in, &L_XCRS, XC_NR_XCRS);
	if (n > 16)
		return spec_refuse(c, EINVAL, "%llu XCRs", (unsigned long long)n);
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *x = c->in + L_XCRS.f[XC_XCRS].off + i * L_XCR.size;
		if (spec_get(x, &L_XCR, XR_XCR) != 0 || !(spec_get(x, &L_XCR, XR_VALUE) & 1))
			return spec_refuse(c, EINVAL, "XCR%llu = 0x%llx",
					   (unsigned long long)spec_get(x, &L_XCR, XR_XCR),
					   (unsigned long long)spec_get(x, &L_XCR, XR_VALUE));
	}
	memcpy(c->vcpu->xcrs, c->in, sizeof(c->vcpu->xcrs));
	c->vcpu->has_xcrs = true;
	return 0;
}

/* [X] KVM_SET_MSRS returns how many were set; the VMSA model places IA32_PAT only. */
static int h_set_msrs(struct spec_call *c)
{
	int rc = vcpu_state_rule(c);
	if (rc)
		return rc;
	uint64_t n = spec_get(c->in, &L_MSRS, MS_NMSRS);
	if (n > 64)
		return spec_refuse(c, E2BIG, "%llu MSRs", (unsigned long long)n);
	for (uint64_t i = 0; i < n; i++) {
		uint8_t e[16];
		if (spec_user_read(e, c->arg + L_MSRS.size + i * L_MSR_ENTRY.size, sizeof(e)))
			return -EFAULT;
		uint32_t index = (uint32_t)spec_get(e, &L_MSR_ENTRY, ME_INDEX);
		if (index == 0x277)
			c->vcpu->pat = spec_get(e, &L_MSR_ENTRY, ME_DATA);
		else if (!c->vcpu->unmodelled_msr)
			c->vcpu->unmodelled_msr = index;
	}
	return (int)n;
}

static int h_set_cpuid2(struct spec_call *c)
{
	uint64_t n = spec_get(c->in, &L_CPUID2, CP_NENT);
	return n > SPEC_MAX_CPUID ? spec_refuse(c, E2BIG, "%llu CPUID entries", (unsigned long long)n)
				  : 0;
}

/* [U 5] EINVAL checks first, then whether KVM allows it, then the memslots. */
static int h_pre_fault(struct spec_call *c)
{
	struct spec_vm *vm = c->vm;
	uint64_t gpa = spec_get(c->in, &L_PRE_FAULT, PF_GPA);
	uint64_t size = spec_get(c->in, &L_PRE_FAULT, PF_SIZE);
	if (!size || (gpa | size) % SPEC_PAGE || gpa + size < gpa)
		return spec_refuse(c, EINVAL, "[0x%llx, +0x%llx) is not a page-aligned non-empty range",
				   (unsigned long long)gpa, (unsigned long long)size);
	uint64_t shared = vm->tee->shared_bit ? vm->tee->shared_bit(vm) : 0;
	if (shared && ((gpa | (gpa + size - 1)) & shared))
		return spec_refuse(c, EINVAL, "gpa 0x%llx is in the shared alias", (unsigned long long)gpa);
	if (vm->tee->prefault && (vm->tee->prefault(c)))
		return -EOPNOTSUPP;
	if (c->k->prefault_errno)
		return -c->k->prefault_errno;
	const struct spec_slot *s = slot_at(vm, gpa);
	if (!s)
		return -ENOENT;
	uint64_t n = s->gpa + s->size - gpa;
	if (n > size)
		n = size;
	if (c->k->prefault_step && n > c->k->prefault_step)
		n = c->k->prefault_step;
	spec_put(c->in, &L_PRE_FAULT, PF_GPA, gpa + n);
	spec_put(c->in, &L_PRE_FAULT, PF_SIZE, size - n);
	return 0;
}

/* The default VM: no private memory, a mappable shared guest_memfd, pre-fault at any time. */
const struct spec_tee spec_tee_default = {
	.name = "default",
	.vm_type = SPEC_VM_DEFAULT,
	.attributes = 0,
	.gmem_flags = GMEM_FLAG_MMAP | GMEM_FLAG_INIT_SHARED,
};

/* ---- The table -------------------------------------------------------------------------- */

struct spec_ioctl {
	const char *name;
	unsigned long nr;
	const struct spec_layout *arg; /* NULL: an integer argument */
	unsigned on;
	int (*handle)(struct spec_call *c);
	const char *cite;
};

#define ENCRYPT_OP_NR 0xc008aebaul

static const struct spec_ioctl ioctls[] = {
	{"KVM_GET_API_VERSION", 0xae00, NULL, ON_SYS, h_api_version, "x86 uAPI _IO(0xAE, 0x00)"},
	{"KVM_CREATE_VM", 0xae01, NULL, ON_SYS, h_create_vm, "tdx-measurement.md 5"},
	{"KVM_CHECK_EXTENSION", 0xae03, NULL, ON_SYS | ON_VM, h_check_extension, "kvm-uapi.md 1"},
	{"KVM_GET_VCPU_MMAP_SIZE", 0xae04, NULL, ON_SYS, h_vcpu_mmap_size, "x86 uAPI _IO(0xAE, 0x04)"},
	{"KVM_GET_SUPPORTED_CPUID", 0xc008ae05, &L_CPUID2, ON_SYS, h_supported_cpuid, "x86 uAPI"},
	{"KVM_CREATE_VCPU", 0xae41, NULL, ON_VM, h_create_vcpu, "tdx-measurement.md 5"},
	{"KVM_SET_USER_MEMORY_REGION2", 0x40a0ae49, &L_REGION2, ON_VM, h_region2, "kvm-uapi.md 2"},
	{"KVM_GET_REGS", 0x8090ae81, &L_REGS, ON_VCPU, h_get_regs, "x86 uAPI"},
	{"KVM_SET_REGS", 0x4090ae82, &L_REGS, ON_VCPU, h_set_regs, "x86 uAPI"},
	{"KVM_GET_SREGS", 0x8138ae83, &L_SREGS, ON_VCPU, h_get_sregs, "x86 uAPI"},
	{"KVM_SET_SREGS", 0x4138ae84, &L_SREGS, ON_VCPU, h_set_sregs, "x86 uAPI"},
	{"KVM_SET_MSRS", 0x4008ae89, &L_MSRS, ON_VCPU, h_set_msrs, "x86 uAPI"},
	{"KVM_SET_FPU", 0x41a0ae8d, &L_FPU, ON_VCPU, h_set_fpu, "x86 uAPI"},
	{"KVM_SET_CPUID2", 0x4008ae90, &L_CPUID2, ON_VCPU, h_set_cpuid2, "x86 uAPI"},
	{"KVM_SET_TSC_KHZ", 0xaea2, NULL, ON_VM | ON_VCPU, h_set_tsc_khz, "launch-flows.md 2"},
	{"KVM_ENABLE_CAP", 0x4068aea3, &L_ENABLE_CAP, ON_VM, h_enable_cap, "x86 uAPI"},
	{"KVM_SET_XCRS", 0x4188aea7, &L_XCRS, ON_VCPU, h_set_xcrs, "x86 uAPI"},
	{"KVM_GET_DEVICE_ATTR", 0x4018aee2, &L_DEVICE_ATTR, ON_SYS, h_get_device_attr,
	 "kvm-uapi.md 8a"},
	{"KVM_MEMORY_ENCRYPT_OP", ENCRYPT_OP_NR, NULL, ON_VM | ON_VCPU, NULL, "kvm-uapi.md 8a/8b"},
	{"KVM_SET_MEMORY_ATTRIBUTES", 0x4020aed2, &L_MEM_ATTR, ON_VM, h_mem_attr, "kvm-uapi.md 4"},
	{"KVM_CREATE_GUEST_MEMFD", 0xc040aed4, &L_CREATE_GMEM, ON_VM, h_create_gmem, "kvm-uapi.md 3"},
	{"KVM_PRE_FAULT_MEMORY", 0xc040aed5, &L_PRE_FAULT, ON_VCPU, h_pre_fault, "kvm-uapi.md 5"},
	{"SEV_ISSUE_CMD", 0xc0185300, &L_SEV_ISSUE_CMD, ON_SEV, h_sev_issue, "psp-sev.h"},
	{"KVM_SET_MEMORY_ATTRIBUTES2", 0xc080aed2, &L_MEM_ATTR2, ON_GMEM, h_gmem_attr2,
	 "posted gmem attributes series"},
};

#define IOC_DIR(nr) ((unsigned)((nr) >> 30) & 3u)
#define IOC_WRITE 1u /* userspace writes: the kernel copies in */
#define IOC_READ 2u  /* the kernel copies out */
#define IOC_SIZE(nr) ((unsigned)((nr) >> 16) & 0x3fffu)

static const struct spec_ioctl *ioctl_of(unsigned long nr)
{
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		if (ioctls[i].nr == nr)
			return &ioctls[i];
	return NULL;
}

unsigned long spec_kvm_ioctl_number(const char *name)
{
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		if (strcmp(ioctls[i].name, name) == 0)
			return ioctls[i].nr;
	return 0;
}

const char *spec_kvm_table_check(void)
{
	static char msg[160];
	const char *bad = spec_layouts_check();
	if (bad)
		return bad;
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++) {
		const struct spec_ioctl *io = &ioctls[i];
		unsigned want = io->arg ? io->arg->size : io->nr == ENCRYPT_OP_NR ? 8 : 0;
		unsigned type = io->on == ON_SEV ? 'S' : 0xae;
		if ((io->nr >> 8 & 0xff) != type || IOC_SIZE(io->nr) != want ||
		    (IOC_DIR(io->nr) != 0) != (want != 0)) {
			snprintf(msg, sizeof(msg), "%s 0x%lx: size field %u, direction %u, struct %u bytes",
				 io->name, io->nr, IOC_SIZE(io->nr), IOC_DIR(io->nr), want);
			return msg;
		}
	}
	return NULL;
}

/* ---- Dispatch --------------------------------------------------------------------------- */

static struct spec_kvm_event *new_event(struct spec_kvm *k, const char *name)
{
	if (k->nev == k->evcap) {
		size_t cap = k->evcap ? k->evcap * 2 : 256;
		struct spec_kvm_event *ev = realloc(k->ev, cap * sizeof(*ev));
		if (!ev)
			return NULL;
		k->ev = ev;
		k->evcap = cap;
	}
	struct spec_kvm_event *e = &k->ev[k->nev++];
	memset(e, 0, sizeof(*e));
	e->name = name;
	e->vcpu = -1;
	return e;
}

/* Every entry counts the calls of its step; the first whose turn it is answers this one. */
static const struct spec_script *take_script(struct spec_kvm *k, const char *name)
{
	const struct spec_script *hit = NULL;
	for (unsigned i = 0; i < k->nscript; i++) {
		struct spec_script *s = &k->script[i];
		if (strcmp(s->step, name) == 0 && s->seen++ == s->nth && !hit)
			hit = s;
	}
	return hit;
}

static bool inject(struct spec_kvm *k, const char *step)
{
	k->calls++;
	if (!k->fail_at || k->calls != k->fail_at)
		return false;
	snprintf(k->failed_step, sizeof(k->failed_step), "%s", step);
	return true;
}

/* What one ioctl needs to know before it is answered. */
struct resolved {
	const struct spec_ioctl *io;
	const struct spec_subcmd *sub; /* KVM_MEMORY_ENCRYPT_OP */
	const char *name;
	uint8_t cmd[24];
	bool cmd_read;
	uint32_t sub_id;
};

static void resolve(const struct spec_vm *vm, unsigned long req, unsigned long arg,
		    struct resolved *r)
{
	memset(r, 0, sizeof(*r));
	r->io = ioctl_of(req);
	r->name = "(unknown ioctl)";
	if (!r->io)
		return;
	r->name = r->io->name;
	if (req != ENCRYPT_OP_NR || !vm || !vm->tee->cmd)
		return;
	const struct spec_tee *tee = vm->tee;
	r->cmd_read = spec_user_read(r->cmd, arg, tee->cmd->size) == 0;
	if (!r->cmd_read)
		return;
	r->sub_id = (uint32_t)spec_get(r->cmd, tee->cmd, tee->cmd_id);
	for (size_t i = 0; i < tee->nsubs; i++)
		if (tee->subs[i].id == r->sub_id) {
			r->sub = &tee->subs[i];
			r->name = r->sub->name;
		}
}

static int answer_encrypt_op(struct spec_call *c, const struct resolved *r)
{
	const struct spec_tee *tee = c->vm ? c->vm->tee : NULL;
	enum spec_fd_kind on = c->ev->on;
	if (!tee || !tee->cmd)
		return spec_refuse(c, ENOTTY, "no KVM_MEMORY_ENCRYPT_OP on this %s",
				   c->vm ? "VM type" : "descriptor");
	if (!r->cmd_read)
		return -EFAULT;
	memcpy(c->ev->cmd, r->cmd, tee->cmd->size);
	c->ev->cmd_layout = tee->cmd;
	if (on == SPEC_FD_VCPU) {
		bool any = false;
		for (size_t i = 0; i < tee->nsubs; i++)
			any |= (tee->subs[i].on & ON_VCPU) != 0;
		if (!any)
			return spec_refuse(c, ENOTTY, "no vCPU KVM_MEMORY_ENCRYPT_OP for %s", tee->name);
	}
	const struct spec_subcmd *sub = r->sub;
	if (!sub)
		return tee->unknown_sub ? tee->unknown_sub(c, r->sub_id)
					: spec_refuse(c, EINVAL, "unknown sub-command %u", r->sub_id);
	if (!(sub->on & (1u << on)))
		return spec_refuse(c, EINVAL, "issued on a %s descriptor (%s)",
				   on == SPEC_FD_VCPU ? "vCPU" : "VM", sub->cite);
	const char *mbz = spec_mbz_violation(r->cmd, tee->cmd);
	if (mbz)
		return spec_refuse(c, EINVAL, "command field %s must be 0 on input (%s)", mbz,
				   tee->cmd->cite);
	c->data = spec_get(r->cmd, tee->cmd, tee->cmd_data);
	if (sub->data) {
		if (spec_user_read(c->in, c->data, sub->data->size))
			return -EFAULT;
		memcpy(c->ev->in, c->in, sub->data->size);
		c->ev->layout = sub->data;
		if ((mbz = spec_mbz_violation(c->in, sub->data)))
			return spec_refuse(c, EINVAL, "%s must be 0 (%s)", mbz, sub->data->cite);
	}
	if (c->script && !(sub->flags & SUB_PARTIAL)) {
		spec_put(c->cmd, tee->cmd, tee->cmd_error, c->script->fw_error);
		return -c->script->err;
	}
	return sub->handle(c);
}

/* Bytes of entries after a kvm_cpuid2 or kvm_msrs header. */
static size_t trailing_bytes(const struct spec_layout *l, const uint8_t *in)
{
	if (l == &L_CPUID2)
		return (size_t)spec_get(in, l, CP_NENT) * L_CPUID_ENTRY.size;
	if (l == &L_MSRS)
		return (size_t)spec_get(in, l, MS_NMSRS) * L_MSR_ENTRY.size;
	return 0;
}

static int answer(struct spec_call *c, const struct resolved *r)
{
	const struct spec_ioctl *io = r->io;
	if (!io)
		return spec_refuse(c, ENOTTY, "ioctl 0x%lx is not one the fake knows", c->ev->req);
	if (!(io->on & (1u << c->ev->on)))
		return spec_refuse(c, ENOTTY, "not an ioctl of this descriptor (%s)", io->cite);
	if (io->nr == ENCRYPT_OP_NR)
		return answer_encrypt_op(c, r);
	c->data = c->arg;
	if (io->arg) {
		c->ev->layout = io->arg;
		if ((IOC_DIR(io->nr) & IOC_WRITE)) {
			if (spec_user_read(c->in, c->arg, io->arg->size))
				return -EFAULT;
			/* the event keeps the entries of the variable-length arguments too */
			size_t n = io->arg->size + trailing_bytes(io->arg, c->in);
			if (n > SPEC_IN_MAX || spec_user_read(c->ev->in, c->arg, n))
				memcpy(c->ev->in, c->in, io->arg->size);
		}
		const char *mbz = spec_mbz_violation(c->in, io->arg);
		if (mbz)
			return spec_refuse(c, EINVAL, "%s must be 0 (%s)", mbz, io->arg->cite);
	}
	if (c->script)
		return -c->script->err;
	int rc = io->handle(c);
	if (io->arg && (IOC_DIR(io->nr) & IOC_READ) && spec_user_write(c->arg, c->in, io->arg->size))
		rc = -EFAULT;
	return rc;
}

static int seam_ioctl(void *ctx, int fd, unsigned long req, unsigned long arg)
{
	struct spec_kvm *k = ctx;
	uint8_t work[SPEC_IN_MAX];
	memset(work, 0, sizeof(work));
	pthread_mutex_lock(&k->mu);
	const struct spec_fd *f = fd_of(k, fd);
	struct spec_vm *vm = f->vm >= 0 && f->kind != SPEC_FD_SYS ? k->vms[f->vm] : NULL;
	struct resolved r;
	resolve(vm, req, arg, &r);
	struct spec_kvm_event *ev = new_event(k, r.name);
	int rc = -ENOMEM;
	if (ev) {
		ev->on = f->kind;
		ev->req = req;
		ev->arg = arg;
		ev->vcpu = f->kind == SPEC_FD_VCPU ? f->idx : -1;
		struct spec_call c = {k, vm, f->kind == SPEC_FD_VCPU && vm ? &vm->vcpus[f->idx] : NULL,
				      arg, ev, work, r.cmd, 0, NULL,
				      f->kind == SPEC_FD_GMEM ? f->idx : -1};
		if (inject(k, r.name)) {
			rc = -k->fail_errno;
		} else if (vm && vm->dead) {
			rc = spec_refuse(&c, EIO, "the VM is dead (after KVM_TDX_TERMINATE_VM)");
		} else {
			c.script = take_script(k, r.name);
			rc = answer(&c, &r);
			if (req == ENCRYPT_OP_NR && r.cmd_read && vm && vm->tee->cmd &&
			    spec_user_write(arg, r.cmd, vm->tee->cmd->size))
				rc = -EFAULT;
		}
		ev->rc = rc;
	}
	pthread_mutex_unlock(&k->mu);
	return rc;
}

/* ---- open, close, mmap ------------------------------------------------------------------ */

static int seam_open(void *ctx, const char *path, int flags)
{
	(void)flags;
	struct spec_kvm *k = ctx;
	char step[64];
	snprintf(step, sizeof(step), "open %s", path);
	pthread_mutex_lock(&k->mu);
	int rc;
	if (inject(k, step))
		rc = -k->fail_errno;
	else if (strcmp(path, "/dev/kvm") == 0)
		rc = new_fd(k, SPEC_FD_SYS, -1, -1);
	else if (strcmp(path, "/dev/sev") == 0)
		rc = new_fd(k, SPEC_FD_SEV, -1, -1);
	else
		rc = -ENOENT;
	pthread_mutex_unlock(&k->mu);
	return rc;
}

static int seam_close(void *ctx, int fd)
{
	struct spec_kvm *k = ctx;
	pthread_mutex_lock(&k->mu);
	if (fd >= 0 && fd < SPEC_MAX_FDS)
		k->fds[fd] = (struct spec_fd){SPEC_FD_NONE, -1, -1};
	int rc = close(fd) ? -errno : 0;
	pthread_mutex_unlock(&k->mu);
	return rc;
}

/* [U 3]: a guest_memfd maps only with MMAP and MAP_SHARED; its private pages are not readable. */
static int map_of_fd(struct spec_kvm *k, size_t len, int flags, int fd, int *prot)
{
	const struct spec_fd *f = fd_of(k, fd);
	if (f->kind == SPEC_FD_VCPU)
		return len <= SPEC_RUN_SIZE ? 0 : -EINVAL;
	if (f->kind != SPEC_FD_GMEM)
		return -ENODEV;
	const struct spec_gmem *g = &k->vms[f->vm]->gmem[f->idx];
	if (!(g->flags & GMEM_FLAG_MMAP))
		return -ENODEV;
	if (!(flags & MAP_SHARED) || len > g->size)
		return -EINVAL;
	if (!(g->flags & GMEM_FLAG_INIT_SHARED) && !g->state)
		*prot = PROT_NONE; /* touching a private page: SIGBUS on KVM, a fault here */
	return 0;
}

static int seam_mmap(void *ctx, size_t len, int prot, int flags, int fd, void **out)
{
	struct spec_kvm *k = ctx;
	pthread_mutex_lock(&k->mu);
	int rc = 0;
	enum spec_fd_kind kind = fd_of(k, fd)->kind;
	if (inject(k, "mmap"))
		rc = -k->fail_errno;
	else if (k->nmaps == SPEC_MAX_MAPS)
		rc = -ENOMEM;
	else if (!(flags & MAP_ANONYMOUS))
		rc = map_of_fd(k, len, flags, fd, &prot);
	if (!rc) {
		/* a guest_memfd maps its memfd (contents kept), anything else anonymous memory */
		bool gmem = kind == SPEC_FD_GMEM;
		int mflags = (flags & (MAP_SHARED | MAP_PRIVATE)) | MAP_ANONYMOUS | MAP_NORESERVE;
		if (!(flags & MAP_ANONYMOUS))
			mflags = gmem ? MAP_SHARED : MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE;
		void *p = mmap(NULL, len, prot, mflags, gmem ? fd : -1, 0);
		if (p == MAP_FAILED) {
			rc = -errno;
		} else {
			const struct spec_fd *f = fd_of(k, fd);
			k->maps[k->nmaps++] = (struct spec_map){p, len, kind, gmem ? f->vm : -1,
								gmem ? f->idx : -1};
			*out = p;
		}
	}
	pthread_mutex_unlock(&k->mu);
	return rc;
}

static int seam_munmap(void *ctx, void *addr, size_t len)
{
	struct spec_kvm *k = ctx;
	pthread_mutex_lock(&k->mu);
	int rc = -EINVAL;
	for (unsigned i = 0; i < k->nmaps; i++) {
		if (k->maps[i].addr == addr && k->maps[i].len == len) {
			rc = munmap(addr, len) ? -errno : 0;
			k->maps[i] = k->maps[--k->nmaps];
			break;
		}
	}
	pthread_mutex_unlock(&k->mu);
	return rc;
}

static const struct cvm_kvm_ops spec_ops = {
	.open = seam_open,
	.close = seam_close,
	.ioctl = seam_ioctl,
	.mmap = seam_mmap,
	.munmap = seam_munmap,
};

/* ---- Life and configuration ------------------------------------------------------------- */

struct spec_kvm *spec_kvm_new(void)
{
	struct spec_kvm *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	pthread_mutex_init(&k->mu, NULL);
	k->seam.ops = &spec_ops;
	k->seam.ctx = k;
	for (int i = 0; i < SPEC_MAX_FDS; i++)
		k->fds[i] = (struct spec_fd){SPEC_FD_NONE, -1, -1};
	k->vm_types = 1ull << SPEC_VM_DEFAULT | 1ull << SPEC_VM_SNP | 1ull << SPEC_VM_TDX;
	k->sev_vmsa_features = 1ull << 5; /* DebugSwap, what KVM has offered the longest */
	k->host_tsc_khz = SPEC_HOST_TSC_KHZ;
	k->snp_req_certs_attr = 1;
	/* [P] what the SNP firmware refuses in a guest's CPUID (QEMU's list) */
	static const struct spec_cpuid_refusal firmware_refuses[] = {
		{0x1, ~0u, 2, 1u << 24},        {0x7, 0, 1, 1u << 1},
		{0x7, 0, 3, 0xfc000000u},       {0x80000008, ~0u, 1, 1u << 25},
	};
	for (size_t i = 0; i < sizeof(firmware_refuses) / sizeof(firmware_refuses[0]); i++)
		k->cpuid_refused[k->ncpuid_refused++] = firmware_refuses[i];
	k->fail_errno = EIO;
	return k;
}

void spec_kvm_free(struct spec_kvm *k)
{
	if (!k)
		return;
	for (unsigned i = 0; i < k->nvms; i++) {
		struct spec_vm *vm = k->vms[i];
		for (unsigned s = 0; s < vm->nslots; s++)
			free(vm->slots[s].populated);
		for (unsigned g = 0; g < vm->ngmem; g++)
			free(vm->gmem[g].state);
		if (vm->tee->vm_free)
			vm->tee->vm_free(vm);
		free(vm);
	}
	for (unsigned i = 0; i < k->nmaps; i++)
		munmap(k->maps[i].addr, k->maps[i].len);
	for (int fd = 0; fd < SPEC_MAX_FDS; fd++)
		if (k->fds[fd].kind != SPEC_FD_NONE)
			close(fd);
	free(k->ev);
	free(k->refusals);
	pthread_mutex_destroy(&k->mu);
	free(k);
}

const struct cvm_kvm_seam *spec_kvm_seam(struct spec_kvm *k)
{
	return &k->seam;
}

void spec_kvm_set_vm_types(struct spec_kvm *k, uint64_t mask)
{
	k->vm_types = mask;
}

void spec_kvm_set_prefault(struct spec_kvm *k, int errno_, uint64_t step)
{
	k->prefault_errno = errno_;
	k->prefault_step = step;
}

void spec_kvm_set_sev_vmsa_features(struct spec_kvm *k, uint64_t features, int errno_)
{
	k->sev_vmsa_features = features;
	k->sev_attr_errno = errno_;
}

void spec_kvm_set_snp_req_certs(struct spec_kvm *k, uint64_t attr, int errno_)
{
	k->snp_req_certs_attr = attr;
	k->snp_req_certs_errno = errno_;
}

void spec_kvm_set_snp_host(struct spec_kvm *k, const uint8_t chip_id[64], uint64_t reported_tcb,
			   bool vlek_loaded)
{
	memcpy(k->chip_id, chip_id, sizeof(k->chip_id));
	k->reported_tcb = reported_tcb;
	k->vlek_loaded = vlek_loaded;
}

uint8_t *spec_kvm_guest_shared(const struct spec_kvm *k, unsigned long type, uint64_t gpa,
			       uint64_t len)
{
	const struct spec_vm *vm = NULL;
	for (unsigned i = 0; i < k->nvms; i++)
		if (k->vms[i] && k->vms[i]->type == type)
			vm = k->vms[i];
	for (unsigned i = 0; vm && i < vm->nslots; i++) {
		const struct spec_slot *s = &vm->slots[i];
		if (gpa >= s->gpa && len <= s->size && gpa - s->gpa <= s->size - len && s->uaddr)
			return (uint8_t *)(uintptr_t)(s->uaddr + (gpa - s->gpa));
	}
	return NULL;
}

void spec_kvm_snp_cpuid_refuse(struct spec_kvm *k, uint32_t function, uint32_t index,
			       unsigned reg, uint32_t bits)
{
	if (k->ncpuid_refused < SPEC_MAX_CPUID_REFUSED && reg < 4)
		k->cpuid_refused[k->ncpuid_refused++] =
			(struct spec_cpuid_refusal){function, index, reg, bits};
}

void spec_kvm_set_chunk(struct spec_kvm *k, uint64_t pages)
{
	k->chunk = pages;
}

int spec_kvm_script(struct spec_kvm *k, const char *step, unsigned nth, uint64_t pages, int errno_,
		    uint32_t fw_error)
{
	if (k->nscript == SPEC_MAX_SCRIPT)
		return -ENOSPC;
	struct spec_script *s = &k->script[k->nscript++];
	memset(s, 0, sizeof(*s));
	snprintf(s->step, sizeof(s->step), "%s", step);
	s->nth = nth;
	s->pages = pages;
	s->err = errno_;
	s->fw_error = fw_error;
	return 0;
}

void spec_kvm_fail_call(struct spec_kvm *k, unsigned n, int errno_)
{
	k->fail_at = n;
	k->fail_errno = errno_;
}

unsigned spec_kvm_calls(const struct spec_kvm *k)
{
	return k->calls;
}

const char *spec_kvm_failed_step(const struct spec_kvm *k)
{
	return k->failed_step;
}

int spec_kvm_live_maps(const struct spec_kvm *k)
{
	return (int)k->nmaps;
}

/* ---- Reading the log -------------------------------------------------------------------- */

size_t spec_kvm_nevents(const struct spec_kvm *k)
{
	return k->nev;
}

const struct spec_kvm_event *spec_kvm_event_at(const struct spec_kvm *k, size_t i)
{
	return i < k->nev ? &k->ev[i] : NULL;
}

const struct spec_kvm_event *spec_kvm_find(const struct spec_kvm *k, const char *name, size_t nth)
{
	for (size_t i = 0; i < k->nev; i++)
		if (strcmp(k->ev[i].name, name) == 0 && nth-- == 0)
			return &k->ev[i];
	return NULL;
}

size_t spec_kvm_pos(const struct spec_kvm *k, const struct spec_kvm_event *e)
{
	return e ? (size_t)(e - k->ev) : SIZE_MAX;
}

static const struct spec_field *field_or_die(const void *layout, const char *field,
					     const char *event)
{
	const struct spec_field *f = spec_field_named(layout, field);
	if (!f) {
		fprintf(stderr, "spec_kvm: %s has no field %s\n", event, field);
		abort();
	}
	return f;
}

uint64_t spec_kvm_field(const struct spec_kvm_event *e, const char *field)
{
	const struct spec_field *f = field_or_die(e->layout, field, e->name);
	return f->size <= 8 ? spec_le(e->in + f->off, f->size) : 0;
}

uint64_t spec_kvm_cmd_field(const struct spec_kvm_event *e, const char *field)
{
	const struct spec_field *f = field_or_die(e->cmd_layout, field, e->name);
	return f->size <= 8 ? spec_le(e->cmd + f->off, f->size) : 0;
}

const uint8_t *spec_kvm_field_bytes(const struct spec_kvm_event *e, const char *field, size_t *len)
{
	const struct spec_field *f = field_or_die(e->layout, field, e->name);
	*len = f->size;
	return e->in + f->off;
}

const char *spec_kvm_refusals(const struct spec_kvm *k)
{
	return k->refusals ? k->refusals : "";
}

const struct spec_vm *spec_last_vm(const struct spec_kvm *k, unsigned long type)
{
	for (unsigned i = k->nvms; i-- > 0;)
		if (k->vms[i]->type == type)
			return k->vms[i];
	return NULL;
}

/* ---- A wrapping seam -------------------------------------------------------------------- */

static int wrap_open(void *c, const char *p, int f)
{
	const struct spec_seam_wrap *w = c;
	return w->inner->ops->open(w->inner->ctx, p, f);
}

static int wrap_close(void *c, int fd)
{
	const struct spec_seam_wrap *w = c;
	return w->inner->ops->close(w->inner->ctx, fd);
}

static int wrap_mmap(void *c, size_t len, int prot, int flags, int fd, void **out)
{
	const struct spec_seam_wrap *w = c;
	return w->inner->ops->mmap(w->inner->ctx, len, prot, flags, fd, out);
}

static int wrap_munmap(void *c, void *a, size_t len)
{
	const struct spec_seam_wrap *w = c;
	return w->inner->ops->munmap(w->inner->ctx, a, len);
}

static int wrap_ioctl(void *c, int fd, unsigned long req, unsigned long arg)
{
	struct spec_seam_wrap *w = c;
	return w->ioctl(w, fd, req, arg);
}

void spec_seam_wrap_init(struct spec_seam_wrap *w, const struct cvm_kvm_seam *inner,
			 int (*ioctl)(struct spec_seam_wrap *self, int fd, unsigned long req,
				      unsigned long arg))
{
	w->ops = (struct cvm_kvm_ops){wrap_open, wrap_close, wrap_ioctl, wrap_mmap, wrap_munmap};
	w->seam = (struct cvm_kvm_seam){&w->ops, w};
	w->inner = inner;
	w->ioctl = ioctl;
}

int spec_seam_wrap_pass(struct spec_seam_wrap *w, int fd, unsigned long req, unsigned long arg)
{
	return w->inner->ops->ioctl(w->inner->ctx, fd, req, arg);
}
