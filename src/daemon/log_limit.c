/* Token buckets for what unauthenticated peers can make us log
 * (log_limit.h), and the periodic "suppressed" line. */
#include "daemon/log_limit.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "common/hindex.h"

/* A bucket as the time its tokens would all be back ("theoretical
 * arrival time"): a line is allowed while that time is at most
 * burst x interval ahead of now, and pushes it one interval on. */
struct bucket {
	uint64_t full_at;
};

static bool take(struct bucket *b, uint64_t now, unsigned burst, uint64_t interval)
{
	uint64_t from = b->full_at > now ? b->full_at : now;
	if (from + interval - now > (uint64_t)burst * interval)
		return false;
	b->full_at = from + interval;
	return true;
}

static struct source_slot {
	ip_address address;
	bool used;
	struct bucket bucket;
} sources[LOG_LIMIT_SOURCES];
static struct bucket global;

static sd_event *loop;
static sd_event_source *report_timer;
static uint64_t suppressed_total;
static unsigned suppressed_unsaid;
static char last_suppressed_from[IP_STR_MAX];

static uint64_t mono_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void log_limit_set_event(struct sd_event *event)
{
	if (loop == event)
		return;
	report_timer = sd_event_source_disable_unref(report_timer);
	loop = event;
}

void log_limit_reset(void)
{
	memset(sources, 0, sizeof(sources));
	global = (struct bucket){ 0 };
	suppressed_unsaid = 0;
}

uint64_t log_limit_suppressed_total(void)
{
	return suppressed_total;
}

static int on_report(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)usec, (void)userdata;
	if (!suppressed_unsaid) {
		sd_event_source_set_enabled(s, SD_EVENT_OFF);
		return 0;
	}
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC,
	     "%u similar messages from unauthenticated peers suppressed in the last %llu s (the last from %s)",
	     suppressed_unsaid, (unsigned long long)(LOG_LIMIT_REPORT_USEC / 1000000), last_suppressed_from);
	suppressed_unsaid = 0;
	sd_event_source_set_time_relative(s, LOG_LIMIT_REPORT_USEC);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

static void arm_report(void)
{
	if (!loop)
		return;
	if (!report_timer) {
		if (sd_event_add_time_relative(loop, &report_timer, CLOCK_MONOTONIC, LOG_LIMIT_REPORT_USEC, 0,
					       on_report, NULL) < 0)
			report_timer = NULL;
		return;
	}
	int enabled = SD_EVENT_OFF;
	sd_event_source_get_enabled(report_timer, &enabled);
	if (enabled != SD_EVENT_OFF)
		return;   /* a report is already due */
	sd_event_source_set_time_relative(report_timer, LOG_LIMIT_REPORT_USEC);
	sd_event_source_set_enabled(report_timer, SD_EVENT_ONESHOT);
}

bool log_limit_allow_at(const ip_address *from, uint64_t now)
{
	struct source_slot *slot = &sources[hash_address(HASH_SEED, from) % LOG_LIMIT_SOURCES];
	if (!slot->used || !ip_equal(&slot->address, from))
		*slot = (struct source_slot){ .address = *from, .used = true };
	/* the source's bucket first: one source's lines never use the
	 * global tokens another source's first line needs */
	if (take(&slot->bucket, now, LOG_LIMIT_SOURCE_BURST, LOG_LIMIT_SOURCE_INTERVAL_USEC) &&
	    take(&global, now, LOG_LIMIT_GLOBAL_BURST, LOG_LIMIT_GLOBAL_INTERVAL_USEC))
		return true;
	suppressed_total++;
	if (suppressed_unsaid++ == 0)
		arm_report();
	ip_str(from, last_suppressed_from);
	return false;
}

bool log_limit_allow(const ip_address *from)
{
	return log_limit_allow_at(from, mono_usec());
}
