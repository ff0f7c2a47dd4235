/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The measurement document in CBOR: the JSON tree of emit_json.c mapped one to one (maps with
 * text keys, text strings, integers, booleans, null), plus the CBOR helpers the CoRIM codec
 * shares.  Untrusted CBOR passes a bounded well-formedness pre-pass before libcbor sees it, so
 * libcbor never allocates for a length the input cannot back and never nests without bound.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <json-c/json.h>

#include <cvmkit/emit.h>
#include <cvmkit/util.h>

#include "measure/emit_internal.h"

#define DOC_MAX_DEPTH 8

/* ---- bounded pre-pass ------------------------------------------------------------------------ */

static int wf_item(struct cvm_cursor *c, unsigned depth, unsigned max_depth,
		   struct cvm_error *err)
{
	size_t at = c->off;
	uint8_t ib;
	if (depth > max_depth)
		return cvm_error_set(err, -EINVAL, "CBOR: nested deeper than %u at byte %zu",
				     max_depth, at);
	if (!cvm_cursor_u8(c, &ib))
		return cvm_error_set(err, -EINVAL, "CBOR: truncated at byte %zu", at);
	unsigned major = ib >> 5, info = ib & 31;
	uint64_t arg = info;
	if (info >= 24 && info <= 27) {
		size_t n = (size_t)1 << (info - 24);
		const uint8_t *p;
		if (!cvm_cursor_bytes(c, n, &p))
			return cvm_error_set(err, -EINVAL, "CBOR: truncated at byte %zu", at);
		arg = 0;
		for (size_t i = 0; i < n; i++)
			arg = arg << 8 | p[i];
	} else if (info == 31) {
		return cvm_error_set(err, -EINVAL,
				     "CBOR: indefinite-length item at byte %zu (not supported)", at);
	} else if (info > 27) {
		return cvm_error_set(err, -EINVAL, "CBOR: reserved header 0x%02x at byte %zu", ib,
				     at);
	}
	size_t left = cvm_cursor_left(c);
	switch (major) {
	case 0:
	case 1:
		return 0;
	case 2:
	case 3:
		if (arg > left)
			return cvm_error_set(err, -EINVAL,
					     "CBOR: string at byte %zu is longer than the input", at);
		cvm_cursor_skip(c, (size_t)arg);
		return 0;
	case 4:
	case 5: {
		uint64_t items = arg;
		if (major == 5) {
			if (arg > left / 2)
				return cvm_error_set(err, -EINVAL,
						     "CBOR: map at byte %zu is longer than the input",
						     at);
			items = 2 * arg;
		}
		if (items > left)
			return cvm_error_set(err, -EINVAL,
					     "CBOR: array at byte %zu is longer than the input", at);
		for (uint64_t i = 0; i < items; i++) {
			int rc = wf_item(c, depth + 1, max_depth, err);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	case 6:
		/* libcbor 0.8 refuses the one-byte heads of tags 6..20 (0xc6..0xd4) */
		if (info >= 6 && info <= 20)
			return cvm_error_set(err, -ENOTSUP, "CBOR: tag %u at byte %zu is not supported",
					     info, at);
		return wf_item(c, depth + 1, max_depth, err);
	default:
		if (info == 24 && arg < 32)
			return cvm_error_set(err, -EINVAL, "CBOR: bad simple value at byte %zu", at);
		return 0;
	}
}

int cvm_cbor_load(const uint8_t *data, size_t len, unsigned max_depth, cbor_item_t **out,
		  struct cvm_error *err)
{
	struct cvm_cursor c = cvm_cursor_make(data, len);
	int rc = wf_item(&c, 0, max_depth, err);
	if (rc < 0)
		return rc;
	if (cvm_cursor_left(&c) != 0)
		return cvm_error_set(err, -EINVAL, "CBOR: %zu bytes after the item",
				     cvm_cursor_left(&c));
	struct cbor_load_result res;
	cbor_item_t *item = cbor_load(data, len, &res);
	if (!item || res.error.code != CBOR_ERR_NONE || res.read != len) {
		if (item)
			cbor_decref(&item);
		if (res.error.code == CBOR_ERR_MEMERROR)
			return cvm_error_set(err, -ENOMEM, "CBOR: out of memory");
		return cvm_error_set(err, -EINVAL, "CBOR: malformed at byte %zu",
				     res.error.position);
	}
	*out = item;
	return 0;
}

/* ---- building -------------------------------------------------------------------------------- */

bool cvm_cbor_map_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value)
{
	bool ok = map && key && value &&
		  cbor_map_add(map, (struct cbor_pair){.key = key, .value = value});
	if (key)
		cbor_decref(&key);
	if (value)
		cbor_decref(&value);
	return ok;
}

bool cvm_cbor_array_put(cbor_item_t *array, cbor_item_t *value)
{
	bool ok = array && value && cbor_array_push(array, value);
	if (value)
		cbor_decref(&value);
	return ok;
}

cbor_item_t *cvm_cbor_tag(uint64_t tag, cbor_item_t *item)
{
	if (!item)
		return NULL;
	cbor_item_t *t = cbor_new_tag(tag);
	if (t)
		cbor_tag_set_item(t, item);
	cbor_decref(&item);
	return t;
}

/* ---- reading --------------------------------------------------------------------------------- */

bool cvm_cbor_get_i64(const cbor_item_t *item, int64_t *out)
{
	if (!item)
		return false;
	if (cbor_isa_uint(item)) {
		uint64_t v = cbor_get_int(item);
		if (v > INT64_MAX)
			return false;
		*out = (int64_t)v;
		return true;
	}
	if (cbor_isa_negint(item)) {
		uint64_t v = cbor_get_int(item);
		if (v > INT64_MAX)
			return false;
		*out = -1 - (int64_t)v;
		return true;
	}
	return false;
}

cbor_item_t *cvm_cbor_map_get_int(const cbor_item_t *map, int64_t key)
{
	if (!map || !cbor_isa_map(map))
		return NULL;
	struct cbor_pair *pairs = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++) {
		int64_t k;
		if (cvm_cbor_get_i64(pairs[i].key, &k) && k == key)
			return pairs[i].value;
	}
	return NULL;
}

