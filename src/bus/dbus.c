/* The D-Bus front end (API.md section 2): connects to the system bus,
 * registers the Manager object, the fallback vtables for connections and
 * states with their node enumerators and an ObjectManager, takes the name
 * org.freeswan.pluto1, and turns change events (daemon/events.h) into
 * InterfacesAdded/Removed, PropertiesChanged (coalesced, dbus-signals.c)
 * and Progress signals.
 *
 * The bus may go away (dbus-daemon restarted) or not be there yet at
 * start: one connection is then dropped whole, with everything that was
 * tied to it, and a new one made after a back-off (dbus-heal.c), built
 * exactly as the first one. Only the vtables (made from the view, they
 * hold nothing of a bus) and the event subscription live as long as the
 * front end.
 * The method adapters live in dbus-manager.c, dbus-connection.c and
 * dbus-state.c; nothing here knows IKE. */
#include "bus/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "bus/dbus-internal.h"
#include "daemon/events.h"
#include "daemon/log.h"
#include "daemon/state.h"

/* the connection being made or in use; NULL between two */
static sd_bus *bus;
/* the name is ours on it: changes are signalled. While off the bus
 * nothing is owed: a client that sees the name come back reads the
 * objects as they are then (GetManagedObjects). */
static bool serving;
/* this connection's end was seen (the name refused, then Disconnected,
 * or both for one loss): the back-off is told once per connection */
static bool ended;
static sd_event *loop;
/* the vtables made from the view, alive while the front end is: every
 * connection registers the same ones */
static sd_bus_vtable *vtables[VIEW__KINDS];

sd_bus *dbus_bus(void)
{
	return serving ? bus : NULL;
}

/* Only the fields whose value changed (the core compared them already);
 * added, removed and changed objects are coalesced, Progress lines kept
 * in order with them (dbus-signals.c). */
static void on_object_event(const struct pluto_event *ev, const char *path, const char *interface)
{
	enum view_kind kind = event_view_kind(ev);
	switch (ev->kind) {
	case EV_CONNECTION_ADDED:
	case EV_STATE_ADDED:
		dbus_signal_added(path, interface, kind);
		break;
	case EV_CONNECTION_REMOVED:
	case EV_STATE_REMOVED:
		dbus_signal_removed(path, interface, kind);
		break;
	case EV_CONNECTION_CHANGED:
	case EV_STATE_CHANGED:
		dbus_signal_changed(path, interface, kind, ev->changed);
		break;
	case EV_PROGRESS:
		dbus_signal_progress(path, ev->rc, ev->text ? ev->text : "");
		break;
	default:
		break;
	}
}

static void on_event(const struct pluto_event *ev, void *userdata)
{
	_cleanup_free_ char *path = NULL;
	const char *interface = NULL;
	/* closed: lost (the back-off runs), or by sd-bus at the loop's end
	 * (the deletions of the shutdown) */
	if (!serving || sd_bus_is_open(bus) <= 0)
		return;
	switch (ev->kind) {
	case EV_MANAGER_CHANGED:
		dbus_signal_changed(PLUTO_DBUS_PATH, PLUTO_DBUS_MANAGER_IFACE, VIEW_MANAGER, ev->changed);
		return;
	case EV_CONNECTION_ADDED:
	case EV_CONNECTION_REMOVED:
	case EV_CONNECTION_CHANGED:
	case EV_PROGRESS:
		if (!ev->c)
			return;   /* a global log line: no connection to signal on */
		path = dbus_connection_path(ev->c);
		interface = PLUTO_DBUS_CONN_IFACE;
		break;
	case EV_STATE_ADDED:
	case EV_STATE_REMOVED:
	case EV_STATE_CHANGED:
		if (!ev->st)
			return;
		path = dbus_state_path(ev->st->serial);
		interface = PLUTO_DBUS_STATE_IFACE;
		break;
	}
	if (path)
		on_object_event(ev, path, interface);
}

static void free_vtables(void)
{
	for (size_t i = 0; i < VIEW__KINDS; i++) {
		free(vtables[i]);
		vtables[i] = NULL;
	}
}

const char *dbus_bus_address(void)
{
	/* what sd-bus uses: DBUS_SYSTEM_BUS_ADDRESS, else the standard path */
	const char *address = getenv("DBUS_SYSTEM_BUS_ADDRESS");
	return address ? address : "unix:path=/run/dbus/system_bus_socket";
}

