/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel TDX: planner (TDVF sections -> PAGE.ADD / MR.EXTEND ops), MRTD model, TD HOB builder,
 * RTMR precompute.  spec/tdx-measurement.md.
 *
 * Ownership: plans follow include/cvmkit/plan.h; a plan built from a firmware borrows the
 * firmware's mapped image, which must outlive the plan.
 */
#ifndef CVMKIT_TDX_H
#define CVMKIT_TDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/emit.h>
#include <cvmkit/error.h>
#include <cvmkit/firmware.h>
#include <cvmkit/plan.h>
#include <cvmkit/policy.h>

#define CVM_TDX_DIGEST_SIZE 48

/*
 * Build the TDX launch plan: for each TDVF section in metadata order, one CVM_OP_LOAD op (flags
 * CVM_OP_MR_EXTEND / CVM_OP_NO_PAGE_ADD), with the TD HOB bytes as the TD_HOB section's data.
 * plan->tdx carries INIT_VM parameters and the TD HOB GPA.  The plan borrows fw's image.
 */
int cvm_tdx_plan_build(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		       struct cvm_plan *plan, struct cvm_error *err);

/* The MRTD model as a plan executor (honours plan->tdx.order).  Free with cvm_tdx_model_free(). */
struct cvm_tdx_model;
struct cvm_tdx_model *cvm_tdx_model_new(void);
void cvm_tdx_model_free(struct cvm_tdx_model *model);
const struct cvm_backend_ops *cvm_tdx_model_ops(void);
/* MRTD after finish; valid only once the plan's finish has run. */
void cvm_tdx_model_digest(const struct cvm_tdx_model *model, uint8_t out[CVM_TDX_DIGEST_SIZE]);

/*
 * Whole offline measurement: MRTD, RTMRs (or why not), and every input, as a measurement
 * document owned by the caller.
 */
int cvm_tdx_measure(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		    struct cvm_measurement **out, struct cvm_error *err);

#endif
