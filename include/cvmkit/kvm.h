/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The generic KVM layer (launcher/kvm.c, launcher/kvm_vm.c): the ioctl seam, one thin wrapper per
 * command, host capabilities, and a VM with guest_memfd-backed memory, vCPUs, the pre-fault loop
 * and a run loop.  The KVM launch backends (launcher/kvm_backend.c for the default VM,
 * launcher/kvm_snp.c, launcher/kvm_tdx.c) are built on it.
 *
 * Every system call that touches KVM goes through one seam (struct cvm_kvm_seam): on a real host
 * it is open/ioctl/mmap; tests substitute a recorder that checks the exact command sequence and
 * injects failures.  Wrappers zero their struct, retry EINTR (except where EINTR is the signal of
 * a cancellation: KVM_RUN and the pre-fault loop) and return 0 (or a value) or -errno.
 *
 * Ownership: a struct cvm_kvm_vm owns every descriptor and mapping it created (the /dev/kvm fd,
 * the VM fd, /dev/sev for SNP, each vCPU fd and its kvm_run mapping, each guest_memfd and its
 * mappings);
 * cvm_kvm_vm_free() closes and unmaps them all (NULL is fine).  Callers may read the fds but
 * must not close them; dup() one to keep it past cvm_kvm_vm_free().
 */
#ifndef CVMKIT_KVM_H
#define CVMKIT_KVM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/error.h>
#include <cvmkit/plan.h>
#include <cvmkit/policy.h>
#include <cvmkit/progress.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* ---- The seam --------------------------------------------------------------------------- */

/* Every callback returns a value >= 0 (fd, ioctl result) or a negative errno. */
struct cvm_kvm_ops {
	int (*open)(void *ctx, const char *path, int flags);
	int (*close)(void *ctx, int fd);
	/* arg is an integer or a pointer cast to unsigned long, as for ioctl(2). One call: no retry. */
	int (*ioctl)(void *ctx, int fd, unsigned long request, unsigned long arg);
	/* Map len bytes of fd (-1 with MAP_ANONYMOUS in flags) at offset 0; *out only on success. */
	int (*mmap)(void *ctx, size_t len, int prot, int flags, int fd, void **out);
	int (*munmap)(void *ctx, void *addr, size_t len);
};

struct cvm_kvm_seam {
	const struct cvm_kvm_ops *ops;
	void *ctx;
};

/* The seam of a real host: open(2), close(2), ioctl(2), mmap(2), munmap(2). */
const struct cvm_kvm_seam *cvm_kvm_seam_real(void);

/* ---- Thin wrappers (one per command) --------------------------------------------------- */

int cvm_kvm_ioctl(const struct cvm_kvm_seam *s, int fd, unsigned long req, unsigned long arg);
int cvm_kvm_check_extension(const struct cvm_kvm_seam *s, int fd, long cap);
int cvm_kvm_create_guest_memfd(const struct cvm_kvm_seam *s, int vm_fd, uint64_t size,
			       uint64_t flags);
int cvm_kvm_set_memory_region2(const struct cvm_kvm_seam *s, int vm_fd, uint32_t slot,
			       uint32_t flags, uint64_t gpa, uint64_t size, void *uaddr,
			       int gmem_fd, uint64_t gmem_offset);
int cvm_kvm_set_memory_attributes(const struct cvm_kvm_seam *s, int vm_fd, uint64_t gpa,
				  uint64_t size, uint64_t attributes);
/*
 * KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd, as the posted (not upstream) in-place conversion
 * series defines it (launcher/kvm_uapi.h): [offset, offset + size) of the file gets attributes
 * (KVM_MEMORY_ATTRIBUTE_PRIVATE or 0), flags a content mode (PRESERVE keeps what was written
 * through the file's mapping).  0 or -errno: ENOTTY when the kernel has no such call (every
 * upstream kernel, this project's hosts), EINVAL for a range, flag or attribute it refuses
 * (e.g. no preservation for this VM type), ENOMEM, and EAGAIN when a page still has references
 * other than the guest_memfd's, whose offset lands in *error_offset (NULL: not wanted).
 */
