/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: launches through the ioctl seam (launcher/launch.c, launcher/kvm*.c,
 * sev/snp_kvm.c, tdx/tdx_kvm.c).  A fake KVM records every call with the struct it was given,
 * answers like upstream KVM (spec/kvm-uapi.md), and can fail call N, so the tests prove the exact
 * SNP and TDX command sequences, the digest equal to the offline measurement, and that every
 * failing step is named and leaks no descriptor or mapping.
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
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cvmkit/firmware.h>
#include <cvmkit/kvm.h>
#include <cvmkit/kvm_uapi.h>
#include <cvmkit/launch.h>
#include <cvmkit/snp.h>
#include <cvmkit/tdx.h>
#include <cvmkit/util.h>

/* ---- The fake KVM ----------------------------------------------------------------------- */

enum role { R_NONE, R_KVM, R_VM, R_VCPU, R_GMEM };

_Static_assert(sizeof(struct kvm_fpu) <= 512 && sizeof(struct kvm_xcrs) <= 512 &&
		       sizeof(struct kvm_sregs) <= 512, "rec body holds every struct");

struct rec {
	enum role role;
	unsigned long req;
	unsigned long arg;   /* integer argument */
	uint32_t sub;        /* MEMORY_ENCRYPT_OP sub-command */
	uint32_t sub_flags;  /* TDX cmd flags */
	uint64_t sub_data;   /* TDX cmd data (immediate) */
	uint8_t body[512];   /* copy of the struct passed (or pointed to by the sub-command) */
	uint8_t src[64];     /* first bytes of the LAUNCH_UPDATE / INIT_MEM_REGION source */
	uint64_t src_addr;
	int rc;
};

struct fake {
	pthread_mutex_t mu;
	struct rec *recs;
	size_t n, cap;
	enum role roles[4096];
	unsigned long vm_type;
	unsigned calls, fail_at;
	int fail_errno;
	char failed_step[64];
	int live_maps;
	uint64_t vm_types, gmem_flags;
	int prefault_errno; /* 0: pre-fault succeeds */
	uint64_t prefault_step; /* bytes pre-faulted per call (0: the whole range at once) */
	uint32_t pages_per_call;
	bool eagain_once;
	struct cvm_kvm_seam seam; /* {&fake_ops, this}: lives as long as the fake */
};

static const struct cvm_kvm_ops fake_ops;

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	f->vm_types = 0x31; /* default, SNP, TDX */
	f->gmem_flags = 3;
	f->pages_per_call = 4;
	f->fail_errno = EIO;
	f->seam.ops = &fake_ops;
	f->seam.ctx = f;
}

static void fake_fini(struct fake *f)
{
	free(f->recs);
	pthread_mutex_destroy(&f->mu);
}

static bool fake_should_fail(struct fake *f, const char *step)
{
	f->calls++;
	if (f->fail_at && f->calls == f->fail_at) {
		snprintf(f->failed_step, sizeof(f->failed_step), "%s", step);
		return true;
	}
	return false;
}

static int new_fd(struct fake *f, enum role role)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0 && fd < 4096)
		f->roles[fd] = role;
	return fd < 0 ? -errno : fd;
}

static int fake_open(void *ctx, const char *path, int flags)
{
	(void)flags;
	struct fake *f = ctx;
	bool kvm = strcmp(path, "/dev/kvm") == 0;
	if (!kvm && strcmp(path, "/dev/sev") != 0)
		return -ENOENT;
	if (fake_should_fail(f, kvm ? "open /dev/kvm" : "open /dev/sev"))
		return -f->fail_errno;
	return new_fd(f, kvm ? R_KVM : R_NONE);
}

static int fake_close(void *ctx, int fd)
{
	struct fake *f = ctx;
	if (fd >= 0 && fd < 4096)
		f->roles[fd] = R_NONE;
	return close(fd) ? -errno : 0;
}

static int fake_mmap(void *ctx, size_t len, int prot, int flags, int fd, void **out)
{
	(void)flags;
	(void)fd;
	struct fake *f = ctx;
	pthread_mutex_lock(&f->mu);
	bool fail = fake_should_fail(f, "mmap");
	pthread_mutex_unlock(&f->mu);
	if (fail)
		return -f->fail_errno;
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	__atomic_add_fetch(&f->live_maps, 1, __ATOMIC_SEQ_CST);
	*out = p;
	return 0;
}

static int fake_munmap(void *ctx, void *addr, size_t len)
{
	struct fake *f = ctx;
	__atomic_sub_fetch(&f->live_maps, 1, __ATOMIC_SEQ_CST);
	return munmap(addr, len) ? -errno : 0;
}

static const char *step_name(const struct fake *f, unsigned long req, uint32_t sub)
{
	switch (req) {
	case KVM_GET_API_VERSION: return "KVM_GET_API_VERSION";
	case KVM_CHECK_EXTENSION: return "KVM_CHECK_EXTENSION";
	case KVM_GET_VCPU_MMAP_SIZE: return "KVM_GET_VCPU_MMAP_SIZE";
	case KVM_CREATE_VM: return "KVM_CREATE_VM";
	case KVM_CREATE_VCPU: return "KVM_CREATE_VCPU";
	case KVM_GET_SREGS: return "KVM_GET_SREGS";
	case KVM_SET_SREGS: return "KVM_SET_SREGS";
	case KVM_SET_REGS: return "KVM_SET_REGS";
	case KVM_SET_FPU: return "KVM_SET_FPU";
	case KVM_SET_XCRS: return "KVM_SET_XCRS";
	case KVM_SET_CPUID2: return "KVM_SET_CPUID2";
	case KVM_ENABLE_CAP: return "KVM_ENABLE_CAP";
	case KVM_GET_SUPPORTED_CPUID: return "KVM_GET_SUPPORTED_CPUID";
	case CVM_KVM_CREATE_GUEST_MEMFD: return "KVM_CREATE_GUEST_MEMFD";
	case CVM_KVM_SET_USER_MEMORY_REGION2: return "KVM_SET_USER_MEMORY_REGION2";
	case CVM_KVM_SET_MEMORY_ATTRIBUTES: return "KVM_SET_MEMORY_ATTRIBUTES";
	case CVM_KVM_PRE_FAULT_MEMORY: return "KVM_PRE_FAULT_MEMORY";
	case CVM_KVM_MEMORY_ENCRYPT_OP:
		if (f->vm_type == CVM_KVM_X86_SNP_VM) {
			switch (sub) {
			case CVM_KVM_SEV_INIT2: return "KVM_SEV_INIT2";
			case CVM_KVM_SEV_SNP_LAUNCH_START: return "SNP_LAUNCH_START";
			case CVM_KVM_SEV_SNP_LAUNCH_UPDATE: return "SNP_LAUNCH_UPDATE";
			case CVM_KVM_SEV_SNP_LAUNCH_FINISH: return "SNP_LAUNCH_FINISH";
			}
		} else {
			switch (sub) {
			case CVM_KVM_TDX_CAPABILITIES: return "KVM_TDX_CAPABILITIES";
			case CVM_KVM_TDX_INIT_VM: return "KVM_TDX_INIT_VM";
			case CVM_KVM_TDX_INIT_VCPU: return "KVM_TDX_INIT_VCPU";
			case CVM_KVM_TDX_INIT_MEM_REGION: return "KVM_TDX_INIT_MEM_REGION";
			case CVM_KVM_TDX_FINALIZE_VM: return "KVM_TDX_FINALIZE_VM";
			case CVM_KVM_TDX_GET_CPUID: return "KVM_TDX_GET_CPUID";
			}
		}
		return "KVM_MEMORY_ENCRYPT_OP";
	default: return "ioctl";
	}
}

