/* SPDX-License-Identifier: Apache-2.0 */
/* cvm_launch(): plan -> KVM backend + measurement model in lockstep -> measurement document. */
#include <cvmkit/firmware.h>
#include "launcher/kvm_uapi.h"
#include <cvmkit/launch.h>
#include <cvmkit/snp.h>
#include <cvmkit/tdx.h>
#include <cvmkit/util.h>

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- Plans ------------------------------------------------------------------------------ */

void cvm_launch_inputs_release(struct cvm_launch_inputs *in)
{
	if (!in)
		return;
	cvm_firmware_free(in->fw);
	in->fw = NULL;
	if (in->image) {
		cvm_file_close(in->image);
		free(in->image);
		in->image = NULL;
	}
}

int cvm_launch_plan_build(const struct cvm_policy *policy, struct cvm_launch_inputs *in,
			  struct cvm_plan *plan, struct cvm_error *err)
{
	memset(in, 0, sizeof(*in));
	cvm_plan_init(plan, policy->tee);
	if (!policy->firmware.path)
		return cvm_error_set(err, -EINVAL, "the policy names no firmware (firmware.path)");
	int rc = cvm_policy_check_firmware_pin(policy, err);
	if (rc)
		return rc;
	if (policy->tee == CVM_TEE_NONE) {
		struct cvm_file *f = calloc(1, sizeof(*f));
		if (!f)
			return cvm_error_set(err, -ENOMEM, "out of memory");
		if ((rc = cvm_file_open(policy->firmware.path, f, err))) {
			free(f);
			return rc;
		}
		in->image = f;
		rc = cvm_default_plan_build(policy, f->data, f->size, plan, err);
	} else {
		if ((rc = cvm_firmware_load(policy->firmware.path, &in->fw, err)))
			return rc;
		if (policy->tee == CVM_TEE_SNP)
			rc = cvm_snp_plan_build(policy, in->fw, plan, err);
		else
			rc = cvm_tdx_plan_build(policy, in->fw, plan, err);
	}
	if (rc) {
		cvm_plan_release(plan);
		cvm_launch_inputs_release(in);
	}
	return rc;
}

/* The x86 reset state (SDM "Processor state following power-up"): real mode at f000:fff0. */
static void x86_reset_state(struct cvm_vcpu_reset *r, uint32_t signature)
{
	memset(r, 0, sizeof(*r));
	const struct cvm_segment data = {0, 0x93, 0xffff, 0};
	r->es = r->ss = r->ds = r->fs = r->gs = data;
	r->cs = (struct cvm_segment){0xf000, 0x9b, 0xffff, 0xffff0000ull};
	r->gdtr = (struct cvm_segment){0, 0, 0xffff, 0};
	r->idtr = r->gdtr;
	r->ldtr = (struct cvm_segment){0, 0x82, 0xffff, 0};
	r->tr = (struct cvm_segment){0, 0x8b, 0xffff, 0};
	r->cr0 = 0x60000010;
	r->dr6 = 0xffff0ff0;
	r->dr7 = 0x400;
	r->rflags = 0x2;
	r->rip = 0xfff0;
	r->rdx = signature;
	r->g_pat = 0x0007040600070406ull;
	r->xcr0 = 1;
	r->mxcsr = 0x1f80;
	r->x87_fcw = 0x37f;
}

