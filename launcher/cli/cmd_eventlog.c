/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmkit eventlog show LOG [--json] [--ccel-table FILE]: the events of a CC event log (MR index,
 * type, digests, decoded data) and the RTMR values its replay gives.
 */
#include "launcher/cli/cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <cvmkit/eventlog.h>
#include <cvmkit/util.h>

#define DATA_PREVIEW 32 /* bytes of undecoded data shown in the text output */

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: cvmkit eventlog show LOG [--json] [--ccel-table FILE]\n"
		"\n"
		"Read a confidential-computing event log (the TCG crypto-agile log TDVF/OVMF and\n"
		"td-shim write; in a Linux guest /sys/firmware/acpi/tables/data/CCEL) and list its\n"
		"events: number, CC MR index and register (1 = RTMR0 .. 4 = RTMR3), type, digests\n"
		"and the decoded data (UEFI variables, device paths, strings, tagged events,\n"
		"firmware blobs, handoff tables).  Then the RTMR0..3 values the log replays to:\n"
		"RTMR = SHA-384(RTMR || digest) from zero, over every event but EV_NO_ACTION.  A log\n"
		"without SHA-384 digests (e.g. SM3 only) is listed but not replayed.\n"
		"\n"
		"options:\n"
		"  --ccel-table FILE  the ACPI CCEL table (/sys/firmware/acpi/tables/CCEL): only its\n"
		"                     log area (LAML bytes) of LOG is read\n"
		"  --json             machine-readable output\n"
		"  -h, --help         this help\n"
		"\n"
		"Exit status: 0 when the log was read (replayed or not), 1 when it is unreadable or\n"
		"malformed, 2 on usage errors.\n");
}

static void print_top_usage(FILE *out)
{
	fprintf(out, "usage: cvmkit eventlog show LOG [--json] [--ccel-table FILE]\n"
		     "\n"
		     "subcommands:\n"
		     "  show    list a CC event log's events and the RTMRs it replays to\n"
		     "\n"
		     "'cvmkit eventlog show --help' describes it.\n");
}

static const char *register_name(uint32_t mr_index, char buf[16])
{
	const char *name = cvm_eventlog_mr_name(mr_index);
	if (name)
		return name;
	snprintf(buf, 16, "MR%u", mr_index);
	return buf;
}

static const char *type_name(uint32_t type, char buf[24])
{
	const char *name = cvm_eventlog_type_name(type);
	if (name)
		return name;
	snprintf(buf, 24, "EV_UNKNOWN_0x%x", type);
	return buf;
}

static const char *alg_name(uint16_t alg, char buf[16])
{
	const char *name = cvm_tcg_alg_name(alg);
	if (name)
		return name;
	snprintf(buf, 16, "0x%04x", alg);
	return buf;
}

/* A malloc'd lower-case hex string, or NULL. */
static char *hex_of(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	if (s)
		cvm_hex_encode(p, n, s);
	return s;
}

/* ---- text ---------------------------------------------------------------------------------- */

static bool printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

