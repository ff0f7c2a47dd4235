/* SPDX-License-Identifier: Apache-2.0 */
/* The TEE tables (launcher/tee.h): SEV-SNP, TDX and the default VM. */
#include <cvmkit/kvm.h>
#include <cvmkit/launch.h>
#include <cvmkit/pool.h>
#include <cvmkit/snp.h>
#include <cvmkit/tdx.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "launcher/kvm_uapi.h"
#include "launcher/tee.h"

int cvm_launch_inputs_sha256_wait(struct cvm_launch_inputs *in, struct cvm_error *err)
{
	if (in->sha256_pending && in->fw) {
		in->sha256_pending = false;
		return cvm_firmware_sha256(in->fw, in->sha256, err);
	}
	if (in->sha256_pending) {
		in->sha256_pending = false;
		int rc = cvm_pool_finish(in->sha256_batch, err);
		in->sha256_batch = NULL;
		return rc;
	}
	return 0;
}

void cvm_launch_inputs_release(struct cvm_launch_inputs *in)
{
	if (!in)
		return;
	(void)cvm_launch_inputs_sha256_wait(in, NULL);
	cvm_firmware_free(in->fw);
	in->fw = NULL;
	if (in->has_image)
		cvm_file_close(&in->image);
	in->has_image = false;
}

/* ---- SEV-SNP ---- */

/* SNP and TDX read the firmware with its metadata; with a pool its SHA-256 runs beside the
   planner, and the launch checks the pin after loading. */
static int read_firmware(const struct cvm_policy *policy, struct cvm_launch_inputs *in,
			 struct cvm_pool *pool, struct cvm_error *err)
{
	int rc = cvm_firmware_load_on(policy->firmware.path, pool, &in->fw, err);
	if (rc)
		return rc;
	in->sha256_pending = cvm_pool_threads(pool) > 1;
	return in->sha256_pending ? 0 : cvm_firmware_sha256(in->fw, in->sha256, err);
}

/* The checks that refuse a policy before anything is hashed (or a VM created). */
static int snp_plan_refusals(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			     struct cvm_error *err)
{
	int rc = cvm_snp_launch_policy_check(policy, err);
	/* Refuse before reading a 50 MiB initrd for a firmware that cannot use it. */
	if (!rc)
		rc = cvm_snp_plan_check(policy, fw, policy->boot.kernel || policy->boot.initrd ||
							 policy->boot.cmdline,
					err);
	return rc;
}

/* The hashes are kept in *in: the document and the model reuse them instead of hashing again. */
static int snp_plan(const struct cvm_policy *policy, struct cvm_launch_inputs *in,
		    struct cvm_pool *pool, struct cvm_plan *plan, struct cvm_error *err)
{
	int rc = snp_plan_refusals(policy, in->fw, err);
	/* The boot files on the pool while this thread runs the firmware pages through the chain
	   (as `measure` does). */
	if (!rc)
		rc = cvm_snp_hash_inputs(policy, in->fw, pool, NULL, &in->snp, err);
	if (rc)
		return cvm_error_wrap(err, "snp plan");
	return cvm_snp_plan_build_hashed(policy, in->fw, in->snp.direct_boot ? &in->snp.boot : NULL,
					 plan, err);
}

/* The kernel-hashes page from zero hashes: the one op whose bytes the boot files give. */
static int snp_plan_ahead(const struct cvm_policy *policy, const struct cvm_launch_inputs *in,
			  struct cvm_plan *plan, struct cvm_error *err)
{
	static const struct cvm_snp_boot_hashes placeholder;
	int rc = snp_plan_refusals(policy, in->fw, err);
	if (rc)
		return cvm_error_wrap(err, "snp plan");
	return cvm_snp_plan_build_hashed(policy, in->fw, policy->boot.kernel ? &placeholder : NULL,
					 plan, err);
}

