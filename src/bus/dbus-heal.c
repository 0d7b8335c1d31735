/* A daemon that heals: when the system bus goes away (dbus-daemon
 * restarted or killed) or is not there yet at start, pluto tries again
 * after a back-off, 0.5 s doubling up to 30 s with +-20 % jitter (so the
 * daemons of a machine do not all knock at the same instant on a bus
 * that has just come back), for as long as it runs. dbus.c builds each
 * new connection exactly as the first; here is only when to try and
 * what to tell the admin:
 *   - a connection that served is lost: one error line;
 *   - an attempt fails: one line for the first failure of an outage, and
 *     again only when the reason changes (a debug line otherwise), so a
 *     bus that stays away for a day costs no flood of lines;
 *   - the name is ours again: one line saying how long it took.
 * The bus refusing the name is an error (err, and to syslog even when
 * pluto logs to stderr): pluto then serves no D-Bus client until an admin
 * acts, and the usual cause is a policy file the bus does not read (an
 * install under /usr/local before the install paths came from the
 * system), so the line names the file that was installed. */
#include "bus/bus.h"
#include "bus/dbus-internal.h"

#include <errno.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "common/random.h"
#include "config.h"   /* PLUTO_DBUS_POLICY_FILE */
#include "daemon/log.h"

#define USEC_PER_MSEC 1000ULL
#define USEC_PER_SEC 1000000ULL
#define RETRY_FIRST_USEC (500 * USEC_PER_MSEC)
#define RETRY_MAX_USEC (30 * USEC_PER_SEC)
#define JITTER_PERCENT 20

static sd_event_source *retry_timer;
static uint64_t next_delay = RETRY_FIRST_USEC;   /* before jitter */
static uint64_t down_since;       /* CLOCK_MONOTONIC; 0: not down */
static unsigned attempts;         /* failed ones in this outage */
static bool ever_up;              /* a connection served before */
/* the failure logged last in this outage, so a repeat is not logged */
static const char *logged_what;
static int logged_error;
static void (*status_hook)(void);

void dbus_set_status_hook(void (*changed)(void))
{
	status_hook = changed;
}

const char *dbus_status(void)
{
	return down_since ? "; off the system bus, reconnecting" : "";
}

static void status_changed(void)
{
	if (status_hook)
		status_hook();
}

static uint64_t now_usec(void)
{
	uint64_t now = 0;
	sd_event_now(sd_event_source_get_event(retry_timer), CLOCK_MONOTONIC, &now);
	return now;
}

/* delay +- JITTER_PERCENT, at random */
static uint64_t jittered(uint64_t delay)
{
	uint32_t r;
	random_bytes(&r, sizeof(r));
	uint64_t span = delay * JITTER_PERCENT / 100;
	return delay - span + (uint64_t)r % (2 * span + 1);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	DBG(DBG_CONTROL, NULL, "D-Bus: connecting to the system bus at %s (attempt %u)", dbus_bus_address(),
	    attempts + 1);
	dbus_reconnect();
	return 0;
}

int dbus_heal_start(sd_event *event)
{
	int r = sd_event_add_time(event, &retry_timer, CLOCK_MONOTONIC, 0, 10 * USEC_PER_MSEC, on_retry, NULL);
	if (r >= 0)
		r = sd_event_source_set_enabled(retry_timer, SD_EVENT_OFF);
	return r;
}

void dbus_heal_stop(void)
{
	retry_timer = sd_event_source_disable_unref(retry_timer);
	next_delay = RETRY_FIRST_USEC;
	down_since = 0;
	attempts = 0;
	ever_up = false;
	logged_what = NULL;
}

