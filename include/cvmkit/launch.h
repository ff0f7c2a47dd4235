/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Launch orchestration: policy -> plan -> KVM backend and measurement model in lockstep
 * (cvm_plan_execute with two backends), so the digest in the document is the digest of exactly
 * the operations issued.  The result holds the launched VM for a VMM to continue from.
 *
 * Ownership: struct cvm_launch (opaque) owns the plan, the firmware, the VM and the measurement
 * document; cvm_launch_free() tears all of it down (NULL is fine).  A VMM reads the descriptors
 * through cvm_launch_vm(); it must not close them, and dup()s any it wants to outlive the launch.
 * Not thread-safe: one launch is used by one thread at a time.
 */
#ifndef CVMKIT_LAUNCH_H
#define CVMKIT_LAUNCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/emit.h>
#include <cvmkit/error.h>
#include <cvmkit/kvm.h>
#include <cvmkit/plan.h>
#include <cvmkit/policy.h>
#include <cvmkit/progress.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct cvm_pool; /* cvmkit/pool.h */

struct cvm_launch_options {
	const struct cvm_kvm_seam *seam; /* NULL: the real host (open/ioctl/mmap) */
	volatile sig_atomic_t *cancel;   /* optional: set non-zero (e.g. from a signal) to cancel */
	/* optional: bytes pre-faulted ("pre-faulting guest memory"), reported from the pre-fault
	   threads during cvm_launch only (progress.h) */
	const struct cvm_progress *progress;
	/* optional, borrowed for the cvm_launch call only: the SNP page hashes (the firmware's
	   chain) and the firmware file's SHA-256 run on this pool (pool.h) as `measure`'s do;
	   NULL: the calling thread.  The digest and the document do not depend on it.  With a
	   pool the firmware pin is checked after the load (a mismatch still fails the launch). */
	struct cvm_pool *pool;
};

/* Wall-clock time of each phase, in nanoseconds. */
struct cvm_launch_timings {
	uint64_t plan_ns;     /* firmware read + planner (SNP: KVM work issued beside its hashing
				 is in begin_ns and load_ns, not here) */
	uint64_t begin_ns;    /* VM, memory, vCPUs, vendor init */
	uint64_t load_ns;     /* every plan op (load + vCPU state), with the lockstep model's
				 hashing of it; default VM: and the wait for the image's SHA-256 */
	uint64_t finish_ns;   /* LAUNCH_FINISH / FINALIZE_VM */
	uint64_t prefault_ns;
	uint64_t document_ns; /* waiting for the offline document (computed on a second thread
				 while KVM works) and cross-checking it */
	uint64_t total_ns;
};

/* What a plan borrows: the firmware as read for it (opaque; see cvm_launch_plan_build). */
struct cvm_launch_inputs;

/*
 * A launched VM, its plan and its measurement document (opaque).  It owns the plan, the inputs
 * the plan borrows, the VM (every descriptor and mapping: /dev/kvm, VM, vCPUs, guest_memfds; see
 * kvm.h) and the document.
 */
struct cvm_launch;

/*
 * Build the plan of a policy without touching KVM (for --dry-run, and what cvm_launch does
 * first): the firmware read, its pin checked, and the TEE's planner run, hashing on pool
 * (borrowed for the call; NULL: the calling thread) what it hashes on one.  *inputs (what the
 * plan borrows) is written only on success and must be freed with cvm_launch_inputs_free after
 * the plan is released.
 */
int cvm_launch_plan_build(const struct cvm_policy *policy, struct cvm_pool *pool,
			  struct cvm_launch_inputs **inputs, struct cvm_plan *plan,
			  struct cvm_error *err);
void cvm_launch_inputs_free(struct cvm_launch_inputs *inputs);

/*
 * The default (non-confidential) VM's plan (launcher/default_vm.c): the image at 4 GiB - size
 * (CVM_OP_FIRMWARE), then the x86 reset state of each vCPU (real mode, CS:IP = f000:fff0).
 * Borrows image.
 */
int cvm_default_plan_build(const struct cvm_policy *policy, const uint8_t *image, size_t size,
			   struct cvm_plan *plan, struct cvm_error *err);

/*
 * The default VM's "measurement": SHA-384 over each load op's GPA (le64), size (le64) and its
 * page contents, in plan order.  A plan executor like the vendor models.
 */
struct cvm_plain_model;
struct cvm_plain_model *cvm_plain_model_new(void);
void cvm_plain_model_free(struct cvm_plain_model *model);
const struct cvm_backend_ops *cvm_plain_model_ops(void);
int cvm_plain_model_digest(const struct cvm_plain_model *model, uint8_t out[48]);

/*
 * Launch the policy's VM: plan, then KVM backend + model in lockstep, pre-fault, and the
 * measurement document (the same as `measure`, plus the "launch" entries: VM type, regions,
 * loaded and pre-faulted bytes or why not, timings).  *out only on success; on failure everything
 * is torn down.
 */
int cvm_launch(const struct cvm_policy *policy, const struct cvm_launch_options *opts,
	       struct cvm_launch **out, struct cvm_error *err);

/* The launched VM (descriptors owned by the launch). */
const struct cvm_kvm_vm *cvm_launch_vm(const struct cvm_launch *l);
/* The plan that was executed. */
const struct cvm_plan *cvm_launch_plan(const struct cvm_launch *l);
/* The measurement document (owned by the launch; a caller may add "launch" entries to it). */
struct cvm_measurement *cvm_launch_measurement(struct cvm_launch *l);
const struct cvm_launch_timings *cvm_launch_timings(const struct cvm_launch *l);
/* What the pre-fault pass did (bytes, threads, or why it was skipped). */
const struct cvm_kvm_prefault_result *cvm_launch_prefault_result(const struct cvm_launch *l);
/* Bytes the KVM backend loaded into guest memory. */
uint64_t cvm_launch_loaded_bytes(const struct cvm_launch *l);

/* Run vCPU 0 until HLT/shutdown/cancel (default VM only). */
int cvm_launch_run(struct cvm_launch *l, cvm_kvm_io_fn on_io, void *ctx,
		   struct cvm_kvm_run_result *out, struct cvm_error *err);

/* Tear down the VM and free everything (NULL is fine). */
void cvm_launch_free(struct cvm_launch *l);

/* ---- Test guest (launcher/launch_guest.c) ------------------------------------------------ */

#define CVM_TEST_GUEST_PORT 0x500
#define CVM_TEST_GUEST_MIN 4096
#define CVM_TEST_GUEST_MAX 65536

/*
 * A tiny real-mode guest of size bytes (a page multiple in [4 KiB, 64 KiB]) for the top of the
 * 4 GiB space: at the reset vector a jump to the image start, where it sums every byte of the
 * image (itself included) into a u32, writes the sum with `out dx, eax` to
 * CVM_TEST_GUEST_PORT and halts.  The bytes in between are a fixed pseudo-random pattern.
 */
int cvm_test_guest_build(uint8_t *buf, size_t size, struct cvm_error *err);

/* The u32 byte sum the guest reports for an image. */
uint32_t cvm_test_guest_checksum(const uint8_t *buf, size_t size);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
