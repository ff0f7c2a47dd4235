/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Offline SNP / SEV / SEV-ES measurement: hash the inputs in parallel, run the plan through the
 * PAGE_INFO model (or the legacy digest), and describe the result with every input that
 * changes it.  Also the matrix of digests over vCPU counts and CPU models.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/snp.h>
#include <cvmkit/util.h>

#include "sev/snp_priv.h"

/* The hashed inputs of one measurement. */
struct snp_inputs {
	bool direct_boot;
	struct cvm_snp_boot_hashes hashes;
	bool have_fw_digest; /* the firmware pages' chain digest, computed here */
	uint8_t fw_digest[CVM_SNP_DIGEST_SIZE];
};

/*
 * Kernel and initrd each on a thread while this one runs the firmware pages through the SHA-384
 * chain (want_fw_digest).  All threads are joined before returning.
 */
static int gather_inputs(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			 bool want_fw_digest, const struct cvm_progress *progress,
			 struct cvm_pool *pool, struct snp_inputs *in, struct cvm_error *err)
{
	struct snp_hash_job jobs[2] = {
		{.what = "kernel", .path = policy->boot.kernel, .progress = progress},
		{.what = "initrd", .path = policy->boot.initrd, .progress = progress},
	};
	bool used[2] = {policy->boot.kernel != NULL, policy->boot.initrd != NULL};
	for (size_t i = 0; i < 2; i++)
		if (used[i])
			snp_hash_job_start(&jobs[i]);

	int rc = 0;
	memset(in, 0, sizeof(*in));
	if (want_fw_digest) {
		rc = cvm_snp_firmware_digest_ex(fw, pool, in->fw_digest, err);
		in->have_fw_digest = rc == 0;
	}
	for (size_t i = 0; i < 2; i++) {
		if (!used[i])
			continue;
		int jrc = snp_hash_job_join(&jobs[i], rc ? NULL : err);
		if (!rc)
			rc = jrc;
	}
	if (rc)
		return rc;

	if (policy->boot.kernel) {
		in->direct_boot = true;
		memcpy(in->hashes.kernel, jobs[0].sha256, 32);
		if (policy->boot.initrd) {
			memcpy(in->hashes.initrd, jobs[1].sha256, 32);
		} else {
			struct cvm_snp_boot_hashes empty;
			if ((rc = cvm_snp_boot_hashes_from_bytes(NULL, 0, NULL, 0, NULL, &empty,
								 err)))
				return rc;
			memcpy(in->hashes.initrd, empty.initrd, 32);
		}
		if ((rc = snp_cmdline_sha256(policy->boot.cmdline, in->hashes.cmdline, err)))
			return rc;
	}
	return 0;
}

/*
 * Run the policy's plan through the PAGE_INFO model, continuing from the firmware digest when it
 * was already computed; loads_only stops before the VMSAs (the matrix's common prefix).
 */
static int run_model(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		     const struct snp_inputs *in, bool loads_only, struct cvm_pool *pool,
		     uint8_t out[CVM_SNP_DIGEST_SIZE], struct cvm_error *err)
{
	struct cvm_plan plan;
	int rc = cvm_snp_plan_build_hashed(policy, fw, in->direct_boot ? &in->hashes : NULL, &plan,
					   err);
	if (rc)
		return rc;
	if (!plan.snp.has_initial_digest && in->have_fw_digest) {
		/* The firmware pages are already in the chain: start from there. */
		plan.snp.has_initial_digest = true;
		memcpy(plan.snp.initial_digest, in->fw_digest, CVM_SNP_DIGEST_SIZE);
	}
	struct cvm_plan run = plan;
	if (loads_only) {
		run.nops = 0;
		while (run.nops < plan.nops && plan.ops[run.nops].kind == CVM_OP_LOAD)
			run.nops++;
	}
	struct cvm_snp_model *model = cvm_snp_model_new();
	if (!model)
		rc = cvm_error_set(err, -ENOMEM, "snp model: out of memory");
	else
		cvm_snp_model_set_pool(model, pool);
	struct cvm_backend backend = {cvm_snp_model_ops(), model};
	if (!rc && !(rc = cvm_plan_execute(&run, &backend, 1, err)))
		cvm_snp_model_digest(model, out);
	cvm_snp_model_free(model);
	cvm_plan_release(&plan);
	return rc;
}

