/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: SNP report parser, reserved-field scan and verification of whatever parses. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cvmkit/verify.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A verifier holding the virtee Milan VCEK when the vectors are there (deeper coverage). */
static struct cvm_verifier *make_verifier(void)
{
	struct cvm_verifier *v = NULL;
	if (cvm_verifier_new(&v, NULL) != 0)
		abort();
	FILE *f = fopen(CVMKIT_SHARED_DIR "/vectors/attest/virtee-sev/vcek_milan.der", "rb");
	if (f) {
		uint8_t buf[4096];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		(void)cvm_verifier_add_certs(v, buf, n, "vcek", NULL);
	}
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cvm_verifier *v;
	if (!v)
		v = make_verifier();
	struct cvm_snp_report r;
	if (cvm_snp_report_parse(data, size, &r, NULL) == 0) {
		size_t off;
		const char *what;
		(void)cvm_snp_report_reserved_nonzero(&r, &off, &what);
		(void)cvm_snp_report_product(&r);
		struct cvm_snp_tcb t;
		cvm_snp_tcb_decode(r.reported_tcb, CVM_AMD_TURIN, &t);
	}
	struct cvm_verify_options o = {0};
	o.has_time = true;
	o.time = 1748736000; /* 2025-06-01 */
	o.has_report_data = true;
	struct cvm_verify_result res;
	if (cvm_verify_evidence(v, data, size, &o, &res, NULL) == 0 && res.nchecks == 0)
		abort();
	return 0;
}
