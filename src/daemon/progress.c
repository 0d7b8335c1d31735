#include "daemon/progress.h"

#include <stddef.h>

#include "daemon/connections.h"

void progress_sink_attach(struct connection *c, struct progress_sink *sink)
{
	sink->next = c->sinks;
	c->sinks = sink;
}

void progress_sink_detach(struct connection *c, struct progress_sink *sink)
{
	for (struct progress_sink **pp = &c->sinks; *pp; pp = &(*pp)->next) {
		if (*pp == sink) {
			*pp = sink->next;
			sink->next = NULL;
			return;
		}
	}
}

void progress_sinks_line(struct connection *c, unsigned rc, const char *text)
{
	/* a sink may detach itself (client gone) from inside line() */
	struct progress_sink *next;
	for (struct progress_sink *s = c->sinks; s; s = next) {
		next = s->next;
		if (s->line)
			s->line(s->ctx, rc, text);
	}
}

void progress_sinks_done(struct connection *c, const struct ctl_error *err)
{
	struct progress_sink *list = c->sinks;
	c->sinks = NULL;
	while (list) {
		struct progress_sink *s = list;
		list = s->next;
		s->next = NULL;
		if (s->done)
			s->done(s->ctx, err);
	}
}
