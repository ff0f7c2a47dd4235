/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: certificates for SNP guests (launcher/snp_certs.c) through the spec fake KVM
 * (helper_spec_kvm.h): the launch sequence (KVM_X86_SEV_SNP_REQ_CERTS read before anything is
 * created, KVM_SEV_SNP_ENABLE_REQ_CERTS after INIT2 and before the vCPUs), the sources (the
 * endorsement cache for this host's chip and TCB from /dev/sev, else the policy's files), and
 * the run loop's answers to KVM_EXIT_SNP_REQ_CERTS: the exit and the table the guest gets are
 * read at the kernel's offsets (api.rst, the GHCB spec), never through kvm_uapi.h or
 * cvmkit's table reader, and the OFD locks are checked from another open file description
 * while KVM would be issuing the attestation request.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cvmkit/kvm.h>
#include <cvmkit/launch.h>
#include <cvmkit/util.h>

#include "tests/unit/helper_spec_kvm.h"
#include "tests/unit/helper_vectors.h"

/* kvm_run (api.rst): immediate_exit u8 at 1, exit_reason u32 at 8, the exit union at 32 whose
   snp_req_certs member is {u64 gpa, npages, ret}. */
#define RUN_IMMEDIATE_EXIT 1
#define RUN_EXIT_REASON 8
#define RUN_CERTS_GPA 32
#define RUN_CERTS_NPAGES 40
#define RUN_CERTS_RET 48
#define EXIT_HLT 5
#define EXIT_SNP_REQ_CERTS 43 /* kvm-uapi.md 6 (Linux 7.0) */
#define PAGE 4096u
#define ENTRY 24u             /* GHCB certificate table entry: GUID, offset u32, length u32 */

