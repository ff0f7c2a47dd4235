/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvm_launch(): plan -> KVM backend + measurement model in lockstep -> measurement document.
 * Every TEE-specific step comes from its table (launcher/tee.h).
 */
#include <cvmkit/firmware.h>
#include <cvmkit/launch.h>
#include <cvmkit/util.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "launcher/kvm_uapi.h"
#include "launcher/tee.h"

/*
 * The seam a cancellable launch issues its ioctls through: with the cancel flag set, an ioctl
 * is not issued, and one that returns EINTR (the signal that set the flag interrupted it)
 * returns -ECANCELED, so VM setup and the wrappers' EINTR retry loops stop there.  KVM_RUN and
 * KVM_PRE_FAULT_MEMORY pass unchanged: their own loops read EINTR as the cancellation.
 */
struct cancel_seam {
	struct cvm_kvm_seam seam; /* {the cancel_* ops, this} */
	const struct cvm_kvm_seam *inner;
	volatile sig_atomic_t *cancel;
	volatile sig_atomic_t never; /* 0: what cancel points to once the launch is torn down */
};

struct cvm_launch {
	const struct cvm_policy *policy; /* borrowed: must outlive the launch */
	const struct cvm_tee_ops *tee;
	struct cvm_launch_inputs inputs;
	struct cvm_plan plan;
	struct cvm_kvm_backend_ctx kvm;  /* kvm.vm is the launched VM */
	struct cvm_measurement *measurement;
	struct cvm_launch_timings timings;
	struct cancel_seam cancel_seam; /* l->kvm.seam when the launch has a cancel flag */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const struct cvm_tee_ops *tee_of(const struct cvm_policy *policy, struct cvm_error *err)
{
	const struct cvm_tee_ops *tee = cvm_tee_ops_get(policy->tee);
	if (!tee)
		cvm_error_set(err, -EINVAL, "tee %d is not one cvmkit knows", (int)policy->tee);
	return tee;
}

static int cancel_open(void *ctx, const char *path, int flags)
{
	const struct cancel_seam *c = ctx;
	return c->inner->ops->open(c->inner->ctx, path, flags);
}

static int cancel_close(void *ctx, int fd)
{
	const struct cancel_seam *c = ctx;
	return c->inner->ops->close(c->inner->ctx, fd);
}

static int cancel_ioctl(void *ctx, int fd, unsigned long request, unsigned long arg)
{
	const struct cancel_seam *c = ctx;
	bool own_loop = request == KVM_RUN || request == CVM_KVM_PRE_FAULT_MEMORY;
	if (!own_loop && *c->cancel)
		return -ECANCELED;
	int rc = c->inner->ops->ioctl(c->inner->ctx, fd, request, arg);
	return rc == -EINTR && !own_loop && *c->cancel ? -ECANCELED : rc;
}

static int cancel_mmap(void *ctx, size_t len, int prot, int flags, int fd, void **out)
{
	const struct cancel_seam *c = ctx;
	return c->inner->ops->mmap(c->inner->ctx, len, prot, flags, fd, out);
}

static int cancel_munmap(void *ctx, void *addr, size_t len)
{
	const struct cancel_seam *c = ctx;
	return c->inner->ops->munmap(c->inner->ctx, addr, len);
}

static const struct cvm_kvm_seam *cancel_seam_init(struct cancel_seam *c,
						   const struct cvm_kvm_seam *inner,
						   volatile sig_atomic_t *cancel)
{
	static const struct cvm_kvm_ops ops = {cancel_open, cancel_close, cancel_ioctl,
					       cancel_mmap, cancel_munmap};
	c->inner = inner;
	c->cancel = cancel;
	c->seam.ops = &ops;
	c->seam.ctx = c;
	return &c->seam;
}

/* ---- Plans ------------------------------------------------------------------------------ */

/* The firmware pin, on the SHA-256 of exactly the bytes read (waited for when pending). */
static int pin_check(const struct cvm_policy *policy, struct cvm_launch_inputs *in,
		     struct cvm_error *err)
{
	int rc = cvm_launch_inputs_sha256_wait(in, err);
	return rc ? cvm_error_wrap(err, "firmware.sha256")
		  : cvm_policy_firmware_pin_check(policy, in->sha256, err);
}

/* The inputs read and the pin checked; after_load: a pending SHA-256 is not waited for (the
   launch checks the pin after loading).  On failure nothing is left to release. */
static int read_inputs(const struct cvm_policy *policy, const struct cvm_tee_ops *tee,
		       struct cvm_launch_inputs *in, struct cvm_pool *pool, bool after_load,
		       struct cvm_plan *plan, struct cvm_error *err)
{
	memset(in, 0, sizeof(*in));
	cvm_plan_init(plan, policy->tee);
	if (!policy->firmware.path)
		return cvm_error_set(err, -EINVAL, "the policy names no firmware (firmware.path)");
	int rc = tee->read_inputs(policy, in, pool, err);
	if (!rc && !(after_load && in->sha256_pending))
		rc = pin_check(policy, in, err);
	if (rc)
		cvm_launch_inputs_release(in);
	return rc;
}

static int plan_build(const struct cvm_policy *policy, const struct cvm_tee_ops *tee,
		      struct cvm_launch_inputs *in, struct cvm_pool *pool, struct cvm_plan *plan,
		      struct cvm_error *err)
{
	int rc = read_inputs(policy, tee, in, pool, false, plan, err);
	if (rc)
		return rc;
	rc = tee->plan_build(policy, in, pool, plan, err);
	if (rc) {
		cvm_plan_release(plan);
		cvm_launch_inputs_release(in);
	}
	return rc;
}

int cvm_launch_plan_build(const struct cvm_policy *policy, struct cvm_pool *pool,
			  struct cvm_launch_inputs **out, struct cvm_plan *plan,
			  struct cvm_error *err)
{
	const struct cvm_tee_ops *tee = tee_of(policy, err);
	if (!tee)
		return -EINVAL;
	struct cvm_launch_inputs *in = calloc(1, sizeof(*in));
	if (!in)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	int rc = plan_build(policy, tee, in, pool, plan, err);
	if (rc) {
		free(in);
		return rc;
	}
	*out = in;
	return 0;
}

void cvm_launch_inputs_free(struct cvm_launch_inputs *in)
{
	cvm_launch_inputs_release(in);
	free(in);
}

/* ---- Timing shim around the KVM backend ------------------------------------------------- */

struct timed {
	struct cvm_backend inner;
	struct cvm_launch_timings *t;
	volatile sig_atomic_t *cancel;
	bool ahead;       /* ahead of the final plan: no finish, no pre-fault */
	bool began;       /* begin was issued ahead */
	const struct cvm_plan *plan; /* NULL: every op; else only ops [first, last) of it */
	size_t first, last;
};

static bool issues(const struct timed *w, const struct cvm_plan_op *op)
{
	if (!w->plan)
		return true;
	size_t i = (size_t)(op - w->plan->ops);
	return i >= w->first && i < w->last;
}

static int check_cancel(const struct timed *w, struct cvm_error *err)
{
	if (w->cancel && *w->cancel)
		return cvm_error_set(err, -ECANCELED, "cancelled");
	return 0;
}

static int timed_begin(void *ctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	struct timed *w = ctx;
	if (w->began)
		return 0;
	uint64_t t0 = now_ns();
	int rc = check_cancel(w, err);
	if (!rc)
		rc = w->inner.ops->begin(w->inner.ctx, plan, err);
	w->t->begin_ns += now_ns() - t0;
	return rc;
}

static int timed_op(void *ctx, const struct cvm_plan_op *op, struct cvm_error *err)
{
	struct timed *w = ctx;
	if (!issues(w, op))
		return 0;
	uint64_t t0 = now_ns();
	int rc = check_cancel(w, err);
	int (*fn)(void *, const struct cvm_plan_op *, struct cvm_error *) =
		op->kind == CVM_OP_LOAD ? w->inner.ops->load : w->inner.ops->vcpu;
	if (!rc && fn)
		rc = fn(w->inner.ctx, op, err);
	w->t->load_ns += now_ns() - t0;
	return rc;
}

static int timed_piece(void *ctx, const struct cvm_plan_op *op, uint64_t off, uint64_t len,
		       struct cvm_error *err)
{
	struct timed *w = ctx;
	if (!issues(w, op))
		return 0;
	uint64_t t0 = now_ns();
	int rc = check_cancel(w, err);
	if (!rc)
		rc = w->inner.ops->load_piece(w->inner.ctx, op, off, len, err);
	w->t->load_ns += now_ns() - t0;
	return rc;
}

static int timed_finish(void *ctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	struct timed *w = ctx;
	if (w->ahead)
		return 0;
	uint64_t t0 = now_ns();
	int rc = check_cancel(w, err);
	if (!rc && w->inner.ops->finish)
		rc = w->inner.ops->finish(w->inner.ctx, plan, err);
	w->t->finish_ns += now_ns() - t0;
	return rc;
}

static int timed_prefault(void *ctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	struct timed *w = ctx;
	if (w->ahead)
		return 0;
	uint64_t t0 = now_ns();
	int rc = check_cancel(w, err);
	if (!rc && w->inner.ops->prefault)
		rc = w->inner.ops->prefault(w->inner.ctx, plan, err);
	w->t->prefault_ns += now_ns() - t0;
	return rc;
}

static const struct cvm_backend_ops timed_ops_template = {
	.begin = timed_begin,
	.load = timed_op,
	.vcpu = timed_op,
	.finish = timed_finish,
	.prefault = timed_prefault,
	.load_piece = timed_piece,
};

/* The shim w as a backend (*ops is filled from the template and w's inner ops). */
static struct cvm_backend timed_backend(struct timed *w, struct cvm_backend_ops *ops)
{
	*ops = timed_ops_template;
	ops->name = w->inner.ops->name;
	if (!w->inner.ops->load_piece)
		ops->load_piece = NULL;
	return (struct cvm_backend){ops, w};
}

/* ---- Launch ----------------------------------------------------------------------------- */

static const char *prefault_mode_name(enum cvm_prefault_mode mode)
{
	switch (mode) {
	case CVM_PREFAULT_OFF: return "off";
	case CVM_PREFAULT_REQUIRED: return "required";
	default: return "best-effort";
	}
}

static int add_launch_entries(struct cvm_launch *l, struct cvm_error *err)
{
	struct cvm_measurement *m = l->measurement;
	const struct cvm_kvm_vm *vm = l->kvm.vm;
	const struct cvm_kvm_prefault_result *pf = &l->kvm.prefault;
	char regions[512] = "";
	size_t used = 0;
	for (size_t i = 0; i < vm->nregions && used < sizeof(regions); i++) {
		const struct cvm_kvm_region *r = &vm->regions[i];
		int n = snprintf(regions + used, sizeof(regions) - used,
				 "%s%s [0x%llx, 0x%llx) slot %u%s", i ? "; " : "", r->name,
				 (unsigned long long)r->gpa, (unsigned long long)(r->gpa + r->size),
				 r->slot, r->private_attr ? " private" : "");
		if (n < 0)
			break;
		used += (size_t)n;
	}
	const struct cvm_launch_timings *t = &l->timings;
	enum cvm_prefault_mode mode = l->plan.prefault.mode;
	bool fail = cvm_measurement_add_launch(m, "vm_type", "%s", cvm_kvm_vm_type_name(vm->type)) ||
		    cvm_measurement_add_launch(m, "regions", "%s", regions) ||
		    cvm_measurement_add_launch_u64(m, "loaded_bytes", l->kvm.loaded_bytes) ||
		    cvm_measurement_add_launch(m, "prefault_mode", "%s", prefault_mode_name(mode)) ||
		    cvm_measurement_add_launch_u64(m, "prefault_requested_bytes", pf->requested) ||
		    cvm_measurement_add_launch_u64(m, "prefault_bytes", pf->done) ||
		    cvm_measurement_add_launch(m, "prefault",
					       "%s", mode == CVM_PREFAULT_OFF ? "off"
						     : pf->skipped ? pf->note
								   : "done") ||
		    cvm_measurement_add_launch_u64(m, "prefault_threads", pf->threads) ||
		    cvm_measurement_add_launch_u64(m, "time_plan_us", t->plan_ns / 1000) ||
		    cvm_measurement_add_launch_u64(m, "time_vm_setup_us", t->begin_ns / 1000) ||
		    cvm_measurement_add_launch_u64(m, "time_load_us", t->load_ns / 1000) ||
		    cvm_measurement_add_launch_u64(m, "time_finish_us", t->finish_ns / 1000) ||
		    cvm_measurement_add_launch_u64(m, "time_prefault_us", t->prefault_ns / 1000) ||
		    cvm_measurement_add_launch_u64(m, "time_document_us", t->document_ns / 1000) ||
		    cvm_measurement_add_launch_u64(m, "time_total_us", t->total_ns / 1000);
	if (!fail && l->tee->launch_entries)
		fail = l->tee->launch_entries(m, &l->kvm) != 0;
	return fail ? cvm_error_set(err, -ENOMEM, "out of memory") : 0;
}

void cvm_launch_free(struct cvm_launch *l)
{
	if (!l)
		return;
	/* Teardown's ioctls (KVM_TDX_TERMINATE_VM) pass after a cancellation too. */
	l->cancel_seam.cancel = &l->cancel_seam.never;
	cvm_kvm_backend_release(&l->kvm);
	cvm_measurement_free(l->measurement);
	cvm_plan_release(&l->plan);
	cvm_launch_inputs_release(&l->inputs);
	free(l);
}

/* The offline measurement document, computed on its own thread while KVM does the launch. */
struct document_job {
	const struct cvm_launch *launch;
	volatile sig_atomic_t *cancel;
	struct cvm_pool *pool; /* the launch's, borrowed */
	bool before_launch; /* the plan is completed from the document */
	struct cvm_measurement *doc;
	struct cvm_error err;
	int rc;
};

static void *document_thread(void *arg)
{
	struct document_job *job = arg;
	const struct cvm_launch *l = job->launch;
	job->rc = l->tee->document(l->policy, &l->inputs, &l->plan, job->before_launch,
				   job->cancel, job->pool, &job->doc, &job->err);
	return NULL;
}

/* Check the lockstep digest against the offline document's (or give it the digest), take it. */
static int adopt_document(struct cvm_launch *l, struct document_job *job, const uint8_t digest[48],
			  struct cvm_error *err)
{
	if (job->rc) {
		*err = job->err;
		return cvm_error_wrap(err, "measurement document");
	}
	l->measurement = job->doc;
	job->doc = NULL;
	if (l->measurement->digest_len == 0) {
		memcpy(l->measurement->digest, digest, 48);
		l->measurement->digest_len = 48;
		free(l->measurement->algorithm);
		l->measurement->algorithm = strdup("sha384");
		if (!l->measurement->algorithm)
			return cvm_error_set(err, -ENOMEM, "out of memory");
	} else if (l->measurement->digest_len != 48 ||
		   memcmp(l->measurement->digest, digest, 48) != 0) {
		return cvm_error_set(err, -EPROTO,
				     "the digest of the issued operations differs from the offline measurement");
	}
	return 0;
}

/*
 * When the plan needs the offline document (an SNP ID block signs the expected digest), the
 * document comes first and completes the plan; the lockstep digest is then checked against that
 * same document, as always.
 */
static int document_then_complete_plan(struct cvm_launch *l, struct document_job *job,
				       struct cvm_error *err)
{
	job->before_launch = true;
	document_thread(job);
	if (job->rc) {
		*err = job->err;
		return cvm_error_wrap(err, "measurement document");
	}
	return l->tee->complete_plan(&l->plan, l->policy, job->doc, err);
}

/* The TEE's planner (its hashing) on a thread of its own, beside plan_ahead's KVM work. */
struct plan_job {
	struct cvm_launch *l;
	struct cvm_pool *pool;
	struct cvm_error err;
	int rc;
};

static void *plan_thread(void *arg)
{
	struct plan_job *job = arg;
	struct cvm_launch *l = job->l;
	cvm_error_clear(&job->err);
	job->rc = l->tee->plan_build(l->policy, &l->inputs, job->pool, &l->plan, &job->err);
	return NULL;
}

/*
 * While the planner hashes (SNP: kernel, initrd and the firmware's pages), this thread creates
 * the VM and issues the plan's leading firmware loads from the TEE's plan ahead, which the
 * final plan must then equal but for the bytes the hashing gave.  *ahead: how many ops ran;
 * *kvm_ns: the time that took (timed in its phases, not in the plan's).
 */
static int plan_beside_vm(struct cvm_launch *l, const struct cvm_launch_options *opts,
			  size_t *ahead, uint64_t *kvm_ns, struct cvm_error *err)
{
	const struct cvm_tee_ops *tee = l->tee;
	struct cvm_plan early;
	cvm_plan_init(&early, l->policy->tee);
	int rc = tee->plan_ahead(l->policy, &l->inputs, &early, err);
	if (rc) {
		cvm_plan_release(&early);
		return cvm_error_wrap(err, "plan");
	}
	struct plan_job job = {.l = l, .pool = opts->pool};
	pthread_t thread;
	bool threaded = pthread_create(&thread, NULL, plan_thread, &job) == 0;
	if (!threaded)
		plan_thread(&job);
	size_t lead = 0;
	while (lead < early.nops && early.ops[lead].kind == CVM_OP_LOAD &&
	       (early.ops[lead].flags & CVM_OP_FIRMWARE))
		lead++;
	uint64_t t0 = now_ns();
	/* begin sees the whole plan (memory layout, vCPU signature); only the leading ops run. */
	struct timed shim = {{tee->kvm_ops(), &l->kvm}, &l->timings, opts->cancel, .ahead = true,
			     .plan = &early, .first = 0, .last = lead};
	struct cvm_backend_ops ops;
	const struct cvm_backend kvm = timed_backend(&shim, &ops);
	rc = !threaded && job.rc ? 0 : cvm_plan_execute(&early, &kvm, 1, err);
	*kvm_ns = now_ns() - t0;
	if (threaded)
		pthread_join(thread, NULL);
	if (!rc && job.rc) {
		*err = job.err;
		rc = cvm_error_wrap(err, "plan");
	}
	if (!rc)
		rc = tee->ahead_check(&early, &l->plan, err);
	cvm_plan_release(&early);
	*ahead = lead;
	return rc;
}

static int launch_steps(struct cvm_launch *l, const struct cvm_launch_options *opts,
			struct cvm_error *err)
{
	const struct cvm_tee_ops *tee = l->tee;
	uint64_t t0 = now_ns(), kvm_ns = 0;
	size_t ahead = 0;
	int rc = read_inputs(l->policy, tee, &l->inputs, opts->pool, true, &l->plan, err);
	if (rc)
		return cvm_error_wrap(err, "plan");
	/* A plan completed from its document (an ID block) is checked whole before any VM. */
	bool doc_first = tee->needs_document && tee->needs_document(l->policy);
	/* The planner beside the VM needs a thread: not with --threads 1 (no pool). */
	bool began = tee->plan_ahead && !doc_first && cvm_pool_threads(opts->pool) > 1;
	if (began) {
		rc = plan_beside_vm(l, opts, &ahead, &kvm_ns, err);
	} else if ((rc = tee->plan_build(l->policy, &l->inputs, opts->pool, &l->plan, err))) {
		cvm_error_wrap(err, "plan");
	}
	if (rc)
		return rc;
	l->timings.plan_ns = now_ns() - t0 - kvm_ns;
	bool pin_after_load = l->inputs.sha256_pending;

