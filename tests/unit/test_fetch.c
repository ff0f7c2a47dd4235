/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: KDS/PCS fetchers and the cache (launcher/fetch*.c) against a real HTTP server on
 * 127.0.0.1 (tests/net/kds_pcs_server.py, started and stopped by each test, bounded in requests
 * and time) that serves the real vectors at the exact KDS and PCS paths.  Every request the
 * server sees is logged, so each test states exactly which requests a run makes.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cvmkit/evidence.h>
#include <cvmkit/fetch.h>
#include <cvmkit/util.h>
#include <cvmkit/verify.h>

#include "launcher/fetch_internal.h"
#include "tests/unit/helper_vectors.h"

#define SERVER_SCRIPT "tests/net/kds_pcs_server.py"
#define MILAN_CHIP                                                                               \
	"d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc"                       \
	"15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6"
#define MILAN_VCEK_PATH                                                                          \
	"/vcek/v1/Milan/" MILAN_CHIP "?blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115"
#define MILAN_VCEK_FILE "vcek/" MILAN_CHIP "/bl03_tee00_snp08_ucode115_vcek.der"
#define TURIN_CHIP "1e550a8ee5cf9f4d"
#define TURIN_VCEK_PATH                                                                          \
	"/vcek/v1/Turin/" TURIN_CHIP "?fmcSPL=00&blSPL=00&teeSPL=00&snpSPL=00&ucodeSPL=09"
#define TCB_INFO_PATH "/tdx/certification/v4/tcb?fmspc=00a06d080000"
#define QE_ID_PATH "/tdx/certification/v4/qe/identity"
#define PCK_CRL_PATH "/sgx/certification/v4/pckcrl?ca=platform&encoding=der"
#define ROOT_CRL_PATH "/sgx/certification/v4/rootcacrl"
#define TRUSTEE_TDX "confidential-containers-trustee/tdx/"

static const uint8_t fmspc6[6] = {0x00, 0xa0, 0x6d, 0x08, 0x00, 0x00};

/* ---- files ---- */

static uint8_t *slurp(const char *path, size_t *len)
{
	struct cvm_file f;
	if (cvm_file_open(path, &f, NULL) != 0)
		return NULL;
	uint8_t *copy = malloc(f.size + 1);
	assert_non_null(copy);
	memcpy(copy, f.data, f.size);
	copy[f.size] = 0;
	*len = f.size;
	cvm_file_close(&f);
	return copy;
}

static uint8_t *vector(const char *rel, size_t *len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/vectors/attest/%s", cvm_test_shared_dir(), rel);
	uint8_t *d = slurp(path, len);
	if (!d) {
		print_message("# SKIP %s is missing\n", path);
		skip();
	}
	return d;
}

static void assert_same_as_vector(const uint8_t *data, size_t len, const char *rel)
{
	size_t vlen;
	uint8_t *v = vector(rel, &vlen);
	assert_int_equal(len, vlen);
	assert_memory_equal(data, v, len);
	free(v);
}

static void write_file(const char *path, const void *data, size_t len)
{
	char *dir = cvm_dirname(path);
	assert_int_equal(cvm_dir_create(dir, NULL), 0);
	free(dir);
	assert_int_equal(cvm_file_write_atomic(path, data, len, NULL), 0);
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static time_t at(const char *rfc3339)
{
	time_t t;
	assert_int_equal(cvm_time_parse_rfc3339(rfc3339, &t), 0);
	return t;
}

/* In a forked child: exec argv (the strings copied, since exec wants them writable). */
static void exec_child(const char *file, const char *const *argv)
{
	char *copy[40];
	size_t n = 0;
	for (; argv[n] && n < CVM_ARRAY_SIZE(copy) - 1; n++)
		copy[n] = strdup(argv[n]);
	copy[n] = NULL;
	execvp(file, copy);
	_exit(127);
}

/* ---- the server ---- */

struct server {
	pid_t pid;
	int port;
	char dir[PATH_MAX];
	char log[PATH_MAX + 16];
	size_t log_seen;
};

/* Read "PORT <n>\n" from fd within 10 s. */
static int read_port(int fd)
{
	char buf[64];
	size_t n = 0;
	while (n < sizeof(buf) - 1 && !memchr(buf, '\n', n)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 10000) != 1)
			return -1;
		ssize_t k = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (k <= 0)
			return -1;
		n += (size_t)k;
	}
	buf[n] = '\0';
	int port;
	return sscanf(buf, "PORT %d", &port) == 1 ? port : -1;
}

static void rm_tree(const char *dir)
{
	if (dir[0])
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void server_stop(struct server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

/* Start the server in s->dir (made by the setup) with a fresh request log. */
static void server_start(struct server *s, const char *const *extra)
{
	snprintf(s->log, sizeof(s->log), "%s/requests.log", s->dir);
	unlink(s->log);
	s->log_seen = 0;
	if (!exists(SERVER_SCRIPT)) {
		print_message("# SKIP %s not found (run from the source tree)\n", SERVER_SCRIPT);
		skip();
	}
	char vectors[PATH_MAX];
	snprintf(vectors, sizeof(vectors), "%s/vectors", cvm_test_shared_dir());
	const char *argv[32] = {"python3", SERVER_SCRIPT, "--vectors", vectors, "--log", s->log,
				"--max-requests", "100", "--max-seconds", "60"};
	size_t argc = 10;
	for (; extra && *extra && argc < 31; extra++)
		argv[argc++] = *extra;
	argv[argc] = NULL;
	int fds[2];
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		exec_child("python3", argv);
	}
	close(fds[1]);
	s->port = read_port(fds[0]);
	close(fds[0]);
	if (s->port <= 0) {
		server_stop(s);
		print_message("# SKIP python3 could not start %s\n", SERVER_SCRIPT);
		skip();
	}
}

/* The requests logged since the last call, one "GET path\n" each. */
static char *server_requests(struct server *s)
{
	size_t len = 0;
	uint8_t *all = slurp(s->log, &len);
	if (!all)
		return strdup("");
	char *news = strdup((char *)all + (s->log_seen <= len ? s->log_seen : len));
	s->log_seen = len;
	free(all);
	return news;
}

static void assert_requests(struct server *s, const char *want)
{
	char *got = server_requests(s);
	assert_string_equal(got, want);
	free(got);
}

/* ---- a test's world: a server, a cache, a config ---- */

struct sleeps {
	unsigned ms[8];
	size_t n;
};

static void record_sleep(void *ctx, unsigned ms)
{
	struct sleeps *s = ctx;
	if (s->n < CVM_ARRAY_SIZE(s->ms))
		s->ms[s->n++] = ms;
}

struct world {
	struct server srv;
	char cache[PATH_MAX + 8];
	char base[64];
	struct sleeps sleeps;
	struct cvm_fetch_config cfg;
};

/*
 * Each test gets a world from the setup: a scratch folder (for the server's log, the cache at
 * scratch/cache and any file the test makes), removed by the teardown with the server, so a
 * failing test cleans up too.
 */
static int world_setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	snprintf(w->srv.dir, sizeof(w->srv.dir), "/tmp/cvmkit-fetch-XXXXXX");
	if (!mkdtemp(w->srv.dir)) {
		free(w);
		return -1;
	}
	snprintf(w->cache, sizeof(w->cache), "%s/cache", w->srv.dir);
	w->cfg = (struct cvm_fetch_config){.cache_dir = w->cache, .timeout_ms = 10000};
	*state = w;
	return 0;
}

static int world_teardown(void **state)
{
	struct world *w = *state;
	server_stop(&w->srv);
	rm_tree(w->srv.dir);
	free(w);
	return 0;
}

/* A file in the world's scratch folder. */
static void scratch_file(const struct world *w, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", w->srv.dir, name);
}

/* (Re)start the server with extra arguments (NULL-terminated) and point the config at it. */
static void world_start(struct world *w, const char *const *extra)
{
	server_stop(&w->srv);
	server_start(&w->srv, extra);
	snprintf(w->base, sizeof(w->base), "http://127.0.0.1:%d", w->srv.port);
	memset(&w->sleeps, 0, sizeof(w->sleeps));
	w->cfg = (struct cvm_fetch_config){
		.kds_url = w->base,
		.pcs_url = w->base,
		.cache_dir = w->cache,
		.timeout_ms = 10000,
		.sleep_ms = record_sleep,
		.sleep_ctx = &w->sleeps,
	};
}

