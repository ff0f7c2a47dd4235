/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Offline measurement cases, in-process: SNP firmware-only and direct boot, the SNP matrix, TDX.
 * Floors are OpenSSL alone (floor.c) on one thread and on every online CPU.  Both sides open and
 * map their files on every run (page cache warm from the warm-up round, mappings cold: each run
 * pays its page faults), as cvmkit does.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cvmkit/firmware.h>
#include <cvmkit/pool.h>
#include <cvmkit/snp.h>
#include <cvmkit/tdx.h>
#include <cvmkit/util.h>

#include "floor.h"

#define CMDLINE "console=ttyS0"

/* The first three sides of a measure case: cvmkit, its floor on one thread and on every CPU. */
static size_t measure_sides(struct bench_side sides[3], char all_label[64], unsigned cpus,
			    const char *label, bench_fn cvmkit, void *ctx, bench_fn floor,
			    void *one, void *all)
{
	snprintf(all_label, 64, "floor, OpenSSL on %u threads", cpus);
	sides[0] = (struct bench_side){.tag = "cvmkit", .label = label, .fn = cvmkit, .ctx = ctx};
	sides[1] = (struct bench_side){.tag = "floor 1T", .label = "floor, OpenSSL on 1 thread",
				       .fn = floor, .ctx = one};
	sides[2] = (struct bench_side){.tag = "floor nT", .label = all_label, .fn = floor,
				       .ctx = all};
	return 3;
}

/* ---- SNP ------------------------------------------------------------------------------------ */

struct snp_ctx {
	const char *firmware, *kernel, *initrd; /* kernel NULL: firmware only */
	uint32_t vcpus;
	unsigned extra_hashed, extra_records;    /* the floor's pages beyond the firmware */
	unsigned threads;                        /* floor sides */
	struct cvm_pool *pool;                   /* cvmkit's page hashes (NULL: one thread) */
	uint8_t digest[48];                      /* cvmkit's last digest, or the floor's chain */
};

static void snp_policy(const struct snp_ctx *c, struct cvm_policy *p)
{
	cvm_policy_init(p);
	p->tee = CVM_TEE_SNP;
	p->cpus.count = c->vcpus;
	p->cpus.model = (char *)"EPYC-Milan";
	p->firmware.path = (char *)c->firmware;
	p->boot.kernel = (char *)c->kernel;
	p->boot.initrd = (char *)c->initrd;
	p->boot.cmdline = c->kernel ? (char *)CMDLINE : NULL;
}

int bench_snp_extra_pages(const char *firmware, uint32_t vcpus, const char *kernel,
			  const char *initrd, unsigned *hashed, unsigned *records, char *why,
			  size_t why_len)
{
	struct snp_ctx c = {.firmware = firmware, .kernel = kernel, .initrd = initrd, .vcpus = vcpus};
	struct cvm_policy p;
	snp_policy(&c, &p);
	struct cvm_error err;
	struct cvm_firmware *fw = NULL;
	struct cvm_plan plan;
	int rc = cvm_firmware_load(firmware, &fw, &err);
	if (!rc)
		rc = cvm_snp_plan_build(&p, fw, &plan, &err);
	if (rc) {
		snprintf(why, why_len, "%s", cvm_error_message(&err));
		cvm_firmware_free(fw);
		return -1;
	}
	/* A page's contents need hashing once: identical VMSAs (every AP's) and the zero tail of a
	 * NORMAL op are records only. */
	*hashed = *records = 0;
	for (size_t i = 0; i < plan.nops; i++) {
		const struct cvm_plan_op *op = &plan.ops[i];
		if (op->kind == CVM_OP_VCPU) {
			bool seen = false;
			for (size_t j = 0; j < i && !seen; j++)
				seen = plan.ops[j].kind == CVM_OP_VCPU &&
				       memcmp(plan.ops[j].vcpu, op->vcpu, sizeof(*op->vcpu)) == 0;
			*(seen ? records : hashed) += 1;
			continue;
		}
		if (op->flags & CVM_OP_FIRMWARE)
			continue;
		unsigned pages = (unsigned)(op->size / CVM_PAGE_SIZE);
		unsigned with_data = (unsigned)((op->data_len + CVM_PAGE_SIZE - 1) / CVM_PAGE_SIZE);
		if (op->snp_page_type != CVM_SNP_PAGE_NORMAL || !op->data)
			with_data = 0;
		*hashed += with_data;
		*records += pages - with_data;
	}
	cvm_plan_release(&plan);
	cvm_firmware_free(fw);
	return 0;
}

