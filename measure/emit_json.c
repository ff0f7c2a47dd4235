/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The measurement document as a json-c tree (schema "cvmkit-measurement/1", docs/measurement.md)
 * and its JSON text.  The tree is also the model of the CBOR encoding (emit_cbor.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <cvmkit/emit.h>
#include <cvmkit/util.h>

#include "measure/emit_internal.h"

#define JSON_MAX_DEPTH 16

static bool str_valid(const char *s)
{
	return s && cvm_utf8_valid((const uint8_t *)s, strlen(s));
}

/* Every string the document would carry is UTF-8 (JSON and CBOR text both require it). */
int cvm_emit_check_strings(const struct cvm_measurement *m, struct cvm_error *err)
{
	for (int i = 0; i < 4; i++)
		if (m->rtmr_note[i] && !str_valid(m->rtmr_note[i]))
			return cvm_error_set(err, -EINVAL, "report.rtmr%d_note: not UTF-8", i);
	for (int i = 0; i < 4; i++)
		for (size_t j = 0; j < m->nrtmr_missing[i]; j++)
			if (!str_valid(m->rtmr_missing[i][j]))
				return cvm_error_set(err, -EINVAL,
						     "report.rtmr%d_missing[%zu]: not UTF-8", i, j);
	for (size_t i = 0; i < m->nevents; i++)
		if (!str_valid(m->events[i].type) ||
		    (m->events[i].description && !str_valid(m->events[i].description)))
			return cvm_error_set(err, -EINVAL, "events[%zu]: not UTF-8", i);
	for (size_t i = 0; i < m->ninputs; i++)
		if (!str_valid(m->inputs[i].key) || !str_valid(m->inputs[i].value))
			return cvm_error_set(err, -EINVAL, "inputs[%zu]: not UTF-8", i);
	for (size_t i = 0; i < m->nlaunch; i++)
		if (!str_valid(m->launch[i].key) || !str_valid(m->launch[i].value))
			return cvm_error_set(err, -EINVAL, "launch[%zu]: not UTF-8", i);
	return 0;
}

/* ---- encoding ------------------------------------------------------------------------------ */

static int add(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_object_add(obj, key, val) != 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

static int add_hex(struct json_object *obj, const char *key, const uint8_t *bytes, size_t n)
{
	char text[2 * 64 + 1];
	cvm_hex_encode(bytes, n, text);
	return add(obj, key, json_object_new_string(text));
}

static int add_u64_hex(struct json_object *obj, const char *key, uint64_t v, bool padded)
{
	char text[24];
	snprintf(text, sizeof(text), padded ? "0x%016" PRIx64 : "0x%" PRIx64, v);
	return add(obj, key, json_object_new_string(text));
}

/* A numeric input's JSON literal, parsed so the output carries it as a number. */
static struct json_object *number_literal(const char *text)
{
	struct json_object *v = json_tokener_parse(text);
	if (!v)
		return NULL;
	enum json_type t = json_object_get_type(v);
	if ((t != json_type_int && t != json_type_double && t != json_type_boolean) ||
	    (t == json_type_double && !isfinite(json_object_get_double(v)))) {
		json_object_put(v);
		return NULL;
	}
	return v;
}

static int add_list(struct json_object *doc, const char *name, const struct cvm_mr_input *list,
		    size_t n, struct cvm_error *err)
{
	struct json_object *obj = json_object_new_object();
	if (!obj)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct json_object *v;
		if (list[i].is_number) {
			v = number_literal(list[i].value);
			if (!v) {
				json_object_put(obj);
				return cvm_error_set(err, -EINVAL, "%s.%s: \"%s\" is not a JSON number",
						     name, list[i].key, list[i].value);
			}
		} else {
			v = json_object_new_string(list[i].value);
		}
		if (add(obj, list[i].key, v) < 0) {
			json_object_put(obj);
			return cvm_error_set(err, -ENOMEM, "out of memory");
		}
	}
	if (add(doc, name, obj) < 0)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* "rtmrN_missing": the inputs an RTMR that is not computed lacks. */
static int add_missing(struct json_object *r, unsigned i, const struct cvm_measurement *m)
{
	char key[24];
	struct json_object *arr = json_object_new_array();
	if (!arr)
		return -ENOMEM;
	for (size_t j = 0; j < m->nrtmr_missing[i]; j++) {
		struct json_object *s = json_object_new_string(m->rtmr_missing[i][j]);
		if (!s || json_object_array_add(arr, s) != 0) {
			json_object_put(s);
			json_object_put(arr);
			return -ENOMEM;
		}
	}
	snprintf(key, sizeof(key), "rtmr%u_missing", i);
	return add(r, key, arr);
}

static int add_report(struct json_object *doc, const struct cvm_measurement *m)
{
	struct json_object *r = json_object_new_object();
	int rc = 0;
	if (!r)
		return -ENOMEM;
	if (m->has_snp_policy)
		rc |= add_u64_hex(r, "policy", m->snp_policy, false);
	if (m->has_host_data)
		rc |= add_hex(r, "host_data", m->host_data, sizeof(m->host_data));
	if (m->has_id_key_digest)
		rc |= add_hex(r, "id_key_digest", m->id_key_digest, sizeof(m->id_key_digest));
	if (m->has_author_key_digest)
		rc |= add_hex(r, "author_key_digest", m->author_key_digest,
			      sizeof(m->author_key_digest));
	if (m->tee == CVM_TEE_TDX) {
		rc |= add_hex(r, "mrtd", m->digest, m->digest_len);
		for (unsigned i = 0; i < 4; i++) {
			char key[16];
			snprintf(key, sizeof(key), "rtmr%u", i);
			if (m->rtmr_known[i])
				rc |= add_hex(r, key, m->rtmr[i], 48);
			else
				rc |= json_object_object_add(r, key, NULL) ? -ENOMEM : 0;
			if (m->rtmr_note[i]) {
				snprintf(key, sizeof(key), "rtmr%u_note", i);
				rc |= add(r, key, json_object_new_string(m->rtmr_note[i]));
			}
			if (m->nrtmr_missing[i])
				rc |= add_missing(r, i, m);
		}
	}
	if (m->has_td_fields) {
		rc |= add_u64_hex(r, "attributes", m->td_attributes, true);
		rc |= add_u64_hex(r, "xfam", m->xfam, true);
		rc |= add_hex(r, "mrconfigid", m->mrconfigid, 48);
		rc |= add_hex(r, "mrowner", m->mrowner, 48);
		rc |= add_hex(r, "mrownerconfig", m->mrownerconfig, 48);
	}
	if (rc) {
		json_object_put(r);
		return -ENOMEM;
	}
	return add(doc, "report", r);
}

static int add_events(struct json_object *doc, const struct cvm_measurement *m)
{
	struct json_object *arr = json_object_new_array();
	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < m->nevents; i++) {
		const struct cvm_mr_event *ev = &m->events[i];
		struct json_object *e = json_object_new_object();
		int rc = e ? 0 : -ENOMEM;
		if (e) {
			rc |= add(e, "rtmr", json_object_new_int64(ev->rtmr));
			rc |= add(e, "type", json_object_new_string(ev->type));
			rc |= add(e, "description",
				  json_object_new_string(ev->description ? ev->description : ""));
			rc |= add_hex(e, "digest", ev->digest, sizeof(ev->digest));
		}
		if (rc || json_object_array_add(arr, e) != 0) {
			json_object_put(e);
			json_object_put(arr);
			return -ENOMEM;
		}
	}
	return add(doc, "events", arr);
}

int cvm_emit_to_json(const struct cvm_measurement *m, struct json_object **out,
		     struct cvm_error *err)
{
	int rc = cvm_emit_check_consistency(m, err);
	if (rc == 0)
		rc = cvm_emit_check_strings(m, err);
	if (rc < 0)
		return rc;
	struct json_object *doc = json_object_new_object();
	if (!doc)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	rc = add(doc, "schema", json_object_new_string(CVM_MEASUREMENT_SCHEMA));
	rc |= add(doc, "tee", json_object_new_string(cvm_emit_tee_name(m->tee)));
	rc |= add(doc, "mode", json_object_new_string(m->mode));
	rc |= add(doc, "algorithm", json_object_new_string(m->algorithm));
	rc |= add_hex(doc, "digest", m->digest, m->digest_len);
	rc |= add_report(doc, m);
	rc |= add_events(doc, m);
	if (rc) {
		json_object_put(doc);
		return cvm_error_set(err, -ENOMEM, "out of memory");
	}
	rc = add_list(doc, "inputs", m->inputs, m->ninputs, err);
	if (rc == 0)
		rc = add_list(doc, "launch", m->launch, m->nlaunch, err);
	if (rc < 0) {
		json_object_put(doc);
		return rc;
	}
	*out = doc;
	return 0;
}

int cvm_emit_json_encode(const struct cvm_measurement *m, uint8_t **out, size_t *out_len,
			 struct cvm_error *err)
{
	struct json_object *doc;
	int rc = cvm_emit_to_json(m, &doc, err);
	if (rc < 0)
		return rc;
	rc = cvm_json_to_text(doc,
			      JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
				      JSON_C_TO_STRING_NOSLASHESCAPE,
			      out, out_len);
	json_object_put(doc);
	return rc ? cvm_error_set(err, rc, "out of memory") : 0;
}

/* ---- decoding ------------------------------------------------------------------------------ */

static bool key_in(const char *key, const char *const *allowed, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, allowed[i]) == 0)
			return true;
	return false;
}

