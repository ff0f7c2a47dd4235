/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the measurement document and its encodings (measure/emit*.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include <cvmkit/emit.h>
#include <cvmkit/error.h>
#include <cvmkit/util.h>

/* The real MEASUREMENT of reference-formats.md section 2. */
static const char snp_digest_hex[] =
	"5feee30d6d7e1a29f403d70a4198237ddfb13051a2d6976439487c609388ed7f"
	"98189887920ab2fa0096903a0c23fca1";
/* The MRTD of reference-formats.md section 3 (tdx_prod_quote_SPR_E4.dat). */
static const char tdx_mrtd_hex[] =
	"6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f"
	"22fc00b8dcd404bc10d5e119d7215cbb";

static struct cvm_measurement *make_snp(void)
{
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_SNP, "snp");
	assert_non_null(m);
	assert_int_equal(cvm_hex_decode(snp_digest_hex, m->digest, 48), 0);
	m->has_snp_policy = true;
	m->snp_policy = 0x30000;
	m->has_host_data = true;
	memset(m->host_data, 0xab, sizeof(m->host_data));
	m->has_id_key_digest = true;
	memset(m->id_key_digest, 0x11, sizeof(m->id_key_digest));
	assert_int_equal(cvm_measurement_add_input(m, "vmm", "%s", "qemu"), 0);
	assert_int_equal(cvm_measurement_add_input_u64(m, "vcpus", 4), 0);
	assert_int_equal(cvm_measurement_add_input(m, "guest_features", "0x%x", 1), 0);
	assert_int_equal(cvm_measurement_add_input(m, "cmdline", "console=ttyS0 \"q\" \\ é"), 0);
	assert_int_equal(cvm_measurement_add_launch_u64(m, "prefault_bytes", UINT64_MAX), 0);
	return m;
}

static struct cvm_measurement *make_tdx(void)
{
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_TDX, NULL);
	assert_non_null(m);
	assert_int_equal(cvm_hex_decode(tdx_mrtd_hex, m->digest, 48), 0);
	m->has_td_fields = true;
	m->td_attributes = 0x10000000;
	m->xfam = 0xe7;
	memset(m->mrconfigid, 0x01, 48);
	memset(m->mrowner, 0x02, 48);
	memset(m->mrownerconfig, 0x03, 48);
	m->rtmr_known[0] = true;
	memset(m->rtmr[0], 0xa0, 48);
	m->rtmr_known[1] = true;
	memset(m->rtmr[1], 0xa1, 48);
	assert_int_equal(cvm_measurement_set_rtmr_note(m, 1, "assumes OVMF edk2-stable202408"), 0);
	assert_int_equal(cvm_measurement_set_rtmr_note(m, 2, "depends on the guest's shim"), 0);
	uint8_t d[48];
	memset(d, 0x5a, sizeof(d));
	assert_int_equal(cvm_measurement_add_event(m, 0, "EV_EFI_HANDOFF_TABLES2", "TD HOB", d), 0);
	d[0] = 1;
	assert_int_equal(cvm_measurement_add_event(m, 1, "EV_EFI_BOOT_SERVICES_APPLICATION",
						   "kernel", d), 0);
	assert_int_equal(cvm_measurement_add_input(m, "measure_order", "single-pass"), 0);
	return m;
}

static void assert_same(const struct cvm_measurement *a, const struct cvm_measurement *b)
{
	assert_int_equal(a->tee, b->tee);
	assert_string_equal(a->mode, b->mode);
	assert_string_equal(a->algorithm, b->algorithm);
	assert_int_equal(a->digest_len, b->digest_len);
	assert_memory_equal(a->digest, b->digest, a->digest_len);
	assert_int_equal(a->has_snp_policy, b->has_snp_policy);
	if (a->has_snp_policy)
		assert_int_equal(a->snp_policy, b->snp_policy);
	assert_int_equal(a->has_host_data, b->has_host_data);
	if (a->has_host_data)
		assert_memory_equal(a->host_data, b->host_data, 32);
	assert_int_equal(a->has_id_key_digest, b->has_id_key_digest);
	if (a->has_id_key_digest)
		assert_memory_equal(a->id_key_digest, b->id_key_digest, 48);
	assert_int_equal(a->has_author_key_digest, b->has_author_key_digest);
	assert_int_equal(a->has_td_fields, b->has_td_fields);
	if (a->has_td_fields) {
		assert_int_equal(a->td_attributes, b->td_attributes);
		assert_int_equal(a->xfam, b->xfam);
		assert_memory_equal(a->mrconfigid, b->mrconfigid, 48);
		assert_memory_equal(a->mrowner, b->mrowner, 48);
		assert_memory_equal(a->mrownerconfig, b->mrownerconfig, 48);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(a->rtmr_known[i], b->rtmr_known[i]);
		if (a->rtmr_known[i])
			assert_memory_equal(a->rtmr[i], b->rtmr[i], 48);
		assert_int_equal(a->rtmr_note[i] != NULL, b->rtmr_note[i] != NULL);
		if (a->rtmr_note[i])
			assert_string_equal(a->rtmr_note[i], b->rtmr_note[i]);
	}
	assert_int_equal(a->nevents, b->nevents);
	for (size_t i = 0; i < a->nevents; i++) {
		assert_int_equal(a->events[i].rtmr, b->events[i].rtmr);
		assert_string_equal(a->events[i].type, b->events[i].type);
		assert_string_equal(a->events[i].description, b->events[i].description);
		assert_memory_equal(a->events[i].digest, b->events[i].digest, 48);
	}
	assert_int_equal(a->ninputs, b->ninputs);
	for (size_t i = 0; i < a->ninputs; i++) {
		assert_string_equal(a->inputs[i].key, b->inputs[i].key);
		assert_string_equal(a->inputs[i].value, b->inputs[i].value);
		assert_int_equal(a->inputs[i].is_number, b->inputs[i].is_number);
	}
	assert_int_equal(a->nlaunch, b->nlaunch);
	for (size_t i = 0; i < a->nlaunch; i++) {
		assert_string_equal(a->launch[i].key, b->launch[i].key);
		assert_string_equal(a->launch[i].value, b->launch[i].value);
	}
}

