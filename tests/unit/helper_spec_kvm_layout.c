/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The spec fake's own struct layouts (see spec_kvm_priv.h for the citation tags).  Written from
 * the spec's struct text field by field; spec_kvm_table_check() proves each table tiles its
 * struct exactly, and test_launch cross-checks the [X] ones against <linux/kvm.h>.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/spec_kvm_priv.h"

#define LAYOUT(var, kname, cite_, size_, fields)                                              \
	const struct spec_layout var = {kname, cite_, size_, fields,                          \
					(uint16_t)(sizeof(fields) / sizeof(fields[0]))}

/* [U 2] kvm_userspace_memory_region2, 160 bytes */
static const struct spec_field region2[] = {
	[R2_SLOT] = {"slot", 0, 4, SPEC_IN},
	[R2_FLAGS] = {"flags", 4, 4, SPEC_IN},
	[R2_GPA] = {"guest_phys_addr", 8, 8, SPEC_IN},
	[R2_SIZE] = {"memory_size", 16, 8, SPEC_IN},
	[R2_UADDR] = {"userspace_addr", 24, 8, SPEC_IN},
	[R2_GMEM_OFFSET] = {"guest_memfd_offset", 32, 8, SPEC_IN},
	[R2_GMEM] = {"guest_memfd", 40, 4, SPEC_IN},
	[R2_PAD1] = {"pad1", 44, 4, SPEC_PAD},
	[R2_PAD2] = {"pad2", 48, 112, SPEC_PAD},
};
LAYOUT(L_REGION2, "kvm_userspace_memory_region2", "kvm-uapi.md 2", 160, region2);

/* [U 3] kvm_create_guest_memfd, 64 bytes */
static const struct spec_field create_gmem[] = {
	[CG_SIZE] = {"size", 0, 8, SPEC_IN},
	[CG_FLAGS] = {"flags", 8, 8, SPEC_IN},
	[CG_RESERVED] = {"reserved", 16, 48, SPEC_PAD},
};
LAYOUT(L_CREATE_GMEM, "kvm_create_guest_memfd", "kvm-uapi.md 3", 64, create_gmem);

/* [U 4] kvm_memory_attributes, 32 bytes; "flags must be 0" */
static const struct spec_field mem_attr[] = {
	[MA_ADDRESS] = {"address", 0, 8, SPEC_IN},
	[MA_SIZE] = {"size", 8, 8, SPEC_IN},
	[MA_ATTRIBUTES] = {"attributes", 16, 8, SPEC_IN},
	[MA_FLAGS] = {"flags", 24, 8, SPEC_MBZ},
};
LAYOUT(L_MEM_ATTR, "kvm_memory_attributes", "kvm-uapi.md 4", 32, mem_attr);

/*
 * kvm_memory_attributes2 of the posted guest_memfd in-place conversion series (not upstream,
 * kvm-uapi.md 1 "Not upstream"), 128 bytes: offset (the VM ioctl's address) in, size,
 * attributes, flags (content mode) in, error_offset out, reserved.
 */
static const struct spec_field mem_attr2[] = {
	[MA2_OFFSET] = {"offset", 0, 8, SPEC_IN},
	[MA2_SIZE] = {"size", 8, 8, SPEC_IN},
	[MA2_ATTRIBUTES] = {"attributes", 16, 8, SPEC_IN},
	[MA2_FLAGS] = {"flags", 24, 8, SPEC_IN},
	[MA2_ERROR_OFFSET] = {"error_offset", 32, 8, SPEC_IN},
	[MA2_RESERVED] = {"reserved", 40, 88, SPEC_MBZ},
};
LAYOUT(L_MEM_ATTR2, "kvm_memory_attributes2", "posted gmem attributes series", 128, mem_attr2);

