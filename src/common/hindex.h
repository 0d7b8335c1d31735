/* An intrusive hash index that grows: a struct embeds a struct hlink per
 * index it is in, and finds its container back with HLINK_OWNER. Lookups
 * walk one bucket (at most about one entry per bucket on average: the
 * table doubles when it holds more entries than buckets), removal is O(1)
 * (each link knows who points to it). A chain keeps the order of
 * insertion, newest first, also when the table grows. Used wherever a per-packet, per-SA
 * or per-delete path would otherwise walk all states, connections or SAs. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "common/ip.h"

struct hlink {
	struct hlink *next;          /* first: hindex.c finds the previous link from pprev */
	struct hlink **pprev;        /* NULL when not in an index */
	uint32_t hash;
};

struct hindex {
	struct hlink **buckets;
	size_t n_buckets;            /* a power of two, or 0 */
	size_t count;
};

#define HLINK_OWNER(link, type, member) \
	((type *)(void *)((char *)(link) - offsetof(type, member)))

void hindex_add(struct hindex *ix, struct hlink *l, uint32_t hash);
void hindex_del(struct hindex *ix, struct hlink *l);   /* no-op when not in one */
static inline int hlink_linked(const struct hlink *l)
{
	return l->pprev != NULL;
}
/* The first link of hash's bucket; walk with hlink_next_same. Entries of
 * other hashes share buckets: callers compare their keys anyway. */
struct hlink *hindex_first(const struct hindex *ix, uint32_t hash);
struct hlink *hlink_next_same(const struct hlink *l, uint32_t hash);
void hindex_free(struct hindex *ix);

/* Hashes of the keys the daemon indexes by (FNV-1a). */
uint32_t hash_bytes(uint32_t h, const void *p, size_t len);
#define HASH_SEED 2166136261u
uint32_t hash_address(uint32_t h, const ip_address *a);
uint32_t hash_subnet(uint32_t h, const ip_subnet *s);
