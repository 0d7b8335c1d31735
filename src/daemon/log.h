/* Logging: one call per message, routed to the journal (with structured
 * fields), syslog or stderr, and fanned out as progress lines to whoever
 * asked (whack, D-Bus Progress, Varlink Initiate with "more").
 *
 * Every message kind has a stable MESSAGE_ID so journal users can filter it. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "common/debug_class.h"   /* the classes DBG() takes */
#include "common/errors.h"

struct connection;
struct state;

enum log_target { LOG_TO_SYSLOG, LOG_TO_JOURNAL, LOG_TO_STDERR };

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
/* stderr lines are buffered (log.c says when they go out): log_flush
 * writes them now (before a fork, or when the caller must know they are
 * out); log_set_event flushes at the next iteration of this loop after
 * a line was buffered (NULL: no loop, every line at once). */
struct sd_event;
void log_flush(void);
int log_set_event(struct sd_event *event);

extern unsigned debug_global;     /* global debug classes */

/* The logger: who a message is about. It gives the "conn" #serial prefix,
 * the CONNECTION= / STATE_SERIAL= journal fields and the progress sinks
 * (whoever waits on the connection). Build one where you log, for free:
 *     llog(STATE_LOGGER(st), LS_INFO, MSGID_STATE, "...");
 * With only a state, the connection is the state's. */
struct logger {
	const struct connection *c;
	const struct state *st;
};
extern const struct logger global_logger;
#define GLOBAL_LOGGER       (&global_logger)
#define CONN_LOGGER(c_)     (&(const struct logger){ .c = (c_), .st = NULL })
#define STATE_LOGGER(st_)   (&(const struct logger){ .c = NULL, .st = (st_) })
#define LOGGER(c_, st_)     (&(const struct logger){ .c = (c_), .st = (st_) })

/* The stream of a message: the ONE place that says which syslog priority
 * goes with which whack code (log.c's stream_table).
 *   LS_INFO     info     RC_LOG          routine progress
 *   LS_NOTICE   notice   RC_LOG          worth noticing, nothing wrong
 *   LS_WARNING  warning  RC_LOG          odd, but nothing failed
 *   LS_SERIOUS  warning  RC_LOG_SERIOUS  something failed (whack shows it as such)
 *   LS_ERROR    err      RC_LOG_SERIOUS  pluto cannot do its job
 * llog_rc() keeps the stream's priority but sends whack another code: the
 * codes whack acts on (RC_SUCCESS, RC_NEW_STATE + n, RC_NOTIFICATION + n,
 * the failure codes it exits with). */
enum log_stream { LS_INFO, LS_NOTICE, LS_WARNING, LS_SERIOUS, LS_ERROR, LS__MAX };
/* Or'ed into a stream: the line also goes to syslog when pluto logs to
 * stderr (started by hand or by a foreign supervisor), for the few
 * failures an admin must find in the system's log whoever started pluto
 * (the bus refusing pluto its name: a policy file not installed). */
#define LS_SYSLOG_TOO 0x100

/* The logging calls. They are macros so that the journal's CODE_FILE,
 * CODE_LINE and CODE_FUNC name the caller, not log.c. */
#define llog(lg, stream, msgid, fmt, ...) \
	log_message((lg), (stream), LOG_RC_OF_STREAM, (msgid), __FILE__, __LINE__, __func__, \
		    fmt, ##__VA_ARGS__)
#define llog_rc(lg, stream, rc, msgid, fmt, ...) \
	log_message((lg), (stream), (int)(rc), (msgid), __FILE__, __LINE__, __func__, \
		    fmt, ##__VA_ARGS__)

/* stream: an enum log_stream, maybe | LS_SYSLOG_TOO;
 * rc: a whack code, or LOG_RC_OF_STREAM for the stream's own */
#define LOG_RC_OF_STREAM (-1)
void log_message(const struct logger *lg, int stream, int rc, enum log_msgid id,
		 const char *file, int line, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));

/* Is debug class `cls` on, globally or for this connection? */
bool debugging(unsigned cls, const struct connection *c);
/* Debug lines start with "| ". */
void dbg_at(const struct connection *c, const struct state *st,
	    const char *file, int line, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
#define dbg_full(c, st, fmt, ...) dbg_at((c), (st), __FILE__, __LINE__, __func__, fmt, ##__VA_ARGS__)
#define DBG(cls, c, fmt, ...) \
	do { if (debugging((cls), (c))) dbg_full((c), NULL, fmt, ##__VA_ARGS__); } while (0)

/* What log needs to know about the subject of a message. log sits below
 * the connections and states it names (they log), so the layer that
 * defines them registers these (connections.c, when it is loaded) instead
 * of log calling up. Unregistered, messages carry no prefix and go to no
 * progress sink. */
struct log_subject_ops {
	const char *(*connection_name)(const struct connection *c);
	unsigned (*connection_debug)(const struct connection *c);   /* its debug classes */
	unsigned (*state_serial)(const struct state *st);
	const struct connection *(*state_connection)(const struct state *st);
	/* a formatted line about c (and st): to whoever waits on c, and as an event */
	void (*progress_line)(const struct connection *c, const struct state *st,
			      enum whack_rc rc, const char *line);
};
void log_set_subject_ops(const struct log_subject_ops *ops);

/* Only for tests: capture every formatted log line (without the prefix of
 * the target) through this hook. */
typedef void (*log_hook_fn)(int priority, const char *line, void *ud);
void log_set_hook(log_hook_fn fn, void *ud);
