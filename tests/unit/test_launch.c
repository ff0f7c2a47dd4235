/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: launches through the ioctl seam (launcher/launch.c, launcher/kvm*.c,
 * sev/snp_kvm.c, tdx/tdx_kvm.c) against the spec fake KVM (helper_spec_kvm.h), which decodes
 * every argument at the spec's offsets with its own table, refuses what the kernel refuses and
 * measures what the hardware would.  The launches prove the SNP and TDX sequences, that the
 * digest the fake computed from the issued calls equals the offline measurement (and the
 * reference vectors), that retries after partial progress, EAGAIN, EINTR and EBUSY land on the
 * same digest, and that every failing step is named and leaks no descriptor or mapping.
 *
 * This file reads the fake's events by the spec's field names, never through cvmkit's
 * kvm_uapi.h, so a launcher that fills a wrong field cannot agree with it by construction.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/kvm.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cvmkit/firmware.h>
#include <cvmkit/kvm.h>
#include <cvmkit/launch.h>
#include <cvmkit/pool.h>
#include <cvmkit/snp.h>
#include <cvmkit/tdx.h>
#include <cvmkit/util.h>

#include "launcher/kvm_backend.h"
#include "launcher/tee.h"
#include "tests/unit/helper_spec_kvm.h"
#include "tests/unit/helper_vectors.h"

/* ---- Helpers ---------------------------------------------------------------------------- */

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A policy from JSON text with one %s for the firmware path. */
static struct cvm_policy *load_policy(const char *json_fmt, const char *fw)
{
	char text[2048];
	const char *at = strstr(json_fmt, "%s");
	assert_non_null(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - json_fmt), json_fmt, fw, at + 2);
	return cvm_test_policy_from_text(text);
}

static bool fixture(char *path, size_t len, const char *rel)
{
	snprintf(path, len, "%s/vectors/%s", cvm_test_shared_dir(), rel);
	if (access(path, R_OK) == 0)
		return true;
	print_message("# SKIP %s not found\n", path);
	return false;
}

/* A policy (JSON text with one %s) on the firmware fixture vectors/<rel>; NULL without it. */
static struct cvm_policy *fixture_policy(const char *json_fmt, const char *rel)
{
	char fw[512];
	return fixture(fw, sizeof(fw), rel) ? load_policy(json_fmt, fw) : NULL;
}

static struct spec_kvm *new_fake(void)
{
	struct spec_kvm *k = spec_kvm_new();
	assert_non_null(k);
	return k;
}

static struct cvm_launch *launch_on(struct spec_kvm *k, const struct cvm_policy *p,
				    struct cvm_error *err, int *rc)
{
	struct cvm_launch_options opts = {.seam = spec_kvm_seam(k)};
	struct cvm_launch *l = NULL;
	cvm_error_clear(err);
	*rc = cvm_launch(p, &opts, &l, err);
	return l;
}

/* A launch that must succeed with no call refused by the fake. */
static struct cvm_launch *launch_ok(struct spec_kvm *k, const struct cvm_policy *p)
{
	struct cvm_error err;
	int rc;
	struct cvm_launch *l = launch_on(k, p, &err, &rc);
	if (rc || *spec_kvm_refusals(k))
		fail_msg("launch: rc %d %s\nrefused by the fake:\n%s", rc,
			 rc ? cvm_error_message(&err) : "", spec_kvm_refusals(k));
	return l;
}

/* A launch through a new fake on a pool of threads threads (0: none) that must succeed; *k and
   *pool (NULL for 0) are the caller's to free after the launch. */
static struct cvm_launch *launch_on_pool(const struct cvm_policy *p, unsigned threads,
					 struct spec_kvm **k, struct cvm_pool **pool)
{
	struct cvm_error err;
	*pool = NULL;
	if (threads)
		assert_int_equal(cvm_pool_new(threads, pool, &err), 0);
	*k = new_fake();
	struct cvm_launch_options opts = {.seam = spec_kvm_seam(*k), .pool = *pool};
	struct cvm_launch *l = NULL;
	int rc = cvm_launch(p, &opts, &l, &err);
	if (rc || *spec_kvm_refusals(*k))
		fail_msg("%u threads: rc %d %s\n%s", threads, rc, rc ? cvm_error_message(&err) : "",
			 spec_kvm_refusals(*k));
	return l;
}

static void hex48(const uint8_t *d, char out[97])
{
	cvm_hex_encode(d, 48, out);
}

/* The fake's digest = the launch's = `measure`'s (= the reference vector when given). */
static void expect_digests_agree(const struct spec_kvm *k, struct cvm_launch *l,
				 const struct cvm_policy *p, const char *vector)
{
	uint8_t fake[48];
	char why[200], got[97], want[97];
	struct cvm_measurement *m = NULL;
	struct cvm_error err;
	int rc;
	struct cvm_firmware *fw = NULL;
	if (cvm_firmware_load(p->firmware.path, &fw, &err))
		fail_msg("firmware: %s", cvm_error_message(&err));
	if (p->tee == CVM_TEE_SNP) {
		if ((rc = spec_kvm_snp_digest(k, fake, why, sizeof(why))))
			fail_msg("the fake has no SNP digest: %s", why);
		rc = cvm_snp_measure(p, fw, &m, &err);
	} else {
		if (spec_kvm_tdx_mrtd(k, fake))
			fail_msg("the fake has no MRTD");
		rc = cvm_tdx_measure(p, fw, &m, &err);
	}
	cvm_firmware_free(fw);
	if (rc)
		fail_msg("measure: %s", cvm_error_message(&err));
	hex48(fake, got);
	hex48(m->digest, want);
	assert_string_equal(got, want);
	hex48(cvm_launch_measurement(l)->digest, want);
	assert_string_equal(got, want);
	if (vector)
		assert_string_equal(got, vector);
	cvm_measurement_free(m);
}

static const struct spec_kvm_event *must_find(const struct spec_kvm *k, const char *name,
					      size_t nth)
{
	const struct spec_kvm_event *e = spec_kvm_find(k, name, nth);
	if (!e)
		fail_msg("no call %s #%zu", name, nth);
	return e;
}

static size_t pos(const struct spec_kvm *k, const char *name, size_t nth)
{
	return spec_kvm_pos(k, must_find(k, name, nth));
}

static size_t count_calls(const struct spec_kvm *k, const char *name)
{
	size_t n = 0;
	while (spec_kvm_find(k, name, n))
		n++;
	return n;
}

/*
 * An example policy as a user runs it, with its firmware path replaced (from NULL: as it is);
 * skips the test when the example or its firmware is not there.
 */
static struct cvm_policy *example_policy(const char *name, const char *from, const char *to)
{
	char path[256];
	snprintf(path, sizeof(path), "examples/%s", name);
	struct cvm_file f;
	struct cvm_error err;
	if (cvm_file_open(path, &f, &err)) {
		print_message("# SKIP %s not found (run from the source tree)\n", path);
		skip();
	}
	size_t cap = f.size + 512;
	char *text = calloc(1, cap);
	assert_non_null(text);
	memcpy(text, f.data, f.size);
	cvm_file_close(&f);
	char *at = from ? strstr(text, from) : NULL;
	if (from && !at)
		fail_msg("%s does not name %s", path, from);
	if (at) {
		char *rest = strdup(at + strlen(from));
		assert_non_null(rest);
		snprintf(at, cap - (size_t)(at - text), "%s%s", to, rest);
		free(rest);
	}
	struct cvm_policy *p = cvm_test_policy_from_text(text);
	free(text);
	if (access(p->firmware.path, R_OK)) {
		print_message("# SKIP %s not found (Debian package ovmf)\n", p->firmware.path);
		cvm_policy_free(p);
		skip();
	}
	return p;
}

/* ---- The fake itself -------------------------------------------------------------------- */

