/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SEV-SNP verifier rules of a VM policy's "verify" section (docs/policy.md, compared with
 * go-sev-guest validate and Trustee in docs/verify.md): VMPL, guest POLICY permissions and
 * requirements, firmware (committed vs current, minimum version), TCB minima and the certificate
 * TCB, PLATFORM_INFO, GUEST_SVN, pinned IDs and the trusted ID/author keys.  Each rule is one
 * named check; a rule that is not configured adds no line, a secure default always does.
 */
#include <stdio.h>
#include <string.h>

#include <cvmkit/emit.h>

#include "sev/snp_verify_internal.h"

#define POLICY_CXL_ALLOW (1ull << 21)
#define KEY_INFO_AUTHOR_KEY_EN 1u

static const struct cvm_verify_rules secure_defaults;

static const struct cvm_verify_rules *rules_of(const struct cvm_verify_options *opt)
{
	return opt->rules ? opt->rules : &secure_defaults;
}

/* A guest POLICY permission refused unless the rules relax it by name. */
static void permission(struct cvm_verify_result *res, const char *check, uint64_t policy,
		       uint64_t bit, const char *field, bool allowed, const char *relax)
{
	if (!(policy & bit))
		cvm_check_add(res, check, CVM_CHECK_PASS, "guest policy forbids %s", field);
	else if (allowed)
		cvm_check_add(res, check, CVM_CHECK_PASS,
			      "guest policy 0x%llx allows %s (accepted: \"%s\" allowed)",
			      (unsigned long long)policy, field, relax);
	else
		cvm_check_add(res, check, CVM_CHECK_FAIL,
			      "guest policy 0x%llx allows %s; refused unless \"%s\" is allowed",
			      (unsigned long long)policy, field, relax);
}

static void check_vmpl(const struct cvm_snp_report *r, const struct cvm_verify_options *opt,
		       struct cvm_verify_result *res)
{
	uint32_t mask = opt->vmpl_mask ? opt->vmpl_mask : rules_of(opt)->vmpl_mask;
	if (!mask)
		mask = 1u; /* VMPL 0 only, as Trustee */
	if (r->vmpl < 4 && (mask & (1u << r->vmpl)))
		cvm_check_add(res, "vmpl", CVM_CHECK_PASS, "VMPL %u is allowed (mask 0x%x)", r->vmpl,
			      mask);
	else
		cvm_check_add(res, "vmpl", CVM_CHECK_FAIL,
			      "VMPL %u is not allowed (mask 0x%x; the default allows VMPL 0 only)",
			      r->vmpl, mask);
}

/* a <= b in every component (fmc on Turin only). */
static bool tcb_le(const struct cvm_snp_tcb *a, const struct cvm_snp_tcb *b,
		   enum cvm_amd_product p)
{
	return a->bootloader <= b->bootloader && a->tee <= b->tee && a->snp <= b->snp &&
	       a->microcode <= b->microcode && (p != CVM_AMD_TURIN || a->fmc <= b->fmc);
}

static void tcb_text(const struct cvm_snp_tcb *t, enum cvm_amd_product p, char *buf, size_t n)
{
	if (p == CVM_AMD_TURIN)
		snprintf(buf, n, "fmc %u bl %u tee %u snp %u ucode %u", t->fmc, t->bootloader,
			 t->tee, t->snp, t->microcode);
	else
		snprintf(buf, n, "bl %u tee %u snp %u ucode %u", t->bootloader, t->tee, t->snp,
			 t->microcode);
}

