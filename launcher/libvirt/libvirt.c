/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libvirt bridge (include/cvmkit/libvirt.h): capability discovery, domain XML for a policy,
 * and defining it through libvirt's API.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <cvmkit/emit.h>
#include <cvmkit/firmware.h>
#include <cvmkit/libvirt.h>
#include <cvmkit/policy.h>
#include <cvmkit/snp.h>
#include <cvmkit/util.h>

/* ---- small helpers ------------------------------------------------------------------------- */

void cvm_libvirt_version_string(unsigned long long v, char *out, size_t n)
{
	snprintf(out, n, "%llu.%llu.%llu", v / 1000000, (v / 1000) % 1000, v % 1000);
}

static const char *last_virt_error(void)
{
	const char *msg = virGetLastErrorMessage();
	return msg ? msg : "unknown libvirt error";
}

static int notes_add(struct cvm_libvirt_notes *notes, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int notes_add(struct cvm_libvirt_notes *notes, const char *fmt, ...)
{
	if (!notes)
		return 0;
	char *text = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	char **grown = realloc(notes->items, (notes->count + 1) * sizeof(*grown));
	if (!grown) {
		free(text);
		return -ENOMEM;
	}
	grown[notes->count++] = text;
	notes->items = grown;
	return 0;
}

void cvm_libvirt_notes_free(struct cvm_libvirt_notes *notes)
{
	if (!notes)
		return;
	for (size_t i = 0; i < notes->count; i++)
		free(notes->items[i]);
	free(notes->items);
	notes->items = NULL;
	notes->count = 0;
}

/* ---- domain capabilities XML ---------------------------------------------------------------- */

/*
 * A view of [begin, end) of the document.  The domain capabilities XML is libvirt's own output
 * with a fixed shape, so a bounded scan for the few elements we need is enough; no entity or
 * namespace handling is needed for them.
 */
struct span {
	const char *begin, *end;
};

/* The first element <name ...> inside s; its start tag in *tag, its content in *body. */
static bool find_element(struct span s, const char *name, struct span *tag, struct span *body)
{
	size_t nlen = strlen(name);
	const char *p = s.begin;
	while (p < s.end) {
		const char *lt = memchr(p, '<', (size_t)(s.end - p));
		if (!lt || (size_t)(s.end - lt) < nlen + 2)
			return false;
		char after = lt[1 + nlen];
		if (memcmp(lt + 1, name, nlen) == 0 &&
		    (after == '>' || after == ' ' || after == '/' || after == '\n' || after == '\t')) {
			const char *gt = memchr(lt, '>', (size_t)(s.end - lt));
			if (!gt)
				return false;
			tag->begin = lt;
			tag->end = gt + 1;
			if (gt[-1] == '/') { /* <name .../> */
				body->begin = body->end = gt + 1;
				return true;
			}
			char close[64];
			if (nlen + 4 > sizeof(close))
				return false;
			snprintf(close, sizeof(close), "</%s>", name);
			const char *c = memmem(gt + 1, (size_t)(s.end - gt - 1), close, strlen(close));
			if (!c)
				return false;
			body->begin = gt + 1;
			body->end = c;
			return true;
		}
		p = lt + 1;
	}
	return false;
}

static bool tag_supported(struct span tag)
{
	static const char *const yes[] = {"supported='yes'", "supported=\"yes\""};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(yes); i++)
		if (memmem(tag.begin, (size_t)(tag.end - tag.begin), yes[i], strlen(yes[i])))
			return true;
	return false;
}

static bool child_u32(struct span s, const char *name, uint32_t *out)
{
	struct span tag, body;
	if (!find_element(s, name, &tag, &body))
		return false;
	char num[16];
	size_t n = (size_t)(body.end - body.begin);
	while (n && (*body.begin == ' ' || *body.begin == '\n')) {
		body.begin++;
		n--;
	}
	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, body.begin, n);
	num[n] = '\0';
	char *endp;
	errno = 0;
	unsigned long v = strtoul(num, &endp, 10);
	while (*endp == ' ' || *endp == '\n')
		endp++;
	if (errno || *endp || v > UINT32_MAX || num[0] == '-')
		return false;
	*out = (uint32_t)v;
	return true;
}

