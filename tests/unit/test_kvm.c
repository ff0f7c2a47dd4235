/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: the generic KVM layer (launcher/kvm.c, launcher/kvm_vm.c) on the real /dev/kvm
 * (skipped with a reason where absent) and, for exits this host cannot produce, through a small
 * fake seam.  The default-VM launch runs a test guest that checksums its own image in guest
 * memory: the sum it reports must equal the host's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cvmkit/kvm.h>
#include "launcher/kvm_backend.h"
#include "launcher/kvm_uapi.h"
#include "tests/unit/helper_spec_kvm.h"
#include <cvmkit/launch.h>
#include <cvmkit/util.h>

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

static bool have_kvm(struct cvm_kvm_caps *caps)
{
	struct cvm_error err;
	if (access("/dev/kvm", R_OK | W_OK) != 0)
		return false;
	return cvm_kvm_probe(cvm_kvm_seam_real(), caps, &err) == 0;
}

#define SKIP_WITHOUT_KVM(caps)                                                        \
	do {                                                                          \
		if (!have_kvm(caps)) {                                                \
			print_message("# SKIP /dev/kvm is not available on this host\n"); \
			skip();                                                       \
		}                                                                     \
	} while (0)

static char guest_path[64];

static void write_guest(const uint8_t *buf, size_t size)
{
	snprintf(guest_path, sizeof(guest_path), "/tmp/cvmkit-kvm-guest-XXXXXX");
	int fd = mkstemp(guest_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
}

static struct cvm_policy *default_policy(uint64_t mem, enum cvm_prefault_mode mode)
{
	struct cvm_policy *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	cvm_policy_init(p);
	p->version = 1;
	p->name = strdup("kvm-test");
	p->tee = CVM_TEE_NONE;
	p->vmm = CVM_VMM_CVMKIT;
	p->cpus.count = 1;
	p->memory_size = mem;
	p->firmware.path = strdup(guest_path);
	p->prefault.mode = mode;
	return p;
}

struct io_seen {
	uint32_t value;
	uint16_t port;
	unsigned count;
};

static bool record_io(void *ctx, const struct cvm_kvm_io *io)
{
	struct io_seen *s = ctx;
	s->port = io->port;
	s->value = 0;
	for (unsigned i = 0; i < io->size && i < 4; i++)
		s->value |= (uint32_t)io->data[i] << (8 * i);
	s->count++;
	return true;
}

/* ---- Real /dev/kvm ---------------------------------------------------------------------- */

static void default_vm_guest_checksum_equals_host_checksum(void **state)
{
	(void)state;
	struct cvm_kvm_caps caps;
	SKIP_WITHOUT_KVM(&caps);
	for (size_t size = 4096; size <= 65536; size *= 4) {
		uint8_t *img = malloc(size);
		assert_int_equal(cvm_test_guest_build(img, size, NULL), 0);
		write_guest(img, size);
		struct cvm_policy *p = default_policy(32u << 20, CVM_PREFAULT_BEST_EFFORT);
		int before = count_fds();
		struct cvm_launch *l = NULL;
		struct cvm_error err;
		cvm_error_clear(&err);
		int rc = cvm_launch(p, NULL, &l, &err);
		if (rc)
			print_message("# %s\n", cvm_error_message(&err));
		assert_int_equal(rc, 0);
		struct io_seen seen = {0, 0, 0};
		struct cvm_kvm_run_result res;
		rc = cvm_launch_run(l, record_io, &seen, &res, &err);
		if (rc)
			print_message("# %s\n", cvm_error_message(&err));
		assert_int_equal(rc, 0);
		assert_int_equal(res.stop, CVM_KVM_STOP_HLT);
		assert_int_equal(seen.count, 1);
		assert_int_equal(seen.port, CVM_TEST_GUEST_PORT);
		assert_int_equal(seen.value, cvm_test_guest_checksum(img, size));
		cvm_launch_free(l);
		assert_int_equal(count_fds(), before);
		cvm_policy_free(p);
		unlink(guest_path);
		free(img);
	}
}

static void corrupted_image_byte_changes_the_guest_checksum(void **state)
{
	(void)state;
	struct cvm_kvm_caps caps;
	SKIP_WITHOUT_KVM(&caps);
	uint8_t img[8192];
	assert_int_equal(cvm_test_guest_build(img, sizeof(img), NULL), 0);
	uint32_t good = cvm_test_guest_checksum(img, sizeof(img));
	img[100] ^= 0x5a; /* a data byte, not code */
	write_guest(img, sizeof(img));
	struct cvm_policy *p = default_policy(16u << 20, CVM_PREFAULT_OFF);
	struct cvm_launch *l = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_launch(p, NULL, &l, &err), 0);
	struct io_seen seen = {0, 0, 0};
	assert_int_equal(cvm_launch_run(l, record_io, &seen, NULL, &err), 0);
	assert_int_equal(seen.value, cvm_test_guest_checksum(img, sizeof(img)));
	assert_int_not_equal(seen.value, good);
	cvm_launch_free(l);
	cvm_policy_free(p);
	unlink(guest_path);
}

