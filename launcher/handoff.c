/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hand-off of a launched VM (include/cvmkit/handoff.h, docs/handoff.md): HELLO with the
 * descriptors over SCM_RIGHTS, the receiver's ACK, then KVM_RUN on the receiver's behalf, since
 * KVM refuses VM and vCPU ioctls from any mm but the creator's.
 */
#include <cvmkit/handoff.h>
#include <cvmkit/util.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "launcher/kvm_uapi.h"

static void header_put(uint8_t *p, uint16_t type, uint32_t payload_len, uint32_t nfds)
{
	cvm_put_le32(p, CVM_HANDOFF_MAGIC);
	cvm_put_le16(p + 4, CVM_HANDOFF_VERSION);
	cvm_put_le16(p + 6, type);
	cvm_put_le32(p + 8, payload_len);
	cvm_put_le32(p + 12, nfds);
}

int cvm_handoff_header_decode(const uint8_t hdr[CVM_HANDOFF_HEADER_SIZE], uint16_t *type,
			      uint32_t *payload_len, uint32_t *nfds, struct cvm_error *err)
{
	if (cvm_le32(hdr) != CVM_HANDOFF_MAGIC)
		return cvm_error_set(err, -EPROTO, "hand-off: not a hand-off message (magic 0x%08x)",
				     cvm_le32(hdr));
	if (cvm_le16(hdr + 4) != CVM_HANDOFF_VERSION)
		return cvm_error_set(err, -EPROTO, "hand-off: protocol version %u, this cvmkit speaks %u",
				     cvm_le16(hdr + 4), CVM_HANDOFF_VERSION);
	uint16_t t = cvm_le16(hdr + 6);
	uint32_t len = cvm_le32(hdr + 8), n = cvm_le32(hdr + 12);
	if (t < CVM_HANDOFF_HELLO || t > CVM_HANDOFF_RUN_DONE)
		return cvm_error_set(err, -EPROTO, "hand-off: unknown message type %u", t);
	if (len > CVM_HANDOFF_MAX_PAYLOAD)
		return cvm_error_set(err, -EPROTO, "hand-off: payload of %u bytes exceeds the %u-byte limit",
				     len, CVM_HANDOFF_MAX_PAYLOAD);
	if (t == CVM_HANDOFF_HELLO ? n > CVM_HANDOFF_MAX_FDS : n != 0)
		return cvm_error_set(err, -EPROTO, "hand-off: message type %u with %u descriptors", t, n);
	*type = t;
	*payload_len = len;
	*nfds = n;
	return 0;
}

int cvm_handoff_hello_encode(const struct cvm_kvm_vm *vm, const uint8_t *doc, size_t doc_len,
			     uint8_t **msg, size_t *msg_len, int *fds, size_t *nfds,
			     struct cvm_error *err)
{
	size_t n = 1 + (size_t)vm->nvcpus + vm->nregions;
	if (n > CVM_HANDOFF_MAX_FDS)
		return cvm_error_set(err, -E2BIG,
				     "hand-off: %zu descriptors (VM, %u vCPUs, %zu regions) exceed the %u one message carries",
				     n, vm->nvcpus, vm->nregions, CVM_HANDOFF_MAX_FDS);
	size_t payload = CVM_HANDOFF_HELLO_FIXED + vm->nregions * CVM_HANDOFF_REGION_SIZE + doc_len;
	if (payload > CVM_HANDOFF_MAX_PAYLOAD)
		return cvm_error_set(err, -E2BIG, "hand-off: a %zu-byte document exceeds the %u-byte limit",
				     doc_len, CVM_HANDOFF_MAX_PAYLOAD);
	uint8_t *m = calloc(1, CVM_HANDOFF_HEADER_SIZE + payload);
	if (!m)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	header_put(m, CVM_HANDOFF_HELLO, (uint32_t)payload, (uint32_t)n);
	uint8_t *p = m + CVM_HANDOFF_HEADER_SIZE;
	cvm_put_le32(p, (uint32_t)vm->type);
	cvm_put_le32(p + 4, vm->nvcpus);
	cvm_put_le32(p + 8, (uint32_t)vm->nregions);
	cvm_put_le32(p + 12, (uint32_t)vm->run_size);
	cvm_put_le32(p + 16, 0); /* JSON */
	cvm_put_le32(p + 20, (uint32_t)doc_len);
	p += CVM_HANDOFF_HELLO_FIXED;
	size_t k = 0;
	fds[k++] = vm->vm_fd;
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		fds[k++] = vm->vcpu_fds[i];
	for (size_t i = 0; i < vm->nregions; i++, p += CVM_HANDOFF_REGION_SIZE) {
		const struct cvm_kvm_region *r = &vm->regions[i];
		cvm_put_le64(p, r->gpa);
		cvm_put_le64(p + 8, r->size);
		cvm_put_le32(p + 16, r->slot);
		cvm_put_le32(p + 20, (r->private_attr ? CVM_HANDOFF_REGION_PRIVATE : 0) |
					     (r->gmem_map ? CVM_HANDOFF_REGION_MAPPABLE : 0));
		strncpy((char *)p + 24, r->name, 15);
		fds[k++] = r->gmem_fd;
	}
	if (doc_len)
		memcpy(p, doc, doc_len);
	*msg = m;
	*msg_len = CVM_HANDOFF_HEADER_SIZE + payload;
	*nfds = k;
	return 0;
}

