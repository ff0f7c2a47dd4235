/* SPDX-License-Identifier: Apache-2.0 */
/* The policy's life cycle: defaults, parse/load (format detection), encode, firmware pin, free. */
#include "policy/policy_internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include <cvmkit/util.h>

void cvm_policy_init(struct cvm_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->version = 1;
	p->tee = CVM_TEE_NONE;
	p->vmm = CVM_VMM_QEMU;
	p->cpus.count = 1;
	p->memory_size = 2ull << 30;
	/* QEMU's default SNP policy is 0x30000: SMT allowed, reserved bit 17. */
	p->snp.policy.smt = true;
	p->snp.guest_features = 0x1;
	p->tdx.sept_ve_disable = true;
	p->tdx.xfam = 0xe7;
	p->tdx.measure_order = CVM_TDX_ORDER_SINGLE_PASS;
	p->tdx.honour_page_aug = false;
	p->prefault.mode = CVM_PREFAULT_BEST_EFFORT;
}

static void tdx_rtmr_free(struct cvm_policy_tdx_rtmr *t)
{
	for (size_t i = 0; i < CVM_ARRAY_SIZE(t->acpi); i++)
		free(t->acpi[i].path);
	free(t->cfv.path);
	free(t->boot_order);
	for (size_t i = 0; i < t->nboot_entries; i++) {
		free(t->boot_entries[i].description);
		free(t->boot_entries[i].device_path);
		free(t->boot_entries[i].optional_data);
	}
	free(t->boot_entries);
	for (size_t i = 0; i < t->nfw_cfg; i++) {
		free(t->fw_cfg[i].name);
		free(t->fw_cfg[i].data);
	}
	free(t->fw_cfg);
}

void cvm_policy_free(struct cvm_policy *p)
{
	if (!p)
		return;
	tdx_rtmr_free(&p->tdx.rtmr);
	free(p->name);
	free(p->cpus.model);
	free(p->firmware.path);
	free(p->boot.kernel);
	free(p->boot.initrd);
	free(p->boot.cmdline);
	free(p->snp.id_block.id_key_path);
	free(p->snp.id_block.author_key_path);
	free(p->snp.certs.key_path);
	free(p->snp.certs.intermediate_path);
	free(p->snp.certs.ark_path);
	free(p->prefault.ranges);
	free(p->base_dir);
	free(p);
}

void cvm_policy_problems_free(struct cvm_policy_problems *problems)
{
	if (!problems)
		return;
	for (size_t i = 0; i < problems->count; i++) {
		free(problems->items[i].path);
		free(problems->items[i].message);
	}
	free(problems->items);
	problems->items = NULL;
	problems->count = 0;
}

