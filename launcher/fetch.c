/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fetcher (configuration, one HTTP handle made on first use) and the one path every item
 * takes: the cache when its file is there, is what it claims to be and is not past nextUpdate;
 * else the network (unless offline), the body checked before anything is kept; then the cache.
 * Threads share a fetcher: an item is got under its lock (so one thread asks, the others then
 * find it in the cache or, with remember, in the fetcher's memory of each URL's answer).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cvmkit/fetch.h>
#include <cvmkit/util.h>

#include "launcher/fetch_internal.h"
#include "sev/snp_verify_internal.h"

#define DEFAULT_TIMEOUT_MS 30000u
#define DEFAULT_MAX_BODY (4u * 1024u * 1024u)
#define DEFAULT_ATTEMPTS 4u
#define DEFAULT_RETRY_WAIT_S 60u
#define MAX_RETRY_WAIT_S 86400u
#define WHY_MAX 640
#define URL_MAX 512 /* base URLs; the item paths after them fit struct cvm_fetch_spec.url */

struct cvm_fetcher {
	char *kds_url, *pcs_url, *root_crl_url, *ca_bundle, *cache_dir;
	bool offline, has_time, remember;
	time_t time;
	struct cvm_http_opts http;
	pthread_mutex_t mu; /* h and the memory below */
	struct cvm_http *h;
	struct memo *memo; /* each URL got so far (with remember) */
	size_t nmemo, memo_cap;
};

/* What the fetcher got for one URL: a copy of the item, or the error. */
struct memo {
	char *url;
	struct cvm_fetch_item *item;
	struct cvm_error err;
	time_t got_at; /* the judging time when it was got */
};

int cvm_fetch_default_cache_dir(char **out, struct cvm_error *err)
{
	const char *xdg = secure_getenv("XDG_CACHE_HOME"), *home = secure_getenv("HOME");
	char *dir = NULL;
	if (xdg && xdg[0] == '/')
		dir = cvm_path_join(xdg, "cvmkit");
	else if (home && home[0])
		dir = cvm_path_join(home, ".cache/cvmkit");
	else
		return cvm_error_set(err, -ENOENT, "no cache folder: neither XDG_CACHE_HOME (an "
						   "absolute path) nor HOME is set; name one");
	if (!dir)
		return cvm_error_set(err, -ENOMEM, "cache folder: out of memory");
	*out = dir;
	return 0;
}

/* A base URL without its trailing slashes. */
static char *base_url(const char *given, const char *fallback)
{
	const char *s = given && given[0] ? given : fallback;
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		n--;
	return strndup(s, n);
}

static char *root_crl_url(const struct cvm_fetch_config *c, const char *pcs)
{
	if (c->intel_root_crl_url && c->intel_root_crl_url[0])
		return strdup(c->intel_root_crl_url);
	if (strcmp(pcs, CVM_FETCH_DEFAULT_PCS_URL) == 0)
		return strdup(CVM_FETCH_DEFAULT_INTEL_ROOT_CRL_URL);
	/* A configured PCS/PCCS: the PCCS path, so an air-gapped site needs one server only. */
	size_t n = strlen(pcs) + 40;
	char *u = malloc(n);
	if (u)
		snprintf(u, n, "%s/sgx/certification/v4/rootcacrl", pcs);
	return u;
}

static unsigned or_default(unsigned v, unsigned def)
{
	return v ? v : def;
}