/*
 * The firmware pin is checked on the bytes that are loaded: a seam that rewrites the image file
 * in place once the inputs are read (at the first open of /dev/kvm) changes neither what the
 * guest runs nor the document, and a later launch of the rewritten file fails its pin.
 */
struct rewriting_seam {
	struct cvm_kvm_seam seam;
	struct cvm_kvm_ops ops;
	const struct cvm_kvm_seam *inner;
	bool rewritten;
};

static int rw_open(void *ctx, const char *path, int flags)
{
	struct rewriting_seam *s = ctx;
	if (!s->rewritten) {
		s->rewritten = true;
		int fd = open(guest_path, O_WRONLY);
		assert_true(fd >= 0);
		uint8_t evil[64];
		memset(evil, 0x5a, sizeof(evil));
		assert_int_equal(pwrite(fd, evil, sizeof(evil), 100), (ssize_t)sizeof(evil));
		close(fd);
	}
	return s->inner->ops->open(s->inner->ctx, path, flags);
}

static int rw_close(void *ctx, int fd)
{
	const struct rewriting_seam *s = ctx;
	return s->inner->ops->close(s->inner->ctx, fd);
}

static int rw_ioctl(void *ctx, int fd, unsigned long request, unsigned long arg)
{
	const struct rewriting_seam *s = ctx;
	return s->inner->ops->ioctl(s->inner->ctx, fd, request, arg);
}

static int rw_mmap(void *ctx, size_t len, int prot, int flags, int fd, void **out)
{
	const struct rewriting_seam *s = ctx;
	return s->inner->ops->mmap(s->inner->ctx, len, prot, flags, fd, out);
}

static int rw_munmap(void *ctx, void *addr, size_t len)
{
	const struct rewriting_seam *s = ctx;
	return s->inner->ops->munmap(s->inner->ctx, addr, len);
}

static void firmware_rewritten_after_the_pin_check_is_not_what_runs(void **state)
{
	(void)state;
	struct cvm_kvm_caps caps;
	SKIP_WITHOUT_KVM(&caps);
	uint8_t img[16384];
	assert_int_equal(cvm_test_guest_build(img, sizeof(img), NULL), 0);
	write_guest(img, sizeof(img));
	struct cvm_policy *p = default_policy(16u << 20, CVM_PREFAULT_OFF);
	struct cvm_error err;
	assert_int_equal(cvm_sha256(img, sizeof(img), p->firmware.sha256, &err), 0);
	p->firmware.has_sha256 = true;

	struct cvm_launch *l = NULL;
	assert_int_equal(cvm_launch(p, NULL, &l, &err), 0);
	uint8_t want[48];
	memcpy(want, cvm_launch_measurement(l)->digest, 48);
	cvm_launch_free(l);

	struct rewriting_seam s = {0};
	s.ops = (struct cvm_kvm_ops){rw_open, rw_close, rw_ioctl, rw_mmap, rw_munmap};
	s.seam = (struct cvm_kvm_seam){&s.ops, &s};
	s.inner = cvm_kvm_seam_real();
	struct cvm_launch_options opts = {.seam = &s.seam};
	l = NULL;
	int rc = cvm_launch(p, &opts, &l, &err);
	if (rc)
		print_message("# %s\n", cvm_error_message(&err));
	assert_int_equal(rc, 0);
	assert_true(s.rewritten);
	assert_memory_equal(cvm_launch_measurement(l)->digest, want, 48);
	struct io_seen seen = {0, 0, 0};
	assert_int_equal(cvm_launch_run(l, record_io, &seen, NULL, &err), 0);
	assert_int_equal(seen.value, cvm_test_guest_checksum(img, sizeof(img)));
	cvm_launch_free(l);

	l = NULL;
	assert_int_equal(cvm_launch(p, NULL, &l, &err), -EINVAL);
	assert_null(l);
	assert_non_null(strstr(cvm_error_message(&err), "firmware.sha256"));
	cvm_policy_free(p);
	unlink(guest_path);
}

