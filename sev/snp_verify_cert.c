/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reader of the AMD VCEK/VLEK extensions (OID arc 1.3.6.1.4.1.3704.1, spec/snp-report.md §4).
 * Extension values are untrusted bytes read through the bounded DER reader: INTEGER SPLs, an
 * IA5String product name, and a hwID that older certificates hold raw and newer ones wrap in an
 * OCTET STRING.  Also the AMD side of a verifier's certificate pool: which certificate is an
 * ARK, ASK, ASVK, VCEK or VLEK, and the bundled AMD roots.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/x509v3.h>

#include "sev/snp_verify_internal.h"

#define AMD_ARC "1.3.6.1.4.1.3704.1."

/* One whole TLV filling the value. */
static bool single_tlv(const uint8_t *val, size_t len, struct cvm_der *out)
{
	struct cvm_cursor c = cvm_cursor_make(val, len);
	return cvm_der_next(&c, out) && cvm_cursor_left(&c) == 0;
}

static int read_uint_ext(X509 *cert, const char *oid, const char *name, bool *has, uint64_t *out,
			 struct cvm_error *err)
{
	const ASN1_OCTET_STRING *os = cvm_x509_find_ext(cert, oid);
	*has = false;
	if (!os)
		return 0;
	struct cvm_der d;
	if (!single_tlv(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os), &d) ||
	    !cvm_der_uint(&d, out))
		return cvm_error_set(err, -EINVAL, "certificate extension %s (%s) is not a DER INTEGER",
				     name, oid);
	*has = true;
	return 0;
}

/* An optional IA5String extension into buf (NUL-terminated; left empty when absent). */
static int read_ia5_ext(X509 *cert, const char *oid, const char *name, char *buf, size_t cap,
			struct cvm_error *err)
{
	const ASN1_OCTET_STRING *os = cvm_x509_find_ext(cert, oid);
	if (!os)
		return 0;
	struct cvm_der d;
	if (!single_tlv(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os), &d) ||
	    d.tag != 0x16 || d.len >= cap)
		return cvm_error_set(err, -EINVAL,
				     "certificate extension %s is not a short IA5String", name);
	memcpy(buf, d.val, d.len);
	buf[d.len] = '\0';
	return 0;
}

int cvm_amd_cert_ext_read(X509 *cert, struct cvm_amd_cert_ext *out, struct cvm_error *err)
{
	struct cvm_amd_cert_ext e;
	memset(&e, 0, sizeof(e));
	int rc = read_uint_ext(cert, AMD_ARC "1", "structVersion", &e.has_struct_version,
			       &e.struct_version, err);
	if (!rc)
		rc = read_uint_ext(cert, AMD_ARC "3.1", "blSPL", &e.has_bl, &e.bl, err);
	if (!rc)
		rc = read_uint_ext(cert, AMD_ARC "3.2", "teeSPL", &e.has_tee, &e.tee, err);
	if (!rc)
		rc = read_uint_ext(cert, AMD_ARC "3.3", "snpSPL", &e.has_snp, &e.snp, err);
	if (!rc)
		rc = read_uint_ext(cert, AMD_ARC "3.8", "ucodeSPL", &e.has_ucode, &e.ucode, err);
	if (!rc)
		rc = read_uint_ext(cert, AMD_ARC "3.9", "fmcSPL", &e.has_fmc, &e.fmc, err);
	if (!rc)
		rc = read_ia5_ext(cert, AMD_ARC "2", "productName", e.product_name,
				  sizeof(e.product_name), err);
	if (rc)
		return rc;

	const ASN1_OCTET_STRING *os = cvm_x509_find_ext(cert, AMD_ARC "4");
	if (os) {
		const uint8_t *val = ASN1_STRING_get0_data(os);
		size_t len = (size_t)ASN1_STRING_length(os);
		struct cvm_der d;
		/* A wrapped hwID is exactly one OCTET STRING TLV of 8 or 64 bytes; else it is raw. */
		if (single_tlv(val, len, &d) && d.tag == 0x04 && (d.len == 8 || d.len == 64)) {
			val = d.val;
			len = d.len;
		}
		if (len != 8 && len != 64)
			return cvm_error_set(err, -EINVAL,
					     "certificate extension hwID is %zu bytes (expected 8 or 64)", len);
		memcpy(e.hwid, val, len);
		e.hwid_len = len;
	}

	rc = read_ia5_ext(cert, AMD_ARC "5", "cspID", e.csp_id, sizeof(e.csp_id), err);
	if (rc)
		return rc;
	*out = e;
	return 0;
}

/* ---- the AMD certificates of a verifier's pool ------------------------------------------- */

static enum cvm_amd_product product_from_suffix(const char *s)
{
	enum cvm_amd_product p;
	return cvm_amd_product_parse(s, &p) == 0 ? p : CVM_AMD_UNKNOWN;
}

/* The VCEK/VLEK extensions, read once: NULL when malformed (the verifier reads again for why). */
static void *read_leaf_ext(X509 *x509)
{
	struct cvm_amd_cert_ext *ext = malloc(sizeof(*ext));
	if (ext && cvm_amd_cert_ext_read(x509, ext, NULL) != 0) {
		free(ext);
		ext = NULL;
	}
	return ext;
}

static bool classify_amd_cert(struct cvm_cert *c, const char *cn, const char *icn)
{
	if (strcmp(cn, "SEV-VCEK") == 0) {
		c->role = CVM_CERT_AMD_VCEK;
		if (strncmp(icn, "SEV-", 4) == 0)
			c->product = product_from_suffix(icn + 4);
	} else if (strcmp(cn, "SEV-VLEK") == 0) {
		c->role = CVM_CERT_AMD_VLEK;
		if (strncmp(icn, "SEV-VLEK-", 9) == 0)
			c->product = product_from_suffix(icn + 9);
	} else if (strncmp(cn, "ARK-", 4) == 0) {
		c->role = CVM_CERT_AMD_ARK;
		c->product = product_from_suffix(cn + 4);
	} else if (strncmp(cn, "SEV-VLEK-", 9) == 0) {
		c->role = CVM_CERT_AMD_ASVK;
		c->product = product_from_suffix(cn + 9);
	} else if (strncmp(cn, "SEV-", 4) == 0) {
		c->role = CVM_CERT_AMD_ASK;
		c->product = product_from_suffix(cn + 4);
	} else {
		return false;
	}
	if (c->role == CVM_CERT_AMD_VCEK || c->role == CVM_CERT_AMD_VLEK)
		c->ext = read_leaf_ext(c->x509);
	return true;
}

int cvm_snp_verifier_setup(struct cvm_verifier *v, struct cvm_error *err)
{
	if (cvm_verifier_add_classifier(v, classify_amd_cert))
		return cvm_error_set(err, -ENOSPC, "verifier: too many certificate classifiers");
	const struct cvm_bundled_cert *amd;
	size_t n = cvm_amd_bundled_certs(&amd);
	for (size_t i = 0; i < n; i++) {
		int rc = cvm_verifier_add_trusted_der(v, amd[i].der, amd[i].len, "bundled AMD", err);
		if (rc)
			return rc;
	}
	return 0;
}
