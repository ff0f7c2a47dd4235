/* SPDX-License-Identifier: Apache-2.0 */
#include <cvmkit/plan.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void cvm_plan_init(struct cvm_plan *plan, enum cvm_tee tee)
{
	memset(plan, 0, sizeof(*plan));
	plan->tee = tee;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	void *p = reallocarray(*arr, ncap, elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int cvm_plan_take_policy(struct cvm_plan *plan, const struct cvm_policy *policy,
			 struct cvm_error *err)
{
	plan->vmm = policy->vmm;
	plan->nvcpus = policy->cpus.count;
	plan->mem_size = policy->memory_size;
	plan->prefault.mode = policy->prefault.mode;
	size_t n = policy->prefault.nranges;
	if (n) {
		struct cvm_prefault_range *r = calloc(n, sizeof(*r));
		if (!r)
			return cvm_error_set(err, -ENOMEM, "plan: out of memory");
		memcpy(r, policy->prefault.ranges, n * sizeof(*r));
		free(plan->prefault.ranges);
		plan->prefault.ranges = r;
		plan->prefault.nranges = n;
	}
	return 0;
}

int cvm_plan_add(struct cvm_plan *plan, const struct cvm_plan_op *op, struct cvm_error *err)
{
	if (grow((void **)&plan->ops, &plan->ops_cap, plan->nops + 1, sizeof(*op)))
		return cvm_error_set(err, -ENOMEM, "plan: out of memory");
	plan->ops[plan->nops++] = *op;
	return 0;
}

int cvm_plan_own(struct cvm_plan *plan, void *buf, struct cvm_error *err)
{
	if (grow((void **)&plan->owned, &plan->owned_cap, plan->nowned + 1, sizeof(void *))) {
		free(buf);
		return cvm_error_set(err, -ENOMEM, "plan: out of memory");
	}
	plan->owned[plan->nowned++] = buf;
	return 0;
}

void cvm_plan_release(struct cvm_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->nowned; i++)
		free(plan->owned[i]);
	free(plan->owned);
	free(plan->ops);
	free(plan->prefault.ranges);
	cvm_plan_init(plan, plan->tee);
}

uint64_t cvm_plan_load_bytes(const struct cvm_plan *plan)
{
	uint64_t total = 0;
	for (size_t i = 0; i < plan->nops; i++)
		if (plan->ops[i].kind == CVM_OP_LOAD)
			total += plan->ops[i].size;
	return total;
}

static bool same_bytes(const uint8_t *a, const uint8_t *b, size_t len)
{
	return a == b || (a && b && memcmp(a, b, len) == 0);
}

/* What a measurement model hashes of an op; an SNP vCPU's state is in its VMSA page (data). */
static bool same_op(const struct cvm_plan_op *a, const struct cvm_plan_op *b)
{
	return a->kind == b->kind && a->gpa == b->gpa && a->size == b->size &&
	       a->data_len == b->data_len && a->snp_page_type == b->snp_page_type &&
	       a->flags == b->flags && a->vcpu_index == b->vcpu_index &&
	       (a->data == NULL) == (b->data == NULL) && same_bytes(a->data, b->data, a->data_len);
}

/* What a TD's MRTD and its TDH.MNG.INIT depend on besides the ops. */
static bool same_tdx(const struct cvm_plan_tdx *a, const struct cvm_plan_tdx *b)
{
	return a->attributes == b->attributes && a->xfam == b->xfam &&
	       !memcmp(a->mrconfigid, b->mrconfigid, sizeof(a->mrconfigid)) &&
	       !memcmp(a->mrowner, b->mrowner, sizeof(a->mrowner)) &&
	       !memcmp(a->mrownerconfig, b->mrownerconfig, sizeof(a->mrownerconfig)) &&
	       a->td_hob_gpa == b->td_hob_gpa && a->order == b->order;
}

int cvm_plan_compare(const struct cvm_plan *a, const struct cvm_plan *b, struct cvm_error *err)
{
	if (a->tee != b->tee || a->nops != b->nops)
		return cvm_error_set(err, -EPROTO, "plans differ: %zu and %zu operations", a->nops,
				     b->nops);
	if (a->nvcpus != b->nvcpus || a->mem_size != b->mem_size)
		return cvm_error_set(err, -EPROTO, "plans differ in vCPUs or memory size");
	if (a->tee == CVM_TEE_TDX && !same_tdx(&a->tdx, &b->tdx))
		return cvm_error_set(err, -EPROTO, "plans differ in the TD's attributes, XFAM, "
						   "MRCONFIGID/MROWNER/MROWNERCONFIG, TD HOB address "
						   "or measure order");
	if (a->snp.has_initial_digest != b->snp.has_initial_digest ||
	    (a->snp.has_initial_digest &&
	     memcmp(a->snp.initial_digest, b->snp.initial_digest, sizeof(a->snp.initial_digest))))
		return cvm_error_set(err, -EPROTO, "plans differ in the SNP initial digest");
	for (size_t i = 0; i < a->nops; i++) {
		const struct cvm_plan_op *x = &a->ops[i];
		if (!same_op(x, &b->ops[i]))
			return cvm_error_set(err, -EPROTO, "plans differ at op %zu (%s gpa 0x%llx)",
					     i, x->label ? x->label : "?",
					     (unsigned long long)x->gpa);
	}
	return 0;
}

const char *cvm_snp_page_type_name(uint8_t type)
{
	switch (type) {
	case CVM_SNP_PAGE_NORMAL: return "NORMAL";
	case CVM_SNP_PAGE_VMSA: return "VMSA";
	case CVM_SNP_PAGE_ZERO: return "ZERO";
	case CVM_SNP_PAGE_UNMEASURED: return "UNMEASURED";
	case CVM_SNP_PAGE_SECRETS: return "SECRETS";
	case CVM_SNP_PAGE_CPUID: return "CPUID";
	default: return "-";
	}
}

static int run_op(const struct cvm_backend *b, const struct cvm_plan_op *op, struct cvm_error *err)
{
	int (*fn)(void *, const struct cvm_plan_op *, struct cvm_error *) =
		op->kind == CVM_OP_LOAD ? b->ops->load : b->ops->vcpu;
	return fn ? fn(b->ctx, op, err) : 0;
}

static bool all_load_pieces(const struct cvm_backend *backends, size_t nbackends)
{
	for (size_t b = 0; b < nbackends; b++)
		if (!backends[b].ops->load_piece)
			return false;
	return nbackends > 0;
}

/* One op on every backend; a piecewise load returns the failing backend in *failed. */
static int run_op_everywhere(const struct cvm_backend *backends, size_t nbackends,
			     const struct cvm_plan_op *op, bool pieces, size_t *failed,
			     struct cvm_error *err)
{
	int rc;
	if (!pieces || op->kind != CVM_OP_LOAD) {
		for (*failed = 0; *failed < nbackends; (*failed)++)
			if ((rc = run_op(&backends[*failed], op, err)))
				return rc;
		return 0;
	}
	for (uint64_t off = 0; off < op->size; off += CVM_PLAN_PIECE) {
		uint64_t len = op->size - off < CVM_PLAN_PIECE ? op->size - off : CVM_PLAN_PIECE;
		for (*failed = 0; *failed < nbackends; (*failed)++) {
			const struct cvm_backend *b = &backends[*failed];
			if ((rc = b->ops->load_piece(b->ctx, op, off, len, err)))
				return rc;
		}
	}
	return 0;
}

int cvm_plan_execute(const struct cvm_plan *plan, const struct cvm_backend *backends,
		     size_t nbackends, struct cvm_error *err)
{
	int rc;
	for (size_t b = 0; b < nbackends; b++) {
		if (backends[b].ops->begin && (rc = backends[b].ops->begin(backends[b].ctx, plan, err)))
			return cvm_error_wrap(err, "%s: begin", backends[b].ops->name);
	}
	bool pieces = all_load_pieces(backends, nbackends);
	for (size_t i = 0; i < plan->nops; i++) {
		const struct cvm_plan_op *op = &plan->ops[i];
		size_t b;
		if ((rc = run_op_everywhere(backends, nbackends, op, pieces, &b, err)))
			return cvm_error_wrap(err, "%s: op %zu (%s gpa 0x%llx)",
					      backends[b].ops->name, i, op->label,
					      (unsigned long long)op->gpa);
	}
	for (size_t b = 0; b < nbackends; b++) {
		if (backends[b].ops->finish && (rc = backends[b].ops->finish(backends[b].ctx, plan, err)))
			return cvm_error_wrap(err, "%s: finish", backends[b].ops->name);
	}
	for (size_t b = 0; b < nbackends; b++) {
		if (backends[b].ops->prefault &&
		    (rc = backends[b].ops->prefault(backends[b].ctx, plan, err)))
			return cvm_error_wrap(err, "%s: pre-fault", backends[b].ops->name);
	}
	return 0;
}
