/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error convention of cvmkit.
 *
 * Every fallible function returns 0 or a negative errno and, on failure, fills a caller-owned
 * struct cvm_error.  Callers add context as the error travels up, so the final message reads
 * outermost first:
 *
 *     launch: kvm-snp: op 0 (firmware gpa 0xffc00000): SNP_LAUNCH_UPDATE gpa 0xffc00000 (NORMAL):
 *     EIO (firmware status 0x7)
 *
 * (one line; tests/unit/test_launch.c checks this shape).
 *
 * The struct is plain data (no heap), so it can live on the stack and be reused after
 * cvm_error_clear().  Every function below accepts err == NULL and then only returns the code.
 */
#ifndef CVMKIT_ERROR_H
#define CVMKIT_ERROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

#define CVM_ERROR_MSG_MAX 1024

struct cvm_error {
	int code;              /* negative errno; 0 when no error is recorded */
	bool has_fw_status;    /* the hardware/firmware gave a status of its own */
	uint64_t fw_status;    /* SNP firmware error code, or TDX SEAMCALL status */
	char msg[CVM_ERROR_MSG_MAX];
};

void cvm_error_clear(struct cvm_error *err);

/* Record a new error (replacing any earlier one); returns code, which must be negative. */
int cvm_error_set(struct cvm_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record a hardware status beside the current error; it is printed at the end of the message. */
void cvm_error_set_fw(struct cvm_error *err, uint64_t fw_status);

/*
 * Prefix the current message with context ("ctx: old message") and return the stored code,
 * err->code.  An err holding no error gets -EINVAL first, so a wrap never reads as success;
 * with err NULL the result is -EINVAL.
 */
int cvm_error_wrap(struct cvm_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The full message, including the firmware status if one was recorded.  Owned by err. */
const char *cvm_error_message(const struct cvm_error *err);

/*
 * "EINVAL", "EMFILE", ... for a negative or positive errno; "E<n>" for a number below 1000
 * without a name (such as the kernel-internal 524), "E?" beyond.  A constant string.
 */
const char *cvm_errno_name(int code);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
