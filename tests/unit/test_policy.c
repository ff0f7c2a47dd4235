/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: the policy model (policy/).  Valid documents in JSON and CBOR, defaults, units,
 * path resolution, lossless round trips, the bit encodings; then one test per rejection rule,
 * each checking the key path and the message.
 *
 * JSON in this file is written with single quotes (turned into double quotes before parsing)
 * so that it stays readable.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <cvmkit/error.h>
#include <cvmkit/policy.h>
#include <cvmkit/util.h>

/* --- helpers --------------------------------------------------------------------------------- */

static char *dequote(const char *text)
{
	char *s = strdup(text);
	assert_non_null(s);
	for (char *c = s; *c; c++)
		if (*c == '\'')
			*c = '"';
	return s;
}

static struct cvm_policy *parse_ok_in(const char *text, const char *base_dir)
{
	char *json = dequote(text);
	struct cvm_policy *p = NULL;
	struct cvm_policy_problems pr = {0};
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_policy_parse((const uint8_t *)json, strlen(json), base_dir, &p, &pr, &err);
	if (rc) {
		for (size_t i = 0; i < pr.count; i++)
			print_message("problem: %s: %s\n", pr.items[i].path, pr.items[i].message);
		print_message("error: %s\n", cvm_error_message(&err));
	}
	assert_int_equal(rc, 0);
	assert_int_equal(pr.count, 0);
	assert_non_null(p);
	free(json);
	return p;
}

static struct cvm_policy *parse_ok(const char *text)
{
	return parse_ok_in(text, NULL);
}

/* Parses bytes that must be rejected; returns the problems (caller frees). */
static struct cvm_policy_problems parse_bytes_fail(const uint8_t *data, size_t len)
{
	struct cvm_policy *p = (struct cvm_policy *)0x1; /* must stay untouched */
	struct cvm_policy_problems pr = {0};
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_policy_parse(data, len, NULL, &p, &pr, &err), -EINVAL);
	assert_ptr_equal(p, (struct cvm_policy *)0x1);
	assert_true(pr.count > 0);
	assert_int_equal(err.code, -EINVAL);
	return pr;
}

static struct cvm_policy_problems parse_fail(const char *text)
{
	char *json = dequote(text);
	struct cvm_policy_problems pr = parse_bytes_fail((const uint8_t *)json, strlen(json));
	free(json);
	return pr;
}

static void dump(const struct cvm_policy_problems *pr)
{
	for (size_t i = 0; i < pr->count; i++)
		print_message("  have: '%s': %s\n", pr->items[i].path, pr->items[i].message);
}

/* The problem list holds exactly this path with exactly this message. */
static void assert_problem(const struct cvm_policy_problems *pr, const char *path,
			   const char *message)
{
	for (size_t i = 0; i < pr->count; i++)
		if (strcmp(pr->items[i].path, path) == 0 &&
		    strcmp(pr->items[i].message, message) == 0)
			return;
	print_message("missing problem '%s': %s\n", path, message);
	dump(pr);
	fail();
}

/* The only problem is at path and its message starts with prefix. */
static void assert_only_problem(const char *text, const char *path, const char *prefix)
{
	struct cvm_policy_problems pr = parse_fail(text);
	if (pr.count != 1 || strcmp(pr.items[0].path, path) != 0 ||
	    strncmp(pr.items[0].message, prefix, strlen(prefix)) != 0) {
		print_message("expected only '%s': %s...\n", path, prefix);
		dump(&pr);
		fail();
	}
	cvm_policy_problems_free(&pr);
}

static void assert_only_problem_exact(const char *text, const char *path, const char *message)
{
	struct cvm_policy_problems pr = parse_fail(text);
	if (pr.count != 1)
		dump(&pr);
	assert_int_equal(pr.count, 1);
	assert_problem(&pr, path, message);
	cvm_policy_problems_free(&pr);
}

static uint8_t *encode(const struct cvm_policy *p, enum cvm_policy_format fmt, size_t *len)
{
	uint8_t *buf = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_policy_encode(p, fmt, &buf, len, &err), 0);
	assert_non_null(buf);
	return buf;
}

static struct cvm_policy *parse_bytes_ok(const uint8_t *data, size_t len, const char *base)
{
	struct cvm_policy *p = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_policy_parse(data, len, base, &p, NULL, &err);
	if (rc)
		print_message("error: %s\n", cvm_error_message(&err));
	assert_int_equal(rc, 0);
	return p;
}

static char *make_temp_dir(void)
{
	char tmpl[] = "/tmp/cvmkit-test-policy-XXXXXX";
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	return strdup(dir);
}

