#include "klips/routing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/events.h"
#include "daemon/log.h"
#include "daemon/state.h"
#include "klips/kernel.h"
#include "klips/route_rules.h"
#include "klips/updown.h"

static const struct routing_hooks *hooks;   /* the core's, from routing_init() */

/* reqids start high so they do not meet manually keyed SAs' small ones */
#define REQID_BASE 16384
static uint32_t next_reqid = REQID_BASE;

uint32_t routing_reqid(struct connection *c)
{
	if (!c->reqid)
		c->reqid = next_reqid++;
	return c->reqid;
}

static bool has_ipsec_sa(const struct connection *c)
{
	for (struct state *st = states_first(); st; st = st->next_in_list)
		if (st->connection == c && st->kind == STATE_KIND_IPSEC && st->established)
			return true;
	return false;
}

static void view_of(const struct connection *c, struct route_view *v)
{
	memset(v, 0, sizeof(*v));
	if (c->this < 0)
		return;
	v->interface = END_THIS(c)->host;
	v->nexthop = ip_is_set(&END_THIS(c)->nexthop) ? END_THIS(c)->nexthop : END_THAT(c)->host;
	connection_this_client(c, &v->our_client);
	connection_that_client(c, &v->peer_client);
	v->routed = c->routing != RT_UNROUTED;
	v->erouted = c->routing == RT_EROUTED;
	v->has_sa = has_ipsec_sa(c);
}

/* The other oriented, non-template connections and their views. */
static size_t others_of(const struct connection *c, struct connection ***conns, struct route_view **views)
{
	size_t n = 0, max = connections_count();
	*conns = xcalloc(max ? max : 1, sizeof(**conns));
	*views = xcalloc(max ? max : 1, sizeof(**views));
	for (struct connection *o = connections_first(); o; o = o->next) {
		if (o == c || o->this < 0 || o->is_template)
			continue;
		(*conns)[n] = o;
		view_of(o, &(*views)[n]);
		n++;
	}
	return n;
}

static void set_routing(struct connection *c, enum routing_state r)
{
	if (c->routing == r)
		return;
	c->routing = r;
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN_ROUTING);
}

static void eroute_policy(struct connection *c, enum kernel_dir dir, struct kernel_policy *p)
{
	ip_subnet ours, theirs;
	connection_this_client(c, &ours);
	connection_that_client(c, &theirs);
	bool out = dir == KDIR_OUT;
	*p = (struct kernel_policy){
		.src_client = out ? ours : theirs,
		.dst_client = out ? theirs : ours,
		.dir = dir,
		.tmpl_src = out ? END_THIS(c)->host : END_THAT(c)->host,
		.tmpl_dst = out ? END_THAT(c)->host : END_THIS(c)->host,
		.protocol = c->cfg.policy & POLICY_ENCRYPT ? 3 : 2,
		.tunnel = c->cfg.policy & POLICY_TUNNEL,
		.ipcomp = c->cfg.policy & POLICY_COMPRESS,
		.reqid = routing_reqid(c),
	};
	p->priority = eroute_priority(&p->src_client, &p->dst_client);
}

/* The man page: pluto without KLIPS "never makes routing changes", so the
 * none backend runs no updown command (it would add routes); it says at
 * debug class klips what it would have run. updown_run logs its own
 * failures with the connection prefix. */
static int run_updown(enum updown_verb verb, struct connection *c, struct state *st,
		      struct ctl_error *err)
{
	struct ctl_error ignored;
	if (!kernel_backend_installs()) {
		DBG(DBG_KLIPS, c, "none backend: not running updown %s", updown_verb_name(verb, connection_this_client(c, &(ip_subnet){ 0 })));
		return 0;
	}
	return updown_run(verb, c, st, err ? err : &ignored);
}

/* Removes c's eroutes (all directions) and its routing. */
static void take_down(struct connection *c)
{
	struct ctl_error err;
	static const enum kernel_dir dirs[] = { KDIR_OUT, KDIR_IN, KDIR_FWD };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		struct kernel_policy p;
		eroute_policy(c, dirs[i], &p);
		if (kernel_del_policy(&p, &err) < 0)
			llog(CONN_LOGGER(c), LS_SERIOUS, MSGID_CONTROL, "%s", err.message);
	}
	run_updown(UPDOWN_UNROUTE, c, NULL, NULL);
	c->eroute_owner = 0;
	set_routing(c, RT_UNROUTED);
}

