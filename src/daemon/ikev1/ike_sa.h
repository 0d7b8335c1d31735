/* The IKEv1 engine's per-state data: what one ISAKMP SA (Main Mode) or one
 * phase-2 exchange (Quick Mode, protected Informational) has to remember
 * between messages. struct state (state.h) holds what the control plane
 * shows; struct v1_state hangs off it (st->v1) and is freed by the state
 * free hook, whoever deletes the state.
 *
 * Lookups on the hot path are hashed: ISAKMP states by initiator cookie
 * (the responder cookie is compared in the chain, so a first message with
 * a zero responder cookie finds its state too), phase-2 states by
 * cookies + message id. */
#pragma once
#include "common/hindex.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/id.h"
#include "common/ip.h"
#include "daemon/crypto/crypto.h"
#include "daemon/ikev1/msgid_memory.h"   /* enum msgid_lane */
#include "daemon/ikev1/half_open.h"
#include "daemon/state.h"
#include "policy/proposals.h"

struct sd_event_source;
struct sd_event;
struct dpd;
struct address_pool;
struct v1_crypto_job;
struct v1_parked;

#define NONCE_LEN_OURS 32        /* what we send; RFC 2409 5: 8..256 accepted */
#define NONCE_LEN_MIN 8
#define NONCE_LEN_MAX 256

struct v1_state {
	struct state *st;
	uint8_t icookie[8], rcookie[8];
	uint32_t msgid;              /* phase 2: this exchange's message id; 0 for Main Mode */
	unsigned isakmp_serial;      /* phase 2: the ISAKMP SA protecting it */
	ip_address local;            /* our address the peer talks to */
	uint16_t local_port;
	/* a handler is running: the state's new name is set after it, so
	 * the "established" change waits for that (no listener sees
	 * established under the old name) */
	bool in_transition;
	bool change_pending;
	/* a responder Main Mode not yet established: its slot (half_open.h) */
	struct half_open_slot half_open;   /* HALF_OPEN_OWNER finds the state back */

	/* Main Mode */
	struct ike_choice ike;
	bool have_keys;              /* SKEYID_* derived, messages may be encrypted */
	/* ISAKMP SA only (NULL for a phase-2 exchange, which uses its
	 * parent's): SKEYID_* with the key, and what the peer's ID payload
	 * said. One block made with the state, wiped when freed: a phase-2
	 * state, half of every tunnel's states, does not carry their ~580
	 * bytes. The block also points to the message IDs the SA used
	 * (v1_msgid_used below). */
	struct ike_keys *keys;
	uint8_t *sa_i_b;             /* body of the initiator's SA payload (for HASH_I/R) */
	size_t sa_i_b_len;
	struct sa_payload *proposed; /* initiator: what we proposed, to check the reply */
	struct pluto_id *peer_id;
	unsigned peer_caps;          /* enum vid_cap: what the peer's Vendor IDs announced */
	struct dpd *dpd;             /* dead peer detection (dpd.h), NULL while it does not watch */
	unsigned nat;                /* enum natt_flags (nat_traversal.h): what NAT-D found */
	struct sd_event_source *keepalive_timer;   /* NAT-T keepalives while we are behind a NAT */
	ip_address peer_natoa;       /* Quick Mode: the peer's original address (NAT-OA), if sent */

	/* CBC IV: for an ISAKMP SA the current phase-1 chain (after phase 1:
	 * the last block of the last Main Mode message, the seed of every
	 * phase-2 IV); for a phase-2 exchange its own chain. */
	uint8_t iv[CRYPTO_MAX_BLOCK];
	size_t iv_len;

	/* Diffie-Hellman (Main Mode, or Quick Mode with PFS) and the nonces:
	 * only while the exchange runs. They point into one allocation
	 * (struct v1_exchange_values, CRYPTO_MAX_DH / NONCE_LEN_MAX bytes
	 * each) made with the state and wiped and freed by
	 * v1_exchange_done once it is established: an established SA
	 * keeps only its keys. NULL (lengths 0) after that. */
	struct dh_secret *dh;
	uint8_t *g_i, *g_r;
	size_t g_len;
	uint8_t *gxy;
	size_t gxy_len;

	uint8_t *ni, *nr;
	size_t ni_len, nr_len;
	struct v1_exchange_values *exchange_values;

	/* Quick Mode */
	struct ipsec_choice ipsec;
	struct sa_payload *qm_proposed;
	const struct alg *pfs_group;
	uint32_t our_spi;            /* we receive on it (ESP or AH) */
	uint16_t our_cpi;
	ip_subnet our_client, peer_client;   /* the IDs of this exchange */
	uint8_t *keymat_in, *keymat_out;     /* for the kernel layer; wiped when freed */
	size_t keymat_len;

	/* retransmission and duplicates */
	uint8_t *last_sent;          /* the last message we sent, as sent */
	size_t last_sent_len;
	uint8_t *last_recv;          /* the last message we accepted, as received */
	size_t last_recv_len;
	unsigned retransmits;        /* how many times last_sent was re-sent */
	bool timer_is_timeout;       /* retransmit_timer only ends a silent responder state */
	struct sd_event_source *retransmit_timer;
	struct sd_event_source *expire_timer;
	uint64_t expire_at_mono;

