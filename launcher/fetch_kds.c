/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AMD KDS: which URL and which cache file hold the VCEK of a chip at a TCB, the product's
 * certificate chain and its CRL (spec/snp-report.md §4), and why a report may have no VCEK URL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/fetch.h>
#include <cvmkit/util.h>

#include "launcher/fetch_internal.h"

#define KEY_INFO_MASK_CHIP_KEY (1u << 1)
#define TURIN_HWID_LEN 8u
#define HWID_LEN 64u

const char *cvm_kds_product(enum cvm_amd_product p)
{
	static const char *const names[] = {
		[CVM_AMD_MILAN] = "Milan", [CVM_AMD_GENOA] = "Genoa", [CVM_AMD_TURIN] = "Turin"};
	return (size_t)p < CVM_ARRAY_SIZE(names) ? names[p] : NULL;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

void cvm_kds_vcek_id_from_report(const struct cvm_snp_report *r, enum cvm_amd_product product,
				 struct cvm_kds_vcek_id *out)
{
	struct cvm_kds_vcek_id id = {.product = product, .key_info = r->key_info};
	if (id.product == CVM_AMD_UNKNOWN)
		id.product = cvm_snp_report_product(r);
	/* A v2 report has no CPUID; only Turin leaves the last 56 bytes of CHIP_ID zero. */
	if (id.product == CVM_AMD_UNKNOWN && !all_zero(r->chip_id, TURIN_HWID_LEN) &&
	    all_zero(r->chip_id + TURIN_HWID_LEN, HWID_LEN - TURIN_HWID_LEN))
		id.product = CVM_AMD_TURIN;
	memcpy(id.chip_id, r->chip_id, sizeof(id.chip_id));
	cvm_snp_tcb_decode(r->reported_tcb, id.product, &id.tcb);
	*out = id;
}

/* Why this report has no VCEK to fetch, or 0. */
static int vcek_unavailable(const struct cvm_kds_vcek_id *id, bool need_product,
			    struct cvm_error *err)
{
	unsigned key = (id->key_info >> 2) & 7u;
	if (key == CVM_SNP_KEY_VLEK)
		return cvm_error_set(err, -EINVAL,
				     "no VCEK URL: the report is signed by a VLEK, which KDS gives "
				     "only to the cloud provider; supply it with the certificates "
				     "(the host's certificate table carries it)");
	if (key != CVM_SNP_KEY_VCEK)
		return cvm_error_set(err, -EINVAL, "no VCEK URL: the report's SIGNING_KEY is %u, "
						   "not a VCEK", key);
	if (id->key_info & KEY_INFO_MASK_CHIP_KEY)
		return cvm_error_set(err, -EINVAL,
				     "no VCEK URL: MASK_CHIP_KEY is set, so the report carries no "
				     "chip-key signature to check");
	if (all_zero(id->chip_id, HWID_LEN))
		return cvm_error_set(err, -EINVAL,
				     "no VCEK URL: CHIP_ID is all zero (the platform sets "
				     "MASK_CHIP_ID); supply the VCEK with the certificates, e.g. "
				     "from the host's certificate table");
	if (need_product && !cvm_kds_product(id->product))
		return cvm_error_set(err, -EINVAL, "no VCEK URL: the product line is unknown (a v2 "
						   "report does not name it); give it");
	return 0;
}

static size_t hwid_len(enum cvm_amd_product p)
{
	return p == CVM_AMD_TURIN ? TURIN_HWID_LEN : HWID_LEN;
}

/* Lower-case hex of the KDS hwID: 129 bytes. */
static void hwid_hex(const struct cvm_kds_vcek_id *id, char out[2 * HWID_LEN + 1])
{
	cvm_hex_encode(id->chip_id, hwid_len(id->product), out);
}

/* "bl03_tee00_snp08_ucode115[_fmc00]": Trustee's file-name prefix. */
static void tcb_prefix(const struct cvm_kds_vcek_id *id, char *out, size_t n)
{
	const struct cvm_snp_tcb *t = &id->tcb;
	int k = snprintf(out, n, "bl%02u_tee%02u_snp%02u_ucode%02u", t->bootloader, t->tee, t->snp,
			 t->microcode);
	if (id->product == CVM_AMD_TURIN && k > 0 && (size_t)k < n)
		snprintf(out + k, n - (size_t)k, "_fmc%02u", t->fmc);
}

static void vcek_url(const char *base, const struct cvm_kds_vcek_id *id, char *out, size_t n)
{
	const struct cvm_snp_tcb *t = &id->tcb;
	char hwid[2 * HWID_LEN + 1], fmc[16] = "";
	hwid_hex(id, hwid);
	if (id->product == CVM_AMD_TURIN)
		snprintf(fmc, sizeof(fmc), "fmcSPL=%02u&", t->fmc);
	int blen = (int)strnlen(base, n);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	snprintf(out, n, "%.*s/vcek/v1/%s/%s?%sblSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u",
		 blen, base, cvm_kds_product(id->product), hwid, fmc, t->bootloader, t->tee, t->snp,
		 t->microcode);
}

static void vcek_store_path(const struct cvm_kds_vcek_id *id, char *out, size_t n)
{
	char hwid[2 * HWID_LEN + 1], prefix[64];
	hwid_hex(id, hwid);
	tcb_prefix(id, prefix, sizeof(prefix));
	snprintf(out, n, "vcek/%s/%s_vcek.der", hwid, prefix);
}

static int dup_out(const char *s, char **out, struct cvm_error *err)
{
	char *d = strdup(s);
	if (!d)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	*out = d;
	return 0;
}

int cvm_kds_vcek_url(const char *kds_base, const struct cvm_kds_vcek_id *id, char **out,
		     struct cvm_error *err)
{
	int rc = vcek_unavailable(id, true, err);
	if (rc)
		return rc;
	if (kds_base && strlen(kds_base) > 512)
		return cvm_error_set(err, -EINVAL, "KDS URL longer than 512 bytes");
	char url[1024];
	vcek_url(kds_base ? kds_base : CVM_FETCH_DEFAULT_KDS_URL, id, url, sizeof(url));
	return dup_out(url, out, err);
}

int cvm_kds_vcek_store_path(const struct cvm_kds_vcek_id *id, char **out, struct cvm_error *err)
{
	int rc = vcek_unavailable(id, false, err);
	if (rc)
		return rc;
	char path[256];
	vcek_store_path(id, path, sizeof(path));
	return dup_out(path, out, err);
}

static void vcek_spec(const struct cvm_fetcher *f, const struct cvm_kds_vcek_id *id,
		      struct cvm_fetch_spec *s)
{
	char hwid[2 * HWID_LEN + 1], prefix[64], tcb[64];
	const struct cvm_snp_tcb *t = &id->tcb;
	hwid_hex(id, hwid);
	tcb_prefix(id, prefix, sizeof(prefix));
	memset(s, 0, sizeof(*s));
	s->expect = (struct cvm_fetch_expect){
		.kind = CVM_FETCH_VCEK, .product = id->product, .vcek = id};
	if (id->product == CVM_AMD_TURIN)
		snprintf(tcb, sizeof(tcb), "fmc %u bl %u tee %u snp %u ucode %u", t->fmc,
			 t->bootloader, t->tee, t->snp, t->microcode);
	else
		snprintf(tcb, sizeof(tcb), "bl %u tee %u snp %u ucode %u", t->bootloader, t->tee,
			 t->snp, t->microcode);
	snprintf(s->what, sizeof(s->what), "VCEK for %s chip %.16s.. at TCB %s",
		 cvm_kds_product(id->product), hwid, tcb);
	vcek_url(cvm_fetcher_kds_url(f), id, s->url, sizeof(s->url));
	vcek_store_path(id, s->cache_rel, sizeof(s->cache_rel));
	snprintf(s->export_name, sizeof(s->export_name), "certs/vcek_%s_%s.der", hwid, prefix);
	/* Trustee's store also takes one VCEK per chip without the TCB in its name. */
	snprintf(s->legacy_rel, sizeof(s->legacy_rel), "vcek/%s/vcek.der", hwid);
}

int cvm_fetch_vcek(struct cvm_fetcher *f, const struct cvm_kds_vcek_id *id,
		   struct cvm_fetch_item **out, struct cvm_error *err)
{
	int rc = vcek_unavailable(id, false, err);
	if (rc)
		return rc;
	struct cvm_fetch_spec *s = malloc(sizeof(*s));
	if (!s)
		return cvm_error_set(err, -ENOMEM, "VCEK: out of memory");
	struct cvm_kds_vcek_id cand = *id;
	if (cvm_kds_product(id->product)) {
		vcek_spec(f, &cand, s);
		rc = cvm_fetch_get(f, s, out, err);
		free(s);
		return rc;
	}
	/* A v2 report does not say its line: Milan, then Genoa (the same cache file). */
	static const enum cvm_amd_product lines[] = {CVM_AMD_MILAN, CVM_AMD_GENOA};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(lines); i++) {
		cand.product = lines[i];
		vcek_spec(f, &cand, s);
		s->expect.product = CVM_AMD_UNKNOWN;
		rc = cvm_fetch_get(f, s, out, err);
		if (rc != -ENOENT || cvm_fetcher_offline(f))
			break;
	}
	free(s);
	if (rc == -ENOENT && !cvm_fetcher_offline(f))
		cvm_error_wrap(err, "VCEK: the report does not name its product line and KDS has "
				    "it as neither Milan nor Genoa");
	return rc;
}

