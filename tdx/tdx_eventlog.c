/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CC event log reader: the SpecID event, the TCG_PCR_EVENT2 records, the end of the log in
 * a fixed-size area, the ACPI CCEL table, and the replay into the TDX RTMRs.  The decoding of
 * event data is in tdx_eventlog_decode.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <cvmkit/eventlog.h>
#include <cvmkit/tdx.h>
#include <cvmkit/util.h>

#include "tdx/eventlog_internal.h"

#define SPECID_SIGNATURE "Spec ID Event03" /* with its NUL: 16 bytes */
#define LEGACY_DIGEST 20                   /* the SHA-1 digest of the TCG_PCR_EVENT form */
#define ACPI_HEADER 36
#define CCEL_TABLE_SIZE 56

/* ---- names --------------------------------------------------------------------------------- */

static const struct {
	uint16_t id;
	uint16_t size;
	const char *name;
} algs[] = {
	{CVM_TCG_ALG_SHA1, 20, "SHA-1"},         {CVM_TCG_ALG_SHA256, 32, "SHA-256"},
	{CVM_TCG_ALG_SHA384, 48, "SHA-384"},     {CVM_TCG_ALG_SHA512, 64, "SHA-512"},
	{CVM_TCG_ALG_SM3_256, 32, "SM3"},        {CVM_TCG_ALG_SHA3_256, 32, "SHA3-256"},
	{CVM_TCG_ALG_SHA3_384, 48, "SHA3-384"},  {CVM_TCG_ALG_SHA3_512, 64, "SHA3-512"},
};

const char *cvm_tcg_alg_name(uint16_t alg)
{
	for (size_t i = 0; i < CVM_ARRAY_SIZE(algs); i++)
		if (algs[i].id == alg)
			return algs[i].name;
	return NULL;
}

size_t cvm_tcg_alg_digest_size(uint16_t alg)
{
	for (size_t i = 0; i < CVM_ARRAY_SIZE(algs); i++)
		if (algs[i].id == alg)
			return algs[i].size;
	return 0;
}

