/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RTMR precompute for OVMF direct boot (spec/tdx-measurement.md section 7): the events OVMF and
 * the Linux EFI stub extend into RTMR0..2, in order, so a verifier can replay the CC event log.
 */
#include <cvmkit/tdx.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <cvmkit/util.h>

/* EFI_GLOBAL_VARIABLE 8be4df61-93ca-11d2-aa0d-00e098032b8c, on-disk order */
static const struct cvm_guid efi_global_variable = {
	{0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11, 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b,
	 0x8c}};
/* EFI_IMAGE_SECURITY_DATABASE_GUID d719b2cb-3d3a-4596-a3bc-dad00e67656f */
static const struct cvm_guid efi_image_security_database = {
	{0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45, 0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65,
	 0x6f}};

/*
 * Boot0000 as OVMF creates it before edk2-stable202505: the UiApp load option.  Attributes 0x109
 * (ACTIVE | CATEGORY_APP), FilePathListLength 0x2c, description L"UiApp", then the device path
 * Fv(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(462caa21-7614-4503-836e-8ab6f4662331)/End.
 */
static const uint8_t boot0000_uiapp[] = {
	0x09, 0x01, 0x00, 0x00, 0x2c, 0x00, 'U', 0x00, 'i', 0x00, 'A', 0x00, 'p', 0x00, 'p',
	0x00, 0x00, 0x00, 0x04, 0x07, 0x14, 0x00, 0xc9, 0xbd, 0xb8, 0x7c, 0xeb, 0xf8, 0x34, 0x4f,
	0xaa, 0xea, 0x3e, 0xe4, 0xaf, 0x65, 0x16, 0xa1, 0x04, 0x06, 0x14, 0x00, 0x21, 0xaa, 0x2c,
	0x46, 0x14, 0x76, 0x03, 0x45, 0x83, 0x6e, 0x8a, 0xb6, 0xf4, 0x66, 0x23, 0x31, 0x7f, 0xff,
	0x04, 0x00,
};
static const uint8_t boot_order_0000[] = {0x00, 0x00};
static const uint8_t separator_data[4] = {0, 0, 0, 0};

#define ACTION_CALLING_BOOT_OPTION "Calling EFI Application from Boot Option"
#define ACTION_EXIT_BOOT_SERVICES "Exit Boot Services Invocation"
#define ACTION_EXIT_BOOT_SERVICES_OK "Exit Boot Services Returned with Success"
#define INITRD_TOKEN " initrd=initrd"

const char *cvm_tdx_fw_gen_name(enum cvm_tdx_fw_gen gen)
{
	switch (gen) {
	case CVM_TDX_FW_EDK2_PRE_202411:
		return "edk2 <= stable202408 (e.g. Debian 12 ovmf 2022.11): RTMR0 ends with a "
		       "second separator, no separator in RTMR1";
	case CVM_TDX_FW_EDK2_202411:
		return "edk2 stable202411..stable202502: one separator in RTMR0, one in RTMR1";
	case CVM_TDX_FW_EDK2_202505:
		return "edk2 >= stable202505: one separator in RTMR0, one in RTMR1; fw_cfg "
		       "BootMenu/bootorder and SMBIOS events in RTMR0; BootManagerMenuApp "
		       "Boot0000 and UiApp Boot0001";
	}
	return "unknown";
}

void cvm_tdx_sha384(const void *data, size_t len, uint8_t out[CVM_TDX_DIGEST_SIZE])
{
	unsigned int n = 0;
	/* EVP_Digest with SHA-384 fails only on allocation failure inside OpenSSL */
	if (EVP_Digest(data, len, out, &n, EVP_sha384(), NULL) != 1)
		memset(out, 0, CVM_TDX_DIGEST_SIZE);
}

void cvm_tdx_rtmr_extend(uint8_t rtmr[CVM_TDX_DIGEST_SIZE], const uint8_t digest[CVM_TDX_DIGEST_SIZE])
{
	uint8_t buf[2 * CVM_TDX_DIGEST_SIZE];
	memcpy(buf, rtmr, CVM_TDX_DIGEST_SIZE);
	memcpy(buf + CVM_TDX_DIGEST_SIZE, digest, CVM_TDX_DIGEST_SIZE);
	cvm_tdx_sha384(buf, sizeof(buf), rtmr);
}