static struct cvm_fetcher *world_fetcher(struct world *w)
{
	struct cvm_fetcher *f = NULL;
	assert_int_equal(cvm_fetcher_new(&w->cfg, &f, NULL), 0);
	return f;
}

static void cache_file(const struct world *w, const char *rel, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", w->cache, rel);
}

static void milan_id(struct cvm_kds_vcek_id *id, enum cvm_amd_product product)
{
	size_t len;
	uint8_t *raw = vector("virtee-sev/report_milan.bin", &len);
	struct cvm_snp_report r;
	assert_int_equal(cvm_snp_report_parse(raw, len, &r, NULL), 0);
	cvm_kds_vcek_id_from_report(&r, product, id);
	free(raw);
}

static void turin_id(struct cvm_kds_vcek_id *id)
{
	memset(id, 0, sizeof(*id));
	id->product = CVM_AMD_TURIN;
	assert_int_equal(cvm_hex_decode(TURIN_CHIP, id->chip_id, 8), 0);
	id->tcb.microcode = 9;
}

static void assert_error_has(const struct cvm_error *e, const char *needle)
{
	if (!strstr(e->msg, needle))
		fail_msg("error \"%s\" lacks \"%s\"", e->msg, needle);
}

/* ---- pure parts ---------------------------------------------------------------------------- */

static void kds_urls_and_store_paths(void **state)
{
	(void)state;
	struct cvm_kds_vcek_id id;
	struct cvm_error err;
	char *s = NULL;
	milan_id(&id, CVM_AMD_UNKNOWN);
	assert_int_equal(id.product, CVM_AMD_UNKNOWN); /* a v2 report does not name its line */
	assert_int_equal(cvm_kds_vcek_url(NULL, &id, &s, &err), -EINVAL);
	assert_error_has(&err, "product line is unknown");
	milan_id(&id, CVM_AMD_MILAN);
	assert_int_equal(cvm_kds_vcek_url(NULL, &id, &s, NULL), 0);
	assert_string_equal(s, "https://kdsintf.amd.com" MILAN_VCEK_PATH);
	free(s);
	assert_int_equal(cvm_kds_vcek_store_path(&id, &s, NULL), 0);
	assert_string_equal(s, MILAN_VCEK_FILE);
	free(s);

	turin_id(&id);
	assert_int_equal(cvm_kds_vcek_url("http://kds.example/", &id, &s, NULL), 0);
	assert_string_equal(s, "http://kds.example" TURIN_VCEK_PATH);
	free(s);
	assert_int_equal(cvm_kds_vcek_store_path(&id, &s, NULL), 0);
	assert_string_equal(s, "vcek/" TURIN_CHIP "/bl00_tee00_snp00_ucode09_fmc00_vcek.der");
	free(s);
}

static void reports_without_a_vcek_url_say_why(void **state)
{
	(void)state;
	struct cvm_kds_vcek_id id;
	struct cvm_error err;
	char *s = NULL;
	milan_id(&id, CVM_AMD_MILAN);
	struct cvm_kds_vcek_id masked = id;
	memset(masked.chip_id, 0, sizeof(masked.chip_id));
	assert_int_equal(cvm_kds_vcek_url(NULL, &masked, &s, &err), -EINVAL);
	assert_error_has(&err, "MASK_CHIP_ID");
	assert_int_equal(cvm_kds_vcek_store_path(&masked, &s, &err), -EINVAL);
	struct cvm_kds_vcek_id vlek = id;
	vlek.key_info = CVM_SNP_KEY_VLEK << 2;
	assert_int_equal(cvm_kds_vcek_url(NULL, &vlek, &s, &err), -EINVAL);
	assert_error_has(&err, "VLEK");
	struct cvm_kds_vcek_id chip_key = id;
	chip_key.key_info = 1u << 1;
	assert_int_equal(cvm_kds_vcek_url(NULL, &chip_key, &s, &err), -EINVAL);
	assert_error_has(&err, "MASK_CHIP_KEY");
	/* The fetch itself refuses before any request (the fetcher has no server at all). */
	struct cvm_fetch_config cfg = {.kds_url = "http://127.0.0.1:9", .no_cache = true};
	struct cvm_fetcher *f;
	struct cvm_fetch_item *it = NULL;
	assert_int_equal(cvm_fetcher_new(&cfg, &f, NULL), 0);
	assert_int_equal(cvm_fetch_vcek(f, &masked, &it, &err), -EINVAL);
	assert_null(it);
	assert_int_equal(cvm_fetcher_requests(f), 0);
	cvm_fetcher_free(f);
}

static void header_and_retry_after_readers(void **state)
{
	(void)state;
	static const char block[] = "HTTP/1.1 429 Too Many Requests\r\n"
				    "retry-after:  7 \r\n"
				    "TCB-Info-Issuer-Chain: a%20b\r\n"
				    "TCB-Info-Issuer-Chain: second\r\n\r\n";
	char *v = NULL, reason[64];
	assert_int_equal(cvm_http_header_value(block, sizeof(block) - 1, "Retry-After", &v), 1);
	assert_string_equal(v, "7");
	free(v);
	assert_int_equal(cvm_http_header_value(block, sizeof(block) - 1, "tcb-info-issuer-chain",
					       &v), 1);
	assert_string_equal(v, "a%20b");
	free(v);
	assert_int_equal(cvm_http_header_value(block, sizeof(block) - 1, "TCB-Info", &v), 0);
	cvm_http_reason(block, sizeof(block) - 1, reason, sizeof(reason));
	assert_string_equal(reason, "Too Many Requests");

	char *d;
	size_t n;
	assert_int_equal(cvm_percent_decode("%2B/%0a=+", 9, &d, &n), 0);
	assert_string_equal(d, "+/\n=+");
	assert_int_equal(n, 5);
	free(d);
	assert_int_equal(cvm_percent_decode("%zz", 3, &d, &n), -EINVAL);
	assert_int_equal(cvm_percent_decode("ab%4", 4, &d, &n), -EINVAL);
	assert_int_equal(cvm_percent_decode("%00", 3, &d, &n), -EINVAL);

	unsigned s;
	time_t now = at("2015-10-21T07:27:00Z");
	assert_true(cvm_http_retry_after("120", now, &s));
	assert_int_equal(s, 120);
	assert_true(cvm_http_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now, &s));
	assert_int_equal(s, 60);
	assert_true(cvm_http_retry_after("99999999999999999999", now, &s));
	assert_int_equal(s, 86400);
	assert_false(cvm_http_retry_after("soon", now, &s));
	assert_false(cvm_http_retry_after("12s", now, &s));
}

static void default_cache_dir_follows_xdg(void **state)
{
	(void)state;
	char *old_xdg = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	char *d = NULL;
	setenv("XDG_CACHE_HOME", "/var/cache/u", 1);
	assert_int_equal(cvm_fetch_default_cache_dir(&d, NULL), 0);
	assert_string_equal(d, "/var/cache/u/cvmkit");
	free(d);
	setenv("XDG_CACHE_HOME", "relative", 1); /* the XDG spec says to ignore it */
	setenv("HOME", "/home/u", 1);
	assert_int_equal(cvm_fetch_default_cache_dir(&d, NULL), 0);
	assert_string_equal(d, "/home/u/.cache/cvmkit");
	free(d);
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	assert_int_equal(cvm_fetch_default_cache_dir(&d, NULL), -ENOENT);
	if (old_xdg)
		setenv("XDG_CACHE_HOME", old_xdg, 1);
	if (old_home)
		setenv("HOME", old_home, 1);
	free(old_xdg);
	free(old_home);
}

/* ---- AMD KDS against the server ------------------------------------------------------------ */

static void verify_milan_with(struct cvm_fetch_item *vcek, struct cvm_fetch_item *chain)
{
	size_t len;
	uint8_t *raw = vector("virtee-sev/report_milan.bin", &len);
	struct cvm_snp_report r;
	assert_int_equal(cvm_snp_report_parse(raw, len, &r, NULL), 0);
	struct cvm_verifier *v;
	assert_int_equal(cvm_verifier_new(&v, NULL), 0);
	assert_true(cvm_verifier_add_certs(v, vcek->data, vcek->len, vcek->source, NULL) > 0);
	assert_true(cvm_verifier_add_certs(v, chain->data, chain->len, chain->source, NULL) > 0);
	struct cvm_verify_options o = {.has_time = true, .time = at("2025-06-01T00:00:00Z")};
	struct cvm_verify_result res;
	assert_int_equal(cvm_verify_snp(v, &r, &o, &res, NULL), 0);
	for (size_t i = 0; i < res.nchecks; i++)
		if (res.checks[i].status == CVM_CHECK_FAIL)
			fail_msg("%s: %s", res.checks[i].name, res.checks[i].reason);
	assert_true(cvm_verify_result_ok(&res));
	cvm_verifier_free(v);
	free(raw);
}

