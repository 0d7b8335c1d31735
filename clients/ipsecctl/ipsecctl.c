/* ipsecctl: the modern command line for pluto, a Varlink client. Tables
 * for people, --json for programs (the IDL's field names, unchanged). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "common/bounded_file.h"
#include "common/errors.h"
#include "daemon/conn_options.h"
#include "ipsecctl-args.h"
#include "ipsecctl-show.h"
#include "ipsecctl-table.h"
#include "varlink-client.h"

#define VL(m) "org.freeswan.pluto." m

static struct vl_conn *conn;
static const char *socket_path;

static int connect_daemon(void)
{
	socket_path = vl_socket_path(socket_path);
	int r = vl_connect(socket_path, &conn);
	if (r < 0) {
		char why[512];
		fprintf(stderr, "ipsecctl: %s\n", vl_connect_failure(socket_path, r, why, sizeof(why)));
		return -1;
	}
	return 0;
}

static int lost(int r)
{
	if (r == -ECONNRESET)
		fprintf(stderr, "ipsecctl: pluto at %s closed the connection\n", socket_path);
	else if (r == -EBADMSG)
		fprintf(stderr, "ipsecctl: pluto at %s sent a malformed reply\n", socket_path);
	else
		fprintf(stderr, "ipsecctl: talking to pluto at %s: %s\n", socket_path, strerror(-r));
	return EXIT_NO_DAEMON;
}

static int report_error(const struct vl_reply *reply)
{
	const char *msg = vl_error_message(reply), *name = vl_error_short_name(reply);
	fprintf(stderr, "ipsecctl: %s: %s%s\n", name, *msg ? msg : "(no message)",
		strcmp(name, "PermissionDenied") == 0 ? " (run as root)" : "");
	return EXIT_DAEMON_ERROR;
}

/* r and reply from vl_call or vl_recv: 0 when a reply without error came,
 * else the exit status, with the error reported and the reply cleared. */
static int check_reply(int r, struct vl_reply *reply)
{
	if (r < 0)
		return lost(r);
	if (reply->error) {
		r = report_error(reply);
		vl_reply_clear(reply);
		return r;
	}
	return 0;
}

/* A call with one reply; params is consumed. 0, or an exit status. */
static int call(const char *method, json_object *params, struct vl_reply *out)
{
	struct vl_reply reply;
	int r = vl_call(conn, method, params, &reply);
	json_object_put(params);
	r = check_reply(r, &reply);
	if (r)
		return r;
	if (out)
		*out = reply;
	else
		vl_reply_clear(&reply);
	return 0;
}

static json_object *name_param(const char *name)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "name", json_object_new_string(name));
	return p;
}

/* --- status --- */

/* Status without the whack text, which only --json --text prints: with
 * 10,000 tunnels it is 12 MB of the 28 and half of the daemon's work */
static json_object *status_params(bool text)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "text", json_object_new_boolean(text));
	return p;
}

static int cmd_status(struct ctl_args *a)
{
	struct vl_reply reply;
	if (a->text && !a->json) {
		fprintf(stderr, "ipsecctl: status: --text goes with --json (the whack text: whack --status)\n");
		return EXIT_USAGE;
	}
	if (a->json) {
		/* for programs: the daemon's JSON passed on as it came (compact),
		 * without parsing and printing again megabytes of it */
		const char *text;
		size_t len;
		json_object *params = status_params(a->text);
		int r = check_reply(vl_call_text(conn, VL("Status"), params, &text, &len, &reply), &reply);
		json_object_put(params);
		if (r)
			return r;
		if (text) {
			fwrite(text, 1, len, stdout);
			putchar('\n');
			return 0;
		}
		puts(json_object_to_json_string_ext(reply.parameters, JSON_C_TO_STRING_PLAIN));
		vl_reply_clear(&reply);
		return 0;
	}
	int r = call(VL("Status"), status_table_params(), &reply);
	if (r)
		return r;
	print_status_tables(stdout, reply.parameters);
	vl_reply_clear(&reply);
	return 0;
}

/* --- show --- */

