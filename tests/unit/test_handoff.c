/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: the hand-off (launcher/handoff.c, docs/handoff.md) of VMs launched on the spec
 * fake KVM.  The HELLO is checked against what the fake saw (its descriptors from the create
 * calls, the regions from KVM_SET_USER_MEMORY_REGION2 read at the spec's offsets), headers are
 * decoded strictly, an ACK refusal is an error with the receiver's text, and serving answers
 * each RUN with KVM_RUN's result and ends on close.  The real-KVM run is tests/cli/handoff.sh.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <cvmkit/handoff.h>
#include <cvmkit/launch.h>
#include <cvmkit/util.h>

#include "tests/unit/helper_spec_kvm.h"
#include "tests/unit/helper_vectors.h"

/* A default-VM policy of n vCPUs on examples/guest.bin (the path made absolute). */
static struct cvm_policy *default_policy(unsigned n)
{
	char *fw = realpath("examples/guest.bin", NULL);
	assert_non_null(fw);
	char text[1024];
	snprintf(text, sizeof(text),
		 "{\"version\": 1, \"name\": \"h\", \"tee\": \"none\", \"vmm\": \"cvmkit\","
		 " \"cpus\": {\"count\": %u}, \"memory\": {\"size\": \"64M\"},"
		 " \"firmware\": {\"path\": \"%s\"}, \"prefault\": {\"mode\": \"off\"}}", n, fw);
	free(fw);
	return cvm_test_policy_from_text(text);
}

/* A launched default VM (2 vCPUs, examples/guest.bin) on the fake; NULL (skip) without it. */
static struct cvm_launch *launch_default(struct spec_kvm *k, struct cvm_policy **pp)
{
	if (access("examples/guest.bin", R_OK)) {
		print_message("# SKIP examples/guest.bin not found (run from the source tree)\n");
		return NULL;
	}
	*pp = default_policy(2);
	struct cvm_launch_options opts = {.seam = spec_kvm_seam(k)};
	struct cvm_launch *l = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	if (cvm_launch(*pp, &opts, &l, &err))
		fail_msg("launch: %s", cvm_error_message(&err));
	return l;
}

static void hello_carries_the_fakes_descriptors_in_protocol_order(void **state)
{
	(void)state;
	struct spec_kvm *k = spec_kvm_new();
	struct cvm_policy *p = NULL;
	struct cvm_launch *l = launch_default(k, &p);
	if (!l) {
		spec_kvm_free(k);
		skip();
	}
	const uint8_t doc[] = "{\"digest\": \"00\"}";
	uint8_t *msg = NULL;
	size_t len = 0, nfds = 0;
	int fds[CVM_HANDOFF_MAX_FDS];
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_handoff_hello_encode(cvm_launch_vm(l), doc, sizeof(doc) - 1, &msg, &len,
						  fds, &nfds, &err), 0);
	/* Descriptors: VM, vCPU 0, vCPU 1, then each region's guest_memfd (from the fake's log). */
	assert_int_equal(nfds, 1 + 2 + 2);
	assert_int_equal(fds[0], spec_kvm_find(k, "KVM_CREATE_VM", 0)->rc);
	assert_int_equal(fds[1], spec_kvm_find(k, "KVM_CREATE_VCPU", 0)->rc);
	assert_int_equal(fds[2], spec_kvm_find(k, "KVM_CREATE_VCPU", 1)->rc);
	uint16_t type;
	uint32_t plen, hfds;
	assert_int_equal(cvm_handoff_header_decode(msg, &type, &plen, &hfds, &err), 0);
	assert_int_equal(type, CVM_HANDOFF_HELLO);
	assert_int_equal(hfds, nfds);
	assert_int_equal(len, CVM_HANDOFF_HEADER_SIZE + plen);
	const uint8_t *h = msg + CVM_HANDOFF_HEADER_SIZE;
	assert_int_equal(cvm_le32(h), 0);      /* default VM */
	assert_int_equal(cvm_le32(h + 4), 2);  /* vCPUs */
	assert_int_equal(cvm_le32(h + 8), 2);  /* regions: ram-low, firmware */
	assert_int_equal(cvm_le32(h + 20), sizeof(doc) - 1);
	assert_true(cvm_le32(h + 12) >= 2048); /* kvm_run size */
	for (unsigned i = 0; i < 2; i++) {
		const uint8_t *r = h + CVM_HANDOFF_HELLO_FIXED + i * CVM_HANDOFF_REGION_SIZE;
		const struct spec_kvm_event *e = spec_kvm_find(k, "KVM_SET_USER_MEMORY_REGION2", i);
		assert_non_null(e);
		assert_int_equal(cvm_le64(r), spec_kvm_field(e, "guest_phys_addr"));
		assert_int_equal(cvm_le64(r + 8), spec_kvm_field(e, "memory_size"));
		assert_int_equal(cvm_le32(r + 16), spec_kvm_field(e, "slot"));
		assert_int_equal(fds[3 + i], (int)spec_kvm_field(e, "guest_memfd"));
		assert_int_equal(cvm_le32(r + 20), CVM_HANDOFF_REGION_MAPPABLE);
	}
	assert_string_equal((const char *)h + CVM_HANDOFF_HELLO_FIXED + CVM_HANDOFF_REGION_SIZE + 24,
			    "firmware");
	assert_memory_equal(h + CVM_HANDOFF_HELLO_FIXED + 2 * CVM_HANDOFF_REGION_SIZE, doc,
			    sizeof(doc) - 1);
	free(msg);
	cvm_launch_free(l);
	cvm_policy_free(p);
	spec_kvm_free(k);
}

