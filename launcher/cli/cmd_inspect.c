/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmkit inspect FIRMWARE [--json]: the load address, the OVMF GUID table, the SEV and TDX
 * section tables and what the image can do.  Missing metadata is a statement (exit 0); an
 * unreadable or structurally invalid image, or invalid SEV or TDX metadata, exits 1.
 */
#include "launcher/cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <cvmkit/firmware.h>
#include <cvmkit/util.h>

static void print_usage(FILE *out)
{
	fprintf(out, "usage: cvmkit inspect FIRMWARE [--json]\n"
		     "\n"
		     "Show an OVMF/TDVF image: size, SHA-256, load address, the OVMF GUID table, the SEV\n"
		     "metadata sections, the TDX (TDVF) sections and what the image can do (SNP launch,\n"
		     "SNP measured direct boot with kernel hashes, TDX launch).\n"
		     "\n"
		     "options:\n"
		     "  --json      machine-readable output\n"
		     "  -h, --help  this help\n"
		     "\n"
		     "Exit status: 0 when the image was read (even without SEV or TDX metadata), 1 when\n"
		     "it is unreadable or its SEV or TDX metadata is invalid (everything is still\n"
		     "printed), 2 on usage errors.\n");
}

static const char *status_word(enum cvm_fw_status st)
{
	return st == CVM_FW_OK ? "ok" : st == CVM_FW_INVALID ? "invalid" : "absent";
}

/* The decoded value of a known table entry, or the data in hex for unknown ones. */
static void entry_value(const struct cvm_firmware *fw, const struct cvm_fw_table_entry *e,
			char *buf, size_t n)
{
	const struct cvm_guid *g = &e->guid;
	if (!memcmp(g, &CVM_GUID_SEV_ES_RESET_BLOCK, sizeof(*g)) && e->len >= 4)
		snprintf(buf, n, "AP reset address 0x%x", cvm_le32(e->data));
	else if (!memcmp(g, &CVM_GUID_SEV_SECRET_BLOCK, sizeof(*g)) && e->len >= 8)
		snprintf(buf, n, "base 0x%x size 0x%x", cvm_le32(e->data), cvm_le32(e->data + 4));
	else if (!memcmp(g, &CVM_GUID_SEV_HASH_TABLE, sizeof(*g)) && e->len >= 8)
		snprintf(buf, n, "gpa 0x%x size 0x%x%s", cvm_le32(e->data), cvm_le32(e->data + 4),
			 cvm_le32(e->data) == 0 ? " (no kernel hashes)" : "");
	else if ((!memcmp(g, &CVM_GUID_SEV_METADATA, sizeof(*g)) ||
		  !memcmp(g, &CVM_GUID_TDX_METADATA, sizeof(*g))) &&
		 e->len >= 4) {
		uint32_t off = cvm_le32(e->data);
		if (off <= fw->size)
			snprintf(buf, n, "offset 0x%x from the end (file offset 0x%zx)", off,
				 fw->size - off);
		else
			snprintf(buf, n, "offset 0x%x from the end (outside the image)", off);
	} else if (!memcmp(g, &CVM_GUID_SVSM_INFO, sizeof(*g)) && e->len >= 4)
		snprintf(buf, n, "SVSM entry offset 0x%x", cvm_le32(e->data));
	else {
		size_t show = e->len < 32 ? e->len : 32;
		char hex[65];
		cvm_hex_encode(e->data, show, hex);
		snprintf(buf, n, "%s%s", show ? hex : "(no data)", e->len > show ? "..." : "");
	}
}

static void tdvf_attr_text(uint32_t attr, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s", attr & CVM_TDVF_ATTR_MR_EXTEND ? "MR_EXTEND" : "",
		 (attr & CVM_TDVF_ATTR_MR_EXTEND) && (attr & CVM_TDVF_ATTR_PAGE_AUG) ? "|" : "",
		 attr & CVM_TDVF_ATTR_PAGE_AUG ? "PAGE_AUG" : "");
	if (!buf[0])
		snprintf(buf, n, "-");
}

