/* Mode Config address pools (addresspool.h): one pool per range, shared
 * by every connection naming it, a bitmap of the addresses in use and one
 * record per identity that ever held a lease (its last address), so a
 * returning identity gets the same address while nobody else took it. */
#include "daemon/addresspool.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

typedef unsigned __int128 u128;

struct lease {
	char *identity;
	uint32_t offset;             /* address = first + offset */
	bool active;
};

struct address_pool {
	struct address_pool *next;
	ip_address first, last;
	uint32_t size;               /* addresses in the range */
	unsigned refs;
	size_t in_use;
	uint64_t *used;              /* bitmap of size bits */
	struct lease *leases;
	size_t n_leases, cap_leases;
};

static struct address_pool *pools;

/* --- ranges as 128-bit numbers --- */

static u128 to_u128(const ip_address *a)
{
	u128 v = 0;
	size_t len = ip_len(a);
	for (size_t i = 0; i < len; i++)
		v = (v << 8) | a->u.bytes[i];
	return v;
}

static void from_u128(int family, u128 v, ip_address *out)
{
	memset(out, 0, sizeof(*out));
	out->family = family;
	size_t len = ip_len(out);
	for (size_t i = len; i-- > 0;) {
		out->u.bytes[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

bool address_range_check(const ip_address *first, const ip_address *last, const char **why)
{
	if (first->family != AF_INET && first->family != AF_INET6) {
		*why = "not an IP address range";
		return false;
	}
	if (first->family != last->family) {
		*why = "the range's two ends are of different address families";
		return false;
	}
	u128 a = to_u128(first), b = to_u128(last);
	if (a > b) {
		*why = "the range's first address is above its last";
		return false;
	}
	if (b - a >= ADDRESS_POOL_MAX_SIZE) {
		*why = "a pool holds at most 1048576 (2^20) addresses";
		return false;
	}
	return true;
}

static bool parse_cidr(const char *text, ip_address *first, ip_address *last, const char **why)
{
	ip_subnet net;
	ip_address single;
	if (!strchr(text, '/') && !ip_parse(text, &single)) {
		*why = "must be A-B (two addresses) or a CIDR block";
		return false;
	}
	if (!subnet_parse(text, &net, why))
		return false;
	unsigned bits = (unsigned)ip_len(&net.addr) * 8;
	unsigned host_bits = bits - net.prefix;
	if (host_bits > 20) {
		*why = "a pool holds at most 1048576 (2^20) addresses (IPv4 /12, IPv6 /108)";
		return false;
	}
	u128 base = to_u128(&net.addr);
	u128 top = base + (((u128)1 << host_bits) - 1);
	/* host addresses only: IPv4 drops network and broadcast, IPv6 the
	 * Subnet-Router anycast (all-zero host part); tiny blocks keep all */
	if (net.addr.family == AF_INET && host_bits >= 2) {
		base++;
		top--;
	} else if (net.addr.family == AF_INET6 && host_bits >= 2) {
		base++;
	}
	from_u128(net.addr.family, base, first);
	from_u128(net.addr.family, top, last);
	return true;
}

bool address_range_parse(const char *text, ip_address *first, ip_address *last, const char **why)
{
	const char *dash = strchr(text, '-');
	if (!dash)
		return parse_cidr(text, first, last, why);
	char a[IP_STR_MAX];
	size_t alen = (size_t)(dash - text);
	if (alen == 0 || alen >= sizeof(a)) {
		*why = "must be A-B (two addresses) or a CIDR block";
		return false;
	}
	memcpy(a, text, alen);
	a[alen] = '\0';
	if (!ip_parse(a, first) || !ip_parse(dash + 1, last)) {
		*why = "must be A-B (two addresses) or a CIDR block";
		return false;
	}
	return address_range_check(first, last, why);
}

/* --- pools --- */

const char *address_pool_str(const struct address_pool *pool, char *buf, size_t len)
{
	char a[IP_STR_MAX], b[IP_STR_MAX];
	snprintf(buf, len, "%s-%s", ip_str(&pool->first, a), ip_str(&pool->last, b));
	return buf;
}

struct address_pool *address_pool_get(const ip_address *first, const ip_address *last,
				      struct ctl_error *err)
{
	const char *why = NULL;
	char a[IP_STR_MAX], b[IP_STR_MAX], other[2 * IP_STR_MAX + 2];
	if (!address_range_check(first, last, &why)) {
		ctl_fail(err, PE_INVALID_OPTION, "address pool %s-%s: %s", ip_str(first, a),
			 ip_str(last, b), why);
		return NULL;
	}
	u128 lo = to_u128(first), hi = to_u128(last);
	for (struct address_pool *p = pools; p; p = p->next) {
		if (p->first.family != first->family)
			continue;
		if (ip_equal(&p->first, first) && ip_equal(&p->last, last)) {
			p->refs++;
			return p;
		}
		if (lo <= to_u128(&p->last) && to_u128(&p->first) <= hi) {
			ctl_fail(err, PE_INVALID_OPTION,
				 "address pool %s-%s overlaps pool %s without being the same range",
				 ip_str(first, a), ip_str(last, b),
				 address_pool_str(p, other, sizeof(other)));
			return NULL;
		}
	}
	struct address_pool *p = xmalloc(sizeof(*p));
	memset(p, 0, sizeof(*p));
	p->first = *first;
	p->last = *last;
	p->size = (uint32_t)(hi - lo) + 1;
	p->refs = 1;
	size_t words = (p->size + 63) / 64;
	p->used = xmalloc(words * sizeof(uint64_t));
	memset(p->used, 0, words * sizeof(uint64_t));
	p->next = pools;
	pools = p;
	return p;
}

void address_pool_put(struct address_pool *pool)
{
	if (!pool || --pool->refs > 0)
		return;
	for (struct address_pool **pp = &pools; *pp; pp = &(*pp)->next) {
		if (*pp == pool) {
			*pp = pool->next;
			break;
		}
	}
	for (size_t i = 0; i < pool->n_leases; i++)
		free(pool->leases[i].identity);
	free(pool->leases);
	free(pool->used);
	free(pool);
}

static bool used(const struct address_pool *p, uint32_t off)
{
	return (p->used[off / 64] >> (off % 64)) & 1;
}

static void set_used(struct address_pool *p, uint32_t off, bool on)
{
	if (on)
		p->used[off / 64] |= (uint64_t)1 << (off % 64);
	else
		p->used[off / 64] &= ~((uint64_t)1 << (off % 64));
}

static struct lease *find_lease(struct address_pool *p, const char *identity)
{
	for (size_t i = 0; i < p->n_leases; i++)
		if (streq(p->leases[i].identity, identity))
			return &p->leases[i];
	return NULL;
}

/* the lowest free offset, or size when none */
static uint32_t lowest_free(const struct address_pool *p)
{
	size_t words = (p->size + 63) / 64;
	for (size_t w = 0; w < words; w++) {
		if (p->used[w] == UINT64_MAX)
			continue;
		uint32_t off = (uint32_t)(w * 64 + (unsigned)__builtin_ctzll(~p->used[w]));
		return off < p->size ? off : p->size;
	}
	return p->size;
}

int address_pool_lease(struct address_pool *pool, const char *identity, ip_address *out,
		       struct ctl_error *err)
{
	struct lease *l = find_lease(pool, identity);
	if (l && l->active) {
		/* one lease per identity: a second SA of the same user shares it */
		from_u128(pool->first.family, to_u128(&pool->first) + l->offset, out);
		return 0;
	}
	uint32_t off;
	if (l && !used(pool, l->offset)) {
		off = l->offset;
	} else {
		off = lowest_free(pool);
		if (off >= pool->size) {
			char range[2 * IP_STR_MAX + 2];
			return ctl_fail(err, PE_INTERNAL, "address pool %s is exhausted",
					address_pool_str(pool, range, sizeof(range)));
		}
	}
	if (!l) {
		if (pool->n_leases == pool->cap_leases) {
			pool->cap_leases = pool->cap_leases ? pool->cap_leases * 2 : 8;
			pool->leases = xrealloc(pool->leases, pool->cap_leases * sizeof(*pool->leases));
		}
		l = &pool->leases[pool->n_leases++];
		l->identity = xstrdup(identity);
	}
	l->offset = off;
	l->active = true;
	set_used(pool, off, true);
	pool->in_use++;
	from_u128(pool->first.family, to_u128(&pool->first) + off, out);
	return 0;
}

void address_pool_release(struct address_pool *pool, const char *identity)
{
	struct lease *l = find_lease(pool, identity);
	if (!l || !l->active)
		return;
	l->active = false;           /* kept: the identity's address next time */
	set_used(pool, l->offset, false);
	pool->in_use--;
}

size_t address_pool_in_use(const struct address_pool *pool)
{
	return pool->in_use;
}

size_t address_pool_size(const struct address_pool *pool)
{
	return pool->size;
}
