/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy reader: json-c tree (from JSON or CBOR) -> struct cvm_policy, with every rule of
 * docs/policy.md.  Nothing stops at the first problem: each one is recorded with its key path,
 * and reading goes on so that one run lists them all.
 */
#include "policy/policy_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/util.h>

#define PATH_BUF 160
#define MAX_MEMORY (4ull << 40)      /* 4 TiB */
#define MAX_GPA_END (1ull << 52)     /* the architectural guest-physical limit */
#define MAX_PREFAULT_RANGES 256
#define MAX_NAME_LEN 128
#define MAX_MODEL_LEN 64
#define MAX_CMDLINE_LEN 4095
#define MAX_FAMILY (0xf + 0xff)      /* base family 0xf plus an 8-bit extended family */

struct reader {
	struct cvm_policy_problems *problems;
	struct cvm_policy *p;
	int rc; /* -ENOMEM once a problem could not be recorded */
};

static void problem(struct reader *r, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct reader *r, const char *path, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cvm_policy_problem_add(r->problems, path, "%s", msg))
		r->rc = -ENOMEM;
}

/* Printable, bounded copy of untrusted text for messages and paths. */
static void sanitize(const char *in, size_t in_len, char *out, size_t out_size, size_t max_chars)
{
	size_t o = 0;
	for (size_t i = 0; i < in_len && o + 1 < out_size; i++) {
		if (i == max_chars) {
			snprintf(out + o, out_size - o, "...");
			return;
		}
		unsigned char c = (unsigned char)in[i];
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[o] = '\0';
}

static void path_key(char *out, size_t n, const char *parent, const char *key)
{
	/* Paths are short by construction; a too-long one is cut, never overflowed. */
	if (snprintf(out, n, "%s%s%s", parent, parent[0] ? "." : "", key) >= (int)n)
		out[n - 1] = '\0';
}

/* What a value is, for "got ..." in messages. */
static const char *describe(struct json_object *v, char *buf, size_t n)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return json_object_get_boolean(v) ? "true" : "false";
	case json_type_int:
		if (json_object_get_int64(v) < 0)
			snprintf(buf, n, "%" PRId64, json_object_get_int64(v));
		else
			snprintf(buf, n, "%" PRIu64, json_object_get_uint64(v));
		return buf;
	case json_type_double:
		snprintf(buf, n, "%g", json_object_get_double(v));
		return buf;
	case json_type_string: {
		char text[64];
		sanitize(json_object_get_string(v), (size_t)json_object_get_string_len(v), text,
			 sizeof(text), 40);
		snprintf(buf, n, "\"%s\"", text);
		return buf;
	}
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	}
	return "an unknown value";
}

/* An integer value as unsigned; false for negative or non-integers. */
static bool as_u64(struct json_object *v, uint64_t *out)
{
	if (json_object_get_type(v) != json_type_int || json_object_get_int64(v) < 0)
		return false;
	*out = json_object_get_uint64(v);
	return true;
}

static bool read_uint(struct reader *r, const char *path, struct json_object *v, uint64_t min,
		      uint64_t max, uint64_t *out)
{
	uint64_t x;
	if (as_u64(v, &x) && x >= min && x <= max) {
		*out = x;
		return true;
	}
	char got[96];
	problem(r, path, "expected an integer %" PRIu64 "..%" PRIu64 ", got %s", min, max,
		describe(v, got, sizeof(got)));
	return false;
}

static bool read_bool(struct reader *r, const char *path, struct json_object *v, bool *out)
{
	if (json_object_get_type(v) == json_type_boolean) {
		*out = json_object_get_boolean(v);
		return true;
	}
	char got[96];
	problem(r, path, "expected true or false, got %s", describe(v, got, sizeof(got)));
	return false;
}

