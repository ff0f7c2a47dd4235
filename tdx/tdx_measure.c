/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Offline TDX measurement: plan -> MRTD model, RTMR precompute, and every input that changes the
 * TD report body, as one measurement document.
 */
#include <cvmkit/tdx.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/util.h>

/* The generation cvm_tdx_measure assumes: the edk2 of Debian 12's ovmf (2022.11). */
#define TDX_DEFAULT_FW_GEN CVM_TDX_FW_EDK2_PRE_202411

static int run_model(const struct cvm_plan *plan, volatile sig_atomic_t *cancel,
		     uint8_t mrtd[CVM_TDX_DIGEST_SIZE], struct cvm_error *err)
{
	struct cvm_tdx_model *model = cvm_tdx_model_new();
	if (!model)
		return cvm_error_set(err, -ENOMEM, "MRTD model: out of memory");
	cvm_tdx_model_set_cancel(model, cancel);
	struct cvm_backend b = {cvm_tdx_model_ops(), model};
	int rc = cvm_plan_execute(plan, &b, 1, err);
	if (!rc)
		cvm_tdx_model_digest(model, mrtd);
	cvm_tdx_model_free(model);
	return rc;
}

static void hex48(const uint8_t d[48], char out[97])
{
	cvm_hex_encode(d, 48, out);
}

static enum cvm_tdx_fw_gen policy_fw_gen(const struct cvm_policy *policy)
{
	return policy->tdx.rtmr.has_fw_gen ? policy->tdx.rtmr.fw_gen : TDX_DEFAULT_FW_GEN;
}

static const struct cvm_plan_op *find_op(const struct cvm_plan *plan, uint64_t gpa,
					 const char *label)
{
	for (size_t i = 0; i < plan->nops; i++)
		if (plan->ops[i].gpa == gpa && strcmp(plan->ops[i].label, label) == 0)
			return &plan->ops[i];
	return NULL;
}

static const struct cvm_plan_op *find_cfv(const struct cvm_plan *plan)
{
	for (size_t i = 0; i < plan->nops; i++)
		if (strcmp(plan->ops[i].label, "CFV") == 0)
			return &plan->ops[i];
	return NULL;
}

static void count_records(const struct cvm_plan *plan, uint64_t *adds, uint64_t *extends,
			  uint64_t *aug_skipped)
{
	*adds = *extends = *aug_skipped = 0;
	for (size_t i = 0; i < plan->nops; i++) {
		uint64_t pages = plan->ops[i].size / CVM_PAGE_SIZE;
		if (plan->ops[i].flags & CVM_OP_NO_PAGE_ADD)
			*aug_skipped += pages;
		else
			*adds += pages;
		if (plan->ops[i].flags & CVM_OP_MR_EXTEND)
			*extends += pages * 16;
	}
}

static bool has_page_aug(const struct cvm_firmware *fw)
{
	for (size_t i = 0; i < fw->ntdx; i++)
		if (fw->tdx_sections[i].attributes & CVM_TDVF_ATTR_PAGE_AUG)
			return true;
	return false;
}

#define ADD(call)                                                                              \
	do {                                                                                   \
		if (call)                                                                      \
			return cvm_error_set(err, -ENOMEM, "measurement document: out of memory"); \
	} while (0)

