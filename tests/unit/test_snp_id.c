/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: SNP ID block and ID auth (sev/snp_id.c).  The fixed vector is sev-snp-measure's
 * test_id_block (vectors/snp/VECTORS.md "Other vectors"); ECDSA signatures are randomized, so
 * they are checked by verifying them with OpenSSL after re-reading R and S.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cvmkit/error.h>
#include <cvmkit/snp.h>
#include <cvmkit/util.h>

/* sev-snp-measure tests/keyfile/{id,author}_key_test.pem (public test keys of that project). */
static const char id_key_pem[] =
	"-----BEGIN EC PRIVATE KEY-----\n"
	"MIGkAgEBBDDd3NjrPduToA3Y2bU8u+m+wL+icE6wZOiAm5FopHJjHx2a67ZcqhcX\n"
	"mB/DBwn4WsKgBwYFK4EEACKhZANiAASyD9Ghwr0rZRg6duI5CsgF9tjl4q9yXlqO\n"
	"k8+H7AKfnUXrMmsEuSvrcU4U+phviposlKC4qzDMdjUmdZRIdokelU/271gmpiMb\n"
	"ptbX9uv7aM4zDh5ZOU77cICIPdxpNks=\n"
	"-----END EC PRIVATE KEY-----\n";
static const char author_key_pem[] =
	"-----BEGIN EC PRIVATE KEY-----\n"
	"MIGkAgEBBDCUTgpZn6Wt6RvhJHG3PzPIEkyl1x8+0G3gltnqH63ibdpY+Y99M2tr\n"
	"34JhaKgSdJOgBwYFK4EEACKhZANiAAQGgR/GJAm/LZrlHAdCMlTYk8bCP78WSvM4\n"
	"Ow+BOmJ+YWjZBnp/S9l5kFiMGEESEKAytCCiJlbScdz9TiVmjHL9WLtfaFH+Ry+d\n"
	"Fg+ICxTfTDYjBolizeTWCOc3NC2pEsk=\n"
	"-----END EC PRIVATE KEY-----\n";

static const char vec_measurement[] =
	"B28FLQi9p6cAqipgjFyqawDrrSl7bWioWkWx5mmlWLZ+G5HShKMB/mPE+gdQRn7t";
static const char vec_id_block[] =
	"B28FLQi9p6cAqipgjFyqawDrrSl7bWioWkWx5mmlWLZ+G5HShKMB/mPE+gdQRn7t"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAwAAAAAA";
static const char vec_id_key_digest[] =
	"hwt+NcU/inLQ0yL3WrKvgmJ5Kq9leWIs5BMcPyHyied8sFYKXjuQs5MuZ07HCcsU";
static const char vec_author_key_digest[] =
	"YxEcNLv8Ckk4+aAJvQdJgNgXIyPmFZnJ/TNtqGcySOHcqY0L6PdjdqEGuK/UwKBX";

struct keys {
	char dir[64];
	char id[128], author[128], p256[128], fresh[128], id_pub[128];
};

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void write_generated_key(const char *path, const char *curve)
{
	EVP_PKEY *k = EVP_EC_gen(curve);
	assert_non_null(k);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	EVP_PKEY_free(k);
}

static void write_public_of(const char *priv, const char *pub)
{
	FILE *f = fopen(priv, "r");
	assert_non_null(f);
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	f = fopen(pub, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PUBKEY(f, k), 1);
	fclose(f);
	EVP_PKEY_free(k);
}

static int setup(void **state)
{
	struct keys *k = calloc(1, sizeof(*k));
	if (!k)
		return -1;
	snprintf(k->dir, sizeof(k->dir), "/tmp/cvmkit-snp-id-XXXXXX");
	if (!mkdtemp(k->dir)) {
		free(k);
		return -1;
	}
	snprintf(k->id, sizeof(k->id), "%s/id.pem", k->dir);
	snprintf(k->author, sizeof(k->author), "%s/author.pem", k->dir);
	snprintf(k->p256, sizeof(k->p256), "%s/p256.pem", k->dir);
	snprintf(k->fresh, sizeof(k->fresh), "%s/fresh.pem", k->dir);
	snprintf(k->id_pub, sizeof(k->id_pub), "%s/id_pub.pem", k->dir);
	write_text(k->id, id_key_pem);
	write_text(k->author, author_key_pem);
	write_generated_key(k->p256, "P-256");
	write_generated_key(k->fresh, "P-384");
	write_public_of(k->id, k->id_pub);
	*state = k;
	return 0;
}

static int teardown(void **state)
{
	struct keys *k = *state;
	unlink(k->id);
	unlink(k->author);
	unlink(k->p256);
	unlink(k->fresh);
	unlink(k->id_pub);
	rmdir(k->dir);
	free(k);
	return 0;
}

