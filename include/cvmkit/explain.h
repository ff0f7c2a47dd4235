/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "Why doesn't it match?": given the measurement a report or quote shows and the policy that
 * was expected to produce it, search the policy's neighbourhood for the smallest set of input
 * changes that reproduces the measurement (SNP MEASUREMENT, TDX MRTD), and set the expected
 * RTMR events beside a CC event log (TDX).  Diagnosis only: nothing here verifies a signature.
 *
 * SNP search space (every combination is tried; combinations are visited by how many inputs
 * they change, so the first match is a smallest one):
 *   vCPU count 1..CVM_EXPLAIN_MAX_VCPUS (and the policy's own count);
 *   the CPU signature: the policy's and every other one of the known QEMU CPU models (models
 *     sharing a signature are one candidate, named together);
 *   the VMM profile: qemu (= cvmkit), ec2, gce;
 *   the guest-feature (VMSA SEV_FEATURES) sets KVM and QEMU have used: see
 *     cvm_explain_feature_set();
 *   kernel hashes on/off (only with a kernel in the policy: off = not measured);
 *   the firmware: the policy's and each candidate given.
 * The vCPU and CPU dimensions ride on the matrix machinery (cvm_snp_measure_matrix_hashed):
 * the firmware pages, kernel, initrd and command line are hashed once.
 *
 * Ownership: result structs are caller-owned; a TDX result's table is freed with
 * cvm_explain_rtmr_fini().  Inputs are borrowed.  Thread-safe on distinct objects.
 */
#ifndef CVMKIT_EXPLAIN_H
#define CVMKIT_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cvmkit/error.h>
#include <cvmkit/eventlog.h>
#include <cvmkit/firmware.h>
#include <cvmkit/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

#define CVM_EXPLAIN_MAX_VCPUS 512u
#define CVM_EXPLAIN_MAX_CHANGES 8
#define CVM_EXPLAIN_MAX_SKIPPED 8

/* One input that must change for the policy to reproduce the measurement. */
struct cvm_explain_change {
	const char *key;  /* static: "vcpus", "cpus", "vmm", "snp.guest_features",
			   * "kernel_hashes", "firmware", "tdx.measure_order",
			   * "tdx.honour_page_aug" */
	char from[200];
	char to[200];
};

/* A firmware candidate besides the policy's own (borrowed). */
struct cvm_explain_firmware {
	const struct cvm_firmware *fw;
	const char *name; /* for the report: a path */
};

struct cvm_pool; /* cvmkit/pool.h */

struct cvm_explain_opts {
	const struct cvm_explain_firmware *firmware;
	size_t nfirmware;
	struct cvm_pool *pool; /* optional, borrowed: SNP firmware page hashes on it */
};

/* A combination that could not be measured (a firmware without SEV metadata, ...). */
struct cvm_explain_skip {
	char what[200];
};

struct cvm_explain_result {
	bool found;
	uint8_t expected[48];     /* what the policy itself gives (MEASUREMENT / MRTD) */
	bool expected_known;
	size_t nchanges;          /* 0 with found: the policy already reproduces it */
	struct cvm_explain_change changes[CVM_EXPLAIN_MAX_CHANGES];
	size_t alternatives;      /* other combinations with as few changes that also match */
	uint64_t searched;        /* candidates measured */
	uint64_t space;           /* candidates in the whole space */
	char dimensions[320];     /* "vCPUs 1..512 x 5 CPU signatures x ..." */
	size_t nskipped;
	struct cvm_explain_skip skipped[CVM_EXPLAIN_MAX_SKIPPED];
};

/* The i-th guest-feature set of the search (NULL past the end): value and why it is there. */
const char *cvm_explain_feature_set(size_t i, uint64_t *value);

/* "DebugSwap", ...: the names of the SEV_FEATURES bits set in v, '+'-joined, into buf. */
void cvm_explain_feature_names(uint64_t v, char *buf, size_t n);

/*
 * SNP: find the smallest change of policy (tee snp) with firmware fw that gives measurement.
 * Returns 0 with the outcome in *out (found or not), or a negative errno when even the
 * policy's own measurement cannot be computed (its message says why).
 */
int cvm_explain_snp(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		    const uint8_t measurement[48], const struct cvm_explain_opts *opts,
		    struct cvm_explain_result *out, struct cvm_error *err);

/* TDX: MRTD over both page orders, PAGE_AUG handling and the firmware candidates. */
int cvm_explain_mrtd(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		     const uint8_t mrtd[48], const struct cvm_explain_opts *opts,
		     struct cvm_explain_result *out, struct cvm_error *err);

/* TDX: the policy's expected RTMR0..2 events beside an event log. */
struct cvm_explain_rtmr {
	struct cvm_measurement *expected;     /* owned: cvm_tdx_measure of the policy */
	struct cvm_event_match_table *table;  /* owned */
	const char *layout;                   /* the edk2 layout the log fits best, or NULL */
	unsigned layout_score, layout_of;
	bool replay_known;                    /* the log replays (SHA-384) */
	uint8_t replay[CVM_RTMR_COUNT][CVM_RTMR_SIZE];
};

int cvm_explain_rtmr(const struct cvm_policy *policy, const struct cvm_firmware *fw,
		     const struct cvm_eventlog *log, struct cvm_explain_rtmr *out,
		     struct cvm_error *err);
void cvm_explain_rtmr_fini(struct cvm_explain_rtmr *r);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