/* Signals go out only while the name is ours; while nobody is
 * subscribed, the core does not even compare values (daemon/events.c). */
static void set_serving(bool on)
{
	if (on && !serving)
		events_subscribe(on_event, NULL);
	else if (!on && serving)
		events_unsubscribe(on_event, NULL);
	serving = on;
}

/* Everything tied to one connection goes with it: the signals owed
 * (flush: sent first, at shutdown; else dropped, nobody would hear
 * them), the Initiate calls waiting (their callers are on that bus),
 * then the bus with every slot registered on it (all floating: the
 * objects, the Disconnected match, the name request). */
static void drop_bus(bool flush)
{
	set_serving(false);
	dbus_signals_stop(flush);
	dbus_connection_pending_free_all();
	bus = flush ? sd_bus_flush_close_unref(bus) : sd_bus_close_unref(bus);
}

/* Objects that come and go with the daemon's data (connections, states):
 * one fallback vtable under prefix that finds them by path, and a node
 * enumerator that lists them for introspection and GetManagedObjects. */
static int add_object_family(const char *prefix, const char *interface, const sd_bus_vtable *vtable,
			     sd_bus_object_find_t find, sd_bus_node_enumerator_t enumerate)
{
	int r = sd_bus_add_fallback_vtable(bus, NULL, prefix, interface, vtable, find, NULL);
	if (r >= 0)
		r = sd_bus_add_node_enumerator(bus, NULL, prefix, enumerate, NULL);
	return r;
}

static int register_objects(void)
{
	/* objects first, so that the first caller after the name finds them */
	int r = sd_bus_add_object_vtable(bus, NULL, PLUTO_DBUS_PATH, PLUTO_DBUS_MANAGER_IFACE,
					 vtables[VIEW_MANAGER], NULL);
	/* the ObjectManager for introspection and the standard interfaces;
	 * its GetManagedObjects is answered by dbus-objects.c */
	if (r >= 0)
		r = sd_bus_add_object_manager(bus, NULL, PLUTO_DBUS_PATH);
	if (r >= 0)
		r = dbus_objects_start(bus);
	if (r >= 0)
		r = add_object_family(PLUTO_DBUS_CONN_PREFIX, PLUTO_DBUS_CONN_IFACE, vtables[VIEW_CONNECTION],
				      dbus_connection_find, dbus_connection_enumerate);
	if (r >= 0)
		r = add_object_family(PLUTO_DBUS_STATE_PREFIX, PLUTO_DBUS_STATE_IFACE, vtables[VIEW_STATE],
				      dbus_state_find, dbus_state_enumerate);
	return r;
}

/* sd-bus runs this inside its own dispatch of the bus, so the bus is not
 * freed here: the back-off timer drops it before it tries again. What
 * must stop at once stops: no signal is gathered for a dead bus. */
static void lost(const char *what, int r)
{
	if (ended)
		return;
	ended = true;
	set_serving(false);
	dbus_signals_stop(false);
	dbus_heal_down(what, r);
}

/* The local signal sd-bus synthesizes when the connection ends (the
 * bus daemon went away or closed it): sd_bus_set_exit_on_disconnect(0)
 * keeps it from ending the event loop, so this is all that happens. */
static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	lost("the connection closed", -ECONNRESET);
	return 0;
}

static void name_owned(void)
{
	set_serving(true);
	dbus_heal_up();
}

/* The reply to RequestName, when it was asked for without waiting */
static int on_name_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	uint32_t result = 0;
	int r = sd_bus_message_get_errno(reply);
	r = r > 0 ? -r : sd_bus_message_read(reply, "u", &result);
	/* 1: the primary owner, 4: already it; 3 (taken, and we did not queue) */
	if (r >= 0 && result != 1 && result != 4)
		r = -EEXIST;
	if (r < 0 && sd_bus_is_open(bus) <= 0)
		/* the bus went away before it answered (sd-bus's made-up
		 * reply says NoReply, "timed out": it did not) */
		lost("the connection closed", -ECONNRESET);
	else if (r < 0)
		lost(DBUS_WHAT_NAME, r);
	else
		name_owned();
	return 0;
}

