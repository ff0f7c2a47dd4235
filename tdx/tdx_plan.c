/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TDX planner: TDVF sections in metadata order -> one CVM_OP_LOAD op each
 * (spec/tdx-measurement.md sections 2-4).  The TD_HOB section carries the TD HOB for the
 * policy's memory size; BFV/CFV ops point into the firmware's mapped image.
 */
#include <cvmkit/tdx.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/util.h>

#define UNIFIED_HINT "use the unified OVMF.fd (e.g. /usr/share/ovmf/OVMF.fd) with TDX"

static const char *section_label(uint32_t type)
{
	switch (type) {
	case CVM_TDVF_BFV: return "BFV";
	case CVM_TDVF_CFV: return "CFV";
	case CVM_TDVF_TD_HOB: return "TD_HOB";
	case CVM_TDVF_TEMP_MEM: return "TempMem";
	case CVM_TDVF_PERM_MEM: return "PermMem";
	case CVM_TDVF_PAYLOAD: return "Payload";
	case CVM_TDVF_PAYLOAD_PARAM: return "PayloadParam";
	case CVM_TDVF_TD_INFO: return "TD_INFO";
	case CVM_TDVF_TD_PARAMS: return "TD_PARAMS";
	default: return "unknown";
	}
}

static int check_section(const struct cvm_firmware *fw, size_t i, struct cvm_error *err)
{
	const struct cvm_tdvf_section *s = &fw->tdx_sections[i];
	const char *name = section_label(s->type);

	if (s->type > CVM_TDVF_TEMP_MEM)
		return cvm_error_set(err, -EINVAL,
				     "TDVF section %zu: type %u (%s) is not one QEMU/KVM loads "
				     "(BFV, CFV, TD_HOB, TempMem)",
				     i, s->type, name);
	if (s->gpa % CVM_PAGE_SIZE || s->mem_size % CVM_PAGE_SIZE || s->mem_size == 0)
		return cvm_error_set(err, -EINVAL,
				     "TDVF section %zu (%s): GPA 0x%llx size 0x%llx is not whole, "
				     "4 KiB aligned pages",
				     i, name, (unsigned long long)s->gpa,
				     (unsigned long long)s->mem_size);
	if (s->gpa > UINT64_MAX - s->mem_size)
		return cvm_error_set(err, -EINVAL, "TDVF section %zu (%s): GPA range overflows", i,
				     name);
	if (s->raw_size > s->mem_size)
		return cvm_error_set(err, -EINVAL,
				     "TDVF section %zu (%s): raw data 0x%x bytes exceeds its memory "
				     "size 0x%llx",
				     i, name, s->raw_size, (unsigned long long)s->mem_size);
	bool has_raw = s->type == CVM_TDVF_BFV || s->type == CVM_TDVF_CFV;
	if (has_raw && s->raw_size == 0)
		return cvm_error_set(err, -EINVAL, "TDVF section %zu (%s): no raw data", i, name);
	if (!has_raw && s->raw_size != 0)
		return cvm_error_set(err, -EINVAL,
				     "TDVF section %zu (%s): raw data size must be 0, is 0x%x", i,
				     name, s->raw_size);
	if (s->gpa + s->mem_size > CVM_TDVF_GPA_LIMIT)
		return cvm_error_set(err, -EINVAL,
				     "TDVF section %zu (%s): GPA 0x%llx + 0x%llx goes beyond the "
				     "52-bit guest-physical address space",
				     i, name, (unsigned long long)s->gpa,
				     (unsigned long long)s->mem_size);
	if (!cvm_range_ok(s->data_offset, s->raw_size, fw->size)) {
		if (cvm_tdvf_looks_split(fw))
			return cvm_error_set(err, -EINVAL,
					     "TDVF section %zu (%s): raw data at file offset 0x%x + "
					     "0x%x runs past the end of the 0x%zx-byte image, as in "
					     "a split OVMF_CODE.fd (the metadata describes the "
					     "unified image); " UNIFIED_HINT,
					     i, name, s->data_offset, s->raw_size, fw->size);
		return cvm_error_set(err, -EINVAL,
				     "TDVF section %zu (%s): raw data at file offset 0x%x + 0x%x runs "
				     "past the end of the 0x%zx-byte image: the image is truncated or "
				     "is not the one its TDX metadata describes",
				     i, name, s->data_offset, s->raw_size, fw->size);
	}
	/*
	 * QEMU hands KVM the section's whole memory size from the image (source = image +
	 * DataOffset, MemoryDataSize bytes), so bytes past the raw data are measured as they are
	 * in the image: modelled exactly when the image has them, refused when it does not.
	 */
	if (has_raw && !cvm_range_ok(s->data_offset, s->mem_size, fw->size))
		return cvm_error_set(err, -EINVAL,
				     "TDVF section %zu (%s): memory size 0x%llx exceeds the raw data "
				     "(0x%x bytes) and, copied from file offset 0x%x as QEMU does, runs "
				     "past the end of the 0x%zx-byte image: QEMU would load bytes that "
				     "are not in the image",
				     i, name, (unsigned long long)s->mem_size, s->raw_size,
				     s->data_offset, fw->size);
	return 0;
}

