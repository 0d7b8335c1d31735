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

#define SERIAL_BUCKETS 256
static struct state *serial_hash[SERIAL_BUCKETS];
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
	all_states = st;
	struct state **bucket = &serial_hash[st->serial % SERIAL_BUCKETS];
	st->hash_next = *bucket;
	*bucket = st;
	n_states++;
	event_state(EV_STATE_ADDED, st, VIEW_STATE__ALL);
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN_STATES);
	return st;
}

struct state *state_by_serial(unsigned serial)
{
	for (struct state *st = serial_hash[serial % SERIAL_BUCKETS]; st; st = st->hash_next)
		if (st->serial == serial)
			return st;
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
	for (struct state **pp = &all_states; *pp; pp = &(*pp)->next_in_list) {
		if (*pp == st) {
			*pp = st->next_in_list;
			break;
		}
	}
	for (struct state **pp = &serial_hash[st->serial % SERIAL_BUCKETS]; *pp; pp = &(*pp)->hash_next) {
		if (*pp == st) {
			*pp = st->hash_next;
			break;
		}
	}
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
	free(st);
}

void states_for_connection(struct connection *c, void (*fn)(struct state *st, void *ud), void *ud)
{
	struct state *next;
	for (struct state *st = all_states; st; st = next) {
		next = st->next_in_list;
		if (st->connection == c)
			fn(st, ud);
	}
}

size_t states_count_for_connection(const struct connection *c)
{
	size_t n = 0;
	for (struct state *st = all_states; st; st = st->next_in_list)
		if (st->connection == c)
			n++;
	return n;
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
}