/* "0x" followed by 1..16 hex digits. */
static bool parse_hex_u64(const char *s, size_t len, uint64_t *out)
{
	if (len < 3 || len > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return false;
	uint64_t v = 0;
	for (size_t i = 2; i < len; i++) {
		int d = cvm_hex_digit(s[i]);
		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return true;
}

/* Decimal digits with an optional binary unit: "2G", "512M", "64K", "1T", "4096". */
static bool parse_units(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return false;
	unsigned shift = 0;
	if (i + 1 == len) {
		switch (s[i]) {
		case 'K':
		case 'k':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		case 'T':
			shift = 40;
			break;
		default:
			return false;
		}
	} else if (i != len) {
		return false;
	}
	if (shift && v > UINT64_MAX >> shift)
		return false;
	*out = v << shift;
	return true;
}

/* An integer, or a "0x..." hex string, at most max. */
static bool read_u64_hex(struct reader *r, const char *path, struct json_object *v,
			 uint64_t max, uint64_t *out)
{
	uint64_t x;
	bool ok = as_u64(v, &x);
	if (!ok && json_object_get_type(v) == json_type_string)
		ok = parse_hex_u64(json_object_get_string(v), (size_t)json_object_get_string_len(v),
				   &x);
	if (ok && x <= max) {
		*out = x;
		return true;
	}
	char got[96];
	problem(r, path, "expected an integer or a \"0x...\" hex string, at most 0x%" PRIx64
		", got %s", max, describe(v, got, sizeof(got)));
	return false;
}

/* A byte count: an integer, "0x...", or decimal with K/M/G/T. */
static bool read_size(struct reader *r, const char *path, struct json_object *v, uint64_t *out)
{
	uint64_t x;
	bool ok = as_u64(v, &x);
	if (!ok && json_object_get_type(v) == json_type_string) {
		const char *s = json_object_get_string(v);
		size_t len = (size_t)json_object_get_string_len(v);
		ok = parse_hex_u64(s, len, &x) || parse_units(s, len, &x);
	}
	if (ok) {
		*out = x;
		return true;
	}
	char got[96];
	problem(r, path, "expected a size: an integer, a \"0x...\" hex string, or a number "
		"with K, M, G or T such as \"2G\", got %s", describe(v, got, sizeof(got)));
	return false;
}

/* A string of min_len..max_len bytes without NUL; *out is a fresh copy (old one freed). */
static bool read_string(struct reader *r, const char *path, struct json_object *v,
			size_t min_len, size_t max_len, char **out)
{
	char got[96];
	if (json_object_get_type(v) != json_type_string) {
		problem(r, path, "expected a string, got %s", describe(v, got, sizeof(got)));
		return false;
	}
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len) {
		problem(r, path, "expected a string without NUL characters");
		return false;
	}
	if (len < min_len || len > max_len) {
		if (min_len && !len)
			problem(r, path, "expected a non-empty string");
		else
			problem(r, path, "expected at most %zu characters, got %zu", max_len, len);
		return false;
	}
	char *copy = strdup(s);
	if (!copy) {
		r->rc = -ENOMEM;
		return false;
	}
	free(*out);
	*out = copy;
	return true;
}

static bool read_path(struct reader *r, const char *path, struct json_object *v, char **out)
{
	char *rel = NULL;
	if (!read_string(r, path, v, 1, PATH_MAX - 1, &rel))
		return false;
	char *full = cvm_path_join(r->p->base_dir, rel);
	free(rel);
	if (!full) {
		r->rc = -ENOMEM;
		return false;
	}
	free(*out);
	*out = full;
	return true;
}

/* One of names[] (NULL-terminated); *out is its index. */
static bool read_enum(struct reader *r, const char *path, struct json_object *v,
		      const char *const *names, int *out)
{
	if (json_object_get_type(v) == json_type_string) {
		const char *s = json_object_get_string(v);
		for (int i = 0; names[i]; i++) {
			if (strcmp(s, names[i]) == 0 &&
			    strlen(s) == (size_t)json_object_get_string_len(v)) {
				*out = i;
				return true;
			}
		}
	}
	char expected[160] = "", got[96];
	for (int i = 0; names[i]; i++) {
		size_t used = strlen(expected);
		snprintf(expected + used, sizeof(expected) - used, "%s\"%s\"",
			 i == 0 ? "" : names[i + 1] ? ", " : " or ", names[i]);
	}
	problem(r, path, "expected %s, got %s", expected, describe(v, got, sizeof(got)));
	return false;
}

/* Exactly n bytes as 2n hex digits ("0x" prefix allowed). */
static bool read_hex_bytes(struct reader *r, const char *path, struct json_object *v,
			   uint8_t *out, size_t n)
{
	if (json_object_get_type(v) == json_type_string) {
		const char *s = json_object_get_string(v);
		uint8_t buf[64];
		if (n <= sizeof(buf) && strlen(s) == (size_t)json_object_get_string_len(v) &&
		    cvm_hex_decode(s, buf, n) == 0) {
			memcpy(out, buf, n);
			return true;
		}
	}
	char got[96];
	problem(r, path, "expected %zu hex digits (%zu bytes), got %s", 2 * n, n,
		describe(v, got, sizeof(got)));
	return false;
}

/* Reports every key of obj that is not in allowed (NULL-terminated). */
static void check_keys(struct reader *r, struct json_object *obj, const char *path,
		       const char *const *allowed)
{
	char expected[300] = "";
	for (int i = 0; allowed[i]; i++) {
		size_t used = strlen(expected);
		snprintf(expected + used, sizeof(expected) - used, "%s%s", i ? ", " : "",
			 allowed[i]);
	}
	json_object_object_foreach(obj, key, val) {
		(void)val;
		bool known = false;
		for (int i = 0; allowed[i] && !known; i++)
			known = strcmp(key, allowed[i]) == 0;
		if (known)
			continue;
		char shown[64], kp[PATH_BUF];
		sanitize(key, strlen(key), shown, sizeof(shown), 40);
		path_key(kp, sizeof(kp), path, shown);
		problem(r, kp, "unknown key (expected one of: %s)", expected);
	}
}

/*
 * The block at parent_path.key with its keys checked against keys (NULL-terminated), or NULL
 * when it is absent or not an object (then a problem is recorded).
 */
static struct json_object *child_block(struct reader *r, struct json_object *parent,
				       const char *parent_path, const char *key,
				       const char *const *keys)
{
	char path[PATH_BUF];
	struct json_object *v;
	if (!json_object_object_get_ex(parent, key, &v))
		return NULL;
	path_key(path, sizeof(path), parent_path, key);
	if (json_object_get_type(v) != json_type_object) {
		char got[96];
		problem(r, path, "expected an object, got %s", describe(v, got, sizeof(got)));
		return NULL;
	}
	check_keys(r, v, path, keys);
	return v;
}

/* Looks up key; on presence, path receives parent_path.key. */
static bool field(struct json_object *obj, const char *parent_path, const char *key,
		  struct json_object **v, char *path, size_t path_size)
{
	if (!obj || !json_object_object_get_ex(obj, key, v))
		return false;
	path_key(path, path_size, parent_path, key);
	return true;
}

#define FIELD(obj, parent, key, v, path) field(obj, parent, key, &(v), path, sizeof(path))

static void read_cpus(struct reader *r, struct json_object *root)
{
	static const char *const keys[] = {"count", "model", "signature", "family", "model_id",
					   "stepping", NULL};
	char path[PATH_BUF];
	struct json_object *obj = child_block(r, root, "", "cpus", keys), *v;
	if (!obj)
		return;
	struct cvm_policy *p = r->p;
	uint64_t x;
	if (FIELD(obj, "cpus", "count", v, path) && read_uint(r, path, v, 1, CVM_MAX_VCPUS, &x))
		p->cpus.count = (uint32_t)x;
	int ways = 0;
	if (FIELD(obj, "cpus", "model", v, path)) {
		ways++;
		read_string(r, path, v, 1, MAX_MODEL_LEN, &p->cpus.model);
	}
	if (FIELD(obj, "cpus", "signature", v, path)) {
		ways++;
		if (read_u64_hex(r, path, v, UINT32_MAX, &x)) {
			p->cpus.has_signature = true;
			p->cpus.signature = (uint32_t)x;
		}
	}
	static const char *const fms_keys[] = {"family", "model_id", "stepping"};
	static const uint64_t fms_max[] = {MAX_FAMILY, 0xff, 0xf};
	uint64_t fms[3];
	int given = 0, valid = 0;
	for (int i = 0; i < 3; i++) {
		if (!FIELD(obj, "cpus", fms_keys[i], v, path))
			continue;
		given++;
		valid += read_uint(r, path, v, 0, fms_max[i], &fms[i]);
	}
	if (given) {
		ways++;
		for (int i = 0; i < 3 && given < 3; i++) {
			if (json_object_object_get_ex(obj, fms_keys[i], NULL))
				continue;
			path_key(path, sizeof(path), "cpus", fms_keys[i]);
			problem(r, path,
				"missing: family, model_id and stepping are given together");
		}
		if (valid == 3) {
			p->cpus.has_signature = true;
			p->cpus.signature = cvm_cpu_signature((uint32_t)fms[0], (uint32_t)fms[1],
							      (uint32_t)fms[2]);
		}
	}
	if (ways > 1)
		problem(r, "cpus", "give one of model, signature, or family/model_id/stepping, "
			"not several");
}

static void read_memory(struct reader *r, struct json_object *root)
{
	static const char *const keys[] = {"size", NULL};
	char path[PATH_BUF];
	struct json_object *obj = child_block(r, root, "", "memory", keys), *v;
	if (!obj)
		return;
	uint64_t size;
	if (!FIELD(obj, "memory", "size", v, path) || !read_size(r, path, v, &size))
		return;
	if (size == 0 || size > MAX_MEMORY)
		problem(r, path, "expected a size from 4K to 4T, got %" PRIu64, size);
	else if (size % CVM_PAGE_SIZE)
		problem(r, path, "expected a multiple of 4096 (the page size), got %" PRIu64, size);
	else
		r->p->memory_size = size;
}

static void read_firmware(struct reader *r, struct json_object *root)
{
	static const char *const keys[] = {"path", "sha256", NULL};
	char path[PATH_BUF];
	struct json_object *obj = child_block(r, root, "", "firmware", keys), *v;
	if (!obj)
		return;
	struct cvm_policy *p = r->p;
	if (FIELD(obj, "firmware", "path", v, path))
		read_path(r, path, v, &p->firmware.path);
	if (FIELD(obj, "firmware", "sha256", v, path)) {
		p->firmware.has_sha256 = read_hex_bytes(r, path, v, p->firmware.sha256, 32);
		if (!json_object_object_get_ex(obj, "path", NULL))
			problem(r, path, "a SHA-256 pin needs firmware.path");
	}
}

static void read_boot(struct reader *r, struct json_object *root)
{
	static const char *const keys[] = {"kernel", "initrd", "cmdline", NULL};
	char path[PATH_BUF];
	struct json_object *obj = child_block(r, root, "", "boot", keys), *v;
	if (!obj)
		return;
	struct cvm_policy *p = r->p;
	bool has_kernel = json_object_object_get_ex(obj, "kernel", NULL);
	if (FIELD(obj, "boot", "kernel", v, path))
		read_path(r, path, v, &p->boot.kernel);
	if (FIELD(obj, "boot", "initrd", v, path)) {
		read_path(r, path, v, &p->boot.initrd);
		if (!has_kernel)
			problem(r, path, "an initrd needs boot.kernel (direct boot)");
	}
	if (FIELD(obj, "boot", "cmdline", v, path)) {
		read_string(r, path, v, 0, MAX_CMDLINE_LEN, &p->boot.cmdline);
		if (!has_kernel)
			problem(r, path, "a command line needs boot.kernel (direct boot)");
	}
}

static void read_snp_guest_policy(struct reader *r, struct json_object *snp)
{
	static const struct {
		const char *key;
		size_t offset;
	} bits[] = {
		{"smt", offsetof(struct cvm_snp_guest_policy, smt)},
		{"migrate_ma", offsetof(struct cvm_snp_guest_policy, migrate_ma)},
		{"debug", offsetof(struct cvm_snp_guest_policy, debug)},
		{"single_socket", offsetof(struct cvm_snp_guest_policy, single_socket)},
		{"cxl_allow", offsetof(struct cvm_snp_guest_policy, cxl_allow)},
		{"mem_aes_256_xts", offsetof(struct cvm_snp_guest_policy, mem_aes_256_xts)},
		{"rapl_dis", offsetof(struct cvm_snp_guest_policy, rapl_dis)},
		{"ciphertext_hiding", offsetof(struct cvm_snp_guest_policy, ciphertext_hiding)},
		{"page_swap_disable", offsetof(struct cvm_snp_guest_policy, page_swap_disable)},
	};
	static const char *const keys[] = {"abi_major", "abi_minor", "smt", "migrate_ma",
					   "debug", "single_socket", "cxl_allow",
					   "mem_aes_256_xts", "rapl_dis", "ciphertext_hiding",
					   "page_swap_disable", NULL};
	char path[PATH_BUF];
	struct json_object *obj = child_block(r, snp, "snp", "policy", keys), *v;
	if (!obj)
		return;
	struct cvm_snp_guest_policy *gp = &r->p->snp.policy;
	uint64_t x;
	if (FIELD(obj, "snp.policy", "abi_major", v, path) && read_uint(r, path, v, 0, 255, &x))
		gp->abi_major = (uint8_t)x;
	if (FIELD(obj, "snp.policy", "abi_minor", v, path) && read_uint(r, path, v, 0, 255, &x))
		gp->abi_minor = (uint8_t)x;
	for (size_t i = 0; i < CVM_ARRAY_SIZE(bits); i++)
		if (FIELD(obj, "snp.policy", bits[i].key, v, path))
			read_bool(r, path, v, (bool *)((char *)gp + bits[i].offset));
}

static void read_snp_id_block(struct reader *r, struct json_object *snp)
{
	static const char *const keys[] = {"family_id", "image_id", "guest_svn", "id_key",
					   "author_key", NULL};
	char path[PATH_BUF];
	struct json_object *obj = child_block(r, snp, "snp", "id_block", keys), *v;
	if (!obj)
		return;
	struct cvm_snp_id_block_input *id = &r->p->snp.id_block;
	id->present = true;
	uint64_t x;
	if (FIELD(obj, "snp.id_block", "family_id", v, path))
		read_hex_bytes(r, path, v, id->family_id, 16);
	if (FIELD(obj, "snp.id_block", "image_id", v, path))
		read_hex_bytes(r, path, v, id->image_id, 16);
	if (FIELD(obj, "snp.id_block", "guest_svn", v, path) &&
	    read_uint(r, path, v, 0, UINT32_MAX, &x))
		id->guest_svn = (uint32_t)x;
	if (FIELD(obj, "snp.id_block", "id_key", v, path))
		read_path(r, path, v, &id->id_key_path);
	else
		problem(r, "snp.id_block.id_key",
			"missing: the PEM file of the ECDSA P-384 ID key");
	if (FIELD(obj, "snp.id_block", "author_key", v, path))
		read_path(r, path, v, &id->author_key_path);
}

/* Every bit cvm_sev_feature_name() names: 0-10, 12, 14-16. */
#define NAMED_SEV_FEATURES 0x1d7ffull

/* The names of snp.features as bits (SNPActive always set); false after a problem. */
static bool read_sev_feature_names(struct reader *r, const char *path, struct json_object *v,
				   uint64_t *out)
{
	char got[96], ipath[PATH_BUF + 24];
	if (json_object_get_type(v) != json_type_array) {
		problem(r, path, "expected an array of SEV feature names (\"DebugSwap\", \"SecureTSC\", "
			"...), got %s", describe(v, got, sizeof(got)));
		return false;
	}
	uint64_t bits = CVM_SEV_FEATURE_SNP_ACTIVE;
	bool ok = true;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *item = json_object_array_get_idx(v, i);
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		int bit = json_object_get_type(item) == json_type_string
				  ? cvm_sev_feature_bit(json_object_get_string(item))
				  : -1;
		if (bit < 0) {
			char names[400];
			cvm_sev_features_text(NAMED_SEV_FEATURES, ", ", names, sizeof(names));
			problem(r, ipath, "expected an SEV feature name (%s), got %s", names,
				describe(item, got, sizeof(got)));
			ok = false;
		} else if (bits >> bit & 1 && bit) {
			problem(r, ipath, "%s is named twice", json_object_get_string(item));
			ok = false;
		} else {
			bits |= 1ull << bit;
		}
	}
	*out = bits;
	return ok;
}

