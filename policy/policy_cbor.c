/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CBOR <-> the json-c tree the policy reader and writer share.
 *
 * Decoding uses libcbor's streaming decoder one item at a time, so declared lengths never turn
 * into allocations: containers grow only as items actually arrive, nesting is bounded, and the
 * decoder itself never reads past the buffer.  Only what JSON can say is accepted (maps with
 * text keys, arrays, text, integers, floats, booleans, null); definite lengths only.
 */
#include "policy/policy_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include <cvmkit/util.h>

struct frame {
	struct json_object *container; /* borrowed: owned by its parent (or the root) */
	bool is_map;
	uint64_t remaining; /* arrays: items; maps: pairs */
	uint64_t index;     /* arrays: index of the next item */
	char *key;          /* maps: the key whose value comes next, or NULL */
	char *last_key;     /* maps: for paths in messages */
};

struct builder {
	struct json_object *root;
	bool root_done;
	struct frame stack[CVM_POLICY_MAX_DEPTH];
	size_t depth;
	size_t item_offset; /* offset of the item being decoded, for messages */
	int rc;             /* first failure: -EINVAL (message in msg) or -ENOMEM */
	char msg[200];
};

/* The key path of the current position ("snp.policy", "prefault.ranges[2]"). */
static void builder_path(const struct builder *b, char *out, size_t n)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < b->depth && used < n; i++) {
		/* Outer frames already placed the open container: their last key/index names it. */
		const struct frame *f = &b->stack[i];
		bool innermost = i + 1 == b->depth;
		int w;
		if (f->is_map) {
			const char *k = innermost ? f->key : f->last_key;
			if (!k)
				break;
			char shown[41];
			size_t j = 0;
			for (; k[j] && j < sizeof(shown) - 1; j++)
				shown[j] = (k[j] >= 0x20 && k[j] < 0x7f) ? k[j] : '?';
			shown[j] = '\0';
			w = snprintf(out + used, n - used, "%s%s", used ? "." : "", shown);
		} else {
			w = snprintf(out + used, n - used, "[%" PRIu64 "]",
				     innermost ? f->index : f->index - 1);
		}
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static void builder_fail(struct builder *b, const char *what)
{
	if (b->rc)
		return;
	b->rc = -EINVAL;
	char path[160];
	builder_path(b, path, sizeof(path));
	if (path[0])
		snprintf(b->msg, sizeof(b->msg), "invalid CBOR at byte %zu (in %s): %s",
			 b->item_offset, path, what);
	else
		snprintf(b->msg, sizeof(b->msg), "invalid CBOR at byte %zu: %s", b->item_offset,
			 what);
}

/* Pops every finished container. */
static void builder_close(struct builder *b)
{
	while (b->depth > 0) {
		struct frame *f = &b->stack[b->depth - 1];
		if (f->remaining > 0 || f->key)
			return;
		free(f->last_key);
		f->last_key = NULL;
		b->depth--;
	}
	b->root_done = b->root != NULL;
}

/*
 * Places v (owned; NULL is json-c's null) at the current position; containers are placed before
 * their items.
 */
static bool builder_place(struct builder *b, struct json_object *v)
{
	if (b->depth == 0) {
		if (b->root || json_object_get_type(v) != json_type_object) {
			json_object_put(v);
			builder_fail(b, "expected one map (the policy)");
			return false;
		}
		b->root = v;
		return true;
	}
	struct frame *f = &b->stack[b->depth - 1];
	if (f->is_map) {
		if (!f->key) {
			json_object_put(v);
			builder_fail(b, "map keys must be text strings");
			return false;
		}
		if (json_object_object_add(f->container, f->key, v)) {
			json_object_put(v);
			b->rc = -ENOMEM;
			return false;
		}
		free(f->last_key);
		f->last_key = f->key;
		f->key = NULL;
	} else {
		if (json_object_array_add(f->container, v)) {
			json_object_put(v);
			b->rc = -ENOMEM;
			return false;
		}
		f->index++;
	}
	f->remaining--;
	return true;
}

/* v NULL means json-c ran out of memory (a CBOR null goes through on_null). */
static void builder_scalar(struct builder *b, struct json_object *v)
{
	if (b->rc) {
		json_object_put(v);
		return;
	}
	if (!v) {
		b->rc = -ENOMEM;
		return;
	}
	if (builder_place(b, v))
		builder_close(b);
}

static void builder_open(struct builder *b, bool is_map, size_t count)
{
	if (b->rc)
		return;
	if (b->depth == CVM_POLICY_MAX_DEPTH) {
		builder_fail(b, "nested too deeply");
		return;
	}
	struct json_object *c = is_map ? json_object_new_object() : json_object_new_array();
	if (!c) {
		b->rc = -ENOMEM;
		return;
	}
	if (!builder_place(b, c))
		return;
	struct frame *f = &b->stack[b->depth++];
	memset(f, 0, sizeof(*f));
	f->container = c;
	f->is_map = is_map;
	f->remaining = count;
	builder_close(b);
}

static void on_uint(void *ctx, uint64_t v)
{
	builder_scalar(ctx, json_object_new_uint64(v));
}

static void on_uint8(void *ctx, uint8_t v)
{
	on_uint(ctx, v);
}

static void on_uint16(void *ctx, uint16_t v)
{
	on_uint(ctx, v);
}

static void on_uint32(void *ctx, uint32_t v)
{
	on_uint(ctx, v);
}

/* CBOR negative integers carry n for the value -1 - n. */
static void on_negint(void *ctx, uint64_t n)
{
	if (n > (uint64_t)INT64_MAX) {
		builder_fail(ctx, "negative integer out of range");
		return;
	}
	builder_scalar(ctx, json_object_new_int64(-1 - (int64_t)n));
}

static void on_negint8(void *ctx, uint8_t n)
{
	on_negint(ctx, n);
}

static void on_negint16(void *ctx, uint16_t n)
{
	on_negint(ctx, n);
}

static void on_negint32(void *ctx, uint32_t n)
{
	on_negint(ctx, n);
}

static void on_string(void *ctx, cbor_data data, size_t len)
{
	struct builder *b = ctx;
	if (b->rc)
		return;
	if (!cvm_utf8_valid(data, len)) {
		builder_fail(b, "a text string is not valid UTF-8");
		return;
	}
	struct frame *f = b->depth ? &b->stack[b->depth - 1] : NULL;
	if (f && f->is_map && !f->key) {
		if (memchr(data, 0, len)) {
			builder_fail(b, "a map key contains a NUL character");
			return;
		}
		char *key = strndup((const char *)data, len);
		if (!key) {
			b->rc = -ENOMEM;
			return;
		}
		if (json_object_object_get_ex(f->container, key, NULL)) {
			f->key = key; /* so that the message names it */
			builder_fail(b, "duplicate key");
			return;
		}
		f->key = key;
		return;
	}
	builder_scalar(b, json_object_new_string_len((const char *)data, (int)len));
}

static void on_float(void *ctx, float v)
{
	builder_scalar(ctx, json_object_new_double(v));
}

static void on_double(void *ctx, double v)
{
	builder_scalar(ctx, json_object_new_double(v));
}

static void on_bool(void *ctx, bool v)
{
	builder_scalar(ctx, json_object_new_boolean(v));
}

static void on_null(void *ctx)
{
	struct builder *b = ctx;
	if (!b->rc && builder_place(b, NULL))
		builder_close(b);
}

static void on_array(void *ctx, size_t n)
{
	builder_open(ctx, false, n);
}

static void on_map(void *ctx, size_t n)
{
	builder_open(ctx, true, n);
}

static void on_bytes(void *ctx, cbor_data data, size_t len)
{
	(void)data;
	(void)len;
	builder_fail(ctx, "byte strings are not part of a policy (hex goes in text strings)");
}

static void on_tag(void *ctx, uint64_t tag)
{
	(void)tag;
	builder_fail(ctx, "tags are not part of a policy");
}

static void on_indefinite(void *ctx)
{
	builder_fail(ctx, "indefinite-length items are not accepted");
}

static void on_undefined(void *ctx)
{
	builder_fail(ctx, "'undefined' is not part of a policy");
}

static const struct cbor_callbacks policy_callbacks = {
	.uint8 = on_uint8,
	.uint16 = on_uint16,
	.uint32 = on_uint32,
	.uint64 = on_uint,
	.negint8 = on_negint8,
	.negint16 = on_negint16,
	.negint32 = on_negint32,
	.negint64 = on_negint,
	.byte_string = on_bytes,
	.byte_string_start = on_indefinite,
	.string = on_string,
	.string_start = on_indefinite,
	.array_start = on_array,
	.indef_array_start = on_indefinite,
	.map_start = on_map,
	.indef_map_start = on_indefinite,
	.tag = on_tag,
	.float2 = on_float,
	.float4 = on_float,
	.float8 = on_double,
	.undefined = on_undefined,
	.null = on_null,
	.boolean = on_bool,
	.indef_break = on_indefinite,
};

int cvm_policy_cbor_to_tree(const uint8_t *data, size_t len, struct json_object **out,
			    struct cvm_policy_problems *problems)
{
	struct builder b;
	memset(&b, 0, sizeof(b));
	size_t off = 0;
	while (!b.rc && !b.root_done) {
		b.item_offset = off;
		if (off == len) {
			builder_fail(&b, "the document ends early");
			break;
		}
		struct cbor_decoder_result res =
			cbor_stream_decode(data + off, len - off, &policy_callbacks, &b);
		if (res.status == CBOR_DECODER_NEDATA)
			builder_fail(&b, "the document ends early");
		else if (res.status != CBOR_DECODER_FINISHED || res.read == 0)
			builder_fail(&b, "malformed item");
		else
			off += res.read;
	}
	if (!b.rc && off < len) {
		b.item_offset = off;
		builder_fail(&b, "unexpected data after the policy map");
	}
	for (size_t i = 0; i < b.depth; i++) {
		free(b.stack[i].key);
		free(b.stack[i].last_key);
	}
	if (b.rc) {
		json_object_put(b.root);
		if (b.rc == -EINVAL && cvm_policy_problem_add(problems, "", "%s", b.msg))
			return -ENOMEM;
		return b.rc;
	}
	*out = b.root;
	return 0;
}

/* --- encoder ------------------------------------------------------------------------------- */

cbor_item_t *cvm_cbor_uint(uint64_t v)
{
	if (v <= UINT8_MAX)
		return cbor_build_uint8((uint8_t)v);
	if (v <= UINT16_MAX)
		return cbor_build_uint16((uint16_t)v);
	if (v <= UINT32_MAX)
		return cbor_build_uint32((uint32_t)v);
	return cbor_build_uint64(v);
}

cbor_item_t *cvm_cbor_int(int64_t v)
{
	if (v >= 0)
		return cvm_cbor_uint((uint64_t)v);
	uint64_t n = (uint64_t)(-1 - v); /* CBOR stores a negative integer as -1 - value */
	if (n <= UINT8_MAX)
		return cbor_build_negint8((uint8_t)n);
	if (n <= UINT16_MAX)
		return cbor_build_negint16((uint16_t)n);
	if (n <= UINT32_MAX)
		return cbor_build_negint32((uint32_t)n);
	return cbor_build_negint64(n);
}

static cbor_item_t *object_to_map(struct json_object *v)
{
	cbor_item_t *map = cbor_new_definite_map((size_t)json_object_object_length(v));
	if (!map)
		return NULL;
	json_object_object_foreach(v, key, val) {
		cbor_item_t *k = cbor_build_string(key);
		cbor_item_t *item = cvm_json_to_cbor(val);
		bool added = k && item &&
			     cbor_map_add(map, (struct cbor_pair){.key = k, .value = item});
		if (k)
			cbor_decref(&k);
		if (item)
			cbor_decref(&item);
		if (!added) {
			cbor_decref(&map);
			return NULL;
		}
	}
	return map;
}

static cbor_item_t *array_to_cbor(struct json_object *v)
{
	size_t n = json_object_array_length(v);
	cbor_item_t *arr = cbor_new_definite_array(n);
	if (!arr)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		cbor_item_t *item = cvm_json_to_cbor(json_object_array_get_idx(v, i));
		bool added = item && cbor_array_push(arr, item);
		if (item)
			cbor_decref(&item);
		if (!added) {
			cbor_decref(&arr);
			return NULL;
		}
	}
	return arr;
}

