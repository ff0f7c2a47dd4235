/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the GHCB certificate table builder (measure/evidence.c, what a host serves on
 * KVM_EXIT_SNP_REQ_CERTS) over certificates cut from the input: the first byte gives how many
 * (0..4, kinds from the next bytes), the rest is split evenly.  Whatever it accepts must read back
 * through the table reader (cvm_evidence_cert_table) as the same certificates, and a buffer one
 * byte short must be refused with the same needed length.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/evidence.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	size_t n = data[0] % 5;
	struct cvm_ghcb_cert certs[4];
	const uint8_t *body = data + 5;
	size_t left = size - 5, each = n ? left / n : 0;
	for (size_t i = 0; i < n; i++)
		certs[i] = (struct cvm_ghcb_cert){(enum cvm_ghcb_cert_kind)(data[1 + i] % 5),
						  body + i * each, each};
	size_t need = 0;
	if (cvm_ghcb_cert_table_build(certs, n, NULL, 0, &need, NULL) != -ENOSPC && n)
		return 0;
	if (need > CVM_GHCB_TABLE_MAX)
		abort();
	uint8_t *table = malloc(need ? need : 1);
	if (!table)
		return 0;
	size_t need2 = 0;
	if (need && cvm_ghcb_cert_table_build(certs, n, table, need - 1, &need2, NULL) != -ENOSPC)
		abort();
	if (cvm_ghcb_cert_table_build(certs, n, table, need, &need2, NULL) != 0 || need2 != need)
		abort();
	struct cvm_evidence *ev = NULL;
	int rc = cvm_evidence_cert_table(table, need, &ev, NULL);
	if (n && rc)
		abort();
	if (!rc) {
		if (ev->ncerts != n)
			abort();
		for (size_t i = 0; i < n; i++)
			if (ev->certs[i].len != certs[i].len ||
			    memcmp(ev->certs[i].data, certs[i].data, certs[i].len))
				abort();
		cvm_evidence_free(ev);
	}
	free(table);
	return 0;
}
