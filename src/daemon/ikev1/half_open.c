/* Half-open responder Main Modes by pool and by source (half_open.h). */
#include "daemon/ikev1/half_open.h"

#include <stdlib.h>

#include "common/util.h"

/* What each pool does with an MI1 over its limits: the design of
 * half_open.h as a table. */
static const struct pool_rule {
	const char *name;
	unsigned share_num, share_den;   /* its slots: this share of --half-open-max */
	bool per_source_limit;           /* refuse an address over --half-open-per-source */
	bool replace_when_full;          /* full: replace the oldest unproven state */
	bool load_refusable;             /* rxload's load checks refuse its MI1s */
} pool_rules[HALF_OPEN_POOLS] = {
	[HALF_OPEN_ANY] = { "%any", 3, 4, true, false, true },
	[HALF_OPEN_CONFIGURED] = { "configured peers", 1, 4, false, true, false },
};

enum half_open_verdict half_open_verdict(const struct half_open_facts *f)
{
	const struct pool_rule *r = &pool_rules[f->pool];
	if (r->per_source_limit && f->per_source && f->from_source >= f->per_source)
		return HALF_OPEN_REFUSE_SOURCE;
	if (f->in_pool < f->pool_cap)
		return HALF_OPEN_ADMIT;
	if (r->replace_when_full && f->can_replace)
		return HALF_OPEN_ADMIT_REPLACING;
	return HALF_OPEN_REFUSE_FULL;
}

const char *half_open_pool_name(enum half_open_pool pool)
{
	return pool_rules[pool].name;
}

bool half_open_pool_load_refusable(enum half_open_pool pool)
{
	return pool_rules[pool].load_refusable;
}

uint64_t half_open_timeout_for(unsigned in_pool, unsigned pool_cap)
{
	if (!pool_cap || 2ULL * in_pool <= pool_cap)
		return HALF_OPEN_TIMEOUT_USEC;
	if (in_pool >= pool_cap)
		return HALF_OPEN_TIMEOUT_MIN_USEC;
	/* from the full timeout at half full down to the minimum at full */
	uint64_t over = 2ULL * in_pool - pool_cap;    /* 0 .. pool_cap */
	uint64_t span = HALF_OPEN_TIMEOUT_USEC - HALF_OPEN_TIMEOUT_MIN_USEC;
	return HALF_OPEN_TIMEOUT_USEC - span * over / pool_cap;
}

/* --- the counts --- */

struct half_open_source {
	struct hlink by_address;
	ip_address address;
	unsigned count;              /* its half-open states, all pools */
};

static struct pool {
	unsigned count;
	struct half_open_slot *oldest, *newest;   /* unproven states, oldest first */
} pools[HALF_OPEN_POOLS];

static struct hindex sources;
static unsigned max_slots = HALF_OPEN_MAX_DEFAULT;
static unsigned per_source = HALF_OPEN_PER_SOURCE_DEFAULT;
static uint64_t replaced_total;

void half_open_configure(unsigned max, unsigned per)
{
	max_slots = max ? max : HALF_OPEN_MAX_DEFAULT;
	per_source = per ? per : HALF_OPEN_PER_SOURCE_DEFAULT;
}

unsigned half_open_pool_cap(enum half_open_pool pool)
{
	const struct pool_rule *r = &pool_rules[pool];
	unsigned cap = (unsigned)((uint64_t)max_slots * r->share_num / r->share_den);
	return cap ? cap : 1;
}

static struct half_open_source *source_of(const ip_address *a, bool create)
{
	uint32_t h = hash_address(HASH_SEED, a);
	for (struct hlink *l = hindex_first(&sources, h); l; l = hlink_next_same(l, h)) {
		struct half_open_source *s = HLINK_OWNER(l, struct half_open_source, by_address);
		if (ip_equal(&s->address, a))
			return s;
	}
	if (!create)
		return NULL;
	struct half_open_source *s = xcalloc(1, sizeof(*s));
	s->address = *a;
	hindex_add(&sources, &s->by_address, h);
	return s;
}

enum half_open_verdict half_open_admit(enum half_open_pool pool, const ip_address *from,
				       struct half_open_facts *f, struct half_open_slot **victim)
{
	const struct half_open_source *src = source_of(from, false);
	*f = (struct half_open_facts){
		.pool = pool,
		.in_pool = pools[pool].count,
		.pool_cap = half_open_pool_cap(pool),
		.from_source = src ? src->count : 0,
		.per_source = per_source,
		.can_replace = pools[pool].oldest != NULL,
	};
	*victim = NULL;
	enum half_open_verdict v = half_open_verdict(f);
	if (v == HALF_OPEN_ADMIT_REPLACING) {
		*victim = pools[pool].oldest;
		replaced_total++;
	}
	return v;
}

static void unlist(struct half_open_slot *slot)
{
	struct pool *p = &pools[slot->pool];
	if (slot->older)
		slot->older->newer = slot->newer;
	else if (p->oldest == slot)
		p->oldest = slot->newer;
	if (slot->newer)
		slot->newer->older = slot->older;
	else if (p->newest == slot)
		p->newest = slot->older;
	slot->older = slot->newer = NULL;
}

void half_open_add(struct half_open_slot *slot, enum half_open_pool pool, const ip_address *from)
{
	if (slot->source)
		return;
	struct half_open_source *src = source_of(from, true);
	src->count++;
	*slot = (struct half_open_slot){ .source = src, .pool = (uint8_t)pool };
	struct pool *p = &pools[pool];
	p->count++;
	slot->older = p->newest;
	if (p->newest)
		p->newest->newer = slot;
	else
		p->oldest = slot;
	p->newest = slot;
}

void half_open_proven(struct half_open_slot *slot)
{
	if (!slot->source || slot->proven)
		return;
	unlist(slot);
	slot->proven = true;
}

void half_open_remove(struct half_open_slot *slot)
{
	struct half_open_source *src = slot->source;
	if (!src)
		return;
	if (!slot->proven)
		unlist(slot);
	pools[slot->pool].count--;
	if (--src->count == 0) {
		hindex_del(&sources, &src->by_address);
		free(src);
	}
	*slot = (struct half_open_slot){ 0 };
}

uint64_t half_open_timeout_usec(const struct half_open_slot *slot)
{
	if (!slot->source)
		return HALF_OPEN_TIMEOUT_USEC;
	return half_open_timeout_for(pools[slot->pool].count, half_open_pool_cap(slot->pool));
}

unsigned half_open_total(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < HALF_OPEN_POOLS; i++)
		n += pools[i].count;
	return n;
}

unsigned half_open_in_pool(enum half_open_pool pool)
{
	return pools[pool].count;
}

uint64_t half_open_replaced_total(void)
{
	return replaced_total;
}
