#include "daemon/events.h"

#include <stdbool.h>
#include <stddef.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/state.h"

/* A handful of subscribers at most (D-Bus, each Varlink Monitor client),
 * so a plain array; removal during emit is made safe by marking. */
struct observer {
	pluto_observer_fn fn;
	void *userdata;
	bool wants_values;  /* reads ev->changed as "values that differ" */
	bool dead;
};

static struct observer *observers;
static size_t n_observers, cap_observers;
static unsigned emitting;

/* Observers that read the changed fields (the D-Bus and Varlink front
 * ends). While there is none, nobody is told values, so the announced
 * values are neither remembered nor compared: that is a view of every
 * field (formatted, digested) per event, a few percent of a handshake's
 * CPU. The caches kept from an earlier watcher go stale then; the view
 * epoch, moved on when the first watcher arrives, says so. */
static size_t n_value_watchers;

static void add_observer(pluto_observer_fn fn, void *userdata, bool wants_values)
{
	if (wants_values && n_value_watchers++ == 0) {
		view_caches_expire();
		/* the first watcher sees the Manager as it is now: later
		 * changes are measured from that */
		view_remember(VIEW_MANAGER, NULL, view_manager_cache());
	}
	if (n_observers == cap_observers) {
		cap_observers = cap_observers ? cap_observers * 2 : 8;
		observers = xrealloc(observers, cap_observers * sizeof(*observers));
	}
	observers[n_observers++] = (struct observer){ fn, userdata, wants_values, false };
}

void events_subscribe(pluto_observer_fn fn, void *userdata)
{
	add_observer(fn, userdata, true);
}

void events_subscribe_kinds(pluto_observer_fn fn, void *userdata)
{
	add_observer(fn, userdata, false);
}

static void compact(void)
{
	size_t j = 0;
	for (size_t i = 0; i < n_observers; i++)
		if (!observers[i].dead)
			observers[j++] = observers[i];
	n_observers = j;
	if (n_observers == 0) {
		free(observers);
		observers = NULL;
		cap_observers = 0;
	}
}

void events_unsubscribe(pluto_observer_fn fn, void *userdata)
{
	for (size_t i = 0; i < n_observers; i++)
		if (observers[i].fn == fn && observers[i].userdata == userdata && !observers[i].dead) {
			observers[i].dead = true;
			if (observers[i].wants_values)
				n_value_watchers--;
		}
	if (!emitting)
		compact();
}

void events_emit(const struct pluto_event *ev)
{
	emitting++;
	/* n_observers may grow during the loop; new ones see the next event */
	size_t n = n_observers;
	for (size_t i = 0; i < n; i++)
		if (!observers[i].dead)
			observers[i].fn(ev, observers[i].userdata);
	if (--emitting == 0)
		compact();
}

void event_connection(enum pluto_event_kind kind, struct connection *c, enum view_connection_field field)
{
	struct pluto_event ev = { .kind = kind, .c = c };
	if (!c)
		return;
	if (kind == EV_CONNECTION_ADDED && n_value_watchers)
		view_remember(VIEW_CONNECTION, c, &c->view_cache);
	if (kind == EV_CONNECTION_CHANGED)
		ev.changed = n_value_watchers ? view_changes(VIEW_CONNECTION, c, &c->view_cache, field)
					      : view_told(VIEW_CONNECTION, field);
	if (kind == EV_CONNECTION_CHANGED && !ev.changed)
		return;   /* nothing differs from what was announced */
	events_emit(&ev);
}

void event_state(enum pluto_event_kind kind, struct state *st, enum view_state_field field)
{
	struct pluto_event ev = { .kind = kind, .st = st, .c = st->connection };
	if (kind == EV_STATE_ADDED && n_value_watchers)
		view_remember(VIEW_STATE, st, &st->view_cache);
	if (kind == EV_STATE_CHANGED)
		ev.changed = n_value_watchers ? view_changes(VIEW_STATE, st, &st->view_cache, field)
					      : view_told(VIEW_STATE, field);
	if (kind == EV_STATE_CHANGED && !ev.changed)
		return;   /* nothing differs from what was announced */
	events_emit(&ev);
}

void event_manager(enum view_manager_field field)
{
	struct pluto_event ev = { .kind = EV_MANAGER_CHANGED };
	ev.changed = n_value_watchers ? view_changes(VIEW_MANAGER, NULL, view_manager_cache(), field)
				      : view_told(VIEW_MANAGER, field);
	if (!ev.changed)
		return;
	events_emit(&ev);
}

enum view_kind event_view_kind(const struct pluto_event *ev)
{
	switch (ev->kind) {
	case EV_CONNECTION_ADDED:
	case EV_CONNECTION_REMOVED:
	case EV_CONNECTION_CHANGED:
		return VIEW_CONNECTION;
	case EV_STATE_ADDED:
	case EV_STATE_REMOVED:
	case EV_STATE_CHANGED:
		return VIEW_STATE;
	default:
		return VIEW_MANAGER;
	}
}
