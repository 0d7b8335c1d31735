#include "daemon/engine.h"

#include <stddef.h>

#include "daemon/connections.h"
#include "daemon/state.h"

static const struct engine_ops *engine;
static const struct engine_core_hooks *core;

void engine_register(const struct engine_ops *ops)
{
	engine = ops;
}

const struct engine_ops *engine_get(void)
{
	return engine;
}

int engine_initiate(struct connection *c, struct ctl_error *err)
{
	if (!engine)
		return ctl_fail(err, PE_NEGOTIATION_FAILED,
				"\"%s\": cannot initiate: this pluto has no IKE engine built in", c->name);
	return engine->initiate(c, err);
}

void engine_terminate(struct connection *c)
{
	if (engine)
		engine->terminate(c);
	else
		states_delete_for_connection(c);
}

void engine_delete_state(struct state *st)
{
	if (engine)
		engine->delete_state(st);
	else
		state_delete(st);
}

const char *engine_status(const struct state *st, char *buf, size_t len)
{
	if (engine && engine->status)
		return engine->status(st, buf, len);
	if (len)
		buf[0] = '\0';
	return buf;
}

void engine_set_core_hooks(const struct engine_core_hooks *hooks)
{
	core = hooks;
}

int engine_core_initiate(struct connection *c, struct ctl_error *err)
{
	if (!core || !core->initiate)
		return ctl_fail(err, PE_INTERNAL, "\"%s\": cannot initiate: no control core registered", c->name);
	return core->initiate(c, err);
}
