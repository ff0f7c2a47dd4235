/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OVMF variable store (the CFV, or an OVMF_VARS.fd file): a firmware volume whose first
 * bytes after the FV header are a VARIABLE_STORE_HEADER, then variables one after another, each
 * 4-byte aligned.  Only what the RTMR0 events need is taken: the Secure Boot databases (PK, KEK,
 * db, dbx, dbt) and SecureBootEnable.  The bytes are untrusted: every length is checked against
 * the store before it is used.
 */
#include <cvmkit/tdx.h>

#include <errno.h>
#include <string.h>

#include <cvmkit/util.h>

#define FV_SIGNATURE_OFF 40
#define FV_HEADER_LEN_OFF 48
#define VAR_STORE_HEADER_SIZE 28
#define VAR_START_ID 0x55aa
#define VAR_ADDED 0x3f
#define VAR_IN_DELETED_TRANSITION 0xfe
#define AUTH_VAR_HEADER_SIZE 60
#define PLAIN_VAR_HEADER_SIZE 32
#define MAX_NAME_CHARS 128

/* gEfiAuthenticatedVariableGuid aaf32c78-947b-439a-a180-2e144ec37792 */
static const uint8_t auth_store_guid[16] = {0x78, 0x2c, 0xf3, 0xaa, 0x7b, 0x94, 0x9a, 0x43,
					    0xa1, 0x80, 0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92};
/* gEfiVariableGuid ddcf3616-3275-4164-98b6-fe85707ffe7d */
static const uint8_t plain_store_guid[16] = {0x16, 0x36, 0xcf, 0xdd, 0x75, 0x32, 0x64, 0x41,
					     0x98, 0xb6, 0xfe, 0x85, 0x70, 0x7f, 0xfe, 0x7d};
/* EFI_GLOBAL_VARIABLE 8be4df61-93ca-11d2-aa0d-00e098032b8c */
static const uint8_t global_guid[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
					0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};
/* EFI_IMAGE_SECURITY_DATABASE_GUID d719b2cb-3d3a-4596-a3bc-dad00e67656f */
static const uint8_t db_guid[16] = {0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45,
				    0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f};
/* EFI_SECURE_BOOT_ENABLE_DISABLE f0a30bc7-af08-4556-99c4-001009c93a44 */
static const uint8_t sb_enable_guid[16] = {0xc7, 0x0b, 0xa3, 0xf0, 0x08, 0xaf, 0x56, 0x45,
					   0x99, 0xc4, 0x00, 0x10, 0x09, 0xc9, 0x3a, 0x44};

/* name (UCS-2, with or without its NUL) equals the ASCII want */
static bool name_is(const uint8_t *name, size_t bytes, const char *want)
{
	size_t n = strlen(want);
	if (bytes != 2 * n && bytes != 2 * (n + 1))
		return false;
	for (size_t i = 0; i < n; i++)
		if (cvm_le16(name + 2 * i) != (uint8_t)want[i])
			return false;
	return bytes == 2 * n || cvm_le16(name + 2 * n) == 0;
}

static void take(struct cvm_tdx_varstore *vs, const uint8_t *guid, const uint8_t *name,
		 size_t name_bytes, const uint8_t *data, size_t len, bool deleting)
{
	static const struct {
		const uint8_t *guid;
		const char *name;
		size_t offset;
	} known[] = {
		{global_guid, "PK", offsetof(struct cvm_tdx_varstore, pk)},
		{global_guid, "KEK", offsetof(struct cvm_tdx_varstore, kek)},
		{db_guid, "db", offsetof(struct cvm_tdx_varstore, db)},
		{db_guid, "dbx", offsetof(struct cvm_tdx_varstore, dbx)},
		{db_guid, "dbt", offsetof(struct cvm_tdx_varstore, dbt)},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(known); i++) {
		if (memcmp(guid, known[i].guid, 16) || !name_is(name, name_bytes, known[i].name))
			continue;
		struct cvm_tdx_bytes *b = (struct cvm_tdx_bytes *)((char *)vs + known[i].offset);
		/* a copy in deletion transition counts only when no added copy exists */
		if (deleting && b->data)
			return;
		b->data = data;
		b->len = len;
		return;
	}
	if (!memcmp(guid, sb_enable_guid, 16) && name_is(name, name_bytes, "SecureBootEnable") &&
	    len == 1 && !(deleting && vs->has_secure_boot_enable)) {
		vs->has_secure_boot_enable = true;
		vs->secure_boot_enable = data[0];
	}
}

int cvm_tdx_varstore_parse(const uint8_t *data, size_t len, struct cvm_tdx_varstore *out,
			   struct cvm_error *err)
{
	struct cvm_tdx_varstore vs;
	memset(&vs, 0, sizeof(vs));
	if (len < 64 || memcmp(data + FV_SIGNATURE_OFF, "_FVH", 4) != 0)
		return cvm_error_set(err, -EINVAL, "variable store: no firmware volume header "
				     "(_FVH at byte 40); expected an OVMF_VARS.fd or the CFV of "
				     "a unified OVMF.fd");
	size_t hdr = cvm_le16(data + FV_HEADER_LEN_OFF);
	if (hdr < 56 || !cvm_range_ok(hdr, VAR_STORE_HEADER_SIZE, len))
		return cvm_error_set(err, -EINVAL, "variable store: FV header length %zu out of "
				     "range (file of %zu bytes)", hdr, len);
	const uint8_t *store = data + hdr;
	bool auth = memcmp(store, auth_store_guid, 16) == 0;
	if (!auth && memcmp(store, plain_store_guid, 16) != 0)
		return cvm_error_set(err, -EINVAL, "variable store: no variable store header "
				     "(neither the authenticated nor the plain variable GUID) at "
				     "byte %zu", hdr);
	uint32_t size = cvm_le32(store + 16);
	if (size < VAR_STORE_HEADER_SIZE || !cvm_range_ok(hdr, size, len))
		return cvm_error_set(err, -EINVAL, "variable store: its size 0x%x runs past the "
				     "end of the %zu bytes", size, len);
	size_t vh = auth ? AUTH_VAR_HEADER_SIZE : PLAIN_VAR_HEADER_SIZE;
	size_t off = VAR_STORE_HEADER_SIZE;
	while (off + vh <= size && cvm_le16(store + off) == VAR_START_ID) {
		const uint8_t *v = store + off;
		uint8_t state = v[2];
		size_t f = auth ? 36 : 8; /* NameSize, DataSize, VendorGuid */
		uint32_t name_size = cvm_le32(v + f), data_size = cvm_le32(v + f + 4);
		const uint8_t *guid = v + f + 8;
		if (name_size > 2 * (MAX_NAME_CHARS + 1) || name_size % 2 ||
		    !cvm_range_ok(off + vh, (uint64_t)name_size + data_size, size))
			return cvm_error_set(err, -EINVAL, "variable store: variable at byte %zu: "
					     "name of %u and data of %u bytes run past the store",
					     hdr + off, name_size, data_size);
		const uint8_t *name = v + vh;
		if (state == VAR_ADDED || state == (VAR_ADDED & VAR_IN_DELETED_TRANSITION)) {
			vs.nvars++;
			take(&vs, guid, name, name_size, name + name_size, data_size,
			     state != VAR_ADDED);
		}
		off = (off + vh + name_size + data_size + 3) & ~(size_t)3;
	}
	vs.authenticated = auth;
	*out = vs;
	return 0;
}
