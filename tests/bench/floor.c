/* SPDX-License-Identifier: Apache-2.0 */
/* Hashing floors on one or N threads (floor.h); libcrypto and libc only. */
#include "floor.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#define PAGE 4096u
#define RECORD 112u       /* PAGE_INFO: digest, contents, length, type, IMI, VMPL perms, GPA */
#define CHUNK_PAGES 16u   /* pages per unit of work handed to a thread */
#define MAX_THREADS 256u

struct hasher {
	EVP_MD_CTX *ctx;
	EVP_MD *sha256, *sha384;
};

static int hasher_init(struct hasher *h)
{
	h->ctx = EVP_MD_CTX_new();
	h->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
	return h->ctx && h->sha256 && h->sha384 ? 0 : -1;
}

static void hasher_fini(struct hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->sha256);
	EVP_MD_free(h->sha384);
}

static int digest(struct hasher *h, const EVP_MD *md, const void *p, size_t n, uint8_t *out)
{
	return EVP_DigestInit_ex2(h->ctx, md, NULL) == 1 && EVP_DigestUpdate(h->ctx, p, n) == 1 &&
			       EVP_DigestFinal_ex(h->ctx, out, NULL) == 1
		       ? 0
		       : -1;
}

static int whole_digest(struct hasher *h, const struct floor_whole *j)
{
	uint8_t out[48];
	return digest(h, j->sha384 ? h->sha384 : h->sha256, j->data, j->len, out);
}

/* One PAGE_INFO record: the running digest, the page's hash (or zeros), and its fields. */
static int chain(struct hasher *h, uint8_t cur[48], const uint8_t *contents, uint8_t type,
		 uint64_t gpa)
{
	uint8_t rec[RECORD] = {0};
	memcpy(rec, cur, 48);
	if (contents)
		memcpy(rec + 48, contents, 48);
	rec[96] = RECORD & 0xff;
	rec[98] = type;
	for (int i = 0; i < 8; i++)
		rec[104 + i] = (uint8_t)(gpa >> (8 * i));
	return digest(h, h->sha384, rec, sizeof(rec), cur);
}

/* The pages after the firmware: hashed (VMSA-like) pages and bare records. */
static int chain_extras(struct hasher *h, const struct floor_work *w, uint8_t cur[48])
{
	static const uint8_t page[PAGE];
	uint8_t ph[48];
	uint64_t gpa = (uint64_t)w->npages * PAGE;
	for (unsigned i = 0; i < w->extra_hashed; i++, gpa += PAGE)
		if (digest(h, h->sha384, page, PAGE, ph) || chain(h, cur, ph, 2, gpa))
			return -1;
	for (unsigned i = 0; i < w->extra_records; i++, gpa += PAGE)
		if (chain(h, cur, NULL, 3, gpa))
			return -1;
	return 0;
}

static int run_one_thread(const struct floor_work *w, uint8_t cur[48])
{
	struct hasher h;
	int rc = hasher_init(&h);
	for (size_t i = 0; !rc && i < w->nwhole; i++)
		rc = whole_digest(&h, &w->whole[i]);
	uint8_t ph[48];
	for (size_t p = 0; !rc && p < w->npages; p++)
		rc = digest(&h, h.sha384, w->pages + p * PAGE, PAGE, ph) ||
		     chain(&h, cur, ph, 1, p * PAGE);
	if (!rc)
		rc = chain_extras(&h, w, cur);
	hasher_fini(&h);
	return rc;
}

struct pool {
	const struct floor_work *w;
	size_t order[FLOOR_MAX_WHOLE]; /* whole jobs, largest first */
	atomic_size_t next_whole;
	size_t nchunks;
	atomic_size_t next_chunk;
	atomic_uchar *ready;           /* per chunk: its page hashes are in ph */
	uint8_t (*ph)[48];
	atomic_int failed;
};

static void hash_chunk(struct pool *p, struct hasher *h, size_t c)
{
	size_t first = c * CHUNK_PAGES, end = first + CHUNK_PAGES;
	if (end > p->w->npages)
		end = p->w->npages;
	for (size_t i = first; i < end; i++)
		if (digest(h, h->sha384, p->w->pages + i * PAGE, PAGE, p->ph[i]))
			atomic_store(&p->failed, 1);
	atomic_store_explicit(&p->ready[c], 1, memory_order_release);
}