static void prefault_eopnotsupp_best_effort_is_a_reported_skip(void **state)
{
	(void)state;
	struct cvm_kvm_caps caps;
	SKIP_WITHOUT_KVM(&caps);
	if (caps.pre_fault_memory) {
		print_message("# SKIP this host supports KVM_PRE_FAULT_MEMORY\n");
		skip();
	}
	uint8_t img[4096];
	cvm_test_guest_build(img, sizeof(img), NULL);
	write_guest(img, sizeof(img));
	struct cvm_policy *p = default_policy(16u << 20, CVM_PREFAULT_BEST_EFFORT);
	struct cvm_launch *l = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_launch(p, NULL, &l, &err), 0);
	assert_true(cvm_launch_prefault_result(l)->skipped);
	assert_int_equal(cvm_launch_prefault_result(l)->done, 0);
	assert_non_null(strstr(cvm_launch_prefault_result(l)->note, "EOPNOTSUPP"));
	bool found = false;
	for (size_t i = 0; i < cvm_launch_measurement(l)->nlaunch; i++)
		if (strcmp(cvm_launch_measurement(l)->launch[i].key, "prefault") == 0)
			found = strstr(cvm_launch_measurement(l)->launch[i].value, "EOPNOTSUPP") != NULL;
	assert_true(found);
	cvm_launch_free(l);
	cvm_policy_free(p);
	unlink(guest_path);
}

static void prefault_eopnotsupp_required_is_an_error(void **state)
{
	(void)state;
	struct cvm_kvm_caps caps;
	SKIP_WITHOUT_KVM(&caps);
	if (caps.pre_fault_memory) {
		print_message("# SKIP this host supports KVM_PRE_FAULT_MEMORY\n");
		skip();
	}
	uint8_t img[4096];
	cvm_test_guest_build(img, sizeof(img), NULL);
	write_guest(img, sizeof(img));
	struct cvm_policy *p = default_policy(16u << 20, CVM_PREFAULT_REQUIRED);
	struct cvm_launch *l = NULL;
	struct cvm_error err;
	int before = count_fds();
	assert_int_equal(cvm_launch(p, NULL, &l, &err), -EOPNOTSUPP);
	assert_null(l);
	assert_non_null(strstr(cvm_error_message(&err), "KVM_PRE_FAULT_MEMORY [0x0, 0x1000000): EOPNOTSUPP"));
	assert_non_null(strstr(cvm_error_message(&err), "\"required\""));
	assert_int_equal(count_fds(), before);
	cvm_policy_free(p);
	unlink(guest_path);
}

static void confidential_vm_types_refused_with_one_clear_message(void **state)
{
	(void)state;
	struct cvm_kvm_caps caps;
	SKIP_WITHOUT_KVM(&caps);
	static const struct {
		unsigned long type;
		const char *title;
	} t[] = {{CVM_KVM_X86_SNP_VM, "SEV-SNP"}, {CVM_KVM_X86_TDX_VM, "TDX"}};
	for (size_t i = 0; i < 2; i++) {
		if (caps.vm_types & (1ull << t[i].type)) {
			print_message("# SKIP this host offers %s VMs\n", t[i].title);
			continue;
		}
		char want[160];
		snprintf(want, sizeof(want),
			 "%s VMs are not supported by this host's KVM (KVM_CAP_VM_TYPES = 0x%llx)",
			 t[i].title, (unsigned long long)caps.vm_types);
		struct cvm_kvm_vm *vm = NULL;
		struct cvm_error err;
		int before = count_fds();
		assert_int_equal(cvm_kvm_vm_create(cvm_kvm_seam_real(), t[i].type, NULL, &vm, &err),
				 -EOPNOTSUPP);
		assert_null(vm);
		assert_string_equal(cvm_error_message(&err), want);
		assert_int_equal(count_fds(), before);
	}
}

