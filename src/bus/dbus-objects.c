/* GetManagedObjects and InterfacesAdded, written by pluto itself.
 *
 * sd-bus can answer both from the vtables (sd_bus_add_object_manager,
 * sd_bus_emit_object_added), but it does so object by object through the
 * node enumerators, a find callback per object and a getter call per
 * property, each looking the object up again by its path: with 10,000
 * connections and 20,000 states that was most of a second. Here the
 * connections and states are walked once and each object's properties
 * are appended from the view (daemon/views.h) by the code the property
 * getter uses (dbus_append_view_value), so both answers hold exactly the
 * properties and values a Get would give, in the shape sd-bus gives them:
 * the three standard interfaces with no properties, then ours.
 *
 * A bus refuses a message bigger than its limit by disconnecting the
 * sender (dbus-daemon: max_message_size, 32 MiB by default; 50,000
 * tunnels are more than that). So the reply's size is counted while it
 * is written, and one that would not fit is refused with LimitsExceeded
 * instead of being sent. */
#include "bus/dbus-internal.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/log.h"
#include "daemon/state.h"
#include "daemon/views.h"

#define OBJECT_MANAGER_IFACE "org.freedesktop.DBus.ObjectManager"

/* The room a method return's header takes beside the body: the fixed
 * 16 bytes, reply serial, signature, destination and the sender the bus
 * adds (unique names are short), padded: well under this. */
#define REPLY_HEADER_ROOM 512

/* The largest message the bus takes (dbus-daemon's default
 * max_message_size); pluto --dbus-max-message changes it. */
static size_t max_message = DBUS_DEFAULT_MAX_MESSAGE;

void dbus_objects_set_max_message(size_t bytes)
{
	max_message = bytes;
}

/* The interfaces sd-bus gives every object, with no properties. */
static const char *const standard_interfaces[] = {
	"org.freedesktop.DBus.Peer",
	"org.freedesktop.DBus.Introspectable",
	"org.freedesktop.DBus.Properties",
};

/* a string, counted */
static int append_text(sd_bus_message *m, char type, const char *text, size_t *wire)
{
	*wire = dbus_wire_string(*wire, strlen(text));
	return dbus_basic(m, type, text);
}

/* {sv} of every property of obj that D-Bus shows */
static int append_properties(sd_bus_message *m, enum view_kind kind, const void *obj, size_t *wire)
{
	size_t n;
	const struct view_field_name *f = view_fields(kind, &n);
	*wire = dbus_wire_array(*wire, 8);
	int r = dbus_open(m, 'a', "{sv}");
	for (unsigned i = 0; r >= 0 && i < n; i++) {
		if (!f[i].dbus)
			continue;
		const char *signature = dbus_view_signature(f[i].type);
		*wire = dbus_wire_align(*wire, 8);
		r = dbus_open(m, 'e', "sv");
		if (r >= 0)
			r = append_text(m, 's', f[i].dbus, wire);
		/* a variant: its signature (length byte, text, NUL), then the value */
		*wire += strlen(signature) + 2;
		if (r >= 0)
			r = dbus_open(m, 'v', signature);
		if (r >= 0) {
			struct view_value v;
			view_get(kind, obj, i, &v);
			r = dbus_append_view_value(m, &v, wire);
			view_value_clear(&v);
		}
		if (r >= 0)
			r = dbus_close(m);
		if (r >= 0)
			r = dbus_close(m);
	}
	return r < 0 ? r : dbus_close(m);
}

/* a{sa{sv}}: what GetManagedObjects and InterfacesAdded say of one object */
static int append_interfaces(sd_bus_message *m, enum view_kind kind, const void *obj, size_t *wire)
{
	const char *interface = kind == VIEW_CONNECTION ? PLUTO_DBUS_CONN_IFACE : PLUTO_DBUS_STATE_IFACE;
	*wire = dbus_wire_array(*wire, 8);
	int r = dbus_open(m, 'a', "{sa{sv}}");
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(standard_interfaces); i++) {
		*wire = dbus_wire_align(*wire, 8);
		r = dbus_open(m, 'e', "sa{sv}");
		if (r >= 0)
			r = append_text(m, 's', standard_interfaces[i], wire);
		*wire = dbus_wire_array(*wire, 8);
		if (r >= 0)
			r = dbus_open(m, 'a', "{sv}");
		if (r >= 0)
			r = dbus_close(m);   /* the empty a{sv} */
		if (r >= 0)
			r = dbus_close(m);   /* the entry */
	}
	*wire = dbus_wire_align(*wire, 8);
	if (r >= 0)
		r = dbus_open(m, 'e', "sa{sv}");
	if (r >= 0)
		r = append_text(m, 's', interface, wire);
	if (r >= 0)
		r = append_properties(m, kind, obj, wire);
	if (r >= 0)
		r = dbus_close(m);
	return r < 0 ? r : dbus_close(m);
}