/* The CPUID page's rejection rule and the SEV features by name (docs/policy.md). */
static void read_snp_cpuid_features(struct reader *r, struct json_object *snp)
{
	char path[PATH_BUF], fpath[PATH_BUF];
	struct json_object *v;
	struct cvm_policy_snp *s = &r->p->snp;
	if (FIELD(snp, "snp", "cpuid_retry", v, path))
		read_bool(r, path, v, &s->cpuid_retry);
	uint64_t bits;
	if (FIELD(snp, "snp", "features", v, fpath) && read_sev_feature_names(r, fpath, v, &bits)) {
		struct json_object *raw;
		if (json_object_object_get_ex(snp, "guest_features", &raw) &&
		    s->guest_features != bits) {
			char named[160], given[160];
			cvm_sev_features_text(bits, ", ", named, sizeof(named));
			cvm_sev_features_text(s->guest_features, ", ", given, sizeof(given));
			problem(r, fpath,
				"names 0x%" PRIx64 " (%s) but snp.guest_features is 0x%" PRIx64
				" (%s): give one of them, or both alike",
				bits, named, s->guest_features, given);
		} else {
			s->guest_features = bits;
			s->features_named = true;
		}
	}
	uint64_t x;
	if (FIELD(snp, "snp", "tsc_khz", v, path) && read_uint(r, path, v, 1000, UINT32_MAX, &x)) {
		if (s->guest_features & CVM_SEV_FEATURE_SECURE_TSC)
			s->tsc_khz = (uint32_t)x;
		else
			problem(r, path, "the guest's TSC frequency applies to SecureTSC guests only: "
				"add \"SecureTSC\" to snp.features (bit 9 of snp.guest_features)");
	}
}

/* One certificate file of snp.certificates, of either of two names (vcek/vlek, ask/asvk). */
static bool read_cert_file(struct reader *r, struct json_object *obj, const char *a,
			   const char *b, bool *is_b, char **out)
{
	char path[PATH_BUF];
	struct json_object *v;
	bool has_a = json_object_object_get_ex(obj, a, NULL);
	bool has_b = b && json_object_object_get_ex(obj, b, NULL);
	if (has_a && has_b) {
		problem(r, "snp.certificates", "give %s or %s, not both", a, b);
		return false;
	}
	const char *key = has_b ? b : a;
	if (FIELD(obj, "snp.certificates", key, v, path)) {
		read_path(r, path, v, out);
		if (is_b)
			*is_b = has_b;
	}
	return true;
}

/* snp.certificates (docs/policy.md): the endorsement cache, else three files. */
static void read_snp_certs(struct reader *r, struct json_object *snp)
{
	static const char *const keys[] = {"cache", "vcek", "vlek", "ask", "asvk", "ark", NULL};
	char path[PATH_BUF];
	struct json_object *obj = child_block(r, snp, "snp", "certificates", keys), *v;
	if (!obj)
		return;
	struct cvm_policy_snp_certs *c = &r->p->snp.certs;
	c->present = true;
	c->cache = true;
	if (FIELD(obj, "snp.certificates", "cache", v, path))
		read_bool(r, path, v, &c->cache);
	bool asvk = false;
	bool ok = read_cert_file(r, obj, "vcek", "vlek", &c->vlek, &c->key_path);
	ok &= read_cert_file(r, obj, "ask", "asvk", &asvk, &c->intermediate_path);
	ok &= read_cert_file(r, obj, "ark", NULL, NULL, &c->ark_path);
	bool any = c->key_path || c->intermediate_path || c->ark_path;
	if (!ok)
		return;
	if (any && !(c->key_path && c->intermediate_path && c->ark_path))
		problem(r, "snp.certificates", "give all three files: vcek (or vlek), ask (or asvk) "
			"and ark");
	else if (c->intermediate_path && asvk != c->vlek)
		problem(r, "snp.certificates", "a %s is signed by the %s: give %s with %s",
			c->vlek ? "VLEK" : "VCEK", c->vlek ? "ASVK" : "ASK",
			c->vlek ? "vlek" : "vcek", c->vlek ? "asvk" : "ask");
	else if (!any && !c->cache)
		problem(r, "snp.certificates", "nothing to serve: without the cache (cache: false) "
			"give the files vcek (or vlek), ask (or asvk) and ark");
}

static void read_snp(struct reader *r, struct json_object *root)
{
	static const char *const keys[] = {"policy",	     "guest_features", "host_data",
					   "firmware_digest", "id_block",	     "cpuid_retry",
					   "features",	     "tsc_khz",	       "certificates",
					   NULL};
	char path[PATH_BUF];
	struct json_object *obj = child_block(r, root, "", "snp", keys), *v;
	if (!obj)
		return;
	struct cvm_policy_snp *snp = &r->p->snp;
	read_snp_guest_policy(r, obj);
	uint64_t x;
	if (FIELD(obj, "snp", "guest_features", v, path) &&
	    read_u64_hex(r, path, v, UINT64_MAX, &x)) {
		if (x & 1)
			snp->guest_features = x;
		else
			problem(r, path, "bit 0 (SNPActive) must be set, got 0x%" PRIx64, x);
	}
	if (FIELD(obj, "snp", "host_data", v, path))
		snp->has_host_data = read_hex_bytes(r, path, v, snp->host_data, 32);
	if (FIELD(obj, "snp", "firmware_digest", v, path))
		snp->has_firmware_digest = read_hex_bytes(r, path, v, snp->firmware_digest, 48);
	read_snp_id_block(r, obj);
	read_snp_cpuid_features(r, obj);
	read_snp_certs(r, obj);
}

/* ---- tdx RTMR inputs (docs/tdx-rtmr.md) ------------------------------------------------ */

#define MAX_BOOT_ENTRIES 64
#define MAX_DEVICE_PATH 4096
#define MAX_OPTIONAL_DATA 4096
#define MAX_FW_CFG_DATA 65536
#define MAX_DESCRIPTION 256

/* An even number of hex digits ("0x" prefix allowed), 0..max bytes, into a fresh buffer. */
static bool read_hex_var(struct reader *r, const char *path, struct json_object *v, size_t max,
			 uint8_t **out, size_t *out_len)
{
	char got[96];
	if (json_object_get_type(v) == json_type_string) {
		const char *s = json_object_get_string(v);
		size_t len = (size_t)json_object_get_string_len(v);
		if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
			s += 2;
			len -= 2;
		}
		if (len % 2 == 0 && len / 2 <= max && strlen(s) == len) {
			uint8_t *buf = malloc(len / 2 ? len / 2 : 1);
			if (!buf) {
				r->rc = -ENOMEM;
				return false;
			}
			if (cvm_hex_decode(s, buf, len / 2) == 0) {
				free(*out);
				*out = buf;
				*out_len = len / 2;
				return true;
			}
			free(buf);
		}
	}
	problem(r, path, "expected an even number of hex digits (at most %zu bytes), got %s", max,
		describe(v, got, sizeof(got)));
	return false;
}