static int add_tdx_inputs(struct cvm_measurement *m, const struct cvm_policy *policy,
			  const struct cvm_firmware *fw, const struct cvm_plan *plan,
			  const char *fw_sha256, struct cvm_error *err)
{
	char hex[97];
	uint64_t adds, extends, skipped;
	count_records(plan, &adds, &extends, &skipped);

	ADD(cvm_measurement_add_input(m, "firmware_path", "%s", fw->path ? fw->path : "-"));
	ADD(cvm_measurement_add_input(m, "firmware_sha256", "%s", fw_sha256));
	ADD(cvm_measurement_add_input_u64(m, "firmware_size", fw->size));
	ADD(cvm_measurement_add_input(m, "vmm", "%s", cvm_vmm_name(policy->vmm)));
	ADD(cvm_measurement_add_input_u64(m, "memory_size", policy->memory_size));
	ADD(cvm_measurement_add_input_u64(m, "vcpus", plan->nvcpus));
	ADD(cvm_measurement_add_input(m, "measure_order", "%s",
				      plan->tdx.order == CVM_TDX_ORDER_TWO_PASS ? "two-pass"
										: "single-pass"));
	ADD(cvm_measurement_add_input(
		m, "page_aug", "%s",
		!has_page_aug(fw) ? "no PAGE_AUG sections in the firmware"
		: policy->tdx.honour_page_aug
			? "honoured: PAGE_AUG sections are not page-added"
			: "ignored: every section is page-added (as upstream QEMU)"));
	ADD(cvm_measurement_add_input_u64(m, "page_add_count", adds));
	ADD(cvm_measurement_add_input_u64(m, "mr_extend_count", extends));
	ADD(cvm_measurement_add_input(m, "td_hob_gpa", "0x%llx",
				      (unsigned long long)plan->tdx.td_hob_gpa));
	ADD(cvm_measurement_add_input(m, "attributes", "0x%016llx",
				      (unsigned long long)plan->tdx.attributes));
	ADD(cvm_measurement_add_input(m, "xfam", "0x%016llx",
				      (unsigned long long)plan->tdx.xfam));
	hex48(plan->tdx.mrconfigid, hex);
	ADD(cvm_measurement_add_input(m, "mrconfigid", "%s", hex));
	hex48(plan->tdx.mrowner, hex);
	ADD(cvm_measurement_add_input(m, "mrowner", "%s", hex));
	hex48(plan->tdx.mrownerconfig, hex);
	ADD(cvm_measurement_add_input(m, "mrownerconfig", "%s", hex));
	ADD(cvm_measurement_add_input(m, "firmware_generation", "%s",
				      cvm_tdx_fw_gen_name(policy_fw_gen(policy))));
	return 0;
}

/* A boot file's path and SHA-256 as inputs of the document. */
static int add_boot_file(struct cvm_measurement *m, const char *what, const char *path,
			 const uint8_t sha256[32], struct cvm_error *err)
{
	char hex[65], key[32];
	cvm_hex_encode(sha256, 32, hex);
	snprintf(key, sizeof(key), "%s_path", what);
	int bad = cvm_measurement_add_input(m, key, "%s", path);
	snprintf(key, sizeof(key), "%s_sha256", what);
	bad = bad || cvm_measurement_add_input(m, key, "%s", hex);
	return bad ? cvm_error_set(err, -ENOMEM, "measurement document: out of memory") : 0;
}

/*
 * The boot files' digests (they feed only the document and RTMR1/2).  The kernel is held whole:
 * its Authenticode hash walks its PE/COFF section table; a kernel that is no usable PE image
 * gets its SHA-256 alone (RTMR1 then explains why it is not computed).  The initrd is hashed as
 * it is read: SHA-256 for the document and SHA-384 for RTMR2 when the kernel is PE/COFF
 * (RTMR2 is computed only for one).  Each file is read once; on a pool of two or more threads
 * its SHA-256 and SHA-384 run side by side on the same bytes, else in one pass over them.
 */
struct boot_files {
	const struct cvm_policy *policy;
	struct cvm_pool *pool;
	struct cvm_file kernel;
	bool open_kernel;
	bool has_authenticode, pe;
	int authenticode_rc; /* the kernel's Authenticode hash: 0, or why there is none */
	struct cvm_error authenticode_err;
	uint8_t kernel_sha256[32];
	uint8_t authenticode[CVM_TDX_DIGEST_SIZE];
	struct cvm_stream_digest initrd;
	int rc; /* of boot_files_hash, with its error */
	struct cvm_error err;
};

/* Item 0 the kernel's Authenticode SHA-384 (a refusal is kept, not failed), item 1 its SHA-256. */
static int kernel_item(void *ctx, size_t index, struct cvm_error *err)
{
	struct boot_files *b = ctx;
	if (index == 1)
		return cvm_sha256(b->kernel.data, b->kernel.size, b->kernel_sha256, err);
	cvm_error_clear(&b->authenticode_err);
	b->authenticode_rc = cvm_tdx_authenticode_sha384(b->kernel.data, b->kernel.size,
							 b->authenticode, &b->authenticode_err);
	return 0;
}