static void host_probe_reports_guest_memfd_flags(void **state)
{
	(void)state;
	struct cvm_kvm_caps caps;
	SKIP_WITHOUT_KVM(&caps);
	assert_int_equal(caps.api_version, 12);
	assert_true(caps.vm_types & 1);
	if (!caps.guest_memfd) {
		print_message("# SKIP no guest_memfd on this host\n");
		skip();
	}
	assert_true(caps.guest_memfd_flags & CVM_GUEST_MEMFD_FLAG_MMAP);
}

/* ---- Fake seam for the wrappers and the run loop ----------------------------------------- */

struct mini {
	int eintr_left;
	struct cvm_kvm_sev_cmd seen;
	unsigned calls;
	struct kvm_run *run;
	int run_mode; /* 0 memory fault, 1 mmio, 2 EINTR */
};

static int mini_ioctl(void *ctx, int fd, unsigned long req, unsigned long arg)
{
	(void)fd;
	struct mini *m = ctx;
	m->calls++;
	if (m->eintr_left > 0) {
		m->eintr_left--;
		return -EINTR;
	}
	if (req == CVM_KVM_MEMORY_ENCRYPT_OP) {
		memcpy(&m->seen, (const void *)arg, sizeof(m->seen));
		((struct cvm_kvm_sev_cmd *)arg)->error = 0x7;
		return -EIO;
	}
	if (req == KVM_RUN) {
		if (m->run_mode == 0) {
			m->run->exit_reason = CVM_KVM_EXIT_MEMORY_FAULT;
			struct cvm_kvm_memory_fault *mf = (void *)&m->run->hw;
			mf->flags = CVM_KVM_MEMORY_EXIT_FLAG_PRIVATE;
			mf->gpa = 0x1000;
			mf->size = 0x1000;
			return -EFAULT;
		}
		if (m->run_mode == 1) {
			m->run->exit_reason = KVM_EXIT_MMIO;
			m->run->mmio.phys_addr = 0xfee00000;
			m->run->mmio.len = 4;
			m->run->mmio.is_write = 0;
			return 0;
		}
		return -EINTR;
	}
	return 0;
}

static int mini_open(void *ctx, const char *p, int f)
{
	(void)ctx, (void)p, (void)f;
	return -ENOENT;
}
static int mini_close(void *ctx, int fd)
{
	(void)ctx, (void)fd;
	return 0;
}
static int mini_mmap(void *ctx, size_t l, int p, int f, int fd, void **o)
{
	(void)ctx, (void)l, (void)p, (void)f, (void)fd, (void)o;
	return -ENOMEM;
}
static int mini_munmap(void *ctx, void *a, size_t l)
{
	(void)ctx, (void)a, (void)l;
	return 0;
}

static const struct cvm_kvm_ops mini_ops = {mini_open, mini_close, mini_ioctl, mini_mmap,
					    mini_munmap};

static void sev_wrapper_retries_eintr_zeroes_and_returns_firmware_code(void **state)
{
	(void)state;
	struct mini m;
	memset(&m, 0, sizeof(m));
	m.eintr_left = 2;
	struct cvm_kvm_seam seam = {&mini_ops, &m};
	uint8_t data[64] = {0};
	uint32_t fw = 0;
	assert_int_equal(cvm_kvm_sev_op(&seam, 3, 5, CVM_KVM_SEV_SNP_LAUNCH_START, data, &fw), -EIO);
	assert_int_equal(m.calls, 3);
	assert_int_equal(fw, 7);
	assert_int_equal(m.seen.id, CVM_KVM_SEV_SNP_LAUNCH_START);
	assert_int_equal(m.seen.data, (uint64_t)(uintptr_t)data);
	assert_int_equal(m.seen.error, 0);
	assert_int_equal(m.seen.sev_fd, 5);
}

static void open_failure_names_dev_kvm(void **state)
{
	(void)state;
	struct mini m;
	memset(&m, 0, sizeof(m));
	struct cvm_kvm_seam seam = {&mini_ops, &m};
	struct cvm_kvm_caps caps;
	struct cvm_error err;
	assert_int_equal(cvm_kvm_probe(&seam, &caps, &err), -ENOENT);
	assert_string_equal(cvm_error_message(&err), "open /dev/kvm: ENOENT (no KVM on this host)");
}

