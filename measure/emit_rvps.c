/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Trustee (confidential-containers) RVPS registration message:
 *   {"version": "0.1.0", "type": "sample", "payload": "<base64 of the provenance JSON>"}
 * The provenance maps reference-value names to values, with the names and the JSON types
 * Trustee's default CPU policy (ear_default_policy_cpu.rego) queries them with:
 * - a list of lower-case hex strings where the policy tests `claim in query_reference_value(..)`:
 *   snp_launch_measurement (SNP); mr_td, rtmr_0..rtmr_3 (those cvmkit computed) and xfam (TDX;
 *   the report's little-endian bytes, as Trustee's evidence claims print them);
 * - a bare value where it tests `==`: tdvfkernel and tdvfkernelparams (TDX direct boot: the hex
 *   digests of the kernel and LoadOptions events, as Trustee prints event digests), and the SNP
 *   guest policy's snp_guest_abi_major, snp_guest_abi_minor (numbers), snp_single_socket and
 *   snp_smt_allowed (booleans), as Trustee's SNP claims carry them.
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

/* obj[name] = value (owned); a value that cannot be added is released. */
static int add_value(struct json_object *obj, const char *name, struct json_object *value)
{
	if (!value || json_object_object_add(obj, name, value) != 0) {
		json_object_put(value);
		return -ENOMEM;
	}
	return 0;
}

static int add_hex_string(struct json_object *obj, const char *name, const uint8_t *bytes,
			  size_t n)
{
	char hex[2 * 48 + 1];
	cvm_hex_encode(bytes, n, hex);
	return add_string(obj, name, hex);
}

/* The document's first event of type in rtmr, or NULL. */
static const struct cvm_mr_event *find_event(const struct cvm_measurement *m, uint32_t rtmr,
					     const char *type)
{
	for (size_t i = 0; i < m->nevents; i++)
		if (m->events[i].rtmr == rtmr && strcmp(m->events[i].type, type) == 0)
			return &m->events[i];
	return NULL;
}

/* SNP guest policy: ABI_MINOR 7:0, ABI_MAJOR 15:8, SMT 16, SINGLE_SOCKET 20. */
static int build_snp(const struct cvm_measurement *m, struct json_object *prov)
{
	int rc = add_hex_list(prov, "snp_launch_measurement", m->digest, m->digest_len);
	if (rc || !m->has_snp_policy)
		return rc;
	uint64_t p = m->snp_policy;
	rc = add_value(prov, "snp_guest_abi_major", json_object_new_int64((p >> 8) & 0xff));
	rc = rc ? rc : add_value(prov, "snp_guest_abi_minor", json_object_new_int64(p & 0xff));
	rc = rc ? rc : add_value(prov, "snp_single_socket",
				 json_object_new_boolean((p >> 20) & 1));
	return rc ? rc : add_value(prov, "snp_smt_allowed", json_object_new_boolean((p >> 16) & 1));
}

static int build_provenance(const struct cvm_measurement *m, struct json_object *prov)
{
	if (m->tee == CVM_TEE_SNP)
		return build_snp(m, prov);
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
	/* direct boot: the kernel (RTMR1) and LoadOptions (RTMR2) events, when computed */
	const struct cvm_mr_event *kernel =
		m->rtmr_known[1] ? find_event(m, 1, "EV_EFI_BOOT_SERVICES_APPLICATION") : NULL;
	const struct cvm_mr_event *params =
		m->rtmr_known[2] ? find_event(m, 2, "EV_EVENT_TAG") : NULL;
	if (rc == 0 && kernel)
		rc = add_hex_string(prov, "tdvfkernel", kernel->digest, 48);
	if (rc == 0 && params)
		rc = add_hex_string(prov, "tdvfkernelparams", params->digest, 48);
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