int cvm_fetcher_new(const struct cvm_fetch_config *cfg, struct cvm_fetcher **out,
		    struct cvm_error *err)
{
	static const struct cvm_fetch_config defaults;
	const struct cvm_fetch_config *c = cfg ? cfg : &defaults;
	if (c->offline && c->no_cache)
		return cvm_error_set(err, -EINVAL, "fetch: offline use needs the cache");
	const char *urls[] = {c->kds_url, c->pcs_url, c->intel_root_crl_url};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(urls); i++)
		if (urls[i] && strlen(urls[i]) > URL_MAX)
			return cvm_error_set(err, -EINVAL, "fetch: URL longer than %d bytes: %.60s..",
					     URL_MAX, urls[i]);
	struct cvm_fetcher *f = calloc(1, sizeof(*f));
	if (!f)
		return cvm_error_set(err, -ENOMEM, "fetch: out of memory");
	if (pthread_mutex_init(&f->mu, NULL) != 0) {
		free(f);
		return cvm_error_set(err, -ENOMEM, "fetch: out of memory");
	}
	f->kds_url = base_url(c->kds_url, CVM_FETCH_DEFAULT_KDS_URL);
	f->pcs_url = base_url(c->pcs_url, CVM_FETCH_DEFAULT_PCS_URL);
	f->root_crl_url = f->pcs_url ? root_crl_url(c, f->pcs_url) : NULL;
	f->ca_bundle = c->ca_bundle ? strdup(c->ca_bundle) : NULL;
	bool ok = f->kds_url && f->pcs_url && f->root_crl_url && (!c->ca_bundle || f->ca_bundle);
	int rc;
	if (ok && !c->no_cache) {
		if (c->cache_dir && c->cache_dir[0])
			ok = (f->cache_dir = strdup(c->cache_dir)) != NULL;
		else if ((rc = cvm_fetch_default_cache_dir(&f->cache_dir, err)) != 0) {
			cvm_fetcher_free(f);
			return rc;
		}
	}
	if (!ok) {
		cvm_fetcher_free(f);
		return cvm_error_set(err, -ENOMEM, "fetch: out of memory");
	}
	f->offline = c->offline;
	f->remember = c->remember;
	f->has_time = c->has_time;
	f->time = c->time;
	f->http = (struct cvm_http_opts){
		.timeout_ms = or_default(c->timeout_ms, DEFAULT_TIMEOUT_MS),
		.ca_bundle = f->ca_bundle,
		.max_body = c->max_body ? c->max_body : DEFAULT_MAX_BODY,
		.max_attempts = or_default(c->max_attempts, DEFAULT_ATTEMPTS),
		.max_retry_wait_s = or_default(c->max_retry_wait_s, DEFAULT_RETRY_WAIT_S),
		.sleep_ms = c->sleep_ms,
		.sleep_ctx = c->sleep_ctx,
	};
	if (f->http.max_retry_wait_s > MAX_RETRY_WAIT_S)
		f->http.max_retry_wait_s = MAX_RETRY_WAIT_S;
	*out = f;
	return 0;
}

void cvm_fetcher_free(struct cvm_fetcher *f)
{
	if (!f)
		return;
	cvm_http_free(f->h);
	pthread_mutex_destroy(&f->mu);
	for (size_t i = 0; i < f->nmemo; i++) {
		free(f->memo[i].url);
		cvm_fetch_item_free(f->memo[i].item);
	}
	free(f->memo);
	free(f->kds_url);
	free(f->pcs_url);
	free(f->root_crl_url);
	free(f->ca_bundle);
	free(f->cache_dir);
	free(f);
}

const char *cvm_fetcher_cache_dir(const struct cvm_fetcher *f)
{
	return f->cache_dir;
}

unsigned long cvm_fetcher_requests(struct cvm_fetcher *f)
{
	pthread_mutex_lock(&f->mu);
	unsigned long n = cvm_http_requests(f->h);
	pthread_mutex_unlock(&f->mu);
	return n;
}

const char *cvm_fetcher_kds_url(const struct cvm_fetcher *f)
{
	return f->kds_url;
}

const char *cvm_fetcher_pcs_url(const struct cvm_fetcher *f)
{
	return f->pcs_url;
}

const char *cvm_fetcher_root_crl_url(const struct cvm_fetcher *f)
{
	return f->root_crl_url;
}

bool cvm_fetcher_offline(const struct cvm_fetcher *f)
{
	return f->offline;
}

/* ---- items --------------------------------------------------------------------------------- */

void cvm_fetch_item_free(struct cvm_fetch_item *item)
{
	if (!item)
		return;
	free(item->data);
	free(item->issuer_chain);
	free(item->what);
	free(item->url);
	free(item->cache_path);
	free(item->cache_warning);
	free(item->export_name);
	free(item);
}

