/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attestation verification: AMD SEV-SNP attestation reports and Intel TDX quotes (v4, v5).
 *
 * Three steps, each usable alone:
 *   1. parse:   cvm_snp_report_parse() / cvm_tdx_quote_parse() read untrusted bytes into a struct
 *               (layouts in spec/snp-report.md and spec/tdx-quote.md);
 *   2. verify:  cvm_verify_snp() / cvm_verify_tdx() run every check (signature, certificate chain,
 *               TCB binding, collateral, verifier policy, expected measurement) and record each one,
 *               by name, with pass/fail/skip and the reason, in a caller-owned struct
 *               cvm_verify_result;
 *   3. decide:  cvm_verify_result_ok() is true only when at least one check passed, none
 *               failed and none was lost (a skipped check neither passes nor fails).
 *
 * Verdicts fail closed.  A check the verifier could not make for lack of input (no collateral, no
 * CRL, no VCEK) is recorded as "unevaluated", with what was missing and how to supply it; when
 * the check is required it fails, otherwise it is a skip that the verdict names.  Required by
 * default: for a TDX quote the TCB status and the QE identity (the QE vendor ID is always
 * checked), for an SNP report the certificate chain, the TCB binding and the chip ID.
 * cvm_verify_options.allow_unevaluated accepts some of them unevaluated; revocation is a check
 * of every SNP and TDX verdict, required only with cvm_verify_options.require_revocation.
 *
 * A struct cvm_verifier holds the trust material: the bundled AMD ARK/ASK/ASVK for Milan, Genoa
 * and Turin and the Intel SGX Root CA, plus whatever certificates (VCEK, VLEK, intermediates) and
 * TDX collateral (TCB info, QE identity, CRLs) the caller adds.  Certificates are parsed once and
 * the signature of every verified issuer link is cached inside it (as are the VCEK/VLEK
 * extensions), so a loop over many reports pays only for the report signature.
 *
 * Threads: a verifier is not thread-safe (its caches are mutable); use one per thread.  Load the
 * trust material once and give each further thread a cvm_verifier_clone(): the clones share
 * the parsed certificates, CRLs and collateral read-only (reference-counted, never modified
 * once loaded; any of them may be freed first), so a clone costs no parsing and no signature.
 * A verdict never depends on which of them made it.
 *
 * Digest comparisons are constant-time (cvm_memeq_ct).  Nothing here prints.
 */
#ifndef CVMKIT_VERIFY_H
#define CVMKIT_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cvmkit/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct cvm_measurement; /* <cvmkit/emit.h> */
struct cvm_verify_rules; /* <cvmkit/policy.h> */

/* ---- evidence detection ------------------------------------------------------------------- */

enum cvm_evidence_kind {
	CVM_EVIDENCE_UNKNOWN = 0,
	CVM_EVIDENCE_SNP_REPORT,
	CVM_EVIDENCE_TDX_QUOTE,
};

/* Guess the kind from the first bytes (TDX header shape, else a plausible SNP version). */
enum cvm_evidence_kind cvm_evidence_detect(const uint8_t *data, size_t len);
const char *cvm_evidence_kind_name(enum cvm_evidence_kind kind); /* "snp", "tdx", "unknown" */

/*
 * Evidence stored as hex text (whitespace and a leading 0x allowed), decoded into a new buffer
 * that the caller frees.  -EINVAL when data is not hex text, -ENOMEM.
 */
int cvm_evidence_unhex(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len);

/* ---- AMD SEV-SNP attestation report ------------------------------------------------------- */

#define CVM_SNP_REPORT_SIZE 0x4a0u
#define CVM_SNP_SIGNED_SIZE 0x2a0u

enum cvm_amd_product {
	CVM_AMD_UNKNOWN = 0,
	CVM_AMD_MILAN,
	CVM_AMD_GENOA, /* also Siena */
	CVM_AMD_TURIN,
};

const char *cvm_amd_product_name(enum cvm_amd_product p); /* "milan", ...; "unknown" */
/* "milan", "genoa", "turin" (any case); -EINVAL otherwise. */
int cvm_amd_product_parse(const char *name, enum cvm_amd_product *out);

