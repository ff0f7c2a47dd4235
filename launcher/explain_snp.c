/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvm_explain_snp: the smallest change of an SNP policy that reproduces a report's MEASUREMENT,
 * searched over the dimensions of include/cvmkit/explain.h with the matrix machinery.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/explain.h>
#include <cvmkit/snp.h>
#include <cvmkit/util.h>

#include "launcher/explain_internal.h"

/* ---- guest-feature sets ------------------------------------------------------------------ */

static const struct {
	uint64_t value;
	const char *why;
} feature_sets[] = {
	{0x1, "SNPActive alone: QEMU and KVM_SEV_INIT2 without VMSA features (cvmkit's default)"},
	{0x21, "adds DebugSwap: what hosts on Linux 6.6-6.7 set for every SNP guest"},
	{0x201, "adds SecureTSC (QEMU secure-tsc=on)"},
	{0x221, "DebugSwap and SecureTSC"},
	{0x41, "adds PreventHostIBS"},
	{0x61, "DebugSwap and PreventHostIBS"},
	{0x81, "adds BTBIsolation"},
	{0x9, "adds RestrictedInjection (guests behind an SVSM)"},
};

#define NFEATURE_SETS (sizeof(feature_sets) / sizeof(feature_sets[0]))

const char *cvm_explain_feature_set(size_t i, uint64_t *value)
{
	if (i >= NFEATURE_SETS)
		return NULL;
	*value = feature_sets[i].value;
	return feature_sets[i].why;
}

void cvm_explain_feature_names(uint64_t v, char *buf, size_t n)
{
	static const char *const bits[17] = {
		"SNPActive", "vTOM", "ReflectVC", "RestrictedInjection", "AlternateInjection",
		"DebugSwap", "PreventHostIBS", "BTBIsolation", "VmplSSS", "SecureTSC",
		"VmgexitParameter", NULL, "IbsVirtualization", NULL, "VmsaRegProt",
		"SmtProtection", "SecureAVIC",
	};
	size_t used = 0;
	buf[0] = 0;
	for (unsigned b = 0; b < 64 && used + 1 < n; b++) {
		if (!(v & (1ull << b)))
			continue;
		int k = b < 17 && bits[b]
				? snprintf(buf + used, n - used, "%s%s", used ? "+" : "", bits[b])
				: snprintf(buf + used, n - used, "%sbit%u", used ? "+" : "", b);
		if (k < 0)
			break;
		used += (size_t)k < n - used ? (size_t)k : n - used - 1;
	}
}

/* "NAME: WHY", once each. */
static void note_skip(struct cvm_explain_result *out, const char *name, const char *why)
{
	char what[sizeof(out->skipped[0].what)];
	snprintf(what, sizeof(what), "%s: %s", name, why);
	for (size_t i = 0; i < out->nskipped; i++)
		if (strcmp(out->skipped[i].what, what) == 0)
			return;
	if (out->nskipped < CVM_EXPLAIN_MAX_SKIPPED)
		memcpy(out->skipped[out->nskipped++].what, what, sizeof(what));
}

/* ---- the dimensions ---------------------------------------------------------------------- */

#define NVMM 3

struct cpu_choice {
	const char *model;  /* NULL: the policy's own */
	uint32_t signature;
	char names[160];    /* the models with this signature */
};

struct snp_space {
	const struct cvm_policy *policy;
	const struct cvm_explain_opts *opts;
	/* firmware: 0 the policy's, i > 0 opts->firmware[i - 1] */
	size_t nfw;
	const struct cvm_firmware **fws;
	const char **fw_names;
	uint8_t (*fw_digest)[48];
	bool *fw_ok;
	enum cvm_vmm vmms[NVMM];
	size_t nfeat;
	uint64_t feats[NFEATURE_SETS + 1];
	size_t nhash;           /* 1, or 2 with a kernel: [policy's, off] */
	bool has_kernel;
	struct cvm_snp_boot_hashes hashes;
	bool policy_has_cpu;
	uint32_t policy_sig;
	size_t ncpu;
	struct cpu_choice cpus[32];
	uint32_t *counts;
	size_t ncounts;
	uint32_t policy_count;
};

static bool vmm_uses_signature(enum cvm_vmm v)
{
	return v == CVM_VMM_QEMU || v == CVM_VMM_CVMKIT;
}

static void add_model_name(struct cpu_choice *c, const char *name)
{
	size_t used = strlen(c->names);
	if (used + strlen(name) + 3 < sizeof(c->names))
		snprintf(c->names + used, sizeof(c->names) - used, "%s%s", used ? ", " : "", name);
}

