/* The narrow interface through which the control core reaches the IKE
 * engine. The IKEv1 engine (Main Mode / Quick Mode) registers its ops; until
 * one is registered every call fails honestly with NegotiationFailed, so no
 * command pretends to negotiate. */
#pragma once
#include <stddef.h>

#include "common/errors.h"

struct connection;
struct state;
struct progress_sink;

struct engine_ops {
	const char *name;
	/* Start negotiating c. Progress lines go to c's sinks via llog();
	 * the engine calls progress_sinks_done() when it succeeds or gives up. */
	int (*initiate)(struct connection *c, struct ctl_error *err);
	/* Remove every SA of c and stop its negotiations. */
	void (*terminate)(struct connection *c);
	/* Delete one state object (ISAKMP or IPsec SA). */
	void (*delete_state)(struct state *st);
	/* The engine's own status line for st ("DPD: active, ..."), written
	 * to buf; "" when it has none. May be NULL. */
	const char *(*status)(const struct state *st, char *buf, size_t len);
};

void engine_register(const struct engine_ops *ops);
const struct engine_ops *engine_get(void);

int engine_initiate(struct connection *c, struct ctl_error *err);
void engine_terminate(struct connection *c);
void engine_delete_state(struct state *st);
/* "" without an engine or a status op. */
const char *engine_status(const struct state *st, char *buf, size_t len);

/* The other direction: what the engine asks of the core. The core
 * registers it (main.c), so the engine never calls control.c. */
struct engine_core_hooks {
	/* Start c again as a command would, with the same checks and log
	 * lines (dpdaction=restart). */
	int (*initiate)(struct connection *c, struct ctl_error *err);
};
void engine_set_core_hooks(const struct engine_core_hooks *hooks);
/* Through the registered hook; fails with PE_INTERNAL when none is. */
int engine_core_initiate(struct connection *c, struct ctl_error *err);
