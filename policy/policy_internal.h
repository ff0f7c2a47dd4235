/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the library (not installed): the policy is read and written through one json-c
 * tree, whichever the encoding.  JSON text is parsed into that tree by json-c; CBOR bytes are
 * turned into the same tree by a bounded streaming decoder (policy_cbor.c).  One reader
 * (policy_read.c) validates the tree into a struct cvm_policy; one writer (policy_write.c) builds
 * the tree back.  The tree -> text/CBOR helpers at the end also serve the measurement document
 * (measure/emit*.c), which is modelled the same way.
 */
#ifndef CVMKIT_POLICY_INTERNAL_H
#define CVMKIT_POLICY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>
#include <json-c/json.h>

#include <cvmkit/policy.h>

/* Larger documents are refused before parsing (a policy is a few hundred bytes). */
#define CVM_POLICY_MAX_BYTES (1u << 20)
/* Deepest nesting a valid policy needs is 4 (prefault.ranges[i].gpa); leave room for errors. */
#define CVM_POLICY_MAX_DEPTH 16

/* Append a problem; returns -ENOMEM if it could not be recorded.  problems may be NULL. */
int cvm_policy_problem_add(struct cvm_policy_problems *problems, const char *path,
			   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * CBOR bytes (a map with text keys) -> json-c tree, owned by the caller (json_object_put).
 * Returns 0; or -EINVAL after recording one problem naming the position; or -ENOMEM.
 */
int cvm_policy_cbor_to_tree(const uint8_t *data, size_t len, struct json_object **out,
			    struct cvm_policy_problems *problems);

/* json-c tree -> CBOR bytes (cvm_json_to_cbor, serialized).  *out is malloc'd. */
int cvm_policy_tree_to_cbor(struct json_object *tree, uint8_t **out, size_t *out_len,
			    struct cvm_error *err);

/*
 * Validate the tree into p (already cvm_policy_init'ed, base_dir set).  Every problem is
 * recorded; returns 0 when there were none, -EINVAL when there were some, -ENOMEM.
 */
int cvm_policy_read_tree(struct json_object *root, struct cvm_policy *p,
			 struct cvm_policy_problems *problems);

/* struct -> json-c tree (NULL on allocation failure). */
struct json_object *cvm_policy_to_tree(const struct cvm_policy *p);

/* "2G" for 2 GiB, "0x1234" otherwise: the most readable exact form of a size. */
void cvm_policy_format_size(uint64_t v, char *buf, size_t n);

/* ---- json-c tree -> text and CBOR, shared with measure/ -------------------------------- */

/*
 * The tree as text (JSON_C_TO_STRING_* flags) followed by a newline and a NUL.  *out is malloc'd
 * and owned by the caller; *out_len counts the newline, not the NUL.  Returns 0 or -ENOMEM;
 * the out-parameters are written only on success.
 */
int cvm_json_to_text(struct json_object *tree, int flags, uint8_t **out, size_t *out_len);

/*
 * The tree as one CBOR item: objects become maps with text keys, arrays arrays (definite
 * lengths), integers their shortest form, doubles float64.  Returns a new reference owned by the
 * caller (cbor_decref), or NULL when memory ran out.
 */
cbor_item_t *cvm_json_to_cbor(struct json_object *tree);

/* Smallest-width integers (libcbor writes an integer in the width it was built with). */
cbor_item_t *cvm_cbor_uint(uint64_t v);
cbor_item_t *cvm_cbor_int(int64_t v);

/* item -> bytes; *out is malloc'd and owned by the caller.  Returns 0 or -ENOMEM ("CBOR: ..."). */
int cvm_cbor_serialize(const cbor_item_t *item, uint8_t **out, size_t *out_len,
		       struct cvm_error *err);

#endif
