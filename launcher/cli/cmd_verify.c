/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmkit verify: check SNP attestation reports and TDX quotes, one verdict per evidence file.
 * The trust material (bundled roots, --certs, --collateral) is loaded once; each further
 * thread's verifier is a clone sharing it.  The files are spread over --threads and their
 * verdicts printed in the order given.
 */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include <cvmkit/emit.h>
#include <cvmkit/eventlog.h>
#include <cvmkit/evidence.h>
#include <cvmkit/fetch.h>
#include <cvmkit/pool.h>
#include <cvmkit/util.h>
#include <cvmkit/verify.h>

#include "launcher/cli/cli.h"

static const char verb[] = "verify";

/* The version of the --json verdict and error objects (docs/schema/verdict.schema.json). */
#define VERDICT_SCHEMA "cvmkit-verdict/1"

static void print_usage(void)
{
	printf("usage: cvmkit verify EVIDENCE... [OPTIONS]\n"
	       "\n"
	       "Verify SEV-SNP attestation reports and TDX quotes, raw (binary or hex text) or in the\n"
	       "wrappers pipelines receive (Trustee and Azure evidence JSON, Veraison tsm-report JSON\n"
	       "or CBOR, an Azure HCL report, an SNP report with its certificate table), detected from\n"
	       "the content.  Prints every check with pass, fail or skip and why, and the parsed\n"
	       "fields.  Fails closed: a check that could not be made for lack of input is\n"
	       "\"not evaluated\", naming what is missing; a required one fails the verdict (TDX: the\n"
	       "TCB status and QE identity; SNP: the chain, the TCB binding and the chip ID).\n"

	       "\n"
	       "trust material:\n"
	       "  --certs DIR|FILE         VCEK/VLEK and AMD intermediates, AMD CRLs, GHCB certificate\n"
	       "                           tables, the TDX TCB Signing chain (DER or PEM; a folder\n"
	       "                           loads every such file in it); repeatable\n"
	       "  --collateral DIR|FILE    TDX TCB info, QE identity, CRLs, issuer chains; repeatable\n"
	       "  --product milan|genoa|turin  SNP product line (default: report CPUID, then certificate)\n"
	       "  --at RFC3339             verification time for certificates and collateral (default now)\n"
	       "  --fetch                  get what each evidence file needs from AMD KDS / Intel PCS\n"
	       "                           (cache first) and verify it like supplied material:\n"
	       CLI_FETCH_HELP
	       "expectations and verifier policy:\n"
	       "  --policy FILE            a VM policy: the measurement it produces (as 'cvmkit measure'\n"
	       "                           computes it) is expected, and its \"verify\" section gives the\n"
	       "                           verifier rules (docs/policy.md); the options below override\n"
	       "  --expect FILE            measurement document from 'cvmkit measure' (JSON, CBOR, CoRIM);\n"
	       "                           replaces the one --policy computes\n"
	       "  --allow NAME[,NAME...]   relax a secure default by name: debug, migrate_ma, cxl_allow,\n"
	       "                           td_attributes_reserved\n"
	       "  --eventlog LOG           TDX: replay this CC event log against each RTMR of the quote\n"
	       "                           (default: the log Trustee's evidence carries) and match\n"
	       "                           the expected events of --expect against it\n"
	       "  --report-data HEX        expected REPORT_DATA (up to 64 bytes, zero-padded)\n"
	       "  --report-data-file FILE  expected REPORT_DATA as raw bytes (up to 64)\n"
	       "  --allow-debug            accept debug-enabled guests (refused by default)\n"
	       "  --no-smt                 SNP: refuse guests whose policy allows SMT\n"
	       "  --vmpl LIST              SNP: allowed VMPLs, e.g. 0 or 0,1 (default: 0)\n"
	       "  --min-tcb HEX            SNP: minimum REPORTED_TCB (u64, product layout)\n"
	       "  --min-tee-tcb-svn HEX    TDX: minimum TEE_TCB_SVN (16 bytes, byte-wise)\n"
	       "  --require-uptodate       TDX collateral: TCB status must be UpToDate (default: any\n"
	       "                           known status but Revoked passes and is reported)\n"
	       "  --allow-unevaluated CHECK,...  accept these required checks unevaluated when their\n"
	       "                           input is missing: cert-chain, reported-tcb, chip-id (SNP),\n"
	       "                           tcb-status, qe-identity (TDX); the verdict names them\n"
	       "  --require-revocation     fail unless the chain's CRLs were checked (SNP: AMD's ARK\n"
	       "                           CRL; TDX: root CA and PCK CRLs), from --certs,\n"
	       "                           --collateral, the evidence or --fetch (--check-revocation\n"
	       "                           is the old name)\n"
	       "output:\n"
	       "  --json                   one JSON verdict per line per evidence file\n"
	       "                           (docs/schema/verdict.schema.json)\n"
	       "  --threads N              verify the files on N threads (default: every CPU this\n"
	       "                           process may run on, also with --fetch); each file's\n"
	       "                           verdict and messages are printed in the order of the\n"
	       "                           files whatever N is\n"
	       "  -h, --help               this text\n"
	       "\n"
	       "exit status:\n"
	       "  0  every evidence file accepted\n"
	       "  1  some evidence rejected (its verdict says why)\n"
	       "  2  usage error\n"
	       "  3  the verifier could not run: unreadable or bad trust material (--certs,\n"
	       "     --collateral), option file or expectation (--expect, --policy,\n"
	       "     --report-data-file);\n"
	       "     with --json a {\"schema\", \"error\"} object on stdout\n");
}

enum {
	OPT_EXPECT = 256,
	OPT_CERTS,
	OPT_COLLATERAL,
	OPT_PRODUCT,
	OPT_REPORT_DATA,
	OPT_REPORT_DATA_FILE,
	OPT_AT,
	OPT_ALLOW_DEBUG,
	OPT_NO_SMT,
	OPT_VMPL,
	OPT_MIN_TCB,
	OPT_MIN_TEE_TCB_SVN,
	OPT_JSON,
	OPT_REQUIRE_UPTODATE,
	OPT_FETCH,
	OPT_CHECK_REVOCATION,
	OPT_ALLOW_UNEVALUATED,
	OPT_POLICY,
	OPT_ALLOW,
	OPT_EVENTLOG,
	OPT_THREADS,
};

