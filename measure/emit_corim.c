/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unsigned CoRIM (CBOR tag 501) with one CoMID, and reading CoRIMs back.
 *
 * SNP follows Veraison's SEVSNP scheme (profile "tag:amd.com,2024:snp-corim-profile"): one
 * reference triple whose environment is class-id OID 1.3.6.1.4.1.3704.3.1 ("by chip") with the
 * MEASUREMENT as instance (as Veraison's own test CoRIM does: the chip is unknown when the
 * digest is computed), and measurements under the profile's numeric mkeys: 2 POLICY, 641
 * MEASUREMENT (digests [[7, sha-384]]), 642 HOST_DATA, 643 ID_KEY_DIGEST, 644 AUTHOR_KEY_DIGEST
 * (the last three only when not all zero, as Veraison's evidence has them).
 *
 * TDX has no published profile for a TD guest, so cvmkit writes a baseline CoMID that generic
 * consumers (Trustee's CoRIM extractor) read: environment class {vendor "Intel Corporation",
 * model "TDX"} and text mkeys "MRTD", "RTMR0".."RTMR3" (digests), "TDATTRIBUTES", "XFAM"
 * (raw-value, the report's little-endian bytes), "MRCONFIGID", "MROWNER", "MROWNERCONFIG".
 * docs/measurement.md documents both.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include <cvmkit/emit.h>
#include <cvmkit/util.h>

#include "measure/emit_internal.h"

#define CORIM_MAX_DEPTH 24

enum {
	TAG_URI = 32,
	TAG_UUID = 37,
	TAG_OID = 111,
	TAG_COSE_SIGN1 = 18,
	TAG_CORIM = 501,
	TAG_COSWID = 505,
	TAG_COMID = 506,
	TAG_BYTES = 560,
	TAG_SVN = 552,
	TAG_MIN_SVN = 553,
	HASH_SHA384 = 7,
};

enum {
	SNP_MKEY_POLICY = 2,
	SNP_MKEY_MEASUREMENT = 641,
	SNP_MKEY_HOST_DATA = 642,
	SNP_MKEY_ID_KEY_DIGEST = 643,
	SNP_MKEY_AUTHOR_KEY_DIGEST = 644,
	/* the other reference values of the profile (spec/reference-formats.md) */
	SNP_MKEY_VERSION = 0,
	SNP_MKEY_GUEST_SVN = 1,
	SNP_MKEY_FAMILY_ID = 3,
	SNP_MKEY_IMAGE_ID = 4,
	SNP_MKEY_VMPL = 5,
	SNP_MKEY_CURRENT_TCB = 6,
	SNP_MKEY_PLATFORM_INFO = 7,
	SNP_MKEY_REPORT_DATA = 640,
	SNP_MKEY_REPORT_ID = 645,
	SNP_MKEY_REPORT_ID_MA = 646,
	SNP_MKEY_REPORTED_TCB = 647,
	SNP_MKEY_CHIP_ID = 3328,
	SNP_MKEY_COMMITTED_TCB = 3329,
	SNP_MKEY_CURRENT_VERSION = 3330,
	SNP_MKEY_COMMITTED_VERSION = 3936,
	SNP_MKEY_LAUNCH_TCB = 3968,
};

#define SNP_PROFILE "tag:amd.com,2024:snp-corim-profile"
#define SNP_PROFILE_GO_GEN_REF "http://amd.com/2024/snp-corim-profile"
#define TDX_VENDOR "Intel Corporation"
#define TDX_MODEL "TDX"
#define INTEL_MKEY_MRTEE (-83)

/* 1.3.6.1.4.1.3704.3.1: SNP attester identified by chip (VCEK). */
static const uint8_t snp_class_by_chip[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x9c, 0x78, 0x03, 0x01};
/* 1.3.6.1.4.1.3704.3.2: by cloud provider (VLEK). */
static const uint8_t snp_class_by_csp[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x9c, 0x78, 0x03, 0x02};

static const char *const tdx_rtmr_mkeys[4] = {"RTMR0", "RTMR1", "RTMR2", "RTMR3"};

/* ---- encoding -------------------------------------------------------------------------------- */

static cbor_item_t *bytes(const uint8_t *p, size_t n)
{
	return cbor_build_bytestring(p, n);
}

static cbor_item_t *map_of(size_t n)
{
	return cbor_new_definite_map(n);
}

/*
 * The put helpers consume their arguments even when they fail.  An item built by a statement of
 * its own is therefore always put ("ok = put(...) && ok"), so that it ends up owned by its
 * container or released, never leaked; only the outermost container is released on failure.
 */
static cbor_item_t *keep_if(bool ok, cbor_item_t *item)
{
	if (!ok && item)
		cbor_decref(&item);
	return ok ? item : NULL;
}

/* {0: mkey, 1: mval}, consuming both; ok carries the caller's earlier failures. */
static cbor_item_t *measurement_map(bool ok, cbor_item_t *mkey, cbor_item_t *mval)
{
	cbor_item_t *meas = map_of(2);
	ok = cvm_cbor_map_put(meas, cvm_cbor_uint(0), mkey) && ok;
	ok = cvm_cbor_map_put(meas, cvm_cbor_uint(1), mval) && ok;
	return keep_if(ok, meas);
}

/* {mkey: key, mval: {2: [[7, digest]]}} */
static cbor_item_t *digest_measurement(cbor_item_t *mkey, const uint8_t digest[48])
{
	cbor_item_t *pair = cbor_new_definite_array(2);
	bool ok = cvm_cbor_array_put(pair, cvm_cbor_uint(HASH_SHA384));
	ok = cvm_cbor_array_put(pair, bytes(digest, 48)) && ok;
	cbor_item_t *list = cbor_new_definite_array(1);
	ok = cvm_cbor_array_put(list, pair) && ok;
	cbor_item_t *mval = map_of(1);
	ok = cvm_cbor_map_put(mval, cvm_cbor_uint(2), list) && ok;
	return measurement_map(ok, mkey, mval);
}

/* {mkey: key, mval: {4: 560(raw)}} */
static cbor_item_t *raw_measurement(cbor_item_t *mkey, const uint8_t *raw, size_t n)
{
	cbor_item_t *mval = map_of(1);
	bool ok = cvm_cbor_map_put(mval, cvm_cbor_uint(4), cvm_cbor_tag(TAG_BYTES, bytes(raw, n)));
	return measurement_map(ok, mkey, mval);
}

static cbor_item_t *snp_environment(const struct cvm_measurement *m)
{
	cbor_item_t *cls = map_of(1);
	bool ok = cvm_cbor_map_put(cls, cvm_cbor_uint(0),
				   cvm_cbor_tag(TAG_OID, bytes(snp_class_by_chip,
								sizeof(snp_class_by_chip))));
	cbor_item_t *env = map_of(2);
	ok = cvm_cbor_map_put(env, cvm_cbor_uint(0), cls) && ok;
	ok = cvm_cbor_map_put(env, cvm_cbor_uint(1),
			      cvm_cbor_tag(TAG_BYTES, bytes(m->digest, m->digest_len))) &&
	     ok;
	return keep_if(ok, env);
}

static bool nonzero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return true;
	return false;
}

/*
 * Optional reference values that are all zero (no HOST_DATA, no ID key) are left out, as
 * Veraison's reference-value generator leaves them out of the evidence it derives from a report:
 * its appraisal requires every reference mkey in the evidence ("MKey 642 not found").
 */
static cbor_item_t *snp_measurements(const struct cvm_measurement *m)
{
	bool host_data = m->has_host_data && nonzero(m->host_data, sizeof(m->host_data));
	bool id_key = m->has_id_key_digest && nonzero(m->id_key_digest, 48);
	bool author_key = m->has_author_key_digest && nonzero(m->author_key_digest, 48);
	size_t n = 1 + m->has_snp_policy + host_data + id_key + author_key;
	cbor_item_t *list = cbor_new_definite_array(n);
	bool ok = list != NULL;
	if (m->has_snp_policy) {
		uint8_t be[8];
		for (int i = 0; i < 8; i++)
			be[i] = (uint8_t)(m->snp_policy >> (56 - 8 * i));
		ok = ok && cvm_cbor_array_put(list, raw_measurement(cvm_cbor_uint(SNP_MKEY_POLICY),
								    be, sizeof(be)));
	}
	ok = ok && cvm_cbor_array_put(list, digest_measurement(
						    cvm_cbor_uint(SNP_MKEY_MEASUREMENT), m->digest));
	if (host_data)
		ok = ok && cvm_cbor_array_put(list, raw_measurement(
							    cvm_cbor_uint(SNP_MKEY_HOST_DATA),
							    m->host_data, sizeof(m->host_data)));
	if (id_key)
		ok = ok && cvm_cbor_array_put(list, raw_measurement(
							    cvm_cbor_uint(SNP_MKEY_ID_KEY_DIGEST),
							    m->id_key_digest, 48));
	if (author_key)
		ok = ok && cvm_cbor_array_put(list, raw_measurement(
							    cvm_cbor_uint(SNP_MKEY_AUTHOR_KEY_DIGEST),
							    m->author_key_digest, 48));
	if (!ok && list)
		cbor_decref(&list);
	return ok ? list : NULL;
}

static cbor_item_t *tdx_environment(void)
{
	cbor_item_t *cls = map_of(2);
	bool ok = cvm_cbor_map_put(cls, cvm_cbor_uint(1), cbor_build_string(TDX_VENDOR)) &&
		  cvm_cbor_map_put(cls, cvm_cbor_uint(2), cbor_build_string(TDX_MODEL));
	cbor_item_t *env = map_of(1);
	ok = cvm_cbor_map_put(env, cvm_cbor_uint(0), cls) && ok;
	return keep_if(ok, env);
}

static cbor_item_t *tdx_measurements(const struct cvm_measurement *m)
{
	size_t n = 1 + (m->has_td_fields ? 5 : 0);
	for (int i = 0; i < 4; i++)
		n += m->rtmr_known[i];
	cbor_item_t *list = cbor_new_definite_array(n);
	bool ok = list && cvm_cbor_array_put(list, digest_measurement(cbor_build_string("MRTD"),
								      m->digest));
	for (int i = 0; i < 4; i++)
		if (m->rtmr_known[i])
			ok = ok && cvm_cbor_array_put(
					   list, digest_measurement(
							 cbor_build_string(tdx_rtmr_mkeys[i]),
							 m->rtmr[i]));
	if (m->has_td_fields) {
		uint8_t attr[8], xfam[8];
		cvm_put_le64(attr, m->td_attributes);
		cvm_put_le64(xfam, m->xfam);
		ok = ok &&
		     cvm_cbor_array_put(list, raw_measurement(cbor_build_string("TDATTRIBUTES"),
							      attr, 8)) &&
		     cvm_cbor_array_put(list, raw_measurement(cbor_build_string("XFAM"), xfam, 8)) &&
		     cvm_cbor_array_put(list, raw_measurement(cbor_build_string("MRCONFIGID"),
							      m->mrconfigid, 48)) &&
		     cvm_cbor_array_put(list, raw_measurement(cbor_build_string("MROWNER"),
							      m->mrowner, 48)) &&
		     cvm_cbor_array_put(list, raw_measurement(cbor_build_string("MROWNERCONFIG"),
							      m->mrownerconfig, 48));
	}
	if (!ok && list)
		cbor_decref(&list);
	return ok ? list : NULL;
}

/* The tag id: the digest's first 16 bytes shaped as an RFC 9562 version-8 UUID. */
static void tag_uuid(const struct cvm_measurement *m, uint8_t uuid[16])
{
	memcpy(uuid, m->digest, 16);
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x80);
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
}

