/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Expected RTMR events (a measurement document's event list) against a CC event log: the
 * per-event alignment behind `cvmkit explain --eventlog`, the edk2 layout the log fits, and
 * the RTMR-by-RTMR checks of `cvmkit verify --eventlog`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/emit.h>
#include <cvmkit/eventlog.h>
#include <cvmkit/evidence.h>
#include <cvmkit/util.h>
#include <cvmkit/verify.h>

#include "measure/verify_internal.h"

/* Above this many cells the alignment is greedy in order rather than a full LCS table. */
#define LCS_MAX_CELLS (1u << 22)

const char *cvm_event_match_name(enum cvm_event_match m)
{
	static const char *const names[] = {"MATCH", "DIFFER", "MISSING", "EXTRA"};
	return (unsigned)m < 4 ? names[m] : "?";
}

/* ---- which input an event measures ------------------------------------------------------ */

static bool has(const char *s, const char *needle)
{
	return s && strstr(s, needle);
}

/* Shared by both sides: type, RTMR and a text (description or decoded detail). */
static const char *input_of(uint32_t type, unsigned rtmr, const char *text)
{
	switch (type) {
	case CVM_EV_EFI_HANDOFF_TABLES:
	case CVM_EV_EFI_HANDOFF_TABLES2:
		return has(text, "SMBIOS") || has(text, "Smbios") ? "SMBIOS" : "TD HOB";
	case CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB:
	case CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB2:
		return "CFV";
	case CVM_EV_EFI_VARIABLE_DRIVER_CONFIG:
	case CVM_EV_EFI_VARIABLE_AUTHORITY:
		return "variable";
	case CVM_EV_EFI_VARIABLE_BOOT:
	case CVM_EV_EFI_VARIABLE_BOOT2:
		return "boot entry";
	case CVM_EV_PLATFORM_CONFIG_FLAGS:
		return has(text, "ACPI") || has(text, "etc/acpi") || has(text, "table-loader")
			       ? "ACPI" : "fw_cfg";
	case CVM_EV_EFI_BOOT_SERVICES_APPLICATION:
		return "kernel";
	case CVM_EV_EVENT_TAG:
		if (rtmr == 2)
			return has(text, "initrd") && !has(text, "LoadOptions") &&
					       !has(text, "command line")
				       ? "initrd" : "cmdline";
		return "other";
	case CVM_EV_SEPARATOR:
		return "separator";
	case CVM_EV_EFI_ACTION:
		return "boot action";
	default:
		return "other";
	}
}

static uint32_t type_by_name(const char *name)
{
	static const uint32_t types[] = {
		CVM_EV_EFI_HANDOFF_TABLES, CVM_EV_EFI_HANDOFF_TABLES2,
		CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB, CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB2,
		CVM_EV_EFI_VARIABLE_DRIVER_CONFIG, CVM_EV_EFI_VARIABLE_AUTHORITY,
		CVM_EV_EFI_VARIABLE_BOOT, CVM_EV_EFI_VARIABLE_BOOT2, CVM_EV_PLATFORM_CONFIG_FLAGS,
		CVM_EV_EFI_BOOT_SERVICES_APPLICATION, CVM_EV_EVENT_TAG, CVM_EV_SEPARATOR,
		CVM_EV_EFI_ACTION,
	};
	for (size_t i = 0; name && i < sizeof(types) / sizeof(types[0]); i++) {
		const char *n = cvm_eventlog_type_name(types[i]);
		if (n && strcmp(n, name) == 0)
			return types[i];
	}
	return CVM_EV_UNUSED;
}

const char *cvm_eventlog_event_input(const struct cvm_eventlog_event *ev)
{
	unsigned rtmr = ev->mr_index >= 1 ? ev->mr_index - 1 : 0;
	return input_of(ev->type, rtmr, ev->detail.text);
}

static const char *expected_input(const struct cvm_mr_event *e)
{
	return input_of(type_by_name(e->type), e->rtmr, e->description);
}

/* ---- alignment -------------------------------------------------------------------------- */

struct side {
	size_t n;
	size_t *idx; /* into m->events or log->events */
};

static int collect(const struct cvm_eventlog *log, const struct cvm_measurement *m,
		   unsigned rtmr, struct side *exp, struct side *got)
{
	exp->idx = malloc((m->nevents + 1) * sizeof(size_t));
	got->idx = malloc((log->nevents + 1) * sizeof(size_t));
	if (!exp->idx || !got->idx)
		return -ENOMEM;
	exp->n = got->n = 0;
	for (size_t i = 0; i < m->nevents; i++)
		if (m->events[i].rtmr == rtmr)
			exp->idx[exp->n++] = i;
	for (size_t i = 0; i < log->nevents; i++)
		if (log->events[i].type != CVM_EV_NO_ACTION && log->events[i].mr_index == rtmr + 1 &&
		    cvm_eventlog_event_digest(&log->events[i], CVM_TCG_ALG_SHA384))
			got->idx[got->n++] = i;
	return 0;
}

static bool same(const struct cvm_measurement *m, size_t e, const struct cvm_eventlog *log,
		 size_t g)
{
	const struct cvm_eventlog_digest *d =
		cvm_eventlog_event_digest(&log->events[g], CVM_TCG_ALG_SHA384);
	return d && d->size == 48 && memcmp(d->value, m->events[e].digest, 48) == 0;
}

/* pair[i] = the log position matched with expected position i, or SIZE_MAX. */
static int lcs(const struct cvm_measurement *m, const struct side *exp,
	       const struct cvm_eventlog *log, const struct side *got, size_t *pair)
{
	size_t a = exp->n, b = got->n;
	for (size_t i = 0; i < a; i++)
		pair[i] = SIZE_MAX;
	if (!a || !b)
		return 0;
	if ((a + 1) > LCS_MAX_CELLS / (b + 1)) {
		/* greedy: each expected event takes the next equal logged one */
		size_t j = 0;
		for (size_t i = 0; i < a; i++)
			for (size_t k = j; k < b; k++)
				if (same(m, exp->idx[i], log, got->idx[k])) {
					pair[i] = k;
					j = k + 1;
					break;
				}
		return 0;
	}
	uint32_t *t = calloc((a + 1) * (b + 1), sizeof(uint32_t));
	if (!t)
		return -ENOMEM;
#define T(i, j) t[(i) * (b + 1) + (j)]
	for (size_t i = a; i-- > 0;)
		for (size_t j = b; j-- > 0;)
			T(i, j) = same(m, exp->idx[i], log, got->idx[j])
					  ? T(i + 1, j + 1) + 1
					  : (T(i + 1, j) > T(i, j + 1) ? T(i + 1, j) : T(i, j + 1));
	size_t i = 0, j = 0;
	while (i < a && j < b) {
		if (same(m, exp->idx[i], log, got->idx[j]) && T(i, j) == T(i + 1, j + 1) + 1) {
			pair[i++] = j++;
		} else if (T(i + 1, j) >= T(i, j + 1)) {
			i++;
		} else {
			j++;
		}
	}
#undef T
	free(t);
	return 0;
}

struct builder {
	struct cvm_event_match_table *t;
	size_t cap;
};

static int add_row(struct builder *b, enum cvm_event_match st, unsigned rtmr,
		   const struct cvm_mr_event *e, const struct cvm_eventlog_event *g)
{
	if (b->t->nrows == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 32;
		void *p = realloc(b->t->rows, cap * sizeof(*b->t->rows));
		if (!p)
			return -ENOMEM;
		b->t->rows = p;
		b->cap = cap;
	}
	struct cvm_event_match_row *r = &b->t->rows[b->t->nrows++];
	r->status = st;
	r->rtmr = rtmr;
	r->expected = e;
	r->logged = g;
	r->input = e ? expected_input(e) : cvm_eventlog_event_input(g);
	b->t->count[rtmr][st]++;
	return 0;
}

/* The unmatched events between two matches: same input in order pairs as DIFFER. */
static int gap(struct builder *b, unsigned rtmr, const struct cvm_measurement *m,
	       const struct side *exp, size_t e0, size_t e1, const struct cvm_eventlog *log,
	       const struct side *got, size_t g0, size_t g1)
{
	size_t g = g0;
	int rc = 0;
	for (size_t e = e0; !rc && e < e1; e++) {
		const struct cvm_mr_event *me = &m->events[exp->idx[e]];
		const char *in = expected_input(me);
		size_t k = g;
		while (k < g1 && strcmp(cvm_eventlog_event_input(&log->events[got->idx[k]]), in))
			k++;
		if (k == g1) {
			rc = add_row(b, CVM_EVENT_MISSING, rtmr, me, NULL);
			continue;
		}
		for (; !rc && g < k; g++)
			rc = add_row(b, CVM_EVENT_EXTRA, rtmr, NULL, &log->events[got->idx[g]]);
		if (!rc)
			rc = add_row(b, CVM_EVENT_DIFFER, rtmr, me, &log->events[got->idx[g++]]);
	}
	for (; !rc && g < g1; g++)
		rc = add_row(b, CVM_EVENT_EXTRA, rtmr, NULL, &log->events[got->idx[g]]);
	return rc;
}

static int match_rtmr(struct builder *b, unsigned rtmr, const struct cvm_eventlog *log,
		      const struct cvm_measurement *m)
{
	struct side exp = {0}, got = {0};
	size_t *pair = NULL;
	int rc = collect(log, m, rtmr, &exp, &got);
	if (!rc && !(pair = malloc((exp.n + 1) * sizeof(size_t))))
		rc = -ENOMEM;
	if (!rc)
		rc = lcs(m, &exp, log, &got, pair);
	size_t e = 0, g = 0;
	for (size_t i = 0; !rc && i <= exp.n; i++) {
		if (i < exp.n && pair[i] == SIZE_MAX)
			continue;
		size_t gi = i < exp.n ? pair[i] : got.n;
		rc = gap(b, rtmr, m, &exp, e, i, log, &got, g, gi);
		if (!rc && i < exp.n)
			rc = add_row(b, CVM_EVENT_MATCH, rtmr, &m->events[exp.idx[i]],
				     &log->events[got.idx[gi]]);
		e = i + 1;
		g = gi + 1;
	}
	b->t->expected[rtmr] = exp.n;
	free(pair);
	free(exp.idx);
	free(got.idx);
	return rc;
}

int cvm_eventlog_match(const struct cvm_eventlog *log, const struct cvm_measurement *m,
		       unsigned rtmr_mask, struct cvm_event_match_table **out,
		       struct cvm_error *err)
{
	bool sha384 = false;
	for (size_t i = 0; i < log->specid.nalgs; i++)
		sha384 |= log->specid.algs[i].id == CVM_TCG_ALG_SHA384;
	if (!sha384)
		return cvm_error_set(err, -ENOTSUP,
				     "eventlog: the log has no SHA-384 digests to match against");
	struct builder b = {.t = calloc(1, sizeof(*b.t))};
	int rc = b.t ? 0 : -ENOMEM;
	for (unsigned r = 0; !rc && r < CVM_RTMR_COUNT; r++)
		if (rtmr_mask & (1u << r))
			rc = match_rtmr(&b, r, log, m);
	if (rc) {
		cvm_event_match_table_free(b.t);
		return cvm_error_set(err, rc, "eventlog: matching events: out of memory");
	}
	*out = b.t;
	return 0;
}

void cvm_event_match_table_free(struct cvm_event_match_table *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t);
}

