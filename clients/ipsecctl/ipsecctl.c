/* ipsecctl: the modern command line for pluto, a Varlink client. Tables
 * for people, --json for programs (the IDL's field names, unchanged). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "ipsecctl-args.h"
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
		fprintf(stderr, "ipsecctl: cannot connect to pluto at %s: %s\n", socket_path, strerror(-r));
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
	const char *msg = vl_error_message(reply);
	fprintf(stderr, "ipsecctl: %s: %s\n", vl_error_short_name(reply), *msg ? msg : "(no message)");
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

static int cmd_status(struct ctl_args *a)
{
	struct vl_reply reply;
	int r = call(VL("Status"), NULL, &reply);
	if (r)
		return r;
	if (a->json) {
		puts(json_object_to_json_string_ext(reply.parameters,
						    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		print_status_tables(stdout, reply.parameters);
	}
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

static int read_options_file(json_object *opts, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	if (!f) {
		fprintf(stderr, "ipsecctl: --file %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int r = 0;
	while (r == 0 && getline(&line, &cap, f) >= 0) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char where[300];
		snprintf(where, sizeof(where), "%s:%u: ", path, lineno);
		r = add_pair(opts, where, s);
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return r;
}

static int cmd_add(struct ctl_args *a)
{
	json_object *opts = json_object_new_object();
	int r = 0;
	if (a->file)
		r = read_options_file(opts, a->file);
	for (size_t i = 1; r == 0 && i < a->n_words; i++)
		r = add_pair(opts, "", a->words[i]);
	if (r == 0 && json_object_object_length(opts) == 0) {
		fprintf(stderr, "ipsecctl: add %s: no options given (key=value... or --file FILE)\n", a->words[0]);
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
	return call(VL("AddConnection"), p, NULL);
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
		fprintf(stderr, "ipsecctl: secret set: the secret is longer than %d bytes\n", SECRET_MAX);
		return EXIT_USAGE;
	}
	if (!tty && n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	if (n == 0 || memchr(buf, '\0', n)) {
		fprintf(stderr, "ipsecctl: secret set: %s\n",
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

static bool print_change(struct ctl_args *a, const struct vl_reply *reply)
{
	json_object *change = NULL;
	json_object_object_get_ex(reply->parameters, "change", &change);
	if (a->json)
		puts(json_object_to_json_string_ext(change, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_change_line(stdout, change);
	return false;   /* a monitor runs until the daemon ends it */
}

static int cmd_monitor(struct ctl_args *a)
{
	return stream(VL("Monitor"), NULL, a, print_change);
}

static const struct ctl_command commands[] = {
	{ "status",   0, 0, CF_JSON, cmd_status, "status [--json]" },
	{ "add",      1, (size_t)-1, CF_FILE, cmd_add, "add NAME key=value... | add NAME --file FILE" },
	{ "delete",   1, 1, 0, cmd_delete, "delete NAME" },
	{ "up",       1, 1, 0, cmd_up, "up NAME" },
	{ "down",     1, 1, 0, cmd_down, "down NAME" },
	{ "route",    1, 1, 0, cmd_route, "route NAME" },
	{ "unroute",  1, 1, 0, cmd_unroute, "unroute NAME" },
	{ "listen",   0, 0, 0, cmd_listen, "listen" },
	{ "unlisten", 0, 0, 0, cmd_unlisten, "unlisten" },
	{ "monitor",  0, 0, CF_JSON, cmd_monitor, "monitor [--json]" },
	{ "keys add", 2, 2, 0, cmd_keys_add, "keys add ID KEY" },
	{ "secrets reload", 0, 0, 0, cmd_secrets_reload, "secrets reload" },
	{ "secret set", 1, (size_t)-1, 0, cmd_secret_set, "secret set psk|xauth [ID...] < SECRET (or at a prompt)" },
	{ "secret delete", 1, (size_t)-1, 0, cmd_secret_delete, "secret delete psk|xauth [ID...]" },
	{ "debug",    1, (size_t)-1, CF_CONNECTION, cmd_debug, "debug CLASS... [--connection NAME]" },
	{ "shutdown", 0, 0, 0, cmd_shutdown, "shutdown" },
};

int main(int argc, char **argv)
{
	struct ctl_args a;
	const size_t n = sizeof(commands) / sizeof(commands[0]);
	if (ctl_parse(argc, argv, commands, n, &a) < 0) {
		free(a.words);
		return EXIT_USAGE;
	}
	if (a.help) {
		ctl_usage(stdout, commands, n);
		return 0;
	}
	if (a.version) {
		printf("ipsecctl (pluto) %s\n", PLUTO_VERSION);
		return 0;
	}
	socket_path = a.socket;
	int r;
	/* add reads its file before connecting, so a bad file is a usage error
	 * even when the daemon is down */
	if (a.command->run == cmd_add)
		r = cmd_add(&a);
	else
		r = connect_daemon() < 0 ? EXIT_NO_DAEMON : a.command->run(&a);
	vl_close(conn);
	free(a.words);
	return r;
}