static long long realtime_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void print_json(json_object *obj, int how)
{
	puts(json_object_to_json_string_ext(obj, how | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int cmd_show(struct ctl_args *a)
{
	struct vl_reply reply;
	int r = call(VL("Status"), status_params(false), &reply);
	if (r)
		return r;
	json_object *shown = show_collect(reply.parameters, a->words[0]);
	if (!shown) {
		/* the daemon's own UnknownName, as a method naming it would say */
		fprintf(stderr, "ipsecctl: %s: no connection named \"%s\"\n", pluto_error_info(PE_UNKNOWN_NAME)->name,
			a->words[0]);
		r = EXIT_DAEMON_ERROR;
	} else if (a->json) {
		print_json(shown, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	} else {
		show_print(stdout, shown, realtime_usec());
	}
	json_object_put(shown);
	vl_reply_clear(&reply);
	return r;
}

/* --- lists: for people and for shell completion --- */

static int cmd_list_algs(struct ctl_args *a)
{
	if (a->json) {
		json_object *algs = algs_json();
		print_json(algs, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
		json_object_put(algs);
	} else {
		algs_print(stdout);
	}
	return 0;
}

static void print_keyword(const char *keyword, void *ctx)
{
	fprintf(ctx, "%s\n", keyword);
}

static int cmd_list_keywords(struct ctl_args *a)
{
	conn_option_keywords(print_keyword, stdout);
	return 0;
}

/* Connection names, one a line; quiet and exit 3 without a daemon, as
 * completion calls it whatever the state of the daemon. */
static int cmd_list_names(struct ctl_args *a)
{
	socket_path = vl_socket_path(socket_path);
	if (vl_connect(socket_path, &conn) < 0)
		return EXIT_NO_DAEMON;
	struct vl_reply reply;
	/* completion runs on every TAB: only the names, no state */
	json_object *params = status_params(false), *names = json_object_new_array();
	json_object_array_add(names, json_object_new_string("name"));
	json_object_object_add(params, "connectionFields", names);
	json_object_object_add(params, "stateFields", json_object_new_array());
	int r = vl_call(conn, VL("Status"), params, &reply);
	json_object_put(params);
	if (r < 0 || reply.error) {
		if (r == 0)
			vl_reply_clear(&reply);
		return r < 0 ? EXIT_NO_DAEMON : EXIT_DAEMON_ERROR;
	}
	json_object *conns = NULL;
	json_object_object_get_ex(reply.parameters, "connections", &conns);
	for (size_t i = 0; conns && i < json_object_array_length(conns); i++)
		printf("%s\n", vl_get_string(json_object_array_get_idx(conns, i), "name", ""));
	vl_reply_clear(&reply);
	return 0;
}

/* --- add --- */

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Add key=value to opts, refusing a key given twice. */
static int add_pair(json_object *opts, const char *where, char *pair)
{
	char *eq = strchr(pair, '=');
	if (!eq || eq == pair) {
		fprintf(stderr, "ipsecctl: %s\"%s\" is not key=value\n", where, pair);
		return EXIT_USAGE;
	}
	*eq = '\0';
	char *key = trim(pair), *value = trim(eq + 1);
	size_t vlen = strlen(value);
	if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
		value[vlen - 1] = '\0';
		value++;
	}
	if (json_object_object_get_ex(opts, key, NULL)) {
		fprintf(stderr, "ipsecctl: %soption \"%s\" given twice\n", where, key);
		return EXIT_USAGE;
	}
	json_object_object_add(opts, key, json_object_new_string(value));
	return 0;
}

/* The text of --file, or NULL after saying why: a regular file of at
 * most BOUNDED_FILE_MAX (16 MiB), or "-", standard input, read up to the
 * same size (a pipe is fine there; /dev/zero on it stops at the limit). */
static char *read_input(const char *path, size_t *len)
{
	const char *why;
	char *text;
	if (strcmp(path, "-") == 0) {
		text = bounded_read_fd(STDIN_FILENO, BOUNDED_FILE_MAX, len, &why);
	} else {
		int fd = bounded_open(path, BOUNDED_FILE_MAX, &why);
		text = fd < 0 ? NULL : bounded_read_fd(fd, BOUNDED_FILE_MAX, len, &why);
		if (fd >= 0)
			close(fd);
	}
	if (text && memchr(text, '\0', *len)) {
		why = "a NUL byte: not a text file";
		free(text);
		text = NULL;
	}
	if (!text)
		fprintf(stderr, "ipsecctl: --file %s: %s\n", strcmp(path, "-") == 0 ? "- (standard input)" : path,
			why);
	return text;
}

/* The next line of the text at *cursor, NUL-terminated in place (without
 * its newline); NULL at the end. */
static char *next_line(char **cursor)
{
	char *line = *cursor;
	if (!line || !*line)
		return NULL;
	char *nl = strchr(line, '\n');
	if (nl)
		*nl++ = '\0';
	*cursor = nl;
	return line;
}

static int read_options_file(json_object *opts, const char *path)
{
	size_t len;
	char *text = read_input(path, &len);
	if (!text)
		return EXIT_USAGE;
	unsigned lineno = 0;
	int r = 0;
	char *cursor = text, *line;
	while (r == 0 && (line = next_line(&cursor))) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char where[300];
		snprintf(where, sizeof(where), "%s:%u: ", path, lineno);
		r = add_pair(opts, where, s);
	}
	free(text);
	return r;
}

/* add and replace: NAME key=value... or NAME --file FILE */
static int define(struct ctl_args *a, const char *verb, const char *method)
{
	json_object *opts = json_object_new_object();
	int r = 0;
	if (a->file)
		r = read_options_file(opts, a->file);
	for (size_t i = 1; r == 0 && i < a->n_words; i++)
		r = add_pair(opts, "", a->words[i]);
	if (r == 0 && json_object_object_length(opts) == 0) {
		fprintf(stderr, "ipsecctl: %s %s: no options given (key=value... or --file FILE)\n", verb, a->words[0]);
		r = EXIT_USAGE;
	}
	if (r == 0)
		r = connect_daemon() < 0 ? EXIT_NO_DAEMON : 0;
	if (r) {
		json_object_put(opts);
		return r;
	}
	json_object *p = name_param(a->words[0]);
	json_object_object_add(p, "options", opts);
	return call(method, p, NULL);
}

/* The batch file of "add --file FILE": "conn NAME" lines, each followed by
 * the key=value lines of that connection (indented or not); empty lines
 * and # comments skipped. Appends {name, options} entries to list. */
static int read_batch_file(json_object *list, const char *path)
{
	size_t len;
	char *text = read_input(path, &len);
	if (!text)
		return EXIT_USAGE;
	unsigned lineno = 0, conn_line = 0;
	json_object *opts = NULL;
	const char *name = NULL;
	int r = 0;
	char *cursor = text, *line;
	while (r == 0 && (line = next_line(&cursor))) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char where[300];
		snprintf(where, sizeof(where), "%s:%u: ", path, lineno);
		if (strncmp(s, "conn", 4) == 0 && isspace((unsigned char)s[4])) {
			if (opts && json_object_object_length(opts) == 0) {
				fprintf(stderr, "ipsecctl: %s:%u: conn %s has no options\n", path, conn_line, name);
				r = EXIT_USAGE;
				break;
			}
			json_object *entry = json_object_new_object();
			json_object_object_add(entry, "name", json_object_new_string(trim(s + 5)));
			opts = json_object_new_object();
			json_object_object_add(entry, "options", opts);
			json_object_array_add(list, entry);
			name = json_object_get_string(json_object_object_get(entry, "name"));
			conn_line = lineno;
		} else if (!opts) {
			fprintf(stderr, "ipsecctl: %s\"%s\" comes before the first \"conn NAME\" line\n", where, s);
			r = EXIT_USAGE;
		} else {
			r = add_pair(opts, where, s);
		}
	}
	if (r == 0 && opts && json_object_object_length(opts) == 0) {
		fprintf(stderr, "ipsecctl: %s:%u: conn %s has no options\n", path, conn_line, name);
		r = EXIT_USAGE;
	}
	if (r == 0 && !opts) {
		fprintf(stderr, "ipsecctl: --file %s: no \"conn NAME\" section\n", path);
		r = EXIT_USAGE;
	}
	free(text);
	return r;
}

/* add --file FILE without NAME: every connection of the file in one
 * AddConnections call, all or nothing. */
static int add_batch(struct ctl_args *a)
{
	json_object *list = json_object_new_array();
	int r = read_batch_file(list, a->file);
	if (r == 0)
		r = connect_daemon() < 0 ? EXIT_NO_DAEMON : 0;
	if (r) {
		json_object_put(list);
		return r;
	}
	size_t n = json_object_array_length(list);
	json_object *p = json_object_new_object();
	json_object_object_add(p, "connections", list);
	r = call(VL("AddConnections"), p, NULL);
	if (r == 0)
		printf("added %zu connection%s\n", n, n == 1 ? "" : "s");
	return r;
}

static int cmd_add(struct ctl_args *a)
{
	if (a->n_words == 0 && a->file)
		return add_batch(a);
	if (a->n_words == 0) {
		fprintf(stderr, "ipsecctl: add: NAME key=value..., NAME --file FILE, or --file FILE\n");
		return EXIT_USAGE;
	}
	return define(a, "add", VL("AddConnection"));
}
static int cmd_replace(struct ctl_args *a) { return define(a, "replace", VL("ReplaceConnection")); }

/* reload: what the daemon did, one line per kind */
static int cmd_reload(struct ctl_args *a)
{
	struct vl_reply reply;
	int r = call(VL("Reload"), NULL, &reply);
	if (r)
		return r;
	static const char *const kinds[] = { "added", "changed", "removed" };
	for (size_t k = 0; k < 3; k++) {
		json_object *names = NULL;
		json_object_object_get_ex(reply.parameters, kinds[k], &names);
		size_t n = names ? json_object_array_length(names) : 0;
		printf("%s:", kinds[k]);
		for (size_t i = 0; i < n; i++)
			printf(" %s", json_object_get_string(json_object_array_get_idx(names, i)));
		printf("%s\n", n ? "" : " none");
	}
	vl_reply_clear(&reply);
	return 0;
}

/* --- simple commands: one call, no output --- */

static int by_name(struct ctl_args *a, const char *method)
{
	return call(method, name_param(a->words[0]), NULL);
}
static int cmd_delete(struct ctl_args *a) { return by_name(a, VL("DeleteConnection")); }
static int cmd_down(struct ctl_args *a) { return by_name(a, VL("Terminate")); }
static int cmd_route(struct ctl_args *a) { return by_name(a, VL("Route")); }
static int cmd_unroute(struct ctl_args *a) { return by_name(a, VL("Unroute")); }
static int cmd_listen(struct ctl_args *a) { return call(VL("Listen"), NULL, NULL); }
static int cmd_unlisten(struct ctl_args *a) { return call(VL("Unlisten"), NULL, NULL); }
static int cmd_secrets_reload(struct ctl_args *a) { return call(VL("ReloadSecrets"), NULL, NULL); }

static int cmd_shutdown(struct ctl_args *a)
{
	struct vl_reply reply;
	int r = vl_call(conn, VL("Shutdown"), NULL, &reply);
	if (r == -ECONNRESET)  /* gone before the reply reached us: done */
		return 0;
	r = check_reply(r, &reply);
	if (r == 0)
		vl_reply_clear(&reply);
	return r;
}

static int cmd_keys_add(struct ctl_args *a)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "id", json_object_new_string(a->words[0]));
	json_object_object_add(p, "key", json_object_new_string(a->words[1]));
	return call(VL("AddPublicKey"), p, NULL);
}