static char *child_text(struct span s, const char *name)
{
	struct span tag, body;
	if (!find_element(s, name, &tag, &body))
		return NULL;
	return strndup(body.begin, (size_t)(body.end - body.begin));
}

static bool enum_has_value(struct span s, const char *value)
{
	char want[64];
	snprintf(want, sizeof(want), "<value>%s</value>", value);
	return memmem(s.begin, (size_t)(s.end - s.begin), want, strlen(want)) != NULL;
}

int cvm_libvirt_caps_parse(const char *xml, struct cvm_libvirt_caps *caps, struct cvm_error *err)
{
	struct span doc = {xml, xml + strlen(xml)}, root, tag, body;
	if (!find_element(doc, "domainCapabilities", &tag, &root))
		return cvm_error_set(err, -EINVAL,
				     "domain capabilities: no <domainCapabilities> element");
	free(caps->emulator);
	free(caps->machine);
	free(caps->arch);
	caps->emulator = child_text(root, "path");
	caps->machine = child_text(root, "machine");
	caps->arch = child_text(root, "arch");
	caps->sev = caps->sev_es = caps->sev_snp = caps->tdx = caps->sectypes_listed = false;
	caps->has_cbitpos = caps->has_reduced_phys_bits = false;
	caps->has_max_guests = caps->has_max_es_guests = false;

	struct span features;
	if (find_element(root, "features", &tag, &features) &&
	    find_element(features, "sev", &tag, &body) && tag_supported(tag)) {
		caps->sev = true;
		caps->has_cbitpos = child_u32(body, "cbitpos", &caps->cbitpos);
		caps->has_reduced_phys_bits =
			child_u32(body, "reducedPhysBits", &caps->reduced_phys_bits);
		caps->has_max_guests = child_u32(body, "maxGuests", &caps->max_guests);
		caps->has_max_es_guests = child_u32(body, "maxESGuests", &caps->max_es_guests);
		caps->sev_es = caps->has_max_es_guests && caps->max_es_guests > 0;
	}
	if (find_element(root, "launchSecurity", &tag, &body)) {
		caps->sectypes_listed = true;
		if (tag_supported(tag)) {
			caps->sev_snp = enum_has_value(body, "sev-snp");
			caps->tdx = enum_has_value(body, "tdx");
			caps->sev = caps->sev || enum_has_value(body, "sev");
		}
	}
	/* Without the sectype enum, an SNP or TDX feature element is the only hint. */
	if (find_element(root, "sev-snp", &tag, &body) && tag_supported(tag))
		caps->sev_snp = true;
	if (find_element(root, "tdx", &tag, &body) && tag_supported(tag))
		caps->tdx = true;
	return 0;
}

void cvm_libvirt_caps_free(struct cvm_libvirt_caps *caps)
{
	if (!caps)
		return;
	free(caps->uri);
	free(caps->driver);
	free(caps->domain_caps_error);
	free(caps->emulator);
	free(caps->machine);
	free(caps->arch);
	free(caps);
}

static int open_connection(const char *uri, virConnectPtr *out, struct cvm_error *err)
{
	virConnectPtr conn = virConnectOpen(uri);
	if (!conn)
		return cvm_error_set(err, -ECONNREFUSED, "libvirt: cannot connect to %s: %s",
				     uri ? uri : "the default URI", last_virt_error());
	*out = conn;
	return 0;
}

