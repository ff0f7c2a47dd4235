/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest side: a report through configfs-tsm (the protocol is in include/cvmkit/tsm.h), the CCEL
 * ACPI table and its log from sysfs, and the evidence directory `cvmkit evidence` leaves.
 * configfs and sysfs attributes are read with plain read(2) until end of file (their sizes are
 * not what stat says), bounded; a binary attribute takes its data at close(2), so a write is
 * judged there.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cvmkit/evidence.h>
#include <cvmkit/tsm.h>
#include <cvmkit/util.h>

#define ENTRY_TRIES 64
#define SMALL_ATTR 64u   /* generation, provider, privlevel_floor */
#define CCEL_MAX (64u << 20)
#define CCEL_TABLE_MIN 56u /* ACPI header 36, CC type/subtype/reserved 4, LAML 8, LASA 8 */

/* The whole of dir/name, at most max bytes (-EFBIG beyond), in a new buffer with a NUL after. */
static int read_attr(const char *dir, const char *name, size_t max, uint8_t **out, size_t *len,
		     struct cvm_error *err)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return cvm_error_set(err, -ENAMETOOLONG, "%s/%s: path too long", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cvm_error_set(err, -errno, "%s: %s", path, strerror(errno));
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap + 1);
	int rc = buf ? 0 : -ENOMEM;
	while (!rc) {
		if (n == cap) {
			if (cap > max) {
				rc = -EFBIG;
				break;
			}
			size_t ncap = cap * 2;
			uint8_t *nb = realloc(buf, ncap + 1);
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			rc = -errno;
		else if (k == 0)
			break;
		else
			n += (size_t)k;
	}
	close(fd);
	if (!rc && n > max)
		rc = -EFBIG;
	if (rc) {
		free(buf);
		if (rc == -EFBIG)
			return cvm_error_set(err, rc, "%s: larger than %zu bytes", path, max);
		return cvm_error_set(err, rc, "reading %s: %s", path, strerror(-rc));
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
}

static bool attr_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	return snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path) &&
	       stat(path, &st) == 0;
}

/* Write data to dir/name in one write and judge it at close (configfs commits there). */
static int write_attr(const char *dir, const char *name, const void *data, size_t len,
		      struct cvm_error *err)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return cvm_error_set(err, -ENAMETOOLONG, "%s/%s: path too long", dir, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return cvm_error_set(err, -errno, "%s: %s", path, strerror(errno));
	ssize_t k;
	do
		k = write(fd, data, len);
	while (k < 0 && errno == EINTR);
	int rc = k < 0 ? -errno : (size_t)k != len ? -EIO : 0;
	if (close(fd) != 0 && !rc)
		rc = -errno;
	if (rc)
		return cvm_error_set(err, rc, "writing %s: %s", path, strerror(-rc));
	return 0;
}

/* A small decimal attribute (generation, privlevel_floor). */
static int read_number(const char *dir, const char *name, uint64_t *out, struct cvm_error *err)
{
	uint8_t *text;
	size_t len;
	int rc = read_attr(dir, name, SMALL_ATTR, &text, &len, err);
	if (rc)
		return rc;
	char *end;
	errno = 0;
	unsigned long long v = strtoull((const char *)text, &end, 10);
	bool ok = !errno && end != (char *)text && (*end == '\n' || *end == '\0');
	free(text);
	if (!ok)
		return cvm_error_set(err, -EINVAL, "%s/%s: not a number", dir, name);
	*out = v;
	return 0;
}

static void tell(const struct cvm_tsm_request *req, enum cvm_tsm_event ev, const char *entry,
		 const char *attr)
{
	if (req->kernel)
		req->kernel(req->kernel_ctx, ev, entry, attr);
}

