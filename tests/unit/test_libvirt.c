/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the libvirt bridge (launcher/libvirt/libvirt.c) against libvirt's test driver. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <cvmkit/libvirt.h>
#include <cvmkit/policy.h>

#include "tests/unit/helper_vectors.h"

#define TEST_URI "test:///default"

/* Shaped like `virsh domcapabilities` of libvirt >= 10.5 on an SNP host (values made up). */
static const char domcaps_snp[] =
	"<domainCapabilities>\n"
	"  <path>/usr/bin/qemu-system-x86_64</path>\n"
	"  <domain>kvm</domain>\n"
	"  <machine>pc-q35-9.1</machine>\n"
	"  <arch>x86_64</arch>\n"
	"  <features>\n"
	"    <gic supported='no'/>\n"
	"    <sev supported='yes'>\n"
	"      <cbitpos>51</cbitpos>\n"
	"      <reducedPhysBits>1</reducedPhysBits>\n"
	"      <maxGuests>509</maxGuests>\n"
	"      <maxESGuests>100</maxESGuests>\n"
	"    </sev>\n"
	"    <sgx supported='no'/>\n"
	"    <launchSecurity supported='yes'>\n"
	"      <enum name='sectype'>\n"
	"        <value>sev</value>\n"
	"        <value>sev-snp</value>\n"
	"      </enum>\n"
	"    </launchSecurity>\n"
	"  </features>\n"
	"</domainCapabilities>\n";

/* libvirt 9.0 on a host without SEV: no launchSecurity enum. */
static const char domcaps_old[] =
	"<domainCapabilities>\n"
	"  <path>/usr/bin/qemu-system-x86_64</path>\n"
	"  <domain>kvm</domain>\n"
	"  <features>\n"
	"    <sev supported='no'/>\n"
	"  </features>\n"
	"</domainCapabilities>\n";

static void silent(void *data, virErrorPtr e)
{
	(void)data;
	(void)e;
}

static int setup(void **state)
{
	(void)state;
	virSetErrorFunc(NULL, silent);
	return 0;
}

static struct cvm_policy *policy_from(const char *json)
{
	struct cvm_policy *p = NULL;
	struct cvm_policy_problems pr = {0};
	struct cvm_error err;
	if (cvm_policy_parse((const uint8_t *)json, strlen(json), "/tmp", &p, &pr, &err) < 0) {
		for (size_t i = 0; i < pr.count; i++)
			print_message("# %s: %s\n", pr.items[i].path, pr.items[i].message);
		fail_msg("policy: %s", cvm_error_message(&err));
	}
	cvm_policy_problems_free(&pr);
	return p;
}

static bool has_note(const struct cvm_libvirt_notes *n, const char *part)
{
	for (size_t i = 0; i < n->count; i++)
		if (strstr(n->items[i], part))
			return true;
	return false;
}

static void caps_parse_reads_sev_and_sectypes(void **state)
{
	(void)state;
	struct cvm_libvirt_caps caps = {0};
	assert_int_equal(cvm_libvirt_caps_parse(domcaps_snp, &caps, NULL), 0);
	assert_true(caps.sev);
	assert_true(caps.sev_es);
	assert_true(caps.sev_snp);
	assert_false(caps.tdx);
	assert_true(caps.sectypes_listed);
	assert_true(caps.has_cbitpos);
	assert_int_equal(caps.cbitpos, 51);
	assert_int_equal(caps.reduced_phys_bits, 1);
	assert_int_equal(caps.max_guests, 509);
	assert_int_equal(caps.max_es_guests, 100);
	assert_string_equal(caps.emulator, "/usr/bin/qemu-system-x86_64");
	assert_string_equal(caps.machine, "pc-q35-9.1");
	free(caps.emulator);
	free(caps.machine);
	free(caps.arch);
}

