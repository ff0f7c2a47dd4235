/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SEV-SNP report verification: product line, VCEK/VLEK chain to the bundled ARK, the report
 * signature, the TCB and CHIP_ID binding to the certificate, the verifier policy and the expected
 * measurement document.  Each step is one named check in the result (spec/snp-report.md §4-§7).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cvmkit/emit.h>

#include "sev/snp_verify_internal.h"

#define WHY_MAX CVM_CHECK_REASON_MAX

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static const char *signing_key_name(unsigned key)
{
	switch (key) {
	case CVM_SNP_KEY_VCEK:
		return "VCEK";
	case CVM_SNP_KEY_VLEK:
		return "VLEK";
	case CVM_SNP_KEY_NONE:
		return "no key";
	default:
		return "a reserved key type";
	}
}

/*
 * How well a VCEK/VLEK matches the report: a hwID equal to CHIP_ID, then an equal TCB, then the
 * product.  This only orders the candidates (hence plain memcmp); the checks bind the choice.
 */
static int leaf_score(const struct cvm_cert *c, const struct cvm_snp_report *r,
		      enum cvm_amd_product product)
{
	int score = 0;
	const struct cvm_amd_cert_ext *ext = c->ext;
	if (ext) {
		if (ext->hwid_len && memcmp(ext->hwid, r->chip_id, ext->hwid_len) == 0)
			score += 4;
		struct cvm_snp_tcb t;
		cvm_snp_tcb_decode(r->reported_tcb, c->product, &t);
		if (ext->bl == t.bootloader && ext->tee == t.tee && ext->snp == t.snp &&
		    ext->ucode == t.microcode)
			score += 2;
	}
	if (product != CVM_AMD_UNKNOWN && c->product == product)
		score += 1;
	return score;
}

static bool signature_verifies(const struct cvm_snp_report *r, const struct cvm_cert *leaf)
{
	/* R and S are 72-byte little-endian fields; the signature covers bytes 0x000..0x2a0. */
	return cvm_ecdsa_verify_rs(X509_get0_pubkey(leaf->x509), EVP_sha384(), r->signature_r,
				   r->signature_s, sizeof(r->signature_r), true, r->raw,
				   CVM_SNP_SIGNED_SIZE) == 1;
}

/*
 * The leaf certificate for this report among the verifier's VCEKs or VLEKs: every candidate is
 * tried, best match first, and the first whose key verifies the report signature is taken (a
 * decoy given first cannot shadow the right one).  When none verifies, the best match, for the
 * reasons.  *verified tells which.
 */
static struct cvm_cert *select_leaf(const struct cvm_verifier *v, const struct cvm_snp_report *r,
				    enum cvm_cert_role role, enum cvm_amd_product product,
				    bool *verified)
{
	*verified = false;
	struct cvm_cert *best = NULL;
	int best_score = -1;
	for (int score = 7; score >= 0; score--) {
		for (size_t i = 0; i < v->ncerts; i++) {
			struct cvm_cert *c = v->certs[i];
			if (c->role != role || leaf_score(c, r, product) != score)
				continue;
			if (!best || score > best_score) {
				best = c;
				best_score = score;
			}
			if (signature_verifies(r, c)) {
				*verified = true;
				return c;
			}
		}
	}
	return best;
}

static struct cvm_cert *find_root(const struct cvm_verifier *v, enum cvm_amd_product p)
{
	for (size_t i = 0; i < v->ncerts; i++)
		if (v->certs[i]->trusted && v->certs[i]->role == CVM_CERT_AMD_ARK &&
		    v->certs[i]->product == p)
			return v->certs[i];
	return NULL;
}

