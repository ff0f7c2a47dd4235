/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The spec fake KVM, TDX part: the KVM_MEMORY_ENCRYPT_OP sub-commands of a TD ([U 8b], [T 5]),
 * its rules, and MRTD as the TDX module accumulates it ([T 3]): TDH.MEM.PAGE.ADD for every page
 * KVM_TDX_INIT_MEM_REGION populates and, with KVM_TDX_MEASURE_MEMORY_REGION, TDH.MR.EXTEND for
 * each 256 bytes of the page as copied from its source, page by page as KVM does ([T 4]).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/spec_kvm_priv.h"

/* [U 8b] sub-command ids */
#define TDX_CAPABILITIES 0
#define TDX_INIT_VM 1
#define TDX_INIT_VCPU 2
#define TDX_INIT_MEM_REGION 3
#define TDX_FINALIZE_VM 4
#define TDX_GET_CPUID 5
#define TDX_TERMINATE_VM 6 /* [U 8b]: intel-tdx.rst of the v6.17 pull */
#define TDX_MEASURE_MEMORY_REGION 1u /* [U 8b] cmd.flags of INIT_MEM_REGION */

/* The fake TDX module: DEBUG, SEPT_VE_DISABLE, PKS, PERFMON ([T 5]); x87..AVX-512, PT, PKRU,
 * CET, AMX state components. */
#define SUPPORTED_ATTRS (1ull << 0 | 1ull << 28 | 1ull << 30 | 1ull << 63)
#define SUPPORTED_XFAM 0x61be7ull

/* The CPUID the TDX module lets KVM configure: function, index, flags, eax..edx masks. */
static const uint32_t configurable[][7] = {
	{0x1, 0, 0, 0, 0, 0xffffffff, 0xffffffff},
	{0x4, 0, 1, 0xffffffff, 0xffffffff, 0xffffffff, 0},
	{0x6, 0, 0, 0xffffffff, 0, 0, 0},
	{0x7, 0, 1, 0, 0xffffffff, 0xffffffff, 0xffffffff},
	{0x14, 0, 1, 0xffffffff, 0xffffffff, 0xffffffff, 0},
	{0xd, 0, 1, 0xffffffff, 0, 0, 0},
	{0xd, 1, 1, 0xffffffff, 0, 0, 0},
	{0x80000008, 0, 0, 0x00ff0000, 0, 0, 0}, /* EAX[23:16] = GPAW [T 5] */
};
#define NCONFIGURABLE (sizeof(configurable) / sizeof(configurable[0]))

static uint32_t cmd_flags(const struct spec_call *c)
{
	return (uint32_t)spec_get(c->cmd, &L_TDX_CMD, TC_FLAGS);
}

static int no_flags(struct spec_call *c)
{
	uint32_t f = cmd_flags(c);
	return f ? spec_refuse(c, EINVAL, "flags 0x%x: this command takes none", f) : 0;
}

static void mrtd_buffer(struct spec_tdx *t, const char *op, uint64_t gpa, const uint8_t *data)
{
	uint8_t b[128];
	memset(b, 0, sizeof(b));
	memcpy(b, op, strlen(op));
	spec_put_le(b + 16, 8, gpa);
	EVP_DigestUpdate(t->mrtd, b, sizeof(b));
	if (data)
		EVP_DigestUpdate(t->mrtd, data, 256);
}

/* [U 8b] CAPABILITIES: E2BIG while cpuid.nent is too small. */
static int tdx_caps(struct spec_call *c)
{
	int rc = no_flags(c);
	if (rc)
		return rc;
	uint8_t hdr[8];
	if (spec_user_read(hdr, c->data + L_TDX_CAPS.size, sizeof(hdr)))
		return -EFAULT;
	memcpy(c->ev->in + L_TDX_CAPS.size, hdr, sizeof(hdr));
	if (spec_get(hdr, &L_CPUID2, CP_NENT) < NCONFIGURABLE)
		return -E2BIG;
	memset(c->in, 0, L_TDX_CAPS.size);
	spec_put(c->in, &L_TDX_CAPS, TK_ATTRS, SUPPORTED_ATTRS);
	spec_put(c->in, &L_TDX_CAPS, TK_XFAM, SUPPORTED_XFAM);
	spec_put(hdr, &L_CPUID2, CP_NENT, NCONFIGURABLE);
	uint8_t e[40];
	for (size_t i = 0; i < NCONFIGURABLE; i++) {
		spec_put_cpuid_entry(e, configurable[i]);
		if (spec_user_write(c->data + L_TDX_CAPS.size + sizeof(hdr) + i * sizeof(e), e,
				    sizeof(e)))
			return -EFAULT;
	}
	if (spec_user_write(c->data + L_TDX_CAPS.size, hdr, sizeof(hdr)))
		return -EFAULT;
	return spec_copy_out(c, &L_TDX_CAPS);
}

