/* Half-open responder Main Modes (issue 14 point 1): who may have how
 * many, so that a flood of MI1s cannot lock configured peers out.
 *
 * A half-open state is a responder ISAKMP SA whose MR1 went out and that
 * is not yet established. Each costs a state (and, for a %any template,
 * an instance); a flood of MI1s with fresh cookies creates one per
 * datagram. The slots (--half-open-max, default 1024) are split in two
 * pools by what the MI1 matched, so a flood can only ever take its own:
 *
 *   %any pool (3/4 of the slots): MI1s that only a %any template admits.
 *     At most --half-open-per-source (default 5, strongSwan's
 *     block_threshold) from one address; over that, or with the pool
 *     full, the MI1 is refused (dropped unanswered, before any state).
 *     The overload checks of daemon/rxload.h (loop behind, kernel drops,
 *     helpers' queue) refuse this pool's MI1s too.
 *
 *   configured pool (1/4 of the slots, at least one): MI1s from an
 *     address that is some connection's right=. Anyone can forge that
 *     address, so refusing would let a forger lock the peer out; instead,
 *     with the pool full, the new MI1 replaces the OLDEST UNPROVEN
 *     half-open state of the pool (deleted without a word to the peer).
 *     A state is proven once a message carrying our responder cookie came
 *     back for it: its peer received MR1, so it owns the address (or sits
 *     on its path); proven states are never replaced. A forger who does
 *     not see our replies can thus only churn unproven states, and the
 *     real peer's state lives while at least a pool's worth of newer MI1s
 *     arrive (256 at the default: 256 ms at 1,000 forged MI1s a second,
 *     far more than the one round trip it needs to answer MR1); a
 *     retransmitted MI1 always finds a slot. These MI1s are not refused
 *     for load (rxload): the pool bounds what they cost.
 *
 * The responder timeout of a half-open state shrinks under pressure: 30 s
 * while its pool is at most half full, then linearly down to 3 s when it
 * is full, so a flood's states leave faster (evaluated when the timer is
 * armed: after MR1, MR2). Everything here is O(1) per MI1: sources are
 * found in a hash index (common/hindex.h), each pool keeps its unproven
 * states in a list, oldest first. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "common/hindex.h"
#include "common/ip.h"

#define HALF_OPEN_MAX_DEFAULT 1024
#define HALF_OPEN_PER_SOURCE_DEFAULT 5
#define HALF_OPEN_TIMEOUT_USEC (30ULL * 1000000ULL)
#define HALF_OPEN_TIMEOUT_MIN_USEC (3ULL * 1000000ULL)

enum half_open_pool {
	HALF_OPEN_ANY,               /* only a %any template admits the MI1 */
	HALF_OPEN_CONFIGURED,        /* the MI1 comes from a configured right= */
	HALF_OPEN_POOLS
};

struct half_open_source;

/* Embedded in each responder ISAKMP state (struct v1_state). */
struct half_open_slot {
	struct half_open_source *source;   /* NULL: not counted (any more) */
	struct half_open_slot *older, *newer;   /* the pool's unproven list */
	uint8_t pool;                /* enum half_open_pool */
	bool proven;
};

enum half_open_verdict {
	HALF_OPEN_ADMIT,
	HALF_OPEN_ADMIT_REPLACING,   /* after the victim is deleted */
	HALF_OPEN_REFUSE_SOURCE,     /* this address has per_source already */
	HALF_OPEN_REFUSE_FULL,       /* the pool is full (of proven states, for the configured one) */
};

/* What the decision looks at (pure, unit-tested). */
struct half_open_facts {
	enum half_open_pool pool;
	unsigned in_pool, pool_cap;  /* the pool's half-open states, its slots */
	unsigned from_source;        /* half-open states of the MI1's address */
	unsigned per_source;
	bool can_replace;            /* the pool has an unproven state to replace */
};
enum half_open_verdict half_open_verdict(const struct half_open_facts *f);
const char *half_open_pool_name(enum half_open_pool pool);
/* Do the load checks of daemon/rxload.h refuse MI1s of this pool? */
bool half_open_pool_load_refusable(enum half_open_pool pool);
/* The responder timeout for a state of a pool this full (pure). */
uint64_t half_open_timeout_for(unsigned in_pool, unsigned pool_cap);

/* --- the daemon's counts --- */

/* --half-open-max, --half-open-per-source (0: the defaults). */
void half_open_configure(unsigned max, unsigned per_source);
unsigned half_open_pool_cap(enum half_open_pool pool);
/* The facts for an MI1 of pool from `from` (victim: the state a
 * HALF_OPEN_ADMIT_REPLACING verdict replaces). */
enum half_open_verdict half_open_admit(enum half_open_pool pool, const ip_address *from,
				       struct half_open_facts *facts, struct half_open_slot **victim);
/* A responder state was created for an admitted MI1. */
void half_open_add(struct half_open_slot *slot, enum half_open_pool pool, const ip_address *from);
/* A message with our responder cookie came back for it. */
void half_open_proven(struct half_open_slot *slot);
/* Established or freed (no-op when not counted). */
void half_open_remove(struct half_open_slot *slot);
static inline bool half_open_counted(const struct half_open_slot *slot)
{
	return slot->source != NULL;
}
/* Its responder timeout now. */
uint64_t half_open_timeout_usec(const struct half_open_slot *slot);
unsigned half_open_total(void);
unsigned half_open_in_pool(enum half_open_pool pool);
/* MI1s that replaced an unproven state since start (tests, status). */
uint64_t half_open_replaced_total(void);
