/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The default (non-confidential) VM as a TEE like the others: its planner (the raw image below
 * 4 GiB, then each vCPU's x86 reset state), its plain model (SHA-384 over what is loaded where)
 * and its document.
 */
#include <cvmkit/launch.h>
#include <cvmkit/util.h>

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "launcher/tee.h"

static int image_sha256_item(void *ctx, size_t index, struct cvm_error *err)
{
	(void)index;
	struct cvm_launch_inputs *in = ctx;
	return cvm_sha256(in->image.data, in->image.size, in->sha256, err);
}

/* The image's SHA-256 (the pin, the document) is taken on the pool beside the VM's creation and
   the copy: both only read the image, which was read into memory once, so the pin is of what is
   loaded.  Without a pool of two or more threads it is taken here and now. */
int cvm_default_vm_read_inputs(const struct cvm_policy *policy, struct cvm_launch_inputs *in,
			       struct cvm_pool *pool, struct cvm_error *err)
{
	int rc = cvm_file_read(policy->firmware.path, CVM_FIRMWARE_MAX, &in->image, err);
	if (rc)
		return rc;
	in->has_image = true;
	if (cvm_pool_threads(pool) < 2)
		return image_sha256_item(in, 0, err);
	if ((rc = cvm_pool_start_one(pool, image_sha256_item, in, &in->sha256_batch, err)))
		return rc;
	in->sha256_pending = true;
	return 0;
}

int cvm_default_vm_plan(const struct cvm_policy *policy, struct cvm_launch_inputs *in,
			struct cvm_pool *pool, struct cvm_plan *plan, struct cvm_error *err)
{
	(void)pool; /* nothing to hash */
	return cvm_default_plan_build(policy, in->image.data, in->image.size, plan, err);
}

/* The x86 reset state (SDM "Processor state following power-up"): real mode at f000:fff0. */
static void x86_reset_state(struct cvm_vcpu_reset *r, uint32_t signature)
{
	memset(r, 0, sizeof(*r));
	const struct cvm_segment data = {0, 0x93, 0xffff, 0};
	r->es = r->ss = r->ds = r->fs = r->gs = data;
	r->cs = (struct cvm_segment){0xf000, 0x9b, 0xffff, 0xffff0000ull};
	r->gdtr = (struct cvm_segment){0, 0, 0xffff, 0};
	r->idtr = r->gdtr;
	r->ldtr = (struct cvm_segment){0, 0x82, 0xffff, 0};
	r->tr = (struct cvm_segment){0, 0x8b, 0xffff, 0};
	r->cr0 = 0x60000010;
	r->dr6 = 0xffff0ff0;
	r->dr7 = 0x400;
	r->rflags = 0x2;
	r->rip = 0xfff0;
	r->rdx = signature;
	r->g_pat = 0x0007040600070406ull;
	r->xcr0 = 1;
	r->mxcsr = 0x1f80;
	r->x87_fcw = 0x37f;
}

int cvm_default_plan_build(const struct cvm_policy *policy, const uint8_t *image, size_t size,
			   struct cvm_plan *plan, struct cvm_error *err)
{
	cvm_plan_init(plan, CVM_TEE_NONE);
	if (!size || size % CVM_PAGE_SIZE || size > (16u << 20))
		return cvm_error_set(err, -EINVAL,
				     "firmware image of %zu bytes: must be a non-empty page multiple of at most 16 MiB",
				     size);
	int rc = cvm_plan_take_policy(plan, policy, err);
	if (rc)
		return rc;
	struct cvm_plan_op fw = {
		.kind = CVM_OP_LOAD,
		.label = "firmware",
		.gpa = 0x100000000ull - size,
		.size = size,
		.data = image,
		.data_len = size,
		.flags = CVM_OP_FIRMWARE,
	};
	rc = cvm_plan_add(plan, &fw, err);
	for (uint32_t i = 0; i < plan->nvcpus && !rc; i++) {
		struct cvm_vcpu_reset *r = malloc(sizeof(*r));
		if (!r) {
			rc = cvm_error_set(err, -ENOMEM, "out of memory");
			break;
		}
		x86_reset_state(r, policy->cpus.has_signature ? policy->cpus.signature : 0x600);
		if ((rc = cvm_plan_own(plan, r, err)))
			break;
		struct cvm_plan_op op = {
			.kind = CVM_OP_VCPU,
			.label = "vcpu",
			.vcpu_index = i,
			.vcpu = r,
		};
		rc = cvm_plan_add(plan, &op, err);
	}
	if (rc)
		cvm_plan_release(plan);
	return rc;
}

/* ---- The plain model (default VM) ------------------------------------------------------- */

struct cvm_plain_model {
	EVP_MD_CTX *md;
	uint8_t digest[48];
	bool done;
};

struct cvm_plain_model *cvm_plain_model_new(void)
{
	struct cvm_plain_model *m = calloc(1, sizeof(*m));
	if (m && !(m->md = EVP_MD_CTX_new())) {
		free(m);
		return NULL;
	}
	return m;
}

void cvm_plain_model_free(struct cvm_plain_model *m)
{
	if (!m)
		return;
	EVP_MD_CTX_free(m->md);
	free(m);
}

static int plain_begin(void *ctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	(void)plan;
	struct cvm_plain_model *m = ctx;
	m->done = false;
	if (EVP_DigestInit_ex(m->md, EVP_sha384(), NULL) != 1)
		return cvm_error_set(err, -EIO, "SHA-384 init failed");
	return 0;
}

/* SHA-384 over (gpa, size) then the op's bytes, zero past data_len; here [off, off + len). */
static int plain_load_piece(void *ctx, const struct cvm_plan_op *op, uint64_t off, uint64_t len,
			    struct cvm_error *err)
{
	struct cvm_plain_model *m = ctx;
	static const uint8_t zero[4096];
	int ok = 1;
	if (off == 0) {
		uint8_t hdr[16];
		cvm_put_le64(hdr, op->gpa);
		cvm_put_le64(hdr + 8, op->size);
		ok = EVP_DigestUpdate(m->md, hdr, sizeof(hdr));
	}
	uint64_t dlen = op->data ? op->data_len : 0, end = off + len;
	if (ok && off < dlen)
		ok = EVP_DigestUpdate(m->md, op->data + off, (end < dlen ? end : dlen) - off);
	for (uint64_t at = off > dlen ? off : dlen; ok && at < end;) {
		size_t n = end - at < sizeof(zero) ? (size_t)(end - at) : sizeof(zero);
		ok = EVP_DigestUpdate(m->md, zero, n);
		at += n;
	}
	return ok == 1 ? 0 : cvm_error_set(err, -EIO, "SHA-384 update failed");
}

static int plain_load(void *ctx, const struct cvm_plan_op *op, struct cvm_error *err)
{
	return plain_load_piece(ctx, op, 0, op->size, err);
}

static int plain_finish(void *ctx, const struct cvm_plan *plan, struct cvm_error *err)
{
	(void)plan;
	struct cvm_plain_model *m = ctx;
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(m->md, m->digest, &len) != 1 || len != 48)
		return cvm_error_set(err, -EIO, "SHA-384 final failed");
	m->done = true;
	return 0;
}