static void run_with_fake(struct mini *m, int mode, struct cvm_error *err,
			  struct cvm_kvm_run_result *res, volatile sig_atomic_t *cancel)
{
	static uint8_t run_page[4096] __attribute__((aligned(64)));
	memset(run_page, 0, sizeof(run_page));
	memset(m, 0, sizeof(*m));
	m->run = (struct kvm_run *)(void *)run_page;
	m->run_mode = mode;
	struct cvm_kvm_seam seam = {&mini_ops, m};
	int fds[1] = {-1};
	struct kvm_run *runs[1] = {m->run};
	struct cvm_kvm_vm vm;
	memset(&vm, 0, sizeof(vm));
	vm.seam = &seam;
	vm.nvcpus = 1;
	vm.vcpu_fds = fds;
	vm.runs = runs;
	vm.run_size = sizeof(run_page);
	vm.cancel = cancel;
	cvm_error_clear(err);
	int rc = cvm_kvm_run(&vm, 0, NULL, NULL, res, err);
	if (mode == 2)
		assert_int_equal(rc, 0);
	else
		assert_true(rc < 0);
}

static void memory_fault_exit_is_reported_with_gpa_size_and_kind(void **state)
{
	(void)state;
	struct mini m;
	struct cvm_error err;
	run_with_fake(&m, 0, &err, NULL, NULL);
	assert_int_equal(err.code, -EFAULT);
	assert_string_equal(cvm_error_message(&err),
			    "KVM_EXIT_MEMORY_FAULT: gpa 0x1000 size 0x1000 (private access; the range's private/shared state does not match)");
}

static void mmio_exit_is_reported_as_unbacked_access(void **state)
{
	(void)state;
	struct mini m;
	struct cvm_error err;
	run_with_fake(&m, 1, &err, NULL, NULL);
	assert_string_equal(cvm_error_message(&err),
			    "vCPU 0: guest read unbacked memory at gpa 0xfee00000 (MMIO exit, 4 bytes)");
}

static void cancelled_run_stops_at_the_next_eintr(void **state)
{
	(void)state;
	struct mini m;
	struct cvm_error err;
	struct cvm_kvm_run_result res;
	volatile sig_atomic_t cancel = 1;
	run_with_fake(&m, 2, &err, &res, &cancel);
	assert_int_equal(res.stop, CVM_KVM_STOP_CANCELLED);
}

static void test_guest_rejects_bad_sizes(void **state)
{
	(void)state;
	uint8_t buf[8192];
	struct cvm_error err;
	assert_int_equal(cvm_test_guest_build(buf, 4095, &err), -EINVAL);
	assert_int_equal(cvm_test_guest_build(buf, 2048, &err), -EINVAL);
	assert_int_equal(cvm_test_guest_build(buf, 8192, &err), 0);
	/* the reset vector jumps back to the image start: e9 rel16 with target 0x10000 - size */
	assert_int_equal(buf[8192 - 16], 0xe9);
	uint16_t rel = (uint16_t)(buf[8192 - 15] | buf[8192 - 14] << 8);
	assert_int_equal((uint16_t)(0xfff3 + rel), (uint16_t)(0x10000 - 8192));
}

/* A scripted kernel for the load retry rule: each call takes the next answer. */
struct script {
	const int *rcs;     /* answer of call i */
	const uint64_t *advance; /* work done by call i */
	size_t n, calls;
	uint64_t left;
	volatile sig_atomic_t *cancel_after_first;
};

static int script_call(void *vctx, struct cvm_error *err)
{
	struct script *s = vctx;
	size_t i = s->calls < s->n ? s->calls : s->n - 1;
	s->calls++;
	s->left -= s->advance[i] < s->left ? s->advance[i] : s->left;
	if (s->cancel_after_first)
		*s->cancel_after_first = 1;
	if (s->rcs[i] < 0 && s->rcs[i] != -EAGAIN && s->rcs[i] != -EBUSY)
		return cvm_error_set(err, s->rcs[i], "scripted failure");
	return s->rcs[i];
}

static uint64_t script_left(const void *vctx)
{
	return ((const struct script *)vctx)->left;
}

