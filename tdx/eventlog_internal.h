/* SPDX-License-Identifier: Apache-2.0 */
/* Private to tdx/tdx_eventlog*.c: the string arena of a parsed log and the event decoder. */
#ifndef CVMKIT_TDX_EVENTLOG_INTERNAL_H
#define CVMKIT_TDX_EVENTLOG_INTERNAL_H

#include <stddef.h>

#include <cvmkit/eventlog.h>

/* Every allocation a log's decoded details make, freed together with the log. */
struct cvm_eventlog_arena {
	void **ptrs;
	size_t n, cap;
};

/* Take ownership of p (freed with the arena); on allocation failure p is freed and -ENOMEM. */
int cvm_el_arena_adopt(struct cvm_eventlog_arena *a, void *p);
void cvm_el_arena_release(struct cvm_eventlog_arena *a);

/*
 * Fill ev->detail from ev->type and ev->data (which must outlive the arena's use).  Data that
 * does not fit its type's layout gives CVM_EVD_MALFORMED, not an error: only -ENOMEM fails.
 */
int cvm_el_decode_event(struct cvm_eventlog_arena *a, struct cvm_eventlog_event *ev);

#endif