/* --- secrets: set and delete --- */

#define SECRET_MAX 8192   /* the daemon's limit (SECRET_API_MAX_LEN) */

/* The secret never comes from the command line, where ps and the shell's
 * history would show it: from a prompt without echo on a terminal, else
 * all of stdin (one trailing newline dropped). buf gets it NUL-terminated;
 * 0, or an exit status with the reason printed. */
static int read_secret(char *buf, size_t size)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios saved, quiet;
	bool echo_off = false;
	if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	if (tty)
		fputs("Secret: ", stderr);
	size_t n = 0;
	int c;
	while ((c = getchar()) != EOF && !(tty && c == '\n')) {
		if (n + 1 >= size) {
			n = size;
			break;
		}
		buf[n++] = (char)c;
	}
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	if (n >= size) {
		fprintf(stderr, "ipsecctl: secrets set: the secret is longer than %d bytes\n", SECRET_MAX);
		return EXIT_USAGE;
	}
	if (!tty && n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	if (n == 0 || memchr(buf, '\0', n)) {
		fprintf(stderr, "ipsecctl: secrets set: %s\n",
			n == 0 ? "no secret given (type it at the prompt or pipe it to stdin)"
			       : "the secret contains a NUL byte");
		return EXIT_USAGE;
	}
	return 0;
}