static char *write_temp_file(const char *dir, const char *name, const void *data, size_t len)
{
	char *path = cvm_path_join(dir, name);
	assert_non_null(path);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void remove_temp_dir(char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

#define MINIMAL "{'version': 1, 'tee': 'none'"
#define SNP_DOC(extra) "{'version': 1, 'tee': 'snp', " extra "}"
#define TDX_DOC(extra) "{'version': 1, 'tee': 'tdx', " extra "}"

static const char *const full_snp_policy =
	"{'version': 1, 'name': 'web-frontend', 'tee': 'snp', 'vmm': 'ec2',"
	" 'cpus': {'count': 4, 'model': 'EPYC-Milan'},"
	" 'memory': {'size': '3G'},"
	" 'firmware': {'path': 'fw/OVMF.fd', 'sha256': "
	"'00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'},"
	" 'boot': {'kernel': 'vmlinuz', 'initrd': '/boot/initrd.img', 'cmdline': 'console=ttyS0'},"
	" 'snp': {'policy': {'abi_major': 1, 'abi_minor': 51, 'smt': false, 'migrate_ma': true,"
	"   'debug': true, 'single_socket': true, 'cxl_allow': true, 'mem_aes_256_xts': true,"
	"   'rapl_dis': true, 'ciphertext_hiding': true, 'page_swap_disable': true},"
	"   'guest_features': '0x21',"
	"   'host_data': '0x" "ab00000000000000000000000000000000000000000000000000000000000001',"
	"   'firmware_digest': '" "0102030405060708091011121314151617181920212223242526272829303132"
	"3334353637383940414243444546474b',"
	"   'id_block': {'family_id': '000102030405060708090a0b0c0d0e0f',"
	"     'image_id': 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff', 'guest_svn': 7,"
	"     'id_key': 'keys/id.pem', 'author_key': 'keys/author.pem'}},"
	" 'prefault': {'mode': 'required', 'ranges': [{'gpa': '0x0', 'size': '64M'},"
	"   {'gpa': 1073741824, 'size': '0x200000'}, {'gpa': '2G', 'size': 4096}]},"
	" 'allow_debug': true}";

static const char *const full_tdx_policy =
	"{'version': 1, 'name': 'td', 'tee': 'tdx', 'vmm': 'cvmkit',"
	" 'cpus': {'count': 2, 'signature': '0x806f8'}, 'memory': {'size': 4294967296},"
	" 'firmware': {'path': '/usr/share/ovmf/OVMF.fd'},"
	" 'tdx': {'attributes': {'debug': false, 'sept_ve_disable': false, 'pks': true,"
	"   'perfmon': true}, 'xfam': 231,"
	"   'mrconfigid': '" "0101010101010101010101010101010101010101010101010101010101010101"
	"01010101010101010101010101010101',"
	"   'mrowner': '" "0202020202020202020202020202020202020202020202020202020202020202"
	"02020202020202020202020202020202',"
	"   'measure_order': 'two-pass', 'page_aug': 'honour'},"
	" 'prefault': {'mode': 'off'}}";

/* --- valid documents ---------------------------------------------------------------------- */

static void minimal_policy_gets_every_default(void **state)
{
	(void)state;
	struct cvm_policy *p = parse_ok(MINIMAL "}");
	assert_int_equal(p->version, 1);
	assert_null(p->name);
	assert_int_equal(p->tee, CVM_TEE_NONE);
	assert_int_equal(p->vmm, CVM_VMM_QEMU);
	assert_int_equal(p->cpus.count, 1);
	assert_null(p->cpus.model);
	assert_false(p->cpus.has_signature);
	assert_int_equal(p->memory_size, 2ull << 30);
	assert_null(p->firmware.path);
	assert_false(p->firmware.has_sha256);
	assert_null(p->boot.kernel);
	assert_null(p->boot.initrd);
	assert_null(p->boot.cmdline);
	assert_true(p->snp.policy.smt);
	assert_false(p->snp.policy.debug);
	assert_int_equal(p->snp.guest_features, 0x1);
	assert_false(p->snp.has_host_data);
	assert_false(p->snp.id_block.present);
	assert_true(p->tdx.sept_ve_disable);
	assert_int_equal(p->tdx.xfam, 0xe7);
	assert_int_equal(p->tdx.measure_order, CVM_TDX_ORDER_SINGLE_PASS);
	assert_false(p->tdx.honour_page_aug);
	assert_int_equal(p->prefault.mode, CVM_PREFAULT_BEST_EFFORT);
	assert_int_equal(p->prefault.nranges, 0);
	assert_false(p->allow_debug);
	assert_string_equal(p->base_dir, ".");
	cvm_policy_free(p);

	struct cvm_policy q;
	cvm_policy_init(&q);
	assert_int_equal(q.memory_size, 2ull << 30);
	assert_int_equal(cvm_snp_policy_value(&q.snp.policy), 0x30000);
}

static void full_snp_policy_reads_every_field(void **state)
{
	(void)state;
	struct cvm_policy *p = parse_ok_in(full_snp_policy, "/etc/cvm");
	assert_string_equal(p->name, "web-frontend");
	assert_int_equal(p->tee, CVM_TEE_SNP);
	assert_int_equal(p->vmm, CVM_VMM_EC2);
	assert_int_equal(p->cpus.count, 4);
	assert_string_equal(p->cpus.model, "EPYC-Milan");
	assert_int_equal(p->memory_size, 3ull << 30);
	assert_string_equal(p->firmware.path, "/etc/cvm/fw/OVMF.fd");
	assert_true(p->firmware.has_sha256);
	assert_int_equal(p->firmware.sha256[1], 0x11);
	assert_string_equal(p->boot.kernel, "/etc/cvm/vmlinuz");
	assert_string_equal(p->boot.initrd, "/boot/initrd.img");
	assert_string_equal(p->boot.cmdline, "console=ttyS0");
	assert_int_equal(p->snp.policy.abi_major, 1);
	assert_int_equal(p->snp.policy.abi_minor, 51);
	assert_int_equal(p->snp.guest_features, 0x21);
	assert_true(p->snp.has_host_data);
	assert_int_equal(p->snp.host_data[0], 0xab);
	assert_int_equal(p->snp.host_data[31], 0x01);
	assert_true(p->snp.has_firmware_digest);
	assert_int_equal(p->snp.firmware_digest[47], 0x4b);
	assert_true(p->snp.id_block.present);
	assert_int_equal(p->snp.id_block.family_id[15], 0x0f);
	assert_int_equal(p->snp.id_block.image_id[0], 0xf0);
	assert_int_equal(p->snp.id_block.guest_svn, 7);
	assert_string_equal(p->snp.id_block.id_key_path, "/etc/cvm/keys/id.pem");
	assert_string_equal(p->snp.id_block.author_key_path, "/etc/cvm/keys/author.pem");
	assert_int_equal(p->prefault.mode, CVM_PREFAULT_REQUIRED);
	assert_int_equal(p->prefault.nranges, 3);
	assert_int_equal(p->prefault.ranges[0].gpa, 0);
	assert_int_equal(p->prefault.ranges[0].size, 64ull << 20);
	assert_int_equal(p->prefault.ranges[1].gpa, 1ull << 30);
	assert_int_equal(p->prefault.ranges[1].size, 0x200000);
	assert_int_equal(p->prefault.ranges[2].gpa, 2ull << 30);
	assert_int_equal(p->prefault.ranges[2].size, 4096);
	assert_true(p->allow_debug);
	/* every guest-policy bit but SMT, plus reserved bit 17, ABI 1.51 */
	assert_int_equal(cvm_snp_policy_value(&p->snp.policy), 0x3fe0133);
	cvm_policy_free(p);
}

static void full_tdx_policy_reads_every_field(void **state)
{
	(void)state;
	struct cvm_policy *p = parse_ok(full_tdx_policy);
	assert_int_equal(p->tee, CVM_TEE_TDX);
	assert_int_equal(p->vmm, CVM_VMM_CVMKIT);
	assert_true(p->cpus.has_signature);
	assert_int_equal(p->cpus.signature, 0x806f8);
	assert_int_equal(p->memory_size, 4ull << 30);
	assert_false(p->tdx.debug);
	assert_false(p->tdx.sept_ve_disable);
	assert_true(p->tdx.pks);
	assert_true(p->tdx.perfmon);
	assert_int_equal(p->tdx.xfam, 0xe7);
	assert_int_equal(p->tdx.mrconfigid[47], 0x01);
	assert_int_equal(p->tdx.mrowner[0], 0x02);
	assert_int_equal(p->tdx.mrownerconfig[0], 0);
	assert_int_equal(p->tdx.measure_order, CVM_TDX_ORDER_TWO_PASS);
	assert_true(p->tdx.honour_page_aug);
	assert_int_equal(p->prefault.mode, CVM_PREFAULT_OFF);
	assert_int_equal(cvm_tdx_attributes_value(&p->tdx), 0x8000000040000000ull);
	cvm_policy_free(p);
}

static void sizes_accept_units_hex_and_integers(void **state)
{
	(void)state;
	static const struct {
		const char *size;
		uint64_t bytes;
	} cases[] = {
		{"'2G'", 2ull << 30},    {"'512M'", 512ull << 20}, {"'64K'", 64ull << 10},
		{"'64k'", 64ull << 10},  {"'1T'", 1ull << 40},     {"'8192'", 8192},
		{"'0x100000'", 1 << 20}, {"1048576", 1 << 20},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
		char doc[200];
		snprintf(doc, sizeof(doc), MINIMAL ", 'memory': {'size': %s}}", cases[i].size);
		struct cvm_policy *p = parse_ok(doc);
		assert_int_equal(p->memory_size, cases[i].bytes);
		cvm_policy_free(p);
	}
}

static void family_model_stepping_give_the_cpuid_signature(void **state)
{
	(void)state;
	/* spec/snp-measurement.md section 3.3 */
	static const struct {
		unsigned family, model, stepping;
		uint32_t sig;
	} cases[] = {
		{23, 1, 2, 0x00800f12},  {23, 49, 0, 0x00830f10}, {25, 1, 1, 0x00a00f11},
		{25, 17, 0, 0x00a10f10}, {26, 0, 0, 0x00b00f00},  {6, 143, 8, 0x000806f8},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
		char doc[200];
		snprintf(doc, sizeof(doc),
			 MINIMAL ", 'cpus': {'count': 2, 'family': %u, 'model_id': %u, "
			 "'stepping': %u}}",
			 cases[i].family, cases[i].model, cases[i].stepping);
		struct cvm_policy *p = parse_ok(doc);
		assert_true(p->cpus.has_signature);
		assert_int_equal(p->cpus.signature, cases[i].sig);
		assert_null(p->cpus.model);
		cvm_policy_free(p);
	}
	struct cvm_policy *p = parse_ok(MINIMAL ", 'cpus': {'signature': 10489617}}");
	assert_int_equal(p->cpus.signature, 0xa00f11);
	cvm_policy_free(p);
}

static void relative_paths_resolve_against_the_policy_folder(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char *sub = cvm_path_join(dir, "conf");
	assert_int_equal(mkdir(sub, 0700), 0);
	const char *doc = "{\"version\": 1, \"tee\": \"none\","
			  " \"firmware\": {\"path\": \"../fw/OVMF.fd\"},"
			  " \"boot\": {\"kernel\": \"vmlinuz\", \"initrd\": \"/abs/initrd\"}}";
	char *file = write_temp_file(sub, "vm.json", doc, strlen(doc));
	struct cvm_policy *p = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_policy_load(file, &p, NULL, &err), 0);
	char want[600];
	snprintf(want, sizeof(want), "%s/../fw/OVMF.fd", sub);
	assert_string_equal(p->firmware.path, want);
	snprintf(want, sizeof(want), "%s/vmlinuz", sub);
	assert_string_equal(p->boot.kernel, want);
	assert_string_equal(p->boot.initrd, "/abs/initrd");
	assert_string_equal(p->base_dir, sub);

	/* Written back, the paths read as the document said them. */
	size_t len;
	uint8_t *json = encode(p, CVM_POLICY_JSON, &len);
	assert_non_null(memmem(json, len, "\"path\": \"../fw/OVMF.fd\"", 23));
	assert_non_null(memmem(json, len, "\"kernel\": \"vmlinuz\"", 19));
	free(json);
	cvm_policy_free(p);
	free(file);
	free(sub);
	remove_temp_dir(dir);
}

/* {"version": 1, "tee": "snp", "cpus": {"count": 4}, "snp": {"guest_features": "0x1"}},
 * encoded by hand so that the decoder is tested apart from the encoder. */
static const uint8_t hand_cbor[] = {
	0xa4, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01, 0x63, 't', 'e', 'e', 0x63, 's', 'n',
	'p', 0x64, 'c', 'p', 'u', 's', 0xa1, 0x65, 'c', 'o', 'u', 'n', 't', 0x04, 0x63, 's', 'n',
	'p', 0xa1, 0x6e, 'g', 'u', 'e', 's', 't', '_', 'f', 'e', 'a', 't', 'u', 'r', 'e', 's',
	0x19, 0x00, 0x21,
};

static void cbor_policy_reads_like_json(void **state)
{
	(void)state;
	struct cvm_policy *p = parse_bytes_ok(hand_cbor, sizeof(hand_cbor), NULL);
	assert_int_equal(p->tee, CVM_TEE_SNP);
	assert_int_equal(p->cpus.count, 4);
	assert_int_equal(p->snp.guest_features, 0x21);
	cvm_policy_free(p);

	/* The encoder's CBOR of a JSON policy reads back to the same values. */
	struct cvm_policy *j = parse_ok_in(full_snp_policy, "/etc/cvm");
	size_t len;
	uint8_t *cbor = encode(j, CVM_POLICY_CBOR, &len);
	assert_int_equal(cbor[0] >> 5, 5); /* a map */
	struct cvm_policy *c = parse_bytes_ok(cbor, len, "/etc/cvm");
	assert_string_equal(c->name, j->name);
	assert_string_equal(c->firmware.path, j->firmware.path);
	assert_memory_equal(c->snp.firmware_digest, j->snp.firmware_digest, 48);
	assert_int_equal(cvm_snp_policy_value(&c->snp.policy),
			 cvm_snp_policy_value(&j->snp.policy));
	free(cbor);
	cvm_policy_free(c);
	cvm_policy_free(j);
}

/* Field-by-field equality of two policies. */
static void assert_same_policy(const struct cvm_policy *a, const struct cvm_policy *b)
{
	assert_int_equal(a->version, b->version);
	assert_true((a->name == NULL) == (b->name == NULL));
	if (a->name)
		assert_string_equal(a->name, b->name);
	assert_int_equal(a->tee, b->tee);
	assert_int_equal(a->vmm, b->vmm);
	assert_int_equal(a->cpus.count, b->cpus.count);
	assert_true((a->cpus.model == NULL) == (b->cpus.model == NULL));
	assert_int_equal(a->cpus.has_signature, b->cpus.has_signature);
	assert_int_equal(a->cpus.signature, b->cpus.signature);
	assert_int_equal(a->memory_size, b->memory_size);
	const char *const pa[] = {a->firmware.path, a->boot.kernel, a->boot.initrd, a->boot.cmdline,
				  a->snp.id_block.id_key_path, a->snp.id_block.author_key_path};
	const char *const pb[] = {b->firmware.path, b->boot.kernel, b->boot.initrd, b->boot.cmdline,
				  b->snp.id_block.id_key_path, b->snp.id_block.author_key_path};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(pa); i++) {
		assert_true((pa[i] == NULL) == (pb[i] == NULL));
		if (pa[i])
			assert_string_equal(pa[i], pb[i]);
	}
	assert_int_equal(a->firmware.has_sha256, b->firmware.has_sha256);
	assert_memory_equal(a->firmware.sha256, b->firmware.sha256, 32);
	assert_memory_equal(&a->snp.policy, &b->snp.policy, sizeof(a->snp.policy));
	assert_int_equal(a->snp.guest_features, b->snp.guest_features);
	assert_int_equal(a->snp.has_host_data, b->snp.has_host_data);
	assert_memory_equal(a->snp.host_data, b->snp.host_data, 32);
	assert_int_equal(a->snp.has_firmware_digest, b->snp.has_firmware_digest);
	assert_memory_equal(a->snp.firmware_digest, b->snp.firmware_digest, 48);
	assert_int_equal(a->snp.id_block.present, b->snp.id_block.present);
	assert_memory_equal(a->snp.id_block.family_id, b->snp.id_block.family_id, 16);
	assert_memory_equal(a->snp.id_block.image_id, b->snp.id_block.image_id, 16);
	assert_int_equal(a->snp.id_block.guest_svn, b->snp.id_block.guest_svn);
	assert_int_equal(a->snp.cpuid_retry, b->snp.cpuid_retry);
	assert_int_equal(a->snp.features_named, b->snp.features_named);
	assert_int_equal(a->snp.tsc_khz, b->snp.tsc_khz);
	const struct cvm_policy_snp_certs *ca = &a->snp.certs, *cb = &b->snp.certs;
	assert_int_equal(ca->present, cb->present);
	assert_int_equal(ca->cache, cb->cache);
	assert_int_equal(ca->vlek, cb->vlek);
	const char *const ka[] = {ca->key_path, ca->intermediate_path, ca->ark_path};
	const char *const kb[] = {cb->key_path, cb->intermediate_path, cb->ark_path};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(ka); i++) {
		assert_true((ka[i] == NULL) == (kb[i] == NULL));
		if (ka[i])
			assert_string_equal(ka[i], kb[i]);
	}
	assert_int_equal(cvm_tdx_attributes_value(&a->tdx), cvm_tdx_attributes_value(&b->tdx));
	assert_int_equal(a->tdx.xfam, b->tdx.xfam);
	assert_memory_equal(a->tdx.mrconfigid, b->tdx.mrconfigid, 48);
	assert_memory_equal(a->tdx.mrowner, b->tdx.mrowner, 48);
	assert_memory_equal(a->tdx.mrownerconfig, b->tdx.mrownerconfig, 48);
	assert_int_equal(a->tdx.measure_order, b->tdx.measure_order);
	assert_int_equal(a->tdx.honour_page_aug, b->tdx.honour_page_aug);
	assert_int_equal(a->prefault.mode, b->prefault.mode);
	assert_int_equal(a->prefault.nranges, b->prefault.nranges);
	for (size_t i = 0; i < a->prefault.nranges; i++) {
		assert_int_equal(a->prefault.ranges[i].gpa, b->prefault.ranges[i].gpa);
		assert_int_equal(a->prefault.ranges[i].size, b->prefault.ranges[i].size);
	}
	assert_int_equal(a->allow_debug, b->allow_debug);
	assert_int_equal(a->has_verify, b->has_verify);
	assert_memory_equal(&a->verify, &b->verify, sizeof(a->verify));
}