static void decide_product(const struct cvm_snp_report *r, const struct cvm_cert *leaf,
			   const struct cvm_verify_options *opt, struct cvm_verify_result *res)
{
	enum cvm_amd_product from_report = cvm_snp_report_product(r);
	enum cvm_amd_product from_cert = leaf ? leaf->product : CVM_AMD_UNKNOWN;
	if (opt->product != CVM_AMD_UNKNOWN) {
		res->product = opt->product;
		if (from_report != CVM_AMD_UNKNOWN && from_report != opt->product)
			cvm_check_add(res, "product", CVM_CHECK_FAIL,
				      "report CPUID (family 0x%02x model 0x%02x) is %s, not the given %s",
				      r->cpuid_fam_id, r->cpuid_mod_id, cvm_amd_product_name(from_report),
				      cvm_amd_product_name(opt->product));
		else
			cvm_check_add(res, "product", CVM_CHECK_PASS, "%s (given)",
				      cvm_amd_product_name(opt->product));
		return;
	}
	if (from_report != CVM_AMD_UNKNOWN) {
		res->product = from_report;
		cvm_check_add(res, "product", CVM_CHECK_PASS,
			      "%s (report CPUID family 0x%02x model 0x%02x)",
			      cvm_amd_product_name(from_report), r->cpuid_fam_id, r->cpuid_mod_id);
		return;
	}
	if (from_cert != CVM_AMD_UNKNOWN) {
		res->product = from_cert;
		cvm_check_add(res, "product", CVM_CHECK_PASS, "%s (certificate issuer)",
			      cvm_amd_product_name(from_cert));
		return;
	}
	if (r->version >= 3)
		cvm_check_add(res, "product", CVM_CHECK_FAIL,
			      "unknown CPUID family 0x%02x model 0x%02x and no certificate names the "
			      "product; give --product",
			      r->cpuid_fam_id, r->cpuid_mod_id);
	else
		cvm_check_add(res, "product", CVM_CHECK_FAIL,
			      "a v2 report does not name its product and no certificate does; give "
			      "--product");
}

static bool leaf_shape_ok(const struct cvm_cert *leaf, const char *label, char *why, size_t n)
{
	if (X509_get_signature_nid(leaf->x509) != NID_rsassaPss) {
		snprintf(why, n, "%s is not signed with RSASSA-PSS", label);
		return false;
	}
	if (!cvm_x509_ec_key_is(leaf->x509, "secp384r1")) {
		snprintf(why, n, "%s key is not ECDSA P-384", label);
		return false;
	}
	return true;
}

/* The chain check; the intermediate that verified (and the root) for the revocation check. */
static struct cvm_cert *check_chain(struct cvm_verifier *v, struct cvm_cert *leaf,
				    enum cvm_amd_product p, time_t t, struct cvm_verify_result *res,
				    struct cvm_cert **root_out)
{
	char why[WHY_MAX];
	const char *label = leaf->role == CVM_CERT_AMD_VLEK ? "VLEK" : "VCEK";
	enum cvm_cert_role mid_role =
		leaf->role == CVM_CERT_AMD_VLEK ? CVM_CERT_AMD_ASVK : CVM_CERT_AMD_ASK;
	const char *mid_label = leaf->role == CVM_CERT_AMD_VLEK ? "ASVK" : "ASK";
	struct cvm_cert *root = find_root(v, p);
	*root_out = root;
	if (!root) {
		cvm_check_add(res, "cert-chain", CVM_CHECK_FAIL, "no AMD root for product %s",
			      cvm_amd_product_name(p));
		return NULL;
	}
	if (!leaf_shape_ok(leaf, label, why, sizeof(why))) {
		cvm_check_add(res, "cert-chain", CVM_CHECK_FAIL, "%s", why);
		return NULL;
	}
	/* Try each intermediate of the product (bundled first); report the first failure. */
	char first_why[WHY_MAX] = "";
	for (size_t i = 0; i < v->ncerts; i++) {
		struct cvm_cert *mid = v->certs[i];
		if (mid->role != mid_role || mid->product != p)
			continue;
		char w[WHY_MAX];
		if (cvm_cert_link_ok(mid, root, t, mid_label, w, sizeof(w)) &&
		    cvm_cert_link_ok(leaf, mid, t, label, w, sizeof(w)) &&
		    cvm_cert_time_ok(root, t, "ARK", w, sizeof(w))) {
			char cn[64];
			cvm_x509_cn(X509_get_subject_name(root->x509), cn, sizeof(cn));
			cvm_check_add(res, "cert-chain", CVM_CHECK_PASS, "%s -> %s -> %s (bundled)", label,
				      mid_label, cn);
			return mid;
		}
		if (!first_why[0])
			memcpy(first_why, w, sizeof(first_why));
	}
	if (!first_why[0])
		snprintf(first_why, sizeof(first_why), "no %s for product %s", mid_label,
			 cvm_amd_product_name(p));
	cvm_check_add(res, "cert-chain", CVM_CHECK_FAIL, "%s", first_why);
	return NULL;
}

