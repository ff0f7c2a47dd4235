/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: arbitrary bytes as a firmware image -> cvm_firmware_parse -> SNP plan (with a
 * fixed small kernel/initrd/cmdline, so the kernel-hashes page and the SEV metadata paths are
 * reached) -> PAGE_INFO model, for every VMM profile; plus the legacy SEV-ES digest.  Inputs
 * that are not a page multiple are padded with zeros in front (the metadata sits at the end).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/firmware.h>
#include <cvmkit/plan.h>
#include <cvmkit/policy.h>
#include <cvmkit/snp.h>
#include <cvmkit/util.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sections may claim up to 4 GiB of ZERO pages: measure only plans of modest size. */
#define MAX_MEASURED_BYTES (8u << 20)

static void measure_plan(const struct cvm_plan *plan)
{
	if (cvm_plan_load_bytes(plan) > MAX_MEASURED_BYTES)
		return;
	struct cvm_snp_model *model = cvm_snp_model_new();
	if (!model)
		return;
	struct cvm_backend b = {cvm_snp_model_ops(), model};
	struct cvm_error err;
	if (cvm_plan_execute(plan, &b, 1, &err) != 0)
		abort(); /* a plan the planner accepted must measure */
	uint8_t d[CVM_SNP_DIGEST_SIZE];
	cvm_snp_model_digest(model, d);
	cvm_snp_model_free(model);
}

static void plan_all_profiles(const struct cvm_firmware *fw, const struct cvm_snp_boot_hashes *h)
{
	static const enum cvm_vmm vmms[] = {CVM_VMM_QEMU, CVM_VMM_EC2, CVM_VMM_GCE, CVM_VMM_CVMKIT};
	char model[] = "EPYC-Milan";
	struct cvm_policy p;
	cvm_policy_init(&p);
	p.tee = CVM_TEE_SNP;
	p.cpus.model = model;
	p.cpus.count = 3;
	for (size_t i = 0; i < CVM_ARRAY_SIZE(vmms); i++) {
		p.vmm = vmms[i];
		for (int boot = 0; boot < 2; boot++) {
			struct cvm_plan plan;
			struct cvm_error err;
			if (cvm_snp_plan_build_hashed(&p, fw, boot ? h : NULL, &plan, &err) == 0) {
				measure_plan(&plan);
				cvm_plan_release(&plan);
			}
		}
	}
	uint8_t legacy[32];
	struct cvm_error err;
	cvm_sev_legacy_digest(CVM_SEV_MODE_SEVES, &p, fw, h, legacy, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t kernel[] = "MZ tiny kernel";
	struct cvm_snp_boot_hashes h;
	struct cvm_error err;
	if (size == 0 || size > (1u << 20))
		return 0;
	if (cvm_snp_boot_hashes_from_bytes(kernel, sizeof(kernel), NULL, 0, "console=ttyS0", &h,
					   &err))
		return 0;
	size_t padded = (size + CVM_PAGE_SIZE - 1) / CVM_PAGE_SIZE * CVM_PAGE_SIZE;
	uint8_t *img = calloc(1, padded);
	if (!img)
		return 0;
	memcpy(img + (padded - size), data, size);
	struct cvm_firmware *fw = NULL;
	if (cvm_firmware_parse(img, padded, &fw, &err) == 0) {
		plan_all_profiles(fw, &h);
		cvm_firmware_free(fw);
	}
	free(img);
	return 0;
}