static void b64_decode(const char *in, uint8_t *out, size_t n)
{
	uint8_t buf[256];
	size_t len = strlen(in);
	assert_true(len / 4 * 3 <= sizeof(buf));
	int got = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len);
	assert_true(got >= (int)n);
	memcpy(out, buf, n);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static EVP_PKEY *load_pub(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	return k;
}

/* Verify an AMD signature structure (R, S little-endian 72 bytes) over msg with key. */
static bool amd_sig_verifies(const char *key_path, const uint8_t *sig, const uint8_t *msg,
			     size_t len)
{
	EVP_PKEY *k = load_pub(key_path);
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_lebin2bn(sig, 72, NULL), *ss = BN_lebin2bn(sig + 72, 72, NULL);
	assert_non_null(s);
	assert_int_equal(ECDSA_SIG_set0(s, r, ss), 1);
	uint8_t *der = NULL;
	int der_len = i2d_ECDSA_SIG(s, &der);
	assert_true(der_len > 0);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha384(), NULL, k), 1);
	int ok = EVP_DigestVerify(ctx, der, (size_t)der_len, msg, len);
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	ECDSA_SIG_free(s);
	EVP_PKEY_free(k);
	return ok == 1;
}

static struct cvm_snp_id_block_input input_for(const struct keys *k, bool with_author)
{
	struct cvm_snp_id_block_input in;
	memset(&in, 0, sizeof(in));
	in.present = true;
	in.id_key_path = (char *)(uintptr_t)k->id;
	in.author_key_path = with_author ? (char *)(uintptr_t)k->author : NULL;
	return in;
}