static void print_header(const struct cvm_eventlog *log, const char *path)
{
	size_t specid = log->nevents ? log->events[0].offset : log->len;
	cli_printf_safe(stdout, "event log: %s (%zu bytes: %zu in the SpecID event, %zu in %zu event%s, %zu free",
	       path, log->area_len, specid, log->len - specid, log->nevents,
	       log->nevents == 1 ? "" : "s", log->free_len);
	if (log->fill >= 0)
		printf(", 0x%02x fill", log->fill);
	printf(")\n");
	if (log->has_ccel) {
		const struct cvm_ccel_table *t = &log->ccel;
		const char *cc = cvm_ccel_cc_type_name(t->cc_type);
		cli_printf_safe(stdout, "ACPI table: %s revision %u, OEM \"%s\" \"%s\", CC type %u (%s) subtype %u, "
		       "log area 0x%" PRIx64 " bytes at 0x%" PRIx64 "\n", t->signature, t->revision,
		       t->oem_id, t->oem_table_id, t->cc_type, cc ? cc : "unknown", t->cc_subtype,
		       t->laml, t->lasa);
	}
	const struct cvm_eventlog_specid *s = &log->specid;
	char buf[16];
	printf("SpecID: TCG PC Client %u.%u errata %u, UINTN %s, platform class %u, MR index %u\n",
	       s->version_major, s->version_minor, s->errata,
	       s->uintn_size == 2 ? "64-bit" : s->uintn_size == 1 ? "32-bit" : "unknown",
	       s->platform_class, s->mr_index);
	printf("algorithms:");
	for (size_t i = 0; i < s->nalgs; i++)
		printf("%s %s (%u bytes)", i ? "," : "", alg_name(s->algs[i].id, buf),
		       s->algs[i].digest_size);
	printf("\n");
	if (s->vendor_info_len && printable(s->vendor_info, s->vendor_info_len)) {
		printf("vendor info: \"%.*s\"\n", (int)s->vendor_info_len,
		       (const char *)s->vendor_info);
	} else if (s->vendor_info_len) {
		char *hex = hex_of(s->vendor_info, s->vendor_info_len);
		printf("vendor info: %s\n", hex ? hex : "");
		free(hex);
	}
	if (log->warnings[0])
		cli_printf_safe(stdout, "warning: %s\n", log->warnings);
}

static void print_event(size_t i, const struct cvm_eventlog_event *ev)
{
	char rb[16], tb[24], ab[16];
	printf("\n[%zu] %s %s, %u data bytes at offset 0x%zx\n", i, register_name(ev->mr_index, rb),
	       type_name(ev->type, tb), ev->data_len, ev->offset);
	for (size_t d = 0; d < ev->ndigests; d++) {
		char *hex = hex_of(ev->digests[d].value, ev->digests[d].size);
		printf("    %s %s\n", alg_name(ev->digests[d].alg, ab), hex ? hex : "");
		free(hex);
	}
	const struct cvm_event_detail *det = &ev->detail;
	if (det->text[0]) {
		/* escaped, so that one event stays on its lines */
		cli_printf_safe(stdout, "    %s%s\n", det->kind == CVM_EVD_MALFORMED ? "malformed: " : "",
				det->text);
	} else if (ev->data_len) {
		size_t n = ev->data_len < DATA_PREVIEW ? ev->data_len : DATA_PREVIEW;
		char *hex = hex_of(ev->data, n);
		printf("    data %s%s\n", hex ? hex : "", n < ev->data_len ? "..." : "");
		free(hex);
	}
}

static void print_replay_text(const struct cvm_rtmr_replay *r, const struct cvm_error *why)
{
	if (!r) {
		putchar('\n');
		cli_printf_safe(stdout, "replay: %s\n", cvm_error_message(why));
		return;
	}
	printf("\nreplay (SHA-384):\n");
	for (int k = 0; k < CVM_RTMR_COUNT; k++) {
		char hex[2 * CVM_RTMR_SIZE + 1];
		cvm_hex_encode(r->rtmr[k], CVM_RTMR_SIZE, hex);
		printf("  RTMR%d %s  %zu event%s\n", k, hex, r->extends[k],
		       r->extends[k] == 1 ? "" : "s");
	}
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static json_object *jhex(const uint8_t *p, size_t n)
{
	char *s = hex_of(p, n);
	json_object *o = s ? json_object_new_string(s) : NULL;
	free(s);
	return o;
}

static json_object *jnum_hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_object_new_string(buf);
}

static json_object *jguid(const struct cvm_guid *g)
{
	char s[37];
	cvm_guid_format(g, s);
	return json_object_new_string(s);
}

static json_object *jguid_at(const uint8_t *p)
{
	struct cvm_guid g;
	memcpy(g.b, p, sizeof(g.b));
	return jguid(&g);
}

