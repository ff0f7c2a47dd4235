/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AMD SEV-SNP: planner, VMSA builder, kernel-hashes page, PAGE_INFO measurement model, legacy
 * SEV/SEV-ES digests, ID block / ID auth.  spec/snp-measurement.md.
 *
 * Ownership: plans follow include/cvmkit/plan.h; a plan built from a firmware borrows the
 * firmware's mapped image, which must outlive the plan.
 */
#ifndef CVMKIT_SNP_H
#define CVMKIT_SNP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/emit.h>
#include <cvmkit/error.h>
#include <cvmkit/firmware.h>
#include <cvmkit/plan.h>
#include <cvmkit/policy.h>

#define CVM_SNP_VMSA_GPA 0xFFFFFFFFF000ull
#define CVM_SNP_DIGEST_SIZE 48

/* ---- Planner and measurement (sev/snp_plan.c, sev/snp_model.c, ...) ---------------------- */

/*
 * Build the SNP launch plan of a policy: firmware pages NORMAL at 4 GiB - size, then each SEV
 * metadata section in table order with its page type, then one VMSA per vCPU.  The plan borrows
 * fw's image.
 */
int cvm_snp_plan_build(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		       struct cvm_plan *plan, struct cvm_error *err);

/* The PAGE_INFO chain model as a plan executor.  Free with cvm_snp_model_free(). */
struct cvm_snp_model;
struct cvm_snp_model *cvm_snp_model_new(void);
void cvm_snp_model_free(struct cvm_snp_model *model);
const struct cvm_backend_ops *cvm_snp_model_ops(void);
void cvm_snp_model_digest(const struct cvm_snp_model *model, uint8_t out[CVM_SNP_DIGEST_SIZE]);

/*
 * Whole offline measurement of a policy: plan -> model -> measurement document with every input
 * that changes the digest.  *out is owned by the caller (cvm_measurement_free).
 */
int cvm_snp_measure(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		    struct cvm_measurement **out, struct cvm_error *err);

/* ---- ID block and ID auth (sev/snp_id.c) ------------------------------------------------- */
/* (declarations added by the ID-block work) */

#endif
