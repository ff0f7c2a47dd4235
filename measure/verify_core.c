/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vendor-neutral verifier core: the check list, ECDSA over raw (r, s), a bounded DER reader,
 * time and X.509 helpers, and the verifier's certificate pool (trust anchors, added
 * certificates, cached issuer links).  SNP and TDX plug their certificate classifiers and
 * state into the verifier (measure/verify_internal.h); nothing here knows either.
 */
#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "measure/verify_internal.h"

/* ---- check list -------------------------------------------------------------------------- */

void cvm_verify_result_init(struct cvm_verify_result *res)
{
	memset(res, 0, sizeof(*res));
}

bool cvm_verify_result_ok(const struct cvm_verify_result *res)
{
	if (res->lost)
		return false;
	bool any_pass = false;
	for (size_t i = 0; i < res->nchecks; i++) {
		if (res->checks[i].status == CVM_CHECK_FAIL)
			return false;
		if (res->checks[i].status == CVM_CHECK_PASS)
			any_pass = true;
	}
	return any_pass;
}

const struct cvm_check *cvm_verify_result_find(const struct cvm_verify_result *res,
					       const char *name)
{
	for (size_t i = 0; i < res->nchecks; i++)
		if (strcmp(res->checks[i].name, name) == 0)
			return &res->checks[i];
	return NULL;
}

const char *cvm_check_status_name(enum cvm_check_status st)
{
	switch (st) {
	case CVM_CHECK_PASS:
		return "pass";
	case CVM_CHECK_FAIL:
		return "fail";
	default:
		return "skip";
	}
}

size_t cvm_verify_result_unevaluated(const struct cvm_verify_result *res)
{
	size_t n = 0;
	for (size_t i = 0; i < res->nchecks; i++)
		if (res->checks[i].unevaluated && res->checks[i].status == CVM_CHECK_SKIP)
			n++;
	return n;
}

/* The next slot, or NULL when the list is full (then the check is counted as lost). */
static struct cvm_check *check_slot(struct cvm_verify_result *res, const char *name,
				    enum cvm_check_status st)
{
	if (res->nchecks >= CVM_VERIFY_MAX_CHECKS) {
		res->lost++;
		return NULL;
	}
	struct cvm_check *c = &res->checks[res->nchecks++];
	c->name = name;
	c->status = st;
	c->unevaluated = false;
	return c;
}

void cvm_check_add(struct cvm_verify_result *res, const char *name, enum cvm_check_status st,
		   const char *fmt, ...)
{
	struct cvm_check *c = check_slot(res, name, st);
	if (!c)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
}

void cvm_check_unevaluated(struct cvm_verify_result *res, const char *name, bool required,
			   const char *how, const char *fmt, ...)
{
	struct cvm_check *c = check_slot(res, name, required ? CVM_CHECK_FAIL : CVM_CHECK_SKIP);
	if (!c)
		return;
	c->unevaluated = true;
	static const char prefix[] = "not evaluated: ";
	size_t cap = sizeof(c->reason), used = sizeof(prefix) - 1;
	memcpy(c->reason, prefix, used + 1);
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(c->reason + used, cap - used, fmt, ap);
	va_end(ap);
	used = n < 0 ? used : used + (size_t)n;
	if (required && how && used + 1 < cap) {
		int m = snprintf(c->reason + used, cap - used, "; required (%s)", how);
		(void)m;
	}
}

static const struct {
	const char *name;
	uint32_t bit;
} allow_names[] = {
	{"cert-chain", CVM_ALLOW_CERT_CHAIN},   {"reported-tcb", CVM_ALLOW_REPORTED_TCB},
	{"chip-id", CVM_ALLOW_CHIP_ID},         {"tcb-status", CVM_ALLOW_TCB_STATUS},
	{"qe-identity", CVM_ALLOW_QE_IDENTITY},
};

