/* pluto's facts about an established connection -> what NetworkManager is
 * told in the Config, Ip4Config and Ip6Config signals (pure: no D-Bus, no
 * I/O; unit-tested in tests/unit/test-nm-ipconfig.c; nm-ipconfig-emit.c
 * writes the result as NM's a{sv} dictionaries).
 *
 * With Mode Config the inner address is the ISAKMP State's VirtualAddress
 * (with its prefix), with its Dns and Domains; the routes are the
 * gateway's split include, else rightsubnet. Without Mode Config the inner
 * address is this host's own address toward the gateway (a /32 or /128:
 * NM adds it beside the one the interface has) and the routes are
 * rightsubnet. The tunnel is an xfrm policy, not an interface: no
 * "tundev", so NM puts the address and routes on the device that reaches
 * the gateway, and the kernel's policies encrypt what they match. A route
 * to 0.0.0.0/0 (or ::/0) is the default route (never-default false);
 * anything else never takes the default route. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "common/ip.h"

/* What pluto tells (strings as its D-Bus API gives them) */
struct nmp_facts {
	const char *gateway;          /* the peer's address (State PeerAddress, else right=) */
	const char *local;            /* our address toward the gateway, or "" */
	const char *virtual_address;  /* Mode Config "10.9.0.1/32", or "" */
	const char *const *dns;
	size_t n_dns;
	const char *const *domains;
	size_t n_domains;
	const char *banner;           /* or "" / NULL */
	const char *const *split_include;   /* CIDRs from the gateway */
	size_t n_split;
	const char *rightsubnet;      /* or NULL */
};

#define NMP_LIST_MAX 16

/* One address family's Ip4Config / Ip6Config */
struct nmp_ipx {
	bool present;
	ip_address address;
	unsigned prefix;
	ip_address dns[NMP_LIST_MAX];
	size_t n_dns;
	ip_subnet routes[NMP_LIST_MAX];
	size_t n_routes;
	bool never_default;
	bool domains;                 /* the domains go with this family */
};

struct nmp_ipconfig {
	ip_address gateway;
	const char *banner;           /* borrowed from the facts; NULL: none */
	const char *const *domains;   /* borrowed */
	size_t n_domains;
	struct nmp_ipx ip4, ip6;
};

/* 0, or -1 with err saying which fact was unusable. */
int nmp_ipconfig_build(const struct nmp_facts *f, struct nmp_ipconfig *out, char *err, size_t errlen);
