#include "daemon/log.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "common/util.h"
#include "daemon/journal.h"

/* Generated once with `systemd-id128 new`; never change a published one. */
static const char *const msgid_table[MSGID__MAX] = {
	[MSGID_GENERIC]            = "3089be789cc94e1488b905dffad183b7",
	[MSGID_STARTUP]            = "42661d3d96ce4a7f8d8844ff0a057233",
	[MSGID_SHUTDOWN]           = "045fe6009c344a31a8af0e428a95328a",
	[MSGID_CONNECTION_ADDED]   = "affd8e1a0dbd4389afe802b9503459b6",
	[MSGID_CONNECTION_DELETED] = "6fc5a20148864bcd9f337474990c1481",
	[MSGID_LISTEN]             = "368f829e2e5f4a68a5e677e19c5bcda3",
	[MSGID_INTERFACE]          = "60ddbc72d26a458d9a319d2ee66d3394",
	[MSGID_SECRETS]            = "570cab9e6b254a93bcc36f2e7290adc6",
	[MSGID_STATE]              = "81835db45a7542a087d44d597833b89e",
	[MSGID_NEGOTIATION_FAILED] = "ea09440fca9c42d3a6d54917f20e58e9",
	[MSGID_CONTROL]            = "3c6e259143944da8a4312e9fe3c4eb5b",
};

unsigned debug_global;
static enum log_target target = LOG_TO_STDERR;
/* the line being emitted goes to syslog as well (LS_SYSLOG_TOO) */
static bool also_syslog;
static log_hook_fn hook;
static void *hook_ud;
/* log sits below the connections and states it names: it knows them only
 * through what their layer registers (connections.c, at load time). */
static const struct log_subject_ops *subject;

/* --- the stderr buffer ---
 * Lines to stderr (a terminal, a file, a pipe) are gathered and written
 * in one write(2) at the loop's next iteration (a defer source, switched
 * on by the first line that waits: log_set_event), instead of one write
 * per line: a handshake logs about ten lines. A line logged while the
 * loop is idle (start-up, before it runs) goes out at its first turn. They also go out when the buffer is nearly full, when the
 * oldest buffered line is FLUSH_AFTER_MS old (a long iteration), at exit
 * and, where a signal handler can, on a crash. The journal and syslog
 * take one datagram per message whatever we do: they are not buffered.
 * The log hook (progress lines, tests) sees every line at once. */
#define BUF_SIZE (64 * 1024)
#define FLUSH_AT (BUF_SIZE - 2048)   /* room for the longest line */
#define FLUSH_AFTER_MS 200