/* A UEFI device path: nodes of at least 4 bytes, the last one the end node (7f ff 04 00). */
static bool device_path_ok(const uint8_t *dp, size_t len, char *why, size_t n)
{
	size_t off = 0;
	while (off + 4 <= len) {
		uint16_t node = cvm_le16(dp + off + 2);
		if (node < 4 || node > len - off) {
			snprintf(why, n, "node at byte %zu has length %u", off, node);
			return false;
		}
		if (dp[off] == 0x7f && dp[off + 1] == 0xff) {
			if (off + node == len)
				return true;
			snprintf(why, n, "bytes after the end node at byte %zu", off);
			return false;
		}
		off += node;
	}
	snprintf(why, n, "no end node (7f ff 04 00)");
	return false;
}

/* The blob at tdx.<parent>.<key>: "<key>" a path or "<key>_sha384" a digest, not both. */
static void read_tdx_blob(struct reader *r, struct json_object *obj, const char *parent,
			  const char *key, struct cvm_policy_tdx_blob *b)
{
	char path[PATH_BUF], dkey[48];
	struct json_object *v;
	snprintf(dkey, sizeof(dkey), "%s_sha384", key);
	bool file = FIELD(obj, parent, key, v, path) && read_path(r, path, v, &b->path);
	if (FIELD(obj, parent, dkey, v, path)) {
		b->has_sha384 = read_hex_bytes(r, path, v, b->sha384, 48);
		if (file || json_object_object_get_ex(obj, key, NULL))
			problem(r, path, "give %s (the file) or %s (its SHA-384), not both", key,
				dkey);
	}
}

static bool parse_boot_number(const char *s, size_t len, uint16_t *out)
{
	uint64_t x = 0;
	if (len != 4)
		return false;
	for (size_t i = 0; i < 4; i++) {
		int d = cvm_hex_digit(s[i]);
		if (d < 0)
			return false;
		x = x << 4 | (uint64_t)d;
	}
	*out = (uint16_t)x;
	return true;
}

static void read_boot_order(struct reader *r, struct json_object *v, const char *path,
			    struct cvm_policy_tdx_rtmr *t)
{
	char got[96], ipath[PATH_BUF];
	size_t n = json_object_get_type(v) == json_type_array ? json_object_array_length(v) : 0;
	if (json_object_get_type(v) != json_type_array || n == 0 || n > MAX_BOOT_ENTRIES) {
		problem(r, path, "expected an array of 1..%d boot option numbers (\"0001\"), got %s",
			MAX_BOOT_ENTRIES, describe(v, got, sizeof(got)));
		return;
	}
	uint16_t *order = calloc(n, sizeof(*order));
	if (!order) {
		r->rc = -ENOMEM;
		return;
	}
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		snprintf(ipath, sizeof(ipath), "tdx.boot_order[%zu]", i);
		if (json_object_get_type(e) != json_type_string ||
		    !parse_boot_number(json_object_get_string(e),
				       (size_t)json_object_get_string_len(e), &order[i])) {
			problem(r, ipath, "expected 4 hex digits (the #### of Boot####), got %s",
				describe(e, got, sizeof(got)));
			ok = false;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (order[j] == order[i]) {
				problem(r, ipath, "%04X is already at tdx.boot_order[%zu]", order[i], j);
				ok = false;
			}
	}
	if (!ok) {
		free(order);
		return;
	}
	free(t->boot_order);
	t->boot_order = order;
	t->nboot_order = n;
	t->has_boot_order = true;
}

/*
 * A whole EFI_LOAD_OPTION (as an event log's Boot#### variable data), split into the entry's
 * fields: attributes, FilePathListLength, the NUL-terminated UCS-2 description (printable
 * ASCII here), the device path, the optional data.
 */
static bool split_load_option(struct reader *r, const char *path, const uint8_t *b, size_t len,
			      struct cvm_policy_boot_entry *e)
{
	char why[96];
	if (len < 8) {
		problem(r, path, "a load option has at least 8 bytes, got %zu", len);
		return false;
	}
	size_t fpl = cvm_le16(b + 4), o = 6, n = 0;
	while (o + 1 < len && cvm_le16(b + o) != 0) {
		uint16_t c = cvm_le16(b + o);
		if (c < 0x20 || c > 0x7e) {
			problem(r, path, "the description holds U+%04X: only printable ASCII is "
				"supported", c);
			return false;
		}
		o += 2;
		n++;
	}
	if (o + 1 >= len || n > MAX_DESCRIPTION) {
		problem(r, path, "the description is not NUL-terminated within %d characters",
			MAX_DESCRIPTION);
		return false;
	}
	o += 2;
	if (fpl > len - o || !device_path_ok(b + o, fpl, why, sizeof(why))) {
		if (fpl > len - o)
			problem(r, path, "FilePathListLength %zu runs past the %zu bytes", fpl, len);
		else
			problem(r, path, "not a UEFI device path: %s", why);
		return false;
	}
	char *desc = malloc(n + 1);
	uint8_t *dp = malloc(fpl ? fpl : 1);
	uint8_t *opt = len - o - fpl ? malloc(len - o - fpl) : NULL;
	if (!desc || !dp || (len - o - fpl && !opt)) {
		free(desc);
		free(dp);
		free(opt);
		r->rc = -ENOMEM;
		return false;
	}
	for (size_t i = 0; i < n; i++)
		desc[i] = (char)cvm_le16(b + 6 + 2 * i);
	desc[n] = '\0';
	memcpy(dp, b + o, fpl);
	if (opt)
		memcpy(opt, b + o + fpl, len - o - fpl);
	e->attributes = cvm_le32(b);
	e->description = desc;
	e->device_path = dp;
	e->device_path_len = fpl;
	e->optional_data = opt;
	e->optional_data_len = opt ? len - o - fpl : 0;
	return true;
}

static bool read_boot_entry(struct reader *r, struct json_object *v, const char *epath,
			    struct cvm_policy_boot_entry *e)
{
	static const char *const keys[] = {"attributes", "description", "device_path",
					   "optional_data", "load_option", NULL};
	char path[PATH_BUF], got[96], why[96];
	if (json_object_get_type(v) != json_type_object) {
		problem(r, epath, "expected an object {\"description\", \"device_path\", ...}, "
			"got %s", describe(v, got, sizeof(got)));
		return false;
	}
	check_keys(r, v, epath, keys);
	struct json_object *f;
	if (FIELD(v, epath, "load_option", f, path)) {
		if (json_object_object_length(v) != 1) {
			problem(r, path, "give load_option alone, or the fields it holds "
				"(attributes, description, device_path, optional_data)");
			return false;
		}
		uint8_t *raw = NULL;
		size_t raw_len = 0;
		bool ok = read_hex_var(r, path, f, 6 + 2 * (MAX_DESCRIPTION + 1) + MAX_DEVICE_PATH +
						      MAX_OPTIONAL_DATA, &raw, &raw_len) &&
			  split_load_option(r, path, raw, raw_len, e);
		free(raw);
		return ok;
	}
	uint64_t x;
	bool ok = true;
	e->attributes = 1;
	if (FIELD(v, epath, "attributes", f, path)) {
		if (read_u64_hex(r, path, f, UINT32_MAX, &x))
			e->attributes = (uint32_t)x;
		else
			ok = false;
	}
	if (FIELD(v, epath, "description", f, path)) {
		if (read_string(r, path, f, 0, MAX_DESCRIPTION, &e->description)) {
			for (const char *c = e->description; *c; c++)
				if (*c < 0x20 || *c > 0x7e) {
					problem(r, path, "expected printable ASCII (it is "
						"written as UCS-2)");
					ok = false;
					break;
				}
		} else {
			ok = false;
		}
	} else {
		path_key(path, sizeof(path), epath, "description");
		problem(r, path, "missing: the boot option's description (\"UiApp\")");
		ok = false;
	}
	if (FIELD(v, epath, "device_path", f, path)) {
		if (!read_hex_var(r, path, f, MAX_DEVICE_PATH, &e->device_path,
				  &e->device_path_len)) {
			ok = false;
		} else if (!device_path_ok(e->device_path, e->device_path_len, why,
					   sizeof(why))) {
			problem(r, path, "not a UEFI device path: %s", why);
			ok = false;
		}
	} else {
		path_key(path, sizeof(path), epath, "device_path");
		problem(r, path, "missing: the device path bytes in hex, ending with 7fff0400");
		ok = false;
	}
	if (FIELD(v, epath, "optional_data", f, path))
		ok = read_hex_var(r, path, f, MAX_OPTIONAL_DATA, &e->optional_data,
				  &e->optional_data_len) && ok;
	return ok;
}

