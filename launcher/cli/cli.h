/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cvmkit command line: a verb table (cli.c) and one file per verb (cmd_*.c); the libvirt verb
 * is its own program, cvmkit-libvirt (cli_libvirt_main.c), which `cvmkit libvirt` runs, so that
 * only that verb loads libvirt.  Exit codes: 0 success, 1 the job failed, 2 usage error (unknown
 * verb or option, bad argument).  Only this layer prints and exits.
 */
#ifndef CVMKIT_CLI_H
#define CVMKIT_CLI_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cvmkit/error.h>
#include <cvmkit/fetch.h>
#include <cvmkit/progress.h>
#include <cvmkit/snp.h>

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2
/* verify only: the verifier could not run (bad trust material, option file or expectation) */
#define CLI_NOT_RUN 3
/* launch only: --run reached --timeout before the guest halted (the document is written) */
#define CLI_TIMEOUT 4
/* launch only: cancelled by SIGINT or SIGTERM (the VM torn down, no document written) */
#define CLI_CANCELLED 5

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
int cmd_eventlog(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_explain(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_fetch(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_evidence(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_libvirt(const struct cli_ctx *ctx, int argc, char **argv); /* in cvmkit-libvirt */

/*
 * The libvirt verb of cvmkit: exec cvmkit-libvirt with the global options and the verb's
 * arguments (found beside the running program, else in CVMKIT_LIBEXECDIR; the environment
 * variable CVMKIT_LIBEXECDIR overrides both).  Returns only on failure (CLI_FAIL).
 */
int cli_run_libvirt_helper(const struct cli_ctx *ctx, int argc, char **argv);

/*
 * The options before the verb (--quiet, --verbose, --help, --version).  Returns -1 with *next
 * at the verb when the program goes on; otherwise the exit status (after printing the version,
 * or with *help set: the caller prints its help; or after a usage error).
 */
int cli_parse_global_options(int argc, char **argv, struct cli_ctx *ctx, int *next, bool *help);

/* "cvmkit VERB: <message> (see 'cvmkit VERB --help')" on stderr; returns CLI_USAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The end of every run: flush and close standard output and check for a write error (a full
 * disk, a closed pipe with SIGPIPE ignored, a descriptor not open for writing).  On one,
 * "cvmkit VERB: error writing standard output: ..." goes to stderr and CLI_FAIL replaces a
 * success; otherwise status is returned unchanged.  verb may be NULL.
 */
int cli_finish_stdout(const char *verb, int status);

/* "cvmkit VERB: <err message>" on stderr; returns CLI_FAIL. */
int cli_fail(const char *verb, const struct cvm_error *err);

/*
 * printf for text output that carries untrusted strings (policy names, paths, messages, event
 * log and certificate text): the formatted text goes to f with every control character but a
 * final newline (terminal escape sequences, embedded newlines, DEL, the C1 controls U+0080..
 * U+009F) shown as \xNN, so nothing read from an input can move the cursor, recolour the
 * terminal or forge a line.  Every message the verbs print goes through it.
 */
void cli_printf_safe(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_vprintf_safe(FILE *f, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Informational line on stderr unless --quiet. */
void cli_info(const struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when argv holds -h or --help before any "--". */
bool cli_wants_help(int argc, char **argv);

/* True when progress should be shown: standard error is a terminal and not --quiet. */
bool cli_progress_enabled(const struct cli_ctx *ctx);

/*
 * The progress line of long operations (launcher/cli/cli_progress.c): "\r<what>: 45% (22.5/50.0 MiB)"
 * on stderr, only when cli_progress_enabled(), at most CLI_PROGRESS_INTERVAL_NS apart, from any
 * thread (a mutex serialises drawing).  The line is erased when the operation it shows reports
 * done == total and by cli_progress_end(), so later output starts on a clean line.
 */
#define CLI_PROGRESS_INTERVAL_NS 100000000ull /* 10 updates a second */

enum cli_progress_unit {
	CLI_PROGRESS_BYTES, /* "what: 45% (22.5/50.0 MiB)" */
	CLI_PROGRESS_ITEMS, /* "what 12/200" */
};

struct cli_progress {
	pthread_mutex_t lock;
	FILE *out;        /* NULL: disabled (not a terminal, or --quiet) */
	bool shown;       /* a line is on the terminal */
	char what[64];    /* its label (truncated) */
	bool drawn;       /* a line was drawn at last_ns (the rate limit applies) */
	uint64_t last_ns; /* when (CLOCK_MONOTONIC) */
};

/* Start: enabled when cli_progress_enabled(ctx). */
void cli_progress_init(struct cli_progress *p, const struct cli_ctx *ctx);
/* The same onto out (NULL: disabled), for tests. */
void cli_progress_init_to(struct cli_progress *p, FILE *out);
/* Erase the line if one is shown, e.g. before printing to a terminal stdout; p stays usable. */
void cli_progress_clear(struct cli_progress *p);
/* Erase the line if one is shown and release p. */
void cli_progress_end(struct cli_progress *p);

/* The library's callback for p (fn NULL when disabled, so nothing is even reported). */
struct cvm_progress cli_progress_callback(struct cli_progress *p);

/* A cvm_progress_fn (ctx is a struct cli_progress): bytes. */
void cli_progress_bytes(void *ctx, const char *what, uint64_t done, uint64_t total);
/* Counted items ("verifying 12/200"). */
void cli_progress_items(struct cli_progress *p, const char *what, uint64_t done, uint64_t total);
/* Either, at an explicit time now_ns (tests drive the rate limit with it). */
void cli_progress_update_at(struct cli_progress *p, enum cli_progress_unit unit, const char *what,
			    uint64_t done, uint64_t total, uint64_t now_ns);

/* One line without \r into buf (truncated to fit); returns its length. */
size_t cli_progress_format(char *buf, size_t n, enum cli_progress_unit unit, const char *what,
			   uint64_t done, uint64_t total);

/* ---- helpers the verbs share (cli_util.c) ---- */

struct json_object; /* <json-c/json.h> */
struct cvm_policy;  /* <cvmkit/policy.h> */

/*
 * The one-line usage error for getopt_long's ':' (an option without its value) or '?' (an
 * unknown option, or a value given to an option that takes none); call it right after
 * getopt_long returned c, with the optstring starting with ':' (or "+:").  sub, when not NULL,
 * prefixes the message ("check: unknown option '-x'").  Names the option itself, also inside
 * a cluster such as -jx.  Returns CLI_USAGE.
 */
int cli_option_error(const char *verb, const char *sub, int c, char **argv);

/*
 * Print obj as indented JSON and a newline on standard output, then drop the reference to obj
 * (consumed even on failure).  Returns CLI_OK, or CLI_FAIL after "cvmkit VERB: out of memory"
 * when obj is NULL or cannot be serialised.
 */
int cli_print_json(const char *verb, struct json_object *obj);

/*
 * Load a policy for a verb.  On failure every problem goes to stderr on its own line,
 * "cvmkit VERB: FILE: key.path: message" (or the error itself when the file could not be
 * read at all), and NULL is returned; the caller then exits with CLI_FAIL.
 */
struct cvm_policy *cli_load_policy(const char *verb, const char *path);

/*
 * cli_measure.c, one path for `measure` and `verify --policy`: the firmware a policy measures
 * (refused for tee "none" or without firmware.path; its SHA-256 taken on pool, which may be
 * NULL and must outlive *out; *out freed with cvm_firmware_free), and the measurement document
 * of the policy over it (SNP in the given mode; progress on a terminal; SNP's page hashes and
 * TDX's boot-file hashes on pool).
 */
struct cvm_firmware;
struct cvm_measurement;
struct cvm_pool;
int cli_policy_firmware(const struct cvm_policy *p, struct cvm_pool *pool,
			struct cvm_firmware **out, struct cvm_error *err);
int cli_policy_measurement(const struct cli_ctx *ctx, const struct cvm_policy *p,
			   const struct cvm_firmware *fw, enum cvm_sev_mode mode,
			   struct cvm_pool *pool, struct cvm_measurement **out,
			   struct cvm_error *err);

/*
 * verify --policy (cli_verify_policy.c): *rules from the policy's "verify" section (the secure
 * defaults without a policy) with the --allow bits added, and, when expect is not NULL, the
 * measurement document the policy produces into *expect (caller frees).  path NULL: no policy.
 * A bad policy is an error naming it (its problems on stderr).
 */
struct cvm_verify_rules;
int cli_verify_policy(const struct cli_ctx *ctx, const char *path, uint32_t allow,
		      struct cvm_measurement **expect, struct cvm_verify_rules *rules,
		      struct cvm_error *err);
/* "debug,migrate_ma": the CVM_VERIFY_ALLOW_* bits OR-ed into *bits; -EINVAL on a bad name. */
int cli_verify_allow_parse(const char *list, uint32_t *bits);

/*
 * --threads N of the verbs that spread work over a pool (measure, explain, verify): 1..
 * CVM_POOL_MAX_THREADS into *out, else the usage error (CLI_USAGE).  0 in *out, the default,
 * means every CPU the process may run on.
 */
int cli_threads_parse(const char *verb, const char *arg, unsigned *out);
#define CLI_THREADS_HELP                                                                          \
	"  --threads N             spread the work over N threads (default: every CPU this\n"     \
	"                          process may run on; 1: no threads); results do not change\n"

/* The pool of --threads (0: every CPU); *out is NULL for 1 thread.  Free with cvm_pool_free. */
struct cvm_pool;
int cli_pool_new(unsigned threads, struct cvm_pool **out, struct cvm_error *err);

/* REPORT_DATA as hex (up to 64 bytes, "0x" allowed) into out, zero-padded; -EINVAL otherwise. */
int cli_report_data_parse(const char *hex, uint8_t out[64]);

/* The whole of path as a NUL-terminated string; *out is malloc'd and written only on success. */
int cli_read_text_file(const char *path, char **out, struct cvm_error *err);

struct cvm_plan; /* <cvmkit/plan.h> */

/* The plan of a policy, one line per op (GPA, size, data, page type, flags): --dry-run's output. */
void cli_print_plan(FILE *out, const struct cvm_policy *p, const struct cvm_plan *plan);

/* ---- the fetch options `fetch` and `verify --fetch` share (cli_fetch.c) ---- */

/* getopt_long values of the shared options, clear of every verb's own. */
enum {
	CLI_OPT_KDS_URL = 0x400,
	CLI_OPT_PCS_URL,
	CLI_OPT_CACHE,
	CLI_OPT_OFFLINE,
	CLI_OPT_CA_BUNDLE,
	CLI_OPT_TIMEOUT,
};

/* The struct option lines of the shared options (inside a verb's option table). */
#define CLI_FETCH_LONG_OPTIONS                                                                    \
	{"kds-url", required_argument, NULL, CLI_OPT_KDS_URL},                                    \
		{"pcs-url", required_argument, NULL, CLI_OPT_PCS_URL},                            \
		{"cache", required_argument, NULL, CLI_OPT_CACHE},                                \
		{"offline", no_argument, NULL, CLI_OPT_OFFLINE},                                  \
		{"ca-bundle", required_argument, NULL, CLI_OPT_CA_BUNDLE},                        \
		{"timeout", required_argument, NULL, CLI_OPT_TIMEOUT}

/* Their --help lines. */
#define CLI_FETCH_HELP                                                                            \
	"  --kds-url URL           AMD KDS base URL (default " CVM_FETCH_DEFAULT_KDS_URL ")\n"     \
	"  --pcs-url URL           Intel PCS or PCCS base URL (default\n"                            \
	"                          " CVM_FETCH_DEFAULT_PCS_URL ")\n"                                 \
	"  --cache DIR             the shared cache (default $XDG_CACHE_HOME/cvmkit, else\n"         \
	"                          ~/.cache/cvmkit)\n"                                               \
	"  --offline               the cache only: nothing is fetched, missing items are named\n"    \
	"  --ca-bundle FILE        PEM CA certificates for HTTPS (default: the system's)\n"          \
	"  --timeout SECONDS       per HTTP attempt (default 30)\n"

/*
 * One getopt_long result c (value arg) into cfg when it is a shared fetch option: 1 when it
 * was one, 0 when not, CLI_USAGE after the usage error for a bad value.  The strings are
 * borrowed from argv.
 */
int cli_fetch_option(const char *verb, int c, const char *arg, struct cvm_fetch_config *cfg);

/*
 * What was fetched for one piece of evidence, one line per item on out: "INDENT KIND ORIGIN SOURCE"
 * (ORIGIN "cache" or "network" and SOURCE the cache file or the URL; "missing" when the item
 * could not be had).
 */
void cli_fetch_print(FILE *out, const char *indent, const struct cvm_fetch_evidence *fe);

/* "cvmkit VERB: EVIDENCE: KIND: why" on to (stderr, or a file's messages kept for their turn)
   for each item not had; returns their number. */
size_t cli_fetch_report_failures(FILE *to, const char *verb, const char *evidence,
				 const struct cvm_fetch_evidence *fe);

/* The same as a JSON array of {kind, what, origin, source, url, cache_path | error}. */
struct json_object *cli_fetch_json(const struct cvm_fetch_evidence *fe);

#endif
