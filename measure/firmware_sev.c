/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SEV metadata ("ASEV", spec/snp-measurement.md 2.4), checked as gce-tcb-verifier does.
 *
 * Errors (sev_status = CVM_FW_INVALID; no SNP launch from this image):
 *   - a SEV table entry (reset block, secret block, hash table, metadata offset) whose data is
 *     shorter than its fields;
 *   - the metadata offset pointing outside the image; signature not "ASEV"; version not 1;
 *     length not 16 + 12 * N; sections running past the end of the image; N == 0;
 *   - a section with an unknown type, a GPA not 4 KiB aligned, a size that is zero or not a
 *     multiple of 4 KiB, or that runs past 4 GiB;
 *   - SNP_SECRETS or CPUID larger than one page (the launch measures exactly one page);
 *   - more than one SNP_SECRETS, CPUID or SNP_KERNEL_HASHES section (which one would the guest
 *     use?);
 *   - two sections whose GPA ranges overlap.
 * Warnings (sev_warnings; the image still launches, but the guest may not boot as expected):
 *   - no SNP_SECRETS or no CPUID section, no SNP_SEC_MEM section;
 *   - an SNP_KERNEL_HASHES section that is not exactly one page (measured direct boot then
 *     cannot be used) or a hash-table GPA that does not fall inside it.
 */
#include <cvmkit/firmware.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "measure/firmware_internal.h"

#define ASEV_ITEM 12u

/* Data of the four SEV entries must hold their fields; otherwise the SEV side is invalid. */
static bool sev_entries_well_formed(struct cvm_firmware *fw)
{
	static const struct {
		const struct cvm_guid *guid;
		size_t need;
	} want[] = {
		{&CVM_GUID_SEV_ES_RESET_BLOCK, 4},
		{&CVM_GUID_SEV_SECRET_BLOCK, 8},
		{&CVM_GUID_SEV_HASH_TABLE, 8},
		{&CVM_GUID_SEV_METADATA, 4},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(want); i++) {
		const struct cvm_fw_table_entry *e = cvm_firmware_find(fw, want[i].guid);
		if (e && e->len < want[i].need) {
			cvm_fw_reason(fw->sev_reason, sizeof(fw->sev_reason),
				      "%s entry holds %zu data bytes, expected at least %zu",
				      cvm_guid_name(want[i].guid), e->len, want[i].need);
			return false;
		}
	}
	return true;
}

/* The header; on success *items points at the section items and *n is their count. */
static bool sev_read_header(struct cvm_firmware *fw, const uint8_t **items, uint32_t *n)
{
	const uint8_t *p;
	uint32_t count;
	if (!cvm_fw_read_descriptor(fw, fw->sev_metadata_offset, "SEV", "ASEV", ASEV_ITEM,
				    fw->sev_reason, sizeof(fw->sev_reason), &p, &count))
		return false;
	if (count == 0) {
		cvm_fw_reason(fw->sev_reason, sizeof(fw->sev_reason),
			      "SEV metadata lists no sections");
		return false;
	}
	*items = p;
	*n = count;
	return true;
}

static bool sev_check_section(struct cvm_firmware *fw, size_t i, const struct cvm_sev_section *s)
{
	const char *name = cvm_sev_section_type_name(s->type);
	if (strcmp(name, "UNKNOWN") == 0) {
		cvm_fw_reason(fw->sev_reason, sizeof(fw->sev_reason),
			      "SEV section %zu: unknown type 0x%x", i, s->type);
		return false;
	}
	if (s->gpa % CVM_PAGE_SIZE) {
		cvm_fw_reason(fw->sev_reason, sizeof(fw->sev_reason),
			      "SEV section %zu (%s): gpa 0x%x is not 4 KiB aligned", i, name, s->gpa);
		return false;
	}
	if (s->size == 0 || s->size % CVM_PAGE_SIZE) {
		cvm_fw_reason(fw->sev_reason, sizeof(fw->sev_reason),
			      "SEV section %zu (%s): size 0x%x is not a non-zero multiple of 4 KiB",
			      i, name, s->size);
		return false;
	}
	if ((uint64_t)s->gpa + s->size > 0x100000000ull) {
		cvm_fw_reason(fw->sev_reason, sizeof(fw->sev_reason),
			      "SEV section %zu (%s): 0x%x + 0x%x runs past 4 GiB", i, name, s->gpa,
			      s->size);
		return false;
	}
	if ((s->type == CVM_SEV_SECRETS || s->type == CVM_SEV_CPUID) && s->size != CVM_PAGE_SIZE) {
		cvm_fw_reason(fw->sev_reason, sizeof(fw->sev_reason),
			      "SEV section %zu (%s): size 0x%x, expected exactly one page (0x1000)", i,
			      name, s->size);
		return false;
	}
	return true;
}

