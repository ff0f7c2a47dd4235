/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: the CLI progress line (launcher/cli/cli_progress.c, part of the cvmkit binary, so it is
 * compiled in here): formatting, the rate limit, erasing, labels, and drawing from threads.
 * Times are passed explicitly; nothing depends on the clock or a terminal.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "launcher/cli/cli_progress.c"

/* cli.c (with main) is not linked: progress is "on" for whatever ctx says is not quiet. */
bool cli_progress_enabled(const struct cli_ctx *ctx)
{
	return !(ctx && ctx->quiet);
}

#define MIB (1ull << 20)
#define SEC 1000000000ull

/* What was written to a memory stream so far. */
struct capture {
	FILE *f;
	char *buf;
	size_t len;
};

static void capture_open(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
}

static const char *captured(struct capture *c)
{
	fflush(c->f);
	return c->buf;
}

static void capture_close(struct capture *c)
{
	fclose(c->f);
	free(c->buf);
}

static void formats_bytes_with_percent_and_a_unit_from_the_total(void **state)
{
	(void)state;
	char line[128];
	cli_progress_format(line, sizeof(line), CLI_PROGRESS_BYTES, "hashing initrd.img",
			    45 * MIB / 2, 50 * MIB);
	assert_string_equal(line, "hashing initrd.img: 45% (22.5/50.0 MiB)");
	cli_progress_format(line, sizeof(line), CLI_PROGRESS_BYTES, "pre-faulting guest memory",
			    512 * MIB, 2048 * MIB);
	assert_string_equal(line, "pre-faulting guest memory: 25% (0.5/2.0 GiB)");
	cli_progress_format(line, sizeof(line), CLI_PROGRESS_BYTES, "x", 1024, 4096);
	assert_string_equal(line, "x: 25% (1.0/4.0 KiB)");
	cli_progress_format(line, sizeof(line), CLI_PROGRESS_BYTES, "x", 5, 5);
	assert_string_equal(line, "x: 100% (0.0/0.0 KiB)");
	cli_progress_format(line, sizeof(line), CLI_PROGRESS_BYTES, "x", 3 * MIB, 0);
	assert_string_equal(line, "x: 3.0 MiB"); /* total unknown */
}

static void formats_counted_items(void **state)
{
	(void)state;
	char line[64];
	assert_int_equal(cli_progress_format(line, sizeof(line), CLI_PROGRESS_ITEMS, "verifying", 12,
					     200),
			 strlen("verifying 12/200"));
	assert_string_equal(line, "verifying 12/200");
}

static void long_labels_are_cut_to_fit_one_line(void **state)
{
	(void)state;
	char what[120], line[128];
	memset(what, 'a', sizeof(what) - 1);
	what[sizeof(what) - 1] = '\0';
	size_t n = cli_progress_format(line, sizeof(line), CLI_PROGRESS_BYTES, what,
				       512 * 1024 * MIB, 1024 * 1024 * MIB);
	assert_true(n < 80);
	assert_non_null(strstr(line, "aaa...: 50% ("));
	/* A short buffer truncates and stays terminated. */
	n = cli_progress_format(line, 10, CLI_PROGRESS_ITEMS, "verifying", 1, 2);
	assert_int_equal(n, 9);
	assert_string_equal(line, "verifying");
	assert_int_equal(cli_progress_format(line, 0, CLI_PROGRESS_ITEMS, "v", 1, 2), 0);
}

static void draws_at_most_ten_times_a_second_and_erases_when_done(void **state)
{
	(void)state;
	struct capture c;
	capture_open(&c);
	struct cli_progress p;
	cli_progress_init_to(&p, c.f);
	cli_progress_update_at(&p, CLI_PROGRESS_BYTES, "h", 1 * MIB, 10 * MIB, 5 * SEC);
	cli_progress_update_at(&p, CLI_PROGRESS_BYTES, "h", 2 * MIB, 10 * MIB, 5 * SEC + SEC / 20);
	cli_progress_update_at(&p, CLI_PROGRESS_BYTES, "h", 3 * MIB, 10 * MIB, 5 * SEC + SEC / 10);
	cli_progress_update_at(&p, CLI_PROGRESS_BYTES, "h", 4 * MIB, 10 * MIB, 5 * SEC + SEC / 8);
	assert_string_equal(captured(&c), "\rh: 10% (1.0/10.0 MiB)\033[K"
					  "\rh: 30% (3.0/10.0 MiB)\033[K");
	cli_progress_update_at(&p, CLI_PROGRESS_BYTES, "h", 10 * MIB, 10 * MIB, 5 * SEC + SEC / 7);
	assert_string_equal(captured(&c), "\rh: 10% (1.0/10.0 MiB)\033[K"
					  "\rh: 30% (3.0/10.0 MiB)\033[K\r\033[K");
	/* Nothing on the line: ending writes nothing more. */
	cli_progress_end(&p);
	assert_string_equal(captured(&c), "\rh: 10% (1.0/10.0 MiB)\033[K"
					  "\rh: 30% (3.0/10.0 MiB)\033[K\r\033[K");
	capture_close(&c);
}