static json_object *jdevpath(const struct cvm_devpath *dp)
{
	json_object *o = json_object_new_object(), *nodes = json_object_new_array();
	for (size_t i = 0; i < dp->nnodes; i++) {
		const struct cvm_devpath_node *n = &dp->nodes[i];
		json_object *jn = json_object_new_object();
		json_object_object_add(jn, "type", json_object_new_int(n->type));
		json_object_object_add(jn, "subtype", json_object_new_int(n->subtype));
		json_object_object_add(jn, "text", json_object_new_string(n->text));
		json_object_object_add(jn, "data", jhex(n->data, n->data_len));
		json_object_array_add(nodes, jn);
	}
	json_object_object_add(o, "text", json_object_new_string(dp->text));
	json_object_object_add(o, "nodes", nodes);
	return o;
}

static void jvariable(json_object *o, const struct cvm_event_variable *v)
{
	json_object_object_add(o, "vendor", jguid(&v->vendor));
	json_object_object_add(o, "name", json_object_new_string(v->name));
	json_object_object_add(o, "name_length", json_object_new_int64((int64_t)v->name_chars));
	json_object_object_add(o, "data_length", json_object_new_int64((int64_t)v->data_len));
	json_object_object_add(o, "data", jhex(v->data, (size_t)v->data_len));
	if (!v->is_load_option)
		return;
	json_object *lo = json_object_new_object();
	json_object_object_add(lo, "attributes", jnum_hex(v->load_attributes));
	json_object_object_add(lo, "description", json_object_new_string(v->load_description));
	json_object_object_add(lo, "device_path", jdevpath(&v->load_path));
	json_object_object_add(o, "load_option", lo);
}

static void jhandoff(json_object *o, const struct cvm_event_detail *d)
{
	json_object *tables = json_object_new_array();
	for (uint64_t i = 0; i < d->u.handoff.count; i++) {
		const uint8_t *t = d->u.handoff.tables + i * 24;
		json_object *jt = json_object_new_object();
		json_object_object_add(jt, "guid", jguid_at(t));
		json_object_object_add(jt, "address", jnum_hex(cvm_le64(t + 16)));
		json_object_array_add(tables, jt);
	}
	json_object_object_add(o, "tables", tables);
}

static json_object *jdetail(const struct cvm_event_detail *d)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string(cvm_event_detail_kind_name(d->kind)));
	json_object_object_add(o, "text", json_object_new_string(d->text));
	if (d->description)
		json_object_object_add(o, "description", json_object_new_string(d->description));
	switch (d->kind) {
	case CVM_EVD_VARIABLE:
		jvariable(o, &d->u.variable);
		break;
	case CVM_EVD_IMAGE:
		json_object_object_add(o, "image_base", jnum_hex(d->u.image.base));
		json_object_object_add(o, "image_length", jnum_hex(d->u.image.length));
		json_object_object_add(o, "link_address", jnum_hex(d->u.image.link_address));
		json_object_object_add(o, "device_path", jdevpath(&d->u.image.path));
		break;
	case CVM_EVD_BLOB:
		json_object_object_add(o, "base", jnum_hex(d->u.blob.base));
		json_object_object_add(o, "length", jnum_hex(d->u.blob.length));
		break;
	case CVM_EVD_HANDOFF:
		jhandoff(o, d);
		break;
	case CVM_EVD_TAGGED:
		json_object_object_add(o, "tag_id", jnum_hex(d->u.tagged.id));
		json_object_object_add(o, "tag_data", jhex(d->u.tagged.data, d->u.tagged.len));
		break;
	case CVM_EVD_SEPARATOR:
		json_object_object_add(o, "value", jnum_hex(d->u.separator));
		break;
	case CVM_EVD_GPT:
		json_object_object_add(o, "disk_guid", jguid(&d->u.gpt.disk));
		json_object_object_add(o, "partitions",
				       json_object_new_int64((int64_t)d->u.gpt.partitions));
		break;
	case CVM_EVD_TDSHIM:
		json_object_object_add(o, "payload_length", json_object_new_int64(d->u.tdshim.len));
		break;
	default:
		break;
	}
	return o;
}

