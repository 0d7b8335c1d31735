#include "common/hindex.h"

#include <stdlib.h>

#include "common/util.h"

static void relink(struct hlink **buckets, size_t n, struct hlink *l)
{
	struct hlink **b = &buckets[l->hash & (n - 1)];
	l->next = *b;
	if (*b)
		(*b)->pprev = &l->next;
	*b = l;
	l->pprev = b;
}

static void grow(struct hindex *ix)
{
	size_t n = ix->n_buckets ? 2 * ix->n_buckets : 64;
	struct hlink **buckets = xcalloc(n, sizeof(*buckets));
	/* oldest first, so each chain keeps its order (newest first): a
	 * lookup that takes the first or the last match sees the same one
	 * before and after */
	for (size_t i = 0; i < ix->n_buckets; i++) {
		struct hlink *l = ix->buckets[i];
		while (l && l->next)
			l = l->next;
		while (l) {
			/* next is the first member: the previous link is where pprev points */
			struct hlink *prev = l->pprev == &ix->buckets[i] ? NULL : (struct hlink *)(void *)l->pprev;
			relink(buckets, n, l);
			l = prev;
		}
	}
	free(ix->buckets);
	ix->buckets = buckets;
	ix->n_buckets = n;
}

void hindex_add(struct hindex *ix, struct hlink *l, uint32_t hash)
{
	if (ix->count + 1 > ix->n_buckets)
		grow(ix);
	l->hash = hash;
	relink(ix->buckets, ix->n_buckets, l);
	ix->count++;
}

void hindex_del(struct hindex *ix, struct hlink *l)
{
	if (!l->pprev)
		return;
	*l->pprev = l->next;
	if (l->next)
		l->next->pprev = l->pprev;
	l->next = NULL;
	l->pprev = NULL;
	ix->count--;
}

struct hlink *hindex_first(const struct hindex *ix, uint32_t hash)
{
	if (!ix->n_buckets)
		return NULL;
	struct hlink *l = ix->buckets[hash & (ix->n_buckets - 1)];
	while (l && l->hash != hash)
		l = l->next;
	return l;
}

struct hlink *hlink_next_same(const struct hlink *l, uint32_t hash)
{
	struct hlink *n = l->next;
	while (n && n->hash != hash)
		n = n->next;
	return n;
}

void hindex_free(struct hindex *ix)
{
	for (size_t i = 0; i < ix->n_buckets; i++)
		for (struct hlink *l = ix->buckets[i]; l; l = l->next)
			l->pprev = NULL;
	free(ix->buckets);
	*ix = (struct hindex){ 0 };
}

uint32_t hash_bytes(uint32_t h, const void *p, size_t len)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u;
	/* the low bits pick the bucket: fold the high ones in */
	return h ^ (h >> 16);
}

uint32_t hash_address(uint32_t h, const ip_address *a)
{
	h = hash_bytes(h, &a->family, sizeof(a->family));
	return hash_bytes(h, a->u.bytes, a->family == AF_INET6 ? 16 : a->family == AF_INET ? 4 : 0);
}

uint32_t hash_subnet(uint32_t h, const ip_subnet *s)
{
	h = hash_address(h, &s->addr);
	return hash_bytes(h, &s->prefix, sizeof(s->prefix));
}
