/* SPDX-License-Identifier: Apache-2.0 */
/* Private to launcher/explain*.c. */
#ifndef CVMKIT_LAUNCHER_EXPLAIN_INTERNAL_H
#define CVMKIT_LAUNCHER_EXPLAIN_INTERNAL_H

#include <cvmkit/explain.h>

/* Append one change (dropped beyond CVM_EXPLAIN_MAX_CHANGES; texts truncated to fit). */
void cvm_explain_add_change(struct cvm_explain_result *out, const char *key, const char *from,
			    const char *to);

#endif
