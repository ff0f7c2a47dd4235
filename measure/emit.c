/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The measurement document: construction, release, format names, and the encode/decode entry
 * points that dispatch to emit_json.c, emit_cbor.c, emit_corim.c and emit_rvps.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cvmkit/emit.h>
#include <cvmkit/util.h>

#include "measure/emit_internal.h"

static const char *const tee_names[] = {
	[CVM_TEE_NONE] = "none",
	[CVM_TEE_SNP] = "snp",
	[CVM_TEE_TDX] = "tdx",
};

static const char *const format_names[] = {
	[CVM_FMT_JSON] = "json",
	[CVM_FMT_HEX] = "hex",
	[CVM_FMT_CBOR] = "cbor",
	[CVM_FMT_CORIM] = "corim",
	[CVM_FMT_RVPS] = "rvps",
};

/* Each mode belongs to one TEE and has one digest algorithm. */
static const struct {
	const char *mode;
	enum cvm_tee tee;
	const char *algorithm;
	size_t digest_len;
} modes[] = {
	{"snp", CVM_TEE_SNP, "sha384", 48},
	{"sev", CVM_TEE_SNP, "sha256", 32},
	{"seves", CVM_TEE_SNP, "sha256", 32},
	{"tdx", CVM_TEE_TDX, "sha384", 48},
	{"none", CVM_TEE_NONE, "sha384", 48},
};

const char *cvm_emit_tee_name(enum cvm_tee tee)
{
	if ((unsigned)tee >= CVM_ARRAY_SIZE(tee_names))
		return NULL;
	return tee_names[tee];
}

int cvm_emit_tee_parse(const char *name, enum cvm_tee *out)
{
	for (size_t i = 0; i < CVM_ARRAY_SIZE(tee_names); i++) {
		if (strcmp(name, tee_names[i]) == 0) {
			*out = (enum cvm_tee)i;
			return 0;
		}
	}
	return -EINVAL;
}

int cvm_emit_check_consistency(const struct cvm_measurement *m, struct cvm_error *err)
{
	if (!cvm_emit_tee_name(m->tee))
		return cvm_error_set(err, -EINVAL, "tee: unknown value %d", (int)m->tee);
	if (!m->mode || !m->algorithm)
		return cvm_error_set(err, -EINVAL, "mode and algorithm must be set");
	for (size_t i = 0; i < CVM_ARRAY_SIZE(modes); i++) {
		if (strcmp(m->mode, modes[i].mode) != 0)
			continue;
		if (modes[i].tee != m->tee)
			return cvm_error_set(err, -EINVAL, "mode: \"%s\" does not belong to tee \"%s\"",
					     m->mode, cvm_emit_tee_name(m->tee));
		if (strcmp(m->algorithm, modes[i].algorithm) != 0)
			return cvm_error_set(err, -EINVAL,
					     "algorithm: mode \"%s\" measures with %s, not %s",
					     m->mode, modes[i].algorithm, m->algorithm);
		if (m->digest_len != modes[i].digest_len)
			return cvm_error_set(err, -EINVAL,
					     "digest: %s digest is %zu bytes, not %zu",
					     m->algorithm, modes[i].digest_len, m->digest_len);
		return 0;
	}
	return cvm_error_set(err, -EINVAL,
			     "mode: \"%s\" is not one of snp, sev, seves, tdx, none", m->mode);
}

struct cvm_measurement *cvm_measurement_new(enum cvm_tee tee, const char *mode)
{
	if (!cvm_emit_tee_name(tee))
		return NULL;
	if (!mode)
		mode = cvm_emit_tee_name(tee);
	const char *algorithm = "sha384";
	size_t digest_len = 48;
	for (size_t i = 0; i < CVM_ARRAY_SIZE(modes); i++) {
		if (strcmp(mode, modes[i].mode) == 0) {
			algorithm = modes[i].algorithm;
			digest_len = modes[i].digest_len;
		}
	}
	struct cvm_measurement *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->tee = tee;
	m->mode = strdup(mode);
	m->algorithm = strdup(algorithm);
	m->digest_len = digest_len;
	if (!m->mode || !m->algorithm) {
		cvm_measurement_free(m);
		return NULL;
	}
	return m;
}