#define XFIELD(layout, type, field)                                                           \
	check_field(layout, #field, offsetof(struct type, field), sizeof(((struct type *)0)->field))

static void check_field(const char *layout, const char *field, size_t off, size_t size)
{
	unsigned o = 0, s = 0;
	if (spec_kvm_layout_field(layout, field, &o, &s))
		fail_msg("the fake's %s has no %s", layout, field);
	if (o != off || s != size)
		fail_msg("%s.%s: the fake says %u+%u, <linux/kvm.h> %zu+%zu", layout, field, o, s, off,
			 size);
}

/*
 * The fake's tables tile each struct and agree with the ioctl numbers' size fields; the layouts
 * the spec does not give (Linux's old x86 structs) agree with Debian's <linux/kvm.h>.
 */
static void spec_fake_tables_are_consistent_and_match_the_system_header(void **state)
{
	(void)state;
	const char *bad = spec_kvm_table_check();
	if (bad)
		fail_msg("%s", bad);
	XFIELD("kvm_regs", kvm_regs, rax);
	XFIELD("kvm_regs", kvm_regs, rdx);
	XFIELD("kvm_regs", kvm_regs, rsi);
	XFIELD("kvm_regs", kvm_regs, rsp);
	XFIELD("kvm_regs", kvm_regs, rbp);
	XFIELD("kvm_regs", kvm_regs, r8);
	XFIELD("kvm_regs", kvm_regs, r15);
	XFIELD("kvm_regs", kvm_regs, rip);
	XFIELD("kvm_regs", kvm_regs, rflags);
	XFIELD("kvm_segment", kvm_segment, base);
	XFIELD("kvm_segment", kvm_segment, limit);
	XFIELD("kvm_segment", kvm_segment, selector);
	XFIELD("kvm_segment", kvm_segment, type);
	XFIELD("kvm_segment", kvm_segment, present);
	XFIELD("kvm_segment", kvm_segment, dpl);
	XFIELD("kvm_segment", kvm_segment, db);
	XFIELD("kvm_segment", kvm_segment, s);
	XFIELD("kvm_segment", kvm_segment, l);
	XFIELD("kvm_segment", kvm_segment, g);
	XFIELD("kvm_segment", kvm_segment, avl);
	XFIELD("kvm_segment", kvm_segment, unusable);
	XFIELD("kvm_dtable", kvm_dtable, base);
	XFIELD("kvm_dtable", kvm_dtable, limit);
	XFIELD("kvm_sregs", kvm_sregs, cs);
	XFIELD("kvm_sregs", kvm_sregs, ds);
	XFIELD("kvm_sregs", kvm_sregs, es);
	XFIELD("kvm_sregs", kvm_sregs, fs);
	XFIELD("kvm_sregs", kvm_sregs, gs);
	XFIELD("kvm_sregs", kvm_sregs, ss);
	XFIELD("kvm_sregs", kvm_sregs, tr);
	XFIELD("kvm_sregs", kvm_sregs, ldt);
	XFIELD("kvm_sregs", kvm_sregs, gdt);
	XFIELD("kvm_sregs", kvm_sregs, idt);
	XFIELD("kvm_sregs", kvm_sregs, cr0);
	XFIELD("kvm_sregs", kvm_sregs, cr2);
	XFIELD("kvm_sregs", kvm_sregs, cr3);
	XFIELD("kvm_sregs", kvm_sregs, cr4);
	XFIELD("kvm_sregs", kvm_sregs, cr8);
	XFIELD("kvm_sregs", kvm_sregs, efer);
	XFIELD("kvm_sregs", kvm_sregs, apic_base);
	XFIELD("kvm_sregs", kvm_sregs, interrupt_bitmap);
	XFIELD("kvm_fpu", kvm_fpu, fpr);
	XFIELD("kvm_fpu", kvm_fpu, fcw);
	XFIELD("kvm_fpu", kvm_fpu, fsw);
	XFIELD("kvm_fpu", kvm_fpu, ftwx);
	XFIELD("kvm_fpu", kvm_fpu, last_opcode);
	XFIELD("kvm_fpu", kvm_fpu, last_ip);
	XFIELD("kvm_fpu", kvm_fpu, last_dp);
	XFIELD("kvm_fpu", kvm_fpu, xmm);
	XFIELD("kvm_fpu", kvm_fpu, mxcsr);
	XFIELD("kvm_xcrs", kvm_xcrs, nr_xcrs);
	XFIELD("kvm_xcrs", kvm_xcrs, flags);
	XFIELD("kvm_xcrs", kvm_xcrs, xcrs);
	XFIELD("kvm_xcrs", kvm_xcrs, padding);
	XFIELD("kvm_xcr", kvm_xcr, xcr);
	XFIELD("kvm_xcr", kvm_xcr, value);
	XFIELD("kvm_msrs", kvm_msrs, nmsrs);
	XFIELD("kvm_msr_entry", kvm_msr_entry, index);
	XFIELD("kvm_msr_entry", kvm_msr_entry, data);
	XFIELD("kvm_enable_cap", kvm_enable_cap, cap);
	XFIELD("kvm_enable_cap", kvm_enable_cap, flags);
	XFIELD("kvm_enable_cap", kvm_enable_cap, args);
	XFIELD("kvm_enable_cap", kvm_enable_cap, pad);
	XFIELD("kvm_device_attr", kvm_device_attr, flags);
	XFIELD("kvm_device_attr", kvm_device_attr, group);
	XFIELD("kvm_device_attr", kvm_device_attr, attr);
	XFIELD("kvm_device_attr", kvm_device_attr, addr);
	XFIELD("kvm_cpuid2", kvm_cpuid2, nent);
	XFIELD("kvm_cpuid2", kvm_cpuid2, padding);
	XFIELD("kvm_cpuid_entry2", kvm_cpuid_entry2, function);
	XFIELD("kvm_cpuid_entry2", kvm_cpuid_entry2, index);
	XFIELD("kvm_cpuid_entry2", kvm_cpuid_entry2, flags);
	XFIELD("kvm_cpuid_entry2", kvm_cpuid_entry2, eax);
	XFIELD("kvm_cpuid_entry2", kvm_cpuid_entry2, edx);
	assert_int_equal(spec_kvm_layout_size("kvm_regs"), sizeof(struct kvm_regs));
	assert_int_equal(spec_kvm_layout_size("kvm_sregs"), sizeof(struct kvm_sregs));
	assert_int_equal(spec_kvm_layout_size("kvm_fpu"), sizeof(struct kvm_fpu));
	assert_int_equal(spec_kvm_layout_size("kvm_xcrs"), sizeof(struct kvm_xcrs));
	assert_int_equal(spec_kvm_layout_size("kvm_msrs"), sizeof(struct kvm_msrs));
	assert_int_equal(spec_kvm_layout_size("kvm_enable_cap"), sizeof(struct kvm_enable_cap));
	assert_int_equal(spec_kvm_layout_size("kvm_device_attr"), sizeof(struct kvm_device_attr));
	assert_int_equal(spec_kvm_layout_size("kvm_cpuid_entry2"), sizeof(struct kvm_cpuid_entry2));
	static const struct {
		const char *name;
		unsigned long nr;
	} numbers[] = {
		{"KVM_GET_API_VERSION", KVM_GET_API_VERSION},
		{"KVM_CREATE_VM", KVM_CREATE_VM},
		{"KVM_CHECK_EXTENSION", KVM_CHECK_EXTENSION},
		{"KVM_GET_VCPU_MMAP_SIZE", KVM_GET_VCPU_MMAP_SIZE},
		{"KVM_GET_SUPPORTED_CPUID", KVM_GET_SUPPORTED_CPUID},
		{"KVM_CREATE_VCPU", KVM_CREATE_VCPU},
		{"KVM_GET_REGS", KVM_GET_REGS},
		{"KVM_SET_REGS", KVM_SET_REGS},
		{"KVM_GET_SREGS", KVM_GET_SREGS},
		{"KVM_SET_SREGS", KVM_SET_SREGS},
		{"KVM_SET_MSRS", KVM_SET_MSRS},
		{"KVM_SET_FPU", KVM_SET_FPU},
		{"KVM_SET_CPUID2", KVM_SET_CPUID2},
		{"KVM_SET_TSC_KHZ", KVM_SET_TSC_KHZ},
		{"KVM_ENABLE_CAP", KVM_ENABLE_CAP},
		{"KVM_SET_XCRS", KVM_SET_XCRS},
		{"KVM_GET_DEVICE_ATTR", KVM_GET_DEVICE_ATTR},
		{"KVM_MEMORY_ENCRYPT_OP", KVM_MEMORY_ENCRYPT_OP},
	};
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (spec_kvm_ioctl_number(numbers[i].name) != numbers[i].nr)
			fail_msg("%s: the fake says 0x%lx, <linux/kvm.h> 0x%lx", numbers[i].name,
				 spec_kvm_ioctl_number(numbers[i].name), numbers[i].nr);
}

/* Raw calls on the fake, arguments laid out by its own field names. */
struct raw {
	struct spec_kvm *k;
	const struct cvm_kvm_seam *s;
	int kvm, vm;
};

static void put(uint8_t *buf, const char *layout, const char *field, uint64_t v)
{
	unsigned off, size;
	if (spec_kvm_layout_field(layout, field, &off, &size))
		fail_msg("no %s.%s", layout, field);
	for (unsigned i = 0; i < size && i < 8; i++, v >>= 8)
		buf[off + i] = (uint8_t)v;
}

static uint64_t get(const uint8_t *buf, const char *layout, const char *field)
{
	unsigned off, size;
	if (spec_kvm_layout_field(layout, field, &off, &size))
		fail_msg("no %s.%s", layout, field);
	uint64_t v = 0;
	for (unsigned i = size < 8 ? size : 8; i-- > 0;)
		v = v << 8 | buf[off + i];
	return v;
}

static int raw_ioctl(struct raw *r, int fd, const char *name, unsigned long arg)
{
	unsigned long nr = spec_kvm_ioctl_number(name);
	assert_int_not_equal(nr, 0);
	return r->s->ops->ioctl(r->s->ctx, fd, nr, arg);
}

/* KVM_MEMORY_ENCRYPT_OP with an SEV (sev_fd) or TDX (flags) command. */
static int raw_sev(struct raw *r, uint32_t id, void *data, int sev_fd)
{
	uint8_t cmd[24] = {0};
	put(cmd, "kvm_sev_cmd", "id", id);
	put(cmd, "kvm_sev_cmd", "data", (uint64_t)(uintptr_t)data);
	put(cmd, "kvm_sev_cmd", "sev_fd", (uint64_t)sev_fd);
	return raw_ioctl(r, r->vm, "KVM_MEMORY_ENCRYPT_OP", (unsigned long)cmd);
}

static int raw_tdx(struct raw *r, int fd, uint32_t id, uint32_t flags, uint64_t data,
		   uint64_t hw_error)
{
	uint8_t cmd[24] = {0};
	put(cmd, "kvm_tdx_cmd", "id", id);
	put(cmd, "kvm_tdx_cmd", "flags", flags);
	put(cmd, "kvm_tdx_cmd", "data", data);
	put(cmd, "kvm_tdx_cmd", "hw_error", hw_error);
	return raw_ioctl(r, fd, "KVM_MEMORY_ENCRYPT_OP", (unsigned long)cmd);
}

static void raw_vm(struct raw *r, unsigned long type)
{
	r->k = new_fake();
	r->s = spec_kvm_seam(r->k);
	r->kvm = r->s->ops->open(r->s->ctx, "/dev/kvm", O_RDWR);
	assert_true(r->kvm >= 0);
	r->vm = raw_ioctl(r, r->kvm, "KVM_CREATE_VM", type);
	assert_true(r->vm >= 0);
}

/* Two pages of guest memory at GPA 0: a guest_memfd, a shared backing, one memslot. */
static uint8_t *raw_memory(struct raw *r)
{
	uint8_t g[64] = {0};
	put(g, "kvm_create_guest_memfd", "size", 8192);
	int gmem = raw_ioctl(r, r->vm, "KVM_CREATE_GUEST_MEMFD", (unsigned long)g);
	assert_true(gmem >= 0);
	void *shared = NULL;
	assert_int_equal(r->s->ops->mmap(r->s->ctx, 8192, PROT_READ | PROT_WRITE,
					 MAP_SHARED | MAP_ANONYMOUS, -1, &shared),
			 0);
	uint8_t m[160] = {0};
	put(m, "kvm_userspace_memory_region2", "flags", 4); /* KVM_MEM_GUEST_MEMFD */
	put(m, "kvm_userspace_memory_region2", "memory_size", 8192);
	put(m, "kvm_userspace_memory_region2", "userspace_addr", (uint64_t)(uintptr_t)shared);
	put(m, "kvm_userspace_memory_region2", "guest_memfd", (uint64_t)gmem);
	assert_int_equal(raw_ioctl(r, r->vm, "KVM_SET_USER_MEMORY_REGION2", (unsigned long)m), 0);
	return shared;
}

static int raw_private(struct raw *r, uint64_t gpa, uint64_t size)
{
	uint8_t a[32] = {0};
	put(a, "kvm_memory_attributes", "address", gpa);
	put(a, "kvm_memory_attributes", "size", size);
	put(a, "kvm_memory_attributes", "attributes", 1u << 3);
	return raw_ioctl(r, r->vm, "KVM_SET_MEMORY_ATTRIBUTES", (unsigned long)a);
}

static int raw_update(struct raw *r, uint8_t *lu, uint64_t gfn, uint64_t uaddr, uint8_t type)
{
	memset(lu, 0, 64);
	put(lu, "kvm_sev_snp_launch_update", "gfn_start", gfn);
	put(lu, "kvm_sev_snp_launch_update", "uaddr", uaddr);
	put(lu, "kvm_sev_snp_launch_update", "len", 4096);
	put(lu, "kvm_sev_snp_launch_update", "type", type);
	return raw_sev(r, 101, lu, -1);
}

static int raw_prefault(struct raw *r, int vcpu)
{
	uint8_t pf[64] = {0};
	put(pf, "kvm_pre_fault_memory", "size", 4096);
	return raw_ioctl(r, vcpu, "KVM_PRE_FAULT_MEMORY", (unsigned long)pf);
}

/* The SNP rules of the spec, one call each, on raw calls. */
static void spec_fake_refuses_what_the_kernel_refuses_for_snp(void **state)
{
	(void)state;
	struct raw r;
	raw_vm(&r, SPEC_VM_SNP);
	uint8_t init[48] = {0}, start[64] = {0}, lu[64], fin[88] = {0};
	uint8_t g[64] = {0};
	put(g, "kvm_create_guest_memfd", "size", 8192);
	/* memory and LAUNCH_START before INIT2 */
	assert_int_equal(raw_ioctl(&r, r.vm, "KVM_CREATE_GUEST_MEMFD", (unsigned long)g), -EINVAL);
	assert_int_equal(raw_sev(&r, 100, start, -1), -EINVAL);
	put(init, "kvm_sev_init", "flags", 1);
	assert_int_equal(raw_sev(&r, 22, init, -1), -EINVAL);
	put(init, "kvm_sev_init", "flags", 0);
	put(init, "kvm_sev_init", "vmsa_features", 1); /* SNPActive is KVM's own */
	assert_int_equal(raw_sev(&r, 22, init, -1), -EINVAL);
	put(init, "kvm_sev_init", "vmsa_features", 0);
	assert_int_equal(raw_sev(&r, 22, init, -1), 0);
	uint8_t *shared = raw_memory(&r);
	/* LAUNCH_START needs /dev/sev and policy bit 17 */
	put(start, "kvm_sev_snp_launch_start", "policy", 0x30000);
	assert_int_equal(raw_sev(&r, 100, start, 0), -EBADF);
	int sev = r.s->ops->open(r.s->ctx, "/dev/sev", O_RDWR);
	put(start, "kvm_sev_snp_launch_start", "policy", 0x10000);
	assert_int_equal(raw_sev(&r, 100, start, sev), -EINVAL);
	put(start, "kvm_sev_snp_launch_start", "policy", 0x30000);
	assert_int_equal(raw_sev(&r, 100, start, sev), 0);
	/* LAUNCH_UPDATE: private first, aligned readable source, once, no VMSA type */
	uint64_t src = (uint64_t)(uintptr_t)shared;
	assert_int_equal(raw_update(&r, lu, 0, src, 1), -EINVAL);
	assert_int_equal(raw_private(&r, 0, 8192), 0);
	assert_int_equal(raw_update(&r, lu, 0, src + 8, 1), -EINVAL);
	assert_int_equal(raw_update(&r, lu, 0, 0x1000, 1), -EFAULT);
	assert_int_equal(raw_update(&r, lu, 0, src, 2), -EINVAL);
	assert_int_equal(raw_update(&r, lu, 2, src, 1), -EINVAL); /* outside the slot */
	assert_int_equal(raw_update(&r, lu, 0, src, 1), 0);
	assert_int_equal(get(lu, "kvm_sev_snp_launch_update", "gfn_start"), 1);
	assert_int_equal(get(lu, "kvm_sev_snp_launch_update", "len"), 0);
	assert_int_equal(get(lu, "kvm_sev_snp_launch_update", "uaddr"), src + 4096);
	assert_int_equal(raw_update(&r, lu, 0, src, 1), -EEXIST);
	/* pre-fault: a vCPU ioctl, refused until LAUNCH_FINISH */
	int vcpu = raw_ioctl(&r, r.vm, "KVM_CREATE_VCPU", 0);
	assert_true(vcpu >= 0);
	assert_int_equal(raw_prefault(&r, r.vm), -ENOTTY);
	assert_int_equal(raw_prefault(&r, vcpu), -EOPNOTSUPP);
	assert_int_equal(raw_sev(&r, 102, fin, -1), 0);
	assert_int_equal(raw_prefault(&r, vcpu), 0);
	assert_int_equal(raw_update(&r, lu, 1, src, 3), -EINVAL);
	uint8_t regs[144] = {0};
	assert_int_equal(raw_ioctl(&r, vcpu, "KVM_SET_REGS", (unsigned long)regs), -EINVAL);
	/* a vCPU that never got its state: no digest rather than a guess */
	uint8_t ld[48];
	char why[160];
	assert_int_equal(spec_kvm_snp_digest(r.k, ld, why, sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "no KVM_SET_SREGS"));
	assert_non_null(strstr(spec_kvm_refusals(r.k), "SNP_LAUNCH_UPDATE: [0x0, +0x1000) is not PRIVATE"));
	spec_kvm_free(r.k);
}

static void mrtd_buffer(EVP_MD_CTX *md, const char *op, uint64_t gpa)
{
	uint8_t b[128] = {0};
	memcpy(b, op, strlen(op));
	for (int i = 0; i < 8; i++)
		b[16 + i] = (uint8_t)(gpa >> (8 * i));
	EVP_DigestUpdate(md, b, sizeof(b));
}

/* The TDX rules of the spec, one call each, on raw calls. */
static void spec_fake_refuses_what_the_kernel_refuses_for_tdx(void **state)
{
	(void)state;
	struct raw r;
	raw_vm(&r, SPEC_VM_TDX);
	assert_int_equal(raw_ioctl(&r, r.vm, "KVM_CREATE_VCPU", 0), -EINVAL); /* before INIT_VM */
	uint8_t *iv = calloc(1, 256 + 8);
	assert_non_null(iv);
	put(iv, "kvm_tdx_init_vm", "xfam", 0xe7);
	uint64_t ivp = (uint64_t)(uintptr_t)iv;
	assert_int_equal(raw_tdx(&r, r.vm, 1, 0, ivp, 1), -EINVAL); /* hw_error must be 0 */
	assert_int_equal(raw_tdx(&r, r.vm, 1, 0, ivp, 0), 0);
	free(iv);
	assert_int_equal(raw_ioctl(&r, r.vm, "KVM_CREATE_VCPU", 0), -EINVAL); /* no split irqchip */
	uint8_t cap[104] = {0};
	put(cap, "kvm_enable_cap", "cap", 121);
	assert_int_equal(raw_ioctl(&r, r.vm, "KVM_ENABLE_CAP", (unsigned long)cap), 0);
	int vcpu = raw_ioctl(&r, r.vm, "KVM_CREATE_VCPU", 0);
	assert_true(vcpu >= 0);
	uint8_t *shared = raw_memory(&r);
	uint8_t mr[24] = {0};
	put(mr, "kvm_tdx_init_mem_region", "source_addr", (uint64_t)(uintptr_t)shared);
	put(mr, "kvm_tdx_init_mem_region", "nr_pages", 2);
	uint64_t mrp = (uint64_t)(uintptr_t)mr;
	assert_int_equal(raw_tdx(&r, vcpu, 3, 0, mrp, 0), -EINVAL); /* before INIT_VCPU */
	assert_int_equal(raw_tdx(&r, vcpu, 2, 0, 0x1000, 0), 0);
	assert_int_equal(spec_kvm_tdx_vcpu_rcx(r.k, 0), 0x1000);
	assert_int_equal(raw_tdx(&r, vcpu, 3, 0, mrp, 0), -EINVAL); /* not private */
	assert_int_equal(raw_private(&r, 0, 8192), 0);
	assert_int_equal(raw_tdx(&r, vcpu, 3, 2, mrp, 0), -EINVAL); /* unknown flag */
	put(mr, "kvm_tdx_init_mem_region", "gpa", 1ull << 47);    /* the shared alias */
	assert_int_equal(raw_tdx(&r, vcpu, 3, 0, mrp, 0), -EINVAL);
	put(mr, "kvm_tdx_init_mem_region", "gpa", 0);
	assert_int_equal(raw_prefault(&r, vcpu), -EOPNOTSUPP);
	/* one page per call: EINTR with the struct advanced, then the rest */
	spec_kvm_set_chunk(r.k, 1);
	assert_int_equal(raw_tdx(&r, vcpu, 3, 0, mrp, 0), -EINTR);
	assert_int_equal(get(mr, "kvm_tdx_init_mem_region", "nr_pages"), 1);
	assert_int_equal(get(mr, "kvm_tdx_init_mem_region", "gpa"), 0x1000);
	assert_int_equal(get(mr, "kvm_tdx_init_mem_region", "source_addr"),
			 (uint64_t)(uintptr_t)shared + 0x1000);
	assert_int_equal(raw_tdx(&r, vcpu, 3, 0, mrp, 0), 0);
	assert_int_equal(get(mr, "kvm_tdx_init_mem_region", "nr_pages"), 0);
	assert_int_equal(raw_tdx(&r, r.vm, 4, 0, 0, 0), 0);
	put(mr, "kvm_tdx_init_mem_region", "nr_pages", 1);
	assert_int_equal(raw_tdx(&r, vcpu, 3, 0, mrp, 0), -EINVAL); /* after FINALIZE */
	assert_int_equal(raw_prefault(&r, vcpu), 0);
	uint8_t regs[144] = {0};
	assert_int_equal(raw_ioctl(&r, vcpu, "KVM_SET_REGS", (unsigned long)regs), -EINVAL);
	/* MRTD = SHA-384(PAGE.ADD 0 || PAGE.ADD 0x1000): no measure flag, no MR.EXTEND */
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t want[48], got[48];
	unsigned int n = 0;
	EVP_DigestInit_ex(md, EVP_sha384(), NULL);
	mrtd_buffer(md, "MEM.PAGE.ADD", 0);
	mrtd_buffer(md, "MEM.PAGE.ADD", 0x1000);
	EVP_DigestFinal_ex(md, want, &n);
	EVP_MD_CTX_free(md);
	assert_int_equal(spec_kvm_tdx_mrtd(r.k, got), 0);
	assert_memory_equal(got, want, 48);
	spec_kvm_free(r.k);
}

/* ---- SNP -------------------------------------------------------------------------------- */

static const char snp_policy_fmt[] =
	"{\"version\": 1, \"name\": \"snp-seam\", \"tee\": \"snp\", \"vmm\": \"qemu\","
	" \"cpus\": {\"count\": 2, \"model\": \"EPYC-Milan\"}, \"memory\": {\"size\": \"64M\"},"
	" \"firmware\": {\"path\": \"%s\"},"
	" \"snp\": {\"policy\": {\"smt\": true, \"debug\": false}, \"guest_features\": \"0x1\","
	"   \"host_data\": \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"},"
	" \"prefault\": {\"mode\": \"best-effort\"}}";

static struct cvm_policy *snp_policy(void)
{
	return fixture_policy(snp_policy_fmt, "snp/ovmf_AmdSev_suffix.bin");
}

