/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Certificates for SNP guests (include/cvmkit/kvm.h "SNP certificates for guests"): where they
 * come from (the endorsement cache or the policy's files), the locking
 * amd-memory-encryption.rst asks of a VMM serving KVM_EXIT_SNP_REQ_CERTS, and the answer to the
 * exit.  The files are trusted by the host's operator, but are read bounded
 * (CVM_GHCB_CERT_MAX) and the table is built by cvm_ghcb_cert_table_build (fuzzed).
 */
#include <cvmkit/evidence.h>
#include <cvmkit/fetch.h>
#include <cvmkit/kvm.h>
#include <cvmkit/util.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher/kvm_uapi.h"

#define MAX_FILES 3u    /* key, intermediate, ARK (the cache's chain file holds the last two) */
#define LOCK_TRIES 3u   /* the path was replaced between open and lock: open it again */
#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"

/* One table entry: a file, whole or its nth PEM certificate (pem_block >= 0). */
struct cert_src {
	enum cvm_ghcb_cert_kind kind;
	unsigned file; /* index into paths */
	int pem_block;
};

struct cvm_snp_certs {
	char *paths[MAX_FILES];
	unsigned npaths;
	struct cert_src src[MAX_FILES];
	unsigned nsrc;
	char source[320];
	/* while locked */
	int fds[MAX_FILES];
	bool locked;
	uint8_t *bytes[MAX_FILES];
	size_t lens[MAX_FILES];
	uint8_t *der[MAX_FILES]; /* a PEM source's certificate, re-encoded */
	uint8_t *table;
	size_t table_len;
};

/* ---- the host's identity (/dev/sev) ----------------------------------------------------------- */

static int sev_issue(const struct cvm_kvm_seam *s, int sev_fd, uint32_t cmd, void *data,
		     const char *what, struct cvm_error *err)
{
	struct cvm_sev_issue_cmd c;
	memset(&c, 0, sizeof(c));
	c.cmd = cmd;
	c.data = (uint64_t)(uintptr_t)data;
	int rc = cvm_kvm_ioctl(s, sev_fd, CVM_SEV_ISSUE_CMD, (unsigned long)&c);
	if (rc < 0) {
		cvm_error_set(err, rc, "/dev/sev %s: %s", what, cvm_errno_name(rc));
		if (c.error)
			cvm_error_set_fw(err, c.error);
	}
	return rc < 0 ? rc : 0;
}

int cvm_snp_host_id_read(const struct cvm_kvm_seam *s, int sev_fd, struct cvm_snp_host_id *out,
			 struct cvm_error *err)
{
	uint8_t status[CVM_SNP_STATUS_SIZE], id2[CVM_SEV_GET_ID2_SIZE];
	struct cvm_snp_host_id h;
	memset(status, 0, sizeof(status));
	memset(&h, 0, sizeof(h));
	int rc = sev_issue(s, sev_fd, CVM_SNP_PLATFORM_STATUS, status, "SNP_PLATFORM_STATUS", err);
	if (rc)
		return rc;
	cvm_put_le64(id2, (uint64_t)(uintptr_t)h.chip_id);
	cvm_put_le32(id2 + 8, CVM_SEV_CHIP_ID_SIZE);
	if ((rc = sev_issue(s, sev_fd, CVM_SEV_GET_ID2, id2, "SEV_GET_ID2", err)))
		return rc;
	h.reported_tcb = cvm_le64(status + CVM_SNP_STATUS_REPORTED_TCB);
	h.vlek_loaded = (cvm_le32(status + CVM_SNP_STATUS_FLAGS) & CVM_SNP_STATUS_VLEK_EN) != 0;
	*out = h;
	return 0;
}

/* ---- sources ---------------------------------------------------------------------------------- */

static int add_path(struct cvm_snp_certs *c, const char *path, struct cvm_error *err)
{
	if (!(c->paths[c->npaths] = strdup(path)))
		return cvm_error_set(err, -ENOMEM, "out of memory");
	c->npaths++;
	return 0;
}

static void add_src(struct cvm_snp_certs *c, enum cvm_ghcb_cert_kind kind, unsigned file,
		    int pem_block)
{
	c->src[c->nsrc++] = (struct cert_src){kind, file, pem_block};
}

static bool readable(const char *path)
{
	return access(path, R_OK) == 0;
}

/*
 * The cache's VCEK of this chip at its reported TCB and the product's chain: the product line
 * is the one whose file exists (the TCB layout and the hwID length depend on it).  1 when
 * found, 0 when not (why says what is missing), -ENOMEM.
 */
static int from_cache(struct cvm_snp_certs *c, const struct cvm_snp_host_id *host,
		      const char *dir, char *why, size_t n, struct cvm_error *err)
{
	static const enum cvm_amd_product lines[] = {CVM_AMD_MILAN, CVM_AMD_GENOA, CVM_AMD_TURIN};
	if (host->vlek_loaded) {
		snprintf(why, n, "the firmware signs with a VLEK, which the cache never holds");
		return 0;
	}
	snprintf(why, n, "it has no VCEK of this chip at the reported TCB 0x%016llx",
		 (unsigned long long)host->reported_tcb);
	for (size_t i = 0; i < CVM_ARRAY_SIZE(lines); i++) {
		struct cvm_kds_vcek_id id = {.product = lines[i]};
		memcpy(id.chip_id, host->chip_id, sizeof(id.chip_id));
		cvm_snp_tcb_decode(host->reported_tcb, lines[i], &id.tcb);
		char *rel = NULL, chain_rel[96];
		if (cvm_kds_vcek_store_path(&id, &rel, NULL))
			continue;
		snprintf(chain_rel, sizeof(chain_rel), "amd/%s/vcek_cert_chain.pem",
			 cvm_amd_product_name(lines[i]));
		char *vcek = cvm_path_join(dir, rel), *chain = cvm_path_join(dir, chain_rel);
		free(rel);
		int rc = 0;
		if (!vcek || !chain) {
			rc = cvm_error_set(err, -ENOMEM, "out of memory");
		} else if (readable(vcek) && !readable(chain)) {
			snprintf(why, n, "it has the VCEK but not %s", chain_rel);
		} else if (readable(vcek)) {
			rc = add_path(c, vcek, err);
			if (!rc)
				rc = add_path(c, chain, err);
			if (!rc) {
				add_src(c, CVM_GHCB_CERT_VCEK, 0, -1);
				add_src(c, CVM_GHCB_CERT_ASK, 1, 0);
				add_src(c, CVM_GHCB_CERT_ARK, 1, 1);
				snprintf(c->source, sizeof(c->source), "endorsement cache %s", dir);
				rc = 1;
			}
		}
		free(vcek);
		free(chain);
		if (rc)
			return rc;
	}
	return 0;
}

static int from_files(struct cvm_snp_certs *c, const struct cvm_policy_snp_certs *cfg,
		      struct cvm_error *err)
{
	const char *const files[] = {cfg->key_path, cfg->intermediate_path, cfg->ark_path};
	const enum cvm_ghcb_cert_kind kinds[] = {
		cfg->vlek ? CVM_GHCB_CERT_VLEK : CVM_GHCB_CERT_VCEK, CVM_GHCB_CERT_ASK,
		CVM_GHCB_CERT_ARK};
	for (unsigned i = 0; i < MAX_FILES; i++) {
		int rc = add_path(c, files[i], err);
		if (rc)
			return rc;
		add_src(c, kinds[i], i, -1);
	}
	snprintf(c->source, sizeof(c->source), "policy files");
	return 0;
}

static int resolve(struct cvm_snp_certs *c, const struct cvm_policy_snp_certs *cfg,
		   const struct cvm_snp_host_id *host, const char *cache_dir, struct cvm_error *err)
{
	char why[200] = "the policy does not use it (cache: false)";
	bool files = cfg->key_path && cfg->intermediate_path && cfg->ark_path;
	if (cfg->cache) {
		char *dflt = NULL;
		if (!cache_dir && cvm_fetch_default_cache_dir(&dflt, NULL) == 0)
			cache_dir = dflt;
		int rc = 0;
		if (!cache_dir)
			snprintf(why, sizeof(why), "there is none (neither XDG_CACHE_HOME nor HOME)");
		else if (!host)
			snprintf(why, sizeof(why), "this host's chip ID and TCB are unknown");
		else
			rc = from_cache(c, host, cache_dir, why, sizeof(why), err);
		free(dflt);
		if (rc)
			return rc < 0 ? rc : 0;
	}
	if (files)
		return from_files(c, cfg, err);
	return cvm_error_set(err, -ENOENT,
			     "no certificates to serve the guest: the endorsement cache cannot "
			     "serve them (%s; `cvmkit fetch` of one of this host's reports fills "
			     "it) and the policy names no files (snp.certificates)",
			     why);
}

void cvm_snp_certs_free(struct cvm_snp_certs *c)
{
	if (!c)
		return;
	cvm_snp_certs_unlock(c);
	for (unsigned i = 0; i < c->npaths; i++)
		free(c->paths[i]);
	free(c);
}

int cvm_snp_certs_open(const struct cvm_policy_snp_certs *cfg, const struct cvm_snp_host_id *host,
		       const char *cache_dir, struct cvm_snp_certs **out, struct cvm_error *err)
{
	struct cvm_snp_certs *c = calloc(1, sizeof(*c));
	if (!c)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < MAX_FILES; i++)
		c->fds[i] = -1;
	int rc = resolve(c, cfg, host, cache_dir, err);
	if (!rc) {
		const uint8_t *table;
		size_t len;
		rc = cvm_snp_certs_lock_table(c, &table, &len, err);
		cvm_snp_certs_unlock(c);
		if (rc == -EAGAIN)
			rc = 0; /* an update holds a file now: the guest's request will wait for it */
		else if (rc)
			cvm_error_wrap(err, "certificates from %s", c->source);
	}
	if (rc) {
		cvm_snp_certs_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

const char *cvm_snp_certs_source(const struct cvm_snp_certs *c)
{
	return c->source;
}

bool cvm_snp_certs_locked(const struct cvm_snp_certs *c)
{
	return c && c->locked;
}

/* ---- locking and the table -------------------------------------------------------------------- */

/*
 * Open path and take a shared OFD lock on all of it without waiting; the lock must be on the
 * file the path names once it is held (an update may rename a new file over it first).  The fd,
 * or -EAGAIN while an update holds it, or another -errno.
 */
static int open_locked(const char *path, struct cvm_error *err)
{
	for (unsigned t = 0; t < LOCK_TRIES; t++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			int e = -errno;
			return cvm_error_set(err, e, "open %s: %s", path, cvm_errno_name(e));
		}
		struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
		if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
			int e = errno;
			close(fd);
			if (e == EAGAIN || e == EACCES)
				return -EAGAIN;
			return cvm_error_set(err, -e, "lock %s: %s", path, cvm_errno_name(-e));
		}
		struct stat held, named;
		if (fstat(fd, &held) == 0 && stat(path, &named) == 0 && held.st_dev == named.st_dev &&
		    held.st_ino == named.st_ino)
			return fd;
		close(fd);
	}
	return -EAGAIN;
}