static void free_list(struct cvm_mr_input *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].key);
		free(list[i].value);
	}
	free(list);
}

void cvm_measurement_free(struct cvm_measurement *m)
{
	if (!m)
		return;
	free(m->mode);
	free(m->algorithm);
	for (size_t i = 0; i < CVM_ARRAY_SIZE(m->rtmr_note); i++) {
		free(m->rtmr_note[i]);
		for (size_t j = 0; j < m->nrtmr_missing[i]; j++)
			free(m->rtmr_missing[i][j]);
		free(m->rtmr_missing[i]);
	}
	for (size_t i = 0; i < m->nevents; i++) {
		free(m->events[i].type);
		free(m->events[i].description);
	}
	free(m->events);
	free_list(m->inputs, m->ninputs);
	free_list(m->launch, m->nlaunch);
	free(m);
}

int cvm_emit_list_set(struct cvm_mr_input **list, size_t *n, const char *key, const char *value,
		      bool is_number)
{
	if (!key || !value)
		return -EINVAL;
	char *v = strdup(value);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*list)[i].key, key) == 0) {
			free((*list)[i].value);
			(*list)[i].value = v;
			(*list)[i].is_number = is_number;
			return 0;
		}
	}
	char *k = strdup(key);
	struct cvm_mr_input *grown = k ? realloc(*list, (*n + 1) * sizeof(**list)) : NULL;
	if (!grown) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	grown[*n] = (struct cvm_mr_input){.key = k, .value = v, .is_number = is_number};
	*list = grown;
	(*n)++;
	return 0;
}

__attribute__((format(printf, 4, 0)))
static int list_set_vfmt(struct cvm_mr_input **list, size_t *n, const char *key, const char *fmt,
			 va_list ap)
{
	char *value = NULL;
	if (vasprintf(&value, fmt, ap) < 0)
		return -ENOMEM;
	int rc = cvm_emit_list_set(list, n, key, value, false);
	free(value);
	return rc;
}

static int list_set_u64(struct cvm_mr_input **list, size_t *n, const char *key, uint64_t value)
{
	char text[24];
	snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
	return cvm_emit_list_set(list, n, key, text, true);
}

int cvm_measurement_add_input(struct cvm_measurement *m, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = list_set_vfmt(&m->inputs, &m->ninputs, key, fmt, ap);
	va_end(ap);
	return rc;
}

int cvm_measurement_add_input_u64(struct cvm_measurement *m, const char *key, uint64_t value)
{
	return list_set_u64(&m->inputs, &m->ninputs, key, value);
}

int cvm_measurement_add_launch(struct cvm_measurement *m, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = list_set_vfmt(&m->launch, &m->nlaunch, key, fmt, ap);
	va_end(ap);
	return rc;
}

int cvm_measurement_add_launch_u64(struct cvm_measurement *m, const char *key, uint64_t value)
{
	return list_set_u64(&m->launch, &m->nlaunch, key, value);
}

int cvm_measurement_add_event(struct cvm_measurement *m, uint32_t rtmr, const char *type,
			      const char *description, const uint8_t digest[48])
{
	if (rtmr > 3 || !type || !digest)
		return -EINVAL;
	char *t = strdup(type);
	char *d = strdup(description ? description : "");
	struct cvm_mr_event *grown =
		(t && d) ? realloc(m->events, (m->nevents + 1) * sizeof(*m->events)) : NULL;
	if (!grown) {
		free(t);
		free(d);
		return -ENOMEM;
	}
	struct cvm_mr_event *ev = &grown[m->nevents];
	ev->rtmr = rtmr;
	ev->type = t;
	ev->description = d;
	memcpy(ev->digest, digest, sizeof(ev->digest));
	m->events = grown;
	m->nevents++;
	return 0;
}

