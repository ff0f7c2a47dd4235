/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier as the library offers it: a verifier that knows AMD and Intel (their classifiers
 * and bundled roots), TDX collateral, and the evidence dispatcher that detects SNP reports and
 * TDX quotes, parses them and hands them to the SNP or TDX verifier.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/evidence.h>

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

/* Certificates and CRLs (DER: one of them; PEM: every certificate and the first CRL). */
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
		if ((rc = add_crl(v, data, len, origin, err)) < 0)
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

int cvm_verify_evidence(struct cvm_verifier *v, const uint8_t *data, size_t len,
			const struct cvm_verify_options *opt, struct cvm_verify_result *res,
			struct cvm_error *err)
{
	const struct cvm_tee_ops *tee = cvm_tee_ops_for_evidence(cvm_evidence_detect(data, len));
	if (tee)
		return tee->verify(v, data, len, opt, res, err);
	size_t blen = 0;
	uint8_t *bin = NULL;
	if (cvm_evidence_unhex(data, len, &bin, &blen) == 0 &&
	    cvm_evidence_detect(bin, blen) != CVM_EVIDENCE_UNKNOWN) {
		int rc = cvm_verify_evidence(v, bin, blen, opt, res, err);
		free(bin);
		return rc;
	}
	free(bin);
	cvm_verify_result_init(res);
	cvm_check_add(res, "parse", CVM_CHECK_FAIL,
		      "not an SNP attestation report or a TDX quote (%zu bytes, first word 0x%08x)", len,
		      len >= 4 ? cvm_le32(data) : 0u);
	return 0;
}