	void *model = tee->model_new();
	if (!model)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	if (tee->model_set_cancel)
		tee->model_set_cancel(model, opts->cancel);
	if (tee->model_prepare)
		tee->model_prepare(model, &l->inputs, opts->pool);
	/* A cancelled launch must not wait for the document: its thread stops on the same flag. */
	struct document_job job = {.launch = l, .cancel = opts->cancel, .pool = opts->pool};
	pthread_t doc_thread;
	bool threaded = false, computed = false;
	if (doc_first) {
		rc = document_then_complete_plan(l, &job, err);
		computed = true;
	} else if (!pin_after_load && cvm_pool_threads(opts->pool) > 1) {
		/* Only reads of the policy, the plan and the inputs happen there: nothing is shared
		 * mutably, so the document is computed while KVM works (with --threads 1, after). */
		threaded = pthread_create(&doc_thread, NULL, document_thread, &job) == 0;
	}

	uint8_t digest[48];
	if (!rc) {
		/* The model's hashing is timed with the KVM calls of each phase, so the phases add
		   up to the launch. */
		struct timed shims[2] = {{{tee->kvm_ops(), &l->kvm}, &l->timings, opts->cancel,
					  .began = began, .plan = began ? &l->plan : NULL,
					  .first = ahead, .last = SIZE_MAX},
					 {{tee->model_ops(), model}, &l->timings, opts->cancel,
					  .ahead = false}};
		struct cvm_backend_ops shim_ops[2];
		const struct cvm_backend backends[2] = {timed_backend(&shims[0], &shim_ops[0]),
							timed_backend(&shims[1], &shim_ops[1])};
		rc = cvm_plan_execute(&l->plan, backends, 2, err);
		if (!rc)
			tee->model_digest(model, digest);
	}
	tee->model_free(model);
	if (!rc && pin_after_load) {
		/* Fail closed: the image is in guest memory, but no vCPU has run and the caller
		   never sees the VM (launch_steps' caller tears it down). */
		uint64_t t = now_ns();
		rc = pin_check(l->policy, &l->inputs, err);
		l->timings.load_ns += now_ns() - t;
		if (rc) {
			char why[CVM_ERROR_MSG_MAX];
			snprintf(why, sizeof(why), "%s", cvm_error_message(err));
			rc = cvm_error_set(err, rc, "%s (checked as the image was loaded: the VM is "
					   "torn down, no vCPU ran)", why);
		}
	}

