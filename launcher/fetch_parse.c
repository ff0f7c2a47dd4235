/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Readers of what servers (and cache files) hand us: HTTP header lines, percent-encoded issuer
 * chains, Retry-After, and the shape of each item kind, including the nextUpdate that decides
 * whether a cached CRL or collateral document may still be used.  These only decide whether
 * bytes are what they claim to be; signatures are the verifier's business.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cvmkit/util.h>
#include <cvmkit/verify.h>

#include "launcher/fetch_internal.h"
#include "sev/snp_verify_internal.h"

#define RETRY_AFTER_MAX_S 86400u

/* ---- HTTP header block --------------------------------------------------------------------- */

/* The next line of block from *pos (without its CR LF); false at the end. */
static bool next_line(const char *block, size_t len, size_t *pos, size_t *start, size_t *end)
{
	if (*pos >= len)
		return false;
	size_t i = *pos;
	const char *nl = memchr(block + i, '\n', len - i);
	size_t stop = nl ? (size_t)(nl - block) : len;
	*start = i;
	*end = stop > i && block[stop - 1] == '\r' ? stop - 1 : stop;
	*pos = stop + 1;
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int cvm_http_header_value(const char *block, size_t len, const char *name, char **out)
{
	size_t nlen = strlen(name), pos = 0, s, e;
	while (next_line(block, len, &pos, &s, &e)) {
		if (e - s <= nlen || block[s + nlen] != ':' ||
		    strncasecmp(block + s, name, nlen) != 0)
			continue;
		size_t v = s + nlen + 1;
		while (v < e && is_blank(block[v]))
			v++;
		while (e > v && is_blank(block[e - 1]))
			e--;
		char *val = malloc(e - v + 1);
		if (!val)
			return -ENOMEM;
		memcpy(val, block + v, e - v);
		val[e - v] = '\0';
		*out = val;
		return 1;
	}
	return 0;
}

void cvm_text_snippet(const uint8_t *text, size_t len, char *buf, size_t n)
{
	size_t k = 0;
	bool space = false;
	for (size_t i = 0; i < len && k + 1 < n; i++) {
		uint8_t c = text[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = k > 0;
			continue;
		}
		if (c < 0x21 || c > 0x7e)
			break;
		if (space && k + 2 < n)
			buf[k++] = ' ';
		space = false;
		buf[k++] = (char)c;
	}
	buf[k] = '\0';
}

void cvm_http_reason(const char *block, size_t len, char *buf, size_t n)
{
	size_t pos = 0, s, e;
	buf[0] = '\0';
	if (!next_line(block, len, &pos, &s, &e) || e - s < 5 || memcmp(block + s, "HTTP/", 5) != 0)
		return;
	/* "HTTP/1.1 404 Not Found": skip the version and the status code. */
	for (int field = 0; field < 2; field++) {
		while (s < e && !is_blank(block[s]))
			s++;
		while (s < e && is_blank(block[s]))
			s++;
	}
	cvm_text_snippet((const uint8_t *)block + s, e - s, buf, n);
}

int cvm_percent_decode(const char *in, size_t len, char **out, size_t *out_len)
{
	char *o = malloc(len + 1);
	if (!o)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)in[i];
		if (c == '%') {
			int hi = len - i >= 3 ? cvm_hex_digit(in[i + 1]) : -1;
			int lo = hi >= 0 ? cvm_hex_digit(in[i + 2]) : -1;
			if (lo < 0) {
				free(o);
				return -EINVAL;
			}
			c = hi << 4 | lo;
			i += 2;
		}
		if (c == 0) {
			free(o);
			return -EINVAL;
		}
		o[k++] = (char)c;
	}
	o[k] = '\0';
	*out = o;
	*out_len = k;
	return 0;
}

bool cvm_http_retry_after(const char *value, time_t now, unsigned *seconds)
{
	while (is_blank(*value))
		value++;
	if (isdigit((unsigned char)*value)) {
		unsigned long s = 0;
		for (; isdigit((unsigned char)*value); value++)
			if ((s = s * 10 + (unsigned long)(*value - '0')) > RETRY_AFTER_MAX_S)
				s = RETRY_AFTER_MAX_S + 1;
		while (is_blank(*value))
			value++;
		if (*value)
			return false;
		*seconds = s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (unsigned)s;
		return true;
	}
	/* An HTTP-date (RFC 9110 5.6.7): IMF-fixdate, which is what servers send today. */
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end)
		return false;
	while (is_blank(*end))
		end++;
	if (*end)
		return false;
	time_t at = timegm(&tm);
	if (at == (time_t)-1)
		return false;
	*seconds = at <= now ? 0
		   : at - now > (time_t)RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S
							  : (unsigned)(at - now);
	return true;
}

