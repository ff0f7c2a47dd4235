/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The KVM uAPI cvmkit needs beyond Debian's 6.1 <linux/kvm.h> (private, not installed).
 *
 * Written from ../shared/spec/kvm-uapi.md (numbers, layouts, semantics); every struct size and
 * every field offset is pinned with _Static_assert (each message names the spec section), and
 * every ioctl number is checked against the spec's table.  Names carry a CVM_ / cvm_ prefix so
 * they never collide with a newer system header.  The old basics (KVM_RUN, struct kvm_run,
 * kvm_regs, kvm_sregs, kvm_cpuid_entry2) come from <linux/kvm.h>.
 */
#ifndef CVMKIT_KVM_UAPI_H
#define CVMKIT_KVM_UAPI_H

#include <stddef.h>
#include <stdint.h>

#include <linux/ioctl.h>
#include <linux/kvm.h>

/* Pins field f of struct s at byte off; sec names the spec section that gives the layout. */
#define CVM_UAPI_AT(s, f, off, sec) \
	_Static_assert(offsetof(struct s, f) == (off), #s "." #f " at " #off " (" sec ")")

/* ---- Capabilities (KVM_CHECK_EXTENSION), spec section 1 ------------------------------------ */
#define CVM_KVM_CAP_USER_MEMORY2 231
#define CVM_KVM_CAP_MEMORY_FAULT_INFO 232
#define CVM_KVM_CAP_MEMORY_ATTRIBUTES 233
#define CVM_KVM_CAP_GUEST_MEMFD 234
#define CVM_KVM_CAP_VM_TYPES 235
#define CVM_KVM_CAP_PRE_FAULT_MEMORY 236
#define CVM_KVM_CAP_X86_APIC_BUS_CYCLES_NS 237
#define CVM_KVM_CAP_GUEST_MEMFD_FLAGS 244

/* ---- VM types (KVM_CREATE_VM argument), spec section 7 ------------------------------------- */
#define CVM_KVM_X86_DEFAULT_VM 0
#define CVM_KVM_X86_SW_PROTECTED_VM 1
#define CVM_KVM_X86_SEV_VM 2
#define CVM_KVM_X86_SEV_ES_VM 3
#define CVM_KVM_X86_SNP_VM 4
#define CVM_KVM_X86_TDX_VM 5

/* ---- Memslots, spec section 2 -------------------------------------------------------------- */
struct cvm_kvm_userspace_memory_region2 {
	uint32_t slot; /* bits 16-31: address space id */
	uint32_t flags;
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t guest_memfd_offset;
	uint32_t guest_memfd;
	uint32_t pad1;
	uint64_t pad2[14];
};
_Static_assert(sizeof(struct cvm_kvm_userspace_memory_region2) == 160, "region2 is 160 bytes");
CVM_UAPI_AT(cvm_kvm_userspace_memory_region2, slot, 0, "kvm-uapi.md 2");
CVM_UAPI_AT(cvm_kvm_userspace_memory_region2, flags, 4, "kvm-uapi.md 2");
CVM_UAPI_AT(cvm_kvm_userspace_memory_region2, guest_phys_addr, 8, "kvm-uapi.md 2");
CVM_UAPI_AT(cvm_kvm_userspace_memory_region2, memory_size, 16, "kvm-uapi.md 2");
CVM_UAPI_AT(cvm_kvm_userspace_memory_region2, userspace_addr, 24, "kvm-uapi.md 2");
CVM_UAPI_AT(cvm_kvm_userspace_memory_region2, guest_memfd_offset, 32, "kvm-uapi.md 2");
CVM_UAPI_AT(cvm_kvm_userspace_memory_region2, guest_memfd, 40, "kvm-uapi.md 2");
CVM_UAPI_AT(cvm_kvm_userspace_memory_region2, pad1, 44, "kvm-uapi.md 2");
CVM_UAPI_AT(cvm_kvm_userspace_memory_region2, pad2, 48, "kvm-uapi.md 2");

#define CVM_KVM_MEM_LOG_DIRTY_PAGES (1u << 0)
#define CVM_KVM_MEM_READONLY (1u << 1)
#define CVM_KVM_MEM_GUEST_MEMFD (1u << 2)
#define CVM_KVM_SET_USER_MEMORY_REGION2 _IOW(KVMIO, 0x49, struct cvm_kvm_userspace_memory_region2)

/* ---- guest_memfd, spec section 3 ----------------------------------------------------------- */
struct cvm_kvm_create_guest_memfd {
	uint64_t size;
	uint64_t flags;
	uint64_t reserved[6];
};
_Static_assert(sizeof(struct cvm_kvm_create_guest_memfd) == 64, "create_guest_memfd is 64 bytes");
CVM_UAPI_AT(cvm_kvm_create_guest_memfd, size, 0, "kvm-uapi.md 3");
CVM_UAPI_AT(cvm_kvm_create_guest_memfd, flags, 8, "kvm-uapi.md 3");
CVM_UAPI_AT(cvm_kvm_create_guest_memfd, reserved, 16, "kvm-uapi.md 3");

#define CVM_GUEST_MEMFD_FLAG_MMAP (1ull << 0)
#define CVM_GUEST_MEMFD_FLAG_INIT_SHARED (1ull << 1)
#define CVM_KVM_CREATE_GUEST_MEMFD _IOWR(KVMIO, 0xd4, struct cvm_kvm_create_guest_memfd)

/* ---- Memory attributes, spec section 4 ----------------------------------------------------- */
struct cvm_kvm_memory_attributes {
	uint64_t address;
	uint64_t size;
	uint64_t attributes;
	uint64_t flags;
};
_Static_assert(sizeof(struct cvm_kvm_memory_attributes) == 32, "memory_attributes is 32 bytes");
CVM_UAPI_AT(cvm_kvm_memory_attributes, address, 0, "kvm-uapi.md 4");
CVM_UAPI_AT(cvm_kvm_memory_attributes, size, 8, "kvm-uapi.md 4");
CVM_UAPI_AT(cvm_kvm_memory_attributes, attributes, 16, "kvm-uapi.md 4");
CVM_UAPI_AT(cvm_kvm_memory_attributes, flags, 24, "kvm-uapi.md 4");

#define CVM_KVM_MEMORY_ATTRIBUTE_PRIVATE (1ull << 3)
#define CVM_KVM_SET_MEMORY_ATTRIBUTES _IOW(KVMIO, 0xd2, struct cvm_kvm_memory_attributes)

/*
 * ---- guest_memfd memory attributes: NOT UPSTREAM ----------------------------------------------
 * Follows the posted series "guest_memfd: in-place conversion" (Ackerley Tng, Vishal Annapurve,
 * Sean Christopherson et al., 2025-2026; spec section 1 "Not upstream"): KVM_SET_MEMORY_ATTRIBUTES2
 * issued on a guest_memfd, offsets into the file, error_offset out, and the content modes of the
 * later postings.  Its numbers have changed between postings and its capability number was
 * taken by other caps, so support is detected only by trying the call on a guest_memfd (ENOTTY:
 * not there); these are the only definitions of it, in this one place.
 */
struct cvm_kvm_memory_attributes2 {
	uint64_t offset; /* in: into the guest_memfd (the VM ioctl's "address") */
	uint64_t size;
	uint64_t attributes;
	uint64_t flags;        /* a content mode: ZERO or PRESERVE */
	uint64_t error_offset; /* out: EAGAIN, the page that still has other references */
	uint64_t reserved[11];
};
_Static_assert(sizeof(struct cvm_kvm_memory_attributes2) == 128, "memory_attributes2 is 128 bytes");
CVM_UAPI_AT(cvm_kvm_memory_attributes2, offset, 0, "posted gmem attributes series");
CVM_UAPI_AT(cvm_kvm_memory_attributes2, size, 8, "posted gmem attributes series");
CVM_UAPI_AT(cvm_kvm_memory_attributes2, attributes, 16, "posted gmem attributes series");
CVM_UAPI_AT(cvm_kvm_memory_attributes2, flags, 24, "posted gmem attributes series");
CVM_UAPI_AT(cvm_kvm_memory_attributes2, error_offset, 32, "posted gmem attributes series");
CVM_UAPI_AT(cvm_kvm_memory_attributes2, reserved, 40, "posted gmem attributes series");
#define CVM_KVM_SET_MEMORY_ATTRIBUTES2 _IOWR(KVMIO, 0xd2, struct cvm_kvm_memory_attributes2)
#define CVM_KVM_SET_MEMORY_ATTRIBUTES2_ZERO (1ull << 0)
#define CVM_KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE (1ull << 1) /* keep the contents when converting */

/* ---- Pre-fault (vCPU ioctl), spec section 5 ------------------------------------------------ */
struct cvm_kvm_pre_fault_memory {
	uint64_t gpa;  /* in/out */
	uint64_t size; /* in/out: what is left */
	uint64_t flags;
	uint64_t padding[5];
};
_Static_assert(sizeof(struct cvm_kvm_pre_fault_memory) == 64, "pre_fault_memory is 64 bytes");
CVM_UAPI_AT(cvm_kvm_pre_fault_memory, gpa, 0, "kvm-uapi.md 5");
CVM_UAPI_AT(cvm_kvm_pre_fault_memory, size, 8, "kvm-uapi.md 5");
CVM_UAPI_AT(cvm_kvm_pre_fault_memory, flags, 16, "kvm-uapi.md 5");
CVM_UAPI_AT(cvm_kvm_pre_fault_memory, padding, 24, "kvm-uapi.md 5");

#define CVM_KVM_PRE_FAULT_MEMORY _IOWR(KVMIO, 0xd5, struct cvm_kvm_pre_fault_memory)

/* ---- KVM_EXIT_MEMORY_FAULT, spec section 6 ------------------------------------------------- */
#define CVM_KVM_EXIT_MEMORY_FAULT 39
#define CVM_KVM_MEMORY_EXIT_FLAG_PRIVATE (1ull << 3)

/* The member of kvm_run's exit union for KVM_EXIT_MEMORY_FAULT (absent from the 6.1 header). */
struct cvm_kvm_memory_fault {
	uint64_t flags;
	uint64_t gpa;
	uint64_t size;
};
_Static_assert(sizeof(struct cvm_kvm_memory_fault) == 24, "memory_fault is 24 bytes");
CVM_UAPI_AT(cvm_kvm_memory_fault, flags, 0, "kvm-uapi.md 6");
CVM_UAPI_AT(cvm_kvm_memory_fault, gpa, 8, "kvm-uapi.md 6");
CVM_UAPI_AT(cvm_kvm_memory_fault, size, 16, "kvm-uapi.md 6");
/* The exit union starts at byte 32 of struct kvm_run (its first member is hw). */
_Static_assert(offsetof(struct kvm_run, hw) == 32, "kvm_run exit union at offset 32");

/* ---- KVM_EXIT_TDX (spec section 6 names it; layout of include/uapi/linux/kvm.h, 6.16+) ---- */
#define CVM_KVM_EXIT_TDX 40

/* The member of kvm_run's exit union for KVM_EXIT_TDX: nr is the TDVMCALL leaf (guest R11);
   ret is what the guest gets in R10, preset by KVM to SUBFUNC_UNSUPPORTED; a0.. are the
   leaf's operands: GetQuote {gpa, size}, SetupEventNotifyInterrupt {vector},
   GetTdVmCallInfo {leaf, r11, r12, r13, r14}. */
struct cvm_kvm_tdx_exit {
	uint64_t flags;
	uint64_t nr;
	uint64_t ret;
	uint64_t a[5];
};
_Static_assert(sizeof(struct cvm_kvm_tdx_exit) == 64, "kvm_run.tdx is 64 bytes");
CVM_UAPI_AT(cvm_kvm_tdx_exit, flags, 0, "kvm.h kvm_run.tdx");
CVM_UAPI_AT(cvm_kvm_tdx_exit, nr, 8, "kvm.h kvm_run.tdx");
CVM_UAPI_AT(cvm_kvm_tdx_exit, ret, 16, "kvm.h kvm_run.tdx");
CVM_UAPI_AT(cvm_kvm_tdx_exit, a, 24, "kvm.h kvm_run.tdx (gpa, vector, leaf)");

/* TDVMCALL leaves and R10 status codes (Intel GHCI, as the kernel's tdx.h names them). */
#define CVM_TDVMCALL_GET_TD_VM_CALL_INFO 0x10000ull
#define CVM_TDVMCALL_GET_QUOTE 0x10002ull
#define CVM_TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT 0x10004ull
#define CVM_TDVMCALL_STATUS_SUCCESS 0ull
#define CVM_TDVMCALL_STATUS_INVALID_OPERAND 0x8000000000000000ull
#define CVM_TDVMCALL_STATUS_ALIGN_ERROR 0x8000000000000002ull
#define CVM_TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED 0x8000000000000003ull
/* GetTdVmCallInfo leaf 1, R11: the TDVMCALLs userspace serves (bit 1: SetupEventNotify). */
#define CVM_TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT (1ull << 1)

/* ---- KVM_EXIT_SNP_REQ_CERTS (spec section 6 names it 43; layout of api.rst, Linux 7.0) ------ */
#define CVM_KVM_EXIT_SNP_REQ_CERTS 43

/*
 * The member of kvm_run's exit union: the guest's certificate buffer (GHCB RAX, 4 KiB aligned)
 * and its size in pages (RBX), forwarded unchecked; ret (0 on exit) is the answer the next
 * KVM_RUN consumes: 0 (the table is in place, KVM issues the attestation request), ENOSPC (with
 * npages set to the pages needed), EAGAIN (busy: the guest retries) or EIO (anything else);
 * other values fail KVM_RUN with EINVAL.
 */
struct cvm_kvm_snp_req_certs {
	uint64_t gpa;
	uint64_t npages;
	uint64_t ret;
};
_Static_assert(sizeof(struct cvm_kvm_snp_req_certs) == 24, "kvm_run.snp_req_certs is 24 bytes");
CVM_UAPI_AT(cvm_kvm_snp_req_certs, gpa, 0, "api.rst KVM_EXIT_SNP_REQ_CERTS");
CVM_UAPI_AT(cvm_kvm_snp_req_certs, npages, 8, "api.rst KVM_EXIT_SNP_REQ_CERTS");
CVM_UAPI_AT(cvm_kvm_snp_req_certs, ret, 16, "api.rst KVM_EXIT_SNP_REQ_CERTS");
/* kvm_run.immediate_exit: set, KVM completes the pending exit and returns EINTR at once. */
_Static_assert(offsetof(struct kvm_run, immediate_exit) == 1, "kvm_run.immediate_exit at 1");

/* ---- KVM_MEMORY_ENCRYPT_OP (SEV/SNP and TDX), spec section 8 ------------------------------- */
/* The size field of this number is sizeof(unsigned long), not the size of a command struct. */
#define CVM_KVM_MEMORY_ENCRYPT_OP _IOWR(KVMIO, 0xba, unsigned long)

struct cvm_kvm_sev_cmd {
	uint32_t id;
	uint32_t pad0;
	uint64_t data;
	uint32_t error; /* out: PSP firmware error */
	uint32_t sev_fd;
};
_Static_assert(sizeof(struct cvm_kvm_sev_cmd) == 24, "kvm_sev_cmd is 24 bytes");
CVM_UAPI_AT(cvm_kvm_sev_cmd, id, 0, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_cmd, pad0, 4, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_cmd, data, 8, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_cmd, error, 16, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_cmd, sev_fd, 20, "kvm-uapi.md 8a");

#define CVM_KVM_SEV_INIT2 22
#define CVM_KVM_SEV_SNP_LAUNCH_START 100
#define CVM_KVM_SEV_SNP_LAUNCH_UPDATE 101
#define CVM_KVM_SEV_SNP_LAUNCH_FINISH 102
/* amd-memory-encryption.rst 21 (Linux 7.0): no data; on an SNP VM after INIT2, before any vCPU
   (else EINVAL).  From then on KVM_EXIT_SNP_REQ_CERTS comes with every attestation request. */
#define CVM_KVM_SEV_SNP_ENABLE_REQ_CERTS 103

struct cvm_kvm_sev_init {
	uint64_t vmsa_features;
	uint32_t flags;
	uint16_t ghcb_version;
	uint16_t pad1;
	uint32_t pad2[8];
};
_Static_assert(sizeof(struct cvm_kvm_sev_init) == 48, "kvm_sev_init is 48 bytes");
CVM_UAPI_AT(cvm_kvm_sev_init, vmsa_features, 0, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_init, flags, 8, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_init, ghcb_version, 12, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_init, pad1, 14, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_init, pad2, 16, "kvm-uapi.md 8a");

struct cvm_kvm_sev_snp_launch_start {
	uint64_t policy;
	uint8_t gosvw[16];
	uint16_t flags;
	uint8_t pad0[6];
	uint64_t pad1[4];
};
_Static_assert(sizeof(struct cvm_kvm_sev_snp_launch_start) == 64, "snp_launch_start is 64 bytes");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_start, policy, 0, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_start, gosvw, 8, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_start, flags, 24, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_start, pad0, 26, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_start, pad1, 32, "kvm-uapi.md 8a");