static void check_signature(const struct cvm_cert *leaf, bool verified, size_t candidates,
			    struct cvm_verify_result *res)
{
	const char *label = leaf->role == CVM_CERT_AMD_VLEK ? "VLEK" : "VCEK";
	if (verified)
		cvm_check_add(res, "signature", CVM_CHECK_PASS,
			      "ECDSA P-384/SHA-384 over bytes 0x000..0x2a0 verifies with the %s key "
			      "(%s)",
			      label, leaf->origin);
	else
		cvm_check_add(res, "signature", CVM_CHECK_FAIL,
			      "ECDSA P-384/SHA-384 signature does not verify with the key of any of "
			      "the %zu %s certificate%s given",
			      candidates, label, candidates == 1 ? "" : "s");
}

static size_t count_role(const struct cvm_verifier *v, enum cvm_cert_role role)
{
	size_t n = 0;
	for (size_t i = 0; i < v->ncerts; i++)
		n += v->certs[i]->role == role;
	return n;
}

static void check_tcb_binding(const struct cvm_snp_report *r, const struct cvm_cert *leaf,
			      const struct cvm_amd_cert_ext *ext, enum cvm_amd_product p,
			      struct cvm_verify_result *res)
{
	const char *label = leaf->role == CVM_CERT_AMD_VLEK ? "VLEK" : "VCEK";
	struct cvm_snp_tcb t;
	cvm_snp_tcb_decode(r->reported_tcb, p, &t);
	struct {
		const char *name;
		bool has;
		uint64_t cert;
		uint8_t report;
	} parts[] = {
		{"blSPL", ext->has_bl, ext->bl, t.bootloader},
		{"teeSPL", ext->has_tee, ext->tee, t.tee},
		{"snpSPL", ext->has_snp, ext->snp, t.snp},
		{"ucodeSPL", ext->has_ucode, ext->ucode, t.microcode},
		{"fmcSPL", ext->has_fmc, ext->fmc, t.fmc},
	};
	size_t nparts = p == CVM_AMD_TURIN ? 5 : 4;
	for (size_t i = 0; i < nparts; i++) {
		if (!parts[i].has) {
			cvm_check_add(res, "reported-tcb", CVM_CHECK_FAIL, "%s has no %s extension",
				      label, parts[i].name);
			return;
		}
		if (parts[i].cert != parts[i].report) {
			cvm_check_add(res, "reported-tcb", CVM_CHECK_FAIL,
				      "REPORTED_TCB 0x%016llx has %s %u but the %s says %llu",
				      (unsigned long long)r->reported_tcb, parts[i].name,
				      parts[i].report, label, (unsigned long long)parts[i].cert);
			return;
		}
	}
	cvm_check_add(res, "reported-tcb", CVM_CHECK_PASS,
		      "REPORTED_TCB 0x%016llx equals the %s SPLs (bl %u tee %u snp %u ucode %u%s)",
		      (unsigned long long)r->reported_tcb, label, t.bootloader, t.tee, t.snp,
		      t.microcode, p == CVM_AMD_TURIN ? " fmc" : "");
}

static void check_chip_id(const struct cvm_snp_report *r, const struct cvm_cert *leaf,
			  const struct cvm_amd_cert_ext *ext, struct cvm_verify_result *res)
{
	if (leaf->role == CVM_CERT_AMD_VLEK) {
		cvm_check_add(res, "chip-id", CVM_CHECK_SKIP, "VLEK-signed: no hardware ID to bind");
		return;
	}
	if (all_zero(r->chip_id, sizeof(r->chip_id))) {
		cvm_check_add(res, "chip-id", CVM_CHECK_SKIP, "CHIP_ID is masked (all zero)");
		return;
	}
	if (ext->hwid_len == 0) {
		cvm_check_add(res, "chip-id", CVM_CHECK_FAIL, "VCEK has no hwID extension");
		return;
	}
	bool eq = cvm_memeq_ct(r->chip_id, ext->hwid, ext->hwid_len) &&
		  all_zero(r->chip_id + ext->hwid_len, sizeof(r->chip_id) - ext->hwid_len);
	if (eq)
		cvm_check_add(res, "chip-id", CVM_CHECK_PASS, "CHIP_ID equals the VCEK hwID (%zu bytes)",
			      ext->hwid_len);
	else
		cvm_check_add(res, "chip-id", CVM_CHECK_FAIL, "CHIP_ID differs from the VCEK hwID");
}

