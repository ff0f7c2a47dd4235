/* SPDX-License-Identifier: Apache-2.0 */
/* cvmkit libvirt: host capabilities through libvirt, domain XML for a policy, define. */
#include "launcher/cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <cvmkit/libvirt.h>
#include <cvmkit/policy.h>
#include <cvmkit/util.h>

#define VERB "libvirt"

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: cvmkit libvirt caps [URI] [--json] [--domcaps FILE]\n"
		"       cvmkit libvirt xml POLICY [--name NAME] [--type TYPE] [-o FILE] [--json]\n"
		"       cvmkit libvirt define POLICY [URI] [--name NAME] [--json]\n"
		"\n"
		"subcommands:\n"
		"  caps     SEV, SEV-ES, SEV-SNP and TDX support of a libvirt host and their\n"
		"           parameters (cbitpos, reduced-phys-bits, max guests)\n"
		"  xml      the libvirt domain XML of a policy; a VM started from it measures as\n"
		"           'cvmkit measure' says for the qemu profile.  What libvirt cannot\n"
		"           express is reported as notes on standard error\n"
		"  define   define (not start) that domain through libvirt's API\n"
		"\n"
		"URI is a libvirt connection URI (default: libvirt's own default, e.g. from\n"
		"LIBVIRT_DEFAULT_URI).  SEV-SNP needs libvirt >= 10.5 and QEMU >= 9.1; TDX needs\n"
		"libvirt >= 11.6 (<launchSecurity type='tdx'>, <quoteGenerationService>) and\n"
		"QEMU >= 10.1.\n"
		"\n"
		"'cvmkit libvirt SUBCOMMAND --help' describes a subcommand.\n");
}

static void print_caps_usage(FILE *out)
{
	fprintf(out,
		"usage: cvmkit libvirt caps [URI] [--json] [--domcaps FILE]\n"
		"\n"
		"Connect to URI (default: libvirt's default) and report, from\n"
		"virConnectGetDomainCapabilities, whether SEV, SEV-ES, SEV-SNP and TDX guests can\n"
		"be launched and the SEV parameters.  Drivers without domain capabilities (the\n"
		"test driver) are reported as such, with every TEE's support unknown (text:\n"
		"'unknown'; --json: \"supported\": null, not false); exit status 0.\n"
		"\n"
		"options:\n"
		"  --json          print one JSON object\n"
		"  --domcaps FILE  read a saved 'virsh domcapabilities' document instead\n"
		"  -h, --help      this help\n");
}

static void print_xml_usage(FILE *out)
{
	fprintf(out,
		"usage: cvmkit libvirt xml POLICY [--name NAME] [--type TYPE] [--qgs SOCKET]\n"
		"                               [-o FILE] [--json]\n"
		"\n"
		"Write the libvirt domain XML of POLICY: memory, vCPUs, CPU model, firmware loader,\n"
		"direct-boot kernel/initrd/cmdline (absolute paths) and <launchSecurity> (sev-snp:\n"
		"policy, host data, ID block/auth, kernel hashes; tdx: attributes, MRCONFIGID,\n"
		"MROWNER, MROWNERCONFIG, quoteGenerationService).  For SEV-SNP and TDX the firmware\n"
		"is read and checked as 'cvmkit measure' checks it (pin, kernel hashes, metadata):\n"
		"what measure refuses gets no XML.  Policy fields with no libvirt equivalent (SNP\n"
		"guest features, TDX XFAM, pre-fault, ...) are printed as 'note:' lines on\n"
		"standard error.\n"
		"\n"
		"options:\n"
		"  --name NAME   domain name (default: the policy's name)\n"
		"  --type TYPE   <domain type=...>: kvm (default) or qemu (TCG, for testing)\n"
		"  --qgs SOCKET  TDX: the quote generation service's socket (absolute path;\n"
		"                default: libvirt's)\n"
		"  -o FILE       write the XML to FILE atomically (default: standard output)\n"
		"  --json        print {\"xml\": ..., \"notes\": [...]} instead\n"
		"  -h, --help    this help\n");
}