static void check_firmware(const struct cvm_snp_report *r, const struct cvm_verify_rules *vr,
			   enum cvm_amd_product p, struct cvm_verify_result *res)
{
	struct cvm_snp_tcb cur, com;
	cvm_snp_tcb_decode(r->current_tcb, p, &cur);
	cvm_snp_tcb_decode(r->committed_tcb, p, &com);
	unsigned vcur = (unsigned)r->current_major << 16 | (unsigned)r->current_minor << 8 |
			r->current_build;
	unsigned vcom = (unsigned)r->committed_major << 16 | (unsigned)r->committed_minor << 8 |
			r->committed_build;
	char a[64], b[64];
	tcb_text(&com, p, a, sizeof(a));
	tcb_text(&cur, p, b, sizeof(b));
	if (r->committed_tcb == r->current_tcb && vcom == vcur)
		cvm_check_add(res, "committed-firmware", CVM_CHECK_PASS,
			      "COMMITTED_TCB and version %u.%u.%u equal the current ones",
			      r->current_major, r->current_minor, r->current_build);
	else if (vr->require_committed)
		cvm_check_add(res, "committed-firmware", CVM_CHECK_FAIL,
			      "provisional firmware: COMMITTED %u.%u.%u (%s) differs from CURRENT "
			      "%u.%u.%u (%s); the rules require committed firmware",
			      r->committed_major, r->committed_minor, r->committed_build, a,
			      r->current_major, r->current_minor, r->current_build, b);
	else if (!tcb_le(&com, &cur, p) || vcom > vcur)
		cvm_check_add(res, "committed-firmware", CVM_CHECK_FAIL,
			      "COMMITTED %u.%u.%u (%s) is above CURRENT %u.%u.%u (%s)",
			      r->committed_major, r->committed_minor, r->committed_build, a,
			      r->current_major, r->current_minor, r->current_build, b);
	else
		cvm_check_add(res, "committed-firmware", CVM_CHECK_PASS,
			      "provisional firmware: COMMITTED %u.%u.%u (%s) <= CURRENT %u.%u.%u (%s)",
			      r->committed_major, r->committed_minor, r->committed_build, a,
			      r->current_major, r->current_minor, r->current_build, b);
	if (!vr->has_min_firmware)
		return;
	unsigned want = (unsigned)vr->min_fw_major << 16 | (unsigned)vr->min_fw_minor << 8 |
			vr->min_fw_build;
	cvm_check_add(res, "min-firmware", vcur >= want ? CVM_CHECK_PASS : CVM_CHECK_FAIL,
		      "firmware %u.%u.%u %s the minimum %u.%u.%u", r->current_major,
		      r->current_minor, r->current_build, vcur >= want ? "meets" : "is below",
		      vr->min_fw_major, vr->min_fw_minor, vr->min_fw_build);
}

static void check_cert_tcb(const struct cvm_snp_report *r, const struct cvm_amd_cert_ext *ext,
			   enum cvm_amd_product p, struct cvm_verify_result *res)
{
	if (!ext) {
		cvm_check_add(res, "cert-tcb", CVM_CHECK_SKIP,
			      "no certificate extensions to compare with CURRENT_TCB");
		return;
	}
	struct cvm_snp_tcb cert = {
		.fmc = (uint8_t)ext->fmc, .bootloader = (uint8_t)ext->bl, .tee = (uint8_t)ext->tee,
		.snp = (uint8_t)ext->snp, .microcode = (uint8_t)ext->ucode};
	struct cvm_snp_tcb cur;
	cvm_snp_tcb_decode(r->current_tcb, p, &cur);
	char a[64], b[64];
	tcb_text(&cert, p, a, sizeof(a));
	tcb_text(&cur, p, b, sizeof(b));
	bool ok = ext->bl <= 255 && ext->tee <= 255 && ext->snp <= 255 && ext->ucode <= 255 &&
		  ext->fmc <= 255 && tcb_le(&cert, &cur, p);
	cvm_check_add(res, "cert-tcb", ok ? CVM_CHECK_PASS : CVM_CHECK_FAIL,
		      "certificate TCB (%s) %s CURRENT_TCB (%s)", a, ok ? "<=" : "is above", b);
}

static void check_tcb_min(const char *name, const char *field, uint64_t raw,
			  const struct cvm_verify_tcb_min *m, enum cvm_amd_product p,
			  struct cvm_verify_result *res)
{
	if (!m->present)
		return;
	struct cvm_snp_tcb have, want = {.fmc = m->fmc, .bootloader = m->bootloader,
					 .tee = m->tee, .snp = m->snp, .microcode = m->microcode};
	cvm_snp_tcb_decode(raw, p, &have);
	char a[64], b[64];
	tcb_text(&have, p, a, sizeof(a));
	tcb_text(&want, p, b, sizeof(b));
	bool ok = tcb_le(&want, &have, p);
	cvm_check_add(res, name, ok ? CVM_CHECK_PASS : CVM_CHECK_FAIL, "%s 0x%016llx (%s) %s (%s)",
		      field, (unsigned long long)raw, a,
		      ok ? ">= the minimum" : "is below the minimum in a component", b);
}

static void tcb_min_raw(const char *name, const char *field, uint64_t have, uint64_t want,
			enum cvm_amd_product p, struct cvm_verify_result *res)
{
	struct cvm_snp_tcb t;
	cvm_snp_tcb_decode(want, p, &t);
	struct cvm_verify_tcb_min m = {.present = true, .bootloader = t.bootloader, .tee = t.tee,
				       .snp = t.snp, .microcode = t.microcode, .fmc = t.fmc};
	check_tcb_min(name, field, have, &m, p, res);
}

