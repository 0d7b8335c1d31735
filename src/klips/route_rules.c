#include "klips/route_rules.h"

#include <string.h>

bool route_conflicts(const struct route_view *a, const struct route_view *b)
{
	if (!b->routed || !subnet_equal(&a->peer_client, &b->peer_client))
		return false;
	return !ip_equal(&a->interface, &b->interface) || !ip_equal(&a->nexthop, &b->nexthop);
}

bool eroute_conflicts(const struct route_view *a, const struct route_view *b)
{
	return b->erouted && subnet_equal(&a->our_client, &b->our_client) &&
	       subnet_equal(&a->peer_client, &b->peer_client);
}

enum route_verdict route_decide(const struct route_view *me, const struct route_view *others, size_t n,
				bool responder, size_t *victims, size_t *n_victims, size_t *blocker)
{
	*n_victims = 0;
	for (size_t i = 0; i < n; i++) {
		if (!route_conflicts(me, &others[i]))
			continue;
		if (others[i].has_sa && !responder) {
			*blocker = i;
			*n_victims = 0;   /* nothing is half-done: no victim is touched */
			return ROUTE_REFUSED;
		}
		victims[(*n_victims)++] = i;
	}
	return ROUTE_OK;
}

size_t eroute_find_conflict(const struct route_view *me, const struct route_view *others, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (eroute_conflicts(me, &others[i]))
			return i;
	return n;
}

bool subnet_contains(const ip_subnet *s, const ip_address *a)
{
	if (s->addr.family != a->family)
		return false;
	size_t len = a->family == AF_INET ? 4 : 16;
	unsigned bits = s->prefix;
	for (size_t i = 0; i < len && bits > 0; i++) {
		unsigned take = bits >= 8 ? 8 : bits;
		uint8_t mask = (uint8_t)(0xff << (8 - take));
		if ((s->addr.u.bytes[i] & mask) != (a->u.bytes[i] & mask))
			return false;
		bits -= take;
	}
	return true;
}

unsigned eroute_priority(const ip_subnet *src, const ip_subnet *dst)
{
	return 1024 - src->prefix - dst->prefix;
}
