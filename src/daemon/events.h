/* Change events: the engine and the control core announce what changed;
 * front ends (D-Bus, Varlink Monitor) subscribe. Nothing here knows D-Bus. */
#pragma once
#include "common/errors.h"

struct connection;
struct state;

enum pluto_event_kind {
	EV_CONNECTION_ADDED,
	EV_CONNECTION_REMOVED,    /* sent before the connection is freed */
	EV_CONNECTION_CHANGED,    /* property names one property, or NULL = several */
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
	const char *property;     /* D-Bus property name that changed, or NULL */
	unsigned rc;              /* EV_PROGRESS: whack code */
	const char *text;         /* EV_PROGRESS: line without the code */
};

typedef void (*pluto_observer_fn)(const struct pluto_event *ev, void *userdata);

void events_subscribe(pluto_observer_fn fn, void *userdata);
void events_unsubscribe(pluto_observer_fn fn, void *userdata);
void events_emit(const struct pluto_event *ev);

/* shorthands */
void event_connection(enum pluto_event_kind kind, struct connection *c, const char *property);
void event_state(enum pluto_event_kind kind, struct state *st, const char *property);
void event_manager(const char *property);
