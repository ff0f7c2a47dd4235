/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cvmkit command line: a verb table (cli.c) and one file per verb (cmd_*.c).
 * Exit codes: 0 success, 1 the job failed, 2 usage error (unknown verb or option, bad argument).
 * Only this layer prints and exits.
 */
#ifndef CVMKIT_CLI_H
#define CVMKIT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <cvmkit/error.h>

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

/* Options given before the verb (cvmkit --quiet measure ...). */
struct cli_ctx {
	bool quiet;   /* no informational lines or progress */
	bool verbose; /* extra detail on stderr */
};

/* Every verb: argv[0] is the verb name; returns the exit status. */
int cmd_inspect(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_policy(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_measure(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_id_block(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_launch(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_host(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_verify(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_libvirt(const struct cli_ctx *ctx, int argc, char **argv);

/* "cvmkit VERB: <message> (see 'cvmkit VERB --help')" on stderr; returns CLI_USAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "cvmkit VERB: <err message>" on stderr; returns CLI_FAIL. */
int cli_fail(const char *verb, const struct cvm_error *err);

/* Informational line on stderr unless --quiet. */
void cli_info(const struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when argv holds -h or --help before any "--". */
bool cli_wants_help(int argc, char **argv);

/* True when progress should be shown: standard error is a terminal and not --quiet. */
bool cli_progress_enabled(const struct cli_ctx *ctx);

#endif
