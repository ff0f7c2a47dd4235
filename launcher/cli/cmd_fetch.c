/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmkit fetch EVIDENCE... [--export DIR]: fill the shared cache with what verifying the
 * evidence needs (AMD KDS, Intel PCS), listing where each item came from, and optionally write
 * the air-gap bundle that `cvmkit verify --certs/--collateral` reads.
 */
#include "launcher/cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <cvmkit/evidence.h>
#include <cvmkit/fetch.h>
#include <cvmkit/util.h>
#include <cvmkit/verify.h>

static const char verb[] = "fetch";

static void print_usage(void)
{
	printf("usage: cvmkit fetch EVIDENCE... [--export DIR] [OPTIONS]\n"
	       "\n"
	       "Fetch what verifying the evidence needs into the cache, so that later runs work\n"
	       "offline (cvmkit verify --fetch --offline), or into an air-gap bundle (--export):\n"
	       "  SNP  the VCEK of the report's chip and REPORTED_TCB (AMD KDS), the product's ASK\n"
	       "       (ASVK for VLEK-signed reports) and ARK, and the ARK's CRL\n"
	       "  TDX  the TCB info for the PCK certificate's FMSPC, the QE identity, the CRL of the\n"
	       "       PCK CA that issued it and the Intel SGX root CA CRL (Intel PCS or a PCCS)\n"
	       "The evidence may be in any form cvmkit verify reads (raw, hex, Trustee, Veraison,\n"
	       "Azure, an SNP report with its certificate table).  Each item is listed with where it\n"
	       "came from: \"cache\" and the file, or \"network\" and the URL.  Nothing fetched is\n"
	       "trusted for it: cvmkit verify checks every signature.\n"
	       "Exit status 0 when every item was had, 1 otherwise (each failure on stderr), 2 usage.\n"
	       "\n"
	       "options:\n"
	       "  --export DIR            also write the items as an air-gap bundle: DIR/certs (for\n"
	       "                          --certs), DIR/collateral (for --collateral), DIR/sources.txt\n"
	       CLI_FETCH_HELP
	       "  --at RFC3339            judge CRL and collateral expiry at this time (default now)\n"
	       "  --product milan|genoa|turin  SNP product line (default: the report's, else tried)\n"
	       "  --no-amd-crl            SNP: not the ARK's CRL\n"
	       "  --json                  one JSON object per evidence file\n"
	       "  -h, --help              this text\n");
}

enum {
	OPT_EXPORT = 256,
	OPT_AT,
	OPT_PRODUCT,
	OPT_NO_AMD_CRL,
	OPT_JSON,
};

static const struct option long_opts[] = {
	{"export", required_argument, NULL, OPT_EXPORT},
	{"at", required_argument, NULL, OPT_AT},
	{"product", required_argument, NULL, OPT_PRODUCT},
	{"no-amd-crl", no_argument, NULL, OPT_NO_AMD_CRL},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	CLI_FETCH_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

struct fetch_args {
	struct cvm_fetch_config cfg;
	struct cvm_fetch_evidence_options opt;
	const char *export_dir;
	bool json;
};

static int parse_args(int argc, char **argv, struct fetch_args *a)
{
	optind = 1;
	opterr = 0;
	a->opt.amd_crl = true;
	int c;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		int shared = cli_fetch_option(verb, c, optarg, &a->cfg);
		if (shared == 1)
			continue;
		if (shared)
			return shared;
		switch (c) {
		case OPT_EXPORT:
			a->export_dir = optarg;
			break;
		case OPT_AT:
			if (cvm_time_parse_rfc3339(optarg, &a->cfg.time))
				return cli_usage_error(verb, "--at: '%s' is not an RFC 3339 time", optarg);
			a->cfg.has_time = true;
			break;
		case OPT_PRODUCT:
			if (cvm_amd_product_parse(optarg, &a->opt.product))
				return cli_usage_error(verb, "--product: '%s' is not milan, genoa or turin",
						       optarg);
			break;
		case OPT_NO_AMD_CRL:
			a->opt.amd_crl = false;
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
	if (optind >= argc)
		return cli_usage_error(verb, "no evidence file given");
	return 0;
}

/* Items of every evidence file for the bundle, each file name once. */
struct bundle {
	struct cvm_fetch_item **items;
	size_t n, cap;
};

static bool bundle_add(struct bundle *b, struct cvm_fetch_item *it)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->items[i]->export_name, it->export_name) == 0)
			return true;
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		struct cvm_fetch_item **n = realloc(b->items, cap * sizeof(*n));
		if (!n)
			return false;
		b->items = n;
		b->cap = cap;
	}
	b->items[b->n++] = it;
	return true;
}