static int route(struct connection *c, bool responder, bool automatic, struct ctl_error *err)
{
	if (c->this < 0)
		return ctl_fail(err, PE_CANNOT_ORIENT, "\"%s\": cannot route: connection is not oriented", c->name);
	if (c->is_template)
		return ctl_fail(err, PE_CANNOT_ROUTE, "\"%s\": cannot route a template connection (the peer is %%any)",
				c->name);
	if (c->routing != RT_UNROUTED)
		return 0;
	struct route_view me;
	view_of(c, &me);
	struct connection **conns;
	struct route_view *views;
	size_t n = others_of(c, &conns, &views);
	size_t *victims = xcalloc(n ? n : 1, sizeof(*victims));
	size_t n_victims = 0, blocker = 0;
	int ret = 0;
	if (route_decide(&me, views, n, responder, victims, &n_victims, &blocker) == ROUTE_REFUSED) {
		ret = ctl_fail(err, PE_CANNOT_ROUTE,
			       "\"%s\": cannot route: conflicting route of \"%s\" (same peer client, another interface or nexthop) is in use by an IPsec SA",
			       c->name, conns[blocker]->name);
		goto out;
	}
	for (size_t i = 0; i < n_victims; i++) {
		struct connection *o = conns[victims[i]];
		if (views[victims[i]].has_sa) {
			llog(CONN_LOGGER(c), LS_WARNING, MSGID_CONTROL,
			     "deleting the SAs of \"%s\": its route conflicts and we, as responder, need it", o->name);
			if (hooks && hooks->terminate)
				hooks->terminate(o);
		}
		llog(CONN_LOGGER(c), LS_INFO, MSGID_CONTROL, "taking down the conflicting route of \"%s\"", o->name);
		take_down(o);
	}
	/* a route that updown cannot set up is no route: the man page's
	 * "if this cannot be done, the eroute and SA will not be installed" */
	if (run_updown(UPDOWN_PREPARE, c, NULL, err) < 0 || run_updown(UPDOWN_ROUTE, c, NULL, err) < 0) {
		ret = ctl_fail(err, PE_CANNOT_ROUTE, "\"%s\": cannot route: %s", c->name, err->message);
		goto out;
	}
	struct kernel_policy p;
	eroute_policy(c, KDIR_OUT, &p);
	if (kernel_add_policy(&p, err) < 0) {
		ret = ctl_fail(err, PE_CANNOT_ROUTE, "\"%s\": cannot route: %s", c->name, err->message);
		run_updown(UPDOWN_UNROUTE, c, NULL, NULL);
		goto out;
	}
	if (automatic)   /* logged, but not a progress line of the negotiation */
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "\"%s\": routed automatically for its IPsec SA (kernel backend %s)", c->name,
		     kernel_backend_name());
	else
		llog(CONN_LOGGER(c), LS_INFO, MSGID_CONTROL, "routed (prospective: TRAP eroute, kernel backend %s)",
		     kernel_backend_name());
	set_routing(c, RT_PROSPECTIVE);
out:
	free(conns);
	free(views);
	free(victims);
	return ret;
}

int routing_route(struct connection *c, bool responder, struct ctl_error *err)
{
	return route(c, responder, false, err);
}

int routing_unroute(struct connection *c, bool force, struct ctl_error *err)
{
	if (!force && c->newest_ipsec && state_by_serial(c->newest_ipsec))
		return ctl_fail(err, PE_ROUTE_BUSY, "\"%s\": cannot unroute: IPsec SA #%u uses the route", c->name,
				c->newest_ipsec);
	if (c->routing == RT_UNROUTED)
		return 0;
	take_down(c);
	llog(CONN_LOGGER(c), LS_INFO, MSGID_CONTROL, "unrouted");
	return 0;
}

int routing_prepare_sa(struct connection *c, bool responder, struct ctl_error *err)
{
	if (c->routing == RT_UNROUTED) {
		/* the man page: "if it hasn't been done when an IPsec SA is being
		 * installed, one will be automatically attempted" */
		if (route(c, responder, true, err) < 0)
			return -1;
	}
	struct route_view me;
	view_of(c, &me);
	struct connection **conns;
	struct route_view *views;
	size_t n = others_of(c, &conns, &views);
	size_t i = eroute_find_conflict(&me, views, n);
	int ret = 0;
	if (i < n)
		ret = ctl_fail(err, PE_CANNOT_ROUTE,
			       "\"%s\": IPsec SA not installed: its eroute conflicts with the eroute of \"%s\" (identical clients)",
			       c->name, conns[i]->name);
	free(conns);
	free(views);
	return ret;
}

