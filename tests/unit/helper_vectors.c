/* SPDX-License-Identifier: Apache-2.0 */
/* Unit-test helpers: the shared test data (see helper_vectors.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cvmkit/launch.h>
#include <cvmkit/policy.h>

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

struct cvm_policy *cvm_test_policy_from_text(const char *text)
{
	char path[] = "/tmp/cvmkit-test-policy-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct cvm_policy *p = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_policy_load(path, &p, NULL, &err);
	unlink(path);
	if (rc)
		fail_msg("policy: %s", cvm_error_message(&err));
	return p;
}

const char *cvm_test_launch_entry(struct cvm_launch *l, const char *key)
{
	const struct cvm_measurement *m = cvm_launch_measurement(l);
	for (size_t i = 0; i < m->nlaunch; i++)
		if (strcmp(m->launch[i].key, key) == 0)
			return m->launch[i].value;
	return NULL;
}
