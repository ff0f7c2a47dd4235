/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Firmware image reader: image checks, the OVMF footer GUID table and its small entries
 * (spec/snp-measurement.md section 2, spec/tdx-measurement.md section 1).  The SEV and TDVF
 * metadata are read by firmware_sev.c and firmware_tdvf.c.
 *
 * What fails the whole image (cvm_firmware_parse returns -EINVAL): an empty image, a size that
 * is not a multiple of 4096 or larger than 4 GiB, and a footer table that is malformed (footer
 * length below 18 or past the start of the image, an entry shorter than 18 bytes or running past
 * the start of the table, a duplicate GUID, stray bytes left at the start of the table).  A
 * missing footer GUID is not an error: the table is then empty and both metadata kinds are
 * CVM_FW_ABSENT.
 */
#include <cvmkit/firmware.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/policy.h>
#include <cvmkit/util.h>

#include "measure/firmware_internal.h"

/* On-disk (EFI mixed-endian) byte order: first three fields little-endian. */
const struct cvm_guid CVM_GUID_OVMF_TABLE_FOOTER = {{0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
						     0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d}};
const struct cvm_guid CVM_GUID_SEV_ES_RESET_BLOCK = {{0xde, 0x71, 0xf7, 0x00, 0x7e, 0x1a, 0xcb, 0x4f,
						      0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e}};
const struct cvm_guid CVM_GUID_SEV_HASH_TABLE = {{0x1f, 0x37, 0x55, 0x72, 0x3b, 0x3a, 0x04, 0x4b,
						  0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54}};
const struct cvm_guid CVM_GUID_SEV_SECRET_BLOCK = {{0x61, 0xb3, 0x2e, 0x4c, 0x9b, 0x7d, 0xc3, 0x4c,
						    0x80, 0x81, 0x12, 0x7c, 0x90, 0xd3, 0xd2, 0x94}};
const struct cvm_guid CVM_GUID_SEV_METADATA = {{0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47,
						0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc}};
const struct cvm_guid CVM_GUID_TDX_METADATA = {{0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47,
						0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2}};
const struct cvm_guid CVM_GUID_SVSM_INFO = {{0x12, 0xa6, 0x89, 0xa7, 0x97, 0x05, 0x4b, 0x4c,
					     0xa4, 0x9f, 0xcb, 0xb1, 0xfe, 0x9d, 0x1d, 0xdd}};

#define FW_RESET_AREA 0x20u /* reset vector jump etc., below 4 GiB, after the table */
#define FW_ENTRY_HDR 18u    /* u16 length + GUID */
#define FW_4GIB 0x100000000ull

static const struct {
	const struct cvm_guid *guid;
	const char *name;
} guid_names[] = {
	{&CVM_GUID_OVMF_TABLE_FOOTER, "OVMF table footer"},
	{&CVM_GUID_SEV_ES_RESET_BLOCK, "SEV-ES reset block"},
	{&CVM_GUID_SEV_HASH_TABLE, "SEV hash table"},
	{&CVM_GUID_SEV_SECRET_BLOCK, "SEV secret block"},
	{&CVM_GUID_SEV_METADATA, "SEV metadata"},
	{&CVM_GUID_TDX_METADATA, "TDX metadata"},
	{&CVM_GUID_SVSM_INFO, "SVSM info"},
};

