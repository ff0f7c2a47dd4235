/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the SEV-SNP CPUID page (sev/snp_cpuid.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cvmkit/snp.h>
#include <cvmkit/util.h>

static void entries_are_laid_out_in_order(void **state)
{
	(void)state;
	const struct cvm_cpuid_leaf in[] = {
		{.function = 0, .eax = 0x10, .ebx = 0x68747541, .ecx = 0x444d4163, .edx = 0x69746e65},
		{.function = 7, .index = 0, .index_significant = true, .ebx = 0x219c91a9},
		{.function = 0x8000001f, .index = 5 /* not significant: dropped */, .eax = 0x1b},
	};
	uint8_t page[CVM_PAGE_SIZE];
	memset(page, 0xcc, sizeof(page));
	assert_int_equal(cvm_snp_cpuid_page_build(in, 3, page, NULL), 0);
	assert_int_equal(cvm_le32(page), 3);
	assert_int_equal(cvm_le32(page + 4), 0);
	assert_int_equal(cvm_le64(page + 8), 0);
	const uint8_t *e0 = page + 16, *e1 = e0 + 48, *e2 = e1 + 48;
	assert_int_equal(cvm_le32(e0), 0);
	assert_int_equal(cvm_le32(e0 + 24), 0x10);
	assert_int_equal(cvm_le32(e0 + 28), 0x68747541);
	assert_int_equal(cvm_le32(e0 + 32), 0x444d4163);
	assert_int_equal(cvm_le32(e0 + 36), 0x69746e65);
	assert_int_equal(cvm_le32(e1), 7);
	assert_int_equal(cvm_le32(e1 + 28), 0x219c91a9);
	assert_int_equal(cvm_le32(e2), 0x8000001f);
	assert_int_equal(cvm_le32(e2 + 4), 0);
	assert_int_equal(cvm_le32(e2 + 24), 0x1b);
	for (size_t i = 16 + 3 * 48; i < sizeof(page); i++)
		assert_int_equal(page[i], 0);
}

static void xsave_base_leaves_assume_x87_only(void **state)
{
	(void)state;
	const struct cvm_cpuid_leaf in[] = {
		{.function = 0xd, .index = 0, .index_significant = true, .eax = 0x2e7, .ebx = 0x988},
		{.function = 0xd, .index = 1, .index_significant = true, .eax = 0xf, .ebx = 0x988},
		{.function = 0xd, .index = 2, .index_significant = true, .eax = 0x100, .ebx = 0x240},
	};
	uint8_t page[CVM_PAGE_SIZE];
	assert_int_equal(cvm_snp_cpuid_page_build(in, 3, page, NULL), 0);
	for (int i = 0; i < 2; i++) {
		const uint8_t *e = page + 16 + 48 * i;
		assert_int_equal(cvm_le32(e + 4), (uint32_t)i);
		assert_int_equal(cvm_le64(e + 8), 1);      /* xcr0_in */
		assert_int_equal(cvm_le32(e + 28), 0x240); /* ebx */
		assert_int_equal(cvm_le32(e + 24), in[i].eax);
	}
	const uint8_t *e2 = page + 16 + 96;
	assert_int_equal(cvm_le64(e2 + 8), 0);
	assert_int_equal(cvm_le32(e2 + 4), 2);
	assert_int_equal(cvm_le32(e2 + 28), 0x240);
}

static void more_than_64_entries_are_refused(void **state)
{
	(void)state;
	struct cvm_cpuid_leaf in[65];
	memset(in, 0, sizeof(in));
	uint8_t page[CVM_PAGE_SIZE];
	struct cvm_error err;
	assert_int_equal(cvm_snp_cpuid_page_build(in, 64, page, &err), 0);
	assert_int_equal(cvm_le32(page), 64);
	assert_int_equal(cvm_snp_cpuid_page_build(in, 65, page, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "65 CPUID leaves"));
}

/* QEMU's sev_snp_mask_cpuid_features, bit for bit, and nothing else. */
static void mask_clears_what_the_firmware_refuses(void **state)
{
	(void)state;
	assert_int_equal(cvm_snp_cpuid_mask(1, 0, CVM_CPUID_ECX, 0xffffffff), 0xfeffffff);
	assert_int_equal(cvm_snp_cpuid_mask(1, 3, CVM_CPUID_ECX, 0xffffffff), 0xfeffffff);
	assert_int_equal(cvm_snp_cpuid_mask(1, 0, CVM_CPUID_EDX, 0xffffffff), 0xffffffff);
	assert_int_equal(cvm_snp_cpuid_mask(7, 0, CVM_CPUID_EBX, 0xffffffff), 0xfffffffd);
	assert_int_equal(cvm_snp_cpuid_mask(7, 0, CVM_CPUID_EDX, 0xffffffff), 0x03ffffff);
	assert_int_equal(cvm_snp_cpuid_mask(7, 1, CVM_CPUID_EDX, 0xffffffff), 0xffffffff);
	assert_int_equal(cvm_snp_cpuid_mask(7, 0, CVM_CPUID_ECX, 0xffffffff), 0xffffffff);
	assert_int_equal(cvm_snp_cpuid_mask(0x80000008, 0, CVM_CPUID_EBX, 0xffffffff), 0xfdffffff);
	assert_int_equal(cvm_snp_cpuid_mask(0x80000008, 0, CVM_CPUID_EAX, 0xffffffff), 0xffffffff);
	assert_int_equal(cvm_snp_cpuid_mask(0x80000001, 0, CVM_CPUID_ECX, 0xffffffff), 0xffffffff);
}

static void page_with(uint8_t *page, uint32_t edx7)
{
	const struct cvm_cpuid_leaf in[] = {
		{.function = 1, .eax = 0xa00f11, .ecx = 0x7ef8320b},
		{.function = 7, .index = 0, .index_significant = true, .ebx = 0x219c97a9, .edx = edx7},
	};
	assert_int_equal(cvm_snp_cpuid_page_build(in, 2, page, NULL), 0);
}

static void compare_names_each_register_that_differs(void **state)
{
	(void)state;
	uint8_t a[CVM_PAGE_SIZE], b[CVM_PAGE_SIZE];
	page_with(a, 0xfc000010);
	page_with(b, 0x00000010);
	assert_int_equal(cvm_snp_cpuid_page_compare(a, a, NULL, 0), 0);
	cvm_put_le32(b + 16 + 48 + 28, 0x219c97a8); /* leaf 7 ebx */
	struct cvm_snp_cpuid_mismatch m[4];
	assert_int_equal(cvm_snp_cpuid_page_compare(a, b, m, 4), 2);
	assert_int_equal(m[0].function, 7);
	assert_string_equal(m[0].field, "ebx");
	assert_int_equal(m[0].provided, 0x219c97a9);
	assert_int_equal(m[0].expected, 0x219c97a8);
	assert_string_equal(m[1].field, "edx");
	char text[256];
	cvm_snp_cpuid_mismatch_text(m, 2, 2, text, sizeof(text));
	assert_string_equal(text, "function 0x7 index 0x0 ebx: provided 0x219c97a9, expected "
				  "0x219c97a8; function 0x7 index 0x0 edx: provided 0xfc000010, "
				  "expected 0x00000010");
	/* a different count comes first; entries compare up to the smaller count */
	cvm_put_le32(b, 1);
	assert_int_equal(cvm_snp_cpuid_page_compare(a, b, m, 4), 1);
	assert_string_equal(m[0].field, "count");
	cvm_snp_cpuid_mismatch_text(m, 1, 1, text, sizeof(text));
	assert_string_equal(text, "count: provided 2, expected 1");
	/* what does not fit is counted */
	cvm_put_le32(b, 2);
	assert_int_equal(cvm_snp_cpuid_page_compare(a, b, m, 1), 2);
	cvm_snp_cpuid_mismatch_text(m, 1, 2, text, sizeof(text));
	assert_string_equal(text, "function 0x7 index 0x0 ebx: provided 0x219c97a9, expected "
				  "0x219c97a8; and 1 more");
	cvm_snp_cpuid_mismatch_text(m, 1, 2, text, 40);
	assert_string_equal(text, "and 2 more");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entries_are_laid_out_in_order),
		cmocka_unit_test(xsave_base_leaves_assume_x87_only),
		cmocka_unit_test(more_than_64_entries_are_refused),
		cmocka_unit_test(mask_clears_what_the_firmware_refuses),
		cmocka_unit_test(compare_names_each_register_that_differs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