static void print_define_usage(FILE *out)
{
	fprintf(out,
		"usage: cvmkit libvirt define POLICY [URI] [--name NAME] [--qgs SOCKET] [--json]\n"
		"\n"
		"Define (not start) the domain of 'cvmkit libvirt xml POLICY' on URI (default:\n"
		"libvirt's default) and print its name and UUID.  A libvirt too old for the\n"
		"policy's launch security is refused with the version it needs.\n"
		"\n"
		"options:\n"
		"  --name NAME  domain name (default: the policy's name)\n"
		"  --qgs SOCKET TDX: the quote generation service's socket (default: libvirt's)\n"
		"  --json       print {\"name\": ..., \"uuid\": ..., \"uri\": ..., \"notes\": [...]}\n"
		"  -h, --help   this help\n");
}

/* libvirt prints its errors to stderr by default; cvmkit reports them itself. */
static void silent_virt_error(void *data, virErrorPtr error)
{
	(void)data;
	(void)error;
}

static struct json_object *u32_or_null(bool has, uint32_t v)
{
	return has ? json_object_new_int64(v) : NULL;
}

static struct json_object *string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* true/false from the domain capabilities; null (unknown) when the driver reports none. */
static struct json_object *support_json(const struct cvm_libvirt_caps *c, bool supported)
{
	return c->has_domain_caps ? json_object_new_boolean(supported) : NULL;
}

static int caps_json(const struct cvm_libvirt_caps *c)
{
	char ver[32];
	cvm_libvirt_version_string(c->lib_version, ver, sizeof(ver));
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "uri", string_or_null(c->uri));
	json_object_object_add(o, "driver", string_or_null(c->driver));
	json_object_object_add(o, "libvirt_version", c->lib_version ? json_object_new_string(ver)
								     : NULL);
	json_object_object_add(o, "domain_capabilities", json_object_new_boolean(c->has_domain_caps));
	if (!c->has_domain_caps)
		json_object_object_add(o, "domain_capabilities_error",
				       string_or_null(c->domain_caps_error));
	json_object_object_add(o, "emulator", string_or_null(c->emulator));
	json_object_object_add(o, "machine", string_or_null(c->machine));
	json_object_object_add(o, "arch", string_or_null(c->arch));
	struct json_object *sev = json_object_new_object();
	json_object_object_add(sev, "supported", support_json(c, c->sev));
	json_object_object_add(sev, "cbitpos", u32_or_null(c->has_cbitpos, c->cbitpos));
	json_object_object_add(sev, "reduced_phys_bits",
			       u32_or_null(c->has_reduced_phys_bits, c->reduced_phys_bits));
	json_object_object_add(sev, "max_guests", u32_or_null(c->has_max_guests, c->max_guests));
	json_object_object_add(sev, "max_es_guests",
			       u32_or_null(c->has_max_es_guests, c->max_es_guests));
	json_object_object_add(o, "sev", sev);
	struct json_object *es = json_object_new_object();
	json_object_object_add(es, "supported", support_json(c, c->sev_es));
	json_object_object_add(o, "sev_es", es);
	struct json_object *snp = json_object_new_object();
	json_object_object_add(snp, "supported", support_json(c, c->sev_snp));
	json_object_object_add(o, "sev_snp", snp);
	struct json_object *tdx = json_object_new_object();
	json_object_object_add(tdx, "supported", support_json(c, c->tdx));
	json_object_object_add(o, "tdx", tdx);
	json_object_object_add(o, "launch_security_types_listed",
			       support_json(c, c->sectypes_listed));
	return cli_print_json(VERB, o);
}

static void print_u32(const char *label, bool has, uint32_t v)
{
	if (has)
		printf("  %-18s %u\n", label, v);
	else
		printf("  %-18s unknown\n", label);
}

