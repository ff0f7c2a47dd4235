/* SPDX-License-Identifier: Apache-2.0 */
/* cvmkit policy: check a VM policy, or convert it between JSON and CBOR. */
#include "launcher/cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include <cvmkit/policy.h>
#include <cvmkit/util.h>

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: cvmkit policy check FILE [--json]\n"
		"       cvmkit policy convert IN OUT [--to json|cbor]\n"
		"\n"
		"A policy is JSON or CBOR (the format is read from the content); docs/policy.md\n"
		"describes every field.\n"
		"\n"
		"subcommands:\n"
		"  check      validate FILE; exit 0 with a one-line summary, or exit 1 listing\n"
		"             every problem as 'FILE: key.path: message'\n"
		"  convert    write IN as JSON or CBOR to OUT (atomically; '-' is standard\n"
		"             output)\n"
		"\n"
		"'cvmkit policy SUBCOMMAND --help' describes a subcommand.\n");
}

static void print_check_usage(FILE *out)
{
	fprintf(out,
		"usage: cvmkit policy check FILE [--json]\n"
		"\n"
		"Validate a policy (JSON or CBOR): unknown keys, types, ranges, page alignment,\n"
		"prefault ranges, debug guests without allow_debug, and the firmware SHA-256 pin\n"
		"when the firmware file is present.  Exit 0 and a one-line summary, or exit 1 and\n"
		"every problem found, one per line: FILE: key.path: message.\n"
		"\n"
		"options:\n"
		"  --json      print {\"ok\": ..., \"problems\": [{\"path\": ...,\n"
		"              \"message\": ...}]}\n"
		"  -h, --help  this help\n");
}

static void print_convert_usage(FILE *out)
{
	fprintf(out,
		"usage: cvmkit policy convert IN OUT [--to json|cbor]\n"
		"\n"
		"Read the policy IN (JSON or CBOR) and write it to OUT in the format named by\n"
		"--to, or else by OUT's extension (.json or .cbor).  The output is written\n"
		"atomically; OUT '-' is standard output (needs --to).  Relative paths in the\n"
		"policy are rewritten so that they still name the same files from OUT's folder.\n"
		"\n"
		"options:\n"
		"  --to FORMAT  json or cbor\n"
		"  -h, --help   this help\n");
}

/* "2 GiB", "512 MiB", "12345 bytes". */
static void format_memory(uint64_t v, char *buf, size_t n)
{
	static const char *const units[] = {"TiB", "GiB", "MiB", "KiB"};
	static const unsigned shifts[] = {40, 30, 20, 10};
	for (size_t i = 0; i < 4; i++) {
		if (v && v % (1ull << shifts[i]) == 0) {
			snprintf(buf, n, "%" PRIu64 " %s", v >> shifts[i], units[i]);
			return;
		}
	}
	snprintf(buf, n, "%" PRIu64 " bytes", v);
}

static void print_problems_text(const char *file, const struct cvm_policy_problems *pr)
{
	for (size_t i = 0; i < pr->count; i++) {
		const struct cvm_policy_problem *it = &pr->items[i];
		if (it->path[0])
			cli_printf_safe(stderr, "%s: %s: %s\n", file, it->path, it->message);
		else
			cli_printf_safe(stderr, "%s: %s\n", file, it->message);
	}
}

static int print_json_result(const struct cvm_policy_problems *pr, const char *summary)
{
	struct json_object *root = json_object_new_object(), *list = json_object_new_array();
	if (!root || !list) {
		json_object_put(root);
		json_object_put(list);
		return cli_print_json("policy", NULL); /* reports the lack of memory */
	}
	json_object_object_add(root, "ok", json_object_new_boolean(pr->count == 0));
	if (summary)
		json_object_object_add(root, "summary", json_object_new_string(summary));
	for (size_t i = 0; i < pr->count; i++) {
		struct json_object *item = json_object_new_object();
		json_object_object_add(item, "path", json_object_new_string(pr->items[i].path));
		json_object_object_add(item, "message",
				       json_object_new_string(pr->items[i].message));
		json_object_array_add(list, item);
	}
	json_object_object_add(root, "problems", list);
	int status = cli_print_json("policy", root);
	return status != CLI_OK || pr->count ? CLI_FAIL : CLI_OK;
}