/* The policy's CPU first, then one choice per other signature of the known models. */
static void cpu_choices(struct snp_space *s)
{
	const struct cvm_policy *p = s->policy;
	s->policy_has_cpu = p->cpus.has_signature || p->cpus.model;
	if (p->cpus.has_signature)
		s->policy_sig = p->cpus.signature;
	else if (p->cpus.model && cvm_snp_cpu_model_signature(p->cpus.model, &s->policy_sig))
		s->policy_has_cpu = false;
	s->ncpu = 0;
	if (s->policy_has_cpu) {
		struct cpu_choice *c = &s->cpus[s->ncpu++];
		c->model = NULL;
		c->signature = s->policy_sig;
		if (p->cpus.model)
			add_model_name(c, p->cpus.model);
	}
	for (size_t i = 0; cvm_snp_cpu_model_name(i); i++) {
		const char *name = cvm_snp_cpu_model_name(i);
		uint32_t sig;
		if (cvm_snp_cpu_model_signature(name, &sig))
			continue;
		size_t k = 0;
		while (k < s->ncpu && s->cpus[k].signature != sig)
			k++;
		if (k == s->ncpu) {
			if (s->ncpu == sizeof(s->cpus) / sizeof(s->cpus[0]))
				continue;
			s->cpus[k].model = name;
			s->cpus[k].signature = sig;
			s->cpus[k].names[0] = 0;
			s->ncpu++;
		}
		if (!(k == 0 && s->policy_has_cpu && p->cpus.model &&
		      strcasecmp(p->cpus.model, name) == 0))
			add_model_name(&s->cpus[k], name);
	}
}

static int space_init(struct snp_space *s, const struct cvm_policy *policy,
		      const struct cvm_firmware *fw, const struct cvm_explain_opts *opts,
		      struct cvm_explain_result *out, struct cvm_error *err)
{
	memset(s, 0, sizeof(*s));
	s->policy = policy;
	s->opts = opts;
	size_t ncand = opts ? opts->nfirmware : 0;
	s->fws = calloc(ncand + 1, sizeof(*s->fws));
	s->fw_names = calloc(ncand + 1, sizeof(*s->fw_names));
	s->fw_digest = calloc(ncand + 1, sizeof(*s->fw_digest));
	s->fw_ok = calloc(ncand + 1, sizeof(*s->fw_ok));
	s->policy_count = policy->cpus.count ? policy->cpus.count : 1;
	s->ncounts = CVM_EXPLAIN_MAX_VCPUS;
	if (s->policy_count > s->ncounts)
		s->ncounts++;
	s->counts = calloc(s->ncounts, sizeof(*s->counts));
	if (!s->fws || !s->fw_names || !s->fw_digest || !s->fw_ok || !s->counts)
		return cvm_error_set(err, -ENOMEM, "explain: out of memory");
	for (uint32_t i = 0; i < CVM_EXPLAIN_MAX_VCPUS; i++)
		s->counts[i] = i + 1;
	if (s->ncounts > CVM_EXPLAIN_MAX_VCPUS)
		s->counts[CVM_EXPLAIN_MAX_VCPUS] = s->policy_count;

	s->fws[0] = fw;
	s->fw_names[0] = policy->firmware.path ? policy->firmware.path : "the policy's firmware";
	s->nfw = 1;
	for (size_t i = 0; i < ncand; i++) {
		if (cvm_firmware_same_image(opts->firmware[i].fw, fw))
			continue; /* the policy's own firmware again */
		char why[160];
		if (!cvm_firmware_can_snp(opts->firmware[i].fw, why, sizeof(why))) {
			note_skip(out, opts->firmware[i].name, why);
			continue;
		}
		s->fws[s->nfw] = opts->firmware[i].fw;
		s->fw_names[s->nfw++] = opts->firmware[i].name;
	}

	enum cvm_vmm own = policy->vmm == CVM_VMM_CVMKIT ? CVM_VMM_QEMU : policy->vmm;
	static const enum cvm_vmm all[NVMM] = {CVM_VMM_QEMU, CVM_VMM_EC2, CVM_VMM_GCE};
	s->vmms[0] = policy->vmm;
	for (size_t i = 0, k = 1; i < NVMM; i++)
		if (all[i] != own)
			s->vmms[k++] = all[i];

	s->feats[s->nfeat++] = policy->snp.guest_features;
	for (size_t i = 0; i < NFEATURE_SETS; i++)
		if (feature_sets[i].value != policy->snp.guest_features)
			s->feats[s->nfeat++] = feature_sets[i].value;

