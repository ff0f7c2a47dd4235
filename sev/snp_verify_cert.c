/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reader of the AMD VCEK/VLEK extensions (OID arc 1.3.6.1.4.1.3704.1, spec/snp-report.md §4).
 * Extension values are untrusted bytes read through the bounded DER reader: INTEGER SPLs, an
 * IA5String product name, and a hwID that older certificates hold raw and newer ones wrap in an
 * OCTET STRING.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/x509v3.h>

#include "sev/verify_internal.h"

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
