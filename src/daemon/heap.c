/* The heap after bursts: see heap.h for what is chosen and why. */
#include "daemon/heap.h"

#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "daemon/events.h"
#include "daemon/log.h"

#define ARENAS_MAX 2
#define MMAP_THRESHOLD (128 * 1024)
#define QUIET_USEC (1000 * 1000)   /* a burst is over after this without a deletion */

static sd_event_source *trim_timer;   /* floating: the event loop frees it */
static uint64_t last_removal_usec;
static bool trim_armed;

static uint64_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void arm(uint64_t at)
{
	if (sd_event_source_set_time(trim_timer, at) < 0 ||
	    sd_event_source_set_enabled(trim_timer, SD_EVENT_ONESHOT) < 0)
		return;
	trim_armed = true;
}

static int on_trim_timer(sd_event_source *src, uint64_t usec, void *ud)
{
	(void)src;
	(void)ud;
	trim_armed = false;
	if (usec < last_removal_usec + QUIET_USEC) {
		arm(last_removal_usec + QUIET_USEC);   /* the burst goes on */
		return 0;
	}
	malloc_trim(0);
	return 0;
}

static void on_event(const struct pluto_event *ev, void *ud)
{
	(void)ud;
	if (ev->kind != EV_STATE_REMOVED && ev->kind != EV_CONNECTION_REMOVED)
		return;
	last_removal_usec = now_usec();
	if (trim_timer && !trim_armed)
		arm(last_removal_usec + QUIET_USEC);
}

void heap_init(struct sd_event *event)
{
	mallopt(M_ARENA_MAX, ARENAS_MAX);
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	int r = sd_event_add_time(event, &trim_timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_trim_timer, NULL);
	if (r < 0) {
		llog(GLOBAL_LOGGER, LS_SERIOUS, MSGID_GENERIC, "heap: no trim timer; the RSS stays at its peak");
		trim_timer = NULL;
		return;
	}
	sd_event_source_set_enabled(trim_timer, SD_EVENT_OFF);
	sd_event_source_set_floating(trim_timer, 1);
	sd_event_source_unref(trim_timer);   /* the loop holds it now; we keep a borrowed pointer */
	events_subscribe_kinds(on_event, NULL);
}
