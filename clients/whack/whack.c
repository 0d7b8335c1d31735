/* whack: the FreeS/WAN control command, as a Varlink client of pluto.
 * Each requested action becomes one Varlink call, made in the order pluto
 * has always applied them; the daemon's answers are printed as classic
 * "NNN text" lines, and the exit status is derived from those codes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "common/errors.h"
#include "varlink-client.h"
#include "whack-args.h"

#define VL(m) "org.freeswan.pluto." m

struct whack {
	struct whack_request req;
	const char *socket;
	struct vl_conn *conn;
	int exit_status;       /* from the last significant line printed */
	char last_line[1024];  /* text of the last line printed */
	char last_significant[1024];  /* ... of the last one that set exit_status */
};

/* whack's own problems: "whack error: [label] ["name"] message", exit 1 */
static void diag(const struct whack *w, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void diag(const struct whack *w, const char *fmt, ...)
{
	va_list ap;
	fputs("whack error: ", stderr);
	if (w->req.label)
		fprintf(stderr, "%s ", w->req.label);
	if (w->req.name)
		fprintf(stderr, "\"%s\" ", w->req.name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(RC_WHACK_PROBLEM);
}

/* Print one "NNN text" line and let it count towards the exit status:
 * COMMENT, LOG and LOG_SERIOUS do not count, SUCCESS counts as 0. */
static void print_line(struct whack *w, long long code, const char *text)
{
	if (code < 0 || code > 999)
		code = RC_INTERNALERR;
	printf("%03lld %s\n", code, text);
	fflush(stdout);
	snprintf(w->last_line, sizeof(w->last_line), "%s", text);
	if (code != RC_COMMENT && code != RC_LOG && code != RC_LOG_SERIOUS) {
		w->exit_status = code == RC_SUCCESS ? 0 : (int)code;
		snprintf(w->last_significant, sizeof(w->last_significant), "%s", text);
	}
}

static bool ends_with(const char *line, const char *msg)
{
	size_t ml = strlen(msg), ll = strlen(line);
	return ml > 0 && ll >= ml && strcmp(line + ll - ml, msg) == 0;
}

/* The whack code of a Varlink error reply. */
static int error_rc(const struct vl_reply *reply)
{
	const char *name = vl_error_short_name(reply);
	/* a failed negotiation says which line ended it (200+n, 031) */
	long long code = vl_get_int(reply->parameters, "code", -1);
	if (code > 0 && code <= 999)
		return (int)code;
	enum pluto_error e = pluto_error_by_name(name);
	if (e != PE__MAX)
		return pluto_error_info(e)->rc;
	if (strcmp(name, "PermissionDenied") == 0)
		return RC_WHACK_PROBLEM;
	/* InvalidParameter, MethodNotFound, ...: the daemon did not understand us */
	if (strncmp(name, "org.varlink.service.", 20) == 0)
		return RC_BADWHACKMESSAGE;
	return RC_INTERNALERR;
}

static void print_error(struct whack *w, const struct vl_reply *reply)
{
	const char *msg = vl_error_message(reply);
	char buf[600];
	if (!*msg) {
		snprintf(buf, sizeof(buf), "%s", reply->error);
		msg = buf;
	} else if (strcmp(vl_error_short_name(reply), "PermissionDenied") == 0) {
		snprintf(buf, sizeof(buf), "%s (run as root)", msg);
		msg = buf;
	}
	/* The engine already streamed the line that ended the negotiation
	 * ("214 "conn" #1: ... NO_PROPOSAL_CHOSEN"), possibly followed by a
	 * comment ("000 ... starting keying attempt 2 of at most 3, but
	 * releasing whack"): do not print it twice, but let its code decide
	 * the exit status. */
	if (ends_with(w->last_line, msg) || ends_with(w->last_significant, msg)) {
		int rc = error_rc(reply);
		w->exit_status = rc == RC_SUCCESS ? 0 : rc;
		return;
	}
	print_line(w, error_rc(reply), msg);
}

static void lost(const struct whack *w, int r)
{
	if (r == -ECONNRESET)
		diag(w, "pluto at %s closed the connection without replying", w->socket);
	if (r == -EBADMSG)
		diag(w, "pluto at %s sent a reply that is not a Varlink message", w->socket);
	diag(w, "talking to pluto at %s: %s", w->socket, strerror(-r));
}

/* r and reply from vl_call or vl_recv: a lost connection ends whack; an
 * error reply is printed and cleared, and gives false so the remaining
 * actions are skipped. */
static bool reply_ok(struct whack *w, int r, struct vl_reply *reply)
{
	if (r < 0)
		lost(w, r);
	if (reply->error) {
		print_error(w, reply);
		vl_reply_clear(reply);
		return false;
	}
	return true;
}

/* One call with one reply; false when the daemon answered with an error
 * (already printed). */
static bool call(struct whack *w, const char *method, json_object *params, struct vl_reply *out)
{
	struct vl_reply reply;
	int r = vl_call(w->conn, method, params, &reply);
	json_object_put(params);
	if (!reply_ok(w, r, &reply))
		return false;
	if (out)
		*out = reply;
	else
		vl_reply_clear(&reply);
	return true;
}

static json_object *name_param(const char *name)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "name", json_object_new_string(name));
	return p;
}

