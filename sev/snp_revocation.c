/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AMD revocation: the CRLs AMD's KDS serves (/vcek/v1/{product}/crl, /vlek/v1/{product}/crl),
 * signed by the product's ARK with RSASSA-PSS over SHA-384 (salt length 48, as the ARK signs
 * its certificates), listing revoked ASKs/ASVKs and, where present, VCEK/VLEK serials.  They
 * are kept in the verifier's SNP slot and judged again for every report: signature, issuer,
 * window at the verification time, then the serials of the chain that verified.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "sev/snp_verify_internal.h"

#define WHY_MAX CVM_CHECK_REASON_MAX

struct snp_crl {
	X509_CRL *crl;
	unsigned char sha256[32]; /* of the DER: the same CRL is held once */
	char origin[64];
	bool scoped; /* came inside the evidence being verified */
};

struct snp_state {
	struct snp_crl crls[CVM_SNP_MAX_CRLS];
	size_t ncrls;
};

static void state_free(void *p)
{
	struct snp_state *st = p;
	if (!st)
		return;
	for (size_t i = 0; i < st->ncrls; i++)
		X509_CRL_free(st->crls[i].crl);
	free(st);
}

/* The CRLs that came inside one piece of evidence go with its verdict. */
static void state_drop_scoped(void *p)
{
	struct snp_state *st = p;
	size_t kept = 0;
	for (size_t i = 0; i < st->ncrls; i++) {
		if (st->crls[i].scoped)
			X509_CRL_free(st->crls[i].crl);
		else
			st->crls[kept++] = st->crls[i];
	}
	st->ncrls = kept;
}

/* The same CRLs (shared: only read once held), without those of the evidence in hand. */
static void *state_clone(const void *p)
{
	const struct snp_state *src = p;
	struct snp_state *st = calloc(1, sizeof(*st));
	for (size_t i = 0; st && i < src->ncrls; i++) {
		if (src->crls[i].scoped)
			continue;
		if (X509_CRL_up_ref(src->crls[i].crl) != 1) {
			state_free(st);
			return NULL;
		}
		st->crls[st->ncrls++] = src->crls[i];
	}
	return st;
}

static struct snp_state *snp_state(const struct cvm_verifier *v)
{
	return v->ext[CVM_VERIFIER_EXT_SNP].state;
}

static bool issued_by_an_ark(X509_CRL *crl)
{
	char cn[96];
	cvm_x509_cn(X509_CRL_get_issuer(crl), cn, sizeof(cn));
	return strncmp(cn, "ARK-", 4) == 0;
}

int cvm_snp_crl_add(struct cvm_verifier *v, const uint8_t *data, size_t len, const char *origin,
		    struct cvm_error *err)
{
	if (!origin)
		origin = "CRL";
	X509_CRL *crl = cvm_crl_parse(data, len);
	if (!crl)
		return cvm_error_set(err, -EINVAL, "%s: not a CRL (DER or PEM)", origin);
	if (!issued_by_an_ark(crl)) {
		X509_CRL_free(crl);
		return 0;
	}
	struct cvm_verifier_ext *slot = &v->ext[CVM_VERIFIER_EXT_SNP];
	if (!slot->state) {
		if (!(slot->state = calloc(1, sizeof(struct snp_state)))) {
			X509_CRL_free(crl);
			return cvm_error_set(err, -ENOMEM, "%s: out of memory", origin);
		}
		slot->free = state_free;
		slot->drop_scoped = state_drop_scoped;
		slot->clone = state_clone;
	}
	struct snp_state *st = slot->state;
	unsigned char sha[32];
	unsigned int n = 0;
	if (X509_CRL_digest(crl, EVP_sha256(), sha, &n) != 1 || n != sizeof(sha)) {
		X509_CRL_free(crl);
		ERR_clear_error();
		return cvm_error_set(err, -ENOMEM, "%s: out of memory", origin);
	}
	for (size_t i = 0; i < st->ncrls; i++) {
		if (memcmp(st->crls[i].sha256, sha, sizeof(sha)) == 0) {
			X509_CRL_free(crl); /* the same CRL again (given and fetched, say) */
			return 1;
		}
	}
	if (st->ncrls == CVM_SNP_MAX_CRLS) {
		X509_CRL_free(crl);
		return cvm_error_set(err, -E2BIG, "%s: more than %u AMD CRLs", origin,
				     CVM_SNP_MAX_CRLS);
	}
	struct snp_crl *at = &st->crls[st->ncrls++];
	at->crl = crl;
	at->scoped = v->scoping;
	memcpy(at->sha256, sha, sizeof(sha));
	snprintf(at->origin, sizeof(at->origin), "%s", origin);
	return 1;
}

/* RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt, as AMD's ARK signs. */
static bool pss_sha384(const X509_CRL *crl)
{
	const X509_ALGOR *alg = NULL;
	X509_CRL_get0_signature(crl, NULL, &alg);
	const ASN1_OBJECT *oid = NULL;
	int ptype = 0;
	const void *pval = NULL;
	X509_ALGOR_get0(&oid, &ptype, &pval, alg);
	bool ok = false;
	if (OBJ_obj2nid(oid) == NID_rsassaPss && ptype == V_ASN1_SEQUENCE) {
		const ASN1_STRING *s = pval;
		const unsigned char *p = ASN1_STRING_get0_data(s);
		RSA_PSS_PARAMS *pss = d2i_RSA_PSS_PARAMS(NULL, &p, ASN1_STRING_length(s));
		/* MGF1's hash is an AlgorithmIdentifier inside the mask generation parameters. */
		X509_ALGOR *mgf1_md = NULL;
		if (pss && pss->maskGenAlgorithm &&
		    OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) == NID_mgf1)
			mgf1_md = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR),
							    pss->maskGenAlgorithm->parameter);
		ok = pss && pss->hashAlgorithm && mgf1_md && pss->saltLength &&
		     OBJ_obj2nid(pss->hashAlgorithm->algorithm) == NID_sha384 &&
		     OBJ_obj2nid(mgf1_md->algorithm) == NID_sha384 &&
		     ASN1_INTEGER_get(pss->saltLength) == 48;
		X509_ALGOR_free(mgf1_md);
		RSA_PSS_PARAMS_free(pss);
		ERR_clear_error();
	}
	return ok;
}

static void serial_text(const X509 *x, char *buf, size_t n)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	snprintf(buf, n, "0x%s", hex ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}

/* The entry that revokes c, or NULL. */
static const X509_REVOKED *revoked(X509_CRL *crl, const struct cvm_cert *c)
{
	X509_REVOKED *rev = NULL;
	return X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(c->x509)) == 1 ? rev : NULL;
}

/* A failed check when crl lists mid or leaf; true then. */
static bool report_revoked(X509_CRL *crl, const struct cvm_cert *mid, const struct cvm_cert *leaf,
			   const char *label, struct cvm_verify_result *res)
{
	const struct cvm_cert *subjects[] = {mid, leaf};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(subjects); i++) {
		const X509_REVOKED *r = revoked(crl, subjects[i]);
		if (!r)
			continue;
		char cn[64], serial[80], when[32] = "?";
		time_t rt;
		cvm_x509_cn(X509_get_subject_name(subjects[i]->x509), cn, sizeof(cn));
		serial_text(subjects[i]->x509, serial, sizeof(serial));
		if (cvm_asn1_time_to_time(X509_REVOKED_get0_revocationDate(r), &rt))
			cvm_time_format(rt, when, sizeof(when));
		cvm_check_add(res, "revocation", CVM_CHECK_FAIL, "%s (serial %s) is revoked by %s since %s",
			      cn, serial, label, when);
		return true;
	}
	return false;
}

void cvm_snp_revocation_check(const struct cvm_verifier *v, const struct cvm_cert *ark,
			      const struct cvm_cert *mid, const struct cvm_cert *leaf, time_t t,
			      bool required, struct cvm_verify_result *res)
{
	if (!ark || !mid || !leaf) {
		cvm_check_unevaluated(res, "revocation", required, "by --require-revocation",
				      "no verified certificate chain to check");
		return;
	}
	char ark_cn[64];
	cvm_x509_cn(X509_get_subject_name(ark->x509), ark_cn, sizeof(ark_cn));
	const struct snp_state *st = snp_state(v);
	/*
	 * Every CRL of this ARK counts (KDS serves one for VCEK chains and one for VLEK chains):
	 * each must be the ARK's signature, none may list the chain (a revocation stays one after
	 * the CRL that carried it expired), and one must be current.
	 */
	size_t used = 0;
	const struct snp_crl *current = NULL;
	char label[160], why[WHY_MAX] = "";
	for (size_t i = 0; st && i < st->ncrls; i++) {
		const struct snp_crl *c = &st->crls[i];
		if (X509_NAME_cmp(X509_CRL_get_issuer(c->crl), X509_get_subject_name(ark->x509)) != 0)
			continue;
		used++;
		snprintf(label, sizeof(label), "the CRL of %s (%s)", ark_cn, c->origin);
		if (!pss_sha384(c->crl)) {
			cvm_check_add(res, "revocation", CVM_CHECK_FAIL,
				      "%s: not signed with RSASSA-PSS SHA-384 (MGF1 SHA-384, salt 48)",
				      label);
			return;
		}
		if (X509_CRL_verify(c->crl, X509_get0_pubkey(ark->x509)) != 1) {
			ERR_clear_error();
			cvm_check_add(res, "revocation", CVM_CHECK_FAIL,
				      "%s: its signature does not verify with the ARK's key", label);
			return;
		}
		if (report_revoked(c->crl, mid, leaf, label, res))
			return;
		if (cvm_crl_time_ok(c->crl, t, label, why, sizeof(why)) && !current)
			current = c;
	}
	if (used == 0) {
		cvm_check_unevaluated(res, "revocation", required, "by --require-revocation",
				      "no CRL of %s: supply AMD KDS's CRL with --certs FILE or "
				      "--fetch --require-revocation",
				      ark_cn);
		return;
	}
	if (!current) {
		cvm_check_add(res, "revocation", CVM_CHECK_FAIL, "%s", why);
		return;
	}
	snprintf(label, sizeof(label), "the CRL of %s (%s)", ark_cn, current->origin);
	cvm_check_add(res, "revocation", CVM_CHECK_PASS, "neither the %s nor the %s is revoked by %s%s",
		      mid->role == CVM_CERT_AMD_ASVK ? "ASVK" : "ASK",
		      leaf->role == CVM_CERT_AMD_VLEK ? "VLEK" : "VCEK", label,
		      used > 1 ? " or the other CRLs of the ARK" : "");
}