static void id_block_matches_vector(void **state)
{
	const struct keys *k = *state;
	uint8_t ld[48], expect[96];
	struct cvm_snp_id_result r;
	struct cvm_error err;
	b64_decode(vec_measurement, ld, sizeof(ld));
	b64_decode(vec_id_block, expect, sizeof(expect));
	struct cvm_snp_id_block_input in = input_for(k, true);
	int rc = cvm_snp_id_build(ld, &in, 0x30000, &r, &err);
	if (rc)
		print_message("%s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_memory_equal(r.id_block, expect, sizeof(expect));
}

static void key_digests_match_vector(void **state)
{
	const struct keys *k = *state;
	uint8_t ld[48] = {0}, id_digest[48], author_digest[48];
	struct cvm_snp_id_result r;
	struct cvm_error err;
	b64_decode(vec_id_key_digest, id_digest, sizeof(id_digest));
	b64_decode(vec_author_key_digest, author_digest, sizeof(author_digest));
	struct cvm_snp_id_block_input in = input_for(k, true);
	assert_int_equal(cvm_snp_id_build(ld, &in, 0x30000, &r, &err), 0);
	assert_memory_equal(r.id_key_digest, id_digest, 48);
	assert_true(r.has_author_key);
	assert_memory_equal(r.author_key_digest, author_digest, 48);
}

static void key_from_pem_gives_struct_and_digest(void **state)
{
	const struct keys *k = *state;
	uint8_t key[CVM_SNP_PUBKEY_SIZE], digest[48], expect[48], pub_digest[48];
	struct cvm_error err;
	b64_decode(vec_id_key_digest, expect, sizeof(expect));
	assert_int_equal(cvm_snp_key_from_pem(k->id, key, digest, &err), 0);
	assert_memory_equal(digest, expect, 48);
	assert_int_equal(cvm_le32(key), 2); /* curve P-384 */
	assert_true(all_zero(key + 4 + 2 * 72, CVM_SNP_PUBKEY_SIZE - 4 - 2 * 72));
	/* Qx little-endian: the high 24 bytes of each 72-byte field are zero for P-384. */
	assert_true(all_zero(key + 4 + 48, 24));
	assert_true(all_zero(key + 4 + 72 + 48, 24));
	/* The public-key PEM of the same key gives the same digest. */
	assert_int_equal(cvm_snp_key_from_pem(k->id_pub, NULL, pub_digest, &err), 0);
	assert_memory_equal(pub_digest, expect, 48);
}

static void id_auth_layout_and_signatures_verify(void **state)
{
	const struct keys *k = *state;
	uint8_t ld[48], id_key[CVM_SNP_PUBKEY_SIZE], author_key[CVM_SNP_PUBKEY_SIZE];
	struct cvm_snp_id_result r;
	struct cvm_error err;
	b64_decode(vec_measurement, ld, sizeof(ld));
	struct cvm_snp_id_block_input in = input_for(k, true);
	assert_int_equal(cvm_snp_id_build(ld, &in, 0x30000, &r, &err), 0);
	assert_int_equal(cvm_snp_key_from_pem(k->id, id_key, NULL, &err), 0);
	assert_int_equal(cvm_snp_key_from_pem(k->author, author_key, NULL, &err), 0);

	const uint8_t *a = r.id_auth;
	assert_int_equal(cvm_le32(a + 0), 1); /* ID key algo: ECDSA P-384 SHA-384 */
	assert_int_equal(cvm_le32(a + 4), 1); /* author key algo */
	assert_true(all_zero(a + 8, 0x40 - 8));
	assert_memory_equal(a + CVM_SNP_ID_AUTH_ID_KEY, id_key, CVM_SNP_PUBKEY_SIZE);
	assert_memory_equal(a + CVM_SNP_ID_AUTH_AUTHOR_KEY, author_key, CVM_SNP_PUBKEY_SIZE);
	/* Signature structures: R, S, then zero to 0x200. */
	assert_true(all_zero(a + CVM_SNP_ID_AUTH_ID_BLOCK_SIG + 144, 0x200 - 144));
	assert_true(all_zero(a + CVM_SNP_ID_AUTH_ID_KEY_SIG + 144, 0x200 - 144));
	assert_true(all_zero(a + CVM_SNP_ID_AUTH_ID_KEY + CVM_SNP_PUBKEY_SIZE,
			     CVM_SNP_ID_AUTH_ID_KEY_SIG - CVM_SNP_ID_AUTH_ID_KEY - CVM_SNP_PUBKEY_SIZE));
	assert_true(all_zero(a + CVM_SNP_ID_AUTH_AUTHOR_KEY + CVM_SNP_PUBKEY_SIZE,
			     CVM_SNP_ID_AUTH_SIZE - CVM_SNP_ID_AUTH_AUTHOR_KEY - CVM_SNP_PUBKEY_SIZE));

	assert_true(amd_sig_verifies(k->id, a + CVM_SNP_ID_AUTH_ID_BLOCK_SIG, r.id_block, 96));
	assert_true(amd_sig_verifies(k->author, a + CVM_SNP_ID_AUTH_ID_KEY_SIG,
				     a + CVM_SNP_ID_AUTH_ID_KEY, CVM_SNP_PUBKEY_SIZE));
	/* And not with the other key or over other bytes. */
	assert_false(amd_sig_verifies(k->author, a + CVM_SNP_ID_AUTH_ID_BLOCK_SIG, r.id_block, 96));
	r.id_block[0] ^= 1;
	assert_false(amd_sig_verifies(k->id, a + CVM_SNP_ID_AUTH_ID_BLOCK_SIG, r.id_block, 96));
}

static void signatures_are_randomized_but_block_is_not(void **state)
{
	const struct keys *k = *state;
	uint8_t ld[48] = {1};
	struct cvm_snp_id_result r1, r2;
	struct cvm_error err;
	struct cvm_snp_id_block_input in = input_for(k, true);
	assert_int_equal(cvm_snp_id_build(ld, &in, 0x30000, &r1, &err), 0);
	assert_int_equal(cvm_snp_id_build(ld, &in, 0x30000, &r2, &err), 0);
	assert_memory_equal(r1.id_block, r2.id_block, 96);
	assert_memory_equal(r1.id_key_digest, r2.id_key_digest, 48);
	assert_memory_not_equal(r1.id_auth + CVM_SNP_ID_AUTH_ID_BLOCK_SIG,
				r2.id_auth + CVM_SNP_ID_AUTH_ID_BLOCK_SIG, 144);
	assert_true(amd_sig_verifies(k->id, r2.id_auth + CVM_SNP_ID_AUTH_ID_BLOCK_SIG, r2.id_block,
				     96));
}

static void id_block_encodes_ids_svn_and_policy(void **state)
{
	const struct keys *k = *state;
	uint8_t ld[48];
	struct cvm_snp_id_result r;
	struct cvm_error err;
	struct cvm_snp_id_block_input in = input_for(k, false);
	in.id_key_path = (char *)(uintptr_t)k->fresh;
	for (int i = 0; i < 48; i++)
		ld[i] = (uint8_t)i;
	for (int i = 0; i < 16; i++) {
		in.family_id[i] = (uint8_t)(0xf0 + i);
		in.image_id[i] = (uint8_t)(0xa0 + i);
	}
	in.guest_svn = 0x01020304;
	assert_int_equal(cvm_snp_id_build(ld, &in, 0x00000000000b0000ull | 0x1f, &r, &err), 0);
	assert_memory_equal(r.id_block, ld, 48);
	assert_memory_equal(r.id_block + 0x30, in.family_id, 16);
	assert_memory_equal(r.id_block + 0x40, in.image_id, 16);
	assert_int_equal(cvm_le32(r.id_block + 0x50), 1);
	assert_int_equal(cvm_le32(r.id_block + 0x54), 0x01020304);
	assert_int_equal(cvm_le64(r.id_block + 0x58), 0xb001f);
	assert_true(amd_sig_verifies(k->fresh, r.id_auth + CVM_SNP_ID_AUTH_ID_BLOCK_SIG, r.id_block,
				     96));
}

static void without_author_key_the_author_half_is_zero(void **state)
{
	const struct keys *k = *state;
	uint8_t ld[48] = {0};
	struct cvm_snp_id_result r;
	struct cvm_error err;
	struct cvm_snp_id_block_input in = input_for(k, false);
	assert_int_equal(cvm_snp_id_build(ld, &in, 0x30000, &r, &err), 0);
	assert_false(r.has_author_key);
	assert_true(all_zero(r.author_key_digest, 48));
	assert_int_equal(cvm_le32(r.id_auth + 4), 0);
	assert_true(all_zero(r.id_auth + CVM_SNP_ID_AUTH_ID_KEY_SIG,
			     CVM_SNP_ID_AUTH_SIZE - CVM_SNP_ID_AUTH_ID_KEY_SIG));
}

static void wrong_curve_is_rejected(void **state)
{
	const struct keys *k = *state;
	uint8_t ld[48] = {0};
	struct cvm_snp_id_result r;
	memset(&r, 0x5a, sizeof(r));
	struct cvm_error err;
	struct cvm_snp_id_block_input in = input_for(k, false);
	in.id_key_path = (char *)(uintptr_t)k->p256;
	assert_int_equal(cvm_snp_id_build(ld, &in, 0x30000, &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "ID key"));
	assert_non_null(strstr(err.msg, "curve prime256v1, expected P-384 (secp384r1)"));
	assert_int_equal(r.id_block[0], 0x5a); /* untouched on failure */
	/* The same for the author key. */
	in = input_for(k, false);
	in.author_key_path = (char *)(uintptr_t)k->p256;
	assert_int_equal(cvm_snp_id_build(ld, &in, 0x30000, &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "author key"));
	assert_non_null(strstr(err.msg, "expected P-384"));
	assert_int_equal(cvm_snp_key_from_pem(k->p256, NULL, NULL, &err), -EINVAL);
}

static void missing_key_file_is_rejected(void **state)
{
	const struct keys *k = *state;
	uint8_t ld[48] = {0};
	struct cvm_snp_id_result r;
	struct cvm_error err;
	struct cvm_snp_id_block_input in = input_for(k, false);
	in.id_key_path = (char *)(uintptr_t) "/nonexistent/id.pem";
	assert_int_equal(cvm_snp_id_build(ld, &in, 0x30000, &r, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "ID key: /nonexistent/id.pem"));
}

static void non_key_file_is_rejected(void **state)
{
	const struct keys *k = *state;
	uint8_t ld[48] = {0};
	struct cvm_snp_id_result r;
	struct cvm_error err;
	char path[128];
	snprintf(path, sizeof(path), "%s/garbage.pem", k->dir);
	write_text(path, "not a key\n");
	struct cvm_snp_id_block_input in = input_for(k, false);
	in.id_key_path = path;
	assert_int_equal(cvm_snp_id_build(ld, &in, 0x30000, &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "no unencrypted PEM private key found"));
	/* A public key cannot sign. */
	in.id_key_path = (char *)(uintptr_t)k->id_pub;
	assert_int_equal(cvm_snp_id_build(ld, &in, 0x30000, &r, &err), -EINVAL);
	unlink(path);
}

static void missing_id_block_inputs_are_rejected(void **state)
{
	(void)state;
	uint8_t ld[48] = {0};
	struct cvm_snp_id_result r;
	struct cvm_error err;
	struct cvm_snp_id_block_input in;
	memset(&in, 0, sizeof(in));
	assert_int_equal(cvm_snp_id_build(ld, &in, 0x30000, &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "no snp.id_block"));
	in.present = true;
	assert_int_equal(cvm_snp_id_build(ld, &in, 0x30000, &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "no ID key file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(id_block_matches_vector),
		cmocka_unit_test(key_digests_match_vector),
		cmocka_unit_test(key_from_pem_gives_struct_and_digest),
		cmocka_unit_test(id_auth_layout_and_signatures_verify),
		cmocka_unit_test(signatures_are_randomized_but_block_is_not),
		cmocka_unit_test(id_block_encodes_ids_svn_and_policy),
		cmocka_unit_test(without_author_key_the_author_half_is_zero),
		cmocka_unit_test(wrong_curve_is_rejected),
		cmocka_unit_test(missing_key_file_is_rejected),
		cmocka_unit_test(non_key_file_is_rejected),
		cmocka_unit_test(missing_id_block_inputs_are_rejected),
	};
	return cmocka_run_group_tests_name("snp_id", tests, setup, teardown);
}