static int snp_measure_once(void *arg)
{
	struct snp_ctx *c = arg;
	struct cvm_policy p;
	snp_policy(c, &p);
	struct cvm_error err;
	struct cvm_firmware *fw = NULL;
	struct cvm_measurement *m = NULL;
	struct cvm_snp_measure_opts opts = {.pool = c->pool};
	int rc = cvm_firmware_load_on(c->firmware, c->pool, &fw, &err);
	if (!rc)
		rc = cvm_snp_measure_ex(&p, fw, &opts, &m, &err);
	if (rc)
		fprintf(stderr, "bench snp: %s\n", cvm_error_message(&err));
	else
		memcpy(c->digest, m->digest, sizeof(c->digest));
	cvm_measurement_free(m);
	cvm_firmware_free(fw);
	return rc;
}

/* The floor: SHA-256 of firmware (an input of the document), kernel and initrd; firmware pages
 * and their PAGE_INFO chain; the plan's other pages. */
static int snp_floor_once(void *arg)
{
	struct snp_ctx *c = arg;
	struct floor_file fw = {0}, kernel = {0}, initrd = {0};
	int rc = floor_map(c->firmware, &fw);
	if (!rc && c->kernel)
		rc = floor_map(c->kernel, &kernel);
	if (!rc && c->initrd)
		rc = floor_map(c->initrd, &initrd);
	struct floor_work w = {.pages = fw.data, .npages = fw.size / CVM_PAGE_SIZE,
			       .extra_hashed = c->extra_hashed, .extra_records = c->extra_records};
	w.whole[w.nwhole++] = (struct floor_whole){fw.data, fw.size, false};
	if (c->kernel)
		w.whole[w.nwhole++] = (struct floor_whole){kernel.data, kernel.size, false};
	if (c->initrd)
		w.whole[w.nwhole++] = (struct floor_whole){initrd.data, initrd.size, false};
	if (!rc)
		rc = floor_run(&w, c->threads, c->digest);
	floor_unmap(&fw);
	floor_unmap(&kernel);
	floor_unmap(&initrd);
	return rc;
}

static char *snp_measure_argv[32];
static char *snp_reference_argv[32];
static char snp_vcpus_arg[16];

/* cvmkit's CLI and sev-snp-measure on the same inputs (peers are processes: compare processes). */
static void snp_cli_argvs(const struct bench_env *env, const struct snp_ctx *c)
{
	snprintf(snp_vcpus_arg, sizeof(snp_vcpus_arg), "%u", c->vcpus);
	size_t n = 0, m = 0;
	char **a = snp_measure_argv, **b = snp_reference_argv;
	a[n++] = (char *)env->cli;
	a[n++] = (char *)"measure";
	b[m++] = (char *)"python3";
	b[m++] = (char *)env->snp_measure;
	b[m++] = (char *)"--mode";
	b[m++] = (char *)"snp";
	a[n++] = b[m++] = (char *)"--vcpus";
	a[n++] = b[m++] = snp_vcpus_arg;
	a[n++] = (char *)"--cpu";
	b[m++] = (char *)"--vcpu-type";
	a[n++] = b[m++] = (char *)"EPYC-Milan";
	a[n++] = (char *)"--firmware";
	b[m++] = (char *)"--ovmf";
	a[n++] = b[m++] = (char *)c->firmware;
	if (c->kernel) {
		a[n++] = b[m++] = (char *)"--kernel";
		a[n++] = b[m++] = (char *)c->kernel;
		a[n++] = b[m++] = (char *)"--initrd";
		a[n++] = b[m++] = (char *)c->initrd;
		a[n++] = b[m++] = (char *)"--append";
		a[n++] = b[m++] = (char *)CMDLINE;
	}
	a[n] = b[m] = NULL;
}

