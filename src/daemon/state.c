#include "daemon/state.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/events.h"
#include "daemon/log.h"

/* Serials only grow: a state is never confused with a deleted one. */
static unsigned next_serial = 1;
static struct state *all_states;
static size_t n_states;

static struct hindex by_serial;   /* grows with the states: one bucket walk per lookup */
static struct hindex by_peer, by_peer_id;
static void (*free_hook)(struct state *st);

void state_set_free_hook(void (*fn)(struct state *st))
{
	free_hook = fn;
}

static const char *const state_names[STATE_NAME__MAX] = {
	[STATE_UNDEFINED] = "STATE_UNDEFINED",
	[STATE_MAIN_R0] = "STATE_MAIN_R0", [STATE_MAIN_I1] = "STATE_MAIN_I1",
	[STATE_MAIN_R1] = "STATE_MAIN_R1", [STATE_MAIN_I2] = "STATE_MAIN_I2",
	[STATE_MAIN_R2] = "STATE_MAIN_R2", [STATE_MAIN_I3] = "STATE_MAIN_I3",
	[STATE_MAIN_R3] = "STATE_MAIN_R3", [STATE_MAIN_I4] = "STATE_MAIN_I4",
	[STATE_QUICK_R0] = "STATE_QUICK_R0", [STATE_QUICK_I1] = "STATE_QUICK_I1",
	[STATE_QUICK_R1] = "STATE_QUICK_R1", [STATE_QUICK_I2] = "STATE_QUICK_I2",
	[STATE_QUICK_R2] = "STATE_QUICK_R2", [STATE_INFO] = "STATE_INFO",
	[STATE_INFO_PROTECTED] = "STATE_INFO_PROTECTED",
	[STATE_XAUTH_R0] = "STATE_XAUTH_R0", [STATE_XAUTH_R1] = "STATE_XAUTH_R1",
	[STATE_XAUTH_R2] = "STATE_XAUTH_R2",
	[STATE_MODE_CFG_R0] = "STATE_MODE_CFG_R0", [STATE_MODE_CFG_R1] = "STATE_MODE_CFG_R1",
	[STATE_MODE_CFG_R2] = "STATE_MODE_CFG_R2", [STATE_MODE_CFG_R3] = "STATE_MODE_CFG_R3",
	[STATE_XAUTH_I0] = "STATE_XAUTH_I0", [STATE_XAUTH_I1] = "STATE_XAUTH_I1",
	[STATE_XAUTH_I2] = "STATE_XAUTH_I2",
	[STATE_MODE_CFG_I0] = "STATE_MODE_CFG_I0", [STATE_MODE_CFG_I1] = "STATE_MODE_CFG_I1",
	[STATE_MODE_CFG_I2] = "STATE_MODE_CFG_I2", [STATE_MODE_CFG_I3] = "STATE_MODE_CFG_I3",
};

const char *state_name_str(enum state_name s)
{
	return (unsigned)s < STATE_NAME__MAX ? state_names[s] : "STATE_UNKNOWN";
}

static uint32_t serial_hash(unsigned serial)
{
	return hash_bytes(HASH_SEED, &serial, sizeof(serial));
}

/* --- the per-connection lists: what a connection's states are, without
 * walking everyone's (routing, instance collection, Delete, views) --- */

static void conn_link(struct state *st)
{
	struct connection *c = st->connection;
	st->conn_prev = NULL;
	st->conn_next = NULL;
	if (!c)
		return;
	st->conn_next = c->states;
	if (c->states)
		c->states->conn_prev = st;
	c->states = st;
	c->n_states++;
}

static void conn_unlink(struct state *st)
{
	struct connection *c = st->connection;
	if (!c)
		return;
	if (st->conn_prev)
		st->conn_prev->conn_next = st->conn_next;
	else
		c->states = st->conn_next;
	if (st->conn_next)
		st->conn_next->conn_prev = st->conn_prev;
	st->conn_next = st->conn_prev = NULL;
	c->n_states--;
}

void state_set_connection(struct state *st, struct connection *c)
{
	if (st->connection == c)
		return;
	conn_unlink(st);
	st->connection = c;
	conn_link(st);
}

struct state *connection_states(const struct connection *c)
{
	return c ? c->states : NULL;
}

void state_set_peer(struct state *st, const ip_address *peer)
{
	hindex_del(&by_peer, &st->peer_link);
	st->peer = *peer;
	hindex_add(&by_peer, &st->peer_link, hash_address(HASH_SEED, peer));
}

static uint32_t peer_id_hash(const char *id)
{
	return hash_bytes(HASH_SEED, id, strlen(id));
}

void state_set_peer_id(struct state *st, const char *peer_id)
{
	hindex_del(&by_peer_id, &st->peer_id_link);
	state_set_text(&st->peer_id, "%s", peer_id);
	if (st->peer_id[0])
		hindex_add(&by_peer_id, &st->peer_id_link, peer_id_hash(st->peer_id));
}

struct state *state_by_peer_next(const struct state *st, const ip_address *a)
{
	uint32_t h = hash_address(HASH_SEED, a);
	for (struct hlink *l = st ? hlink_next_same(&st->peer_link, h) : hindex_first(&by_peer, h); l;
	     l = hlink_next_same(l, h)) {
		struct state *o = HLINK_OWNER(l, struct state, peer_link);
		if (ip_equal(&o->peer, a))
			return o;
	}
	return NULL;
}