static void caps_parse_old_libvirt_without_sev(void **state)
{
	(void)state;
	struct cvm_libvirt_caps caps = {0};
	assert_int_equal(cvm_libvirt_caps_parse(domcaps_old, &caps, NULL), 0);
	assert_false(caps.sev);
	assert_false(caps.sev_snp);
	assert_false(caps.sectypes_listed);
	assert_false(caps.has_cbitpos);
	free(caps.emulator);
	assert_int_equal(cvm_libvirt_caps_parse("<capabilities/>", &caps, NULL), -EINVAL);
	assert_int_equal(cvm_libvirt_caps_parse("<domainCapabilities><features><sev "
						"supported='yes'><cbitpos>x</cbitpos>",
						&caps, NULL), -EINVAL);
}

/* libxml2, not a string scan: a comment is not an element, quoting and spacing are XML's. */
static void caps_parse_reads_xml_not_text(void **state)
{
	(void)state;
	static const char commented[] =
		"<?xml version='1.0'?>\n"
		"<domainCapabilities>\n"
		"  <!-- <launchSecurity supported='no'/> <path>/wrong</path> -->\n"
		"  <path>/usr/bin/qemu-system-x86_64</path>\n"
		"  <features>\n"
		"    <sev supported=\"yes\" ><cbitpos> 51 </cbitpos></sev>\n"
		"    <launchSecurity  supported = \"yes\">\n"
		"      <enum name='sectype'><value>sev-snp</value><!-- <value>tdx</value> --></enum>\n"
		"    </launchSecurity>\n"
		"  </features>\n"
		"</domainCapabilities>\n";
	struct cvm_libvirt_caps caps = {0};
	struct cvm_error err;
	assert_int_equal(cvm_libvirt_caps_parse(commented, &caps, &err), 0);
	assert_true(caps.sectypes_listed);
	assert_true(caps.sev_snp); /* the comment before <launchSecurity> does not hide it */
	assert_false(caps.tdx);    /* nor does a commented-out value count */
	assert_true(caps.sev);
	assert_int_equal(caps.cbitpos, 51);
	assert_string_equal(caps.emulator, "/usr/bin/qemu-system-x86_64");
	free(caps.emulator);
	caps.emulator = NULL;
	assert_int_equal(cvm_libvirt_caps_parse("<domainCapabilities><features>", &caps, &err),
			 -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "not XML"));
	/* no entity expansion: an undeclared entity is an error, not text */
	assert_int_equal(cvm_libvirt_caps_parse("<domainCapabilities><path>&xxe;</path>"
						"</domainCapabilities>", &caps, &err), -EINVAL);
	free(caps.emulator);
	free(caps.machine);
	free(caps.arch);
}

static void caps_query_test_driver_has_no_domain_caps(void **state)
{
	(void)state;
	struct cvm_libvirt_caps *caps = NULL;
	struct cvm_error err;
	if (cvm_libvirt_caps_query(TEST_URI, &caps, &err) < 0)
		fail_msg("%s", cvm_error_message(&err));
	assert_string_equal(caps->uri, TEST_URI);
	assert_true(caps->lib_version > 0);
	/* libvirt 9.0's test driver has no virConnectGetDomainCapabilities */
	if (!caps->has_domain_caps)
		assert_non_null(caps->domain_caps_error);
	cvm_libvirt_caps_free(caps);
	cvm_libvirt_caps_free(NULL);
}

static void caps_query_bad_uri_fails_cleanly(void **state)
{
	(void)state;
	struct cvm_libvirt_caps *caps = NULL;
	struct cvm_error err;
	assert_true(cvm_libvirt_caps_query("nosuchdriver:///x", &caps, &err) < 0);
	assert_null(caps);
	assert_non_null(strstr(cvm_error_message(&err), "cannot connect"));
}

