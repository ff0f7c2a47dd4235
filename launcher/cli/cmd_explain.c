/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmkit explain: why a report's MEASUREMENT (SNP) or a quote's MRTD and RTMRs (TDX) differ from
 * what a policy gives: the smallest set of input changes that reproduces the measurement, and,
 * with a CC event log, the expected RTMR events beside the logged ones.  Diagnosis only: the
 * evidence's signature is checked and reported, never required.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include <cvmkit/emit.h>
#include <cvmkit/eventlog.h>
#include <cvmkit/evidence.h>
#include <cvmkit/explain.h>
#include <cvmkit/pool.h>
#include <cvmkit/util.h>
#include <cvmkit/verify.h>

#include "launcher/cli/cli.h"

#define VERB "explain"
#define EXPLAIN_ERROR 3      /* the diagnosis could not run */
#define MAX_FIRMWARE_FILES 64

static void print_usage(void)
{
	printf("usage: cvmkit explain EVIDENCE --policy POLICY [OPTIONS]\n"
	       "       cvmkit explain --policy POLICY --measurement HEX | --mrtd HEX [OPTIONS]\n"
	       "\n"
	       "Explain why a measurement differs from what POLICY gives.  SEV-SNP: search the\n"
	       "policy's neighbourhood (vCPUs 1..512, every CPU model, the VMM profiles, the guest-\n"
	       "feature sets KVM and QEMU have used, kernel hashes on/off, firmware candidates) and\n"
	       "print the smallest set of input changes that reproduces MEASUREMENT, or that none in\n"
	       "the searched space does.  TDX: the same for MRTD (page orders, PAGE_AUG, firmware);\n"
	       "with an event log, the expected RTMR0..2 events beside the logged ones (MATCH,\n"
	       "DIFFER, MISSING, EXTRA), the input behind each, and the edk2 layout the log fits.\n"
	       "EVIDENCE is a report or quote in any form `cvmkit verify` reads; its signature is\n"
	       "checked and reported but need not verify.\n"
	       "\n"
	       "options:\n"
	       "  --policy FILE        the VM policy expected to produce the measurement (required)\n"
	       "  --measurement HEX    SNP: the MEASUREMENT (96 hex digits) instead of evidence\n"
	       "  --mrtd HEX           TDX: the MRTD (96 hex digits) instead of evidence\n"
	       "  --firmware-dir DIR   firmware candidates: every image in DIR is tried\n"
	       "  --eventlog LOG       TDX: the CC event log (default: the one the evidence carries)\n"
	       "  --json               one JSON object\n"
	       "  --threads N          SNP: hash firmware pages on N threads (default: every CPU\n"
	       "                       this process may run on; 1: no threads)\n"
	       "  -h, --help           this text\n"
	       "\n"
	       "Exit status: 0 an explanation was found (or nothing differs), 1 none was found,\n"
	       "2 usage error, 3 the diagnosis could not run.\n");
}

enum {
	OPT_POLICY = 256,
	OPT_MEASUREMENT,
	OPT_MRTD,
	OPT_FIRMWARE_DIR,
	OPT_EVENTLOG,
	OPT_JSON,
	OPT_THREADS,
};