static void read_boot_entries(struct reader *r, struct json_object *v, const char *path,
			      struct cvm_policy_tdx_rtmr *t)
{
	char got[96], epath[PATH_BUF], shown[64];
	if (json_object_get_type(v) != json_type_object ||
	    json_object_object_length(v) > MAX_BOOT_ENTRIES) {
		problem(r, path, "expected an object of at most %d \"Boot####\" entries, got %s",
			MAX_BOOT_ENTRIES, describe(v, got, sizeof(got)));
		return;
	}
	size_t n = (size_t)json_object_object_length(v);
	struct cvm_policy_boot_entry *entries = calloc(n ? n : 1, sizeof(*entries));
	if (!entries) {
		r->rc = -ENOMEM;
		return;
	}
	size_t k = 0;
	json_object_object_foreach(v, key, val) {
		sanitize(key, strlen(key), shown, sizeof(shown), 40);
		path_key(epath, sizeof(epath), path, shown);
		struct cvm_policy_boot_entry *e = &entries[k++];
		bool named = strncmp(key, "Boot", 4) == 0 &&
			     parse_boot_number(key + 4, strlen(key + 4), &e->number);
		read_boot_entry(r, val, epath, e);
		if (!named) {
			/* reported, and kept out of the boot_order cross-checks */
			problem(r, epath, "expected a key \"Boot####\" (4 hex digits)");
			free(e->description);
			free(e->device_path);
			free(e->optional_data);
			memset(e, 0, sizeof(*e));
			k--;
			continue;
		}
		/* "Boot000a" and "Boot000A" name the same variable */
		for (size_t j = 0; j + 1 < k; j++)
			if (entries[j].number == e->number)
				problem(r, epath, "Boot%04X is given twice", e->number);
	}
	free(t->boot_entries);
	t->boot_entries = entries;
	t->nboot_entries = k;
}

/* The fw_cfg items edk2 >= 202505 measures, in its order, with their fixed sizes (0: any). */
static const struct {
	const char *name;
	size_t size;
} tdx_fw_cfg_items[] = {
	{"etc/extra-pci-roots", 8},     {"BootMenu", 2},
	{"etc/boot-menu-wait", 2},      {"etc/reserved-memory-end", 8},
	{"opt/ovmf/X-PciMmio64Mb", 0},  {"bootorder", 0},
};

static void read_fw_cfg(struct reader *r, struct json_object *v, const char *path,
			struct cvm_policy_tdx_rtmr *t)
{
	char got[96], ipath[PATH_BUF], expected[200] = "";
	if (json_object_get_type(v) != json_type_object) {
		problem(r, path, "expected an object {\"BootMenu\": \"0000\", ...}, got %s",
			describe(v, got, sizeof(got)));
		return;
	}
	for (size_t i = 0; i < CVM_ARRAY_SIZE(tdx_fw_cfg_items); i++) {
		size_t used = strlen(expected);
		snprintf(expected + used, sizeof(expected) - used, "%s%s", i ? ", " : "",
			 tdx_fw_cfg_items[i].name);
	}
	json_object_object_foreach(v, key, val) {
		(void)val;
		bool known = false;
		for (size_t i = 0; i < CVM_ARRAY_SIZE(tdx_fw_cfg_items) && !known; i++)
			known = strcmp(key, tdx_fw_cfg_items[i].name) == 0;
		if (!known) {
			char shown[64];
			sanitize(key, strlen(key), shown, sizeof(shown), 40);
			path_key(ipath, sizeof(ipath), path, shown);
			problem(r, ipath, "not an item edk2 measures (expected one of: %s)",
				expected);
		}
	}
	struct cvm_policy_fw_cfg_item *items = calloc(CVM_ARRAY_SIZE(tdx_fw_cfg_items),
						      sizeof(*items));
	if (!items) {
		r->rc = -ENOMEM;
		return;
	}
	size_t n = 0;
	for (size_t i = 0; i < CVM_ARRAY_SIZE(tdx_fw_cfg_items); i++) {
		struct json_object *d;
		if (!FIELD(v, path, tdx_fw_cfg_items[i].name, d, ipath))
			continue;
		struct cvm_policy_fw_cfg_item *it = &items[n];
		if (!read_hex_var(r, ipath, d, MAX_FW_CFG_DATA, &it->data, &it->len))
			continue;
		size_t want = tdx_fw_cfg_items[i].size;
		if ((want && it->len != want) || it->len == 0) {
			/* edk2 skips an item of another size, or an empty one: it is not measured */
			if (want)
				problem(r, ipath, "expected %zu bytes (edk2 skips an item of another "
					"size), got %zu", want, it->len);
			else
				problem(r, ipath, "expected at least one byte (edk2 skips an empty "
					"item: leave it out)");
			free(it->data);
			it->data = NULL;
			continue;
		}
		if (!(it->name = strdup(tdx_fw_cfg_items[i].name))) {
			r->rc = -ENOMEM;
			free(it->data);
			it->data = NULL;
			continue;
		}
		n++;
	}
	free(t->fw_cfg);
	t->fw_cfg = items;
	t->nfw_cfg = n;
	t->has_fw_cfg = true;
}

static void check_tdx_boot(struct reader *r, struct cvm_policy_tdx_rtmr *t, bool has_order,
			   bool has_entries)
{
	if (has_entries && !has_order) {
		problem(r, "tdx.boot_entries", "needs tdx.boot_order (the firmware measures the "
			"entries BootOrder lists, in its order)");
		return;
	}
	if (!t->has_boot_order)
		return;
	for (size_t i = 0; i < t->nboot_order; i++) {
		bool found = false;
		for (size_t j = 0; j < t->nboot_entries && !found; j++)
			found = t->boot_entries[j].number == t->boot_order[i];
		if (!found) {
			char path[PATH_BUF];
			snprintf(path, sizeof(path), "tdx.boot_order[%zu]", i);
			problem(r, path, "Boot%04X has no entry in tdx.boot_entries", t->boot_order[i]);
		}
	}
	for (size_t j = 0; j < t->nboot_entries; j++) {
		bool found = false;
		for (size_t i = 0; i < t->nboot_order && !found; i++)
			found = t->boot_entries[j].number == t->boot_order[i];
		if (!found) {
			char path[PATH_BUF];
			snprintf(path, sizeof(path), "tdx.boot_entries.Boot%04X",
				 t->boot_entries[j].number);
			problem(r, path, "not in tdx.boot_order, so the firmware would not measure "
				"it");
		}
	}
}

static void read_tdx_rtmr(struct reader *r, struct json_object *obj)
{
	static const char *const gens[] = {"<=202408", "202411..202502", ">=202505", NULL};
	static const char *const acpi_keys[] = {"table_loader", "rsdp", "tables",
						"table_loader_sha384", "rsdp_sha384",
						"tables_sha384", NULL};
	static const char *const sb[] = {"auto", "unsupported", "disabled", "enabled", NULL};
	char path[PATH_BUF];
	struct json_object *v;
	struct cvm_policy_tdx_rtmr *t = &r->p->tdx.rtmr;
	int e;
	if (FIELD(obj, "tdx", "firmware_generation", v, path) && read_enum(r, path, v, gens, &e)) {
		t->has_fw_gen = true;
		t->fw_gen = (enum cvm_tdx_fw_gen)e;
	}
	struct json_object *acpi = child_block(r, obj, "tdx", "acpi", acpi_keys);
	if (acpi) {
		for (size_t i = 0; i < 3; i++)
			read_tdx_blob(r, acpi, "tdx.acpi", acpi_keys[i], &t->acpi[i]);
	}
	bool file = FIELD(obj, "tdx", "varstore", v, path) && read_path(r, path, v, &t->cfv.path);
	if (FIELD(obj, "tdx", "cfv_sha384", v, path)) {
		t->cfv.has_sha384 = read_hex_bytes(r, path, v, t->cfv.sha384, 48);
		if (file || json_object_object_get_ex(obj, "varstore", NULL))
			problem(r, path, "give varstore (the file) or cfv_sha384 (its SHA-384), "
				"not both");
	}
	if (FIELD(obj, "tdx", "secure_boot", v, path) && read_enum(r, path, v, sb, &e))
		t->secure_boot = (enum cvm_tdx_secure_boot)e;
	bool has_order = FIELD(obj, "tdx", "boot_order", v, path);
	if (has_order)
		read_boot_order(r, v, path, t);
	bool has_entries = FIELD(obj, "tdx", "boot_entries", v, path);
	if (has_entries)
		read_boot_entries(r, v, path, t);
	check_tdx_boot(r, t, has_order, has_entries);
	bool late = t->has_fw_gen && t->fw_gen == CVM_TDX_FW_EDK2_202505;
	if (FIELD(obj, "tdx", "smbios_sha384", v, path)) {
		t->has_smbios_sha384 = read_hex_bytes(r, path, v, t->smbios_sha384, 48);
		if (!late)
			problem(r, path, "only edk2 >= 202505 measures SMBIOS: needs "
				"\"firmware_generation\": \">=202505\"");
	}
	if (FIELD(obj, "tdx", "fw_cfg", v, path)) {
		read_fw_cfg(r, v, path, t);
		if (!late)
			problem(r, path, "only edk2 >= 202505 measures fw_cfg items: needs "
				"\"firmware_generation\": \">=202505\"");
	}
}