int cvm_verify_allow_parse(const char *list, uint32_t *mask, struct cvm_error *err)
{
	uint32_t m = 0;
	const char *p = list;
	for (;;) {
		size_t n = strcspn(p, ",");
		size_t i;
		for (i = 0; i < CVM_ARRAY_SIZE(allow_names); i++)
			if (strlen(allow_names[i].name) == n && memcmp(allow_names[i].name, p, n) == 0)
				break;
		if (i == CVM_ARRAY_SIZE(allow_names))
			return cvm_error_set(err, -EINVAL,
					     "'%.*s' is not a check that may be accepted unevaluated "
					     "(cert-chain, reported-tcb, chip-id, tcb-status, "
					     "qe-identity)",
					     (int)(n > 64 ? 64 : n), p);
		m |= allow_names[i].bit;
		if (!p[n])
			break;
		p += n + 1;
	}
	*mask = m;
	return 0;
}

bool cvm_check_required(const struct cvm_verify_options *opt, uint32_t bit)
{
	return !(opt->allow_unevaluated & bit);
}

void cvm_verify_result_add(struct cvm_verify_result *res, const char *name,
			   enum cvm_check_status st, const char *reason)
{
	cvm_check_add(res, name, st, "%s", reason);
}

/* Values up to this many bytes are shown whole; longer ones abbreviated (reasons are bounded). */
#define MISMATCH_FULL_MAX 32u
/* Abbreviated values show the first 8 bytes, 8 from the first difference on, the last 4. */
#define MISMATCH_HEAD 8u
#define MISMATCH_WINDOW 8u
#define MISMATCH_TAIL 4u

static bool mismatch_byte_shown(size_t i, size_t n, size_t first_diff)
{
	if (n <= MISMATCH_FULL_MAX)
		return true;
	return i < MISMATCH_HEAD || i + MISMATCH_TAIL >= n ||
	       (i >= first_diff && i - first_diff < MISMATCH_WINDOW);
}

/* Lower-case hex of the shown bytes, "..." for each run of hidden ones.  out: 3n + 1 bytes. */
static void mismatch_hex(const uint8_t *p, size_t n, size_t first_diff, char *out)
{
	char *o = out;
	bool hidden_run = false;
	for (size_t i = 0; i < n; i++) {
		if (mismatch_byte_shown(i, n, first_diff)) {
			cvm_hex_encode(p + i, 1, o);
			o += 2;
			hidden_run = false;
		} else if (!hidden_run) {
			memcpy(o, "...", 3);
			o += 3;
			hidden_run = true;
		}
	}
	*o = '\0';
}

void cvm_mismatch_describe(char *buf, size_t size, const char *field, const uint8_t *have,
			   const uint8_t *want, size_t n)
{
	/*
	 * Only called once a constant-time comparison has failed, so finding the first difference
	 * by an ordinary loop leaks nothing the verdict has not already told.
	 */
	size_t first_diff = 0;
	while (first_diff < n && have[first_diff] == want[first_diff])
		first_diff++;
	if (n > 64) {
		snprintf(buf, size, "%s differs from the expected value at byte %zu", field, first_diff);
		return;
	}
	char h[3 * 64 + 1], w[3 * 64 + 1];
	mismatch_hex(have, n, first_diff, h);
	mismatch_hex(want, n, first_diff, w);
	snprintf(buf, size, "%s %s, expected %s (first difference at byte %zu)", field, h, w,
		 first_diff);
}

void cvm_check_match_bytes(struct cvm_verify_result *res, const char *name, const char *field,
			   const uint8_t *have, const uint8_t *want, size_t n)
{
	if (cvm_memeq_ct(have, want, n)) {
		cvm_check_add(res, name, CVM_CHECK_PASS, "%s equals the expected value", field);
	} else {
		char why[CVM_CHECK_REASON_MAX];
		cvm_mismatch_describe(why, sizeof(why), field, have, want, n);
		cvm_check_add(res, name, CVM_CHECK_FAIL, "%s", why);
	}
}

