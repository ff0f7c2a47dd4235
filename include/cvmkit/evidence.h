/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evidence as pipelines receive it: the wrappers around SNP reports and TDX quotes, told apart
 * by content like the raw formats, and unwrapped into what a verifier needs.  Pure parsing: no
 * signature is checked here and nothing is fetched (cvm_verify_evidence does both).
 *
 *   raw             an SNP report (0x4a0 bytes) or a TDX quote, binary or hex text
 *   snp-cert-table  an SNP report followed by its GHCB certificate table (the extended guest
 *                   request's data pages; go-sev-guest's `-inform bin`)
 *   trustee-snp     Trustee's SNP evidence JSON {"attestation_report", "cert_chain"}; the report
 *                   as the sev crate serialises it (field by field, either layout), or as bytes
 *   trustee-tdx     Trustee's TDX evidence JSON {"quote", "cc_eventlog"} (base64)
 *   tsm-json        Veraison's configfs-tsm JSON {"outblob", "auxblob", "provider", ...}
 *                   (base64url); for provider sev_guest the auxblob is a GHCB certificate table
 *   tsm-cbor        the same as a CBOR map (application/vnd.veraison.tsm-report+cbor)
 *   azure-hcl       an Azure CVM "HCL report": a 32-byte header starting "HCLA", the SNP report
 *                   or TD report at 0x20, then the runtime data (a JSON document) whose digest
 *                   is the report's REPORT_DATA[0:32] (spec: the IGVM request data)
 *   azure-snp-json  Trustee's az-snp-vtpm evidence: v0 {"report": [bytes], "vcek": PEM, "quote"}
 *                   or v1/v2 {"hcl_report", "vcek", "tpm_quote"} (base64url)
 *   azure-tdx-json  Trustee's az-tdx-vtpm evidence {"hcl_report", "td_quote", "tpm_quote"}
 * The vTPM quote of the Azure formats is not read: cvmkit does not verify it.
 *
 * Limits: evidence larger than CVM_EVIDENCE_MAX_BYTES is refused; a certificate table or
 * certificate chain holds at most CVM_EVIDENCE_MAX_CERTS entries.
 *
 * Ownership: cvm_evidence_unwrap returns a heap object that owns every buffer it points to;
 * free it with cvm_evidence_free (NULL is fine).  Thread-safe (no shared state).  Nothing here
 * prints.
 */
#ifndef CVMKIT_EVIDENCE_H
#define CVMKIT_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/error.h>
#include <cvmkit/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

#define CVM_EVIDENCE_MAX_BYTES (16u << 20)
#define CVM_TD_REPORT_DATA_OFFSET 128u /* REPORTDATA in a TD report (TDREPORT_STRUCT) */
#define CVM_EVIDENCE_MAX_CERTS 32u

enum cvm_evidence_format {
	CVM_EVIDENCE_FORMAT_RAW = 0,
	CVM_EVIDENCE_FORMAT_SNP_CERT_TABLE,
	CVM_EVIDENCE_FORMAT_TRUSTEE_SNP,
	CVM_EVIDENCE_FORMAT_TRUSTEE_TDX,
	CVM_EVIDENCE_FORMAT_TSM_JSON,
	CVM_EVIDENCE_FORMAT_TSM_CBOR,
	CVM_EVIDENCE_FORMAT_AZURE_HCL,
	CVM_EVIDENCE_FORMAT_AZURE_SNP_JSON,
	CVM_EVIDENCE_FORMAT_AZURE_TDX_JSON,
	CVM_EVIDENCE_FORMAT_CERT_TABLE, /* a bare GHCB certificate table (certificates only) */
};

/* "raw", "snp-cert-table", "trustee-snp", ... as listed above; "unknown" otherwise. */
const char *cvm_evidence_format_name(enum cvm_evidence_format f);

/* A certificate or CRL found inside evidence (DER or PEM, as it came). */
struct cvm_evidence_blob {
	uint8_t *data;
	size_t len;
	bool crl;      /* a CRL rather than certificates (GHCB CRL GUID, Trustee cert_type CRL) */
	char name[48]; /* what the wrapper called it: "VCEK", "ASK", "ARK", "ASVK", "VLEK", "CRL",
			* or the GUID of an entry of another type */
};

enum cvm_evidence_hash {
	CVM_EVIDENCE_HASH_NONE = 0,
	CVM_EVIDENCE_HASH_SHA256,
	CVM_EVIDENCE_HASH_SHA384,
	CVM_EVIDENCE_HASH_SHA512,
};

/* "sha256", "sha384", "sha512", "none". */
const char *cvm_evidence_hash_name(enum cvm_evidence_hash h);

/*
 * Data bound into the report: its digest (hash) must equal digest_len bytes at offset of the
 * report bytes (or of td_report when in_td_report).  Azure: the HCL runtime data, SHA-256 into
 * REPORT_DATA[0:32].
 */
struct cvm_evidence_binding {
	uint8_t *data; /* owned by the evidence object; NULL when there is none */
	size_t len;
	enum cvm_evidence_hash hash;
	bool in_td_report;
	size_t offset;
	size_t digest_len;
};