static size_t fw_pages(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (size_t)st.st_size / CVM_PAGE_SIZE : 0;
}

enum { WITH_PEER = 1, WITH_CLI = 2, WITH_ONE_THREAD = 4 };

/*
 * cvmkit (its page hashes on every CPU, as the CLI's default), the floor on one thread and on
 * every CPU; WITH_CLI adds the cvmkit CLI on the same inputs (side 3), WITH_PEER adds it and
 * sev-snp-measure (side 4) when SNP_MEASURE is set, WITH_ONE_THREAD cvmkit on one thread
 * (side 3).
 */
static void snp_case(const struct bench_env *env, struct bench_result *r, struct snp_ctx *c,
		     int reps, int with)
{
	char why[256];
	if (bench_snp_extra_pages(c->firmware, c->vcpus, c->kernel, c->initrd, &c->extra_hashed,
				  &c->extra_records, why, sizeof(why))) {
		bench_skip(r, "%s", why);
		return;
	}
	struct snp_ctx one = *c, all = *c, serial = *c;
	one.threads = 1;
	all.threads = env->cpus;
	char all_label[64], label[64];
	if (cvm_pool_new(env->cpus, &c->pool, NULL)) {
		bench_skip(r, "no memory for a pool");
		return;
	}
	snprintf(label, sizeof(label), "cvmkit: firmware load + cvm_snp_measure, %u threads",
		 env->cpus);
	struct bench_side sides[5];
	size_t n = measure_sides(sides, all_label, env->cpus, label, snp_measure_once, c,
				 snp_floor_once, &one, &all);
	if (with & WITH_ONE_THREAD)
		sides[n++] = (struct bench_side){.tag = "cvmkit 1T",
						 .label = "the same on one thread (--threads 1)",
						 .fn = snp_measure_once, .ctx = &serial};
	bool with_peer = (with & WITH_PEER) && env->snp_measure;
	snp_cli_argvs(env, c);
	if (with_peer || (with & WITH_CLI))
		sides[n++] = (struct bench_side){.tag = "CLI", .label = "cvmkit measure (CLI)",
						 .argv = snp_measure_argv};
	if (with_peer)
		sides[n++] = (struct bench_side){.tag = "sev-snp-measure",
						 .label = "sev-snp-measure (CLI)",
						 .argv = snp_reference_argv, .reference = true};
	int rc = bench_compare(env, sides, n, reps, r);
	cvm_pool_free(c->pool);
	c->pool = NULL;
	if (rc)
		return;
	if ((with & WITH_ONE_THREAD) && memcmp(serial.digest, c->digest, 48) != 0) {
		bench_skip(r, "cvmkit's digest differs between 1 and %u threads", env->cpus);
		return;
	}
	if (memcmp(one.digest, all.digest, 48) != 0) {
		bench_skip(r, "the floor's chain differs between 1 and %u threads", env->cpus);
		return;
	}
	bench_note(r, "floor: SHA-256 of the firmware (a document input)%s, SHA-384 of its %zu pages "
		      "and their PAGE_INFO chain, %u more hashed pages and %u bare records (from the "
		      "plan); both sides open and map the files on every run (page cache warm, "
		      "mappings cold)",
		   c->kernel ? ", kernel and initrd" : "", fw_pages(c->firmware), c->extra_hashed,
		   c->extra_records);
	if (with_peer)
		bench_note(r, "sev-snp-measure takes %.2fx the cvmkit CLI's median",
			   r->sides[4].median_s / r->sides[3].median_s);
	else if (with & WITH_PEER)
		bench_note(r, "sev-snp-measure: not run (set SNP_MEASURE=path/to/sev-snp-measure.py)");
}

void bench_snp_firmware_only(const struct bench_env *env, struct bench_result *r)
{
	struct snp_ctx c = {.firmware = env->firmware, .vcpus = 1};
	snp_case(env, r, &c, 0, WITH_ONE_THREAD);
	bench_target(r, BENCH_RATIO_MAX, 0, 1, 0.70, "#17");
	if (env->cpus < 2)
		bench_note(r, "one CPU online: the 0.70 target assumes two cores");
}

