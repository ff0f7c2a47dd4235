/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark harness: every case measures cvmkit and its floor (the same work done by the bare
 * primitive: OpenSSL hashing, raw ioctls, raw signature verifies) side by side in one run, so a
 * noisy machine still gives true ratios.  Each case runs in its own child process so that its
 * memory high-water mark (getrusage ru_maxrss) is its own.
 */
#ifndef CVMKIT_BENCH_H
#define CVMKIT_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bench_env {
	char dir[256];        /* temporary folder with the generated inputs */
	char firmware[300];   /* 4 MiB image: random pages + an AmdSev metadata page at the end */
	char kernel[300];     /* 10 MiB random */
	char initrd[300];     /* 50 MiB random */
	char cli[512];        /* the cvmkit binary */
	const char *ovmf;     /* Debian's unified OVMF.fd, or NULL */
	const char *shared;   /* ../shared */
	const char *snp_measure; /* $SNP_MEASURE: sev-snp-measure.py, or NULL */
	int reps;
};

struct bench_result {
	bool skipped;
	double cvmkit_s;      /* median seconds */
	double floor_s;       /* median seconds of the floor */
	double reference_s;   /* sev-snp-measure (0: not run) */
	double target;        /* ratio target, 0: none */
	double abs_target_s;  /* absolute target in seconds, 0: none */
	long maxrss_kb;
	char unit_note[160];  /* what one iteration is ("1 digest", "200 reports") */
	char note[512];       /* floor definition, per-phase breakdown, skip reason */
};

typedef int (*bench_fn)(void *ctx);

/* Median wall time of reps runs of fn (after one warm-up run); negative on failure. */
double bench_median(bench_fn fn, void *ctx, int reps);
double bench_now(void);
void bench_note(struct bench_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Cases */
void bench_snp_measure(const struct bench_env *env, struct bench_result *r);
void bench_snp_measure_200m_initrd(const struct bench_env *env, struct bench_result *r);
void bench_snp_measure_512_vcpus(const struct bench_env *env, struct bench_result *r);
void bench_snp_matrix(const struct bench_env *env, struct bench_result *r);
void bench_tdx_mrtd(const struct bench_env *env, struct bench_result *r);
void bench_launch_64m(const struct bench_env *env, struct bench_result *r);
void bench_launch_1g(const struct bench_env *env, struct bench_result *r);
void bench_launch_4g(const struct bench_env *env, struct bench_result *r);
void bench_launch_16g(const struct bench_env *env, struct bench_result *r);
void bench_verify_snp(const struct bench_env *env, struct bench_result *r);
void bench_verify_tdx(const struct bench_env *env, struct bench_result *r);

/* Helpers for cases */
int bench_run_command(char *const argv[]); /* fork/exec with stdout to /dev/null; exit status */
int bench_random_file(const char *path, size_t size); /* size random bytes */

#endif