/* spec/snp-measurement.md 3 and 9 over the AmdSev fixture's metadata (VECTORS.md). */
static const struct {
	uint64_t gpa, len, type;
} snp_expected[] = {
	{0xfffff000, 0x1000, 1}, {0x800000, 0x9000, 3}, {0x80a000, 0x3000, 3},
	{0x80d000, 0x1000, 5},   {0x80e000, 0x1000, 6}, {0x80f000, 0x1000, 3},
	{0x810000, 0x1000, 3},   {0x811000, 0xf000, 3},
};

static void snp_launch_issues_the_spec_sequence(void **state)
{
	(void)state;
	struct cvm_policy *p = snp_policy();
	if (!p)
		skip();
	struct spec_kvm *k = new_fake();
	spec_kvm_set_chunk(k, 4);                                 /* partial progress ... */
	spec_kvm_script(k, "SNP_LAUNCH_UPDATE", 0, 0, EAGAIN, 0); /* ... and one EAGAIN */
	struct cvm_launch *l = launch_ok(k, p);

	const struct spec_kvm_event *vm = must_find(k, "KVM_CREATE_VM", 0);
	assert_int_equal(vm->arg, SPEC_VM_SNP);
	/* INIT2 with vmsa_features = guest_features minus SNPActive */
	assert_int_equal(spec_kvm_field(must_find(k, "KVM_SEV_INIT2", 0), "vmsa_features"), 0);
	/* every guest_memfd without flags but the firmware's (MMAP, which this VM offers: in-place
	 * loading, tried and refused here as upstream), its slot gmem-backed and PRIVATE over the
	 * whole slot */
	size_t nslots = count_calls(k, "KVM_SET_USER_MEMORY_REGION2");
	assert_int_equal(nslots, 2);
	for (size_t i = 0; i < nslots; i++) {
		const struct spec_kvm_event *g = must_find(k, "KVM_CREATE_GUEST_MEMFD", i);
		const struct spec_kvm_event *s = must_find(k, "KVM_SET_USER_MEMORY_REGION2", i);
		const struct spec_kvm_event *a = must_find(k, "KVM_SET_MEMORY_ATTRIBUTES", i);
		assert_int_equal(spec_kvm_field(g, "flags"), i == 1 ? 1 : 0);
		assert_int_equal(spec_kvm_field(s, "flags"), 4);
		assert_int_equal(spec_kvm_field(s, "guest_memfd"), (uint64_t)g->rc);
		assert_int_equal(spec_kvm_field(s, "memory_size"), spec_kvm_field(g, "size"));
		assert_int_equal(spec_kvm_field(a, "address"), spec_kvm_field(s, "guest_phys_addr"));
		assert_int_equal(spec_kvm_field(a, "size"), spec_kvm_field(s, "memory_size"));
		assert_int_equal(spec_kvm_field(a, "attributes"), 1u << 3);
	}
	assert_int_equal(spec_kvm_field(must_find(k, "KVM_SET_USER_MEMORY_REGION2", 0), "memory_size"),
			 64u << 20);
	assert_int_equal(spec_kvm_field(must_find(k, "KVM_SET_USER_MEMORY_REGION2", 1),
					"guest_phys_addr"),
			 0xfffff000u);
	/* LAUNCH_START with the policy: SMT (bit 16) and the reserved bit 17 */
	assert_int_equal(spec_kvm_field(must_find(k, "SNP_LAUNCH_START", 0), "policy"), 0x30000);

	/* LAUNCH_UPDATEs: after the EAGAIN, each op from its GPA with its length and page type,
	 * then continued where the fake stopped (4 pages a call) */
	assert_int_equal(must_find(k, "SNP_LAUNCH_UPDATE", 0)->rc, -EAGAIN);
	size_t idx = 1;
	for (size_t i = 0; i < sizeof(snp_expected) / sizeof(snp_expected[0]); i++) {
		const struct spec_kvm_event *u = must_find(k, "SNP_LAUNCH_UPDATE", idx);
		assert_int_equal(spec_kvm_field(u, "gfn_start"), snp_expected[i].gpa >> 12);
		assert_int_equal(spec_kvm_field(u, "len"), snp_expected[i].len);
		assert_int_equal(spec_kvm_field(u, "type"), snp_expected[i].type);
		idx += (size_t)((snp_expected[i].len / 4096 + 3) / 4);
	}
	assert_null(spec_kvm_find(k, "SNP_LAUNCH_UPDATE", idx));
	/* the CPUID page is the table of the vCPUs' CPUID: 8 leaves, leaf 1 = EPYC-Milan */
	const uint8_t *cpuid = spec_kvm_snp_cpuid_page(k);
	assert_non_null(cpuid);
	assert_int_equal(cvm_le32(cpuid), 8);
	assert_int_equal(cvm_le32(cpuid + 16 + 48), 1);
	assert_int_equal(cvm_le32(cpuid + 16 + 48 + 24), 0xa00f11);
	for (size_t v = 0; v < 2; v++)
		assert_true(pos(k, "KVM_SET_CPUID2", v) < pos(k, "SNP_LAUNCH_UPDATE", 0));

	/* LAUNCH_FINISH carries host_data and no ID block; both VMSAs carry the signature */
	const uint8_t *hd = spec_kvm_snp_host_data(k);
	assert_non_null(hd);
	for (int i = 0; i < 32; i++)
		assert_int_equal(hd[i], i);
	assert_null(spec_kvm_snp_id_block(k));
	for (unsigned v = 0; v < 2; v++) {
		const uint8_t *vmsa = spec_kvm_snp_vmsa(k, v);
		assert_non_null(vmsa);
		assert_int_equal(cvm_le64(vmsa + 0x310), 0xa00f11); /* RDX */
		assert_int_equal(cvm_le64(vmsa + 0x3b0), 1);        /* SEV_FEATURES */
	}
	/* pre-fault, after the finish (the fake refuses it before), all of RAM */
	assert_true(pos(k, "KVM_PRE_FAULT_MEMORY", 0) > pos(k, "SNP_LAUNCH_FINISH", 0));
	assert_int_equal(cvm_launch_prefault_result(l)->done, 64u << 20);

	expect_digests_agree(k, l, p, NULL);
	cvm_launch_free(l);
	assert_int_equal(spec_kvm_live_maps(k), 0);
	spec_kvm_free(k);
	cvm_policy_free(p);
}

/* The example policy a user runs, as it is and with the unified OVMF.fd, with retries. */
/* ---- Firmware in place in guest_memfd (the posted series, docs/snp-launch.md) --------- */

#define ATTR2 "KVM_SET_MEMORY_ATTRIBUTES2"

/*
 * The example policy's OVMF (one firmware op) went in place: converted to shared (ZERO), then
 * after eagain refusals to private with PRESERVE, before its SNP_LAUNCH_UPDATE, which had no
 * source; the fake's digest (from the guest_memfd's bytes) equals cvmkit measure.
 */
static void expect_in_place(struct spec_kvm *k, struct cvm_launch *l, const struct cvm_policy *p,
			    unsigned eagain)
{
	const struct spec_kvm_event *sh = must_find(k, ATTR2, 0);
	uint64_t size = spec_kvm_field(sh, "size");
	assert_int_equal(sh->on, SPEC_FD_GMEM);
	assert_int_equal(spec_kvm_field(sh, "offset"), 0);
	assert_int_equal(spec_kvm_field(sh, "attributes"), 0);
	assert_int_equal(spec_kvm_field(sh, "flags"), 1); /* ZERO */
	const struct spec_kvm_event *pv = NULL;
	for (unsigned i = 1; i <= eagain + 1; i++) {
		pv = must_find(k, ATTR2, i);
		assert_int_equal(pv->rc, i <= eagain ? -EAGAIN : 0);
		assert_int_equal(spec_kvm_field(pv, "offset"), 0);
		assert_int_equal(spec_kvm_field(pv, "size"), size);
		assert_int_equal(spec_kvm_field(pv, "attributes"), 1u << 3);
		assert_int_equal(spec_kvm_field(pv, "flags"), 2); /* PRESERVE */
	}
	assert_null(spec_kvm_find(k, ATTR2, eagain + 2));
	const struct spec_kvm_event *up = NULL;
	for (size_t i = 0; (up = spec_kvm_find(k, "SNP_LAUNCH_UPDATE", i)); i++)
		if (spec_kvm_field(up, "gfn_start") == (CVM_KVM_FOUR_GIB - size) >> 12)
			break;
	assert_non_null(up);
	assert_true(up > pv);
	assert_int_equal(spec_kvm_field(up, "uaddr"), 0);
	assert_int_equal(spec_kvm_field(up, "len"), size);
	expect_digests_agree(k, l, p, NULL);
	const char *how = cvm_test_launch_entry(l, "snp_firmware_load");
	assert_non_null(how);
	assert_true(strncmp(how, "in place: ", 10) == 0);
}

static struct cvm_policy *ovmf_snp_policy(void)
{
	return example_policy("snp-qemu.json", NULL, NULL);
}

static void snp_firmware_loads_in_place_when_the_guest_memfd_offers_it(void **state)
{
	(void)state;
	struct cvm_policy *p = ovmf_snp_policy();
	for (int chunked = 0; chunked < 2; chunked++) {
		struct spec_kvm *k = new_fake();
		spec_kvm_set_gmem_attr2(k, true, true);
		spec_kvm_gmem_attr2_unmaps(k, true); /* the kernel takes mappings down itself */
		if (chunked)
			spec_kvm_set_chunk(k, 37); /* partial progress: still no source */
		struct cvm_launch *l = launch_ok(k, p);
		expect_in_place(k, l, p, 0);
		cvm_launch_free(l);
		assert_int_equal(spec_kvm_live_maps(k), 0);
		spec_kvm_free(k);
	}
	cvm_policy_free(p);
}

/* The fake refuses to convert what cvmkit still maps: it drops its mapping and retries. */
static void snp_firmware_in_place_retries_eagain_without_its_mapping(void **state)
{
	(void)state;
	struct cvm_policy *p = ovmf_snp_policy();
	struct spec_kvm *k = new_fake();
	spec_kvm_set_gmem_attr2(k, true, true);
	struct cvm_error err;
	int rc;
	struct cvm_launch *l = launch_on(k, p, &err, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(spec_kvm_refusals(k), "still mapped by the caller"));
	expect_in_place(k, l, p, 1);
	cvm_launch_free(l);
	spec_kvm_free(k);
	cvm_policy_free(p);
}

/* A launch the in-place path fails: named, error_offset reported when given, nothing left. */
static void expect_failed(const struct cvm_policy *p, int errno_, const char *says)
{
	int before = count_fds();
	struct spec_kvm *k = new_fake();
	spec_kvm_set_gmem_attr2(k, true, true);
	spec_kvm_gmem_attr2_fail(k, errno_, 1000, 0x7000);
	struct cvm_error err;
	int rc;
	struct cvm_launch *l = launch_on(k, p, &err, &rc);
	assert_int_equal(rc, -errno_);
	assert_null(l);
	print_message("# %s\n", cvm_error_message(&err));
	if (!strstr(cvm_error_message(&err), says))
		fail_msg("'%s' not in: %s", says, cvm_error_message(&err));
	assert_int_equal(spec_kvm_live_maps(k), 0);
	spec_kvm_free(k);
	assert_int_equal(count_fds(), before);
}

static void snp_firmware_in_place_failures_fail_the_launch_cleanly(void **state)
{
	(void)state;
	struct cvm_policy *p = ovmf_snp_policy();
	expect_failed(p, EAGAIN, "guest_memfd offset 0x7000 (gpa 0xffe27000) still has other "
				 "references");
	expect_failed(p, ENOMEM, "KVM_SET_MEMORY_ATTRIBUTES2(shared) firmware");
	cvm_policy_free(p);
}

/* The staged copy, and the launch document's reason, when the call is absent or refused. */
static void expect_staged(struct spec_kvm *k, const struct cvm_policy *p, const char *why)
{
	struct cvm_error err;
	int rc;
	struct cvm_launch *l = launch_on(k, p, &err, &rc);
	if (rc)
		fail_msg("launch: %s", cvm_error_message(&err));
	const struct spec_kvm_event *up = must_find(k, "SNP_LAUNCH_UPDATE", 0);
	assert_int_not_equal(spec_kvm_field(up, "uaddr"), 0);
	expect_digests_agree(k, l, p, NULL);
	const char *how = cvm_test_launch_entry(l, "snp_firmware_load");
	assert_non_null(how);
	print_message("# %s\n", how);
	if (!strstr(how, why) || strncmp(how, "staged copy (", 13))
		fail_msg("'%s' not in: %s", why, how);
	cvm_launch_free(l);
	spec_kvm_free(k);
}

static void snp_firmware_falls_back_to_the_staged_copy(void **state)
{
	(void)state;
	struct cvm_policy *p = ovmf_snp_policy();
	/* ENOTTY: every upstream kernel (the fake's default); tried once, on the guest_memfd */
	struct spec_kvm *k = new_fake();
	expect_staged(k, p, "KVM_SET_MEMORY_ATTRIBUTES2(shared) on the firmware's guest_memfd: "
			    "ENOTTY (not offered by this kernel)");
	/* EINVAL: no preservation for this VM type; the range is made private again first */
	k = new_fake();
	spec_kvm_set_gmem_attr2(k, true, false);
	expect_staged(k, p, "KVM_SET_MEMORY_ATTRIBUTES2(private, preserve) on the firmware's "
			    "guest_memfd: EINVAL");
	/* Upstream SNP: no MMAP for private memory, so the call is never tried. */
	k = new_fake();
	spec_kvm_set_gmem_attr2(k, true, true);
	spec_kvm_withhold_gmem_flags(k, 1);
	struct cvm_error err;
	int rc;
	struct cvm_launch *l = launch_on(k, p, &err, &rc);
	if (rc)
		fail_msg("launch: %s", cvm_error_message(&err));
	assert_null(spec_kvm_find(k, "KVM_SET_MEMORY_ATTRIBUTES2", 0));
	const struct spec_kvm_event *g;
	for (size_t i = 0; (g = spec_kvm_find(k, "KVM_CREATE_GUEST_MEMFD", i)); i++)
		assert_int_equal(spec_kvm_field(g, "flags"), 0);
	assert_string_equal(cvm_test_launch_entry(l, "snp_firmware_load"),
			    "staged copy (this VM's guest_memfd cannot be mapped "
			    "(KVM_CAP_GUEST_MEMFD_FLAGS on the VM))");
	expect_digests_agree(k, l, p, NULL);
	cvm_launch_free(l);
	spec_kvm_free(k);
	cvm_policy_free(p);
}

static void snp_example_policy_launches_to_the_offline_digest(void **state)
{
	(void)state;
	static const char *const firmware[] = {NULL, "/usr/share/ovmf/OVMF.fd"};
	for (size_t i = 0; i < 2; i++) {
		struct cvm_policy *p = example_policy(
			"snp-qemu.json", firmware[i] ? "/usr/share/OVMF/OVMF_CODE.fd" : NULL, firmware[i]);
		for (int retries = 0; retries < 2; retries++) {
			print_message("# %s, %s\n", p->firmware.path, retries ? "with retries" : "plain");
			struct spec_kvm *k = new_fake();
			if (retries) {
				spec_kvm_set_chunk(k, 37);
				spec_kvm_script(k, "SNP_LAUNCH_UPDATE", 2, 0, EAGAIN, 0);
			}
			struct cvm_launch *l = launch_ok(k, p);
			expect_digests_agree(k, l, p, NULL);
			assert_int_equal(count_calls(k, "KVM_CREATE_VCPU"), 4);
			cvm_launch_free(l);
			spec_kvm_free(k);
		}
		cvm_policy_free(p);
	}
}

/* 1 MiB of pseudo-random pages in front of the AmdSev fixture's metadata page: an AmdSev
 * firmware whose pages span several of the pool's chunks.  NULL without the fixture. */
