/* log.c: the "conn" #serial prefix, "| " debug lines, debug classes
 * globally and per connection, progress fan-out, and the journal fields
 * (CONNECTION=, STATE_SERIAL=, MESSAGE_ID=) of a message about a state,
 * which the integration tests cannot reach while there is no IKE engine. */
#include <errno.h>
#include <glib.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/events.h"
#include "daemon/journal.h"
#include "daemon/log.h"
#include "daemon/progress.h"
#include "daemon/state.h"

/* every line log.c formats, through its test hook */
static GPtrArray *lines;
static GArray *priorities;

static void capture(int priority, const char *line, void *ud)
{
	g_ptr_array_add(lines, g_strdup(line));
	g_array_append_val(priorities, priority);
}

static void reset_capture(void)
{
	g_ptr_array_set_size(lines, 0);
	g_array_set_size(priorities, 0);
}

static struct connection *add(const char *name)
{
	const char *keys[] = { "left", "right" };
	const char *values[] = { "127.0.0.1", "192.0.2.2" };
	struct connection *c = NULL;
	struct ctl_error err = { 0 };
	int r = ctl_add_connection(name, keys, values, 2, &c, &err);
	if (r < 0)
		g_error("adding %s: %s", name, err.message);
	g_assert_nonnull(c);
	return c;
}

static void teardown_all(void)
{
	states_delete_all();
	connections_delete_all();
	debug_global = 0;
	reset_capture();
}

static void test_prefixes(void)
{
	struct connection *c = add("pfx");
	struct state *st = state_new(c, STATE_KIND_ISAKMP, true);
	reset_capture();

	llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "plain");
	llog(CONN_LOGGER(c), LS_INFO, MSGID_GENERIC, "about the connection");
	llog(LOGGER(c, st), LS_INFO, MSGID_STATE, "about the state");
	/* the state alone: the connection comes from the state */
	llog(STATE_LOGGER(st), LS_SERIOUS, MSGID_STATE, "state only");
	llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "an error");

	g_assert_cmpuint(lines->len, ==, 5);
	g_assert_cmpstr(g_ptr_array_index(lines, 0), ==, "plain");
	g_assert_cmpstr(g_ptr_array_index(lines, 1), ==, "\"pfx\": about the connection");
	char *want = g_strdup_printf("\"pfx\" #%u: about the state", st->serial);
	g_assert_cmpstr(g_ptr_array_index(lines, 2), ==, want);
	g_free(want);
	want = g_strdup_printf("\"pfx\" #%u: state only", st->serial);
	g_assert_cmpstr(g_ptr_array_index(lines, 3), ==, want);
	g_free(want);
	g_assert_cmpint(g_array_index(priorities, int, 0), ==, 6);
	g_assert_cmpint(g_array_index(priorities, int, 3), ==, 4);
	g_assert_cmpint(g_array_index(priorities, int, 4), ==, 3);
	teardown_all();
}

static void test_debug_classes(void)
{
	unsigned mask;
	bool none;
	g_assert_true(debug_class_parse("control", &mask, &none));
	g_assert_cmpuint(mask, ==, DBG_CONTROL);
	g_assert_false(none);
	g_assert_true(debug_class_parse("all", &mask, &none));
	g_assert_cmpuint(mask, ==, DBG_ALL_NONPRIVATE);
	g_assert_false(mask & DBG_PRIVATE);   /* "all" never shows secrets */
	g_assert_true(debug_class_parse("none", &mask, &none));
	g_assert_true(none);
	g_assert_cmpuint(mask, ==, 0);
	g_assert_false(debug_class_parse("nonsense", &mask, &none));
	g_assert_false(debug_class_parse("", &mask, &none));

	const char *names[16];
	g_assert_cmpuint(debug_class_list(DBG_RAW | DBG_KLIPS, names, G_N_ELEMENTS(names)), ==, 2);
	g_assert_cmpstr(names[0], ==, "raw");
	g_assert_cmpstr(names[1], ==, "klips");
	g_assert_null(names[2]);
	g_assert_cmpuint(debug_class_list(0, names, G_N_ELEMENTS(names)), ==, 0);
	g_assert_null(names[0]);
	/* every class has a distinct bit and a name */
	unsigned seen = 0;
	for (unsigned i = 0; i < debug_class_count; i++) {
		g_assert_nonnull(debug_class_names[i].name);
		g_assert_cmpuint(seen & debug_class_names[i].bit, ==, 0);
		seen |= debug_class_names[i].bit;
	}
}

