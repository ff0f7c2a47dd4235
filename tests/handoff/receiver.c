/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An example hand-off receiver (docs/handoff.md): the smallest VMM that adopts a VM from
 * `cvmkit launch --handoff SOCKET` and runs it.  It uses only the protocol's constants
 * (include/cvmkit/handoff.h) and <linux/kvm.h>, not libcvmkit.
 *
 *   handoff-receiver SOCKET [--refuse] [--doc FILE]
 *
 * Listens at SOCKET, accepts one connection, takes the HELLO (descriptors and document), checks
 * it, and answers ACK (--refuse: ACK -EPERM with a reason).  For a default VM it then:
 *   - shows that its own KVM_RUN on the passed vCPU descriptor fails with EIO (the VM belongs to
 *     the anchor's mm), and that mapping the descriptors works;
 *   - reads the firmware through its own mapping of the region's guest_memfd and sums its bytes;
 *   - runs vCPU 0 by RUN requests, handling each exit from its own mapping of kvm_run
 *     (port reads answered 0xff, port writes recorded), until HLT;
 *   - checks that the guest's last port write equals the byte sum (examples/guest.bin reports
 *     it), prints one line per step on stdout, and closes the connection.
 * Exit status 0 when all of it held, 1 otherwise.
 */

#include <cvmkit/handoff.h>

#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int fail(const char *what)
{
	fprintf(stderr, "handoff-receiver: %s\n", what);
	return 1;
}

static int read_all(int s, uint8_t *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = recv(s, buf + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int send_msg(int s, uint16_t type, const uint8_t *payload, uint32_t len)
{
	uint8_t m[CVM_HANDOFF_HEADER_SIZE + 256];
	if (len > 256)
		return -1;
	wr32(m, CVM_HANDOFF_MAGIC);
	m[4] = CVM_HANDOFF_VERSION & 0xff, m[5] = CVM_HANDOFF_VERSION >> 8;
	m[6] = (uint8_t)type, m[7] = (uint8_t)(type >> 8);
	wr32(m + 8, len);
	wr32(m + 12, 0);
	memcpy(m + CVM_HANDOFF_HEADER_SIZE, payload, len);
	size_t total = CVM_HANDOFF_HEADER_SIZE + len;
	return send(s, m, total, MSG_NOSIGNAL) == (ssize_t)total ? 0 : -1;
}

static int ack(int s, int32_t status, const char *text)
{
	uint8_t p[256];
	size_t n = strlen(text);
	if (n > sizeof(p) - 4)
		n = sizeof(p) - 4;
	wr32(p, (uint32_t)status);
	memcpy(p + 4, text, n);
	return send_msg(s, CVM_HANDOFF_ACK, p, (uint32_t)(4 + n));
}

/* The HELLO header and its descriptors (with the first bytes, as the anchor sent them). */
static int recv_hello(int s, uint8_t hdr[CVM_HANDOFF_HEADER_SIZE], int *fds, size_t *nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * CVM_HANDOFF_MAX_FDS)];
	} ctl;
	struct iovec iov = {hdr, CVM_HANDOFF_HEADER_SIZE};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			    .msg_controllen = sizeof(ctl.b)};
	ssize_t n = recvmsg(s, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	if (n != CVM_HANDOFF_HEADER_SIZE || (mh.msg_flags & MSG_CTRUNC))
		return -1;
	*nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(c), k * sizeof(int));
			*nfds = k;
		}
	return 0;
}

struct region {
	uint64_t gpa, size;
	uint32_t slot, flags;
	char name[17];
	int fd;
};

