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
	cvm_eventlog_free(log);
	return 0;
}
