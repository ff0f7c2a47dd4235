/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small worker pool (measure/pool.c) for the work cvmkit can split: SNP page hashes, a batch
 * of evidence.  A batch is `count` calls fn(ctx, i, err), i in 0..count-1, spread over the
 * pool's threads; the caller collects it with cvm_pool_finish(), which helps run the batch's
 * remaining items on the calling thread, waits for the rest and returns the batch's result.
 * Results go where fn puts them (typically slot i of a caller array), so their order is the
 * caller's; only the order in which items *run* is unspecified.
 *
 * Errors: the batch's result is that of the lowest index whose call failed, exactly what a
 * plain loop that stops at the first failure would return; items above a failed one may be
 * skipped.  fn gets a struct cvm_error of its own per call.
 *
 * Threads: cvm_pool_new(N) uses N threads in all, the caller's included (N - 1 workers, started
 * on the first batch that has more than one item); 0 means every CPU this process may run on.
 * With N = 1 (or a NULL pool) there are no threads at all: cvm_pool_start() runs every item
 * inline, in order, stopping at the first failure.  A pool never fails for lack of threads: it
 * runs with those it could start, down to the caller alone.
 *
 * Ownership and thread-safety: the pool is owned by its creator and freed with cvm_pool_free()
 * once no batch is outstanding.  Batches may be started and finished from any thread, several
 * at once; a batch belongs to whoever started it until cvm_pool_finish() frees it.  fn runs on
 * any of the pool's threads, so it must only touch what is its own for index i (or is locked).
 */
#ifndef CVMKIT_POOL_H
#define CVMKIT_POOL_H

#include <stddef.h>

#include <cvmkit/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* Upper bound on a pool's threads (a larger request is clamped). */
#define CVM_POOL_MAX_THREADS 256u

struct cvm_pool;
struct cvm_pool_batch;

/* One item of a batch: 0, or a negative errno with err filled. */
typedef int (*cvm_pool_fn)(void *ctx, size_t index, struct cvm_error *err);

/* A pool of threads threads (0: the CPUs this process may run on).  -ENOMEM only. */
int cvm_pool_new(unsigned threads, struct cvm_pool **out, struct cvm_error *err);

/* Stop and join the workers; NULL is fine.  No batch may be outstanding. */
void cvm_pool_free(struct cvm_pool *pool);

/* The threads a batch may use, the caller's included (1 for a NULL pool). */
unsigned cvm_pool_threads(const struct cvm_pool *pool);

/* The CPUs this process may run on (its affinity mask; at least 1). */
unsigned cvm_pool_default_threads(void);

/*
 * Start a batch of count items (0 is fine).  pool NULL or of one thread: the items run here and
 * now.  *out is owned by the caller until cvm_pool_finish().  -ENOMEM only (nothing started).
 */
int cvm_pool_start(struct cvm_pool *pool, size_t count, cvm_pool_fn fn, void *ctx,
		   struct cvm_pool_batch **out, struct cvm_error *err);

/*
 * One item, fn(ctx, 0, err), queued for a worker so that it runs beside what the caller does
 * next (cvm_pool_start() runs a batch of one inline).  cvm_pool_finish() runs it on the calling
 * thread if no worker has taken it yet; with a NULL pool or one of one thread it runs here and
 * now.  -ENOMEM only.
 */
int cvm_pool_start_one(struct cvm_pool *pool, cvm_pool_fn fn, void *ctx,
		       struct cvm_pool_batch **out, struct cvm_error *err);

/*
 * Run what is left of the batch on this thread too, wait for every item, free the batch and
 * return its result (0, or the lowest failed index's code with its error in err).
 */
int cvm_pool_finish(struct cvm_pool_batch *batch, struct cvm_error *err);

/* cvm_pool_start() then cvm_pool_finish(). */
int cvm_pool_run(struct cvm_pool *pool, size_t count, cvm_pool_fn fn, void *ctx,
		 struct cvm_error *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
