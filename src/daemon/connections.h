/* The connection database: named descriptions of potential connections
 * (the man page's "potential connection database"), their orientation,
 * routing state and road-warrior templates. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "common/errors.h"
#include "common/hindex.h"
#include "common/id.h"
#include "common/ip.h"
#include "daemon/conn_options.h"   /* struct connection_config, struct end */
#include "policy/algs.h"

enum routing_state { RT_UNROUTED, RT_PROSPECTIVE, RT_EROUTED };
const char *routing_state_name(enum routing_state r);

struct state;
struct progress_sink;
struct v1_instance;

/* A connection's normalised option map (the Options property, status,
 * the reload's keep-if-unchanged rule): sorted keys; the struct, both
 * arrays and the texts are one allocation. Shared: a road-warrior
 * instance holds its template's (see connection.option_peer). */
struct option_map {
	size_t refs;
	size_t n;
	size_t host_index[2];        /* where "left" and "right" are */
	char **keys, **values;
};

struct connection {
	char *name;
	struct connection_config cfg;
	struct option_map *options;
	/* an instance: the index in options of its peer's host keyword, whose
	 * value is its peer's address (connection_option_value) where the
	 * template's map says %any; -1 for every other connection */
	int option_peer;
	/* where it was defined: CONNECTION_SOURCE_API, or "FILE:LINE" of its
	 * conn section in the configuration file (only those does a reload
	 * touch); an instance has its template's */
	char *source;

	int this;                    /* index of our end in cfg.end, or -1 */
	int that;
	enum routing_state routing;
	bool is_template;            /* the peer's host is %any */
	struct connection *template; /* for instances: the template it came from */
	unsigned debug;              /* per-connection debug classes */
	unsigned newest_isakmp, newest_ipsec;  /* serials, 0 = none */
	uint32_t reqid;              /* ties its SAs to its eroutes (klips/routing.c); 0 = none yet */
	unsigned eroute_owner;       /* serial of the IPsec SA whose eroute is in place, 0 = none */
	struct state *states;        /* its states, newest first (state.c keeps it) */
	size_t n_states;
	struct v1_instance *instance; /* the engine's record when a road-warrior instance, else NULL */
	unsigned long seq;           /* order of addition: "the first in the list" without the list */
	struct hlink peer_host_link; /* index by the peer's host address (oriented, not %any) */
	struct connection *tmpl_next, *tmpl_prev;  /* the templates, in list order */
	struct hlink route_link;     /* klips/routing.c: routed ones by their peer client */
	ip_subnet route_key;         /* the peer client it is indexed under */

	struct progress_sink *sinks; /* who waits for progress lines of this connection */
	struct view_cache *view_cache; /* values last announced (daemon/views.h) */
	struct connection *next;
	struct connection *prev;       /* the list is doubly linked: O(1) delete */
	struct connection *name_next;  /* chain of the by-name index */
};

#define END_THIS(c) (&(c)->cfg.end[(c)->this])
#define END_THAT(c) (&(c)->cfg.end[(c)->that])

/* Database */
struct connection *connection_by_name(const char *name);
struct connection *connections_first(void);
/* Oriented connections whose peer host is the address a (a host or
 * %defaultroute end, not %any), in no order: compare c->seq for "the
 * first"; iterate with connection_by_peer_host_next. */
struct connection *connection_by_peer_host(const ip_address *a);
struct connection *connection_by_peer_host_next(const struct connection *c, const ip_address *a);
/* The templates (peer %any), in list order, linked by tmpl_next. */
struct connection *connection_templates(void);
size_t connections_count(void);
#define CONNECTION_SOURCE_API "api"
/* Adds a new connection after orienting it; takes ownership of *cfg.
 * source: CONNECTION_SOURCE_API or "FILE:LINE" (copied). */
int connection_add(const char *name, const char *source, struct connection_config *cfg,
		   struct connection **ret, struct ctl_error *err);
/* Would a connection of that config orient itself here? 0, or -1 with
 * CannotOrient as connection_add would say (nothing is added). */
int connection_config_check_orient(const char *name, const struct connection_config *cfg,
				   struct ctl_error *err);
/* The connection was (re)defined at source: announced when it differs. */
void connection_set_source(struct connection *c, const char *source);
bool connection_source_is_api(const struct connection *c);
/* A road-warrior instance of template for the peer at peer: the
 * template's parsed config (its proposal tables and option map shared,
 * not parsed again) with the peer's end at that address. Its link to
 * the template is set before the ConnectionAdded event goes out. */
int connection_add_instance(const char *name, struct connection *template, const ip_address *peer,
			    struct connection **ret, struct ctl_error *err);
/* The value of option i of c's map (c->options->keys[i] is its key): for
 * an instance's peer host its address, written into buf. */
const char *connection_option_value(const struct connection *c, size_t i, char buf[IP_STR_MAX]);
void connection_delete(struct connection *c);
void connections_delete_all(void);

/* Decide which end is us from the local interface addresses; also resolves
 * %defaultroute. Returns -1 with CannotOrient when neither end is ours. */
int connection_orient(struct connection *c, struct ctl_error *err);
/* Re-orient every connection after the interface list changed. */
void connections_reorient(void);
/* What an end protects, as the kernel policies and updown see it: its
 * subnet, or for a Mode Config client end the address lent to it (held by
 * the connection's newest ISAKMP SA, on the client and on the gateway),
 * else its host address. True when that is a client (subnet or lent
 * address), false for the host itself. */
bool connection_this_client(const struct connection *c, ip_subnet *out);
bool connection_that_client(const struct connection *c, ip_subnet *out);
