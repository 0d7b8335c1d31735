/* Mode Config address pools (Xaddresspool=, API.md section 1): a server
 * end lends each client identity one address of a range, the same one
 * again when that identity comes back, until the lease is released (the
 * ISAKMP SA that held it is deleted). Pools are shared by every connection
 * naming the same range, so two connections cannot lend one address twice.
 * Model layer: knows addresses and identities, nothing of the engine. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "common/errors.h"
#include "common/ip.h"

struct address_pool;

/* A sane pool: at most 2^20 addresses (a /12 of IPv4, a /108 of IPv6).
 * Leases are a bitmap of the range, so a bigger one would cost memory
 * for nothing a remote-access gateway needs. */
#define ADDRESS_POOL_MAX_SIZE (1u << 20)

/* Xaddresspool= text: "A-B" (inclusive, same family, A <= B) or a CIDR
 * block, whose host addresses it lends: an IPv4 block of /30 or wider
 * leaves out its network and broadcast addresses, an IPv6 block of /126
 * or wider its all-zero (Subnet-Router anycast) address; a /31, /32,
 * /127 or /128 lends every address. false with *why for bad text, mixed
 * families, a reversed range or one over ADDRESS_POOL_MAX_SIZE. The
 * option parser and address_pool_get() share it. */
bool address_range_parse(const char *text, ip_address *first, ip_address *last, const char **why);
/* The checks of address_range_parse() on a range already split. */
bool address_range_check(const ip_address *first, const ip_address *last, const char **why);

/* The pool of the range [first, last] (same family, first <= last), created
 * on first use and shared after that; reference counted. NULL with err
 * (InvalidOption) for a bad range or one that overlaps another pool
 * without being equal to it. */
struct address_pool *address_pool_get(const ip_address *first, const ip_address *last,
				      struct ctl_error *err);
void address_pool_put(struct address_pool *pool);

/* Lend an address to identity (a printable id: the XAUTH user name, or
 * the peer's IKE identity when there is none): the address that identity
 * holds or held last if still free, else the lowest free one. -1 with err
 * (InternalError, "address pool A-B is exhausted") when none is left;
 * the caller logs it. */
int address_pool_lease(struct address_pool *pool, const char *identity, ip_address *out,
		       struct ctl_error *err);
/* Give back the lease of identity (kept as "last held" so the same
 * identity gets it again when it is still free). */
void address_pool_release(struct address_pool *pool, const char *identity);
/* For status and tests: the range as "A-B", and leases in use / size. */
const char *address_pool_str(const struct address_pool *pool, char *buf, size_t len);
size_t address_pool_in_use(const struct address_pool *pool);
size_t address_pool_size(const struct address_pool *pool);
