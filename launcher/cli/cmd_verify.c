/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmkit verify: check SNP attestation reports and TDX quotes, one verdict per evidence file.
 * The trust material (bundled roots, --certs, --collateral) is loaded once into one verifier, so
 * a batch pays for the certificate chain once.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include <cvmkit/emit.h>
#include <cvmkit/eventlog.h>
#include <cvmkit/evidence.h>
#include <cvmkit/fetch.h>
#include <cvmkit/util.h>
#include <cvmkit/verify.h>

#include "launcher/cli/cli.h"

static const char verb[] = "verify";

static void print_usage(void)
{
	printf("usage: cvmkit verify EVIDENCE... [OPTIONS]\n"
	       "\n"
	       "Verify SEV-SNP attestation reports and TDX quotes, raw (binary or hex text) or in the\n"
	       "wrappers pipelines receive (Trustee and Azure evidence JSON, Veraison tsm-report JSON\n"
	       "or CBOR, an Azure HCL report, an SNP report with its certificate table), detected from\n"
	       "the content.  Prints every check with pass/fail and why, and the parsed fields.\n"
	       "Exit status 0 only when every check of every evidence file passes, 1 otherwise.\n"
	       "\n"
	       "trust material:\n"
	       "  --certs DIR|FILE         VCEK/VLEK and AMD intermediates, AMD CRLs, GHCB certificate\n"
	       "                           tables, the TDX TCB Signing chain (DER or PEM; a folder\n"
	       "                           loads every such file in it); repeatable\n"
	       "  --collateral DIR|FILE    TDX TCB info, QE identity, CRLs, issuer chains; repeatable\n"
	       "  --product milan|genoa|turin  SNP product line (default: report CPUID, then certificate)\n"
	       "  --at RFC3339             verification time for certificates and collateral (default now)\n"
	       "  --fetch                  get what each evidence file needs from AMD KDS / Intel PCS\n"
	       "                           (cache first) and verify it like supplied material:\n"
	       CLI_FETCH_HELP
	       "expectations and verifier policy:\n"
	       "  --expect FILE            measurement document from 'cvmkit measure' (JSON, CBOR, CoRIM)\n"
	       "  --eventlog LOG           TDX: replay this CC event log against each RTMR of the quote\n"
	       "                           (default: the log Trustee's evidence carries) and match\n"
	       "                           the expected events of --expect against it\n"
	       "  --report-data HEX        expected REPORT_DATA (up to 64 bytes, zero-padded)\n"
	       "  --report-data-file FILE  expected REPORT_DATA as raw bytes (up to 64)\n"
	       "  --allow-debug            accept debug-enabled guests (refused by default)\n"
	       "  --no-smt                 SNP: refuse guests whose policy allows SMT\n"
	       "  --vmpl LIST              SNP: allowed VMPLs, e.g. 0 or 0,1 (default: any)\n"
	       "  --min-tcb HEX            SNP: minimum REPORTED_TCB (u64, product layout)\n"
	       "  --min-tee-tcb-svn HEX    TDX: minimum TEE_TCB_SVN (16 bytes, byte-wise)\n"
	       "  --require-uptodate       TDX collateral: TCB status must be UpToDate (default: any\n"
	       "                           known status but Revoked passes and is reported)\n"
	       "  --check-revocation       SNP: require AMD's CRL for the chain (from --certs, the\n"
	       "                           evidence, or --fetch) and fail without one\n"
	       "output:\n"
	       "  --json                   one JSON verdict per line per evidence file\n"
	       "  -h, --help               this text\n");
}

enum {
	OPT_EXPECT = 256,
	OPT_CERTS,
	OPT_COLLATERAL,
	OPT_PRODUCT,
	OPT_REPORT_DATA,
	OPT_REPORT_DATA_FILE,
	OPT_AT,
	OPT_ALLOW_DEBUG,
	OPT_NO_SMT,
	OPT_VMPL,
	OPT_MIN_TCB,
	OPT_MIN_TEE_TCB_SVN,
	OPT_JSON,
	OPT_REQUIRE_UPTODATE,
	OPT_FETCH,
	OPT_CHECK_REVOCATION,
	OPT_EVENTLOG,
};

