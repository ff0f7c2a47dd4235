/* SPDX-License-Identifier: Apache-2.0 */
/* Unit-test helpers: the shared test data (see helper_vectors.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tests/unit/helper_vectors.h"

const char *cvm_test_shared_dir(void)
{
	const char *env = getenv("CVMKIT_SHARED");
	return env && *env ? env : CVMKIT_SHARED_DIR;
}

size_t cvm_test_vector_load(const char *rel, uint8_t *buf, size_t cap)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/vectors/%s", cvm_test_shared_dir(), rel);
	FILE *f = fopen(path, "rb");
	if (!f) {
		print_message("# SKIP %s is missing\n", path);
		skip();
	}
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}
