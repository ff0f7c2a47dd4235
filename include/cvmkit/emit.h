/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The measurement document: the expected digest (SNP MEASUREMENT / TDX MRTD), the report fields a
 * verifier checks beside it, and every input that changes it, so that a mismatch in the field
 * traces back to exactly these inputs.  Encoded as JSON (default; schema in docs/measurement.md),
 * hex, CBOR, CoRIM, or a Trustee RVPS registration message.  `cvmkit measure` and `cvmkit launch`
 * write it; `cvmkit verify --expect` reads it (JSON or CoRIM).
 *
 * Ownership: a struct cvm_measurement owns every string and array in it; cvm_measurement_free()
 * releases one made by cvm_measurement_new() or cvm_measurement_decode().
 */
#ifndef CVMKIT_EMIT_H
#define CVMKIT_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/error.h>
#include <cvmkit/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

enum cvm_emit_format {
	CVM_FMT_JSON = 0,
	CVM_FMT_HEX,   /* the digest alone, lower-case hex and a newline */
	CVM_FMT_CBOR,
	CVM_FMT_CORIM, /* unsigned CoRIM (tag 501) with one CoMID */
	CVM_FMT_RVPS,  /* Trustee reference-value provider registration message (JSON) */
};

/* One input of the digest; value is the JSON literal text when is_number, else a string. */
struct cvm_mr_input {
	char *key;
	char *value;
	bool is_number;
};

/* One firmware event extended into an RTMR (TDX), for replay by a verifier. */
struct cvm_mr_event {
	uint32_t rtmr;     /* 0..3 */
	char *type;        /* "EV_EFI_HANDOFF_TABLES2", ... */
	char *description; /* "TD HOB", "kernel command line", ... */
	uint8_t digest[48];
};

/*
 * SEV-SNP reference values beyond MEASUREMENT and the fields above, as a CoRIM of the AMD SNP
 * profile carries them (its mkeys in spec/reference-formats.md); the verifier checks every one
 * present (exact, or a component-wise minimum for the TCBs and GUEST_SVN's min-svn).
 */
enum cvm_snp_refval {
	CVM_SNP_RV_VERSION = 1u << 0,           /* mkey 0: report VERSION, exact */
	CVM_SNP_RV_MIN_GUEST_SVN = 1u << 1,     /* mkey 1, min-svn: GUEST_SVN >= */
	CVM_SNP_RV_GUEST_SVN = 1u << 2,         /* mkey 1, svn: GUEST_SVN exact */
	CVM_SNP_RV_FAMILY_ID = 1u << 3,         /* mkey 3 */
	CVM_SNP_RV_IMAGE_ID = 1u << 4,          /* mkey 4 */
	CVM_SNP_RV_VMPL = 1u << 5,              /* mkey 5 */
	CVM_SNP_RV_CURRENT_TCB = 1u << 6,       /* mkey 6, minimum */
	CVM_SNP_RV_PLATFORM_INFO = 1u << 7,     /* mkey 7, exact */
	CVM_SNP_RV_REPORT_DATA = 1u << 8,       /* mkey 640 */
	CVM_SNP_RV_REPORT_ID = 1u << 9,         /* mkey 645 */
	CVM_SNP_RV_REPORT_ID_MA = 1u << 10,     /* mkey 646 */
	CVM_SNP_RV_REPORTED_TCB = 1u << 11,     /* mkey 647, minimum */
	CVM_SNP_RV_CHIP_ID = 1u << 12,          /* mkey 3328 */
	CVM_SNP_RV_COMMITTED_TCB = 1u << 13,    /* mkey 3329, minimum */
	CVM_SNP_RV_CURRENT_VERSION = 1u << 14,  /* mkey 3330: CURRENT major.minor.build, exact */
	CVM_SNP_RV_COMMITTED_VERSION = 1u << 15, /* mkey 3936, exact */
	CVM_SNP_RV_LAUNCH_TCB = 1u << 16,       /* mkey 3968, minimum */
};

struct cvm_snp_refvals {
	uint32_t present; /* enum cvm_snp_refval bits */
	uint32_t version, guest_svn, vmpl;
	uint8_t family_id[16], image_id[16];
	uint64_t platform_info;
	uint8_t report_data[64], report_id[32], report_id_ma[32], chip_id[64];
	uint64_t current_tcb, reported_tcb, committed_tcb, launch_tcb; /* TCB_VERSION as read */
	uint8_t current_version[3], committed_version[3];             /* major, minor, build */
};

