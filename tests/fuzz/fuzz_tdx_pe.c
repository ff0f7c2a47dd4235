/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: arbitrary bytes as a kernel image for the PE/COFF Authenticode hash
 * (tdx/tdx_rtmr.c), and as TDVF sections for the TD HOB builder (tdx/tdx_hob.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/tdx.h>
#include <cvmkit/util.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_hob(const uint8_t *data, size_t size)
{
	struct cvm_tdvf_section s[8];
	size_t n = size / 17 < 8 ? size / 17 : 8;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = data + 17 * i;
		s[i] = (struct cvm_tdvf_section){
			.gpa = cvm_le64(p) & ~0xfffull,
			.mem_size = (cvm_le64(p + 8) & 0xffffff000ull) + 0x1000,
			.type = p[16] % 4,
		};
	}
	uint64_t mem = size >= 8 ? (cvm_le64(data) & 0x3ffffff000ull) + 0x1000 : 0x80000000ull;
	uint8_t *hob = NULL;
	size_t len = 0;
	if (cvm_tdx_hob_build(s, n, mem, 0x809000, &hob, &len, NULL) == 0) {
		if (len < 64 || cvm_le16(hob + len - 8) != 0xffff)
			abort();
		uint8_t d[CVM_TDX_DIGEST_SIZE];
		cvm_tdx_hob_digest(hob, len, d);
		free(hob);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t d[CVM_TDX_DIGEST_SIZE];
	struct cvm_error err;
	int rc = cvm_tdx_authenticode_sha384(data, size, d, &err);
	if (rc != 0 && rc != -ENOEXEC && rc != -EINVAL && rc != -ENOMEM)
		abort();
	fuzz_hob(data, size);
	return 0;
}