static int caps_text(const struct cvm_libvirt_caps *c)
{
	char ver[32];
	cvm_libvirt_version_string(c->lib_version, ver, sizeof(ver));
	cli_printf_safe(stdout, "uri:       %s\n", c->uri ? c->uri : "(file)");
	if (c->driver)
		cli_printf_safe(stdout, "driver:    %s (libvirt %s)\n", c->driver, c->lib_version ? ver : "?");
	if (!c->has_domain_caps) {
		cli_printf_safe(stdout, "domain capabilities: not reported by this driver (%s)\n",
		       c->domain_caps_error ? c->domain_caps_error : "unknown reason");
		printf("SEV: unknown  SEV-ES: unknown  SEV-SNP: unknown  TDX: unknown\n");
		return CLI_OK;
	}
	if (c->emulator)
		cli_printf_safe(stdout, "emulator:  %s\n", c->emulator);
	if (c->machine)
		cli_printf_safe(stdout, "machine:   %s\n", c->machine);
	printf("SEV:       %s\n", c->sev ? "yes" : "no");
	if (c->sev) {
		print_u32("cbitpos", c->has_cbitpos, c->cbitpos);
		print_u32("reduced-phys-bits", c->has_reduced_phys_bits, c->reduced_phys_bits);
		print_u32("max guests", c->has_max_guests, c->max_guests);
		print_u32("max SEV-ES guests", c->has_max_es_guests, c->max_es_guests);
	}
	printf("SEV-ES:    %s\n", c->sev_es ? "yes" : "no");
	printf("SEV-SNP:   %s%s\n", c->sev_snp ? "yes" : "no",
	       c->sectypes_listed ? "" : " (libvirt does not list launch security types: < 10.5)");
	printf("TDX:       %s\n", c->tdx ? "yes" : "no");
	return CLI_OK;
}

/* The capabilities of a saved 'virsh domcapabilities' document; *out only on success. */
static int caps_from_file(const char *path, struct cvm_libvirt_caps **out, struct cvm_error *err)
{
	char *xml = NULL;
	int rc = cli_read_text_file(path, &xml, err);
	if (rc < 0)
		return rc;
	struct cvm_libvirt_caps *caps = calloc(1, sizeof(*caps));
	if (!caps) {
		rc = cvm_error_set(err, -ENOMEM, "out of memory");
	} else {
		caps->has_domain_caps = true;
		rc = cvm_libvirt_caps_parse(xml, caps, err);
	}
	free(xml);
	if (rc < 0) {
		cvm_libvirt_caps_free(caps);
		return cvm_error_wrap(err, "%s", path);
	}
	*out = caps;
	return 0;
}

static int run_caps(const struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"domcaps", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false;
	const char *domcaps = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'd':
			domcaps = optarg;
			break;
		case 'h':
			print_caps_usage(stdout);
			return CLI_OK;
		default:
			return cli_option_error(VERB, "caps", c, argv);
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(VERB, "caps: expected at most one URI");
	const char *uri = argc - optind == 1 ? argv[optind] : NULL;
	if (uri && domcaps)
		return cli_usage_error(VERB, "caps: give a URI or --domcaps, not both");

	struct cvm_error err;
	cvm_error_clear(&err);
	struct cvm_libvirt_caps *caps = NULL;
	int rc;
	if (domcaps) {
		rc = caps_from_file(domcaps, &caps, &err);
	} else {
		virSetErrorFunc(NULL, silent_virt_error);
		rc = cvm_libvirt_caps_query(uri, &caps, &err);
	}
	if (rc < 0)
		return cli_fail(VERB, &err);
	rc = json ? caps_json(caps) : caps_text(caps);
	cvm_libvirt_caps_free(caps);
	return rc;
}

static struct json_object *notes_json(const struct cvm_libvirt_notes *notes)
{
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < notes->count; i++)
		json_object_array_add(arr, json_object_new_string(notes->items[i]));
	return arr;
}

static void print_notes(const struct cli_ctx *ctx, const struct cvm_libvirt_notes *notes)
{
	for (size_t i = 0; i < notes->count; i++)
		cli_info(ctx, "cvmkit %s: note: %s", VERB, notes->items[i]);
}

struct xml_args {
	const char *name, *type, *output, *qgs;
	bool json;
	int npos;
	char *pos[2];
};

static int parse_xml_args(const char *sub, int argc, char **argv, struct xml_args *a,
			  void (*usage)(FILE *), int max_pos)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"name", required_argument, NULL, 'n'},
		{"type", required_argument, NULL, 't'},
		{"output", required_argument, NULL, 'o'},
		{"qgs", required_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			a->json = true;
			break;
		case 'n':
			a->name = optarg;
			break;
		case 'q':
			if (optarg[0] != '/')
				return cli_usage_error(VERB, "%s: --qgs: expected the absolute path of "
						       "a socket, not '%s'", sub, optarg);
			a->qgs = optarg;
			break;
		case 't':
			if (max_pos == 2)
				return cli_usage_error(VERB, "%s: unknown option '--type'", sub);
			if (strcmp(optarg, "kvm") != 0 && strcmp(optarg, "qemu") != 0)
				return cli_usage_error(VERB, "%s: --type: unsupported domain type "
						       "'%s' (expected kvm or qemu)", sub, optarg);
			a->type = optarg;
			break;
		case 'o':
			if (max_pos == 2)
				return cli_usage_error(VERB, "%s: unknown option '-o'", sub);
			a->output = optarg;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return cli_option_error(VERB, sub, c, argv);
		}
	}
	if (a->json && a->output)
		return cli_usage_error(VERB, "%s: give -o FILE or --json, not both", sub);
	a->npos = argc - optind;
	if (a->npos < 1 || a->npos > max_pos)
		return cli_usage_error(VERB, "%s: expected POLICY%s", sub,
				       max_pos == 2 ? " [URI]" : "");
	for (int i = 0; i < a->npos; i++)
		a->pos[i] = argv[optind + i];
	return 0;
}