void bench_snp_measure(const struct bench_env *env, struct bench_result *r)
{
	struct snp_ctx c = {.firmware = env->firmware, .kernel = env->kernel,
			    .initrd = env->initrd, .vcpus = 4};
	snp_case(env, r, &c, 0, WITH_PEER);
	bench_target(r, BENCH_RATIO_MAX, 0, 1, 1.25, "#3");
}

void bench_snp_measure_512_vcpus(const struct bench_env *env, struct bench_result *r)
{
	struct snp_ctx c = {.firmware = env->firmware, .kernel = env->kernel,
			    .initrd = env->initrd, .vcpus = 512};
	snp_case(env, r, &c, 0, 0);
	bench_target(r, BENCH_RATIO_MAX, 0, 1, 1.25, "#3");
}

void bench_snp_measure_200m_initrd(const struct bench_env *env, struct bench_result *r)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/initrd-200m.img", env->dir);
	if (bench_random_file(path, 200u << 20)) {
		bench_skip(r, "cannot write %s", path);
		return;
	}
	struct snp_ctx c = {.firmware = env->firmware, .kernel = env->kernel, .initrd = path,
			    .vcpus = 4};
	snp_case(env, r, &c, env->heavy_reps, 0);
	bench_target(r, BENCH_RATIO_MAX, 0, 1, 1.25, "#3");
	unlink(path);
}

void bench_big_initrd_path(const struct bench_env *env, char *out, size_t len)
{
	snprintf(out, len, "%s/initrd-1g-sparse.img", env->dir);
}

int bench_big_initrd_create(const struct bench_env *env, struct bench_result *r, char *out,
			    size_t len)
{
	bench_big_initrd_path(env, out, len);
	if (bench_sparse_file(out, 1ull << 30) == 0)
		return 0;
	bench_skip(r, "cannot create %s", out);
	return -1;
}

static const char big_note[] = "the 1 GiB initrd is a sparse file (its pages come from the page "
			       "cache as zeros); RSS target on the CLI (its own peak, wait4); "
			       "in-process peaks include the bench process";

void bench_big_snp_measure(const struct bench_env *env, struct bench_result *r)
{
	char initrd[400];
	if (bench_big_initrd_create(env, r, initrd, sizeof(initrd)))
		return;
	struct snp_ctx c = {.firmware = env->firmware, .kernel = env->kernel, .initrd = initrd,
			    .vcpus = 4};
	snp_case(env, r, &c, env->heavy_reps, WITH_CLI);
	bench_target(r, BENCH_RSS_UNDER_MIB, 3, -1, 64, "#17");
	bench_target(r, BENCH_RATIO_MAX, 0, 1, 1.25, "#3");
	bench_note(r, "%s", big_note);
	unlink(initrd);
}

/* ---- SNP matrix --------------------------------------------------------------------------- */

static const char *const matrix_models[] = {"EPYC", "EPYC-Rome", "EPYC-Milan", "EPYC-Genoa",
					    "EPYC-Turin"};
#define MATRIX_COUNTS 64

struct matrix_ctx {
	struct snp_ctx one;
	uint32_t counts[MATRIX_COUNTS];
	uint8_t milan_1[48]; /* the (1 vCPU, EPYC-Milan) row of the last run */
};

static int matrix_once(void *arg)
{
	struct matrix_ctx *c = arg;
	struct cvm_policy p;
	snp_policy(&c->one, &p);
	struct cvm_error err;
	struct cvm_firmware *fw = NULL;
	struct cvm_snp_matrix_row *rows = NULL;
	size_t nrows = 0;
	struct cvm_snp_matrix_opts opts = {.pool = c->one.pool};
	int rc = cvm_firmware_load(c->one.firmware, &fw, &err);
	if (!rc)
		rc = cvm_snp_measure_matrix_ex(&p, fw, &opts, c->counts, MATRIX_COUNTS,
					       matrix_models, CVM_ARRAY_SIZE(matrix_models), &rows,
					       &nrows, &err);
	if (rc)
		fprintf(stderr, "bench matrix: %s\n", cvm_error_message(&err));
	else if (nrows == MATRIX_COUNTS * CVM_ARRAY_SIZE(matrix_models))
		memcpy(c->milan_1, rows[2 * MATRIX_COUNTS].digest, 48);
	free(rows);
	cvm_firmware_free(fw);
	return rc;
}

