/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON evidence wrappers: Trustee's SNP and TDX evidence, Veraison's configfs-tsm JSON and
 * Trustee's Azure (az-snp-vtpm, az-tdx-vtpm) evidence; told apart by their keys.  Trustee's SNP
 * evidence carries the report as the sev crate serialises its AttestationReport: field by field
 * (sev up to 5: _author_key_en, _reserved_*, current_build..; sev 6: key_info, cpuid_*,
 * current/committed {major, minor, build}, *_mit_vector) and TCB versions as objects; the raw
 * report is rebuilt from the fields at their offsets in the ABI layout.  Any misreading shows as
 * a report signature that does not verify, never as a pass.  Also the writers of the JSON forms
 * `cvmkit evidence` leaves behind.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <cvmkit/util.h>

#include "measure/evidence_internal.h"
#include "policy/policy_internal.h"

#define JSON_MAX_DEPTH 16

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* A JSON value's bytes: an array of 0..255 integers, or base64 text (standard or URL-safe). */
static int json_bytes(struct json_object *v, const char *what, uint8_t **out, size_t *n,
		      struct cvm_error *err)
{
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		int rc = cvm_base64_decode(s, (size_t)json_object_get_string_len(v), out, n);
		if (rc == -ENOMEM)
			return cvm_error_set(err, rc, "evidence: out of memory");
		if (rc)
			return cvm_error_set(err, -EINVAL, "%s is not base64 text", what);
		return 0;
	}
	if (!json_object_is_type(v, json_type_array))
		return cvm_error_set(err, -EINVAL, "%s is neither base64 text nor an array of bytes",
				     what);
	size_t len = json_object_array_length(v);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return cvm_error_set(err, -ENOMEM, "evidence: out of memory");
	for (size_t i = 0; i < len; i++) {
		struct json_object *b = json_object_array_get_idx(v, i);
		int64_t x = json_object_is_type(b, json_type_int) ? json_object_get_int64(b) : -1;
		if (x < 0 || x > 255) {
			free(buf);
			return cvm_error_set(err, -EINVAL, "%s[%zu] is not a byte (0..255)", what, i);
		}
		buf[i] = (uint8_t)x;
	}
	*out = buf;
	*n = len;
	return 0;
}

/* Exactly n bytes into out (the sev crate's fixed arrays). */
static int json_fixed_bytes(struct json_object *v, const char *what, uint8_t *out, size_t n,
			    struct cvm_error *err)
{
	uint8_t *buf;
	size_t len;
	int rc = json_bytes(v, what, &buf, &len, err);
	if (rc)
		return rc;
	if (len != n)
		rc = cvm_error_set(err, -EINVAL, "%s has %zu bytes, not %zu", what, len, n);
	else
		memcpy(out, buf, n);
	free(buf);
	return rc;
}

