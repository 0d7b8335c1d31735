/* What updown.c and updown_builtin.c both need to know about one run:
 * the values of the PLUTO_* variables that decide what a route or an
 * address is, worked out once (updown.c). Internal to the updown files. */
#pragma once
#include <net/if.h>
#include <stdbool.h>

#include "common/errors.h"
#include "common/ip.h"
#include "klips/updown.h"

struct connection;
struct state;

struct updown_facts {
	ip_address peer;            /* PLUTO_PEER */
	ip_address nexthop;         /* PLUTO_NEXT_HOP */
	char ifname[IF_NAMESIZE];   /* PLUTO_INTERFACE, "" when unknown */
	int ifindex;                /* its index, 0 when unknown */
	ip_subnet my_client;        /* PLUTO_MY_CLIENT */
	bool my_has_client;         /* -client (true) or -host verbs */
	ip_subnet peer_client;      /* PLUTO_PEER_CLIENT */
	bool peer_only;             /* the peer client is the peer itself: no route of ours */
	const struct state *ra;     /* XAUTH / Mode Config results, or NULL */
	bool has_sourceip;          /* PLUTO_MY_SOURCEIP: a lent address of ours */
	ip_address sourceip;
};

void updown_facts_of(const struct connection *c, const struct state *st, struct updown_facts *f);

/* The shipped script's work, in-process over rtnetlink (updown_builtin.c):
 * 0, or -1 with err (already logged with the c/st prefix). */
int updown_builtin(enum updown_verb verb, const char *verb_name, const struct updown_facts *f,
		   const struct connection *c, const struct state *st, struct ctl_error *err);
