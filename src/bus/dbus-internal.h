/* Shared between the files of the D-Bus front end (dbus*.c): the bus, the
 * object paths, and the small helpers every method adapter uses. Nothing
 * outside src/bus includes this. */
#pragma once
#include <stdbool.h>

#include <systemd/sd-bus.h>

#include "common/cleanup.h"
#include "common/errors.h"

struct connection;
struct state;
struct sd_event;

#define PLUTO_DBUS_NAME          "org.freeswan.pluto1"
#define PLUTO_DBUS_PATH          "/org/freeswan/pluto1"
#define PLUTO_DBUS_CONN_PREFIX   PLUTO_DBUS_PATH "/connection"
#define PLUTO_DBUS_STATE_PREFIX  PLUTO_DBUS_PATH "/state"
#define PLUTO_DBUS_MANAGER_IFACE PLUTO_DBUS_NAME ".Manager"
#define PLUTO_DBUS_CONN_IFACE    PLUTO_DBUS_NAME ".Connection"
#define PLUTO_DBUS_STATE_IFACE   PLUTO_DBUS_NAME ".State"

/* vtable flags for all three interfaces. Methods are open to every caller
 * because each one that changes anything checks access itself
 * (REQUIRE_ADMIN), so read-only ones such as Status stay open. */
#define DBUS_CHANGES SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
#define DBUS_OPEN SD_BUS_VTABLE_UNPRIVILEGED

/* The methods (and signals) of each interface, as a vtable of their own;
 * dbus_view_vtable() puts the view's properties in front of them. */
extern const sd_bus_vtable dbus_manager_methods[];
extern const sd_bus_vtable dbus_connection_methods[];
extern const sd_bus_vtable dbus_state_methods[];

/* --- the view as D-Bus (dbus-view.c) --- */
#include "daemon/views.h"

/* A malloc'd vtable: one property per view row with a D-Bus name (all
 * served by one getter over view_get), then the methods. NULL when out
 * of memory. It must outlive its registration. */
sd_bus_vtable *dbus_view_vtable(enum view_kind kind, const sd_bus_vtable *methods);
const char *dbus_view_signature(enum view_type type);
/* The sd-bus calls that write a message, doing nothing when there is no
 * message (m NULL): the code that writes one then only counts its size
 * (dbus_append_view_value, dbus-objects.c). */
static inline int dbus_open(sd_bus_message *m, char type, const char *contents)
{
	return m ? sd_bus_message_open_container(m, type, contents) : 0;
}
static inline int dbus_close(sd_bus_message *m)
{
	return m ? sd_bus_message_close_container(m) : 0;
}
static inline int dbus_basic(sd_bus_message *m, char type, const void *p)
{
	return m ? sd_bus_message_append_basic(m, type, p) : 0;
}

/* Append v as its D-Bus type; when wire is not NULL, advance *wire (the
 * offset in the body) by what was appended, padding included. reply NULL:
 * only count. */
int dbus_append_view_value(sd_bus_message *reply, const struct view_value *v, size_t *wire);
/* One state's path ("o"; serial 0 is "/"), written without a malloc. */
int dbus_append_state_ref(sd_bus_message *reply, unsigned serial, size_t *wire);
/* The D-Bus marshalling rules for a body offset: padding to an alignment,
 * an s or o of len bytes, an array's length and its first element's
 * padding (element_align: 8 for dict entries and structs). */
size_t dbus_wire_align(size_t pos, size_t to);
size_t dbus_wire_string(size_t pos, size_t len);
size_t dbus_wire_array(size_t pos, size_t element_align);
/* PropertiesChanged for the changed fields that D-Bus shows (none: nothing sent) */
int dbus_emit_view_changes(sd_bus *bus, const char *path, const char *interface, enum view_kind kind,
			   view_mask changed);

/* --- GetManagedObjects and InterfacesAdded (dbus-objects.c) --- */

/* dbus-daemon's default max_message_size: the biggest message a bus takes
 * unless pluto --dbus-max-message says otherwise */
#define DBUS_DEFAULT_MAX_MESSAGE ((size_t)32 * 1024 * 1024)
void dbus_objects_set_max_message(size_t bytes);
/* Answer GetManagedObjects of the root path (registered on the bus). */
int dbus_objects_start(sd_bus *bus);
/* InterfacesAdded for the object at path, from the view, as
 * GetManagedObjects gives it; -ENOENT when it is gone. */
int dbus_emit_object_added(sd_bus *bus, const char *path, enum view_kind kind);

