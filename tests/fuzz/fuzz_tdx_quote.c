/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: TDX quote parser, including the certification data, QE report, QE auth data and
 * the PEM PCK chain, then verification (chain, signatures, binding) of whatever parses.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cvmkit/verify.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cvm_verifier *v;
	if (!v && cvm_verifier_new(&v, NULL) != 0)
		abort();
	struct cvm_tdx_quote q;
	if (cvm_tdx_quote_parse(data, size, &q, NULL) != 0)
		return 0;
	if (q.signed_len > size || q.pck_chain_len > size || q.qe_auth_len > size)
		abort();
	struct cvm_verify_options o = {0};
	o.has_time = true;
	o.time = 1748736000; /* 2025-06-01 */
	struct cvm_verify_result res;
	if (cvm_verify_tdx(v, &q, &o, &res, NULL) != 0 || res.nchecks == 0)
		abort();
	return 0;
}