static void json_to_cbor_to_json_round_trip_is_lossless(void **state)
{
	(void)state;
	const char *const docs[] = {full_snp_policy, full_tdx_policy, MINIMAL "}",
				    SNP_DOC("'snp': {'features': ['SecureTSC', 'DebugSwap'], "
					    "'tsc_khz': 1800000, 'cpuid_retry': true}"),
				    SNP_DOC("'snp': {'certificates': {'vcek': 'certs/vcek.der', "
					    "'ask': 'certs/ask.pem', 'ark': '/etc/amd/ark.pem'}}"),
				    SNP_DOC("'snp': {'certificates': {'cache': false, 'vlek': 'vlek.der', "
					    "'asvk': 'asvk.pem', 'ark': 'ark.pem'}}"),
				    SNP_DOC("'snp': {'certificates': {}}"),
				    MINIMAL ", 'cpus': {'family': 25, 'model_id': 17, "
					    "'stepping': 0}, 'boot': {'kernel': 'k', 'cmdline': ''}}"};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(docs); i++) {
		struct cvm_policy *first = parse_ok_in(docs[i], "/srv/policies");
		size_t cbor_len, json1_len, json2_len;
		uint8_t *cbor = encode(first, CVM_POLICY_CBOR, &cbor_len);
		struct cvm_policy *second = parse_bytes_ok(cbor, cbor_len, "/srv/policies");
		uint8_t *json1 = encode(first, CVM_POLICY_JSON, &json1_len);
		uint8_t *json2 = encode(second, CVM_POLICY_JSON, &json2_len);
		struct cvm_policy *third = parse_bytes_ok(json2, json2_len, "/srv/policies");
		assert_same_policy(first, second);
		assert_same_policy(first, third);
		assert_int_equal(json1_len, json2_len);
		assert_memory_equal(json1, json2, json1_len);
		free(cbor);
		free(json1);
		free(json2);
		cvm_policy_free(first);
		cvm_policy_free(second);
		cvm_policy_free(third);
	}
}

static void snp_policy_value_follows_the_report_layout(void **state)
{
	(void)state;
	struct cvm_snp_guest_policy gp;
	memset(&gp, 0, sizeof(gp));
	assert_int_equal(cvm_snp_policy_value(&gp), 0x20000); /* bit 17 always set */
	gp.smt = true;
	assert_int_equal(cvm_snp_policy_value(&gp), 0x30000);
	gp.abi_minor = 0x1f;
	assert_int_equal(cvm_snp_policy_value(&gp), 0x3001f);
	gp.abi_minor = 0;
	gp.debug = true;
	assert_int_equal(cvm_snp_policy_value(&gp), 0xb0000);
	memset(&gp, 0, sizeof(gp));
	gp.migrate_ma = true;
	assert_int_equal(cvm_snp_policy_value(&gp), 0x60000);
	memset(&gp, 0, sizeof(gp));
	gp.page_swap_disable = true;
	gp.abi_major = 0xff;
	assert_int_equal(cvm_snp_policy_value(&gp), 0x202ff00);
}

static void tdx_attributes_value_sets_the_td_bits(void **state)
{
	(void)state;
	struct cvm_policy p;
	cvm_policy_init(&p);
	assert_int_equal(cvm_tdx_attributes_value(&p.tdx), 0x10000000);
	p.tdx.debug = true;
	p.tdx.pks = true;
	p.tdx.perfmon = true;
	assert_int_equal(cvm_tdx_attributes_value(&p.tdx), 0x8000000050000001ull);
}

static void tee_and_vmm_names(void **state)
{
	(void)state;
	assert_string_equal(cvm_tee_name(CVM_TEE_SNP), "snp");
	assert_string_equal(cvm_tee_name(CVM_TEE_TDX), "tdx");
	assert_string_equal(cvm_tee_name(CVM_TEE_NONE), "none");
	assert_string_equal(cvm_vmm_name(CVM_VMM_QEMU), "qemu");
	assert_string_equal(cvm_vmm_name(CVM_VMM_EC2), "ec2");
	assert_string_equal(cvm_vmm_name(CVM_VMM_GCE), "gce");
	assert_string_equal(cvm_vmm_name(CVM_VMM_CVMKIT), "cvmkit");
}

static void debug_guest_with_allow_debug_is_accepted(void **state)
{
	(void)state;
	struct cvm_policy *p = parse_ok(
		SNP_DOC("'snp': {'policy': {'debug': true}}, 'allow_debug': true"));
	assert_true(p->snp.policy.debug);
	cvm_policy_free(p);
	p = parse_ok(TDX_DOC("'tdx': {'attributes': {'debug': true}}, 'allow_debug': true"));
	assert_int_equal(cvm_tdx_attributes_value(&p->tdx), 0x10000001);
	cvm_policy_free(p);
}

static void firmware_pin_matching_the_file_passes(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char *fw = write_temp_file(dir, "fw.fd", "abc", 3);
	/* SHA-256("abc") */
	char doc[400];
	snprintf(doc, sizeof(doc), MINIMAL ", 'firmware': {'path': 'fw.fd', 'sha256': "
		 "'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'}}");
	struct cvm_policy *p = parse_ok_in(doc, dir);
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_policy_check_firmware_pin(p, &err), 0);
	cvm_policy_free(p);
	free(fw);
	remove_temp_dir(dir);
}

static void example_policies_pass(void **state)
{
	(void)state;
	static const char *const examples[] = {"examples/snp-qemu.json", "examples/tdx.json"};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(examples); i++) {
		if (access(examples[i], R_OK) != 0) {
			print_message("# SKIP %s not found (run from the source tree)\n",
				      examples[i]);
			skip();
		}
		struct cvm_policy *p = NULL;
		struct cvm_error err;
		cvm_error_clear(&err);
		int rc = cvm_policy_load(examples[i], &p, NULL, &err);
		if (rc)
			print_message("%s\n", cvm_error_message(&err));
		assert_int_equal(rc, 0);
		cvm_policy_free(p);
	}
}

/* --- rejections: one rule each ------------------------------------------------------------ */

static void unknown_key_is_refused(void **state)
{
	(void)state;
	assert_only_problem(MINIMAL ", 'colour': 'red'}", "colour",
			    "unknown key (expected one of: ");
	assert_only_problem(SNP_DOC("'snp': {'policy': {'smt': true, 'smtp': false}}"),
			    "snp.policy.smtp", "unknown key (expected one of: abi_major, ");
}

static void wrong_type_is_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(MINIMAL ", 'cpus': {'count': 'four'}}", "cpus.count",
				  "expected an integer 1..4096, got \"four\"");
	assert_only_problem_exact(MINIMAL ", 'allow_debug': 'yes'}", "allow_debug",
				  "expected true or false, got \"yes\"");
	assert_only_problem_exact(MINIMAL ", 'memory': '2G'}", "memory",
				  "expected an object, got \"2G\"");
	assert_only_problem_exact(MINIMAL ", 'name': 42}", "name", "expected a string, got 42");
	assert_only_problem_exact(MINIMAL ", 'cpus': {'count': 2.5}}", "cpus.count",
				  "expected an integer 1..4096, got 2.5");
}

static void out_of_range_value_is_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(SNP_DOC("'snp': {'policy': {'abi_major': 300}}"),
				  "snp.policy.abi_major", "expected an integer 0..255, got 300");
	assert_only_problem_exact(MINIMAL ", 'cpus': {'count': 0}}", "cpus.count",
				  "expected an integer 1..4096, got 0");
	assert_only_problem_exact(MINIMAL ", 'cpus': {'count': -3}}", "cpus.count",
				  "expected an integer 1..4096, got -3");
	assert_only_problem_exact(MINIMAL ", 'cpus': {'signature': '0x100000000'}}",
				  "cpus.signature",
				  "expected an integer or a \"0x...\" hex string, at most "
				  "0xffffffff, got \"0x100000000\"");
}

static void unknown_enum_value_is_refused(void **state)
{
	(void)state;
	assert_only_problem_exact("{'version': 1, 'tee': 'sev'}", "tee",
				  "expected \"none\", \"snp\" or \"tdx\", got \"sev\"");
	assert_only_problem_exact(MINIMAL ", 'vmm': 'firecracker'}", "vmm",
				  "expected \"qemu\", \"ec2\", \"gce\" or \"cvmkit\", "
				  "got \"firecracker\"");
	assert_only_problem_exact(TDX_DOC("'tdx': {'measure_order': 'three-pass'}"),
				  "tdx.measure_order",
				  "expected \"single-pass\" or \"two-pass\", got \"three-pass\"");
}

static void memory_not_a_page_multiple_is_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(MINIMAL ", 'memory': {'size': 1000}}", "memory.size",
				  "expected a multiple of 4096 (the page size), got 1000");
	assert_only_problem_exact(MINIMAL ", 'memory': {'size': '0'}}", "memory.size",
				  "expected a size from 4K to 4T, got 0");
	assert_only_problem(MINIMAL ", 'memory': {'size': '2GB'}}", "memory.size",
			    "expected a size: an integer, a \"0x...\" hex string, or a number with "
			    "K, M, G or T");
	assert_only_problem(MINIMAL ", 'memory': {'size': '99999999999999999999'}}",
			    "memory.size", "expected a size: ");
}

