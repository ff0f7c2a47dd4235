/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmkit id-block POLICY [--measurement DIGEST] [--json]: the SNP ID block and ID auth structure
 * for a policy's snp.id_block keys, in the syntax of QEMU's sev-snp-guest object, and the ID key
 * and author key digests an attestation report will carry.
 */
#include "launcher/cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include <cvmkit/emit.h>
#include <cvmkit/firmware.h>
#include <cvmkit/policy.h>
#include <cvmkit/snp.h>
#include <cvmkit/util.h>

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: cvmkit id-block POLICY [--measurement DIGEST] [--json]\n"
		"\n"
		"Build the SNP ID block and ID auth structure from the policy's snp.id_block (ID key,\n"
		"optional author key, family/image ID, guest SVN) and snp.policy, and print them as\n"
		"QEMU's sev-snp-guest options (id-block=...,id-auth=...) together with the ID key and\n"
		"author key digests (base64 and hex) that attestation reports will carry.\n"
		"\n"
		"options:\n"
		"  --measurement DIGEST  the SNP launch digest (96 hex digits, or 64 base64 characters);\n"
		"                        default: computed from the policy as 'cvmkit measure' does\n"
		"  --json                machine-readable output\n"
		"  -h, --help            this help\n");
}

/*
 * 96 hex digits, or base64 of exactly 48 bytes: 64 characters without padding ('=' would mean
 * fewer bytes, which EVP_DecodeBlock still reports as 48).
 */
static bool parse_digest(const char *text, uint8_t out[CVM_SNP_DIGEST_SIZE])
{
	if (cvm_hex_decode(text, out, CVM_SNP_DIGEST_SIZE) == 0)
		return true;
	uint8_t buf[CVM_SNP_DIGEST_SIZE + 3];
	if (strlen(text) != 64 || strchr(text, '=') ||
	    EVP_DecodeBlock(buf, (const unsigned char *)text, 64) != 48)
		return false;
	memcpy(out, buf, CVM_SNP_DIGEST_SIZE);
	return true;
}

static int measure_policy(const struct cvm_policy *p, uint8_t ld[CVM_SNP_DIGEST_SIZE],
			  struct cvm_error *err)
{
	if (!p->firmware.path)
		return cvm_error_set(err, -EINVAL,
				     "the policy names no firmware.path to measure; give --measurement");
	struct cvm_firmware *fw = NULL;
	struct cvm_measurement *m = NULL;
	int rc = cvm_firmware_load(p->firmware.path, &fw, err);
	if (!rc)
		rc = cvm_snp_measure(p, fw, &m, err);
	if (!rc && m->digest_len != CVM_SNP_DIGEST_SIZE)
		rc = cvm_error_set(err, -EINVAL, "the policy's measurement is not an SNP digest");
	if (!rc)
		memcpy(ld, m->digest, CVM_SNP_DIGEST_SIZE);
	cvm_measurement_free(m);
	cvm_firmware_free(fw);
	return rc ? cvm_error_wrap(err, "launch digest") : 0;
}

struct id_text {
	char *block, *auth, *id_digest, *author_digest;
	char id_hex[2 * CVM_SNP_DIGEST_SIZE + 1], author_hex[2 * CVM_SNP_DIGEST_SIZE + 1];
	char ld_hex[2 * CVM_SNP_DIGEST_SIZE + 1];
};

static void id_text_free(struct id_text *t)
{
	free(t->block);
	free(t->auth);
	free(t->id_digest);
	free(t->author_digest);
}

static bool id_text_make(const struct cvm_snp_id_result *r, const uint8_t *ld, struct id_text *t)
{
	memset(t, 0, sizeof(*t));
	t->block = cvm_base64_encode(r->id_block, sizeof(r->id_block));
	t->auth = cvm_base64_encode(r->id_auth, sizeof(r->id_auth));
	t->id_digest = cvm_base64_encode(r->id_key_digest, sizeof(r->id_key_digest));
	t->author_digest = cvm_base64_encode(r->author_key_digest, sizeof(r->author_key_digest));
	cvm_hex_encode(r->id_key_digest, sizeof(r->id_key_digest), t->id_hex);
	cvm_hex_encode(r->author_key_digest, sizeof(r->author_key_digest), t->author_hex);
	cvm_hex_encode(ld, CVM_SNP_DIGEST_SIZE, t->ld_hex);
	return t->block && t->auth && t->id_digest && t->author_digest;
}