int cvm_libvirt_caps_query(const char *uri, struct cvm_libvirt_caps **out,
			   struct cvm_error *err)
{
	virConnectPtr conn = NULL;
	int rc = open_connection(uri, &conn, err);
	if (rc < 0)
		return rc;
	struct cvm_libvirt_caps *caps = calloc(1, sizeof(*caps));
	if (!caps) {
		virConnectClose(conn);
		return cvm_error_set(err, -ENOMEM, "out of memory");
	}
	char *canon = virConnectGetURI(conn);
	caps->uri = strdup(canon ? canon : (uri ? uri : ""));
	free(canon);
	const char *type = virConnectGetType(conn);
	caps->driver = strdup(type ? type : "unknown");
	unsigned long lib = 0;
	if (virConnectGetLibVersion(conn, &lib) == 0)
		caps->lib_version = lib;
	rc = (caps->uri && caps->driver) ? 0 : cvm_error_set(err, -ENOMEM, "out of memory");

	char *xml = rc == 0 ? virConnectGetDomainCapabilities(conn, NULL, NULL, NULL, NULL, 0)
			    : NULL;
	if (rc == 0 && !xml) {
		/* The test driver and old daemons have no domain capabilities: not an error. */
		caps->domain_caps_error = strdup(last_virt_error());
		if (!caps->domain_caps_error)
			rc = cvm_error_set(err, -ENOMEM, "out of memory");
	} else if (rc == 0) {
		caps->has_domain_caps = true;
		rc = cvm_libvirt_caps_parse(xml, caps, err);
	}
	free(xml);
	virConnectClose(conn);
	if (rc < 0) {
		cvm_libvirt_caps_free(caps);
		return rc;
	}
	*out = caps;
	return 0;
}

/* ---- domain XML ------------------------------------------------------------------------------ */

struct xml_buf {
	FILE *f;
	char *data;
	size_t len;
};

static void xml_text(struct xml_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", b->f);
			break;
		case '<':
			fputs("&lt;", b->f);
			break;
		case '>':
			fputs("&gt;", b->f);
			break;
		case '\'':
			fputs("&apos;", b->f);
			break;
		case '"':
			fputs("&quot;", b->f);
			break;
		default:
			fputc(*s, b->f);
		}
	}
}

static void xml_element(struct xml_buf *b, const char *indent, const char *name, const char *text)
{
	fprintf(b->f, "%s<%s>", indent, name);
	xml_text(b, text);
	fprintf(b->f, "</%s>\n", name);
}

static int xml_base64(struct xml_buf *b, const char *name, const uint8_t *data, size_t n)
{
	char *text = cvm_base64_encode(data, n);
	if (!text)
		return -ENOMEM;
	xml_element(b, "    ", name, text);
	free(text);
	return 0;
}

/* Control characters cannot appear in XML 1.0 text at all. */
static int check_xml_string(const char *what, const char *s, struct cvm_error *err)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 && *p != '\t' && *p != '\n')
			return cvm_error_set(err, -EINVAL,
					     "%s: control character 0x%02x cannot be written in XML",
					     what, *p);
	return 0;
}

/* The digest `cvmkit measure` computes, which the ID block must sign. */
static int snp_id_block(const struct cvm_policy *p, struct cvm_snp_id_result *id,
			struct cvm_error *err)
{
	if (!p->firmware.path)
		return cvm_error_set(err, -EINVAL,
				     "snp.id_block: needs firmware.path to compute the digest it "
				     "signs");
	struct cvm_firmware *fw = NULL;
	struct cvm_measurement *m = NULL;
	int rc = cvm_firmware_load(p->firmware.path, &fw, err);
	if (rc == 0)
		rc = cvm_snp_measure(p, fw, &m, err);
	if (rc == 0)
		rc = cvm_snp_id_build(m->digest, &p->snp.id_block, cvm_snp_policy_value(&p->snp.policy),
				      id, err);
	cvm_measurement_free(m);
	cvm_firmware_free(fw);
	if (rc < 0)
		return cvm_error_wrap(err, "snp.id_block");
	return 0;
}