/* ---- certificates and CRLs ----------------------------------------------------------------- */

static X509 *der_cert(const uint8_t *data, size_t len)
{
	if (len == 0 || len > LONG_MAX)
		return NULL;
	const unsigned char *p = data;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	if (x && (size_t)(p - data) != len) {
		X509_free(x);
		x = NULL;
	}
	ERR_clear_error();
	return x;
}

static X509_CRL *der_crl(const uint8_t *data, size_t len)
{
	if (len == 0 || len > LONG_MAX)
		return NULL;
	const unsigned char *p = data;
	X509_CRL *c = d2i_X509_CRL(NULL, &p, (long)len);
	if (c && (size_t)(p - data) != len) {
		X509_CRL_free(c);
		c = NULL;
	}
	ERR_clear_error();
	return c;
}

static size_t count_substr(const uint8_t *data, size_t len, const char *needle)
{
	size_t n = strlen(needle), count = 0;
	const uint8_t *p = data, *end = data + len;
	while ((size_t)(end - p) >= n) {
		const uint8_t *hit = memmem(p, (size_t)(end - p), needle, n);
		if (!hit)
			break;
		count++;
		p = hit + n;
	}
	return count;
}

/*
 * Parse the PEM certificates of data: up to max into certs (caller frees them), the total into
 * *count.  False when a BEGIN CERTIFICATE block does not parse.
 */
static bool pem_certs(const uint8_t *data, size_t len, X509 **certs, size_t max, size_t *count)
{
	*count = 0;
	if (len > INT_MAX)
		return false;
	size_t blocks = count_substr(data, len, "-----BEGIN CERTIFICATE-----");
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	if (!bio)
		return false;
	X509 *x;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (*count < max)
			certs[*count] = x;
		else
			X509_free(x);
		(*count)++;
	}
	BIO_free(bio);
	ERR_clear_error();
	return *count == blocks;
}

static void free_certs(X509 **certs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		X509_free(certs[i]);
}

int cvm_fetch_check_pem_certs(const uint8_t *pem, size_t len, size_t min, char *why, size_t n)
{
	size_t count;
	bool ok = pem_certs(pem, len, NULL, 0, &count);
	if (!ok) {
		snprintf(why, n, "a PEM certificate block does not parse");
		return -EINVAL;
	}
	if (count < min) {
		snprintf(why, n, "%zu PEM certificate%s, expected at least %zu", count,
			 count == 1 ? "" : "s", min);
		return -EINVAL;
	}
	return 0;
}

int cvm_fetch_crl_to_der(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t *der = NULL;
	size_t der_len = 0;
	X509_CRL *crl = der_crl(data, len);
	if (!crl && memmem(data, len, "-----BEGIN X509 CRL-----", 24) && len <= INT_MAX) {
		BIO *bio = BIO_new_mem_buf(data, (int)len);
		crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		ERR_clear_error();
	}
	if (!crl && cvm_evidence_unhex(data, len, &der, &der_len) == 0) {
		crl = der_crl(der, der_len);
		free(der);
	}
	if (!crl)
		return -EINVAL;
	unsigned char *enc = NULL;
	int n = i2d_X509_CRL(crl, &enc);
	X509_CRL_free(crl);
	if (n <= 0 || !(der = malloc((size_t)n + 1))) {
		OPENSSL_free(enc);
		ERR_clear_error();
		return n <= 0 ? -EINVAL : -ENOMEM;
	}
	memcpy(der, enc, (size_t)n);
	der[n] = 0;
	OPENSSL_free(enc);
	*out = der;
	*out_len = (size_t)n;
	return 0;
}

/* "SEV-Milan" -> MILAN after prefix "SEV-"; UNKNOWN when it names no line. */
static enum cvm_amd_product product_after(const char *cn, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(cn, prefix, n) != 0)
		return CVM_AMD_UNKNOWN;
	enum cvm_amd_product p;
	return cvm_amd_product_parse(cn + n, &p) == 0 ? p : CVM_AMD_UNKNOWN;
}