/* ---- Socket I/O ------------------------------------------------------------------------- */

static bool stop(volatile sig_atomic_t *cancel)
{
	return cancel && *cancel;
}

/* All of buf, the descriptors with its first byte; MSG_NOSIGNAL: a gone receiver is EPIPE. */
static int send_all(int sock, const uint8_t *buf, size_t len, const int *fds, size_t nfds,
		    volatile sig_atomic_t *cancel)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * CVM_HANDOFF_MAX_FDS)];
	} ctl;
	while (len) {
		struct iovec iov = {(void *)(uintptr_t)buf, len};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		if (nfds) {
			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.b;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR && !stop(cancel))
				continue;
			return errno == EINTR ? -ECANCELED : -errno;
		}
		buf += n;
		len -= (size_t)n;
		nfds = 0;
	}
	return 0;
}

/* Exactly len bytes; 1 when the peer closed before the first byte (and at_start). */
static int recv_all(int sock, uint8_t *buf, size_t len, bool at_start,
		    volatile sig_atomic_t *cancel)
{
	size_t got = 0;
	while (got < len) {
		if (stop(cancel))
			return -ECANCELED;
		ssize_t n = recv(sock, buf + got, len - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return at_start && got == 0 ? 1 : -ECONNRESET;
		got += (size_t)n;
	}
	return 0;
}

/* One message from the receiver into payload (at most cap bytes); 1 on a clean close. */
static int recv_message(int sock, uint16_t *type, uint8_t *payload, size_t cap, uint32_t *len,
			volatile sig_atomic_t *cancel, struct cvm_error *err)
{
	uint8_t hdr[CVM_HANDOFF_HEADER_SIZE];
	int rc = recv_all(sock, hdr, sizeof(hdr), true, cancel);
	if (rc == 1)
		return 1;
	if (rc)
		return rc == -ECANCELED ? cvm_error_set(err, rc, "hand-off: cancelled")
					: cvm_error_set(err, rc, "hand-off: reading from the receiver: %s",
							cvm_errno_name(rc));
	uint32_t nfds;
	rc = cvm_handoff_header_decode(hdr, type, len, &nfds, err);
	if (rc)
		return rc;
	if (*type == CVM_HANDOFF_HELLO || *type == CVM_HANDOFF_RUN_DONE)
		return cvm_error_set(err, -EPROTO, "hand-off: the receiver sent message type %u, which only the anchor sends",
				     *type);
	if (*len > cap)
		return cvm_error_set(err, -EPROTO, "hand-off: message type %u of %u bytes (at most %zu)",
				     *type, *len, cap);
	rc = recv_all(sock, payload, *len, false, cancel);
	if (rc)
		return cvm_error_set(err, rc, "hand-off: reading from the receiver: %s",
				     cvm_errno_name(rc));
	return 0;
}

static int connect_to(const char *path, int *out, struct cvm_error *err)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof(sa.sun_path))
		return cvm_error_set(err, -ENAMETOOLONG,
				     "hand-off socket '%s': a UNIX socket path has 1 to %zu bytes", path,
				     sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, len);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return cvm_error_set(err, -errno, "hand-off: socket: %s", cvm_errno_name(-errno));
	while (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		int e = -errno;
		close(s);
		return cvm_error_set(err, e,
				     "hand-off socket '%s': connect: %s (start the receiver first; it listens there)",
				     path, cvm_errno_name(e));
	}
	*out = s;
	return 0;
}