static const struct option long_opts[] = {
	{"policy", required_argument, NULL, OPT_POLICY},
	{"measurement", required_argument, NULL, OPT_MEASUREMENT},
	{"mrtd", required_argument, NULL, OPT_MRTD},
	{"firmware-dir", required_argument, NULL, OPT_FIRMWARE_DIR},
	{"eventlog", required_argument, NULL, OPT_EVENTLOG},
	{"json", no_argument, NULL, OPT_JSON},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct explain_args {
	const char *evidence;
	const char *policy;
	const char *firmware_dir;
	const char *eventlog;
	bool has_measurement, has_mrtd, json;
	uint8_t digest[48];
	unsigned threads; /* 0: every CPU */
};

/* What the evidence (or the command line) says. */
struct subject {
	enum cvm_evidence_kind kind;
	uint8_t digest[48];       /* MEASUREMENT or MRTD */
	bool has_rtmr;
	uint8_t rtmr[4][48];
	char sig_status[8];       /* "pass", "fail", "skip"; "" without evidence */
	char sig_reason[CVM_CHECK_REASON_MAX];
	struct cvm_evidence *ev;
};

static int parse_args(int argc, char **argv, struct explain_args *a)
{
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_POLICY:
			a->policy = optarg;
			break;
		case OPT_MEASUREMENT:
		case OPT_MRTD:
			if (strlen(optarg) != 96 || cvm_hex_decode(optarg, a->digest, 48))
				return cli_usage_error(VERB, "%s: expected 96 hex digits (48 bytes)",
						       c == OPT_MRTD ? "--mrtd" : "--measurement");
			if (c == OPT_MRTD)
				a->has_mrtd = true;
			else
				a->has_measurement = true;
			break;
		case OPT_FIRMWARE_DIR:
			a->firmware_dir = optarg;
			break;
		case OPT_EVENTLOG:
			a->eventlog = optarg;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_THREADS:
			if (cli_threads_parse(VERB, optarg, &a->threads))
				return CLI_USAGE;
			break;
		case 'h':
			print_usage();
			return -1;
		default:
			return cli_option_error(VERB, NULL, c, argv);
		}
	}
	if (optind < argc)
		a->evidence = argv[optind++];
	if (optind < argc)
		return cli_usage_error(VERB, "one evidence file at a time ('%s' is one too many)",
				       argv[optind]);
	if (!a->policy)
		return cli_usage_error(VERB, "--policy POLICY is required: the policy the "
					     "measurement was expected from");
	int given = (a->evidence != NULL) + a->has_measurement + a->has_mrtd;
	if (given != 1)
		return cli_usage_error(VERB, "give EVIDENCE, --measurement HEX or --mrtd HEX (one "
					     "of them)");
	if (a->eventlog && a->has_measurement)
		return cli_usage_error(VERB, "--eventlog is for TDX (--mrtd or a quote)");
	return 0;
}

/* ---- the evidence ------------------------------------------------------------------------ */

static void signature_of(struct subject *s, const struct cvm_evidence *ev)
{
	struct cvm_verifier *v = NULL;
	struct cvm_verify_result *res = calloc(1, sizeof(*res));
	struct cvm_error e;
	cvm_error_clear(&e);
	struct cvm_verify_options opt = {.allow_debug = true};
	snprintf(s->sig_status, sizeof(s->sig_status), "skip");
	snprintf(s->sig_reason, sizeof(s->sig_reason), "not checked");
	if (res && cvm_verifier_new(&v, &e) == 0 && cvm_verify_unwrapped(v, ev, &opt, res, &e) == 0) {
		const char *name = s->kind == CVM_EVIDENCE_TDX_QUOTE ? "quote-signature" : "signature";
		const struct cvm_check *c = cvm_verify_result_find(res, name);
		if (c) {
			snprintf(s->sig_status, sizeof(s->sig_status), "%s",
				 cvm_check_status_name(c->status));
			snprintf(s->sig_reason, sizeof(s->sig_reason), "%s", c->reason);
		}
	}
	cvm_verifier_free(v);
	free(res);
}

static int load_subject(const struct explain_args *a, struct subject *s, struct cvm_error *err)
{
	if (!a->evidence) {
		s->kind = a->has_mrtd ? CVM_EVIDENCE_TDX_QUOTE : CVM_EVIDENCE_SNP_REPORT;
		memcpy(s->digest, a->digest, 48);
		return 0;
	}
	struct cvm_file f;
	if (cvm_file_open(a->evidence, &f, err))
		return err->code;
	int rc = cvm_evidence_unwrap(f.data, f.size, &s->ev, err);
	cvm_file_close(&f);
	if (rc)
		return cvm_error_wrap(err, "%s", a->evidence);
	s->kind = s->ev->kind;
	if (s->kind == CVM_EVIDENCE_SNP_REPORT) {
		struct cvm_snp_report *r = malloc(sizeof(*r));
		if (!r)
			return cvm_error_set(err, -ENOMEM, "out of memory");
		rc = cvm_snp_report_parse(s->ev->report, s->ev->report_len, r, err);
		if (!rc)
			memcpy(s->digest, r->measurement, 48);
		free(r);
	} else if (s->kind == CVM_EVIDENCE_TDX_QUOTE) {
		struct cvm_tdx_quote q;
		rc = cvm_tdx_quote_parse(s->ev->report, s->ev->report_len, &q, err);
		if (!rc) {
			memcpy(s->digest, q.body.mrtd, 48);
			memcpy(s->rtmr, q.body.rtmr, sizeof(s->rtmr));
			s->has_rtmr = true;
		}
	} else {
		rc = cvm_error_set(err, -EINVAL, "not an SNP report or a TDX quote");
	}
	if (rc)
		return cvm_error_wrap(err, "%s", a->evidence);
	signature_of(s, s->ev);
	return 0;
}