enum cvm_snp_signing_key {
	CVM_SNP_KEY_VCEK = 0,
	CVM_SNP_KEY_VLEK = 1,
	CVM_SNP_KEY_NONE = 7,
};

/* A TCB_VERSION split into its components; fmc is only defined on Turin. */
struct cvm_snp_tcb {
	uint8_t fmc;
	uint8_t bootloader;
	uint8_t tee;
	uint8_t snp;
	uint8_t microcode;
};

/* Turin (and later) moves the components; Milan/Genoa/unknown use the legacy layout. */
void cvm_snp_tcb_decode(uint64_t raw, enum cvm_amd_product p, struct cvm_snp_tcb *out);

/* Guest policy bits (spec §2). */
#define CVM_SNP_POLICY_SMT (1ull << 16)
#define CVM_SNP_POLICY_RSVD1 (1ull << 17)
#define CVM_SNP_POLICY_MIGRATE_MA (1ull << 18)
#define CVM_SNP_POLICY_DEBUG (1ull << 19)

/* Every field of an ATTESTATION_REPORT, and a copy of the raw report (the struct owns no heap). */
struct cvm_snp_report {
	uint32_t version;
	uint32_t guest_svn;
	uint64_t policy;
	uint8_t family_id[16];
	uint8_t image_id[16];
	uint32_t vmpl;
	uint32_t signature_algo;
	uint64_t current_tcb;
	uint64_t platform_info;
	uint32_t key_info; /* bit0 AUTHOR_KEY_EN, bit1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY */
	uint8_t report_data[64];
	uint8_t measurement[48];
	uint8_t host_data[32];
	uint8_t id_key_digest[48];
	uint8_t author_key_digest[48];
	uint8_t report_id[32];
	uint8_t report_id_ma[32];
	uint64_t reported_tcb;
	uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step; /* v3+; zero in v2 */
	uint8_t chip_id[64];
	uint64_t committed_tcb;
	uint8_t current_build, current_minor, current_major;
	uint8_t committed_build, committed_minor, committed_major;
	uint64_t launch_tcb;
	uint64_t launch_mit_vector, current_mit_vector; /* v5 only */
	uint8_t signature_r[72], signature_s[72];       /* little-endian, zero-padded */
	uint8_t raw[CVM_SNP_REPORT_SIZE];
};

/*
 * Parse exactly one report of CVM_SNP_REPORT_SIZE bytes (versions 2, 3, 4 and 5).  A wrong size, an
 * unknown version or an unknown signature algorithm is -EINVAL with the reason in err.  Reserved
 * bytes are not checked here (cvm_snp_report_reserved_nonzero does that) so that a report with a
 * smuggled trailer can still be shown.  out is written only on success.
 */
int cvm_snp_report_parse(const uint8_t *data, size_t len, struct cvm_snp_report *out,
			 struct cvm_error *err);

static inline unsigned cvm_snp_report_signing_key(const struct cvm_snp_report *r)
{
	return (r->key_info >> 2) & 7u;
}

/* The product line from CPUID_FAM_ID/CPUID_MOD_ID (v3+), or CVM_AMD_UNKNOWN. */
enum cvm_amd_product cvm_snp_report_product(const struct cvm_snp_report *r);

/*
 * The first must-be-zero byte that is not zero: returns true and sets *offset and *what (a static
 * name of the range, such as "unsigned trailer 0x330..0x4a0"); false when all are zero.
 */
bool cvm_snp_report_reserved_nonzero(const struct cvm_snp_report *r, size_t *offset,
				     const char **what);

/* ---- Intel TDX quote ---------------------------------------------------------------------- */

#define CVM_TDX_BODY_TDX10 2 /* TD report, TDX 1.0, 584 bytes */
#define CVM_TDX_BODY_TDX15 3 /* TD report, TDX 1.5, 648 bytes */
#define CVM_TDX_ATTR_DEBUG 1ull

struct cvm_tdx_td_body {
	uint8_t tee_tcb_svn[16];
	uint8_t mrseam[48];
	uint8_t mrsignerseam[48];
	uint64_t seam_attributes;
	uint64_t td_attributes;
	uint64_t xfam;
	uint8_t mrtd[48];
	uint8_t mrconfigid[48];
	uint8_t mrowner[48];
	uint8_t mrownerconfig[48];
	uint8_t rtmr[4][48];
	uint8_t report_data[64];
	uint8_t tee_tcb_svn2[16]; /* body type 3 only */
	uint8_t mrservicetd[48];  /* body type 3 only */
};