static void read_tdx(struct reader *r, struct json_object *root)
{
	static const char *const keys[] = {"attributes", "xfam", "mrconfigid", "mrowner",
					   "mrownerconfig", "measure_order", "page_aug",
					   "firmware_generation", "acpi", "cfv_sha384", "varstore",
					   "secure_boot", "boot_order", "boot_entries",
					   "smbios_sha384", "fw_cfg", NULL};
	static const char *const attr_keys[] = {"debug", "sept_ve_disable", "pks", "perfmon",
						NULL};
	static const char *const orders[] = {"single-pass", "two-pass", NULL};
	static const char *const page_aug[] = {"ignore", "honour", NULL};
	char path[PATH_BUF];
	struct json_object *obj = child_block(r, root, "", "tdx", keys), *v;
	if (!obj)
		return;
	struct cvm_policy_tdx *t = &r->p->tdx;
	struct json_object *attrs = child_block(r, obj, "tdx", "attributes", attr_keys);
	if (attrs) {
		bool *const targets[] = {&t->debug, &t->sept_ve_disable, &t->pks, &t->perfmon};
		for (size_t i = 0; i < CVM_ARRAY_SIZE(targets); i++)
			if (FIELD(attrs, "tdx.attributes", attr_keys[i], v, path))
				read_bool(r, path, v, targets[i]);
	}
	uint64_t x;
	if (FIELD(obj, "tdx", "xfam", v, path) && read_u64_hex(r, path, v, UINT64_MAX, &x)) {
		/* XFAM[1:0] (x87, SSE) are fixed to 1 by the TDX module. */
		if ((x & 3) == 3)
			t->xfam = x;
		else
			problem(r, path, "bits 0 (x87) and 1 (SSE) must be set, got 0x%" PRIx64, x);
	}
	if (FIELD(obj, "tdx", "mrconfigid", v, path))
		read_hex_bytes(r, path, v, t->mrconfigid, 48);
	if (FIELD(obj, "tdx", "mrowner", v, path))
		read_hex_bytes(r, path, v, t->mrowner, 48);
	if (FIELD(obj, "tdx", "mrownerconfig", v, path))
		read_hex_bytes(r, path, v, t->mrownerconfig, 48);
	int e;
	if (FIELD(obj, "tdx", "measure_order", v, path) && read_enum(r, path, v, orders, &e))
		t->measure_order = e ? CVM_TDX_ORDER_TWO_PASS : CVM_TDX_ORDER_SINGLE_PASS;
	if (FIELD(obj, "tdx", "page_aug", v, path) && read_enum(r, path, v, page_aug, &e))
		t->honour_page_aug = e == 1;
	read_tdx_rtmr(r, obj);
}

static bool read_prefault_range(struct reader *r, struct json_object *item, const char *ipath,
				struct cvm_prefault_range *out)
{
	static const char *const keys[] = {"gpa", "size", NULL};
	char path[PATH_BUF];
	struct json_object *v;
	if (json_object_get_type(item) != json_type_object) {
		char got[96];
		problem(r, ipath, "expected an object {\"gpa\": ..., \"size\": ...}, got %s",
			describe(item, got, sizeof(got)));
		return false;
	}
	check_keys(r, item, ipath, keys);
	bool ok = true;
	if (FIELD(item, ipath, "gpa", v, path)) {
		if (!read_size(r, path, v, &out->gpa))
			ok = false;
		else if (out->gpa % CVM_PAGE_SIZE) {
			problem(r, path,
				"expected a multiple of 4096 (page aligned), got 0x%" PRIx64,
				out->gpa);
			ok = false;
		}
	} else {
		path_key(path, sizeof(path), ipath, "gpa");
		problem(r, path, "missing: the guest-physical address where the range starts");
		ok = false;
	}
	if (FIELD(item, ipath, "size", v, path)) {
		if (!read_size(r, path, v, &out->size)) {
			ok = false;
		} else if (out->size == 0 || out->size % CVM_PAGE_SIZE) {
			problem(r, path, "expected a non-zero multiple of 4096, got 0x%" PRIx64,
				out->size);
			ok = false;
		}
	} else {
		path_key(path, sizeof(path), ipath, "size");
		problem(r, path, "missing: the length of the range");
		ok = false;
	}
	if (ok && !cvm_range_ok(out->gpa, out->size, MAX_GPA_END)) {
		problem(r, ipath, "the range [0x%" PRIx64 ", +0x%" PRIx64 ") goes beyond the "
			"52-bit guest-physical address space", out->gpa, out->size);
		ok = false;
	}
	return ok;
}

/* "RAM [0, 0x80000000)" or "RAM [0, 0xc0000000) and [0x100000000, 0x140000000)". */
static void guest_ram_text(uint64_t mem, char *out, size_t n)
{
	uint64_t low = mem < CVM_GUEST_LOW_RAM_END ? mem : CVM_GUEST_LOW_RAM_END;
	if (mem == low)
		snprintf(out, n, "memory.size 0x%" PRIx64 ": RAM [0, 0x%" PRIx64 ")", mem, low);
	else
		snprintf(out, n, "memory.size 0x%" PRIx64 ": RAM [0, 0x%" PRIx64 ") and [0x%" PRIx64
			 ", 0x%" PRIx64 ")", mem, low, (uint64_t)CVM_GUEST_HIGH_RAM_START,
			 (uint64_t)CVM_GUEST_HIGH_RAM_START + (mem - low));
}

static void read_prefault(struct reader *r, struct json_object *root)
{
	static const char *const keys[] = {"mode", "ranges", NULL};
	static const char *const modes[] = {"off", "best-effort", "required", NULL};
	char path[PATH_BUF];
	struct json_object *obj = child_block(r, root, "", "prefault", keys), *v;
	if (!obj)
		return;
	struct cvm_policy *p = r->p;
	int e;
	if (FIELD(obj, "prefault", "mode", v, path) && read_enum(r, path, v, modes, &e))
		p->prefault.mode = (enum cvm_prefault_mode)e;
	if (!FIELD(obj, "prefault", "ranges", v, path))
		return;
	if (json_object_get_type(v) != json_type_array) {
		char got[96];
		problem(r, path, "expected an array of {\"gpa\", \"size\"} objects, got %s",
			describe(v, got, sizeof(got)));
		return;
	}
	size_t n = json_object_array_length(v);
	if (n > MAX_PREFAULT_RANGES) {
		problem(r, path, "expected at most %d ranges, got %zu", MAX_PREFAULT_RANGES, n);
		return;
	}
	if (n == 0)
		return;
	struct cvm_prefault_range *ranges = calloc(n, sizeof(*ranges));
	bool *valid = calloc(n, sizeof(*valid));
	if (!ranges || !valid) {
		free(ranges);
		free(valid);
		r->rc = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char ipath[PATH_BUF];
		snprintf(ipath, sizeof(ipath), "prefault.ranges[%zu]", i);
		valid[i] = read_prefault_range(r, json_object_array_get_idx(v, i), ipath,
					       &ranges[i]);
		if (valid[i] && !cvm_policy_range_in_ram(p->memory_size, ranges[i].gpa,
							 ranges[i].size)) {
			char ram[96];
			guest_ram_text(p->memory_size, ram, sizeof(ram));
			problem(r, ipath, "[0x%" PRIx64 ", 0x%" PRIx64 ") is not inside guest RAM "
				"(%s); pre-fault only memory the guest has", ranges[i].gpa,
				ranges[i].gpa + ranges[i].size, ram);
			valid[i] = false;
		}
		for (size_t j = 0; valid[i] && j < i; j++) {
			if (!valid[j] || ranges[i].gpa >= ranges[j].gpa + ranges[j].size ||
			    ranges[j].gpa >= ranges[i].gpa + ranges[i].size)
				continue;
			problem(r, ipath,
				"[0x%" PRIx64 ", 0x%" PRIx64 ") overlaps prefault.ranges[%zu] "
				"[0x%" PRIx64 ", 0x%" PRIx64 ")", ranges[i].gpa,
				ranges[i].gpa + ranges[i].size, j, ranges[j].gpa,
				ranges[j].gpa + ranges[j].size);
			break;
		}
	}
	free(valid);
	free(p->prefault.ranges);
	p->prefault.ranges = ranges;
	p->prefault.nranges = n;
}

