/* The IKEv1 state table: one row per message a state waits for, saying
 * everything the dispatcher (ikev1.c) does around the handler, so that
 * validation, hashes, duplicates, timers and what reaching a state means
 * live in one place and the handlers only do protocol work.
 *
 * A row is keyed by (from, xchg): the state that waits and the exchange
 * of the message. The Informational exchange has no per-exchange state:
 * its rows use the pseudo-states STATE_INFO (an unprotected message) and
 * STATE_INFO_PROTECTED (encrypted, over an ISAKMP SA) and lead nowhere.
 * tests/unit/test-ikev1-table.c checks the table's invariants. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errors.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/state.h"

enum v1_row_flags {
	F_ENCRYPTED = 1 << 0,    /* the message must arrive encrypted (else: must not) */
	F_SENDS     = 1 << 1,    /* the handler sends a message (kept for re-sending) */
	F_REQUEST   = 1 << 2,    /* what it sends wants an answer: retransmitted until one comes */
	F_NO_ANSWER = 1 << 3,    /* a refused message is never answered with a notification
				    (an Informational answering an Informational could loop) */
	F_ANY_OTHER = 1 << 4,    /* payloads the rules do not name are ignored, not refused */
};

/* What the state reached waits with. */
enum v1_timeout {
	TIMEOUT_NONE,            /* nothing (established, or no state: Informational) */
	TIMEOUT_RETRANSMIT,      /* re-send our request (RETRANSMIT_MAX), then give up */
	TIMEOUT_RESPONDER,       /* drop the negotiation after RESPONDER_TIMEOUT_USEC */
};

/* What a copy of the message this row accepted gets once the state has
 * moved on: where our message answered it, the peer lost our answer and
 * gets it again; elsewhere it is dropped (re-sending there could start a
 * ping-pong: our request is retransmitted by its timer instead). */
enum v1_duplicate {
	DUP_DROP,
	DUP_RESEND,
};

/* The HASH payload the dispatcher verifies (RFC 2409 5.5, 5.7) before
 * the handler runs; the HASH must be the first payload. */
enum v1_hash {
	V1_HASH_NONE,
	V1_HASH_1,               /* prf(SKEYID_a, M-ID | rest): QI1, Informational */
	V1_HASH_2,               /* prf(SKEYID_a, M-ID | Ni_b | rest): QR1 */
	V1_HASH_3,               /* prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b): QI2 */
};

/* What reaching the row's `to` state does, after the timers. */
enum v1_reach {
	REACH_NOTHING,           /* no transition (Informational) */
	REACH_PROGRESS,          /* "STATE_X: what" to every listener */
	REACH_ESTABLISHED,       /* "STATE_X: what {algorithms}" */
	REACH_START_QUICK,       /* the same; then Quick Mode over the new ISAKMP SA, or, when the
				    connection wants no phase 2, the callers are done */
	REACH_FINISH,            /* the same; the callers' wait ends (success) */
};

/* How many of one payload type a message may carry. */
#define PAYLOAD_MANY 255
struct v1_payload_rule {
	uint8_t type;            /* enum isakmp_payload_type; 0 ends the list */
	uint8_t min, max;        /* min 1: required; max PAYLOAD_MANY: no limit */
};
#define V1_RULES_MAX 12

struct v1_row {
	enum state_name from, to;
	uint8_t xchg;                    /* enum isakmp_exchange */
	unsigned flags;                  /* enum v1_row_flags */
	enum v1_hash hash;
	struct v1_payload_rule payloads[V1_RULES_MAX];
	v1_handler handler;
	enum v1_timeout timeout;
	enum v1_duplicate duplicate;
	enum v1_reach reach;
	/* whack code of the line saying the state was reached: RC_NEW_STATE
	 * means RC_NEW_STATE + the state (the classic 1xx codes); a line
	 * that ends the callers' wait is RC_SUCCESS (whack exits with it) */
	enum whack_rc rc;
	const char *what;                /* text of that line */
};

extern const struct v1_row v1_rows[];
extern const size_t v1_n_rows;

/* States a negotiation starts in (MAIN_I1 and QUICK_I1 by main_outI1 and
 * quick_outI1, the R0 states when a first message creates one), the
 * Informational pseudo-states, and the states transaction.c enters when
 * an XAUTH or Mode Config phase begins. */
extern const enum state_name v1_initial_states[];
extern const size_t v1_n_initial_states;

/* The row for a message of exchange xchg in state from, NULL when none. */
const struct v1_row *v1_row_for(enum state_name from, uint8_t xchg);
/* The row that leads to state `to`, NULL for a state no row reaches. */
const struct v1_row *v1_row_reaching(enum state_name to);
/* The rule for a payload type in row, NULL when the row names none. */
const struct v1_payload_rule *v1_row_rule(const struct v1_row *row, uint8_t type);
/* The whack code of the "reached" line of row for state st: see rc. */
enum whack_rc v1_row_rc(const struct v1_row *row, enum state_name to, bool ends_wait);