const char *cvm_fetch_kind_name(enum cvm_fetch_kind kind)
{
	switch (kind) {
	case CVM_FETCH_VCEK:
		return "vcek";
	case CVM_FETCH_AMD_CHAIN:
		return "amd-chain";
	case CVM_FETCH_AMD_CRL:
		return "amd-crl";
	case CVM_FETCH_TCB_INFO:
		return "tcb-info";
	case CVM_FETCH_QE_IDENTITY:
		return "qe-identity";
	case CVM_FETCH_PCK_CRL:
		return "pck-crl";
	case CVM_FETCH_ROOT_CRL:
		return "root-crl";
	}
	return "unknown";
}

const char *cvm_fetch_origin_name(enum cvm_fetch_origin origin)
{
	return origin == CVM_FETCH_ORIGIN_CACHE ? "cache" : "network";
}

/* A new item taking data and chain (freed on failure); NULL when out of memory. */
static struct cvm_fetch_item *item_new(const struct cvm_fetch_spec *s, enum cvm_fetch_origin o,
				       const char *cache_path, uint8_t *data, size_t len,
				       char *chain, size_t chain_len,
				       const struct cvm_fetch_facts *facts)
{
	struct cvm_fetch_item *it = calloc(1, sizeof(*it));
	if (!it) {
		free(data);
		free(chain);
		return NULL;
	}
	*it = (struct cvm_fetch_item){
		.kind = s->expect.kind,
		.origin = o,
		.product = facts->product,
		.data = data,
		.len = len,
		.issuer_chain = chain,
		.issuer_chain_len = chain_len,
		.has_next_update = facts->has_next_update,
		.next_update = facts->next_update,
		.what = strdup(s->what),
		.url = strdup(s->url),
		.cache_path = cache_path ? strdup(cache_path) : NULL,
		.export_name = strdup(s->export_name),
	};
	if (!it->what || !it->url || (cache_path && !it->cache_path) || !it->export_name) {
		cvm_fetch_item_free(it);
		return NULL;
	}
	it->source = o == CVM_FETCH_ORIGIN_CACHE ? it->cache_path : it->url;
	return it;
}

static char *dup_or_null(const char *s, bool *ok)
{
	char *d = s ? strdup(s) : NULL;
	*ok = *ok && (!s || d);
	return d;
}

/* A deep copy of it; NULL when out of memory. */
static struct cvm_fetch_item *item_dup(const struct cvm_fetch_item *it)
{
	struct cvm_fetch_item *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	*d = *it;
	d->data = malloc(it->len + 1);
	d->issuer_chain = it->issuer_chain ? malloc(it->issuer_chain_len + 1) : NULL;
	bool ok = d->data && (!it->issuer_chain || d->issuer_chain);
	d->what = dup_or_null(it->what, &ok);
	d->url = dup_or_null(it->url, &ok);
	d->cache_path = dup_or_null(it->cache_path, &ok);
	d->cache_warning = dup_or_null(it->cache_warning, &ok);
	d->export_name = dup_or_null(it->export_name, &ok);
	if (!ok) {
		cvm_fetch_item_free(d);
		return NULL;
	}
	memcpy(d->data, it->data, it->len + 1);
	if (it->issuer_chain)
		memcpy(d->issuer_chain, it->issuer_chain, it->issuer_chain_len + 1);
	d->source = it->source == it->cache_path ? d->cache_path : d->url;
	return d;
}

/* ---- the cache ----------------------------------------------------------------------------- */

/* A whole cache file into a new NUL-terminated buffer; the reason in why otherwise. */
static int cache_read(const char *path, size_t max, uint8_t **out, size_t *len, char *why,
		      size_t n)
{
	struct cvm_file file;
	struct cvm_error e;
	int rc = cvm_file_read(path, max, &file, &e);
	if (rc == -ENOENT) {
		snprintf(why, n, "%s is not in the cache", path);
		return rc;
	}
	if (rc == -EFBIG) {
		snprintf(why, n, "cache file %s is larger than any item", path);
		return rc;
	}
	if (rc) {
		snprintf(why, n, "cache file %s is unreadable: %s", path, strerror(-rc));
		return rc;
	}
	uint8_t *copy = malloc(file.size + 1);
	if (copy) {
		memcpy(copy, file.data, file.size);
		copy[file.size] = 0;
		*out = copy;
		*len = file.size;
	} else {
		rc = -ENOMEM;
		snprintf(why, n, "cache file %s is too large for memory", path);
	}
	cvm_file_close(&file);
	return rc;
}

