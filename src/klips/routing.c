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

/* --- the index of routed connections ---
 *
 * Every rule of the man page compares a connection with the OTHER routed
 * ones for the same peer client ("same peer's client subnet", "identical
 * local and remote clients"), and ACQUIRE looks for the routed one whose
 * clients hold the packet: so routed connections are indexed by their
 * peer client, and nothing walks the connection list. The key is the
 * peer client a connection had at its last routing event (route, SA
 * installed or gone, take-down): the one its route and eroutes were set
 * up with. Per (family, prefix) counts let ACQUIRE look a destination up
 * under each prefix length in use, not each connection. */
static struct hindex routed;
static unsigned routed_prefixes[2][129];

static unsigned family_slot(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

static void route_unindex(struct connection *c)
{
	if (!hlink_linked(&c->route_link))
		return;
	hindex_del(&routed, &c->route_link);
	routed_prefixes[family_slot(c->route_key.addr.family)][c->route_key.prefix]--;
}

static void on_event(const struct pluto_event *ev, void *ud)
{
	(void)ud;
	if (ev->kind == EV_CONNECTION_REMOVED && ev->c)
		route_unindex(ev->c);   /* it goes (a deleted instance keeps no route record) */
}

/* (Re)files c under its peer client when routed, else takes it out.
 * Whoever deletes a connection (an instance collected, a test's
 * teardown) need not know about this index: the first filing subscribes
 * to the removals. */
static void route_index(struct connection *c)
{
	static bool observing;
	if (!observing) {
		events_subscribe_kinds(on_event, NULL);
		observing = true;
	}
	route_unindex(c);
	if (c->routing == RT_UNROUTED || c->this < 0 || c->is_template)
		return;
	connection_that_client(c, &c->route_key);
	if (c->route_key.prefix > 128)
		return;
	routed_prefixes[family_slot(c->route_key.addr.family)][c->route_key.prefix]++;
	hindex_add(&routed, &c->route_link, hash_subnet(HASH_SEED, &c->route_key));
}

/* Calls fn for each routed connection filed under peer client key. */
#define FOR_ROUTED(o, key, h)                                                                   \
	for (struct hlink *l_ = hindex_first(&routed, (h = hash_subnet(HASH_SEED, key))); l_;  \
	     l_ = hlink_next_same(l_, h))                                                        \
		if (((o) = HLINK_OWNER(l_, struct connection, route_link)),                      \
		    subnet_equal(&(o)->route_key, key))

/* One connection's own states, never everyone's. */
static bool has_ipsec_sa(const struct connection *c)
{
	for (struct state *st = connection_states(c); st; st = st->conn_next)
		if (st->kind == STATE_KIND_IPSEC && st->established)
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

static int by_seq(const void *a, const void *b)
{
	unsigned long x = (*(struct connection *const *)a)->seq, y = (*(struct connection *const *)b)->seq;
	return x < y ? -1 : x > y;
}

/* The other oriented, non-template connections that a rule could find
 * in conflict with c, and their views, in list order. The rules need the
 * other to be routed (route_conflicts: b->routed; eroute_conflicts:
 * b->erouted) with c's peer client: so the ones filed under it, not all
 * connections. */
static size_t others_of(const struct connection *c, struct connection ***conns, struct route_view **views)
{
	ip_subnet key;
	uint32_t h;
	size_t n = 0, max = 0;
	struct connection *o;
	connection_that_client(c, &key);
	FOR_ROUTED(o, &key, h)
		max++;
	*conns = xcalloc(max ? max : 1, sizeof(**conns));
	*views = xcalloc(max ? max : 1, sizeof(**views));
	FOR_ROUTED(o, &key, h)
		if (o != c && o->this >= 0 && !o->is_template)
			(*conns)[n++] = o;
	qsort(*conns, n, sizeof(**conns), by_seq);
	for (size_t i = 0; i < n; i++)
		view_of((*conns)[i], &(*views)[i]);
	return n;
}

static void set_routing(struct connection *c, enum routing_state r)
{
	enum routing_state was = c->routing;
	c->routing = r;
	route_index(c);   /* also re-files it when its peer client moved */
	if (was == r)
		return;
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
	for (struct state *o = connection_states(c); o; o = o->conn_next)
		if (o != st && o->kind == STATE_KIND_IPSEC && o->established && o->serial > heir)
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
	for (struct state *st = connection_states(c); st; st = st->conn_next)
		if (!st->established || st->kind == STATE_KIND_IPSEC)
			return true;
	return false;
}

/* dst with its host bits past prefix cleared */
static void subnet_of(const ip_address *dst, unsigned prefix, ip_subnet *out)
{
	memset(out, 0, sizeof(*out));
	out->addr.family = dst->family;
	out->prefix = prefix;
	for (unsigned i = 0; i < prefix / 8; i++)
		out->addr.u.bytes[i] = dst->u.bytes[i];
	if (prefix % 8)
		out->addr.u.bytes[prefix / 8] = (uint8_t)(dst->u.bytes[prefix / 8] & (0xff << (8 - prefix % 8)));
}

/* The first routed connection, in list order, whose clients hold the
 * packet: looked up under each prefix length in use. */
static struct connection *routed_covering(const ip_address *src, const ip_address *dst)
{
	struct connection *best = NULL;
	unsigned bits = dst->family == AF_INET6 ? 128 : dst->family == AF_INET ? 32 : 0;
	for (unsigned prefix = 0; prefix <= bits; prefix++) {
		if (!routed_prefixes[family_slot(dst->family)][prefix])
			continue;
		ip_subnet key;
		uint32_t h;
		struct connection *c;
		subnet_of(dst, prefix, &key);
		FOR_ROUTED(c, &key, h) {
			if (c->this < 0 || c->is_template || c->routing == RT_UNROUTED || (best && best->seq < c->seq))
				continue;
			ip_subnet ours, theirs;
			connection_this_client(c, &ours);
			connection_that_client(c, &theirs);
			if (subnet_contains(&ours, src) && subnet_contains(&theirs, dst))
				best = c;
		}
	}
	return best;
}

static void on_acquire(const ip_address *src, const ip_address *dst)
{
	char s[IP_STR_MAX], d[IP_STR_MAX];
	ip_str(src, s);
	ip_str(dst, d);
	struct connection *c = routed_covering(src, dst);
	if (c) {
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
