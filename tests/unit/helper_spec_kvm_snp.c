/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The spec fake KVM, SEV-SNP part: the KVM_MEMORY_ENCRYPT_OP sub-commands of an SNP VM
 * ([U 8a]), the rules of the launch order, and the launch digest the PSP would compute
 * ([S 1]): one PAGE_INFO per page populated by SNP_LAUNCH_UPDATE, over the bytes copied from
 * its source, then one VMSA page per vCPU at SNP_LAUNCH_FINISH.
 *
 * The VMSA is rebuilt as KVM's sev_es_sync_vmsa() builds it ([S 3.2]: "the VMSA is whatever KVM
 * builds from the VMM's register state"), from what the launcher gave each vCPU:
 *   from KVM_SET_SREGS  every segment (selector, limit, base; the attribute packed as the VMCB
 *                       stores it: type | S<<4 | DPL<<5 | P<<7 | AVL<<8 | L<<9 | DB<<10 | G<<11,
 *                       P cleared for an unusable segment), CPL = SS.DPL, GDTR/IDTR base and
 *                       limit, CR0 (CD and NW cleared, KVM's default CD_NW_CLEARED quirk), CR3,
 *                       CR4 (| MCE, [S 3.2] "set by KVM"), EFER (| SVME, likewise);
 *   from KVM_SET_REGS   every GPR, RIP, RFLAGS;
 *   from KVM_SET_FPU    FCW, FSW, FTW, MXCSR, the x87 registers (10 of each 16 bytes) and XMM
 *                       (without it: KVM's initial FPU state, FCW 0x37f, MXCSR 0x1f80);
 *   from KVM_SET_XCRS   XCR0 (without it: 1);
 *   from KVM_SET_MSRS   IA32_PAT (without it: KVM's reset value 0x0007040600070406);
 *   from KVM_SEV_INIT2  SEV_FEATURES = SNPActive | vmsa_features;
 *   KVM's reset values  DR6 0xffff0ff0, DR7 0x400 (the launcher has no say over them here).
 * What it cannot place it does not guess: a vCPU without KVM_SET_SREGS and KVM_SET_REGS (KVM's
 * reset state is not modelled), non-zero CR2, CR8 or pending interrupts, the x87 last
 * instruction/data pointers, or any MSR other than IA32_PAT make spec_kvm_snp_digest() return
 * -ENOTSUP with the reason.  The host-dependent CR4.MCE is assumed set (every SNP host has it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/spec_kvm_priv.h"

/* [U 8a] sub-command ids */
#define SEV_INIT2 22
#define SNP_LAUNCH_START 100
#define SNP_LAUNCH_UPDATE 101
#define SNP_LAUNCH_FINISH 102
#define SNP_ENABLE_REQ_CERTS 103 /* amd-memory-encryption.rst 21 (Linux 7.0) */

/* [U 8a] / [S 1] page types */
#define PT_NORMAL 1
#define PT_VMSA 2
#define PT_ZERO 3
#define PT_UNMEASURED 4
#define PT_SECRETS 5
#define PT_CPUID 6

#define VMSA_GPA 0xFFFFFFFFF000ull     /* [S 1] */
#define SEV_FEAT_SNP_ACTIVE 1ull       /* [S 3.2] */
#define POLICY_RSVD_MBO (1ull << 17)   /* snp-report.md 2: reserved, must be 1 */
#define POLICY_MBZ (~0ull << 26)       /* snp-report.md 2: bits 63:26 */
#define FW_BAD_MEASUREMENT 0x0b        /* SEV firmware status of an ID block with another LD */
#define FW_INVALID_PARAM 0x16          /* [P] SEV firmware status of a rejected CPUID page */
#define SEV_FEAT_SECURE_TSC (1ull << 9) /* [S 3.2] */
#define CPUID_PAGE_MAX 64u             /* [P] entries of the CPUID page */

/* [S 3.2] offsets in the VMSA page */
enum {
	VS_ES = 0x000, VS_CS = 0x010, VS_SS = 0x020, VS_DS = 0x030, VS_FS = 0x040, VS_GS = 0x050,
	VS_GDTR = 0x060, VS_LDTR = 0x070, VS_IDTR = 0x080, VS_TR = 0x090, VS_CPL = 0x0CB,
	VS_EFER = 0x0D0, VS_CR4 = 0x148, VS_CR3 = 0x150, VS_CR0 = 0x158, VS_DR7 = 0x160,
	VS_DR6 = 0x168, VS_RFLAGS = 0x170, VS_RIP = 0x178, VS_RSP = 0x1D8, VS_RAX = 0x1F8,
	VS_G_PAT = 0x268, VS_RCX = 0x308, VS_RDX = 0x310, VS_RBX = 0x318, VS_RBP = 0x328,
	VS_RSI = 0x330, VS_RDI = 0x338, VS_R8 = 0x340, VS_SEV_FEATURES = 0x3B0, VS_XCR0 = 0x3E8,
	VS_MXCSR = 0x408, VS_X87_FTW = 0x40C, VS_X87_FSW = 0x40E, VS_X87_FCW = 0x410,
	VS_FPREG_X87 = 0x420, VS_FPREG_XMM = 0x470,
};

#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR4_MCE (1ull << 6)
#define EFER_SVME (1ull << 12)

/* ---- The PAGE_INFO chain [S 1] ------------------------------------------------------------- */

static void sha384(const uint8_t *p, size_t n, uint8_t out[48])
{
	unsigned int len = 0;
	EVP_Digest(p, n, out, &len, EVP_sha384(), NULL);
}

static void extend(struct spec_snp *s, uint8_t type, uint64_t gpa, const uint8_t *page)
{
	uint8_t info[0x70];
	memset(info, 0, sizeof(info));
	memcpy(info, s->ld, 48);
	if (page)
		sha384(page, SPEC_PAGE, info + 0x30);
	spec_put_le(info + 0x60, 2, 0x70);
	info[0x62] = type;
	/* 0x63 IMI_PAGE and 0x64..0x67 VMPL permissions: 0 for every KVM launch */
	spec_put_le(info + 0x68, 8, gpa);
	sha384(info, sizeof(info), s->ld);
}

/* ---- The VMSA, rebuilt from the vCPU's state ---------------------------------------------- */

static void put_segment(uint8_t *vmsa, unsigned off, const uint8_t *seg)
{
	uint64_t attrib = (spec_get(seg, &L_SEGMENT, SG_TYPE) & 0xf) |
			  (spec_get(seg, &L_SEGMENT, SG_S) & 1) << 4 |
			  (spec_get(seg, &L_SEGMENT, SG_DPL) & 3) << 5 |
			  (uint64_t)((spec_get(seg, &L_SEGMENT, SG_PRESENT) & 1) &&
				     !spec_get(seg, &L_SEGMENT, SG_UNUSABLE)) << 7 |
			  (spec_get(seg, &L_SEGMENT, SG_AVL) & 1) << 8 |
			  (spec_get(seg, &L_SEGMENT, SG_L) & 1) << 9 |
			  (spec_get(seg, &L_SEGMENT, SG_DB) & 1) << 10 |
			  (spec_get(seg, &L_SEGMENT, SG_G) & 1) << 11;
	spec_put_le(vmsa + off, 2, spec_get(seg, &L_SEGMENT, SG_SELECTOR));
	spec_put_le(vmsa + off + 2, 2, attrib);
	spec_put_le(vmsa + off + 4, 4, spec_get(seg, &L_SEGMENT, SG_LIMIT));
	spec_put_le(vmsa + off + 8, 8, spec_get(seg, &L_SEGMENT, SG_BASE));
}

static void put_dtable(uint8_t *vmsa, unsigned off, const uint8_t *dt)
{
	spec_put_le(vmsa + off + 4, 4, spec_get(dt, &L_DTABLE, DT_LIMIT));
	spec_put_le(vmsa + off + 8, 8, spec_get(dt, &L_DTABLE, DT_BASE));
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int unmodelled(char *why, size_t len, unsigned vcpu, const char *what)
{
	snprintf(why, len, "vCPU %u: %s", vcpu, what);
	return -ENOTSUP;
}

static int check_modelled(const struct spec_vcpu *v, unsigned i, char *why, size_t len)
{
	if (!v->has_sregs)
		return unmodelled(why, len, i, "no KVM_SET_SREGS before SNP_LAUNCH_FINISH (KVM's reset state is not modelled)");
	if (!v->has_regs)
		return unmodelled(why, len, i, "no KVM_SET_REGS before SNP_LAUNCH_FINISH (KVM's reset state is not modelled)");
	const uint8_t *sr = v->sregs;
	const struct spec_field *bm = &L_SREGS.f[SR_INTERRUPT_BITMAP];
	if (spec_get(sr, &L_SREGS, SR_CR2) || spec_get(sr, &L_SREGS, SR_CR8) ||
	    !all_zero(sr + bm->off, bm->size))
		return unmodelled(why, len, i, "CR2, CR8 or a pending interrupt is not placed in the VMSA model");
	if (v->has_fpu && (spec_get(v->fpu, &L_FPU, FP_LAST_IP) || spec_get(v->fpu, &L_FPU, FP_LAST_DP) ||
			   spec_get(v->fpu, &L_FPU, FP_LAST_OPCODE)))
		return unmodelled(why, len, i, "the x87 last instruction/data pointer is not placed in the VMSA model");
	if (v->unmodelled_msr) {
		snprintf(why, len, "vCPU %u: MSR 0x%x was set; only IA32_PAT is modelled", i,
			 v->unmodelled_msr);
		return -ENOTSUP;
	}
	return 0;
}

static void put_fpu(uint8_t *vmsa, const struct spec_vcpu *v)
{
	if (!v->has_fpu) {
		spec_put_le(vmsa + VS_X87_FCW, 2, 0x37f);
		spec_put_le(vmsa + VS_MXCSR, 4, 0x1f80);
		return;
	}
	const uint8_t *f = v->fpu;
	spec_put_le(vmsa + VS_X87_FCW, 2, spec_get(f, &L_FPU, FP_FCW));
	spec_put_le(vmsa + VS_X87_FSW, 2, spec_get(f, &L_FPU, FP_FSW));
	spec_put_le(vmsa + VS_X87_FTW, 2, spec_get(f, &L_FPU, FP_FTWX));
	spec_put_le(vmsa + VS_MXCSR, 4, spec_get(f, &L_FPU, FP_MXCSR));
	for (unsigned r = 0; r < 8; r++)
		memcpy(vmsa + VS_FPREG_X87 + r * 10, f + L_FPU.f[FP_FPR].off + r * 16, 10);
	memcpy(vmsa + VS_FPREG_XMM, f + L_FPU.f[FP_XMM].off, L_FPU.f[FP_XMM].size);
}

static uint64_t xcr0_of(const struct spec_vcpu *v)
{
	if (!v->has_xcrs)
		return 1;
	uint64_t n = spec_get(v->xcrs, &L_XCRS, XC_NR_XCRS);
	for (uint64_t i = 0; i < n && i < 16; i++) {
		const uint8_t *x = v->xcrs + L_XCRS.f[XC_XCRS].off + i * L_XCR.size;
		if (spec_get(x, &L_XCR, XR_XCR) == 0)
			return spec_get(x, &L_XCR, XR_VALUE);
	}
	return 1;
}

int spec_snp_vmsa(const struct spec_vm *vm, const struct spec_vcpu *v, uint8_t page[4096],
		  char *why, size_t whylen)
{
	int rc = check_modelled(v, (unsigned)(v - vm->vcpus), why, whylen);
	if (rc)
		return rc;
	memset(page, 0, SPEC_PAGE);
	const uint8_t *sr = v->sregs;
	static const struct {
		unsigned sreg, vmsa;
	} segs[] = {{SR_ES, VS_ES}, {SR_CS, VS_CS}, {SR_SS, VS_SS},   {SR_DS, VS_DS},
		    {SR_FS, VS_FS}, {SR_GS, VS_GS}, {SR_LDT, VS_LDTR}, {SR_TR, VS_TR}};
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
		put_segment(page, segs[i].vmsa, sr + L_SREGS.f[segs[i].sreg].off);
	put_dtable(page, VS_GDTR, sr + L_SREGS.f[SR_GDT].off);
	put_dtable(page, VS_IDTR, sr + L_SREGS.f[SR_IDT].off);
	page[VS_CPL] = (uint8_t)(spec_get(sr + L_SREGS.f[SR_SS].off, &L_SEGMENT, SG_DPL) & 3);
	spec_put_le(page + VS_EFER, 8, spec_get(sr, &L_SREGS, SR_EFER) | EFER_SVME);
	spec_put_le(page + VS_CR4, 8, spec_get(sr, &L_SREGS, SR_CR4) | CR4_MCE);
	spec_put_le(page + VS_CR3, 8, spec_get(sr, &L_SREGS, SR_CR3));
	spec_put_le(page + VS_CR0, 8, spec_get(sr, &L_SREGS, SR_CR0) & ~(CR0_CD | CR0_NW));
	spec_put_le(page + VS_DR7, 8, 0x400);
	spec_put_le(page + VS_DR6, 8, 0xffff0ff0);

	const uint8_t *rg = v->regs;
	static const struct {
		unsigned reg, vmsa;
	} gprs[] = {{RG_RAX, VS_RAX}, {RG_RBX, VS_RBX}, {RG_RCX, VS_RCX}, {RG_RDX, VS_RDX},
		    {RG_RSI, VS_RSI}, {RG_RDI, VS_RDI}, {RG_RSP, VS_RSP}, {RG_RBP, VS_RBP},
		    {RG_RIP, VS_RIP}, {RG_RFLAGS, VS_RFLAGS}};
	for (size_t i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++)
		spec_put_le(page + gprs[i].vmsa, 8, spec_get(rg, &L_REGS, gprs[i].reg));
	for (unsigned r = 0; r < 8; r++) /* r8..r15 */
		spec_put_le(page + VS_R8 + r * 8, 8, spec_get(rg, &L_REGS, RG_R8 + r));

	spec_put_le(page + VS_G_PAT, 8, v->pat);
	spec_put_le(page + VS_SEV_FEATURES, 8, SEV_FEAT_SNP_ACTIVE | vm->snp.vmsa_features);
	spec_put_le(page + VS_XCR0, 8, xcr0_of(v));
	put_fpu(page, v);
	return 0;
}

/* ---- Sub-commands ------------------------------------------------------------------------ */

/* [U 8a] INIT2: once, before the vCPUs ([F 1]), flags 0, features KVM supports. */
static int snp_init2(struct spec_call *c)
{
	struct spec_snp *s = &c->vm->snp;
	if (s->inited)
		return spec_refuse(c, EINVAL, "the VM is initialised already");
	if (c->vm->nvcpus)
		return spec_refuse(c, EINVAL, "after KVM_CREATE_VCPU (launch-flows.md 1: INIT2 comes before the vCPUs)");
	uint64_t feat = spec_get(c->in, &L_SEV_INIT, SI_VMSA_FEATURES);
	uint64_t ghcb = spec_get(c->in, &L_SEV_INIT, SI_GHCB_VERSION);
	if (feat & ~c->k->sev_vmsa_features)
		return spec_refuse(c, EINVAL, "vmsa_features 0x%llx not all supported (0x%llx)",
				   (unsigned long long)feat,
				   (unsigned long long)c->k->sev_vmsa_features);
	if (ghcb == 1)
		return spec_refuse(c, EINVAL, "ghcb_version 1: SNP needs 0 (default) or >= 2");
	s->inited = true;
	s->vmsa_features = feat;
	return 0;
}

/* [U 8a] LAUNCH_START: after INIT2, once, with the /dev/sev descriptor and a valid policy. */
static int snp_start(struct spec_call *c)
{
	struct spec_snp *s = &c->vm->snp;
	if (!s->inited)
		return spec_refuse(c, EINVAL, "before KVM_SEV_INIT2");
	if (s->started)
		return spec_refuse(c, EINVAL, "the VM has an SNP context already");
	int sev_fd = (int)spec_get(c->cmd, &L_SEV_CMD, SC_SEV_FD);
	if (sev_fd < 0 || sev_fd >= SPEC_MAX_FDS || c->k->fds[sev_fd].kind != SPEC_FD_SEV)
		return spec_refuse(c, EBADF, "kvm_sev_cmd.sev_fd %d is not an open /dev/sev", sev_fd);
	uint64_t policy = spec_get(c->in, &L_SNP_START, LS_POLICY);
	if (!(policy & POLICY_RSVD_MBO) || (policy & POLICY_MBZ))
		return spec_refuse(c, EINVAL, "policy 0x%llx: bit 17 must be 1, bits 63:26 0",
				   (unsigned long long)policy);
	s->started = true;
	s->policy = policy;
	/* Secure TSC: KVM passes the VM's default TSC frequency as the firmware's desired_tsc_khz */
	s->secure_tsc = (s->vmsa_features & SEV_FEAT_SECURE_TSC) != 0;
	s->desired_tsc_khz = s->secure_tsc ? c->vm->default_tsc_khz : 0;
	memset(s->ld, 0, sizeof(s->ld));
	return 0;
}

/*
 * [P] The PSP's check of a CPUID page: every refused bit cleared, at most 64 entries.  A page it
 * corrects is rejected: KVM writes the corrected page back to the source (uaddr) so that the VMM
 * can compare it ([U 8a]) and answers EIO with INVALID_PARAM in kvm_sev_cmd.error.
 */
static int psp_check_cpuid(struct spec_call *c, uint8_t *page, uint64_t src)
{
	const struct spec_kvm *k = c->k;
	bool corrected = false;
	uint64_t n = spec_le(page, 4);
	if (n > CPUID_PAGE_MAX) {
		spec_put_le(page, 4, CPUID_PAGE_MAX);
		n = CPUID_PAGE_MAX;
		corrected = true;
	}
	static const unsigned regs[] = {PC_EAX, PC_EBX, PC_ECX, PC_EDX};
	for (uint64_t i = 0; i < n; i++) {
		uint8_t *e = page + 16 + i * L_SNP_CPUID_ENTRY.size;
		uint64_t fn = spec_get(e, &L_SNP_CPUID_ENTRY, PC_EAX_IN);
		uint64_t idx = spec_get(e, &L_SNP_CPUID_ENTRY, PC_ECX_IN);
		for (unsigned r = 0; r < k->ncpuid_refused; r++) {
			const struct spec_cpuid_refusal *x = &k->cpuid_refused[r];
			if (x->function != fn || (x->index != ~0u && x->index != idx))
				continue;
			uint64_t v = spec_get(e, &L_SNP_CPUID_ENTRY, regs[x->reg]);
			if (v & x->bits) {
				spec_put(e, &L_SNP_CPUID_ENTRY, regs[x->reg], v & ~(uint64_t)x->bits);
				corrected = true;
			}
		}
	}
	if (!corrected)
		return 0;
	c->vm->snp.cpuid_rejections++;
	if (spec_user_write(src, page, SPEC_PAGE))
		return -EFAULT;
	spec_put(c->cmd, &L_SEV_CMD, SC_ERROR, FW_INVALID_PARAM);
	return -EIO;
}

static bool page_type_ok(uint64_t t)
{
	return t == PT_NORMAL || t == PT_ZERO || t == PT_UNMEASURED || t == PT_SECRETS ||
	       t == PT_CPUID;
}

/*
 * The posted in-place series: a page the guest_memfd itself made shared is not private whatever
 * the VM's attributes say, and a NORMAL update without a source (uaddr 0) measures the
 * guest_memfd's own page, which must have been converted with PRESERVE.
 */
static int check_gmem_pages(struct spec_call *c, uint64_t gpa, uint64_t len, uint64_t uaddr,
			    uint64_t type)
{
	const struct spec_slot *slot = spec_gmem_slot(c->vm, gpa, len);
	if (!uaddr && type != PT_ZERO && type != PT_NORMAL)
		return spec_refuse(c, EINVAL, "no source for page type %llu",
				   (unsigned long long)type);
	for (uint64_t at = gpa; at < gpa + len; at += SPEC_PAGE) {
		int st = spec_gmem_page_state(c->vm, slot, at);
		if (st == SPEC_GP_SHARED)
			return spec_refuse(c, EINVAL, "gpa 0x%llx is shared in its guest_memfd",
					   (unsigned long long)at);
		if (!uaddr && type == PT_NORMAL && st != SPEC_GP_PRIVATE_KEPT)
			return spec_refuse(c, EFAULT, "no source, and gpa 0x%llx was not converted "
					   "with PRESERVE", (unsigned long long)at);
	}
	return 0;
}

static int check_update(struct spec_call *c, uint64_t gpa, uint64_t len, uint64_t uaddr,
			uint64_t type)
{
	struct spec_snp *s = &c->vm->snp;
	if (!s->started || s->finished)
		return spec_refuse(c, EINVAL, "%s", s->finished ? "after SNP_LAUNCH_FINISH"
								: "before SNP_LAUNCH_START");
	if (len % SPEC_PAGE || uaddr % SPEC_PAGE)
		return spec_refuse(c, EINVAL, "len 0x%llx or uaddr 0x%llx not 4 KiB aligned",
				   (unsigned long long)len, (unsigned long long)uaddr);
	if (!page_type_ok(type))
		return spec_refuse(c, EINVAL, "page type %llu cannot be given to LAUNCH_UPDATE",
				   (unsigned long long)type);
	if (!spec_gmem_slot(c->vm, gpa, len))
		return spec_refuse(c, EINVAL, "[0x%llx, +0x%llx) is not inside one guest_memfd slot",
				   (unsigned long long)gpa, (unsigned long long)len);
	if (!spec_is_private(c->vm, gpa, len))
		return spec_refuse(c, EINVAL, "[0x%llx, +0x%llx) is not PRIVATE",
				   (unsigned long long)gpa, (unsigned long long)len);
	return check_gmem_pages(c, gpa, len, uaddr, type);
}

/*
 * [U 8a] LAUNCH_UPDATE: page by page, KVM copies the source (not for ZERO) into the guest_memfd
 * page and the PSP measures it; partial progress returns 0 with the struct advanced.  A scripted
 * answer with pages > 0 is such a partial answer (its errno is not used: SNP reports errors only
 * when nothing was done).
 */
static int snp_update(struct spec_call *c)
{
	struct spec_snp *s = &c->vm->snp;
	uint64_t gfn = spec_get(c->in, &L_SNP_UPDATE, LU_GFN_START);
	uint64_t uaddr = spec_get(c->in, &L_SNP_UPDATE, LU_UADDR);
	uint64_t len = spec_get(c->in, &L_SNP_UPDATE, LU_LEN);
	uint64_t type = spec_get(c->in, &L_SNP_UPDATE, LU_TYPE);
	if (gfn >> 40)
		return spec_refuse(c, EINVAL, "gfn 0x%llx beyond 52 address bits",
				   (unsigned long long)gfn);
	uint64_t gpa = gfn * SPEC_PAGE;
	int rc = check_update(c, gpa, len, uaddr, type);
	if (rc || !len)
		return rc;
	if (c->script && !c->script->pages) {
		spec_put(c->cmd, &L_SEV_CMD, SC_ERROR, c->script->fw_error);
		return -c->script->err;
	}
	struct spec_slot *slot = spec_gmem_slot(c->vm, gpa, len);
	uint64_t limit = len / SPEC_PAGE, done = 0;
	if (c->k->chunk && limit > c->k->chunk)
		limit = c->k->chunk;
	if (c->script && limit > c->script->pages)
		limit = c->script->pages;
	uint8_t page[4096];
	for (; done < limit; done++) {
		uint64_t pgpa = gpa + done * SPEC_PAGE;
		if (spec_populated(slot, pgpa))
			rc = spec_refuse(c, EEXIST, "gpa 0x%llx is populated already",
					 (unsigned long long)pgpa);
		else if (type != PT_ZERO && !uaddr && spec_gmem_read(c->vm, slot, pgpa, page))
			rc = spec_refuse(c, EFAULT, "guest_memfd page of gpa 0x%llx is not readable",
					 (unsigned long long)pgpa);
		else if (type != PT_ZERO && uaddr &&
			 spec_user_read(page, uaddr + done * SPEC_PAGE, SPEC_PAGE))
			rc = spec_refuse(c, EFAULT, "source 0x%llx is not readable",
					 (unsigned long long)(uaddr + done * SPEC_PAGE));
		else if (type == PT_CPUID &&
			 (rc = psp_check_cpuid(c, page, uaddr + done * SPEC_PAGE)))
			;
		else
			rc = spec_mark_populated(slot, pgpa);
		if (rc)
			break;
		if (type == PT_CPUID) {
			memcpy(s->cpuid_page, page, sizeof(page));
			s->has_cpuid_page = true;
		}
		extend(s, (uint8_t)type, pgpa, type == PT_NORMAL ? page : NULL);
	}
	if (rc && !done)
		return rc;
	spec_put(c->in, &L_SNP_UPDATE, LU_GFN_START, gfn + done);
	spec_put(c->in, &L_SNP_UPDATE, LU_LEN, len - done * SPEC_PAGE);
	if (type != PT_ZERO && uaddr) /* no source stays no source */
		spec_put(c->in, &L_SNP_UPDATE, LU_UADDR, uaddr + done * SPEC_PAGE);
	return spec_copy_out(c, &L_SNP_UPDATE);
}

/* KVM measures vCPU 0 first, then the others in creation order ([S 8]). */
static void measure_vmsas(struct spec_vm *vm)
{
	struct spec_snp *s = &vm->snp;
	free(s->vmsa);
	s->vmsa = calloc(vm->nvcpus ? vm->nvcpus : 1, sizeof(*s->vmsa));
	s->nvmsa = 0;
	s->digest_rc = s->vmsa ? 0 : -ENOMEM;
	unsigned order[SPEC_MAX_VCPUS], n = 0;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].id == 0)
			order[n++] = i;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].id != 0)
			order[n++] = i;
	for (unsigned j = 0; j < n && !s->digest_rc; j++) {
		const struct spec_vcpu *v = &vm->vcpus[order[j]];
		s->digest_rc = spec_snp_vmsa(vm, v, s->vmsa[order[j]], s->why, sizeof(s->why));
		if (!s->digest_rc)
			extend(s, PT_VMSA, VMSA_GPA, s->vmsa[order[j]]);
	}
	if (!s->digest_rc)
		s->nvmsa = vm->nvcpus;
}

static void hex48(const uint8_t *d, char out[97])
{
	for (int i = 0; i < 48; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/*
 * [U 8a] LAUNCH_FINISH: KVM measures every vCPU's VMSA, then the PSP checks an ID block against
 * the launch digest; pre-fault is allowed from now on and the vCPU state is protected.
 */
static int snp_finish(struct spec_call *c)
{
	struct spec_vm *vm = c->vm;
	struct spec_snp *s = &vm->snp;
	if (!s->started || s->finished)
		return spec_refuse(c, EINVAL, "%s", s->finished ? "finished already"
								: "before SNP_LAUNCH_START");
	bool id_en = spec_get(c->in, &L_SNP_FINISH, LF_ID_BLOCK_EN) != 0;
	uint8_t *auth = NULL;
	if (id_en) {
		auth = malloc(4096);
		if (!auth)
			return -ENOMEM;
		int rc = spec_user_read(s->id_block, spec_get(c->in, &L_SNP_FINISH, LF_ID_BLOCK_UADDR),
					sizeof(s->id_block));
		if (!rc)
			rc = spec_user_read(auth, spec_get(c->in, &L_SNP_FINISH, LF_ID_AUTH_UADDR), 4096);
		free(auth);
		if (rc)
			return spec_refuse(c, EFAULT, "ID block or ID auth not readable");
	}
	s->has_id_block = id_en;
	memcpy(s->host_data, c->in + L_SNP_FINISH.f[LF_HOST_DATA].off, sizeof(s->host_data));
	measure_vmsas(vm);
	if (id_en && !s->digest_rc && memcmp(s->id_block, s->ld, 48)) {
		char a[97], b[97];
		hex48(s->id_block, a);
		hex48(s->ld, b);
		spec_put(c->cmd, &L_SEV_CMD, SC_ERROR, FW_BAD_MEASUREMENT);
		return spec_refuse(c, EIO, "ID block LD %.16s... is not the launch digest %.16s...", a, b);
	}
	s->finished = true;
	vm->pre_fault_allowed = true;
	return 0;
}

/* 7.0: an SNP guest (after INIT2) without vCPUs yet; no data. */
static int snp_enable_req_certs(struct spec_call *c)
{
	if (!c->vm->snp.inited)
		return spec_refuse(c, EINVAL, "before KVM_SEV_INIT2 (not an SNP guest yet)");
	if (c->vm->nvcpus)
		return spec_refuse(c, EINVAL, "after KVM_CREATE_VCPU");
	if (c->data)
		return spec_refuse(c, EINVAL, "data 0x%llx: the command takes none",
				   (unsigned long long)c->data);
	c->vm->snp.req_certs = true;
	return 0;
}

static const struct spec_subcmd snp_subs[] = {
	{SEV_INIT2, "KVM_SEV_INIT2", &L_SEV_INIT, ON_VM, 0, snp_init2, "kvm-uapi.md 8a"},
	{SNP_LAUNCH_START, "SNP_LAUNCH_START", &L_SNP_START, ON_VM, 0, snp_start, "kvm-uapi.md 8a"},
	{SNP_LAUNCH_UPDATE, "SNP_LAUNCH_UPDATE", &L_SNP_UPDATE, ON_VM, SUB_PARTIAL, snp_update,
	 "kvm-uapi.md 8a"},
	{SNP_LAUNCH_FINISH, "SNP_LAUNCH_FINISH", &L_SNP_FINISH, ON_VM, 0, snp_finish,
	 "kvm-uapi.md 8a"},
	{SNP_ENABLE_REQ_CERTS, "KVM_SEV_SNP_ENABLE_REQ_CERTS", NULL, ON_VM, 0, snp_enable_req_certs,
	 "amd-memory-encryption.rst 21"},
};

/* ---- Rules the generic ioctls ask ---------------------------------------------------------- */

static int snp_memory_setup(struct spec_call *c, const char *what)
{
	if (!c->vm->snp.inited)
		return spec_refuse(c, EINVAL, "%s before KVM_SEV_INIT2 (launch-flows.md 1: INIT2 comes before the memory and the vCPUs)",
				   what);
	return 0;
}

static int snp_vcpu_create(struct spec_call *c)
{
	return snp_memory_setup(c, "KVM_CREATE_VCPU");
}

static int snp_vcpu_state(struct spec_call *c, const char *what)
{
	if (c->vm->snp.finished)
		return spec_refuse(c, EINVAL, "%s after SNP_LAUNCH_FINISH: the guest state is protected",
				   what);
	return 0;
}

static int snp_prefault(struct spec_call *c)
{
	if (!c->vm->pre_fault_allowed)
		return spec_refuse(c, EOPNOTSUPP, "before SNP_LAUNCH_FINISH (kvm-uapi.md 5: pre_fault_allowed)");
	return 0;
}

/* Once INIT2 made the VM an SNP guest, the legacy SEV commands are EPERM. */
static int snp_unknown_sub(struct spec_call *c, uint32_t id)
{
	if (id < SNP_LAUNCH_START)
		return spec_refuse(c, EPERM, "legacy SEV command %u on an SNP VM", id);
	return spec_refuse(c, EINVAL, "unknown SEV command %u", id);
}

static void snp_vm_free(struct spec_vm *vm)
{
	free(vm->snp.vmsa);
}

const struct spec_tee spec_tee_snp = {
	.name = "SEV-SNP",
	.vm_type = SPEC_VM_SNP,
	.attributes = 1ull << 3,
	.gmem_flags = 1, /* MMAP only: no INIT_SHARED with private memory */
	.cmd = &L_SEV_CMD,
	.cmd_id = SC_ID,
	.cmd_data = SC_DATA,
	.cmd_error = SC_ERROR,
	.subs = snp_subs,
	.nsubs = sizeof(snp_subs) / sizeof(snp_subs[0]),
	.memory_setup = snp_memory_setup,
	.vcpu_create = snp_vcpu_create,
	.vcpu_state = snp_vcpu_state,
	.prefault = snp_prefault,
	.unknown_sub = snp_unknown_sub,
	.vm_free = snp_vm_free,
};

/* ---- Results ------------------------------------------------------------------------------- */

int spec_kvm_snp_digest(const struct spec_kvm *k, uint8_t out[48], char *why, size_t whylen)
{
	const struct spec_vm *vm = spec_last_vm(k, SPEC_VM_SNP);
	if (!vm || !vm->snp.finished) {
		if (why)
			snprintf(why, whylen, "no SNP VM finished its launch");
		return -ENODATA;
	}
	if (vm->snp.digest_rc) {
		if (why)
			snprintf(why, whylen, "%s", vm->snp.why);
		return vm->snp.digest_rc;
	}
	memcpy(out, vm->snp.ld, 48);
	return 0;
}

const uint8_t *spec_kvm_snp_id_block(const struct spec_kvm *k)
{
	const struct spec_vm *vm = spec_last_vm(k, SPEC_VM_SNP);
	return vm && vm->snp.has_id_block ? vm->snp.id_block : NULL;
}

const uint8_t *spec_kvm_snp_host_data(const struct spec_kvm *k)
{
	const struct spec_vm *vm = spec_last_vm(k, SPEC_VM_SNP);
	return vm && vm->snp.finished ? vm->snp.host_data : NULL;
}

const uint8_t *spec_kvm_snp_cpuid_page(const struct spec_kvm *k)
{
	const struct spec_vm *vm = spec_last_vm(k, SPEC_VM_SNP);
	return vm && vm->snp.has_cpuid_page ? vm->snp.cpuid_page : NULL;
}

bool spec_kvm_snp_req_certs(const struct spec_kvm *k)
{
	const struct spec_vm *vm = spec_last_vm(k, SPEC_VM_SNP);
	return vm && vm->snp.req_certs;
}

unsigned spec_kvm_snp_cpuid_rejections(const struct spec_kvm *k)
{
	const struct spec_vm *vm = spec_last_vm(k, SPEC_VM_SNP);
	return vm ? vm->snp.cpuid_rejections : 0;
}

int spec_kvm_snp_desired_tsc_khz(const struct spec_kvm *k, uint32_t *khz)
{
	const struct spec_vm *vm = spec_last_vm(k, SPEC_VM_SNP);
	if (!vm || !vm->snp.started || !vm->snp.secure_tsc)
		return -ENODATA;
	*khz = vm->snp.desired_tsc_khz;
	return 0;
}

const uint8_t *spec_kvm_snp_vmsa(const struct spec_kvm *k, unsigned i)
{
	const struct spec_vm *vm = spec_last_vm(k, SPEC_VM_SNP);
	return vm && i < vm->snp.nvmsa ? vm->snp.vmsa[i] : NULL;
}
