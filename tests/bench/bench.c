/* SPDX-License-Identifier: Apache-2.0 */
/* make bench: runs every case, prints one table, optionally writes the figures as JSON. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <cvmkit/util.h>

struct bench_case {
	const char *name;
	void (*run)(const struct bench_env *env, struct bench_result *r);
};

static const struct bench_case cases[] = {
	{"snp-measure 4M fw+10M kernel+50M initrd, 4 vCPUs", bench_snp_measure},
	{"  same, initrd 200 MiB", bench_snp_measure_200m_initrd},
	{"  same, 512 vCPUs", bench_snp_measure_512_vcpus},
	{"snp-matrix 64 vCPU counts x 5 models", bench_snp_matrix},
	{"tdx-mrtd Debian OVMF.fd", bench_tdx_mrtd},
	{"launch default VM 64 MiB", bench_launch_64m},
	{"launch default VM 1 GiB", bench_launch_1g},
	{"launch default VM 4 GiB", bench_launch_4g},
	{"launch default VM 16 GiB", bench_launch_16g},
	{"verify SNP reports (batch)", bench_verify_snp},
	{"verify TDX quotes (batch)", bench_verify_tdx},
};

double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double bench_median(bench_fn fn, void *ctx, int reps)
{
	double t[64];
	if (reps > 64)
		reps = 64;
	if (fn(ctx) != 0)
		return -1;
	for (int i = 0; i < reps; i++) {
		double t0 = bench_now();
		if (fn(ctx) != 0)
			return -1;
		t[i] = bench_now() - t0;
	}
	qsort(t, (size_t)reps, sizeof(t[0]), cmp_double);
	return reps % 2 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;
}

void bench_note(struct bench_result *r, const char *fmt, ...)
{
	size_t len = strlen(r->note);
	if (len && len < sizeof(r->note) - 2) {
		r->note[len++] = ';';
		r->note[len++] = ' ';
		r->note[len] = '\0';
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->note + len, sizeof(r->note) - len, fmt, ap);
	va_end(ap);
}

int bench_run_command(char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int write_random_file(const char *path, size_t size, const uint8_t *tail, size_t tail_len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	uint8_t buf[1 << 16];
	size_t body = size - tail_len;
	for (size_t done = 0; done < body; done += sizeof(buf)) {
		size_t n = body - done < sizeof(buf) ? body - done : sizeof(buf);
		if (RAND_bytes(buf, (int)n) != 1 || fwrite(buf, 1, n, f) != n) {
			fclose(f);
			return -1;
		}
	}
	if (tail_len && fwrite(tail, 1, tail_len, f) != tail_len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

int bench_random_file(const char *path, size_t size)
{
	return write_random_file(path, size, NULL, 0);
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
	 * sits in that page, so random pages in front make a realistic 4 MiB image. */
	char suffix_path[512];
	snprintf(suffix_path, sizeof(suffix_path), "%s/vectors/snp/ovmf_AmdSev_suffix.bin",
		 env->shared);
	struct cvm_file suffix;
	struct cvm_error err;
	if (cvm_file_open(suffix_path, &suffix, &err)) {
		fprintf(stderr, "bench: %s\n", cvm_error_message(&err));
		return -1;
	}
	int rc = write_random_file(env->firmware, 4u << 20, suffix.data, suffix.size);
	cvm_file_close(&suffix);
	if (rc || write_random_file(env->kernel, 10u << 20, NULL, 0) ||
	    write_random_file(env->initrd, 50u << 20, NULL, 0))
		return -1;
	return 0;
}

static void remove_inputs(const struct bench_env *env)
{
	unlink(env->firmware);
	unlink(env->kernel);
	unlink(env->initrd);
	rmdir(env->dir);
}

