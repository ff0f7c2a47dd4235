/* SPDX-License-Identifier: Apache-2.0 */
/* cvmkit: main and the verb table. */
#include "launcher/cli/cli.h"

#include <stdio.h>
#include <string.h>

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
	{"explain", "why a measurement differs from a policy's: the inputs that would match", cmd_explain},
	{"fetch", "fetch the VCEK, AMD chain and Intel collateral evidence needs (cache)", cmd_fetch},
	{"evidence", "in a confidential VM: get a report (configfs-tsm) and the event log", cmd_evidence},
	{"libvirt", "libvirt capabilities, domain XML and define", cli_run_libvirt_helper},
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

int main(int argc, char **argv)
{
	struct cli_ctx ctx = {0};
	int i = 1;
	bool help = false;
	int rc = cli_parse_global_options(argc, argv, &ctx, &i, &help);
	if (rc >= 0) {
		if (help)
			print_help(stdout);
		return cli_finish_stdout(NULL, rc);
	}
	if (i == argc) {
		print_help(stderr);
		return CLI_USAGE;
	}
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++)
		if (strcmp(argv[i], verbs[v].name) == 0)
			return cli_finish_stdout(verbs[v].name, verbs[v].run(&ctx, argc - i, argv + i));
	return cli_usage_error(NULL, "unknown verb '%s'", argv[i]);
}