#define CVM_KVM_SEV_PAGE_TYPE_INVALID 0x0 /* v6.18+ */
#define CVM_KVM_SEV_SNP_PAGE_TYPE_NORMAL 0x1
#define CVM_KVM_SEV_SNP_PAGE_TYPE_ZERO 0x3
#define CVM_KVM_SEV_SNP_PAGE_TYPE_UNMEASURED 0x4
#define CVM_KVM_SEV_SNP_PAGE_TYPE_SECRETS 0x5
#define CVM_KVM_SEV_SNP_PAGE_TYPE_CPUID 0x6

struct cvm_kvm_sev_snp_launch_update {
	uint64_t gfn_start; /* in/out */
	uint64_t uaddr;     /* in/out: 4 KiB aligned shared source */
	uint64_t len;       /* in/out */
	uint8_t type;
	uint8_t pad0;
	uint16_t flags;
	uint32_t pad1;
	uint64_t pad2[4];
};
_Static_assert(sizeof(struct cvm_kvm_sev_snp_launch_update) == 64, "snp_launch_update is 64 bytes");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_update, gfn_start, 0, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_update, uaddr, 8, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_update, len, 16, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_update, type, 24, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_update, pad0, 25, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_update, flags, 26, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_update, pad1, 28, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_update, pad2, 32, "kvm-uapi.md 8a");

