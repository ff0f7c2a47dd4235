/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP getter: one libcurl easy handle (so a run reuses its connection), GET only, bounded in
 * time, body size and header size, with the retry rules of KDS and PCS: 429 and 503 come with a
 * Retry-After that is honoured within a bounded number of attempts and a bounded total wait.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include <cvmkit/util.h>

#include "launcher/fetch_internal.h"

#define CONNECT_TIMEOUT_MAX_MS 10000L

/*
 * libcurl, loaded when the first fetcher is made: libcurl and the libraries it brings (TLS,
 * HTTP/2, LDAP, SSH, ...) are a cost every cvmkit process would otherwise pay at start-up for
 * a feature most runs never use.  The headers give the types; the calls go through here.
 */
struct curl_api {
	void *lib;
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *c);
	void (*easy_reset)(CURL *c);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode rc);
};

struct cvm_http {
	struct curl_api api;
	CURL *curl;
	unsigned long requests;
};

/* The library of Debian's libcurl4 (OpenSSL flavour); libcurl3-gnutls names the other. */
static const char *const curl_sonames[] = {"libcurl.so.4", "libcurl-gnutls.so.4"};

#define CURL_SYM(api, field, name)                                                             \
	do {                                                                                   \
		void *sym_ = dlsym((api)->lib, name);                                          \
		if (!sym_)                                                                     \
			return false;                                                          \
		memcpy(&(api)->field, &sym_, sizeof(sym_));                                    \
	} while (0)

static bool curl_api_resolve(struct curl_api *a)
{
	CURL_SYM(a, global_init, "curl_global_init");
	CURL_SYM(a, global_cleanup, "curl_global_cleanup");
	CURL_SYM(a, easy_init, "curl_easy_init");
	CURL_SYM(a, easy_cleanup, "curl_easy_cleanup");
	CURL_SYM(a, easy_reset, "curl_easy_reset");
	CURL_SYM(a, easy_setopt, "curl_easy_setopt");
	CURL_SYM(a, easy_perform, "curl_easy_perform");
	CURL_SYM(a, easy_getinfo, "curl_easy_getinfo");
	CURL_SYM(a, easy_strerror, "curl_easy_strerror");
	return true;
}

static int curl_api_load(struct curl_api *a, struct cvm_error *err)
{
	/*
	 * Never unloaded: libcurl's dependencies hold thread-local storage and exit handlers
	 * that must not outlive their code (dlclose would unmap them while the process still
	 * refers to them; LeakSanitizer trips on the stale TLS).
	 */
	for (size_t i = 0; i < CVM_ARRAY_SIZE(curl_sonames) && !a->lib; i++)
		a->lib = dlopen(curl_sonames[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!a->lib)
		return cvm_error_set(err, -ENOSYS,
				     "fetching needs libcurl (%s), which is not installed: "
				     "apt-get install libcurl4, or use --offline with a cache",
				     curl_sonames[0]);
	if (!curl_api_resolve(a)) {
		dlclose(a->lib);
		a->lib = NULL;
		return cvm_error_set(err, -ENOSYS, "libcurl: %s lacks a function cvmkit calls",
				     curl_sonames[0]);
	}
	return 0;
}

struct growbuf {
	uint8_t *data;
	size_t len, cap, max;
	bool over;
};

int cvm_http_new(struct cvm_http **out, struct cvm_error *err)
{
	struct cvm_http *h = calloc(1, sizeof(*h));
	if (!h)
		return cvm_error_set(err, -ENOMEM, "libcurl: out of memory");
	int rc = curl_api_load(&h->api, err);
	if (rc) {
		free(h);
		return rc;
	}
	if (h->api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		dlclose(h->api.lib);
		free(h);
		return cvm_error_set(err, -EIO, "libcurl: initialisation failed");
	}
	if (!(h->curl = h->api.easy_init())) {
		h->api.global_cleanup();
		dlclose(h->api.lib);
		free(h);
		return cvm_error_set(err, -ENOMEM, "libcurl: out of memory");
	}
	*out = h;
	return 0;
}

void cvm_http_free(struct cvm_http *h)
{
	if (!h)
		return;
	h->api.easy_cleanup(h->curl);
	h->api.global_cleanup();
	dlclose(h->api.lib);
	free(h);
}

unsigned long cvm_http_requests(const struct cvm_http *h)
{
	return h ? h->requests : 0;
}

void cvm_http_response_release(struct cvm_http_response *r)
{
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof(*r));
}

static bool growbuf_append(struct growbuf *b, const void *p, size_t n)
{
	if (n > b->max - b->len) {
		b->over = true;
		return false;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		uint8_t *d = realloc(b->data, cap);
		if (!d)
			return false;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return true;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	size_t n = size * nmemb;
	return growbuf_append(ud, p, n) ? n : 0;
}

/* Keep only the header lines of the last response (after redirects and 1xx). */
static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct growbuf *b = ud;
	size_t n = size * nmemb;
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		b->len = 0;
	return growbuf_append(b, p, n) ? n : 0;
}

static void default_sleep(void *ctx, unsigned ms)
{
	(void)ctx;
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void set_options(const struct cvm_http *h, const struct cvm_http_opts *o, const char *url,
			struct growbuf *body, struct growbuf *hdr, char *errbuf)
{
	CURL *c = h->curl;
	CURLcode (*setopt)(CURL *, CURLoption, ...) = h->api.easy_setopt;
	long timeout = (long)o->timeout_ms;
	h->api.easy_reset(c);
	setopt(c, CURLOPT_URL, url);
	setopt(c, CURLOPT_HTTPGET, 1L);
	setopt(c, CURLOPT_NOSIGNAL, 1L);
	setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 timeout < CONNECT_TIMEOUT_MAX_MS ? timeout : CONNECT_TIMEOUT_MAX_MS);
	setopt(c, CURLOPT_USERAGENT, "cvmkit/" CVMKIT_VERSION);
	/* Redirects may upgrade to HTTPS, never leave it. */
	setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	setopt(c, CURLOPT_MAXREDIRS, 3L);
#if LIBCURL_VERSION_NUM >= 0x075500
	setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
	setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	if (o->ca_bundle)
		setopt(c, CURLOPT_CAINFO, o->ca_bundle);
	setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body);
	setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	setopt(c, CURLOPT_WRITEDATA, body);
	setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	setopt(c, CURLOPT_HEADERDATA, hdr);
	setopt(c, CURLOPT_ERRORBUFFER, errbuf);
}

