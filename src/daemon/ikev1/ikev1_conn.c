/* The engine's view of connections: identities, keys, and the
 * responder's choice of connection (the man page's rules: by addresses on
 * the first Main Mode message, %any templates instantiated for unknown
 * peers, a switch to a better connection once the peer's ID is known, and
 * subnet switching in Quick Mode). Instances are ordinary connections
 * (connection_add_instance) linked to their template; they go away with
 * their last state. */
#include <stdio.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/events.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/keys.h"
#include "daemon/pubkey_cache.h"
#include "daemon/log.h"
#include "daemon/log_limit.h"
#include "daemon/secrets.h"
#include "daemon/state.h"

/* --- identities --- */

static void id_of_host(const ip_address *a, struct pluto_id *id)
{
	memset(id, 0, sizeof(*id));
	id->kind = a->family == AF_INET6 ? ID_IPV6_ADDR : ID_IPV4_ADDR;
	id->ip = *a;
}

void v1_our_id(const struct connection *c, struct pluto_id *id)
{
	const struct end *e = END_THIS(c);
	if (e->id.kind != ID_NONE && e->id.kind != ID_ANY)
		*id = e->id;
	else
		id_of_host(&e->host, id);
}

void v1_peer_id(const struct connection *c, struct pluto_id *id)
{
	const struct end *e = END_THAT(c);
	if (e->id.kind != ID_NONE) {
		*id = e->id;
	} else if (e->host_kind == HOST_ADDRESS) {
		id_of_host(&e->host, id);
	} else {
		memset(id, 0, sizeof(*id));
		id->kind = ID_ANY;
	}
}

/* --- instances --- */

/* The engine's record of an instance (c->instance): every instance, for
 * shutdown, and a queue of those that may have lost their last state, so
 * collecting them looks only at those (never at every instance). */
struct v1_instance {
	struct connection *c;
	struct v1_instance *next, *prev;          /* all instances */
	struct v1_instance *gc_next, *gc_prev;    /* the collection queue */
	bool queued;
	/* made for an MI1, no state of it established yet: its lines are
	 * ones a forger can make us write (log_limit.h) */
	bool unauthenticated;
	ip_address peer;
};
static struct v1_instance *instances;
static struct v1_instance *gc_queue;
static unsigned instance_counter;
static sd_event_source *gc_source;
static bool observing;

static bool is_instance(const struct connection *c)
{
	return c->instance != NULL;
}

static void gc_dequeue(struct v1_instance *i)
{
	if (!i->queued)
		return;
	if (i->gc_prev)
		i->gc_prev->gc_next = i->gc_next;
	else
		gc_queue = i->gc_next;
	if (i->gc_next)
		i->gc_next->gc_prev = i->gc_prev;
	i->gc_next = i->gc_prev = NULL;
	i->queued = false;
}

static void instance_forget(struct v1_instance *i)
{
	gc_dequeue(i);
	if (i->prev)
		i->prev->next = i->next;
	else
		instances = i->next;
	if (i->next)
		i->next->prev = i->prev;
	i->c->instance = NULL;
	free(i);
}

static void on_event(const struct pluto_event *ev, void *ud)
{
	(void)ud;
	/* an instance whose template was deleted has no template link, so
	 * the engine's state-gone hook does not collect it: do it here */
	if (ev->kind == EV_STATE_REMOVED && ev->st && ev->st->connection && !ev->st->connection->template &&
	    is_instance(ev->st->connection))
		v1_schedule_instance_gc(ev->st->connection);
	if (ev->kind == EV_CONNECTION_REMOVED && ev->c && ev->c->instance)
		instance_forget(ev->c->instance);
}

/* A copy of template t with its %any end replaced by the peer's address
 * (connection_add_instance: t's parsed config copied, its proposal tables
 * and option map shared; it was t's option map parsed again, ~9% of a
 * responder's CPU per handshake in the option table's lookups). */
