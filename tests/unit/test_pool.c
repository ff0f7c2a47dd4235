/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the worker pool (measure/pool.c). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <cvmkit/pool.h>

#define MANY 1000

struct squares {
	uint64_t out[MANY];
	pthread_t ran_on[MANY];
	int calls[MANY]; /* each index once */
	size_t fail_at[2]; /* indexes that fail (SIZE_MAX: none) */
};

static int square(void *ctx, size_t i, struct cvm_error *err)
{
	struct squares *s = ctx;
	s->calls[i]++;
	s->ran_on[i] = pthread_self();
	if (i == s->fail_at[0] || i == s->fail_at[1])
		return cvm_error_set(err, -EIO, "item %zu", i);
	s->out[i] = (uint64_t)i * i;
	return 0;
}

static struct squares *squares_new(void)
{
	struct squares *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->fail_at[0] = s->fail_at[1] = SIZE_MAX;
	return s;
}

static void every_item_runs_once_and_lands_in_its_slot(void **state)
{
	(void)state;
	for (unsigned threads = 1; threads <= 4; threads++) {
		struct cvm_pool *pool;
		struct cvm_error err;
		assert_int_equal(cvm_pool_new(threads, &pool, &err), 0);
		assert_int_equal(cvm_pool_threads(pool), threads);
		struct squares *s = squares_new();
		assert_int_equal(cvm_pool_run(pool, MANY, square, s, &err), 0);
		for (size_t i = 0; i < MANY; i++) {
			assert_int_equal(s->calls[i], 1);
			assert_int_equal(s->out[i], (uint64_t)i * i);
		}
		free(s);
		cvm_pool_free(pool);
	}
}

static void one_thread_runs_inline_in_order(void **state)
{
	(void)state;
	struct cvm_pool *pool;
	struct cvm_error err;
	assert_int_equal(cvm_pool_new(1, &pool, &err), 0);
	struct squares *s = squares_new();
	struct cvm_pool_batch *b;
	assert_int_equal(cvm_pool_start(pool, MANY, square, s, &b, &err), 0);
	/* Everything ran during start, on this thread. */
	for (size_t i = 0; i < MANY; i++) {
		assert_int_equal(s->calls[i], 1);
		assert_true(pthread_equal(s->ran_on[i], pthread_self()));
	}
	assert_int_equal(cvm_pool_finish(b, &err), 0);
	/* A NULL pool is one thread too. */
	memset(s->calls, 0, sizeof(s->calls));
	assert_int_equal(cvm_pool_threads(NULL), 1);
	assert_int_equal(cvm_pool_run(NULL, MANY, square, s, &err), 0);
	for (size_t i = 0; i < MANY; i++)
		assert_int_equal(s->calls[i], 1);
	free(s);
	cvm_pool_free(pool);
}

static void the_lowest_failure_is_the_result(void **state)
{
	(void)state;
	for (unsigned threads = 1; threads <= 3; threads++) {
		struct cvm_pool *pool;
		struct cvm_error err;
		assert_int_equal(cvm_pool_new(threads, &pool, &err), 0);
		for (int round = 0; round < 20; round++) {
			struct squares *s = squares_new();
			s->fail_at[0] = 700;
			s->fail_at[1] = 123;
			cvm_error_clear(&err);
			assert_int_equal(cvm_pool_run(pool, MANY, square, s, &err), -EIO);
			assert_string_equal(cvm_error_message(&err), "item 123");
			/* Everything below the failure ran, as a loop would have run it. */
			for (size_t i = 0; i < 123; i++)
				assert_int_equal(s->calls[i], 1);
			free(s);
		}
		cvm_pool_free(pool);
	}
}

static int fail_without_message(void *ctx, size_t i, struct cvm_error *err)
{
	(void)ctx;
	(void)err;
	return i == 3 ? -ENOSPC : 0;
}

static void a_failure_without_a_message_gets_one(void **state)
{
	(void)state;
	struct cvm_pool *pool;
	struct cvm_error err;
	assert_int_equal(cvm_pool_new(2, &pool, &err), 0);
	assert_int_equal(cvm_pool_run(pool, 10, fail_without_message, NULL, &err), -ENOSPC);
	assert_string_equal(cvm_error_message(&err), "pool: item 3 failed");
	cvm_pool_free(pool);
}

