/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One table per TEE (DESIGN.md): all that launch orchestration and the evidence dispatcher need
 * of SEV-SNP, TDX and the default (non-confidential) VM, so that neither switches on the TEE.
 * The tables are constant (launcher/tee.c).
 */
#ifndef CVMKIT_LAUNCHER_TEE_H
#define CVMKIT_LAUNCHER_TEE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/emit.h>
#include <cvmkit/error.h>
#include <cvmkit/evidence.h>
#include <cvmkit/fetch.h>
#include <cvmkit/firmware.h>
#include <cvmkit/kvm.h>
#include <cvmkit/plan.h>
#include <cvmkit/policy.h>
#include <cvmkit/snp.h>
#include <cvmkit/util.h>
#include <cvmkit/verify.h>

/*
 * What a plan borrows: the firmware, parsed (SNP, TDX) or as raw bytes (default VM), read once;
 * its SHA-256 is of those bytes, so the pin is checked on what is loaded.  It may be taken
 * while the VM is built (sha256_pending until cvm_launch_inputs_sha256_wait), on the launch's
 * pool: the default VM's image as one item, SNP's and TDX's firmware by cvm_firmware_load_on.
 */
struct cvm_launch_inputs {
	struct cvm_firmware *fw; /* owned, or NULL */
	struct cvm_file image;   /* owned when has_image */
	bool has_image;
	uint8_t sha256[32];
	bool sha256_pending;     /* fw's SHA-256 is on the pool, or sha256_batch hashes image */
	struct cvm_pool_batch *sha256_batch;
	/* SNP: what the planner hashed: the boot hashes its plan was built with (the document
	   reuses them) and the chain after the firmware pages (the model takes it) */
	struct cvm_snp_input_hashes snp;
};

struct cvm_tee_ops {
	enum cvm_tee tee;
	const char *title;            /* "SEV-SNP", "TDX", "default" (messages) */
	unsigned long kvm_vm_type;    /* KVM_CREATE_VM type */
	bool runnable;                /* cvm_launch_run can run it (the default VM only) */

	/* Read the TEE's inputs into *in (released by the caller, also on failure).  Only a TEE
	   without needs_document may leave sha256_pending: the launch then checks the pin after
	   loading, before any vCPU runs, and computes the document after that. */
	int (*read_inputs)(const struct cvm_policy *policy, struct cvm_launch_inputs *in,
			   struct cvm_pool *pool, struct cvm_error *err);
	/* The plan of the policy over those inputs; records in *in what it hashed for it (SNP:
	   the boot hashes), for the document, and hashes pages on pool (NULL: this thread). */
	int (*plan_build)(const struct cvm_policy *policy, struct cvm_launch_inputs *in,
			  struct cvm_pool *pool, struct cvm_plan *plan, struct cvm_error *err);
	/*
	 * The offline measurement document of the same policy and inputs; gives up with
	 * -ECANCELED when *cancel (may be NULL) turns non-zero, where its work is long.  A document
	 * with a digest (digest_len > 0) is the expected one, which the lockstep digest must equal;
	 * one without takes the lockstep digest (SNP checks the plan op by op instead, the default
	 * VM has nothing to check it against).  before_launch: the plan is completed from the
	 * document (needs_document), so it must carry its digest.  What it hashes goes on pool
	 * (NULL: this thread).
	 */
	int (*document)(const struct cvm_policy *policy, const struct cvm_launch_inputs *in,
			const struct cvm_plan *plan, bool before_launch,
			volatile sig_atomic_t *cancel, struct cvm_pool *pool,
			struct cvm_measurement **out, struct cvm_error *err);
	/*
	 * Optional, both or neither: the plan before plan_build's hashing, with placeholder bytes
	 * where that hashing goes (SNP: the kernel-hashes page), built (and refusing what
	 * plan_build refuses) from the inputs' firmware alone, so that the launch creates the VM
	 * and issues the leading firmware loads while plan_build runs on another thread.
	 * ahead_check then refuses a final plan that is not the plan ahead but for those bytes,
	 * which nothing issued ahead reads.
	 */
	int (*plan_ahead)(const struct cvm_policy *policy, const struct cvm_launch_inputs *in,
			  struct cvm_plan *plan, struct cvm_error *err);
	int (*ahead_check)(const struct cvm_plan *ahead, const struct cvm_plan *plan,
			   struct cvm_error *err);
	/* Optional: the plan is completed from the offline document before it runs (SNP: an ID
	   block signs the expected digest) when needs_document returns true. */
	bool (*needs_document)(const struct cvm_policy *policy);
	int (*complete_plan)(struct cvm_plan *plan, const struct cvm_policy *policy,
			     const struct cvm_measurement *doc, struct cvm_error *err);

