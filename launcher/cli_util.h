/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private helpers the verbs (cmd_*.c) share: getopt error reporting, JSON output and reading a
 * small text file.  Like cli.c, this layer prints; nothing here exits.
 */
#ifndef CVMKIT_CLI_UTIL_H
#define CVMKIT_CLI_UTIL_H

#include <stddef.h>

#include <json-c/json.h>

#include <cvmkit/error.h>

/*
 * The one-line usage error for getopt_long's ':' (an option without its value) or '?' (an
 * unknown option, or a value given to an option that takes none); call it right after
 * getopt_long returned c, with the optstring starting with ':' (or "+:").  sub, when not NULL,
 * prefixes the message ("check: unknown option '-x'").  Names the option itself, also inside
 * a cluster such as -jx.  Returns CLI_USAGE.
 */
int cli_option_error(const char *verb, const char *sub, int c, char **argv);

/*
 * Print obj as indented JSON and a newline on standard output, then drop the reference to obj
 * (consumed even on failure).  Returns CLI_OK, or CLI_FAIL after "cvmkit VERB: out of memory"
 * when obj is NULL or cannot be serialised.
 */
int cli_print_json(const char *verb, struct json_object *obj);

/* The whole of path as a NUL-terminated string; *out is malloc'd and written only on success. */
int cli_read_text_file(const char *path, char **out, struct cvm_error *err);

#endif