/* One connection, built whole: the objects, the watch for its end, the
 * loop, then the name. At start the name is waited for (READY=1 then
 * means it is ours, as before); when reconnecting it is asked for
 * without waiting, so that a bus daemon that accepts but does not
 * answer cannot stall the daemon. On failure nothing of the connection
 * is left; *what says what failed. */
static int connect_bus(bool wait, const char **what)
{
	/* sd-bus honours DBUS_SYSTEM_BUS_ADDRESS */
	*what = "cannot connect to the system bus";
	ended = false;
	int r = sd_bus_open_system(&bus);
	if (r < 0) {
		bus = NULL;
		return r;
	}
	/* losing the bus must not stop the daemon: Varlink still serves,
	 * and on_disconnected starts the back-off */
	sd_bus_set_exit_on_disconnect(bus, 0);
	/* when the loop ends sd-bus flushes (the reply to Shutdown) and
	 * closes: the connections deleted at shutdown are not signalled one
	 * by one, the name going away says it all. No Disconnected follows. */
	sd_bus_set_close_on_exit(bus, 1);

	*what = "cannot register the D-Bus objects";
	r = register_objects();
	if (r >= 0) {
		*what = "cannot watch the bus connection";
		/* a local match: nothing is sent to the bus for it */
		r = sd_bus_match_signal_async(bus, NULL, "org.freedesktop.DBus.Local", NULL,
					      "org.freedesktop.DBus.Local", "Disconnected", on_disconnected,
					      NULL, NULL);
	}
	if (r >= 0) {
		*what = "cannot attach the bus to the event loop";
		r = sd_bus_attach_event(bus, loop, SD_EVENT_PRIORITY_NORMAL);
	}
	if (r >= 0)
		r = dbus_signals_start(bus, loop);
	if (r >= 0) {
		*what = DBUS_WHAT_NAME;
		r = wait ? sd_bus_request_name(bus, PLUTO_DBUS_NAME, 0)
			 : sd_bus_request_name_async(bus, NULL, PLUTO_DBUS_NAME, 0, on_name_reply, NULL);
	}
	if (r < 0) {
		drop_bus(false);
		return r;
	}
	if (wait)
		name_owned();
	return 0;
}

void dbus_reconnect(void)
{
	/* the connection that was lost, or whose name was refused */
	if (bus)
		drop_bus(false);
	const char *what;
	int r = connect_bus(false, &what);
	if (r < 0)
		dbus_heal_down(what, r);
}

int dbus_start(struct sd_event *event, long admin_gid, size_t max_message, struct ctl_error *err)
{
	if (loop)
		return ctl_fail(err, PE_INTERNAL, "the D-Bus front end is already running");
	dbus_set_admin_gid(admin_gid);
	dbus_objects_set_max_message(max_message ? max_message : DBUS_DEFAULT_MAX_MESSAGE);

	int r = dbus_register_error_map();
	if (r < 0)
		return ctl_fail(err, PE_INTERNAL, "cannot register the D-Bus error names: %s", strerror(-r));
	vtables[VIEW_MANAGER] = dbus_view_vtable(VIEW_MANAGER, dbus_manager_methods);
	vtables[VIEW_CONNECTION] = dbus_view_vtable(VIEW_CONNECTION, dbus_connection_methods);
	vtables[VIEW_STATE] = dbus_view_vtable(VIEW_STATE, dbus_state_methods);
	r = vtables[VIEW_MANAGER] && vtables[VIEW_CONNECTION] && vtables[VIEW_STATE] ? dbus_heal_start(event)
										       : -ENOMEM;
	if (r < 0) {
		free_vtables();
		return ctl_fail(err, PE_INTERNAL, "cannot start the D-Bus front end: %s", strerror(-r));
	}
	loop = sd_event_ref(event);

	/* no bus (yet): the back-off tries again, Varlink serves meanwhile */
	const char *what;
	r = connect_bus(true, &what);
	if (r < 0)
		dbus_heal_down(what, r);
	return 0;
}

void dbus_stop(void)
{
	if (!loop)
		return;
	dbus_heal_stop();
	/* the signals owed go out before the bus closes, and the reply to
	 * Shutdown(), unless sd-bus closed it already at the loop's end;
	 * callers still waiting for Initiate get nothing */
	if (bus)
		drop_bus(serving && sd_bus_is_open(bus) > 0);
	free_vtables();
	loop = sd_event_unref(loop);
}
