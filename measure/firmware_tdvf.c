/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TDVF metadata ("TDVF" descriptor, spec/tdx-measurement.md sections 1-2), checked at least as
 * strictly as upstream QEMU.
 *
 * Errors (tdx_status = CVM_FW_INVALID; no TDX launch from this image):
 *   - TDX metadata entry shorter than 4 bytes, offset outside the image;
 *   - signature not "TDVF", version not 1, length not 16 + 32 * N, fewer than 2 sections (QEMU),
 *     sections running past the end of the image;
 *   - a section with an unknown type (> 8), reserved attribute bits, a GPA not 4 KiB aligned, a
 *     memory size that is zero, not a 4 KiB multiple or smaller than its raw size, a GPA range
 *     that wraps; BFV/CFV without raw data, TD_HOB/TempMem with raw data;
 *   - raw data beyond the end of the image (Debian's split OVMF_CODE.fd: its metadata describes
 *     the unified OVMF.fd, so the reason says to use that; otherwise it says truncated);
 *   - a GPA range beyond the 52-bit guest-physical space; a BFV/CFV whose memory size exceeds
 *     its raw size and runs past the image's end (QEMU copies the memory size from the image);
 *   - no BFV section, more than one TD_HOB section, overlapping GPA ranges.
 * Warnings (tdx_warnings): td-shim section types 4..8 (QEMU refuses them), a descriptor that is
 * not preceded by TDX_METADATA_GUID (td-shim tools require it; QEMU does not).
 */
#include <cvmkit/firmware.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "measure/firmware_internal.h"

#define TDVF_ITEM 32u
#define TDVF_ATTR_KNOWN (CVM_TDVF_ATTR_MR_EXTEND | CVM_TDVF_ATTR_PAGE_AUG)

/* e9eaf9f3-168e-44d5-a8eb-7f4d8738f6ae, the GUID OVMF puts right before the descriptor. */
static const struct cvm_guid tdx_metadata_guid = {{0xf3, 0xf9, 0xea, 0xe9, 0x8e, 0x16, 0xd5, 0x44,
						   0xa8, 0xeb, 0x7f, 0x4d, 0x87, 0x38, 0xf6, 0xae}};

#define TDX_REASON(fw, ...) cvm_fw_reason((fw)->tdx_reason, sizeof((fw)->tdx_reason), __VA_ARGS__)

static bool tdvf_read_header(struct cvm_firmware *fw, const uint8_t **items, uint32_t *n)
{
	const uint8_t *p;
	uint32_t count;
	if (!cvm_fw_read_descriptor(fw, fw->tdx_metadata_offset, "TDX", "TDVF", TDVF_ITEM,
				    fw->tdx_reason, sizeof(fw->tdx_reason), &p, &count))
		return false;
	if (count < 2) {
		TDX_REASON(fw, "TDX metadata lists %u section%s, at least 2 are needed (BFV and TD_HOB)",
			   count, count == 1 ? "" : "s");
		return false;
	}
	size_t at = fw->size - fw->tdx_metadata_offset; /* the descriptor's file offset */
	size_t glen = sizeof(tdx_metadata_guid.b);
	if (at < glen || memcmp(fw->data + at - glen, tdx_metadata_guid.b, glen) != 0)
		cvm_fw_note(fw->tdx_warnings, sizeof(fw->tdx_warnings),
			    "descriptor not preceded by TDX_METADATA_GUID e9eaf9f3-168e-44d5-a8eb-"
			    "7f4d8738f6ae (td-shim tools require it)");
	*items = p;
	*n = count;
	return true;
}

/*
 * A split OVMF_CODE.fd is the unified image without its leading CFV (variable store), so its
 * size plus the CFV's raw size equals the end of the furthest raw data.
 */
static bool looks_split(size_t size, const struct cvm_tdvf_section *all, size_t n)
{
	uint64_t max_end = 0, cfv = 0;
	for (size_t k = 0; k < n; k++) {
		uint64_t end = (uint64_t)all[k].data_offset + all[k].raw_size;
		if (end > max_end)
			max_end = end;
		if (all[k].type == CVM_TDVF_CFV && all[k].data_offset == 0)
			cfv = all[k].raw_size;
	}
	return cfv && (uint64_t)size + cfv == max_end;
}

