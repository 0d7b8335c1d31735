/* The org.freeswan.pluto methods: each a thin adapter over one ctl_*
 * function of daemon/control.h. Parameters arrive already validated against
 * the tables below (varlink-dispatch.c), so a method only converts them. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "bus/varlink-internal.h"
#include "common/cleanup.h"
#include "common/util.h"
#include "daemon/config_apply.h"
#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/events.h"
#include "daemon/progress.h"
#include "daemon/state.h"

extern const char varlink_idl_text[];
extern const size_t varlink_idl_text_len;

/* reply {} or the control core's error */
static void reply_result(struct vl_call *call, int r, const struct ctl_error *err)
{
	if (r < 0)
		vl_reply_ctl_error(call, err);
	else
		vl_reply(call, NULL);
}

typedef int (*define_fn)(const char *name, const char *const *keys, const char *const *values,
			 size_t n, struct connection **ret, struct ctl_error *err);

/* AddConnection and ReplaceConnection: (name, options) -> () */
static void define_connection(struct vl_call *call, json_object *p, define_fn define)
{
	json_object *options = json_object_object_get(p, "options");
	size_t n = (size_t)json_object_object_length(options);
	_cleanup_free_ const char **keys = xcalloc(n + 1, sizeof(char *));
	_cleanup_free_ const char **values = xcalloc(n + 1, sizeof(char *));
	size_t i = 0;
	json_object_object_foreach(options, key, val) {
		keys[i] = key;
		values[i] = json_object_get_string(val);
		i++;
	}
	struct ctl_error err;
	int r = define(vl_param_string(p, "name"), keys, values, i, NULL, &err);
	reply_result(call, r, &err);
}

static void add_connection(struct vl_call *call, json_object *p)
{
	define_connection(call, p, ctl_add_connection);
}

static void replace_connection(struct vl_call *call, json_object *p)
{
	define_connection(call, p, ctl_replace_connection);
}

/* AddConnections(connections: [](name, options)) -> (): all or nothing.
 * The dispatcher checked the shape of every entry. */
static void add_connections(struct vl_call *call, json_object *p)
{
	json_object *list = json_object_object_get(p, "connections");
	size_t n = json_object_array_length(list);
	struct ctl_connection_def *defs = xcalloc(n ? n : 1, sizeof(*defs));
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(list, i);
		json_object *options = json_object_object_get(e, "options");
		size_t k = (size_t)json_object_object_length(options), j = 0;
		const char **keys = xcalloc(k + 1, sizeof(char *)), **values = xcalloc(k + 1, sizeof(char *));
		json_object_object_foreach(options, key, val) {
			keys[j] = key;
			values[j] = json_object_get_string(val);
			j++;
		}
		defs[i] = (struct ctl_connection_def){ vl_param_string(e, "name"), keys, values, j };
	}
	struct ctl_error err;
	int r = ctl_add_connections(defs, n, NULL, &err);
	for (size_t i = 0; i < n; i++) {
		free((void *)defs[i].keys);
		free((void *)defs[i].values);
	}
	free(defs);
	reply_result(call, r, &err);
}

static json_object *names_json(const struct ctl_name_list *l)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < l->n; i++)
		json_object_array_add(a, json_object_new_string(l->names[i]));
	return a;
}

static void reload(struct vl_call *call, json_object *p)
{
	struct ctl_error err;
	struct ctl_reload_result res;
	if (ctl_reload(&res, &err) < 0) {
		vl_reply_ctl_error(call, &err);
		return;
	}
	json_object *r = json_object_new_object();
	json_object_object_add(r, "added", names_json(&res.added));
	json_object_object_add(r, "changed", names_json(&res.changed));
	json_object_object_add(r, "removed", names_json(&res.removed));
	ctl_reload_result_free(&res);
	vl_reply(call, r);
}

static void delete_connection(struct vl_call *call, json_object *p)
{
	struct ctl_error err;
	reply_result(call, ctl_delete_connection(vl_param_string(p, "name"), &err), &err);
}

static void route(struct vl_call *call, json_object *p)
{
	struct ctl_error err;
	reply_result(call, ctl_route(vl_param_string(p, "name"), &err), &err);
}

static void unroute(struct vl_call *call, json_object *p)
{
	struct ctl_error err;
	reply_result(call, ctl_unroute(vl_param_string(p, "name"), &err), &err);
}

static void terminate(struct vl_call *call, json_object *p)
{
	struct ctl_error err;
	reply_result(call, ctl_terminate(vl_param_string(p, "name"), &err), &err);
}

static void delete_state(struct vl_call *call, json_object *p)
{
	int64_t serial = json_object_get_int64(json_object_object_get(p, "serial"));
	if (serial < 1 || serial > UINT_MAX) {
		vl_reply_invalid_parameter(call, "serial");
		return;
	}
	struct ctl_error err;
	reply_result(call, ctl_delete_state((unsigned)serial, &err), &err);
}