#define CVM_KVM_SEV_SNP_ID_BLOCK_SIZE 96
#define CVM_KVM_SEV_SNP_ID_AUTH_SIZE 4096
#define CVM_KVM_SEV_SNP_FINISH_DATA_SIZE 32

struct cvm_kvm_sev_snp_launch_finish {
	uint64_t id_block_uaddr;
	uint64_t id_auth_uaddr;
	uint8_t id_block_en;
	uint8_t auth_key_en;
	uint8_t vcek_disabled;
	uint8_t host_data[CVM_KVM_SEV_SNP_FINISH_DATA_SIZE];
	uint8_t pad0[3];
	uint16_t flags;
	uint64_t pad1[4];
};
_Static_assert(sizeof(struct cvm_kvm_sev_snp_launch_finish) == 88, "snp_launch_finish is 88 bytes");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_finish, id_block_uaddr, 0, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_finish, id_auth_uaddr, 8, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_finish, id_block_en, 16, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_finish, auth_key_en, 17, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_finish, vcek_disabled, 18, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_finish, host_data, 19, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_finish, pad0, 51, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_finish, flags, 54, "kvm-uapi.md 8a");
CVM_UAPI_AT(cvm_kvm_sev_snp_launch_finish, pad1, 56, "kvm-uapi.md 8a");