void bench_snp_matrix(const struct bench_env *env, struct bench_result *r)
{
	struct matrix_ctx c = {.one = {.firmware = env->firmware, .vcpus = 1}};
	for (uint32_t i = 0; i < MATRIX_COUNTS; i++)
		c.counts[i] = i + 1;
	struct bench_side sides[] = {
		{.tag = "matrix", .label = "cvmkit: cvm_snp_measure_matrix, 320 digests",
		 .fn = matrix_once, .ctx = &c},
		{.tag = "one digest", .label = "cvmkit: cvm_snp_measure, 1 digest",
		 .fn = snp_measure_once, .ctx = &c.one},
	};
	if (cvm_pool_new(env->cpus, &c.one.pool, NULL)) {
		bench_skip(r, "no memory for a pool");
		return;
	}
	int rc = bench_compare(env, sides, 2, 0, r);
	cvm_pool_free(c.one.pool);
	if (rc)
		return;
	bench_note(r, "both in-process (no process start-up on either side), each loading the "
		      "firmware, page hashes on every CPU; the ratio is what 319 more digests cost over one; the matrix's "
		      "(1, EPYC-Milan) digest %s the single one",
		   memcmp(c.milan_1, c.one.digest, 48) == 0 ? "equals" : "DIFFERS FROM");
}

static int matrix_reference_once(const struct bench_env *env)
{
	for (size_t m = 0; m < CVM_ARRAY_SIZE(matrix_models); m++) {
		for (int v = 1; v <= MATRIX_COUNTS; v++) {
			char vcpus[16];
			snprintf(vcpus, sizeof(vcpus), "%d", v);
			char *argv[] = {(char *)"python3", (char *)env->snp_measure, (char *)"--mode",
					(char *)"snp", (char *)"--vcpus", vcpus, (char *)"--vcpu-type",
					(char *)matrix_models[m], (char *)"--ovmf",
					(char *)env->firmware, NULL};
			if (bench_run_command(argv))
				return -1;
		}
	}
	return 0;
}

void bench_snp_matrix_cli(const struct bench_env *env, struct bench_result *r)
{
	char *matrix[] = {(char *)env->cli, (char *)"measure", (char *)"--firmware",
			  (char *)env->firmware, (char *)"--vcpus", (char *)"1-64", (char *)"--cpu",
			  (char *)"EPYC,EPYC-Rome,EPYC-Milan,EPYC-Genoa,EPYC-Turin",
			  (char *)"--format", (char *)"hex", NULL};
	char *single[] = {(char *)env->cli, (char *)"measure", (char *)"--firmware",
			  (char *)env->firmware, (char *)"--vcpus", (char *)"1", (char *)"--cpu",
			  (char *)"EPYC-Milan", (char *)"--format", (char *)"hex", NULL};
	struct bench_side sides[] = {
		{.tag = "matrix CLI", .label = "cvmkit measure --vcpus 1-64 --cpu (5 models)", .argv = matrix},
		{.tag = "one-digest CLI", .label = "cvmkit measure --vcpus 1 --cpu EPYC-Milan", .argv = single},
	};
	if (bench_compare(env, sides, 2, 0, r))
		return;
	bench_target(r, BENCH_MS_UNDER, 0, -1, 100, "#3");
	bench_note(r, "whole processes on both sides (start-up symmetric)");
	if (env->snp_measure) {
		/* 320 interpreter starts: one timed run, not interleaved. */
		double t0 = bench_now();
		int rc = matrix_reference_once(env);
		double secs = bench_now() - t0;
		if (rc == 0)
			bench_note(r, "sev-snp-measure, 320 invocations, one run: %.0f ms (%.0fx)",
				   secs * 1e3, secs / r->sides[0].median_s);
		else
			bench_note(r, "sev-snp-measure at %s failed to run", env->snp_measure);
	}
}

/* ---- TDX ------------------------------------------------------------------------------------ */

