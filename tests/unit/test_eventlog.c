/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: the CC event log reader (tdx/tdx_eventlog*.c).
 *
 * The real logs in vectors/eventlog come with Trustee's parse of each (NAME_out.json); every
 * event of every log is compared with it: MR index, type name, every digest, the raw event
 * bytes, whether the digests hash the data, and the decoded details wherever both sides decode
 * the same thing.  What is not comparable, and why, is said where it is skipped.  Then the
 * replay, the ACPI CCEL table and hostile inputs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include <cvmkit/emit.h>
#include <cvmkit/eventlog.h>
#include <cvmkit/tdx.h>
#include <cvmkit/util.h>

#include "tests/unit/helper_vectors.h"

#define AREA_MAX (1u << 20)
#define VEC "eventlog/confidential-containers-trustee/"

static uint8_t area[AREA_MAX + 1];

static struct cvm_eventlog *load_log(const char *name, size_t *len)
{
	char rel[256];
	snprintf(rel, sizeof(rel), VEC "%s", name);
	size_t n = cvm_test_vector_load(rel, area, sizeof(area));
	struct cvm_eventlog *log = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	if (cvm_eventlog_parse(area, n, &log, &err))
		fail_msg("%s: %s", name, cvm_error_message(&err));
	if (len)
		*len = n;
	return log;
}

static json_object *load_trustee(const char *name)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/vectors/" VEC "%s_out.json", cvm_test_shared_dir(), name);
	json_object *root = json_object_from_file(path);
	if (!root) {
		print_message("# SKIP %s is missing\n", path);
		skip();
	}
	json_object *list;
	assert_true(json_object_object_get_ex(root, "uefi_event_logs", &list));
	return root;
}

static json_object *field(json_object *o, const char *key)
{
	json_object *v = NULL;
	json_object_object_get_ex(o, key, &v);
	return v;
}

static const char *str_field(json_object *o, const char *key)
{
	json_object *v = field(o, key);
	assert_non_null(v);
	return json_object_get_string(v);
}

/* Decoded base64 (the JSON's "event" and "variable_data"); *n bytes, malloc'd. */
static uint8_t *base64_decode(const char *text, size_t *n)
{
	size_t len = strlen(text);
	uint8_t *out = malloc(len / 4 * 3 + 3);
	assert_non_null(out);
	int got = len ? EVP_DecodeBlock(out, (const unsigned char *)text, (int)len) : 0;
	assert_true(got >= 0);
	size_t pad = 0;
	while (pad < len && pad < 2 && text[len - 1 - pad] == '=')
		pad++;
	*n = (size_t)got - pad;
	return out;
}

static void assert_bytes_equal_b64(const uint8_t *p, size_t n, const char *b64)
{
	size_t m;
	uint8_t *want = base64_decode(b64, &m);
	assert_int_equal(n, m);
	assert_memory_equal(p, want, n);
	free(want);
}

static void assert_hex_equal(const uint8_t *p, size_t n, const char *hex)
{
	char *got = malloc(2 * n + 1);
	assert_non_null(got);
	cvm_hex_encode(p, n, got);
	assert_string_equal(got, hex);
	free(got);
}

/* ---- agreement with Trustee, node by node for device paths -------------------------------- */

/*
 * Trustee's device path strings differ from the UEFI text form cvmkit prints, so each node is
 * compared through what it means:
 *   Path(t,s,hex)  (no decoder there)  type, subtype and data bytes
 *   File(X)        cvmkit prints the path alone, as the UEFI text form does
 *   Pci(f,d)       Trustee prints function then device, in decimal; UEFI is Pci(0xD,0xF)
 *   ACPI(HID,uid)  UEFI names PNP0A03 PciRoot(0xUID), the others Acpi(HID,0xUID)
 *   HD(...)        the same form; cvmkit's GUIDs are lower case
 *   VenMedia(G,h)  the same, without Trustee's trailing ',' when there is no vendor data
 */
static void assert_node_matches(const struct cvm_devpath_node *n, const char *t)
{
	char want[1024];
	unsigned a, b;
	if (!strncmp(t, "Path(", 5)) {
		int used = 0;
		assert_int_equal(sscanf(t, "Path(%u,%u,%n", &a, &b, &used), 2);
		assert_int_equal(n->type, a);
		assert_int_equal(n->subtype, b);
		snprintf(want, sizeof(want), "%.*s", (int)strlen(t + used) - 1, t + used);
		assert_hex_equal(n->data, n->data_len, want);
	} else if (!strncmp(t, "File(", 5)) {
		assert_int_equal(n->type, 4);
		assert_int_equal(n->subtype, 4);
		snprintf(want, sizeof(want), "%.*s", (int)strlen(t) - 6, t + 5);
		assert_string_equal(n->text, want);
	} else if (!strncmp(t, "Pci(", 4)) {
		assert_int_equal(sscanf(t, "Pci(%u,%u)", &a, &b), 2);
		assert_int_equal(n->data_len, 2);
		assert_int_equal(n->data[0], a);
		assert_int_equal(n->data[1], b);
		snprintf(want, sizeof(want), "Pci(0x%x,0x%x)", b, a);
		assert_string_equal(n->text, want);
	} else if (!strncmp(t, "ACPI(", 5)) {
		char hid[16];
		assert_int_equal(sscanf(t, "ACPI(%15[^,],%u)", hid, &a), 2);
		if (!strcmp(hid, "PNP0A03"))
			snprintf(want, sizeof(want), "PciRoot(0x%x)", a);
		else
			snprintf(want, sizeof(want), "Acpi(%s,0x%x)", hid, a);
		assert_string_equal(n->text, want);
	} else if (!strncmp(t, "HD(", 3)) {
		assert_int_equal(strcasecmp(n->text, t), 0);
	} else if (!strncmp(t, "VenMedia(", 9)) {
		size_t len = strlen(t);
		if (len >= 2 && !strcmp(t + len - 2, ",)"))
			snprintf(want, sizeof(want), "%.*s)", (int)len - 2, t);
		else
			snprintf(want, sizeof(want), "%s", t);
		assert_int_equal(strcasecmp(n->text, want), 0);
	} else {
		fail_msg("device path node \"%s\": a form this comparison does not know", t);
	}
}

/* Trustee prints a variable's GUID as its 16 bytes in order, grouped 4-2-2-2-6. */
static void assert_raw_guid(const struct cvm_guid *g, const char *t)
{
	char hex[33];
	size_t k = 0;
	for (const char *p = t; *p && k < 32; p++)
		if (*p != '-')
			hex[k++] = *p;
	hex[k] = '\0';
	assert_hex_equal(g->b, 16, hex);
}

static void assert_variable_matches(const struct cvm_eventlog_event *ev, json_object *det)
{
	const struct cvm_event_variable *v = &ev->detail.u.variable;
	assert_int_equal(ev->detail.kind, CVM_EVD_VARIABLE);
	assert_string_equal(v->name, str_field(det, "unicode_name"));
	assert_int_equal(v->name_chars, json_object_get_int64(field(det, "unicode_name_length")));
	assert_int_equal(v->data_len, json_object_get_int64(field(det, "variable_data_length")));
	assert_bytes_equal_b64(v->data, (size_t)v->data_len, str_field(det, "variable_data"));
	assert_raw_guid(&v->vendor, str_field(det, "variable_name"));
}