static void amd_spec(const struct cvm_fetcher *f, enum cvm_fetch_kind kind,
		     enum cvm_amd_product p, enum cvm_snp_signing_key key, struct cvm_fetch_spec *s)
{
	bool vlek = key == CVM_SNP_KEY_VLEK;
	const char *flavour = vlek ? "vlek" : "vcek", *line = cvm_kds_product(p);
	const char *lower = cvm_amd_product_name(p);
	bool chain = kind == CVM_FETCH_AMD_CHAIN;
	memset(s, 0, sizeof(*s));
	s->expect = (struct cvm_fetch_expect){.kind = kind, .product = p, .key = key};
	if (chain)
		snprintf(s->what, sizeof(s->what), "AMD %s %s certificate chain (%s, ARK)", line,
			 vlek ? "VLEK" : "VCEK", vlek ? "ASVK" : "ASK");
	else
		snprintf(s->what, sizeof(s->what), "AMD %s %s CRL", line, vlek ? "VLEK" : "VCEK");
	snprintf(s->url, sizeof(s->url), "%s/%s/v1/%s/%s", cvm_fetcher_kds_url(f), flavour, line,
		 chain ? "cert_chain" : "crl");
	snprintf(s->cache_rel, sizeof(s->cache_rel), "amd/%s/%s_%s", lower, flavour,
		 chain ? "cert_chain.pem" : "crl.der");
	snprintf(s->export_name, sizeof(s->export_name), "certs/%s_%s_%s", lower, flavour,
		 chain ? "cert_chain.pem" : "crl.der");
}