static int add_hex_input(struct cvm_measurement *m, const char *key, const uint8_t *b, size_t n)
{
	char hex[2 * CVM_SNP_DIGEST_SIZE + 1];
	cvm_hex_encode(b, n, hex);
	return cvm_measurement_add_input(m, key, "%s", hex);
}

static int describe_inputs(struct cvm_measurement *m, enum cvm_sev_mode mode,
			   const struct cvm_policy *policy, const struct cvm_firmware *fw,
			   const struct snp_inputs *in, struct cvm_error *err)
{
	uint8_t fw_sha256[32];
	int rc = cvm_firmware_sha256(fw, fw_sha256, err);
	if (rc)
		return rc;
	bool seeded = mode == CVM_SEV_MODE_SNP && policy->snp.has_firmware_digest;
	rc |= add_hex_input(m, "firmware_sha256", fw_sha256, 32);
	rc |= cvm_measurement_add_input_u64(m, "firmware_size", fw->size);
	if (seeded)
		rc |= add_hex_input(m, "firmware_digest", policy->snp.firmware_digest,
				    CVM_SNP_DIGEST_SIZE);
	if (mode != CVM_SEV_MODE_SEV) {
		uint32_t sig = 0;
		int src = snp_policy_signature(policy, &sig, err);
		if (src)
			return src;
		struct cvm_vcpu_reset bsp;
		cvm_snp_vcpu_reset_init(policy->vmm, CVM_SNP_BSP_RESET_EIP, sig, 0, &bsp);
		rc |= cvm_measurement_add_input(m, "vmm", "%s", cvm_vmm_name(policy->vmm));
		rc |= cvm_measurement_add_input_u64(m, "vcpus", policy->cpus.count);
		if (policy->cpus.model && !policy->cpus.has_signature)
			rc |= cvm_measurement_add_input(m, "vcpu_model", "%s", policy->cpus.model);
		rc |= cvm_measurement_add_input(m, "vcpu_signature", "0x%08llx",
						(unsigned long long)bsp.rdx);
		rc |= cvm_measurement_add_input(m, "ap_reset_eip", "0x%08x", fw->ap_reset_eip);
	}
	if (mode == CVM_SEV_MODE_SNP)
		rc |= cvm_measurement_add_input(m, "guest_features", "0x%llx",
						(unsigned long long)policy->snp.guest_features);
	if (in->direct_boot) {
		rc |= add_hex_input(m, "kernel_sha256", in->hashes.kernel, 32);
		rc |= add_hex_input(m, "initrd_sha256", in->hashes.initrd, 32);
		rc |= add_hex_input(m, "cmdline_sha256", in->hashes.cmdline, 32);
		rc |= cvm_measurement_add_input(m, "cmdline", "%s",
						policy->boot.cmdline ? policy->boot.cmdline : "");
	}
	if (rc)
		return cvm_error_set(err, -ENOMEM, "measure: out of memory");
	return 0;
}

/* Refusals that do not need any hashing, so a bad pair fails before reading a big initrd. */
static int precheck(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		    enum cvm_sev_mode mode, struct cvm_error *err)
{
	int rc;
	if ((rc = snp_check_common(policy, fw, err)) || (rc = snp_check_boot_inputs(policy, err)))
		return rc;
	if (mode == CVM_SEV_MODE_SNP)
		return cvm_snp_plan_check(policy, fw, policy->boot.kernel != NULL, err);
	if (policy->snp.has_firmware_digest)
		return cvm_error_set(err, -EINVAL,
				     "a firmware digest (split computation) applies to mode snp "
				     "only, not %s",
				     cvm_sev_mode_name(mode));
	return snp_legacy_check(mode, policy, fw, policy->boot.kernel != NULL, err);
}

/* The report's ID_KEY_DIGEST / AUTHOR_KEY_DIGEST when the launch carries an ID block. */
static int expect_id_key_digests(const struct cvm_policy *policy, struct cvm_measurement *m,
				 struct cvm_error *err)
{
	const struct cvm_snp_id_block_input *id = &policy->snp.id_block;
	if (!id->present)
		return 0;
	int rc = cvm_snp_key_from_pem(id->id_key_path, NULL, m->id_key_digest, err);
	if (rc)
		return cvm_error_wrap(err, "measure: snp.id_block.id_key");
	m->has_id_key_digest = true;
	if (id->author_key_path) {
		rc = cvm_snp_key_from_pem(id->author_key_path, NULL, m->author_key_digest, err);
		if (rc)
			return cvm_error_wrap(err, "measure: snp.id_block.author_key");
		m->has_author_key_digest = true;
	}
	return 0;
}