static void unaligned_or_empty_prefault_range_is_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(MINIMAL ", 'prefault': {'ranges': [{'gpa': '0x1800', "
				  "'size': '4K'}]}}", "prefault.ranges[0].gpa",
				  "expected a multiple of 4096 (page aligned), got 0x1800");
	assert_only_problem_exact(MINIMAL ", 'prefault': {'ranges': [{'gpa': 0, 'size': 0}]}}",
				  "prefault.ranges[0].size",
				  "expected a non-zero multiple of 4096, got 0x0");
	assert_only_problem(MINIMAL ", 'prefault': {'ranges': [{'gpa': '0xfffffffffffff000', "
			    "'size': '8K'}]}}", "prefault.ranges[0]", "the range [0xfffffffffffff000");
	assert_only_problem_exact(MINIMAL ", 'prefault': {'ranges': [{'size': '4K'}]}}",
				  "prefault.ranges[0].gpa",
				  "missing: the guest-physical address where the range starts");
}

static void overlapping_prefault_ranges_are_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(
		MINIMAL ", 'prefault': {'ranges': [{'gpa': '0x0', 'size': '64M'},"
		" {'gpa': '1G', 'size': '4K'}, {'gpa': '0x3fff000', 'size': '8K'}]}}",
		"prefault.ranges[2]",
		"[0x3fff000, 0x4001000) overlaps prefault.ranges[0] [0x0, 0x4000000)");
}

static void debug_guest_without_allow_debug_is_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(SNP_DOC("'snp': {'policy': {'debug': true}}"), "snp.policy.debug",
				  "a debug guest (its memory readable by the host) is refused "
				  "unless the policy also says \"allow_debug\": true");
	assert_only_problem(TDX_DOC("'tdx': {'attributes': {'debug': true}}, 'allow_debug': false"),
			    "tdx.attributes.debug", "a debug TD (its memory readable by the host)");
}

static void firmware_pin_mismatch_is_refused(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char *fw = write_temp_file(dir, "fw.fd", "abd", 3);
	struct cvm_policy *p = parse_ok_in(
		MINIMAL ", 'firmware': {'path': 'fw.fd', 'sha256': "
		"'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'}}", dir);
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_policy_check_firmware_pin(p, &err), -EINVAL);
	char want[600];
	snprintf(want, sizeof(want),
		 "firmware.sha256: %s hashes to "
		 "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9, the policy "
		 "pins ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", fw);
	assert_string_equal(cvm_error_message(&err), want);
	cvm_policy_free(p);
	free(fw);
	remove_temp_dir(dir);
}

static void firmware_pin_on_a_missing_file_names_the_path(void **state)
{
	(void)state;
	struct cvm_policy *p = parse_ok(
		MINIMAL ", 'firmware': {'path': '/nonexistent/fw.fd', 'sha256': "
		"'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'}}");
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_policy_check_firmware_pin(p, &err), -ENOENT);
	assert_string_equal(cvm_error_message(&err),
			    "firmware.path: /nonexistent/fw.fd: No such file or directory");
	cvm_policy_free(p);
}

static void pin_without_firmware_path_is_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(MINIMAL ", 'firmware': {'sha256': "
				  "'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'}}",
				  "firmware.sha256", "a SHA-256 pin needs firmware.path");
}

static void initrd_or_cmdline_without_kernel_is_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(MINIMAL ", 'boot': {'initrd': 'initrd.img'}}", "boot.initrd",
				  "an initrd needs boot.kernel (direct boot)");
	assert_only_problem_exact(MINIMAL ", 'boot': {'cmdline': 'quiet'}}", "boot.cmdline",
				  "a command line needs boot.kernel (direct boot)");
}

static void bad_or_missing_version_is_refused(void **state)
{
	(void)state;
	assert_only_problem_exact("{'version': 2, 'tee': 'none'}", "version",
				  "expected 1 (the only version this cvmkit reads), got 2");
	assert_only_problem_exact("{'version': '1', 'tee': 'none'}", "version",
				  "expected 1 (the only version this cvmkit reads), got \"1\"");
	assert_only_problem_exact("{'tee': 'none'}", "version", "missing: expected 1");
	assert_only_problem_exact("{'version': 1}", "tee",
				  "missing: expected \"snp\", \"tdx\" or \"none\"");
}

static void tee_block_of_another_tee_is_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(SNP_DOC("'tdx': {'xfam': '0xe7'}"), "tdx",
				  "this block needs \"tee\": \"tdx\", but tee is \"snp\"");
	assert_only_problem_exact(MINIMAL ", 'snp': {}}", "snp",
				  "this block needs \"tee\": \"snp\", but tee is \"none\"");
}

static void malformed_hex_is_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(SNP_DOC("'snp': {'host_data': 'abcd'}"), "snp.host_data",
				  "expected 64 hex digits (32 bytes), got \"abcd\"");
	assert_only_problem(TDX_DOC("'tdx': {'mrowner': 'zz'}"), "tdx.mrowner",
			    "expected 96 hex digits (48 bytes)");
	assert_only_problem(SNP_DOC("'snp': {'id_block': {'family_id': '00', 'id_key': 'k.pem'}}"),
			    "snp.id_block.family_id", "expected 32 hex digits (16 bytes)");
	assert_only_problem(SNP_DOC("'snp': {'guest_features': '1'}"), "snp.guest_features",
			    "expected an integer or a \"0x...\" hex string");
}

static void feature_bits_that_cannot_launch_are_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(SNP_DOC("'snp': {'guest_features': '0x20'}"),
				  "snp.guest_features", "bit 0 (SNPActive) must be set, got 0x20");
	assert_only_problem_exact(TDX_DOC("'tdx': {'xfam': '0xe4'}"), "tdx.xfam",
				  "bits 0 (x87) and 1 (SSE) must be set, got 0xe4");
}

/* SEV features by name: the same bits as guest_features, both forms agreeing when both given. */
static void sev_features_by_name_are_guest_features(void **state)
{
	(void)state;
	struct cvm_policy *p = parse_ok(SNP_DOC("'snp': {'features': ['DebugSwap', 'SecureTSC', "
						"'SecureAVIC'], 'tsc_khz': 1800000}"));
	assert_int_equal(p->snp.guest_features, 0x10221);
	assert_true(p->snp.features_named);
	assert_int_equal(p->snp.tsc_khz, 1800000);
	assert_int_equal(cvm_policy_validate(p, NULL, NULL), 0);
	size_t len;
	uint8_t *json = encode(p, CVM_POLICY_JSON, &len);
	assert_non_null(strstr((char *)json, "\"features\": [\n      \"DebugSwap\",\n      "
					     "\"SecureTSC\",\n      \"SecureAVIC\"\n    ]"));
	assert_non_null(strstr((char *)json, "\"guest_features\": \"0x10221\""));
	free(json);
	/* an override to a bit without a name keeps guest_features only */
	p->snp.guest_features = 0x801;
	json = encode(p, CVM_POLICY_JSON, &len);
	assert_null(strstr((char *)json, "\"features\""));
	free(json);
	assert_int_equal(cvm_policy_validate(p, NULL, NULL), -EINVAL); /* tsc_khz needs SecureTSC */
	cvm_policy_free(p);
	p = parse_ok(SNP_DOC("'snp': {'features': ['DebugSwap'], 'guest_features': '0x21'}"));
	assert_int_equal(p->snp.guest_features, 0x21);
	cvm_policy_free(p);
	p = parse_ok(SNP_DOC("'snp': {'features': []}"));
	assert_int_equal(p->snp.guest_features, 0x1);
	cvm_policy_free(p);
	assert_string_equal(cvm_sev_feature_name(9), "SecureTSC");
	assert_null(cvm_sev_feature_name(11));
	assert_int_equal(cvm_sev_feature_bit("SecureAVIC"), 16);
	assert_int_equal(cvm_sev_feature_bit("secureavic"), -1);
}

static void sev_feature_names_that_cannot_launch_are_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(
		SNP_DOC("'snp': {'features': ['DebugSwap', 'SecureTSC'], 'guest_features': '0x21'}"),
		"snp.features",
		"names 0x221 (SNPActive, DebugSwap, SecureTSC) but snp.guest_features is 0x21 "
		"(SNPActive, DebugSwap): give one of them, or both alike");
	assert_only_problem(SNP_DOC("'snp': {'features': ['DebugSwap', 'Debugswap']}"),
			    "snp.features[1]",
			    "expected an SEV feature name (SNPActive, vTOM, ReflectVC, "
			    "RestrictedInjection, AlternateInjection, DebugSwap, PreventHostIBS, "
			    "BTBIsolation, VmplSSS, SecureTSC, VmgexitParameter, IbsVirtualization, "
			    "VmsaRegProt, SmtProtection, SecureAVIC), got");
	assert_only_problem_exact(SNP_DOC("'snp': {'features': ['DebugSwap', 'DebugSwap']}"),
				  "snp.features[1]", "DebugSwap is named twice");
	assert_only_problem(SNP_DOC("'snp': {'features': 'DebugSwap'}"), "snp.features",
			    "expected an array of SEV feature names");
	assert_only_problem_exact(
		SNP_DOC("'snp': {'features': ['DebugSwap'], 'tsc_khz': 1800000}"), "snp.tsc_khz",
		"the guest's TSC frequency applies to SecureTSC guests only: add \"SecureTSC\" to "
		"snp.features (bit 9 of snp.guest_features)");
	assert_only_problem(SNP_DOC("'snp': {'features': ['SecureTSC'], 'tsc_khz': 999}"),
			    "snp.tsc_khz", "expected an integer 1000..4294967295");
	assert_only_problem(SNP_DOC("'snp': {'cpuid_retry': 'yes'}"), "snp.cpuid_retry",
			    "expected true or false");
}

static void snp_certificates_read_the_cache_rule_and_three_files(void **state)
{
	(void)state;
	struct cvm_policy *p = parse_ok_in(SNP_DOC("'snp': {'certificates': {}}"), "/srv/p");
	assert_true(p->snp.certs.present);
	assert_true(p->snp.certs.cache);
	assert_null(p->snp.certs.key_path);
	cvm_policy_free(p);
	p = parse_ok_in(SNP_DOC("'snp': {'certificates': {'cache': false, 'vlek': 'v.der', "
				"'asvk': 'a.pem', 'ark': 'r.pem'}}"), "/srv/p");
	assert_false(p->snp.certs.cache);
	assert_true(p->snp.certs.vlek);
	assert_string_equal(p->snp.certs.key_path, "/srv/p/v.der");
	assert_string_equal(p->snp.certs.intermediate_path, "/srv/p/a.pem");
	assert_string_equal(p->snp.certs.ark_path, "/srv/p/r.pem");
	cvm_policy_free(p);
	p = parse_ok_in(MINIMAL "}", "/srv/p");
	assert_false(p->snp.certs.present);
	cvm_policy_free(p);
}