static struct cvm_measurement *round_trip(const struct cvm_measurement *m,
					  enum cvm_emit_format fmt)
{
	struct cvm_error err;
	uint8_t *buf = NULL;
	size_t len = 0;
	struct cvm_measurement *back = NULL;
	int rc = cvm_measurement_encode(m, fmt, &buf, &len, &err);
	if (rc < 0)
		fail_msg("encode: %s", cvm_error_message(&err));
	rc = cvm_measurement_decode(buf, len, &back, &err);
	if (rc < 0)
		fail_msg("decode: %s", cvm_error_message(&err));
	free(buf);
	return back;
}

static int decode_text(const char *text, struct cvm_measurement **out, struct cvm_error *err)
{
	return cvm_measurement_decode((const uint8_t *)text, strlen(text), out, err);
}

/* ---- construction ------------------------------------------------------------------------- */

static void new_picks_algorithm_from_mode(void **state)
{
	(void)state;
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_SNP, "snp");
	assert_string_equal(m->algorithm, "sha384");
	assert_int_equal(m->digest_len, 48);
	cvm_measurement_free(m);
	m = cvm_measurement_new(CVM_TEE_SNP, "seves");
	assert_string_equal(m->algorithm, "sha256");
	assert_int_equal(m->digest_len, 32);
	cvm_measurement_free(m);
	m = cvm_measurement_new(CVM_TEE_TDX, NULL);
	assert_string_equal(m->mode, "tdx");
	cvm_measurement_free(m);
	cvm_measurement_free(NULL);
}

static void add_input_same_key_replaces_in_place(void **state)
{
	(void)state;
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_SNP, "snp");
	cvm_measurement_add_input(m, "a", "1");
	cvm_measurement_add_input_u64(m, "b", 2);
	cvm_measurement_add_input(m, "a", "x%d", 3);
	assert_int_equal(m->ninputs, 2);
	assert_string_equal(m->inputs[0].key, "a");
	assert_string_equal(m->inputs[0].value, "x3");
	assert_false(m->inputs[0].is_number);
	assert_true(m->inputs[1].is_number);
	assert_int_equal(cvm_measurement_set_rtmr_note(m, 4, "x"), -EINVAL);
	assert_int_equal(cvm_measurement_add_event(m, 4, "t", "d", m->digest), -EINVAL);
	cvm_measurement_free(m);
}

static void format_names_parse_back(void **state)
{
	(void)state;
	enum cvm_emit_format f;
	const char *names[] = {"json", "hex", "cbor", "corim", "rvps"};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(names); i++) {
		assert_int_equal(cvm_emit_format_parse(names[i], &f), 0);
		assert_string_equal(cvm_emit_format_name(f), names[i]);
	}
	assert_int_equal(cvm_emit_format_parse("xml", &f), -EINVAL);
	assert_int_equal(cvm_emit_format_parse("JSON", &f), -EINVAL);
	assert_null(cvm_emit_format_name((enum cvm_emit_format)99));
}

/* ---- hex and JSON -------------------------------------------------------------------------- */

static void hex_is_lowercase_digest_and_newline(void **state)
{
	(void)state;
	struct cvm_measurement *m = make_snp();
	uint8_t *buf;
	size_t len;
	assert_int_equal(cvm_measurement_encode(m, CVM_FMT_HEX, &buf, &len, NULL), 0);
	assert_int_equal(len, 97);
	assert_memory_equal(buf, snp_digest_hex, 96);
	assert_int_equal(buf[96], '\n');
	free(buf);
	cvm_measurement_free(m);
}

static void json_carries_schema_and_fields(void **state)
{
	(void)state;
	struct cvm_measurement *m = make_snp();
	uint8_t *buf;
	size_t len;
	assert_int_equal(cvm_measurement_encode(m, CVM_FMT_JSON, &buf, &len, NULL), 0);
	const char *text = (const char *)buf;
	assert_non_null(strstr(text, "\"schema\": \"cvmkit-measurement/1\""));
	assert_non_null(strstr(text, snp_digest_hex));
	assert_non_null(strstr(text, "\"policy\": \"0x30000\""));
	assert_non_null(strstr(text, "\"vcpus\": 4"));
	assert_non_null(strstr(text, "\"prefault_bytes\": 18446744073709551615"));
	assert_true(strstr(text, "\"vmm\"") < strstr(text, "\"vcpus\""));
	assert_int_equal(buf[len - 1], '\n');
	free(buf);
	cvm_measurement_free(m);
}

