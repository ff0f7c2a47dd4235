/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vCPU signatures, per-VMM reset state and the VMSA page.  spec/snp-measurement.md 3.2-3.4.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cvmkit/snp.h>
#include <cvmkit/util.h>

#include "sev/snp_priv.h"

struct cpu_model {
	const char *name;
	uint8_t family, model, stepping;
};

/* QEMU's AMD EPYC CPU models and the CPUID(1).EAX each reports. */
static const struct cpu_model cpu_models[] = {
	{"EPYC", 23, 1, 2},       {"EPYC-v1", 23, 1, 2},       {"EPYC-v2", 23, 1, 2},
	{"EPYC-v3", 23, 1, 2},    {"EPYC-v4", 23, 1, 2},       {"EPYC-IBPB", 23, 1, 2},
	{"EPYC-Rome", 23, 49, 0}, {"EPYC-Rome-v1", 23, 49, 0}, {"EPYC-Rome-v2", 23, 49, 0},
	{"EPYC-Rome-v3", 23, 49, 0}, {"EPYC-Milan", 25, 1, 1}, {"EPYC-Milan-v1", 25, 1, 1},
	{"EPYC-Milan-v2", 25, 1, 1}, {"EPYC-Genoa", 25, 17, 0}, {"EPYC-Genoa-v1", 25, 17, 0},
	{"EPYC-Turin", 26, 0, 0},
};

/* RDX at reset on EC2 and GCE: family 6 (what their VMMs report before CPUID is set up). */
#define SNP_CLOUD_RESET_RDX 0x600u

int cvm_snp_cpu_model_signature(const char *name, uint32_t *sig)
{
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cpu_models); i++) {
		const struct cpu_model *m = &cpu_models[i];
		if (strcasecmp(name, m->name) == 0) {
			*sig = cvm_cpu_signature(m->family, m->model, m->stepping);
			return 0;
		}
	}
	return -ENOENT;
}

const char *cvm_snp_cpu_model_name(size_t i)
{
	return i < CVM_ARRAY_SIZE(cpu_models) ? cpu_models[i].name : NULL;
}

