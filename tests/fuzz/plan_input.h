/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The input of the planner fuzz targets (fuzz_snp_plan.c, fuzz_tdx_plan.c), shared with the
 * unit tests that check their seeds reach the planners: a 16-byte header that sets the policy
 * fields the planners read, then the firmware image.
 *
 *   byte  0     vmm (qemu, ec2, gce, cvmkit, modulo 4)
 *   byte  1     flags: 0x01 direct boot (SNP kernel hashes), 0x02 SMT, 0x04 TDX honours
 *               PAGE_AUG, 0x08 TDX two-pass order, 0x10 debug (with allow_debug), 0x20 a raw
 *               vCPU signature instead of a CPU model, 0x40 SNP host data, 0x80 a prefault range
 *   bytes 2..3  vCPUs - 1 (little-endian, modulo CVM_MAX_VCPUS)
 *   bytes 4..7  memory pages - 1 (modulo 16 Mi pages: up to 64 GiB)
 *   bytes 8..15 SNP guest features (bit 0 forced) or TDX XFAM (bits 0..1 forced)
 *
 * The image that follows is padded with zeros in front to a page multiple (its metadata sits at
 * the end).  Header-only code: static functions, no state.
 */
#ifndef CVMKIT_TESTS_FUZZ_PLAN_INPUT_H
#define CVMKIT_TESTS_FUZZ_PLAN_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/policy.h>
#include <cvmkit/util.h>

#define PLAN_INPUT_HEADER 16u
#define PLAN_INPUT_MAX_IMAGE (1u << 20)

struct plan_input {
	struct cvm_policy policy; /* its strings point into this struct: never cvm_policy_free it */
	char model[16];
	char cmdline[16], kernel[16]; /* named, never read: the targets hash fixed bytes */
	struct cvm_prefault_range range;
	uint8_t *image; /* malloc'd, page multiple; free it */
	size_t image_size;
};

/* false when the input is too short, too long or memory ran out. */
static inline bool plan_input_decode(const uint8_t *data, size_t size, enum cvm_tee tee,
				     struct plan_input *in)
{
	if (size <= PLAN_INPUT_HEADER || size - PLAN_INPUT_HEADER > PLAN_INPUT_MAX_IMAGE)
		return false;
	memset(in, 0, sizeof(*in));
	const uint8_t *h = data, flags = data[1];
	struct cvm_policy *p = &in->policy;
	cvm_policy_init(p);
	p->tee = tee;
	p->vmm = (enum cvm_vmm)(h[0] % 4);
	p->cpus.count = (uint32_t)(cvm_le16(h + 2) % CVM_MAX_VCPUS) + 1;
	p->memory_size = ((uint64_t)(cvm_le32(h + 4) % (16u << 20)) + 1) * CVM_PAGE_SIZE;
	uint64_t bits = cvm_le64(h + 8);
	if (flags & 0x20) {
		p->cpus.has_signature = true;
		p->cpus.signature = (uint32_t)bits;
	} else {
		memcpy(in->model, "EPYC-Milan", sizeof("EPYC-Milan"));
		p->cpus.model = in->model;
	}
	p->snp.guest_features = bits | 1;
	p->snp.policy.smt = flags & 0x02;
	p->snp.has_host_data = flags & 0x40;
	memcpy(p->snp.host_data, h, PLAN_INPUT_HEADER);
	p->tdx.xfam = bits | 3;
	p->tdx.honour_page_aug = flags & 0x04;
	p->tdx.measure_order = flags & 0x08 ? CVM_TDX_ORDER_TWO_PASS : CVM_TDX_ORDER_SINGLE_PASS;
	p->allow_debug = p->snp.policy.debug = p->tdx.debug = flags & 0x10;
	if ((flags & 0x01) && tee == CVM_TEE_SNP) {
		memcpy(in->cmdline, "console=ttyS0", sizeof("console=ttyS0"));
		memcpy(in->kernel, "vmlinuz", sizeof("vmlinuz"));
		p->boot.cmdline = in->cmdline;
		p->boot.kernel = in->kernel;
	}
	if (flags & 0x80) {
		/* all RAM below 4 GiB */
		in->range.size = p->memory_size < CVM_GUEST_LOW_RAM_END ? p->memory_size
									 : CVM_GUEST_LOW_RAM_END;
		p->prefault.ranges = &in->range;
		p->prefault.nranges = 1;
	}
	size_t n = size - PLAN_INPUT_HEADER;
	in->image_size = (n + CVM_PAGE_SIZE - 1) / CVM_PAGE_SIZE * CVM_PAGE_SIZE;
	in->image = calloc(1, in->image_size);
	if (!in->image)
		return false;
	memcpy(in->image + (in->image_size - n), data + PLAN_INPUT_HEADER, n);
	return true;
}

#endif
