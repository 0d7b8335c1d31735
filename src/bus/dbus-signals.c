/* Coalesced change signals. The engine announces every change as it
 * happens (daemon/events.h); sending each as a D-Bus message would make a
 * burst of 1,000 tunnels queue tens of thousands of signals. Here the
 * changes are gathered per object path and sent once per main-loop
 * iteration (an sd-event defer source at idle priority, with a timer so
 * a daemon that is never idle still sends them within FLUSH_MAX_USEC):
 *   - an object added and removed before the flush: nothing at all;
 *   - added then changed: one InterfacesAdded with the final values;
 *   - changed several times: one PropertiesChanged with the union of the
 *     changed properties, read when sent, so a watcher sees the final
 *     values;
 *   - removed (then perhaps added again under the same path, as a replaced
 *     connection is): InterfacesRemoved, then InterfacesAdded;
 *   - Progress lines are each sent (every line whack would print), after
 *     the object's InterfacesAdded and before its PropertiesChanged; lines
 *     of an object that is then removed go out before its removal.
 * Which signals exist is unchanged (API.md section 2): only duplicates
 * and intermediate values are dropped. */
#include "bus/dbus-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "common/util.h"
#include "daemon/log.h"

/* a busy daemon that is never idle still signals this often */
#define FLUSH_MAX_USEC (100 * 1000)

struct progress_line {
	unsigned rc;
	struct progress_line *next;
	char text[];
};

struct pending_signal {
	char *path;
	const char *interface;         /* static: one of the PLUTO_DBUS_*_IFACE */
	enum view_kind kind;
	bool removed;                  /* InterfacesRemoved owed (sent first) */
	bool added;                    /* InterfacesAdded owed */
	view_mask changed;             /* PropertiesChanged owed for these fields */
	struct progress_line *progress, **progress_tail;   /* Progress signals, in order */
	struct pending_signal *next, *prev;   /* in the order first touched */
	struct pending_signal *bucket_next;
};

static sd_bus *bus;
static sd_event_source *idle_flush, *timed_flush;
static struct pending_signal *first, *last;
static struct pending_signal **buckets;
static size_t n_buckets, n_pending;

static size_t bucket_of(const char *path)
{
	size_t h = 2166136261u;   /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h & (n_buckets - 1);
}

static void grow(void)
{
	if (n_pending < n_buckets)
		return;
	size_t n = n_buckets ? n_buckets * 2 : 256;
	free(buckets);
	buckets = xcalloc(n, sizeof(*buckets));
	n_buckets = n;
	for (struct pending_signal *p = first; p; p = p->next) {
		size_t b = bucket_of(p->path);
		p->bucket_next = buckets[b];
		buckets[b] = p;
	}
}

static struct pending_signal *find(const char *path)
{
	if (!n_buckets)
		return NULL;
	for (struct pending_signal *p = buckets[bucket_of(path)]; p; p = p->bucket_next)
		if (streq(p->path, path))
			return p;
	return NULL;
}

/* A failure to emit a signal is not worth more than a debug line: the
 * bus may be going away, and the daemon's work goes on without it. */
static void emitted(int r, const char *what, const char *path)
{
	if (r < 0)
		DBG(DBG_CONTROL, NULL, "D-Bus: cannot emit %s for %s: %s", what, path, strerror(-r));
}

/* The object may be gone already, so its interfaces are named here rather
 * than looked up: the same list sd_bus_emit_object_removed would send. */
static int emit_removed(const char *path, const char *interface)
{
	const char *interfaces[] = { "org.freedesktop.DBus.Peer", "org.freedesktop.DBus.Introspectable",
				     "org.freedesktop.DBus.Properties", interface, NULL };
	return sd_bus_emit_interfaces_removed_strv(bus, path, (char **)interfaces);
}

static void free_progress(struct pending_signal *p)
{
	for (struct progress_line *l = p->progress, *next; l; l = next) {
		next = l->next;
		free(l);
	}
	p->progress = NULL;
	p->progress_tail = &p->progress;
}

static void send_progress(struct pending_signal *p)
{
	for (struct progress_line *l = p->progress; l; l = l->next)
		emitted(sd_bus_emit_signal(bus, p->path, PLUTO_DBUS_CONN_IFACE, "Progress", "us", l->rc, l->text),
			"Progress", p->path);
	free_progress(p);
}

static void send_one(struct pending_signal *p)
{
	if (p->removed)
		emitted(emit_removed(p->path, p->interface), "InterfacesRemoved", p->path);
	if (p->added)
		emitted(dbus_emit_object_added(bus, p->path, p->kind), "InterfacesAdded", p->path);
	send_progress(p);
	if (!p->added && p->changed)
		emitted(dbus_emit_view_changes(bus, p->path, p->interface, p->kind, p->changed),
			"PropertiesChanged", p->path);
	p->removed = p->added = false;
	p->changed = 0;
}