static void snp_certificates_that_cannot_be_served_are_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(SNP_DOC("'snp': {'certificates': {'vcek': 'v', 'ark': 'r'}}"),
				  "snp.certificates", "give all three files: vcek (or vlek), ask "
				  "(or asvk) and ark");
	assert_only_problem_exact(
		SNP_DOC("'snp': {'certificates': {'vcek': 'v', 'vlek': 'w', 'ask': 'a', 'ark': 'r'}}"),
		"snp.certificates", "give vcek or vlek, not both");
	assert_only_problem_exact(
		SNP_DOC("'snp': {'certificates': {'vlek': 'v', 'ask': 'a', 'ark': 'r'}}"),
		"snp.certificates", "a VLEK is signed by the ASVK: give vlek with asvk");
	assert_only_problem_exact(SNP_DOC("'snp': {'certificates': {'cache': false}}"),
				  "snp.certificates", "nothing to serve: without the cache (cache: "
				  "false) give the files vcek (or vlek), ask (or asvk) and ark");
	assert_only_problem(SNP_DOC("'snp': {'certificates': {'vcek': 7}}"),
			    "snp.certificates.vcek", "expected");
	assert_only_problem(SNP_DOC("'snp': {'certificates': {'crl': 'x'}}"),
			    "snp.certificates.crl", "");
}

static void conflicting_or_partial_cpu_identity_is_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(MINIMAL ", 'cpus': {'model': 'EPYC-Milan', 'signature': 1}}",
				  "cpus", "give one of model, signature, or "
				  "family/model_id/stepping, not several");
	assert_only_problem_exact(MINIMAL ", 'cpus': {'family': 25, 'model_id': 1}}",
				  "cpus.stepping",
				  "missing: family, model_id and stepping are given together");
	assert_only_problem_exact(MINIMAL ", 'cpus': {'family': 300, 'model_id': 1, 'stepping': 0}}",
				  "cpus.family", "expected an integer 0..270, got 300");
}

static void id_block_without_id_key_is_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(SNP_DOC("'snp': {'id_block': {'guest_svn': 1}}"),
				  "snp.id_block.id_key",
				  "missing: the PEM file of the ECDSA P-384 ID key");
}

static void empty_or_nul_strings_are_refused(void **state)
{
	(void)state;
	assert_only_problem_exact(MINIMAL ", 'firmware': {'path': ''}}", "firmware.path",
				  "expected a non-empty string");
	const char doc[] = "{\"version\": 1, \"tee\": \"none\", \"name\": \"a\\u0000b\"}";
	struct cvm_policy_problems pr = parse_bytes_fail((const uint8_t *)doc, sizeof(doc) - 1);
	assert_problem(&pr, "name", "expected a string without NUL characters");
	cvm_policy_problems_free(&pr);
}

static void invalid_json_names_the_line(void **state)
{
	(void)state;
	assert_only_problem("{'version': 1,\n 'tee': 'none',\n}", "", "invalid JSON at line 3");
	assert_only_problem_exact("{'version': 1, 'tee': 'none'} x", "",
				  "invalid JSON at line 1, column 31: unexpected character");
	assert_only_problem_exact("{'version': 1", "", "invalid JSON: the document ends early");
	assert_only_problem_exact("[1, 2]", "", "not a policy: expected a JSON object ('{') or a "
				  "CBOR map, got '['");
	/* The byte named is the first one after the white space, not the white space itself. */
	assert_only_problem_exact(" \x01", "", "not a policy: expected a JSON object ('{') or a "
				  "CBOR map, got byte 0x01");
	assert_only_problem_exact("  \n", "", "empty document: expected a JSON object or a CBOR "
				  "map");
	const char latin1[] = "{\"version\": 1, \"tee\": \"none\", \"name\": \"caf\xe9\"}";
	struct cvm_policy_problems pr = parse_bytes_fail((const uint8_t *)latin1,
							 sizeof(latin1) - 1);
	assert_int_equal(pr.count, 1);
	assert_non_null(strstr(pr.items[0].message, "invalid JSON at line 1"));
	cvm_policy_problems_free(&pr);
}

static void malformed_cbor_is_refused(void **state)
{
	(void)state;
	struct cvm_policy_problems pr;
	/* truncated */
	pr = parse_bytes_fail(hand_cbor, sizeof(hand_cbor) - 1);
	assert_problem(&pr, "", "invalid CBOR at byte 51 (in snp.guest_features): the document "
		       "ends early");
	cvm_policy_problems_free(&pr);
	/* {"tee": "none", "tee": "none"} */
	static const uint8_t dup[] = {0xa2, 0x63, 't', 'e', 'e', 0x64, 'n', 'o', 'n', 'e',
				      0x63, 't', 'e', 'e', 0x64, 'n', 'o', 'n', 'e'};
	pr = parse_bytes_fail(dup, sizeof(dup));
	assert_problem(&pr, "", "invalid CBOR at byte 10 (in tee): duplicate key");
	cvm_policy_problems_free(&pr);
	/* {"name": h'00'} */
	static const uint8_t bytes[] = {0xa1, 0x64, 'n', 'a', 'm', 'e', 0x41, 0x00};
	pr = parse_bytes_fail(bytes, sizeof(bytes));
	assert_problem(&pr, "", "invalid CBOR at byte 6 (in name): byte strings are not part of a "
		       "policy (hex goes in text strings)");
	cvm_policy_problems_free(&pr);
	/* {1: 2} */
	static const uint8_t intkey[] = {0xa1, 0x01, 0x02};
	pr = parse_bytes_fail(intkey, sizeof(intkey));
	assert_problem(&pr, "", "invalid CBOR at byte 1: map keys must be text strings");
	cvm_policy_problems_free(&pr);
	/* indefinite map */
	static const uint8_t indef[] = {0xbf, 0xff};
	pr = parse_bytes_fail(indef, sizeof(indef));
	assert_problem(&pr, "", "invalid CBOR at byte 0: indefinite-length items are not accepted");
	cvm_policy_problems_free(&pr);
	/* a complete map followed by garbage */
	static const uint8_t trailing[] = {0xa0, 0x00};
	pr = parse_bytes_fail(trailing, sizeof(trailing));
	assert_problem(&pr, "", "invalid CBOR at byte 1: unexpected data after the policy map");
	cvm_policy_problems_free(&pr);
	/* {"name": "\xff"}: text must be UTF-8 */
	static const uint8_t latin1[] = {0xa1, 0x64, 'n', 'a', 'm', 'e', 0x61, 0xff};
	pr = parse_bytes_fail(latin1, sizeof(latin1));
	assert_problem(&pr, "", "invalid CBOR at byte 6 (in name): a text string is not valid "
		       "UTF-8");
	cvm_policy_problems_free(&pr);
	/* nested deeper than any policy: {"a": [[[[...]]]]} */
	uint8_t deep[40] = {0xa1, 0x61, 'a'};
	memset(deep + 3, 0x81, sizeof(deep) - 4);
	deep[sizeof(deep) - 1] = 0x01;
	pr = parse_bytes_fail(deep, sizeof(deep));
	assert_int_equal(pr.count, 1);
	assert_non_null(strstr(pr.items[0].message, "nested too deeply"));
	cvm_policy_problems_free(&pr);
	/* a declared length far beyond the data allocates nothing and fails cleanly */
	static const uint8_t huge[] = {0xbb, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00};
	pr = parse_bytes_fail(huge, sizeof(huge));
	assert_problem(&pr, "", "invalid CBOR at byte 9: the document ends early");
	cvm_policy_problems_free(&pr);
}

static void cbor_policy_problems_name_the_key_path(void **state)
{
	(void)state;
	/* {"version": 1, "tee": "snp", "cpus": {"count": 5000}} -> the same rule as JSON */
	static const uint8_t doc[] = {0xa3, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01, 0x63,
				      't', 'e', 'e', 0x63, 's', 'n', 'p', 0x64, 'c', 'p', 'u',
				      's', 0xa1, 0x65, 'c', 'o', 'u', 'n', 't', 0x19, 0x13, 0x88};
	struct cvm_policy_problems pr = parse_bytes_fail(doc, sizeof(doc));
	assert_int_equal(pr.count, 1);
	assert_problem(&pr, "cpus.count", "expected an integer 1..4096, got 5000");
	cvm_policy_problems_free(&pr);
}

static void every_problem_is_reported_not_just_the_first(void **state)
{
	(void)state;
	const char *doc = "{'version': 3, 'tee': 'snp', 'cpus': {'count': 9999},"
			  " 'memory': {'size': 12345}, 'boot': {'initrd': 'i'},"
			  " 'snp': {'policy': {'abi_major': 300, 'debug': true}}, 'extra': 1}";
	char *json = dequote(doc);
	struct cvm_policy *p = NULL;
	struct cvm_policy_problems pr = {0};
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_policy_parse((const uint8_t *)json, strlen(json), NULL, &p, &pr, &err),
			 -EINVAL);
	assert_null(p);
	assert_int_equal(pr.count, 7);
	assert_problem(&pr, "extra", "unknown key (expected one of: version, name, tee, vmm, cpus, "
		       "memory, firmware, boot, snp, tdx, prefault, allow_debug, verify)");
	assert_problem(&pr, "version", "expected 1 (the only version this cvmkit reads), got 3");
	assert_problem(&pr, "cpus.count", "expected an integer 1..4096, got 9999");
	assert_problem(&pr, "memory.size",
		       "expected a multiple of 4096 (the page size), got 12345");
	assert_problem(&pr, "boot.initrd", "an initrd needs boot.kernel (direct boot)");
	assert_problem(&pr, "snp.policy.abi_major", "expected an integer 0..255, got 300");
	assert_problem(&pr, "snp.policy.debug", "a debug guest (its memory readable by the host) "
		       "is refused unless the policy also says \"allow_debug\": true");
	assert_string_equal(cvm_error_message(&err),
			    "7 problems, the first: extra: unknown key (expected one of: version, "
			    "name, tee, vmm, cpus, memory, firmware, boot, snp, tdx, prefault, "
			    "allow_debug, verify)");
	cvm_policy_problems_free(&pr);
	free(json);
}

static void a_flood_of_problems_is_cut_at_the_limit(void **state)
{
	(void)state;
	/* 300 unknown keys: the first 100 are listed, then one line that says more follow. */
	size_t cap = 64 + 300 * 16;
	char *json = malloc(cap);
	assert_non_null(json);
	size_t n = (size_t)snprintf(json, cap, "{\"version\": 1, \"tee\": \"none\"");
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(json + n, cap - n, ", \"k%d\": 1", i);
	snprintf(json + n, cap - n, "}");
	struct cvm_policy *p = NULL;
	struct cvm_policy_problems pr = {0};
	struct cvm_error err;
	assert_int_equal(cvm_policy_parse((const uint8_t *)json, strlen(json), NULL, &p, &pr, &err),
			 -EINVAL);
	assert_int_equal(pr.count, CVM_POLICY_MAX_PROBLEMS + 1);
	assert_string_equal(pr.items[0].path, "k0");
	assert_string_equal(pr.items[CVM_POLICY_MAX_PROBLEMS - 1].path, "k99");
	assert_string_equal(pr.items[CVM_POLICY_MAX_PROBLEMS].path, "");
	assert_string_equal(pr.items[CVM_POLICY_MAX_PROBLEMS].message,
			    "more problems follow; only the first 100 are listed");
	assert_string_equal(cvm_error_message(&err),
			    "more than 100 problems, the first: k0: unknown key (expected one of: "
			    "version, name, tee, vmm, cpus, memory, firmware, boot, snp, tdx, "
			    "prefault, allow_debug, verify)");
	cvm_policy_problems_free(&pr);
	free(json);
}