struct state *state_by_peer(const ip_address *a)
{
	return state_by_peer_next(NULL, a);
}

struct state *state_by_peer_id_next(const struct state *st, const char *id)
{
	uint32_t h = peer_id_hash(id);
	for (struct hlink *l = st ? hlink_next_same(&st->peer_id_link, h) : hindex_first(&by_peer_id, h); l;
	     l = hlink_next_same(l, h)) {
		struct state *o = HLINK_OWNER(l, struct state, peer_id_link);
		if (streq(o->peer_id, id))
			return o;
	}
	return NULL;
}

struct state *state_by_peer_id(const char *id)
{
	return state_by_peer_id_next(NULL, id);
}

/* What an unset text field points at: never freed. */
static const char no_text[] = "";

static void text_free(const char **field)
{
	if (*field != no_text)
		free((char *)*field);
	*field = no_text;
}

void state_set_text(const char **field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = NULL;
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();   /* out of memory, as xmalloc */
	if (*field && *field != no_text)
		free((char *)*field);
	if (n == 0) {
		free(text);
		*field = no_text;
	} else {
		*field = text;
	}
}

static const struct state_modecfg no_modecfg;

const struct state_modecfg *state_modecfg(const struct state *st)
{
	return st->modecfg ? st->modecfg : &no_modecfg;
}

struct state_modecfg *state_modecfg_mut(struct state *st)
{
	if (!st->modecfg)
		st->modecfg = xcalloc(1, sizeof(*st->modecfg));
	return st->modecfg;
}

struct state *state_new(struct connection *c, enum state_kind kind, bool initiator)
{
	struct state *st = xcalloc(1, sizeof(*st));
	st->peer_id = st->algorithms = st->nat_status = no_text;
	st->xauth_user = st->domains = st->banner = no_text;
	st->serial = next_serial++;
	st->connection = c;
	st->kind = kind;
	st->initiator = initiator;
	st->next_in_list = all_states;
	if (all_states)
		all_states->prev_in_list = st;
	all_states = st;
	hindex_add(&by_serial, &st->serial_link, serial_hash(st->serial));
	conn_link(st);
	n_states++;
	event_state(EV_STATE_ADDED, st, VIEW_STATE__ALL);
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN_STATES);
	return st;
}

struct state *state_by_serial(unsigned serial)
{
	uint32_t h = serial_hash(serial);
	for (struct hlink *l = hindex_first(&by_serial, h); l; l = hlink_next_same(l, h)) {
		struct state *st = HLINK_OWNER(l, struct state, serial_link);
		if (st->serial == serial)
			return st;
	}
	return NULL;
}

struct state *states_first(void)
{
	return all_states;
}

size_t states_count(void)
{
	return n_states;
}

void state_set_name(struct state *st, enum state_name name)
{
	st->name = name;
	event_state(EV_STATE_CHANGED, st, VIEW_STATE_NAME);
}

void state_delete(struct state *st)
{
	struct connection *c = st->connection;
	event_state(EV_STATE_REMOVED, st, VIEW_STATE__ALL);
	if (st->prev_in_list)
		st->prev_in_list->next_in_list = st->next_in_list;
	else
		all_states = st->next_in_list;
	if (st->next_in_list)
		st->next_in_list->prev_in_list = st->prev_in_list;
	hindex_del(&by_serial, &st->serial_link);
	hindex_del(&by_peer, &st->peer_link);
	hindex_del(&by_peer_id, &st->peer_id_link);
	conn_unlink(st);
	n_states--;
	if (free_hook)
		free_hook(st);
	if (c) {
		if (c->newest_isakmp == st->serial)
			c->newest_isakmp = 0;
		if (c->newest_ipsec == st->serial)
			c->newest_ipsec = 0;
		/* States, and the Newest* that named this state: only what differs is announced */
		event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN__ALL);
	}
	view_cache_free(&st->view_cache);
	text_free(&st->peer_id);
	text_free(&st->algorithms);
	text_free(&st->nat_status);
	text_free(&st->xauth_user);
	text_free(&st->domains);
	text_free(&st->banner);
	free(st->modecfg);
	free(st);
}

/* fn may delete any state (its ISAKMP SA's IPsec SAs with it) or move
 * it: the serials are taken first, and each is looked up again. */
void states_for_connection(struct connection *c, void (*fn)(struct state *st, void *ud), void *ud)
{
	size_t n = 0;
	unsigned small[16], *serials = c->n_states <= 16 ? small : xcalloc(c->n_states, sizeof(*serials));
	for (struct state *st = c->states; st; st = st->conn_next)
		serials[n++] = st->serial;
	for (size_t i = 0; i < n; i++) {
		struct state *st = state_by_serial(serials[i]);
		if (st && st->connection == c)
			fn(st, ud);
	}
	if (serials != small)
		free(serials);
}

size_t states_count_for_connection(const struct connection *c)
{
	return c->n_states;
}

static void delete_one(struct state *st, void *ud)
{
	state_delete(st);
}

void states_delete_for_connection(struct connection *c)
{
	states_for_connection(c, delete_one, NULL);
}

void states_delete_all(void)
{
	while (all_states)
		state_delete(all_states);
	hindex_free(&by_serial);
	hindex_free(&by_peer);
	hindex_free(&by_peer_id);
}