static int cap_value(const struct fake *f, unsigned long cap)
{
	switch (cap) {
	case CVM_KVM_CAP_VM_TYPES: return (int)f->vm_types;
	case CVM_KVM_CAP_USER_MEMORY2: return 1;
	case CVM_KVM_CAP_MEMORY_FAULT_INFO: return 1;
	case CVM_KVM_CAP_MEMORY_ATTRIBUTES: return f->vm_type ? 8 : 0;
	case CVM_KVM_CAP_GUEST_MEMFD: return 1;
	case CVM_KVM_CAP_PRE_FAULT_MEMORY: return f->prefault_errno ? 0 : 1;
	case CVM_KVM_CAP_GUEST_MEMFD_FLAGS: return (int)f->gmem_flags;
	default: return 0;
	}
}

static void fill_cpuid(struct kvm_cpuid_entry2 *e, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		e[i].function = i == 0 ? 1 : 7;
		e[i].eax = 0xffff0000u + i;
		e[i].ebx = 0x0f0f0f0fu;
		e[i].ecx = 0xffffffffu;
		e[i].edx = 0x12345678u;
	}
}

static void copy_src(struct rec *r, uint64_t addr)
{
	r->src_addr = addr;
	if (addr)
		memcpy(r->src, (const void *)(uintptr_t)addr, sizeof(r->src));
}

/* Answer one MEMORY_ENCRYPT_OP like KVM would (progress in chunks of pages_per_call). */
static int fake_encrypt_op(struct fake *f, struct rec *r, void *cmdp)
{
	if (f->vm_type == CVM_KVM_X86_SNP_VM) {
		struct cvm_kvm_sev_cmd *cmd = cmdp;
		void *data = (void *)(uintptr_t)cmd->data;
		size_t sz = cmd->id == CVM_KVM_SEV_INIT2 ? sizeof(struct cvm_kvm_sev_init)
			    : cmd->id == CVM_KVM_SEV_SNP_LAUNCH_FINISH
				    ? sizeof(struct cvm_kvm_sev_snp_launch_finish)
				    : 64;
		memcpy(r->body, data, sz);
		if (cmd->id == CVM_KVM_SEV_SNP_LAUNCH_UPDATE) {
			struct cvm_kvm_sev_snp_launch_update *u = data;
			copy_src(r, u->uaddr);
			if (f->eagain_once) {
				f->eagain_once = false;
				return -EAGAIN;
			}
			uint64_t pages = u->len / 4096;
			if (pages > f->pages_per_call)
				pages = f->pages_per_call;
			u->gfn_start += pages;
			u->len -= pages * 4096;
			if (u->type != CVM_KVM_SEV_SNP_PAGE_TYPE_ZERO)
				u->uaddr += pages * 4096;
		}
		return 0;
	}
	struct cvm_kvm_tdx_cmd *cmd = cmdp;
	r->sub_flags = cmd->flags;
	r->sub_data = cmd->data;
	void *data = (void *)(uintptr_t)cmd->data;
	switch (cmd->id) {
	case CVM_KVM_TDX_CAPABILITIES: {
		struct cvm_kvm_tdx_capabilities *c = data;
		memcpy(r->body, &c->cpuid_nent, 4);
		if (c->cpuid_nent < 8) {
			c->cpuid_nent = 8;
			return -E2BIG;
		}
		c->supported_attrs = ~0ull;
		c->supported_xfam = ~0ull;
		c->cpuid_nent = 2;
		fill_cpuid((struct kvm_cpuid_entry2 *)(c + 1), 2);
		return 0;
	}
	case CVM_KVM_TDX_INIT_VM:
		memcpy(r->body, data, sizeof(struct cvm_kvm_tdx_init_vm));
		return 0;
	case CVM_KVM_TDX_GET_CPUID: {
		struct kvm_cpuid2 *c = data;
		if (c->nent < 2) {
			c->nent = 2;
			return -E2BIG;
		}
		c->nent = 2;
		fill_cpuid(c->entries, 2);
		return 0;
	}
	case CVM_KVM_TDX_INIT_MEM_REGION: {
		struct cvm_kvm_tdx_init_mem_region *m = data;
		memcpy(r->body, m, sizeof(*m));
		copy_src(r, m->source_addr);
		uint64_t pages = m->nr_pages < f->pages_per_call ? m->nr_pages : f->pages_per_call;
		m->gpa += pages * 4096;
		m->source_addr += pages * 4096;
		m->nr_pages -= pages;
		return 0;
	}
	default:
		return 0;
	}
}