bool cvm_cbor_bytes(const cbor_item_t *item, const uint8_t **data, size_t *len)
{
	if (!item || !cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item))
		return false;
	*data = cbor_bytestring_handle(item);
	*len = cbor_bytestring_length(item);
	return true;
}

char *cvm_cbor_text(const cbor_item_t *item)
{
	if (!item || !cbor_isa_string(item) || !cbor_string_is_definite(item))
		return NULL;
	size_t n = cbor_string_length(item);
	const unsigned char *p = cbor_string_handle(item);
	if (n && memchr(p, '\0', n))
		return NULL;
	char *s = malloc(n + 1);
	if (!s)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* ---- JSON tree <-> CBOR ---------------------------------------------------------------------- */

static int cbor_to_json(const cbor_item_t *c, const char *where, struct json_object **out,
			struct cvm_error *err)
{
	struct json_object *j = NULL;
	switch (cbor_typeof(c)) {
	case CBOR_TYPE_UINT:
		j = json_object_new_uint64(cbor_get_int(c));
		break;
	case CBOR_TYPE_NEGINT: {
		int64_t v;
		if (!cvm_cbor_get_i64(c, &v))
			return cvm_error_set(err, -EINVAL, "%s: integer out of range", where);
		j = json_object_new_int64(v);
		break;
	}
	case CBOR_TYPE_STRING: {
		char *s = cvm_cbor_text(c);
		if (!s)
			return cvm_error_set(err, -EINVAL, "%s: text with a NUL byte", where);
		j = json_object_new_string(s);
		free(s);
		break;
	}
	case CBOR_TYPE_FLOAT_CTRL:
		/* libcbor asserts on ctrl accessors applied to floats: test the width first */
		if (cbor_float_get_width(c) != CBOR_FLOAT_0) {
			if (!isfinite(cbor_float_get_float(c)))
				return cvm_error_set(err, -EINVAL, "%s: not a finite number", where);
			j = json_object_new_double(cbor_float_get_float(c));
		} else if (cbor_is_null(c)) {
			*out = NULL;
			return 0;
		} else if (cbor_is_bool(c)) {
			j = json_object_new_boolean(cbor_get_bool(c));
		} else {
			return cvm_error_set(err, -EINVAL, "%s: unsupported simple value", where);
		}
		break;
	case CBOR_TYPE_ARRAY:
		j = json_object_new_array();
		for (size_t i = 0; j && i < cbor_array_size(c); i++) {
			struct json_object *v;
			int rc = cbor_to_json(cbor_array_handle(c)[i], where, &v, err);
			if (rc < 0) {
				json_object_put(j);
				return rc;
			}
			if (json_object_array_add(j, v) != 0) {
				json_object_put(v);
				json_object_put(j);
				return cvm_error_set(err, -ENOMEM, "out of memory");
			}
		}
		break;
	case CBOR_TYPE_MAP:
		j = json_object_new_object();
		for (size_t i = 0; j && i < cbor_map_size(c); i++) {
			struct cbor_pair *p = &cbor_map_handle(c)[i];
			char *key = cvm_cbor_text(p->key);
			if (!key) {
				json_object_put(j);
				return cvm_error_set(err, -EINVAL, "%s: map key is not text", where);
			}
			if (json_object_object_get_ex(j, key, NULL)) {
				int rc = cvm_error_set(err, -EINVAL, "%s: duplicate key \"%s\"",
						       where, key);
				free(key);
				json_object_put(j);
				return rc;
			}
			struct json_object *v;
			int rc = cbor_to_json(p->value, key, &v, err);
			if (rc == 0 && json_object_object_add(j, key, v) != 0) {
				json_object_put(v);
				rc = cvm_error_set(err, -ENOMEM, "out of memory");
			}
			free(key);
			if (rc < 0) {
				json_object_put(j);
				return rc;
			}
		}
		break;
	default:
		return cvm_error_set(err, -EINVAL, "%s: byte strings and tags are not part of "
				     "the document", where);
	}
	if (!j)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	*out = j;
	return 0;
}

int cvm_emit_cbor_encode(const struct cvm_measurement *m, uint8_t **out, size_t *out_len,
			 struct cvm_error *err)
{
	struct json_object *doc;
	int rc = cvm_emit_to_json(m, &doc, err);
	if (rc < 0)
		return rc;
	cbor_item_t *item = cvm_json_to_cbor(doc);
	json_object_put(doc);
	if (!item)
		return cvm_error_set(err, -ENOMEM, "CBOR: out of memory");
	rc = cvm_cbor_serialize(item, out, out_len, err);
	cbor_decref(&item);
	return rc;
}

int cvm_emit_cbor_decode(const uint8_t *data, size_t len, struct cvm_measurement **out,
			 struct cvm_error *err)
{
	cbor_item_t *item;
	int rc = cvm_cbor_load(data, len, DOC_MAX_DEPTH, &item, err);
	if (rc < 0)
		return cvm_error_wrap(err, "measurement document");
	struct json_object *doc = NULL;
	rc = cbor_to_json(item, "document", &doc, err);
	cbor_decref(&item);
	if (rc == 0 && !doc)
		rc = cvm_error_set(err, -EINVAL, "document: expected a map");
	if (rc == 0)
		rc = cvm_emit_from_json(doc, out, err);
	json_object_put(doc);
	if (rc < 0)
		return cvm_error_wrap(err, "measurement document (CBOR)");
	return 0;
}