/* mkdir TSM_DIR/cvmkit-PID-N, the first N free; the path into entry. */
static int make_entry(const char *tsm_dir, char *entry, size_t n, struct cvm_error *err)
{
	struct stat st;
	if (stat(tsm_dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return cvm_error_set(err, -ENOENT,
				     "%s is missing: no configfs-tsm here (it needs Linux 6.7 or "
				     "later with CONFIG_TSM_REPORTS, configfs mounted on "
				     "/sys/kernel/config, and a guest driver such as sev-guest or "
				     "tdx-guest; --tsm-dir names another place)",
				     tsm_dir);
	for (int i = 0; i < ENTRY_TRIES; i++) {
		if (snprintf(entry, n, "%s/cvmkit-%ld-%d", tsm_dir, (long)getpid(), i) >= (int)n)
			return cvm_error_set(err, -ENAMETOOLONG, "%s: path too long", tsm_dir);
		if (mkdir(entry, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return cvm_error_set(err, -errno, "creating the report entry %s: %s", entry,
					     strerror(errno));
	}
	return cvm_error_set(err, -EEXIST, "%s: no free cvmkit-%ld-N entry name", tsm_dir,
			     (long)getpid());
}

static int write_privlevel(const struct cvm_tsm_request *req, const char *entry,
			   struct cvm_error *err)
{
	if (req->privlevel > 3)
		return cvm_error_set(err, -EINVAL, "privlevel %u: the levels are 0..3", req->privlevel);
	if (!attr_exists(entry, "privlevel"))
		return cvm_error_set(err, -ENOENT,
				     "the provider offers no privlevel attribute (privilege levels "
				     "are an SEV-SNP notion)");
	uint64_t floor = 0;
	if (attr_exists(entry, "privlevel_floor")) {
		int rc = read_number(entry, "privlevel_floor", &floor, err);
		if (rc)
			return rc;
	}
	if (req->privlevel < floor)
		return cvm_error_set(err, -EINVAL,
				     "privlevel %u is below the provider's privlevel_floor %llu",
				     req->privlevel, (unsigned long long)floor);
	char text[8];
	int n = snprintf(text, sizeof(text), "%u\n", req->privlevel);
	int rc = write_attr(entry, "privlevel", text, (size_t)n, err);
	if (!rc)
		tell(req, CVM_TSM_WRITTEN, entry, "privlevel");
	return rc;
}

static int read_provider(const char *entry, struct cvm_tsm_report *r, struct cvm_error *err)
{
	uint8_t *text = NULL;
	size_t len = 0;
	struct cvm_error perr;
	cvm_error_clear(&perr);
	int rc = read_attr(entry, "provider", SMALL_ATTR, &text, &len, &perr);
	size_t n = rc ? 0 : strcspn((const char *)text, "\n");
	if (rc == -EFBIG)
		n = 0;
	if (n == 0 || n >= sizeof(r->provider)) {
		free(text);
		return cvm_error_set(err, -ENXIO,
				     "%s: no TSM provider is registered (load the guest driver: "
				     "sev-guest or tdx-guest)%s%s",
				     entry, rc ? ": " : "", rc ? cvm_error_message(&perr) : "");
	}
	memcpy(r->provider, text, n);
	r->provider[n] = '\0';
	free(text);
	return 0;
}

/* An optional blob: absent or empty leaves it NULL. */
static int read_optional(const char *entry, const char *name, uint8_t **out, size_t *len,
			 struct cvm_error *err)
{
	*out = NULL;
	*len = 0;
	if (!attr_exists(entry, name))
		return 0;
	int rc = read_attr(entry, name, CVM_TSM_BLOB_MAX, out, len, err);
	if (!rc && *len == 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

static int run_request(const struct cvm_tsm_request *req, const char *entry,
		       struct cvm_tsm_report *r, struct cvm_error *err)
{
	uint64_t g0, g1;
	unsigned writes = 0;
	int rc = read_number(entry, "generation", &g0, err);
	if (rc == -ENOENT)
		return cvm_error_set(err, rc, "%s has no generation attribute: not a configfs-tsm "
					      "report entry",
				     entry);
	if (!rc && req->has_privlevel) {
		rc = write_privlevel(req, entry, err);
		writes++;
	}
	if (!rc) {
		rc = write_attr(entry, "inblob", req->inblob, sizeof(req->inblob), err);
		if (!rc)
			tell(req, CVM_TSM_WRITTEN, entry, "inblob");
		writes++;
	}
	if (!rc)
		rc = read_provider(entry, r, err);
	if (!rc)
		rc = read_attr(entry, "outblob", CVM_TSM_BLOB_MAX, &r->outblob, &r->outblob_len, err);
	if (!rc && r->outblob_len == 0)
		rc = cvm_error_set(err, -EINVAL, "%s/outblob is empty: the provider made no report",
				   entry);
	if (!rc)
		rc = read_optional(entry, "auxblob", &r->auxblob, &r->auxblob_len, err);
	if (!rc)
		rc = read_optional(entry, "manifestblob", &r->manifestblob, &r->manifestblob_len, err);
	if (!rc)
		rc = read_number(entry, "generation", &g1, err);
	if (!rc && g1 != g0 + writes)
		rc = cvm_error_set(err, -EBUSY,
				   "%s: generation went from %llu to %llu over this request's %u "
				   "writes: another writer changed the entry, so the report may not "
				   "be for this REPORT_DATA (try again)",
				   entry, (unsigned long long)g0, (unsigned long long)g1, writes);
	if (!rc)
		r->generation = g1;
	return rc;
}

void cvm_tsm_report_free(struct cvm_tsm_report *r)
{
	if (!r)
		return;
	free(r->outblob);
	free(r->auxblob);
	free(r->manifestblob);
	free(r);
}

int cvm_tsm_report_get(const struct cvm_tsm_request *req, struct cvm_tsm_report **out,
		       struct cvm_error *err)
{
	const char *dir = req->tsm_dir ? req->tsm_dir : CVM_TSM_DEFAULT_DIR;
	char entry[PATH_MAX];
	int rc = make_entry(dir, entry, sizeof(entry), err);
	if (rc)
		return cvm_error_wrap(err, "configfs-tsm");
	tell(req, CVM_TSM_CREATED, entry, NULL);
	struct cvm_tsm_report *r = calloc(1, sizeof(*r));
	rc = r ? run_request(req, entry, r, err) : cvm_error_set(err, -ENOMEM, "out of memory");
	tell(req, CVM_TSM_REMOVING, entry, NULL);
	(void)rmdir(entry); /* configfs removes the attributes with the directory */
	if (rc) {
		cvm_tsm_report_free(r);
		return cvm_error_wrap(err, "configfs-tsm");
	}
	*out = r;
	return 0;
}

/* ---- the CC event log ----------------------------------------------------------------------- */

void cvm_ccel_release(struct cvm_ccel *c)
{
	if (!c)
		return;
	free(c->table);
	free(c->log);
	memset(c, 0, sizeof(*c));
}

int cvm_ccel_read(const char *acpi_dir, struct cvm_ccel *out, struct cvm_error *err)
{
	if (!acpi_dir)
		acpi_dir = CVM_ACPI_TABLES_DIR;
	struct cvm_ccel c = {0};
	char data_dir[PATH_MAX];
	if (snprintf(data_dir, sizeof(data_dir), "%s/data", acpi_dir) >= (int)sizeof(data_dir))
		return cvm_error_set(err, -ENAMETOOLONG, "%s: path too long", acpi_dir);
	int rc = read_attr(acpi_dir, "CCEL", CCEL_MAX, &c.table, &c.table_len, err);
	if (!rc && (c.table_len < CCEL_TABLE_MIN || memcmp(c.table, "CCEL", 4) != 0))
		rc = cvm_error_set(err, -EINVAL, "%s/CCEL: not a CCEL ACPI table (%zu bytes)", acpi_dir,
				   c.table_len);
	if (!rc)
		rc = read_attr(data_dir, "CCEL", CCEL_MAX, &c.log, &c.log_len, err);
	if (rc) {
		cvm_ccel_release(&c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ---- the evidence directory ----------------------------------------------------------------- */

struct dir_writer {
	const char *dir;
	const char **names;
	size_t *n;
	struct cvm_error *err;
};

static int put_file(struct dir_writer *w, const char *name, const void *data, size_t len)
{
	char *path = cvm_path_join(w->dir, name);
	if (!path)
		return cvm_error_set(w->err, -ENOMEM, "out of memory");
	int rc = cvm_file_write_atomic(path, data, len, w->err);
	free(path);
	if (!rc && *w->n < CVM_EVIDENCE_DIR_MAX_FILES)
		w->names[(*w->n)++] = name;
	return rc;
}

/* Put what an encoder made (rc its result) and release it. */
static int put_encoded(struct dir_writer *w, const char *name, int rc, uint8_t *buf, size_t len)
{
	if (!rc)
		rc = put_file(w, name, buf, len);
	free(buf);
	return rc;
}

int cvm_evidence_write_dir(const char *dir, const struct cvm_tsm_report *r,
			   const struct cvm_ccel *ccel, const char **names, size_t *nnames,
			   struct cvm_error *err)
{
	*nnames = 0;
	struct dir_writer w = {dir, names, nnames, err};
	int rc = cvm_dir_create(dir, err);
	if (rc)
		return rc;
	char provider[sizeof(r->provider) + 1];
	int plen = snprintf(provider, sizeof(provider), "%s\n", r->provider);
	rc = put_file(&w, "outblob", r->outblob, r->outblob_len);
	if (!rc && r->auxblob)
		rc = put_file(&w, "auxblob", r->auxblob, r->auxblob_len);
	if (!rc && r->manifestblob)
		rc = put_file(&w, "manifestblob", r->manifestblob, r->manifestblob_len);
	if (!rc)
		rc = put_file(&w, "provider", provider, (size_t)plen);
	struct cvm_tsm_blobs b = {.provider = r->provider,
				  .outblob = r->outblob,
				  .outblob_len = r->outblob_len,
				  .auxblob = r->auxblob,
				  .auxblob_len = r->auxblob_len};
	uint8_t *buf = NULL;
	size_t len = 0;
	if (!rc) {
		rc = cvm_evidence_tsm_json(&b, &buf, &len, err);
		rc = put_encoded(&w, "tsm-report.json", rc, buf, len);
		buf = NULL;
	}
	if (!rc) {
		rc = cvm_evidence_tsm_cbor(&b, &buf, &len, err);
		rc = put_encoded(&w, "tsm-report.cbor", rc, buf, len);
		buf = NULL;
	}
	bool snp = strcmp(r->provider, "sev_guest") == 0;
	if (!rc && snp && r->auxblob) {
		size_t total = r->outblob_len + r->auxblob_len;
		uint8_t *both = malloc(total);
		if (!both)
			return cvm_error_set(err, -ENOMEM, "out of memory");
		memcpy(both, r->outblob, r->outblob_len);
		memcpy(both + r->outblob_len, r->auxblob, r->auxblob_len);
		rc = put_encoded(&w, "report-certs.bin", 0, both, total);
	}
	if (!rc && ccel) {
		rc = put_file(&w, "ccel-table.bin", ccel->table, ccel->table_len);
		if (!rc)
			rc = put_file(&w, "ccel.bin", ccel->log, ccel->log_len);
	}
	if (!rc && strcmp(r->provider, "tdx_guest") == 0) {
		rc = cvm_evidence_trustee_tdx_json(r->outblob, r->outblob_len, ccel ? ccel->log : NULL,
						   ccel ? ccel->log_len : 0, &buf, &len, err);
		rc = put_encoded(&w, "tdx-evidence.json", rc, buf, len);
	}
	return rc;
}
