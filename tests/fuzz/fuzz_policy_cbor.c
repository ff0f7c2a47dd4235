/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the policy reader on CBOR bytes (inputs that do not start like a CBOR map
 * are steered to the CBOR decoder by forcing the major type), then the CBOR writer on what it
 * accepted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/policy.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > (1u << 20))
		return 0;
	uint8_t *buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[0] = (uint8_t)(0xa0 | (buf[0] & 0x1f)); /* major type 5: a map */
	struct cvm_policy *p = NULL;
	struct cvm_policy_problems problems = {0};
	struct cvm_error err;
	if (cvm_policy_parse(buf, size, "/fuzz", &p, &problems, &err) == 0) {
		uint8_t *out = NULL;
		size_t len = 0;
		if (cvm_policy_encode(p, CVM_POLICY_CBOR, &out, &len, &err) == 0) {
			struct cvm_policy *again = NULL;
			if (cvm_policy_parse(out, len, "/fuzz", &again, NULL, &err) != 0)
				abort();
			cvm_policy_free(again);
			free(out);
		}
		cvm_policy_free(p);
	}
	cvm_policy_problems_free(&problems);
	free(buf);
	return 0;
}