static struct connection *instantiate(struct connection *t, const ip_address *peer, bool unauthenticated)
{
	char ab[IP_STR_MAX];
	ip_str(peer, ab);
	struct ctl_error err;
	struct connection *c = NULL;
	char name[80];
	snprintf(name, sizeof(name), "%.50s+%u", t->name, ++instance_counter);
	if (connection_add_instance(name, t, peer, &c, &err) < 0) {
		llog(CONN_LOGGER(t), LS_SERIOUS, MSGID_GENERIC, "cannot instantiate for %s: %s", ab, err.message);
		return NULL;
	}
	c->debug = t->debug;
	struct v1_instance *i = xcalloc(1, sizeof(*i));
	i->c = c;
	i->next = instances;
	if (instances)
		instances->prev = i;
	instances = i;
	c->instance = i;
	i->unauthenticated = unauthenticated;
	i->peer = *peer;
	if (!observing) {
		events_subscribe_kinds(on_event, NULL);
		observing = true;
	}
	if (!unauthenticated || log_limit_allow(peer))
		llog(CONN_LOGGER(c), LS_INFO, MSGID_CONNECTION_ADDED, "instantiated from template \"%s\" for peer %s",
		     t->name, ab);
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN__ALL);
	/* whoever asked for it gives it a state before the queue is looked
	 * at; if nobody does, it goes */
	v1_schedule_instance_gc(c);
	return c;
}

/* Deletes the queued instances that have no state and nobody waiting
 * for progress (those stay queued, looked at again next time). */
static int on_gc(sd_event_source *s, void *ud)
{
	(void)s;
	(void)ud;
	struct connection *doomed[64];
	size_t n = 0;
	struct v1_instance *next;
	for (struct v1_instance *i = gc_queue; i && n < ARRAY_SIZE(doomed); i = next) {
		next = i->gc_next;
		if (i->c->n_states == 0 && !i->c->sinks)
			doomed[n++] = i->c;
		else if (i->c->n_states)
			gc_dequeue(i);
	}
	for (size_t k = 0; k < n; k++) {
		const struct v1_instance *i = doomed[k]->instance;
		if (!i || !i->unauthenticated || log_limit_allow(&i->peer))
			llog(CONN_LOGGER(doomed[k]), LS_INFO, MSGID_CONNECTION_DELETED,
			     "deleting instance: its last state is gone");
		connection_delete(doomed[k]);   /* its EV_CONNECTION_REMOVED forgets the record */
	}
	if (n == ARRAY_SIZE(doomed))
		sd_event_source_set_enabled(gc_source, SD_EVENT_ONESHOT);
	return 0;
}

void v1_schedule_instance_gc(struct connection *c)
{
	if (!ikev1_loop || !c || !c->instance)
		return;
	struct v1_instance *i = c->instance;
	if (!i->queued) {
		i->gc_prev = NULL;
		i->gc_next = gc_queue;
		if (gc_queue)
			gc_queue->gc_prev = i;
		gc_queue = i;
		i->queued = true;
	}
	if (gc_source) {
		sd_event_source_set_enabled(gc_source, SD_EVENT_ONESHOT);
		return;
	}
	if (sd_event_add_defer(ikev1_loop, &gc_source, on_gc, NULL) < 0)
		gc_source = NULL;
}

void v1_instances_shutdown(void)
{
	gc_source = sd_event_source_disable_unref(gc_source);
	while (instances)
		instance_forget(instances);
	if (observing) {
		events_unsubscribe(on_event, NULL);
		observing = false;
	}
}

void v1_switch_connection(struct state *st, struct connection *c)
{
	struct connection *old = st->connection;
	if (old == c)
		return;
	state_set_connection(st, c);
	event_state(EV_STATE_CHANGED, st, VIEW_STATE_CONNECTION);
	if (old) {
		event_connection(EV_CONNECTION_CHANGED, old, VIEW_CONN_STATES);
		if (old->template)
			v1_schedule_instance_gc(old);
	}
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN_STATES);
}

/* --- keys --- */

const struct secret *v1_find_psk(const struct connection *c)
{
	struct pluto_id me, peer;
	v1_our_id(c, &me);
	v1_peer_id(c, &peer);
	/* the man page: a temporary connection with no id for the peer
	 * looks its secret up with %any */
	bool anon = is_instance(c) && END_THAT(c)->id.kind == ID_NONE;
	return secret_find(SECRET_PSK, &me, anon ? NULL : &peer);
}

const struct secret *v1_find_rsa(const struct connection *c)
{
	struct pluto_id me;
	v1_our_id(c, &me);
	const struct secret *s = secret_find(SECRET_RSA, &me, NULL);
	return s && s->rsa ? s : NULL;
}

EVP_PKEY *v1_peer_pubkey(const struct connection *c, const struct pluto_id *peer_id)
{
	const struct end *e = END_THAT(c);
	if (e->rsasigkey) {
		struct ctl_error err;
		EVP_PKEY *k = pubkey_parse_cached(e->rsasigkey, &err);
		if (!k)
			llog(CONN_LOGGER(c), LS_SERIOUS, MSGID_GENERIC, "peer's public key unusable: %s", err.message);
		return k;
	}
	struct pluto_id want;
	if (!peer_id) {
		v1_peer_id(c, &want);
		peer_id = &want;
	}
	const struct pubkey *pk = pubkey_find(peer_id);
	if (!pk || !pk->key)
		return NULL;
	EVP_PKEY_up_ref(pk->key);
	return pk->key;
}