/* The SGX REPORT body of the quoting enclave (384 bytes). */
struct cvm_tdx_qe_report {
	uint8_t cpusvn[16];
	uint32_t miscselect;
	uint8_t attributes[16];
	uint8_t mrenclave[32];
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	uint16_t isvsvn;
	uint8_t report_data[64];
};

/*
 * A parsed quote.  It BORROWS the bytes given to cvm_tdx_quote_parse (signed region, QE report,
 * QE auth data and the PEM chain point into them): keep them alive while the struct is used.
 */
struct cvm_tdx_quote {
	uint16_t version;
	uint16_t att_key_type;
	uint32_t tee_type;
	uint8_t qe_vendor_id[16];
	uint8_t user_data[20];
	uint16_t body_type; /* v4: always CVM_TDX_BODY_TDX10 */
	uint32_t body_size;
	struct cvm_tdx_td_body body;
	const uint8_t *signed_data; /* header ‖ [descriptor ‖] body */
	size_t signed_len;
	uint8_t quote_signature[64]; /* r ‖ s, big-endian */
	uint8_t attestation_key[64]; /* X ‖ Y, big-endian */
	const uint8_t *qe_report_raw; /* 384 bytes */
	struct cvm_tdx_qe_report qe_report;
	uint8_t qe_report_signature[64];
	const uint8_t *qe_auth;
	uint16_t qe_auth_len;
	const uint8_t *pck_chain; /* PEM text, pck_chain_len bytes, not NUL-terminated */
	size_t pck_chain_len;
	size_t trailing; /* bytes after the signature data (zero padding is common) */
	bool trailing_nonzero;
};

/*
 * Parse a quote v4 or v5 (body types 2 and 3) with ECDSA-P256 attestation key and QE report
 * certification data (type 6) wrapping a PCK chain (type 5).  -EINVAL with the reason otherwise.
 */
int cvm_tdx_quote_parse(const uint8_t *data, size_t len, struct cvm_tdx_quote *out,
			struct cvm_error *err);

/* ---- verification results ----------------------------------------------------------------- */

enum cvm_check_status {
	CVM_CHECK_PASS = 0,
	CVM_CHECK_FAIL,
	CVM_CHECK_SKIP, /* not requested, not applicable, or accepted unevaluated; never fails */
};

#define CVM_CHECK_REASON_MAX 320
/* Room for every check either verifier makes; a check past it is lost and fails the verdict. */
#define CVM_VERIFY_MAX_CHECKS 64

struct cvm_check {
	const char *name; /* static, stable: "signature", "cert-chain", "measurement", ... */
	enum cvm_check_status status;
	/*
	 * Not made for lack of input (the reason says what was missing and how to supply it):
	 * a skip when accepted unevaluated, a failure when required.
	 */
	bool unevaluated;
	char reason[CVM_CHECK_REASON_MAX];
};

struct cvm_verify_result {
	enum cvm_evidence_kind kind;
	enum cvm_amd_product product; /* SNP: the product line used for the chain */
	char tcb_status[40];          /* TDX: "UpToDate", ... when collateral was given; else "" */
	/* TDX, from the PCK certificate (when the chain verified) and the TCB info used */
	bool has_pck;
	uint8_t fmspc[6], pce_id[2];
	char tcb_date[24];      /* the matching TCB level's tcbDate, or "" */
	char advisory_ids[256]; /* its advisoryIDs (and the QE level's), comma-separated, or "" */
	char qe_tcb_status[40]; /* the QE identity's status for the QE's ISVSVN, or "" */
	/* SNP: the VCEK/VLEK the report signature was checked with ("" when none) */
	char leaf_origin[64];
	char csp_id[128]; /* VLEK: the certificate's cspID, or "" */
	size_t nchecks;
	size_t lost; /* checks that did not fit in checks[]: any makes the verdict fail */
	struct cvm_check checks[CVM_VERIFY_MAX_CHECKS];
};