/* ---- firmware candidates ----------------------------------------------------------------- */

struct candidates {
	size_t n;
	struct cvm_explain_firmware items[MAX_FIRMWARE_FILES];
	char *names[MAX_FIRMWARE_FILES];
	size_t nrefused;
	char refused[8][200];
};

static void candidates_free(struct candidates *c)
{
	for (size_t i = 0; i < c->n; i++) {
		cvm_firmware_free((struct cvm_firmware *)(uintptr_t)c->items[i].fw);
		free(c->names[i]);
	}
}

/* Every regular file of dir that reads as firmware; others are named in refused. */
static int load_candidates(const char *dir, struct candidates *c, struct cvm_error *err)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return cvm_error_set(err, -errno, "--firmware-dir %s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		char *full = names[i]->d_name[0] == '.' ? NULL : cvm_path_join(dir, names[i]->d_name);
		struct stat st;
		struct cvm_firmware *fw = NULL;
		struct cvm_error e;
		cvm_error_clear(&e);
		if (full && stat(full, &st) == 0 && S_ISREG(st.st_mode) && c->n < MAX_FIRMWARE_FILES) {
			if (cvm_firmware_load(full, &fw, &e) == 0) {
				c->items[c->n].fw = fw;
				c->items[c->n].name = full;
				c->names[c->n++] = full;
				full = NULL;
			} else if (c->nrefused < 8) {
				snprintf(c->refused[c->nrefused++], sizeof(c->refused[0]), "%s",
					 cvm_error_message(&e));
			}
		}
		free(full);
		free(names[i]);
	}
	free(names);
	return 0;
}

/* ---- output ------------------------------------------------------------------------------ */

static void hex48(const uint8_t *d, char out[97])
{
	cvm_hex_encode(d, 48, out);
}

static void abbrev(const uint8_t *d, char out[24])
{
	cvm_hex_encode(d, 4, out);
	memcpy(out + 8, "...", 3);
	cvm_hex_encode(d + 44, 4, out + 11);
}

static json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static json_object *jhex(const uint8_t *d)
{
	char h[97];
	hex48(d, h);
	return json_object_new_string(h);
}

static void text_search(const char *what, const uint8_t *have,
			const struct cvm_explain_result *r)
{
	char h[97], e[97];
	hex48(have, h);
	printf("  %s: %s\n", what, h);
	if (r->expected_known) {
		hex48(r->expected, e);
		printf("  the policy gives: %s (%s)\n", e,
		       memcmp(have, r->expected, 48) ? "differs" : "the same");
	}
	printf("  searched: %llu of %llu candidates (%s)\n", (unsigned long long)r->searched,
	       (unsigned long long)r->space, r->dimensions);
	for (size_t i = 0; i < r->nskipped; i++)
		cli_printf_safe(stdout, "  skipped: %s\n", r->skipped[i].what);
	if (!r->found) {
		printf("  no combination in the searched space reproduces the %s: an input outside it "
		       "differs (%s)\n", what,
		       strcmp(what, "MRTD") == 0
			       ? "a firmware build not given: MRTD covers the firmware image and how "
				 "the VMM adds it, nothing else"
			       : "the kernel, initrd or command line bytes, a firmware not given, "
				 "another VMM's vCPU state");
		return;
	}
	if (!r->nchanges) {
		printf("  the policy reproduces it: nothing differs\n");
		return;
	}
	printf("  reproduced with %zu change%s:\n", r->nchanges, r->nchanges == 1 ? "" : "s");
	for (size_t i = 0; i < r->nchanges; i++)
		cli_printf_safe(stdout, "    %-20s %s -> %s\n", r->changes[i].key, r->changes[i].from,
				r->changes[i].to);
	if (r->alternatives)
		printf("  (%zu other combination%s with as few changes also reproduce%s it)\n",
		       r->alternatives, r->alternatives == 1 ? "" : "s",
		       r->alternatives == 1 ? "s" : "");
}