bool cvm_tdvf_looks_split(const struct cvm_firmware *fw)
{
	return fw->tdx_sections && looks_split(fw->size, fw->tdx_sections, fw->ntdx);
}

static void tdvf_raw_past_end(struct cvm_firmware *fw, size_t i, const struct cvm_tdvf_section *s,
			      const struct cvm_tdvf_section *all, size_t n)
{
	TDX_REASON(fw,
		   "TDX section %zu (%s): raw data 0x%x+0x%x beyond the end of the image (0x%zx "
		   "bytes): %s",
		   i, cvm_tdvf_section_type_name(s->type), s->data_offset, s->raw_size, fw->size,
		   looks_split(fw->size, all, n)
			   ? "this looks like a split OVMF_CODE.fd; use the unified OVMF.fd"
			   : "the image is truncated or its metadata is wrong");
}

static bool tdvf_check_section(struct cvm_firmware *fw, size_t i, const struct cvm_tdvf_section *s,
			       const struct cvm_tdvf_section *all, size_t n)
{
	const char *name = cvm_tdvf_section_type_name(s->type);
	if (s->type > CVM_TDVF_TD_PARAMS) {
		TDX_REASON(fw, "TDX section %zu: unknown type %u", i, s->type);
		return false;
	}
	if (s->attributes & ~TDVF_ATTR_KNOWN) {
		TDX_REASON(fw, "TDX section %zu (%s): reserved attribute bits set (0x%x)", i, name,
			   s->attributes);
		return false;
	}
	if (s->gpa % CVM_PAGE_SIZE) {
		TDX_REASON(fw, "TDX section %zu (%s): gpa 0x%llx is not 4 KiB aligned", i, name,
			   (unsigned long long)s->gpa);
		return false;
	}
	if (s->mem_size == 0 || s->mem_size % CVM_PAGE_SIZE) {
		TDX_REASON(fw,
			   "TDX section %zu (%s): memory size 0x%llx is not a non-zero multiple of "
			   "4 KiB",
			   i, name, (unsigned long long)s->mem_size);
		return false;
	}
	if (s->mem_size < s->raw_size) {
		TDX_REASON(fw, "TDX section %zu (%s): memory size 0x%llx is smaller than raw size 0x%x",
			   i, name, (unsigned long long)s->mem_size, s->raw_size);
		return false;
	}
	if (s->gpa > UINT64_MAX - s->mem_size) {
		TDX_REASON(fw, "TDX section %zu (%s): gpa 0x%llx + 0x%llx wraps around", i, name,
			   (unsigned long long)s->gpa, (unsigned long long)s->mem_size);
		return false;
	}
	if (s->gpa + s->mem_size > CVM_TDVF_GPA_LIMIT) {
		TDX_REASON(fw, "TDX section %zu (%s): gpa 0x%llx + 0x%llx goes beyond the 52-bit "
			   "guest-physical address space", i, name, (unsigned long long)s->gpa,
			   (unsigned long long)s->mem_size);
		return false;
	}
	bool has_raw = s->type == CVM_TDVF_BFV || s->type == CVM_TDVF_CFV;
	bool no_raw = s->type == CVM_TDVF_TD_HOB || s->type == CVM_TDVF_TEMP_MEM;
	if (has_raw && s->raw_size == 0) {
		TDX_REASON(fw, "TDX section %zu (%s): no raw data", i, name);
		return false;
	}
	if (no_raw && s->raw_size != 0) {
		TDX_REASON(fw, "TDX section %zu (%s): raw size 0x%x, expected 0", i, name,
			   s->raw_size);
		return false;
	}
	if (!cvm_range_ok(s->data_offset, s->raw_size, fw->size)) {
		tdvf_raw_past_end(fw, i, s, all, n);
		return false;
	}
	/* QEMU copies the whole memory size of a BFV/CFV from the image, not just its raw data. */
	if (has_raw && !cvm_range_ok(s->data_offset, s->mem_size, fw->size)) {
		TDX_REASON(fw, "TDX section %zu (%s): memory size 0x%llx exceeds raw size 0x%x and "
			   "runs past the end of the image (0x%zx bytes) from file offset 0x%x; "
			   "QEMU copies the memory size from the image", i, name,
			   (unsigned long long)s->mem_size, s->raw_size, fw->size, s->data_offset);
		return false;
	}
	return true;
}