static char *write_amdsev_firmware(void)
{
	static char path[64];
	char fixture_path[512];
	struct cvm_file tail;
	struct cvm_error err;
	if (!fixture(fixture_path, sizeof(fixture_path), "snp/ovmf_AmdSev_suffix.bin") ||
	    cvm_file_open(fixture_path, &tail, &err))
		return NULL;
	size_t front = 1u << 20;
	uint8_t *img = malloc(front + tail.size);
	assert_non_null(img);
	for (size_t i = 0; i < front; i++)
		img[i] = (uint8_t)((i * 2654435761u) >> 13);
	memcpy(img + front, tail.data, tail.size);
	snprintf(path, sizeof(path), "/tmp/cvmkit-amdsev-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, front + tail.size), (ssize_t)(front + tail.size));
	close(fd);
	free(img);
	cvm_file_close(&tail);
	return path;
}

/* The firmware's page hashes on a pool: the same digest (the fake's, `measure`'s) on every
 * thread count, for a multi-MiB firmware alone and for an AmdSev one with a direct boot. */
static void snp_launch_digest_does_not_depend_on_the_thread_count(void **state)
{
	(void)state;
	char *amdsev = write_amdsev_firmware();
	if (!amdsev)
		skip();
	struct cvm_policy *policies[2] = {example_policy("snp-qemu.json", NULL, NULL),
					  load_policy(snp_policy_fmt, amdsev)};
	policies[1]->boot.kernel = strdup("/dev/null");
	policies[1]->boot.initrd = strdup("/dev/null");
	for (size_t i = 0; i < 2; i++) {
		const struct cvm_policy *p = policies[i];
		char first[97] = "";
		for (unsigned threads = 0; threads <= 3; threads++) {
			print_message("# %s, %u threads\n", p->firmware.path, threads);
			struct spec_kvm *k;
			struct cvm_pool *pool;
			struct cvm_launch *l = launch_on_pool(p, threads, &k, &pool);
			expect_digests_agree(k, l, p, NULL);
			char got[97];
			hex48(cvm_launch_measurement(l)->digest, got);
			if (!first[0])
				memcpy(first, got, sizeof(got));
			assert_string_equal(got, first);
			cvm_launch_free(l);
			spec_kvm_free(k);
			cvm_pool_free(pool);
		}
	}
	/* A pin mismatch: without a pool refused before any VM; with one the SHA-256 runs beside
	   the planner and the mismatch fails the launch after the load, the VM torn down. */
	struct cvm_policy *p = policies[1];
	p->firmware.has_sha256 = true;
	memset(p->firmware.sha256, 0x5a, 32);
	for (unsigned threads = 1; threads <= 2; threads++) {
		struct cvm_pool *pool = NULL;
		struct cvm_error err;
		if (threads > 1)
			assert_int_equal(cvm_pool_new(threads, &pool, &err), 0);
		int before = count_fds();
		struct spec_kvm *k = new_fake();
		struct cvm_launch_options opts = {.seam = spec_kvm_seam(k), .pool = pool};
		struct cvm_launch *l = NULL;
		assert_int_equal(cvm_launch(p, &opts, &l, &err), -EINVAL);
		assert_null(l);
		assert_non_null(strstr(cvm_error_message(&err), "the policy pins 5a5a"));
		if (threads == 1)
			assert_null(spec_kvm_find(k, "KVM_CREATE_VM", 0));
		else
			assert_non_null(strstr(cvm_error_message(&err), "the VM is torn down"));
		assert_int_equal(spec_kvm_live_maps(k), 0);
		spec_kvm_free(k);
		cvm_pool_free(pool);
		assert_int_equal(count_fds(), before);
	}
	for (size_t i = 0; i < 2; i++)
		cvm_policy_free(policies[i]);
	unlink(amdsev);
}

/*
 * The VM is created and the firmware loaded from the plan ahead of the boot files' hashes: the
 * final plan may differ from it in the kernel-hashes page's bytes alone.
 */
static void snp_plan_ahead_differs_from_the_plan_only_in_the_hashes_page(void **state)
{
	(void)state;
	char *amdsev = write_amdsev_firmware();
	if (!amdsev)
		skip();
	struct cvm_policy *p = load_policy(snp_policy_fmt, amdsev);
	p->boot.kernel = strdup("/dev/null");
	p->boot.initrd = strdup("/dev/null");
	const struct cvm_tee_ops *tee = cvm_tee_ops_get(CVM_TEE_SNP);
	struct cvm_launch_inputs *in = NULL;
	struct cvm_plan plan, ahead;
	struct cvm_error err;
	assert_int_equal(cvm_launch_plan_build(p, NULL, &in, &plan, &err), 0);
	cvm_plan_init(&ahead, CVM_TEE_SNP);
	assert_int_equal(tee->plan_ahead(p, in, &ahead, &err), 0);
	assert_int_equal(cvm_plan_compare(&ahead, &plan, &err), -EPROTO);
	assert_non_null(strstr(cvm_error_message(&err), "SNP_KERNEL_HASHES"));
	assert_int_equal(tee->ahead_check(&ahead, &plan, &err), 0);

	plan.ops[0].gpa += 4096;
	assert_int_equal(tee->ahead_check(&ahead, &plan, &err), -EPROTO);
	assert_non_null(strstr(cvm_error_message(&err), "changed between the VM's creation"));
	plan.ops[0].gpa -= 4096;
	plan.snp.vmsa_features ^= 4;
	assert_int_equal(tee->ahead_check(&ahead, &plan, &err), -EPROTO);
	plan.snp.vmsa_features ^= 4;
	plan.nvcpus++;
	assert_int_equal(tee->ahead_check(&ahead, &plan, &err), -EPROTO);
	plan.nvcpus--;
	assert_int_equal(tee->ahead_check(&ahead, &plan, &err), 0);

	cvm_plan_release(&ahead);
	cvm_plan_release(&plan);
	cvm_launch_inputs_free(in);

	/* An initrd that cannot be hashed fails the launch after the VM's creation: torn down,
	   nothing leaked, the file named. */
	free(p->boot.initrd);
	p->boot.initrd = strdup("/nonexistent/initrd.img");
	int before = count_fds(), rc;
	struct spec_kvm *k = new_fake();
	struct cvm_launch *l = launch_on(k, p, &err, &rc);
	assert_int_equal(rc, -ENOENT);
	assert_null(l);
	assert_non_null(strstr(cvm_error_message(&err), "/nonexistent/initrd.img"));
	assert_int_equal(spec_kvm_live_maps(k), 0);
	spec_kvm_free(k);
	assert_int_equal(count_fds(), before);
	cvm_policy_free(p);
	unlink(amdsev);
}

/* sev-snp-measure's vectors (vectors/snp/VECTORS.md), launched through the seam. */
static const struct {
	const char *name, *fixture, *vmm, *model;
	unsigned vcpus;
	const char *features;
	bool kernel; /* kernel = initrd = /dev/null, empty command line */
	const char *expected;
} snp_vectors[] = {
	{"snp_without_kernel_default", "ovmf_AmdSev_suffix.bin", "qemu", "EPYC-v4", 1, "0x21", false,
	 "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b"},
	{"snp_without_kernel_feature_snp_only", "ovmf_AmdSev_suffix.bin", "qemu", "EPYC-v4", 1, "0x1",
	 false,
	 "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d"},
	{"snp_with_multiple_vcpus_default", "ovmf_AmdSev_suffix.bin", "qemu", "EPYC-v4", 4, "0x21",
	 true,
	 "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942"},
	{"snp_with_multiple_vcpus_feature_snp_only", "ovmf_AmdSev_suffix.bin", "qemu", "EPYC-v4", 4,
	 "0x1", true,
	 "5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5"},
	{"snp_with_ovmfx64_without_kernel_default", "ovmf_OvmfX64_suffix.bin", "qemu", "EPYC-v4", 1,
	 "0x21", false,
	 "28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385"},
	{"snp_ec2_default", "ovmf_AmdSev_suffix.bin", "ec2", "EPYC-v4", 1, "0x21", true,
	 "0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b71052498ab52b2f1aa415db338033946ef93aa8278c0d67fb"},
	{"snp_gce_with_multiple_vcpus", "ovmf_AmdSev_suffix.bin", "gce", NULL, 4, "0x1", true,
	 "5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d"},
};

static void snp_vector_policies_launch_to_the_reference_digests(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(snp_vectors) / sizeof(snp_vectors[0]); i++) {
		char fw[512], rel[128], text[1024], model[64] = "";
		snprintf(rel, sizeof(rel), "snp/%s", snp_vectors[i].fixture);
		if (!fixture(fw, sizeof(fw), rel))
			skip();
		print_message("# vector %s\n", snp_vectors[i].name);
		if (snp_vectors[i].model)
			snprintf(model, sizeof(model), ", \"model\": \"%s\"", snp_vectors[i].model);
		snprintf(text, sizeof(text),
			 "{\"version\": 1, \"tee\": \"snp\", \"vmm\": \"%s\", \"cpus\": {\"count\": %u%s},"
			 " \"memory\": {\"size\": \"64M\"}, \"firmware\": {\"path\": \"%s\"}%s,"
			 " \"snp\": {\"guest_features\": \"%s\"}}",
			 snp_vectors[i].vmm, snp_vectors[i].vcpus, model, fw,
			 snp_vectors[i].kernel ? ", \"boot\": {\"kernel\": \"/dev/null\", \"initrd\": "
						 "\"/dev/null\", \"cmdline\": \"\"}"
					       : "",
			 snp_vectors[i].features);
		struct cvm_policy *p = cvm_test_policy_from_text(text);
		struct spec_kvm *k = new_fake();
		struct cvm_launch *l = launch_ok(k, p);
		expect_digests_agree(k, l, p, snp_vectors[i].expected);
		cvm_launch_free(l);
		spec_kvm_free(k);
		cvm_policy_free(p);
	}
}

/* vmm gce: the launcher sets the guest PAT the GCE model assumes (0x70106), so the VMSA KVM
 * builds from the vCPU's state has it (KVM's own reset value would be 0x0007040600070406). */
static void gce_launch_sets_the_guest_pat_its_model_assumes(void **state)
{
	(void)state;
	char fw[512], text[1024];
	if (!fixture(fw, sizeof(fw), "snp/ovmf_AmdSev_suffix.bin"))
		skip();
	snprintf(text, sizeof(text),
		 "{\"version\": 1, \"tee\": \"snp\", \"vmm\": \"gce\", \"cpus\": {\"count\": 2},"
		 " \"memory\": {\"size\": \"64M\"}, \"firmware\": {\"path\": \"%s\"}}", fw);
	struct cvm_policy *p = cvm_test_policy_from_text(text);
	struct spec_kvm *k = new_fake();
	struct cvm_launch *l = launch_ok(k, p);
	for (unsigned v = 0; v < 2; v++) {
		const uint8_t *vmsa = spec_kvm_snp_vmsa(k, v);
		assert_non_null(vmsa);
		assert_int_equal(cvm_le64(vmsa + 0x268), 0x70106); /* VMSA g_pat */
	}
	cvm_launch_free(l);
	spec_kvm_free(k);
	cvm_policy_free(p);
}

/* PEM of a new P-384 private key, in a malloc'd string. */
static char *new_p384_pem(void)
{
	EVP_PKEY *pk = EVP_EC_gen("P-384");
	assert_non_null(pk);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	EVP_PKEY_free(pk);
	return buf;
}

/* dir/policy.json: a one-vCPU SNP policy on fw with the given snp.id_block members, loaded. */
static struct cvm_policy *id_block_policy(const char *dir, const char *fw, const char *id_block)
{
	char policy[96];
	snprintf(policy, sizeof(policy), "%s/policy.json", dir);
	FILE *pf = fopen(policy, "w");
	assert_non_null(pf);
	fprintf(pf, "{\"version\": 1, \"tee\": \"snp\", \"cpus\": {\"count\": 1, \"model\": \"EPYC\"},"
		    " \"memory\": {\"size\": \"64M\"}, \"firmware\": {\"path\": \"%s\"},"
		    " \"snp\": {\"id_block\": {%s}}}", fw, id_block);
	fclose(pf);
	struct cvm_policy *p = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_policy_load(policy, &p, NULL, &err), 0);
	unlink(policy);
	return p;
}

/*
 * snp.firmware_digest seeds `measure`; a launch loads the firmware itself, so the document
 * would name a digest built on the seed while the PSP measures the real pages: refused before
 * any VM exists.
 */
static void snp_launch_refuses_a_seeded_firmware_digest(void **state)
{
	(void)state;
	struct cvm_policy *p = snp_policy();
	if (!p)
		skip();
	p->snp.has_firmware_digest = true;
	memset(p->snp.firmware_digest, 0x11, 48);
	struct spec_kvm *k = new_fake();
	struct cvm_error err;
	int rc;
	struct cvm_launch *l = launch_on(k, p, &err, &rc);
	assert_null(l);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "snp.firmware_digest"));
	assert_null(spec_kvm_find(k, "KVM_CREATE_VM", 0));
	spec_kvm_free(k);
	cvm_policy_free(p);
}

/* An ID block signs the launch digest: the fake checks its LD as the PSP does. */
static void snp_launch_with_an_id_block_signs_its_digest(void **state)
{
	(void)state;
	char fw[512];
	if (!fixture(fw, sizeof(fw), "snp/ovmf_AmdSev_suffix.bin"))
		skip();
	char dir[] = "/tmp/cvmkit-test-id-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char key[64];
	snprintf(key, sizeof(key), "%s/id.pem", dir);
	char *pem = new_p384_pem();
	FILE *kf = fopen(key, "w");
	assert_non_null(kf);
	fputs(pem, kf);
	fclose(kf);
	free(pem);
	struct cvm_policy *p = id_block_policy(dir, fw, "\"guest_svn\": 7, \"id_key\": \"id.pem\"");

	struct spec_kvm *k = new_fake();
	struct cvm_launch *l = launch_ok(k, p);
	expect_digests_agree(k, l, p, NULL);
	const uint8_t *id_block = spec_kvm_snp_id_block(k);
	assert_non_null(id_block);
	assert_memory_equal(id_block, cvm_launch_measurement(l)->digest, 48); /* LD */
	assert_int_equal(cvm_le32(id_block + 0x50), 1);             /* VERSION */
	assert_int_equal(cvm_le32(id_block + 0x54), 7);             /* GUEST_SVN */
	assert_int_equal(cvm_le64(id_block + 0x58), 0x30000);       /* POLICY */
	const struct spec_kvm_event *fin = must_find(k, "SNP_LAUNCH_FINISH", 0);
	assert_int_equal(spec_kvm_field(fin, "id_block_en"), 1);
	assert_int_equal(spec_kvm_field(fin, "auth_key_en"), 0);
	assert_true(cvm_launch_measurement(l)->has_id_key_digest);
	cvm_launch_free(l);
	spec_kvm_free(k);

	/* On a pool the firmware's SHA-256 runs beside the planner, but a plan signed from its
	   document is checked whole first: the document refuses the pin before any VM. */
	struct cvm_pool *pool = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_pool_new(2, &pool, &err), 0);
	p->firmware.has_sha256 = true;
	memset(p->firmware.sha256, 0x5a, 32);
	k = new_fake();
	struct cvm_launch_options opts = {.seam = spec_kvm_seam(k), .pool = pool};
	l = NULL;
	assert_int_equal(cvm_launch(p, &opts, &l, &err), -EINVAL);
	assert_null(l);
	assert_non_null(strstr(cvm_error_message(&err), "the policy pins 5a5a"));
	assert_null(spec_kvm_find(k, "KVM_CREATE_VM", 0));
	assert_int_equal(spec_kvm_live_maps(k), 0);
	spec_kvm_free(k);
	cvm_pool_free(pool);
	cvm_policy_free(p);
	unlink(key);
	rmdir(dir);
}

/*
 * The ID key is read for the document's id_key_digest and again to sign: a key file that
 * changes in between (a FIFO whose writer serves one key, then another) fails the launch
 * before any VM exists, instead of a document naming a key the PSP never saw.
 */
