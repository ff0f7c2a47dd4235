/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: a TD's life after the launch sequence, through the spec fake KVM
 * (helper_spec_kvm.h) — KVM_TDX_TERMINATE_VM on every teardown (success, failure, cancel; a
 * kernel without it), never for other VM types — and the run loop's answers to KVM_EXIT_TDX
 * (launcher/launch_guest.c), read back at the kernel's kvm_run offsets, not through
 * kvm_uapi.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cvmkit/kvm.h>
#include <cvmkit/launch.h>
#include <cvmkit/util.h>

#include "tests/unit/helper_spec_kvm.h"
#include "tests/unit/helper_vectors.h"

/* A TD of two vCPUs on the synthetic TDVF of the shared vectors; skips without it. */
static struct cvm_policy *tdx_policy(void)
{
	char fw[512], text[1024];
	snprintf(fw, sizeof(fw), "%s/vectors/tdx/synth_tdvf.bin", cvm_test_shared_dir());
	if (access(fw, R_OK)) {
		print_message("# SKIP %s not found\n", fw);
		skip();
	}
	snprintf(text, sizeof(text),
		 "{\"version\": 1, \"name\": \"td\", \"tee\": \"tdx\", \"vmm\": \"qemu\","
		 " \"cpus\": {\"count\": 2}, \"memory\": {\"size\": \"64M\"},"
		 " \"firmware\": {\"path\": \"%s\"}}", fw);
	return cvm_test_policy_from_text(text);
}

static int launch_td(struct spec_kvm *k, const struct cvm_policy *p, volatile sig_atomic_t *cancel,
		     struct cvm_launch **l, struct cvm_error *err)
{
	struct cvm_launch_options opts = {.seam = spec_kvm_seam(k), .cancel = cancel};
	cvm_error_clear(err);
	*l = NULL;
	return cvm_launch(p, &opts, l, err);
}

/* The one KVM_TDX_TERMINATE_VM of the log: on the VM fd, after every other TDX call. */
static const struct spec_kvm_event *terminate_event(const struct spec_kvm *k)
{
	const struct spec_kvm_event *t = spec_kvm_find(k, "KVM_TDX_TERMINATE_VM", 0);
	assert_non_null(t);
	assert_null(spec_kvm_find(k, "KVM_TDX_TERMINATE_VM", 1));
	assert_int_equal(t->on, SPEC_FD_VM);
	assert_int_equal(spec_kvm_cmd_field(t, "flags"), 0);
	assert_int_equal(spec_kvm_cmd_field(t, "data"), 0);
	assert_int_equal(spec_kvm_pos(k, t), spec_kvm_nevents(k) - 1);
	return t;
}

/* A seam over the fake that sets the cancel flag once the first vCPU exists (0xae41). */
struct cancel_seam {
	struct spec_seam_wrap wrap; /* first: the seam's context */
	volatile sig_atomic_t *cancel;
};

static int cs_ioctl(struct spec_seam_wrap *w, int fd, unsigned long req, unsigned long arg)
{
	const struct cancel_seam *e = (const struct cancel_seam *)(void *)w;
	int rc = spec_seam_wrap_pass(w, fd, req, arg);
	if (req == 0xae41 && rc >= 0)
		*e->cancel = 1;
	return rc;
}