struct tdx_ctx {
	const char *firmware, *kernel, *initrd;
	uint8_t *stream;   /* the MEM.PAGE.ADD / MR.EXTEND record stream's length of bytes */
	size_t stream_len;
	unsigned threads;       /* floor sides */
	struct cvm_pool *pool;  /* cvmkit's (NULL: one thread) */
};

static int tdx_measure_once(void *arg)
{
	const struct tdx_ctx *c = arg;
	struct cvm_policy p;
	cvm_policy_init(&p);
	p.tee = CVM_TEE_TDX;
	p.firmware.path = (char *)c->firmware;
	p.boot.kernel = (char *)c->kernel;
	p.boot.initrd = (char *)c->initrd;
	p.boot.cmdline = c->kernel ? (char *)CMDLINE : NULL;
	struct cvm_error err;
	struct cvm_firmware *fw = NULL;
	struct cvm_measurement *m = NULL;
	struct cvm_tdx_measure_opts opts = {.pool = c->pool};
	int rc = cvm_firmware_load_on(c->firmware, c->pool, &fw, &err);
	if (!rc)
		rc = cvm_tdx_measure_ex(&p, fw, &opts, &m, &err);
	if (rc)
		fprintf(stderr, "bench tdx: %s\n", cvm_error_message(&err));
	cvm_measurement_free(m);
	cvm_firmware_free(fw);
	return rc;
}

/* SHA-256 of each file (document inputs), SHA-384 of the record stream (MRTD) and of kernel and
 * initrd (RTMR1/RTMR2 events). */
static int tdx_floor_once(void *arg)
{
	const struct tdx_ctx *c = arg;
	struct floor_file f[3] = {{0}};
	const char *paths[3] = {c->firmware, c->kernel, c->initrd};
	struct floor_work w = {0};
	int rc = 0;
	w.whole[w.nwhole++] = (struct floor_whole){c->stream, c->stream_len, true};
	for (size_t i = 0; !rc && i < 3 && paths[i]; i++) {
		rc = floor_map(paths[i], &f[i]);
		w.whole[w.nwhole++] = (struct floor_whole){f[i].data, f[i].size, false};
		if (i > 0)
			w.whole[w.nwhole++] = (struct floor_whole){f[i].data, f[i].size, true};
	}
	uint8_t d[48];
	if (!rc)
		rc = floor_run(&w, c->threads, d);
	for (size_t i = 0; i < 3; i++)
		floor_unmap(&f[i]);
	return rc;
}

static char *tdx_reference_argv[8];
static char *tdx_cli_argv[16];

/* The record stream's length: one 128-byte record per PAGE.ADD, three per 256-byte MR.EXTEND. */
static int tdx_stream_len(const char *firmware, size_t *len, char *why, size_t why_len)
{
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	if (cvm_firmware_load(firmware, &fw, &err)) {
		snprintf(why, why_len, "%s", cvm_error_message(&err));
		return -1;
	}
	*len = 0;
	for (size_t i = 0; i < fw->ntdx; i++) {
		const struct cvm_tdvf_section *s = &fw->tdx_sections[i];
		*len += s->mem_size / 4096 * 128;
		if (s->attributes & CVM_TDVF_ATTR_MR_EXTEND)
			*len += s->mem_size / 256 * 384;
	}
	cvm_firmware_free(fw);
	return 0;
}

static void tdx_cli_argv_set(const struct bench_env *env, const char *kernel, const char *initrd)
{
	char **a = tdx_cli_argv;
	size_t n = 0;
	a[n++] = (char *)env->cli;
	a[n++] = (char *)"measure";
	a[n++] = (char *)"--tee";
	a[n++] = (char *)"tdx";
	a[n++] = (char *)"--firmware";
	a[n++] = (char *)env->ovmf;
	if (kernel) {
		a[n++] = (char *)"--kernel";
		a[n++] = (char *)kernel;
		a[n++] = (char *)"--initrd";
		a[n++] = (char *)initrd;
		a[n++] = (char *)"--append";
		a[n++] = (char *)CMDLINE;
	}
	a[n] = NULL;
}

/*
 * cvmkit, the floor on one thread and on every CPU; WITH_CLI adds the cvmkit CLI (side 3),
 * WITH_PEER adds it and the TDX reference (side 4) when TDX_REFERENCE is set.
 */
