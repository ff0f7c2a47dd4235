/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Legacy SEV and SEV-ES launch digests (SHA-256 over the launched bytes), spec 6.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include <cvmkit/snp.h>
#include <cvmkit/util.h>

#include "sev/snp_priv.h"

int cvm_sev_mode_parse(const char *name, enum cvm_sev_mode *out)
{
	static const struct {
		const char *name;
		enum cvm_sev_mode mode;
	} modes[] = {
		{"snp", CVM_SEV_MODE_SNP}, {"sev", CVM_SEV_MODE_SEV}, {"seves", CVM_SEV_MODE_SEVES},
		{"sev-es", CVM_SEV_MODE_SEVES},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(modes); i++) {
		if (strcasecmp(name, modes[i].name) == 0) {
			*out = modes[i].mode;
			return 0;
		}
	}
	return -EINVAL;
}

const char *cvm_sev_mode_name(enum cvm_sev_mode mode)
{
	switch (mode) {
	case CVM_SEV_MODE_SNP: return "snp";
	case CVM_SEV_MODE_SEV: return "sev";
	case CVM_SEV_MODE_SEVES: return "seves";
	default: return "?";
	}
}

static int hash_vmsas(EVP_MD_CTX *ctx, const struct cvm_policy *policy,
		      const struct cvm_firmware *fw, struct cvm_error *err)
{
	uint32_t ap_eip, signature;
	int rc;
	if ((rc = snp_ap_reset_eip(fw, policy->cpus.count, &ap_eip, err)) ||
	    (rc = snp_policy_signature(policy, &signature, err)))
		return rc;
	/* SEV-ES has no SEV features: guest_features is not part of this launch. */
	struct cvm_vcpu_reset reset;
	uint8_t vmsa[CVM_SNP_VMSA_SIZE];
	for (uint32_t i = 0; i < policy->cpus.count; i++) {
		if (i <= 1) {
			uint32_t eip = i == 0 ? CVM_SNP_BSP_RESET_EIP : ap_eip;
			cvm_snp_vcpu_reset_init(policy->vmm, eip, signature, 0, &reset);
			cvm_snp_vmsa_build(&reset, vmsa);
		}
		if (!EVP_DigestUpdate(ctx, vmsa, sizeof(vmsa)))
			return cvm_error_set(err, -EIO, "SHA-256 failed (OpenSSL)");
	}
	return 0;
}

static int legacy_digest(EVP_MD_CTX *ctx, enum cvm_sev_mode mode, const struct cvm_policy *policy,
			 const struct cvm_firmware *fw, const struct cvm_snp_boot_hashes *hashes,
			 uint8_t out[32], struct cvm_error *err)
{
	uint8_t table[CVM_SNP_HASHES_TABLE_SIZE];
	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(ctx, fw->data, fw->size))
		return cvm_error_set(err, -EIO, "SHA-256 failed (OpenSSL)");
	if (hashes) {
		cvm_snp_hashes_table(hashes, table);
		if (!EVP_DigestUpdate(ctx, table, sizeof(table)))
			return cvm_error_set(err, -EIO, "SHA-256 failed (OpenSSL)");
	}
	if (mode == CVM_SEV_MODE_SEVES) {
		int rc = hash_vmsas(ctx, policy, fw, err);
		if (rc)
			return rc;
	}
	if (!EVP_DigestFinal_ex(ctx, out, NULL))
		return cvm_error_set(err, -EIO, "SHA-256 failed (OpenSSL)");
	return 0;
}

int snp_legacy_check(enum cvm_sev_mode mode, const struct cvm_policy *policy,
		     const struct cvm_firmware *fw, bool direct_boot, struct cvm_error *err)
{
	if (mode != CVM_SEV_MODE_SEV && mode != CVM_SEV_MODE_SEVES)
		return cvm_error_set(err, -EINVAL, "%s: not a legacy SEV mode",
				     cvm_sev_mode_name(mode));
	int rc;
	if ((rc = snp_check_common(policy, fw, err)) || (rc = snp_check_boot_inputs(policy, err)))
		return cvm_error_wrap(err, "%s", cvm_sev_mode_name(mode));
	if (direct_boot && (!fw->has_hash_table || fw->hash_table_gpa == 0))
		return cvm_error_set(err, -EINVAL,
				     "%s: a kernel is given, but the firmware has no SEV hash-table "
				     "location, so it cannot measure a direct boot: use an AmdSev "
				     "build of OVMF (OvmfPkg/AmdSev/AmdSevX64.dsc) or boot without "
				     "a kernel",
				     cvm_sev_mode_name(mode));
	if (direct_boot && (rc = snp_hash_area_check(fw, err)))
		return cvm_error_wrap(err, "%s", cvm_sev_mode_name(mode));
	if (mode == CVM_SEV_MODE_SEVES) {
		uint32_t eip, sig;
		if ((rc = snp_ap_reset_eip(fw, policy->cpus.count, &eip, err)) ||
		    (rc = snp_policy_signature(policy, &sig, err)))
			return cvm_error_wrap(err, "%s", cvm_sev_mode_name(mode));
	}
	return 0;
}

int cvm_sev_legacy_digest(enum cvm_sev_mode mode, const struct cvm_policy *policy,
			  const struct cvm_firmware *fw, const struct cvm_snp_boot_hashes *hashes,
			  uint8_t out[32], struct cvm_error *err)
{
	int rc = snp_legacy_check(mode, policy, fw, hashes != NULL, err);
	if (rc)
		return rc;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	uint8_t digest[32];
	rc = legacy_digest(ctx, mode, policy, fw, hashes, digest, err);
	EVP_MD_CTX_free(ctx);
	if (rc)
		return cvm_error_wrap(err, "%s", cvm_sev_mode_name(mode));
	memcpy(out, digest, sizeof(digest));
	return 0;
}