static void json_round_trips_snp(void **state)
{
	(void)state;
	struct cvm_measurement *m = make_snp();
	struct cvm_measurement *back = round_trip(m, CVM_FMT_JSON);
	assert_same(m, back);
	cvm_measurement_free(back);
	cvm_measurement_free(m);
}

static void json_round_trips_tdx(void **state)
{
	(void)state;
	struct cvm_measurement *m = make_tdx();
	struct cvm_measurement *back = round_trip(m, CVM_FMT_JSON);
	assert_same(m, back);
	cvm_measurement_free(back);
	cvm_measurement_free(m);
}

static void json_round_trips_legacy_sev(void **state)
{
	(void)state;
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_SNP, "sev");
	memset(m->digest, 0x42, 32);
	struct cvm_measurement *back = round_trip(m, CVM_FMT_JSON);
	assert_same(m, back);
	cvm_measurement_free(back);
	cvm_measurement_free(m);
}

static void encode_refuses_inconsistent_mode(void **state)
{
	(void)state;
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_TDX, "snp");
	struct cvm_error err;
	uint8_t *buf = NULL;
	size_t len;
	assert_int_equal(cvm_measurement_encode(m, CVM_FMT_JSON, &buf, &len, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "does not belong to tee"));
	assert_null(buf);
	cvm_measurement_free(m);
}

static const char minimal_snp[] =
	"{\"schema\":\"cvmkit-measurement/1\",\"tee\":\"snp\",\"mode\":\"snp\","
	"\"algorithm\":\"sha384\",\"digest\":\"%s\"%s}";

static void expect_reject(const char *extra_or_digest, bool is_digest, const char *msg_part)
{
	char text[1024];
	snprintf(text, sizeof(text), minimal_snp, is_digest ? extra_or_digest : snp_digest_hex,
		 is_digest ? "" : extra_or_digest);
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(decode_text(text, &m, &err), -EINVAL);
	assert_null(m);
	if (!strstr(cvm_error_message(&err), msg_part))
		fail_msg("error \"%s\" lacks \"%s\"", cvm_error_message(&err), msg_part);
}

static void json_decode_accepts_minimal(void **state)
{
	(void)state;
	char text[512];
	snprintf(text, sizeof(text), minimal_snp, snp_digest_hex, "");
	struct cvm_measurement *m = NULL;
	assert_int_equal(decode_text(text, &m, NULL), 0);
	assert_int_equal(m->tee, CVM_TEE_SNP);
	assert_int_equal(m->ninputs, 0);
	cvm_measurement_free(m);
}

static void json_decode_rejects_bad_documents(void **state)
{
	(void)state;
	expect_reject(",\"extra\":1", false, "extra: unknown key");
	expect_reject(",\"report\":{\"policy\":\"30000\"}", false, "report.policy");
	expect_reject(",\"report\":{\"mrtd\":\"00\"}", false, "report.mrtd");
	expect_reject(",\"inputs\":{\"a\":[1]}", false, "inputs.a");
	expect_reject(",\"inputs\":{\"big\":412e483648}", false, "inputs.big: not a finite");
	expect_reject(",\"events\":[{\"rtmr\":4,\"type\":\"t\",\"digest\":\"00\"}]", false,
		      "events[0].rtmr");
	expect_reject("5FEEE30D6D7E1A29F403D70A4198237DDFB13051A2D6976439487C609388ED7F"
		      "98189887920AB2FA0096903A0C23FCA1", true, "lower-case hex");
	expect_reject("5fee", true, "digest");

	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	assert_int_equal(decode_text("{\"schema\":\"cvmkit-measurement/2\"}", &m, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "schema"));
	assert_int_equal(decode_text("{\"schema\":", &m, &err), -EINVAL);
	assert_int_equal(decode_text("{} x", &m, &err), -EINVAL);
	assert_int_equal(decode_text("", &m, &err), -EINVAL);
	assert_int_equal(decode_text("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", &m, &err),
			 -EINVAL);
	assert_null(m);
}


/* ---- CBOR, CoRIM, RVPS ----------------------------------------------------------------------- */

static void cbor_round_trips_snp_and_tdx(void **state)
{
	(void)state;
	struct cvm_measurement *m = make_snp();
	struct cvm_measurement *back = round_trip(m, CVM_FMT_CBOR);
	assert_same(m, back);
	cvm_measurement_free(back);
	cvm_measurement_free(m);
	m = make_tdx();
	back = round_trip(m, CVM_FMT_CBOR);
	assert_same(m, back);
	cvm_measurement_free(back);
	cvm_measurement_free(m);
}

static void cbor_starts_with_a_map_and_names_schema(void **state)
{
	(void)state;
	struct cvm_measurement *m = make_snp();
	uint8_t *buf;
	size_t len;
	assert_int_equal(cvm_measurement_encode(m, CVM_FMT_CBOR, &buf, &len, NULL), 0);
	assert_int_equal(buf[0] & 0xe0, 0xa0);
	/* "schema" as the first key: 0x66 's' 'c' 'h' 'e' 'm' 'a' */
	assert_memory_equal(buf + 1, "\x66schema", 7);
	free(buf);
	cvm_measurement_free(m);
}