/* The bus said no to the name: who has it, or which policy should allow it */
static void name_refused(int r, uint64_t delay)
{
	if (r == -EEXIST)
		llog(GLOBAL_LOGGER, LS_ERROR | LS_SYSLOG_TOO, MSGID_GENERIC,
		     "D-Bus: cannot own the name %s: %s: another process on the system bus at %s owns it "
		     "(busctl status %s); trying again in %.1f s, then with back-off up to %llu s",
		     PLUTO_DBUS_NAME, strerror(-r), dbus_bus_address(), PLUTO_DBUS_NAME, delay / 1e6,
		     RETRY_MAX_USEC / USEC_PER_SEC);
	else
		llog(GLOBAL_LOGGER, LS_ERROR | LS_SYSLOG_TOO, MSGID_GENERIC,
		     "D-Bus: the system bus at %s refused pluto the name %s (%s): is its policy %s installed "
		     "and read by the bus (systemctl reload dbus)? Trying again in %.1f s, then with back-off up "
		     "to %llu s; D-Bus clients get nothing meanwhile, Varlink serves",
		     dbus_bus_address(), PLUTO_DBUS_NAME, strerror(-r), PLUTO_DBUS_POLICY_FILE, delay / 1e6,
		     RETRY_MAX_USEC / USEC_PER_SEC);
}

void dbus_heal_down(const char *what, int r)
{
	if (!retry_timer)
		return;   /* stopping */
	sd_event *event = sd_event_source_get_event(retry_timer);
	int loop_state = sd_event_get_state(event);
	if (loop_state == SD_EVENT_EXITING || loop_state == SD_EVENT_FINISHED)
		return;   /* shutting down: the bus closes with the loop */
	uint64_t delay = jittered(next_delay);
	/* once up, the only way down is the connection ending */
	bool lost = down_since == 0 && ever_up;
	if (down_since == 0) {
		down_since = now_usec();
		status_changed();
	}
	if (!lost)
		attempts++;

	if (strcmp(what, DBUS_WHAT_NAME) == 0 && (!logged_what || strcmp(what, logged_what) != 0 || r != logged_error))
		name_refused(r, delay);
	else if (lost)
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC,
		     "D-Bus: lost the system bus at %s (%s): reconnecting in %.1f s, then with back-off up to %llu s",
		     dbus_bus_address(), what, delay / 1e6, RETRY_MAX_USEC / USEC_PER_SEC);
	else if (!logged_what || strcmp(what, logged_what) != 0 || r != logged_error)
		llog(GLOBAL_LOGGER, LS_SERIOUS, MSGID_GENERIC,
		     "D-Bus: %s: %s (system bus at %s): trying again in %.1f s, then with back-off up to %llu s%s",
		     what, strerror(-r), dbus_bus_address(), delay / 1e6, RETRY_MAX_USEC / USEC_PER_SEC,
		     ever_up ? "" : " (pluto --nodbus runs without D-Bus)");
	else
		DBG(DBG_CONTROL, NULL, "D-Bus: %s: %s: attempt %u failed, next in %.1f s", what, strerror(-r),
		    attempts, delay / 1e6);
	logged_what = what;
	logged_error = r;

	next_delay = next_delay * 2 < RETRY_MAX_USEC ? next_delay * 2 : RETRY_MAX_USEC;
	sd_event_source_set_time(retry_timer, now_usec() + delay);
	sd_event_source_set_enabled(retry_timer, SD_EVENT_ONESHOT);
}

void dbus_heal_up(void)
{
	sd_event_source_set_enabled(retry_timer, SD_EVENT_OFF);
	if (down_since == 0)
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_STARTUP, "D-Bus: serving %s on the system bus", PLUTO_DBUS_NAME);
	else
		llog(GLOBAL_LOGGER, LS_NOTICE, MSGID_STARTUP,
		     "D-Bus: %s the system bus after %.1f s (%u failed attempts): serving %s%s",
		     ever_up ? "reconnected to" : "connected to", (now_usec() - down_since) / 1e6, attempts,
		     PLUTO_DBUS_NAME, ever_up ? " again" : "");
	next_delay = RETRY_FIRST_USEC;
	bool was_down = down_since != 0;
	down_since = 0;
	attempts = 0;
	ever_up = true;
	logged_what = NULL;
	if (was_down)
		status_changed();
}
