/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmkit explain, SNP: the whole neighbourhood of a policy searched for a measurement nothing
 * in it reproduces (the worst case: every candidate measured), against one offline measure.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

#include <cvmkit/explain.h>
#include <cvmkit/snp.h>

struct explain_ctx {
	const char *firmware;
	uint64_t searched, space;
};

static void explain_policy(const struct explain_ctx *c, struct cvm_policy *p)
{
	cvm_policy_init(p);
	p->tee = CVM_TEE_SNP;
	p->cpus.count = 2;
	p->cpus.model = (char *)"EPYC-Milan";
	p->firmware.path = (char *)c->firmware;
}

static int explain_once(void *arg)
{
	struct explain_ctx *c = arg;
	struct cvm_policy p;
	explain_policy(c, &p);
	struct cvm_error err;
	cvm_error_clear(&err);
	struct cvm_firmware *fw = NULL;
	static const uint8_t nothing[48] = {0};
	struct cvm_explain_result res;
	int rc = cvm_firmware_load(c->firmware, &fw, &err);
	if (!rc)
		rc = cvm_explain_snp(&p, fw, nothing, NULL, &res, &err);
	if (rc)
		fprintf(stderr, "bench explain: %s\n", cvm_error_message(&err));
	else if (res.found || res.searched != res.space)
		rc = -1;
	else
		c->searched = res.searched, c->space = res.space;
	cvm_firmware_free(fw);
	return rc;
}

static int measure_once(void *arg)
{
	struct explain_ctx *c = arg;
	struct cvm_policy p;
	explain_policy(c, &p);
	struct cvm_error err;
	struct cvm_firmware *fw = NULL;
	struct cvm_measurement *m = NULL;
	int rc = cvm_firmware_load(c->firmware, &fw, &err);
	if (!rc)
		rc = cvm_snp_measure(&p, fw, &m, &err);
	cvm_measurement_free(m);
	cvm_firmware_free(fw);
	return rc;
}

void bench_explain_snp(const struct bench_env *env, struct bench_result *r)
{
	struct explain_ctx c = {.firmware = env->firmware};
	struct bench_side sides[] = {
		{.tag = "explain", .label = "cvmkit: cvm_explain_snp, whole space",
		 .fn = explain_once, .ctx = &c},
		{.tag = "one digest", .label = "cvmkit: cvm_snp_measure, 1 digest",
		 .fn = measure_once, .ctx = &c},
	};
	if (bench_compare(env, sides, 2, 0, r))
		return;
	bench_target(r, BENCH_MS_UNDER, 0, -1, 500, "#15");
	bench_note(r, "in-process, each loading the 4 MiB firmware; a measurement no candidate "
		      "reproduces, so all %llu candidates are measured (vCPUs 1..512 x CPU "
		      "signatures x VMM profiles x guest-feature sets)",
		   (unsigned long long)c.searched);
}
