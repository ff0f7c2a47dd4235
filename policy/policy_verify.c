/* SPDX-License-Identifier: Apache-2.0 */
/* The names of the "verify" section (docs/policy.md): relaxations and required POLICY bits. */
#include <string.h>

#include <cvmkit/policy.h>
#include <cvmkit/util.h>

struct name_bit {
	const char *name;
	uint64_t bit;
};

static const struct name_bit allow_names[] = {
	{"debug", CVM_VERIFY_ALLOW_DEBUG},
	{"migrate_ma", CVM_VERIFY_ALLOW_MIGRATE_MA},
	{"cxl_allow", CVM_VERIFY_ALLOW_CXL},
	{"td_attributes_reserved", CVM_VERIFY_ALLOW_TD_ATTRIBUTES},
};

/* SEV-SNP guest POLICY bits (spec/snp-report.md section 2) a verifier may require. */
static const struct name_bit policy_bits[] = {
	{"single_socket", 1ull << 20},
	{"mem_aes_256_xts", 1ull << 22},
	{"rapl_dis", 1ull << 23},
	{"ciphertext_hiding", 1ull << 24},
	{"page_swap_disable", 1ull << 25},
};

static uint64_t bit_of(const struct name_bit *t, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].bit;
	return 0;
}

static const char *name_of(const struct name_bit *t, size_t n, uint64_t bit)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].bit == bit)
			return t[i].name;
	return NULL;
}

uint32_t cvm_policy_verify_allow_parse(const char *name)
{
	return (uint32_t)bit_of(allow_names, CVM_ARRAY_SIZE(allow_names), name);
}

const char *cvm_policy_verify_allow_name(uint32_t bit)
{
	return name_of(allow_names, CVM_ARRAY_SIZE(allow_names), bit);
}

uint64_t cvm_policy_verify_bit_parse(const char *name)
{
	return bit_of(policy_bits, CVM_ARRAY_SIZE(policy_bits), name);
}

const char *cvm_policy_verify_bit_name(uint64_t bit)
{
	return name_of(policy_bits, CVM_ARRAY_SIZE(policy_bits), bit);
}