static const struct option long_opts[] = {
	{"expect", required_argument, NULL, OPT_EXPECT},
	{"certs", required_argument, NULL, OPT_CERTS},
	{"collateral", required_argument, NULL, OPT_COLLATERAL},
	{"product", required_argument, NULL, OPT_PRODUCT},
	{"report-data", required_argument, NULL, OPT_REPORT_DATA},
	{"report-data-file", required_argument, NULL, OPT_REPORT_DATA_FILE},
	{"at", required_argument, NULL, OPT_AT},
	{"allow-debug", no_argument, NULL, OPT_ALLOW_DEBUG},
	{"no-smt", no_argument, NULL, OPT_NO_SMT},
	{"vmpl", required_argument, NULL, OPT_VMPL},
	{"min-tcb", required_argument, NULL, OPT_MIN_TCB},
	{"min-tee-tcb-svn", required_argument, NULL, OPT_MIN_TEE_TCB_SVN},
	{"require-uptodate", no_argument, NULL, OPT_REQUIRE_UPTODATE},
	{"json", no_argument, NULL, OPT_JSON},
	{"fetch", no_argument, NULL, OPT_FETCH},
	{"check-revocation", no_argument, NULL, OPT_CHECK_REVOCATION},
	{"require-revocation", no_argument, NULL, OPT_CHECK_REVOCATION},
	{"allow-unevaluated", required_argument, NULL, OPT_ALLOW_UNEVALUATED},
	{"policy", required_argument, NULL, OPT_POLICY},
	{"allow", required_argument, NULL, OPT_ALLOW},
	{"eventlog", required_argument, NULL, OPT_EVENTLOG},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"help", no_argument, NULL, 'h'},
	CLI_FETCH_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

/* ---- loading trust material ---- */

typedef int (*add_fn)(struct cvm_verifier *v, const uint8_t *data, size_t len, const char *origin,
		      struct cvm_error *err);

/*
 * True when a file looks like trust material: PEM, TCB info or QE identity JSON, or framed like
 * DER.  In a folder, such a file that does not load is an error; any other file is skipped.
 */
static bool looks_like_trust_material(const uint8_t *d, size_t n, bool collateral)
{
	size_t i = 0;
	while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
		i++;
	if (i < n && d[i] == '{') /* JSON (evidence may carry PEM inside: not trust material) */
		return collateral &&
		       (memmem(d, n, "\"tcbInfo\"", 9) || memmem(d, n, "\"enclaveIdentity\"", 17));
	/* PEM: a BEGIN line (not the text of a PEM inside CBOR or other binary data) */
	for (const uint8_t *p = d; (p = memmem(p, n - (size_t)(p - d), "-----BEGIN ", 11)) != NULL;
	     p += 11)
		if (p == d + i || p[-1] == '\n')
			return true;
	if (n >= 4 && d[0] == 0x30 && d[1] >= 0x81 && d[1] <= 0x83) {
		size_t len = 0, nl = d[1] & 0x7fu;
		for (size_t k = 0; k < nl && 2 + k < n; k++)
			len = len << 8 | d[2 + k];
		return len + 2 + nl >= n; /* whole or cut short: a broken certificate or CRL */
	}
	return false;
}

/* in_folder: a file that is not trust material at all is skipped (1), not an error. */
static int add_file(struct cvm_verifier *v, add_fn add, const char *path, bool in_folder,
		    struct cvm_error *err)
{
	struct cvm_file f;
	int rc = cvm_file_open(path, &f, err);
	if (rc)
		return rc;
	const char *base = strrchr(path, '/');
	rc = add(v, f.data, f.size, base ? base + 1 : path, err);
	if (rc < 0 && rc != -ENOMEM && in_folder &&
	    !looks_like_trust_material(f.data, f.size, add == cvm_verifier_add_collateral))
		rc = 1;
	else if (rc > 0)
		rc = 0;
	cvm_file_close(&f);
	return rc;
}

/*
 * A folder: every regular file that is trust material (one that looks like it but does not load
 * is an error naming it); other files are skipped.
 */
static int add_path(struct cvm_verifier *v, add_fn add, const char *path, const char *what,
		    struct cvm_error *err)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return cvm_error_set(err, -errno, "%s %s: %s", what, path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		int rc = add_file(v, add, path, false, err);
		return rc ? cvm_error_wrap(err, "%s", what) : 0;
	}
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return cvm_error_set(err, -errno, "%s %s: %s", what, path, strerror(errno));
	int loaded = 0, rc = 0;
	for (int i = 0; i < n; i++) {
		char *full = names[i]->d_name[0] == '.' ? NULL : cvm_path_join(path, names[i]->d_name);
		struct stat fst;
		if (!rc && full && stat(full, &fst) == 0 && S_ISREG(fst.st_mode)) {
			int r = add_file(v, add, full, true, err);
			if (r == 0)
				loaded++;
			else if (r < 0)
				rc = cvm_error_wrap(err, "%s %s", what, path);
		}
		free(full);
		free(names[i]);
	}
	free(names);
	if (rc)
		return rc;
	if (loaded == 0)
		return cvm_error_set(err, -ENOENT, "%s %s: nothing usable in this folder", what, path);
	return 0;
}

/* ---- option values ---- */

static int parse_vmpl_list(const char *s, uint32_t *mask)
{
	uint32_t m = 0;
	const char *p = s;
	while (*p) {
		if (*p < '0' || *p > '3')
			return -EINVAL;
		m |= 1u << (*p - '0');
		p++;
		if (*p == ',')
			p++;
		else if (*p)
			return -EINVAL;
	}
	if (!m)
		return -EINVAL;
	*mask = m;
	return 0;
}

