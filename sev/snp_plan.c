/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SNP planner: policy + firmware -> the ordered LAUNCH_UPDATE / VMSA operations that QEMU
 * (or EC2's, GCE's, our own VMM) issues.  spec/snp-measurement.md 3 and 9.
 *
 * The plan's firmware op borrows fw->data; the kernel-hashes page, the reset states and the
 * VMSA pages are owned by the plan.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/snp.h>
#include <cvmkit/util.h>

#include "sev/snp_priv.h"

#define FOUR_GIB 0x100000000ull

int snp_check_common(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		     struct cvm_error *err)
{
	if (policy->tee != CVM_TEE_SNP)
		return cvm_error_set(err, -EINVAL, "policy tee is '%s', not 'snp'",
				     cvm_tee_name(policy->tee));
	if (policy->cpus.count == 0 || policy->cpus.count > CVM_MAX_VCPUS)
		return cvm_error_set(err, -EINVAL, "cpus.count: %u is not in 1..%u (KVM's limit)",
				     policy->cpus.count, CVM_MAX_VCPUS);
	if (fw->size == 0 || fw->size % CVM_PAGE_SIZE || fw->size > FOUR_GIB)
		return cvm_error_set(err, -EINVAL,
				     "firmware size %zu is not a non-zero multiple of 4096 bytes "
				     "below 4 GiB",
				     fw->size);
	return 0;
}

int snp_ap_reset_eip(const struct cvm_firmware *fw, uint32_t nvcpus, uint32_t *eip,
		     struct cvm_error *err)
{
	if (!fw->has_reset_block)
		return cvm_error_set(err, -EINVAL,
				     "firmware has no SEV-ES reset block (GUID "
				     "00f771de-1a7e-4fcb-890e-68c77e2fb44e): it is not an "
				     "SEV-capable OVMF build");
	/* QEMU refuses it whatever the vCPU count ("SEV-ES reset address is zero"). */
	if (fw->ap_reset_eip == 0)
		return cvm_error_set(err, -EINVAL,
				     "firmware's SEV-ES reset block gives AP reset address 0, which "
				     "QEMU refuses (\"SEV-ES reset address is zero\") even for %u "
				     "vCPU%s: the image is not a usable SEV-ES/SNP build",
				     nvcpus, nvcpus == 1 ? "" : "s");
	*eip = fw->ap_reset_eip;
	return 0;
}

int snp_hash_area_check(const struct cvm_firmware *fw, struct cvm_error *err)
{
	if (fw->hash_table_size < CVM_SNP_HASHES_TABLE_SIZE)
		return cvm_error_set(err, -EINVAL,
				     "firmware's SEV hash-table area (gpa 0x%x size 0x%x) is smaller "
				     "than the 0x%x-byte hashes table; QEMU refuses it (\"hashes table "
				     "area is invalid\")",
				     fw->hash_table_gpa, fw->hash_table_size,
				     CVM_SNP_HASHES_TABLE_SIZE);
	return 0;
}

static const char *section_label(uint32_t type)
{
	switch (type) {
	case CVM_SEV_SEC_MEM: return "SNP_SEC_MEM";
	case CVM_SEV_SECRETS: return "SNP_SECRETS";
	case CVM_SEV_CPUID: return "CPUID";
	case CVM_SEV_SVSM_CAA: return "SVSM_CAA";
	case CVM_SEV_KERNEL_HASHES: return "SNP_KERNEL_HASHES";
	default: return NULL;
	}
}

static int check_sev_metadata(const struct cvm_firmware *fw, struct cvm_error *err)
{
	if (fw->sev_status == CVM_FW_ABSENT)
		return cvm_error_set(err, -EINVAL,
				     "firmware has no SEV metadata (no SEV metadata GUID "
				     "dc886566-984a-4798-a75e-5585a7bf67cc): an SEV-SNP guest cannot "
				     "boot from it and its digest would be meaningless; use an "
				     "SEV-capable OVMF build");
	if (fw->sev_status != CVM_FW_OK)
		return cvm_error_set(err, -EINVAL, "firmware SEV metadata is invalid: %s",
				     fw->sev_reason[0] ? fw->sev_reason : "(no reason given)");
	for (size_t i = 0; i < fw->nsev; i++) {
		const struct cvm_sev_section *s = &fw->sev_sections[i];
		if (!section_label(s->type))
			return cvm_error_set(err, -EINVAL,
					     "firmware SEV metadata section %zu has unknown type 0x%x",
					     i, s->type);
		if (s->size == 0 || s->size % CVM_PAGE_SIZE || s->gpa % CVM_PAGE_SIZE ||
		    (uint64_t)s->gpa + s->size > FOUR_GIB)
			return cvm_error_set(err, -EINVAL,
					     "firmware SEV metadata section %zu (%s gpa 0x%x size "
					     "0x%x) is not whole 4 KiB pages below 4 GiB",
					     i, section_label(s->type), s->gpa, s->size);
	}
	return 0;
}