static int snp_launch_security(struct xml_buf *b, const struct cvm_policy *p,
			       struct cvm_libvirt_notes *notes, struct cvm_error *err)
{
	struct cvm_snp_id_result id;
	bool has_id = p->snp.id_block.present;
	int rc;
	if (has_id && (rc = snp_id_block(p, &id, err)) < 0)
		return rc;
	fprintf(b->f, "  <launchSecurity type='sev-snp' kernelHashes='%s' authorKey='%s'>\n",
		p->boot.kernel ? "yes" : "no", has_id && id.has_author_key ? "yes" : "no");
	fprintf(b->f, "    <policy>0x%016" PRIx64 "</policy>\n",
		cvm_snp_policy_value(&p->snp.policy));
	rc = 0;
	if (has_id) {
		rc = xml_base64(b, "idBlock", id.id_block, sizeof(id.id_block));
		if (rc == 0)
			rc = xml_base64(b, "idAuth", id.id_auth, sizeof(id.id_auth));
	}
	if (rc == 0 && p->snp.has_host_data)
		rc = xml_base64(b, "hostData", p->snp.host_data, sizeof(p->snp.host_data));
	fputs("  </launchSecurity>\n", b->f);
	if (rc < 0)
		return cvm_error_set(err, rc, "out of memory");

	/* QEMU's default (0x1) is what libvirt gets; only a different value needs a warning. */
	if (p->snp.guest_features != 0x1)
		rc = notes_add(notes,
			       "snp.guest_features 0x%" PRIx64 ": libvirt has no element for the "
			       "VMSA SEV features; QEMU uses its default (0x1), so the guest will "
			       "not measure as `cvmkit measure` says",
			       p->snp.guest_features);
	if (rc == 0 && p->snp.has_firmware_digest)
		rc = notes_add(notes, "snp.firmware_digest: used by `cvmkit measure` only; "
				      "libvirt loads the firmware file itself");
	return rc < 0 ? cvm_error_set(err, rc, "out of memory") : 0;
}

static int tdx_launch_security(struct xml_buf *b, const struct cvm_policy *p,
			       struct cvm_libvirt_notes *notes, struct cvm_error *err)
{
	fputs("  <launchSecurity type='tdx'>\n", b->f);
	fprintf(b->f, "    <policy>0x%016" PRIx64 "</policy>\n", cvm_tdx_attributes_value(&p->tdx));
	int rc = xml_base64(b, "mrConfigId", p->tdx.mrconfigid, 48);
	if (rc == 0)
		rc = xml_base64(b, "mrOwner", p->tdx.mrowner, 48);
	if (rc == 0)
		rc = xml_base64(b, "mrOwnerConfig", p->tdx.mrownerconfig, 48);
	fputs("  </launchSecurity>\n", b->f);
	/*
	 * Always a note, even for the usual 0xe7: QEMU derives XFAM from the vCPU model, which
	 * under host-passthrough is the host's (real quotes show 0x642e7, 0x602e7).
	 */
	if (rc == 0)
		rc = notes_add(notes,
			       "tdx.xfam 0x%" PRIx64 ": libvirt does not set XFAM; the TD's XFAM "
			       "follows the %s CPU model (e.g. 0x642e7 or 0x602e7 on real hosts), "
			       "and `cvmkit verify --expect` compares XFAM, so set tdx.xfam to what "
			       "this host gives",
			       p->tdx.xfam, p->cpus.model ? "guest's" : "host");
	if (rc == 0 && p->tdx.measure_order != CVM_TDX_ORDER_SINGLE_PASS)
		rc = notes_add(notes, "tdx.measure_order two-pass models QEMU 8.x; libvirt with "
				      "QEMU >= 10.1 measures single-pass, so MRTD will differ");
	if (rc == 0 && p->tdx.honour_page_aug)
		rc = notes_add(notes, "tdx page_aug: QEMU adds every TDVF section; MRTD will "
				      "differ from a policy that skips PAGE_AUG sections");
	return rc < 0 ? cvm_error_set(err, -ENOMEM, "out of memory") : 0;
}

