/* pluto-loadgen: an IKEv1 initiator that negotiates many Main Mode +
 * Quick Mode tunnels against one responder, to measure the responder.
 * It speaks through pluto's own codec (src/daemon/wire), cryptography
 * (src/daemon/crypto) and proposal code (src/policy), so what it sends is
 * what pluto would send; it installs no SA anywhere.
 *
 * Files: lg.h (this), lg-exchange.c (one tunnel's messages and checks),
 * lg-net.c (the one UDP socket, many source addresses), lg-report.c
 * (results, failures by reason, /proc samples), lg-delete.c (taking
 * the tunnels down again, as a peer does), lg-flood.c (--flood: MI1s
 * with fresh cookies, an attacker's), lg-main.c (options and the closed
 * loop). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "daemon/crypto/crypto.h"
#include "daemon/wire/packet.h"
#include "policy/proposals.h"

#define NONCE_LEN 32             /* what we send, as pluto does */

/* What every tunnel proposes and proves with (options, parsed once). */
struct lg_config {
	uint32_t first_source;       /* host order; tunnel i speaks from first_source + i */
	uint32_t responder;          /* host order */
	uint16_t port;               /* the responder's IKE port (ours is the same) */
	unsigned n, in_flight;
	unsigned auth;               /* OAKLEY_PRESHARED_KEY or OAKLEY_RSA_SIG */
	char *psk;
	const char *fqdn;            /* our Main Mode ID; NULL: each tunnel's source address */
	EVP_PKEY *own_key, *peer_key;
	struct ike_proposals ike;
	struct esp_proposals esp;
	const struct alg *pfs_group; /* NULL: no PFS */
	uint32_t ike_lifetime, sa_lifetime;
	unsigned retransmit_ms;      /* first retransmission; doubled each time */
	unsigned tries;              /* sends of one message before giving up */
	unsigned timeout_ms;         /* a whole handshake, retransmissions included */
	bool delete_after;           /* --delete: after the run, delete every established tunnel */
	unsigned hold_ms;            /* --hold: ... that long after the summary line */
	unsigned delete_rate;        /* --delete-rate: tunnels a second; 0 = C a millisecond */
};

/* Where a tunnel stands: what it sent last and waits for the answer to. */
enum lg_step {
	LG_IDLE = 0,                 /* not started */
	LG_WAIT_MR1, LG_WAIT_MR2, LG_WAIT_MR3, LG_WAIT_QR1,
	LG_DONE,                     /* QR1 authenticated and checked, QI2 sent */
	LG_FAILED,
};
const char *lg_step_name(enum lg_step s);

/* Why a tunnel failed: one counter each (lg-report.c names them). */
enum lg_reason {
	LG_OK = 0,
	LG_TIMEOUT,                  /* no answer after every retransmission */
	LG_NOTIFY,                   /* the responder sent a notification (counted by type too) */
	LG_PROPOSAL,                 /* its SA is not one we proposed */
	LG_MALFORMED,                /* unparsable, missing payloads, bad lengths */
	LG_AUTH,                     /* HASH_R / SIG_R / HASH(2) does not verify */
	LG_DH,                       /* its KE value refused */
	LG_INTERNAL,                 /* our own failure (send, crypto) */
	LG_REASON__MAX
};
const char *lg_reason_name(enum lg_reason r);

/* The keying material of one handshake in flight (freed when it ends). */
struct lg_exchange {
	uint8_t icookie[8], rcookie[8];
	struct ike_choice ike;
	struct sa_payload *proposed;             /* MI1's SA, to check MR1 */
	uint8_t *sa_i_b;                         /* MI1's SA body (HASH_I/R) */
	size_t sa_i_b_len;
	struct dh_secret *dh;
	uint8_t g_i[CRYPTO_MAX_DH], g_r[CRYPTO_MAX_DH], gxy[CRYPTO_MAX_DH];
	size_t g_len, gxy_len;
	uint8_t ni[NONCE_LEN], nr[256];
	size_t nr_len;
	struct ike_keys keys;
	uint8_t iv[CRYPTO_MAX_BLOCK];            /* phase-1 chain; after MR3 the phase-2 seed */
	/* Quick Mode */
	uint32_t msgid, our_spi;
	uint8_t qm_iv[CRYPTO_MAX_BLOCK];
	struct sa_payload *qm_proposed;
	struct ipsec_choice ipsec;
	struct dh_secret *qm_dh;
	uint8_t qm_g_i[CRYPTO_MAX_DH], qm_g_r[CRYPTO_MAX_DH], qm_gxy[CRYPTO_MAX_DH];
	size_t qm_g_len, qm_gxy_len;
	uint8_t qm_ni[NONCE_LEN], qm_nr[256];
	size_t qm_nr_len;
	/* retransmission */
	uint8_t *last_sent;
	size_t last_sent_len;
	unsigned sends;
	uint64_t next_send_us;
};

