/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Default-VM launch against a minimal hand-written ioctl sequence doing the same work: the same
 * guest_memfd regions and memslots, the firmware copied in, one vCPU with its reset state, and the
 * SHA-384 of the loaded image that cvmkit's document carries.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "launcher/kvm_uapi.h"
#include <cvmkit/launch.h>
#include <cvmkit/pool.h>
#include <cvmkit/util.h>

#define GIB (1ull << 30)
#define LOW_RAM_MAX (3 * GIB)

struct launch_ctx {
	const struct bench_env *env;
	uint64_t mem;
	struct cvm_pool *pool; /* the image's SHA-256 beside the VM, as `cvmkit launch` does */
	struct cvm_launch_timings last;
};

static int launch_once(void *arg)
{
	struct launch_ctx *c = arg;
	struct cvm_policy p;
	cvm_policy_init(&p);
	p.tee = CVM_TEE_NONE;
	p.memory_size = c->mem;
	p.cpus.count = 1;
	p.firmware.path = (char *)c->env->firmware;
	p.prefault.mode = CVM_PREFAULT_BEST_EFFORT;
	struct cvm_error err;
	struct cvm_launch *l = NULL;
	struct cvm_launch_options opts = {.pool = c->pool};
	int rc = cvm_launch(&p, &opts, &l, &err);
	if (rc)
		fprintf(stderr, "bench launch: %s\n", cvm_error_message(&err));
	else
		c->last = *cvm_launch_timings(l);
	cvm_launch_free(l);
	return rc;
}

struct bare_region {
	uint64_t gpa, size;
	int gmem;
	void *map;
};

static int bare_region(int vm, uint32_t slot, struct bare_region *r)
{
	struct cvm_kvm_create_guest_memfd g = {.size = r->size,
					      .flags = CVM_GUEST_MEMFD_FLAG_MMAP |
						       CVM_GUEST_MEMFD_FLAG_INIT_SHARED};
	r->gmem = ioctl(vm, CVM_KVM_CREATE_GUEST_MEMFD, &g);
	if (r->gmem < 0)
		return -1;
	r->map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->gmem, 0);
	if (r->map == MAP_FAILED)
		return -1;
	struct cvm_kvm_userspace_memory_region2 m = {
		.slot = slot, .flags = CVM_KVM_MEM_GUEST_MEMFD, .guest_phys_addr = r->gpa,
		.memory_size = r->size, .userspace_addr = (uintptr_t)r->map,
		.guest_memfd_offset = 0, .guest_memfd = (uint32_t)r->gmem};
	return ioctl(vm, CVM_KVM_SET_USER_MEMORY_REGION2, &m) < 0 ? -1 : 0;
}

/* What a VMM author would write by hand for the same VM. */
static int bare_sequence(const struct launch_ctx *c, const struct cvm_file *fw)
{
	struct bare_region regs[3] = {0};
	size_t n = 0;
	int rc = -1, vcpu = -1;
	void *run = MAP_FAILED;
	long run_size = 0;
	struct kvm_cpuid2 *cpuid = NULL;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int vm = kvm < 0 ? -1 : ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		goto out;
	uint64_t low = c->mem < LOW_RAM_MAX ? c->mem : LOW_RAM_MAX;
	regs[n++] = (struct bare_region){.gpa = 0, .size = low};
	if (c->mem > low)
		regs[n++] = (struct bare_region){.gpa = 4 * GIB, .size = c->mem - low};
	regs[n++] = (struct bare_region){.gpa = 4 * GIB - fw->size, .size = fw->size};
	for (size_t i = 0; i < n; i++)
		if (bare_region(vm, (uint32_t)i, &regs[i]))
			goto out;
	memcpy(regs[n - 1].map, fw->data, fw->size);
	uint8_t digest[48];
	unsigned int dlen;
	if (EVP_Digest(fw->data, fw->size, digest, &dlen, EVP_sha384(), NULL) != 1)
		goto out;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	run_size = vcpu < 0 ? -1 : ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		goto out;
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		goto out;
	/* Every VMM gives its vCPUs a CPUID; without one a guest sees no features. */
	cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	if (!cpuid)
		goto out;
	cpuid->nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 || ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0)
		goto out;
	struct kvm_sregs sregs;
	struct kvm_regs regs_ = {.rip = 0xfff0, .rflags = 2};
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		goto out;
	sregs.cs.selector = 0xf000;
	sregs.cs.base = 0xffff0000;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs_) < 0)
		goto out;
	struct cvm_kvm_pre_fault_memory pf = {.gpa = 0, .size = low};
	if (ioctl(vcpu, CVM_KVM_PRE_FAULT_MEMORY, &pf) < 0 && errno != EOPNOTSUPP)
		goto out;
	rc = 0;