static int hash_kernel(struct boot_files *b, struct cvm_error *err)
{
	int rc = 0;
	if (cvm_pool_threads(b->pool) > 1) {
		rc = cvm_pool_run(b->pool, 2, kernel_item, b, err);
	} else {
		cvm_error_clear(&b->authenticode_err);
		b->authenticode_rc = cvm_tdx_authenticode_sha384_sha256(
			b->kernel.data, b->kernel.size, b->authenticode, b->kernel_sha256,
			&b->authenticode_err);
		if (b->authenticode_rc == -ENOEXEC || b->authenticode_rc == -EINVAL)
			rc = cvm_sha256(b->kernel.data, b->kernel.size, b->kernel_sha256, err);
	}
	int arc = b->authenticode_rc;
	b->has_authenticode = arc == 0;
	if (!rc && arc && arc != -ENOEXEC && arc != -EINVAL) {
		*err = b->authenticode_err;
		rc = arc;
	}
	return rc;
}

/* cvm_pool_run as cvm_hash_stream_on's runner. */
static int run_on_pool(void *pool, size_t count, cvm_item_fn fn, void *ctx, struct cvm_error *err)
{
	return cvm_pool_run(pool, count, fn, ctx, err);
}

static int hash_boot_files(struct boot_files *b, struct cvm_error *err)
{
	const struct cvm_policy *policy = b->policy;
	if (!policy->boot.kernel)
		return 0;
	int rc = cvm_file_read(policy->boot.kernel, CVM_BOOT_FILE_MAX, &b->kernel, err);
	if (rc)
		return cvm_error_wrap(err, "boot.kernel");
	b->open_kernel = true;
	if ((rc = hash_kernel(b, err)))
		return rc;
	/* A kernel without the MZ header is no PE/COFF image: RTMR2 needs no SHA-384. */
	b->pe = b->kernel.size >= 2 && b->kernel.data[0] == 'M' && b->kernel.data[1] == 'Z';
	if (!policy->boot.initrd)
		return 0;
	rc = cvm_hash_stream_on(policy->boot.initrd, CVM_BOOT_FILE_MAX,
				CVM_HASH_SHA256 | (b->pe ? CVM_HASH_SHA384 : 0),
				cvm_pool_threads(b->pool) > 1 ? run_on_pool : NULL, b->pool, NULL,
				NULL, &b->initrd, err);
	return rc ? cvm_error_wrap(err, "boot.initrd") : 0;
}

static void boot_files_close(struct boot_files *b)
{
	if (b->open_kernel)
		cvm_file_close(&b->kernel);
	b->open_kernel = false;
}

/* The files and buffers the RTMR inputs borrow, released together. */
struct rtmr_files {
	struct cvm_file varstore;
	bool open_varstore;
	uint8_t acpi_sha384[3][CVM_TDX_DIGEST_SIZE]; /* of the tdx.acpi files, hashed as read */
	struct cvm_tdx_boot_option *options;
	uint8_t **option_data; /* owned: the encoded load options */
	size_t noptions;
	struct cvm_tdx_fw_cfg_item *fw_cfg;
};

static void rtmr_files_close(struct rtmr_files *f)
{
	if (f->open_varstore)
		cvm_file_close(&f->varstore);
	for (size_t i = 0; i < f->noptions; i++)
		free(f->option_data[i]);
	free(f->option_data);
	free(f->options);
	free(f->fw_cfg);
}

/* A policy input file, its SHA-384 recorded as an input. */
static int open_rtmr_file(struct cvm_measurement *m, const char *key, const char *path,
			  struct cvm_file *f, bool *opened, struct cvm_error *err)
{
	int rc = cvm_file_open(path, f, err);
	if (rc)
		return rc;
	*opened = true;
	uint8_t d[CVM_TDX_DIGEST_SIZE];
	char hex[97], name[48];
	cvm_tdx_sha384(f->data, f->size, d);
	hex48(d, hex);
	snprintf(name, sizeof(name), "%s_sha384", key);
	ADD(cvm_measurement_add_input(m, name, "%s", hex));
	return 0;
}

/* The Secure Boot variables from a variable store; SecureBoot itself as the firmware sets it. */
static void take_secure_boot(const struct cvm_tdx_varstore *vs,
			     enum cvm_tdx_secure_boot policy_sb, struct cvm_tdx_rtmr_inputs *in)
{
	in->pk = vs->pk;
	in->kek = vs->kek;
	in->db = vs->db;
	in->dbx = vs->dbx;
	in->dbt = vs->dbt;
	in->secure_boot = policy_sb;
	if (policy_sb == CVM_TDX_SB_AUTO && vs->pk.data)
		/* AuthVariableLib: SecureBoot = 1 in user mode (PK enrolled) unless
		   SecureBootEnable says 0 */
		in->secure_boot = vs->has_secure_boot_enable && vs->secure_boot_enable != 1
					  ? CVM_TDX_SB_DISABLED
					  : CVM_TDX_SB_ENABLED;
}