static json_object *jevent(size_t i, const struct cvm_eventlog_event *ev)
{
	char tb[24], ab[16];
	json_object *o = json_object_new_object(), *digests = json_object_new_array();
	const char *reg = cvm_eventlog_mr_name(ev->mr_index);
	json_object_object_add(o, "number", json_object_new_int64((int64_t)i));
	json_object_object_add(o, "offset", jnum_hex(ev->offset));
	json_object_object_add(o, "mr_index", json_object_new_int64(ev->mr_index));
	json_object_object_add(o, "register", reg ? json_object_new_string(reg) : NULL);
	json_object_object_add(o, "type", json_object_new_string(type_name(ev->type, tb)));
	json_object_object_add(o, "type_value", jnum_hex(ev->type));
	for (size_t d = 0; d < ev->ndigests; d++) {
		json_object *jd = json_object_new_object();
		json_object_object_add(jd, "alg", json_object_new_string(alg_name(ev->digests[d].alg, ab)));
		json_object_object_add(jd, "digest", jhex(ev->digests[d].value, ev->digests[d].size));
		json_object_array_add(digests, jd);
	}
	json_object_object_add(o, "digests", digests);
	bool matches;
	json_object_object_add(o, "digest_matches_data",
			       cvm_eventlog_event_digests_data(ev, &matches, NULL) == 0
				       ? json_object_new_boolean(matches) : NULL);
	json_object_object_add(o, "data_length", json_object_new_int64(ev->data_len));
	json_object_object_add(o, "data", jhex(ev->data, ev->data_len));
	json_object_object_add(o, "detail", jdetail(&ev->detail));
	return o;
}

static json_object *jheader(const struct cvm_eventlog *log, const char *path)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "area_length", json_object_new_int64((int64_t)log->area_len));
	json_object_object_add(o, "log_length", json_object_new_int64((int64_t)log->len));
	json_object_object_add(o, "free_length", json_object_new_int64((int64_t)log->free_len));
	json_object_object_add(o, "fill", log->fill >= 0 ? jnum_hex((uint64_t)log->fill) : NULL);
	json_object *warnings = json_object_new_array();
	if (log->warnings[0])
		json_object_array_add(warnings, json_object_new_string(log->warnings));
	json_object_object_add(o, "warnings", warnings);
	if (log->has_ccel) {
		const struct cvm_ccel_table *t = &log->ccel;
		json_object *jt = json_object_new_object();
		json_object_object_add(jt, "signature", json_object_new_string(t->signature));
		json_object_object_add(jt, "revision", json_object_new_int(t->revision));
		json_object_object_add(jt, "oem_id", json_object_new_string(t->oem_id));
		json_object_object_add(jt, "oem_table_id", json_object_new_string(t->oem_table_id));
		json_object_object_add(jt, "cc_type", json_object_new_int(t->cc_type));
		json_object_object_add(jt, "cc_subtype", json_object_new_int(t->cc_subtype));
		json_object_object_add(jt, "log_area_length", jnum_hex(t->laml));
		json_object_object_add(jt, "log_area_address", jnum_hex(t->lasa));
		json_object_object_add(o, "ccel_table", jt);
	}
	const struct cvm_eventlog_specid *s = &log->specid;
	json_object *js = json_object_new_object(), *algs = json_object_new_array();
	char ab[16];
	json_object_object_add(js, "mr_index", json_object_new_int64(s->mr_index));
	json_object_object_add(js, "platform_class", json_object_new_int64(s->platform_class));
	json_object_object_add(js, "version_major", json_object_new_int(s->version_major));
	json_object_object_add(js, "version_minor", json_object_new_int(s->version_minor));
	json_object_object_add(js, "errata", json_object_new_int(s->errata));
	json_object_object_add(js, "uintn_size", json_object_new_int(s->uintn_size));
	for (size_t i = 0; i < s->nalgs; i++) {
		json_object *ja = json_object_new_object();
		json_object_object_add(ja, "alg", json_object_new_string(alg_name(s->algs[i].id, ab)));
		json_object_object_add(ja, "id", jnum_hex(s->algs[i].id));
		json_object_object_add(ja, "digest_size", json_object_new_int(s->algs[i].digest_size));
		json_object_array_add(algs, ja);
	}
	json_object_object_add(js, "algorithms", algs);
	json_object_object_add(js, "vendor_info", jhex(s->vendor_info, s->vendor_info_len));
	json_object_object_add(o, "spec_id", js);
	return o;
}