/* [U 5] kvm_pre_fault_memory, 64 bytes; "flags must be 0" */
static const struct spec_field pre_fault[] = {
	[PF_GPA] = {"gpa", 0, 8, SPEC_IN},
	[PF_SIZE] = {"size", 8, 8, SPEC_IN},
	[PF_FLAGS] = {"flags", 16, 8, SPEC_MBZ},
	[PF_PADDING] = {"padding", 24, 40, SPEC_PAD},
};
LAYOUT(L_PRE_FAULT, "kvm_pre_fault_memory", "kvm-uapi.md 5", 64, pre_fault);

/* [U 8a] kvm_sev_cmd, 24 bytes */
static const struct spec_field sev_cmd[] = {
	[SC_ID] = {"id", 0, 4, SPEC_IN},
	[SC_PAD0] = {"pad0", 4, 4, SPEC_PAD},
	[SC_DATA] = {"data", 8, 8, SPEC_IN},
	[SC_ERROR] = {"error", 16, 4, SPEC_IN},
	[SC_SEV_FD] = {"sev_fd", 20, 4, SPEC_IN},
};
LAYOUT(L_SEV_CMD, "kvm_sev_cmd", "kvm-uapi.md 8a", 24, sev_cmd);

/* [U 8a] kvm_sev_init, 48 bytes; "flags must be 0" */
static const struct spec_field sev_init[] = {
	[SI_VMSA_FEATURES] = {"vmsa_features", 0, 8, SPEC_IN},
	[SI_FLAGS] = {"flags", 8, 4, SPEC_MBZ},
	[SI_GHCB_VERSION] = {"ghcb_version", 12, 2, SPEC_IN},
	[SI_PAD1] = {"pad1", 14, 2, SPEC_PAD},
	[SI_PAD2] = {"pad2", 16, 32, SPEC_PAD},
};
LAYOUT(L_SEV_INIT, "kvm_sev_init", "kvm-uapi.md 8a", 48, sev_init);

/* [U 8a] kvm_sev_snp_launch_start, 64 bytes */
static const struct spec_field snp_start[] = {
	[LS_POLICY] = {"policy", 0, 8, SPEC_IN},
	[LS_GOSVW] = {"gosvw", 8, 16, SPEC_IN},
	[LS_FLAGS] = {"flags", 24, 2, SPEC_MBZ},
	[LS_PAD0] = {"pad0", 26, 6, SPEC_PAD},
	[LS_PAD1] = {"pad1", 32, 32, SPEC_PAD},
};
LAYOUT(L_SNP_START, "kvm_sev_snp_launch_start", "kvm-uapi.md 8a", 64, snp_start);

/* [U 8a] kvm_sev_snp_launch_update, 64 bytes, in/out; "flags must be 0" */
static const struct spec_field snp_update[] = {
	[LU_GFN_START] = {"gfn_start", 0, 8, SPEC_IN},
	[LU_UADDR] = {"uaddr", 8, 8, SPEC_IN},
	[LU_LEN] = {"len", 16, 8, SPEC_IN},
	[LU_TYPE] = {"type", 24, 1, SPEC_IN},
	[LU_PAD0] = {"pad0", 25, 1, SPEC_PAD},
	[LU_FLAGS] = {"flags", 26, 2, SPEC_MBZ},
	[LU_PAD1] = {"pad1", 28, 4, SPEC_PAD},
	[LU_PAD2] = {"pad2", 32, 32, SPEC_PAD},
};
LAYOUT(L_SNP_UPDATE, "kvm_sev_snp_launch_update", "kvm-uapi.md 8a", 64, snp_update);

/* [U 8a] kvm_sev_snp_launch_finish, 88 bytes; "flags must be 0" */
static const struct spec_field snp_finish[] = {
	[LF_ID_BLOCK_UADDR] = {"id_block_uaddr", 0, 8, SPEC_IN},
	[LF_ID_AUTH_UADDR] = {"id_auth_uaddr", 8, 8, SPEC_IN},
	[LF_ID_BLOCK_EN] = {"id_block_en", 16, 1, SPEC_IN},
	[LF_AUTH_KEY_EN] = {"auth_key_en", 17, 1, SPEC_IN},
	[LF_VCEK_DISABLED] = {"vcek_disabled", 18, 1, SPEC_IN},
	[LF_HOST_DATA] = {"host_data", 19, 32, SPEC_IN},
	[LF_PAD0] = {"pad0", 51, 3, SPEC_PAD},
	[LF_FLAGS] = {"flags", 54, 2, SPEC_MBZ},
	[LF_PAD1] = {"pad1", 56, 32, SPEC_PAD},
};
LAYOUT(L_SNP_FINISH, "kvm_sev_snp_launch_finish", "kvm-uapi.md 8a", 88, snp_finish);