	s->has_kernel = policy->boot.kernel != NULL;
	s->nhash = s->has_kernel ? 2 : 1;
	if (s->has_kernel) {
		bool present = false;
		int rc = cvm_snp_boot_hashes_compute(policy, &s->hashes, &present, err);
		if (rc)
			return cvm_error_wrap(err, "explain");
	}
	cpu_choices(s);
	return 0;
}

static void space_fini(struct snp_space *s)
{
	free(s->fws);
	free(s->fw_names);
	free(s->fw_digest);
	free(s->fw_ok);
	free(s->counts);
}

/* ---- the search -------------------------------------------------------------------------- */

struct combo {
	size_t fw, vmm, feat, hash;
};

static unsigned base_cost(const struct combo *c)
{
	return (c->fw != 0) + (c->vmm != 0) + (c->feat != 0) + (c->hash != 0);
}

struct best {
	bool found;
	unsigned cost;
	struct combo combo;
	size_t cpu;
	uint32_t vcpus;
	size_t ties;
};

/* The firmware pages' digest, once per firmware (the matrix then starts from it). */
static bool firmware_ready(struct snp_space *s, size_t i, struct cvm_explain_result *out)
{
	if (s->fw_ok[i])
		return true;
	if (i == 0 && s->policy->snp.has_firmware_digest) {
		memcpy(s->fw_digest[0], s->policy->snp.firmware_digest, 48);
		return s->fw_ok[0] = true;
	}
	struct cvm_error e;
	cvm_error_clear(&e);
	if (cvm_snp_firmware_digest_ex(s->fws[i], s->opts ? s->opts->pool : NULL, s->fw_digest[i],
				       &e)) {
		note_skip(out, s->fw_names[i], cvm_error_message(&e));
		return false;
	}
	return s->fw_ok[i] = true;
}

static int try_combo(struct snp_space *s, const struct combo *c, const uint8_t want[48],
		     struct best *best, struct cvm_explain_result *out, struct cvm_error *err)
{
	if (!firmware_ready(s, c->fw, out))
		return 0;
	struct cvm_policy p = *s->policy;
	p.vmm = s->vmms[c->vmm];
	p.snp.guest_features = s->feats[c->feat];
	p.snp.has_firmware_digest = true;
	memcpy(p.snp.firmware_digest, s->fw_digest[c->fw], 48);
	if (c->fw)
		p.firmware.has_sha256 = false; /* the pin is the policy's firmware's */
	bool hashed = s->has_kernel && c->hash == 0;
	p.boot.kernel = p.boot.initrd = p.boot.cmdline = NULL;

	/* the CPU matters only where the VMM puts its signature into the VMSA */
	bool sig = vmm_uses_signature(p.vmm);
	size_t ncpu = sig ? s->ncpu : 1;
	const char *models[32];
	for (size_t i = 0; i < ncpu; i++)
		models[i] = s->cpus[i].model;

	struct cvm_snp_matrix_row *rows = NULL;
	size_t nrows = 0;
	struct cvm_error e;
	cvm_error_clear(&e);
	int rc = cvm_snp_measure_matrix_hashed(&p, s->fws[c->fw], hashed ? &s->hashes : NULL,
					       s->counts, s->ncounts, models, ncpu, &rows, &nrows,
					       &e);
	if (rc == -ENOMEM)
		return cvm_error_set(err, rc, "explain: out of memory");
	if (rc) {
		if (base_cost(c) == 0)
			return cvm_error_set(err, rc, "explain: the policy's own measurement: %s",
					     cvm_error_message(&e));
		note_skip(out, s->fw_names[c->fw], cvm_error_message(&e));
		return 0;
	}
	out->searched += nrows;
	unsigned base = base_cost(c);
	for (size_t i = 0; i < ncpu; i++) {
		unsigned cpu_cost = s->policy_has_cpu ? i != 0 : sig;
		for (size_t k = 0; k < s->ncounts; k++) {
			const struct cvm_snp_matrix_row *r = &rows[i * s->ncounts + k];
			if (base == 0 && i == 0 && r->vcpus == s->policy_count) {
				memcpy(out->expected, r->digest, 48);
				out->expected_known = true;
			}
			if (memcmp(r->digest, want, 48) != 0)
				continue;
			unsigned cost = base + cpu_cost + (r->vcpus != s->policy_count);
			if (best->found && cost == best->cost) {
				best->ties++;
			} else if (!best->found || cost < best->cost) {
				*best = (struct best){true, cost, *c, i, r->vcpus, 0};
			}
		}
	}
	free(rows);
	return 0;
}

