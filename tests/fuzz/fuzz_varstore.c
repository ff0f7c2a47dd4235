/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: arbitrary bytes as an OVMF variable store (tdx/tdx_varstore.c), then what
 * the parser took measured as the RTMR0 Secure Boot events (tdx/tdx_rtmr.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cvmkit/tdx.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every variable the parser hands out lies inside the input. */
static void check_inside(const struct cvm_tdx_bytes *b, const uint8_t *data, size_t size)
{
	if (!b->data)
		return;
	if (b->data < data || b->len > size || (size_t)(b->data - data) > size - b->len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_tdx_varstore vs;
	struct cvm_error err;
	int rc = cvm_tdx_varstore_parse(data, size, &vs, &err);
	if (rc == -EINVAL)
		return 0;
	if (rc != 0)
		abort();
	const struct cvm_tdx_bytes *all[] = {&vs.pk, &vs.kek, &vs.db, &vs.dbx, &vs.dbt};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		check_inside(all[i], data, size);
	struct cvm_tdx_rtmr_inputs in = {.cfv = data, .cfv_len = size, .pk = vs.pk,
					 .kek = vs.kek, .db = vs.db, .dbx = vs.dbx,
					 .dbt = vs.dbt, .secure_boot = CVM_TDX_SB_ENABLED};
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_TDX, "tdx");
	if (!m)
		return 0;
	rc = cvm_tdx_rtmr_compute(&in, m, &err);
	if (rc != 0 && rc != -ENOMEM)
		abort();
	cvm_measurement_free(m);
	return 0;
}
