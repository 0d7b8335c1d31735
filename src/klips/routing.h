/* Routing and eroutes as the man page describes them, on top of the
 * kernel backend (kernel.h) and the conflict rules (route_rules.h):
 *
 *   unrouted     nothing in the kernel
 *   prospective  the TRAP eroute: an outbound XFRM policy whose template
 *                has no SA yet, so the kernel sends an ACQUIRE, and pluto
 *                initiates the connection
 *   erouted      an IPsec SA is installed with its eroute (out policy plus
 *                in and fwd for tunnels), all tied to the SA by reqid
 *
 * With the `none` backend the same bookkeeping happens (Routing property,
 * events, updown) and the backend records what it would install. */
#pragma once
#include <stdbool.h>

#include "common/errors.h"

struct connection;
struct state;

#include <stdint.h>

/* The reqid tying c's SAs to its eroutes (assigned on first use). */
uint32_t routing_reqid(struct connection *c);

/* What routing asks of the layers above it. The core registers these
 * (main.c), so nothing in src/klips calls the control core or the engine
 * directly. */
struct routing_hooks {
	/* An ACQUIRE hit c's TRAP eroute: negotiate c, as a command would. */
	int (*initiate)(struct connection *c, struct ctl_error *err);
	/* c's SAs must go: the responder takes over their conflicting route. */
	void (*terminate)(struct connection *c);
};

/* Starts watching ACQUIREs; hooks must stay valid while pluto runs. */
void routing_init(const struct routing_hooks *hooks);

/* Route c (the TRAP eroute). responder: the road-warrior exception may
 * delete conflicting SAs. 0, or -1 with CannotRoute naming the other
 * connection. */
int routing_route(struct connection *c, bool responder, struct ctl_error *err);
/* Unroute c: RouteBusy while an IPsec SA uses the route. force (the
 * connection is being deleted) skips that check. */
int routing_unroute(struct connection *c, bool force, struct ctl_error *err);

/* Before an IPsec SA of c is installed: routes c when it is not routed
 * and refuses when another connection's eroute has the identical
 * clients. 0, or -1 with err (the SA must then not be installed). */
int routing_prepare_sa(struct connection *c, bool responder, struct ctl_error *err);
/* After both directions of st's SA are installed: its eroute takes over
 * the connection's outbound traffic, the connection is erouted, and the
 * updown "up" runs. */
int routing_sa_installed(struct state *st, struct ctl_error *err);
/* An IPsec state goes away (delete, expiry, terminate, shutdown): runs
 * updown "down" when it was up, removes its SAs, and hands the eroute to
 * the newest remaining IPsec SA of the connection or back to TRAP. */
void routing_state_gone(struct state *st);
