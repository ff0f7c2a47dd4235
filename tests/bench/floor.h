/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hashing floors: the hashing a measurement needs at the least, done by OpenSSL alone on one
 * thread or spread over N.  Shared by the bench (in-process floors) and the minimal program
 * (tests/bench/minimal/minimal.c), so this file uses libcrypto and libc only, never cvmkit.
 *
 * The work of one measurement:
 * - pages: SHA-384 of each 4 KiB page, then one 112-byte PAGE_INFO record per page chained
 *   through SHA-384 in page order (the SNP launch digest's shape; the records carry the real
 *   layout but are not a real launch digest);
 * - extra_hashed / extra_records: more pages after those (VMSAs, the kernel-hashes page: hashed
 *   and chained; ZERO/SECRETS/CPUID pages: a record only);
 * - whole: digests over whole buffers (SHA-256 of kernel, initrd and firmware for the document,
 *   SHA-384 for TDX RTMRs or the MRTD record stream), each sequential by nature.
 *
 * With threads > 1 the page hashes are taken in chunks by every thread while the calling thread
 * chains them in order as soon as they are ready; the whole-buffer digests go to the other threads
 * first, largest first, and to the calling thread once the chain is done.
 */
#ifndef CVMKIT_BENCH_FLOOR_H
#define CVMKIT_BENCH_FLOOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOOR_MAX_WHOLE 8

struct floor_whole {
	const uint8_t *data;
	size_t len;
	bool sha384; /* else SHA-256 */
};

struct floor_work {
	const uint8_t *pages; /* npages * 4096 bytes, or NULL */
	size_t npages;
	unsigned extra_hashed, extra_records;
	struct floor_whole whole[FLOOR_MAX_WHOLE];
	size_t nwhole;
};

/* Run the work on threads threads (1: all on the caller); digest gets the chain's end. 0 or -1. */
int floor_run(const struct floor_work *w, unsigned threads, uint8_t digest[48]);

/* A file mapped the way cvmkit maps its inputs (open, fstat, mmap PROT_READ MAP_PRIVATE). */
struct floor_file {
	const uint8_t *data;
	size_t size;
};
int floor_map(const char *path, struct floor_file *f);
void floor_unmap(struct floor_file *f);

#endif