	/* Transaction exchanges over this ISAKMP SA (transaction.c): XAUTH
	 * and Mode Config run on the ISAKMP state itself, one exchange pair
	 * at a time, each with its own message id and CBC chain (derived
	 * from the phase-1 IV in iv[], which stays the seed of phase 2) */
	uint32_t tx_msgid;           /* the current exchange's message id, 0 = none yet */
	uint8_t tx_iv[CRYPTO_MAX_BLOCK];
	enum state_name tx_next;     /* set by a handler: the state to go to instead of its row's
					(the handler armed its timer); 0 = the row's */
	uint16_t tx_identifier;      /* the ATTR identifier of our last request */
	unsigned xauth_tries;        /* server: REQUESTs sent for this SA (at most XAUTH_TRIES) */
	bool xauth_failed;           /* server: STATUS FAIL sent, the ACK ends the SA */
	bool tx_done;                /* XAUTH and Mode Config finished (or inherited by a rekey) */
	bool xauth_again;            /* client: the gateway runs XAUTH again on this SA although it
					inherited it (strongSwan on a rekey): nothing follows it */
	struct address_pool *pool;   /* server: the pool lending this peer its address, NULL = none */
	char *lease_identity;        /* ... to this identity (an XAUTH user or a peer id), NULL = none */

	/* keying attempts and replacement (rekey.c) */
	unsigned keying_attempt;     /* initiator: 1 = first attempt (keyingtries) */
	unsigned replacing;          /* serial of the SA this negotiation replaces, 0 = none */
	bool phase1_only;            /* Main Mode replacing an ISAKMP SA: no Quick Mode follows */
	struct sd_event_source *replace_timer;

	/* Main Mode crypto in a helper thread (v1_crypto.h): the job running
	 * for the message parked here, then its results until the message,
	 * run again, takes them */
	struct v1_crypto_job *crypto_job;
	struct v1_crypto_job *crypto_done;
	struct v1_parked *parked;

	/* the indexes every packet is looked up in (ike_state.c) */
	struct hlink cookie_link;    /* ISAKMP SAs by initiator cookie */
	struct hlink msgid_link;     /* phase-2 exchanges by (icookie, message ID) */
};

/* A new state with engine data attached. */
struct v1_state *v1_state_new(struct connection *c, enum state_kind kind, bool initiator,
			      const ip_address *peer, uint16_t peer_port,
			      const ip_address *local, uint16_t local_port);
void v1_state_free_hook(struct state *st);
/* The exchange that established s is over: free what only the exchange
 * needed (DH values, nonces, the SA payloads it proposed or answered)
 * and, unless keep_last_sent (the peer may send its last message again
 * and gets ours again, or we still retransmit), our last message.
 * Idempotent. */
void v1_exchange_done(struct v1_state *s, bool keep_last_sent);

/* ISAKMP SA by cookies. A zero cookie in the query or in the state acts
 * as a wildcard for the responder cookie (first exchange of Main Mode). */
struct v1_state *v1_find_isakmp(const uint8_t icookie[8], const uint8_t rcookie[8]);
void v1_hash_isakmp(struct v1_state *s);
/* Called after the responder cookie of an initiator's state became known. */
void v1_rehash_isakmp(struct v1_state *s);
struct v1_state *v1_find_phase2(const uint8_t icookie[8], const uint8_t rcookie[8], uint32_t msgid);
void v1_hash_phase2(struct v1_state *s);

/* Message IDs over an ISAKMP SA (RFC 2408 3.1). used: the ID is one
 * that isakmp or its peer already used (remembered, bounded). remember:
 * an authenticated message of the peer, or one of ours, used it. new:
 * a fresh random ID for an exchange we start, neither used nor a
 * running phase-2 exchange's, remembered at once. */
bool v1_msgid_used(const struct v1_state *isakmp, uint32_t msgid);
void v1_msgid_remember(struct v1_state *isakmp, enum msgid_lane lane, uint32_t msgid);
uint32_t v1_msgid_new(struct v1_state *isakmp, enum msgid_lane lane);

/* The ISAKMP SA of a phase-2 state (NULL when it is gone). */
struct v1_state *v1_parent(const struct v1_state *s);
bool cookie_is_zero(const uint8_t cookie[8]);

/* Timers (sd-event, CLOCK_MONOTONIC). */
void v1_timers_init(struct sd_event *event);
void v1_arm_retransmit(struct v1_state *s);
void v1_stop_retransmit(struct v1_state *s);
/* Hard expiry: deletes the state after `seconds`; also sets the
 * CLOCK_REALTIME expires_at shown in status. */
void v1_arm_expiry(struct v1_state *s, uint64_t seconds);
/* A one-shot CLOCK_MONOTONIC timer usec from now calling fn with s as
 * userdata (*src re-armed when it exists; release it with
 * sd_event_source_disable_unref in the free hook); false when it cannot
 * be armed (logged). */
bool v1_arm_timer(struct v1_state *s, struct sd_event_source **src, uint64_t usec,
		  int (*fn)(struct sd_event_source *src, uint64_t usec, void *userdata));
uint64_t v1_realtime_now(void);
/* CLOCK_MONOTONIC microseconds, the event loop's idea of now. */
uint64_t v1_mono_now(void);
/* A responder state that stops hearing from its peer is dropped after this. */
void v1_arm_responder_timeout(struct v1_state *s);

/* The state a half-open slot (struct v1_state.half_open) is in. */
#define HALF_OPEN_OWNER(slot) \
	((struct v1_state *)(void *)((char *)(slot) - offsetof(struct v1_state, half_open)))
