/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Optional TDX collateral (spec/tdx-quote.md §4): Intel TCB info and QE identity (JSON signed by
 * the Intel SGX TCB Signing key over the exact bytes of the "tcbInfo"/"enclaveIdentity" value),
 * and CRLs (root CRL, PCK CRL).  Each is checked for signature, validity at the verification time
 * and, for CRLs, revocation of the quote's PCK CA and PCK certificate; the TCB status of the
 * platform and of the QE is evaluated and reported.
 */
#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tdx/tdx_verify_internal.h"

#define MAX_CRLS 16
#define MAX_DOCS 32 /* TCB infos (one per FMSPC and PCE ID) and QE identities (one per id) */

/* A signed JSON document kept verbatim: the signature covers the raw bytes of one value. */
struct signed_json {
	char *raw;
	size_t len;
	size_t body_off, body_len; /* the "tcbInfo"/"enclaveIdentity" value inside raw */
	uint8_t signature[64];
	bool signature_ok_shape;
	json_object *root; /* the whole document: only its "signature" is read */
	json_object *body; /* parsed from raw[body_off..+body_len], the signed bytes themselves */
	char origin[64];
	char key[24]; /* TCB info: FMSPC ‖ PCE ID (upper-case hex); QE identity: its id */
	char id[16];  /* the document's "id" ("TDX", "SGX"; "TD_QE", "QE", ...) */
	time_t issued, next;
	atomic_uint refs; /* the collaterals holding it (cvm_tdx_collateral_clone) */
};

struct cvm_tdx_collateral {
	struct signed_json *tcb_infos[MAX_DOCS];
	size_t ntcb_infos;
	struct signed_json *qe_identities[MAX_DOCS];
	size_t nqe_identities;
	X509_CRL *crls[MAX_CRLS];
	bool crl_scoped[MAX_CRLS]; /* came inside the evidence being verified */
	size_t ncrls;
};

static void signed_json_free(struct signed_json *s)
{
	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	json_object_put(s->root);
	json_object_put(s->body);
	free(s->raw);
	free(s);
}

void cvm_tdx_collateral_free(struct cvm_tdx_collateral *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ntcb_infos; i++)
		signed_json_free(c->tcb_infos[i]);
	for (size_t i = 0; i < c->nqe_identities; i++)
		signed_json_free(c->qe_identities[i]);
	for (size_t i = 0; i < c->ncrls; i++)
		X509_CRL_free(c->crls[i]);
	free(c);
}

struct cvm_tdx_collateral *cvm_tdx_collateral_clone(const struct cvm_tdx_collateral *src)
{
	struct cvm_tdx_collateral *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	for (size_t i = 0; i < src->ncrls; i++) {
		if (src->crl_scoped[i])
			continue;
		if (X509_CRL_up_ref(src->crls[i]) != 1) {
			cvm_tdx_collateral_free(c);
			return NULL;
		}
		c->crls[c->ncrls++] = src->crls[i];
	}
	for (size_t i = 0; i < src->ntcb_infos; i++) {
		atomic_fetch_add(&src->tcb_infos[i]->refs, 1);
		c->tcb_infos[c->ntcb_infos++] = src->tcb_infos[i];
	}
	for (size_t i = 0; i < src->nqe_identities; i++) {
		atomic_fetch_add(&src->qe_identities[i]->refs, 1);
		c->qe_identities[c->nqe_identities++] = src->qe_identities[i];
	}
	return c;
}

void cvm_tdx_collateral_drop_scoped(struct cvm_tdx_collateral *c)
{
	size_t kept = 0;
	for (size_t i = 0; i < c->ncrls; i++) {
		if (c->crl_scoped[i]) {
			X509_CRL_free(c->crls[i]);
			continue;
		}
		c->crls[kept] = c->crls[i];
		c->crl_scoped[kept++] = false;
	}
	c->ncrls = kept;
}

/* ---- raw JSON scanning (to find the exact signed bytes) ---------------------------------- */

static size_t skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n && isspace((unsigned char)s[i]))
		i++;
	return i;
}

/* i at an opening quote; returns the index after the closing quote, or n on error. */
static size_t skip_string(const char *s, size_t i, size_t n)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return n;
}

/* i at a value; returns the index after it, or n on error. */
static size_t skip_value(const char *s, size_t i, size_t n)
{
	if (i >= n)
		return n;
	if (s[i] == '"')
		return skip_string(s, i, n);
	if (s[i] == '{' || s[i] == '[') {
		int depth = 0;
		while (i < n) {
			if (s[i] == '"') {
				i = skip_string(s, i, n);
				continue;
			}
			if (s[i] == '{' || s[i] == '[')
				depth++;
			else if (s[i] == '}' || s[i] == ']')
				if (--depth == 0)
					return i + 1;
			i++;
		}
		return n;
	}
	while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && !isspace((unsigned char)s[i]))
		i++;
	return i;
}