void cvm_tdx_efi_variable_digest(const struct cvm_guid *vendor, const char *name,
				 const uint8_t *data, size_t len, uint8_t out[CVM_TDX_DIGEST_SIZE])
{
	uint8_t head[32];
	size_t nchars = strlen(name);
	memcpy(head, vendor->b, 16);
	cvm_put_le64(head + 16, nchars);
	cvm_put_le64(head + 24, len);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestInit_ex(md, EVP_sha384(), NULL) == 1 &&
		 EVP_DigestUpdate(md, head, sizeof(head)) == 1;
	/* UTF-16LE of the name, widened a chunk at a time */
	uint8_t name16[64];
	for (size_t i = 0; ok && i < nchars; i += sizeof(name16) / 2) {
		size_t k = nchars - i < sizeof(name16) / 2 ? nchars - i : sizeof(name16) / 2;
		for (size_t j = 0; j < k; j++)
			cvm_put_le16(name16 + 2 * j, (uint8_t)name[i + j]);
		ok = EVP_DigestUpdate(md, name16, 2 * k) == 1;
	}
	ok = ok && (len == 0 || EVP_DigestUpdate(md, data, len) == 1);
	unsigned int dlen = 0;
	ok = ok && EVP_DigestFinal_ex(md, out, &dlen) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		memset(out, 0, CVM_TDX_DIGEST_SIZE);
}

/* ---- PE/COFF Authenticode ------------------------------------------------------------------ */

#define PE_MAX_SECTIONS 1024u
#define PE_SECURITY_DIR 4u

struct pe_section_ref {
	uint32_t raw_off, raw_size;
};

/*
 * The two digests of one image in one pass: each Authenticode range goes to SHA-384 in pieces,
 * and before each piece SHA-256 (when asked for) catches up to the piece's end over the whole
 * image in order, so each byte is read from memory once while it is in cache.
 */
#define PASS_PIECE (256u << 10)

struct two_pass {
	const uint8_t *pe;
	EVP_MD_CTX *c384, *c256; /* c256 NULL: SHA-384 alone */
	uint64_t sha256_done;    /* bytes of pe in c256 so far */
};

static bool sha256_up_to(struct two_pass *t, uint64_t end)
{
	if (!t->c256 || end <= t->sha256_done)
		return true;
	bool ok = EVP_DigestUpdate(t->c256, t->pe + t->sha256_done, end - t->sha256_done) == 1;
	t->sha256_done = end;
	return ok;
}

static bool feed(struct two_pass *t, uint64_t off, uint64_t len)
{
	bool ok = true;
	for (uint64_t done = 0; ok && done < len;) {
		uint64_t n = len - done < PASS_PIECE ? len - done : PASS_PIECE;
		ok = sha256_up_to(t, off + done + n) &&
		     EVP_DigestUpdate(t->c384, t->pe + off + done, n) == 1;
		done += n;
	}
	return ok;
}

