/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: arbitrary bytes as a firmware image (measure/firmware*.c).  Inputs that are
 * not a page multiple are also parsed once more with zeros in front, padded up to the next page,
 * so that every input reaches the footer table, SEV and TDVF paths (the table sits at the end).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/firmware.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch everything a consumer (inspect, the planners) would read. */
static void consume(const struct cvm_firmware *fw)
{
	char gs[37], why[256];
	volatile size_t sink = 0;
	for (size_t i = 0; i < fw->ntable; i++) {
		const struct cvm_fw_table_entry *e = &fw->table[i];
		cvm_guid_format(&e->guid, gs);
		const char *name = cvm_guid_name(&e->guid);
		sink += strlen(gs) + (name ? strlen(name) : 0) + (size_t)e->offset;
		for (size_t k = 0; k < e->len; k++)
			sink += e->data[k];
		if (cvm_firmware_find(fw, &e->guid) != e)
			abort(); /* duplicates must have been rejected */
	}
	for (size_t i = 0; i < fw->nsev; i++)
		sink += strlen(cvm_sev_section_type_name(fw->sev_sections[i].type)) +
			fw->sev_sections[i].gpa + fw->sev_sections[i].size;
	for (size_t i = 0; i < fw->ntdx; i++)
		sink += strlen(cvm_tdvf_section_type_name(fw->tdx_sections[i].type)) +
			(size_t)fw->tdx_sections[i].gpa;
	/* A valid TDVF table promises its raw data is inside the image. */
	if (fw->tdx_status == CVM_FW_OK)
		for (size_t i = 0; i < fw->ntdx; i++) {
			const struct cvm_tdvf_section *s = &fw->tdx_sections[i];
			if ((uint64_t)s->data_offset + s->raw_size > fw->size)
				abort();
			for (uint64_t k = 0; k < s->raw_size; k += 4096)
				sink += fw->data[s->data_offset + k];
		}
	sink += cvm_firmware_can_snp(fw, why, sizeof(why)) + strlen(why);
	sink += cvm_firmware_can_snp_kernel_hashes(fw, why, sizeof(why)) + strlen(why);
	sink += cvm_firmware_can_tdx(fw, why, sizeof(why)) + strlen(why);
	sink += strlen(fw->sev_reason) + strlen(fw->tdx_reason) + strlen(fw->sev_warnings) +
		strlen(fw->tdx_warnings);
	(void)sink;
}

static void parse_one(const uint8_t *data, size_t size)
{
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	if (cvm_firmware_parse(data, size, &fw, &err) == 0) {
		consume(fw);
		cvm_firmware_free(fw);
	} else if (fw || err.msg[0] == '\0') {
		abort(); /* failure must leave *out alone and say why */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 16) {
		struct cvm_guid g;
		char s[37];
		memcpy(g.b, data, sizeof(g.b));
		cvm_guid_format(&g, s);
		(void)cvm_guid_name(&g);
	}
	/* Exact copy so that ASan sees reads past the end of the input. */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	parse_one(copy, size);
	free(copy);

	if (size % 4096) {
		size_t padded = (size / 4096 + 1) * 4096;
		uint8_t *p = calloc(1, padded);
		if (!p)
			return 0;
		memcpy(p + padded - size, data, size);
		parse_one(p, padded);
		free(p);
	}
	return 0;
}
