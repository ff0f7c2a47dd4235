/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The confidential-computing event log ("CCEL"): the TCG PC Client crypto-agile log that TDVF
 * (OVMF) and td-shim write for a TD, its decoded events, and its replay into RTMR0..3.
 *
 * Layout: the first event is the SpecID event in the SHA-1 TCG_PCR_EVENT form ("Spec ID
 * Event03", with the log's algorithms and their digest sizes); every later event is a
 * TCG_PCR_EVENT2 carrying one digest per announced algorithm.  The log lives in a fixed-size
 * area whose unused tail is fill (0xff from OVMF, 0x00 from td-shim); the first event boundary
 * that starts with 8 fill bytes ends the log.  Linux exposes the area as
 * /sys/firmware/acpi/tables/data/CCEL and the ACPI table that describes it as
 * /sys/firmware/acpi/tables/CCEL.
 *
 * Every length in the log is checked against the bytes that are really there and every count
 * is bounded; nothing is allocated in proportion to a number the log states, only to the size
 * of the input.  The decoded detail of an event is best effort: an event whose data does not
 * have its type's layout parses (its digests still replay) with a detail of kind
 * CVM_EVD_MALFORMED that says why.
 *
 * Ownership: a struct cvm_eventlog owns a copy of the log bytes and every string and array it
 * points to; all of it stays valid until cvm_eventlog_free().  A replay owns its event list.
 * Functions here are thread-safe on distinct objects; a parsed log is read-only and may be
 * shared between threads.
 */
#ifndef CVMKIT_EVENTLOG_H
#define CVMKIT_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/error.h>
#include <cvmkit/firmware.h> /* struct cvm_guid */

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

#define CVM_EVENTLOG_MAX_ALGS 8      /* algorithms a SpecID header may announce */
#define CVM_EVENTLOG_MAX_DIGEST 64   /* largest digest size accepted (SHA-512) */
#define CVM_EVENTLOG_MAX_EVENTS 65536 /* events in one log */
#define CVM_RTMR_COUNT 4
#define CVM_RTMR_SIZE 48

/* TCG algorithm identifiers (TPM_ALG_ID) seen in event logs. */
#define CVM_TCG_ALG_SHA1 0x0004
#define CVM_TCG_ALG_SHA256 0x000b
#define CVM_TCG_ALG_SHA384 0x000c
#define CVM_TCG_ALG_SHA512 0x000d
#define CVM_TCG_ALG_SM3_256 0x0012
#define CVM_TCG_ALG_SHA3_256 0x0027
#define CVM_TCG_ALG_SHA3_384 0x0028
#define CVM_TCG_ALG_SHA3_512 0x0029

/* "SHA-384", "SM3", ...; NULL for an algorithm this table does not know. */
const char *cvm_tcg_alg_name(uint16_t alg);
/* The digest size of a known algorithm, 0 for an unknown one. */
size_t cvm_tcg_alg_digest_size(uint16_t alg);

/* Event types of the TCG PC Client Platform Firmware Profile (and edk2's SPDM ones). */
#define CVM_EV_PREBOOT_CERT 0x00000000u
#define CVM_EV_POST_CODE 0x00000001u
#define CVM_EV_UNUSED 0x00000002u
#define CVM_EV_NO_ACTION 0x00000003u
#define CVM_EV_SEPARATOR 0x00000004u
#define CVM_EV_ACTION 0x00000005u
#define CVM_EV_EVENT_TAG 0x00000006u
#define CVM_EV_S_CRTM_CONTENTS 0x00000007u
#define CVM_EV_S_CRTM_VERSION 0x00000008u
#define CVM_EV_CPU_MICROCODE 0x00000009u
#define CVM_EV_PLATFORM_CONFIG_FLAGS 0x0000000au
#define CVM_EV_TABLE_OF_DEVICES 0x0000000bu
#define CVM_EV_COMPACT_HASH 0x0000000cu
#define CVM_EV_IPL 0x0000000du
#define CVM_EV_IPL_PARTITION_DATA 0x0000000eu
#define CVM_EV_NONHOST_CODE 0x0000000fu
#define CVM_EV_NONHOST_CONFIG 0x00000010u
#define CVM_EV_NONHOST_INFO 0x00000011u
#define CVM_EV_OMIT_BOOT_DEVICE_EVENTS 0x00000012u
#define CVM_EV_EFI_EVENT_BASE 0x80000000u
#define CVM_EV_EFI_VARIABLE_DRIVER_CONFIG 0x80000001u
#define CVM_EV_EFI_VARIABLE_BOOT 0x80000002u
#define CVM_EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define CVM_EV_EFI_BOOT_SERVICES_DRIVER 0x80000004u
#define CVM_EV_EFI_RUNTIME_SERVICES_DRIVER 0x80000005u
#define CVM_EV_EFI_GPT_EVENT 0x80000006u
#define CVM_EV_EFI_ACTION 0x80000007u
#define CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB 0x80000008u
#define CVM_EV_EFI_HANDOFF_TABLES 0x80000009u
#define CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB2 0x8000000au
#define CVM_EV_EFI_HANDOFF_TABLES2 0x8000000bu
#define CVM_EV_EFI_VARIABLE_BOOT2 0x8000000cu
#define CVM_EV_EFI_HCRTM_EVENT 0x80000010u
#define CVM_EV_EFI_VARIABLE_AUTHORITY 0x800000e0u
#define CVM_EV_EFI_SPDM_FIRMWARE_BLOB 0x800000e1u
#define CVM_EV_EFI_SPDM_FIRMWARE_CONFIG 0x800000e2u
#define CVM_EV_EFI_SPDM_DEVICE_POLICY 0x800000e3u
#define CVM_EV_EFI_SPDM_DEVICE_AUTHORITY 0x800000e4u

/* "EV_EFI_ACTION", ...; NULL for a type this table does not know. */
const char *cvm_eventlog_type_name(uint32_t type);

/* The register a CC MR index names: 0 "MRTD", 1 "RTMR0" .. 4 "RTMR3"; NULL for other values. */
const char *cvm_eventlog_mr_name(uint32_t mr_index);

/* ---- decoded event data ------------------------------------------------------------------ */

/* One node of a UEFI device path (UEFI spec, "Device Path Protocol"). */
struct cvm_devpath_node {
	uint8_t type, subtype;
	uint16_t data_len;     /* bytes after the 4-byte node header */
	const uint8_t *data;
	const char *text;      /* UEFI text form ("Pci(0x1,0x0)", "\EFI\BOOT\BOOTX64.EFI");
				* "Path(type,subtype,hex)" for nodes without a simple form */
};

/* A device path as nodes (the end node is not one of them; an end-of-instance node is ","). */
struct cvm_devpath {
	size_t nnodes;
	const struct cvm_devpath_node *nodes;
	const char *text;      /* the nodes' texts joined by '/' ("" for an empty path) */
};

enum cvm_event_detail_kind {
	CVM_EVD_NONE = 0,  /* nothing to decode, or binary data without a known layout */
	CVM_EVD_STRING,    /* text (EV_EFI_ACTION, EV_IPL, EV_PLATFORM_CONFIG_FLAGS, ...) */
	CVM_EVD_VARIABLE,  /* UEFI_VARIABLE_DATA (EV_EFI_VARIABLE_*) */
	CVM_EVD_IMAGE,     /* UEFI_IMAGE_LOAD_EVENT (EV_EFI_BOOT_SERVICES_*, RUNTIME_SERVICES) */
	CVM_EVD_BLOB,      /* UEFI_PLATFORM_FIRMWARE_BLOB(2) */
	CVM_EVD_HANDOFF,   /* UEFI_HANDOFF_TABLE_POINTERS(2) */
	CVM_EVD_TAGGED,    /* TCG_PCClientTaggedEvent (EV_EVENT_TAG) */
	CVM_EVD_SEPARATOR, /* EV_SEPARATOR's 4-byte value */
	CVM_EVD_NO_ACTION, /* EV_NO_ACTION: its 16-byte signature */
	CVM_EVD_GPT,       /* UEFI_GPT_DATA (EV_EFI_GPT_EVENT) */
	CVM_EVD_TDSHIM,    /* td-shim's EV_PLATFORM_CONFIG_FLAGS: 16-byte name, u32 length, payload */
	CVM_EVD_MALFORMED, /* the data does not have its type's layout: text says why */
};

/* "string", "variable", ... (the "kind" of --json output). */
const char *cvm_event_detail_kind_name(enum cvm_event_detail_kind kind);

struct cvm_event_variable {
	struct cvm_guid vendor;
	uint64_t name_chars;        /* UnicodeNameLength */
	const char *name;           /* UnicodeName as UTF-8 (U+FFFD for bad UTF-16) */
	uint64_t data_len;          /* VariableDataLength */
	const uint8_t *data;
	/* Boot#### under the EFI global-variable GUID: the EFI_LOAD_OPTION, when it decodes */
	bool is_load_option;
	uint32_t load_attributes;
	const char *load_description;
	struct cvm_devpath load_path;
};

struct cvm_event_detail {
	enum cvm_event_detail_kind kind;
	const char *text;        /* one line for people; never NULL ("" when there is nothing) */
	const char *description; /* BLOB2/HANDOFF2 description, td-shim name; NULL otherwise */
	union {
		struct cvm_event_variable variable;
		struct {
			uint64_t base, length, link_address;
			struct cvm_devpath path;
		} image;
		struct {
			uint64_t base, length;
		} blob;
		struct {
			uint64_t count;
			const uint8_t *tables; /* count entries of 24 bytes: GUID, u64 address */
		} handoff;
		struct {
			uint32_t id;
			uint32_t len;
			const uint8_t *data;
		} tagged;
		uint32_t separator;
		struct {
			struct cvm_guid disk;
			uint64_t partitions;
		} gpt;
		struct {
			uint32_t len;
			const uint8_t *data;
		} tdshim;
	} u;
};

/* ---- the log ------------------------------------------------------------------------------ */

struct cvm_eventlog_digest {
	uint16_t alg;
	uint16_t size;
	const uint8_t *value;
};

struct cvm_eventlog_event {
	size_t offset;             /* of the TCG_PCR_EVENT2 in the log */
	size_t size;               /* of the whole record */
	uint32_t mr_index;         /* as logged: the CC MR index (1 = RTMR0 .. 4 = RTMR3) */
	uint32_t type;
	size_t ndigests;           /* = the SpecID header's number of algorithms */
	struct cvm_eventlog_digest digests[CVM_EVENTLOG_MAX_ALGS];
	uint32_t data_len;
	const uint8_t *data;       /* the event data */
	struct cvm_event_detail detail;
};

struct cvm_eventlog_alg {
	uint16_t id;
	uint16_t digest_size;
};

struct cvm_eventlog_specid {
	uint32_t mr_index;         /* of the SpecID event (TCG says 0; OVMF writes 1) */
	uint32_t platform_class;
	uint8_t version_minor, version_major, errata, uintn_size;
	size_t nalgs;
	struct cvm_eventlog_alg algs[CVM_EVENTLOG_MAX_ALGS];
	uint8_t vendor_info_len;
	const uint8_t *vendor_info;
};

/* The ACPI "CCEL" table (ACPI 6.5) or its predecessor "TDEL" (TDX GHCI 1.0). */
struct cvm_ccel_table {
	char signature[5];
	uint32_t length;
	uint8_t revision;
	char oem_id[7];
	char oem_table_id[9];
	uint8_t cc_type;           /* 1 SEV, 2 TDX (0 for TDEL, which has no such field) */
	uint8_t cc_subtype;
	uint64_t laml;             /* log area minimum length */
	uint64_t lasa;             /* log area start address (guest physical) */
};

/* "TDX", "SEV", or NULL for other values. */
const char *cvm_ccel_cc_type_name(uint8_t cc_type);

struct cvm_eventlog {
	uint8_t *bytes;            /* the log, SpecID event through the last event (owned) */
	size_t len;
	size_t area_len;           /* bytes of log area read */
	size_t free_len;           /* bytes after the last event */
	int fill;                  /* the fill byte that ended the log (0x00 or 0xff), -1: none */
	struct cvm_eventlog_specid specid;
	size_t nevents;
	struct cvm_eventlog_event *events;
	bool has_ccel;             /* read through cvm_eventlog_parse_ccel */
	struct cvm_ccel_table ccel;
	char warnings[512];        /* "; "-separated; "" when none */
	struct cvm_eventlog_arena *arena; /* private: the decoded strings */
};

/*
 * Parse a log area (a raw log, or the data of /sys/firmware/acpi/tables/data/CCEL).  *out is
 * written only on success and released with cvm_eventlog_free().  -EINVAL with the event, its
 * offset and the problem for a malformed log; -ENOTSUP for a log that is not crypto-agile.
 */
int cvm_eventlog_parse(const uint8_t *area, size_t len, struct cvm_eventlog **out,
		       struct cvm_error *err);

/* Check an ACPI CCEL/TDEL table (signature, length, checksum) and read its fields. */
int cvm_ccel_table_parse(const uint8_t *table, size_t len, struct cvm_ccel_table *out,
			 struct cvm_error *err);

/*
 * Parse the log area described by an ACPI CCEL table: only the first LAML bytes of data are
 * the log area (more data is ignored, less is read with a warning).
 */
int cvm_eventlog_parse_ccel(const uint8_t *table, size_t table_len, const uint8_t *data,
			    size_t data_len, struct cvm_eventlog **out, struct cvm_error *err);

/* Read the file at path (and the CCEL table at table_path, when not NULL) and parse it. */
int cvm_eventlog_load(const char *path, const char *table_path, struct cvm_eventlog **out,
		      struct cvm_error *err);

void cvm_eventlog_free(struct cvm_eventlog *log);

/* The event's digest for alg, or NULL when it has none. */
const struct cvm_eventlog_digest *cvm_eventlog_event_digest(const struct cvm_eventlog_event *ev,
							    uint16_t alg);

/*
 * Whether each digest of the event is the hash of its data (true for events that measure
 * their own data, such as EV_EFI_ACTION or EV_SEPARATOR; false for events that describe what
 * was measured, such as a firmware blob).  -ENOTSUP when an algorithm cannot be computed here.
 */
int cvm_eventlog_event_digests_data(const struct cvm_eventlog_event *ev, bool *matches,
				    struct cvm_error *err);

/* ---- replay into the TDX RTMRs ----------------------------------------------------------- */

struct cvm_rtmr_replay_event {
	size_t event;              /* index into log->events */
	int rtmr;                  /* 0..3, or -1 when the event is not extended (EV_NO_ACTION) */
	const uint8_t *digest;     /* its SHA-384 digest (into the log) */
	uint8_t value[CVM_RTMR_SIZE]; /* the RTMR after this event (for rtmr >= 0) */
};

struct cvm_rtmr_replay {
	uint8_t rtmr[CVM_RTMR_COUNT][CVM_RTMR_SIZE];
	size_t extends[CVM_RTMR_COUNT];   /* events extended into each RTMR */
	size_t nevents;                   /* = log->nevents */
	struct cvm_rtmr_replay_event *events; /* owned */
};

/*
 * Replay the log: every event except EV_NO_ACTION extends RTMR[mr_index - 1] with its SHA-384
 * digest (RTMR = SHA-384(RTMR || digest), from 48 zero bytes).  *out is written only on
 * success; free it with cvm_rtmr_replay_free().  -ENOTSUP when the log has no SHA-384 digests
 * (it cannot be a TDX log, e.g. an SM3-only one); -EINVAL when an event names MR index 0 (MRTD,
 * which software cannot extend) or one above 4.
 */
int cvm_eventlog_replay_tdx(const struct cvm_eventlog *log, struct cvm_rtmr_replay **out,
			    struct cvm_error *err);
void cvm_rtmr_replay_free(struct cvm_rtmr_replay *replay);

/* ---- expected events against a log (tdx/tdx_eventlog_match.c) --------------------------- */

struct cvm_measurement; /* <cvmkit/emit.h> */
struct cvm_evidence;    /* <cvmkit/evidence.h> */
struct cvm_verify_result; /* <cvmkit/verify.h> */

enum cvm_event_match {
	CVM_EVENT_MATCH = 0, /* the expected event is in the log with the same digest */
	CVM_EVENT_DIFFER,    /* the log has an event of the same input at that place, another digest */
	CVM_EVENT_MISSING,   /* expected, not in the log */
	CVM_EVENT_EXTRA,     /* in the log, not expected */
};

/* "MATCH", "DIFFER", "MISSING", "EXTRA". */
const char *cvm_event_match_name(enum cvm_event_match m);

struct cvm_event_match_row {
	enum cvm_event_match status;
	unsigned rtmr;                           /* 0..3 */
	const struct cvm_mr_event *expected;     /* NULL for EXTRA (borrowed from the document) */
	const struct cvm_eventlog_event *logged; /* NULL for MISSING (borrowed from the log) */
	const char *input; /* static: the input behind the event: "TD HOB", "CFV", "variable",
			    * "ACPI", "boot entry", "kernel", "cmdline", "initrd", "separator",
			    * "boot action", "SMBIOS", "fw_cfg" or "other" */
};

/* Rows per RTMR in log order (an expected event without a partner at its expected place). */
struct cvm_event_match_table {
	size_t nrows;
	struct cvm_event_match_row *rows; /* owned */
	size_t count[CVM_RTMR_COUNT][4];  /* [rtmr][enum cvm_event_match] */
	size_t expected[CVM_RTMR_COUNT];  /* expected events per RTMR */
};

/*
 * Align the expected events of m (m->events) with the log's SHA-384 events, RTMR by RTMR, for
 * the RTMRs in rtmr_mask (bit n = RTMRn): the longest common subsequence of digests are MATCH;
 * between two matches an expected and a logged event of the same input pair as DIFFER, the rest
 * are MISSING or EXTRA.  The borrowed log and m must outlive *out; free it with
 * cvm_event_match_table_free.  -ENOTSUP for a log without SHA-384, -ENOMEM.
 */
int cvm_eventlog_match(const struct cvm_eventlog *log, const struct cvm_measurement *m,
		       unsigned rtmr_mask, struct cvm_event_match_table **out,
		       struct cvm_error *err);
void cvm_event_match_table_free(struct cvm_event_match_table *t);

/* The input behind a logged event (as cvm_event_match_row.input). */
const char *cvm_eventlog_event_input(const struct cvm_eventlog_event *ev);

/*
 * Which edk2 event layout the log fits: the layouts differ in where the separators go and in
 * the boot entries (see docs/tdx-rtmr.md).  *name is static ("<=202408", "202411..202502",
 * ">=202505"), *score the features of that layout the log shows out of *of; NULL name when the
 * log has no OVMF events (td-shim, a non-TDX log).
 */
void cvm_eventlog_fw_layout(const struct cvm_eventlog *log, const char **name, unsigned *score,
			    unsigned *of);

/*
 * Check a TDX quote's RTMRs against an event log, adding to res (which the verifier filled):
 *   "eventlog"            the log (origin names where it came from) parsed and replays;
 *   "eventlog-rtmr0..2"   the replay of the log equals the quote's RTMR (fail: both values);
 *   "eventlog-rtmr3"      the same for RTMR3, described as runtime-extended (the OS extends it);
 *   "events-rtmr0..2"     with expect: each expected event of the RTMR is in the log.
 * Accepting by event (Trustee's policy): when the quote's RTMR1 or RTMR2 differs from the
 * expected value but the log replays to the quote's and holds every expected event of it, the
 * verifier's failed "rtmr1"/"rtmr2" check passes, with a reason saying so.
 * origin NULL: the log the evidence carries (Trustee's cc_eventlog) instead of log/log_len;
 * none at all is a failed "eventlog" check.  Evidence that is not a TDX quote adds a failed "eventlog" check.  Returns 0
 * (the outcome is in res) or -ENOMEM.
 */
int cvm_eventlog_verify_quote(const struct cvm_evidence *ev, const uint8_t *log, size_t log_len,
			      const char *origin, const struct cvm_measurement *expect,
			      struct cvm_verify_result *res, struct cvm_error *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
