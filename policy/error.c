/* SPDX-License-Identifier: Apache-2.0 */
/* The error convention of include/cvmkit/error.h.  It sits in policy/, the lowest layer. */
#include <cvmkit/error.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cvm_error_clear(struct cvm_error *err)
{
	if (err) {
		err->code = 0;
		err->has_fw_status = false;
		err->fw_status = 0;
		err->msg[0] = '\0';
	}
}

int cvm_error_set(struct cvm_error *err, int code, const char *fmt, ...)
{
	if (code >= 0)
		code = -EINVAL;
	if (!err)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->code = code;
	err->has_fw_status = false;
	err->fw_status = 0;
	return code;
}

void cvm_error_set_fw(struct cvm_error *err, uint64_t fw_status)
{
	if (!err)
		return;
	err->has_fw_status = true;
	err->fw_status = fw_status;
	/* Appended now: later wraps only prefix, so the status stays at the end of the line. */
	size_t len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, " (firmware status 0x%llx)",
		 (unsigned long long)fw_status);
}

int cvm_error_wrap(struct cvm_error *err, const char *fmt, ...)
{
	if (!err)
		return -EINVAL;
	char prefix[CVM_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (n < 0)
		return err->code;
	/* Shift the old message right and put "prefix: " in front, truncating at the end. */
	size_t cap = sizeof(err->msg), plen = (size_t)n < cap - 3 ? (size_t)n : cap - 3;
	size_t mlen = strnlen(err->msg, cap - 1);
	if (mlen > cap - 1 - (plen + 2))
		mlen = cap - 1 - (plen + 2);
	memmove(err->msg + plen + 2, err->msg, mlen);
	err->msg[plen + 2 + mlen] = '\0';
	memcpy(err->msg, prefix, plen);
	err->msg[plen] = ':';
	err->msg[plen + 1] = ' ';
	if (err->code == 0)
		err->code = -EINVAL;
	return err->code;
}

const char *cvm_error_message(const struct cvm_error *err)
{
	return err ? err->msg : "";
}

const char *cvm_errno_name(int code)
{
	static const struct {
		int code;
		const char *name;
	} names[] = {
		{EPERM, "EPERM"},   {ENOENT, "ENOENT"}, {EINTR, "EINTR"},   {EIO, "EIO"},
		{E2BIG, "E2BIG"},   {EBADF, "EBADF"},   {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"},
		{EACCES, "EACCES"}, {EFAULT, "EFAULT"}, {EBUSY, "EBUSY"},   {EEXIST, "EEXIST"},
		{ENODEV, "ENODEV"}, {EINVAL, "EINVAL"}, {ENOSPC, "ENOSPC"}, {ERANGE, "ERANGE"},
		{ENOTTY, "ENOTTY"}, {ENOSYS, "ENOSYS"}, {EOPNOTSUPP, "EOPNOTSUPP"},
		{EOVERFLOW, "EOVERFLOW"}, {EBADMSG, "EBADMSG"}, {EPROTO, "EPROTO"},
		{ECANCELED, "ECANCELED"}, {ETIMEDOUT, "ETIMEDOUT"}, {EHWPOISON, "EHWPOISON"},
		{ENOEXEC, "ENOEXEC"}, {EISDIR, "EISDIR"}, {ENOTDIR, "ENOTDIR"},
	};
	if (code < 0)
		code = -code;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == code)
			return names[i].name;
	return "E?";
}
