/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker pool of include/cvmkit/pool.h: one mutex, a FIFO of batches that still have
 * unclaimed items, workers that claim items one at a time, and finishers that claim their own
 * batch's items before they wait.  Items are claimed in index order, so when item i fails every
 * item below i has already been claimed and will run: the lowest failure is the one a loop
 * would have stopped at, and the items above it that are not yet claimed are skipped.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cvmkit/pool.h>

struct cvm_pool_batch {
	struct cvm_pool *pool;          /* NULL: ran inline in cvm_pool_start */
	cvm_pool_fn fn;
	void *ctx;
	size_t count;
	size_t next;                    /* the next unclaimed index */
	size_t done;                    /* items finished or skipped */
	size_t failed;                  /* lowest failed index; SIZE_MAX when none */
	int rc;
	struct cvm_error err;           /* the error of item `failed` */
	struct cvm_pool_batch *queued;  /* next batch in the pool's queue */
};

struct cvm_pool {
	unsigned threads;  /* the caller's included */
	bool spawned;      /* workers were started (or tried) */
	unsigned nworkers;
	pthread_t *workers;
	pthread_mutex_t mu;
	pthread_cond_t work; /* a batch was queued, or stop */
	pthread_cond_t done; /* an item finished */
	struct cvm_pool_batch *head, *tail; /* batches with unclaimed items */
	bool stop;
};