/* What an SNP report carries besides the digest: policy, host data, the ID key digests. */
static int expect_snp_fields(const struct cvm_policy *policy, struct cvm_measurement *m,
			     struct cvm_error *err)
{
	m->has_snp_policy = true;
	m->snp_policy = cvm_snp_policy_value(&policy->snp.policy);
	m->has_host_data = true; /* zero unless the policy gives it, as in the report */
	if (policy->snp.has_host_data)
		memcpy(m->host_data, policy->snp.host_data, sizeof(m->host_data));
	return expect_id_key_digests(policy, m, err);
}

int cvm_snp_measure_ex(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		       const struct cvm_snp_measure_opts *opts, struct cvm_measurement **out,
		       struct cvm_error *err)
{
	enum cvm_sev_mode mode = opts ? opts->mode : CVM_SEV_MODE_SNP;
	if (mode != CVM_SEV_MODE_SNP && mode != CVM_SEV_MODE_SEV && mode != CVM_SEV_MODE_SEVES)
		return cvm_error_set(err, -EINVAL, "measure: unknown SEV mode %d", (int)mode);
	int rc = precheck(policy, fw, mode, err);
	if (rc)
		return rc;

	bool seeded = policy->snp.has_firmware_digest;
	struct snp_inputs in;
	struct cvm_pool *pool = opts ? opts->pool : NULL;
	if ((rc = gather_inputs(policy, fw, mode == CVM_SEV_MODE_SNP && !seeded,
				opts ? opts->progress : NULL, pool, &in, err)) ||
	    (rc = cvm_firmware_pin_check(policy, fw, err)))
		return rc;

	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_SNP, cvm_sev_mode_name(mode));
	if (!m)
		return cvm_error_set(err, -ENOMEM, "measure: out of memory");
	if (mode == CVM_SEV_MODE_SNP) {
		rc = run_model(policy, fw, &in, false, pool, m->digest, err);
		if (!rc)
			rc = expect_snp_fields(policy, m, err);
	} else {
		rc = cvm_sev_legacy_digest(mode, policy, fw, in.direct_boot ? &in.hashes : NULL,
					   m->digest, err);
	}
	if (!rc)
		rc = describe_inputs(m, mode, policy, fw, &in, err);
	if (rc) {
		cvm_measurement_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int cvm_snp_measure(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		    struct cvm_measurement **out, struct cvm_error *err)
{
	return cvm_snp_measure_ex(policy, fw, NULL, out, err);
}

int cvm_snp_launch_policy_check(const struct cvm_policy *policy, struct cvm_error *err)
{
	if (policy->snp.has_firmware_digest)
		return cvm_error_set(err, -EINVAL,
				     "snp.firmware_digest seeds an offline measurement (`cvmkit "
				     "measure`) only: a launch loads the firmware and the PSP measures "
				     "its pages, so a document from the seed could name a digest that "
				     "was not launched; remove it from the policy to launch");
	return 0;
}

/* The offline plan from the launch's own boot hashes, op by op against what was launched. */
static int launched_plan_check(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			       const struct cvm_snp_boot_hashes *hashes,
			       const struct cvm_plan *launched, struct cvm_error *err)
{
	struct cvm_plan offline;
	int rc = cvm_snp_plan_build_hashed(policy, fw, hashes, &offline, err);
	if (rc)
		return rc;
	rc = cvm_plan_compare(&offline, launched, err);
	cvm_plan_release(&offline);
	return rc ? cvm_error_wrap(err, "the launch plan is not the offline plan") : 0;
}

int cvm_snp_measure_launch(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			   const struct cvm_snp_boot_hashes *hashes, const struct cvm_plan *launched,
			   bool with_digest, struct cvm_measurement **out, struct cvm_error *err)
{
	int rc = cvm_snp_launch_policy_check(policy, err);
	if (!rc)
		rc = precheck(policy, fw, CVM_SEV_MODE_SNP, err);
	if (!rc)
		rc = cvm_firmware_pin_check(policy, fw, err);
	if (!rc)
		rc = launched_plan_check(policy, fw, hashes, launched, err);
	if (rc)
		return rc;
	struct snp_inputs in = {.direct_boot = hashes != NULL};
	if (hashes)
		in.hashes = *hashes;
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_SNP, "snp");
	if (!m)
		return cvm_error_set(err, -ENOMEM, "measure: out of memory");
	if (with_digest)
		rc = run_model(policy, fw, &in, false, NULL, m->digest, err);
	else
		m->digest_len = 0;
	if (!rc)
		rc = expect_snp_fields(policy, m, err);
	if (!rc)
		rc = describe_inputs(m, CVM_SEV_MODE_SNP, policy, fw, &in, err);
	if (rc) {
		cvm_measurement_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* ---- matrix --------------------------------------------------------------------------- */

/* Digests after 1..max vCPUs for one vCPU type, from the pre-VMSA digest. */
static int vcpu_chain(struct snp_chain *c, const struct cvm_policy *policy, uint32_t ap_eip,
		      uint32_t sig, const uint8_t start[CVM_SNP_DIGEST_SIZE], uint32_t max,
		      uint8_t (*digests)[CVM_SNP_DIGEST_SIZE], struct cvm_error *err)
{
	uint8_t page[CVM_SNP_VMSA_SIZE], bsp_hash[CVM_SNP_DIGEST_SIZE], ap_hash[CVM_SNP_DIGEST_SIZE];
	struct cvm_vcpu_reset r;
	int rc;
	cvm_snp_vcpu_reset_init(policy->vmm, CVM_SNP_BSP_RESET_EIP, sig, policy->snp.guest_features,
				&r);
	cvm_snp_vmsa_build(&r, page);
	if ((rc = snp_chain_sha384(c, page, sizeof(page), bsp_hash, err)))
		return rc;
	cvm_snp_vcpu_reset_init(policy->vmm, ap_eip, sig, policy->snp.guest_features, &r);
	cvm_snp_vmsa_build(&r, page);
	if ((rc = snp_chain_sha384(c, page, sizeof(page), ap_hash, err)))
		return rc;
	memcpy(c->digest, start, CVM_SNP_DIGEST_SIZE);
	for (uint32_t n = 1; n <= max; n++) {
		rc = snp_chain_extend(c, n == 1 ? bsp_hash : ap_hash, CVM_SNP_PAGE_VMSA,
				      CVM_SNP_VMSA_GPA, err);
		if (rc)
			return rc;
		memcpy(digests[n - 1], c->digest, CVM_SNP_DIGEST_SIZE);
	}
	return 0;
}

static int matrix_signatures(const struct cvm_policy *policy, const char *const *cpus,
			     size_t ncpus, uint32_t *sigs, struct cvm_error *err)
{
	for (size_t i = 0; i < ncpus; i++) {
		struct cvm_policy p = *policy;
		if (cpus[i]) {
			p.cpus.model = (char *)(uintptr_t)cpus[i];
			p.cpus.has_signature = false;
		}
		int rc = snp_policy_signature(&p, &sigs[i], err);
		if (rc)
			return rc;
	}
	return 0;
}

/* The hashed inputs of a matrix: the policy's files, or the caller's hashes (pre). */
static int matrix_inputs(const struct cvm_policy *p, const struct cvm_firmware *fw,
			 const struct cvm_snp_boot_hashes *pre, struct cvm_pool *pool,
			 struct snp_inputs *in, struct cvm_error *err)
{
	if (!pre) {
		int rc = precheck(p, fw, CVM_SEV_MODE_SNP, err);
		return rc ? rc
			  : gather_inputs(p, fw, !p->snp.has_firmware_digest, NULL, pool, in, err);
	}
	struct cvm_policy bare = *p; /* nothing to read: the boot files are hashed already */
	bare.boot.kernel = bare.boot.initrd = bare.boot.cmdline = NULL;
	int rc = snp_check_common(&bare, fw, err);
	if (!rc)
		rc = cvm_snp_plan_check(&bare, fw, true, err);
	if (!rc)
		rc = gather_inputs(&bare, fw, !p->snp.has_firmware_digest, NULL, pool, in, err);
	if (!rc) {
		in->direct_boot = true;
		in->hashes = *pre;
	}
	return rc;
}

static int matrix_rows(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		       const struct cvm_snp_matrix_opts *o, const uint32_t *counts,
		       size_t ncounts, const char *const *cpus, size_t ncpus, uint32_t max,
		       const uint32_t *sigs, struct cvm_snp_matrix_row *rows, struct cvm_error *err)
{
	struct cvm_policy p = *policy;
	p.cpus.count = max; /* so the planner checks the AP reset address */
	p.cpus.has_signature = true;
	p.cpus.signature = sigs[0];

	struct snp_inputs in;
	uint8_t start[CVM_SNP_DIGEST_SIZE];
	int rc;
	if ((rc = matrix_inputs(&p, fw, o->hashes, o->pool, &in, err)) ||
	    (rc = cvm_firmware_pin_check(&p, fw, err)) ||
	    (rc = run_model(&p, fw, &in, true, o->pool, start, err)))
		return rc;

	uint8_t(*digests)[CVM_SNP_DIGEST_SIZE] = calloc(max, CVM_SNP_DIGEST_SIZE);
	if (!digests)
		return cvm_error_set(err, -ENOMEM, "matrix: out of memory");
	struct snp_chain c;
	if ((rc = snp_chain_init(&c, err))) {
		free(digests);
		return rc;
	}
	size_t r = 0;
	for (size_t i = 0; i < ncpus && !rc; i++) {
		rc = vcpu_chain(&c, &p, fw->ap_reset_eip, sigs[i], start, max, digests, err);
		for (size_t k = 0; k < ncounts && !rc; k++, r++) {
			struct cvm_vcpu_reset bsp;
			cvm_snp_vcpu_reset_init(p.vmm, CVM_SNP_BSP_RESET_EIP, sigs[i], 0, &bsp);
			rows[r].vcpus = counts[k];
			rows[r].cpu = cpus[i];
			rows[r].signature = (uint32_t)bsp.rdx;
			memcpy(rows[r].digest, digests[counts[k] - 1], CVM_SNP_DIGEST_SIZE);
		}
	}
	snp_chain_fini(&c);
	free(digests);
	return rc;
}

int cvm_snp_measure_matrix(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			   const uint32_t *vcpu_counts, size_t ncounts, const char *const *cpus,
			   size_t ncpus, struct cvm_snp_matrix_row **rows, size_t *nrows,
			   struct cvm_error *err)
{
	return cvm_snp_measure_matrix_hashed(policy, fw, NULL, vcpu_counts, ncounts, cpus, ncpus,
					     rows, nrows, err);
}

int cvm_snp_measure_matrix_hashed(const struct cvm_policy *policy, const struct cvm_firmware *fw,
				  const struct cvm_snp_boot_hashes *hashes,
				  const uint32_t *vcpu_counts, size_t ncounts,
				  const char *const *cpus, size_t ncpus,
				  struct cvm_snp_matrix_row **rows, size_t *nrows,
				  struct cvm_error *err)
{
	struct cvm_snp_matrix_opts o = {.hashes = hashes};
	return cvm_snp_measure_matrix_ex(policy, fw, &o, vcpu_counts, ncounts, cpus, ncpus, rows,
					 nrows, err);
}

int cvm_snp_measure_matrix_ex(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			      const struct cvm_snp_matrix_opts *opts, const uint32_t *vcpu_counts,
			      size_t ncounts, const char *const *cpus, size_t ncpus,
			      struct cvm_snp_matrix_row **rows, size_t *nrows,
			      struct cvm_error *err)
{
	static const struct cvm_snp_matrix_opts none;
	if (!opts)
		opts = &none;
	if (ncounts == 0 || ncpus == 0 || ncounts > SIZE_MAX / ncpus)
		return cvm_error_set(err, -EINVAL, "matrix: no vCPU counts or CPU models");
	uint32_t max = 0;
	for (size_t k = 0; k < ncounts; k++) {
		if (vcpu_counts[k] == 0 || vcpu_counts[k] > CVM_MAX_VCPUS)
			return cvm_error_set(err, -EINVAL, "matrix: vCPU count %u is not in 1..%u",
					     vcpu_counts[k], CVM_MAX_VCPUS);
		if (vcpu_counts[k] > max)
			max = vcpu_counts[k];
	}
	uint32_t *sigs = calloc(ncpus, sizeof(*sigs));
	struct cvm_snp_matrix_row *r = calloc(ncounts * ncpus, sizeof(*r));
	int rc = 0;
	if (!sigs || !r)
		rc = cvm_error_set(err, -ENOMEM, "matrix: out of memory");
	if (!rc)
		rc = matrix_signatures(policy, cpus, ncpus, sigs, err);
	if (!rc)
		rc = matrix_rows(policy, fw, opts, vcpu_counts, ncounts, cpus, ncpus, max, sigs, r,
				 err);
	free(sigs);
	if (rc) {
		free(r);
		return cvm_error_wrap(err, "matrix");
	}
	*rows = r;
	*nrows = ncounts * ncpus;
	return 0;
}