static const struct option long_opts[] = {
	{"expect", required_argument, NULL, OPT_EXPECT},
	{"certs", required_argument, NULL, OPT_CERTS},
	{"collateral", required_argument, NULL, OPT_COLLATERAL},
	{"product", required_argument, NULL, OPT_PRODUCT},
	{"report-data", required_argument, NULL, OPT_REPORT_DATA},
	{"report-data-file", required_argument, NULL, OPT_REPORT_DATA_FILE},
	{"at", required_argument, NULL, OPT_AT},
	{"allow-debug", no_argument, NULL, OPT_ALLOW_DEBUG},
	{"no-smt", no_argument, NULL, OPT_NO_SMT},
	{"vmpl", required_argument, NULL, OPT_VMPL},
	{"min-tcb", required_argument, NULL, OPT_MIN_TCB},
	{"min-tee-tcb-svn", required_argument, NULL, OPT_MIN_TEE_TCB_SVN},
	{"require-uptodate", no_argument, NULL, OPT_REQUIRE_UPTODATE},
	{"json", no_argument, NULL, OPT_JSON},
	{"fetch", no_argument, NULL, OPT_FETCH},
	{"check-revocation", no_argument, NULL, OPT_CHECK_REVOCATION},
	{"eventlog", required_argument, NULL, OPT_EVENTLOG},
	{"help", no_argument, NULL, 'h'},
	CLI_FETCH_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

/* ---- loading trust material ---- */

typedef int (*add_fn)(struct cvm_verifier *v, const uint8_t *data, size_t len, const char *origin,
		      struct cvm_error *err);

static int add_file(struct cvm_verifier *v, add_fn add, const char *path, struct cvm_error *err)
{
	struct cvm_file f;
	int rc = cvm_file_open(path, &f, err);
	if (rc)
		return rc;
	const char *base = strrchr(path, '/');
	rc = add(v, f.data, f.size, base ? base + 1 : path, err);
	cvm_file_close(&f);
	return rc < 0 ? rc : 0;
}

/* A folder: every regular file that is what add() takes; others are skipped. */
static int add_path(struct cvm_verifier *v, add_fn add, const char *path, const char *what,
		    struct cvm_error *err)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return cvm_error_set(err, -errno, "%s %s: %s", what, path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		int rc = add_file(v, add, path, err);
		return rc ? cvm_error_wrap(err, "%s", what) : 0;
	}
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return cvm_error_set(err, -errno, "%s %s: %s", what, path, strerror(errno));
	int loaded = 0;
	for (int i = 0; i < n; i++) {
		char *full = names[i]->d_name[0] == '.' ? NULL : cvm_path_join(path, names[i]->d_name);
		struct stat fst;
		struct cvm_error ignored;
		if (full && stat(full, &fst) == 0 && S_ISREG(fst.st_mode) &&
		    add_file(v, add, full, &ignored) == 0)
			loaded++;
		free(full);
		free(names[i]);
	}
	free(names);
	if (loaded == 0)
		return cvm_error_set(err, -ENOENT, "%s %s: nothing usable in this folder", what, path);
	return 0;
}

/* ---- option values ---- */

static int parse_vmpl_list(const char *s, uint32_t *mask)
{
	uint32_t m = 0;
	const char *p = s;
	while (*p) {
		if (*p < '0' || *p > '3')
			return -EINVAL;
		m |= 1u << (*p - '0');
		p++;
		if (*p == ',')
			p++;
		else if (*p)
			return -EINVAL;
	}
	if (!m)
		return -EINVAL;
	*mask = m;
	return 0;
}

