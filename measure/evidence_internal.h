/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the evidence unwrapper (measure/evidence*.c): the object under construction and
 * the readers each format file offers the others.  Every reader fills ev and returns 0, or
 * -EINVAL with the reason (prefixed by the format's name), or -ENOMEM.
 */
#ifndef CVMKIT_MEASURE_EVIDENCE_INTERNAL_H
#define CVMKIT_MEASURE_EVIDENCE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cvmkit/evidence.h>

/* Layouts (spec: AMD SEV-SNP ABI, GHCB 4.1.8.1, Intel TDX module ABI, the IGVM request data). */
#define CVM_SNP_REPORT_DATA_OFFSET 0x50u
#define CVM_GHCB_CERT_ENTRY_SIZE 24u
#define CVM_TD_REPORT_SIZE 1024u

struct cvm_evidence *cvm_evidence_alloc(enum cvm_evidence_format format);

/* A copy of data as ev's report (replacing none: the report is set once). */
int cvm_evidence_set_report(struct cvm_evidence *ev, const uint8_t *data, size_t len,
			    struct cvm_error *err);
/* Take ownership of a malloc'd report buffer. */
void cvm_evidence_take_report(struct cvm_evidence *ev, uint8_t *data, size_t len);

/* Append a certificate or CRL (copied); -EINVAL past CVM_EVIDENCE_MAX_CERTS. */
int cvm_evidence_add_blob(struct cvm_evidence *ev, const uint8_t *data, size_t len,
			  const char *name, bool crl, struct cvm_error *err);

/* The entries of a GHCB certificate table, appended to ev->certs; what names it in messages. */
int cvm_evidence_read_cert_table(struct cvm_evidence *ev, const uint8_t *data, size_t len,
				 const char *what, struct cvm_error *err);

/* An Azure HCL report into ev (report or td_report, runtime_data). */
int cvm_evidence_read_hcl(struct cvm_evidence *ev, const uint8_t *data, size_t len,
			  struct cvm_error *err);

/* Raw evidence (a report, a report and its certificate table, or hex text of either). */
int cvm_evidence_read_raw(struct cvm_evidence *ev, const uint8_t *data, size_t len,
			  struct cvm_error *err);

/* The JSON formats (measure/evidence_json.c); *out is a new object. */
int cvm_evidence_read_json(const uint8_t *data, size_t len, struct cvm_evidence **out,
			   struct cvm_error *err);

/* Veraison's tsm-report CBOR (measure/evidence_cbor.c). */
int cvm_evidence_read_tsm_cbor(const uint8_t *data, size_t len, struct cvm_evidence **out,
			       struct cvm_error *err);

/*
 * The report and certificates of a configfs-tsm report into ev (shared by the JSON and CBOR
 * readers): provider sev_guest takes auxblob as a certificate table, tdx_guest ignores it.
 */
int cvm_evidence_read_tsm(struct cvm_evidence *ev, const char *provider, const uint8_t *outblob,
			  size_t outblob_len, const uint8_t *auxblob, size_t auxblob_len,
			  struct cvm_error *err);

/* Where a TDX quote's REPORTDATA is (0 when the header is not a v4/v5 TDX quote's). */
size_t cvm_evidence_quote_report_data_offset(const uint8_t *quote, size_t len);

#endif