static void assert_string_matches(const struct cvm_eventlog_event *ev, const char *want)
{
	const struct cvm_event_detail *d = &ev->detail;
	switch (d->kind) {
	case CVM_EVD_STRING:
	case CVM_EVD_TAGGED:
		assert_string_equal(d->text, want);
		break;
	case CVM_EVD_BLOB:
	case CVM_EVD_HANDOFF:
		/* Trustee's string is the description of a BLOB2 / HANDOFF_TABLES2 event */
		assert_non_null(d->description);
		assert_string_equal(d->description, want);
		break;
	case CVM_EVD_TDSHIM:
		/*
		 * Trustee reads the whole td-shim event as UTF-8 and drops control characters,
		 * which is "name payload" when the payload is text and "" when it is binary (the
		 * TD HOB): only the text case is comparable.
		 */
		if (want[0])
			assert_string_equal(d->text, want);
		else
			assert_string_equal(d->description, "td_hob");
		break;
	default:
		fail_msg("event at 0x%zx: Trustee decodes a string, cvmkit kind %s", ev->offset,
			 cvm_event_detail_kind_name(d->kind));
	}
}

/*
 * Trustee decodes nothing for these: separators, GPT headers, EV_NO_ACTION and images without
 * a device path.  cvmkit decodes the first ones further; check what it says is consistent.
 */
static void assert_empty_matches(const struct cvm_eventlog_event *ev)
{
	const struct cvm_event_detail *d = &ev->detail;
	switch (ev->type) {
	case CVM_EV_SEPARATOR:
		assert_int_equal(d->kind, CVM_EVD_SEPARATOR);
		assert_int_equal(d->u.separator, 0);
		break;
	case CVM_EV_EFI_GPT_EVENT:
		assert_int_equal(d->kind, CVM_EVD_GPT);
		break;
	case CVM_EV_EFI_BOOT_SERVICES_APPLICATION:
		assert_int_equal(d->kind, CVM_EVD_IMAGE);
		assert_int_equal(d->u.image.path.nnodes, 0);
		break;
	default:
		fail_msg("event at 0x%zx: Trustee has no details for type 0x%x", ev->offset, ev->type);
	}
}

static void assert_details_match(const struct cvm_eventlog_event *ev, json_object *det)
{
	json_object *v;
	if ((v = field(det, "string"))) {
		assert_string_matches(ev, json_object_get_string(v));
	} else if (field(det, "unicode_name")) {
		assert_variable_matches(ev, det);
	} else if ((v = field(det, "device_paths"))) {
		assert_int_equal(ev->detail.kind, CVM_EVD_IMAGE);
		const struct cvm_devpath *dp = &ev->detail.u.image.path;
		assert_int_equal(dp->nnodes, json_object_array_length(v));
		for (size_t i = 0; i < dp->nnodes; i++)
			assert_node_matches(&dp->nodes[i],
					    json_object_get_string(json_object_array_get_idx(v, i)));
	} else {
		assert_int_equal(json_object_object_length(det), 0);
		assert_empty_matches(ev);
	}
}

static void assert_event_matches(const struct cvm_eventlog_event *ev, json_object *t)
{
	assert_int_equal(ev->mr_index, json_object_get_int64(field(t, "index")));
	assert_string_equal(cvm_eventlog_type_name(ev->type), str_field(t, "type_name"));
	json_object *digests = field(t, "digests");
	assert_int_equal(ev->ndigests, json_object_array_length(digests));
	for (size_t d = 0; d < ev->ndigests; d++) {
		json_object *jd = json_object_array_get_idx(digests, d);
		assert_string_equal(cvm_tcg_alg_name(ev->digests[d].alg), str_field(jd, "alg"));
		assert_hex_equal(ev->digests[d].value, ev->digests[d].size, str_field(jd, "digest"));
	}
	assert_bytes_equal_b64(ev->data, ev->data_len, str_field(t, "event"));
	bool matches;
	assert_int_equal(cvm_eventlog_event_digests_data(ev, &matches, NULL), 0);
	assert_int_equal(matches, json_object_get_boolean(field(t, "digest_matches_event")));
	assert_details_match(ev, field(t, "details"));
}

static void agrees_with_trustee(const char *name, size_t want_events)
{
	struct cvm_eventlog *log = load_log(name, NULL);
	json_object *root = load_trustee(name), *list = field(root, "uefi_event_logs");
	assert_int_equal(log->nevents, want_events);
	assert_int_equal(log->nevents, json_object_array_length(list));
	for (size_t i = 0; i < log->nevents; i++) {
		print_message("# %s event %zu\n", name, i);
		assert_event_matches(&log->events[i], json_object_array_get_idx(list, i));
	}
	json_object_put(root);
	cvm_eventlog_free(log);
}

static void tdshim_log_agrees_with_trustee(void **state)
{
	(void)state;
	agrees_with_trustee("CCEL_data", 5);
}

static void ovmf_log_agrees_with_trustee(void **state)
{
	(void)state;
	agrees_with_trustee("CCEL_data_ovmf", 20);
}

static void grub_log_agrees_with_trustee(void **state)
{
	(void)state;
	agrees_with_trustee("CCEL_data_grub", 37);
}

static void sm3_log_agrees_with_trustee(void **state)
{
	(void)state;
	agrees_with_trustee("CCEL_data_csv", 82);
}

/* ---- the log as a whole ------------------------------------------------------------------ */

static void reads_specid_and_free_space(void **state)
{
	(void)state;
	size_t n;
	struct cvm_eventlog *log = load_log("CCEL_data", &n);
	assert_int_equal(log->specid.nalgs, 1);
	assert_int_equal(log->specid.algs[0].id, CVM_TCG_ALG_SHA384);
	assert_int_equal(log->specid.algs[0].digest_size, 48);
	assert_int_equal(log->specid.errata, 105);
	assert_int_equal(log->specid.vendor_info_len, 7);
	assert_memory_equal(log->specid.vendor_info, "td-shim", 7);
	assert_int_equal(log->area_len, n);
	assert_int_equal(log->len, 0x265e);
	assert_int_equal(log->free_len, n - 0x265e);
	assert_int_equal(log->fill, 0x00); /* td-shim zeroes the log area */
	assert_string_equal(log->warnings, "");
	cvm_eventlog_free(log);

	log = load_log("CCEL_data_ovmf", &n);
	assert_int_equal(log->specid.mr_index, 1);
	assert_int_equal(log->fill, 0xff); /* OVMF fills it with 0xff */
	assert_int_equal(log->len, 0x848);
	cvm_eventlog_free(log);

	log = load_log("CCEL_data_csv", NULL);
	assert_int_equal(log->specid.algs[0].id, CVM_TCG_ALG_SM3_256);
	assert_int_equal(log->specid.algs[0].digest_size, 32);
	cvm_eventlog_free(log);
}