static const struct cvm_backend_ops plain_ops = {
	.name = "model",
	.begin = plain_begin,
	.load = plain_load,
	.finish = plain_finish,
	.load_piece = plain_load_piece,
};

const struct cvm_backend_ops *cvm_plain_model_ops(void)
{
	return &plain_ops;
}

int cvm_plain_model_digest(const struct cvm_plain_model *m, uint8_t out[48])
{
	if (!m->done)
		return -EINVAL;
	memcpy(out, m->digest, 48);
	return 0;
}

int cvm_default_vm_document(const struct cvm_policy *policy, const struct cvm_launch_inputs *in,
			    const struct cvm_plan *plan, bool before_launch,
			    volatile sig_atomic_t *cancel, struct cvm_pool *pool,
			    struct cvm_measurement **out, struct cvm_error *err)
{
	(void)cancel; /* a few hashes over inputs read in full already */
	(void)pool;
	(void)policy;
	(void)before_launch; /* nothing completes a default VM's plan */
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_NONE, "none");
	if (!m)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	m->digest_len = 0; /* the lockstep model's */
	char hex[65];
	int rc = 0;
	cvm_hex_encode(in->sha256, 32, hex);
	if ((cvm_measurement_add_input(m, "firmware_sha256", "%s", hex) ||
		    cvm_measurement_add_input_u64(m, "firmware_size", in->image.size) ||
		    cvm_measurement_add_input_u64(m, "memory_size", plan->mem_size) ||
		    cvm_measurement_add_input_u64(m, "vcpus", plan->nvcpus)))
		rc = cvm_error_set(err, -ENOMEM, "out of memory");
	if (rc) {
		cvm_measurement_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