static int parse_u64_hex(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 16);
	if (errno || end == s || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* ---- output ---- */

/*
 * The parsed fields, written once for both outputs through a typed sink: text shows numbers in
 * decimal or hex as the field is read in the specs, JSON as numbers (docs/schema/).
 */
enum num_style { NUM_DEC, NUM_HEX, NUM_HEX16 };

struct field_sink {
	void (*str)(void *ctx, const char *key, const char *value);
	void (*num)(void *ctx, const char *key, uint64_t value, enum num_style style);
	void (*flag)(void *ctx, const char *key, bool value);
	void (*begin)(void *ctx, const char *key); /* a nested object */
	void (*end)(void *ctx);
	void *ctx;
};

static void put_hex(const struct field_sink *o, const char *key, const uint8_t *p, size_t n)
{
	char text[2 * 64 + 1];
	cvm_hex_encode(p, n < 64 ? n : 64, text);
	o->str(o->ctx, key, text);
}

static void put_snp_tcb(const struct field_sink *o, const char *key, uint64_t raw,
			enum cvm_amd_product p)
{
	char dkey[48];
	snprintf(dkey, sizeof(dkey), "%s_decoded", key);
	o->num(o->ctx, key, raw, NUM_HEX16);
	struct cvm_snp_tcb t;
	cvm_snp_tcb_decode(raw, p, &t);
	o->begin(o->ctx, dkey);
	o->num(o->ctx, "bootloader", t.bootloader, NUM_DEC);
	o->num(o->ctx, "tee", t.tee, NUM_DEC);
	o->num(o->ctx, "snp", t.snp, NUM_DEC);
	o->num(o->ctx, "microcode", t.microcode, NUM_DEC);
	if (p == CVM_AMD_TURIN)
		o->num(o->ctx, "fmc", t.fmc, NUM_DEC);
	o->end(o->ctx);
}

static void put_version(const struct field_sink *o, const char *key, unsigned major,
			unsigned minor, unsigned build)
{
	o->begin(o->ctx, key);
	o->num(o->ctx, "major", major, NUM_DEC);
	o->num(o->ctx, "minor", minor, NUM_DEC);
	o->num(o->ctx, "build", build, NUM_DEC);
	o->end(o->ctx);
}

static void snp_fields(const struct cvm_snp_report *r, const struct cvm_verify_result *res,
		       const struct field_sink *o)
{
	void *c = o->ctx;
	enum cvm_amd_product p = res->product != CVM_AMD_UNKNOWN ? res->product
								 : cvm_snp_report_product(r);
	o->num(c, "version", r->version, NUM_DEC);
	o->num(c, "guest_svn", r->guest_svn, NUM_DEC);
	o->num(c, "policy", r->policy, NUM_HEX);
	o->begin(c, "policy_decoded");
	o->num(c, "abi_minor", r->policy & 0xff, NUM_DEC);
	o->num(c, "abi_major", (r->policy >> 8) & 0xff, NUM_DEC);
	static const char *const bits[] = {"smt", "reserved_17", "migrate_ma", "debug",
					   "single_socket", "cxl_allow", "mem_aes_256_xts", "rapl_dis",
					   "ciphertext_hiding", "page_swap_disable"};
	for (unsigned i = 0; i < CVM_ARRAY_SIZE(bits); i++)
		o->flag(c, bits[i], (r->policy >> (16 + i)) & 1);
	o->end(c);
	put_hex(o, "family_id", r->family_id, 16);
	put_hex(o, "image_id", r->image_id, 16);
	o->num(c, "vmpl", r->vmpl, NUM_DEC);
	o->num(c, "signature_algo", r->signature_algo, NUM_DEC);
	unsigned key = cvm_snp_report_signing_key(r);
	o->str(c, "signing_key",
	       key == 0 ? "vcek" : key == 1 ? "vlek" : key == 7 ? "none" : "reserved");
	o->num(c, "key_info", r->key_info, NUM_HEX);
	o->begin(c, "key_info_decoded");
	o->flag(c, "author_key_en", r->key_info & 1);
	o->flag(c, "mask_chip_key", (r->key_info >> 1) & 1);
	o->num(c, "signing_key", key, NUM_DEC);
	o->end(c);
	put_snp_tcb(o, "current_tcb", r->current_tcb, p);
	put_snp_tcb(o, "reported_tcb", r->reported_tcb, p);
	put_snp_tcb(o, "committed_tcb", r->committed_tcb, p);
	put_snp_tcb(o, "launch_tcb", r->launch_tcb, p);
	o->num(c, "platform_info", r->platform_info, NUM_HEX);
	o->begin(c, "platform_info_decoded");
	static const char *const pbits[] = {"smt_en", "tsme_en", "ecc_en", "rapl_dis",
					    "ciphertext_hiding_en", "alias_check_complete"};
	for (unsigned i = 0; i < CVM_ARRAY_SIZE(pbits); i++)
		o->flag(c, pbits[i], (r->platform_info >> i) & 1);
	o->flag(c, "tio_en", (r->platform_info >> 7) & 1);
	o->end(c);
	if (r->version >= 3) {
		o->begin(c, "cpuid");
		o->num(c, "family", r->cpuid_fam_id, NUM_HEX);
		o->num(c, "model", r->cpuid_mod_id, NUM_HEX);
		o->num(c, "stepping", r->cpuid_step, NUM_HEX);
		o->end(c);
	}
	put_version(o, "current_firmware", r->current_major, r->current_minor, r->current_build);
	put_version(o, "committed_firmware", r->committed_major, r->committed_minor,
		    r->committed_build);
	put_hex(o, "measurement", r->measurement, 48);
	put_hex(o, "host_data", r->host_data, 32);
	put_hex(o, "report_data", r->report_data, 64);
	put_hex(o, "id_key_digest", r->id_key_digest, 48);
	put_hex(o, "author_key_digest", r->author_key_digest, 48);
	put_hex(o, "report_id", r->report_id, 32);
	put_hex(o, "report_id_ma", r->report_id_ma, 32);
	put_hex(o, "chip_id", r->chip_id, 64);
	if (r->version >= 5) {
		o->num(c, "launch_mit_vector", r->launch_mit_vector, NUM_HEX16);
		o->num(c, "current_mit_vector", r->current_mit_vector, NUM_HEX16);
	}
	if (res->leaf_origin[0])
		o->str(c, "signing_certificate", res->leaf_origin);
	if (res->csp_id[0])
		o->str(c, "vlek_csp_id", res->csp_id);
}

static void tdx_fields(const struct cvm_tdx_quote *q, const struct cvm_verify_result *res,
		       const struct field_sink *o)
{
	static const char *const rtmr_keys[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
	void *c = o->ctx;
	const struct cvm_tdx_td_body *bd = &q->body;
	o->num(c, "version", q->version, NUM_DEC);
	o->num(c, "att_key_type", q->att_key_type, NUM_DEC);
	o->num(c, "tee_type", q->tee_type, NUM_HEX);
	put_hex(o, "qe_vendor_id", q->qe_vendor_id, 16);
	put_hex(o, "user_data", q->user_data, 20);
	o->num(c, "body_type", q->body_type, NUM_DEC);
	put_hex(o, "tee_tcb_svn", bd->tee_tcb_svn, 16);
	put_hex(o, "mr_seam", bd->mrseam, 48);
	put_hex(o, "mrsigner_seam", bd->mrsignerseam, 48);
	o->num(c, "seam_attributes", bd->seam_attributes, NUM_HEX16);
	o->num(c, "td_attributes", bd->td_attributes, NUM_HEX16);
	static const struct {
		const char *name;
		unsigned bit;
	} td_bits[] = {{"debug", 0},	{"sept_ve_disable", 28}, {"migratable", 29},
		       {"pks", 30},	{"kl", 31},		 {"perfmon", 63}};
	o->begin(c, "td_attributes_decoded");
	for (size_t i = 0; i < CVM_ARRAY_SIZE(td_bits); i++)
		o->flag(c, td_bits[i].name, (bd->td_attributes >> td_bits[i].bit) & 1);
	o->end(c);
	o->num(c, "xfam", bd->xfam, NUM_HEX16);
	put_hex(o, "mr_td", bd->mrtd, 48);
	put_hex(o, "mr_config_id", bd->mrconfigid, 48);
	put_hex(o, "mr_owner", bd->mrowner, 48);
	put_hex(o, "mr_owner_config", bd->mrownerconfig, 48);
	for (int i = 0; i < 4; i++)
		put_hex(o, rtmr_keys[i], bd->rtmr[i], 48);
	put_hex(o, "report_data", bd->report_data, 64);
	if (q->body_type == CVM_TDX_BODY_TDX15) {
		put_hex(o, "tee_tcb_svn2", bd->tee_tcb_svn2, 16);
		put_hex(o, "mr_servicetd", bd->mrservicetd, 48);
	}
	const struct cvm_tdx_qe_report *qe = &q->qe_report;
	o->begin(c, "qe_report");
	put_hex(o, "cpusvn", qe->cpusvn, 16);
	o->num(c, "miscselect", qe->miscselect, NUM_HEX);
	put_hex(o, "attributes", qe->attributes, 16);
	put_hex(o, "mrenclave", qe->mrenclave, 32);
	put_hex(o, "mrsigner", qe->mrsigner, 32);
	o->num(c, "isvprodid", qe->isvprodid, NUM_DEC);
	o->num(c, "isvsvn", qe->isvsvn, NUM_DEC);
	o->end(c);
	if (res->has_pck) {
		put_hex(o, "fmspc", res->fmspc, 6);
		put_hex(o, "pce_id", res->pce_id, 2);
	}
	if (res->tcb_date[0])
		o->str(c, "tcb_date", res->tcb_date);
	if (res->qe_tcb_status[0])
		o->str(c, "qe_tcb_status", res->qe_tcb_status);
	if (res->advisory_ids[0])
		o->str(c, "advisory_ids", res->advisory_ids);
}

/* Parse again only to show the fields (verification has its own parse). */
static void each_field(const uint8_t *data, size_t len, const struct cvm_verify_result *res,
		       const struct field_sink *o)
{
	enum cvm_evidence_kind kind = cvm_evidence_detect(data, len);
	if (kind == CVM_EVIDENCE_SNP_REPORT) {
		struct cvm_snp_report *r = malloc(sizeof(*r));
		if (r && cvm_snp_report_parse(data, len, r, NULL) == 0)
			snp_fields(r, res, o);
		free(r);
	} else if (kind == CVM_EVIDENCE_TDX_QUOTE) {
		struct cvm_tdx_quote q;
		if (cvm_tdx_quote_parse(data, len, &q, NULL) == 0)
			tdx_fields(&q, res, o);
	}
}

/* Text: "    key   value"; a nested object on one line, "    key   a=1 b=0". */
struct text_ctx {
	FILE *out;
	bool in_obj;
	char key[48];
	char line[512];
	size_t used;
};

static void text_str(void *ctx, const char *key, const char *value)
{
	struct text_ctx *t = ctx;
	if (t->in_obj) {
		int w = snprintf(t->line + t->used, sizeof(t->line) - t->used, "%s%s=%s",
				 t->used ? " " : "", key, value);
		if (w > 0 && (size_t)w < sizeof(t->line) - t->used)
			t->used += (size_t)w;
		return;
	}
	cli_printf_safe(t->out, "    %-18s %s\n", key, value);
}

static void text_num(void *ctx, const char *key, uint64_t v, enum num_style style)
{
	char text[24];
	unsigned long long u = v;
	if (style == NUM_DEC)
		snprintf(text, sizeof(text), "%llu", u);
	else if (style == NUM_HEX)
		snprintf(text, sizeof(text), "0x%llx", u);
	else
		snprintf(text, sizeof(text), "0x%016llx", u);
	text_str(ctx, key, text);
}

static void text_flag(void *ctx, const char *key, bool v)
{
	text_str(ctx, key, v ? "1" : "0");
}

static void text_begin(void *ctx, const char *key)
{
	struct text_ctx *t = ctx;
	t->in_obj = true;
	t->used = 0;
	t->line[0] = '\0';
	snprintf(t->key, sizeof(t->key), "%s", key);
}

static void text_end(void *ctx)
{
	struct text_ctx *t = ctx;
	t->in_obj = false;
	cli_printf_safe(t->out, "    %-18s %s\n", t->key, t->line);
}

/* JSON: a stack of the objects being filled. */
struct json_ctx {
	json_object *stack[4];
	int depth;
};

static void json_put(struct json_ctx *j, const char *key, json_object *v)
{
	json_object_object_add(j->stack[j->depth], key, v);
}

static void json_str(void *ctx, const char *key, const char *value)
{
	struct json_ctx *j = ctx;
	if (strcmp(key, "advisory_ids") == 0) { /* a list */
		json_object *arr = json_object_new_array();
		const char *p = value;
		while (*p) {
			size_t n = strcspn(p, ",");
			json_object_array_add(arr, json_object_new_string_len(p, (int)n));
			p += n + (p[n] == ',');
		}
		json_put(j, key, arr);
		return;
	}
	json_put(j, key, json_object_new_string(value));
}

static void json_num(void *ctx, const char *key, uint64_t v, enum num_style style)
{
	(void)style;
	json_put(ctx, key, json_object_new_uint64(v));
}

static void json_flag(void *ctx, const char *key, bool v)
{
	json_put(ctx, key, json_object_new_boolean(v));
}

static void json_begin(void *ctx, const char *key)
{
	struct json_ctx *j = ctx;
	json_object *o = json_object_new_object();
	json_put(j, key, o);
	if (j->depth + 1 < (int)CVM_ARRAY_SIZE(j->stack))
		j->stack[++j->depth] = o;
}

static void json_end(void *ctx)
{
	struct json_ctx *j = ctx;
	if (j->depth > 0)
		j->depth--;
}

/* "tcb-status, qe-identity": the checks accepted unevaluated, into buf ("" when none). */
static void unevaluated_list(const struct cvm_verify_result *res, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < res->nchecks; i++) {
		const struct cvm_check *c = &res->checks[i];
		if (!c->unevaluated || c->status != CVM_CHECK_SKIP)
			continue;
		int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", c->name);
		if (w < 0 || (size_t)w >= n - used)
			break;
		used += (size_t)w;
	}
}

static void print_text(FILE *out, const char *path, const struct cvm_verify_result *res,
		       const uint8_t *data, size_t len)
{
	bool ok = cvm_verify_result_ok(res);
	char unev[256];
	unevaluated_list(res, unev, sizeof(unev));
	cli_printf_safe(out, "%s: %s evidence: %s%s%s%s\n", path, cvm_evidence_kind_name(res->kind),
			ok ? "PASS" : "FAIL", unev[0] ? " (unevaluated: " : "", unev,
			unev[0] ? ")" : "");
	for (size_t i = 0; i < res->nchecks; i++) {
		const struct cvm_check *c = &res->checks[i];
		cli_printf_safe(out, "  %-4s  %-22s %s\n", cvm_check_status_name(c->status), c->name,
				c->reason);
	}
	if (res->lost)
		fprintf(out, "  fail  %-22s %zu more checks did not fit in the check list\n",
			"check-list", res->lost);
	if (res->kind == CVM_EVIDENCE_SNP_REPORT && res->product != CVM_AMD_UNKNOWN)
		fprintf(out, "  product: %s\n", cvm_amd_product_name(res->product));
	if (res->tcb_status[0])
		cli_printf_safe(out, "  tcb status: %s\n", res->tcb_status);
	const struct cvm_check *parse = cvm_verify_result_find(res, "parse");
	if (data && parse && parse->status == CVM_CHECK_PASS) {
		fprintf(out, "  fields:\n");
		struct text_ctx t = {.out = out, .in_obj = false};
		struct field_sink o = {text_str, text_num, text_flag, text_begin, text_end, &t};
		each_field(data, len, res, &o);
	}
}

/* sources: an array of where the trust material came from (consumed), or NULL. */
static void print_json(FILE *out, const char *path, const struct cvm_verify_result *res,
		       const uint8_t *data, size_t len, json_object *sources)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "schema", json_object_new_string(VERDICT_SCHEMA));
	json_object_object_add(o, "evidence", json_object_new_string(path));
	json_object_object_add(o, "type", json_object_new_string(cvm_evidence_kind_name(res->kind)));
	json_object_object_add(o, "verdict",
			       json_object_new_string(cvm_verify_result_ok(res) ? "pass" : "fail"));
	json_object *unev = json_object_new_array();
	for (size_t i = 0; i < res->nchecks; i++)
		if (res->checks[i].unevaluated && res->checks[i].status == CVM_CHECK_SKIP)
			json_object_array_add(unev, json_object_new_string(res->checks[i].name));
	json_object_object_add(o, "unevaluated", unev);
	json_object_object_add(o, "lost_checks", json_object_new_uint64(res->lost));
	if (res->kind == CVM_EVIDENCE_SNP_REPORT)
		json_object_object_add(o, "product",
				       json_object_new_string(cvm_amd_product_name(res->product)));
	if (res->tcb_status[0])
		json_object_object_add(o, "tcb_status", json_object_new_string(res->tcb_status));
	json_object *checks = json_object_new_array();
	for (size_t i = 0; i < res->nchecks; i++) {
		const struct cvm_check *c = &res->checks[i];
		json_object *jc = json_object_new_object();
		json_object_object_add(jc, "name", json_object_new_string(c->name));
		json_object_object_add(jc, "status", json_object_new_string(cvm_check_status_name(c->status)));
		json_object_object_add(jc, "reason", json_object_new_string(c->reason));
		json_object_object_add(jc, "unevaluated", json_object_new_boolean(c->unevaluated));
		json_object_array_add(checks, jc);
	}
	json_object_object_add(o, "checks", checks);
	json_object *fields = json_object_new_object();
	if (data) {
		struct json_ctx j = {{fields}, 0};
		struct field_sink fo = {json_str, json_num, json_flag, json_begin, json_end, &j};
		each_field(data, len, res, &fo);
	}
	json_object_object_add(o, "fields", fields);
	if (sources)
		json_object_object_add(o, "sources", sources);
	fprintf(out, "%s\n",
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* ---- main ---- */

struct verify_args {
	const char *expect;
	const char *policy;
	uint32_t allow; /* --allow: CVM_VERIFY_ALLOW_* */
	const char *eventlog;
	struct cvm_file eventlog_file; /* --eventlog, read once for every evidence file */
	const char *report_data_file;
	const char **certs;
	size_t ncerts;
	const char **collateral;
	size_t ncollateral;
	bool json;
	bool fetch;
	bool fetch_options; /* a KDS/PCS/cache option was given (they need --fetch) */
	struct cvm_fetch_config fetch_cfg;
	struct cvm_verify_options opt;
	unsigned threads; /* --threads; 0: every CPU */
};

/* ---- where the trust material came from: the files given, and what --fetch had ---- */

static void print_sources(FILE *out, const struct verify_args *a,
			  const struct cvm_fetch_evidence *fe)
{
	if (!a->ncerts && !a->ncollateral && !fe)
		return;
	fprintf(out, "  sources:\n");
	for (size_t i = 0; i < a->ncerts; i++)
		cli_printf_safe(out, "    %-12s %-8s %s\n", "certs", "file", a->certs[i]);
	for (size_t i = 0; i < a->ncollateral; i++)
		cli_printf_safe(out, "    %-12s %-8s %s\n", "collateral", "file",
				a->collateral[i]);
	if (fe)
		cli_fetch_print(out, "    ", fe);
}

static void add_file_sources(json_object *arr, const char *kind, const char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "kind", json_object_new_string(kind));
		json_object_object_add(o, "origin", json_object_new_string("file"));
		json_object_object_add(o, "source", json_object_new_string(paths[i]));
		json_object_array_add(arr, o);
	}
}