static int authenticode_pass(const uint8_t *pe, size_t len, uint8_t out[CVM_TDX_DIGEST_SIZE],
			     uint8_t *sha256_out, struct cvm_error *err)
{
	if (len < 0x40 || pe[0] != 'M' || pe[1] != 'Z')
		return cvm_error_set(err, -ENOEXEC, "not a PE/COFF image (no MZ header)");
	uint32_t nt = cvm_le32(pe + 0x3c);
	if (!cvm_range_ok(nt, 24, len) || memcmp(pe + nt, "PE\0\0", 4) != 0)
		return cvm_error_set(err, -ENOEXEC, "not a PE/COFF image (no PE signature)");
	uint16_t nsections = cvm_le16(pe + nt + 6);
	uint16_t opt_size = cvm_le16(pe + nt + 20);
	uint64_t opt = (uint64_t)nt + 24;
	if (!cvm_range_ok(opt, opt_size, len) || opt_size < 2)
		return cvm_error_set(err, -EINVAL, "PE: optional header runs past the end");
	uint16_t magic = cvm_le16(pe + opt);
	uint64_t nrva_off, dirs_off;
	if (magic == 0x10b) {
		nrva_off = 92;
		dirs_off = 96;
	} else if (magic == 0x20b) {
		nrva_off = 108;
		dirs_off = 112;
	} else {
		return cvm_error_set(err, -EINVAL, "PE: unknown optional header magic 0x%x", magic);
	}
	if (opt_size < dirs_off)
		return cvm_error_set(err, -EINVAL, "PE: optional header too short (%u bytes)",
				     opt_size);
	uint32_t size_of_headers = cvm_le32(pe + opt + 60);
	uint32_t nrva = cvm_le32(pe + opt + nrva_off);
	uint64_t checksum_off = opt + 64;
	bool has_sec_dir = nrva > PE_SECURITY_DIR;
	uint64_t sec_dir_off = opt + dirs_off + 8ull * PE_SECURITY_DIR;
	if (has_sec_dir && sec_dir_off + 8 > opt + opt_size)
		return cvm_error_set(err, -EINVAL, "PE: data directories run past the header");
	uint32_t cert_size = has_sec_dir ? cvm_le32(pe + sec_dir_off + 4) : 0;
	uint64_t hdr_end = has_sec_dir ? sec_dir_off + 8 : checksum_off + 4;
	if (size_of_headers > len || size_of_headers < hdr_end)
		return cvm_error_set(err, -EINVAL, "PE: SizeOfHeaders 0x%x out of range",
				     size_of_headers);
	uint64_t sect_tab = opt + opt_size;
	if (nsections > PE_MAX_SECTIONS || !cvm_range_ok(sect_tab, 40ull * nsections, len))
		return cvm_error_set(err, -EINVAL, "PE: section table of %u entries out of range",
				     nsections);

	struct pe_section_ref *secs = calloc(nsections ? nsections : 1, sizeof(*secs));
	if (!secs)
		return cvm_error_set(err, -ENOMEM, "PE: out of memory");
	size_t n = 0;
	for (size_t i = 0; i < nsections; i++) {
		const uint8_t *s = pe + sect_tab + 40 * i;
		struct pe_section_ref r = {cvm_le32(s + 20), cvm_le32(s + 16)};
		if (r.raw_size == 0)
			continue;
		if (!cvm_range_ok(r.raw_off, r.raw_size, len)) {
			free(secs);
			return cvm_error_set(err, -EINVAL,
					     "PE: section %zu raw data 0x%x+0x%x runs past the end", i,
					     r.raw_off, r.raw_size);
		}
		/* stable insertion by file offset, as edk2 orders them */
		size_t j = n++;
		while (j > 0 && secs[j - 1].raw_off > r.raw_off) {
			secs[j] = secs[j - 1];
			j--;
		}
		secs[j] = r;
	}

	struct two_pass t = {.pe = pe, .c384 = EVP_MD_CTX_new()};
	bool ok = t.c384 && EVP_DigestInit_ex(t.c384, EVP_sha384(), NULL) == 1;
	if (ok && sha256_out)
		ok = (t.c256 = EVP_MD_CTX_new()) && EVP_DigestInit_ex(t.c256, EVP_sha256(), NULL) == 1;
	/* headers without CheckSum and the certificate-table directory entry */
	ok = ok && feed(&t, 0, checksum_off);
	if (has_sec_dir) {
		ok = ok && feed(&t, checksum_off + 4, sec_dir_off - checksum_off - 4);
		ok = ok && feed(&t, sec_dir_off + 8, size_of_headers - hdr_end);
	} else {
		ok = ok && feed(&t, hdr_end, size_of_headers - hdr_end);
	}
	uint64_t hashed = size_of_headers;
	for (size_t i = 0; ok && i < n; i++) {
		ok = feed(&t, secs[i].raw_off, secs[i].raw_size);
		hashed += secs[i].raw_size;
	}
	free(secs);
	int rc = 0;
	if (ok && len > hashed) {
		if ((uint64_t)len - hashed > cert_size)
			ok = feed(&t, hashed, len - hashed - cert_size);
		else if ((uint64_t)len - hashed < cert_size)
			rc = cvm_error_set(err, -EINVAL,
					   "PE: certificate table of 0x%x bytes larger than the "
					   "trailing data",
					   cert_size);
	}
	ok = ok && !rc && sha256_up_to(&t, len) && EVP_DigestFinal_ex(t.c384, out, NULL) == 1 &&
	     (!t.c256 || EVP_DigestFinal_ex(t.c256, sha256_out, NULL) == 1);
	EVP_MD_CTX_free(t.c384);
	EVP_MD_CTX_free(t.c256);
	if (rc)
		return rc;
	return ok ? 0 : cvm_error_set(err, -EIO, "PE: SHA-384/SHA-256 failed (OpenSSL)");
}

int cvm_tdx_authenticode_sha384(const uint8_t *pe, size_t len, uint8_t out[CVM_TDX_DIGEST_SIZE],
				struct cvm_error *err)
{
	return authenticode_pass(pe, len, out, NULL, err);
}

int cvm_tdx_authenticode_sha384_sha256(const uint8_t *pe, size_t len,
				       uint8_t out[CVM_TDX_DIGEST_SIZE], uint8_t sha256[32],
				       struct cvm_error *err)
{
	return authenticode_pass(pe, len, out, sha256, err);
}

int cvm_tdx_cmdline_digest(const char *cmdline, bool has_initrd, uint8_t out[CVM_TDX_DIGEST_SIZE],
			   struct cvm_error *err)
{
	if (!cmdline)
		cmdline = "";
	size_t n = strlen(cmdline), tok = has_initrd ? strlen(INITRD_TOKEN) : 0;
	uint8_t *u16 = calloc(n + tok + 1, 2);
	if (!u16)
		return cvm_error_set(err, -ENOMEM, "command line: out of memory");
	/* OVMF widens the fw_cfg bytes one to one (AsciiStr -> CHAR16) */
	for (size_t i = 0; i < n; i++)
		cvm_put_le16(u16 + 2 * i, (uint8_t)cmdline[i]);
	for (size_t i = 0; i < tok; i++)
		cvm_put_le16(u16 + 2 * (n + i), (uint8_t)INITRD_TOKEN[i]);
	cvm_tdx_sha384(u16, 2 * (n + tok + 1), out);
	free(u16);
	return 0;
}