/* the man pages name every class of the one table (src/common/debug_class.c) */
static gboolean has_word(const char *text, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = strstr(text, word); p; p = strstr(p + 1, word))
		if ((p == text || !g_ascii_isalnum(p[-1])) && !g_ascii_isalnum(p[n]))
			return TRUE;
	return FALSE;
}

static void test_debug_classes_documented(void)
{
	const char *srcdir = g_getenv("SRCDIR");
	if (!srcdir) {
		g_test_skip("SRCDIR not set");
		return;
	}
	g_autofree char *pluto8 = NULL, *whack8 = NULL;
	g_autofree char *pluto_path = g_build_filename(srcdir, "man", "pluto.8", NULL);
	g_autofree char *whack_path = g_build_filename(srcdir, "man", "whack.8", NULL);
	g_assert_true(g_file_get_contents(pluto_path, &pluto8, NULL, NULL));
	g_assert_true(g_file_get_contents(whack_path, &whack8, NULL, NULL));
	/* whack(8): the list after "Classes:" up to the next paragraph */
	const char *classes = strstr(whack8, "Classes:");
	g_assert_nonnull(classes);
	const char *end = strstr(classes, "\n.TP");
	g_autofree char *whack_list = g_strndup(classes, end ? (size_t)(end - classes) : strlen(classes));
	for (unsigned i = 0; i < debug_class_count; i++) {
		const char *name = debug_class_names[i].name;
		g_autofree char *entry = g_strdup_printf("\n.B %s\n", name);
		if (!strstr(pluto8, entry))
			g_error("pluto(8) has no entry \".B %s\" for debug class %s", name, name);
		if (!has_word(whack_list, name))
			g_error("whack(8) does not list debug class %s", name);
	}
}

static void test_debug_lines(void)
{
	struct connection *a = add("dbga"), *b = add("dbgb");
	reset_capture();

	DBG(DBG_CONTROL, a, "invisible %d", 1);
	g_assert_cmpuint(lines->len, ==, 0);

	a->debug = DBG_CONTROL;                 /* per connection */
	DBG(DBG_CONTROL, a, "seen for a");
	DBG(DBG_CONTROL, b, "not for b");
	DBG(DBG_CONTROL, NULL, "not global");
	DBG(DBG_CRYPT, a, "not another class");
	g_assert_cmpuint(lines->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(lines, 0), ==, "| \"dbga\": seen for a");
	g_assert_cmpint(g_array_index(priorities, int, 0), ==, 7);

	reset_capture();
	a->debug = 0;
	debug_global = DBG_CONTROL;             /* globally */
	DBG(DBG_CONTROL, b, "b now");
	DBG(DBG_CONTROL, NULL, "global now");
	g_assert_cmpuint(lines->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(lines, 0), ==, "| \"dbgb\": b now");
	g_assert_cmpstr(g_ptr_array_index(lines, 1), ==, "| global now");
	g_assert_true(debugging(DBG_CONTROL, NULL));
	g_assert_false(debugging(DBG_RAW, b));
	teardown_all();
}

