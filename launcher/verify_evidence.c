/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier as the library offers it: a verifier that knows AMD and Intel (their classifiers
 * and bundled roots), endorsements of any kind (certificates, CRLs, GHCB certificate tables),
 * TDX collateral, and the evidence dispatcher: it unwraps evidence (measure/evidence*.c), adds
 * the certificates it carries, hands the report or quote to the SNP or TDX verifier through the
 * TEE table, and checks what the wrapper binds (runtime data).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <cvmkit/evidence.h>
#include <cvmkit/util.h>

#include "launcher/tee.h"
#include "sev/snp_verify_internal.h"
#include "tdx/tdx_verify_internal.h"

int cvm_verifier_new(struct cvm_verifier **out, struct cvm_error *err)
{
	struct cvm_verifier *v = cvm_verifier_alloc();
	if (!v)
		return cvm_error_set(err, -ENOMEM, "verifier: out of memory");
	int rc = cvm_snp_verifier_setup(v, err);
	if (!rc)
		rc = cvm_tdx_verifier_setup(v, err);
	if (rc) {
		cvm_verifier_free(v);
		return cvm_error_wrap(err, "verifier: bundled roots");
	}
	*out = v;
	return 0;
}

int cvm_verifier_add_collateral(struct cvm_verifier *v, const uint8_t *data, size_t len,
				const char *origin, struct cvm_error *err)
{
	return cvm_tdx_collateral_add(v, data, len, origin ? origin : "collateral", err);
}

/* A CRL: an AMD ARK's for the SNP revocation check, any other for TDX.  -EINVAL: no CRL. */
static int add_crl(struct cvm_verifier *v, const uint8_t *data, size_t len, const char *origin,
		   struct cvm_error *err)
{
	struct cvm_error scratch;
	cvm_error_clear(&scratch);
	int rc = cvm_snp_crl_add(v, data, len, origin, &scratch);
	if (rc == 0)
		return cvm_tdx_collateral_add(v, data, len, origin, err);
	if (rc < 0)
		*err = scratch;
	return rc;
}

struct crl_ctx {
	struct cvm_verifier *v;
	const char *origin;
	struct cvm_error *err;
};

static int add_one_crl(void *ctx, const uint8_t *der, size_t len)
{
	struct crl_ctx *c = ctx;
	return add_crl(c->v, der, len, c->origin, c->err);
}

/* Certificates and CRLs (DER: one of them; PEM: every certificate and every CRL). */
static int add_cert_or_crl(struct cvm_verifier *v, const uint8_t *data, size_t len,
			   const char *origin, struct cvm_error *err)
{
	if (!memmem(data, len, "-----BEGIN ", 11)) {
		int rc = add_crl(v, data, len, origin, err);
		return rc == -EINVAL ? cvm_verifier_add_certs(v, data, len, origin, err) : rc;
	}
	int added = 0, rc;
	if (memmem(data, len, "-----BEGIN CERTIFICATE", 22)) {
		if ((rc = cvm_verifier_add_certs(v, data, len, origin, err)) < 0)
			return rc;
		added += rc;
	}
	if (memmem(data, len, "-----BEGIN X509 CRL", 19)) {
		struct crl_ctx ctx = {v, origin, err};
		if ((rc = cvm_pem_crls_each(data, len, add_one_crl, &ctx)) == -EINVAL)
			rc = cvm_error_set(err, -EINVAL, "%s: a PEM CRL in it is unreadable", origin);
		if (rc < 0)
			return rc;
		added += rc;
	}
	return added ? added
		     : cvm_error_set(err, -EINVAL, "%s: no PEM certificate or CRL in it", origin);
}

