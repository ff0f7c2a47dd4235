/* SPDX-License-Identifier: Apache-2.0 */
#include <cvmkit/progress.h>
#include <cvmkit/util.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

bool cvm_cursor_bytes(struct cvm_cursor *c, size_t n, const uint8_t **out)
{
	if (n > cvm_cursor_left(c))
		return false;
	*out = c->buf + c->off;
	c->off += n;
	return true;
}

bool cvm_cursor_copy(struct cvm_cursor *c, void *out, size_t n)
{
	const uint8_t *p;
	if (!cvm_cursor_bytes(c, n, &p))
		return false;
	memcpy(out, p, n);
	return true;
}

bool cvm_cursor_skip(struct cvm_cursor *c, size_t n)
{
	const uint8_t *p;
	return cvm_cursor_bytes(c, n, &p);
}

bool cvm_cursor_u8(struct cvm_cursor *c, uint8_t *out)
{
	const uint8_t *p;
	if (!cvm_cursor_bytes(c, 1, &p))
		return false;
	*out = p[0];
	return true;
}

bool cvm_cursor_u16(struct cvm_cursor *c, uint16_t *out)
{
	const uint8_t *p;
	if (!cvm_cursor_bytes(c, 2, &p))
		return false;
	*out = cvm_le16(p);
	return true;
}

bool cvm_cursor_u32(struct cvm_cursor *c, uint32_t *out)
{
	const uint8_t *p;
	if (!cvm_cursor_bytes(c, 4, &p))
		return false;
	*out = cvm_le32(p);
	return true;
}

bool cvm_cursor_u64(struct cvm_cursor *c, uint64_t *out)
{
	const uint8_t *p;
	if (!cvm_cursor_bytes(c, 8, &p))
		return false;
	*out = cvm_le64(p);
	return true;
}