int main(int argc, char **argv)
{
	if (argc < 2)
		return fail("usage: handoff-receiver SOCKET [--refuse] [--doc FILE]");
	bool refuse = false;
	const char *doc_out = NULL;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--refuse"))
			refuse = true;
		else if (!strcmp(argv[i], "--doc") && i + 1 < argc)
			doc_out = argv[++i];
		else
			return fail("unknown option");
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(argv[1]) >= sizeof(sa.sun_path))
		return fail("socket path too long");
	strcpy(sa.sun_path, argv[1]);
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(argv[1]);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 1))
		return fail("cannot listen at the socket");
	int s = accept(ls, NULL, NULL);
	close(ls);
	unlink(argv[1]);
	if (s < 0)
		return fail("accept failed");

	uint8_t hdr[CVM_HANDOFF_HEADER_SIZE];
	int fds[CVM_HANDOFF_MAX_FDS];
	size_t nfds = 0;
	if (recv_hello(s, hdr, fds, &nfds))
		return fail("no HELLO");
	uint32_t len = rd32(hdr + 8);
	if (rd32(hdr) != CVM_HANDOFF_MAGIC || (hdr[4] | hdr[5] << 8) != CVM_HANDOFF_VERSION ||
	    (hdr[6] | hdr[7] << 8) != CVM_HANDOFF_HELLO || rd32(hdr + 12) != nfds ||
	    len < CVM_HANDOFF_HELLO_FIXED || len > CVM_HANDOFF_MAX_PAYLOAD)
		return fail("bad HELLO header");
	uint8_t *p = malloc(len);
	if (!p || read_all(s, p, len))
		return fail("short HELLO");
	uint32_t vm_type = rd32(p), nvcpus = rd32(p + 4), nregions = rd32(p + 8);
	uint32_t run_size = rd32(p + 12), doc_len = rd32(p + 20);
	if (rd32(p + 16) != 0 || nregions > 16 || nvcpus > CVM_HANDOFF_MAX_FDS ||
	    (uint64_t)CVM_HANDOFF_HELLO_FIXED + (uint64_t)nregions * CVM_HANDOFF_REGION_SIZE + doc_len != len ||
	    nfds != 1 + (size_t)nvcpus + nregions || run_size < sizeof(struct kvm_run))
		return fail("HELLO payload does not add up");
	int vm_fd = fds[0], *vcpu_fds = fds + 1;
	struct region regs[16];
	const uint8_t *rp = p + CVM_HANDOFF_HELLO_FIXED;
	for (uint32_t i = 0; i < nregions; i++, rp += CVM_HANDOFF_REGION_SIZE) {
		regs[i].gpa = rd64(rp), regs[i].size = rd64(rp + 8);
		regs[i].slot = rd32(rp + 16), regs[i].flags = rd32(rp + 20);
		memcpy(regs[i].name, rp + 24, 16);
		regs[i].name[16] = 0;
		regs[i].fd = fds[1 + nvcpus + i];
	}
	const char *doc = (const char *)rp;
	printf("adopted: vm_type %u, %u vCPU(s), %u region(s), %zu descriptors, %u-byte document\n",
	       vm_type, nvcpus, nregions, nfds, doc_len);
	for (uint32_t i = 0; i < nregions; i++)
		printf("region %s: gpa 0x%llx size 0x%llx slot %u%s%s\n", regs[i].name,
		       (unsigned long long)regs[i].gpa, (unsigned long long)regs[i].size, regs[i].slot,
		       regs[i].flags & CVM_HANDOFF_REGION_PRIVATE ? " private" : "",
		       regs[i].flags & CVM_HANDOFF_REGION_MAPPABLE ? " mappable" : "");
	if (!memmem(doc, doc_len, "\"digest\"", 8))
		return fail("the document has no digest");
	if (doc_out) {
		FILE *f = fopen(doc_out, "w");
		if (!f || fwrite(doc, 1, doc_len, f) != doc_len || fclose(f))
			return fail("cannot write --doc");
	}
	free(p); /* the document is not needed past here */
	if (refuse) {
		ack(s, -EPERM, "this receiver was told to refuse");
		close(s);
		return 0;
	}
	if (ack(s, 0, "adopted"))
		return fail("cannot send ACK");
	if (vm_type != 0) {
		printf("confidential VM: descriptors held, not run by this example\n");
		close(s);
		return 0;
	}

	/* The mm rule: this process's own KVM ioctls on the VM are refused. */
	struct kvm_regs kr;
	int r = ioctl(vcpu_fds[0], KVM_GET_REGS, &kr);
	printf("own KVM_GET_REGS on vCPU 0: %s\n", r < 0 ? strerror(errno) : "succeeded");
	if (r == 0 || errno != EIO)
		return fail("expected EIO from a vCPU ioctl in another mm");
	r = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY);
	if (r >= 0 || errno != EIO)
		return fail("expected EIO from a VM ioctl in another mm");

	struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fds[0], 0);
	if (run == MAP_FAILED)
		return fail("cannot map kvm_run of vCPU 0");
	uint32_t sum = 0;
	bool have_fw = false;
	for (uint32_t i = 0; i < nregions; i++) {
		if (strcmp(regs[i].name, "firmware") || !(regs[i].flags & CVM_HANDOFF_REGION_MAPPABLE))
			continue;
		uint8_t *fw = mmap(NULL, regs[i].size, PROT_READ, MAP_SHARED, regs[i].fd, 0);
		if (fw == MAP_FAILED)
			return fail("cannot map the firmware guest_memfd");
		for (uint64_t k = 0; k < regs[i].size; k++)
			sum += fw[k];
		munmap(fw, regs[i].size);
		have_fw = true;
	}
	if (!have_fw)
		return fail("no mappable firmware region");
	printf("firmware byte sum through the guest_memfd: 0x%x\n", sum);

	uint32_t last = 0;
	unsigned long exits = 0;
	for (;;) {
		uint8_t req[4];
		wr32(req, 0);
		uint8_t rep[CVM_HANDOFF_HEADER_SIZE + 4];
		if (send_msg(s, CVM_HANDOFF_RUN, req, 4) || read_all(s, rep, sizeof(rep)) ||
		    (rep[6] | rep[7] << 8) != CVM_HANDOFF_RUN_DONE || rd32(rep + 8) != 4)
			return fail("RUN request failed");
		int32_t result = (int32_t)rd32(rep + CVM_HANDOFF_HEADER_SIZE);
		if (result == -EINTR || result == -EAGAIN)
			continue;
		if (result)
			return fail("KVM_RUN failed in the anchor");
		exits++;
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason != KVM_EXIT_IO || exits > 1000)
			return fail("unexpected exit");
		uint8_t *data = (uint8_t *)run + run->io.data_offset;
		if (run->io.direction == KVM_EXIT_IO_IN) {
			memset(data, 0xff, (size_t)run->io.size * run->io.count);
			continue;
		}
		last = 0;
		for (unsigned i = 0; i < run->io.size && i < 4; i++)
			last |= (uint32_t)data[i] << (8 * i);
		printf("guest: out port 0x%x <- 0x%x\n", run->io.port, last);
	}
	printf("halted after %lu exits\n", exits);
	if (last != sum)
		return fail("the guest's sum differs from the bytes in its guest_memfd");
	printf("guest sum matches the firmware bytes\n");
	close(s);
	return 0;
}