static int check_keys(struct json_object *obj, const char *where, const char *const *allowed,
		      size_t n, struct cvm_error *err)
{
	json_object_object_foreach(obj, key, val) {
		(void)val;
		if (!key_in(key, allowed, n))
			return cvm_error_set(err, -EINVAL, "%s%s%s: unknown key", where,
					     *where ? "." : "", key);
	}
	return 0;
}

static int get_string(struct json_object *obj, const char *where, const char *key,
		      bool required, const char **out, struct cvm_error *err)
{
	struct json_object *v;
	if (!json_object_object_get_ex(obj, key, &v) || !v) {
		if (!required)
			return 1;
		return cvm_error_set(err, -EINVAL, "%s%s%s: missing", where, *where ? "." : "",
				     key);
	}
	if (!json_object_is_type(v, json_type_string))
		return cvm_error_set(err, -EINVAL, "%s%s%s: expected a string", where,
				     *where ? "." : "", key);
	*out = json_object_get_string(v);
	return 0;
}

/* Lower-case hex only, as the document is written: one spelling per value. */
static int get_hex(struct json_object *obj, const char *where, const char *key, bool required,
		   uint8_t *out, size_t n, struct cvm_error *err)
{
	const char *text;
	int rc = get_string(obj, where, key, required, &text, err);
	if (rc != 0)
		return rc;
	bool lower = strlen(text) == 2 * n;
	for (const char *p = text; lower && *p; p++)
		lower = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
	if (!lower || cvm_hex_decode(text, out, n) < 0)
		return cvm_error_set(err, -EINVAL, "%s%s%s: expected %zu lower-case hex digits",
				     where, *where ? "." : "", key, 2 * n);
	return 0;
}