void cvm_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int cvm_hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int cvm_hex_decode(const char *hex, uint8_t *out, size_t n)
{
	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	if (strlen(hex) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = cvm_hex_digit(hex[2 * i]), lo = cvm_hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int cvm_sha256(const void *data, size_t len, uint8_t out[32], struct cvm_error *err)
{
	unsigned int n = 0;
	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return cvm_error_set(err, -EIO, "SHA-256 failed (OpenSSL)");
	return 0;
}

int cvm_sha256_hex(const void *data, size_t len, char out[65], struct cvm_error *err)
{
	uint8_t d[32];
	int rc = cvm_sha256(data, len, d, err);
	if (!rc)
		cvm_hex_encode(d, 32, out);
	return rc;
}

char *cvm_base64_encode(const void *data, size_t len)
{
	if (len > (size_t)INT32_MAX / 4 * 3)
		return NULL;
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

static int base64_value(uint8_t ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

int cvm_base64_decode(const char *text, size_t len, uint8_t **out, size_t *out_len)
{
	/* Padding, if any, only at the end; then the length must be a whole number of quads. */
	size_t end = len;
	size_t pad = 0;
	while (end > 0 && text[end - 1] == '=' && pad < 2) {
		end--;
		pad++;
	}
	if (pad && len % 4 != 0)
		return -EINVAL;
	if (end % 4 == 1)
		return -EINVAL;
	uint8_t *buf = malloc(end / 4 * 3 + 3);
	if (!buf)
		return -ENOMEM;
	size_t n = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < end; i++) {
		int v = base64_value((uint8_t)text[i]);
		if (v < 0) {
			free(buf);
			return -EINVAL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* The bits left over must be zero (one canonical text per byte string). */
	if (acc & ((1u << bits) - 1)) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*out_len = n;
	return 0;
}

bool cvm_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t c = s[i];
		size_t n; /* continuation bytes */
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n > len - i - 1)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

bool cvm_memeq_ct(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

/* ---- reading inputs ------------------------------------------------------------------- */

/* "64 MiB", "1 MiB", "4095 bytes": a cap as people say it. */
static void size_text(uint64_t n, char *out, size_t len)
{
	if (n >= (1ull << 30) && n % (1ull << 30) == 0)
		snprintf(out, len, "%" PRIu64 " GiB", n >> 30);
	else if (n >= (1ull << 20) && n % (1ull << 20) == 0)
		snprintf(out, len, "%" PRIu64 " MiB", n >> 20);
	else if (n >= (1ull << 10) && n % (1ull << 10) == 0)
		snprintf(out, len, "%" PRIu64 " KiB", n >> 10);
	else
		snprintf(out, len, "%" PRIu64 " bytes", n);
}

static int too_large(const char *path, uint64_t max, struct cvm_error *err)
{
	char cap[32];
	size_text(max, cap, sizeof(cap));
	return cvm_error_set(err, -EFBIG, "%s: larger than %s, the cap for this input "
				     "(docs/limits.md)", path, cap);
}

/*
 * Open an input for reading: regular files, FIFOs and character or block devices (read with the
 * same cap as files); directories and sockets are refused.  A regular file larger than max is
 * refused before a byte is read.
 */
static int input_open(const char *path, uint64_t max, int *fd_out, struct stat *st,
		      struct cvm_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return cvm_error_set(err, -errno, "%s: %s", path, strerror(errno));
	int rc = 0;
	if (fstat(fd, st) < 0)
		rc = cvm_error_set(err, -errno, "%s: %s", path, strerror(errno));
	else if (S_ISDIR(st->st_mode))
		rc = cvm_error_set(err, -EISDIR, "%s: is a directory, expected a file", path);
	else if (S_ISSOCK(st->st_mode))
		rc = cvm_error_set(err, -EINVAL, "%s: is a socket, expected a file", path);
	else if (S_ISREG(st->st_mode) && (uint64_t)st->st_size > max)
		rc = too_large(path, max, err);
	if (rc) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}

static ssize_t read_retry(int fd, void *buf, size_t len)
{
	ssize_t n;
	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/*
 * After the last read of a regular file: its size must still be what it was when it was
 * opened and what was read, else it changed while it was read (truncated, grown or replaced in
 * place) and the bytes are not used.
 */
static int input_unchanged(int fd, const char *path, const struct stat *st, uint64_t got,
			   struct cvm_error *err)
{
	struct stat now;
	if (!S_ISREG(st->st_mode))
		return 0;
	if (fstat(fd, &now) < 0)
		return cvm_error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (now.st_size == st->st_size && now.st_mtim.tv_sec == st->st_mtim.tv_sec && now.st_mtim.tv_nsec == st->st_mtim.tv_nsec)
		return 0;
	return cvm_error_set(err, -EIO,
			     "%s: changed while it was read (%lld bytes when opened, %" PRIu64
			     " read, %lld now); not used: read it again when nothing writes it",
			     path, (long long)st->st_size, got, (long long)now.st_size);
}

static int read_error(const char *path, int e, struct cvm_error *err)
{
	return cvm_error_set(err, -e, "reading %s: %s", path, strerror(e));
}

/*
 * A buffer for cap bytes of input.  A large one is aligned to 2 MiB and asks for transparent
 * huge pages: filling it then takes a few page faults instead of one per 4 KiB page, which
 * under nested paging was a quarter of a 4 MiB SNP measure's run (the hint is ignored where
 * THP is off).  free() releases either kind.
 */
#define HUGE_PAGE (2u << 20)
static uint8_t *input_buffer(size_t cap)
{
	if (cap < HUGE_PAGE)
		return malloc(cap ? cap : 1);
	void *p = NULL;
	size_t rounded = (cap + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	if (rounded < cap || posix_memalign(&p, HUGE_PAGE, rounded) != 0)
		return NULL;
	(void)madvise(p, rounded, MADV_HUGEPAGE);
	return p;
}

int cvm_file_read(const char *path, uint64_t max, struct cvm_file *out, struct cvm_error *err)
{
	int fd;
	struct stat st;
	int rc = input_open(path, max, &fd, &st, err);
	if (rc)
		return rc;
	/* A regular file is read at its size; anything else grows up to max + 1 (to see the
	   excess).  One byte more than the size is asked for, to see a file that grew. */
	uint64_t limit = max < UINT64_MAX ? max + 1 : max;
	size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 1u << 16;
	if (limit < SIZE_MAX && cap > limit)
		cap = (size_t)limit;
	size_t len = 0;
	uint8_t *buf = input_buffer(cap);
	if (!buf)
		rc = cvm_error_set(err, -ENOMEM, "%s: out of memory", path);
	while (!rc) {
		if (len == cap) {
			if ((uint64_t)len > max) {
				rc = too_large(path, max, err);
				break;
			}
			size_t grown = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
			if ((uint64_t)grown > limit)
				grown = (size_t)limit;
			uint8_t *nb = grown > cap ? realloc(buf, grown) : NULL;
			if (!nb) {
				rc = cvm_error_set(err, -ENOMEM, "%s: out of memory", path);
				break;
			}
			buf = nb;
			cap = grown;
		}
		ssize_t n = read_retry(fd, buf + len, cap - len);
		if (n < 0)
			rc = read_error(path, errno, err);
		else if (n == 0)
			break;
		else
			len += (size_t)n;
	}
	if (!rc && (uint64_t)len > max)
		rc = too_large(path, max, err);
	if (!rc)
		rc = input_unchanged(fd, path, &st, len, err);
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	out->data = buf;
	out->size = len;
	return 0;
}

int cvm_file_open(const char *path, struct cvm_file *out, struct cvm_error *err)
{
	return cvm_file_read(path, CVM_FILE_MAX, out, err);
}

void cvm_file_close(struct cvm_file *f)
{
	if (!f || !f->data)
		return;
	free((void *)(uintptr_t)f->data);
	f->data = NULL;
	f->size = 0;
}

#define STREAM_PIECE (1u << 20)

/* path read once, in 1 MiB pieces handed to fn in order (valid only during the call). */
typedef int (*piece_fn)(void *ctx, const uint8_t *piece, size_t len, struct cvm_error *err);

static int stream_read(const char *path, uint64_t max, piece_fn fn, void *ctx,
		       const struct cvm_progress *progress, const char *label, uint64_t *size,
		       struct cvm_error *err)
{
	int fd;
	struct stat st;
	int rc = input_open(path, max, &fd, &st, err);
	if (rc)
		return rc;
	uint64_t total = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0, done = 0;
	if (S_ISREG(st.st_mode))
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL); /* a hint: read ahead more */
	uint8_t *buf = malloc(STREAM_PIECE);
	if (!buf)
		rc = cvm_error_set(err, -ENOMEM, "%s: out of memory", path);
	/* The progress is reported every 8 MiB and at the end. */
	uint64_t next_report = 8u << 20;
	while (!rc) {
		ssize_t n = read_retry(fd, buf, STREAM_PIECE);
		if (n < 0) {
			rc = read_error(path, errno, err);
			break;
		}
		if (n == 0)
			break;
		if ((uint64_t)n > max - done) {
			rc = too_large(path, max, err);
			break;
		}
		done += (uint64_t)n;
		if ((rc = fn(ctx, buf, (size_t)n, err)))
			break;
		if (label && done >= next_report && done != total) {
			cvm_progress_report(progress, label, done, total);
			next_report = done + (8u << 20);
		}
	}
	if (!rc)
		rc = input_unchanged(fd, path, &st, done, err);
	close(fd);
	free(buf);
	if (rc)
		return rc;
	if (label)
		cvm_progress_report(progress, label, done, done);
	*size = done;
	return 0;
}

struct stream_hash {
	const char *path;
	EVP_MD_CTX *c256, *c384;
	cvm_items_run run; /* NULL: both digests on this thread */
	void *runner;
	const uint8_t *piece; /* the piece being hashed, for hash_item */
	size_t len;
};

/* Item 0 the piece's SHA-256, item 1 its SHA-384. */
static int hash_item(void *ctx, size_t index, struct cvm_error *err)
{
	struct stream_hash *h = ctx;
	if (!EVP_DigestUpdate(index == 0 ? h->c256 : h->c384, h->piece, h->len))
		return cvm_error_set(err, -EIO, "%s: SHA-256/SHA-384 failed (OpenSSL)", h->path);
	return 0;
}

static int stream_hash_piece(void *ctx, const uint8_t *piece, size_t len, struct cvm_error *err)
{
	struct stream_hash *h = ctx;
	if (h->run && h->c256 && h->c384) {
		h->piece = piece;
		h->len = len;
		return h->run(h->runner, 2, hash_item, h, err);
	}
	if ((h->c256 && !EVP_DigestUpdate(h->c256, piece, len)) ||
	    (h->c384 && !EVP_DigestUpdate(h->c384, piece, len)))
		return cvm_error_set(err, -EIO, "%s: SHA-256/SHA-384 failed (OpenSSL)", h->path);
	return 0;
}

int cvm_hash_stream(const char *path, uint64_t max, unsigned algs,
		    const struct cvm_progress *progress, const char *label,
		    struct cvm_stream_digest *out, struct cvm_error *err)
{
	return cvm_hash_stream_on(path, max, algs, NULL, NULL, progress, label, out, err);
}

int cvm_hash_stream_on(const char *path, uint64_t max, unsigned algs, cvm_items_run run,
		       void *runner, const struct cvm_progress *progress, const char *label,
		       struct cvm_stream_digest *out, struct cvm_error *err)
{
	struct stream_hash h = {
		.path = path,
		.c256 = (algs & CVM_HASH_SHA256) ? EVP_MD_CTX_new() : NULL,
		.c384 = (algs & CVM_HASH_SHA384) ? EVP_MD_CTX_new() : NULL,
		.run = run,
		.runner = runner,
	};
	int rc = 0;
	if (((algs & CVM_HASH_SHA256) && !h.c256) || ((algs & CVM_HASH_SHA384) && !h.c384))
		rc = cvm_error_set(err, -ENOMEM, "%s: out of memory", path);
	else if ((h.c256 && !EVP_DigestInit_ex(h.c256, EVP_sha256(), NULL)) ||
		 (h.c384 && !EVP_DigestInit_ex(h.c384, EVP_sha384(), NULL)))
		rc = cvm_error_set(err, -EIO, "%s: SHA-256/SHA-384 failed (OpenSSL)", path);
	struct cvm_stream_digest d = {0};
	if (!rc)
		rc = stream_read(path, max, stream_hash_piece, &h, progress, label, &d.size, err);
	if (!rc && ((h.c256 && !EVP_DigestFinal_ex(h.c256, d.sha256, NULL)) ||
		    (h.c384 && !EVP_DigestFinal_ex(h.c384, d.sha384, NULL))))
		rc = cvm_error_set(err, -EIO, "%s: SHA-256/SHA-384 failed (OpenSSL)", path);
	EVP_MD_CTX_free(h.c256);
	EVP_MD_CTX_free(h.c384);
	if (rc)
		return rc;
	*out = d;
	return 0;
}

static int write_fully(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write through to a FIFO or character device (opened again, so it must still be one). */
static int write_through(const char *path, const void *data, size_t len, struct cvm_error *err)
{
	int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return cvm_error_set(err, -errno, "%s: %s", path, strerror(errno));
	struct stat st;
	int rc = fstat(fd, &st) < 0 ? -errno : 0;
	if (!rc && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
		close(fd);
		return cvm_error_set(err, -EAGAIN, "%s: changed while it was opened; not written",
				     path);
	}
	if (!rc)
		rc = write_fully(fd, data, len);
	if (close(fd) < 0 && !rc)
		rc = -errno;
	return rc ? cvm_error_set(err, rc, "%s: write failed: %s", path, strerror(-rc)) : 0;
}

/*
 * Write a new file at path through a temporary file in the same folder, then rename it over
 * path.  old (NULL: there is no file yet) is the regular file being replaced: its mode and
 * owner are kept, and a failure to keep them leaves it untouched.
 */
static int replace_file(const char *path, const struct stat *old, const void *data, size_t len,
			struct cvm_error *err)
{
	char *dir = cvm_dirname(path);
	size_t tlen = strlen(path) + 16;
	char *tmp = dir ? malloc(tlen) : NULL;
	if (!tmp) {
		free(dir);
		return cvm_error_set(err, -ENOMEM, "%s: out of memory", path);
	}
	snprintf(tmp, tlen, "%s.XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	int rc = 0;
	if (fd < 0) {
		rc = cvm_error_set(err, -errno, "%s: cannot create a file in %s: %s", path, dir,
				   strerror(errno));
		goto out;
	}
	const char *step = "write failed";
	rc = write_fully(fd, data, len);
	if (!rc && fchmod(fd, old ? old->st_mode & 07777 : 0644) < 0)
		rc = -errno, step = "cannot keep its mode";
	if (!rc && old && (old->st_uid != geteuid() || old->st_gid != getegid()) &&
	    fchown(fd, old->st_uid, old->st_gid) < 0)
		rc = -errno, step = "cannot keep its owner, so it was not replaced";
	if (!rc && fsync(fd) < 0)
		rc = -errno, step = "write failed";
	if (close(fd) < 0 && !rc)
		rc = -errno, step = "write failed";
	if (!rc && rename(tmp, path) < 0)
		rc = -errno, step = "write failed";
	if (rc) {
		unlink(tmp);
		cvm_error_set(err, rc, "%s: %s: %s", path, step, strerror(-rc));
		goto out;
	}
	/* Make the rename itself durable. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	free(tmp);
	free(dir);
	return rc;
}

static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file, FIFO or character device";
}

int cvm_file_write_atomic(const char *path, const void *data, size_t len, struct cvm_error *err)
{
	if (strcmp(path, "-") == 0) {
		int rc = write_fully(STDOUT_FILENO, data, len);
		return rc ? cvm_error_set(err, rc, "standard output: %s", strerror(-rc)) : 0;
	}
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return replace_file(path, NULL, data, len, err);
		return cvm_error_set(err, -errno, "%s: %s", path, strerror(errno));
	}
	bool link = S_ISLNK(st.st_mode);
	if (link && stat(path, &st) < 0)
		return cvm_error_set(err, -errno, "%s: a symbolic link that cannot be followed "
				     "(%s); not written", path, strerror(errno));
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
		return write_through(path, data, len, err);
	if (!S_ISREG(st.st_mode))
		return cvm_error_set(err, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL,
				     "%s: %s%s; not written", path, link ? "links to " : "is ",
				     file_kind(st.st_mode));
	if (st.st_nlink > 1)
		return cvm_error_set(err, -EMLINK, "%s: has %ju hard links, which replacing it "
				     "would split; not written", path, (uintmax_t)st.st_nlink);
	if (!link)
		return replace_file(path, &st, data, len, err);
	/* Replace the file the link names, next to it, and keep the link. */
	char *target = realpath(path, NULL);
	if (!target)
		return cvm_error_set(err, -errno, "%s: %s", path, strerror(errno));
	int rc = replace_file(target, &st, data, len, err);
	free(target);
	return rc;
}

int cvm_dir_create(const char *path, struct cvm_error *err)
{
	if (!path[0])
		return cvm_error_set(err, -EINVAL, "an empty folder name");
	char *p = strdup(path);
	if (!p)
		return cvm_error_set(err, -ENOMEM, "%s: out of memory", path);
	int rc = 0;
	/* Each prefix ending before a '/', then the whole path. */
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		struct stat st;
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			rc = cvm_error_set(err, -errno, "%s: cannot create folder %s: %s", path, p,
					   strerror(errno));
		else if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
			rc = cvm_error_set(err, -ENOTDIR, "%s: %s is not a folder", path, p);
		*s = saved;
		if (rc || saved == '\0')
			break;
	}
	free(p);
	return rc;
}

char *cvm_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

char *cvm_path_join(const char *dir, const char *rel)
{
	if (rel[0] == '/' || !dir || !dir[0] || strcmp(dir, ".") == 0)
		return strdup(rel);
	size_t n = strlen(dir) + strlen(rel) + 2;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s/%s", dir, rel);
	return out;
}

/* "a/./b" -> "a/b", "a//b" -> "a/b", "a/." -> "a" in place (".." is left: links may be in it). */
static void drop_dot_parts(char *p)
{
	char *w = p;
	for (const char *r = p; *r;) {
		if (r[0] == '/' && (r[1] == '/' || (r[1] == '.' && (r[2] == '/' || !r[2])))) {
			r += r[1] == '/' ? 1 : 2;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	if (w > p + 1 && w[-1] == '/')
		w[-1] = '\0';
	if (!p[0])
		strcpy(p, "/");
}

char *cvm_path_absolute(const char *path)
{
	char *out;
	if (path[0] == '/') {
		out = strdup(path);
	} else {
		char *cwd = getcwd(NULL, 0);
		if (!cwd)
			return NULL;
		out = cvm_path_join(cwd, path);
		free(cwd);
	}
	if (out)
		drop_dot_parts(out);
	return out;
}