unsigned v1_auth_mask(const struct connection *c, const struct pluto_id *peer_id)
{
	unsigned mask = 0;
	if ((c->cfg.policy & POLICY_PSK) && v1_find_psk(c))
		mask |= 1u << OAKLEY_PRESHARED_KEY;
	if ((c->cfg.policy & POLICY_RSASIG) && v1_find_rsa(c)) {
		if (!peer_id || peer_id->kind == ID_ANY) {
			mask |= 1u << OAKLEY_RSA_SIG;   /* the peer's key is checked after its ID */
		} else {
			EVP_PKEY *k = v1_peer_pubkey(c, peer_id);
			if (k)
				mask |= 1u << OAKLEY_RSA_SIG;
			EVP_PKEY_free(k);
		}
	}
	return mask;
}

/* --- choosing a connection as responder --- */

static bool host_is(const struct end *e, const ip_address *a)
{
	return (e->host_kind == HOST_ADDRESS || e->host_kind == HOST_DEFAULTROUTE) && ip_equal(&e->host, a);
}

struct connection *v1_conn_configured_for_mm(const ip_address *local, const ip_address *from)
{
	/* the first in list order of those for this peer: an index, not a
	 * walk (one instance per road warrior) */
	struct connection *best = NULL;
	for (struct connection *c = connection_by_peer_host(from); c; c = connection_by_peer_host_next(c, from))
		if (host_is(END_THIS(c), local) && host_is(END_THAT(c), from) && (!best || c->seq < best->seq))
			best = c;
	return best;
}

struct connection *v1_template_for_mm(const ip_address *local)
{
	for (struct connection *t = connection_templates(); t; t = t->tmpl_next)
		if (t->this >= 0 && host_is(END_THIS(t), local) && END_THAT(t)->host_kind == HOST_ANY)
			return t;
	return NULL;
}

struct connection *v1_instantiate_for_mm(struct connection *t, const ip_address *from)
{
	return instantiate(t, from, true);
}

void v1_instance_authenticated(struct connection *c)
{
	if (c && c->instance)
		c->instance->unauthenticated = false;
}

struct connection *v1_conn_for_mm(const ip_address *local, const ip_address *from)
{
	struct connection *c = v1_conn_configured_for_mm(local, from);
	if (c)
		return c;
	struct connection *t = v1_template_for_mm(local);
	return t ? instantiate(t, from, true) : NULL;
}

/* Does peer_id fit what c expects of its peer? */
static bool peer_id_fits(const struct connection *c, const struct pluto_id *peer_id)
{
	struct pluto_id want;
	v1_peer_id(c, &want);
	return want.kind == ID_ANY || id_equal(&want, peer_id);
}

static bool same_auth(const struct connection *c, const struct connection *d, unsigned auth,
		      const struct secret *psk_used)
{
	if (auth == OAKLEY_PRESHARED_KEY)
		return (d->cfg.policy & POLICY_PSK) && v1_find_psk(d) == psk_used;
	return (d->cfg.policy & POLICY_RSASIG) && v1_find_rsa(d) == v1_find_rsa(c);
}

/* The man page's choice among the other connections: one for exactly
 * this peer's address if any fits (the first in list order), else the
 * first template that fits. Both from indexes (the connections by peer
 * host, the list of templates): with one instance per road warrior, the
 * list itself is as long as the tunnels. */
static struct connection *first_for_peer(const ip_address *peer,
					 bool (*fits)(const struct connection *d, const void *ask), const void *ask)
{
	struct connection *best = NULL;
	for (struct connection *d = connection_by_peer_host(peer); d; d = connection_by_peer_host_next(d, peer))
		if ((!best || d->seq < best->seq) && host_is(END_THAT(d), peer) && fits(d, ask))
			best = d;
	if (best)
		return best;
	for (struct connection *t = connection_templates(); t; t = t->tmpl_next)
		if (t->this >= 0 && END_THAT(t)->host_kind == HOST_ANY && fits(t, ask))
			return t;
	return NULL;
}

struct refine_ask {
	const struct connection *c;
	const struct pluto_id *peer_id;
	unsigned auth;
	const struct secret *psk_used;
};

