/* The host's own addresses as IKE sees them: the sockets (demux.c) listen
 * on them and orientation (connections.c) asks whether an end is one of
 * them. Here, below both, so that the connection database does not depend
 * on the socket layer.
 *
 * Two sources. The daemon keeps a table fed by rtnetlink events
 * (klips/rtnl_watch.c: one dump at start, then every address and link
 * change as the kernel announces it), so that no handshake asks the
 * kernel (getifaddrs) again. Without it (unit tests, --check-config) each
 * question is one getifaddrs(3), or one snapshot while held. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "common/ip.h"

struct ifaddrs;

/* Addresses usable for IKE: up, IPv4 or IPv6, not IPv6 link-local (which
 * would need a scope the connection descriptions cannot express). */
bool ifaddr_usable(const struct ifaddrs *ifa, ip_address *out);
/* Is this address one of ours (on any interface, up)? */
bool local_address(const ip_address *a);
/* The interface holding address a (up or not): its name and index; false
 * when no interface holds it. */
bool local_address_interface(const ip_address *a, char *name, size_t name_len, int *ifindex);
/* One snapshot of the addresses for a batch of questions (a file of
 * thousands of conns is oriented at once): while held, local_address
 * answers from it instead of asking the kernel every time. Holds nest.
 * Without effect while the table is tracked. */
void local_addresses_hold(void);
void local_addresses_release(void);

/* --- the tracked table (fed by the rtnetlink watcher) --- */
/* From now on answers come from the table only (true) or from
 * getifaddrs again (false; the table is emptied). */
void ifaddr_track(bool on);
bool ifaddr_tracked(void);
/* A link appeared or changed (name, IFF_UP) / went away (its addresses too). */
void ifaddr_link_set(int ifindex, const char *name, bool up);
void ifaddr_link_del(int ifindex);
/* An address was added to / removed from a link. */
void ifaddr_addr_add(int ifindex, const ip_address *a);
void ifaddr_addr_del(int ifindex, const ip_address *a);
/* How many addresses the table holds (for tests and the log). */
size_t ifaddr_count(void);