/* [U 8b] kvm_tdx_cmd, 24 bytes; "hw_error must be 0 on input (else EINVAL)" */
static const struct spec_field tdx_cmd[] = {
	[TC_ID] = {"id", 0, 4, SPEC_IN},
	[TC_FLAGS] = {"flags", 4, 4, SPEC_IN},
	[TC_DATA] = {"data", 8, 8, SPEC_IN},
	[TC_HW_ERROR] = {"hw_error", 16, 8, SPEC_MBZ},
};
LAYOUT(L_TDX_CMD, "kvm_tdx_cmd", "kvm-uapi.md 8b", 24, tdx_cmd);

/* [U 8b] kvm_tdx_capabilities: 2048 bytes, then a kvm_cpuid2 */
static const struct spec_field tdx_caps[] = {
	[TK_ATTRS] = {"supported_attrs", 0, 8, SPEC_IN},
	[TK_XFAM] = {"supported_xfam", 8, 8, SPEC_IN},
	[TK_K_R11] = {"kernel_tdvmcallinfo_1_r11", 16, 8, SPEC_IN},
	[TK_U_R11] = {"user_tdvmcallinfo_1_r11", 24, 8, SPEC_IN},
	[TK_K_R12] = {"kernel_tdvmcallinfo_1_r12", 32, 8, SPEC_IN},
	[TK_U_R12] = {"user_tdvmcallinfo_1_r12", 40, 8, SPEC_IN},
	[TK_RESERVED] = {"reserved", 48, 2000, SPEC_PAD},
};
LAYOUT(L_TDX_CAPS, "kvm_tdx_capabilities", "kvm-uapi.md 8b", 2048, tdx_caps);

/* [U 8b] kvm_tdx_init_vm: 256 bytes, then a kvm_cpuid2; reserved "must be 0" [T 5] */
static const struct spec_field tdx_init_vm[] = {
	[TV_ATTRIBUTES] = {"attributes", 0, 8, SPEC_IN},
	[TV_XFAM] = {"xfam", 8, 8, SPEC_IN},
	[TV_MRCONFIGID] = {"mrconfigid", 16, 48, SPEC_IN},
	[TV_MROWNER] = {"mrowner", 64, 48, SPEC_IN},
	[TV_MROWNERCONFIG] = {"mrownerconfig", 112, 48, SPEC_IN},
	[TV_RESERVED] = {"reserved", 160, 96, SPEC_MBZ},
};
LAYOUT(L_TDX_INIT_VM, "kvm_tdx_init_vm", "kvm-uapi.md 8b", 256, tdx_init_vm);

/* [U 8b] kvm_tdx_init_mem_region, 24 bytes, in/out */
static const struct spec_field tdx_mem_region[] = {
	[TM_SOURCE_ADDR] = {"source_addr", 0, 8, SPEC_IN},
	[TM_GPA] = {"gpa", 8, 8, SPEC_IN},
	[TM_NR_PAGES] = {"nr_pages", 16, 8, SPEC_IN},
};
LAYOUT(L_TDX_MEM_REGION, "kvm_tdx_init_mem_region", "kvm-uapi.md 8b", 24, tdx_mem_region);

/* [T 5] kvm_cpuid2 header, 8 bytes; INIT_VM: "cpuid.padding 0" */
static const struct spec_field cpuid2[] = {
	[CP_NENT] = {"nent", 0, 4, SPEC_IN},
	[CP_PADDING] = {"padding", 4, 4, SPEC_MBZ},
};
LAYOUT(L_CPUID2, "kvm_cpuid2", "tdx-measurement.md 5", 8, cpuid2);

