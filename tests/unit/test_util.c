/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: error convention and the shared helpers (policy/error.c, policy/util.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cvmkit/error.h>
#include <cvmkit/util.h>

static void error_wrap_builds_context_chain(void **state)
{
	(void)state;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_error_set(&err, -EIO, "EIO"), -EIO);
	cvm_error_set_fw(&err, 7);
	assert_int_equal(cvm_error_wrap(&err, "LAUNCH_UPDATE gpa 0x%x", 0xffe00000u), -EIO);
	cvm_error_wrap(&err, "launch");
	assert_string_equal(cvm_error_message(&err),
			    "launch: LAUNCH_UPDATE gpa 0xffe00000: EIO (firmware status 0x7)");
	assert_true(err.has_fw_status);
}

static void error_wrap_truncates_safely(void **state)
{
	(void)state;
	struct cvm_error err;
	char big[2000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cvm_error_set(&err, -EINVAL, "%s", big);
	cvm_error_wrap(&err, "%s", big);
	assert_int_equal(strlen(err.msg), CVM_ERROR_MSG_MAX - 1);
	assert_int_equal(cvm_error_set(NULL, -ENOENT, "x"), -ENOENT);
}

static void error_wrap_returns_the_stored_code_and_never_success(void **state)
{
	(void)state;
	struct cvm_error err;
	cvm_error_clear(&err);
	cvm_error_set(&err, -ENOMEM, "out of memory");
	assert_int_equal(cvm_error_wrap(&err, "plan"), -ENOMEM);
	assert_int_equal(err.code, -ENOMEM);
	cvm_error_clear(&err);
	assert_int_equal(cvm_error_wrap(&err, "nothing recorded"), -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_int_equal(cvm_error_wrap(NULL, "no err"), -EINVAL);
}

static void errno_names_cover_every_errno_and_number_the_rest(void **state)
{
	(void)state;
	assert_string_equal(cvm_errno_name(-EMFILE), "EMFILE");
	assert_string_equal(cvm_errno_name(EIO), "EIO");
	assert_string_equal(cvm_errno_name(-EHWPOISON), "EHWPOISON");
	assert_string_equal(cvm_errno_name(-524), "E524"); /* the kernel's internal ENOTSUPP */
	assert_string_equal(cvm_errno_name(0), "E0");
	assert_string_equal(cvm_errno_name(7), "E2BIG");
	assert_string_equal(cvm_errno_name(999), "E999");
	assert_string_equal(cvm_errno_name(-100000), "E?");
}

static void cursor_stays_in_bounds(void **state)
{
	(void)state;
	const uint8_t buf[] = {1, 2, 3, 4, 5, 6, 7};
	struct cvm_cursor c = cvm_cursor_make(buf, sizeof(buf));
	uint32_t v32;
	uint64_t v64;
	assert_true(cvm_cursor_u32(&c, &v32));
	assert_int_equal(v32, 0x04030201);
	assert_false(cvm_cursor_u64(&c, &v64));
	assert_int_equal(c.off, 4);
	assert_true(cvm_cursor_skip(&c, 3));
	assert_false(cvm_cursor_skip(&c, 1));
	assert_true(cvm_range_ok(0, 7, 7));
	assert_false(cvm_range_ok(1, UINT64_MAX, 7));
}

static void hex_round_trip(void **state)
{
	(void)state;
	uint8_t b[3];
	char out[7];
	assert_int_equal(cvm_hex_decode("0xA1b2C3", b, 3), 0);
	cvm_hex_encode(b, 3, out);
	assert_string_equal(out, "a1b2c3");
	assert_int_equal(cvm_hex_decode("a1b2", b, 3), -EINVAL);
	assert_int_equal(cvm_hex_decode("a1b2zz", b, 3), -EINVAL);
	assert_true(cvm_memeq_ct("abc", "abc", 3));
	assert_false(cvm_memeq_ct("abc", "abd", 3));
}

static void atomic_write_replaces_whole_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/cvmkit-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/out.json", dir);
	struct cvm_error err;
	assert_int_equal(cvm_file_write_atomic(path, "hello", 5, &err), 0);
	struct cvm_file f;
	assert_int_equal(cvm_file_open(path, &f, &err), 0);
	assert_int_equal(f.size, 5);
	assert_memory_equal(f.data, "hello", 5);
	cvm_file_close(&f);
	char missing[96];
	snprintf(missing, sizeof(missing), "%s/no/such/dir/out", dir);
	assert_int_equal(cvm_file_write_atomic(missing, "x", 1, &err), -ENOENT);
	assert_int_equal(cvm_file_open(dir, &f, &err), -EISDIR);
	unlink(path);
	rmdir(dir);
}

static void dir_create_makes_parents(void **state)
{
	(void)state;
	char dir[] = "/tmp/cvmkit-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char deep[96], file[96], under_file[128];
	snprintf(deep, sizeof(deep), "%s/a/b/c/", dir);
	struct cvm_error err;
	assert_int_equal(cvm_dir_create(deep, &err), 0);
	assert_int_equal(cvm_dir_create(deep, &err), 0); /* already there */
	snprintf(file, sizeof(file), "%s/a/b/c/f", dir);
	assert_int_equal(cvm_file_write_atomic(file, "x", 1, &err), 0);
	snprintf(under_file, sizeof(under_file), "%s/g", file);
	assert_int_equal(cvm_dir_create(under_file, &err), -ENOTDIR);
	assert_int_equal(cvm_dir_create("", &err), -EINVAL);
	unlink(file);
	static const char *const made[] = {"a/b/c", "a/b", "a"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(deep, sizeof(deep), "%s/%s", dir, made[i]);
		assert_int_equal(rmdir(deep), 0);
	}
	assert_int_equal(rmdir(dir), 0);
}

static void paths_resolve_against_folder(void **state)
{
	(void)state;
	char *d = cvm_dirname("a/b/c.json");
	assert_string_equal(d, "a/b");
	char *j = cvm_path_join(d, "vmlinuz");
	assert_string_equal(j, "a/b/vmlinuz");
	free(j);
	j = cvm_path_join(d, "/abs");
	assert_string_equal(j, "/abs");
	free(j);
	free(d);
	d = cvm_dirname("c.json");
	assert_string_equal(d, ".");
	free(d);
}

static void utf8_rejects_overlong_surrogate_and_truncated(void **state)
{
	(void)state;
	static const struct {
		const char *bytes;
		bool valid;
	} cases[] = {
		{"plain ASCII", true},
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", true}, /* 2, 3 and 4 bytes */
		{"\xf4\x8f\xbf\xbf", true},                              /* U+10FFFF */
		{"\xc0\xaf", false},                                       /* overlong '/' */
		{"\xe0\x80\xaf", false},                                  /* overlong, 3 bytes */
		{"\xed\xa0\x80", false},                                  /* surrogate U+D800 */
		{"\xf4\x90\x80\x80", false},                             /* above U+10FFFF */
		{"\xe2\x82", false},                                       /* truncated */
		{"\x80", false},                                           /* lone continuation */
		{"\xff", false},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++)
		assert_int_equal(cvm_utf8_valid((const uint8_t *)cases[i].bytes,
						strlen(cases[i].bytes)),
				 cases[i].valid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(error_wrap_builds_context_chain),
		cmocka_unit_test(error_wrap_truncates_safely),
		cmocka_unit_test(error_wrap_returns_the_stored_code_and_never_success),
		cmocka_unit_test(errno_names_cover_every_errno_and_number_the_rest),
		cmocka_unit_test(cursor_stays_in_bounds),
		cmocka_unit_test(hex_round_trip),
		cmocka_unit_test(utf8_rejects_overlong_surrogate_and_truncated),
		cmocka_unit_test(atomic_write_replaces_whole_file),
		cmocka_unit_test(paths_resolve_against_folder),
		cmocka_unit_test(dir_create_makes_parents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