/* A direct boot on the AmdSev vector (it has a kernel-hashes section): measure accepts it. */
static const char snp_policy_fmt[] =
	"{\"version\": 1, \"name\": \"a&b\", \"tee\": \"snp\", \"vmm\": \"qemu\","
	" \"cpus\": {\"count\": 4, \"model\": \"EPYC-Milan\"}, \"memory\": {\"size\": \"2G\"},"
	" \"firmware\": {\"path\": \"%s\"},"
	" \"boot\": {\"kernel\": \"/boot/vmlinuz\", \"initrd\": \"/boot/initrd.img\","
	"            \"cmdline\": \"console=ttyS0 <x>\"},"
	" \"snp\": {\"policy\": {\"smt\": true}, \"guest_features\": \"0x21\","
	"          \"host_data\": \"0101010101010101010101010101010101010101010101010101010101010101\"}}";

static char amdsev_path[4096];

static struct cvm_policy *snp_policy_on(const char *fw)
{
	char text[8192];
	snprintf(text, sizeof(text), snp_policy_fmt, fw);
	return policy_from(text);
}

static struct cvm_policy *snp_policy(void)
{
	snprintf(amdsev_path, sizeof(amdsev_path), "%s/vectors/snp/ovmf_AmdSev_suffix.bin",
		 cvm_test_shared_dir());
	return snp_policy_on(amdsev_path);
}

static void xml_snp_has_launch_security_and_notes(void **state)
{
	(void)state;
	struct cvm_policy *p = snp_policy();
	char *xml = NULL;
	struct cvm_libvirt_notes notes = {0};
	struct cvm_error err;
	if (cvm_libvirt_domain_xml(p, NULL, &xml, &notes, &err) < 0)
		fail_msg("%s", cvm_error_message(&err));
	assert_non_null(strstr(xml, "<domain type='kvm'>"));
	assert_non_null(strstr(xml, "<name>a&amp;b</name>"));
	assert_non_null(strstr(xml, "<memory unit='KiB'>2097152</memory>"));
	assert_non_null(strstr(xml, "<vcpu placement='static'>4</vcpu>"));
	assert_non_null(strstr(xml, "<model fallback='forbid'>EPYC-Milan</model>"));
	char loader[4200];
	snprintf(loader, sizeof(loader), "<loader type='rom' readonly='yes'>%s</loader>", amdsev_path);
	assert_non_null(strstr(xml, loader));
	assert_non_null(strstr(xml, "<cmdline>console=ttyS0 &lt;x&gt;</cmdline>"));
	assert_non_null(strstr(xml, "<launchSecurity type='sev-snp' kernelHashes='yes'"));
	assert_non_null(strstr(xml, "<policy>0x0000000000030000</policy>"));
	/* 32 bytes of 0x01 in base64 */
	assert_non_null(strstr(xml, "<hostData>AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=</hostData>"));
	assert_null(strstr(xml, "idBlock"));
	assert_true(has_note(&notes, "guest_features 0x21"));
	free(xml);
	cvm_libvirt_notes_free(&notes);
	cvm_policy_free(p);
}

static void xml_tdx_has_attributes_and_owner_ids(void **state)
{
	(void)state;
	struct cvm_policy *p = policy_from(
		"{\"version\": 1, \"name\": \"td\", \"tee\": \"tdx\", \"cpus\": {\"count\": 2},"
		" \"memory\": {\"size\": \"1G\"}, \"firmware\": {\"path\": \"/usr/share/ovmf/OVMF.fd\"},"
		" \"tdx\": {\"attributes\": {\"sept_ve_disable\": true}, \"xfam\": \"0x2e7\","
		" \"mrowner\": \"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"}}");
	char *xml = NULL;
	struct cvm_libvirt_notes notes = {0};
	struct cvm_libvirt_xml_opts opts = {.domain_type = "test", .name = "other"};
	struct cvm_error err;
	if (cvm_libvirt_domain_xml(p, &opts, &xml, &notes, &err) < 0)
		fail_msg("%s", cvm_error_message(&err));
	assert_non_null(strstr(xml, "<domain type='test'>"));
	assert_non_null(strstr(xml, "<name>other</name>"));
	assert_non_null(strstr(xml, "<launchSecurity type='tdx'>"));
	assert_non_null(strstr(xml, "<policy>0x0000000010000000</policy>"));
	assert_non_null(strstr(xml, "<mrOwner>////////////////////////////////////////////////"
				    "////////////////</mrOwner>"));
	assert_non_null(strstr(xml, "<ioapic driver='qemu'/>"));
	assert_non_null(strstr(xml, "<cpu mode='host-passthrough'/>"));
	assert_true(has_note(&notes, "xfam 0x2e7"));
	assert_true(has_note(&notes, "follows the host CPU model"));
	free(xml);
	cvm_libvirt_notes_free(&notes);
	cvm_policy_free(p);
}

