/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evidence detection and the binary wrappers: raw reports and quotes (binary or hex text), an
 * SNP report followed by its GHCB certificate table, a bare certificate table, and the Azure
 * HCL report.  The JSON and CBOR wrappers are in evidence_json.c and evidence_cbor.c.  Every
 * offset and length read here is untrusted and checked with cvm_range_ok before use.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/util.h>

#include "measure/evidence_internal.h"

/* ---- the raw kinds -------------------------------------------------------------------------- */

enum cvm_evidence_kind cvm_evidence_detect(const uint8_t *data, size_t len)
{
	if (len >= 4) {
		uint16_t v16 = cvm_le16(data), akt = cvm_le16(data + 2);
		if (v16 >= 3 && v16 <= 5 && (akt == 2 || akt == 3))
			return CVM_EVIDENCE_TDX_QUOTE;
		uint32_t v32 = cvm_le32(data);
		if (v32 >= 1 && v32 <= 0xff)
			return CVM_EVIDENCE_SNP_REPORT;
	}
	return CVM_EVIDENCE_UNKNOWN;
}

const char *cvm_evidence_kind_name(enum cvm_evidence_kind kind)
{
	switch (kind) {
	case CVM_EVIDENCE_SNP_REPORT:
		return "snp";
	case CVM_EVIDENCE_TDX_QUOTE:
		return "tdx";
	default:
		return "unknown";
	}
}

int cvm_evidence_unhex(const uint8_t *data, size_t len, uint8_t **out_buf, size_t *out_len)
{
	size_t digits = 0;
	size_t i = 0;
	while (i < len && isspace(data[i]))
		i++;
	if (i + 1 < len && data[i] == '0' && (data[i + 1] == 'x' || data[i + 1] == 'X'))
		i += 2;
	size_t start = i;
	for (size_t k = start; k < len; k++) {
		if (isxdigit(data[k]))
			digits++;
		else if (!isspace(data[k]))
			return -EINVAL;
	}
	if (digits == 0 || digits % 2 != 0)
		return -EINVAL;
	uint8_t *out = malloc(digits / 2);
	if (!out)
		return -ENOMEM;
	size_t n = 0;
	int hi = -1;
	for (size_t k = start; k < len; k++) {
		if (!isxdigit(data[k]))
			continue;
		int nib = cvm_hex_digit((char)data[k]);
		if (hi < 0) {
			hi = nib;
		} else {
			out[n++] = (uint8_t)(hi << 4 | nib);
			hi = -1;
		}
	}
	*out_buf = out;
	*out_len = n;
	return 0;
}

size_t cvm_evidence_quote_report_data_offset(const uint8_t *quote, size_t len)
{
	if (cvm_evidence_detect(quote, len) != CVM_EVIDENCE_TDX_QUOTE)
		return 0;
	/* The body follows the 48-byte header (v5: and a 6-byte body descriptor). */
	return cvm_le16(quote) == 5 ? 48u + 6u + 0x208u : 48u + 0x208u;
}

/* ---- names ---------------------------------------------------------------------------------- */

const char *cvm_evidence_format_name(enum cvm_evidence_format f)
{
	static const char *const names[] = {
		[CVM_EVIDENCE_FORMAT_RAW] = "raw",
		[CVM_EVIDENCE_FORMAT_SNP_CERT_TABLE] = "snp-cert-table",
		[CVM_EVIDENCE_FORMAT_TRUSTEE_SNP] = "trustee-snp",
		[CVM_EVIDENCE_FORMAT_TRUSTEE_TDX] = "trustee-tdx",
		[CVM_EVIDENCE_FORMAT_TSM_JSON] = "tsm-json",
		[CVM_EVIDENCE_FORMAT_TSM_CBOR] = "tsm-cbor",
		[CVM_EVIDENCE_FORMAT_AZURE_HCL] = "azure-hcl",
		[CVM_EVIDENCE_FORMAT_AZURE_SNP_JSON] = "azure-snp-json",
		[CVM_EVIDENCE_FORMAT_AZURE_TDX_JSON] = "azure-tdx-json",
		[CVM_EVIDENCE_FORMAT_CERT_TABLE] = "cert-table",
	};
	if ((size_t)f < CVM_ARRAY_SIZE(names) && names[f])
		return names[f];
	return "unknown";
}

const char *cvm_evidence_hash_name(enum cvm_evidence_hash h)
{
	switch (h) {
	case CVM_EVIDENCE_HASH_SHA256:
		return "sha256";
	case CVM_EVIDENCE_HASH_SHA384:
		return "sha384";
	case CVM_EVIDENCE_HASH_SHA512:
		return "sha512";
	default:
		return "none";
	}
}