static json_object *sources_json(const struct verify_args *a, const struct cvm_fetch_evidence *fe)
{
	json_object *arr = fe ? cli_fetch_json(fe) : json_object_new_array();
	add_file_sources(arr, "certs", a->certs, a->ncerts);
	add_file_sources(arr, "collateral", a->collateral, a->ncollateral);
	return arr;
}

static int parse_args(int argc, char **argv, struct verify_args *a)
{
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		int shared = cli_fetch_option(verb, c, optarg, &a->fetch_cfg);
		if (shared == 1) {
			a->fetch_options = true;
			continue;
		}
		if (shared)
			return shared;
		switch (c) {
		case OPT_FETCH:
			a->fetch = true;
			break;
		case OPT_CHECK_REVOCATION:
			a->opt.require_revocation = true;
			break;
		case OPT_ALLOW_UNEVALUATED: {
			uint32_t mask;
			struct cvm_error perr;
			cvm_error_clear(&perr);
			if (cvm_verify_allow_parse(optarg, &mask, &perr))
				return cli_usage_error(verb, "--allow-unevaluated: %s",
						       cvm_error_message(&perr));
			a->opt.allow_unevaluated |= mask;
			break;
		}
		case OPT_EXPECT:
			a->expect = optarg;
			break;
		case OPT_POLICY:
			a->policy = optarg;
			break;
		case OPT_ALLOW:
			if (cli_verify_allow_parse(optarg, &a->allow))
				return cli_usage_error(verb, "--allow: '%s' is not a list of debug, "
							     "migrate_ma, cxl_allow, td_attributes_reserved",
						       optarg);
			break;
		case OPT_EVENTLOG:
			a->eventlog = optarg;
			break;
		case OPT_CERTS:
			a->certs[a->ncerts++] = optarg;
			break;
		case OPT_COLLATERAL:
			a->collateral[a->ncollateral++] = optarg;
			break;
		case OPT_PRODUCT:
			if (cvm_amd_product_parse(optarg, &a->opt.product))
				return cli_usage_error(verb, "--product: '%s' is not milan, genoa or turin", optarg);
			break;
		case OPT_REPORT_DATA:
			if (cli_report_data_parse(optarg, a->opt.report_data))
				return cli_usage_error(verb, "--report-data: expected up to 128 hex digits");
			a->opt.has_report_data = true;
			break;
		case OPT_REPORT_DATA_FILE:
			/* Read after the options: an unreadable file is a job failure, not a usage error. */
			a->report_data_file = optarg;
			break;
		case OPT_AT:
			if (cvm_time_parse_rfc3339(optarg, &a->opt.time))
				return cli_usage_error(verb, "--at: '%s' is not an RFC 3339 time", optarg);
			a->opt.has_time = true;
			break;
		case OPT_ALLOW_DEBUG:
			a->opt.allow_debug = true;
			break;
		case OPT_NO_SMT:
			a->opt.forbid_smt = true;
			break;
		case OPT_VMPL:
			if (parse_vmpl_list(optarg, &a->opt.vmpl_mask))
				return cli_usage_error(verb, "--vmpl: expected a list of 0..3 such as 0,1");
			break;
		case OPT_MIN_TCB:
			if (parse_u64_hex(optarg, &a->opt.min_tcb))
				return cli_usage_error(verb, "--min-tcb: expected a hex u64");
			a->opt.has_min_tcb = true;
			break;
		case OPT_MIN_TEE_TCB_SVN:
			if (cvm_hex_decode(optarg, a->opt.min_tee_tcb_svn, 16))
				return cli_usage_error(verb, "--min-tee-tcb-svn: expected 32 hex digits");
			a->opt.has_min_tee_tcb_svn = true;
			break;
		case OPT_REQUIRE_UPTODATE:
			a->opt.require_uptodate = true;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_THREADS:
			if (cli_threads_parse(verb, optarg, &a->threads))
				return CLI_USAGE;
			break;
		case 'h':
			print_usage();
			return -1;
		default:
			return cli_option_error(verb, NULL, c, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error(verb, "no evidence file given");
	if (a->opt.has_report_data && a->report_data_file)
		return cli_usage_error(verb, "give --report-data or --report-data-file, not both");
	if (a->fetch_options && !a->fetch)
		return cli_usage_error(verb, "--kds-url, --pcs-url, --cache, --offline, --ca-bundle and "
					     "--timeout apply with --fetch");
	/* Collateral is judged at the verification time, fetched or cached alike. */
	a->fetch_cfg.has_time = a->opt.has_time;
	a->fetch_cfg.time = a->opt.time;
	/* Files needing the same item get the same answer, whichever thread asks first. */
	a->fetch_cfg.remember = true;
	return 0;
}

static int load_trust(struct cvm_verifier *v, const struct verify_args *a, struct cvm_error *err)
{
	for (size_t i = 0; i < a->ncerts; i++)
		if (add_path(v, cvm_verifier_add_endorsements, a->certs[i], "--certs", err))
			return err->code;
	for (size_t i = 0; i < a->ncollateral; i++)
		if (add_path(v, cvm_verifier_add_collateral, a->collateral[i], "--collateral", err))
			return err->code;
	return 0;
}

/* --report-data-file: raw bytes, at most 64, zero-padded into opt->report_data. */
static int load_report_data_file(const char *path, struct cvm_verify_options *opt,
				 struct cvm_error *err)
{
	struct cvm_file f;
	if (cvm_file_read(path, 64, &f, err))
		return cvm_error_wrap(err, "--report-data-file");
	memset(opt->report_data, 0, 64);
	memcpy(opt->report_data, f.data, f.size);
	cvm_file_close(&f);
	opt->has_report_data = true;
	return 0;
}

/*
 * True when data is a VM policy (docs/policy.md: a JSON object with "version" and "tee") rather
 * than a measurement document (which has "schema"): the likely mix-up of the two JSON files.
 */
static bool looks_like_vm_policy(const uint8_t *data, size_t len)
{
	if (len > INT_MAX)
		return false;
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return false;
	json_object *o = json_tokener_parse_ex(tok, (const char *)data, (int)len);
	bool policy = o && json_object_is_type(o, json_type_object) &&
		      json_object_object_get_ex(o, "version", NULL) &&
		      json_object_object_get_ex(o, "tee", NULL) &&
		      !json_object_object_get_ex(o, "schema", NULL);
	json_object_put(o);
	json_tokener_free(tok);
	return policy;
}

static int load_expect(const char *path, struct cvm_measurement **out, struct cvm_error *err)
{
	struct cvm_file f;
	int rc = cvm_file_open(path, &f, err);
	if (rc)
		return cvm_error_wrap(err, "--expect");
	rc = cvm_measurement_decode(f.data, f.size, out, err);
	if (rc && looks_like_vm_policy(f.data, f.size))
		rc = cvm_error_set(err, -EINVAL,
				   "%s is a VM policy, not a measurement document: run `cvmkit measure %s "
				   "--out expected.json` and pass that to --expect",
				   path, path);
	else if (rc)
		cvm_error_wrap(err, "--expect %s", path);
	cvm_file_close(&f);
	return rc;
}

/*
 * The verifier could not run: the error on stderr and, with --json, as one object on stdout
 * ({"schema", "error": {"message", "errno"}}).  Returns CLI_NOT_RUN.
 */
static int verify_fail(const struct verify_args *a, const struct cvm_error *err)
{
	cli_fail(verb, err);
	if (a->json) {
		json_object *o = json_object_new_object();
		json_object *e = json_object_new_object();
		json_object_object_add(o, "schema", json_object_new_string(VERDICT_SCHEMA));
		int code = err->code < 0 ? -err->code : err->code;
		json_object_object_add(e, "message",
				       json_object_new_string(cvm_error_message(err)));
		json_object_object_add(e, "errno", json_object_new_int(code));
		json_object_object_add(o, "error", e);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	}
	return CLI_NOT_RUN;
}

/* One verdict onto out (the file's output buffer). */
static void print_result(FILE *out, const struct verify_args *a, const char *path,
			 const struct cvm_verify_result *res, const uint8_t *data, size_t len,
			 const struct cvm_fetch_evidence *fe)
{
	if (a->json) {
		print_json(out, path, res, data, len, sources_json(a, fe));
	} else {
		print_text(out, path, res, data, len);
		print_sources(out, a, fe);
	}
}

/*
 * --fetch: what the evidence needs, from the cache or KDS/PCS, into v like --certs and
 * --collateral; each item that could not be had is named on diag (the checks then fail for
 * want of it).  *out lists the items for the sources.
 */
static int fetch_for(struct cvm_fetcher *f, struct cvm_verifier *v, const char *path,
		     const uint8_t *data, size_t len, const struct verify_args *a, FILE *diag,
		     struct cvm_fetch_evidence **out, struct cvm_error *err)
{
	struct cvm_fetch_evidence_options o = {.product = a->opt.product,
					       .amd_crl = a->opt.require_revocation,
					       .skip_carried = true};
	struct cvm_error ferr;
	cvm_error_clear(&ferr);
	int rc = cvm_fetch_for_evidence(f, data, len, &o, out, &ferr);
	if (rc == -ENOMEM)
		return cvm_error_set(err, rc, "out of memory");
	if (rc) {
		/* Nothing to fetch for: the verdict will say what the evidence is not. */
		cli_printf_safe(diag, "cvmkit %s: %s: --fetch: %s\n", verb, path,
				cvm_error_message(&ferr));
		return 0;
	}
	cli_fetch_report_failures(diag, verb, path, *out);
	for (size_t i = 0; i < (*out)->n; i++) {
		const struct cvm_fetch_item *it = (*out)->needed[i].item;
		if (!it)
			continue;
		bool amd = it->kind == CVM_FETCH_VCEK || it->kind == CVM_FETCH_AMD_CHAIN ||
			   it->kind == CVM_FETCH_AMD_CRL;
		rc = amd ? cvm_verifier_add_endorsements(v, it->data, it->len, it->source, &ferr)
			 : cvm_verifier_add_collateral(v, it->data, it->len, it->source, &ferr);
		if (rc >= 0 && it->issuer_chain)
			rc = cvm_verifier_add_collateral(v, (const uint8_t *)it->issuer_chain,
							 it->issuer_chain_len, it->source, &ferr);
		if (rc == -ENOMEM)
			return cvm_error_set(err, rc, "out of memory");
		if (rc < 0)
			cli_printf_safe(diag, "cvmkit %s: %s: %s: %s\n", verb, path,
				cvm_fetch_kind_name(it->kind), cvm_error_message(&ferr));
	}
	return 0;
}

/*
 * Verify one file, its verdict onto out and its messages onto diag; returns true when the
 * verdict passes.  With --fetch the file gets a clone of v of its own, so what was fetched for
 * it vouches for it alone, as if given with --certs for this file only: a verdict never
 * depends on which files the same thread verified before.
 */
static bool verify_one(struct cvm_verifier *v, struct cvm_fetcher *f, const char *path,
		       const struct verify_args *a, FILE *out, FILE *diag,
		       struct cvm_verify_result *res, struct cvm_error *err, int *fatal)
{
	struct cvm_file file;
	struct cvm_evidence *ev = NULL;
	struct cvm_error uerr;
	cvm_error_clear(&uerr);
	if (cvm_file_read(path, CVM_EVIDENCE_MAX_BYTES, &file, err)) {
		cvm_verify_result_init(res);
		cvm_verify_result_add(res, "parse", CVM_CHECK_FAIL, cvm_error_message(err));
		print_result(out, a, path, res, NULL, 0, NULL);
		return false;
	}
	struct cvm_fetch_evidence *fe = NULL;
	struct cvm_verifier *own = NULL;
	int rc = f ? cvm_verifier_clone(v, &own, err) : 0;
	if (own) {
		v = own;
		rc = fetch_for(f, v, path, file.data, file.size, a, diag, &fe, err);
	}
	int urc = rc ? 0 : cvm_evidence_unwrap(file.data, file.size, &ev, &uerr);
	if (urc == -ENOMEM)
		rc = cvm_error_set(err, urc, "out of memory");
	if (!rc && urc) {
		/* A wrapper recognised but malformed: a failed parse, like a malformed report. */
		cvm_verify_result_init(res);
		cvm_verify_result_add(res, "parse", CVM_CHECK_FAIL, cvm_error_message(&uerr));
	} else if (!rc) {
		rc = cvm_verify_unwrapped(v, ev, &a->opt, res, err);
		if (!rc && (a->eventlog || ev->eventlog))
			rc = cvm_eventlog_verify_quote(ev, a->eventlog_file.data, /* or ev's */
						       a->eventlog_file.size, a->eventlog,
						       a->opt.expect, res, err);
	}
	bool ok = rc == 0 && cvm_verify_result_ok(res);
	if (rc)
		*fatal = rc;
	else
		print_result(out, a, path, res, ev ? ev->report : NULL, ev ? ev->report_len : 0, fe);
	cvm_verifier_free(own);
	cvm_fetch_evidence_free(fe);
	cvm_evidence_free(ev);
	cvm_file_close(&file);
	return ok;
}

/* ---- a batch: the files spread over --threads, the verdicts printed in input order ---- */

/* One evidence file: verified on any thread, its output kept until its turn. */
struct batch_item {
	const char *path;
	char *text;
	size_t len;
	char *diag; /* its messages for stderr, printed before its verdict */
	size_t diag_len;
	bool ok;
	int fatal;            /* the verifier could not go on (err says why) */
	struct cvm_error err;
};

/*
 * One verifier per thread (a verifier is not thread-safe), the first loaded with the trust
 * material and the others its clones: an item takes a free one and gives it back.  At most as
 * many items run as there are verifiers, so one is always free.
 */
struct batch {
	const struct verify_args *a;
	struct cvm_fetcher *f; /* --fetch: shared by the threads (<cvmkit/fetch.h>) */
	pthread_mutex_t mu;
	struct cvm_verifier **idle;
	size_t nidle;
};

static struct cvm_verifier *verifier_take(struct batch *b)
{
	pthread_mutex_lock(&b->mu);
	struct cvm_verifier *v = b->idle[--b->nidle];
	pthread_mutex_unlock(&b->mu);
	return v;
}

static void verifier_give(struct batch *b, struct cvm_verifier *v)
{
	pthread_mutex_lock(&b->mu);
	b->idle[b->nidle++] = v;
	pthread_mutex_unlock(&b->mu);
}

/* The files of one window of the batch (a pool batch). */
struct batch_window {
	struct batch *b;
	struct batch_item *items;
};

/* A pool item: what goes wrong is kept in the item, so the printer stops where a loop would. */
static int verify_item(void *ctx, size_t index, struct cvm_error *err)
{
	(void)err;
	struct batch_window *w = ctx;
	struct batch *b = w->b;
	struct batch_item *it = &w->items[index];
	cvm_error_clear(&it->err);
	struct cvm_verify_result *res = malloc(sizeof(*res));
	FILE *out = res ? open_memstream(&it->text, &it->len) : NULL;
	/* Only --fetch has messages of its own for a file. */
	FILE *diag = out && b->f ? open_memstream(&it->diag, &it->diag_len) : NULL;
	if (!out || (b->f && !diag)) {
		it->fatal = cvm_error_set(&it->err, -ENOMEM, "out of memory");
		if (out)
			fclose(out);
		free(res);
		return 0;
	}
	struct cvm_verifier *v = verifier_take(b);
	it->ok = verify_one(v, b->f, it->path, b->a, out, diag, res, &it->err, &it->fatal);
	verifier_give(b, v);
	bool lost = diag && fclose(diag) != 0;
	lost = fclose(out) != 0 || lost;
	if (lost && !it->fatal)
		it->fatal = cvm_error_set(&it->err, -ENOMEM, "out of memory");
	free(res);
	return 0;
}

static void items_release(struct batch_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].text);
		free(items[i].diag);
		items[i].text = items[i].diag = NULL;
	}
}

