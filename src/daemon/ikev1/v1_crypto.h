/* Main Mode's expensive crypto as one helper job (daemon/helpers):
 * our Diffie-Hellman key pair, g^xy, the SKEYID chain and the phase-1
 * IV, the peer's RSA signature and ours. The loop fills a job with
 * copies of the inputs (never a pointer into a state); a worker runs
 * the steps in order; the loop hands the results to the state the job
 * was made for (by serial) and runs the parked message again, whose
 * handler now finds the results ready (v1_crypto_ready) instead of
 * computing them. With no helper threads the same steps run inline. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/crypto/crypto.h"
#include "daemon/helpers/helpers.h"
#include "daemon/ikev1/ike_sa.h"

struct v1_msg;

#define V1_SIG_MAX 1024

struct v1_crypto_job {
	struct helper_job h;
	/* --- steps, run in this order --- */
	bool generate;               /* our key pair (our_pub) unless dh came in */
	bool derive;                 /* g^xy, SKEYID_*, the phase-1 IV */
	bool verify;                 /* the peer's signature over verify_hash */
	bool sign;                   /* ours over sign_hash (or HASH_x of the keys derived) */
	bool sign_derived;           /* sign HASH_x computed from the derived keys */

	/* --- inputs (copies) --- */
	const struct alg *group, *hash, *cipher;   /* static descriptor rows */
	unsigned key_bits, auth;
	bool initiator;
	size_t g_len;
	uint8_t peer_pub[CRYPTO_MAX_DH];
	uint8_t ni[NONCE_LEN_MAX], nr[NONCE_LEN_MAX];
	size_t ni_len, nr_len;
	uint8_t *psk;                /* wiped on release */
	size_t psk_len;
	uint8_t icookie[8], rcookie[8];
	uint8_t *sa_i_b, *id_b;      /* sign_derived: HASH_x's SAi_b and our ID body */
	size_t sa_i_b_len, id_b_len;
	EVP_PKEY *verify_key, *sign_key;   /* references of their own */
	uint8_t verify_hash[CRYPTO_MAX_HASH], sign_hash[CRYPTO_MAX_HASH];
	size_t hash_len;
	uint8_t verify_sig[V1_SIG_MAX];
	size_t verify_sig_len;

	/* --- in and out: our DH secret (moved from the state and back) --- */
	struct dh_secret *dh;
	uint8_t our_pub[CRYPTO_MAX_DH];

	/* --- results --- */
	int generate_status, derive_status, sign_status;
	bool dh_refused;             /* derive: the peer's value was refused (why) */
	char why[160];
	uint8_t gxy[CRYPTO_MAX_DH];
	size_t gxy_len;
	struct ike_keys keys;
	uint8_t iv[CRYPTO_MAX_BLOCK];
	bool verified;
	uint8_t sig[V1_SIG_MAX];
	size_t sig_len;
};

/* A job for state s (its serial), zeroed; urgent: not a new Main Mode. */
struct v1_crypto_job *v1_crypto_job_new(const struct v1_state *s, bool urgent);
/* Wipes and frees (what release() does). */
void v1_crypto_job_free(struct v1_crypto_job *job);

/* Runs the job: true when its results are there now (no helpers: it ran
 * inline); false when a helper has it: s->crypto_job is set, the handler
 * returns STF_SUSPEND and the dispatcher parks the message. */
bool v1_crypto_run(struct v1_state *s, struct v1_crypto_job *job);
/* The results of the job that suspended s's message, handed over when
 * the message comes again (NULL when there are none); the caller owns
 * the job. */
struct v1_crypto_job *v1_crypto_ready(struct v1_state *s);

/* The dispatcher's side: the message that waits for s's job (copied),
 * and dropping what a state still holds of both (state free hook). */
void v1_crypto_park(struct v1_state *s, const struct v1_msg *m);
void v1_crypto_state_free(struct v1_state *s);
/* Runs the parked message through the dispatcher again (ikev1.c). */
void v1_replay(struct v1_state *s, const uint8_t *packet, size_t len, const ip_address *local,
	       uint16_t local_port, const ip_address *from, uint16_t from_port);
