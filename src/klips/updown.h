/* The updown command (the man page: "Whenever pluto brings a connection
 * up or down, it invokes the updown command"): run for prepare, route,
 * unroute, up and down, each in a host or client variant, with the
 * PLUTO_* environment. Its output is logged; a non-zero exit is logged as
 * a failure and returned. */
#pragma once
#include <stdbool.h>

#include "common/errors.h"

struct connection;
struct state;

enum updown_verb { UPDOWN_PREPARE, UPDOWN_ROUTE, UPDOWN_UNROUTE, UPDOWN_UP, UPDOWN_DOWN };

/* Runs this end's updown command (leftupdown/rightupdown of our end, or
 * the default script) for verb; "-host" or "-client" is chosen from
 * whether our end has a client subnet. st (may be NULL) gives the SPIs
 * and peer id. Returns 0, or -1 with err when the script failed (exit
 * status, signal, or could not be run). Runs synchronously with a time
 * limit (updown_set_timeout), then the script's process group is killed.
 * err->code is CannotRoute for prepare/route/unroute, Internal for
 * up/down; the failure is already logged with the c/st prefix. */
int updown_run(enum updown_verb verb, const struct connection *c, const struct state *st,
	       struct ctl_error *err);

/* The default script used when the connection names none. */
void updown_set_default(const char *path);
const char *updown_default(void);

/* "route-client" etc.: the PLUTO_VERB value for verb and variant. */
const char *updown_verb_name(enum updown_verb verb, bool client);

/* Time limit of one run in milliseconds (default 30000); for tests. */
void updown_set_timeout(unsigned msec);