/* Rules that tie several fields together. */
static void check_cross_rules(struct reader *r, struct json_object *root, bool tee_valid)
{
	struct cvm_policy *p = r->p;
	if (tee_valid) {
		static const struct {
			const char *block;
			enum cvm_tee tee;
		} blocks[] = {{"snp", CVM_TEE_SNP}, {"tdx", CVM_TEE_TDX}};
		for (size_t i = 0; i < CVM_ARRAY_SIZE(blocks); i++) {
			if (!json_object_object_get_ex(root, blocks[i].block, NULL) ||
			    p->tee == blocks[i].tee)
				continue;
			problem(r, blocks[i].block, "this block needs \"tee\": \"%s\", but tee is "
				"\"%s\"", blocks[i].block, cvm_tee_name(p->tee));
		}
	}
	if (p->tee == CVM_TEE_TDX && (p->vmm == CVM_VMM_EC2 || p->vmm == CVM_VMM_GCE))
		problem(r, "vmm", "\"%s\" is an SEV-SNP launch profile; a TD is measured as QEMU "
			"and cvmkit launch it (QEMU's TD HOB), so use \"qemu\" or \"cvmkit\" with "
			"tee \"tdx\"", cvm_vmm_name(p->vmm));
	if (p->snp.policy.debug && !p->allow_debug)
		problem(r, "snp.policy.debug", "a debug guest (its memory readable by the host) "
			"is refused unless the policy also says \"allow_debug\": true");
	if (p->tdx.debug && !p->allow_debug)
		problem(r, "tdx.attributes.debug", "a debug TD (its memory readable by the host) "
			"is refused unless the policy also says \"allow_debug\": true");
}

/* ---- the "verify" section: verifier rules (docs/policy.md) ---- */

/* An array of distinct names, each mapped to a bit by parse (0: unknown name). */
static bool read_name_list(struct reader *r, const char *path, struct json_object *v,
			   uint64_t (*parse)(const char *), const char *expected, uint64_t *out)
{
	char got[96], ipath[PATH_BUF + 24];
	if (json_object_get_type(v) != json_type_array) {
		problem(r, path, "expected an array of names (%s), got %s", expected,
			describe(v, got, sizeof(got)));
		return false;
	}
	uint64_t bits = 0;
	bool ok = true;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *item = json_object_array_get_idx(v, i);
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		const char *s = json_object_get_type(item) == json_type_string
					? json_object_get_string(item) : NULL;
		uint64_t bit = s && strlen(s) == (size_t)json_object_get_string_len(item)
				       ? parse(s) : 0;
		if (!bit) {
			problem(r, ipath, "expected one of %s, got %s", expected,
				describe(item, got, sizeof(got)));
			ok = false;
		} else if (bits & bit) {
			problem(r, ipath, "%s is listed twice", s);
			ok = false;
		}
		bits |= bit;
	}
	if (ok)
		*out = bits;
	return ok;
}

static uint64_t allow_bit(const char *name)
{
	return cvm_policy_verify_allow_parse(name);
}

/* An array of up to CVM_VERIFY_MAX_KEYS distinct 48-byte hex digests. */
static void read_digest_list(struct reader *r, const char *path, struct json_object *v,
			     struct cvm_verify_digests *out)
{
	char got[96], ipath[PATH_BUF + 24];
	if (json_object_get_type(v) != json_type_array) {
		problem(r, path, "expected an array of SHA-384 digests (96 hex digits each), got %s",
			describe(v, got, sizeof(got)));
		return;
	}
	size_t n = json_object_array_length(v);
	if (n == 0 || n > CVM_VERIFY_MAX_KEYS) {
		problem(r, path, "expected 1..%u digests, got %zu", CVM_VERIFY_MAX_KEYS, n);
		return;
	}
	struct cvm_verify_digests d = {0};
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (!read_hex_bytes(r, ipath, json_object_array_get_idx(v, i), d.digest[i], 48)) {
			ok = false;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (memcmp(d.digest[i], d.digest[j], 48) == 0) {
				problem(r, ipath, "the same digest as entry %zu", j);
				ok = false;
			}
	}
	d.count = n;
	if (ok)
		*out = d;
}

/* "MAJOR.MINOR" (parts = 2) or "MAJOR.MINOR.BUILD" (parts = 3), each 0..255. */
static bool read_version(struct reader *r, const char *path, struct json_object *v, int parts,
			 uint8_t out[3])
{
	const char *s = json_object_get_type(v) == json_type_string ? json_object_get_string(v)
								    : NULL;
	unsigned x[3] = {0, 0, 0};
	int used = 0, n = 0;
	if (s && strlen(s) == (size_t)json_object_get_string_len(v) && s[0] >= '0' && s[0] <= '9')
		n = parts == 2 ? sscanf(s, "%3u.%3u%n", &x[0], &x[1], &used)
			       : sscanf(s, "%3u.%3u.%3u%n", &x[0], &x[1], &x[2], &used);
	if (n == parts && s[used] == '\0' && x[0] <= 255 && x[1] <= 255 && x[2] <= 255 &&
	    !strchr(s, '+') && !strchr(s, '-') && !strchr(s, ' ')) {
		for (int i = 0; i < 3; i++)
			out[i] = (uint8_t)x[i];
		return true;
	}
	char got[96];
	problem(r, path, "expected \"%s\" with numbers 0..255, got %s",
		parts == 2 ? "MAJOR.MINOR" : "MAJOR.MINOR.BUILD", describe(v, got, sizeof(got)));
	return false;
}

/* {"bootloader": N, "tee": N, "snp": N, "microcode": N, "fmc": N}; absent parts are 0. */
static void read_tcb_min(struct reader *r, struct json_object *obj, const char *parent,
			 const char *key, struct cvm_verify_tcb_min *out)
{
	static const char *const keys[] = {"bootloader", "tee", "snp", "microcode", "fmc", NULL};
	char bpath[PATH_BUF], path[PATH_BUF];
	struct json_object *blk = child_block(r, obj, parent, key, keys), *v;
	if (!blk)
		return;
	path_key(bpath, sizeof(bpath), parent, key);
	struct cvm_verify_tcb_min t = {.present = true};
	uint8_t *const parts[] = {&t.bootloader, &t.tee, &t.snp, &t.microcode, &t.fmc};
	uint64_t x;
	for (size_t i = 0; i < CVM_ARRAY_SIZE(parts); i++)
		if (FIELD(blk, bpath, keys[i], v, path) && read_uint(r, path, v, 0, 255, &x))
			*parts[i] = (uint8_t)x;
	*out = t;
}

static void read_verify_snp(struct reader *r, struct json_object *vfy)
{
	static const char *const keys[] = {
		"refuse_smt", "require_committed", "vmpl", "min_report_version", "min_abi", "min_firmware",
		"require_policy", "platform_info_mask", "min_guest_svn", "min_reported_tcb",
		"min_current_tcb", "min_committed_tcb", "min_launch_tcb", "family_id", "image_id",
		"report_id", "report_id_ma", "chip_id", "require_author_key", "trusted_id_keys",
		"trusted_author_keys", "min_launch_mit_vector", "min_current_mit_vector", NULL};
	const char *bp = "verify.snp";
	char path[PATH_BUF], ipath[PATH_BUF + 24], got[96];
	struct json_object *obj = child_block(r, vfy, "verify", "snp", keys), *v;
	if (!obj)
		return;
	struct cvm_verify_rules *vr = &r->p->verify;
	uint64_t x;
	uint8_t ver[3];
	if (FIELD(obj, bp, "refuse_smt", v, path))
		read_bool(r, path, v, &vr->refuse_smt);
	if (FIELD(obj, bp, "require_committed", v, path))
		read_bool(r, path, v, &vr->require_committed);
	if (FIELD(obj, bp, "vmpl", v, path)) {
		uint32_t mask = 0;
		bool ok = json_object_get_type(v) == json_type_array &&
			  json_object_array_length(v) > 0;
		if (!ok)
			problem(r, path, "expected a non-empty array of VMPLs 0..3, got %s",
				describe(v, got, sizeof(got)));
		for (size_t i = 0; ok && i < json_object_array_length(v); i++) {
			snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
			if (!read_uint(r, ipath, json_object_array_get_idx(v, i), 0, 3, &x))
				ok = false;
			else if (mask & (1u << x))
				problem(r, ipath, "VMPL %u is listed twice", (unsigned)x);
			else
				mask |= 1u << x;
		}
		if (ok)
			vr->vmpl_mask = mask;
	}
	if (FIELD(obj, bp, "min_report_version", v, path) && read_uint(r, path, v, 2, 5, &x))
		vr->min_report_version = (uint32_t)x;
	if (FIELD(obj, bp, "min_abi", v, path) && read_version(r, path, v, 2, ver)) {
		vr->has_min_abi = true;
		vr->min_abi_major = ver[0];
		vr->min_abi_minor = ver[1];
	}
	if (FIELD(obj, bp, "min_firmware", v, path) && read_version(r, path, v, 3, ver)) {
		vr->has_min_firmware = true;
		vr->min_fw_major = ver[0];
		vr->min_fw_minor = ver[1];
		vr->min_fw_build = ver[2];
	}
	if (FIELD(obj, bp, "require_policy", v, path))
		read_name_list(r, path, v, cvm_policy_verify_bit_parse,
			       "\"single_socket\", \"mem_aes_256_xts\", \"rapl_dis\", "
			       "\"ciphertext_hiding\", \"page_swap_disable\"",
			       &vr->require_policy);
	if (FIELD(obj, bp, "platform_info_mask", v, path) &&
	    read_u64_hex(r, path, v, UINT64_MAX, &vr->platform_info_mask))
		vr->has_platform_info_mask = true;
	if (FIELD(obj, bp, "min_guest_svn", v, path) && read_uint(r, path, v, 0, UINT32_MAX, &x))
		vr->min_guest_svn = (uint32_t)x;
	if (FIELD(obj, bp, "min_launch_mit_vector", v, path))
		read_u64_hex(r, path, v, UINT64_MAX, &vr->min_launch_mit_vector);
	if (FIELD(obj, bp, "min_current_mit_vector", v, path))
		read_u64_hex(r, path, v, UINT64_MAX, &vr->min_current_mit_vector);
	read_tcb_min(r, obj, bp, "min_reported_tcb", &vr->min_reported_tcb);
	read_tcb_min(r, obj, bp, "min_current_tcb", &vr->min_current_tcb);
	read_tcb_min(r, obj, bp, "min_committed_tcb", &vr->min_committed_tcb);
	read_tcb_min(r, obj, bp, "min_launch_tcb", &vr->min_launch_tcb);
	static const struct {
		const char *key;
		size_t has, val, n;
	} pins[] = {
		{"family_id", offsetof(struct cvm_verify_rules, has_family_id),
		 offsetof(struct cvm_verify_rules, family_id), 16},
		{"image_id", offsetof(struct cvm_verify_rules, has_image_id),
		 offsetof(struct cvm_verify_rules, image_id), 16},
		{"report_id", offsetof(struct cvm_verify_rules, has_report_id),
		 offsetof(struct cvm_verify_rules, report_id), 32},
		{"report_id_ma", offsetof(struct cvm_verify_rules, has_report_id_ma),
		 offsetof(struct cvm_verify_rules, report_id_ma), 32},
		{"chip_id", offsetof(struct cvm_verify_rules, has_chip_id),
		 offsetof(struct cvm_verify_rules, chip_id), 64},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(pins); i++)
		if (FIELD(obj, bp, pins[i].key, v, path))
			*(bool *)((char *)vr + pins[i].has) =
				read_hex_bytes(r, path, v, (uint8_t *)vr + pins[i].val, pins[i].n);
	if (FIELD(obj, bp, "require_author_key", v, path))
		read_bool(r, path, v, &vr->require_author_key);
	if (FIELD(obj, bp, "trusted_id_keys", v, path))
		read_digest_list(r, path, v, &vr->trusted_id_keys);
	if (FIELD(obj, bp, "trusted_author_keys", v, path))
		read_digest_list(r, path, v, &vr->trusted_author_keys);
	if (vr->require_author_key && !vr->trusted_author_keys.count)
		problem(r, "verify.snp.require_author_key",
			"an author key is required but verify.snp.trusted_author_keys lists none");
}