/* Run one case in a child so that ru_maxrss is the case's own. */
static void run_case(const struct bench_case *c, const struct bench_env *env, struct bench_result *r)
{
	int fds[2];
	memset(r, 0, sizeof(*r));
	if (pipe(fds) < 0) {
		r->skipped = true;
		bench_note(r, "pipe: %s", strerror(errno));
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		struct bench_result out = {0};
		c->run(env, &out);
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		out.maxrss_kb = ru.ru_maxrss;
		ssize_t n = write(fds[1], &out, sizeof(out));
		_exit(n == (ssize_t)sizeof(out) ? 0 : 1);
	}
	close(fds[1]);
	ssize_t n = pid > 0 ? read(fds[0], r, sizeof(*r)) : -1;
	close(fds[0]);
	int status = 0;
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (n != (ssize_t)sizeof(*r)) {
		memset(r, 0, sizeof(*r));
		r->skipped = true;
		bench_note(r, "the case crashed or failed (status 0x%x)", status);
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

int main(int argc, char **argv)
{
	struct bench_env env = {0};
	const char *json_path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
			json_path = argv[++i];
		else if (strcmp(argv[i], "--cli") == 0 && i + 1 < argc)
			snprintf(env.cli, sizeof(env.cli), "%s", argv[++i]);
		else {
			fprintf(stderr, "usage: cvmkit-bench [--cli PATH] [--json FILE]\n");
			return 2;
		}
	}
	env.reps = getenv("BENCH_REPS") ? atoi(getenv("BENCH_REPS")) : 7;
	if (env.reps < 1)
		env.reps = 1;
	env.shared = getenv("CVMKIT_SHARED") ? getenv("CVMKIT_SHARED") : CVMKIT_SHARED_DIR;
	env.ovmf = access("/usr/share/ovmf/OVMF.fd", R_OK) == 0 ? "/usr/share/ovmf/OVMF.fd" : NULL;
	env.snp_measure = getenv("SNP_MEASURE") && *getenv("SNP_MEASURE") ? getenv("SNP_MEASURE") : NULL;
	if (!env.cli[0])
		snprintf(env.cli, sizeof(env.cli), "cvmkit");
	if (make_inputs(&env)) {
		fprintf(stderr, "bench: cannot generate inputs in /tmp\n");
		return 1;
	}

	printf("cvmkit benchmarks: median of %d runs after a warm-up; ratio = cvmkit / floor\n\n",
	       env.reps);
	printf("%-46s %11s %11s %7s %7s %9s\n", "case", "cvmkit ms", "floor ms", "ratio", "target",
	       "maxrss MiB");
	struct bench_result results[CVM_ARRAY_SIZE(cases)];
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
		struct bench_result *r = &results[i];
		run_case(&cases[i], &env, r);
		if (r->skipped) {
			printf("%-46s %11s %11s %7s %7s %9s\n", cases[i].name, "skip", "-", "-", "-", "-");
		} else {
			char target[16] = "-";
			if (r->target > 0)
				snprintf(target, sizeof(target), "%.2f", r->target);
			else if (r->abs_target_s > 0)
				snprintf(target, sizeof(target), "<%.0fms", r->abs_target_s * 1e3);
			printf("%-46s %11.2f %11.2f %7.2f %7s %9.1f\n", cases[i].name, r->cvmkit_s * 1e3,
			       r->floor_s * 1e3, r->floor_s > 0 ? r->cvmkit_s / r->floor_s : 0.0,
			       target, (double)r->maxrss_kb / 1024.0);
		}
		if (r->reference_s > 0)
			printf("%-46s %11.2f %11s %7.2f   (sev-snp-measure / cvmkit)\n",
			       "  sev-snp-measure, same inputs", r->reference_s * 1e3, "-",
			       r->reference_s / r->cvmkit_s);
		if (r->note[0])
			printf("    %s\n", r->note);
	}
	remove_inputs(&env);

	if (json_path) {
		FILE *f = fopen(json_path, "w");
		if (!f) {
			fprintf(stderr, "bench: %s: %s\n", json_path, strerror(errno));
			return 1;
		}
		fprintf(f, "{\"reps\": %d, \"cases\": [", env.reps);
		for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
			const struct bench_result *r = &results[i];
			fprintf(f, "%s\n  {\"case\": ", i ? "," : "");
			json_string(f, cases[i].name);
			fprintf(f, ", \"skipped\": %s, \"cvmkit_ms\": %.3f, \"floor_ms\": %.3f, "
				   "\"ratio\": %.3f, \"target_ratio\": %.2f, \"target_ms\": %.1f, "
				   "\"reference_ms\": %.3f, \"maxrss_kib\": %ld, \"note\": ",
				r->skipped ? "true" : "false", r->cvmkit_s * 1e3, r->floor_s * 1e3,
				r->floor_s > 0 ? r->cvmkit_s / r->floor_s : 0.0, r->target,
				r->abs_target_s * 1e3, r->reference_s * 1e3, r->maxrss_kb);
			json_string(f, r->note);
			fputc('}', f);
		}
		fprintf(f, "\n]}\n");
		fclose(f);
		printf("\nfigures written to %s\n", json_path);
	}
	return 0;
}