static void every_td_teardown_terminates_the_vm(void **state)
{
	(void)state;
	struct cvm_policy *p = tdx_policy();
	struct cvm_error err;
	struct cvm_launch *l;

	/* A launched TD: terminated when freed, after FINALIZE_VM, nothing refused. */
	struct spec_kvm *k = spec_kvm_new();
	assert_int_equal(launch_td(k, p, NULL, &l, &err), 0);
	assert_null(spec_kvm_find(k, "KVM_TDX_TERMINATE_VM", 0));
	cvm_launch_free(l);
	const struct spec_kvm_event *t = terminate_event(k);
	assert_int_equal(t->rc, 0);
	assert_true(spec_kvm_pos(k, spec_kvm_find(k, "KVM_TDX_FINALIZE_VM", 0)) < spec_kvm_pos(k, t));
	assert_string_equal(spec_kvm_refusals(k), "");
	assert_int_equal(spec_kvm_live_maps(k), 0);
	spec_kvm_free(k);

	/* A kernel before 6.17 answers EINVAL (unknown sub-command): teardown goes on, no leak. */
	k = spec_kvm_new();
	spec_kvm_script(k, "KVM_TDX_TERMINATE_VM", 0, 0, EINVAL, 0);
	assert_int_equal(launch_td(k, p, NULL, &l, &err), 0);
	cvm_launch_free(l);
	assert_int_equal(terminate_event(k)->rc, -EINVAL);
	assert_int_equal(spec_kvm_live_maps(k), 0);
	spec_kvm_free(k);

	/* Nor does any other answer stop the teardown (EIO: the VM was bugged). */
	k = spec_kvm_new();
	spec_kvm_script(k, "KVM_TDX_TERMINATE_VM", 0, 0, EIO, 0);
	assert_int_equal(launch_td(k, p, NULL, &l, &err), 0);
	cvm_launch_free(l);
	assert_int_equal(terminate_event(k)->rc, -EIO);
	assert_int_equal(spec_kvm_live_maps(k), 0);
	spec_kvm_free(k);

	/* A launch that fails half-way is torn down the same way. */
	k = spec_kvm_new();
	spec_kvm_script(k, "KVM_TDX_INIT_MEM_REGION", 0, 0, EIO, 0);
	assert_int_equal(launch_td(k, p, NULL, &l, &err), -EIO);
	assert_null(l);
	assert_int_equal(terminate_event(k)->rc, 0);
	spec_kvm_free(k);

	/* A launch cancelled once its vCPUs exist (a signal during the first vCPU ioctl) too:
	   teardown's ioctls pass the cancel flag. */
	k = spec_kvm_new();
	volatile sig_atomic_t cancel = 0;
	struct cancel_seam cs = {.cancel = &cancel};
	spec_seam_wrap_init(&cs.wrap, spec_kvm_seam(k), cs_ioctl);
	struct cvm_launch_options opts = {.seam = &cs.wrap.seam, .cancel = &cancel};
	cvm_error_clear(&err);
	l = NULL;
	assert_int_equal(cvm_launch(p, &opts, &l, &err), -ECANCELED);
	assert_non_null(spec_kvm_find(k, "KVM_CREATE_VCPU", 0));
	assert_null(spec_kvm_find(k, "KVM_TDX_FINALIZE_VM", 0));
	assert_int_equal(terminate_event(k)->rc, 0);
	spec_kvm_free(k);
	cvm_policy_free(p);
}

static void other_vm_types_are_never_terminated(void **state)
{
	(void)state;
	if (access("examples/guest.bin", R_OK)) {
		print_message("# SKIP examples/guest.bin not found\n");
		skip();
	}
	char *fw = realpath("examples/guest.bin", NULL);
	char text[512];
	snprintf(text, sizeof(text),
		 "{\"version\": 1, \"name\": \"d\", \"tee\": \"none\", \"vmm\": \"cvmkit\","
		 " \"cpus\": {\"count\": 1}, \"memory\": {\"size\": \"64M\"},"
		 " \"firmware\": {\"path\": \"%s\"}}", fw);
	free(fw);
	struct cvm_policy *p = cvm_test_policy_from_text(text);
	struct spec_kvm *k = spec_kvm_new();
	struct cvm_launch *l;
	struct cvm_error err;
	assert_int_equal(launch_td(k, p, NULL, &l, &err), 0);
	cvm_launch_free(l);
	assert_null(spec_kvm_find(k, "KVM_TDX_TERMINATE_VM", 0));
	assert_null(spec_kvm_find(k, "KVM_MEMORY_ENCRYPT_OP", 0));
	spec_kvm_free(k);
	cvm_policy_free(p);
}

/* ---- KVM_EXIT_TDX in the run loop ---------------------------------------------------------- */

/* kvm_run at the kernel's offsets: exit_reason u32 at 8; the exit union at 32, whose tdx
   member is {u64 flags, nr, ret, then the leaf's operands}. */
#define RUN_EXIT_REASON 8
#define RUN_TDX_NR 40
#define RUN_TDX_RET 48
#define RUN_TDX_A0 56
#define EXIT_HLT 5
#define EXIT_TDX 40

struct tdx_exit_case {
	uint64_t nr, a0, a1;
	uint64_t want_ret;
	uint64_t want_a1; /* GetTdVmCallInfo: R11 */
};

/* A seam over the fake that plays KVM_RUN (0xae80): each call checks what the loop answered
   to the previous exit and presents the next one; HLT after the last. */
struct exit_seam {
	struct spec_seam_wrap wrap; /* first: the seam's context */
	uint8_t *run;
	const struct tdx_exit_case *cases;
	size_t n, at;
	char bad[200];
};

