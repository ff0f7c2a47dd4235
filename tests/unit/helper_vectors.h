/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit-test helpers (linked into every tests/unit program): where the shared test data is, and
 * reading one vector file.  Only for code running inside a cmocka test (it may call skip()).
 */
#ifndef CVMKIT_TESTS_HELPER_VECTORS_H
#define CVMKIT_TESTS_HELPER_VECTORS_H

#include <stddef.h>
#include <stdint.h>

/* $CVMKIT_SHARED when set and non-empty, else the compile-time CVMKIT_SHARED_DIR. */
const char *cvm_test_shared_dir(void);

/*
 * Read <shared>/vectors/<rel> into buf (at most cap bytes) and return the byte count; the test is
 * skipped (with a "# SKIP" line) when the file is missing.
 */
size_t cvm_test_vector_load(const char *rel, uint8_t *buf, size_t cap);

struct cvm_policy;
/* A policy from JSON text (through a temporary file, as a user's is read); fails the test on a
   problem.  Free with cvm_policy_free. */
struct cvm_policy *cvm_test_policy_from_text(const char *text);

struct cvm_launch;
/* The value of a launch document entry ("launch" object) of l, or NULL. */
const char *cvm_test_launch_entry(struct cvm_launch *l, const char *key);

#endif