int cvm_kvm_gmem_set_attributes2(const struct cvm_kvm_seam *s, int gmem_fd, uint64_t offset,
				 uint64_t size, uint64_t attributes, uint64_t flags,
				 uint64_t *error_offset);

/*
 * KVM_MEMORY_ENCRYPT_OP for SEV/SNP with sev_fd (an open /dev/sev, which SNP_LAUNCH_START
 * requires) in kvm_sev_cmd.sev_fd: *fw_error gets kvm_sev_cmd.error (also on failure).
 */
int cvm_kvm_sev_op(const struct cvm_kvm_seam *s, int vm_fd, int sev_fd, uint32_t id, void *data,
		   uint32_t *fw_error);
/* KVM_MEMORY_ENCRYPT_OP for TDX on a VM or vCPU fd: *hw_error gets the SEAMCALL status. */
int cvm_kvm_tdx_op(const struct cvm_kvm_seam *s, int fd, uint32_t id, uint32_t flags,
		   uint64_t data, uint64_t *hw_error);

/* ---- Host capabilities ------------------------------------------------------------------ */

struct cvm_kvm_caps {
	int api_version;
	uint64_t vm_types;           /* KVM_CAP_VM_TYPES: bit n = KVM_CREATE_VM type n */
	int user_memory2;
	int memory_fault_info;
	uint64_t memory_attributes;  /* supported attribute bits (PRIVATE = 1 << 3) */
	int guest_memfd;
	int pre_fault_memory;
	uint64_t guest_memfd_flags;  /* KVM_CAP_GUEST_MEMFD_FLAGS: MMAP = 1, INIT_SHARED = 2 */
};

/* Open /dev/kvm through the seam, read API version and capabilities, close it. */
int cvm_kvm_probe(const struct cvm_kvm_seam *s, struct cvm_kvm_caps *out, struct cvm_error *err);

/* KVM_GET_DEVICE_ATTR of (group, attr) on fd; the u64 lands in *value.  0 or -errno. */
int cvm_kvm_get_device_attr(const struct cvm_kvm_seam *s, int fd, uint32_t group, uint64_t attr,
			    uint64_t *value);

/*
 * The VMSA SEV features this host's KVM can enable (KVM_SEV_INIT2 vmsa_features; SNPActive is
 * not among them, KVM always sets it): opens /dev/kvm and reads KVM_GET_DEVICE_ATTR(
 * KVM_X86_GRP_SEV, KVM_X86_SEV_VMSA_FEATURES).  -ENXIO on a KVM without SEV ("this host's KVM
 * has no SEV support"), -ENOTTY on one older than the attribute.
 */
int cvm_kvm_sev_vmsa_features(const struct cvm_kvm_seam *s, uint64_t *out, struct cvm_error *err);

/*
 * 0 when this host's KVM offers KVM_EXIT_SNP_REQ_CERTS: KVM_GET_DEVICE_ATTR(KVM_X86_GRP_SEV,
 * KVM_X86_SEV_SNP_REQ_CERTS) is 1.  -ENXIO from a KVM without it (older than 7.0, or no SEV).
 */
int cvm_kvm_sev_snp_req_certs(const struct cvm_kvm_seam *s, struct cvm_error *err);

/* "default", "sw-protected", "sev", "sev-es", "sev-snp", "tdx" */
const char *cvm_kvm_vm_type_name(unsigned long type);

/* ---- A VM ------------------------------------------------------------------------------- */

/* One guest_memfd-backed memory region and its memslot. */
struct cvm_kvm_region {
	const char *name;      /* "ram-low", "ram-high", "firmware" */
	uint64_t gpa, size;
	uint32_t slot;
	int gmem_fd;           /* owned */
	uint8_t *gmem_map;     /* MMAP|INIT_SHARED mapping of the guest_memfd (default VM) or NULL */
	uint8_t *shared;       /* separate shared backing (SNP/TDX) or NULL */
	bool private_attr;     /* KVM_MEMORY_ATTRIBUTE_PRIVATE was set over the whole region */
	bool gmem_mappable;    /* private memory whose guest_memfd was created MMAP (SNP firmware,
				  for in-place loading); gmem_map is then cvmkit's mapping or NULL */
};