static int get_u64_hex(struct json_object *obj, const char *where, const char *key,
		       bool required, uint64_t *out, struct cvm_error *err)
{
	const char *text;
	int rc = get_string(obj, where, key, required, &text, err);
	if (rc != 0)
		return rc;
	size_t n = strlen(text);
	bool ok = n > 2 && n <= 18 && text[0] == '0' && text[1] == 'x';
	uint64_t v = 0;
	for (size_t i = 2; ok && i < n; i++) {
		char c = text[i];
		unsigned d = (c >= '0' && c <= '9') ? (unsigned)(c - '0')
			     : (c >= 'a' && c <= 'f') ? (unsigned)(c - 'a' + 10)
						      : 16;
		ok = d < 16;
		v = v << 4 | d;
	}
	if (!ok)
		return cvm_error_set(err, -EINVAL, "%s.%s: expected \"0x\" and 1..16 hex digits",
				     where, key);
	*out = v;
	return 0;
}

static int read_report_snp(struct json_object *r, struct cvm_measurement *m,
			   struct cvm_error *err)
{
	int rc = get_u64_hex(r, "report", "policy", false, &m->snp_policy, err);
	if (rc < 0)
		return rc;
	m->has_snp_policy = rc == 0;
	rc = get_hex(r, "report", "host_data", false, m->host_data, 32, err);
	if (rc < 0)
		return rc;
	m->has_host_data = rc == 0;
	rc = get_hex(r, "report", "id_key_digest", false, m->id_key_digest, 48, err);
	if (rc < 0)
		return rc;
	m->has_id_key_digest = rc == 0;
	rc = get_hex(r, "report", "author_key_digest", false, m->author_key_digest, 48, err);
	if (rc < 0)
		return rc;
	m->has_author_key_digest = rc == 0;
	return 0;
}

