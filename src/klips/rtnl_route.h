/* Routes and addresses changed in-process over rtnetlink: what the
 * shipped pluto-updown script does with ip(8), without a fork, a shell
 * and four ip processes per call. Each change is one request acked by
 * the kernel; nothing is dumped: "already there" and "already gone" are
 * the kernel's answers (EEXIST, ESRCH, ENOENT, EADDRNOTAVAIL), taken as
 * success. why gets the kernel's words on failure. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "common/ip.h"

/* A route to dst via gateway (unset: none) out of ifindex (0: the kernel
 * chooses), with prefsrc as its source (unset: none), in the main table.
 * create: add it or replace one to the same dst; !create: only replace
 * an existing one (-ENOENT, returned, when there is none). */
int rtnl_route_set(const ip_subnet *dst, const ip_address *gateway, int ifindex,
		   const ip_address *prefsrc, bool create, char *why, size_t why_len);
/* Removes the route to dst via gateway out of ifindex; 0 when there was
 * none (*removed tells which). */
int rtnl_route_del(const ip_subnet *dst, const ip_address *gateway, int ifindex, bool *removed,
		   char *why, size_t why_len);
/* Adds / removes address a (as a host address, /32 or /128) on ifindex;
 * 0 when it was already there / not there (*changed tells which). */
int rtnl_addr_add(const ip_address *a, int ifindex, bool *changed, char *why, size_t why_len);
int rtnl_addr_del(const ip_address *a, int ifindex, bool *changed, char *why, size_t why_len);
/* Closes the request socket (shutdown, tests). */
void rtnl_route_close(void);