#define CVM_KVM_MAX_REGIONS 4

/* Result of a pre-fault pass. */
struct cvm_kvm_prefault_result {
	uint64_t requested;    /* bytes asked for */
	uint64_t done;         /* bytes KVM reported as processed */
	bool skipped;          /* best-effort and KVM said EOPNOTSUPP */
	char note[160];        /* why it was skipped, or "" */
	uint32_t threads;      /* vCPU threads used */
};

struct cvm_kvm_vm {
	const struct cvm_kvm_seam *seam;
	int kvm_fd, vm_fd;
	int sev_fd;                    /* SNP: /dev/sev, opened by the SNP backend; else -1 */
	unsigned long type;
	struct cvm_kvm_caps caps;
	size_t run_size;
	uint32_t nvcpus;
	int *vcpu_fds;                 /* owned, nvcpus entries */
	struct kvm_run **runs;         /* owned mappings */
	struct cvm_kvm_region regions[CVM_KVM_MAX_REGIONS];
	size_t nregions;
	volatile sig_atomic_t *cancel; /* optional: non-zero cancels loops at the next EINTR */
	struct cvm_snp_certs *snp_certs; /* SNP: what KVM_EXIT_SNP_REQ_CERTS is answered with
					    (owned, freed with the VM), or NULL */
	bool fw_gmem_mmap;     /* set before cvm_kvm_vm_add_memory: create the private firmware
				  region's guest_memfd MMAP when this VM offers it (SNP in place) */
};

/*
 * Open /dev/kvm, check the API version and that the host offers the VM type (else -EOPNOTSUPP:
 * "SEV-SNP VMs are not supported by this host's KVM (KVM_CAP_VM_TYPES = 0x1)"), create the VM.
 */
int cvm_kvm_vm_create(const struct cvm_kvm_seam *s, unsigned long type,
		      volatile sig_atomic_t *cancel, struct cvm_kvm_vm **out,
		      struct cvm_error *err);
void cvm_kvm_vm_free(struct cvm_kvm_vm *vm);

/* The guest-physical layout: RAM below the 3 GiB hole, the rest from 4 GiB, firmware below 4 GiB. */
#define CVM_KVM_LOW_RAM_LIMIT CVM_GUEST_LOW_RAM_END
#define CVM_KVM_FOUR_GIB CVM_GUEST_HIGH_RAM_START

/*
 * Guest memory: RAM [0, min(mem, 3 GiB)), the rest from 4 GiB, and a firmware region
 * [4 GiB - fw_size, 4 GiB) when fw_size > 0, each one guest_memfd + one memslot.  With
 * private_mem (SNP/TDX) the guest_memfds have no flags (but the firmware region's is MMAP when
 * vm->fw_gmem_mmap is set and the VM offers it), a separate anonymous shared backing is
 * the slot's userspace_addr and every region is made PRIVATE; otherwise the guest_memfd is created
 * MMAP|INIT_SHARED and mapped (region.gmem_map) so the loader writes into it directly.
 */
int cvm_kvm_vm_add_memory(struct cvm_kvm_vm *vm, uint64_t mem_size, uint64_t fw_size,
			  bool private_mem, struct cvm_error *err);

/* The region holding [gpa, gpa + size) entirely, or NULL. */
const struct cvm_kvm_region *cvm_kvm_vm_find_region(const struct cvm_kvm_vm *vm, uint64_t gpa,
						    uint64_t size);

/* Create n vCPUs (ids 0..n-1) and map their kvm_run areas. */
int cvm_kvm_vm_create_vcpus(struct cvm_kvm_vm *vm, uint32_t n, struct cvm_error *err);

struct kvm_cpuid2; /* <linux/kvm.h> */