static bool is_configurable(uint32_t fn, uint32_t index)
{
	for (size_t i = 0; i < NCONFIGURABLE; i++)
		if (configurable[i][0] == fn && configurable[i][1] == index)
			return true;
	return false;
}

/* [T 5] CPUID 0x80000008 EAX[23:16] selects GPAW 48 or 52; without the leaf the fake takes 48. */
static int read_gpaw(struct spec_call *c, struct spec_tdx *t)
{
	t->gpaw = 48;
	for (uint32_t i = 0; i < t->ncpuid; i++) {
		const uint8_t *e = t->cpuid[i];
		if (spec_get(e, &L_CPUID_ENTRY, CE_FUNCTION) != 0x80000008 ||
		    spec_get(e, &L_CPUID_ENTRY, CE_INDEX) != 0)
			continue;
		unsigned gpaw = (unsigned)(spec_get(e, &L_CPUID_ENTRY, CE_EAX) >> 16 & 0xff);
		if (gpaw != 48 && gpaw != 52)
			return spec_refuse(c, EINVAL, "GPAW %u: CPUID 0x80000008 EAX[23:16] must be 48 or 52",
					   gpaw);
		t->gpaw = gpaw;
	}
	return 0;
}

static int read_init_vm_cpuid(struct spec_call *c, struct spec_tdx *t)
{
	uint8_t hdr[8];
	if (spec_user_read(hdr, c->data + L_TDX_INIT_VM.size, sizeof(hdr)))
		return -EFAULT;
	if (spec_mbz_violation(hdr, &L_CPUID2))
		return spec_refuse(c, EINVAL, "cpuid.padding must be 0");
	uint64_t n = spec_get(hdr, &L_CPUID2, CP_NENT);
	if (n > SPEC_MAX_CPUID)
		return spec_refuse(c, E2BIG, "%llu CPUID entries", (unsigned long long)n);
	if (spec_user_read(t->cpuid, c->data + L_TDX_INIT_VM.size + sizeof(hdr),
			   (size_t)n * L_CPUID_ENTRY.size))
		return -EFAULT;
	t->ncpuid = (uint32_t)n;
	size_t keep = SPEC_IN_MAX - L_TDX_INIT_VM.size;
	size_t have = sizeof(hdr) + (size_t)n * L_CPUID_ENTRY.size;
	memcpy(c->ev->in + L_TDX_INIT_VM.size, hdr, sizeof(hdr));
	memcpy(c->ev->in + L_TDX_INIT_VM.size + sizeof(hdr), t->cpuid,
	       (have < keep ? have : keep) - sizeof(hdr));
	for (uint32_t i = 0; i < t->ncpuid; i++) {
		uint32_t fn = (uint32_t)spec_get(t->cpuid[i], &L_CPUID_ENTRY, CE_FUNCTION);
		uint32_t index = (uint32_t)spec_get(t->cpuid[i], &L_CPUID_ENTRY, CE_INDEX);
		if (!is_configurable(fn, index))
			return spec_refuse(c, EINVAL, "CPUID 0x%x.%u is not configurable", fn, index);
	}
	return read_gpaw(c, t);
}

