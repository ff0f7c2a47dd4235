/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: the evidence wrappers (measure/evidence*.c) on the real Azure and Trustee
 * vectors, on wrappers built here around the real reports and quotes (Trustee's SNP JSON in
 * both sev crate layouts, Veraison's tsm-report, an SNP report with its GHCB certificate
 * table), and on hostile inputs: every length and offset pointing elsewhere than it should.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <json-c/json.h>

#include <cvmkit/evidence.h>
#include <cvmkit/util.h>
#include <cvmkit/verify.h>

#include "measure/evidence_internal.h"
#include "tests/unit/helper_vectors.h"

#define BUF_MAX (64u * 1024u)
#define TRUSTEE "attest/confidential-containers-trustee/"

struct blob {
	uint8_t data[BUF_MAX];
	size_t len;
};

static struct blob *load(const char *rel)
{
	struct blob *b = malloc(sizeof(*b));
	assert_non_null(b);
	b->len = cvm_test_vector_load(rel, b->data, sizeof(b->data));
	return b;
}

static struct cvm_evidence *unwrap_ok(const uint8_t *data, size_t len)
{
	struct cvm_evidence *ev = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	if (cvm_evidence_unwrap(data, len, &ev, &err) != 0)
		fail_msg("unwrap: %s", err.msg);
	return ev;
}

/* Unwrapping fails with -EINVAL and a message containing needle. */
static void unwrap_fails(const uint8_t *data, size_t len, const char *needle)
{
	struct cvm_evidence *ev = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_evidence_unwrap(data, len, &ev, &err), -EINVAL);
	assert_null(ev);
	if (!strstr(err.msg, needle))
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, needle);
}

static void assert_binding_holds(const struct cvm_evidence *ev)
{
	const struct cvm_evidence_binding *b = &ev->runtime_data;
	assert_non_null(b->data);
	assert_int_equal(b->hash, CVM_EVIDENCE_HASH_SHA256);
	assert_int_equal(b->digest_len, 32);
	uint8_t d[32];
	assert_int_equal(cvm_sha256(b->data, b->len, d, NULL), 0);
	const uint8_t *target = b->in_td_report ? ev->td_report : ev->report;
	size_t target_len = b->in_td_report ? ev->td_report_len : ev->report_len;
	assert_true(cvm_range_ok(b->offset, 32, target_len));
	assert_memory_equal(target + b->offset, d, 32);
}

/* ---- Azure ---------------------------------------------------------------------------------- */

static void azure_snp_hcl_report(void **state)
{
	(void)state;
	struct blob *b = load(TRUSTEE "az-snp-vtpm/hcl-report.bin");
	struct cvm_evidence *ev = unwrap_ok(b->data, b->len);
	assert_int_equal(ev->format, CVM_EVIDENCE_FORMAT_AZURE_HCL);
	assert_string_equal(cvm_evidence_format_name(ev->format), "azure-hcl");
	assert_int_equal(ev->kind, CVM_EVIDENCE_SNP_REPORT);
	assert_int_equal(ev->report_len, CVM_SNP_REPORT_SIZE);
	assert_memory_equal(ev->report, b->data + 0x20, CVM_SNP_REPORT_SIZE);
	assert_int_equal(ev->runtime_data.offset, 0x50);
	assert_int_equal(ev->runtime_data.len, 1110);
	assert_memory_equal(ev->runtime_data.data, "{\"keys\":[", 9);
	assert_false(ev->runtime_data.in_td_report);
	assert_binding_holds(ev);
	assert_int_equal(ev->ncerts, 0);
	cvm_evidence_free(ev);
	free(b);
}

static void azure_tdx_hcl_report(void **state)
{
	(void)state;
	struct blob *b = load(TRUSTEE "az-tdx-vtpm/hcl-report.bin");
	struct cvm_evidence *ev = unwrap_ok(b->data, b->len);
	assert_int_equal(ev->format, CVM_EVIDENCE_FORMAT_AZURE_HCL);
	assert_int_equal(ev->kind, CVM_EVIDENCE_UNKNOWN); /* a TD report is no signed evidence */
	assert_null(ev->report);
	assert_int_equal(ev->td_report_len, 1024);
	assert_true(ev->runtime_data.in_td_report);
	assert_int_equal(ev->runtime_data.offset, 128);
	assert_binding_holds(ev);
	cvm_evidence_free(ev);
	free(b);
}

static void azure_tdx_evidence_json(void **state)
{
	(void)state;
	struct blob *b = load(TRUSTEE "az-tdx-vtpm/evidence-v1.json");
	struct blob *q = load(TRUSTEE "az-tdx-vtpm/td-quote.bin");
	struct cvm_evidence *ev = unwrap_ok(b->data, b->len);
	assert_int_equal(ev->format, CVM_EVIDENCE_FORMAT_AZURE_TDX_JSON);
	assert_int_equal(ev->kind, CVM_EVIDENCE_TDX_QUOTE);
	assert_int_equal(ev->report_len, q->len);
	assert_memory_equal(ev->report, q->data, q->len);
	assert_int_equal(ev->td_report_len, 1024);
	/* Bound into the quote's REPORTDATA, which the TD report shares. */
	assert_false(ev->runtime_data.in_td_report);
	assert_int_equal(ev->runtime_data.offset, 48 + 0x208);
	assert_binding_holds(ev);
	assert_memory_equal(ev->td_report + 128, ev->report + ev->runtime_data.offset, 64);
	cvm_evidence_free(ev);
	free(q);
	free(b);
}