static void snp_fetch_then_cache_then_offline(void **state)
{
	struct world *w = *state;
	world_start(w, NULL);
	struct cvm_kds_vcek_id id;
	milan_id(&id, CVM_AMD_UNKNOWN); /* v2: Milan is tried first */
	struct cvm_fetch_item *vcek = NULL, *chain = NULL;
	struct cvm_error err;

	struct cvm_fetcher *f = world_fetcher(w);
	assert_int_equal(cvm_fetch_vcek(f, &id, &vcek, &err), 0);
	assert_int_equal(cvm_fetch_amd_chain(f, vcek->product, CVM_SNP_KEY_VCEK, &chain, &err), 0);
	assert_requests(&w->srv, "GET " MILAN_VCEK_PATH "\nGET /vcek/v1/Milan/cert_chain\n");
	assert_int_equal(vcek->origin, CVM_FETCH_ORIGIN_NETWORK);
	assert_int_equal(vcek->product, CVM_AMD_MILAN);
	assert_string_equal(vcek->source, vcek->url);
	assert_null(vcek->cache_warning);
	assert_same_as_vector(vcek->data, vcek->len, "virtee-sev/vcek_milan.der");
	assert_same_as_vector(chain->data, chain->len, "virtee-sev/cert_chain_milan");
	char path[PATH_MAX + 300];
	cache_file(w, MILAN_VCEK_FILE, path, sizeof(path));
	assert_string_equal(vcek->cache_path, path);
	size_t len;
	uint8_t *stored = slurp(path, &len);
	assert_non_null(stored);
	assert_same_as_vector(stored, len, "virtee-sev/vcek_milan.der");
	free(stored);
	cache_file(w, "amd/milan/vcek_cert_chain.pem", path, sizeof(path));
	assert_true(exists(path));
	verify_milan_with(vcek, chain);
	cvm_fetch_item_free(vcek);
	cvm_fetch_item_free(chain);
	cvm_fetcher_free(f);

	/* A second run: all from the cache, no request. */
	f = world_fetcher(w);
	assert_int_equal(cvm_fetch_vcek(f, &id, &vcek, &err), 0);
	assert_int_equal(cvm_fetch_amd_chain(f, vcek->product, CVM_SNP_KEY_VCEK, &chain, &err), 0);
	assert_int_equal(cvm_fetcher_requests(f), 0);
	assert_requests(&w->srv, "");
	assert_int_equal(vcek->origin, CVM_FETCH_ORIGIN_CACHE);
	assert_int_equal(vcek->product, CVM_AMD_MILAN); /* read from the cached VCEK's issuer */
	assert_string_equal(vcek->source, vcek->cache_path);
	verify_milan_with(vcek, chain);
	cvm_fetch_item_free(vcek);
	cvm_fetch_item_free(chain);
	cvm_fetcher_free(f);

}

static void offline_says_what_is_missing(void **state)
{
	struct world *w = *state;
	struct cvm_fetch_config cfg = {.cache_dir = w->cache, .offline = true};
	struct cvm_fetcher *f;
	assert_int_equal(cvm_fetcher_new(&cfg, &f, NULL), 0);
	struct cvm_kds_vcek_id id;
	milan_id(&id, CVM_AMD_MILAN);
	struct cvm_fetch_item *it = NULL;
	struct cvm_error err;
	assert_int_equal(cvm_fetch_vcek(f, &id, &it, &err), -ENOENT);
	assert_null(it);
	assert_error_has(&err, "offline");
	assert_error_has(&err, MILAN_VCEK_FILE " is not in the cache");
	assert_error_has(&err, "https://kdsintf.amd.com" MILAN_VCEK_PATH);
	assert_int_equal(cvm_fetch_tdx_qe_identity(f, &it, &err), -ENOENT);
	assert_error_has(&err, "intel/tdx_qe_identity.json is not in the cache");
	assert_error_has(&err, "https://api.trustedservices.intel.com" QE_ID_PATH);
	assert_int_equal(cvm_fetch_intel_root_crl(f, &it, &err), -ENOENT);
	assert_error_has(&err, CVM_FETCH_DEFAULT_INTEL_ROOT_CRL_URL);
	assert_int_equal(cvm_fetcher_requests(f), 0);
	cvm_fetcher_free(f);
	/* Offline needs a cache. */
	cfg.no_cache = true;
	assert_int_equal(cvm_fetcher_new(&cfg, &f, &err), -EINVAL);
}

static void offline_uses_the_cache_only(void **state)
{
	struct world *w = *state;
	world_start(w, NULL);
	struct cvm_kds_vcek_id id;
	milan_id(&id, CVM_AMD_MILAN);
	struct cvm_fetch_item *it = NULL;
	struct cvm_fetcher *f = world_fetcher(w);
	assert_int_equal(cvm_fetch_vcek(f, &id, &it, NULL), 0);
	cvm_fetch_item_free(it);
	cvm_fetcher_free(f);
	server_stop(&w->srv); /* nothing to talk to any more; the cache stays */
	w->cfg.offline = true;
	f = world_fetcher(w);
	assert_int_equal(cvm_fetch_vcek(f, &id, &it, NULL), 0);
	assert_int_equal(it->origin, CVM_FETCH_ORIGIN_CACHE);
	assert_same_as_vector(it->data, it->len, "virtee-sev/vcek_milan.der");
	cvm_fetch_item_free(it);
	struct cvm_error err;
	assert_int_equal(cvm_fetch_amd_chain(f, CVM_AMD_MILAN, CVM_SNP_KEY_VCEK, &it, &err),
			 -ENOENT);
	assert_error_has(&err, "amd/milan/vcek_cert_chain.pem is not in the cache");
	cvm_fetcher_free(f);
}

static void turin_vcek_uses_the_short_hwid_and_fmc(void **state)
{
	struct world *w = *state;
	world_start(w, NULL);
	struct cvm_kds_vcek_id id;
	turin_id(&id);
	struct cvm_fetch_item *vcek = NULL, *chain = NULL;
	struct cvm_fetcher *f = world_fetcher(w);
	assert_int_equal(cvm_fetch_vcek(f, &id, &vcek, NULL), 0);
	assert_int_equal(cvm_fetch_amd_chain(f, CVM_AMD_TURIN, CVM_SNP_KEY_VCEK, &chain, NULL), 0);
	assert_requests(&w->srv, "GET " TURIN_VCEK_PATH "\nGET /vcek/v1/Turin/cert_chain\n");
	assert_same_as_vector(vcek->data, vcek->len, "virtee-sev/vcek_turin.der");
	char path[PATH_MAX + 300];
	cache_file(w, "vcek/" TURIN_CHIP "/bl00_tee00_snp00_ucode09_fmc00_vcek.der", path,
		   sizeof(path));
	assert_string_equal(vcek->cache_path, path);
	assert_true(exists(path));
	cvm_fetch_item_free(vcek);
	cvm_fetch_item_free(chain);
	cvm_fetcher_free(f);
}

static void retry_after_is_honoured(void **state)
{
	static const char *const args[] = {"--status", MILAN_VCEK_PATH "=429:2*1", "--status",
					   "/vcek/v1/Milan/cert_chain=503*2", NULL};
	struct world *w = *state;
	world_start(w, args);
	struct cvm_kds_vcek_id id;
	milan_id(&id, CVM_AMD_MILAN);
	struct cvm_fetch_item *it = NULL;
	struct cvm_fetcher *f = world_fetcher(w);
	assert_int_equal(cvm_fetch_vcek(f, &id, &it, NULL), 0);
	assert_requests(&w->srv, "GET " MILAN_VCEK_PATH "\nGET " MILAN_VCEK_PATH "\n");
	assert_int_equal(w->sleeps.n, 1);
	assert_int_equal(w->sleeps.ms[0], 2000); /* Retry-After: 2 */
	cvm_fetch_item_free(it);
	/* 503 without Retry-After: back off 1 s, then 2 s. */
	assert_int_equal(cvm_fetch_amd_chain(f, CVM_AMD_MILAN, CVM_SNP_KEY_VCEK, &it, NULL), 0);
	assert_int_equal(w->sleeps.n, 3);
	assert_int_equal(w->sleeps.ms[1], 1000);
	assert_int_equal(w->sleeps.ms[2], 2000);
	assert_int_equal(cvm_fetcher_requests(f), 5);
	cvm_fetch_item_free(it);
	cvm_fetcher_free(f);
}