static const struct cvm_sev_section *find_hashes_section(const struct cvm_firmware *fw)
{
	for (size_t i = 0; i < fw->nsev; i++)
		if (fw->sev_sections[i].type == CVM_SEV_KERNEL_HASHES)
			return &fw->sev_sections[i];
	return NULL;
}

/* Where the hashes table goes inside the kernel-hashes page; an error if it cannot. */
static int hashes_page_offset(const struct cvm_firmware *fw, uint32_t *offset,
			      struct cvm_error *err)
{
	const struct cvm_sev_section *s = find_hashes_section(fw);
	if (!s)
		return cvm_error_set(err, -EINVAL,
				     "a kernel, initrd or command line is given, but the firmware's "
				     "SEV metadata has no SNP_KERNEL_HASHES section, so it cannot "
				     "measure a direct boot (Debian's OVMF builds are like this): "
				     "use an AmdSev build of OVMF (OvmfPkg/AmdSev/AmdSevX64.dsc) "
				     "or boot without a kernel");
	if (s->size != CVM_PAGE_SIZE)
		return cvm_error_set(err, -EINVAL,
				     "firmware's SNP_KERNEL_HASHES section is 0x%x bytes, expected "
				     "one 4 KiB page",
				     s->size);
	if (!fw->has_hash_table || fw->hash_table_gpa == 0)
		return cvm_error_set(err, -EINVAL,
				     "firmware has an SNP_KERNEL_HASHES section but no SEV "
				     "hash-table location, so QEMU would not know where to put the "
				     "hashes");
	int rc = snp_hash_area_check(fw, err);
	if (rc)
		return rc;
	uint32_t off = fw->hash_table_gpa & (CVM_PAGE_SIZE - 1);
	if (off + CVM_SNP_HASHES_TABLE_SIZE > CVM_PAGE_SIZE)
		return cvm_error_set(err, -EINVAL,
				     "firmware's SEV hash table at 0x%x would cross its page",
				     fw->hash_table_gpa);
	*offset = off;
	return 0;
}

static int add_op(struct cvm_plan *plan, const char *label, uint64_t gpa, uint64_t size,
		  const uint8_t *data, size_t data_len, uint8_t type, uint32_t flags,
		  struct cvm_error *err)
{
	struct cvm_plan_op op = {
		.kind = CVM_OP_LOAD,
		.label = label,
		.gpa = gpa,
		.size = size,
		.data = data,
		.data_len = data_len,
		.snp_page_type = type,
		.flags = flags,
	};
	return cvm_plan_add(plan, &op, err);
}

/* One metadata section as QEMU (or the VMM of the profile) hands it to LAUNCH_UPDATE. */
static int add_section(struct cvm_plan *plan, enum cvm_vmm vmm, const struct cvm_sev_section *s,
		       const uint8_t *hashes_page, struct cvm_error *err)
{
	const char *label = section_label(s->type);
	switch (s->type) {
	case CVM_SEV_SEC_MEM:
		return add_op(plan, label, s->gpa, s->size, NULL, 0,
			      vmm == CVM_VMM_GCE ? CVM_SNP_PAGE_UNMEASURED : CVM_SNP_PAGE_ZERO, 0,
			      err);
	case CVM_SEV_SECRETS:
		/* One page whatever the section size, as the reference tools measure it. */
		return add_op(plan, label, s->gpa, CVM_PAGE_SIZE, NULL, 0, CVM_SNP_PAGE_SECRETS, 0,
			      err);
	case CVM_SEV_CPUID:
		/* The PSP checks the table but hashes zero contents, so no bytes are needed. */
		return add_op(plan, label, s->gpa, CVM_PAGE_SIZE, NULL, 0, CVM_SNP_PAGE_CPUID, 0,
			      err);
	case CVM_SEV_SVSM_CAA:
		return add_op(plan, label, s->gpa, s->size, NULL, 0, CVM_SNP_PAGE_ZERO, 0, err);
	case CVM_SEV_KERNEL_HASHES:
		if (hashes_page)
			return add_op(plan, label, s->gpa, CVM_PAGE_SIZE, hashes_page,
				      CVM_PAGE_SIZE, CVM_SNP_PAGE_NORMAL, 0, err);
		return add_op(plan, label, s->gpa, s->size, NULL, 0, CVM_SNP_PAGE_ZERO, 0, err);
	default:
		return cvm_error_set(err, -EINVAL, "unknown SEV section type 0x%x", s->type);
	}
}