/* ---- the event sequences ------------------------------------------------------------------- */

struct rtmr_log {
	struct cvm_measurement *m;
	uint8_t value[4][CVM_TDX_DIGEST_SIZE];
};

static int log_event(struct rtmr_log *log, uint32_t rtmr, const char *type, const char *desc,
		     const uint8_t digest[CVM_TDX_DIGEST_SIZE], struct cvm_error *err)
{
	cvm_tdx_rtmr_extend(log->value[rtmr], digest);
	if (cvm_measurement_add_event(log->m, rtmr, type, desc, digest))
		return cvm_error_set(err, -ENOMEM, "RTMR%u event \"%s\": out of memory", rtmr, desc);
	return 0;
}

static int log_data(struct rtmr_log *log, uint32_t rtmr, const char *type, const char *desc,
		    const void *data, size_t len, struct cvm_error *err)
{
	uint8_t d[CVM_TDX_DIGEST_SIZE];
	cvm_tdx_sha384(data, len, d);
	return log_event(log, rtmr, type, desc, d, err);
}

/* An EV_EFI_VARIABLE_DRIVER_CONFIG event: the whole UEFI_VARIABLE_DATA is hashed. */
static int log_variable(struct rtmr_log *log, const struct cvm_guid *vendor, const char *name,
			const struct cvm_tdx_bytes *value, struct cvm_error *err)
{
	uint8_t d[CVM_TDX_DIGEST_SIZE];
	char desc[64];
	const uint8_t *data = value ? value->data : NULL;
	size_t len = data ? value->len : 0;
	cvm_tdx_efi_variable_digest(vendor, name, data, len, d);
	if (!data)
		snprintf(desc, sizeof(desc), "%s (empty)", name);
	else
		snprintf(desc, sizeof(desc), "%s (%zu bytes)", name, len);
	return log_event(log, 0, "EV_EFI_VARIABLE_DRIVER_CONFIG", desc, d, err);
}

static int set_note(struct cvm_measurement *m, unsigned idx, const char *note,
		    struct cvm_error *err)
{
	if (cvm_measurement_set_rtmr_note(m, idx, note))
		return cvm_error_set(err, -ENOMEM, "RTMR%u note: out of memory", idx);
	return 0;
}

int cvm_tdx_load_option_encode(uint32_t attributes, const char *description,
			       const uint8_t *device_path, size_t device_path_len,
			       const uint8_t *optional_data, size_t optional_data_len,
			       uint8_t **out, size_t *out_len, struct cvm_error *err)
{
	if (device_path_len > UINT16_MAX)
		return cvm_error_set(err, -EINVAL, "load option: device path of %zu bytes (at "
				     "most 65535)", device_path_len);
	if (!description)
		description = "";
	size_t nd = strlen(description);
	if (nd > 4096 || optional_data_len > (1u << 20))
		return cvm_error_set(err, -EINVAL, "load option: description or optional data "
				     "too long");
	size_t len = 6 + 2 * (nd + 1) + device_path_len + optional_data_len;
	uint8_t *b = malloc(len);
	if (!b)
		return cvm_error_set(err, -ENOMEM, "load option: out of memory");
	cvm_put_le32(b, attributes);
	cvm_put_le16(b + 4, (uint16_t)device_path_len);
	size_t o = 6;
	for (size_t i = 0; i <= nd; i++, o += 2)
		cvm_put_le16(b + o, (uint8_t)description[i]);
	if (device_path_len)
		memcpy(b + o, device_path, device_path_len);
	o += device_path_len;
	if (optional_data_len)
		memcpy(b + o, optional_data, optional_data_len);
	*out = b;
	*out_len = len;
	return 0;
}

/*
 * Boot0000 and Boot0001 as OVMF >= edk2-stable202505 creates them: BootManagerMenuApp (the boot
 * manager menu, attributes 0x109, its UI section name as description) and UiApp registered as
 * "EFI Firmware Setup" (0x101), both FvFile nodes in DXEFV 7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1.
 * Taken from edk2's sources (BmRegisterBootManagerMenu, PlatformRegisterFvBootOption); no real
 * log of this layout was available to confirm the bytes.
 */
