/* SPDX-License-Identifier: Apache-2.0 */
/* cvmkit: main and the verb table. */
#include "launcher/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct cli_verb {
	const char *name;
	const char *summary;
	int (*run)(const struct cli_ctx *ctx, int argc, char **argv);
};

static const struct cli_verb verbs[] = {
	{"inspect", "show a firmware image's GUID table, SEV and TDX metadata", cmd_inspect},
	{"policy", "check a VM policy, or convert it between JSON and CBOR", cmd_policy},
	{"measure", "compute the launch measurement a policy will produce", cmd_measure},
	{"id-block", "build an SNP ID block and ID auth structure", cmd_id_block},
	{"launch", "launch a VM on KVM and emit the digest of what was done", cmd_launch},
	{"host", "report what this host's KVM supports", cmd_host},
	{"verify", "verify SNP attestation reports and TDX quotes", cmd_verify},
	{"eventlog", "list a CC event log's events and the RTMRs it replays to", cmd_eventlog},
	{"libvirt", "libvirt capabilities, domain XML and define", cmd_libvirt},
};

static void print_help(FILE *out)
{
	fprintf(out,
		"usage: cvmkit [--quiet|--verbose] VERB [OPTIONS] [ARGS]\n"
		"       cvmkit --help | --version\n"
		"\n"
		"Launch confidential VMs (AMD SEV-SNP, Intel TDX) on KVM and produce and check their\n"
		"launch measurements.\n"
		"\n"
		"verbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(out, "\n"
		     "'cvmkit VERB --help' describes a verb.  Exit status: 0 success, 1 the job failed,\n"
		     "2 usage error.\n");
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "cvmkit%s%s: ", verb ? " " : "", verb ? verb : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'cvmkit%s%s --help')\n", verb ? " " : "", verb ? verb : "");
	return CLI_USAGE;
}

int cli_fail(const char *verb, const struct cvm_error *err)
{
	fprintf(stderr, "cvmkit %s: %s\n", verb, cvm_error_message(err));
	return CLI_FAIL;
}

void cli_info(const struct cli_ctx *ctx, const char *fmt, ...)
{
	if (ctx && ctx->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

bool cli_progress_enabled(const struct cli_ctx *ctx)
{
	return !(ctx && ctx->quiet) && isatty(STDERR_FILENO);
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = {0};
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			print_help(stdout);
			return CLI_OK;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("cvmkit %s\n", CVMKIT_VERSION);
			return CLI_OK;
		}
		if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			ctx.quiet = true;
		else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
			ctx.verbose = true;
		else
			return cli_usage_error(NULL, "unknown option '%s'", a);
	}
	if (ctx.quiet && ctx.verbose)
		return cli_usage_error(NULL, "give --quiet or --verbose, not both");
	if (i == argc) {
		print_help(stderr);
		return CLI_USAGE;
	}
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++)
		if (strcmp(argv[i], verbs[v].name) == 0)
			return verbs[v].run(&ctx, argc - i, argv + i);
	return cli_usage_error(NULL, "unknown verb '%s'", argv[i]);
}