static void tdx_case(const struct bench_env *env, struct bench_result *r, const char *kernel,
		     const char *initrd, int reps, int with)
{
	char why[256];
	struct tdx_ctx c = {.firmware = env->ovmf, .kernel = kernel, .initrd = initrd};
	if (!env->ovmf) {
		bench_skip(r, "Debian's /usr/share/ovmf/OVMF.fd is not installed");
		return;
	}
	if (tdx_stream_len(env->ovmf, &c.stream_len, why, sizeof(why))) {
		bench_skip(r, "%s", why);
		return;
	}
	c.stream = calloc(1, c.stream_len ? c.stream_len : 1);
	struct tdx_ctx one = c, all = c;
	one.threads = 1;
	all.threads = env->cpus;
	if (cvm_pool_new(env->cpus, &c.pool, NULL)) {
		free(c.stream);
		bench_skip(r, "no memory for a pool");
		return;
	}
	char all_label[64], label[80];
	snprintf(label, sizeof(label), "cvmkit: firmware load + cvm_tdx_measure, %u threads",
		 env->cpus);
	struct bench_side sides[5];
	size_t n = measure_sides(sides, all_label, env->cpus, label, tdx_measure_once, &c,
				 tdx_floor_once, &one, &all);
	bool with_peer = (with & WITH_PEER) && env->tdx_reference;
	tdx_cli_argv_set(env, kernel, initrd);
	if (with_peer || (with & WITH_CLI))
		sides[n++] = (struct bench_side){.tag = "CLI", .label = "cvmkit measure --tee tdx (CLI)",
						 .argv = tdx_cli_argv};
	if (with_peer) {
		tdx_reference_argv[0] = (char *)"/bin/sh";
		tdx_reference_argv[1] = (char *)"-c";
		tdx_reference_argv[2] = (char *)"exec $0 \"$1\"";
		tdx_reference_argv[3] = (char *)env->tdx_reference;
		tdx_reference_argv[4] = (char *)env->ovmf;
		tdx_reference_argv[5] = NULL;
		/* $0 unquoted on purpose: TDX_REFERENCE is a command line ("python3 mrtd.py") */
		sides[n++] = (struct bench_side){.tag = "TDX reference",
						 .label = "TDX reference ($TDX_REFERENCE)",
						 .argv = tdx_reference_argv, .reference = true};
	}
	int rc = !c.stream || bench_compare(env, sides, n, reps, r);
	cvm_pool_free(c.pool);
	if (rc) {
		free(c.stream);
		return;
	}
	bench_target(r, BENCH_RATIO_MAX, 0, 1, 1.15, "#17");
	bench_note(r, "floor: SHA-384 over the %zu-byte record stream (prebuilt in memory: a lower "
		      "bound) and SHA-256 of the firmware%s; files opened and mapped on every run "
		      "on both sides",
		   c.stream_len,
		   kernel ? ", plus SHA-256 (document) and SHA-384 (RTMR events) of kernel and initrd"
			  : "");
	if (with_peer)
		bench_note(r, "the TDX reference takes %.2fx the cvmkit CLI's median",
			   r->sides[4].median_s / r->sides[3].median_s);
	else if (with & WITH_PEER)
		bench_note(r, "TDX reference: not run (set TDX_REFERENCE='python3 path/to/mrtd.py'; "
			      "the firmware path is appended)");
	free(c.stream);
}

void bench_tdx_measure(const struct bench_env *env, struct bench_result *r)
{
	tdx_case(env, r, NULL, NULL, 0, WITH_PEER);
}

void bench_tdx_measure_direct(const struct bench_env *env, struct bench_result *r)
{
	tdx_case(env, r, env->kernel, env->initrd, 0, 0);
}

void bench_big_tdx_measure(const struct bench_env *env, struct bench_result *r)
{
	char initrd[400];
	if (bench_big_initrd_create(env, r, initrd, sizeof(initrd)))
		return;
	tdx_case(env, r, env->kernel, initrd, env->heavy_reps, WITH_CLI);
	bench_target(r, BENCH_RSS_UNDER_MIB, 3, -1, 64, "#17");
	bench_note(r, "%s", big_note);
	unlink(initrd);
}
