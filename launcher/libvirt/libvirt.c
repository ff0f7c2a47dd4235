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
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cvmkit/emit.h>
#include <cvmkit/firmware.h>
#include <cvmkit/libvirt.h>
#include <cvmkit/policy.h>
#include <cvmkit/snp.h>
#include <cvmkit/tdx.h>
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
 * The document is read with libxml2 (no network, no entity expansion, no DTD), so comments,
 * CDATA, attribute quoting and whitespace mean what XML says they mean.
 */
static bool is_element(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The first child element of parent named name, or NULL. */
static xmlNode *child(xmlNode *parent, const char *name)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (is_element(n, name))
			return n;
	return NULL;
}

/* The first element named name below root (document order), or NULL. */
static xmlNode *descendant(xmlNode *root, const char *name)
{
	for (xmlNode *n = root ? root->children : NULL; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is_element(n, name))
			return n;
		xmlNode *below = descendant(n, name);
		if (below)
			return below;
	}
	return NULL;
}

static bool supported(xmlNode *n)
{
	xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)"supported") : NULL;
	bool yes = v && strcmp((const char *)v, "yes") == 0;
	xmlFree(v);
	return yes;
}

/* The text of n with surrounding white space removed, malloc'd (NULL: none or no memory). */
static char *text_of(xmlNode *n)
{
	xmlChar *raw = n ? xmlNodeGetContent(n) : NULL;
	if (!raw)
		return NULL;
	const char *s = (const char *)raw;
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	size_t len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\t' ||
		       s[len - 1] == '\r'))
		len--;
	char *out = strndup(s, len);
	xmlFree(raw);
	return out;
}

static bool child_u32(xmlNode *parent, const char *name, uint32_t *out)
{
	char *text = text_of(child(parent, name));
	if (!text)
		return false;
	char *endp;
	errno = 0;
	unsigned long v = strtoul(text, &endp, 10);
	bool ok = text[0] >= '0' && text[0] <= '9' && !errno && !*endp && v <= UINT32_MAX;
	free(text);
	if (ok)
		*out = (uint32_t)v;
	return ok;
}

/* <enum name='sectype'><value>VALUE</value>... below n. */
static bool enum_has_value(xmlNode *n, const char *value)
{
	for (xmlNode *e = n ? n->children : NULL; e; e = e->next) {
		if (!is_element(e, "enum"))
			continue;
		for (xmlNode *v = e->children; v; v = v->next) {
			if (!is_element(v, "value"))
				continue;
			char *text = text_of(v);
			bool hit = text && strcmp(text, value) == 0;
			free(text);
			if (hit)
				return true;
		}
	}
	return false;
}

static void read_caps(xmlNode *root, struct cvm_libvirt_caps *caps)
{
	caps->emulator = text_of(child(root, "path"));
	caps->machine = text_of(child(root, "machine"));
	caps->arch = text_of(child(root, "arch"));
	xmlNode *sev = child(child(root, "features"), "sev");
	if (supported(sev)) {
		caps->sev = true;
		caps->has_cbitpos = child_u32(sev, "cbitpos", &caps->cbitpos);
		caps->has_reduced_phys_bits =
			child_u32(sev, "reducedPhysBits", &caps->reduced_phys_bits);
		caps->has_max_guests = child_u32(sev, "maxGuests", &caps->max_guests);
		caps->has_max_es_guests = child_u32(sev, "maxESGuests", &caps->max_es_guests);
		caps->sev_es = caps->has_max_es_guests && caps->max_es_guests > 0;
	}
	xmlNode *ls = descendant(root, "launchSecurity");
	if (ls) {
		caps->sectypes_listed = true;
		if (supported(ls)) {
			caps->sev_snp = enum_has_value(ls, "sev-snp");
			caps->tdx = enum_has_value(ls, "tdx");
			caps->sev = caps->sev || enum_has_value(ls, "sev");
		}
	}
	/* Without the sectype enum, an SNP or TDX feature element is the only hint. */
	if (supported(descendant(root, "sev-snp")))
		caps->sev_snp = true;
	if (supported(descendant(root, "tdx")))
		caps->tdx = true;
}

