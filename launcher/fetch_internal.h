/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to launcher/fetch*.c: the HTTP getter on libcurl (fetch_http.c), the readers of
 * untrusted response bytes (fetch_parse.c: header lines, percent-encoding, Retry-After, the
 * shape and nextUpdate of each item kind), and the one cache-then-network path every item takes
 * (fetch.c).
 */
#ifndef CVMKIT_FETCH_INTERNAL_H
#define CVMKIT_FETCH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cvmkit/error.h>
#include <cvmkit/fetch.h>

/* ---- HTTP ---------------------------------------------------------------------------------- */

#define CVM_HTTP_MAX_HEADERS (64u * 1024u) /* bytes of response headers kept */

struct cvm_http_opts {
	unsigned timeout_ms;
	const char *ca_bundle; /* NULL: the system's */
	size_t max_body;
	unsigned max_attempts;
	unsigned max_retry_wait_s;
	void (*sleep_ms)(void *ctx, unsigned ms);
	void *sleep_ctx;
};

struct cvm_http_response {
	long status;
	uint8_t *body; /* len bytes plus a NUL */
	size_t len;
	char *headers; /* the raw header lines of the final response, headers_len bytes plus a NUL */
	size_t headers_len;
};

struct cvm_http;

int cvm_http_new(struct cvm_http **out, struct cvm_error *err);
void cvm_http_free(struct cvm_http *h);
/* Requests sent through h so far, retries included. */
unsigned long cvm_http_requests(const struct cvm_http *h);

/*
 * GET url.  A 200 fills *out.  429 and 503 are retried (up to max_attempts in all) after the
 * Retry-After the server gave, or 1, 2, 4.. s without one, as long as the waits stay within
 * max_retry_wait_s.  Anything else fails: "WHAT: GET URL: HTTP 404 Not Found (server: ...)".
 * Codes: -ENOENT for 404/410, -EAGAIN when still 429/503, -ETIMEDOUT, -EFBIG for a body over
 * max_body, -EIO otherwise.
 */
int cvm_http_get(struct cvm_http *h, const struct cvm_http_opts *o, const char *url,
		 const char *what, struct cvm_http_response *out, struct cvm_error *err);
void cvm_http_response_release(struct cvm_http_response *r);

/* ---- readers of untrusted response bytes (fuzzed: tests/fuzz/fuzz_fetch.c) ----------------- */

/*
 * The value of the first header line "NAME: value" (name case-insensitive, value without
 * surrounding blanks) in a block of CRLF/LF-separated lines, malloc'd into *out.  1 when found,
 * 0 when absent, -ENOMEM.
 */
int cvm_http_header_value(const char *block, size_t len, const char *name, char **out);

/* The reason phrase of the first "HTTP/x NNN reason" line as printable text ("" when none). */
void cvm_http_reason(const char *block, size_t len, char *buf, size_t n);

/*
 * Printable ASCII from the start of untrusted text (whitespace runs become one space, stop at the
 * first other byte), at most n - 1 characters.
 */
void cvm_text_snippet(const uint8_t *text, size_t len, char *buf, size_t n);

/*
 * RFC 3986 percent-decoding into a NUL-terminated malloc'd string ('+' stays '+').  -EINVAL for
 * a malformed escape or a NUL byte, -ENOMEM.
 */
int cvm_percent_decode(const char *in, size_t len, char **out, size_t *out_len);

/* Retry-After (delta-seconds or an HTTP-date, judged at now) in seconds, at most one day. */
bool cvm_http_retry_after(const char *value, time_t now, unsigned *seconds);

/*
 * What an item must be to be used (from the network or the cache).  product: AMD items' line
 * (UNKNOWN: any); key: the AMD chain/CRL flavour; pck_ca: the PCK CRL's CA; vcek: the VCEK id
 * (hwID and TCB must match); fmspc: TCB info's FMSPC (12 hex digits).
 */
struct cvm_fetch_expect {
	enum cvm_fetch_kind kind;
	enum cvm_amd_product product;
	enum cvm_snp_signing_key key;
	enum cvm_pck_ca pck_ca;
	const struct cvm_kds_vcek_id *vcek;
	const char *fmspc;
};

/* What the check found. */
struct cvm_fetch_facts {
	enum cvm_amd_product product; /* VCEK: the line of its issuer */
	bool has_next_update;
	time_t next_update;
};

/* 0 when data is a well-formed item of that kind; -EINVAL with the reason in why otherwise. */
int cvm_fetch_check(const struct cvm_fetch_expect *e, const uint8_t *data, size_t len,
		    struct cvm_fetch_facts *facts, char *why, size_t n);

/* 0 when pem holds at least min certificates and every BEGIN CERTIFICATE block parses. */
int cvm_fetch_check_pem_certs(const uint8_t *pem, size_t len, size_t min, char *why, size_t n);

/* A CRL served as DER, PEM or hex text, as DER in a new NUL-terminated buffer; -EINVAL, -ENOMEM. */
int cvm_fetch_crl_to_der(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len);

/* ---- the one fetch path -------------------------------------------------------------------- */

struct cvm_fetch_spec {
	struct cvm_fetch_expect expect;
	char what[192];
	char url[1024];
	char cache_rel[256];   /* the item's path under the cache directory */
	char chain_rel[256];   /* its issuer chain's, "" when it has none */
	char export_name[256];
	const char *chain_header;     /* response header with the issuer chain, or NULL */
	const char *chain_header_alt; /* an older name of it, or NULL */
	char legacy_rel[256];         /* a second place to look in the cache (read only), or "" */
};

/* Cache (when on and usable), else the network (unless offline); store what was fetched. */
int cvm_fetch_get(struct cvm_fetcher *f, const struct cvm_fetch_spec *s,
		  struct cvm_fetch_item **out, struct cvm_error *err);

/* Write data atomically to dir/rel, creating the folders it needs. */
int cvm_fetch_write_under(const char *dir, const char *rel, const void *data, size_t len,
			  struct cvm_error *err);

/* The base URLs of f, without a trailing slash. */
const char *cvm_fetcher_kds_url(const struct cvm_fetcher *f);
const char *cvm_fetcher_pcs_url(const struct cvm_fetcher *f);
const char *cvm_fetcher_root_crl_url(const struct cvm_fetcher *f);
bool cvm_fetcher_offline(const struct cvm_fetcher *f);

/* KDS product segment "Milan", "Genoa", "Turin"; NULL for UNKNOWN. */
const char *cvm_kds_product(enum cvm_amd_product p);

#endif
