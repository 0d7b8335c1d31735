/* The D-Bus front end (API.md section 2): connects to the system bus,
 * registers the Manager object, the fallback vtables for connections and
 * states with their node enumerators and an ObjectManager, takes the name
 * org.freeswan.pluto1, and turns change events (daemon/events.h) into
 * InterfacesAdded/Removed, PropertiesChanged (coalesced, dbus-signals.c)
 * and Progress signals.
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

static sd_bus *bus;
/* the vtables made from the view, alive while the bus is */
static sd_bus_vtable *vtables[VIEW__KINDS];

sd_bus *dbus_bus(void)
{
	return bus;
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

static int fail_start(struct ctl_error *err, const char *what, int r)
{
	const char *address = getenv("DBUS_SYSTEM_BUS_ADDRESS");
	ctl_fail(err, PE_INTERNAL, "%s: %s (system bus at %s)", what, strerror(-r),
		 address ? address : "unix:path=/run/dbus/system_bus_socket");
	dbus_signals_stop();
	bus = sd_bus_flush_close_unref(bus);
	free_vtables();
	return -1;
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

int dbus_start(struct sd_event *event, long admin_gid, size_t max_message, struct ctl_error *err)
{
	int r;
	if (bus)
		return ctl_fail(err, PE_INTERNAL, "the D-Bus front end is already running");
	dbus_set_admin_gid(admin_gid);
	dbus_objects_set_max_message(max_message ? max_message : DBUS_DEFAULT_MAX_MESSAGE);

	r = dbus_register_error_map();
	if (r < 0)
		return fail_start(err, "cannot register the D-Bus error names", r);

	/* sd-bus honours DBUS_SYSTEM_BUS_ADDRESS */
	r = sd_bus_open_system(&bus);
	if (r < 0)
		return fail_start(err, "cannot connect to the system bus", r);
	/* losing the bus must not stop the daemon: Varlink still serves */
	sd_bus_set_exit_on_disconnect(bus, 0);

	vtables[VIEW_MANAGER] = dbus_view_vtable(VIEW_MANAGER, dbus_manager_methods);
	vtables[VIEW_CONNECTION] = dbus_view_vtable(VIEW_CONNECTION, dbus_connection_methods);
	vtables[VIEW_STATE] = dbus_view_vtable(VIEW_STATE, dbus_state_methods);
	if (!vtables[VIEW_MANAGER] || !vtables[VIEW_CONNECTION] || !vtables[VIEW_STATE])
		return fail_start(err, "cannot make the D-Bus vtables", -ENOMEM);
	/* objects first, so that the first caller after the name finds them */
	r = sd_bus_add_object_vtable(bus, NULL, PLUTO_DBUS_PATH, PLUTO_DBUS_MANAGER_IFACE,
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
	if (r < 0)
		return fail_start(err, "cannot register the D-Bus objects", r);

	r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
	if (r >= 0)
		r = dbus_signals_start(bus, event);
	if (r < 0)
		return fail_start(err, "cannot attach the bus to the event loop", r);

	r = sd_bus_request_name(bus, PLUTO_DBUS_NAME, 0);
	if (r < 0)
		return fail_start(err, "cannot own the name " PLUTO_DBUS_NAME
				  " (another pluto running? does the bus policy let root own it?)", r);

	events_subscribe(on_event, NULL);
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_STARTUP, "D-Bus: serving %s on the system bus",
	     PLUTO_DBUS_NAME);
	return 0;
}

void dbus_stop(void)
{
	if (!bus)
		return;
	events_unsubscribe(on_event, NULL);
	/* the signals owed go out before the bus closes */
	dbus_signals_stop();
	/* callers still waiting for Initiate get nothing: the bus goes away */
	dbus_connection_pending_free_all();
	/* flush: the reply to Shutdown() and the last signals still go out */
	bus = sd_bus_flush_close_unref(bus);
	free_vtables();
}