void cvm_check_report_data(struct cvm_verify_result *res, const char *field,
			   const uint8_t have[64], const struct cvm_verify_options *opt)
{
	if (!opt->has_report_data)
		return;
	cvm_check_match_bytes(res, "report-data", field, have, opt->report_data, 64);
}

/* ---- signatures --------------------------------------------------------------------------- */

/* r and s as a DER ECDSA-Sig-Value; OPENSSL_free the result.  NULL on failure. */
static unsigned char *ecdsa_sig_der(const uint8_t *r, const uint8_t *s, size_t n,
				    bool little_endian, int *der_len)
{
	if (n > INT_MAX)
		return NULL;
	BIGNUM *br = little_endian ? BN_lebin2bn(r, (int)n, NULL) : BN_bin2bn(r, (int)n, NULL);
	BIGNUM *bs = little_endian ? BN_lebin2bn(s, (int)n, NULL) : BN_bin2bn(s, (int)n, NULL);
	ECDSA_SIG *sig = ECDSA_SIG_new();
	unsigned char *der = NULL;
	if (br && bs && sig && ECDSA_SIG_set0(sig, br, bs) == 1) {
		br = bs = NULL; /* owned by sig now */
		*der_len = i2d_ECDSA_SIG(sig, &der);
		if (*der_len <= 0) {
			OPENSSL_free(der);
			der = NULL;
		}
	}
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(sig);
	return der;
}

int cvm_ecdsa_verify_rs(EVP_PKEY *key, const EVP_MD *md, const uint8_t *r, const uint8_t *s,
			size_t n, bool little_endian, const uint8_t *msg, size_t len)
{
	int der_len = 0;
	unsigned char *der = ecdsa_sig_der(r, s, n, little_endian, &der_len);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -1;
	/* EVP_DigestVerify: 1 verifies, 0 does not, negative is an error (not a "true"). */
	if (key && der && ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1)
		rc = EVP_DigestVerify(ctx, der, (size_t)der_len, msg, len) == 1 ? 1 : 0;
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return rc;
}

/* ---- DER ---------------------------------------------------------------------------------- */

bool cvm_der_next(struct cvm_cursor *c, struct cvm_der *out)
{
	struct cvm_cursor t = *c;
	uint8_t tag, l0;
	if (!cvm_cursor_u8(&t, &tag) || !cvm_cursor_u8(&t, &l0))
		return false;
	if ((tag & 0x1f) == 0x1f)
		return false; /* high tag numbers: not used by the structures we read */
	size_t len = l0;
	if (l0 & 0x80) {
		unsigned nbytes = l0 & 0x7fu;
		if (nbytes == 0 || nbytes > 4)
			return false;
		len = 0;
		for (unsigned i = 0; i < nbytes; i++) {
			uint8_t b;
			if (!cvm_cursor_u8(&t, &b))
				return false;
			len = (len << 8) | b;
		}
	}
	const uint8_t *val;
	if (!cvm_cursor_bytes(&t, len, &val))
		return false;
	out->tag = tag;
	out->val = val;
	out->len = len;
	*c = t;
	return true;
}

bool cvm_der_uint(const struct cvm_der *d, uint64_t *out)
{
	if (d->tag != 0x02 || d->len == 0 || (d->val[0] & 0x80))
		return false;
	size_t i = 0;
	while (i < d->len - 1 && d->val[i] == 0)
		i++;
	if (d->len - i > 8)
		return false;
	uint64_t v = 0;
	for (; i < d->len; i++)
		v = (v << 8) | d->val[i];
	*out = v;
	return true;
}

