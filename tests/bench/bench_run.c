/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The harness: interleaved runs of a case's sides, their min/median and peak RSS, the targets,
 * and small helpers for the cases (commands, generated files).
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#define MAX_REPS 64

double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((format(printf, 2, 0))) static void vnote(struct bench_result *r, const char *fmt,
							 va_list ap)
{
	size_t len = strlen(r->note);
	if (len && len < sizeof(r->note) - 2) {
		r->note[len++] = ';';
		r->note[len++] = ' ';
		r->note[len] = '\0';
	}
	vsnprintf(r->note + len, sizeof(r->note) - len, fmt, ap);
}

void bench_note(struct bench_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vnote(r, fmt, ap);
	va_end(ap);
}

void bench_skip(struct bench_result *r, const char *fmt, ...)
{
	r->skipped = true;
	va_list ap;
	va_start(ap, fmt);
	vnote(r, fmt, ap);
	va_end(ap);
}

long bench_rss_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(field);
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = atol(line + n + 1);
	if (f)
		fclose(f);
	return v;
}

/* Reset this process's peak RSS to its current RSS (Linux >= 4.0: clear_refs "5"). */
static void reset_peak_rss(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "5", 1) != 1) {
			/* without it the peak is the process's, over all runs so far */
		}
		close(fd);
	}
}

/* fork/exec argv; wall time until it is reaped; its own peak RSS from wait4. */
static int spawn(char *const argv[], int cpu, double *secs, long *rss_kb)
{
	double t0 = bench_now();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		if (cpu >= 0) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set))
				_exit(126);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	*secs = bench_now() - t0;
	*rss_kb = ru.ru_maxrss;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int bench_run_command(char *const argv[])
{
	double s;
	long rss;
	return spawn(argv, -1, &s, &rss);
}

/* The n-th online CPU of this process's affinity set (runs of a one-CPU side rotate over them). */
static int nth_cpu(int n)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	int count = CPU_COUNT(&set);
	if (count <= 0)
		return 0;
	n %= count;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set) && n-- == 0)
			return c;
	return 0;
}

static int run_side(const struct bench_side *s, int run, double *secs, long *rss_kb)
{
	if (s->argv)
		return spawn(s->argv, s->one_cpu ? nth_cpu(run) : -1, secs, rss_kb);
	reset_peak_rss();
	double t0 = bench_now();
	int rc = s->fn(s->ctx);
	*secs = bench_now() - t0;
	*rss_kb = bench_rss_kb("VmHWM");
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(t[0]), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

int bench_compare(const struct bench_env *env, const struct bench_side *sides, size_t n, int reps,
		  struct bench_result *r)
{
	static double t[BENCH_MAX_SIDES][MAX_REPS];
	if (n > BENCH_MAX_SIDES)
		n = BENCH_MAX_SIDES;
	if (reps <= 0)
		reps = env->reps;
	if (reps > MAX_REPS)
		reps = MAX_REPS;
	r->nsides = n;
	for (size_t i = 0; i < n; i++) {
		struct bench_side_result *o = &r->sides[i];
		memset(o, 0, sizeof(*o));
		snprintf(o->label, sizeof(o->label), "%s", sides[i].label);
		snprintf(o->tag, sizeof(o->tag), "%s", sides[i].tag ? sides[i].tag : sides[i].label);
		o->command = sides[i].argv != NULL;
		o->reference = sides[i].reference;
	}
	for (int round = -env->warmup; round < reps; round++) {
		for (size_t i = 0; i < n; i++) {
			double secs;
			long rss;
			int rc = run_side(&sides[i], round + env->warmup, &secs, &rss);
			if (rc != 0) {
				bench_skip(r, "side '%s' failed (%s %d)", sides[i].label,
					   sides[i].argv ? "exit status" : "return", rc);
				return -1;
			}
			struct bench_side_result *o = &r->sides[i];
			if (rss > o->peak_rss_kb)
				o->peak_rss_kb = rss;
			if (round >= 0)
				t[i][o->runs++] = secs;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct bench_side_result *o = &r->sides[i];
		o->median_s = median(t[i], o->runs);
		o->min_s = t[i][0];
	}
	return 0;
}

void bench_target(struct bench_result *r, enum bench_target_kind kind, int subject, int against,
		  double limit, const char *issue)
{
	if (r->ntargets >= BENCH_MAX_TARGETS)
		return;
	struct bench_target *t = &r->targets[r->ntargets++];
	*t = (struct bench_target){.kind = kind, .subject = subject, .against = against,
				   .limit = limit};
	snprintf(t->issue, sizeof(t->issue), "%s", issue);
}

bool bench_target_value(const struct bench_result *r, const struct bench_target *t, double *value,
			bool *met)
{
	if (r->skipped || t->subject < 0 || (size_t)t->subject >= r->nsides)
		return false;
	const struct bench_side_result *s = &r->sides[t->subject];
	const struct bench_side_result *a =
		t->against >= 0 && (size_t)t->against < r->nsides ? &r->sides[t->against] : NULL;
	switch (t->kind) {
	case BENCH_RATIO_MAX:
		if (!a || a->median_s <= 0)
			return false;
		*value = s->median_s / a->median_s;
		*met = *value <= t->limit;
		return true;
	case BENCH_SPEEDUP_MIN:
		if (!a || s->median_s <= 0)
			return false;
		*value = a->median_s / s->median_s;
		*met = *value >= t->limit;
		return true;
	case BENCH_MS_UNDER:
		*value = s->median_s * 1e3;
		*met = *value < t->limit;
		return true;
	case BENCH_RSS_UNDER_MIB:
		*value = (double)s->peak_rss_kb / 1024.0;
		*met = *value < t->limit;
		return true;
	}
	return false;
}

int bench_random_file_framed(const char *path, size_t size, const uint8_t *head, size_t head_len,
			     const uint8_t *tail, size_t tail_len)
{
	if (head_len + tail_len > size)
		return -1;
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int bad = head_len && fwrite(head, 1, head_len, f) != head_len;
	uint8_t buf[1 << 16];
	size_t body = size - head_len - tail_len;
	for (size_t done = 0; !bad && done < body; done += sizeof(buf)) {
		size_t n = body - done < sizeof(buf) ? body - done : sizeof(buf);
		bad = RAND_bytes(buf, (int)n) != 1 || fwrite(buf, 1, n, f) != n;
	}
	bad = bad || (tail_len && fwrite(tail, 1, tail_len, f) != tail_len);
	return fclose(f) || bad ? -1 : 0;
}

int bench_random_file(const char *path, size_t size)
{
	return bench_random_file_framed(path, size, NULL, 0, NULL, 0);
}

int bench_sparse_file(const char *path, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int rc = ftruncate(fd, (off_t)size);
	return close(fd) || rc ? -1 : 0;
}