static int fake_answer(struct fake *f, struct rec *r, int fd, unsigned long req, unsigned long arg)
{
	void *p = (void *)arg;
	switch (req) {
	case KVM_GET_API_VERSION: return KVM_API_VERSION;
	case KVM_CHECK_EXTENSION: return cap_value(f, arg);
	case KVM_GET_VCPU_MMAP_SIZE: return 3 * 4096;
	case KVM_CREATE_VM: f->vm_type = arg; return new_fd(f, R_VM);
	case KVM_CREATE_VCPU: return new_fd(f, R_VCPU);
	case CVM_KVM_CREATE_GUEST_MEMFD:
		memcpy(r->body, p, sizeof(struct cvm_kvm_create_guest_memfd));
		return new_fd(f, R_GMEM);
	case CVM_KVM_SET_USER_MEMORY_REGION2:
		memcpy(r->body, p, sizeof(struct cvm_kvm_userspace_memory_region2));
		return 0;
	case CVM_KVM_SET_MEMORY_ATTRIBUTES:
		memcpy(r->body, p, sizeof(struct cvm_kvm_memory_attributes));
		return 0;
	case KVM_ENABLE_CAP:
		memcpy(r->body, p, sizeof(struct kvm_enable_cap));
		return 0;
	case KVM_GET_SUPPORTED_CPUID: {
		struct kvm_cpuid2 *c = p;
		if (c->nent < 3)
			return -E2BIG;
		c->nent = 3;
		fill_cpuid(c->entries, 3);
		c->entries[2].function = 0xd;
		return 0;
	}
	case KVM_GET_SREGS: memset(p, 0, sizeof(struct kvm_sregs)); return 0;
	case KVM_SET_SREGS: memcpy(r->body, p, sizeof(struct kvm_sregs)); return 0;
	case KVM_SET_REGS: memcpy(r->body, p, sizeof(struct kvm_regs)); return 0;
	case KVM_SET_FPU: memcpy(r->body, p, sizeof(struct kvm_fpu)); return 0;
	case KVM_SET_XCRS: memcpy(r->body, p, sizeof(struct kvm_xcrs)); return 0;
	case KVM_SET_CPUID2: {
		const struct kvm_cpuid2 *c = p;
		size_t len = sizeof(*c) + c->nent * sizeof(c->entries[0]);
		memcpy(r->body, c, len < sizeof(r->body) ? len : sizeof(r->body));
		return 0;
	}
	case CVM_KVM_PRE_FAULT_MEMORY: {
		struct cvm_kvm_pre_fault_memory *m = p;
		memcpy(r->body, m, sizeof(*m));
		if (f->prefault_errno)
			return -f->prefault_errno;
		uint64_t step = f->prefault_step && f->prefault_step < m->size ? f->prefault_step
									      : m->size;
		m->gpa += step;
		m->size -= step;
		return 0;
	}
	case CVM_KVM_MEMORY_ENCRYPT_OP: {
		(void)fd;
		const struct cvm_kvm_sev_cmd *cmd = p;
		r->sub = cmd->id;
		return fake_encrypt_op(f, r, p);
	}
	default: return -ENOTTY;
	}
}

static int fake_ioctl(void *ctx, int fd, unsigned long req, unsigned long arg)
{
	struct fake *f = ctx;
	pthread_mutex_lock(&f->mu);
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->recs = realloc(f->recs, f->cap * sizeof(*f->recs));
	}
	struct rec *r = &f->recs[f->n++];
	memset(r, 0, sizeof(*r));
	r->role = fd >= 0 && fd < 4096 ? f->roles[fd] : R_NONE;
	r->req = req;
	r->arg = arg;
	if (req == CVM_KVM_MEMORY_ENCRYPT_OP)
		r->sub = ((const struct cvm_kvm_sev_cmd *)arg)->id;
	int rc;
	if (fake_should_fail(f, step_name(f, req, r->sub)))
		rc = -f->fail_errno;
	else
		rc = fake_answer(f, r, fd, req, arg);
	r->rc = rc;
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static const struct cvm_kvm_ops fake_ops = {fake_open, fake_close, fake_ioctl, fake_mmap,
					    fake_munmap};

/* ---- Helpers ---------------------------------------------------------------------------- */

static const char *shared_dir(void)
{
	const char *s = getenv("CVMKIT_SHARED");
	return s && *s ? s : CVMKIT_SHARED_DIR;
}

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

/* Write a policy (JSON text with %s for the firmware path) to a temp file and load it. */
static struct cvm_policy *load_policy(const char *json_fmt, const char *fw)
{
	char path[] = "/tmp/cvmkit-test-policy-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *fp = fdopen(fd, "w");
	const char *at = strstr(json_fmt, "%s");
	assert_non_null(at);
	fwrite(json_fmt, 1, (size_t)(at - json_fmt), fp);
	fputs(fw, fp);
	fputs(at + 2, fp);
	fclose(fp);
	struct cvm_policy *p = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	int rc = cvm_policy_load(path, &p, NULL, &err);
	unlink(path);
	if (rc)
		print_message("# policy: %s\n", cvm_error_message(&err));
	assert_int_equal(rc, 0);
	return p;
}

static const char snp_policy_fmt[] =
	"{\"version\": 1, \"name\": \"snp-seam\", \"tee\": \"snp\", \"vmm\": \"qemu\","
	" \"cpus\": {\"count\": 2, \"model\": \"EPYC-Milan\"}, \"memory\": {\"size\": \"64M\"},"
	" \"firmware\": {\"path\": \"%s\"},"
	" \"snp\": {\"policy\": {\"smt\": true, \"debug\": false}, \"guest_features\": \"0x1\","
	"   \"host_data\": \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"},"
	" \"prefault\": {\"mode\": \"best-effort\"}}";

static const char tdx_policy_fmt[] =
	"{\"version\": 1, \"name\": \"tdx-seam\", \"tee\": \"tdx\", \"vmm\": \"qemu\","
	" \"cpus\": {\"count\": 2}, \"memory\": {\"size\": \"64M\"},"
	" \"firmware\": {\"path\": \"%s\"},"
	" \"tdx\": {\"attributes\": {\"debug\": false, \"sept_ve_disable\": true}, \"xfam\": \"0xe7\"},"
	" \"prefault\": {\"mode\": \"best-effort\"}}";

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

static const char default_policy_fmt[] =
	"{\"version\": 1, \"name\": \"default-seam\", \"tee\": \"none\", \"vmm\": \"cvmkit\","
	" \"cpus\": {\"count\": 2}, \"memory\": {\"size\": \"64M\"},"
	" \"firmware\": {\"path\": \"%s\"}, \"prefault\": {\"mode\": \"best-effort\"}}";

static struct cvm_launch *launch_fake(struct fake *f, const struct cvm_policy *p,
				      struct cvm_error *err, int *rc)
{
	struct cvm_launch_options opts = {.seam = &f->seam};
	struct cvm_launch *l = NULL;
	cvm_error_clear(err);
	*rc = cvm_launch(p, &opts, &l, err);
	return l;
}

/* Index of the n-th record (0-based) with this request and sub-command (sub ~0u: any). */
static const struct rec *find_rec(const struct fake *f, unsigned long req, uint32_t sub,
				  size_t nth)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->recs[i].req == req && (sub == ~0u || f->recs[i].sub == sub) && nth-- == 0)
			return &f->recs[i];
	return NULL;
}

static size_t rec_index(const struct fake *f, const struct rec *r)
{
	return (size_t)(r - f->recs);
}

/* ---- SNP -------------------------------------------------------------------------------- */

struct expect_update {
	uint64_t gpa, len;
	uint8_t type;
};