static json_object *kind_ids_param(struct ctl_args *a)
{
	json_object *ids = json_object_new_array();
	for (size_t i = 1; i < a->n_words; i++)
		json_object_array_add(ids, json_object_new_string(a->words[i]));
	json_object *p = json_object_new_object();
	json_object_object_add(p, "kind", json_object_new_string(a->words[0]));
	json_object_object_add(p, "ids", ids);
	return p;
}

static int cmd_secret_set(struct ctl_args *a)
{
	static char secret[SECRET_MAX + 2];
	int r = read_secret(secret, sizeof(secret));
	if (r) {
		explicit_bzero(secret, sizeof(secret));
		return r;
	}
	json_object *p = kind_ids_param(a);
	json_object *value = json_object_new_string(secret);
	explicit_bzero(secret, sizeof(secret));
	json_object_object_add(p, "secret", json_object_get(value));
	struct vl_reply reply;
	r = vl_call(conn, VL("SetSecret"), p, &reply);
	explicit_bzero((char *)json_object_get_string(value), (size_t)json_object_get_string_len(value));
	json_object_put(value);
	json_object_put(p);
	r = check_reply(r, &reply);
	if (r == 0)
		vl_reply_clear(&reply);
	return r;
}

static int cmd_secret_delete(struct ctl_args *a)
{
	return call(VL("DeleteSecret"), kind_ids_param(a), NULL);
}

