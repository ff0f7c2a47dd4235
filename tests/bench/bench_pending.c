/* SPDX-License-Identifier: Apache-2.0 */
#include "bench.h"

void bench_launch_64m(const struct bench_env *env, struct bench_result *r) { (void)env; r->skipped = true; bench_note(r, "pending"); }
void bench_launch_1g(const struct bench_env *env, struct bench_result *r) { (void)env; r->skipped = true; bench_note(r, "pending"); }
void bench_launch_16g(const struct bench_env *env, struct bench_result *r) { (void)env; r->skipped = true; bench_note(r, "pending"); }
void bench_verify_snp(const struct bench_env *env, struct bench_result *r) { (void)env; r->skipped = true; bench_note(r, "pending"); }
void bench_verify_tdx(const struct bench_env *env, struct bench_result *r) { (void)env; r->skipped = true; bench_note(r, "pending"); }