static time_t judge_time(const struct cvm_fetcher *f)
{
	return f->has_time ? f->time : time(NULL);
}

/* The item at rel in the cache, if usable.  -ENOENT when missing, -EINVAL refused, -ESTALE. */
static int cache_lookup(struct cvm_fetcher *f, const struct cvm_fetch_spec *s, const char *rel,
			struct cvm_fetch_item **out, char *why, size_t n)
{
	char *path = cvm_path_join(f->cache_dir, rel);
	char *chain_path = s->chain_rel[0] ? cvm_path_join(f->cache_dir, s->chain_rel) : NULL;
	uint8_t *data = NULL, *chain = NULL;
	size_t len = 0, chain_len = 0;
	struct cvm_fetch_facts facts;
	char reason[WHY_MAX / 2];
	int rc = -ENOMEM;
	if (!path || (s->chain_rel[0] && !chain_path)) {
		snprintf(why, n, "out of memory");
		goto out;
	}
	rc = cache_read(path, f->http.max_body, &data, &len, why, n);
	if (rc)
		goto out;
	rc = cvm_fetch_check(&s->expect, data, len, &facts, reason, sizeof(reason));
	if (rc) {
		snprintf(why, n, "cache file %s is refused: %s", path, reason);
		goto out;
	}
	if (facts.has_next_update && facts.next_update <= judge_time(f)) {
		char when[32];
		cvm_time_format(facts.next_update, when, sizeof(when));
		snprintf(why, n, "cache file %s expired at its nextUpdate %s", path, when);
		rc = -ESTALE;
		goto out;
	}
	if (chain_path) {
		rc = cache_read(chain_path, f->http.max_body, &chain, &chain_len, why, n);
		if (!rc && (rc = cvm_fetch_check_pem_certs(chain, chain_len, 1, reason,
							   sizeof(reason))) != 0)
			snprintf(why, n, "cache file %s is refused: %s", chain_path, reason);
		if (rc)
			goto out;
	}
	*out = item_new(s, CVM_FETCH_ORIGIN_CACHE, path, data, len, (char *)chain, chain_len,
			&facts);
	data = chain = NULL;
	rc = *out ? 0 : -ENOMEM;
	if (rc)
		snprintf(why, n, "out of memory");
out:
	free(data);
	free(chain);
	free(path);
	free(chain_path);
	return rc;
}

int cvm_fetch_write_under(const char *dir, const char *rel, const void *data, size_t len,
			  struct cvm_error *err)
{
	char *path = cvm_path_join(dir, rel), *parent = path ? cvm_dirname(path) : NULL;
	int rc = !parent ? cvm_error_set(err, -ENOMEM, "%s: out of memory", rel)
			 : cvm_dir_create(parent, err);
	if (!rc)
		rc = cvm_file_write_atomic(path, data, len, err);
	free(parent);
	free(path);
	return rc;
}

/* The issuer chain first: a reader that finds the new body finds its chain. */
static void cache_store(struct cvm_fetcher *f, const struct cvm_fetch_spec *s,
			struct cvm_fetch_item *it)
{
	struct cvm_error e;
	cvm_error_clear(&e);
	int rc = 0;
	if (s->chain_rel[0])
		rc = cvm_fetch_write_under(f->cache_dir, s->chain_rel, it->issuer_chain,
					   it->issuer_chain_len, &e);
	if (!rc)
		rc = cvm_fetch_write_under(f->cache_dir, s->cache_rel, it->data, it->len, &e);
	if (rc) {
		size_t n = strlen(e.msg) + 40;
		if ((it->cache_warning = malloc(n)) != NULL)
			snprintf(it->cache_warning, n, "not stored in the cache: %s", e.msg);
	}
}

