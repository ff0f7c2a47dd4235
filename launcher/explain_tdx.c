/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TDX diagnosis: the MRTD over the page orders, PAGE_AUG handling and firmware candidates; the
 * policy's expected RTMR events beside a CC event log.  Also the change list both TEEs share.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/emit.h>
#include <cvmkit/explain.h>
#include <cvmkit/plan.h>
#include <cvmkit/tdx.h>

#include "launcher/explain_internal.h"

void cvm_explain_add_change(struct cvm_explain_result *out, const char *key, const char *from,
			    const char *to)
{
	if (out->nchanges >= CVM_EXPLAIN_MAX_CHANGES)
		return;
	struct cvm_explain_change *c = &out->changes[out->nchanges++];
	c->key = key;
	snprintf(c->from, sizeof(c->from), "%s", from);
	snprintf(c->to, sizeof(c->to), "%s", to);
}

/* ---- MRTD -------------------------------------------------------------------------------- */

static int mrtd_of(const struct cvm_policy *p, const struct cvm_firmware *fw, uint8_t out[48],
		   struct cvm_error *err)
{
	struct cvm_plan plan;
	int rc = cvm_tdx_plan_build(p, fw, &plan, err);
	if (rc)
		return rc;
	struct cvm_tdx_model *model = cvm_tdx_model_new();
	if (!model)
		rc = cvm_error_set(err, -ENOMEM, "explain: out of memory");
	struct cvm_backend backend = {cvm_tdx_model_ops(), model};
	if (!rc && !(rc = cvm_plan_execute(&plan, &backend, 1, err)))
		cvm_tdx_model_digest(model, out);
	cvm_tdx_model_free(model);
	cvm_plan_release(&plan);
	return rc;
}

static const char *order_name(enum cvm_tdx_order o)
{
	return o == CVM_TDX_ORDER_TWO_PASS ? "two-pass (all PAGE.ADDs of a section, then its "
					     "MR.EXTENDs: QEMU 8.x TDX)"
					   : "single-pass (PAGE.ADD then MR.EXTEND per page: "
					     "upstream KVM/QEMU)";
}

int cvm_explain_mrtd(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		     const uint8_t mrtd[48], const struct cvm_explain_opts *opts,
		     struct cvm_explain_result *out, struct cvm_error *err)
{
	memset(out, 0, sizeof(*out));
	if (policy->tee != CVM_TEE_TDX)
		return cvm_error_set(err, -EINVAL, "explain: the policy is for %s, the quote for "
						   "TDX", cvm_tee_name(policy->tee));
	size_t nfw = 1 + (opts ? opts->nfirmware : 0);
	struct mrtd_best {
		bool found;
		unsigned cost;
		size_t fw, order, aug;
	} best = {0};
	/* the cost order of (fw, order, aug): each differing dimension counts one */
	for (size_t i = 0; i < nfw * 4; i++) {
		size_t f = i / 4, o = i / 2 % 2, a = i % 2;
		const struct cvm_firmware *cand = f ? opts->firmware[f - 1].fw : fw;
		if (f && cvm_firmware_same_image(cand, fw))
			continue;
		char why[160];
		if (f && !cvm_firmware_can_tdx(cand, why, sizeof(why))) {
			if (o == 0 && a == 0 && out->nskipped < CVM_EXPLAIN_MAX_SKIPPED)
				snprintf(out->skipped[out->nskipped++].what,
					 sizeof(out->skipped[0].what), "%s: %s",
					 opts->firmware[f - 1].name, why);
			continue;
		}
		struct cvm_policy p = *policy;
		if (o)
			p.tdx.measure_order = policy->tdx.measure_order == CVM_TDX_ORDER_TWO_PASS
						      ? CVM_TDX_ORDER_SINGLE_PASS
						      : CVM_TDX_ORDER_TWO_PASS;
		if (a)
			p.tdx.honour_page_aug = !policy->tdx.honour_page_aug;
		uint8_t d[48];
		struct cvm_error e;
		cvm_error_clear(&e);
		int rc = mrtd_of(&p, cand, d, &e);
		if (rc == -ENOMEM)
			return cvm_error_set(err, rc, "explain: out of memory");
		if (rc && i == 0)
			return cvm_error_set(err, rc, "explain: the policy's own MRTD: %s",
					     cvm_error_message(&e));
		out->space++;
		if (rc) {
			if (out->nskipped < CVM_EXPLAIN_MAX_SKIPPED)
				snprintf(out->skipped[out->nskipped++].what,
					 sizeof(out->skipped[0].what), "%s: %s",
					 opts->firmware[f - 1].name, cvm_error_message(&e));
			continue;
		}
		out->searched++;
		if (i == 0) {
			memcpy(out->expected, d, 48);
			out->expected_known = true;
		}
		unsigned cost = (f != 0) + (o != 0) + (a != 0);
		if (memcmp(d, mrtd, 48) == 0) {
			if (best.found && cost == best.cost)
				out->alternatives++;
			else if (!best.found || cost < best.cost)
				best = (struct mrtd_best){true, cost, f, o, a};
		}
	}
	snprintf(out->dimensions, sizeof(out->dimensions),
		 "2 page orders x 2 PAGE_AUG settings x %zu firmware%s", nfw,
		 nfw == 1 ? " (no other candidates)" : " images");
	out->found = best.found;
	if (!best.found)
		return 0;
	if (best.fw)
		cvm_explain_add_change(out, "firmware",
				       policy->firmware.path ? policy->firmware.path : "the policy's",
				       opts->firmware[best.fw - 1].name);
	if (best.order) {
		enum cvm_tdx_order own = policy->tdx.measure_order;
		cvm_explain_add_change(out, "tdx.measure_order", order_name(own),
				       order_name(own == CVM_TDX_ORDER_TWO_PASS
							  ? CVM_TDX_ORDER_SINGLE_PASS
							  : CVM_TDX_ORDER_TWO_PASS));
	}
	if (best.aug)
		cvm_explain_add_change(out, "tdx.honour_page_aug",
				       policy->tdx.honour_page_aug ? "true" : "false",
				       policy->tdx.honour_page_aug
					       ? "false (PAGE_AUG sections are PAGE.ADDed, as QEMU)"
					       : "true (PAGE_AUG sections are not PAGE.ADDed)");
	return 0;
}

/* ---- RTMR events ------------------------------------------------------------------------- */

int cvm_explain_rtmr(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		     const struct cvm_eventlog *log, struct cvm_explain_rtmr *out,
		     struct cvm_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = cvm_tdx_measure(policy, fw, &out->expected, err);
	if (rc)
		return cvm_error_wrap(err, "explain: the policy's RTMR events");
	rc = cvm_eventlog_match(log, out->expected, 0x7, &out->table, err);
	if (rc) {
		cvm_explain_rtmr_fini(out);
		return cvm_error_wrap(err, "explain");
	}
	cvm_eventlog_fw_layout(log, &out->layout, &out->layout_score, &out->layout_of);
	struct cvm_rtmr_replay *rp = NULL;
	struct cvm_error e;
	cvm_error_clear(&e);
	if (cvm_eventlog_replay_tdx(log, &rp, &e) == 0) {
		out->replay_known = true;
		memcpy(out->replay, rp->rtmr, sizeof(out->replay));
		cvm_rtmr_replay_free(rp);
	}
	return 0;
}

void cvm_explain_rtmr_fini(struct cvm_explain_rtmr *r)
{
	if (!r)
		return;
	cvm_measurement_free(r->expected);
	cvm_event_match_table_free(r->table);
	r->expected = NULL;
	r->table = NULL;
}
