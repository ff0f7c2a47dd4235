/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to sev/snp_*.c: the SHA-384 PAGE_INFO chain with one reusable EVP context, the
 * vCPU-type resolution shared by the planner, the legacy digests and the matrix, and the
 * threaded file hashing of the measurement entry points.  Not installed.
 */
#ifndef CVMKIT_SEV_SNP_PRIV_H
#define CVMKIT_SEV_SNP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <cvmkit/error.h>
#include <cvmkit/firmware.h>
#include <cvmkit/policy.h>
#include <cvmkit/pool.h>
#include <cvmkit/progress.h>
#include <cvmkit/snp.h>

/*
 * The launch digest and the state to extend it cheaply: the SHA-384 implementation is fetched
 * once and the context is reused for every page, so extending allocates nothing.
 */
struct snp_chain {
	EVP_MD_CTX *ctx;
	struct cvm_pool *pool; /* borrowed, optional: page contents hashed on it (snp_chain_init: NULL) */
	EVP_MD *sha384;
	uint8_t digest[CVM_SNP_DIGEST_SIZE];
	bool have_zero_page_hash;
	uint8_t zero_page_hash[CVM_SNP_DIGEST_SIZE];
	uint64_t records; /* PAGE_INFO records hashed since init */
};

int snp_chain_init(struct snp_chain *c, struct cvm_error *err);
void snp_chain_fini(struct snp_chain *c);

/* SHA-384 of len bytes with the chain's context (does not touch the digest). */
int snp_chain_sha384(struct snp_chain *c, const void *data, size_t len,
		     uint8_t out[CVM_SNP_DIGEST_SIZE], struct cvm_error *err);

/* One PAGE_INFO record: digest := SHA-384(digest || contents || 0x70 || type || 0 || 0 || gpa). */
int snp_chain_extend(struct snp_chain *c, const uint8_t contents[CVM_SNP_DIGEST_SIZE],
		     uint8_t page_type, uint64_t gpa, struct cvm_error *err);

/*
 * Every 4 KiB page of [gpa, gpa + size): NORMAL and VMSA pages hash their bytes (data, zero past
 * data_len), other types extend with zero contents.  size must be a page multiple.  With a
 * pool of more than one thread, the contents are hashed on it and the chain consumes them in
 * page order (the digest is the same).
 */
int snp_chain_extend_range(struct snp_chain *c, const uint8_t *data, size_t data_len,
			   uint64_t gpa, uint64_t size, uint8_t page_type, struct cvm_error *err);

/* The vCPU type of a policy: the RDX signature, and whether the VMM needs one at all. */
int snp_policy_signature(const struct cvm_policy *policy, uint32_t *sig, struct cvm_error *err);

/* "EPYC, EPYC-v1, ..." into buf (truncated if short). */
void snp_cpu_model_list(char *buf, size_t n);

/* Checks shared by every mode: tee, vCPU count, firmware size. */
int snp_check_common(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		     struct cvm_error *err);

/* The SEV-ES reset block's AP start address; an error without the block or when it is 0. */
int snp_ap_reset_eip(const struct cvm_firmware *fw, uint32_t nvcpus, uint32_t *eip,
		     struct cvm_error *err);

/* The SEV hash-table area holds the padded hashes table (QEMU's own check); 0 or -EINVAL. */
int snp_hash_area_check(const struct cvm_firmware *fw, struct cvm_error *err);

/* Every refusal of a legacy SEV / SEV-ES measurement (no hashing). */
int snp_legacy_check(enum cvm_sev_mode mode, const struct cvm_policy *policy,
		     const struct cvm_firmware *fw, bool direct_boot, struct cvm_error *err);

/* initrd or cmdline without a kernel is an error. */
int snp_check_boot_inputs(const struct cvm_policy *policy, struct cvm_error *err);

/* SHA-256 of cmdline and its trailing NUL ("\0" alone when cmdline is NULL). */
int snp_cmdline_sha256(const char *cmdline, uint8_t out[32], struct cvm_error *err);

#endif
