/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest side: collect evidence inside a confidential VM through Linux's configfs-tsm report
 * interface (Documentation/ABI/testing/configfs-tsm-report, Linux >= 6.7, CONFIG_TSM_REPORTS,
 * a provider such as sev-guest or tdx-guest) and read the CC event log ACPI table (CCEL), then
 * leave them in the layouts `cvmkit verify` reads.
 *
 * The report protocol, one request:
 *   1. mkdir TSM_DIR/cvmkit-PID-N (the next N when the name is taken): configfs creates the
 *      entry's attributes
 *   2. read generation (G)
 *   3. with a privilege level: refuse one below privlevel_floor, write privlevel
 *   4. write inblob: the 64 bytes of REPORT_DATA
 *   5. read provider (none: no TSM is registered), outblob (the report, made when read), and
 *      auxblob and manifestblob when the provider offers them
 *   6. read generation again: it must be G plus the writes of steps 3-4, or another writer
 *      changed the entry between them and the report is refused
 *   7. rmdir the entry (also after a failure)
 *
 * Nothing here prints.  Not thread-safe with respect to one request's entry, but requests may
 * run concurrently (each has its own entry).  Ownership: cvm_tsm_report_get returns a heap
 * object freed with cvm_tsm_report_free; struct cvm_ccel's buffers are released by
 * cvm_ccel_release.
 */
#ifndef CVMKIT_TSM_H
#define CVMKIT_TSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

#define CVM_TSM_DEFAULT_DIR "/sys/kernel/config/tsm/report"
#define CVM_ACPI_TABLES_DIR "/sys/firmware/acpi/tables"
#define CVM_TSM_BLOB_MAX (16u << 20) /* the kernel's own maximum for outblob and auxblob */

/* What the test seam is told (cvm_tsm_request.kernel). */
enum cvm_tsm_event {
	CVM_TSM_CREATED = 1, /* the entry directory was made */
	CVM_TSM_WRITTEN,     /* attr was written and closed */
	CVM_TSM_REMOVING,    /* the entry is about to be removed */
};

struct cvm_tsm_request {
	const char *tsm_dir;       /* NULL: CVM_TSM_DEFAULT_DIR */
	uint8_t inblob[64];        /* REPORT_DATA, zero-padded */
	bool has_privlevel;        /* SEV-SNP: request the report at this VMPL (0..3) */
	unsigned privlevel;
	/*
	 * Test seam: plays the kernel's part (configfs makes the attributes at mkdir, bumps
	 * generation on every write, removes them at rmdir); NULL on a real system.
	 */
	void (*kernel)(void *ctx, enum cvm_tsm_event event, const char *entry, const char *attr);
	void *kernel_ctx;
};

struct cvm_tsm_report {
	char provider[32];      /* "sev_guest", "tdx_guest", ... (newline removed) */
	uint8_t *outblob;       /* the report or quote */
	size_t outblob_len;
	uint8_t *auxblob;       /* sev_guest: the GHCB certificate table; NULL when none */
	size_t auxblob_len;
	uint8_t *manifestblob;  /* a service provider's manifest; NULL when none */
	size_t manifestblob_len;
	uint64_t generation;    /* the entry's generation after the request */
};

/*
 * One report as described above.  Errors name the step and the attribute:
 *   -ENOENT  TSM_DIR is missing (no configfs-tsm here), or an attribute the protocol needs
 *   -ENXIO   no TSM provider is registered
 *   -EINVAL  privlevel out of range or below privlevel_floor, an empty outblob
 *   -EBUSY   the generation changed behind this request (another writer)
 *   -EFBIG   a blob is larger than CVM_TSM_BLOB_MAX (or than the kernel allows)
 *   other    the errno of the failed read, write or mkdir
 */
int cvm_tsm_report_get(const struct cvm_tsm_request *req, struct cvm_tsm_report **out,
		       struct cvm_error *err);
void cvm_tsm_report_free(struct cvm_tsm_report *r);

/* The CC event log: the ACPI table (ACPI_DIR/CCEL) and its log area (ACPI_DIR/data/CCEL). */
struct cvm_ccel {
	uint8_t *table;
	size_t table_len;
	uint8_t *log;
	size_t log_len;
};

/*
 * Read both (acpi_dir NULL: CVM_ACPI_TABLES_DIR).  -ENOENT when the guest has no CCEL (SEV-SNP
 * guests, or firmware without one); -EINVAL when the table is not a CCEL table.
 */
int cvm_ccel_read(const char *acpi_dir, struct cvm_ccel *out, struct cvm_error *err);
void cvm_ccel_release(struct cvm_ccel *c);

/*
 * Leave a report (and the CCEL, NULL when none) in dir, made as needed, each file written
 * atomically; the names of the files written go to names[] (static strings, up to 10):
 *   outblob, auxblob, manifestblob, provider     the attributes as read
 *   tsm-report.json, tsm-report.cbor             Veraison's configfs-tsm JSON and CBOR
 *   report-certs.bin                             sev_guest with an auxblob: the report followed
 *                                                by its certificate table
 *   ccel-table.bin, ccel.bin                     the CCEL table and its log
 *   tdx-evidence.json                            tdx_guest: Trustee's {"quote", "cc_eventlog"}
 */
#define CVM_EVIDENCE_DIR_MAX_FILES 10u
int cvm_evidence_write_dir(const char *dir, const struct cvm_tsm_report *r,
			   const struct cvm_ccel *ccel, const char **names, size_t *nnames,
			   struct cvm_error *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