static void xml_tdx_notes_xfam_even_for_the_usual_value(void **state)
{
	(void)state;
	struct cvm_policy *p = policy_from(
		"{\"version\": 1, \"name\": \"td\", \"tee\": \"tdx\", \"cpus\": {\"count\": 2},"
		" \"memory\": {\"size\": \"1G\"}, \"firmware\": {\"path\": \"/usr/share/ovmf/OVMF.fd\"},"
		" \"tdx\": {\"xfam\": \"0xe7\"}}");
	char *xml = NULL;
	struct cvm_libvirt_notes notes = {0};
	struct cvm_error err;
	if (cvm_libvirt_domain_xml(p, NULL, &xml, &notes, &err) < 0)
		fail_msg("%s", cvm_error_message(&err));
	/* under host-passthrough QEMU's XFAM is the host's (0x642e7, 0x602e7 in real quotes) */
	assert_non_null(strstr(xml, "<cpu mode='host-passthrough'/>"));
	assert_true(has_note(&notes, "tdx.xfam 0xe7: libvirt does not set XFAM"));
	assert_true(has_note(&notes, "follows the host CPU model"));
	assert_true(has_note(&notes, "verify --expect` compares XFAM"));
	free(xml);
	cvm_libvirt_notes_free(&notes);
	cvm_policy_free(p);
}

static void xml_snp_default_guest_features_has_no_note(void **state)
{
	(void)state;
	struct cvm_policy *p = policy_from(
		"{\"version\": 1, \"name\": \"s\", \"tee\": \"snp\", \"vmm\": \"qemu\","
		" \"cpus\": {\"count\": 1, \"model\": \"EPYC-Milan\"}, \"memory\": {\"size\": \"1G\"},"
		" \"firmware\": {\"path\": \"/usr/share/ovmf/OVMF.fd\"},"
		" \"snp\": {\"guest_features\": \"0x1\"}}");
	char *xml = NULL;
	struct cvm_libvirt_notes notes = {0};
	struct cvm_error err;
	if (cvm_libvirt_domain_xml(p, NULL, &xml, &notes, &err) < 0)
		fail_msg("%s", cvm_error_message(&err));
	assert_false(has_note(&notes, "guest_features"));
	assert_non_null(strstr(xml, "measures as `cvmkit measure` (qemu profile)"));
	free(xml);
	cvm_libvirt_notes_free(&notes);
	cvm_policy_free(p);
}

static void xml_plain_vm_description_claims_no_measurement(void **state)
{
	(void)state;
	struct cvm_policy *p = policy_from("{\"version\": 1, \"name\": \"x\", \"tee\": \"none\"}");
	char *xml = NULL;
	struct cvm_error err;
	if (cvm_libvirt_domain_xml(p, NULL, &xml, NULL, &err) < 0)
		fail_msg("%s", cvm_error_message(&err));
	assert_non_null(strstr(xml, "plain KVM VM (tee none), no launch measurement</description>"));
	assert_null(strstr(xml, "cvmkit measure"));
	free(xml);
	cvm_policy_free(p);
}

static void xml_refuses_control_characters(void **state)
{
	(void)state;
	struct cvm_policy *p = policy_from(
		"{\"version\": 1, \"name\": \"x\", \"tee\": \"none\","
		" \"boot\": {\"kernel\": \"/k\", \"cmdline\": \"a\\u0001b\"}}");
	char *xml = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_libvirt_domain_xml(p, NULL, &xml, NULL, &err), -EINVAL);
	assert_null(xml);
	assert_non_null(strstr(cvm_error_message(&err), "boot.cmdline"));
	cvm_policy_free(p);
}