bool cvm_der_oid_is(const struct cvm_der *d, const char *dotted)
{
	if (d->tag != 0x06)
		return false;
	uint8_t enc[64];
	size_t n = 0;
	unsigned long arcs[32];
	size_t narcs = 0;
	const char *s = dotted;
	while (*s && narcs < CVM_ARRAY_SIZE(arcs)) {
		char *end;
		arcs[narcs++] = strtoul(s, &end, 10);
		s = *end == '.' ? end + 1 : end;
		if (*end != '.' && *end != '\0')
			return false;
	}
	if (narcs < 2)
		return false;
	unsigned long first = arcs[0] * 40 + arcs[1];
	for (size_t i = 1; i < narcs; i++) {
		unsigned long a = i == 1 ? first : arcs[i];
		uint8_t tmp[10];
		size_t k = 0;
		do {
			tmp[k++] = (uint8_t)(a & 0x7f);
			a >>= 7;
		} while (a && k < sizeof(tmp));
		if (n + k > sizeof(enc))
			return false;
		while (k > 0) {
			k--;
			enc[n++] = (uint8_t)(tmp[k] | (k ? 0x80 : 0));
		}
	}
	return d->len == n && memcmp(d->val, enc, n) == 0;
}

/* ---- time --------------------------------------------------------------------------------- */

static bool read_digits(const char **s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return false;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return true;
}

static int days_in_month(int y, int mo)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return mo == 2 && leap ? 29 : days[mo - 1];
}

int cvm_time_parse_rfc3339(const char *text, time_t *out)
{
	const char *s = text;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	if (!read_digits(&s, 4, &y) || *s++ != '-' || !read_digits(&s, 2, &mo) || *s++ != '-' ||
	    !read_digits(&s, 2, &d))
		return -EINVAL;
	long offset = 0;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (!read_digits(&s, 2, &h) || *s++ != ':' || !read_digits(&s, 2, &mi) ||
		    *s++ != ':' || !read_digits(&s, 2, &sec))
			return -EINVAL;
		if (*s == '.')
			for (s++; isdigit((unsigned char)*s); s++)
				;
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			int sign = *s++ == '-' ? -1 : 1, oh, om;
			if (!read_digits(&s, 2, &oh) || *s++ != ':' || !read_digits(&s, 2, &om))
				return -EINVAL;
			offset = sign * (oh * 3600L + om * 60L);
		} else {
			return -EINVAL;
		}
	}
	/* 2025-02-31 is no date (timegm would make it 3 March) */
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return -EINVAL;
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = timegm(&tm) - offset;
	return 0;
}

void cvm_time_format(time_t t, char *buf, size_t n)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, n, "@%lld", (long long)t);
}

bool cvm_asn1_time_to_time(const ASN1_TIME *at, time_t *out)
{
	struct tm tm;
	if (!at || ASN1_TIME_to_tm(at, &tm) != 1)
		return false;
	*out = timegm(&tm);
	return true;
}

/* ---- certificates ------------------------------------------------------------------------- */

void cvm_x509_cn(const X509_NAME *name, char *buf, size_t n)
{
	buf[0] = '\0';
	if (!name)
		return;
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (i < 0)
		return;
	const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	int len = ASN1_STRING_length(s);
	if (len < 0)
		return;
	size_t m = (size_t)len < n - 1 ? (size_t)len : n - 1;
	memcpy(buf, ASN1_STRING_get0_data(s), m);
	buf[m] = '\0';
	for (size_t k = 0; k < m; k++)
		if (!isprint((unsigned char)buf[k]))
			buf[k] = '?';
}

const ASN1_OCTET_STRING *cvm_x509_find_ext(X509 *cert, const char *dotted)
{
	int n = X509_get_ext_count(cert);
	for (int i = 0; i < n; i++) {
		X509_EXTENSION *e = X509_get_ext(cert, i);
		char buf[64];
		/* A longer OID is truncated to 63 characters, so it cannot equal a shorter target. */
		if (OBJ_obj2txt(buf, sizeof(buf), X509_EXTENSION_get_object(e), 1) <= 0)
			continue;
		if (strcmp(buf, dotted) == 0)
			return X509_EXTENSION_get_data(e);
	}
	return NULL;
}