/* KVM_GET_SUPPORTED_CPUID of /dev/kvm into a malloc'd kvm_cpuid2 (grown on E2BIG); *out owned. */
int cvm_kvm_supported_cpuid(const struct cvm_kvm_seam *s, int kvm_fd, struct kvm_cpuid2 **out,
			    struct cvm_error *err);

/* KVM_SET_CPUID2 of every vCPU with cpuid (borrowed). */
int cvm_kvm_vm_set_cpuid(struct cvm_kvm_vm *vm, const struct kvm_cpuid2 *cpuid,
			 struct cvm_error *err);

/* KVM_SET_SREGS + KVM_SET_REGS of vCPU idx from a plan's reset state. */
int cvm_kvm_vcpu_set_reset(struct cvm_kvm_vm *vm, uint32_t idx, const struct cvm_vcpu_reset *r,
			   struct cvm_error *err);

/*
 * The pre-fault loop of DESIGN.md over [gpa, gpa + size): progress -> again; EINTR/EAGAIN ->
 * again unless cancelled; EOPNOTSUPP -> error when mode is REQUIRED, a reported skip when
 * BEST_EFFORT; EINVAL/ENOENT/EFAULT/EIO (and anything else) -> error naming the range.  Ranges
 * of at least 256 MiB are split across the VM's vCPUs, one thread each.  *res accumulates.
 * progress (optional) gets the bytes done over the whole range after every call that made
 * progress, from each vCPU thread ("pre-faulting guest memory", done, size); with it, each
 * thread asks KVM for 64 MiB per call (KVM would otherwise do its range in one call).
 */
int cvm_kvm_prefault(struct cvm_kvm_vm *vm, uint64_t gpa, uint64_t size,
		     enum cvm_prefault_mode mode, const struct cvm_progress *progress,
		     struct cvm_kvm_prefault_result *res, struct cvm_error *err);

/* ---- Run loop --------------------------------------------------------------------------- */

enum cvm_kvm_stop {
	CVM_KVM_STOP_HLT,
	CVM_KVM_STOP_SHUTDOWN,
	CVM_KVM_STOP_CANCELLED, /* the cancel flag was set (signal, timeout) */
	CVM_KVM_STOP_LIMIT,     /* the callback asked to stop */
};

/* One port write of the guest (KVM_EXIT_IO, direction out). */
struct cvm_kvm_io {
	uint16_t port;
	uint8_t size;   /* 1, 2 or 4 */
	uint32_t count;
	const uint8_t *data; /* size * count bytes, valid during the callback */
};

/* Called for every port write; return false to stop the run. */
typedef bool (*cvm_kvm_io_fn)(void *ctx, const struct cvm_kvm_io *io);

struct cvm_kvm_run_result {
	enum cvm_kvm_stop stop;
	uint64_t exits;
	uint64_t io_exits;
	/* KVM_EXIT_TDX (a TD's TDVMCALLs that KVM hands to userspace, answered by
	   cvm_kvm_tdx_exit_answer): how many, and what they asked. */
	uint64_t tdx_exits;
	uint64_t tdx_quotes_refused; /* GetQuote: cvmkit has no quote service */
	uint32_t tdx_notify_vector;  /* SetupEventNotifyInterrupt's vector, 0 if none */
	/* KVM_EXIT_SNP_REQ_CERTS (an SNP guest's extended attestation requests), answered by
	   cvm_kvm_snp_req_certs_answer: how many, and how each was answered. */
	uint64_t snp_cert_requests;
	uint64_t snp_certs_served;    /* 0: the table is in the guest's pages */
	uint64_t snp_certs_busy;      /* EAGAIN: a certificate file is locked by an update */
	uint64_t snp_certs_too_small; /* ENOSPC: the guest's buffer is too small, npages says */
	uint64_t snp_certs_failed;    /* EIO */
	char snp_certs_error[160];    /* why the last EIO, or "" */
};