void snp_cpu_model_list(char *buf, size_t n)
{
	size_t used = 0;
	if (n == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cpu_models) && used < n; i++) {
		int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", cpu_models[i].name);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

int snp_policy_signature(const struct cvm_policy *policy, uint32_t *sig, struct cvm_error *err)
{
	uint32_t s = 0;
	if (policy->cpus.has_signature) {
		s = policy->cpus.signature;
	} else if (policy->cpus.model) {
		if (cvm_snp_cpu_model_signature(policy->cpus.model, &s)) {
			char known[512];
			snp_cpu_model_list(known, sizeof(known));
			return cvm_error_set(err, -EINVAL,
					     "unknown CPU model '%s' (known: %s; or give the "
					     "signature: cpus.signature, --vcpu-sig or "
					     "--vcpu-family/--vcpu-model/--vcpu-stepping)",
					     policy->cpus.model, known);
		}
	} else if (policy->vmm == CVM_VMM_QEMU || policy->vmm == CVM_VMM_CVMKIT) {
		/* QEMU puts CPUID(1).EAX in RDX at reset, so the digest depends on the model. */
		return cvm_error_set(err, -EINVAL,
				     "vmm %s puts the vCPU signature into the VMSA: give cpus.model "
				     "or cpus.signature (--cpu MODEL or --vcpu-sig X)",
				     cvm_vmm_name(policy->vmm));
	}
	*sig = s;
	return 0;
}

static struct cvm_segment seg(uint16_t selector, uint16_t attrib, uint32_t limit, uint64_t base)
{
	struct cvm_segment s = {selector, attrib, limit, base};
	return s;
}

void cvm_snp_vcpu_reset_init(enum cvm_vmm vmm, uint32_t eip, uint32_t signature,
			     uint64_t sev_features, struct cvm_vcpu_reset *out)
{
	struct cvm_vcpu_reset r;
	memset(&r, 0, sizeof(r));
	bool ec2 = vmm == CVM_VMM_EC2, gce = vmm == CVM_VMM_GCE;

	/* Real-mode reset: CS:IP = 0xf000:(eip & 0xffff) with the CS base carrying the rest. */
	uint16_t cs_attr = ec2 && eip == CVM_SNP_BSP_RESET_EIP ? 0x9a : 0x9b;
	r.es = r.ds = r.fs = r.gs = seg(0, 0x93, 0xffff, 0);
	r.cs = seg(0xf000, cs_attr, 0xffff, eip & 0xffff0000u);
	r.ss = seg(0, ec2 ? 0x92 : 0x93, 0xffff, 0);
	r.gdtr = r.idtr = seg(0, 0, 0xffff, 0);
	r.ldtr = seg(0, 0x82, 0xffff, 0);
	r.tr = seg(0, ec2 ? 0x83 : 0x8b, 0xffff, 0);

	r.efer = 0x1000; /* EFER.SVME, set by KVM */
	r.cr4 = 0x40;    /* CR4.MCE, set by KVM */
	r.cr0 = 0x10;
	r.dr7 = 0x400;
	r.dr6 = 0xffff0ff0;
	r.rflags = 0x2;
	r.rip = eip & 0xffff;
	r.g_pat = gce ? 0x0000000000070106ull : 0x0007040600070406ull;
	r.rdx = ec2 || gce ? SNP_CLOUD_RESET_RDX : signature;
	r.sev_features = sev_features;
	r.xcr0 = 0x1;
	if (!ec2 && !gce) {
		/* QEMU's FPU reset state, which KVM >= 6.10 copies into the VMSA. */
		r.mxcsr = 0x1f80;
		r.x87_fcw = 0x037f;
	}
	*out = r;
}

static void put_segment(uint8_t *p, const struct cvm_segment *s)
{
	cvm_put_le16(p, s->selector);
	cvm_put_le16(p + 2, s->attrib);
	cvm_put_le32(p + 4, s->limit);
	cvm_put_le64(p + 8, s->base);
}

/* Offsets in struct sev_es_save_area (APM vol. 2, table B-4). */
enum vmsa_offset {
	VMSA_ES = 0x000, VMSA_CS = 0x010, VMSA_SS = 0x020, VMSA_DS = 0x030, VMSA_FS = 0x040,
	VMSA_GS = 0x050, VMSA_GDTR = 0x060, VMSA_LDTR = 0x070, VMSA_IDTR = 0x080, VMSA_TR = 0x090,
	VMSA_EFER = 0x0D0, VMSA_CR4 = 0x148, VMSA_CR3 = 0x150, VMSA_CR0 = 0x158, VMSA_DR7 = 0x160,
	VMSA_DR6 = 0x168, VMSA_RFLAGS = 0x170, VMSA_RIP = 0x178, VMSA_RSP = 0x1D8,
	VMSA_G_PAT = 0x268, VMSA_RDX = 0x310, VMSA_RBP = 0x328, VMSA_RSI = 0x330,
	VMSA_SEV_FEATURES = 0x3B0, VMSA_XCR0 = 0x3E8, VMSA_MXCSR = 0x408, VMSA_X87_FCW = 0x410,
};

void cvm_snp_vmsa_build(const struct cvm_vcpu_reset *r, uint8_t page[CVM_SNP_VMSA_SIZE])
{
	memset(page, 0, CVM_SNP_VMSA_SIZE);
	put_segment(page + VMSA_ES, &r->es);
	put_segment(page + VMSA_CS, &r->cs);
	put_segment(page + VMSA_SS, &r->ss);
	put_segment(page + VMSA_DS, &r->ds);
	put_segment(page + VMSA_FS, &r->fs);
	put_segment(page + VMSA_GS, &r->gs);
	put_segment(page + VMSA_GDTR, &r->gdtr);
	put_segment(page + VMSA_LDTR, &r->ldtr);
	put_segment(page + VMSA_IDTR, &r->idtr);
	put_segment(page + VMSA_TR, &r->tr);
	cvm_put_le64(page + VMSA_EFER, r->efer);
	cvm_put_le64(page + VMSA_CR4, r->cr4);
	cvm_put_le64(page + VMSA_CR3, r->cr3);
	cvm_put_le64(page + VMSA_CR0, r->cr0);
	cvm_put_le64(page + VMSA_DR7, r->dr7);
	cvm_put_le64(page + VMSA_DR6, r->dr6);
	cvm_put_le64(page + VMSA_RFLAGS, r->rflags);
	cvm_put_le64(page + VMSA_RIP, r->rip);
	cvm_put_le64(page + VMSA_RSP, r->rsp);
	cvm_put_le64(page + VMSA_G_PAT, r->g_pat);
	cvm_put_le64(page + VMSA_RDX, r->rdx);
	cvm_put_le64(page + VMSA_RBP, r->rbp);
	cvm_put_le64(page + VMSA_RSI, r->rsi);
	cvm_put_le64(page + VMSA_SEV_FEATURES, r->sev_features);
	cvm_put_le64(page + VMSA_XCR0, r->xcr0);
	cvm_put_le32(page + VMSA_MXCSR, r->mxcsr);
	cvm_put_le16(page + VMSA_X87_FCW, r->x87_fcw);
}