/* spec/snp-measurement.md section 3 and 9 over the AmdSev fixture's metadata (VECTORS.md). */
static const struct expect_update snp_expected[] = {
	{0xfffff000, 0x1000, CVM_KVM_SEV_SNP_PAGE_TYPE_NORMAL},
	{0x800000, 0x9000, CVM_KVM_SEV_SNP_PAGE_TYPE_ZERO},
	{0x80a000, 0x3000, CVM_KVM_SEV_SNP_PAGE_TYPE_ZERO},
	{0x80d000, 0x1000, CVM_KVM_SEV_SNP_PAGE_TYPE_SECRETS},
	{0x80e000, 0x1000, CVM_KVM_SEV_SNP_PAGE_TYPE_CPUID},
	{0x80f000, 0x1000, CVM_KVM_SEV_SNP_PAGE_TYPE_ZERO},
	{0x810000, 0x1000, CVM_KVM_SEV_SNP_PAGE_TYPE_ZERO},
	{0x811000, 0xf000, CVM_KVM_SEV_SNP_PAGE_TYPE_ZERO},
};

static struct cvm_policy *snp_policy(char *fw, size_t fwlen)
{
	snprintf(fw, fwlen, "%s/vectors/snp/ovmf_AmdSev_suffix.bin", shared_dir());
	if (access(fw, R_OK))
		return NULL;
	return load_policy(snp_policy_fmt, fw);
}

static void snp_launch_issues_the_spec_sequence(void **state)
{
	(void)state;
	char fw[512];
	struct cvm_policy *p = snp_policy(fw, sizeof(fw));
	if (!p) {
		print_message("# SKIP SNP fixture not found\n");
		skip();
	}
	struct fake f;
	fake_init(&f);
	f.eagain_once = true;
	struct cvm_error err;
	int rc;
	struct cvm_launch *l = launch_fake(&f, p, &err, &rc);
	if (rc)
		print_message("# %s\n", cvm_error_message(&err));
	assert_int_equal(rc, 0);

	/* VM type 4, then INIT2 with vmsa_features = guest_features minus SNPActive (0). */
	const struct rec *vm = find_rec(&f, KVM_CREATE_VM, ~0u, 0);
	assert_non_null(vm);
	assert_int_equal(vm->arg, CVM_KVM_X86_SNP_VM);
	const struct rec *init = find_rec(&f, CVM_KVM_MEMORY_ENCRYPT_OP, CVM_KVM_SEV_INIT2, 0);
	assert_non_null(init);
	const struct cvm_kvm_sev_init *si = (const void *)init->body;
	assert_int_equal(si->vmsa_features, 0);
	assert_int_equal(si->flags, 0);

	/* Every guest_memfd has no flags; every slot is gmem-backed and then made PRIVATE. */
	const struct rec *g;
	for (size_t i = 0; (g = find_rec(&f, CVM_KVM_CREATE_GUEST_MEMFD, ~0u, i)); i++) {
		const struct cvm_kvm_create_guest_memfd *cg = (const void *)g->body;
		assert_int_equal(cg->flags, 0);
		const struct rec *slot = find_rec(&f, CVM_KVM_SET_USER_MEMORY_REGION2, ~0u, i);
		const struct rec *attr = find_rec(&f, CVM_KVM_SET_MEMORY_ATTRIBUTES, ~0u, i);
		assert_non_null(slot);
		assert_non_null(attr);
		const struct cvm_kvm_userspace_memory_region2 *r2 = (const void *)slot->body;
		const struct cvm_kvm_memory_attributes *ma = (const void *)attr->body;
		assert_int_equal(r2->flags, CVM_KVM_MEM_GUEST_MEMFD);
		assert_int_equal(r2->memory_size, cg->size);
		assert_int_equal(ma->address, r2->guest_phys_addr);
		assert_int_equal(ma->size, r2->memory_size);
		assert_int_equal(ma->attributes, CVM_KVM_MEMORY_ATTRIBUTE_PRIVATE);
		assert_true(rec_index(&f, attr) > rec_index(&f, slot));
	}
	const struct rec *s0 = find_rec(&f, CVM_KVM_SET_USER_MEMORY_REGION2, ~0u, 0);
	const struct rec *s1 = find_rec(&f, CVM_KVM_SET_USER_MEMORY_REGION2, ~0u, 1);
	assert_int_equal(((const struct cvm_kvm_userspace_memory_region2 *)s0->body)->memory_size,
			 64u << 20);
	assert_int_equal(((const struct cvm_kvm_userspace_memory_region2 *)s1->body)->guest_phys_addr,
			 0xfffff000u);

	/* LAUNCH_START with the policy: SMT (bit 16) and the reserved bit 17. */
	const struct rec *start = find_rec(&f, CVM_KVM_MEMORY_ENCRYPT_OP, CVM_KVM_SEV_SNP_LAUNCH_START, 0);
	assert_non_null(start);
	assert_int_equal(((const struct cvm_kvm_sev_snp_launch_start *)start->body)->policy, 0x30000);
	assert_true(rec_index(&f, start) > rec_index(&f, find_rec(&f, CVM_KVM_SET_MEMORY_ATTRIBUTES, ~0u, 1)));
	assert_true(rec_index(&f, start) < rec_index(&f, find_rec(&f, KVM_CREATE_VCPU, ~0u, 0)));

	/* LAUNCH_UPDATEs: each op starts at its GPA with its full length and page type (after one
	 * EAGAIN retry and in chunks of 4 pages), uaddr page aligned, NORMAL bytes = firmware. */
	size_t idx = 1; /* record 0 is the EAGAIN */
	const struct rec *u0 = find_rec(&f, CVM_KVM_MEMORY_ENCRYPT_OP, CVM_KVM_SEV_SNP_LAUNCH_UPDATE, 0);
	assert_int_equal(u0->rc, -EAGAIN);
	for (size_t k = 0; k < sizeof(snp_expected) / sizeof(snp_expected[0]); k++) {
		const struct rec *u = find_rec(&f, CVM_KVM_MEMORY_ENCRYPT_OP,
					       CVM_KVM_SEV_SNP_LAUNCH_UPDATE, idx);
		assert_non_null(u);
		const struct cvm_kvm_sev_snp_launch_update *lu = (const void *)u->body;
		assert_int_equal(lu->gfn_start, snp_expected[k].gpa >> 12);
		assert_int_equal(lu->len, snp_expected[k].len);
		assert_int_equal(lu->type, snp_expected[k].type);
		assert_int_equal(lu->flags, 0);
		if (lu->type == CVM_KVM_SEV_SNP_PAGE_TYPE_ZERO)
			assert_int_equal(lu->uaddr, 0);
		else
			assert_int_equal(lu->uaddr % 4096, 0);
		if (k == 0)
			assert_memory_equal(u->src, l->inputs.fw->data, sizeof(u->src));
		if (lu->type == CVM_KVM_SEV_SNP_PAGE_TYPE_CPUID) {
			/* The table of the vCPUs' CPUID: 3 leaves, leaf 1 reporting EPYC-Milan. */
			assert_int_equal(cvm_le32(u->src), 3);
			assert_int_equal(cvm_le32(u->src + 16), 1);
			assert_int_equal(cvm_le32(u->src + 16 + 24), 0xa00f11);
		}
		idx += (size_t)((snp_expected[k].len / 4096 + 3) / 4);
	}
	assert_null(find_rec(&f, CVM_KVM_MEMORY_ENCRYPT_OP, CVM_KVM_SEV_SNP_LAUNCH_UPDATE, idx));

	/* Both vCPUs get their VMSA state (RDX = signature, FPU, XCR0) before FINISH; FINISH
	 * carries host_data. */
	const struct rec *fin = find_rec(&f, CVM_KVM_MEMORY_ENCRYPT_OP, CVM_KVM_SEV_SNP_LAUNCH_FINISH, 0);
	assert_non_null(fin);
	assert_true(rec_index(&f, find_rec(&f, KVM_SET_XCRS, ~0u, 1)) < rec_index(&f, fin));
	const struct rec *regs = find_rec(&f, KVM_SET_REGS, ~0u, 0);
	assert_int_equal(((const struct kvm_regs *)regs->body)->rdx, 0xa00f11); /* EPYC-Milan */
	for (size_t v = 0; v < 2; v++) {
		/* Every vCPU gets the host's CPUID with the model's signature in leaf 1, before the
		 * CPUID page is built from it. */
		const struct rec *cp = find_rec(&f, KVM_SET_CPUID2, ~0u, v);
		assert_non_null(cp);
		const struct kvm_cpuid2 *c2 = (const void *)cp->body;
		assert_int_equal(c2->nent, 3);
		assert_int_equal(c2->entries[0].function, 1);
		assert_int_equal(c2->entries[0].eax, 0xa00f11);
		assert_true(rec_index(&f, cp) < rec_index(&f, u0));
	}
	assert_null(find_rec(&f, KVM_SET_CPUID2, ~0u, 2));
	const struct rec *fpu = find_rec(&f, KVM_SET_FPU, ~0u, 0);
	assert_int_equal(((const struct kvm_fpu *)fpu->body)->fcw, 0x37f);
	assert_int_equal(((const struct kvm_fpu *)fpu->body)->mxcsr, 0x1f80);
	const struct rec *xcr = find_rec(&f, KVM_SET_XCRS, ~0u, 0);
	assert_int_equal(((const struct kvm_xcrs *)xcr->body)->xcrs[0].value, 1);
	const struct cvm_kvm_sev_snp_launch_finish *lf = (const void *)fin->body;
	assert_int_equal(lf->id_block_en, 0);
	for (int i = 0; i < 32; i++)
		assert_int_equal(lf->host_data[i], i);
	const struct rec *pf = find_rec(&f, CVM_KVM_PRE_FAULT_MEMORY, ~0u, 0);
	assert_non_null(pf);
	assert_true(rec_index(&f, pf) > rec_index(&f, fin));
	assert_int_equal(l->kvm.prefault.done, 64u << 20);

	/* The digest of the issued operations equals `measure`'s for the same policy. */
	struct cvm_measurement *m = NULL;
	assert_int_equal(cvm_snp_measure(p, l->inputs.fw, &m, &err), 0);
	assert_memory_equal(m->digest, l->measurement->digest, 48);
	cvm_measurement_free(m);
	cvm_launch_free(l);
	assert_int_equal(f.live_maps, 0);
	fake_fini(&f);
	cvm_policy_free(p);
}