static int run_xml(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct xml_args a = {0};
	int rc = parse_xml_args("xml", argc, argv, &a, print_xml_usage, 1);
	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	struct cvm_policy *p = cli_load_policy(VERB, a.pos[0]);
	if (!p)
		return CLI_FAIL;
	struct cvm_libvirt_xml_opts opts = {.domain_type = a.type, .name = a.name,
					    .qgs_path = a.qgs};
	struct cvm_libvirt_notes notes = {0};
	struct cvm_error err;
	cvm_error_clear(&err);
	char *xml = NULL;
	rc = cvm_libvirt_domain_xml(p, &opts, &xml, &notes, &err);
	cvm_policy_free(p);
	if (rc < 0)
		return cli_fail(VERB, &err);
	int status = CLI_OK;
	if (a.json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "xml", json_object_new_string(xml));
		json_object_object_add(o, "notes", notes_json(&notes));
		status = cli_print_json(VERB, o);
	} else if (a.output) {
		if (cvm_file_write_atomic(a.output, xml, strlen(xml), &err) < 0)
			status = cli_fail(VERB, &err);
		print_notes(ctx, &notes);
	} else {
		fputs(xml, stdout);
		print_notes(ctx, &notes);
	}
	free(xml);
	cvm_libvirt_notes_free(&notes);
	return status;
}

static int run_define(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct xml_args a = {0};
	int rc = parse_xml_args("define", argc, argv, &a, print_define_usage, 2);
	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	const char *uri = a.npos == 2 ? a.pos[1] : NULL;
	struct cvm_policy *p = cli_load_policy(VERB, a.pos[0]);
	if (!p)
		return CLI_FAIL;
	struct cvm_libvirt_xml_opts opts = {.name = a.name, .qgs_path = a.qgs};
	struct cvm_libvirt_notes notes = {0};
	struct cvm_error err;
	cvm_error_clear(&err);
	char *xml = NULL, *name = NULL, *uuid = NULL;
	enum cvm_tee tee = p->tee;
	rc = cvm_libvirt_domain_xml(p, &opts, &xml, &notes, &err);
	cvm_policy_free(p);
	if (rc == 0) {
		virSetErrorFunc(NULL, silent_virt_error);
		rc = cvm_libvirt_define(uri, xml, tee, &name, &uuid, &err);
	}
	free(xml);
	int status = CLI_OK;
	if (rc < 0) {
		print_notes(ctx, &notes);
		status = cli_fail(VERB, &err);
	} else if (a.json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "uuid", json_object_new_string(uuid));
		json_object_object_add(o, "uri", uri ? json_object_new_string(uri) : NULL);
		json_object_object_add(o, "notes", notes_json(&notes));
		status = cli_print_json(VERB, o);
	} else {
		cli_printf_safe(stdout, "defined domain %s (uuid %s)\n", name, uuid);
		print_notes(ctx, &notes);
	}
	free(name);
	free(uuid);
	cvm_libvirt_notes_free(&notes);
	return status;
}

int cmd_libvirt(const struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(VERB, "missing subcommand (caps, xml or define)");
	const char *sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
		print_usage(stdout);
		return CLI_OK;
	}
	if (strcmp(sub, "caps") == 0)
		return run_caps(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "xml") == 0)
		return run_xml(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "define") == 0)
		return run_define(ctx, argc - 1, argv + 1);
	if (sub[0] == '-')
		return cli_usage_error(VERB, "unknown option '%s'", sub);
	return cli_usage_error(VERB, "unknown subcommand '%s' (expected caps, xml or define)", sub);
}