int cvm_libvirt_caps_parse(const char *xml, struct cvm_libvirt_caps *caps, struct cvm_error *err)
{
	size_t len = strlen(xml);
	if (len > CVM_LIBVIRT_MAX_DOMCAPS)
		return cvm_error_set(err, -EFBIG, "domain capabilities: %zu bytes, at most %u are "
				     "read", len, CVM_LIBVIRT_MAX_DOMCAPS);
	xmlInitParser();
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return cvm_error_set(err, -ENOMEM, "domain capabilities: out of memory");
	xmlDocPtr doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "domcapabilities.xml", NULL,
					  XML_PARSE_NONET | XML_PARSE_NOERROR |
						  XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	int rc = 0;
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[160] = "not well-formed";
		if (e && e->message) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			msg[strcspn(msg, "\n")] = '\0';
		}
		rc = cvm_error_set(err, -EINVAL, "domain capabilities: not XML (line %d: %s)",
				   e ? e->line : 0, msg);
	} else if (!root || !is_element(root, "domainCapabilities")) {
		rc = cvm_error_set(err, -EINVAL,
				   "domain capabilities: no <domainCapabilities> element");
	} else {
		free(caps->emulator);
		free(caps->machine);
		free(caps->arch);
		caps->emulator = caps->machine = caps->arch = NULL;
		caps->sev = caps->sev_es = caps->sev_snp = caps->tdx = false;
		caps->sectypes_listed = false;
		caps->has_cbitpos = caps->has_reduced_phys_bits = false;
		caps->has_max_guests = caps->has_max_es_guests = false;
		read_caps(root, caps);
	}
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return rc;
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

/*
 * What `cvmkit measure` checks before it measures, on the policy as libvirt launches it (QEMU's
 * profile, whatever the policy's vmm): the firmware (read once), its pin and the planner's
 * refusals (no kernel-hashes section for a direct boot, a bad reset block, TDVF sections that
 * cannot be loaded, ...).  *fw is the caller's to free, also on failure.
 */
static int check_launch(const struct cvm_policy *q, struct cvm_firmware **fw, struct cvm_error *err)
{
	if (!q->firmware.path)
		return cvm_error_set(err, -EINVAL, "firmware.path: a confidential guest's XML needs "
				     "the firmware, to check what `cvmkit measure` checks");
	int rc = cvm_firmware_load(q->firmware.path, fw, err);
	if (!rc)
		rc = cvm_firmware_pin_check(q, *fw, err);
	if (!rc && q->tee == CVM_TEE_SNP)
		rc = cvm_snp_plan_check(q, *fw, q->boot.kernel || q->boot.initrd || q->boot.cmdline,
					err);
	if (!rc && q->tee == CVM_TEE_TDX) {
		struct cvm_plan plan;
		if ((rc = cvm_tdx_plan_build(q, *fw, &plan, err)) == 0)
			cvm_plan_release(&plan);
	}
	return rc;
}

/* The digest `cvmkit measure` computes, which the ID block must sign. */
static int snp_id_block(const struct cvm_policy *q, const struct cvm_firmware *fw,
			struct cvm_snp_id_result *id, struct cvm_error *err)
{
	struct cvm_measurement *m = NULL;
	int rc = cvm_snp_measure(q, fw, &m, err);
	if (rc == 0)
		rc = cvm_snp_id_build(m->digest, &q->snp.id_block, cvm_snp_policy_value(&q->snp.policy),
				      id, err);
	cvm_measurement_free(m);
	if (rc < 0)
		return cvm_error_wrap(err, "snp.id_block");
	return 0;
}