int cvm_policy_problem_add(struct cvm_policy_problems *problems, const char *path,
			   const char *fmt, ...)
{
	if (!problems || problems->count > CVM_POLICY_MAX_PROBLEMS)
		return 0;
	char msg[512];
	if (problems->count == CVM_POLICY_MAX_PROBLEMS) {
		/* A listing nobody reads helps no one: close it with one line that says so. */
		path = "";
		snprintf(msg, sizeof(msg), "more problems follow; only the first %d are listed",
			 CVM_POLICY_MAX_PROBLEMS);
	} else {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	struct cvm_policy_problem *grown =
		realloc(problems->items, (problems->count + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	problems->items = grown;
	char *path_copy = strdup(path), *msg_copy = strdup(msg);
	if (!path_copy || !msg_copy) {
		free(path_copy);
		free(msg_copy);
		return -ENOMEM;
	}
	problems->items[problems->count].path = path_copy;
	problems->items[problems->count].message = msg_copy;
	problems->count++;
	return 0;
}

const char *cvm_tee_name(enum cvm_tee tee)
{
	switch (tee) {
	case CVM_TEE_NONE:
		return "none";
	case CVM_TEE_SNP:
		return "snp";
	case CVM_TEE_TDX:
		return "tdx";
	}
	return "unknown";
}

const char *cvm_vmm_name(enum cvm_vmm vmm)
{
	switch (vmm) {
	case CVM_VMM_QEMU:
		return "qemu";
	case CVM_VMM_EC2:
		return "ec2";
	case CVM_VMM_GCE:
		return "gce";
	case CVM_VMM_CVMKIT:
		return "cvmkit";
	}
	return "unknown";
}

/* ---- SEV features by name ----------------------------------------------------------------- */

static const char *const sev_feature_names[] = {
	[0] = "SNPActive",
	[1] = "vTOM",
	[2] = "ReflectVC",
	[3] = "RestrictedInjection",
	[4] = "AlternateInjection",
	[5] = "DebugSwap",
	[6] = "PreventHostIBS",
	[7] = "BTBIsolation",
	[8] = "VmplSSS",
	[9] = "SecureTSC",
	[10] = "VmgexitParameter",
	[12] = "IbsVirtualization",
	[14] = "VmsaRegProt",
	[15] = "SmtProtection",
	[16] = "SecureAVIC",
};

const char *cvm_sev_feature_name(unsigned bit)
{
	return bit < CVM_ARRAY_SIZE(sev_feature_names) ? sev_feature_names[bit] : NULL;
}

int cvm_sev_feature_bit(const char *name)
{
	for (size_t i = 0; name && i < CVM_ARRAY_SIZE(sev_feature_names); i++)
		if (sev_feature_names[i] && strcmp(sev_feature_names[i], name) == 0)
			return (int)i;
	return -1;
}

int cvm_sev_features_text(uint64_t features, const char *sep, char *out, size_t len)
{
	size_t at = 0;
	if (len)
		out[0] = '\0';
	if (!features)
		return snprintf(out, len, "none");
	for (unsigned bit = 0; bit < 64; bit++) {
		if (!(features >> bit & 1))
			continue;
		const char *name = cvm_sev_feature_name(bit);
		char unnamed[16];
		if (!name) {
			snprintf(unnamed, sizeof(unnamed), "bit %u", bit);
			name = unnamed;
		}
		int w = snprintf(at < len ? out + at : NULL, at < len ? len - at : 0, "%s%s",
				 at ? sep : "", name);
		if (w > 0)
			at += (size_t)w;
	}
	return (int)at;
}

uint64_t cvm_snp_policy_value(const struct cvm_snp_guest_policy *gp)
{
	uint64_t v = (uint64_t)gp->abi_minor | (uint64_t)gp->abi_major << 8;
	v |= (uint64_t)gp->smt << 16;
	v |= 1ull << 17; /* reserved, must be one */
	v |= (uint64_t)gp->migrate_ma << 18;
	v |= (uint64_t)gp->debug << 19;
	v |= (uint64_t)gp->single_socket << 20;
	v |= (uint64_t)gp->cxl_allow << 21;
	v |= (uint64_t)gp->mem_aes_256_xts << 22;
	v |= (uint64_t)gp->rapl_dis << 23;
	v |= (uint64_t)gp->ciphertext_hiding << 24;
	v |= (uint64_t)gp->page_swap_disable << 25;
	return v;
}

uint64_t cvm_tdx_attributes_value(const struct cvm_policy_tdx *t)
{
	return (uint64_t)t->debug | (uint64_t)t->sept_ve_disable << 28 | (uint64_t)t->pks << 30 |
	       (uint64_t)t->perfmon << 63;
}

void cvm_policy_format_size(uint64_t v, char *buf, size_t n)
{
	static const struct {
		char suffix;
		unsigned shift;
	} units[] = {{'T', 40}, {'G', 30}, {'M', 20}, {'K', 10}};
	for (size_t i = 0; v && i < CVM_ARRAY_SIZE(units); i++) {
		uint64_t unit = 1ull << units[i].shift;
		if (v % unit == 0) {
			snprintf(buf, n, "%" PRIu64 "%c", v / unit, units[i].suffix);
			return;
		}
	}
	snprintf(buf, n, "0x%" PRIx64, v);
}

static bool is_json_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Line and column (both from 1) of a byte offset, for JSON syntax errors. */
static void line_column(const uint8_t *data, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (data[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}


/*
 * json-c keeps the last of two equal keys in one object; the CBOR reader refuses them, and so
 * does this scan of the text json-c accepted (so its syntax is known good).  Keys are compared
 * decoded ("a" and "\u0061" are the same key); each object's keys go into a json-c object used
 * as a set, so a hostile document with many keys costs linear time.
 */
struct dup_frame {
	bool is_object;
	bool expect_key;
	size_t index;           /* arrays: the current item */
	char *key;              /* objects: the current key (decoded), owned */
	struct json_object *seen;
};

struct dup_scan {
	struct dup_frame stack[CVM_POLICY_MAX_DEPTH + 1];
	size_t depth;
	struct json_tokener *tok;
	struct cvm_policy_problems *problems;
	int rc;
};

static void dup_append(char *out, size_t n, size_t *used, const char *text, bool sanitize)
{
	for (const char *c = text; *c && *used + 1 < n; c++)
		out[(*used)++] = !sanitize || (*c >= 0x20 && *c < 0x7f) ? *c : '?';
	out[*used] = '\0';
}

/*
 * The key path of key in the innermost object: each enclosing object's current key, each
 * enclosing array's index ("snp.policy.debug", "prefault.ranges[1].gpa").
 */
static void dup_path(const struct dup_scan *d, const char *key, char *out, size_t n)
{
	size_t used = 0;
	out[0] = '\0';
	/* stack[0] is the root object; frame i's position is named in frame i - 1. */
	for (size_t i = 1; i < d->depth; i++) {
		const struct dup_frame *parent = &d->stack[i - 1];
		if (parent->is_object) {
			if (used)
				dup_append(out, n, &used, ".", false);
			dup_append(out, n, &used, parent->key ? parent->key : "?", true);
		} else {
			char idx[24];
			snprintf(idx, sizeof(idx), "[%zu]", parent->index);
			dup_append(out, n, &used, idx, false);
		}
	}
	if (used)
		dup_append(out, n, &used, ".", false);
	dup_append(out, n, &used, key, true);
}

/* The string token [start, end] (quotes included) decoded by json-c; NULL when out of memory. */
static char *dup_decode(struct dup_scan *d, const uint8_t *data, size_t start, size_t end)
{
	json_tokener_reset(d->tok);
	struct json_object *v =
		json_tokener_parse_ex(d->tok, (const char *)data + start, (int)(end - start + 1));
	char *key = v && json_object_get_type(v) == json_type_string
			    ? strdup(json_object_get_string(v))
			    : NULL;
	json_object_put(v);
	return key;
}

static void dup_key(struct dup_scan *d, char *key)
{
	struct dup_frame *f = &d->stack[d->depth - 1];
	if (json_object_object_get_ex(f->seen, key, NULL)) {
		char path[256];
		dup_path(d, key, path, sizeof(path));
		if (cvm_policy_problem_add(d->problems, path, "duplicate key: it appears more than "
					   "once in this object (JSON readers keep one of them "
					   "silently); give it once"))
			d->rc = -ENOMEM;
	} else if (json_object_object_add(f->seen, key, NULL)) {
		d->rc = -ENOMEM;
	}
	free(f->key);
	f->key = key;
}

static int find_duplicate_keys(const uint8_t *data, size_t len,
			       struct cvm_policy_problems *problems)
{
	struct dup_scan d;
	memset(&d, 0, sizeof(d));
	d.problems = problems;
	d.tok = json_tokener_new();
	if (!d.tok)
		return -ENOMEM;
	for (size_t i = 0; i < len && !d.rc; i++) {
		uint8_t c = data[i];
		struct dup_frame *top = d.depth ? &d.stack[d.depth - 1] : NULL;
		if (c == '{' || c == '[') {
			if (d.depth == CVM_ARRAY_SIZE(d.stack))
				break; /* json-c bounds the depth already */
			struct dup_frame *f = &d.stack[d.depth++];
			memset(f, 0, sizeof(*f));
			f->is_object = c == '{';
			f->expect_key = f->is_object;
			if (f->is_object && !(f->seen = json_object_new_object()))
				d.rc = -ENOMEM;
		} else if ((c == '}' || c == ']') && top) {
			json_object_put(top->seen);
			free(top->key);
			d.depth--;
		} else if (c == ',' && top) {
			if (top->is_object)
				top->expect_key = true;
			else
				top->index++;
		} else if (c == ':' && top) {
			top->expect_key = false;
		} else if (c == '"') {
			size_t start = i;
			for (i++; i < len && data[i] != '"'; i++)
				if (data[i] == '\\')
					i++;
			if (i >= len)
				break;
			if (top && top->is_object && top->expect_key) {
				char *key = dup_decode(&d, data, start, i);
				if (key)
					dup_key(&d, key);
				else
					d.rc = -ENOMEM;
			}
		}
	}
	while (d.depth) {
		json_object_put(d.stack[d.depth - 1].seen);
		free(d.stack[d.depth - 1].key);
		d.depth--;
	}
	json_tokener_free(d.tok);
	return d.rc;
}

static int json_to_tree(const uint8_t *data, size_t len, struct json_object **out,
			struct cvm_policy_problems *problems)
{
	struct json_tokener *tok = json_tokener_new_ex(CVM_POLICY_MAX_DEPTH);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *tree = json_tokener_parse_ex(tok, (const char *)data, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	size_t line, col;
	int rc = 0;
	if (jerr == json_tokener_continue) {
		rc = cvm_policy_problem_add(problems, "", "invalid JSON: the document ends early");
	} else if (jerr != json_tokener_success || !tree) {
		line_column(data, end < len ? end : len, &line, &col);
		rc = cvm_policy_problem_add(problems, "",
					    "invalid JSON at line %zu, column %zu: %s", line, col,
					    json_tokener_error_desc(jerr));
	} else {
		while (end < len && is_json_space(data[end]))
			end++;
		if (end < len) {
			line_column(data, end, &line, &col);
			rc = cvm_policy_problem_add(problems, "",
						    "invalid JSON at line %zu, column %zu: "
						    "unexpected data after the policy object",
						    line, col);
		} else {
			size_t before = problems ? problems->count : 0;
			rc = find_duplicate_keys(data, len, problems);
			if (!rc && (!problems || problems->count == before)) {
				*out = tree;
				return 0;
			}
		}
	}
	json_object_put(tree);
	return rc ? rc : -EINVAL;
}

/* Bytes -> tree, the format chosen by the first non-space byte. */
static int bytes_to_tree(const uint8_t *data, size_t len, struct json_object **out,
			 struct cvm_policy_problems *problems)
{
	int rc;
	if (len > CVM_POLICY_MAX_BYTES) {
		rc = cvm_policy_problem_add(problems, "", "the document is %zu bytes; at most %u "
					    "are accepted", len, CVM_POLICY_MAX_BYTES);
		return rc ? rc : -EINVAL;
	}
	size_t i = 0;
	while (i < len && is_json_space(data[i]))
		i++;
	if (i == len) {
		rc = cvm_policy_problem_add(problems, "", "empty document: expected a JSON object "
					    "or a CBOR map");
		return rc ? rc : -EINVAL;
	}
	if (data[i] == '{')
		return json_to_tree(data, len, out, problems);
	/* CBOR has no leading white space: the map head (major type 5) is the first byte. */
	if ((data[0] >> 5) == 5)
		return cvm_policy_cbor_to_tree(data, len, out, problems);
	if (isprint(data[i]))
		rc = cvm_policy_problem_add(problems, "", "not a policy: expected a JSON object "
					    "('{') or a CBOR map, got '%c'", data[i]);
	else
		rc = cvm_policy_problem_add(problems, "", "not a policy: expected a JSON object "
					    "('{') or a CBOR map, got byte 0x%02x", data[i]);
	return rc ? rc : -EINVAL;
}

static void move_problems(struct cvm_policy_problems *from, struct cvm_policy_problems *to)
{
	if (!to) {
		cvm_policy_problems_free(from);
		return;
	}
	if (to->count == 0) {
		free(to->items);
		*to = *from;
		from->items = NULL;
		from->count = 0;
		return;
	}
	for (size_t i = 0; i < from->count; i++)
		if (cvm_policy_problem_add(to, from->items[i].path, "%s", from->items[i].message))
			break;
	cvm_policy_problems_free(from);
}

int cvm_policy_parse(const uint8_t *data, size_t len, const char *base_dir,
		     struct cvm_policy **out, struct cvm_policy_problems *problems,
		     struct cvm_error *err)
{
	struct cvm_policy_problems found = {0};
	struct json_object *tree = NULL;
	struct cvm_policy *p = NULL;
	int rc = bytes_to_tree(data, len, &tree, &found);
	if (rc == 0) {
		p = malloc(sizeof(*p));
		if (p) {
			cvm_policy_init(p);
			p->base_dir = strdup(base_dir && base_dir[0] ? base_dir : ".");
		}
		if (!p || !p->base_dir)
			rc = -ENOMEM;
		else
			rc = cvm_policy_read_tree(tree, p, &found);
	}
	json_object_put(tree);
	if (rc == 0 && found.count == 0) {
		*out = p;
		return 0;
	}
	cvm_policy_free(p);
	if (rc == -ENOMEM) {
		cvm_error_set(err, -ENOMEM, "out of memory while reading the policy");
	} else {
		rc = -EINVAL;
		const struct cvm_policy_problem *first = &found.items[0];
		const char *sep = first->path[0] ? ": " : "";
		if (found.count == 1)
			cvm_error_set(err, rc, "%s%s%s", first->path, sep, first->message);
		else if (found.count > CVM_POLICY_MAX_PROBLEMS)
			cvm_error_set(err, rc, "more than %d problems, the first: %s%s%s",
				      CVM_POLICY_MAX_PROBLEMS, first->path, sep, first->message);
		else
			cvm_error_set(err, rc, "%zu problems, the first: %s%s%s", found.count,
				      first->path, sep, first->message);
	}
	move_problems(&found, problems);
	return rc;
}

int cvm_policy_load(const char *path, struct cvm_policy **out,
		    struct cvm_policy_problems *problems, struct cvm_error *err)
{
	struct cvm_file f;
	int rc = cvm_file_read(path, CVM_POLICY_MAX_BYTES, &f, err);
	if (rc)
		return cvm_error_wrap(err, "policy");
	char *dir = cvm_dirname(path);
	if (!dir) {
		cvm_file_close(&f);
		return cvm_error_set(err, -ENOMEM, "%s: out of memory", path);
	}
	rc = cvm_policy_parse(f.data, f.size, dir, out, problems, err);
	free(dir);
	cvm_file_close(&f);
	if (rc)
		cvm_error_wrap(err, "%s", path);
	return rc;
}

int cvm_json_to_text(struct json_object *tree, int flags, uint8_t **out, size_t *out_len)
{
	size_t n = 0;
	const char *text = json_object_to_json_string_length(tree, flags, &n);
	uint8_t *buf = text && n < SIZE_MAX - 1 ? malloc(n + 2) : NULL;
	if (!buf)
		return -ENOMEM;
	memcpy(buf, text, n);
	buf[n] = '\n';
	buf[n + 1] = '\0';
	*out = buf;
	*out_len = n + 1;
	return 0;
}

int cvm_policy_encode(const struct cvm_policy *p, enum cvm_policy_format fmt, uint8_t **out,
		      size_t *out_len, struct cvm_error *err)
{
	struct json_object *tree = cvm_policy_to_tree(p);
	if (!tree)
		return cvm_error_set(err, -ENOMEM, "encoding the policy: out of memory");
	int rc;
	if (fmt == CVM_POLICY_CBOR)
		rc = cvm_policy_tree_to_cbor(tree, out, out_len, err);
	else if (cvm_json_to_text(tree,
				  JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					  JSON_C_TO_STRING_NOSLASHESCAPE,
				  out, out_len))
		rc = cvm_error_set(err, -ENOMEM, "encoding the policy: out of memory");
	else
		rc = 0;
	json_object_put(tree);
	return rc;
}

int cvm_policy_validate(const struct cvm_policy *p, struct cvm_policy_problems *problems,
			struct cvm_error *err)
{
	struct json_object *tree = cvm_policy_to_tree(p);
	struct cvm_policy *copy = malloc(sizeof(*copy));
	struct cvm_policy_problems found = {0};
	int rc = tree && copy ? 0 : -ENOMEM;
	if (copy) {
		cvm_policy_init(copy);
		/* The paths are already resolved: "." leaves them as they are. */
		if (!rc && !(copy->base_dir = strdup(".")))
			rc = -ENOMEM;
	}
	if (!rc)
		rc = cvm_policy_read_tree(tree, copy, &found);
	json_object_put(tree);
	cvm_policy_free(copy);
	if (rc == -ENOMEM) {
		cvm_policy_problems_free(&found);
		return cvm_error_set(err, -ENOMEM, "validating the policy: out of memory");
	}
	if (found.count == 0)
		return 0;
	const struct cvm_policy_problem *first = &found.items[0];
	const char *sep = first->path[0] ? ": " : "";
	if (found.count == 1)
		cvm_error_set(err, -EINVAL, "%s%s%s", first->path, sep, first->message);
	else
		cvm_error_set(err, -EINVAL, "%zu problems, the first: %s%s%s", found.count,
			      first->path, sep, first->message);
	move_problems(&found, problems);
	return -EINVAL;
}

bool cvm_policy_range_in_ram(uint64_t mem_size, uint64_t gpa, uint64_t size)
{
	uint64_t low = mem_size < CVM_GUEST_LOW_RAM_END ? mem_size : CVM_GUEST_LOW_RAM_END;
	if (cvm_range_ok(gpa, size, low))
		return true;
	return gpa >= CVM_GUEST_HIGH_RAM_START &&
	       cvm_range_ok(gpa - CVM_GUEST_HIGH_RAM_START, size, mem_size - low);
}

int cvm_policy_firmware_pin_check(const struct cvm_policy *p, const uint8_t sha256[32],
				  struct cvm_error *err)
{
	if (!p->firmware.has_sha256 || cvm_memeq_ct(sha256, p->firmware.sha256, 32))
		return 0;
	char got[65], want[65];
	cvm_hex_encode(sha256, 32, got);
	cvm_hex_encode(p->firmware.sha256, 32, want);
	return cvm_error_set(err, -EINVAL, "firmware.sha256: %s hashes to %s, the policy pins %s",
			     p->firmware.path ? p->firmware.path : "the firmware", got, want);
}

int cvm_policy_check_firmware_pin(const struct cvm_policy *p, struct cvm_error *err)
{
	if (!p->firmware.has_sha256)
		return 0;
	if (!p->firmware.path)
		return cvm_error_set(err, -EINVAL, "firmware.sha256: a pin needs firmware.path");
	struct cvm_stream_digest d;
	int rc = cvm_hash_stream(p->firmware.path, CVM_FIRMWARE_MAX, CVM_HASH_SHA256, NULL, NULL,
				 &d, err);
	return rc ? cvm_error_wrap(err, "firmware.path")
		  : cvm_policy_firmware_pin_check(p, d.sha256, err);
}

uint32_t cvm_cpu_signature(uint32_t family, uint32_t model, uint32_t stepping)
{
	uint32_t base_family = family > 0xF ? 0xF : family;
	uint32_t ext_family = family > 0xF ? (family - 0xF) & 0xFF : 0;
	uint32_t base_model = model & 0xF;
	uint32_t ext_model = (model >> 4) & 0xF;
	return ext_family << 20 | ext_model << 16 | base_family << 8 | base_model << 4 |
	       (stepping & 0xF);
}
