/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the CPUID page the PSP writes back when it rejects one (sev/snp_cpuid.c).  The
 * input is the page as provided followed by the page as corrected (each zero-padded to 4096
 * bytes; the firmware owns the second, so any bytes go); every difference is compared and
 * spelled out, in buffers of every small size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/snp.h>
#include <cvmkit/util.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pages[2][CVM_PAGE_SIZE];
	memset(pages, 0, sizeof(pages));
	size_t first = size < CVM_PAGE_SIZE ? size : CVM_PAGE_SIZE;
	memcpy(pages[0], data, first);
	size_t rest = size - first < CVM_PAGE_SIZE ? size - first : CVM_PAGE_SIZE;
	memcpy(pages[1], data + first, rest);
	struct cvm_snp_cpuid_mismatch m[16];
	size_t total = cvm_snp_cpuid_page_compare(pages[0], pages[1], m, 16);
	if (total > 1 + 64 * 8)
		abort();
	size_t shown = total < 16 ? total : 16;
	char text[1024];
	for (size_t len = 0; len <= 64; len += 7)
		(void)cvm_snp_cpuid_mismatch_text(m, shown, total, text, len);
	int w = cvm_snp_cpuid_mismatch_text(m, shown, total, text, sizeof(text));
	if (w < 0 || strlen(text) >= sizeof(text))
		abort();
	for (unsigned fn = 0; fn < 0x20; fn++)
		(void)cvm_snp_cpuid_mask(fn < 0x10 ? fn : 0x80000000u + fn, 0, CVM_CPUID_EDX, ~0u);
	return 0;
}
