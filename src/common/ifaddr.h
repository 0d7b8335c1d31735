/* The host's own addresses as IKE sees them (getifaddrs(3)): the sockets
 * (demux.c) listen on them and orientation (connections.c) asks whether an
 * end is one of them. Here, below both, so that the connection database
 * does not depend on the socket layer. */
#pragma once
#include <stdbool.h>

#include "common/ip.h"

struct ifaddrs;

/* Addresses usable for IKE: up, IPv4 or IPv6, not IPv6 link-local (which
 * would need a scope the connection descriptions cannot express). */
bool ifaddr_usable(const struct ifaddrs *ifa, ip_address *out);
/* Is this address one of ours (on any interface, up)? */
bool local_address(const ip_address *a);
/* One snapshot of the addresses for a batch of questions (a file of
 * thousands of conns is oriented at once): while held, local_address
 * answers from it instead of asking the kernel every time. Holds nest. */
void local_addresses_hold(void);
void local_addresses_release(void);