/*
 * The VMSA features KVM_SEV_INIT2 accepts: KVM_GET_DEVICE_ATTR on /dev/kvm of group
 * KVM_X86_GRP_SEV, attribute KVM_X86_SEV_VMSA_FEATURES, a u64 at addr (spec 8a; ENXIO without
 * SEV, spec 9).  struct kvm_device_attr is the 6.1 header's.
 */
#define CVM_KVM_X86_GRP_SEV 1
#define CVM_KVM_X86_SEV_VMSA_FEATURES 0
/* 1 when KVM has KVM_SEV_SNP_ENABLE_REQ_CERTS (amd-memory-encryption.rst, Linux 7.0; attribute 1
   is KVM_X86_SNP_POLICY_BITS); ENXIO from an older KVM. */
#define CVM_KVM_X86_SEV_SNP_REQ_CERTS 2
_Static_assert(sizeof(struct kvm_device_attr) == 24, "kvm_device_attr is 24 bytes");
CVM_UAPI_AT(kvm_device_attr, flags, 0, "x86 uAPI");
CVM_UAPI_AT(kvm_device_attr, group, 4, "x86 uAPI");
CVM_UAPI_AT(kvm_device_attr, attr, 8, "x86 uAPI");
CVM_UAPI_AT(kvm_device_attr, addr, 16, "x86 uAPI");