int cvm_handoff_offer(const struct cvm_kvm_vm *vm, const uint8_t *doc, size_t doc_len,
		      const char *path, volatile sig_atomic_t *cancel, int *sock,
		      struct cvm_error *err)
{
	uint8_t *msg = NULL;
	size_t msg_len = 0, nfds = 0;
	int fds[CVM_HANDOFF_MAX_FDS];
	int rc = cvm_handoff_hello_encode(vm, doc, doc_len, &msg, &msg_len, fds, &nfds, err);
	if (rc)
		return rc;
	int s = -1;
	rc = connect_to(path, &s, err);
	if (!rc) {
		rc = send_all(s, msg, msg_len, fds, nfds, cancel);
		if (rc)
			cvm_error_set(err, rc, "hand-off: sending the VM to '%s': %s", path,
				      cvm_errno_name(rc));
	}
	free(msg);
	uint8_t ack[260];
	uint16_t type = 0;
	uint32_t len = 0;
	if (!rc) {
		rc = recv_message(s, &type, ack, sizeof(ack) - 1, &len, cancel, err);
		if (rc == 1)
			rc = cvm_error_set(err, -ECONNRESET,
					   "hand-off: the receiver closed the connection without an ACK");
	}
	if (!rc && (type != CVM_HANDOFF_ACK || len < 4))
		rc = cvm_error_set(err, -EPROTO, "hand-off: expected an ACK, got message type %u of %u bytes",
				   type, len);
	if (!rc) {
		int32_t status = (int32_t)cvm_le32(ack);
		ack[len] = 0;
		for (uint32_t i = 4; i < len; i++)
			if (ack[i] < 0x20 || ack[i] > 0x7e)
				ack[i] = '?'; /* the receiver's text reaches a terminal */
		if (status > 0 || status < -4095)
			rc = cvm_error_set(err, -EPROTO, "hand-off: ACK status %d is not 0 or -errno",
					   (int)status);
		else if (status)
			rc = cvm_error_set(err, status, "hand-off: the receiver refused the VM: %s (%s)",
					   len > 4 ? (const char *)ack + 4 : "no reason given",
					   cvm_errno_name(status));
	}
	if (rc) {
		if (s >= 0)
			close(s);
		return rc;
	}
	*sock = s;
	return 0;
}

int cvm_handoff_serve(const struct cvm_kvm_vm *vm, int sock, volatile sig_atomic_t *cancel,
		      struct cvm_handoff_served *out, struct cvm_error *err)
{
	struct cvm_handoff_served served = {0};
	const struct cvm_kvm_seam *s = vm->seam;
	int rc;
	for (;;) {
		uint8_t req[4];
		uint16_t type = 0;
		uint32_t len = 0;
		rc = recv_message(sock, &type, req, sizeof(req), &len, cancel, err);
		if (rc == 1) {
			rc = 0;
			break;
		}
		if (rc)
			break;
		if (type != CVM_HANDOFF_RUN || len != 4) {
			rc = cvm_error_set(err, -EPROTO, "hand-off: expected RUN (type %u, 4 bytes), got type %u of %u bytes",
					   CVM_HANDOFF_RUN, type, len);
			break;
		}
		uint32_t idx = cvm_le32(req);
		int result = idx < vm->nvcpus ? s->ops->ioctl(s->ctx, vm->vcpu_fds[idx], KVM_RUN, 0)
					      : -EINVAL;
		if (result > 0)
			result = 0;
		served.runs++;
		uint8_t reply[CVM_HANDOFF_HEADER_SIZE + 4];
		header_put(reply, CVM_HANDOFF_RUN_DONE, 4, 0);
		cvm_put_le32(reply + CVM_HANDOFF_HEADER_SIZE, (uint32_t)result);
		rc = send_all(sock, reply, sizeof(reply), NULL, 0, NULL);
		if (rc) {
			rc = rc == -EPIPE || rc == -ECONNRESET ? 0 /* the receiver is gone: done */
				 : cvm_error_set(err, rc, "hand-off: answering RUN: %s", cvm_errno_name(rc));
			break;
		}
		if (stop(cancel)) {
			rc = cvm_error_set(err, -ECANCELED, "hand-off: cancelled");
			break;
		}
	}
	if (out)
		*out = served;
	return rc;
}