static void header(uint8_t *h, uint32_t magic, uint16_t version, uint16_t type, uint32_t len,
		   uint32_t nfds)
{
	cvm_put_le32(h, magic);
	cvm_put_le16(h + 4, version);
	cvm_put_le16(h + 6, type);
	cvm_put_le32(h + 8, len);
	cvm_put_le32(h + 12, nfds);
}

static void headers_are_decoded_strictly(void **state)
{
	(void)state;
	static const struct {
		uint32_t magic;
		uint16_t version, type;
		uint32_t len, nfds;
		const char *says; /* NULL: accepted */
	} cases[] = {
		{CVM_HANDOFF_MAGIC, 1, CVM_HANDOFF_RUN, 4, 0, NULL},
		{CVM_HANDOFF_MAGIC, 1, CVM_HANDOFF_HELLO, 100, 5, NULL},
		{0x12345678, 1, CVM_HANDOFF_RUN, 4, 0, "not a hand-off message"},
		{CVM_HANDOFF_MAGIC, 2, CVM_HANDOFF_RUN, 4, 0, "protocol version 2"},
		{CVM_HANDOFF_MAGIC, 1, 0, 4, 0, "unknown message type 0"},
		{CVM_HANDOFF_MAGIC, 1, 5, 4, 0, "unknown message type 5"},
		{CVM_HANDOFF_MAGIC, 1, CVM_HANDOFF_ACK, CVM_HANDOFF_MAX_PAYLOAD + 1, 0, "exceeds"},
		{CVM_HANDOFF_MAGIC, 1, CVM_HANDOFF_RUN, 4, 1, "with 1 descriptors"},
		{CVM_HANDOFF_MAGIC, 1, CVM_HANDOFF_HELLO, 4, 254, "with 254 descriptors"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t h[CVM_HANDOFF_HEADER_SIZE];
		header(h, cases[i].magic, cases[i].version, cases[i].type, cases[i].len, cases[i].nfds);
		uint16_t type = 0;
		uint32_t len = 0, nfds = 0;
		struct cvm_error err;
		cvm_error_clear(&err);
		int rc = cvm_handoff_header_decode(h, &type, &len, &nfds, &err);
		if (!cases[i].says) {
			assert_int_equal(rc, 0);
			assert_int_equal(type, cases[i].type);
			assert_int_equal(len, cases[i].len);
			continue;
		}
		assert_int_equal(rc, -EPROTO);
		if (!strstr(cvm_error_message(&err), cases[i].says))
			fail_msg("case %zu: '%s' lacks '%s'", i, cvm_error_message(&err), cases[i].says);
	}
}

/* A receiver thread: accepts, reads the HELLO and its descriptors, answers with status/text. */
struct receiver {
	char path[108];
	int listen_fd;
	int32_t status;
	const char *text;
	size_t nfds, payload_len;
	uint16_t type;
};

static void *receiver_thread(void *arg)
{
	struct receiver *r = arg;
	int s = accept(r->listen_fd, NULL, NULL);
	if (s < 0)
		return NULL;
	uint8_t hdr[CVM_HANDOFF_HEADER_SIZE];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * CVM_HANDOFF_MAX_FDS)];
	} ctl;
	struct iovec iov = {hdr, sizeof(hdr)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			    .msg_controllen = sizeof(ctl.b)};
	if (recvmsg(s, &mh, MSG_WAITALL) == (ssize_t)sizeof(hdr)) {
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int fds[CVM_HANDOFF_MAX_FDS];
			memcpy(fds, CMSG_DATA(c), k * sizeof(int));
			for (size_t i = 0; i < k; i++)
				close(fds[i]);
			r->nfds += k;
		}
		r->type = cvm_le16(hdr + 6);
		r->payload_len = cvm_le32(hdr + 8);
		uint8_t *p = malloc(r->payload_len);
		if (p && recv(s, p, r->payload_len, MSG_WAITALL) == (ssize_t)r->payload_len) {
			uint8_t ack[CVM_HANDOFF_HEADER_SIZE + 64];
			size_t tl = strlen(r->text);
			header(ack, CVM_HANDOFF_MAGIC, 1, CVM_HANDOFF_ACK, (uint32_t)(4 + tl), 0);
			cvm_put_le32(ack + CVM_HANDOFF_HEADER_SIZE, (uint32_t)r->status);
			memcpy(ack + CVM_HANDOFF_HEADER_SIZE + 4, r->text, tl);
			(void)!write(s, ack, CVM_HANDOFF_HEADER_SIZE + 4 + tl);
		}
		free(p);
	}
	close(s);
	return NULL;
}