/* ---- the edk2 layout a log fits --------------------------------------------------------- */

void cvm_eventlog_fw_layout(const struct cvm_eventlog *log, const char **name, unsigned *score,
			    unsigned *of)
{
	unsigned sep0 = 0, sep1 = 0, handoff0 = 0, uiapp_boot0001 = 0, fwcfg = 0, ovmf = 0;
	for (size_t i = 0; i < log->nevents; i++) {
		const struct cvm_eventlog_event *ev = &log->events[i];
		const char *in = cvm_eventlog_event_input(ev);
		if (ev->mr_index == 1 && ev->type == CVM_EV_SEPARATOR)
			sep0++;
		if (ev->mr_index == 2 && ev->type == CVM_EV_SEPARATOR)
			sep1++;
		if (ev->mr_index == 1 && (ev->type == CVM_EV_EFI_HANDOFF_TABLES2 ||
					  ev->type == CVM_EV_EFI_HANDOFF_TABLES))
			handoff0++;
		if (ev->mr_index == 1 && strcmp(in, "fw_cfg") == 0)
			fwcfg++;
		if (ev->detail.kind == CVM_EVD_VARIABLE) {
			const struct cvm_event_variable *v = &ev->detail.u.variable;
			ovmf++;
			if (v->is_load_option && v->name && strcmp(v->name, "Boot0001") == 0 &&
			    has(v->load_description, "UiApp"))
				uiapp_boot0001++;
		}
	}
	*name = NULL;
	*score = *of = 0;
	if (!ovmf)
		return;
	/* features: RTMR0 separators, RTMR1 separator, Boot0001 UiApp, the SMBIOS handoff + fw_cfg */
	struct {
		const char *name;
		unsigned score;
	} layouts[3] = {
		{"<=202408", (sep0 >= 2) + (sep1 == 0) + (uiapp_boot0001 == 0) + (handoff0 <= 1)},
		{"202411..202502", (sep0 == 1) + (sep1 >= 1) + (uiapp_boot0001 == 0) + (handoff0 <= 1)},
		{">=202505", (sep0 == 1) + (sep1 >= 1) + (uiapp_boot0001 > 0) +
				     (handoff0 >= 2 || fwcfg > 0)},
	};
	unsigned best = 0;
	for (unsigned i = 1; i < 3; i++)
		if (layouts[i].score > layouts[best].score)
			best = i;
	*name = layouts[best].name;
	*score = layouts[best].score;
	*of = 4;
}

