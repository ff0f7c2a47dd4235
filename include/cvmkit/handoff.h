/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hand-off of a launched VM to a VMM process over a UNIX socket (launcher/handoff.c; the
 * protocol is docs/handoff.md, the constants below are its wire format).
 *
 * KVM binds a VM to the address space (mm) of the process that created it: every VM and vCPU
 * ioctl from another mm fails with EIO, also on a descriptor passed with SCM_RIGHTS.  So the
 * process that launched the VM stays its *anchor*: it passes the VM, vCPU and guest_memfd
 * descriptors and the measurement document to the receiver (which can map kvm_run and the
 * mappable guest_memfds, and keeps the descriptors), then serves the receiver's RUN requests
 * by issuing KVM_RUN itself, until the receiver closes the connection.
 *
 * Ownership: the socket descriptors are the caller's; nothing here closes them.  The launch is
 * borrowed and must outlive the calls.  Not thread-safe: one launch, one connection, one thread.
 */
#ifndef CVMKIT_HANDOFF_H
#define CVMKIT_HANDOFF_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/error.h>
#include <cvmkit/kvm.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* ---- Wire format (little-endian; docs/handoff.md) ---------------------------------------- */

#define CVM_HANDOFF_MAGIC 0x484d5643u /* "CVMH" as bytes 43 56 4d 48 */
#define CVM_HANDOFF_VERSION 1u
/* Every message: u32 magic, u16 version, u16 type, u32 payload bytes, u32 descriptors. */
#define CVM_HANDOFF_HEADER_SIZE 16u
#define CVM_HANDOFF_MAX_PAYLOAD (4u << 20)

enum cvm_handoff_type {
	CVM_HANDOFF_HELLO = 1,    /* anchor -> receiver: the VM, with its descriptors */
	CVM_HANDOFF_ACK = 2,      /* receiver -> anchor: i32 status (0 or -errno), then text */
	CVM_HANDOFF_RUN = 3,      /* receiver -> anchor: u32 vCPU index */
	CVM_HANDOFF_RUN_DONE = 4, /* anchor -> receiver: i32 KVM_RUN result (0 or -errno) */
};

/* HELLO payload: u32 vm_type, u32 nvcpus, u32 nregions, u32 run_size, u32 doc_format
   (0: JSON), u32 doc_len; then nregions region records; then the document. */
#define CVM_HANDOFF_HELLO_FIXED 24u
/* Region record: u64 gpa, u64 size, u32 slot, u32 flags, char name[16] (NUL-padded). */
#define CVM_HANDOFF_REGION_SIZE 40u
#define CVM_HANDOFF_REGION_PRIVATE 1u  /* KVM_MEMORY_ATTRIBUTE_PRIVATE over the region */
#define CVM_HANDOFF_REGION_MAPPABLE 2u /* the guest_memfd can be mmap()ed (shared memory) */
/* HELLO descriptors, in this order: VM, vCPU 0..nvcpus-1, guest_memfd of region 0..nregions-1.
   At most this many in all (the kernel's SCM_MAX_FD is 253). */
#define CVM_HANDOFF_MAX_FDS 253u

/* ---- The anchor's side ------------------------------------------------------------------ */

/*
 * The HELLO message of a VM and its document (doc_len bytes of JSON): *msg (malloc'd, the
 * caller's) and *msg_len; fds (caller's array of CVM_HANDOFF_MAX_FDS) and *nfds in the
 * protocol's order.  -E2BIG when the VM has more descriptors than one message carries.
 */
int cvm_handoff_hello_encode(const struct cvm_kvm_vm *vm, const uint8_t *doc, size_t doc_len,
			     uint8_t **msg, size_t *msg_len, int *fds, size_t *nfds,
			     struct cvm_error *err);

/*
 * A message header: *type and *payload_len (checked against the magic, the version,
 * CVM_HANDOFF_MAX_PAYLOAD and the descriptor count the type allows) from 16 bytes.
 */
int cvm_handoff_header_decode(const uint8_t hdr[CVM_HANDOFF_HEADER_SIZE], uint16_t *type,
			      uint32_t *payload_len, uint32_t *nfds, struct cvm_error *err);

/*
 * Connect to the receiver listening at path (AF_UNIX, SOCK_STREAM), send the HELLO of the VM
 * and the document, and wait for the ACK: a refusal is an error carrying the receiver's status
 * and text.  *sock (connected; the caller closes it) only on success.  A signal that sets
 * *cancel (may be NULL) stops the wait with -ECANCELED.
 */
int cvm_handoff_offer(const struct cvm_kvm_vm *vm, const uint8_t *doc, size_t doc_len,
		      const char *path, volatile sig_atomic_t *cancel, int *sock,
		      struct cvm_error *err);

struct cvm_handoff_served {
	uint64_t runs; /* RUN requests served */
};

/*
 * Serve the receiver's requests on sock: each RUN issues KVM_RUN once on that vCPU (through the
 * VM's seam) and answers its result; the receiver reads the exit from its own mapping of
 * kvm_run.  Returns 0 when the receiver closes the connection; -ECANCELED when *cancel turns
 * non-zero (a signal: a KVM_RUN it interrupted is answered -EINTR first); -EPROTO on a
 * malformed request.  *out (may be NULL) is written in every case.
 */
int cvm_handoff_serve(const struct cvm_kvm_vm *vm, int sock, volatile sig_atomic_t *cancel,
		      struct cvm_handoff_served *out, struct cvm_error *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