static int check_overlaps(const struct cvm_firmware *fw, struct cvm_error *err)
{
	for (size_t i = 0; i < fw->ntdx; i++) {
		const struct cvm_tdvf_section *a = &fw->tdx_sections[i];
		for (size_t j = i + 1; j < fw->ntdx; j++) {
			const struct cvm_tdvf_section *b = &fw->tdx_sections[j];
			if (a->gpa < b->gpa + b->mem_size && b->gpa < a->gpa + a->mem_size)
				return cvm_error_set(
					err, -EINVAL,
					"TDVF sections %zu (%s 0x%llx+0x%llx) and %zu (%s "
					"0x%llx+0x%llx) overlap",
					i, section_label(a->type), (unsigned long long)a->gpa,
					(unsigned long long)a->mem_size, j, section_label(b->type),
					(unsigned long long)b->gpa, (unsigned long long)b->mem_size);
		}
	}
	return 0;
}

int cvm_tdx_firmware_check(const struct cvm_firmware *fw, struct cvm_error *err)
{
	const char *path = fw->path ? fw->path : "firmware image";
	if (fw->tdx_status == CVM_FW_ABSENT)
		return cvm_error_set(err, -ENOTSUP,
				     "%s: no TDX metadata (TDVF descriptor): this firmware cannot boot "
				     "a TD (Debian's 4 MiB OVMF builds have none); " UNIFIED_HINT,
				     path);
	if (fw->ntdx > 0 && !fw->tdx_sections)
		return cvm_error_set(err, -EINVAL, "%s: TDVF sections missing", path);
	/* Our own checks name the exact problem, also when the reader already flagged one. */
	for (size_t i = 0; i < fw->ntdx; i++) {
		int rc = check_section(fw, i, err);
		if (rc)
			return cvm_error_wrap(err, "%s", path);
	}
	if (check_overlaps(fw, err))
		return cvm_error_wrap(err, "%s", path);
	/* The reader's reason already says whether the image looks split or truncated. */
	if (fw->tdx_status != CVM_FW_OK)
		return cvm_error_set(err, -EINVAL, "%s: invalid TDX metadata: %s", path,
				     fw->tdx_reason[0] ? fw->tdx_reason : "(no reason given)");
	if (fw->ntdx == 0)
		return cvm_error_set(err, -EINVAL, "%s: TDVF descriptor has no sections", path);
	return 0;
}

static int find_td_hob(const struct cvm_firmware *fw, size_t *index, struct cvm_error *err)
{
	size_t found = SIZE_MAX;
	for (size_t i = 0; i < fw->ntdx; i++) {
		if (fw->tdx_sections[i].type != CVM_TDVF_TD_HOB)
			continue;
		if (found != SIZE_MAX)
			return cvm_error_set(err, -EINVAL,
					     "TDVF sections %zu and %zu are both TD_HOB; the HOB goes "
					     "in exactly one",
					     found, i);
		found = i;
	}
	if (found == SIZE_MAX)
		return cvm_error_set(err, -EINVAL,
				     "firmware has no TD_HOB section: TDVF needs the TD HOB (its "
				     "memory map, passed in RCX) and there is nowhere to place it");
	*index = found;
	return 0;
}

static int check_policy(const struct cvm_policy *policy, struct cvm_error *err)
{
	if (policy->tee != CVM_TEE_TDX)
		return cvm_error_set(err, -EINVAL, "tee: the policy is for \"%s\", not \"tdx\"",
				     cvm_tee_name(policy->tee));
	if (policy->vmm == CVM_VMM_EC2 || policy->vmm == CVM_VMM_GCE)
		return cvm_error_set(err, -EINVAL,
				     "vmm \"%s\": an SEV-SNP launch profile; TDX is modelled as QEMU "
				     "and cvmkit launch a TD (QEMU's TD HOB): use qemu or cvmkit",
				     cvm_vmm_name(policy->vmm));
	if (policy->tdx.debug && !policy->allow_debug)
		return cvm_error_set(err, -EPERM,
				     "tdx.attributes.debug: a debug TD exposes its memory and state "
				     "to the host; refused unless the policy sets allow_debug");
	if (policy->memory_size == 0 || policy->memory_size % CVM_PAGE_SIZE)
		return cvm_error_set(err, -EINVAL,
				     "memory.size: 0x%llx is not a positive multiple of 4 KiB",
				     (unsigned long long)policy->memory_size);
	return 0;
}

/*
 * Every section where a launch can put it: BFV/CFV in guest RAM or in the firmware window (at
 * most 1 GiB below 4 GiB, where cvmkit and QEMU map the image); TD_HOB/TempMem in RAM (the TD
 * HOB builder checks that, as QEMU accepts them only there).
 */