static char out_buf[BUF_SIZE];
static size_t out_used;
static long long out_since_ms;       /* when the oldest buffered line came */
static sd_event_source *flush_source;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Only write(2): also called from the crash handler. */
static void write_out(void)
{
	size_t done = 0;
	while (done < out_used) {
		ssize_t n = write(STDERR_FILENO, out_buf + done, out_used - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;   /* stderr is gone: nothing better to do with the lines */
		done += (size_t)n;
	}
	out_used = 0;
}

void log_flush(void)
{
	if (out_used)
		write_out();
}

static void buffer_line(const char *line)
{
	size_t len = strlen(line);
	if (len > BUF_SIZE - 1 - out_used)
		write_out();
	if (len > BUF_SIZE - 1)
		len = BUF_SIZE - 1;
	if (out_used == 0) {
		out_since_ms = now_ms();
		if (flush_source)
			sd_event_source_set_enabled(flush_source, SD_EVENT_ONESHOT);
	}
	memcpy(out_buf + out_used, line, len);
	out_used += len;
	out_buf[out_used++] = '\n';
	/* without a loop nothing else would flush: write at once */
	if (!flush_source || out_used >= FLUSH_AT || now_ms() - out_since_ms >= FLUSH_AFTER_MS)
		write_out();
}

static int on_loop_iteration(sd_event_source *s, void *ud)
{
	log_flush();
	return 0;
}

int log_set_event(sd_event *event)
{
	flush_source = sd_event_source_disable_unref(flush_source);
	log_flush();
	if (!event)
		return 0;
	int r = sd_event_add_defer(event, &flush_source, on_loop_iteration, NULL);
	if (r >= 0)
		sd_event_source_set_enabled(flush_source, SD_EVENT_OFF);
	return r;
}

/* A crash must not take the last lines with it (they say what led to
 * it). Not under AddressSanitizer, whose own handler reports better. */
#if defined(__SANITIZE_ADDRESS__)
#define LOG_CRASH_HANDLER 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOG_CRASH_HANDLER 0
#endif
#endif
#ifndef LOG_CRASH_HANDLER
#define LOG_CRASH_HANDLER 1
#endif

static void on_crash(int sig)
{
	write_out();
	raise(sig);   /* SA_RESETHAND: the default action now */
}

static void install_crash_flush(void)
{
	if (!LOG_CRASH_HANDLER)
		return;
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	struct sigaction sa = { .sa_handler = on_crash, .sa_flags = SA_RESETHAND | SA_NODEFER };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

void log_init(enum log_target t, const char *ident)
{
	target = t;
	if (t == LOG_TO_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
	if (t == LOG_TO_STDERR) {
		static bool once;
		if (!once) {
			atexit(log_flush);
			install_crash_flush();
			once = true;
		}
	}
}

enum log_target log_target_get(void)
{
	return target;
}

void log_set_hook(log_hook_fn fn, void *ud)
{
	hook = fn;
	hook_ud = ud;
}

void log_set_subject_ops(const struct log_subject_ops *ops)
{
	subject = ops;
}

static const char *conn_name(const struct connection *c)
{
	return subject ? subject->connection_name(c) : "";
}

static unsigned state_serial(const struct state *st)
{
	return subject ? subject->state_serial(st) : 0;
}

bool debugging(unsigned cls, const struct connection *c)
{
	return (debug_global & cls) || (c && subject && (subject->connection_debug(c) & cls));
}

/* The classic prefix: "conn" #serial: , written at the start of buf;
 * returns its length (at most len - 1). */
static size_t format_prefix(char *buf, size_t len, const struct connection *c, const struct state *st)
{
	int n = 0;
	buf[0] = '\0';
	if (c && st)
		n = snprintf(buf, len, "\"%s\" #%u: ", conn_name(c), state_serial(st));
	else if (c)
		n = snprintf(buf, len, "\"%s\": ", conn_name(c));
	else if (st)
		n = snprintf(buf, len, "#%u: ", state_serial(st));
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

/* A whole line: lead (for debug lines "| "), the prefix, then the
 * message, formatted once into line (a log line is written for nearly
 * every packet, so no intermediate copies). */
static void format_line(char *line, size_t len, const char *lead, const struct connection *c,
			const struct state *st, const char *fmt, va_list ap)
{
	size_t used = strlen(lead) < len ? strlen(lead) : 0;
	memcpy(line, lead, used);
	used += format_prefix(line + used, len - used, c, st);
	vsnprintf(line + used, len - used, fmt, ap);
}

/* ONE table: a stream's syslog priority and the whack code it carries. */
static const struct {
	int priority;
	enum whack_rc rc;
} stream_table[LS__MAX] = {
	[LS_INFO]    = { LOG_INFO,    RC_LOG },
	[LS_NOTICE]  = { LOG_NOTICE,  RC_LOG },
	[LS_WARNING] = { LOG_WARNING, RC_LOG },
	[LS_SERIOUS] = { LOG_WARNING, RC_LOG_SERIOUS },
	[LS_ERROR]   = { LOG_ERR,     RC_LOG_SERIOUS },
};

const struct logger global_logger = { .c = NULL, .st = NULL };

/* Where a call is: the journal's CODE_* fields name the caller. */
struct log_where {
	const char *file;
	int line;
	const char *func;
};

static void send_journal(int priority, enum log_msgid id, const struct connection *c,
			 const struct state *st, const struct log_where *at, const char *line)
{
	char message[1300], prio[32], msgid[64], conn[200], serial[40];
	char code_file[300], code_line[40], code_func[160];
	struct iovec iov[10];
	size_t n = 0;
#define FIELD(buf, ...) do { \
		int len_ = snprintf(buf, sizeof(buf), __VA_ARGS__); \
		iov[n++] = (struct iovec){ .iov_base = buf, \
			.iov_len = len_ < (int)sizeof(buf) ? (size_t)len_ : sizeof(buf) - 1 }; \
	} while (0)
	FIELD(message, "MESSAGE=%s", line);
	FIELD(prio, "PRIORITY=%d", priority);
	FIELD(msgid, "MESSAGE_ID=%s", msgid_table[id]);
	iov[n++] = (struct iovec){ .iov_base = (char *)"SYSLOG_IDENTIFIER=pluto",
				   .iov_len = strlen("SYSLOG_IDENTIFIER=pluto") };
	if (c)
		FIELD(conn, "CONNECTION=%s", conn_name(c));
	if (st)
		FIELD(serial, "STATE_SERIAL=%u", state_serial(st));
	FIELD(code_file, "CODE_FILE=%s", at->file);
	FIELD(code_line, "CODE_LINE=%d", at->line);
	FIELD(code_func, "CODE_FUNC=%s", at->func);
#undef FIELD
	/* not sd_journal_sendv: it neither says when the journal is gone
	 * nor stops waiting for a journald that does not read (journal.c) */
	journal_log(priority, iov, n, line);
}

static void emit(int priority, enum log_msgid id, const struct connection *c,
		 const struct state *st, const struct log_where *at, const char *line)
{
	if (hook)
		hook(priority, line, hook_ud);
	switch (target) {
	case LOG_TO_STDERR:
		buffer_line(line);
		if (also_syslog)
			syslog(LOG_AUTHPRIV | priority, "%s", line);
		break;
	case LOG_TO_SYSLOG:
		syslog(priority, "%s", line);
		break;
	case LOG_TO_JOURNAL:
		send_journal(priority, id, c, st, at, line);
		break;
	}
}

static void vlog_line(int priority, enum whack_rc rc, enum log_msgid id, const struct connection *c,
		      const struct state *st, const struct log_where *at, const char *fmt, va_list ap)
{
	char line[1200];
	if ((unsigned)id >= MSGID__MAX)
		id = MSGID_GENERIC;
	if (!c && st && subject)
		c = subject->state_connection(st);
	format_line(line, sizeof(line), "", c, st, fmt, ap);
	emit(priority, id, c, st, at, line);

	/* progress: to whoever waits on this connection, and as an event */
	if (c && subject)
		subject->progress_line(c, st, rc, line);
}

void log_message(const struct logger *lg, int stream, int rc, enum log_msgid id,
		 const char *file, int line, const char *func, const char *fmt, ...)
{
	bool syslog_too = (stream & LS_SYSLOG_TOO) != 0;
	stream &= ~LS_SYSLOG_TOO;
	if ((unsigned)stream >= LS__MAX)
		stream = LS_INFO;
	if (!lg)
		lg = GLOBAL_LOGGER;
	enum whack_rc code = rc == LOG_RC_OF_STREAM ? stream_table[stream].rc : (enum whack_rc)rc;
	const struct log_where at = { file, line, func };
	va_list ap;
	va_start(ap, fmt);
	/* for emit(): one line at a time, on the loop's thread */
	also_syslog = syslog_too && target == LOG_TO_STDERR;
	vlog_line(stream_table[stream].priority, code, id, lg->c, lg->st, &at, fmt, ap);
	also_syslog = false;
	va_end(ap);
}

void dbg_at(const struct connection *c, const struct state *st,
	    const char *file, int line_no, const char *func, const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	va_start(ap, fmt);
	format_line(line, sizeof(line), "| ", c, st, fmt, ap);
	va_end(ap);
	const struct log_where at = { file, line_no, func };
	emit(LOG_DEBUG, MSGID_GENERIC, c, st, &at, line);
}
