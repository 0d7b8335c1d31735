/* Logging: one call per message, routed to the journal (with structured
 * fields), syslog or stderr, and fanned out as progress lines to whoever
 * asked (whack, D-Bus Progress, Varlink Initiate with "more").
 *
 * Every message kind has a stable MESSAGE_ID so journal users can filter it. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "common/errors.h"

struct connection;
struct state;

enum log_target { LOG_TO_SYSLOG, LOG_TO_JOURNAL, LOG_TO_STDERR };

/* Debug classes: the FreeS/WAN set, one bit each; names in debug_class_names. */
enum debug_class {
	DBG_RAW       = 1u << 0,
	DBG_CRYPT     = 1u << 1,
	DBG_PARSING   = 1u << 2,
	DBG_EMITTING  = 1u << 3,
	DBG_CONTROL   = 1u << 4,
	DBG_LIFECYCLE = 1u << 5,
	DBG_KLIPS     = 1u << 6,
	DBG_DNS       = 1u << 7,
	DBG_OPPO      = 1u << 8,
	DBG_PRIVATE   = 1u << 9,
};
#define DBG_ALL_NONPRIVATE (DBG_RAW | DBG_CRYPT | DBG_PARSING | DBG_EMITTING | DBG_CONTROL | \
                            DBG_LIFECYCLE | DBG_KLIPS | DBG_DNS | DBG_OPPO)

struct debug_class_name { const char *name; unsigned bit; };
extern const struct debug_class_name debug_class_names[];
extern const unsigned debug_class_count;

/* "all", "none", or a class name -> mask; false when unknown. */
bool debug_class_parse(const char *name, unsigned *mask, bool *is_none);
/* names of the bits set in mask, NULL-terminated array of static strings */
unsigned debug_class_list(unsigned mask, const char *out[], unsigned max);

/* Stable message ids (sd-id128 strings), one per kind of message. */
enum log_msgid {
	MSGID_GENERIC = 0,
	MSGID_STARTUP,
	MSGID_SHUTDOWN,
	MSGID_CONNECTION_ADDED,
	MSGID_CONNECTION_DELETED,
	MSGID_LISTEN,
	MSGID_INTERFACE,
	MSGID_SECRETS,
	MSGID_STATE,
	MSGID_NEGOTIATION_FAILED,
	MSGID_CONTROL,
	MSGID__MAX
};

void log_init(enum log_target target, const char *ident);
enum log_target log_target_get(void);

extern unsigned debug_global;     /* global debug classes */

/* The main logging call. rc is the whack code (RC_LOG for plain logs);
 * c and st (either may be NULL) give the "conn" #serial prefix and the
 * CONNECTION= / STATE_SERIAL= journal fields; priority is syslog's. */
void plog_full(int priority, enum log_msgid id, enum whack_rc rc,
	       const struct connection *c, const struct state *st,
	       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#define plog(fmt, ...) plog_full(6 /*LOG_INFO*/, MSGID_GENERIC, RC_LOG, NULL, NULL, fmt, ##__VA_ARGS__)
#define plog_err(fmt, ...) plog_full(3 /*LOG_ERR*/, MSGID_GENERIC, RC_LOG_SERIOUS, NULL, NULL, fmt, ##__VA_ARGS__)
#define clog(c, fmt, ...) plog_full(6, MSGID_GENERIC, RC_LOG, (c), NULL, fmt, ##__VA_ARGS__)

/* Is debug class `cls` on, globally or for this connection? */
bool debugging(unsigned cls, const struct connection *c);
/* Debug lines start with "| ". */
void dbg_full(const struct connection *c, const struct state *st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define DBG(cls, c, fmt, ...) \
	do { if (debugging((cls), (c))) dbg_full((c), NULL, fmt, ##__VA_ARGS__); } while (0)

/* Only for tests: capture every formatted log line (without the prefix of
 * the target) through this hook. */
typedef void (*log_hook_fn)(int priority, const char *line, void *ud);
void log_set_hook(log_hook_fn fn, void *ud);