static int parse_u64_hex(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 16);
	if (errno || end == s || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* ---- output ---- */

/* Calls emit(key, value) for every parsed field, values as text. */
typedef void (*field_fn)(void *ctx, const char *key, const char *value);

static void emit_hex(field_fn emit, void *ctx, const char *key, const uint8_t *p, size_t n)
{
	char text[2 * 64 + 1];
	cvm_hex_encode(p, n < 64 ? n : 64, text);
	emit(ctx, key, text);
}

__attribute__((format(printf, 4, 5)))
static void emit_fmt(field_fn emit, void *ctx, const char *key, const char *fmt, ...)
{
	char text[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	emit(ctx, key, text);
}

static void snp_fields(const struct cvm_snp_report *r, field_fn emit, void *ctx)
{
	emit_fmt(emit, ctx, "version", "%u", r->version);
	emit_fmt(emit, ctx, "guest_svn", "%u", r->guest_svn);
	emit_fmt(emit, ctx, "policy", "0x%llx", (unsigned long long)r->policy);
	emit_hex(emit, ctx, "family_id", r->family_id, 16);
	emit_hex(emit, ctx, "image_id", r->image_id, 16);
	emit_fmt(emit, ctx, "vmpl", "%u", r->vmpl);
	unsigned key = cvm_snp_report_signing_key(r);
	emit(ctx, "signing_key", key == 0 ? "vcek" : key == 1 ? "vlek" : key == 7 ? "none" : "reserved");
	emit_fmt(emit, ctx, "current_tcb", "0x%016llx", (unsigned long long)r->current_tcb);
	emit_fmt(emit, ctx, "reported_tcb", "0x%016llx", (unsigned long long)r->reported_tcb);
	emit_fmt(emit, ctx, "committed_tcb", "0x%016llx", (unsigned long long)r->committed_tcb);
	emit_fmt(emit, ctx, "launch_tcb", "0x%016llx", (unsigned long long)r->launch_tcb);
	emit_fmt(emit, ctx, "platform_info", "0x%llx", (unsigned long long)r->platform_info);
	if (r->version >= 3)
		emit_fmt(emit, ctx, "cpuid", "family 0x%02x model 0x%02x stepping 0x%02x",
			 r->cpuid_fam_id, r->cpuid_mod_id, r->cpuid_step);
	emit_fmt(emit, ctx, "current_firmware", "%u.%u.%u", r->current_major, r->current_minor,
		 r->current_build);
	emit_hex(emit, ctx, "measurement", r->measurement, 48);
	emit_hex(emit, ctx, "host_data", r->host_data, 32);
	emit_hex(emit, ctx, "report_data", r->report_data, 64);
	emit_hex(emit, ctx, "id_key_digest", r->id_key_digest, 48);
	emit_hex(emit, ctx, "author_key_digest", r->author_key_digest, 48);
	emit_hex(emit, ctx, "chip_id", r->chip_id, 64);
}

static void tdx_fields(const struct cvm_tdx_quote *q, field_fn emit, void *ctx)
{
	static const char *const rtmr_keys[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
	const struct cvm_tdx_td_body *bd = &q->body;
	emit_fmt(emit, ctx, "version", "%u", q->version);
	emit_fmt(emit, ctx, "body_type", "%u", q->body_type);
	emit_hex(emit, ctx, "tee_tcb_svn", bd->tee_tcb_svn, 16);
	emit_hex(emit, ctx, "mr_seam", bd->mrseam, 48);
	emit_hex(emit, ctx, "mrsigner_seam", bd->mrsignerseam, 48);
	emit_fmt(emit, ctx, "seam_attributes", "0x%016llx", (unsigned long long)bd->seam_attributes);
	emit_fmt(emit, ctx, "td_attributes", "0x%016llx", (unsigned long long)bd->td_attributes);
	emit_fmt(emit, ctx, "xfam", "0x%016llx", (unsigned long long)bd->xfam);
	emit_hex(emit, ctx, "mr_td", bd->mrtd, 48);
	emit_hex(emit, ctx, "mr_config_id", bd->mrconfigid, 48);
	emit_hex(emit, ctx, "mr_owner", bd->mrowner, 48);
	emit_hex(emit, ctx, "mr_owner_config", bd->mrownerconfig, 48);
	for (int i = 0; i < 4; i++)
		emit_hex(emit, ctx, rtmr_keys[i], bd->rtmr[i], 48);
	emit_hex(emit, ctx, "report_data", bd->report_data, 64);
	if (q->body_type == CVM_TDX_BODY_TDX15) {
		emit_hex(emit, ctx, "tee_tcb_svn2", bd->tee_tcb_svn2, 16);
		emit_hex(emit, ctx, "mr_servicetd", bd->mrservicetd, 48);
	}
}

/* Parse again only to show the fields (verification has its own parse). */
static void each_field(const uint8_t *data, size_t len, field_fn emit, void *ctx)
{
	enum cvm_evidence_kind kind = cvm_evidence_detect(data, len);
	if (kind == CVM_EVIDENCE_SNP_REPORT) {
		struct cvm_snp_report *r = malloc(sizeof(*r));
		if (r && cvm_snp_report_parse(data, len, r, NULL) == 0)
			snp_fields(r, emit, ctx);
		free(r);
	} else if (kind == CVM_EVIDENCE_TDX_QUOTE) {
		struct cvm_tdx_quote q;
		if (cvm_tdx_quote_parse(data, len, &q, NULL) == 0)
			tdx_fields(&q, emit, ctx);
	}
}

static void text_field(void *ctx, const char *key, const char *value)
{
	(void)ctx;
	cli_printf_safe(stdout, "    %-18s %s\n", key, value);
}

static void json_field(void *ctx, const char *key, const char *value)
{
	json_object_object_add((json_object *)ctx, key, json_object_new_string(value));
}

static void print_text(const char *path, const struct cvm_verify_result *res, const uint8_t *data,
		       size_t len)
{
	bool ok = cvm_verify_result_ok(res);
	cli_printf_safe(stdout, "%s: %s evidence: %s\n", path, cvm_evidence_kind_name(res->kind), ok ? "PASS" : "FAIL");
	for (size_t i = 0; i < res->nchecks; i++) {
		const struct cvm_check *c = &res->checks[i];
		cli_printf_safe(stdout, "  %-4s  %-22s %s\n", cvm_check_status_name(c->status), c->name,
				c->reason);
	}
	if (res->kind == CVM_EVIDENCE_SNP_REPORT && res->product != CVM_AMD_UNKNOWN)
		printf("  product: %s\n", cvm_amd_product_name(res->product));
	if (res->tcb_status[0])
		cli_printf_safe(stdout, "  tcb status: %s\n", res->tcb_status);
	const struct cvm_check *parse = cvm_verify_result_find(res, "parse");
	if (data && parse && parse->status == CVM_CHECK_PASS) {
		printf("  fields:\n");
		each_field(data, len, text_field, NULL);
	}
}

/* sources: an array of where the trust material came from (consumed), or NULL. */
static void print_json(const char *path, const struct cvm_verify_result *res, const uint8_t *data,
		       size_t len, json_object *sources)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "evidence", json_object_new_string(path));
	json_object_object_add(o, "type", json_object_new_string(cvm_evidence_kind_name(res->kind)));
	json_object_object_add(o, "verdict",
			       json_object_new_string(cvm_verify_result_ok(res) ? "pass" : "fail"));
	if (res->kind == CVM_EVIDENCE_SNP_REPORT)
		json_object_object_add(o, "product",
				       json_object_new_string(cvm_amd_product_name(res->product)));
	if (res->tcb_status[0])
		json_object_object_add(o, "tcb_status", json_object_new_string(res->tcb_status));
	json_object *checks = json_object_new_array();
	for (size_t i = 0; i < res->nchecks; i++) {
		const struct cvm_check *c = &res->checks[i];
		json_object *jc = json_object_new_object();
		json_object_object_add(jc, "name", json_object_new_string(c->name));
		json_object_object_add(jc, "status", json_object_new_string(cvm_check_status_name(c->status)));
		json_object_object_add(jc, "reason", json_object_new_string(c->reason));
		json_object_array_add(checks, jc);
	}
	json_object_object_add(o, "checks", checks);
	json_object *fields = json_object_new_object();
	if (data)
		each_field(data, len, json_field, fields);
	json_object_object_add(o, "fields", fields);
	if (sources)
		json_object_object_add(o, "sources", sources);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* ---- main ---- */

struct verify_args {
	const char *expect;
	const char *eventlog;
	struct cvm_file eventlog_file; /* --eventlog, read once for every evidence file */
	const char *report_data_file;
	const char **certs;
	size_t ncerts;
	const char **collateral;
	size_t ncollateral;
	bool json;
	bool fetch;
	bool fetch_options; /* a KDS/PCS/cache option was given (they need --fetch) */
	struct cvm_fetch_config fetch_cfg;
	struct cvm_verify_options opt;
};

/* ---- where the trust material came from: the files given, and what --fetch had ---- */

static void print_sources(const struct verify_args *a, const struct cvm_fetch_evidence *fe)
{
	if (!a->ncerts && !a->ncollateral && !fe)
		return;
	printf("  sources:\n");
	for (size_t i = 0; i < a->ncerts; i++)
		cli_printf_safe(stdout, "    %-12s %-8s %s\n", "certs", "file", a->certs[i]);
	for (size_t i = 0; i < a->ncollateral; i++)
		cli_printf_safe(stdout, "    %-12s %-8s %s\n", "collateral", "file",
				a->collateral[i]);
	if (fe)
		cli_fetch_print(stdout, "    ", fe);
}

static void add_file_sources(json_object *arr, const char *kind, const char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "kind", json_object_new_string(kind));
		json_object_object_add(o, "origin", json_object_new_string("file"));
		json_object_object_add(o, "source", json_object_new_string(paths[i]));
		json_object_array_add(arr, o);
	}
}