/* the same control path the front ends use: SetDebug, global and per connection */
static void test_set_debug(void)
{
	struct connection *a = add("sda");
	struct ctl_error err = { 0 };
	const char *ctl[] = { "control" }, *bad[] = { "bogus" }, *none[] = { "none" };
	g_assert_cmpint(ctl_set_debug(ctl, 1, "sda", &err), ==, 0);
	g_assert_cmpuint(a->debug, ==, DBG_CONTROL);
	g_assert_cmpuint(debug_global, ==, 0);
	g_assert_cmpint(ctl_set_debug(bad, 1, NULL, &err), ==, -1);
	g_assert_nonnull(strstr(err.message, "bogus"));
	g_assert_cmpint(ctl_set_debug(ctl, 1, NULL, &err), ==, 0);
	g_assert_cmpuint(debug_global, ==, DBG_CONTROL);
	g_assert_cmpint(ctl_set_debug(none, 1, NULL, &err), ==, 0);
	g_assert_cmpuint(debug_global, ==, 0);
	g_assert_cmpint(ctl_set_debug(none, 1, "sda", &err), ==, 0);
	g_assert_cmpuint(a->debug, ==, 0);
	teardown_all();
}

/* progress lines: a connection's log lines reach its sinks, others' do not */
struct sink_log { GPtrArray *texts; GArray *codes; };

static void sink_line(void *ctx, unsigned rc, const char *text)
{
	struct sink_log *l = ctx;
	g_ptr_array_add(l->texts, g_strdup(text));
	g_array_append_val(l->codes, rc);
}

static void sink_done(void *ctx, const struct ctl_error *err)
{
}

static void test_progress(void)
{
	struct connection *a = add("pga"), *b = add("pgb");
	struct sink_log l = { g_ptr_array_new_with_free_func(g_free), g_array_new(FALSE, FALSE, sizeof(unsigned)) };
	struct progress_sink sink = { .line = sink_line, .done = sink_done, .ctx = &l };
	progress_sink_attach(a, &sink);
	llog(CONN_LOGGER(a), LS_INFO, MSGID_GENERIC, "to a");
	llog(CONN_LOGGER(b), LS_INFO, MSGID_GENERIC, "to b");
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "to nobody");
	llog(CONN_LOGGER(a), LS_ERROR, MSGID_NEGOTIATION_FAILED, "serious");
	progress_sink_detach(a, &sink);
	llog(CONN_LOGGER(a), LS_INFO, MSGID_GENERIC, "after detach");
	g_assert_cmpuint(l.texts->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(l.texts, 0), ==, "\"pga\": to a");
	g_assert_cmpuint(g_array_index(l.codes, unsigned, 0), ==, RC_LOG);
	g_assert_cmpstr(g_ptr_array_index(l.texts, 1), ==, "\"pga\": serious");
	g_assert_cmpuint(g_array_index(l.codes, unsigned, 1), ==, RC_LOG_SERIOUS);
	g_ptr_array_unref(l.texts);
	g_array_unref(l.codes);
	teardown_all();
}

/* the stream table: each stream's syslog priority and whack code, and
 * llog_rc() changing the code but not the priority */
static void test_streams(void)
{
	struct connection *a = add("str");
	struct sink_log l = { g_ptr_array_new_with_free_func(g_free), g_array_new(FALSE, FALSE, sizeof(unsigned)) };
	struct progress_sink sink = { .line = sink_line, .done = sink_done, .ctx = &l };
	progress_sink_attach(a, &sink);
	reset_capture();
	static const struct { enum log_stream stream; int priority; unsigned rc; } want[] = {
		{ LS_INFO, 6, RC_LOG },
		{ LS_NOTICE, 5, RC_LOG },
		{ LS_WARNING, 4, RC_LOG },
		{ LS_SERIOUS, 4, RC_LOG_SERIOUS },
		{ LS_ERROR, 3, RC_LOG_SERIOUS },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++)
		llog(CONN_LOGGER(a), want[i].stream, MSGID_GENERIC, "stream %u", i);
	llog_rc(CONN_LOGGER(a), LS_INFO, RC_SUCCESS, MSGID_STATE, "success");
	llog_rc(CONN_LOGGER(a), LS_SERIOUS, RC_NOTIFICATION + 14, MSGID_NEGOTIATION_FAILED, "failed");
	progress_sink_detach(a, &sink);
	g_assert_cmpuint(lines->len, ==, G_N_ELEMENTS(want) + 2);
	g_assert_cmpuint(l.codes->len, ==, G_N_ELEMENTS(want) + 2);
	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++) {
		g_assert_cmpint(g_array_index(priorities, int, i), ==, want[i].priority);
		g_assert_cmpuint(g_array_index(l.codes, unsigned, i), ==, want[i].rc);
	}
	unsigned n = G_N_ELEMENTS(want);
	g_assert_cmpint(g_array_index(priorities, int, n), ==, 6);
	g_assert_cmpuint(g_array_index(l.codes, unsigned, n), ==, RC_SUCCESS);
	g_assert_cmpint(g_array_index(priorities, int, n + 1), ==, 4);
	g_assert_cmpuint(g_array_index(l.codes, unsigned, n + 1), ==, RC_NOTIFICATION + 14);
	g_assert_cmpstr(g_ptr_array_index(lines, n + 1), ==, "\"str\": failed");
	g_ptr_array_unref(l.texts);
	g_array_unref(l.codes);
	teardown_all();
}