/* GHCB spec GUIDs (snp-report.md 1), in the table's byte order. */
static const uint8_t guid_vcek[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
				      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t guid_ask[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
				     0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t guid_ark[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
				     0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

/* Real AMD certificates (the shared vectors): a DER VCEK and the PEM ASK and ARK, which the
   guest must get as DER.  96 + 1360 + 1677 + 1639 bytes: over one page. */
#define VCEK_VECTOR "attest/virtee-sev/vcek_milan.der"
#define ASK_VECTOR "attest/virtee-sev/builtin/milan_ask.pem"
#define ARK_VECTOR "attest/virtee-sev/builtin/milan_ark.pem"

struct cert_bytes {
	uint8_t pem[4096];
	size_t pem_len;
	uint8_t der[4096];
	size_t der_len;
};

struct files {
	char dir[64];
	char vcek[512], ask[512], ark[512];
	uint8_t vcek_bytes[4096];
	size_t vcek_len;
	struct cert_bytes ask_cert, ark_cert;
};

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* A PEM vector and its certificate as DER, decoded by OpenSSL (not by cvmkit). */
static void load_pem_vector(const char *rel, struct cert_bytes *c)
{
	c->pem_len = cvm_test_vector_load(rel, c->pem, sizeof(c->pem));
	BIO *bio = BIO_new_mem_buf(c->pem, (int)c->pem_len);
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(x);
	unsigned char *der = c->der;
	int n = i2d_X509(x, &der);
	assert_true(n > 0 && (size_t)n <= sizeof(c->der));
	c->der_len = (size_t)n;
	X509_free(x);
	BIO_free(bio);
}

static void make_files(struct files *f)
{
	f->vcek_len = cvm_test_vector_load(VCEK_VECTOR, f->vcek_bytes, sizeof(f->vcek_bytes));
	load_pem_vector(ASK_VECTOR, &f->ask_cert);
	load_pem_vector(ARK_VECTOR, &f->ark_cert);
	snprintf(f->dir, sizeof(f->dir), "/tmp/cvmkit-certs-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->vcek, sizeof(f->vcek), "%s/vcek.der", f->dir);
	snprintf(f->ask, sizeof(f->ask), "%s/ask.pem", f->dir);
	snprintf(f->ark, sizeof(f->ark), "%s/ark.pem", f->dir);
	write_file(f->vcek, f->vcek_bytes, f->vcek_len);
	write_file(f->ask, f->ask_cert.pem, f->ask_cert.pem_len);
	write_file(f->ark, f->ark_cert.pem, f->ark_cert.pem_len);
}

static void remove_tree(const char *dir)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* An SNP policy on the AmdSev fixture with snp.certificates = certs (JSON); NULL: skip. */
static struct cvm_policy *snp_policy(const char *certs)
{
	char fw[512], text[4096];
	snprintf(fw, sizeof(fw), "%s/vectors/snp/ovmf_AmdSev_suffix.bin", cvm_test_shared_dir());
	if (access(fw, R_OK)) {
		print_message("# SKIP %s not found\n", fw);
		return NULL;
	}
	snprintf(text, sizeof(text),
		 "{\"version\": 1, \"tee\": \"snp\", \"vmm\": \"qemu\","
		 " \"cpus\": {\"count\": 1, \"model\": \"EPYC-Milan\"}, \"memory\": {\"size\": \"64M\"},"
		 " \"firmware\": {\"path\": \"%s\"}, \"snp\": {\"certificates\": %s}}", fw, certs);
	return cvm_test_policy_from_text(text);
}

static struct cvm_policy *files_policy(const struct files *f)
{
	char certs[1800];
	snprintf(certs, sizeof(certs),
		 "{\"cache\": false, \"vcek\": \"%s\", \"ask\": \"%s\", \"ark\": \"%s\"}", f->vcek,
		 f->ask, f->ark);
	return snp_policy(certs);
}

/* The files and a policy naming them; NULL (nothing left behind) without the fixture. */
static struct cvm_policy *files_fixture(struct files *f)
{
	make_files(f);
	struct cvm_policy *p = files_policy(f);
	if (!p)
		remove_tree(f->dir);
	return p;
}

static int launch_on(const struct cvm_kvm_seam *s, const struct cvm_policy *p,
		     struct cvm_launch **l, struct cvm_error *err)
{
	struct cvm_launch_options opts = {.seam = s};
	cvm_error_clear(err);
	*l = NULL;
	return cvm_launch(p, &opts, l, err);
}

/* Another open file description's write lock on path: 0 when it was free (and is released). */
static int try_write_lock(const char *path)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int rc = fcntl(fd, F_OFD_SETLK, &fl) ? -errno : 0;
	close(fd);
	return rc;
}

/* ---- the launch sequence -------------------------------------------------------------------- */

static void certificates_are_enabled_after_init2_before_the_vcpus(void **state)
{
	(void)state;
	struct files f;
	struct cvm_policy *p = files_fixture(&f);
	if (!p)
		skip();
	struct spec_kvm *k = spec_kvm_new();
	struct cvm_launch *l;
	struct cvm_error err;
	if (launch_on(spec_kvm_seam(k), p, &l, &err))
		fail_msg("launch: %s", cvm_error_message(&err));
	assert_string_equal(spec_kvm_refusals(k), "");
	assert_true(spec_kvm_snp_req_certs(k));
	/* the attribute, on /dev/kvm, before the VM exists: group 1, attribute 2 */
	const struct spec_kvm_event *attr = NULL;
	for (size_t i = 0; (attr = spec_kvm_find(k, "KVM_GET_DEVICE_ATTR", i)); i++)
		if (spec_kvm_field(attr, "group") == 1 && spec_kvm_field(attr, "attr") == 2)
			break;
	assert_non_null(attr);
	assert_int_equal(attr->on, SPEC_FD_SYS);
	assert_true(spec_kvm_pos(k, attr) < spec_kvm_pos(k, spec_kvm_find(k, "KVM_CREATE_VM", 0)));
	const struct spec_kvm_event *en = spec_kvm_find(k, "KVM_SEV_SNP_ENABLE_REQ_CERTS", 0);
	assert_non_null(en);
	assert_int_equal(en->on, SPEC_FD_VM);
	assert_int_equal(spec_kvm_cmd_field(en, "data"), 0);
	assert_true(spec_kvm_cmd_field(en, "sev_fd") > 0);
	assert_true(spec_kvm_pos(k, spec_kvm_find(k, "KVM_SEV_INIT2", 0)) < spec_kvm_pos(k, en));
	assert_true(spec_kvm_pos(k, en) < spec_kvm_pos(k, spec_kvm_find(k, "KVM_CREATE_VCPU", 0)));
	/* without the cache, /dev/sev is not asked who the host is */
	assert_null(spec_kvm_find(k, "SEV_ISSUE_CMD", 0));
	assert_string_equal(cvm_test_launch_entry(l, "snp_certificates"), "policy files");
	cvm_launch_free(l);
	spec_kvm_free(k);
	cvm_policy_free(p);
	remove_tree(f.dir);
}

static void a_host_without_certificate_requests_is_refused_before_anything_exists(void **state)
{
	(void)state;
	struct files f;
	struct cvm_policy *p = files_fixture(&f);
	if (!p)
		skip();
	struct spec_kvm *k = spec_kvm_new();
	spec_kvm_set_snp_req_certs(k, 0, ENXIO);
	struct cvm_launch *l;
	struct cvm_error err;
	assert_int_equal(launch_on(spec_kvm_seam(k), p, &l, &err), -ENXIO);
	assert_non_null(strstr(cvm_error_message(&err), "KVM_X86_SEV_SNP_REQ_CERTS): ENXIO (this "
						       "host's KVM cannot serve certificates"));
	assert_null(spec_kvm_find(k, "KVM_CREATE_VM", 0));
	spec_kvm_free(k);

	/* A file that cannot be read fails the launch, not the guest's first request. */
	unlink(f.ark);
	k = spec_kvm_new();
	assert_int_equal(launch_on(spec_kvm_seam(k), p, &l, &err), -ENOENT);
	assert_non_null(strstr(cvm_error_message(&err), "ark.pem"));
	assert_null(spec_kvm_find(k, "KVM_SEV_SNP_ENABLE_REQ_CERTS", 0));
	assert_null(spec_kvm_find(k, "KVM_CREATE_VCPU", 0));
	spec_kvm_free(k);

	/* Bytes that are no certificate (a guest would parse the entry as DER): refused too. */
	write_file(f.ark, f.vcek_bytes, f.vcek_len / 2);
	k = spec_kvm_new();
	assert_int_equal(launch_on(spec_kvm_seam(k), p, &l, &err), -EINVAL);
	assert_non_null(strstr(cvm_error_message(&err),
			       "ark.pem: the ARK is not an X.509 certificate in DER or PEM"));
	assert_null(spec_kvm_find(k, "KVM_SEV_SNP_ENABLE_REQ_CERTS", 0));
	spec_kvm_free(k);
	cvm_policy_free(p);
	remove_tree(f.dir);
}

/* ---- the exit ------------------------------------------------------------------------------- */

struct certs_case {
	uint64_t gpa, npages;
	uint64_t want_ret, want_npages;
	const char *hold; /* a file another tool holds an exclusive lock on meanwhile, or NULL */
};

/* A seam over the fake that plays KVM_RUN (0xae80): each call checks the answer to the
   previous exit (and, after a served one, immediate_exit and the locks) and presents the next. */
struct exit_seam {
	struct spec_seam_wrap wrap; /* first: the seam's context is the exit_seam */
	struct spec_kvm *k;
	uint8_t *run;
	const struct files *f;
	const struct certs_case *cases;
	size_t n, at;
	bool completing;   /* the answer was 0: this KVM_RUN completes the request (EINTR) */
	bool after_served; /* the KVM_RUN after that: the locks must be gone */
	int hold_fd;
	unsigned tables_checked;
	char bad[240];
};

static void bad(struct exit_seam *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(struct exit_seam *e, const char *fmt, ...)
{
	if (e->bad[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->bad, sizeof(e->bad), fmt, ap);
	va_end(ap);
}

/* The table in guest memory, entry by entry at the GHCB spec's offsets. */
static void check_table(struct exit_seam *e, uint64_t gpa)
{
	const uint8_t *t = spec_kvm_guest_shared(e->k, SPEC_VM_SNP, gpa, 2 * PAGE);
	if (!t) {
		bad(e, "gpa 0x%llx is not guest memory", (unsigned long long)gpa);
		return;
	}
	const struct {
		const uint8_t *guid;
		const void *data;
		size_t len;
	} want[] = {{guid_vcek, e->f->vcek_bytes, e->f->vcek_len},
		    {guid_ask, e->f->ask_cert.der, e->f->ask_cert.der_len},
		    {guid_ark, e->f->ark_cert.der, e->f->ark_cert.der_len}};
	uint32_t expect_off = 4 * ENTRY;
	for (size_t i = 0; i < 3; i++) {
		const uint8_t *en = t + i * ENTRY;
		uint32_t off = cvm_le32(en + 16), len = cvm_le32(en + 20);
		if (memcmp(en, want[i].guid, 16) || off != expect_off || len != want[i].len ||
		    memcmp(t + off, want[i].data, len)) {
			bad(e, "table entry %zu: offset %u length %u, want %u %zu", i, off, len,
			    expect_off, want[i].len);
			return;
		}
		expect_off += len;
	}
	for (size_t b = 0; b < ENTRY; b++)
		if (t[3 * ENTRY + b]) {
			bad(e, "no all-zero terminating entry");
			return;
		}
	for (size_t b = expect_off; b < 2 * PAGE; b++)
		if (t[b]) {
			bad(e, "byte 0x%zx after the table is not zero", b);
			return;
		}
	e->tables_checked++;
}

static void check_answer(struct exit_seam *e)
{
	uint8_t *r = e->run;
	const struct certs_case *prev = &e->cases[e->at - 1];
	uint64_t ret = cvm_le64(r + RUN_CERTS_RET), np = cvm_le64(r + RUN_CERTS_NPAGES);
	if (ret != prev->want_ret || np != prev->want_npages) {
		bad(e, "exit %zu: ret %llu npages %llu, want ret %llu npages %llu", e->at - 1,
		    (unsigned long long)ret, (unsigned long long)np,
		    (unsigned long long)prev->want_ret, (unsigned long long)prev->want_npages);
		return;
	}
	if (ret == 0) {
		if (r[RUN_IMMEDIATE_EXIT] != 1)
			bad(e, "exit %zu served without immediate_exit", e->at - 1);
		/* KVM issues the attestation request now: the files must stay locked. */
		const char *const paths[] = {e->f->vcek, e->f->ask, e->f->ark};
		for (size_t i = 0; i < 3; i++)
			if (try_write_lock(paths[i]) != -EAGAIN)
				bad(e, "%s is not locked while the report is made", paths[i]);
		check_table(e, prev->gpa);
		e->completing = true;
	} else if (r[RUN_IMMEDIATE_EXIT]) {
		bad(e, "exit %zu (ret %llu) left immediate_exit set", e->at - 1,
		    (unsigned long long)ret);
	}
}

static int es_ioctl(struct spec_seam_wrap *w, int fd, unsigned long req, unsigned long arg)
{
	struct exit_seam *e = (struct exit_seam *)(void *)w;
	if (req != 0xae80)
		return spec_seam_wrap_pass(w, fd, req, arg);
	uint8_t *r = e->run;
	if (e->after_served) {
		/* the KVM_RUN after the one that completed the request: the locks are gone */
		e->after_served = false;
		if (r[RUN_IMMEDIATE_EXIT])
			bad(e, "immediate_exit still set after the request completed");
		if (try_write_lock(e->f->ask))
			bad(e, "the locks outlive the attestation request");
	} else if (e->at > 0) {
		check_answer(e);
		if (e->completing) {
			/* api.rst: with immediate_exit, KVM completes the pending exit (here it
			   would have the firmware make the report) and returns EINTR at once */
			e->completing = false;
			e->after_served = true;
			return -EINTR;
		}
	}
	if (e->hold_fd >= 0) {
		close(e->hold_fd);
		e->hold_fd = -1;
	}
	if (e->at == e->n) {
		cvm_put_le32(r + RUN_EXIT_REASON, EXIT_HLT);
		return 0;
	}
	const struct certs_case *x = &e->cases[e->at++];
	if (x->hold) {
		e->hold_fd = open(x->hold, O_RDWR);
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		if (e->hold_fd < 0 || fcntl(e->hold_fd, F_OFD_SETLK, &fl))
			bad(e, "cannot hold %s", x->hold);
	}
	memset(r + 32, 0, 64);
	cvm_put_le32(r + RUN_EXIT_REASON, EXIT_SNP_REQ_CERTS);
	cvm_put_le64(r + RUN_CERTS_GPA, x->gpa);
	cvm_put_le64(r + RUN_CERTS_NPAGES, x->npages);
	return 0;
}

/* Run vCPU 0 of l's VM through the exit seam; the result's counters. */
static void run_cases(struct exit_seam *es, struct cvm_launch *l, struct cvm_kvm_run_result *res)
{
	/* As a VMM that adopted the VM runs it (cvm_launch_run runs the default VM only). */
	struct cvm_kvm_vm *vm = (struct cvm_kvm_vm *)(uintptr_t)cvm_launch_vm(l);
	es->run = (uint8_t *)vm->runs[0];
	const struct cvm_kvm_seam *launched = vm->seam;
	vm->seam = &es->wrap.seam;
	struct cvm_error err;
	cvm_error_clear(&err);
	if (cvm_kvm_run(vm, 0, NULL, NULL, res, &err))
		fail_msg("run: %s", cvm_error_message(&err));
	vm->seam = launched;
	if (es->bad[0])
		fail_msg("%s", es->bad);
	assert_int_equal(res->stop, CVM_KVM_STOP_HLT);
}

static void cert_requests_are_served_locked_sized_or_refused(void **state)
{
	(void)state;
	struct files f;
	struct cvm_policy *p = files_fixture(&f);
	if (!p)
		skip();
	/* the table: 4 entries (96 bytes) + the three DER certificates: two pages */
	const struct certs_case cases[] = {
		{0x100000, 2, 0, 2, NULL},          /* served */
		{0x100000, 1, 28, 2, NULL},         /* ENOSPC: npages tells the two pages */
		{0x100000, 0, 28, 2, NULL},
		{0x100000, 2, 11, 2, f.ask},        /* EAGAIN: an update holds the ASK */
		{0x7fff000, 2, 5, 2, NULL},         /* EIO: the buffer runs past guest RAM */
		{0x200000, 16, 0, 16, NULL},        /* served again, now the lock is gone */
	};
	struct spec_kvm *k = spec_kvm_new();
	struct exit_seam es = {.k = k, .f = &f, .cases = cases, .n = CVM_ARRAY_SIZE(cases),
			       .hold_fd = -1};
	spec_seam_wrap_init(&es.wrap, spec_kvm_seam(k), es_ioctl);
	struct cvm_launch *l;
	struct cvm_error err;
	if (launch_on(&es.wrap.seam, p, &l, &err))
		fail_msg("launch: %s", cvm_error_message(&err));
	struct cvm_kvm_run_result res;
	run_cases(&es, l, &res);
	assert_int_equal(res.snp_cert_requests, es.n);
	assert_int_equal(res.snp_certs_served, 2);
	assert_int_equal(res.snp_certs_too_small, 2);
	assert_int_equal(res.snp_certs_busy, 1);
	assert_int_equal(res.snp_certs_failed, 1);
	assert_non_null(strstr(res.snp_certs_error, "is not guest memory"));
	assert_int_equal(es.tables_checked, 2);
	assert_int_equal(try_write_lock(f.vcek), 0);
	cvm_launch_free(l);
	spec_kvm_free(k);
	cvm_policy_free(p);
	remove_tree(f.dir);
}

/* ---- the endorsement cache ------------------------------------------------------------------ */

static void the_cache_serves_this_hosts_vcek_and_chain(void **state)
{
	(void)state;
	struct files f;
	make_files(&f);
	/* The cache of launcher/fetch*.c (Trustee's layout) for a Milan chip at bl 3 tee 0 snp 8
	   ucode 115: vcek/{hwid}/bl03_tee00_snp08_ucode115_vcek.der, amd/milan/vcek_cert_chain.pem */
	uint8_t chip[64];
	char hwid[129], path[512];
	for (size_t i = 0; i < sizeof(chip); i++)
		chip[i] = (uint8_t)(0xa0 + i);
	for (size_t i = 0; i < sizeof(chip); i++)
		snprintf(hwid + 2 * i, 3, "%02x", chip[i]);
	uint64_t tcb = 3ull | 8ull << 48 | 115ull << 56;
	char cache[160];
	snprintf(cache, sizeof(cache), "%s/xdg", f.dir);
	setenv("XDG_CACHE_HOME", cache, 1);
	snprintf(path, sizeof(path), "mkdir -p %s/cvmkit/vcek/%s %s/cvmkit/amd/milan", cache, hwid,
		 cache);
	assert_int_equal(system(path), 0);
	snprintf(path, sizeof(path), "%s/cvmkit/vcek/%s/bl03_tee00_snp08_ucode115_vcek.der", cache,
		 hwid);
	write_file(path, f.vcek_bytes, f.vcek_len);
	char vcek_in_cache[512];
	snprintf(vcek_in_cache, sizeof(vcek_in_cache), "%s", path);
	snprintf(path, sizeof(path), "%s/cvmkit/amd/milan/vcek_cert_chain.pem", cache);
	FILE *chain = fopen(path, "wb");
	assert_non_null(chain);
	assert_int_equal(fwrite(f.ask_cert.pem, 1, f.ask_cert.pem_len, chain), f.ask_cert.pem_len);
	assert_int_equal(fwrite(f.ark_cert.pem, 1, f.ark_cert.pem_len, chain), f.ark_cert.pem_len);
	fclose(chain);

	struct cvm_policy *p = snp_policy("{}");
	if (!p) {
		remove_tree(f.dir);
		skip();
	}
	struct spec_kvm *k = spec_kvm_new();
	spec_kvm_set_snp_host(k, chip, tcb, false);
	struct cvm_launch *l;
	struct cvm_error err;
	if (launch_on(spec_kvm_seam(k), p, &l, &err))
		fail_msg("launch: %s", cvm_error_message(&err));
	char want[256];
	snprintf(want, sizeof(want), "endorsement cache %s/cvmkit", cache);
	assert_string_equal(cvm_test_launch_entry(l, "snp_certificates"), want);
	/* SNP_PLATFORM_STATUS (9) then SEV_GET_ID2 (8), on /dev/sev */
	const struct spec_kvm_event *st = spec_kvm_find(k, "SEV_ISSUE_CMD", 0);
	const struct spec_kvm_event *id = spec_kvm_find(k, "SEV_ISSUE_CMD", 1);
	assert_non_null(id);
	assert_int_equal(st->on, SPEC_FD_SEV);
	assert_int_equal(spec_kvm_field(st, "cmd"), 9);
	assert_int_equal(spec_kvm_field(id, "cmd"), 8);

	/* The guest gets the cache's VCEK and the chain's two certificates as ASK and ARK. */
	static const struct certs_case cases[] = {{0x100000, 2, 0, 2, NULL}};
	struct files cached = f;
	snprintf(cached.vcek, sizeof(cached.vcek), "%s", vcek_in_cache);
	snprintf(cached.ask, sizeof(cached.ask), "%s", path);
	snprintf(cached.ark, sizeof(cached.ark), "%s", path);
	struct exit_seam es = {.k = k, .f = &cached, .cases = cases, .n = 1, .hold_fd = -1};
	spec_seam_wrap_init(&es.wrap, spec_kvm_seam(k), es_ioctl);
	struct cvm_kvm_run_result res;
	run_cases(&es, l, &res);
	assert_int_equal(res.snp_certs_served, 1);
	assert_int_equal(es.tables_checked, 1);
	cvm_launch_free(l);
	spec_kvm_free(k);

	/* Another TCB: the cache has no VCEK for it, the policy no files: refused, naming why. */
	k = spec_kvm_new();
	spec_kvm_set_snp_host(k, chip, tcb + 1, false);
	assert_int_equal(launch_on(spec_kvm_seam(k), p, &l, &err), -ENOENT);
	assert_non_null(strstr(cvm_error_message(&err), "no VCEK of this chip at the reported TCB "
						       "0x7308000000000004"));
	assert_null(spec_kvm_find(k, "KVM_SEV_SNP_ENABLE_REQ_CERTS", 0));
	spec_kvm_free(k);
	cvm_policy_free(p);

	/* ... and with the policy's files it falls back to them. */
	char certs[1800];
	snprintf(certs, sizeof(certs), "{\"vcek\": \"%s\", \"ask\": \"%s\", \"ark\": \"%s\"}",
		 f.vcek, f.ask, f.ark);
	p = snp_policy(certs);
	k = spec_kvm_new();
	spec_kvm_set_snp_host(k, chip, tcb, true); /* a VLEK is loaded: never in the cache */
	if (launch_on(spec_kvm_seam(k), p, &l, &err))
		fail_msg("launch: %s", cvm_error_message(&err));
	assert_string_equal(cvm_test_launch_entry(l, "snp_certificates"), "policy files");
	cvm_launch_free(l);
	spec_kvm_free(k);
	cvm_policy_free(p);
	unsetenv("XDG_CACHE_HOME");
	remove_tree(f.dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(certificates_are_enabled_after_init2_before_the_vcpus),
		cmocka_unit_test(a_host_without_certificate_requests_is_refused_before_anything_exists),
		cmocka_unit_test(cert_requests_are_served_locked_sized_or_refused),
		cmocka_unit_test(the_cache_serves_this_hosts_vcek_and_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