static void snp_launch_refuses_an_id_key_that_changes(void **state)
{
	(void)state;
	char fw[512];
	if (!fixture(fw, sizeof(fw), "snp/ovmf_AmdSev_suffix.bin"))
		skip();
	char dir[] = "/tmp/cvmkit-test-id-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char key[64];
	snprintf(key, sizeof(key), "%s/id.pem", dir);
	struct cvm_policy *p = id_block_policy(dir, fw, "\"id_key\": \"id.pem\"");
	struct cvm_error err;
	char *pems[2] = {new_p384_pem(), new_p384_pem()};
	assert_int_equal(mkfifo(key, 0600), 0);
	pid_t w = fork();
	assert_true(w >= 0);
	if (w == 0) {
		/* Each open of the FIFO gets key 0 the first time, key 1 after, until killed.  A
		   write that found the reader gone (EPIPE) is served again; a write can also join the
		   stream of a reader that has not seen EOF yet, after the PEM it already has. */
		signal(SIGPIPE, SIG_IGN);
		for (int served = 0;;) {
			int fd = open(key, O_WRONLY);
			const char *pem = pems[served ? 1 : 0];
			if (fd < 0)
				_exit(1);
			if (write(fd, pem, strlen(pem)) == (ssize_t)strlen(pem))
				served++;
			close(fd);
			usleep(5000); /* pacing only: lets the reader see its EOF */
		}
	}
	struct spec_kvm *k = new_fake();
	int rc;
	struct cvm_launch *l = launch_on(k, p, &err, &rc);
	kill(w, SIGKILL);
	waitpid(w, NULL, 0);
	assert_null(l);
	assert_int_equal(rc, -EAGAIN);
	assert_non_null(strstr(cvm_error_message(&err), "snp.id_block.id_key: the key file changed"));
	assert_null(spec_kvm_find(k, "KVM_CREATE_VM", 0));
	spec_kvm_free(k);
	cvm_policy_free(p);
	free(pems[0]);
	free(pems[1]);
	unlink(key);
	rmdir(dir);
}

static void snp_firmware_error_is_reported_with_its_code(void **state)
{
	(void)state;
	struct cvm_policy *p = snp_policy();
	if (!p)
		skip();
	struct spec_kvm *k = new_fake();
	spec_kvm_script(k, "SNP_LAUNCH_UPDATE", 0, 0, EIO, 0x16); /* INVALID_PARAM */
	struct cvm_error err;
	int rc;
	struct cvm_launch *l = launch_on(k, p, &err, &rc);
	assert_null(l);
	assert_int_equal(rc, -EIO);
	/* The shape error.h shows: outermost context first, the firmware status last. */
	assert_string_equal(cvm_error_message(&err),
			    "launch: kvm-snp: op 0 (firmware gpa 0xfffff000): SNP_LAUNCH_UPDATE gpa "
			    "0xfffff000 (NORMAL): EIO (firmware status 0x16)");
	assert_true(err.has_fw_status);
	assert_int_equal(err.fw_status, 0x16);
	spec_kvm_free(k);
	cvm_policy_free(p);
}

static void snp_refused_when_host_lacks_the_vm_type(void **state)
{
	(void)state;
	struct cvm_policy *p = snp_policy();
	if (!p)
		skip();
	struct spec_kvm *k = new_fake();
	spec_kvm_set_vm_types(k, 1);
	struct cvm_error err;
	int rc;
	int before = count_fds();
	struct cvm_launch *l = launch_on(k, p, &err, &rc);
	assert_null(l);
	assert_int_equal(rc, -EOPNOTSUPP);
	assert_non_null(strstr(cvm_error_message(&err),
			       "SEV-SNP VMs are not supported by this host's KVM (KVM_CAP_VM_TYPES = 0x1)"));
	assert_null(spec_kvm_find(k, "KVM_CREATE_VM", 0));
	assert_int_equal(count_fds(), before);
	spec_kvm_free(k);
	cvm_policy_free(p);
}

/* ---- SNP: the CPUID page and the SEV features ------------------------------------------- */

/* A register (0 eax .. 3 edx) of CPUID fn/idx in a KVM_SET_CPUID2 event, by the fake's layout. */
static uint32_t set_cpuid_reg(const struct spec_kvm_event *e, uint32_t fn, uint32_t idx,
			      unsigned reg)
{
	static const char *const regs[] = {"eax", "ebx", "ecx", "edx"};
	unsigned off_fn, off_idx, off_reg, size, hdr = spec_kvm_layout_size("kvm_cpuid2");
	unsigned esize = spec_kvm_layout_size("kvm_cpuid_entry2");
	assert_int_equal(spec_kvm_layout_field("kvm_cpuid_entry2", "function", &off_fn, &size), 0);
	assert_int_equal(spec_kvm_layout_field("kvm_cpuid_entry2", "index", &off_idx, &size), 0);
	assert_int_equal(spec_kvm_layout_field("kvm_cpuid_entry2", regs[reg], &off_reg, &size), 0);
	uint32_t n = (uint32_t)spec_kvm_field(e, "nent");
	for (uint32_t i = 0; i < n && hdr + (i + 1) * esize <= SPEC_KVM_IN_MAX; i++) {
		const uint8_t *en = e->in + hdr + i * esize;
		if (cvm_le32(en + off_fn) == fn && cvm_le32(en + off_idx) == idx)
			return cvm_le32(en + off_reg);
	}
	fail_msg("KVM_SET_CPUID2 has no leaf 0x%x.%u", fn, idx);
	return 0;
}

/* A register of CPUID fn/idx in an SNP CPUID page (entries of 48 bytes after 16). */
static uint32_t page_cpuid_reg(const uint8_t *page, uint32_t fn, uint32_t idx, unsigned reg)
{
	for (uint32_t i = 0; i < cvm_le32(page) && i < 64; i++) {
		const uint8_t *en = page + 16 + 48 * i;
		if (cvm_le32(en) == fn && cvm_le32(en + 4) == idx)
			return cvm_le32(en + 24 + 4 * reg);
	}
	fail_msg("the CPUID page has no leaf 0x%x.%u", fn, idx);
	return 0;
}

/*
 * The fake host offers TSC_DEADLINE, TSC_ADJUST, SPEC_CTRL..SSBD and VIRT_SSBD, which its PSP
 * refuses: the vCPUs and the page get them cleared (QEMU's mask), everything else untouched, and
 * the PSP accepts the page at the first try.
 */
static void snp_cpuid_drops_what_the_firmware_refuses(void **state)
{
	(void)state;
	struct cvm_policy *p = snp_policy();
	if (!p)
		skip();
	struct spec_kvm *k = new_fake();
	struct cvm_launch *l = launch_ok(k, p);
	const uint8_t *page = spec_kvm_snp_cpuid_page(k);
	assert_non_null(page);
	assert_int_equal(spec_kvm_snp_cpuid_rejections(k), 0);
	const struct cvm_measurement *m = cvm_launch_measurement(l);
	for (size_t i = 0; i < m->nlaunch; i++)
		assert_string_not_equal(m->launch[i].key, "snp_cpuid_page");
	static const struct {
		uint32_t fn, idx;
		unsigned reg;
		uint32_t want;
	} regs[] = {
		{0x1, 0, 2, 0x7ef8320b},        /* ECX without TSC_DEADLINE (24) */
		{0x1, 0, 3, 0x178bfbff},        /* EDX untouched */
		{0x7, 0, 1, 0x219c97a9},        /* EBX without TSC_ADJUST (1) */
		{0x7, 0, 2, 0x0040068c},        /* ECX untouched */
		{0x7, 0, 3, 0x00000010},        /* EDX without bits 26-31 */
		{0x80000008, 0, 1, 0x39b7d7ff}, /* EBX without VIRT_SSBD (25) */
	};
	for (size_t v = 0; v < 2; v++) {
		const struct spec_kvm_event *e = must_find(k, "KVM_SET_CPUID2", v);
		for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
			assert_int_equal(set_cpuid_reg(e, regs[i].fn, regs[i].idx, regs[i].reg),
					 regs[i].want);
	}
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		assert_int_equal(page_cpuid_reg(page, regs[i].fn, regs[i].idx, regs[i].reg),
				 regs[i].want);
	cvm_launch_free(l);
	spec_kvm_free(k);
	cvm_policy_free(p);
}

/* Leaf 1 EAX is the policy's vCPU signature (the VMSA's RDX), not the host's, though the VM
 * is created from the plan ahead of the boot files' hashes. */
static void snp_vcpus_get_the_policys_signature(void **state)
{
	(void)state;
	char *amdsev = write_amdsev_firmware();
	if (!amdsev)
		skip();
	static const char *const models[] = {"EPYC-Genoa", "EPYC-Rome"};
	for (size_t m = 0; m < 2; m++) {
		struct cvm_policy *p = load_policy(snp_policy_fmt, amdsev);
		free(p->cpus.model);
		p->cpus.model = strdup(models[m]);
		p->boot.kernel = strdup("/dev/null");
		uint32_t want = 0;
		assert_int_equal(cvm_snp_cpu_model_signature(models[m], &want), 0);
		struct spec_kvm *k = new_fake();
		struct cvm_launch *l = launch_ok(k, p);
		for (size_t v = 0; v < 2; v++)
			assert_int_equal(set_cpuid_reg(must_find(k, "KVM_SET_CPUID2", v), 1, 0, 0), want);
		cvm_launch_free(l);
		spec_kvm_free(k);
		cvm_policy_free(p);
	}
	unlink(amdsev);
}

static const char snp_cpuid_retry_policy_fmt[] =
	"{\"version\": 1, \"name\": \"snp-cpuid\", \"tee\": \"snp\", \"vmm\": \"qemu\","
	" \"cpus\": {\"count\": 2, \"model\": \"EPYC-Milan\"}, \"memory\": {\"size\": \"64M\"},"
	" \"firmware\": {\"path\": \"%s\"}, \"snp\": {\"cpuid_retry\": true}}";

/* The PSP of this host refuses two more bits than the firmware's list (FSGSBASE, and AMD's
 * leaf 0x80000001 ECX bit 0 LAHF_LM); the page the launcher gives has both set. */
static void refuse_two_more_bits(struct spec_kvm *k)
{
	spec_kvm_snp_cpuid_refuse(k, 0x7, 0, 1, 1u << 0);
	spec_kvm_snp_cpuid_refuse(k, 0x80000001, ~0u, 2, 1u << 0);
}

static void snp_rejected_cpuid_page_is_reported_per_register(void **state)
{
	(void)state;
	struct cvm_policy *p = snp_policy();
	if (!p)
		skip();
	struct spec_kvm *k = new_fake();
	refuse_two_more_bits(k);
	struct cvm_error err;
	int rc, before = count_fds();
	struct cvm_launch *l = launch_on(k, p, &err, &rc);
	assert_null(l);
	assert_int_equal(rc, -EIO);
	assert_int_equal(spec_kvm_snp_cpuid_rejections(k), 1);
	/* QEMU's words, one register each, then the failing call and its firmware status */
	assert_string_equal(cvm_error_message(&err),
			    "launch: kvm-snp: op 4 (CPUID gpa 0x80e000): the PSP rejected the CPUID "
			    "page (2 differences: function 0x7 index 0x0 ebx: provided 0x219c97a9, "
			    "expected 0x219c97a8; function 0x80000001 index 0x0 ecx: provided "
			    "0x75c237ff, expected 0x75c237fe; snp.cpuid_retry retries with its values): "
			    "SNP_LAUNCH_UPDATE gpa 0x80e000 (CPUID): EIO (firmware status 0x16)");
	assert_true(err.has_fw_status);
	assert_int_equal(err.fw_status, 0x16);
	assert_null(spec_kvm_snp_cpuid_page(k));
	assert_int_equal(count_fds(), before);
	assert_int_equal(spec_kvm_live_maps(k), 0);
	spec_kvm_free(k);
	cvm_policy_free(p);
}

static void snp_rejected_cpuid_page_is_retried_when_the_policy_allows(void **state)
{
	(void)state;
	struct cvm_policy *p = fixture_policy(snp_cpuid_retry_policy_fmt, "snp/ovmf_AmdSev_suffix.bin");
	if (!p)
		skip();
	struct spec_kvm *k = new_fake();
	refuse_two_more_bits(k);
	struct cvm_launch *l = launch_ok(k, p);
	assert_int_equal(spec_kvm_snp_cpuid_rejections(k), 1);
	/* the CPUID page twice, from the same GPA: refused, then accepted with the corrections */
	const struct spec_kvm_event *cpuid[2] = {NULL, NULL};
	unsigned n = 0;
	for (size_t i = 0; spec_kvm_find(k, "SNP_LAUNCH_UPDATE", i); i++) {
		const struct spec_kvm_event *u = spec_kvm_find(k, "SNP_LAUNCH_UPDATE", i);
		if (spec_kvm_field(u, "type") == 6) {
			assert_true(n < 2);
			cpuid[n++] = u;
		}
	}
	assert_int_equal(n, 2);
	assert_int_equal(cpuid[0]->rc, -EIO);
	assert_int_equal(cpuid[1]->rc, 0);
	assert_int_equal(spec_kvm_field(cpuid[1], "gfn_start"), 0x80e);
	assert_int_equal(spec_kvm_field(cpuid[1], "len"), 4096);
	const uint8_t *page = spec_kvm_snp_cpuid_page(k);
	assert_non_null(page);
	assert_int_equal(page_cpuid_reg(page, 0x7, 0, 1), 0x219c97a8);
	assert_int_equal(page_cpuid_reg(page, 0x80000001, 0, 2), 0x75c237fe);
	/* the launch document says so */
	const struct cvm_measurement *m = cvm_launch_measurement(l);
	const char *said = NULL;
	for (size_t i = 0; i < m->nlaunch; i++)
		if (strcmp(m->launch[i].key, "snp_cpuid_page") == 0)
			said = m->launch[i].value;
	assert_non_null(said);
	assert_string_equal(said, "corrected by the PSP, retried with its values");
	/* the CPUID page is not measured: the digest is the offline one */
	expect_digests_agree(k, l, p, NULL);
	cvm_launch_free(l);
	spec_kvm_free(k);
	cvm_policy_free(p);
}

/* The SNP seam policy (2 vCPUs, EPYC-Milan) with snp keys of its own; NULL without the fixture. */
static struct cvm_policy *snp_policy_with(const char *snp_keys)
{
	char fw[512], text[2048];
	if (!fixture(fw, sizeof(fw), "snp/ovmf_AmdSev_suffix.bin"))
		return NULL;
	snprintf(text, sizeof(text),
		 "{\"version\": 1, \"name\": \"snp-features\", \"tee\": \"snp\", \"vmm\": \"qemu\","
		 " \"cpus\": {\"count\": 2, \"model\": \"EPYC-Milan\"}, \"memory\": {\"size\": \"64M\"},"
		 " \"firmware\": {\"path\": \"%s\"}, \"snp\": {%s}}",
		 fw, snp_keys);
	return cvm_test_policy_from_text(text);
}

#define HOST_SEV_FEATURES (CVM_SEV_FEATURE_DEBUG_SWAP | CVM_SEV_FEATURE_SECURE_TSC | \
			   CVM_SEV_FEATURE_SECURE_AVIC)

/*
 * Named SEV features on a host that offers them: the documented sequence (docs/snp-launch.md)
 * and the digest sev-snp-measure 0.0.13 prints for the same guest (--mode snp --vcpus 2
 * --vcpu-type EPYC-Milan --ovmf ovmf_AmdSev_suffix.bin --guest-features F).
 */
