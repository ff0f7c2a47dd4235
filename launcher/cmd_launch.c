/* SPDX-License-Identifier: Apache-2.0 */
/* cvmkit launch: not built yet (placeholder owned by the issue that builds it). */
#include "launcher/cli.h"

int cmd_launch(const struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	fprintf(stderr, "cvmkit launch: not available in this build yet\n");
	return CLI_FAIL;
}
