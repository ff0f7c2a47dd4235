/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the firmware reader (measure/firmware*.c): the SEV and TDVF metadata parsers that
 * cvm_firmware_parse() runs after the footer table has been read.
 */
#ifndef CVMKIT_MEASURE_FIRMWARE_INTERNAL_H
#define CVMKIT_MEASURE_FIRMWARE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/firmware.h>

/* Format a status reason into buf (always NUL-terminated, truncated if long). */
void cvm_fw_reason(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Append a "; "-separated note to buf (a warning list), truncating if it is full. */
void cvm_fw_note(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Read the header both metadata kinds share (SEV "ASEV", TDVF "TDVF"): signature, u32 length
 * (16 + item_size * count), u32 version (1), u32 count, then the items.  off counts from the end
 * of the image.  Returns true with *items and *count describing items that lie inside the
 * image, or false with a reason naming kind ("SEV", "TDX") written to reason[reason_size].  The
 * minimum count is the caller's rule.
 */
bool cvm_fw_read_descriptor(const struct cvm_firmware *fw, uint32_t off, const char *kind,
			    const char signature[4], uint32_t item_size, char *reason,
			    size_t reason_size, const uint8_t **items, uint32_t *count);

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
