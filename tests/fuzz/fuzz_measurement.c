/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the measurement-document decoder (JSON, CBOR, CoRIM, detected from the
 * content).  Whatever decodes must encode again as JSON and CBOR and decode to the same digest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/emit.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reencode(const struct cvm_measurement *m, enum cvm_emit_format fmt)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct cvm_measurement *back = NULL;
	if (cvm_measurement_encode(m, fmt, &buf, &len, NULL) < 0)
		return;
	if (cvm_measurement_decode(buf, len, &back, NULL) < 0 ||
	    memcmp(back->digest, m->digest, m->digest_len) != 0)
		abort();
	cvm_measurement_free(back);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	if (cvm_measurement_decode(data, size, &m, &err) < 0)
		return 0;
	reencode(m, CVM_FMT_JSON);
	reencode(m, CVM_FMT_CBOR);
	reencode(m, CVM_FMT_CORIM);
	cvm_measurement_free(m);
	return 0;
}
