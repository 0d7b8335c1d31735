/* org.freeswan.pluto1.Connection: one object per connection under
 * /org/freeswan/pluto1/connection/<sd_bus_path_encode(name)>, served by a
 * fallback vtable that looks the connection up by its path, so objects come
 * and go with the connection database and nothing is registered per object. */
#include "bus/dbus-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/progress.h"
#include "daemon/state.h"

static struct connection *connection_from_path(const char *path)
{
	_cleanup_free_ char *name = NULL;
	if (sd_bus_path_decode(path, PLUTO_DBUS_CONN_PREFIX, &name) <= 0)
		return NULL;
	return *name ? connection_by_name(name) : NULL;
}

int dbus_connection_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
			 void **found, sd_bus_error *error)
{
	struct connection *c = connection_from_path(path);
	if (!c)
		return 0;
	*found = c;
	return 1;
}

int dbus_connection_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
			      sd_bus_error *error)
{
	_cleanup_strv_free_ char **list = calloc(connections_count() + 1, sizeof(char *));
	if (!list)
		return -ENOMEM;
	size_t i = 0;
	for (struct connection *c = connections_first(); c; c = c->next)
		if (!(list[i++] = dbus_connection_path(c)))
			return -ENOMEM;
	*nodes = TAKE_PTR(list);
	return 1;
}

/* --- Initiate(wait=true): the call waits for the progress sink --- */

struct pending_initiate {
	sd_bus_message *call;          /* referenced until we reply */
	sd_bus_track *caller;          /* tells us when the caller leaves the bus */
	struct connection *c;          /* valid while the sink is attached: deleting
					* a connection finishes its sinks first */
	struct progress_sink sink;
	bool in_initiate;              /* inside ctl_initiate: done() must not free */
	bool answered;
	struct pending_initiate *next;
};

static struct pending_initiate *pendings;

static void pending_free(struct pending_initiate *p)
{
	for (struct pending_initiate **pp = &pendings; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	sd_bus_track_unref(p->caller);
	sd_bus_message_unref(p->call);
	free(p);
}

/* Reply to call with the "ao" of these states; also used after the call's
 * handler has returned, so the reply is sent explicitly. */
static int reply_state_paths(sd_bus_message *call, const unsigned *serials, size_t n)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r = sd_bus_message_new_method_return(call, &reply);
	if (r >= 0)
		r = dbus_append_state_paths(reply, serials, n);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	return r;
}

/* The serials of c's states above floor, in list order (malloc'd; NULL
 * when out of memory). c NULL gives none. */
static unsigned *connection_serials(const struct connection *c, unsigned floor, size_t *n)
{
	unsigned *serials = calloc(states_count() + 1, sizeof(unsigned));
	*n = 0;
	if (!serials)
		return NULL;
	for (struct state *st = states_first(); c && st; st = st->next_in_list)
		if (st->connection == c && st->serial > floor)
			serials[(*n)++] = st->serial;
	return serials;
}

/* The states that make the connection "up": its newest ISAKMP and IPsec SA. */
static int reply_newest_states(sd_bus_message *call, const struct connection *c)
{
	unsigned serials[2] = { c->newest_isakmp, c->newest_ipsec };
	return reply_state_paths(call, serials, 2);
}

static void initiate_done(void *ctx, const struct ctl_error *err)
{
	struct pending_initiate *p = ctx;
	/* the Progress lines and changes that led here go out before the
	 * reply (they are otherwise gathered until the loop is idle): a
	 * caller reading the outcome has seen them */
	dbus_signals_flush();
	if (err) {
		/* the API promises NegotiationFailed, saying why */
		struct ctl_error failed = { .code = err->code == PE_AUTHENTICATION_FAILED ? PE_AUTHENTICATION_FAILED
										: PE_NEGOTIATION_FAILED };
		snprintf(failed.message, sizeof(failed.message), "%s", err->message);
		_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
		dbus_reply_ctl_error(&e, &failed);
		sd_bus_reply_method_error(p->call, &e);
	} else {
		reply_newest_states(p->call, p->c);
	}
	p->answered = true;
	if (!p->in_initiate)
		pending_free(p);
}

/* The caller left the bus before the outcome: stop waiting for it. */
static int on_caller_gone(sd_bus_track *track, void *userdata)
{
	struct pending_initiate *p = userdata;
	progress_sink_detach(p->c, &p->sink);
	pending_free(p);
	return 0;
}

