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

/* A file is hashed as it is read (memory does not grow with its size); bytes as they are. */
static void hash_job_run(struct snp_hash_job *job)
{
	char label[96];
	bool labelled = job->progress && job->path;
	cvm_error_clear(&job->err);
	if (labelled) {
		const char *slash = strrchr(job->path, '/');
		snprintf(label, sizeof(label), "hashing %s", slash ? slash + 1 : job->path);
	}
	if (job->path) {
		struct cvm_stream_digest d;
		job->rc = cvm_hash_stream(job->path, CVM_BOOT_FILE_MAX, CVM_HASH_SHA256,
					  job->progress, labelled ? label : NULL, &d, &job->err);
		if (!job->rc) {
			memcpy(job->sha256, d.sha256, 32);
			job->size = d.size;
		}
	} else {
		job->rc = cvm_sha256(job->data, job->len, job->sha256, &job->err);
		job->size = job->len;
	}
	if (job->rc)
		cvm_error_wrap(&job->err, "%s", job->what);
}

static void *hash_job_thread(void *arg)
{
	hash_job_run(arg);
	return NULL;
}

void snp_hash_job_start(struct snp_hash_job *job)
{
	job->threaded = pthread_create(&job->thread, NULL, hash_job_thread, job) == 0;
	if (!job->threaded)
		hash_job_run(job);
}

int snp_hash_job_join(struct snp_hash_job *job, struct cvm_error *err)
{
	if (job->threaded) {
		pthread_join(job->thread, NULL);
		job->threaded = false;
	}
	if (job->rc && err)
		*err = job->err;
	return job->rc;
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

int cvm_snp_boot_hashes_compute(const struct cvm_policy *policy, struct cvm_snp_boot_hashes *out,
				bool *present, struct cvm_error *err)
{
	const char *kernel = policy->boot.kernel, *initrd = policy->boot.initrd;
	int rc = snp_check_boot_inputs(policy, err);
	if (rc)
		return rc;
	if (!kernel) {
		*present = false;
		return 0;
	}
	struct cvm_snp_boot_hashes h;
	struct snp_hash_job kjob = {.what = "kernel", .path = kernel};
	struct snp_hash_job ijob = {.what = "initrd", .path = initrd};
	if (initrd)
		snp_hash_job_start(&kjob);
	else
		hash_job_run(&kjob);
	if (initrd) {
		hash_job_run(&ijob);
		rc = snp_hash_job_join(&ijob, err);
	} else {
		rc = cvm_sha256("", 0, h.initrd, err);
	}
	int krc = snp_hash_job_join(&kjob, rc ? NULL : err);
	if (rc || krc)
		return rc ? rc : krc;
	memcpy(h.kernel, kjob.sha256, 32);
	if (initrd)
		memcpy(h.initrd, ijob.sha256, 32);
	if ((rc = snp_cmdline_sha256(policy->boot.cmdline, h.cmdline, err)))
		return rc;
	*out = h;
	*present = true;
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