static int cmd_debug(struct ctl_args *a)
{
	json_object *classes = json_object_new_array();
	for (size_t i = 0; i < a->n_words; i++)
		json_object_array_add(classes, json_object_new_string(a->words[i]));
	json_object *p = json_object_new_object();
	json_object_object_add(p, "classes", classes);
	if (a->connection)
		json_object_object_add(p, "connection", json_object_new_string(a->connection));
	return call(VL("SetDebug"), p, NULL);
}

/* --- streams --- */

/* Called for each reply of a stream; true when that reply is the last the
 * command wants (the stream also ends when the daemon says it does). */
typedef bool (*stream_reply_fn)(struct ctl_args *a, const struct vl_reply *reply);

/* A call with "more": hand every reply to on_reply until the stream ends.
 * params is consumed. 0, or an exit status. */
static int stream(const char *method, json_object *params, struct ctl_args *a, stream_reply_fn on_reply)
{
	int r = vl_send(conn, method, params, VL_MORE);
	json_object_put(params);
	if (r < 0)
		return lost(r);
	for (;;) {
		struct vl_reply reply;
		r = check_reply(vl_recv(conn, &reply), &reply);
		if (r)
			return r;
		bool last = on_reply(a, &reply);
		fflush(stdout);
		last = last || !reply.continues;
		vl_reply_clear(&reply);
		if (last)
			return 0;
	}
}

static bool print_progress(struct ctl_args *a, const struct vl_reply *reply)
{
	if (vl_has(reply->parameters, "message"))
		printf("%s\n", vl_get_string(reply->parameters, "message", ""));
	return vl_get_bool(reply->parameters, "done", false);
}

static int cmd_up(struct ctl_args *a)
{
	return stream(VL("Initiate"), name_param(a->words[0]), a, print_progress);
}

/* When a change came, in local time: "2026-12-03T14:05:01.123" */
static void timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char secs[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ld", secs, ts.tv_nsec / 1000000);
}

static bool print_change(struct ctl_args *a, const struct vl_reply *reply)
{
	json_object *change = NULL;
	char when[48];
	timestamp(when, sizeof(when));
	json_object_object_get_ex(reply->parameters, "change", &change);
	if (a->json) {
		/* a copy of the change with the time added; the reply stays as sent */
		json_object *out = json_object_new_object();
		json_object_object_add(out, "timestamp", json_object_new_string(when));
		if (change && json_object_is_type(change, json_type_object)) {
			json_object_object_foreach(change, key, val)
				json_object_object_add(out, key, json_object_get(val));
		}
		print_json(out, JSON_C_TO_STRING_PLAIN);
		json_object_put(out);
	} else {
		printf("%s ", when);
		print_change_line(stdout, change);
	}
	return false;   /* a monitor runs until the daemon ends it */
}

static int cmd_monitor(struct ctl_args *a)
{
	return stream(VL("Monitor"), NULL, a, print_change);
}

/* check [FILE]: pluto itself validates (one parser for file and daemon);
 * its messages and exit status pass through. PLUTO_BIN: the tests' pluto. */
static int cmd_check(struct ctl_args *a)
{
	const char *pluto = getenv("PLUTO_BIN");
	if (!pluto || !*pluto)
		pluto = PLUTO_SBINDIR "/pluto";
	char *argv[] = { (char *)pluto, "--check-config", "--config",
			 a->n_words ? a->words[0] : PLUTO_DEFAULT_CONFIG, NULL };
	fflush(stdout);
	execv(pluto, argv);
	fprintf(stderr, "ipsecctl: cannot run %s: %s\n", pluto, strerror(errno));
	return EXIT_NO_DAEMON;
}