static int es_ioctl(struct spec_seam_wrap *w, int fd, unsigned long req, unsigned long arg)
{
	struct exit_seam *e = (struct exit_seam *)(void *)w;
	if (req != 0xae80)
		return spec_seam_wrap_pass(w, fd, req, arg);
	uint8_t *r = e->run;
	if (e->at > 0 && !e->bad[0]) {
		const struct tdx_exit_case *prev = &e->cases[e->at - 1];
		uint64_t ret = cvm_le64(r + RUN_TDX_RET), a1 = cvm_le64(r + RUN_TDX_A0 + 8);
		if (ret != prev->want_ret || (prev->want_a1 && a1 != prev->want_a1))
			snprintf(e->bad, sizeof(e->bad),
				 "exit %zu (nr 0x%llx): ret 0x%llx r11 0x%llx, want ret 0x%llx r11 0x%llx",
				 e->at - 1, (unsigned long long)prev->nr, (unsigned long long)ret,
				 (unsigned long long)a1, (unsigned long long)prev->want_ret,
				 (unsigned long long)prev->want_a1);
	}
	if (e->at == e->n) {
		cvm_put_le32(r + RUN_EXIT_REASON, EXIT_HLT);
		return 0;
	}
	const struct tdx_exit_case *x = &e->cases[e->at++];
	memset(r + 32, 0, 64);
	cvm_put_le32(r + RUN_EXIT_REASON, EXIT_TDX);
	cvm_put_le64(r + RUN_TDX_NR, x->nr);
	cvm_put_le64(r + RUN_TDX_RET, 0x8000000000000003ull); /* KVM presets SUBFUNC_UNSUPPORTED */
	cvm_put_le64(r + RUN_TDX_A0, x->a0);
	cvm_put_le64(r + RUN_TDX_A0 + 8, x->a1);
	return 0;
}

static void tdx_exits_are_answered_or_refused_by_leaf(void **state)
{
	(void)state;
	if (access("examples/guest.bin", R_OK)) {
		print_message("# SKIP examples/guest.bin not found\n");
		skip();
	}
	static const struct tdx_exit_case cases[] = {
		/* GetQuote of a 4 KiB-aligned page-multiple buffer: no quote service, refused. */
		{0x10002, 0x7ff000, 0x2000, 0x8000000000000003ull, 0},
		/* GetQuote of a misaligned or empty buffer: INVALID_OPERAND. */
		{0x10002, 0x7ff010, 0x1000, 0x8000000000000000ull, 0},
		{0x10002, 0x7ff000, 0, 0x8000000000000000ull, 0},
		{0x10002, 0x7ff000, 0x1800, 0x8000000000000000ull, 0},
		/* SetupEventNotifyInterrupt: vectors 32..255 accepted, others refused. */
		{0x10004, 5, 0, 0x8000000000000000ull, 0},
		{0x10004, 256, 0, 0x8000000000000000ull, 0},
		{0x10004, 0xf3, 0, 0, 0},
		/* GetTdVmCallInfo leaf 1: R11 names SetupEventNotifyInterrupt (bit 1). */
		{0x10000, 1, 0, 0, 2},
		{0x10000, 7, 0, 0x8000000000000000ull, 0},
		/* MapGPA and unknown leaves: SUBFUNC_UNSUPPORTED. */
		{0x10001, 0, 0, 0x8000000000000003ull, 0},
		{0x12345, 0, 0, 0x8000000000000003ull, 0},
	};
	char *fw = realpath("examples/guest.bin", NULL);
	char text[512];
	snprintf(text, sizeof(text),
		 "{\"version\": 1, \"name\": \"d\", \"tee\": \"none\", \"vmm\": \"cvmkit\","
		 " \"cpus\": {\"count\": 1}, \"memory\": {\"size\": \"64M\"},"
		 " \"firmware\": {\"path\": \"%s\"}, \"prefault\": {\"mode\": \"off\"}}", fw);
	free(fw);
	struct cvm_policy *p = cvm_test_policy_from_text(text);
	struct spec_kvm *k = spec_kvm_new();
	struct exit_seam es = {.cases = cases, .n = sizeof(cases) / sizeof(cases[0])};
	spec_seam_wrap_init(&es.wrap, spec_kvm_seam(k), es_ioctl);
	struct cvm_launch_options opts = {.seam = &es.wrap.seam};
	struct cvm_launch *l = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_launch(p, &opts, &l, &err), 0);
	es.run = (uint8_t *)cvm_launch_vm(l)->runs[0];
	struct cvm_kvm_run_result res;
	if (cvm_launch_run(l, NULL, NULL, &res, &err))
		fail_msg("run: %s", cvm_error_message(&err));
	if (es.bad[0])
		fail_msg("%s", es.bad);
	assert_int_equal(res.stop, CVM_KVM_STOP_HLT);
	assert_int_equal(res.tdx_exits, es.n);
	assert_int_equal(res.tdx_quotes_refused, 1);
	assert_int_equal(res.tdx_notify_vector, 0xf3);
	assert_int_equal(res.exits, es.n + 1);
	cvm_launch_free(l);
	spec_kvm_free(k);
	cvm_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_td_teardown_terminates_the_vm),
		cmocka_unit_test(other_vm_types_are_never_terminated),
		cmocka_unit_test(tdx_exits_are_answered_or_refused_by_leaf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
