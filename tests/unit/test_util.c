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
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include <cvmkit/error.h>
#include <cvmkit/progress.h>
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

/* ---- output safety: what cvm_file_write_atomic does to what it replaces ----------------- */

struct scratch {
	char dir[32];
	char path[96];
};

static void scratch_make(struct scratch *s, const char *name)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/cvmkit-test-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/%s", s->dir, name);
}

/* Removes the folder and what the tests put in it. */
static void scratch_remove(struct scratch *s)
{
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	assert_int_equal(system(cmd), 0);
}

static void read_back(const char *path, const char *want)
{
	struct cvm_file f;
	struct cvm_error err;
	assert_int_equal(cvm_file_open(path, &f, &err), 0);
	assert_int_equal(f.size, strlen(want));
	assert_memory_equal(f.data, want, f.size);
	cvm_file_close(&f);
}

static void atomic_write_keeps_mode_and_owner(void **state)
{
	(void)state;
	struct scratch s;
	scratch_make(&s, "doc.json");
	struct cvm_error err;
	struct stat st;
	assert_int_equal(cvm_file_write_atomic(s.path, "new", 3, &err), 0);
	assert_int_equal(stat(s.path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644); /* a new file */
	assert_int_equal(chmod(s.path, 0600), 0);
	bool root = geteuid() == 0;
	if (root)
		assert_int_equal(chown(s.path, 4321, 4322), 0);
	assert_int_equal(cvm_file_write_atomic(s.path, "replaced", 8, &err), 0);
	read_back(s.path, "replaced");
	assert_int_equal(stat(s.path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	if (root) {
		assert_int_equal(st.st_uid, 4321);
		assert_int_equal(st.st_gid, 4322);
	}
	/* A file with two names is not split in two. */
	char other[128];
	snprintf(other, sizeof(other), "%s/other-name", s.dir);
	assert_int_equal(link(s.path, other), 0);
	assert_int_equal(cvm_file_write_atomic(s.path, "x", 1, &err), -EMLINK);
	assert_non_null(strstr(cvm_error_message(&err), "hard links"));
	read_back(other, "replaced");
	scratch_remove(&s);
}

static void atomic_write_writes_through_a_fifo(void **state)
{
	(void)state;
	struct scratch s;
	scratch_make(&s, "pipe");
	assert_int_equal(mkfifo(s.path, 0600), 0);
	/* The read end is open first (non-blocking), so the writer's open does not wait and a
	   small write fits the pipe's buffer. */
	int rfd = open(s.path, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	struct cvm_error err;
	assert_int_equal(cvm_file_write_atomic(s.path, "through", 7, &err), 0);
	char got[16];
	assert_int_equal(read(rfd, got, sizeof(got)), 7);
	assert_memory_equal(got, "through", 7);
	close(rfd);
	struct stat st;
	assert_int_equal(lstat(s.path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode)); /* still the FIFO, not a file in its place */
	scratch_remove(&s);
}

static void atomic_write_writes_through_a_character_device(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip(); /* mknod needs root; the FIFO test covers writing through */
	struct scratch s;
	scratch_make(&s, "null");
	/* The null device's numbers (1, 3), made in a scratch folder, never /dev itself. */
	assert_int_equal(mknod(s.path, S_IFCHR | 0666, makedev(1, 3)), 0);
	struct cvm_error err;
	assert_int_equal(cvm_file_write_atomic(s.path, "gone", 4, &err), 0);
	struct stat st;
	assert_int_equal(lstat(s.path, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(1, 3));
	scratch_remove(&s);
}

static void atomic_write_follows_links_and_refuses_what_it_cannot_write(void **state)
{
	(void)state;
	struct scratch s;
	scratch_make(&s, "target.json");
	struct cvm_error err;
	char link_path[128], dangling[128], sock_path[96];
	snprintf(link_path, sizeof(link_path), "%s/current.json", s.dir);
	snprintf(dangling, sizeof(dangling), "%s/dangling.json", s.dir);
	snprintf(sock_path, sizeof(sock_path), "%.80s/sock", s.dir);
	assert_int_equal(cvm_file_write_atomic(s.path, "v1", 2, &err), 0);
	assert_int_equal(chmod(s.path, 0640), 0);
	assert_int_equal(symlink("target.json", link_path), 0);
	assert_int_equal(cvm_file_write_atomic(link_path, "v2", 2, &err), 0);
	struct stat st;
	assert_int_equal(lstat(link_path, &st), 0);
	assert_true(S_ISLNK(st.st_mode)); /* the link stays a link */
	read_back(s.path, "v2");
	assert_int_equal(stat(s.path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);

	assert_int_equal(symlink("missing/file.json", dangling), 0);
	assert_int_equal(cvm_file_write_atomic(dangling, "x", 1, &err), -ENOENT);
	assert_non_null(strstr(cvm_error_message(&err), "symbolic link"));

	assert_int_equal(cvm_file_write_atomic(s.dir, "x", 1, &err), -EISDIR);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(cvm_file_write_atomic(sock_path, "x", 1, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "a socket"));
	close(fd);
	assert_int_equal(lstat(sock_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	scratch_remove(&s);
}

/* ---- inputs: read once into owned memory, capped while read ---------------------------- */

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/*
 * A FIFO in the scratch folder with a writer process that feeds it bytes bytes of 'A' (it stops
 * when the reader goes away).  Returns the writer's pid.
 */
static pid_t fifo_fed(const char *path, size_t bytes)
{
	assert_int_equal(mkfifo(path, 0600), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		int fd = open(path, O_WRONLY);
		static char buf[65536];
		memset(buf, 'A', sizeof(buf));
		for (size_t done = 0; fd >= 0 && done < bytes;) {
			size_t n = bytes - done < sizeof(buf) ? bytes - done : sizeof(buf);
			ssize_t k = write(fd, buf, n);
			if (k <= 0)
				break;
			done += (size_t)k;
		}
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* The bytes read are the process's own: rewriting or truncating the file changes nothing. */
static void file_read_owns_its_bytes(void **state)
{
	(void)state;
	struct scratch s;
	scratch_make(&s, "fw.bin");
	uint8_t img[3 * 4096];
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 7);
	write_file(s.path, img, sizeof(img));
	struct cvm_file f;
	struct cvm_error err;
	assert_int_equal(cvm_file_read(s.path, sizeof(img), &f, &err), 0);
	assert_int_equal(f.size, sizeof(img));
	/* rewritten in place (same inode, as an editor or attacker with write access would) */
	int fd = open(s.path, O_WRONLY);
	assert_true(fd >= 0);
	uint8_t evil[4096];
	memset(evil, 0xcc, sizeof(evil));
	assert_int_equal(pwrite(fd, evil, sizeof(evil), 4096), (ssize_t)sizeof(evil));
	close(fd);
	assert_memory_equal(f.data, img, sizeof(img));
	/* truncated: no SIGBUS, the bytes stay */
	assert_int_equal(truncate(s.path, 0), 0);
	assert_memory_equal(f.data, img, sizeof(img));
	cvm_file_close(&f);
	scratch_remove(&s);
}

static void file_read_refuses_a_regular_file_over_its_cap(void **state)
{
	(void)state;
	struct scratch s;
	scratch_make(&s, "big.json");
	char buf[4097];
	memset(buf, ' ', sizeof(buf));
	write_file(s.path, buf, sizeof(buf));
	struct cvm_file f = {0};
	struct cvm_error err;
	assert_int_equal(cvm_file_read(s.path, 4096, &f, &err), -EFBIG);
	assert_non_null(strstr(cvm_error_message(&err), "larger than 4 KiB, the cap for this input"));
	assert_null(f.data);
	assert_int_equal(cvm_file_read(s.path, 4097, &f, &err), 0);
	assert_int_equal(f.size, 4097);
	cvm_file_close(&f);
	scratch_remove(&s);
}

/* A FIFO fed without end is read up to the cap and refused; one within the cap is read. */
static void file_read_caps_a_fifo_while_reading(void **state)
{
	(void)state;
	struct scratch s;
	scratch_make(&s, "pipe");
	pid_t w = fifo_fed(s.path, 64u << 20);
	struct cvm_file f = {0};
	struct cvm_error err;
	assert_int_equal(cvm_file_read(s.path, 1u << 20, &f, &err), -EFBIG);
	assert_non_null(strstr(cvm_error_message(&err), "larger than 1 MiB"));
	assert_null(f.data);
	reap(w);
	unlink(s.path);
	w = fifo_fed(s.path, 100000);
	assert_int_equal(cvm_file_read(s.path, 1u << 20, &f, &err), 0);
	assert_int_equal(f.size, 100000);
	assert_int_equal(f.data[99999], 'A');
	cvm_file_close(&f);
	reap(w);
	scratch_remove(&s);
}

static void file_read_refuses_a_socket(void **state)
{
	(void)state;
	struct scratch s;
	scratch_make(&s, "sock");
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", s.path);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	struct cvm_file f;
	struct cvm_error err;
	int rc = cvm_file_read(s.path, 100, &f, &err);
	assert_true(rc < 0); /* open(2) itself refuses a socket (ENXIO) */
	close(fd);
	scratch_remove(&s);
}

static void sha384_of(const void *data, size_t len, uint8_t out[48])
{
	unsigned n = 0;
	assert_int_equal(EVP_Digest(data, len, out, &n, EVP_sha384(), NULL), 1);
}

/* Streamed SHA-256 and SHA-384 are those of the whole file, in one pass. */
static void hash_stream_equals_the_digests_of_the_bytes(void **state)
{
	(void)state;
	struct scratch s;
	scratch_make(&s, "initrd");
	size_t sizes[] = {0, 1, (1u << 20) - 1, 1u << 20, (3u << 20) + 17};
	for (size_t k = 0; k < CVM_ARRAY_SIZE(sizes); k++) {
		size_t n = sizes[k];
		uint8_t *b = malloc(n + 1);
		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)(i ^ (i >> 9));
		write_file(s.path, b, n);
		struct cvm_stream_digest d;
		struct cvm_error err;
		assert_int_equal(cvm_hash_stream(s.path, n, CVM_HASH_SHA256 | CVM_HASH_SHA384, NULL,
						 NULL, &d, &err), 0);
		uint8_t want256[32], want384[48];
		assert_int_equal(cvm_sha256(b, n, want256, &err), 0);
		sha384_of(b, n, want384);
		assert_int_equal(d.size, n);
		assert_memory_equal(d.sha256, want256, 32);
		assert_memory_equal(d.sha384, want384, 48);
		if (n)
			assert_int_equal(cvm_hash_stream(s.path, n - 1, CVM_HASH_SHA256, NULL, NULL,
							 &d, &err), -EFBIG);
		free(b);
	}
	scratch_remove(&s);
}

static void hash_stream_caps_a_fifo(void **state)
{
	(void)state;
	struct scratch s;
	scratch_make(&s, "pipe");
	pid_t w = fifo_fed(s.path, 64u << 20);
	struct cvm_stream_digest d;
	struct cvm_error err;
	assert_int_equal(cvm_hash_stream(s.path, 4u << 20, CVM_HASH_SHA256, NULL, NULL, &d, &err),
			 -EFBIG);
	assert_non_null(strstr(cvm_error_message(&err), "larger than 4 MiB"));
	reap(w);
	scratch_remove(&s);
}

/* A progress callback that truncates the file being hashed: the read sees it change. */
static void truncate_on_progress(void *ctx, const char *what, uint64_t done, uint64_t total)
{
	(void)what;
	if (done < total)
		assert_int_equal(truncate(ctx, (off_t)done), 0);
}

static void hash_stream_refuses_a_file_truncated_while_read(void **state)
{
	(void)state;
	struct scratch s;
	scratch_make(&s, "initrd");
	size_t n = 20u << 20;
	uint8_t *b = calloc(1, n);
	write_file(s.path, b, n);
	free(b);
	struct cvm_progress p = {truncate_on_progress, s.path};
	struct cvm_stream_digest d;
	struct cvm_error err;
	assert_int_equal(cvm_hash_stream(s.path, n, CVM_HASH_SHA256, &p, "hashing initrd", &d,
					 &err), -EIO);
	assert_non_null(strstr(cvm_error_message(&err), "changed while it was read"));
	scratch_remove(&s);
}

static void path_absolute_joins_the_current_folder(void **state)
{
	(void)state;
	char *cwd = getcwd(NULL, 0), want[4200];
	char *a = cvm_path_absolute("./fw.fd");
	snprintf(want, sizeof(want), "%s/fw.fd", cwd);
	assert_string_equal(a, want);
	free(a);
	a = cvm_path_absolute("/abs/x");
	assert_string_equal(a, "/abs/x");
	free(a);
	a = cvm_path_absolute(".");
	assert_string_equal(a, cwd);
	free(a);
	a = cvm_path_absolute("/a/./b//c/.");
	assert_string_equal(a, "/a/b/c");
	free(a);
	a = cvm_path_absolute("/./");
	assert_string_equal(a, "/");
	free(a);
	a = cvm_path_absolute("/a/../b");
	assert_string_equal(a, "/a/../b");
	free(a);
	free(cwd);
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
		cmocka_unit_test(atomic_write_keeps_mode_and_owner),
		cmocka_unit_test(atomic_write_writes_through_a_fifo),
		cmocka_unit_test(atomic_write_writes_through_a_character_device),
		cmocka_unit_test(atomic_write_follows_links_and_refuses_what_it_cannot_write),
		cmocka_unit_test(path_absolute_joins_the_current_folder),
		cmocka_unit_test(file_read_owns_its_bytes),
		cmocka_unit_test(file_read_refuses_a_regular_file_over_its_cap),
		cmocka_unit_test(file_read_caps_a_fifo_while_reading),
		cmocka_unit_test(file_read_refuses_a_socket),
		cmocka_unit_test(hash_stream_equals_the_digests_of_the_bytes),
		cmocka_unit_test(hash_stream_caps_a_fifo),
		cmocka_unit_test(hash_stream_refuses_a_file_truncated_while_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