static void check_policy(const struct cvm_snp_report *r, const struct cvm_verify_options *opt,
			 struct cvm_verify_result *res)
{
	bool debug = (r->policy & CVM_SNP_POLICY_DEBUG) != 0;
	if (!debug)
		cvm_check_add(res, "debug", CVM_CHECK_PASS, "guest policy forbids debugging");
	else if (opt->allow_debug || cvm_verify_allows(opt, CVM_VERIFY_ALLOW_DEBUG))
		cvm_check_add(res, "debug", CVM_CHECK_PASS,
			      "guest policy 0x%llx allows debugging (accepted: debug allowed)",
			      (unsigned long long)r->policy);
	else
		cvm_check_add(res, "debug", CVM_CHECK_FAIL,
			      "guest policy 0x%llx allows debugging (DEBUG=1); the verifier forbids it",
			      (unsigned long long)r->policy);

	cvm_check_report_data(res, "REPORT_DATA", r->report_data, opt);
}

static void match_expectations(const struct cvm_snp_report *r, const struct cvm_measurement *m,
			       enum cvm_amd_product p, struct cvm_verify_result *res)
{
	if (m->tee != CVM_TEE_SNP) {
		cvm_check_add(res, "measurement", CVM_CHECK_FAIL,
			      "the expected measurement document is not for SNP");
		return;
	}
	if (m->digest_len != 48)
		cvm_check_add(res, "measurement", CVM_CHECK_FAIL,
			      "the expected digest is %zu bytes, MEASUREMENT is 48", m->digest_len);
	else
		cvm_check_match_bytes(res, "measurement", "MEASUREMENT", r->measurement, m->digest,
				      48);
	if (m->has_host_data)
		cvm_check_match_bytes(res, "host-data", "HOST_DATA", r->host_data, m->host_data, 32);
	if (m->has_id_key_digest)
		cvm_check_match_bytes(res, "id-key-digest", "ID_KEY_DIGEST", r->id_key_digest,
				      m->id_key_digest, 48);
	if (m->has_author_key_digest)
		cvm_check_match_bytes(res, "author-key-digest", "AUTHOR_KEY_DIGEST",
				      r->author_key_digest, m->author_key_digest, 48);
	if (m->has_snp_policy) {
		if (r->policy == m->snp_policy)
			cvm_check_add(res, "guest-policy", CVM_CHECK_PASS, "POLICY 0x%llx as expected",
				      (unsigned long long)r->policy);
		else
			cvm_check_add(res, "guest-policy", CVM_CHECK_FAIL,
				      "POLICY 0x%llx, expected 0x%llx", (unsigned long long)r->policy,
				      (unsigned long long)m->snp_policy);
	}
	cvm_snp_refvals_check(r, &m->snp_rv, p, res);
}

int cvm_verify_snp(struct cvm_verifier *v, const struct cvm_snp_report *r,
		   const struct cvm_verify_options *opt, struct cvm_verify_result *res,
		   struct cvm_error *err)
{
	(void)err;
	cvm_verify_result_init(res);
	res->kind = CVM_EVIDENCE_SNP_REPORT;
	time_t t = opt->has_time ? opt->time : time(NULL);
	unsigned key = cvm_snp_report_signing_key(r);

	cvm_check_add(res, "parse", CVM_CHECK_PASS, "SNP attestation report v%u signed by %s",
		      r->version, signing_key_name(key));
	size_t off;
	const char *what;
	if (cvm_snp_report_reserved_nonzero(r, &off, &what))
		cvm_check_add(res, "reserved-zero", CVM_CHECK_FAIL,
			      "must-be-zero byte 0x%03zx (%s) is 0x%02x", off, what,
			      off < CVM_SNP_REPORT_SIZE ? r->raw[off] : 0u);
	else
		cvm_check_add(res, "reserved-zero", CVM_CHECK_PASS,
			      "reserved fields and the unsigned trailer are zero");

	if (!(r->policy & CVM_SNP_POLICY_RSVD1))
		cvm_check_add(res, "policy-format", CVM_CHECK_FAIL,
			      "guest policy 0x%llx has reserved bit 17 clear (it must be 1)",
			      (unsigned long long)r->policy);
	else if (r->policy >> 26)
		cvm_check_add(res, "policy-format", CVM_CHECK_FAIL,
			      "guest policy 0x%llx sets must-be-zero bits 63:26",
			      (unsigned long long)r->policy);
	else
		cvm_check_add(res, "policy-format", CVM_CHECK_PASS, "guest policy 0x%llx is well formed",
			      (unsigned long long)r->policy);