static int build_comid(const struct cvm_measurement *m, uint8_t **out, size_t *out_len,
		       struct cvm_error *err)
{
	bool snp = m->tee == CVM_TEE_SNP;
	uint8_t uuid[16];
	tag_uuid(m, uuid);
	cbor_item_t *triple = cbor_new_definite_array(2);
	bool ok = cvm_cbor_array_put(triple, snp ? snp_environment(m) : tdx_environment()) &&
		  cvm_cbor_array_put(triple, snp ? snp_measurements(m) : tdx_measurements(m));
	cbor_item_t *refs = cbor_new_definite_array(1);
	ok = cvm_cbor_array_put(refs, triple) && ok;
	cbor_item_t *triples = map_of(1);
	ok = cvm_cbor_map_put(triples, cvm_cbor_uint(0), refs) && ok;
	cbor_item_t *ident = map_of(1);
	ok = cvm_cbor_map_put(ident, cvm_cbor_uint(0), bytes(uuid, sizeof(uuid))) && ok;
	cbor_item_t *comid = map_of(2);
	ok = cvm_cbor_map_put(comid, cvm_cbor_uint(1), ident) && ok;
	ok = cvm_cbor_map_put(comid, cvm_cbor_uint(4), triples) && ok;
	int rc = ok ? cvm_cbor_serialize(comid, out, out_len, err)
		    : cvm_error_set(err, -ENOMEM, "CoRIM: out of memory");
	if (comid)
		cbor_decref(&comid);
	return rc;
}