int cvm_measurement_set_rtmr_note(struct cvm_measurement *m, unsigned idx, const char *note)
{
	if (idx > 3)
		return -EINVAL;
	char *copy = NULL;
	if (note && !(copy = strdup(note)))
		return -ENOMEM;
	free(m->rtmr_note[idx]);
	m->rtmr_note[idx] = copy;
	return 0;
}

int cvm_measurement_add_rtmr_missing(struct cvm_measurement *m, unsigned idx, const char *input)
{
	if (idx > 3 || !input || m->nrtmr_missing[idx] >= 64)
		return -EINVAL;
	char **grown = realloc(m->rtmr_missing[idx],
			       (m->nrtmr_missing[idx] + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	m->rtmr_missing[idx] = grown;
	if (!(grown[m->nrtmr_missing[idx]] = strdup(input)))
		return -ENOMEM;
	m->nrtmr_missing[idx]++;
	return 0;
}

int cvm_emit_format_parse(const char *name, enum cvm_emit_format *out)
{
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < CVM_ARRAY_SIZE(format_names); i++) {
		if (strcmp(name, format_names[i]) == 0) {
			*out = (enum cvm_emit_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *cvm_emit_format_name(enum cvm_emit_format fmt)
{
	if ((unsigned)fmt >= CVM_ARRAY_SIZE(format_names))
		return NULL;
	return format_names[fmt];
}

static int encode_hex(const struct cvm_measurement *m, uint8_t **out, size_t *out_len,
		      struct cvm_error *err)
{
	size_t n = m->digest_len * 2 + 2;
	char *text = malloc(n);
	if (!text)
		return cvm_error_set(err, -ENOMEM, "out of memory");
	cvm_hex_encode(m->digest, m->digest_len, text);
	text[n - 2] = '\n';
	text[n - 1] = '\0';
	*out = (uint8_t *)text;
	*out_len = n - 1;
	return 0;
}

int cvm_measurement_encode(const struct cvm_measurement *m, enum cvm_emit_format fmt,
			   uint8_t **out, size_t *out_len, struct cvm_error *err)
{
	int rc = cvm_emit_check_consistency(m, err);
	if (rc < 0)
		return cvm_error_wrap(err, "measurement document");
	switch (fmt) {
	case CVM_FMT_JSON:
		return cvm_emit_json_encode(m, out, out_len, err);
	case CVM_FMT_HEX:
		return encode_hex(m, out, out_len, err);
	case CVM_FMT_CBOR:
		return cvm_emit_cbor_encode(m, out, out_len, err);
	case CVM_FMT_CORIM:
		return cvm_emit_corim_encode(m, out, out_len, err);
	case CVM_FMT_RVPS:
		return cvm_emit_rvps_encode(m, out, out_len, err);
	}
	return cvm_error_set(err, -EINVAL, "unknown output format %d", (int)fmt);
}

static int decode_any(const uint8_t *data, size_t len, struct cvm_measurement **out,
		      struct cvm_error *err)
{
	size_t i = 0;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
		i++;
	if (i < len && data[i] == '{')
		return cvm_emit_json_decode(data, len, out, err);
	if (len == 0)
		return cvm_error_set(err, -EINVAL, "measurement document: empty input");
	/* CBOR: a map is our document; tags 501 (CoRIM), 506 (bare CoMID), 18 (signed CoRIM). */
	if ((data[0] & 0xe0) == 0xa0)
		return cvm_emit_cbor_decode(data, len, out, err);
	if ((data[0] & 0xe0) == 0xc0)
		return cvm_emit_corim_decode(data, len, out, err);
	return cvm_error_set(err, -EINVAL,
			     "measurement document: neither JSON ('{'), a CBOR map, nor a CoRIM "
			     "(CBOR tag 501)");
}

int cvm_measurement_decode(const uint8_t *data, size_t len, struct cvm_measurement **out,
			   struct cvm_error *err)
{
	struct cvm_measurement *m;
	int rc = decode_any(data, len, &m, err);
	if (rc < 0)
		return rc;
	rc = cvm_emit_check_strings(m, err);
	if (rc < 0) {
		cvm_measurement_free(m);
		return cvm_error_wrap(err, "measurement document");
	}
	*out = m;
	return 0;
}
