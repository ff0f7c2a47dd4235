/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fixed cost: whole cvmkit processes against the minimal program (tests/bench/minimal/), a
 * process linked to libcrypto alone that does the same hashing on one thread.  Process start-up
 * is on both sides.
 */
#include "bench.h"

#include <stdio.h>
#include <unistd.h>

static void no_minimal(const struct bench_env *env, struct bench_result *r)
{
	bench_skip(r, "the minimal program is missing (%s): run through `make bench`",
		   env->minimal[0] ? env->minimal : "no --minimal given");
}

void bench_fixed_help(const struct bench_env *env, struct bench_result *r)
{
	if (!env->minimal[0] || access(env->minimal, X_OK)) {
		no_minimal(env, r);
		return;
	}
	char *cvmkit[] = {(char *)env->cli, (char *)"--help", NULL};
	char *minimal[] = {(char *)env->minimal, (char *)"--help", NULL};
	struct bench_side sides[] = {
		{.tag = "cvmkit", .label = "cvmkit --help", .argv = cvmkit},
		{.tag = "minimal", .label = "minimal OpenSSL program --help", .argv = minimal},
	};
	if (bench_compare(env, sides, 2, 0, r))
		return;
	bench_target(r, BENCH_RATIO_MAX, 0, 1, 1.5, "#17");
	bench_note(r, "start-up, dynamic linking and printing a usage text; the minimal program "
		      "links libcrypto and libc only");
}

/* cvmkit measure of a firmware-only SNP policy (1 vCPU) against the minimal program's hashing. */
static void fixed_measure(const struct bench_env *env, struct bench_result *r, const char *fw)
{
	if (!env->minimal[0] || access(env->minimal, X_OK)) {
		no_minimal(env, r);
		return;
	}
	unsigned hashed, records;
	char why[256], hashed_arg[16], records_arg[16];
	if (bench_snp_extra_pages(fw, 1, NULL, NULL, &hashed, &records, why, sizeof(why))) {
		bench_skip(r, "%s", why);
		return;
	}
	snprintf(hashed_arg, sizeof(hashed_arg), "%u", hashed);
	snprintf(records_arg, sizeof(records_arg), "%u", records);
	char *cvmkit[] = {(char *)env->cli, (char *)"measure", (char *)"--firmware", (char *)fw,
			  (char *)"--vcpus", (char *)"1", (char *)"--cpu", (char *)"EPYC-Milan",
			  NULL};
	char *minimal[] = {(char *)env->minimal, (char *)"snp", (char *)fw, hashed_arg,
			   records_arg, NULL};
	char *reference[] = {(char *)"python3", (char *)env->snp_measure, (char *)"--mode",
			     (char *)"snp", (char *)"--vcpus", (char *)"1", (char *)"--vcpu-type",
			     (char *)"EPYC-Milan", (char *)"--ovmf", (char *)fw, NULL};
	struct bench_side sides[] = {
		{.tag = "cvmkit", .label = "cvmkit measure (JSON document)", .argv = cvmkit},
		{.tag = "minimal", .label = "minimal OpenSSL program, same hashing", .argv = minimal},
		{.tag = "sev-snp-measure", .label = "sev-snp-measure", .argv = reference, .reference = true},
	};
	if (bench_compare(env, sides, env->snp_measure ? 3 : 2, 0, r))
		return;
	bench_target(r, BENCH_RATIO_MAX, 0, 1, 1.5, "#17");
	bench_note(r, "minimal program: map the file, SHA-256 of it (the document carries it), "
		      "SHA-384 of each page and the PAGE_INFO chain, %u more hashed pages and %u bare "
		      "records (the plan's VMSA and metadata pages), on one thread; start-up on both "
		      "sides",
		   hashed, records);
	if (env->snp_measure)
		bench_note(r, "sev-snp-measure takes %.2fx the cvmkit CLI's median",
			   r->sides[2].median_s / r->sides[0].median_s);
	else
		bench_note(r, "sev-snp-measure: not run (set SNP_MEASURE=path/to/sev-snp-measure.py)");
}

void bench_fixed_measure_small(const struct bench_env *env, struct bench_result *r)
{
	fixed_measure(env, r, env->small_fw);
}

void bench_fixed_measure_4m(const struct bench_env *env, struct bench_result *r)
{
	fixed_measure(env, r, env->firmware);
}
