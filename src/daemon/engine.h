/* The narrow interface through which the control core reaches the IKE
 * engine. The IKEv1 engine (Main Mode / Quick Mode) registers its ops; until
 * one is registered every call fails honestly with NegotiationFailed, so no
 * command pretends to negotiate. */
#pragma once
#include "common/errors.h"

struct connection;
struct state;
struct progress_sink;

struct engine_ops {
	const char *name;
	/* Start negotiating c. Progress lines go to c's sinks via plog_full();
	 * the engine calls progress_sinks_done() when it succeeds or gives up. */
	int (*initiate)(struct connection *c, struct ctl_error *err);
	/* Remove every SA of c and stop its negotiations. */
	void (*terminate)(struct connection *c);
	/* Delete one state object (ISAKMP or IPsec SA). */
	void (*delete_state)(struct state *st);
};

void engine_register(const struct engine_ops *ops);
const struct engine_ops *engine_get(void);

int engine_initiate(struct connection *c, struct ctl_error *err);
void engine_terminate(struct connection *c);
void engine_delete_state(struct state *st);