static void missing_policy_file_is_an_error(void **state)
{
	(void)state;
	struct cvm_policy *p = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_policy_load("/nonexistent/policy.json", &p, NULL, &err), -ENOENT);
	assert_null(p);
	assert_string_equal(cvm_error_message(&err),
			    "policy: /nonexistent/policy.json: No such file or directory");
	cvm_policy_free(NULL);
	cvm_policy_problems_free(NULL);
}

/* --- issue 12: duplicate keys, the one validator, guest RAM, TDX profiles, vCPU limit --------- */

static void json_duplicate_keys_are_refused_with_their_path(void **state)
{
	(void)state;
	/* json-c alone would keep the last value: allow_debug would read as true */
	assert_only_problem(MINIMAL ", 'allow_debug': false, 'allow_debug': true}", "allow_debug",
			    "duplicate key");
	/* compared decoded: \u0064ebug is debug */
	assert_only_problem(SNP_DOC("'snp': {'policy': {'debug': false, '\\u0064ebug': true}}"),
			    "snp.policy.debug", "duplicate key");
	assert_only_problem(MINIMAL ", 'prefault': {'ranges': [{'gpa': 0, 'size': '4K'}, "
				    "{'gpa': '8K', 'size': '4K', 'size': '8K'}]}}",
			    "prefault.ranges[1].size", "duplicate key");
	/* the same key in two objects is not a duplicate, nor a key equal to a string value */
	struct cvm_policy *p = parse_ok(SNP_DOC("'name': 'debug', 'snp': {'policy': {'debug': "
						"false}, 'host_data': '00" "00000000000000000000000000000000"
						"000000000000000000000000000000'}, 'prefault': {'ranges': "
						"[{'gpa': 0, 'size': '4K'}, {'gpa': '8K', 'size': '4K'}]}"));
	assert_false(p->snp.policy.debug);
	cvm_policy_free(p);
}

static void validate_applies_the_reader_rules_to_a_changed_policy(void **state)
{
	(void)state;
	struct cvm_policy *p = parse_ok(SNP_DOC("'cpus': {'model': 'EPYC-Milan'}, "
						"'boot': {'kernel': 'vmlinuz'}"));
	struct cvm_policy_problems pr = {0};
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_policy_validate(p, &pr, &err), 0);
	assert_int_equal(pr.count, 0);
	/* what a command line may change: each is refused as the same key in a file would be */
	p->snp.guest_features = 0x20;
	p->cpus.count = CVM_MAX_VCPUS + 1;
	free(p->boot.cmdline);
	p->boot.cmdline = malloc(100001);
	memset(p->boot.cmdline, 'a', 100000);
	p->boot.cmdline[100000] = '\0';
	p->cpus.has_signature = true; /* and a model: "give one of" */
	assert_int_equal(cvm_policy_validate(p, &pr, &err), -EINVAL);
	assert_problem(&pr, "snp.guest_features", "bit 0 (SNPActive) must be set, got 0x20");
	assert_problem(&pr, "cpus.count", "expected an integer 1..4096, got 4097");
	assert_problem(&pr, "boot.cmdline", "expected at most 4095 characters, got 100000");
	assert_problem(&pr, "cpus", "give one of model, signature, or family/model_id/stepping, "
		       "not several");
	assert_int_equal(pr.count, 4);
	assert_non_null(strstr(cvm_error_message(&err), "4 problems, the first: "));
	cvm_policy_problems_free(&pr);
	/* paths stay as they are (already resolved) */
	p->snp.guest_features = 1;
	p->cpus.count = 4;
	p->cpus.has_signature = false;
	free(p->boot.cmdline);
	p->boot.cmdline = NULL;
	assert_int_equal(cvm_policy_validate(p, NULL, &err), 0);
	cvm_policy_free(p);
}

static void prefault_ranges_must_lie_in_guest_ram(void **state)
{
	(void)state;
	assert_only_problem_exact(MINIMAL ", 'memory': {'size': '1G'}, 'prefault': {'ranges': "
				  "[{'gpa': '0x3ffff000', 'size': '8K'}]}}",
				  "prefault.ranges[0]",
				  "[0x3ffff000, 0x40001000) is not inside guest RAM (memory.size "
				  "0x40000000: RAM [0, 0x40000000)); pre-fault only memory the guest "
				  "has");
	/* 4 GiB of RAM: 3 GiB below the hole, 1 GiB from 4 GiB; the hole itself is not RAM */
	assert_only_problem(MINIMAL ", 'memory': {'size': '4G'}, 'prefault': {'ranges': "
			    "[{'gpa': '3G', 'size': '4K'}]}}",
			    "prefault.ranges[0]", "[0xc0000000, 0xc0001000) is not inside guest RAM");
	struct cvm_policy *p = parse_ok(MINIMAL ", 'memory': {'size': '4G'}, 'prefault': "
					"{'ranges': [{'gpa': 0, 'size': '3G'}, {'gpa': '4G', "
					"'size': '1G'}]}}");
	assert_int_equal(p->prefault.nranges, 2);
	cvm_policy_free(p);
	assert_true(cvm_policy_range_in_ram(4ull << 30, 4ull << 30, 1ull << 30));
	assert_false(cvm_policy_range_in_ram(4ull << 30, 4ull << 30, (1ull << 30) + 4096));
	assert_false(cvm_policy_range_in_ram(2ull << 30, 4ull << 30, 4096));
}

static void tdx_with_an_snp_vmm_profile_is_refused(void **state)
{
	(void)state;
	assert_only_problem(TDX_DOC("'vmm': 'gce'"), "vmm", "\"gce\" is an SEV-SNP launch profile");
	assert_only_problem(TDX_DOC("'vmm': 'ec2'"), "vmm", "\"ec2\" is an SEV-SNP launch profile");
	cvm_policy_free(parse_ok(TDX_DOC("'vmm': 'cvmkit'")));
	cvm_policy_free(parse_ok(SNP_DOC("'vmm': 'gce'")));
}

static void vcpu_count_goes_to_kvms_limit(void **state)
{
	(void)state;
	struct cvm_policy *p = parse_ok(MINIMAL ", 'cpus': {'count': 768}}");
	assert_int_equal(p->cpus.count, 768);
	cvm_policy_free(p);
	p = parse_ok(MINIMAL ", 'cpus': {'count': 4096}}");
	assert_int_equal(p->cpus.count, CVM_MAX_VCPUS);
	cvm_policy_free(p);
	assert_only_problem_exact(MINIMAL ", 'cpus': {'count': 4097}}", "cpus.count",
				  "expected an integer 1..4096, got 4097");
}

/* --- tdx RTMR inputs (docs/tdx-rtmr.md) ---------------------------------------------------- */

#define H48A "8db40217f1584456a532cd21ac440c8ee2204d497797a70b972d360a5eb2fde1be58be6fd9c6ea8ddac235f4db29a42c"
#define H48B "379c9de60d0dd6862394273f66ad30e8707ba61b601e379e9c4718a026e06c66f78a5d98d3fd147b06d9398ccd4174ef"

static const char *const rtmr_tdx_policy =
	"{'version': 1, 'tee': 'tdx', 'tdx': {'firmware_generation': '>=202505',"
	" 'acpi': {'table_loader': 'loader.bin', 'rsdp_sha384': '" H48A "', 'tables': 't.bin'},"
	" 'varstore': 'vars.fd', 'secure_boot': 'disabled',"
	" 'boot_order': ['0001', '000a'],"
	" 'boot_entries': {'Boot000A': {'attributes': 265, 'description': 'UiApp',"
	"   'device_path': '7fff0400'},"
	"  'Boot0001': {'description': 'UEFI Misc Device', 'device_path':"
	"   '02010c00d041030a000000007fff0400', 'optional_data': '4eac0881'}},"
	" 'smbios_sha384': '" H48B "', 'fw_cfg': {'bootorder': '2f00', 'BootMenu': '0100'}}}";

static void tdx_rtmr_inputs_read_and_round_trip(void **state)
{
	(void)state;
	struct cvm_policy *p = parse_ok_in(rtmr_tdx_policy, "/srv/p");
	const struct cvm_policy_tdx_rtmr *t = &p->tdx.rtmr;
	assert_true(t->has_fw_gen);
	assert_int_equal(t->fw_gen, CVM_TDX_FW_EDK2_202505);
	assert_string_equal(t->acpi[0].path, "/srv/p/loader.bin");
	assert_false(t->acpi[0].has_sha384);
	assert_null(t->acpi[1].path);
	assert_true(t->acpi[1].has_sha384);
	assert_int_equal(t->acpi[1].sha384[0], 0x8d);
	assert_string_equal(t->acpi[2].path, "/srv/p/t.bin");
	assert_string_equal(t->cfv.path, "/srv/p/vars.fd");
	assert_int_equal(t->secure_boot, CVM_TDX_SB_DISABLED);
	assert_int_equal(t->nboot_order, 2);
	assert_int_equal(t->boot_order[1], 0xa);
	assert_int_equal(t->nboot_entries, 2);
	assert_int_equal(t->boot_entries[0].number, 0xa);
	assert_int_equal(t->boot_entries[0].attributes, 0x109);
	assert_int_equal(t->boot_entries[1].attributes, 1);
	assert_int_equal(t->boot_entries[1].device_path_len, 16);
	assert_int_equal(t->boot_entries[1].optional_data_len, 4);
	assert_true(t->has_smbios_sha384);
	/* fw_cfg items in edk2's measuring order, whatever the document's order */
	assert_int_equal(t->nfw_cfg, 2);
	assert_string_equal(t->fw_cfg[0].name, "BootMenu");
	assert_string_equal(t->fw_cfg[1].name, "bootorder");
	size_t json1_len, json2_len, cbor_len;
	uint8_t *json1 = encode(p, CVM_POLICY_JSON, &json1_len);
	uint8_t *cbor = encode(p, CVM_POLICY_CBOR, &cbor_len);
	struct cvm_policy *q = parse_bytes_ok(cbor, cbor_len, "/srv/p");
	uint8_t *json2 = encode(q, CVM_POLICY_JSON, &json2_len);
	assert_int_equal(json1_len, json2_len);
	assert_memory_equal(json1, json2, json1_len);
	assert_non_null(strstr((const char *)json1, "\"varstore\": \"vars.fd\""));
	assert_non_null(strstr((const char *)json1, "\"rsdp_sha384\""));
	assert_non_null(strstr((const char *)json1, "\"Boot000A\""));
	free(json1);
	free(json2);
	free(cbor);
	cvm_policy_free(q);
	cvm_policy_free(p);

	/* a policy without the keys writes none of them */
	p = parse_ok(TDX_DOC("'tdx': {'xfam': '0xe7'}"));
	json1 = encode(p, CVM_POLICY_JSON, &json1_len);
	assert_null(strstr((const char *)json1, "firmware_generation"));
	assert_null(strstr((const char *)json1, "secure_boot"));
	free(json1);
	cvm_policy_free(p);
}