/*
 * Answer one KVM_EXIT_TDX in run (the vCPU's kvm_run, exit_reason already KVM_EXIT_TDX) before
 * the next KVM_RUN, setting the guest's R10 status in kvm_run.tdx.ret:
 *   GetQuote {gpa, size}: refused with TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED (no quote service;
 *     a VMM with a QGS answers it itself), or INVALID_OPERAND for a buffer that is not 4 KiB
 *     aligned, empty, or not a page multiple (the GHCI's rule);
 *   SetupEventNotifyInterrupt {vector}: accepted (SUCCESS) for vectors 32..255, recorded in
 *     res->tdx_notify_vector; INVALID_OPERAND otherwise;
 *   GetTdVmCallInfo leaf 1: SUCCESS, R11 = the SetupEventNotifyInterrupt bit, R12..R14 = 0;
 *   anything else: SUBFUNC_UNSUPPORTED.
 * The counters of res are updated.  Never fails: every leaf gets an answer.
 */
void cvm_kvm_tdx_exit_answer(struct kvm_run *run, struct cvm_kvm_run_result *res);

/* ---- SNP certificates for guests (KVM_EXIT_SNP_REQ_CERTS, Linux 7.0) --------------------- */

/*
 * The certificates an SNP guest gets with its extended attestation requests (the GHCB
 * certificate table: VCEK or VLEK, ASK or ASVK, ARK), as docs/snp-launch.md describes.  Its
 * sources are files: the endorsement cache's (launcher/fetch*.c layout: the VCEK of this host's
 * chip at its reported TCB, and the product's ASK+ARK chain) when the policy allows it and the
 * cache has them, else the policy's.  Nothing is kept between requests: each one opens the
 * files, takes a shared OFD lock on each (fcntl F_OFD_SETLK, F_RDLCK), checks the path still
 * names the locked file, reads them and builds the table; the locks are held until KVM has
 * issued the attestation request (the next KVM_RUN returns), as amd-memory-encryption.rst asks,
 * so a tool that takes an exclusive lock to update a certificate (or SNP firmware) never races
 * a guest's report.  Not thread-safe: one vCPU thread answers at a time.
 */
struct cvm_snp_certs;

/* What names this host's VCEK: /dev/sev SNP_PLATFORM_STATUS and SEV_GET_ID2. */
struct cvm_snp_host_id {
	uint8_t chip_id[64];
	uint64_t reported_tcb;
	bool vlek_loaded; /* the firmware signs with a VLEK: KDS (and the cache) have none */
};

/* Read the host identity through the seam on sev_fd (an open /dev/sev).  0 or -errno. */
int cvm_snp_host_id_read(const struct cvm_kvm_seam *s, int sev_fd, struct cvm_snp_host_id *out,
			 struct cvm_error *err);

/*
 * The sources for cfg (borrowed during the call): with cfg->cache, host (NULL: unknown) and
 * the cache directory (cache_dir, NULL: cvm_fetch_default_cache_dir) holding the host's VCEK
 * and chain, the cache; else the policy's files; else -ENOENT naming what the cache lacks.
 * The table is built once (locks taken and dropped) so a bad file fails here, not in the guest.
 */
int cvm_snp_certs_open(const struct cvm_policy_snp_certs *cfg, const struct cvm_snp_host_id *host,
		       const char *cache_dir, struct cvm_snp_certs **out, struct cvm_error *err);
void cvm_snp_certs_free(struct cvm_snp_certs *c);
/* "endorsement cache DIR" or "policy files"; owned by c. */
const char *cvm_snp_certs_source(const struct cvm_snp_certs *c);

/*
 * Lock the files and build the table (owned by c, valid until cvm_snp_certs_unlock): 0,
 * -EAGAIN when a file is locked by an update, another -errno with err.
 */
int cvm_snp_certs_lock_table(struct cvm_snp_certs *c, const uint8_t **table, size_t *len,
			     struct cvm_error *err);
void cvm_snp_certs_unlock(struct cvm_snp_certs *c);
bool cvm_snp_certs_locked(const struct cvm_snp_certs *c);