/* [T 5] kvm_cpuid_entry2, 40 bytes */
static const struct spec_field cpuid_entry[] = {
	[CE_FUNCTION] = {"function", 0, 4, SPEC_IN},
	[CE_INDEX] = {"index", 4, 4, SPEC_IN},
	[CE_FLAGS] = {"flags", 8, 4, SPEC_IN},
	[CE_EAX] = {"eax", 12, 4, SPEC_IN},
	[CE_EBX] = {"ebx", 16, 4, SPEC_IN},
	[CE_ECX] = {"ecx", 20, 4, SPEC_IN},
	[CE_EDX] = {"edx", 24, 4, SPEC_IN},
	[CE_PADDING] = {"padding", 28, 12, SPEC_PAD},
};
LAYOUT(L_CPUID_ENTRY, "kvm_cpuid_entry2", "tdx-measurement.md 5", 40, cpuid_entry);

/* [X] kvm_regs, 144 bytes: 18 u64 in this order */
static const struct spec_field regs[] = {
	[RG_RAX] = {"rax", 0, 8, SPEC_IN},     [RG_RBX] = {"rbx", 8, 8, SPEC_IN},
	[RG_RCX] = {"rcx", 16, 8, SPEC_IN},    [RG_RDX] = {"rdx", 24, 8, SPEC_IN},
	[RG_RSI] = {"rsi", 32, 8, SPEC_IN},    [RG_RDI] = {"rdi", 40, 8, SPEC_IN},
	[RG_RSP] = {"rsp", 48, 8, SPEC_IN},    [RG_RBP] = {"rbp", 56, 8, SPEC_IN},
	[RG_R8] = {"r8", 64, 8, SPEC_IN},      [RG_R9] = {"r9", 72, 8, SPEC_IN},
	[RG_R10] = {"r10", 80, 8, SPEC_IN},    [RG_R11] = {"r11", 88, 8, SPEC_IN},
	[RG_R12] = {"r12", 96, 8, SPEC_IN},    [RG_R13] = {"r13", 104, 8, SPEC_IN},
	[RG_R14] = {"r14", 112, 8, SPEC_IN},   [RG_R15] = {"r15", 120, 8, SPEC_IN},
	[RG_RIP] = {"rip", 128, 8, SPEC_IN},   [RG_RFLAGS] = {"rflags", 136, 8, SPEC_IN},
};
LAYOUT(L_REGS, "kvm_regs", "x86 uAPI", 144, regs);

/* [X] kvm_segment, 24 bytes */
static const struct spec_field segment[] = {
	[SG_BASE] = {"base", 0, 8, SPEC_IN},         [SG_LIMIT] = {"limit", 8, 4, SPEC_IN},
	[SG_SELECTOR] = {"selector", 12, 2, SPEC_IN}, [SG_TYPE] = {"type", 14, 1, SPEC_IN},
	[SG_PRESENT] = {"present", 15, 1, SPEC_IN},  [SG_DPL] = {"dpl", 16, 1, SPEC_IN},
	[SG_DB] = {"db", 17, 1, SPEC_IN},            [SG_S] = {"s", 18, 1, SPEC_IN},
	[SG_L] = {"l", 19, 1, SPEC_IN},              [SG_G] = {"g", 20, 1, SPEC_IN},
	[SG_AVL] = {"avl", 21, 1, SPEC_IN},          [SG_UNUSABLE] = {"unusable", 22, 1, SPEC_IN},
	[SG_PADDING] = {"padding", 23, 1, SPEC_PAD},
};
LAYOUT(L_SEGMENT, "kvm_segment", "x86 uAPI", 24, segment);

/* [X] kvm_dtable, 16 bytes */
static const struct spec_field dtable[] = {
	[DT_BASE] = {"base", 0, 8, SPEC_IN},
	[DT_LIMIT] = {"limit", 8, 2, SPEC_IN},
	[DT_PADDING] = {"padding", 10, 6, SPEC_PAD},
};
LAYOUT(L_DTABLE, "kvm_dtable", "x86 uAPI", 16, dtable);

