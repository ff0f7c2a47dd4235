/* SPDX-License-Identifier: Apache-2.0 */
/* The SEV-SNP CPUID page (include/cvmkit/snp.h). */
#include <cvmkit/snp.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <cvmkit/util.h>

#define XSAVE_LEAF 0xdu
#define XSAVE_LEGACY_AREA_SIZE 0x240u /* 512-byte legacy region + 64-byte XSAVE header */

int cvm_snp_cpuid_page_build(const struct cvm_cpuid_leaf *leaves, size_t n, uint8_t *page,
			     struct cvm_error *err)
{
	if (n > CVM_SNP_CPUID_MAX_ENTRIES)
		return cvm_error_set(err, -E2BIG,
				     "SNP CPUID page: the vCPU has %zu CPUID leaves, the page holds at "
				     "most %u",
				     n, CVM_SNP_CPUID_MAX_ENTRIES);
	memset(page, 0, CVM_PAGE_SIZE);
	cvm_put_le32(page, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const struct cvm_cpuid_leaf *e = &leaves[i];
		uint8_t *out = page + CVM_SNP_CPUID_HEADER_SIZE + i * CVM_SNP_CPUID_ENTRY_SIZE;
		uint32_t index = e->index_significant ? e->index : 0;
		bool xsave_base = e->function == XSAVE_LEAF && index <= 1;
		cvm_put_le32(out + 0, e->function);
		cvm_put_le32(out + 4, index);
		cvm_put_le64(out + 8, xsave_base ? 1 : 0); /* xcr0_in */
		cvm_put_le64(out + 16, 0);                 /* xss_in */
		cvm_put_le32(out + 24, e->eax);
		cvm_put_le32(out + 28, xsave_base ? XSAVE_LEGACY_AREA_SIZE : e->ebx);
		cvm_put_le32(out + 32, e->ecx);
		cvm_put_le32(out + 36, e->edx);
	}
	return 0;
}