/* [U 8b] INIT_VM: once, before any vCPU; attributes, XFAM and CPUID within the capabilities. */
static int tdx_init_vm(struct spec_call *c)
{
	struct spec_tdx *t = &c->vm->tdx;
	int rc = no_flags(c);
	if (rc)
		return rc;
	if (t->inited)
		return spec_refuse(c, EINVAL, "the TD is initialised already");
	if (c->vm->nvcpus)
		return spec_refuse(c, EINVAL, "after KVM_CREATE_VCPU (kvm-uapi.md 8b: before any vCPU)");
	uint64_t attrs = spec_get(c->in, &L_TDX_INIT_VM, TV_ATTRIBUTES);
	uint64_t xfam = spec_get(c->in, &L_TDX_INIT_VM, TV_XFAM);
	if ((attrs & ~SUPPORTED_ATTRS) || (xfam & ~SUPPORTED_XFAM))
		return spec_refuse(c, EINVAL, "attributes 0x%llx / xfam 0x%llx beyond the capabilities",
				   (unsigned long long)attrs, (unsigned long long)xfam);
	if ((rc = read_init_vm_cpuid(c, t)))
		return rc;
	if (!t->mrtd && !(t->mrtd = EVP_MD_CTX_new()))
		return -ENOMEM;
	EVP_DigestInit_ex(t->mrtd, EVP_sha384(), NULL); /* TDH.MNG.INIT */
	t->inited = true;
	t->attributes = attrs;
	t->xfam = xfam;
	return 0;
}

/* [U 8b] INIT_VCPU: data is the vCPU's initial RCX. */
static int tdx_init_vcpu(struct spec_call *c)
{
	int rc = no_flags(c);
	if (rc)
		return rc;
	if (!c->vm->tdx.inited)
		return spec_refuse(c, EINVAL, "before KVM_TDX_INIT_VM");
	c->vcpu->tdx_inited = true;
	c->vcpu->rcx = c->data;
	return 0;
}

/* [U 8b] GET_CPUID: the TD's CPUID; E2BIG while nent is too small. */
static int tdx_get_cpuid(struct spec_call *c)
{
	struct spec_tdx *t = &c->vm->tdx;
	int rc = no_flags(c);
	if (rc)
		return rc;
	if (!t->inited)
		return spec_refuse(c, EINVAL, "before KVM_TDX_INIT_VM");
	uint8_t hdr[8];
	if (spec_user_read(hdr, c->data, sizeof(hdr)))
		return -EFAULT;
	if (spec_get(hdr, &L_CPUID2, CP_NENT) < t->ncpuid)
		return -E2BIG;
	spec_put(hdr, &L_CPUID2, CP_NENT, t->ncpuid);
	if (spec_user_write(c->data, hdr, sizeof(hdr)) ||
	    spec_user_write(c->data + sizeof(hdr), t->cpuid, (size_t)t->ncpuid * L_CPUID_ENTRY.size))
		return -EFAULT;
	return 0;
}

static uint64_t tdx_shared_bit(const struct spec_vm *vm)
{
	return 1ull << ((vm->tdx.gpaw ? vm->tdx.gpaw : 48) - 1);
}

static int check_region(struct spec_call *c, uint64_t src, uint64_t gpa, uint64_t n)
{
	struct spec_vm *vm = c->vm;
	if (!c->vcpu->tdx_inited)
		return spec_refuse(c, EINVAL, "on a vCPU without KVM_TDX_INIT_VCPU");
	if (vm->tdx.finalized)
		return spec_refuse(c, EINVAL, "after KVM_TDX_FINALIZE_VM");
	if (cmd_flags(c) & ~TDX_MEASURE_MEMORY_REGION)
		return spec_refuse(c, EINVAL, "flags 0x%x: only KVM_TDX_MEASURE_MEMORY_REGION",
				   cmd_flags(c));
	if (src % SPEC_PAGE || gpa % SPEC_PAGE || !n || n >> 40 || gpa + n * SPEC_PAGE <= gpa)
		return spec_refuse(c, EINVAL, "source 0x%llx gpa 0x%llx nr_pages %llu: unaligned, empty or overflowing",
				   (unsigned long long)src, (unsigned long long)gpa,
				   (unsigned long long)n);
	uint64_t shared = tdx_shared_bit(vm);
	if ((gpa | (gpa + n * SPEC_PAGE - 1)) & shared)
		return spec_refuse(c, EINVAL, "gpa 0x%llx: not a private GPA (shared bit 0x%llx)",
				   (unsigned long long)gpa, (unsigned long long)shared);
	return 0;
}