/* Counts per type, overlaps, and the warnings. */
static bool sev_check_table(struct cvm_firmware *fw, const struct cvm_sev_section *s, size_t n,
			    struct cvm_fw_range *ranges)
{
	size_t nsec_mem = 0, nsecrets = 0, ncpuid = 0, nhashes = 0, hashes = 0;
	for (size_t i = 0; i < n; i++) {
		nsec_mem += s[i].type == CVM_SEV_SEC_MEM;
		nsecrets += s[i].type == CVM_SEV_SECRETS;
		ncpuid += s[i].type == CVM_SEV_CPUID;
		if (s[i].type == CVM_SEV_KERNEL_HASHES) {
			nhashes++;
			hashes = i;
		}
		ranges[i].start = s[i].gpa;
		ranges[i].end = (uint64_t)s[i].gpa + s[i].size;
		ranges[i].index = i;
	}
	const char *dup = nsecrets > 1 ? "SNP_SECRETS"
			  : ncpuid > 1 ? "CPUID"
			  : nhashes > 1 ? "SNP_KERNEL_HASHES"
					: NULL;
	if (dup) {
		cvm_fw_reason(fw->sev_reason, sizeof(fw->sev_reason),
			      "SEV metadata has more than one %s section", dup);
		return false;
	}
	size_t a, b;
	if (cvm_fw_ranges_overlap(ranges, n, &a, &b)) {
		cvm_fw_reason(fw->sev_reason, sizeof(fw->sev_reason),
			      "SEV sections %zu (%s 0x%x+0x%x) and %zu (%s 0x%x+0x%x) overlap", a,
			      cvm_sev_section_type_name(s[a].type), s[a].gpa, s[a].size, b,
			      cvm_sev_section_type_name(s[b].type), s[b].gpa, s[b].size);
		return false;
	}
	char *w = fw->sev_warnings;
	size_t wn = sizeof(fw->sev_warnings);
	if (!nsecrets)
		cvm_fw_note(w, wn, "no SNP_SECRETS section: the guest gets no secrets page");
	if (!ncpuid)
		cvm_fw_note(w, wn, "no CPUID section: the guest gets no SNP CPUID table");
	if (!nsec_mem)
		cvm_fw_note(w, wn, "no SNP_SEC_MEM section");
	if (nhashes && s[hashes].size != CVM_PAGE_SIZE)
		cvm_fw_note(w, wn, "SNP_KERNEL_HASHES section is 0x%x bytes, not one page",
			    s[hashes].size);
	if (nhashes && fw->has_hash_table && fw->hash_table_gpa &&
	    (fw->hash_table_gpa < s[hashes].gpa ||
	     (uint64_t)fw->hash_table_gpa + fw->hash_table_size >
		     (uint64_t)s[hashes].gpa + s[hashes].size))
		cvm_fw_note(w, wn,
			    "SEV hash table 0x%x+0x%x lies outside the SNP_KERNEL_HASHES section",
			    fw->hash_table_gpa, fw->hash_table_size);
	return true;
}

int cvm_fw_parse_sev(struct cvm_firmware *fw)
{
	fw->sev_status = CVM_FW_ABSENT;
	if (!sev_entries_well_formed(fw)) {
		fw->sev_status = CVM_FW_INVALID;
		return 0;
	}
	const struct cvm_fw_table_entry *e = cvm_firmware_find(fw, &CVM_GUID_SEV_METADATA);
	if (!e) {
		cvm_fw_reason(fw->sev_reason, sizeof(fw->sev_reason),
			      "%s: this image cannot launch an SEV-SNP guest",
			      fw->ntable ? "no SEV metadata entry (dc886566-984a-4798-a75e-5585a7bf67cc)"
					   " in the OVMF table"
					 : "no OVMF GUID table at the end of the image");
		return 0;
	}
	fw->sev_metadata_offset = cvm_le32(e->data);

	const uint8_t *items;
	uint32_t n;
	if (!sev_read_header(fw, &items, &n)) {
		fw->sev_status = CVM_FW_INVALID;
		return 0;
	}
	struct cvm_sev_section *s = calloc(n, sizeof(*s));
	struct cvm_fw_range *ranges = calloc(n, sizeof(*ranges));
	if (!s || !ranges) {
		free(s);
		free(ranges);
		return -ENOMEM;
	}
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = items + (size_t)ASEV_ITEM * i;
		s[i].gpa = cvm_le32(p);
		s[i].size = cvm_le32(p + 4);
		s[i].type = cvm_le32(p + 8);
		if (ok && !sev_check_section(fw, i, &s[i]))
			ok = false;
	}
	if (ok)
		ok = sev_check_table(fw, s, n, ranges);
	free(ranges);
	fw->sev_sections = s;
	fw->nsev = n;
	fw->sev_status = ok ? CVM_FW_OK : CVM_FW_INVALID;
	if (ok)
		fw->sev_reason[0] = '\0';
	return 0;
}