static json_object *sources_json(const struct verify_args *a, const struct cvm_fetch_evidence *fe)
{
	json_object *arr = fe ? cli_fetch_json(fe) : json_object_new_array();
	add_file_sources(arr, "certs", a->certs, a->ncerts);
	add_file_sources(arr, "collateral", a->collateral, a->ncollateral);
	return arr;
}

static int parse_args(int argc, char **argv, struct verify_args *a)
{
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		int shared = cli_fetch_option(verb, c, optarg, &a->fetch_cfg);
		if (shared == 1) {
			a->fetch_options = true;
			continue;
		}
		if (shared)
			return shared;
		switch (c) {
		case OPT_FETCH:
			a->fetch = true;
			break;
		case OPT_CHECK_REVOCATION:
			a->opt.require_revocation = true;
			break;
		case OPT_EXPECT:
			a->expect = optarg;
			break;
		case OPT_EVENTLOG:
			a->eventlog = optarg;
			break;
		case OPT_CERTS:
			a->certs[a->ncerts++] = optarg;
			break;
		case OPT_COLLATERAL:
			a->collateral[a->ncollateral++] = optarg;
			break;
		case OPT_PRODUCT:
			if (cvm_amd_product_parse(optarg, &a->opt.product))
				return cli_usage_error(verb, "--product: '%s' is not milan, genoa or turin", optarg);
			break;
		case OPT_REPORT_DATA:
			if (cli_report_data_parse(optarg, a->opt.report_data))
				return cli_usage_error(verb, "--report-data: expected up to 128 hex digits");
			a->opt.has_report_data = true;
			break;
		case OPT_REPORT_DATA_FILE:
			/* Read after the options: an unreadable file is a job failure, not a usage error. */
			a->report_data_file = optarg;
			break;
		case OPT_AT:
			if (cvm_time_parse_rfc3339(optarg, &a->opt.time))
				return cli_usage_error(verb, "--at: '%s' is not an RFC 3339 time", optarg);
			a->opt.has_time = true;
			break;
		case OPT_ALLOW_DEBUG:
			a->opt.allow_debug = true;
			break;
		case OPT_NO_SMT:
			a->opt.forbid_smt = true;
			break;
		case OPT_VMPL:
			if (parse_vmpl_list(optarg, &a->opt.vmpl_mask))
				return cli_usage_error(verb, "--vmpl: expected a list of 0..3 such as 0,1");
			break;
		case OPT_MIN_TCB:
			if (parse_u64_hex(optarg, &a->opt.min_tcb))
				return cli_usage_error(verb, "--min-tcb: expected a hex u64");
			a->opt.has_min_tcb = true;
			break;
		case OPT_MIN_TEE_TCB_SVN:
			if (cvm_hex_decode(optarg, a->opt.min_tee_tcb_svn, 16))
				return cli_usage_error(verb, "--min-tee-tcb-svn: expected 32 hex digits");
			a->opt.has_min_tee_tcb_svn = true;
			break;
		case OPT_REQUIRE_UPTODATE:
			a->opt.require_uptodate = true;
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
	if (a->opt.has_report_data && a->report_data_file)
		return cli_usage_error(verb, "give --report-data or --report-data-file, not both");
	if (a->fetch_options && !a->fetch)
		return cli_usage_error(verb, "--kds-url, --pcs-url, --cache, --offline, --ca-bundle and "
					     "--timeout apply with --fetch");
	/* Collateral is judged at the verification time, fetched or cached alike. */
	a->fetch_cfg.has_time = a->opt.has_time;
	a->fetch_cfg.time = a->opt.time;
	return 0;
}

static int load_trust(struct cvm_verifier *v, const struct verify_args *a, struct cvm_error *err)
{
	for (size_t i = 0; i < a->ncerts; i++)
		if (add_path(v, cvm_verifier_add_endorsements, a->certs[i], "--certs", err))
			return err->code;
	for (size_t i = 0; i < a->ncollateral; i++)
		if (add_path(v, cvm_verifier_add_collateral, a->collateral[i], "--collateral", err))
			return err->code;
	return 0;
}

/* --report-data-file: raw bytes, at most 64, zero-padded into opt->report_data. */
static int load_report_data_file(const char *path, struct cvm_verify_options *opt,
				 struct cvm_error *err)
{
	struct cvm_file f;
	if (cvm_file_open(path, &f, err))
		return cvm_error_wrap(err, "--report-data-file");
	bool fits = f.size <= 64;
	memset(opt->report_data, 0, 64);
	if (fits)
		memcpy(opt->report_data, f.data, f.size);
	cvm_file_close(&f);
	if (!fits)
		return cvm_error_set(err, -EINVAL, "--report-data-file %s: more than 64 bytes", path);
	opt->has_report_data = true;
	return 0;
}

/*
 * True when data is a VM policy (docs/policy.md: a JSON object with "version" and "tee") rather
 * than a measurement document (which has "schema"): the likely mix-up of the two JSON files.
 */
static bool looks_like_vm_policy(const uint8_t *data, size_t len)
{
	if (len > INT_MAX)
		return false;
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return false;
	json_object *o = json_tokener_parse_ex(tok, (const char *)data, (int)len);
	bool policy = o && json_object_is_type(o, json_type_object) &&
		      json_object_object_get_ex(o, "version", NULL) &&
		      json_object_object_get_ex(o, "tee", NULL) &&
		      !json_object_object_get_ex(o, "schema", NULL);
	json_object_put(o);
	json_tokener_free(tok);
	return policy;
}

static int load_expect(const char *path, struct cvm_measurement **out, struct cvm_error *err)
{
	struct cvm_file f;
	int rc = cvm_file_open(path, &f, err);
	if (rc)
		return cvm_error_wrap(err, "--expect");
	rc = cvm_measurement_decode(f.data, f.size, out, err);
	if (rc && looks_like_vm_policy(f.data, f.size))
		rc = cvm_error_set(err, -EINVAL,
				   "%s is a VM policy, not a measurement document: run `cvmkit measure %s "
				   "--out expected.json` and pass that to --expect",
				   path, path);
	else if (rc)
		cvm_error_wrap(err, "--expect %s", path);
	cvm_file_close(&f);
	return rc;
}

/* One verdict on stdout, after erasing the progress line when it shares the terminal. */
static void print_result(const struct verify_args *a, struct cli_progress *progress,
			 const char *path, const struct cvm_verify_result *res, const uint8_t *data,
			 size_t len, const struct cvm_fetch_evidence *fe)
{
	if (progress)
		cli_progress_clear(progress);
	if (a->json) {
		print_json(path, res, data, len, sources_json(a, fe));
	} else {
		print_text(path, res, data, len);
		print_sources(a, fe);
	}
}

/*
 * --fetch: what the evidence needs, from the cache or KDS/PCS, into v like --certs and
 * --collateral; each item that could not be had is named on stderr (the checks then fail for
 * want of it).  *out lists the items for the sources.
 */
static int fetch_for(struct cvm_fetcher *f, struct cvm_verifier *v, const char *path,
		     const uint8_t *data, size_t len, const struct verify_args *a,
		     struct cvm_fetch_evidence **out, struct cvm_error *err)
{
	struct cvm_fetch_evidence_options o = {.product = a->opt.product,
					       .amd_crl = a->opt.require_revocation,
					       .skip_carried = true};
	struct cvm_error ferr;
	cvm_error_clear(&ferr);
	int rc = cvm_fetch_for_evidence(f, data, len, &o, out, &ferr);
	if (rc == -ENOMEM)
		return cvm_error_set(err, rc, "out of memory");
	if (rc) {
		/* Nothing to fetch for: the verdict will say what the evidence is not. */
		cli_printf_safe(stderr, "cvmkit %s: %s: --fetch: %s\n", verb, path,
				cvm_error_message(&ferr));
		return 0;
	}
	cli_fetch_report_failures(verb, path, *out);
	for (size_t i = 0; i < (*out)->n; i++) {
		const struct cvm_fetch_item *it = (*out)->needed[i].item;
		if (!it)
			continue;
		bool amd = it->kind == CVM_FETCH_VCEK || it->kind == CVM_FETCH_AMD_CHAIN ||
			   it->kind == CVM_FETCH_AMD_CRL;
		rc = amd ? cvm_verifier_add_endorsements(v, it->data, it->len, it->source, &ferr)
			 : cvm_verifier_add_collateral(v, it->data, it->len, it->source, &ferr);
		if (rc >= 0 && it->issuer_chain)
			rc = cvm_verifier_add_collateral(v, (const uint8_t *)it->issuer_chain,
							 it->issuer_chain_len, it->source, &ferr);
		if (rc == -ENOMEM)
			return cvm_error_set(err, rc, "out of memory");
		if (rc < 0)
			cli_printf_safe(stderr, "cvmkit %s: %s: %s: %s\n", verb, path,
				cvm_fetch_kind_name(it->kind), cvm_error_message(&ferr));
	}
	return 0;
}

/* Verify one file; returns true when its verdict passes.  progress: see print_result. */
static bool verify_one(struct cvm_verifier *v, struct cvm_fetcher *f, const char *path,
		       const struct verify_args *a, struct cli_progress *progress,
		       struct cvm_verify_result *res, struct cvm_error *err, int *fatal)
{
	struct cvm_file file;
	struct cvm_evidence *ev = NULL;
	struct cvm_error uerr;
	cvm_error_clear(&uerr);
	if (cvm_file_open(path, &file, err)) {
		cvm_verify_result_init(res);
		cvm_verify_result_add(res, "parse", CVM_CHECK_FAIL, cvm_error_message(err));
		print_result(a, progress, path, res, NULL, 0, NULL);
		return false;
	}
	struct cvm_fetch_evidence *fe = NULL;
	int rc = f ? fetch_for(f, v, path, file.data, file.size, a, &fe, err) : 0;
	int urc = rc ? 0 : cvm_evidence_unwrap(file.data, file.size, &ev, &uerr);
	if (urc == -ENOMEM)
		rc = cvm_error_set(err, urc, "out of memory");
	if (!rc && urc) {
		/* A wrapper recognised but malformed: a failed parse, like a malformed report. */
		cvm_verify_result_init(res);
		cvm_verify_result_add(res, "parse", CVM_CHECK_FAIL, cvm_error_message(&uerr));
	} else if (!rc) {
		rc = cvm_verify_unwrapped(v, ev, &a->opt, res, err);
		if (!rc && (a->eventlog || ev->eventlog))
			rc = cvm_eventlog_verify_quote(ev, a->eventlog_file.data, /* or ev's */
						       a->eventlog_file.size, a->eventlog,
						       a->opt.expect, res, err);
	}
	bool ok = rc == 0 && cvm_verify_result_ok(res);
	if (rc)
		*fatal = rc;
	else
		print_result(a, progress, path, res, ev ? ev->report : NULL, ev ? ev->report_len : 0,
			     fe);
	cvm_fetch_evidence_free(fe);
	cvm_evidence_free(ev);
	cvm_file_close(&file);
	return ok;
}

int cmd_verify(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct verify_args a;
	memset(&a, 0, sizeof(a));
	a.certs = calloc((size_t)argc, sizeof(*a.certs));
	a.collateral = calloc((size_t)argc, sizeof(*a.collateral));
	if (!a.certs || !a.collateral) {
		free(a.certs);
		free(a.collateral);
		fprintf(stderr, "cvmkit verify: out of memory\n");
		return CLI_FAIL;
	}
	int status = parse_args(argc, argv, &a);
	if (status != 0) {
		free(a.certs);
		free(a.collateral);
		return status < 0 ? CLI_OK : status;
	}

	struct cvm_error err;
	cvm_error_clear(&err);
	struct cvm_verifier *v = NULL;
	struct cvm_fetcher *f = NULL;
	struct cvm_measurement *expect = NULL;
	struct cvm_verify_result *res = malloc(sizeof(*res));
	status = CLI_OK;
	if (!res) {
		cvm_error_set(&err, -ENOMEM, "out of memory");
		status = cli_fail(verb, &err);
	} else if ((a.report_data_file && load_report_data_file(a.report_data_file, &a.opt, &err)) ||
		   cvm_verifier_new(&v, &err) || load_trust(v, &a, &err) ||
		   (a.expect && load_expect(a.expect, &expect, &err)) ||
		   (a.eventlog && cvm_file_open(a.eventlog, &a.eventlog_file, &err)) ||
		   (a.fetch && cvm_fetcher_new(&a.fetch_cfg, &f, &err))) {
		status = cli_fail(verb, &err);
	} else {
		a.opt.expect = expect;
		/* A batch shows "verifying 12/200" on a terminal stderr. */
		struct cli_progress progress;
		if (argc - optind > 1)
			cli_progress_init(&progress, ctx);
		else
			cli_progress_init_to(&progress, NULL);
		struct cli_progress *shared_tty = isatty(STDOUT_FILENO) ? &progress : NULL;
		for (int i = optind; i < argc; i++) {
			int fatal = 0;
			if (!verify_one(v, f, argv[i], &a, shared_tty, res, &err, &fatal))
				status = CLI_FAIL;
			if (fatal) {
				cli_progress_clear(&progress);
				status = cli_fail(verb, &err);
				break;
			}
			if (!a.json && i + 1 < argc)
				putchar('\n');
			cli_progress_items(&progress, "verifying", (uint64_t)(i + 1 - optind),
					   (uint64_t)(argc - optind));
		}
		cli_progress_end(&progress);
	}
	cvm_measurement_free(expect);
	if (a.eventlog_file.data)
		cvm_file_close(&a.eventlog_file);
	cvm_fetcher_free(f);
	cvm_verifier_free(v);
	free(res);
	free(a.certs);
	free(a.collateral);
	return status;
}