static void listen_(struct vl_call *call, json_object *p)
{
	struct ctl_error err;
	reply_result(call, ctl_listen(&err), &err);
}

static void unlisten(struct vl_call *call, json_object *p)
{
	struct ctl_error err;
	reply_result(call, ctl_unlisten(&err), &err);
}

static void add_public_key(struct vl_call *call, json_object *p)
{
	struct ctl_error err;
	reply_result(call, ctl_add_public_key(vl_param_string(p, "id"), vl_param_string(p, "key"), &err), &err);
}

static void reload_secrets(struct vl_call *call, json_object *p)
{
	struct ctl_error err;
	reply_result(call, ctl_reload_secrets(&err), &err);
}

/* ids: a list of strings, already checked by the table; an empty list is
 * allowed (a psk for any pair) */
static const char **ids_param(json_object *p, size_t *n)
{
	json_object *ids = json_object_object_get(p, "ids");
	*n = json_object_array_length(ids);
	const char **out = xcalloc(*n + 1, sizeof(char *));
	for (size_t i = 0; i < *n; i++)
		out[i] = json_object_get_string(json_object_array_get_idx(ids, i));
	return out;
}

static void set_secret(struct vl_call *call, json_object *p)
{
	size_t n;
	_cleanup_free_ const char **ids = ids_param(p, &n);
	json_object *secret = json_object_object_get(p, "secret");
	struct ctl_error err;
	int r = ctl_set_secret(vl_param_string(p, "kind"), ids, n, json_object_get_string(secret), &err);
	/* the request's copy goes with the parameters: wipe it first (the
	 * store keeps its own) */
	explicit_bzero((char *)json_object_get_string(secret), (size_t)json_object_get_string_len(secret));
	reply_result(call, r, &err);
}

static void delete_secret(struct vl_call *call, json_object *p)
{
	size_t n;
	_cleanup_free_ const char **ids = ids_param(p, &n);
	struct ctl_error err;
	reply_result(call, ctl_delete_secret(vl_param_string(p, "kind"), ids, n, &err), &err);
}

static void set_debug(struct vl_call *call, json_object *p)
{
	json_object *classes = json_object_object_get(p, "classes");
	size_t n = json_object_array_length(classes);
	_cleanup_free_ const char **names = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		names[i] = json_object_get_string(json_object_array_get_idx(classes, i));
	struct ctl_error err;
	int r = ctl_set_debug(names, n, vl_param_string(p, "connection"), &err);
	reply_result(call, r, &err);
}

/* Status(connectionFields, stateFields, optionKeys): the projection a
 * caller asked for; false (the error sent) when it names no such field */
static bool status_projection(struct vl_call *call, json_object *p, struct vl_projection *conn,
			      struct vl_projection *state)
{
	*conn = (struct vl_projection){ 0 };
	*state = (struct vl_projection){ 0 };
	if (vl_projection_fields(VIEW_CONNECTION, json_object_object_get(p, "connectionFields"), conn) < 0) {
		vl_reply_invalid_parameter(call, "connectionFields");
		return false;
	}
	if (vl_projection_fields(VIEW_STATE, json_object_object_get(p, "stateFields"), state) < 0) {
		vl_reply_invalid_parameter(call, "stateFields");
		return false;
	}
	json_object *keys = json_object_object_get(p, "optionKeys");
	if (keys) {
		conn->n_map_keys = json_object_array_length(keys);
		const char **k = xcalloc(conn->n_map_keys + 1, sizeof(char *));
		for (size_t i = 0; i < conn->n_map_keys; i++)
			k[i] = json_object_get_string(json_object_array_get_idx(keys, i));
		conn->map_keys = k;
	}
	return true;
}