struct caps {
	bool snp, hashes, tdx;
	char snp_why[256], hashes_why[256], tdx_why[256];
};

static void caps_of(const struct cvm_firmware *fw, struct caps *c)
{
	c->snp = cvm_firmware_can_snp(fw, c->snp_why, sizeof(c->snp_why));
	c->hashes = cvm_firmware_can_snp_kernel_hashes(fw, c->hashes_why, sizeof(c->hashes_why));
	c->tdx = cvm_firmware_can_tdx(fw, c->tdx_why, sizeof(c->tdx_why));
}

/* The reader joins warnings with "; ": the next one at *p in [*w, +*len), *p moved past it. */
static bool next_warning(const char **p, const char **w, size_t *len)
{
	if (!**p)
		return false;
	const char *sep = strstr(*p, "; ");
	*w = *p;
	*len = sep ? (size_t)(sep - *p) : strlen(*p);
	*p += *len + (sep ? 2 : 0);
	return true;
}

/* ---- text ------------------------------------------------------------------------------- */

static void print_warnings(const char *warnings)
{
	const char *w;
	size_t len;
	for (const char *p = warnings; next_warning(&p, &w, &len);)
		printf("  warning: %.*s\n", (int)len, w);
}

static void print_text(const struct cvm_firmware *fw, const char *path, const char *sha)
{
	cli_printf_safe(stdout, "firmware:     %s\n", path);
	printf("size:         %zu bytes (0x%zx)\n", fw->size, fw->size);
	printf("sha256:       %s\n", sha);
	printf("load address: 0x%" PRIx64 " .. 0xffffffff\n", fw->load_gpa);

	printf("\nOVMF GUID table: %zu entr%s\n", fw->ntable, fw->ntable == 1 ? "y" : "ies");
	if (fw->ntable)
		printf("  %-36s  %-18s  %-10s  %4s  %s\n", "guid", "name", "offset", "len", "value");
	for (size_t i = 0; i < fw->ntable; i++) {
		const struct cvm_fw_table_entry *e = &fw->table[i];
		char gs[37], val[128];
		const char *name = cvm_guid_name(&e->guid);
		cvm_guid_format(&e->guid, gs);
		entry_value(fw, e, val, sizeof(val));
		printf("  %-36s  %-18s  0x%-8" PRIx64 "  %4zu  %s\n", gs, name ? name : "(unknown)",
		       e->offset, e->len, val);
	}

	printf("\nSEV metadata: %s", status_word(fw->sev_status));
	if (fw->sev_status != CVM_FW_ABSENT)
		printf(" (offset 0x%x from the end, %zu section%s)", fw->sev_metadata_offset, fw->nsev,
		       fw->nsev == 1 ? "" : "s");
	printf("\n");
	if (fw->sev_reason[0])
		cli_printf_safe(stdout, "  %s\n", fw->sev_reason);
	if (fw->nsev)
		printf("  %2s  %-10s  %-10s  %s\n", "#", "gpa", "size", "type");
	for (size_t i = 0; i < fw->nsev; i++) {
		const struct cvm_sev_section *s = &fw->sev_sections[i];
		printf("  %2zu  0x%08x  0x%-8x  %s\n", i, s->gpa, s->size,
		       cvm_sev_section_type_name(s->type));
	}
	print_warnings(fw->sev_warnings);

	printf("\nTDX metadata: %s", status_word(fw->tdx_status));
	if (fw->tdx_status != CVM_FW_ABSENT)
		printf(" (offset 0x%x from the end, %zu section%s)", fw->tdx_metadata_offset, fw->ntdx,
		       fw->ntdx == 1 ? "" : "s");
	printf("\n");
	if (fw->tdx_reason[0])
		cli_printf_safe(stdout, "  %s\n", fw->tdx_reason);
	if (fw->ntdx)
		printf("  %2s  %-12s  %-11s  %-10s  %-18s  %-10s  %s\n", "#", "type", "data offset",
		       "raw size", "gpa", "mem size", "attributes");
	for (size_t i = 0; i < fw->ntdx; i++) {
		const struct cvm_tdvf_section *s = &fw->tdx_sections[i];
		char attr[32];
		tdvf_attr_text(s->attributes, attr, sizeof(attr));
		printf("  %2zu  %-12s  0x%-9x  0x%-8x  0x%-16" PRIx64 "  0x%-8" PRIx64 "  %s\n", i,
		       cvm_tdvf_section_type_name(s->type), s->data_offset, s->raw_size, s->gpa,
		       s->mem_size, attr);
	}
	print_warnings(fw->tdx_warnings);

	struct caps c;
	caps_of(fw, &c);
	printf("\ncapabilities:\n");
	printf("  SNP launch: %s (%s)\n", c.snp ? "yes" : "no", c.snp_why);
	printf("  SNP measured direct boot (kernel hashes): %s (%s)\n", c.hashes ? "yes" : "no",
	       c.hashes_why);
	printf("  TDX launch: %s (%s)\n", c.tdx ? "yes" : "no", c.tdx_why);
}

