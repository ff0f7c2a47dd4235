/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Endorsements and collateral from the network, through a persistent cache other tools share.
 *
 *   AMD KDS (default https://kdsintf.amd.com):
 *     VCEK        /vcek/v1/{Milan|Genoa|Turin}/{hwid}?blSPL=BL&teeSPL=TEE&snpSPL=SNP&ucodeSPL=UC
 *                 (Turin: fmcSPL=FMC first, and the 8-byte hwID); values in decimal, at least
 *                 two digits; the hwID is lower-case hex of CHIP_ID (its first 8 bytes on Turin)
 *     chain       /vcek/v1/{product}/cert_chain (ASK, ARK; PEM)  /vlek/v1/{product}/cert_chain
 *     CRL         /vcek/v1/{product}/crl (DER)                   /vlek/v1/{product}/crl
 *   Intel PCS v4 or a PCCS (default https://api.trustedservices.intel.com):
 *     TCB info    /tdx/certification/v4/tcb?fmspc={fmspc}        header TCB-Info-Issuer-Chain
 *     QE identity /tdx/certification/v4/qe/identity              SGX-Enclave-Identity-Issuer-Chain
 *     PCK CRL     /sgx/certification/v4/pckcrl?ca={platform|processor}&encoding=der
 *                                                                SGX-PCK-CRL-Issuer-Chain
 *     root CRL    https://certificates.trustedservices.intel.com/IntelSGXRootCA.der, or, when
 *                 another PCS/PCCS base URL is configured, {pcs}/sgx/certification/v4/rootcacrl
 *   The issuer chains arrive percent-encoded in those response headers; they are decoded and
 *   returned beside the body.  Nothing here verifies a signature: that is the verifier's job
 *   (give both to cvm_verifier_add_certs / cvm_verifier_add_collateral).
 *
 * Cache layout (under the cache directory; default $XDG_CACHE_HOME/cvmkit, else
 * ~/.cache/cvmkit).  The vcek/ tree is Trustee's offline KDS store, so one directory serves both:
 *   vcek/{hwid}/bl{BL}_tee{TEE}_snp{SNP}_ucode{UC}[_fmc{FMC}]_vcek.der   DER VCEK
 *   amd/{milan|genoa|turin}/{vcek|vlek}_cert_chain.pem                  ASK or ASVK, then ARK
 *   amd/{milan|genoa|turin}/{vcek|vlek}_crl.der                         DER CRL
 *   intel/tdx_tcb_info_{fmspc}.json       + intel/tdx_tcb_info_{fmspc}_issuer_chain.pem
 *   intel/tdx_qe_identity.json            + intel/tdx_qe_identity_issuer_chain.pem
 *   intel/pck_crl_{platform|processor}.der + intel/pck_crl_{platform|processor}_issuer_chain.pem
 *   intel/root_ca_crl.der
 * Numbers are decimal with at least two digits, hex is lower case.  Every write is atomic (a
 * temporary file and rename), so readers never see half a file.  A cached file is used only when
 * it parses as what its name says (a DER certificate, PEM certificates, a DER CRL, TCB info or QE
 * identity JSON for that FMSPC) and, for CRLs, TCB info and QE identity, only before its
 * nextUpdate; otherwise it is fetched again and replaced.  Offline, nothing is fetched and a
 * missing, unreadable or expired file is an error naming the file and the URL it comes from.
 *
 * Air-gap bundle (cvm_fetch_export): DIR/certs/ holds the VCEKs, AMD chains and AMD CRLs (for
 * `cvmkit verify --certs DIR/certs`), DIR/collateral/ the Intel items and their issuer chains
 * (for `--collateral DIR/collateral`), DIR/sources.txt where each file came from
 * ("NAME<TAB>URL<TAB>cache|network" per file).
 *
 * HTTP(S) proxies come from the environment as libcurl reads it (https_proxy, no_proxy, ...).
 * With cvm_fetch_config.remember a fetcher gets each URL once (cache, else network) and
 * answers every later request for it from memory, with a copy of that item (the same origin and
 * source) or the same error, so evidence needing the same item gets the same answer in any
 * order and on any thread (an item that passes its nextUpdate after it was got is got again;
 * a failure is not retried until a new fetcher is made).
 *
 * Threads: a fetcher may be shared by any number of threads.  Its settings are only read; its
 * HTTP connection and memory are used under its lock, which is held while an item is got from
 * the cache or the network, so threads needing the same item wait for that answer instead of
 * asking again: with the cache on (or remember) the server sees each URL once.  The cache
 * directory may be shared by any number of processes.  Nothing here prints.
 *
 * Ownership: *_new / fetch functions hand out heap objects the caller frees with the matching
 * *_free (NULL is fine); strings in a config are borrowed only during cvm_fetcher_new (copied).
 */
#ifndef CVMKIT_FETCH_H
#define CVMKIT_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cvmkit/error.h>
#include <cvmkit/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

#define CVM_FETCH_DEFAULT_KDS_URL "https://kdsintf.amd.com"
#define CVM_FETCH_DEFAULT_PCS_URL "https://api.trustedservices.intel.com"
#define CVM_FETCH_DEFAULT_INTEL_ROOT_CRL_URL \
	"https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"

/* ---- configuration ------------------------------------------------------------------------ */

struct cvm_fetch_config {
	const char *kds_url;            /* AMD KDS base URL; NULL = CVM_FETCH_DEFAULT_KDS_URL */
	const char *pcs_url;            /* Intel PCS or PCCS base URL; NULL = the default above */
	const char *intel_root_crl_url; /* full URL; NULL = see the header comment */
	const char *ca_bundle;          /* PEM CA bundle for HTTPS; NULL = the system's */
	const char *cache_dir;          /* NULL = cvm_fetch_default_cache_dir() */
	bool no_cache;                  /* neither read nor write a cache */
	bool offline;                   /* cache only: never contact a server */
	bool has_time;                  /* judge nextUpdate at time (e.g. the verification */
	time_t time;                    /* time); now when !has_time */
	unsigned timeout_ms;            /* per HTTP attempt; 0 = 30000 */
	size_t max_body;                /* largest accepted response body; 0 = 4 MiB */
	unsigned max_attempts;          /* per item, the first included; 0 = 4 */
	unsigned max_retry_wait_s;      /* total wait for Retry-After / back-off per item; 0 = 60 */
	bool remember;                  /* each URL once, later requests from memory (above) */
	/* Test seam: how to wait before a retry; NULL = sleep for real. */
	void (*sleep_ms)(void *ctx, unsigned ms);
	void *sleep_ctx;
};

/*
 * The default cache directory ($XDG_CACHE_HOME/cvmkit when XDG_CACHE_HOME is an absolute path,
 * else $HOME/.cache/cvmkit), malloc'd into *out.  -ENOENT when neither is set.
 */
int cvm_fetch_default_cache_dir(char **out, struct cvm_error *err);

struct cvm_fetcher;

/* A fetcher for cfg (NULL = all defaults).  Creates nothing on disk until an item is stored. */
int cvm_fetcher_new(const struct cvm_fetch_config *cfg, struct cvm_fetcher **out,
		    struct cvm_error *err);
void cvm_fetcher_free(struct cvm_fetcher *f);

/* The cache directory in use, or NULL when the cache is off.  Owned by f. */
const char *cvm_fetcher_cache_dir(const struct cvm_fetcher *f);

/* HTTP requests sent so far (retries included): 0 after a run served from the cache.  Takes
   f's lock (hence not const). */
unsigned long cvm_fetcher_requests(struct cvm_fetcher *f);

/* ---- fetched items ------------------------------------------------------------------------ */

enum cvm_fetch_kind {
	CVM_FETCH_VCEK = 1,     /* DER certificate */
	CVM_FETCH_AMD_CHAIN,    /* PEM: ASK (or ASVK) then ARK */
	CVM_FETCH_AMD_CRL,      /* DER CRL signed by the ARK */
	CVM_FETCH_TCB_INFO,     /* Intel TDX TCB info JSON, issuer chain beside it */
	CVM_FETCH_QE_IDENTITY,  /* Intel TDX QE identity JSON, issuer chain beside it */
	CVM_FETCH_PCK_CRL,      /* DER CRL of an Intel PCK CA, issuer chain beside it */
	CVM_FETCH_ROOT_CRL,     /* DER CRL of the Intel SGX Root CA */
};

enum cvm_fetch_origin {
	CVM_FETCH_ORIGIN_CACHE = 1,
	CVM_FETCH_ORIGIN_NETWORK,
};

struct cvm_fetch_item {
	enum cvm_fetch_kind kind;
	enum cvm_fetch_origin origin;
	enum cvm_amd_product product; /* AMD items: the product line; else CVM_AMD_UNKNOWN */
	uint8_t *data;                /* the item (see the kinds), len bytes plus a NUL */
	size_t len;
	char *issuer_chain;           /* Intel TCB info, QE identity, PCK CRL: PEM; else NULL */
	size_t issuer_chain_len;
	bool has_next_update;         /* CRLs, TCB info, QE identity */
	time_t next_update;
	char *what;                   /* "VCEK for Milan chip d49554ec717f4e5b.. TCB ..." */
	char *url;                    /* where it comes from (also set for cache hits) */
	char *cache_path;             /* its file in the cache; NULL when the cache is off */
	const char *source;           /* cache_path for cache hits, else url (points into it) */
	char *cache_warning;          /* fetched but not stored, and why; else NULL */
	char *export_name;            /* its file in an air-gap bundle ("certs/..", "collateral/..") */
};

void cvm_fetch_item_free(struct cvm_fetch_item *item);
const char *cvm_fetch_kind_name(enum cvm_fetch_kind kind);     /* "vcek", "amd-chain", ... */
const char *cvm_fetch_origin_name(enum cvm_fetch_origin origin); /* "cache", "network" */

/* ---- AMD KDS ------------------------------------------------------------------------------ */

/* What names one VCEK: plain values from the report. */
struct cvm_kds_vcek_id {
	enum cvm_amd_product product; /* UNKNOWN: Milan, then Genoa, are tried (a v2 report) */
	uint8_t chip_id[64];          /* CHIP_ID as in the report (Turin: the first 8 bytes count) */
	struct cvm_snp_tcb tcb;       /* REPORTED_TCB in the product's layout (cvm_snp_tcb_decode) */
	uint32_t key_info;            /* the report's KEY_INFO: VLEK, NONE or MASK_CHIP_KEY reports
				       * have no VCEK to fetch */
};

/*
 * The VCEK id of a report.  product UNKNOWN takes the report's CPUID line (v3+); a v2 report
 * whose CHIP_ID has the Turin shape (only the first 8 bytes set) is taken as Turin, otherwise
 * the line stays UNKNOWN and cvm_fetch_vcek tries Milan, then Genoa.
 */
void cvm_kds_vcek_id_from_report(const struct cvm_snp_report *r, enum cvm_amd_product product,
				 struct cvm_kds_vcek_id *out);

/*
 * The VCEK's KDS URL under kds_base (NULL = the default) and its path in a cache/Trustee store
 * ("vcek/{hwid}/bl03_tee00_snp08_ucode115_vcek.der"), malloc'd.  -EINVAL with the reason when
 * the report has none: signed by a VLEK or by no key, MASK_CHIP_KEY set, CHIP_ID all zero
 * (MASK_CHIP_ID), or the product line unknown.
 */
int cvm_kds_vcek_url(const char *kds_base, const struct cvm_kds_vcek_id *id, char **out,
		     struct cvm_error *err);
int cvm_kds_vcek_store_path(const struct cvm_kds_vcek_id *id, char **out, struct cvm_error *err);

/*
 * Each returns 0 and a new item in *out, or a negative errno with the reason in err: the item,
 * the URL, the HTTP status or what was wrong with the body, or (offline) the cache file that is
 * missing, unreadable or expired.  A 404 (and any non-200) is an error, never data; a body that
 * is not what was asked for (not a certificate, not a CRL, ...) is refused and not stored.
 * Codes: -ENOENT  HTTP 404/410, or offline and not usable from the cache
 *        -EAGAIN  still 429/503 after the allowed retries (or Retry-After beyond the budget)
 *        -EBADMSG a 200 whose body or issuer-chain header is not the item
 *        -ETIMEDOUT, -EFBIG (over max_body), -EIO (transport, other statuses)
 *        -EINVAL  no such item (see cvm_kds_vcek_url), -ENOMEM
 */
int cvm_fetch_vcek(struct cvm_fetcher *f, const struct cvm_kds_vcek_id *id,
		   struct cvm_fetch_item **out, struct cvm_error *err);
/* key CVM_SNP_KEY_VCEK: ASK+ARK (and the VCEK CRL); CVM_SNP_KEY_VLEK: ASVK+ARK (VLEK CRL). */
int cvm_fetch_amd_chain(struct cvm_fetcher *f, enum cvm_amd_product product,
			enum cvm_snp_signing_key key, struct cvm_fetch_item **out,
			struct cvm_error *err);
int cvm_fetch_amd_crl(struct cvm_fetcher *f, enum cvm_amd_product product,
		      enum cvm_snp_signing_key key, struct cvm_fetch_item **out,
		      struct cvm_error *err);

/* ---- Intel PCS / PCCS --------------------------------------------------------------------- */

enum cvm_pck_ca {
	CVM_PCK_CA_PLATFORM = 1, /* "Intel SGX PCK Platform CA" */
	CVM_PCK_CA_PROCESSOR,    /* "Intel SGX PCK Processor CA" */
};

/* fmspc: the 6 bytes of the PCK certificate's FMSPC. */
int cvm_fetch_tdx_tcb_info(struct cvm_fetcher *f, const uint8_t fmspc[6],
			   struct cvm_fetch_item **out, struct cvm_error *err);
int cvm_fetch_tdx_qe_identity(struct cvm_fetcher *f, struct cvm_fetch_item **out,
			      struct cvm_error *err);
int cvm_fetch_pck_crl(struct cvm_fetcher *f, enum cvm_pck_ca ca, struct cvm_fetch_item **out,
		      struct cvm_error *err);
int cvm_fetch_intel_root_crl(struct cvm_fetcher *f, struct cvm_fetch_item **out,
			     struct cvm_error *err);

/* ---- what a piece of evidence needs ------------------------------------------------------- */

#define CVM_FETCH_EVIDENCE_MAX 6u

struct cvm_fetch_evidence_options {
	enum cvm_amd_product product; /* SNP: the product line; UNKNOWN = from the report */
	bool amd_crl;                 /* SNP: the ARK's CRL too (for the revocation check) */
	bool skip_carried;            /* SNP: no VCEK/VLEK when the evidence carries one */
};

/* One item the evidence needs: fetched (item), or why not (error.code != 0). */
struct cvm_fetch_needed {
	enum cvm_fetch_kind kind;
	struct cvm_fetch_item *item; /* owned; NULL when it could not be had */
	struct cvm_error error;
};

struct cvm_fetch_evidence {
	enum cvm_evidence_kind kind; /* of the evidence */
	size_t n;
	struct cvm_fetch_needed needed[CVM_FETCH_EVIDENCE_MAX];
};

/*
 * Fetch (cache first) what verifying data needs, whatever wrapper it comes in
 * (<cvmkit/evidence.h>): SNP, the VCEK of its chip and TCB (unless signed by a VLEK, which only
 * the evidence can carry), the product's ASK/ASVK + ARK chain and, with amd_crl, the ARK's CRL;
 * TDX, the TCB info for the PCK certificate's FMSPC, the QE identity, the CRL of the PCK CA
 * that issued it and the Intel root CA CRL.  Returns 0 when the evidence was understood (each
 * item then says whether it was had, see cvm_fetch_needed), -EINVAL when it was not (no report
 * or quote in it, or one that does not parse), -ENOMEM.  *out is written only on success.
 */
int cvm_fetch_for_evidence(struct cvm_fetcher *f, const uint8_t *data, size_t len,
			   const struct cvm_fetch_evidence_options *o,
			   struct cvm_fetch_evidence **out, struct cvm_error *err);
void cvm_fetch_evidence_free(struct cvm_fetch_evidence *fe);

/* ---- air-gap bundle ----------------------------------------------------------------------- */

/*
 * Write items (and their issuer chains) into dir under their export_name, creating dir,
 * dir/certs and dir/collateral as needed, plus dir/sources.txt listing this export's files.
 * Each file is written atomically; an existing file of the same name is replaced.
 */
int cvm_fetch_export(const char *dir, struct cvm_fetch_item *const *items, size_t n,
		     struct cvm_error *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
