/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the verbs: getopt errors, JSON output, small text files. */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include <cvmkit/plan.h>
#include <cvmkit/policy.h>
#include <cvmkit/pool.h>
#include <cvmkit/util.h>

#include "launcher/cli/cli.h"

/*
 * True when getopt_long's error is about a short option (optopt names it).  glibc advances
 * optind past a cluster only at its last character, so the option is either the end of
 * argv[optind - 1] or, mid-cluster (-xj), inside argv[optind].  Unknown long options leave
 * optopt 0.
 */
static bool short_option_error(char **argv)
{
	if (!optopt)
		return false;
	const char *prev = argv[optind - 1], *next = argv[optind];
	if (prev[0] == '-' && prev[1] != '-')
		return true;
	return next && next[0] == '-' && next[1] != '-' && strchr(next + 1, optopt);
}

int cli_option_error(const char *verb, const char *sub, int c, char **argv)
{
	const char *pre = sub ? sub : "", *sep = sub ? ": " : "";
	if (short_option_error(argv)) {
		if (c == ':')
			return cli_usage_error(verb, "%s%soption '-%c' needs a value", pre, sep, optopt);
		return cli_usage_error(verb, "%s%sunknown option '-%c'", pre, sep, optopt);
	}
	const char *arg = argv[optind - 1];
	if (c == ':')
		return cli_usage_error(verb, "%s%soption '%s' needs a value", pre, sep, arg);
	const char *eq = strchr(arg, '=');
	if (optopt && eq) /* a known long option that takes no value, given one */
		return cli_usage_error(verb, "%s%soption '%.*s' takes no value", pre, sep,
				       (int)(eq - arg), arg);
	return cli_usage_error(verb, "%s%sunknown option '%s'", pre, sep, arg);
}

int cli_print_json(const char *verb, struct json_object *obj)
{
	const int flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			  JSON_C_TO_STRING_NOSLASHESCAPE;
	const char *text = obj ? json_object_to_json_string_ext(obj, flags) : NULL;
	int status = CLI_OK;
	if (text) {
		printf("%s\n", text);
	} else {
		fprintf(stderr, "cvmkit %s: out of memory\n", verb);
		status = CLI_FAIL;
	}
	json_object_put(obj); /* text belongs to obj */
	return status;
}

int cli_read_text_file(const char *path, char **out, struct cvm_error *err)
{
	struct cvm_file f;
	int rc = cvm_file_open(path, &f, err);
	if (rc)
		return rc;
	char *text = malloc(f.size + 1);
	if (text) {
		memcpy(text, f.data, f.size);
		text[f.size] = '\0';
	}
	cvm_file_close(&f);
	if (!text)
		return cvm_error_set(err, -ENOMEM, "%s: out of memory", path);
	*out = text;
	return 0;
}

struct cvm_policy *cli_load_policy(const char *verb, const char *path)
{
	struct cvm_policy *p = NULL;
	struct cvm_policy_problems pr = {0};
	struct cvm_error err;
	cvm_error_clear(&err);
	if (cvm_policy_load(path, &p, &pr, &err) == 0) {
		cvm_policy_problems_free(&pr);
		return p;
	}
	for (size_t i = 0; i < pr.count; i++) {
		const struct cvm_policy_problem *it = &pr.items[i];
		if (it->path[0])
			cli_printf_safe(stderr, "cvmkit %s: %s: %s: %s\n", verb, path, it->path,
					it->message);
		else
			cli_printf_safe(stderr, "cvmkit %s: %s: %s\n", verb, path, it->message);
	}
	if (pr.count == 0)
		cli_fail(verb, &err);
	cvm_policy_problems_free(&pr);
	return NULL;
}

void cli_print_plan(FILE *out, const struct cvm_policy *p, const struct cvm_plan *plan)
{
	fprintf(out, "plan: tee %s, vmm %s, %u vCPU(s), memory 0x%llx, %zu ops, %llu bytes loaded\n",
	       cvm_tee_name(p->tee), cvm_vmm_name(plan->vmm), plan->nvcpus,
	       (unsigned long long)plan->mem_size, plan->nops,
	       (unsigned long long)cvm_plan_load_bytes(plan));
	if (plan->tee == CVM_TEE_SNP) {
		/* The launch signs the offline digest into an ID block just before LAUNCH_FINISH,
		 * so a plan built ahead of it (a dry run) does not have the block yet. */
		const char *id_block = p->snp.id_block.present
					       ? "yes (built from the launch digest at launch)"
				       : plan->snp.id_block_en ? "yes"
							       : "no";
		fprintf(out, "snp: policy 0x%llx, vmsa_features 0x%llx, id_block %s, host_data %s\n",
		       (unsigned long long)plan->snp.policy, (unsigned long long)plan->snp.vmsa_features,
		       id_block, p->snp.has_host_data ? "yes" : "no");
		if (plan->snp.vmsa_features || plan->snp.cpuid_retry) {
			char names[256];
			cvm_sev_features_text(plan->snp.vmsa_features, ", ", names, sizeof(names));
			fprintf(out, "snp: SEV features %s", names);
			if (plan->snp.tsc_khz)
				fprintf(out, ", tsc_khz %u", plan->snp.tsc_khz);
			fprintf(out, ", cpuid_retry %s\n", plan->snp.cpuid_retry ? "yes" : "no");
		}
	}
	if (plan->tee == CVM_TEE_TDX)
		fprintf(out, "tdx: attributes 0x%llx, xfam 0x%llx, td_hob_gpa 0x%llx\n",
		       (unsigned long long)plan->tdx.attributes, (unsigned long long)plan->tdx.xfam,
		       (unsigned long long)plan->tdx.td_hob_gpa);
	for (size_t i = 0; i < plan->nops; i++) {
		const struct cvm_plan_op *op = &plan->ops[i];
		if (op->kind == CVM_OP_VCPU) {
			fprintf(out, "%4zu  vcpu  %-14s vcpu %u rip 0x%llx cs 0x%04x base 0x%llx\n", i,
			       op->label ? op->label : "vcpu", op->vcpu_index,
			       op->vcpu ? (unsigned long long)op->vcpu->rip : 0ull,
			       op->vcpu ? op->vcpu->cs.selector : 0,
			       op->vcpu ? (unsigned long long)op->vcpu->cs.base : 0ull);
			continue;
		}
		char flags[64] = "";
		if (op->flags & CVM_OP_MR_EXTEND)
			strcat(flags, " MR_EXTEND");
		if (op->flags & CVM_OP_NO_PAGE_ADD)
			strcat(flags, " NO_PAGE_ADD");
		if (op->flags & CVM_OP_FIRMWARE)
			strcat(flags, " FIRMWARE");
		fprintf(out, "%4zu  load  %-14s gpa 0x%09llx size 0x%08llx data 0x%08zx type %-10s flags%s\n",
		       i, op->label ? op->label : "-", (unsigned long long)op->gpa,
		       (unsigned long long)op->size, op->data ? op->data_len : 0,
		       cvm_snp_page_type_name(op->snp_page_type), flags[0] ? flags : " -");
	}
}

