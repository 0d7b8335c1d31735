#include "daemon/engine.h"

#include <stddef.h>

#include "daemon/connections.h"
#include "daemon/state.h"

static const struct engine_ops *engine;

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
