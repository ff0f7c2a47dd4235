/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vendor-neutral verifier core (measure/verify_core.c), private to the verification modules
 * (sev/snp_verify*.c, tdx/tdx_verify*.c, launcher/verify_evidence.c): the check list helpers,
 * ECDSA over raw (r, s), a bounded DER reader, X.509 and time helpers, and the certificate pool
 * inside struct cvm_verifier.  The core knows no vendor: SNP and TDX classify the certificates
 * they recognise (struct cvm_verifier.classify) and keep their own state in a slot of the
 * verifier (struct cvm_verifier_ext), which the core frees and tells about dropped certificates.
 */
#ifndef CVMKIT_MEASURE_VERIFY_INTERNAL_H
#define CVMKIT_MEASURE_VERIFY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cvmkit/policy.h>
#include <cvmkit/util.h>
#include <cvmkit/verify.h>

/* ---- check list ---- */

/* Append a check (beyond CVM_VERIFY_MAX_CHECKS it is counted in res->lost: the verdict fails). */
void cvm_check_add(struct cvm_verify_result *res, const char *name, enum cvm_check_status st,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * A check not made for lack of input: "not evaluated: <fmt>", where fmt says what was missing
 * and how to supply it (--collateral DIR, --certs, --fetch).  A failure when required (how then
 * says how to accept it, "accept with --allow-unevaluated tcb-status"), else a skip the verdict
 * names.
 */
void cvm_check_unevaluated(struct cvm_verify_result *res, const char *name, bool required,
			   const char *how, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* True unless opt accepts the CVM_ALLOW_* check bit unevaluated. */
bool cvm_check_required(const struct cvm_verify_options *opt, uint32_t bit);

/*
 * Checks both verifiers make the same way.  cvm_check_match_bytes compares in constant time and,
 * only once that failed, shows both values (see cvm_mismatch_describe); cvm_check_report_data is
 * the optional REPORT_DATA check of the verifier options (field names it: "REPORT_DATA",
 * "REPORTDATA").
 */
void cvm_check_match_bytes(struct cvm_verify_result *res, const char *name, const char *field,
			   const uint8_t *have, const uint8_t *want, size_t n);
void cvm_check_report_data(struct cvm_verify_result *res, const char *field,
			   const uint8_t have[64], const struct cvm_verify_options *opt);

/*
 * "FIELD <have>, expected <want> (first difference at byte N)" into buf: lower-case hex, whole
 * up to 32 bytes; longer values (up to 64) abbreviated alike on both sides to their first 8
 * bytes, the 8 from the first difference on and the last 4, with "..." for what is left out.
 * Call only after a constant-time comparison failed (the search for the difference is not).
 */
void cvm_mismatch_describe(char *buf, size_t size, const char *field, const uint8_t *have,
			   const uint8_t *want, size_t n);

/* The rules of opt (the all-zero secure defaults when it has none); true when bit is relaxed. */
static inline bool cvm_verify_allows(const struct cvm_verify_options *opt, uint32_t bit)
{
	return opt->rules && (opt->rules->allow & bit);
}

/* ---- signatures ---- */

/*
 * Verify an ECDSA signature given as two n-byte integers r and s (big-endian as in TDX quotes and
 * Intel collateral, or little-endian as in SNP reports) over msg hashed with md.  1 when it
 * verifies, 0 when it does not, -1 when it could not be checked (no key, bad encoding, no memory).
 * Leaves the OpenSSL error queue empty.
 */
int cvm_ecdsa_verify_rs(EVP_PKEY *key, const EVP_MD *md, const uint8_t *r, const uint8_t *s,
			size_t n, bool little_endian, const uint8_t *msg, size_t len);

/* ---- DER ---- */

struct cvm_der {
	uint8_t tag;
	const uint8_t *val;
	size_t len;
};

/* Read one TLV (definite lengths only, at most 4 length bytes).  False on malformed input. */
bool cvm_der_next(struct cvm_cursor *c, struct cvm_der *out);
/* A non-negative INTEGER that fits 64 bits. */
bool cvm_der_uint(const struct cvm_der *d, uint64_t *out);
/* Compare an OBJECT IDENTIFIER's content bytes with a dotted string ("1.2.840.113741.1.13.1"). */
bool cvm_der_oid_is(const struct cvm_der *d, const char *dotted);

/* ---- certificates ---- */

enum cvm_cert_role {
	CVM_CERT_OTHER = 0,
	CVM_CERT_AMD_ARK,
	CVM_CERT_AMD_ASK,
	CVM_CERT_AMD_ASVK,
	CVM_CERT_AMD_VCEK,
	CVM_CERT_AMD_VLEK,
	CVM_CERT_INTEL_ROOT,
	CVM_CERT_INTEL_PCK_CA,
	CVM_CERT_INTEL_PCK,
	CVM_CERT_INTEL_TCB_SIGNING,
};

struct cvm_cert {
	X509 *x509;
	enum cvm_cert_role role;
	enum cvm_amd_product product; /* AMD: from the CN (ARK/ASK/ASVK) or the issuer CN (leaves) */
	bool trusted;                 /* a bundled root: a trust anchor */
	bool from_evidence;           /* came inside a quote: evictable (see cvm_verifier_trim) */
	bool scoped;                  /* came inside the evidence being verified: dropped after
					 its verdict (cvm_verifier_drop_scoped) */
	unsigned char sha256[32];
	const struct cvm_cert *verified_issuer; /* cache: signature checked against this issuer */
	char origin[64];
	/*
	 * What the classifier read from the certificate once, when it was pooled (SNP: the
	 * VCEK/VLEK extensions, which every report verified against the pool needs); NULL when
	 * nothing or it was malformed.  Owned by the certificate, released with free().
	 */
	void *ext;
};

/* The value (extnValue content) of the extension with this dotted OID, or NULL. */
const ASN1_OCTET_STRING *cvm_x509_find_ext(X509 *cert, const char *dotted);
/* True when the certificate's key is an EC key on the named group ("secp384r1", "prime256v1"). */
bool cvm_x509_ec_key_is(X509 *cert, const char *group);

/* The CN of a name into buf ("" when none). */
void cvm_x509_cn(const X509_NAME *name, char *buf, size_t n);

/*
 * Check one link: issuer name, signature (cached in child), validity of child at t.  Writes the
 * reason into why and returns false on failure.  label names the child in the reason.
 */
bool cvm_cert_link_ok(struct cvm_cert *child, const struct cvm_cert *issuer, time_t t,
		      const char *label, char *why, size_t n);
/* Validity of c at t. */
bool cvm_cert_time_ok(const struct cvm_cert *c, time_t t, const char *label, char *why,
		      size_t n);

/* ---- CRLs ---- */

/* A CRL in DER or PEM, or NULL when it is neither (the OpenSSL error queue left empty). */
X509_CRL *cvm_crl_parse(const uint8_t *data, size_t len);

/*
 * Call fn with the DER of every CRL of a PEM text, in order: the number of CRLs, -EINVAL when
 * one is unreadable (none after it is read), or fn's negative return.
 */
int cvm_pem_crls_each(const uint8_t *data, size_t len,
		      int (*fn)(void *ctx, const uint8_t *der, size_t len), void *ctx);

/*
 * True when data is framed like one DER SEQUENCE of at least 64 bytes that fills the data or
 * is cut short: trust material that is broken, not some other file.
 */
bool cvm_der_framed(const uint8_t *data, size_t len);

/*
 * lastUpdate <= t < nextUpdate (a CRL without nextUpdate is refused); the reason into why
 * otherwise.  label names the CRL in the reason.
 */
bool cvm_crl_time_ok(const X509_CRL *crl, time_t t, const char *label, char *why, size_t n);

/* ---- verifier ---- */

/* At most this many certificates that came inside evidence are cached. */
#define CVM_VERIFIER_EVIDENCE_CERTS_MAX 256u

/*
 * A vendor's classifier: set c->role and c->product (and c->ext) when it recognises the
 * certificate by its subject and issuer CNs; return true then.  Called once per pooled
 * certificate, in registration order, until one returns true.
 */
typedef bool (*cvm_cert_classify_fn)(struct cvm_cert *c, const char *cn, const char *issuer_cn);

#define CVM_VERIFIER_MAX_CLASSIFIERS 4u

/* A vendor's own state inside the verifier (caches, collateral), created by the vendor. */
struct cvm_verifier_ext {
	void *state;
	void (*free)(void *state);
	/* the pool dropped certificates (cvm_verifier_trim): forget every pointer to one */
	void (*forget_certs)(void *state);
	/* drop what was added while the verifier was scoping (cvm_verifier_drop_scoped) */
	void (*drop_scoped)(void *state);
	/*
	 * A new state holding the same trust material (cvm_verifier_clone): what was loaded is
	 * shared, reference-counted and never modified again; caches start empty.  NULL: no memory.
	 */
	void *(*clone)(const void *state);
};

enum cvm_verifier_ext_id {
	CVM_VERIFIER_EXT_SNP,
	CVM_VERIFIER_EXT_TDX,
	CVM_VERIFIER_EXT_COUNT,
};

struct cvm_verifier {
	struct cvm_cert **certs;
	size_t ncerts, cap;
	cvm_cert_classify_fn classify[CVM_VERIFIER_MAX_CLASSIFIERS];
	size_t nclassify;
	struct cvm_verifier_ext ext[CVM_VERIFIER_EXT_COUNT];
	bool scoping; /* what is added now belongs to one piece of evidence (see below) */
};

/* An empty verifier (no certificates, no classifiers); free with cvm_verifier_free. */
struct cvm_verifier *cvm_verifier_alloc(void);

/* Register a classifier (-ENOSPC past CVM_VERIFIER_MAX_CLASSIFIERS). */
int cvm_verifier_add_classifier(struct cvm_verifier *v, cvm_cert_classify_fn fn);

/* Pool one DER certificate as a trust anchor (bundled roots).  0 or -errno with err filled. */
int cvm_verifier_add_trusted_der(struct cvm_verifier *v, const uint8_t *der, size_t len,
				 const char *origin, struct cvm_error *err);

/* Find a certificate by content (SHA-256 of the DER), or NULL. */
struct cvm_cert *cvm_verifier_find_cert(const struct cvm_verifier *v, const unsigned char sha[32]);
/*
 * Take ownership of x509 and add it to the pool (or return the pooled copy of the same
 * certificate, freeing x509).  NULL on allocation failure (x509 freed).
 */
struct cvm_cert *cvm_verifier_adopt(struct cvm_verifier *v, X509 *x509, const char *origin,
				    bool trusted);

/*
 * Keep the pool bounded in long batches: when more than CVM_VERIFIER_EVIDENCE_CERTS_MAX
 * certificates came from evidence, drop those, forget every cached issuer link and tell every
 * vendor slot (forget_certs).
 */
void cvm_verifier_trim(struct cvm_verifier *v);

/*
 * Endorsements that a piece of evidence carries vouch for that evidence only: the evidence
 * path sets scoping while it adds them, so new certificates are marked scoped (and vendors
 * mark what they hold, such as AMD CRLs), and drops them once the verdict is made.  Certificates
 * already in the pool (given by the caller) stay; so does every signature cached between
 * certificates that stay.
 */
void cvm_verifier_set_scoping(struct cvm_verifier *v, bool on);
void cvm_verifier_drop_scoped(struct cvm_verifier *v);

/* Format t as RFC 3339 UTC into buf (at least 21 bytes). */
void cvm_time_format(time_t t, char *buf, size_t n);
/* An ASN1_TIME as time_t; false when unreadable. */
bool cvm_asn1_time_to_time(const ASN1_TIME *at, time_t *out);

#endif