static bool same_launch_params(const struct cvm_plan_snp *a, const struct cvm_plan_snp *b)
{
	return a->policy == b->policy && a->vmsa_features == b->vmsa_features &&
	       a->cpuid_retry == b->cpuid_retry && a->tsc_khz == b->tsc_khz &&
	       a->id_block_en == b->id_block_en &&
	       memcmp(a->host_data, b->host_data, sizeof(a->host_data)) == 0;
}

static int snp_ahead_check(const struct cvm_plan *ahead, const struct cvm_plan *plan,
			   struct cvm_error *err)
{
	if (ahead->nops != plan->nops || !same_launch_params(&ahead->snp, &plan->snp))
		return cvm_error_set(err, -EPROTO, "the SNP plan changed between the VM's creation "
						   "and the boot files' hashes");
	struct cvm_plan_op *ops = malloc(ahead->nops * sizeof(*ops));
	if (!ops)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	memcpy(ops, ahead->ops, ahead->nops * sizeof(*ops));
	for (size_t i = 0; i < ahead->nops; i++)
		if (ops[i].label && strcmp(ops[i].label, "SNP_KERNEL_HASHES") == 0) {
			ops[i].data = plan->ops[i].data;
			ops[i].data_len = plan->ops[i].data_len;
		}
	struct cvm_plan check = *ahead;
	check.ops = ops;
	int rc = cvm_plan_compare(&check, plan, err);
	free(ops);
	return rc ? cvm_error_wrap(err, "the SNP plan changed between the VM's creation and the "
				   "boot files' hashes") : 0;
}

/* SNP's document hashes nothing again (the plan's boot hashes, the plan compared op by op),
   but for the digest an ID block signs before the launch. */
static int snp_document(const struct cvm_policy *policy, const struct cvm_launch_inputs *in,
			const struct cvm_plan *plan, bool before_launch,
			volatile sig_atomic_t *cancel, struct cvm_pool *pool,
			struct cvm_measurement **out, struct cvm_error *err)
{
	(void)cancel;
	(void)pool; /* nothing is hashed again (the model pass of an ID block is short) */
	return cvm_snp_measure_launch(policy, in->fw, in->snp.direct_boot ? &in->snp.boot : NULL,
				      plan, before_launch, out, err);
}

static bool snp_needs_document(const struct cvm_policy *policy)
{
	return policy->snp.id_block.present;
}

/* The key of the ID auth at off is the one whose digest the document gives. */
static int snp_signed_key_check(const struct cvm_plan *plan, size_t off, const char *what,
				const uint8_t want[48], struct cvm_error *err)
{
	uint8_t d[48];
	unsigned n = 0;
	if (!EVP_Digest(plan->snp.id_auth + off, CVM_SNP_PUBKEY_SIZE, d, &n, EVP_sha384(), NULL))
		return cvm_error_set(err, -EIO, "SHA-384 failed (OpenSSL)");
	if (!cvm_memeq_ct(d, want, sizeof(d)))
		return cvm_error_set(err, -EAGAIN,
				     "snp.id_block.%s: the key file changed between the measurement "
				     "document and the signature; launch again when nothing writes it",
				     what);
	return 0;
}

/*
 * The document read the ID and author keys for their digests, the signature reads them again:
 * what is signed (and what the PSP reports) must be what the document says.
 */
static int snp_complete_plan(struct cvm_plan *plan, const struct cvm_policy *policy,
			     const struct cvm_measurement *doc, struct cvm_error *err)
{
	int rc = cvm_snp_plan_attach_id_block(plan, &policy->snp.id_block, doc->digest, err);
	if (!rc && (!doc->has_id_key_digest ||
		    (plan->snp.auth_key_en && !doc->has_author_key_digest)))
		rc = cvm_error_set(err, -EINVAL, "snp.id_block: the measurement document names "
						 "no digest of a key the ID block is signed with");
	if (!rc)
		rc = snp_signed_key_check(plan, CVM_SNP_ID_AUTH_ID_KEY, "id_key",
					  doc->id_key_digest, err);
	if (!rc && plan->snp.auth_key_en)
		rc = snp_signed_key_check(plan, CVM_SNP_ID_AUTH_AUTHOR_KEY, "author_key",
					  doc->author_key_digest, err);
	return rc;
}