static int read_missing(struct json_object *r, unsigned i, struct cvm_measurement *m,
			struct cvm_error *err)
{
	char key[24];
	struct json_object *arr;
	snprintf(key, sizeof(key), "rtmr%u_missing", i);
	if (!json_object_object_get_ex(r, key, &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) > 64)
		return cvm_error_set(err, -EINVAL, "report.%s: expected an array of at most 64 "
				     "strings", key);
	for (size_t j = 0; j < json_object_array_length(arr); j++) {
		struct json_object *s = json_object_array_get_idx(arr, j);
		if (!json_object_is_type(s, json_type_string) ||
		    strlen(json_object_get_string(s)) != (size_t)json_object_get_string_len(s) ||
		    !str_valid(json_object_get_string(s)))
			return cvm_error_set(err, -EINVAL, "report.%s[%zu]: expected a string",
					     key, j);
		if (cvm_measurement_add_rtmr_missing(m, i, json_object_get_string(s)) < 0)
			return cvm_error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

static int read_report_tdx(struct json_object *r, struct cvm_measurement *m,
			   struct cvm_error *err)
{
	uint8_t mrtd[48];
	int rc = get_hex(r, "report", "mrtd", false, mrtd, sizeof(mrtd), err);
	if (rc < 0)
		return rc;
	if (rc == 0 && (m->tee != CVM_TEE_TDX || m->digest_len != 48 ||
			memcmp(mrtd, m->digest, 48) != 0))
		return cvm_error_set(err, -EINVAL, "report.mrtd: differs from digest");
	for (unsigned i = 0; i < 4; i++) {
		char key[16];
		snprintf(key, sizeof(key), "rtmr%u", i);
		rc = get_hex(r, "report", key, false, m->rtmr[i], 48, err);
		if (rc < 0)
			return rc;
		m->rtmr_known[i] = rc == 0;
		snprintf(key, sizeof(key), "rtmr%u_note", i);
		const char *note;
		rc = get_string(r, "report", key, false, &note, err);
		if (rc < 0)
			return rc;
		if (rc == 0 && cvm_measurement_set_rtmr_note(m, i, note) < 0)
			return cvm_error_set(err, -ENOMEM, "out of memory");
		if ((rc = read_missing(r, i, m, err)) < 0)
			return rc;
	}
	static const char *const td_keys[] = {"attributes", "xfam", "mrconfigid", "mrowner",
					      "mrownerconfig"};
	size_t present = 0;
	for (size_t i = 0; i < CVM_ARRAY_SIZE(td_keys); i++)
		present += json_object_object_get_ex(r, td_keys[i], NULL);
	if (present == 0)
		return 0;
	if ((rc = get_u64_hex(r, "report", "attributes", true, &m->td_attributes, err)) < 0 ||
	    (rc = get_u64_hex(r, "report", "xfam", true, &m->xfam, err)) < 0 ||
	    (rc = get_hex(r, "report", "mrconfigid", true, m->mrconfigid, 48, err)) < 0 ||
	    (rc = get_hex(r, "report", "mrowner", true, m->mrowner, 48, err)) < 0 ||
	    (rc = get_hex(r, "report", "mrownerconfig", true, m->mrownerconfig, 48, err)) < 0)
		return rc;
	m->has_td_fields = true;
	return 0;
}

static int read_report(struct json_object *doc, struct cvm_measurement *m, struct cvm_error *err)
{
	static const char *const keys[] = {
		"policy", "host_data", "id_key_digest", "author_key_digest", "mrtd", "rtmr0",
		"rtmr1", "rtmr2", "rtmr3", "rtmr0_note", "rtmr1_note", "rtmr2_note", "rtmr3_note",
		"rtmr0_missing", "rtmr1_missing", "rtmr2_missing", "rtmr3_missing",
		"attributes", "xfam", "mrconfigid", "mrowner", "mrownerconfig",
	};
	struct json_object *r;
	if (!json_object_object_get_ex(doc, "report", &r))
		return 0;
	if (!json_object_is_type(r, json_type_object))
		return cvm_error_set(err, -EINVAL, "report: expected an object");
	int rc = check_keys(r, "report", keys, CVM_ARRAY_SIZE(keys), err);
	if (rc == 0)
		rc = read_report_snp(r, m, err);
	if (rc == 0)
		rc = read_report_tdx(r, m, err);
	return rc;
}

static int read_events(struct json_object *doc, struct cvm_measurement *m, struct cvm_error *err)
{
	static const char *const keys[] = {"rtmr", "type", "description", "digest"};
	struct json_object *arr;
	if (!json_object_object_get_ex(doc, "events", &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return cvm_error_set(err, -EINVAL, "events: expected an array");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i), *rtmr;
		char where[32];
		snprintf(where, sizeof(where), "events[%zu]", i);
		if (!json_object_is_type(e, json_type_object))
			return cvm_error_set(err, -EINVAL, "%s: expected an object", where);
		int rc = check_keys(e, where, keys, CVM_ARRAY_SIZE(keys), err);
		if (rc < 0)
			return rc;
		if (!json_object_object_get_ex(e, "rtmr", &rtmr) ||
		    !json_object_is_type(rtmr, json_type_int) || json_object_get_int64(rtmr) < 0 ||
		    json_object_get_int64(rtmr) > 3)
			return cvm_error_set(err, -EINVAL, "%s.rtmr: expected 0..3", where);
		const char *type, *desc = "";
		uint8_t digest[48];
		if ((rc = get_string(e, where, "type", true, &type, err)) < 0 ||
		    (rc = get_string(e, where, "description", false, &desc, err)) < 0 ||
		    (rc = get_hex(e, where, "digest", true, digest, sizeof(digest), err)) < 0)
			return rc;
		if (cvm_measurement_add_event(m, (uint32_t)json_object_get_int64(rtmr), type, desc,
					      digest) < 0)
			return cvm_error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

static int read_list(struct json_object *doc, const char *name, struct cvm_mr_input **list,
		     size_t *n, struct cvm_error *err)
{
	struct json_object *obj;
	if (!json_object_object_get_ex(doc, name, &obj))
		return 0;
	if (!json_object_is_type(obj, json_type_object))
		return cvm_error_set(err, -EINVAL, "%s: expected an object", name);
	json_object_object_foreach(obj, key, val) {
		enum json_type t = json_object_get_type(val);
		int rc;
		if (t == json_type_string)
			rc = cvm_emit_list_set(list, n, key, json_object_get_string(val), false);
		else if (t == json_type_double && !isfinite(json_object_get_double(val)))
			return cvm_error_set(err, -EINVAL, "%s.%s: not a finite number", name, key);
		else if (t == json_type_int || t == json_type_double || t == json_type_boolean)
			rc = cvm_emit_list_set(list, n, key, json_object_to_json_string(val), true);
		else
			return cvm_error_set(err, -EINVAL,
					     "%s.%s: expected a string, number or boolean", name,
					     key);
		if (rc < 0)
			return cvm_error_set(err, rc, "out of memory");
	}
	return 0;
}

int cvm_emit_from_json(struct json_object *doc, struct cvm_measurement **out,
		       struct cvm_error *err)
{
	static const char *const keys[] = {"schema", "tee",    "mode",   "algorithm", "digest",
					   "report", "events", "inputs", "launch"};
	if (!json_object_is_type(doc, json_type_object))
		return cvm_error_set(err, -EINVAL, "expected a JSON object");
	const char *schema, *tee_name, *mode, *algorithm;
	int rc;
	if ((rc = get_string(doc, "", "schema", true, &schema, err)) < 0)
		return rc;
	if (strcmp(schema, CVM_MEASUREMENT_SCHEMA) != 0)
		return cvm_error_set(err, -EINVAL, "schema: \"%s\" is not \"%s\"", schema,
				     CVM_MEASUREMENT_SCHEMA);
	if ((rc = check_keys(doc, "", keys, CVM_ARRAY_SIZE(keys), err)) < 0 ||
	    (rc = get_string(doc, "", "tee", true, &tee_name, err)) < 0 ||
	    (rc = get_string(doc, "", "mode", true, &mode, err)) < 0 ||
	    (rc = get_string(doc, "", "algorithm", true, &algorithm, err)) < 0)
		return rc;
	enum cvm_tee tee;
	if (cvm_emit_tee_parse(tee_name, &tee) < 0)
		return cvm_error_set(err, -EINVAL, "tee: \"%s\" is not one of snp, tdx, none",
				     tee_name);
	struct cvm_measurement *m = cvm_measurement_new(tee, mode);
	if (!m)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	if (strcmp(m->algorithm, algorithm) != 0) {
		char *copy = strdup(algorithm);
		if (!copy) {
			cvm_measurement_free(m);
			return cvm_error_set(err, -ENOMEM, "out of memory");
		}
		free(m->algorithm);
		m->algorithm = copy;
	}
	rc = cvm_emit_check_consistency(m, err);
	if (rc == 0)
		rc = get_hex(doc, "", "digest", true, m->digest, m->digest_len, err);
	if (rc == 0)
		rc = read_report(doc, m, err);
	if (rc == 0)
		rc = read_events(doc, m, err);
	if (rc == 0)
		rc = read_list(doc, "inputs", &m->inputs, &m->ninputs, err);
	if (rc == 0)
		rc = read_list(doc, "launch", &m->launch, &m->nlaunch, err);
	if (rc < 0) {
		cvm_measurement_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int cvm_emit_json_decode(const uint8_t *data, size_t len, struct cvm_measurement **out,
			 struct cvm_error *err)
{
	if (len > INT32_MAX)
		return cvm_error_set(err, -EFBIG, "measurement document: too large");
	if (memchr(data, '\0', len))
		return cvm_error_set(err, -EINVAL, "measurement document: NUL byte in JSON text");
	if (!cvm_utf8_valid(data, len))
		return cvm_error_set(err, -EINVAL, "measurement document: JSON text is not UTF-8");
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *doc = json_tokener_parse_ex(tok, (const char *)data, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!doc || jerr != json_tokener_success) {
		json_object_put(doc);
		return cvm_error_set(err, -EINVAL, "measurement document: JSON: %s",
				     jerr == json_tokener_continue ? "unexpected end of input"
								   : json_tokener_error_desc(jerr));
	}
	for (; used < len; used++) {
		if (data[used] != ' ' && data[used] != '\n' && data[used] != '\t' &&
		    data[used] != '\r') {
			json_object_put(doc);
			return cvm_error_set(err, -EINVAL,
					     "measurement document: text after the JSON object");
		}
	}
	int rc = cvm_emit_from_json(doc, out, err);
	json_object_put(doc);
	if (rc < 0)
		return cvm_error_wrap(err, "measurement document");
	return 0;
}
