/* The states of each connection, for the view's States field. Walking
 * every state for every connection made status and GetManagedObjects
 * connections x states (10,000 x 20,000), and the change detection that
 * runs on every new state walked them all again. The index is kept from
 * the change events (events.c calls in here for every state event), so
 * it needs nothing from the state table itself: a state is filed under
 * the connection it had at its last event, and moved when that differs. */
#include "daemon/views.h"

#include <stdlib.h>

#include "common/util.h"
#include "daemon/state.h"

struct filed_state {
	unsigned serial;
	struct conn_states *owner;
	struct filed_state *prev, *next;   /* in owner's list */
	struct filed_state *hash_next;
};

struct conn_states {
	const struct connection *c;
	struct filed_state *head;
	size_t n;
	struct conn_states *hash_next;
};

/* two open hash tables, grown to keep chains short */
struct table {
	void **buckets;
	size_t n_buckets, n;
};
static struct table by_serial, by_conn;

static size_t hash_ptr(const void *p)
{
	uintptr_t x = (uintptr_t)p;
	x ^= x >> 17;
	x *= 0xed5ad4bbu;
	return (size_t)(x ^ (x >> 11));
}

/* Each table's entries start with their own hash_next at a known offset. */
#define NEXT(e, off) (*(void **)((char *)(e) + (off)))

static void table_grow(struct table *t, size_t next_off, size_t (*key_hash)(const void *))
{
	if (t->n < t->n_buckets)
		return;
	size_t n = t->n_buckets ? t->n_buckets * 2 : 1024;
	void **b = xcalloc(n, sizeof(*b));
	for (size_t i = 0; i < t->n_buckets; i++)
		for (void *e = t->buckets[i], *next; e; e = next) {
			next = NEXT(e, next_off);
			size_t h = key_hash(e) & (n - 1);
			NEXT(e, next_off) = b[h];
			b[h] = e;
		}
	free(t->buckets);
	t->buckets = b;
	t->n_buckets = n;
}

static size_t serial_hash(unsigned serial)
{
	return (size_t)serial * 2654435761u;
}

static size_t filed_hash(const void *e)
{
	return serial_hash(((const struct filed_state *)e)->serial);
}

static size_t owner_hash(const void *e)
{
	return hash_ptr(((const struct conn_states *)e)->c);
}

static struct filed_state **find_filed(unsigned serial)
{
	if (!by_serial.n_buckets)
		return NULL;
	struct filed_state **pp = (struct filed_state **)&by_serial.buckets[serial_hash(serial) & (by_serial.n_buckets - 1)];
	for (; *pp; pp = &(*pp)->hash_next)
		if ((*pp)->serial == serial)
			return pp;
	return NULL;
}

static struct conn_states **find_owner(const struct connection *c)
{
	if (!by_conn.n_buckets)
		return NULL;
	struct conn_states **pp = (struct conn_states **)&by_conn.buckets[hash_ptr(c) & (by_conn.n_buckets - 1)];
	for (; *pp; pp = &(*pp)->hash_next)
		if ((*pp)->c == c)
			return pp;
	return NULL;
}

static struct conn_states *owner_of(const struct connection *c)
{
	struct conn_states **pp = find_owner(c);
	if (pp)
		return *pp;
	table_grow(&by_conn, offsetof(struct conn_states, hash_next), owner_hash);
	struct conn_states *o = xcalloc(1, sizeof(*o));
	o->c = c;
	size_t h = hash_ptr(c) & (by_conn.n_buckets - 1);
	o->hash_next = (struct conn_states *)by_conn.buckets[h];
	by_conn.buckets[h] = o;
	by_conn.n++;
	return o;
}

static void unlink_from_owner(struct filed_state *f)
{
	struct conn_states *o = f->owner;
	if (f->prev)
		f->prev->next = f->next;
	else
		o->head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	o->n--;
	f->owner = NULL;
	f->prev = f->next = NULL;
}

static void link_to_owner(struct filed_state *f, struct conn_states *o)
{
	f->owner = o;
	f->prev = NULL;
	f->next = o->head;
	if (o->head)
		o->head->prev = f;
	o->head = f;
	o->n++;
}

void view_index_state(const struct state *st)
{
	struct filed_state **pp = find_filed(st->serial), *f;
	if (pp) {
		f = *pp;
		if (f->owner && f->owner->c == st->connection)
			return;
		if (f->owner)
			unlink_from_owner(f);
	} else {
		table_grow(&by_serial, offsetof(struct filed_state, hash_next), filed_hash);
		f = xcalloc(1, sizeof(*f));
		f->serial = st->serial;
		size_t h = serial_hash(st->serial) & (by_serial.n_buckets - 1);
		f->hash_next = (struct filed_state *)by_serial.buckets[h];
		by_serial.buckets[h] = f;
		by_serial.n++;
	}
	if (st->connection)
		link_to_owner(f, owner_of(st->connection));
}

void view_unindex_state(const struct state *st)
{
	struct filed_state **pp = find_filed(st->serial);
	if (!pp)
		return;
	struct filed_state *f = *pp;
	*pp = f->hash_next;
	by_serial.n--;
	if (f->owner)
		unlink_from_owner(f);
	free(f);
}

void view_unindex_connection(const struct connection *c)
{
	struct conn_states **pp = find_owner(c);
	if (!pp)
		return;
	struct conn_states *o = *pp;
	/* its states normally went first; any left are filed nowhere now */
	while (o->head)
		unlink_from_owner(o->head);
	*pp = o->hash_next;
	by_conn.n--;
	free(o);
}

static int newest_first(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x < y) - (x > y);
}

size_t view_states_of(const struct connection *c, uint32_t **serials)
{
	struct conn_states **pp = find_owner(c);
	size_t n = pp ? (*pp)->n : 0;
	uint32_t *out = xcalloc(n + 1, sizeof(*out));
	size_t i = 0;
	for (struct filed_state *f = pp ? (*pp)->head : NULL; f; f = f->next)
		out[i++] = f->serial;
	/* the order of the state list: newest (highest serial) first */
	qsort(out, i, sizeof(*out), newest_first);
	*serials = out;
	return i;
}