static void decodes_events_for_people(void **state)
{
	(void)state;
	struct cvm_eventlog *log = load_log("CCEL_data_grub", NULL);
	const struct cvm_eventlog_event *e = log->events;
	assert_string_equal(e[0].detail.text,
			    "TdxTable: 1 table (93bb96af-b9f2-4eb8-9462-e0ba74564236 at 0x809000)");
	assert_string_equal(e[1].detail.text,
			    "Fv(XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX): 0x84000 bytes at 0xffc00000");
	assert_int_equal(e[1].detail.u.blob.base, 0xffc00000);
	assert_string_equal(e[2].detail.text, "SecureBoot: 1 (enabled)");
	assert_string_equal(e[7].detail.text, "0x00000000");
	assert_string_equal(e[11].detail.text, "BootOrder: 0001,0000");
	const struct cvm_event_variable *boot1 = &e[12].detail.u.variable;
	assert_true(boot1->is_load_option);
	assert_int_equal(boot1->load_attributes, 1);
	assert_string_equal(boot1->load_description, "UEFI Misc Device");
	assert_string_equal(boot1->load_path.text,
			    "PciRoot(0x0)/Pci(0x1,0x0)/Pci(0x0,0x0)/Pci(0x1,0x0)/Pci(0x0,0x0)");
	assert_string_equal(e[13].detail.text,
			    "Boot0000: \"UiApp\" Fv(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/"
			    "FvFile(462caa21-7614-4503-836e-8ab6f4662331)");
	assert_string_equal(e[17].detail.text, "disk 2cc9efa8-f404-47d6-804f-06b18d2960cc, 4 partitions");
	assert_string_equal(e[18].detail.text,
			    "PciRoot(0x0)/Pci(0x1,0x0)/Pci(0x0,0x0)/Pci(0x1,0x0)/Pci(0x0,0x0)/"
			    "HD(15,GPT,00f1275e-5375-43d5-9eb5-de2add4c9932,0x2800,0x35000)/"
			    "\\EFI\\BOOT\\BOOTX64.EFI");
	assert_int_equal(e[33].detail.kind, CVM_EVD_TAGGED);
	assert_int_equal(e[33].detail.u.tagged.id, 0x8f3b22ed);
	assert_string_equal(e[33].detail.text, "LOADED_IMAGE::LoadOptions");
	cvm_eventlog_free(log);

	log = load_log("CCEL_data_csv", NULL);
	assert_string_equal(log->events[11].detail.u.variable.load_path.text,
			    "PciRoot(0x0)/Pci(0x3,0x0)/MAC(525400123456,0x1)/"
			    "IPv4(0.0.0.0,0x0,DHCP,0.0.0.0,0.0.0.0,0.0.0.0)");
	assert_string_equal(log->events[10].detail.u.variable.load_path.text,
			    "PciRoot(0x0)/Pci(0x2,0x0)/Scsi(0x0,0x0)");
	cvm_eventlog_free(log);

	log = load_log("CCEL_data", NULL);
	assert_int_equal(log->events[0].detail.kind, CVM_EVD_TDSHIM);
	assert_string_equal(log->events[0].detail.text, "td_hob (5248 bytes)");
	assert_string_equal(log->events[4].detail.text, "td_payload_info root=/dev/vda1 console=hvc0 rw");
	cvm_eventlog_free(log);
}

static void names_types_algorithms_and_registers(void **state)
{
	(void)state;
	assert_string_equal(cvm_eventlog_type_name(CVM_EV_EFI_ACTION), "EV_EFI_ACTION");
	assert_string_equal(cvm_eventlog_type_name(CVM_EV_EFI_HANDOFF_TABLES2), "EV_EFI_HANDOFF_TABLES2");
	assert_string_equal(cvm_eventlog_type_name(CVM_EV_EFI_SPDM_DEVICE_AUTHORITY),
			    "EV_EFI_SPDM_DEVICE_AUTHORITY");
	assert_string_equal(cvm_eventlog_type_name(CVM_EV_NO_ACTION), "EV_NO_ACTION");
	assert_null(cvm_eventlog_type_name(0x13));
	assert_string_equal(cvm_tcg_alg_name(CVM_TCG_ALG_SM3_256), "SM3");
	assert_int_equal(cvm_tcg_alg_digest_size(CVM_TCG_ALG_SHA512), 64);
	assert_int_equal(cvm_tcg_alg_digest_size(0x99), 0);
	assert_null(cvm_tcg_alg_name(0x99));
	assert_string_equal(cvm_eventlog_mr_name(0), "MRTD");
	assert_string_equal(cvm_eventlog_mr_name(4), "RTMR3");
	assert_null(cvm_eventlog_mr_name(5));
}

/* ---- replay -------------------------------------------------------------------------------- */

struct rtmr_vector {
	const char *log;
	const char *full[4];   /* our replay, equal to Trustee's own replay test */
	const char *readme[3]; /* vectors/eventlog/README.md: first and last 8 hex digits */
};

static const struct rtmr_vector rtmr_vectors[] = {
	{"CCEL_data",
	 {"2dc712306a963eadb894ad47dbaa17df44814151555aee11cbb843becca88950ffd079664902e6f22c66f7c8213543f4",
	  "0fa3be56af61208bbd179dc7b124988eb929319154663c539d6f46445ecac2fec287075047ff7bd1922829fec28cd3cf",
	  NULL, NULL},
	 {"2dc71230…213543f4", "0fa3be56…c28cd3cf", NULL}},
	{"CCEL_data_ovmf",
	 {"8566f998798db09443b244c62de9a3041fb02e2e6936c4396d784bba2e90177329ec5aba3bb484404f2ab9cc90abe193",
	  "775b9f6bfe99f8a31396f0d0218e67ffa796d3b96ccf961cbb0deba48c79c00f082cda1a5567c1c16305f1fc210c13c6",
	  "94eaf7a7bf398ed8d888c91057ae0261802e4f3df084213a76ca7f0b5055ac9d2241de43cd58d9e8b49c503bbf25f34a",
	  NULL},
	 {"8566f998…90abe193", "775b9f6b…210c13c6", "94eaf7a7…bf25f34a"}},
	{"CCEL_data_grub",
	 {"cec0a104f691f60da2387fea3c2de00c4ac035e2bb479ff02edcce69039d9e9907f0b3e55031da3dc7038f423adebd79",
	  "6c289e0c62182d41ebe97bdbc9872d10998a08eaa86adcdc684001a363207ee72942c7522cdf00a4bbc3d784bed7b670",
	  "08919d017ba0e52cd6d966351c7de16fe76c1d3d3d3da4554239e4c7d16cb8b82a94e7eaea3a0e6e18eb690b999fd31e",
	  NULL},
	 {"cec0a104…3adebd79", "6c289e0c…bed7b670", "08919d01…999fd31e"}},
};

static void assert_abbreviates(const char *full, const char *abbr)
{
	char want[64];
	snprintf(want, sizeof(want), "%.8s…%s", full, full + 88);
	assert_string_equal(want, abbr);
}

