/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the TDX verifier (tdx/tdx_verify*.c) and to the verifier set-up in
 * launcher/verify_evidence.c: the PCK certificate's SGX extension, the TDX state kept in a
 * verifier's TDX slot (collateral, PCK chain and attestation-key caches), the Intel root.
 */
#ifndef CVMKIT_TDX_TDX_VERIFY_INTERNAL_H
#define CVMKIT_TDX_TDX_VERIFY_INTERNAL_H

#include "measure/verify_internal.h"

/* Intel PCK certificate SGX extension (1.2.840.113741.1.13.1). */
struct cvm_sgx_pck_ext {
	uint8_t tcb_comp[16];
	uint16_t pcesvn;
	uint8_t cpusvn[16];
	uint8_t pceid[2];
	uint8_t fmspc[6];
};

/* Parse the SGX extension value (the content of extnValue). */
int cvm_sgx_pck_ext_parse(const uint8_t *der, size_t len, struct cvm_sgx_pck_ext *out,
			  struct cvm_error *err);
int cvm_sgx_pck_ext_read(X509 *cert, struct cvm_sgx_pck_ext *out, struct cvm_error *err);
/*
 * The same for a pooled PCK certificate: the extension read once when it was pooled
 * (cert->ext), or read now when that failed (for the reason).
 */
int cvm_sgx_pck_ext_of(const struct cvm_cert *cert, struct cvm_sgx_pck_ext *out,
		       struct cvm_error *err);

/*
 * Parsing a quote's PEM chain costs far more than its signatures (OpenSSL's PEM decoders), so
 * chains are remembered by the SHA-256 of their PEM bytes, and attestation keys by their bytes.
 */
#define CVM_PCK_CACHE_SIZE 16u
#define CVM_AK_CACHE_SIZE 16u

struct cvm_pck_cache_entry {
	unsigned char pem_sha256[32];
	struct cvm_cert *leaf, *ca, *root;
};

struct cvm_ak_cache_entry {
	uint8_t xy[64];
	EVP_PKEY *key;
};

/* The entry of a bounded cache (cap entries, n in use) to fill next: a free one, else the oldest. */
static inline size_t cvm_cache_slot(size_t *n, size_t *next, size_t cap)
{
	if (*n < cap)
		return (*n)++;
	size_t i = *next;
	*next = (*next + 1) % cap;
	return i;
}

/*
 * Collateral signatures (a TCB info's, a QE identity's, a CRL's) are the same for every quote:
 * each one found to verify is remembered as the pair (document or CRL, signing certificate).
 */
#define CVM_SIG_CACHE_SIZE 16u

struct cvm_sig_cache_entry {
	const void *signed_object;
	const struct cvm_cert *signer;
};

struct cvm_tdx_collateral; /* tdx/tdx_verify_collateral.c */

/* The verifier's TDX slot (struct cvm_verifier.ext[CVM_VERIFIER_EXT_TDX].state). */
struct cvm_tdx_verifier_state {
	struct cvm_tdx_collateral *collateral; /* NULL until collateral is added */
	struct cvm_pck_cache_entry pck_cache[CVM_PCK_CACHE_SIZE];
	size_t npck_cache, pck_cache_next;
	struct cvm_ak_cache_entry ak_cache[CVM_AK_CACHE_SIZE];
	size_t nak_cache, ak_cache_next;
	struct cvm_sig_cache_entry sig_cache[CVM_SIG_CACHE_SIZE];
	size_t nsig_cache, sig_cache_next;
};

/* The TDX slot of v (set up by cvm_tdx_verifier_setup; never NULL after it). */
struct cvm_tdx_verifier_state *cvm_tdx_verifier_state(const struct cvm_verifier *v);

/*
 * Make v recognise Intel certificates (SGX Root CA, PCK CAs, PCK, TCB Signing), create its TDX
 * slot and pool the bundled Intel SGX Root CA as a trust anchor.
 */
int cvm_tdx_verifier_setup(struct cvm_verifier *v, struct cvm_error *err);

void cvm_tdx_collateral_free(struct cvm_tdx_collateral *c);
/*
 * A collateral holding the same documents and CRLs (but those that came inside evidence),
 * shared with src (reference-counted; they are only read once loaded, so clones may be used on
 * different threads).  NULL: no memory.
 */
struct cvm_tdx_collateral *cvm_tdx_collateral_clone(const struct cvm_tdx_collateral *src);
/* Drop the CRLs added while the verifier was scoping (they came inside one evidence). */
void cvm_tdx_collateral_drop_scoped(struct cvm_tdx_collateral *c);
int cvm_tdx_collateral_add(struct cvm_verifier *v, const uint8_t *data, size_t len,
			   const char *origin, struct cvm_error *err);
/* Forget every remembered collateral signature (certificates or CRLs were dropped). */
void cvm_tdx_sig_cache_clear(struct cvm_tdx_verifier_state *st);

/*
 * Collateral checks for a quote whose PCK chain (leaf, ca, root) verified: revocation, QE
 * identity and TCB status, each from the collateral matching the quote (the TCB info of the PCK
 * certificate's FMSPC and PCE ID, the TD_QE identity), or unevaluated without it.
 */
void cvm_tdx_collateral_check(struct cvm_verifier *v, const struct cvm_tdx_quote *q,
			      struct cvm_cert *leaf, struct cvm_cert *ca, struct cvm_cert *root,
			      time_t t, const struct cvm_verify_options *opt,
			      struct cvm_verify_result *res);

/*
 * The verifier rules (tdx/tdx_verify_rules.c): TD_ATTRIBUTES reserved bits and XFAM fixed bits
 * always, then opt's rules (the secure defaults when none), one named check each.  pck is the
 * PCK certificate of a chain that verified (its PCESVN), or NULL.
 */
void cvm_tdx_rules_check(const struct cvm_tdx_quote *q, const struct cvm_cert *pck,
			 const struct cvm_verify_options *opt, struct cvm_verify_result *res);

#endif