static int rtmr0_policy_inputs(struct cvm_measurement *m, const struct cvm_policy *policy,
			       struct cvm_tdx_rtmr_inputs *in, struct rtmr_files *f,
			       struct cvm_error *err)
{
	static const char *const acpi_keys[3] = {"acpi_table_loader", "acpi_rsdp",
						 "acpi_tables"};
	const struct cvm_policy_tdx_rtmr *t = &policy->tdx.rtmr;
	static const char *const acpi_paths[3] = {"tdx.acpi.table_loader", "tdx.acpi.rsdp",
						  "tdx.acpi.tables"};
	char hex[97];
	int rc;
	for (size_t i = 0; i < 3; i++) {
		if (t->acpi[i].path) {
			/* only its digest is extended: hashed as it is read, not held */
			struct cvm_stream_digest d;
			if ((rc = cvm_hash_stream(t->acpi[i].path, CVM_FILE_MAX, CVM_HASH_SHA384,
						  NULL, NULL, &d, err)))
				return cvm_error_wrap(err, "%s", acpi_paths[i]);
			memcpy(f->acpi_sha384[i], d.sha384, CVM_TDX_DIGEST_SIZE);
			in->acpi_sha384[i] = f->acpi_sha384[i];
			hex48(d.sha384, hex);
			char name[48];
			snprintf(name, sizeof(name), "%s_sha384", acpi_keys[i]);
			ADD(cvm_measurement_add_input(m, name, "%s", hex));
		} else if (t->acpi[i].has_sha384) {
			in->acpi_sha384[i] = t->acpi[i].sha384;
			hex48(t->acpi[i].sha384, hex);
			char name[48];
			snprintf(name, sizeof(name), "%s_sha384", acpi_keys[i]);
			ADD(cvm_measurement_add_input(m, name, "%s", hex));
		}
	}
	struct cvm_tdx_varstore vs;
	struct cvm_error vs_err;
	cvm_error_clear(&vs_err);
	in->secure_boot = t->secure_boot == CVM_TDX_SB_AUTO ? CVM_TDX_SB_UNSUPPORTED
							    : t->secure_boot;
	if (t->cfv.path) {
		if ((rc = open_rtmr_file(m, "varstore", t->cfv.path, &f->varstore,
					 &f->open_varstore, err)))
			return cvm_error_wrap(err, "tdx.varstore");
		if ((rc = cvm_tdx_varstore_parse(f->varstore.data, f->varstore.size, &vs, err)))
			return cvm_error_wrap(err, "tdx.varstore %s", t->cfv.path);
		/* the store takes the CFV section's place: it must be of its size */
		if (in->cfv && in->cfv_len != f->varstore.size)
			return cvm_error_set(err, -EINVAL,
					     "tdx.varstore %s: %zu bytes, but the firmware's CFV "
					     "section is %zu bytes (a variable store of another "
					     "build, e.g. OVMF_VARS_4M.fd for a 2 MiB OVMF.fd)",
					     t->cfv.path, f->varstore.size, in->cfv_len);
		if (in->cfv && memcmp(in->cfv, f->varstore.data, in->cfv_len) != 0)
			ADD(cvm_measurement_add_input(
				m, "cfv_source",
				"tdx.varstore, not the firmware image's own CFV: the TD measures this "
				"only if its image carries this variable store (cvmkit launch loads "
				"the image as it is)"));
		in->cfv = f->varstore.data;
		in->cfv_len = f->varstore.size;
		take_secure_boot(&vs, t->secure_boot, in);
	} else if (t->cfv.has_sha384) {
		in->cfv = NULL;
		in->cfv_sha384 = t->cfv.sha384;
		hex48(t->cfv.sha384, hex);
		ADD(cvm_measurement_add_input(m, "cfv_sha384", "%s", hex));
	} else if (in->cfv &&
		   cvm_tdx_varstore_parse(in->cfv, in->cfv_len, &vs, &vs_err) == 0) {
		take_secure_boot(&vs, t->secure_boot, in);
	}
	if (t->secure_boot != CVM_TDX_SB_AUTO || in->pk.data) {
		static const char *const sb[] = {"auto", "unsupported (absent)", "disabled (0)",
						 "enabled (1)"};
		ADD(cvm_measurement_add_input(m, "secure_boot", "%s", sb[in->secure_boot]));
	}
	if (t->has_boot_order) {
		in->boot_order = t->boot_order;
		in->nboot_order = t->nboot_order;
		size_t n = t->nboot_entries ? t->nboot_entries : 1;
		f->options = calloc(n, sizeof(*f->options));
		f->option_data = calloc(n, sizeof(*f->option_data));
		if (!f->options || !f->option_data)
			return cvm_error_set(err, -ENOMEM, "boot entries: out of memory");
		for (size_t i = 0; i < t->nboot_entries; i++) {
			const struct cvm_policy_boot_entry *e = &t->boot_entries[i];
			struct cvm_tdx_boot_option *o = &f->options[i];
			uint8_t *data;
			if ((rc = cvm_tdx_load_option_encode(e->attributes, e->description,
							     e->device_path, e->device_path_len,
							     e->optional_data, e->optional_data_len,
							     &data, &o->len, err)))
				return cvm_error_wrap(err, "tdx.boot_entries.Boot%04X", e->number);
			o->data = f->option_data[i] = data;
			o->number = e->number;
			o->description = e->description;
			f->noptions++;
		}
		in->boot_options = f->options;
		in->nboot_options = f->noptions;
	}
	if (t->has_smbios_sha384) {
		in->smbios_sha384 = t->smbios_sha384;
		hex48(t->smbios_sha384, hex);
		ADD(cvm_measurement_add_input(m, "smbios_sha384", "%s", hex));
	}
	if (t->has_fw_cfg) {
		f->fw_cfg = calloc(t->nfw_cfg ? t->nfw_cfg : 1, sizeof(*f->fw_cfg));
		if (!f->fw_cfg)
			return cvm_error_set(err, -ENOMEM, "fw_cfg: out of memory");
		for (size_t i = 0; i < t->nfw_cfg; i++)
			f->fw_cfg[i] = (struct cvm_tdx_fw_cfg_item){t->fw_cfg[i].name,
								    t->fw_cfg[i].data,
								    t->fw_cfg[i].len};
		in->has_fw_cfg = true;
		in->fw_cfg = f->fw_cfg;
		in->nfw_cfg = t->nfw_cfg;
	}
	return 0;
}