static void cbor_decode_rejects_malformed(void **state)
{
	(void)state;
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	/* map of 2^32 pairs with no bytes behind it */
	const uint8_t huge[] = {0xba, 0xff, 0xff, 0xff, 0xff};
	assert_int_equal(cvm_measurement_decode(huge, sizeof(huge), &m, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "longer than the input"));
	const uint8_t indefinite[] = {0xbf, 0xff};
	assert_int_equal(cvm_measurement_decode(indefinite, sizeof(indefinite), &m, &err), -EINVAL);
	const uint8_t int_key[] = {0xa1, 0x01, 0x02};
	assert_int_equal(cvm_measurement_decode(int_key, sizeof(int_key), &m, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "not text"));
	const uint8_t trailing[] = {0xa0, 0x00};
	assert_int_equal(cvm_measurement_decode(trailing, sizeof(trailing), &m, &err), -EINVAL);
	uint8_t deep[64];
	memset(deep, 0x81, sizeof(deep));
	deep[0] = 0xa1;
	deep[1] = 0x61;
	deep[2] = 'a';
	deep[63] = 0x00;
	assert_int_equal(cvm_measurement_decode(deep, sizeof(deep), &m, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "nested deeper"));
	assert_null(m);
}

static void corim_round_trips_snp(void **state)
{
	(void)state;
	struct cvm_measurement *m = make_snp();
	m->has_author_key_digest = true;
	memset(m->author_key_digest, 0x22, 48);
	struct cvm_measurement *back = round_trip(m, CVM_FMT_CORIM);
	assert_int_equal(back->tee, CVM_TEE_SNP);
	assert_memory_equal(back->digest, m->digest, 48);
	assert_true(back->has_snp_policy);
	assert_int_equal(back->snp_policy, 0x30000);
	assert_true(back->has_host_data);
	assert_memory_equal(back->host_data, m->host_data, 32);
	assert_true(back->has_id_key_digest);
	assert_memory_equal(back->id_key_digest, m->id_key_digest, 48);
	assert_true(back->has_author_key_digest);
	assert_memory_equal(back->author_key_digest, m->author_key_digest, 48);
	assert_string_equal(back->inputs[back->ninputs - 1].value,
			    "tag:amd.com,2024:snp-corim-profile");
	cvm_measurement_free(back);
	cvm_measurement_free(m);
}

static void corim_snp_has_profile_tag_and_mkey_641(void **state)
{
	(void)state;
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_SNP, "snp");
	assert_int_equal(cvm_hex_decode(snp_digest_hex, m->digest, 48), 0);
	uint8_t *buf;
	size_t len;
	assert_int_equal(cvm_measurement_encode(m, CVM_FMT_CORIM, &buf, &len, NULL), 0);
	assert_memory_equal(buf, "\xd9\x01\xf5", 3); /* tag 501 */
	const char profile[] = "\xd8\x20\x78\x22tag:amd.com,2024:snp-corim-profile";
	assert_memory_equal(buf + len - (sizeof(profile) - 1), profile, sizeof(profile) - 1);
	/* mkey 641 (0x19 0x0281) then mval {2: [[7, 48 bytes]]} */
	const uint8_t mkey[] = {0x00, 0x19, 0x02, 0x81, 0x01, 0xa1, 0x02, 0x81, 0x82, 0x07,
				0x58, 0x30, 0x5f, 0xee};
	assert_non_null(memmem(buf, len, mkey, sizeof(mkey)));
	free(buf);
	cvm_measurement_free(m);
}

static void corim_round_trips_tdx(void **state)
{
	(void)state;
	struct cvm_measurement *m = make_tdx();
	struct cvm_measurement *back = round_trip(m, CVM_FMT_CORIM);
	assert_int_equal(back->tee, CVM_TEE_TDX);
	assert_memory_equal(back->digest, m->digest, 48);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(back->rtmr_known[i], m->rtmr_known[i]);
		if (m->rtmr_known[i])
			assert_memory_equal(back->rtmr[i], m->rtmr[i], 48);
	}
	assert_true(back->has_td_fields);
	assert_int_equal(back->td_attributes, m->td_attributes);
	assert_int_equal(back->xfam, m->xfam);
	assert_memory_equal(back->mrownerconfig, m->mrownerconfig, 48);
	cvm_measurement_free(back);
	cvm_measurement_free(m);
}

static void corim_refuses_legacy_sev(void **state)
{
	(void)state;
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_SNP, "seves");
	uint8_t *buf = NULL;
	size_t len;
	struct cvm_error err;
	assert_int_equal(cvm_measurement_encode(m, CVM_FMT_CORIM, &buf, &len, &err), -EINVAL);
	assert_int_equal(cvm_measurement_encode(m, CVM_FMT_RVPS, &buf, &len, &err), -EINVAL);
	assert_null(buf);
	cvm_measurement_free(m);
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;
	assert_true(n <= cap);
	assert_int_equal(cvm_hex_decode(hex, out, n), 0);
	return n;
}

