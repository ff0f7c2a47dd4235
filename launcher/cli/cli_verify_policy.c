/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmkit verify --policy FILE: the VM policy drives the verifier as it drives measure and
 * launch.  The measurement it produces is computed by the code `cvmkit measure` runs, and its
 * "verify" section gives the rules; --allow relaxes a secure default by name.
 */
#include "launcher/cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/emit.h>
#include <cvmkit/firmware.h>
#include <cvmkit/policy.h>

int cli_verify_allow_parse(const char *list, uint32_t *bits)
{
	char *copy = strdup(list), *save = NULL;
	if (!copy)
		return -ENOMEM;
	uint32_t add = 0;
	int rc = 0;
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		uint32_t bit = cvm_policy_verify_allow_parse(name);
		if (!bit)
			rc = -EINVAL;
		add |= bit;
	}
	free(copy);
	if (rc || !add)
		return -EINVAL;
	*bits |= add;
	return 0;
}

int cli_verify_policy(const struct cli_ctx *ctx, const char *path, uint32_t allow,
		      struct cvm_measurement **expect, struct cvm_verify_rules *rules,
		      struct cvm_error *err)
{
	memset(rules, 0, sizeof(*rules));
	rules->allow = allow;
	if (!path)
		return 0;
	struct cvm_policy *p = cli_load_policy("verify", path);
	if (!p)
		return cvm_error_set(err, -EINVAL, "--policy %s: not a valid VM policy (its "
						   "problems are listed above)", path);
	*rules = p->verify;
	rules->allow |= allow;
	int rc = 0;
	if (expect) {
		struct cvm_firmware *fw = NULL;
		rc = cli_policy_firmware(p, NULL, &fw, err);
		if (rc == 0)
			rc = cli_policy_measurement(ctx, p, fw, CVM_SEV_MODE_SNP, NULL, expect, err);
		if (rc)
			cvm_error_wrap(err, "--policy %s: the expected measurement", path);
		cvm_firmware_free(fw);
	}
	cvm_policy_free(p);
	return rc;
}