bool cvm_x509_ec_key_is(X509 *cert, const char *group)
{
	EVP_PKEY *key = X509_get0_pubkey(cert);
	char have[32] = "";
	size_t glen = 0;
	bool ok = key && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
		  EVP_PKEY_get_utf8_string_param(key, "group", have, sizeof(have), &glen) == 1 &&
		  strcmp(have, group) == 0;
	ERR_clear_error();
	return ok;
}

static void cert_free(struct cvm_cert *c)
{
	if (!c)
		return;
	X509_free(c->x509);
	free(c->ext);
	free(c);
}

static void classify_cert(const struct cvm_verifier *v, struct cvm_cert *c)
{
	char cn[96], icn[96];
	cvm_x509_cn(X509_get_subject_name(c->x509), cn, sizeof(cn));
	cvm_x509_cn(X509_get_issuer_name(c->x509), icn, sizeof(icn));
	c->role = CVM_CERT_OTHER;
	c->product = CVM_AMD_UNKNOWN;
	for (size_t i = 0; i < v->nclassify; i++)
		if (v->classify[i](c, cn, icn))
			return;
}

struct cvm_verifier *cvm_verifier_alloc(void)
{
	return calloc(1, sizeof(struct cvm_verifier));
}

int cvm_verifier_add_classifier(struct cvm_verifier *v, cvm_cert_classify_fn fn)
{
	if (v->nclassify >= CVM_VERIFIER_MAX_CLASSIFIERS)
		return -ENOSPC;
	v->classify[v->nclassify++] = fn;
	return 0;
}

void cvm_verifier_free(struct cvm_verifier *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->ncerts; i++)
		cert_free(v->certs[i]);
	free(v->certs);
	for (size_t i = 0; i < CVM_VERIFIER_EXT_COUNT; i++)
		if (v->ext[i].free)
			v->ext[i].free(v->ext[i].state);
	free(v);
}

/* The clone of src's certificate i, sharing its X509 (classified again: role, product, ext). */
static struct cvm_cert *cert_clone(const struct cvm_verifier *v, const struct cvm_cert *src)
{
	struct cvm_cert *c = calloc(1, sizeof(*c));
	if (!c || X509_up_ref(src->x509) != 1) {
		free(c);
		return NULL;
	}
	c->x509 = src->x509;
	c->trusted = src->trusted;
	memcpy(c->sha256, src->sha256, sizeof(c->sha256));
	memcpy(c->origin, src->origin, sizeof(c->origin));
	classify_cert(v, c);
	return c;
}

int cvm_verifier_clone(const struct cvm_verifier *src, struct cvm_verifier **out,
		       struct cvm_error *err)
{
	struct cvm_verifier *v = cvm_verifier_alloc();
	if (!v)
		return cvm_error_set(err, -ENOMEM, "verifier clone: out of memory");
	memcpy(v->classify, src->classify, sizeof(v->classify));
	v->nclassify = src->nclassify;
	/* Only the trust material: certificates a piece of evidence brought stay behind. */
	size_t *map = calloc(src->ncerts ? src->ncerts : 1, sizeof(*map));
	v->certs = calloc(src->ncerts ? src->ncerts : 1, sizeof(*v->certs));
	v->cap = src->ncerts ? src->ncerts : 1;
	bool ok = map && v->certs;
	for (size_t i = 0; ok && i < src->ncerts; i++) {
		const struct cvm_cert *s = src->certs[i];
		map[i] = SIZE_MAX;
		if (s->from_evidence || s->scoped)
			continue;
		struct cvm_cert *c = cert_clone(v, s);
		ok = c != NULL;
		if (ok) {
			map[i] = v->ncerts;
			v->certs[v->ncerts++] = c;
		}
	}
	/* Signatures already checked between two certificates that came along stay checked. */
	for (size_t i = 0; ok && i < src->ncerts; i++) {
		const struct cvm_cert *issuer = src->certs[i]->verified_issuer;
		for (size_t j = 0; issuer && map[i] != SIZE_MAX && j < src->ncerts; j++)
			if (src->certs[j] == issuer && map[j] != SIZE_MAX)
				v->certs[map[i]]->verified_issuer = v->certs[map[j]];
	}
	free(map);
	for (size_t i = 0; ok && i < CVM_VERIFIER_EXT_COUNT; i++) {
		const struct cvm_verifier_ext *s = &src->ext[i];
		if (!s->state)
			continue;
		v->ext[i] = *s;
		ok = s->clone && (v->ext[i].state = s->clone(s->state)) != NULL;
		if (!ok)
			v->ext[i].state = NULL;
	}
	if (!ok) {
		cvm_verifier_free(v);
		return cvm_error_set(err, -ENOMEM, "verifier clone: out of memory");
	}
	*out = v;
	return 0;
}

