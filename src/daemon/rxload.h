/* Overload control of what the IKE sockets receive (issue 13 point 3):
 * when pluto is offered more than it can do, it refuses NEW Main Modes
 * early (their MI1, before any state or Diffie-Hellman) so that the
 * negotiations already under way finish instead of timing out. Nothing
 * else is ever refused here: a message of an existing state always goes
 * on. A refused MI1 is dropped silently (as strongSwan drops an IKE_SA_INIT
 * over its half-open limit): the peer retransmits it and is served when
 * there is room.
 *
 * pluto is overloaded when any of these holds (first one named wins):
 *   - the event loop is behind: the datagram being handled waited more
 *     than RXLOAD_LOOP_BEHIND_USEC in its socket (kernel receive time,
 *     SO_TIMESTAMPNS; the socket is a FIFO, so it is the oldest queued);
 *   - the kernel dropped datagrams on an IKE socket (its receive buffer
 *     was full, SO_RXQ_OVFL) in the last RXLOAD_DROPS_WINDOW_USEC;
 *   - the crypto helpers' queue is over 3/4 of RXLOAD_HELPER_QUEUE_PER_HELPER
 *     jobs per helper (with helpers; without, their work shows as loop delay);
 *   - the engine's half-open limits refuse it (daemon/ikev1/half_open.h:
 *     too many from this address, or its pool full).
 * The first three are load checks: MI1s of configured peers are exempt
 * from them (the engine says so; its configured pool bounds their cost),
 * so that a flood that loads pluto cannot lock those peers out.
 *
 * At most one log line a second:
 *   "overloaded (REASON): new Main Mode from ADDR:PORT refused, N refused in
 *    the last second; negotiations under way continue"
 * where N counts every MI1 refused since the previous line; a timer writes
 * the line for the refusals of a second that ended without one, so the
 * lines add up to every refusal (tests/bench/handshakes.sh sums them). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "common/ip.h"

struct sd_event;

#define RXLOAD_LOOP_BEHIND_USEC (200 * 1000ULL)
#define RXLOAD_DROPS_WINDOW_USEC (1000 * 1000ULL)
/* Jobs one helper may have queued: at some 1-2 ms of MODP2048 each a few
 * tens of milliseconds, far below a peer's retransmission timer. */
#define RXLOAD_HELPER_QUEUE_PER_HELPER 16
/* What the IKE sockets ask of the kernel (SO_RCVBUFFORCE, else SO_RCVBUF):
 * some thousands of datagrams, a burst of many peers' messages. */
#define RXLOAD_SOCKET_RCVBUF (2 * 1024 * 1024)

enum rxload_reason {
	RXLOAD_OK = 0,
	RXLOAD_LOOP_BEHIND,
	RXLOAD_KERNEL_DROPS,
	RXLOAD_HELPERS_FULL,
	RXLOAD_HALF_OPEN,            /* the MI1's pool is full */
	RXLOAD_HALF_OPEN_SOURCE,     /* its address has too many half open */
};

/* The engine's half-open decision for the MI1 (ikev1/half_open.h). */
struct rxload_half_open {
	enum rxload_reason refusal;  /* RXLOAD_OK, RXLOAD_HALF_OPEN or RXLOAD_HALF_OPEN_SOURCE */
	bool load_exempt;            /* the load checks do not refuse this MI1 */
	const char *pool;            /* "%any", "configured peers" */
	unsigned in_pool, from_source;
};

/* What the decision looks at, gathered at one moment. */
struct rxload_facts {
	uint64_t queued_usec;        /* how long the datagram being handled waited */
	uint64_t since_drop_usec;    /* since the kernel last dropped one (UINT64_MAX: never) */
	unsigned helpers;            /* crypto helper threads (0: work runs in the loop) */
	unsigned helper_backlog;     /* jobs submitted, results not yet handled */
	struct rxload_half_open ho;
};

/* The decision alone (pure: unit-tested): RXLOAD_OK or why to refuse. */
enum rxload_reason rxload_verdict(const struct rxload_facts *f);
/* "event loop N ms behind" and the like, for the log line */
void rxload_reason_text(enum rxload_reason why, const struct rxload_facts *f, char *buf, size_t size);

/* --- fed by demux.c --- */

/* The sockets' loop: the flush timer of the log line runs on it. */
void rxload_set_event(struct sd_event *event);
/* A datagram is about to be handled: how long it waited in its socket
 * (0 when the kernel gave no time) and how many the kernel dropped on
 * that socket since the previous one. */
void rxload_datagram(uint64_t queued_usec, uint32_t new_drops);

/* --- asked by the engine for an MI1 that would create a responder state --- */

/* True: refuse it (counted, logged at most once a second). ho: what
 * the engine's half-open limits say of it. */
bool rxload_refuse_main_mode(const struct rxload_half_open *ho, const ip_address *from, uint16_t from_port);
/* New Main Modes refused since start (tests, status). */
uint64_t rxload_refused_total(void);