static void snp_named_features_follow_the_documented_sequence(void **state)
{
	(void)state;
	static const struct {
		const char *keys;
		uint64_t features;
		uint32_t tsc_khz; /* KVM_SET_TSC_KHZ expected (0: none) */
		const char *digest;
	} cases[] = {
		{"\"features\": [\"DebugSwap\"]", 0x21, 0,
		 "2939f85e9efe5dc13bf200ff25ddd14d5242df1821f5e642878caa9e11e58c02358740bfe12c72360baa3aec4bf671ee"},
		{"\"features\": [\"SecureTSC\"], \"tsc_khz\": 1800000", 0x201, 1800000,
		 "f1a457a3da8aa2f5605f41e6ddb0b3044e714457e9d907882a7b8b1ff2b94b977c9f28211a79652f923522801e27441b"},
		{"\"features\": [\"SecureAVIC\"]", 0x10001, 0,
		 "2ba5cf14ea2ade567979908ddb13c01738bf2ff80b74c50258b20ef7bc34d08e2f4097c8cd7623ed94c54d25b26830f8"},
		{"\"features\": [\"SecureTSC\", \"DebugSwap\", \"SecureAVIC\"], \"guest_features\": \"0x10221\"",
		 0x10221, 0,
		 "43a9771c759ae2a950e62f7bdac17b25b328109ef4e0ee7e72b5e62eed76205407ef09f0c27ae6af3617705255b377d0"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cvm_policy *p = snp_policy_with(cases[i].keys);
		if (!p)
			skip();
		print_message("# %s\n", cases[i].keys);
		assert_int_equal(p->snp.guest_features, cases[i].features);
		struct spec_kvm *k = new_fake();
		spec_kvm_set_sev_vmsa_features(k, HOST_SEV_FEATURES, 0);
		struct cvm_launch *l = launch_ok(k, p);
		/* the host's features are read on /dev/kvm before the VM exists */
		const struct spec_kvm_event *attr = must_find(k, "KVM_GET_DEVICE_ATTR", 0);
		assert_int_equal(attr->on, SPEC_FD_SYS);
		assert_int_equal(spec_kvm_field(attr, "group"), 1);
		assert_int_equal(spec_kvm_field(attr, "attr"), 0);
		assert_true(spec_kvm_pos(k, attr) < pos(k, "KVM_CREATE_VM", 0));
		/* INIT2 asks for them (SNPActive is KVM's own) */
		assert_int_equal(spec_kvm_field(must_find(k, "KVM_SEV_INIT2", 0), "vmsa_features"),
				 cases[i].features & ~1ull);
		/* SecureTSC: the VM's TSC before LAUNCH_START and any vCPU, handed to the firmware */
		const struct spec_kvm_event *tsc = spec_kvm_find(k, "KVM_SET_TSC_KHZ", 0);
		uint32_t desired = 0;
		if (cases[i].tsc_khz) {
			assert_non_null(tsc);
			assert_int_equal(tsc->on, SPEC_FD_VM);
			assert_int_equal(tsc->arg, cases[i].tsc_khz);
			assert_true(spec_kvm_pos(k, tsc) > pos(k, "KVM_SEV_INIT2", 0));
			assert_true(spec_kvm_pos(k, tsc) < pos(k, "SNP_LAUNCH_START", 0));
			assert_true(spec_kvm_pos(k, tsc) < pos(k, "KVM_CREATE_VCPU", 0));
		} else {
			assert_null(tsc);
		}
		if (cases[i].features & CVM_SEV_FEATURE_SECURE_TSC) {
			assert_int_equal(spec_kvm_snp_desired_tsc_khz(k, &desired), 0);
			assert_int_equal(desired, cases[i].tsc_khz ? cases[i].tsc_khz : SPEC_HOST_TSC_KHZ);
		} else {
			assert_int_equal(spec_kvm_snp_desired_tsc_khz(k, &desired), -ENODATA);
		}
		/* both VMSAs carry SEV_FEATURES, and the digest is sev-snp-measure's */
		for (unsigned v = 0; v < 2; v++)
			assert_int_equal(cvm_le64(spec_kvm_snp_vmsa(k, v) + 0x3b0), cases[i].features);
		expect_digests_agree(k, l, p, cases[i].digest);
		cvm_launch_free(l);
		spec_kvm_free(k);
		cvm_policy_free(p);
	}
}

/* The host's SEV features as the library reads them (cvmkit host prints these). */
static void sev_vmsa_features_are_read_on_dev_kvm(void **state)
{
	(void)state;
	struct spec_kvm *k = new_fake();
	struct cvm_error err;
	uint64_t f = 0;
	spec_kvm_set_sev_vmsa_features(k, HOST_SEV_FEATURES, 0);
	cvm_error_clear(&err);
	assert_int_equal(cvm_kvm_sev_vmsa_features(spec_kvm_seam(k), &f, &err), 0);
	assert_int_equal(f, 0x10220);
	char text[128];
	cvm_sev_features_text(f, ", ", text, sizeof(text));
	assert_string_equal(text, "DebugSwap, SecureTSC, SecureAVIC");
	assert_int_equal(must_find(k, "KVM_GET_DEVICE_ATTR", 0)->on, SPEC_FD_SYS);
	spec_kvm_set_sev_vmsa_features(k, 0, ENXIO);
	assert_int_equal(cvm_kvm_sev_vmsa_features(spec_kvm_seam(k), &f, &err), -ENXIO);
	assert_string_equal(cvm_error_message(&err),
			    "KVM_GET_DEVICE_ATTR(KVM_X86_GRP_SEV, KVM_X86_SEV_VMSA_FEATURES): ENXIO "
			    "(this host's KVM has no SEV support)");
	assert_int_equal(f, 0x10220); /* untouched on failure */
	spec_kvm_free(k);
}

/* A feature the host's KVM lacks, or a KVM without SEV: refused before any VM exists. */
static void snp_launch_refuses_features_the_host_lacks_before_creating_anything(void **state)
{
	(void)state;
	struct cvm_policy *p = snp_policy_with("\"features\": [\"DebugSwap\", \"SecureAVIC\"]");
	if (!p)
		skip();
	for (int no_sev = 0; no_sev < 2; no_sev++) {
		struct spec_kvm *k = new_fake();
		spec_kvm_set_sev_vmsa_features(k, CVM_SEV_FEATURE_DEBUG_SWAP, no_sev ? ENXIO : 0);
		struct cvm_error err;
		int rc, before = count_fds();
		struct cvm_launch *l = launch_on(k, p, &err, &rc);
		assert_null(l);
		if (no_sev) {
			assert_int_equal(rc, -ENXIO);
			assert_string_equal(cvm_error_message(&err),
					    "launch: kvm-snp: begin: the policy asks for SEV features "
					    "DebugSwap, SecureAVIC (0x10020) and the host cannot say which "
					    "it supports: KVM_GET_DEVICE_ATTR(KVM_X86_GRP_SEV, "
					    "KVM_X86_SEV_VMSA_FEATURES): ENXIO (this host's KVM has no SEV "
					    "support)");
		} else {
			assert_int_equal(rc, -EOPNOTSUPP);
			assert_string_equal(cvm_error_message(&err),
					    "launch: kvm-snp: begin: this host's KVM cannot enable the SEV "
					    "feature SecureAVIC (0x10000) the policy asks for (it offers "
					    "DebugSwap, 0x20): remove it from snp.features or "
					    "snp.guest_features, or launch on a host that has it");
		}
		assert_null(spec_kvm_find(k, "KVM_CREATE_VM", 0));
		/* the attribute was the last call, and none was issued on a VM */
		size_t n = spec_kvm_nevents(k);
		assert_string_equal(spec_kvm_event_at(k, n - 1)->name, "KVM_GET_DEVICE_ATTR");
		for (size_t i = 0; i < n; i++)
			assert_int_not_equal(spec_kvm_event_at(k, i)->on, SPEC_FD_VM);
		assert_int_equal(count_fds(), before);
		spec_kvm_free(k);
	}
	cvm_policy_free(p);
}

/* ---- TDX -------------------------------------------------------------------------------- */

static const char tdx_policy_fmt[] =
	"{\"version\": 1, \"name\": \"tdx-seam\", \"tee\": \"tdx\", \"vmm\": \"qemu\","
	" \"cpus\": {\"count\": 2}, \"memory\": {\"size\": \"64M\"},"
	" \"firmware\": {\"path\": \"%s\"},"
	" \"tdx\": {\"attributes\": {\"debug\": false, \"sept_ve_disable\": true}, \"xfam\": \"0xe7\"},"
	" \"prefault\": {\"mode\": \"best-effort\"}}";

static struct cvm_policy *tdx_policy(void)
{
	return fixture_policy(tdx_policy_fmt, "tdx/synth_tdvf.bin");
}

/* VECTORS.md C: BFV 0x8000 @0xffff8000 MR_EXTEND, CFV 0x2000 @0xffff0000, TD_HOB
 * 0x809000+0x2000, TempMem 0x800000+0x6000, in metadata order. */
static const struct {
	uint64_t gpa, pages;
	uint32_t flags;
} tdx_expected[] = {
	{0xffff8000, 8, 1},
	{0xffff0000, 2, 0},
	{0x809000, 2, 0},
	{0x800000, 6, 0},
};

#define SYNTH_MRTD                                                                            \
	"9f6f2b4794af938d8e88008dac7ef1351b96cdb56e081987a8cb5c078182f9db912e13b712456b81d579d00e" \
	"dbebd1c0"

static void tdx_launch_issues_the_spec_sequence(void **state)
{
	(void)state;
	struct cvm_policy *p = tdx_policy();
	if (!p)
		skip();
	struct spec_kvm *k = new_fake();
	/* entropy, contention and signals: every retry path of the launcher */
	spec_kvm_script(k, "KVM_TDX_INIT_VM", 0, 0, EAGAIN, 0);
	spec_kvm_script(k, "KVM_TDX_INIT_MEM_REGION", 0, 0, EBUSY, 0);
	spec_kvm_script(k, "KVM_TDX_INIT_MEM_REGION", 2, 1, EAGAIN, 0);
	spec_kvm_script(k, "KVM_TDX_FINALIZE_VM", 0, 0, EBUSY, 0);
	spec_kvm_set_chunk(k, 3);
	struct cvm_launch *l = launch_ok(k, p);

	assert_int_equal(must_find(k, "KVM_CREATE_VM", 0)->arg, SPEC_VM_TDX);
	/* CAPABILITIES: 6 entries -> E2BIG -> 12 */
	const struct spec_kvm_event *c0 = must_find(k, "KVM_TDX_CAPABILITIES", 0);
	assert_int_equal(c0->rc, -E2BIG);
	assert_int_equal(cvm_le32(c0->in + 2048), 6);
	const struct spec_kvm_event *c1 = must_find(k, "KVM_TDX_CAPABILITIES", 1);
	assert_int_equal(c1->rc, 0);
	assert_int_equal(cvm_le32(c1->in + 2048), 12);
	/* INIT_VM (after one EAGAIN): SEPT_VE_DISABLE, xfam 0xe7, the CPUID KVM and the module
	 * both have (5 of the 8 configurable leaves), before any vCPU */
	assert_int_equal(must_find(k, "KVM_TDX_INIT_VM", 0)->rc, -EAGAIN);
	const struct spec_kvm_event *iv = must_find(k, "KVM_TDX_INIT_VM", 1);
	assert_int_equal(iv->rc, 0);
	assert_int_equal(spec_kvm_field(iv, "attributes"), 1ull << 28);
	assert_int_equal(spec_kvm_field(iv, "xfam"), 0xe7);
	assert_int_equal(cvm_le32(iv->in + 256), 5);
	assert_true(spec_kvm_pos(k, iv) < pos(k, "KVM_CREATE_VCPU", 0));
	/* every vCPU: INIT_VCPU with RCX = the TD HOB's GPA, then the TD's CPUID */
	for (unsigned v = 0; v < 2; v++) {
		assert_int_equal(spec_kvm_tdx_vcpu_rcx(k, v), 0x809000);
		assert_int_equal(must_find(k, "KVM_TDX_INIT_VCPU", v)->vcpu, (int)v);
		assert_true(pos(k, "KVM_SET_CPUID2", v) > pos(k, "KVM_TDX_GET_CPUID", 0));
	}
	/* INIT_MEM_REGION per section in metadata order, measured only for the BFV; an EBUSY is
	 * retried as it was, an EINTR or EAGAIN after progress from where the fake stopped */
	size_t idx = 0;
	for (size_t i = 0; i < sizeof(tdx_expected) / sizeof(tdx_expected[0]); i++) {
		const struct spec_kvm_event *m = must_find(k, "KVM_TDX_INIT_MEM_REGION", idx);
		while (m->rc == -EBUSY)
			m = must_find(k, "KVM_TDX_INIT_MEM_REGION", ++idx);
		assert_int_equal(spec_kvm_field(m, "gpa"), tdx_expected[i].gpa);
		assert_int_equal(spec_kvm_field(m, "nr_pages"), tdx_expected[i].pages);
		assert_int_equal(spec_kvm_cmd_field(m, "flags"), tdx_expected[i].flags);
		while (m->rc) {
			const struct spec_kvm_event *next = must_find(k, "KVM_TDX_INIT_MEM_REGION", ++idx);
			uint64_t left = spec_kvm_field(next, "nr_pages");
			assert_true(left < spec_kvm_field(m, "nr_pages"));
			assert_int_equal(spec_kvm_field(next, "gpa"),
					 tdx_expected[i].gpa + (tdx_expected[i].pages - left) * 4096);
			assert_int_equal(spec_kvm_cmd_field(next, "flags"), tdx_expected[i].flags);
			m = next;
		}
		idx++;
	}
	assert_null(spec_kvm_find(k, "KVM_TDX_INIT_MEM_REGION", idx));
	assert_int_equal(must_find(k, "KVM_TDX_FINALIZE_VM", 0)->rc, -EBUSY);
	assert_true(pos(k, "KVM_PRE_FAULT_MEMORY", 0) > pos(k, "KVM_TDX_FINALIZE_VM", 1));
	expect_digests_agree(k, l, p, SYNTH_MRTD);
	cvm_launch_free(l);
	assert_int_equal(spec_kvm_live_maps(k), 0);
	spec_kvm_free(k);
	cvm_policy_free(p);
}

/* examples/tdx.json with Debian's OVMF.fd: VECTORS.md A, single-pass. */
static void tdx_example_policy_launches_to_the_offline_mrtd(void **state)
{
	(void)state;
	struct cvm_policy *p = example_policy("tdx.json", NULL, NULL);
	for (int retries = 0; retries < 2; retries++) {
		struct spec_kvm *k = new_fake();
		if (retries) {
			spec_kvm_set_chunk(k, 100);
			spec_kvm_script(k, "KVM_TDX_INIT_MEM_REGION", 1, 7, EAGAIN, 0);
		}
		struct cvm_launch *l = launch_ok(k, p);
		expect_digests_agree(k, l, p,
				     "4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057"
				     "fb887fed0744d5631a212967fb231c47");
		for (unsigned v = 0; v < 2; v++)
			assert_int_equal(spec_kvm_tdx_vcpu_rcx(k, v), 0x809000);
		cvm_launch_free(l);
		spec_kvm_free(k);
	}
	cvm_policy_free(p);
}

/* A temporary file of n bytes (i * mul + (i >> 12)); the caller unlinks and frees it. */
static char *write_pattern(size_t n, unsigned mul)
{
	char *path = strdup("/tmp/cvmkit-boot-XXXXXX");
	assert_non_null(path);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	uint8_t *buf = malloc(n ? n : 1);
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * mul + (i >> 12));
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
	free(buf);
	return path;
}

static const char *doc_input(const struct cvm_measurement *m, const char *key)
{
	for (size_t i = 0; i < m->ninputs; i++)
		if (strcmp(m->inputs[i].key, key) == 0)
			return m->inputs[i].value;
	fail_msg("document input %s missing", key);
	return NULL;
}

/* A TDX direct boot: the document (its boot files hashed on the launch's pool, after the
   KVM work) is the same on no pool and on 1, 2 and 3 threads. */
static void tdx_launch_document_does_not_depend_on_the_thread_count(void **state)
{
	(void)state;
	struct cvm_policy *p = tdx_policy();
	char *kernel = write_pattern(70000, 3), *initrd = write_pattern((2u << 20) + 9, 5);
	p->boot.kernel = kernel;
	p->boot.initrd = initrd;
	char first[3][97] = {"", "", ""};
	for (unsigned threads = 0; threads <= 3; threads++) {
		struct spec_kvm *k;
		struct cvm_pool *pool;
		struct cvm_launch *l = launch_on_pool(p, threads, &k, &pool);
		const struct cvm_measurement *m = cvm_launch_measurement(l);
		char got[3][97];
		hex48(m->digest, got[0]);
		snprintf(got[1], sizeof(got[1]), "%s", doc_input(m, "kernel_sha256"));
		snprintf(got[2], sizeof(got[2]), "%s", doc_input(m, "initrd_sha256"));
		for (size_t i = 0; i < 3; i++) {
			if (!first[i][0])
				memcpy(first[i], got[i], sizeof(got[i]));
			assert_string_equal(got[i], first[i]);
		}
		cvm_launch_free(l);
		spec_kvm_free(k);
		cvm_pool_free(pool);
	}
	assert_string_equal(first[0], SYNTH_MRTD);
	unlink(kernel);
	unlink(initrd);
	cvm_policy_free(p); /* frees kernel and initrd */
}

