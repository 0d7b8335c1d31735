/* Change events: the engine and the control core announce what changed;
 * front ends (D-Bus, Varlink Monitor) subscribe. Nothing here knows D-Bus:
 * a change names fields by their id in the view (daemon/views.h), and is
 * only delivered when a value differs from the one last announced. */
#pragma once
#include "common/errors.h"
#include "daemon/views.h"

struct connection;
struct state;

enum pluto_event_kind {
	EV_CONNECTION_ADDED,
	EV_CONNECTION_REMOVED,    /* sent before the connection is freed */
	EV_CONNECTION_CHANGED,    /* changed: the fields whose value differs */
	EV_STATE_ADDED,
	EV_STATE_REMOVED,         /* sent before the state is freed */
	EV_STATE_CHANGED,
	EV_MANAGER_CHANGED,       /* Listening, Interfaces, DebugClasses, KernelBackend */
	EV_PROGRESS,              /* a whack line for connection c (c may be NULL) */
};

struct pluto_event {
	enum pluto_event_kind kind;
	struct connection *c;
	struct state *st;
	view_mask changed;        /* *_CHANGED: ids (of the object's kind) whose value differs */
	unsigned rc;              /* EV_PROGRESS: whack code */
	const char *text;         /* EV_PROGRESS: line without the code */
};

typedef void (*pluto_observer_fn)(const struct pluto_event *ev, void *userdata);

/* An observer that reads ev->changed as the fields whose values differ
 * from those last announced (front ends telling clients values). */
void events_subscribe(pluto_observer_fn fn, void *userdata);
/* An observer that looks only at the kind and the objects (the engine's
 * own hooks): while only these listen, a *_CHANGED event's changed is the
 * field(s) as told, uncompared, and no values are remembered. */
void events_subscribe_kinds(pluto_observer_fn fn, void *userdata);
void events_unsubscribe(pluto_observer_fn fn, void *userdata);
void events_emit(const struct pluto_event *ev);

/* The way changes are announced. field: the one that changed, or the
 * kind's __ALL id when several may have (each is compared); ignored for
 * *_ADDED and *_REMOVED. A *_CHANGED whose values are all as last
 * announced is not delivered at all. */
void event_connection(enum pluto_event_kind kind, struct connection *c, enum view_connection_field field);
void event_state(enum pluto_event_kind kind, struct state *st, enum view_state_field field);
void event_manager(enum view_manager_field field);

/* The kind of object an event is about (VIEW_MANAGER for progress). */
enum view_kind event_view_kind(const struct pluto_event *ev);
