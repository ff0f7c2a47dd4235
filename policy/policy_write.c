/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy writer: struct cvm_policy -> json-c tree, which policy.c prints as JSON or
 * policy_cbor.c encodes as CBOR.  Reading the output back gives the same struct: every field
 * the reader sets is written (the block of the other TEE, which a valid policy cannot have, is
 * not).  Paths are written relative to base_dir again when they were resolved against it.
 */
#include "policy/policy_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/util.h>

struct writer {
	bool oom;
};

/* Adds val (owned) under key; a NULL val means allocation failed. */
static void put(struct writer *w, struct json_object *obj, const char *key,
		struct json_object *val)
{
	if (!obj || !val || json_object_object_add(obj, key, val)) {
		json_object_put(val);
		w->oom = true;
	}
}

static struct json_object *hex_u64(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_object_new_string(buf);
}

static struct json_object *hex_bytes(const uint8_t *b, size_t n)
{
	char buf[2 * 64 + 1];
	if (n > 64)
		return NULL;
	cvm_hex_encode(b, n, buf);
	return json_object_new_string(buf);
}

static struct json_object *size_string(uint64_t v)
{
	char buf[32];
	cvm_policy_format_size(v, buf, sizeof(buf));
	return json_object_new_string(buf);
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* The path as the document should say it: relative again if it was resolved against base. */
static struct json_object *doc_path(const struct cvm_policy *p, const char *path)
{
	const char *base = p->base_dir;
	if (base && base[0] && strcmp(base, ".") != 0) {
		size_t n = strlen(base);
		if (strncmp(path, base, n) == 0 && path[n] == '/' && path[n + 1] &&
		    path[n + 1] != '/')
			return json_object_new_string(path + n + 1);
	}
	return json_object_new_string(path);
}

static struct json_object *write_cpus(struct writer *w, const struct cvm_policy *p)
{
	struct json_object *o = json_object_new_object();
	put(w, o, "count", json_object_new_int64(p->cpus.count));
	if (p->cpus.model)
		put(w, o, "model", json_object_new_string(p->cpus.model));
	if (p->cpus.has_signature) {
		char sig[16];
		snprintf(sig, sizeof(sig), "0x%08" PRIx32, p->cpus.signature);
		put(w, o, "signature", json_object_new_string(sig));
	}
	return o;
}

/* The CPUID page's rejection rule and the SEV features by name (docs/policy.md). */
static void write_snp_cpuid_features(struct writer *w, const struct cvm_policy_snp *snp,
				     struct json_object *o)
{
	if (snp->cpuid_retry)
		put(w, o, "cpuid_retry", json_object_new_boolean(true));
	/* by name when they were named and every bit has one (an override may set any) */
	bool named = snp->features_named;
	for (unsigned bit = 0; named && bit < 64; bit++)
		named = !(snp->guest_features >> bit & 1) || cvm_sev_feature_name(bit);
	if (named) {
		struct json_object *names = json_object_new_array();
		for (unsigned bit = 1; bit < 64; bit++)
			if (snp->guest_features >> bit & 1)
				json_object_array_add(names,
						      json_object_new_string(cvm_sev_feature_name(bit)));
		put(w, o, "features", names);
	}
	if (snp->tsc_khz)
		put(w, o, "tsc_khz", json_object_new_int64(snp->tsc_khz));
}

/* snp.certificates (docs/policy.md): cache only when it is off, the files by their kind. */
static void write_snp_certs(struct writer *w, const struct cvm_policy *p, struct json_object *o)
{
	const struct cvm_policy_snp_certs *c = &p->snp.certs;
	if (!c->present)
		return;
	struct json_object *co = json_object_new_object();
	if (!c->cache)
		put(w, co, "cache", json_object_new_boolean(false));
	if (c->key_path)
		put(w, co, c->vlek ? "vlek" : "vcek", doc_path(p, c->key_path));
	if (c->intermediate_path)
		put(w, co, c->vlek ? "asvk" : "ask", doc_path(p, c->intermediate_path));
	if (c->ark_path)
		put(w, co, "ark", doc_path(p, c->ark_path));
	put(w, o, "certificates", co);
}

static struct json_object *write_snp(struct writer *w, const struct cvm_policy *p)
{
	const struct cvm_policy_snp *snp = &p->snp;
	const struct cvm_snp_guest_policy *gp = &snp->policy;
	struct json_object *o = json_object_new_object(), *pol = json_object_new_object();
	put(w, pol, "abi_major", json_object_new_int64(gp->abi_major));
	put(w, pol, "abi_minor", json_object_new_int64(gp->abi_minor));
	put(w, pol, "smt", json_object_new_boolean(gp->smt));
	put(w, pol, "migrate_ma", json_object_new_boolean(gp->migrate_ma));
	put(w, pol, "debug", json_object_new_boolean(gp->debug));
	put(w, pol, "single_socket", json_object_new_boolean(gp->single_socket));
	put(w, pol, "cxl_allow", json_object_new_boolean(gp->cxl_allow));
	put(w, pol, "mem_aes_256_xts", json_object_new_boolean(gp->mem_aes_256_xts));
	put(w, pol, "rapl_dis", json_object_new_boolean(gp->rapl_dis));
	put(w, pol, "ciphertext_hiding", json_object_new_boolean(gp->ciphertext_hiding));
	put(w, pol, "page_swap_disable", json_object_new_boolean(gp->page_swap_disable));
	put(w, o, "policy", pol);
	put(w, o, "guest_features", hex_u64(snp->guest_features));
	if (snp->has_host_data)
		put(w, o, "host_data", hex_bytes(snp->host_data, 32));
	if (snp->has_firmware_digest)
		put(w, o, "firmware_digest", hex_bytes(snp->firmware_digest, 48));
	if (snp->id_block.present) {
		const struct cvm_snp_id_block_input *id = &snp->id_block;
		struct json_object *ib = json_object_new_object();
		put(w, ib, "family_id", hex_bytes(id->family_id, 16));
		put(w, ib, "image_id", hex_bytes(id->image_id, 16));
		put(w, ib, "guest_svn", json_object_new_int64(id->guest_svn));
		if (id->id_key_path)
			put(w, ib, "id_key", doc_path(p, id->id_key_path));
		if (id->author_key_path)
			put(w, ib, "author_key", doc_path(p, id->author_key_path));
		put(w, o, "id_block", ib);
	}
	write_snp_cpuid_features(w, snp, o);
	write_snp_certs(w, p, o);
	return o;
}

/* Any number of bytes as hex (boot entries, fw_cfg items). */
static struct json_object *hex_var(const uint8_t *b, size_t n)
{
	char *buf = malloc(2 * n + 1);
	if (!buf)
		return NULL;
	cvm_hex_encode(b, n, buf);
	struct json_object *s = json_object_new_string(buf);
	free(buf);
	return s;
}

static void write_tdx_blob(struct writer *w, const struct cvm_policy *p, struct json_object *o,
			   const char *key, const struct cvm_policy_tdx_blob *b)
{
	char dkey[48];
	snprintf(dkey, sizeof(dkey), "%s_sha384", key);
	if (b->path)
		put(w, o, key, doc_path(p, b->path));
	else if (b->has_sha384)
		put(w, o, dkey, hex_bytes(b->sha384, 48));
}

static void write_tdx_rtmr(struct writer *w, const struct cvm_policy *p, struct json_object *o)
{
	static const char *const gens[] = {"<=202408", "202411..202502", ">=202505"};
	static const char *const sb[] = {"auto", "unsupported", "disabled", "enabled"};
	static const char *const acpi_keys[] = {"table_loader", "rsdp", "tables"};
	const struct cvm_policy_tdx_rtmr *t = &p->tdx.rtmr;
	if (t->has_fw_gen && (size_t)t->fw_gen < CVM_ARRAY_SIZE(gens))
		put(w, o, "firmware_generation", json_object_new_string(gens[t->fw_gen]));
	bool any_acpi = false;
	for (size_t i = 0; i < 3; i++)
		any_acpi |= t->acpi[i].path || t->acpi[i].has_sha384;
	if (any_acpi) {
		struct json_object *acpi = json_object_new_object();
		for (size_t i = 0; i < 3; i++)
			write_tdx_blob(w, p, acpi, acpi_keys[i], &t->acpi[i]);
		put(w, o, "acpi", acpi);
	}
	if (t->cfv.path)
		put(w, o, "varstore", doc_path(p, t->cfv.path));
	else if (t->cfv.has_sha384)
		put(w, o, "cfv_sha384", hex_bytes(t->cfv.sha384, 48));
	if (t->secure_boot != CVM_TDX_SB_AUTO && (size_t)t->secure_boot < CVM_ARRAY_SIZE(sb))
		put(w, o, "secure_boot", json_object_new_string(sb[t->secure_boot]));
	if (t->has_boot_order) {
		struct json_object *arr = json_object_new_array();
		for (size_t i = 0; arr && i < t->nboot_order; i++) {
			char num[8];
			snprintf(num, sizeof(num), "%04X", t->boot_order[i]);
			struct json_object *s = json_object_new_string(num);
			if (!s || json_object_array_add(arr, s)) {
				json_object_put(s);
				w->oom = true;
			}
		}
		put(w, o, "boot_order", arr);
	}
	if (t->nboot_entries) {
		struct json_object *entries = json_object_new_object();
		for (size_t i = 0; i < t->nboot_entries; i++) {
			const struct cvm_policy_boot_entry *e = &t->boot_entries[i];
			struct json_object *eo = json_object_new_object();
			char key[16];
			snprintf(key, sizeof(key), "Boot%04X", e->number);
			put(w, eo, "attributes", hex_u64(e->attributes));
			put(w, eo, "description",
			    json_object_new_string(e->description ? e->description : ""));
			put(w, eo, "device_path", hex_var(e->device_path, e->device_path_len));
			if (e->optional_data_len)
				put(w, eo, "optional_data",
				    hex_var(e->optional_data, e->optional_data_len));
			put(w, entries, key, eo);
		}
		put(w, o, "boot_entries", entries);
	}
	if (t->has_smbios_sha384)
		put(w, o, "smbios_sha384", hex_bytes(t->smbios_sha384, 48));
	if (t->has_fw_cfg) {
		struct json_object *fc = json_object_new_object();
		for (size_t i = 0; i < t->nfw_cfg; i++)
			put(w, fc, t->fw_cfg[i].name, hex_var(t->fw_cfg[i].data, t->fw_cfg[i].len));
		put(w, o, "fw_cfg", fc);
	}
}

static struct json_object *write_tdx(struct writer *w, const struct cvm_policy *p)
{
	const struct cvm_policy_tdx *t = &p->tdx;
	struct json_object *o = json_object_new_object(), *attrs = json_object_new_object();
	put(w, attrs, "debug", json_object_new_boolean(t->debug));
	put(w, attrs, "sept_ve_disable", json_object_new_boolean(t->sept_ve_disable));
	put(w, attrs, "pks", json_object_new_boolean(t->pks));
	put(w, attrs, "perfmon", json_object_new_boolean(t->perfmon));
	put(w, o, "attributes", attrs);
	put(w, o, "xfam", hex_u64(t->xfam));
	if (!all_zero(t->mrconfigid, 48))
		put(w, o, "mrconfigid", hex_bytes(t->mrconfigid, 48));
	if (!all_zero(t->mrowner, 48))
		put(w, o, "mrowner", hex_bytes(t->mrowner, 48));
	if (!all_zero(t->mrownerconfig, 48))
		put(w, o, "mrownerconfig", hex_bytes(t->mrownerconfig, 48));
	put(w, o, "measure_order", json_object_new_string(
		t->measure_order == CVM_TDX_ORDER_TWO_PASS ? "two-pass" : "single-pass"));
	put(w, o, "page_aug", json_object_new_string(t->honour_page_aug ? "honour" : "ignore"));
	write_tdx_rtmr(w, p, o);
	return o;
}

static struct json_object *write_prefault(struct writer *w, const struct cvm_policy *p)
{
	static const char *const modes[] = {"off", "best-effort", "required"};
	struct json_object *o = json_object_new_object();
	size_t mode = p->prefault.mode;
	put(w, o, "mode",
	    json_object_new_string(mode < CVM_ARRAY_SIZE(modes) ? modes[mode] : "best-effort"));
	if (p->prefault.nranges) {
		struct json_object *arr = json_object_new_array();
		for (size_t i = 0; arr && i < p->prefault.nranges; i++) {
			struct json_object *r = json_object_new_object();
			put(w, r, "gpa", hex_u64(p->prefault.ranges[i].gpa));
			put(w, r, "size", size_string(p->prefault.ranges[i].size));
			if (!r || json_object_array_add(arr, r)) {
				json_object_put(r);
				w->oom = true;
			}
		}
		put(w, o, "ranges", arr);
	}
	return o;
}

/* ---- the "verify" section ---- */

static struct json_object *digest_list(struct writer *w, const struct cvm_verify_digests *d)
{
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; arr && i < d->count && i < CVM_VERIFY_MAX_KEYS; i++) {
		struct json_object *h = hex_bytes(d->digest[i], 48);
		if (!h || json_object_array_add(arr, h)) {
			json_object_put(h);
			w->oom = true;
		}
	}
	return arr;
}