struct cvm_measurement {
	enum cvm_tee tee;
	char *mode;          /* "snp", "sev", "seves", "tdx", "none" */
	char *algorithm;     /* "sha384" or "sha256" (legacy SEV modes) */
	size_t digest_len;   /* 48, or 32 for sha256 */
	uint8_t digest[48];  /* SNP MEASUREMENT, TDX MRTD */

	/* SNP report fields expected beside MEASUREMENT */
	bool has_snp_policy;
	uint64_t snp_policy;
	bool has_host_data;
	uint8_t host_data[32];
	bool has_id_key_digest;
	uint8_t id_key_digest[48];
	bool has_author_key_digest;
	uint8_t author_key_digest[48];
	struct cvm_snp_refvals snp_rv; /* from a CoRIM; none from measure */

	/* TDX TD report body fields */
	bool has_td_fields;
	uint64_t td_attributes, xfam;
	uint8_t mrconfigid[48], mrowner[48], mrownerconfig[48];
	bool rtmr_known[4];
	uint8_t rtmr[4][48];
	char *rtmr_note[4];  /* why an RTMR is not computed, or which firmware generation it assumes */
	char **rtmr_missing[4]; /* the inputs an RTMR that is not computed lacks (policy keys) */
	size_t nrtmr_missing[4];

	struct cvm_mr_event *events;
	size_t nevents;
	struct cvm_mr_input *inputs; /* every input that changes the digest, in a stable order */
	size_t ninputs;
	struct cvm_mr_input *launch; /* what `launch` did: regions, pre-fault, timings */
	size_t nlaunch;
};

/*
 * An empty document for tee; mode NULL means the TEE's own mode ("snp", "tdx", "none"), and
 * the mode picks algorithm and digest_len.  NULL when tee is out of range or memory ran out.
 */
struct cvm_measurement *cvm_measurement_new(enum cvm_tee tee, const char *mode);
void cvm_measurement_free(struct cvm_measurement *m);

/*
 * Append an input (string value; printf-style) or a numeric one (u64, printed in decimal).  A key
 * that is already there keeps its place and takes the new value.  Returns 0 or -ENOMEM/-EINVAL.
 */
int cvm_measurement_add_input(struct cvm_measurement *m, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int cvm_measurement_add_input_u64(struct cvm_measurement *m, const char *key, uint64_t value);
int cvm_measurement_add_event(struct cvm_measurement *m, uint32_t rtmr, const char *type,
			      const char *description, const uint8_t digest[48]);
int cvm_measurement_add_launch(struct cvm_measurement *m, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int cvm_measurement_add_launch_u64(struct cvm_measurement *m, const char *key, uint64_t value);
int cvm_measurement_set_rtmr_note(struct cvm_measurement *m, unsigned idx, const char *note);
/* Append one missing input ("tdx.acpi.table_loader") to RTMR idx's list; 0, -EINVAL, -ENOMEM. */
int cvm_measurement_add_rtmr_missing(struct cvm_measurement *m, unsigned idx, const char *input);

/* "json", "hex", "cbor", "corim", "rvps" */
int cvm_emit_format_parse(const char *name, enum cvm_emit_format *out);
const char *cvm_emit_format_name(enum cvm_emit_format fmt);

/*
 * Encode; *out is malloc'd and owned by the caller (text formats end with a newline).  Fails
 * with -EINVAL when mode, tee, algorithm and digest_len disagree (see docs/measurement.md), or
 * for CoRIM/RVPS when the mode has no reference-value form (sev, seves, none).
 */
int cvm_measurement_encode(const struct cvm_measurement *m, enum cvm_emit_format fmt,
			   uint8_t **out, size_t *out_len, struct cvm_error *err);

/*
 * Read a document back: JSON, CBOR or CoRIM (tag 501; a bare CoMID, tag 506, too), detected
 * from the content.  The input is untrusted: bounded, every problem is a clear -EINVAL (signed
 * CoRIMs: -ENOTSUP).  *out is written only on success.
 */
int cvm_measurement_decode(const uint8_t *data, size_t len, struct cvm_measurement **out,
			   struct cvm_error *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