/* ---- verify --eventlog ------------------------------------------------------------------ */

static const char *const replay_checks[CVM_RTMR_COUNT] = {"eventlog-rtmr0", "eventlog-rtmr1",
							  "eventlog-rtmr2", "eventlog-rtmr3"};
static const char *const event_checks[CVM_RTMR_COUNT] = {"events-rtmr0", "events-rtmr1",
							 "events-rtmr2", "events-rtmr3"};
static const char *const value_checks[CVM_RTMR_COUNT] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};

/* "8566f998...90abe193": first 4 and last 4 bytes. */
static void abbrev48(const uint8_t v[48], char out[24])
{
	cvm_hex_encode(v, 4, out);
	memcpy(out + 8, "...", 3);
	cvm_hex_encode(v + 44, 4, out + 11);
}

static void replay_check(struct cvm_verify_result *res, unsigned r, const uint8_t quote[48],
			 const struct cvm_rtmr_replay *rp)
{
	char field[8];
	snprintf(field, sizeof(field), "RTMR%u", r);
	const char *how = r == 3 ? "runtime-extended (by the OS, not the firmware): " : "";
	if (cvm_memeq_ct(rp->rtmr[r], quote, 48)) {
		cvm_check_add(res, replay_checks[r], CVM_CHECK_PASS,
			      "%sthe log's %zu event%s replay to the quote's %s", how,
			      rp->extends[r], rp->extends[r] == 1 ? "" : "s", field);
		return;
	}
	char q[24], l[24];
	abbrev48(quote, q);
	abbrev48(rp->rtmr[r], l);
	cvm_check_add(res, replay_checks[r], CVM_CHECK_FAIL,
		      "%sthe log's %zu event%s replay to %s, the quote's %s is %s", how,
		      rp->extends[r], rp->extends[r] == 1 ? "" : "s", l, field, q);
}