/* ---- the object ----------------------------------------------------------------------------- */

struct cvm_evidence *cvm_evidence_alloc(enum cvm_evidence_format format)
{
	struct cvm_evidence *ev = calloc(1, sizeof(*ev));
	if (ev)
		ev->format = format;
	return ev;
}

void cvm_evidence_free(struct cvm_evidence *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < ev->ncerts; i++)
		free(ev->certs[i].data);
	free(ev->certs);
	free(ev->report);
	free(ev->eventlog);
	free(ev->td_report);
	free(ev->runtime_data.data);
	free(ev);
}

void cvm_evidence_take_report(struct cvm_evidence *ev, uint8_t *data, size_t len)
{
	free(ev->report);
	ev->report = data;
	ev->report_len = len;
	ev->kind = cvm_evidence_detect(data, len);
}

static uint8_t *dup_bytes(const uint8_t *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (copy && len)
		memcpy(copy, data, len);
	return copy;
}

int cvm_evidence_set_report(struct cvm_evidence *ev, const uint8_t *data, size_t len,
			    struct cvm_error *err)
{
	uint8_t *copy = dup_bytes(data, len);
	if (!copy)
		return cvm_error_set(err, -ENOMEM, "evidence: out of memory");
	cvm_evidence_take_report(ev, copy, len);
	return 0;
}

int cvm_evidence_add_blob(struct cvm_evidence *ev, const uint8_t *data, size_t len,
			  const char *name, bool crl, struct cvm_error *err)
{
	if (ev->ncerts == CVM_EVIDENCE_MAX_CERTS)
		return cvm_error_set(err, -EINVAL, "more than %u certificates",
				     CVM_EVIDENCE_MAX_CERTS);
	if (!ev->certs) {
		ev->certs = calloc(CVM_EVIDENCE_MAX_CERTS, sizeof(*ev->certs));
		if (!ev->certs)
			return cvm_error_set(err, -ENOMEM, "evidence: out of memory");
	}
	struct cvm_evidence_blob *b = &ev->certs[ev->ncerts];
	b->data = dup_bytes(data, len);
	if (!b->data)
		return cvm_error_set(err, -ENOMEM, "evidence: out of memory");
	b->len = len;
	b->crl = crl;
	snprintf(b->name, sizeof(b->name), "%s", name);
	ev->ncerts++;
	return 0;
}

/* ---- the GHCB certificate table (GHCB spec 4.1.8.1; GUIDs in RFC 4122 byte order) ---------- */

static const struct {
	uint8_t guid[16];
	const char *name;
	bool crl;
} ghcb_guids[] = {
	{{0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0,
	  0xae},
	 "ARK", false},
	{{0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7,
	  0x82},
	 "ASK", false},
	{{0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac,
	  0xcd},
	 "VCEK", false},
	{{0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8,
	  0xa1},
	 "VLEK", false},
	{{0x92, 0xf8, 0x1b, 0xc3, 0x58, 0x11, 0x4d, 0x3d, 0x97, 0xff, 0xd1, 0x9f, 0x88, 0xdc, 0x67,
	  0xea},
	 "CRL", true},
};