static void retry_after_beyond_the_budget_fails_at_once(void **state)
{
	static const char *const args[] = {"--status", MILAN_VCEK_PATH "=429:30", NULL};
	struct world *w = *state;
	world_start(w, args);
	w->cfg.max_retry_wait_s = 5;
	struct cvm_kds_vcek_id id;
	milan_id(&id, CVM_AMD_MILAN);
	struct cvm_fetch_item *it = NULL;
	struct cvm_error err;
	struct cvm_fetcher *f = world_fetcher(w);
	assert_int_equal(cvm_fetch_vcek(f, &id, &it, &err), -EAGAIN);
	assert_null(it);
	assert_error_has(&err, "VCEK for Milan chip d49554ec717f4e5b.. at TCB bl 3 tee 0 snp 8 "
			       "ucode 115: GET http://127.0.0.1:");
	assert_error_has(&err, "HTTP 429 Too Many Requests");
	assert_error_has(&err, "retry after 30 s is beyond the 5 s budget");
	assert_int_equal(w->sleeps.n, 0);
	assert_requests(&w->srv, "GET " MILAN_VCEK_PATH "\n");
	cvm_fetcher_free(f);
	/* Bounded attempts: Retry-After 0 forever stops after max_attempts. */
		static const char *const args0[] = {"--status", MILAN_VCEK_PATH "=429:0", NULL};
	world_start(w, args0);
	w->cfg.max_attempts = 3;
	f = world_fetcher(w);
	assert_int_equal(cvm_fetch_vcek(f, &id, &it, &err), -EAGAIN);
	assert_error_has(&err, "after 3 attempts");
	assert_int_equal(cvm_fetcher_requests(f), 3);
	cvm_fetcher_free(f);
}

static void retry_sleeps_for_real_without_a_seam(void **state)
{
	static const char *const args[] = {"--status", "/vcek/v1/Milan/cert_chain=503:1*1", NULL};
	struct world *w = *state;
	world_start(w, args);
	w->cfg.sleep_ms = NULL;
	struct cvm_fetch_item *it = NULL;
	struct cvm_fetcher *f = world_fetcher(w);
	assert_int_equal(cvm_fetch_amd_chain(f, CVM_AMD_MILAN, CVM_SNP_KEY_VCEK, &it, NULL), 0);
	assert_int_equal(cvm_fetcher_requests(f), 2);
	cvm_fetch_item_free(it);
	cvm_fetcher_free(f);
}

static void not_found_is_never_data(void **state)
{
	/* The 404 carries the real VCEK's bytes as its body: still not data. */
	static const char *const args[] = {"--status", MILAN_VCEK_PATH "=404", NULL};
	struct world *w = *state;
	world_start(w, args);
	struct cvm_kds_vcek_id id;
	milan_id(&id, CVM_AMD_MILAN);
	struct cvm_fetch_item *it = NULL;
	struct cvm_error err;
	struct cvm_fetcher *f = world_fetcher(w);
	assert_int_equal(cvm_fetch_vcek(f, &id, &it, &err), -ENOENT);
	assert_null(it);
	assert_error_has(&err, "HTTP 404 Not Found");
	assert_error_has(&err, MILAN_VCEK_PATH);
	char path[PATH_MAX + 300];
	cache_file(w, MILAN_VCEK_FILE, path, sizeof(path));
	assert_false(exists(path));
	assert_requests(&w->srv, "GET " MILAN_VCEK_PATH "\n");
	/* A v2 report whose line is unknown: Milan 404, then Genoa 404. */
	milan_id(&id, CVM_AMD_UNKNOWN);
	assert_int_equal(cvm_fetch_vcek(f, &id, &it, &err), -ENOENT);
	assert_error_has(&err, "neither Milan nor Genoa: VCEK for Genoa chip");
	assert_error_has(&err, "/vcek/v1/Genoa/");
	char *got = server_requests(&w->srv);
	assert_non_null(strstr(got, "GET " MILAN_VCEK_PATH "\nGET /vcek/v1/Genoa/" MILAN_CHIP));
	free(got);
	assert_false(exists(path));
	cvm_fetcher_free(f);
}

static void a_200_that_is_not_the_item_is_refused(void **state)
{
	struct world *w = *state;
	char html[PATH_MAX + 64], serve1[PATH_MAX + 400], serve2[PATH_MAX + 128];
	scratch_file(w, "error.html", html, sizeof(html));
	static const char page[] = "<html><body>Service unavailable</body></html>\n";
	write_file(html, page, sizeof(page) - 1);
	snprintf(serve1, sizeof(serve1), MILAN_VCEK_PATH "=%s", html);
	snprintf(serve2, sizeof(serve2), "/vcek/v1/Milan/cert_chain=%s", html);
	const char *args[] = {"--serve", serve1, "--serve", serve2, NULL};
	world_start(w, args);
	struct cvm_kds_vcek_id id;
	milan_id(&id, CVM_AMD_MILAN);
	struct cvm_fetch_item *it = NULL;
	struct cvm_error err;
	struct cvm_fetcher *f = world_fetcher(w);
	assert_int_equal(cvm_fetch_vcek(f, &id, &it, &err), -EBADMSG);
	assert_error_has(&err, "HTTP 200, but the body is refused (not a DER certificate)");
	assert_int_equal(cvm_fetch_amd_chain(f, CVM_AMD_MILAN, CVM_SNP_KEY_VCEK, &it, &err),
			 -EBADMSG);
	char path[PATH_MAX + 300];
	cache_file(w, MILAN_VCEK_FILE, path, sizeof(path));
	assert_false(exists(path));
	cache_file(w, "amd/milan/vcek_cert_chain.pem", path, sizeof(path));
	assert_false(exists(path));
	cvm_fetcher_free(f);
}

static void body_size_is_capped(void **state)
{
	struct world *w = *state;
	world_start(w, NULL);
	w->cfg.max_body = 100;
	struct cvm_kds_vcek_id id;
	milan_id(&id, CVM_AMD_MILAN);
	struct cvm_fetch_item *it = NULL;
	struct cvm_error err;
	struct cvm_fetcher *f = world_fetcher(w);
	assert_int_equal(cvm_fetch_vcek(f, &id, &it, &err), -EFBIG);
	assert_error_has(&err, "exceeds 100 bytes");
	cvm_fetcher_free(f);
}

static void corrupt_cache_file_is_refused_and_refetched(void **state)
{
	struct world *w = *state;
	world_start(w, NULL);
	struct cvm_kds_vcek_id id;
	milan_id(&id, CVM_AMD_MILAN);
	char vcek_path[PATH_MAX + 300], chain_path[PATH_MAX + 300];
	cache_file(w, MILAN_VCEK_FILE, vcek_path, sizeof(vcek_path));
	cache_file(w, "amd/milan/vcek_cert_chain.pem", chain_path, sizeof(chain_path));
	struct cvm_fetch_item *it = NULL;
	struct cvm_error err;

	/* Truncated VCEK, and a Turin VCEK where the Milan one belongs. */
	size_t len;
	uint8_t *good = vector("virtee-sev/vcek_milan.der", &len);
	write_file(vcek_path, good, len / 2);
	w->cfg.offline = true;
	struct cvm_fetcher *f = world_fetcher(w);
	assert_int_equal(cvm_fetch_vcek(f, &id, &it, &err), -ENOENT);
	assert_error_has(&err, "is refused: not a DER certificate");
	cvm_fetcher_free(f);
	w->cfg.offline = false;
	f = world_fetcher(w);
	assert_int_equal(cvm_fetch_vcek(f, &id, &it, &err), 0);
	assert_int_equal(it->origin, CVM_FETCH_ORIGIN_NETWORK);
	cvm_fetch_item_free(it);
	size_t slen;
	uint8_t *stored = slurp(vcek_path, &slen);
	assert_int_equal(slen, len);
	assert_memory_equal(stored, good, len);
	free(stored);
	assert_requests(&w->srv, "GET " MILAN_VCEK_PATH "\n");

	size_t tlen;
	uint8_t *turin = vector("virtee-sev/vcek_turin.der", &tlen);
	write_file(vcek_path, turin, tlen);
	assert_int_equal(cvm_fetch_vcek(f, &id, &it, &err), 0);
	assert_int_equal(it->origin, CVM_FETCH_ORIGIN_NETWORK);
	cvm_fetch_item_free(it);
	assert_requests(&w->srv, "GET " MILAN_VCEK_PATH "\n");

	/* A chain of the wrong product line. */
	size_t glen;
	uint8_t *genoa = vector("google-go-sev-guest/ask_ark_genoa.pem", &glen);
	write_file(chain_path, genoa, glen);
	w->cfg.offline = true;
	struct cvm_fetcher *off = world_fetcher(w);
	assert_int_equal(cvm_fetch_amd_chain(off, CVM_AMD_MILAN, CVM_SNP_KEY_VCEK, &it, &err),
			 -ENOENT);
	assert_error_has(&err, "expected \"SEV-Milan\" and \"ARK-Milan\"");
	cvm_fetcher_free(off);
	assert_int_equal(cvm_fetch_amd_chain(f, CVM_AMD_MILAN, CVM_SNP_KEY_VCEK, &it, &err), 0);
	assert_int_equal(it->origin, CVM_FETCH_ORIGIN_NETWORK);
	cvm_fetch_item_free(it);
	assert_requests(&w->srv, "GET /vcek/v1/Milan/cert_chain\n");
	free(good);
	free(turin);
	free(genoa);
	cvm_fetcher_free(f);
}