void cvm_verify_result_init(struct cvm_verify_result *res);
/* True when at least one check passed, none failed and none was lost. */
bool cvm_verify_result_ok(const struct cvm_verify_result *res);
/* The number of checks accepted unevaluated (skips with .unevaluated set). */
size_t cvm_verify_result_unevaluated(const struct cvm_verify_result *res);
/* The check with that name, or NULL. */
const struct cvm_check *cvm_verify_result_find(const struct cvm_verify_result *res,
					       const char *name);
const char *cvm_check_status_name(enum cvm_check_status st); /* "pass", "fail", "skip" */
/* Append a check made by the caller (name must outlive res: a string literal). */
void cvm_verify_result_add(struct cvm_verify_result *res, const char *name,
			   enum cvm_check_status st, const char *reason);

/* ---- verifier policy ---------------------------------------------------------------------- */

/*
 * Checks required by default that cvm_verify_options.allow_unevaluated may accept unevaluated
 * (bit names are the check names).
 */
#define CVM_ALLOW_CERT_CHAIN (1u << 0)   /* SNP "cert-chain": no VCEK/VLEK or no root for it */
#define CVM_ALLOW_REPORTED_TCB (1u << 1) /* SNP "reported-tcb": no certificate to bind it to */
#define CVM_ALLOW_CHIP_ID (1u << 2)      /* SNP "chip-id": no VCEK to bind it to */
#define CVM_ALLOW_TCB_STATUS (1u << 3)   /* TDX "tcb-status": no TCB info for the FMSPC */
#define CVM_ALLOW_QE_IDENTITY (1u << 4)  /* TDX "qe-identity": no TD_QE identity */

/*
 * A comma-separated list of those check names ("tcb-status,qe-identity") into a mask of
 * CVM_ALLOW_* bits; -EINVAL with the unknown name in err.
 */
int cvm_verify_allow_parse(const char *list, uint32_t *mask, struct cvm_error *err);

struct cvm_verify_options {
	bool has_time;
	time_t time;                  /* certificate/collateral time; now when !has_time */
	enum cvm_amd_product product; /* SNP: force the product line; UNKNOWN = detect */
	bool allow_debug;             /* SNP POLICY.DEBUG / TDX TDATTRIBUTES.DEBUG */
	bool forbid_smt;              /* SNP: fail when POLICY.SMT is set */
	uint32_t vmpl_mask;           /* SNP: bit n allows VMPL n; 0 = the rules' (VMPL 0 only) */
	bool has_min_tcb;             /* SNP: REPORTED_TCB component-wise >= min_tcb */
	uint64_t min_tcb;             /* a TCB_VERSION in the product's layout */
	bool has_min_tee_tcb_svn;     /* TDX: TEE_TCB_SVN byte-wise >= min_tee_tcb_svn */
	uint8_t min_tee_tcb_svn[16];
	bool require_uptodate;        /* TDX collateral: TCB status must be UpToDate (default: any
					 status but Revoked/unmatched passes and is reported) */
	bool require_revocation;      /* fail unless the chain's CRLs were checked (SNP: the ARK's
					 CRL; TDX: root CA and PCK CRLs).  Default: checked when
					 given, else an unevaluated skip */
	uint32_t allow_unevaluated;   /* CVM_ALLOW_*: required checks accepted unevaluated */
	bool has_report_data;         /* expected REPORT_DATA (zero-padded to 64) */
	uint8_t report_data[64];
	const struct cvm_measurement *expect; /* borrowed; NULL = no measurement matching */
	/* The verifier rules of a VM policy (its "verify" section, <cvmkit/policy.h>), borrowed;
	   NULL = the secure defaults (an all-zero struct cvm_verify_rules).  The fields above
	   override the rules they share: allow_debug, forbid_smt, vmpl_mask, min_tee_tcb_svn. */
	const struct cvm_verify_rules *rules;
};

/* ---- verifier: trust material and caches -------------------------------------------------- */

struct cvm_verifier;

/* A verifier holding the bundled AMD and Intel roots; free with cvm_verifier_free. */
int cvm_verifier_new(struct cvm_verifier **out, struct cvm_error *err);
void cvm_verifier_free(struct cvm_verifier *v);

