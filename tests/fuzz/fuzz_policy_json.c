/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the policy reader on JSON text, then the writer on what it accepted. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cvmkit/policy.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_policy *p = NULL;
	struct cvm_policy_problems problems = {0};
	struct cvm_error err;
	if (cvm_policy_parse(data, size, "/fuzz", &p, &problems, &err) == 0) {
		/* An accepted policy must encode, and its encoding must read back. */
		uint8_t *out = NULL;
		size_t len = 0;
		if (cvm_policy_encode(p, CVM_POLICY_JSON, &out, &len, &err) == 0) {
			struct cvm_policy *again = NULL;
			if (cvm_policy_parse(out, len, "/fuzz", &again, NULL, &err) != 0)
				abort();
			cvm_policy_free(again);
			free(out);
		}
		cvm_policy_free(p);
	}
	cvm_policy_problems_free(&problems);
	return 0;
}