/*
 * Print a window's verdicts in order (after erasing the progress line when it shares the
 * terminal); stops at a fatal item.  Returns the exit status so far.
 */
static int print_window(const struct verify_args *a, struct cli_progress *progress, bool tty,
			struct batch_item *items, size_t n, size_t first, size_t total, int status,
			bool *stop)
{
	for (size_t i = 0; i < n && !*stop; i++) {
		if (items[i].diag_len) {
			cli_progress_clear(progress);
			fwrite(items[i].diag, 1, items[i].diag_len, stderr);
		}
		if (items[i].fatal) {
			cli_progress_clear(progress);
			*stop = true;
			return verify_fail(a, &items[i].err);
		}
		if (tty)
			cli_progress_clear(progress);
		fwrite(items[i].text, 1, items[i].len, stdout);
		if (!items[i].ok)
			status = CLI_FAIL;
		if (!a->json && first + i + 1 < total)
			putchar('\n');
		cli_progress_items(progress, "verifying", first + i + 1, total);
	}
	return status;
}

/*
 * Verify paths[0..n) on pool, a window at a time: while this thread prints window k the pool
 * verifies window k + 1.  A file's messages (--fetch) are kept with its verdict and printed on
 * stderr just before it, so they come in the order of the files too.  With no pool the window
 * is one file, printed as soon as it is verified.
 */