int cvm_emit_corim_encode(const struct cvm_measurement *m, uint8_t **out, size_t *out_len,
			  struct cvm_error *err)
{
	bool snp = m->tee == CVM_TEE_SNP && strcmp(m->mode, "snp") == 0;
	if (!snp && m->tee != CVM_TEE_TDX)
		return cvm_error_set(err, -EINVAL,
				     "CoRIM: no reference-value profile for mode \"%s\" (only snp "
				     "and tdx)", m->mode);
	uint8_t *comid_bytes;
	size_t comid_len;
	int rc = build_comid(m, &comid_bytes, &comid_len, err);
	if (rc < 0)
		return rc;
	char id[64], hex[17];
	cvm_hex_encode(m->digest, 8, hex);
	snprintf(id, sizeof(id), "cvmkit-%s-%s", snp ? "snp" : "tdx", hex);

	cbor_item_t *tags = cbor_new_definite_array(1);
	bool ok = cvm_cbor_array_put(tags, cvm_cbor_tag(TAG_COMID, bytes(comid_bytes, comid_len)));
	free(comid_bytes);
	cbor_item_t *corim = map_of(snp ? 3 : 2);
	ok = cvm_cbor_map_put(corim, cvm_cbor_uint(0), cbor_build_string(id)) && ok;
	ok = cvm_cbor_map_put(corim, cvm_cbor_uint(1), tags) && ok;
	if (snp)
		ok = ok && cvm_cbor_map_put(corim, cvm_cbor_uint(3),
					    cvm_cbor_tag(TAG_URI, cbor_build_string(SNP_PROFILE)));
	cbor_item_t *tagged = cvm_cbor_tag(TAG_CORIM, keep_if(ok, corim));
	if (!tagged)
		return cvm_error_set(err, -ENOMEM, "CoRIM: out of memory");
	rc = cvm_cbor_serialize(tagged, out, out_len, err);
	cbor_decref(&tagged);
	return rc;
}

/* ---- decoding -------------------------------------------------------------------------------- */

struct corim_reader {
	char *id;
	char *profile;
	bool snp_profile;
	struct cvm_measurement *m; /* created when the first reference value is found */
	bool have_digest;          /* MEASUREMENT / MRTD seen */
	unsigned td_fields;        /* bit per TD field seen: attributes, xfam, mrconfigid, ... */
	char where[96];            /* "CoMID 0 reference triple 1 measurement 2" */
};

