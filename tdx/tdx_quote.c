/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel TDX DCAP quote parser, v4 and v5 (layout: spec/tdx-quote.md §1-§3).  Every length in the
 * quote is untrusted and read through a bounded cursor; the parsed struct borrows the input.
 */
#include <errno.h>
#include <string.h>

#include <cvmkit/util.h>
#include <cvmkit/verify.h>

#define TDX_HEADER_SIZE 48u
#define TDX_TEE_TYPE_TDX 0x81u
#define TDX_ATT_KEY_ECDSA_P256 2u
#define TDX_BODY_SIZE_10 584u
#define TDX_BODY_SIZE_15 648u
#define TDX_QE_REPORT_SIZE 384u
#define CERT_DATA_QE_REPORT 6u
#define CERT_DATA_PCK_CHAIN 5u

static void read_body(const uint8_t *b, uint16_t type, struct cvm_tdx_td_body *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->tee_tcb_svn, b + 0x000, 16);
	memcpy(out->mrseam, b + 0x010, 48);
	memcpy(out->mrsignerseam, b + 0x040, 48);
	out->seam_attributes = cvm_le64(b + 0x070);
	out->td_attributes = cvm_le64(b + 0x078);
	out->xfam = cvm_le64(b + 0x080);
	memcpy(out->mrtd, b + 0x088, 48);
	memcpy(out->mrconfigid, b + 0x0b8, 48);
	memcpy(out->mrowner, b + 0x0e8, 48);
	memcpy(out->mrownerconfig, b + 0x118, 48);
	for (int i = 0; i < 4; i++)
		memcpy(out->rtmr[i], b + 0x148 + 48 * i, 48);
	memcpy(out->report_data, b + 0x208, 64);
	if (type == CVM_TDX_BODY_TDX15) {
		memcpy(out->tee_tcb_svn2, b + 0x248, 16);
		memcpy(out->mrservicetd, b + 0x258, 48);
	}
}

static void read_qe_report(const uint8_t *p, struct cvm_tdx_qe_report *out)
{
	memcpy(out->cpusvn, p, 16);
	out->miscselect = cvm_le32(p + 16);
	memcpy(out->attributes, p + 48, 16);
	memcpy(out->mrenclave, p + 64, 32);
	memcpy(out->mrsigner, p + 128, 32);
	out->isvprodid = cvm_le16(p + 256);
	out->isvsvn = cvm_le16(p + 258);
	memcpy(out->report_data, p + 320, 64);
}

static int parse_header_and_body(struct cvm_cursor *c, struct cvm_tdx_quote *q,
				 struct cvm_error *err)
{
	const uint8_t *hdr;
	if (!cvm_cursor_bytes(c, TDX_HEADER_SIZE, &hdr))
		return cvm_error_set(err, -EINVAL, "TDX quote truncated: %zu bytes, the header is 48",
				     c->len);
	q->version = cvm_le16(hdr);
	q->att_key_type = cvm_le16(hdr + 2);
	q->tee_type = cvm_le32(hdr + 4);
	memcpy(q->qe_vendor_id, hdr + 12, 16);
	memcpy(q->user_data, hdr + 28, 20);
	if (q->version != 4 && q->version != 5)
		return cvm_error_set(err, -EINVAL, "TDX quote version %u is not supported (known: 4, 5)",
				     q->version);
	if (q->att_key_type != TDX_ATT_KEY_ECDSA_P256)
		return cvm_error_set(err, -EINVAL,
				     "attestation key type %u is not supported (2 = ECDSA P-256)",
				     q->att_key_type);
	if (q->tee_type != TDX_TEE_TYPE_TDX)
		return cvm_error_set(err, -EINVAL, "TEE type 0x%x is not TDX (0x81)", q->tee_type);

	if (q->version == 4) {
		q->body_type = CVM_TDX_BODY_TDX10;
		q->body_size = TDX_BODY_SIZE_10;
	} else {
		if (!cvm_cursor_u16(c, &q->body_type) || !cvm_cursor_u32(c, &q->body_size))
			return cvm_error_set(err, -EINVAL, "TDX quote v5 truncated in the body descriptor");
		uint32_t want = q->body_type == CVM_TDX_BODY_TDX10   ? TDX_BODY_SIZE_10
				: q->body_type == CVM_TDX_BODY_TDX15 ? TDX_BODY_SIZE_15
								     : 0;
		if (want == 0)
			return cvm_error_set(err, -EINVAL,
					     "TDX quote v5 body type %u is not a TD report (2 or 3)",
					     q->body_type);
		if (q->body_size != want)
			return cvm_error_set(err, -EINVAL,
					     "TDX quote v5 body type %u has size %u, expected %u",
					     q->body_type, q->body_size, want);
	}
	const uint8_t *body;
	if (!cvm_cursor_bytes(c, q->body_size, &body))
		return cvm_error_set(err, -EINVAL, "TDX quote truncated in the TD report body (%zu bytes)",
				     c->len);
	read_body(body, q->body_type, &q->body);
	q->signed_data = c->buf;
	q->signed_len = c->off;
	return 0;
}