/* The names of the set bits of mask, in bit order. */
static struct json_object *name_list(struct writer *w, uint64_t mask,
				     const char *(*name)(uint64_t))
{
	struct json_object *arr = json_object_new_array();
	for (unsigned b = 0; arr && b < 64; b++) {
		const char *n = (mask >> b & 1) ? name(1ull << b) : NULL;
		if (!n)
			continue;
		struct json_object *s = json_object_new_string(n);
		if (!s || json_object_array_add(arr, s)) {
			json_object_put(s);
			w->oom = true;
		}
	}
	return arr;
}

static const char *allow_name(uint64_t bit)
{
	return bit >> 32 ? NULL : cvm_policy_verify_allow_name((uint32_t)bit);
}

static struct json_object *version_string(unsigned a, unsigned b, const unsigned *c)
{
	char buf[16];
	if (c)
		snprintf(buf, sizeof(buf), "%u.%u.%u", a, b, *c);
	else
		snprintf(buf, sizeof(buf), "%u.%u", a, b);
	return json_object_new_string(buf);
}

static void put_tcb_min(struct writer *w, struct json_object *o, const char *key,
			const struct cvm_verify_tcb_min *t)
{
	if (!t->present)
		return;
	struct json_object *b = json_object_new_object();
	put(w, b, "bootloader", json_object_new_int64(t->bootloader));
	put(w, b, "tee", json_object_new_int64(t->tee));
	put(w, b, "snp", json_object_new_int64(t->snp));
	put(w, b, "microcode", json_object_new_int64(t->microcode));
	put(w, b, "fmc", json_object_new_int64(t->fmc));
	put(w, o, key, b);
}