cbor_item_t *cvm_json_to_cbor(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return cbor_new_null();
	case json_type_boolean:
		return cbor_build_bool(json_object_get_boolean(v));
	case json_type_int: {
		/* json-c keeps values above INT64_MAX as uint64: read the sign first. */
		int64_t s = json_object_get_int64(v);
		return s < 0 ? cvm_cbor_int(s) : cvm_cbor_uint(json_object_get_uint64(v));
	}
	case json_type_double:
		return cbor_build_float8(json_object_get_double(v));
	case json_type_string:
		return cbor_build_stringn(json_object_get_string(v),
					  (size_t)json_object_get_string_len(v));
	case json_type_object:
		return object_to_map(v);
	case json_type_array:
		return array_to_cbor(v);
	}
	return NULL;
}

int cvm_cbor_serialize(const cbor_item_t *item, uint8_t **out, size_t *out_len,
		       struct cvm_error *err)
{
	unsigned char *buf = NULL;
	size_t cap = 0;
	size_t len = cbor_serialize_alloc(item, &buf, &cap);
	if (len == 0) {
		free(buf);
		return cvm_error_set(err, -ENOMEM, "CBOR: out of memory");
	}
	*out = buf;
	*out_len = len;
	return 0;
}

int cvm_policy_tree_to_cbor(struct json_object *tree, uint8_t **out, size_t *out_len,
			    struct cvm_error *err)
{
	cbor_item_t *item = cvm_json_to_cbor(tree);
	if (!item)
		return cvm_error_set(err, -ENOMEM, "encoding the policy as CBOR: out of memory");
	int rc = cvm_cbor_serialize(item, out, out_len, err);
	cbor_decref(&item);
	return rc ? cvm_error_wrap(err, "encoding the policy") : 0;
}