static void guid_text(const uint8_t g[16], char out[37])
{
	static const size_t dash[] = {4, 6, 8, 10};
	size_t o = 0, d = 0;
	for (size_t i = 0; i < 16; i++) {
		if (d < CVM_ARRAY_SIZE(dash) && i == dash[d]) {
			out[o++] = '-';
			d++;
		}
		cvm_hex_encode(g + i, 1, out + o);
		o += 2;
	}
	out[o] = '\0';
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

int cvm_evidence_read_cert_table(struct cvm_evidence *ev, const uint8_t *data, size_t len,
				 const char *what, struct cvm_error *err)
{
	/* The header: entries up to and including the all-zero terminator. */
	size_t nentries = 0;
	for (;; nentries++) {
		size_t at = nentries * CVM_GHCB_CERT_ENTRY_SIZE;
		if (!cvm_range_ok(at, CVM_GHCB_CERT_ENTRY_SIZE, len))
			return cvm_error_set(err, -EINVAL,
					     "%s: certificate table of %zu bytes has no all-zero "
					     "terminating entry after %zu entries",
					     what, len, nentries);
		if (all_zero(data + at, CVM_GHCB_CERT_ENTRY_SIZE))
			break;
		if (nentries == CVM_EVIDENCE_MAX_CERTS)
			return cvm_error_set(err, -EINVAL, "%s: more than %u certificate table entries",
					     what, CVM_EVIDENCE_MAX_CERTS);
	}
	size_t header = (nentries + 1) * CVM_GHCB_CERT_ENTRY_SIZE;
	for (size_t i = 0; i < nentries; i++) {
		const uint8_t *e = data + i * CVM_GHCB_CERT_ENTRY_SIZE;
		uint32_t off = cvm_le32(e + 16), n = cvm_le32(e + 20);
		char name[48];
		guid_text(e, name);
		bool crl = false;
		for (size_t g = 0; g < CVM_ARRAY_SIZE(ghcb_guids); g++) {
			if (memcmp(e, ghcb_guids[g].guid, 16) == 0) {
				snprintf(name, sizeof(name), "%s", ghcb_guids[g].name);
				crl = ghcb_guids[g].crl;
			}
		}
		if (off < header || !cvm_range_ok(off, n, len))
			return cvm_error_set(err, -EINVAL,
					     "%s: certificate table entry %zu (%s): %u bytes at offset "
					     "%u are outside the table data (%zu..%zu)",
					     what, i, name, n, off, header, len);
		if (n == 0)
			continue;
		int rc = cvm_evidence_add_blob(ev, data + off, n, name, crl, err);
		if (rc)
			return rc == -ENOMEM ? rc : cvm_error_wrap(err, "%s", what);
	}
	return 0;
}

int cvm_evidence_cert_table(const uint8_t *data, size_t len, struct cvm_evidence **out,
			    struct cvm_error *err)
{
	struct cvm_evidence *ev = cvm_evidence_alloc(CVM_EVIDENCE_FORMAT_CERT_TABLE);
	if (!ev)
		return cvm_error_set(err, -ENOMEM, "evidence: out of memory");
	int rc = len >= CVM_GHCB_CERT_ENTRY_SIZE
			 ? cvm_evidence_read_cert_table(ev, data, len, "cert-table", err)
			 : cvm_error_set(err, -EINVAL, "cert-table: %zu bytes is shorter than one entry",
					 len);
	if (!rc && ev->ncerts == 0)
		rc = cvm_error_set(err, -EINVAL, "cert-table: the table is empty");
	if (rc) {
		cvm_evidence_free(ev);
		return rc;
	}
	*out = ev;
	return 0;
}

/* ---- building a table ----------------------------------------------------------------------- */

/* The ghcb_guids row of each cvm_ghcb_cert_kind. */
static const size_t kind_row[] = {
	[CVM_GHCB_CERT_ARK] = 0, [CVM_GHCB_CERT_ASK] = 1, [CVM_GHCB_CERT_VCEK] = 2,
	[CVM_GHCB_CERT_VLEK] = 3,
};

const char *cvm_ghcb_cert_kind_name(enum cvm_ghcb_cert_kind kind)
{
	return (size_t)kind < CVM_ARRAY_SIZE(kind_row) ? ghcb_guids[kind_row[kind]].name : "?";
}

static int table_size(const struct cvm_ghcb_cert *certs, size_t n, size_t *need,
		      struct cvm_error *err)
{
	if (n > CVM_EVIDENCE_MAX_CERTS)
		return cvm_error_set(err, -EINVAL, "certificate table: %zu entries, at most %u", n,
				     CVM_EVIDENCE_MAX_CERTS);
	size_t total = (n + 1) * CVM_GHCB_CERT_ENTRY_SIZE;
	unsigned seen = 0;
	for (size_t i = 0; i < n; i++) {
		const struct cvm_ghcb_cert *c = &certs[i];
		if ((size_t)c->kind >= CVM_ARRAY_SIZE(kind_row))
			return cvm_error_set(err, -EINVAL, "certificate table: entry %zu has kind %d",
					     i, (int)c->kind);
		const char *name = cvm_ghcb_cert_kind_name(c->kind);
		if (seen >> c->kind & 1)
			return cvm_error_set(err, -EINVAL, "certificate table: %s given twice", name);
		seen |= 1u << c->kind;
		if (!c->len || c->len > CVM_GHCB_CERT_MAX)
			return cvm_error_set(err, -EINVAL,
					     "certificate table: the %s is %zu bytes (1..%u)", name,
					     c->len, CVM_GHCB_CERT_MAX);
		total += c->len;
	}
	if (total > CVM_GHCB_TABLE_MAX)
		return cvm_error_set(err, -EINVAL, "certificate table: %zu bytes, at most %u", total,
				     CVM_GHCB_TABLE_MAX);
	*need = total;
	return 0;
}

int cvm_ghcb_cert_table_build(const struct cvm_ghcb_cert *certs, size_t n, uint8_t *out,
			      size_t cap, size_t *need, struct cvm_error *err)
{
	size_t total = 0;
	int rc = table_size(certs, n, &total, err);
	if (rc)
		return rc;
	*need = total;
	if (total > cap)
		return cvm_error_set(err, -ENOSPC, "certificate table: %zu bytes, the buffer has %zu",
				     total, cap);
	size_t at = (n + 1) * CVM_GHCB_CERT_ENTRY_SIZE;
	memset(out, 0, at);
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = out + i * CVM_GHCB_CERT_ENTRY_SIZE;
		memcpy(e, ghcb_guids[kind_row[certs[i].kind]].guid, 16);
		cvm_put_le32(e + 16, (uint32_t)at);
		cvm_put_le32(e + 20, (uint32_t)certs[i].len);
		memcpy(out + at, certs[i].data, certs[i].len);
		at += certs[i].len;
	}
	return 0;
}

