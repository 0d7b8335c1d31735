/* The message IDs one ISAKMP SA has seen and used (RFC 2408 3.1: each
 * ISAKMP SA must recognise a repeated message ID), so that a Quick Mode,
 * Transaction or Informational message replayed after its exchange is
 * over, or one of our own reflected back, is known for what it is once
 * its state is gone.
 *
 * Bounded: two rings of MSGID_LANE_SLOTS IDs, one for the exchanges that
 * create something (Quick Mode, Transaction) and one for Informationals,
 * so that DPD's steady R-U-THERE traffic cannot push a Quick Mode's ID
 * out. The oldest of a lane is forgotten when a new one comes. Lookup is
 * O(1): an open-addressed index (linear probing, twice as many slots as
 * IDs) over the rings' positions. 388 bytes; pure (no daemon state), so
 * it is unit-tested on its own. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

enum msgid_lane { MSGID_LANE_EXCHANGE, MSGID_LANE_INFO, MSGID_LANES };

#define MSGID_LANE_SLOTS 32
#define MSGID_MEMORY_SLOTS (MSGID_LANES * MSGID_LANE_SLOTS)
#define MSGID_INDEX_SLOTS (2 * MSGID_MEMORY_SLOTS)   /* a power of two */

struct msgid_memory {
	uint32_t ids[MSGID_MEMORY_SLOTS];      /* lane L holds [L * LANE_SLOTS, (L+1) * LANE_SLOTS); 0 = empty */
	uint8_t index[MSGID_INDEX_SLOTS];      /* 1 + a position in ids, 0 = empty slot */
	uint8_t next[MSGID_LANES];             /* each lane's oldest position, written next */
};

/* Message ID 0 (Main Mode's) is never remembered, and never "seen". */
bool msgid_memory_has(const struct msgid_memory *m, uint32_t msgid);
/* Remembers msgid in lane (nothing when it is already remembered, in any
 * lane); the lane's oldest ID is forgotten when the lane is full. */
void msgid_memory_add(struct msgid_memory *m, enum msgid_lane lane, uint32_t msgid);
