/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the TDX planner, firmware and policy in, plan out.  The input is a policy
 * header and a firmware image (tests/fuzz/plan_input.h); the image is parsed, the policy checked
 * by the one validator, and tdx/tdx_plan.c builds the plan (TDVF checks, placement, TD HOB),
 * which the MRTD model then measures.  A plan the planner accepts must measure and never
 * points an op at more data than it loads.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/firmware.h>
#include <cvmkit/plan.h>
#include <cvmkit/policy.h>
#include <cvmkit/tdx.h>
#include <cvmkit/util.h>

#include "tests/fuzz/plan_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sections may be as large as the guest's memory: measure only plans of modest size. */
#define MAX_MEASURED_BYTES (16u << 20)

static void check_plan(const struct cvm_plan *plan)
{
	for (size_t i = 0; i < plan->nops; i++)
		if (plan->ops[i].data_len > plan->ops[i].size)
			abort();
	if (cvm_plan_load_bytes(plan) > MAX_MEASURED_BYTES)
		return;
	struct cvm_tdx_model *model = cvm_tdx_model_new();
	if (!model)
		return;
	struct cvm_backend b = {cvm_tdx_model_ops(), model};
	struct cvm_error err;
	if (cvm_plan_execute(plan, &b, 1, &err) != 0)
		abort(); /* a plan the planner accepted must measure */
	uint8_t d[CVM_TDX_DIGEST_SIZE];
	cvm_tdx_model_digest(model, d);
	cvm_tdx_model_free(model);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan_input in;
	if (!plan_input_decode(data, size, CVM_TEE_TDX, &in))
		return 0;
	struct cvm_error err;
	struct cvm_firmware *fw = NULL;
	if (cvm_firmware_parse(in.image, in.image_size, &fw, &err) == 0 &&
	    cvm_policy_validate(&in.policy, NULL, &err) == 0) {
		struct cvm_plan plan;
		if (cvm_tdx_plan_build(&in.policy, fw, &plan, &err) == 0) {
			check_plan(&plan);
			cvm_plan_release(&plan);
		}
	}
	cvm_firmware_free(fw);
	free(in.image);
	return 0;
}