/* ---- raw evidence --------------------------------------------------------------------------- */

static int read_raw_binary(struct cvm_evidence *ev, const uint8_t *data, size_t len,
			   struct cvm_error *err)
{
	enum cvm_evidence_kind kind = cvm_evidence_detect(data, len);
	if (kind == CVM_EVIDENCE_SNP_REPORT && len > CVM_SNP_REPORT_SIZE) {
		/* The extended guest request: the report, then the certificate table's pages. */
		ev->format = CVM_EVIDENCE_FORMAT_SNP_CERT_TABLE;
		char what[96];
		snprintf(what, sizeof(what), "snp-cert-table: the report is padded with %zu bytes",
			 len - CVM_SNP_REPORT_SIZE);
		int rc = cvm_evidence_read_cert_table(ev, data + CVM_SNP_REPORT_SIZE,
						      len - CVM_SNP_REPORT_SIZE, what, err);
		if (rc)
			return rc;
		len = CVM_SNP_REPORT_SIZE;
	}
	return cvm_evidence_set_report(ev, data, len, err);
}

int cvm_evidence_read_raw(struct cvm_evidence *ev, const uint8_t *data, size_t len,
			  struct cvm_error *err)
{
	if (cvm_evidence_detect(data, len) == CVM_EVIDENCE_UNKNOWN) {
		uint8_t *bin = NULL;
		size_t blen = 0;
		int rc = cvm_evidence_unhex(data, len, &bin, &blen);
		if (rc == -ENOMEM)
			return cvm_error_set(err, rc, "evidence: out of memory");
		if (rc == 0 && cvm_evidence_detect(bin, blen) != CVM_EVIDENCE_UNKNOWN) {
			rc = read_raw_binary(ev, bin, blen, err);
			free(bin);
			return rc;
		}
		free(bin);
		/* Whatever it is, the report parsers say why it is not a report. */
		return cvm_evidence_set_report(ev, data, len, err);
	}
	return read_raw_binary(ev, data, len, err);
}

/* ---- the Azure HCL report ------------------------------------------------------------------- */

#define HCL_HEADER_SIZE 0x20u
#define HCL_HW_REPORT_SIZE CVM_SNP_REPORT_SIZE /* room for the larger of the two reports */
#define HCL_REQUEST_DATA (HCL_HEADER_SIZE + HCL_HW_REPORT_SIZE)
#define HCL_REQUEST_FIXED 20u
#define HCL_REPORT_TYPE_SNP 2u
#define HCL_REPORT_TYPE_TDX 4u