/* One page: into a private guest_memfd page once, from a readable source. */
static int add_page(struct spec_call *c, uint64_t gpa, uint64_t src, bool measure)
{
	struct spec_tdx *t = &c->vm->tdx;
	struct spec_slot *slot = spec_gmem_slot(c->vm, gpa, SPEC_PAGE);
	uint8_t page[4096];
	if (!slot)
		return spec_refuse(c, EINVAL, "gpa 0x%llx is not in a guest_memfd slot",
				   (unsigned long long)gpa);
	if (!spec_is_private(c->vm, gpa, SPEC_PAGE))
		return spec_refuse(c, EINVAL, "gpa 0x%llx is not PRIVATE", (unsigned long long)gpa);
	if (spec_populated(slot, gpa))
		return spec_refuse(c, EEXIST, "gpa 0x%llx is populated already", (unsigned long long)gpa);
	if (spec_user_read(page, src, sizeof(page)))
		return spec_refuse(c, EFAULT, "source 0x%llx is not readable", (unsigned long long)src);
	if (spec_mark_populated(slot, gpa))
		return -ENOMEM;
	mrtd_buffer(t, "MEM.PAGE.ADD", gpa, NULL);
	for (unsigned i = 0; measure && i < SPEC_PAGE / 256; i++)
		mrtd_buffer(t, "MR.EXTEND", gpa + i * 256, page + i * 256);
	return 0;
}

/*
 * [U 8b] INIT_MEM_REGION, page by page; the struct is written back advanced whatever the result.
 * Stopping early (chunk, script) answers EINTR as for a pending signal, or the scripted errno.
 */
static int tdx_init_mem_region(struct spec_call *c)
{
	uint64_t src = spec_get(c->in, &L_TDX_MEM_REGION, TM_SOURCE_ADDR);
	uint64_t gpa = spec_get(c->in, &L_TDX_MEM_REGION, TM_GPA);
	uint64_t n = spec_get(c->in, &L_TDX_MEM_REGION, TM_NR_PAGES);
	int rc = check_region(c, src, gpa, n);
	if (rc)
		return rc;
	bool measure = cmd_flags(c) & TDX_MEASURE_MEMORY_REGION;
	uint64_t limit = n, done = 0;
	if (c->k->chunk && limit > c->k->chunk)
		limit = c->k->chunk;
	if (c->script && limit > c->script->pages)
		limit = c->script->pages;
	for (; done < limit && !rc; done++)
		rc = add_page(c, gpa + done * SPEC_PAGE, src + done * SPEC_PAGE, measure);
	if (rc)
		done--;
	else if (done < n)
		rc = c->script && c->script->err ? -c->script->err : -EINTR;
	if (c->script)
		spec_put(c->cmd, &L_TDX_CMD, TC_HW_ERROR, c->script->fw_error);
	spec_put(c->in, &L_TDX_MEM_REGION, TM_SOURCE_ADDR, src + done * SPEC_PAGE);
	spec_put(c->in, &L_TDX_MEM_REGION, TM_GPA, gpa + done * SPEC_PAGE);
	spec_put(c->in, &L_TDX_MEM_REGION, TM_NR_PAGES, n - done);
	return spec_copy_out(c, &L_TDX_MEM_REGION) ? -EFAULT : rc;
}

/* [U 8b] FINALIZE_VM: TDH.MR.FINALIZE; the TD becomes runnable and may be pre-faulted. */
static int tdx_finalize(struct spec_call *c)
{
	struct spec_vm *vm = c->vm;
	struct spec_tdx *t = &vm->tdx;
	int rc = no_flags(c);
	if (rc)
		return rc;
	if (c->data)
		return spec_refuse(c, EINVAL, "data 0x%llx: must be 0", (unsigned long long)c->data);
	if (!t->inited || t->finalized)
		return spec_refuse(c, EINVAL, "%s", t->finalized ? "finalized already"
								 : "before KVM_TDX_INIT_VM");
	unsigned int len = 0;
	EVP_DigestFinal_ex(t->mrtd, t->mrtd_out, &len);
	t->has_mrtd = true;
	t->finalized = true;
	vm->pre_fault_allowed = true;
	return 0;
}

/*
 * [U 8b] TERMINATE_VM (6.17+): releases the HKID; the VM is dead from then on, every further
 * VM or vCPU ioctl is EIO (kvm_vm_dead).  An older kernel does not know it: a test scripts
 * EINVAL for that.
 */
