/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the readers of what KDS/PCS servers and cache files hand the fetcher.  The first
 * byte picks the path:
 *   0  an HTTP header block: header lookup, reason phrase, Retry-After of the value found
 *   1  a percent-encoded issuer chain: decoding, then the PEM certificate check
 *   2  an item body: the second byte picks the kind (VCEK, AMD chain, CRLs, TCB info, QE
 *      identity), then the shape/nextUpdate check, and a CRL's conversion to DER
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "launcher/fetch_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void header_block(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"Retry-After", "TCB-Info-Issuer-Chain",
					    "SGX-PCK-CRL-Issuer-Chain"};
	char reason[64];
	cvm_http_reason((const char *)data, size, reason, sizeof(reason));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *value = NULL;
		if (cvm_http_header_value((const char *)data, size, names[i], &value) == 1) {
			unsigned s;
			(void)cvm_http_retry_after(value, 1700000000, &s);
			free(value);
		}
	}
}

static void issuer_chain(const uint8_t *data, size_t size)
{
	char *pem = NULL, why[160];
	size_t len;
	if (cvm_percent_decode((const char *)data, size, &pem, &len) == 0) {
		(void)cvm_fetch_check_pem_certs((const uint8_t *)pem, len, 1, why, sizeof(why));
		free(pem);
	}
}

static void item_body(const uint8_t *data, size_t size)
{
	if (size < 1)
		return;
	static const struct cvm_kds_vcek_id milan = {.product = CVM_AMD_MILAN};
	struct cvm_fetch_expect e = {
		.kind = (enum cvm_fetch_kind)(data[0] % 7 + 1),
		.product = data[0] & 0x80 ? CVM_AMD_UNKNOWN : CVM_AMD_MILAN,
		.key = data[0] & 0x40 ? CVM_SNP_KEY_VLEK : CVM_SNP_KEY_VCEK,
		.pck_ca = data[0] & 0x20 ? CVM_PCK_CA_PROCESSOR : CVM_PCK_CA_PLATFORM,
		.vcek = data[0] & 0x10 ? &milan : NULL,
		.fmspc = "00a06d080000",
	};
	struct cvm_fetch_facts facts;
	char why[320];
	(void)cvm_fetch_check(&e, data + 1, size - 1, &facts, why, sizeof(why));
	uint8_t *der;
	size_t der_len;
	if (cvm_fetch_crl_to_der(data + 1, size - 1, &der, &der_len) == 0)
		free(der);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0] % 3;
	if (mode == 0)
		header_block(data + 1, size - 1);
	else if (mode == 1)
		issuer_chain(data + 1, size - 1);
	else
		item_body(data + 1, size - 1);
	ERR_clear_error();
	return 0;
}
