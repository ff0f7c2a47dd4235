/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmkit measure [POLICY] [options]: the launch measurement a policy will produce, computed
 * offline (SNP, legacy SEV/SEV-ES, TDX), as a measurement document; or the SNP digests of a
 * whole matrix of vCPU counts and CPU models; or the SNP digest of the firmware pages alone.
 * Flags override the policy, so quick use needs no policy file.
 */
#include "launcher/cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include <cvmkit/emit.h>
#include <cvmkit/firmware.h>
#include <cvmkit/policy.h>
#include <cvmkit/pool.h>
#include <cvmkit/snp.h>
#include <cvmkit/tdx.h>
#include <cvmkit/util.h>

#define VERB "measure"
#define MAX_VCPUS CVM_MAX_VCPUS /* as the policy's cpus.count */
#define MAX_MATRIX_COUNTS 4096u /* entries of a --vcpus list */

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: cvmkit measure [POLICY] [options]\n"
		"\n"
		"Compute the launch measurement a VM will have (SNP MEASUREMENT, SEV/SEV-ES launch\n"
		"digest, TDX MRTD) without any confidential-computing hardware.  POLICY is a JSON or\n"
		"CBOR policy; the options override it, so a policy is optional for SNP.\n"
		"\n"
		"output:\n"
		"  --format FMT            json (default), hex, cbor, corim, rvps\n"
		"  --json                  the same as --format json\n"
		"  --out FILE              write there (atomically) instead of standard output\n"
		"\n"
		"inputs (override the policy):\n"
		"  --tee snp|tdx           the TEE (default: the policy's, else snp)\n"
		"  --mode snp|sev|seves    AMD launch kind (default snp; sev, seves are SHA-256)\n"
		"  --firmware FILE         OVMF image (AmdSev build for kernel hashes); a policy's\n"
		"                          firmware.sha256 pin still applies to it\n"
		"  --vcpus N|LIST          vCPU count 1..4096 (default: the policy's, else 1); a list\n"
		"                          or range (1-64, 1,2,4) makes a matrix\n"
		"  --cpu MODEL[,MODEL..]   QEMU CPU model (EPYC-Milan, ...); several make a matrix\n"
		"  --vcpu-sig X            raw CPUID(1).EAX signature instead of a model\n"
		"  --vcpu-family N --vcpu-model N --vcpu-stepping N\n"
		"                          the signature from family/model/stepping\n"
		"  --vmm qemu|ec2|gce|cvmkit  VMM whose launch is modelled (default qemu)\n"
		"  --guest-features X      VMSA SEV features (default 0x1)\n"
		"  --kernel FILE           measured direct boot: kernel ...\n"
		"  --initrd FILE           ... initrd ...\n"
		"  --append TEXT           ... and command line\n"
		"\n"
		"split computation (SNP):\n"
		"  --firmware-digest-only  print the digest after the firmware pages (hex) and stop\n"
		"  --firmware-digest HEX   start from that digest; the firmware file then only needs\n"
		"                          its metadata (its last 4 KiB for edk2 builds)\n"
		"\n"
		"\n"
		CLI_THREADS_HELP
		"  -h, --help              this help\n"
		"\n"
		"The options are applied to the policy and the result is validated as a policy file\n"
		"is (docs/policy.md): what a policy may not say, an option may not say either.\n"
		"Matrix mode prints one digest per CPU model and vCPU count: a table, JSON lines\n"
		"(--format json) or bare digests (--format hex).\n"
		"Exit status: 0 success, 1 the measurement failed, 2 usage error (also an option\n"
		"that makes the policy invalid).\n");
}

enum opt_id {
	OPT_FORMAT = 256, OPT_OUT, OPT_TEE, OPT_MODE, OPT_FIRMWARE, OPT_VCPUS, OPT_CPU,
	OPT_VCPU_SIG, OPT_VCPU_FAMILY, OPT_VCPU_MODEL, OPT_VCPU_STEPPING, OPT_VMM,
	OPT_GUEST_FEATURES, OPT_KERNEL, OPT_INITRD, OPT_APPEND, OPT_FW_DIGEST, OPT_FW_DIGEST_ONLY,
	OPT_JSON, OPT_THREADS,
};

