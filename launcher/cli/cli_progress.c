/* SPDX-License-Identifier: Apache-2.0 */
/* The progress line of long operations on a terminal (see launcher/cli/cli.h). */
#include "launcher/cli/cli.h"

#include <string.h>
#include <time.h>

/* Labels longer than this are cut so the line stays within 80 columns (a wrapped line could
   not be redrawn with \r). */
#define WHAT_MAX 48

void cli_progress_init_to(struct cli_progress *p, FILE *out)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->out = out;
}

void cli_progress_init(struct cli_progress *p, const struct cli_ctx *ctx)
{
	cli_progress_init_to(p, cli_progress_enabled(ctx) ? stderr : NULL);
}

static void erase_line(struct cli_progress *p)
{
	fputs("\r\033[K", p->out);
	fflush(p->out);
	p->shown = false;
}

void cli_progress_clear(struct cli_progress *p)
{
	if (!p->out)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->shown)
		erase_line(p);
	pthread_mutex_unlock(&p->lock);
}

void cli_progress_end(struct cli_progress *p)
{
	cli_progress_clear(p);
	pthread_mutex_destroy(&p->lock);
}

struct cvm_progress cli_progress_callback(struct cli_progress *p)
{
	struct cvm_progress cb = {p->out ? cli_progress_bytes : NULL, p};
	return cb;
}

static void byte_unit(uint64_t v, double *scale, const char **name)
{
	if (v >= (1ull << 30)) {
		*scale = (double)(1ull << 30);
		*name = "GiB";
	} else if (v >= (1ull << 20)) {
		*scale = (double)(1ull << 20);
		*name = "MiB";
	} else {
		*scale = 1024.0;
		*name = "KiB";
	}
}

size_t cli_progress_format(char *buf, size_t n, enum cli_progress_unit unit, const char *what,
			   uint64_t done, uint64_t total)
{
	if (!n)
		return 0;
	int cut = strlen(what) > WHAT_MAX ? WHAT_MAX - 3 : WHAT_MAX;
	const char *ellipsis = strlen(what) > WHAT_MAX ? "..." : "";
	int len;
	if (unit == CLI_PROGRESS_ITEMS) {
		len = snprintf(buf, n, "%.*s%s %llu/%llu", cut, what, ellipsis,
			       (unsigned long long)done, (unsigned long long)total);
	} else {
		double scale;
		const char *name;
		byte_unit(total ? total : done, &scale, &name);
		if (total) {
			unsigned pct = done >= total ? 100 : (unsigned)((double)done * 100.0 / (double)total);
			len = snprintf(buf, n, "%.*s%s: %u%% (%.1f/%.1f %s)", cut, what, ellipsis, pct,
				       (double)done / scale, (double)total / scale, name);
		} else {
			len = snprintf(buf, n, "%.*s%s: %.1f %s", cut, what, ellipsis,
				       (double)done / scale, name);
		}
	}
	if (len < 0) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)len < n ? (size_t)len : n - 1;
}

void cli_progress_update_at(struct cli_progress *p, enum cli_progress_unit unit, const char *what,
			    uint64_t done, uint64_t total, uint64_t now_ns)
{
	if (!p->out)
		return;
	pthread_mutex_lock(&p->lock);
	if (total && done >= total) {
		/* The operation on the line is over: leave a clean line for what comes next (another
		   operation still running draws its own at its next report). */
		if (p->shown && strncmp(p->what, what, sizeof(p->what) - 1) == 0)
			erase_line(p);
	} else if (!p->drawn || now_ns - p->last_ns >= CLI_PROGRESS_INTERVAL_NS) {
		char line[128];
		cli_progress_format(line, sizeof(line), unit, what, done, total);
		fprintf(p->out, "\r%s\033[K", line);
		fflush(p->out);
		p->shown = p->drawn = true;
		p->last_ns = now_ns;
		snprintf(p->what, sizeof(p->what), "%s", what);
	}
	pthread_mutex_unlock(&p->lock);
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void cli_progress_bytes(void *ctx, const char *what, uint64_t done, uint64_t total)
{
	struct cli_progress *p = ctx;
	if (p->out)
		cli_progress_update_at(p, CLI_PROGRESS_BYTES, what, done, total, monotonic_ns());
}

void cli_progress_items(struct cli_progress *p, const char *what, uint64_t done, uint64_t total)
{
	if (p->out)
		cli_progress_update_at(p, CLI_PROGRESS_ITEMS, what, done, total, monotonic_ns());
}