/* Fetch for one file; *fe_out keeps the items (for the bundle).  Returns false on a failure. */
static bool fetch_one(struct cvm_fetcher *f, const char *path, const struct fetch_args *a,
		      struct cvm_fetch_evidence **fe_out)
{
	struct cvm_error err;
	struct cvm_file file;
	cvm_error_clear(&err);
	struct cvm_fetch_evidence *fe = NULL;
	int rc = cvm_file_read(path, CVM_EVIDENCE_MAX_BYTES, &file, &err);
	if (!rc) {
		rc = cvm_fetch_for_evidence(f, file.data, file.size, &a->opt, &fe, &err);
		cvm_file_close(&file);
	}
	if (rc) {
		cli_printf_safe(stderr, "cvmkit %s: %s: %s\n", verb, path, cvm_error_message(&err));
		if (a->json) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "evidence", json_object_new_string(path));
			json_object_object_add(o, "error",
					       json_object_new_string(cvm_error_message(&err)));
			puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(o);
		}
		return false;
	}
	if (a->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "evidence", json_object_new_string(path));
		json_object_object_add(o, "type", json_object_new_string(cvm_evidence_kind_name(fe->kind)));
		json_object_object_add(o, "items", cli_fetch_json(fe));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		cli_printf_safe(stdout, "%s: %s evidence\n", path, cvm_evidence_kind_name(fe->kind));
		cli_fetch_print(stdout, "  ", fe);
	}
	*fe_out = fe;
	return cli_fetch_report_failures(stderr, verb, path, fe) == 0;
}

static int export_bundle(const struct fetch_args *a, struct cvm_fetch_evidence **all, size_t n)
{
	struct bundle b = {0};
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++)
		for (size_t j = 0; all[i] && j < all[i]->n && ok; j++)
			if (all[i]->needed[j].item)
				ok = bundle_add(&b, all[i]->needed[j].item);
	struct cvm_error err;
	cvm_error_clear(&err);
	int status = CLI_OK;
	if (!ok) {
		cvm_error_set(&err, -ENOMEM, "out of memory");
		status = cli_fail(verb, &err);
	} else if (b.n == 0) {
		cvm_error_set(&err, -ENOENT, "--export %s: nothing was fetched to export",
			      a->export_dir);
		status = cli_fail(verb, &err);
	} else if (cvm_fetch_export(a->export_dir, b.items, b.n, &err)) {
		status = cli_fail(verb, &err);
	} else if (!a->json) {
		cli_printf_safe(stdout, "exported %zu item%s to %s (certs/, collateral/, sources.txt)\n",
				b.n, b.n == 1 ? "" : "s", a->export_dir);
	}
	free(b.items);
	return status;
}

int cmd_fetch(const struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	struct fetch_args a;
	memset(&a, 0, sizeof(a));
	int status = parse_args(argc, argv, &a);
	if (status != 0)
		return status < 0 ? CLI_OK : status;
	struct cvm_error err;
	cvm_error_clear(&err);
	struct cvm_fetcher *f = NULL;
	if (cvm_fetcher_new(&a.cfg, &f, &err))
		return cli_fail(verb, &err);
	size_t n = (size_t)(argc - optind);
	struct cvm_fetch_evidence **all = calloc(n, sizeof(*all));
	if (!all) {
		cvm_fetcher_free(f);
		cvm_error_set(&err, -ENOMEM, "out of memory");
		return cli_fail(verb, &err);
	}
	for (size_t i = 0; i < n; i++)
		if (!fetch_one(f, argv[optind + (int)i], &a, &all[i]))
			status = CLI_FAIL;
	if (a.export_dir) {
		int st = export_bundle(&a, all, n);
		if (st != CLI_OK)
			status = st;
	}
	for (size_t i = 0; i < n; i++)
		cvm_fetch_evidence_free(all[i]);
	free(all);
	cvm_fetcher_free(f);
	return status;
}