static const uint8_t dxefv_bootmgr_path[] = {
	0x04, 0x07, 0x14, 0x00, 0xc9, 0xbd, 0xb8, 0x7c, 0xeb, 0xf8, 0x34, 0x4f, 0xaa, 0xea,
	0x3e, 0xe4, 0xaf, 0x65, 0x16, 0xa1, 0x04, 0x06, 0x14, 0x00, 0xdc, 0x5b, 0xc2, 0xee,
	0xf2, 0x67, 0x95, 0x4d, 0xb1, 0xd5, 0xf8, 0x1b, 0x20, 0x39, 0xd1, 0x1d, 0x7f, 0xff,
	0x04, 0x00,
};
static const uint8_t dxefv_uiapp_path[] = {
	0x04, 0x07, 0x14, 0x00, 0xc9, 0xbd, 0xb8, 0x7c, 0xeb, 0xf8, 0x34, 0x4f, 0xaa, 0xea,
	0x3e, 0xe4, 0xaf, 0x65, 0x16, 0xa1, 0x04, 0x06, 0x14, 0x00, 0x21, 0xaa, 0x2c, 0x46,
	0x14, 0x76, 0x03, 0x45, 0x83, 0x6e, 0x8a, 0xb6, 0xf4, 0x66, 0x23, 0x31, 0x7f, 0xff,
	0x04, 0x00,
};

static int log_boot_option(struct rtmr_log *log, uint16_t number, const char *what,
			   const uint8_t *data, size_t len, struct cvm_error *err)
{
	char desc[96];
	snprintf(desc, sizeof(desc), "Boot%04X (%.64s)", number, what ? what : "load option");
	return log_data(log, 0, "EV_EFI_VARIABLE_BOOT", desc, data, len, err);
}

/* BootOrder and the Boot#### variables it lists, in its order. */
static int boot_variables(const struct cvm_tdx_rtmr_inputs *in, struct rtmr_log *log,
			  struct cvm_error *err)
{
	int rc;
	if (!in->boot_order) {
		if (in->fw_gen != CVM_TDX_FW_EDK2_202505) {
			rc = log_data(log, 0, "EV_EFI_VARIABLE_BOOT", "BootOrder (0000)",
				      boot_order_0000, sizeof(boot_order_0000), err);
			return rc ? rc : log_data(log, 0, "EV_EFI_VARIABLE_BOOT",
						  "Boot0000 (UiApp)", boot0000_uiapp,
						  sizeof(boot0000_uiapp), err);
		}
		static const uint8_t order[] = {0x00, 0x00, 0x01, 0x00};
		uint8_t *opt = NULL;
		size_t n = 0;
		rc = log_data(log, 0, "EV_EFI_VARIABLE_BOOT", "BootOrder (0000,0001)", order,
			      sizeof(order), err);
		if (!rc)
			rc = cvm_tdx_load_option_encode(0x109, "BootManagerMenuApp",
							dxefv_bootmgr_path,
							sizeof(dxefv_bootmgr_path), NULL, 0, &opt,
							&n, err);
		if (!rc)
			rc = log_boot_option(log, 0, "BootManagerMenuApp", opt, n, err);
		free(opt);
		opt = NULL;
		if (!rc)
			rc = cvm_tdx_load_option_encode(0x101, "EFI Firmware Setup",
							dxefv_uiapp_path, sizeof(dxefv_uiapp_path),
							NULL, 0, &opt, &n, err);
		if (!rc)
			rc = log_boot_option(log, 1, "EFI Firmware Setup (UiApp)", opt, n, err);
		free(opt);
		return rc;
	}
	if (in->nboot_order > 256)
		return cvm_error_set(err, -EINVAL, "BootOrder: %zu entries (at most 256)",
				     in->nboot_order);
	uint8_t order[512];
	char desc[64] = "BootOrder (";
	for (size_t i = 0; i < in->nboot_order; i++) {
		cvm_put_le16(order + 2 * i, in->boot_order[i]);
		size_t used = strlen(desc);
		if (used + 8 < sizeof(desc))
			snprintf(desc + used, sizeof(desc) - used, "%s%04X", i ? "," : "",
				 in->boot_order[i]);
	}
	size_t used = strlen(desc);
	snprintf(desc + used, sizeof(desc) - used, ")");
	rc = log_data(log, 0, "EV_EFI_VARIABLE_BOOT", desc, order, 2 * in->nboot_order, err);
	for (size_t i = 0; !rc && i < in->nboot_order; i++) {
		/* edk2 skips a number whose Boot#### does not exist */
		for (size_t j = 0; j < in->nboot_options; j++) {
			const struct cvm_tdx_boot_option *o = &in->boot_options[j];
			if (o->number != in->boot_order[i])
				continue;
			rc = log_boot_option(log, o->number, o->description, o->data, o->len, err);
			break;
		}
	}
	return rc;
}

static const char *const acpi_names[3] = {"etc/table-loader", "etc/acpi/rsdp",
					  "etc/acpi/tables"};
static const char *const acpi_keys[3] = {"tdx.acpi.table_loader", "tdx.acpi.rsdp",
					 "tdx.acpi.tables"};

static bool acpi_known(const struct cvm_tdx_rtmr_inputs *in, size_t i)
{
	const uint8_t *blob[3] = {in->acpi_table_loader, in->acpi_rsdp, in->acpi_tables};
	return blob[i] || in->acpi_sha384[i];
}