/* VECTORS.md C with the PAGE_AUG section: honoured (no PAGE.ADD) and ignored (QEMU). */
static void tdx_page_aug_vectors_launch_to_the_reference_mrtds(void **state)
{
	(void)state;
	static const struct {
		const char *page_aug, *expected;
	} v[] = {
		{"honour", "e0acc8237781488d8b32ba0a445ffc0330ecec1ff8f6b380b59dfd68a08b391059f0725da762a91a66b638d5c739b078"},
		{"ignore", "81e745249b7a2e2118f4b6f50256200e9929d1e138a8813346fb1ad6fcca61bc1d49fe74032b9c8f3c33321cad91c536"},
	};
	char fw[512];
	if (!fixture(fw, sizeof(fw), "tdx/synth_tdvf_pageaug.bin"))
		skip();
	for (size_t i = 0; i < 2; i++) {
		char text[1024];
		snprintf(text, sizeof(text),
			 "{\"version\": 1, \"tee\": \"tdx\", \"cpus\": {\"count\": 1},"
			 " \"memory\": {\"size\": \"64M\"}, \"firmware\": {\"path\": \"%s\"},"
			 " \"tdx\": {\"page_aug\": \"%s\"}}",
			 fw, v[i].page_aug);
		struct cvm_policy *p = cvm_test_policy_from_text(text);
		struct spec_kvm *k = new_fake();
		struct cvm_launch *l = launch_ok(k, p);
		expect_digests_agree(k, l, p, v[i].expected);
		cvm_launch_free(l);
		spec_kvm_free(k);
		cvm_policy_free(p);
	}
}

/* KVM measures single-pass: a two-pass policy would launch a TD whose MRTD is not the one the
 * launch reports, so it is refused before anything is created. */
static void tdx_two_pass_policy_is_refused_before_a_vm_exists(void **state)
{
	(void)state;
	char fw[512], text[1024];
	if (!fixture(fw, sizeof(fw), "tdx/synth_tdvf.bin"))
		skip();
	snprintf(text, sizeof(text),
		 "{\"version\": 1, \"tee\": \"tdx\", \"cpus\": {\"count\": 1},"
		 " \"memory\": {\"size\": \"64M\"}, \"firmware\": {\"path\": \"%s\"},"
		 " \"tdx\": {\"measure_order\": \"two-pass\"}}",
		 fw);
	struct cvm_policy *p = cvm_test_policy_from_text(text);
	struct spec_kvm *k = new_fake();
	struct cvm_error err;
	int rc;
	assert_null(launch_on(k, p, &err, &rc));
	assert_int_equal(rc, -EOPNOTSUPP);
	assert_non_null(strstr(cvm_error_message(&err), "upstream KVM measures single-pass"));
	assert_null(spec_kvm_find(k, "KVM_CREATE_VM", 0));
	spec_kvm_free(k);
	cvm_policy_free(p);
}

/* ---- Pre-fault through the seam (default VM) -------------------------------------------- */

static const char default_policy_fmt[] =
	"{\"version\": 1, \"name\": \"default-seam\", \"tee\": \"none\", \"vmm\": \"cvmkit\","
	" \"cpus\": {\"count\": 2}, \"memory\": {\"size\": \"64M\"},"
	" \"firmware\": {\"path\": \"%s\"}, \"prefault\": {\"mode\": \"best-effort\"}}";

static char *write_test_guest(size_t size)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/cvmkit-guest-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	uint8_t *buf = malloc(size);
	assert_int_equal(cvm_test_guest_build(buf, size, NULL), 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
	free(buf);
	return path;
}

static void prefault_required_fails_and_best_effort_skips(void **state)
{
	(void)state;
	char *guest = write_test_guest(4096);
	for (int required = 0; required < 2; required++) {
		struct cvm_policy *p = load_policy(default_policy_fmt, guest);
		p->prefault.mode = required ? CVM_PREFAULT_REQUIRED : CVM_PREFAULT_BEST_EFFORT;
		struct spec_kvm *k = new_fake();
		spec_kvm_set_prefault(k, EOPNOTSUPP, 0);
		struct cvm_error err;
		int rc;
		struct cvm_launch *l = launch_on(k, p, &err, &rc);
		if (required) {
			assert_int_equal(rc, -EOPNOTSUPP);
			assert_non_null(strstr(cvm_error_message(&err), "KVM_PRE_FAULT_MEMORY"));
			assert_non_null(strstr(cvm_error_message(&err), "required"));
		} else {
			assert_int_equal(rc, 0);
			assert_true(cvm_launch_prefault_result(l)->skipped);
			assert_non_null(strstr(cvm_launch_prefault_result(l)->note, "EOPNOTSUPP"));
		}
		cvm_launch_free(l);
		assert_int_equal(spec_kvm_live_maps(k), 0);
		spec_kvm_free(k);
		cvm_policy_free(p);
	}
	unlink(guest);
}

/*
 * On a pool the default VM's image is hashed beside the VM's creation, so its pin is checked
 * once the image is in guest memory: a mismatch fails the launch, tears the VM down before any
 * vCPU runs, leaks nothing and says so.  Without a pool, and in a dry run, it is refused before
 * any VM.  The right pin launches to the digest of an unpinned launch.
 */
static void default_launch_pin_mismatch_tears_the_vm_down(void **state)
{
	(void)state;
	char *guest = write_test_guest(8192);
	struct cvm_policy *p = load_policy(default_policy_fmt, guest);
	struct spec_kvm *k = new_fake();
	struct cvm_launch *l = launch_ok(k, p);
	uint8_t want[48];
	memcpy(want, cvm_launch_measurement(l)->digest, 48);
	cvm_launch_free(l);
	spec_kvm_free(k);

	struct cvm_file img;
	struct cvm_error err;
	assert_int_equal(cvm_file_open(guest, &img, &err), 0);
	assert_int_equal(cvm_sha256(img.data, img.size, p->firmware.sha256, &err), 0);
	cvm_file_close(&img);
	p->firmware.has_sha256 = true;
	k = new_fake();
	l = launch_ok(k, p);
	assert_memory_equal(cvm_launch_measurement(l)->digest, want, 48);
	cvm_launch_free(l);
	spec_kvm_free(k);

	p->firmware.sha256[0] ^= 1;
	int before = count_fds(), rc;
	struct cvm_pool *pool;
	assert_int_equal(cvm_pool_new(2, &pool, &err), 0);
	k = new_fake();
	struct cvm_launch_options opts = {.seam = spec_kvm_seam(k), .pool = pool};
	cvm_error_clear(&err);
	rc = cvm_launch(p, &opts, &l, &err);
	assert_int_equal(rc, -EINVAL);
	const char *msg = cvm_error_message(&err);
	if (!strstr(msg, "firmware.sha256: ") || !strstr(msg, "the policy pins") ||
	    !strstr(msg, "the VM is torn down, no vCPU ran"))
		fail_msg("pin mismatch after the load: %s", msg);
	assert_non_null(spec_kvm_find(k, "KVM_CREATE_VM", 0));
	assert_null(spec_kvm_find(k, "KVM_RUN", 0));
	assert_int_equal(spec_kvm_live_maps(k), 0);
	spec_kvm_free(k);
	cvm_pool_free(pool);
	assert_int_equal(count_fds(), before);

	k = new_fake();
	l = launch_on(k, p, &err, &rc);
	assert_int_equal(rc, -EINVAL);
	assert_null(l);
	assert_non_null(strstr(cvm_error_message(&err), "the policy pins"));
	assert_null(strstr(cvm_error_message(&err), "torn down"));
	assert_null(spec_kvm_find(k, "KVM_CREATE_VM", 0));
	spec_kvm_free(k);

	struct cvm_launch_inputs *in = NULL;
	struct cvm_plan plan;
	assert_int_equal(cvm_launch_plan_build(p, NULL, &in, &plan, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err), "the policy pins"));
	assert_null(strstr(cvm_error_message(&err), "torn down"));
	cvm_policy_free(p);
	unlink(guest);
}

static void prefault_splits_large_ranges_across_vcpus(void **state)
{
	(void)state;
	char *guest = write_test_guest(4096);
	struct cvm_policy *p = load_policy(default_policy_fmt, guest);
	p->memory_size = 1ull << 30;
	struct spec_kvm *k = new_fake();
	struct cvm_launch *l = launch_ok(k, p);
	assert_int_equal(cvm_launch_prefault_result(l)->threads, 2);
	assert_int_equal(cvm_launch_prefault_result(l)->done, 1ull << 30);
	const struct spec_kvm_event *a = must_find(k, "KVM_PRE_FAULT_MEMORY", 0);
	const struct spec_kvm_event *b = must_find(k, "KVM_PRE_FAULT_MEMORY", 1);
	assert_int_equal(spec_kvm_field(a, "size") + spec_kvm_field(b, "size"), 1ull << 30);
	assert_int_not_equal(a->vcpu, b->vcpu);
	cvm_launch_free(l);
	spec_kvm_free(k);
	cvm_policy_free(p);
	unlink(guest);
}

/* Every pre-fault progress report, from whichever thread made it. */
struct progress_log {
	pthread_mutex_t mu;
	size_t n;
	uint64_t done[64];
	uint64_t total[64];
	char what[64];
};

static void log_progress(void *ctx, const char *what, uint64_t done, uint64_t total)
{
	struct progress_log *log = ctx;
	pthread_mutex_lock(&log->mu);
	if (log->n < 64) {
		log->done[log->n] = done;
		log->total[log->n] = total;
		log->n++;
	}
	snprintf(log->what, sizeof(log->what), "%s", what);
	pthread_mutex_unlock(&log->mu);
}

static struct cvm_launch *launch_with_progress(struct spec_kvm *k, const struct cvm_policy *p,
					       struct progress_log *log)
{
	memset(log, 0, sizeof(*log));
	pthread_mutex_init(&log->mu, NULL);
	struct cvm_progress cb = {log_progress, log};
	struct cvm_launch_options opts = {.seam = spec_kvm_seam(k), .progress = &cb};
	struct cvm_launch *l = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_launch(p, &opts, &l, &err);
	if (rc)
		print_message("# launch: %s\n", cvm_error_message(&err));
	assert_int_equal(rc, 0);
	pthread_mutex_destroy(&log->mu);
	return l;
}

static void prefault_progress_counts_the_bytes_of_every_vcpu_thread(void **state)
{
	(void)state;
	char *guest = write_test_guest(4096);
	struct cvm_policy *p = load_policy(default_policy_fmt, guest);
	p->memory_size = 1ull << 30; /* split across both vCPUs */
	struct spec_kvm *k = new_fake(); /* like KVM: each call does all it is asked for */
	struct progress_log log;
	struct cvm_launch *l = launch_with_progress(k, p, &log);
	assert_int_equal(cvm_launch_prefault_result(l)->threads, 2);
	assert_int_equal(cvm_launch_prefault_result(l)->done, 1ull << 30);
	assert_string_equal(log.what, "pre-faulting guest memory");
	/* Each thread asks for 64 MiB windows, so 16 calls in all ... */
	size_t calls = count_calls(k, "KVM_PRE_FAULT_MEMORY");
	for (size_t i = 0; i < calls; i++)
		assert_int_equal(spec_kvm_field(must_find(k, "KVM_PRE_FAULT_MEMORY", i), "size"),
				 64ull << 20);
	assert_int_equal(calls, 16);
	/* ... and one report per call: the running totals are each multiple of 64 MiB exactly once
	 * (the threads' order may vary), always out of the whole GiB. */
	assert_int_equal(log.n, 16);
	bool seen[17] = {false};
	for (size_t i = 0; i < log.n; i++) {
		assert_int_equal(log.total[i], 1ull << 30);
		assert_int_equal(log.done[i] % (64ull << 20), 0);
		uint64_t n = log.done[i] / (64ull << 20);
		assert_true(n >= 1 && n <= 16 && !seen[n]);
		seen[n] = true;
	}
	cvm_launch_free(l);
	spec_kvm_free(k);
	cvm_policy_free(p);
	unlink(guest);
}

static void prefault_progress_runs_over_all_ranges_in_order(void **state)
{
	(void)state;
	char *guest = write_test_guest(4096);
	struct cvm_policy *p = load_policy(default_policy_fmt, guest);
	p->prefault.ranges = calloc(2, sizeof(*p->prefault.ranges));
	assert_non_null(p->prefault.ranges);
	p->prefault.nranges = 2;
	p->prefault.ranges[0] = (struct cvm_prefault_range){0, 16u << 20};
	p->prefault.ranges[1] = (struct cvm_prefault_range){32u << 20, 8u << 20};
	struct spec_kvm *k = new_fake();
	spec_kvm_set_prefault(k, 0, 4u << 20);
	struct progress_log log;
	struct cvm_launch *l = launch_with_progress(k, p, &log);
	/* 4 + 2 calls; the second range continues where the first ended, out of 24 MiB. */
	assert_int_equal(log.n, 6);
	for (size_t i = 0; i < log.n; i++) {
		assert_int_equal(log.done[i], (i + 1) * (4u << 20));
		assert_int_equal(log.total[i], 24u << 20);
	}
	assert_int_equal(cvm_launch_prefault_result(l)->done, 24u << 20);
	cvm_launch_free(l);
	spec_kvm_free(k);
	cvm_policy_free(p);
	unlink(guest);
}

static void prefault_without_progress_is_one_call_per_range(void **state)
{
	(void)state;
	char *guest = write_test_guest(4096);
	struct cvm_policy *p = load_policy(default_policy_fmt, guest);
	struct spec_kvm *k = new_fake();
	struct cvm_launch *l = launch_ok(k, p);
	assert_int_equal(cvm_launch_prefault_result(l)->done, 64u << 20);
	/* One call for the whole range, as without progress support. */
	assert_int_equal(spec_kvm_field(must_find(k, "KVM_PRE_FAULT_MEMORY", 0), "size"), 64u << 20);
	assert_null(spec_kvm_find(k, "KVM_PRE_FAULT_MEMORY", 1));
	cvm_launch_free(l);
	spec_kvm_free(k);
	cvm_policy_free(p);
	unlink(guest);
}

/* ---- Fault injection -------------------------------------------------------------------- */

static void inject_every_call(const struct cvm_policy *p, const char *what)
{
	struct spec_kvm *k = new_fake();
	struct cvm_error err;
	int rc;
	/* The calls of the launch itself: teardown's (KVM_TDX_TERMINATE_VM) come after. */
	struct cvm_launch *ok = launch_ok(k, p);
	unsigned total = spec_kvm_calls(k);
	cvm_launch_free(ok);
	spec_kvm_free(k);
	assert_true(total > 10);
	for (unsigned n = 1; n <= total; n++) {
		int before = count_fds();
		k = new_fake();
		spec_kvm_fail_call(k, n, EIO);
		struct cvm_launch *l = launch_on(k, p, &err, &rc);
		const char *step = spec_kvm_failed_step(k);
		if (rc == 0)
			print_message("# %s: failing call %u (%s) did not fail the launch\n", what, n,
				      step);
		assert_int_not_equal(rc, 0);
		assert_null(l);
		if (!strstr(cvm_error_message(&err), step))
			fail_msg("%s call %u: '%s' not named in: %s", what, n, step,
				 cvm_error_message(&err));
		assert_int_equal(spec_kvm_live_maps(k), 0);
		spec_kvm_free(k);
		assert_int_equal(count_fds(), before);
	}
}

static void every_failing_call_of_the_default_launch_is_named_and_leak_free(void **state)
{
	(void)state;
	char *guest = write_test_guest(8192);
	struct cvm_policy *p = load_policy(default_policy_fmt, guest);
	inject_every_call(p, "default");
	cvm_policy_free(p);
	unlink(guest);
}