static json_object *json_search(const uint8_t *have, const struct cvm_explain_result *r)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "have", jhex(have));
	json_object_object_add(o, "expected", r->expected_known ? jhex(r->expected) : NULL);
	json_object_object_add(o, "found", json_object_new_boolean(r->found));
	json_object *ch = json_object_new_array();
	for (size_t i = 0; i < r->nchanges; i++) {
		json_object *c = json_object_new_object();
		json_object_object_add(c, "input", jstr(r->changes[i].key));
		json_object_object_add(c, "from", jstr(r->changes[i].from));
		json_object_object_add(c, "to", jstr(r->changes[i].to));
		json_object_array_add(ch, c);
	}
	json_object_object_add(o, "changes", ch);
	json_object_object_add(o, "alternatives", json_object_new_int64((int64_t)r->alternatives));
	json_object_object_add(o, "searched", json_object_new_int64((int64_t)r->searched));
	json_object_object_add(o, "space", json_object_new_int64((int64_t)r->space));
	json_object_object_add(o, "dimensions", jstr(r->dimensions));
	json_object *sk = json_object_new_array();
	for (size_t i = 0; i < r->nskipped; i++)
		json_object_array_add(sk, jstr(r->skipped[i].what));
	json_object_object_add(o, "skipped", sk);
	return o;
}

/* "[12] EV_EFI_VARIABLE_BOOT BootOrder: 0000" of a logged event. */
static void logged_text(const struct cvm_eventlog *log, const struct cvm_eventlog_event *ev,
			char *buf, size_t n)
{
	const char *type = cvm_eventlog_type_name(ev->type);
	snprintf(buf, n, "[%zu] %s %s", (size_t)(ev - log->events), type ? type : "?",
		 ev->detail.text);
}

static void text_rtmr(const struct cvm_eventlog *log, const char *origin,
		      const struct cvm_explain_rtmr *x, const struct subject *s)
{
	cli_printf_safe(stdout, "  event log: %s (%zu events)\n", origin, log->nevents);
	if (x->layout)
		printf("  firmware generation: the log fits edk2 %s best (%u of %u layout features)\n",
		       x->layout, x->layout_score, x->layout_of);
	for (unsigned r = 0; r < 4 && s->has_rtmr && x->replay_known; r++)
		printf("  RTMR%u: the log replays to %s the quote's\n", r,
		       memcmp(x->replay[r], s->rtmr[r], 48) ? "another value than" : "the same as");
	for (unsigned r = 0; r < 3; r++)
		if (x->expected->rtmr_note[r])
			cli_printf_safe(stdout, "  policy RTMR%u: %s\n", r, x->expected->rtmr_note[r]);
	printf("  %-5s  %-7s  %-11s  %-44s  %s\n", "RTMR", "status", "input", "expected", "logged");
	const struct cvm_event_match_table *t = x->table;
	for (size_t i = 0; i < t->nrows; i++) {
		const struct cvm_event_match_row *row = &t->rows[i];
		char exp[160] = "-", got[200] = "-";
		if (row->expected)
			snprintf(exp, sizeof(exp), "%s", row->expected->description);
		if (row->logged)
			logged_text(log, row->logged, got, sizeof(got));
		cli_printf_safe(stdout, "  RTMR%u  %-7s  %-11s  %-44.44s  %s\n", row->rtmr,
				cvm_event_match_name(row->status), row->input, exp, got);
		if (row->status == CVM_EVENT_DIFFER) {
			const struct cvm_eventlog_digest *d =
				cvm_eventlog_event_digest(row->logged, CVM_TCG_ALG_SHA384);
			char a[24], b[24];
			abbrev(row->expected->digest, a);
			if (d && d->size == 48)
				abbrev(d->value, b);
			else
				snprintf(b, sizeof(b), "none");
			printf("  %-5s  %-7s  %-11s  digest %-37s  digest %s\n", "", "", "", a, b);
		}
	}
	for (unsigned r = 0; r < 3; r++)
		printf("  RTMR%u: %zu MATCH, %zu DIFFER, %zu MISSING, %zu EXTRA\n", r,
		       t->count[r][CVM_EVENT_MATCH], t->count[r][CVM_EVENT_DIFFER],
		       t->count[r][CVM_EVENT_MISSING], t->count[r][CVM_EVENT_EXTRA]);
}

