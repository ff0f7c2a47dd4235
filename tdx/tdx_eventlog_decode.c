/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding of CC event log event data for people: the structures of the TCG PC Client Platform
 * Firmware Profile (UEFI_VARIABLE_DATA, UEFI_IMAGE_LOAD_EVENT, UEFI_PLATFORM_FIRMWARE_BLOB(2),
 * UEFI_HANDOFF_TABLE_POINTERS(2), TCG_PCClientTaggedEvent, UEFI_GPT_DATA), UEFI device paths in
 * the UEFI text form where it is simple, and td-shim's configuration events.  Everything reads
 * ev->data through bounds-checked helpers; what does not fit becomes CVM_EVD_MALFORMED.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/eventlog.h>
#include <cvmkit/util.h>

#include "tdx/eventlog_internal.h"

/* EFI_GLOBAL_VARIABLE 8be4df61-93ca-11d2-aa0d-00e098032b8c, on-disk byte order. */
static const struct cvm_guid efi_global_variable = {{0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2,
						      0x11, 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03,
						      0x2b, 0x8c}};

#define VARIABLE_HEADER 32    /* GUID, u64 name length, u64 data length */
#define IMAGE_LOAD_HEADER 32  /* base, length, link address, device path length */
#define HANDOFF_ENTRY 24      /* EFI_CONFIGURATION_TABLE: GUID, u64 pointer */
#define GPT_HEADER 92         /* EFI_PARTITION_TABLE_HEADER as measured */
#define TDSHIM_NAME 16        /* td-shim's NUL-padded event name */

/* ---- arena ------------------------------------------------------------------------------- */

int cvm_el_arena_adopt(struct cvm_eventlog_arena *a, void *p)
{
	if (!p)
		return -ENOMEM;
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		void **np = realloc(a->ptrs, cap * sizeof(*np));
		if (!np) {
			free(p);
			return -ENOMEM;
		}
		a->ptrs = np;
		a->cap = cap;
	}
	a->ptrs[a->n++] = p;
	return 0;
}

void cvm_el_arena_release(struct cvm_eventlog_arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->ptrs[i]);
	free(a->ptrs);
	a->ptrs = NULL;
	a->n = a->cap = 0;
}

/* ---- a growing string --------------------------------------------------------------------- */

