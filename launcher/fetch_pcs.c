/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel PCS v4 (or a PCCS, which serves the same paths): the TDX collateral of a quote.  The TCB
 * info, QE identity and PCK CRL come with their issuer chain in a response header; the root CA
 * CRL comes from Intel's certificate host, or from the PCCS when one is configured.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/fetch.h>
#include <cvmkit/util.h>

#include "launcher/fetch_internal.h"

/* name ("intel/tdx_qe_identity") -> cache, chain and export names. */
static void intel_names(struct cvm_fetch_spec *s, const char *name, const char *ext,
			bool has_chain)
{
	snprintf(s->cache_rel, sizeof(s->cache_rel), "intel/%s.%s", name, ext);
	snprintf(s->export_name, sizeof(s->export_name), "collateral/%s.%s", name, ext);
	if (has_chain)
		snprintf(s->chain_rel, sizeof(s->chain_rel), "intel/%s_issuer_chain.pem", name);
}

static struct cvm_fetch_spec *spec_new(enum cvm_fetch_kind kind, struct cvm_error *err)
{
	struct cvm_fetch_spec *s = calloc(1, sizeof(*s));
	if (!s)
		cvm_error_set(err, -ENOMEM, "%s: out of memory", cvm_fetch_kind_name(kind));
	else
		s->expect.kind = kind;
	return s;
}

static int run_spec(struct cvm_fetcher *f, struct cvm_fetch_spec *s, struct cvm_fetch_item **out,
		    struct cvm_error *err)
{
	int rc = cvm_fetch_get(f, s, out, err);
	free(s);
	return rc;
}

int cvm_fetch_tdx_tcb_info(struct cvm_fetcher *f, const uint8_t fmspc[6],
			   struct cvm_fetch_item **out, struct cvm_error *err)
{
	char hex[13], name[64];
	cvm_hex_encode(fmspc, 6, hex);
	struct cvm_fetch_spec *s = spec_new(CVM_FETCH_TCB_INFO, err);
	if (!s)
		return -ENOMEM;
	snprintf(s->what, sizeof(s->what), "Intel TDX TCB info for FMSPC %s", hex);
	snprintf(s->url, sizeof(s->url), "%s/tdx/certification/v4/tcb?fmspc=%s",
		 cvm_fetcher_pcs_url(f), hex);
	snprintf(name, sizeof(name), "tdx_tcb_info_%s", hex);
	intel_names(s, name, "json", true);
	s->chain_header = "TCB-Info-Issuer-Chain";
	s->chain_header_alt = "SGX-TCB-Info-Issuer-Chain";
	s->expect.fmspc = hex;
	return run_spec(f, s, out, err);
}

int cvm_fetch_tdx_qe_identity(struct cvm_fetcher *f, struct cvm_fetch_item **out,
			      struct cvm_error *err)
{
	struct cvm_fetch_spec *s = spec_new(CVM_FETCH_QE_IDENTITY, err);
	if (!s)
		return -ENOMEM;
	snprintf(s->what, sizeof(s->what), "Intel TDX QE identity");
	snprintf(s->url, sizeof(s->url), "%s/tdx/certification/v4/qe/identity",
		 cvm_fetcher_pcs_url(f));
	intel_names(s, "tdx_qe_identity", "json", true);
	s->chain_header = "SGX-Enclave-Identity-Issuer-Chain";
	return run_spec(f, s, out, err);
}

int cvm_fetch_pck_crl(struct cvm_fetcher *f, enum cvm_pck_ca ca, struct cvm_fetch_item **out,
		      struct cvm_error *err)
{
	if (ca != CVM_PCK_CA_PLATFORM && ca != CVM_PCK_CA_PROCESSOR)
		return cvm_error_set(err, -EINVAL, "PCK CRL: unknown CA %d", (int)ca);
	const char *which = ca == CVM_PCK_CA_PLATFORM ? "platform" : "processor";
	char name[64];
	struct cvm_fetch_spec *s = spec_new(CVM_FETCH_PCK_CRL, err);
	if (!s)
		return -ENOMEM;
	s->expect.pck_ca = ca;
	snprintf(s->what, sizeof(s->what), "Intel PCK CRL (%s CA)", which);
	snprintf(s->url, sizeof(s->url), "%s/sgx/certification/v4/pckcrl?ca=%s&encoding=der",
		 cvm_fetcher_pcs_url(f), which);
	snprintf(name, sizeof(name), "pck_crl_%s", which);
	intel_names(s, name, "der", true);
	s->chain_header = "SGX-PCK-CRL-Issuer-Chain";
	return run_spec(f, s, out, err);
}

int cvm_fetch_intel_root_crl(struct cvm_fetcher *f, struct cvm_fetch_item **out,
			     struct cvm_error *err)
{
	struct cvm_fetch_spec *s = spec_new(CVM_FETCH_ROOT_CRL, err);
	if (!s)
		return -ENOMEM;
	snprintf(s->what, sizeof(s->what), "Intel SGX Root CA CRL");
	snprintf(s->url, sizeof(s->url), "%s", cvm_fetcher_root_crl_url(f));
	intel_names(s, "root_ca_crl", "der", false);
	return run_spec(f, s, out, err);
}