static struct cvm_check *find_check(struct cvm_verify_result *res, const char *name)
{
	for (size_t i = 0; i < res->nchecks; i++)
		if (strcmp(res->checks[i].name, name) == 0)
			return &res->checks[i];
	return NULL;
}

/* "events-rtmrN": every expected event in the log; returns true when so. */
static bool events_check(struct cvm_verify_result *res, unsigned r,
			 const struct cvm_event_match_table *t)
{
	size_t want = t->expected[r], found = t->count[r][CVM_EVENT_MATCH];
	if (!want)
		return false;
	if (found == want) {
		cvm_check_add(res, event_checks[r], CVM_CHECK_PASS,
			      "all %zu expected events are in the log, in order (%zu more logged)",
			      want, t->count[r][CVM_EVENT_EXTRA]);
		return true;
	}
	char names[120] = "";
	size_t used = 0;
	for (size_t i = 0; i < t->nrows && used + 24 < sizeof(names); i++) {
		const struct cvm_event_match_row *row = &t->rows[i];
		if (row->rtmr != r || !row->expected || row->status == CVM_EVENT_MATCH)
			continue;
		int n = snprintf(names + used, sizeof(names) - used, "%s%s %s", used ? ", " : "",
				 row->input, row->status == CVM_EVENT_DIFFER ? "differs" : "missing");
		if (n > 0)
			used += (size_t)n < sizeof(names) - used ? (size_t)n : sizeof(names) - used - 1;
	}
	cvm_check_add(res, event_checks[r], CVM_CHECK_FAIL,
		      "%zu of %zu expected events are not in the log: %s", want - found, want,
		      names);
	return false;
}