/* The same replay computed from Trustee's JSON digests, not from cvmkit's parse. */
static void replay_trustee_json(const char *name, uint8_t out[4][CVM_RTMR_SIZE])
{
	json_object *root = load_trustee(name), *list = field(root, "uefi_event_logs");
	memset(out, 0, 4 * CVM_RTMR_SIZE);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i);
		int64_t idx = json_object_get_int64(field(e, "index"));
		if (!strcmp(str_field(e, "type_name"), "EV_NO_ACTION"))
			continue;
		assert_true(idx >= 1 && idx <= 4);
		json_object *d = json_object_array_get_idx(field(e, "digests"), 0);
		uint8_t digest[CVM_RTMR_SIZE];
		assert_string_equal(str_field(d, "alg"), "SHA-384");
		assert_int_equal(cvm_hex_decode(str_field(d, "digest"), digest, sizeof(digest)), 0);
		cvm_tdx_rtmr_extend(out[idx - 1], digest);
	}
	json_object_put(root);
}

static void replays_rtmrs(void **state)
{
	(void)state;
	for (size_t v = 0; v < CVM_ARRAY_SIZE(rtmr_vectors); v++) {
		const struct rtmr_vector *rv = &rtmr_vectors[v];
		struct cvm_eventlog *log = load_log(rv->log, NULL);
		struct cvm_rtmr_replay *r = NULL;
		assert_int_equal(cvm_eventlog_replay_tdx(log, &r, NULL), 0);
		uint8_t independent[4][CVM_RTMR_SIZE];
		replay_trustee_json(rv->log, independent);
		size_t total = 0;
		for (int k = 0; k < 4; k++) {
			char hex[97];
			cvm_hex_encode(r->rtmr[k], CVM_RTMR_SIZE, hex);
			assert_string_equal(hex, rv->full[k] ? rv->full[k] : "000000000000000000000000"
					    "000000000000000000000000000000000000000000000000000000000000000000000000");
			if (k < 3 && rv->readme[k])
				assert_abbreviates(hex, rv->readme[k]);
			assert_memory_equal(r->rtmr[k], independent[k], CVM_RTMR_SIZE);
			total += r->extends[k];
		}
		/* the per-event list: each extended event's value, the last one being the RTMR */
		assert_int_equal(r->nevents, log->nevents);
		assert_int_equal(total, log->nevents); /* none of these logs has EV_NO_ACTION */
		uint8_t last[4][CVM_RTMR_SIZE] = {{0}};
		for (size_t i = 0; i < r->nevents; i++) {
			const struct cvm_rtmr_replay_event *re = &r->events[i];
			assert_int_equal(re->event, i);
			assert_int_equal(re->rtmr, (int)log->events[i].mr_index - 1);
			assert_ptr_equal(re->digest, log->events[i].digests[0].value);
			cvm_tdx_rtmr_extend(last[re->rtmr], re->digest);
			assert_memory_equal(last[re->rtmr], re->value, CVM_RTMR_SIZE);
		}
		assert_memory_equal(last, r->rtmr, sizeof(last));
		cvm_rtmr_replay_free(r);
		cvm_eventlog_free(log);
	}
}

static void sm3_log_is_not_replayed_as_tdx(void **state)
{
	(void)state;
	struct cvm_eventlog *log = load_log("CCEL_data_csv", NULL);
	struct cvm_rtmr_replay *r = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_eventlog_replay_tdx(log, &r, &err), -ENOTSUP);
	assert_null(r);
	assert_non_null(strstr(cvm_error_message(&err), "no SHA-384 digests (its algorithms: SM3)"));
	cvm_eventlog_free(log);
}

/* ---- synthetic logs ------------------------------------------------------------------------ */