static int cmd_help(struct ctl_args *a);

/* Rows may leave summary and help out: the usage line then stands alone
 * (struct ctl_command). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct ctl_command commands[] = {
	{ "status",   0, 0, CF_JSON | CF_TEXT, cmd_status, "status [--json [--text]]",
	  "Show the daemon, its connections and its states.",
	  "Any user may run it: it only reads." },
	{ "show",     1, 1, CF_JSON, cmd_show, "show NAME [--json]",
	  "Show everything about one connection.",
	  "Its options (normalised, without secrets), where it came from, its routing,\n"
	  "and each of its states: kind, name, whether established, algorithms,\n"
	  "SPIs, and the time left until rekeying and expiry. Any user may run it." },
	{ "add",      0, (size_t)-1, CF_FILE | CF_NO_DAEMON, cmd_add,
	  "add NAME key=value... | add NAME --file FILE | add --file FILE",
	  "Add a connection from option keywords, or many from a file.",
	  "The keywords are those of ipsec.conf(5) conn sections (ipsecctl list-keywords\n"
	  "lists them); a key given twice is an error. With NAME --file, one key=value a\n"
	  "line; empty lines and lines starting with # are skipped. With --file and no\n"
	  "NAME, the file holds many connections, each a \"conn NAME\" line followed by\n"
	  "its key=value lines, added in one AddConnections call: all or nothing (a bad\n"
	  "entry is named and nothing is added)." },
	{ "replace",  1, (size_t)-1, CF_FILE | CF_NO_DAEMON, cmd_replace,
	  "replace NAME key=value... | replace NAME --file FILE",
	  "Add a connection, or replace one in place (ReplaceConnection).",
	  "Same keywords as add. When the options are those the connection already\n"
	  "has, nothing is touched: its SAs stay. Otherwise its SAs are deleted (the\n"
	  "peer is told) and the new definition is added with its auto=. A connection\n"
	  "from the configuration file becomes an API one (reloads skip it)." },
	{ "reload",   0, 0, 0, cmd_reload, "reload",
	  "Re-read the configuration file and the secrets; apply the difference.",
	  "Prints the connections added, changed and removed. Unchanged connections keep\n"
	  "their SAs; a file with an error changes nothing (FILE:LINE: what). Connections\n"
	  "added through the API are never touched. The same as SIGHUP or systemctl reload." },
	{ "delete",   1, 1, 0, cmd_delete, "delete NAME",
	  "Delete a connection, its states and its routes." },
	{ "up",       1, 1, 0, cmd_up, "up NAME",
	  "Negotiate a connection and wait until it is established or fails.",
	  "Prints the progress as it comes." },
	{ "down",     1, 1, 0, cmd_down, "down NAME",
	  "Delete a connection's states (the peer is told); the connection stays." },
	{ "route",    1, 1, 0, cmd_route, "route NAME",
	  "Install a connection's trap policy: traffic to it starts negotiation." },
	{ "unroute",  1, 1, 0, cmd_unroute, "unroute NAME",
	  "Remove a connection's trap policy." },
	{ "listen",   0, 0, 0, cmd_listen, "listen",
	  "Look for interfaces and listen for IKE on them." },
	{ "unlisten", 0, 0, 0, cmd_unlisten, "unlisten",
	  "Stop listening for IKE." },
	{ "monitor",  0, 0, CF_JSON, cmd_monitor, "monitor [--json]",
	  "Print every change of connections and states as it happens.",
	  "Each line starts with the local time (2026-12-03T14:05:01.123); with --json\n"
	  "each change is one JSON object a line, with a \"timestamp\" member. Runs\n"
	  "until interrupted or the daemon stops. Any user may run it." },
	{ "keys add", 2, 2, 0, cmd_keys_add, "keys add ID KEY",
	  "Add the RSA public key of an id." },
	{ "secrets reload", 0, 0, 0, cmd_secrets_reload, "secrets reload",
	  "Re-read the secrets file." },
	{ "secrets set", 1, (size_t)-1, 0, cmd_secret_set, "secrets set psk|xauth [ID...] < SECRET",
	  "Hand pluto a PSK or XAUTH password, kept in memory only (SetSecret).",
	  "The secret is read from standard input, or asked for without echo on a\n"
	  "terminal; never from the command line, where ps(1) and the shell history\n"
	  "would show it. It wins over the secrets file and survives reloads; nothing\n"
	  "ever shows it again. psk: the ids the PSK is for (none = any pair);\n"
	  "xauth: the user name." },
	{ "secrets delete", 1, (size_t)-1, 0, cmd_secret_delete, "secrets delete psk|xauth [ID...]",
	  "Forget a secret given by secrets set (DeleteSecret): the same kind and ids." },
	{ "debug",    1, (size_t)-1, CF_CONNECTION, cmd_debug, "debug CLASS... [--connection NAME]",
	  "Set the debug classes, of the daemon or of one connection.",
	  "CLASS is a class name, \"all\" or \"none\"; the list replaces the current one." },
	{ "shutdown", 0, 0, 0, cmd_shutdown, "shutdown",
	  "Stop the daemon." },
	{ "list-algs", 0, 0, CF_JSON | CF_NO_DAEMON, cmd_list_algs, "list-algs [--json]",
	  "List every IKE, ESP and AH algorithm pluto accepts, with its spellings.",
	  "Straight from pluto's algorithm table; needs no daemon." },
	{ "list-keywords", 0, 0, CF_NO_DAEMON, cmd_list_keywords, "list-keywords",
	  "List the connection option keywords, one a line.",
	  "Straight from pluto's option table; needs no daemon." },
	{ "list-names", 0, 0, CF_NO_DAEMON, cmd_list_names, "list-names",
	  "List the daemon's connection names, one a line.",
	  "For shell completion: prints nothing when the daemon cannot be reached." },
	{ "check",    0, 1, CF_NO_DAEMON, cmd_check, "check [FILE]",
	  "Validate an ipsec.conf(5) file without a daemon.",
	  "Runs pluto --check-config --config FILE (default /etc/ipsec.conf): every\n"
	  "error as FILE:LINE: what, exit status 1; 0 when the file is clean. Any user\n"
	  "may run it." },
	{ "help",     0, 2, CF_NO_DAEMON, cmd_help, "help [COMMAND]",
	  "List the commands, or show one command's help." },
};
#pragma GCC diagnostic pop
static const size_t n_commands = sizeof(commands) / sizeof(commands[0]);

/* --- help --- */