static void receiver_start(struct receiver *r, pthread_t *t)
{
	snprintf(r->path, sizeof(r->path), "/tmp/cvmkit-handoff-%d", (int)getpid());
	unlink(r->path);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, r->path);
	r->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(r->listen_fd >= 0);
	assert_int_equal(bind(r->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(r->listen_fd, 1), 0);
	assert_int_equal(pthread_create(t, NULL, receiver_thread, r), 0);
}

static void receiver_stop(struct receiver *r, pthread_t t)
{
	pthread_join(t, NULL);
	close(r->listen_fd);
	unlink(r->path);
}

static void offer_sends_every_descriptor_and_honours_the_ack(void **state)
{
	(void)state;
	struct spec_kvm *k = spec_kvm_new();
	struct cvm_policy *p = NULL;
	struct cvm_launch *l = launch_default(k, &p);
	if (!l) {
		spec_kvm_free(k);
		skip();
	}
	const uint8_t doc[] = "{\"digest\": \"00\"}";
	for (int refuse = 0; refuse < 2; refuse++) {
		struct receiver r = {.status = refuse ? -EPERM : 0,
				     .text = refuse ? "not this VM\x1b[31m" : "adopted"};
		pthread_t t;
		receiver_start(&r, &t);
		int sock = -1;
		struct cvm_error err;
		cvm_error_clear(&err);
		int rc = cvm_handoff_offer(cvm_launch_vm(l), doc, sizeof(doc) - 1, r.path, NULL, &sock,
					   &err);
		receiver_stop(&r, t);
		assert_int_equal(r.type, CVM_HANDOFF_HELLO);
		assert_int_equal(r.nfds, 5);
		assert_int_equal(r.payload_len, CVM_HANDOFF_HELLO_FIXED + 2 * CVM_HANDOFF_REGION_SIZE +
							sizeof(doc) - 1);
		if (!refuse) {
			assert_int_equal(rc, 0);
			close(sock);
			continue;
		}
		assert_int_equal(rc, -EPERM);
		assert_int_equal(sock, -1);
		/* The receiver's text is shown, its control bytes are not. */
		assert_string_equal(cvm_error_message(&err),
				    "hand-off: the receiver refused the VM: not this VM?[31m (EPERM)");
	}
	struct cvm_error err;
	cvm_error_clear(&err);
	int sock = -1;
	assert_int_equal(cvm_handoff_offer(cvm_launch_vm(l), doc, sizeof(doc) - 1,
					   "/tmp/cvmkit-no-such-socket", NULL, &sock, &err),
			 -ENOENT);
	assert_non_null(strstr(cvm_error_message(&err), "start the receiver first"));
	cvm_launch_free(l);
	cvm_policy_free(p);
	spec_kvm_free(k);
}

/* A seam over the fake that answers KVM_RUN (0xae80 in kvm-uapi.md) itself. */
struct run_seam {
	struct cvm_kvm_seam seam;
	const struct cvm_kvm_seam *inner;
	int result;
	unsigned runs;
};

static int rs_open(void *c, const char *p, int f)
{
	const struct run_seam *r = c;
	return r->inner->ops->open(r->inner->ctx, p, f);
}
static int rs_close(void *c, int fd)
{
	const struct run_seam *r = c;
	return r->inner->ops->close(r->inner->ctx, fd);
}
static int rs_ioctl(void *c, int fd, unsigned long req, unsigned long arg)
{
	struct run_seam *r = c;
	if (req == 0xae80) { /* KVM_RUN = _IO(0xAE, 0x80) */
		r->runs++;
		return r->result;
	}
	return r->inner->ops->ioctl(r->inner->ctx, fd, req, arg);
}
static int rs_mmap(void *c, size_t len, int prot, int flags, int fd, void **out)
{
	const struct run_seam *r = c;
	return r->inner->ops->mmap(r->inner->ctx, len, prot, flags, fd, out);
}
static int rs_munmap(void *c, void *a, size_t len)
{
	const struct run_seam *r = c;
	return r->inner->ops->munmap(r->inner->ctx, a, len);
}