/* The RTMR inputs and values; boot holds the boot files' digests (b->rc: why they are not). */
static int add_rtmrs(struct cvm_measurement *m, const struct cvm_policy *policy,
		     const struct cvm_plan *plan, const struct boot_files *boot,
		     struct cvm_error *err)
{
	struct cvm_tdx_rtmr_inputs in = {.fw_gen = policy_fw_gen(policy),
					 .cmdline = policy->boot.cmdline};
	const struct cvm_plan_op *hob = find_op(plan, plan->tdx.td_hob_gpa, "TD_HOB");
	const struct cvm_plan_op *cfv = find_cfv(plan);
	if (hob) {
		in.td_hob = hob->data;
		in.td_hob_len = hob->data_len;
		uint8_t d[CVM_TDX_DIGEST_SIZE];
		char hex[97];
		cvm_tdx_hob_digest(hob->data, hob->data_len, d);
		hex48(d, hex);
		ADD(cvm_measurement_add_input(m, "td_hob_sha384", "%s", hex));
	}
	if (cfv) {
		in.cfv = cfv->data;
		in.cfv_len = cfv->data_len;
	}

	struct rtmr_files f;
	memset(&f, 0, sizeof(f));
	int rc = rtmr0_policy_inputs(m, policy, &in, &f, err);
	if (!rc && boot->rc) {
		*err = boot->err;
		rc = boot->rc;
	}
	if (!rc && policy->boot.kernel) {
		if (boot->has_authenticode)
			in.kernel_authenticode = boot->authenticode;
		in.kernel = boot->kernel.data;
		in.kernel_len = boot->kernel.size;
		rc = add_boot_file(m, "kernel", policy->boot.kernel, boot->kernel_sha256, err);
		if (!rc && policy->boot.cmdline &&
		    cvm_measurement_add_input(m, "cmdline", "%s", policy->boot.cmdline))
			rc = cvm_error_set(err, -ENOMEM, "measurement document: out of memory");
		/* An empty initrd still makes OVMF add the initrd token. */
		if (!rc && policy->boot.initrd &&
		    !(rc = add_boot_file(m, "initrd", policy->boot.initrd, boot->initrd.sha256,
					 err)) &&
		    boot->pe)
			in.initrd_sha384 = boot->initrd.sha384;
	}
	if (!rc)
		rc = cvm_tdx_rtmr_compute(&in, m, err);
	rtmr_files_close(&f);
	return rc;
}

