/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake KVM behind the ioctl seam that shares no definitions with cvmkit (test helper, linked
 * into every tests/unit program).
 *
 * It never includes include/cvmkit/kvm_uapi.h or <linux/kvm.h>: its ioctl numbers, struct sizes
 * and field offsets are its own table, written from ../shared/spec/kvm-uapi.md (each entry cites
 * its section), and every argument is decoded from the raw bytes at those offsets (little-endian,
 * copied in and out of the caller's memory as the kernel does, so a bad pointer is EFAULT, not a
 * crash).  It enforces the kernel's rules as the spec states them and the documented launch flow
 * (see the rule list in spec_kvm_priv.h), answers like upstream KVM, and computes what the
 * hardware would measure from what it was given, independently of cvmkit's models (OpenSSL only):
 *   - SNP: the PAGE_INFO chain of snp-measurement.md section 1 over the bytes it copied from each
 *     SNP_LAUNCH_UPDATE source, per page type, then one VMSA per vCPU at SNP_LAUNCH_FINISH, built
 *     as KVM builds it from the vCPU's KVM_SET_SREGS/REGS/FPU/XCRS/MSRS state plus the fields KVM
 *     sets itself (helper_spec_kvm_snp.c says exactly which, and refuses to produce a digest when
 *     a vCPU's state holds something it cannot place);
 *   - TDX: MRTD of tdx-measurement.md section 3 from the KVM_TDX_INIT_MEM_REGION calls
 *     (TDH.MEM.PAGE.ADD per page, TDH.MR.EXTEND per 256 bytes with the measure flag).
 *
 * Not thread-safe to configure; the seam itself may be called from several threads (pre-fault).
 * Ownership: spec_kvm_new() returns a fake owned by the caller (spec_kvm_free(), NULL is fine);
 * events and VM state stay readable after the launcher has closed every descriptor.
 */
#ifndef CVMKIT_TESTS_HELPER_SPEC_KVM_H
#define CVMKIT_TESTS_HELPER_SPEC_KVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/kvm.h>

struct spec_kvm;

enum spec_fd_kind { SPEC_FD_NONE, SPEC_FD_SYS, SPEC_FD_VM, SPEC_FD_VCPU, SPEC_FD_GMEM, SPEC_FD_SEV };

/* VM types of kvm-uapi.md section 7, for spec_kvm_set_vm_types(). */
#define SPEC_VM_DEFAULT 0
#define SPEC_VM_SNP 4
#define SPEC_VM_TDX 5

struct spec_kvm *spec_kvm_new(void);
void spec_kvm_free(struct spec_kvm *k);

/* The seam to hand to cvmkit; valid while k lives. */
const struct cvm_kvm_seam *spec_kvm_seam(struct spec_kvm *k);

/*
 * A seam over another (inner) whose ioctls go to ioctl(self, ...) and all else to inner, for
 * tests that play KVM_RUN or watch calls: put it first in the test's own struct, call
 * spec_seam_wrap_init, hand &w->seam to cvmkit; spec_seam_wrap_pass passes an ioctl on.
 */
struct spec_seam_wrap {
	struct cvm_kvm_seam seam;
	struct cvm_kvm_ops ops;
	const struct cvm_kvm_seam *inner;
	int (*ioctl)(struct spec_seam_wrap *self, int fd, unsigned long req, unsigned long arg);
};
void spec_seam_wrap_init(struct spec_seam_wrap *w, const struct cvm_kvm_seam *inner,
			 int (*ioctl)(struct spec_seam_wrap *self, int fd, unsigned long req,
				      unsigned long arg));
int spec_seam_wrap_pass(struct spec_seam_wrap *w, int fd, unsigned long req, unsigned long arg);

/* ---- Host configuration (before the launch) --------------------------------------------- */

/* KVM_CAP_VM_TYPES: bit n = type n (default: default, SNP and TDX). */
void spec_kvm_set_vm_types(struct spec_kvm *k, uint64_t mask);
/*
 * Pre-fault when KVM allows it: errno_ 0 = works (each call does at most step bytes, 0 = all),
 * EOPNOTSUPP = shadow paging (KVM_CAP_PRE_FAULT_MEMORY then reads 0).
 */
void spec_kvm_set_prefault(struct spec_kvm *k, int errno_, uint64_t step);
/*
 * At most pages pages per SNP_LAUNCH_UPDATE / KVM_TDX_INIT_MEM_REGION call (0: no limit): SNP
 * then returns 0 with the struct advanced, TDX -EINTR with the struct advanced (the kernel's
 * answers to a pending signal), so the launcher's loops run.
 */
void spec_kvm_set_chunk(struct spec_kvm *k, uint64_t pages);

/*
 * Script the nth (0-based) call of the named step (spec_kvm's names: "SNP_LAUNCH_UPDATE",
 * "KVM_TDX_INIT_MEM_REGION", "KVM_TDX_INIT_VM", ...).  pages 0: the call returns -errno_
 * without acting (fw_error in kvm_sev_cmd.error / kvm_tdx_cmd.hw_error).  pages > 0, for the
 * two populate calls: it does at most that many pages and then answers as the kernel does after
 * partial progress, the struct advanced: TDX with -errno_ (-EINTR when errno_ is 0), SNP with 0
 * (SNP reports errors only when nothing was done, so errno_ is not used).  Returns 0 or -ENOSPC
 * when the script is full.
 */
int spec_kvm_script(struct spec_kvm *k, const char *step, unsigned nth, uint64_t pages, int errno_,
		    uint32_t fw_error);

/*
 * The SEV host ([U 8a]): the VMSA features KVM_GET_DEVICE_ATTR(KVM_X86_GRP_SEV,
 * KVM_X86_SEV_VMSA_FEATURES) reports and KVM_SEV_INIT2 accepts (default: DebugSwap, bit 5), or
 * errno_ != 0 for a KVM without SEV (the attribute answers -errno_, as ENXIO on a host without
 * SEV).
 */
void spec_kvm_set_sev_vmsa_features(struct spec_kvm *k, uint64_t features, int errno_);
/*
 * [P] The PSP also refuses these bits of register reg (0 eax .. 3 edx) of CPUID function/index
 * (index ~0u: any) in the CPUID page, besides the firmware's own list (QEMU's mask).  A page with
 * any refused bit set fails SNP_LAUNCH_UPDATE with EIO, firmware status INVALID_PARAM (0x16),
 * after the corrected page (those bits cleared) was written back into the source, as KVM does.
 */
void spec_kvm_snp_cpuid_refuse(struct spec_kvm *k, uint32_t function, uint32_t index,
			       unsigned reg, uint32_t bits);
/*
 * KVM_X86_SEV_SNP_REQ_CERTS (amd-memory-encryption.rst, Linux 7.0): the attribute's value
 * (default 1), or errno_ != 0 for a KVM without it (ENXIO).
 */
void spec_kvm_set_snp_req_certs(struct spec_kvm *k, uint64_t attr, int errno_);
/* What /dev/sev says of the host (SEV_GET_ID2, SNP_PLATFORM_STATUS); default all zero. */
void spec_kvm_set_snp_host(struct spec_kvm *k, const uint8_t chip_id[64], uint64_t reported_tcb,
			   bool vlek_loaded);
/*
 * KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd, the posted (not upstream) in-place conversion
 * series: off by default (ENOTTY, as on every upstream kernel); preserve says whether the
 * PRESERVE content mode is allowed (else EINVAL).  spec_kvm_gmem_attr2_fail makes the next
 * times calls that pass the checks fail with errno_ (EAGAIN reports error_offset).
 */
void spec_kvm_set_gmem_attr2(struct spec_kvm *k, bool supported, bool preserve);
void spec_kvm_gmem_attr2_fail(struct spec_kvm *k, int errno_, unsigned times, uint64_t error_offset);
/*
 * The model keeps each guest_memfd's contents (what is written through its mapping stays) and
 * the series' per-page shared/private state; converting a range to private answers EAGAIN,
 * error_offset the first page, while the caller still maps it, unless unmaps (the kernel
 * takes the caller's mappings down itself).  SNP_LAUNCH_UPDATE with uaddr 0 populates from the
 * guest_memfd's pages converted with PRESERVE.
 */
void spec_kvm_gmem_attr2_unmaps(struct spec_kvm *k, bool unmaps);

/* Offer no VM the guest_memfd flags given (KVM_CAP_GUEST_MEMFD_FLAGS, KVM_CREATE_GUEST_MEMFD):
   GUEST_MEMFD_FLAG_MMAP (1) is what upstream withholds from an SNP VM's private memory. */
void spec_kvm_withhold_gmem_flags(struct spec_kvm *k, uint64_t flags);
/* Whether the (last) SNP VM enabled KVM_SEV_SNP_ENABLE_REQ_CERTS. */
bool spec_kvm_snp_req_certs(const struct spec_kvm *k);
/*
 * The host bytes behind guest memory [gpa, gpa + len) of the last VM of that type, through the
 * userspace_addr of the memslot KVM_SET_USER_MEMORY_REGION2 was given (the shared view), or
 * NULL.
 */
uint8_t *spec_kvm_guest_shared(const struct spec_kvm *k, unsigned long type, uint64_t gpa,
			       uint64_t len);
/* How many CPUID pages the PSP rejected (last SNP VM). */
unsigned spec_kvm_snp_cpuid_rejections(const struct spec_kvm *k);
/*
 * The TSC frequency KVM gave the firmware's SNP_LAUNCH_START (desired_tsc_khz) when the VM has
 * SecureTSC: 0 and *khz set, or -ENODATA without SecureTSC or before LAUNCH_START.
 */
int spec_kvm_snp_desired_tsc_khz(const struct spec_kvm *k, uint32_t *khz);
/* The host TSC frequency the fake reports as KVM's default (kHz). */
#define SPEC_HOST_TSC_KHZ 2450000u

/* Fail the nth seam call (1-based; open, mmap and ioctl count) with -errno_, before it acts. */
void spec_kvm_fail_call(struct spec_kvm *k, unsigned n, int errno_);
unsigned spec_kvm_calls(const struct spec_kvm *k);
/* The step the injected failure hit ("open /dev/kvm", "mmap", "SNP_LAUNCH_START", ...) or "". */
const char *spec_kvm_failed_step(const struct spec_kvm *k);

/* Mappings made through the seam and not yet unmapped. */
int spec_kvm_live_maps(const struct spec_kvm *k);

/* ---- What happened ---------------------------------------------------------------------- */

/* Bytes of an argument an event keeps (TDX capabilities: 2048 + the kvm_cpuid2 header + more). */
#define SPEC_KVM_IN_MAX 2304

/* One seam ioctl as the fake decoded it. */
struct spec_kvm_event {
	const char *name;          /* the fake's name of the call or sub-command */
	enum spec_fd_kind on;      /* the kind of descriptor it was issued on */
	int vcpu;                  /* vCPU index (creation order) for vCPU ioctls, else -1 */
	unsigned long req;         /* the ioctl number */
	unsigned long arg;         /* the raw argument (integer or pointer) */
	int rc;                    /* what the fake returned */
	uint8_t in[SPEC_KVM_IN_MAX]; /* the argument as passed (ENCRYPT_OP: the command's data) */
	uint8_t cmd[24];           /* KVM_MEMORY_ENCRYPT_OP: the kvm_sev_cmd / kvm_tdx_cmd as passed */
	const void *layout;        /* the fake's layout of in (NULL: none) */
	const void *cmd_layout;    /* and of cmd */
	char refused[160];         /* why the fake refused the call by a spec rule, or "" */
};

size_t spec_kvm_nevents(const struct spec_kvm *k);
const struct spec_kvm_event *spec_kvm_event_at(const struct spec_kvm *k, size_t i);
/* The nth (0-based) event with this name, or NULL. */
const struct spec_kvm_event *spec_kvm_find(const struct spec_kvm *k, const char *name, size_t nth);
/* Position of an event in the log (SIZE_MAX for NULL), for order checks. */
size_t spec_kvm_pos(const struct spec_kvm *k, const struct spec_kvm_event *e);

/*
 * A field of the event's argument struct (or, with spec_kvm_cmd_field, of its ENCRYPT_OP
 * command), decoded through the fake's own layout by the spec's field name; integer fields of
 * 1..8 bytes.  An unknown field aborts the test program (a typo must not read as 0).
 */
uint64_t spec_kvm_field(const struct spec_kvm_event *e, const char *field);
uint64_t spec_kvm_cmd_field(const struct spec_kvm_event *e, const char *field);
/* Byte-array fields (host_data, mrconfigid, ...): pointer into e->in, *len set. */
const uint8_t *spec_kvm_field_bytes(const struct spec_kvm_event *e, const char *field, size_t *len);

/* Every call the fake refused by a rule ("" when none), one per line, for failure messages. */
const char *spec_kvm_refusals(const struct spec_kvm *k);

/* ---- What the hardware would have measured ---------------------------------------------- */

/*
 * The SNP launch digest of the (last) SNP VM: 0 after a successful SNP_LAUNCH_FINISH; -ENODATA
 * before; -ENOTSUP when a vCPU's VMSA could not be rebuilt (why says what).
 */
int spec_kvm_snp_digest(const struct spec_kvm *k, uint8_t out[48], char *why, size_t whylen);
/* The ID block and host data given to SNP_LAUNCH_FINISH (NULL before; id_block NULL if none). */
const uint8_t *spec_kvm_snp_id_block(const struct spec_kvm *k);
const uint8_t *spec_kvm_snp_host_data(const struct spec_kvm *k);
/* The bytes of the CPUID page the fake copied in (NULL if none). */
const uint8_t *spec_kvm_snp_cpuid_page(const struct spec_kvm *k);
/* The VMSA the fake built for vCPU i at LAUNCH_FINISH (NULL if none). */
const uint8_t *spec_kvm_snp_vmsa(const struct spec_kvm *k, unsigned i);

/* MRTD of the (last) TDX VM: 0 after a successful KVM_TDX_FINALIZE_VM, else -ENODATA. */
int spec_kvm_tdx_mrtd(const struct spec_kvm *k, uint8_t out[48]);
/* Initial RCX each vCPU got from KVM_TDX_INIT_VCPU (~0 if none). */
uint64_t spec_kvm_tdx_vcpu_rcx(const struct spec_kvm *k, unsigned i);

/* ---- The fake's own tables, for the tests that check them ------------------------------- */

/*
 * Check the tables for internal consistency: fields tile each struct exactly, ioctl size bits
 * equal the struct sizes.  Returns NULL or a message.
 */
const char *spec_kvm_table_check(void);
/* Offset and size of a field of a layout by names ("kvm_sregs", "cr0"); -ENOENT if unknown. */
int spec_kvm_layout_field(const char *layout, const char *field, unsigned *off, unsigned *size);
/* Size of a layout; 0 if unknown. */
unsigned spec_kvm_layout_size(const char *layout);
/* The ioctl number of a named request ("KVM_SET_SREGS"); 0 if unknown. */
unsigned long spec_kvm_ioctl_number(const char *name);

#endif