struct cvm_cert *cvm_verifier_find_cert(const struct cvm_verifier *v, const unsigned char sha[32])
{
	for (size_t i = 0; i < v->ncerts; i++)
		if (memcmp(v->certs[i]->sha256, sha, 32) == 0)
			return v->certs[i];
	return NULL;
}

struct cvm_cert *cvm_verifier_adopt(struct cvm_verifier *v, X509 *x509, const char *origin,
				    bool trusted)
{
	unsigned char sha[32];
	unsigned int shalen = 0;
	if (X509_digest(x509, EVP_sha256(), sha, &shalen) != 1 || shalen != 32) {
		X509_free(x509);
		return NULL;
	}
	struct cvm_cert *have = cvm_verifier_find_cert(v, sha);
	if (have) {
		X509_free(x509);
		return have;
	}
	if (v->ncerts == v->cap) {
		size_t ncap = v->cap ? v->cap * 2 : 16;
		struct cvm_cert **n = realloc(v->certs, ncap * sizeof(*n));
		if (!n) {
			X509_free(x509);
			return NULL;
		}
		v->certs = n;
		v->cap = ncap;
	}
	struct cvm_cert *c = calloc(1, sizeof(*c));
	if (!c) {
		X509_free(x509);
		return NULL;
	}
	c->x509 = x509;
	c->trusted = trusted;
	c->scoped = c->from_evidence = v->scoping && !trusted;
	memcpy(c->sha256, sha, 32);
	snprintf(c->origin, sizeof(c->origin), "%s", origin ? origin : "");
	classify_cert(v, c);
	v->certs[v->ncerts++] = c;
	return c;
}

void cvm_verifier_trim(struct cvm_verifier *v)
{
	size_t from_evidence = 0;
	for (size_t i = 0; i < v->ncerts; i++)
		from_evidence += v->certs[i]->from_evidence;
	if (from_evidence < CVM_VERIFIER_EVIDENCE_CERTS_MAX)
		return;
	size_t kept = 0;
	for (size_t i = 0; i < v->ncerts; i++) {
		if (v->certs[i]->from_evidence) {
			cert_free(v->certs[i]);
			continue;
		}
		v->certs[i]->verified_issuer = NULL;
		v->certs[kept++] = v->certs[i];
	}
	v->ncerts = kept;
	for (size_t i = 0; i < CVM_VERIFIER_EXT_COUNT; i++)
		if (v->ext[i].forget_certs)
			v->ext[i].forget_certs(v->ext[i].state);
}

void cvm_verifier_set_scoping(struct cvm_verifier *v, bool on)
{
	v->scoping = on;
}

static void forget_links_to_scoped(struct cvm_verifier *v)
{
	for (size_t i = 0; i < v->ncerts; i++) {
		const struct cvm_cert *issuer = v->certs[i]->verified_issuer;
		if (issuer && issuer->scoped)
			v->certs[i]->verified_issuer = NULL;
	}
}