/* [X] kvm_sregs, 312 bytes: 8 kvm_segment, 2 kvm_dtable, 7 u64, the interrupt bitmap */
static const struct spec_field sregs[] = {
	[SR_CS] = {"cs", 0, 24, SPEC_IN},      [SR_DS] = {"ds", 24, 24, SPEC_IN},
	[SR_ES] = {"es", 48, 24, SPEC_IN},     [SR_FS] = {"fs", 72, 24, SPEC_IN},
	[SR_GS] = {"gs", 96, 24, SPEC_IN},     [SR_SS] = {"ss", 120, 24, SPEC_IN},
	[SR_TR] = {"tr", 144, 24, SPEC_IN},    [SR_LDT] = {"ldt", 168, 24, SPEC_IN},
	[SR_GDT] = {"gdt", 192, 16, SPEC_IN},  [SR_IDT] = {"idt", 208, 16, SPEC_IN},
	[SR_CR0] = {"cr0", 224, 8, SPEC_IN},   [SR_CR2] = {"cr2", 232, 8, SPEC_IN},
	[SR_CR3] = {"cr3", 240, 8, SPEC_IN},   [SR_CR4] = {"cr4", 248, 8, SPEC_IN},
	[SR_CR8] = {"cr8", 256, 8, SPEC_IN},   [SR_EFER] = {"efer", 264, 8, SPEC_IN},
	[SR_APIC_BASE] = {"apic_base", 272, 8, SPEC_IN},
	[SR_INTERRUPT_BITMAP] = {"interrupt_bitmap", 280, 32, SPEC_IN},
};
LAYOUT(L_SREGS, "kvm_sregs", "x86 uAPI", 312, sregs);

/* [X] kvm_fpu, 416 bytes (FXSAVE-like) */
static const struct spec_field fpu[] = {
	[FP_FPR] = {"fpr", 0, 128, SPEC_IN},
	[FP_FCW] = {"fcw", 128, 2, SPEC_IN},
	[FP_FSW] = {"fsw", 130, 2, SPEC_IN},
	[FP_FTWX] = {"ftwx", 132, 1, SPEC_IN},
	[FP_PAD1] = {"pad1", 133, 1, SPEC_PAD},
	[FP_LAST_OPCODE] = {"last_opcode", 134, 2, SPEC_IN},
	[FP_LAST_IP] = {"last_ip", 136, 8, SPEC_IN},
	[FP_LAST_DP] = {"last_dp", 144, 8, SPEC_IN},
	[FP_XMM] = {"xmm", 152, 256, SPEC_IN},
	[FP_MXCSR] = {"mxcsr", 408, 4, SPEC_IN},
	[FP_PAD2] = {"pad2", 412, 4, SPEC_PAD},
};
LAYOUT(L_FPU, "kvm_fpu", "x86 uAPI", 416, fpu);

/* [X] kvm_xcrs, 392 bytes: 16 kvm_xcr of 16 bytes */
static const struct spec_field xcrs[] = {
	[XC_NR_XCRS] = {"nr_xcrs", 0, 4, SPEC_IN},
	[XC_FLAGS] = {"flags", 4, 4, SPEC_IN},
	[XC_XCRS] = {"xcrs", 8, 256, SPEC_IN},
	[XC_PADDING] = {"padding", 264, 128, SPEC_PAD},
};
LAYOUT(L_XCRS, "kvm_xcrs", "x86 uAPI", 392, xcrs);

static const struct spec_field xcr[] = {
	[XR_XCR] = {"xcr", 0, 4, SPEC_IN},
	[XR_RESERVED] = {"reserved", 4, 4, SPEC_PAD},
	[XR_VALUE] = {"value", 8, 8, SPEC_IN},
};
LAYOUT(L_XCR, "kvm_xcr", "x86 uAPI", 16, xcr);