static void load_retries_follow_progress_eagain_ebusy_and_stop_on_a_stall(void **state)
{
	(void)state;
	struct cvm_error err;
	/* Partial progress, EAGAIN, EBUSY, then the rest: done in four calls. */
	const int rcs1[] = {0, -EAGAIN, -EBUSY, 0};
	const uint64_t adv1[] = {3, 0, 1, 4};
	struct script s = {rcs1, adv1, 4, 0, 8, NULL};
	assert_int_equal(cvm_kvm_load_with_retries(script_call, script_left, &s, NULL, "X", &err), 0);
	assert_int_equal(s.calls, 4);
	assert_int_equal(s.left, 0);
	/* EAGAIN for ever is bounded: CVM_KVM_RETRY_MAX calls, then an error naming the call. */
	const int rcs2[] = {-EAGAIN};
	const uint64_t adv2[] = {0};
	struct script t = {rcs2, adv2, 1, 0, 8, NULL};
	assert_int_equal(cvm_kvm_load_with_retries(script_call, script_left, &t, NULL, "X", &err),
			 -EAGAIN);
	assert_int_equal(t.calls, CVM_KVM_RETRY_MAX);
	assert_non_null(strstr(err.msg, "X: EAGAIN"));
	/* A success without progress would loop for ever: an error. */
	const int rcs3[] = {0};
	struct script u = {rcs3, adv2, 1, 0, 8, NULL};
	assert_int_equal(cvm_kvm_load_with_retries(script_call, script_left, &u, NULL, "X", &err),
			 -EIO);
	assert_int_equal(u.calls, 1);
	/* A hard failure keeps its own message; cancellation stops the retries. */
	const int rcs4[] = {-EIO};
	struct script v = {rcs4, adv2, 1, 0, 8, NULL};
	assert_int_equal(cvm_kvm_load_with_retries(script_call, script_left, &v, NULL, "X", &err),
			 -EIO);
	assert_string_equal(err.msg, "scripted failure");
	volatile sig_atomic_t cancel = 0;
	struct script w = {rcs2, adv2, 1, 0, 8, &cancel};
	assert_int_equal(cvm_kvm_load_with_retries(script_call, script_left, &w, &cancel, "X", &err),
			 -ECANCELED);
	assert_int_equal(w.calls, 1);
}

/* ---- KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd (the posted series, not upstream) -------- */

/* A default VM of the fake (or the host) and one 2 MiB MMAP guest_memfd of it. */
static int gmem_of(const struct cvm_kvm_seam *s, struct cvm_kvm_vm **vm, uint64_t flags)
{
	struct cvm_error err;
	cvm_error_clear(&err);
	if (cvm_kvm_vm_create(s, 0, NULL, vm, &err))
		fail_msg("VM: %s", cvm_error_message(&err));
	int fd = cvm_kvm_create_guest_memfd(s, (*vm)->vm_fd, 2u << 20, flags);
	assert_true(fd >= 0);
	return fd;
}

static void gmem_attributes2_outcomes_reach_the_caller(void **state)
{
	(void)state;
	struct spec_kvm *k = spec_kvm_new();
	const struct cvm_kvm_seam *s = spec_kvm_seam(k);
	struct cvm_kvm_vm *vm;
	int fd = gmem_of(s, &vm, CVM_GUEST_MEMFD_FLAG_MMAP);
	const uint64_t priv = CVM_KVM_MEMORY_ATTRIBUTE_PRIVATE;
	const uint64_t keep = CVM_KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE;
	uint64_t at = 0;

	/* Upstream: no such call (detected by trying it, never by a capability number). */
	assert_int_equal(cvm_kvm_gmem_set_attributes2(s, fd, 0, 0x10000, priv, keep, &at), -ENOTTY);

	spec_kvm_set_gmem_attr2(k, true, true);
	assert_int_equal(cvm_kvm_gmem_set_attributes2(s, fd, 0x1000, 0x10000, priv, keep, &at), 0);
	const struct spec_kvm_event *e = spec_kvm_find(k, "KVM_SET_MEMORY_ATTRIBUTES2", 1);
	assert_non_null(e);
	assert_int_equal(e->on, SPEC_FD_GMEM);
	assert_int_equal(spec_kvm_field(e, "offset"), 0x1000);
	assert_int_equal(spec_kvm_field(e, "size"), 0x10000);
	assert_int_equal(spec_kvm_field(e, "attributes"), priv);
	assert_int_equal(spec_kvm_field(e, "flags"), keep);
	assert_int_equal(spec_kvm_field(e, "error_offset"), 0);

	/* EAGAIN: the page still referenced comes back in error_offset (offset 32). */
	spec_kvm_gmem_attr2_fail(k, EAGAIN, 1, 0x7000);
	assert_int_equal(cvm_kvm_gmem_set_attributes2(s, fd, 0, 0x10000, priv, keep, &at), -EAGAIN);
	assert_int_equal(at, 0x7000);
	/* ENOMEM passes through; EINVAL for a range, mode or preservation KVM refuses. */
	spec_kvm_gmem_attr2_fail(k, ENOMEM, 1, 0);
	assert_int_equal(cvm_kvm_gmem_set_attributes2(s, fd, 0, 0x10000, priv, keep, NULL), -ENOMEM);
	assert_int_equal(cvm_kvm_gmem_set_attributes2(s, fd, 0x800, 0x1000, priv, keep, NULL),
			 -EINVAL);
	assert_int_equal(cvm_kvm_gmem_set_attributes2(s, fd, 0, 4u << 20, priv, keep, NULL),
			 -EINVAL);
	spec_kvm_set_gmem_attr2(k, true, false);
	assert_int_equal(cvm_kvm_gmem_set_attributes2(s, fd, 0, 0x10000, priv, keep, NULL),
			 -EINVAL);
	assert_int_equal(cvm_kvm_gmem_set_attributes2(s, fd, 0, 0x10000, 0, 0, NULL), 0);
	/* Not a VM ioctl in this series: on the VM fd it is unknown. */
	struct cvm_kvm_memory_attributes2 a;
	memset(&a, 0, sizeof(a));
	assert_int_equal(cvm_kvm_ioctl(s, vm->vm_fd, CVM_KVM_SET_MEMORY_ATTRIBUTES2,
				       (unsigned long)&a),
			 -ENOTTY);
	s->ops->close(s->ctx, fd);
	cvm_kvm_vm_free(vm);
	spec_kvm_free(k);
}