int cvm_evidence_read_hcl(struct cvm_evidence *ev, const uint8_t *data, size_t len,
			  struct cvm_error *err)
{
	if (len < HCL_REQUEST_DATA + HCL_REQUEST_FIXED || memcmp(data, "HCLA", 4) != 0)
		return cvm_error_set(err, -EINVAL,
				     "azure-hcl: %zu bytes, an HCL report has at least %u and starts "
				     "with \"HCLA\"",
				     len, HCL_REQUEST_DATA + HCL_REQUEST_FIXED);
	const uint8_t *req = data + HCL_REQUEST_DATA;
	uint32_t data_size = cvm_le32(req), report_type = cvm_le32(req + 8);
	uint32_t hash_type = cvm_le32(req + 12), var_size = cvm_le32(req + 16);
	size_t var_off = HCL_REQUEST_DATA + HCL_REQUEST_FIXED;
	if (!cvm_range_ok(var_off, var_size, len))
		return cvm_error_set(err, -EINVAL,
				     "azure-hcl: runtime data of %u bytes at 0x%zx runs past the end "
				     "(%zu bytes)",
				     var_size, var_off, len);
	if (data_size != HCL_REQUEST_FIXED + (uint64_t)var_size)
		return cvm_error_set(err, -EINVAL,
				     "azure-hcl: request data size %u is not %u + the runtime data's %u",
				     data_size, HCL_REQUEST_FIXED, var_size);
	static const struct {
		enum cvm_evidence_hash hash;
		size_t len;
	} hashes[] = {
		{CVM_EVIDENCE_HASH_SHA256, 32}, {CVM_EVIDENCE_HASH_SHA384, 48},
		{CVM_EVIDENCE_HASH_SHA512, 64}};
	if (hash_type < 1 || hash_type > CVM_ARRAY_SIZE(hashes))
		return cvm_error_set(err, -EINVAL, "azure-hcl: unknown runtime data hash type %u",
				     hash_type);
	ev->runtime_data.len = var_size;
	ev->runtime_data.hash = hashes[hash_type - 1].hash;
	ev->runtime_data.digest_len = hashes[hash_type - 1].len;

	int rc;
	if (report_type == HCL_REPORT_TYPE_SNP) {
		rc = cvm_evidence_set_report(ev, data + HCL_HEADER_SIZE, CVM_SNP_REPORT_SIZE, err);
		ev->runtime_data.offset = CVM_SNP_REPORT_DATA_OFFSET;
	} else if (report_type == HCL_REPORT_TYPE_TDX) {
		ev->td_report = malloc(CVM_TD_REPORT_SIZE);
		rc = ev->td_report ? 0 : cvm_error_set(err, -ENOMEM, "evidence: out of memory");
		if (!rc) {
			memcpy(ev->td_report, data + HCL_HEADER_SIZE, CVM_TD_REPORT_SIZE);
			ev->td_report_len = CVM_TD_REPORT_SIZE;
		}
		ev->runtime_data.in_td_report = true;
		ev->runtime_data.offset = CVM_TD_REPORT_DATA_OFFSET;
	} else {
		rc = cvm_error_set(err, -EINVAL,
				   "azure-hcl: report type %u is neither SNP (2) nor TDX (4)",
				   report_type);
	}
	if (rc)
		return rc;
	uint8_t *copy = dup_bytes(data + var_off, var_size);
	if (!copy)
		return cvm_error_set(err, -ENOMEM, "evidence: out of memory");
	free(ev->runtime_data.data);
	ev->runtime_data.data = copy;
	return 0;
}

/* ---- detection ------------------------------------------------------------------------------ */

static size_t first_non_space(const uint8_t *data, size_t len)
{
	size_t i = 0;
	/* One UTF-8 byte order mark may precede JSON. */
	if (len >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf)
		i = 3;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	return i;
}

int cvm_evidence_unwrap(const uint8_t *data, size_t len, struct cvm_evidence **out,
			struct cvm_error *err)
{
	if (len > CVM_EVIDENCE_MAX_BYTES)
		return cvm_error_set(err, -EINVAL, "evidence of %zu bytes is larger than the %u accepted",
				     len, CVM_EVIDENCE_MAX_BYTES);
	size_t lead = first_non_space(data, len);
	if (lead < len && (data[lead] == '{' || data[lead] == '[')) {
		size_t bom = data[0] == 0xef ? 3 : 0;
		return cvm_evidence_read_json(data + bom, len - bom, out, err);
	}
	/* A CBOR map (major type 5): no report or quote starts with 0xa0..0xbf. */
	if (len > 0 && (data[0] & 0xe0) == 0xa0)
		return cvm_evidence_read_tsm_cbor(data, len, out, err);

	bool hcl = len >= 4 && memcmp(data, "HCLA", 4) == 0;
	struct cvm_evidence *ev =
		cvm_evidence_alloc(hcl ? CVM_EVIDENCE_FORMAT_AZURE_HCL : CVM_EVIDENCE_FORMAT_RAW);
	if (!ev)
		return cvm_error_set(err, -ENOMEM, "evidence: out of memory");
	int rc = hcl ? cvm_evidence_read_hcl(ev, data, len, err)
		     : cvm_evidence_read_raw(ev, data, len, err);
	if (rc) {
		cvm_evidence_free(ev);
		return rc;
	}
	*out = ev;
	return 0;
}