int cvm_verifier_add_endorsements(struct cvm_verifier *v, const uint8_t *data, size_t len,
				  const char *origin, struct cvm_error *err)
{
	if (!origin)
		origin = "certificates";
	struct cvm_error first;
	cvm_error_clear(&first);
	int rc = add_cert_or_crl(v, data, len, origin, &first);
	if (rc != -EINVAL) {
		if (rc < 0)
			*err = first;
		return rc;
	}
	struct cvm_evidence *table = NULL;
	if (cvm_evidence_cert_table(data, len, &table, NULL) != 0)
		return cvm_error_set(err, -EINVAL,
				     "%s: not certificates (DER or PEM), a CRL or a GHCB certificate "
				     "table",
				     origin);
	int added = 0;
	for (size_t i = 0; i < table->ncerts && rc != -ENOMEM; i++) {
		const struct cvm_evidence_blob *b = &table->certs[i];
		char what[128];
		snprintf(what, sizeof(what), "%s: %s", origin, b->name);
		rc = add_cert_or_crl(v, b->data, b->len, what, err);
		if (rc > 0)
			added += rc;
	}
	cvm_evidence_free(table);
	if (rc == -ENOMEM)
		return rc;
	return added ? added
		     : cvm_error_set(err, -EINVAL,
				     "%s: no entry of the certificate table is a certificate or CRL",
				     origin);
}

/* ---- evidence ----------------------------------------------------------------------------- */

int cvm_snp_verify_bytes(struct cvm_verifier *v, const uint8_t *data, size_t len,
			 const struct cvm_verify_options *opt, struct cvm_verify_result *res,
			 struct cvm_error *err)
{
	struct cvm_snp_report *rep = malloc(sizeof(*rep));
	if (!rep)
		return cvm_error_set(err, -ENOMEM, "verify: out of memory");
	struct cvm_error perr;
	cvm_error_clear(&perr);
	int rc = 0;
	if (cvm_snp_report_parse(data, len, rep, &perr) == 0) {
		rc = cvm_verify_snp(v, rep, opt, res, err);
	} else {
		cvm_verify_result_init(res);
		res->kind = CVM_EVIDENCE_SNP_REPORT;
		cvm_check_add(res, "parse", CVM_CHECK_FAIL, "%s", cvm_error_message(&perr));
	}
	free(rep);
	return rc;
}

int cvm_tdx_verify_bytes(struct cvm_verifier *v, const uint8_t *data, size_t len,
			 const struct cvm_verify_options *opt, struct cvm_verify_result *res,
			 struct cvm_error *err)
{
	struct cvm_tdx_quote q;
	struct cvm_error perr;
	cvm_error_clear(&perr);
	if (cvm_tdx_quote_parse(data, len, &q, &perr) == 0)
		return cvm_verify_tdx(v, &q, opt, res, err);
	cvm_verify_result_init(res);
	res->kind = CVM_EVIDENCE_TDX_QUOTE;
	cvm_check_add(res, "parse", CVM_CHECK_FAIL, "%s", cvm_error_message(&perr));
	return 0;
}

/* ---- wrapped evidence ----------------------------------------------------------------------- */