int routing_sa_installed(struct state *st, struct ctl_error *err)
{
	struct connection *c = st->connection;
	static const enum kernel_dir dirs[] = { KDIR_OUT, KDIR_IN, KDIR_FWD };
	size_t ndirs = c->cfg.policy & POLICY_TUNNEL ? 3 : 2;
	for (size_t i = 0; i < ndirs; i++) {
		struct kernel_policy p;
		eroute_policy(c, dirs[i], &p);
		if (kernel_add_policy(&p, err) < 0)
			return -1;
	}
	/* the out policy's template names the connection's reqid, so the
	 * newest SA takes the outbound traffic; older ones still accept
	 * inbound traffic on their SPIs until they expire */
	if (c->eroute_owner && c->eroute_owner != st->serial)
		DBG(DBG_KLIPS, c, "#%u takes over the eroute of #%u", st->serial, c->eroute_owner);
	c->eroute_owner = st->serial;
	set_routing(c, RT_EROUTED);
	run_updown(UPDOWN_UP, c, st, NULL);
	return 0;
}

void routing_state_gone(struct state *st)
{
	struct connection *c = st->connection;
	if (st->kind != STATE_KIND_IPSEC)
		return;
	bool was_owner = c && c->eroute_owner == st->serial;
	if (was_owner)
		run_updown(UPDOWN_DOWN, c, st, NULL);
	kernel_delete_state_sas(st->serial);
	if (!was_owner)
		return;
	/* the newest other established IPsec SA of c takes the eroute over */
	unsigned heir = 0;
	for (struct state *o = states_first(); o; o = o->next_in_list)
		if (o != st && o->connection == c && o->kind == STATE_KIND_IPSEC && o->established &&
		    o->serial > heir)
			heir = o->serial;
	c->eroute_owner = heir;
	if (heir)
		return;
	/* back to TRAP: the out policy stays; in and fwd go */
	struct ctl_error err;
	for (enum kernel_dir d = KDIR_IN; d <= KDIR_FWD; d++) {
		struct kernel_policy p;
		eroute_policy(c, d, &p);
		kernel_del_policy(&p, &err);
	}
	set_routing(c, c->routing == RT_UNROUTED ? RT_UNROUTED : RT_PROSPECTIVE);
}

/* --- ACQUIRE: traffic hit a TRAP eroute --- */

static bool negotiating(const struct connection *c)
{
	for (struct state *st = states_first(); st; st = st->next_in_list)
		if (st->connection == c && (!st->established || st->kind == STATE_KIND_IPSEC))
			return true;
	return false;
}

static void on_acquire(const ip_address *src, const ip_address *dst)
{
	char s[IP_STR_MAX], d[IP_STR_MAX];
	ip_str(src, s);
	ip_str(dst, d);
	for (struct connection *c = connections_first(); c; c = c->next) {
		if (c->this < 0 || c->is_template || c->routing == RT_UNROUTED)
			continue;
		ip_subnet ours, theirs;
		connection_this_client(c, &ours);
		connection_that_client(c, &theirs);
		if (!subnet_contains(&ours, src) || !subnet_contains(&theirs, dst))
			continue;
		if (negotiating(c)) {
			llog(CONN_LOGGER(c), LS_INFO, MSGID_CONTROL,
			     "acquire for %s -> %s ignored: a negotiation or IPsec SA is already under way", s, d);
			return;
		}
		llog(CONN_LOGGER(c), LS_INFO, MSGID_CONTROL, "acquire for %s -> %s: initiating", s, d);
		struct ctl_error err;
		int r = hooks && hooks->initiate ? hooks->initiate(c, &err)
						 : ctl_fail(&err, PE_INTERNAL, "no control core registered");
		if (r < 0)
			llog(CONN_LOGGER(c), LS_SERIOUS, MSGID_CONTROL, "acquire could not initiate: %s",
			     err.message);
		return;
	}
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "acquire for %s -> %s: no routed connection covers it", s, d);
}

void routing_init(const struct routing_hooks *core_hooks)
{
	hooks = core_hooks;
	kernel_set_acquire_handler(on_acquire);
}