	/* The measurement model, a plan executor whose digest is read after execution. */
	void *(*model_new)(void);
	const struct cvm_backend_ops *(*model_ops)(void);
	void (*model_digest)(const void *model, uint8_t out[48]);
	void (*model_free)(void *model);
	/* Optional: give the model what the planner hashed ahead of the launch (SNP: firmware)
	   and the pool its page hashes may use (borrowed while the model runs; NULL: none). */
	void (*model_prepare)(void *model, const struct cvm_launch_inputs *in,
			      struct cvm_pool *pool);
	/* Optional: the model gives up when *cancel turns non-zero (long sections). */
	void (*model_set_cancel)(void *model, volatile sig_atomic_t *cancel);

	/* The KVM backend (its context is a struct cvm_kvm_backend_ctx). */
	const struct cvm_backend_ops *(*kvm_ops)(void);
	/* Optional: the document's launch entries of what this TEE's backend did (kvm, after the
	   launch).  Nonzero: out of memory. */
	int (*launch_entries)(struct cvm_measurement *m, const struct cvm_kvm_backend_ctx *kvm);

	/* Evidence of this TEE: detected as this kind, parsed and verified (NULL: none). */
	enum cvm_evidence_kind evidence;
	int (*verify)(struct cvm_verifier *v, const uint8_t *data, size_t len,
		      const struct cvm_verify_options *opt, struct cvm_verify_result *res,
		      struct cvm_error *err);
	/* What verifying that evidence needs from KDS/PCS, fetched into fe (NULL: nothing). */
	int (*fetch)(struct cvm_fetcher *f, const struct cvm_evidence *ev,
		     const struct cvm_fetch_evidence_options *o, struct cvm_fetch_evidence *fe,
		     struct cvm_error *err);
};

/* The table of a TEE; NULL for a value that is none of the enum's. */
const struct cvm_tee_ops *cvm_tee_ops_get(enum cvm_tee tee);

/* The table of the TEE whose evidence kind this is, or NULL. */
const struct cvm_tee_ops *cvm_tee_ops_for_evidence(enum cvm_evidence_kind kind);

/* Release what cvm_tee_ops.plan_build read (the struct is the caller's); waits for a pending
   SHA-256 first. */
void cvm_launch_inputs_release(struct cvm_launch_inputs *in);

/* Wait for a pending SHA-256 of the firmware or image (no-op when none is); its error, if it
   failed. */
int cvm_launch_inputs_sha256_wait(struct cvm_launch_inputs *in, struct cvm_error *err);

/* ---- the pieces the tables are made of ---- */

/* launcher/default_vm.c: the default VM's inputs, plan and document (firmware hash, size,
   memory, vCPUs). */
int cvm_default_vm_read_inputs(const struct cvm_policy *policy, struct cvm_launch_inputs *in,
			       struct cvm_pool *pool, struct cvm_error *err);
int cvm_default_vm_plan(const struct cvm_policy *policy, struct cvm_launch_inputs *in,
			struct cvm_pool *pool, struct cvm_plan *plan, struct cvm_error *err);
int cvm_default_vm_document(const struct cvm_policy *policy, const struct cvm_launch_inputs *in,
			    const struct cvm_plan *plan, bool before_launch,
			    volatile sig_atomic_t *cancel, struct cvm_pool *pool,
			    struct cvm_measurement **out, struct cvm_error *err);

/* launcher/verify_evidence.c: parse (a failure is a failed "parse" check) and verify. */
int cvm_snp_verify_bytes(struct cvm_verifier *v, const uint8_t *data, size_t len,
			 const struct cvm_verify_options *opt, struct cvm_verify_result *res,
			 struct cvm_error *err);
int cvm_tdx_verify_bytes(struct cvm_verifier *v, const uint8_t *data, size_t len,
			 const struct cvm_verify_options *opt, struct cvm_verify_result *res,
			 struct cvm_error *err);

/* launcher/fetch_evidence.c: what SNP and TDX evidence needs from KDS and PCS. */
int cvm_snp_fetch_needs(struct cvm_fetcher *f, const struct cvm_evidence *ev,
			const struct cvm_fetch_evidence_options *o, struct cvm_fetch_evidence *fe,
			struct cvm_error *err);
int cvm_tdx_fetch_needs(struct cvm_fetcher *f, const struct cvm_evidence *ev,
			const struct cvm_fetch_evidence_options *o, struct cvm_fetch_evidence *fe,
			struct cvm_error *err);

#endif