/* Bits a v5 report's mitigation vector must set; a report before v5 carries none. */
static void check_mit_vector(struct cvm_verify_result *res, const char *name, const char *field,
			     const struct cvm_snp_report *r, uint64_t have, uint64_t want)
{
	if (!want)
		return;
	if (r->version < 5) {
		cvm_check_add(res, name, CVM_CHECK_FAIL,
			      "report version %u has no %s (version 5, firmware ABI 1.58, adds it); "
			      "required bits 0x%llx", r->version, field, (unsigned long long)want);
		return;
	}
	uint64_t missing = want & ~have;
	cvm_check_add(res, name, missing ? CVM_CHECK_FAIL : CVM_CHECK_PASS,
		      "%s 0x%llx %s 0x%llx", field, (unsigned long long)have,
		      missing ? "lacks required bits" : "sets every required bit of",
		      missing ? (unsigned long long)missing : (unsigned long long)want);
}

static void check_pin(struct cvm_verify_result *res, const char *name, const char *field,
		      bool has, const uint8_t *have, const uint8_t *want, size_t n)
{
	if (has)
		cvm_check_match_bytes(res, name, field, have, want, n);
}

static bool listed(const struct cvm_verify_digests *d, const uint8_t digest[48])
{
	bool found = false;
	for (size_t i = 0; i < d->count && i < CVM_VERIFY_MAX_KEYS; i++)
		found |= cvm_memeq_ct(d->digest[i], digest, 48);
	return found;
}

static void check_keys(const struct cvm_snp_report *r, const struct cvm_verify_rules *vr,
		       struct cvm_verify_result *res)
{
	bool author_en = (r->key_info & KEY_INFO_AUTHOR_KEY_EN) != 0;
	bool author_trusted = author_en && listed(&vr->trusted_author_keys, r->author_key_digest);
	if (vr->require_author_key) {
		if (!author_en)
			cvm_check_add(res, "author-key", CVM_CHECK_FAIL,
				      "an author key is required but AUTHOR_KEY_EN is 0");
		else
			cvm_check_add(res, "author-key", author_trusted ? CVM_CHECK_PASS
								: CVM_CHECK_FAIL,
				      "AUTHOR_KEY_DIGEST is %s trusted_author_keys",
				      author_trusted ? "in" : "not in");
	}
	if (!vr->trusted_id_keys.count && !vr->trusted_author_keys.count)
		return;
	if (author_trusted)
		cvm_check_add(res, "id-key", CVM_CHECK_PASS,
			      "the ID key is signed by a trusted author key");
	else if (listed(&vr->trusted_id_keys, r->id_key_digest))
		cvm_check_add(res, "id-key", CVM_CHECK_PASS, "ID_KEY_DIGEST is in trusted_id_keys");
	else
		cvm_check_add(res, "id-key", CVM_CHECK_FAIL,
			      "ID_KEY_DIGEST is neither in trusted_id_keys nor signed by a trusted "
			      "author key%s", author_en ? "" : " (AUTHOR_KEY_EN is 0)");
}