/* The spec's example CoMIDs (reference-formats.md sections 2 and 3), wrapped in CoRIMs. */
static void corim_reads_spec_examples(void **state)
{
	(void)state;
	static const char snp_comid[] =
		"a201a100503a3b3c3d00004000800000000000000104a1008182a200a100d86f492b06010401"
		"9c78030101d9023058404ffb5cb4fd594f3fee6528fc3fb10370bb38abe89dcd5ba2cf0ab6a1"
		"1df2ca282add516bef45a890a8c9f9732bdca68f9f3f16c42e846030a800295dbeb19ba581a2"
		"0019028101a10281820758305feee30d6d7e1a29f403d70a4198237ddfb13051a2d697643948"
		"7c609388ed7f98189887920ab2fa0096903a0c23fca1";
	static const char tdx_comid[] =
		"a201a100503a3b3c3d00004000800000000000000204a1008182a100a20171496e74656c2043"
		"6f72706f726174696f6e026354445881a200644d52544401a10281820758306363b8043668a3"
		"ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7"
		"215cbb";
	uint8_t doc[512], comid[256];
	size_t n = unhex(snp_comid, comid, sizeof(comid));
	assert_int_equal(n, 174);
	/* 501({0: "x", 1: [506(bstr)], 3: 32("tag:amd.com,2024:snp-corim-profile")}) */
	size_t off = 0;
	memcpy(doc, "\xd9\x01\xf5\xa3\x00\x61x\x01\x81\xd9\x01\xfa\x58", 13);
	off = 13;
	doc[off++] = (uint8_t)n;
	memcpy(doc + off, comid, n);
	off += n;
	memcpy(doc + off, "\x03\xd8\x20\x78\x22tag:amd.com,2024:snp-corim-profile", 39);
	off += 39;
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	if (cvm_measurement_decode(doc, off, &m, &err) < 0)
		fail_msg("%s", cvm_error_message(&err));
	char hex[97];
	cvm_hex_encode(m->digest, 48, hex);
	assert_string_equal(hex, snp_digest_hex);
	assert_int_equal(m->tee, CVM_TEE_SNP);
	cvm_measurement_free(m);

	n = unhex(tdx_comid, comid, sizeof(comid));
	assert_int_equal(n, 117);
	memcpy(doc, "\xd9\x01\xf5\xa2\x00\x61x\x01\x81\xd9\x01\xfa\x58", 13);
	off = 13;
	doc[off++] = (uint8_t)n;
	memcpy(doc + off, comid, n);
	off += n;
	if (cvm_measurement_decode(doc, off, &m, &err) < 0)
		fail_msg("%s", cvm_error_message(&err));
	cvm_hex_encode(m->digest, 48, hex);
	assert_string_equal(hex, tdx_mrtd_hex);
	assert_int_equal(m->tee, CVM_TEE_TDX);
	assert_false(m->has_td_fields);
	cvm_measurement_free(m);
}

static char *vector_path(const char *rel)
{
	const char *root = getenv("CVMKIT_SHARED");
	if (!root || !*root)
		root = CVMKIT_SHARED_DIR;
	char *path = NULL;
	if (asprintf(&path, "%s/vectors/attest/%s", root, rel) < 0)
		return NULL;
	return path;
}

/* Decodes a vector; returns the rc, or 1 when the file is missing (the test then skips). */
static int decode_vector(const char *rel, struct cvm_measurement **m, struct cvm_error *err)
{
	char *path = vector_path(rel);
	struct cvm_file f;
	int rc = cvm_file_open(path, &f, NULL);
	free(path);
	if (rc < 0)
		return 1;
	rc = cvm_measurement_decode(f.data, f.size, m, err);
	cvm_file_close(&f);
	return rc;
}

static void corim_reads_veraison_valid_measurement(void **state)
{
	(void)state;
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	int rc = decode_vector("veraison-services-sevsnp/corim/corim-sevsnp-valid.cbor", &m, &err);
	if (rc == 1) {
		print_message("# SKIP Veraison vectors not found\n");
		skip();
	}
	if (rc < 0)
		fail_msg("%s", cvm_error_message(&err));
	char hex[97];
	cvm_hex_encode(m->digest, 48, hex);
	assert_string_equal(hex, "7699e6ac12ccdfd1dfac70e649ce1f046cb2afbb003438f4cdddfe2ccbe182fa"
				 "5ffbe8dcdb930454324e10c52c788980");
	assert_int_equal(m->tee, CVM_TEE_SNP);
	assert_true(m->has_snp_policy);
	assert_int_equal(m->snp_policy, 0x30000);
	assert_false(m->has_host_data);
	cvm_measurement_free(m);
}

static void corim_rejects_veraison_bad_files_with_reasons(void **state)
{
	(void)state;
	static const struct {
		const char *file, *reason;
	} bad[] = {
		{"corim-sevsnp-bad-refval-key.cbor", "mkey is not an unsigned integer"},
		{"corim-sevsnp-bad-refval-no-key.cbor", "mkey missing"},
		{"corim-sevsnp-bad-ta-no-model.cbor", "no model"},
		{"corim-sevsnp-bad-ta-no-vendor.cbor", "no vendor"},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(bad); i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "veraison-services-sevsnp/corim/%s", bad[i].file);
		struct cvm_measurement *m = NULL;
		struct cvm_error err;
		cvm_error_clear(&err);
		int rc = decode_vector(rel, &m, &err);
		if (rc == 1) {
			print_message("# SKIP Veraison vectors not found\n");
			skip();
		}
		assert_int_equal(rc, -EINVAL);
		assert_null(m);
		if (!strstr(cvm_error_message(&err), bad[i].reason))
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].file, cvm_error_message(&err),
				 bad[i].reason);
	}
}