static json_object *json_rtmr(const struct cvm_eventlog *log, const char *origin,
			      const struct cvm_explain_rtmr *x, const struct subject *s)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "eventlog", jstr(origin));
	json_object_object_add(o, "layout", x->layout ? jstr(x->layout) : NULL);
	json_object_object_add(o, "layout_score", json_object_new_int64(x->layout_score));
	json_object_object_add(o, "layout_features", json_object_new_int64(x->layout_of));
	if (s->has_rtmr && x->replay_known) {
		json_object *rp = json_object_new_array();
		for (unsigned r = 0; r < 4; r++)
			json_object_array_add(rp, json_object_new_boolean(
							  !memcmp(x->replay[r], s->rtmr[r], 48)));
		json_object_object_add(o, "replay_matches_quote", rp);
	}
	json_object *rows = json_object_new_array();
	for (size_t i = 0; i < x->table->nrows; i++) {
		const struct cvm_event_match_row *row = &x->table->rows[i];
		json_object *j = json_object_new_object();
		json_object_object_add(j, "rtmr", json_object_new_int(row->rtmr));
		json_object_object_add(j, "status", jstr(cvm_event_match_name(row->status)));
		json_object_object_add(j, "input", jstr(row->input));
		if (row->expected) {
			json_object_object_add(j, "expected", jstr(row->expected->description));
			json_object_object_add(j, "expected_digest", jhex(row->expected->digest));
		}
		if (row->logged) {
			const struct cvm_eventlog_digest *d =
				cvm_eventlog_event_digest(row->logged, CVM_TCG_ALG_SHA384);
			json_object_object_add(j, "event",
					       json_object_new_int64(row->logged - log->events));
			json_object_object_add(j, "type",
					       jstr(cvm_eventlog_type_name(row->logged->type)));
			json_object_object_add(j, "logged", jstr(row->logged->detail.text));
			if (d && d->size == 48)
				json_object_object_add(j, "logged_digest", jhex(d->value));
		}
		json_object_array_add(rows, j);
	}
	json_object_object_add(o, "events", rows);
	return o;
}

/* ---- main -------------------------------------------------------------------------------- */

struct run {
	const struct explain_args *a;
	struct subject s;
	struct cvm_policy *policy;
	struct cvm_firmware *fw;
	struct candidates cand;
	struct cvm_explain_result result;
	struct cvm_eventlog *log;
	const char *log_origin;
	bool have_rtmr;
	struct cvm_explain_rtmr rtmr;
};

static int load_log(struct run *r, struct cvm_error *err)
{
	if (r->a->eventlog) {
		r->log_origin = r->a->eventlog;
		return cvm_eventlog_load(r->a->eventlog, NULL, &r->log, err);
	}
	if (r->s.ev && r->s.ev->eventlog) {
		r->log_origin = "the evidence's cc_eventlog";
		int rc = cvm_eventlog_parse(r->s.ev->eventlog, r->s.ev->eventlog_len, &r->log, err);
		return rc ? cvm_error_wrap(err, "%s", r->log_origin) : 0;
	}
	return 0;
}