/* Names the evidence formats give certificates whose failure to load is worth a check line. */
static bool named_endorsement(const char *name)
{
	static const char *const names[] = {"VCEK", "VLEK", "ASK", "ASVK", "ARK", "CRL"};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/*
 * The certificates and CRLs inside evidence, used like --certs for this evidence only (scoped:
 * cvm_verify_unwrapped drops them after the verdict, so one evidence never vouches for another
 * and a batch stays bounded).  The first failure of a named one goes to why (entries of other
 * types may hold anything and are left out quietly).
 */
static int add_evidence_certs(struct cvm_verifier *v, const struct cvm_evidence *ev, char *why,
			      size_t n, struct cvm_error *err)
{
	why[0] = '\0';
	if (!ev->ncerts)
		return 0;
	cvm_verifier_trim(v);
	cvm_verifier_set_scoping(v, true);
	for (size_t i = 0; i < ev->ncerts; i++) {
		const struct cvm_evidence_blob *b = &ev->certs[i];
		char origin[64];
		struct cvm_error aerr;
		cvm_error_clear(&aerr);
		snprintf(origin, sizeof(origin), "%s %s", cvm_evidence_format_name(ev->format),
			 b->name);
		int rc = cvm_verifier_add_endorsements(v, b->data, b->len, origin, &aerr);
		if (rc == -ENOMEM) {
			cvm_verifier_drop_scoped(v);
			return cvm_error_set(err, rc, "verify: out of memory");
		}
		if (rc < 0 && !why[0] && named_endorsement(b->name))
			snprintf(why, n, "%s", cvm_error_message(&aerr));
	}
	cvm_verifier_set_scoping(v, false);
	return 0;
}

static const char *hash_title(enum cvm_evidence_hash h)
{
	return h == CVM_EVIDENCE_HASH_SHA256   ? "SHA-256"
	       : h == CVM_EVIDENCE_HASH_SHA384 ? "SHA-384"
					       : "SHA-512";
}

static const EVP_MD *binding_md(enum cvm_evidence_hash h)
{
	switch (h) {
	case CVM_EVIDENCE_HASH_SHA256:
		return EVP_sha256();
	case CVM_EVIDENCE_HASH_SHA384:
		return EVP_sha384();
	case CVM_EVIDENCE_HASH_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

/*
 * "runtime-data": the digest of the data the wrapper binds (Azure: the HCL runtime data JSON)
 * is REPORT_DATA[0:n] of the signed report, and of the TD report the quote was made from.
 */
static void check_runtime_data(const struct cvm_evidence *ev, struct cvm_verify_result *res)
{
	const struct cvm_evidence_binding *b = &ev->runtime_data;
	const uint8_t *target = b->in_td_report ? ev->td_report : ev->report;
	size_t target_len = b->in_td_report ? ev->td_report_len : ev->report_len;
	const char *field = ev->kind == CVM_EVIDENCE_SNP_REPORT ? "REPORT_DATA" : "REPORTDATA";
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	const EVP_MD *md = binding_md(b->hash);
	if (!md || !EVP_Digest(b->data, b->len, digest, &dlen, md, NULL) ||
	    dlen != b->digest_len || !cvm_range_ok(b->offset, b->digest_len, target_len)) {
		cvm_check_add(res, "runtime-data", CVM_CHECK_FAIL,
			      "the runtime data's %s digest cannot be compared with %s",
			      cvm_evidence_hash_name(b->hash), field);
		return;
	}
	char label[48];
	snprintf(label, sizeof(label), "%s[0:%zu]", field, b->digest_len);
	if (!cvm_memeq_ct(digest, target + b->offset, b->digest_len)) {
		char why[CVM_CHECK_REASON_MAX];
		cvm_mismatch_describe(why, sizeof(why), label, target + b->offset, digest,
				      b->digest_len);
		cvm_check_add(res, "runtime-data", CVM_CHECK_FAIL,
			      "%s of the runtime data (%zu bytes) does not match: %s",
			      hash_title(b->hash), b->len, why);
		return;
	}
	bool td_too = ev->td_report && !b->in_td_report;
	if (td_too && !cvm_memeq_ct(digest, ev->td_report + CVM_TD_REPORT_DATA_OFFSET,
				    b->digest_len)) {
		cvm_check_add(res, "runtime-data", CVM_CHECK_FAIL,
			      "the quote binds the runtime data but the HCL report's TD report "
			      "carries another REPORTDATA");
		return;
	}
	cvm_check_add(res, "runtime-data", CVM_CHECK_PASS, "%s of the runtime data (%zu bytes) is %s%s",
		      hash_title(b->hash), b->len, label,
		      td_too ? ", as in the HCL report's TD report" : "");
}

static void wrapper_line(const struct cvm_evidence *ev, struct cvm_verify_result *res)
{
	size_t certs = 0, crls = 0;
	for (size_t i = 0; i < ev->ncerts; i++)
		ev->certs[i].crl ? crls++ : certs++;
	char extra[96] = "";
	if (ev->eventlog)
		snprintf(extra, sizeof(extra), ", a CC event log of %zu bytes", ev->eventlog_len);
	else if (ev->format == CVM_EVIDENCE_FORMAT_AZURE_SNP_JSON ||
		 ev->format == CVM_EVIDENCE_FORMAT_AZURE_TDX_JSON)
		snprintf(extra, sizeof(extra), " (its vTPM quote is not verified)");
	cvm_check_add(res, "wrapper", CVM_CHECK_PASS, "%s%s%s: %zu certificate entr%s, %zu CRL%s%s",
		      cvm_evidence_format_name(ev->format), ev->provider[0] ? " from " : "",
		      ev->provider, certs, certs == 1 ? "y" : "ies", crls, crls == 1 ? "" : "s",
		      extra);
}

int cvm_verify_unwrapped(struct cvm_verifier *v, const struct cvm_evidence *ev,
			 const struct cvm_verify_options *opt, struct cvm_verify_result *res,
			 struct cvm_error *err)
{
	char cert_why[CVM_CHECK_REASON_MAX];
	int rc = add_evidence_certs(v, ev, cert_why, sizeof(cert_why), err);
	if (rc)
		return rc;
	const struct cvm_tee_ops *tee = cvm_tee_ops_for_evidence(ev->kind);
	if (tee) {
		rc = tee->verify(v, ev->report, ev->report_len, opt, res, err);
	} else {
		cvm_verify_result_init(res);
		if (ev->td_report) {
			/* A TD report is MACed for its own platform: nothing a verifier can check. */
			res->kind = CVM_EVIDENCE_TDX_QUOTE;
			cvm_check_add(res, "parse", CVM_CHECK_PASS,
				      "an Azure HCL report carrying a TD report (not a quote)");
			cvm_check_add(res, "signature", CVM_CHECK_FAIL,
				      "a TD report is not signed (its MAC is for the platform): "
				      "verify the TD quote made from it, e.g. Trustee's az-tdx-vtpm "
				      "evidence JSON, which carries both");
		} else {
			cvm_check_add(res, "parse", CVM_CHECK_FAIL,
				      "not an SNP attestation report or a TDX quote (%zu bytes, first "
				      "word 0x%08x)",
				      ev->report_len, ev->report_len >= 4 ? cvm_le32(ev->report) : 0u);
		}
	}
	if (ev->ncerts)
		cvm_verifier_drop_scoped(v);
	if (rc)
		return rc;
	if (ev->format != CVM_EVIDENCE_FORMAT_RAW)
		wrapper_line(ev, res);
	if (cert_why[0])
		cvm_check_add(res, "evidence-certs", CVM_CHECK_FAIL, "%s", cert_why);
	if (ev->runtime_data.data)
		check_runtime_data(ev, res);
	return 0;
}

int cvm_verify_evidence(struct cvm_verifier *v, const uint8_t *data, size_t len,
			const struct cvm_verify_options *opt, struct cvm_verify_result *res,
			struct cvm_error *err)
{
	struct cvm_evidence *ev = NULL;
	struct cvm_error uerr;
	cvm_error_clear(&uerr);
	int rc = cvm_evidence_unwrap(data, len, &ev, &uerr);
	if (rc == -ENOMEM)
		return cvm_error_set(err, rc, "verify: out of memory");
	if (rc) {
		/* A wrapper recognised but malformed: a failed parse, like a malformed report. */
		cvm_verify_result_init(res);
		cvm_check_add(res, "parse", CVM_CHECK_FAIL, "%s", cvm_error_message(&uerr));
		return 0;
	}
	rc = cvm_verify_unwrapped(v, ev, opt, res, err);
	cvm_evidence_free(ev);
	return rc;
}
