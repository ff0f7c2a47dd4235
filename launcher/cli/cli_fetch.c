/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `cvmkit fetch` and `cvmkit verify --fetch` share: the KDS/PCS and cache options, and the
 * listing of what was fetched for a piece of evidence and where it came from.
 */
#include "launcher/cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

int cli_fetch_option(const char *verb, int c, const char *arg, struct cvm_fetch_config *cfg)
{
	switch (c) {
	case CLI_OPT_KDS_URL:
		cfg->kds_url = arg;
		return 1;
	case CLI_OPT_PCS_URL:
		cfg->pcs_url = arg;
		return 1;
	case CLI_OPT_CACHE:
		cfg->cache_dir = arg;
		return 1;
	case CLI_OPT_OFFLINE:
		cfg->offline = true;
		return 1;
	case CLI_OPT_CA_BUNDLE:
		cfg->ca_bundle = arg;
		return 1;
	case CLI_OPT_TIMEOUT: {
		char *end;
		errno = 0;
		unsigned long s = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || s == 0 || s > 3600)
			return cli_usage_error(verb, "--timeout: '%s' is not 1..3600 seconds", arg);
		cfg->timeout_ms = (unsigned)s * 1000u;
		return 1;
	}
	default:
		return 0;
	}
}

void cli_fetch_print(FILE *out, const char *indent, const struct cvm_fetch_evidence *fe)
{
	for (size_t i = 0; i < fe->n; i++) {
		const struct cvm_fetch_needed *n = &fe->needed[i];
		cli_printf_safe(out, "%s%-12s %-8s %s\n", indent, cvm_fetch_kind_name(n->kind),
			n->item ? cvm_fetch_origin_name(n->item->origin) : "missing",
			n->item ? n->item->source : "(see the error)");
	}
}

size_t cli_fetch_report_failures(FILE *to, const char *verb, const char *evidence,
				 const struct cvm_fetch_evidence *fe)
{
	size_t failed = 0;
	for (size_t i = 0; i < fe->n; i++) {
		const struct cvm_fetch_needed *n = &fe->needed[i];
		if (n->item)
			continue;
		cli_printf_safe(to, "cvmkit %s: %s: %s: %s\n", verb, evidence,
			cvm_fetch_kind_name(n->kind), cvm_error_message(&n->error));
		failed++;
	}
	return failed;
}

static void add_str(json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, value ? json_object_new_string(value) : NULL);
}

json_object *cli_fetch_json(const struct cvm_fetch_evidence *fe)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; a && i < fe->n; i++) {
		const struct cvm_fetch_needed *n = &fe->needed[i];
		json_object *o = json_object_new_object();
		add_str(o, "kind", cvm_fetch_kind_name(n->kind));
		if (n->item) {
			add_str(o, "what", n->item->what);
			add_str(o, "origin", cvm_fetch_origin_name(n->item->origin));
			add_str(o, "source", n->item->source);
			add_str(o, "url", n->item->url);
			add_str(o, "cache_path", n->item->cache_path);
		} else {
			add_str(o, "origin", "missing");
			add_str(o, "error", cvm_error_message(&n->error));
		}
		json_object_array_add(a, o);
	}
	return a;
}
