/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by every module: little-endian access, a bounded cursor for untrusted bytes,
 * hex, capped whole-file reading and hashing, and atomic file writes.  Installed with the other headers because
 * public structs (struct cvm_firmware, struct cvm_launch_inputs) embed struct cvm_file.
 */
#ifndef CVMKIT_UTIL_H
#define CVMKIT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

#define CVM_PAGE_SIZE 4096u
#define CVM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline uint16_t cvm_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t cvm_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t cvm_le64(const uint8_t *p)
{
	return (uint64_t)cvm_le32(p) | (uint64_t)cvm_le32(p + 4) << 32;
}

static inline void cvm_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void cvm_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void cvm_put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * A bounded read cursor over untrusted bytes.  Reads never go past len; a failed read leaves the
 * cursor where it was and returns false.  The cursor borrows buf.
 */
struct cvm_cursor {
	const uint8_t *buf;
	size_t len;
	size_t off;
};

static inline struct cvm_cursor cvm_cursor_make(const void *buf, size_t len)
{
	struct cvm_cursor c = {(const uint8_t *)buf, len, 0};
	return c;
}

static inline size_t cvm_cursor_left(const struct cvm_cursor *c)
{
	return c->len - c->off;
}

bool cvm_cursor_bytes(struct cvm_cursor *c, size_t n, const uint8_t **out);
bool cvm_cursor_copy(struct cvm_cursor *c, void *out, size_t n);
bool cvm_cursor_skip(struct cvm_cursor *c, size_t n);
bool cvm_cursor_u8(struct cvm_cursor *c, uint8_t *out);
bool cvm_cursor_u16(struct cvm_cursor *c, uint16_t *out);
bool cvm_cursor_u32(struct cvm_cursor *c, uint32_t *out);
bool cvm_cursor_u64(struct cvm_cursor *c, uint64_t *out);

/* True when [off, off + len) lies inside [0, total), without overflow. */
static inline bool cvm_range_ok(uint64_t off, uint64_t len, uint64_t total)
{
	return off <= total && len <= total - off;
}

/* The value of one hex digit (either case), or -1 when ch is not one. */
int cvm_hex_digit(char ch);

/* Lower-case hex of n bytes into out, which must hold 2n + 1 bytes. */
void cvm_hex_encode(const uint8_t *in, size_t n, char *out);

/*
 * Decode exactly n bytes of hex ("0x" prefix allowed, either case) into out.  Returns 0, or
 * -EINVAL if the text is not exactly 2n hex digits.
 */
int cvm_hex_decode(const char *hex, uint8_t *out, size_t n);

/* SHA-256 of len bytes (OpenSSL).  0, or -EIO with err filled. */
int cvm_sha256(const void *data, size_t len, uint8_t out[32], struct cvm_error *err);

/* The same as 64 lower-case hex digits and a NUL. */
int cvm_sha256_hex(const void *data, size_t len, char out[65], struct cvm_error *err);

/* Base64 (RFC 4648, with padding, no line breaks) as a malloc'd string; NULL when out of memory. */
char *cvm_base64_encode(const void *data, size_t len);

/*
 * Base64 text (RFC 4648 standard or URL-safe alphabet, padded or not, nothing else) decoded
 * into a new buffer the caller frees.  -EINVAL for any other text, -ENOMEM.
 */
int cvm_base64_decode(const char *text, size_t len, uint8_t **out, size_t *out_len);

/* Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
bool cvm_utf8_valid(const uint8_t *s, size_t len);

/* Constant-time equality of two byte strings of the same length. */
bool cvm_memeq_ct(const void *a, const void *b, size_t n);

/*
 * Inputs are read once, with read(2), into memory the process owns, and capped while they are
 * read (docs/limits.md "Inputs"): what is checked (a pin, a hash) is what is used, whatever
 * happens to the file afterwards.  Regular files, FIFOs and character/block devices are read
 * alike; directories and sockets are refused.  A regular file larger than the cap is refused
 * before it is read; anything else is read up to the cap and refused (-EFBIG) past it.  A
 * regular file whose size or modification time changed while it was read is refused (-EIO).
 */