/* The transport failure as an error; nothing was received that counts. */
static int transport_error(const struct cvm_http *h, CURLcode rc, const struct growbuf *body,
			   const struct growbuf *hdr,
			   const char *errbuf, const struct cvm_http_opts *o, const char *url,
			   const char *what, struct cvm_error *err)
{
	if (body->over || rc == CURLE_FILESIZE_EXCEEDED)
		return cvm_error_set(err, -EFBIG, "%s: GET %s: the response exceeds %zu bytes", what,
				     url, o->max_body);
	if (hdr->over)
		return cvm_error_set(err, -EFBIG, "%s: GET %s: response headers exceed %u bytes",
				     what, url, CVM_HTTP_MAX_HEADERS);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return cvm_error_set(err, -ETIMEDOUT, "%s: GET %s: no complete answer within %u ms",
				     what, url, o->timeout_ms);
	return cvm_error_set(err, rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO, "%s: GET %s: %s",
			     what, url, errbuf[0] ? errbuf : h->api.easy_strerror(rc));
}

static int status_error(long status, const struct growbuf *body, const struct growbuf *hdr,
			unsigned attempts, const char *note, const char *url, const char *what,
			struct cvm_error *err)
{
	char reason[64], said[96], tries[40] = "";
	cvm_http_reason((const char *)hdr->data, hdr->len, reason, sizeof(reason));
	cvm_text_snippet(body->data, body->len, said, sizeof(said));
	if (attempts > 1)
		snprintf(tries, sizeof(tries), " after %u attempts", attempts);
	int code = -EIO;
	if (status == 404 || status == 410)
		code = -ENOENT;
	else if (status == 429 || status == 503)
		code = -EAGAIN;
	const char *lq = said[0] ? " (server: \"" : "", *rq = said[0] ? "\")" : "";
	return cvm_error_set(err, code, "%s: GET %s: HTTP %ld%s%s%s%s%s%s%s", what, url, status,
			     reason[0] ? " " : "", reason, tries, lq, said, rq, note);
}

/* How long to wait before attempt + 1, in ms; false when it would break the budget. */
static bool retry_wait(const struct growbuf *hdr, unsigned attempt, unsigned waited_ms,
		       const struct cvm_http_opts *o, unsigned *wait_ms, unsigned *asked_s)
{
	char *value = NULL;
	unsigned s = 0;
	bool given = cvm_http_header_value((const char *)hdr->data, hdr->len, "Retry-After",
					   &value) == 1 &&
		     cvm_http_retry_after(value, time(NULL), &s);
	free(value);
	if (!given)
		s = 1u << (attempt - 1 < 10 ? attempt - 1 : 10);
	*asked_s = s;
	unsigned budget_ms = o->max_retry_wait_s * 1000u;
	if (s > o->max_retry_wait_s || s * 1000u > budget_ms - waited_ms)
		return false;
	*wait_ms = s * 1000u;
	return true;
}

int cvm_http_get(struct cvm_http *h, const struct cvm_http_opts *o, const char *url,
		 const char *what, struct cvm_http_response *out, struct cvm_error *err)
{
	struct growbuf body = {.max = o->max_body}, hdr = {.max = CVM_HTTP_MAX_HEADERS};
	char errbuf[CURL_ERROR_SIZE];
	unsigned waited_ms = 0;
	int rc;
	for (unsigned attempt = 1;; attempt++) {
		body.len = hdr.len = 0;
		body.over = hdr.over = false;
		errbuf[0] = '\0';
		set_options(h, o, url, &body, &hdr, errbuf);
		h->requests++;
		CURLcode cc = h->api.easy_perform(h->curl);
		if (cc != CURLE_OK) {
			rc = transport_error(h, cc, &body, &hdr, errbuf, o, url, what, err);
			break;
		}
		long status = 0;
		h->api.easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
		if (status == 200) {
			out->status = status;
			out->body = body.data ? body.data : calloc(1, 1);
			out->len = body.len;
			out->headers = hdr.data ? (char *)hdr.data : calloc(1, 1);
			out->headers_len = hdr.len;
			if (!out->body || !out->headers) {
				cvm_http_response_release(out);
				return cvm_error_set(err, -ENOMEM, "%s: out of memory", what);
			}
			return 0;
		}
		unsigned wait_ms = 0, asked_s = 0;
		bool retryable = status == 429 || status == 503;
		if (retryable && attempt < o->max_attempts &&
		    retry_wait(&hdr, attempt, waited_ms, o, &wait_ms, &asked_s)) {
			(o->sleep_ms ? o->sleep_ms : default_sleep)(o->sleep_ctx, wait_ms);
			waited_ms += wait_ms;
			continue;
		}
		char note[96] = "";
		if (retryable && attempt < o->max_attempts)
			snprintf(note, sizeof(note),
				 "; a retry after %u s is beyond the %u s budget", asked_s,
				 o->max_retry_wait_s);
		rc = status_error(status, &body, &hdr, attempt, note, url, what, err);
		break;
	}
	free(body.data);
	free(hdr.data);
	return rc;
}
