/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the SNP verifier (sev/snp_verify*.c, sev/amd_roots.c) and to the verifier set-up in
 * launcher/verify_evidence.c: the AMD certificate extensions, the bundled AMD certificates and
 * the hook that teaches a verifier's pool the AMD certificates.
 */
#ifndef CVMKIT_SEV_SNP_VERIFY_INTERNAL_H
#define CVMKIT_SEV_SNP_VERIFY_INTERNAL_H

#include "measure/verify_internal.h"

/* AMD VCEK/VLEK extensions (spec/snp-report.md §4). */
struct cvm_amd_cert_ext {
	bool has_struct_version;
	uint64_t struct_version;
	char product_name[32];
	bool has_bl, has_tee, has_snp, has_ucode, has_fmc;
	uint64_t bl, tee, snp, ucode, fmc;
	size_t hwid_len; /* 0 when absent; 64 (Milan/Genoa) or 8 (Turin) */
	uint8_t hwid[64];
	char csp_id[128];
};

/* Read the AMD extensions of a VCEK/VLEK. -EINVAL with the reason when one is malformed. */
int cvm_amd_cert_ext_read(X509 *cert, struct cvm_amd_cert_ext *out, struct cvm_error *err);

/* The bundled ARK/ASK/ASVK of every product line (DER). */
struct cvm_bundled_cert {
	const uint8_t *der;
	size_t len;
};
size_t cvm_amd_bundled_certs(const struct cvm_bundled_cert **out);

/*
 * Make v recognise AMD certificates (ARK, ASK, ASVK, VCEK, VLEK; a VCEK/VLEK's extensions are
 * read once into cert->ext) and pool the bundled AMD roots as trust anchors.
 */
int cvm_snp_verifier_setup(struct cvm_verifier *v, struct cvm_error *err);

/* ---- AMD revocation (sev/snp_revocation.c) ---- */

/* At most this many AMD CRLs are held (KDS serves one per ARK and key type). */
#define CVM_SNP_MAX_CRLS 8u

/*
 * Hold a CRL (DER or PEM) for the revocation check when an AMD ARK issued it (issuer CN
 * "ARK-..."): 1 when held (a CRL already held is not held twice), 0 when it is another issuer's
 * CRL (left to the caller), -EINVAL when data is no CRL, -E2BIG past CVM_SNP_MAX_CRLS, -ENOMEM.
 * Nothing is checked here: signatures, issuers and windows are judged for each report
 * (cvm_snp_revocation_check).
 */
int cvm_snp_crl_add(struct cvm_verifier *v, const uint8_t *data, size_t len, const char *origin,
		    struct cvm_error *err);

/*
 * The "revocation" check of a report whose chain leaf <- mid <- ark verified (any of them NULL:
 * no chain, skipped): every CRL ark issued must be an RSASSA-PSS/SHA-384 (salt 48) signature
 * that verifies with ark's key and must list neither mid (ASK/ASVK) nor leaf (VCEK/VLEK) by
 * serial, and one of them must be valid at t.  No CRL of ark: skip, or fail when required.
 */
void cvm_snp_revocation_check(const struct cvm_verifier *v, const struct cvm_cert *ark,
			      const struct cvm_cert *mid, const struct cvm_cert *leaf, time_t t,
			      bool required, struct cvm_verify_result *res);

/*
 * The verifier rules (sev/snp_verify_rules.c): opt's rules (the secure defaults when none) and
 * the options that override them, one named check each, on the report product p.  ext is the
 * extensions of the certificate whose key signed the report, or NULL when none verified (the
 * certificate TCB check is then skipped).
 */
void cvm_snp_rules_check(const struct cvm_snp_report *r, const struct cvm_amd_cert_ext *ext,
			 const struct cvm_verify_options *opt, enum cvm_amd_product p,
			 struct cvm_verify_result *res);

/*
 * The reference values of an expected document beyond MEASUREMENT and its fields (a CoRIM's
 * VMPL, FAMILY_ID, IMAGE_ID, GUEST_SVN, TCB minima, ...; struct cvm_snp_refvals), one named
 * check each, on the report product p.
 */
struct cvm_snp_refvals;
void cvm_snp_refvals_check(const struct cvm_snp_report *r, const struct cvm_snp_refvals *rv,
			   enum cvm_amd_product p, struct cvm_verify_result *res);

#endif