unsigned cvm_pool_default_threads(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

unsigned cvm_pool_threads(const struct cvm_pool *pool)
{
	return pool ? pool->threads : 1;
}

/* ---- the queue (pool->mu held) ------------------------------------------------------------ */

static void dequeue(struct cvm_pool *p, struct cvm_pool_batch *b)
{
	struct cvm_pool_batch **at = &p->head, *prev = NULL;
	while (*at && *at != b) {
		prev = *at;
		at = &(*at)->queued;
	}
	if (!*at)
		return;
	*at = b->queued;
	if (p->tail == b)
		p->tail = prev;
	b->queued = NULL;
}

/* Claim b's next item into *index; false when none is left. */
static bool claim(struct cvm_pool *p, struct cvm_pool_batch *b, size_t *index)
{
	if (b->next >= b->count)
		return false;
	*index = b->next++;
	if (b->next == b->count)
		dequeue(p, b);
	return true;
}

static void record(struct cvm_pool *p, struct cvm_pool_batch *b, size_t index, int rc,
		   const struct cvm_error *err)
{
	if (rc && index < b->failed) {
		b->failed = index;
		b->rc = rc;
		b->err = *err;
		/* Nothing above a failure needs to run: skip what is not claimed yet. */
		if (b->next < b->count) {
			b->done += b->count - b->next;
			b->next = b->count;
			dequeue(p, b);
		}
	}
	if (++b->done == b->count)
		pthread_cond_broadcast(&p->done);
}

/* Run one claimed item without the lock, then record it. */
static void run_item(struct cvm_pool *p, struct cvm_pool_batch *b, size_t index)
{
	struct cvm_error err;
	cvm_error_clear(&err);
	pthread_mutex_unlock(&p->mu);
	int rc = b->fn(b->ctx, index, &err);
	if (rc && !err.code)
		cvm_error_set(&err, rc, "pool: item %zu failed", index);
	pthread_mutex_lock(&p->mu);
	record(p, b, index, rc, &err);
}

static void *worker(void *arg)
{
	struct cvm_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		struct cvm_pool_batch *b = p->head;
		size_t index;
		if (b && claim(p, b, &index))
			run_item(p, b, index);
		else
			pthread_cond_wait(&p->work, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Start the workers on first use (pool->mu held); those that do not start are done without. */
static void spawn_workers(struct cvm_pool *p)
{
	p->spawned = true;
	p->workers = calloc(p->threads - 1, sizeof(*p->workers));
	for (unsigned i = 0; p->workers && i < p->threads - 1; i++) {
		if (pthread_create(&p->workers[p->nworkers], NULL, worker, p) != 0)
			break;
		p->nworkers++;
	}
}

/* ---- the public functions ------------------------------------------------------------------ */

int cvm_pool_new(unsigned threads, struct cvm_pool **out, struct cvm_error *err)
{
	struct cvm_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return cvm_error_set(err, -ENOMEM, "pool: out of memory");
	if (threads == 0)
		threads = cvm_pool_default_threads();
	p->threads = threads < CVM_POOL_MAX_THREADS ? threads : CVM_POOL_MAX_THREADS;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	*out = p;
	return 0;
}

void cvm_pool_free(struct cvm_pool *pool)
{
	if (!pool)
		return;
	pthread_mutex_lock(&pool->mu);
	pool->stop = true;
	pthread_cond_broadcast(&pool->work);
	pthread_mutex_unlock(&pool->mu);
	for (unsigned i = 0; i < pool->nworkers; i++)
		pthread_join(pool->workers[i], NULL);
	free(pool->workers);
	pthread_cond_destroy(&pool->done);
	pthread_cond_destroy(&pool->work);
	pthread_mutex_destroy(&pool->mu);
	free(pool);
}

static void run_inline(struct cvm_pool_batch *b)
{
	for (; b->next < b->count; b->next++, b->done++) {
		cvm_error_clear(&b->err);
		int rc = b->fn(b->ctx, b->next, &b->err);
		if (rc) {
			if (!b->err.code)
				cvm_error_set(&b->err, rc, "pool: item %zu failed", b->next);
			b->failed = b->next;
			b->rc = rc;
			b->done = b->count;
			return;
		}
	}
}

/* A batch of fewer than min_queued items runs inline. */
static int pool_start(struct cvm_pool *pool, size_t count, size_t min_queued, cvm_pool_fn fn,
		      void *ctx, struct cvm_pool_batch **out, struct cvm_error *err)
{
	struct cvm_pool_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return cvm_error_set(err, -ENOMEM, "pool: out of memory");
	b->fn = fn;
	b->ctx = ctx;
	b->count = count;
	b->failed = SIZE_MAX;
	*out = b;
	if (!pool || pool->threads < 2 || count < min_queued) {
		run_inline(b);
		return 0;
	}
	b->pool = pool;
	pthread_mutex_lock(&pool->mu);
	if (!pool->spawned)
		spawn_workers(pool);
	if (pool->tail)
		pool->tail->queued = b;
	else
		pool->head = b;
	pool->tail = b;
	pthread_cond_broadcast(&pool->work);
	pthread_mutex_unlock(&pool->mu);
	return 0;
}

int cvm_pool_start(struct cvm_pool *pool, size_t count, cvm_pool_fn fn, void *ctx,
		   struct cvm_pool_batch **out, struct cvm_error *err)
{
	return pool_start(pool, count, 2, fn, ctx, out, err);
}

int cvm_pool_start_one(struct cvm_pool *pool, cvm_pool_fn fn, void *ctx,
		       struct cvm_pool_batch **out, struct cvm_error *err)
{
	return pool_start(pool, 1, 1, fn, ctx, out, err);
}

int cvm_pool_finish(struct cvm_pool_batch *b, struct cvm_error *err)
{
	struct cvm_pool *p = b->pool;
	if (p) {
		pthread_mutex_lock(&p->mu);
		while (b->done < b->count) {
			size_t index;
			if (claim(p, b, &index))
				run_item(p, b, index);
			else
				pthread_cond_wait(&p->done, &p->mu);
		}
		pthread_mutex_unlock(&p->mu);
	}
	int rc = b->rc;
	if (rc && err)
		*err = b->err;
	free(b);
	return rc;
}

int cvm_pool_run(struct cvm_pool *pool, size_t count, cvm_pool_fn fn, void *ctx,
		 struct cvm_error *err)
{
	struct cvm_pool_batch *b;
	int rc = cvm_pool_start(pool, count, fn, ctx, &b, err);
	return rc ? rc : cvm_pool_finish(b, err);
}