struct lb {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct lb *b, const void *src, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void put32(struct lb *b, uint32_t v)
{
	uint8_t x[4];
	cvm_put_le32(x, v);
	put(b, x, 4);
}

static void put16(struct lb *b, uint16_t v)
{
	uint8_t x[2];
	cvm_put_le16(x, v);
	put(b, x, 2);
}

static void put8(struct lb *b, uint8_t v)
{
	put(b, &v, 1);
}

/* The SpecID event with nalgs (id, size) pairs and an empty vendor field. */
static void put_specid(struct lb *b, uint32_t nalgs, const uint16_t algs[][2])
{
	static const uint8_t zero[20];
	put32(b, 0);
	put32(b, CVM_EV_NO_ACTION);
	put(b, zero, 20);
	put32(b, 16 + 4 + 4 + 4 + 4 * nalgs + 1);
	put(b, "Spec ID Event03", 16);
	put32(b, 0);
	put8(b, 0);
	put8(b, 2);
	put8(b, 0);
	put8(b, 2);
	put32(b, nalgs);
	for (uint32_t i = 0; i < nalgs; i++) {
		put16(b, algs[i][0]);
		put16(b, algs[i][1]);
	}
	put8(b, 0);
}

static const uint16_t sha384_only[][2] = {{CVM_TCG_ALG_SHA384, 48}};

/* One SHA-384 event whose digest is SHA-384 of its data. */
static void put_event(struct lb *b, uint32_t mr, uint32_t type, const void *data, uint32_t len)
{
	uint8_t d[48];
	cvm_tdx_sha384(data, len, d);
	put32(b, mr);
	put32(b, type);
	put32(b, 1);
	put16(b, CVM_TCG_ALG_SHA384);
	put(b, d, 48);
	put32(b, len);
	put(b, data, len);
}

static struct lb sha384_log(void)
{
	struct lb b = {0};
	put_specid(&b, 1, sha384_only);
	return b;
}

static int parse_lb(const struct lb *b, struct cvm_eventlog **log, struct cvm_error *err)
{
	cvm_error_clear(err);
	return cvm_eventlog_parse(b->p, b->len, log, err);
}

static void expect_error(const struct lb *b, int code, const char *needle)
{
	struct cvm_eventlog *log = NULL;
	struct cvm_error err;
	assert_int_equal(parse_lb(b, &log, &err), code);
	assert_null(log);
	if (!strstr(cvm_error_message(&err), needle))
		fail_msg("error \"%s\" does not say \"%s\"", cvm_error_message(&err), needle);
}

static void rejects_bad_specid(void **state)
{
	(void)state;
	struct lb b = {0};
	put_specid(&b, 0, NULL);
	expect_error(&b, -EINVAL, "0 algorithms (a log has 1 to 8)");

	uint16_t nine[9][2];
	for (int i = 0; i < 9; i++) {
		nine[i][0] = (uint16_t)(0x100 + i);
		nine[i][1] = 32;
	}
	b.len = 0;
	put_specid(&b, 9, nine);
	expect_error(&b, -EINVAL, "9 algorithms");

	static const uint16_t short384[][2] = {{CVM_TCG_ALG_SHA384, 32}};
	b.len = 0;
	put_specid(&b, 1, short384);
	expect_error(&b, -EINVAL, "SHA-384 digest size 32 (it is 48)");

	static const uint16_t zero_size[][2] = {{0x0099, 0}};
	b.len = 0;
	put_specid(&b, 1, zero_size);
	expect_error(&b, -EINVAL, "digest size 0");

	static const uint16_t huge_size[][2] = {{0x0099, 65}};
	b.len = 0;
	put_specid(&b, 1, huge_size);
	expect_error(&b, -EINVAL, "digest size 65 (1 to 64)");

	static const uint16_t twice[][2] = {{CVM_TCG_ALG_SHA384, 48}, {CVM_TCG_ALG_SHA384, 48}};
	b.len = 0;
	put_specid(&b, 2, twice);
	expect_error(&b, -EINVAL, "listed twice");

	/* an algorithm count far beyond the event's bytes */
	b.len = 0;
	put_specid(&b, 1, sha384_only);
	cvm_put_le32(b.p + 32 + 24, 0xffffffff);
	expect_error(&b, -EINVAL, "4294967295 algorithms");

	/* the event size says more than the fields use */
	b.len = 0;
	put_specid(&b, 1, sha384_only);
	cvm_put_le32(b.p + 28, cvm_le32(b.p + 28) + 1);
	put8(&b, 0);
	expect_error(&b, -EINVAL, "1 byte after the vendor information");

	b.len = 0;
	put_specid(&b, 1, sha384_only);
	memcpy(b.p + 32, "Spec ID Event02", 16);
	expect_error(&b, -ENOTSUP, "SHA-1 (TCG 1.2) log");

	b.len = 0;
	put_specid(&b, 1, sha384_only);
	cvm_put_le32(b.p + 4, CVM_EV_EFI_ACTION);
	expect_error(&b, -EINVAL, "the first event is EV_EFI_ACTION (0x80000007)");

	b.len = 10;
	expect_error(&b, -EINVAL, "short of the 32-byte header");
	free(b.p);
}

static void rejects_bad_events(void **state)
{
	(void)state;
	struct lb b = sha384_log();
	size_t start = b.len;
	put_event(&b, 1, CVM_EV_EFI_ACTION, "abc", 3);
	struct lb good = {0};
	put(&good, b.p, b.len);

	cvm_put_le32(b.p + start + 8, 0xffffffff); /* digest count */
	expect_error(&b, -EINVAL, "event 0 at offset 0x41: 4294967295 digests, but the SpecID "
		     "header announces 1 algorithm");
	cvm_put_le32(b.p + start + 8, 0);
	expect_error(&b, -EINVAL, "0 digests");
	cvm_put_le32(b.p + start + 8, 1);

	cvm_put_le16(b.p + start + 12, CVM_TCG_ALG_SHA256); /* an algorithm not announced */
	expect_error(&b, -EINVAL, "algorithm 0x000b, which the SpecID header does not announce");
	cvm_put_le16(b.p + start + 12, CVM_TCG_ALG_SHA384);

	cvm_put_le32(b.p + start + 62, 0xfffffff0); /* event data size */
	expect_error(&b, -EINVAL, "its 4294967280 data bytes run past the end of the log");
	cvm_put_le32(b.p + start + 62, 3);

	/* every truncation inside the event */
	for (size_t cut = start + 1; cut < good.len; cut++) {
		struct lb t = {good.p, cut, cut};
		struct cvm_eventlog *log = NULL;
		struct cvm_error err;
		assert_int_equal(parse_lb(&t, &log, &err), -EINVAL);
		assert_null(log);
	}

	/* two digests of one algorithm in a two-algorithm log */
	static const uint16_t two[][2] = {{CVM_TCG_ALG_SHA384, 48}, {CVM_TCG_ALG_SHA256, 32}};
	struct lb d = {0};
	uint8_t z[48] = {0};
	put_specid(&d, 2, two);
	put32(&d, 1);
	put32(&d, CVM_EV_EFI_ACTION);
	put32(&d, 2);
	put16(&d, CVM_TCG_ALG_SHA384);
	put(&d, z, 48);
	put16(&d, CVM_TCG_ALG_SHA384);
	put(&d, z, 48);
	put32(&d, 0);
	expect_error(&d, -EINVAL, "two digests of algorithm 0x000c");
	free(d.p);
	free(good.p);
	free(b.p);
}

/* Every prefix of a real log parses or fails cleanly; cut at a boundary, it holds fewer events. */
static void survives_every_truncation(void **state)
{
	(void)state;
	size_t n;
	struct cvm_eventlog *full = load_log("CCEL_data_ovmf", &n);
	size_t boundaries = 0;
	for (size_t cut = 0; cut <= full->len; cut++) {
		struct cvm_eventlog *log = NULL;
		int rc = cvm_eventlog_parse(area, cut, &log, NULL);
		bool at_boundary = cut == full->events[0].offset;
		for (size_t i = 0; i < full->nevents; i++)
			at_boundary |= cut == full->events[i].offset + full->events[i].size;
		if (at_boundary) {
			assert_int_equal(rc, 0);
			assert_int_equal(log->free_len, 0);
			boundaries++;
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_null(log);
		}
		cvm_eventlog_free(log);
	}
	assert_int_equal(boundaries, full->nevents + 1);
	cvm_eventlog_free(full);
}

static void ends_at_free_space(void **state)
{
	(void)state;
	struct lb b = sha384_log();
	put_event(&b, 1, CVM_EV_EFI_ACTION, "abc", 3);
	size_t end = b.len;
	static const uint8_t ff[3] = {0xff, 0xff, 0xff};
	put(&b, ff, 3); /* fewer than 8 fill bytes still end the log */
	struct cvm_eventlog *log;
	struct cvm_error err;
	assert_int_equal(parse_lb(&b, &log, &err), 0);
	assert_int_equal(log->nevents, 1);
	assert_int_equal(log->len, end);
	assert_int_equal(log->free_len, 3);
	assert_int_equal(log->fill, 0xff);
	assert_string_equal(log->warnings, "");
	cvm_eventlog_free(log);

	/* bytes that are not fill after the end: read, with a warning */
	static const uint8_t tail[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42, 0, 0};
	b.len = end;
	put(&b, tail, sizeof(tail));
	assert_int_equal(parse_lb(&b, &log, &err), 0);
	assert_int_equal(log->nevents, 1);
	assert_non_null(strstr(log->warnings, "12 bytes after the end of the log (offset 0x86) are "
				"not free space: byte 0x42 at offset 0x8f"));
	cvm_eventlog_free(log);

	/* a short remainder that is not fill is a truncated event */
	static const uint8_t junk[3] = {1, 2, 3};
	b.len = end;
	put(&b, junk, 3);
	expect_error(&b, -EINVAL, "event 1 at offset 0x86: the log ends inside its header");
	free(b.p);
}

static void bounds_the_event_count(void **state)
{
	(void)state;
	/* one-byte digests of an algorithm the table does not know: 19-byte events */
	static const uint16_t tiny[][2] = {{0x0099, 1}};
	struct lb b = {0};
	put_specid(&b, 1, tiny);
	for (uint32_t i = 0; i <= CVM_EVENTLOG_MAX_EVENTS; i++) {
		put32(&b, 1);
		put32(&b, CVM_EV_EFI_ACTION);
		put32(&b, 1);
		put16(&b, 0x0099);
		put8(&b, 0x5a);
		put32(&b, 0);
	}
	expect_error(&b, -EINVAL, "more than 65536 events in one log");
	b.len -= 19; /* exactly the maximum */
	struct cvm_eventlog *log;
	struct cvm_error err;
	assert_int_equal(parse_lb(&b, &log, &err), 0);
	assert_int_equal(log->nevents, CVM_EVENTLOG_MAX_EVENTS);
	/* no SHA-384, so no TDX replay; and the data of these cannot be hashed here */
	struct cvm_rtmr_replay *r;
	assert_int_equal(cvm_eventlog_replay_tdx(log, &r, &err), -ENOTSUP);
	bool m;
	assert_int_equal(cvm_eventlog_event_digests_data(&log->events[0], &m, &err), -ENOTSUP);
	cvm_eventlog_free(log);
	free(b.p);
}

static const struct cvm_event_detail *one_event(struct lb *b, struct cvm_eventlog **log,
						uint32_t type, const void *data, uint32_t len)
{
	struct cvm_error err;
	b->len = 0;
	put_specid(b, 1, sha384_only);
	put_event(b, 1, type, data, len);
	if (parse_lb(b, log, &err))
		fail_msg("%s", cvm_error_message(&err));
	return &(*log)->events[0].detail;
}

static void expect_malformed(uint32_t type, const void *data, uint32_t len, const char *needle)
{
	struct lb b = {0};
	struct cvm_eventlog *log;
	const struct cvm_event_detail *d = one_event(&b, &log, type, data, len);
	assert_int_equal(d->kind, CVM_EVD_MALFORMED);
	if (!strstr(d->text, needle))
		fail_msg("\"%s\" does not say \"%s\"", d->text, needle);
	/* its digest still replays */
	struct cvm_rtmr_replay *r;
	assert_int_equal(cvm_eventlog_replay_tdx(log, &r, NULL), 0);
	assert_int_equal(r->extends[0], 1);
	cvm_rtmr_replay_free(r);
	cvm_eventlog_free(log);
	free(b.p);
}

static void malformed_event_data_is_reported_not_fatal(void **state)
{
	(void)state;
	uint8_t v[40] = {0};
	cvm_put_le64(v + 16, 0x8000000000000000ull); /* name length */
	expect_malformed(CVM_EV_EFI_VARIABLE_BOOT, v, sizeof(v), "do not fit");
	cvm_put_le64(v + 16, 2);
	cvm_put_le64(v + 24, 5); /* 4 name bytes + 5 data bytes > 8 */
	expect_malformed(CVM_EV_EFI_VARIABLE_BOOT, v, sizeof(v), "5 data bytes do not fit");
	expect_malformed(CVM_EV_EFI_VARIABLE_AUTHORITY, v, 31, "needs 32 bytes");

	uint8_t img[40] = {0};
	cvm_put_le64(img + 24, 9);
	expect_malformed(CVM_EV_EFI_BOOT_SERVICES_APPLICATION, img, sizeof(img),
			 "9-byte device path does not fit");
	cvm_put_le64(img + 24, 8);
	img[32] = 4, img[33] = 4, img[34] = 2; /* a node shorter than its header */
	expect_malformed(CVM_EV_EFI_BOOT_SERVICES_APPLICATION, img, sizeof(img),
			 "length 2 is below its 4-byte header");
	img[34] = 9; /* a node longer than the path */
	expect_malformed(CVM_EV_EFI_BOOT_SERVICES_APPLICATION, img, sizeof(img), "runs past the path");

	uint8_t h[20] = {0};
	cvm_put_le64(h, 0x0aaaaaaaaaaaaaaaull); /* a table count no data backs */
	expect_malformed(CVM_EV_EFI_HANDOFF_TABLES, h, sizeof(h), "table count does not fit");
	h[0] = 200; /* BLOB2 description longer than the event */
	expect_malformed(CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB2, h, sizeof(h), "description runs past");
	h[0] = 5;
	expect_malformed(CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB2, h, sizeof(h), "base and length run past");

	uint8_t tag[12] = {1, 2, 3, 4};
	cvm_put_le32(tag + 4, 0xffffffff);
	expect_malformed(CVM_EV_EVENT_TAG, tag, sizeof(tag), "runs past");
	uint8_t gpt[120] = {0};
	expect_malformed(CVM_EV_EFI_GPT_EVENT, gpt, sizeof(gpt), "EFI PART");
	memcpy(gpt, "EFI PART", 8);
	cvm_put_le32(gpt + 84, 128);
	cvm_put_le64(gpt + 92, 1);
	expect_malformed(CVM_EV_EFI_GPT_EVENT, gpt, sizeof(gpt), "1 partitions of 128 bytes");
}

static void device_path_nodes_in_uefi_text(void **state)
{
	(void)state;
	struct lb p = {0};
	uint8_t img[32] = {0};
	put(&p, img, sizeof(img));
	static const uint8_t acpi[] = {2, 1, 12, 0, 0xd0, 0x41, 0x08, 0x0a, 3, 0, 0, 0};
	static const uint8_t pci[] = {1, 1, 6, 0, 2, 0x1f};
	static const uint8_t sata[] = {3, 0x12, 10, 0, 1, 0, 0xff, 0xff, 0, 0};
	static const uint8_t nvme[] = {3, 0x17, 16, 0, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
	uint8_t hd[42] = {4, 1, 42, 0, 1, 0, 0, 0};
	cvm_put_le64(hd + 8, 0x800);
	cvm_put_le64(hd + 16, 0x1000);
	cvm_put_le32(hd + 24, 0xdeadbeef);
	hd[40] = 1, hd[41] = 1; /* MBR, 32-bit signature */
	static const uint8_t file[] = {4, 4, 12, 0, '\\', 0, 'a', 0, 0xac, 0x20, 0, 0}; /* "\a€" */
	static const uint8_t inst[] = {0x7f, 0x01, 4, 0};
	static const uint8_t odd[] = {0x42, 7, 6, 0, 0xab, 0xcd};
	static const uint8_t end[] = {0x7f, 0xff, 4, 0};
	const struct {
		const uint8_t *p;
		size_t n;
	} nodes[] = {{acpi, sizeof(acpi)}, {pci, sizeof(pci)},   {sata, sizeof(sata)},
		     {nvme, sizeof(nvme)}, {hd, sizeof(hd)},     {file, sizeof(file)},
		     {inst, sizeof(inst)}, {odd, sizeof(odd)},   {end, sizeof(end)}};
	size_t path_len = 0;
	for (size_t i = 0; i < CVM_ARRAY_SIZE(nodes); i++) {
		put(&p, nodes[i].p, nodes[i].n);
		path_len += nodes[i].n;
	}
	cvm_put_le64(p.p + 24, path_len);
	struct lb b = {0};
	struct cvm_eventlog *log;
	const struct cvm_event_detail *d =
		one_event(&b, &log, CVM_EV_EFI_BOOT_SERVICES_DRIVER, p.p, (uint32_t)p.len);
	assert_int_equal(d->kind, CVM_EVD_IMAGE);
	assert_int_equal(d->u.image.path.nnodes, 8);
	assert_string_equal(d->u.image.path.text,
			    "PcieRoot(0x3)/Pci(0x1f,0x2)/Sata(0x1,0xffff,0x0)/"
			    "NVMe(0x1,08-07-06-05-04-03-02-01)/"
			    "HD(1,MBR,0xdeadbeef,0x800,0x1000)/\\a\xe2\x82\xac,Path(66,7,abcd)");
	assert_string_equal(d->text, d->u.image.path.text);
	cvm_eventlog_free(log);
	free(b.p);
	free(p.p);
}

static void decodes_strings_and_no_action(void **state)
{
	(void)state;
	struct lb b = {0};
	struct cvm_eventlog *log;
	const struct cvm_event_detail *d;
	/* UTF-16LE text, as S-CRTM versions are written */
	static const uint8_t ucs2[] = {'1', 0, '.', 0, '0', 0, 0, 0};
	d = one_event(&b, &log, CVM_EV_S_CRTM_VERSION, ucs2, sizeof(ucs2));
	assert_int_equal(d->kind, CVM_EVD_STRING);
	assert_string_equal(d->text, "1.0");
	cvm_eventlog_free(log);
	/* binary data is not taken for text */
	static const uint8_t bin[] = {0x01, 0x02, 0xfe, 0x80};
	d = one_event(&b, &log, CVM_EV_EFI_ACTION, bin, sizeof(bin));
	assert_int_equal(d->kind, CVM_EVD_NONE);
	assert_string_equal(d->text, "");
	cvm_eventlog_free(log);
	/* EV_NO_ACTION: its signature; it is listed in the replay but never extended */
	uint8_t loc[17] = "StartupLocality";
	loc[16] = 3;
	d = one_event(&b, &log, CVM_EV_NO_ACTION, loc, sizeof(loc));
	assert_int_equal(d->kind, CVM_EVD_NO_ACTION);
	assert_string_equal(d->text, "StartupLocality: locality 3");
	log->events[0].mr_index = 0; /* TCG logs it to PCR 0: not an RTMR, but not extended */
	struct cvm_rtmr_replay *r;
	assert_int_equal(cvm_eventlog_replay_tdx(log, &r, NULL), 0);
	assert_int_equal(r->events[0].rtmr, -1);
	assert_int_equal(r->extends[0] + r->extends[1] + r->extends[2] + r->extends[3], 0);
	cvm_rtmr_replay_free(r);
	cvm_eventlog_free(log);
	free(b.p);
}

static void replay_rejects_mr_indexes_outside_the_rtmrs(void **state)
{
	(void)state;
	for (uint32_t mr = 0; mr <= 5; mr += 5) {
		struct lb b = sha384_log();
		put_event(&b, mr, CVM_EV_EFI_ACTION, "x", 1);
		struct cvm_eventlog *log;
		struct cvm_error err;
		assert_int_equal(parse_lb(&b, &log, &err), 0);
		struct cvm_rtmr_replay *r = NULL;
		cvm_error_clear(&err);
		assert_int_equal(cvm_eventlog_replay_tdx(log, &r, &err), -EINVAL);
		assert_null(r);
		assert_non_null(strstr(cvm_error_message(&err),
				       mr ? "MR index 5 is none of RTMR0..3"
					  : "MR index 0 is MRTD, which software cannot extend"));
		cvm_eventlog_free(log);
		free(b.p);
	}
}

/* ---- the ACPI CCEL table ------------------------------------------------------------------ */

static void make_ccel(uint8_t t[56], const char *sig, uint8_t cc_type, uint64_t laml)
{
	memset(t, 0, 56);
	memcpy(t, sig, 4);
	cvm_put_le32(t + 4, 56);
	t[8] = 1;
	memcpy(t + 10, "CVMKIT", 6);
	memcpy(t + 16, "TESTTABL", 8);
	t[36] = cc_type;
	cvm_put_le64(t + 40, laml);
	cvm_put_le64(t + 48, 0x7e000000);
	uint8_t sum = 0;
	for (int i = 0; i < 56; i++)
		sum = (uint8_t)(sum + t[i]);
	t[9] = (uint8_t)(0x100 - sum);
}

static void reads_the_ccel_table(void **state)
{
	(void)state;
	size_t n;
	struct cvm_eventlog *plain = load_log("CCEL_data_ovmf", &n);
	uint8_t t[56];
	struct cvm_ccel_table c;
	make_ccel(t, "CCEL", 2, n);
	assert_int_equal(cvm_ccel_table_parse(t, sizeof(t), &c, NULL), 0);
	assert_string_equal(c.signature, "CCEL");
	assert_string_equal(c.oem_id, "CVMKIT");
	assert_string_equal(c.oem_table_id, "TESTTABL");
	assert_int_equal(c.cc_type, 2);
	assert_string_equal(cvm_ccel_cc_type_name(c.cc_type), "TDX");
	assert_int_equal(c.laml, n);
	assert_int_equal(c.lasa, 0x7e000000);

	struct cvm_eventlog *log;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_eventlog_parse_ccel(t, sizeof(t), area, n, &log, &err), 0);
	assert_true(log->has_ccel);
	assert_int_equal(log->nevents, plain->nevents);
	assert_int_equal(log->area_len, n);
	assert_string_equal(log->warnings, "");
	cvm_eventlog_free(log);

	/* only LAML bytes of the data are the log area */
	make_ccel(t, "CCEL", 2, plain->len + 16);
	assert_int_equal(cvm_eventlog_parse_ccel(t, sizeof(t), area, n, &log, &err), 0);
	assert_int_equal(log->area_len, plain->len + 16);
	assert_int_equal(log->free_len, 16);
	assert_non_null(strstr(log->warnings, "only the CCEL table's log area"));
	cvm_eventlog_free(log);
	make_ccel(t, "CCEL", 2, plain->len - 1); /* cuts the last event */
	assert_int_equal(cvm_eventlog_parse_ccel(t, sizeof(t), area, n, &log, &err), -EINVAL);
	make_ccel(t, "CCEL", 2, 2 * n);
	assert_int_equal(cvm_eventlog_parse_ccel(t, sizeof(t), area, n, &log, &err), 0);
	assert_non_null(strstr(log->warnings, "less than the CCEL table's log area"));
	cvm_eventlog_free(log);
	make_ccel(t, "CCEL", 1, n);
	assert_int_equal(cvm_eventlog_parse_ccel(t, sizeof(t), area, n, &log, &err), 0);
	assert_non_null(strstr(log->warnings, "CC type is 1 (SEV), not TDX"));
	cvm_eventlog_free(log);

	/* the older TDEL table has a reserved word where CCEL has the CC type */
	make_ccel(t, "TDEL", 0, n);
	assert_int_equal(cvm_ccel_table_parse(t, sizeof(t), &c, NULL), 0);
	assert_string_equal(c.signature, "TDEL");

	make_ccel(t, "CCEL", 2, n);
	t[20] ^= 1;
	assert_int_equal(cvm_ccel_table_parse(t, sizeof(t), &c, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "checksum mismatch"));
	make_ccel(t, "FACP", 2, n);
	assert_int_equal(cvm_ccel_table_parse(t, sizeof(t), &c, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "signature \"FACP\""));
	make_ccel(t, "CCEL", 2, n);
	assert_int_equal(cvm_ccel_table_parse(t, 40, &c, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "length field 56 (the table has 40 bytes"));
	assert_int_equal(cvm_ccel_table_parse(t, 20, &c, &err), -EINVAL);
	make_ccel(t, "CCEL", 2, 0);
	assert_int_equal(cvm_ccel_table_parse(t, sizeof(t), &c, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "log area length is 0"));
	cvm_eventlog_free(plain);
}

static void load_names_the_file(void **state)
{
	(void)state;
	struct cvm_eventlog *log = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_eventlog_load("/nonexistent/ccel", NULL, &log, &err), -ENOENT);
	assert_null(log);
	char path[1024];
	snprintf(path, sizeof(path), "%s/vectors/" VEC "CCEL_data_ovmf_out.json", cvm_test_shared_dir());
	if (access(path, R_OK)) {
		print_message("# SKIP %s is missing\n", path);
		skip();
	}
	cvm_error_clear(&err);
	assert_int_equal(cvm_eventlog_load(path, NULL, &log, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "CCEL_data_ovmf_out.json: eventlog: SpecID"));
}

