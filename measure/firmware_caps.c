/* SPDX-License-Identifier: Apache-2.0 */
/* What a parsed firmware image can do: SNP launch, SNP measured direct boot, TDX launch. */
#include <cvmkit/firmware.h>

#include "measure/firmware_internal.h"

/* Bytes of the padded kernel-hashes table (spec/snp-measurement.md 3.1). */
#define SNP_HASH_TABLE_BYTES 0xb0u

static bool say(char *why, size_t n, bool ok, const char *text)
{
	if (why && n)
		cvm_fw_reason(why, n, "%s", text);
	return ok;
}

bool cvm_firmware_can_snp(const struct cvm_firmware *fw, char *why, size_t n)
{
	if (fw->sev_status != CVM_FW_OK)
		return say(why, n, false, fw->sev_reason);
	if (!fw->has_reset_block)
		return say(why, n, false,
			   "no SEV-ES reset block in the OVMF table: application processors have no "
			   "start address");
	return say(why, n, true, "SEV metadata and SEV-ES reset block present");
}

static const struct cvm_sev_section *kernel_hashes_section(const struct cvm_firmware *fw)
{
	for (size_t i = 0; i < fw->nsev; i++)
		if (fw->sev_sections[i].type == CVM_SEV_KERNEL_HASHES)
			return &fw->sev_sections[i];
	return NULL;
}

bool cvm_firmware_can_snp_kernel_hashes(const struct cvm_firmware *fw, char *why, size_t n)
{
	char snp[256];
	if (!cvm_firmware_can_snp(fw, snp, sizeof(snp))) {
		if (why && n)
			cvm_fw_reason(why, n, "no SNP launch: %s", snp);
		return false;
	}
	const struct cvm_sev_section *s = kernel_hashes_section(fw);
	if (!s)
		return say(why, n, false,
			   "no SNP_KERNEL_HASHES section in the SEV metadata; measured direct boot "
			   "needs an AmdSevX64 build of OVMF");
	if (s->size != CVM_PAGE_SIZE)
		return say(why, n, false, "the SNP_KERNEL_HASHES section is not one 4 KiB page");
	if (!fw->has_hash_table || fw->hash_table_gpa == 0)
		return say(why, n, false,
			   "the SEV hash-table location in the OVMF table is missing or zero");
	uint64_t page_off = fw->hash_table_gpa & (CVM_PAGE_SIZE - 1);
	if (fw->hash_table_gpa - page_off != s->gpa)
		return say(why, n, false,
			   "the SEV hash table does not lie in the SNP_KERNEL_HASHES page");
	if (fw->hash_table_size < SNP_HASH_TABLE_BYTES ||
	    page_off + SNP_HASH_TABLE_BYTES > CVM_PAGE_SIZE)
		return say(why, n, false,
			   "the SEV hash-table area is too small for the 0xb0-byte hashes table");
	return say(why, n, true, "SNP_KERNEL_HASHES page with the SEV hash table");
}

bool cvm_firmware_can_tdx(const struct cvm_firmware *fw, char *why, size_t n)
{
	if (fw->tdx_status != CVM_FW_OK)
		return say(why, n, false, fw->tdx_reason);
	return say(why, n, true, "valid TDVF metadata");
}
