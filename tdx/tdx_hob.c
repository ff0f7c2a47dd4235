/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TD HOB as QEMU (q35) builds it: spec/tdx-measurement.md section 6.  Its bytes are what the
 * launcher places at the TD_HOB section; SHA-384 of it (minus the end header) is RTMR0's first
 * event.
 */
#include <cvmkit/tdx.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/util.h>

#define HOB_TYPE_HANDOFF 0x0001u
#define HOB_TYPE_RESOURCE_DESCRIPTOR 0x0003u
#define HOB_TYPE_END_OF_HOB_LIST 0xFFFFu

#define HOB_PHIT_SIZE 56u
#define HOB_RESOURCE_SIZE 48u
#define HOB_END_SIZE 8u
#define HOB_PHIT_VERSION 9u

#define RESOURCE_SYSTEM_MEMORY 0x0u
#define RESOURCE_MEMORY_UNACCEPTED 0x7u
#define RESOURCE_ATTR_PRESENT_INITIALIZED_TESTED 0x7u

/* q35 puts RAM above 2 GiB at 4 GiB once the guest has at least 0xB0000000 bytes. */
#define Q35_LOWMEM_SPLIT 0xB0000000ull
#define Q35_LOWMEM_MAX 0x80000000ull
#define GIB4 0x100000000ull

struct ram_range {
	uint64_t start, len;
	bool accepted;
};

struct ram_map {
	struct ram_range *r;
	size_t n, cap;
};

static int ram_map_push(struct ram_map *map, uint64_t start, uint64_t len, bool accepted)
{
	if (map->n == map->cap) {
		size_t ncap = map->cap ? map->cap * 2 : 8;
		struct ram_range *p = reallocarray(map->r, ncap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		map->r = p;
		map->cap = ncap;
	}
	map->r[map->n++] = (struct ram_range){start, len, accepted};
	return 0;
}

/*
 * Carve [start, start + len) out of the unaccepted RAM range that holds it, as its own accepted
 * range (QEMU never merges neighbours).  -ERANGE when no single RAM range holds it.
 */
static int ram_map_accept(struct ram_map *map, uint64_t start, uint64_t len)
{
	for (size_t i = 0; i < map->n; i++) {
		struct ram_range r = map->r[i];
		if (r.accepted || start < r.start || len > r.len || start - r.start > r.len - len)
			continue;
		uint64_t end = start + len, r_end = r.start + r.len;
		map->r[i] = (struct ram_range){start, len, true};
		int rc = 0;
		if (start > r.start)
			rc = ram_map_push(map, r.start, start - r.start, false);
		if (!rc && r_end > end)
			rc = ram_map_push(map, end, r_end - end, false);
		return rc;
	}
	return -ERANGE;
}

static int ram_range_cmp(const void *a, const void *b)
{
	const struct ram_range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static void put_hob_header(uint8_t *p, uint16_t type, uint16_t len)
{
	cvm_put_le16(p, type);
	cvm_put_le16(p + 2, len);
	cvm_put_le32(p + 4, 0);
}

int cvm_tdx_hob_build(const struct cvm_tdvf_section *sections, size_t nsections,
		      uint64_t mem_size, uint64_t hob_gpa, uint8_t **out, size_t *out_len,
		      struct cvm_error *err)
{
	if (mem_size == 0)
		return cvm_error_set(err, -EINVAL, "TD HOB: memory size is 0");
	uint64_t lowmem = mem_size >= Q35_LOWMEM_SPLIT ? Q35_LOWMEM_MAX : mem_size;

	struct ram_map map = {0};
	int rc = ram_map_push(&map, 0, lowmem, false);
	if (!rc && mem_size > lowmem)
		rc = ram_map_push(&map, GIB4, mem_size - lowmem, false);
	for (size_t i = 0; !rc && i < nsections; i++) {
		const struct cvm_tdvf_section *s = &sections[i];
		if (s->type != CVM_TDVF_TD_HOB && s->type != CVM_TDVF_TEMP_MEM)
			continue;
		rc = ram_map_accept(&map, s->gpa, s->mem_size);
		if (rc == -ERANGE) {
			free(map.r);
			return cvm_error_set(err, -EINVAL,
					     "TD HOB: section %zu (%s at 0x%llx, 0x%llx bytes) is not "
					     "inside the guest RAM of 0x%llx bytes",
					     i, s->type == CVM_TDVF_TD_HOB ? "TD_HOB" : "TempMem",
					     (unsigned long long)s->gpa,
					     (unsigned long long)s->mem_size,
					     (unsigned long long)mem_size);
		}
	}
	if (rc) {
		free(map.r);
		return cvm_error_set(err, -ENOMEM, "TD HOB: out of memory");
	}
	qsort(map.r, map.n, sizeof(*map.r), ram_range_cmp);

	size_t len = HOB_PHIT_SIZE + map.n * HOB_RESOURCE_SIZE + HOB_END_SIZE;
	uint8_t *hob = calloc(1, len);
	if (!hob) {
		free(map.r);
		return cvm_error_set(err, -ENOMEM, "TD HOB: out of memory");
	}

	put_hob_header(hob, HOB_TYPE_HANDOFF, HOB_PHIT_SIZE);
	cvm_put_le32(hob + 8, HOB_PHIT_VERSION);
	/* BootMode and the four memory bounds stay 0; EfiEndOfHobList points past the end header */
	cvm_put_le64(hob + 48, hob_gpa + len);

	uint8_t *p = hob + HOB_PHIT_SIZE;
	for (size_t i = 0; i < map.n; i++, p += HOB_RESOURCE_SIZE) {
		put_hob_header(p, HOB_TYPE_RESOURCE_DESCRIPTOR, HOB_RESOURCE_SIZE);
		/* bytes 8..24: owner GUID, zero */
		cvm_put_le32(p + 24, map.r[i].accepted ? RESOURCE_SYSTEM_MEMORY
						       : RESOURCE_MEMORY_UNACCEPTED);
		cvm_put_le32(p + 28, RESOURCE_ATTR_PRESENT_INITIALIZED_TESTED);
		cvm_put_le64(p + 32, map.r[i].start);
		cvm_put_le64(p + 40, map.r[i].len);
	}
	put_hob_header(p, HOB_TYPE_END_OF_HOB_LIST, HOB_END_SIZE);
	free(map.r);

	*out = hob;
	*out_len = len;
	return 0;
}

void cvm_tdx_hob_digest(const uint8_t *hob, size_t hob_len, uint8_t out[CVM_TDX_DIGEST_SIZE])
{
	size_t n = hob_len >= HOB_END_SIZE ? hob_len - HOB_END_SIZE : hob_len;
	cvm_tdx_sha384(hob, n, out);
}