static void trustee_flat_vcek_is_read(void **state)
{
	struct world *w = *state;
	char path[PATH_MAX + 300];
	cache_file(w, "vcek/" MILAN_CHIP "/vcek.der", path, sizeof(path));
	size_t len;
	uint8_t *good = vector("virtee-sev/vcek_milan.der", &len);
	write_file(path, good, len);
	w->cfg.offline = true;
	struct cvm_fetcher *f = world_fetcher(w);
	struct cvm_kds_vcek_id id;
	milan_id(&id, CVM_AMD_MILAN);
	struct cvm_fetch_item *it = NULL;
	assert_int_equal(cvm_fetch_vcek(f, &id, &it, NULL), 0);
	assert_string_equal(it->source, path);
	cvm_fetch_item_free(it);
	/* The same file does not serve another TCB. */
	id.tcb.microcode = 116;
	struct cvm_error err;
	assert_int_equal(cvm_fetch_vcek(f, &id, &it, &err), -ENOENT);
	cvm_fetcher_free(f);
	free(good);
}

/* A CRL "of" ARK-Milan valid [last, next), signed by a throw-away key (its signature is the
 * verifier's business, not the cache's). */
static void make_crl(const char *path, const char *issuer_cn, time_t last, time_t next)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509_CRL *crl = X509_CRL_new();
	X509_NAME *name = X509_NAME_new();
	assert_non_null(key);
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					       (const unsigned char *)issuer_cn, -1, -1, 0));
	ASN1_TIME *a = ASN1_TIME_set(NULL, last), *b = ASN1_TIME_set(NULL, next);
	assert_true(X509_CRL_set_version(crl, 1) && X509_CRL_set_issuer_name(crl, name) &&
		    X509_CRL_set1_lastUpdate(crl, a) && X509_CRL_set1_nextUpdate(crl, b) &&
		    X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	unsigned char *der = NULL;
	int n = i2d_X509_CRL(crl, &der);
	assert_true(n > 0);
	write_file(path, der, (size_t)n);
	OPENSSL_free(der);
	ASN1_TIME_free(a);
	ASN1_TIME_free(b);
	X509_NAME_free(name);
	X509_CRL_free(crl);
	EVP_PKEY_free(key);
}

static void amd_crl_is_not_served_past_next_update(void **state)
{
	struct world *w = *state;
	char crl[PATH_MAX + 64], serve[PATH_MAX + 128], serve_genoa[PATH_MAX + 128];
	scratch_file(w, "milan.crl", crl, sizeof(crl));
	time_t t0 = at("2025-06-01T00:00:00Z");
	make_crl(crl, "ARK-Milan", t0 - 86400, t0 + 7 * 86400);
	snprintf(serve, sizeof(serve), "/vcek/v1/Milan/crl=%s", crl);
	snprintf(serve_genoa, sizeof(serve_genoa), "/vcek/v1/Genoa/crl=%s", crl);
	const char *args[] = {"--serve", serve, "--serve", serve_genoa, NULL};
	world_start(w, args);
	w->cfg.has_time = true;
	w->cfg.time = t0;
	struct cvm_fetch_item *it = NULL;
	struct cvm_error err;
	struct cvm_fetcher *f = world_fetcher(w);
	assert_int_equal(cvm_fetch_amd_crl(f, CVM_AMD_MILAN, CVM_SNP_KEY_VCEK, &it, NULL), 0);
	assert_true(it->has_next_update);
	assert_int_equal(it->next_update, t0 + 7 * 86400);
	cvm_fetch_item_free(it);
	cvm_fetcher_free(f);
	assert_requests(&w->srv, "GET /vcek/v1/Milan/crl\n");
	/* Within its window: the cache. */
	f = world_fetcher(w);
	assert_int_equal(cvm_fetch_amd_crl(f, CVM_AMD_MILAN, CVM_SNP_KEY_VCEK, &it, NULL), 0);
	assert_int_equal(it->origin, CVM_FETCH_ORIGIN_CACHE);
	cvm_fetch_item_free(it);
	cvm_fetcher_free(f);
	assert_requests(&w->srv, "");
	/* Past it: offline refuses, online fetches again. */
	w->cfg.time = t0 + 8 * 86400;
	w->cfg.offline = true;
	f = world_fetcher(w);
	assert_int_equal(cvm_fetch_amd_crl(f, CVM_AMD_MILAN, CVM_SNP_KEY_VCEK, &it, &err), -ENOENT);
	assert_error_has(&err,
			 "amd/milan/vcek_crl.der expired at its nextUpdate 2025-06-08T00:00:00Z");
	cvm_fetcher_free(f);
	w->cfg.offline = false;
	f = world_fetcher(w);
	assert_int_equal(cvm_fetch_amd_crl(f, CVM_AMD_MILAN, CVM_SNP_KEY_VCEK, &it, NULL), 0);
	assert_int_equal(it->origin, CVM_FETCH_ORIGIN_NETWORK);
	cvm_fetch_item_free(it);
	cvm_fetcher_free(f);
	assert_requests(&w->srv, "GET /vcek/v1/Milan/crl\n");
	/* The Milan ARK's CRL is not the Genoa CRL. */
	f = world_fetcher(w);
	assert_int_equal(cvm_fetch_amd_crl(f, CVM_AMD_GENOA, CVM_SNP_KEY_VCEK, &it, &err),
			 -EBADMSG);
	assert_error_has(&err, "a CRL of \"ARK-Milan\", not of \"ARK-Genoa\"");
	cvm_fetcher_free(f);
}

/* ---- Intel PCS against the server ---------------------------------------------------------- */

struct tdx_items {
	struct cvm_fetch_item *tcb, *qe, *pck, *root;
};

static void tdx_fetch_all(struct cvm_fetcher *f, struct tdx_items *t)
{
	struct cvm_error err;
	if (cvm_fetch_tdx_tcb_info(f, fmspc6, &t->tcb, &err) ||
	    cvm_fetch_tdx_qe_identity(f, &t->qe, &err) ||
	    cvm_fetch_pck_crl(f, CVM_PCK_CA_PLATFORM, &t->pck, &err) ||
	    cvm_fetch_intel_root_crl(f, &t->root, &err))
		fail_msg("%s", err.msg);
}

static void tdx_free(struct tdx_items *t)
{
	cvm_fetch_item_free(t->tcb);
	cvm_fetch_item_free(t->qe);
	cvm_fetch_item_free(t->pck);
	cvm_fetch_item_free(t->root);
	memset(t, 0, sizeof(*t));
}

