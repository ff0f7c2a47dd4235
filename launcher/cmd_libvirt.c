/* SPDX-License-Identifier: Apache-2.0 */
/* cvmkit libvirt: not built yet (placeholder owned by the issue that builds it). */
#include "launcher/cli.h"

int cmd_libvirt(const struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	fprintf(stderr, "cvmkit libvirt: not available in this build yet\n");
	return CLI_FAIL;
}
