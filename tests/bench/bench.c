/* SPDX-License-Identifier: Apache-2.0 */
/* make bench: runs every case, prints each case and a summary of its targets, optionally JSON. */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cvmkit/util.h>

struct bench_case {
	const char *name;
	void (*run)(const struct bench_env *env, struct bench_result *r);
};

static const struct bench_case cases[] = {
	{"fixed cost: cvmkit --help", bench_fixed_help},
	{"fixed cost: SNP measure, 4 KiB firmware (smallest)", bench_fixed_measure_small},
	{"fixed cost: SNP measure, 4 MiB firmware", bench_fixed_measure_4m},
	{"SNP firmware-only measure, 4 MiB firmware, 1 vCPU", bench_snp_firmware_only},
	{"SNP measure 4M fw+10M kernel+50M initrd, 4 vCPUs", bench_snp_measure},
	{"  same, initrd 200 MiB", bench_snp_measure_200m_initrd},
	{"  same, 512 vCPUs", bench_snp_measure_512_vcpus},
	{"SNP matrix 64 vCPU counts x 5 models (in-process)", bench_snp_matrix},
	{"SNP matrix 64 vCPU counts x 5 models (CLI)", bench_snp_matrix_cli},
	{"SNP explain: whole neighbourhood, no match", bench_explain_snp},
	{"SNP launch (fake KVM) vs offline measure", bench_snp_launch_fake},
	{"TDX measure, Debian OVMF.fd", bench_tdx_measure},
	{"TDX measure, OVMF.fd + 10M PE kernel + 50M initrd", bench_tdx_measure_direct},
	{"1 GiB initrd: SNP measure", bench_big_snp_measure},
	{"1 GiB initrd: TDX measure", bench_big_tdx_measure},
	{"1 GiB initrd: SNP launch (fake KVM) vs measure", bench_big_snp_launch},
	{"default-VM launch, 64 MiB", bench_launch_64m},
	{"default-VM launch, 1 GiB", bench_launch_1g},
	{"default-VM launch, 4 GiB", bench_launch_4g},
	{"default-VM launch, 16 GiB", bench_launch_16g},
	{"verify SNP reports (batch)", bench_verify_snp},
	{"verify TDX quotes (batch)", bench_verify_tdx},
};

/* A PE/COFF header page (PE32+, no sections, SizeOfHeaders 4 KiB): the bytes after it are then
 * hashed whole by Authenticode, so the random kernel also gives TDX its RTMR1/RTMR2 work. */
static void pe_header(uint8_t page[4096])
{
	memset(page, 0, 4096);
	page[0] = 'M';
	page[1] = 'Z';
	page[0x3c] = 0x40;             /* e_lfanew */
	memcpy(page + 0x40, "PE\0\0", 4);
	page[0x44] = 0x64;             /* Machine: x86-64 */
	page[0x45] = 0x86;
	page[0x54] = 0xf0;             /* SizeOfOptionalHeader */
	page[0x56] = 0x22;             /* Characteristics: executable, large address aware */
	uint8_t *opt = page + 0x58;
	opt[0] = 0x0b;                 /* PE32+ */
	opt[1] = 0x02;
	opt[60 + 1] = 0x10;            /* SizeOfHeaders 0x1000 */
	opt[108] = 16;                 /* NumberOfRvaAndSizes */
}

static int make_inputs(struct bench_env *env)
{
	snprintf(env->dir, sizeof(env->dir), "/tmp/cvmkit-bench-XXXXXX");
	if (!mkdtemp(env->dir))
		return -1;
	snprintf(env->firmware, sizeof(env->firmware), "%s/firmware.fd", env->dir);
	snprintf(env->kernel, sizeof(env->kernel), "%s/vmlinuz", env->dir);
	snprintf(env->initrd, sizeof(env->initrd), "%s/initrd.img", env->dir);
	/* The AmdSev fixture is the last 4 KiB of a kernel-hashes capable OVMF: all of its metadata
	 * sits in that page, so random pages in front make a realistic 4 MiB image, and the page
	 * alone is the smallest valid one. */
	snprintf(env->small_fw, sizeof(env->small_fw), "%s/vectors/snp/ovmf_AmdSev_suffix.bin",
		 env->shared);
	struct cvm_file suffix;
	struct cvm_error err;
	if (cvm_file_open(env->small_fw, &suffix, &err)) {
		fprintf(stderr, "bench: %s\n", cvm_error_message(&err));
		return -1;
	}
	uint8_t pe[4096];
	pe_header(pe);
	int rc = bench_random_file_framed(env->firmware, 4u << 20, NULL, 0, suffix.data, suffix.size);
	cvm_file_close(&suffix);
	if (rc || bench_random_file_framed(env->kernel, 10u << 20, pe, sizeof(pe), NULL, 0) ||
	    bench_random_file(env->initrd, 50u << 20))
		return -1;
	return 0;
}

