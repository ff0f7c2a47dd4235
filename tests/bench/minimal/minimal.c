/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bench's minimal program: linked to libcrypto alone, it does the hashing of an SNP
 * firmware-only measure on one thread and nothing else, so `make bench` can set cvmkit's fixed
 * cost (process start-up, dynamic linking, option parsing, output) against the least a process
 * doing the same hashing pays.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../floor.h"

static int usage(FILE *out, int rc)
{
	fprintf(out,
		"usage: cvmkit-bench-minimal snp FIRMWARE HASHED RECORDS [FILE...]\n"
		"       cvmkit-bench-minimal --help\n"
		"SHA-256 of FIRMWARE and of each FILE; SHA-384 of each firmware page chained through\n"
		"PAGE_INFO records, then HASHED more hashed pages and RECORDS more records; prints the\n"
		"chain's end in hex.\n");
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		return usage(stdout, 0);
	if (argc < 5 || strcmp(argv[1], "snp") != 0 || argc - 5 > FLOOR_MAX_WHOLE - 1)
		return usage(stderr, 2);
	struct floor_file files[FLOOR_MAX_WHOLE] = {{0}};
	struct floor_work w = {.extra_hashed = (unsigned)strtoul(argv[3], NULL, 0),
			       .extra_records = (unsigned)strtoul(argv[4], NULL, 0)};
	int rc = floor_map(argv[2], &files[0]);
	for (int i = 5; !rc && i < argc; i++)
		rc = floor_map(argv[i], &files[i - 4]);
	if (rc) {
		fprintf(stderr, "cvmkit-bench-minimal: cannot map an input\n");
		return 1;
	}
	w.pages = files[0].data;
	w.npages = files[0].size / 4096;
	for (int i = 0; i < argc - 4; i++)
		w.whole[w.nwhole++] = (struct floor_whole){files[i].data, files[i].size, false};
	uint8_t d[48];
	rc = floor_run(&w, 1, d);
	for (int i = 0; i < argc - 4; i++)
		floor_unmap(&files[i]);
	if (rc)
		return 1;
	for (int i = 0; i < 48; i++)
		printf("%02x", d[i]);
	printf("\n");
	return 0;
}