static const struct option long_opts[] = {
	{"format", required_argument, NULL, OPT_FORMAT},
	{"out", required_argument, NULL, OPT_OUT},
	{"tee", required_argument, NULL, OPT_TEE},
	{"mode", required_argument, NULL, OPT_MODE},
	{"firmware", required_argument, NULL, OPT_FIRMWARE},
	{"vcpus", required_argument, NULL, OPT_VCPUS},
	{"cpu", required_argument, NULL, OPT_CPU},
	{"vcpu-sig", required_argument, NULL, OPT_VCPU_SIG},
	{"vcpu-family", required_argument, NULL, OPT_VCPU_FAMILY},
	{"vcpu-model", required_argument, NULL, OPT_VCPU_MODEL},
	{"vcpu-stepping", required_argument, NULL, OPT_VCPU_STEPPING},
	{"vmm", required_argument, NULL, OPT_VMM},
	{"guest-features", required_argument, NULL, OPT_GUEST_FEATURES},
	{"kernel", required_argument, NULL, OPT_KERNEL},
	{"initrd", required_argument, NULL, OPT_INITRD},
	{"append", required_argument, NULL, OPT_APPEND},
	{"firmware-digest", required_argument, NULL, OPT_FW_DIGEST},
	{"firmware-digest-only", no_argument, NULL, OPT_FW_DIGEST_ONLY},
	{"json", no_argument, NULL, OPT_JSON},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* What the command line asks for, before it is merged into the policy. */
struct measure_args {
	const char *policy_path;
	bool has_format;
	enum cvm_emit_format format;
	const char *out;
	bool has_tee;
	enum cvm_tee tee;
	bool has_mode;
	enum cvm_sev_mode mode;
	const char *firmware, *kernel, *initrd, *append;
	uint32_t *vcpus; /* counts; more than one means a matrix */
	size_t nvcpus;
	char **cpus;     /* models; more than one means a matrix */
	size_t ncpus;
	bool has_sig;
	uint32_t sig;
	bool has_fms[3]; /* family, model, stepping */
	uint32_t fms[3];
	bool has_vmm;
	enum cvm_vmm vmm;
	bool has_features;
	uint64_t features;
	bool has_fw_digest;
	uint8_t fw_digest[CVM_SNP_DIGEST_SIZE];
	bool fw_digest_only;
	unsigned threads; /* 0: every CPU */
};

static void args_free(struct measure_args *a)
{
	free(a->vcpus);
	for (size_t i = 0; i < a->ncpus; i++)
		free(a->cpus[i]);
	free(a->cpus);
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!s[0] || s[0] == '-')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;
	if (!parse_u64(s, max, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

static int push_count(struct measure_args *a, uint32_t n)
{
	if (a->nvcpus >= MAX_MATRIX_COUNTS)
		return -1;
	uint32_t *p = reallocarray(a->vcpus, a->nvcpus + 1, sizeof(*p));
	if (!p)
		return -1;
	a->vcpus = p;
	a->vcpus[a->nvcpus++] = n;
	return 0;
}

/* "4", "1-64", "1,2,4-8": vCPU counts in the order given (no empty items: "1,,2" is refused). */
static int parse_vcpus(struct measure_args *a, const char *text)
{
	size_t len = strlen(text);
	if (!len || text[0] == ',' || text[len - 1] == ',' || strstr(text, ",,"))
		return -1;
	char *copy = strdup(text), *save = NULL;
	int rc = copy ? 0 : -1;
	a->nvcpus = 0;
	for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !rc;
	     tok = strtok_r(NULL, ",", &save)) {
		uint32_t lo, hi;
		char *dash = strchr(tok, '-');
		if (dash) {
			*dash = '\0';
			if (!parse_u32(tok, MAX_VCPUS, &lo) || !parse_u32(dash + 1, MAX_VCPUS, &hi) ||
			    lo == 0 || hi < lo) {
				rc = -1;
				break;
			}
		} else if (!parse_u32(tok, MAX_VCPUS, &lo) || lo == 0) {
			rc = -1;
			break;
		} else {
			hi = lo;
		}
		for (uint32_t n = lo; n <= hi && !rc; n++)
			rc = push_count(a, n);
	}
	free(copy);
	return rc || a->nvcpus == 0 ? -1 : 0;
}

static int parse_cpus(struct measure_args *a, const char *text)
{
	char *copy = strdup(text), *save = NULL;
	if (!copy)
		return -1;
	for (size_t i = 0; i < a->ncpus; i++)
		free(a->cpus[i]);
	a->ncpus = 0;
	int rc = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
		char **p = reallocarray(a->cpus, a->ncpus + 1, sizeof(*p));
		char *name = strdup(tok);
		if (p)
			a->cpus = p;
		if (!p || !name) {
			free(name);
			rc = -1;
			break;
		}
		a->cpus[a->ncpus++] = name;
	}
	free(copy);
	return rc || a->ncpus == 0 ? -1 : 0;
}

static int parse_vmm(const char *s, enum cvm_vmm *out)
{
	static const struct {
		const char *name;
		enum cvm_vmm vmm;
	} vmms[] = {{"qemu", CVM_VMM_QEMU}, {"ec2", CVM_VMM_EC2}, {"gce", CVM_VMM_GCE},
		    {"cvmkit", CVM_VMM_CVMKIT}};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(vmms); i++) {
		if (strcasecmp(s, vmms[i].name) == 0) {
			*out = vmms[i].vmm;
			return 0;
		}
	}
	return -1;
}

