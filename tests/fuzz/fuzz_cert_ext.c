/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: certificate-extension readers.  The first byte picks the path:
 *   0  the Intel PCK SGX extension value (raw DER)
 *   1  a DER certificate: the AMD VCEK/VLEK extensions and the PCK SGX extension
 *   2  a TDX collateral item (TCB info / QE identity JSON, CRLs of a PEM bundle, certificates)
 *   3  endorsements (certificates, every CRL of a PEM bundle, a GHCB certificate table)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "sev/snp_verify_internal.h"
#include "tdx/tdx_verify_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0] % 4;
	data++;
	size--;
	if (mode == 0) {
		struct cvm_sgx_pck_ext e;
		(void)cvm_sgx_pck_ext_parse(data, size, &e, NULL);
	} else if (mode == 1) {
		const unsigned char *p = data;
		X509 *x = d2i_X509(NULL, &p, (long)size);
		if (x) {
			struct cvm_amd_cert_ext a;
			struct cvm_sgx_pck_ext e;
			(void)cvm_amd_cert_ext_read(x, &a, NULL);
			(void)cvm_sgx_pck_ext_read(x, &e, NULL);
			X509_free(x);
		}
	} else {
		struct cvm_verifier *v = NULL;
		if (cvm_verifier_new(&v, NULL) != 0)
			abort();
		if (mode == 2)
			(void)cvm_verifier_add_collateral(v, data, size, "fuzz", NULL);
		else
			(void)cvm_verifier_add_endorsements(v, data, size, "fuzz", NULL);
		cvm_verifier_free(v);
	}
	ERR_clear_error();
	return 0;
}