void cvm_snp_rules_check(const struct cvm_snp_report *r, const struct cvm_amd_cert_ext *ext,
			 const struct cvm_verify_options *opt, enum cvm_amd_product p,
			 struct cvm_verify_result *res)
{
	const struct cvm_verify_rules *vr = rules_of(opt);
	if (vr->min_report_version)
		cvm_check_add(res, "report-version",
			      r->version >= vr->min_report_version ? CVM_CHECK_PASS : CVM_CHECK_FAIL,
			      "report version %u, minimum %u", r->version, vr->min_report_version);
	check_vmpl(r, opt, res);
	if (opt->forbid_smt || vr->refuse_smt) {
		if (r->policy & CVM_SNP_POLICY_SMT)
			cvm_check_add(res, "smt", CVM_CHECK_FAIL,
				      "guest policy allows SMT but the verifier forbids it");
		else
			cvm_check_add(res, "smt", CVM_CHECK_PASS, "guest policy forbids SMT");
	}
	permission(res, "migrate-ma", r->policy, CVM_SNP_POLICY_MIGRATE_MA, "a migration agent",
		   vr->allow & CVM_VERIFY_ALLOW_MIGRATE_MA, "migrate_ma");
	permission(res, "cxl", r->policy, POLICY_CXL_ALLOW, "CXL memory (CXL_ALLOW)",
		   vr->allow & CVM_VERIFY_ALLOW_CXL, "cxl_allow");
	if (vr->require_policy) {
		uint64_t missing = vr->require_policy & ~r->policy;
		const char *first = NULL;
		for (unsigned b = 0; b < 64 && missing && !first; b++)
			if (missing >> b & 1)
				first = cvm_policy_verify_bit_name(1ull << b);
		if (!missing)
			cvm_check_add(res, "required-policy", CVM_CHECK_PASS,
				      "guest policy 0x%llx sets every required bit (0x%llx)",
				      (unsigned long long)r->policy,
				      (unsigned long long)vr->require_policy);
		else
			cvm_check_add(res, "required-policy", CVM_CHECK_FAIL,
				      "guest policy 0x%llx lacks required bits 0x%llx (%s%s)",
				      (unsigned long long)r->policy, (unsigned long long)missing,
				      first ? first : "?", (missing & (missing - 1)) ? ", ..." : "");
	}
	if (vr->has_min_abi) {
		unsigned have = (unsigned)(r->policy >> 8 & 0xff) << 8 | (unsigned)(r->policy & 0xff);
		unsigned want = (unsigned)vr->min_abi_major << 8 | vr->min_abi_minor;
		cvm_check_add(res, "min-abi", have >= want ? CVM_CHECK_PASS : CVM_CHECK_FAIL,
			      "guest policy ABI %u.%u %s the minimum %u.%u", have >> 8, have & 0xff,
			      have >= want ? "meets" : "is below", vr->min_abi_major,
			      vr->min_abi_minor);
	}
	check_firmware(r, vr, p, res);
	check_cert_tcb(r, ext, p, res);
	if (opt->has_min_tcb) /* --min-tcb: a TCB_VERSION in the product's layout */
		tcb_min_raw("min-tcb", "REPORTED_TCB", r->reported_tcb, opt->min_tcb, p, res);
	check_tcb_min("min-reported-tcb", "REPORTED_TCB", r->reported_tcb, &vr->min_reported_tcb, p,
		      res);
	check_tcb_min("min-current-tcb", "CURRENT_TCB", r->current_tcb, &vr->min_current_tcb, p,
		      res);
	check_tcb_min("min-committed-tcb", "COMMITTED_TCB", r->committed_tcb,
		      &vr->min_committed_tcb, p, res);
	check_tcb_min("min-launch-tcb", "LAUNCH_TCB", r->launch_tcb, &vr->min_launch_tcb, p, res);
	if (vr->has_platform_info_mask) {
		uint64_t extra = r->platform_info & ~vr->platform_info_mask;
		cvm_check_add(res, "platform-info", extra ? CVM_CHECK_FAIL : CVM_CHECK_PASS,
			      "PLATFORM_INFO 0x%llx %s the allowed mask 0x%llx",
			      (unsigned long long)r->platform_info,
			      extra ? "sets bits outside" : "is within",
			      (unsigned long long)vr->platform_info_mask);
	}
	if (vr->min_guest_svn)
		cvm_check_add(res, "guest-svn",
			      r->guest_svn >= vr->min_guest_svn ? CVM_CHECK_PASS : CVM_CHECK_FAIL,
			      "GUEST_SVN %u, minimum %u", r->guest_svn, vr->min_guest_svn);
	check_mit_vector(res, "launch-mit-vector", "LAUNCH_MIT_VECTOR", r, r->launch_mit_vector,
			 vr->min_launch_mit_vector);
	check_mit_vector(res, "current-mit-vector", "CURRENT_MIT_VECTOR", r, r->current_mit_vector,
			 vr->min_current_mit_vector);
	check_pin(res, "family-id", "FAMILY_ID", vr->has_family_id, r->family_id, vr->family_id, 16);
	check_pin(res, "image-id", "IMAGE_ID", vr->has_image_id, r->image_id, vr->image_id, 16);
	check_pin(res, "report-id", "REPORT_ID", vr->has_report_id, r->report_id, vr->report_id,
		  32);
	check_pin(res, "report-id-ma", "REPORT_ID_MA", vr->has_report_id_ma, r->report_id_ma,
		  vr->report_id_ma, 32);
	check_pin(res, "chip-id-pin", "CHIP_ID", vr->has_chip_id, r->chip_id, vr->chip_id, 64);
	check_keys(r, vr, res);
}

