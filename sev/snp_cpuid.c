/* SPDX-License-Identifier: Apache-2.0 */
/* The SEV-SNP CPUID page (include/cvmkit/snp.h): its layout, what the firmware refuses in it,
 * and the differences the PSP reports when it rejects one. */
#include <cvmkit/snp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cvmkit/util.h>

#define XSAVE_LEAF 0xdu
#define XSAVE_LEGACY_AREA_SIZE 0x240u /* 512-byte legacy region + 64-byte XSAVE header */

int cvm_snp_cpuid_page_build(const struct cvm_cpuid_leaf *leaves, size_t n, uint8_t *page,
			     struct cvm_error *err)
{
	if (n > CVM_SNP_CPUID_MAX_ENTRIES)
		return cvm_error_set(err, -E2BIG,
				     "SNP CPUID page: the vCPU has %zu CPUID leaves, the page holds at "
				     "most %u",
				     n, CVM_SNP_CPUID_MAX_ENTRIES);
	memset(page, 0, CVM_PAGE_SIZE);
	cvm_put_le32(page, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const struct cvm_cpuid_leaf *e = &leaves[i];
		uint8_t *out = page + CVM_SNP_CPUID_HEADER_SIZE + i * CVM_SNP_CPUID_ENTRY_SIZE;
		uint32_t index = e->index_significant ? e->index : 0;
		bool xsave_base = e->function == XSAVE_LEAF && index <= 1;
		cvm_put_le32(out + 0, e->function);
		cvm_put_le32(out + 4, index);
		cvm_put_le64(out + 8, xsave_base ? 1 : 0); /* xcr0_in */
		cvm_put_le64(out + 16, 0);                 /* xss_in */
		cvm_put_le32(out + 24, e->eax);
		cvm_put_le32(out + 28, xsave_base ? XSAVE_LEGACY_AREA_SIZE : e->ebx);
		cvm_put_le32(out + 32, e->ecx);
		cvm_put_le32(out + 36, e->edx);
	}
	return 0;
}

/* ---- What the SNP firmware refuses in a guest's CPUID ------------------------------------ */

#define ANY_INDEX UINT32_MAX

/* QEMU's sev_snp_mask_cpuid_features, bit for bit. */
static const struct {
	uint32_t function, index;
	enum cvm_cpuid_reg reg;
	uint32_t bits;
} snp_refused[] = {
	{0x1, ANY_INDEX, CVM_CPUID_ECX, 1u << 24},       /* TSC_DEADLINE */
	{0x7, 0, CVM_CPUID_EBX, 1u << 1},                /* TSC_ADJUST */
	{0x7, 0, CVM_CPUID_EDX, 1u << 26 | 1u << 27 |    /* SPEC_CTRL, STIBP */
				    1u << 28 | 1u << 29 | /* FLUSH_L1D, ARCH_CAPABILITIES */
				    1u << 30 | 1u << 31}, /* CORE_CAPABILITY, SSBD */
	{0x80000008, ANY_INDEX, CVM_CPUID_EBX, 1u << 25}, /* VIRT_SSBD */
};

uint32_t cvm_snp_cpuid_mask(uint32_t function, uint32_t index, enum cvm_cpuid_reg reg,
			    uint32_t value)
{
	for (size_t i = 0; i < CVM_ARRAY_SIZE(snp_refused); i++)
		if (snp_refused[i].function == function && snp_refused[i].reg == reg &&
		    (snp_refused[i].index == ANY_INDEX || snp_refused[i].index == index))
			value &= ~snp_refused[i].bits;
	return value;
}

/* ---- The PSP's corrections --------------------------------------------------------------- */

/* The fields of a CPUID page entry in page order: offset, size, name. */
static const struct {
	uint8_t off, size;
	const char *name;
} entry_fields[] = {
	{0, 4, "eax_in"}, {4, 4, "ecx_in"}, {8, 8, "xcr0_in"}, {16, 8, "xss_in"},
	{24, 4, "eax"},   {28, 4, "ebx"},   {32, 4, "ecx"},    {36, 4, "edx"},
};

static uint64_t field_at(const uint8_t *p, unsigned size)
{
	return size == 4 ? cvm_le32(p) : cvm_le64(p);
}

static void note(struct cvm_snp_cpuid_mismatch *out, size_t max, size_t *n,
		 struct cvm_snp_cpuid_mismatch m)
{
	if (*n < max)
		out[*n] = m;
	(*n)++;
}

size_t cvm_snp_cpuid_page_compare(const uint8_t *provided, const uint8_t *expected,
				  struct cvm_snp_cpuid_mismatch *out, size_t max)
{
	size_t n = 0;
	uint32_t pc = cvm_le32(provided), ec = cvm_le32(expected);
	if (pc != ec)
		note(out, max, &n, (struct cvm_snp_cpuid_mismatch){0, 0, "count", pc, ec});
	uint32_t count = pc < ec ? pc : ec;
	if (count > CVM_SNP_CPUID_MAX_ENTRIES)
		count = CVM_SNP_CPUID_MAX_ENTRIES;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *a = provided + CVM_SNP_CPUID_HEADER_SIZE + i * CVM_SNP_CPUID_ENTRY_SIZE;
		const uint8_t *b = expected + CVM_SNP_CPUID_HEADER_SIZE + i * CVM_SNP_CPUID_ENTRY_SIZE;
		for (size_t f = 0; f < CVM_ARRAY_SIZE(entry_fields); f++) {
			uint64_t va = field_at(a + entry_fields[f].off, entry_fields[f].size);
			uint64_t vb = field_at(b + entry_fields[f].off, entry_fields[f].size);
			if (va != vb)
				note(out, max, &n,
				     (struct cvm_snp_cpuid_mismatch){cvm_le32(a), cvm_le32(a + 4),
								     entry_fields[f].name, va, vb});
		}
	}
	return n;
}

static size_t appendf(char *out, size_t len, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t appendf(char *out, size_t len, size_t at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(at < len ? out + at : NULL, at < len ? len - at : 0, fmt, ap);
	va_end(ap);
	return w > 0 ? at + (size_t)w : at;
}

/* Room kept at the end of the text for "; and N more". */
#define MORE_ROOM 24u

int cvm_snp_cpuid_mismatch_text(const struct cvm_snp_cpuid_mismatch *m, size_t n, size_t total,
				char *out, size_t len)
{
	char item[128];
	size_t at = 0, shown = 0;
	if (len)
		out[0] = '\0';
	for (; shown < n && shown < total; shown++) {
		const struct cvm_snp_cpuid_mismatch *d = &m[shown];
		if (strcmp(d->field, "count") == 0)
			snprintf(item, sizeof(item), "count: provided %llu, expected %llu",
				 (unsigned long long)d->provided, (unsigned long long)d->expected);
		else
			snprintf(item, sizeof(item),
				 "function 0x%x index 0x%x %s: provided 0x%08llx, expected 0x%08llx",
				 d->function, d->index, d->field, (unsigned long long)d->provided,
				 (unsigned long long)d->expected);
		size_t need = at + (shown ? 2 : 0) + strlen(item) + 1;
		bool last = shown + 1 == total;
		if (need > len || (!last && need + MORE_ROOM > len))
			break;
		at = appendf(out, len, at, "%s%s", shown ? "; " : "", item);
	}
	if (shown < total)
		at = appendf(out, len, at, "%sand %zu more", shown ? "; " : "", total - shown);
	return (int)at;
}