out:
	free(cpuid);
	if (run != MAP_FAILED)
		munmap(run, (size_t)run_size);
	if (vcpu >= 0)
		close(vcpu);
	for (size_t i = 0; i < n; i++) {
		if (regs[i].map && regs[i].map != MAP_FAILED)
			munmap(regs[i].map, regs[i].size);
		if (regs[i].gmem > 0)
			close(regs[i].gmem);
	}
	if (vm >= 0)
		close(vm);
	if (kvm >= 0)
		close(kvm);
	return rc;
}

/* The image is mapped on every run, as cvm_launch maps it. */
static int bare_once(void *arg)
{
	const struct launch_ctx *c = arg;
	struct cvm_file fw;
	struct cvm_error err;
	if (cvm_file_open(c->env->firmware, &fw, &err))
		return -1;
	int rc = bare_sequence(c, &fw);
	cvm_file_close(&fw);
	return rc;
}

static void bench_launch(const struct bench_env *env, struct bench_result *r, uint64_t mem)
{
	struct launch_ctx c = {.env = env, .mem = mem};
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		bench_skip(r, "/dev/kvm is not available");
		return;
	}
	if (cvm_pool_new(env->cpus, &c.pool, NULL)) {
		bench_skip(r, "no memory for a pool");
		return;
	}
	struct bench_side sides[] = {
		{.tag = "cvmkit", .label = "cvmkit: cvm_launch (default VM)",
		 .fn = launch_once, .ctx = &c},
		{.tag = "bare ioctls", .label = "hand-written ioctl sequence",
		 .fn = bare_once, .ctx = &c},
	};
	int rc = bench_compare(env, sides, 2, 0, r);
	cvm_pool_free(c.pool);
	if (!rc) {
		bench_target(r, BENCH_RATIO_MAX, 0, 1, 1.2, "#5");
		const struct cvm_launch_timings *t = &c.last;
		uint64_t phases = t->plan_ns + t->begin_ns + t->load_ns + t->finish_ns +
				  t->prefault_ns + t->document_ns;
		bench_note(r, "last run by phase (ms): plan %.2f, VM+memory+vCPUs %.2f, load %.2f, "
			      "finish %.2f, pre-fault %.2f, document %.2f; total %.2f, in no phase "
			      "%.2f",
			   t->plan_ns / 1e6, t->begin_ns / 1e6, t->load_ns / 1e6, t->finish_ns / 1e6,
			   t->prefault_ns / 1e6, t->document_ns / 1e6, t->total_ns / 1e6,
			   ((double)t->total_ns - (double)phases) / 1e6);
		bench_note(r, "floor: open, CREATE_VM, guest_memfd+mmap+memslot per region, copy, "
			      "SHA-384 of the image, vCPU, CPUID, regs, one PRE_FAULT call; both "
			      "sides map the image on every run");
	}
}

void bench_launch_64m(const struct bench_env *env, struct bench_result *r)
{
	bench_launch(env, r, 64ull << 20);
}

void bench_launch_1g(const struct bench_env *env, struct bench_result *r)
{
	bench_launch(env, r, GIB);
}

void bench_launch_4g(const struct bench_env *env, struct bench_result *r)
{
	bench_launch(env, r, 4 * GIB);
}

void bench_launch_16g(const struct bench_env *env, struct bench_result *r)
{
	bench_launch(env, r, 16 * GIB);
}