static int add_sections(struct cvm_plan *plan, const struct cvm_firmware *fw, enum cvm_vmm vmm,
			const uint8_t *hashes_page, struct cvm_error *err)
{
	int rc;
	for (size_t i = 0; i < fw->nsev; i++) {
		const struct cvm_sev_section *s = &fw->sev_sections[i];
		/* EC2's VMM measures the CPUID pages after every other section. */
		if (vmm == CVM_VMM_EC2 && s->type == CVM_SEV_CPUID)
			continue;
		if ((rc = add_section(plan, vmm, s, hashes_page, err)))
			return rc;
	}
	if (vmm != CVM_VMM_EC2)
		return 0;
	for (size_t i = 0; i < fw->nsev; i++) {
		const struct cvm_sev_section *s = &fw->sev_sections[i];
		if (s->type == CVM_SEV_CPUID && (rc = add_section(plan, vmm, s, NULL, err)))
			return rc;
	}
	return 0;
}

/* The BSP's and (with more than one vCPU) the APs' reset state and VMSA page, owned by plan. */
static int add_vcpus(struct cvm_plan *plan, const struct cvm_policy *policy, uint32_t ap_eip,
		     uint32_t signature, struct cvm_error *err)
{
	uint32_t n = policy->cpus.count;
	struct cvm_vcpu_reset *reset = calloc(2, sizeof(*reset));
	if (!reset)
		return cvm_error_set(err, -ENOMEM, "plan: out of memory");
	int rc = cvm_plan_own(plan, reset, err);
	if (rc)
		return rc;
	uint8_t *vmsa = malloc(2 * CVM_SNP_VMSA_SIZE);
	if (!vmsa)
		return cvm_error_set(err, -ENOMEM, "plan: out of memory");
	if ((rc = cvm_plan_own(plan, vmsa, err)))
		return rc;

	uint64_t features = policy->snp.guest_features;
	cvm_snp_vcpu_reset_init(policy->vmm, CVM_SNP_BSP_RESET_EIP, signature, features, &reset[0]);
	cvm_snp_vmsa_build(&reset[0], vmsa);
	cvm_snp_vcpu_reset_init(policy->vmm, ap_eip, signature, features, &reset[1]);
	cvm_snp_vmsa_build(&reset[1], vmsa + CVM_SNP_VMSA_SIZE);

	for (uint32_t i = 0; i < n; i++) {
		bool bsp = i == 0;
		struct cvm_plan_op op = {
			.kind = CVM_OP_VCPU,
			.label = "VMSA",
			.gpa = CVM_SNP_VMSA_GPA,
			.size = CVM_SNP_VMSA_SIZE,
			.data = bsp ? vmsa : vmsa + CVM_SNP_VMSA_SIZE,
			.data_len = CVM_SNP_VMSA_SIZE,
			.snp_page_type = CVM_SNP_PAGE_VMSA,
			.vcpu_index = i,
			.vcpu = bsp ? &reset[0] : &reset[1],
		};
		if ((rc = cvm_plan_add(plan, &op, err)))
			return rc;
	}
	return 0;
}

static int build_hashes_page(struct cvm_plan *plan, const struct cvm_snp_boot_hashes *hashes,
			     uint32_t offset, uint8_t **out, struct cvm_error *err)
{
	uint8_t *page = calloc(1, CVM_PAGE_SIZE);
	if (!page)
		return cvm_error_set(err, -ENOMEM, "plan: out of memory");
	int rc = cvm_plan_own(plan, page, err);
	if (rc)
		return rc;
	cvm_snp_hashes_table(hashes, page + offset);
	*out = page;
	return 0;
}