/* ---- TDX -------------------------------------------------------------------------------- */

struct expect_region {
	uint64_t gpa, pages;
	bool measure;
};

/* VECTORS.md C: BFV 0x8000 @0xffff8000 MR_EXTEND, CFV 0x2000 @0xffff0000, TD_HOB
 * 0x809000+0x2000, TempMem 0x800000+0x6000, in metadata order. */
static const struct expect_region tdx_expected[] = {
	{0xffff8000, 8, true},
	{0xffff0000, 2, false},
	{0x809000, 2, false},
	{0x800000, 6, false},
};

static struct cvm_policy *tdx_policy(char *fw, size_t fwlen)
{
	snprintf(fw, fwlen, "%s/vectors/tdx/synth_tdvf.bin", shared_dir());
	if (access(fw, R_OK))
		return NULL;
	return load_policy(tdx_policy_fmt, fw);
}

static void tdx_launch_issues_the_spec_sequence(void **state)
{
	(void)state;
	char fw[512];
	struct cvm_policy *p = tdx_policy(fw, sizeof(fw));
	if (!p) {
		print_message("# SKIP TDX fixture not found\n");
		skip();
	}
	struct fake f;
	fake_init(&f);
	struct cvm_error err;
	int rc;
	struct cvm_launch *l = launch_fake(&f, p, &err, &rc);
	if (rc)
		print_message("# %s\n", cvm_error_message(&err));
	assert_int_equal(rc, 0);

	assert_int_equal(find_rec(&f, KVM_CREATE_VM, ~0u, 0)->arg, CVM_KVM_X86_TDX_VM);
	/* CAPABILITIES: 6 entries -> E2BIG -> 12. */
	const struct rec *c0 = find_rec(&f, CVM_KVM_MEMORY_ENCRYPT_OP, CVM_KVM_TDX_CAPABILITIES, 0);
	const struct rec *c1 = find_rec(&f, CVM_KVM_MEMORY_ENCRYPT_OP, CVM_KVM_TDX_CAPABILITIES, 1);
	assert_int_equal(c0->rc, -E2BIG);
	assert_int_equal(*(const uint32_t *)c0->body, 6);
	assert_int_equal(*(const uint32_t *)c1->body, 12);
	assert_int_equal(c1->rc, 0);

	/* INIT_VM: attributes SEPT_VE_DISABLE (bit 28), xfam 0xe7, CPUID = supported & configurable. */
	const struct rec *iv = find_rec(&f, CVM_KVM_MEMORY_ENCRYPT_OP, CVM_KVM_TDX_INIT_VM, 0);
	assert_non_null(iv);
	const struct cvm_kvm_tdx_init_vm *ivm = (const void *)iv->body;
	assert_int_equal(ivm->attributes, 1ull << 28);
	assert_int_equal(ivm->xfam, 0xe7);
	assert_int_equal(ivm->cpuid_nent, 2);
	assert_true(rec_index(&f, iv) < rec_index(&f, find_rec(&f, KVM_CREATE_VCPU, ~0u, 0)));
	const struct rec *split = find_rec(&f, KVM_ENABLE_CAP, ~0u, 0);
	assert_int_equal(((const struct kvm_enable_cap *)split->body)->cap, KVM_CAP_SPLIT_IRQCHIP);

	/* INIT_VCPU on each vCPU with RCX = TD HOB GPA, before any memory. */
	for (size_t i = 0; i < 2; i++) {
		const struct rec *v = find_rec(&f, CVM_KVM_MEMORY_ENCRYPT_OP, CVM_KVM_TDX_INIT_VCPU, i);
		assert_non_null(v);
		assert_int_equal(v->role, R_VCPU);
		assert_int_equal(v->sub_data, 0x809000);
		assert_true(rec_index(&f, v) < rec_index(&f, find_rec(&f, CVM_KVM_CREATE_GUEST_MEMFD, ~0u, 0)));
	}
	assert_non_null(find_rec(&f, CVM_KVM_SET_MEMORY_ATTRIBUTES, ~0u, 0));

	/* The TD's CPUID, read back from vCPU 0 after INIT_VCPU, is every vCPU's KVM CPUID. */
	const struct rec *gc = find_rec(&f, CVM_KVM_MEMORY_ENCRYPT_OP, CVM_KVM_TDX_GET_CPUID, 0);
	assert_non_null(gc);
	assert_int_equal(gc->role, R_VCPU);
	assert_true(rec_index(&f, gc) > rec_index(&f, find_rec(&f, CVM_KVM_MEMORY_ENCRYPT_OP,
							       CVM_KVM_TDX_INIT_VCPU, 1)));
	for (size_t i = 0; i < 2; i++) {
		const struct rec *sc = find_rec(&f, KVM_SET_CPUID2, ~0u, i);
		assert_non_null(sc);
		assert_int_equal(((const struct kvm_cpuid2 *)sc->body)->nent, 2);
		assert_true(rec_index(&f, sc) > rec_index(&f, gc));
	}

	/* INIT_MEM_REGION per section, measure flag only on BFV, source page aligned. */
	size_t idx = 0;
	for (size_t k = 0; k < sizeof(tdx_expected) / sizeof(tdx_expected[0]); k++) {
		const struct rec *m = find_rec(&f, CVM_KVM_MEMORY_ENCRYPT_OP,
					       CVM_KVM_TDX_INIT_MEM_REGION, idx);
		assert_non_null(m);
		assert_int_equal(m->role, R_VCPU);
		const struct cvm_kvm_tdx_init_mem_region *mr = (const void *)m->body;
		assert_int_equal(mr->gpa, tdx_expected[k].gpa);
		assert_int_equal(mr->nr_pages, tdx_expected[k].pages);
		assert_int_equal(mr->source_addr % 4096, 0);
		assert_int_equal(m->sub_flags,
				 tdx_expected[k].measure ? CVM_KVM_TDX_MEASURE_MEMORY_REGION : 0);
		if (k == 0) /* BFV bytes = the image at its data offset (end of the 64 KiB file) */
			assert_memory_equal(m->src, l->inputs.fw->data + 0x8000, sizeof(m->src));
		idx += (size_t)((tdx_expected[k].pages + 3) / 4);
	}
	const struct rec *fin = find_rec(&f, CVM_KVM_MEMORY_ENCRYPT_OP, CVM_KVM_TDX_FINALIZE_VM, 0);
	assert_non_null(fin);
	assert_int_equal(fin->role, R_VM);
	assert_true(rec_index(&f, find_rec(&f, CVM_KVM_PRE_FAULT_MEMORY, ~0u, 0)) > rec_index(&f, fin));

	struct cvm_measurement *m = NULL;
	assert_int_equal(cvm_tdx_measure(p, l->inputs.fw, &m, &err), 0);
	assert_memory_equal(m->digest, l->measurement->digest, 48);
	cvm_measurement_free(m);
	cvm_launch_free(l);
	assert_int_equal(f.live_maps, 0);
	fake_fini(&f);
	cvm_policy_free(p);
}

