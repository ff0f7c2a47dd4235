/* SPDX-License-Identifier: Apache-2.0 */
/* Measurement cases: SNP end to end and matrix, TDX MRTD; floors are OpenSSL alone. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cvmkit/firmware.h>
#include <cvmkit/snp.h>
#include <cvmkit/tdx.h>
#include <cvmkit/util.h>

struct snp_ctx {
	const struct bench_env *env;
	const char *initrd_path;
	uint32_t vcpus;
	struct cvm_file fw, kernel, initrd; /* for the floor */
};

static int snp_measure_once(void *arg)
{
	struct snp_ctx *c = arg;
	struct cvm_policy p;
	cvm_policy_init(&p);
	p.tee = CVM_TEE_SNP;
	p.cpus.count = c->vcpus;
	p.cpus.model = (char *)"EPYC-Milan";
	p.firmware.path = (char *)c->env->firmware;
	p.boot.kernel = (char *)c->env->kernel;
	p.boot.initrd = (char *)c->initrd_path;
	p.boot.cmdline = (char *)"console=ttyS0";
	struct cvm_error err;
	struct cvm_firmware *fw = NULL;
	struct cvm_measurement *m = NULL;
	int rc = cvm_firmware_load(c->env->firmware, &fw, &err);
	if (!rc)
		rc = cvm_snp_measure(&p, fw, &m, &err);
	if (rc)
		fprintf(stderr, "bench snp: %s\n", cvm_error_message(&err));
	cvm_measurement_free(m);
	cvm_firmware_free(fw);
	return rc;
}

static int digest(const EVP_MD *md, const uint8_t *p, size_t n)
{
	uint8_t out[EVP_MAX_MD_SIZE];
	unsigned int len;
	return EVP_Digest(p, n, out, &len, md, NULL) == 1 ? 0 : -1;
}

/* The bytes cvmkit must hash at the least: SHA-256 of kernel and initrd, SHA-384 of firmware. */
static int snp_floor_once(void *arg)
{
	struct snp_ctx *c = arg;
	return digest(EVP_sha256(), c->kernel.data, c->kernel.size) |
	       digest(EVP_sha256(), c->initrd.data, c->initrd.size) |
	       digest(EVP_sha384(), c->fw.data, c->fw.size);
}

static int snp_reference_once(void *arg)
{
	const struct snp_ctx *c = arg;
	char *argv[] = {(char *)"python3", (char *)c->env->snp_measure, (char *)"--mode", (char *)"snp",
			(char *)"--vcpus", (char *)"4", (char *)"--vcpu-type", (char *)"EPYC-Milan",
			(char *)"--ovmf", (char *)c->env->firmware, (char *)"--kernel",
			(char *)c->env->kernel, (char *)"--initrd", (char *)c->initrd_path,
			(char *)"--append", (char *)"console=ttyS0", NULL};
	return bench_run_command(argv);
}

static void snp_measure_case(const struct bench_env *env, struct bench_result *r,
			     const char *initrd, uint32_t vcpus, bool reference)
{
	struct snp_ctx c = {.env = env, .initrd_path = initrd, .vcpus = vcpus};
	struct cvm_error err;
	if (cvm_file_open(env->firmware, &c.fw, &err) || cvm_file_open(env->kernel, &c.kernel, &err) ||
	    cvm_file_open(initrd, &c.initrd, &err)) {
		r->skipped = true;
		bench_note(r, "%s", cvm_error_message(&err));
		return;
	}
	r->target = 1.25;
	r->floor_s = bench_median(snp_floor_once, &c, env->reps);
	r->cvmkit_s = bench_median(snp_measure_once, &c, env->reps);
	if (r->cvmkit_s < 0) {
		r->skipped = true;
		bench_note(r, "cvm_snp_measure failed");
	}
	if (!reference) {
		bench_note(r, "same floor as above");
	} else if (env->snp_measure) {
		bench_note(r, "floor: one thread of OpenSSL SHA-256 over kernel+initrd and SHA-384 over "
			      "the firmware, files already mapped; cvmkit: load firmware, plan, hash "
			      "(threads), chain");
		double ref = bench_median(snp_reference_once, &c, env->reps < 3 ? env->reps : 3);
		if (ref > 0)
			r->reference_s = ref;
		else
			bench_note(r, "sev-snp-measure at %s failed to run", env->snp_measure);
	} else {
		bench_note(r, "floor: one thread of OpenSSL SHA-256 over kernel+initrd and SHA-384 over "
			      "the firmware, files already mapped; cvmkit: load firmware, plan, hash "
			      "(threads), chain; sev-snp-measure: not run (set "
			      "SNP_MEASURE=path/to/sev-snp-measure.py)");
	}
	cvm_file_close(&c.fw);
	cvm_file_close(&c.kernel);
	cvm_file_close(&c.initrd);
}

void bench_snp_measure(const struct bench_env *env, struct bench_result *r)
{
	snp_measure_case(env, r, env->initrd, 4, true);
}

void bench_snp_measure_512_vcpus(const struct bench_env *env, struct bench_result *r)
{
	snp_measure_case(env, r, env->initrd, 512, false);
}

void bench_snp_measure_200m_initrd(const struct bench_env *env, struct bench_result *r)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/initrd-200m.img", env->dir);
	if (bench_random_file(path, 200u << 20)) {
		r->skipped = true;
		bench_note(r, "cannot write %s", path);
		return;
	}
	snp_measure_case(env, r, path, 4, false);
	unlink(path);
}