#define CVM_FILE_MAX (64u << 20)     /* any input without a cap of its own */
#define CVM_FIRMWARE_MAX (64u << 20) /* firmware images */
/* Kernel and initrd: QEMU hands their sizes to the firmware in 32-bit fw_cfg items. */
#define CVM_BOOT_FILE_MAX 0xffffffffull

/* A whole file in memory; data is owned by the struct and freed by cvm_file_close(). */
struct cvm_file {
	const uint8_t *data;
	size_t size;
};

/* At most max bytes of path.  *out is written only on success; release it with
   cvm_file_close(). */
int cvm_file_read(const char *path, uint64_t max, struct cvm_file *out, struct cvm_error *err);
/* cvm_file_read with CVM_FILE_MAX. */
int cvm_file_open(const char *path, struct cvm_file *out, struct cvm_error *err);
void cvm_file_close(struct cvm_file *f);

/*
 * Hashing a file as it is read (for inputs too large to hold: kernel, initrd), in 1 MiB pieces,
 * with SHA-256 and/or SHA-384 in the same pass over each piece.  Caps and refusals as
 * cvm_file_read.  progress (optional) gets label every 8 MiB and at the end.  *out only on
 * success; memory use does not depend on the file's size.
 */
#define CVM_HASH_SHA256 1u
#define CVM_HASH_SHA384 2u

struct cvm_stream_digest {
	uint64_t size;      /* bytes read and hashed */
	uint8_t sha256[32]; /* when CVM_HASH_SHA256 was asked for */
	uint8_t sha384[48]; /* when CVM_HASH_SHA384 was asked for */
};

struct cvm_progress;
int cvm_hash_stream(const char *path, uint64_t max, unsigned algs,
		    const struct cvm_progress *progress, const char *label,
		    struct cvm_stream_digest *out, struct cvm_error *err);

/*
 * cvm_hash_stream with both digests of each piece taken side by side: when algs asks for both
 * and run is not NULL, each piece is hashed by run(runner, 2, fn, ctx, err), which must call
 * fn(ctx, 0, err) and fn(ctx, 1, err) (on any threads, in any order, each item on its own
 * error) and return the lower index's failure, if any (cvm_pool_run does, given a pool as
 * runner).  The file is still read once; the digests do not depend on run.
 */
typedef int (*cvm_item_fn)(void *ctx, size_t index, struct cvm_error *err);
typedef int (*cvm_items_run)(void *runner, size_t count, cvm_item_fn fn, void *ctx,
			     struct cvm_error *err);
int cvm_hash_stream_on(const char *path, uint64_t max, unsigned algs, cvm_items_run run,
		       void *runner, const struct cvm_progress *progress, const char *label,
		       struct cvm_stream_digest *out, struct cvm_error *err);

/*
 * Write data to path without damaging what it replaces (docs/limits.md):
 *   - "-" is standard output;
 *   - a missing file is created (mode 0644) through a temporary file in the same folder, fsync
 *     and rename, so a failure leaves nothing behind;
 *   - an existing regular file is replaced the same way, keeping its mode and owner (refused,
 *     and left untouched, when the owner cannot be kept or it has several hard links);
 *   - a FIFO or character device (a pipe, a terminal, /dev/null) is written through, not
 *     replaced;
 *   - a symbolic link is followed: its target is treated as above and the link stays; a link
 *     that cannot be followed is refused;
 *   - a directory, block device or socket is refused.
 */
int cvm_file_write_atomic(const char *path, const void *data, size_t len, struct cvm_error *err);

/*
 * Create the folder path and its missing parents (mode 0755 before the umask), like mkdir -p.
 * An existing folder is fine; an existing non-folder is -ENOTDIR.
 */
int cvm_dir_create(const char *path, struct cvm_error *err);

/* "a/b/c.json" -> "a/b"; "c.json" -> ".".  Returns a malloc'd string or NULL. */
char *cvm_dirname(const char *path);

/* Join dir and rel unless rel is absolute.  Returns a malloc'd string or NULL. */
char *cvm_path_join(const char *dir, const char *rel);

/*
 * path made absolute against the current folder, with "." parts and doubled slashes dropped
 * (".." and symbolic links are left as they are).  Returns a malloc'd string or NULL.
 */
char *cvm_path_absolute(const char *path);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