/* [X] kvm_msrs header, 8 bytes, then kvm_msr_entry of 16 bytes */
static const struct spec_field msrs[] = {
	[MS_NMSRS] = {"nmsrs", 0, 4, SPEC_IN},
	[MS_PAD] = {"pad", 4, 4, SPEC_PAD},
};
LAYOUT(L_MSRS, "kvm_msrs", "x86 uAPI", 8, msrs);

static const struct spec_field msr_entry[] = {
	[ME_INDEX] = {"index", 0, 4, SPEC_IN},
	[ME_RESERVED] = {"reserved", 4, 4, SPEC_PAD},
	[ME_DATA] = {"data", 8, 8, SPEC_IN},
};
LAYOUT(L_MSR_ENTRY, "kvm_msr_entry", "x86 uAPI", 16, msr_entry);

/* [X] kvm_enable_cap, 104 bytes */
static const struct spec_field enable_cap[] = {
	[EC_CAP] = {"cap", 0, 4, SPEC_IN},
	[EC_FLAGS] = {"flags", 4, 4, SPEC_IN},
	[EC_ARGS] = {"args", 8, 32, SPEC_IN},
	[EC_PAD] = {"pad", 40, 64, SPEC_PAD},
};
LAYOUT(L_ENABLE_CAP, "kvm_enable_cap", "x86 uAPI", 104, enable_cap);

/* [X] kvm_device_attr, 24 bytes (KVM_GET_DEVICE_ATTR; [U 8a] names group 1, attribute 0) */
static const struct spec_field device_attr[] = {
	[DA_FLAGS] = {"flags", 0, 4, SPEC_MBZ},
	[DA_GROUP] = {"group", 4, 4, SPEC_IN},
	[DA_ATTR] = {"attr", 8, 8, SPEC_IN},
	[DA_ADDR] = {"addr", 16, 8, SPEC_IN},
};
LAYOUT(L_DEVICE_ATTR, "kvm_device_attr", "x86 uAPI", 24, device_attr);

/*
 * [P] one entry of the SNP CPUID page (SNP_CPUID_FUNCTION), 48 bytes; the page is a u32 count,
 * 12 reserved bytes, then at most 64 of these.
 */
static const struct spec_field snp_cpuid_entry[] = {
	[PC_EAX_IN] = {"eax_in", 0, 4, SPEC_IN},   [PC_ECX_IN] = {"ecx_in", 4, 4, SPEC_IN},
	[PC_XCR0_IN] = {"xcr0_in", 8, 8, SPEC_IN}, [PC_XSS_IN] = {"xss_in", 16, 8, SPEC_IN},
	[PC_EAX] = {"eax", 24, 4, SPEC_IN},        [PC_EBX] = {"ebx", 28, 4, SPEC_IN},
	[PC_ECX] = {"ecx", 32, 4, SPEC_IN},        [PC_EDX] = {"edx", 36, 4, SPEC_IN},
	[PC_RESERVED] = {"reserved", 40, 8, SPEC_PAD},
};
LAYOUT(L_SNP_CPUID_ENTRY, "snp_cpuid_function", "SEV-SNP firmware ABI", 48, snp_cpuid_entry);

/* psp-sev.h sev_issue_cmd, 24 bytes (_IOWR('S', 0, ...)); error is the PSP's status */
static const struct spec_field sev_issue_cmd[] = {
	[SV_CMD] = {"cmd", 0, 4, SPEC_IN},
	[SV_PAD0] = {"pad0", 4, 4, SPEC_PAD},
	[SV_DATA] = {"data", 8, 8, SPEC_IN},
	[SV_ERROR] = {"error", 16, 4, SPEC_IN},
	[SV_PAD1] = {"pad1", 20, 4, SPEC_PAD},
};
LAYOUT(L_SEV_ISSUE_CMD, "sev_issue_cmd", "psp-sev.h", 24, sev_issue_cmd);

/* psp-sev.h sev_user_data_get_id2, 12 bytes (__packed) */
static const struct spec_field sev_get_id2[] = {
	[GI_ADDRESS] = {"address", 0, 8, SPEC_IN},
	[GI_LENGTH] = {"length", 8, 4, SPEC_IN},
};
LAYOUT(L_SEV_GET_ID2, "sev_user_data_get_id2", "psp-sev.h", 12, sev_get_id2);

