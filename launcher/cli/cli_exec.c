/* SPDX-License-Identifier: Apache-2.0 */
/* `cvmkit libvirt`: run the cvmkit-libvirt program, the one that links libvirt. */
#include "launcher/cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HELPER "cvmkit-libvirt"

/* dir/HELPER into buf when it is an executable file; false otherwise. */
static bool helper_in(const char *dir, char *buf, size_t n)
{
	if (!dir || !*dir)
		return false;
	int len = snprintf(buf, n, "%s/" HELPER, dir);
	return len > 0 && (size_t)len < n && access(buf, X_OK) == 0;
}

/* The folder of the running program ("" when /proc/self/exe cannot be read). */
static void program_dir(char *buf, size_t n)
{
	ssize_t len = readlink("/proc/self/exe", buf, n - 1);
	buf[len > 0 ? len : 0] = '\0';
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	else
		buf[0] = '\0';
}

int cli_run_libvirt_helper(const struct cli_ctx *ctx, int argc, char **argv)
{
	char path[PATH_MAX], here[PATH_MAX], beside[PATH_MAX + 32];
	char quiet[] = "--quiet", verbose[] = "--verbose";
	const char *env = getenv("CVMKIT_LIBEXECDIR");
	program_dir(here, sizeof(here));
	/* The build tree has both programs in one folder; an installed tree, relocated or not,
	   has bin/ beside libexec/. */
	snprintf(beside, sizeof(beside), "%s/../libexec/cvmkit", here);
	bool found = env ? helper_in(env, path, sizeof(path))
			 : helper_in(here, path, sizeof(path)) ||
				   helper_in(beside, path, sizeof(path)) ||
				   helper_in(CVMKIT_LIBEXECDIR, path, sizeof(path));
	if (!found) {
		if (env)
			fprintf(stderr, "cvmkit libvirt: no %s in CVMKIT_LIBEXECDIR=%s\n", HELPER, env);
		else
			fprintf(stderr,
				"cvmkit libvirt: the program %s is not installed (looked in %s, %s and %s); "
				"it comes with cvmkit: reinstall cvmkit, or set CVMKIT_LIBEXECDIR\n",
				HELPER, here, beside, CVMKIT_LIBEXECDIR);
		return CLI_FAIL;
	}
	char **args = calloc((size_t)argc + 3, sizeof(*args));
	if (!args) {
		fprintf(stderr, "cvmkit libvirt: out of memory\n");
		return CLI_FAIL;
	}
	size_t n = 0;
	args[n++] = path;
	if (ctx->quiet)
		args[n++] = quiet;
	else if (ctx->verbose)
		args[n++] = verbose;
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	execv(path, args);
	fprintf(stderr, "cvmkit libvirt: cannot run %s: %s\n", path, strerror(errno));
	free(args);
	return CLI_FAIL;
}