/* The SEV_FEATURES bit whose guests need the launch's TSC frequency (snp-measurement.md 3.2). */
#define CVM_SVM_SEV_FEAT_SECURE_TSC (1ull << 9)

/* TDX sub-commands */
#define CVM_KVM_TDX_CAPABILITIES 0
#define CVM_KVM_TDX_INIT_VM 1
#define CVM_KVM_TDX_INIT_VCPU 2
#define CVM_KVM_TDX_INIT_MEM_REGION 3
#define CVM_KVM_TDX_FINALIZE_VM 4
#define CVM_KVM_TDX_GET_CPUID 5
#define CVM_KVM_TDX_TERMINATE_VM 6 /* not in every 6.18 header: probe at runtime */

struct cvm_kvm_tdx_cmd {
	uint32_t id;
	uint32_t flags;
	uint64_t data;
	uint64_t hw_error; /* out: SEAMCALL status; must be 0 on input */
};
_Static_assert(sizeof(struct cvm_kvm_tdx_cmd) == 24, "kvm_tdx_cmd is 24 bytes");
CVM_UAPI_AT(cvm_kvm_tdx_cmd, id, 0, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_cmd, flags, 4, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_cmd, data, 8, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_cmd, hw_error, 16, "kvm-uapi.md 8b");