static int log_acpi(const struct cvm_tdx_rtmr_inputs *in, struct rtmr_log *log, size_t i,
		    struct cvm_error *err)
{
	const uint8_t *blob[3] = {in->acpi_table_loader, in->acpi_rsdp, in->acpi_tables};
	const size_t len[3] = {in->acpi_table_loader_len, in->acpi_rsdp_len, in->acpi_tables_len};
	if (blob[i])
		return log_data(log, 0, "EV_PLATFORM_CONFIG_FLAGS", acpi_names[i], blob[i], len[i],
				err);
	return log_event(log, 0, "EV_PLATFORM_CONFIG_FLAGS", acpi_names[i], in->acpi_sha384[i],
			 err);
}

/* The inputs RTMR0 lacks, as policy keys; returns how many. */
static size_t rtmr0_missing(const struct cvm_tdx_rtmr_inputs *in, const char *out[6])
{
	size_t n = 0;
	if (!in->td_hob)
		out[n++] = "the TD HOB (firmware without a TD_HOB section)";
	if (!in->cfv && !in->cfv_sha384)
		out[n++] = "tdx.cfv_sha384";
	for (size_t i = 0; i < 3; i++)
		if (!acpi_known(in, i))
			out[n++] = acpi_keys[i];
	if (in->fw_gen == CVM_TDX_FW_EDK2_202505 && !in->smbios_sha384)
		out[n++] = "tdx.smbios_sha384";
	return n;
}

/* edk2 >= 202505: the fw_cfg items PlatformPei measures, "QEMU FW CFG" + the item's name. */
static int fw_cfg_events(const struct cvm_tdx_rtmr_inputs *in, struct rtmr_log *log,
			 struct cvm_error *err)
{
	static const uint8_t boot_menu_off[2] = {0, 0};
	static const struct cvm_tdx_fw_cfg_item def = {"BootMenu", boot_menu_off, 2};
	const struct cvm_tdx_fw_cfg_item *items = in->has_fw_cfg ? in->fw_cfg : &def;
	size_t n = in->has_fw_cfg ? in->nfw_cfg : 1;
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		char desc[96];
		snprintf(desc, sizeof(desc), "QEMU FW CFG %.64s", items[i].name);
		rc = log_data(log, 0, "EV_PLATFORM_CONFIG_FLAGS", desc, items[i].data, items[i].len,
			      err);
	}
	return rc;
}

static int rtmr0_events(const struct cvm_tdx_rtmr_inputs *in, struct rtmr_log *log,
			struct cvm_error *err)
{
	int rc = 0;
	if (in->td_hob) {
		uint8_t d[CVM_TDX_DIGEST_SIZE];
		cvm_tdx_hob_digest(in->td_hob, in->td_hob_len, d);
		rc = log_event(log, 0, "EV_EFI_HANDOFF_TABLES2", "TD HOB (TdxTable)", d, err);
	}
	if (!rc && in->cfv_sha384)
		rc = log_event(log, 0, "EV_EFI_PLATFORM_FIRMWARE_BLOB2",
			       "CFV (UEFI variable store, digest from the policy)", in->cfv_sha384,
			       err);
	else if (!rc && in->cfv)
		rc = log_data(log, 0, "EV_EFI_PLATFORM_FIRMWARE_BLOB2",
			      "CFV (UEFI variable store in the image)", in->cfv, in->cfv_len, err);
	if (!rc && in->fw_gen == CVM_TDX_FW_EDK2_202505)
		rc = fw_cfg_events(in, log, err);
	if (!rc) {
		static const uint8_t sb_off = 0, sb_on = 1;
		struct cvm_tdx_bytes sb = {NULL, 0};
		if (in->secure_boot == CVM_TDX_SB_DISABLED)
			sb = (struct cvm_tdx_bytes){&sb_off, 1};
		else if (in->secure_boot == CVM_TDX_SB_ENABLED)
			sb = (struct cvm_tdx_bytes){&sb_on, 1};
		rc = log_variable(log, &efi_global_variable, "SecureBoot", &sb, err);
	}
	if (!rc)
		rc = log_variable(log, &efi_global_variable, "PK", &in->pk, err);
	if (!rc)
		rc = log_variable(log, &efi_global_variable, "KEK", &in->kek, err);
	if (!rc)
		rc = log_variable(log, &efi_image_security_database, "db", &in->db, err);
	if (!rc)
		rc = log_variable(log, &efi_image_security_database, "dbx", &in->dbx, err);
	if (!rc && in->dbt.data)
		rc = log_variable(log, &efi_image_security_database, "dbt", &in->dbt, err);
	if (!rc)
		rc = log_data(log, 0, "EV_SEPARATOR", "separator", separator_data,
			      sizeof(separator_data), err);
	for (size_t i = 0; !rc && i < 3; i++)
		if (acpi_known(in, i))
			rc = log_acpi(in, log, i, err);
	if (!rc && in->fw_gen == CVM_TDX_FW_EDK2_202505 && in->smbios_sha384)
		rc = log_event(log, 0, "EV_EFI_HANDOFF_TABLES", "SMBIOS tables (SmbiosTable)",
			       in->smbios_sha384, err);
	if (!rc)
		rc = boot_variables(in, log, err);
	if (!rc && in->fw_gen == CVM_TDX_FW_EDK2_PRE_202411)
		rc = log_data(log, 0, "EV_SEPARATOR", "separator", separator_data,
			      sizeof(separator_data), err);
	return rc;
}

