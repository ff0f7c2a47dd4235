/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SNP launch digest: the PAGE_INFO chain (spec/snp-measurement.md 1) and the measurement
 * model that runs it as a plan executor.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <cvmkit/pool.h>
#include <cvmkit/snp.h>
#include <cvmkit/util.h>

#include "sev/snp_priv.h"

/* ---- the chain ------------------------------------------------------------------------- */

int snp_chain_init(struct snp_chain *c, struct cvm_error *err)
{
	memset(c, 0, sizeof(*c));
	c->sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
	c->ctx = EVP_MD_CTX_new();
	if (!c->sha384 || !c->ctx) {
		snp_chain_fini(c);
		return cvm_error_set(err, -ENOMEM, "SHA-384: cannot set up an OpenSSL context");
	}
	return 0;
}

void snp_chain_fini(struct snp_chain *c)
{
	EVP_MD_CTX_free(c->ctx);
	EVP_MD_free(c->sha384);
	c->ctx = NULL;
	c->sha384 = NULL;
}

/* SHA-384 of len bytes with a context of the caller's (any thread's own). */
static int sha384_with(EVP_MD_CTX *ctx, const EVP_MD *md, const void *data, size_t len,
		       uint8_t out[CVM_SNP_DIGEST_SIZE], struct cvm_error *err)
{
	if (!EVP_DigestInit_ex2(ctx, md, NULL) || !EVP_DigestUpdate(ctx, data, len) ||
	    !EVP_DigestFinal_ex(ctx, out, NULL))
		return cvm_error_set(err, -EIO, "SHA-384 failed (OpenSSL)");
	return 0;
}

int snp_chain_sha384(struct snp_chain *c, const void *data, size_t len,
		     uint8_t out[CVM_SNP_DIGEST_SIZE], struct cvm_error *err)
{
	return sha384_with(c->ctx, c->sha384, data, len, out, err);
}

void cvm_snp_page_info_encode(const uint8_t cur[CVM_SNP_DIGEST_SIZE],
			      const uint8_t contents[CVM_SNP_DIGEST_SIZE], uint8_t page_type,
			      uint64_t gpa, uint8_t out[CVM_SNP_PAGE_INFO_SIZE])
{
	memcpy(out, cur, CVM_SNP_DIGEST_SIZE);
	if (contents)
		memcpy(out + 0x30, contents, CVM_SNP_DIGEST_SIZE);
	else
		memset(out + 0x30, 0, CVM_SNP_DIGEST_SIZE);
	cvm_put_le16(out + 0x60, CVM_SNP_PAGE_INFO_SIZE);
	out[0x62] = page_type;
	out[0x63] = 0; /* IMI_PAGE */
	/* VMPL permissions: all zero in a KVM launch, so their byte order does not matter. */
	cvm_put_le32(out + 0x64, 0);
	cvm_put_le64(out + 0x68, gpa);
}

int snp_chain_extend(struct snp_chain *c, const uint8_t contents[CVM_SNP_DIGEST_SIZE],
		     uint8_t page_type, uint64_t gpa, struct cvm_error *err)
{
	uint8_t info[CVM_SNP_PAGE_INFO_SIZE];
	cvm_snp_page_info_encode(c->digest, contents, page_type, gpa, info);
	c->records++;
	return snp_chain_sha384(c, info, sizeof(info), c->digest, err);
}

static bool page_type_hashes_contents(uint8_t type)
{
	return type == CVM_SNP_PAGE_NORMAL || type == CVM_SNP_PAGE_VMSA;
}

static int zero_page_hash(struct snp_chain *c, const uint8_t **out, struct cvm_error *err)
{
	if (!c->have_zero_page_hash) {
		static const uint8_t zero[CVM_PAGE_SIZE];
		int rc = snp_chain_sha384(c, zero, sizeof(zero), c->zero_page_hash, err);
		if (rc)
			return rc;
		c->have_zero_page_hash = true;
	}
	*out = c->zero_page_hash;
	return 0;
}

/* The bytes of a range of pages: data_len bytes, zero up to the range's end. */
struct page_source {
	const uint8_t *data;
	size_t data_len;
	const uint8_t *zero_hash; /* SHA-384 of a zero page, when the range goes past data_len */
};