static void verify_quote6(struct cvm_fetch_item *const *items, size_t n,
			  const char *const *by_hand, struct cvm_verify_result *res)
{
	size_t len;
	uint8_t *raw = vector("confidential-containers-trustee/tdx/tdx_quote_6.dat", &len);
	struct cvm_tdx_quote q;
	assert_int_equal(cvm_tdx_quote_parse(raw, len, &q, NULL), 0);
	struct cvm_verifier *v;
	assert_int_equal(cvm_verifier_new(&v, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		const struct cvm_fetch_item *it = items[i];
		assert_true(cvm_verifier_add_collateral(v, it->data, it->len, it->source, NULL) > 0);
		if (it->issuer_chain)
			assert_true(cvm_verifier_add_collateral(v, (const uint8_t *)it->issuer_chain,
								it->issuer_chain_len, it->source,
								NULL) > 0);
	}
	for (; by_hand && *by_hand; by_hand++) {
		size_t blen;
		uint8_t *b = vector(*by_hand, &blen);
		assert_true(cvm_verifier_add_collateral(v, b, blen, *by_hand, NULL) > 0);
		free(b);
	}
	struct cvm_verify_options o = {.has_time = true, .time = at("2025-11-01T00:00:00Z")};
	assert_int_equal(cvm_verify_tdx(v, &q, &o, res, NULL), 0);
	cvm_verifier_free(v);
	free(raw);
}

static void tdx_collateral_with_issuer_chains(void **state)
{
	struct world *w = *state;
	world_start(w, NULL);
	/* Inside every item's window: the PCK CRL is the oldest (2023-06-08..07-08). */
	w->cfg.has_time = true;
	w->cfg.time = at("2023-06-10T00:00:00Z");
	struct tdx_items t = {0};
	struct cvm_fetcher *f = world_fetcher(w);
	tdx_fetch_all(f, &t);
	assert_requests(&w->srv, "GET " TCB_INFO_PATH "\nGET " QE_ID_PATH "\nGET " PCK_CRL_PATH
				"\nGET " ROOT_CRL_PATH "\n");
	assert_same_as_vector(t.tcb->data, t.tcb->len, TRUSTEE_TDX "tcbInfo.json");
	assert_same_as_vector((const uint8_t *)t.tcb->issuer_chain, t.tcb->issuer_chain_len,
			      "google-go-tdx-guest/tcbInfoIssuerChain.pem");
	assert_same_as_vector(t.qe->data, t.qe->len, TRUSTEE_TDX "enclaveIdentity.json");
	assert_same_as_vector((const uint8_t *)t.qe->issuer_chain, t.qe->issuer_chain_len,
			      "google-go-tdx-guest/qeIdentityIssuerChain.pem");
	assert_same_as_vector(t.pck->data, t.pck->len, "google-go-tdx-guest/pckcrl");
	assert_same_as_vector((const uint8_t *)t.pck->issuer_chain, t.pck->issuer_chain_len,
			      "google-go-tdx-guest/pckCrlIssuerChain.pem");
	assert_same_as_vector(t.root->data, t.root->len, "google-go-tdx-guest/rootcrl.der");
	assert_null(t.root->issuer_chain);
	assert_int_equal(t.tcb->next_update, at("2025-11-26T13:07:17Z"));
	char path[PATH_MAX + 300];
	cache_file(w, "intel/tdx_tcb_info_00a06d080000_issuer_chain.pem", path, sizeof(path));
	assert_true(exists(path));

	/* Fetched collateral verifies exactly as the same files given by hand. */
	struct cvm_fetch_item *items[] = {t.tcb, t.qe, t.pck, t.root};
	static const char *const by_hand[] = {TRUSTEE_TDX "tcbInfo.json",
					      TRUSTEE_TDX "enclaveIdentity.json",
					      "google-go-tdx-guest/tcbInfoIssuerChain.pem",
					      "google-go-tdx-guest/qeIdentityIssuerChain.pem",
					      "google-go-tdx-guest/pckcrl",
					      "google-go-tdx-guest/pckCrlIssuerChain.pem",
					      "google-go-tdx-guest/rootcrl.der", NULL};
	struct cvm_verify_result fetched, manual;
	verify_quote6(items, 4, NULL, &fetched);
	verify_quote6(NULL, 0, by_hand, &manual);
	assert_int_equal(fetched.nchecks, manual.nchecks);
	for (size_t i = 0; i < fetched.nchecks; i++) {
		assert_string_equal(fetched.checks[i].name, manual.checks[i].name);
		assert_int_equal(fetched.checks[i].status, manual.checks[i].status);
	}
	assert_non_null(cvm_verify_result_find(&fetched, "collateral-signer"));
	tdx_free(&t);
	cvm_fetcher_free(f);

	/* Second run in the window: no request. */
	f = world_fetcher(w);
	tdx_fetch_all(f, &t);
	assert_int_equal(cvm_fetcher_requests(f), 0);
	assert_requests(&w->srv, "");
	assert_int_equal(t.tcb->origin, CVM_FETCH_ORIGIN_CACHE);
	assert_same_as_vector((const uint8_t *)t.tcb->issuer_chain, t.tcb->issuer_chain_len,
			      "google-go-tdx-guest/tcbInfoIssuerChain.pem");
	tdx_free(&t);
	cvm_fetcher_free(f);

	/* Past the TCB info's nextUpdate: offline says so, online fetches everything again. */
	w->cfg.time = at("2025-12-01T00:00:00Z");
	w->cfg.offline = true;
	f = world_fetcher(w);
	struct cvm_error err;
	struct cvm_fetch_item *it = NULL;
	assert_int_equal(cvm_fetch_tdx_tcb_info(f, fmspc6, &it, &err), -ENOENT);
	assert_error_has(&err, "tdx_tcb_info_00a06d080000.json expired at its nextUpdate "
			       "2025-11-26T13:07:17Z");
	assert_error_has(&err, TCB_INFO_PATH);
	cvm_fetcher_free(f);
	w->cfg.offline = false;
	f = world_fetcher(w);
	tdx_fetch_all(f, &t);
	assert_requests(&w->srv, "GET " TCB_INFO_PATH "\nGET " QE_ID_PATH "\nGET " PCK_CRL_PATH
				"\nGET " ROOT_CRL_PATH "\n");
	assert_int_equal(t.tcb->origin, CVM_FETCH_ORIGIN_NETWORK);
	tdx_free(&t);
	cvm_fetcher_free(f);

	/* The root CRL from Intel's own host unless a PCS/PCCS is configured, or named. */
	w->cfg.intel_root_crl_url = "http://127.0.0.1:9/IntelSGXRootCA.der";
	w->cfg.offline = true;
	f = world_fetcher(w);
	assert_int_equal(cvm_fetch_intel_root_crl(f, &it, &err), -ENOENT);
	assert_error_has(&err, "http://127.0.0.1:9/IntelSGXRootCA.der");
	cvm_fetcher_free(f);
}

static void tdx_item_without_its_issuer_chain_is_refused(void **state)
{
	struct world *w = *state;
	char file[PATH_MAX + 64], serve[PATH_MAX + 128];
	/* The QE identity served at a path the server attaches no header to. */
	size_t len;
	uint8_t *qe = vector("confidential-containers-trustee/tdx/enclaveIdentity.json", &len);
	scratch_file(w, "qe.json", file, sizeof(file));
	write_file(file, qe, len);
	free(qe);
	snprintf(serve, sizeof(serve), "/x/tdx/certification/v4/qe/identity=%s", file);
	const char *args[] = {"--serve", serve, NULL};
	world_start(w, args);
	char base[96];
	snprintf(base, sizeof(base), "%s/x", w->base);
	w->cfg.pcs_url = base;
	struct cvm_fetch_item *it = NULL;
	struct cvm_error err;
	struct cvm_fetcher *f = world_fetcher(w);
	assert_int_equal(cvm_fetch_tdx_qe_identity(f, &it, &err), -EBADMSG);
	assert_error_has(&err, "without the SGX-Enclave-Identity-Issuer-Chain header");
	cvm_fetcher_free(f);

	/* A TCB info filed under another FMSPC is refused. */
	w->cfg.pcs_url = w->base;
	w->cfg.has_time = true;
	w->cfg.time = at("2025-11-01T00:00:00Z");
	f = world_fetcher(w);
	assert_int_equal(cvm_fetch_tdx_tcb_info(f, fmspc6, &it, NULL), 0);
	cvm_fetch_item_free(it);
	cvm_fetcher_free(f);
	static const char *const names[][2] = {
		{"intel/tdx_tcb_info_00a06d080000.json", "intel/tdx_tcb_info_50806f000000.json"},
		{"intel/tdx_tcb_info_00a06d080000_issuer_chain.pem",
		 "intel/tdx_tcb_info_50806f000000_issuer_chain.pem"},
	};
	for (size_t i = 0; i < 2; i++) {
		char from[PATH_MAX + 300], to[PATH_MAX + 300];
		cache_file(w, names[i][0], from, sizeof(from));
		cache_file(w, names[i][1], to, sizeof(to));
		uint8_t *d = slurp(from, &len);
		assert_non_null(d);
		write_file(to, d, len);
		free(d);
	}
	static const uint8_t other[6] = {0x50, 0x80, 0x6f, 0, 0, 0};
	w->cfg.offline = true;
	f = world_fetcher(w);
	assert_int_equal(cvm_fetch_tdx_tcb_info(f, other, &it, &err), -ENOENT);
	assert_error_has(&err, "refused: TCB info for FMSPC 00A06D080000, not 50806f000000");
	cvm_fetcher_free(f);
}

/* ---- the air-gap bundle -------------------------------------------------------------------- */

static int run_cli(const char *const *argv)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, STDOUT_FILENO);
		exec_child(argv[0], argv);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void export_writes_a_bundle_verify_reads(void **state)
{
	struct world *w = *state;
	world_start(w, NULL);
	w->cfg.has_time = true;
	w->cfg.time = at("2025-11-01T00:00:00Z");
	struct cvm_kds_vcek_id id;
	milan_id(&id, CVM_AMD_UNKNOWN);
	struct cvm_fetch_item *vcek = NULL, *chain = NULL;
	struct tdx_items t = {0};
	struct cvm_fetcher *f = world_fetcher(w);
	assert_int_equal(cvm_fetch_vcek(f, &id, &vcek, NULL), 0);
	assert_int_equal(cvm_fetch_amd_chain(f, CVM_AMD_MILAN, CVM_SNP_KEY_VCEK, &chain, NULL), 0);
	tdx_fetch_all(f, &t);
	struct cvm_fetch_item *items[] = {vcek, chain, t.tcb, t.qe, t.pck, t.root};
	char bundle[PATH_MAX + 16], path[PATH_MAX + 300];
	snprintf(bundle, sizeof(bundle), "%s/bundle", w->srv.dir);
	assert_int_equal(cvm_fetch_export(bundle, items, CVM_ARRAY_SIZE(items), NULL), 0);
	static const char *const files[] = {
		"certs/vcek_" MILAN_CHIP "_bl03_tee00_snp08_ucode115.der",
		"certs/milan_vcek_cert_chain.pem",
		"collateral/tdx_tcb_info_00a06d080000.json",
		"collateral/tdx_tcb_info_00a06d080000_issuer_chain.pem",
		"collateral/tdx_qe_identity.json",
		"collateral/tdx_qe_identity_issuer_chain.pem",
		"collateral/pck_crl_platform.der",
		"collateral/pck_crl_platform_issuer_chain.pem",
		"collateral/root_ca_crl.der",
		"sources.txt",
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", bundle, files[i]);
		if (!exists(path))
			fail_msg("%s is missing", path);
	}
	size_t len;
	snprintf(path, sizeof(path), "%s/sources.txt", bundle);
	char *sources = (char *)slurp(path, &len);
	assert_non_null(strstr(sources, "certs/milan_vcek_cert_chain.pem\thttp://127.0.0.1:"));
	assert_non_null(strstr(sources, "/vcek/v1/Milan/cert_chain\tnetwork\n"));
	free(sources);

	/* What `cvmkit verify` makes of it, when the CLI is built. */
	const char *cli = getenv("CVMKIT");
	if (cli && access(cli, X_OK) == 0) {
		char report[PATH_MAX], quote[PATH_MAX], certs[PATH_MAX + 32],
			collateral[PATH_MAX + 32];
		snprintf(report, sizeof(report), "%s/vectors/attest/virtee-sev/report_milan.bin",
			 cvm_test_shared_dir());
		snprintf(quote, sizeof(quote),
			 "%s/vectors/attest/confidential-containers-trustee/tdx/tdx_quote_6.dat",
			 cvm_test_shared_dir());
		snprintf(certs, sizeof(certs), "%s/certs", bundle);
		snprintf(collateral, sizeof(collateral), "%s/collateral", bundle);
		const char *snp[] = {cli, "verify", report, "--certs", certs, "--at",
				     "2025-06-01T00:00:00Z", NULL};
		assert_int_equal(run_cli(snp), 0);
		const char *tdx[] = {cli, "verify", quote, "--collateral", collateral, "--at",
				     "2025-11-01T00:00:00Z", "--json", NULL};
		int rc = run_cli(tdx);
		assert_true(rc == 0 || rc == 1); /* ran: the verdict is the collateral's own */
	}
	cvm_fetch_item_free(vcek);
	cvm_fetch_item_free(chain);
	tdx_free(&t);
	cvm_fetcher_free(f);
	}