/*
 * Answer one KVM_EXIT_SNP_REQ_CERTS in run (a vCPU's kvm_run of vm) before the next KVM_RUN,
 * in kvm_run.snp_req_certs.ret: 0 with the table written at gpa (guest memory of vm) and
 * kvm_run.immediate_exit set, the locks held until that KVM_RUN returns (cvm_kvm_run then
 * drops them and clears immediate_exit); EAGAIN when a file is locked by an update; ENOSPC with
 * npages = the pages the table needs when the guest gave fewer; EIO when vm serves no
 * certificates, a file cannot be read or the buffer is not guest memory (res->snp_certs_error
 * says why).  res's counters are updated.  Never fails: every request gets an answer.
 */
void cvm_kvm_snp_req_certs_answer(struct cvm_kvm_vm *vm, struct kvm_run *run,
				  struct cvm_kvm_run_result *res);

/*
 * Run vCPU idx until HLT, shutdown, cancellation or the callback says stop.  Port reads return
 * 0xff bytes; KVM_EXIT_TDX is answered by cvm_kvm_tdx_exit_answer, KVM_EXIT_SNP_REQ_CERTS by
 * cvm_kvm_snp_req_certs_answer, and the vCPU runs on.
 * MMIO, KVM_EXIT_MEMORY_FAULT (reported with GPA, size, private/shared), internal errors and
 * failed entries are errors.
 * Threads: vCPUs of one VM may run on threads of their own, except when the VM serves SNP
 * certificates (vm->snp_certs): the held file locks are the VM's, so such a VM's vCPUs must
 * not be in cvm_kvm_run on two threads at once.
 */
int cvm_kvm_run(struct cvm_kvm_vm *vm, uint32_t idx, cvm_kvm_io_fn on_io, void *ctx,
		struct cvm_kvm_run_result *out, struct cvm_error *err);

/* ---- KVM launch backends (the plan executors that issue the ioctls) ---------------------- */

/*
 * Context of a KVM backend: set seam/cancel before cvm_plan_execute; begin creates the VM
 * (ctx->vm, owned by the context until cvm_kvm_backend_release).  prefault honours the plan's
 * pre-fault mode and ranges (no ranges: all RAM).
 */
struct cvm_kvm_backend_ctx {
	const struct cvm_kvm_seam *seam;
	volatile sig_atomic_t *cancel;
	struct cvm_kvm_vm *vm;
	struct cvm_kvm_prefault_result prefault;
	void *staging;        /* SNP: page-aligned shared staging buffer (owned) */
	size_t staging_len;
	uint64_t loaded_bytes;
	uint64_t fw_size;     /* firmware region size (set by begin from the plan) */
	struct kvm_cpuid2 *cpuid; /* the CPUID every vCPU was given (owned) */
	const struct cvm_progress *progress; /* optional: pre-fault bytes over all its ranges */
	/* SNP, set by begin from the plan: retry a rejected CPUID page once with the PSP's values */
	bool snp_cpuid_retry;
	bool snp_cpuid_corrected; /* out: the PSP corrected the CPUID page and the retry passed */
	/* SNP: serve certificates to the guest (KVM_SEV_SNP_ENABLE_REQ_CERTS; borrowed from the
	   policy), NULL: none; cache_dir NULL: the default endorsement cache */
	const struct cvm_policy_snp_certs *snp_certs;
	const char *snp_certs_cache_dir;
	/* SNP, out: firmware bytes loaded in place through the guest_memfd (docs/snp-launch.md),
	   and why the rest took the staged copy ("" if nothing did) */
	uint64_t snp_fw_in_place_bytes;
	char snp_fw_staged_why[160];
};

/* Close the VM and free what the context owns (the context struct stays the caller's). */
void cvm_kvm_backend_release(struct cvm_kvm_backend_ctx *ctx);

/*
 * The KVM backends as plan executors (ctx: a struct cvm_kvm_backend_ctx): the default VM
 * (launcher/kvm_backend.c), SEV-SNP (launcher/kvm_snp.c) and TDX (launcher/kvm_tdx.c).
 */
const struct cvm_backend_ops *cvm_default_kvm_ops(void);
const struct cvm_backend_ops *cvm_snp_kvm_ops(void);
const struct cvm_backend_ops *cvm_tdx_kvm_ops(void);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