/* Appends a problem found here (not by the reader) to the list the reader filled. */
static int add_problem(struct cvm_policy_problems *pr, const char *path, const char *message)
{
	struct cvm_policy_problem *grown = realloc(pr->items, (pr->count + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	pr->items = grown;
	char *path_copy = strdup(path), *msg_copy = strdup(message);
	if (!path_copy || !msg_copy) {
		free(path_copy);
		free(msg_copy);
		return -ENOMEM;
	}
	pr->items[pr->count].path = path_copy;
	pr->items[pr->count].message = msg_copy;
	pr->count++;
	return 0;
}

/* The pin problem as a policy problem ("firmware.sha256: ..." -> path + message). */
static int add_pin_problem(struct cvm_policy_problems *pr, const char *msg)
{
	static const char *const paths[] = {"firmware.sha256", "firmware.path"};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(paths); i++) {
		size_t n = strlen(paths[i]);
		if (strncmp(msg, paths[i], n) == 0 && strncmp(msg + n, ": ", 2) == 0)
			return add_problem(pr, paths[i], msg + n + 2);
	}
	return add_problem(pr, "firmware.sha256", msg);
}

static int policy_check(const struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			print_check_usage(stdout);
			return CLI_OK;
		default:
			return cli_option_error("policy", "check", c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("policy", "check: expected one FILE, got %d argument%s",
				       argc - optind, argc - optind == 1 ? "" : "s");
	const char *file = argv[optind];

	struct cvm_policy *p = NULL;
	struct cvm_policy_problems pr = {0};
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_policy_load(file, &p, &pr, &err);
	if (rc && pr.count == 0) {
		/* Not a policy problem: the file could not be read at all. */
		if (!json || add_problem(&pr, "", cvm_error_message(&err))) {
			cvm_policy_problems_free(&pr);
			return cli_fail("policy", &err);
		}
	}
	if (!rc && p->firmware.has_sha256 && p->firmware.path) {
		if (access(p->firmware.path, F_OK) == 0) {
			if (cvm_policy_check_firmware_pin(p, &err) &&
			    add_pin_problem(&pr, cvm_error_message(&err))) {
				cvm_policy_problems_free(&pr);
				cvm_policy_free(p);
				return cli_fail("policy", &err);
			}
		} else if (!json) {
			cli_info(ctx, "note: %s is not on this machine; its SHA-256 pin was "
				 "not checked", p->firmware.path);
		}
	}
	char summary[512] = "";
	if (pr.count == 0) {
		char mem[32];
		format_memory(p->memory_size, mem, sizeof(mem));
		snprintf(summary, sizeof(summary), "policy %s: ok (%s, %s, %" PRIu32 " vCPU%s, %s)",
			 p->name ? p->name : file, cvm_tee_name(p->tee), cvm_vmm_name(p->vmm),
			 p->cpus.count, p->cpus.count == 1 ? "" : "s", mem);
	}
	int status;
	if (json) {
		status = print_json_result(&pr, pr.count ? NULL : summary);
	} else if (pr.count) {
		print_problems_text(file, &pr);
		status = CLI_FAIL;
	} else {
		cli_printf_safe(stdout, "%s\n", summary);
		status = CLI_OK;
	}
	cvm_policy_problems_free(&pr);
	cvm_policy_free(p);
	return status;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * Make every path of p absolute and OUT's folder the base, so that the writer puts paths
 * relative to where the new document lives (and they keep naming the same files).
 */
static int rebase_paths(struct cvm_policy *p, const char *out_path)
{
	char **paths[] = {&p->firmware.path, &p->boot.kernel, &p->boot.initrd,
			  &p->snp.id_block.id_key_path, &p->snp.id_block.author_key_path,
			  &p->snp.certs.key_path, &p->snp.certs.intermediate_path,
			  &p->snp.certs.ark_path};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(paths); i++) {
		if (!*paths[i])
			continue;
		char *abs = cvm_path_absolute(*paths[i]);
		if (!abs)
			return -ENOMEM;
		free(*paths[i]);
		*paths[i] = abs;
	}
	char *dir = cvm_dirname(out_path);
	char *abs_dir = dir ? cvm_path_absolute(dir) : NULL;
	free(dir);
	if (!abs_dir)
		return -ENOMEM;
	free(p->base_dir);
	p->base_dir = abs_dir;
	return 0;
}

/* What convert writes must be a policy cvmkit reads: checked before anything is written. */
static int reads_back(const uint8_t *buf, size_t len, struct cvm_error *err)
{
	struct cvm_policy *back = NULL;
	int rc = cvm_policy_parse(buf, len, NULL, &back, NULL, err);
	cvm_policy_free(back);
	return rc ? cvm_error_wrap(err, "the converted policy does not read back (nothing was "
				   "written)") : 0;
}

static int policy_convert(const struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"to", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *to = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			to = optarg;
			break;
		case 'h':
			print_convert_usage(stdout);
			return CLI_OK;
		default:
			return cli_option_error("policy", "convert", c, argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("policy", "convert: expected IN and OUT, got %d argument%s",
				       argc - optind, argc - optind == 1 ? "" : "s");
	const char *in = argv[optind], *out = argv[optind + 1];
	enum cvm_policy_format fmt;
	if (to ? strcmp(to, "json") == 0 : has_suffix(out, ".json"))
		fmt = CVM_POLICY_JSON;
	else if (to ? strcmp(to, "cbor") == 0 : has_suffix(out, ".cbor"))
		fmt = CVM_POLICY_CBOR;
	else if (to)
		return cli_usage_error("policy", "convert: --to expects json or cbor, got '%s'",
				       to);
	else
		return cli_usage_error("policy", "convert: cannot tell the format of '%s' (not "
				       ".json or .cbor); give --to json|cbor", out);

	struct cvm_policy *p = NULL;
	struct cvm_policy_problems pr = {0};
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_policy_load(in, &p, &pr, &err);
	if (rc) {
		int status = pr.count ? (print_problems_text(in, &pr), CLI_FAIL)
				      : cli_fail("policy", &err);
		cvm_policy_problems_free(&pr);
		return status;
	}
	if (strcmp(out, "-") != 0 && rebase_paths(p, out)) {
		cvm_policy_free(p);
		cvm_error_set(&err, -ENOMEM, "out of memory");
		return cli_fail("policy", &err);
	}
	uint8_t *buf = NULL;
	size_t len = 0;
	rc = cvm_policy_encode(p, fmt, &buf, &len, &err);
	if (!rc)
		rc = reads_back(buf, len, &err);
	if (!rc)
		rc = cvm_file_write_atomic(out, buf, len, &err);
	free(buf);
	cvm_policy_free(p);
	if (rc)
		return cli_fail("policy", &err);
	if (strcmp(out, "-") != 0)
		cli_info(ctx, "wrote %s (%s, %zu bytes)", out,
			 fmt == CVM_POLICY_CBOR ? "CBOR" : "JSON", len);
	return CLI_OK;
}

int cmd_policy(const struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("policy", "missing subcommand (check or convert)");
	const char *sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
		print_usage(stdout);
		return CLI_OK;
	}
	if (strcmp(sub, "check") == 0)
		return policy_check(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "convert") == 0)
		return policy_convert(ctx, argc - 1, argv + 1);
	if (sub[0] == '-')
		return cli_usage_error("policy", "unknown option '%s'", sub);
	return cli_usage_error("policy", "unknown subcommand '%s' (expected check or convert)",
			       sub);
}