/* What a generation's layout rests on, when no real event log confirmed it ("" otherwise). */
static const char *gen_unconfirmed(enum cvm_tdx_fw_gen gen)
{
	switch (gen) {
	case CVM_TDX_FW_EDK2_PRE_202411:
		break;
	case CVM_TDX_FW_EDK2_202411:
		return "; the 202411..202502 layout (the ReadyToBoot separator in RTMR1) follows "
		       "edk2 commit efaf8931 and is not confirmed by a real event log";
	case CVM_TDX_FW_EDK2_202505:
		return "; the >=202505 layout (fw_cfg events after the CFV, SMBIOS before the "
		       "boot variables, BootManagerMenuApp Boot0000 + UiApp Boot0001) is taken "
		       "from edk2's sources and not confirmed by a real event log";
	}
	return "";
}

static int rtmr0_note(const struct cvm_tdx_rtmr_inputs *in, struct cvm_measurement *m,
		      const char *missing[6], size_t nmissing, struct cvm_error *err)
{
	char note[768];
	const char *unconfirmed = gen_unconfirmed(in->fw_gen);
	if (nmissing == 0) {
		snprintf(note, sizeof(note), "firmware event sequence assumed: %s%s",
			 cvm_tdx_fw_gen_name(in->fw_gen), unconfirmed);
		return set_note(m, 0, note, err);
	}
	for (size_t i = 0; i < nmissing; i++)
		if (cvm_measurement_add_rtmr_missing(m, 0, missing[i]))
			return cvm_error_set(err, -ENOMEM, "RTMR0 missing list: out of memory");
	bool no_acpi = !acpi_known(in, 0) && !acpi_known(in, 1) && !acpi_known(in, 2);
	snprintf(note, sizeof(note),
		 "not computed: %s; the events listed are the known ones; TD HOB as QEMU q35 "
		 "builds it; firmware event sequence assumed: %s%s",
		 no_acpi ? "needs ACPI tables from the VMM (fw_cfg etc/table-loader, "
			   "etc/acpi/rsdp, etc/acpi/tables, policy tdx.acpi; they depend on the "
			   "VMM version, machine, vCPUs, RAM and devices), the three "
			   "EV_PLATFORM_CONFIG_FLAGS events after the first separator are missing"
			 : "inputs missing (see rtmr0_missing)",
		 cvm_tdx_fw_gen_name(in->fw_gen), unconfirmed);
	return set_note(m, 0, note, err);
}

static int rtmr1_events(const struct cvm_tdx_rtmr_inputs *in, struct rtmr_log *log,
			const uint8_t kernel_hash[CVM_TDX_DIGEST_SIZE], struct cvm_error *err)
{
	int rc = log_event(log, 1, "EV_EFI_BOOT_SERVICES_APPLICATION",
			   "kernel (PE/COFF Authenticode SHA-384)", kernel_hash, err);
	if (!rc)
		rc = log_data(log, 1, "EV_EFI_ACTION", ACTION_CALLING_BOOT_OPTION,
			      ACTION_CALLING_BOOT_OPTION, strlen(ACTION_CALLING_BOOT_OPTION), err);
	if (!rc && in->fw_gen != CVM_TDX_FW_EDK2_PRE_202411)
		rc = log_data(log, 1, "EV_SEPARATOR", "separator", separator_data,
			      sizeof(separator_data), err);
	if (!rc)
		rc = log_data(log, 1, "EV_EFI_ACTION", ACTION_EXIT_BOOT_SERVICES,
			      ACTION_EXIT_BOOT_SERVICES, strlen(ACTION_EXIT_BOOT_SERVICES), err);
	if (!rc)
		rc = log_data(log, 1, "EV_EFI_ACTION", ACTION_EXIT_BOOT_SERVICES_OK,
			      ACTION_EXIT_BOOT_SERVICES_OK, strlen(ACTION_EXIT_BOOT_SERVICES_OK),
			      err);
	return rc;
}

