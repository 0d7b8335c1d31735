/* The message IDs of one ISAKMP SA (msgid_memory.h). */
#include "daemon/ikev1/msgid_memory.h"

#define INDEX_MASK (MSGID_INDEX_SLOTS - 1)

_Static_assert((MSGID_INDEX_SLOTS & INDEX_MASK) == 0, "the index size must be a power of two");
_Static_assert(MSGID_MEMORY_SLOTS < 256, "index entries are bytes");

/* The peer chooses its IDs: mixed (murmur3's finaliser) so that IDs
 * differing in their high bits spread too. Probing is bounded by the
 * index size whatever the IDs are. */
static unsigned home(uint32_t msgid)
{
	uint32_t h = msgid;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h & INDEX_MASK;
}

/* The index slot naming msgid, or -1. */
static int find_slot(const struct msgid_memory *m, uint32_t msgid)
{
	unsigned i = home(msgid);
	for (unsigned n = 0; n < MSGID_INDEX_SLOTS && m->index[i]; n++, i = (i + 1) & INDEX_MASK)
		if (m->ids[m->index[i] - 1] == msgid)
			return (int)i;
	return -1;
}

bool msgid_memory_has(const struct msgid_memory *m, uint32_t msgid)
{
	return msgid != 0 && find_slot(m, msgid) >= 0;
}

/* Empties index slot i, moving back the entries after it in its run
 * that would otherwise no longer be found from their home slot. */
static void index_remove(struct msgid_memory *m, unsigned i)
{
	unsigned j = i;
	for (;;) {
		j = (j + 1) & INDEX_MASK;
		if (!m->index[j])
			break;
		unsigned k = home(m->ids[m->index[j] - 1]);
		/* j's entry stays when its home lies cyclically in (i, j] */
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (!stays) {
			m->index[i] = m->index[j];
			i = j;
		}
	}
	m->index[i] = 0;
}

void msgid_memory_add(struct msgid_memory *m, enum msgid_lane lane, uint32_t msgid)
{
	if (msgid == 0 || (unsigned)lane >= MSGID_LANES || find_slot(m, msgid) >= 0)
		return;
	unsigned pos = (unsigned)lane * MSGID_LANE_SLOTS + m->next[lane];
	m->next[lane] = (uint8_t)((m->next[lane] + 1) % MSGID_LANE_SLOTS);
	if (m->ids[pos]) {
		int old = find_slot(m, m->ids[pos]);
		if (old >= 0)
			index_remove(m, (unsigned)old);
	}
	m->ids[pos] = msgid;
	/* at most MSGID_MEMORY_SLOTS of the index's slots are taken: one is free */
	unsigned i = home(msgid);
	while (m->index[i])
		i = (i + 1) & INDEX_MASK;
	m->index[i] = (uint8_t)(pos + 1);
}