/* SHA-384 of the page at byte off of src, into out. */
static int page_hash(EVP_MD_CTX *ctx, const EVP_MD *md, const struct page_source *src,
		     uint64_t off, uint8_t out[CVM_SNP_DIGEST_SIZE], struct cvm_error *err)
{
	if (off + CVM_PAGE_SIZE <= src->data_len)
		return sha384_with(ctx, md, src->data + off, CVM_PAGE_SIZE, out, err);
	if (off < src->data_len) {
		uint8_t page[CVM_PAGE_SIZE] = {0};
		memcpy(page, src->data + off, src->data_len - off);
		return sha384_with(ctx, md, page, sizeof(page), out, err);
	}
	memcpy(out, src->zero_hash, CVM_SNP_DIGEST_SIZE);
	return 0;
}

/*
 * On a pool, the page hashes of a range are computed a window at a time (so memory stays a
 * few KiB whatever the range's size), the next window hashing while this thread runs the
 * previous one through the chain; a window is split into chunks, one pool item each.
 */
#define WINDOW_PAGES 256u /* 1 MiB of pages, 12 KiB of hashes */
#define CHUNK_PAGES 16u

struct hash_window {
	const EVP_MD *md;
	const struct page_source *src;
	uint64_t first;  /* byte offset of the window's first page in the range */
	size_t npages;
	uint8_t (*hashes)[CVM_SNP_DIGEST_SIZE];
};

static int hash_chunk(void *ctx, size_t index, struct cvm_error *err)
{
	const struct hash_window *w = ctx;
	size_t lo = index * CHUNK_PAGES;
	size_t hi = lo + CHUNK_PAGES < w->npages ? lo + CHUNK_PAGES : w->npages;
	EVP_MD_CTX *mdctx = EVP_MD_CTX_new(); /* OpenSSL contexts are per thread: one per item */
	if (!mdctx)
		return cvm_error_set(err, -ENOMEM, "SHA-384: cannot set up an OpenSSL context");
	int rc = 0;
	for (size_t p = lo; p < hi && !rc; p++)
		rc = page_hash(mdctx, w->md, w->src, w->first + (uint64_t)p * CVM_PAGE_SIZE,
			       w->hashes[p], err);
	EVP_MD_CTX_free(mdctx);
	return rc;
}

static int start_window(struct snp_chain *c, struct hash_window *w, uint64_t npages, uint64_t k,
			struct cvm_pool_batch **batch, struct cvm_error *err)
{
	uint64_t first_page = k * WINDOW_PAGES;
	w->first = first_page * CVM_PAGE_SIZE;
	w->npages = (size_t)(npages - first_page < WINDOW_PAGES ? npages - first_page
								 : WINDOW_PAGES);
	size_t chunks = (w->npages + CHUNK_PAGES - 1) / CHUNK_PAGES;
	return cvm_pool_start(c->pool, chunks, hash_chunk, w, batch, err);
}

/* snp_chain_extend_range for hashed page types, the hashes on c->pool. */
static int extend_hashed_pooled(struct snp_chain *c, const struct page_source *src, uint64_t gpa,
				uint64_t npages, uint8_t page_type, struct cvm_error *err)
{
	uint8_t(*hashes)[CVM_SNP_DIGEST_SIZE] = malloc(2 * WINDOW_PAGES * CVM_SNP_DIGEST_SIZE);
	if (!hashes)
		return cvm_error_set(err, -ENOMEM, "SHA-384: out of memory");
	struct hash_window w[2] = {
		{.md = c->sha384, .src = src, .hashes = hashes},
		{.md = c->sha384, .src = src, .hashes = hashes + WINDOW_PAGES},
	};
	struct cvm_pool_batch *batch[2] = {NULL, NULL};
	uint64_t windows = (npages + WINDOW_PAGES - 1) / WINDOW_PAGES;
	int rc = start_window(c, &w[0], npages, 0, &batch[0], err);
	for (uint64_t k = 0; k < windows && !rc; k++) {
		int cur = (int)(k & 1);
		rc = cvm_pool_finish(batch[cur], err);
		batch[cur] = NULL;
		if (!rc && k + 1 < windows)
			rc = start_window(c, &w[!cur], npages, k + 1, &batch[!cur], err);
		for (size_t p = 0; p < w[cur].npages && !rc; p++)
			rc = snp_chain_extend(c, w[cur].hashes[p], page_type,
					      gpa + w[cur].first + (uint64_t)p * CVM_PAGE_SIZE, err);
	}
	for (int i = 0; i < 2; i++) /* after a failure: the window still hashing */
		if (batch[i])
			cvm_pool_finish(batch[i], NULL);
	free(hashes);
	return rc;
}