static void status(struct vl_call *call, json_object *p)
{
	struct vl_projection conn_proj, state_proj;
	if (!status_projection(call, p, &conn_proj, &state_proj))
		return;
	/* the Manager's fields, then every connection and state: written as
	 * text, the same JSON json-c would make, at a fraction of the cost */
	struct strbuf sb;
	strbuf_init(&sb);
	/* the whack text first: its size tells how much room the rest needs
	 * (10,000 connections and 20,000 states: some 30 MB in all), so the
	 * buffer is sized once and never copied as it grows */
	/* text: false leaves the whack text out: it is as big as the rest
	 * and costs as much to make (IDL) */
	json_object *want = json_object_object_get(p, "text");
	char *text = !want || json_object_get_boolean(want) ? ctl_status_text() : NULL;
	size_t text_len = text ? strlen(text) : 0;
	strbuf_grow(&sb, connections_count() * 1200 + states_count() * 700 + text_len + text_len / 8 + 4096);
	strbuf_add(&sb, "{\"parameters\":{");
	vl_view_json_members(&sb, VIEW_MANAGER, NULL, false);
	strbuf_add(&sb, ",\"connections\":[");
	for (struct connection *c = connections_first(); c; c = c->next) {
		strbuf_add(&sb, c == connections_first() ? "{" : ",{");
		vl_view_json_project(&sb, VIEW_CONNECTION, c, false, &conn_proj);
		strbuf_add(&sb, "}");
	}
	strbuf_add(&sb, "],\"states\":[");
	for (struct state *st = states_first(); st; st = st->next_in_list) {
		strbuf_add(&sb, st == states_first() ? "{" : ",{");
		vl_view_json_project(&sb, VIEW_STATE, st, false, &state_proj);
		strbuf_add(&sb, "}");
	}
	strbuf_add(&sb, "]");
	if (text) {
		strbuf_add(&sb, ",\"text\":");
		vl_json_text_string_n(&sb, text, text_len);
		free(text);
	}
	strbuf_add(&sb, "}}");
	free((void *)conn_proj.map_keys);
	vl_reply_message(call, &sb);
}

static void shutdown_(struct vl_call *call, json_object *p)
{
	/* reply first: the loop stops after this callback and the queued
	 * reply gets one last chance in varlink_stop() */
	vl_reply(call, NULL);
	ctl_shutdown();
}

/* --- Initiate: progress lines while the engine works, then the outcome --- */

struct initiate_call {
	struct vl_pending pending;
	struct progress_sink sink;
	char *name;
	bool starting;               /* inside ctl_initiate() */
	bool finished;               /* done() came while starting */
};

static void initiate_free(struct initiate_call *ic)
{
	free(ic->name);
	free(ic);
}

static void initiate_line(void *ctx, unsigned rc, const char *text)
{
	struct initiate_call *ic = ctx;
	if (!ic->pending.more)
		return;
	json_object *p = json_object_new_object();
	json_object_object_add(p, "code", json_object_new_int64(rc));
	json_object_object_add(p, "message", json_object_new_string(text));
	json_object_object_add(p, "done", json_object_new_boolean(false));
	vl_client_send(ic->pending.client, p, NULL, true);
}

/* The sink is already detached when the engine calls this. */
static void initiate_done(void *ctx, const struct ctl_error *err)
{
	struct initiate_call *ic = ctx;
	vl_pending_remove(&ic->pending);
	if (err) {
		char name[128];
		vl_client_send(ic->pending.client, vl_ctl_error_parameters(err),
			       vl_ctl_error_name(err, name, sizeof(name)), false);
	} else {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "done", json_object_new_boolean(true));
		json_object *states = json_object_new_array();
		for (struct state *st = states_first(); st; st = st->next_in_list)
			if (st->connection && streq(st->connection->name, ic->name))
				json_object_array_add(states, json_object_new_int64(st->serial));
		json_object_object_add(p, "states", states);
		vl_client_send(ic->pending.client, p, NULL, false);
	}
	if (ic->starting)
		ic->finished = true;
	else
		initiate_free(ic);
}

/* The client went away: the engine must not call us any more. The engine
 * may have moved the sink to an instance of the connection, so look for it
 * everywhere (detaching a sink that is not there does nothing). */
static void initiate_cancel(struct vl_pending *p)
{
	struct initiate_call *ic = (struct initiate_call *)((char *)p - offsetof(struct initiate_call, pending));
	for (struct connection *c = connections_first(); c; c = c->next)
		progress_sink_detach(c, &ic->sink);
	initiate_free(ic);
}

static void initiate(struct vl_call *call, json_object *p)
{
	const char *name = vl_param_string(p, "name");
	struct ctl_error err;
	if (call->oneway) {
		/* nobody waits: fire and forget */
		ctl_initiate(name, NULL, &err);
		return;
	}
	struct initiate_call *ic = xcalloc(1, sizeof(*ic));
	ic->name = xstrdup(name);
	ic->pending.more = call->more;
	ic->pending.cancel = initiate_cancel;
	ic->sink = (struct progress_sink){ .line = initiate_line, .done = initiate_done, .ctx = ic };
	vl_pending_add(call->client, &ic->pending);
	ic->starting = true;
	int r = ctl_initiate(name, &ic->sink, &err);
	ic->starting = false;
	if (r < 0 && !ic->finished) {
		vl_pending_remove(&ic->pending);
		vl_reply_ctl_error(call, &err);
	}
	if (r < 0 || ic->finished)
		initiate_free(ic);
}

/* --- Monitor: every change event, as long as the client stays --- */

struct monitor_call {
	struct vl_pending pending;
};

