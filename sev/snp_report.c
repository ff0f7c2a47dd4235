/* SPDX-License-Identifier: Apache-2.0 */
/* SEV-SNP ATTESTATION_REPORT parser (layout: spec/snp-report.md §1). */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <cvmkit/util.h>
#include <cvmkit/verify.h>

#define SNP_SIG_ALGO_ECDSA_P384_SHA384 1u

const char *cvm_amd_product_name(enum cvm_amd_product p)
{
	switch (p) {
	case CVM_AMD_MILAN:
		return "milan";
	case CVM_AMD_GENOA:
		return "genoa";
	case CVM_AMD_TURIN:
		return "turin";
	default:
		return "unknown";
	}
}

int cvm_amd_product_parse(const char *name, enum cvm_amd_product *out)
{
	static const enum cvm_amd_product all[] = {CVM_AMD_MILAN, CVM_AMD_GENOA, CVM_AMD_TURIN};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(all); i++) {
		if (strcasecmp(name, cvm_amd_product_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	}
	return -EINVAL;
}

void cvm_snp_tcb_decode(uint64_t raw, enum cvm_amd_product p, struct cvm_snp_tcb *out)
{
	uint8_t b[8];
	cvm_put_le64(b, raw);
	memset(out, 0, sizeof(*out));
	if (p == CVM_AMD_TURIN) {
		out->fmc = b[0];
		out->bootloader = b[1];
		out->tee = b[2];
		out->snp = b[3];
	} else {
		out->bootloader = b[0];
		out->tee = b[1];
		out->snp = b[6];
	}
	out->microcode = b[7];
}

static bool version_supported(uint32_t v)
{
	return v >= 2 && v <= 5;
}

int cvm_snp_report_parse(const uint8_t *data, size_t len, struct cvm_snp_report *out,
			 struct cvm_error *err)
{
	if (len != CVM_SNP_REPORT_SIZE)
		return cvm_error_set(err, -EINVAL, "SNP report is %zu bytes, expected %u (%s)", len,
				     CVM_SNP_REPORT_SIZE, len < CVM_SNP_REPORT_SIZE ? "truncated" : "padded");
	const uint8_t *p = data;
	uint32_t version = cvm_le32(p);
	if (!version_supported(version))
		return cvm_error_set(err, -EINVAL,
				     "SNP report version %u is not supported (known: 2, 3, 4, 5)", version);
	uint32_t algo = cvm_le32(p + 0x34);
	if (algo != SNP_SIG_ALGO_ECDSA_P384_SHA384)
		return cvm_error_set(err, -EINVAL,
				     "SNP report signature algorithm %u is unknown (1 = ECDSA P-384/SHA-384)",
				     algo);

	struct cvm_snp_report r;
	memset(&r, 0, sizeof(r));
	r.version = version;
	r.guest_svn = cvm_le32(p + 0x04);
	r.policy = cvm_le64(p + 0x08);
	memcpy(r.family_id, p + 0x10, 16);
	memcpy(r.image_id, p + 0x20, 16);
	r.vmpl = cvm_le32(p + 0x30);
	r.signature_algo = algo;
	r.current_tcb = cvm_le64(p + 0x38);
	r.platform_info = cvm_le64(p + 0x40);
	r.key_info = cvm_le32(p + 0x48);
	memcpy(r.report_data, p + 0x50, 64);
	memcpy(r.measurement, p + 0x90, 48);
	memcpy(r.host_data, p + 0xc0, 32);
	memcpy(r.id_key_digest, p + 0xe0, 48);
	memcpy(r.author_key_digest, p + 0x110, 48);
	memcpy(r.report_id, p + 0x140, 32);
	memcpy(r.report_id_ma, p + 0x160, 32);
	r.reported_tcb = cvm_le64(p + 0x180);
	if (version >= 3) {
		r.cpuid_fam_id = p[0x188];
		r.cpuid_mod_id = p[0x189];
		r.cpuid_step = p[0x18a];
	}
	memcpy(r.chip_id, p + 0x1a0, 64);
	r.committed_tcb = cvm_le64(p + 0x1e0);
	r.current_build = p[0x1e8];
	r.current_minor = p[0x1e9];
	r.current_major = p[0x1ea];
	r.committed_build = p[0x1ec];
	r.committed_minor = p[0x1ed];
	r.committed_major = p[0x1ee];
	r.launch_tcb = cvm_le64(p + 0x1f0);
	if (version >= 5) {
		r.launch_mit_vector = cvm_le64(p + 0x1f8);
		r.current_mit_vector = cvm_le64(p + 0x200);
	}
	memcpy(r.signature_r, p + 0x2a0, 72);
	memcpy(r.signature_s, p + 0x2e8, 72);
	memcpy(r.raw, p, CVM_SNP_REPORT_SIZE);
	*out = r;
	return 0;
}

enum cvm_amd_product cvm_snp_report_product(const struct cvm_snp_report *r)
{
	if (r->version < 3)
		return CVM_AMD_UNKNOWN;
	if (r->cpuid_fam_id == 0x19) {
		if (r->cpuid_mod_id <= 0x0f)
			return CVM_AMD_MILAN;
		if ((r->cpuid_mod_id >= 0x10 && r->cpuid_mod_id <= 0x1f) || r->cpuid_mod_id == 0xa0)
			return CVM_AMD_GENOA;
	}
	if (r->cpuid_fam_id == 0x1a && r->cpuid_mod_id <= 0x11)
		return CVM_AMD_TURIN;
	return CVM_AMD_UNKNOWN;
}

struct mbz_range {
	uint16_t off, end;
	uint8_t min_version; /* the range is reserved from this version on */
	uint8_t max_version; /* ... up to this one */
	const char *what;
};

/* Must-be-zero ranges per version (spec §1; the CPUID bytes and mitigation vectors vary). */
static const struct mbz_range mbz_ranges[] = {
	{0x04c, 0x050, 2, 5, "reserved 0x04c..0x050"},
	{0x188, 0x1a0, 2, 2, "reserved 0x188..0x1a0 (v2)"},
	{0x18b, 0x1a0, 3, 5, "reserved 0x18b..0x1a0"},
	{0x1eb, 0x1ec, 2, 5, "reserved 0x1eb"},
	{0x1ef, 0x1f0, 2, 5, "reserved 0x1ef"},
	{0x1f8, 0x2a0, 2, 4, "reserved 0x1f8..0x2a0"},
	{0x208, 0x2a0, 5, 5, "reserved 0x208..0x2a0"},
	{0x2d0, 0x2e8, 2, 5, "signature R padding 0x2d0..0x2e8"},
	{0x318, 0x330, 2, 5, "signature S padding 0x318..0x330"},
	{0x330, 0x4a0, 2, 5, "unsigned trailer 0x330..0x4a0"},
};

bool cvm_snp_report_reserved_nonzero(const struct cvm_snp_report *r, size_t *offset,
				     const char **what)
{
	if (r->key_info >> 5) {
		/* Point at the byte holding the first set must-be-zero bit (bits 7:5 sit in 0x48). */
		size_t o = 0x48;
		while (o < 0x4b && (r->raw[o] & (o == 0x48 ? 0xe0u : 0xffu)) == 0)
			o++;
		*offset = o;
		*what = "KEY_INFO bits 31:5";
		return true;
	}
	for (size_t i = 0; i < CVM_ARRAY_SIZE(mbz_ranges); i++) {
		const struct mbz_range *m = &mbz_ranges[i];
		if (r->version < m->min_version || r->version > m->max_version)
			continue;
		for (size_t o = m->off; o < m->end; o++) {
			if (r->raw[o] != 0) {
				*offset = o;
				*what = m->what;
				return true;
			}
		}
	}
	return false;
}