static void print_text(const struct cvm_snp_id_result *r, const struct id_text *t,
		       uint64_t policy)
{
	printf("id-block=%s,id-auth=%s%s\n", t->block, t->auth,
	       r->has_author_key ? ",author-key-enabled=on" : "");
	printf("measurement=%s\n", t->ld_hex);
	printf("policy=0x%" PRIx64 "\n", policy);
	printf("id-key-digest=%s\n", t->id_digest);
	printf("id-key-digest-hex=%s\n", t->id_hex);
	if (r->has_author_key) {
		printf("author-key-digest=%s\n", t->author_digest);
		printf("author-key-digest-hex=%s\n", t->author_hex);
	}
}

static int print_json(const struct cvm_snp_id_result *r, const struct id_text *t,
		      const struct cvm_snp_id_block_input *in, uint64_t policy)
{
	char qemu_opts[8192], hex[33], pol[24];
	snprintf(qemu_opts, sizeof(qemu_opts), "id-block=%s,id-auth=%s%s", t->block, t->auth,
		 r->has_author_key ? ",author-key-enabled=on" : "");
	json_object *o = json_object_new_object();
	json_object_object_add(o, "qemu", json_object_new_string(qemu_opts));
	json_object_object_add(o, "id_block", json_object_new_string(t->block));
	json_object_object_add(o, "id_auth", json_object_new_string(t->auth));
	json_object_object_add(o, "measurement", json_object_new_string(t->ld_hex));
	snprintf(pol, sizeof(pol), "0x%" PRIx64, policy);
	json_object_object_add(o, "policy", json_object_new_string(pol));
	cvm_hex_encode(in->family_id, 16, hex);
	json_object_object_add(o, "family_id", json_object_new_string(hex));
	cvm_hex_encode(in->image_id, 16, hex);
	json_object_object_add(o, "image_id", json_object_new_string(hex));
	json_object_object_add(o, "guest_svn", json_object_new_int64(in->guest_svn));
	json_object *idk = json_object_new_object();
	json_object_object_add(idk, "base64", json_object_new_string(t->id_digest));
	json_object_object_add(idk, "hex", json_object_new_string(t->id_hex));
	json_object_object_add(o, "id_key_digest", idk);
	json_object *ak = NULL;
	if (r->has_author_key) {
		ak = json_object_new_object();
		json_object_object_add(ak, "base64", json_object_new_string(t->author_digest));
		json_object_object_add(ak, "hex", json_object_new_string(t->author_hex));
	}
	json_object_object_add(o, "author_key_digest", ak);
	json_object_object_add(o, "author_key_enabled", json_object_new_boolean(r->has_author_key));
	return cli_print_json("id-block", o);
}

/* err already names a single problem; more are listed below it, one per line. */
int cmd_id_block(const struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	static const struct option opts[] = {
		{"measurement", required_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false, have_ld = false;
	uint8_t ld[CVM_SNP_DIGEST_SIZE];
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!parse_digest(optarg, ld))
				return cli_usage_error("id-block",
						       "--measurement: expected 96 hex digits or 64 "
						       "base64 characters (48 bytes)");
			have_ld = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			print_usage(stdout);
			return CLI_OK;
		default:
			return cli_option_error("id-block", NULL, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("id-block", argc == optind ? "missing POLICY argument"
								  : "expected one POLICY");

	struct cvm_policy *p = cli_load_policy("id-block", argv[optind]);
	if (!p)
		return CLI_FAIL;
	struct cvm_error err;
	cvm_error_clear(&err);

	int rc = 0;
	if (!p->snp.id_block.present)
		rc = cvm_error_set(&err, -EINVAL,
				   "%s: the policy has no snp.id_block (ID key, family and image ID)",
				   argv[optind]);
	if (!rc && !have_ld)
		rc = measure_policy(p, ld, &err);

	uint64_t policy = cvm_snp_policy_value(&p->snp.policy);
	struct cvm_snp_id_result *r = rc ? NULL : malloc(sizeof(*r));
	if (!rc && !r)
		rc = cvm_error_set(&err, -ENOMEM, "out of memory");
	if (!rc)
		rc = cvm_snp_id_build(ld, &p->snp.id_block, policy, r, &err);
	struct id_text t = {0};
	if (!rc && !id_text_make(r, ld, &t))
		rc = cvm_error_set(&err, -ENOMEM, "out of memory");
	int status = CLI_OK;
	if (!rc && json)
		status = print_json(r, &t, &p->snp.id_block, policy);
	else if (!rc)
		print_text(r, &t, policy);
	id_text_free(&t);
	free(r);
	cvm_policy_free(p);
	return rc ? cli_fail("id-block", &err) : status;
}