static int matrix_once(void *arg)
{
	const struct bench_env *env = arg;
	char *argv[] = {(char *)env->cli, (char *)"measure", (char *)"--firmware", (char *)env->firmware,
			(char *)"--vcpus", (char *)"1-64", (char *)"--cpu",
			(char *)"EPYC,EPYC-Rome,EPYC-Milan,EPYC-Genoa,EPYC-Turin", (char *)"--format",
			(char *)"hex", NULL};
	return bench_run_command(argv);
}

static int single_once(void *arg)
{
	const struct bench_env *env = arg;
	char *argv[] = {(char *)env->cli, (char *)"measure", (char *)"--firmware", (char *)env->firmware,
			(char *)"--vcpus", (char *)"1", (char *)"--cpu", (char *)"EPYC-Milan",
			(char *)"--format", (char *)"hex", NULL};
	return bench_run_command(argv);
}

static int matrix_reference_once(void *arg)
{
	const struct bench_env *env = arg;
	static const char *const models[] = {"EPYC", "EPYC-Rome", "EPYC-Milan", "EPYC-Genoa",
					     "EPYC-Turin"};
	for (size_t m = 0; m < CVM_ARRAY_SIZE(models); m++) {
		for (int v = 1; v <= 64; v++) {
			char vcpus[8];
			snprintf(vcpus, sizeof(vcpus), "%d", v);
			char *argv[] = {(char *)"python3", (char *)env->snp_measure, (char *)"--mode",
					(char *)"snp", (char *)"--vcpus", vcpus, (char *)"--vcpu-type",
					(char *)models[m], (char *)"--ovmf", (char *)env->firmware, NULL};
			if (bench_run_command(argv))
				return -1;
		}
	}
	return 0;
}

void bench_snp_matrix(const struct bench_env *env, struct bench_result *r)
{
	r->abs_target_s = 0.100;
	r->floor_s = bench_median(single_once, (void *)env, env->reps);
	r->cvmkit_s = bench_median(matrix_once, (void *)env, env->reps);
	if (r->cvmkit_s < 0 || r->floor_s < 0) {
		r->skipped = true;
		bench_note(r, "'%s measure --vcpus 1-64 --cpu ...' failed", env->cli);
		return;
	}
	bench_note(r, "320 digests in one process; floor: one digest (1 vCPU, 1 model) by the same CLI, "
		      "so the ratio is what 319 more digests cost");
	if (env->snp_measure) {
		/* 320 interpreter starts: one timed run, no warm-up. */
		double t0 = bench_now();
		if (matrix_reference_once((void *)env) == 0)
			r->reference_s = bench_now() - t0;
	}
}

struct tdx_ctx {
	struct cvm_firmware *fw;
	struct cvm_policy policy;
	uint8_t *records;
	size_t nbytes;
};

static int tdx_mrtd_once(void *arg)
{
	struct tdx_ctx *c = arg;
	struct cvm_error err;
	struct cvm_plan plan;
	struct cvm_tdx_model *model = cvm_tdx_model_new();
	int rc = model ? cvm_tdx_plan_build(&c->policy, c->fw, &plan, &err) : -1;
	if (!rc) {
		struct cvm_backend b = {cvm_tdx_model_ops(), model};
		rc = cvm_plan_execute(&plan, &b, 1, &err);
		cvm_plan_release(&plan);
	}
	if (rc)
		fprintf(stderr, "bench tdx: %s\n", cvm_error_message(&err));
	cvm_tdx_model_free(model);
	return rc;
}

static int tdx_floor_once(void *arg)
{
	struct tdx_ctx *c = arg;
	return digest(EVP_sha384(), c->records, c->nbytes);
}

void bench_tdx_mrtd(const struct bench_env *env, struct bench_result *r)
{
	struct tdx_ctx c = {0};
	struct cvm_error err;
	if (!env->ovmf) {
		r->skipped = true;
		bench_note(r, "Debian's /usr/share/ovmf/OVMF.fd is not installed");
		return;
	}
	if (cvm_firmware_load(env->ovmf, &c.fw, &err)) {
		r->skipped = true;
		bench_note(r, "%s", cvm_error_message(&err));
		return;
	}
	cvm_policy_init(&c.policy);
	c.policy.tee = CVM_TEE_TDX;
	/* The record stream: one 128-byte record per PAGE.ADD, three per 256-byte MR.EXTEND. */
	for (size_t i = 0; i < c.fw->ntdx; i++) {
		const struct cvm_tdvf_section *s = &c.fw->tdx_sections[i];
		c.nbytes += s->mem_size / 4096 * 128;
		if (s->attributes & CVM_TDVF_ATTR_MR_EXTEND)
			c.nbytes += s->mem_size / 256 * 384;
	}
	c.records = calloc(1, c.nbytes ? c.nbytes : 1);
	r->target = 1.2;
	r->floor_s = bench_median(tdx_floor_once, &c, env->reps * 3);
	r->cvmkit_s = bench_median(tdx_mrtd_once, &c, env->reps * 3);
	if (r->cvmkit_s < 0) {
		r->skipped = true;
		bench_note(r, "TDX plan/model failed");
	}
	bench_note(r, "floor: one SHA-384 over the %zu-byte record stream; cvmkit: plan (incl. TD HOB) "
		      "and MRTD model, firmware already mapped", c.nbytes);
	free(c.records);
	cvm_firmware_free(c.fw);
}
