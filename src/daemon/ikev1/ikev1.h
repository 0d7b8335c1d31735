/* The IKEv1 engine (RFC 2409 Main Mode and Quick Mode, RFC 2408
 * Informational exchanges): what ikev1_states.c (the state table),
 * ikev1.c (the dispatcher), ikev1_send.c (sending, notifications),
 * ikev1_sa.c (SA lifecycle, kernel glue, engine ops), main_mode.c,
 * quick_mode.c, informational.c and ikev1_conn.c share. Nothing outside the engine includes this; the
 * control core reaches the engine through engine.h. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/errors.h"
#include "daemon/ikev1/ike_sa.h"
#include "daemon/wire/packet.h"

struct sd_event;
struct connection;
struct iface;
struct secret;

/* Registers the engine (engine.h), the packet handler (demux.h), the state
 * free hook and the shutdown hook that sends Deletes. Call once, after
 * the kernel backend is chosen. */
void ikev1_init(struct sd_event *event);
extern struct sd_event *ikev1_loop;

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* --- timing (the man page: "a message will be sent at most three times")
 * A request we sent is re-sent 2 s after the first send and 4 s after the
 * second; 8 s after the third send the negotiation is given up
 * ("031 max number of retransmissions (2) reached STATE_..."): a dead peer
 * is declared after 14 s. A responder re-sends its last reply only when
 * the peer's request comes again (as strongSwan), and drops a negotiation
 * that has not completed after RESPONDER_TIMEOUT. */
#define RETRANSMIT_MAX 2
#define RESPONDER_TIMEOUT_USEC (30ULL * 1000000ULL)
/* Half-open responder ISAKMP SAs (MR1 sent, not yet established) are
 * what a flood of MI1s with forged source addresses creates: each costs a
 * state, DH buffers and, for a %any template, a connection instance.
 * How many there may be, per pool and per source, and how long they live:
 * ikev1/half_open.h (--half-open-max, default 1024: some 10 MB, at most
 * some 140 MB if every MI1 is a 64 KB datagram, kept twice). The other
 * overload checks of a new MI1 (event loop behind, kernel drops, crypto
 * helpers' queue) are daemon/rxload.h's. */
/* How many there are now (tests). */
unsigned ikev1_half_open(void);
/* The SA lifecycle's hooks: state free hook, engine ops, shutdown. */
void v1_sa_init(struct sd_event *event);
uint64_t ikev1_retransmit_delay(unsigned retransmits_done);

/* Timer and state-deletion callbacks (ike_state.c calls them). */
void ikev1_retransmit(struct v1_state *s);
void ikev1_responder_timeout(struct v1_state *s);
void ikev1_expire(struct v1_state *s);
void ikev1_state_gone(struct state *st);

/* --- one received message --- */
struct v1_msg {
	struct iface *ifp;
	ip_address from;
	uint16_t from_port;
	const uint8_t *packet;       /* as received */
	size_t packet_len;
	struct msg_digest md;        /* payloads point into body[] */
	uint8_t *body;               /* decrypted copy of the body, or NULL */
	size_t body_len;
	uint8_t new_iv[CRYPTO_MAX_BLOCK];   /* IV after decrypting, committed on success */
	bool encrypted;
	unsigned notify;             /* what to answer with on STF_FAIL (0 = nothing) */
};

/* Handler results: what the dispatcher does next. */
enum stf {
	STF_OK,          /* go to the row's next state; the handler sent what it had to */
	STF_IGNORE,      /* drop the message (already logged), state unchanged */
	STF_FAIL,        /* drop it; answer with m->notify when set; state unchanged */
	STF_FATAL,       /* negotiation over: the state is deleted (handler logged why) */
	STF_SUSPEND,     /* a crypto helper has the work (v1_crypto.h): the message is parked
			    and runs again when the results are back; state unchanged */
};

typedef enum stf (*v1_handler)(struct v1_state *s, struct v1_msg *m);

/* Payload masks: bit (1 << PT_x), every type below 32 */
#define P(t) (1u << (t))

/* --- sending --- */
/* Finish pb (header already first), pad and encrypt the body with the
 * ISAKMP SA's key and *iv (updated) when encrypt, send it to the peer,
 * and keep it as s's last message (for retransmission). */
