/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the CC event log reader and decoder, then digest checks and the RTMR replay of
 * whatever parses.  Input starting with "CCEL" is an ACPI CCEL table (56 bytes) followed by
 * its log area.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/emit.h>
#include <cvmkit/eventlog.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const struct cvm_eventlog *log, const uint8_t *p, size_t n)
{
	return n == 0 || (p >= log->bytes && n <= log->len && (size_t)(p - log->bytes) <= log->len - n);
}

static void check_path(const struct cvm_devpath *dp)
{
	if (!dp->text)
		abort();
	for (size_t i = 0; i < dp->nnodes; i++)
		if (!dp->nodes[i].text || strlen(dp->nodes[i].text) > strlen(dp->text))
			abort();
}

static void check_event(const struct cvm_eventlog *log, const struct cvm_eventlog_event *ev)
{
	if (!inside(log, ev->data, ev->data_len) || ev->offset + ev->size > log->len ||
	    ev->ndigests == 0 || ev->ndigests > CVM_EVENTLOG_MAX_ALGS)
		abort();
	for (size_t d = 0; d < ev->ndigests; d++)
		if (!inside(log, ev->digests[d].value, ev->digests[d].size))
			abort();
	const struct cvm_event_detail *det = &ev->detail;
	if (!det->text || !cvm_event_detail_kind_name(det->kind))
		abort();
	if (det->kind == CVM_EVD_IMAGE)
		check_path(&det->u.image.path);
	if (det->kind == CVM_EVD_VARIABLE) {
		const struct cvm_event_variable *v = &det->u.variable;
		if (!v->name || !inside(log, v->data, (size_t)v->data_len))
			abort();
		if (v->is_load_option)
			check_path(&v->load_path);
	}
	if (det->kind == CVM_EVD_HANDOFF && !inside(log, det->u.handoff.tables,
						    (size_t)det->u.handoff.count * 24))
		abort();
	bool matches;
	(void)cvm_eventlog_event_digests_data(ev, &matches, NULL);
}

/*
 * The log against a document made of its own RTMR0..2 events: every event must MATCH, and
 * every row must point into the log or the document; the layout guess must not crash.
 */
static void check_match(const struct cvm_eventlog *log)
{
	const char *layout;
	unsigned score, of;
	cvm_eventlog_fw_layout(log, &layout, &score, &of);
	if (layout && score > of)
		abort();
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_TDX, NULL);
	if (!m)
		return;
	size_t want[3] = {0};
	for (size_t i = 0; i < log->nevents && i < 256; i++) {
		const struct cvm_eventlog_event *ev = &log->events[i];
		const struct cvm_eventlog_digest *d = cvm_eventlog_event_digest(ev, CVM_TCG_ALG_SHA384);
		if (ev->type == CVM_EV_NO_ACTION || !d || d->size != 48 || ev->mr_index < 1 ||
		    ev->mr_index > 3)
			continue;
		const char *type = cvm_eventlog_type_name(ev->type);
		if (cvm_measurement_add_event(m, ev->mr_index - 1, type ? type : "?", ev->detail.text,
					      d->value))
			break;
		want[ev->mr_index - 1]++;
	}
	struct cvm_event_match_table *t = NULL;
	if (cvm_eventlog_match(log, m, 0x7, &t, NULL) == 0) {
		for (unsigned r = 0; r < 3; r++)
			if (t->count[r][CVM_EVENT_MATCH] != want[r] || t->expected[r] != want[r] ||
			    t->count[r][CVM_EVENT_MISSING] || t->count[r][CVM_EVENT_DIFFER])
				abort();
		for (size_t i = 0; i < t->nrows; i++)
			if (!t->rows[i].input || (!t->rows[i].expected && !t->rows[i].logged))
				abort();
		cvm_event_match_table_free(t);
	}
	cvm_measurement_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_eventlog *log = NULL;
	int rc;
	if (size >= 56 && !memcmp(data, "CCEL", 4))
		rc = cvm_eventlog_parse_ccel(data, 56, data + 56, size - 56, &log, NULL);
	else
		rc = cvm_eventlog_parse(data, size, &log, NULL);
	if (rc)
		return 0;
	if (log->len > size || log->len + log->free_len != log->area_len)
		abort();
	for (size_t i = 0; i < log->nevents; i++)
		check_event(log, &log->events[i]);
	struct cvm_rtmr_replay *r = NULL;
	if (cvm_eventlog_replay_tdx(log, &r, NULL) == 0 && r->nevents != log->nevents)
		abort();
	cvm_rtmr_replay_free(r);
	check_match(log);
	cvm_eventlog_free(log);
	return 0;
}
