/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a piece of evidence needs from KDS or PCS: the evidence is unwrapped, its report or
 * quote parsed, and the TEE's own list fetched (cache first), each item with its outcome.  The
 * per-TEE lists are the fetch steps of the TEE table (launcher/tee.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cvmkit/evidence.h>
#include <cvmkit/fetch.h>

#include "launcher/tee.h"
#include "tdx/tdx_verify_internal.h"

/* The next slot of fe, for an item of that kind. */
static struct cvm_fetch_needed *slot(struct cvm_fetch_evidence *fe, enum cvm_fetch_kind kind)
{
	struct cvm_fetch_needed *n = &fe->needed[fe->n++];
	n->kind = kind;
	cvm_error_clear(&n->error);
	return n;
}

static bool carries(const struct cvm_evidence *ev, const char *name)
{
	for (size_t i = 0; i < ev->ncerts; i++)
		if (strcmp(ev->certs[i].name, name) == 0)
			return true;
	return false;
}

int cvm_snp_fetch_needs(struct cvm_fetcher *f, const struct cvm_evidence *ev,
			const struct cvm_fetch_evidence_options *o, struct cvm_fetch_evidence *fe,
			struct cvm_error *err)
{
	struct cvm_snp_report *r = malloc(sizeof(*r));
	if (!r)
		return cvm_error_set(err, -ENOMEM, "fetch: out of memory");
	int rc = cvm_snp_report_parse(ev->report, ev->report_len, r, err);
	if (rc) {
		free(r);
		return rc;
	}
	struct cvm_kds_vcek_id id;
	cvm_kds_vcek_id_from_report(r, o->product, &id);
	enum cvm_snp_signing_key key =
		cvm_snp_report_signing_key(r) == CVM_SNP_KEY_VLEK ? CVM_SNP_KEY_VLEK : CVM_SNP_KEY_VCEK;
	free(r);
	enum cvm_amd_product product = id.product;
	bool carried = carries(ev, key == CVM_SNP_KEY_VLEK ? "VLEK" : "VCEK");
	if (!(o->skip_carried && carried)) {
		struct cvm_fetch_needed *n = slot(fe, CVM_FETCH_VCEK);
		rc = cvm_fetch_vcek(f, &id, &n->item, &n->error);
		if (rc == -ENOMEM)
			return cvm_error_set(err, rc, "fetch: out of memory");
		if (n->item)
			product = n->item->product; /* Milan or Genoa, when the report did not say */
	}
	struct cvm_fetch_needed *c = slot(fe, CVM_FETCH_AMD_CHAIN);
	if (product == CVM_AMD_UNKNOWN) {
		cvm_error_set(&c->error, -EINVAL,
			      "the product line is unknown (a v2 report does not name it and no VCEK "
			      "said it): give --product");
		return 0;
	}
	if (cvm_fetch_amd_chain(f, product, key, &c->item, &c->error) == -ENOMEM)
		return cvm_error_set(err, -ENOMEM, "fetch: out of memory");
	if (o->amd_crl) {
		struct cvm_fetch_needed *n = slot(fe, CVM_FETCH_AMD_CRL);
		if (cvm_fetch_amd_crl(f, product, key, &n->item, &n->error) == -ENOMEM)
			return cvm_error_set(err, -ENOMEM, "fetch: out of memory");
	}
	return 0;
}

/* The FMSPC of the quote's PCK certificate and which PCK CA issued it. */
static int pck_facts(const struct cvm_tdx_quote *q, uint8_t fmspc[6], enum cvm_pck_ca *ca,
		     struct cvm_error *err)
{
	if (q->pck_chain_len > INT32_MAX)
		return cvm_error_set(err, -EINVAL, "TDX quote: PCK chain too large");
	BIO *bio = BIO_new_mem_buf(q->pck_chain, (int)q->pck_chain_len);
	X509 *leaf = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	ERR_clear_error();
	if (!leaf)
		return cvm_error_set(err, -EINVAL, "TDX quote: no PCK certificate in its chain");
	struct cvm_sgx_pck_ext ext;
	int rc = cvm_sgx_pck_ext_read(leaf, &ext, err);
	char issuer[96];
	cvm_x509_cn(X509_get_issuer_name(leaf), issuer, sizeof(issuer));
	X509_free(leaf);
	if (rc)
		return cvm_error_wrap(err, "TDX quote: PCK certificate");
	if (strcmp(issuer, "Intel SGX PCK Platform CA") == 0)
		*ca = CVM_PCK_CA_PLATFORM;
	else if (strcmp(issuer, "Intel SGX PCK Processor CA") == 0)
		*ca = CVM_PCK_CA_PROCESSOR;
	else
		return cvm_error_set(err, -EINVAL,
				     "TDX quote: the PCK certificate is issued by CN=%s, not by an "
				     "Intel SGX PCK CA",
				     issuer);
	memcpy(fmspc, ext.fmspc, 6);
	return 0;
}

int cvm_tdx_fetch_needs(struct cvm_fetcher *f, const struct cvm_evidence *ev,
			const struct cvm_fetch_evidence_options *o, struct cvm_fetch_evidence *fe,
			struct cvm_error *err)
{
	(void)o;
	struct cvm_tdx_quote q;
	uint8_t fmspc[6];
	enum cvm_pck_ca ca = CVM_PCK_CA_PLATFORM;
	int rc = cvm_tdx_quote_parse(ev->report, ev->report_len, &q, err);
	if (!rc)
		rc = pck_facts(&q, fmspc, &ca, err);
	if (rc)
		return rc;
	struct cvm_fetch_needed *n = slot(fe, CVM_FETCH_TCB_INFO);
	rc = cvm_fetch_tdx_tcb_info(f, fmspc, &n->item, &n->error);
	n = slot(fe, CVM_FETCH_QE_IDENTITY);
	if (rc != -ENOMEM)
		rc = cvm_fetch_tdx_qe_identity(f, &n->item, &n->error);
	n = slot(fe, CVM_FETCH_PCK_CRL);
	if (rc != -ENOMEM)
		rc = cvm_fetch_pck_crl(f, ca, &n->item, &n->error);
	n = slot(fe, CVM_FETCH_ROOT_CRL);
	if (rc != -ENOMEM)
		rc = cvm_fetch_intel_root_crl(f, &n->item, &n->error);
	return rc == -ENOMEM ? cvm_error_set(err, rc, "fetch: out of memory") : 0;
}

void cvm_fetch_evidence_free(struct cvm_fetch_evidence *fe)
{
	if (!fe)
		return;
	for (size_t i = 0; i < fe->n; i++)
		cvm_fetch_item_free(fe->needed[i].item);
	free(fe);
}

int cvm_fetch_for_evidence(struct cvm_fetcher *f, const uint8_t *data, size_t len,
			   const struct cvm_fetch_evidence_options *o,
			   struct cvm_fetch_evidence **out, struct cvm_error *err)
{
	static const struct cvm_fetch_evidence_options defaults = {0};
	if (!o)
		o = &defaults;
	struct cvm_evidence *ev = NULL;
	int rc = cvm_evidence_unwrap(data, len, &ev, err);
	if (rc)
		return rc;
	const struct cvm_tee_ops *tee = cvm_tee_ops_for_evidence(ev->kind);
	struct cvm_fetch_evidence *fe = NULL;
	if (!tee || !tee->fetch) {
		rc = cvm_error_set(err, -EINVAL, "%s evidence without an SNP report or a TDX quote",
				   cvm_evidence_format_name(ev->format));
	} else if (!(fe = calloc(1, sizeof(*fe)))) {
		rc = cvm_error_set(err, -ENOMEM, "fetch: out of memory");
	} else {
		fe->kind = ev->kind;
		rc = tee->fetch(f, ev, o, fe, err);
	}
	cvm_evidence_free(ev);
	if (rc) {
		cvm_fetch_evidence_free(fe);
		return rc;
	}
	*out = fe;
	return 0;
}
