/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmkit-libvirt: the libvirt verb as a program of its own, so that cvmkit's other verbs never
 * load libvirt.  `cvmkit [--quiet|--verbose] libvirt ARGS` runs
 * `cvmkit-libvirt [--quiet|--verbose] libvirt ARGS`; it may also be run directly.
 */
#include "launcher/cli/cli.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct cli_ctx ctx = {0};
	int i = 1;
	bool help = false;
	int rc = cli_parse_global_options(argc, argv, &ctx, &i, &help);
	if (rc >= 0) {
		if (help)
			printf("usage: cvmkit-libvirt [--quiet|--verbose] libvirt SUBCOMMAND ...\n"
			       "(the libvirt verb of cvmkit; see 'cvmkit libvirt --help')\n");
		return cli_finish_stdout(NULL, rc);
	}
	if (i == argc || strcmp(argv[i], "libvirt") != 0)
		return cli_usage_error(NULL, "cvmkit-libvirt runs the verb 'libvirt' only");
	return cli_finish_stdout("libvirt", cmd_libvirt(&ctx, argc - i, argv + i));
}