int cvm_default_plan_build(const struct cvm_policy *policy, const uint8_t *image, size_t size,
			   struct cvm_plan *plan, struct cvm_error *err)
{
	cvm_plan_init(plan, CVM_TEE_NONE);
	if (!size || size % CVM_PAGE_SIZE || size > (16u << 20))
		return cvm_error_set(err, -EINVAL,
				     "firmware image of %zu bytes: must be a non-empty page multiple of at most 16 MiB",
				     size);
	plan->vmm = policy->vmm;
	plan->nvcpus = policy->cpus.count ? policy->cpus.count : 1;
	plan->mem_size = policy->memory_size;
	struct cvm_plan_op fw = {
		.kind = CVM_OP_LOAD,
		.label = "firmware",
		.gpa = 0x100000000ull - size,
		.size = size,
		.data = image,
		.data_len = size,
		.flags = CVM_OP_FIRMWARE,
	};
	int rc = cvm_plan_add(plan, &fw, err);
	for (uint32_t i = 0; i < plan->nvcpus && !rc; i++) {
		struct cvm_vcpu_reset *r = malloc(sizeof(*r));
		if (!r) {
			rc = cvm_error_set(err, -ENOMEM, "out of memory");
			break;
		}
		x86_reset_state(r, policy->cpus.has_signature ? policy->cpus.signature : 0x600);
		if ((rc = cvm_plan_own(plan, r, err)))
			break;
		struct cvm_plan_op op = {
			.kind = CVM_OP_VCPU,
			.label = "vcpu",
			.vcpu_index = i,
			.vcpu = r,
		};
		rc = cvm_plan_add(plan, &op, err);
	}
	if (rc)
		cvm_plan_release(plan);
	return rc;
}

/* ---- The plain model (default VM) ------------------------------------------------------- */

struct cvm_plain_model {
	EVP_MD_CTX *md;
	uint8_t digest[48];
	bool done;
};

struct cvm_plain_model *cvm_plain_model_new(void)
{
	struct cvm_plain_model *m = calloc(1, sizeof(*m));
	if (m && !(m->md = EVP_MD_CTX_new())) {
		free(m);
		return NULL;
	}
	return m;
}

void cvm_plain_model_free(struct cvm_plain_model *m)
{
	if (!m)
		return;
	EVP_MD_CTX_free(m->md);
	free(m);
}

static int plain_begin(void *ctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	(void)plan;
	struct cvm_plain_model *m = ctx;
	m->done = false;
	if (EVP_DigestInit_ex(m->md, EVP_sha384(), NULL) != 1)
		return cvm_error_set(err, -EIO, "SHA-384 init failed");
	return 0;
}

static int plain_load(void *ctx, const struct cvm_plan_op *op, struct cvm_error *err)
{
	struct cvm_plain_model *m = ctx;
	static const uint8_t zero[4096];
	uint8_t hdr[16];
	cvm_put_le64(hdr, op->gpa);
	cvm_put_le64(hdr + 8, op->size);
	int ok = EVP_DigestUpdate(m->md, hdr, sizeof(hdr));
	size_t dlen = op->data ? op->data_len : 0;
	if (ok && dlen)
		ok = EVP_DigestUpdate(m->md, op->data, dlen);
	for (uint64_t left = op->size - dlen; ok && left;) {
		size_t n = left < sizeof(zero) ? (size_t)left : sizeof(zero);
		ok = EVP_DigestUpdate(m->md, zero, n);
		left -= n;
	}
	return ok == 1 ? 0 : cvm_error_set(err, -EIO, "SHA-384 update failed");
}

static int plain_finish(void *ctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	(void)plan;
	struct cvm_plain_model *m = ctx;
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(m->md, m->digest, &len) != 1 || len != 48)
		return cvm_error_set(err, -EIO, "SHA-384 final failed");
	m->done = true;
	return 0;
}

static const struct cvm_backend_ops plain_ops = {
	.name = "model",
	.begin = plain_begin,
	.load = plain_load,
	.finish = plain_finish,
};

const struct cvm_backend_ops *cvm_plain_model_ops(void)
{
	return &plain_ops;
}

int cvm_plain_model_digest(const struct cvm_plain_model *m, uint8_t out[48])
{
	if (!m->done)
		return -EINVAL;
	memcpy(out, m->digest, 48);
	return 0;
}

/* ---- Timing shim around the KVM backend ------------------------------------------------- */

struct timed {
	struct cvm_backend inner;
	struct cvm_launch_timings *t;
	volatile sig_atomic_t *cancel;
};