static void azure_snp_evidence_json_v0(void **state)
{
	(void)state;
	struct blob *b = load(TRUSTEE "az-snp-vtpm/evidence-v0.json");
	struct cvm_evidence *ev = unwrap_ok(b->data, b->len);
	assert_int_equal(ev->format, CVM_EVIDENCE_FORMAT_AZURE_SNP_JSON);
	assert_int_equal(ev->kind, CVM_EVIDENCE_SNP_REPORT);
	assert_int_equal(cvm_le32(ev->report), 3); /* Milan v3 */
	assert_binding_holds(ev);
	assert_int_equal(ev->ncerts, 1);
	assert_string_equal(ev->certs[0].name, "VCEK");
	assert_non_null(strstr((const char *)ev->certs[0].data, "BEGIN CERTIFICATE"));
	cvm_evidence_free(ev);
	free(b);
}

/* The same HCL report in the v1 shape (base64url, the VCEK as base64url of its PEM). */
static void azure_snp_evidence_json_v1(void **state)
{
	(void)state;
	struct blob *hcl = load(TRUSTEE "az-snp-vtpm/hcl-report.bin");
	struct blob *vcek = load(TRUSTEE "az-snp-vtpm/vcek.pem");
	char *h = cvm_base64_encode(hcl->data, hcl->len), *v = cvm_base64_encode(vcek->data, vcek->len);
	for (char *p = h; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	size_t cap = strlen(h) + strlen(v) + 200;
	char *json = malloc(cap);
	snprintf(json, cap, "{\"version\":1,\"tpm_quote\":{},\"hcl_report\":\"%s\",\"vcek\":\"%s\"}", h, v);
	struct cvm_evidence *ev = unwrap_ok((const uint8_t *)json, strlen(json));
	assert_int_equal(ev->format, CVM_EVIDENCE_FORMAT_AZURE_SNP_JSON);
	assert_memory_equal(ev->report, hcl->data + 0x20, CVM_SNP_REPORT_SIZE);
	assert_int_equal(ev->ncerts, 1);
	assert_int_equal(ev->certs[0].len, vcek->len);
	assert_binding_holds(ev);
	cvm_evidence_free(ev);
	free(json);
	free(h);
	free(v);
	free(vcek);
	free(hcl);
}

static void hostile_hcl_reports(void **state)
{
	(void)state;
	struct blob *b = load(TRUSTEE "az-snp-vtpm/hcl-report.bin");
	struct blob *m = malloc(sizeof(*m));
	/* Truncated before the request data. */
	unwrap_fails(b->data, 0x4c0, "an HCL report has at least");
	/* The runtime data claims more than there is, or wraps around. */
	uint32_t sizes[] = {0x10000, 0xffffffffu, 0xfffffff0u};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(sizes); i++) {
		*m = *b;
		cvm_put_le32(m->data + 0x4c0 + 16, sizes[i]);
		unwrap_fails(m->data, m->len, "runs past the end");
	}
	/* The request data size disagrees with the runtime data's. */
	*m = *b;
	cvm_put_le32(m->data + 0x4c0, 7);
	unwrap_fails(m->data, m->len, "request data size 7");
	/* Unknown report and hash types. */
	*m = *b;
	cvm_put_le32(m->data + 0x4c0 + 8, 3);
	unwrap_fails(m->data, m->len, "report type 3");
	*m = *b;
	cvm_put_le32(m->data + 0x4c0 + 12, 9);
	unwrap_fails(m->data, m->len, "hash type 9");
	/* A changed runtime-data byte still unwraps; the binding no longer holds. */
	*m = *b;
	m->data[0x4d4 + 20] ^= 1;
	struct cvm_evidence *ev = unwrap_ok(m->data, m->len);
	uint8_t d[32];
	assert_int_equal(cvm_sha256(ev->runtime_data.data, ev->runtime_data.len, d, NULL), 0);
	assert_memory_not_equal(ev->report + 0x50, d, 32);
	cvm_evidence_free(ev);
	free(m);
	free(b);
}

/* ---- an SNP report and its GHCB certificate table ------------------------------------------- */