static int snp_launch_security(struct xml_buf *b, const struct cvm_policy *p,
			       const struct cvm_policy *q, const struct cvm_firmware *fw,
			       struct cvm_libvirt_notes *notes, struct cvm_error *err)
{
	struct cvm_snp_id_result id;
	bool has_id = p->snp.id_block.present;
	int rc;
	if (has_id && (rc = snp_id_block(q, fw, &id, err)) < 0)
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
			       const char *qgs_path, struct cvm_libvirt_notes *notes,
			       struct cvm_error *err)
{
	fputs("  <launchSecurity type='tdx'>\n", b->f);
	fprintf(b->f, "    <policy>0x%016" PRIx64 "</policy>\n", cvm_tdx_attributes_value(&p->tdx));
	int rc = xml_base64(b, "mrConfigId", p->tdx.mrconfigid, 48);
	if (rc == 0)
		rc = xml_base64(b, "mrOwner", p->tdx.mrowner, 48);
	if (rc == 0)
		rc = xml_base64(b, "mrOwnerConfig", p->tdx.mrownerconfig, 48);
	/* Where the TD's GetQuote requests go (libvirt >= 11.6); no path: libvirt's default. */
	if (qgs_path) {
		fputs("    <quoteGenerationService path='", b->f);
		xml_text(b, qgs_path);
		fputs("'/>\n", b->f);
	} else {
		fputs("    <quoteGenerationService/>\n", b->f);
	}
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

/* An element whose text is path made absolute: libvirt resolves nothing against a folder. */
static int xml_path_element(struct xml_buf *b, const char *open, const char *close,
			    const char *path)
{
	char *abs = cvm_path_absolute(path);
	if (!abs)
		return -ENOMEM;
	fputs(open, b->f);
	xml_text(b, abs);
	fputs(close, b->f);
	free(abs);
	return 0;
}

static int domain_body(struct xml_buf *b, const struct cvm_policy *p, const struct cvm_policy *q,
		       const struct cvm_firmware *fw, const struct cvm_libvirt_xml_opts *opts,
		       const char *type, const char *name, struct cvm_libvirt_notes *notes,
		       struct cvm_error *err)
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
	if (p->firmware.path)
		rc = xml_path_element(b, "    <loader type='rom' readonly='yes'>", "</loader>\n",
				      p->firmware.path);
	if (!rc && p->boot.kernel)
		rc = xml_path_element(b, "    <kernel>", "</kernel>\n", p->boot.kernel);
	if (!rc && p->boot.initrd)
		rc = xml_path_element(b, "    <initrd>", "</initrd>\n", p->boot.initrd);
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
		if (!rc && p->tee == CVM_TEE_SNP && p->cpus.has_signature)
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
		rc = snp_launch_security(b, p, q, fw, notes, err);
	else if (p->tee == CVM_TEE_TDX)
		rc = tdx_launch_security(b, p, opts ? opts->qgs_path : NULL, notes, err);
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
	if (opts && opts->qgs_path && (opts->qgs_path[0] != '/' ||
				       (rc = check_xml_string("quoteGenerationService",
							      opts->qgs_path, err)) < 0))
		return rc < 0 ? rc : cvm_error_set(err, -EINVAL, "quoteGenerationService: the "
						   "socket path must be absolute, not '%s'",
						   opts->qgs_path);
	/* libvirt starts QEMU: the launch is checked (and an ID block signed) as QEMU's. */
	struct cvm_policy q = *p;
	q.vmm = CVM_VMM_QEMU;
	struct cvm_firmware *fw = NULL;
	if (p->tee != CVM_TEE_NONE && (rc = check_launch(&q, &fw, err)) < 0) {
		cvm_firmware_free(fw);
		return rc;
	}
	struct cvm_libvirt_notes local = {0};
	struct xml_buf b = {0};
	b.f = open_memstream(&b.data, &b.len);
	if (!b.f) {
		cvm_firmware_free(fw);
		return cvm_error_set(err, -ENOMEM, "out of memory");
	}
	rc = domain_body(&b, p, &q, fw, opts, type, name, notes ? &local : NULL, err);
	cvm_firmware_free(fw);
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
	unsigned long long min = tee == CVM_TEE_SNP ? CVM_LIBVIRT_MIN_SNP
				 : tee == CVM_TEE_TDX ? CVM_LIBVIRT_MIN_TDX
						      : 0;
	cvm_libvirt_version_string(min, need, sizeof(need));
	if (min && lib && lib < min) {
		virConnectClose(conn);
		return cvm_error_set(err, -ENOTSUP,
				     "libvirt %s at %s has no <launchSecurity type='%s'> (needs >= %s "
				     "with QEMU >= %s)", have, uri ? uri : "the default URI",
				     tee == CVM_TEE_SNP ? "sev-snp" : "tdx", need,
				     tee == CVM_TEE_SNP ? "9.1" : "10.1");
	}
	virDomainPtr dom = virDomainDefineXML(conn, xml);
	if (!dom) {
		rc = cvm_error_set(err, -EINVAL, "libvirt %s: define failed: %s%s", have,
				   last_virt_error(),
				   tee == CVM_TEE_TDX ? " (TDX needs libvirt >= 11.6 and QEMU >= 10.1)"
						      : "");
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