static void batches_overlap_and_finish_in_any_order(void **state)
{
	(void)state;
	struct cvm_pool *pool;
	struct cvm_error err;
	assert_int_equal(cvm_pool_new(3, &pool, &err), 0);
	struct squares *a = squares_new(), *b = squares_new();
	b->fail_at[0] = 5;
	struct cvm_pool_batch *ba, *bb, *empty;
	assert_int_equal(cvm_pool_start(pool, MANY, square, a, &ba, &err), 0);
	assert_int_equal(cvm_pool_start(pool, MANY, square, b, &bb, &err), 0);
	assert_int_equal(cvm_pool_start(pool, 0, square, NULL, &empty, &err), 0);
	assert_int_equal(cvm_pool_finish(empty, &err), 0);
	assert_int_equal(cvm_pool_finish(bb, &err), -EIO);
	assert_string_equal(cvm_error_message(&err), "item 5");
	assert_int_equal(cvm_pool_finish(ba, &err), 0);
	for (size_t i = 0; i < MANY; i++)
		assert_int_equal(a->out[i], (uint64_t)i * i);
	free(a);
	free(b);
	cvm_pool_free(pool);
}

/* One background item: it says it started, then waits (at most 10 s) for the caller's go. */
struct background {
	atomic_bool started, go;
	pthread_t ran_on;
	int calls;
};

static bool wait_for(atomic_bool *flag)
{
	struct timespec tick = {0, 1000000};
	for (int i = 0; i < 10000 && !atomic_load(flag); i++)
		nanosleep(&tick, NULL);
	return atomic_load(flag);
}

static int background_item(void *ctx, size_t i, struct cvm_error *err)
{
	struct background *b = ctx;
	b->calls += i == 0 ? 1 : 100; /* (no cmocka asserts off the test's thread) */
	b->ran_on = pthread_self();
	atomic_store(&b->started, true);
	return wait_for(&b->go) ? 0 : cvm_error_set(err, -ETIMEDOUT, "no go");
}

static void one_item_runs_beside_the_caller(void **state)
{
	(void)state;
	struct cvm_pool *pool;
	struct cvm_error err;
	assert_int_equal(cvm_pool_new(2, &pool, &err), 0);
	struct background b = {0};
	struct cvm_pool_batch *batch;
	/* Run inline, the item would wait for a go that comes only after the start returns. */
	assert_int_equal(cvm_pool_start_one(pool, background_item, &b, &batch, &err), 0);
	assert_true(wait_for(&b.started));
	atomic_store(&b.go, true);
	assert_int_equal(cvm_pool_finish(batch, &err), 0);
	assert_int_equal(b.calls, 1);
	assert_false(pthread_equal(b.ran_on, pthread_self()));
	cvm_pool_free(pool);
}

static void one_item_without_threads_runs_at_once(void **state)
{
	(void)state;
	struct cvm_pool *one;
	struct cvm_error err;
	assert_int_equal(cvm_pool_new(1, &one, &err), 0);
	struct cvm_pool *pools[] = {NULL, one};
	for (size_t k = 0; k < 2; k++) {
		struct background b = {0};
		atomic_store(&b.go, true);
		struct cvm_pool_batch *batch;
		assert_int_equal(cvm_pool_start_one(pools[k], background_item, &b, &batch, &err), 0);
		assert_int_equal(b.calls, 1); /* before the finish */
		assert_true(pthread_equal(b.ran_on, pthread_self()));
		assert_int_equal(cvm_pool_finish(batch, &err), 0);
	}
	/* Its failure is the batch's. */
	struct squares *s = squares_new();
	s->fail_at[0] = 0;
	struct cvm_pool_batch *batch;
	assert_int_equal(cvm_pool_start_one(one, square, s, &batch, &err), 0);
	assert_int_equal(cvm_pool_finish(batch, &err), -EIO);
	assert_string_equal(cvm_error_message(&err), "item 0");
	free(s);
	cvm_pool_free(one);
}

static void default_threads_is_at_least_one(void **state)
{
	(void)state;
	assert_true(cvm_pool_default_threads() >= 1);
	struct cvm_pool *pool;
	struct cvm_error err;
	assert_int_equal(cvm_pool_new(0, &pool, &err), 0);
	assert_int_equal(cvm_pool_threads(pool), cvm_pool_default_threads());
	cvm_pool_free(pool);
	assert_int_equal(cvm_pool_new(100000, &pool, &err), 0);
	assert_int_equal(cvm_pool_threads(pool), CVM_POOL_MAX_THREADS);
	cvm_pool_free(pool); /* never used: no worker was started */
	cvm_pool_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_item_runs_once_and_lands_in_its_slot),
		cmocka_unit_test(one_thread_runs_inline_in_order),
		cmocka_unit_test(the_lowest_failure_is_the_result),
		cmocka_unit_test(a_failure_without_a_message_gets_one),
		cmocka_unit_test(batches_overlap_and_finish_in_any_order),
		cmocka_unit_test(one_item_runs_beside_the_caller),
		cmocka_unit_test(one_item_without_threads_runs_at_once),
		cmocka_unit_test(default_threads_is_at_least_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