static void unlink_bucket(struct pending_signal *p)
{
	for (struct pending_signal **pp = &buckets[bucket_of(p->path)]; *pp; pp = &(*pp)->bucket_next)
		if (*pp == p) {
			*pp = p->bucket_next;
			break;
		}
}

/* Forget p (sent or cancelled): out of the bucket and the list. */
static void drop(struct pending_signal *p)
{
	unlink_bucket(p);
	if (p->prev)
		p->prev->next = p->next;
	else
		first = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		last = p->prev;
	n_pending--;
	free_progress(p);
	free(p->path);
	free(p);
}

static void arm(void)
{
	if (idle_flush)
		sd_event_source_set_enabled(idle_flush, SD_EVENT_ONESHOT);
	if (timed_flush && sd_event_source_get_enabled(timed_flush, NULL) == 0) {
		uint64_t now;
		sd_event_now(sd_event_source_get_event(timed_flush), CLOCK_MONOTONIC, &now);
		sd_event_source_set_time(timed_flush, now + FLUSH_MAX_USEC);
		sd_event_source_set_enabled(timed_flush, SD_EVENT_ONESHOT);
	}
}

static struct pending_signal *touch(const char *path, const char *interface, enum view_kind kind)
{
	struct pending_signal *p = find(path);
	if (p)
		return p;
	grow();
	p = xcalloc(1, sizeof(*p));
	p->path = xstrdup(path);
	p->interface = interface;
	p->kind = kind;
	p->progress_tail = &p->progress;
	size_t b = bucket_of(path);
	p->bucket_next = buckets[b];
	buckets[b] = p;
	p->prev = last;
	if (last)
		last->next = p;
	else
		first = p;
	last = p;
	n_pending++;
	arm();
	return p;
}

/* nothing left to say about p: forget it */
static void settle(struct pending_signal *p)
{
	if (!p->removed && !p->added && !p->changed && !p->progress)
		drop(p);
}

void dbus_signal_added(const char *path, const char *interface, enum view_kind kind)
{
	struct pending_signal *p = touch(path, interface, kind);
	p->added = true;
	p->changed = 0;
}

void dbus_signal_removed(const char *path, const char *interface, enum view_kind kind)
{
	struct pending_signal *p = touch(path, interface, kind);
	if (p->added) {
		/* never announced: nobody needs to hear of it, nor of its lines */
		p->added = false;
		free_progress(p);
	} else if (p->progress) {
		/* its lines were said while it existed: they go first */
		send_one(p);
		p->removed = true;
	} else {
		p->removed = true;
	}
	p->changed = 0;
	settle(p);
}

void dbus_signal_changed(const char *path, const char *interface, enum view_kind kind, view_mask changed)
{
	struct pending_signal *p = touch(path, interface, kind);
	if (!p->added)   /* else InterfacesAdded will carry the values */
		p->changed |= changed;
	settle(p);
}

void dbus_signal_progress(const char *path, unsigned rc, const char *text)
{
	struct pending_signal *p = touch(path, PLUTO_DBUS_CONN_IFACE, VIEW_CONNECTION);
	size_t len = strlen(text);
	struct progress_line *l = xmalloc(sizeof(*l) + len + 1);
	l->rc = rc;
	l->next = NULL;
	memcpy(l->text, text, len + 1);
	*p->progress_tail = l;
	p->progress_tail = &l->next;
}

/* send: emit what is owed (else forget it: the bus is gone) */
static void settle_all(bool send)
{
	while (first) {
		if (send && bus)
			send_one(first);
		drop(first);
	}
	if (idle_flush)
		sd_event_source_set_enabled(idle_flush, SD_EVENT_OFF);
	if (timed_flush)
		sd_event_source_set_enabled(timed_flush, SD_EVENT_OFF);
}

void dbus_signals_flush(void)
{
	settle_all(true);
}

static int on_idle_flush(sd_event_source *s, void *userdata)
{
	dbus_signals_flush();
	return 0;
}

static int on_timed_flush(sd_event_source *s, uint64_t usec, void *userdata)
{
	dbus_signals_flush();
	return 0;
}

int dbus_signals_start(sd_bus *b, sd_event *event)
{
	bus = b;
	int r = sd_event_add_defer(event, &idle_flush, on_idle_flush, NULL);
	if (r >= 0)
		r = sd_event_source_set_priority(idle_flush, SD_EVENT_PRIORITY_IDLE);
	if (r >= 0)
		r = sd_event_source_set_enabled(idle_flush, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time(event, &timed_flush, CLOCK_MONOTONIC, 0, 0, on_timed_flush, NULL);
	if (r >= 0)
		r = sd_event_source_set_enabled(timed_flush, SD_EVENT_OFF);
	return r;
}

void dbus_signals_stop(bool flush)
{
	settle_all(flush);
	idle_flush = sd_event_source_disable_unref(idle_flush);
	timed_flush = sd_event_source_disable_unref(timed_flush);
	free(buckets);
	buckets = NULL;
	n_buckets = 0;
	bus = NULL;
}