	struct cvm_cert *leaf = NULL, *mid = NULL, *root = NULL;
	bool verified = false;
	enum cvm_cert_role role = key == CVM_SNP_KEY_VLEK ? CVM_CERT_AMD_VLEK : CVM_CERT_AMD_VCEK;
	if (key == CVM_SNP_KEY_VCEK || key == CVM_SNP_KEY_VLEK) {
		enum cvm_amd_product hint =
			opt->product != CVM_AMD_UNKNOWN ? opt->product : cvm_snp_report_product(r);
		leaf = select_leaf(v, r, role, hint, &verified);
	}
	if (leaf && verified) {
		snprintf(res->leaf_origin, sizeof(res->leaf_origin), "%s", leaf->origin);
		const struct cvm_amd_cert_ext *lext = leaf->ext;
		if (lext)
			snprintf(res->csp_id, sizeof(res->csp_id), "%s", lext->csp_id);
	}
	decide_product(r, leaf, opt, res);
	enum cvm_amd_product p = res->product;

	if (key != CVM_SNP_KEY_VCEK && key != CVM_SNP_KEY_VLEK) {
		cvm_check_add(res, "cert-chain", CVM_CHECK_FAIL,
			      "report is signed by %s (SIGNING_KEY=%u); nothing to verify", signing_key_name(key),
			      key);
	} else if (!leaf) {
		cvm_check_unevaluated(res, "cert-chain", cvm_check_required(opt, CVM_ALLOW_CERT_CHAIN),
				      "accept with --allow-unevaluated cert-chain",
				      "the report is signed by a %s and no %s certificate was given: "
				      "supply it with --certs FILE or --fetch",
				      signing_key_name(key), signing_key_name(key));
	} else if (p == CVM_AMD_UNKNOWN) {
		cvm_check_unevaluated(res, "cert-chain", cvm_check_required(opt, CVM_ALLOW_CERT_CHAIN),
				      "accept with --allow-unevaluated cert-chain",
				      "product line unknown, so no AMD root to use: give --product");
	} else {
		mid = check_chain(v, leaf, p, t, res, &root);
	}
	cvm_snp_revocation_check(v, root, mid, mid ? leaf : NULL, t, opt->require_revocation, res);

	if (leaf) {
		check_signature(leaf, verified, count_role(v, role), res);
		if (leaf->ext) {
			check_tcb_binding(r, leaf, leaf->ext, p, res);
			check_chip_id(r, leaf, leaf->ext, res);
		} else {
			/* Read again only for the reason: the pool keeps no message. */
			struct cvm_amd_cert_ext ext;
			struct cvm_error eerr;
			cvm_error_clear(&eerr);
			(void)cvm_amd_cert_ext_read(leaf->x509, &ext, &eerr);
			cvm_check_add(res, "reported-tcb", CVM_CHECK_FAIL, "%s", cvm_error_message(&eerr));
		}
	} else {
		cvm_check_add(res, "signature", CVM_CHECK_FAIL,
			      "no certificate to verify it with: supply the %s with --certs FILE or "
			      "--fetch",
			      signing_key_name(key));
		if (key == CVM_SNP_KEY_VCEK || key == CVM_SNP_KEY_VLEK) {
			cvm_check_unevaluated(res, "reported-tcb",
					      cvm_check_required(opt, CVM_ALLOW_REPORTED_TCB),
					      "accept with --allow-unevaluated reported-tcb",
					      "no %s to bind REPORTED_TCB to: supply it with --certs FILE "
					      "or --fetch",
					      signing_key_name(key));
			if (key == CVM_SNP_KEY_VCEK)
				cvm_check_unevaluated(res, "chip-id",
						      cvm_check_required(opt, CVM_ALLOW_CHIP_ID),
						      "accept with --allow-unevaluated chip-id",
						      "no VCEK to bind CHIP_ID to: supply it with --certs "
						      "FILE or --fetch");
		}
	}

	check_policy(r, opt, res);
	cvm_snp_rules_check(r, leaf ? leaf->ext : NULL, opt, p, res);
	if (opt->expect)
		match_expectations(r, opt->expect, p, res);
	return 0;
}