static void read_verify_tdx(struct reader *r, struct json_object *vfy)
{
	static const char *const keys[] = {"require_sept_ve_disable", "mrseam", "mrtd",
					   "min_qe_svn", "min_pce_svn", "qe_vendor_id",
					   "min_tee_tcb_svn", "min_tee_tcb_svn2", NULL};
	const char *bp = "verify.tdx";
	char path[PATH_BUF];
	struct json_object *obj = child_block(r, vfy, "verify", "tdx", keys), *v;
	if (!obj)
		return;
	struct cvm_verify_rules *vr = &r->p->verify;
	uint64_t x;
	if (FIELD(obj, bp, "require_sept_ve_disable", v, path))
		read_bool(r, path, v, &vr->require_sept_ve_disable);
	if (FIELD(obj, bp, "mrseam", v, path))
		read_digest_list(r, path, v, &vr->mrseam);
	if (FIELD(obj, bp, "mrtd", v, path))
		read_digest_list(r, path, v, &vr->mrtd);
	if (FIELD(obj, bp, "min_qe_svn", v, path) && read_uint(r, path, v, 0, UINT16_MAX, &x)) {
		vr->has_min_qe_svn = true;
		vr->min_qe_svn = (uint16_t)x;
	}
	if (FIELD(obj, bp, "min_pce_svn", v, path) && read_uint(r, path, v, 0, UINT16_MAX, &x)) {
		vr->has_min_pce_svn = true;
		vr->min_pce_svn = (uint16_t)x;
	}
	if (FIELD(obj, bp, "qe_vendor_id", v, path))
		vr->has_qe_vendor_id = read_hex_bytes(r, path, v, vr->qe_vendor_id, 16);
	if (FIELD(obj, bp, "min_tee_tcb_svn", v, path))
		vr->has_min_tee_tcb_svn = read_hex_bytes(r, path, v, vr->min_tee_tcb_svn, 16);
	if (FIELD(obj, bp, "min_tee_tcb_svn2", v, path))
		vr->has_min_tee_tcb_svn2 = read_hex_bytes(r, path, v, vr->min_tee_tcb_svn2, 16);
}

static void read_verify(struct reader *r, struct json_object *root, bool tee_valid)
{
	static const char *const keys[] = {"allow", "snp", "tdx", NULL};
	char path[PATH_BUF];
	struct json_object *obj = child_block(r, root, "", "verify", keys), *v;
	if (!obj)
		return;
	struct cvm_verify_rules *vr = &r->p->verify;
	r->p->has_verify = true;
	uint64_t bits;
	if (FIELD(obj, "verify", "allow", v, path) &&
	    read_name_list(r, path, v, allow_bit,
			   "\"debug\", \"migrate_ma\", \"cxl_allow\", \"td_attributes_reserved\"",
			   &bits))
		vr->allow = (uint32_t)bits;
	read_verify_snp(r, obj);
	read_verify_tdx(r, obj);
	static const struct {
		const char *block;
		enum cvm_tee tee;
	} blocks[] = {{"snp", CVM_TEE_SNP}, {"tdx", CVM_TEE_TDX}};
	for (size_t i = 0; tee_valid && i < CVM_ARRAY_SIZE(blocks); i++) {
		if (!json_object_object_get_ex(obj, blocks[i].block, NULL) ||
		    r->p->tee == blocks[i].tee)
			continue;
		path_key(path, sizeof(path), "verify", blocks[i].block);
		problem(r, path, "these rules need \"tee\": \"%s\", but tee is \"%s\"",
			blocks[i].block, cvm_tee_name(r->p->tee));
	}
}

int cvm_policy_read_tree(struct json_object *root, struct cvm_policy *p,
			 struct cvm_policy_problems *problems)
{
	static const char *const keys[] = {"version", "name", "tee", "vmm", "cpus", "memory",
					   "firmware", "boot", "snp", "tdx", "prefault",
					   "allow_debug", "verify", NULL};
	static const char *const tees[] = {"none", "snp", "tdx", NULL};
	static const char *const vmms[] = {"qemu", "ec2", "gce", "cvmkit", NULL};
	static const enum cvm_tee tee_values[] = {CVM_TEE_NONE, CVM_TEE_SNP, CVM_TEE_TDX};
	static const enum cvm_vmm vmm_values[] = {CVM_VMM_QEMU, CVM_VMM_EC2, CVM_VMM_GCE,
						  CVM_VMM_CVMKIT};
	struct reader r = {problems, p, 0};
	size_t before = problems->count;
	char path[PATH_BUF], got[96];
	struct json_object *v;
	if (json_object_get_type(root) != json_type_object) {
		problem(&r, "", "expected the policy to be an object (a map)");
		return r.rc ? r.rc : -EINVAL;
	}
	check_keys(&r, root, "", keys);

	uint64_t x;
	if (!FIELD(root, "", "version", v, path))
		problem(&r, "version", "missing: expected 1");
	else if (!as_u64(v, &x) || x != 1)
		problem(&r, path, "expected 1 (the only version this cvmkit reads), got %s",
			describe(v, got, sizeof(got)));
	if (FIELD(root, "", "name", v, path))
		read_string(&r, path, v, 1, MAX_NAME_LEN, &p->name);
	int e;
	bool tee_valid = false;
	if (!FIELD(root, "", "tee", v, path))
		problem(&r, "tee", "missing: expected \"snp\", \"tdx\" or \"none\"");
	else if ((tee_valid = read_enum(&r, path, v, tees, &e)))
		p->tee = tee_values[e];
	if (FIELD(root, "", "vmm", v, path) && read_enum(&r, path, v, vmms, &e))
		p->vmm = vmm_values[e];
	if (FIELD(root, "", "allow_debug", v, path))
		read_bool(&r, path, v, &p->allow_debug);

	read_cpus(&r, root);
	read_memory(&r, root);
	read_firmware(&r, root);
	read_boot(&r, root);
	read_snp(&r, root);
	read_tdx(&r, root);
	read_prefault(&r, root);
	read_verify(&r, root, tee_valid);
	check_cross_rules(&r, root, tee_valid);

	if (r.rc)
		return r.rc;
	return problems->count > before ? -EINVAL : 0;
}
