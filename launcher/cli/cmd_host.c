/* SPDX-License-Identifier: Apache-2.0 */
/* cvmkit host: what this host's KVM offers for confidential VMs (VM types, guest_memfd, ...). */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include <cvmkit/kvm.h>
#include "launcher/kvm_uapi.h"

#include "launcher/cli/cli.h"

static void usage(void)
{
	printf("usage: cvmkit host [--json]\n"
	       "\n"
	       "Report what this host's KVM offers: API version, VM types (default, SEV-SNP, TDX),\n"
	       "guest_memfd and its flags, memory attributes, pre-fault, memory-fault exits, and\n"
	       "the SEV features KVM can enable in an SNP guest's VMSA (snp.features), or why it\n"
	       "cannot say (no SEV support in this host's KVM).\n"
	       "\n"
	       "  --json      machine-readable output\n"
	       "  -h, --help  this help\n");
}

static const unsigned long vm_types[] = {
	CVM_KVM_X86_DEFAULT_VM, CVM_KVM_X86_SW_PROTECTED_VM, CVM_KVM_X86_SEV_VM,
	CVM_KVM_X86_SEV_ES_VM,	CVM_KVM_X86_SNP_VM,	     CVM_KVM_X86_TDX_VM,
};

static bool has_vm_type(const struct cvm_kvm_caps *c, unsigned long type)
{
	return c->vm_types & (1ull << type);
}

/* The SEV features KVM can enable (KVM_X86_SEV_VMSA_FEATURES), or why they cannot be read. */
struct sev_features {
	bool readable;
	uint64_t mask;
	struct cvm_error err;
};

static void read_sev_features(struct sev_features *f)
{
	cvm_error_clear(&f->err);
	f->readable = cvm_kvm_sev_vmsa_features(cvm_kvm_seam_real(), &f->mask, &f->err) == 0;
}

static json_object *sev_features_json(const struct sev_features *f)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "readable", json_object_new_boolean(f->readable));
	if (!f->readable) {
		json_object_object_add(o, "error",
				       json_object_new_string(cvm_error_message(&f->err)));
		return o;
	}
	char hex[32];
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)f->mask);
	json_object_object_add(o, "mask", json_object_new_string(hex));
	json_object *names = json_object_new_array();
	for (unsigned bit = 0; bit < 64; bit++) {
		if (!(f->mask >> bit & 1))
			continue;
		const char *name = cvm_sev_feature_name(bit);
		char unnamed[16];
		snprintf(unnamed, sizeof(unnamed), "bit %u", bit);
		json_object_array_add(names, json_object_new_string(name ? name : unnamed));
	}
	json_object_object_add(o, "names", names);
	return o;
}

static int print_json(const struct cvm_kvm_caps *c, const struct sev_features *f)
{
	json_object *root = json_object_new_object();
	json_object *types = json_object_new_array();
	char hex[32];
	json_object_object_add(root, "api_version", json_object_new_int(c->api_version));
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)c->vm_types);
	json_object_object_add(root, "vm_types_mask", json_object_new_string(hex));
	for (size_t i = 0; i < sizeof(vm_types) / sizeof(vm_types[0]); i++)
		if (has_vm_type(c, vm_types[i]))
			json_object_array_add(types,
					      json_object_new_string(cvm_kvm_vm_type_name(vm_types[i])));
	json_object_object_add(root, "vm_types", types);
	json_object_object_add(root, "sev_snp",
			       json_object_new_boolean(has_vm_type(c, CVM_KVM_X86_SNP_VM)));
	json_object_object_add(root, "tdx", json_object_new_boolean(has_vm_type(c, CVM_KVM_X86_TDX_VM)));
	json_object_object_add(root, "user_memory2", json_object_new_boolean(c->user_memory2 > 0));
	json_object_object_add(root, "guest_memfd", json_object_new_boolean(c->guest_memfd > 0));
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)c->guest_memfd_flags);
	json_object_object_add(root, "guest_memfd_flags", json_object_new_string(hex));
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)c->memory_attributes);
	json_object_object_add(root, "memory_attributes", json_object_new_string(hex));
	json_object_object_add(root, "pre_fault_memory",
			       json_object_new_boolean(c->pre_fault_memory > 0));
	json_object_object_add(root, "memory_fault_info",
			       json_object_new_boolean(c->memory_fault_info > 0));
	json_object_object_add(root, "sev_vmsa_features", sev_features_json(f));
	return cli_print_json("host", root);
}

static const char *yes_no(int v)
{
	return v > 0 ? "yes" : "no";
}

static int print_text(const struct cvm_kvm_caps *c, const struct sev_features *f)
{
	printf("KVM API version:      %d\n", c->api_version);
	printf("VM types:             0x%llx (", (unsigned long long)c->vm_types);
	const char *sep = "";
	for (size_t i = 0; i < sizeof(vm_types) / sizeof(vm_types[0]); i++)
		if (has_vm_type(c, vm_types[i])) {
			printf("%s%s", sep, cvm_kvm_vm_type_name(vm_types[i]));
			sep = ", ";
		}
	printf(")\n");
	printf("SEV-SNP VMs:          %s\n", yes_no(has_vm_type(c, CVM_KVM_X86_SNP_VM)));
	printf("TDX VMs:              %s\n", yes_no(has_vm_type(c, CVM_KVM_X86_TDX_VM)));
	printf("USER_MEMORY_REGION2:  %s\n", yes_no(c->user_memory2));
	printf("guest_memfd:          %s (flags 0x%llx:%s%s)\n", yes_no(c->guest_memfd),
	       (unsigned long long)c->guest_memfd_flags,
	       c->guest_memfd_flags & CVM_GUEST_MEMFD_FLAG_MMAP ? " MMAP" : "",
	       c->guest_memfd_flags & CVM_GUEST_MEMFD_FLAG_INIT_SHARED ? " INIT_SHARED" : "");
	printf("memory attributes:    0x%llx%s\n", (unsigned long long)c->memory_attributes,
	       c->memory_attributes & CVM_KVM_MEMORY_ATTRIBUTE_PRIVATE ? " (PRIVATE)"
								     : " (no private memory)");
	printf("pre-fault memory:     %s%s\n", yes_no(c->pre_fault_memory),
	       c->pre_fault_memory > 0 ? "" : " (KVM_PRE_FAULT_MEMORY: shadow paging or not built)");
	printf("memory fault exits:   %s\n", yes_no(c->memory_fault_info));
	if (f->readable) {
		char names[512];
		cvm_sev_features_text(f->mask, ", ", names, sizeof(names));
		printf("SEV VMSA features:    %s (0x%llx)\n", names, (unsigned long long)f->mask);
	} else {
		cli_printf_safe(stdout, "SEV VMSA features:    cannot be read: %s\n",
				cvm_error_message(&f->err));
	}
	return CLI_OK;
}

int cmd_host(const struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h': usage(); return CLI_OK;
		default:
			return cli_option_error("host", NULL, c, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("host", "unexpected argument '%s'", argv[optind]);
	struct cvm_kvm_caps caps;
	struct cvm_error err;
	cvm_error_clear(&err);
	if (cvm_kvm_probe(cvm_kvm_seam_real(), &caps, &err))
		return cli_fail("host", &err);
	struct sev_features f;
	read_sev_features(&f);
	return json ? print_json(&caps, &f) : print_text(&caps, &f);
}