static int read_locked(int fd, const char *path, uint8_t **out, size_t *len,
		       struct cvm_error *err)
{
	size_t cap = (size_t)CVM_GHCB_CERT_MAX + 1, n = 0;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	for (;;) {
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = -errno;
			free(buf);
			return cvm_error_set(err, e, "read %s: %s", path, cvm_errno_name(e));
		}
		if (k == 0 || (n += (size_t)k) == cap)
			break;
	}
	if (n == 0 || n > CVM_GHCB_CERT_MAX) {
		free(buf);
		return cvm_error_set(err, -EINVAL, "%s: %zu%s bytes, a certificate has 1..%u", path,
				     n, n > CVM_GHCB_CERT_MAX ? " or more" : "", CVM_GHCB_CERT_MAX);
	}
	*out = buf;
	*len = n;
	return 0;
}

/*
 * The DER certificate of one source: guests parse the table's entries as DER (go-sev-guest,
 * snpguest).  PEM data gives its nth certificate (nth < 0: the first), re-encoded into *der
 * (the caller frees it with OPENSSL_free); DER data is served as it is once it parses as
 * exactly one certificate (nth < 0 only).  -EINVAL when there is no such certificate.
 */
static int source_der(const uint8_t *d, size_t n, int nth, uint8_t **der, const uint8_t **out,
		      size_t *out_len)
{
	if (n > INT_MAX)
		return -EINVAL;
	X509 *x = NULL;
	if (memmem(d, n, PEM_BEGIN, strlen(PEM_BEGIN))) {
		BIO *bio = BIO_new_mem_buf(d, (int)n);
		for (int i = 0; bio && i <= (nth < 0 ? 0 : nth); i++) {
			X509_free(x);
			if (!(x = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
				break;
		}
		BIO_free(bio);
		int k;
		*der = NULL;
		if (!x || (k = i2d_X509(x, der)) <= 0) {
			X509_free(x);
			ERR_clear_error();
			return -EINVAL;
		}
		X509_free(x);
		*out = *der;
		*out_len = (size_t)k;
		return 0;
	}
	const uint8_t *p = d;
	x = nth < 0 ? d2i_X509(NULL, &p, (long)n) : NULL;
	bool whole = x && p == d + n;
	X509_free(x);
	ERR_clear_error();
	if (!whole)
		return -EINVAL;
	*out = d;
	*out_len = n;
	return 0;
}

static int build_table(struct cvm_snp_certs *c, struct cvm_error *err)
{
	struct cvm_ghcb_cert certs[MAX_FILES];
	for (unsigned i = 0; i < c->nsrc; i++) {
		const struct cert_src *s = &c->src[i];
		const uint8_t *der;
		size_t der_len;
		if (source_der(c->bytes[s->file], c->lens[s->file], s->pem_block, &c->der[i], &der,
			       &der_len)) {
			if (s->pem_block >= 0)
				return cvm_error_set(err, -EINVAL, "%s: no PEM certificate %d (the %s)",
						     c->paths[s->file], s->pem_block + 1,
						     cvm_ghcb_cert_kind_name(s->kind));
			return cvm_error_set(err, -EINVAL,
					     "%s: the %s is not an X.509 certificate in DER or PEM",
					     c->paths[s->file], cvm_ghcb_cert_kind_name(s->kind));
		}
		certs[i] = (struct cvm_ghcb_cert){s->kind, der, der_len};
	}
	size_t need = 0;
	int rc = cvm_ghcb_cert_table_build(certs, c->nsrc, NULL, 0, &need, err);
	if (rc != -ENOSPC)
		return rc ? rc : cvm_error_set(err, -EINVAL, "empty certificate table");
	if (!(c->table = malloc(need)))
		return cvm_error_set(err, -ENOMEM, "out of memory");
	c->table_len = need;
	return cvm_ghcb_cert_table_build(certs, c->nsrc, c->table, need, &need, err);
}

void cvm_snp_certs_unlock(struct cvm_snp_certs *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < MAX_FILES; i++) {
		if (c->fds[i] >= 0)
			close(c->fds[i]); /* closing the open file description drops its OFD lock */
		c->fds[i] = -1;
		free(c->bytes[i]);
		c->bytes[i] = NULL;
		c->lens[i] = 0;
		OPENSSL_free(c->der[i]);
		c->der[i] = NULL;
	}
	free(c->table);
	c->table = NULL;
	c->table_len = 0;
	c->locked = false;
}

int cvm_snp_certs_lock_table(struct cvm_snp_certs *c, const uint8_t **table, size_t *len,
			     struct cvm_error *err)
{
	cvm_snp_certs_unlock(c);
	int rc = 0;
	/* The files in one order (key, intermediate, ARK); a busy one releases all. */
	for (unsigned i = 0; i < c->npaths && !rc; i++) {
		int fd = open_locked(c->paths[i], err);
		if (fd < 0)
			rc = fd;
		else
			c->fds[i] = fd;
		if (!rc)
			rc = read_locked(fd, c->paths[i], &c->bytes[i], &c->lens[i], err);
	}
	if (!rc)
		rc = build_table(c, err);
	if (rc) {
		cvm_snp_certs_unlock(c);
		return rc;
	}
	c->locked = true;
	*table = c->table;
	*len = c->table_len;
	return 0;
}

/* ---- the exit --------------------------------------------------------------------------------- */

/* The host mapping of guest memory [gpa, gpa + len) (the shared view), or NULL. */
static uint8_t *guest_bytes(const struct cvm_kvm_vm *vm, uint64_t gpa, uint64_t len)
{
	const struct cvm_kvm_region *r = cvm_kvm_vm_find_region(vm, gpa, len);
	if (!r)
		return NULL;
	uint8_t *base = r->shared ? r->shared : r->gmem_map;
	return base ? base + (gpa - r->gpa) : NULL;
}

static void certs_failed(struct kvm_run *run, struct cvm_kvm_run_result *res, const char *why)
{
	struct cvm_kvm_snp_req_certs *q = (struct cvm_kvm_snp_req_certs *)(void *)&run->hw;
	q->ret = EIO;
	res->snp_certs_failed++;
	snprintf(res->snp_certs_error, sizeof(res->snp_certs_error), "%s", why);
}

void cvm_kvm_snp_req_certs_answer(struct cvm_kvm_vm *vm, struct kvm_run *run,
				  struct cvm_kvm_run_result *res)
{
	struct cvm_kvm_snp_req_certs *q = (struct cvm_kvm_snp_req_certs *)(void *)&run->hw;
	struct cvm_snp_certs *c = vm->snp_certs;
	res->snp_cert_requests++;
	if (!c) {
		certs_failed(run, res, "this VM serves no certificates");
		return;
	}
	struct cvm_error err;
	cvm_error_clear(&err);
	const uint8_t *table;
	size_t len;
	int rc = cvm_snp_certs_lock_table(c, &table, &len, &err);
	if (rc == -EAGAIN) {
		q->ret = EAGAIN;
		res->snp_certs_busy++;
		return;
	}
	if (rc) {
		certs_failed(run, res, cvm_error_message(&err));
		return;
	}
	uint64_t pages = (len + CVM_PAGE_SIZE - 1) / CVM_PAGE_SIZE;
	if (q->npages < pages) {
		cvm_snp_certs_unlock(c);
		q->npages = pages;
		q->ret = ENOSPC;
		res->snp_certs_too_small++;
		return;
	}
	uint8_t *dst = guest_bytes(vm, q->gpa, pages * CVM_PAGE_SIZE);
	if (!dst) {
		cvm_snp_certs_unlock(c);
		char why[96];
		snprintf(why, sizeof(why), "the buffer [0x%llx, +0x%llx) is not guest memory",
			 (unsigned long long)q->gpa, (unsigned long long)(pages * CVM_PAGE_SIZE));
		certs_failed(run, res, why);
		return;
	}
	memcpy(dst, table, len);
	memset(dst + len, 0, pages * CVM_PAGE_SIZE - len);
	q->ret = 0;
	/* KVM asks the firmware for the report in the next KVM_RUN, then returns EINTR at once:
	   the locks stay held until then (cvm_kvm_run drops them). */
	run->immediate_exit = 1;
	res->snp_certs_served++;
}