/* One option into args; returns 0 or CLI_USAGE (message printed). */
static int parse_one(struct measure_args *a, int c, const char *v)
{
	switch (c) {
	case OPT_FORMAT:
		if (cvm_emit_format_parse(v, &a->format))
			return cli_usage_error(VERB, "--format: expected json, hex, cbor, corim or "
						     "rvps, not '%s'", v);
		a->has_format = true;
		return 0;
	case OPT_JSON:
		a->format = CVM_FMT_JSON;
		a->has_format = true;
		return 0;
	case OPT_OUT: a->out = v; return 0;
	case OPT_TEE:
		if (strcmp(v, "snp") == 0)
			a->tee = CVM_TEE_SNP;
		else if (strcmp(v, "tdx") == 0)
			a->tee = CVM_TEE_TDX;
		else
			return cli_usage_error(VERB, "--tee: expected snp or tdx, not '%s'", v);
		a->has_tee = true;
		return 0;
	case OPT_MODE:
		if (cvm_sev_mode_parse(v, &a->mode))
			return cli_usage_error(VERB, "--mode: expected snp, sev or seves, not '%s'",
					       v);
		a->has_mode = true;
		return 0;
	case OPT_FIRMWARE: a->firmware = v; return 0;
	case OPT_KERNEL: a->kernel = v; return 0;
	case OPT_INITRD: a->initrd = v; return 0;
	case OPT_APPEND: a->append = v; return 0;
	case OPT_VCPUS:
		if (parse_vcpus(a, v))
			return cli_usage_error(VERB, "--vcpus: expected a count 1..%u, a range A-B "
						     "or a comma list, not '%s'", MAX_VCPUS, v);
		return 0;
	case OPT_CPU:
		if (parse_cpus(a, v))
			return cli_usage_error(VERB, "--cpu: expected MODEL[,MODEL...], not '%s'", v);
		return 0;
	case OPT_VCPU_SIG:
		if (!parse_u32(v, UINT32_MAX, &a->sig))
			return cli_usage_error(VERB, "--vcpu-sig: expected a 32-bit number, not '%s'",
					       v);
		a->has_sig = true;
		return 0;
	case OPT_VCPU_FAMILY:
	case OPT_VCPU_MODEL:
	case OPT_VCPU_STEPPING: {
		int i = c - OPT_VCPU_FAMILY;
		if (!parse_u32(v, 0x1FF, &a->fms[i]))
			return cli_usage_error(VERB, "--%s: expected a number, not '%s'",
					       long_opts[OPT_VCPU_FAMILY - OPT_FORMAT + i].name, v);
		a->has_fms[i] = true;
		return 0;
	}
	case OPT_VMM:
		if (parse_vmm(v, &a->vmm))
			return cli_usage_error(VERB, "--vmm: expected qemu, ec2, gce or cvmkit, not "
						     "'%s'", v);
		a->has_vmm = true;
		return 0;
	case OPT_GUEST_FEATURES:
		if (!parse_u64(v, UINT64_MAX, &a->features))
			return cli_usage_error(VERB, "--guest-features: expected a number, not '%s'",
					       v);
		a->has_features = true;
		return 0;
	case OPT_FW_DIGEST:
		if (cvm_hex_decode(v, a->fw_digest, sizeof(a->fw_digest)))
			return cli_usage_error(VERB, "--firmware-digest: expected 96 hex digits");
		a->has_fw_digest = true;
		return 0;
	case OPT_FW_DIGEST_ONLY: a->fw_digest_only = true; return 0;
	case OPT_THREADS: return cli_threads_parse(VERB, v, &a->threads);
	default: return cli_usage_error(VERB, "unknown option");
	}
}