/* ---- expected events against a log (tdx/tdx_eventlog_match.c) ---------------------------- */

/* A document holding the OVMF log's RTMR0 events, edited as the test says. */
static struct cvm_measurement *doc_from_log(const struct cvm_eventlog *log, size_t drop,
					    size_t change)
{
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_TDX, NULL);
	assert_non_null(m);
	for (size_t i = 0; i < log->nevents; i++) {
		const struct cvm_eventlog_event *ev = &log->events[i];
		if (ev->mr_index != 1 || i == drop)
			continue;
		uint8_t d[48];
		memcpy(d, ev->digests[0].value, 48);
		if (i == change)
			d[0] ^= 1;
		assert_int_equal(cvm_measurement_add_event(m, 0, cvm_eventlog_type_name(ev->type),
							   ev->detail.text, d), 0);
	}
	uint8_t other[48] = {1};
	assert_int_equal(cvm_measurement_add_event(m, 1, "EV_EFI_BOOT_SERVICES_APPLICATION",
						   "kernel", other), 0);
	return m;
}

static void matches_expected_events_to_the_log(void **state)
{
	(void)state;
	struct cvm_eventlog *log = load_log("CCEL_data_ovmf", NULL);
	/* drop event 9 (ACPI DATA) from the document, change event 12 (BootOrder) */
	struct cvm_measurement *m = doc_from_log(log, 9, 12);
	struct cvm_event_match_table *t = NULL;
	assert_int_equal(cvm_eventlog_match(log, m, 0x7, &t, NULL), 0);
	assert_int_equal(t->expected[0], 13);
	assert_int_equal(t->count[0][CVM_EVENT_MATCH], 12);
	assert_int_equal(t->count[0][CVM_EVENT_DIFFER], 1);
	assert_int_equal(t->count[0][CVM_EVENT_EXTRA], 1);
	assert_int_equal(t->count[0][CVM_EVENT_MISSING], 0);
	/* RTMR1: the expected kernel differs from the logged one, the actions are extra */
	assert_int_equal(t->count[1][CVM_EVENT_DIFFER], 1);
	assert_int_equal(t->count[1][CVM_EVENT_EXTRA], 3);
	assert_int_equal(t->count[2][CVM_EVENT_EXTRA], 2);
	size_t differ = 0, extra = 0;
	for (size_t i = 0; i < t->nrows; i++) {
		const struct cvm_event_match_row *r = &t->rows[i];
		if (r->status == CVM_EVENT_DIFFER && r->rtmr == 0) {
			assert_ptr_equal(r->logged, &log->events[12]);
			assert_string_equal(r->input, "boot entry");
			differ++;
		}
		if (r->status == CVM_EVENT_EXTRA && r->rtmr == 0) {
			assert_ptr_equal(r->logged, &log->events[9]);
			assert_null(r->expected);
			assert_string_equal(r->input, "ACPI");
			extra++;
		}
		if (r->status == CVM_EVENT_DIFFER && r->rtmr == 1)
			assert_string_equal(r->input, "kernel");
	}
	assert_int_equal(differ, 1);
	assert_int_equal(extra, 1);
	assert_string_equal(cvm_event_match_name(CVM_EVENT_MISSING), "MISSING");
	cvm_event_match_table_free(t);

	/* an expected event the log lacks, with nothing of its input in its place: MISSING */
	uint8_t d[48] = {2};
	assert_int_equal(cvm_measurement_add_event(m, 2, "EV_EFI_VARIABLE_BOOT", "Boot0001", d), 0);
	assert_int_equal(cvm_eventlog_match(log, m, 0x4, &t, NULL), 0);
	assert_int_equal(t->count[2][CVM_EVENT_MISSING], 1);
	assert_int_equal(t->count[0][CVM_EVENT_MATCH], 0); /* RTMR0 not asked for */
	cvm_event_match_table_free(t);
	cvm_measurement_free(m);
	cvm_eventlog_free(log);
}