static int parse_cert_data(struct cvm_cursor *c, struct cvm_tdx_quote *q, struct cvm_error *err)
{
	uint16_t type;
	uint32_t size;
	if (!cvm_cursor_u16(c, &type) || !cvm_cursor_u32(c, &size))
		return cvm_error_set(err, -EINVAL, "signature data truncated at the certification data");
	if (type != CERT_DATA_QE_REPORT)
		return cvm_error_set(err, -EINVAL,
				     "certification data type %u is not supported (6 = QE report)", type);
	const uint8_t *qe;
	if (size > cvm_cursor_left(c) || !cvm_cursor_bytes(c, size, &qe))
		return cvm_error_set(err, -EINVAL,
				     "QE report certification data claims %u bytes, %zu remain", size,
				     cvm_cursor_left(c));
	struct cvm_cursor in = cvm_cursor_make(qe, size);
	const uint8_t *sig;
	if (!cvm_cursor_bytes(&in, TDX_QE_REPORT_SIZE, &q->qe_report_raw) ||
	    !cvm_cursor_bytes(&in, 64, &sig) || !cvm_cursor_u16(&in, &q->qe_auth_len) ||
	    !cvm_cursor_bytes(&in, q->qe_auth_len, &q->qe_auth))
		return cvm_error_set(err, -EINVAL, "QE report certification data truncated");
	read_qe_report(q->qe_report_raw, &q->qe_report);
	memcpy(q->qe_report_signature, sig, 64);
	uint16_t inner_type;
	uint32_t inner_size;
	if (!cvm_cursor_u16(&in, &inner_type) || !cvm_cursor_u32(&in, &inner_size))
		return cvm_error_set(err, -EINVAL, "QE certification data truncated before the PCK chain");
	if (inner_type != CERT_DATA_PCK_CHAIN)
		return cvm_error_set(err, -EINVAL,
				     "QE certification data type %u is not supported (5 = PCK chain)",
				     inner_type);
	if (!cvm_cursor_bytes(&in, inner_size, &q->pck_chain))
		return cvm_error_set(err, -EINVAL, "PCK chain claims %u bytes, %zu remain", inner_size,
				     cvm_cursor_left(&in));
	q->pck_chain_len = inner_size;
	if (cvm_cursor_left(&in) != 0)
		return cvm_error_set(err, -EINVAL, "%zu unexplained bytes after the PCK chain",
				     cvm_cursor_left(&in));
	return 0;
}

int cvm_tdx_quote_parse(const uint8_t *data, size_t len, struct cvm_tdx_quote *out,
			struct cvm_error *err)
{
	struct cvm_tdx_quote q;
	memset(&q, 0, sizeof(q));
	struct cvm_cursor c = cvm_cursor_make(data, len);
	int rc = parse_header_and_body(&c, &q, err);
	if (rc)
		return rc;
	uint32_t sig_len;
	if (!cvm_cursor_u32(&c, &sig_len))
		return cvm_error_set(err, -EINVAL, "TDX quote truncated at the signature data length");
	const uint8_t *sig_data;
	if (!cvm_cursor_bytes(&c, sig_len, &sig_data))
		return cvm_error_set(err, -EINVAL,
				     "signature data claims %u bytes, %zu remain (truncated quote)",
				     sig_len, cvm_cursor_left(&c));
	struct cvm_cursor s = cvm_cursor_make(sig_data, sig_len);
	if (!cvm_cursor_copy(&s, q.quote_signature, 64) || !cvm_cursor_copy(&s, q.attestation_key, 64))
		return cvm_error_set(err, -EINVAL, "signature data too short for the signature and key");
	rc = parse_cert_data(&s, &q, err);
	if (rc)
		return rc;
	if (cvm_cursor_left(&s) != 0)
		return cvm_error_set(err, -EINVAL, "%zu unexplained bytes at the end of the signature data",
				     cvm_cursor_left(&s));
	q.trailing = cvm_cursor_left(&c);
	for (size_t i = c.off; i < len; i++)
		if (data[i] != 0)
			q.trailing_nonzero = true;
	*out = q;
	return 0;
}