static int parse_args(struct measure_args *a, int argc, char **argv)
{
	optind = 1;
	opterr = 0;
	int c, rc;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return cli_option_error(VERB, NULL, c, argv);
		if ((rc = parse_one(a, c, optarg)))
			return rc;
	}
	if (optind < argc)
		a->policy_path = argv[optind++];
	if (optind < argc)
		return cli_usage_error(VERB, "unexpected argument '%s'", argv[optind]);

	int nfms = a->has_fms[0] + a->has_fms[1] + a->has_fms[2];
	if (nfms && nfms != 3)
		return cli_usage_error(VERB, "--vcpu-family, --vcpu-model and --vcpu-stepping go "
					     "together");
	if (nfms && a->has_sig)
		return cli_usage_error(VERB, "give --vcpu-sig or --vcpu-family/model/stepping, not "
					     "both");
	if ((nfms || a->has_sig) && a->ncpus)
		return cli_usage_error(VERB, "give --cpu or a raw vCPU signature, not both");
	if (a->fw_digest_only && a->has_fw_digest)
		return cli_usage_error(VERB, "--firmware-digest-only computes what "
					     "--firmware-digest supplies: give one of them");
	if (!a->policy_path && !a->firmware)
		return cli_usage_error(VERB, "give a POLICY or --firmware FILE");
	if (nfms) {
		a->sig = cvm_cpu_signature(a->fms[0], a->fms[1], a->fms[2]);
		a->has_sig = true;
	}
	return 0;
}

static int set_string(char **field, const char *value, struct cvm_error *err)
{
	char *copy = strdup(value);
	if (!copy)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	free(*field);
	*field = copy;
	return 0;
}

static bool is_matrix(const struct measure_args *a)
{
	return a->nvcpus > 1 || a->ncpus > 1;
}

/*
 * The loaded policy (*io, or defaults when NULL) with every command-line override applied.
 * *io is the caller's either way and freed by it.
 */
static int apply_overrides(const struct measure_args *a, struct cvm_policy **io,
			   struct cvm_error *err)
{
	struct cvm_policy *p = *io;
	if (!p) {
		if (!(p = calloc(1, sizeof(*p))))
			return cvm_error_set(err, -ENOMEM, "out of memory");
		cvm_policy_init(p);
		p->tee = CVM_TEE_SNP;
		*io = p;
	}
	int rc = 0;
	if (a->has_tee)
		p->tee = a->tee;
	if (a->has_vmm)
		p->vmm = a->vmm;
	if (a->nvcpus)
		p->cpus.count = a->vcpus[0];
	if (a->ncpus) {
		rc |= set_string(&p->cpus.model, a->cpus[0], err);
		p->cpus.has_signature = false;
	}
	if (a->has_sig) {
		p->cpus.has_signature = true;
		p->cpus.signature = a->sig;
		free(p->cpus.model); /* a raw signature replaces the policy's model */
		p->cpus.model = NULL;
	}
	if (a->has_features)
		p->snp.guest_features = a->features;
	/* The policy's firmware.sha256 pin stays: --firmware says where to read the pinned image
	   (another copy, another path), not that any image will do. */
	if (a->firmware)
		rc |= set_string(&p->firmware.path, a->firmware, err);
	if (a->kernel)
		rc |= set_string(&p->boot.kernel, a->kernel, err);
	if (a->initrd)
		rc |= set_string(&p->boot.initrd, a->initrd, err);
	if (a->append)
		rc |= set_string(&p->boot.cmdline, a->append, err);
	if (a->has_fw_digest) {
		p->snp.has_firmware_digest = true;
		memcpy(p->snp.firmware_digest, a->fw_digest, CVM_SNP_DIGEST_SIZE);
	}
	return rc;
}

/*
 * The one validator on the policy the options made: an option may not say what a policy may
 * not ("--guest-features 0x20": no SNPActive; "--append" of 100 000 characters).
 */
static int validate_overridden(const struct measure_args *a, const struct cvm_policy *p)
{
	struct cvm_policy_problems pr = {0};
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_policy_validate(p, &pr, &err);
	if (rc == 0)
		return CLI_OK;
	const char *what = a->policy_path ? "the policy with the command-line options"
					  : "the command-line options";
	for (size_t i = 0; i < pr.count; i++)
		cli_printf_safe(stderr, "cvmkit %s: %s: %s%s%s\n", VERB, what, pr.items[i].path,
				pr.items[i].path[0] ? ": " : "", pr.items[i].message);
	if (pr.count == 0)
		return cli_fail(VERB, &err); /* out of memory */
	cvm_policy_problems_free(&pr);
	return CLI_USAGE; /* the policy itself was valid: an option made it invalid */
}