/* ---- Refusal and pre-fault through the seam --------------------------------------------- */

/* An ID block signs the launch digest: LAUNCH_FINISH carries one built from the same digest. */
static void snp_launch_with_an_id_block_signs_its_digest(void **state)
{
	(void)state;
	char fw[512];
	snprintf(fw, sizeof(fw), "%s/vectors/snp/ovmf_AmdSev_suffix.bin", shared_dir());
	if (access(fw, R_OK)) {
		print_message("# SKIP SNP fixture not found\n");
		skip();
	}
	char dir[] = "/tmp/cvmkit-test-id-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char key[64], policy[64];
	snprintf(key, sizeof(key), "%s/id.pem", dir);
	snprintf(policy, sizeof(policy), "%s/policy.json", dir);
	EVP_PKEY *k = EVP_EC_gen("P-384");
	FILE *kf = fopen(key, "w");
	assert_non_null(k);
	assert_non_null(kf);
	assert_int_equal(PEM_write_PrivateKey(kf, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(kf);
	EVP_PKEY_free(k);
	FILE *pf = fopen(policy, "w");
	assert_non_null(pf);
	fprintf(pf, "{\"version\": 1, \"tee\": \"snp\", \"cpus\": {\"count\": 1, \"model\": \"EPYC\"},"
		    " \"memory\": {\"size\": \"64M\"}, \"firmware\": {\"path\": \"%s\"},"
		    " \"snp\": {\"id_block\": {\"guest_svn\": 7, \"id_key\": \"id.pem\"}}}", fw);
	fclose(pf);
	struct cvm_policy *p = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_policy_load(policy, &p, NULL, &err), 0);

	struct fake f;
	fake_init(&f);
	int rc;
	struct cvm_launch *l = launch_fake(&f, p, &err, &rc);
	if (rc)
		print_message("# %s\n", cvm_error_message(&err));
	assert_int_equal(rc, 0);
	const struct rec *fin = find_rec(&f, CVM_KVM_MEMORY_ENCRYPT_OP, CVM_KVM_SEV_SNP_LAUNCH_FINISH, 0);
	assert_non_null(fin);
	const struct cvm_kvm_sev_snp_launch_finish *lf = (const void *)fin->body;
	assert_int_equal(lf->id_block_en, 1);
	assert_int_equal(lf->auth_key_en, 0);
	const uint8_t *id_block = (const uint8_t *)(uintptr_t)lf->id_block_uaddr;
	const uint8_t *id_auth = (const uint8_t *)(uintptr_t)lf->id_auth_uaddr;
	assert_memory_equal(id_block, l->measurement->digest, 48); /* LD */
	assert_int_equal(cvm_le32(id_block + 0x50), 1);             /* VERSION */
	assert_int_equal(cvm_le32(id_block + 0x54), 7);             /* GUEST_SVN */
	assert_int_equal(cvm_le64(id_block + 0x58), 0x30000);       /* POLICY */
	assert_int_equal(cvm_le32(id_auth), 1);                     /* ECDSA P-384 */
	assert_true(l->measurement->has_id_key_digest);
	cvm_launch_free(l);
	fake_fini(&f);
	cvm_policy_free(p);
	unlink(key);
	unlink(policy);
	rmdir(dir);
}

static void snp_refused_when_host_lacks_the_vm_type(void **state)
{
	(void)state;
	char fw[512];
	struct cvm_policy *p = snp_policy(fw, sizeof(fw));
	if (!p) {
		print_message("# SKIP SNP fixture not found\n");
		skip();
	}
	struct fake f;
	fake_init(&f);
	f.vm_types = 1;
	struct cvm_error err;
	int rc;
	int before = count_fds();
	struct cvm_launch *l = launch_fake(&f, p, &err, &rc);
	assert_null(l);
	assert_int_equal(rc, -EOPNOTSUPP);
	assert_non_null(strstr(cvm_error_message(&err),
			       "SEV-SNP VMs are not supported by this host's KVM (KVM_CAP_VM_TYPES = 0x1)"));
	assert_null(find_rec(&f, KVM_CREATE_VM, ~0u, 0));
	assert_int_equal(count_fds(), before);
	fake_fini(&f);
	cvm_policy_free(p);
}

static void prefault_required_fails_and_best_effort_skips(void **state)
{
	(void)state;
	char *guest = write_test_guest(4096);
	for (int required = 0; required < 2; required++) {
		struct cvm_policy *p = load_policy(default_policy_fmt, guest);
		p->prefault.mode = required ? CVM_PREFAULT_REQUIRED : CVM_PREFAULT_BEST_EFFORT;
		struct fake f;
		fake_init(&f);
		f.prefault_errno = EOPNOTSUPP;
		struct cvm_error err;
		int rc;
		struct cvm_launch *l = launch_fake(&f, p, &err, &rc);
		if (required) {
			assert_int_equal(rc, -EOPNOTSUPP);
			assert_non_null(strstr(cvm_error_message(&err), "KVM_PRE_FAULT_MEMORY"));
			assert_non_null(strstr(cvm_error_message(&err), "required"));
		} else {
			assert_int_equal(rc, 0);
			assert_true(l->kvm.prefault.skipped);
			assert_non_null(strstr(l->kvm.prefault.note, "EOPNOTSUPP"));
		}
		cvm_launch_free(l);
		assert_int_equal(f.live_maps, 0);
		fake_fini(&f);
		cvm_policy_free(p);
	}
	unlink(guest);
}

static void prefault_splits_large_ranges_across_vcpus(void **state)
{
	(void)state;
	char *guest = write_test_guest(4096);
	struct cvm_policy *p = load_policy(default_policy_fmt, guest);
	p->memory_size = 1ull << 30;
	struct fake f;
	fake_init(&f);
	struct cvm_error err;
	int rc;
	struct cvm_launch *l = launch_fake(&f, p, &err, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(l->kvm.prefault.threads, 2);
	assert_int_equal(l->kvm.prefault.done, 1ull << 30);
	const struct rec *a = find_rec(&f, CVM_KVM_PRE_FAULT_MEMORY, ~0u, 0);
	const struct rec *b = find_rec(&f, CVM_KVM_PRE_FAULT_MEMORY, ~0u, 1);
	const struct cvm_kvm_pre_fault_memory *ra = (const void *)a->body, *rb = (const void *)b->body;
	assert_int_equal(ra->size + rb->size, 1ull << 30);
	assert_int_equal(ra->flags | rb->flags, 0);
	cvm_launch_free(l);
	fake_fini(&f);
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

static struct cvm_launch *launch_with_progress(struct fake *f, const struct cvm_policy *p,
					       struct progress_log *log)
{
	memset(log, 0, sizeof(*log));
	pthread_mutex_init(&log->mu, NULL);
	struct cvm_progress cb = {log_progress, log};
	struct cvm_launch_options opts = {.seam = &f->seam, .progress = &cb};
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
	struct fake f;
	fake_init(&f); /* like KVM: each call does all it is asked for */
	struct progress_log log;
	struct cvm_launch *l = launch_with_progress(&f, p, &log);
	assert_int_equal(l->kvm.prefault.threads, 2);
	assert_int_equal(l->kvm.prefault.done, 1ull << 30);
	assert_string_equal(log.what, "pre-faulting guest memory");
	/* Each thread asks for 64 MiB windows, so 16 calls in all ... */
	size_t calls = 0;
	for (const struct rec *r; (r = find_rec(&f, CVM_KVM_PRE_FAULT_MEMORY, ~0u, calls)); calls++)
		assert_int_equal(((const struct cvm_kvm_pre_fault_memory *)r->body)->size, 64ull << 20);
	assert_int_equal(calls, 16);
	/* ... and one report per call: the running totals are each multiple of 64 MiB exactly once
	 * (the threads' order may vary), always out of the whole GiB. */
	assert_int_equal(log.n, 16);
	bool seen[17] = {false};
	for (size_t i = 0; i < log.n; i++) {
		assert_int_equal(log.total[i], 1ull << 30);
		assert_int_equal(log.done[i] % (64ull << 20), 0);
		uint64_t k = log.done[i] / (64ull << 20);
		assert_true(k >= 1 && k <= 16 && !seen[k]);
		seen[k] = true;
	}
	cvm_launch_free(l);
	fake_fini(&f);
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
	struct fake f;
	fake_init(&f);
	f.prefault_step = 4u << 20;
	struct progress_log log;
	struct cvm_launch *l = launch_with_progress(&f, p, &log);
	/* 4 + 2 calls; the second range continues where the first ended, out of 24 MiB. */
	assert_int_equal(log.n, 6);
	for (size_t i = 0; i < log.n; i++) {
		assert_int_equal(log.done[i], (i + 1) * (4u << 20));
		assert_int_equal(log.total[i], 24u << 20);
	}
	assert_int_equal(l->kvm.prefault.done, 24u << 20);
	cvm_launch_free(l);
	fake_fini(&f);
	cvm_policy_free(p);
	unlink(guest);
}

static void prefault_without_progress_is_one_call_per_range(void **state)
{
	(void)state;
	char *guest = write_test_guest(4096);
	struct cvm_policy *p = load_policy(default_policy_fmt, guest);
	struct fake f;
	fake_init(&f);
	struct cvm_error err;
	int rc;
	struct cvm_launch *l = launch_fake(&f, p, &err, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(l->kvm.prefault.done, 64u << 20);
	/* One call for the whole range, as without progress support. */
	const struct rec *pf = find_rec(&f, CVM_KVM_PRE_FAULT_MEMORY, ~0u, 0);
	assert_non_null(pf);
	assert_int_equal(((const struct cvm_kvm_pre_fault_memory *)pf->body)->size, 64u << 20);
	assert_null(find_rec(&f, CVM_KVM_PRE_FAULT_MEMORY, ~0u, 1));
	assert_null(l->kvm.progress); /* the caller's callback is not kept past cvm_launch */
	cvm_launch_free(l);
	fake_fini(&f);
	cvm_policy_free(p);
	unlink(guest);
}

/* ---- Fault injection -------------------------------------------------------------------- */

static void inject_every_call(struct cvm_policy *p, const char *what)
{
	struct fake f;
	fake_init(&f);
	struct cvm_error err;
	int rc;
	struct cvm_launch *l = launch_fake(&f, p, &err, &rc);
	assert_int_equal(rc, 0);
	cvm_launch_free(l);
	unsigned total = f.calls;
	fake_fini(&f);
	assert_true(total > 10);
	for (unsigned n = 1; n <= total; n++) {
		int before = count_fds();
		fake_init(&f);
		f.fail_at = n;
		l = launch_fake(&f, p, &err, &rc);
		if (rc == 0) {
			print_message("# %s: failing call %u (%s) did not fail the launch\n", what, n,
				      f.failed_step);
		}
		assert_int_not_equal(rc, 0);
		assert_null(l);
		if (!strstr(cvm_error_message(&err), f.failed_step))
			print_message("# %s call %u: '%s' not named in: %s\n", what, n, f.failed_step,
				      cvm_error_message(&err));
		assert_non_null(strstr(cvm_error_message(&err), f.failed_step));
		assert_int_equal(f.live_maps, 0);
		assert_int_equal(count_fds(), before);
		fake_fini(&f);
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
	char fw[512];
	struct cvm_policy *p = snp_policy(fw, sizeof(fw));
	if (!p) {
		print_message("# SKIP SNP fixture not found\n");
		skip();
	}
	inject_every_call(p, "snp");
	cvm_policy_free(p);
}

static void every_failing_call_of_the_tdx_launch_is_named_and_leak_free(void **state)
{
	(void)state;
	char fw[512];
	struct cvm_policy *p = tdx_policy(fw, sizeof(fw));
	if (!p) {
		print_message("# SKIP TDX fixture not found\n");
		skip();
	}
	inject_every_call(p, "tdx");
	cvm_policy_free(p);
}

static void snp_firmware_error_is_reported_with_its_code(void **state)
{
	(void)state;
	char fw[512];
	struct cvm_policy *p = snp_policy(fw, sizeof(fw));
	if (!p) {
		print_message("# SKIP SNP fixture not found\n");
		skip();
	}
	struct cvm_error err;
	int rc = 0;
	bool hit = false;
	for (unsigned n = 1; n < 1000 && !hit; n++) {
		struct fake g;
		fake_init(&g);
		g.fail_at = n;
		cvm_launch_free(launch_fake(&g, p, &err, &rc));
		hit = strcmp(g.failed_step, "SNP_LAUNCH_UPDATE") == 0;
		fake_fini(&g);
	}
	assert_true(hit);
	assert_int_equal(rc, -EIO);
	assert_non_null(strstr(cvm_error_message(&err), "SNP_LAUNCH_UPDATE gpa 0xfffff000 (NORMAL): EIO"));
	assert_true(err.has_fw_status);
	cvm_policy_free(p);
}

static void cancel_flag_stops_the_launch_cleanly(void **state)
{
	(void)state;
	char *guest = write_test_guest(4096);
	struct cvm_policy *p = load_policy(default_policy_fmt, guest);
	struct fake f;
	fake_init(&f);
	volatile sig_atomic_t cancel = 1;
	struct cvm_launch_options opts = {.seam = &f.seam, .cancel = &cancel};
	struct cvm_launch *l = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	int before = count_fds();
	assert_int_equal(cvm_launch(p, &opts, &l, &err), -ECANCELED);
	assert_null(l);
	assert_int_equal(count_fds(), before);
	assert_int_equal(f.live_maps, 0);
	fake_fini(&f);
	cvm_policy_free(p);
	unlink(guest);
}

static void dry_run_plan_of_the_default_vm_places_firmware_below_4g(void **state)
{
	(void)state;
	char *guest = write_test_guest(16384);
	struct cvm_policy *p = load_policy(default_policy_fmt, guest);
	struct cvm_launch_inputs in;
	struct cvm_plan plan;
	struct cvm_error err;
	assert_int_equal(cvm_launch_plan_build(p, &in, &plan, &err), 0);
	assert_int_equal(plan.nops, 3);
	assert_int_equal(plan.ops[0].gpa, 0x100000000ull - 16384);
	assert_int_equal(plan.ops[0].flags, CVM_OP_FIRMWARE);
	assert_int_equal(plan.ops[1].kind, CVM_OP_VCPU);
	assert_int_equal(plan.ops[1].vcpu->rip, 0xfff0);
	assert_int_equal(plan.ops[1].vcpu->cs.base, 0xffff0000u);
	assert_int_equal(cvm_kvm_plan_firmware_size(&plan), 16384);
	cvm_plan_release(&plan);
	cvm_launch_inputs_release(&in);
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
		cmocka_unit_test(snp_launch_issues_the_spec_sequence),
		cmocka_unit_test(tdx_launch_issues_the_spec_sequence),
		cmocka_unit_test(snp_launch_with_an_id_block_signs_its_digest),
		cmocka_unit_test(snp_refused_when_host_lacks_the_vm_type),
		cmocka_unit_test(prefault_required_fails_and_best_effort_skips),
		cmocka_unit_test(prefault_splits_large_ranges_across_vcpus),
		cmocka_unit_test(prefault_progress_counts_the_bytes_of_every_vcpu_thread),
		cmocka_unit_test(prefault_progress_runs_over_all_ranges_in_order),
		cmocka_unit_test(prefault_without_progress_is_one_call_per_range),
		cmocka_unit_test(every_failing_call_of_the_default_launch_is_named_and_leak_free),
		cmocka_unit_test(every_failing_call_of_the_snp_launch_is_named_and_leak_free),
		cmocka_unit_test(every_failing_call_of_the_tdx_launch_is_named_and_leak_free),
		cmocka_unit_test(snp_firmware_error_is_reported_with_its_code),
		cmocka_unit_test(cancel_flag_stops_the_launch_cleanly),
		cmocka_unit_test(dry_run_plan_of_the_default_vm_places_firmware_below_4g),
		cmocka_unit_test(committed_example_guest_is_the_generated_image),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