static struct json_object *write_verify_snp(struct writer *w, const struct cvm_verify_rules *v)
{
	struct json_object *o = json_object_new_object();
	put(w, o, "refuse_smt", json_object_new_boolean(v->refuse_smt));
	put(w, o, "require_committed", json_object_new_boolean(v->require_committed));
	if (v->vmpl_mask) { /* absent: VMPL 0 only */
		struct json_object *vmpl = json_object_new_array();
		for (int i = 0; vmpl && i < 4; i++) {
			if (!(v->vmpl_mask >> i & 1))
				continue;
			struct json_object *n = json_object_new_int64(i);
			if (!n || json_object_array_add(vmpl, n)) {
				json_object_put(n);
				w->oom = true;
			}
		}
		put(w, o, "vmpl", vmpl);
	}
	if (v->min_report_version)
		put(w, o, "min_report_version", json_object_new_int64(v->min_report_version));
	if (v->has_min_abi)
		put(w, o, "min_abi", version_string(v->min_abi_major, v->min_abi_minor, NULL));
	if (v->has_min_firmware) {
		unsigned build = v->min_fw_build;
		put(w, o, "min_firmware", version_string(v->min_fw_major, v->min_fw_minor, &build));
	}
	if (v->require_policy)
		put(w, o, "require_policy", name_list(w, v->require_policy, cvm_policy_verify_bit_name));
	if (v->has_platform_info_mask)
		put(w, o, "platform_info_mask", hex_u64(v->platform_info_mask));
	if (v->min_guest_svn)
		put(w, o, "min_guest_svn", json_object_new_int64(v->min_guest_svn));
	if (v->min_launch_mit_vector)
		put(w, o, "min_launch_mit_vector", hex_u64(v->min_launch_mit_vector));
	if (v->min_current_mit_vector)
		put(w, o, "min_current_mit_vector", hex_u64(v->min_current_mit_vector));
	put_tcb_min(w, o, "min_reported_tcb", &v->min_reported_tcb);
	put_tcb_min(w, o, "min_current_tcb", &v->min_current_tcb);
	put_tcb_min(w, o, "min_committed_tcb", &v->min_committed_tcb);
	put_tcb_min(w, o, "min_launch_tcb", &v->min_launch_tcb);
	if (v->has_family_id)
		put(w, o, "family_id", hex_bytes(v->family_id, 16));
	if (v->has_image_id)
		put(w, o, "image_id", hex_bytes(v->image_id, 16));
	if (v->has_report_id)
		put(w, o, "report_id", hex_bytes(v->report_id, 32));
	if (v->has_report_id_ma)
		put(w, o, "report_id_ma", hex_bytes(v->report_id_ma, 32));
	if (v->has_chip_id)
		put(w, o, "chip_id", hex_bytes(v->chip_id, 64));
	put(w, o, "require_author_key", json_object_new_boolean(v->require_author_key));
	if (v->trusted_id_keys.count)
		put(w, o, "trusted_id_keys", digest_list(w, &v->trusted_id_keys));
	if (v->trusted_author_keys.count)
		put(w, o, "trusted_author_keys", digest_list(w, &v->trusted_author_keys));
	return o;
}