/* A whole load option (an event log's Boot#### data) reads as the same entry as its fields. */
static void tdx_boot_entry_from_a_load_option(void **state)
{
	(void)state;
	struct cvm_policy *a = parse_ok(TDX_DOC(
		"'tdx': {'boot_order': ['0001'], 'boot_entries': {'Boot0001': {'load_option': "
		"'010000002800550045004600490020004d006900730063002000440065007600690063006500000002"
		"010c00d041030a000000000101060000010101060000000101060000010101060000007fff04004eac08"
		"81119f594d850ee21a522c59b2'}}}"));
	const struct cvm_policy_boot_entry *e = &a->tdx.rtmr.boot_entries[0];
	assert_int_equal(e->attributes, 1);
	assert_string_equal(e->description, "UEFI Misc Device");
	assert_int_equal(e->device_path_len, 40);
	assert_int_equal(e->optional_data_len, 16);
	assert_int_equal(e->optional_data[0], 0x4e);
	cvm_policy_free(a);
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': ['0001'], 'boot_entries': {'Boot0001': "
				    "{'load_option': '0100000004004100', 'description': 'x'}}}"),
			    "tdx.boot_entries.Boot0001.load_option", "give load_option alone");
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': ['0001'], 'boot_entries': {'Boot0001': "
				    "{'load_option': '010000000800410000007fff0400'}}}"),
			    "tdx.boot_entries.Boot0001.load_option",
			    "FilePathListLength 8 runs past the 14 bytes");
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': ['0001'], 'boot_entries': {'Boot0001': "
				    "{'load_option': '01000000040041004200'}}}"),
			    "tdx.boot_entries.Boot0001.load_option",
			    "the description is not NUL-terminated");
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': ['0001'], 'boot_entries': {'Boot0001': "
				    "{'load_option': '01000000040001010000'}}}"),
			    "tdx.boot_entries.Boot0001.load_option",
			    "the description holds U+0101");
}

static void tdx_rtmr_input_problems(void **state)
{
	(void)state;
	assert_only_problem_exact(TDX_DOC("'tdx': {'firmware_generation': '202408'}"),
				  "tdx.firmware_generation",
				  "expected \"<=202408\", \"202411..202502\" or \">=202505\", got "
				  "\"202408\"");
	assert_only_problem(TDX_DOC("'tdx': {'acpi': {'rsdp': 'r', 'rsdp_sha384': '" H48A "'}}"),
			    "tdx.acpi.rsdp_sha384", "give rsdp (the file) or rsdp_sha384");
	assert_only_problem(TDX_DOC("'tdx': {'acpi': {'rsdp_sha384': 'abcd'}}"),
			    "tdx.acpi.rsdp_sha384", "expected 96 hex digits");
	assert_only_problem(TDX_DOC("'tdx': {'acpi': {'dsdt': 'x'}}"), "tdx.acpi.dsdt",
			    "unknown key");
	assert_only_problem(TDX_DOC("'tdx': {'varstore': 'v', 'cfv_sha384': '" H48A "'}"),
			    "tdx.cfv_sha384", "give varstore (the file) or cfv_sha384");
	assert_only_problem(TDX_DOC("'tdx': {'secure_boot': true}"), "tdx.secure_boot",
			    "expected \"auto\"");
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': ['0000', '0000'], 'boot_entries': "
				    "{'Boot0000': {'description': 'a', 'device_path': '7fff0400'}}}"),
			    "tdx.boot_order[1]", "0000 is already at tdx.boot_order[0]");
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': ['1']}"), "tdx.boot_order[0]",
			    "expected 4 hex digits");
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': []}"), "tdx.boot_order",
			    "expected an array of 1..64");
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': ['0002']}"), "tdx.boot_order[0]",
			    "Boot0002 has no entry in tdx.boot_entries");
	assert_only_problem(TDX_DOC("'tdx': {'boot_entries': {'Boot0000': {'description': 'a', "
				    "'device_path': '7fff0400'}}}"),
			    "tdx.boot_entries", "needs tdx.boot_order");
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': ['0000'], 'boot_entries': "
				    "{'Boot0000': {'description': 'a', 'device_path': '7fff0400'},"
				    " 'Boot0003': {'description': 'b', 'device_path': '7fff0400'}}}"),
			    "tdx.boot_entries.Boot0003", "not in tdx.boot_order");
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': ['0000'], 'boot_entries': "
				    "{'Boot0000': {'description': 'a', 'device_path': '04071400'}}}"),
			    "tdx.boot_entries.Boot0000.device_path",
			    "not a UEFI device path: node at byte 0 has length 20");
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': ['0000'], 'boot_entries': "
				    "{'Boot0000': {'description': 'a', 'device_path': "
				    "'7fff04000000'}}}"),
			    "tdx.boot_entries.Boot0000.device_path",
			    "not a UEFI device path: bytes after the end node");
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': ['0000'], 'boot_entries': "
				    "{'Boot0000': {'device_path': '7fff0400'}}}"),
			    "tdx.boot_entries.Boot0000.description", "missing");
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': ['0000'], 'boot_entries': "
				    "{'Boot0000': {'description': 'caf\\u00e9', "
				    "'device_path': '7fff0400'}}}"),
			    "tdx.boot_entries.Boot0000.description", "expected printable ASCII");
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': ['0000'], 'boot_entries': "
				    "{'Boot0000': {'description': 'a', 'device_path': '7fff040'}}}"),
			    "tdx.boot_entries.Boot0000.device_path",
			    "expected an even number of hex digits");
	assert_only_problem(TDX_DOC("'tdx': {'smbios_sha384': '" H48A "'}"), "tdx.smbios_sha384",
			    "only edk2 >= 202505 measures SMBIOS");
	assert_only_problem(TDX_DOC("'tdx': {'firmware_generation': '>=202505', 'fw_cfg': "
				    "{'BootMenu': '00'}}"),
			    "tdx.fw_cfg.BootMenu", "expected 2 bytes");
	assert_only_problem(TDX_DOC("'tdx': {'firmware_generation': '>=202505', 'fw_cfg': "
				    "{'bootorder': ''}}"),
			    "tdx.fw_cfg.bootorder", "expected at least one byte");
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': ['000A'], 'boot_entries': "
				    "{'Boot000A': {'description': 'a', 'device_path': '7fff0400'},"
				    " 'Boot000a': {'description': 'b', 'device_path': '7fff0400'}}}"),
			    "tdx.boot_entries.Boot000a", "Boot000A is given twice");
	assert_only_problem(TDX_DOC("'tdx': {'boot_order': ['0001'], 'boot_entries': "
				    "{'Boot0001': {'description': 'a', 'device_path': '7fff0400'},"
				    " 'Bootx': {'description': 'b', 'device_path': '7fff0400'}}}"),
			    "tdx.boot_entries.Bootx", "expected a key \"Boot####\"");
	assert_only_problem(TDX_DOC("'tdx': {'firmware_generation': '>=202505', 'fw_cfg': "
				    "{'etc/e820': '00'}}"),
			    "tdx.fw_cfg.etc/e820", "not an item edk2 measures");
}

/* --- the verify section ------------------------------------------------------------------- */

#define VERIFY_SNP "{'version': 1, 'tee': 'snp', 'verify': {'allow': ['cxl_allow', " \
	"'migrate_ma'], 'snp': {'refuse_smt': true, 'require_committed': true, 'vmpl': [0, 2], 'min_report_version': 3, " \
	"'min_abi': '1.51', 'min_firmware': '1.55.21', 'require_policy': ['single_socket', " \
	"'page_swap_disable'], 'platform_info_mask': '0x3', 'min_guest_svn': 4, 'min_current_mit_vector': '0x30', " \
	"'min_reported_tcb': {'bootloader': 3, 'snp': 8, 'microcode': 115}, " \
	"'min_launch_tcb': {'tee': 1}, 'family_id': '01000000000000000000000000000000', " \
	"'image_id': '02000000000000000000000000000000', 'report_id': '" HEX32 "', " \
	"'require_author_key': true, 'trusted_id_keys': [D48A, D48B], " \
	"'trusted_author_keys': [D48B]}}}"
#define VERIFY_TDX "{'version': 1, 'tee': 'tdx', 'verify': {'allow': ['debug', " \
	"'td_attributes_reserved'], 'tdx': {'require_sept_ve_disable': true, 'mrseam': [D48A], " \
	"'mrtd': [D48A, D48B], 'min_qe_svn': 8, 'min_pce_svn': 13, 'qe_vendor_id': " \
	"'939a7233f79c4ca9940a0db3957f0607', 'min_tee_tcb_svn': '" HEX16 "', " \
	"'min_tee_tcb_svn2': '" HEX16 "'}}}"
#define HEX16 "0a0b0c0d000000000000000000000000"
#define HEX32 HEX16 HEX16

/* The macros above with D48A and D48B spelled out as two different digests. */
static char *verify_doc(const char *tmpl)
{
	size_t n = strlen(tmpl) * 4 + 1;
	char *out = malloc(n);
	assert_non_null(out);
	out[0] = '\0';
	for (const char *c = tmpl; *c;) {
		if (strncmp(c, "D48A", 4) == 0 || strncmp(c, "D48B", 4) == 0) {
			strcat(out, "'");
			for (int i = 0; i < 48; i++)
				strcat(out, c[3] == 'A' ? "ab" : "cd");
			strcat(out, "'");
			c += 4;
		} else {
			size_t l = strlen(out);
			out[l] = *c++;
			out[l + 1] = '\0';
		}
	}
	return out;
}