/*
 * "snp_firmware_load": in place through the guest_memfd (the posted series), the staged copy
 * and why, or in place for part of it and then staged.  Nonzero: out of memory.
 */
static int add_snp_firmware_load(struct cvm_measurement *m, const struct cvm_kvm_backend_ctx *k)
{
	const char *why = k->snp_fw_staged_why[0] ? k->snp_fw_staged_why
						  : "no firmware page was loaded in place";
	unsigned long long n = (unsigned long long)k->snp_fw_in_place_bytes;
	if (n && !k->snp_fw_staged_why[0])
		return cvm_measurement_add_launch(m, "snp_firmware_load", "in place: %llu bytes "
						  "written through the guest_memfd, converted with "
						  "PRESERVE, SNP_LAUNCH_UPDATE without a source", n);
	if (n)
		return cvm_measurement_add_launch(m, "snp_firmware_load", "in place for %llu bytes, "
						  "then staged copy (%s)", n, why);
	return cvm_measurement_add_launch(m, "snp_firmware_load", "staged copy (%s)", why);
}

/* What the SNP backend did beyond the plan: the CPUID page, the firmware load, certificates. */
static int snp_launch_entries(struct cvm_measurement *m, const struct cvm_kvm_backend_ctx *k)
{
	/* the PSP corrected the CPUID page and the launch retried with it (snp.cpuid_retry) */
	if (k->snp_cpuid_corrected &&
	    cvm_measurement_add_launch(m, "snp_cpuid_page", "%s",
				       "corrected by the PSP, retried with its values"))
		return -ENOMEM;
	/* how the firmware reached guest memory (docs/snp-launch.md) */
	if (add_snp_firmware_load(m, k))
		return -ENOMEM;
	/* certificates served to the guest's attestation requests, and from where */
	if (k->vm->snp_certs && cvm_measurement_add_launch(m, "snp_certificates", "%s",
							   cvm_snp_certs_source(k->vm->snp_certs)))
		return -ENOMEM;
	return 0;
}

static void *snp_model_new(void)
{
	return cvm_snp_model_new();
}

static void snp_model_digest(const void *m, uint8_t out[48])
{
	cvm_snp_model_digest(m, out);
}

static void snp_model_free(void *m)
{
	cvm_snp_model_free(m);
}

static void snp_model_prepare(void *m, const struct cvm_launch_inputs *in, struct cvm_pool *pool)
{
	cvm_snp_model_set_pool(m, pool);
	if (in->snp.has_fw_digest)
		cvm_snp_model_set_firmware_digest(m, in->fw, in->snp.fw_digest);
}

/* ---- TDX ---- */

static int tdx_plan(const struct cvm_policy *policy, struct cvm_launch_inputs *in,
		    struct cvm_pool *pool, struct cvm_plan *plan, struct cvm_error *err)
{
	(void)pool; /* the MRTD chain is one sequential stream */
	return cvm_tdx_plan_build(policy, in->fw, plan, err);
}

/* As SNP's: the offline plan compared op by op with the launched one, the MRTD the lockstep
   model's (no record hashed twice); RTMR1/2 hash kernel and initrd once, here. */
static int tdx_document(const struct cvm_policy *policy, const struct cvm_launch_inputs *in,
			const struct cvm_plan *plan, bool before_launch,
			volatile sig_atomic_t *cancel, struct cvm_pool *pool,
			struct cvm_measurement **out, struct cvm_error *err)
{
	(void)before_launch;
	struct cvm_tdx_measure_opts opts = {.cancel = cancel, .launched = plan, .pool = pool};
	return cvm_tdx_measure_ex(policy, in->fw, &opts, out, err);
}

