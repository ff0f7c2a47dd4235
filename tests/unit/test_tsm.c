/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: the guest side (launcher/tsm.c).  configfs computes outblob when it is read and
 * makes an entry's attributes at mkdir, which no plain folder does, so a fake kernel plays that
 * part through the request's seam: it makes the attribute files when the entry is created
 * (outblob holding a real report), bumps generation on every write as configfs does, records
 * the protocol's steps, and removes the files before rmdir.  Refusals: no configfs-tsm, no
 * provider, a generation changed behind the request, a privlevel below the floor or not
 * offered, an empty or unreadable outblob.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
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

#include <cvmkit/evidence.h>
#include <cvmkit/tsm.h>
#include <cvmkit/util.h>
#include <cvmkit/verify.h>

#include "tests/unit/helper_vectors.h"

#define BUF_MAX (64u * 1024u)

struct fake {
	char root[PATH_MAX];  /* scratch folder */
	char tsm[PATH_MAX + 8];
	char acpi[PATH_MAX + 8];
	uint8_t outblob[BUF_MAX];
	size_t outblob_len;
	uint8_t auxblob[BUF_MAX];
	size_t auxblob_len;
	const char *provider; /* NULL: no TSM registered */
	bool privlevel;       /* the provider offers privlevel (and its floor) */
	unsigned floor;
	unsigned extra_bumps; /* another writer, per write */
	bool outblob_unreadable;
	unsigned generation;
	char steps[256];
	uint8_t inblob[128];
	size_t inblob_len;
};

static void put(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void put_text(const char *dir, const char *name, const char *text)
{
	put(dir, name, text, strlen(text));
}

static void step(struct fake *k, const char *what)
{
	size_t n = strlen(k->steps);
	snprintf(k->steps + n, sizeof(k->steps) - n, "%s%s", n ? ";" : "", what);
}

/* The kernel's part: attributes at mkdir, generation on writes, removal at rmdir. */
static void fake_kernel(void *ctx, enum cvm_tsm_event ev, const char *entry, const char *attr)
{
	struct fake *k = ctx;
	char text[32];
	if (ev == CVM_TSM_CREATED) {
		step(k, "created");
		k->generation = 0;
		put_text(entry, "generation", "0\n");
		put(entry, "inblob", "", 0);
		if (k->provider)
			put_text(entry, "provider", k->provider);
		if (k->outblob_unreadable) {
			char path[PATH_MAX * 2];
			snprintf(path, sizeof(path), "%s/outblob", entry);
			assert_int_equal(mkdir(path, 0700), 0);
		} else {
			put(entry, "outblob", k->outblob, k->outblob_len);
		}
		if (k->auxblob_len)
			put(entry, "auxblob", k->auxblob, k->auxblob_len);
		if (k->privlevel) {
			put(entry, "privlevel", "", 0);
			snprintf(text, sizeof(text), "%u\n", k->floor);
			put_text(entry, "privlevel_floor", text);
		}
	} else if (ev == CVM_TSM_WRITTEN) {
		char s[64];
		snprintf(s, sizeof(s), "wrote %s", attr);
		step(k, s);
		k->generation += 1 + k->extra_bumps;
		snprintf(text, sizeof(text), "%u\n", k->generation);
		put_text(entry, "generation", text);
		if (strcmp(attr, "inblob") == 0) {
			char path[PATH_MAX * 2];
			snprintf(path, sizeof(path), "%s/inblob", entry);
			FILE *f = fopen(path, "rb");
			assert_non_null(f);
			k->inblob_len = fread(k->inblob, 1, sizeof(k->inblob), f);
			fclose(f);
		}
	} else {
		step(k, "removing");
		static const char *const names[] = {"generation", "inblob",    "provider",
						    "outblob",    "auxblob",   "privlevel",
						    "privlevel_floor"};
		for (size_t i = 0; i < CVM_ARRAY_SIZE(names); i++) {
			char path[PATH_MAX * 2];
			snprintf(path, sizeof(path), "%s/%s", entry, names[i]);
			if (remove(path) != 0 && errno != ENOENT)
				fail_msg("removing %s: %s", path, strerror(errno));
		}
	}
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fake *k = calloc(1, sizeof(*k));
	snprintf(k->root, sizeof(k->root), "/tmp/cvmkit-tsm-XXXXXX");
	if (!mkdtemp(k->root))
		return -1;
	snprintf(k->tsm, sizeof(k->tsm), "%s/tsm", k->root);
	snprintf(k->acpi, sizeof(k->acpi), "%s/acpi", k->root);
	mkdir(k->tsm, 0700);
	k->provider = "sev_guest\n";
	*state = k;
	return 0;
}

static int teardown(void **state)
{
	struct fake *k = *state;
	nftw(k->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(k);
	return 0;
}

static void load_outblob(struct fake *k, const char *rel)
{
	k->outblob_len = cvm_test_vector_load(rel, k->outblob, sizeof(k->outblob));
}

static struct cvm_tsm_request request(struct fake *k)
{
	struct cvm_tsm_request req = {.tsm_dir = k->tsm, .kernel = fake_kernel, .kernel_ctx = k};
	for (size_t i = 0; i < 64; i++)
		req.inblob[i] = (uint8_t)(0xa0 + i);
	return req;
}

static bool tsm_dir_is_empty(const struct fake *k)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/cvmkit-%ld-0", k->tsm, (long)getpid());
	struct stat st;
	return stat(path, &st) != 0;
}

static void fails_with(struct fake *k, const struct cvm_tsm_request *req, int code,
		       const char *needle)
{
	struct cvm_tsm_report *r = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	assert_int_equal(cvm_tsm_report_get(req, &r, &err), code);
	assert_null(r);
	if (!strstr(err.msg, needle))
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, needle);
	assert_true(tsm_dir_is_empty(k)); /* removed after a failure too */
}

