/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Measured direct boot: SHA-256 of kernel, initrd and command line, the SEV hashes table that
 * QEMU places in the firmware's kernel-hashes page, and the threaded file hashing behind them.
 * spec/snp-measurement.md 3.1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cvmkit/snp.h>
#include <cvmkit/util.h>

#include "sev/snp_priv.h"

/* GUIDs of the table and its entries, in on-disk (EFI) byte order. */
static const uint8_t guid_hash_table[16] = {0x06, 0xd6, 0x38, 0x94, 0x22, 0x4f, 0xc9, 0x4c,
					    0xb4, 0x79, 0xa7, 0x93, 0xd4, 0x11, 0xfd, 0x21};
static const uint8_t guid_cmdline[16] = {0xd8, 0x2d, 0xd0, 0x97, 0x20, 0xbd, 0x94, 0x4c,
					 0xaa, 0x78, 0xe7, 0x71, 0x4d, 0x36, 0xab, 0x2a};
static const uint8_t guid_initrd[16] = {0x31, 0xf7, 0xba, 0x44, 0x2f, 0x3a, 0xd7, 0x4b,
					0x9a, 0xf1, 0x41, 0xe2, 0x91, 0x69, 0x78, 0x1d};
static const uint8_t guid_kernel[16] = {0x37, 0x94, 0xe7, 0x4d, 0xd2, 0xab, 0x7f, 0x42,
					0xb8, 0x35, 0xd5, 0xb1, 0x72, 0xd2, 0x04, 0x5b};

#define HASHES_TABLE_LEN 0xA8
#define HASHES_ENTRY_LEN 0x32 /* GUID, u16 length, SHA-256 */

int snp_cmdline_sha256(const char *cmdline, uint8_t out[32], struct cvm_error *err)
{
	/* QEMU hashes the command line with its terminating NUL. */
	const char *s = cmdline ? cmdline : "";
	return cvm_sha256(s, strlen(s) + 1, out, err);
}

/* The SHA-256 of one boot file, hashed as it is read (memory does not grow with its size). */
struct hash_job {
	const char *what; /* "kernel", "initrd" (for messages) */
	const char *path;
	const struct cvm_progress *progress; /* optional: "hashing <file name>", per 8 MiB */
	uint8_t sha256[32];
	struct cvm_pool_batch *batch;
};

static int hash_item(void *ctx, size_t index, struct cvm_error *err)
{
	(void)index;
	struct hash_job *job = ctx;
	char label[96];
	const char *slash = strrchr(job->path, '/');
	snprintf(label, sizeof(label), "hashing %s", slash ? slash + 1 : job->path);
	struct cvm_stream_digest d;
	int rc = cvm_hash_stream(job->path, CVM_BOOT_FILE_MAX, CVM_HASH_SHA256, job->progress,
				 job->progress ? label : NULL, &d, err);
	if (rc)
		return cvm_error_wrap(err, "%s", job->what);
	memcpy(job->sha256, d.sha256, 32);
	return 0;
}

int snp_check_boot_inputs(const struct cvm_policy *policy, struct cvm_error *err)
{
	if (!policy->boot.kernel && (policy->boot.initrd || policy->boot.cmdline))
		return cvm_error_set(err, -EINVAL,
				     "boot: %s given without a kernel (the initrd and command line "
				     "are only measured with direct kernel boot)",
				     policy->boot.initrd ? "initrd" : "cmdline");
	return 0;
}

int cvm_snp_hash_inputs(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			struct cvm_pool *pool, const struct cvm_progress *progress,
			struct cvm_snp_input_hashes *out, struct cvm_error *err)
{
	int rc = snp_check_boot_inputs(policy, err);
	if (rc)
		return rc;
	struct cvm_snp_input_hashes h;
	memset(&h, 0, sizeof(h));
	struct hash_job jobs[2] = {
		{.what = "kernel", .path = policy->boot.kernel, .progress = progress},
		{.what = "initrd", .path = policy->boot.initrd, .progress = progress},
	};
	/* Queued first, so the pool's threads take the files while this one runs the chain. */
	for (size_t i = 0; !rc && i < 2; i++)
		if (jobs[i].path)
			rc = cvm_pool_start_one(pool, hash_item, &jobs[i], &jobs[i].batch, err);
	if (!rc && fw) {
		rc = cvm_snp_firmware_digest_ex(fw, pool, h.fw_digest, err);
		h.has_fw_digest = rc == 0;
	}
	for (size_t i = 0; i < 2; i++) {
		if (!jobs[i].batch)
			continue;
		struct cvm_error jerr;
		int jrc = cvm_pool_finish(jobs[i].batch, &jerr);
		if (!rc && jrc) {
			rc = jrc;
			if (err)
				*err = jerr;
		}
	}
	if (rc || !policy->boot.kernel) {
		if (!rc)
			*out = h;
		return rc;
	}
	h.direct_boot = true;
	memcpy(h.boot.kernel, jobs[0].sha256, 32);
	if (policy->boot.initrd)
		memcpy(h.boot.initrd, jobs[1].sha256, 32);
	else if ((rc = cvm_sha256("", 0, h.boot.initrd, err)))
		return rc;
	if ((rc = snp_cmdline_sha256(policy->boot.cmdline, h.boot.cmdline, err)))
		return rc;
	*out = h;
	return 0;
}

int cvm_snp_boot_hashes_compute(const struct cvm_policy *policy, struct cvm_snp_boot_hashes *out,
				bool *present, struct cvm_error *err)
{
	struct cvm_snp_input_hashes h;
	int rc = cvm_snp_hash_inputs(policy, NULL, NULL, NULL, &h, err);
	if (rc)
		return rc;
	*present = h.direct_boot;
	if (h.direct_boot)
		*out = h.boot;
	return 0;
}

int cvm_snp_boot_hashes_from_bytes(const uint8_t *kernel, size_t kernel_len, const uint8_t *initrd,
				   size_t initrd_len, const char *cmdline,
				   struct cvm_snp_boot_hashes *out, struct cvm_error *err)
{
	struct cvm_snp_boot_hashes h;
	int rc;
	if ((rc = cvm_sha256(kernel ? kernel : (const uint8_t *)"", kernel ? kernel_len : 0, h.kernel,
			 err)) ||
	    (rc = cvm_sha256(initrd ? initrd : (const uint8_t *)"", initrd ? initrd_len : 0, h.initrd,
			 err)) ||
	    (rc = snp_cmdline_sha256(cmdline, h.cmdline, err)))
		return rc;
	*out = h;
	return 0;
}

static uint8_t *put_entry(uint8_t *p, const uint8_t guid[16], const uint8_t hash[32])
{
	memcpy(p, guid, 16);
	cvm_put_le16(p + 16, HASHES_ENTRY_LEN);
	memcpy(p + 18, hash, 32);
	return p + HASHES_ENTRY_LEN;
}

void cvm_snp_hashes_table(const struct cvm_snp_boot_hashes *h,
			  uint8_t table[CVM_SNP_HASHES_TABLE_SIZE])
{
	memset(table, 0, CVM_SNP_HASHES_TABLE_SIZE);
	memcpy(table, guid_hash_table, 16);
	cvm_put_le16(table + 16, HASHES_TABLE_LEN);
	uint8_t *p = table + 18;
	p = put_entry(p, guid_cmdline, h->cmdline);
	p = put_entry(p, guid_initrd, h->initrd);
	put_entry(p, guid_kernel, h->kernel);
}
