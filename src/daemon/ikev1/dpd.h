/* Dead Peer Detection for IKEv1 (RFC 3706).
 *
 * Answering: every R-U-THERE that arrives in a protected Informational
 * exchange over an established ISAKMP SA (HASH(1) verified, SPI = both
 * cookies, 4-byte sequence) is answered with R-U-THERE-ACK echoing the
 * sequence, whatever our own configuration says.
 *
 * Asking: a connection with dpddelay > 0 whose peer announced DPD (its
 * Vendor ID, v1_state.peer_caps) watches its newest established ISAKMP
 * SA. Any authenticated message on an ISAKMP SA of the peer counts as
 * "heard". After dpddelay seconds of silence an R-U-THERE goes out (a new
 * sequence number each time, at most one every dpddelay seconds); after
 * dpdtimeout seconds of silence the peer is dead and dpdaction applies:
 *   clear    delete the connection's states; routing back to what auto=
 *            says (prospective for auto=route, unrouted otherwise)
 *   hold     delete the states, keep (or put) the TRAP eroute so the
 *            next outbound packet negotiates again
 *   restart  delete the states and initiate at once, as a command would
 *            (engine_core_initiate(): the hook the core registers)
 * An instance of a %any template cannot initiate: for it every action
 * is clear (the instance goes with its states). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct connection;
struct payload;
struct state;
struct v1_state;

/* (dpddelay=, dpdtimeout=, dpdaction= are parsed and checked by the option
 * parser, conn_options.c; the engine reads them from connection_config.) */

/* --- sequence numbers (RFC 3706 5.5, 7): pure, for the unit test --- */
struct dpd_seq {
	uint32_t next;          /* the next R-U-THERE carries this */
	uint32_t first_unacked; /* oldest R-U-THERE of the current silence */
	bool outstanding;       /* an R-U-THERE is waiting for its ACK */
};
/* Random start below 2^31 (never 0), nothing outstanding. */
void dpd_seq_init(struct dpd_seq *q, uint32_t random);
/* The sequence number of the R-U-THERE to send now (marks it outstanding). */
uint32_t dpd_seq_send(struct dpd_seq *q);
/* An ACK carrying seq: true when it answers one of the R-U-THEREs sent
 * since the last accepted ACK (then nothing is outstanding any more). */
bool dpd_seq_ack(struct dpd_seq *q, uint32_t seq);

/* --- engine hooks --- */
/* An authenticated message arrived on s (an ISAKMP SA or a phase-2
 * exchange of one): the peer is alive. Starts watching the ISAKMP SA once
 * it is established, when the connection asks for DPD. */
void dpd_heard(struct v1_state *s);
/* An R-U-THERE or R-U-THERE-ACK notification in a protected
 * Informational message whose HASH(1) was verified. */
void dpd_notification(struct v1_state *isakmp, const struct payload *p);
/* The ISAKMP SA goes away (state free hook). */
void dpd_free(struct v1_state *s);
/* "DPD: active, delay 30 s, timeout 120 s, action hold" for status;
 * empty when DPD does not watch this state. */
const char *dpd_status_str(const struct state *st, char *buf, size_t len);