/* The raw span of a top-level key's value. */
static bool find_top_value(const char *s, size_t n, const char *key, size_t *off, size_t *len)
{
	size_t klen = strlen(key);
	size_t i = skip_ws(s, 0, n);
	if (i >= n || s[i] != '{')
		return false;
	i++;
	for (;;) {
		i = skip_ws(s, i, n);
		if (i >= n || s[i] != '"')
			return false;
		size_t kstart = i + 1, kend = skip_string(s, i, n);
		if (kend >= n)
			return false;
		i = skip_ws(s, kend, n);
		if (i >= n || s[i] != ':')
			return false;
		i = skip_ws(s, i + 1, n);
		size_t vend = skip_value(s, i, n);
		if (vend >= n)
			return false;
		if (kend - 1 - kstart == klen && memcmp(s + kstart, key, klen) == 0) {
			*off = i;
			*len = vend - i;
			return true;
		}
		i = skip_ws(s, vend, n);
		if (i >= n || s[i] != ',')
			return false;
		i++;
	}
}

/* One complete JSON value parsed from exactly these bytes, or NULL. */
static json_object *json_parse_span(const char *text, size_t len)
{
	if (len > INT_MAX)
		return NULL;
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return NULL;
	json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	if (o && json_tokener_get_parse_end(tok) != len) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/*
 * The checks read the signed value parsed from its own bytes, never the copy json-c kept in the
 * whole document: with a duplicated key ({"tcbInfo":<signed>,"tcbInfo":<forged>}) json-c keeps the
 * last one while the raw scan finds the first, and the forged value would be evaluated under a
 * valid signature.
 */
static int signed_json_load(const uint8_t *data, size_t len, const char *key, const char *origin,
			    struct signed_json **out, struct cvm_error *err)
{
	struct signed_json *s = calloc(1, sizeof(*s));
	if (!s || !(s->raw = malloc(len + 1))) {
		free(s);
		return cvm_error_set(err, -ENOMEM, "%s: out of memory", origin);
	}
	atomic_init(&s->refs, 1);
	memcpy(s->raw, data, len);
	s->raw[len] = '\0';
	s->len = len;
	snprintf(s->origin, sizeof(s->origin), "%s", origin);
	json_tokener *tok = json_tokener_new();
	if (tok && len <= INT_MAX)
		s->root = json_tokener_parse_ex(tok, s->raw, (int)len);
	json_tokener_free(tok);
	const char *sig_hex = NULL;
	json_object *sig = NULL;
	if (!s->root || !json_object_is_type(s->root, json_type_object) ||
	    !json_object_object_get_ex(s->root, key, NULL) ||
	    !find_top_value(s->raw, len, key, &s->body_off, &s->body_len) ||
	    !(s->body = json_parse_span(s->raw + s->body_off, s->body_len)) ||
	    !json_object_is_type(s->body, json_type_object)) {
		signed_json_free(s);
		return cvm_error_set(err, -EINVAL, "%s: not a JSON object with \"%s\"", origin, key);
	}
	if (json_object_object_get_ex(s->root, "signature", &sig) &&
	    (sig_hex = json_object_get_string(sig)) != NULL &&
	    cvm_hex_decode(sig_hex, s->signature, 64) == 0)
		s->signature_ok_shape = true;
	*out = s;
	return 0;
}

/* ---- adding collateral ------------------------------------------------------------------- */

static const char *jstr(json_object *o, const char *key);

/* scoped: it came inside the evidence being verified (cvm_tdx_collateral_drop_scoped). */
static int add_crl(struct cvm_tdx_collateral *c, X509_CRL *crl, bool scoped, const char *origin,
		   struct cvm_error *err)
{
	for (size_t i = 0; i < c->ncrls; i++) {
		if (X509_CRL_cmp(c->crls[i], crl) == 0 &&
		    X509_CRL_match(c->crls[i], crl) == 0) { /* the same CRL again */
			X509_CRL_free(crl);
			c->crl_scoped[i] = c->crl_scoped[i] && scoped; /* given: it stays */
			return 1;
		}
	}
	if (c->ncrls == MAX_CRLS) {
		X509_CRL_free(crl);
		return cvm_error_set(err, -E2BIG, "%s: more than %d CRLs", origin, MAX_CRLS);
	}
	c->crl_scoped[c->ncrls] = scoped;
	c->crls[c->ncrls++] = crl;
	return 1;
}

/* Every CRL of a PEM bundle (a root CA CRL then the PCK CRL, say); any unreadable one fails. */
static int add_pem_crls(struct cvm_tdx_collateral *c, const uint8_t *data, size_t len,
			bool scoped, const char *origin, struct cvm_error *err)
{
	size_t want = 0;
	for (const uint8_t *p = data; (p = memmem(p, len - (size_t)(p - data), "-----BEGIN X509 CRL",
						  19)) != NULL;
	     p += 19)
		want++;
	if (len > INT_MAX)
		return cvm_error_set(err, -EINVAL, "%s: too large", origin);
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	if (!bio)
		return cvm_error_set(err, -ENOMEM, "%s: out of memory", origin);
	size_t got = 0;
	int rc = 0;
	X509_CRL *crl;
	while (rc >= 0 && got < want && (crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		got++;
		rc = add_crl(c, crl, scoped, origin, err);
	}
	ERR_clear_error();
	BIO_free(bio);
	if (rc < 0)
		return rc;
	if (got != want)
		return cvm_error_set(err, -EINVAL, "%s: PEM CRL %zu of %zu is unreadable", origin,
				     got + 1, want);
	return (int)got;
}

/* A TCB info or QE identity: loaded, its key and dates read, kept beside the others. */
static int add_signed_json(struct cvm_tdx_collateral *c, const uint8_t *data, size_t len,
			   bool tcb, const char *origin, struct cvm_error *err)
{
	const char *key = tcb ? "tcbInfo" : "enclaveIdentity";
	struct signed_json *s = NULL;
	int rc = signed_json_load(data, len, key, origin, &s, err);
	if (rc)
		return rc;
	const char *is = jstr(s->body, "issueDate"), *nu = jstr(s->body, "nextUpdate");
	if (!is || !nu || cvm_time_parse_rfc3339(is, &s->issued) ||
	    cvm_time_parse_rfc3339(nu, &s->next)) {
		signed_json_free(s);
		return cvm_error_set(err, -EINVAL, "%s: \"%s\" has no readable issueDate/nextUpdate",
				     origin, key);
	}
	const char *id = jstr(s->body, "id");
	if (!id || strlen(id) >= sizeof(s->id)) {
		signed_json_free(s);
		return cvm_error_set(err, -EINVAL, "%s: \"%s\" has no short \"id\"", origin, key);
	}
	snprintf(s->id, sizeof(s->id), "%s", id);
	if (tcb) {
		const char *fmspc = jstr(s->body, "fmspc"), *pceid = jstr(s->body, "pceId");
		if (!fmspc || !pceid || strlen(fmspc) != 12 || strlen(pceid) != 4) {
			signed_json_free(s);
			return cvm_error_set(err, -EINVAL,
					     "%s: TCB info has no 12-digit fmspc and 4-digit pceId",
					     origin);
		}
		memcpy(s->key, fmspc, 12);
		memcpy(s->key + 12, pceid, 5);
		for (char *k = s->key; *k; k++)
			*k = (char)toupper((unsigned char)*k);
	} else {
		snprintf(s->key, sizeof(s->key), "%s", s->id);
	}
	struct signed_json **docs = tcb ? c->tcb_infos : c->qe_identities;
	size_t *n = tcb ? &c->ntcb_infos : &c->nqe_identities;
	for (size_t i = 0; i < *n; i++) {
		if (docs[i]->len == s->len && memcmp(docs[i]->raw, s->raw, s->len) == 0) {
			signed_json_free(s); /* the same document again */
			return 1;
		}
	}
	if (*n == MAX_DOCS) {
		signed_json_free(s);
		return cvm_error_set(err, -E2BIG, "%s: more than %d %s documents", origin, MAX_DOCS,
				     key);
	}
	docs[(*n)++] = s;
	return 1;
}

int cvm_tdx_collateral_add(struct cvm_verifier *v, const uint8_t *data, size_t len,
			   const char *origin, struct cvm_error *err)
{
	struct cvm_tdx_verifier_state *st = cvm_tdx_verifier_state(v);
	if (!st->collateral && !(st->collateral = calloc(1, sizeof(*st->collateral))))
		return cvm_error_set(err, -ENOMEM, "%s: out of memory", origin);
	struct cvm_tdx_collateral *c = st->collateral;
	size_t i = skip_ws((const char *)data, 0, len);
	if (i < len && data[i] == '{') {
		if (memmem(data, len, "\"tcbInfo\"", 9))
			return add_signed_json(c, data, len, true, origin, err);
		if (memmem(data, len, "\"enclaveIdentity\"", 17))
			return add_signed_json(c, data, len, false, origin, err);
		return cvm_error_set(err, -ENOMSG, "%s: JSON, but not TCB info or a QE identity",
				     origin);
	}
	if (memmem(data, len, "-----BEGIN X509 CRL", 19)) {
		int n = add_pem_crls(c, data, len, v->scoping, origin, err);
		if (n < 0 || !memmem(data, len, "-----BEGIN CERTIFICATE", 22))
			return n;
		int m = cvm_verifier_add_certs(v, data, len, origin, err);
		return m < 0 ? m : n + m;
	}
	if (memmem(data, len, "-----BEGIN CERTIFICATE", 22))
		return cvm_verifier_add_certs(v, data, len, origin, err);
	if (len <= LONG_MAX) {
		const unsigned char *p = data;
		X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
		if (crl && (size_t)(p - data) == len) {
			ERR_clear_error();
			return add_crl(c, crl, v->scoping, origin, err);
		}
		X509_CRL_free(crl);
		ERR_clear_error();
		p = data;
		X509 *x = d2i_X509(NULL, &p, (long)len);
		if (x && (size_t)(p - data) == len) {
			X509_free(x);
			return cvm_verifier_add_certs(v, data, len, origin, err);
		}
		X509_free(x);
		ERR_clear_error();
	}
	if (cvm_der_framed(data, len))
		return cvm_error_set(err, -EINVAL,
				     "%s: DER, but neither a readable CRL nor a certificate", origin);
	return cvm_error_set(err, -ENOMSG,
			     "%s: not TCB info, QE identity, a CRL or a certificate", origin);
}

/* ---- checks -------------------------------------------------------------------------------- */

void cvm_tdx_sig_cache_clear(struct cvm_tdx_verifier_state *st)
{
	st->nsig_cache = st->sig_cache_next = 0;
}

static bool sig_cached(const struct cvm_tdx_verifier_state *st, const void *object,
		       const struct cvm_cert *signer)
{
	for (size_t i = 0; i < st->nsig_cache; i++)
		if (st->sig_cache[i].signed_object == object && st->sig_cache[i].signer == signer)
			return true;
	return false;
}

static void sig_remember(struct cvm_tdx_verifier_state *st, const void *object,
			 const struct cvm_cert *signer)
{
	struct cvm_sig_cache_entry *e =
		&st->sig_cache[cvm_cache_slot(&st->nsig_cache, &st->sig_cache_next,
					      CVM_SIG_CACHE_SIZE)];
	e->signed_object = object;
	e->signer = signer;
}

/* ECDSA-P256/SHA-256 (hex r‖s, big-endian) over the exact bytes of the signed value. */
static bool signed_json_verify(struct cvm_tdx_verifier_state *st, const struct signed_json *s,
			       const struct cvm_cert *signer)
{
	if (sig_cached(st, s, signer))
		return true;
	bool ok = s->signature_ok_shape &&
		  cvm_ecdsa_verify_rs(X509_get0_pubkey(signer->x509), EVP_sha256(), s->signature,
				      s->signature + 32, 32, false,
				      (const uint8_t *)s->raw + s->body_off, s->body_len) == 1;
	if (ok)
		sig_remember(st, s, signer);
	return ok;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool jint(json_object *o, const char *key, int64_t *out)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

static json_object *jget(json_object *o, const char *key)
{
	json_object *v;
	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char no_signer[] =
	"no Intel SGX TCB Signing certificate: supply its issuer chain (the TCB info's) with "
	"--collateral DIR, --certs FILE or --fetch";

/* Signature of the document and the issue/next-update window; reasons into why. */
static bool document_ok(struct cvm_tdx_verifier_state *st, const struct signed_json *s,
			const char *name, const char *want_id, int64_t want_version,
			struct cvm_cert *signer, time_t t, struct cvm_verify_result *res,
			const char *sig_check, const char *doc_check)
{
	if (!signer)
		cvm_check_unevaluated(res, sig_check, true, NULL, "%s", no_signer);
	else if (signed_json_verify(st, s, signer))
		cvm_check_add(res, sig_check, CVM_CHECK_PASS,
			      "%s signature verifies with the TCB Signing key", name);
	else
		cvm_check_add(res, sig_check, CVM_CHECK_FAIL,
			      "%s signature does not verify with the TCB Signing key", name);

	const char *id = jstr(s->body, "id");
	int64_t version = 0;
	time_t issued, next;
	const char *is = jstr(s->body, "issueDate"), *nu = jstr(s->body, "nextUpdate");
	char at[32];
	cvm_time_format(t, at, sizeof(at));
	if (!id || strcmp(id, want_id) != 0 || !jint(s->body, "version", &version) ||
	    version != want_version) {
		cvm_check_add(res, doc_check, CVM_CHECK_FAIL, "%s is not id \"%s\" version %lld", name,
			      want_id, (long long)want_version);
		return false;
	}
	if (!is || !nu || cvm_time_parse_rfc3339(is, &issued) || cvm_time_parse_rfc3339(nu, &next)) {
		cvm_check_add(res, doc_check, CVM_CHECK_FAIL, "%s has no readable issueDate/nextUpdate", name);
		return false;
	}
	if (t < issued || t > next) {
		cvm_check_add(res, doc_check, CVM_CHECK_FAIL,
			      "%s is valid %s..%s, not at the verification time %s", name, is, nu, at);
		return false;
	}
	return true;
}

static struct cvm_cert *find_tcb_signer(struct cvm_verifier *v, struct cvm_cert *root, time_t t,
					struct cvm_verify_result *res)
{
	struct cvm_cert *first = NULL;
	char why[CVM_CHECK_REASON_MAX] = "";
	for (size_t i = 0; i < v->ncerts; i++) {
		struct cvm_cert *c = v->certs[i];
		if (c->role != CVM_CERT_INTEL_TCB_SIGNING)
			continue;
		if (!first)
			first = c;
		char w[CVM_CHECK_REASON_MAX];
		if (cvm_cert_link_ok(c, root, t, "TCB Signing certificate", w, sizeof(w))) {
			cvm_check_add(res, "collateral-signer", CVM_CHECK_PASS,
				      "Intel SGX TCB Signing -> Intel SGX Root CA (bundled)");
			return c;
		}
		if (!why[0])
			memcpy(why, w, sizeof(why));
	}
	if (!first)
		cvm_check_unevaluated(res, "collateral-signer", true, NULL, "%s", no_signer);
	else
		cvm_check_add(res, "collateral-signer", CVM_CHECK_FAIL, "%s", why);
	return first;
}

static bool svn_array_ge(json_object *arr, const uint8_t *have, size_t start, size_t n)
{
	if (!arr || !json_object_is_type(arr, json_type_array) || json_object_array_length(arr) < n)
		return false;
	for (size_t i = start; i < n; i++) {
		int64_t svn;
		if (!jint(json_object_array_get_idx(arr, i), "svn", &svn) || have[i] < svn)
			return false;
	}
	return true;
}

/* Known, not revoked: reported and accepted unless UpToDate is required. */
static bool status_acceptable(const char *st, bool require_uptodate)
{
	if (strcmp(st, "UpToDate") == 0)
		return true;
	if (require_uptodate)
		return false;
	static const char *const known[] = {"SWHardeningNeeded", "ConfigurationNeeded",
					    "ConfigurationAndSWHardeningNeeded", "OutOfDate",
					    "OutOfDateConfigurationNeeded"};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(known); i++)
		if (strcmp(st, known[i]) == 0)
			return true;
	return false;
}

/* The worse of two statuses, for combining the platform level and the TDX module level. */
static const char *worse_status(const char *a, const char *b)
{
	if (!b)
		return a;
	if (strcmp(a, "UpToDate") == 0)
		return b;
	if (strcmp(b, "UpToDate") == 0)
		return a;
	if (!status_acceptable(b, false))
		return b;
	return strncmp(b, "OutOfDate", 9) == 0 ? b : a;
}

/* Intel QVL's convergence of the platform's TCB status with the QE identity's. */
static const char *fold_qe_status(const char *tcb, const char *qe)
{
	if (!qe)
		return tcb;
	if (strcmp(qe, "OutOfDate") == 0) {
		if (strcmp(tcb, "UpToDate") == 0 || strcmp(tcb, "SWHardeningNeeded") == 0)
			return "OutOfDate";
		if (strcmp(tcb, "ConfigurationNeeded") == 0 ||
		    strcmp(tcb, "ConfigurationAndSWHardeningNeeded") == 0)
			return "OutOfDateConfigurationNeeded";
	}
	if (strcmp(qe, "Revoked") == 0)
		return "Revoked";
	return tcb;
}

/* Append a level's advisoryIDs to res->advisory_ids (comma-separated, bounded). */
static void add_advisories(struct cvm_verify_result *res, json_object *level)
{
	json_object *ids = jget(level, "advisoryIDs");
	size_t n = ids && json_object_is_type(ids, json_type_array) ? json_object_array_length(ids) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *item = json_object_array_get_idx(ids, i);
		/* a string only: json-c would write the text of any other kind into the shared object */
		const char *id = json_object_is_type(item, json_type_string)
					 ? json_object_get_string(item)
					 : NULL;
		size_t used = strlen(res->advisory_ids);
		if (!id || used + strlen(id) + 2 > sizeof(res->advisory_ids))
			continue;
		snprintf(res->advisory_ids + used, sizeof(res->advisory_ids) - used, "%s%s",
			 used ? "," : "", id);
	}
}

static void check_tcb_info(const struct signed_json *s, const struct cvm_tdx_quote *q,
			   const struct cvm_sgx_pck_ext *pck, const char *qe_status,
			   bool require_uptodate, struct cvm_verify_result *res)
{
	char fmspc[13], pceid[5];
	cvm_hex_encode(pck->fmspc, 6, fmspc);
	cvm_hex_encode(pck->pceid, 2, pceid);
	cvm_check_add(res, "tcb-info", CVM_CHECK_PASS, "TCB info for FMSPC %s PCE ID %s is current (%s)",
		      fmspc, pceid, s->origin);

	json_object *mod = jget(s->body, "tdxModule");
	uint8_t mrsigner[48], attr[8], mask[8];
	const char *ms = jstr(mod, "mrsigner"), *at = jstr(mod, "attributes"),
		   *am = jstr(mod, "attributesMask");
	if (!ms || !at || !am || cvm_hex_decode(ms, mrsigner, 48) || cvm_hex_decode(at, attr, 8) ||
	    cvm_hex_decode(am, mask, 8)) {
		cvm_check_add(res, "tdx-module", CVM_CHECK_FAIL, "TCB info has no readable tdxModule");
	} else {
		uint8_t seam[8];
		cvm_put_le64(seam, q->body.seam_attributes);
		bool attr_ok = true;
		for (int i = 0; i < 8; i++)
			if ((seam[i] & mask[i]) != attr[i])
				attr_ok = false;
		if (!cvm_memeq_ct(q->body.mrsignerseam, mrsigner, 48))
			cvm_check_add(res, "tdx-module", CVM_CHECK_FAIL,
				      "MRSIGNERSEAM differs from tcbInfo.tdxModule.mrsigner");
		else if (!attr_ok)
			cvm_check_add(res, "tdx-module", CVM_CHECK_FAIL,
				      "SEAMATTRIBUTES 0x%llx do not match tcbInfo.tdxModule attributes",
				      (unsigned long long)q->body.seam_attributes);
		else
			cvm_check_add(res, "tdx-module", CVM_CHECK_PASS,
				      "MRSIGNERSEAM and SEAMATTRIBUTES match tcbInfo.tdxModule");
	}

	/* Platform TCB level: the first whose SGX components, PCESVN and TDX components are met. */
	const uint8_t *svn = q->body.tee_tcb_svn;
	size_t tdx_start = svn[1] > 0 ? 2 : 0;
	json_object *levels = jget(s->body, "tcbLevels");
	const char *status = NULL, *date = NULL;
	size_t nlevels = levels && json_object_is_type(levels, json_type_array)
				 ? json_object_array_length(levels)
				 : 0;
	for (size_t i = 0; i < nlevels && !status; i++) {
		json_object *lv = json_object_array_get_idx(levels, i), *tcb = jget(lv, "tcb");
		int64_t pcesvn;
		if (!jint(tcb, "pcesvn", &pcesvn) || pck->pcesvn < pcesvn ||
		    !svn_array_ge(jget(tcb, "sgxtcbcomponents"), pck->tcb_comp, 0, 16) ||
		    !svn_array_ge(jget(tcb, "tdxtcbcomponents"), svn, tdx_start, 16))
			continue;
		status = jstr(lv, "tcbStatus");
		date = jstr(lv, "tcbDate");
		add_advisories(res, lv);
	}
	if (!status) {
		snprintf(res->tcb_status, sizeof(res->tcb_status), "Unsupported");
		cvm_check_add(res, "tcb-status", CVM_CHECK_FAIL, "no TCB level of the TCB info matches this platform");
		return;
	}
	if (date)
		snprintf(res->tcb_date, sizeof(res->tcb_date), "%s", date);
	const char *mod_status = NULL;
	if (svn[1] > 0) {
		char want[16];
		snprintf(want, sizeof(want), "TDX_%02X", svn[1]);
		json_object *ids = jget(s->body, "tdxModuleIdentities");
		size_t nids = ids && json_object_is_type(ids, json_type_array) ? json_object_array_length(ids) : 0;
		for (size_t i = 0; i < nids && !mod_status; i++) {
			json_object *id = json_object_array_get_idx(ids, i);
			const char *name = jstr(id, "id");
			if (!name || strcasecmp(name, want) != 0)
				continue;
			json_object *ml = jget(id, "tcbLevels");
			size_t nml = ml && json_object_is_type(ml, json_type_array) ? json_object_array_length(ml) : 0;
			for (size_t k = 0; k < nml && !mod_status; k++) {
				int64_t isvsvn;
				json_object *l = json_object_array_get_idx(ml, k);
				if (jint(jget(l, "tcb"), "isvsvn", &isvsvn) && isvsvn <= svn[0]) {
					mod_status = jstr(l, "tcbStatus");
					add_advisories(res, l);
				}
			}
		}
		if (!mod_status)
			mod_status = "Unsupported";
	}
	const char *platform = worse_status(status, mod_status);
	const char *final = fold_qe_status(platform, qe_status);
	snprintf(res->tcb_status, sizeof(res->tcb_status), "%s", final);
	cvm_check_add(res, "tcb-status",
		      status_acceptable(final, require_uptodate) ? CVM_CHECK_PASS : CVM_CHECK_FAIL,
		      "TDX TCB status %s (platform level %s, tcbDate %s%s%s, QE %s)%s", final, status,
		      date ? date : "?", mod_status ? ", TDX module " : "", mod_status ? mod_status : "",
		      qe_status ? qe_status : "not evaluated",
		      strcmp(final, "UpToDate") != 0 && status_acceptable(final, require_uptodate)
			      ? "; reported, not required to be UpToDate"
			      : "");
}

/* The QE identity checks; the QE's TCB status (a string of the document), or NULL. */
static const char *check_qe_identity(const struct signed_json *s, const struct cvm_tdx_quote *q,
				     bool require_uptodate, struct cvm_verify_result *res)
{
	uint8_t mrsigner[32], misc[4], misc_mask[4], attr[16], attr_mask[16];
	int64_t prodid;
	const char *ms = jstr(s->body, "mrsigner"), *mi = jstr(s->body, "miscselect"),
		   *mim = jstr(s->body, "miscselectMask"), *at = jstr(s->body, "attributes"),
		   *atm = jstr(s->body, "attributesMask");
	if (!ms || !mi || !mim || !at || !atm || cvm_hex_decode(ms, mrsigner, 32) ||
	    cvm_hex_decode(mi, misc, 4) || cvm_hex_decode(mim, misc_mask, 4) ||
	    cvm_hex_decode(at, attr, 16) || cvm_hex_decode(atm, attr_mask, 16) ||
	    !jint(s->body, "isvprodid", &prodid)) {
		cvm_check_add(res, "qe-identity", CVM_CHECK_FAIL, "QE identity fields are unreadable");
		return NULL;
	}
	const uint8_t *raw = q->qe_report_raw;
	bool misc_ok = true, attr_ok = true;
	for (int i = 0; i < 4; i++)
		if ((raw[16 + i] & misc_mask[i]) != misc[i])
			misc_ok = false;
	for (int i = 0; i < 16; i++)
		if ((raw[48 + i] & attr_mask[i]) != attr[i])
			attr_ok = false;
	if (!cvm_memeq_ct(q->qe_report.mrsigner, mrsigner, 32)) {
		cvm_check_add(res, "qe-identity", CVM_CHECK_FAIL,
			      "QE MRSIGNER differs from the QE identity's mrsigner");
		return NULL;
	}
	if (prodid != q->qe_report.isvprodid) {
		cvm_check_add(res, "qe-identity", CVM_CHECK_FAIL,
			      "QE ISVPRODID %u, the QE identity has %lld", q->qe_report.isvprodid,
			      (long long)prodid);
		return NULL;
	}
	if (!misc_ok || !attr_ok) {
		cvm_check_add(res, "qe-identity", CVM_CHECK_FAIL,
			      "QE %s do not match the QE identity under its mask",
			      misc_ok ? "ATTRIBUTES" : "MISCSELECT");
		return NULL;
	}
	json_object *levels = jget(s->body, "tcbLevels");
	size_t n = levels && json_object_is_type(levels, json_type_array) ? json_object_array_length(levels) : 0;
	const char *status = NULL;
	for (size_t i = 0; i < n && !status; i++) {
		json_object *l = json_object_array_get_idx(levels, i);
		int64_t isvsvn;
		if (jint(jget(l, "tcb"), "isvsvn", &isvsvn) && isvsvn <= q->qe_report.isvsvn) {
			status = jstr(l, "tcbStatus");
			add_advisories(res, l);
		}
	}
	if (!status)
		status = "Unsupported";
	snprintf(res->qe_tcb_status, sizeof(res->qe_tcb_status), "%s", status);
	cvm_check_add(res, "qe-identity",
		      status_acceptable(status, require_uptodate) ? CVM_CHECK_PASS : CVM_CHECK_FAIL,
		      "QE MRSIGNER, ISVPRODID %u, MISCSELECT and ATTRIBUTES match the TD_QE identity; "
		      "QE ISVSVN %u has TCB status %s",
		      q->qe_report.isvprodid, q->qe_report.isvsvn, status);
	return status_acceptable(status, false) || strcmp(status, "Revoked") == 0 ? status : NULL;
}

static const char supply[] = "supply it with --collateral DIR or --fetch";

static void check_crls(struct cvm_tdx_verifier_state *st, const struct cvm_tdx_collateral *c,
		       struct cvm_cert *leaf, struct cvm_cert *ca, struct cvm_cert *root, time_t t,
		       bool required, struct cvm_verify_result *res)
{
	if (!c || c->ncrls == 0) {
		cvm_check_unevaluated(res, "revocation", required, "by --require-revocation",
				      "no CRL for the PCK chain: supply the root CA CRL and the PCK "
				      "CRL with --collateral DIR or --fetch");
		return;
	}
	char at[32];
	cvm_time_format(t, at, sizeof(at));
	size_t used = 0;
	bool have_pck_crl = false, have_root_crl = false;
	for (size_t i = 0; i < c->ncrls; i++) {
		X509_CRL *crl = c->crls[i];
		struct cvm_cert *issuer = NULL, *subject = NULL;
		const char *what;
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(root->x509)) == 0) {
			issuer = root;
			subject = ca;
			what = "root CA CRL";
			have_root_crl = true;
		} else if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca->x509)) == 0) {
			issuer = ca;
			subject = leaf;
			what = "PCK CRL";
			have_pck_crl = true;
		} else {
			continue; /* a CRL of another CA (say the Processor CA): not this chain's */
		}
		used++;
		if (!sig_cached(st, crl, issuer)) {
			if (X509_CRL_verify(crl, X509_get0_pubkey(issuer->x509)) != 1) {
				ERR_clear_error();
				cvm_check_add(res, "revocation", CVM_CHECK_FAIL,
					      "%s signature does not verify", what);
				return;
			}
			sig_remember(st, crl, issuer);
		}
		time_t last = 0, next = 0;
		if (!cvm_asn1_time_to_time(X509_CRL_get0_lastUpdate(crl), &last) ||
		    !cvm_asn1_time_to_time(X509_CRL_get0_nextUpdate(crl), &next)) {
			cvm_check_add(res, "revocation", CVM_CHECK_FAIL,
				      "%s has no readable lastUpdate/nextUpdate", what);
			return;
		}
		if (t < last || t > next) {
			char a[32], b[32];
			cvm_time_format(last, a, sizeof(a));
			cvm_time_format(next, b, sizeof(b));
			cvm_check_add(res, "revocation", CVM_CHECK_FAIL, "%s is valid %s..%s, not at %s",
				      what, a, b, at);
			return;
		}
		X509_REVOKED *rev = NULL;
		if (X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(subject->x509)) == 1) {
			cvm_check_add(res, "revocation", CVM_CHECK_FAIL, "the %s is revoked by the %s",
				      subject == leaf ? "PCK certificate" : "PCK CA", what);
			return;
		}
	}
	if (used == 0)
		cvm_check_add(res, "revocation", CVM_CHECK_FAIL,
			      "none of the %zu CRLs is issued by this chain's CAs", c->ncrls);
	else if (!have_pck_crl || !have_root_crl)
		cvm_check_unevaluated(res, "revocation", required, "by --require-revocation",
				      "the %s checked, but no %s: %s", have_pck_crl ? "PCK CRL" : "root CA CRL",
				      have_pck_crl ? "root CA CRL" : "PCK CRL", supply);
	else
		cvm_check_add(res, "revocation", CVM_CHECK_PASS,
			      "root CA CRL and PCK CRL checked: neither the PCK CA nor the PCK "
			      "certificate is revoked");
}

