#include "daemon/events.h"

#include <stdbool.h>
#include <stddef.h>

#include "common/util.h"
#include "daemon/state.h"

/* A handful of subscribers at most (D-Bus, each Varlink Monitor client),
 * so a plain array; removal during emit is made safe by marking. */
struct observer {
	pluto_observer_fn fn;
	void *userdata;
	bool dead;
};

static struct observer *observers;
static size_t n_observers, cap_observers;
static unsigned emitting;

void events_subscribe(pluto_observer_fn fn, void *userdata)
{
	if (n_observers == cap_observers) {
		cap_observers = cap_observers ? cap_observers * 2 : 8;
		observers = xrealloc(observers, cap_observers * sizeof(*observers));
	}
	observers[n_observers++] = (struct observer){ fn, userdata, false };
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
		if (observers[i].fn == fn && observers[i].userdata == userdata)
			observers[i].dead = true;
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

void event_connection(enum pluto_event_kind kind, struct connection *c, const char *property)
{
	events_emit(&(struct pluto_event){ .kind = kind, .c = c, .property = property });
}

void event_state(enum pluto_event_kind kind, struct state *st, const char *property)
{
	events_emit(&(struct pluto_event){ .kind = kind, .st = st, .c = st->connection, .property = property });
}

void event_manager(const char *property)
{
	events_emit(&(struct pluto_event){ .kind = EV_MANAGER_CHANGED, .property = property });
}
