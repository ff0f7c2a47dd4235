/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TDX verifier rules of a VM policy's "verify" section (docs/policy.md, compared with
 * go-tdx-guest validate and Intel's QVL in docs/verify.md): TD_ATTRIBUTES bits outside DEBUG,
 * SEPT_VE_DISABLE, PKS and PERFMON refused and the XFAM fixed bits, both always; SEPT_VE_DISABLE
 * required; MRSEAM and MRTD allow-lists; QE (QE report ISVSVN) and PCE (PCK certificate PCESVN)
 * SVN minima; QE_VENDOR_ID; TEE_TCB_SVN2 of TDX 1.5 quotes.  Each rule is one named check.
 */
#include <stdio.h>
#include <string.h>

#include "tdx/tdx_verify_internal.h"

#define TD_ATTR_SEPT_VE_DISABLE (1ull << 28)
#define TD_ATTR_PKS (1ull << 30)
#define TD_ATTR_PERFMON (1ull << 63)
#define TD_ATTR_KNOWN (CVM_TDX_ATTR_DEBUG | TD_ATTR_SEPT_VE_DISABLE | TD_ATTR_PKS | TD_ATTR_PERFMON)
#define XFAM_FIXED1 0x3ull     /* x87, SSE: always 1 */
#define XFAM_FIXED0 0x6dbe7ull /* the only bits that may be 1 */

static const struct cvm_verify_rules secure_defaults;

static void check_attributes(uint64_t attr, bool relaxed, struct cvm_verify_result *res)
{
	uint64_t extra = attr & ~TD_ATTR_KNOWN;
	if (!extra)
		cvm_check_add(res, "td-attributes-bits", CVM_CHECK_PASS,
			      "TD_ATTRIBUTES 0x%016llx sets only DEBUG, SEPT_VE_DISABLE, PKS, PERFMON "
			      "bits", (unsigned long long)attr);
	else if (relaxed)
		cvm_check_add(res, "td-attributes-bits", CVM_CHECK_PASS,
			      "TD_ATTRIBUTES 0x%016llx sets bits 0x%llx outside DEBUG, "
			      "SEPT_VE_DISABLE, PKS, PERFMON (accepted: \"td_attributes_reserved\" "
			      "allowed)", (unsigned long long)attr, (unsigned long long)extra);
	else
		cvm_check_add(res, "td-attributes-bits", CVM_CHECK_FAIL,
			      "TD_ATTRIBUTES 0x%016llx sets bits 0x%llx outside DEBUG, "
			      "SEPT_VE_DISABLE, PKS, PERFMON; refused unless "
			      "\"td_attributes_reserved\" is allowed",
			      (unsigned long long)attr, (unsigned long long)extra);
}

static void check_xfam(uint64_t xfam, struct cvm_verify_result *res)
{
	if ((xfam & XFAM_FIXED1) != XFAM_FIXED1)
		cvm_check_add(res, "xfam-fixed", CVM_CHECK_FAIL,
			      "XFAM 0x%016llx clears fixed-1 bits 0x%llx (x87, SSE)",
			      (unsigned long long)xfam,
			      (unsigned long long)(~xfam & XFAM_FIXED1));
	else if (xfam & ~XFAM_FIXED0)
		cvm_check_add(res, "xfam-fixed", CVM_CHECK_FAIL,
			      "XFAM 0x%016llx sets bits 0x%llx that the TDX module fixes to 0",
			      (unsigned long long)xfam, (unsigned long long)(xfam & ~XFAM_FIXED0));
	else
		cvm_check_add(res, "xfam-fixed", CVM_CHECK_PASS,
			      "XFAM 0x%016llx respects the fixed bits (1: 0x%llx, 0 outside 0x%llx)",
			      (unsigned long long)xfam, XFAM_FIXED1, XFAM_FIXED0);
}

static void check_list(struct cvm_verify_result *res, const char *name, const char *field,
		       const uint8_t have[48], const struct cvm_verify_digests *list)
{
	if (!list->count)
		return;
	bool found = false;
	for (size_t i = 0; i < list->count && i < CVM_VERIFY_MAX_KEYS; i++)
		found |= cvm_memeq_ct(list->digest[i], have, 48);
	char hex[97];
	cvm_hex_encode(have, 48, hex);
	cvm_check_add(res, name, found ? CVM_CHECK_PASS : CVM_CHECK_FAIL, "%s %.16s... is %s the %zu "
		      "allowed", field, hex, found ? "one of" : "none of", list->count);
}