static bool do_add_connection(struct whack *w)
{
	const char *keys[WHACK_MAX_CONN_OPTIONS], *values[WHACK_MAX_CONN_OPTIONS];
	size_t n = whack_connection_options(&w->req, keys, values, WHACK_MAX_CONN_OPTIONS);
	json_object *opts = json_object_new_object();
	for (size_t i = 0; i < n; i++)
		json_object_object_add(opts, keys[i], json_object_new_string(values[i]));
	json_object *p = name_param(w->req.name);
	json_object_object_add(p, "options", opts);
	return call(w, VL("AddConnection"), p, NULL);
}

static bool do_debug(struct whack *w)
{
	json_object *classes = json_object_new_array();
	for (size_t i = 0; i < w->req.n_debug; i++)
		json_object_array_add(classes, json_object_new_string(w->req.debug[i]));
	json_object *p = json_object_new_object();
	json_object_object_add(p, "classes", classes);
	if (w->req.name)
		json_object_object_add(p, "connection", json_object_new_string(w->req.name));
	return call(w, VL("SetDebug"), p, NULL);
}

static bool do_pubkey(struct whack *w)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "id", json_object_new_string(w->req.keyid));
	json_object_object_add(p, "key", json_object_new_string(w->req.pubkeyrsa));
	return call(w, VL("AddPublicKey"), p, NULL);
}

static bool do_deletestate(struct whack *w)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "serial", json_object_new_int64(w->req.deletestate));
	return call(w, VL("DeleteState"), p, NULL);
}

/* Print the code/message a progress or final Initiate reply carries. */
static void print_progress(struct whack *w, json_object *params)
{
	if (vl_has(params, "message"))
		print_line(w, vl_get_int(params, "code", RC_LOG), vl_get_string(params, "message", ""));
}

/* Initiate with "more": every progress reply is printed as it comes. With
 * --asynchronous whack stops reading after the first reply (the daemon has
 * accepted the request and the negotiation is under way) or an error. */
static bool do_initiate(struct whack *w)
{
	json_object *p = name_param(w->req.name);
	int r = vl_send(w->conn, VL("Initiate"), p, VL_MORE);
	json_object_put(p);
	if (r < 0)
		lost(w, r);
	for (;;) {
		struct vl_reply reply;
		if (!reply_ok(w, vl_recv(w->conn, &reply), &reply))
			return false;
		print_progress(w, reply.parameters);
		bool done = vl_get_bool(reply.parameters, "done", false) || !reply.continues;
		vl_reply_clear(&reply);
		if (done || w->req.asynchronous)
			return true;
	}
}

static bool do_status(struct whack *w)
{
	struct vl_reply reply;
	if (!call(w, VL("Status"), NULL, &reply))
		return false;
	const char *text = vl_get_string(reply.parameters, "text", "");
	while (*text) {
		size_t len = strcspn(text, "\n");
		printf("000 %.*s\n", (int)len, text);
		text += len + (text[len] == '\n');
	}
	fflush(stdout);
	vl_reply_clear(&reply);
	return true;
}

/* The daemon may go away before its reply reaches us: that is success. */
static void do_shutdown(struct whack *w)
{
	struct vl_reply reply;
	int r = vl_call(w->conn, VL("Shutdown"), NULL, &reply);
	if (r == -ECONNRESET)
		return;
	if (reply_ok(w, r, &reply))
		vl_reply_clear(&reply);
}

/* The order pluto always used: delete before add (so a description can be
 * replaced in one go), add before anything that names the connection,
 * listen before initiate, status and shutdown last. The first error stops
 * the rest. */
static void run(struct whack *w)
{
	struct whack_request *q = &w->req;
	if (q->delete_conn && !call(w, VL("DeleteConnection"), name_param(q->name), NULL))
		return;
	if (q->has_deletestate && !do_deletestate(w))
		return;
	if (q->has_conn && !do_add_connection(w))
		return;
	if (q->n_debug && !do_debug(w))
		return;
	if (q->keyid && !do_pubkey(w))
		return;
	if (q->listen && !call(w, VL("Listen"), NULL, NULL))
		return;
	if (q->unlisten && !call(w, VL("Unlisten"), NULL, NULL))
		return;
	if (q->route && !call(w, VL("Route"), name_param(q->name), NULL))
		return;
	if (q->unroute && !call(w, VL("Unroute"), name_param(q->name), NULL))
		return;
	if (q->initiate && !do_initiate(w))
		return;
	if (q->terminate && !call(w, VL("Terminate"), name_param(q->name), NULL))
		return;
	if (q->status && !do_status(w))
		return;
	if (q->shutdown)
		do_shutdown(w);
}

int main(int argc, char **argv)
{
	struct whack w = { 0 };
	char err[512];
	if (whack_parse(argc, argv, &w.req, err, sizeof(err)) < 0)
		diag(&w, "%s", err);
	if (w.req.help) {
		fputs(whack_usage, stdout);
		whack_request_free(&w.req);
		return 0;
	}
	if (w.req.version) {
		printf("whack (pluto) %s\n", PLUTO_VERSION);
		whack_request_free(&w.req);
		return 0;
	}

	w.socket = vl_socket_path(w.req.ctlbase);
	int r = vl_connect(w.socket, &w.conn);
	if (r < 0) {
		char why[512];
		diag(&w, "%s", vl_connect_failure(w.socket, r, why, sizeof(why)));
	}
	run(&w);
	vl_close(w.conn);
	whack_request_free(&w.req);
	return w.exit_status;
}
