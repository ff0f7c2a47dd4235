/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Trustee (confidential-containers) RVPS registration message:
 *   {"version": "0.1.0", "type": "sample", "payload": "<base64 of the provenance JSON>"}
 * The provenance maps reference-value names to lists of lower-case hex strings, the names
 * Trustee's default CPU policy queries: snp_launch_measurement (SNP); mr_td, rtmr_0..rtmr_3
 * (those cvmkit computed) and xfam (TDX; the report's little-endian bytes, as Trustee's
 * evidence claims print them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <cvmkit/emit.h>
#include <cvmkit/util.h>

#include "measure/emit_internal.h"

#define RVPS_VERSION "0.1.0"

/* obj[key] = text; a string that cannot be added is released, never left as a null value. */
static int add_string(struct json_object *obj, const char *key, const char *text)
{
	struct json_object *s = json_object_new_string(text);
	if (!s || json_object_object_add(obj, key, s) != 0) {
		json_object_put(s);
		return -ENOMEM;
	}
	return 0;
}

static int add_hex_list(struct json_object *obj, const char *name, const uint8_t *bytes,
			size_t n)
{
	char hex[2 * 48 + 1];
	cvm_hex_encode(bytes, n, hex);
	struct json_object *list = json_object_new_array();
	struct json_object *s = json_object_new_string(hex);
	if (!list || !s || json_object_array_add(list, s) != 0) {
		json_object_put(s);
		json_object_put(list);
		return -ENOMEM;
	}
	if (json_object_object_add(obj, name, list) != 0) {
		json_object_put(list);
		return -ENOMEM;
	}
	return 0;
}

static int build_provenance(const struct cvm_measurement *m, struct json_object *prov)
{
	if (m->tee == CVM_TEE_SNP)
		return add_hex_list(prov, "snp_launch_measurement", m->digest, m->digest_len);
	int rc = add_hex_list(prov, "mr_td", m->digest, m->digest_len);
	for (unsigned i = 0; rc == 0 && i < 4; i++) {
		char name[16];
		snprintf(name, sizeof(name), "rtmr_%u", i);
		if (m->rtmr_known[i])
			rc = add_hex_list(prov, name, m->rtmr[i], 48);
	}
	if (rc == 0 && m->has_td_fields) {
		uint8_t le[8];
		cvm_put_le64(le, m->xfam);
		rc = add_hex_list(prov, "xfam", le, sizeof(le));
	}
	return rc;
}

int cvm_emit_rvps_encode(const struct cvm_measurement *m, uint8_t **out, size_t *out_len,
			 struct cvm_error *err)
{
	bool snp = m->tee == CVM_TEE_SNP && strcmp(m->mode, "snp") == 0;
	if (!snp && m->tee != CVM_TEE_TDX)
		return cvm_error_set(err, -EINVAL,
				     "RVPS: Trustee has reference values for SNP and TDX only, not "
				     "mode \"%s\"", m->mode);
	struct json_object *prov = json_object_new_object();
	struct json_object *msg = json_object_new_object();
	int rc = prov && msg ? build_provenance(m, prov) : -ENOMEM;
	char *payload = NULL;
	if (rc == 0) {
		size_t len;
		const char *text = json_object_to_json_string_length(
			prov, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
		payload = text ? cvm_base64_encode(text, len) : NULL;
		if (!payload)
			rc = -ENOMEM;
	}
	if (rc == 0)
		rc = add_string(msg, "version", RVPS_VERSION);
	if (rc == 0)
		rc = add_string(msg, "type", "sample");
	if (rc == 0)
		rc = add_string(msg, "payload", payload);
	/* Without NOSLASHESCAPE: the base64 payload keeps printing "/" as "\/", as it always has. */
	if (rc == 0)
		rc = cvm_json_to_text(msg, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED, out,
				      out_len);
	free(payload);
	json_object_put(prov);
	json_object_put(msg);
	return rc < 0 ? cvm_error_set(err, rc, "RVPS: out of memory") : 0;
}