static void remove_inputs(const struct bench_env *env)
{
	char big[400];
	bench_big_initrd_path(env, big, sizeof(big)); /* left behind by a case that crashed */
	unlink(big);
	unlink(env->firmware);
	unlink(env->kernel);
	unlink(env->initrd);
	rmdir(env->dir);
}

static int read_full(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = read(fd, (uint8_t *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Run one case in a child: its memory and threads are its own, a crash stays there. */
static void run_case(const struct bench_case *c, const struct bench_env *env,
		     struct bench_result *r)
{
	int fds[2];
	memset(r, 0, sizeof(*r));
	if (pipe(fds) < 0) {
		bench_skip(r, "pipe: %s", strerror(errno));
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		static struct bench_result out;
		c->run(env, &out);
		const uint8_t *p = (const uint8_t *)&out;
		for (size_t done = 0; done < sizeof(out);) {
			ssize_t n = write(fds[1], p + done, sizeof(out) - done);
			if (n <= 0)
				_exit(1);
			done += (size_t)n;
		}
		_exit(0);
	}
	close(fds[1]);
	int rc = pid > 0 ? read_full(fds[0], r, sizeof(*r)) : -1;
	close(fds[0]);
	int status = 0;
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (rc) {
		memset(r, 0, sizeof(*r));
		bench_skip(r, "the case crashed or failed (status 0x%x)", status);
	}
}

static const char *target_op(const struct bench_target *t)
{
	switch (t->kind) {
	case BENCH_RATIO_MAX: return "<=";
	case BENCH_SPEEDUP_MIN: return ">=";
	default: return "<";
	}
}

/* What a target's value is, from the sides' labels (or their short tags for the summary). */
static void target_what(const struct bench_result *r, const struct bench_target *t, bool tags,
			char *out, size_t len)
{
	const struct bench_side_result *s = &r->sides[t->subject];
	const struct bench_side_result *a = t->against >= 0 ? &r->sides[t->against] : NULL;
	const char *sn = tags ? s->tag : s->label, *an = a ? (tags ? a->tag : a->label) : "";
	switch (t->kind) {
	case BENCH_RATIO_MAX: snprintf(out, len, "%s / %s", sn, an); break;
	case BENCH_SPEEDUP_MIN: snprintf(out, len, "speed-up of %s over %s", sn, an); break;
	case BENCH_MS_UNDER: snprintf(out, len, "%s, median ms", sn); break;
	case BENCH_RSS_UNDER_MIB: snprintf(out, len, "%s, peak RSS MiB", sn); break;
	}
}

static void target_limit(const struct bench_target *t, char *out, size_t len)
{
	snprintf(out, len, "%s %.*f", target_op(t), t->kind >= BENCH_MS_UNDER ? 0 : 2, t->limit);
}

static void print_case(const char *name, const struct bench_result *r)
{
	printf("\n%s\n", name);
	if (r->skipped) {
		printf("    skipped: %s\n", r->note);
		return;
	}
	printf("    %-50s %4s %10s %10s %9s %7s\n", "side", "runs", "min ms", "median ms", "RSS MiB",
	       "ratio");
	for (size_t i = 0; i < r->nsides; i++) {
		const struct bench_side_result *s = &r->sides[i];
		char ratio[16] = "";
		if (i > 0 && s->median_s > 0)
			snprintf(ratio, sizeof(ratio), "%.2f", r->sides[0].median_s / s->median_s);
		printf("    %-50s %4d %10.2f %10.2f %9.1f %7s\n", s->label, s->runs, s->min_s * 1e3,
		       s->median_s * 1e3, (double)s->peak_rss_kb / 1024.0, ratio);
	}
	for (size_t i = 0; i < r->ntargets; i++) {
		const struct bench_target *t = &r->targets[i];
		char what[160], limit[32];
		double v;
		bool met;
		target_what(r, t, false, what, sizeof(what));
		target_limit(t, limit, sizeof(limit));
		if (bench_target_value(r, t, &v, &met))
			printf("    target %s: %s %s: %.2f %s\n", t->issue, what, limit, v,
			       met ? "MET" : "NOT MET");
	}
	if (r->note[0])
		printf("    %s\n", r->note);
}

static void print_summary(const struct bench_result *results)
{
	printf("\nsummary of targets (the bench reports; it never fails the build)\n");
	printf("  %-5s %-52s %-30s %9s %9s  %s\n", "issue", "case", "measure", "value", "target",
	       "status");
	for (size_t c = 0; c < CVM_ARRAY_SIZE(cases); c++) {
		const struct bench_result *r = &results[c];
		for (size_t i = 0; i < r->ntargets; i++) {
			const struct bench_target *t = &r->targets[i];
			char limit[32], what[160], value[32] = "-";
			double v = 0;
			bool met = false;
			bool judged = bench_target_value(r, t, &v, &met);
			target_limit(t, limit, sizeof(limit));
			target_what(r, t, true, what, sizeof(what));
			if (judged)
				snprintf(value, sizeof(value), "%.2f", v);
			printf("  %-5s %-52.52s %-30.30s %9s %9s  %s\n", t->issue, cases[c].name, what,
			       value, limit, !judged ? "SKIPPED" : met ? "MET" : "NOT MET");
		}
	}
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fputc('"', f);
}

/* The first ratio target's limit and the first absolute one, as the figures of the old layout. */
static void legacy_targets(const struct bench_result *r, double *ratio, double *ms)
{
	*ratio = *ms = 0;
	for (size_t i = 0; i < r->ntargets; i++) {
		if (r->targets[i].kind == BENCH_RATIO_MAX && *ratio == 0)
			*ratio = r->targets[i].limit;
		if (r->targets[i].kind == BENCH_MS_UNDER && *ms == 0)
			*ms = r->targets[i].limit;
	}
}

static void json_case(FILE *f, const char *name, const struct bench_result *r)
{
	const struct bench_side_result *a = &r->sides[0], *b = &r->sides[1];
	double ref = 0, target_ratio, target_ms;
	for (size_t i = 0; i < r->nsides; i++)
		if (r->sides[i].reference)
			ref = r->sides[i].median_s;
	legacy_targets(r, &target_ratio, &target_ms);
	bool two = !r->skipped && r->nsides > 1 && b->median_s > 0;
	fprintf(f, "\n  {\"case\": ");
	json_string(f, name);
	fprintf(f, ", \"skipped\": %s, \"cvmkit_ms\": %.3f, \"floor_ms\": %.3f, \"ratio\": %.3f, "
		   "\"target_ratio\": %.2f, \"target_ms\": %.1f, \"reference_ms\": %.3f, "
		   "\"maxrss_kib\": %ld, \"sides\": [",
		r->skipped ? "true" : "false", a->median_s * 1e3, two ? b->median_s * 1e3 : 0,
		two ? a->median_s / b->median_s : 0, target_ratio, target_ms, ref * 1e3,
		a->peak_rss_kb);
	for (size_t i = 0; i < r->nsides; i++) {
		const struct bench_side_result *s = &r->sides[i];
		fprintf(f, "%s{\"side\": ", i ? ", " : "");
		json_string(f, s->label);
		fprintf(f, ", \"tag\": ");
		json_string(f, s->tag);
		fprintf(f, ", \"command\": %s, \"reference\": %s, \"runs\": %d, \"min_ms\": %.3f, "
			   "\"median_ms\": %.3f, \"peak_rss_kib\": %ld, \"ratio\": %.3f}",
			s->command ? "true" : "false", s->reference ? "true" : "false", s->runs,
			s->min_s * 1e3, s->median_s * 1e3, s->peak_rss_kb,
			i && s->median_s > 0 ? a->median_s / s->median_s : 0);
	}
	fprintf(f, "], \"targets\": [");
	for (size_t i = 0; i < r->ntargets; i++) {
		const struct bench_target *t = &r->targets[i];
		char what[160];
		double v = 0;
		bool met = false;
		bool judged = bench_target_value(r, t, &v, &met);
		target_what(r, t, false, what, sizeof(what));
		fprintf(f, "%s{\"issue\": ", i ? ", " : "");
		json_string(f, t->issue);
		fprintf(f, ", \"what\": ");
		json_string(f, what);
		fprintf(f, ", \"op\": \"%s\", \"limit\": %.3f, \"value\": %.3f, \"status\": \"%s\"}",
			target_op(t), t->limit, v, !judged ? "skipped" : met ? "met" : "not met");
	}
	fprintf(f, "], \"note\": ");
	json_string(f, r->note);
	fputc('}', f);
}

static int write_json(const char *path, const struct bench_env *env,
		      const struct bench_result *results)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(f, "{\"reps\": %d, \"heavy_reps\": %d, \"warmup\": %d, \"cpus\": %u, "
		   "\"interleaved\": true, \"cases\": [",
		env->reps, env->heavy_reps, env->warmup, env->cpus);
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
		if (i)
			fputc(',', f);
		json_case(f, cases[i].name, &results[i]);
	}
	fprintf(f, "\n]}\n");
	fclose(f);
	printf("\nfigures written to %s\n", path);
	return 0;
}

static int env_int(const char *name, int dflt)
{
	const char *v = getenv(name);
	return v && *v ? atoi(v) : dflt;
}

static void setup_env(struct bench_env *env)
{
	bool quick = env_int("BENCH_QUICK", 0) != 0;
	env->reps = env_int("BENCH_REPS", quick ? 3 : 7);
	if (env->reps < 1)
		env->reps = 1;
	env->heavy_reps = quick ? 1 : env->reps < 3 ? env->reps : 3;
	env->warmup = env_int("BENCH_WARMUP", 1);
	if (env->warmup < 0)
		env->warmup = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	env->cpus = cpus > 0 ? (unsigned)cpus : 1;
	env->shared = getenv("CVMKIT_SHARED") ? getenv("CVMKIT_SHARED") : CVMKIT_SHARED_DIR;
	env->ovmf = access("/usr/share/ovmf/OVMF.fd", R_OK) == 0 ? "/usr/share/ovmf/OVMF.fd" : NULL;
	const char *v = getenv("SNP_MEASURE");
	env->snp_measure = v && *v ? v : NULL;
	v = getenv("TDX_REFERENCE");
	env->tdx_reference = v && *v ? v : NULL;
	if (!env->cli[0])
		snprintf(env->cli, sizeof(env->cli), "cvmkit");
}

int main(int argc, char **argv)
{
	static struct bench_env env;
	const char *json_path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
			json_path = argv[++i];
		else if (strcmp(argv[i], "--cli") == 0 && i + 1 < argc)
			snprintf(env.cli, sizeof(env.cli), "%s", argv[++i]);
		else if (strcmp(argv[i], "--minimal") == 0 && i + 1 < argc)
			snprintf(env.minimal, sizeof(env.minimal), "%s", argv[++i]);
		else {
			fprintf(stderr,
				"usage: cvmkit-bench [--cli PATH] [--minimal PATH] [--json FILE]\n");
			return 2;
		}
	}
	setup_env(&env);
	if (make_inputs(&env)) {
		fprintf(stderr, "bench: cannot generate inputs in /tmp\n");
		return 1;
	}
	printf("cvmkit benchmarks: %d timed runs per side (%d for cases of a second or more), "
	       "interleaved A B A B ... after %d warm-up round(s); %u CPUs online\n",
	       env.reps, env.heavy_reps, env.warmup, env.cpus);
	printf("ratio = median of the first side / median of that side; RSS = peak resident set: "
	       "commands their own (wait4), in-process sides the bench process's (VmHWM, reset "
	       "before each run; the bench alone is about %.1f MiB)\n",
	       (double)bench_rss_kb("VmRSS") / 1024.0);
	static struct bench_result results[CVM_ARRAY_SIZE(cases)];
	const char *only = getenv("BENCH_ONLY");
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
		if (only && *only && !strstr(cases[i].name, only)) {
			bench_skip(&results[i], "not selected by BENCH_ONLY");
			continue;
		}
		run_case(&cases[i], &env, &results[i]);
		print_case(cases[i].name, &results[i]);
	}
	remove_inputs(&env);
	print_summary(results);
	return json_path ? write_json(json_path, &env, results) : 0;
}