static json_object *jreplay(const struct cvm_rtmr_replay *r, const struct cvm_error *why)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "replayed", json_object_new_boolean(r != NULL));
	if (!r) {
		json_object_object_add(o, "reason", json_object_new_string(cvm_error_message(why)));
		return o;
	}
	json_object *rtmrs = json_object_new_array(), *counts = json_object_new_array();
	for (int k = 0; k < CVM_RTMR_COUNT; k++) {
		json_object_array_add(rtmrs, jhex(r->rtmr[k], CVM_RTMR_SIZE));
		json_object_array_add(counts, json_object_new_int64((int64_t)r->extends[k]));
	}
	json_object_object_add(o, "algorithm", json_object_new_string("SHA-384"));
	json_object_object_add(o, "rtmr", rtmrs);
	json_object_object_add(o, "events", counts);
	return o;
}

static int print_json(const struct cvm_eventlog *log, const char *path,
		      const struct cvm_rtmr_replay *r, const struct cvm_error *why)
{
	json_object *root = jheader(log, path), *events = json_object_new_array();
	for (size_t i = 0; i < log->nevents; i++)
		json_object_array_add(events, jevent(i, &log->events[i]));
	json_object_object_add(root, "events", events);
	json_object_object_add(root, "replay", jreplay(r, why));
	return cli_print_json("eventlog", root);
}

/* ---- the verb ------------------------------------------------------------------------------ */

static int eventlog_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"ccel-table", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false;
	const char *table = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 't':
			table = optarg;
			break;
		case 'h':
			print_usage(stdout);
			return CLI_OK;
		default:
			return cli_option_error("eventlog", "show", c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("eventlog", "show: expected one LOG, got %d argument%s",
				       argc - optind, argc - optind == 1 ? "" : "s");
	const char *path = argv[optind];

	struct cvm_error err, why;
	cvm_error_clear(&err);
	cvm_error_clear(&why);
	struct cvm_eventlog *log = NULL;
	if (cvm_eventlog_load(path, table, &log, &err))
		return cli_fail("eventlog", &err);
	struct cvm_rtmr_replay *r = NULL;
	if (cvm_eventlog_replay_tdx(log, &r, &why))
		r = NULL;
	int status = CLI_OK;
	if (json) {
		status = print_json(log, path, r, &why);
	} else {
		print_header(log, path);
		for (size_t i = 0; i < log->nevents; i++)
			print_event(i, &log->events[i]);
		print_replay_text(r, &why);
	}
	cvm_rtmr_replay_free(r);
	cvm_eventlog_free(log);
	return status;
}

int cmd_eventlog(const struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	if (argc < 2)
		return cli_usage_error("eventlog", "missing subcommand (show)");
	const char *sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
		print_top_usage(stdout);
		return CLI_OK;
	}
	if (strcmp(sub, "show") == 0)
		return eventlog_show(argc - 1, argv + 1);
	if (sub[0] == '-')
		return cli_usage_error("eventlog", "unknown option '%s'", sub);
	return cli_usage_error("eventlog", "unknown subcommand '%s' (expected show)", sub);
}