static void corim_trustee_example_values_are_refused_not_ignored(void **state)
{
	(void)state;
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	int rc = decode_vector("confidential-containers-trustee/unsigned-example-corim.cbor", &m,
			       &err);
	if (rc == 1) {
		print_message("# SKIP Trustee vectors not found\n");
		skip();
	}
	/* Its three SHA-256 digests describe an environment cvmkit does not check. */
	assert_int_equal(rc, -ENOTSUP);
	assert_non_null(strstr(cvm_error_message(&err), "reference value is not supported"));
}

static void rvps_message_carries_base64_sample(void **state)
{
	(void)state;
	struct cvm_measurement *m = make_snp();
	uint8_t *buf;
	size_t len;
	assert_int_equal(cvm_measurement_encode(m, CVM_FMT_RVPS, &buf, &len, NULL), 0);
	const char *text = (const char *)buf;
	assert_non_null(strstr(text, "\"version\": \"0.1.0\""));
	assert_non_null(strstr(text, "\"type\": \"sample\""));
	/* base64 of the provenance: the measurement as a list, the guest policy's fields with the
	   JSON types of Trustee's SNP claims (policy 0x30000: ABI 0.0, SMT allowed) */
	static const char payload[] =
		"{\"snp_launch_measurement\":[\"5feee30d6d7e1a29f403d70a4198237ddfb13051a2d6976439"
		"487c609388ed7f98189887920ab2fa0096903a0c23fca1\"],\"snp_guest_abi_major\":0,"
		"\"snp_guest_abi_minor\":0,\"snp_single_socket\":false,\"snp_smt_allowed\":true}";
	unsigned char b64[512];
	EVP_EncodeBlock(b64, (const unsigned char *)payload, (int)strlen(payload));
	assert_non_null(strstr(text, (const char *)b64));
	free(buf);
	m->snp_policy = 0x101f05; /* ABI 31.5, single socket, no SMT */
	assert_int_equal(cvm_measurement_encode(m, CVM_FMT_RVPS, &buf, &len, NULL), 0);
	const char *q = strstr((const char *)buf, "\"payload\": \"");
	assert_non_null(q);
	q += strlen("\"payload\": \"");
	unsigned char snp_decoded[512];
	int sn = EVP_DecodeBlock(snp_decoded, (const unsigned char *)q,
				 (int)(strchr(q, '"') - q));
	assert_true(sn > 0);
	snp_decoded[sn] = '\0';
	assert_non_null(strstr((const char *)snp_decoded, "\"snp_guest_abi_major\":31,"
				"\"snp_guest_abi_minor\":5,\"snp_single_socket\":true,"
				"\"snp_smt_allowed\":false"));
	free(buf);
	cvm_measurement_free(m);

	m = make_tdx();
	assert_int_equal(cvm_measurement_encode(m, CVM_FMT_RVPS, &buf, &len, NULL), 0);
	const char *p = strstr((const char *)buf, "\"payload\": \"");
	assert_non_null(p);
	p += strlen("\"payload\": \"");
	unsigned char decoded[1024];
	int n = EVP_DecodeBlock(decoded, (const unsigned char *)p,
				(int)(strchr(p, '"') - p));
	assert_true(n > 0);
	decoded[n] = '\0';
	char want[128];
	snprintf(want, sizeof(want), "\"mr_td\":[\"%s\"]", tdx_mrtd_hex);
	assert_non_null(strstr((const char *)decoded, want));
	assert_non_null(strstr((const char *)decoded, "\"rtmr_1\":[\"a1a1"));
	assert_null(strstr((const char *)decoded, "rtmr_2"));
	assert_non_null(strstr((const char *)decoded, "\"xfam\":[\"e700000000000000\"]"));
	/* the kernel event's digest, bare (Trustee compares it with ==); no LoadOptions event */
	assert_non_null(strstr((const char *)decoded, "\"tdvfkernel\":\"015a5a5a"));
	assert_null(strstr((const char *)decoded, "tdvfkernelparams"));
	free(buf);
	cvm_measurement_free(m);
}

/* rtmrN_missing survives JSON and CBOR, and a bad list is refused when read back. */
static void rtmr_missing_round_trips(void **state)
{
	(void)state;
	struct cvm_measurement *m = make_tdx();
	m->rtmr_known[0] = false;
	assert_int_equal(cvm_measurement_add_rtmr_missing(m, 0, "tdx.acpi.rsdp"), 0);
	assert_int_equal(cvm_measurement_add_rtmr_missing(m, 0, "tdx.smbios_sha384"), 0);
	assert_int_equal(cvm_measurement_add_rtmr_missing(m, 4, "x"), -EINVAL);
	static const enum cvm_emit_format fmts[] = {CVM_FMT_JSON, CVM_FMT_CBOR};
	for (size_t f = 0; f < CVM_ARRAY_SIZE(fmts); f++) {
		struct cvm_measurement *back = round_trip(m, fmts[f]);
		assert_false(back->rtmr_known[0]);
		assert_int_equal(back->nrtmr_missing[0], 2);
		assert_string_equal(back->rtmr_missing[0][1], "tdx.smbios_sha384");
		assert_int_equal(back->nrtmr_missing[1], 0);
		cvm_measurement_free(back);
	}
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_int_equal(cvm_measurement_encode(m, CVM_FMT_JSON, &buf, &len, NULL), 0);
	assert_non_null(strstr((const char *)buf, "\"rtmr0_missing\": [\n"));
	char *bad = strdup((const char *)buf);
	assert_non_null(bad);
	char *at = strstr(bad, "\"tdx.acpi.rsdp\"");
	memcpy(at, "17             ", 15); /* a number where a string belongs */
	struct cvm_measurement *out = NULL;
	struct cvm_error err;
	assert_int_equal(decode_text(bad, &out, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "report.rtmr0_missing[0]"));
	free(bad);
	free(buf);
	cvm_measurement_free(m);
}