static int verify_all(struct batch *b, struct cvm_pool *pool, char **paths, size_t n,
		      struct cli_progress *progress, bool tty)
{
	unsigned threads = cvm_pool_threads(pool);
	size_t window = threads > 1 ? 16 * (size_t)threads : 1;
	struct batch_item *items = calloc(2 * window, sizeof(*items));
	struct cvm_error err;
	cvm_error_clear(&err);
	if (!items) {
		cvm_error_set(&err, -ENOMEM, "out of memory");
		return verify_fail(b->a, &err);
	}
	struct cvm_pool_batch *running[2] = {NULL, NULL};
	struct batch_window ctx[2] = {{b, items}, {b, items + window}};
	int status = CLI_OK;
	bool stop = false;
	size_t nwindows = (n + window - 1) / window;
	size_t lag = threads > 1; /* windows verified ahead of the one printed */
	for (size_t k = 0; k < nwindows + lag && !stop; k++) {
		/* start window k, then print window k - lag */
		if (k < nwindows) {
			int cur = (int)(k & 1);
			size_t first = k * window, count = n - first < window ? n - first : window;
			memset(items + cur * window, 0, window * sizeof(*items));
			for (size_t i = 0; i < count; i++)
				items[cur * window + i].path = paths[first + i];
			if (cvm_pool_start(pool, count, verify_item, &ctx[cur], &running[cur], &err)) {
				status = verify_fail(b->a, &err);
				break;
			}
		}
		if (k < lag)
			continue;
		int done = (int)((k - lag) & 1);
		cvm_pool_finish(running[done], NULL);
		running[done] = NULL;
		size_t first = (k - lag) * window, count = n - first < window ? n - first : window;
		status = print_window(b->a, progress, tty, items + done * window, count, first, n,
				      status, &stop);
		items_release(items + done * window, count);
	}
	for (int i = 0; i < 2; i++) {
		if (running[i]) {
			cvm_pool_finish(running[i], NULL);
			items_release(items + i * window, window);
		}
	}
	free(items);
	return status;
}

