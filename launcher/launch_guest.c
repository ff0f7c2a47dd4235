/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a guest asks of the run loop: the answers to a TD's KVM_EXIT_TDX (at the end), and the
 * test guest.
 *
 * The test guest: real-mode machine code emitted as bytes (no assembler needed).  Listing, at
 * IP = 0x10000 - size (CS base 0xffff0000, so the code sits at the image's first byte):
 *
 *     66 31 db        xor   ebx, ebx          ; sum = 0
 *     be LL HH        mov   si, 0x10000-size  ; first byte of the image
 *     b9 LL HH        mov   cx, size & 0xffff ; 0 means 65536 to `loop`
 *     66 31 c0        xor   eax, eax
 *   next:
 *     2e ac           cs lodsb                ; al = cs:[si++]
 *     66 01 c3        add   ebx, eax
 *     e2 f9           loop  next
 *     66 89 d8        mov   eax, ebx
 *     ba 00 05        mov   dx, 0x500
 *     66 ef           out   dx, eax
 *   halt:
 *     f4              hlt
 *     eb fd           jmp   halt
 *
 * and at IP = 0xfff0 (the reset vector, size - 16 in the image): e9 rel16 (jmp near to the start).
 */
#include <cvmkit/kvm.h>
#include <cvmkit/launch.h>

#include <errno.h>
#include <string.h>

#include "launcher/kvm_uapi.h"

int cvm_test_guest_build(uint8_t *buf, size_t size, struct cvm_error *err)
{
	if (size < CVM_TEST_GUEST_MIN || size > CVM_TEST_GUEST_MAX || size % 4096)
		return cvm_error_set(err, -EINVAL,
				     "test guest size %zu: must be a page multiple in [4 KiB, 64 KiB]", size);
	uint16_t start = (uint16_t)(0x10000 - size);
	uint16_t count = (uint16_t)(size & 0xffff);
	const uint8_t code[] = {
		0x66, 0x31, 0xdb,
		0xbe, (uint8_t)start, (uint8_t)(start >> 8),
		0xb9, (uint8_t)count, (uint8_t)(count >> 8),
		0x66, 0x31, 0xc0,
		0x2e, 0xac,
		0x66, 0x01, 0xc3,
		0xe2, 0xf9,
		0x66, 0x89, 0xd8,
		0xba, (uint8_t)CVM_TEST_GUEST_PORT, (uint8_t)(CVM_TEST_GUEST_PORT >> 8),
		0x66, 0xef,
		0xf4,
		0xeb, 0xfd,
	};
	/* A fixed pattern (32-bit LCG) so the sum depends on every byte being in place. */
	uint32_t x = 0x12345678;
	for (size_t i = 0; i < size; i++) {
		x = x * 1664525u + 1013904223u;
		buf[i] = (uint8_t)(x >> 24);
	}
	memcpy(buf, code, sizeof(code));
	uint8_t *reset = buf + size - 16;
	uint16_t rel = (uint16_t)(start - 0xfff3u);
	reset[0] = 0xe9;
	reset[1] = (uint8_t)rel;
	reset[2] = (uint8_t)(rel >> 8);
	for (size_t i = 3; i < 16; i++)
		reset[i] = 0xf4; /* hlt: never reached */
	return 0;
}

uint32_t cvm_test_guest_checksum(const uint8_t *buf, size_t size)
{
	uint32_t sum = 0;
	for (size_t i = 0; i < size; i++)
		sum += buf[i];
	return sum;
}

/* ---- KVM_EXIT_TDX --------------------------------------------------------------------------- */

void cvm_kvm_tdx_exit_answer(struct kvm_run *run, struct cvm_kvm_run_result *res)
{
	struct cvm_kvm_tdx_exit *t = (struct cvm_kvm_tdx_exit *)(void *)&run->hw;
	res->tdx_exits++;
	switch (t->nr) {
	case CVM_TDVMCALL_GET_QUOTE: {
		uint64_t gpa = t->a[0], size = t->a[1];
		if (gpa % 4096 || size == 0 || size % 4096) {
			t->ret = CVM_TDVMCALL_STATUS_INVALID_OPERAND;
		} else {
			/* No quote service here: the guest sees GetQuote as unsupported, at once,
			   rather than polling a buffer nobody will fill. */
			t->ret = CVM_TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED;
			res->tdx_quotes_refused++;
		}
		break;
	}
	case CVM_TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT:
		if (t->a[0] >= 32 && t->a[0] <= 255) {
			res->tdx_notify_vector = (uint32_t)t->a[0];
			t->ret = CVM_TDVMCALL_STATUS_SUCCESS;
		} else {
			t->ret = CVM_TDVMCALL_STATUS_INVALID_OPERAND;
		}
		break;
	case CVM_TDVMCALL_GET_TD_VM_CALL_INFO:
		if (t->a[0] == 1) {
			t->a[1] = CVM_TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT;
			t->a[2] = t->a[3] = t->a[4] = 0;
			t->ret = CVM_TDVMCALL_STATUS_SUCCESS;
		} else {
			t->ret = CVM_TDVMCALL_STATUS_INVALID_OPERAND;
		}
		break;
	default:
		t->ret = CVM_TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED;
		break;
	}
}