/*
 * The fixed parts of the TDX structs; a struct kvm_cpuid2 header (nent, padding) and its entries
 * (struct kvm_cpuid_entry2, 40 bytes each) follow.  Spelled out rather than nesting the flexible
 * struct kvm_cpuid2, which ISO C does not allow inside another struct.
 */
struct cvm_kvm_tdx_capabilities {
	uint64_t supported_attrs;
	uint64_t supported_xfam;
	uint64_t kernel_tdvmcallinfo_1_r11;
	uint64_t user_tdvmcallinfo_1_r11;
	uint64_t kernel_tdvmcallinfo_1_r12;
	uint64_t user_tdvmcallinfo_1_r12;
	uint64_t reserved[250];
	uint32_t cpuid_nent;
	uint32_t cpuid_padding;
	/* struct kvm_cpuid_entry2 entries[cpuid_nent] */
};
_Static_assert(sizeof(struct cvm_kvm_tdx_capabilities) == 2048 + 8, "tdx caps: 2048 B + cpuid2");
CVM_UAPI_AT(cvm_kvm_tdx_capabilities, supported_attrs, 0, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_capabilities, supported_xfam, 8, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_capabilities, kernel_tdvmcallinfo_1_r11, 16, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_capabilities, user_tdvmcallinfo_1_r11, 24, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_capabilities, kernel_tdvmcallinfo_1_r12, 32, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_capabilities, user_tdvmcallinfo_1_r12, 40, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_capabilities, reserved, 48, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_capabilities, cpuid_nent, 2048, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_capabilities, cpuid_padding, 2052, "kvm-uapi.md 8b");

