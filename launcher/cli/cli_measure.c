/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The measurement document of a policy, one code path for `cvmkit measure` and for
 * `cvmkit verify --policy` (which expects exactly what measure prints).
 */
#include "launcher/cli/cli.h"

#include <errno.h>

#include <cvmkit/emit.h>
#include <cvmkit/firmware.h>
#include <cvmkit/policy.h>
#include <cvmkit/snp.h>
#include <cvmkit/tdx.h>

int cli_policy_firmware(const struct cvm_policy *p, struct cvm_pool *pool,
			struct cvm_firmware **out, struct cvm_error *err)
{
	/* Only a policy can say tee "none" (--tee takes snp or tdx): its problem. */
	if (p->tee != CVM_TEE_SNP && p->tee != CVM_TEE_TDX)
		return cvm_error_set(err, -EINVAL, "tee \"%s\" has no launch measurement; use "
						   "cvmkit launch (or --tee snp|tdx)",
				     cvm_tee_name(p->tee));
	if (!p->firmware.path)
		return cvm_error_set(err, -EINVAL, "no firmware: give --firmware FILE or "
						   "firmware.path in the policy");
	return cvm_firmware_load_on(p->firmware.path, pool, out, err);
}

int cli_policy_measurement(const struct cli_ctx *ctx, const struct cvm_policy *p,
			   const struct cvm_firmware *fw, enum cvm_sev_mode mode,
			   struct cvm_pool *pool, struct cvm_measurement **out,
			   struct cvm_error *err)
{
	if (p->tee == CVM_TEE_TDX) {
		struct cvm_tdx_measure_opts opts = {.pool = pool};
		return cvm_tdx_measure_ex(p, fw, &opts, out, err);
	}
	/* Hashing a large kernel or initrd takes a moment: show it on a terminal. */
	struct cli_progress progress;
	cli_progress_init(&progress, ctx);
	struct cvm_progress cb = cli_progress_callback(&progress);
	struct cvm_snp_measure_opts opts = {.mode = mode, .progress = &cb, .pool = pool};
	int rc = cvm_snp_measure_ex(p, fw, &opts, out, err);
	cli_progress_end(&progress);
	return rc;
}