static const struct spec_layout *const all_layouts[] = {
	&L_REGION2,   &L_CREATE_GMEM, &L_MEM_ATTR,    &L_PRE_FAULT,   &L_SEV_CMD,
	&L_SEV_INIT,  &L_SNP_START,   &L_SNP_UPDATE,  &L_SNP_FINISH,  &L_TDX_CMD,
	&L_TDX_CAPS,  &L_TDX_INIT_VM, &L_TDX_MEM_REGION, &L_CPUID2,   &L_CPUID_ENTRY,
	&L_REGS,      &L_SEGMENT,     &L_DTABLE,      &L_SREGS,       &L_FPU,
	&L_XCRS,      &L_XCR,         &L_MSRS,        &L_MSR_ENTRY,   &L_ENABLE_CAP,
	&L_DEVICE_ATTR, &L_SNP_CPUID_ENTRY, &L_SEV_ISSUE_CMD, &L_SEV_GET_ID2, &L_MEM_ATTR2,
};

uint64_t spec_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = size; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

void spec_put_le(uint8_t *p, unsigned size, uint64_t v)
{
	for (unsigned i = 0; i < size; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

uint64_t spec_get(const uint8_t *buf, const struct spec_layout *l, unsigned idx)
{
	const struct spec_field *f = &l->f[idx];
	return f->size <= 8 ? spec_le(buf + f->off, f->size) : 0;
}

void spec_put(uint8_t *buf, const struct spec_layout *l, unsigned idx, uint64_t v)
{
	const struct spec_field *f = &l->f[idx];
	if (f->size <= 8)
		spec_put_le(buf + f->off, f->size, v);
}

const char *spec_mbz_violation(const uint8_t *buf, const struct spec_layout *l)
{
	for (unsigned i = 0; i < l->n; i++) {
		if (l->f[i].rule != SPEC_MBZ)
			continue;
		for (unsigned b = 0; b < l->f[i].size; b++)
			if (buf[l->f[i].off + b])
				return l->f[i].name;
	}
	return NULL;
}

const struct spec_field *spec_field_named(const struct spec_layout *l, const char *name)
{
	for (unsigned i = 0; l && i < l->n; i++)
		if (strcmp(l->f[i].name, name) == 0)
			return &l->f[i];
	return NULL;
}

const struct spec_layout *spec_layout_named(const char *name)
{
	for (size_t i = 0; i < sizeof(all_layouts) / sizeof(all_layouts[0]); i++)
		if (strcmp(all_layouts[i]->name, name) == 0)
			return all_layouts[i];
	return NULL;
}

int spec_kvm_layout_field(const char *layout, const char *field, unsigned *off, unsigned *size)
{
	const struct spec_field *f = spec_field_named(spec_layout_named(layout), field);
	if (!f)
		return -ENOENT;
	*off = f->off;
	*size = f->size;
	return 0;
}

unsigned spec_kvm_layout_size(const char *layout)
{
	const struct spec_layout *l = spec_layout_named(layout);
	return l ? l->size : 0;
}

const char *spec_layouts_check(void)
{
	static char msg[160];
	for (size_t i = 0; i < sizeof(all_layouts) / sizeof(all_layouts[0]); i++) {
		const struct spec_layout *l = all_layouts[i];
		unsigned at = 0;
		for (unsigned j = 0; j < l->n; j++) {
			if (!l->f[j].name || l->f[j].off != at || !l->f[j].size) {
				snprintf(msg, sizeof(msg), "%s: field %u (%s) at %u, expected %u", l->name,
					 j, l->f[j].name ? l->f[j].name : "(gap)", l->f[j].off, at);
				return msg;
			}
			at += l->f[j].size;
		}
		if (at != l->size) {
			snprintf(msg, sizeof(msg), "%s: fields cover %u of %u bytes", l->name, at,
				 l->size);
			return msg;
		}
	}
	return NULL;
}