int snp_chain_extend_range(struct snp_chain *c, const uint8_t *data, size_t data_len,
			   uint64_t gpa, uint64_t size, uint8_t page_type, struct cvm_error *err)
{
	if (size % CVM_PAGE_SIZE || gpa % CVM_PAGE_SIZE || gpa + size < gpa)
		return cvm_error_set(err, -EINVAL,
				     "range gpa 0x%llx size 0x%llx is not whole 4 KiB pages",
				     (unsigned long long)gpa, (unsigned long long)size);
	struct page_source src = {.data = data, .data_len = data ? data_len : 0};
	bool hashed = page_type_hashes_contents(page_type);
	int rc;
	if (hashed && src.data_len < size && (rc = zero_page_hash(c, &src.zero_hash, err)))
		return rc;
	uint64_t npages = size / CVM_PAGE_SIZE;
	if (hashed && cvm_pool_threads(c->pool) > 1 && npages >= 2 * CHUNK_PAGES)
		return extend_hashed_pooled(c, &src, gpa, npages, page_type, err);
	uint8_t contents[CVM_SNP_DIGEST_SIZE];
	for (uint64_t off = 0; off < size; off += CVM_PAGE_SIZE) {
		if (hashed && (rc = page_hash(c->ctx, c->sha384, &src, off, contents, err)))
			return rc;
		if ((rc = snp_chain_extend(c, hashed ? contents : NULL, page_type, gpa + off, err)))
			return rc;
	}
	return 0;
}

int cvm_snp_firmware_digest(const struct cvm_firmware *fw, uint8_t out[CVM_SNP_DIGEST_SIZE],
			    struct cvm_error *err)
{
	return cvm_snp_firmware_digest_ex(fw, NULL, out, err);
}

int cvm_snp_firmware_digest_ex(const struct cvm_firmware *fw, struct cvm_pool *pool,
			       uint8_t out[CVM_SNP_DIGEST_SIZE], struct cvm_error *err)
{
	if (fw->size == 0 || fw->size % CVM_PAGE_SIZE)
		return cvm_error_set(err, -EINVAL,
				     "firmware size %zu is not a non-zero multiple of 4096 bytes",
				     fw->size);
	struct snp_chain c;
	int rc = snp_chain_init(&c, err);
	if (rc)
		return rc;
	c.pool = pool;
	rc = snp_chain_extend_range(&c, fw->data, fw->size, fw->load_gpa, fw->size,
				    CVM_SNP_PAGE_NORMAL, err);
	if (!rc)
		memcpy(out, c.digest, CVM_SNP_DIGEST_SIZE);
	snp_chain_fini(&c);
	return rc;
}

/* ---- the model as a plan executor -------------------------------------------------------- */

struct cvm_snp_model {
	struct snp_chain chain;
	bool seeded; /* started from plan->snp.initial_digest: firmware ops are already in it */
	/* All APs share one VMSA image: remember the last one hashed. */
	bool have_vmsa;
	uint8_t vmsa[CVM_SNP_VMSA_SIZE];
	uint8_t vmsa_hash[CVM_SNP_DIGEST_SIZE];
	/* The chain after the firmware's pages, computed ahead (cvm_snp_model_set_firmware_digest) */
	const uint8_t *fw_data;
	uint64_t fw_gpa, fw_size;
	uint8_t fw_digest[CVM_SNP_DIGEST_SIZE];
};

struct cvm_snp_model *cvm_snp_model_new(void)
{
	struct cvm_snp_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	if (snp_chain_init(&m->chain, NULL)) {
		free(m);
		return NULL;
	}
	return m;
}

void cvm_snp_model_free(struct cvm_snp_model *model)
{
	if (!model)
		return;
	snp_chain_fini(&model->chain);
	free(model);
}

void cvm_snp_model_set_pool(struct cvm_snp_model *model, struct cvm_pool *pool)
{
	model->chain.pool = pool;
}