/* What an established tunnel keeps to delete itself later (--delete):
 * the ISAKMP SA's keys and phase-2 IV seed, and the SPI we receive on. */
struct lg_sa {
	uint8_t rcookie[8];
	const struct alg *hash, *cipher;
	struct ike_keys keys;
	uint8_t iv[CRYPTO_MAX_BLOCK];
	uint32_t our_spi;
};

/* One tunnel: small once it is over (the exchange is freed). */
struct lg_tunnel {
	enum lg_step step;
	enum lg_reason reason;
	enum lg_step failed_at;      /* LG_FAILED: what it was waiting for */
	unsigned notify;             /* LG_NOTIFY: the type */
	uint32_t source;             /* host order */
	uint64_t start_us, end_us;
	uint8_t icookie[8];
	struct lg_exchange *x;
	uint8_t *qi2;                /* the last message, re-sent when QR1 comes again */
	size_t qi2_len;
	struct lg_sa *sa;            /* --delete: kept from QI2 until its Deletes are sent */
};

/* lg-exchange.c: start a tunnel (MI1 sent), take a datagram for it,
 * re-send or give up on a timer. Each returns with t->step moved on;
 * LG_DONE / LG_FAILED free t->x. */
void lg_start(const struct lg_config *cfg, struct lg_tunnel *t, uint64_t now_us);
void lg_receive(const struct lg_config *cfg, struct lg_tunnel *t, const uint8_t *buf, size_t len,
		uint64_t now_us);
void lg_timer(const struct lg_config *cfg, struct lg_tunnel *t, uint64_t now_us);
/* QI2s sent again for a repeated QR1 (the responder lost ours) */
extern unsigned lg_qi2_resent;

/* lg-net.c: one UDP socket on the IKE port of every address; datagrams
 * leave from the tunnel's own source (IP_PKTINFO), and the address a
 * reply came to names its tunnel. */
int lg_net_open(uint16_t port);
bool lg_net_send(uint32_t source, uint32_t dest, uint16_t port, const uint8_t *buf, size_t len);
/* One datagram: its length (0 = none waiting), *to the address it came to */
size_t lg_net_recv(uint8_t *buf, size_t cap, uint32_t *to);
int lg_net_fd(void);
/* --flood: let IP_PKTINFO name addresses that are not ours */
int lg_net_transparent(void);

uint64_t lg_now_us(void);

/* lg-delete.c: a tunnel's SA kept at QI2 (--delete), and its two
 * protected Informational Deletes (the IPsec SA, then the ISAKMP SA),
 * sent as a peer taking the tunnel down does. The SA is freed; false
 * when a message could not be built or sent. */
void lg_keep_sa(struct lg_tunnel *t);
bool lg_delete(const struct lg_config *cfg, struct lg_tunnel *t);

/* lg-report.c */
struct lg_report;
struct lg_report *lg_report_new(const char *pids, unsigned batch, const char *per_tunnel_file);
/* /proc samples of the responder: at the start, after every batch of
 * finished handshakes, at the end */
void lg_report_start(struct lg_report *r, uint64_t now_us);
void lg_report_finished(struct lg_report *r, const struct lg_tunnel *t, unsigned index, uint64_t now_us);
/* The summary; returns the number of failed tunnels. */
unsigned lg_report_end(struct lg_report *r, uint64_t now_us);

/* lg-flood.c: --flood RATE, MI1s with fresh cookies (-n of them) */
struct lg_flood {
	unsigned rate;               /* MI1s a second */
	unsigned sources;            /* from first_source + random 0..sources-1 */
	uint32_t forge;              /* host order; 0: none */
	unsigned forge_every;        /* every forge_every-th MI1 from forge */
};
int lg_flood(const struct lg_config *cfg, const struct lg_flood *f);
