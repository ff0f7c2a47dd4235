/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SNP launch through the ioctl seam against the offline measure of the same policy, both
 * in-process.  The seam is a fake KVM that answers like upstream KVM and does no work of its own
 * (every LAUNCH_UPDATE completes in one call, memory is untouched anonymous mappings), so the
 * launch side is cvmkit's own cost: planning, staging each op into shared memory, the lockstep
 * PAGE_INFO model and the measurement document.  (tests/unit/test_launch.c has the recording
 * fake that checks the command sequence; this one only answers.)
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cvmkit/firmware.h>
#include <cvmkit/kvm.h>
#include "launcher/kvm_uapi.h"
#include <cvmkit/launch.h>
#include <cvmkit/pool.h>
#include <cvmkit/snp.h>

#define CMDLINE "console=ttyS0"

static int fake_open(void *ctx, const char *path, int flags)
{
	(void)ctx;
	(void)flags;
	if (strcmp(path, "/dev/kvm") != 0 && strcmp(path, "/dev/sev") != 0)
		return -ENOENT;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int fake_close(void *ctx, int fd)
{
	(void)ctx;
	return close(fd) ? -errno : 0;
}

static int fake_cap(unsigned long cap)
{
	switch (cap) {
	case CVM_KVM_CAP_VM_TYPES: return 1 << CVM_KVM_X86_DEFAULT_VM | 1 << CVM_KVM_X86_SNP_VM;
	case CVM_KVM_CAP_USER_MEMORY2:
	case CVM_KVM_CAP_MEMORY_FAULT_INFO:
	case CVM_KVM_CAP_GUEST_MEMFD:
	case CVM_KVM_CAP_PRE_FAULT_MEMORY: return 1;
	case CVM_KVM_CAP_MEMORY_ATTRIBUTES: return 8; /* PRIVATE */
	case CVM_KVM_CAP_GUEST_MEMFD_FLAGS: return 3; /* MMAP | INIT_SHARED */
	default: return 0;
	}
}

static int fake_supported_cpuid(struct kvm_cpuid2 *c)
{
	static const uint32_t leaves[] = {0x1, 0x7, 0xd};
	if (c->nent < 3)
		return -E2BIG;
	c->nent = 3;
	for (uint32_t i = 0; i < 3; i++) {
		memset(&c->entries[i], 0, sizeof(c->entries[i]));
		c->entries[i].function = leaves[i];
		c->entries[i].eax = 0x00a00f11u;
	}
	return 0;
}

/* SNP commands: LAUNCH_UPDATE takes the whole range at once, as KVM does when not interrupted. */
static int fake_sev(struct cvm_kvm_sev_cmd *cmd)
{
	if (cmd->id == CVM_KVM_SEV_SNP_LAUNCH_UPDATE) {
		struct cvm_kvm_sev_snp_launch_update *u = (void *)(uintptr_t)cmd->data;
		u->gfn_start += u->len / 4096;
		if (u->type != CVM_KVM_SEV_SNP_PAGE_TYPE_ZERO)
			u->uaddr += u->len;
		u->len = 0;
	}
	return 0;
}

static int fake_ioctl(void *ctx, int fd, unsigned long req, unsigned long arg)
{
	(void)ctx;
	void *p = (void *)arg;
	switch (req) {
	case KVM_GET_API_VERSION: return KVM_API_VERSION;
	case KVM_CHECK_EXTENSION: return fake_cap(arg);
	case KVM_GET_VCPU_MMAP_SIZE: return 3 * 4096;
	case KVM_CREATE_VM:
	case KVM_CREATE_VCPU:
	case CVM_KVM_CREATE_GUEST_MEMFD: return fake_open(ctx, "/dev/kvm", 0);
	case KVM_GET_SUPPORTED_CPUID: return fake_supported_cpuid(p);
	case KVM_GET_SREGS: memset(p, 0, sizeof(struct kvm_sregs)); return 0;
	case CVM_KVM_PRE_FAULT_MEMORY: {
		struct cvm_kvm_pre_fault_memory *m = p;
		m->gpa += m->size;
		m->size = 0;
		return 0;
	}
	case CVM_KVM_MEMORY_ENCRYPT_OP: return fake_sev(p);
	case KVM_SET_MSRS: return (int)((const struct kvm_msrs *)p)->nmsrs; /* all set */
	default: (void)fd; return 0; /* the SET_* calls: accepted */
	}
}

static int fake_mmap(void *ctx, size_t len, int prot, int flags, int fd, void **out)
{
	(void)ctx;
	(void)flags;
	(void)fd;
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

static int fake_munmap(void *ctx, void *addr, size_t len)
{
	(void)ctx;
	return munmap(addr, len) ? -errno : 0;
}

static const struct cvm_kvm_ops fake_ops = {fake_open, fake_close, fake_ioctl, fake_mmap,
					    fake_munmap};
static const struct cvm_kvm_seam fake_seam = {&fake_ops, NULL};

struct launch_ctx {
	struct cvm_policy policy;
	struct cvm_pool *pool; /* both sides' page hashes, every CPU (the CLI's default) */
	uint8_t launch_digest[48], measure_digest[48];
	struct cvm_launch_timings last;
};

static int launch_once(void *arg)
{
	struct launch_ctx *c = arg;
	struct cvm_launch_options opts = {.seam = &fake_seam, .pool = c->pool};
	struct cvm_launch *l = NULL;
	struct cvm_error err;
	int rc = cvm_launch(&c->policy, &opts, &l, &err);
	if (rc) {
		fprintf(stderr, "bench snp launch: %s\n", cvm_error_message(&err));
	} else {
		c->last = *cvm_launch_timings(l);
		memcpy(c->launch_digest, cvm_launch_measurement(l)->digest, 48);
	}
	cvm_launch_free(l);
	return rc;
}

static int measure_once(void *arg)
{
	struct launch_ctx *c = arg;
	struct cvm_error err;
	struct cvm_firmware *fw = NULL;
	struct cvm_measurement *m = NULL;
	int rc = cvm_firmware_load_on(c->policy.firmware.path, c->pool, &fw, &err);
	struct cvm_snp_measure_opts o = {.pool = c->pool};
	if (!rc)
		rc = cvm_snp_measure_ex(&c->policy, fw, &o, &m, &err);
	if (rc)
		fprintf(stderr, "bench snp measure: %s\n", cvm_error_message(&err));
	else
		memcpy(c->measure_digest, m->digest, 48);
	cvm_measurement_free(m);
	cvm_firmware_free(fw);
	return rc;
}

static void launch_case(const struct bench_env *env, struct bench_result *r, const char *initrd,
			int reps, bool big)
{
	struct launch_ctx c;
	memset(&c, 0, sizeof(c));
	struct cvm_policy *p = &c.policy;
	cvm_policy_init(p);
	p->tee = CVM_TEE_SNP;
	p->memory_size = 1ull << 30;
	p->cpus.count = 4;
	p->cpus.model = (char *)"EPYC-Milan";
	p->firmware.path = (char *)env->firmware;
	p->boot.kernel = (char *)env->kernel;
	p->boot.initrd = (char *)initrd;
	p->boot.cmdline = (char *)CMDLINE;
	p->prefault.mode = CVM_PREFAULT_BEST_EFFORT;
	struct cvm_error err;
	if (cvm_pool_new(0, &c.pool, &err)) {
		bench_skip(r, "%s", cvm_error_message(&err));
		return;
	}
	struct bench_side sides[] = {
		{.tag = "launch", .label = "cvmkit: cvm_launch through the fake KVM",
		 .fn = launch_once, .ctx = &c},
		{.tag = "measure", .label = "cvmkit: firmware load + cvm_snp_measure",
		 .fn = measure_once, .ctx = &c},
	};
	int rc = bench_compare(env, sides, 2, reps, r);
	cvm_pool_free(c.pool);
	if (rc)
		return;
	bench_target(r, BENCH_RATIO_MAX, 0, 1, 1.1, "#17");
	if (big)
		bench_target(r, BENCH_RSS_UNDER_MIB, 0, -1, 64, "#17");
	const struct cvm_launch_timings *t = &c.last;
	uint64_t phases = t->plan_ns + t->begin_ns + t->load_ns + t->finish_ns + t->prefault_ns +
			  t->document_ns;
	bench_note(r, "same policy (4 vCPUs, 1 GiB, direct boot), both in-process, page hashes on "
		      "every CPU; launch digest %s the offline one",
		   memcmp(c.launch_digest, c.measure_digest, 48) == 0 ? "equals" : "DIFFERS FROM");
	bench_note(r, "last launch by phase (ms): plan %.2f, VM+memory+vCPUs %.2f, load %.2f, "
		      "finish %.2f, pre-fault %.2f, document %.2f; total %.2f, in no phase %.2f",
		   t->plan_ns / 1e6, t->begin_ns / 1e6, t->load_ns / 1e6, t->finish_ns / 1e6,
		   t->prefault_ns / 1e6, t->document_ns / 1e6, t->total_ns / 1e6,
		   ((double)t->total_ns - (double)phases) / 1e6);
}

void bench_snp_launch_fake(const struct bench_env *env, struct bench_result *r)
{
	launch_case(env, r, env->initrd, 0, false);
}

void bench_big_snp_launch(const struct bench_env *env, struct bench_result *r)
{
	char initrd[400];
	if (bench_big_initrd_create(env, r, initrd, sizeof(initrd)))
		return;
	launch_case(env, r, initrd, env->heavy_reps, true);
	bench_note(r, "the initrd is a sparse file (its pages come from the page cache as zeros); "
		      "peak RSS of the in-process sides includes the bench process itself");
	unlink(initrd);
}