/* ---- output ------------------------------------------------------------------------------ */

static int write_output(const struct measure_args *a, const void *data, size_t len)
{
	struct cvm_error err;
	cvm_error_clear(&err);
	if (cvm_file_write_atomic(a->out ? a->out : "-", data, len, &err))
		return cli_fail(VERB, &err);
	return CLI_OK;
}

static int emit_document(const struct measure_args *a, const struct cvm_measurement *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct cvm_error err;
	cvm_error_clear(&err);
	if (cvm_measurement_encode(m, a->has_format ? a->format : CVM_FMT_JSON, &buf, &len, &err))
		return cli_fail(VERB, &err);
	int rc = write_output(a, buf, len);
	free(buf);
	return rc;
}

static const char *row_cpu(const struct cvm_snp_matrix_row *r, const struct cvm_policy *p)
{
	if (r->cpu)
		return r->cpu;
	if (p->cpus.has_signature)
		return "-";
	return p->cpus.model ? p->cpus.model : "-";
}

static void print_row(FILE *f, const struct measure_args *a, const struct cvm_snp_matrix_row *r,
		      const struct cvm_policy *p)
{
	char hex[2 * CVM_SNP_DIGEST_SIZE + 1], sig[16];
	cvm_hex_encode(r->digest, sizeof(r->digest), hex);
	snprintf(sig, sizeof(sig), "0x%08" PRIx32, r->signature);
	if (!a->has_format) {
		fprintf(f, "%-5" PRIu32 "  %-14s  %-10s  %s\n", r->vcpus, row_cpu(r, p), sig, hex);
	} else if (a->format == CVM_FMT_HEX) {
		fprintf(f, "%s\n", hex);
	} else {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "vcpus", json_object_new_int64(r->vcpus));
		json_object_object_add(o, "cpu", json_object_new_string(row_cpu(r, p)));
		json_object_object_add(o, "vcpu_signature", json_object_new_string(sig));
		json_object_object_add(o, "vmm", json_object_new_string(cvm_vmm_name(p->vmm)));
		json_object_object_add(o, "digest", json_object_new_string(hex));
		fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	}
}

static int run_matrix(const struct measure_args *a, const struct cvm_policy *p,
		      const struct cvm_firmware *fw, struct cvm_pool *pool)
{
	struct cvm_error err;
	cvm_error_clear(&err);
	uint32_t one = p->cpus.count;
	const uint32_t *counts = a->nvcpus ? a->vcpus : &one;
	size_t ncounts = a->nvcpus ? a->nvcpus : 1;
	const char *own = NULL;
	const char *const *cpus = a->ncpus ? (const char *const *)a->cpus : &own;
	size_t ncpus = a->ncpus ? a->ncpus : 1;

	struct cvm_snp_matrix_row *rows = NULL;
	size_t nrows = 0;
	struct cvm_snp_matrix_opts o = {.pool = pool};
	if (cvm_snp_measure_matrix_ex(p, fw, &o, counts, ncounts, cpus, ncpus, &rows, &nrows, &err))
		return cli_fail(VERB, &err);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		free(rows);
		cvm_error_set(&err, -ENOMEM, "out of memory");
		return cli_fail(VERB, &err);
	}
	if (!a->has_format)
		fprintf(f, "%-5s  %-14s  %-10s  %s\n", "vcpus", "cpu", "signature", "digest");
	for (size_t i = 0; i < nrows; i++)
		print_row(f, a, &rows[i], p);
	free(rows);
	/* The stream's buffer is only complete (or known to be) once it is closed. */
	if (fclose(f) != 0) {
		free(buf);
		cvm_error_set(&err, -ENOMEM, "out of memory formatting the matrix");
		return cli_fail(VERB, &err);
	}
	int rc = write_output(a, buf, len);
	free(buf);
	return rc;
}

static int run_firmware_digest(const struct measure_args *a, const struct cvm_firmware *fw,
			       struct cvm_pool *pool)
{
	struct cvm_error err;
	cvm_error_clear(&err);
	uint8_t d[CVM_SNP_DIGEST_SIZE];
	if (cvm_snp_firmware_digest_ex(fw, pool, d, &err))
		return cli_fail(VERB, &err);
	char line[2 * CVM_SNP_DIGEST_SIZE + 2];
	cvm_hex_encode(d, sizeof(d), line);
	strcat(line, "\n");
	return write_output(a, line, strlen(line));
}

