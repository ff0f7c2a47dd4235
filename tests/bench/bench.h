/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark harness.  A case compares cvmkit (side 0) with one or more other sides: a floor (the
 * same work by the bare primitive: OpenSSL alone, raw ioctls, raw signature verifies), a minimal
 * program, an optional peer (sev-snp-measure, a TDX reference), or another cvmkit mode.  The sides
 * run interleaved (A B A B ...) after warm-up rounds, so load from other processes hits every side
 * alike; each side reports min and median wall time and its peak RSS, and the case's targets are
 * judged from the ratio of medians.  Each case runs in its own child process.
 */
#ifndef CVMKIT_BENCH_H
#define CVMKIT_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bench_env {
	char dir[256];        /* temporary folder with the generated inputs */
	char firmware[300];   /* 4 MiB image: random pages + an AmdSev metadata page at the end */
	char kernel[300];     /* 10 MiB: a PE/COFF header, then random bytes */
	char initrd[300];     /* 50 MiB random */
	char small_fw[512];   /* the 4 KiB AmdSev metadata page alone: the smallest SNP firmware */
	char cli[512];        /* the cvmkit binary */
	char minimal[512];    /* the minimal OpenSSL-only program */
	const char *ovmf;     /* Debian's unified OVMF.fd, or NULL */
	const char *shared;   /* ../shared */
	const char *snp_measure;   /* $SNP_MEASURE: sev-snp-measure.py, or NULL */
	const char *tdx_reference; /* $TDX_REFERENCE: a command the firmware path is appended to */
	int reps;             /* timed runs per side */
	int heavy_reps;       /* for cases of a second or more per run */
	int warmup;           /* untimed rounds of every side before the timed ones */
	unsigned cpus;        /* online CPUs: the multi-core floors' thread count */
};

typedef int (*bench_fn)(void *ctx);

/* One side of a comparison: a function run in the case's process, or a command. */
struct bench_side {
	const char *tag;      /* short name for the summary ("cvmkit", "floor 1T") */
	const char *label;
	bench_fn fn;          /* in-process: 0 on success */
	void *ctx;
	char *const *argv;    /* or a command; stdout and stderr go to /dev/null; exit 0 expected */
	bool one_cpu;         /* command: restricted to one CPU (a different one each run) */
	bool reference;       /* an optional peer */
};

#define BENCH_MAX_SIDES 5
#define BENCH_MAX_TARGETS 3

struct bench_side_result {
	char tag[24];
	char label[64];
	bool command, reference;
	int runs;
	double min_s, median_s;
	long peak_rss_kb;     /* commands: wait4 ru_maxrss; in-process: VmHWM after a reset */
};

enum bench_target_kind {
	BENCH_RATIO_MAX,      /* median(subject) / median(against) <= limit */
	BENCH_SPEEDUP_MIN,    /* median(against) / median(subject) >= limit */
	BENCH_MS_UNDER,       /* median(subject) < limit milliseconds */
	BENCH_RSS_UNDER_MIB,  /* peak RSS(subject) < limit MiB */
};

struct bench_target {
	enum bench_target_kind kind;
	int subject, against; /* side indexes */
	double limit;
	char issue[8];        /* "#17" */
};

struct bench_result {
	bool skipped;
	size_t nsides, ntargets;
	struct bench_side_result sides[BENCH_MAX_SIDES];
	struct bench_target targets[BENCH_MAX_TARGETS];
	char note[1024];      /* what each side does, per-phase breakdown, skip reason */
};

/* ---- The harness (bench_run.c) ------------------------------------------------------------- */

double bench_now(void);
void bench_note(struct bench_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bench_skip(struct bench_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Run the sides interleaved: env->warmup untimed rounds, then reps timed rounds (0: env->reps),
 * each round every side once in order.  Fills r->sides.  On a failing side: -1, the case is
 * marked skipped with the side named.
 */
int bench_compare(const struct bench_env *env, const struct bench_side *sides, size_t n, int reps,
		  struct bench_result *r);

void bench_target(struct bench_result *r, enum bench_target_kind kind, int subject, int against,
		  double limit, const char *issue);
/* The value a target is judged on and whether it is met; false when it cannot be judged. */
bool bench_target_value(const struct bench_result *r, const struct bench_target *t, double *value,
			bool *met);

int bench_run_command(char *const argv[]); /* fork/exec with output to /dev/null; exit status */
int bench_random_file(const char *path, size_t size); /* size random bytes */
/* size bytes: head, random bytes, tail. */
int bench_random_file_framed(const char *path, size_t size, const uint8_t *head, size_t head_len,
			     const uint8_t *tail, size_t tail_len);
int bench_sparse_file(const char *path, size_t size); /* size bytes of holes */
long bench_rss_kb(const char *field);      /* "VmRSS", "VmHWM" of this process, -1 if unknown */

/* ---- Shared by cases ------------------------------------------------------------------------ */

/*
 * What an SNP measure of this firmware, vCPU count and boot (kernel NULL: firmware only) hashes
 * besides the firmware pages, from the plan cvmkit builds: pages hashed and chained (VMSAs, the
 * kernel-hashes page) and bare PAGE_INFO records (ZERO, SECRETS, CPUID pages).  0 or -1 (why
 * filled).
 */
int bench_snp_extra_pages(const char *firmware, uint32_t vcpus, const char *kernel,
			  const char *initrd, unsigned *hashed, unsigned *records, char *why,
			  size_t why_len);

/* The 1 GiB sparse initrd of the large-input cases (created and removed by each such case);
 * create: 0, or -1 with the case skipped. */
void bench_big_initrd_path(const struct bench_env *env, char *out, size_t len);
int bench_big_initrd_create(const struct bench_env *env, struct bench_result *r, char *out,
			    size_t len);

/* ---- Cases ---------------------------------------------------------------------------------- */

void bench_fixed_help(const struct bench_env *env, struct bench_result *r);
void bench_fixed_measure_small(const struct bench_env *env, struct bench_result *r);
void bench_fixed_measure_4m(const struct bench_env *env, struct bench_result *r);
void bench_snp_firmware_only(const struct bench_env *env, struct bench_result *r);
void bench_snp_measure(const struct bench_env *env, struct bench_result *r);
void bench_snp_measure_200m_initrd(const struct bench_env *env, struct bench_result *r);
void bench_snp_measure_512_vcpus(const struct bench_env *env, struct bench_result *r);
void bench_snp_matrix(const struct bench_env *env, struct bench_result *r);
void bench_snp_matrix_cli(const struct bench_env *env, struct bench_result *r);
void bench_explain_snp(const struct bench_env *env, struct bench_result *r);
void bench_snp_launch_fake(const struct bench_env *env, struct bench_result *r);
void bench_tdx_measure(const struct bench_env *env, struct bench_result *r);
void bench_tdx_measure_direct(const struct bench_env *env, struct bench_result *r);
void bench_big_snp_measure(const struct bench_env *env, struct bench_result *r);
void bench_big_tdx_measure(const struct bench_env *env, struct bench_result *r);
void bench_big_snp_launch(const struct bench_env *env, struct bench_result *r);
void bench_launch_64m(const struct bench_env *env, struct bench_result *r);
void bench_launch_1g(const struct bench_env *env, struct bench_result *r);
void bench_launch_4g(const struct bench_env *env, struct bench_result *r);
void bench_launch_16g(const struct bench_env *env, struct bench_result *r);
void bench_verify_snp(const struct bench_env *env, struct bench_result *r);
void bench_verify_tdx(const struct bench_env *env, struct bench_result *r);

#endif
