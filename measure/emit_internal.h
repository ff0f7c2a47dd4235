/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to measure/emit*.c: the encoders and decoders of each format, and the helpers they
 * share.  Not installed.
 */
#ifndef CVMKIT_EMIT_INTERNAL_H
#define CVMKIT_EMIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cbor.h>
#include <json-c/json.h>

#include <cvmkit/emit.h>

/* cvm_json_to_text, cvm_json_to_cbor, cvm_cbor_uint/int, cvm_cbor_serialize */
#include "policy/policy_internal.h"

#define CVM_MEASUREMENT_SCHEMA "cvmkit-measurement/1"

/* "snp", "tdx", "none"; NULL for values outside the enum. */
const char *cvm_emit_tee_name(enum cvm_tee tee);
int cvm_emit_tee_parse(const char *name, enum cvm_tee *out);

/* Checks that mode, tee, algorithm and digest length agree; names the first mismatch. */
int cvm_emit_check_consistency(const struct cvm_measurement *m, struct cvm_error *err);

/* Every string of the document is well-formed UTF-8 (JSON and CBOR text require it). */
int cvm_emit_check_strings(const struct cvm_measurement *m, struct cvm_error *err);

/* Append key=value to a list; an existing key keeps its place and gets the new value. */
int cvm_emit_list_set(struct cvm_mr_input **list, size_t *n, const char *key, const char *value,
		      bool is_number);

/* The document as a json-c tree (the model of JSON and CBOR), and back. */
int cvm_emit_to_json(const struct cvm_measurement *m, struct json_object **out,
		     struct cvm_error *err);
int cvm_emit_from_json(struct json_object *doc, struct cvm_measurement **out,
		       struct cvm_error *err);

int cvm_emit_json_encode(const struct cvm_measurement *m, uint8_t **out, size_t *out_len,
			 struct cvm_error *err);
int cvm_emit_json_decode(const uint8_t *data, size_t len, struct cvm_measurement **out,
			 struct cvm_error *err);

/* ---- CBOR helpers (emit_cbor.c), shared with the CoRIM codec ---------------------------- */

/*
 * Parse one CBOR item that must fill exactly data[0..len).  A bounded pre-pass checks that the
 * bytes are well formed, definite-length, nested at most max_depth deep (tags count), and that
 * no length exceeds the bytes left, before libcbor builds the tree.  *out is owned by the
 * caller (cbor_decref).
 */
int cvm_cbor_load(const uint8_t *data, size_t len, unsigned max_depth, cbor_item_t **out,
		  struct cvm_error *err);

/* Add to a definite map/array; consumes the caller's references, NULL items make it fail. */
bool cvm_cbor_map_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value);
bool cvm_cbor_array_put(cbor_item_t *array, cbor_item_t *value);
/* Tag around an item; consumes the reference to item; NULL if item is NULL. */
cbor_item_t *cvm_cbor_tag(uint64_t tag, cbor_item_t *item);

/* Reading: an integer key/value as int64 (false when not an int or out of range). */
bool cvm_cbor_get_i64(const cbor_item_t *item, int64_t *out);
/* The value under integer key in a map (borrowed), or NULL. */
cbor_item_t *cvm_cbor_map_get_int(const cbor_item_t *map, int64_t key);
/* A definite byte string's bytes (borrowed) when item is one, else false. */
bool cvm_cbor_bytes(const cbor_item_t *item, const uint8_t **data, size_t *len);
/* A text string as a malloc'd C string (NULL if not text or it holds a NUL). */
char *cvm_cbor_text(const cbor_item_t *item);

int cvm_emit_cbor_encode(const struct cvm_measurement *m, uint8_t **out, size_t *out_len,
			 struct cvm_error *err);
int cvm_emit_cbor_decode(const uint8_t *data, size_t len, struct cvm_measurement **out,
			 struct cvm_error *err);

/* ---- CoRIM (emit_corim.c) and RVPS (emit_rvps.c) ----------------------------------------- */

int cvm_emit_corim_encode(const struct cvm_measurement *m, uint8_t **out, size_t *out_len,
			  struct cvm_error *err);
int cvm_emit_corim_decode(const uint8_t *data, size_t len, struct cvm_measurement **out,
			  struct cvm_error *err);
int cvm_emit_rvps_encode(const struct cvm_measurement *m, uint8_t **out, size_t *out_len,
			 struct cvm_error *err);

#endif