struct sb {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_reserve(struct sb *s, size_t more)
{
	if (s->oom || s->len + more + 1 <= s->cap)
		return;
	size_t cap = s->cap ? s->cap : 64;
	while (cap < s->len + more + 1)
		cap *= 2;
	char *np = realloc(s->p, cap);
	if (!np) {
		s->oom = true;
		return;
	}
	s->p = np;
	s->cap = cap;
}

static void sb_putn(struct sb *s, const char *t, size_t n)
{
	sb_reserve(s, n);
	if (s->oom)
		return;
	memcpy(s->p + s->len, t, n);
	s->len += n;
	s->p[s->len] = '\0';
}

static void sb_puts(struct sb *s, const char *t)
{
	sb_putn(s, t, strlen(t));
}

static void sb_printf(struct sb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sb *s, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_putn(s, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void sb_hex(struct sb *s, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	sb_reserve(s, 2 * n);
	if (s->oom)
		return;
	for (size_t i = 0; i < n; i++) {
		s->p[s->len++] = digits[p[i] >> 4];
		s->p[s->len++] = digits[p[i] & 15];
	}
	s->p[s->len] = '\0';
}

static void sb_guid(struct sb *s, const uint8_t *p)
{
	struct cvm_guid g;
	char text[37];
	memcpy(g.b, p, sizeof(g.b));
	cvm_guid_format(&g, text);
	sb_puts(s, text);
}

static void sb_codepoint(struct sb *s, uint32_t cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	sb_putn(s, u, n);
}

/* nunits UTF-16LE code units at p as UTF-8; an unpaired surrogate becomes U+FFFD. */
static void sb_utf16(struct sb *s, const uint8_t *p, size_t nunits)
{
	for (size_t i = 0; i < nunits; i++) {
		uint32_t u = cvm_le16(p + 2 * i);
		if (u >= 0xd800 && u < 0xdc00 && i + 1 < nunits) {
			uint32_t lo = cvm_le16(p + 2 * (i + 1));
			if (lo >= 0xdc00 && lo < 0xe000) {
				sb_codepoint(s, 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
				i++;
				continue;
			}
		}
		sb_codepoint(s, u >= 0xd800 && u < 0xe000 ? 0xfffd : u);
	}
}

/* The string (NULL when out of memory), now owned by the arena. */
static const char *sb_finish(struct sb *s, struct cvm_eventlog_arena *a)
{
	if (!s->oom && !s->p)
		sb_putn(s, "", 0);
	if (s->oom) {
		free(s->p);
		s->p = NULL;
		return NULL;
	}
	char *p = s->p;
	s->p = NULL;
	return cvm_el_arena_adopt(a, p) ? NULL : p;
}

/* ---- text recognition -------------------------------------------------------------------- */

/* Printable UTF-8 (tab, newline and carriage return allowed), no NUL. */
static bool is_text(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') || p[i] == 0x7f)
			return false;
	return cvm_utf8_valid(p, n);
}

/* The bytes before the first NUL (all of them without one). */
static size_t until_nul(const uint8_t *p, size_t n)
{
	const uint8_t *z = memchr(p, 0, n);
	return z ? (size_t)(z - p) : n;
}

/*
 * UTF-16LE text up to the first NUL unit, as firmware writes it (S-CRTM versions, some IPL
 * strings): Latin-1 printable units only, so that binary data is not taken for text.
 */
static bool utf16_text(const uint8_t *p, size_t n, size_t *units)
{
	if (n < 2 || n % 2)
		return false;
	size_t i = 0;
	for (; i < n / 2; i++) {
		uint16_t u = cvm_le16(p + 2 * i);
		if (u == 0)
			break;
		if (u > 0xff || (u < 0x20 && u != '\t' && u != '\n') || (u >= 0x7f && u < 0xa0))
			return false;
	}
	*units = i;
	return i > 0;
}

/* The event data as a string when it is one (UTF-16LE, or UTF-8 up to a NUL). */
static bool data_string(const uint8_t *p, size_t n, struct sb *s)
{
	size_t units;
	if (utf16_text(p, n, &units)) {
		sb_utf16(s, p, units);
		return true;
	}
	size_t len = until_nul(p, n);
	if ((len > 0 || n == 0) && is_text(p, len)) {
		sb_putn(s, (const char *)p, len);
		return true;
	}
	return false;
}

/* ---- device paths -------------------------------------------------------------------------- */

enum {
	DP_HARDWARE = 0x01,
	DP_ACPI = 0x02,
	DP_MESSAGING = 0x03,
	DP_MEDIA = 0x04,
	DP_BBS = 0x05,
	DP_END = 0x7f,
	DP_END_ENTIRE = 0xff,
	DP_END_INSTANCE = 0x01,
};

static void text_vendor(struct sb *s, const char *name, const uint8_t *d, size_t n)
{
	sb_printf(s, "%s(", name);
	sb_guid(s, d);
	if (n > 16) {
		sb_puts(s, ",");
		sb_hex(s, d + 16, n - 16);
	}
	sb_puts(s, ")");
}

/* An EISA ID: three 5-bit letters in the low half, the product number in the high half. */
static void eisa_id(uint32_t hid, char out[8])
{
	uint16_t v = (uint16_t)hid;
	snprintf(out, 8, "%c%c%c%04X", '@' + ((v >> 10) & 0x1f), '@' + ((v >> 5) & 0x1f),
		 '@' + (v & 0x1f), (unsigned)(hid >> 16));
}

static bool text_acpi(struct sb *s, uint8_t sub, const uint8_t *d, size_t n)
{
	if (sub == 0x03 && n >= 4) {
		sb_printf(s, "AcpiAdr(0x%x)", cvm_le32(d));
		return true;
	}
	if (sub != 0x01 || n != 8)
		return false;
	static const struct {
		const char *hid, *name;
	} names[] = {{"PNP0A03", "PciRoot"}, {"PNP0A08", "PcieRoot"}, {"PNP0604", "Floppy"},
		     {"PNP0301", "Keyboard"}, {"PNP0501", "Serial"},  {"PNP0401", "ParallelPort"}};
	char hid[8];
	eisa_id(cvm_le32(d), hid);
	uint32_t uid = cvm_le32(d + 4);
	for (size_t i = 0; i < CVM_ARRAY_SIZE(names); i++)
		if (!strcmp(hid, names[i].hid)) {
			sb_printf(s, "%s(0x%x)", names[i].name, uid);
			return true;
		}
	sb_printf(s, "Acpi(%s,0x%x)", hid, uid);
	return true;
}

static bool text_hardware(struct sb *s, uint8_t sub, const uint8_t *d, size_t n)
{
	if (sub == 0x01 && n == 2)
		sb_printf(s, "Pci(0x%x,0x%x)", d[1], d[0]); /* bytes: function, device */
	else if (sub == 0x02 && n == 1)
		sb_printf(s, "PcCard(0x%x)", d[0]);
	else if (sub == 0x03 && n == 20)
		sb_printf(s, "MemoryMapped(0x%x,0x%" PRIx64 ",0x%" PRIx64 ")", cvm_le32(d),
			  cvm_le64(d + 4), cvm_le64(d + 12));
	else if (sub == 0x04 && n >= 16)
		text_vendor(s, "VenHw", d, n);
	else if (sub == 0x05 && n == 4)
		sb_printf(s, "Ctrl(0x%x)", cvm_le32(d));
	else
		return false;
	return true;
}

static void text_ipv4_addr(struct sb *s, const uint8_t *d)
{
	sb_printf(s, "%u.%u.%u.%u", d[0], d[1], d[2], d[3]);
}

static void text_ipv4(struct sb *s, const uint8_t *d, size_t n)
{
	uint16_t proto = cvm_le16(d + 12);
	sb_puts(s, "IPv4(");
	text_ipv4_addr(s, d + 4);
	if (proto == 6 || proto == 17)
		sb_puts(s, proto == 6 ? ",TCP," : ",UDP,");
	else
		sb_printf(s, ",0x%x,", proto);
	sb_puts(s, d[14] ? "Static," : "DHCP,");
	text_ipv4_addr(s, d);
	if (n >= 23) {
		sb_puts(s, ",");
		text_ipv4_addr(s, d + 15);
		sb_puts(s, ",");
		text_ipv4_addr(s, d + 19);
	}
	sb_puts(s, ")");
}

static bool text_messaging(struct sb *s, uint8_t sub, const uint8_t *d, size_t n)
{
	if (sub == 0x02 && n == 4) {
		sb_printf(s, "Scsi(0x%x,0x%x)", cvm_le16(d), cvm_le16(d + 2));
	} else if (sub == 0x05 && n == 2) {
		sb_printf(s, "USB(0x%x,0x%x)", d[0], d[1]);
	} else if (sub == 0x0a && n >= 16) {
		text_vendor(s, "VenMsg", d, n);
	} else if (sub == 0x0b && n == 33) {
		/* IfType 0/1 (Ethernet) uses the first 6 of the 32 address bytes */
		sb_puts(s, "MAC(");
		sb_hex(s, d, d[32] <= 1 ? 6 : 32);
		sb_printf(s, ",0x%x)", d[32]);
	} else if (sub == 0x0c && (n == 15 || n == 23)) {
		text_ipv4(s, d, n);
	} else if (sub == 0x12 && n == 6) {
		sb_printf(s, "Sata(0x%x,0x%x,0x%x)", cvm_le16(d), cvm_le16(d + 2), cvm_le16(d + 4));
	} else if (sub == 0x17 && n == 12) {
		/* the EUI-64 is a little-endian UINT64: printed most significant byte first */
		sb_printf(s, "NVMe(0x%x,", cvm_le32(d));
		for (int i = 7; i >= 0; i--)
			sb_printf(s, "%s%02x", i < 7 ? "-" : "", d[4 + i]);
		sb_puts(s, ")");
	} else if (sub == 0x18 && is_text(d, n)) {
		sb_puts(s, "Uri(");
		sb_putn(s, (const char *)d, n);
		sb_puts(s, ")");
	} else {
		return false;
	}
	return true;
}

static bool text_hard_drive(struct sb *s, const uint8_t *d, size_t n)
{
	if (n != 38)
		return false;
	uint32_t part = cvm_le32(d);
	uint64_t start = cvm_le64(d + 4), size = cvm_le64(d + 12);
	const uint8_t *sig = d + 20;
	uint8_t format = d[36], sig_type = d[37];
	if (format == 1 && sig_type == 1)
		sb_printf(s, "HD(%u,MBR,0x%08x,", part, cvm_le32(sig));
	else if (format == 2 && sig_type == 2) {
		sb_printf(s, "HD(%u,GPT,", part);
		sb_guid(s, sig);
		sb_puts(s, ",");
	} else
		return false;
	sb_printf(s, "0x%" PRIx64 ",0x%" PRIx64 ")", start, size);
	return true;
}

static bool text_media(struct sb *s, uint8_t sub, const uint8_t *d, size_t n)
{
	static const char *const guid_nodes[] = {[0x05] = "Media", [0x06] = "FvFile", [0x07] = "Fv"};
	if (sub == 0x01)
		return text_hard_drive(s, d, n);
	if (sub == 0x02 && n == 20) {
		sb_printf(s, "CDROM(0x%x,0x%" PRIx64 ",0x%" PRIx64 ")", cvm_le32(d), cvm_le64(d + 4),
			  cvm_le64(d + 12));
	} else if (sub == 0x03 && n >= 16) {
		text_vendor(s, "VenMedia", d, n);
	} else if (sub == 0x04 && n % 2 == 0) {
		size_t units = 0;
		while (units < n / 2 && cvm_le16(d + 2 * units))
			units++;
		sb_utf16(s, d, units);
	} else if (sub >= 0x05 && sub <= 0x07 && n == 16) {
		sb_printf(s, "%s(", guid_nodes[sub]);
		sb_guid(s, d);
		sb_puts(s, ")");
	} else if (sub == 0x08 && n == 20) {
		sb_printf(s, "Offset(0x%" PRIx64 ",0x%" PRIx64 ")", cvm_le64(d + 4), cvm_le64(d + 12));
	} else {
		return false;
	}
	return true;
}

static bool text_bbs(struct sb *s, uint8_t sub, const uint8_t *d, size_t n)
{
	static const char *const types[] = {NULL, "Floppy", "HD", "CDROM", "PCMCIA", "USB", "Network"};
	if (sub != 0x01 || n < 4)
		return false;
	uint16_t type = cvm_le16(d), status = cvm_le16(d + 2);
	size_t len = until_nul(d + 4, n - 4);
	if (!is_text(d + 4, len))
		return false;
	if (type < CVM_ARRAY_SIZE(types) && types[type])
		sb_printf(s, "BBS(%s,", types[type]);
	else
		sb_printf(s, "BBS(0x%x,", type);
	sb_putn(s, (const char *)d + 4, len);
	sb_printf(s, ",0x%x)", status);
	return true;
}

/* One node in UEFI text form; nodes without a simple form are "Path(type,subtype,hex)". */
static void devnode_text(struct sb *s, uint8_t type, uint8_t sub, const uint8_t *d, size_t n)
{
	bool done = false;
	switch (type) {
	case DP_HARDWARE:
		done = text_hardware(s, sub, d, n);
		break;
	case DP_ACPI:
		done = text_acpi(s, sub, d, n);
		break;
	case DP_MESSAGING:
		done = text_messaging(s, sub, d, n);
		break;
	case DP_MEDIA:
		done = text_media(s, sub, d, n);
		break;
	case DP_BBS:
		done = text_bbs(s, sub, d, n);
		break;
	case DP_END:
		if (sub == DP_END_INSTANCE && n == 0) {
			sb_puts(s, ",");
			done = true;
		}
		break;
	}
	if (!done) {
		sb_printf(s, "Path(%u,%u,", type, sub);
		sb_hex(s, d, n);
		sb_puts(s, ")");
	}
}

/*
 * Split p[0..len) into nodes up to the end node (or the end of the bytes).  Returns 0, -ENOMEM,
 * or -EINVAL with why filled when a node's length is below its header or runs past the path.
 */
static int devpath_parse(struct cvm_eventlog_arena *a, const uint8_t *p, size_t len,
			 struct cvm_devpath *out, char *why, size_t whylen)
{
	size_t count = 0, off = 0;
	while (off < len) {
		if (len - off < 4) {
			snprintf(why, whylen, "device path node at byte %zu: %zu bytes, short of its "
				 "4-byte header", off, len - off);
			return -EINVAL;
		}
		uint16_t nlen = cvm_le16(p + off + 2);
		if (nlen < 4 || nlen > len - off) {
			snprintf(why, whylen, "device path node at byte %zu: length %u %s", off, nlen,
				 nlen < 4 ? "is below its 4-byte header" : "runs past the path");
			return -EINVAL;
		}
		if (p[off] == DP_END && p[off + 1] == DP_END_ENTIRE)
			break;
		count++;
		off += nlen;
	}
	struct cvm_devpath_node *nodes = NULL;
	if (count) {
		nodes = calloc(count, sizeof(*nodes));
		if (cvm_el_arena_adopt(a, nodes))
			return -ENOMEM;
	}
	struct sb all = {0};
	off = 0;
	for (size_t i = 0; i < count; i++) {
		struct cvm_devpath_node *nd = &nodes[i];
		nd->type = p[off];
		nd->subtype = p[off + 1];
		nd->data_len = (uint16_t)(cvm_le16(p + off + 2) - 4);
		nd->data = p + off + 4;
		struct sb one = {0};
		devnode_text(&one, nd->type, nd->subtype, nd->data, nd->data_len);
		if (!(nd->text = sb_finish(&one, a))) {
			free(all.p);
			return -ENOMEM;
		}
		/* an end-of-instance "," separates instances without slashes around it */
		bool sep = i > 0 && strcmp(nd->text, ",") && strcmp(nodes[i - 1].text, ",");
		if (sep)
			sb_puts(&all, "/");
		sb_puts(&all, nd->text);
		off += (size_t)nd->data_len + 4;
	}
	out->nnodes = count;
	out->nodes = nodes;
	return (out->text = sb_finish(&all, a)) ? 0 : -ENOMEM;
}

/* ---- per-type decoders ------------------------------------------------------------------- */

struct decode {
	struct cvm_eventlog_arena *a;
	struct cvm_eventlog_event *ev;
	struct cvm_event_detail *d;
	struct sb text;
	char why[160]; /* set: the detail is CVM_EVD_MALFORMED with this text */
};

static void malformed(struct decode *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void malformed(struct decode *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

static int decode_string(struct decode *c)
{
	if (data_string(c->ev->data, c->ev->data_len, &c->text))
		c->d->kind = CVM_EVD_STRING;
	return 0;
}

/* Boot####: EFI_LOAD_OPTION (attributes, path length, NUL-terminated description, path). */
static int decode_load_option(struct decode *c, struct cvm_event_variable *v)
{
	const uint8_t *p = v->data;
	size_t n = (size_t)v->data_len;
	if (n < 6)
		return 0;
	uint16_t path_len = cvm_le16(p + 4);
	size_t units = 0, off = 6;
	while (off + 2 * units + 1 < n && cvm_le16(p + off + 2 * units))
		units++;
	size_t desc_end = off + 2 * units + 2; /* past the NUL unit */
	if (desc_end > n || path_len > n - desc_end)
		return 0;
	struct sb desc = {0};
	sb_utf16(&desc, p + off, units);
	if (!(v->load_description = sb_finish(&desc, c->a)))
		return -ENOMEM;
	char why[128];
	int rc = devpath_parse(c->a, p + desc_end, path_len, &v->load_path, why, sizeof(why));
	if (rc == -ENOMEM)
		return rc;
	if (rc)
		return 0; /* an option whose path does not decode is shown as a plain variable */
	v->is_load_option = true;
	v->load_attributes = cvm_le32(p);
	return 0;
}

static bool is_boot_entry_name(const char *name)
{
	if (strlen(name) != 8 || strncmp(name, "Boot", 4))
		return false;
	for (int i = 4; i < 8; i++)
		if (cvm_hex_digit(name[i]) < 0)
			return false;
	return true;
}

static void variable_text(struct decode *c, const struct cvm_event_variable *v)
{
	bool global = !memcmp(&v->vendor, &efi_global_variable, sizeof(v->vendor));
	sb_puts(&c->text, v->name);
	if (v->is_load_option) {
		sb_puts(&c->text, ": \"");
		sb_puts(&c->text, v->load_description);
		sb_puts(&c->text, "\" ");
		sb_puts(&c->text, v->load_path.text);
	} else if (v->data_len == 0) {
		sb_puts(&c->text, ": empty");
	} else if (global && !strcmp(v->name, "SecureBoot") && v->data_len == 1) {
		sb_printf(&c->text, ": %u (%s)", v->data[0], v->data[0] ? "enabled" : "disabled");
	} else if (global && !strcmp(v->name, "BootOrder") && v->data_len % 2 == 0) {
		sb_puts(&c->text, ":");
		for (uint64_t i = 0; i < v->data_len / 2; i++)
			sb_printf(&c->text, "%s%04X", i ? "," : " ", cvm_le16(v->data + 2 * i));
	} else {
		sb_printf(&c->text, ": %" PRIu64 " bytes", v->data_len);
	}
}

static int decode_variable(struct decode *c)
{
	const uint8_t *p = c->ev->data;
	size_t n = c->ev->data_len;
	if (n < VARIABLE_HEADER) {
		malformed(c, "UEFI_VARIABLE_DATA needs %d bytes, the event has %zu", VARIABLE_HEADER, n);
		return 0;
	}
	struct cvm_event_variable *v = &c->d->u.variable;
	memcpy(v->vendor.b, p, 16);
	v->name_chars = cvm_le64(p + 16);
	v->data_len = cvm_le64(p + 24);
	size_t left = n - VARIABLE_HEADER;
	if (v->name_chars > left / 2 || v->data_len > left - 2 * v->name_chars) {
		malformed(c, "UEFI_VARIABLE_DATA: a %" PRIu64 "-character name and %" PRIu64
			  " data bytes do not fit in the %zu bytes after its header",
			  v->name_chars, v->data_len, left);
		return 0;
	}
	struct sb name = {0};
	sb_utf16(&name, p + VARIABLE_HEADER, (size_t)v->name_chars);
	if (!(v->name = sb_finish(&name, c->a)))
		return -ENOMEM;
	v->data = p + VARIABLE_HEADER + 2 * v->name_chars;
	if (!memcmp(&v->vendor, &efi_global_variable, sizeof(v->vendor)) &&
	    is_boot_entry_name(v->name)) {
		int rc = decode_load_option(c, v);
		if (rc)
			return rc;
	}
	c->d->kind = CVM_EVD_VARIABLE;
	variable_text(c, v);
	return 0;
}

static int decode_image(struct decode *c)
{
	const uint8_t *p = c->ev->data;
	size_t n = c->ev->data_len;
	if (n < IMAGE_LOAD_HEADER) {
		malformed(c, "UEFI_IMAGE_LOAD_EVENT needs %d bytes, the event has %zu",
			  IMAGE_LOAD_HEADER, n);
		return 0;
	}
	uint64_t path_len = cvm_le64(p + 24);
	if (path_len > n - IMAGE_LOAD_HEADER) {
		malformed(c, "UEFI_IMAGE_LOAD_EVENT: a %" PRIu64 "-byte device path does not fit in "
			  "the %zu bytes after its header", path_len, n - IMAGE_LOAD_HEADER);
		return 0;
	}
	struct cvm_event_detail *d = c->d;
	d->u.image.base = cvm_le64(p);
	d->u.image.length = cvm_le64(p + 8);
	d->u.image.link_address = cvm_le64(p + 16);
	char why[128];
	int rc = devpath_parse(c->a, p + IMAGE_LOAD_HEADER, (size_t)path_len, &d->u.image.path, why,
			       sizeof(why));
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		malformed(c, "UEFI_IMAGE_LOAD_EVENT: %s", why);
		return 0;
	}
	d->kind = CVM_EVD_IMAGE;
	if (d->u.image.path.nnodes)
		sb_puts(&c->text, d->u.image.path.text);
	else
		sb_printf(&c->text, "image at 0x%" PRIx64 ", 0x%" PRIx64 " bytes, no device path",
			  d->u.image.base, d->u.image.length);
	return 0;
}

/* The description of a BLOB2/HANDOFF_TABLES2 event: u8 size, then that many bytes. */
static int take_description(struct decode *c, struct cvm_cursor *cur, const char *what)
{
	uint8_t size;
	const uint8_t *desc;
	if (!cvm_cursor_u8(cur, &size) || !cvm_cursor_bytes(cur, size, &desc)) {
		malformed(c, "%s: the description runs past the event's %u bytes", what,
			  c->ev->data_len);
		return 0;
	}
	struct sb s = {0};
	size_t len = until_nul(desc, size);
	if (is_text(desc, len))
		sb_putn(&s, (const char *)desc, len);
	else
		sb_hex(&s, desc, size);
	return (c->d->description = sb_finish(&s, c->a)) ? 0 : -ENOMEM;
}

static int decode_blob(struct decode *c, bool v2)
{
	const char *what = v2 ? "UEFI_PLATFORM_FIRMWARE_BLOB2" : "UEFI_PLATFORM_FIRMWARE_BLOB";
	struct cvm_cursor cur = cvm_cursor_make(c->ev->data, c->ev->data_len);
	if (v2) {
		int rc = take_description(c, &cur, what);
		if (rc || c->why[0])
			return rc;
	}
	struct cvm_event_detail *d = c->d;
	if (!cvm_cursor_u64(&cur, &d->u.blob.base) || !cvm_cursor_u64(&cur, &d->u.blob.length)) {
		malformed(c, "%s: base and length run past the event's %u bytes", what,
			  c->ev->data_len);
		return 0;
	}
	d->kind = CVM_EVD_BLOB;
	sb_printf(&c->text, "%s%s0x%" PRIx64 " bytes at 0x%" PRIx64,
		  d->description ? d->description : "", d->description ? ": " : "", d->u.blob.length,
		  d->u.blob.base);
	return 0;
}

static int decode_handoff(struct decode *c, bool v2)
{
	const char *what = v2 ? "UEFI_HANDOFF_TABLE_POINTERS2" : "UEFI_HANDOFF_TABLE_POINTERS";
	struct cvm_cursor cur = cvm_cursor_make(c->ev->data, c->ev->data_len);
	if (v2) {
		int rc = take_description(c, &cur, what);
		if (rc || c->why[0])
			return rc;
	}
	struct cvm_event_detail *d = c->d;
	uint64_t count;
	if (!cvm_cursor_u64(&cur, &count) || count > cvm_cursor_left(&cur) / HANDOFF_ENTRY) {
		malformed(c, "%s: the table count does not fit in the event's %u bytes", what,
			  c->ev->data_len);
		return 0;
	}
	d->kind = CVM_EVD_HANDOFF;
	d->u.handoff.count = count;
	d->u.handoff.tables = cur.buf + cur.off;
	if (d->description)
		sb_printf(&c->text, "%s: ", d->description);
	sb_printf(&c->text, "%" PRIu64 " table%s", count, count == 1 ? "" : "s");
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *t = d->u.handoff.tables + i * HANDOFF_ENTRY;
		sb_puts(&c->text, i ? ", " : " (");
		sb_guid(&c->text, t);
		sb_printf(&c->text, " at 0x%" PRIx64, cvm_le64(t + 16));
	}
	if (count)
		sb_puts(&c->text, ")");
	return 0;
}

static int decode_tagged(struct decode *c)
{
	struct cvm_cursor cur = cvm_cursor_make(c->ev->data, c->ev->data_len);
	struct cvm_event_detail *d = c->d;
	if (!cvm_cursor_u32(&cur, &d->u.tagged.id) || !cvm_cursor_u32(&cur, &d->u.tagged.len) ||
	    !cvm_cursor_bytes(&cur, d->u.tagged.len, &d->u.tagged.data)) {
		malformed(c, "TCG_PCClientTaggedEvent: its data runs past the event's %u bytes",
			  c->ev->data_len);
		return 0;
	}
	d->kind = CVM_EVD_TAGGED;
	if (!data_string(d->u.tagged.data, d->u.tagged.len, &c->text))
		sb_printf(&c->text, "tag 0x%08x: %u bytes", d->u.tagged.id, d->u.tagged.len);
	return 0;
}

static int decode_separator(struct decode *c)
{
	if (c->ev->data_len != 4)
		return 0;
	uint32_t v = cvm_le32(c->ev->data);
	c->d->kind = CVM_EVD_SEPARATOR;
	c->d->u.separator = v;
	/* 0 ends a phase; 1 (PFP) or 0xffffffff (older specs) records an error */
	sb_printf(&c->text, "0x%08x%s", v, v ? " (error)" : "");
	return 0;
}

static int decode_no_action(struct decode *c)
{
	const uint8_t *p = c->ev->data;
	size_t n = c->ev->data_len;
	size_t len = until_nul(p, n < 16 ? n : 16);
	if (n < 16 || !is_text(p, len))
		return 0;
	c->d->kind = CVM_EVD_NO_ACTION;
	sb_putn(&c->text, (const char *)p, len);
	if (len == 15 && !memcmp(p, "StartupLocality", 15) && n >= 17)
		sb_printf(&c->text, ": locality %u", p[16]);
	return 0;
}

static int decode_gpt(struct decode *c)
{
	const uint8_t *p = c->ev->data;
	size_t n = c->ev->data_len;
	if (n < GPT_HEADER + 8 || memcmp(p, "EFI PART", 8)) {
		malformed(c, "UEFI_GPT_DATA: no \"EFI PART\" header with a partition count");
		return 0;
	}
	uint32_t entry_size = cvm_le32(p + 84);
	uint64_t count = cvm_le64(p + GPT_HEADER);
	size_t left = n - GPT_HEADER - 8;
	if (entry_size < 128 || count > left / entry_size) {
		malformed(c, "UEFI_GPT_DATA: %" PRIu64 " partitions of %u bytes do not fit in %zu bytes",
			  count, entry_size, left);
		return 0;
	}
	c->d->kind = CVM_EVD_GPT;
	memcpy(c->d->u.gpt.disk.b, p + 56, 16);
	c->d->u.gpt.partitions = count;
	sb_puts(&c->text, "disk ");
	sb_guid(&c->text, p + 56);
	sb_printf(&c->text, ", %" PRIu64 " partition%s", count, count == 1 ? "" : "s");
	return 0;
}

/*
 * td-shim's configuration events ("td_hob", "td_payload_info"): a NUL-padded 16-byte name, a
 * u32 payload length and exactly that payload.  False when the data has another shape.
 */
static int decode_tdshim(struct decode *c, bool *done)
{
	const uint8_t *p = c->ev->data;
	size_t n = c->ev->data_len;
	size_t name_len = until_nul(p, n < TDSHIM_NAME ? n : TDSHIM_NAME);
	*done = false;
	if (n < TDSHIM_NAME + 4 || name_len == 0 || name_len == TDSHIM_NAME ||
	    !is_text(p, name_len) || cvm_le32(p + TDSHIM_NAME) != n - TDSHIM_NAME - 4)
		return 0;
	for (size_t i = name_len; i < TDSHIM_NAME; i++)
		if (p[i])
			return 0;
	struct cvm_event_detail *d = c->d;
	struct sb name = {0};
	sb_putn(&name, (const char *)p, name_len);
	if (!(d->description = sb_finish(&name, c->a)))
		return -ENOMEM;
	*done = true;
	d->kind = CVM_EVD_TDSHIM;
	d->u.tdshim.len = (uint32_t)(n - TDSHIM_NAME - 4);
	d->u.tdshim.data = p + TDSHIM_NAME + 4;
	sb_puts(&c->text, d->description);
	struct sb payload = {0};
	if (d->u.tdshim.len && data_string(d->u.tdshim.data, d->u.tdshim.len, &payload) &&
	    payload.p && payload.p[0]) {
		sb_puts(&c->text, " ");
		sb_puts(&c->text, payload.p);
	} else {
		sb_printf(&c->text, " (%u bytes)", d->u.tdshim.len);
	}
	free(payload.p);
	return payload.oom ? -ENOMEM : 0;
}

static int decode_config_flags(struct decode *c)
{
	bool done;
	int rc = decode_tdshim(c, &done);
	return rc || done ? rc : decode_string(c);
}

static int decode_by_type(struct decode *c)
{
	switch (c->ev->type) {
	case CVM_EV_NO_ACTION:
		return decode_no_action(c);
	case CVM_EV_SEPARATOR:
		return decode_separator(c);
	case CVM_EV_EVENT_TAG:
		return decode_tagged(c);
	case CVM_EV_PLATFORM_CONFIG_FLAGS:
		return decode_config_flags(c);
	case CVM_EV_POST_CODE:
	case CVM_EV_ACTION:
	case CVM_EV_S_CRTM_VERSION:
	case CVM_EV_COMPACT_HASH:
	case CVM_EV_IPL:
	case CVM_EV_OMIT_BOOT_DEVICE_EVENTS:
	case CVM_EV_EFI_ACTION:
	case CVM_EV_EFI_HCRTM_EVENT:
		return decode_string(c);
	case CVM_EV_EFI_VARIABLE_DRIVER_CONFIG:
	case CVM_EV_EFI_VARIABLE_BOOT:
	case CVM_EV_EFI_VARIABLE_BOOT2:
	case CVM_EV_EFI_VARIABLE_AUTHORITY:
		return decode_variable(c);
	case CVM_EV_EFI_BOOT_SERVICES_APPLICATION:
	case CVM_EV_EFI_BOOT_SERVICES_DRIVER:
	case CVM_EV_EFI_RUNTIME_SERVICES_DRIVER:
		return decode_image(c);
	case CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB:
		return decode_blob(c, false);
	case CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB2:
		return decode_blob(c, true);
	case CVM_EV_EFI_HANDOFF_TABLES:
		return decode_handoff(c, false);
	case CVM_EV_EFI_HANDOFF_TABLES2:
		return decode_handoff(c, true);
	case CVM_EV_EFI_GPT_EVENT:
		return decode_gpt(c);
	default:
		return 0;
	}
}

int cvm_el_decode_event(struct cvm_eventlog_arena *a, struct cvm_eventlog_event *ev)
{
	struct decode c = {.a = a, .ev = ev, .d = &ev->detail};
	memset(&ev->detail, 0, sizeof(ev->detail));
	int rc = decode_by_type(&c);
	if (rc) {
		free(c.text.p);
		return rc;
	}
	if (c.why[0]) {
		memset(&ev->detail, 0, sizeof(ev->detail));
		ev->detail.kind = CVM_EVD_MALFORMED;
		c.text.len = 0;
		sb_puts(&c.text, c.why);
	}
	return (ev->detail.text = sb_finish(&c.text, a)) ? 0 : -ENOMEM;
}

const char *cvm_event_detail_kind_name(enum cvm_event_detail_kind kind)
{
	static const char *const names[] = {
		[CVM_EVD_NONE] = "none",         [CVM_EVD_STRING] = "string",
		[CVM_EVD_VARIABLE] = "variable", [CVM_EVD_IMAGE] = "image",
		[CVM_EVD_BLOB] = "blob",         [CVM_EVD_HANDOFF] = "handoff_tables",
		[CVM_EVD_TAGGED] = "tagged",     [CVM_EVD_SEPARATOR] = "separator",
		[CVM_EVD_NO_ACTION] = "no_action", [CVM_EVD_GPT] = "gpt",
		[CVM_EVD_TDSHIM] = "td_shim",    [CVM_EVD_MALFORMED] = "malformed",
	};
	return (size_t)kind < CVM_ARRAY_SIZE(names) && names[kind] ? names[kind] : "unknown";
}
