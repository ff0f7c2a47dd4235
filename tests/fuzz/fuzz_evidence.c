/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the evidence wrappers (measure/evidence*.c): detection and unwrapping of every
 * format, the bare certificate table, and the invariants of what comes out (bindings and
 * certificates inside the buffers they describe).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cvmkit/evidence.h>
#include <cvmkit/util.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct cvm_evidence *ev)
{
	const struct cvm_evidence_binding *b = &ev->runtime_data;
	if (b->data) {
		size_t target = b->in_td_report ? ev->td_report_len : ev->report_len;
		if (b->digest_len > 64 || (target && !cvm_range_ok(b->offset, b->digest_len, target)))
			abort();
	}
	if (ev->ncerts > CVM_EVIDENCE_MAX_CERTS)
		abort();
	uint8_t acc = 0;
	for (size_t i = 0; i < ev->ncerts; i++)
		for (size_t j = 0; j < ev->certs[i].len; j++)
			acc ^= ev->certs[i].data[j]; /* every byte readable (ASan) */
	for (size_t i = 0; i < ev->report_len; i++)
		acc ^= ev->report[i];
	(void)acc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_evidence *ev = NULL;
	if (cvm_evidence_unwrap(data, size, &ev, NULL) == 0) {
		check(ev);
		cvm_evidence_free(ev);
	}
	if (cvm_evidence_cert_table(data, size, &ev, NULL) == 0) {
		check(ev);
		cvm_evidence_free(ev);
	}
	uint8_t *out = NULL;
	size_t n = 0;
	if (cvm_base64_decode((const char *)data, size, &out, &n) == 0) {
		if (n > size)
			abort();
		free(out);
	}
	return 0;
}