static struct json_object *write_verify_tdx(struct writer *w, const struct cvm_verify_rules *v)
{
	struct json_object *o = json_object_new_object();
	put(w, o, "require_sept_ve_disable", json_object_new_boolean(v->require_sept_ve_disable));
	if (v->mrseam.count)
		put(w, o, "mrseam", digest_list(w, &v->mrseam));
	if (v->mrtd.count)
		put(w, o, "mrtd", digest_list(w, &v->mrtd));
	if (v->has_min_qe_svn)
		put(w, o, "min_qe_svn", json_object_new_int64(v->min_qe_svn));
	if (v->has_min_pce_svn)
		put(w, o, "min_pce_svn", json_object_new_int64(v->min_pce_svn));
	if (v->has_qe_vendor_id)
		put(w, o, "qe_vendor_id", hex_bytes(v->qe_vendor_id, 16));
	if (v->has_min_tee_tcb_svn)
		put(w, o, "min_tee_tcb_svn", hex_bytes(v->min_tee_tcb_svn, 16));
	if (v->has_min_tee_tcb_svn2)
		put(w, o, "min_tee_tcb_svn2", hex_bytes(v->min_tee_tcb_svn2, 16));
	return o;
}

static struct json_object *write_verify(struct writer *w, const struct cvm_policy *p)
{
	struct json_object *o = json_object_new_object();
	put(w, o, "allow", name_list(w, p->verify.allow, allow_name));
	if (p->tee == CVM_TEE_SNP)
		put(w, o, "snp", write_verify_snp(w, &p->verify));
	if (p->tee == CVM_TEE_TDX)
		put(w, o, "tdx", write_verify_tdx(w, &p->verify));
	return o;
}