	uint64_t t1 = now_ns();
	if (threaded)
		pthread_join(doc_thread, NULL);
	else if (!computed)
		document_thread(&job);
	if (!rc)
		rc = adopt_document(l, &job, digest, err);
	cvm_measurement_free(job.doc);
	if (rc)
		return rc;
	l->timings.document_ns = now_ns() - t1;
	l->timings.total_ns = now_ns() - t0;
	return add_launch_entries(l, err);
}

/*
 * Refuse a VM type the host cannot create before any planning, with the one message
 * cvm_kvm_vm_create gives (the backend checks again when it creates the VM).
 */
static int host_offers_vm_type(const struct cvm_kvm_seam *seam, const struct cvm_tee_ops *tee,
			       struct cvm_error *err)
{
	if (tee->kvm_vm_type == 0)
		return 0;
	struct cvm_kvm_caps caps;
	int rc = cvm_kvm_probe(seam, &caps, err);
	if (rc)
		return cvm_error_wrap(err, "launch");
	if (!(caps.vm_types & (1ull << tee->kvm_vm_type)))
		return cvm_error_set(err, -EOPNOTSUPP,
				     "%s VMs are not supported by this host's KVM (KVM_CAP_VM_TYPES = 0x%llx)",
				     tee->title, (unsigned long long)caps.vm_types);
	return 0;
}

int cvm_launch(const struct cvm_policy *policy, const struct cvm_launch_options *opts,
	       struct cvm_launch **out, struct cvm_error *err)
{
	static const struct cvm_launch_options defaults;
	if (!opts)
		opts = &defaults;
	const struct cvm_tee_ops *tee = tee_of(policy, err);
	if (!tee)
		return -EINVAL;
	struct cvm_launch *l = calloc(1, sizeof(*l));
	if (!l)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	l->policy = policy;
	l->tee = tee;
	l->kvm.seam = opts->seam ? opts->seam : cvm_kvm_seam_real();
	if (opts->cancel)
		l->kvm.seam = cancel_seam_init(&l->cancel_seam, l->kvm.seam, opts->cancel);
	l->kvm.cancel = opts->cancel;
	l->kvm.progress = opts->progress;
	if (policy->tee == CVM_TEE_SNP && policy->snp.certs.present)
		l->kvm.snp_certs = &policy->snp.certs;
	int rc = host_offers_vm_type(l->kvm.seam, tee, err);
	if (rc) {
		free(l);
		return rc;
	}
	rc = launch_steps(l, opts, err);
	l->kvm.progress = NULL; /* the caller's, valid during this call only */
	if (rc) {
		cvm_error_wrap(err, "launch");
		cvm_launch_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

const struct cvm_kvm_vm *cvm_launch_vm(const struct cvm_launch *l)
{
	return l->kvm.vm;
}

const struct cvm_plan *cvm_launch_plan(const struct cvm_launch *l)
{
	return &l->plan;
}

struct cvm_measurement *cvm_launch_measurement(struct cvm_launch *l)
{
	return l->measurement;
}

const struct cvm_launch_timings *cvm_launch_timings(const struct cvm_launch *l)
{
	return &l->timings;
}

const struct cvm_kvm_prefault_result *cvm_launch_prefault_result(const struct cvm_launch *l)
{
	return &l->kvm.prefault;
}

uint64_t cvm_launch_loaded_bytes(const struct cvm_launch *l)
{
	return l->kvm.loaded_bytes;
}

int cvm_launch_run(struct cvm_launch *l, cvm_kvm_io_fn on_io, void *ctx,
		   struct cvm_kvm_run_result *out, struct cvm_error *err)
{
	if (!l->tee->runnable)
		return cvm_error_set(err, -EOPNOTSUPP,
				     "running a confidential guest is not supported (only the default VM runs)");
	int rc = cvm_kvm_run(l->kvm.vm, 0, on_io, ctx, out, err);
	return rc ? cvm_error_wrap(err, "run") : 0;
}
