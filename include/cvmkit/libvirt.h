/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libvirt bridge: host capability discovery through libvirt's API, and a libvirt domain XML
 * for a policy such that the VM libvirt and QEMU start from it measures as `cvmkit measure`
 * does for the qemu profile.  Needs libvirt >= 10.5 and QEMU >= 9.1 for SEV-SNP
 * (<launchSecurity type='sev-snp'>), libvirt >= 11.6 and QEMU >= 10.1 for TDX
 * (<launchSecurity type='tdx'> with <quoteGenerationService>).  docs/man/cvmkit.1 ("libvirt") lists what has no libvirt equivalent.
 *
 * These functions never print; libvirt's own error reporting is the caller's to silence
 * (virSetErrorFunc).  Ownership: the outputs of the query and xml functions are malloc'd and owned by the
 * caller; free with the matching *_free (NULL is fine).
 */
#ifndef CVMKIT_LIBVIRT_H
#define CVMKIT_LIBVIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/error.h>
#include <cvmkit/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* libvirt versions as libvirt encodes them: major * 1000000 + minor * 1000 + micro. */
#define CVM_LIBVIRT_MIN_SNP 10005000ull /* <launchSecurity type='sev-snp'>: libvirt 10.5 */
#define CVM_LIBVIRT_MIN_TDX 11006000ull /* <launchSecurity type='tdx'> with
					   <quoteGenerationService>: libvirt 11.6 */

struct cvm_libvirt_caps {
	char *uri;                  /* the connection's canonical URI */
	char *driver;               /* virConnectGetType(): "QEMU", "TEST", ... */
	unsigned long long lib_version;
	bool has_domain_caps;       /* false: the driver reports no domain capabilities, so
				     * sev..tdx below are unknown (not "unsupported") */
	char *domain_caps_error;    /* why not, when has_domain_caps is false */

	/* from the domain capabilities XML (virConnectGetDomainCapabilities) */
	char *emulator;             /* <path> */
	char *machine;              /* <machine> */
	char *arch;                 /* <arch> */
	bool sectypes_listed;       /* <launchSecurity> lists its sectype enum (libvirt >= 10.5) */
	bool sev, sev_es, sev_snp, tdx;
	bool has_cbitpos, has_reduced_phys_bits, has_max_guests, has_max_es_guests;
	uint32_t cbitpos, reduced_phys_bits, max_guests, max_es_guests;
};

/* Larger domain capabilities documents are refused (libvirt's are a few KiB). */
#define CVM_LIBVIRT_MAX_DOMCAPS (4u << 20)

/*
 * Fill the domain-capability fields of caps from a domain capabilities XML document (what
 * `virsh domcapabilities` prints), read with libxml2 (comments are comments; no network,
 * entities or DTD).  SEV comes from <features><sev supported='yes'> (cbitpos,
 * reducedPhysBits, maxGuests, maxESGuests; SEV-ES when maxESGuests > 0); SEV-SNP and TDX from
 * the <launchSecurity><enum name='sectype'> values "sev-snp" and "tdx".
 */
int cvm_libvirt_caps_parse(const char *xml, struct cvm_libvirt_caps *caps, struct cvm_error *err);

/* Connect to uri (NULL: libvirt's default) and query its capabilities. */
int cvm_libvirt_caps_query(const char *uri, struct cvm_libvirt_caps **out,
			   struct cvm_error *err);
void cvm_libvirt_caps_free(struct cvm_libvirt_caps *caps);

/* Things the generated XML cannot express, one sentence each, for the user to read. */
struct cvm_libvirt_notes {
	char **items;
	size_t count;
};
void cvm_libvirt_notes_free(struct cvm_libvirt_notes *notes);

struct cvm_libvirt_xml_opts {
	const char *domain_type; /* <domain type=...>; NULL means "kvm" (any XML-safe value is
				  * written; `cvmkit libvirt xml --type` accepts kvm and qemu) */
	const char *name;        /* NULL: the policy's name, else "cvmkit-guest" */
	const char *qgs_path;    /* TDX: the quote generation service's socket (absolute);
				  * NULL: <quoteGenerationService/>, libvirt's default socket */
};

/*
 * The domain XML of a policy: memory, vCPUs and CPU model, firmware loader (type='rom', which
 * QEMU loads with -bios as cvmkit's qemu profile assumes), direct-boot kernel/initrd/cmdline
 * (every path absolute), and <launchSecurity> (sev-snp: policy, host data, ID block/auth
 * signed for the digest of `cvmkit measure`, kernel hashes; tdx: attributes, MRCONFIGID,
 * MROWNER, MROWNERCONFIG, quoteGenerationService).  For SEV-SNP and TDX the firmware is read
 * and the checks of `cvmkit measure` run first (its pin, the planner's refusals, as QEMU's
 * profile), so XML is written only for what measure would measure.
 * opts may be NULL.  notes (may be NULL) receives what has no libvirt equivalent: for TDX
 * always XFAM (libvirt cannot set it; QEMU derives it from the vCPU model), for SNP
 * guest_features only when it differs from QEMU's default 0x1.  A tee none policy gets a
 * <description> saying it has no launch measurement (`cvmkit measure` refuses tee none).
 */
int cvm_libvirt_domain_xml(const struct cvm_policy *p, const struct cvm_libvirt_xml_opts *opts,
			   char **xml, struct cvm_libvirt_notes *notes, struct cvm_error *err);

/*
 * Define (not start) a domain from xml on uri (NULL: default).  tee says which launch security
 * the XML uses, so that a libvirt too old for it is refused with the version it needs.  *name
 * and *uuid (either may be NULL) receive the defined domain's name and UUID string.
 */
int cvm_libvirt_define(const char *uri, const char *xml, enum cvm_tee tee, char **name,
		       char **uuid, struct cvm_error *err);

/* "10.5.0" for 10005000; out holds at least 32 bytes. */
void cvm_libvirt_version_string(unsigned long long v, char *out, size_t n);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