static int diagnose(struct run *r, struct cvm_error *err)
{
	const struct explain_args *a = r->a;
	int rc = load_subject(a, &r->s, err);
	if (rc)
		return rc;
	if (r->s.kind == CVM_EVIDENCE_SNP_REPORT && (a->eventlog))
		return cvm_error_set(err, -EINVAL, "--eventlog goes with a TDX quote, not an SNP "
						   "report");
	if (!(r->policy = cli_load_policy(VERB, a->policy)))
		return -EINVAL; /* printed */
	if (!r->policy->firmware.path)
		return cvm_error_set(err, -EINVAL, "%s: no firmware.path: explain measures the "
						   "policy's firmware", a->policy);
	if ((rc = cvm_firmware_load(r->policy->firmware.path, &r->fw, err)))
		return rc;
	if (a->firmware_dir && (rc = load_candidates(a->firmware_dir, &r->cand, err)))
		return rc;
	struct cvm_explain_opts opts = {.firmware = r->cand.items, .nfirmware = r->cand.n};
	if (r->s.kind == CVM_EVIDENCE_SNP_REPORT) {
		if ((rc = cli_pool_new(a->threads, &opts.pool, err)))
			return rc;
		rc = cvm_explain_snp(r->policy, r->fw, r->s.digest, &opts, &r->result, err);
		cvm_pool_free(opts.pool);
		return rc;
	}
	if ((rc = cvm_explain_mrtd(r->policy, r->fw, r->s.digest, &opts, &r->result, err)))
		return rc;
	if ((rc = load_log(r, err)) || !r->log)
		return rc;
	rc = cvm_explain_rtmr(r->policy, r->fw, r->log, &r->rtmr, err);
	r->have_rtmr = rc == 0;
	return rc;
}

static void print_text(const struct run *r)
{
	const struct subject *s = &r->s;
	bool snp = s->kind == CVM_EVIDENCE_SNP_REPORT;
	if (r->a->evidence)
		cli_printf_safe(stdout, "explain: %s: %s\n", r->a->evidence,
				snp ? "SEV-SNP attestation report" : "TDX quote");
	else
		printf("explain: %s given on the command line\n", snp ? "MEASUREMENT" : "MRTD");
	cli_printf_safe(stdout, "  policy: %s\n", r->a->policy);
	if (s->sig_status[0])
		cli_printf_safe(stdout, "  signature: %s%s (%s)\n",
				strcmp(s->sig_status, "pass") == 0 ? "verifies" : "does NOT verify",
				strcmp(s->sig_status, "pass") == 0
					? "" : "; the diagnosis concerns the measurement only",
				s->sig_reason);
	for (size_t i = 0; i < r->cand.nrefused; i++)
		cli_printf_safe(stdout, "  not a firmware candidate: %s\n", r->cand.refused[i]);
	text_search(snp ? "MEASUREMENT" : "MRTD", s->digest, &r->result);
	if (r->have_rtmr)
		text_rtmr(r->log, r->log_origin, &r->rtmr, s);
}

static void print_json(const struct run *r)
{
	const struct subject *s = &r->s;
	bool snp = s->kind == CVM_EVIDENCE_SNP_REPORT;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "tee", jstr(snp ? "snp" : "tdx"));
	json_object_object_add(o, "evidence", r->a->evidence ? jstr(r->a->evidence) : NULL);
	json_object_object_add(o, "policy", jstr(r->a->policy));
	if (s->sig_status[0]) {
		json_object *sig = json_object_new_object();
		json_object_object_add(sig, "status", jstr(s->sig_status));
		json_object_object_add(sig, "reason", jstr(s->sig_reason));
		json_object_object_add(o, "signature", sig);
	}
	json_object_object_add(o, snp ? "measurement" : "mrtd", json_search(s->digest, &r->result));
	if (r->have_rtmr)
		json_object_object_add(o, "rtmr", json_rtmr(r->log, r->log_origin, &r->rtmr, s));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int cmd_explain(const struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	struct explain_args a;
	memset(&a, 0, sizeof(a));
	int status = parse_args(argc, argv, &a);
	if (status)
		return status < 0 ? CLI_OK : status;
	struct run r;
	memset(&r, 0, sizeof(r));
	r.a = &a;
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = diagnose(&r, &err);
	if (rc && err.msg[0]) {
		cli_fail(VERB, &err);
		status = EXPLAIN_ERROR;
	} else if (rc) {
		status = EXPLAIN_ERROR;
	} else {
		if (a.json)
			print_json(&r);
		else
			print_text(&r);
		status = r.result.found ? CLI_OK : CLI_FAIL;
	}
	cvm_explain_rtmr_fini(&r.rtmr);
	cvm_eventlog_free(r.log);
	candidates_free(&r.cand);
	cvm_firmware_free(r.fw);
	cvm_policy_free(r.policy);
	cvm_evidence_free(r.s.ev);
	return status;
}