/* ---- what a piece of evidence needs ----------------------------------------------------------- */

static struct cvm_fetch_evidence *needs(struct cvm_fetcher *f, const uint8_t *data, size_t len,
					const struct cvm_fetch_evidence_options *o)
{
	struct cvm_fetch_evidence *fe = NULL;
	struct cvm_error err;
	cvm_error_clear(&err);
	if (cvm_fetch_for_evidence(f, data, len, o, &fe, &err) != 0)
		fail_msg("%s", err.msg);
	return fe;
}

static void evidence_needs_its_vcek_and_chain(void **state)
{
	struct world *w = *state;
	world_start(w, NULL);
	size_t len;
	uint8_t *report = vector("virtee-sev/report_milan.bin", &len);
	struct cvm_fetcher *f = world_fetcher(w);
	struct cvm_fetch_evidence_options o = {.amd_crl = true};
	struct cvm_fetch_evidence *fe = needs(f, report, len, &o);
	assert_int_equal(fe->kind, CVM_EVIDENCE_SNP_REPORT);
	assert_int_equal(fe->n, 3);
	assert_int_equal(fe->needed[0].kind, CVM_FETCH_VCEK);
	assert_non_null(fe->needed[0].item);
	assert_int_equal(fe->needed[1].kind, CVM_FETCH_AMD_CHAIN);
	assert_non_null(fe->needed[1].item);
	assert_int_equal(fe->needed[1].item->product, CVM_AMD_MILAN);
	/* No CRL on this server: that item says why, the others stand. */
	assert_int_equal(fe->needed[2].kind, CVM_FETCH_AMD_CRL);
	assert_null(fe->needed[2].item);
	assert_int_equal(fe->needed[2].error.code, -ENOENT);
	assert_error_has(&fe->needed[2].error, "/vcek/v1/Milan/crl: HTTP 404");
	cvm_fetch_evidence_free(fe);
	assert_requests(&w->srv, "GET " MILAN_VCEK_PATH "\nGET /vcek/v1/Milan/cert_chain\n"
				 "GET /vcek/v1/Milan/crl\n");

	/* The same report inside a tsm-report: the same needs, now from the cache. */
	struct cvm_tsm_blobs b = {.provider = "sev_guest", .outblob = report, .outblob_len = len};
	uint8_t *json;
	size_t jlen;
	assert_int_equal(cvm_evidence_tsm_json(&b, &json, &jlen, NULL), 0);
	o.amd_crl = false;
	fe = needs(f, json, jlen, &o);
	assert_int_equal(fe->n, 2);
	assert_int_equal(fe->needed[0].item->origin, CVM_FETCH_ORIGIN_CACHE);
	cvm_fetch_evidence_free(fe);
	assert_requests(&w->srv, "");
	free(json);

	/* A VCEK the evidence carries is not fetched with skip_carried. */
	size_t vlen;
	uint8_t *vcek = vector("virtee-sev/vcek_milan.der", &vlen);
	uint8_t *withcert = calloc(1, len + 48 + vlen);
	memcpy(withcert, report, len);
	static const uint8_t vcek_guid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
					      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
	memcpy(withcert + len, vcek_guid, 16);
	cvm_put_le32(withcert + len + 16, 48);
	cvm_put_le32(withcert + len + 20, (uint32_t)vlen);
	memcpy(withcert + len + 48, vcek, vlen);
	o.skip_carried = true;
	fe = needs(f, withcert, len + 48 + vlen, &o);
	assert_int_equal(fe->n, 1);
	assert_int_equal(fe->needed[0].kind, CVM_FETCH_AMD_CHAIN);
	assert_int_equal(fe->needed[0].error.code, -EINVAL); /* v2, and no VCEK fetched to say */
	assert_error_has(&fe->needed[0].error, "give --product");
	cvm_fetch_evidence_free(fe);
	o.product = CVM_AMD_MILAN;
	fe = needs(f, withcert, len + 48 + vlen, &o);
	assert_non_null(fe->needed[0].item);
	cvm_fetch_evidence_free(fe);
	free(withcert);
	free(vcek);
	free(report);
	cvm_fetcher_free(f);
}