static int check_strings(const struct cvm_policy *p, const char *type, const char *name,
			 struct cvm_error *err)
{
	const char *fields[][2] = {
		{"domain type", type},
		{"name", name},
		{"firmware.path", p->firmware.path},
		{"boot.kernel", p->boot.kernel},
		{"boot.initrd", p->boot.initrd},
		{"boot.cmdline", p->boot.cmdline},
		{"cpus.model", p->cpus.model},
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(fields); i++) {
		if (!fields[i][1])
			continue;
		int rc = check_xml_string(fields[i][0], fields[i][1], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int domain_body(struct xml_buf *b, const struct cvm_policy *p, const char *type,
		       const char *name, struct cvm_libvirt_notes *notes, struct cvm_error *err)
{
	int rc = 0;
	fprintf(b->f, "<domain type='");
	xml_text(b, type);
	fputs("'>\n", b->f);
	xml_element(b, "  ", "name", name);
	if (p->tee == CVM_TEE_NONE) /* `cvmkit measure` refuses tee none */
		fprintf(b->f, "  <description>cvmkit %s: plain KVM VM (tee none), no launch "
			      "measurement</description>\n", CVMKIT_VERSION);
	else
		fprintf(b->f, "  <description>cvmkit %s: measures as `cvmkit measure` (qemu "
			      "profile)</description>\n", CVMKIT_VERSION);
	fprintf(b->f, "  <memory unit='KiB'>%" PRIu64 "</memory>\n", p->memory_size / 1024);
	fprintf(b->f, "  <vcpu placement='static'>%u</vcpu>\n", p->cpus.count);
	fputs("  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n", b->f);
	if (p->firmware.path) {
		fputs("    <loader type='rom' readonly='yes'>", b->f);
		xml_text(b, p->firmware.path);
		fputs("</loader>\n", b->f);
	}
	if (p->boot.kernel)
		xml_element(b, "    ", "kernel", p->boot.kernel);
	if (p->boot.initrd)
		xml_element(b, "    ", "initrd", p->boot.initrd);
	if (p->boot.cmdline)
		xml_element(b, "    ", "cmdline", p->boot.cmdline);
	fputs("  </os>\n  <features>\n    <acpi/>\n    <apic/>\n", b->f);
	if (p->tee == CVM_TEE_TDX)
		fputs("    <ioapic driver='qemu'/>\n", b->f); /* TDX needs a split irqchip */
	fputs("  </features>\n", b->f);
	if (p->cpus.model) {
		fputs("  <cpu mode='custom' match='exact' check='none'>\n"
		      "    <model fallback='forbid'>", b->f);
		xml_text(b, p->cpus.model);
		fputs("</model>\n  </cpu>\n", b->f);
	} else {
		fputs("  <cpu mode='host-passthrough'/>\n", b->f);
		if (p->tee == CVM_TEE_SNP && p->cpus.has_signature)
			rc = notes_add(notes,
				       "cpus.signature 0x%08x: libvirt cannot set a raw CPUID "
				       "signature; with host-passthrough the host's must equal it",
				       p->cpus.signature);
	}
	fputs("  <clock offset='utc'/>\n", b->f);
	if (p->tee != CVM_TEE_NONE) /* a confidential guest cannot be reset in place */
		fputs("  <on_reboot>destroy</on_reboot>\n", b->f);
	fputs("  <devices>\n    <memballoon model='none'/>\n  </devices>\n", b->f);
	if (rc < 0)
		return cvm_error_set(err, rc, "out of memory");
	if (p->tee == CVM_TEE_SNP)
		rc = snp_launch_security(b, p, notes, err);
	else if (p->tee == CVM_TEE_TDX)
		rc = tdx_launch_security(b, p, notes, err);
	fputs("</domain>\n", b->f);
	if (rc < 0)
		return rc;

	if (p->vmm != CVM_VMM_QEMU && p->vmm != CVM_VMM_CVMKIT)
		rc = notes_add(notes, "vmm %s: libvirt starts QEMU, so the guest measures as the "
				      "qemu profile, not as %s",
			       cvm_vmm_name(p->vmm), cvm_vmm_name(p->vmm));
	if (rc == 0 && p->prefault.mode == CVM_PREFAULT_REQUIRED)
		rc = notes_add(notes, "prefault mode required: libvirt/QEMU have no pre-fault step; "
				      "the guest takes its stage-2 faults at boot");
	return rc < 0 ? cvm_error_set(err, rc, "out of memory") : 0;
}

int cvm_libvirt_domain_xml(const struct cvm_policy *p, const struct cvm_libvirt_xml_opts *opts,
			   char **xml, struct cvm_libvirt_notes *notes, struct cvm_error *err)
{
	const char *type = opts && opts->domain_type ? opts->domain_type : "kvm";
	const char *name = opts && opts->name ? opts->name : p->name ? p->name : "cvmkit-guest";
	if (!*name)
		return cvm_error_set(err, -EINVAL, "name: libvirt needs a non-empty domain name");
	int rc = check_strings(p, type, name, err);
	if (rc < 0)
		return rc;
	struct cvm_libvirt_notes local = {0};
	struct xml_buf b = {0};
	b.f = open_memstream(&b.data, &b.len);
	if (!b.f)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	rc = domain_body(&b, p, type, name, notes ? &local : NULL, err);
	if (fclose(b.f) != 0 && rc == 0)
		rc = cvm_error_set(err, -ENOMEM, "out of memory");
	if (rc < 0) {
		free(b.data);
		cvm_libvirt_notes_free(&local);
		return rc;
	}
	*xml = b.data;
	if (notes) {
		cvm_libvirt_notes_free(notes);
		*notes = local;
	}
	return 0;
}

/* ---- define ---------------------------------------------------------------------------------- */

int cvm_libvirt_define(const char *uri, const char *xml, enum cvm_tee tee, char **name,
		       char **uuid, struct cvm_error *err)
{
	virConnectPtr conn = NULL;
	int rc = open_connection(uri, &conn, err);
	if (rc < 0)
		return rc;
	unsigned long lib = 0;
	char have[32], need[32];
	if (virConnectGetLibVersion(conn, &lib) < 0)
		lib = 0;
	cvm_libvirt_version_string(lib, have, sizeof(have));
	cvm_libvirt_version_string(CVM_LIBVIRT_MIN_SNP, need, sizeof(need));
	if (tee == CVM_TEE_SNP && lib && lib < CVM_LIBVIRT_MIN_SNP) {
		virConnectClose(conn);
		return cvm_error_set(err, -ENOTSUP,
				     "libvirt %s at %s has no <launchSecurity type='sev-snp'> (needs "
				     ">= %s with QEMU >= 9.1)", have, uri ? uri : "the default URI",
				     need);
	}
	virDomainPtr dom = virDomainDefineXML(conn, xml);
	if (!dom) {
		rc = cvm_error_set(err, -EINVAL, "libvirt %s: define failed: %s%s", have,
				   last_virt_error(),
				   tee == CVM_TEE_TDX ? " (TDX needs a libvirt with <launchSecurity "
							"type='tdx'> and QEMU >= 10.1)" : "");
		virConnectClose(conn);
		return rc;
	}
	char uuid_text[VIR_UUID_STRING_BUFLEN] = "";
	const char *dom_name = virDomainGetName(dom);
	if (uuid && virDomainGetUUIDString(dom, uuid_text) < 0) {
		rc = cvm_error_set(err, -EIO, "libvirt: defined domain %s but cannot read its UUID: %s",
				   dom_name ? dom_name : "?", last_virt_error());
		virDomainFree(dom);
		virConnectClose(conn);
		return rc;
	}
	char *n = name ? strdup(dom_name ? dom_name : "") : NULL;
	char *u = uuid ? strdup(uuid_text) : NULL;
	virDomainFree(dom);
	virConnectClose(conn);
	if ((name && !n) || (uuid && !u)) {
		free(n);
		free(u);
		return cvm_error_set(err, -ENOMEM, "out of memory");
	}
	if (name)
		*name = n;
	if (uuid)
		*uuid = u;
	return 0;
}