static void decode_refuses_signed_corim_and_garbage(void **state)
{
	(void)state;
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	const uint8_t cose[] = {0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40};
	assert_int_equal(cvm_measurement_decode(cose, sizeof(cose), &m, &err), -ENOTSUP);
	assert_non_null(strstr(cvm_error_message(&err), "signed CoRIM"));
	const uint8_t other_tag[] = {0xc1, 0x00};
	assert_int_equal(cvm_measurement_decode(other_tag, sizeof(other_tag), &m, &err), -EINVAL);
	const uint8_t junk[] = {0x00};
	assert_int_equal(cvm_measurement_decode(junk, sizeof(junk), &m, &err), -EINVAL);
	/* CoRIM with an empty tags list */
	const uint8_t empty[] = {0xd9, 0x01, 0xf5, 0xa2, 0x00, 0x61, 'x', 0x01, 0x80};
	assert_int_equal(cvm_measurement_decode(empty, sizeof(empty), &m, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "tags"));
	assert_null(m);
}

/* ---- Veraison's SEV-SNP appraisal, replayed (issue 12) ----------------------------------------
 * veraison/services scheme/sevsnp: the evidence is a CoMID its reference-value generator
 * (go-gen-ref ReportToComid) derives from the report: POLICY (2) and MEASUREMENT (641) always,
 * HOST_DATA (642), ID_KEY_DIGEST (643), AUTHOR_KEY_DIGEST (644) only when not all zero.
 * AppraiseEvidence then takes every reference measurement but REPORT_DATA (640) and REPORT_ID
 * (645), fails with "MKey N not found in Evidence" when the evidence lacks its key, and compares
 * raw values byte for byte and digests by algorithm and value.
 */
struct snp_report_fields {
	uint64_t policy;
	uint8_t measurement[48], host_data[32], id_key_digest[48], author_key_digest[48];
};

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* The evidence value of mkey, as the generator would have it: raw bytes or a SHA-384 digest. */
static bool evidence_value(const struct snp_report_fields *r, uint64_t mkey, const uint8_t **v,
			   size_t *n, bool *digest, uint8_t policy_be[8])
{
	*digest = false;
	switch (mkey) {
	case 2:
		for (int i = 0; i < 8; i++)
			policy_be[i] = (uint8_t)(r->policy >> (56 - 8 * i));
		*v = policy_be, *n = 8;
		return true;
	case 641:
		*v = r->measurement, *n = 48, *digest = true;
		return true;
	case 642:
		*v = r->host_data, *n = 32;
		return !all_zero(r->host_data, 32);
	case 643:
		*v = r->id_key_digest, *n = 48;
		return !all_zero(r->id_key_digest, 48);
	case 644:
		*v = r->author_key_digest, *n = 48;
		return !all_zero(r->author_key_digest, 48);
	default:
		return false;
	}
}

static cbor_item_t *map_get(const cbor_item_t *map, uint64_t key)
{
	struct cbor_pair *p = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++)
		if (cbor_isa_uint(p[i].key) && cbor_get_int(p[i].key) == key)
			return p[i].value;
	return NULL;
}