static bool guid_equal(const struct cvm_guid *a, const struct cvm_guid *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

void cvm_guid_format(const struct cvm_guid *g, char out[37])
{
	const uint8_t *b = g->b;
	snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", cvm_le32(b),
		 cvm_le16(b + 4), cvm_le16(b + 6), b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

const char *cvm_guid_name(const struct cvm_guid *g)
{
	for (size_t i = 0; i < CVM_ARRAY_SIZE(guid_names); i++)
		if (guid_equal(g, guid_names[i].guid))
			return guid_names[i].name;
	return NULL;
}

const char *cvm_sev_section_type_name(uint32_t type)
{
	switch (type) {
	case CVM_SEV_SEC_MEM:
		return "SNP_SEC_MEM";
	case CVM_SEV_SECRETS:
		return "SNP_SECRETS";
	case CVM_SEV_CPUID:
		return "CPUID";
	case CVM_SEV_SVSM_CAA:
		return "SVSM_CAA";
	case CVM_SEV_KERNEL_HASHES:
		return "SNP_KERNEL_HASHES";
	default:
		return "UNKNOWN";
	}
}

const char *cvm_tdvf_section_type_name(uint32_t type)
{
	static const char *const names[] = {"BFV",     "CFV",          "TD_HOB",  "TempMem",  "PermMem",
					    "Payload", "PayloadParam", "TD_INFO", "TD_PARAMS"};
	return type < CVM_ARRAY_SIZE(names) ? names[type] : "UNKNOWN";
}

void cvm_fw_reason(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

void cvm_fw_note(char *buf, size_t n, const char *fmt, ...)
{
	size_t used = strnlen(buf, n);
	if (used + 1 >= n)
		return;
	if (used) {
		snprintf(buf + used, n - used, "; ");
		used = strnlen(buf, n);
		if (used + 1 >= n)
			return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, n - used, fmt, ap);
	va_end(ap);
}

#define FW_DESC_HDR 16u /* signature, length, version, count */

bool cvm_fw_read_descriptor(const struct cvm_firmware *fw, uint32_t off, const char *kind,
			    const char signature[4], uint32_t item_size, char *reason,
			    size_t reason_size, const uint8_t **items, uint32_t *count)
{
	if (off < FW_DESC_HDR || off > fw->size) {
		cvm_fw_reason(reason, reason_size,
			      "%s metadata offset 0x%x (from the end) is outside the image (0x%zx "
			      "bytes)",
			      kind, off, fw->size);
		return false;
	}
	size_t at = fw->size - off;
	const uint8_t *h = fw->data + at;
	uint32_t length = cvm_le32(h + 4), version = cvm_le32(h + 8), n = cvm_le32(h + 12);
	uint64_t expected = FW_DESC_HDR + (uint64_t)item_size * n;
	if (memcmp(h, signature, 4) != 0) {
		cvm_fw_reason(reason, reason_size,
			      "%s metadata at file offset 0x%zx: bad signature %02x %02x %02x %02x, "
			      "expected \"%.4s\"",
			      kind, at, h[0], h[1], h[2], h[3], signature);
		return false;
	}
	if (version != 1) {
		cvm_fw_reason(reason, reason_size, "%s metadata: version %u, expected 1", kind,
			      version);
		return false;
	}
	if (length != expected) {
		cvm_fw_reason(reason, reason_size,
			      "%s metadata: length %u does not match %u sections (expected 16 + "
			      "%u * %u = %llu)",
			      kind, length, n, item_size, n, (unsigned long long)expected);
		return false;
	}
	if (length > off) {
		cvm_fw_reason(reason, reason_size,
			      "%s metadata: %u sections (length %u) run past the end of the image",
			      kind, n, length);
		return false;
	}
	*items = h + FW_DESC_HDR;
	*count = n;
	return true;
}

static int range_cmp(const void *a, const void *b)
{
	const struct cvm_fw_range *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

bool cvm_fw_ranges_overlap(struct cvm_fw_range *r, size_t n, size_t *a, size_t *b)
{
	if (n < 2)
		return false;
	qsort(r, n, sizeof(*r), range_cmp);
	/* After sorting, some pair overlaps iff some range starts before the furthest end so far. */
	size_t far = 0;
	for (size_t i = 1; i < n; i++) {
		if (r[i].start < r[far].end) {
			*a = r[far].index < r[i].index ? r[far].index : r[i].index;
			*b = r[far].index < r[i].index ? r[i].index : r[far].index;
			return true;
		}
		if (r[i].end > r[far].end)
			far = i;
	}
	return false;
}

const struct cvm_fw_table_entry *cvm_firmware_find(const struct cvm_firmware *fw,
						   const struct cvm_guid *guid)
{
	if (!fw || !guid)
		return NULL;
	for (size_t i = 0; i < fw->ntable; i++)
		if (guid_equal(&fw->table[i].guid, guid))
			return &fw->table[i];
	return NULL;
}

static int check_image_size(size_t size, struct cvm_error *err)
{
	if (size == 0)
		return cvm_error_set(err, -EINVAL, "empty image");
	if (size % CVM_PAGE_SIZE)
		return cvm_error_set(err, -EINVAL,
				     "image size %zu (0x%zx) is not a multiple of 4096 bytes", size,
				     size);
	if ((uint64_t)size > FW_4GIB)
		return cvm_error_set(err, -EINVAL,
				     "image size 0x%zx is larger than the 4 GiB it must end at", size);
	return 0;
}

/*
 * Walk the table backwards from the footer (spec/snp-measurement.md 2.2).  The footer sits at
 * size - 0x20 - 18; its u16 length counts the whole table including the footer itself.
 */
static int parse_table(struct cvm_firmware *fw, struct cvm_error *err)
{
	const uint8_t *d = fw->data;
	size_t footer = fw->size - FW_RESET_AREA - FW_ENTRY_HDR;
	struct cvm_guid g;

	memcpy(g.b, d + footer + 2, sizeof(g.b));
	if (!guid_equal(&g, &CVM_GUID_OVMF_TABLE_FOOTER))
		return 0;

	uint16_t total = cvm_le16(d + footer);
	if (total < FW_ENTRY_HDR)
		return cvm_error_set(err, -EINVAL,
				     "OVMF table: footer length %u is smaller than its own 18 bytes",
				     total);
	size_t body_len = total - FW_ENTRY_HDR;
	if (body_len > footer)
		return cvm_error_set(err, -EINVAL,
				     "OVMF table: length 0x%x runs past the start of the image",
				     total);
	size_t start = footer - body_len;

	size_t cap = body_len / FW_ENTRY_HDR;
	if (cap) {
		fw->table = calloc(cap, sizeof(*fw->table));
		if (!fw->table)
			return cvm_error_set(err, -ENOMEM, "OVMF table: out of memory");
	}

	size_t pos = footer;
	char gs[37];
	while (pos - start >= FW_ENTRY_HDR) {
		uint16_t len = cvm_le16(d + pos - FW_ENTRY_HDR);
		memcpy(g.b, d + pos - 16, sizeof(g.b));
		cvm_guid_format(&g, gs);
		if (len < FW_ENTRY_HDR)
			return cvm_error_set(err, -EINVAL,
					     "OVMF table: entry %s at offset 0x%zx: length %u is "
					     "smaller than its 18-byte header",
					     gs, pos - FW_ENTRY_HDR, len);
		if (len > pos - start)
			return cvm_error_set(err, -EINVAL,
					     "OVMF table: entry %s at offset 0x%zx: length %u runs "
					     "past the start of the table (0x%zx bytes left)",
					     gs, pos - FW_ENTRY_HDR, len, pos - start);
		if (cvm_firmware_find(fw, &g) || guid_equal(&g, &CVM_GUID_OVMF_TABLE_FOOTER))
			return cvm_error_set(err, -EINVAL, "OVMF table: duplicate entry %s", gs);
		struct cvm_fw_table_entry *e = &fw->table[fw->ntable++];
		e->guid = g;
		e->offset = pos - len;
		e->data = d + pos - len;
		e->len = len - FW_ENTRY_HDR;
		pos -= len;
	}
	if (pos != start)
		return cvm_error_set(err, -EINVAL,
				     "OVMF table: %zu stray bytes at the start of the table (offset "
				     "0x%zx) do not form an entry",
				     pos - start, start);
	return 0;
}

/* The small fixed entries: reset block, secret block, hash-table location. */
static void decode_sev_entries(struct cvm_firmware *fw)
{
	const struct cvm_fw_table_entry *e;

	e = cvm_firmware_find(fw, &CVM_GUID_SEV_ES_RESET_BLOCK);
	if (e && e->len >= 4) {
		fw->has_reset_block = true;
		fw->ap_reset_eip = cvm_le32(e->data);
	}
	e = cvm_firmware_find(fw, &CVM_GUID_SEV_SECRET_BLOCK);
	if (e && e->len >= 8) {
		fw->has_secret_block = true;
		fw->secret_base = cvm_le32(e->data);
		fw->secret_size = cvm_le32(e->data + 4);
	}
	e = cvm_firmware_find(fw, &CVM_GUID_SEV_HASH_TABLE);
	if (e && e->len >= 8) {
		fw->has_hash_table = true;
		fw->hash_table_gpa = cvm_le32(e->data);
		fw->hash_table_size = cvm_le32(e->data + 4);
	}
}

/* The SHA-256 of an image, taken on a pool; its result is read under mu. */
struct cvm_fw_sha256_job {
	pthread_mutex_t mu;
	struct cvm_pool_batch *batch; /* NULL once finished */
	int rc;
	struct cvm_error err;
};

static int sha256_item(void *ctx, size_t index, struct cvm_error *err)
{
	(void)index;
	struct cvm_firmware *fw = ctx;
	return cvm_sha256(fw->data, fw->size, fw->sha256_value, err);
}

/* On pool when it has threads to spare, else here and now. */
static int sha256_start(struct cvm_firmware *fw, struct cvm_pool *pool, struct cvm_error *err)
{
	if (cvm_pool_threads(pool) < 2)
		return cvm_sha256(fw->data, fw->size, fw->sha256_value, err);
	struct cvm_fw_sha256_job *job = calloc(1, sizeof(*job));
	if (!job)
		return cvm_error_set(err, -ENOMEM, "firmware: out of memory");
	pthread_mutex_init(&job->mu, NULL);
	int rc = cvm_pool_start_one(pool, sha256_item, fw, &job->batch, err);
	if (rc) {
		pthread_mutex_destroy(&job->mu);
		free(job);
		return rc;
	}
	fw->sha256_job = job;
	return 0;
}

int cvm_firmware_sha256(const struct cvm_firmware *fw, uint8_t out[32], struct cvm_error *err)
{
	struct cvm_fw_sha256_job *job = fw->sha256_job;
	if (job) {
		pthread_mutex_lock(&job->mu);
		if (job->batch) {
			cvm_error_clear(&job->err);
			job->rc = cvm_pool_finish(job->batch, &job->err);
			job->batch = NULL;
		}
		int rc = job->rc;
		if (rc && err)
			*err = job->err;
		pthread_mutex_unlock(&job->mu);
		if (rc)
			return err ? cvm_error_wrap(err, "firmware SHA-256") : rc;
	}
	memcpy(out, fw->sha256_value, 32);
	return 0;
}

bool cvm_firmware_same_image(const struct cvm_firmware *a, const struct cvm_firmware *b)
{
	return a->size == b->size && memcmp(a->data, b->data, a->size) == 0;
}

int cvm_firmware_pin_check(const struct cvm_policy *policy, const struct cvm_firmware *fw,
			   struct cvm_error *err)
{
	uint8_t sha256[32];
	int rc = cvm_firmware_sha256(fw, sha256, err);
	return rc ? rc : cvm_policy_firmware_pin_check(policy, sha256, err);
}

static int firmware_parse_into(struct cvm_firmware *fw, struct cvm_pool *pool,
			       struct cvm_error *err)
{
	int rc = check_image_size(fw->size, err);
	if (rc)
		return rc;
	if ((rc = sha256_start(fw, pool, err)))
		return rc;
	fw->load_gpa = FW_4GIB - fw->size;
	rc = parse_table(fw, err);
	if (rc)
		return rc;
	decode_sev_entries(fw);
	if (cvm_fw_parse_sev(fw) || cvm_fw_parse_tdvf(fw))
		return cvm_error_set(err, -ENOMEM, "firmware metadata: out of memory");
	return 0;
}

int cvm_firmware_parse(const uint8_t *data, size_t size, struct cvm_firmware **out,
		       struct cvm_error *err)
{
	if (!data && size)
		return cvm_error_set(err, -EINVAL, "firmware: no data");
	struct cvm_firmware *fw = calloc(1, sizeof(*fw));
	if (!fw)
		return cvm_error_set(err, -ENOMEM, "firmware: out of memory");
	fw->data = data;
	fw->size = size;
	int rc = firmware_parse_into(fw, NULL, err);
	if (rc) {
		cvm_firmware_free(fw);
		return rc;
	}
	*out = fw;
	return 0;
}

int cvm_firmware_load(const char *path, struct cvm_firmware **out, struct cvm_error *err)
{
	return cvm_firmware_load_on(path, NULL, out, err);
}

int cvm_firmware_load_on(const char *path, struct cvm_pool *pool, struct cvm_firmware **out,
			 struct cvm_error *err)
{
	struct cvm_file file;
	int rc = cvm_file_read(path, CVM_FIRMWARE_MAX, &file, err);
	if (rc)
		return cvm_error_wrap(err, "firmware");
	struct cvm_firmware *fw = calloc(1, sizeof(*fw));
	char *p = strdup(path);
	if (!fw || !p) {
		free(fw);
		free(p);
		cvm_file_close(&file);
		return cvm_error_set(err, -ENOMEM, "firmware %s: out of memory", path);
	}
	fw->path = p;
	fw->file = file;
	fw->data = file.data;
	fw->size = file.size;
	rc = firmware_parse_into(fw, pool, err);
	if (rc) {
		cvm_firmware_free(fw);
		return cvm_error_wrap(err, "firmware %s", path);
	}
	*out = fw;
	return 0;
}

void cvm_firmware_free(struct cvm_firmware *fw)
{
	if (!fw)
		return;
	struct cvm_fw_sha256_job *job = fw->sha256_job;
	if (job) { /* a worker may still be reading the image */
		if (job->batch)
			cvm_pool_finish(job->batch, NULL);
		pthread_mutex_destroy(&job->mu);
		free(job);
	}
	free(fw->path);
	cvm_file_close(&fw->file);
	free(fw->table);
	free(fw->sev_sections);
	free(fw->tdx_sections);
	free(fw);
}
