/* The man page's routing and eroute conflict rules, as pure functions over
 * a small view of each connection, so they can be unit tested without a
 * daemon (tests/unit/test-routing.c). routing.c builds the views. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "common/ip.h"

struct route_view {
	ip_address interface;        /* our host address (the route's interface) */
	ip_address nexthop;          /* the gateway: nexthop, else the peer's host */
	ip_subnet our_client, peer_client;
	bool routed;                 /* prospective or erouted */
	bool erouted;                /* an IPsec SA with its eroute is in place */
	bool has_sa;                 /* an IPsec SA instantiates the connection */
};

/* "Two connections may not be simultaneously routed if they are for the
 * same peer's client subnet but use different interfaces or gateways." */
bool route_conflicts(const struct route_view *a, const struct route_view *b);
/* "Two eroutes conflict if they specify the identical local and remote
 * clients." */
bool eroute_conflicts(const struct route_view *a, const struct route_view *b);

enum route_verdict {
	ROUTE_OK,                    /* route; first unroute every victim */
	ROUTE_REFUSED,               /* *blocker has an IPsec SA using its route */
};
/* Decide whether `me` may be routed among others[0..n). Routed
 * conflicting connections without an IPsec SA are victims (their route is
 * taken down). One with an SA blocks, except for a responder (the man
 * page's road-warrior exception), where it becomes a victim whose SAs are
 * deleted. victims must hold n entries; *n_victims is set. */
enum route_verdict route_decide(const struct route_view *me, const struct route_view *others, size_t n,
				bool responder, size_t *victims, size_t *n_victims, size_t *blocker);
/* The first of others[0..n) whose eroute conflicts with me, or n. */
size_t eroute_find_conflict(const struct route_view *me, const struct route_view *others, size_t n);

bool subnet_contains(const ip_subnet *s, const ip_address *a);
/* XFRM priority of an eroute: more specific selectors win (lower value). */
unsigned eroute_priority(const ip_subnet *src, const ip_subnet *dst);