/* Take one unhashed chunk, if any is left. */
static bool take_chunk(struct pool *p, struct hasher *h)
{
	size_t c = atomic_fetch_add(&p->next_chunk, 1);
	if (c >= p->nchunks)
		return false;
	hash_chunk(p, h, c);
	return true;
}

static void take_whole_jobs(struct pool *p, struct hasher *h)
{
	size_t i;
	while ((i = atomic_fetch_add(&p->next_whole, 1)) < p->w->nwhole)
		if (whole_digest(h, &p->w->whole[p->order[i]]))
			atomic_store(&p->failed, 1);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	struct hasher h;
	if (hasher_init(&h)) {
		atomic_store(&p->failed, 1);
	} else {
		take_whole_jobs(p, &h);
		while (take_chunk(p, &h))
			;
	}
	hasher_fini(&h);
	return NULL;
}

/* The calling thread: chains chunks in order, hashing chunks itself while the next is not ready. */
static int chain_in_order(struct pool *p, struct hasher *h, uint8_t cur[48])
{
	for (size_t c = 0; c < p->nchunks; c++) {
		while (!atomic_load_explicit(&p->ready[c], memory_order_acquire))
			if (!take_chunk(p, h))
				sched_yield();
		size_t end = (c + 1) * CHUNK_PAGES < p->w->npages ? (c + 1) * CHUNK_PAGES
								  : p->w->npages;
		for (size_t i = c * CHUNK_PAGES; i < end; i++)
			if (chain(h, cur, p->ph[i], 1, (uint64_t)i * PAGE))
				return -1;
	}
	return chain_extras(h, p->w, cur);
}

static void sort_whole(struct pool *p)
{
	const struct floor_work *w = p->w;
	for (size_t i = 0; i < w->nwhole; i++) {
		size_t j = i;
		while (j > 0 && w->whole[p->order[j - 1]].len < w->whole[i].len) {
			p->order[j] = p->order[j - 1];
			j--;
		}
		p->order[j] = i;
	}
}

static int run_pool(const struct floor_work *w, unsigned threads, uint8_t cur[48])
{
	struct pool p = {.w = w, .nchunks = (w->npages + CHUNK_PAGES - 1) / CHUNK_PAGES};
	sort_whole(&p);
	p.ready = calloc(p.nchunks ? p.nchunks : 1, sizeof(*p.ready));
	p.ph = malloc((w->npages ? w->npages : 1) * sizeof(*p.ph));
	pthread_t tid[MAX_THREADS];
	unsigned started = 0;
	struct hasher h = {0};
	int rc = p.ready && p.ph && !hasher_init(&h) ? 0 : -1;
	for (; !rc && started < threads - 1; started++)
		if (pthread_create(&tid[started], NULL, worker, &p))
			break;
	if (!rc && started == 0) /* no thread could start: everything here */
		take_whole_jobs(&p, &h);
	if (!rc)
		rc = chain_in_order(&p, &h, cur);
	if (!rc)
		take_whole_jobs(&p, &h);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	hasher_fini(&h);
	free(p.ready);
	free(p.ph);
	return rc || atomic_load(&p.failed) ? -1 : 0;
}

int floor_run(const struct floor_work *w, unsigned threads, uint8_t digest_out[48])
{
	uint8_t cur[48] = {0};
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	int rc = threads <= 1 ? run_one_thread(w, cur) : run_pool(w, threads, cur);
	if (!rc)
		memcpy(digest_out, cur, 48);
	return rc;
}

int floor_map(const char *path, struct floor_file *f)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -1;
	void *p = fstat(fd, &st) == 0 && st.st_size > 0
			  ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)
			  : MAP_FAILED;
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	f->data = p;
	f->size = (size_t)st.st_size;
	return 0;
}

void floor_unmap(struct floor_file *f)
{
	if (f->data)
		munmap((void *)(uintptr_t)f->data, f->size);
	f->data = NULL;
	f->size = 0;
}