static int check_vcek_binding(X509 *x, const struct cvm_kds_vcek_id *id, char *why, size_t n)
{
	struct cvm_amd_cert_ext ext;
	struct cvm_error err;
	if (cvm_amd_cert_ext_read(x, &ext, &err)) {
		snprintf(why, n, "unreadable VCEK extensions: %s", err.msg);
		return -EINVAL;
	}
	size_t hwid_len = id->product == CVM_AMD_TURIN ? 8 : 64;
	if (ext.hwid_len != hwid_len || memcmp(ext.hwid, id->chip_id, hwid_len) != 0) {
		snprintf(why, n, "the VCEK of another chip (hwID of %zu bytes, %02x%02x%02x%02x..)",
			 ext.hwid_len, ext.hwid[0], ext.hwid[1], ext.hwid[2], ext.hwid[3]);
		return -EINVAL;
	}
	const struct cvm_snp_tcb *t = &id->tcb;
	bool fmc_ok = id->product != CVM_AMD_TURIN || (ext.has_fmc && ext.fmc == t->fmc);
	if (!ext.has_bl || ext.bl != t->bootloader || !ext.has_tee || ext.tee != t->tee ||
	    !ext.has_snp || ext.snp != t->snp || !ext.has_ucode || ext.ucode != t->microcode ||
	    !fmc_ok) {
		snprintf(why, n, "a VCEK for another TCB (bl %llu tee %llu snp %llu ucode %llu)",
			 (unsigned long long)ext.bl, (unsigned long long)ext.tee,
			 (unsigned long long)ext.snp, (unsigned long long)ext.ucode);
		return -EINVAL;
	}
	return 0;
}

static int check_vcek(const struct cvm_fetch_expect *e, const uint8_t *data, size_t len,
		      struct cvm_fetch_facts *facts, char *why, size_t n)
{
	X509 *x = der_cert(data, len);
	if (!x) {
		snprintf(why, n, "not a DER certificate");
		return -EINVAL;
	}
	char subject[64], issuer[64];
	cvm_x509_cn(X509_get_subject_name(x), subject, sizeof(subject));
	cvm_x509_cn(X509_get_issuer_name(x), issuer, sizeof(issuer));
	enum cvm_amd_product p = product_after(issuer, "SEV-");
	int rc = -EINVAL;
	if (strcmp(subject, "SEV-VCEK") != 0)
		snprintf(why, n, "a certificate for \"%s\", not a VCEK", subject);
	else if (p == CVM_AMD_UNKNOWN)
		snprintf(why, n, "a VCEK issued by \"%s\", not by an AMD ASK", issuer);
	else if (e->product != CVM_AMD_UNKNOWN && p != e->product)
		snprintf(why, n, "a VCEK issued by %s, not by SEV-%s", issuer,
			 cvm_kds_product(e->product));
	else
		rc = e->vcek ? check_vcek_binding(x, e->vcek, why, n) : 0;
	X509_free(x);
	if (rc == 0)
		facts->product = p;
	return rc;
}

static int check_amd_chain(const struct cvm_fetch_expect *e, const uint8_t *data, size_t len,
			   char *why, size_t n)
{
	X509 *certs[2] = {NULL, NULL};
	size_t count;
	if (!pem_certs(data, len, certs, 2, &count) || count < 2) {
		free_certs(certs, count < 2 ? count : 2);
		snprintf(why, n, "not two PEM certificates (an AMD intermediate and the ARK)");
		return -EINVAL;
	}
	char first[64], second[64], want1[32], want2[32];
	cvm_x509_cn(X509_get_subject_name(certs[0]), first, sizeof(first));
	cvm_x509_cn(X509_get_subject_name(certs[1]), second, sizeof(second));
	free_certs(certs, 2);
	const char *line = cvm_kds_product(e->product);
	snprintf(want1, sizeof(want1), "SEV-%s%s", e->key == CVM_SNP_KEY_VLEK ? "VLEK-" : "",
		 line ? line : "");
	snprintf(want2, sizeof(want2), "ARK-%s", line ? line : "");
	if (strcmp(first, want1) != 0 || strcmp(second, want2) != 0) {
		snprintf(why, n, "certificates \"%s\" and \"%s\", expected \"%s\" and \"%s\"", first,
			 second, want1, want2);
		return -EINVAL;
	}
	return 0;
}