/*
 * A new verifier holding the same trust material as src (bundled roots, added certificates,
 * AMD CRLs, TDX collateral, the issuer signatures already checked between them), sharing what
 * src parsed; what evidence brought into src (cached PCK chains and the like) is not copied.
 * src is only read, but must not be in use on another thread during the call.  Free the clone
 * with cvm_verifier_free.  -ENOMEM only.
 */
int cvm_verifier_clone(const struct cvm_verifier *src, struct cvm_verifier **out,
		       struct cvm_error *err);

/*
 * Add certificates: DER (one) or PEM (one or more).  VCEK/VLEK leaves and AMD intermediates are
 * recognised by subject; a copy of a bundled root is ignored; origin names the source in
 * messages.  Returns the number of certificates added, or -EINVAL when there was none.
 */
int cvm_verifier_add_certs(struct cvm_verifier *v, const uint8_t *data, size_t len,
			   const char *origin, struct cvm_error *err);

/*
 * Add one item of TDX collateral, recognised by content: Intel TCB info JSON ({"tcbInfo":...}),
 * QE identity JSON ({"enclaveIdentity":...}), a CRL (DER, or every CRL of a PEM text), or
 * certificates (issuer chains, passed to cvm_verifier_add_certs).  TCB infos are kept per FMSPC
 * and PCE ID and QE identities per id; the verifier uses the one matching the quote.  Returns the
 * number of items added; -ENOMSG when data is none of these kinds, -EINVAL when it is one but
 * does not load (truncated JSON, no readable dates or FMSPC, an unreadable CRL), with the reason.
 */
int cvm_verifier_add_collateral(struct cvm_verifier *v, const uint8_t *data, size_t len,
				const char *origin, struct cvm_error *err);

/*
 * Add endorsements of any kind, recognised by content: certificates (DER or PEM, as
 * cvm_verifier_add_certs), CRLs (DER, or every CRL of a PEM text: an AMD ARK's CRL is kept for
 * the SNP revocation check, any other is TDX collateral), or a GHCB certificate table (each
 * entry's certificate or CRL).  Returns the number of items added, or -EINVAL when data is
 * none of these.
 */
int cvm_verifier_add_endorsements(struct cvm_verifier *v, const uint8_t *data, size_t len,
				  const char *origin, struct cvm_error *err);

/*
 * Verify a parsed report / quote.  Every check is appended to res (initialised here).  Returns 0
 * when the checks ran (the verdict is in res, see cvm_verify_result_ok) or -ENOMEM.
 */
int cvm_verify_snp(struct cvm_verifier *v, const struct cvm_snp_report *report,
		   const struct cvm_verify_options *opt, struct cvm_verify_result *res,
		   struct cvm_error *err);
int cvm_verify_tdx(struct cvm_verifier *v, const struct cvm_tdx_quote *quote,
		   const struct cvm_verify_options *opt, struct cvm_verify_result *res,
		   struct cvm_error *err);

/*
 * Detect, unwrap (<cvmkit/evidence.h>: raw reports and quotes, Trustee, Veraison and Azure
 * wrappers, a report with its certificate table), parse and verify evidence.  The certificates
 * and CRLs the evidence carries are added to v (as cvm_verifier_add_endorsements does) and
 * used like supplied ones for this evidence only: they leave v again once the verdict is made,
 * so one piece of evidence never vouches for another; wrapped evidence adds a "wrapper" check
 * naming its format, and a
 * "runtime-data" check when it binds runtime data into REPORT_DATA (Azure).  A parse failure,
 * of the wrapper or of the report, is a failed "parse" check, not an error.  Returns 0 or
 * -ENOMEM like the functions above.
 */
int cvm_verify_evidence(struct cvm_verifier *v, const uint8_t *data, size_t len,
			const struct cvm_verify_options *opt, struct cvm_verify_result *res,
			struct cvm_error *err);

struct cvm_evidence; /* <cvmkit/evidence.h> */

/* The same for evidence already unwrapped by cvm_evidence_unwrap. */
int cvm_verify_unwrapped(struct cvm_verifier *v, const struct cvm_evidence *ev,
			 const struct cvm_verify_options *opt, struct cvm_verify_result *res,
			 struct cvm_error *err);

/* "2025-06-01T00:00:00Z" (also with an offset, or a date alone) -> time_t; -EINVAL otherwise. */
int cvm_time_parse_rfc3339(const char *text, time_t *out);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