struct cvm_kvm_tdx_init_vm {
	uint64_t attributes;
	uint64_t xfam;
	uint64_t mrconfigid[6];
	uint64_t mrowner[6];
	uint64_t mrownerconfig[6];
	uint64_t reserved[12];
	uint32_t cpuid_nent;
	uint32_t cpuid_padding;
	/* struct kvm_cpuid_entry2 entries[cpuid_nent] */
};
_Static_assert(sizeof(struct cvm_kvm_tdx_init_vm) == 256 + 8, "tdx init_vm: 256 B + cpuid2");
CVM_UAPI_AT(cvm_kvm_tdx_init_vm, attributes, 0, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_init_vm, xfam, 8, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_init_vm, mrconfigid, 16, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_init_vm, mrowner, 64, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_init_vm, mrownerconfig, 112, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_init_vm, reserved, 160, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_init_vm, cpuid_nent, 256, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_init_vm, cpuid_padding, 260, "kvm-uapi.md 8b");

#define CVM_KVM_TDX_MEASURE_MEMORY_REGION (1u << 0)

struct cvm_kvm_tdx_init_mem_region {
	uint64_t source_addr; /* in/out */
	uint64_t gpa;         /* in/out */
	uint64_t nr_pages;    /* in/out */
};
_Static_assert(sizeof(struct cvm_kvm_tdx_init_mem_region) == 24, "init_mem_region is 24 bytes");
CVM_UAPI_AT(cvm_kvm_tdx_init_mem_region, source_addr, 0, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_init_mem_region, gpa, 8, "kvm-uapi.md 8b");
CVM_UAPI_AT(cvm_kvm_tdx_init_mem_region, nr_pages, 16, "kvm-uapi.md 8b");

_Static_assert(sizeof(struct kvm_cpuid_entry2) == 40, "kvm_cpuid_entry2 is 40 bytes");
_Static_assert(sizeof(struct kvm_cpuid2) == 8, "kvm_cpuid2 header is 8 bytes");
/* The CPUID layouts of spec/tdx-measurement.md section 5, as the TDX structs above embed them. */
CVM_UAPI_AT(kvm_cpuid2, nent, 0, "tdx-measurement.md 5");
CVM_UAPI_AT(kvm_cpuid2, padding, 4, "tdx-measurement.md 5");
CVM_UAPI_AT(kvm_cpuid2, entries, 8, "tdx-measurement.md 5");
CVM_UAPI_AT(kvm_cpuid_entry2, function, 0, "tdx-measurement.md 5");
CVM_UAPI_AT(kvm_cpuid_entry2, index, 4, "tdx-measurement.md 5");
CVM_UAPI_AT(kvm_cpuid_entry2, flags, 8, "tdx-measurement.md 5");
CVM_UAPI_AT(kvm_cpuid_entry2, eax, 12, "tdx-measurement.md 5");
CVM_UAPI_AT(kvm_cpuid_entry2, ebx, 16, "tdx-measurement.md 5");
CVM_UAPI_AT(kvm_cpuid_entry2, ecx, 20, "tdx-measurement.md 5");
CVM_UAPI_AT(kvm_cpuid_entry2, edx, 24, "tdx-measurement.md 5");
CVM_UAPI_AT(kvm_cpuid_entry2, padding, 28, "tdx-measurement.md 5");