void dbus_connection_pending_free_all(void)
{
	while (pendings) {
		progress_sink_detach(pendings->c, &pendings->sink);
		pending_free(pendings);
	}
}

static int initiate_and_wait(sd_bus_message *m, struct connection *c, sd_bus_error *error)
{
	struct pending_initiate *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->call = sd_bus_message_ref(m);
	p->c = c;
	p->sink = (struct progress_sink){ .done = initiate_done, .ctx = p };
	p->next = pendings;
	pendings = p;
	int r = sd_bus_track_new(sd_bus_message_get_bus(m), &p->caller, on_caller_gone, p);
	if (r >= 0)
		r = sd_bus_track_add_sender(p->caller, m);
	if (r < 0) {
		pending_free(p);
		return r;
	}

	struct ctl_error err;
	p->in_initiate = true;
	r = ctl_initiate(c->name, &p->sink, &err);
	p->in_initiate = false;
	if (p->answered) {
		/* the engine finished at once; done() has replied */
		pending_free(p);
		return 1;
	}
	if (r < 0) {
		pending_free(p);
		return dbus_reply_ctl_error(error, &err);
	}
	return 1;   /* the reply comes from initiate_done() */
}

static int method_initiate(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct connection *c = userdata;
	int wait;
	REQUIRE_ADMIN(m, error);
	int r = sd_bus_message_read(m, "b", &wait);
	if (r < 0)
		return r;
	if (wait)
		return initiate_and_wait(m, c, error);

	/* serials only grow: states above the highest one now are new */
	unsigned floor = 0;
	for (struct state *st = states_first(); st; st = st->next_in_list)
		if (st->serial > floor)
			floor = st->serial;
	_cleanup_free_ char *name = strdup(c->name);
	if (!name)
		return -ENOMEM;
	struct ctl_error err;
	if (ctl_initiate(name, NULL, &err) < 0)
		return dbus_reply_ctl_error(error, &err);
	/* the connection may be gone if the engine gave up at once */
	c = connection_by_name(name);
	size_t n;
	_cleanup_free_ unsigned *serials = connection_serials(c, floor, &n);
	if (!serials)
		return -ENOMEM;
	return reply_state_paths(m, serials, n);
}

/* Route, Unroute, Terminate, Delete: a name in, nothing out. The name is
 * copied because Delete frees the connection it comes from. */
static int reply_by_name(sd_bus_message *m, struct connection *c,
			 int (*fn)(const char *, struct ctl_error *), sd_bus_error *error)
{
	struct ctl_error err;
	REQUIRE_ADMIN(m, error);
	_cleanup_free_ char *name = strdup(c->name);
	if (!name)
		return -ENOMEM;
	if (fn(name, &err) < 0)
		return dbus_reply_ctl_error(error, &err);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_route(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return reply_by_name(m, userdata, ctl_route, error);
}

static int method_unroute(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return reply_by_name(m, userdata, ctl_unroute, error);
}

static int method_terminate(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return reply_by_name(m, userdata, ctl_terminate, error);
}

static int method_delete(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return reply_by_name(m, userdata, ctl_delete_connection, error);
}

static int method_set_debug(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const struct connection *c = userdata;
	return dbus_set_debug(m, c->name, error);
}

/* The properties come from the view (dbus-view.c): methods and the signal here. */
const sd_bus_vtable dbus_connection_methods[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Route", "", "", method_route, DBUS_OPEN),
	SD_BUS_METHOD("Unroute", "", "", method_unroute, DBUS_OPEN),
	SD_BUS_METHOD_WITH_NAMES("Initiate", "b", SD_BUS_PARAM(wait), "ao", SD_BUS_PARAM(states),
				 method_initiate, DBUS_OPEN),
	SD_BUS_METHOD("Terminate", "", "", method_terminate, DBUS_OPEN),
	SD_BUS_METHOD("Delete", "", "", method_delete, DBUS_OPEN),
	SD_BUS_METHOD_WITH_NAMES("SetDebug", "as", SD_BUS_PARAM(classes), "", , method_set_debug, DBUS_OPEN),
	SD_BUS_SIGNAL_WITH_NAMES("Progress", "us", SD_BUS_PARAM(code) SD_BUS_PARAM(message), 0),
	SD_BUS_VTABLE_END
};