void cvm_verifier_drop_scoped(struct cvm_verifier *v)
{
	v->scoping = false;
	bool dropped = false;
	forget_links_to_scoped(v);
	size_t kept = 0;
	for (size_t i = 0; i < v->ncerts; i++) {
		if (v->certs[i]->scoped) {
			cert_free(v->certs[i]);
			dropped = true;
			continue;
		}
		v->certs[kept++] = v->certs[i];
	}
	v->ncerts = kept;
	for (size_t i = 0; i < CVM_VERIFIER_EXT_COUNT; i++) {
		if (dropped && v->ext[i].forget_certs)
			v->ext[i].forget_certs(v->ext[i].state);
		if (v->ext[i].drop_scoped)
			v->ext[i].drop_scoped(v->ext[i].state);
	}
}

static int adopt_der(struct cvm_verifier *v, const uint8_t *der, size_t len, const char *origin,
		     bool trusted, struct cvm_error *err)
{
	const unsigned char *p = der;
	if (len > LONG_MAX)
		return cvm_error_set(err, -EINVAL, "%s: certificate too large", origin);
	X509 *x = d2i_X509(NULL, &p, (long)len);
	if (!x || (size_t)(p - der) != len) {
		X509_free(x);
		ERR_clear_error();
		return cvm_error_set(err, -EINVAL, "%s: not a DER X.509 certificate", origin);
	}
	if (!cvm_verifier_adopt(v, x, origin, trusted))
		return cvm_error_set(err, -ENOMEM, "%s: out of memory", origin);
	return 1;
}

int cvm_verifier_add_trusted_der(struct cvm_verifier *v, const uint8_t *der, size_t len,
				 const char *origin, struct cvm_error *err)
{
	int rc = adopt_der(v, der, len, origin, true, err);
	return rc < 0 ? rc : 0;
}

static bool looks_like_pem(const uint8_t *data, size_t len)
{
	static const char mark[] = "-----BEGIN ";
	return memmem(data, len, mark, sizeof(mark) - 1) != NULL;
}

int cvm_verifier_add_certs(struct cvm_verifier *v, const uint8_t *data, size_t len,
			   const char *origin, struct cvm_error *err)
{
	if (!origin)
		origin = "certificates";
	if (!looks_like_pem(data, len))
		return adopt_der(v, data, len, origin, false, err);
	if (len > INT_MAX)
		return cvm_error_set(err, -EINVAL, "%s: too large", origin);
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	if (!bio)
		return cvm_error_set(err, -ENOMEM, "%s: out of memory", origin);
	int added = 0;
	X509 *x;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!cvm_verifier_adopt(v, x, origin, false)) {
			BIO_free(bio);
			return cvm_error_set(err, -ENOMEM, "%s: out of memory", origin);
		}
		added++;
	}
	ERR_clear_error();
	BIO_free(bio);
	if (added == 0)
		return cvm_error_set(err, -EINVAL, "%s: no PEM certificate in it", origin);
	return added;
}

bool cvm_cert_time_ok(const struct cvm_cert *c, time_t t, const char *label, char *why, size_t n)
{
	time_t nb, na;
	char when[32], at[32];
	if (!cvm_asn1_time_to_time(X509_get0_notBefore(c->x509), &nb) ||
	    !cvm_asn1_time_to_time(X509_get0_notAfter(c->x509), &na)) {
		snprintf(why, n, "%s has an unreadable validity period", label);
		return false;
	}
	cvm_time_format(t, at, sizeof(at));
	if (t < nb) {
		cvm_time_format(nb, when, sizeof(when));
		snprintf(why, n, "%s is not valid before %s (verification time %s)", label, when, at);
		return false;
	}
	if (t > na) {
		cvm_time_format(na, when, sizeof(when));
		snprintf(why, n, "%s expired at %s (verification time %s)", label, when, at);
		return false;
	}
	return true;
}