/* This host's kernel has no KVM_SET_MEMORY_ATTRIBUTES2: trying it on a guest_memfd says so. */
static void gmem_attributes2_is_enotty_on_an_upstream_host(void **state)
{
	(void)state;
	struct cvm_kvm_caps caps;
	SKIP_WITHOUT_KVM(&caps);
	if (!caps.guest_memfd || !(caps.guest_memfd_flags & CVM_GUEST_MEMFD_FLAG_MMAP)) {
		print_message("# SKIP no mappable guest_memfd on this host\n");
		skip();
	}
	const struct cvm_kvm_seam *s = cvm_kvm_seam_real();
	struct cvm_kvm_vm *vm;
	int fd = gmem_of(s, &vm, CVM_GUEST_MEMFD_FLAG_MMAP);
	int rc = cvm_kvm_gmem_set_attributes2(s, fd, 0, 0x1000, 0, 0, NULL);
	s->ops->close(s->ctx, fd);
	cvm_kvm_vm_free(vm);
	if (rc != -ENOTTY)
		print_message("# this kernel answers KVM_SET_MEMORY_ATTRIBUTES2 with %s\n",
			      cvm_errno_name(rc));
	assert_true(rc == -ENOTTY || rc == 0 || rc == -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_vm_guest_checksum_equals_host_checksum),
		cmocka_unit_test(corrupted_image_byte_changes_the_guest_checksum),
		cmocka_unit_test(firmware_rewritten_after_the_pin_check_is_not_what_runs),
		cmocka_unit_test(prefault_eopnotsupp_best_effort_is_a_reported_skip),
		cmocka_unit_test(prefault_eopnotsupp_required_is_an_error),
		cmocka_unit_test(confidential_vm_types_refused_with_one_clear_message),
		cmocka_unit_test(host_probe_reports_guest_memfd_flags),
		cmocka_unit_test(sev_wrapper_retries_eintr_zeroes_and_returns_firmware_code),
		cmocka_unit_test(open_failure_names_dev_kvm),
		cmocka_unit_test(memory_fault_exit_is_reported_with_gpa_size_and_kind),
		cmocka_unit_test(mmio_exit_is_reported_as_unbacked_access),
		cmocka_unit_test(cancelled_run_stops_at_the_next_eintr),
		cmocka_unit_test(test_guest_rejects_bad_sizes),
		cmocka_unit_test(load_retries_follow_progress_eagain_ebusy_and_stop_on_a_stall),
		cmocka_unit_test(gmem_attributes2_outcomes_reach_the_caller),
		cmocka_unit_test(gmem_attributes2_is_enotty_on_an_upstream_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