/* ---- JSON ------------------------------------------------------------------------------- */

static json_object *jhex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_object_new_string(buf);
}

static json_object *jwarnings(const char *warnings)
{
	json_object *a = json_object_new_array();
	const char *w;
	size_t len;
	for (const char *p = warnings; next_warning(&p, &w, &len);)
		json_object_array_add(a, json_object_new_string_len(w, (int)len));
	return a;
}

static json_object *jguid_table(const struct cvm_firmware *fw)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < fw->ntable; i++) {
		const struct cvm_fw_table_entry *e = &fw->table[i];
		json_object *o = json_object_new_object();
		char gs[37], val[128];
		const char *name = cvm_guid_name(&e->guid);
		cvm_guid_format(&e->guid, gs);
		entry_value(fw, e, val, sizeof(val));
		char *hex = malloc(2 * e->len + 1);
		if (hex)
			cvm_hex_encode(e->data, e->len, hex);
		json_object_object_add(o, "guid", json_object_new_string(gs));
		json_object_object_add(o, "name", name ? json_object_new_string(name) : NULL);
		json_object_object_add(o, "offset", jhex(e->offset));
		json_object_object_add(o, "length", json_object_new_int64((int64_t)e->len));
		json_object_object_add(o, "data", hex ? json_object_new_string(hex) : NULL);
		json_object_object_add(o, "value", json_object_new_string(val));
		free(hex);
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *jstatus(enum cvm_fw_status st, const char *reason, const char *warnings,
			    uint32_t offset)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(status_word(st)));
	json_object_object_add(o, "reason", reason[0] ? json_object_new_string(reason) : NULL);
	json_object_object_add(o, "warnings", jwarnings(warnings));
	json_object_object_add(o, "offset_from_end", st == CVM_FW_ABSENT ? NULL : jhex(offset));
	return o;
}

static json_object *jsev(const struct cvm_firmware *fw)
{
	json_object *o = jstatus(fw->sev_status, fw->sev_reason, fw->sev_warnings,
				 fw->sev_metadata_offset);
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < fw->nsev; i++) {
		const struct cvm_sev_section *s = &fw->sev_sections[i];
		json_object *r = json_object_new_object();
		json_object_object_add(r, "gpa", jhex(s->gpa));
		json_object_object_add(r, "size", jhex(s->size));
		json_object_object_add(r, "type", json_object_new_string(cvm_sev_section_type_name(s->type)));
		json_object_object_add(r, "type_value", json_object_new_int64(s->type));
		json_object_array_add(a, r);
	}
	json_object_object_add(o, "sections", a);
	return o;
}