bool v1_send_msg(struct v1_state *s, struct pbuf *pb, bool encrypt, uint8_t *iv, bool keep);
/* Re-send s->last_sent. */
void v1_resend(struct v1_state *s);
typedef bool (*v1_send_hook_fn)(const ip_address *local, uint16_t local_port, const ip_address *peer,
				uint16_t peer_port, const uint8_t *buf, size_t len);
/* Tests only (the fuzz harness): when set, every datagram goes to the
 * hook instead of a socket, and its result is the send's result. */
extern v1_send_hook_fn v1_send_hook;
/* Raw datagram from our address (local) to a peer. */
bool v1_send_raw(const ip_address *local, uint16_t local_port, const ip_address *peer,
		 uint16_t peer_port, const uint8_t *buf, size_t len);
/* An unprotected notification (phase 1 errors: before keys exist or when
 * the peer's message could not be decrypted). */
void v1_send_plain_notify(const ip_address *local, uint16_t local_port, const ip_address *peer,
			  uint16_t peer_port, const uint8_t icookie[8], const uint8_t rcookie[8],
			  unsigned type);
/* HASH(1)-protected Informational exchanges over the ISAKMP SA isakmp. */
void v1_send_protected_notify(struct v1_state *isakmp, uint8_t protocol, const uint8_t *spi,
			      uint8_t spi_size, unsigned type, const uint8_t *data, size_t data_len);
void v1_send_delete(struct v1_state *isakmp, uint8_t protocol, const uint8_t *spi, uint8_t spi_size);

/* prf(SKEYID_a, [prefix] M-ID | parts) for HASH(1)/(2)/(3) */
bool v1_hash_skeyid_a(const struct v1_state *isakmp, uint32_t msgid, bool zero_prefix,
		      const struct chunk *parts, size_t n, uint8_t *out);
/* The bytes after the first payload (HASH) up to the end of the last
 * payload of a decrypted message (padding excluded). */
struct chunk v1_after_hash(const struct v1_msg *m);
/* The ISAKMP SA whose keys protect s's messages: s itself in Main Mode,
 * its parent in phase 2 (NULL when that is gone). */
struct v1_state *v1_keyed_isakmp(struct v1_state *s);
/* Answer a refused message with m->notify (nothing when 0): protected
 * once the ISAKMP SA is established, unprotected before. */
void v1_answer_notify(struct v1_state *s, struct v1_msg *m);

/* --- progress and failure --- */
/* "STATE_MAIN_I2: what" to every listener (RC_NEW_STATE + state) */
void v1_progress(struct v1_state *s, const char *what);
/* The negotiation is over for the connection's listeners: log at rc and
 * end their waits with NegotiationFailed. */
