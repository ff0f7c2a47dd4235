/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmkit launch POLICY: load, measure and pre-fault the policy's VM on this host's KVM, emit the
 * measurement document of exactly what was issued; --run runs a default VM until it halts.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <cvmkit/emit.h>
#include <cvmkit/handoff.h>
#include <cvmkit/launch.h>
#include <cvmkit/policy.h>
#include <cvmkit/pool.h>
#include <cvmkit/util.h>

#include "launcher/cli/cli.h"

/* Set from signal handlers (the one place a global is unavoidable). */
static volatile sig_atomic_t launch_cancel;
static volatile sig_atomic_t launch_timed_out;

static void on_cancel_signal(int sig)
{
	if (sig == SIGALRM)
		launch_timed_out = 1;
	launch_cancel = 1;
}

struct saved_signals {
	struct sigaction intr, term, alrm;
};

static void install_signals(struct saved_signals *saved)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_cancel_signal; /* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &saved->intr);
	sigaction(SIGTERM, &sa, &saved->term);
	sigaction(SIGALRM, &sa, &saved->alrm);
}

static void restore_signals(const struct saved_signals *saved)
{
	struct itimerval off;
	memset(&off, 0, sizeof(off));
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGINT, &saved->intr, NULL);
	sigaction(SIGTERM, &saved->term, NULL);
	sigaction(SIGALRM, &saved->alrm, NULL);
}

/* After the timeout, SIGALRM repeats every 100 ms so a signal that raced KVM_RUN's entry
 * cannot be lost. */
