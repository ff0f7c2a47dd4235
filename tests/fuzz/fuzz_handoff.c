/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: arbitrary bytes from a hand-off receiver (docs/handoff.md), as the anchor
 * reads them: each 16-byte header through cvm_handoff_header_decode, and the whole stream
 * through cvm_handoff_serve on a socketpair (a VM without vCPUs, so a RUN is answered -EINVAL
 * and no ioctl is issued).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cvmkit/handoff.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_error err;
	for (size_t off = 0; off + CVM_HANDOFF_HEADER_SIZE <= size; off += CVM_HANDOFF_HEADER_SIZE) {
		uint16_t type;
		uint32_t len, nfds;
		(void)cvm_handoff_header_decode(data + off, &type, &len, &nfds, &err);
	}
	if (size > 32768) /* the replies must fit the socket buffer: nobody reads them here */
		return 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 0;
	if (write(sv[1], data, size) == (ssize_t)size) {
		shutdown(sv[1], SHUT_WR);
		struct cvm_kvm_vm vm;
		memset(&vm, 0, sizeof(vm));
		vm.seam = cvm_kvm_seam_real();
		struct cvm_handoff_served served;
		(void)cvm_handoff_serve(&vm, sv[0], NULL, &served, &err);
	}
	close(sv[0]);
	close(sv[1]);
	return 0;
}