static int set_tee(struct corim_reader *r, enum cvm_tee tee, struct cvm_error *err)
{
	if (r->m) {
		if (r->m->tee != tee)
			return cvm_error_set(err, -EINVAL, "%s: mixes SNP and TDX reference values",
					     r->where);
		return 1;
	}
	r->m = cvm_measurement_new(tee, NULL);
	if (!r->m)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

static bool is_tag(const cbor_item_t *item, uint64_t tag)
{
	return item && cbor_isa_tag(item) && cbor_tag_value(item) == tag;
}

/* The tagged item, borrowed (libcbor's cbor_tag_item hands out a new reference). */
static cbor_item_t *tag_content(const cbor_item_t *tag)
{
	cbor_item_t *inner = cbor_tag_item(tag);
	cbor_item_t *ref = inner;
	if (ref)
		cbor_decref(&ref);
	return inner;
}

/* The SHA-384 entry of a digests list [[alg, bytes], ...]. */
static int find_sha384(const cbor_item_t *digests, const char *where, uint8_t out[48],
		       struct cvm_error *err)
{
	if (!digests || !cbor_isa_array(digests) || cbor_array_size(digests) == 0)
		return cvm_error_set(err, -EINVAL, "%s: digests must be a non-empty array", where);
	for (size_t i = 0; i < cbor_array_size(digests); i++) {
		cbor_item_t *d = cbor_array_handle(digests)[i];
		int64_t alg;
		const uint8_t *p;
		size_t n;
		if (!cbor_isa_array(d) || cbor_array_size(d) != 2 ||
		    !cvm_cbor_get_i64(cbor_array_handle(d)[0], &alg) ||
		    !cvm_cbor_bytes(cbor_array_handle(d)[1], &p, &n))
			return cvm_error_set(err, -EINVAL, "%s: digest %zu is not [alg, bytes]",
					     where, i);
		if (alg == HASH_SHA384) {
			if (n != 48)
				return cvm_error_set(err, -EINVAL,
						     "%s: sha-384 digest is %zu bytes, not 48", where,
						     n);
			memcpy(out, p, 48);
			return 0;
		}
	}
	return cvm_error_set(err, -EINVAL, "%s: no sha-384 (alg 7) digest", where);
}

/* 560(bytes) of exactly n bytes under mval key 4. */
static int raw_value(const cbor_item_t *mval, const char *where, uint8_t *out, size_t n,
		     struct cvm_error *err)
{
	cbor_item_t *raw = cvm_cbor_map_get_int(mval, 4);
	const uint8_t *p;
	size_t len;
	if (!is_tag(raw, TAG_BYTES) || !cvm_cbor_bytes(tag_content(raw), &p, &len))
		return cvm_error_set(err, -EINVAL, "%s: expected raw-value 560(bytes)", where);
	if (len != n)
		return cvm_error_set(err, -EINVAL, "%s: raw-value is %zu bytes, not %zu", where,
				     len, n);
	memcpy(out, p, n);
	return 0;
}

/* The mval must hold exactly one entry, under key: a value cvmkit reads in full. */
static int mval_only(const cbor_item_t *mval, int64_t key, const char *where, const char *what,
		     struct cvm_error *err)
{
	if (cbor_map_size(mval) == 1 && cvm_cbor_map_get_int(mval, key))
		return 0;
	return cvm_error_set(err, -EINVAL,
			     "%s: reference value %s is not supported in this form (expected an "
			     "mval holding only key %lld)", where, what, (long long)key);
}

/* A big-endian unsigned integer of n <= 8 raw bytes under mval key 4. */
static int raw_be(const cbor_item_t *mval, const char *where, size_t n, uint64_t *out,
		  struct cvm_error *err)
{
	uint8_t buf[8];
	int rc = raw_value(mval, where, buf, n, err);
	if (rc < 0)
		return rc;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | buf[i];
	*out = v;
	return 0;
}

/* mval key 1: 552(uint) (an exact SVN) or 553(uint) (a minimum). */
static int svn_value(const cbor_item_t *mval, const char *where, bool *minimum, uint64_t *out,
		     struct cvm_error *err)
{
	cbor_item_t *svn = cvm_cbor_map_get_int(mval, 1);
	bool min = is_tag(svn, TAG_MIN_SVN);
	cbor_item_t *v = (min || is_tag(svn, TAG_SVN)) ? tag_content(svn) : NULL;
	if (!v || !cbor_isa_uint(v))
		return cvm_error_set(err, -EINVAL, "%s: expected svn 552(uint) or min-svn 553(uint)",
				     where);
	*minimum = min;
	*out = cbor_get_int(v);
	return 0;
}

/* mval key 0: version-map {0: text, 1: scheme}; decimal (scheme 4) or semver (16384). */
static int version_value(const cbor_item_t *mval, const char *where, bool semver, uint8_t out[3],
			 struct cvm_error *err)
{
	cbor_item_t *vm = cvm_cbor_map_get_int(mval, 0);
	int64_t scheme = -1;
	char *text = vm && cbor_isa_map(vm) ? cvm_cbor_text(cvm_cbor_map_get_int(vm, 0)) : NULL;
	cvm_cbor_get_i64(vm && cbor_isa_map(vm) ? cvm_cbor_map_get_int(vm, 1) : NULL, &scheme);
	unsigned x[3] = {0, 0, 0};
	int used = 0;
	bool ok = text && (text[0] >= '0' && text[0] <= '9');
	if (ok && semver)
		ok = scheme == 16384 && sscanf(text, "%3u.%3u.%3u%n", &x[0], &x[1], &x[2], &used) == 3;
	else if (ok)
		ok = scheme == 4 && sscanf(text, "%3u%n", &x[0], &used) == 1;
	ok = ok && text[used] == '\0' && !strpbrk(text, " +-") && x[0] <= 255 && x[1] <= 255 &&
	     x[2] <= 255;
	free(text);
	if (!ok)
		return cvm_error_set(err, -EINVAL, "%s: expected a version {0: \"%s\", 1: %s}",
				     where, semver ? "MAJOR.MINOR.BUILD" : "N",
				     semver ? "16384 (semver)" : "4 (decimal)");
	for (int i = 0; i < 3; i++)
		out[i] = (uint8_t)x[i];
	return 0;
}

/* A TCB_VERSION reference value: mval key 1, 552(uint64) (a minimum, component-wise). */
static int tcb_value(const cbor_item_t *mval, const char *where, uint64_t *out,
		     struct cvm_error *err)
{
	bool minimum;
	int rc = svn_value(mval, where, &minimum, out, err);
	if (rc == 0 && minimum)
		return cvm_error_set(err, -EINVAL, "%s: expected a TCB as svn 552(uint64)", where);
	return rc;
}

/* The reference values beyond MEASUREMENT and the document's fields (struct cvm_snp_refvals). */
static int snp_refval(struct corim_reader *r, int64_t mkey, const cbor_item_t *mval,
		      struct cvm_error *err)
{
	struct cvm_snp_refvals *rv = &r->m->snp_rv;
	uint64_t x = 0;
	uint8_t ver[3];
	bool minimum;
	int rc;
	uint32_t bit;
	switch (mkey) {
	case SNP_MKEY_VERSION:
		rc = version_value(mval, r->where, false, ver, err);
		rv->version = ver[0];
		bit = CVM_SNP_RV_VERSION;
		break;
	case SNP_MKEY_GUEST_SVN:
		rc = svn_value(mval, r->where, &minimum, &x, err);
		if (rc == 0 && x > UINT32_MAX)
			rc = cvm_error_set(err, -EINVAL, "%s: GUEST_SVN above 2^32-1", r->where);
		rv->guest_svn = (uint32_t)x;
		bit = minimum ? CVM_SNP_RV_MIN_GUEST_SVN : CVM_SNP_RV_GUEST_SVN;
		break;
	case SNP_MKEY_FAMILY_ID:
		rc = raw_value(mval, r->where, rv->family_id, 16, err);
		bit = CVM_SNP_RV_FAMILY_ID;
		break;
	case SNP_MKEY_IMAGE_ID:
		rc = raw_value(mval, r->where, rv->image_id, 16, err);
		bit = CVM_SNP_RV_IMAGE_ID;
		break;
	case SNP_MKEY_VMPL:
		rc = raw_be(mval, r->where, 4, &x, err);
		rv->vmpl = (uint32_t)x;
		bit = CVM_SNP_RV_VMPL;
		break;
	case SNP_MKEY_CURRENT_TCB:
		rc = tcb_value(mval, r->where, &rv->current_tcb, err);
		bit = CVM_SNP_RV_CURRENT_TCB;
		break;
	case SNP_MKEY_PLATFORM_INFO:
		rc = raw_be(mval, r->where, 8, &rv->platform_info, err);
		bit = CVM_SNP_RV_PLATFORM_INFO;
		break;
	case SNP_MKEY_REPORT_DATA:
		rc = raw_value(mval, r->where, rv->report_data, 64, err);
		bit = CVM_SNP_RV_REPORT_DATA;
		break;
	case SNP_MKEY_REPORT_ID:
		rc = raw_value(mval, r->where, rv->report_id, 32, err);
		bit = CVM_SNP_RV_REPORT_ID;
		break;
	case SNP_MKEY_REPORT_ID_MA:
		rc = raw_value(mval, r->where, rv->report_id_ma, 32, err);
		bit = CVM_SNP_RV_REPORT_ID_MA;
		break;
	case SNP_MKEY_REPORTED_TCB:
		rc = tcb_value(mval, r->where, &rv->reported_tcb, err);
		bit = CVM_SNP_RV_REPORTED_TCB;
		break;
	case SNP_MKEY_CHIP_ID:
		rc = raw_value(mval, r->where, rv->chip_id, 64, err);
		bit = CVM_SNP_RV_CHIP_ID;
		break;
	case SNP_MKEY_COMMITTED_TCB:
		rc = tcb_value(mval, r->where, &rv->committed_tcb, err);
		bit = CVM_SNP_RV_COMMITTED_TCB;
		break;
	case SNP_MKEY_CURRENT_VERSION:
		rc = version_value(mval, r->where, true, rv->current_version, err);
		bit = CVM_SNP_RV_CURRENT_VERSION;
		break;
	case SNP_MKEY_COMMITTED_VERSION:
		rc = version_value(mval, r->where, true, rv->committed_version, err);
		bit = CVM_SNP_RV_COMMITTED_VERSION;
		break;
	case SNP_MKEY_LAUNCH_TCB:
		rc = tcb_value(mval, r->where, &rv->launch_tcb, err);
		bit = CVM_SNP_RV_LAUNCH_TCB;
		break;
	default:
		return cvm_error_set(err, -ENOTSUP,
				     "%s: reference value mkey %lld is not supported (cvmkit checks "
				     "mkeys 0-7, 640-647, 3328-3330, 3936 and 3968 of the SNP "
				     "profile)", r->where, (long long)mkey);
	}
	if (rc < 0)
		return rc;
	if (rv->present & bit)
		return cvm_error_set(err, -EINVAL, "%s: reference value mkey %lld given twice",
				     r->where, (long long)mkey);
	rv->present |= bit;
	return 0;
}

/* The mval key each SNP mkey is read from (digests 2, svn 1, version 0, raw value 4). */
static int64_t snp_mval_key(int64_t mkey)
{
	switch (mkey) {
	case SNP_MKEY_MEASUREMENT:
		return 2;
	case SNP_MKEY_VERSION:
	case SNP_MKEY_CURRENT_VERSION:
	case SNP_MKEY_COMMITTED_VERSION:
		return 0;
	case SNP_MKEY_GUEST_SVN:
	case SNP_MKEY_CURRENT_TCB:
	case SNP_MKEY_REPORTED_TCB:
	case SNP_MKEY_COMMITTED_TCB:
	case SNP_MKEY_LAUNCH_TCB:
		return 1;
	default:
		return 4;
	}
}

static int snp_measurement(struct corim_reader *r, int64_t mkey, const cbor_item_t *mval,
			   struct cvm_error *err)
{
	char what[24];
	snprintf(what, sizeof(what), "mkey %lld", (long long)mkey);
	int known = mkey == SNP_MKEY_MEASUREMENT || mkey == SNP_MKEY_POLICY ||
		    mkey == SNP_MKEY_HOST_DATA || mkey == SNP_MKEY_ID_KEY_DIGEST ||
		    mkey == SNP_MKEY_AUTHOR_KEY_DIGEST;
	int vrc = known ? mval_only(mval, snp_mval_key(mkey), r->where, what, err) : 0;
	if (vrc < 0)
		return vrc;
	struct cvm_measurement *m = r->m;
	uint8_t buf[48];
	int rc = 0;
	switch (mkey) {
	case SNP_MKEY_MEASUREMENT:
		rc = find_sha384(cvm_cbor_map_get_int(mval, 2), r->where, buf, err);
		if (rc == 0 && r->have_digest && memcmp(buf, m->digest, 48) != 0)
			return cvm_error_set(err, -EINVAL,
					     "%s: a second, different MEASUREMENT (cvmkit expects "
					     "one reference value)", r->where);
		if (rc == 0) {
			memcpy(m->digest, buf, 48);
			r->have_digest = true;
		}
		return rc;
	case SNP_MKEY_POLICY:
		rc = raw_value(mval, r->where, buf, 8, err);
		if (rc == 0) {
			m->snp_policy = 0;
			for (int i = 0; i < 8; i++)
				m->snp_policy = m->snp_policy << 8 | buf[i]; /* big-endian */
			m->has_snp_policy = true;
		}
		return rc;
	case SNP_MKEY_HOST_DATA:
		rc = raw_value(mval, r->where, m->host_data, 32, err);
		m->has_host_data = rc == 0;
		return rc;
	case SNP_MKEY_ID_KEY_DIGEST:
		rc = raw_value(mval, r->where, m->id_key_digest, 48, err);
		m->has_id_key_digest = rc == 0;
		return rc;
	case SNP_MKEY_AUTHOR_KEY_DIGEST:
		rc = raw_value(mval, r->where, m->author_key_digest, 48, err);
		m->has_author_key_digest = rc == 0;
		return rc;
	default:
		rc = snp_refval(r, mkey, mval, err);
		return rc < 0 ? rc : mval_only(mval, snp_mval_key(mkey), r->where, what, err);
	}
}

static int read_snp_triple(struct corim_reader *r, const cbor_item_t *env,
			   const cbor_item_t *meas, struct cvm_error *err)
{
	cbor_item_t *cls = cvm_cbor_map_get_int(env, 0);
	cbor_item_t *class_id = cvm_cbor_map_get_int(cls, 0);
	const uint8_t *oid;
	size_t oid_len;
	if (!is_tag(class_id, TAG_OID) || !cvm_cbor_bytes(tag_content(class_id), &oid, &oid_len))
		return cvm_error_set(err, -EINVAL,
				     "%s: environment class-id must be an OID (tag 111) in the SNP "
				     "profile", r->where);
	if (!((oid_len == sizeof(snp_class_by_chip) &&
	       memcmp(oid, snp_class_by_chip, oid_len) == 0) ||
	      (oid_len == sizeof(snp_class_by_csp) && memcmp(oid, snp_class_by_csp, oid_len) == 0)))
		return cvm_error_set(err, -EINVAL,
				     "%s: class-id is not 1.3.6.1.4.1.3704.3.1 or .2 (SNP by chip "
				     "or by CSP)", r->where);
	if (!cvm_cbor_map_get_int(env, 1))
		return cvm_error_set(err, -EINVAL,
				     "%s: environment has no instance (the SNP profile requires "
				     "one)", r->where);
	int rc = set_tee(r, CVM_TEE_SNP, err);
	if (rc < 0)
		return rc;
	size_t base = strlen(r->where);
	for (size_t i = 0; i < cbor_array_size(meas); i++) {
		cbor_item_t *mm = cbor_array_handle(meas)[i];
		snprintf(r->where + base, sizeof(r->where) - base, " measurement %zu", i);
		if (!cbor_isa_map(mm))
			return cvm_error_set(err, -EINVAL, "%s: not a map", r->where);
		cbor_item_t *mkey = cvm_cbor_map_get_int(mm, 0);
		cbor_item_t *mval = cvm_cbor_map_get_int(mm, 1);
		if (!mkey)
			return cvm_error_set(err, -EINVAL,
					     "%s: mkey missing (the SNP profile names every "
					     "measurement by a numeric mkey)", r->where);
		if (!cbor_isa_uint(mkey))
			return cvm_error_set(err, -EINVAL,
					     "%s: mkey is not an unsigned integer (the SNP profile "
					     "uses numeric mkeys, e.g. 641 for MEASUREMENT)",
					     r->where);
		if (!mval || !cbor_isa_map(mval))
			return cvm_error_set(err, -EINVAL, "%s: mval missing", r->where);
		if (cbor_get_int(mkey) > INT64_MAX)
			return cvm_error_set(err, -ENOTSUP,
					     "%s: reference value mkey %llu is not supported", r->where,
					     (unsigned long long)cbor_get_int(mkey));
		rc = snp_measurement(r, (int64_t)cbor_get_int(mkey), mval, err);
		if (rc < 0)
			return rc;
	}
	r->where[base] = '\0';
	return 0;
}

static bool class_text_is(const cbor_item_t *cls, int64_t key, const char *want)
{
	char *s = cvm_cbor_text(cvm_cbor_map_get_int(cls, key));
	bool same = s && strcmp(s, want) == 0;
	free(s);
	return same;
}

static int tdx_measurement(struct corim_reader *r, const char *mkey, const cbor_item_t *mval,
			   struct cvm_error *err)
{
	struct cvm_measurement *m = r->m;
	char what[48];
	snprintf(what, sizeof(what), "\"%.32s\"", mkey);
	bool digest = strcmp(mkey, "MRTD") == 0;
	for (int i = 0; i < 4; i++)
		digest |= strcmp(mkey, tdx_rtmr_mkeys[i]) == 0;
	int vrc = mval_only(mval, digest ? 2 : 4, r->where, what, err);
	if (vrc < 0 && (digest || strcmp(mkey, "TDATTRIBUTES") == 0 || strcmp(mkey, "XFAM") == 0 ||
			strcmp(mkey, "MRCONFIGID") == 0 || strcmp(mkey, "MROWNER") == 0 ||
			strcmp(mkey, "MROWNERCONFIG") == 0))
		return vrc;
	if (strcmp(mkey, "MRTD") == 0) {
		int rc = find_sha384(cvm_cbor_map_get_int(mval, 2), r->where, m->digest, err);
		r->have_digest |= rc == 0;
		return rc;
	}
	for (int i = 0; i < 4; i++) {
		if (strcmp(mkey, tdx_rtmr_mkeys[i]) == 0) {
			int rc = find_sha384(cvm_cbor_map_get_int(mval, 2), r->where, m->rtmr[i],
					     err);
			m->rtmr_known[i] = rc == 0;
			return rc;
		}
	}
	uint8_t le[8];
	int rc = 0;
	unsigned bit;
	if (strcmp(mkey, "TDATTRIBUTES") == 0) {
		rc = raw_value(mval, r->where, le, 8, err);
		m->td_attributes = cvm_le64(le);
		bit = 1;
	} else if (strcmp(mkey, "XFAM") == 0) {
		rc = raw_value(mval, r->where, le, 8, err);
		m->xfam = cvm_le64(le);
		bit = 2;
	} else if (strcmp(mkey, "MRCONFIGID") == 0) {
		rc = raw_value(mval, r->where, m->mrconfigid, 48, err);
		bit = 4;
	} else if (strcmp(mkey, "MROWNER") == 0) {
		rc = raw_value(mval, r->where, m->mrowner, 48, err);
		bit = 8;
	} else if (strcmp(mkey, "MROWNERCONFIG") == 0) {
		rc = raw_value(mval, r->where, m->mrownerconfig, 48, err);
		bit = 16;
	} else {
		return cvm_error_set(err, -ENOTSUP,
				     "%s: reference value %s is not supported (cvmkit checks MRTD, "
				     "RTMR0..3, TDATTRIBUTES, XFAM, MRCONFIGID, MROWNER, "
				     "MROWNERCONFIG)", r->where, what);
	}
	if (rc == 0)
		r->td_fields |= bit;
	return rc;
}

/*
 * A generic triple: cvmkit's TDX CoMID ({vendor "Intel Corporation", model "TDX"} with text
 * mkeys), or Intel's profile where a TD's MRTD is mval key -83 (mrtee).  Any other reference
 * value is refused ("not supported"): one that is not checked must not look accepted.
 */
static int read_generic_triple(struct corim_reader *r, const cbor_item_t *env,
			       const cbor_item_t *meas, struct cvm_error *err)
{
	cbor_item_t *cls = cvm_cbor_map_get_int(env, 0);
	bool tdx = class_text_is(cls, 1, TDX_VENDOR) && class_text_is(cls, 2, TDX_MODEL);
	size_t base = strlen(r->where);
	int rc;
	for (size_t i = 0; i < cbor_array_size(meas); i++) {
		cbor_item_t *mm = cbor_array_handle(meas)[i];
		snprintf(r->where + base, sizeof(r->where) - base, " measurement %zu", i);
		if (!cbor_isa_map(mm))
			return cvm_error_set(err, -EINVAL, "%s: not a map", r->where);
		cbor_item_t *mval = cvm_cbor_map_get_int(mm, 1);
		if (!mval || !cbor_isa_map(mval))
			return cvm_error_set(err, -EINVAL, "%s: mval missing", r->where);
		cbor_item_t *mrtee = cvm_cbor_map_get_int(mval, INTEL_MKEY_MRTEE);
		if (mrtee && cbor_map_size(mval) != 1)
			return cvm_error_set(err, -ENOTSUP,
					     "%s: reference values beside mrtee (mval key -83) are not "
					     "supported", r->where);
		if (mrtee) {
			if ((rc = set_tee(r, CVM_TEE_TDX, err)) < 0 ||
			    (rc = find_sha384(mrtee, r->where, r->m->digest, err)) < 0)
				return rc;
			r->have_digest = true;
			continue;
		}
		char *mkey = tdx ? cvm_cbor_text(cvm_cbor_map_get_int(mm, 0)) : NULL;
		if (!mkey)
			return cvm_error_set(err, -ENOTSUP,
					     "%s: reference value is not supported (cvmkit checks the "
					     "AMD SNP profile, its TDX CoMID {\"%s\", \"%s\"} with text "
					     "mkeys, and Intel's mrtee)", r->where, TDX_VENDOR,
					     TDX_MODEL);
		rc = set_tee(r, CVM_TEE_TDX, err);
		if (rc >= 0)
			rc = tdx_measurement(r, mkey, mval, err);
		free(mkey);
		if (rc < 0)
			return rc;
	}
	r->where[base] = '\0';
	return 0;
}

static int read_reference_triples(struct corim_reader *r, const cbor_item_t *list,
				  struct cvm_error *err)
{
	size_t base = strlen(r->where);
	if (!cbor_isa_array(list))
		return cvm_error_set(err, -EINVAL, "%s: reference-triples is not an array", r->where);
	for (size_t i = 0; i < cbor_array_size(list); i++) {
		cbor_item_t *t = cbor_array_handle(list)[i];
		snprintf(r->where + base, sizeof(r->where) - base, " reference triple %zu", i);
		if (!cbor_isa_array(t) || cbor_array_size(t) != 2 ||
		    !cbor_isa_map(cbor_array_handle(t)[0]) ||
		    !cbor_isa_array(cbor_array_handle(t)[1]))
			return cvm_error_set(err, -EINVAL,
					     "%s: expected [environment-map, [measurement-map...]]",
					     r->where);
		int rc = r->snp_profile ? read_snp_triple(r, cbor_array_handle(t)[0],
							  cbor_array_handle(t)[1], err)
					: read_generic_triple(r, cbor_array_handle(t)[0],
							      cbor_array_handle(t)[1], err);
		if (rc < 0)
			return rc;
	}
	r->where[base] = '\0';
	return 0;
}

/* Trust anchors (attest-key triples): Veraison's SNP scheme needs vendor and model. */
static int check_attest_key_triples(struct corim_reader *r, const cbor_item_t *list,
				    struct cvm_error *err)
{
	size_t base = strlen(r->where);
	if (!cbor_isa_array(list))
		return cvm_error_set(err, -EINVAL, "%s: attest-key-triples is not an array",
				     r->where);
	for (size_t i = 0; i < cbor_array_size(list); i++) {
		cbor_item_t *t = cbor_array_handle(list)[i];
		snprintf(r->where + base, sizeof(r->where) - base, " attest-key triple %zu", i);
		if (!cbor_isa_array(t) || cbor_array_size(t) < 2 ||
		    !cbor_isa_map(cbor_array_handle(t)[0]))
			return cvm_error_set(err, -EINVAL, "%s: expected [environment-map, keys]",
					     r->where);
		cbor_item_t *cls = cvm_cbor_map_get_int(cbor_array_handle(t)[0], 0);
		char *vendor = cvm_cbor_text(cvm_cbor_map_get_int(cls, 1));
		char *model = cvm_cbor_text(cvm_cbor_map_get_int(cls, 2));
		int rc = 0;
		if (!vendor)
			rc = cvm_error_set(err, -EINVAL,
					   "%s: trust anchor environment has no vendor (the SNP "
					   "profile names the AMD root by vendor and model)", r->where);
		else if (!model)
			rc = cvm_error_set(err, -EINVAL,
					   "%s: trust anchor environment has no model (the SNP "
					   "profile names the AMD root, e.g. \"ARK-Genoa\", as model)",
					   r->where);
		free(vendor);
		free(model);
		if (rc < 0)
			return rc;
	}
	r->where[base] = '\0';
	return 0;
}

static int read_comid(struct corim_reader *r, const uint8_t *data, size_t len,
		      struct cvm_error *err)
{
	cbor_item_t *comid;
	int rc = cvm_cbor_load(data, len, CORIM_MAX_DEPTH, &comid, err);
	if (rc < 0)
		return cvm_error_wrap(err, "%s", r->where);
	cbor_item_t *ident = cvm_cbor_map_get_int(comid, 1);
	cbor_item_t *triples = cvm_cbor_map_get_int(comid, 4);
	if (!cbor_isa_map(comid))
		rc = cvm_error_set(err, -EINVAL, "%s: not a map", r->where);
	else if (!ident || !cbor_isa_map(ident) || !cvm_cbor_map_get_int(ident, 0))
		rc = cvm_error_set(err, -EINVAL, "%s: tag-identity (key 1) missing", r->where);
	else if (!triples || !cbor_isa_map(triples))
		rc = cvm_error_set(err, -EINVAL, "%s: triples (key 4) missing", r->where);
	cbor_item_t *refs = rc == 0 ? cvm_cbor_map_get_int(triples, 0) : NULL;
	cbor_item_t *aks = rc == 0 ? cvm_cbor_map_get_int(triples, 3) : NULL;
	if (rc == 0 && refs)
		rc = read_reference_triples(r, refs, err);
	if (rc == 0 && aks && r->snp_profile)
		rc = check_attest_key_triples(r, aks, err);
	cbor_decref(&comid);
	return rc;
}

static int read_profile(struct corim_reader *r, const cbor_item_t *profile,
			struct cvm_error *err)
{
	if (!profile)
		return 0;
	if (is_tag(profile, TAG_URI)) {
		r->profile = cvm_cbor_text(tag_content(profile));
		if (!r->profile)
			return cvm_error_set(err, -EINVAL, "CoRIM: profile URI is not text");
		r->snp_profile = strcmp(r->profile, SNP_PROFILE) == 0 ||
				 strcmp(r->profile, SNP_PROFILE_GO_GEN_REF) == 0;
		return 0;
	}
	const uint8_t *oid;
	size_t n;
	if (is_tag(profile, TAG_OID) && cvm_cbor_bytes(tag_content(profile), &oid, &n)) {
		char *hex = malloc(2 * n + 5);
		if (!hex)
			return cvm_error_set(err, -ENOMEM, "out of memory");
		memcpy(hex, "oid:", 4);
		cvm_hex_encode(oid, n, hex + 4);
		r->profile = hex;
		return 0;
	}
	/* Not the spec's 32(uri)/111(oid), but seen in the wild (Trustee's example): a bare text. */
	r->profile = cvm_cbor_text(profile);
	if (!r->profile)
		return cvm_error_set(err, -EINVAL, "CoRIM: profile (key 3) is not a URI or OID");
	return 0;
}

static int read_corim_map(struct corim_reader *r, const cbor_item_t *corim,
			  struct cvm_error *err)
{
	if (!cbor_isa_map(corim))
		return cvm_error_set(err, -EINVAL, "CoRIM: tag 501 does not hold a map");
	cbor_item_t *id = cvm_cbor_map_get_int(corim, 0);
	cbor_item_t *tags = cvm_cbor_map_get_int(corim, 1);
	if (!id)
		return cvm_error_set(err, -EINVAL, "CoRIM: id (key 0) missing");
	r->id = cvm_cbor_text(id);
	if (!r->id && !(is_tag(id, TAG_UUID)))
		return cvm_error_set(err, -EINVAL, "CoRIM: id is neither text nor a UUID");
	if (!tags || !cbor_isa_array(tags) || cbor_array_size(tags) == 0)
		return cvm_error_set(err, -EINVAL, "CoRIM: tags (key 1) must be a non-empty array");
	int rc = read_profile(r, cvm_cbor_map_get_int(corim, 3), err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < cbor_array_size(tags); i++) {
		cbor_item_t *t = cbor_array_handle(tags)[i];
		const uint8_t *p;
		size_t n;
		snprintf(r->where, sizeof(r->where), "CoRIM tag %zu (CoMID)", i);
		if (is_tag(t, TAG_COSWID) || (cbor_isa_tag(t) && cbor_tag_value(t) != TAG_COMID))
			continue; /* CoSWID, CoTS, ...: nothing cvmkit checks */
		if (!is_tag(t, TAG_COMID) || !cvm_cbor_bytes(tag_content(t), &p, &n))
			return cvm_error_set(err, -EINVAL, "%s: expected 506(bytes)", r->where);
		rc = read_comid(r, p, n, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int finish(struct corim_reader *r, struct cvm_measurement **out, struct cvm_error *err)
{
	struct cvm_measurement *m = r->m;
	if (!m || !r->have_digest)
		return cvm_error_set(err, -EINVAL,
				     "CoRIM: no reference value cvmkit can check: expected an SNP "
				     "MEASUREMENT (mkey 641, profile %s) or a TDX MRTD (mkey "
				     "\"MRTD\" under %s/%s, or Intel profile mrtee)", SNP_PROFILE,
				     TDX_VENDOR, TDX_MODEL);
	/* All five TD fields or none, as in the JSON document. */
	if (r->td_fields != 0 && r->td_fields != 0x1f)
		return cvm_error_set(err, -EINVAL,
				     "CoRIM: TDX CoMID carries only some of TDATTRIBUTES, XFAM, "
				     "MRCONFIGID, MROWNER, MROWNERCONFIG (all or none)");
	m->has_td_fields = r->td_fields == 0x1f;
	int rc = cvm_emit_list_set(&m->inputs, &m->ninputs, "source", "corim", false);
	if (rc == 0 && r->id)
		rc = cvm_emit_list_set(&m->inputs, &m->ninputs, "corim_id", r->id, false);
	if (rc == 0 && r->profile)
		rc = cvm_emit_list_set(&m->inputs, &m->ninputs, "corim_profile", r->profile, false);
	if (rc < 0)
		return cvm_error_set(err, rc, "out of memory");
	*out = m;
	r->m = NULL;
	return 0;
}

int cvm_emit_corim_decode(const uint8_t *data, size_t len, struct cvm_measurement **out,
			  struct cvm_error *err)
{
	if (len > 0 && (data[0] == 0xd2 || (len > 1 && data[0] == 0xd8 && data[1] == TAG_COSE_SIGN1)))
		return cvm_error_set(err, -ENOTSUP,
				     "CoRIM: signed CoRIM (COSE_Sign1, tag 18) is not supported; "
				     "verify it with a CoRIM tool and pass the unsigned CoRIM");
	cbor_item_t *root;
	int rc = cvm_cbor_load(data, len, CORIM_MAX_DEPTH, &root, err);
	if (rc < 0)
		return cvm_error_wrap(err, "CoRIM");
	struct corim_reader r = {0};
	const uint8_t *p;
	size_t n;
	if (is_tag(root, TAG_CORIM)) {
		rc = read_corim_map(&r, tag_content(root), err);
	} else if (is_tag(root, TAG_COMID) && cvm_cbor_bytes(tag_content(root), &p, &n)) {
		snprintf(r.where, sizeof(r.where), "CoMID");
		rc = read_comid(&r, p, n, err);
	} else {
		rc = cvm_error_set(err, -EINVAL,
				   "CoRIM: expected tag 501 (unsigned CoRIM) or 506 (CoMID)");
	}
	if (rc == 0)
		rc = finish(&r, out, err);
	cbor_decref(&root);
	cvm_measurement_free(r.m);
	free(r.id);
	free(r.profile);
	return rc;
}
