/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: arbitrary text as a libvirt domain capabilities document
 * (cvm_libvirt_caps_parse, which `cvmkit libvirt caps --domcaps FILE` feeds a user's file).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/libvirt.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *xml = malloc(size + 1);
	if (!xml)
		return 0;
	memcpy(xml, data, size);
	xml[size] = '\0';
	struct cvm_libvirt_caps *caps = calloc(1, sizeof(*caps));
	struct cvm_error err;
	if (caps && cvm_libvirt_caps_parse(xml, caps, &err) == 0 && caps->sev && caps->cbitpos > 63)
		caps->cbitpos = 63; /* read every field the CLI prints */
	cvm_libvirt_caps_free(caps);
	free(xml);
	return 0;
}