static int check_placement(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			   struct cvm_error *err)
{
	const uint64_t four_gib = CVM_GUEST_HIGH_RAM_START, window = 1ull << 30;
	for (size_t i = 0; i < fw->ntdx; i++) {
		const struct cvm_tdvf_section *s = &fw->tdx_sections[i];
		if (s->type != CVM_TDVF_BFV && s->type != CVM_TDVF_CFV)
			continue;
		bool in_window = s->gpa >= four_gib - window && s->gpa + s->mem_size <= four_gib;
		if (!in_window && !cvm_policy_range_in_ram(policy->memory_size, s->gpa, s->mem_size))
			return cvm_error_set(err, -EINVAL,
					     "TDVF section %zu (%s): [0x%llx, 0x%llx) is neither in "
					     "the guest's 0x%llx bytes of RAM nor in the firmware "
					     "window below 4 GiB: it cannot be loaded",
					     i, section_label(s->type), (unsigned long long)s->gpa,
					     (unsigned long long)(s->gpa + s->mem_size),
					     (unsigned long long)policy->memory_size);
	}
	return 0;
}

static int add_section_ops(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			   size_t hob_index, const uint8_t *hob, size_t hob_len,
			   struct cvm_plan *plan, struct cvm_error *err)
{
	for (size_t i = 0; i < fw->ntdx; i++) {
		const struct cvm_tdvf_section *s = &fw->tdx_sections[i];
		struct cvm_plan_op op = {
			.kind = CVM_OP_LOAD,
			.label = section_label(s->type),
			.gpa = s->gpa,
			.size = s->mem_size,
			.snp_page_type = CVM_SNP_PAGE_NONE,
		};
		if (s->raw_size) {
			/* the whole memory size from the image, as QEMU copies it (check_section) */
			op.data = fw->data + s->data_offset;
			op.data_len = s->mem_size;
			op.flags |= CVM_OP_FIRMWARE;
		} else if (i == hob_index) {
			op.data = hob;
			op.data_len = hob_len;
		}
		if (s->attributes & CVM_TDVF_ATTR_MR_EXTEND)
			op.flags |= CVM_OP_MR_EXTEND;
		if ((s->attributes & CVM_TDVF_ATTR_PAGE_AUG) && policy->tdx.honour_page_aug)
			op.flags |= CVM_OP_NO_PAGE_ADD;
		int rc = cvm_plan_add(plan, &op, err);
		if (rc)
			return rc;
	}
	return 0;
}

int cvm_tdx_plan_build(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		       struct cvm_plan *plan, struct cvm_error *err)
{
	int rc = check_policy(policy, err);
	if (rc)
		return rc;
	if ((rc = cvm_tdx_firmware_check(fw, err)))
		return rc;
	if ((rc = check_placement(policy, fw, err)))
		return cvm_error_wrap(err, "%s", fw->path ? fw->path : "firmware image");
	size_t hob_index = 0;
	if ((rc = find_td_hob(fw, &hob_index, err)))
		return cvm_error_wrap(err, "%s", fw->path ? fw->path : "firmware image");
	const struct cvm_tdvf_section *hob_sec = &fw->tdx_sections[hob_index];

	uint8_t *hob = NULL;
	size_t hob_len = 0;
	rc = cvm_tdx_hob_build(fw->tdx_sections, fw->ntdx, policy->memory_size, hob_sec->gpa, &hob,
			       &hob_len, err);
	if (rc)
		return rc;
	if (hob_len > hob_sec->mem_size) {
		free(hob);
		return cvm_error_set(err, -ENOSPC,
				     "TD HOB of %zu bytes does not fit the 0x%llx-byte TD_HOB section",
				     hob_len, (unsigned long long)hob_sec->mem_size);
	}

	struct cvm_plan p;
	cvm_plan_init(&p, CVM_TEE_TDX);
	p.tdx.attributes = cvm_tdx_attributes_value(&policy->tdx);
	p.tdx.xfam = policy->tdx.xfam;
	memcpy(p.tdx.mrconfigid, policy->tdx.mrconfigid, sizeof(p.tdx.mrconfigid));
	memcpy(p.tdx.mrowner, policy->tdx.mrowner, sizeof(p.tdx.mrowner));
	memcpy(p.tdx.mrownerconfig, policy->tdx.mrownerconfig, sizeof(p.tdx.mrownerconfig));
	p.tdx.td_hob_gpa = hob_sec->gpa;
	p.tdx.order = policy->tdx.measure_order;

	if ((rc = cvm_plan_own(&p, hob, err)) || (rc = cvm_plan_take_policy(&p, policy, err)) ||
	    (rc = add_section_ops(policy, fw, hob_index, hob, hob_len, &p, err))) {
		cvm_plan_release(&p);
		return cvm_error_wrap(err, "TDX plan");
	}
	*plan = p;
	return 0;
}