static void another_operation_finishing_leaves_the_shown_line(void **state)
{
	(void)state;
	struct capture c;
	capture_open(&c);
	struct cli_progress p;
	cli_progress_init_to(&p, c.f);
	cli_progress_update_at(&p, CLI_PROGRESS_BYTES, "hashing initrd", MIB, 8 * MIB, SEC);
	cli_progress_update_at(&p, CLI_PROGRESS_BYTES, "hashing kernel", MIB, MIB, 2 * SEC);
	assert_string_equal(captured(&c), "\rhashing initrd: 12% (1.0/8.0 MiB)\033[K");
	/* cli_progress_end erases what is still shown. */
	cli_progress_end(&p);
	assert_string_equal(captured(&c), "\rhashing initrd: 12% (1.0/8.0 MiB)\033[K\r\033[K");
	capture_close(&c);
}

static void clear_erases_and_keeps_the_rate_limit(void **state)
{
	(void)state;
	struct capture c;
	capture_open(&c);
	struct cli_progress p;
	cli_progress_init_to(&p, c.f);
	cli_progress_items(&p, "verifying", 1, 3); /* real clock: the first draw is immediate */
	cli_progress_clear(&p);
	cli_progress_clear(&p); /* nothing shown: no second erase */
	assert_string_equal(captured(&c), "\rverifying 1/3\033[K\r\033[K");
	cli_progress_end(&p);
	capture_close(&c);
}

static void disabled_progress_reports_and_writes_nothing(void **state)
{
	(void)state;
	struct cli_progress p;
	cli_progress_init_to(&p, NULL);
	struct cvm_progress cb = cli_progress_callback(&p);
	assert_null(cb.fn);
	cvm_progress_report(&cb, "x", 1, 2); /* a no-op */
	cli_progress_items(&p, "verifying", 1, 2);
	cli_progress_end(&p);

	struct cli_ctx quiet = {.quiet = true};
	cli_progress_init(&p, &quiet);
	assert_null(p.out);
	cli_progress_end(&p);

	struct capture c;
	capture_open(&c);
	cli_progress_init_to(&p, c.f);
	cb = cli_progress_callback(&p);
	assert_ptr_equal(cb.fn, cli_progress_bytes);
	assert_ptr_equal(cb.ctx, &p);
	cli_progress_end(&p);
	capture_close(&c);
}

struct drawer {
	struct cli_progress *p;
	char what[16];
};

/* Calls 200 ms apart on each thread's own clock, so (nearly) every one draws. */
static void *draw_many(void *arg)
{
	struct drawer *d = arg;
	for (uint64_t i = 1; i < 2000; i++)
		cli_progress_update_at(d->p, CLI_PROGRESS_BYTES, d->what, i * 10, 20000, i * SEC / 5);
	return NULL;
}

static void threads_draw_whole_lines(void **state)
{
	(void)state;
	struct capture c;
	capture_open(&c);
	struct cli_progress p;
	cli_progress_init_to(&p, c.f);
	struct drawer d[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		d[i].p = &p;
		snprintf(d[i].what, sizeof(d[i].what), "job%d", i);
		assert_int_equal(pthread_create(&t[i], NULL, draw_many, &d[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	cli_progress_end(&p);
	/* Every piece between carriage returns is one whole line or the erase sequence. */
	char *text = strdup(captured(&c));
	assert_non_null(text);
	assert_true(text[0] == '\r');
	for (char *save = NULL, *piece = strtok_r(text, "\r", &save); piece;
	     piece = strtok_r(NULL, "\r", &save)) {
		if (strcmp(piece, "\033[K") == 0)
			continue;
		unsigned job, pct;
		char tail[64];
		if (sscanf(piece, "job%u: %u%% (%63[^)])", &job, &pct, tail) != 3 || job > 3 ||
		    pct > 100 || !strstr(piece, "KiB)\033[K"))
			fail_msg("torn line '%s'", piece);
	}
	free(text);
	capture_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(formats_bytes_with_percent_and_a_unit_from_the_total),
		cmocka_unit_test(formats_counted_items),
		cmocka_unit_test(long_labels_are_cut_to_fit_one_line),
		cmocka_unit_test(draws_at_most_ten_times_a_second_and_erases_when_done),
		cmocka_unit_test(another_operation_finishing_leaves_the_shown_line),
		cmocka_unit_test(clear_erases_and_keeps_the_rate_limit),
		cmocka_unit_test(disabled_progress_reports_and_writes_nothing),
		cmocka_unit_test(threads_draw_whole_lines),
	};
	return cmocka_run_group_tests_name("cli_progress", tests, NULL, NULL);
}