struct cvm_evidence {
	enum cvm_evidence_format format;
	enum cvm_evidence_kind kind; /* of report; UNKNOWN when there is none (a TD report only) */
	uint8_t *report;             /* the SNP report or TDX quote bytes, or NULL */
	size_t report_len;
	struct cvm_evidence_blob *certs; /* certificates and CRLs found inside, used like --certs */
	size_t ncerts;
	uint8_t *eventlog; /* TDX: the CC event log (CCEL data) when the evidence carries it */
	size_t eventlog_len;
	uint8_t *td_report; /* Azure TDX HCL: the TD report (1024 bytes), MAC'd, not signed */
	size_t td_report_len;
	struct cvm_evidence_binding runtime_data;
	char provider[32]; /* configfs-tsm provider ("sev_guest", "tdx_guest"), else "" */
};

/*
 * Detect the format of data and unwrap it.  A format recognised but malformed is -EINVAL with
 * the reason ("azure-hcl: runtime data of 1110 bytes at 0x4d4 runs past the end (2000)").
 * Content that is no wrapper is unwrapped as raw (hex text decoded), whatever it is: the
 * report parsers judge it.  -ENOMEM.  *out is written only on success.
 */
int cvm_evidence_unwrap(const uint8_t *data, size_t len, struct cvm_evidence **out,
			struct cvm_error *err);

/*
 * A bare GHCB certificate table (as `--certs`): each entry's certificate or CRL into (*out)->certs
 * (format CVM_EVIDENCE_FORMAT_CERT_TABLE, no report).  -EINVAL when data is not a table.
 */
int cvm_evidence_cert_table(const uint8_t *data, size_t len, struct cvm_evidence **out,
			    struct cvm_error *err);

void cvm_evidence_free(struct cvm_evidence *ev);

/* ---- building a GHCB certificate table (host side, KVM_EXIT_SNP_REQ_CERTS) ------------------ */

/* The certificates a host serves (GHCB spec "SNP Extended Guest Request"; GUIDs in snp-report.md). */
enum cvm_ghcb_cert_kind {
	CVM_GHCB_CERT_ARK = 0,
	CVM_GHCB_CERT_ASK, /* also the ASVK: the GHCB spec gives both one GUID */
	CVM_GHCB_CERT_VCEK,
	CVM_GHCB_CERT_VLEK,
};

/* One entry: the certificate's bytes as the host keeps them (DER or PEM), borrowed. */
struct cvm_ghcb_cert {
	enum cvm_ghcb_cert_kind kind;
	const uint8_t *data;
	size_t len;
};

/* Bounds of what cvm_ghcb_cert_table_build accepts. */
#define CVM_GHCB_CERT_MAX (64u * 1024u)     /* bytes of one certificate */
#define CVM_GHCB_TABLE_MAX (1024u * 1024u)  /* bytes of the whole table */

/*
 * The GHCB certificate table of n certificates: n entries {GUID (16), offset u32, length u32},
 * an all-zero entry, then each certificate's bytes in order, offsets from the table's start.
 * *need gets its length; it is written to out only when it fits cap (else -ENOSPC, out
 * untouched).  -EINVAL for an empty or oversized certificate, a kind given twice, more than
 * CVM_EVIDENCE_MAX_CERTS entries or a table over CVM_GHCB_TABLE_MAX.
 */
int cvm_ghcb_cert_table_build(const struct cvm_ghcb_cert *certs, size_t n, uint8_t *out,
			      size_t cap, size_t *need, struct cvm_error *err);

/* "ARK", "ASK", "VCEK", "VLEK" */
const char *cvm_ghcb_cert_kind_name(enum cvm_ghcb_cert_kind kind);

/* ---- writing the formats (guest side, `cvmkit evidence`) ---------------------------------- */

/* What configfs-tsm returned (the blobs are borrowed; NULL/0 when absent). */
struct cvm_tsm_blobs {
	const char *provider;
	const uint8_t *outblob;
	size_t outblob_len;
	const uint8_t *auxblob;
	size_t auxblob_len;
	const uint8_t *manifestblob;
	size_t manifestblob_len;
	const char *service_provider;
};

/*
 * Veraison's configfs-tsm JSON (one line and a newline) or CBOR map; Trustee's TDX evidence
 * JSON (quote, and cc_eventlog when eventlog is given).  *out is malloc'd.  0 or -ENOMEM
 * (-EINVAL when the outblob is missing).
 */
int cvm_evidence_tsm_json(const struct cvm_tsm_blobs *b, uint8_t **out, size_t *out_len,
			  struct cvm_error *err);
int cvm_evidence_tsm_cbor(const struct cvm_tsm_blobs *b, uint8_t **out, size_t *out_len,
			  struct cvm_error *err);
int cvm_evidence_trustee_tdx_json(const uint8_t *quote, size_t quote_len,
				  const uint8_t *eventlog, size_t eventlog_len, uint8_t **out,
				  size_t *out_len, struct cvm_error *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