static void check_u32(struct cvm_verify_result *res, const char *name, const char *field,
		      uint32_t have, uint32_t want, bool minimum)
{
	bool ok = minimum ? have >= want : have == want;
	cvm_check_add(res, name, ok ? CVM_CHECK_PASS : CVM_CHECK_FAIL, "%s %u, expected %s%u",
		      field, have, minimum ? "at least " : "", want);
}

static void check_version(struct cvm_verify_result *res, const char *name, const char *field,
			  uint8_t major, uint8_t minor, uint8_t build, const uint8_t want[3])
{
	bool ok = major == want[0] && minor == want[1] && build == want[2];
	cvm_check_add(res, name, ok ? CVM_CHECK_PASS : CVM_CHECK_FAIL,
		      "%s %u.%u.%u, expected %u.%u.%u", field, major, minor, build, want[0],
		      want[1], want[2]);
}

void cvm_snp_refvals_check(const struct cvm_snp_report *r, const struct cvm_snp_refvals *rv,
			   enum cvm_amd_product p, struct cvm_verify_result *res)
{
	uint32_t has = rv->present;
	if (has & CVM_SNP_RV_VERSION)
		check_u32(res, "ref-version", "VERSION", r->version, rv->version, false);
	if (has & CVM_SNP_RV_MIN_GUEST_SVN)
		check_u32(res, "ref-guest-svn", "GUEST_SVN", r->guest_svn, rv->guest_svn, true);
	if (has & CVM_SNP_RV_GUEST_SVN)
		check_u32(res, "ref-guest-svn", "GUEST_SVN", r->guest_svn, rv->guest_svn, false);
	check_pin(res, "ref-family-id", "FAMILY_ID", has & CVM_SNP_RV_FAMILY_ID, r->family_id,
		  rv->family_id, 16);
	check_pin(res, "ref-image-id", "IMAGE_ID", has & CVM_SNP_RV_IMAGE_ID, r->image_id,
		  rv->image_id, 16);
	if (has & CVM_SNP_RV_VMPL)
		check_u32(res, "ref-vmpl", "VMPL", r->vmpl, rv->vmpl, false);
	if (has & CVM_SNP_RV_PLATFORM_INFO)
		cvm_check_add(res, "ref-platform-info",
			      r->platform_info == rv->platform_info ? CVM_CHECK_PASS : CVM_CHECK_FAIL,
			      "PLATFORM_INFO 0x%llx, expected 0x%llx",
			      (unsigned long long)r->platform_info,
			      (unsigned long long)rv->platform_info);
	check_pin(res, "ref-report-data", "REPORT_DATA", has & CVM_SNP_RV_REPORT_DATA,
		  r->report_data, rv->report_data, 64);
	check_pin(res, "ref-report-id", "REPORT_ID", has & CVM_SNP_RV_REPORT_ID, r->report_id,
		  rv->report_id, 32);
	check_pin(res, "ref-report-id-ma", "REPORT_ID_MA", has & CVM_SNP_RV_REPORT_ID_MA,
		  r->report_id_ma, rv->report_id_ma, 32);
	check_pin(res, "ref-chip-id", "CHIP_ID", has & CVM_SNP_RV_CHIP_ID, r->chip_id, rv->chip_id,
		  64);
	if (has & CVM_SNP_RV_CURRENT_TCB)
		tcb_min_raw("ref-current-tcb", "CURRENT_TCB", r->current_tcb, rv->current_tcb, p, res);
	if (has & CVM_SNP_RV_REPORTED_TCB)
		tcb_min_raw("ref-reported-tcb", "REPORTED_TCB", r->reported_tcb, rv->reported_tcb, p,
			    res);
	if (has & CVM_SNP_RV_COMMITTED_TCB)
		tcb_min_raw("ref-committed-tcb", "COMMITTED_TCB", r->committed_tcb,
			    rv->committed_tcb, p, res);
	if (has & CVM_SNP_RV_LAUNCH_TCB)
		tcb_min_raw("ref-launch-tcb", "LAUNCH_TCB", r->launch_tcb, rv->launch_tcb, p, res);
	if (has & CVM_SNP_RV_CURRENT_VERSION)
		check_version(res, "ref-current-version", "CURRENT version", r->current_major,
			      r->current_minor, r->current_build, rv->current_version);
	if (has & CVM_SNP_RV_COMMITTED_VERSION)
		check_version(res, "ref-committed-version", "COMMITTED version", r->committed_major,
			      r->committed_minor, r->committed_build, rv->committed_version);
}