static const uint8_t vcek_guid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
				      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t ask_guid[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
				     0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t other_guid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

struct table_entry {
	const uint8_t *guid;
	const uint8_t *data;
	size_t len;
};

/* A GHCB certificate table (entries, the zero terminator, the data), padded to pad bytes. */
static size_t build_table(uint8_t *out, size_t cap, const struct table_entry *e, size_t n,
			  size_t pad)
{
	size_t header = (n + 1) * 24, off = header;
	memset(out, 0, cap);
	for (size_t i = 0; i < n; i++) {
		memcpy(out + 24 * i, e[i].guid, 16);
		cvm_put_le32(out + 24 * i + 16, (uint32_t)off);
		cvm_put_le32(out + 24 * i + 20, (uint32_t)e[i].len);
		assert_true(off + e[i].len <= cap);
		memcpy(out + off, e[i].data, e[i].len);
		off += e[i].len;
	}
	return off > pad ? off : pad;
}

static void report_with_cert_table(void **state)
{
	(void)state;
	struct blob *r = load(TRUSTEE "snp/test-report.bin");
	struct blob *vcek = load(TRUSTEE "snp/test-vcek.der");
	struct blob *ext = load(TRUSTEE "vendor-certs/milan_ask_ark_asvk.pem");
	struct blob *all = malloc(sizeof(*all));
	memcpy(all->data, r->data, r->len);
	struct table_entry e[] = {{vcek_guid, vcek->data, vcek->len},
				  {ask_guid, ext->data, ext->len},
				  {other_guid, (const uint8_t *)"x", 1}};
	all->len = r->len + build_table(all->data + r->len, sizeof(all->data) - r->len, e, 3,
					4 * 4096);
	struct cvm_evidence *ev = unwrap_ok(all->data, all->len);
	assert_int_equal(ev->format, CVM_EVIDENCE_FORMAT_SNP_CERT_TABLE);
	assert_int_equal(ev->kind, CVM_EVIDENCE_SNP_REPORT);
	assert_int_equal(ev->report_len, CVM_SNP_REPORT_SIZE);
	assert_memory_equal(ev->report, r->data, r->len);
	assert_int_equal(ev->ncerts, 3);
	assert_string_equal(ev->certs[0].name, "VCEK");
	assert_int_equal(ev->certs[0].len, vcek->len);
	assert_memory_equal(ev->certs[0].data, vcek->data, vcek->len);
	assert_string_equal(ev->certs[1].name, "ASK");
	assert_string_equal(ev->certs[2].name, "01020304-0506-0708-090a-0b0c0d0e0f10");
	assert_false(ev->certs[0].crl);
	cvm_evidence_free(ev);

	/* As hex text too. */
	char *hex = malloc(2 * all->len + 1);
	cvm_hex_encode(all->data, all->len, hex);
	ev = unwrap_ok((const uint8_t *)hex, strlen(hex));
	assert_int_equal(ev->format, CVM_EVIDENCE_FORMAT_SNP_CERT_TABLE);
	assert_int_equal(ev->ncerts, 3);
	cvm_evidence_free(ev);
	free(hex);

	/* A bare table, as --certs reads it. */
	struct cvm_error err;
	assert_int_equal(cvm_evidence_cert_table(all->data + r->len, all->len - r->len, &ev, &err), 0);
	assert_int_equal(ev->format, CVM_EVIDENCE_FORMAT_CERT_TABLE);
	assert_null(ev->report);
	assert_int_equal(ev->ncerts, 3);
	cvm_evidence_free(ev);
	uint8_t zeros[48] = {0};
	assert_int_equal(cvm_evidence_cert_table(zeros, sizeof(zeros), &ev, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "empty"));
	assert_int_equal(cvm_evidence_cert_table(vcek->data, vcek->len, &ev, &err), -EINVAL);

	/* An empty table (zero pages) after the report: no certificates. */
	memset(all->data + r->len, 0, 4096);
	ev = unwrap_ok(all->data, r->len + 4096);
	assert_int_equal(ev->ncerts, 0);
	cvm_evidence_free(ev);
	/* Zero padding shorter than the terminating entry is no table. */
	unwrap_fails(all->data, r->len + 5, "the report is padded with 5 bytes");
	free(all);
	free(ext);
	free(vcek);
	free(r);
}

static void hostile_cert_tables(void **state)
{
	(void)state;
	struct blob *r = load(TRUSTEE "snp/test-report.bin");
	uint8_t *t = calloc(1, 64 * 1024);
	uint8_t *all = malloc(r->len + 64 * 1024);
	memcpy(all, r->data, r->len);
	struct table_entry e[] = {{vcek_guid, (const uint8_t *)"cert", 4}};
	size_t n = build_table(t, 4096, e, 1, 0);
	struct {
		size_t at;
		uint32_t value;
		const char *needle;
	} cases[] = {
		{16, 0, "outside the table data"},          /* offset inside the header */
		{16, 47, "outside the table data"},         /* still inside it */
		{16, 0xfffffffe, "outside the table data"}, /* past the end */
		{20, 0xffffffff, "outside the table data"}, /* length wraps */
		{20, 5, "outside the table data"},          /* one byte past */
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
		memcpy(all + r->len, t, n);
		cvm_put_le32(all + r->len + cases[i].at, cases[i].value);
		unwrap_fails(all, r->len + n, cases[i].needle);
	}
	/* No terminator: entries up to the end. */
	memset(all + r->len, 0xff, 24 * 3);
	unwrap_fails(all, r->len + 24 * 3, "no all-zero terminating entry");
	/* Garbage shorter than an entry. */
	unwrap_fails(all, r->len + 7, "no all-zero terminating entry");
	/* More entries than accepted, each valid. */
	size_t many = CVM_EVIDENCE_MAX_CERTS + 1;
	struct table_entry *lots = calloc(many, sizeof(*lots));
	for (size_t i = 0; i < many; i++)
		lots[i] = (struct table_entry){other_guid, (const uint8_t *)"c", 1};
	n = build_table(t, 64 * 1024, lots, many, 0);
	memcpy(all + r->len, t, n);
	unwrap_fails(all, r->len + n, "more than 32 certificate table entries");
	free(lots);
	free(all);
	free(t);
	free(r);
}

/* ---- Trustee's SNP evidence: the sev crate's serialisation of the report -------------------- */

static json_object *bytes_array(const uint8_t *p, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int(p[i]));
	return a;
}