/* {oa{sa{sv}}}: one object of GetManagedObjects */
static int append_object(sd_bus_message *m, const char *path, enum view_kind kind, const void *obj,
			 size_t *wire)
{
	*wire = dbus_wire_align(*wire, 8);
	int r = dbus_open(m, 'e', "oa{sa{sv}}");
	if (r >= 0)
		r = append_text(m, 'o', path, wire);
	if (r >= 0)
		r = append_interfaces(m, kind, obj, wire);
	return r < 0 ? r : dbus_close(m);
}

/* Every connection and state; -EMSGSIZE as soon as the body is bigger
 * than the bus would take (the rest is not written). m NULL: only count
 * (*body: the size). */
static int append_all(sd_bus_message *m, size_t limit, size_t *body)
{
	size_t wire = dbus_wire_array(0, 8);
	int r = dbus_open(m, 'a', "{oa{sa{sv}}}");
	for (struct connection *c = connections_first(); r >= 0 && c; c = c->next) {
		_cleanup_free_ char *path = dbus_connection_path(c);
		r = path ? append_object(m, path, VIEW_CONNECTION, c, &wire) : -ENOMEM;
		if (r >= 0 && wire > limit)
			r = -EMSGSIZE;
	}
	char path[sizeof(PLUTO_DBUS_STATE_PREFIX "/4294967295")];
	for (struct state *st = states_first(); r >= 0 && st; st = st->next_in_list) {
		snprintf(path, sizeof(path), PLUTO_DBUS_STATE_PREFIX "/%u", st->serial);
		r = append_object(m, path, VIEW_STATE, st, &wire);
		if (r >= 0 && wire > limit)
			r = -EMSGSIZE;
	}
	*body = wire;
	return r < 0 ? r : dbus_close(m);
}

/* Less than any object takes (a state with empty values is some 800
 * bytes on the wire, a connection with its options more). */
#define OBJECT_BYTES_MIN 500

static int get_managed_objects(sd_bus_message *call, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	size_t limit = max_message > REPLY_HEADER_ROOM ? max_message - REPLY_HEADER_ROOM : 0, body = 0;
	int r = 0;
	/* when the objects could come near the limit, their size is counted
	 * first (no message: a few times cheaper than writing one), so that
	 * a refusal does not cost a whole build of 32 MB */
	if ((connections_count() + states_count()) * OBJECT_BYTES_MIN > limit / 2)
		r = append_all(NULL, limit, &body);
	if (r >= 0)
		r = sd_bus_message_new_method_return(call, &reply);
	if (r >= 0)
		r = append_all(reply, limit, &body);
	DBG(DBG_CONTROL, NULL, "D-Bus: GetManagedObjects of %zu connections and %zu states: %s%zu bytes",
	    connections_count(), states_count(), r == -EMSGSIZE ? "more than " : "", body);
	if (r == -EMSGSIZE)
		return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
					 "GetManagedObjects: %zu connections and %zu states make a reply bigger "
					 "than the bus's message limit (%zu bytes, pluto --dbus-max-message): "
					 "read them with the Varlink Status (ipsecctl status --json), or object "
					 "by object (Properties.GetAll of the paths the Manager and Connection "
					 "properties give)",
					 connections_count(), states_count(), max_message);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

/* Every message to the root path comes here before sd-bus's own
 * handling (sd_bus_add_object): GetManagedObjects is answered, the rest
 * (the Manager's methods and properties, introspection) passed on. */
static int on_root_message(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	if (!sd_bus_message_is_method_call(m, OBJECT_MANAGER_IFACE, "GetManagedObjects"))
		return 0;
	const char *signature = sd_bus_message_get_signature(m, true);
	if (signature && *signature)
		return 0;   /* sd-bus tells the caller it takes no arguments */
	int r = get_managed_objects(m, error);
	return r < 0 ? r : 1;
}

int dbus_objects_start(sd_bus *bus)
{
	return sd_bus_add_object(bus, NULL, PLUTO_DBUS_PATH, on_root_message, NULL);
}

int dbus_emit_object_added(sd_bus *bus, const char *path, enum view_kind kind)
{
	void *obj = NULL;
	int r = kind == VIEW_CONNECTION ? dbus_connection_find(bus, path, NULL, NULL, &obj, NULL)
					: dbus_state_find(bus, path, NULL, NULL, &obj, NULL);
	if (r <= 0)
		return -ENOENT;   /* gone before it was announced */
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	size_t wire = 0;   /* not limited: one object */
	r = sd_bus_message_new_signal(bus, &m, PLUTO_DBUS_PATH, OBJECT_MANAGER_IFACE, "InterfacesAdded");
	if (r >= 0)
		r = append_text(m, 'o', path, &wire);
	if (r >= 0)
		r = append_interfaces(m, kind, obj, &wire);
	if (r >= 0)
		r = sd_bus_send(bus, m, NULL);
	return r;
}