/* ---- messages and global options ---- */

void cli_vprintf_safe(FILE *f, const char *fmt, va_list ap)
{
	char small[512], *text = small;
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(small, sizeof(small), fmt, copy);
	va_end(copy);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(small) && (vasprintf(&text, fmt, ap) < 0 || !text))
		return;
	const unsigned char *s = (const unsigned char *)text;
	size_t len = (size_t)n;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		bool last_newline = c == '\n' && i + 1 == len;
		if (c == '\n' && !last_newline)
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if ((c < 0x20 && !last_newline) || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else if (c == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			fprintf(f, "\\u%04x", s[++i]); /* a C1 control in UTF-8 */
		else
			fputc(c, f);
	}
	if (text != small)
		free(text);
}

void cli_printf_safe(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cli_vprintf_safe(f, fmt, ap);
	va_end(ap);
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "cvmkit%s%s: ", verb ? " " : "", verb ? verb : "");
	va_start(ap, fmt);
	cli_vprintf_safe(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'cvmkit%s%s --help')\n", verb ? " " : "", verb ? verb : "");
	return CLI_USAGE;
}

int cli_finish_stdout(const char *verb, int status)
{
	int e = 0;
	bool bad = false;
	errno = 0;
	if (fflush(stdout) != 0) {
		bad = true;
		e = errno;
	} else if (ferror(stdout)) {
		bad = true; /* an earlier write failed; errno from then is gone */
	}
	errno = 0;
	if (fclose(stdout) != 0 && !bad) {
		bad = true;
		e = errno;
	}
	if (!bad)
		return status;
	fprintf(stderr, "cvmkit%s%s: error writing standard output: %s\n", verb ? " " : "",
		verb ? verb : "", e ? strerror(e) : "a write failed");
	return status == CLI_OK ? CLI_FAIL : status;
}

int cli_fail(const char *verb, const struct cvm_error *err)
{
	cli_printf_safe(stderr, "cvmkit %s: %s\n", verb, cvm_error_message(err));
	return CLI_FAIL;
}

void cli_info(const struct cli_ctx *ctx, const char *fmt, ...)
{
	if (ctx && ctx->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	cli_vprintf_safe(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

bool cli_progress_enabled(const struct cli_ctx *ctx)
{
	return !(ctx && ctx->quiet) && isatty(STDERR_FILENO);
}

int cli_parse_global_options(int argc, char **argv, struct cli_ctx *ctx, int *next, bool *help)
{
	int i = 1;
	*help = false;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			*help = true;
			return CLI_OK;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("cvmkit %s\n", CVMKIT_VERSION);
			return CLI_OK;
		}
		if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			ctx->quiet = true;
		else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
			ctx->verbose = true;
		else
			return cli_usage_error(NULL, "unknown option '%s'", a);
	}
	if (ctx->quiet && ctx->verbose)
		return cli_usage_error(NULL, "give --quiet or --verbose, not both");
	*next = i;
	return -1;
}

int cli_report_data_parse(const char *hex, uint8_t out[64])
{
	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	size_t n = strlen(hex);
	if (n == 0 || n % 2 != 0 || n > 128)
		return -EINVAL;
	memset(out, 0, 64);
	return cvm_hex_decode(hex, out, n / 2);
}

int cli_threads_parse(const char *verb, const char *arg, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long n = arg[0] >= '0' && arg[0] <= '9' ? strtoul(arg, &end, 10) : 0;
	if (errno || n == 0 || *end || n > CVM_POOL_MAX_THREADS)
		return cli_usage_error(verb, "--threads: expected a count 1..%u, not '%s'",
				       CVM_POOL_MAX_THREADS, arg);
	*out = (unsigned)n;
	return 0;
}

int cli_pool_new(unsigned threads, struct cvm_pool **out, struct cvm_error *err)
{
	*out = NULL;
	if (threads == 1)
		return 0;
	return cvm_pool_new(threads, out, err);
}