static void *tdx_model_new(void)
{
	return cvm_tdx_model_new();
}

static void tdx_model_digest(const void *m, uint8_t out[48])
{
	cvm_tdx_model_digest(m, out);
}

static void tdx_model_free(void *m)
{
	cvm_tdx_model_free(m);
}

static void tdx_model_set_cancel(void *m, volatile sig_atomic_t *cancel)
{
	cvm_tdx_model_set_cancel(m, cancel);
}

/* ---- the default VM ---- */

static void *plain_model_new(void)
{
	return cvm_plain_model_new();
}

/* Read only after a finished execution, when the digest exists. */
static void plain_model_digest(const void *m, uint8_t out[48])
{
	if (cvm_plain_model_digest(m, out))
		memset(out, 0, 48);
}

static void plain_model_free(void *m)
{
	cvm_plain_model_free(m);
}

static const struct cvm_tee_ops tees[] = {
	[CVM_TEE_NONE] = {
		.tee = CVM_TEE_NONE,
		.title = "default",
		.kvm_vm_type = CVM_KVM_X86_DEFAULT_VM,
		.runnable = true,
		.read_inputs = cvm_default_vm_read_inputs,
		.plan_build = cvm_default_vm_plan,
		.document = cvm_default_vm_document,
		.model_new = plain_model_new,
		.model_ops = cvm_plain_model_ops,
		.model_digest = plain_model_digest,
		.model_free = plain_model_free,
		.kvm_ops = cvm_default_kvm_ops,
		.evidence = CVM_EVIDENCE_UNKNOWN,
	},
	[CVM_TEE_SNP] = {
		.tee = CVM_TEE_SNP,
		.title = "SEV-SNP",
		.kvm_vm_type = CVM_KVM_X86_SNP_VM,
		.read_inputs = read_firmware,
		.plan_build = snp_plan,
		.plan_ahead = snp_plan_ahead,
		.ahead_check = snp_ahead_check,
		.document = snp_document,
		.needs_document = snp_needs_document,
		.complete_plan = snp_complete_plan,
		.model_new = snp_model_new,
		.model_ops = cvm_snp_model_ops,
		.model_digest = snp_model_digest,
		.model_free = snp_model_free,
		.model_prepare = snp_model_prepare,
		.kvm_ops = cvm_snp_kvm_ops,
		.launch_entries = snp_launch_entries,
		.evidence = CVM_EVIDENCE_SNP_REPORT,
		.verify = cvm_snp_verify_bytes,
		.fetch = cvm_snp_fetch_needs,
	},
	[CVM_TEE_TDX] = {
		.tee = CVM_TEE_TDX,
		.title = "TDX",
		.kvm_vm_type = CVM_KVM_X86_TDX_VM,
		.read_inputs = read_firmware,
		.plan_build = tdx_plan,
		.document = tdx_document,
		.model_new = tdx_model_new,
		.model_ops = cvm_tdx_model_ops,
		.model_digest = tdx_model_digest,
		.model_free = tdx_model_free,
		.model_set_cancel = tdx_model_set_cancel,
		.kvm_ops = cvm_tdx_kvm_ops,
		.evidence = CVM_EVIDENCE_TDX_QUOTE,
		.verify = cvm_tdx_verify_bytes,
		.fetch = cvm_tdx_fetch_needs,
	},
};

const struct cvm_tee_ops *cvm_tee_ops_get(enum cvm_tee tee)
{
	return (size_t)tee < CVM_ARRAY_SIZE(tees) ? &tees[tee] : NULL;
}

const struct cvm_tee_ops *cvm_tee_ops_for_evidence(enum cvm_evidence_kind kind)
{
	for (size_t i = 0; i < CVM_ARRAY_SIZE(tees); i++)
		if (kind != CVM_EVIDENCE_UNKNOWN && tees[i].evidence == kind)
			return &tees[i];
	return NULL;
}