/* Combinations that only make sense for one TEE or mode: usage errors. */
static int check_combination(const struct measure_args *a, const struct cvm_policy *p)
{
	bool snp_mode = !a->has_mode || a->mode == CVM_SEV_MODE_SNP;
	if (p->tee == CVM_TEE_TDX && (a->has_mode || a->fw_digest_only || a->has_fw_digest ||
				      is_matrix(a)))
		return cli_usage_error(VERB, "--mode, --firmware-digest[-only] and matrix mode "
					     "are for SEV-SNP, not TDX");
	if (is_matrix(a) && (!snp_mode || a->fw_digest_only))
		return cli_usage_error(VERB, "matrix mode measures --mode snp only");
	if (is_matrix(a) && a->has_format && a->format != CVM_FMT_JSON &&
	    a->format != CVM_FMT_HEX)
		return cli_usage_error(VERB, "matrix mode prints a table, JSON lines (--format "
					     "json) or digests (--format hex)");
	if (!snp_mode && (a->fw_digest_only || a->has_fw_digest))
		return cli_usage_error(VERB, "--firmware-digest[-only] is for --mode snp");
	return 0;
}

/* --verbose: the launch plan whose digest this is, on stderr (SNP and TDX launches). */
static void print_plan(const struct measure_args *a, const struct cvm_policy *p,
		       const struct cvm_firmware *fw)
{
	if (a->has_mode && a->mode != CVM_SEV_MODE_SNP)
		return;
	struct cvm_plan plan;
	struct cvm_error err;
	int rc = p->tee == CVM_TEE_TDX ? cvm_tdx_plan_build(p, fw, &plan, &err)
				       : cvm_snp_plan_build(p, fw, &plan, &err);
	if (rc)
		return; /* the measurement itself reports the reason */
	cli_print_plan(stderr, p, &plan);
	cvm_plan_release(&plan);
}

static int measure_on(const struct cli_ctx *ctx, const struct measure_args *a,
		      const struct cvm_policy *p, const struct cvm_firmware *fw,
		      struct cvm_pool *pool)
{
	struct cvm_error err;
	cvm_error_clear(&err);
	if (a->fw_digest_only)
		return run_firmware_digest(a, fw, pool);
	if (is_matrix(a))
		return run_matrix(a, p, fw, pool);

	if (ctx->verbose)
		print_plan(a, p, fw);
	struct cvm_measurement *m = NULL;
	int rc = cli_policy_measurement(ctx, p, fw, a->has_mode ? a->mode : CVM_SEV_MODE_SNP, pool,
					&m, &err);
	if (rc)
		return cli_fail(VERB, &err);
	rc = emit_document(a, m);
	cvm_measurement_free(m);
	return rc;
}

/*
 * On --threads: the firmware's SHA-256 beside SNP's page hashes or TDX's MRTD chain (itself one
 * sequential stream), and TDX's boot files beside the MRTD chain.  The firmware is freed before
 * the pool its SHA-256 may still run on.
 */
static int measure(const struct cli_ctx *ctx, const struct measure_args *a,
		   const struct cvm_policy *p)
{
	struct cvm_pool *pool = NULL;
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = CLI_OK;
	if (cli_pool_new(a->threads, &pool, &err) || cli_policy_firmware(p, pool, &fw, &err))
		rc = cli_fail(VERB, &err);
	else
		rc = measure_on(ctx, a, p, fw, pool);
	cvm_firmware_free(fw);
	cvm_pool_free(pool);
	return rc;
}

int cmd_measure(const struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		print_usage(stdout);
		return CLI_OK;
	}
	struct measure_args a;
	memset(&a, 0, sizeof(a));
	int rc = parse_args(&a, argc, argv);
	struct cvm_policy *p = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	if (!rc && a.policy_path && !(p = cli_load_policy(VERB, a.policy_path)))
		rc = CLI_FAIL;
	if (!rc && apply_overrides(&a, &p, &err))
		rc = cli_fail(VERB, &err);
	if (!rc)
		rc = validate_overridden(&a, p);
	if (!rc && (p->tee == CVM_TEE_SNP || p->tee == CVM_TEE_TDX))
		rc = check_combination(&a, p);
	if (!rc)
		rc = measure(ctx, &a, p);
	cvm_policy_free(p);
	args_free(&a);
	return rc;
}
