/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the spec fake KVM (helper_spec_kvm*.c): its own table of layouts and ioctl
 * numbers, the per-VM state machines, and what the core shares with the SNP and TDX parts.
 *
 * Sources, cited per entry: [U n] = ../shared/spec/kvm-uapi.md section n, [F n] =
 * launch-flows.md section n, [S n] = snp-measurement.md, [T n] = tdx-measurement.md, [X] =
 * Linux's x86 uAPI for the old structs the spec does not spell out (kvm_regs, kvm_sregs,
 * kvm_fpu, kvm_xcrs, kvm_msrs, kvm_enable_cap, kvm_device_attr; cross-checked against
 * <linux/kvm.h> by test_launch's table test, never by including it here), [P] = the SEV-SNP
 * firmware ABI for what the PSP does that the spec only names (the CPUID page's entries, the
 * features it refuses in them, as QEMU's sev_snp_mask_cpuid_features lists them).
 *
 * The rules the fake enforces, each with the errno it answers:
 *   kernel rules the spec states [U]: struct flags and reserved fields that must be zero
 *   (EINVAL); page alignment of GPAs, sizes and sources (EINVAL); an SNP/TDX populate target in
 *   a guest_memfd slot and PRIVATE (EINVAL), populated once (EEXIST); sources readable (EFAULT);
 *   pre-fault refused before SNP_LAUNCH_FINISH / KVM_TDX_FINALIZE_VM (EOPNOTSUPP); SNP
 *   LAUNCH_UPDATE only between LAUNCH_START and LAUNCH_FINISH; LAUNCH_START needs the /dev/sev
 *   descriptor in kvm_sev_cmd.sev_fd (EBADF); vCPU state read-only after LAUNCH_FINISH and
 *   always for TDX vCPUs (EINVAL); TDX INIT_VM before any vCPU, INIT_MEM_REGION only after the
 *   vCPU's INIT_VCPU, on private (shared-bit clear) GPAs, never after FINALIZE_VM (EINVAL);
 *   hw_error zero on input (EINVAL); KVM_SEV_SNP_ENABLE_REQ_CERTS (7.0) only after INIT2 and
 *   before any vCPU, without data (EINVAL).
 *   the documented flow [F 1, F 2]: KVM_SEV_INIT2 before any guest_memfd, memslot or vCPU of an
 *   SNP VM, split irqchip before a TDX vCPU (EINVAL).  Nothing else about order: LAUNCH_START
 *   may come before or after the memory and the vCPUs (QEMU starts before both, the selftests
 *   after the vCPUs), TDX memory may be set up before or after INIT_VM.
 */
#ifndef CVMKIT_TESTS_SPEC_KVM_PRIV_H
#define CVMKIT_TESTS_SPEC_KVM_PRIV_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "tests/unit/helper_spec_kvm.h"

/* Nothing above may bring in the definitions the fake must not share. */
#ifdef KVM_API_VERSION
#error "the spec fake must not see <linux/kvm.h>"
#endif
#ifdef CVMKIT_KVM_UAPI_H
#error "the spec fake must not see cvmkit's kvm_uapi.h"
#endif

#define SPEC_PAGE 4096ull

/* ---- Layouts ---------------------------------------------------------------------------- */

enum spec_rule {
	SPEC_IN,  /* an input (or output) field */
	SPEC_MBZ, /* must be zero on input: EINVAL otherwise */
	SPEC_PAD, /* padding the kernel ignores */
};

struct spec_field {
	const char *name;
	uint16_t off, size;
	uint8_t rule;
};

struct spec_layout {
	const char *name; /* the kernel's struct name */
	const char *cite;
	uint32_t size;
	const struct spec_field *f;
	uint16_t n;
};

/* Integer field idx of layout l in buf (1, 2, 4 or 8 bytes, little-endian). */
uint64_t spec_get(const uint8_t *buf, const struct spec_layout *l, unsigned idx);
void spec_put(uint8_t *buf, const struct spec_layout *l, unsigned idx, uint64_t v);
/* The first SPEC_MBZ field of l that is not zero in buf, or NULL. */
const char *spec_mbz_violation(const uint8_t *buf, const struct spec_layout *l);
const struct spec_field *spec_field_named(const struct spec_layout *l, const char *name);
const struct spec_layout *spec_layout_named(const char *name);
uint64_t spec_le(const uint8_t *p, unsigned size);
/* Every layout's fields in order, back to back, covering exactly its size: NULL or a message. */
const char *spec_layouts_check(void);
void spec_put_le(uint8_t *p, unsigned size, uint64_t v);

/* [U 2] struct kvm_userspace_memory_region2 */
enum { R2_SLOT, R2_FLAGS, R2_GPA, R2_SIZE, R2_UADDR, R2_GMEM_OFFSET, R2_GMEM, R2_PAD1, R2_PAD2 };
/* [U 3] struct kvm_create_guest_memfd */
enum { CG_SIZE, CG_FLAGS, CG_RESERVED };
/* [U 4] struct kvm_memory_attributes */
enum { MA_ADDRESS, MA_SIZE, MA_ATTRIBUTES, MA_FLAGS };
/* the posted series' struct kvm_memory_attributes2 (a guest_memfd ioctl; not upstream) */
enum { MA2_OFFSET, MA2_SIZE, MA2_ATTRIBUTES, MA2_FLAGS, MA2_ERROR_OFFSET, MA2_RESERVED };
/* [U 5] struct kvm_pre_fault_memory */
enum { PF_GPA, PF_SIZE, PF_FLAGS, PF_PADDING };
/* [U 8a] struct kvm_sev_cmd */
enum { SC_ID, SC_PAD0, SC_DATA, SC_ERROR, SC_SEV_FD };
/* [U 8a] struct kvm_sev_init */
enum { SI_VMSA_FEATURES, SI_FLAGS, SI_GHCB_VERSION, SI_PAD1, SI_PAD2 };
/* [U 8a] struct kvm_sev_snp_launch_start */
enum { LS_POLICY, LS_GOSVW, LS_FLAGS, LS_PAD0, LS_PAD1 };
/* [U 8a] struct kvm_sev_snp_launch_update */
enum { LU_GFN_START, LU_UADDR, LU_LEN, LU_TYPE, LU_PAD0, LU_FLAGS, LU_PAD1, LU_PAD2 };
/* [U 8a] struct kvm_sev_snp_launch_finish */
enum { LF_ID_BLOCK_UADDR, LF_ID_AUTH_UADDR, LF_ID_BLOCK_EN, LF_AUTH_KEY_EN, LF_VCEK_DISABLED,
       LF_HOST_DATA, LF_PAD0, LF_FLAGS, LF_PAD1 };
/* [U 8b] struct kvm_tdx_cmd */
enum { TC_ID, TC_FLAGS, TC_DATA, TC_HW_ERROR };
/* [U 8b] struct kvm_tdx_capabilities (the fixed 2048 bytes before its kvm_cpuid2) */
enum { TK_ATTRS, TK_XFAM, TK_K_R11, TK_U_R11, TK_K_R12, TK_U_R12, TK_RESERVED };
/* [U 8b] struct kvm_tdx_init_vm (the fixed 256 bytes before its kvm_cpuid2) */
enum { TV_ATTRIBUTES, TV_XFAM, TV_MRCONFIGID, TV_MROWNER, TV_MROWNERCONFIG, TV_RESERVED };
/* [U 8b] struct kvm_tdx_init_mem_region */
enum { TM_SOURCE_ADDR, TM_GPA, TM_NR_PAGES };
/* [T 5] struct kvm_cpuid2 (header) and struct kvm_cpuid_entry2 */
enum { CP_NENT, CP_PADDING };
enum { CE_FUNCTION, CE_INDEX, CE_FLAGS, CE_EAX, CE_EBX, CE_ECX, CE_EDX, CE_PADDING };
/* [X] struct kvm_regs */
enum { RG_RAX, RG_RBX, RG_RCX, RG_RDX, RG_RSI, RG_RDI, RG_RSP, RG_RBP, RG_R8, RG_R9, RG_R10,
       RG_R11, RG_R12, RG_R13, RG_R14, RG_R15, RG_RIP, RG_RFLAGS };
/* [X] struct kvm_segment, struct kvm_dtable, struct kvm_sregs */
enum { SG_BASE, SG_LIMIT, SG_SELECTOR, SG_TYPE, SG_PRESENT, SG_DPL, SG_DB, SG_S, SG_L, SG_G,
       SG_AVL, SG_UNUSABLE, SG_PADDING };
enum { DT_BASE, DT_LIMIT, DT_PADDING };
enum { SR_CS, SR_DS, SR_ES, SR_FS, SR_GS, SR_SS, SR_TR, SR_LDT, SR_GDT, SR_IDT, SR_CR0, SR_CR2,
       SR_CR3, SR_CR4, SR_CR8, SR_EFER, SR_APIC_BASE, SR_INTERRUPT_BITMAP };
/* [X] struct kvm_fpu */
enum { FP_FPR, FP_FCW, FP_FSW, FP_FTWX, FP_PAD1, FP_LAST_OPCODE, FP_LAST_IP, FP_LAST_DP, FP_XMM,
       FP_MXCSR, FP_PAD2 };
/* [X] struct kvm_xcrs and struct kvm_xcr */
enum { XC_NR_XCRS, XC_FLAGS, XC_XCRS, XC_PADDING };
enum { XR_XCR, XR_RESERVED, XR_VALUE };
/* [X] struct kvm_msrs (header) and struct kvm_msr_entry */
enum { MS_NMSRS, MS_PAD };
enum { ME_INDEX, ME_RESERVED, ME_DATA };
/* [X] struct kvm_enable_cap */
enum { EC_CAP, EC_FLAGS, EC_ARGS, EC_PAD };
/* [X] struct kvm_device_attr */
enum { DA_FLAGS, DA_GROUP, DA_ATTR, DA_ADDR };
/* psp-sev.h struct sev_issue_cmd (the /dev/sev ioctl) */
enum { SV_CMD, SV_PAD0, SV_DATA, SV_ERROR, SV_PAD1 };
/* psp-sev.h struct sev_user_data_get_id2 (packed) */
enum { GI_ADDRESS, GI_LENGTH };
/* [P] one entry of the SNP CPUID page */
enum { PC_EAX_IN, PC_ECX_IN, PC_XCR0_IN, PC_XSS_IN, PC_EAX, PC_EBX, PC_ECX, PC_EDX, PC_RESERVED };

extern const struct spec_layout L_REGION2, L_CREATE_GMEM, L_MEM_ATTR, L_PRE_FAULT, L_SEV_CMD,
	L_SEV_INIT, L_SNP_START, L_SNP_UPDATE, L_SNP_FINISH, L_TDX_CMD, L_TDX_CAPS, L_TDX_INIT_VM,
	L_TDX_MEM_REGION, L_CPUID2, L_CPUID_ENTRY, L_REGS, L_SEGMENT, L_DTABLE, L_SREGS, L_FPU,
	L_XCRS, L_XCR, L_MSRS, L_MSR_ENTRY, L_ENABLE_CAP, L_DEVICE_ATTR, L_SNP_CPUID_ENTRY,
	L_SEV_ISSUE_CMD, L_SEV_GET_ID2, L_MEM_ATTR2;

/* ---- State ------------------------------------------------------------------------------ */

#define SPEC_MAX_FDS 4096
#define SPEC_MAX_VMS 4
#define SPEC_MAX_SLOTS 16
#define SPEC_MAX_GMEMS 16
#define SPEC_MAX_VCPUS 64
#define SPEC_MAX_RANGES 256
#define SPEC_MAX_MAPS 256
#define SPEC_MAX_SCRIPT 16
#define SPEC_MAX_CPUID 256
#define SPEC_MAX_CPUID_REFUSED 16
#define SPEC_IN_MAX SPEC_KVM_IN_MAX

/*
 * A guest_memfd: its fd is a real memfd of size bytes, so what is written through a mapping of
 * it stays when the mapping goes (the populate of the in-place series reads it back).  state is
 * the posted series' per-page shared/private state, one byte per page, allocated by the first
 * KVM_SET_MEMORY_ATTRIBUTES2 (NULL: the VM's attributes alone say what is private).
 */
enum { SPEC_GP_VM, SPEC_GP_SHARED, SPEC_GP_PRIVATE, SPEC_GP_PRIVATE_KEPT };
struct spec_gmem {
	int fd;
	uint64_t size, flags;
	uint8_t *state;
};

struct spec_slot {
	uint32_t slot, flags;
	uint64_t gpa, size, uaddr, gmem_offset;
	int gmem;             /* index into vm->gmem, -1 without KVM_MEM_GUEST_MEMFD */
	uint8_t *populated;   /* one bit per page, allocated on first populate */
};

struct spec_vcpu {
	unsigned long id;
	int fd;
	bool has_regs, has_sregs, has_fpu, has_xcrs;
	uint8_t regs[144], sregs[312], fpu[416], xcrs[392];
	uint64_t pat;
	uint32_t unmodelled_msr; /* first MSR set that the VMSA model does not place, or 0 */
	bool tdx_inited;
	uint64_t rcx;
};

struct spec_range {
	uint64_t start, end;
};

struct spec_snp {
	bool inited, started, finished;
	uint64_t vmsa_features, policy;
	uint8_t ld[48];
	int digest_rc;        /* 0 valid, -ENODATA not finished, -ENOTSUP a VMSA not modelled */
	char why[160];
	bool has_id_block;
	uint8_t id_block[96];
	uint8_t host_data[32];
	bool has_cpuid_page;
	uint8_t cpuid_page[4096];
	uint8_t (*vmsa)[4096];
	unsigned nvmsa;
	bool secure_tsc;          /* LAUNCH_START ran with SecureTSC in vmsa_features */
	uint32_t desired_tsc_khz; /* what KVM gave the firmware's SNP_LAUNCH_START */
	unsigned cpuid_rejections;
	bool req_certs;           /* KVM_SEV_SNP_ENABLE_REQ_CERTS succeeded */
};

struct spec_tdx {
	bool inited, finalized;
	uint64_t attributes, xfam;
	unsigned gpaw;
	EVP_MD_CTX *mrtd;
	bool has_mrtd;
	uint8_t mrtd_out[48];
	uint8_t cpuid[SPEC_MAX_CPUID][40];
	uint32_t ncpuid;
};

struct spec_tee;

struct spec_vm {
	unsigned long type;
	int fd;
	const struct spec_tee *tee;
	struct spec_gmem gmem[SPEC_MAX_GMEMS];
	unsigned ngmem;
	struct spec_slot slots[SPEC_MAX_SLOTS];
	unsigned nslots;
	struct spec_vcpu vcpus[SPEC_MAX_VCPUS];
	unsigned nvcpus;
	struct spec_range priv[SPEC_MAX_RANGES];
	unsigned npriv;
	bool memory_seen; /* a guest_memfd or memslot was created */
	bool split_irqchip;
	bool pre_fault_allowed;
	uint32_t default_tsc_khz; /* kvm->arch.default_tsc_khz: the host's, or KVM_SET_TSC_KHZ's */
	bool dead; /* KVM_TDX_TERMINATE_VM: every further VM and vCPU ioctl is EIO */
	struct spec_snp snp;
	struct spec_tdx tdx;
};

struct spec_fd {
	enum spec_fd_kind kind;
	int vm;  /* index into k->vms */
	int idx; /* vCPU or guest_memfd index */
};

struct spec_map {
	void *addr;
	size_t len;
	enum spec_fd_kind kind;
	int vm, gmem;         /* a guest_memfd's mapping: which one (else -1) */
};

struct spec_script {
	char step[40];
	unsigned nth, seen;
	uint64_t pages;
	int err;
	uint32_t fw_error;
};

/* [P] bits the PSP refuses in one register of a CPUID page entry (index ~0: any). */
struct spec_cpuid_refusal {
	uint32_t function, index;
	unsigned reg; /* 0 eax .. 3 edx */
	uint32_t bits;
};

struct spec_kvm {
	pthread_mutex_t mu;
	struct cvm_kvm_seam seam;
	struct spec_fd fds[SPEC_MAX_FDS];
	struct spec_vm *vms[SPEC_MAX_VMS];
	unsigned nvms;
	struct spec_map maps[SPEC_MAX_MAPS];
	unsigned nmaps;
	struct spec_kvm_event *ev;
	size_t nev, evcap;
	struct spec_script script[SPEC_MAX_SCRIPT];
	unsigned nscript;
	/* host */
	uint64_t vm_types, sev_vmsa_features;
	int sev_attr_errno;            /* KVM_GET_DEVICE_ATTR(SEV group): 0 or the errno */
	uint32_t host_tsc_khz;
	uint64_t snp_req_certs_attr;   /* KVM_X86_SEV_SNP_REQ_CERTS: 1 on a 7.0 KVM */
	int snp_req_certs_errno;       /* ... or this errno (ENXIO before 7.0) */
	uint8_t chip_id[64];           /* /dev/sev SEV_GET_ID2 */
	uint64_t reported_tcb;         /* /dev/sev SNP_PLATFORM_STATUS */
	bool vlek_loaded;
	/* the posted series' KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd (off: ENOTTY) */
	bool gmem_attr2, gmem_attr2_preserve;
	int gmem_attr2_errno;          /* the next gmem_attr2_fails calls fail with it */
	unsigned gmem_attr2_fails;
	uint64_t gmem_attr2_error_offset;
	bool gmem_attr2_unmaps;        /* conversion ignores the caller's mappings (else EAGAIN) */
	uint64_t gmem_flags_withheld;  /* guest_memfd flags no VM is offered (upstream SNP: MMAP) */
	struct spec_cpuid_refusal cpuid_refused[SPEC_MAX_CPUID_REFUSED];
	unsigned ncpuid_refused;
	int prefault_errno;
	uint64_t prefault_step, chunk;
	/* injected failure */
	unsigned calls, fail_at;
	int fail_errno;
	char failed_step[64];
	char *refusals;
	size_t refusals_len;
};

/* One call being answered. */
struct spec_call {
	struct spec_kvm *k;
	struct spec_vm *vm;       /* NULL on /dev/kvm */
	struct spec_vcpu *vcpu;   /* vCPU ioctls */
	unsigned long arg;
	struct spec_kvm_event *ev;
	uint8_t *in;              /* ev->in: the argument (data) struct as copied in */
	uint8_t *cmd;             /* ev->cmd for KVM_MEMORY_ENCRYPT_OP */
	uint64_t data;            /* KVM_MEMORY_ENCRYPT_OP: the command's data (pointer) */
	const struct spec_script *script; /* the scripted answer of this call, or NULL */
	int gmem;                 /* guest_memfd ioctls: its index in vm->gmem, else -1 */
};

/* Refuse the call by a rule: records why (event and refusal list) and returns -err. */
int spec_refuse(struct spec_call *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* copy_from_user / copy_to_user: 0 or -EFAULT, never a crash on a bad address. */
int spec_user_read(void *dst, uint64_t src, size_t len);
int spec_user_write(uint64_t dst, const void *src, size_t len);
/* Copy the data struct (c->in, layout size) back to the command's data pointer. */
int spec_copy_out(struct spec_call *c, const struct spec_layout *l);

/* A kvm_cpuid_entry2 (40 bytes) from {function, index, flags, eax, ebx, ecx, edx}. */
void spec_put_cpuid_entry(uint8_t *e, const uint32_t v[7]);

/* The guest_memfd slot holding [gpa, gpa + len) entirely, or NULL. */
struct spec_slot *spec_gmem_slot(struct spec_vm *vm, uint64_t gpa, uint64_t len);
bool spec_is_private(const struct spec_vm *vm, uint64_t gpa, uint64_t len);
bool spec_populated(const struct spec_slot *s, uint64_t gpa);
/* The series' state of the guest_memfd page behind gpa in slot (SPEC_GP_*). */
int spec_gmem_page_state(const struct spec_vm *vm, const struct spec_slot *s, uint64_t gpa);
/* Read the guest_memfd page behind gpa in slot into page (4 KiB); -EFAULT if it cannot. */
int spec_gmem_read(const struct spec_vm *vm, const struct spec_slot *s, uint64_t gpa,
		   uint8_t *page);
int spec_mark_populated(struct spec_slot *s, uint64_t gpa);

/* ---- One table per VM type -------------------------------------------------------------- */

/* Descriptor kinds a call may be issued on. */
#define ON_SYS (1u << SPEC_FD_SYS)
#define ON_VM (1u << SPEC_FD_VM)
#define ON_VCPU (1u << SPEC_FD_VCPU)
#define ON_SEV (1u << SPEC_FD_SEV)
#define ON_GMEM (1u << SPEC_FD_GMEM)

#define SUB_PARTIAL 1u /* the handler itself honours a scripted partial answer */

/* A sub-command of KVM_MEMORY_ENCRYPT_OP. */
struct spec_subcmd {
	uint32_t id;
	const char *name;
	const struct spec_layout *data; /* what cmd.data points to, NULL: an immediate */
	unsigned on;                    /* ON_VM / ON_VCPU */
	unsigned flags;                 /* SUB_* */
	int (*handle)(struct spec_call *c);
	const char *cite;
};

struct spec_tee {
	const char *name;
	unsigned long vm_type;
	uint64_t attributes;       /* KVM_CAP_MEMORY_ATTRIBUTES on the VM fd [U 1] */
	uint64_t gmem_flags;       /* KVM_CAP_GUEST_MEMFD_FLAGS on the VM fd [U 1] */
	const struct spec_layout *cmd; /* the KVM_MEMORY_ENCRYPT_OP command, NULL: ENOTTY */
	unsigned cmd_id, cmd_data, cmd_error; /* indexes of the command's id, data, status */
	const struct spec_subcmd *subs;
	size_t nsubs;
	/* Rules the generic ioctls ask the VM type (NULL: none).  Each returns 0 or spec_refuse. */
	int (*memory_setup)(struct spec_call *c, const char *what);
	int (*vcpu_create)(struct spec_call *c);
	int (*vcpu_state)(struct spec_call *c, const char *what);
	int (*prefault)(struct spec_call *c);
	uint64_t (*shared_bit)(const struct spec_vm *vm);
	/* An unknown sub-command id: EINVAL unless this says otherwise. */
	int (*unknown_sub)(struct spec_call *c, uint32_t id);
	void (*vm_free)(struct spec_vm *vm);
};

extern const struct spec_tee spec_tee_default, spec_tee_snp, spec_tee_tdx;

/* SNP's VMSA of one vCPU (helper_spec_kvm_snp.c). */
int spec_snp_vmsa(const struct spec_vm *vm, const struct spec_vcpu *v, uint8_t page[4096],
		  char *why, size_t whylen);

/* The VM that last reached this type's end state (for the digest getters). */
const struct spec_vm *spec_last_vm(const struct spec_kvm *k, unsigned long type);

#endif