static void feature_text(uint64_t v, char *buf, size_t n)
{
	char names[96];
	cvm_explain_feature_names(v, names, sizeof(names));
	snprintf(buf, n, "0x%llx (%s)", (unsigned long long)v, names);
}

static void describe(const struct snp_space *s, const struct best *b,
		     struct cvm_explain_result *out)
{
	char from[400], to[400];
	const struct combo *c = &b->combo;
	if (c->fw)
		cvm_explain_add_change(out, "firmware", s->fw_names[0], s->fw_names[c->fw]);
	if (c->vmm)
		cvm_explain_add_change(out, "vmm", cvm_vmm_name(s->vmms[0]), cvm_vmm_name(s->vmms[c->vmm]));
	if (c->feat) {
		feature_text(s->feats[0], from, sizeof(from));
		feature_text(s->feats[c->feat], to, sizeof(to));
		for (size_t i = 0; i < NFEATURE_SETS; i++)
			if (feature_sets[i].value == s->feats[c->feat]) {
				size_t used = strlen(to);
				snprintf(to + used, sizeof(to) - used, ": %s", feature_sets[i].why);
			}
		cvm_explain_add_change(out, "snp.guest_features", from, to);
	}
	if (c->hash)
		cvm_explain_add_change(out, "kernel_hashes", "on (kernel, initrd and command line measured)",
			   "off (not measured: QEMU kernel-hashes=off, or the firmware booted "
			   "the kernel another way)");
	bool sig = vmm_uses_signature(s->vmms[c->vmm]);
	if (sig && (b->cpu != 0 || !s->policy_has_cpu)) {
		if (s->policy_has_cpu)
			snprintf(from, sizeof(from), "%s (signature 0x%08x)",
				 s->cpus[0].names[0] ? s->cpus[0].names : "cpus.signature",
				 s->cpus[0].signature);
		else
			snprintf(from, sizeof(from), "none given");
		snprintf(to, sizeof(to), "%s (signature 0x%08x)", s->cpus[b->cpu].names,
			 s->cpus[b->cpu].signature);
		cvm_explain_add_change(out, "cpus", from, to);
	}
	if (b->vcpus != s->policy_count) {
		snprintf(from, sizeof(from), "%u", s->policy_count);
		snprintf(to, sizeof(to), "%u", b->vcpus);
		cvm_explain_add_change(out, "vcpus", from, to);
	}
}

int cvm_explain_snp(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		    const uint8_t measurement[48], const struct cvm_explain_opts *opts,
		    struct cvm_explain_result *out, struct cvm_error *err)
{
	memset(out, 0, sizeof(*out));
	if (policy->tee != CVM_TEE_SNP)
		return cvm_error_set(err, -EINVAL, "explain: the policy is for %s, the report for "
						   "SEV-SNP", cvm_tee_name(policy->tee));
	struct snp_space s;
	int rc = space_init(&s, policy, fw, opts, out, err);
	struct best best = {0};
	size_t ncombos = s.nfw * NVMM * s.nfeat * s.nhash;
	/* visit by the number of inputs changed: the first level with a match is the answer */
	for (unsigned level = 0; !rc && level <= 4 && !(best.found && best.cost < level);
	     level++) {
		for (size_t i = 0; !rc && i < ncombos; i++) {
			struct combo c = {i / (NVMM * s.nfeat * s.nhash),
					  i / (s.nfeat * s.nhash) % NVMM, i / s.nhash % s.nfeat,
					  i % s.nhash};
			if (base_cost(&c) == level)
				rc = try_combo(&s, &c, measurement, &best, out, err);
		}
	}
	if (!rc) {
		uint64_t sig_cpus = s.ncpu, per_vmm = (uint64_t)s.ncounts;
		out->space = (uint64_t)s.nfw * s.nfeat * s.nhash * per_vmm * (sig_cpus + (NVMM - 1));
		snprintf(out->dimensions, sizeof(out->dimensions),
			 "vCPUs 1..%u x %zu CPU signatures (qemu; ec2 and gce ignore it) x %u VMM "
			 "profiles x %zu guest-feature sets x %zu kernel-hash setting%s x %zu "
			 "firmware%s",
			 CVM_EXPLAIN_MAX_VCPUS, s.ncpu, NVMM, s.nfeat, s.nhash,
			 s.nhash == 1 ? " (no kernel in the policy)" : "s", s.nfw,
			 s.nfw == 1 ? " (no other candidates)" : " images");
		out->found = best.found;
		if (best.found) {
			describe(&s, &best, out);
			out->alternatives = best.ties;
		}
	}
	space_fini(&s);
	return rc;
}