static int amd_item(struct cvm_fetcher *f, enum cvm_fetch_kind kind, enum cvm_amd_product p,
		    enum cvm_snp_signing_key key, struct cvm_fetch_item **out,
		    struct cvm_error *err)
{
	const char *what = kind == CVM_FETCH_AMD_CHAIN ? "AMD certificate chain" : "AMD CRL";
	if (!cvm_kds_product(p))
		return cvm_error_set(err, -EINVAL, "%s: the product line is unknown; give it", what);
	if (key != CVM_SNP_KEY_VCEK && key != CVM_SNP_KEY_VLEK)
		return cvm_error_set(err, -EINVAL, "%s: no chain for signing key %u", what,
				     (unsigned)key);
	struct cvm_fetch_spec *s = malloc(sizeof(*s));
	if (!s)
		return cvm_error_set(err, -ENOMEM, "%s: out of memory", what);
	amd_spec(f, kind, p, key, s);
	int rc = cvm_fetch_get(f, s, out, err);
	free(s);
	return rc;
}

int cvm_fetch_amd_chain(struct cvm_fetcher *f, enum cvm_amd_product product,
			enum cvm_snp_signing_key key, struct cvm_fetch_item **out,
			struct cvm_error *err)
{
	return amd_item(f, CVM_FETCH_AMD_CHAIN, product, key, out, err);
}

int cvm_fetch_amd_crl(struct cvm_fetcher *f, enum cvm_amd_product product,
		      enum cvm_snp_signing_key key, struct cvm_fetch_item **out,
		      struct cvm_error *err)
{
	return amd_item(f, CVM_FETCH_AMD_CRL, product, key, out, err);
}
