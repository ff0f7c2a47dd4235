/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmkit evidence --out DIR [--report-data HEX]: inside a confidential VM, get a report through
 * configfs-tsm and the CC event log, and leave them in DIR in the layouts cvmkit verify reads.
 */
#include "launcher/cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <cvmkit/tsm.h>
#include <cvmkit/util.h>

static const char verb[] = "evidence";

static void print_usage(void)
{
	printf("usage: cvmkit evidence --out DIR [--report-data HEX] [OPTIONS]\n"
	       "\n"
	       "Inside a confidential VM: request an attestation report through Linux's configfs-tsm\n"
	       "interface (" CVM_TSM_DEFAULT_DIR "; Linux 6.7 or later with\n"
	       "the sev-guest or tdx-guest driver) with REPORT_DATA, read the CC event log (CCEL),\n"
	       "and write them to DIR:\n"
	       "  outblob, auxblob, manifestblob, provider   the configfs-tsm attributes as read\n"
	       "  tsm-report.json, tsm-report.cbor           Veraison's configfs-tsm formats\n"
	       "  report-certs.bin                           SNP: the report and its certificate table\n"
	       "  ccel-table.bin, ccel.bin                   the CCEL ACPI table and its event log\n"
	       "  tdx-evidence.json                          TDX: Trustee's {quote, cc_eventlog}\n"
	       "Each of tsm-report.json, report-certs.bin and tdx-evidence.json is evidence for\n"
	       "'cvmkit verify'.\n"
	       "\n"
	       "options:\n"
	       "  --out DIR            where to write (made when missing)\n"
	       "  --report-data HEX    REPORT_DATA, up to 64 bytes (zero-padded); give the verifier's\n"
	       "                       nonce (default: 64 zero bytes)\n"
	       "  --privlevel N        SEV-SNP: the VMPL to request the report at (0..3)\n"
	       "  --tsm-dir DIR        the configfs-tsm report folder (default\n"
	       "                       " CVM_TSM_DEFAULT_DIR ")\n"
	       "  --acpi-dir DIR       the ACPI tables folder (default " CVM_ACPI_TABLES_DIR ")\n"
	       "  --no-ccel            do not read the CC event log\n"
	       "  --json               what was written, as JSON\n"
	       "  -h, --help           this text\n"
	       "\n"
	       "Exit status: 0 when the report was written, 1 when it could not be had, 2 usage.\n");
}

enum {
	OPT_OUT = 256,
	OPT_REPORT_DATA,
	OPT_PRIVLEVEL,
	OPT_TSM_DIR,
	OPT_ACPI_DIR,
	OPT_NO_CCEL,
	OPT_JSON,
};

static const struct option long_opts[] = {
	{"out", required_argument, NULL, OPT_OUT},
	{"report-data", required_argument, NULL, OPT_REPORT_DATA},
	{"privlevel", required_argument, NULL, OPT_PRIVLEVEL},
	{"tsm-dir", required_argument, NULL, OPT_TSM_DIR},
	{"acpi-dir", required_argument, NULL, OPT_ACPI_DIR},
	{"no-ccel", no_argument, NULL, OPT_NO_CCEL},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct evidence_args {
	const char *out;
	const char *acpi_dir;
	bool no_ccel;
	bool json;
	bool has_report_data;
	struct cvm_tsm_request req;
};

static int parse_args(int argc, char **argv, struct evidence_args *a)
{
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_OUT:
			a->out = optarg;
			break;
		case OPT_REPORT_DATA:
			if (cli_report_data_parse(optarg, a->req.inblob))
				return cli_usage_error(verb, "--report-data: expected up to 128 hex digits");
			a->has_report_data = true;
			break;
		case OPT_PRIVLEVEL:
			if (optarg[0] < '0' || optarg[0] > '3' || optarg[1])
				return cli_usage_error(verb, "--privlevel: expected 0, 1, 2 or 3");
			a->req.has_privlevel = true;
			a->req.privlevel = (unsigned)(optarg[0] - '0');
			break;
		case OPT_TSM_DIR:
			a->req.tsm_dir = optarg;
			break;
		case OPT_ACPI_DIR:
			a->acpi_dir = optarg;
			break;
		case OPT_NO_CCEL:
			a->no_ccel = true;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case 'h':
			print_usage();
			return -1;
		default:
			return cli_option_error(verb, NULL, c, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(verb, "unexpected argument '%s'", argv[optind]);
	if (!a->out)
		return cli_usage_error(verb, "--out DIR is required");
	return 0;
}

static void print_result(const struct evidence_args *a, const struct cvm_tsm_report *r,
			 const char **names, size_t n, bool ccel)
{
	if (a->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "out", json_object_new_string(a->out));
		json_object_object_add(o, "provider", json_object_new_string(r->provider));
		json_object_object_add(o, "generation", json_object_new_uint64(r->generation));
		json_object_object_add(o, "ccel", json_object_new_boolean(ccel));
		json_object *files = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(files, json_object_new_string(names[i]));
		json_object_object_add(o, "files", files);
		cli_print_json(verb, o);
		return;
	}
	cli_printf_safe(stdout, "%s: %s report of %zu bytes%s%s\n", a->out, r->provider,
			r->outblob_len, r->auxblob ? ", certificate table" : "",
			ccel ? ", CC event log" : "");
	for (size_t i = 0; i < n; i++)
		printf("  %s\n", names[i]);
}

int cmd_evidence(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct evidence_args a;
	memset(&a, 0, sizeof(a));
	int status = parse_args(argc, argv, &a);
	if (status != 0)
		return status < 0 ? CLI_OK : status;
	if (!a.has_report_data)
		cli_info(ctx, "cvmkit %s: no --report-data: REPORT_DATA is 64 zero bytes (give the "
			      "verifier's nonce for freshness)",
			 verb);
	struct cvm_error err;
	cvm_error_clear(&err);
	struct cvm_tsm_report *r = NULL;
	if (cvm_tsm_report_get(&a.req, &r, &err))
		return cli_fail(verb, &err);
	struct cvm_ccel ccel = {0};
	bool have_ccel = false;
	if (!a.no_ccel) {
		struct cvm_error cerr;
		cvm_error_clear(&cerr);
		int rc = cvm_ccel_read(a.acpi_dir, &ccel, &cerr);
		have_ccel = rc == 0;
		if (rc == -ENOENT)
			cli_info(ctx, "cvmkit %s: no CC event log here (%s)", verb,
				 cvm_error_message(&cerr));
		else if (rc) {
			cvm_tsm_report_free(r);
			return cli_fail(verb, &cerr);
		}
	}
	const char *names[CVM_EVIDENCE_DIR_MAX_FILES];
	size_t n = 0;
	if (cvm_evidence_write_dir(a.out, r, have_ccel ? &ccel : NULL, names, &n, &err))
		status = cli_fail(verb, &err);
	else
		print_result(&a, r, names, n, have_ccel);
	cvm_ccel_release(&ccel);
	cvm_tsm_report_free(r);
	return status;
}