static int verify_with_log(const struct cvm_tdx_quote *q, const struct cvm_eventlog *log,
			   const char *origin, const struct cvm_measurement *expect,
			   struct cvm_verify_result *res, struct cvm_error *err)
{
	struct cvm_rtmr_replay *rp = NULL;
	struct cvm_error rerr;
	cvm_error_clear(&rerr);
	int rc = cvm_eventlog_replay_tdx(log, &rp, &rerr);
	if (rc == -ENOMEM)
		return cvm_error_set(err, rc, "eventlog: out of memory");
	if (rc) {
		cvm_check_add(res, "eventlog", CVM_CHECK_FAIL, "%s: %s", origin,
			      cvm_error_message(&rerr));
		return 0;
	}
	cvm_check_add(res, "eventlog", CVM_CHECK_PASS, "%s: %zu events replayed (SHA-384)", origin,
		      log->nevents);
	bool replays[CVM_RTMR_COUNT];
	for (unsigned r = 0; r < CVM_RTMR_COUNT; r++) {
		replay_check(res, r, q->body.rtmr[r], rp);
		replays[r] = cvm_memeq_ct(rp->rtmr[r], q->body.rtmr[r], 48);
	}
	cvm_rtmr_replay_free(rp);
	if (!expect || expect->tee != CVM_TEE_TDX || !expect->nevents)
		return 0;
	struct cvm_event_match_table *t = NULL;
	if (cvm_eventlog_match(log, expect, 0x7, &t, err))
		return err->code == -ENOMEM ? err->code : 0;
	for (unsigned r = 0; r < 3; r++) {
		bool all = events_check(res, r, t);
		struct cvm_check *value = r ? find_check(res, value_checks[r]) : NULL;
		if (all && replays[r] && value && value->status == CVM_CHECK_FAIL) {
			value->status = CVM_CHECK_PASS;
			snprintf(value->reason, sizeof(value->reason),
				 "accepted by event: RTMR%u is not the expected value, but the event "
				 "log replays to it and holds all %zu expected events (%zu more)",
				 r, t->expected[r], t->count[r][CVM_EVENT_EXTRA]);
		}
	}
	cvm_event_match_table_free(t);
	return 0;
}

int cvm_eventlog_verify_quote(const struct cvm_evidence *ev, const uint8_t *log, size_t log_len,
			      const char *origin, const struct cvm_measurement *expect,
			      struct cvm_verify_result *res, struct cvm_error *err)
{
	struct cvm_tdx_quote q;
	if (ev->kind != CVM_EVIDENCE_TDX_QUOTE || !ev->report ||
	    cvm_tdx_quote_parse(ev->report, ev->report_len, &q, NULL)) {
		cvm_check_add(res, "eventlog", CVM_CHECK_FAIL,
			      "an event log goes with a TDX quote; this evidence is not one");
		return 0;
	}
	if (!origin && !ev->eventlog) {
		cvm_check_add(res, "eventlog", CVM_CHECK_FAIL,
			      "no event log: give --eventlog or evidence that carries one");
		return 0;
	}
	if (!origin) {
		log = ev->eventlog;
		log_len = ev->eventlog_len;
		origin = "the evidence's cc_eventlog";
	}
	static const uint8_t empty[1];
	if (!log)
		log = empty; /* an empty file */
	struct cvm_eventlog *parsed = NULL;
	struct cvm_error perr;
	cvm_error_clear(&perr);
	int rc = cvm_eventlog_parse(log, log_len, &parsed, &perr);
	if (rc == -ENOMEM)
		return cvm_error_set(err, rc, "eventlog: out of memory");
	if (rc) {
		cvm_check_add(res, "eventlog", CVM_CHECK_FAIL, "%s: %s", origin,
			      cvm_error_message(&perr));
		return 0;
	}
	rc = verify_with_log(&q, parsed, origin, expect, res, err);
	cvm_eventlog_free(parsed);
	return rc;
}
