/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Progress of long operations (hashing a large file, pre-faulting guest memory): the library
 * reports, the caller decides whether and how to show it.  Optional everywhere: a NULL
 * struct cvm_progress (or a NULL fn) reports nothing and changes nothing else.
 *
 * The callback may be called from several threads at once (one per hashed file or pre-fault
 * vCPU), so it must be thread-safe; it should also be cheap, as it runs on the working thread.
 * what is a short label such as "hashing initrd.img", valid during the call only; done and total
 * count bytes (total 0: unknown), and done == total is the last report of that label.
 */
#ifndef CVMKIT_PROGRESS_H
#define CVMKIT_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

typedef void (*cvm_progress_fn)(void *ctx, const char *what, uint64_t done, uint64_t total);

struct cvm_progress {
	cvm_progress_fn fn;
	void *ctx; /* passed back to fn, borrowed */
};

static inline void cvm_progress_report(const struct cvm_progress *p, const char *what,
				       uint64_t done, uint64_t total)
{
	if (p && p->fn)
		p->fn(p->ctx, what, done, total);
}

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