static bool refine_fits(const struct connection *d, const void *ask)
{
	const struct refine_ask *a = ask;
	const struct connection *c = a->c;
	if (d == c || d->this < 0 || !ip_equal(&END_THIS(d)->host, &END_THIS(c)->host))
		return false;
	if (END_THAT(d)->id.kind == ID_NONE || END_THAT(d)->id.kind == ID_ANY || !id_equal(&END_THAT(d)->id, a->peer_id))
		return false;
	return same_auth(c, d, a->auth, a->psk_used);
}

struct connection *v1_conn_refine_id(struct connection *c, const ip_address *peer,
				     const struct pluto_id *peer_id, unsigned auth,
				     const struct secret *psk_used)
{
	if (peer_id_fits(c, peer_id) && END_THAT(c)->id.kind != ID_ANY)
		return c;
	struct refine_ask ask = { c, peer_id, auth, psk_used };
	struct connection *d = first_for_peer(peer, refine_fits, &ask);
	if (d)
		return d->is_template ? instantiate(d, peer, false) : d;
	return peer_id_fits(c, peer_id) ? c : NULL;
}

void v1_end_client(const struct connection *c, bool ours, ip_subnet *out)
{
	const struct end *e = ours ? END_THIS(c) : END_THAT(c);
	if (e->has_client)
		*out = e->client;
	else
		subnet_from_address(&e->host, out);
}

static bool clients_fit(const struct connection *d, const ip_address *peer, const ip_subnet *our_client,
			const ip_subnet *peer_client)
{
	ip_subnet mine, theirs;
	v1_end_client(d, true, &mine);
	if (END_THAT(d)->has_client)
		theirs = END_THAT(d)->client;
	else
		subnet_from_address(peer, &theirs);
	return subnet_equal(&mine, our_client) && subnet_equal(&theirs, peer_client);
}

struct qm_ask {
	const struct connection *c;
	const ip_address *peer;
	const struct pluto_id *peer_id;
	const ip_subnet *our_client, *peer_client;
};

static bool qm_fits(const struct connection *d, const void *ask)
{
	const struct qm_ask *a = ask;
	if (d->this < 0 || !ip_equal(&END_THIS(d)->host, &END_THIS(a->c)->host))
		return false;
	if (!peer_id_fits(d, a->peer_id) && !(END_THAT(d)->id.kind == ID_NONE && is_instance(a->c)))
		return false;
	return clients_fit(d, a->peer, a->our_client, a->peer_client);
}

struct connection *v1_conn_for_qm(struct connection *c, const ip_address *peer,
				  const struct pluto_id *peer_id, const ip_subnet *our_client,
				  const ip_subnet *peer_client)
{
	if (clients_fit(c, peer, our_client, peer_client))
		return c;
	struct qm_ask ask = { c, peer, peer_id, our_client, peer_client };
	struct connection *d = first_for_peer(peer, qm_fits, &ask);
	return d && d->is_template ? instantiate(d, peer, false) : d;
}

/* --- ID payloads --- */

bool v1_id_from_payload(const struct payload *p, struct pluto_id *id, char *why, size_t why_len)
{
	memset(id, 0, sizeof(*id));
	switch (p->u.id.id_type) {
	case ID_TYPE_IPV4_ADDR:
	case ID_TYPE_IPV6_ADDR: {
		bool v6 = p->u.id.id_type == ID_TYPE_IPV6_ADDR;
		size_t want = v6 ? 16 : 4;
		if (p->data_len != want) {
			snprintf(why, why_len, "%s ID of %zu bytes", v6 ? "IPv6" : "IPv4", p->data_len);
			return false;
		}
		id->kind = v6 ? ID_IPV6_ADDR : ID_IPV4_ADDR;
		id->ip.family = v6 ? AF_INET6 : AF_INET;
		memcpy(id->ip.u.bytes, p->data, want);
		return true;
	}
	case ID_TYPE_FQDN:
	case ID_TYPE_USER_FQDN:
		if (p->data_len == 0 || p->data_len >= sizeof(id->name) || memchr(p->data, '\0', p->data_len)) {
			snprintf(why, why_len, "name ID of %zu bytes (or with a NUL)", p->data_len);
			return false;
		}
		id->kind = p->u.id.id_type == ID_TYPE_FQDN ? ID_FQDN : ID_USER_FQDN;
		memcpy(id->name, p->data, p->data_len);
		id->name[p->data_len] = '\0';
		return true;
	default:
		snprintf(why, why_len, "ID type %u is not supported", p->u.id.id_type);
		return false;
	}
}