void v1_fail(struct connection *c, struct state *st, unsigned rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A state is established: D-Bus-visible fields and newest_* updated. */
void v1_established(struct v1_state *s);
/* The newest established ISAKMP SA of c with that peer, NULL when none:
 * what new exchanges (Quick Mode, Deletes, DPD) use, never a superseded
 * one (the man page). */
struct v1_state *v1_newest_isakmp(struct connection *c, const ip_address *peer);
/* Delete one state; send_delete: tell the peer first (IPsec SAs before
 * their ISAKMP SA). */
void v1_delete_state(struct state *st, bool send_delete);
/* Install one direction of s's IPsec SA (routing the connection first
 * when needed). A failure is logged on the connection and state and ends
 * whoever waits for it; false then, and the SA must not be used. */
bool v1_install_sa(struct v1_state *s, bool inbound, bool responder);
/* Both directions are installed: the eroute goes in, updown "up" runs. */
void v1_ipsec_sa_up(struct v1_state *s);
/* Move st to another connection (ID or subnet switching). */
void v1_switch_connection(struct state *st, struct connection *c);

/* --- keying attempts and rekeying (rekey.c) ---
 * What a negotiation we start is for: which attempt it is (keyingtries)
 * and which SA it replaces (its policy, the man page says, is taken from
 * the old SA). NULL where a function takes one: a first attempt, no
 * replacement. */
struct keying {
	unsigned attempt;            /* 1 = first */
	unsigned replacing;          /* serial of the SA being replaced, 0 = none */
	bool phase1_only;            /* an ISAKMP SA's replacement: no Quick Mode after it */
};
/* The established SA s lives `lifetime` seconds: arm its replacement
 * (unless rekey=no) and its hard expiry, and publish ExpiresAt/RekeyAt. */
void v1_sa_lifetime(struct v1_state *s, uint64_t lifetime);
/* Seconds before the end of an SA's life at which it is replaced: the man
 * page's rekeymargin plus fuzz_draw percent (0..rekeyfuzz, drawn by the
 * caller) of it for an SA we initiated, half of rekeymargin for one the
 * peer initiated; capped at half (a quarter for the peer's SAs) of the
 * lifetime so a short-lived SA is not replaced at once. */
uint64_t rekey_margin_for(uint64_t lifetime, uint64_t rekeymargin, unsigned fuzz_draw, bool initiator);
/* An initiator's negotiation ran out of retransmissions: when keyingtries
 * allows, log "starting keying attempt N of ...", release whoever waits,
 * start the next attempt and return true (s is deleted). */
bool v1_keying_retry(struct v1_state *s);
void v1_rekey_free(struct v1_state *s);

/* --- Main Mode (main_mode.c) --- */
int main_outI1(struct connection *c, const struct keying *k, struct ctl_error *err);
enum stf main_inI1_outR1(struct v1_state *s, struct v1_msg *m);
enum stf main_inR1_outI2(struct v1_state *s, struct v1_msg *m);
enum stf main_inI2_outR2(struct v1_state *s, struct v1_msg *m);
enum stf main_inR2_outI3(struct v1_state *s, struct v1_msg *m);
enum stf main_inI3_outR3(struct v1_state *s, struct v1_msg *m);
enum stf main_inR3(struct v1_state *s, struct v1_msg *m);

/* --- Quick Mode (quick_mode.c) --- */
/* Start Quick Mode for c over the established ISAKMP SA isakmp. */
int quick_outI1(struct v1_state *isakmp, struct connection *c, const struct keying *k,
		struct ctl_error *err);
enum stf quick_inI1_outR1(struct v1_state *s, struct v1_msg *m);
enum stf quick_inR1_outI2(struct v1_state *s, struct v1_msg *m);
enum stf quick_inI2(struct v1_state *s, struct v1_msg *m);

/* --- Informational (informational.c) --- */
/* An Informational exchange, protected (isakmp != NULL, m decrypted and
 * its HASH(1) verified by the dispatcher) or not (isakmp may be NULL). */
enum stf informational_in(struct v1_state *isakmp, struct v1_msg *m);

/* --- the transaction exchange: XAUTH and Mode Config (transaction.c,
 * xauth.c, modecfg.c) ---
 * They run on the ISAKMP state after Main Mode, as the ends' xauthserver/
 * xauthclient/modecfgserver/modecfgclient say: the server asks for the
 * user (three tries), then Mode Config pulls (client REQUEST, server
 * REPLY) or pushes (server SET, client ACK); the client starts Quick
 * Mode when all of it is done. */
#define XAUTH_TRIES 3
/* Main Mode reached the established state: true when a transaction now
 * runs or is awaited (the client's Quick Mode waits for its end). */
bool transaction_start(struct v1_state *s);
/* A transaction row reached a state where its exchange is done: the
 * next one starts, or (client) Quick Mode. */
void transaction_next(struct v1_state *s);
/* A Transaction message came to an established client SA that inherited
 * XAUTH from the SA it rekeyed: true when this end is an XAUTH client, the
 * SA then waits in STATE_XAUTH_I0 for the gateway's XAUTH as after Main
 * Mode (strongSwan runs XAUTH on every new ISAKMP SA); nothing follows. */
bool transaction_again(struct v1_state *s);
/* The IV that decrypts a transaction message with this message id: the
 * current exchange's chain, or a new one derived into fresh. */
uint8_t *transaction_iv(struct v1_state *s, uint32_t msgid, uint8_t *fresh);
/* Send an ATTR message (HASH, ATTR with attrs[len]) over s: a new
 * exchange (fresh message id) when new_exchange, else the answer in
 * the current one. Kept for re-sending. */
bool transaction_send(struct v1_state *s, bool new_exchange, uint8_t cfg_type, uint16_t identifier,
		      const uint8_t *attrs, size_t len);
/* The ATTR payload of m, parsed (the row guarantees one); false (logged)
 * when its type is not one of the want mask (1 << enum cfg_msg_type). */
struct cfg_attrs;
bool transaction_attrs(struct v1_state *s, struct v1_msg *m, unsigned want, struct cfg_attrs *out);
/* Free hook: the lease goes back to its pool. */
void transaction_free(struct v1_state *s);
/* Start Quick Mode after phase 1 (and the transaction). */
void v1_start_quick(struct v1_state *s);

void xauth_server_start(struct v1_state *s);
enum stf xauth_inREPLY(struct v1_state *s, struct v1_msg *m);     /* server */
enum stf xauth_inACK(struct v1_state *s, struct v1_msg *m);       /* server */
enum stf xauth_inREQUEST(struct v1_state *s, struct v1_msg *m);   /* client */
enum stf xauth_inSET(struct v1_state *s, struct v1_msg *m);       /* client: SET or a new REQUEST */
/* Mode Config: the phase each side enters after XAUTH (or Main Mode) */
/* true when a phase now runs, or the state was deleted (no address) */
bool modecfg_start(struct v1_state *s);
enum stf modecfg_inREQUEST(struct v1_state *s, struct v1_msg *m); /* server, pull */
enum stf modecfg_inACK(struct v1_state *s, struct v1_msg *m);     /* server, push */
enum stf modecfg_inREPLY(struct v1_state *s, struct v1_msg *m);   /* client, pull */
enum stf modecfg_inSET(struct v1_state *s, struct v1_msg *m);     /* client, push */

/* --- connections (ikev1_conn.c) --- */
/* Our identity for c: leftid/rightid, else the host address. */
void v1_our_id(const struct connection *c, struct pluto_id *id);
/* The identity we expect of the peer; ID_ANY when any will do. */
void v1_peer_id(const struct connection *c, struct pluto_id *id);
const struct secret *v1_find_psk(const struct connection *c);
const struct secret *v1_find_rsa(const struct connection *c);
/* The peer's public key for c (rightrsasigkey, else the key store by id);
 * EVP_PKEY owned by the caller (free it). NULL when none. */
EVP_PKEY *v1_peer_pubkey(const struct connection *c, const struct pluto_id *peer_id);
/* Authentication methods c can use now (OAKLEY bit mask, proposals.h). */
unsigned v1_auth_mask(const struct connection *c, const struct pluto_id *peer_id);
/* Responder: the connection for a first Main Mode message from `from` to
 * `local`: an exact one, else an instance of a %any template. */
struct connection *v1_conn_for_mm(const ip_address *local, const ip_address *from);
/* Its two halves, so that an MI1 is judged before an instance is made:
 * the connection for from (a configured right= or an instance; NULL: none), the %any template
 * (NULL: none), and the template's instance for from. */
struct connection *v1_conn_configured_for_mm(const ip_address *local, const ip_address *from);
struct connection *v1_template_for_mm(const ip_address *local);
struct connection *v1_instantiate_for_mm(struct connection *t, const ip_address *from);
/* c (an instance made for an MI1) has an established SA: its lines are
 * no longer limited as an unauthenticated peer's. */
void v1_instance_authenticated(struct connection *c);
/* Responder after the peer's ID: c itself if its ids fit, or a better
 * connection that uses the same authentication (instantiated when %any);
 * NULL when none fits. */
struct connection *v1_conn_refine_id(struct connection *c, const ip_address *peer,
				     const struct pluto_id *peer_id,
				     unsigned auth, const struct secret *psk_used);
/* Responder in Quick Mode: c if the clients fit, else another connection
 * with the same hosts/ids and these clients (instantiated when %any). */
struct connection *v1_conn_for_qm(struct connection *c, const ip_address *peer,
				  const struct pluto_id *peer_id, const ip_subnet *our_client,
				  const ip_subnet *peer_client);
/* The client of an end: its subnet, else its host as /32 or /128. */
void v1_end_client(const struct connection *c, bool ours, ip_subnet *out);
/* c may have lost its last state: collect it (deferred) if it is an
 * instance with none. */
void v1_schedule_instance_gc(struct connection *c);
void v1_instances_shutdown(void);

/* ID payload <-> pluto_id / subnet */
bool v1_id_from_payload(const struct payload *p, struct pluto_id *id, char *why, size_t why_len);
/* The ID payload body (type, protocol 0, port 0, data) of id, for
 * HASH_I/HASH_R; returns its length. */
size_t v1_id_body(const struct pluto_id *id, uint8_t out[4 + 256]);
size_t v1_emit_id(struct pbuf *pb, const struct pluto_id *id);
bool v1_subnet_from_id(const struct payload *p, ip_subnet *out, char *why, size_t why_len);
size_t v1_emit_client_id(struct pbuf *pb, const ip_subnet *net);
