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
	/* Wrapping "no error" still reports a failure: a wrap is never returned as success. */
	if (err->code == 0)
		err->code = -EINVAL;
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
	return err->code;
}

const char *cvm_error_message(const struct cvm_error *err)
{
	return err ? err->msg : "";
}

/* "E0" .. "E999", as constant strings: the names of numbers without an errno name. */
#define E10(p) "E" p "0", "E" p "1", "E" p "2", "E" p "3", "E" p "4", "E" p "5", "E" p "6", \
	       "E" p "7", "E" p "8", "E" p "9"
#define E100(h) E10(h "0"), E10(h "1"), E10(h "2"), E10(h "3"), E10(h "4"), E10(h "5"), \
		E10(h "6"), E10(h "7"), E10(h "8"), E10(h "9")
static const char *const numbered[1000] = {
	E10(""),  E10("1"), E10("2"), E10("3"), E10("4"), E10("5"), E10("6"), E10("7"),
	E10("8"), E10("9"), E100("1"), E100("2"), E100("3"), E100("4"), E100("5"), E100("6"),
	E100("7"), E100("8"), E100("9"),
};

const char *cvm_errno_name(int code)
{
	if (code < 0)
		code = -code;
	const char *name = code > 0 ? strerrorname_np(code) : NULL;
	if (name)
		return name;
	return code >= 0 && code < 1000 ? numbered[code] : "E?";
}