/* 0, or fills why with Veraison's reason. */
static int veraison_appraise(const uint8_t *corim, size_t len, const struct snp_report_fields *r,
			     char *why, size_t whylen)
{
	struct cbor_load_result res;
	cbor_item_t *top = cbor_load(corim, len, &res);
	assert_non_null(top);
	assert_true(cbor_isa_tag(top) && cbor_tag_value(top) == 501);
	cbor_item_t *tags = map_get(cbor_move(cbor_tag_item(top)), 1);
	assert_non_null(tags);
	cbor_item_t *comid_tag = cbor_array_handle(tags)[0];
	assert_true(cbor_tag_value(comid_tag) == 506);
	cbor_item_t *bstr = cbor_move(cbor_tag_item(comid_tag));
	cbor_item_t *comid = cbor_load(cbor_bytestring_handle(bstr), cbor_bytestring_length(bstr),
				       &res);
	assert_non_null(comid);
	cbor_item_t *refs = map_get(map_get(comid, 4), 0);
	cbor_item_t *triple = cbor_array_handle(refs)[0];
	cbor_item_t *list = cbor_array_handle(triple)[1];
	int rc = 0;
	for (size_t i = 0; !rc && i < cbor_array_size(list); i++) {
		cbor_item_t *m = cbor_array_handle(list)[i];
		uint64_t k = cbor_get_int(map_get(m, 0));
		cbor_item_t *mval = map_get(m, 1);
		if (k == 640 || k == 645)
			continue;
		const uint8_t *ev;
		size_t evn;
		bool ev_digest;
		uint8_t be[8];
		if (!evidence_value(r, k, &ev, &evn, &ev_digest, be)) {
			snprintf(why, whylen, "MKey %llu not found in Evidence", (unsigned long long)k);
			rc = -1;
			break;
		}
		cbor_item_t *raw = map_get(mval, 4), *digests = map_get(mval, 2);
		bool match;
		if (raw) {
			cbor_item_t *b = cbor_move(cbor_tag_item(raw));
			match = !ev_digest && cbor_bytestring_length(b) == evn &&
				memcmp(cbor_bytestring_handle(b), ev, evn) == 0;
		} else {
			assert_non_null(digests);
			match = false;
			for (size_t d = 0; d < cbor_array_size(digests); d++) {
				cbor_item_t **pair = cbor_array_handle(cbor_array_handle(digests)[d]);
				cbor_item_t *b = pair[1];
				match = match || (ev_digest && cbor_get_int(pair[0]) == 7 &&
						  cbor_bytestring_length(b) == evn &&
						  memcmp(cbor_bytestring_handle(b), ev, evn) == 0);
			}
		}
		if (!match) {
			snprintf(why, whylen, "MKey %llu in reference value doesn't match with evidence",
				 (unsigned long long)k);
			rc = -1;
		}
	}
	cbor_decref(&comid);
	cbor_decref(&top);
	return rc;
}

static void appraise_case(struct cvm_measurement *m, const struct snp_report_fields *r,
			  const char *want_failure)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct cvm_error err;
	assert_int_equal(cvm_measurement_encode(m, CVM_FMT_CORIM, &buf, &len, &err), 0);
	char why[128] = "";
	int rc = veraison_appraise(buf, len, r, why, sizeof(why));
	free(buf);
	if (!want_failure && rc)
		fail_msg("Veraison would refuse it: %s", why);
	if (want_failure) {
		assert_int_equal(rc, -1);
		assert_string_equal(why, want_failure);
	}
}

static void corim_snp_passes_veraison_appraisal(void **state)
{
	(void)state;
	/* what `cvmkit measure` writes for a policy without host data or ID block */
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_SNP, "snp");
	assert_int_equal(cvm_hex_decode(snp_digest_hex, m->digest, 48), 0);
	m->has_snp_policy = true;
	m->snp_policy = 0x30000;
	m->has_host_data = true; /* zero, as in the report of such a guest */
	struct snp_report_fields r = {.policy = 0x30000};
	memcpy(r.measurement, m->digest, 48);
	appraise_case(m, &r, NULL);

	/* host data and an ID key: then they are reference values and must match */
	memset(m->host_data, 0xab, 32);
	m->has_id_key_digest = true;
	memset(m->id_key_digest, 0x11, 48);
	memset(r.host_data, 0xab, 32);
	memset(r.id_key_digest, 0x11, 48);
	appraise_case(m, &r, NULL);
	r.host_data[31] ^= 1;
	appraise_case(m, &r, "MKey 642 in reference value doesn't match with evidence");
	r.host_data[31] ^= 1;
	r.measurement[0] ^= 1; /* the replay can fail on the digest too */
	appraise_case(m, &r, "MKey 641 in reference value doesn't match with evidence");
	cvm_measurement_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_picks_algorithm_from_mode),
		cmocka_unit_test(add_input_same_key_replaces_in_place),
		cmocka_unit_test(format_names_parse_back),
		cmocka_unit_test(hex_is_lowercase_digest_and_newline),
		cmocka_unit_test(json_carries_schema_and_fields),
		cmocka_unit_test(json_round_trips_snp),
		cmocka_unit_test(json_round_trips_tdx),
		cmocka_unit_test(json_round_trips_legacy_sev),
		cmocka_unit_test(encode_refuses_inconsistent_mode),
		cmocka_unit_test(json_decode_accepts_minimal),
		cmocka_unit_test(json_decode_rejects_bad_documents),
		cmocka_unit_test(cbor_round_trips_snp_and_tdx),
		cmocka_unit_test(cbor_starts_with_a_map_and_names_schema),
		cmocka_unit_test(cbor_decode_rejects_malformed),
		cmocka_unit_test(corim_round_trips_snp),
		cmocka_unit_test(corim_snp_passes_veraison_appraisal),
		cmocka_unit_test(corim_snp_has_profile_tag_and_mkey_641),
		cmocka_unit_test(corim_round_trips_tdx),
		cmocka_unit_test(corim_refuses_legacy_sev),
		cmocka_unit_test(corim_reads_spec_examples),
		cmocka_unit_test(corim_reads_veraison_valid_measurement),
		cmocka_unit_test(corim_rejects_veraison_bad_files_with_reasons),
		cmocka_unit_test(corim_trustee_example_values_are_refused_not_ignored),
		cmocka_unit_test(rvps_message_carries_base64_sample),
		cmocka_unit_test(rtmr_missing_round_trips),
		cmocka_unit_test(decode_refuses_signed_corim_and_garbage),
	};
	return cmocka_run_group_tests_name("emit", tests, NULL, NULL);
}