static void xml_refuses_control_characters_in_domain_type(void **state)
{
	(void)state;
	struct cvm_policy *p = policy_from("{\"version\": 1, \"name\": \"x\", \"tee\": \"none\"}");
	struct cvm_libvirt_xml_opts opts = {.domain_type = "kvm\x01"};
	char *xml = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_libvirt_domain_xml(p, &opts, &xml, NULL, &err), -EINVAL);
	assert_null(xml);
	assert_non_null(strstr(cvm_error_message(&err), "domain type"));
	cvm_policy_free(p);
}

/* libvirt xml runs the checks of cvmkit measure, and writes absolute paths. */
static void xml_refuses_what_measure_refuses(void **state)
{
	(void)state;
	if (access("/usr/share/ovmf/OVMF.fd", R_OK) != 0)
		skip();
	/* Debian's OVMF has no kernel-hashes section: no measured direct boot with it */
	struct cvm_policy *p = snp_policy_on("/usr/share/ovmf/OVMF.fd");
	char *xml = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_libvirt_domain_xml(p, NULL, &xml, NULL, &err), -EINVAL);
	assert_null(xml);
	assert_non_null(strstr(cvm_error_message(&err), "no SNP_KERNEL_HASHES section"));
	/* a pin the image does not match */
	p->firmware.has_sha256 = true;
	free(p->boot.kernel);
	free(p->boot.initrd);
	free(p->boot.cmdline);
	p->boot.kernel = p->boot.initrd = p->boot.cmdline = NULL;
	assert_int_equal(cvm_libvirt_domain_xml(p, NULL, &xml, NULL, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "firmware.sha256"));
	cvm_policy_free(p);
}

static void xml_paths_are_absolute(void **state)
{
	(void)state;
	struct cvm_policy *p = NULL;
	struct cvm_error err;
	const char *doc = "{\"version\": 1, \"tee\": \"none\", \"firmware\": {\"path\": \"fw.fd\"},"
			  " \"boot\": {\"kernel\": \"./k\", \"initrd\": \"i\"}}";
	assert_int_equal(cvm_policy_parse((const uint8_t *)doc, strlen(doc), ".", &p, NULL, &err),
			 0);
	char *xml = NULL;
	assert_int_equal(cvm_libvirt_domain_xml(p, NULL, &xml, NULL, &err), 0);
	char *cwd = getcwd(NULL, 0), want[4200];
	snprintf(want, sizeof(want), "<loader type='rom' readonly='yes'>%s/fw.fd</loader>", cwd);
	assert_non_null(strstr(xml, want));
	snprintf(want, sizeof(want), "<kernel>%s/k</kernel>", cwd);
	assert_non_null(strstr(xml, want));
	snprintf(want, sizeof(want), "<initrd>%s/i</initrd>", cwd);
	assert_non_null(strstr(xml, want));
	free(cwd);
	free(xml);
	cvm_policy_free(p);
}

static void xml_tdx_names_the_quote_generation_service(void **state)
{
	(void)state;
	if (access("/usr/share/ovmf/OVMF.fd", R_OK) != 0)
		skip();
	struct cvm_policy *p = policy_from(
		"{\"version\": 1, \"tee\": \"tdx\", \"memory\": {\"size\": \"1G\"},"
		" \"firmware\": {\"path\": \"/usr/share/ovmf/OVMF.fd\"}}");
	char *xml = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_libvirt_domain_xml(p, NULL, &xml, NULL, &err), 0);
	assert_non_null(strstr(xml, "    <quoteGenerationService/>\n  </launchSecurity>"));
	free(xml);
	struct cvm_libvirt_xml_opts opts = {.qgs_path = "/run/qgs.sock"};
	assert_int_equal(cvm_libvirt_domain_xml(p, &opts, &xml, NULL, &err), 0);
	assert_non_null(strstr(xml, "<quoteGenerationService path='/run/qgs.sock'/>"));
	free(xml);
	opts.qgs_path = "qgs.sock";
	assert_int_equal(cvm_libvirt_domain_xml(p, &opts, &xml, NULL, &err), -EINVAL);
	cvm_policy_free(p);
}

