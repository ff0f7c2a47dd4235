/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MRTD model: what the TDX module hashes for TDH.MEM.PAGE.ADD and TDH.MR.EXTEND
 * (spec/tdx-measurement.md section 3), as a plan executor.
 *
 * Every record is a 128-byte extension buffer (the SHA-384 block size).  Records are collected in
 * a batch buffer and handed to one running EVP stream a batch at a time, so the cost is that of
 * plain SHA-384 over the same bytes rather than one EVP call per 128 bytes.
 */
#include <cvmkit/tdx.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <cvmkit/util.h>

#define TDX_RECORD_SIZE 128u
#define TDX_EXTEND_CHUNK 256u
#define TDX_EXTEND_CHUNKS_PER_PAGE (CVM_PAGE_SIZE / TDX_EXTEND_CHUNK)
/* One page's worth of extends is 16 x 3 records = 6 KiB; keep whole pages per batch. */
#define TDX_BATCH_SIZE (64u * 1024u)

struct cvm_tdx_model {
	EVP_MD_CTX *md;
	volatile sig_atomic_t *cancel; /* optional, borrowed */
	enum cvm_tdx_order order;
	bool finished;
	uint8_t digest[CVM_TDX_DIGEST_SIZE];
	size_t fill;
	uint8_t batch[TDX_BATCH_SIZE];
};

struct cvm_tdx_model *cvm_tdx_model_new(void)
{
	struct cvm_tdx_model *model = calloc(1, sizeof(*model));
	if (!model)
		return NULL;
	model->md = EVP_MD_CTX_new();
	if (!model->md) {
		free(model);
		return NULL;
	}
	return model;
}

void cvm_tdx_model_free(struct cvm_tdx_model *model)
{
	if (!model)
		return;
	EVP_MD_CTX_free(model->md);
	free(model);
}

void cvm_tdx_model_set_cancel(struct cvm_tdx_model *model, volatile sig_atomic_t *cancel)
{
	model->cancel = cancel;
}

/* Also where a long section is given up when cancelled: once per batch of records. */
static int model_flush(struct cvm_tdx_model *model, struct cvm_error *err)
{
	if (model->cancel && *model->cancel)
		return cvm_error_set(err, -ECANCELED, "MRTD: cancelled");
	if (model->fill && EVP_DigestUpdate(model->md, model->batch, model->fill) != 1)
		return cvm_error_set(err, -EIO, "MRTD: SHA-384 update failed");
	model->fill = 0;
	return 0;
}

/* Room for n more bytes in the batch, flushing first when needed. */
static int model_reserve(struct cvm_tdx_model *model, size_t n, struct cvm_error *err)
{
	if (TDX_BATCH_SIZE - model->fill >= n)
		return 0;
	return model_flush(model, err);
}

static void put_record_header(uint8_t *rec, const char *tag, uint64_t gpa)
{
	memset(rec, 0, TDX_RECORD_SIZE);
	memcpy(rec, tag, strlen(tag));
	cvm_put_le64(rec + 16, gpa);
}

static int model_page_add(struct cvm_tdx_model *model, uint64_t gpa, struct cvm_error *err)
{
	int rc = model_reserve(model, TDX_RECORD_SIZE, err);
	if (rc)
		return rc;
	put_record_header(model->batch + model->fill, "MEM.PAGE.ADD", gpa);
	model->fill += TDX_RECORD_SIZE;
	return 0;
}

/* 16 MR.EXTEND of one page: header record + the 256 content bytes (zero past data_len). */
static int model_page_extend(struct cvm_tdx_model *model, const struct cvm_plan_op *op,
			     uint64_t page_off, struct cvm_error *err)
{
	size_t need = TDX_EXTEND_CHUNKS_PER_PAGE * (TDX_RECORD_SIZE + TDX_EXTEND_CHUNK);
	int rc = model_reserve(model, need, err);
	if (rc)
		return rc;
	uint8_t *p = model->batch + model->fill;
	for (unsigned c = 0; c < TDX_EXTEND_CHUNKS_PER_PAGE; c++) {
		uint64_t off = page_off + (uint64_t)c * TDX_EXTEND_CHUNK;
		put_record_header(p, "MR.EXTEND", op->gpa + off);
		p += TDX_RECORD_SIZE;
		size_t have = 0;
		if (op->data && off < op->data_len) {
			have = op->data_len - off < TDX_EXTEND_CHUNK ? (size_t)(op->data_len - off)
								     : TDX_EXTEND_CHUNK;
			memcpy(p, op->data + off, have);
		}
		memset(p + have, 0, TDX_EXTEND_CHUNK - have);
		p += TDX_EXTEND_CHUNK;
	}
	model->fill += need;
	return 0;
}

static int model_begin(void *ctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	struct cvm_tdx_model *model = ctx;
	if (EVP_DigestInit_ex(model->md, EVP_sha384(), NULL) != 1)
		return cvm_error_set(err, -EIO, "MRTD: SHA-384 init failed");
	model->order = plan->tdx.order;
	model->fill = 0;
	model->finished = false;
	return 0;
}

static int model_load(void *ctx, const struct cvm_plan_op *op, struct cvm_error *err)
{
	struct cvm_tdx_model *model = ctx;
	if (op->size % CVM_PAGE_SIZE || op->gpa % CVM_PAGE_SIZE || op->data_len > op->size)
		return cvm_error_set(err, -EINVAL,
				     "MRTD: op gpa 0x%llx size 0x%llx is not whole 4 KiB pages",
				     (unsigned long long)op->gpa, (unsigned long long)op->size);
	bool add = !(op->flags & CVM_OP_NO_PAGE_ADD);
	bool extend = op->flags & CVM_OP_MR_EXTEND;
	uint64_t npages = op->size / CVM_PAGE_SIZE;
	int rc = 0;

	if (model->order == CVM_TDX_ORDER_TWO_PASS) {
		for (uint64_t p = 0; add && !rc && p < npages; p++)
			rc = model_page_add(model, op->gpa + p * CVM_PAGE_SIZE, err);
		for (uint64_t p = 0; extend && !rc && p < npages; p++)
			rc = model_page_extend(model, op, p * CVM_PAGE_SIZE, err);
		return rc;
	}
	for (uint64_t p = 0; !rc && p < npages; p++) {
		if (add)
			rc = model_page_add(model, op->gpa + p * CVM_PAGE_SIZE, err);
		if (!rc && extend)
			rc = model_page_extend(model, op, p * CVM_PAGE_SIZE, err);
	}
	return rc;
}

static int model_finish(void *ctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	(void)plan;
	struct cvm_tdx_model *model = ctx;
	int rc = model_flush(model, err);
	if (rc)
		return rc;
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(model->md, model->digest, &len) != 1 || len != CVM_TDX_DIGEST_SIZE)
		return cvm_error_set(err, -EIO, "MRTD: SHA-384 final failed");
	model->finished = true;
	return 0;
}

static const struct cvm_backend_ops tdx_model_ops = {
	.name = "MRTD model",
	.begin = model_begin,
	.load = model_load,
	.vcpu = NULL,
	.finish = model_finish,
	.prefault = NULL,
};

const struct cvm_backend_ops *cvm_tdx_model_ops(void)
{
	return &tdx_model_ops;
}

void cvm_tdx_model_digest(const struct cvm_tdx_model *model, uint8_t out[CVM_TDX_DIGEST_SIZE])
{
	memcpy(out, model->digest, CVM_TDX_DIGEST_SIZE);
}