/*
 * ---- /dev/sev (include/uapi/linux/psp-sev.h): what names this host's VCEK -------------------
 * SEV_ISSUE_CMD {cmd, data, error}: SNP_PLATFORM_STATUS fills a 32-byte packed status at data
 * (reported_tcb_version at 24, the flags word at 8: bit 0 mask_chip_id, bit 2 vlek_en);
 * SEV_GET_ID2 takes a packed {address u64, length u32} and writes the chip ID (64 bytes) there.
 */
struct cvm_sev_issue_cmd {
	uint32_t cmd;
	uint32_t pad0;
	uint64_t data;
	uint32_t error; /* out: PSP firmware status */
	uint32_t pad1;
};
_Static_assert(sizeof(struct cvm_sev_issue_cmd) == 24, "sev_issue_cmd is 24 bytes");
CVM_UAPI_AT(cvm_sev_issue_cmd, cmd, 0, "psp-sev.h");
CVM_UAPI_AT(cvm_sev_issue_cmd, data, 8, "psp-sev.h");
CVM_UAPI_AT(cvm_sev_issue_cmd, error, 16, "psp-sev.h");
#define CVM_SEV_ISSUE_CMD _IOWR('S', 0x0, struct cvm_sev_issue_cmd)
#define CVM_SEV_GET_ID2 8
#define CVM_SNP_PLATFORM_STATUS 9
#define CVM_SNP_STATUS_SIZE 32u
#define CVM_SNP_STATUS_FLAGS 8u
#define CVM_SNP_STATUS_REPORTED_TCB 24u
#define CVM_SNP_STATUS_VLEK_EN (1u << 2)
#define CVM_SEV_GET_ID2_SIZE 12u /* packed: address u64 at 0, length u32 at 8 */
#define CVM_SEV_CHIP_ID_SIZE 64u

/* ---- ioctl numbers, checked against the spec's table --------------------------------------- */
_Static_assert(CVM_KVM_SET_USER_MEMORY_REGION2 == 0x40a0ae49, "KVM_SET_USER_MEMORY_REGION2");
_Static_assert(CVM_KVM_CREATE_GUEST_MEMFD == 0xc040aed4, "KVM_CREATE_GUEST_MEMFD");
_Static_assert(CVM_KVM_SET_MEMORY_ATTRIBUTES == 0x4020aed2, "KVM_SET_MEMORY_ATTRIBUTES");
_Static_assert(CVM_KVM_PRE_FAULT_MEMORY == 0xc040aed5, "KVM_PRE_FAULT_MEMORY");
_Static_assert(CVM_KVM_MEMORY_ENCRYPT_OP == 0xc008aeba, "KVM_MEMORY_ENCRYPT_OP");
_Static_assert(KVM_MEMORY_ENCRYPT_OP == CVM_KVM_MEMORY_ENCRYPT_OP, "6.1 header agrees");
_Static_assert(KVM_GET_API_VERSION == 0xae00, "KVM_GET_API_VERSION");
_Static_assert(KVM_CREATE_VM == 0xae01, "KVM_CREATE_VM");
_Static_assert(KVM_CHECK_EXTENSION == 0xae03, "KVM_CHECK_EXTENSION");
_Static_assert(KVM_GET_VCPU_MMAP_SIZE == 0xae04, "KVM_GET_VCPU_MMAP_SIZE");
_Static_assert(KVM_CREATE_VCPU == 0xae41, "KVM_CREATE_VCPU");
_Static_assert(KVM_RUN == 0xae80, "KVM_RUN");
_Static_assert(KVM_GET_DEVICE_ATTR == 0x4018aee2, "KVM_GET_DEVICE_ATTR");
_Static_assert(KVM_SET_TSC_KHZ == 0xaea2, "KVM_SET_TSC_KHZ");
_Static_assert(CVM_SEV_ISSUE_CMD == 0xc0185300, "SEV_ISSUE_CMD");
_Static_assert(CVM_KVM_SET_MEMORY_ATTRIBUTES2 == 0xc080aed2, "KVM_SET_MEMORY_ATTRIBUTES2 (posted)");

#endif
