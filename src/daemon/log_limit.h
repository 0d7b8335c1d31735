/* Rate-limited logging of what unauthenticated peers trigger (issue 14
 * point 2): malformed datagrams, unknown cookies, MI1s no connection
 * admits, half-open negotiations refused, replaced or timed out, proposal
 * failures before authentication. Each such line costs the attacker one
 * datagram and us a journal write, so they go through two token buckets:
 *
 *   per source address: a burst of LOG_LIMIT_SOURCE_BURST lines, then one
 *     every LOG_LIMIT_SOURCE_INTERVAL_USEC;
 *   global (all sources together): a burst of LOG_LIMIT_GLOBAL_BURST,
 *     then one every LOG_LIMIT_GLOBAL_INTERVAL_USEC.
 *
 * A line that either bucket refuses is counted, not written; every
 * LOG_LIMIT_REPORT_USEC while some were, one line says
 *   "N similar messages from unauthenticated peers suppressed in the last
 *    5 s (the last from ADDR)".
 * Sources sit in a fixed direct-mapped table (LOG_LIMIT_SOURCES slots,
 * by address hash): a source that collides takes the slot over with a
 * fresh bucket, which lets random forged addresses each have their
 * burst, but never past the global bucket. Memory is fixed; the cost is
 * one hash and a compare per line. Debug output (DBG) is never limited,
 * nor is anything about authenticated peers or the operator's commands. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "common/ip.h"
#include "daemon/log.h"

struct sd_event;

#define LOG_LIMIT_SOURCE_BURST 10
#define LOG_LIMIT_SOURCE_INTERVAL_USEC (10 * 1000 * 1000ULL)
#define LOG_LIMIT_GLOBAL_BURST 50
#define LOG_LIMIT_GLOBAL_INTERVAL_USEC (200 * 1000ULL)
#define LOG_LIMIT_REPORT_USEC (5 * 1000 * 1000ULL)
#define LOG_LIMIT_SOURCES 1024

/* The loop the report timer runs on. */
void log_limit_set_event(struct sd_event *event);
/* May a line about an unauthenticated message from `from` be written
 * now? False: counted as suppressed. */
bool log_limit_allow(const ip_address *from);
/* The same at a given monotonic time (unit tests). */
bool log_limit_allow_at(const ip_address *from, uint64_t now_usec);
uint64_t log_limit_suppressed_total(void);
/* Forget all buckets (unit tests). */
void log_limit_reset(void);

/* llog for a line an unauthenticated peer at `from` can trigger. */
#define llog_peer(from, lg, stream, msgid, fmt, ...)                              \
	do {                                                                      \
		if (log_limit_allow(from))                                        \
			llog((lg), (stream), (msgid), fmt, ##__VA_ARGS__);        \
	} while (0)