static void arm_timeout(double seconds)
{
	struct itimerval it;
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = (time_t)seconds;
	it.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
	if (!it.it_value.tv_sec && !it.it_value.tv_usec)
		it.it_value.tv_usec = 1;
	it.it_interval.tv_usec = 100000;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void usage(void)
{
	printf("usage: cvmkit launch POLICY [--out FILE] [--format FMT] [--run] [--timeout S]\n"
	       "                     [--handoff SOCKET] [--dry-run] [--threads N]\n"
	       "\n"
	       "Create the policy's VM on this host's KVM (default, SEV-SNP or TDX), load and measure\n"
	       "its initial memory through guest_memfd, pre-fault per the policy, and write the\n"
	       "measurement document of exactly the operations issued (as `measure`, plus what the\n"
	       "launch did: regions, pre-faulted bytes or why not, timings per phase).\n"
	       "\n"
	       "Without --handoff the launch is a check: the VM is torn down when the command exits,\n"
	       "so the document describes a VM that no longer exists.  With --handoff the VM lives on:\n"
	       "its descriptors and the document go to the VMM listening at SOCKET, and cvmkit stays\n"
	       "as the VM's anchor (KVM runs a VM only from its creator's address space), issuing\n"
	       "KVM_RUN for the VMM until it closes the connection (docs/handoff.md).\n"
	       "\n"
	       "  -o, --out FILE     write the document to FILE (atomically; default: stdout)\n"
	       "  -f, --format FMT   json (default), hex, cbor, corim, rvps\n"
	       "      --run          run vCPU 0 of a default VM until it halts (port writes on stderr)\n"
	       "      --timeout S    stop --run after S seconds (default 10)\n"
	       "      --handoff SOCKET  hand the launched VM to the VMM listening at the UNIX socket\n"
	       "                     SOCKET and serve it until it disconnects\n"
	       "  -n, --dry-run      print the plan (every op: GPA, size, page type/flags); no KVM\n"
	       "      --threads N    hash on N threads (default: every CPU this process may run\n"
	       "                     on): SNP's boot files and firmware pages, the firmware's\n"
	       "                     SHA-256 beside the VM's creation (its pin then checked\n"
	       "                     before any vCPU runs); 1: no threads, all in order; the\n"
	       "                     digest and the document do not change\n"
	       "  -h, --help         this help\n"
	       "\n"
	       "SIGINT/SIGTERM cancel cleanly, also during VM setup: the VM is torn down and no\n"
	       "document is written.\n"
	       "\n"
	       "Exit status: 0 success; 1 the launch failed; 2 usage error; 4 --run reached\n"
	       "--timeout before the guest halted (the document, run_stop \"timeout\", is\n"
	       "written); 5 cancelled by SIGINT or SIGTERM (nothing written; after a hand-off the\n"
	       "document is already written, and the VM is torn down).\n");
}

static int dry_run(const char *verb, const struct cvm_policy *p, struct cvm_pool *pool)
{
	struct cvm_launch_inputs *in = NULL;
	struct cvm_plan plan;
	struct cvm_error err;
	cvm_error_clear(&err);
	if (cvm_launch_plan_build(p, pool, &in, &plan, &err))
		return cli_fail(verb, &err);
	cli_print_plan(stdout, p, &plan);
	cvm_plan_release(&plan);
	cvm_launch_inputs_free(in);
	return CLI_OK;
}

struct run_report {
	const struct cli_ctx *ctx;
	uint32_t last_value;
	bool any;
};

static bool report_io(void *vctx, const struct cvm_kvm_io *io)
{
	struct run_report *r = vctx;
	uint32_t v = 0;
	for (unsigned i = 0; i < io->size && i < 4; i++)
		v |= (uint32_t)io->data[i] << (8 * i);
	r->last_value = v;
	r->any = true;
	cli_info(r->ctx, "guest: out port 0x%x <- 0x%0*x (%u byte%s)", io->port, io->size * 2, v,
		 io->size, io->size == 1 ? "" : "s");
	return true;
}

struct launch_args {
	const char *policy;
	const char *out;
	enum cvm_emit_format format;
	bool run, dry_run;
	double timeout;
	const char *handoff; /* --handoff SOCKET, or NULL */
	unsigned threads;    /* --threads N (0: every CPU) */
	const char *launch_only; /* first option given that only a real launch takes, or NULL */
};

/* *timed_out: the guest was stopped at the timeout (it did not halt). */
static int run_guest(const struct cli_ctx *ctx, struct cvm_launch *l, double timeout,
		     bool *timed_out, struct cvm_error *err)
{
	struct run_report rep = {ctx, 0, false};
	struct cvm_kvm_run_result res;
	arm_timeout(timeout);
	int rc = cvm_launch_run(l, report_io, &rep, &res, err);
	struct itimerval off;
	memset(&off, 0, sizeof(off));
	setitimer(ITIMER_REAL, &off, NULL);
	if (rc)
		return rc;
	const char *stop = res.stop == CVM_KVM_STOP_HLT	       ? "hlt"
			   : res.stop == CVM_KVM_STOP_SHUTDOWN ? "shutdown"
							       : "timeout";
	if (res.stop == CVM_KVM_STOP_CANCELLED && !launch_timed_out)
		return cvm_error_set(err, -ECANCELED, "run: cancelled by a signal");
	*timed_out = res.stop == CVM_KVM_STOP_CANCELLED;
	cli_info(ctx, "guest: stopped (%s) after %llu exits", stop, (unsigned long long)res.exits);
	struct cvm_measurement *m = cvm_launch_measurement(l);
	if (cvm_measurement_add_launch(m, "run_stop", "%s", stop) ||
	    cvm_measurement_add_launch_u64(m, "run_exits", res.exits) ||
	    (rep.any && cvm_measurement_add_launch(m, "run_last_io", "0x%x", rep.last_value)))
		return cvm_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* --verbose: the plan that was executed and where the time went. */
static void print_details(const struct cvm_launch *l, const struct cvm_policy *p)
{
	cli_print_plan(stderr, p, cvm_launch_plan(l));
	const struct cvm_launch_timings *t = cvm_launch_timings(l);
	fprintf(stderr,
		"timings (ms): plan %.3f, VM+memory+vCPUs %.3f, load %.3f, finish %.3f, "
		"pre-fault %.3f, document %.3f, total %.3f\n",
		t->plan_ns / 1e6, t->begin_ns / 1e6, t->load_ns / 1e6, t->finish_ns / 1e6,
		t->prefault_ns / 1e6, t->document_ns / 1e6, t->total_ns / 1e6);
}

/*
 * --handoff: the VMM at the socket gets the VM and the JSON document; the document is written
 * (--out) once the VMM has acknowledged it, then this process anchors the VM, serving KVM_RUN,
 * until the VMM disconnects.  Owns l and restores the signals.
 */
static int handoff(const struct cli_ctx *ctx, const struct launch_args *a, struct cvm_launch *l,
		   const struct saved_signals *saved)
{
	struct cvm_error err;
	cvm_error_clear(&err);
	struct cvm_measurement *m = cvm_launch_measurement(l);
	const struct cvm_kvm_vm *vm = cvm_launch_vm(l);
	uint8_t *json = NULL, *doc = NULL;
	size_t json_len = 0, doc_len = 0;
	int sock = -1;
	struct cvm_handoff_served served = {0};
	int rc = cvm_measurement_add_launch(m, "handoff", "%s", a->handoff)
			 ? cvm_error_set(&err, -ENOMEM, "out of memory")
			 : cvm_measurement_encode(m, CVM_FMT_JSON, &json, &json_len, &err);
	if (!rc)
		rc = cvm_handoff_offer(vm, json, json_len, a->handoff, &launch_cancel, &sock, &err);
	if (!rc)
		rc = cvm_measurement_encode(m, a->format, &doc, &doc_len, &err);
	if (!rc)
		rc = cvm_file_write_atomic(a->out, doc, doc_len, &err);
	if (!rc) {
		cli_info(ctx, "handed off to %s: serving KVM_RUN for the VMM until it disconnects",
			 a->handoff);
		rc = cvm_handoff_serve(vm, sock, &launch_cancel, &served, &err);
	}
	if (sock >= 0)
		close(sock);
	free(json);
	free(doc);
	cvm_launch_free(l);
	restore_signals(saved);
	if (rc) {
		cli_fail("launch", &err);
		return launch_cancel ? CLI_CANCELLED : CLI_FAIL;
	}
	cli_info(ctx, "the VMM disconnected after %llu KVM_RUN requests; VM torn down",
		 (unsigned long long)served.runs);
	return CLI_OK;
}

static int do_launch(const struct cli_ctx *ctx, const struct launch_args *a,
		     const struct cvm_policy *p, struct cvm_pool *pool)
{
	struct cvm_error err;
	cvm_error_clear(&err);
	struct saved_signals saved;
	launch_cancel = 0;
	launch_timed_out = 0;
	install_signals(&saved);
	/* Pre-faulting gigabytes of guest memory takes a while: show it on a terminal. */
	struct cli_progress progress;
	cli_progress_init(&progress, ctx);
	struct cvm_progress cb = cli_progress_callback(&progress);
	struct cvm_launch_options opts = {.cancel = &launch_cancel, .progress = &cb, .pool = pool};
	struct cvm_launch *l = NULL;
	uint8_t *doc = NULL;
	size_t doc_len = 0;
	int rc = cvm_launch(p, &opts, &l, &err);
	cli_progress_end(&progress);
	if (!rc) {
		const struct cvm_kvm_prefault_result *pf = cvm_launch_prefault_result(l);
		cli_info(ctx, "launched %s VM: %llu bytes loaded, pre-fault %s (%llu bytes)",
			 cvm_kvm_vm_type_name(cvm_launch_vm(l)->type),
			 (unsigned long long)cvm_launch_loaded_bytes(l),
			 p->prefault.mode == CVM_PREFAULT_OFF ? "off" : pf->skipped ? pf->note : "done",
			 (unsigned long long)pf->done);
		if (ctx->verbose)
			print_details(l, p);
	}
	bool timed_out = false;
	if (!rc && a->run)
		rc = run_guest(ctx, l, a->timeout, &timed_out, &err);
	if (!rc && a->handoff)
		return handoff(ctx, a, l, &saved);
	if (!rc)
		rc = cvm_measurement_encode(cvm_launch_measurement(l), a->format, &doc, &doc_len, &err);
	/* Tear the VM down before writing: a failed write still leaves nothing behind. */
	cvm_launch_free(l);
	restore_signals(&saved);
	if (!rc)
		rc = cvm_file_write_atomic(a->out, doc, doc_len, &err);
	free(doc);
	if (rc) {
		cli_fail("launch", &err);
		return launch_cancel && !launch_timed_out ? CLI_CANCELLED : CLI_FAIL;
	}
	if (timed_out)
		cli_info(ctx, "cvmkit launch: the guest did not halt within --timeout %g s (exit "
			 "status %d)", a->timeout, CLI_TIMEOUT);
	return timed_out ? CLI_TIMEOUT : CLI_OK;
}

/* What the policy's TEE rules out, refused before KVM is touched; 0 or CLI_USAGE. */
static int check_policy_args(const struct launch_args *a, const struct cvm_policy *p)
{
	if (a->run && a->handoff)
		return cli_usage_error("launch", "--run and --handoff exclude each other: with "
						 "--handoff the VMM runs the VM");
	if (a->run && p->tee != CVM_TEE_NONE)
		return cli_usage_error("launch", "--run is only supported for tee \"none\" (default VM)");
	/* CoRIM and RVPS carry reference values of a confidential launch; a plain VM has none. */
	if (p->tee == CVM_TEE_NONE && (a->format == CVM_FMT_CORIM || a->format == CVM_FMT_RVPS))
		return cli_usage_error("launch", "--format %s: a non-confidential VM (tee \"none\") "
						 "has no reference values; use json, hex or cbor",
				       cvm_emit_format_name(a->format));
	return 0;
}

int cmd_launch(const struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, 'f'},
		{"run", no_argument, NULL, 'r'},
		{"timeout", required_argument, NULL, 't'},
		{"dry-run", no_argument, NULL, 'n'},
		{"handoff", required_argument, NULL, 'H'},
		{"threads", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct launch_args a = {NULL, "-", CVM_FMT_JSON, false, false, 10.0, NULL, 0, NULL};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:f:nh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			a.out = optarg;
			a.launch_only = a.launch_only ? a.launch_only : "--out";
			break;
		case 'f':
			if (cvm_emit_format_parse(optarg, &a.format))
				return cli_usage_error("launch", "unknown format '%s'", optarg);
			a.launch_only = a.launch_only ? a.launch_only : "--format";
			break;
		case 'r':
			a.run = true;
			a.launch_only = a.launch_only ? a.launch_only : "--run";
			break;
		case 't': {
			a.launch_only = a.launch_only ? a.launch_only : "--timeout";
			char *end = NULL;
			errno = 0;
			a.timeout = strtod(optarg, &end);
			if (errno || !end || *end || !(a.timeout > 0) || a.timeout > 86400)
				return cli_usage_error("launch", "--timeout: expected seconds in (0, 86400], got '%s'",
						       optarg);
			break;
		}
		case 'H':
			a.handoff = optarg;
			a.launch_only = a.launch_only ? a.launch_only : "--handoff";
			break;
		case 'T':
			if (cli_threads_parse("launch", optarg, &a.threads))
				return CLI_USAGE;
			break;
		case 'n': a.dry_run = true; break;
		case 'h': usage(); return CLI_OK;
		default:
			return cli_option_error("launch", NULL, c, argv);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("launch", optind < argc ? "expected one POLICY, got more"
							       : "missing POLICY");
	a.policy = argv[optind];
	if (a.dry_run && a.launch_only)
		return cli_usage_error("launch", "--dry-run prints the plan; it does not take %s",
				       a.launch_only);

	struct cvm_policy *p = cli_load_policy("launch", a.policy);
	if (!p)
		return CLI_FAIL;
	int rc = check_policy_args(&a, p);
	struct cvm_pool *pool = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	if (!rc && cli_pool_new(a.threads, &pool, &err))
		rc = cli_fail("launch", &err);
	if (!rc)
		rc = a.dry_run ? dry_run("launch", p, pool) : do_launch(ctx, &a, p, pool);
	cvm_pool_free(pool);
	cvm_policy_free(p);
	return rc;
}