static void monitor_event(const struct pluto_event *ev, void *userdata)
{
	struct monitor_call *mc = userdata;
	if (vl_client_closing(mc->pending.client))
		return;
	json_object *p = json_object_new_object();
	json_object_object_add(p, "change", vl_change_json(ev));
	vl_client_send(mc->pending.client, p, NULL, true);
}

static void monitor_cancel(struct vl_pending *p)
{
	struct monitor_call *mc = (struct monitor_call *)p;
	events_unsubscribe(monitor_event, mc);
	free(mc);
}

static void monitor(struct vl_call *call, json_object *p)
{
	struct monitor_call *mc = xcalloc(1, sizeof(*mc));
	mc->pending.more = true;
	mc->pending.cancel = monitor_cancel;
	vl_pending_add(call->client, &mc->pending);
	events_subscribe(monitor_event, mc);
	/* the first reply says the subscription is live (see the IDL) */
	json_object *change = json_object_new_object();
	json_object_object_add(change, "event", json_object_new_string("managerChanged"));
	json_object_object_add(change, "property", json_object_new_string("Monitor"));
	json_object *r = json_object_new_object();
	json_object_object_add(r, "change", change);
	vl_client_send(call->client, r, NULL, true);
}

/* --- the method table --- */

static const struct vl_param none[] = { { 0 } };
static const struct vl_param name_only[] = { { "name", VL_STRING, false }, { 0 } };
static const struct vl_param add_connection_params[] = {
	{ "name", VL_STRING, false },
	{ "options", VL_STRING_MAP, false },
	{ 0 },
};
static const struct vl_param add_connections_params[] = {
	{ "connections", VL_CONNECTION_LIST, false },
	{ 0 },
};
static const struct vl_param status_params[] = {
	{ "text", VL_BOOL, true },
	{ "connectionFields", VL_STRING_LIST, true },
	{ "stateFields", VL_STRING_LIST, true },
	{ "optionKeys", VL_STRING_LIST, true },
	{ 0 },
};
static const struct vl_param delete_state_params[] = { { "serial", VL_INT, false }, { 0 } };
static const struct vl_param add_public_key_params[] = {
	{ "id", VL_STRING, false },
	{ "key", VL_STRING, false },
	{ 0 },
};
static const struct vl_param set_secret_params[] = {
	{ "kind", VL_STRING, false },
	{ "ids", VL_STRING_LIST, false },
	{ "secret", VL_STRING, false },
	{ 0 },
};
static const struct vl_param delete_secret_params[] = {
	{ "kind", VL_STRING, false },
	{ "ids", VL_STRING_LIST, false },
	{ 0 },
};
static const struct vl_param set_debug_params[] = {
	{ "classes", VL_STRING_LIST, false },
	{ "connection", VL_STRING, true },
	{ 0 },
};

static const struct vl_method pluto_methods[] = {
	{ "AddConnection",    add_connection,    VL_PRIVILEGED, add_connection_params },
	{ "AddConnections",   add_connections,   VL_PRIVILEGED, add_connections_params },
	{ "ReplaceConnection", replace_connection, VL_PRIVILEGED, add_connection_params },
	{ "Reload",           reload,            VL_PRIVILEGED, none },
	{ "DeleteConnection", delete_connection, VL_PRIVILEGED, name_only },
	{ "Route",            route,             VL_PRIVILEGED, name_only },
	{ "Unroute",          unroute,           VL_PRIVILEGED, name_only },
	{ "Initiate",         initiate,          VL_PRIVILEGED, name_only },
	{ "Terminate",        terminate,         VL_PRIVILEGED, name_only },
	{ "DeleteState",      delete_state,      VL_PRIVILEGED, delete_state_params },
	{ "Listen",           listen_,           VL_PRIVILEGED, none },
	{ "Unlisten",         unlisten,          VL_PRIVILEGED, none },
	{ "AddPublicKey",     add_public_key,    VL_PRIVILEGED, add_public_key_params },
	{ "ReloadSecrets",    reload_secrets,    VL_PRIVILEGED, none },
	{ "SetSecret",        set_secret,        VL_PRIVILEGED, set_secret_params },
	{ "DeleteSecret",     delete_secret,     VL_PRIVILEGED, delete_secret_params },
	{ "SetDebug",         set_debug,         VL_PRIVILEGED, set_debug_params },
	{ "Status",           status,            VL_READ_ONLY,  status_params },
	{ "Shutdown",         shutdown_,         VL_PRIVILEGED, none },
	{ "Monitor",          monitor,           VL_NEEDS_MORE | VL_READ_ONLY, none },
	{ 0 },
};

const struct vl_interface vl_interface_pluto = {
	.name = "org.freeswan.pluto",
	.methods = pluto_methods,
	.description = varlink_idl_text,
	.description_len = &varlink_idl_text_len,
};