/* Seconds between a document's validity and t: 0 when valid at t. */
static time_t doc_distance(const struct signed_json *s, time_t t)
{
	return t < s->issued ? s->issued - t : t > s->next ? t - s->next : 0;
}

/*
 * The document with this key and id valid at t (the latest issued), else the one nearest to t:
 * an SGX TCB info of the same FMSPC never stands in for the TDX one.
 */
static const struct signed_json *select_doc(struct signed_json *const *docs, size_t n,
					    const char *key, const char *id, time_t t)
{
	const struct signed_json *best = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct signed_json *s = docs[i];
		if (strcasecmp(s->key, key) != 0 || strcmp(s->id, id) != 0)
			continue;
		if (!best || doc_distance(s, t) < doc_distance(best, t) ||
		    (doc_distance(s, t) == doc_distance(best, t) && s->issued >= best->issued))
			best = s;
	}
	return best;
}

void cvm_tdx_collateral_check(struct cvm_verifier *v, const struct cvm_tdx_quote *q,
			      struct cvm_cert *leaf, struct cvm_cert *ca, struct cvm_cert *root,
			      time_t t, const struct cvm_verify_options *opt,
			      struct cvm_verify_result *res)
{
	struct cvm_tdx_verifier_state *st = cvm_tdx_verifier_state(v);
	const struct cvm_tdx_collateral *c = st->collateral;
	check_crls(st, c, leaf, ca, root, t, opt->require_revocation, res);