/* TcbVersion: sev <= 5 {bootloader, tee, _reserved, snp, microcode}; sev 6 adds fmc. */
static json_object *tcb_object(const uint8_t *p, bool sev6)
{
	json_object *o = json_object_new_object();
	if (sev6)
		json_object_object_add(o, "fmc", NULL);
	json_object_object_add(o, "bootloader", json_object_new_int(p[0]));
	json_object_object_add(o, "tee", json_object_new_int(p[1]));
	if (!sev6)
		json_object_object_add(o, "_reserved", bytes_array(p + 2, 4));
	json_object_object_add(o, "snp", json_object_new_int(p[6]));
	json_object_object_add(o, "microcode", json_object_new_int(p[7]));
	return o;
}

static json_object *version_object(const uint8_t *p)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "major", json_object_new_int(p[2]));
	json_object_object_add(o, "minor", json_object_new_int(p[1]));
	json_object_object_add(o, "build", json_object_new_int(p[0]));
	return o;
}

static void add_int(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static void add_bytes(json_object *o, const char *k, const uint8_t *p, size_t n)
{
	json_object_object_add(o, k, bytes_array(p, n));
}

/* The report as serde_json writes the sev crate's AttestationReport (either layout). */
static json_object *sev_report_json(const uint8_t *r, bool sev6)
{
	json_object *o = json_object_new_object();
	add_int(o, "version", cvm_le32(r));
	add_int(o, "guest_svn", cvm_le32(r + 4));
	add_int(o, "policy", cvm_le64(r + 8));
	add_bytes(o, "family_id", r + 0x10, 16);
	add_bytes(o, "image_id", r + 0x20, 16);
	add_int(o, "vmpl", cvm_le32(r + 0x30));
	add_int(o, "sig_algo", cvm_le32(r + 0x34));
	json_object_object_add(o, "current_tcb", tcb_object(r + 0x38, sev6));
	add_int(o, "plat_info", cvm_le64(r + 0x40));
	add_int(o, sev6 ? "key_info" : "_author_key_en", cvm_le32(r + 0x48));
	if (!sev6)
		add_int(o, "_reserved_0", cvm_le32(r + 0x4c));
	add_bytes(o, "report_data", r + 0x50, 64);
	add_bytes(o, "measurement", r + 0x90, 48);
	add_bytes(o, "host_data", r + 0xc0, 32);
	add_bytes(o, "id_key_digest", r + 0xe0, 48);
	add_bytes(o, "author_key_digest", r + 0x110, 48);
	add_bytes(o, "report_id", r + 0x140, 32);
	add_bytes(o, "report_id_ma", r + 0x160, 32);
	json_object_object_add(o, "reported_tcb", tcb_object(r + 0x180, sev6));
	if (sev6) {
		add_int(o, "cpuid_fam_id", r[0x188]);
		add_int(o, "cpuid_mod_id", r[0x189]);
		add_int(o, "cpuid_step", r[0x18a]);
	} else {
		add_bytes(o, "_reserved_1", r + 0x188, 24);
	}
	add_bytes(o, "chip_id", r + 0x1a0, 64);
	json_object_object_add(o, "committed_tcb", tcb_object(r + 0x1e0, sev6));
	if (sev6) {
		json_object_object_add(o, "current", version_object(r + 0x1e8));
		json_object_object_add(o, "committed", version_object(r + 0x1ec));
	} else {
		static const char *const names[] = {"current_build",   "current_minor",
						    "current_major",   "_reserved_2",
						    "committed_build", "committed_minor",
						    "committed_major", "_reserved_3"};
		for (size_t i = 0; i < 8; i++)
			add_int(o, names[i], r[0x1e8 + i]);
	}
	json_object_object_add(o, "launch_tcb", tcb_object(r + 0x1f0, sev6));
	if (sev6) {
		json_object_object_add(o, "launch_mit_vector", NULL);
		json_object_object_add(o, "current_mit_vector", NULL);
	} else {
		add_bytes(o, "_reserved_4", r + 0x1f8, 168);
	}
	json_object *sig = json_object_new_object();
	add_bytes(sig, "r", r + 0x2a0, 72);
	add_bytes(sig, "s", r + 0x2e8, 72);
	if (!sev6)
		add_bytes(sig, "_reserved", r + 0x330, 0x200 - 144);
	json_object_object_add(o, "signature", sig);
	return o;
}

static char *trustee_snp_json(json_object *report, const uint8_t *vcek, size_t vcek_len)
{
	json_object *root = json_object_new_object();
	json_object_object_add(root, "attestation_report", report);
	json_object *chain = json_object_new_array();
	json_object *e = json_object_new_object();
	json_object_object_add(e, "cert_type", json_object_new_string("VCEK"));
	json_object_object_add(e, "data", bytes_array(vcek, vcek_len));
	json_object_array_add(chain, e);
	e = json_object_new_object();
	json_object *other = json_object_new_object();
	json_object_object_add(other, "OTHER", json_object_new_string("0102-..."));
	json_object_object_add(e, "cert_type", other);
	json_object_object_add(e, "data", bytes_array((const uint8_t *)"x", 1));
	json_object_array_add(chain, e);
	json_object_object_add(root, "cert_chain", chain);
	char *text = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return text;
}

static void trustee_snp_evidence(void **state)
{
	(void)state;
	struct blob *r = load(TRUSTEE "snp/test-report.bin");
	struct blob *vcek = load(TRUSTEE "snp/test-vcek.der");
	for (int sev6 = 0; sev6 <= 1; sev6++) {
		char *json = trustee_snp_json(sev_report_json(r->data, sev6), vcek->data, vcek->len);
		struct cvm_evidence *ev = unwrap_ok((const uint8_t *)json, strlen(json));
		assert_int_equal(ev->format, CVM_EVIDENCE_FORMAT_TRUSTEE_SNP);
		assert_int_equal(ev->kind, CVM_EVIDENCE_SNP_REPORT);
		assert_int_equal(ev->report_len, r->len);
		assert_memory_equal(ev->report, r->data, r->len);
		assert_int_equal(ev->ncerts, 2);
		assert_string_equal(ev->certs[0].name, "VCEK");
		assert_memory_equal(ev->certs[0].data, vcek->data, vcek->len);
		assert_string_equal(ev->certs[1].name, "0102-...");
		cvm_evidence_free(ev);
		free(json);
	}
	/* The report as bytes, and no chain. */
	json_object *root = json_object_new_object();
	json_object_object_add(root, "attestation_report", bytes_array(r->data, r->len));
	json_object_object_add(root, "cert_chain", NULL);
	const char *text = json_object_to_json_string(root);
	struct cvm_evidence *ev = unwrap_ok((const uint8_t *)text, strlen(text));
	assert_memory_equal(ev->report, r->data, r->len);
	assert_int_equal(ev->ncerts, 0);
	cvm_evidence_free(ev);
	json_object_put(root);
	free(vcek);
	free(r);
}

static void hostile_trustee_snp_evidence(void **state)
{
	(void)state;
	struct blob *r = load(TRUSTEE "snp/test-report.bin");
	struct {
		const char *field, *sub;
		json_object *value; /* NULL: remove the field */
		const char *needle;
	} cases[] = {
		{"version", NULL, json_object_new_int(-1), "version is out of range"},
		{"vmpl", NULL, json_object_new_int64(1ll << 40), "vmpl is out of range"},
		{"measurement", NULL, json_object_new_string("AAAA"), "measurement has 3 bytes"},
		{"chip_id", NULL, json_object_new_double(1.5), "chip_id is neither"},
		{"signature", NULL, NULL, "no version or no signature"},
		{"surprise", NULL, json_object_new_int(1), "unknown field \"surprise\""},
		{"reported_tcb", "snp", json_object_new_int(256), "reported_tcb.snp is out of range"},
		{"reported_tcb", "extra", json_object_new_int(1), "unknown field \"extra\""},
		{"signature", "r", json_object_new_int(1), "signature.r is neither"},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
		json_object *rep = sev_report_json(r->data, false);
		json_object *where = rep;
		if (cases[i].sub)
			json_object_object_get_ex(rep, cases[i].field, &where);
		const char *key = cases[i].sub ? cases[i].sub : cases[i].field;
		if (cases[i].value)
			json_object_object_add(where, key, cases[i].value);
		else
			json_object_object_del(where, key);
		char *json = trustee_snp_json(rep, (const uint8_t *)"v", 1);
		unwrap_fails((const uint8_t *)json, strlen(json), cases[i].needle);
		free(json);
	}
	static const char *const bad[][2] = {
		{"{\"attestation_report\":[1,2,300]}", "attestation_report[2] is not a byte"},
		{"{\"attestation_report\":\"!!!\"}", "attestation_report is not base64"},
		{"{\"attestation_report\":[2,0,0,0],\"cert_chain\":{}}", "cert_chain is not an array"},
		{"{\"attestation_report\":[2,0,0,0],\"cert_chain\":[{\"cert_type\":7,\"data\":[]}]}",
		 "cert_chain[0] is not a {cert_type, data} entry"},
		{"{\"attestation_report\":[2,0,0,0],\"cert_chain\":[{\"cert_type\":\"VCEK\"}]}",
		 "cert_chain[0] is not a {cert_type, data} entry"},
		{"{\"attestation_report\":[2,0,0,0],\"cert_chain\":[{\"cert_type\":\"VCEK\",\"data\":[-1]}]}",
		 "cert_chain[0].data[0] is not a byte"},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(bad); i++)
		unwrap_fails((const uint8_t *)bad[i][0], strlen(bad[i][0]), bad[i][1]);
	free(r);
}

/* ---- Trustee's TDX evidence and the other JSON shapes --------------------------------------- */

static void trustee_tdx_evidence(void **state)
{
	(void)state;
	struct blob *q = load(TRUSTEE "tdx/tdx_quote_6.dat");
	struct blob *log = load("eventlog/confidential-containers-trustee/CCEL_data_ovmf");
	uint8_t *json;
	size_t len;
	assert_int_equal(cvm_evidence_trustee_tdx_json(q->data, q->len, log->data, log->len, &json,
						       &len, NULL),
			 0);
	struct cvm_evidence *ev = unwrap_ok(json, len);
	assert_int_equal(ev->format, CVM_EVIDENCE_FORMAT_TRUSTEE_TDX);
	assert_int_equal(ev->kind, CVM_EVIDENCE_TDX_QUOTE);
	assert_int_equal(ev->report_len, q->len);
	assert_memory_equal(ev->report, q->data, q->len);
	assert_int_equal(ev->eventlog_len, log->len);
	assert_memory_equal(ev->eventlog, log->data, log->len);
	assert_null(ev->runtime_data.data);
	cvm_evidence_free(ev);
	free(json);
	/* Without an event log (null, or absent). */
	assert_int_equal(cvm_evidence_trustee_tdx_json(q->data, q->len, NULL, 0, &json, &len, NULL), 0);
	ev = unwrap_ok(json, len);
	assert_null(ev->eventlog);
	cvm_evidence_free(ev);
	free(json);
	static const char *const bad[][2] = {
		{"{\"quote\":\"AAAA\",\"cc_eventlog\":5}", "cc_eventlog is neither"},
		{"{\"quote\":\"A\"}", "quote is not base64"},
		{"{\"something\":1}", "JSON evidence of no known kind"},
		{"[1,2]", "not one JSON object"},
		{"{\"quote\":\"AAAA\"} x", "not one JSON object"},
		{"{\"quote\":\"AAAA\"", "not one JSON object"},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(bad); i++)
		unwrap_fails((const uint8_t *)bad[i][0], strlen(bad[i][0]), bad[i][1]);
	/* Nesting beyond the tokener's depth. */
	char deep[200] = "{\"quote\":";
	for (size_t i = strlen(deep); i < sizeof(deep) - 1; i++)
		deep[i] = '[';
	unwrap_fails((const uint8_t *)deep, strlen(deep), "not one JSON object");
	free(log);
	free(q);
}

/* ---- Veraison's tsm-report (JSON and CBOR) -------------------------------------------------- */

static void tsm_report_round_trip(void **state)
{
	(void)state;
	struct blob *r = load(TRUSTEE "snp/test-report.bin");
	struct blob *vcek = load(TRUSTEE "snp/test-vcek.der");
	struct blob *q = load(TRUSTEE "tdx/tdx_quote_5.dat");
	uint8_t table[4096];
	struct table_entry e[] = {{vcek_guid, vcek->data, vcek->len}};
	size_t tlen = build_table(table, sizeof(table), e, 1, 0);
	struct cvm_tsm_blobs snp = {.provider = "sev_guest\n", .outblob = r->data,
				    .outblob_len = r->len, .auxblob = table, .auxblob_len = tlen};
	struct cvm_tsm_blobs tdx = {.provider = "tdx_guest", .outblob = q->data,
				    .outblob_len = q->len};
	for (int cbor = 0; cbor <= 1; cbor++) {
		uint8_t *out;
		size_t len;
		int (*enc)(const struct cvm_tsm_blobs *, uint8_t **, size_t *, struct cvm_error *) =
			cbor ? cvm_evidence_tsm_cbor : cvm_evidence_tsm_json;
		assert_int_equal(enc(&snp, &out, &len, NULL), 0);
		if (!cbor)
			assert_null(memchr(out, '=', len)); /* base64url without padding */
		struct cvm_evidence *ev = unwrap_ok(out, len);
		assert_int_equal(ev->format,
				 cbor ? CVM_EVIDENCE_FORMAT_TSM_CBOR : CVM_EVIDENCE_FORMAT_TSM_JSON);
		assert_string_equal(ev->provider, "sev_guest");
		assert_int_equal(ev->kind, CVM_EVIDENCE_SNP_REPORT);
		assert_memory_equal(ev->report, r->data, r->len);
		assert_int_equal(ev->ncerts, 1);
		assert_memory_equal(ev->certs[0].data, vcek->data, vcek->len);
		cvm_evidence_free(ev);
		free(out);
		assert_int_equal(enc(&tdx, &out, &len, NULL), 0);
		ev = unwrap_ok(out, len);
		assert_int_equal(ev->kind, CVM_EVIDENCE_TDX_QUOTE);
		assert_int_equal(ev->report_len, q->len);
		cvm_evidence_free(ev);
		free(out);
		/* The provider decides what the outblob must be. */
		struct cvm_tsm_blobs wrong = tdx;
		wrong.provider = "sev_guest";
		assert_int_equal(enc(&wrong, &out, &len, NULL), 0);
		unwrap_fails(out, len, "is not an SNP report");
		free(out);
		wrong.provider = "arm_cca_guest";
		assert_int_equal(enc(&wrong, &out, &len, NULL), 0);
		unwrap_fails(out, len, "neither sev_guest nor tdx_guest");
		free(out);
	}
	free(q);
	free(vcek);
	free(r);
}

static void hostile_tsm_cbor(void **state)
{
	(void)state;
	static const struct {
		uint8_t data[24];
		size_t len;
		const char *needle;
	} cases[] = {
		{{0xbf}, 1, "not a definite-length CBOR map"},          /* indefinite map */
		{{0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 9, "entries, a tsm-report"},
		{{0xa1, 0x01, 0x02}, 3, "is not a text key"},          /* integer key */
		{{0xa1, 0x67, 'o', 'u', 't', 'b', 'l', 'o', 'b', 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xff, 0xff, 0xff},
		 18, "is not a text key"},                             /* bstr longer than the data */
		{{0xa1, 0x67, 'o', 'u', 't', 'b', 'l', 'o', 'b', 0x5f}, 10, "is not a text key"},
		{{0xa1, 0x63, 'f', 'o', 'o', 0x41, 0x00}, 7, "is not an outblob"},
		{{0xa0}, 1, "no outblob or no provider"},
		{{0xa0, 0x00}, 2, "1 bytes after the map"},
		{{0xa1, 0x67, 'o', 'u', 't', 'b', 'l', 'o', 'b', 0x61, 'x'}, 11, "is not an outblob"},
		{{0xa1}, 1, "is not a text key"},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++)
		unwrap_fails(cases[i].data, cases[i].len, cases[i].needle);
	static const char *const bad[][2] = {
		{"{\"outblob\":\"AgAAAA\"}", "no \"provider\" text"},
		{"{\"outblob\":\"AgAAAA\",\"provider\":\"sev_guest\",\"auxblob\":\"AQ\"}",
		 "auxblob: certificate table of 1 bytes"},
		{"{\"outblob\":\"A=A\",\"provider\":\"sev_guest\"}", "outblob is not base64"},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(bad); i++)
		unwrap_fails((const uint8_t *)bad[i][0], strlen(bad[i][0]), bad[i][1]);
}

/* ---- raw evidence and the base64 reader ----------------------------------------------------- */

static void raw_evidence_passes_through(void **state)
{
	(void)state;
	struct blob *q = load(TRUSTEE "tdx/tdx_quote_4.dat");
	struct cvm_evidence *ev = unwrap_ok(q->data, q->len);
	assert_int_equal(ev->format, CVM_EVIDENCE_FORMAT_RAW);
	assert_int_equal(ev->kind, CVM_EVIDENCE_TDX_QUOTE);
	assert_int_equal(ev->report_len, q->len);
	cvm_evidence_free(ev);
	struct blob *hex = load("attest/virtee-sev/report_milan.hex");
	struct blob *bin = load("attest/virtee-sev/report_milan.bin");
	ev = unwrap_ok(hex->data, hex->len);
	assert_int_equal(ev->kind, CVM_EVIDENCE_SNP_REPORT);
	assert_int_equal(ev->report_len, bin->len);
	assert_memory_equal(ev->report, bin->data, bin->len);
	cvm_evidence_free(ev);
	/* Anything else is left for the report parsers to refuse. */
	ev = unwrap_ok((const uint8_t *)"\0\0\0\0hello", 9);
	assert_int_equal(ev->kind, CVM_EVIDENCE_UNKNOWN);
	assert_int_equal(ev->report_len, 9);
	cvm_evidence_free(ev);
	ev = unwrap_ok(NULL, 0);
	assert_int_equal(ev->report_len, 0);
	cvm_evidence_free(ev);
	cvm_evidence_free(NULL);
	free(bin);
	free(hex);
	free(q);
}

static void base64_decoding(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *want; /* NULL: invalid */
	} cases[] = {
		{"", ""},          {"Zg==", "f"},       {"Zg", "f"},        {"Zm8=", "fo"},
		{"Zm8", "fo"},     {"Zm9v", "foo"},     {"-_-_", "\xfb\xff\xbf"},
		{"+/+/", "\xfb\xff\xbf"},               {"Zh==", NULL},    {"Zg=", NULL},
		{"Z", NULL},       {"Zg===", NULL},     {"Z=g=", NULL},     {"Zm 9v", NULL},
		{"Zm9v\n", NULL},  {"=", NULL},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
		uint8_t *out = NULL;
		size_t n = 0;
		int rc = cvm_base64_decode(cases[i].text, strlen(cases[i].text), &out, &n);
		if (!cases[i].want) {
			if (rc != -EINVAL)
				fail_msg("\"%s\" decoded", cases[i].text);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(n, strlen(cases[i].want));
		assert_memory_equal(out, cases[i].want, n);
		free(out);
	}
}

/* ---- verification of wrapped evidence (launcher/verify_evidence.c) ----------------------- */

static const struct cvm_check *check_of(const struct cvm_verify_result *r, const char *name)
{
	const struct cvm_check *c = cvm_verify_result_find(r, name);
	if (!c)
		fail_msg("no \"%s\" check", name);
	return c;
}

static void wrapped_evidence_is_verified_with_its_binding(void **state)
{
	(void)state;
	struct blob *b = load(TRUSTEE "az-snp-vtpm/hcl-report.bin");
	struct blob *vcek = load(TRUSTEE "az-snp-vtpm/vcek.pem");
	struct cvm_verifier *v;
	assert_int_equal(cvm_verifier_new(&v, NULL), 0);
	assert_int_equal(cvm_verifier_add_endorsements(v, vcek->data, vcek->len, "vcek.pem", NULL), 3);
	struct cvm_verify_options o = {.has_time = true, .time = 1748736000};
	struct cvm_verify_result r;
	assert_int_equal(cvm_verify_evidence(v, b->data, b->len, &o, &r, NULL), 0);
	assert_true(cvm_verify_result_ok(&r));
	assert_int_equal(check_of(&r, "runtime-data")->status, CVM_CHECK_PASS);
	assert_int_equal(check_of(&r, "wrapper")->status, CVM_CHECK_PASS);
	assert_int_equal(check_of(&r, "revocation")->status, CVM_CHECK_SKIP);
	/* One changed runtime-data byte: the report still verifies, the binding does not. */
	b->data[0x4d4 + 100] ^= 0x20;
	assert_int_equal(cvm_verify_evidence(v, b->data, b->len, &o, &r, NULL), 0);
	assert_false(cvm_verify_result_ok(&r));
	assert_int_equal(check_of(&r, "signature")->status, CVM_CHECK_PASS);
	const struct cvm_check *c = check_of(&r, "runtime-data");
	assert_int_equal(c->status, CVM_CHECK_FAIL);
	assert_non_null(strstr(c->reason, "does not match: REPORT_DATA[0:32]"));
	/* A malformed wrapper is a failed parse, never an error. */
	cvm_put_le32(b->data + 0x4c0 + 16, 0xffffffffu);
	assert_int_equal(cvm_verify_evidence(v, b->data, b->len, &o, &r, NULL), 0);
	assert_int_equal(check_of(&r, "parse")->status, CVM_CHECK_FAIL);
	assert_false(cvm_verify_result_ok(&r));
	cvm_verifier_free(v);
	free(vcek);
	free(b);
}

/*
 * The certificates a piece of evidence carries vouch for it alone: a report whose VCEK came
 * only inside an earlier evidence file's certificate table does not verify, in whatever order.
 */
static void certificates_in_evidence_vouch_for_that_evidence_only(void **state)
{
	(void)state;
	struct blob *r = load(TRUSTEE "snp/test-report.bin");
	struct blob *vcek = load(TRUSTEE "snp/test-vcek.der");
	struct blob *carrying = malloc(sizeof(*carrying));
	memcpy(carrying->data, r->data, r->len);
	struct table_entry e[] = {{vcek_guid, vcek->data, vcek->len}};
	carrying->len = r->len + build_table(carrying->data + r->len,
					     sizeof(carrying->data) - r->len, e, 1, 4096);
	struct cvm_verifier *v;
	assert_int_equal(cvm_verifier_new(&v, NULL), 0);
	struct cvm_verify_options o = {.has_time = true, .time = 1748736000};
	struct cvm_verify_result res;
	for (int round = 0; round < 2; round++) {
		assert_int_equal(cvm_verify_evidence(v, carrying->data, carrying->len, &o, &res,
						     NULL), 0);
		assert_int_equal(check_of(&res, "cert-chain")->status, CVM_CHECK_PASS);
		assert_true(cvm_verify_result_ok(&res));
		/* The bare report next: the VCEK it needs went with the first verdict. */
		assert_int_equal(cvm_verify_evidence(v, r->data, r->len, &o, &res, NULL), 0);
		assert_int_not_equal(check_of(&res, "cert-chain")->status, CVM_CHECK_PASS);
		assert_false(cvm_verify_result_ok(&res));
	}
	/* A VCEK the caller gives stays, also when evidence carries the same one. */
	assert_int_equal(cvm_verifier_add_endorsements(v, vcek->data, vcek->len, "vcek", NULL), 1);
	assert_int_equal(cvm_verify_evidence(v, carrying->data, carrying->len, &o, &res, NULL), 0);
	assert_true(cvm_verify_result_ok(&res));
	assert_int_equal(cvm_verify_evidence(v, r->data, r->len, &o, &res, NULL), 0);
	assert_true(cvm_verify_result_ok(&res));
	cvm_verifier_free(v);
	free(carrying);
	free(vcek);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(azure_snp_hcl_report),
		cmocka_unit_test(azure_tdx_hcl_report),
		cmocka_unit_test(azure_tdx_evidence_json),
		cmocka_unit_test(azure_snp_evidence_json_v0),
		cmocka_unit_test(azure_snp_evidence_json_v1),
		cmocka_unit_test(hostile_hcl_reports),
		cmocka_unit_test(report_with_cert_table),
		cmocka_unit_test(hostile_cert_tables),
		cmocka_unit_test(trustee_snp_evidence),
		cmocka_unit_test(hostile_trustee_snp_evidence),
		cmocka_unit_test(trustee_tdx_evidence),
		cmocka_unit_test(tsm_report_round_trip),
		cmocka_unit_test(hostile_tsm_cbor),
		cmocka_unit_test(raw_evidence_passes_through),
		cmocka_unit_test(base64_decoding),
		cmocka_unit_test(wrapped_evidence_is_verified_with_its_binding),
		cmocka_unit_test(certificates_in_evidence_vouch_for_that_evidence_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
