/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the SNP planner, firmware and policy in, plan out.  The input is a policy
 * header and a firmware image (tests/fuzz/plan_input.h); the image is parsed, the policy checked
 * by the one validator, and the plan built (with a small fixed kernel/initrd/cmdline for a
 * direct boot, so the kernel-hashes page is reached) and run through the PAGE_INFO model; plus
 * the legacy SEV-ES digest of the same pair.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/firmware.h>
#include <cvmkit/plan.h>
#include <cvmkit/policy.h>
#include <cvmkit/snp.h>
#include <cvmkit/util.h>

#include "tests/fuzz/plan_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sections may claim up to 4 GiB of ZERO pages: measure only plans of modest size. */
#define MAX_MEASURED_BYTES (8u << 20)

static void measure_plan(const struct cvm_plan *plan)
{
	if (cvm_plan_load_bytes(plan) > MAX_MEASURED_BYTES || plan->nvcpus > 64)
		return;
	struct cvm_snp_model *model = cvm_snp_model_new();
	if (!model)
		return;
	struct cvm_backend b = {cvm_snp_model_ops(), model};
	struct cvm_error err;
	if (cvm_plan_execute(plan, &b, 1, &err) != 0)
		abort(); /* a plan the planner accepted must measure */
	uint8_t d[CVM_SNP_DIGEST_SIZE];
	cvm_snp_model_digest(model, d);
	cvm_snp_model_free(model);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t kernel[] = "MZ tiny kernel";
	struct plan_input in;
	if (!plan_input_decode(data, size, CVM_TEE_SNP, &in))
		return 0;
	struct cvm_error err;
	struct cvm_firmware *fw = NULL;
	struct cvm_snp_boot_hashes h;
	bool boot = in.policy.boot.cmdline != NULL;
	if (cvm_firmware_parse(in.image, in.image_size, &fw, &err) == 0 &&
	    cvm_policy_validate(&in.policy, NULL, &err) == 0 &&
	    cvm_snp_boot_hashes_from_bytes(kernel, sizeof(kernel), NULL, 0, "console=ttyS0", &h,
					   &err) == 0) {
		struct cvm_plan plan;
		if (cvm_snp_plan_build_hashed(&in.policy, fw, boot ? &h : NULL, &plan, &err) == 0) {
			measure_plan(&plan);
			cvm_plan_release(&plan);
		}
		uint8_t legacy[32];
		cvm_sev_legacy_digest(CVM_SEV_MODE_SEVES, &in.policy, fw, boot ? &h : NULL, legacy,
				      &err);
	}
	cvm_firmware_free(fw);
	free(in.image);
	return 0;
}