static json_object *jtdx(const struct cvm_firmware *fw)
{
	json_object *o = jstatus(fw->tdx_status, fw->tdx_reason, fw->tdx_warnings,
				 fw->tdx_metadata_offset);
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < fw->ntdx; i++) {
		const struct cvm_tdvf_section *s = &fw->tdx_sections[i];
		json_object *r = json_object_new_object();
		json_object *names = json_object_new_array();
		if (s->attributes & CVM_TDVF_ATTR_MR_EXTEND)
			json_object_array_add(names, json_object_new_string("MR_EXTEND"));
		if (s->attributes & CVM_TDVF_ATTR_PAGE_AUG)
			json_object_array_add(names, json_object_new_string("PAGE_AUG"));
		json_object_object_add(r, "type", json_object_new_string(cvm_tdvf_section_type_name(s->type)));
		json_object_object_add(r, "type_value", json_object_new_int64(s->type));
		json_object_object_add(r, "data_offset", jhex(s->data_offset));
		json_object_object_add(r, "raw_size", jhex(s->raw_size));
		json_object_object_add(r, "gpa", jhex(s->gpa));
		json_object_object_add(r, "mem_size", jhex(s->mem_size));
		json_object_object_add(r, "attributes", jhex(s->attributes));
		json_object_object_add(r, "attribute_names", names);
		json_object_array_add(a, r);
	}
	json_object_object_add(o, "sections", a);
	return o;
}

static json_object *jcap(bool yes, const char *why)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "supported", json_object_new_boolean(yes));
	json_object_object_add(o, "reason", json_object_new_string(why));
	return o;
}

static int print_json(const struct cvm_firmware *fw, const char *path, const char *sha)
{
	json_object *root = json_object_new_object();
	json_object_object_add(root, "path", json_object_new_string(path));
	json_object_object_add(root, "size", json_object_new_int64((int64_t)fw->size));
	json_object_object_add(root, "sha256", json_object_new_string(sha));
	json_object_object_add(root, "load_gpa", jhex(fw->load_gpa));
	json_object_object_add(root, "guid_table", jguid_table(fw));
	json_object_object_add(root, "sev", jsev(fw));
	json_object_object_add(root, "tdx", jtdx(fw));

	struct caps c;
	caps_of(fw, &c);
	json_object *caps = json_object_new_object();
	json_object_object_add(caps, "snp_launch", jcap(c.snp, c.snp_why));
	json_object_object_add(caps, "snp_kernel_hashes", jcap(c.hashes, c.hashes_why));
	json_object_object_add(caps, "tdx_launch", jcap(c.tdx, c.tdx_why));
	json_object_object_add(root, "capabilities", caps);
	return cli_print_json("inspect", root);
}

/*
 * Everything is printed first; then metadata that is present but invalid fails the job (the
 * image cannot launch that TEE as it stands), while absent metadata is only a statement.
 */
static int invalid_metadata_status(const struct cvm_firmware *fw, const char *path)
{
	bool sev = fw->sev_status == CVM_FW_INVALID, tdx = fw->tdx_status == CVM_FW_INVALID;
	if (!sev && !tdx)
		return CLI_OK;
	struct cvm_error err;
	cvm_error_clear(&err);
	cvm_error_set(&err, -EINVAL, "%s: invalid %s metadata", path,
		      sev && tdx ? "SEV and TDX" : sev ? "SEV" : "TDX");
	return cli_fail("inspect", &err);
}

int cmd_inspect(const struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			print_usage(stdout);
			return CLI_OK;
		default:
			return cli_option_error("inspect", NULL, c, argv);
		}
	}
	if (argc - optind == 0)
		return cli_usage_error("inspect", "missing FIRMWARE argument");
	if (argc - optind > 1)
		return cli_usage_error("inspect", "expected one FIRMWARE, got %d", argc - optind);
	const char *path = argv[optind];

	struct cvm_error err;
	cvm_error_clear(&err);
	struct cvm_firmware *fw = NULL;
	if (cvm_firmware_load(path, &fw, &err))
		return cli_fail("inspect", &err);
	uint8_t digest[32];
	if (cvm_firmware_sha256(fw, digest, &err)) {
		cvm_firmware_free(fw);
		return cli_fail("inspect", &err);
	}
	char sha[65];
	cvm_hex_encode(digest, sizeof(digest), sha);
	int status = CLI_OK;
	if (json)
		status = print_json(fw, path, sha);
	else
		print_text(fw, path, sha);
	if (status == CLI_OK)
		status = invalid_metadata_status(fw, path);
	cvm_firmware_free(fw);
	return status;
}
