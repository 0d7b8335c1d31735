/* Progress sinks: a front end that waits for an operation's outcome (whack
 * --initiate, D-Bus Initiate(wait=true), Varlink Initiate with "more")
 * attaches a sink to a connection; every whack line logged for that
 * connection reaches it, and done() ends it. */
#pragma once
#include "common/errors.h"

struct connection;

struct progress_sink {
	void (*line)(void *ctx, unsigned rc, const char *text);
	/* err NULL on success; the sink is detached before done() is called */
	void (*done)(void *ctx, const struct ctl_error *err);
	void *ctx;
	struct progress_sink *next;
};

void progress_sink_attach(struct connection *c, struct progress_sink *sink);
/* Detach without calling done() (the front end went away). */
void progress_sink_detach(struct connection *c, struct progress_sink *sink);
/* Send one line to every sink of c. */
void progress_sinks_line(struct connection *c, unsigned rc, const char *text);
/* Finish every sink of c with this outcome (err NULL = success). */
void progress_sinks_done(struct connection *c, const struct ctl_error *err);