/* A non-negative integer up to max (null, an absent Option, reads as 0). */
static int json_uint(struct json_object *v, const char *what, uint64_t max, uint64_t *out,
		     struct cvm_error *err)
{
	if (!v || json_object_is_type(v, json_type_null)) {
		*out = 0;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return cvm_error_set(err, -EINVAL, "%s is not an integer", what);
	int64_t s = json_object_get_int64(v);
	uint64_t u = s < 0 ? 0 : (uint64_t)s;
	if (s == INT64_MAX)
		u = json_object_get_uint64(v);
	if (s < 0 || u > max)
		return cvm_error_set(err, -EINVAL, "%s is out of range (0..%llu)", what,
				     (unsigned long long)max);
	*out = u;
	return 0;
}

/* ---- the sev crate's AttestationReport ------------------------------------------------------ */

enum sev_field_kind { F_INT, F_BYTES, F_TCB, F_VERSION, F_SIGNATURE };

struct sev_field {
	const char *name;
	uint16_t off;
	uint16_t len;
	uint8_t kind;
};

static const struct sev_field sev_fields[] = {
	{"version", 0x000, 4, F_INT},
	{"guest_svn", 0x004, 4, F_INT},
	{"policy", 0x008, 8, F_INT},
	{"family_id", 0x010, 16, F_BYTES},
	{"image_id", 0x020, 16, F_BYTES},
	{"vmpl", 0x030, 4, F_INT},
	{"sig_algo", 0x034, 4, F_INT},
	{"current_tcb", 0x038, 8, F_TCB},
	{"plat_info", 0x040, 8, F_INT},
	{"_author_key_en", 0x048, 4, F_INT}, /* sev <= 5 */
	{"key_info", 0x048, 4, F_INT},       /* sev 6 */
	{"_reserved_0", 0x04c, 4, F_INT},
	{"report_data", 0x050, 64, F_BYTES},
	{"measurement", 0x090, 48, F_BYTES},
	{"host_data", 0x0c0, 32, F_BYTES},
	{"id_key_digest", 0x0e0, 48, F_BYTES},
	{"author_key_digest", 0x110, 48, F_BYTES},
	{"report_id", 0x140, 32, F_BYTES},
	{"report_id_ma", 0x160, 32, F_BYTES},
	{"reported_tcb", 0x180, 8, F_TCB},
	{"_reserved_1", 0x188, 24, F_BYTES}, /* sev <= 5 */
	{"cpuid_fam_id", 0x188, 1, F_INT},   /* sev 6 */
	{"cpuid_mod_id", 0x189, 1, F_INT},
	{"cpuid_step", 0x18a, 1, F_INT},
	{"chip_id", 0x1a0, 64, F_BYTES},
	{"committed_tcb", 0x1e0, 8, F_TCB},
	{"current_build", 0x1e8, 1, F_INT}, /* sev <= 5 */
	{"current_minor", 0x1e9, 1, F_INT},
	{"current_major", 0x1ea, 1, F_INT},
	{"_reserved_2", 0x1eb, 1, F_INT},
	{"committed_build", 0x1ec, 1, F_INT},
	{"committed_minor", 0x1ed, 1, F_INT},
	{"committed_major", 0x1ee, 1, F_INT},
	{"_reserved_3", 0x1ef, 1, F_INT},
	{"current", 0x1e8, 3, F_VERSION},   /* sev 6 */
	{"committed", 0x1ec, 3, F_VERSION}, /* sev 6 */
	{"launch_tcb", 0x1f0, 8, F_TCB},
	{"_reserved_4", 0x1f8, 168, F_BYTES},      /* sev <= 5 */
	{"launch_mit_vector", 0x1f8, 8, F_INT},    /* sev 6 */
	{"current_mit_vector", 0x200, 8, F_INT},   /* sev 6 */
	{"signature", 0x2a0, 0x200, F_SIGNATURE},
};

static int sev_int(uint8_t *report, const struct sev_field *f, struct json_object *v,
		   struct cvm_error *err)
{
	uint64_t max = f->len == 8 ? UINT64_MAX : (1ull << (8 * f->len)) - 1;
	uint64_t x;
	int rc = json_uint(v, f->name, max, &x, err);
	for (size_t i = 0; !rc && i < f->len; i++)
		report[f->off + i] = (uint8_t)(x >> (8 * i));
	return rc;
}

/*
 * A TcbVersion: sev <= 5 {bootloader, tee, _reserved[4], snp, microcode} in the legacy layout;
 * sev 6 {fmc, bootloader, tee, snp, microcode}, the Turin layout when fmc is set.  A plain
 * integer is the raw u64.
 */
static int sev_tcb(uint8_t *out, const char *what, struct json_object *v, struct cvm_error *err)
{
	uint64_t raw;
	if (json_object_is_type(v, json_type_int)) {
		int rc = json_uint(v, what, UINT64_MAX, &raw, err);
		if (!rc)
			cvm_put_le64(out, raw);
		return rc;
	}
	if (!json_object_is_type(v, json_type_object))
		return cvm_error_set(err, -EINVAL, "%s is neither a TCB version object nor a number",
				     what);
	static const char *const parts[] = {"bootloader", "tee", "snp", "microcode", "fmc"};
	uint64_t val[5];
	for (size_t i = 0; i < 5; i++) {
		char name[64];
		snprintf(name, sizeof(name), "%s.%s", what, parts[i]);
		int rc = json_uint(member(v, parts[i]), name, 255, &val[i], err);
		if (rc)
			return rc;
	}
	struct json_object *fmc = member(v, "fmc");
	bool turin = fmc && !json_object_is_type(fmc, json_type_null);
	memset(out, 0, 8);
	json_object_object_foreach(v, key, unused)
	{
		(void)unused;
		bool known = strcmp(key, "_reserved") == 0;
		for (size_t i = 0; i < 5; i++)
			known |= strcmp(key, parts[i]) == 0;
		if (!known)
			return cvm_error_set(err, -EINVAL, "%s has an unknown field \"%s\"", what, key);
	}
	if (turin) {
		out[0] = (uint8_t)val[4];
		out[1] = (uint8_t)val[0];
		out[2] = (uint8_t)val[1];
		out[3] = (uint8_t)val[2];
	} else {
		out[0] = (uint8_t)val[0];
		out[1] = (uint8_t)val[1];
		struct json_object *rsv = member(v, "_reserved");
		if (rsv) {
			char name[64];
			snprintf(name, sizeof(name), "%s._reserved", what);
			int rc = json_fixed_bytes(rsv, name, out + 2, 4, err);
			if (rc)
				return rc;
		}
		out[6] = (uint8_t)val[2];
	}
	out[7] = (uint8_t)val[3];
	return 0;
}

static int sev_version(uint8_t *out, const char *what, struct json_object *v,
		       struct cvm_error *err)
{
	static const char *const parts[] = {"build", "minor", "major"}; /* in byte order */
	if (!json_object_is_type(v, json_type_object))
		return cvm_error_set(err, -EINVAL, "%s is not a {major, minor, build} object", what);
	for (size_t i = 0; i < 3; i++) {
		char name[64];
		uint64_t x;
		snprintf(name, sizeof(name), "%s.%s", what, parts[i]);
		int rc = json_uint(member(v, parts[i]), name, 255, &x, err);
		if (rc)
			return rc;
		out[i] = (uint8_t)x;
	}
	return 0;
}

static int sev_signature(uint8_t *out, struct json_object *v, struct cvm_error *err)
{
	struct json_object *r = member(v, "r"), *s = member(v, "s"), *rsv = member(v, "_reserved");
	if (!json_object_is_type(v, json_type_object) || !r || !s)
		return cvm_error_set(err, -EINVAL, "signature is not an {r, s} object");
	int rc = json_fixed_bytes(r, "signature.r", out, 72, err);
	if (!rc)
		rc = json_fixed_bytes(s, "signature.s", out + 72, 72, err);
	if (!rc && rsv)
		rc = json_fixed_bytes(rsv, "signature._reserved", out + 144, 0x200 - 144, err);
	return rc;
}

static int sev_field(uint8_t *report, const struct sev_field *f, struct json_object *v,
		     struct cvm_error *err)
{
	switch (f->kind) {
	case F_INT:
		return sev_int(report, f, v, err);
	case F_BYTES:
		return json_fixed_bytes(v, f->name, report + f->off, f->len, err);
	case F_TCB:
		return sev_tcb(report + f->off, f->name, v, err);
	case F_VERSION:
		return sev_version(report + f->off, f->name, v, err);
	default:
		return sev_signature(report + f->off, v, err);
	}
}

static int sev_report_from_fields(struct json_object *o, uint8_t *report, struct cvm_error *err)
{
	memset(report, 0, CVM_SNP_REPORT_SIZE);
	if (!member(o, "version") || !member(o, "signature"))
		return cvm_error_set(err, -EINVAL, "it has no version or no signature field");
	json_object_object_foreach(o, key, val)
	{
		const struct sev_field *f = NULL;
		for (size_t i = 0; i < CVM_ARRAY_SIZE(sev_fields) && !f; i++)
			if (strcmp(sev_fields[i].name, key) == 0)
				f = &sev_fields[i];
		if (!f)
			return cvm_error_set(err, -EINVAL, "unknown field \"%s\"", key);
		int rc = sev_field(report, f, val, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- Trustee's SNP evidence ----------------------------------------------------------------- */

/* sev's CertType: "ARK", "ASK", "VCEK", "VLEK", "CRL", "Empty", or {"OTHER": "guid"}. */
static int cert_type_name(struct json_object *t, char *name, size_t n, bool *crl, bool *empty)
{
	*crl = *empty = false;
	if (json_object_is_type(t, json_type_object)) {
		struct json_object *other = member(t, "OTHER");
		if (!other || !json_object_is_type(other, json_type_string))
			return -EINVAL;
		snprintf(name, n, "%s", json_object_get_string(other));
		return 0;
	}
	if (!json_object_is_type(t, json_type_string))
		return -EINVAL;
	const char *s = json_object_get_string(t);
	*crl = strcmp(s, "CRL") == 0;
	*empty = strcmp(s, "Empty") == 0;
	snprintf(name, n, "%s", s);
	return 0;
}

static int trustee_cert_chain(struct cvm_evidence *ev, struct json_object *chain,
			      struct cvm_error *err)
{
	if (!chain || json_object_is_type(chain, json_type_null))
		return 0;
	if (!json_object_is_type(chain, json_type_array))
		return cvm_error_set(err, -EINVAL, "trustee-snp: cert_chain is not an array");
	size_t n = json_object_array_length(chain);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(chain, i);
		struct json_object *type = member(e, "cert_type"), *data = member(e, "data");
		char name[48], what[64];
		bool crl, empty;
		if (!type || !data || cert_type_name(type, name, sizeof(name), &crl, &empty))
			return cvm_error_set(err, -EINVAL,
					     "trustee-snp: cert_chain[%zu] is not a {cert_type, data} "
					     "entry",
					     i);
		if (empty)
			continue;
		snprintf(what, sizeof(what), "trustee-snp: cert_chain[%zu].data", i);
		uint8_t *buf;
		size_t len;
		int rc = json_bytes(data, what, &buf, &len, err);
		if (rc)
			return rc;
		rc = cvm_evidence_add_blob(ev, buf, len, name, crl, err);
		free(buf);
		if (rc)
			return rc == -ENOMEM ? rc : cvm_error_wrap(err, "trustee-snp: cert_chain");
	}
	return 0;
}

static int read_trustee_snp(struct cvm_evidence *ev, struct json_object *root,
			    struct cvm_error *err)
{
	struct json_object *rep = member(root, "attestation_report");
	int rc;
	if (json_object_is_type(rep, json_type_object)) {
		uint8_t *report = malloc(CVM_SNP_REPORT_SIZE);
		if (!report)
			return cvm_error_set(err, -ENOMEM, "evidence: out of memory");
		rc = sev_report_from_fields(rep, report, err);
		if (rc) {
			free(report);
			return rc == -ENOMEM ? rc : cvm_error_wrap(err, "trustee-snp: attestation_report");
		}
		cvm_evidence_take_report(ev, report, CVM_SNP_REPORT_SIZE);
	} else {
		uint8_t *buf;
		size_t len;
		rc = json_bytes(rep, "trustee-snp: attestation_report", &buf, &len, err);
		if (rc)
			return rc;
		cvm_evidence_take_report(ev, buf, len);
	}
	return trustee_cert_chain(ev, member(root, "cert_chain"), err);
}

/* ---- Trustee's TDX evidence ----------------------------------------------------------------- */

static int read_trustee_tdx(struct cvm_evidence *ev, struct json_object *root,
			    struct cvm_error *err)
{
	uint8_t *buf;
	size_t len;
	int rc = json_bytes(member(root, "quote"), "trustee-tdx: quote", &buf, &len, err);
	if (rc)
		return rc;
	cvm_evidence_take_report(ev, buf, len);
	struct json_object *log = member(root, "cc_eventlog");
	if (!log || json_object_is_type(log, json_type_null))
		return 0;
	rc = json_bytes(log, "trustee-tdx: cc_eventlog", &ev->eventlog, &ev->eventlog_len, err);
	return rc;
}

/* ---- Veraison's configfs-tsm JSON ----------------------------------------------------------- */

static int optional_bytes(struct json_object *root, const char *key, const char *what,
			  uint8_t **out, size_t *n, struct cvm_error *err)
{
	struct json_object *v = member(root, key);
	*out = NULL;
	*n = 0;
	if (!v || json_object_is_type(v, json_type_null))
		return 0;
	return json_bytes(v, what, out, n, err);
}

static int read_tsm_json(struct cvm_evidence *ev, struct json_object *root,
			 struct cvm_error *err)
{
	struct json_object *prov = member(root, "provider");
	if (!prov || !json_object_is_type(prov, json_type_string))
		return cvm_error_set(err, -EINVAL, "tsm-json: no \"provider\" text");
	uint8_t *out = NULL, *aux = NULL;
	size_t out_len = 0, aux_len = 0;
	int rc = json_bytes(member(root, "outblob"), "tsm-json: outblob", &out, &out_len, err);
	if (!rc)
		rc = optional_bytes(root, "auxblob", "tsm-json: auxblob", &aux, &aux_len, err);
	if (!rc)
		rc = cvm_evidence_read_tsm(ev, json_object_get_string(prov), out, out_len, aux,
					   aux_len, err);
	free(out);
	free(aux);
	return rc;
}

/* ---- Trustee's Azure evidence --------------------------------------------------------------- */

static int read_hcl_member(struct cvm_evidence *ev, struct json_object *v, const char *what,
			   struct cvm_error *err)
{
	uint8_t *hcl;
	size_t len;
	int rc = json_bytes(v, what, &hcl, &len, err);
	if (rc)
		return rc;
	rc = cvm_evidence_read_hcl(ev, hcl, len, err);
	free(hcl);
	return rc;
}

static int read_azure_snp(struct cvm_evidence *ev, struct json_object *root,
			  struct cvm_error *err)
{
	/* v0: "report" (bytes) and "vcek" (PEM text); v1, v2: "hcl_report" and "vcek" base64url. */
	struct json_object *hcl = member(root, "hcl_report");
	bool v0 = !hcl;
	int rc = read_hcl_member(ev, v0 ? member(root, "report") : hcl,
				 v0 ? "azure-snp-json: report" : "azure-snp-json: hcl_report", err);
	if (rc)
		return rc;
	if (ev->kind != CVM_EVIDENCE_SNP_REPORT)
		return cvm_error_set(err, -EINVAL, "azure-snp-json: the HCL report carries no SNP report");
	struct json_object *vcek = member(root, "vcek");
	if (!vcek || json_object_is_type(vcek, json_type_null))
		return 0;
	if (v0) {
		if (!json_object_is_type(vcek, json_type_string))
			return cvm_error_set(err, -EINVAL, "azure-snp-json: vcek is not PEM text");
		return cvm_evidence_add_blob(ev, (const uint8_t *)json_object_get_string(vcek),
					     (size_t)json_object_get_string_len(vcek), "VCEK", false,
					     err);
	}
	uint8_t *buf;
	size_t len;
	rc = json_bytes(vcek, "azure-snp-json: vcek", &buf, &len, err);
	if (rc)
		return rc;
	rc = cvm_evidence_add_blob(ev, buf, len, "VCEK", false, err);
	free(buf);
	return rc;
}

static int read_azure_tdx(struct cvm_evidence *ev, struct json_object *root,
			  struct cvm_error *err)
{
	int rc = read_hcl_member(ev, member(root, "hcl_report"), "azure-tdx-json: hcl_report", err);
	if (rc)
		return rc;
	if (!ev->td_report)
		return cvm_error_set(err, -EINVAL, "azure-tdx-json: the HCL report carries no TD report");
	uint8_t *quote;
	size_t len;
	rc = json_bytes(member(root, "td_quote"), "azure-tdx-json: td_quote", &quote, &len, err);
	if (rc)
		return rc;
	cvm_evidence_take_report(ev, quote, len);
	/* The signed quote carries the TD report's REPORTDATA: the binding is checked there. */
	ev->runtime_data.in_td_report = false;
	ev->runtime_data.offset = cvm_evidence_quote_report_data_offset(quote, len);
	if (ev->runtime_data.offset == 0)
		return cvm_error_set(err, -EINVAL, "azure-tdx-json: td_quote is not a TDX quote v4/v5");
	return 0;
}

/* ---- detection by keys ---------------------------------------------------------------------- */

int cvm_evidence_read_json(const uint8_t *data, size_t len, struct cvm_evidence **out,
			   struct cvm_error *err)
{
	if (len > INT_MAX)
		return cvm_error_set(err, -EINVAL, "JSON evidence: too large");
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok)
		return cvm_error_set(err, -ENOMEM, "evidence: out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *root = json_tokener_parse_ex(tok, (const char *)data, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (root && end < len && (data[end] == ' ' || data[end] == '\n' || data[end] == '\r' ||
				     data[end] == '\t'))
		end++;
	if (!root || jerr != json_tokener_success || end != len ||
	    !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return cvm_error_set(err, -EINVAL, "JSON evidence: not one JSON object (%s at byte %zu)",
				     jerr != json_tokener_success ? json_tokener_error_desc(jerr)
								  : "trailing data",
				     end);
	}
	enum cvm_evidence_format fmt;
	int (*reader)(struct cvm_evidence *, struct json_object *, struct cvm_error *);
	struct json_object *quote = member(root, "quote");
	if (member(root, "attestation_report")) {
		fmt = CVM_EVIDENCE_FORMAT_TRUSTEE_SNP, reader = read_trustee_snp;
	} else if (member(root, "outblob")) {
		fmt = CVM_EVIDENCE_FORMAT_TSM_JSON, reader = read_tsm_json;
	} else if (member(root, "td_quote")) {
		fmt = CVM_EVIDENCE_FORMAT_AZURE_TDX_JSON, reader = read_azure_tdx;
	} else if (member(root, "hcl_report") || (member(root, "report") && member(root, "vcek"))) {
		fmt = CVM_EVIDENCE_FORMAT_AZURE_SNP_JSON, reader = read_azure_snp;
	} else if (quote && json_object_is_type(quote, json_type_string)) {
		fmt = CVM_EVIDENCE_FORMAT_TRUSTEE_TDX, reader = read_trustee_tdx;
	} else {
		json_object_put(root);
		return cvm_error_set(err, -EINVAL,
				     "JSON evidence of no known kind: expected Trustee's "
				     "(attestation_report, quote), Veraison's (outblob) or Azure's "
				     "(hcl_report) keys");
	}
	struct cvm_evidence *ev = cvm_evidence_alloc(fmt);
	int rc = ev ? reader(ev, root, err) : cvm_error_set(err, -ENOMEM, "evidence: out of memory");
	json_object_put(root);
	if (rc) {
		cvm_evidence_free(ev);
		return rc;
	}
	*out = ev;
	return 0;
}

/* ---- writers -------------------------------------------------------------------------------- */

/* base64url without padding (RFC 4648 §5), as Veraison writes binary strings. */
static struct json_object *b64url(const uint8_t *data, size_t len)
{
	char *s = cvm_base64_encode(data, len);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	while (n && s[n - 1] == '=')
		s[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		s[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
	struct json_object *o = json_object_new_string_len(s, (int)n);
	free(s);
	return o;
}

static struct json_object *b64std(const uint8_t *data, size_t len)
{
	char *s = cvm_base64_encode(data, len);
	struct json_object *o = s ? json_object_new_string(s) : NULL;
	free(s);
	return o;
}

static bool put(struct json_object *o, const char *key, struct json_object *v)
{
	return v && json_object_object_add(o, key, v) == 0;
}

static int finish(struct json_object *o, bool ok, uint8_t **out, size_t *out_len,
		  struct cvm_error *err)
{
	int rc = ok ? cvm_json_to_text(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
				       out, out_len)
		    : -ENOMEM;
	json_object_put(o);
	return rc ? cvm_error_set(err, -ENOMEM, "evidence: out of memory") : 0;
}

int cvm_evidence_tsm_json(const struct cvm_tsm_blobs *b, uint8_t **out, size_t *out_len,
			  struct cvm_error *err)
{
	if (!b->outblob || !b->outblob_len || !b->provider)
		return cvm_error_set(err, -EINVAL, "tsm-json: no outblob or no provider");
	struct json_object *o = json_object_new_object();
	bool ok = o && put(o, "outblob", b64url(b->outblob, b->outblob_len)) &&
		  put(o, "provider", json_object_new_string(b->provider));
	if (ok && b->auxblob_len)
		ok = put(o, "auxblob", b64url(b->auxblob, b->auxblob_len));
	if (ok && b->manifestblob_len && b->service_provider)
		ok = put(o, "manifestblob", b64url(b->manifestblob, b->manifestblob_len)) &&
		     put(o, "service_provider", json_object_new_string(b->service_provider));
	return finish(o, ok, out, out_len, err);
}

int cvm_evidence_trustee_tdx_json(const uint8_t *quote, size_t quote_len,
				  const uint8_t *eventlog, size_t eventlog_len, uint8_t **out,
				  size_t *out_len, struct cvm_error *err)
{
	struct json_object *o = json_object_new_object();
	bool ok = o;
	if (ok && eventlog)
		ok = put(o, "cc_eventlog", b64std(eventlog, eventlog_len));
	ok = ok && put(o, "quote", b64std(quote, quote_len));
	return finish(o, ok, out, out_len, err);
}