static void every_failing_call_of_the_snp_launch_is_named_and_leak_free(void **state)
{
	(void)state;
	struct cvm_policy *p = snp_policy();
	if (!p)
		skip();
	inject_every_call(p, "snp");
	cvm_policy_free(p);
}

static void every_failing_call_of_the_tdx_launch_is_named_and_leak_free(void **state)
{
	(void)state;
	struct cvm_policy *p = tdx_policy();
	if (!p)
		skip();
	inject_every_call(p, "tdx");
	cvm_policy_free(p);
}

static void cancel_flag_stops_the_launch_cleanly(void **state)
{
	(void)state;
	char *guest = write_test_guest(4096);
	struct cvm_policy *p = load_policy(default_policy_fmt, guest);
	struct spec_kvm *k = new_fake();
	volatile sig_atomic_t cancel = 1;
	struct cvm_launch_options opts = {.seam = spec_kvm_seam(k), .cancel = &cancel};
	struct cvm_launch *l = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	int before = count_fds();
	assert_int_equal(cvm_launch(p, &opts, &l, &err), -ECANCELED);
	assert_null(l);
	assert_int_equal(count_fds(), before);
	assert_int_equal(spec_kvm_live_maps(k), 0);
	spec_kvm_free(k);
	cvm_policy_free(p);
	unlink(guest);
}

/* ---- cancellation inside VM setup, the EINTR retries and the document thread (issue 12) -- */

/*
 * A seam in front of the fake: the first ioctl with request `at` does not reach it; instead the
 * cancel flag is set and EINTR returned, as when SIGINT interrupts that ioctl.  Every ioctl that
 * reaches the fake afterwards is counted.
 */
struct interrupting_seam {
	struct cvm_kvm_seam seam;
	struct cvm_kvm_ops ops;
	const struct cvm_kvm_seam *inner;
	unsigned long at;
	volatile sig_atomic_t *cancel;
	bool fired;
	unsigned ioctls_after;
};

static int is_open(void *ctx, const char *path, int flags)
{
	const struct interrupting_seam *s = ctx;
	return s->inner->ops->open(s->inner->ctx, path, flags);
}

static int is_close(void *ctx, int fd)
{
	const struct interrupting_seam *s = ctx;
	return s->inner->ops->close(s->inner->ctx, fd);
}

static int is_ioctl(void *ctx, int fd, unsigned long request, unsigned long arg)
{
	struct interrupting_seam *s = ctx;
	if (!s->fired && request == s->at) {
		s->fired = true;
		*s->cancel = 1;
		return -EINTR;
	}
	if (s->fired)
		s->ioctls_after++;
	return s->inner->ops->ioctl(s->inner->ctx, fd, request, arg);
}

static int is_mmap(void *ctx, size_t len, int prot, int flags, int fd, void **out)
{
	const struct interrupting_seam *s = ctx;
	return s->inner->ops->mmap(s->inner->ctx, len, prot, flags, fd, out);
}

static int is_munmap(void *ctx, void *addr, size_t len)
{
	const struct interrupting_seam *s = ctx;
	return s->inner->ops->munmap(s->inner->ctx, addr, len);
}

static void interrupting_seam_init(struct interrupting_seam *s, struct spec_kvm *k,
				   const char *at, volatile sig_atomic_t *cancel)
{
	memset(s, 0, sizeof(*s));
	s->ops = (struct cvm_kvm_ops){is_open, is_close, is_ioctl, is_mmap, is_munmap};
	s->seam = (struct cvm_kvm_seam){&s->ops, s};
	s->inner = spec_kvm_seam(k);
	s->at = spec_kvm_ioctl_number(at);
	assert_int_not_equal(s->at, 0);
	s->cancel = cancel;
}

static void cancel_during_vm_setup_issues_no_further_ioctl(void **state)
{
	(void)state;
	char *guest = write_test_guest(4096);
	struct cvm_policy *p = load_policy(default_policy_fmt, guest);
	static const char *const steps[] = {"KVM_SET_USER_MEMORY_REGION2", "KVM_CREATE_VCPU",
					    "KVM_SET_CPUID2"};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(steps); i++) {
		struct spec_kvm *k = new_fake();
		volatile sig_atomic_t cancel = 0;
		struct interrupting_seam s;
		interrupting_seam_init(&s, k, steps[i], &cancel);
		struct cvm_launch_options opts = {.seam = &s.seam, .cancel = &cancel};
		struct cvm_launch *l = NULL;
		struct cvm_error err;
		cvm_error_clear(&err);
		int before = count_fds();
		assert_int_equal(cvm_launch(p, &opts, &l, &err), -ECANCELED);
		assert_true(s.fired);
		/* the wrapper's EINTR retry stopped, and nothing after it was issued */
		if (s.ioctls_after)
			fail_msg("%s: %u ioctls after the cancel (%s)", steps[i], s.ioctls_after,
				 cvm_error_message(&err));
		assert_null(l);
		assert_int_equal(count_fds(), before);
		assert_int_equal(spec_kvm_live_maps(k), 0);
		spec_kvm_free(k);
	}
	cvm_policy_free(p);
	unlink(guest);
}

/*
 * synth_tdvf.bin with its TempMem moved to 4 GiB and grown to 1 PiB (the guest has 2 PiB): an
 * MRTD model over it would hash for hours, so only a cancelled one returns (a model that
 * ignored the flag would run past the test runner's timeout).
 */
static uint8_t *huge_tempmem_image(size_t *size)
{
	char path[4096];
	if (!fixture(path, sizeof(path), "tdx/synth_tdvf.bin"))
		return NULL;
	struct cvm_file f;
	struct cvm_error err;
	assert_int_equal(cvm_file_open(path, &f, &err), 0);
	uint8_t *img = malloc(f.size);
	memcpy(img, f.data, f.size);
	*size = f.size;
	cvm_file_close(&f);
	uint8_t *tempmem = img + 0xf000 + 16 + 3 * 32; /* the descriptor's section 3 */
	assert_int_equal(cvm_le32(tempmem + 24), CVM_TDVF_TEMP_MEM);
	cvm_put_le64(tempmem + 8, 1ull << 32);
	cvm_put_le64(tempmem + 16, 1ull << 50);
	return img;
}

struct delayed_cancel {
	volatile sig_atomic_t *flag;
};

static void *cancel_soon(void *arg)
{
	struct delayed_cancel *d = arg;
	usleep(20000);
	*d->flag = 1;
	return NULL;
}

static void tdx_measure_stops_when_cancelled(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *img = huge_tempmem_image(&size);
	if (!img)
		skip();
	struct cvm_firmware *fw = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_firmware_parse(img, size, &fw, &err), 0);
	struct cvm_policy policy;
	cvm_policy_init(&policy);
	policy.tee = CVM_TEE_TDX;
	policy.memory_size = 2ull << 50;
	volatile sig_atomic_t cancel = 0;
	struct cvm_tdx_measure_opts opts = {.cancel = &cancel};
	struct delayed_cancel d = {&cancel};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, cancel_soon, &d), 0);
	struct cvm_measurement *m = NULL;
	assert_int_equal(cvm_tdx_measure_ex(&policy, fw, &opts, &m, &err), -ECANCELED);
	pthread_join(t, NULL);
	assert_null(m);
	assert_non_null(strstr(cvm_error_message(&err), "cancelled"));
	cvm_firmware_free(fw);
	free(img);
}

/* The launch's document thread stops on the launch's cancel flag (pthread_join returns). */
static void cancelled_tdx_launch_does_not_wait_for_the_document(void **state)
{
	(void)state;
	size_t size = 0;
	uint8_t *img = huge_tempmem_image(&size);
	if (!img)
		skip();
	char path[] = "/tmp/cvmkit-test-tdvf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, size), (ssize_t)size);
	close(fd);
	free(img);
	struct cvm_policy *p = load_policy(tdx_policy_fmt, path);
	p->memory_size = 2ull << 50; /* past the policy file's limit: set in code */
	struct spec_kvm *k = new_fake();
	volatile sig_atomic_t cancel = 0;
	struct interrupting_seam s;
	interrupting_seam_init(&s, k, "KVM_CREATE_VM", &cancel); /* after the thread started */
	struct cvm_launch_options opts = {.seam = &s.seam, .cancel = &cancel};
	struct cvm_launch *l = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_launch(p, &opts, &l, &err), -ECANCELED);
	assert_null(l);
	spec_kvm_free(k);
	cvm_policy_free(p);
	unlink(path);
}

/* ---- Plans ------------------------------------------------------------------------------ */

static void plain_digest(const struct cvm_plan *plan, bool pieces, uint8_t out[48])
{
	struct cvm_backend_ops ops = *cvm_plain_model_ops();
	if (!pieces)
		ops.load_piece = NULL;
	struct cvm_backend b = {&ops, cvm_plain_model_new()};
	struct cvm_error err;
	assert_non_null(b.ctx);
	assert_int_equal(cvm_plan_execute(plan, &b, 1, &err), 0);
	assert_int_equal(cvm_plain_model_digest(b.ctx, out), 0);
	cvm_plain_model_free(b.ctx);
}

/* The default VM's image hashed in pieces beside its copy gives the digest of the whole op. */
static void plain_model_pieces_give_the_whole_op_digest(void **state)
{
	(void)state;
	size_t size = 3 * CVM_PLAN_PIECE + 8 * 4096; /* pieces and a short last one */
	uint8_t *img = malloc(size);
	assert_non_null(img);
	for (size_t i = 0; i < size; i++)
		img[i] = (uint8_t)(i * 131 + 7);
	struct cvm_policy *p = cvm_test_policy_from_text("{\"version\": 1, \"tee\": \"none\", "
						"\"firmware\": {\"path\": \"/dev/null\"}}");
	struct cvm_plan plan;
	struct cvm_error err;
	assert_int_equal(cvm_default_plan_build(p, img, size, &plan, &err), 0);
	uint8_t whole[48], pieces[48];
	const size_t data_lens[] = {size, size - 4096, 2 * CVM_PLAN_PIECE + 4096, CVM_PLAN_PIECE,
				    4096, 0};
	for (size_t i = 0; i < sizeof(data_lens) / sizeof(data_lens[0]); i++) {
		plan.ops[0].data_len = data_lens[i]; /* bytes past data_len are zero */
		plain_digest(&plan, false, whole);
		plain_digest(&plan, true, pieces);
		assert_memory_equal(whole, pieces, 48);
	}
	cvm_plan_release(&plan);
	cvm_policy_free(p);
	free(img);
}

static void dry_run_plan_of_the_default_vm_places_firmware_below_4g(void **state)
{
	(void)state;
	char *guest = write_test_guest(16384);
	struct cvm_policy *p = load_policy(default_policy_fmt, guest);
	struct cvm_launch_inputs *in = NULL;
	struct cvm_plan plan;
	struct cvm_error err;
	assert_int_equal(cvm_launch_plan_build(p, NULL, &in, &plan, &err), 0);
	assert_int_equal(plan.nops, 3);
	assert_int_equal(plan.ops[0].gpa, 0x100000000ull - 16384);
	assert_int_equal(plan.ops[0].flags, CVM_OP_FIRMWARE);
	assert_int_equal(plan.ops[1].kind, CVM_OP_VCPU);
	assert_int_equal(plan.ops[1].vcpu->rip, 0xfff0);
	assert_int_equal(plan.ops[1].vcpu->cs.base, 0xffff0000u);
	assert_int_equal(cvm_kvm_plan_firmware_size(&plan), 16384);
	cvm_plan_release(&plan);
	cvm_launch_inputs_free(in);
	cvm_policy_free(p);
	unlink(guest);
}

static void committed_example_guest_is_the_generated_image(void **state)
{
	(void)state;
	struct cvm_file f;
	struct cvm_error err;
	if (cvm_file_open("examples/guest.bin", &f, &err)) {
		print_message("# SKIP examples/guest.bin not found (run from the source tree)\n");
		skip();
	}
	uint8_t buf[4096];
	assert_int_equal(cvm_test_guest_build(buf, sizeof(buf), NULL), 0);
	assert_int_equal(f.size, sizeof(buf));
	assert_memory_equal(f.data, buf, sizeof(buf));
	cvm_file_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spec_fake_tables_are_consistent_and_match_the_system_header),
		cmocka_unit_test(spec_fake_refuses_what_the_kernel_refuses_for_snp),
		cmocka_unit_test(spec_fake_refuses_what_the_kernel_refuses_for_tdx),
		cmocka_unit_test(snp_launch_issues_the_spec_sequence),
		cmocka_unit_test(snp_example_policy_launches_to_the_offline_digest),
		cmocka_unit_test(snp_vector_policies_launch_to_the_reference_digests),
		cmocka_unit_test(gce_launch_sets_the_guest_pat_its_model_assumes),
		cmocka_unit_test(snp_launch_refuses_a_seeded_firmware_digest),
		cmocka_unit_test(snp_launch_with_an_id_block_signs_its_digest),
		cmocka_unit_test(snp_launch_refuses_an_id_key_that_changes),
		cmocka_unit_test(snp_firmware_error_is_reported_with_its_code),
		cmocka_unit_test(snp_firmware_loads_in_place_when_the_guest_memfd_offers_it),
		cmocka_unit_test(snp_firmware_in_place_retries_eagain_without_its_mapping),
		cmocka_unit_test(snp_launch_digest_does_not_depend_on_the_thread_count),
		cmocka_unit_test(snp_plan_ahead_differs_from_the_plan_only_in_the_hashes_page),
		cmocka_unit_test(snp_vcpus_get_the_policys_signature),
		cmocka_unit_test(default_launch_pin_mismatch_tears_the_vm_down),
		cmocka_unit_test(snp_firmware_in_place_failures_fail_the_launch_cleanly),
		cmocka_unit_test(snp_firmware_falls_back_to_the_staged_copy),
		cmocka_unit_test(snp_refused_when_host_lacks_the_vm_type),
		cmocka_unit_test(snp_cpuid_drops_what_the_firmware_refuses),
		cmocka_unit_test(snp_rejected_cpuid_page_is_reported_per_register),
		cmocka_unit_test(snp_rejected_cpuid_page_is_retried_when_the_policy_allows),
		cmocka_unit_test(snp_named_features_follow_the_documented_sequence),
		cmocka_unit_test(sev_vmsa_features_are_read_on_dev_kvm),
		cmocka_unit_test(snp_launch_refuses_features_the_host_lacks_before_creating_anything),
		cmocka_unit_test(tdx_launch_issues_the_spec_sequence),
		cmocka_unit_test(tdx_example_policy_launches_to_the_offline_mrtd),
		cmocka_unit_test(tdx_page_aug_vectors_launch_to_the_reference_mrtds),
		cmocka_unit_test(tdx_launch_document_does_not_depend_on_the_thread_count),
		cmocka_unit_test(tdx_two_pass_policy_is_refused_before_a_vm_exists),
		cmocka_unit_test(prefault_required_fails_and_best_effort_skips),
		cmocka_unit_test(prefault_splits_large_ranges_across_vcpus),
		cmocka_unit_test(prefault_progress_counts_the_bytes_of_every_vcpu_thread),
		cmocka_unit_test(prefault_progress_runs_over_all_ranges_in_order),
		cmocka_unit_test(prefault_without_progress_is_one_call_per_range),
		cmocka_unit_test(every_failing_call_of_the_default_launch_is_named_and_leak_free),
		cmocka_unit_test(every_failing_call_of_the_snp_launch_is_named_and_leak_free),
		cmocka_unit_test(every_failing_call_of_the_tdx_launch_is_named_and_leak_free),
		cmocka_unit_test(cancel_flag_stops_the_launch_cleanly),
		cmocka_unit_test(cancel_during_vm_setup_issues_no_further_ioctl),
		cmocka_unit_test(tdx_measure_stops_when_cancelled),
		cmocka_unit_test(cancelled_tdx_launch_does_not_wait_for_the_document),
		cmocka_unit_test(plain_model_pieces_give_the_whole_op_digest),
		cmocka_unit_test(dry_run_plan_of_the_default_vm_places_firmware_below_4g),
		cmocka_unit_test(committed_example_guest_is_the_generated_image),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