static void put_request(int s, uint16_t type, uint32_t len, uint32_t value)
{
	uint8_t m[CVM_HANDOFF_HEADER_SIZE + 4];
	header(m, CVM_HANDOFF_MAGIC, 1, type, len, 0);
	cvm_put_le32(m + CVM_HANDOFF_HEADER_SIZE, value);
	assert_int_equal(write(s, m, CVM_HANDOFF_HEADER_SIZE + len), (ssize_t)(CVM_HANDOFF_HEADER_SIZE + len));
}

static int32_t get_reply(int s)
{
	uint8_t m[CVM_HANDOFF_HEADER_SIZE + 4];
	assert_int_equal(recv(s, m, sizeof(m), MSG_WAITALL), (ssize_t)sizeof(m));
	assert_int_equal(cvm_le16(m + 6), CVM_HANDOFF_RUN_DONE);
	return (int32_t)cvm_le32(m + CVM_HANDOFF_HEADER_SIZE);
}

static void serve_answers_each_run_and_ends_on_close(void **state)
{
	(void)state;
	static const struct cvm_kvm_ops ops = {rs_open, rs_close, rs_ioctl, rs_mmap, rs_munmap};
	struct spec_kvm *k = spec_kvm_new();
	struct run_seam rs = {{&ops, &rs}, spec_kvm_seam(k), 0, 0};
	if (access("examples/guest.bin", R_OK)) {
		spec_kvm_free(k);
		skip();
	}
	struct cvm_policy *p = default_policy(1);
	struct cvm_launch_options opts = {.seam = &rs.seam};
	struct cvm_launch *l = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_launch(p, &opts, &l, &err), 0);

	/* RUN 0 (KVM_RUN answers 0), RUN 7 (no such vCPU: -EINVAL, no KVM_RUN), then close. */
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	put_request(sv[1], CVM_HANDOFF_RUN, 4, 0);
	put_request(sv[1], CVM_HANDOFF_RUN, 4, 7);
	shutdown(sv[1], SHUT_WR);
	struct cvm_handoff_served served;
	assert_int_equal(cvm_handoff_serve(cvm_launch_vm(l), sv[0], NULL, &served, &err), 0);
	assert_int_equal(served.runs, 2);
	assert_int_equal(rs.runs, 1);
	assert_int_equal(get_reply(sv[1]), 0);
	assert_int_equal(get_reply(sv[1]), -EINVAL);
	close(sv[0]);
	close(sv[1]);

	/* KVM_RUN's error goes back to the receiver as it is; serving goes on. */
	rs.result = -EFAULT;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	put_request(sv[1], CVM_HANDOFF_RUN, 4, 0);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(cvm_handoff_serve(cvm_launch_vm(l), sv[0], NULL, &served, &err), 0);
	assert_int_equal(get_reply(sv[1]), -EFAULT);
	close(sv[0]);
	close(sv[1]);

	/* A malformed request (RUN of 2 bytes; an ACK from the receiver) stops serving: EPROTO. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		if (i == 0)
			put_request(sv[1], CVM_HANDOFF_RUN, 2, 0);
		else
			put_request(sv[1], CVM_HANDOFF_HELLO, 4, 0);
		shutdown(sv[1], SHUT_WR);
		cvm_error_clear(&err);
		assert_int_equal(cvm_handoff_serve(cvm_launch_vm(l), sv[0], NULL, &served, &err),
				 -EPROTO);
		assert_int_equal(served.runs, 0);
		close(sv[0]);
		close(sv[1]);
	}
	/* A cancel flag already set stops before reading. */
	volatile sig_atomic_t cancel = 1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(cvm_handoff_serve(cvm_launch_vm(l), sv[0], &cancel, &served, &err),
			 -ECANCELED);
	close(sv[0]);
	close(sv[1]);
	cvm_launch_free(l);
	cvm_policy_free(p);
	spec_kvm_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hello_carries_the_fakes_descriptors_in_protocol_order),
		cmocka_unit_test(headers_are_decoded_strictly),
		cmocka_unit_test(offer_sends_every_descriptor_and_honours_the_ack),
		cmocka_unit_test(serve_answers_each_run_and_ends_on_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