static int tdx_terminate(struct spec_call *c)
{
	int rc = no_flags(c);
	if (rc)
		return rc;
	if (c->data)
		return spec_refuse(c, EINVAL, "data 0x%llx: must be 0", (unsigned long long)c->data);
	c->vm->dead = true;
	return 0;
}

static const struct spec_subcmd tdx_subs[] = {
	{TDX_CAPABILITIES, "KVM_TDX_CAPABILITIES", &L_TDX_CAPS, ON_VM, 0, tdx_caps, "kvm-uapi.md 8b"},
	{TDX_INIT_VM, "KVM_TDX_INIT_VM", &L_TDX_INIT_VM, ON_VM, 0, tdx_init_vm, "kvm-uapi.md 8b"},
	{TDX_INIT_VCPU, "KVM_TDX_INIT_VCPU", NULL, ON_VCPU, 0, tdx_init_vcpu, "kvm-uapi.md 8b"},
	{TDX_INIT_MEM_REGION, "KVM_TDX_INIT_MEM_REGION", &L_TDX_MEM_REGION, ON_VCPU, SUB_PARTIAL,
	 tdx_init_mem_region, "kvm-uapi.md 8b"},
	{TDX_FINALIZE_VM, "KVM_TDX_FINALIZE_VM", NULL, ON_VM, 0, tdx_finalize, "kvm-uapi.md 8b"},
	{TDX_GET_CPUID, "KVM_TDX_GET_CPUID", NULL, ON_VCPU, 0, tdx_get_cpuid, "kvm-uapi.md 8b"},
	{TDX_TERMINATE_VM, "KVM_TDX_TERMINATE_VM", NULL, ON_VM, 0, tdx_terminate, "kvm-uapi.md 8b"},
};

/* ---- Rules the generic ioctls ask ---------------------------------------------------------- */

static int tdx_vcpu_create(struct spec_call *c)
{
	if (!c->vm->tdx.inited)
		return spec_refuse(c, EINVAL, "before KVM_TDX_INIT_VM (kvm-uapi.md 8b: INIT_VM before any vCPU)");
	if (!c->vm->split_irqchip)
		return spec_refuse(c, EINVAL, "without a split irqchip (launch-flows.md 2: TDX needs one)");
	return 0;
}

static int tdx_vcpu_state(struct spec_call *c, const char *what)
{
	return spec_refuse(c, EINVAL, "%s: a TD vCPU's state belongs to the TDX module (launch-flows.md 2, step 6)",
			   what);
}

static int tdx_prefault(struct spec_call *c)
{
	if (!c->vm->pre_fault_allowed)
		return spec_refuse(c, EOPNOTSUPP, "before KVM_TDX_FINALIZE_VM (kvm-uapi.md 5: pre_fault_allowed)");
	return 0;
}

static void tdx_vm_free(struct spec_vm *vm)
{
	EVP_MD_CTX_free(vm->tdx.mrtd);
}

const struct spec_tee spec_tee_tdx = {
	.name = "TDX",
	.vm_type = SPEC_VM_TDX,
	.attributes = 1ull << 3,
	.gmem_flags = 1,
	.cmd = &L_TDX_CMD,
	.cmd_id = TC_ID,
	.cmd_data = TC_DATA,
	.cmd_error = TC_HW_ERROR,
	.subs = tdx_subs,
	.nsubs = sizeof(tdx_subs) / sizeof(tdx_subs[0]),
	.vcpu_create = tdx_vcpu_create,
	.vcpu_state = tdx_vcpu_state,
	.prefault = tdx_prefault,
	.shared_bit = tdx_shared_bit,
	.vm_free = tdx_vm_free,
};

/* ---- Results ------------------------------------------------------------------------------- */

int spec_kvm_tdx_mrtd(const struct spec_kvm *k, uint8_t out[48])
{
	const struct spec_vm *vm = spec_last_vm(k, SPEC_VM_TDX);
	if (!vm || !vm->tdx.has_mrtd)
		return -ENODATA;
	memcpy(out, vm->tdx.mrtd_out, 48);
	return 0;
}

uint64_t spec_kvm_tdx_vcpu_rcx(const struct spec_kvm *k, unsigned i)
{
	const struct spec_vm *vm = spec_last_vm(k, SPEC_VM_TDX);
	return vm && i < vm->nvcpus ? vm->vcpus[i].rcx : ~0ull;
}