static void guesses_the_firmware_layout(void **state)
{
	(void)state;
	const char *name;
	unsigned score, of;
	struct cvm_eventlog *log = load_log("CCEL_data_ovmf", NULL);
	cvm_eventlog_fw_layout(log, &name, &score, &of);
	assert_string_equal(name, "<=202408");
	assert_int_equal(score, of);
	cvm_eventlog_free(log);
	log = load_log("CCEL_data", NULL); /* td-shim: no OVMF events */
	cvm_eventlog_fw_layout(log, &name, &score, &of);
	assert_null(name);
	cvm_eventlog_free(log);
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_TDX, NULL);
	struct cvm_event_match_table *t = NULL;
	log = load_log("CCEL_data_csv", NULL); /* SM3 only */
	assert_int_equal(cvm_eventlog_match(log, m, 0x7, &t, NULL), -ENOTSUP);
	cvm_eventlog_free(log);
	cvm_measurement_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tdshim_log_agrees_with_trustee),
		cmocka_unit_test(ovmf_log_agrees_with_trustee),
		cmocka_unit_test(grub_log_agrees_with_trustee),
		cmocka_unit_test(sm3_log_agrees_with_trustee),
		cmocka_unit_test(reads_specid_and_free_space),
		cmocka_unit_test(decodes_events_for_people),
		cmocka_unit_test(names_types_algorithms_and_registers),
		cmocka_unit_test(replays_rtmrs),
		cmocka_unit_test(sm3_log_is_not_replayed_as_tdx),
		cmocka_unit_test(rejects_bad_specid),
		cmocka_unit_test(rejects_bad_events),
		cmocka_unit_test(survives_every_truncation),
		cmocka_unit_test(ends_at_free_space),
		cmocka_unit_test(bounds_the_event_count),
		cmocka_unit_test(malformed_event_data_is_reported_not_fatal),
		cmocka_unit_test(device_path_nodes_in_uefi_text),
		cmocka_unit_test(decodes_strings_and_no_action),
		cmocka_unit_test(replay_rejects_mr_indexes_outside_the_rtmrs),
		cmocka_unit_test(reads_the_ccel_table),
		cmocka_unit_test(load_names_the_file),
		cmocka_unit_test(matches_expected_events_to_the_log),
		cmocka_unit_test(guesses_the_firmware_layout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