	struct cvm_sgx_pck_ext pck;
	struct cvm_error perr;
	cvm_error_clear(&perr);
	if (cvm_sgx_pck_ext_of(leaf, &pck, &perr) != 0) {
		cvm_check_add(res, "tcb-status", CVM_CHECK_FAIL, "%s", cvm_error_message(&perr));
		return;
	}
	res->has_pck = true;
	memcpy(res->fmspc, pck.fmspc, 6);
	memcpy(res->pce_id, pck.pceid, 2);
	char key[17];
	cvm_hex_encode(pck.fmspc, 6, key);
	cvm_hex_encode(pck.pceid, 2, key + 12);
	const struct signed_json *tcb = c ? select_doc(c->tcb_infos, c->ntcb_infos, key, "TDX", t) : NULL;
	const struct signed_json *qe =
		c ? select_doc(c->qe_identities, c->nqe_identities, "TD_QE", "TD_QE", t) : NULL;
	struct cvm_cert *signer = tcb || qe ? find_tcb_signer(v, root, t, res) : NULL;

	const char *qe_status = NULL;
	if (qe) {
		if (document_ok(st, qe, "QE identity", "TD_QE", 2, signer, t, res,
				"qe-identity-signature", "qe-identity"))
			qe_status = check_qe_identity(qe, q, opt->require_uptodate, res);
	} else {
		size_t others = c ? c->nqe_identities : 0;
		cvm_check_unevaluated(res, "qe-identity",
				      cvm_check_required(opt, CVM_ALLOW_QE_IDENTITY),
				      "accept with --allow-unevaluated qe-identity",
				      "no TD_QE identity%s to check the QE's MRSIGNER, ISVPRODID and "
				      "ISVSVN against: %s",
				      others ? " (only other QE identities were given)" : "", supply);
	}
	if (tcb) {
		if (document_ok(st, tcb, "TCB info", "TDX", 3, signer, t, res, "tcb-info-signature",
				"tcb-info"))
			check_tcb_info(tcb, q, &pck, qe_status, opt->require_uptodate, res);
		else
			cvm_check_add(res, "tcb-status", CVM_CHECK_FAIL,
				      "not evaluated: the TCB info for FMSPC %.12s (%s) is not usable "
				      "(see tcb-info)",
				      key, tcb->origin);
	} else {
		size_t others = c ? c->ntcb_infos : 0;
		cvm_check_unevaluated(res, "tcb-status",
				      cvm_check_required(opt, CVM_ALLOW_TCB_STATUS),
				      "accept with --allow-unevaluated tcb-status",
				      "no TCB info for FMSPC %.12s PCE ID %s%s to judge the TCB level and the TDX "
				      "module by: %s", key, key + 12,
				      others ? " (the TCB infos given are for other platforms)" : "",
				      supply);
	}
}
