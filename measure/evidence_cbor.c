/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Veraison's tsm-report CBOR (ratsd docs/tsm-report.cddl: a map of "outblob", "provider",
 * "auxblob", "manifestblob", "service_provider") read by a small bounded reader of exactly
 * that shape: one definite-length map with text keys and byte or text string values, nothing
 * after it.  Also what both tsm-report readers share (the provider decides the outblob's kind),
 * and the CBOR writer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include <cvmkit/util.h>

#include "measure/evidence_internal.h"
#include "policy/policy_internal.h"

#define TSM_MAX_PAIRS 8u

/* One CBOR head: major type and argument (definite lengths only). */
static bool cbor_head(struct cvm_cursor *c, uint8_t *major, uint64_t *arg)
{
	uint8_t ib;
	if (!cvm_cursor_u8(c, &ib))
		return false;
	*major = ib >> 5;
	uint8_t ai = ib & 0x1f;
	if (ai < 24) {
		*arg = ai;
		return true;
	}
	if (ai > 27)
		return false; /* reserved or indefinite */
	size_t n = (size_t)1 << (ai - 24);
	const uint8_t *p;
	if (!cvm_cursor_bytes(c, n, &p))
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	*arg = v;
	return true;
}

/* A byte string (major 2) or text string (major 3); *out points into the buffer. */
static bool cbor_string(struct cvm_cursor *c, uint8_t *major, const uint8_t **out, size_t *len)
{
	uint64_t n;
	if (!cbor_head(c, major, &n) || (*major != 2 && *major != 3) || n > cvm_cursor_left(c))
		return false;
	*len = (size_t)n;
	return cvm_cursor_bytes(c, *len, out);
}

struct tsm_fields {
	const uint8_t *outblob, *auxblob, *provider;
	size_t outblob_len, auxblob_len, provider_len;
};

static int read_tsm_map(const uint8_t *data, size_t len, struct tsm_fields *f,
			struct cvm_error *err)
{
	struct cvm_cursor c = cvm_cursor_make(data, len);
	uint8_t major;
	uint64_t pairs;
	if (!cbor_head(&c, &major, &pairs) || major != 5)
		return cvm_error_set(err, -EINVAL, "tsm-cbor: not a definite-length CBOR map");
	if (pairs > TSM_MAX_PAIRS)
		return cvm_error_set(err, -EINVAL, "tsm-cbor: %llu entries, a tsm-report has at most %u",
				     (unsigned long long)pairs, TSM_MAX_PAIRS);
	for (uint64_t i = 0; i < pairs; i++) {
		const uint8_t *key, *val;
		size_t klen, vlen;
		uint8_t kmaj, vmaj;
		size_t at = c.off;
		if (!cbor_string(&c, &kmaj, &key, &klen) || kmaj != 3 ||
		    !cbor_string(&c, &vmaj, &val, &vlen))
			return cvm_error_set(err, -EINVAL,
					     "tsm-cbor: entry %llu at byte %zu is not a text key with "
					     "a byte or text string value",
					     (unsigned long long)i, at);
#define KEY_IS(s) (klen == sizeof(s) - 1 && memcmp(key, s, klen) == 0)
		if (KEY_IS("outblob") && vmaj == 2) {
			f->outblob = val, f->outblob_len = vlen;
		} else if (KEY_IS("auxblob") && vmaj == 2) {
			f->auxblob = val, f->auxblob_len = vlen;
		} else if (KEY_IS("provider")) {
			f->provider = val, f->provider_len = vlen;
		} else if (!KEY_IS("manifestblob") && !KEY_IS("service_provider")) {
			return cvm_error_set(err, -EINVAL,
					     "tsm-cbor: entry %llu is not an outblob, auxblob, provider, "
					     "manifestblob or service_provider (byte strings for blobs)",
					     (unsigned long long)i);
		}
#undef KEY_IS
	}
	if (cvm_cursor_left(&c) != 0)
		return cvm_error_set(err, -EINVAL, "tsm-cbor: %zu bytes after the map",
				     cvm_cursor_left(&c));
	if (!f->outblob || !f->provider)
		return cvm_error_set(err, -EINVAL, "tsm-cbor: no outblob or no provider");
	return 0;
}

int cvm_evidence_read_tsm_cbor(const uint8_t *data, size_t len, struct cvm_evidence **out,
			       struct cvm_error *err)
{
	struct tsm_fields f = {0};
	int rc = read_tsm_map(data, len, &f, err);
	if (rc)
		return rc;
	char provider[32];
	if (f.provider_len >= sizeof(provider) || memchr(f.provider, 0, f.provider_len))
		return cvm_error_set(err, -EINVAL, "tsm-cbor: the provider is not a short name");
	memcpy(provider, f.provider, f.provider_len);
	provider[f.provider_len] = '\0';
	struct cvm_evidence *ev = cvm_evidence_alloc(CVM_EVIDENCE_FORMAT_TSM_CBOR);
	if (!ev)
		return cvm_error_set(err, -ENOMEM, "evidence: out of memory");
	rc = cvm_evidence_read_tsm(ev, provider, f.outblob, f.outblob_len, f.auxblob, f.auxblob_len,
				   err);
	if (rc) {
		cvm_evidence_free(ev);
		return rc;
	}
	*out = ev;
	return 0;
}

int cvm_evidence_read_tsm(struct cvm_evidence *ev, const char *provider, const uint8_t *outblob,
			  size_t outblob_len, const uint8_t *auxblob, size_t auxblob_len,
			  struct cvm_error *err)
{
	/* configfs attributes end in a newline, and tools copy it along. */
	size_t n = strcspn(provider, "\n");
	if (n >= sizeof(ev->provider))
		n = sizeof(ev->provider) - 1;
	memcpy(ev->provider, provider, n);
	ev->provider[n] = '\0';
	const char *fmt = cvm_evidence_format_name(ev->format);
	enum cvm_evidence_kind want;
	if (strcmp(ev->provider, "sev_guest") == 0)
		want = CVM_EVIDENCE_SNP_REPORT;
	else if (strcmp(ev->provider, "tdx_guest") == 0)
		want = CVM_EVIDENCE_TDX_QUOTE;
	else
		return cvm_error_set(err, -EINVAL,
				     "%s: provider \"%s\" is neither sev_guest nor tdx_guest", fmt,
				     ev->provider);
	if (cvm_evidence_detect(outblob, outblob_len) != want)
		return cvm_error_set(err, -EINVAL, "%s: the outblob of %zu bytes is not %s", fmt,
				     outblob_len,
				     want == CVM_EVIDENCE_SNP_REPORT ? "an SNP report" : "a TDX quote");
	int rc = cvm_evidence_set_report(ev, outblob, outblob_len, err);
	if (!rc && want == CVM_EVIDENCE_SNP_REPORT && auxblob_len) {
		char what[48];
		snprintf(what, sizeof(what), "%s: auxblob", fmt);
		rc = cvm_evidence_read_cert_table(ev, auxblob, auxblob_len, what, err);
	}
	return rc;
}

/* ---- writer --------------------------------------------------------------------------------- */

static bool map_add(cbor_item_t *map, const char *key, cbor_item_t *value)
{
	cbor_item_t *k = cbor_build_string(key);
	bool ok = k && value && cbor_map_add(map, (struct cbor_pair){.key = k, .value = value});
	if (k)
		cbor_decref(&k);
	if (value)
		cbor_decref(&value);
	return ok;
}

int cvm_evidence_tsm_cbor(const struct cvm_tsm_blobs *b, uint8_t **out, size_t *out_len,
			  struct cvm_error *err)
{
	if (!b->outblob || !b->outblob_len || !b->provider)
		return cvm_error_set(err, -EINVAL, "tsm-cbor: no outblob or no provider");
	cbor_item_t *map = cbor_new_definite_map(TSM_MAX_PAIRS);
	bool ok = map && map_add(map, "outblob", cbor_build_bytestring(b->outblob, b->outblob_len)) &&
		  map_add(map, "provider", cbor_build_string(b->provider));
	if (ok && b->auxblob_len)
		ok = map_add(map, "auxblob", cbor_build_bytestring(b->auxblob, b->auxblob_len));
	if (ok && b->manifestblob_len && b->service_provider)
		ok = map_add(map, "manifestblob",
			     cbor_build_bytestring(b->manifestblob, b->manifestblob_len)) &&
		     map_add(map, "service_provider", cbor_build_string(b->service_provider));
	int rc = ok ? cvm_cbor_serialize(map, out, out_len, err)
		    : cvm_error_set(err, -ENOMEM, "evidence: out of memory");
	if (map)
		cbor_decref(&map);
	return rc;
}