static bool tdvf_check_table(struct cvm_firmware *fw, const struct cvm_tdvf_section *s, size_t n,
			     struct cvm_fw_range *ranges)
{
	size_t nbfv = 0, nhob = 0, nshim = 0;
	for (size_t i = 0; i < n; i++) {
		nbfv += s[i].type == CVM_TDVF_BFV;
		nhob += s[i].type == CVM_TDVF_TD_HOB;
		nshim += s[i].type > CVM_TDVF_TEMP_MEM;
		ranges[i].start = s[i].gpa;
		ranges[i].end = s[i].gpa + s[i].mem_size;
		ranges[i].index = i;
	}
	if (nbfv == 0) {
		TDX_REASON(fw, "TDX metadata has no BFV (firmware code) section");
		return false;
	}
	if (nhob > 1) {
		TDX_REASON(fw, "TDX metadata has %zu TD_HOB sections, at most one is allowed", nhob);
		return false;
	}
	size_t a, b;
	if (cvm_fw_ranges_overlap(ranges, n, &a, &b)) {
		TDX_REASON(fw,
			   "TDX sections %zu (%s 0x%llx+0x%llx) and %zu (%s 0x%llx+0x%llx) overlap", a,
			   cvm_tdvf_section_type_name(s[a].type), (unsigned long long)s[a].gpa,
			   (unsigned long long)s[a].mem_size, b,
			   cvm_tdvf_section_type_name(s[b].type), (unsigned long long)s[b].gpa,
			   (unsigned long long)s[b].mem_size);
		return false;
	}
	if (nshim)
		cvm_fw_note(fw->tdx_warnings, sizeof(fw->tdx_warnings),
			    "%zu td-shim section type(s) (PermMem/Payload/...): QEMU refuses these",
			    nshim);
	return true;
}

int cvm_fw_parse_tdvf(struct cvm_firmware *fw)
{
	fw->tdx_status = CVM_FW_ABSENT;
	const struct cvm_fw_table_entry *e = cvm_firmware_find(fw, &CVM_GUID_TDX_METADATA);
	if (!e) {
		TDX_REASON(fw, "%s: this image cannot launch a TDX guest",
			   fw->ntable ? "no TDX metadata entry (e47a6535-984a-4798-865e-4685a7bf8ec2) "
					"in the OVMF table"
				      : "no OVMF GUID table at the end of the image");
		return 0;
	}
	if (e->len < 4) {
		fw->tdx_status = CVM_FW_INVALID;
		TDX_REASON(fw, "TDX metadata entry holds %zu data bytes, expected at least 4", e->len);
		return 0;
	}
	fw->tdx_metadata_offset = cvm_le32(e->data);

	const uint8_t *items;
	uint32_t n;
	if (!tdvf_read_header(fw, &items, &n)) {
		fw->tdx_status = CVM_FW_INVALID;
		return 0;
	}
	struct cvm_tdvf_section *s = calloc(n, sizeof(*s));
	struct cvm_fw_range *ranges = calloc(n, sizeof(*ranges));
	if (!s || !ranges) {
		free(s);
		free(ranges);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = items + (size_t)TDVF_ITEM * i;
		s[i].data_offset = cvm_le32(p);
		s[i].raw_size = cvm_le32(p + 4);
		s[i].gpa = cvm_le64(p + 8);
		s[i].mem_size = cvm_le64(p + 16);
		s[i].type = cvm_le32(p + 24);
		s[i].attributes = cvm_le32(p + 28);
	}
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++)
		ok = tdvf_check_section(fw, i, &s[i], s, n);
	if (ok)
		ok = tdvf_check_table(fw, s, n, ranges);
	free(ranges);
	fw->tdx_sections = s;
	fw->ntdx = n;
	fw->tdx_status = ok ? CVM_FW_OK : CVM_FW_INVALID;
	if (ok)
		fw->tdx_reason[0] = '\0';
	return 0;
}
