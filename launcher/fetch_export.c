/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The air-gap bundle: fetched items as flat files that `cvmkit verify --certs DIR/certs` and
 * `--collateral DIR/collateral` read, and DIR/sources.txt saying where each file came from.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/fetch.h>
#include <cvmkit/util.h>

#include "launcher/fetch_internal.h"

struct text {
	char *s;
	size_t len, cap;
};

/* One line of sources.txt: "NAME<TAB>URL<TAB>cache|network". */
static bool text_add(struct text *t, const char *name, const struct cvm_fetch_item *it)
{
	const char *origin = cvm_fetch_origin_name(it->origin);
	size_t n = strlen(name) + strlen(it->url) + strlen(origin) + 3;
	if (t->len + n + 1 > t->cap) {
		size_t cap = (t->cap ? t->cap * 2 : 1024) + n;
		char *s = realloc(t->s, cap);
		if (!s)
			return false;
		t->s = s;
		t->cap = cap;
	}
	t->len += (size_t)snprintf(t->s + t->len, t->cap - t->len, "%s\t%s\t%s\n", name, it->url,
				   origin);
	return true;
}

/* "collateral/pck_crl_platform.der" -> "collateral/pck_crl_platform_issuer_chain.pem" */
static void chain_name(const char *name, char *out, size_t n)
{
	const char *dot = strrchr(name, '.');
	int stem = dot ? (int)(dot - name) : (int)strlen(name);
	snprintf(out, n, "%.*s_issuer_chain.pem", stem, name);
}

int cvm_fetch_export(const char *dir, struct cvm_fetch_item *const *items, size_t n,
		     struct cvm_error *err)
{
	struct text sources = {0};
	int rc = cvm_dir_create(dir, err);
	for (size_t i = 0; !rc && i < n; i++) {
		const struct cvm_fetch_item *it = items[i];
		char chain[512];
		rc = cvm_fetch_write_under(dir, it->export_name, it->data, it->len, err);
		if (!rc && !text_add(&sources, it->export_name, it))
			rc = cvm_error_set(err, -ENOMEM, "export: out of memory");
		if (rc || !it->issuer_chain)
			continue;
		chain_name(it->export_name, chain, sizeof(chain));
		rc = cvm_fetch_write_under(dir, chain, it->issuer_chain, it->issuer_chain_len,
					   err);
		if (!rc && !text_add(&sources, chain, it))
			rc = cvm_error_set(err, -ENOMEM, "export: out of memory");
	}
	if (!rc)
		rc = cvm_fetch_write_under(dir, "sources.txt", sources.s ? sources.s : "",
					   sources.len, err);
	free(sources.s);
	if (rc)
		cvm_error_wrap(err, "export to %s", dir);
	return rc;
}
