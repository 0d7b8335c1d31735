/* Replacing a peer's old SAs: --uniqueids (a new ISAKMP SA for a peer
 * identity replaces that identity's SAs on other connections) and
 * INITIAL-CONTACT (RFC 2407 4.6.3.3: a peer that starts afresh says so,
 * and its SAs from before are dropped). Part of the IKEv1 engine. */
#pragma once
#include <stdbool.h>

struct v1_state;
struct v1_msg;
struct pbuf;

/* The daemon's --uniqueids option (off by default). */
void peer_replace_set_uniqueids(bool on);

/* Initiator, MI3: append N(INITIAL_CONTACT) to pb unless we already have
 * an established SA (ISAKMP or IPsec) with the peer's identity (a rekey or
 * a second connection to the same peer does not announce a fresh start). */
void peer_replace_emit_initial_contact(struct v1_state *s, struct pbuf *pb);

/* The ISAKMP SA s has just been established by m (MI3 or MR3, peer
 * authenticated): honour an INITIAL_CONTACT in m, then apply uniqueids. */
void peer_replace_established(struct v1_state *s, const struct v1_msg *m);

/* INITIAL_CONTACT in a protected Informational over the established
 * ISAKMP SA isakmp. */
void peer_replace_initial_contact(struct v1_state *isakmp);