/* The document's inputs and RTMRs (the pin holds). */
static int describe(struct cvm_measurement *m, const struct cvm_policy *policy,
		    const struct cvm_firmware *fw, const struct cvm_plan *plan,
		    const struct boot_files *boot, struct cvm_error *err)
{
	uint8_t sha256[32];
	char fw_sha256[65];
	int rc = cvm_firmware_sha256(fw, sha256, err);
	if (rc)
		return rc;
	cvm_hex_encode(sha256, 32, fw_sha256);
	m->has_td_fields = true;
	m->td_attributes = plan->tdx.attributes;
	m->xfam = plan->tdx.xfam;
	memcpy(m->mrconfigid, plan->tdx.mrconfigid, 48);
	memcpy(m->mrowner, plan->tdx.mrowner, 48);
	memcpy(m->mrownerconfig, plan->tdx.mrownerconfig, 48);
	rc = add_tdx_inputs(m, policy, fw, plan, fw_sha256, err);
	return rc ? rc : add_rtmrs(m, policy, plan, boot, err);
}

int cvm_tdx_measure(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		    struct cvm_measurement **out, struct cvm_error *err)
{
	return cvm_tdx_measure_ex(policy, fw, NULL, out, err);
}

/* The MRTD chain (or the compare with a launched plan), beside the boot files' hashes. */
struct mrtd_job {
	const struct cvm_plan *plan;
	const struct cvm_tdx_measure_opts *opts;
	struct cvm_measurement *m;
};

static int mrtd_item(void *ctx, size_t index, struct cvm_error *err)
{
	(void)index;
	struct mrtd_job *j = ctx;
	if (j->opts && j->opts->launched) {
		j->m->digest_len = 0;
		int rc = cvm_plan_compare(j->plan, j->opts->launched, err);
		return rc ? cvm_error_wrap(err, "the launch plan is not the offline plan") : 0;
	}
	j->m->digest_len = CVM_TDX_DIGEST_SIZE;
	return run_model(j->plan, j->opts ? j->opts->cancel : NULL, j->m->digest, err);
}

int cvm_tdx_measure_ex(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		       const struct cvm_tdx_measure_opts *opts, struct cvm_measurement **out,
		       struct cvm_error *err)
{
	struct cvm_plan plan;
	int rc = cvm_tdx_plan_build(policy, fw, &plan, err);
	if (rc) {
		/* The pin comes first: a plan that fails for the wrong image says so. */
		struct cvm_error pin_err;
		cvm_error_clear(&pin_err);
		int prc = cvm_firmware_pin_check(policy, fw, &pin_err);
		if (prc) {
			if (err)
				*err = pin_err;
			return prc;
		}
		return cvm_error_wrap(err, "tdx measure");
	}
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_TDX, "tdx");
	if (!m) {
		cvm_plan_release(&plan);
		return cvm_error_set(err, -ENOMEM, "tdx measure: out of memory");
	}
	/* The MRTD chain on one of the pool's threads (after the firmware's SHA-256, when
	   cvm_firmware_load_on() took it on the same pool), the boot files here; without a pool
	   one after the other. */
	struct cvm_pool *pool = opts ? opts->pool : NULL;
	struct mrtd_job job = {.plan = &plan, .opts = opts, .m = m};
	struct boot_files boot = {.policy = policy, .pool = pool};
	struct cvm_pool_batch *batch;
	rc = cvm_pool_start_one(pool, mrtd_item, &job, &batch, err);
	if (!rc) {
		cvm_error_clear(&boot.err);
		boot.rc = hash_boot_files(&boot, &boot.err);
		rc = cvm_pool_finish(batch, err);
	}
	bool pin_failed = !rc && (rc = cvm_firmware_pin_check(policy, fw, err)) != 0;
	if (!rc)
		rc = describe(m, policy, fw, &plan, &boot, err);
	boot_files_close(&boot);
	cvm_plan_release(&plan);
	if (rc) {
		cvm_measurement_free(m);
		return pin_failed ? rc : cvm_error_wrap(err, "tdx measure");
	}
	*out = m;
	return 0;
}