/*
 * The verifiers of a batch, one per thread: the bundled roots and the trust material are loaded
 * (parsed, and their chains checked as they are used) once, the others are clones sharing them.
 */
static int verifiers_new(const struct verify_args *a, size_t n, struct cvm_verifier **out,
			 struct cvm_error *err)
{
	if (n > 0 && (cvm_verifier_new(&out[0], err) || load_trust(out[0], a, err)))
		return err->code;
	for (size_t i = 1; i < n; i++)
		if (cvm_verifier_clone(out[0], &out[i], err))
			return err->code;
	return 0;
}

int cmd_verify(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct verify_args a;
	memset(&a, 0, sizeof(a));
	a.certs = calloc((size_t)argc, sizeof(*a.certs));
	a.collateral = calloc((size_t)argc, sizeof(*a.collateral));
	if (!a.certs || !a.collateral) {
		free(a.certs);
		free(a.collateral);
		fprintf(stderr, "cvmkit verify: out of memory\n");
		return CLI_FAIL;
	}
	int status = parse_args(argc, argv, &a);
	if (status != 0) {
		free(a.certs);
		free(a.collateral);
		return status < 0 ? CLI_OK : status;
	}

	struct cvm_error err;
	cvm_error_clear(&err);
	size_t nfiles = (size_t)(argc - optind);
	/* No more threads than files. */
	unsigned threads = a.threads ? a.threads : cvm_pool_default_threads();
	if (threads > nfiles)
		threads = (unsigned)nfiles;
	struct cvm_verifier **vs = calloc(threads, sizeof(*vs));
	struct cvm_pool *pool = NULL;
	struct cvm_fetcher *f = NULL;
	struct cvm_measurement *expect = NULL;
	struct cvm_verify_rules rules;
	status = CLI_OK;
	if (!vs) {
		cvm_error_set(&err, -ENOMEM, "out of memory");
		status = verify_fail(&a, &err);
	} else if ((a.report_data_file && load_report_data_file(a.report_data_file, &a.opt, &err)) ||
		   verifiers_new(&a, threads, vs, &err) ||
		   (a.expect && load_expect(a.expect, &expect, &err)) ||
		   cli_verify_policy(ctx, a.policy, a.allow, expect ? NULL : &expect, &rules, &err) ||
		   (a.eventlog && cvm_file_open(a.eventlog, &a.eventlog_file, &err)) ||
		   (a.fetch && cvm_fetcher_new(&a.fetch_cfg, &f, &err)) ||
		   cli_pool_new(threads, &pool, &err)) {
		status = verify_fail(&a, &err);
	} else {
		a.opt.expect = expect;
		a.opt.rules = &rules;
		/* A batch shows "verifying 12/200" on a terminal stderr. */
		struct cli_progress progress;
		if (nfiles > 1)
			cli_progress_init(&progress, ctx);
		else
			cli_progress_init_to(&progress, NULL);
		struct batch b = {.a = &a, .f = f, .idle = vs, .nidle = threads};
		pthread_mutex_init(&b.mu, NULL);
		status = verify_all(&b, pool, argv + optind, nfiles, &progress,
				    isatty(STDOUT_FILENO));
		pthread_mutex_destroy(&b.mu);
		cli_progress_end(&progress);
	}
	cvm_pool_free(pool);
	cvm_measurement_free(expect);
	if (a.eventlog_file.data)
		cvm_file_close(&a.eventlog_file);
	cvm_fetcher_free(f);
	for (size_t i = 0; vs && i < threads; i++)
		cvm_verifier_free(vs[i]);
	free(vs);
	free(a.certs);
	free(a.collateral);
	return status;
}
