/* State objects: one per ISAKMP SA or IPsec SA being negotiated or
 * established, numbered by serial. The engine (next issue) fills in the
 * protocol fields; this file owns creation, lookup and the change events. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hindex.h"
#include "common/ip.h"

struct connection;
struct v1_state;

enum state_kind { STATE_KIND_ISAKMP, STATE_KIND_IPSEC };

/* The man page's state names, numbered as whack's 100+s codes (API.md 4). */
enum state_name {
	STATE_UNDEFINED = 0,
	STATE_MAIN_R0, STATE_MAIN_I1, STATE_MAIN_R1, STATE_MAIN_I2,
	STATE_MAIN_R2, STATE_MAIN_I3, STATE_MAIN_R3, STATE_MAIN_I4,
	STATE_QUICK_R0, STATE_QUICK_I1, STATE_QUICK_R1, STATE_QUICK_I2,
	STATE_QUICK_R2, STATE_INFO, STATE_INFO_PROTECTED,
	/* the transaction exchange after Main Mode (XAUTH, Mode Config),
	 * on the ISAKMP state: R = the gateway (server), I = the client */
	STATE_XAUTH_R0, STATE_XAUTH_R1, STATE_XAUTH_R2,
	STATE_MODE_CFG_R0, STATE_MODE_CFG_R1, STATE_MODE_CFG_R2, STATE_MODE_CFG_R3,
	STATE_XAUTH_I0, STATE_XAUTH_I1, STATE_XAUTH_I2,
	STATE_MODE_CFG_I0, STATE_MODE_CFG_I1, STATE_MODE_CFG_I2, STATE_MODE_CFG_I3,
	STATE_NAME__MAX
};
const char *state_name_str(enum state_name s);

#define SPIS_MAX 3   /* ESP/AH/IPComp */

struct state {
	unsigned serial;
	struct connection *connection;
	enum state_kind kind;
	enum state_name name;
	bool established;
	bool initiator;
	ip_address peer;
	uint16_t peer_port;
	/* Text: never NULL, "" when none; set with state_set_text (heap,
	 * sized to the text: most states have few or none of them) */
	const char *peer_id;
	const char *algorithms;
	const char *nat_status;      /* "NAT-T: peer behind NAT, port 4500", or "" */
	unsigned n_inbound_spis, n_outbound_spis;
	uint32_t inbound_spis[SPIS_MAX], outbound_spis[SPIS_MAX];
	uint64_t expires_at_usec, rekey_at_usec;   /* CLOCK_REALTIME, 0 = never */
	/* remote access, on the ISAKMP state (API.md State: XauthUser,
	 * VirtualAddress, Dns, Domains, Banner); "" / 0 when none */
	const char *xauth_user;      /* the user XAUTH proved (client: ours; server: the peer's) */
	const char *domains;         /* comma list */
	const char *banner;
	/* the addresses Mode Config lent and told (state_modecfg): a block
	 * made when first written; NULL = none, as for most states */
	struct state_modecfg *modecfg;

	struct v1_state *v1;         /* the IKEv1 engine's protocol data (ike_sa.h), or NULL */

	struct view_cache *view_cache; /* values last announced (daemon/views.h) */
	struct state *next_in_list;  /* all states, newest first */
	struct state *prev_in_list;  /* (doubly linked: O(1) delete) */
	struct hlink serial_link;    /* the index by serial */
	struct state *conn_next, *conn_prev;  /* its connection's states, newest first */
	struct hlink peer_link;      /* the index by peer address */
	struct hlink peer_id_link;   /* the index by peer_id (once set) */
};

/* What Mode Config lent and told, on the ISAKMP state (API.md State:
 * VirtualAddress, Dns, SplitInclude). */
struct state_modecfg {
	bool has_virtual_address;
	ip_subnet virtual_address;   /* Mode Config inner address with its prefix */
	size_t n_dns;
	ip_address dns[4];
	size_t n_split_include;      /* client: the gateway's Unity split include, */
	ip_subnet split_include[4];  /* the first is our peer client when we have no rightsubnet */
};
/* st's block to read: an empty one (nothing lent) when it has none */
const struct state_modecfg *state_modecfg(const struct state *st);
/* st's block to write, made on first use (freed with the state) */
struct state_modecfg *state_modecfg_mut(struct state *st);

struct state *state_new(struct connection *c, enum state_kind kind, bool initiator);
void state_delete(struct state *st);
struct state *state_by_serial(unsigned serial);
struct state *states_first(void);
size_t states_count(void);
/* Calls fn for each state of connection c (safe against deleting the
 * current state inside fn). */
void states_for_connection(struct connection *c, void (*fn)(struct state *st, void *ud), void *ud);
size_t states_count_for_connection(const struct connection *c);
/* The states of c, newest first (c->states, linked by conn_next): a walk
 * of one connection's states, never of all of them. */
struct state *connection_states(const struct connection *c);
/* Moves st to connection c (both per-connection lists stay right). */
void state_set_connection(struct state *st, struct connection *c);
/* st->peer and st->peer_id are set through these, which index them:
 * Deletes, INITIAL_CONTACT and uniqueids find a peer's states without a
 * walk of all states. */
void state_set_peer(struct state *st, const ip_address *peer);
void state_set_peer_id(struct state *st, const char *peer_id);
/* The states whose peer is at a (or whose peer_id is id), in no order;
 * iterate with the _next function. */
struct state *state_by_peer(const ip_address *a);
struct state *state_by_peer_next(const struct state *st, const ip_address *a);
struct state *state_by_peer_id(const char *id);
struct state *state_by_peer_id_next(const struct state *st, const char *id);
void state_set_name(struct state *st, enum state_name name);
/* Sets one of st's text fields (&st->peer_id, ...) to the formatted text,
 * "" included; the old text is freed. Announces nothing. */
void state_set_text(const char **field, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void states_delete_for_connection(struct connection *c);
void states_delete_all(void);
/* The engine's hook, called by state_delete() after the state is
 * unlinked and before it is freed, whoever deletes it: it releases the
 * protocol data (keys, timers, hash-table links). */
void state_set_free_hook(void (*fn)(struct state *st));
