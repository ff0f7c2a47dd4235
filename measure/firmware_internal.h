/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the firmware reader (measure/firmware*.c): the SEV and TDVF metadata parsers that
 * cvm_firmware_parse() runs after the footer table has been read.
 */
#ifndef CVMKIT_MEASURE_FIRMWARE_INTERNAL_H
#define CVMKIT_MEASURE_FIRMWARE_INTERNAL_H

#include <stddef.h>

#include <cvmkit/firmware.h>

/* Format a status reason into buf (always NUL-terminated, truncated if long). */
void cvm_fw_reason(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Append a "; "-separated note to buf (a warning list), truncating if it is full. */
void cvm_fw_note(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Fill sev_status/sev_reason/sev_sections (firmware_sev.c) and tdx_status/tdx_reason/
 * tdx_sections (firmware_tdvf.c) from the already parsed footer table.  Return 0, or -ENOMEM
 * (the only failure: malformed metadata is a status, not an error).
 */
int cvm_fw_parse_sev(struct cvm_firmware *fw);
int cvm_fw_parse_tdvf(struct cvm_firmware *fw);

/* A metadata section's GPA range, for the overlap check. */
struct cvm_fw_range {
	uint64_t start;
	uint64_t end; /* exclusive; start < end */
	size_t index; /* position in the metadata table */
};

/*
 * Sort ranges by start and look for two that overlap.  Returns true and their table indices
 * (a < b) when some do.
 */
bool cvm_fw_ranges_overlap(struct cvm_fw_range *r, size_t n, size_t *a, size_t *b);

#endif