static const struct {
	uint32_t type;
	const char *name;
} types[] = {
	{CVM_EV_PREBOOT_CERT, "EV_PREBOOT_CERT"},
	{CVM_EV_POST_CODE, "EV_POST_CODE"},
	{CVM_EV_UNUSED, "EV_UNUSED"},
	{CVM_EV_NO_ACTION, "EV_NO_ACTION"},
	{CVM_EV_SEPARATOR, "EV_SEPARATOR"},
	{CVM_EV_ACTION, "EV_ACTION"},
	{CVM_EV_EVENT_TAG, "EV_EVENT_TAG"},
	{CVM_EV_S_CRTM_CONTENTS, "EV_S_CRTM_CONTENTS"},
	{CVM_EV_S_CRTM_VERSION, "EV_S_CRTM_VERSION"},
	{CVM_EV_CPU_MICROCODE, "EV_CPU_MICROCODE"},
	{CVM_EV_PLATFORM_CONFIG_FLAGS, "EV_PLATFORM_CONFIG_FLAGS"},
	{CVM_EV_TABLE_OF_DEVICES, "EV_TABLE_OF_DEVICES"},
	{CVM_EV_COMPACT_HASH, "EV_COMPACT_HASH"},
	{CVM_EV_IPL, "EV_IPL"},
	{CVM_EV_IPL_PARTITION_DATA, "EV_IPL_PARTITION_DATA"},
	{CVM_EV_NONHOST_CODE, "EV_NONHOST_CODE"},
	{CVM_EV_NONHOST_CONFIG, "EV_NONHOST_CONFIG"},
	{CVM_EV_NONHOST_INFO, "EV_NONHOST_INFO"},
	{CVM_EV_OMIT_BOOT_DEVICE_EVENTS, "EV_OMIT_BOOT_DEVICE_EVENTS"},
	{CVM_EV_EFI_EVENT_BASE, "EV_EFI_EVENT_BASE"},
	{CVM_EV_EFI_VARIABLE_DRIVER_CONFIG, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
	{CVM_EV_EFI_VARIABLE_BOOT, "EV_EFI_VARIABLE_BOOT"},
	{CVM_EV_EFI_BOOT_SERVICES_APPLICATION, "EV_EFI_BOOT_SERVICES_APPLICATION"},
	{CVM_EV_EFI_BOOT_SERVICES_DRIVER, "EV_EFI_BOOT_SERVICES_DRIVER"},
	{CVM_EV_EFI_RUNTIME_SERVICES_DRIVER, "EV_EFI_RUNTIME_SERVICES_DRIVER"},
	{CVM_EV_EFI_GPT_EVENT, "EV_EFI_GPT_EVENT"},
	{CVM_EV_EFI_ACTION, "EV_EFI_ACTION"},
	{CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB, "EV_EFI_PLATFORM_FIRMWARE_BLOB"},
	{CVM_EV_EFI_HANDOFF_TABLES, "EV_EFI_HANDOFF_TABLES"},
	{CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB2, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"},
	{CVM_EV_EFI_HANDOFF_TABLES2, "EV_EFI_HANDOFF_TABLES2"},
	{CVM_EV_EFI_VARIABLE_BOOT2, "EV_EFI_VARIABLE_BOOT2"},
	{CVM_EV_EFI_HCRTM_EVENT, "EV_EFI_HCRTM_EVENT"},
	{CVM_EV_EFI_VARIABLE_AUTHORITY, "EV_EFI_VARIABLE_AUTHORITY"},
	{CVM_EV_EFI_SPDM_FIRMWARE_BLOB, "EV_EFI_SPDM_FIRMWARE_BLOB"},
	{CVM_EV_EFI_SPDM_FIRMWARE_CONFIG, "EV_EFI_SPDM_FIRMWARE_CONFIG"},
	{CVM_EV_EFI_SPDM_DEVICE_POLICY, "EV_EFI_SPDM_DEVICE_POLICY"},
	{CVM_EV_EFI_SPDM_DEVICE_AUTHORITY, "EV_EFI_SPDM_DEVICE_AUTHORITY"},
};

const char *cvm_eventlog_type_name(uint32_t type)
{
	for (size_t i = 0; i < CVM_ARRAY_SIZE(types); i++)
		if (types[i].type == type)
			return types[i].name;
	return NULL;
}

const char *cvm_eventlog_mr_name(uint32_t mr_index)
{
	static const char *const names[] = {"MRTD", "RTMR0", "RTMR1", "RTMR2", "RTMR3"};
	return mr_index < CVM_ARRAY_SIZE(names) ? names[mr_index] : NULL;
}

const char *cvm_ccel_cc_type_name(uint8_t cc_type)
{
	return cc_type == 1 ? "SEV" : cc_type == 2 ? "TDX" : NULL;
}

/* "EV_IPL (0xd)" or "type 0x1234" for messages. */
static void type_label(uint32_t type, char *buf, size_t n)
{
	const char *name = cvm_eventlog_type_name(type);
	if (name)
		snprintf(buf, n, "%s (0x%x)", name, type);
	else
		snprintf(buf, n, "type 0x%x", type);
}

/* ---- the SpecID event ---------------------------------------------------------------------- */

static int specid_error(struct cvm_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int specid_error(struct cvm_error *err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cvm_error_set(err, -EINVAL, "eventlog: SpecID event at offset 0x0: %s", msg);
}

static int read_algorithms(struct cvm_cursor *c, struct cvm_eventlog_specid *sid,
			   struct cvm_error *err)
{
	uint32_t n;
	if (!cvm_cursor_u32(c, &n))
		return specid_error(err, "too short for its number of algorithms");
	if (n == 0 || n > CVM_EVENTLOG_MAX_ALGS)
		return specid_error(err, "%u algorithms (a log has 1 to %d)", n,
				    CVM_EVENTLOG_MAX_ALGS);
	for (uint32_t i = 0; i < n; i++) {
		struct cvm_eventlog_alg *a = &sid->algs[i];
		if (!cvm_cursor_u16(c, &a->id) || !cvm_cursor_u16(c, &a->digest_size))
			return specid_error(err, "too short for algorithm %u of %u", i + 1, n);
		size_t known = cvm_tcg_alg_digest_size(a->id);
		const char *name = cvm_tcg_alg_name(a->id);
		if (known && a->digest_size != known)
			return specid_error(err, "%s digest size %u (it is %zu)", name,
					    a->digest_size, known);
		if (a->digest_size == 0 || a->digest_size > CVM_EVENTLOG_MAX_DIGEST)
			return specid_error(err, "algorithm 0x%04x digest size %u (1 to %d)", a->id,
					    a->digest_size, CVM_EVENTLOG_MAX_DIGEST);
		for (uint32_t j = 0; j < i; j++)
			if (sid->algs[j].id == a->id)
				return specid_error(err, "algorithm 0x%04x is listed twice", a->id);
	}
	sid->nalgs = n;
	return 0;
}

/* The first event: TCG_PCR_EVENT (SHA-1 form) holding TCG_EfiSpecIDEventStruct. */
static int read_specid(struct cvm_cursor *c, struct cvm_eventlog_specid *sid,
		       struct cvm_error *err)
{
	uint32_t type, size;
	const uint8_t *data;
	if (!cvm_cursor_u32(c, &sid->mr_index) || !cvm_cursor_u32(c, &type) ||
	    !cvm_cursor_skip(c, LEGACY_DIGEST) || !cvm_cursor_u32(c, &size))
		return specid_error(err, "the log has %zu bytes, short of the 32-byte header",
				    c->len);
	if (type != CVM_EV_NO_ACTION) {
		char label[64];
		type_label(type, label, sizeof(label));
		return specid_error(err, "the first event is %s, not EV_NO_ACTION: not a TCG "
				    "event log", label);
	}
	if (!cvm_cursor_bytes(c, size, &data))
		return specid_error(err, "its %u bytes run past the end of the log (%zu left)", size,
				    cvm_cursor_left(c));
	if (size < 16 || memcmp(data, SPECID_SIGNATURE, 16)) {
		if (size >= 16 && !memcmp(data, "Spec ID Event0", 14))
			return cvm_error_set(err, -ENOTSUP, "eventlog: signature \"%.15s\": a SHA-1 "
					     "(TCG 1.2) log, not the crypto-agile format", data);
		return specid_error(err, "no \"" SPECID_SIGNATURE "\" signature");
	}
	struct cvm_cursor s = cvm_cursor_make(data, size);
	cvm_cursor_skip(&s, 16);
	if (!cvm_cursor_u32(&s, &sid->platform_class) || !cvm_cursor_u8(&s, &sid->version_minor) ||
	    !cvm_cursor_u8(&s, &sid->version_major) || !cvm_cursor_u8(&s, &sid->errata) ||
	    !cvm_cursor_u8(&s, &sid->uintn_size))
		return specid_error(err, "%u bytes, too short for its fields", size);
	int rc = read_algorithms(&s, sid, err);
	if (rc)
		return rc;
	if (!cvm_cursor_u8(&s, &sid->vendor_info_len) ||
	    !cvm_cursor_bytes(&s, sid->vendor_info_len, &sid->vendor_info))
		return specid_error(err, "the vendor information runs past its %u bytes", size);
	if (cvm_cursor_left(&s))
		return specid_error(err, "%zu byte%s after the vendor information", cvm_cursor_left(&s),
				    cvm_cursor_left(&s) == 1 ? "" : "s");
	return 0;
}

/* ---- TCG_PCR_EVENT2 records ---------------------------------------------------------------- */

static const struct cvm_eventlog_alg *specid_alg(const struct cvm_eventlog_specid *sid,
						 uint16_t id)
{
	for (size_t i = 0; i < sid->nalgs; i++)
		if (sid->algs[i].id == id)
			return &sid->algs[i];
	return NULL;
}

static int event_error(struct cvm_error *err, size_t number, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int event_error(struct cvm_error *err, size_t number, size_t off, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cvm_error_set(err, -EINVAL, "eventlog: event %zu at offset 0x%zx: %s", number, off,
			     msg);
}

static int read_digests(struct cvm_cursor *c, const struct cvm_eventlog_specid *sid,
			size_t number, size_t start, struct cvm_eventlog_event *ev,
			struct cvm_error *err)
{
	uint32_t count;
	if (!cvm_cursor_u32(c, &count))
		return event_error(err, number, start, "the log ends inside its header");
	if (count != sid->nalgs)
		return event_error(err, number, start, "%u digests, but the SpecID header announces "
				   "%zu algorithm%s", count, sid->nalgs, sid->nalgs == 1 ? "" : "s");
	for (uint32_t i = 0; i < count; i++) {
		uint16_t id;
		const uint8_t *value;
		if (!cvm_cursor_u16(c, &id))
			return event_error(err, number, start, "the log ends inside digest %u", i + 1);
		const struct cvm_eventlog_alg *a = specid_alg(sid, id);
		if (!a)
			return event_error(err, number, start, "digest %u has algorithm 0x%04x, which "
					   "the SpecID header does not announce", i + 1, id);
		for (uint32_t j = 0; j < i; j++)
			if (ev->digests[j].alg == id)
				return event_error(err, number, start, "two digests of algorithm "
						   "0x%04x", id);
		if (!cvm_cursor_bytes(c, a->digest_size, &value))
			return event_error(err, number, start, "the log ends inside digest %u", i + 1);
		ev->digests[i] = (struct cvm_eventlog_digest){id, a->digest_size, value};
	}
	ev->ndigests = count;
	return 0;
}

static int read_event(struct cvm_cursor *c, const struct cvm_eventlog_specid *sid, size_t number,
		      struct cvm_eventlog_event *ev, struct cvm_error *err)
{
	size_t start = c->off;
	memset(ev, 0, sizeof(*ev));
	ev->offset = start;
	if (!cvm_cursor_u32(c, &ev->mr_index) || !cvm_cursor_u32(c, &ev->type))
		return event_error(err, number, start, "the log ends inside its header (%zu bytes "
				   "left)", c->len - start);
	int rc = read_digests(c, sid, number, start, ev, err);
	if (rc)
		return rc;
	if (!cvm_cursor_u32(c, &ev->data_len))
		return event_error(err, number, start, "the log ends before its data size");
	if (!cvm_cursor_bytes(c, ev->data_len, &ev->data))
		return event_error(err, number, start, "its %u data bytes run past the end of the "
				   "log (%zu bytes left)", ev->data_len, cvm_cursor_left(c));
	ev->size = c->off - start;
	return 0;
}

/*
 * Free space at the cursor: the end of the bytes, or (up to) 8 bytes all 0x00 or all 0xff.  No
 * event starts so: MR index and type 0xffffffff do not exist, and MR index 0 (MRTD) with
 * EV_PREBOOT_CERT is not a CC event.
 */
static bool at_free_space(const struct cvm_cursor *c, int *fill)
{
	size_t left = cvm_cursor_left(c), n = left < 8 ? left : 8;
	const uint8_t *p = c->buf + c->off;
	*fill = -1;
	if (left == 0)
		return true;
	if (p[0] != 0x00 && p[0] != 0xff)
		return false;
	for (size_t i = 1; i < n; i++)
		if (p[i] != p[0])
			return false;
	*fill = p[0];
	return true;
}

struct scan {
	struct cvm_eventlog_specid specid;
	size_t end;    /* offset of the free space */
	size_t count;  /* events after the SpecID event */
	int fill;
};

/* Walk the log: validate everything, and fill events[] when it is not NULL. */
static int scan_log(const uint8_t *buf, size_t len, struct scan *s,
		    struct cvm_eventlog_event *events, struct cvm_error *err)
{
	struct cvm_cursor c = cvm_cursor_make(buf, len);
	memset(s, 0, sizeof(*s));
	int rc = read_specid(&c, &s->specid, err);
	if (rc)
		return rc;
	struct cvm_eventlog_event scratch;
	while (!at_free_space(&c, &s->fill)) {
		if (s->count == CVM_EVENTLOG_MAX_EVENTS)
			return event_error(err, s->count, c.off, "more than %d events in one log",
					   CVM_EVENTLOG_MAX_EVENTS);
		rc = read_event(&c, &s->specid, s->count, events ? &events[s->count] : &scratch, err);
		if (rc)
			return rc;
		s->count++;
	}
	s->end = c.off;
	return 0;
}

/* ---- the log object ------------------------------------------------------------------------ */

static void warn(struct cvm_eventlog *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(struct cvm_eventlog *log, const char *fmt, ...)
{
	size_t used = strlen(log->warnings);
	if (used && used + 2 < sizeof(log->warnings))
		used += (size_t)snprintf(log->warnings + used, sizeof(log->warnings) - used, "; ");
	if (used + 1 >= sizeof(log->warnings))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(log->warnings + used, sizeof(log->warnings) - used, fmt, ap);
	va_end(ap);
}

void cvm_eventlog_free(struct cvm_eventlog *log)
{
	if (!log)
		return;
	if (log->arena) {
		cvm_el_arena_release(log->arena);
		free(log->arena);
	}
	free(log->events);
	free(log->bytes);
	free(log);
}

static void check_free_space(struct cvm_eventlog *log, const uint8_t *area, const struct scan *s)
{
	for (size_t i = s->end; i < log->area_len; i++)
		if (area[i] != (uint8_t)s->fill) {
			warn(log, "%zu bytes after the end of the log (offset 0x%zx) are not free "
			     "space: byte 0x%02x at offset 0x%zx", log->area_len - s->end, s->end,
			     area[i], i);
			return;
		}
}

/* The parse proper; log is the caller's zeroed object, freed by it on failure. */
static int parse_into(struct cvm_eventlog *log, const uint8_t *area, size_t len,
		      struct cvm_error *err)
{
	struct scan s;
	int rc = scan_log(area, len, &s, NULL, err);
	if (rc)
		return rc;
	log->area_len = len;
	log->len = s.end;
	log->free_len = len - s.end;
	log->fill = s.fill;
	check_free_space(log, area, &s);
	log->bytes = malloc(s.end);
	log->events = calloc(s.count ? s.count : 1, sizeof(*log->events));
	log->arena = calloc(1, sizeof(*log->arena));
	if (!log->bytes || !log->events || !log->arena)
		return cvm_error_set(err, -ENOMEM, "eventlog: out of memory");
	memcpy(log->bytes, area, s.end);
	/* the same walk over the copy, which the events then point into */
	rc = scan_log(log->bytes, s.end, &s, log->events, err);
	if (rc)
		return rc;
	log->specid = s.specid;
	log->nevents = s.count;
	for (size_t i = 0; i < log->nevents; i++)
		if (cvm_el_decode_event(log->arena, &log->events[i]))
			return cvm_error_set(err, -ENOMEM, "eventlog: out of memory");
	return 0;
}

static int parse_area(const uint8_t *area, size_t len, const struct cvm_ccel_table *ccel,
		      const char *pending_warning, struct cvm_eventlog **out, struct cvm_error *err)
{
	struct cvm_eventlog *log = calloc(1, sizeof(*log));
	if (!log)
		return cvm_error_set(err, -ENOMEM, "eventlog: out of memory");
	if (ccel) {
		log->has_ccel = true;
		log->ccel = *ccel;
	}
	if (pending_warning)
		warn(log, "%s", pending_warning);
	int rc = parse_into(log, area, len, err);
	if (rc) {
		cvm_eventlog_free(log);
		return rc;
	}
	*out = log;
	return 0;
}

int cvm_eventlog_parse(const uint8_t *area, size_t len, struct cvm_eventlog **out,
		       struct cvm_error *err)
{
	return parse_area(area, len, NULL, NULL, out, err);
}

/* ---- the ACPI CCEL table -------------------------------------------------------------------- */

static void acpi_string(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	out[n] = '\0';
}

int cvm_ccel_table_parse(const uint8_t *t, size_t len, struct cvm_ccel_table *out,
			 struct cvm_error *err)
{
	if (len < ACPI_HEADER)
		return cvm_error_set(err, -EINVAL, "CCEL table: %zu bytes, short of the 36-byte "
				     "ACPI header", len);
	bool ccel = !memcmp(t, "CCEL", 4), tdel = !memcmp(t, "TDEL", 4);
	if (!ccel && !tdel) {
		char sig[5];
		acpi_string(sig, t, 4);
		return cvm_error_set(err, -EINVAL, "CCEL table: signature \"%s\", not \"CCEL\" or "
				     "\"TDEL\"", sig);
	}
	uint32_t length = cvm_le32(t + 4);
	if (length < CCEL_TABLE_SIZE || length > len)
		return cvm_error_set(err, -EINVAL, "CCEL table: length field %u (the table has %zu "
				     "bytes and needs %d)", length, len, CCEL_TABLE_SIZE);
	uint8_t sum = 0;
	for (uint32_t i = 0; i < length; i++)
		sum = (uint8_t)(sum + t[i]);
	if (sum)
		return cvm_error_set(err, -EINVAL, "CCEL table: checksum mismatch (the bytes sum to "
				     "0x%02x, not 0)", sum);
	struct cvm_ccel_table c = {0};
	acpi_string(c.signature, t, 4);
	c.length = length;
	c.revision = t[8];
	acpi_string(c.oem_id, t + 10, 6);
	acpi_string(c.oem_table_id, t + 16, 8);
	if (ccel) {
		c.cc_type = t[36];
		c.cc_subtype = t[37];
	}
	c.laml = cvm_le64(t + 40);
	c.lasa = cvm_le64(t + 48);
	if (c.laml == 0)
		return cvm_error_set(err, -EINVAL, "CCEL table: the log area length is 0");
	*out = c;
	return 0;
}

int cvm_eventlog_parse_ccel(const uint8_t *table, size_t table_len, const uint8_t *data,
			    size_t data_len, struct cvm_eventlog **out, struct cvm_error *err)
{
	struct cvm_ccel_table t;
	int rc = cvm_ccel_table_parse(table, table_len, &t, err);
	if (rc)
		return rc;
	char note[160] = "";
	size_t len = data_len;
	if (data_len > t.laml) {
		len = (size_t)t.laml;
		snprintf(note, sizeof(note), "the data has %zu bytes; only the CCEL table's log area "
			 "(%" PRIu64 " bytes) is read", data_len, t.laml);
	} else if (data_len < t.laml) {
		snprintf(note, sizeof(note), "the data has %zu bytes, less than the CCEL table's log "
			 "area (%" PRIu64 " bytes)", data_len, t.laml);
	}
	if (!note[0] && t.cc_type != 2)
		snprintf(note, sizeof(note), "the CCEL table's CC type is %u (%s), not TDX",
			 t.cc_type, cvm_ccel_cc_type_name(t.cc_type) ? cvm_ccel_cc_type_name(t.cc_type)
								 : "unknown");
	return parse_area(data, len, &t, note[0] ? note : NULL, out, err);
}

static int load_with_table(const struct cvm_file *table, const char *table_path,
			   const struct cvm_file *data, const char *path, struct cvm_eventlog **out,
			   struct cvm_error *err)
{
	struct cvm_ccel_table t;
	if (cvm_ccel_table_parse(table->data, table->size, &t, err))
		return cvm_error_wrap(err, "%s", table_path);
	if (cvm_eventlog_parse_ccel(table->data, table->size, data->data, data->size, out, err))
		return cvm_error_wrap(err, "%s", path);
	return 0;
}

int cvm_eventlog_load(const char *path, const char *table_path, struct cvm_eventlog **out,
		      struct cvm_error *err)
{
	struct cvm_file data, table;
	int rc = cvm_file_open(path, &data, err);
	if (rc)
		return rc;
	if (table_path) {
		rc = cvm_file_open(table_path, &table, err);
		if (!rc) {
			rc = load_with_table(&table, table_path, &data, path, out, err);
			cvm_file_close(&table);
		}
	} else if ((rc = cvm_eventlog_parse(data.data, data.size, out, err))) {
		cvm_error_wrap(err, "%s", path);
	}
	cvm_file_close(&data);
	return rc;
}

/* ---- digests ------------------------------------------------------------------------------- */

const struct cvm_eventlog_digest *cvm_eventlog_event_digest(const struct cvm_eventlog_event *ev,
							    uint16_t alg)
{
	for (size_t i = 0; i < ev->ndigests; i++)
		if (ev->digests[i].alg == alg)
			return &ev->digests[i];
	return NULL;
}

static const EVP_MD *alg_md(uint16_t alg)
{
	switch (alg) {
	case CVM_TCG_ALG_SHA1:
		return EVP_sha1();
	case CVM_TCG_ALG_SHA256:
		return EVP_sha256();
	case CVM_TCG_ALG_SHA384:
		return EVP_sha384();
	case CVM_TCG_ALG_SHA512:
		return EVP_sha512();
#ifndef OPENSSL_NO_SM3
	case CVM_TCG_ALG_SM3_256:
		return EVP_sm3();
#endif
	case CVM_TCG_ALG_SHA3_256:
		return EVP_sha3_256();
	case CVM_TCG_ALG_SHA3_384:
		return EVP_sha3_384();
	case CVM_TCG_ALG_SHA3_512:
		return EVP_sha3_512();
	default:
		return NULL;
	}
}

int cvm_eventlog_event_digests_data(const struct cvm_eventlog_event *ev, bool *matches,
				    struct cvm_error *err)
{
	bool all = true;
	for (size_t i = 0; i < ev->ndigests; i++) {
		const struct cvm_eventlog_digest *d = &ev->digests[i];
		const EVP_MD *md = alg_md(d->alg);
		uint8_t h[EVP_MAX_MD_SIZE];
		unsigned int n = 0;
		if (!md)
			return cvm_error_set(err, -ENOTSUP, "eventlog: algorithm 0x%04x cannot be "
					     "computed here", d->alg);
		if (EVP_Digest(ev->data, ev->data_len, h, &n, md, NULL) != 1)
			return cvm_error_set(err, -ENOMEM, "eventlog: hashing failed");
		if (n != d->size || memcmp(h, d->value, n))
			all = false;
	}
	*matches = all;
	return 0;
}

/* ---- replay -------------------------------------------------------------------------------- */

void cvm_rtmr_replay_free(struct cvm_rtmr_replay *replay)
{
	if (!replay)
		return;
	free(replay->events);
	free(replay);
}

static int no_sha384(const struct cvm_eventlog *log, struct cvm_error *err)
{
	char list[128] = "";
	size_t used = 0;
	for (size_t i = 0; i < log->specid.nalgs && used < sizeof(list); i++) {
		const char *name = cvm_tcg_alg_name(log->specid.algs[i].id);
		if (name)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 i ? ", " : "", name);
		else
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s0x%04x",
						 i ? ", " : "", log->specid.algs[i].id);
	}
	return cvm_error_set(err, -ENOTSUP, "eventlog: the log has no SHA-384 digests (its "
			     "algorithms: %s), so it cannot be replayed into TDX RTMRs", list);
}

int cvm_eventlog_replay_tdx(const struct cvm_eventlog *log, struct cvm_rtmr_replay **out,
			    struct cvm_error *err)
{
	if (!specid_alg(&log->specid, CVM_TCG_ALG_SHA384))
		return no_sha384(log, err);
	struct cvm_rtmr_replay *r = calloc(1, sizeof(*r));
	if (r)
		r->events = calloc(log->nevents ? log->nevents : 1, sizeof(*r->events));
	if (!r || !r->events) {
		cvm_rtmr_replay_free(r);
		return cvm_error_set(err, -ENOMEM, "eventlog: out of memory");
	}
	for (size_t i = 0; i < log->nevents; i++) {
		const struct cvm_eventlog_event *ev = &log->events[i];
		struct cvm_rtmr_replay_event *re = &r->events[i];
		re->event = i;
		re->rtmr = -1;
		/* every event carries every announced algorithm (checked when parsing) */
		re->digest = cvm_eventlog_event_digest(ev, CVM_TCG_ALG_SHA384)->value;
		if (ev->type == CVM_EV_NO_ACTION)
			continue; /* informational: never extended */
		if (ev->mr_index < 1 || ev->mr_index > CVM_RTMR_COUNT) {
			cvm_rtmr_replay_free(r);
			return cvm_error_set(err, -EINVAL, "eventlog: event %zu at offset 0x%zx: MR "
					     "index %u is %s", i, ev->offset, ev->mr_index,
					     ev->mr_index == 0 ? "MRTD, which software cannot extend"
							       : "none of RTMR0..3 (1..4)");
		}
		int k = (int)ev->mr_index - 1;
		cvm_tdx_rtmr_extend(r->rtmr[k], re->digest);
		memcpy(re->value, r->rtmr[k], CVM_RTMR_SIZE);
		re->rtmr = k;
		r->extends[k]++;
	}
	r->nevents = log->nevents;
	*out = r;
	return 0;
}
