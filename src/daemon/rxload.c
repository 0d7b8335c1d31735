/* Overload control of new Main Modes (rxload.h): the decision, what it
 * is fed from the sockets, and its rate-limited log line. */
#include "daemon/rxload.h"

#include <stdio.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "daemon/helpers/helpers.h"
#include "daemon/log.h"

#define LOG_INTERVAL_USEC (1000 * 1000ULL)

static bool loop_behind(const struct rxload_facts *f)
{
	return f->queued_usec > RXLOAD_LOOP_BEHIND_USEC;
}

static bool kernel_drops(const struct rxload_facts *f)
{
	return f->since_drop_usec < RXLOAD_DROPS_WINDOW_USEC;
}

/* over 3/4 of what the helpers may have queued */
static bool helpers_full(const struct rxload_facts *f)
{
	return f->helpers && 4ULL * f->helper_backlog > 3ULL * RXLOAD_HELPER_QUEUE_PER_HELPER * f->helpers;
}

static bool half_open_refuses(const struct rxload_facts *f, enum rxload_reason why)
{
	return f->ho.refusal == why;
}

static bool pool_full(const struct rxload_facts *f)
{
	return half_open_refuses(f, RXLOAD_HALF_OPEN);
}

static bool source_over(const struct rxload_facts *f)
{
	return half_open_refuses(f, RXLOAD_HALF_OPEN_SOURCE);
}

/* The checks in the order their reasons are named; load checks do not
 * apply to an MI1 the engine exempts (a configured peer's). */
static const struct rxload_check {
	enum rxload_reason why;
	bool load;
	bool (*holds)(const struct rxload_facts *f);
} checks[] = {
	{ RXLOAD_LOOP_BEHIND, true, loop_behind },
	{ RXLOAD_KERNEL_DROPS, true, kernel_drops },
	{ RXLOAD_HELPERS_FULL, true, helpers_full },
	{ RXLOAD_HALF_OPEN_SOURCE, false, source_over },
	{ RXLOAD_HALF_OPEN, false, pool_full },
};

enum rxload_reason rxload_verdict(const struct rxload_facts *f)
{
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (!(checks[i].load && f->ho.load_exempt) && checks[i].holds(f))
			return checks[i].why;
	return RXLOAD_OK;
}

void rxload_reason_text(enum rxload_reason why, const struct rxload_facts *f, char *buf, size_t size)
{
	switch (why) {
	case RXLOAD_OK:
		snprintf(buf, size, "not overloaded");
		return;
	case RXLOAD_LOOP_BEHIND:
		snprintf(buf, size, "event loop %llu ms behind", (unsigned long long)(f->queued_usec / 1000));
		return;
	case RXLOAD_KERNEL_DROPS:
		snprintf(buf, size, "kernel dropped IKE datagrams %llu ms ago",
			 (unsigned long long)(f->since_drop_usec / 1000));
		return;
	case RXLOAD_HELPERS_FULL:
		snprintf(buf, size, "%u jobs queued for %u crypto helper%s", f->helper_backlog, f->helpers,
			 f->helpers == 1 ? "" : "s");
		return;
	case RXLOAD_HALF_OPEN:
		snprintf(buf, size, "%u half-open Main Mode negotiations of %s", f->ho.in_pool,
			 f->ho.pool ? f->ho.pool : "peers");
		return;
	case RXLOAD_HALF_OPEN_SOURCE:
		snprintf(buf, size, "%u half-open Main Mode negotiations from this address", f->ho.from_source);
		return;
	}
	snprintf(buf, size, "?");
}

/* --- the loop's own state --- */

static sd_event *loop;
static sd_event_source *flush_timer;
static uint64_t current_queued_usec;       /* of the datagram being handled */
static uint64_t last_drop_at;              /* monotonic usec; 0: never */
static uint64_t refused_total;
/* the log line: when the last one was written, what was refused since */
static uint64_t said_at;
static unsigned refused_unsaid;
static char unsaid_reason[96];
static char unsaid_from[IP_STR_MAX + 8];

static uint64_t mono_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void rxload_set_event(struct sd_event *event)
{
	if (loop == event)
		return;
	flush_timer = sd_event_source_disable_unref(flush_timer);
	loop = event;
}

void rxload_datagram(uint64_t queued_usec, uint32_t new_drops)
{
	current_queued_usec = queued_usec;
	if (new_drops)
		last_drop_at = mono_usec();
}

uint64_t rxload_refused_total(void)
{
	return refused_total;
}

static void say(uint64_t now)
{
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC,
	     "overloaded (%s): new Main Mode from %s refused, %u refused in the last second; "
	     "negotiations under way continue",
	     unsaid_reason, unsaid_from, refused_unsaid);
	said_at = now;
	refused_unsaid = 0;
}

/* A second after a line: the refusals since, if any, get theirs; the
 * timer goes quiet once a second passes without one. */
static int on_flush(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)usec, (void)userdata;
	if (!refused_unsaid) {
		sd_event_source_set_enabled(s, SD_EVENT_OFF);
		return 0;
	}
	say(mono_usec());
	sd_event_source_set_time_relative(s, LOG_INTERVAL_USEC);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

static void arm_flush(void)
{
	if (!loop)
		return;
	if (!flush_timer) {
		if (sd_event_add_time_relative(loop, &flush_timer, CLOCK_MONOTONIC, LOG_INTERVAL_USEC, 0, on_flush,
					       NULL) < 0)
			flush_timer = NULL;
		return;
	}
	sd_event_source_set_time_relative(flush_timer, LOG_INTERVAL_USEC);
	sd_event_source_set_enabled(flush_timer, SD_EVENT_ONESHOT);
}

bool rxload_refuse_main_mode(const struct rxload_half_open *ho, const ip_address *from, uint16_t from_port)
{
	uint64_t now = mono_usec();
	struct rxload_facts f = {
		.queued_usec = current_queued_usec,
		.since_drop_usec = last_drop_at ? now - last_drop_at : UINT64_MAX,
		.helpers = helpers_count(),
		.helper_backlog = helpers_backlog(),
		.ho = *ho,
	};
	enum rxload_reason why = rxload_verdict(&f);
	if (why == RXLOAD_OK)
		return false;
	refused_total++;
	refused_unsaid++;
	char ab[IP_STR_MAX];
	rxload_reason_text(why, &f, unsaid_reason, sizeof(unsaid_reason));
	snprintf(unsaid_from, sizeof(unsaid_from), "%s:%u", ip_str(from, ab), from_port);
	if (!said_at || now - said_at >= LOG_INTERVAL_USEC) {
		say(now);
		arm_flush();
	}
	return true;
}