/* --- journal fields: a private mount namespace with our own journal socket --- */

static char *recv_datagram(int fd)
{
	char buf[8192];
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	g_assert_cmpint(n, >, 0);
	buf[n] = '\0';
	return g_strdup(buf);
}

/* value of KEY= in a native-protocol datagram (all our values are one line) */
static char *field(const char *dgram, const char *key)
{
	g_auto(GStrv) parts = g_strsplit(dgram, "\n", -1);
	size_t klen = strlen(key);
	for (char **p = parts; *p; p++)
		if (strncmp(*p, key, klen) == 0 && (*p)[klen] == '=')
			return g_strdup(*p + klen + 1);
	return NULL;
}

static void test_journal_fields(void)
{
	if (geteuid() != 0) {
		g_test_skip("needs root for a private mount namespace");
		return;
	}
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		g_test_skip("cannot create a private mount namespace");
		return;
	}
	mkdir("/run/systemd", 0755);
	g_assert_cmpint(mount("tmpfs", "/run/systemd", "tmpfs", 0, "mode=0755"), ==, 0);
	g_assert_cmpint(mkdir("/run/systemd/journal", 0755), ==, 0);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/socket" };
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);

	log_init(LOG_TO_JOURNAL, "pluto");
	g_assert_cmpint(log_target_get(), ==, LOG_TO_JOURNAL);
	struct connection *c = add("jrnl");
	g_free(recv_datagram(fd));          /* "added connection description" */
	struct state *st = state_new(c, STATE_KIND_IPSEC, false);
	llog(LOGGER(c, st), LS_NOTICE, MSGID_STATE, "state message");
	char *d = recv_datagram(fd);
	char *want = g_strdup_printf("\"jrnl\" #%u: state message", st->serial);
	char *serial = g_strdup_printf("%u", st->serial);
	g_autofree char *msg = field(d, "MESSAGE"), *prio = field(d, "PRIORITY"),
			*id = field(d, "MESSAGE_ID"), *conn = field(d, "CONNECTION"),
			*ser = field(d, "STATE_SERIAL"), *ident = field(d, "SYSLOG_IDENTIFIER");
	g_assert_cmpstr(msg, ==, want);
	g_assert_cmpstr(prio, ==, "5");
	g_assert_cmpstr(conn, ==, "jrnl");
	g_assert_cmpstr(ser, ==, serial);
	g_assert_cmpstr(ident, ==, "pluto");
	g_assert_nonnull(id);
	g_assert_cmpuint(strlen(id), ==, 32);
	g_assert_cmpuint(strspn(id, "0123456789abcdef"), ==, 32);
	/* the journal names the caller, not log.c */
	g_autofree char *code_file = field(d, "CODE_FILE"), *code_func = field(d, "CODE_FUNC"),
			*code_line = field(d, "CODE_LINE");
	g_assert_nonnull(code_file);
	g_assert_true(g_str_has_suffix(code_file, "test-log.c"));
	g_assert_cmpstr(code_func, ==, "test_journal_fields");
	g_assert_nonnull(code_line);
	g_assert_cmpint(atoi(code_line), >, 0);
	g_free(d);

	/* a state without its connection argument: fields from the state */
	llog(STATE_LOGGER(st), LS_INFO, MSGID_STATE, "again");
	d = recv_datagram(fd);
	g_autofree char *id2 = field(d, "MESSAGE_ID"), *conn2 = field(d, "CONNECTION"),
			*ser2 = field(d, "STATE_SERIAL");
	g_assert_cmpstr(id2, ==, id);       /* stable per kind of message */
	g_assert_cmpstr(conn2, ==, "jrnl");
	g_assert_cmpstr(ser2, ==, serial);
	g_free(d);

	/* another kind: another MESSAGE_ID; no connection: no CONNECTION= */
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "generic");
	d = recv_datagram(fd);
	g_autofree char *id3 = field(d, "MESSAGE_ID"), *conn3 = field(d, "CONNECTION"),
			*ser3 = field(d, "STATE_SERIAL");
	g_assert_cmpstr(id3, !=, id);
	g_assert_null(conn3);
	g_assert_null(ser3);
	g_free(d);

	/* debug lines carry the fields too */
	debug_global = DBG_LIFECYCLE;
	dbg_full(c, st, "dbg %d", 7);
	d = recv_datagram(fd);
	g_autofree char *m4 = field(d, "MESSAGE"), *p4 = field(d, "PRIORITY"), *s4 = field(d, "STATE_SERIAL");
	g_assert_true(g_str_has_prefix(m4, "| \"jrnl\" #"));
	g_assert_cmpstr(p4, ==, "7");
	g_autofree char *f4 = field(d, "CODE_FILE"), *fn4 = field(d, "CODE_FUNC");
	g_assert_true(f4 && g_str_has_suffix(f4, "test-log.c"));
	g_assert_cmpstr(fn4, ==, "test_journal_fields");
	g_assert_cmpstr(s4, ==, serial);
	g_free(d);

	/* a value with a newline: the protocol's binary form, the length
	 * as 64-bit little endian (journal.c) */
	const struct iovec two[] = { { (char *)"MESSAGE=a\nb", 11 }, { (char *)"PRIORITY=6", 10 } };
	g_assert_cmpint(journal_sendv(two, 2, true), ==, 0);
	char raw[64];
	ssize_t got = recv(fd, raw, sizeof(raw), 0);
	static const char want_raw[] = "MESSAGE\n\x03\0\0\0\0\0\0\0a\nb\nPRIORITY=6\n";
	g_assert_cmpint(got, ==, sizeof(want_raw) - 1);
	g_assert_cmpmem(raw, (size_t)got, want_raw, sizeof(want_raw) - 1);
	/* a field without '=' is refused, nothing sent */
	const struct iovec bad[] = { { (char *)"MESSAGE", 7 } };
	g_assert_cmpint(journal_sendv(bad, 1, true), ==, -EINVAL);

	g_free(want);
	g_free(serial);
	close(fd);
	log_init(LOG_TO_STDERR, "pluto");
	teardown_all();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	lines = g_ptr_array_new_with_free_func(g_free);
	priorities = g_array_new(FALSE, FALSE, sizeof(int));
	log_init(LOG_TO_STDERR, "pluto");
	log_set_hook(capture, NULL);
	g_test_add_func("/log/prefixes", test_prefixes);
	g_test_add_func("/log/debug-classes", test_debug_classes);
	g_test_add_func("/log/debug-classes-documented", test_debug_classes_documented);
	g_test_add_func("/log/debug-lines", test_debug_lines);
	g_test_add_func("/log/set-debug", test_set_debug);
	g_test_add_func("/log/progress", test_progress);
	g_test_add_func("/log/streams", test_streams);
	g_test_add_func("/log/journal-fields", test_journal_fields);
	int r = g_test_run();
	log_set_hook(NULL, NULL);
	g_ptr_array_unref(lines);
	g_array_unref(priorities);
	return r;
}