void cvm_snp_model_digest(const struct cvm_snp_model *model, uint8_t out[CVM_SNP_DIGEST_SIZE])
{
	memcpy(out, model->chain.digest, CVM_SNP_DIGEST_SIZE);
}

static int model_begin(void *ctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	struct cvm_snp_model *m = ctx;
	if (plan->tee != CVM_TEE_SNP)
		return cvm_error_set(err, -EINVAL, "the SNP model measures SNP plans only");
	m->seeded = plan->snp.has_initial_digest;
	if (m->seeded)
		memcpy(m->chain.digest, plan->snp.initial_digest, CVM_SNP_DIGEST_SIZE);
	else
		memset(m->chain.digest, 0, CVM_SNP_DIGEST_SIZE);
	m->chain.records = 0;
	return 0;
}

static int check_page_type(const struct cvm_plan_op *op, struct cvm_error *err)
{
	if (op->snp_page_type < CVM_SNP_PAGE_NORMAL || op->snp_page_type > CVM_SNP_PAGE_CPUID)
		return cvm_error_set(err, -EINVAL, "no SNP page type (%u)", op->snp_page_type);
	if (op->data && op->data_len > op->size)
		return cvm_error_set(err, -EINVAL, "op data longer than the op");
	return 0;
}

void cvm_snp_model_set_firmware_digest(struct cvm_snp_model *model, const struct cvm_firmware *fw,
				       const uint8_t digest[CVM_SNP_DIGEST_SIZE])
{
	model->fw_data = fw->data;
	model->fw_gpa = fw->load_gpa;
	model->fw_size = fw->size;
	memcpy(model->fw_digest, digest, CVM_SNP_DIGEST_SIZE);
}

/* The op is the first of an unseeded chain and loads exactly the pages hashed ahead. */
static bool hashed_ahead(const struct cvm_snp_model *m, const struct cvm_plan_op *op)
{
	return m->fw_data && !m->seeded && m->chain.records == 0 && op->data == m->fw_data &&
	       op->gpa == m->fw_gpa && op->size == m->fw_size && op->data_len == m->fw_size &&
	       op->snp_page_type == CVM_SNP_PAGE_NORMAL;
}

static int model_load(void *ctx, const struct cvm_plan_op *op, struct cvm_error *err)
{
	struct cvm_snp_model *m = ctx;
	if (m->seeded && (op->flags & CVM_OP_FIRMWARE))
		return 0;
	int rc = check_page_type(op, err);
	if (rc)
		return rc;
	if (hashed_ahead(m, op)) {
		memcpy(m->chain.digest, m->fw_digest, CVM_SNP_DIGEST_SIZE);
		m->chain.records += op->size / CVM_PAGE_SIZE;
		return 0;
	}
	return snp_chain_extend_range(&m->chain, op->data, op->data_len, op->gpa, op->size,
				      op->snp_page_type, err);
}

static int model_vcpu(void *ctx, const struct cvm_plan_op *op, struct cvm_error *err)
{
	struct cvm_snp_model *m = ctx;
	if (op->snp_page_type != CVM_SNP_PAGE_VMSA || !op->data ||
	    op->data_len != CVM_SNP_VMSA_SIZE)
		return cvm_error_set(err, -EINVAL, "vCPU %u: no 4096-byte VMSA page in the plan",
				     op->vcpu_index);
	if (!m->have_vmsa || memcmp(m->vmsa, op->data, CVM_SNP_VMSA_SIZE) != 0) {
		int rc = snp_chain_sha384(&m->chain, op->data, CVM_SNP_VMSA_SIZE, m->vmsa_hash, err);
		if (rc)
			return rc;
		memcpy(m->vmsa, op->data, CVM_SNP_VMSA_SIZE);
		m->have_vmsa = true;
	}
	return snp_chain_extend(&m->chain, m->vmsa_hash, CVM_SNP_PAGE_VMSA, op->gpa, err);
}

static const struct cvm_backend_ops snp_model_ops = {
	.name = "snp-model",
	.begin = model_begin,
	.load = model_load,
	.vcpu = model_vcpu,
};

const struct cvm_backend_ops *cvm_snp_model_ops(void)
{
	return &snp_model_ops;
}
