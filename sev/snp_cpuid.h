/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SEV-SNP CPUID page: the table of CPUID results the VMM hands the PSP in the metadata's
 * CPUID section (LAUNCH_UPDATE page type CPUID).  The PSP checks each entry against what the
 * hardware allows and the guest firmware then answers CPUID from it, so an empty page makes an
 * SNP guest unable to boot.  Its contents are not part of the launch digest.
 *
 * Layout: u32 count, u32 reserved, u64 reserved, then up to 64 entries of 48 bytes
 * {u32 eax_in, u32 ecx_in, u64 xcr0_in, u64 xss_in, u32 eax, ebx, ecx, edx, u64 reserved}.
 */
#ifndef CVMKIT_SEV_SNP_CPUID_H
#define CVMKIT_SEV_SNP_CPUID_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h> /* struct kvm_cpuid_entry2 (present in every supported kernel's headers) */

#include <cvmkit/error.h>

#define CVM_SNP_CPUID_MAX_ENTRIES 64u
#define CVM_SNP_CPUID_ENTRY_SIZE 48u
#define CVM_SNP_CPUID_HEADER_SIZE 16u

/*
 * Fill page (4096 bytes, zeroed here first) with the CPUID table of the n entries a vCPU was
 * given with KVM_SET_CPUID2, as QEMU does: the input ECX only for leaves with a significant
 * index, and for XSAVE leaf 0xD sub-leaves 0 and 1 the state of XCR0 = 1 (x87 only) with
 * EBX = 0x240, the XSAVE area size the firmware starts with.  More than 64 entries is -E2BIG.
 */
int cvm_snp_cpuid_page_build(const struct kvm_cpuid_entry2 *entries, size_t n, uint8_t *page,
			     struct cvm_error *err);

#endif