static int check_crl(const struct cvm_fetch_expect *e, const uint8_t *data, size_t len,
		     struct cvm_fetch_facts *facts, char *why, size_t n)
{
	X509_CRL *crl = der_crl(data, len);
	if (!crl) {
		snprintf(why, n, "not a DER CRL");
		return -EINVAL;
	}
	char issuer[64], want[64];
	cvm_x509_cn(X509_CRL_get_issuer(crl), issuer, sizeof(issuer));
	const char *line = cvm_kds_product(e->product);
	if (e->kind == CVM_FETCH_AMD_CRL)
		snprintf(want, sizeof(want), "ARK-%s", line ? line : "");
	else if (e->kind == CVM_FETCH_ROOT_CRL)
		snprintf(want, sizeof(want), "Intel SGX Root CA");
	else
		snprintf(want, sizeof(want), "Intel SGX PCK %s CA",
			 e->pck_ca == CVM_PCK_CA_PROCESSOR ? "Processor" : "Platform");
	time_t next;
	int rc = -EINVAL;
	if (strcmp(issuer, want) != 0)
		snprintf(why, n, "a CRL of \"%s\", not of \"%s\"", issuer, want);
	else if (!cvm_asn1_time_to_time(X509_CRL_get0_nextUpdate(crl), &next))
		snprintf(why, n, "a CRL without a readable nextUpdate");
	else
		rc = 0;
	X509_CRL_free(crl);
	if (rc == 0) {
		facts->has_next_update = true;
		facts->next_update = next;
	}
	return rc;
}

/* ---- Intel signed JSON ----------------------------------------------------------------------- */

static const char *json_str(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static json_object *json_whole(const uint8_t *data, size_t len)
{
	if (len > INT_MAX)
		return NULL;
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return NULL;
	json_object *o = json_tokener_parse_ex(tok, (const char *)data, (int)len);
	size_t end = o ? json_tokener_get_parse_end(tok) : 0;
	json_tokener_free(tok);
	while (o && end < len && isspace(data[end]))
		end++;
	if (o && end != len) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static int check_signed_json(const struct cvm_fetch_expect *e, const uint8_t *data, size_t len,
			     struct cvm_fetch_facts *facts, char *why, size_t n)
{
	bool tcb = e->kind == CVM_FETCH_TCB_INFO;
	const char *key = tcb ? "tcbInfo" : "enclaveIdentity", *want_id = tcb ? "TDX" : "TD_QE";
	json_object *root = json_whole(data, len), *body = NULL;
	const char *id, *next_text, *fmspc;
	time_t next;
	int rc = -EINVAL;
	if (!root || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, key, &body) ||
	    !json_object_is_type(body, json_type_object))
		snprintf(why, n, "not a JSON object with \"%s\"", key);
	else if (!json_str(root, "signature"))
		snprintf(why, n, "\"%s\" without a \"signature\"", key);
	else if ((id = json_str(body, "id")) && strcmp(id, want_id) != 0)
		snprintf(why, n, "%s.id is \"%.40s\", not \"%s\"", key, id, want_id);
	else if (tcb && e->fmspc && (fmspc = json_str(body, "fmspc")) &&
		 strcasecmp(fmspc, e->fmspc) != 0)
		snprintf(why, n, "TCB info for FMSPC %.40s, not %s", fmspc, e->fmspc);
	else if (!(next_text = json_str(body, "nextUpdate")) ||
		 cvm_time_parse_rfc3339(next_text, &next) != 0)
		snprintf(why, n, "%s has no readable nextUpdate", key);
	else
		rc = 0;
	json_object_put(root);
	if (rc == 0) {
		facts->has_next_update = true;
		facts->next_update = next;
	}
	return rc;
}

int cvm_fetch_check(const struct cvm_fetch_expect *e, const uint8_t *data, size_t len,
		    struct cvm_fetch_facts *facts, char *why, size_t n)
{
	struct cvm_fetch_facts f = {.product = e->product};
	int rc;
	switch (e->kind) {
	case CVM_FETCH_VCEK:
		rc = check_vcek(e, data, len, &f, why, n);
		break;
	case CVM_FETCH_AMD_CHAIN:
		rc = check_amd_chain(e, data, len, why, n);
		break;
	case CVM_FETCH_AMD_CRL:
	case CVM_FETCH_PCK_CRL:
	case CVM_FETCH_ROOT_CRL:
		rc = check_crl(e, data, len, &f, why, n);
		break;
	case CVM_FETCH_TCB_INFO:
	case CVM_FETCH_QE_IDENTITY:
		rc = check_signed_json(e, data, len, &f, why, n);
		break;
	default:
		snprintf(why, n, "unknown item kind %d", (int)e->kind);
		rc = -EINVAL;
	}
	if (rc == 0)
		*facts = f;
	return rc;
}