static void fill_launch_params(struct cvm_plan *plan, const struct cvm_policy *policy)
{
	plan->snp.policy = cvm_snp_policy_value(&policy->snp.policy);
	/* KVM_SEV_INIT2 takes the features besides SNPActive, which KVM always sets. */
	plan->snp.vmsa_features = policy->snp.guest_features & ~1ull;
	plan->snp.cpuid_retry = policy->snp.cpuid_retry;
	plan->snp.tsc_khz = policy->snp.tsc_khz;
	if (policy->snp.has_host_data)
		memcpy(plan->snp.host_data, policy->snp.host_data, sizeof(plan->snp.host_data));
	if (policy->snp.has_firmware_digest) {
		plan->snp.has_initial_digest = true;
		memcpy(plan->snp.initial_digest, policy->snp.firmware_digest, CVM_SNP_DIGEST_SIZE);
	}
}

/* Everything that can refuse the policy/firmware pair, before any bytes are hashed. */
static int check_inputs(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			bool direct_boot, uint32_t *ap_eip, uint32_t *signature,
			uint32_t *hashes_offset, struct cvm_error *err)
{
	int rc;
	if ((rc = snp_check_common(policy, fw, err)) || (rc = snp_check_boot_inputs(policy, err)) ||
	    (rc = check_sev_metadata(fw, err)) ||
	    (rc = snp_ap_reset_eip(fw, policy->cpus.count, ap_eip, err)) ||
	    (rc = snp_policy_signature(policy, signature, err)))
		return rc;
	if (direct_boot)
		return hashes_page_offset(fw, hashes_offset, err);
	return 0;
}

int cvm_snp_plan_check(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		       bool direct_boot, struct cvm_error *err)
{
	uint32_t ap_eip, signature, hashes_offset;
	int rc = check_inputs(policy, fw, direct_boot, &ap_eip, &signature, &hashes_offset, err);
	return rc ? cvm_error_wrap(err, "snp plan") : 0;
}

int cvm_snp_plan_build_hashed(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			      const struct cvm_snp_boot_hashes *hashes, struct cvm_plan *plan,
			      struct cvm_error *err)
{
	uint32_t ap_eip = 0, signature = 0, hashes_offset = 0;
	int rc = check_inputs(policy, fw, hashes != NULL, &ap_eip, &signature, &hashes_offset, err);
	if (rc)
		return cvm_error_wrap(err, "snp plan");

	struct cvm_plan p;
	cvm_plan_init(&p, CVM_TEE_SNP);
	fill_launch_params(&p, policy);
	uint8_t *hashes_page = NULL;
	if ((rc = cvm_plan_take_policy(&p, policy, err)) ||
	    (hashes && (rc = build_hashes_page(&p, hashes, hashes_offset, &hashes_page, err))) ||
	    (rc = add_op(&p, "firmware", fw->load_gpa, fw->size, fw->data, fw->size,
			 CVM_SNP_PAGE_NORMAL, CVM_OP_FIRMWARE, err)) ||
	    (rc = add_sections(&p, fw, policy->vmm, hashes_page, err)) ||
	    (rc = add_vcpus(&p, policy, ap_eip, signature, err))) {
		cvm_plan_release(&p);
		return cvm_error_wrap(err, "snp plan");
	}
	*plan = p;
	return 0;
}

int cvm_snp_plan_build(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		       struct cvm_plan *plan, struct cvm_error *err)
{
	uint32_t ap_eip, signature, hashes_offset;
	bool direct_boot = policy->boot.kernel || policy->boot.initrd || policy->boot.cmdline;
	/* Refuse before reading a 50 MiB initrd for a firmware that cannot use it. */
	int rc = check_inputs(policy, fw, direct_boot, &ap_eip, &signature, &hashes_offset, err);
	if (rc)
		return cvm_error_wrap(err, "snp plan");
	struct cvm_snp_boot_hashes h;
	bool present = false;
	if ((rc = cvm_snp_boot_hashes_compute(policy, &h, &present, err)))
		return cvm_error_wrap(err, "snp plan");
	return cvm_snp_plan_build_hashed(policy, fw, present ? &h : NULL, plan, err);
}