static int check_cancel(const struct timed *w, struct cvm_error *err)
{
	if (w->cancel && *w->cancel)
		return cvm_error_set(err, -ECANCELED, "cancelled");
	return 0;
}

static int timed_begin(void *ctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	struct timed *w = ctx;
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
	uint64_t t0 = now_ns();
	int rc = check_cancel(w, err);
	int (*fn)(void *, const struct cvm_plan_op *, struct cvm_error *) =
		op->kind == CVM_OP_LOAD ? w->inner.ops->load : w->inner.ops->vcpu;
	if (!rc && fn)
		rc = fn(w->inner.ctx, op, err);
	w->t->load_ns += now_ns() - t0;
	return rc;
}

static int timed_finish(void *ctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	struct timed *w = ctx;
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
};

/* ---- Launch ----------------------------------------------------------------------------- */

/* The vendor model of a plan: begin/op/finish only; digest read after execution. */
struct model {
	struct cvm_backend b;
	struct cvm_snp_model *snp;
	struct cvm_tdx_model *tdx;
	struct cvm_plain_model *plain;
};

static int model_new(enum cvm_tee tee, struct model *m, struct cvm_error *err)
{
	memset(m, 0, sizeof(*m));
	switch (tee) {
	case CVM_TEE_SNP:
		m->snp = cvm_snp_model_new();
		m->b = (struct cvm_backend){cvm_snp_model_ops(), m->snp};
		break;
	case CVM_TEE_TDX:
		m->tdx = cvm_tdx_model_new();
		m->b = (struct cvm_backend){cvm_tdx_model_ops(), m->tdx};
		break;
	default:
		m->plain = cvm_plain_model_new();
		m->b = (struct cvm_backend){cvm_plain_model_ops(), m->plain};
		break;
	}
	if (!m->b.ctx)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

static void model_digest(const struct model *m, uint8_t out[48])
{
	if (m->snp)
		cvm_snp_model_digest(m->snp, out);
	else if (m->tdx)
		cvm_tdx_model_digest(m->tdx, out);
	else
		cvm_plain_model_digest(m->plain, out);
}

static void model_free(struct model *m)
{
	cvm_snp_model_free(m->snp);
	cvm_tdx_model_free(m->tdx);
	cvm_plain_model_free(m->plain);
}

static const struct cvm_backend_ops *kvm_ops_for(enum cvm_tee tee)
{
	switch (tee) {
	case CVM_TEE_SNP: return cvm_snp_kvm_ops();
	case CVM_TEE_TDX: return cvm_tdx_kvm_ops();
	default: return cvm_default_kvm_ops();
	}
}

/* The document of the default VM: its plain digest and the inputs that change it. */
static int plain_document(const struct cvm_launch *l, struct cvm_measurement **out,
			  struct cvm_error *err)
{
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_NONE, "none");
	if (!m)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	uint8_t sha[32];
	char hex[65];
	unsigned int len = 0;
	int rc = 0;
	if (EVP_Digest(l->inputs.image->data, l->inputs.image->size, sha, &len, EVP_sha256(), NULL) != 1)
		rc = cvm_error_set(err, -EIO, "SHA-256 of the firmware failed");
	cvm_hex_encode(sha, 32, hex);
	if (!rc && (cvm_measurement_add_input(m, "firmware_sha256", "%s", hex) ||
		    cvm_measurement_add_input_u64(m, "firmware_size", l->inputs.image->size) ||
		    cvm_measurement_add_input_u64(m, "memory_size", l->plan.mem_size) ||
		    cvm_measurement_add_input_u64(m, "vcpus", l->plan.nvcpus)))
		rc = cvm_error_set(err, -ENOMEM, "out of memory");
	if (rc) {
		cvm_measurement_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

static int vendor_document(const struct cvm_launch *l, struct cvm_measurement **out,
			   struct cvm_error *err)
{
	if (l->policy->tee == CVM_TEE_SNP)
		return cvm_snp_measure(l->policy, l->inputs.fw, out, err);
	if (l->policy->tee == CVM_TEE_TDX)
		return cvm_tdx_measure(l->policy, l->inputs.fw, out, err);
	return plain_document(l, out, err);
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
	const char *mode = l->policy->prefault.mode == CVM_PREFAULT_OFF	      ? "off"
			   : l->policy->prefault.mode == CVM_PREFAULT_REQUIRED ? "required"
									     : "best-effort";
	bool fail = cvm_measurement_add_launch(m, "vm_type", "%s", cvm_kvm_vm_type_name(vm->type)) ||
		    cvm_measurement_add_launch(m, "regions", "%s", regions) ||
		    cvm_measurement_add_launch_u64(m, "loaded_bytes", l->kvm.loaded_bytes) ||
		    cvm_measurement_add_launch(m, "prefault_mode", "%s", mode) ||
		    cvm_measurement_add_launch_u64(m, "prefault_requested_bytes", pf->requested) ||
		    cvm_measurement_add_launch_u64(m, "prefault_bytes", pf->done) ||
		    cvm_measurement_add_launch(m, "prefault",
					       "%s", l->policy->prefault.mode == CVM_PREFAULT_OFF ? "off"
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
	return fail ? cvm_error_set(err, -ENOMEM, "out of memory") : 0;
}

void cvm_launch_free(struct cvm_launch *l)
{
	if (!l)
		return;
	cvm_kvm_backend_release(&l->kvm);
	cvm_measurement_free(l->measurement);
	cvm_plan_release(&l->plan);
	cvm_launch_inputs_release(&l->inputs);
	free(l);
}

/* The offline measurement document, computed on its own thread while KVM does the launch. */
struct document_job {
	const struct cvm_launch *launch;
	struct cvm_measurement *doc;
	struct cvm_error err;
	int rc;
};

static void *document_thread(void *arg)
{
	struct document_job *job = arg;
	job->rc = vendor_document(job->launch, &job->doc, &job->err);
	return NULL;
}

/* Check the lockstep digest against the offline document and take the document. */
static int adopt_document(struct cvm_launch *l, struct document_job *job, const uint8_t digest[48],
			  struct cvm_error *err)
{
	if (job->rc) {
		*err = job->err;
		return cvm_error_wrap(err, "measurement document");
	}
	l->measurement = job->doc;
	job->doc = NULL;
	if (l->policy->tee == CVM_TEE_NONE) {
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
 * An SNP ID block signs the expected digest, so with one the offline document comes first and
 * LAUNCH_FINISH carries the ID block built from it (the lockstep digest is then checked against
 * that same document, as always).
 */
static int attach_id_block(struct cvm_launch *l, const struct cvm_measurement *doc,
			   struct cvm_error *err)
{
	struct cvm_snp_id_result *id = malloc(sizeof(*id));
	uint8_t *auth = malloc(CVM_SNP_ID_AUTH_SIZE);
	if (!id || !auth) {
		free(id);
		free(auth);
		return cvm_error_set(err, -ENOMEM, "out of memory");
	}
	int rc = cvm_snp_id_build(doc->digest, &l->policy->snp.id_block, l->plan.snp.policy, id, err);
	if (!rc) {
		memcpy(l->plan.snp.id_block, id->id_block, sizeof(l->plan.snp.id_block));
		memcpy(auth, id->id_auth, CVM_SNP_ID_AUTH_SIZE);
		l->plan.snp.auth_key_en = id->has_author_key;
	}
	free(id);
	if (rc) {
		free(auth);
		return cvm_error_wrap(err, "ID block");
	}
	if ((rc = cvm_plan_own(&l->plan, auth, err)))
		return rc;
	l->plan.snp.id_auth = auth;
	l->plan.snp.id_block_en = true;
	return 0;
}

static int document_then_id_block(struct cvm_launch *l, struct document_job *job,
				  struct cvm_error *err)
{
	document_thread(job);
	if (job->rc) {
		*err = job->err;
		return cvm_error_wrap(err, "measurement document");
	}
	return attach_id_block(l, job->doc, err);
}

static int launch_steps(struct cvm_launch *l, const struct cvm_launch_options *opts,
			struct cvm_error *err)
{
	uint64_t t0 = now_ns();
	int rc = cvm_launch_plan_build(l->policy, &l->inputs, &l->plan, err);
	if (rc)
		return cvm_error_wrap(err, "plan");
	l->timings.plan_ns = now_ns() - t0;

	struct model model;
	if ((rc = model_new(l->policy->tee, &model, err)))
		return rc;
	struct document_job job = {.launch = l};
	pthread_t doc_thread;
	bool threaded = false, computed = false;
	if (l->policy->tee == CVM_TEE_SNP && l->policy->snp.id_block.present) {
		rc = document_then_id_block(l, &job, err);
		computed = true;
	} else {
		/* Only reads of the policy and the mapped inputs happen there: nothing is shared
		 * mutably, so the document is computed while KVM works. */
		threaded = pthread_create(&doc_thread, NULL, document_thread, &job) == 0;
	}

	uint8_t digest[48];
	if (!rc) {
		struct timed shim = {{kvm_ops_for(l->policy->tee), &l->kvm}, &l->timings, opts->cancel};
		struct cvm_backend_ops shim_ops = timed_ops_template;
		shim_ops.name = shim.inner.ops->name;
		const struct cvm_backend backends[2] = {{&shim_ops, &shim}, model.b};
		rc = cvm_plan_execute(&l->plan, backends, 2, err);
		if (!rc)
			model_digest(&model, digest);
	}
	model_free(&model);

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
 * Refuse a confidential VM the host cannot create before any planning, with the one message
 * cvm_kvm_vm_create gives (the backend checks again when it creates the VM).
 */
static int host_offers_vm_type(const struct cvm_kvm_seam *seam, enum cvm_tee tee,
			       struct cvm_error *err)
{
	if (tee == CVM_TEE_NONE)
		return 0;
	struct cvm_kvm_caps caps;
	int rc = cvm_kvm_probe(seam, &caps, err);
	if (rc)
		return cvm_error_wrap(err, "launch");
	unsigned long type = tee == CVM_TEE_SNP ? CVM_KVM_X86_SNP_VM : CVM_KVM_X86_TDX_VM;
	if (!(caps.vm_types & (1ull << type)))
		return cvm_error_set(err, -EOPNOTSUPP,
				     "%s VMs are not supported by this host's KVM (KVM_CAP_VM_TYPES = 0x%llx)",
				     tee == CVM_TEE_SNP ? "SEV-SNP" : "TDX",
				     (unsigned long long)caps.vm_types);
	return 0;
}

int cvm_launch(const struct cvm_policy *policy, const struct cvm_launch_options *opts,
	       struct cvm_launch **out, struct cvm_error *err)
{
	static const struct cvm_launch_options defaults;
	if (!opts)
		opts = &defaults;
	struct cvm_launch *l = calloc(1, sizeof(*l));
	if (!l)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	l->policy = policy;
	l->kvm.seam = opts->seam ? opts->seam : cvm_kvm_seam_real();
	l->kvm.cancel = opts->cancel;
	l->kvm.policy = policy;
	l->kvm.progress = opts->progress;
	int rc = host_offers_vm_type(l->kvm.seam, policy->tee, err);
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

int cvm_launch_run(struct cvm_launch *l, cvm_kvm_io_fn on_io, void *ctx,
		   struct cvm_kvm_run_result *out, struct cvm_error *err)
{
	if (l->policy->tee != CVM_TEE_NONE)
		return cvm_error_set(err, -EOPNOTSUPP,
				     "running a confidential guest is not supported (only the default VM runs)");
	int rc = cvm_kvm_run(l->kvm.vm, 0, on_io, ctx, out, err);
	return rc ? cvm_error_wrap(err, "run") : 0;
}