struct json_object *cvm_policy_to_tree(const struct cvm_policy *p)
{
	struct writer w = {false};
	struct json_object *root = json_object_new_object();
	put(&w, root, "version", json_object_new_int64(p->version));
	if (p->name)
		put(&w, root, "name", json_object_new_string(p->name));
	put(&w, root, "tee", json_object_new_string(cvm_tee_name(p->tee)));
	put(&w, root, "vmm", json_object_new_string(cvm_vmm_name(p->vmm)));
	put(&w, root, "cpus", write_cpus(&w, p));
	struct json_object *mem = json_object_new_object();
	put(&w, mem, "size", size_string(p->memory_size));
	put(&w, root, "memory", mem);
	if (p->firmware.path || p->firmware.has_sha256) {
		struct json_object *fw = json_object_new_object();
		if (p->firmware.path)
			put(&w, fw, "path", doc_path(p, p->firmware.path));
		if (p->firmware.has_sha256)
			put(&w, fw, "sha256", hex_bytes(p->firmware.sha256, 32));
		put(&w, root, "firmware", fw);
	}
	if (p->boot.kernel || p->boot.initrd || p->boot.cmdline) {
		struct json_object *boot = json_object_new_object();
		if (p->boot.kernel)
			put(&w, boot, "kernel", doc_path(p, p->boot.kernel));
		if (p->boot.initrd)
			put(&w, boot, "initrd", doc_path(p, p->boot.initrd));
		if (p->boot.cmdline)
			put(&w, boot, "cmdline", json_object_new_string(p->boot.cmdline));
		put(&w, root, "boot", boot);
	}
	if (p->tee == CVM_TEE_SNP)
		put(&w, root, "snp", write_snp(&w, p));
	if (p->tee == CVM_TEE_TDX)
		put(&w, root, "tdx", write_tdx(&w, p));
	put(&w, root, "prefault", write_prefault(&w, p));
	put(&w, root, "allow_debug", json_object_new_boolean(p->allow_debug));
	if (p->has_verify)
		put(&w, root, "verify", write_verify(&w, p));
	if (w.oom) {
		json_object_put(root);
		return NULL;
	}
	return root;
}