/* Serialise a GHCB certificate table of one VCEK entry into out. */
static size_t vcek_table(uint8_t *out, const uint8_t *cert, size_t len)
{
	static const uint8_t guid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
					 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
	memset(out, 0, 48);
	memcpy(out, guid, 16);
	cvm_put_le32(out + 16, 48);
	cvm_put_le32(out + 20, (uint32_t)len);
	memcpy(out + 48, cert, len);
	return 48 + len;
}

/* ---- the protocol ---- */

static void snp_report_through_configfs(void **state)
{
	struct fake *k = *state;
	load_outblob(k, "attest/virtee-sev/report_milan.bin");
	uint8_t cert[4096];
	size_t clen = cvm_test_vector_load("attest/virtee-sev/vcek_milan.der", cert, sizeof(cert));
	k->auxblob_len = vcek_table(k->auxblob, cert, clen);
	k->privlevel = true;
	struct cvm_tsm_request req = request(k);
	req.has_privlevel = true;
	req.privlevel = 2;
	struct cvm_tsm_report *r = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	if (cvm_tsm_report_get(&req, &r, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(k->steps, "created;wrote privlevel;wrote inblob;removing");
	assert_int_equal(k->inblob_len, 64);
	assert_memory_equal(k->inblob, req.inblob, 64);
	assert_string_equal(r->provider, "sev_guest");
	assert_int_equal(r->outblob_len, k->outblob_len);
	assert_memory_equal(r->outblob, k->outblob, k->outblob_len);
	assert_int_equal(r->auxblob_len, k->auxblob_len);
	assert_null(r->manifestblob);
	assert_int_equal(r->generation, 2);
	assert_true(tsm_dir_is_empty(k));

	/* The directory verify reads. */
	char out[PATH_MAX + 16];
	snprintf(out, sizeof(out), "%s/out", k->root);
	const char *names[CVM_EVIDENCE_DIR_MAX_FILES];
	size_t n = 0;
	assert_int_equal(cvm_evidence_write_dir(out, r, NULL, names, &n, &err), 0);
	static const char *const want[] = {"outblob", "auxblob", "provider", "tsm-report.json",
					   "tsm-report.cbor", "report-certs.bin"};
	assert_int_equal(n, CVM_ARRAY_SIZE(want));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(names[i], want[i]);
	static const char *const evidence[] = {"tsm-report.json", "tsm-report.cbor",
					       "report-certs.bin"};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(evidence); i++) {
		char path[PATH_MAX + 64];
		snprintf(path, sizeof(path), "%s/%s", out, evidence[i]);
		struct cvm_file f;
		assert_int_equal(cvm_file_open(path, &f, NULL), 0);
		struct cvm_evidence *ev = NULL;
		assert_int_equal(cvm_evidence_unwrap(f.data, f.size, &ev, NULL), 0);
		assert_int_equal(ev->kind, CVM_EVIDENCE_SNP_REPORT);
		assert_memory_equal(ev->report, k->outblob, k->outblob_len);
		assert_int_equal(ev->ncerts, 1);
		assert_int_equal(ev->certs[0].len, clen);
		cvm_evidence_free(ev);
		/* Verified with no certificate given: the one in the table is used. */
		struct cvm_verifier *v;
		assert_int_equal(cvm_verifier_new(&v, NULL), 0);
		struct cvm_verify_options o = {.has_time = true, .time = 1748736000};
		struct cvm_verify_result res;
		assert_int_equal(cvm_verify_evidence(v, f.data, f.size, &o, &res, NULL), 0);
		if (!cvm_verify_result_ok(&res))
			fail_msg("%s does not verify", evidence[i]);
		cvm_verifier_free(v);
		cvm_file_close(&f);
	}
	cvm_tsm_report_free(r);
}

static void tdx_quote_and_event_log(void **state)
{
	struct fake *k = *state;
	load_outblob(k, "attest/confidential-containers-trustee/tdx/tdx_quote_5.dat");
	k->provider = "tdx_guest\n";
	/* A CCEL ACPI table and its log area, as sysfs shows them. */
	char data[PATH_MAX + 16];
	snprintf(data, sizeof(data), "%s/data", k->acpi);
	mkdir(k->acpi, 0700);
	mkdir(data, 0700);
	uint8_t table[56] = {'C', 'C', 'E', 'L', 56};
	put(k->acpi, "CCEL", table, sizeof(table));
	static uint8_t log[BUF_MAX];
	size_t log_len = cvm_test_vector_load("eventlog/confidential-containers-trustee/CCEL_data_ovmf",
					      log, sizeof(log));
	put(data, "CCEL", log, log_len);
	struct cvm_tsm_request req = request(k);
	struct cvm_tsm_report *r = NULL;
	struct cvm_error err;
	if (cvm_tsm_report_get(&req, &r, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(k->steps, "created;wrote inblob;removing");
	assert_string_equal(r->provider, "tdx_guest");
	assert_null(r->auxblob);
	struct cvm_ccel ccel;
	assert_int_equal(cvm_ccel_read(k->acpi, &ccel, &err), 0);
	assert_int_equal(ccel.table_len, 56);
	assert_int_equal(ccel.log_len, log_len);
	char out[PATH_MAX + 16];
	snprintf(out, sizeof(out), "%s/out", k->root);
	const char *names[CVM_EVIDENCE_DIR_MAX_FILES];
	size_t n = 0;
	assert_int_equal(cvm_evidence_write_dir(out, r, &ccel, names, &n, &err), 0);
	assert_int_equal(n, 7);
	assert_string_equal(names[6], "tdx-evidence.json");
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/tdx-evidence.json", out);
	struct cvm_file f;
	assert_int_equal(cvm_file_open(path, &f, NULL), 0);
	struct cvm_evidence *ev = NULL;
	assert_int_equal(cvm_evidence_unwrap(f.data, f.size, &ev, NULL), 0);
	assert_int_equal(ev->format, CVM_EVIDENCE_FORMAT_TRUSTEE_TDX);
	assert_int_equal(ev->report_len, k->outblob_len);
	assert_int_equal(ev->eventlog_len, log_len);
	assert_memory_equal(ev->eventlog, log, log_len);
	cvm_evidence_free(ev);
	cvm_file_close(&f);
	cvm_ccel_release(&ccel);
	cvm_tsm_report_free(r);

	/* No CCEL, or something else in its place. */
	char none[PATH_MAX + 16];
	snprintf(none, sizeof(none), "%s/none", k->root);
	assert_int_equal(cvm_ccel_read(none, &ccel, &err), -ENOENT);
	put(k->acpi, "CCEL", "DSDT0000", 8);
	assert_int_equal(cvm_ccel_read(k->acpi, &ccel, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a CCEL ACPI table"));
}

/* ---- refusals ---- */

static void no_configfs_tsm(void **state)
{
	struct fake *k = *state;
	struct cvm_tsm_request req = request(k);
	char missing[PATH_MAX + 16];
	snprintf(missing, sizeof(missing), "%s/nope", k->root);
	req.tsm_dir = missing;
	fails_with(k, &req, -ENOENT, "no configfs-tsm here");
	/* A plain folder: mkdir works, but no attributes appear. */
	req = request(k);
	req.kernel = NULL;
	fails_with(k, &req, -ENOENT, "has no generation attribute: not a configfs-tsm report entry");
}

static void no_provider(void **state)
{
	struct fake *k = *state;
	load_outblob(k, "attest/virtee-sev/report_milan.bin");
	k->provider = NULL;
	struct cvm_tsm_request req = request(k);
	fails_with(k, &req, -ENXIO, "no TSM provider is registered");
	k->provider = "\n";
	fails_with(k, &req, -ENXIO, "no TSM provider is registered");
}

static void generation_changed_behind_the_request(void **state)
{
	struct fake *k = *state;
	load_outblob(k, "attest/virtee-sev/report_milan.bin");
	k->extra_bumps = 1;
	struct cvm_tsm_request req = request(k);
	fails_with(k, &req, -EBUSY, "generation went from 0 to 2 over this request's 1 writes");
}

static void privlevel_rules(void **state)
{
	struct fake *k = *state;
	load_outblob(k, "attest/virtee-sev/report_milan.bin");
	struct cvm_tsm_request req = request(k);
	req.has_privlevel = true;
	req.privlevel = 1;
	fails_with(k, &req, -ENOENT, "offers no privlevel attribute");
	k->privlevel = true;
	k->floor = 2;
	k->steps[0] = '\0';
	fails_with(k, &req, -EINVAL, "privlevel 1 is below the provider's privlevel_floor 2");
	assert_string_equal(k->steps, "created;removing"); /* nothing written */
	req.privlevel = 4;
	fails_with(k, &req, -EINVAL, "privlevel 4: the levels are 0..3");
}

static void empty_or_unreadable_outblob(void **state)
{
	struct fake *k = *state;
	k->outblob_len = 0;
	struct cvm_tsm_request req = request(k);
	fails_with(k, &req, -EINVAL, "outblob is empty");
	k->outblob_unreadable = true;
	struct cvm_tsm_report *r = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_tsm_report_get(&req, &r, &err), -EISDIR);
	assert_non_null(strstr(err.msg, "outblob"));
	/* the fake left its outblob folder behind: clear it for the next test */
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/cvmkit-%ld-0/outblob", k->tsm, (long)getpid());
	rmdir(path);
	snprintf(path, sizeof(path), "%s/cvmkit-%ld-0", k->tsm, (long)getpid());
	rmdir(path);
}

static void a_taken_entry_name_is_skipped(void **state)
{
	struct fake *k = *state;
	load_outblob(k, "attest/virtee-sev/report_milan.bin");
	char taken[PATH_MAX * 2];
	snprintf(taken, sizeof(taken), "%s/cvmkit-%ld-0", k->tsm, (long)getpid());
	assert_int_equal(mkdir(taken, 0700), 0);
	struct cvm_tsm_request req = request(k);
	struct cvm_tsm_report *r = NULL;
	struct cvm_error err;
	if (cvm_tsm_report_get(&req, &r, &err))
		fail_msg("%s", err.msg);
	cvm_tsm_report_free(r);
	struct stat st;
	assert_int_equal(stat(taken, &st), 0); /* not ours: left alone */
	rmdir(taken);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(snp_report_through_configfs),
		T(tdx_quote_and_event_log),
		T(no_configfs_tsm),
		T(no_provider),
		T(generation_changed_behind_the_request),
		T(privlevel_rules),
		T(empty_or_unreadable_outblob),
		T(a_taken_entry_name_is_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