static int rtmr2_events(const struct cvm_tdx_rtmr_inputs *in, struct rtmr_log *log,
			struct cvm_error *err)
{
	uint8_t d[CVM_TDX_DIGEST_SIZE];
	bool initrd = in->initrd || in->initrd_sha384;
	int rc = cvm_tdx_cmdline_digest(in->cmdline, initrd, d, err);
	if (!rc)
		rc = log_event(log, 2, "EV_EVENT_TAG",
			       initrd ? "kernel command line (LoadOptions, + \" initrd=initrd\")"
				      : "kernel command line (LoadOptions)",
			       d, err);
	if (!rc && in->initrd_sha384)
		rc = log_event(log, 2, "EV_EVENT_TAG", "initrd", in->initrd_sha384, err);
	else if (!rc && in->initrd)
		rc = log_data(log, 2, "EV_EVENT_TAG", "initrd", in->initrd, in->initrd_len, err);
	return rc;
}

static int kernel_rtmrs(const struct cvm_tdx_rtmr_inputs *in, struct rtmr_log *log,
			struct cvm_error *err)
{
	struct cvm_measurement *m = log->m;
	char note[768];
	if (!in->kernel) {
		int rc = set_note(m, 1,
				  "not computed: no kernel in the policy (direct boot only; the "
				  "events of a disk boot come from the boot loader chain)",
				  err);
		return rc ? rc : set_note(m, 2,
					  "not computed: no kernel in the policy (RTMR2 holds the "
					  "command line and initrd of a direct boot)",
					  err);
	}
	uint8_t kernel_hash[CVM_TDX_DIGEST_SIZE];
	struct cvm_error pe_err;
	cvm_error_clear(&pe_err);
	int rc = 0;
	if (in->kernel_authenticode)
		memcpy(kernel_hash, in->kernel_authenticode, CVM_TDX_DIGEST_SIZE);
	else
		rc = cvm_tdx_authenticode_sha384(in->kernel, in->kernel_len, kernel_hash, &pe_err);
	if (rc == -ENOEXEC || rc == -EINVAL) {
		snprintf(note, sizeof(note),
			 "not computed: the kernel is not a usable PE/COFF (EFI stub) image (%s); "
			 "OVMF measures a bzImage with an EFI stub by its Authenticode hash",
			 cvm_error_message(&pe_err));
		rc = set_note(m, 1, note, err);
		return rc ? rc : set_note(m, 2, "not computed: the kernel has no EFI stub, so "
					        "nothing measures the command line and initrd", err);
	}
	if (rc)
		return cvm_error_set(err, rc, "kernel: %s", cvm_error_message(&pe_err));
	if ((rc = rtmr1_events(in, log, kernel_hash, err)))
		return rc;
	m->rtmr_known[1] = true;
	memcpy(m->rtmr[1], log->value[1], CVM_TDX_DIGEST_SIZE);
	snprintf(note, sizeof(note),
		 "firmware event sequence assumed: %s; kernel hashed as given (the VMM must not "
		 "patch its setup header: QEMU >= 10.2 for TDX, or the cvmkit launcher)%s",
		 cvm_tdx_fw_gen_name(in->fw_gen),
		 in->fw_gen == CVM_TDX_FW_EDK2_PRE_202411
			 ? ""
			 : "; the ReadyToBoot separator in RTMR1 follows edk2 commit efaf8931 and is "
			   "not confirmed by a real event log");
	if ((rc = set_note(m, 1, note, err)))
		return rc;

	if ((rc = rtmr2_events(in, log, err)))
		return rc;
	m->rtmr_known[2] = true;
	memcpy(m->rtmr[2], log->value[2], CVM_TDX_DIGEST_SIZE);
	return set_note(m, 2,
			"Linux EFI stub with CC measurement (Linux >= 6.9; older kernels leave RTMR2 "
			"at 0); OVMF's X86QemuLoadImageLib appends \" initrd=initrd\" to LoadOptions "
			"when an initrd is passed",
			err);
}

int cvm_tdx_rtmr_compute(const struct cvm_tdx_rtmr_inputs *in, struct cvm_measurement *m,
			 struct cvm_error *err)
{
	struct rtmr_log log = {.m = m};
	const char *missing[6];
	size_t nmissing = rtmr0_missing(in, missing);
	int rc = rtmr0_events(in, &log, err);
	if (!rc && nmissing == 0) {
		m->rtmr_known[0] = true;
		memcpy(m->rtmr[0], log.value[0], CVM_TDX_DIGEST_SIZE);
	}
	if (!rc)
		rc = rtmr0_note(in, m, missing, nmissing, err);
	if (!rc)
		rc = kernel_rtmrs(in, &log, err);
	if (!rc) {
		m->rtmr_known[3] = true;
		memset(m->rtmr[3], 0, CVM_TDX_DIGEST_SIZE);
		rc = set_note(m, 3, "0 at boot (runtime use only; not in the CC event log)", err);
	}
	return rc;
}