bool cvm_cert_link_ok(struct cvm_cert *child, const struct cvm_cert *issuer, time_t t,
		      const char *label, char *why, size_t n)
{
	if (X509_NAME_cmp(X509_get_issuer_name(child->x509), X509_get_subject_name(issuer->x509)) !=
	    0) {
		char icn[96], scn[96];
		cvm_x509_cn(X509_get_issuer_name(child->x509), icn, sizeof(icn));
		cvm_x509_cn(X509_get_subject_name(issuer->x509), scn, sizeof(scn));
		snprintf(why, n, "%s is issued by CN=%s, not by CN=%s", label, icn, scn);
		return false;
	}
	if (child->verified_issuer != issuer) {
		EVP_PKEY *key = X509_get0_pubkey(issuer->x509);
		char scn[96];
		if (!key || X509_verify(child->x509, key) != 1) {
			ERR_clear_error();
			cvm_x509_cn(X509_get_subject_name(issuer->x509), scn, sizeof(scn));
			snprintf(why, n, "%s signature does not verify with the key of CN=%s", label, scn);
			return false;
		}
		child->verified_issuer = issuer;
	}
	return cvm_cert_time_ok(child, t, label, why, n);
}


X509_CRL *cvm_crl_parse(const uint8_t *data, size_t len)
{
	X509_CRL *crl = NULL;
	if (len > INT_MAX)
		return NULL;
	if (looks_like_pem(data, len)) {
		BIO *bio = BIO_new_mem_buf(data, (int)len);
		crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
	} else {
		const unsigned char *p = data;
		crl = d2i_X509_CRL(NULL, &p, (long)len);
		if (crl && (size_t)(p - data) != len) {
			X509_CRL_free(crl);
			crl = NULL;
		}
	}
	ERR_clear_error();
	return crl;
}

int cvm_pem_crls_each(const uint8_t *data, size_t len,
		      int (*fn)(void *ctx, const uint8_t *der, size_t len), void *ctx)
{
	static const char begin[] = "-----BEGIN X509 CRL-----";
	static const char end[] = "-----END X509 CRL-----";
	int count = 0;
	const uint8_t *p = data, *stop = data + len;
	while ((p = memmem(p, (size_t)(stop - p), begin, sizeof(begin) - 1)) != NULL) {
		const uint8_t *e = memmem(p, (size_t)(stop - p), end, sizeof(end) - 1);
		if (!e)
			return -EINVAL;
		e += sizeof(end) - 1;
		X509_CRL *crl = cvm_crl_parse(p, (size_t)(e - p));
		unsigned char *der = NULL;
		int dlen = crl ? i2d_X509_CRL(crl, &der) : -1;
		X509_CRL_free(crl);
		ERR_clear_error();
		if (dlen <= 0)
			return crl ? -ENOMEM : -EINVAL;
		int rc = fn(ctx, der, (size_t)dlen);
		OPENSSL_free(der);
		if (rc < 0)
			return rc;
		count++;
		p = e;
	}
	return count;
}

bool cvm_der_framed(const uint8_t *data, size_t len)
{
	if (len < 4 || data[0] != 0x30 || data[1] < 0x81 || data[1] > 0x84)
		return false;
	size_t nlen = data[1] & 0x7fu, total = 0;
	if (len < 2 + nlen)
		return false;
	for (size_t i = 0; i < nlen; i++)
		total = total << 8 | data[2 + i];
	return total + 2 + nlen >= len && total >= 64;
}

bool cvm_crl_time_ok(const X509_CRL *crl, time_t t, const char *label, char *why, size_t n)
{
	time_t last, next;
	const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);
	if (!cvm_asn1_time_to_time(X509_CRL_get0_lastUpdate(crl), &last) || !nu ||
	    !cvm_asn1_time_to_time(nu, &next)) {
		snprintf(why, n, "%s has no readable lastUpdate and nextUpdate", label);
		return false;
	}
	if (t < last || t >= next) {
		char a[32], b[32], at[32];
		cvm_time_format(last, a, sizeof(a));
		cvm_time_format(next, b, sizeof(b));
		cvm_time_format(t, at, sizeof(at));
		snprintf(why, n, "%s is valid %s..%s, not at %s", label, a, b, at);
		return false;
	}
	return true;
}