static void verify_section_reads_every_rule(void **state)
{
	(void)state;
	char *doc = verify_doc(VERIFY_SNP);
	struct cvm_policy *p = parse_ok(doc);
	const struct cvm_verify_rules *v = &p->verify;
	assert_true(p->has_verify);
	assert_int_equal(v->allow, CVM_VERIFY_ALLOW_CXL | CVM_VERIFY_ALLOW_MIGRATE_MA);
	assert_true(v->refuse_smt);
	assert_true(v->require_committed);
	assert_int_equal(v->vmpl_mask, 0x5);
	assert_int_equal(v->min_report_version, 3);
	assert_true(v->has_min_abi);
	assert_int_equal(v->min_abi_major, 1);
	assert_int_equal(v->min_abi_minor, 51);
	assert_int_equal(v->min_fw_build, 21);
	assert_int_equal(v->require_policy, (1ull << 20) | (1ull << 25));
	assert_int_equal(v->platform_info_mask, 3);
	assert_int_equal(v->min_guest_svn, 4);
	assert_int_equal(v->min_current_mit_vector, 0x30);
	assert_int_equal(v->min_launch_mit_vector, 0);
	assert_true(v->min_reported_tcb.present);
	assert_int_equal(v->min_reported_tcb.microcode, 115);
	assert_int_equal(v->min_reported_tcb.tee, 0);
	assert_true(v->min_launch_tcb.present);
	assert_false(v->min_current_tcb.present);
	assert_int_equal(v->family_id[0], 1);
	assert_int_equal(v->image_id[0], 2);
	assert_true(v->has_report_id);
	assert_false(v->has_report_id_ma);
	assert_int_equal(v->trusted_id_keys.count, 2);
	assert_int_equal(v->trusted_id_keys.digest[1][0], 0xcd);
	assert_int_equal(v->trusted_author_keys.count, 1);
	cvm_policy_free(p);
	free(doc);

	doc = verify_doc(VERIFY_TDX);
	p = parse_ok(doc);
	v = &p->verify;
	assert_int_equal(v->allow, CVM_VERIFY_ALLOW_DEBUG | CVM_VERIFY_ALLOW_TD_ATTRIBUTES);
	assert_true(v->require_sept_ve_disable);
	assert_int_equal(v->mrseam.count, 1);
	assert_int_equal(v->mrtd.count, 2);
	assert_int_equal(v->min_qe_svn, 8);
	assert_int_equal(v->min_pce_svn, 13);
	assert_int_equal(v->qe_vendor_id[0], 0x93);
	assert_true(v->has_min_tee_tcb_svn2);
	cvm_policy_free(p);
	free(doc);

	/* No section: the secure defaults, all zero. */
	p = parse_ok(MINIMAL "}");
	assert_false(p->has_verify);
	static const struct cvm_verify_rules zero;
	assert_memory_equal(&p->verify, &zero, sizeof(zero));
	cvm_policy_free(p);
}

static void verify_section_round_trips_through_json_and_cbor(void **state)
{
	(void)state;
	const char *const tmpls[] = {VERIFY_SNP, VERIFY_TDX, "{'version': 1, 'tee': 'snp', "
				     "'verify': {}}"};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(tmpls); i++) {
		char *doc = verify_doc(tmpls[i]);
		struct cvm_policy *first = parse_ok(doc);
		size_t cbor_len, json_len;
		uint8_t *cbor = encode(first, CVM_POLICY_CBOR, &cbor_len);
		uint8_t *json = encode(first, CVM_POLICY_JSON, &json_len);
		struct cvm_policy *second = parse_bytes_ok(cbor, cbor_len, NULL);
		struct cvm_policy *third = parse_bytes_ok(json, json_len, NULL);
		assert_same_policy(first, second);
		assert_same_policy(first, third);
		struct cvm_error err;
		cvm_error_clear(&err);
		assert_int_equal(cvm_policy_validate(first, NULL, &err), 0);
		free(cbor);
		free(json);
		free(doc);
		cvm_policy_free(first);
		cvm_policy_free(second);
		cvm_policy_free(third);
	}
}

static void verify_section_problems_name_the_rule(void **state)
{
	(void)state;
	assert_only_problem("{'version': 1, 'tee': 'snp', 'verify': {'allow': ['smt']}}",
			    "verify.allow[0]", "expected one of \"debug\"");
	assert_only_problem("{'version': 1, 'tee': 'snp', 'verify': {'allow': ['debug', 'debug']}}",
			    "verify.allow[1]", "debug is listed twice");
	assert_only_problem("{'version': 1, 'tee': 'snp', 'verify': {'snp': {'vmpl': [4]}}}",
			    "verify.snp.vmpl[0]", "expected an integer 0..3");
	assert_only_problem("{'version': 1, 'tee': 'snp', 'verify': {'snp': {'vmpl': []}}}",
			    "verify.snp.vmpl", "expected a non-empty array");
	assert_only_problem("{'version': 1, 'tee': 'snp', 'verify': {'snp': {'min_abi': '1.256'}}}",
			    "verify.snp.min_abi", "expected \"MAJOR.MINOR\"");
	assert_only_problem("{'version': 1, 'tee': 'snp', 'verify': {'snp': {'min_firmware': "
			    "'1.55'}}}", "verify.snp.min_firmware", "expected \"MAJOR.MINOR.BUILD\"");
	assert_only_problem("{'version': 1, 'tee': 'snp', 'verify': {'snp': {'require_policy': "
			    "['debug']}}}", "verify.snp.require_policy[0]",
			    "expected one of \"single_socket\"");
	assert_only_problem("{'version': 1, 'tee': 'snp', 'verify': {'snp': {'min_report_version': "
			    "1}}}", "verify.snp.min_report_version", "expected an integer 2..5");
	assert_only_problem("{'version': 1, 'tee': 'snp', 'verify': {'snp': {'min_reported_tcb': "
			    "{'ucode': 1}}}}", "verify.snp.min_reported_tcb.ucode", "unknown key");
	assert_only_problem("{'version': 1, 'tee': 'snp', 'verify': {'snp': {'family_id': '01'}}}",
			    "verify.snp.family_id", "expected 32 hex digits");
	assert_only_problem("{'version': 1, 'tee': 'snp', 'verify': {'snp': "
			    "{'require_author_key': true}}}", "verify.snp.require_author_key",
			    "an author key is required");
	assert_only_problem("{'version': 1, 'tee': 'snp', 'verify': {'tdx': {}}}", "verify.tdx",
			    "these rules need \"tee\": \"tdx\"");
	assert_only_problem("{'version': 1, 'tee': 'tdx', 'verify': {'tdx': {'mrtd': ['00']}}}",
			    "verify.tdx.mrtd[0]", "expected 96 hex digits");
	assert_only_problem("{'version': 1, 'tee': 'tdx', 'verify': {'tdx': {'min_qe_svn': 65536}}}",
			    "verify.tdx.min_qe_svn", "expected an integer 0..65535");
	assert_only_problem("{'version': 1, 'tee': 'tdx', 'verify': {'tdx': {'mrseam': []}}}",
			    "verify.tdx.mrseam", "expected 1..16 digests");
	assert_only_problem("{'version': 1, 'tee': 'tdx', 'verify': {'mode': 1}}", "verify.mode",
			    "unknown key");
	assert_int_equal(cvm_policy_verify_allow_parse("cxl_allow"), CVM_VERIFY_ALLOW_CXL);
	assert_string_equal(cvm_policy_verify_bit_name(1ull << 24), "ciphertext_hiding");
	assert_null(cvm_policy_verify_bit_name(1ull << 19));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(minimal_policy_gets_every_default),
		cmocka_unit_test(full_snp_policy_reads_every_field),
		cmocka_unit_test(full_tdx_policy_reads_every_field),
		cmocka_unit_test(sizes_accept_units_hex_and_integers),
		cmocka_unit_test(family_model_stepping_give_the_cpuid_signature),
		cmocka_unit_test(relative_paths_resolve_against_the_policy_folder),
		cmocka_unit_test(cbor_policy_reads_like_json),
		cmocka_unit_test(json_to_cbor_to_json_round_trip_is_lossless),
		cmocka_unit_test(tdx_rtmr_inputs_read_and_round_trip),
		cmocka_unit_test(tdx_rtmr_input_problems),
		cmocka_unit_test(tdx_boot_entry_from_a_load_option),
		cmocka_unit_test(snp_policy_value_follows_the_report_layout),
		cmocka_unit_test(tdx_attributes_value_sets_the_td_bits),
		cmocka_unit_test(tee_and_vmm_names),
		cmocka_unit_test(debug_guest_with_allow_debug_is_accepted),
		cmocka_unit_test(firmware_pin_matching_the_file_passes),
		cmocka_unit_test(example_policies_pass),
		cmocka_unit_test(unknown_key_is_refused),
		cmocka_unit_test(wrong_type_is_refused),
		cmocka_unit_test(out_of_range_value_is_refused),
		cmocka_unit_test(unknown_enum_value_is_refused),
		cmocka_unit_test(memory_not_a_page_multiple_is_refused),
		cmocka_unit_test(unaligned_or_empty_prefault_range_is_refused),
		cmocka_unit_test(overlapping_prefault_ranges_are_refused),
		cmocka_unit_test(debug_guest_without_allow_debug_is_refused),
		cmocka_unit_test(firmware_pin_mismatch_is_refused),
		cmocka_unit_test(firmware_pin_on_a_missing_file_names_the_path),
		cmocka_unit_test(pin_without_firmware_path_is_refused),
		cmocka_unit_test(initrd_or_cmdline_without_kernel_is_refused),
		cmocka_unit_test(bad_or_missing_version_is_refused),
		cmocka_unit_test(tee_block_of_another_tee_is_refused),
		cmocka_unit_test(malformed_hex_is_refused),
		cmocka_unit_test(feature_bits_that_cannot_launch_are_refused),
		cmocka_unit_test(sev_features_by_name_are_guest_features),
		cmocka_unit_test(sev_feature_names_that_cannot_launch_are_refused),
		cmocka_unit_test(snp_certificates_read_the_cache_rule_and_three_files),
		cmocka_unit_test(snp_certificates_that_cannot_be_served_are_refused),
		cmocka_unit_test(conflicting_or_partial_cpu_identity_is_refused),
		cmocka_unit_test(id_block_without_id_key_is_refused),
		cmocka_unit_test(empty_or_nul_strings_are_refused),
		cmocka_unit_test(invalid_json_names_the_line),
		cmocka_unit_test(malformed_cbor_is_refused),
		cmocka_unit_test(cbor_policy_problems_name_the_key_path),
		cmocka_unit_test(every_problem_is_reported_not_just_the_first),
		cmocka_unit_test(a_flood_of_problems_is_cut_at_the_limit),
		cmocka_unit_test(missing_policy_file_is_an_error),
		cmocka_unit_test(json_duplicate_keys_are_refused_with_their_path),
		cmocka_unit_test(validate_applies_the_reader_rules_to_a_changed_policy),
		cmocka_unit_test(prefault_ranges_must_lie_in_guest_ram),
		cmocka_unit_test(tdx_with_an_snp_vmm_profile_is_refused),
		cmocka_unit_test(vcpu_count_goes_to_kvms_limit),
		cmocka_unit_test(verify_section_reads_every_rule),
		cmocka_unit_test(verify_section_round_trips_through_json_and_cbor),
		cmocka_unit_test(verify_section_problems_name_the_rule),
	};
	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