static int cmd_help(struct ctl_args *a)
{
	if (a->n_words == 0) {
		ctl_usage(stdout, commands, n_commands);
		return 0;
	}
	size_t used;
	const struct ctl_command *c = ctl_find_command(commands, n_commands, a->words, a->n_words, &used);
	if (!c && a->n_words == 1) {
		/* the first word of two-word commands ("keys"): each of them */
		size_t len = strlen(a->words[0]), found = 0;
		for (size_t i = 0; i < n_commands; i++)
			if (strncmp(commands[i].name, a->words[0], len) == 0 && commands[i].name[len] == ' ') {
				if (found++)
					putchar('\n');
				ctl_command_help(stdout, &commands[i]);
			}
		if (found)
			return 0;
	}
	if (!c || used != a->n_words) {
		fprintf(stderr, "ipsecctl: help: unknown command \"%s%s%s\"\n\n", a->words[0], a->n_words > 1 ? " " : "",
			a->n_words > 1 ? a->words[1] : "");
		ctl_usage(stderr, commands, n_commands);
		return EXIT_USAGE;
	}
	ctl_command_help(stdout, c);
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl_args a;
	if (ctl_parse(argc, argv, commands, n_commands, &a) < 0) {
		free(a.words);
		return EXIT_USAGE;
	}
	if (a.help) {
		if (a.command)
			ctl_command_help(stdout, a.command);
		else
			ctl_usage(stdout, commands, n_commands);
		return 0;
	}
	if (a.version) {
		printf("ipsecctl (pluto) %s\n", PLUTO_VERSION);
		return 0;
	}
	socket_path = a.socket;
	int r;
	/* add reads its file before connecting, so a bad file is a usage error
	 * even when the daemon is down; the lists need no daemon */
	if (a.command->allowed & CF_NO_DAEMON)
		r = a.command->run(&a);
	else
		r = connect_daemon() < 0 ? EXIT_NO_DAEMON : a.command->run(&a);
	vl_close(conn);
	free(a.words);
	return r;
}