static void define_plain_domain_on_test_driver(void **state)
{
	(void)state;
	struct cvm_policy *p = policy_from(
		"{\"version\": 1, \"name\": \"cvmkit-unit\", \"tee\": \"none\", \"cpus\": {\"count\": 1},"
		" \"memory\": {\"size\": \"256M\"}}");
	char *xml = NULL, *name = NULL, *uuid = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_libvirt_domain_xml(p, NULL, &xml, NULL, &err), 0);
	if (cvm_libvirt_define(TEST_URI, xml, p->tee, &name, &uuid, &err) < 0)
		fail_msg("%s", cvm_error_message(&err));
	assert_string_equal(name, "cvmkit-unit");
	assert_int_equal(strlen(uuid), 36);
	free(name);
	free(uuid);
	free(xml);
	cvm_policy_free(p);
}

static void define_snp_refused_by_old_libvirt(void **state)
{
	(void)state;
	struct cvm_policy *p = snp_policy();
	char *xml = NULL, *name = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_libvirt_domain_xml(p, NULL, &xml, NULL, &err), 0);
	virConnectPtr conn = virConnectOpen(TEST_URI);
	unsigned long lib = 0;
	assert_non_null(conn);
	virConnectGetLibVersion(conn, &lib);
	virConnectClose(conn);
	int rc = cvm_libvirt_define(TEST_URI, xml, CVM_TEE_SNP, &name, NULL, &err);
	if (lib < CVM_LIBVIRT_MIN_SNP) {
		assert_int_equal(rc, -ENOTSUP);
		assert_non_null(strstr(cvm_error_message(&err), "needs >= 10.5.0"));
		assert_null(name);
	} else {
		assert_int_equal(rc, 0);
		free(name);
	}
	free(xml);
	cvm_policy_free(p);
}

static void version_string_splits_fields(void **state)
{
	(void)state;
	char buf[32];
	cvm_libvirt_version_string(10005000, buf, sizeof(buf));
	assert_string_equal(buf, "10.5.0");
	cvm_libvirt_version_string(9000000, buf, sizeof(buf));
	assert_string_equal(buf, "9.0.0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(caps_parse_reads_sev_and_sectypes),
		cmocka_unit_test(caps_parse_old_libvirt_without_sev),
		cmocka_unit_test(caps_parse_reads_xml_not_text),
		cmocka_unit_test(caps_query_test_driver_has_no_domain_caps),
		cmocka_unit_test(caps_query_bad_uri_fails_cleanly),
		cmocka_unit_test(xml_snp_has_launch_security_and_notes),
		cmocka_unit_test(xml_tdx_has_attributes_and_owner_ids),
		cmocka_unit_test(xml_tdx_notes_xfam_even_for_the_usual_value),
		cmocka_unit_test(xml_snp_default_guest_features_has_no_note),
		cmocka_unit_test(xml_plain_vm_description_claims_no_measurement),
		cmocka_unit_test(xml_refuses_control_characters),
		cmocka_unit_test(xml_refuses_control_characters_in_domain_type),
		cmocka_unit_test(xml_refuses_what_measure_refuses),
		cmocka_unit_test(xml_paths_are_absolute),
		cmocka_unit_test(xml_tdx_names_the_quote_generation_service),
		cmocka_unit_test(define_plain_domain_on_test_driver),
		cmocka_unit_test(define_snp_refused_by_old_libvirt),
		cmocka_unit_test(version_string_splits_fields),
	};
	return cmocka_run_group_tests_name("libvirt", tests, setup, NULL);
}