/* --- coalesced change signals (dbus-signals.c) --- */

/* Gather the signals of the objects under path; they are sent once per
 * main-loop iteration (see dbus-signals.c for what is merged). */
int dbus_signals_start(sd_bus *bus, struct sd_event *event);
void dbus_signal_added(const char *path, const char *interface, enum view_kind kind);
void dbus_signal_removed(const char *path, const char *interface, enum view_kind kind);
void dbus_signal_changed(const char *path, const char *interface, enum view_kind kind, view_mask changed);
/* A Progress line of the connection at path: each one is sent, in order
 * with the object's other signals. */
void dbus_signal_progress(const char *path, unsigned rc, const char *text);
/* Send everything owed now. */
void dbus_signals_flush(void);
/* Send everything owed (flush), or drop it (the bus is gone: nobody
 * would hear it), then forget the event sources and the bus. Nothing
 * of the signals outlives the connection they were for. */
void dbus_signals_stop(bool flush);

/* The bus while the name is ours on it, NULL otherwise. */
sd_bus *dbus_bus(void);
/* The address sd-bus connects to: DBUS_SYSTEM_BUS_ADDRESS or the
 * standard path. */
const char *dbus_bus_address(void);

/* --- a lost bus (dbus.c, dbus-heal.c) --- */

/* The step dbus_heal_down is told when the bus refused the name: that
 * one is logged as an error naming the policy file (dbus-heal.c). */
#define DBUS_WHAT_NAME "cannot own the name " PLUTO_DBUS_NAME

/* The back-off timer on this loop (stopped at dbus_heal_stop). */
int dbus_heal_start(struct sd_event *event);
void dbus_heal_stop(void);
/* No bus: the connection was lost, or an attempt failed (what: a phrase
 * saying which step, r: its negative errno). Logs what a human needs
 * (once per outage and reason) and arms the timer, which calls
 * dbus_reconnect() after the next back-off delay. */
void dbus_heal_down(const char *what, int r);
/* The name is ours again: logs how long it took, resets the back-off. */
void dbus_heal_up(void);
/* Drop what is left of the old connection and try a new one (dbus.c). */
void dbus_reconnect(void);

/* Object paths (malloc'd; NULL only when out of memory). A NULL
 * connection or a serial of 0 gives "/", the D-Bus "no object". */
char *dbus_connection_path(const struct connection *c);
char *dbus_state_path(unsigned serial);

/* fallback vtable lookups and node enumerators (sd-bus callbacks) */
int dbus_connection_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
			 void **found, sd_bus_error *error);
int dbus_connection_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
			      sd_bus_error *error);
int dbus_state_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
		    void **found, sd_bus_error *error);
int dbus_state_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
			 sd_bus_error *error);

/* Turn a control-core error into org.freeswan.pluto1.Error.<Name>;
 * returns the negative errno of its row in common/errors.h. */
int dbus_reply_ctl_error(sd_bus_error *error, const struct ctl_error *err);
/* Teach sd-bus the errno of each of our error names (sd_bus_error_add_map;
 * once per process, later calls do nothing). */
int dbus_register_error_map(void);

/* Only root, or a member of the admin group (gid >= 0, set at start), may
 * change anything. dbus_check_admin returns 1 when allowed, else 0 with
 * error set to AccessDenied (also when the credentials cannot be read). */
void dbus_set_admin_gid(long gid);
int dbus_check_admin(sd_bus_message *m, sd_bus_error *error);

/* Every mutating method handler starts with this (needs <errno.h>). */
#define REQUIRE_ADMIN(m, error)                              \
	do {                                                 \
		int _r = dbus_check_admin((m), (error));     \
		if (_r <= 0)                                 \
			return _r < 0 ? _r : -EACCES;        \
	} while (0)

/* Read an "as" argument into a NULL-terminated malloc'd vector of malloc'd
 * strings (free with strv_free, or declare it _cleanup_strv_free_); *n
 * gets the count. */
int dbus_read_strv(sd_bus_message *m, char ***strv, size_t *n);

/* SetDebug(as classes) for the whole daemon (connection NULL, the Manager)
 * or for one connection: the method handler both interfaces share. */
int dbus_set_debug(sd_bus_message *m, const char *connection, sd_bus_error *error);

/* Append an "ao" of these state serials (0 entries skipped). */
int dbus_append_state_paths(sd_bus_message *reply, const unsigned *serials, size_t n);

/* Pending Initiate(wait=true) calls: dropped (caller told nothing) when
 * the front end stops. */
void dbus_connection_pending_free_all(void);
