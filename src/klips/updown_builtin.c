/* The default updown, in-process: what data/updown/pluto-updown does
 * with ip(8), as rtnetlink requests (klips/rtnl_route.c).
 *   prepare-*  remove a route to the peer's client left by an earlier run
 *   route-*    route the peer's client via the next hop on our interface
 *   unroute-*  remove that route
 *   up-*       a Mode Config client's lent address (PLUTO_MY_SOURCEIP):
 *              put it on the route's interface (lo without a route) and
 *              make the route use it as its source
 *   down-*     take both back
 * A peer without a client subnet is reached as IKE reaches it: no route,
 * nothing to do (a road-warrior responder's instances cost nothing here).
 * Every change is logged as the script's output was; a failure fails the
 * run as the script's non-zero exit did. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "common/ifaddr.h"
#include "daemon/log.h"
#include "klips/rtnl_route.h"
#include "klips/updown_facts.h"

struct run {
	const char *verb;
	const struct updown_facts *f;
	const struct connection *c;
	const struct state *st;
	struct ctl_error *err;
	enum updown_verb v;
};

static void said(const struct run *r, const char *fmt, const char *a, const char *b)
{
	char what[300];
	snprintf(what, sizeof(what), fmt, a, b);
	llog(LOGGER(r->c, r->st), LS_INFO, MSGID_GENERIC, "%s: %s", r->verb, what);
}

static int failed(const struct run *r, const char *what, const char *why)
{
	llog(LOGGER(r->c, r->st), LS_ERROR, MSGID_GENERIC, "%s: in-process updown: cannot %s: %s",
	     r->verb, what, why);
	return ctl_fail(r->err, r->v == UPDOWN_UP || r->v == UPDOWN_DOWN ? PE_INTERNAL : PE_CANNOT_ROUTE,
			"%s: in-process updown: cannot %s: %s", r->verb, what, why);
}

/* "10.2.0.0/24 via 192.0.2.2 dev eth0", as ip(8) says it */
static void route_str(const struct updown_facts *f, char *out, size_t len)
{
	char net[IP_STR_MAX + 4], via[IP_STR_MAX];
	snprintf(out, len, "%s via %s%s%s", subnet_str(&f->peer_client, net), ip_str(&f->nexthop, via),
		 f->ifname[0] ? " dev " : "", f->ifname);
}

static int route_del(const struct run *r, const char *fmt)
{
	char rs[200], why[200];
	bool removed;
	route_str(r->f, rs, sizeof(rs));
	if (rtnl_route_del(&r->f->peer_client, &r->f->nexthop, r->f->ifindex, &removed, why, sizeof(why)) < 0)
		return failed(r, "remove route", why);
	if (removed)
		said(r, fmt, rs, "");
	return 0;
}

static int route_add(const struct run *r)
{
	char rs[200], why[200];
	route_str(r->f, rs, sizeof(rs));
	if (rtnl_route_set(&r->f->peer_client, &r->f->nexthop, r->f->ifindex, NULL, true, why,
			   sizeof(why)) < 0)
		return failed(r, "add route", why);
	said(r, "added route %s%s", rs, "");
	return 0;
}

/* The lent address is the source of our route to the peer's client only
 * when we have one and it is of the address's family. */
static bool route_takes_source(const struct updown_facts *f)
{
	return !f->peer_only && f->peer_client.addr.family == f->sourceip.family;
}

static int source_up(const struct run *r)
{
	const struct updown_facts *f = r->f;
	char src[IP_STR_MAX], rs[200], why[200], dev[IF_NAMESIZE];
	ip_str(&f->sourceip, src);
	if (!local_address_interface(&f->sourceip, dev, sizeof(dev), NULL)) {
		/* on the route's interface; lo when there is no route of ours */
		int ifindex = !f->peer_only && f->ifindex > 0 ? f->ifindex : (int)if_nametoindex("lo");
		bool added;
		if (!if_indextoname((unsigned)ifindex, dev))
			snprintf(dev, sizeof(dev), "%d", ifindex);
		if (rtnl_addr_add(&f->sourceip, ifindex, &added, why, sizeof(why)) < 0)
			return failed(r, "add the lent address", why);
		if (added)
			said(r, "added address %s to %s", src, dev);
	}
	if (route_takes_source(f)) {
		route_str(f, rs, sizeof(rs));
		int ret = rtnl_route_set(&f->peer_client, &f->nexthop, f->ifindex, &f->sourceip, false, why,
					 sizeof(why));
		if (ret < 0 && ret != -ENOENT)
			return failed(r, "make the route use the lent address", why);
		if (ret == 0)
			said(r, "route %s now uses source %s", rs, src);
	}
	return 0;
}

static int source_down(const struct run *r)
{
	const struct updown_facts *f = r->f;
	char src[IP_STR_MAX], rs[200], why[200], dev[IF_NAMESIZE];
	int ifindex = 0;
	ip_str(&f->sourceip, src);
	if (route_takes_source(f)) {
		route_str(f, rs, sizeof(rs));
		int ret = rtnl_route_set(&f->peer_client, &f->nexthop, f->ifindex, NULL, false, why, sizeof(why));
		if (ret < 0 && ret != -ENOENT)
			return failed(r, "take the lent address off the route", why);
		if (ret == 0)
			said(r, "route %s no longer uses source %s", rs, src);
	}
	if (!local_address_interface(&f->sourceip, dev, sizeof(dev), &ifindex))
		return 0;
	bool removed;
	if (rtnl_addr_del(&f->sourceip, ifindex, &removed, why, sizeof(why)) < 0)
		return failed(r, "remove the lent address", why);
	if (removed)
		said(r, "removed address %s from %s", src, dev);
	return 0;
}

int updown_builtin(enum updown_verb verb, const char *verb_name, const struct updown_facts *f,
		   const struct connection *c, const struct state *st, struct ctl_error *err)
{
	const struct run r = { .verb = verb_name, .f = f, .c = c, .st = st, .err = err, .v = verb };
	switch (verb) {
	case UPDOWN_PREPARE:   /* a route left behind would send traffic past the new policy */
		return f->peer_only ? 0 : route_del(&r, "removed stale route %s%s");
	case UPDOWN_ROUTE:
		return f->peer_only ? 0 : route_add(&r);
	case UPDOWN_UNROUTE:
		return f->peer_only ? 0 : route_del(&r, "removed route %s%s");
	case UPDOWN_UP:
		return f->has_sourceip ? source_up(&r) : 0;
	case UPDOWN_DOWN:
		return f->has_sourceip ? source_down(&r) : 0;
	}
	return ctl_fail(err, PE_INTERNAL, "unknown updown verb %d", (int)verb);
}