static void check_svn16(struct cvm_verify_result *res, const char *name, const char *field,
			const uint8_t have[16], const uint8_t want[16])
{
	size_t i;
	for (i = 0; i < 16; i++)
		if (have[i] < want[i])
			break;
	char h[33], w[33];
	cvm_hex_encode(have, 16, h);
	cvm_hex_encode(want, 16, w);
	if (i == 16)
		cvm_check_add(res, name, CVM_CHECK_PASS, "%s %s >= %s byte-wise", field, h, w);
	else
		cvm_check_add(res, name, CVM_CHECK_FAIL, "%s %s is below %s at byte %zu", field, h, w,
			      i);
}

void cvm_tdx_rules_check(const struct cvm_tdx_quote *q, const struct cvm_cert *pck,
			 const struct cvm_verify_options *opt, struct cvm_verify_result *res)
{
	const struct cvm_verify_rules *vr = opt->rules ? opt->rules : &secure_defaults;
	const struct cvm_tdx_td_body *b = &q->body;
	check_attributes(b->td_attributes, vr->allow & CVM_VERIFY_ALLOW_TD_ATTRIBUTES, res);
	check_xfam(b->xfam, res);
	if (vr->require_sept_ve_disable)
		cvm_check_add(res, "sept-ve-disable",
			      (b->td_attributes & TD_ATTR_SEPT_VE_DISABLE) ? CVM_CHECK_PASS
									 : CVM_CHECK_FAIL,
			      "TD_ATTRIBUTES 0x%016llx %s SEPT_VE_DISABLE (bit 28), which is required",
			      (unsigned long long)b->td_attributes,
			      (b->td_attributes & TD_ATTR_SEPT_VE_DISABLE) ? "sets" : "does not set");
	check_list(res, "mrseam", "MRSEAM", b->mrseam, &vr->mrseam);
	check_list(res, "mrtd-list", "MRTD", b->mrtd, &vr->mrtd);
	if (vr->has_min_qe_svn)
		cvm_check_add(res, "qe-svn",
			      q->qe_report.isvsvn >= vr->min_qe_svn ? CVM_CHECK_PASS : CVM_CHECK_FAIL,
			      "QE report ISVSVN %u, minimum %u", q->qe_report.isvsvn, vr->min_qe_svn);
	if (vr->has_min_pce_svn) {
		struct cvm_sgx_pck_ext ext;
		struct cvm_error err;
		cvm_error_clear(&err);
		if (!pck)
			cvm_check_add(res, "pce-svn", CVM_CHECK_FAIL,
				      "not evaluated: no verified PCK certificate carries the PCESVN");
		else if (cvm_sgx_pck_ext_of(pck, &ext, &err))
			cvm_check_add(res, "pce-svn", CVM_CHECK_FAIL, "PCK certificate: %s",
				      cvm_error_message(&err));
		else
			cvm_check_add(res, "pce-svn",
				      ext.pcesvn >= vr->min_pce_svn ? CVM_CHECK_PASS : CVM_CHECK_FAIL,
				      "PCK certificate PCESVN %u, minimum %u", ext.pcesvn,
				      vr->min_pce_svn);
	}
	if (vr->has_qe_vendor_id)
		cvm_check_match_bytes(res, "qe-vendor-id-pin", "QE_VENDOR_ID", q->qe_vendor_id,
				      vr->qe_vendor_id, 16);
	if (vr->has_min_tee_tcb_svn2) {
		if (q->body_type == CVM_TDX_BODY_TDX15)
			check_svn16(res, "min-tee-tcb-svn2", "TEE_TCB_SVN2", b->tee_tcb_svn2,
				    vr->min_tee_tcb_svn2);
		else
			cvm_check_add(res, "min-tee-tcb-svn2", CVM_CHECK_FAIL,
				      "a minimum TEE_TCB_SVN2 is required but the quote is TDX 1.0 "
				      "(body type %u has no TEE_TCB_SVN2)", q->body_type);
	}
}