static size_t id_data(const struct pluto_id *id, uint8_t *type, const uint8_t **data)
{
	switch (id->kind) {
	case ID_IPV6_ADDR:
		*type = ID_TYPE_IPV6_ADDR;
		*data = id->ip.u.bytes;
		return 16;
	case ID_FQDN:
	case ID_USER_FQDN:
		*type = id->kind == ID_FQDN ? ID_TYPE_FQDN : ID_TYPE_USER_FQDN;
		*data = (const uint8_t *)id->name;
		return strlen(id->name);
	default:
		*type = ID_TYPE_IPV4_ADDR;
		*data = id->ip.u.bytes;
		return 4;
	}
}

size_t v1_id_body(const struct pluto_id *id, uint8_t out[4 + 256])
{
	uint8_t type;
	const uint8_t *data;
	size_t len = id_data(id, &type, &data);
	if (len > 256)
		len = 256;
	return id_body_encode(type, 0, 0, data, len, out, 4 + 256);
}

size_t v1_emit_id(struct pbuf *pb, const struct pluto_id *id)
{
	uint8_t type;
	const uint8_t *data;
	size_t len = id_data(id, &type, &data);
	if (len > 256)
		len = 256;
	return emit_id(pb, type, 0, 0, data, len);
}

static unsigned prefix_of_mask(const uint8_t *mask, size_t len, bool *ok)
{
	unsigned bits = 0;
	size_t i = 0;
	while (i < len && mask[i] == 0xff) {
		bits += 8;
		i++;
	}
	if (i < len) {
		uint8_t b = mask[i];
		while (b & 0x80) {
			bits++;
			b = (uint8_t)(b << 1);
		}
		*ok = b == 0;
		for (size_t k = i + 1; k < len; k++)
			if (mask[k])
				*ok = false;
	} else {
		*ok = true;
	}
	return bits;
}

bool v1_subnet_from_id(const struct payload *p, ip_subnet *out, char *why, size_t why_len)
{
	memset(out, 0, sizeof(*out));
	size_t alen;
	bool subnet;
	switch (p->u.id.id_type) {
	case ID_TYPE_IPV4_ADDR: alen = 4; subnet = false; break;
	case ID_TYPE_IPV6_ADDR: alen = 16; subnet = false; break;
	case ID_TYPE_IPV4_ADDR_SUBNET: alen = 4; subnet = true; break;
	case ID_TYPE_IPV6_ADDR_SUBNET: alen = 16; subnet = true; break;
	default:
		snprintf(why, why_len, "client ID type %u is not supported", p->u.id.id_type);
		return false;
	}
	if (p->data_len != (subnet ? 2 * alen : alen)) {
		snprintf(why, why_len, "client ID of %zu bytes for type %u", p->data_len, p->u.id.id_type);
		return false;
	}
	out->addr.family = alen == 4 ? AF_INET : AF_INET6;
	memcpy(out->addr.u.bytes, p->data, alen);
	out->prefix = (unsigned)alen * 8;
	if (subnet) {
		bool ok;
		out->prefix = prefix_of_mask(p->data + alen, alen, &ok);
		if (!ok) {
			snprintf(why, why_len, "client subnet mask is not contiguous");
			return false;
		}
		/* 10.1.0.5/24 is not a subnet: clearing the host bits would make
		 * the echo in QR1 differ from what the initiator sent */
		for (size_t i = 0; i < alen; i++) {
			if (p->data[i] & ~p->data[alen + i]) {
				char ab[IP_STR_MAX];
				snprintf(why, why_len, "client subnet %s/%u has host bits set", ip_str(&out->addr, ab),
					 out->prefix);
				return false;
			}
		}
	}
	return true;
}

size_t v1_emit_client_id(struct pbuf *pb, const ip_subnet *net)
{
	size_t alen = net->addr.family == AF_INET6 ? 16 : 4;
	uint8_t buf[32];
	memcpy(buf, net->addr.u.bytes, alen);
	if (net->prefix == alen * 8)
		return emit_id(pb, alen == 4 ? ID_TYPE_IPV4_ADDR : ID_TYPE_IPV6_ADDR, 0, 0, buf, alen);
	memset(buf + alen, 0, alen);
	for (unsigned i = 0; i < net->prefix && i < alen * 8; i++)
		buf[alen + i / 8] |= (uint8_t)(0x80 >> (i % 8));
	return emit_id(pb, alen == 4 ? ID_TYPE_IPV4_ADDR_SUBNET : ID_TYPE_IPV6_ADDR_SUBNET, 0, 0, buf, 2 * alen);
}
