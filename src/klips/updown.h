/* The updown command (the man page: "Whenever pluto brings a connection
 * up or down, it invokes the updown command"): run for prepare, route,
 * unroute, up and down, each in a host or client variant, with the
 * PLUTO_* environment. Its output is logged; a non-zero exit is logged as
 * a failure. Three kinds, by this end's leftupdown/rightupdown:
 *   none given    the default: --updown's command when pluto was given
 *                 one, else the shipped script's work done in-process
 *                 over rtnetlink (no process at all)
 *   %disabled     nothing runs
 *   a command     run with /bin/sh -c, asynchronously once an event loop
 *                 is set (updown_set_event) */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-event.h>

#include "common/errors.h"

struct connection;
struct state;

enum updown_verb { UPDOWN_PREPARE, UPDOWN_ROUTE, UPDOWN_UNROUTE, UPDOWN_UP, UPDOWN_DOWN };

/* The value of leftupdown/rightupdown that turns updown off. */
#define UPDOWN_DISABLED "%disabled"

/* Runs this end's updown for verb; "-host" or "-client" is chosen from
 * whether our end has a client subnet. st (may be NULL) gives the SPIs
 * and peer id. The in-process default returns its verdict: 0, or -1
 * with err. An external command, once an event loop is set, is queued
 * and 0 returned: it runs after the earlier commands of the same
 * connection, never blocking the loop, and its failure is logged when it
 * ends. Without a loop it runs to its end first (exit status, signal,
 * or could not be run give -1). Either way a time limit holds
 * (updown_set_timeout), then the script's process group is killed.
 * err->code is CannotRoute for prepare/route/unroute, Internal for
 * up/down; a failure is already logged with the c/st prefix. */
int updown_run(enum updown_verb verb, const struct connection *c, const struct state *st,
	       struct ctl_error *err);

/* External commands run as children of this loop (its SIGCHLD must be
 * blocked); NULL: synchronously again, after updown_finish(). */
void updown_set_event(sd_event *event);
/* Runs every queued command to its end, in order, blocking (shutdown:
 * the loop has ended, the downs and unroutes must still run). */
void updown_finish(void);
/* Commands queued or running (tests). */
size_t updown_pending(void);

/* The command for connections that name none (--updown); NULL: the
 * in-process default. */
void updown_set_default(const char *path);
const char *updown_default(void);

/* "route-client" etc.: the PLUTO_VERB value for verb and variant. */
const char *updown_verb_name(enum updown_verb verb, bool client);

/* Time limit of one run in milliseconds (default 30000); for tests. */
void updown_set_timeout(unsigned msec);