/* ---- the network --------------------------------------------------------------------------- */

static int take_issuer_chain(const struct cvm_fetch_spec *s, const struct cvm_http_response *r,
			     char **chain, size_t *chain_len, struct cvm_error *err)
{
	char *raw = NULL, why[160];
	int found = cvm_http_header_value(r->headers, r->headers_len, s->chain_header, &raw);
	if (found == 0 && s->chain_header_alt)
		found = cvm_http_header_value(r->headers, r->headers_len, s->chain_header_alt, &raw);
	if (found < 0)
		return cvm_error_set(err, -ENOMEM, "%s: out of memory", s->what);
	if (found == 0)
		return cvm_error_set(err, -EBADMSG, "%s: GET %s: HTTP 200 without the %s header",
				     s->what, s->url, s->chain_header);
	int rc = cvm_percent_decode(raw, strlen(raw), chain, chain_len);
	free(raw);
	if (rc == -ENOMEM)
		return cvm_error_set(err, rc, "%s: out of memory", s->what);
	if (rc)
		return cvm_error_set(err, -EBADMSG,
				     "%s: GET %s: the %s header is not percent-encoded text",
				     s->what, s->url, s->chain_header);
	if (cvm_fetch_check_pem_certs((const uint8_t *)*chain, *chain_len, 1, why, sizeof(why))) {
		free(*chain);
		*chain = NULL;
		return cvm_error_set(err, -EBADMSG, "%s: GET %s: the %s header is refused: %s",
				     s->what, s->url, s->chain_header, why);
	}
	return 0;
}

static bool is_crl(enum cvm_fetch_kind k)
{
	return k == CVM_FETCH_AMD_CRL || k == CVM_FETCH_PCK_CRL || k == CVM_FETCH_ROOT_CRL;
}

static int network_fetch(struct cvm_fetcher *f, const struct cvm_fetch_spec *s,
			 struct cvm_fetch_item **out, struct cvm_error *err)
{
	int rc = f->h ? 0 : cvm_http_new(&f->h, err);
	struct cvm_http_response r;
	if (!rc)
		rc = cvm_http_get(f->h, &f->http, s->url, s->what, &r, err);
	if (rc)
		return rc;
	uint8_t *data = r.body;
	size_t len = r.len;
	r.body = NULL;
	if (is_crl(s->expect.kind)) {
		uint8_t *der;
		size_t der_len;
		if (cvm_fetch_crl_to_der(data, len, &der, &der_len) == 0) {
			free(data);
			data = der;
			len = der_len;
		}
	}
	char *chain = NULL, why[WHY_MAX / 2];
	size_t chain_len = 0;
	struct cvm_fetch_facts facts;
	rc = cvm_fetch_check(&s->expect, data, len, &facts, why, sizeof(why));
	if (rc)
		rc = cvm_error_set(err, -EBADMSG, "%s: GET %s: HTTP 200, but the body is refused "
						  "(%s); nothing was stored", s->what, s->url, why);
	if (!rc && s->chain_header)
		rc = take_issuer_chain(s, &r, &chain, &chain_len, err);
	cvm_http_response_release(&r);
	if (rc) {
		free(data);
		return rc;
	}
	char *path = f->cache_dir ? cvm_path_join(f->cache_dir, s->cache_rel) : NULL;
	struct cvm_fetch_item *it = NULL;
	if (!f->cache_dir || path) {
		it = item_new(s, CVM_FETCH_ORIGIN_NETWORK, path, data, len, chain, chain_len,
			      &facts);
	} else {
		free(data);
		free(chain);
	}
	free(path);
	if (!it)
		return cvm_error_set(err, -ENOMEM, "%s: out of memory", s->what);
	if (f->cache_dir)
		cache_store(f, s, it);
	*out = it;
	return 0;
}