static void vlek_reports_need_what_only_the_evidence_has(void **state)
{
	struct world *w = *state;
	world_start(w, NULL);
	size_t len;
	uint8_t *report = vector("confidential-containers-trustee/snp/test-vlek-report.bin", &len);
	struct cvm_fetcher *f = world_fetcher(w);
	struct cvm_fetch_evidence *fe = needs(f, report, len, NULL);
	assert_int_equal(fe->n, 2);
	assert_null(fe->needed[0].item);
	assert_error_has(&fe->needed[0].error, "signed by a VLEK");
	assert_non_null(fe->needed[1].item); /* the ASVK chain */
	assert_int_equal(fe->needed[1].item->kind, CVM_FETCH_AMD_CHAIN);
	cvm_fetch_evidence_free(fe);
	assert_requests(&w->srv, "GET /vlek/v1/Milan/cert_chain\n");
	free(report);
	cvm_fetcher_free(f);
}

static void tdx_evidence_needs_its_collateral(void **state)
{
	struct world *w = *state;
	world_start(w, NULL);
	size_t len;
	uint8_t *quote = vector(TRUSTEE_TDX "tdx_quote_6.dat", &len);
	uint8_t *json;
	size_t jlen;
	assert_int_equal(cvm_evidence_trustee_tdx_json(quote, len, NULL, 0, &json, &jlen, NULL), 0);
	struct cvm_fetcher *f = world_fetcher(w);
	struct cvm_fetch_evidence *fe = needs(f, json, jlen, NULL);
	assert_int_equal(fe->kind, CVM_EVIDENCE_TDX_QUOTE);
	assert_int_equal(fe->n, 4);
	static const enum cvm_fetch_kind kinds[] = {CVM_FETCH_TCB_INFO, CVM_FETCH_QE_IDENTITY,
						   CVM_FETCH_PCK_CRL, CVM_FETCH_ROOT_CRL};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(fe->needed[i].kind, kinds[i]);
		assert_non_null(fe->needed[i].item);
	}
	cvm_fetch_evidence_free(fe);
	assert_requests(&w->srv, "GET " TCB_INFO_PATH "\nGET " QE_ID_PATH "\nGET " PCK_CRL_PATH
				 "\nGET " ROOT_CRL_PATH "\n");
	/* A TD report alone (Azure's HCL report) names no collateral: refused. */
	size_t hlen;
	uint8_t *hcl = vector("confidential-containers-trustee/az-tdx-vtpm/hcl-report.bin", &hlen);
	struct cvm_error err;
	assert_int_equal(cvm_fetch_for_evidence(f, hcl, hlen, NULL, &fe, &err), -EINVAL);
	assert_error_has(&err, "azure-hcl evidence without an SNP report or a TDX quote");
	assert_int_equal(cvm_fetch_for_evidence(f, (const uint8_t *)"{}", 2, NULL, &fe, &err),
			 -EINVAL);
	free(hcl);
	free(json);
	free(quote);
	cvm_fetcher_free(f);
}

/* Issue 17: threads sharing one remembering fetcher, each asking for the same items. */
struct sharer {
	struct cvm_fetcher *f;
	const struct cvm_kds_vcek_id *id;
	int vcek_rc, missing_rc;
	enum cvm_fetch_origin origin;
	char source[PATH_MAX + 300];
	char missing_msg[CVM_ERROR_MSG_MAX];
};

static void *share_fetches(void *arg)
{
	struct sharer *s = arg;
	struct cvm_fetch_item *it = NULL;
	struct cvm_error err;
	s->vcek_rc = cvm_fetch_vcek(s->f, s->id, &it, &err);
	if (it) {
		s->origin = it->origin;
		snprintf(s->source, sizeof(s->source), "%s", it->source);
	}
	cvm_fetch_item_free(it);
	it = NULL;
	s->missing_rc = cvm_fetch_pck_crl(s->f, CVM_PCK_CA_PROCESSOR, &it, &err);
	snprintf(s->missing_msg, sizeof(s->missing_msg), "%s", err.msg);
	cvm_fetch_item_free(it);
	return NULL;
}

static void a_remembering_fetcher_gets_each_url_once_for_every_thread(void **state)
{
	struct world *w = *state;
	world_start(w, NULL);
	w->cfg.remember = true;
	struct cvm_kds_vcek_id id;
	milan_id(&id, CVM_AMD_MILAN);
	struct cvm_fetcher *f = world_fetcher(w);
	enum { N = 4 };
	static struct sharer s[N];
	pthread_t t[N];
	for (int i = 0; i < N; i++) {
		s[i] = (struct sharer){.f = f, .id = &id};
		assert_int_equal(pthread_create(&t[i], NULL, share_fetches, &s[i]), 0);
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	/* One request per URL, the 404 included; every thread got the same answers. */
	assert_requests(&w->srv, "GET " MILAN_VCEK_PATH "\n"
				 "GET /sgx/certification/v4/pckcrl?ca=processor&encoding=der\n");
	assert_int_equal(cvm_fetcher_requests(f), 2);
	for (int i = 0; i < N; i++) {
		assert_int_equal(s[i].vcek_rc, 0);
		assert_int_equal(s[i].origin, CVM_FETCH_ORIGIN_NETWORK);
		assert_string_equal(s[i].source, s[0].source);
		assert_int_equal(s[i].missing_rc, -ENOENT);
		assert_string_equal(s[i].missing_msg, s[0].missing_msg);
	}
	assert_non_null(strstr(s[0].missing_msg, "HTTP 404"));
	cvm_fetcher_free(f);

	/* Without remember, a new fetcher reads the stored VCEK and asks again for the CRL. */
	w->cfg.remember = false;
	f = world_fetcher(w);
	s[0].f = s[1].f = f;
	share_fetches(&s[0]);
	share_fetches(&s[1]);
	assert_int_equal(s[0].origin, CVM_FETCH_ORIGIN_CACHE);
	assert_int_equal(s[1].origin, CVM_FETCH_ORIGIN_CACHE);
	assert_int_equal(cvm_fetcher_requests(f), 2);
	cvm_fetcher_free(f);
}

int main(void)
{
	/* The server is on the loopback: never through a proxy. */
	setenv("NO_PROXY", "127.0.0.1", 1);
	setenv("no_proxy", "127.0.0.1", 1);
#define WORLD_TEST(t) cmocka_unit_test_setup_teardown(t, world_setup, world_teardown)
	const struct CMUnitTest tests[] = {
		WORLD_TEST(kds_urls_and_store_paths),
		WORLD_TEST(reports_without_a_vcek_url_say_why),
		WORLD_TEST(header_and_retry_after_readers),
		WORLD_TEST(default_cache_dir_follows_xdg),
		WORLD_TEST(snp_fetch_then_cache_then_offline),
		WORLD_TEST(offline_says_what_is_missing),
		WORLD_TEST(offline_uses_the_cache_only),
		WORLD_TEST(turin_vcek_uses_the_short_hwid_and_fmc),
		WORLD_TEST(retry_after_is_honoured),
		WORLD_TEST(retry_after_beyond_the_budget_fails_at_once),
		WORLD_TEST(retry_sleeps_for_real_without_a_seam),
		WORLD_TEST(not_found_is_never_data),
		WORLD_TEST(a_200_that_is_not_the_item_is_refused),
		WORLD_TEST(body_size_is_capped),
		WORLD_TEST(corrupt_cache_file_is_refused_and_refetched),
		WORLD_TEST(trustee_flat_vcek_is_read),
		WORLD_TEST(amd_crl_is_not_served_past_next_update),
		WORLD_TEST(tdx_collateral_with_issuer_chains),
		WORLD_TEST(tdx_item_without_its_issuer_chain_is_refused),
		WORLD_TEST(export_writes_a_bundle_verify_reads),
		WORLD_TEST(evidence_needs_its_vcek_and_chain),
		WORLD_TEST(vlek_reports_need_what_only_the_evidence_has),
		WORLD_TEST(tdx_evidence_needs_its_collateral),
		WORLD_TEST(a_remembering_fetcher_gets_each_url_once_for_every_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
