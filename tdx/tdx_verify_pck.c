/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reader of the Intel PCK certificate SGX extension (1.2.840.113741.1.13.1, spec/tdx-quote.md §4):
 * a SEQUENCE of {OID, value} pairs giving the TCB component SVNs, PCESVN, CPUSVN, PCE-ID and
 * FMSPC that the TCB-status evaluation needs.  Untrusted DER, read with the bounded DER reader.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "tdx/tdx_verify_internal.h"

#define SGX_EXT "1.2.840.113741.1.13.1"

static bool read_pair(struct cvm_cursor *c, struct cvm_der *oid, struct cvm_der *val)
{
	struct cvm_der seq;
	if (!cvm_der_next(c, &seq) || seq.tag != 0x30)
		return false;
	struct cvm_cursor in = cvm_cursor_make(seq.val, seq.len);
	return cvm_der_next(&in, oid) && oid->tag == 0x06 && cvm_der_next(&in, val) &&
	       cvm_cursor_left(&in) == 0;
}

static int parse_tcb(const struct cvm_der *tcb, struct cvm_sgx_pck_ext *out, unsigned *seen,
		     struct cvm_error *err)
{
	if (tcb->tag != 0x30)
		return cvm_error_set(err, -EINVAL, "PCK SGX extension: TCB is not a SEQUENCE");
	struct cvm_cursor c = cvm_cursor_make(tcb->val, tcb->len);
	while (cvm_cursor_left(&c) > 0) {
		struct cvm_der oid, val;
		if (!read_pair(&c, &oid, &val))
			return cvm_error_set(err, -EINVAL, "PCK SGX extension: malformed TCB entry");
		char name[40];
		bool matched = false;
		for (unsigned i = 1; i <= 16 && !matched; i++) {
			snprintf(name, sizeof(name), SGX_EXT ".2.%u", i);
			if (cvm_der_oid_is(&oid, name)) {
				uint64_t svn;
				if (!cvm_der_uint(&val, &svn) || svn > 255)
					return cvm_error_set(err, -EINVAL,
							     "PCK SGX extension: TCB component %u is not a byte", i);
				out->tcb_comp[i - 1] = (uint8_t)svn;
				*seen |= 1u << i;
				matched = true;
			}
		}
		if (matched)
			continue;
		if (cvm_der_oid_is(&oid, SGX_EXT ".2.17")) {
			uint64_t svn;
			if (!cvm_der_uint(&val, &svn) || svn > 0xffff)
				return cvm_error_set(err, -EINVAL, "PCK SGX extension: PCESVN is not a u16");
			out->pcesvn = (uint16_t)svn;
			*seen |= 1u << 17;
		} else if (cvm_der_oid_is(&oid, SGX_EXT ".2.18")) {
			if (val.tag != 0x04 || val.len != 16)
				return cvm_error_set(err, -EINVAL, "PCK SGX extension: CPUSVN is not 16 bytes");
			memcpy(out->cpusvn, val.val, 16);
			*seen |= 1u << 18;
		}
	}
	return 0;
}

int cvm_sgx_pck_ext_parse(const uint8_t *der, size_t len, struct cvm_sgx_pck_ext *out,
			  struct cvm_error *err)
{
	struct cvm_sgx_pck_ext e;
	memset(&e, 0, sizeof(e));
	struct cvm_cursor c = cvm_cursor_make(der, len);
	struct cvm_der top;
	if (!cvm_der_next(&c, &top) || top.tag != 0x30 || cvm_cursor_left(&c) != 0)
		return cvm_error_set(err, -EINVAL, "PCK SGX extension is not one DER SEQUENCE");
	struct cvm_cursor in = cvm_cursor_make(top.val, top.len);
	unsigned seen = 0;
	bool have_pceid = false, have_fmspc = false;
	while (cvm_cursor_left(&in) > 0) {
		struct cvm_der oid, val;
		if (!read_pair(&in, &oid, &val))
			return cvm_error_set(err, -EINVAL, "PCK SGX extension: malformed entry");
		if (cvm_der_oid_is(&oid, SGX_EXT ".2")) {
			int rc = parse_tcb(&val, &e, &seen, err);
			if (rc)
				return rc;
		} else if (cvm_der_oid_is(&oid, SGX_EXT ".3")) {
			if (val.tag != 0x04 || val.len != 2)
				return cvm_error_set(err, -EINVAL, "PCK SGX extension: PCE-ID is not 2 bytes");
			memcpy(e.pceid, val.val, 2);
			have_pceid = true;
		} else if (cvm_der_oid_is(&oid, SGX_EXT ".4")) {
			if (val.tag != 0x04 || val.len != 6)
				return cvm_error_set(err, -EINVAL, "PCK SGX extension: FMSPC is not 6 bytes");
			memcpy(e.fmspc, val.val, 6);
			have_fmspc = true;
		}
	}
	unsigned need = 0x7fffeu; /* components 1..18 */
	if ((seen & need) != need || !have_pceid || !have_fmspc)
		return cvm_error_set(err, -EINVAL,
				     "PCK SGX extension lacks the TCB, PCE-ID or FMSPC entries");
	*out = e;
	return 0;
}

int cvm_sgx_pck_ext_read(X509 *cert, struct cvm_sgx_pck_ext *out, struct cvm_error *err)
{
	const ASN1_OCTET_STRING *os = cvm_x509_find_ext(cert, SGX_EXT);
	if (!os)
		return cvm_error_set(err, -ENOENT, "PCK certificate has no SGX extension");
	return cvm_sgx_pck_ext_parse(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os), out,
				     err);
}

int cvm_sgx_pck_ext_of(const struct cvm_cert *cert, struct cvm_sgx_pck_ext *out,
		       struct cvm_error *err)
{
	if (!cert->ext)
		return cvm_sgx_pck_ext_read(cert->x509, out, err);
	*out = *(const struct cvm_sgx_pck_ext *)cert->ext;
	return 0;
}