/* The item from the cache: 0, -ENOMEM (err set), or another code with the reason in why. */
static int cache_get(struct cvm_fetcher *f, const struct cvm_fetch_spec *s,
		     struct cvm_fetch_item **out, char *why, size_t n, struct cvm_error *err)
{
	int rc = cache_lookup(f, s, s->cache_rel, out, why, n);
	if (rc == -ENOENT && s->legacy_rel[0]) {
		char ignored[WHY_MAX];
		if (cache_lookup(f, s, s->legacy_rel, out, ignored, sizeof(ignored)) == 0)
			rc = 0;
	}
	if (rc == -ENOMEM)
		cvm_error_set(err, rc, "%s: out of memory", s->what);
	return rc;
}

/* The cache, else the network (under f's lock). */
static int get_first(struct cvm_fetcher *f, const struct cvm_fetch_spec *s,
		     struct cvm_fetch_item **out, struct cvm_error *err)
{
	char why[WHY_MAX] = "the cache is off";
	int rc = f->cache_dir ? cache_get(f, s, out, why, sizeof(why), err) : -ENOENT;
	if (rc == 0 || rc == -ENOMEM)
		return rc;
	if (f->offline)
		return cvm_error_set(err, -ENOENT, "%s: offline, and %s (it comes from %s)", s->what,
				     why, s->url);
	return network_fetch(f, s, out, err);
}

/* A run asks for a handful of URLs (a chip's VCEK, its chain and CRL, a few PCS items). */
static struct memo *memo_find(struct cvm_fetcher *f, const char *url)
{
	for (size_t i = 0; i < f->nmemo; i++)
		if (strcmp(f->memo[i].url, url) == 0)
			return &f->memo[i];
	return NULL;
}

/* Remember what url gave (it may be NULL: the error); false when out of memory. */
static bool memo_put(struct cvm_fetcher *f, const char *url,
		     const struct cvm_fetch_item *it, const struct cvm_error *e)
{
	if (f->nmemo == f->memo_cap) {
		size_t cap = f->memo_cap ? 2 * f->memo_cap : 16;
		struct memo *m = realloc(f->memo, cap * sizeof(*m));
		if (!m)
			return false;
		f->memo = m;
		f->memo_cap = cap;
	}
	struct memo *m = &f->memo[f->nmemo];
	m->url = strdup(url);
	m->item = it ? item_dup(it) : NULL;
	m->err = *e;
	m->got_at = judge_time(f);
	if (!m->url || (it && !m->item)) {
		free(m->url);
		cvm_fetch_item_free(m->item);
		return false;
	}
	f->nmemo++;
	return true;
}

int cvm_fetch_get(struct cvm_fetcher *f, const struct cvm_fetch_spec *s,
		  struct cvm_fetch_item **out, struct cvm_error *err)
{
	struct cvm_error e;
	cvm_error_clear(&e);
	int rc;
	/*
	 * Held while an item is got from the cache or the network, so threads needing it wait for
	 * that answer instead of asking again.
	 */
	pthread_mutex_lock(&f->mu);
	struct memo *m = f->remember ? memo_find(f, s->url) : NULL;
	/* An item that has passed its nextUpdate since it was got is got again. */
	if (m && m->item && m->item->has_next_update && m->item->next_update > m->got_at &&
	    m->item->next_update <= judge_time(f)) {
		cvm_fetch_item_free(m->item);
		free(m->url);
		*m = f->memo[--f->nmemo];
		m = NULL;
	}
	if (m && m->item) {
		*out = item_dup(m->item);
		rc = *out ? 0 : cvm_error_set(&e, -ENOMEM, "%s: out of memory", s->what);
	} else if (m) {
		e = m->err;
		rc = e.code;
	} else {
		struct cvm_fetch_item *it = NULL;
		rc = get_first(f, s, &it, &e);
		if (f->remember && rc != -ENOMEM && !memo_put(f, s->url, it, &e)) {
			cvm_fetch_item_free(it);
			it = NULL;
			rc = cvm_error_set(&e, -ENOMEM, "%s: out of memory", s->what);
		}
		*out = it;
	}
	pthread_mutex_unlock(&f->mu);
	if (rc && err)
		*err = e;
	return rc;
}
