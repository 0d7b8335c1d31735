/* The whole IKE receive path on hostile datagrams: "the daemon never
 * crashes on what a peer sends". An in-process daemon core (connections,
 * secrets, the IKEv1 engine with its sd-event loop) gets each input as
 * one or more UDP datagrams through the packet handler the engine gives
 * demux, from a fake interface; v1_send_hook catches what it answers, so
 * nothing touches the network.
 *
 * To get past cookies, decryption and HASHes into the deep handlers, the
 * harness can play a correct initiator (real MI1/MI2/MI3, QI1/QI2 built
 * with the packet and crypto APIs and the shared PSK) for the first
 * messages and let the input replace or mutate the next one, which the
 * harness then encrypts with the real keys. Input layout:
 *
 *   byte 0: bits 0-2 stage: 0 = raw datagrams from the peer;
 *             1..5 = the harness plays steps before it, the input
 *             replaces step N (1 MI2, 2 MI3, 3 QI1, 4 QI2, 5 anything
 *             after Quick Mode, each chunk the PLAINTEXT of a message
 *             whose byte 0 picks exchange type, encryption, message id,
 *             a HASH the harness writes, or the harness's own QI1/QI2:
 *             see free_form; the way into Quick Mode, Informational,
 *             XAUTH and Mode Config handlers); 6 = mutate a correct
 *             message (chunk byte picks which); 7 = complete
 *             negotiation, then raw datagrams with the right cookies
 *           bits 3-4 peer: road warrior with IP id / with FQDN id (the
 *             engine switches connection) / the fixed peer (PFS) / a
 *             remote-access client of an XAUTH + Mode Config gateway
 *             (stages 3-5: after Main Mode the chunks are free-form, as
 *             Quick Mode waits for the Transaction exchange)
 *           bit 5: recompute HASH_I / HASH(1) / HASH(3) after the input
 *           bits 6-7: 0 = propose every ike= proposal, k = only the k-th;
 *             with the remote-access peer (one proposal) bit 7 turns the
 *             roles round: the gateway mode, pluto initiating as XAUTH +
 *             Mode Config client, the harness answering MR1..MR3 (stages
 *             1-3: the input replaces that one), then free-form chunks
 *   then chunks, each with a 2-byte big-endian length prefix (the last
 *   one takes what is left).
 *
 * The randomness of both sides is a fixed sequence restarted for each
 * input (fixed_rand), so an input meets the same cookies and keys every
 * time it runs.
 *
 * The harness asserts what a peer can rely on: the correct messages are
 * answered and lead to established states, the keys the engine derives
 * are the ones the RFC gives (HASH_R, HASH(2) verify), every datagram
 * goes back to the peer that sent the input, the PSK never appears in a
 * log line; between inputs every state and instance is deleted, so
 * LeakSanitizer sees whatever the engine forgets to free. */
/* the harness replaces OpenSSL's random source (RAND_set_rand_method, a
 * 1.1 API that 3.0 keeps as deprecated) */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <systemd/sd-event.h>

#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/demux.h"
#include "daemon/ikev1/ike_sa.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
#include "daemon/secrets.h"
#include "daemon/state.h"

#define LOCAL "127.0.0.1"
#define RW_PEER "127.0.0.2"
#define FIXED_PEER "127.0.0.3"
#define RA_PEER "127.0.0.4"
#define GW_PEER "127.0.0.5"
#define RW_PSK "fuzz-roadwarrior-secret"
#define FIXED_PSK "fuzz-fixed-peer-secret"
#define RA_PSK "fuzz-remote-access-secret"
#define GW_PSK "fuzz-gateway-secret"
#define MAX_CHUNKS 8
#define MSGID_QM 0x51a7e001u

static sd_event *loop;
static packet_handler_fn handler;
static struct iface fake_iface;
static size_t base_connections;
/* the input's peer is the remote-access client: the gateway holds Quick
 * Mode until XAUTH and Mode Config are done, so the steps stop after MI3 */
static bool remote_access;

/* --- randomness ---
 * Every byte of randomness (the engine's cookies, nonces, SPIs and
 * message ids, both sides' DH secrets) comes from a generator restarted
 * with the same seed before each input: an input always meets the same
 * keys, so a crash reproduces and the fuzzer's coverage feedback is about
 * the input, not about the dice. */
static uint64_t rng_state;

static int fixed_rand_bytes(unsigned char *buf, int num)
{
	for (int i = 0; i < num; i++) {
		/* splitmix64: statistically fine, and no secret is needed here */
		uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
		buf[i] = (unsigned char)(z ^ (z >> 31));
	}
	return 1;
}

static int fixed_rand_status(void)
{
	return 1;
}

static const RAND_METHOD fixed_rand = {
	.bytes = fixed_rand_bytes,
	.pseudorand = fixed_rand_bytes,
	.status = fixed_rand_status,
};

/* --- what the engine sends --- */
static uint8_t *reply;
static size_t reply_len;
static const ip_address *expected_peer;

static bool capture(const ip_address *local, uint16_t local_port, const ip_address *peer,
		    uint16_t peer_port, const uint8_t *buf, size_t len)
{
	(void)local;
	(void)local_port;
	(void)peer_port;
	/* every answer goes to the one peer this input came from */
	if (expected_peer && !ip_equal(peer, expected_peer))
		abort();
	if (len < ISAKMP_HDR_LEN || len > 65535)
		abort();
	/* the gateway's XAUTH/Mode Config requests follow MR3 at once: the
	 * reply the steps check stays the Main Mode one */
	if (buf[18] == XCHG_TRANSACTION && reply)
		return true;
	free(reply);
	reply = malloc(len);
	if (!reply)
		abort();
	memcpy(reply, buf, len);
	reply_len = len;
	return true;
}

/* the input itself carries a PSK's text (the fuzzer learns it from the
 * check below): a peer's ID that says it is logged rightly */
static bool psk_in_input;
static bool verbose;     /* FUZZ_IKEV1_VERBOSE=1: show the log (reproducing a crash) */

static void check_log(int priority, const char *line, void *ud)
{
	(void)priority;
	(void)ud;
	if (verbose)
		fprintf(stderr, "%s\n", line);
	if (!psk_in_input && (strstr(line, RW_PSK) || strstr(line, FIXED_PSK) || strstr(line, RA_PSK) ||
			      strstr(line, GW_PSK)))
		abort();
}

/* --- the initiator the harness plays --- */
struct peer {
	ip_address addr;
	struct connection *conn;     /* the responder's connection (proposals) */
	bool fqdn_id;
	const char *psk;
	uint8_t icookie[8], rcookie[8];
	struct sa_payload proposed;
	uint8_t sa_i_b[4096];
	size_t sa_i_b_len;
	struct ike_choice ike;
	struct dh_secret *dh;
	uint8_t g_i[CRYPTO_MAX_DH], g_r[CRYPTO_MAX_DH], gxy[CRYPTO_MAX_DH];
	size_t g_len, gxy_len;
	uint8_t ni[32], nr[NONCE_LEN_MAX];
	size_t nr_len;
	struct ike_keys keys;
	bool have_keys;
	uint8_t iv[CRYPTO_MAX_BLOCK];        /* phase-1 chain */
	size_t block;
	/* Quick Mode */
	const struct alg *pfs;
	struct dh_secret *qdh;
	uint8_t qg_i[CRYPTO_MAX_DH];
	size_t qg_len;
	uint8_t qni[32], qnr[NONCE_LEN_MAX];
	size_t qnr_len;
	bool qi1_done;
	/* the gateway mode: pluto initiates, the harness responds */
	bool responder;
	uint8_t gw_ni[NONCE_LEN_MAX];        /* pluto's Ni */
	size_t gw_ni_len;
};

static struct peer P;
/* the harness's own QI1/QI2 in the middle of fuzzed messages (stage 5):
 * the engine may rightly refuse them or answer an earlier fuzzed QI1, so
 * their replies are taken as they come instead of asserted */
static bool lenient;

static void peer_free(void)
{
	if (P.dh)
		dh_secret_free(P.dh);
	if (P.qdh)
		dh_secret_free(P.qdh);
	OPENSSL_cleanse(&P, sizeof(P));
}

/* Hand one datagram to the engine as if it came from the peer's port 500
 * (an exact-size copy, so ASan sees any read past its end). */
/* What the daemon's loop does between two datagrams (deferred instance
 * collection); then no %any instance may be left without a state: one
 * that is would pile up with every datagram of a patient peer. */
static void settle(void)
{
	for (int i = 0; i < 16 && sd_event_run(loop, 0) > 0; i++)
		;
	for (struct connection *c = connections_first(); c; c = c->next)
		if (c->template && states_count_for_connection(c) == 0 && !c->sinks)
			abort();
}

static uint8_t *last_dgram;     /* the last datagram delivered, for retransmitting it */
static size_t last_dgram_len;

static void deliver(const uint8_t *buf, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		abort();
	memcpy(copy, buf, len);
	free(reply);
	reply = NULL;
	reply_len = 0;
	handler(&fake_iface, copy, len, &P.addr, 500);
	settle();
	free(last_dgram);
	last_dgram = copy;
	last_dgram_len = len;
}

static void retransmit(void)
{
	if (!last_dgram)
		return;
	uint8_t *again = last_dgram;
	last_dgram = NULL;
	deliver(again, last_dgram_len);
	free(again);
}

/* The generic payload chain of a plaintext body: offsets of up to 32
 * payloads and where the last one ends. */
struct walk {
	size_t n, off[ISAKMP_MAX_PAYLOADS], len[ISAKMP_MAX_PAYLOADS], end;
	uint8_t type[ISAKMP_MAX_PAYLOADS];
};

static void walk_body(uint8_t np, const uint8_t *b, size_t len, struct walk *w)
{
	size_t off = 0;
	w->n = 0;
	w->end = 0;
	while (np && w->n < ISAKMP_MAX_PAYLOADS && off + 4 <= len) {
		size_t plen = (size_t)b[off + 2] << 8 | b[off + 3];
		if (plen < 4 || off + plen > len)
			break;
		w->type[w->n] = np;
		w->off[w->n] = off;
		w->len[w->n++] = plen;
		np = b[off];
		off += plen;
		w->end = off;
	}
}

static struct v1_state *engine_isakmp(void)
{
	return v1_find_isakmp(P.icookie, P.rcookie);
}

/* HASH fix-ups, so that a mutated message still authenticates: MI3's
 * HASH_I over its first ID payload, Quick Mode's HASH(1) (or HASH(3) once
 * QI1 went through), Informational HASH(1). Only a HASH payload of the
 * right length is rewritten. */
static void fix_hash(uint8_t xchg, uint32_t msgid, uint8_t np, uint8_t *b, size_t len)
{
	if (!P.have_keys)
		return;
	struct walk w;
	walk_body(np, b, len, &w);
	size_t hl = P.keys.hash_len;
	uint8_t mid[4];
	put_be32(mid, msgid);
	if (xchg == XCHG_IDPROT) {
		size_t id = SIZE_MAX, h = SIZE_MAX;
		for (size_t i = 0; i < w.n; i++) {
			if (w.type[i] == PT_ID && id == SIZE_MAX)
				id = i;
			if (w.type[i] == PT_HASH && w.len[i] == 4 + hl && h == SIZE_MAX)
				h = i;
		}
		if (id == SIZE_MAX || h == SIZE_MAX)
			return;
		/* HASH_I, or HASH_R when the harness is the gateway (RFC 2409 5) */
		struct chunk g_mine = CHUNK(P.responder ? P.g_r : P.g_i, P.g_len);
		struct chunk g_theirs = CHUNK(P.responder ? P.g_i : P.g_r, P.g_len);
		struct chunk cky_mine = CHUNK(P.responder ? P.rcookie : P.icookie, 8);
		struct chunk cky_theirs = CHUNK(P.responder ? P.icookie : P.rcookie, 8);
		struct chunk parts[6] = {
			g_mine, g_theirs, cky_mine, cky_theirs, CHUNK(P.sa_i_b, P.sa_i_b_len),
			CHUNK(b + w.off[id] + 4, w.len[id] - 4),
		};
		crypto_prf(P.ike.hash, CHUNK(P.keys.skeyid, hl), parts, 6, b + w.off[h] + 4);
		return;
	}
	if (w.n == 0 || w.type[0] != PT_HASH || w.len[0] != 4 + hl)
		return;
	uint8_t *out = b + w.off[0] + 4;
	struct chunk key = CHUNK(P.keys.skeyid_a, hl);
	if (xchg == XCHG_QUICK && P.qi1_done && msgid == MSGID_QM) {
		static const uint8_t zero = 0;
		struct chunk parts[4] = { CHUNK(&zero, 1), CHUNK(mid, 4), CHUNK(P.qni, sizeof(P.qni)),
					  CHUNK(P.qnr, P.qnr_len) };
		crypto_prf(P.ike.hash, key, parts, 4, out);
		return;
	}
	size_t rest = w.off[0] + w.len[0];
	struct chunk parts[2] = { CHUNK(mid, 4), CHUNK(b + rest, w.end > rest ? w.end - rest : 0) };
	crypto_prf(P.ike.hash, key, parts, 2, out);
}

/* The IV the engine will decrypt this message with: the ISAKMP SA's
 * chain (Main Mode), the exchange's own (a Quick Mode it knows), else
 * one derived from the ISAKMP SA's last block and the message id. The
 * engine is asked rather than tracked, so a refused fuzzed message (whose
 * IV is not committed) does not desynchronise the harness. */
static bool iv_for(uint8_t xchg, uint32_t msgid, uint8_t *iv)
{
	struct v1_state *isakmp = engine_isakmp();
	const uint8_t *chain = isakmp && isakmp->have_keys ? isakmp->iv : P.iv;
	if (xchg == XCHG_IDPROT) {
		memcpy(iv, chain, P.block);
		return true;
	}
	if (xchg == XCHG_TRANSACTION && isakmp && isakmp->tx_msgid && msgid == isakmp->tx_msgid) {
		memcpy(iv, isakmp->tx_iv, P.block);   /* answering the gateway's request */
		return true;
	}
	struct v1_state *s = xchg == XCHG_QUICK ? v1_find_phase2(P.icookie, P.rcookie, msgid) : NULL;
	if (s) {
		memcpy(iv, s->iv, P.block);
		return true;
	}
	return ikev1_phase2_iv(P.ike.hash, P.ike.cipher, chain, msgid, iv) == 0;
}

/* Header + body (first payload np), encrypted with the real keys when
 * encrypt; the HASH fixed first when fix. Returns the harness's copy of
 * the IV after encryption (the last ciphertext block) in iv_out. */
static void send_body(uint8_t xchg, uint32_t msgid, uint8_t np, const uint8_t *body, size_t len,
		      bool encrypt, bool fix, uint8_t *iv_out)
{
	encrypt = encrypt && P.have_keys;
	size_t padded = len;
	if (encrypt)
		padded = len ? (len + P.block - 1) / P.block * P.block : P.block;
	size_t total = ISAKMP_HDR_LEN + padded;
	if (total > 65535)
		return;
	uint8_t *m = calloc(1, total);
	if (!m)
		abort();
	memcpy(m, P.icookie, 8);
	memcpy(m + 8, P.rcookie, 8);
	m[16] = np;
	m[17] = ISAKMP_VERSION;
	m[18] = xchg;
	m[19] = encrypt ? ISAKMP_FLAG_ENCRYPTION : 0;
	put_be32(m + 20, msgid);
	put_be32(m + 24, (uint32_t)total);
	memcpy(m + ISAKMP_HDR_LEN, body, len);
	if (fix && encrypt)
		fix_hash(xchg, msgid, np, m + ISAKMP_HDR_LEN, len);
	if (encrypt) {
		uint8_t iv[CRYPTO_MAX_BLOCK];
		if (!iv_for(xchg, msgid, iv) ||
		    crypto_cbc_encrypt(P.ike.cipher, P.keys.enc_key, P.keys.enc_key_len, iv,
				       m + ISAKMP_HDR_LEN, padded) < 0)
			abort();
		if (iv_out)
			memcpy(iv_out, iv, P.block);
	}
	deliver(m, total);
	free(m);
}

/* The reply, decrypted with *iv (updated) when encrypted, parsed. */
static bool open_reply(struct msg_digest *md, uint8_t **plain, uint8_t *iv)
{
	char why[200];
	unsigned notify;
	*plain = NULL;
	if (!reply || isakmp_hdr_check(reply, reply_len, &md->hdr, &notify, why, sizeof(why)) < 0)
		return false;
	size_t len = reply_len - ISAKMP_HDR_LEN;
	const uint8_t *body = reply + ISAKMP_HDR_LEN;
	bool enc = md->hdr.flags & ISAKMP_FLAG_ENCRYPTION;
	if (enc) {
		if (!iv || !P.have_keys || len % P.block)
			return false;
		*plain = malloc(len ? len : 1);
		if (!*plain)
			abort();
		memcpy(*plain, body, len);
		if (crypto_cbc_decrypt(P.ike.cipher, P.keys.enc_key, P.keys.enc_key_len, iv, *plain, len) < 0)
			return false;
		body = *plain;
	}
	return payloads_parse(md, md->hdr.np, body, len, enc, &notify, why, sizeof(why)) == 0;
}

static void close_reply(struct msg_digest *md, uint8_t *plain)
{
	msg_digest_release(md);
	free(plain);
}

/* --- the correct messages (bodies) --- */

static void body_of(struct pbuf *pb, uint8_t *np, const uint8_t **b, size_t *len)
{
	size_t total = pbuf_finish(pb);
	if (total < ISAKMP_HDR_LEN)
		abort();
	*np = pb->data[16];
	*b = pb->data + ISAKMP_HDR_LEN;
	*len = total - ISAKMP_HDR_LEN;
}

static void new_pbuf(struct pbuf *pb)
{
	struct isakmp_hdr h = { .version = ISAKMP_VERSION };
	pbuf_init(pb);
	emit_hdr(pb, &h);
}

static void build_mi1(struct pbuf *pb, unsigned only)
{
	const struct ike_proposals *all = P.conn->cfg.ike_proposals;
	struct ike_proposals one = *all;
	if (only && all->n) {
		one.n = 1;
		one.p[0] = all->p[(only - 1) % all->n];
	}
	struct ike_policy pol = { &one, 1u << OAKLEY_PRESHARED_KEY, 3600, IKE_XAUTH_NONE };
	memset(&P.proposed, 0, sizeof(P.proposed));
	ike_sa_build(&pol, &P.proposed);
	new_pbuf(pb);
	size_t off = emit_sa(pb, &P.proposed);
	size_t total = pbuf_finish(pb);
	size_t plen = (size_t)pb->data[off + 2] << 8 | pb->data[off + 3];
	if (off + plen > total || plen < 4 || plen - 4 > sizeof(P.sa_i_b))
		abort();
	P.sa_i_b_len = plen - 4;
	memcpy(P.sa_i_b, pb->data + off + 4, P.sa_i_b_len);
}

static bool after_mi1(void)
{
	struct msg_digest md;
	uint8_t *plain;
	bool ok = false;
	char why[512];
	if (open_reply(&md, &plain, NULL) && md.hdr.xchg == XCHG_IDPROT && md_first(&md, PT_SA) &&
	    md_first(&md, PT_SA)->sa) {
		if (!ike_sa_check_reply(&P.proposed, md_first(&md, PT_SA)->sa, &P.ike, why, sizeof(why)))
			abort();   /* the responder chose something we did not offer */
		memcpy(P.rcookie, md.hdr.rcookie, 8);
		P.block = crypto_cipher_block(P.ike.cipher);
		ok = true;
	}
	close_reply(&md, plain);
	return ok;
}

static void build_mi2(struct pbuf *pb)
{
	P.g_len = dh_public_len(P.ike.group);
	if (!P.dh && dh_generate(P.ike.group, &P.dh, P.g_i) < 0)
		abort();
	memset(P.ni, 0x4e, sizeof(P.ni));
	new_pbuf(pb);
	emit_ke(pb, P.g_i, P.g_len);
	emit_nonce(pb, P.ni, sizeof(P.ni));
}

static bool after_mi2(void)
{
	struct msg_digest md;
	uint8_t *plain;
	bool ok = false;
	char why[160];
	if (open_reply(&md, &plain, NULL) && md_first(&md, PT_KE) && md_first(&md, PT_NONCE)) {
		const struct payload *ke = md_first(&md, PT_KE), *n = md_first(&md, PT_NONCE);
		if (ke->data_len != P.g_len || n->data_len > sizeof(P.nr))
			abort();
		memcpy(P.g_r, ke->data, P.g_len);
		memcpy(P.nr, n->data, n->data_len);
		P.nr_len = n->data_len;
		if (dh_compute(P.dh, P.g_r, P.g_len, P.gxy, &P.gxy_len, why, sizeof(why)) < 0 ||
		    ikev1_skeyid_psk(P.ike.hash, CHUNK(P.psk, strlen(P.psk)), CHUNK(P.ni, sizeof(P.ni)),
				     CHUNK(P.nr, P.nr_len), &P.keys) < 0 ||
		    ikev1_skeyid_derive(P.ike.hash, P.ike.cipher, P.ike.key_bits, CHUNK(P.gxy, P.gxy_len),
					P.icookie, P.rcookie, &P.keys) < 0 ||
		    ikev1_phase1_iv(P.ike.hash, P.ike.cipher, CHUNK(P.g_i, P.g_len), CHUNK(P.g_r, P.g_len),
				    P.iv) < 0)
			abort();
		P.have_keys = true;
		/* the engine must have derived the same keys and IV */
		struct v1_state *s = engine_isakmp();
		if (!s || !s->have_keys || s->keys->enc_key_len != P.keys.enc_key_len ||
		    memcmp(s->keys->enc_key, P.keys.enc_key, P.keys.enc_key_len) != 0 ||
		    memcmp(s->iv, P.iv, P.block) != 0)
			abort();
		ok = true;
	}
	close_reply(&md, plain);
	return ok;
}

static void build_mi3(struct pbuf *pb)
{
	uint8_t zeros[CRYPTO_MAX_HASH] = { 0 };
	new_pbuf(pb);
	if (P.fqdn_id)
		emit_id(pb, ID_TYPE_FQDN, 0, 0, (const uint8_t *)"road.example", 12);
	else
		emit_id(pb, ID_TYPE_IPV4_ADDR, 0, 0, P.addr.u.bytes, 4);
	emit_hash(pb, zeros, P.keys.hash_len);
}

static bool after_mi3(const uint8_t *iv_after_mi3)
{
	struct msg_digest md;
	uint8_t *plain;
	bool ok = false;
	uint8_t iv[CRYPTO_MAX_BLOCK];
	memcpy(iv, iv_after_mi3, P.block);
	if (open_reply(&md, &plain, iv) && md_first(&md, PT_ID) && md_first(&md, PT_HASH)) {
		const struct payload *id = md_first(&md, PT_ID), *h = md_first(&md, PT_HASH);
		uint8_t want[CRYPTO_MAX_HASH];
		struct chunk parts[6] = {
			CHUNK(P.g_r, P.g_len), CHUNK(P.g_i, P.g_len), CHUNK(P.rcookie, 8),
			CHUNK(P.icookie, 8), CHUNK(P.sa_i_b, P.sa_i_b_len), CHUNK(id->raw + 4, id->raw_len - 4),
		};
		if (crypto_prf(P.ike.hash, CHUNK(P.keys.skeyid, P.keys.hash_len), parts, 6, want) < 0 ||
		    h->data_len != P.keys.hash_len || memcmp(h->data, want, h->data_len) != 0)
			abort();   /* HASH_R does not verify */
		memcpy(P.iv, iv, P.block);
		struct v1_state *s = engine_isakmp();
		if (!s || !s->st->established || memcmp(s->iv, P.iv, P.block) != 0)
			abort();
		ok = true;
	}
	close_reply(&md, plain);
	return ok;
}

static struct connection *qm_conn(void)
{
	struct v1_state *s = engine_isakmp();
	return s ? s->st->connection : P.conn;
}

static void build_qi1(struct pbuf *pb)
{
	struct connection *c = qm_conn();
	struct ipsec_policy pol = {
		.protocol = c->cfg.policy & POLICY_ENCRYPT ? PROTO_IPSEC_ESP : PROTO_IPSEC_AH,
		.esp = c->cfg.esp_proposals,
		.ah = c->cfg.ah_proposals,
		.tunnel = c->cfg.policy & POLICY_TUNNEL,
		.pfs_group = c->cfg.policy & POLICY_PFS ? (c->cfg.pfs_group ? c->cfg.pfs_group : P.ike.group) : NULL,
		.lifetime = 1800,
		.our_spi = 0x5ec0ffee,
	};
	P.pfs = pol.pfs_group;
	struct sa_payload *sa = calloc(1, sizeof(*sa));
	if (!sa)
		abort();
	ipsec_sa_build(&pol, sa);
	uint8_t zeros[CRYPTO_MAX_HASH] = { 0 };
	memset(P.qni, 0x51, sizeof(P.qni));
	new_pbuf(pb);
	emit_hash(pb, zeros, P.keys.hash_len);
	emit_sa(pb, sa);
	free(sa);
	emit_nonce(pb, P.qni, sizeof(P.qni));
	if (P.pfs) {
		P.qg_len = dh_public_len(P.pfs);
		if (!P.qdh && dh_generate(P.pfs, &P.qdh, P.qg_i) < 0)
			abort();
		emit_ke(pb, P.qg_i, P.qg_len);
	}
	ip_subnet ci, cr;
	v1_end_client(c, false, &ci);
	v1_end_client(c, true, &cr);
	if (END_THAT(c)->host_kind == HOST_ANY)
		subnet_from_address(&P.addr, &ci);
	/* a remote-access client asks for the address it was lent */
	struct v1_state *isakmp = engine_isakmp();
	if (isakmp && state_modecfg(isakmp->st)->has_virtual_address)
		ci = state_modecfg(isakmp->st)->virtual_address;
	v1_emit_client_id(pb, &ci);
	v1_emit_client_id(pb, &cr);
}

static bool after_qi1(const uint8_t *iv_after_qi1)
{
	struct msg_digest md;
	uint8_t *plain;
	bool ok = false;
	uint8_t iv[CRYPTO_MAX_BLOCK];
	memcpy(iv, iv_after_qi1, P.block);
	if (open_reply(&md, &plain, iv) && md.hdr.xchg == XCHG_QUICK && md_first(&md, PT_NONCE) &&
	    md.n_payloads && md.payloads[0].type == PT_HASH) {
		const struct payload *n = md_first(&md, PT_NONCE), *h = &md.payloads[0];
		const struct payload *last = &md.payloads[md.n_payloads - 1];
		uint8_t mid[4], want[CRYPTO_MAX_HASH];
		put_be32(mid, MSGID_QM);
		const uint8_t *rest = h->raw + h->raw_len;
		struct chunk parts[3] = { CHUNK(mid, 4), CHUNK(P.qni, sizeof(P.qni)),
					  CHUNK(rest, (size_t)(last->raw + last->raw_len - rest)) };
		if (crypto_prf(P.ike.hash, CHUNK(P.keys.skeyid_a, P.keys.hash_len), parts, 3, want) < 0 ||
		    h->data_len != P.keys.hash_len || memcmp(h->data, want, h->data_len) != 0 ||
		    n->data_len > sizeof(P.qnr)) {
			if (!lenient)
				abort();   /* HASH(2) does not verify */
			close_reply(&md, plain);
			return false;
		}
		memcpy(P.qnr, n->data, n->data_len);
		P.qnr_len = n->data_len;
		P.qi1_done = true;
		ok = true;
	}
	close_reply(&md, plain);
	return ok;
}

static void build_qi2(struct pbuf *pb)
{
	uint8_t zeros[CRYPTO_MAX_HASH] = { 0 };
	new_pbuf(pb);
	emit_hash(pb, zeros, P.keys.hash_len);
}

static bool after_qi2(void)
{
	struct v1_state *s = v1_find_phase2(P.icookie, P.rcookie, MSGID_QM);
	if (!s || !s->st->established) {
		if (!lenient)
			abort();   /* a correct QI2 must establish the IPsec SA */
		return false;
	}
	return true;
}

/* --- steps --- */
enum step { STEP_MI1, STEP_MI2, STEP_MI3, STEP_QI1, STEP_QI2, STEP_DONE };

static const uint8_t step_xchg[] = { XCHG_IDPROT, XCHG_IDPROT, XCHG_IDPROT, XCHG_QUICK, XCHG_QUICK };
static const uint32_t step_msgid[] = { 0, 0, 0, MSGID_QM, MSGID_QM };

static void build_step(enum step s, struct pbuf *pb, unsigned only)
{
	switch (s) {
	case STEP_MI1: build_mi1(pb, only); break;
	case STEP_MI2: build_mi2(pb); break;
	case STEP_MI3: build_mi3(pb); break;
	case STEP_QI1: build_qi1(pb); break;
	default: build_qi2(pb); break;
	}
}

/* Plays step s correctly; false when the engine did not answer as it must
 * (only possible when an earlier fuzzed message changed the course). */
static bool play_step(enum step s, unsigned only)
{
	struct pbuf pb;
	uint8_t np, iv[CRYPTO_MAX_BLOCK];
	const uint8_t *b;
	size_t len;
	build_step(s, &pb, only);
	body_of(&pb, &np, &b, &len);
	send_body(step_xchg[s], step_msgid[s], np, b, len, s >= STEP_MI3, true, iv);
	pbuf_free(&pb);
	switch (s) {
	case STEP_MI1: return after_mi1();
	case STEP_MI2: return after_mi2();
	case STEP_MI3: return after_mi3(iv);
	case STEP_QI1: return after_qi1(iv);
	default: return after_qi2();
	}
}

/* --- input decoding --- */
struct chunks {
	size_t n;
	const uint8_t *p[MAX_CHUNKS];
	size_t len[MAX_CHUNKS];
};

static void split(const uint8_t *d, size_t size, struct chunks *c)
{
	c->n = 0;
	while (size && c->n < MAX_CHUNKS) {
		size_t want = size >= 2 ? (size_t)d[0] << 8 | d[1] : size;
		if (size < 2 || want > size - 2 || c->n == MAX_CHUNKS - 1) {
			c->p[c->n] = d;
			c->len[c->n++] = size;
			return;
		}
		c->p[c->n] = d + 2;
		c->len[c->n++] = want;
		d += 2 + want;
		size -= 2 + want;
	}
}

/* Stage 5: byte 0 of a chunk (the selector) picks
 *   bits 0-1: the exchange (Main, Quick, Informational, Aggressive),
 *     bit 5 overriding it with Transaction;
 *   bit 2: encrypted with the ISAKMP SA's keys and the IV the engine
 *     expects for that exchange and message id;
 *   bits 3-4: the message id: 0, the Quick Mode's (for a Transaction the
 *     gateway's current one), a fresh one, or the next 4 bytes;
 *   bit 6: the harness writes the HASH payload in front (HASH(1) of
 *     Quick Mode, Informational and Transaction, HASH(3) once QI1 was
 *     answered): the rest is the plaintext of the payloads after it, so
 *     mutations land in the handlers rather than in the HASH check;
 *   bit 7: instead, the harness's own next Quick Mode message (QI1, then
 *     QI2), correct for the connection the ISAKMP SA ended on.
 *     With pluto as the client of the harness's gateway: the gateway's
 *     QR1 to pluto's last QI1.
 * Then the first payload type and the body. The 8 bytes "icookie!" and
 * "rcookie!" anywhere in the body become the initiator's and the
 * responder's cookies, so an input can name this ISAKMP SA (Delete,
 * INITIAL-CONTACT) whatever cookie pluto chose. */
static const uint8_t icookie_marker[8] = { 'i', 'c', 'o', 'o', 'k', 'i', 'e', '!' };
static const uint8_t rcookie_marker[8] = { 'r', 'c', 'o', 'o', 'k', 'i', 'e', '!' };

static void play_quick(void)
{
	if (!P.have_keys)
		return;
	lenient = true;
	enum step s = P.qi1_done ? STEP_QI2 : STEP_QI1;
	struct pbuf pb;
	uint8_t np, iv[CRYPTO_MAX_BLOCK];
	const uint8_t *b;
	size_t len;
	build_step(s, &pb, 0);
	body_of(&pb, &np, &b, &len);
	send_body(XCHG_QUICK, MSGID_QM, np, b, len, true, true, iv);
	pbuf_free(&pb);
	if (s == STEP_QI1)
		after_qi1(iv);
	else
		after_qi2();
	lenient = false;
}

/* The gateway's QR1 to the Quick Mode pluto started (its QI1 is the last
 * message it sent, if any): the transform chosen as a responder would,
 * HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr | IDci | IDcr). */
static void gw_qr1(void)
{
	if (!reply || reply_len < ISAKMP_HDR_LEN || reply[18] != XCHG_QUICK || !P.have_keys)
		return;
	struct v1_state *isakmp = engine_isakmp();
	uint32_t msgid = get_be32(reply + 20);
	uint8_t iv[CRYPTO_MAX_BLOCK];
	if (!isakmp || ikev1_phase2_iv(P.ike.hash, P.ike.cipher, isakmp->iv, msgid, iv) < 0)
		return;
	struct msg_digest md;
	uint8_t *plain;
	const struct payload *sa, *ni;
	if (!open_reply(&md, &plain, iv) || !(sa = md_first(&md, PT_SA)) || !sa->sa || !(ni = md_first(&md, PT_NONCE))) {
		close_reply(&md, plain);
		return;
	}
	struct connection *c = isakmp->st->connection;
	struct ipsec_policy pol = {
		.protocol = PROTO_IPSEC_ESP, .esp = c->cfg.esp_proposals, .ah = c->cfg.ah_proposals,
		.tunnel = c->cfg.policy & POLICY_TUNNEL, .lifetime = 1800, .our_spi = 0x6a7e0001,
	};
	struct ipsec_choice choice;
	struct sa_payload *chosen = calloc(1, sizeof(*chosen));
	char why[512];
	if (!chosen)
		abort();
	if (ipsec_sa_select(sa->sa, &pol, &choice, chosen, why, sizeof(why))) {
		uint8_t zeros[CRYPTO_MAX_HASH] = { 0 }, nr[32], mid[4];
		memset(nr, 0x72, sizeof(nr));
		struct pbuf pb;
		new_pbuf(&pb);
		emit_hash(&pb, zeros, P.keys.hash_len);
		emit_sa(&pb, chosen);
		emit_nonce(&pb, nr, sizeof(nr));
		for (size_t i = 0; i < md.n_payloads; i++) {
			const struct payload *id = &md.payloads[i];
			if (id->type == PT_ID)
				emit_id(&pb, id->u.id.id_type, id->u.id.protocol, id->u.id.port, id->data, id->data_len);
		}
		uint8_t np;
		const uint8_t *b;
		size_t len;
		body_of(&pb, &np, &b, &len);
		size_t hl = P.keys.hash_len, rest = 4 + hl;
		if (len >= rest) {
			put_be32(mid, msgid);
			struct chunk parts[3] = { CHUNK(mid, 4), CHUNK(ni->body, ni->body_len), CHUNK(b + rest, len - rest) };
			crypto_prf(P.ike.hash, CHUNK(P.keys.skeyid_a, hl), parts, 3, (uint8_t *)b + 4);
			send_body(XCHG_QUICK, msgid, np, b, len, true, false, NULL);
		}
		pbuf_free(&pb);
	}
	free(chosen);
	close_reply(&md, plain);
}

static void free_form(const uint8_t *p, size_t len, bool fix)
{
	static const uint8_t xchgs[] = { XCHG_IDPROT, XCHG_QUICK, XCHG_INFO, XCHG_AGGRESSIVE };
	if (len < 1)
		return;
	uint8_t sel = p[0];
	uint32_t msgid = 0;
	p++, len--;
	if (sel & 0x80) {
		if (P.responder)
			gw_qr1();
		else
			play_quick();
		return;
	}
	if (len < 1)
		return;
	uint8_t xchg = sel & 0x20 ? XCHG_TRANSACTION : xchgs[sel & 3];
	struct v1_state *isakmp = engine_isakmp();
	switch ((sel >> 3) & 3) {
	case 1: msgid = xchg == XCHG_TRANSACTION && isakmp ? isakmp->tx_msgid : MSGID_QM; break;
	case 2: msgid = 0x1f0f0f0fu; break;
	case 3:
		if (len < 5)
			return;
		msgid = get_be32(p);
		p += 4, len -= 4;
		break;
	}
	/* room for a HASH payload in front */
	size_t hl = P.have_keys ? P.keys.hash_len : 0, pre = sel & 0x40 ? 4 + hl : 0;
	uint8_t *body = malloc(pre + len);
	if (!body)
		abort();
	memcpy(body + pre, p + 1, len - 1);
	size_t blen = pre + len - 1;
	for (size_t i = pre; i + 8 <= blen; i++) {
		if (memcmp(body + i, icookie_marker, 8) == 0)
			memcpy(body + i, P.icookie, 8);
		if (memcmp(body + i, rcookie_marker, 8) == 0)
			memcpy(body + i, P.rcookie, 8);
	}
	uint8_t np = p[0];
	if (pre) {
		/* generic header: next payload, reserved, length; the HASH is
		 * computed by fix_hash, as for bit 5 */
		memset(body, 0, pre);
		body[0] = np;
		body[3] = (uint8_t)pre;
		np = PT_HASH;
		fix = true;
	}
	send_body(xchg, msgid, np, body, blen, sel & 4, fix, NULL);
	free(body);
}

/* Stage 6: the correct message of step 1 + byte0 % 4, then the rest of
 * the chunk as (offset, xor) pairs on its body; byte 0 bit 7 re-sends the
 * message unchanged afterwards (a retransmission). */
static void mutate(const uint8_t *p, size_t len, bool fix, unsigned only)
{
	if (len < 1)
		return;
	enum step s = (enum step)(STEP_MI2 + p[0] % (remote_access ? 2 : 4));
	for (enum step k = STEP_MI1; k < s; k++)
		if (!play_step(k, only))
			abort();   /* a correct initiator must get through */
	struct pbuf pb;
	uint8_t np;
	const uint8_t *b;
	size_t blen;
	build_step(s, &pb, only);
	body_of(&pb, &np, &b, &blen);
	uint8_t *m = malloc(blen ? blen : 1);
	if (!m)
		abort();
	memcpy(m, b, blen);
	for (size_t i = 1; i < len && blen; i += 3) {
		size_t off = ((size_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0)) % blen;
		m[off] ^= i + 2 < len ? p[i + 2] : 0xff;
	}
	send_body(step_xchg[s], step_msgid[s], np, m, blen, s >= STEP_MI3, fix, NULL);
	if (p[0] & 0x80)
		retransmit();
	free(m);
	pbuf_free(&pb);
}

/* --- the gateway the harness plays when pluto initiates ---
 * Pluto is an XAUTH and Mode Config client of GW_PEER ("gw"): it sends
 * MI1 when told to initiate; the harness answers MR1, MR2 and MR3 as a
 * responder would (or lets the input replace one of them), after which
 * pluto waits for the gateway's XAUTH REQUEST: the chunks of the input
 * then reach the client's halves of XAUTH, Mode Config, Quick Mode and
 * Informational. The "reply" buffer holds pluto's last message. */
static const uint8_t gw_rcookie[8] = { 'g', 'w', 'c', 'o', 'o', 'k', 'i', 'e' };

static bool gw_start(void)
{
	struct ctl_error err;
	free(reply);
	reply = NULL;
	/* the engine's own entry (ctl_initiate wants a listening socket) */
	if (main_outI1(P.conn, NULL, &err) < 0) {
		fprintf(stderr, "fuzz-ikev1: cannot initiate gw: %s\n", err.message);
		abort();
	}
	settle();
	return reply != NULL;
}

/* MI1 -> the SA payload MR1 carries (the harness chooses as pluto would) */
static bool gw_mr1(struct pbuf *pb)
{
	struct msg_digest md;
	uint8_t *plain;
	bool ok = false;
	char why[512];
	const struct payload *sa;
	if (open_reply(&md, &plain, NULL) && md.hdr.xchg == XCHG_IDPROT && (sa = md_first(&md, PT_SA)) && sa->sa &&
	    sa->body_len <= sizeof(P.sa_i_b)) {
		struct ike_policy pol = { P.conn->cfg.ike_proposals, 1u << OAKLEY_PRESHARED_KEY, 3600,
					  IKE_XAUTH_SERVER };
		struct sa_payload *chosen = calloc(1, sizeof(*chosen));
		if (!chosen)
			abort();
		if (!ike_sa_select(sa->sa, &pol, &P.ike, chosen, why, sizeof(why)))
			abort();   /* pluto proposed what its own conn does not allow */
		memcpy(P.icookie, md.hdr.icookie, 8);
		memcpy(P.rcookie, gw_rcookie, 8);
		memcpy(P.sa_i_b, sa->body, sa->body_len);
		P.sa_i_b_len = sa->body_len;
		P.block = crypto_cipher_block(P.ike.cipher);
		new_pbuf(pb);
		emit_sa(pb, chosen);
		free(chosen);
		ok = true;
	}
	close_reply(&md, plain);
	return ok;
}

/* MI2 -> the keys; MR2's KE and nonce */
static bool gw_mr2(struct pbuf *pb)
{
	struct msg_digest md;
	uint8_t *plain;
	bool ok = false;
	char why[160];
	const struct payload *ke, *n;
	P.g_len = dh_public_len(P.ike.group);
	if (open_reply(&md, &plain, NULL) && (ke = md_first(&md, PT_KE)) && (n = md_first(&md, PT_NONCE)) &&
	    ke->data_len == P.g_len && n->data_len <= sizeof(P.gw_ni)) {
		memcpy(P.g_i, ke->data, P.g_len);
		memcpy(P.gw_ni, n->data, n->data_len);
		P.gw_ni_len = n->data_len;
		memset(P.nr, 0x52, 32);
		P.nr_len = 32;
		if (dh_generate(P.ike.group, &P.dh, P.g_r) < 0 ||
		    dh_compute(P.dh, P.g_i, P.g_len, P.gxy, &P.gxy_len, why, sizeof(why)) < 0 ||
		    ikev1_skeyid_psk(P.ike.hash, CHUNK(P.psk, strlen(P.psk)), CHUNK(P.gw_ni, P.gw_ni_len),
				     CHUNK(P.nr, P.nr_len), &P.keys) < 0 ||
		    ikev1_skeyid_derive(P.ike.hash, P.ike.cipher, P.ike.key_bits, CHUNK(P.gxy, P.gxy_len),
					P.icookie, P.rcookie, &P.keys) < 0 ||
		    ikev1_phase1_iv(P.ike.hash, P.ike.cipher, CHUNK(P.g_i, P.g_len), CHUNK(P.g_r, P.g_len),
				    P.iv) < 0)
			abort();
		P.have_keys = true;
		new_pbuf(pb);
		emit_ke(pb, P.g_r, P.g_len);
		emit_nonce(pb, P.nr, P.nr_len);
		ok = true;
	}
	close_reply(&md, plain);
	return ok;
}

/* MI3 (decrypted: it moves the CBC chain) -> MR3's ID and HASH_R (written
 * by fix_hash) */
static bool gw_mr3(struct pbuf *pb)
{
	struct msg_digest md;
	uint8_t *plain;
	uint8_t iv[CRYPTO_MAX_BLOCK];
	memcpy(iv, P.iv, P.block);
	bool ok = open_reply(&md, &plain, iv) && md_first(&md, PT_ID) && md_first(&md, PT_HASH);
	close_reply(&md, plain);
	if (!ok)
		return false;
	memcpy(P.iv, iv, P.block);
	uint8_t zeros[CRYPTO_MAX_HASH] = { 0 };
	new_pbuf(pb);
	emit_id(pb, ID_TYPE_IPV4_ADDR, 0, 0, P.addr.u.bytes, 4);
	emit_hash(pb, zeros, P.keys.hash_len);
	return true;
}

/* Plays the gateway's Main Mode; the input replaces MR1, MR2 or MR3 when
 * replace is 1, 2 or 3 (its first byte the first payload type, then the
 * body, encrypted for MR3), the rest of the chunks are free_form's. */
static void gateway(const struct chunks *ch, unsigned replace, bool fix)
{
	if (!gw_start())
		abort();   /* pluto must send MI1 */
	size_t used = 0;
	for (unsigned k = 1; k <= 3; k++) {
		struct pbuf pb;
		bool built = k == 1 ? gw_mr1(&pb) : k == 2 ? gw_mr2(&pb) : gw_mr3(&pb);
		if (!built) {
			if (replace && replace < k)
				return;   /* the fuzzed message before changed the course */
			abort();  /* pluto must answer a correct gateway */
		}
		uint8_t np;
		const uint8_t *b;
		size_t len;
		body_of(&pb, &np, &b, &len);
		if (k == replace && used < ch->n && ch->len[used] >= 1) {
			const uint8_t *q = ch->p[used];
			send_body(XCHG_IDPROT, 0, q[0], q + 1, ch->len[used] - 1, k == 3, fix, NULL);
			used++;
		} else {
			send_body(XCHG_IDPROT, 0, np, b, len, k == 3, true, NULL);
		}
		pbuf_free(&pb);
	}
	if (!replace) {
		struct v1_state *s = engine_isakmp();
		if (!s || !s->st->established)
			abort();   /* a correct MR3 must establish pluto's ISAKMP SA */
	}
	for (size_t i = used; i < ch->n; i++)
		free_form(ch->p[i], ch->len[i], fix);
}

static void reset(void)
{
	struct state *st;
	/* with Deletes: the send path of an established SA runs too */
	while ((st = states_first()))
		v1_delete_state(st, true);
	settle();
	if (states_count() != 0 || connections_count() != base_connections)
		abort();
	peer_free();
	free(reply);
	reply = NULL;
	free(last_dgram);
	last_dgram = NULL;
}

static void add_conn(const char *name, const char *const *keys, const char *const *values, size_t n)
{
	struct ctl_error err;
	if (ctl_add_connection(name, keys, values, n, NULL, &err) < 0) {
		fprintf(stderr, "fuzz-ikev1: cannot add %s: %s\n", name, err.message);
		abort();
	}
}

static void setup(void)
{
	/* as fuzz-packet: every line is built and checked by the hook; syslog
	 * (absent on a build host) takes the rest */
	log_init(LOG_TO_SYSLOG, "fuzz-ikev1");
	if (RAND_set_rand_method(&fixed_rand) != 1)
		abort();
	log_set_hook(check_log, NULL);
	verbose = getenv("FUZZ_IKEV1_VERBOSE") != NULL;
	if (sd_event_new(&loop) < 0)
		abort();
	ikev1_init(loop);
	v1_send_hook = capture;
	handler = demux_packet_handler();
	if (!handler)
		abort();
	snprintf(fake_iface.name, sizeof(fake_iface.name), "fuzz0");
	ip_parse(LOCAL, &fake_iface.addr);
	fake_iface.port = 500;
	fake_iface.fd = -1;

	char path[] = "/tmp/fuzz-ikev1-secrets-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f)
		abort();
	fprintf(f, LOCAL " %%any @road.example : PSK \"" RW_PSK "\"\n"
		LOCAL " " FIXED_PEER " : PSK \"" FIXED_PSK "\"\n"
		LOCAL " " RA_PEER " : PSK \"" RA_PSK "\"\n"
		LOCAL " " GW_PEER " : PSK \"" GW_PSK "\"\n"
		"@fuzzuser : XAUTH \"fuzz-xauth-password\"\n");
	fclose(f);
	secrets_set_path(path);
	struct ctl_error err;
	if (secrets_reload(&err) < 0)
		abort();
	unlink(path);

	/* road warrior template; one by FQDN id the engine switches to after
	 * MI3; a fixed peer with PFS in a different group and AH-less ESP */
	const char *k1[] = { "left", "right", "authby", "ike", "esp" };
	const char *v1[] = { LOCAL, "%any", "secret", "aes128-sha1-curve25519,3des-sha2_256-modp1024,aes256-sha2_512-ecp256",
			     "aes128-sha1,3des-sha2_256" };
	add_conn("rw", k1, v1, 5);
	const char *k2[] = { "left", "right", "rightid", "authby", "ike", "type" };
	const char *v2[] = { LOCAL, "%any", "@road.example", "secret", "aes256-sha2_256-ecp256", "transport" };
	add_conn("rw-fqdn", k2, v2, 6);
	const char *k3[] = { "left", "right", "authby", "ike", "pfs", "pfsgroup", "leftsubnet", "rightsubnet" };
	const char *v3[] = { LOCAL, FIXED_PEER, "secret", "aes192-sha2_384-curve25519", "yes", "curve25519",
			     "10.1.0.0/16", "10.2.0.0/24" };
	add_conn("fixed", k3, v3, 8);
	/* an XAUTH + Mode Config gateway for the remote-access peer */
	const char *k4[] = { "left", "right", "authby", "ike", "leftsubnet", "leftxauthserver", "leftmodecfgserver",
			     "rightxauthclient", "rightmodecfgclient", "rightaddresspool", "xauthby", "modecfgdns",
			     "modecfgbanner" };
	const char *v4[] = { LOCAL, RA_PEER, "secret", "aes128-sha2_256-modp2048", "10.1.0.0/16", "yes", "yes",
			     "yes", "yes", "10.9.0.1-10.9.0.9", "alwaysok", "10.1.0.53", "fuzz gateway" };
	add_conn("ra", k4, v4, 13);
	/* pluto as the XAUTH + Mode Config client of a gateway the harness
	 * plays (no auto=: it starts only when the harness initiates it) */
	const char *k5[] = { "left", "right", "authby", "ike", "esp", "pfs", "rightsubnet", "leftxauthclient",
			     "leftmodecfgclient", "rightxauthserver", "rightmodecfgserver", "leftusername" };
	const char *v5[] = { LOCAL, GW_PEER, "secret", "aes128-sha2_256-modp2048", "aes128-sha1", "no", "10.7.0.0/16",
			     "yes", "yes", "yes", "yes", "fuzzuser" };
	add_conn("gw", k5, v5, 12);
	base_connections = connections_count();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		setup();
		init = true;
	}
	if (size < 1)
		return 0;
	uint8_t ctl = data[0];
	unsigned stage = ctl & 7, who = (ctl >> 3) & 3, only = ctl >> 6;
	bool fix = ctl & 0x20;
	rng_state = 0x70c1c0de;
	memset(&P, 0, sizeof(P));
	remote_access = false;
	static const uint8_t icookie[8] = { 'f', 'u', 'z', 'z', 0x1c, 0x00, 0x4b, 0x1e };
	memcpy(P.icookie, icookie, 8);
	static const char *const peer_of[] = { RW_PEER, RW_PEER, FIXED_PEER, RA_PEER };
	static const char *const conn_of[] = { "rw", "rw", "fixed", "ra" };
	static const char *const psk_of[] = { RW_PSK, RW_PSK, FIXED_PSK, RA_PSK };
	ip_parse(peer_of[who], &P.addr);
	P.fqdn_id = who == 1;
	/* MI1 goes to the template by address; the FQDN id switches later */
	P.conn = connection_by_name(conn_of[who]);
	P.psk = psk_of[who];
	/* the gateway holds Quick Mode until XAUTH and Mode Config are done:
	 * after Main Mode everything is the input's */
	/* the remote-access peer has one proposal: bit 7 there turns the
	 * roles round (pluto initiates to a gateway the harness plays) */
	bool gw_mode = who == 3 && (ctl & 0x80);
	if (gw_mode) {
		ip_parse(GW_PEER, &P.addr);
		P.conn = connection_by_name("gw");
		P.psk = GW_PSK;
		P.responder = true;
	} else if (who == 3) {
		remote_access = true;
		if (stage >= STEP_QI1 && stage <= STEP_DONE)
			stage = STEP_DONE;
	}
	expected_peer = &P.addr;
	psk_in_input = memmem(data, size, RW_PSK, strlen(RW_PSK)) || memmem(data, size, FIXED_PSK, strlen(FIXED_PSK)) ||
		       memmem(data, size, RA_PSK, strlen(RA_PSK)) || memmem(data, size, GW_PSK, strlen(GW_PSK));
	/* the odd inputs also run every debug line (private ones excepted) */
	debug_global = size & 1 ? DBG_ALL_NONPRIVATE : 0;

	struct chunks ch;
	split(data + 1, size - 1, &ch);
	if (gw_mode) {
		gateway(&ch, stage <= 3 ? stage : 0, fix);
	} else if (stage == 0) {
		for (size_t i = 0; i < ch.n; i++)
			deliver(ch.p[i], ch.len[i]);
	} else if (stage == 6) {
		if (ch.n)
			mutate(ch.p[0], ch.len[0], fix, only);
	} else {
		enum step replace = stage == 7 ? STEP_DONE : (enum step)stage;
		enum step played = remote_access && replace > STEP_QI1 ? STEP_QI1 : replace;
		for (enum step k = STEP_MI1; k < played; k++)
			if (!play_step(k, only))
				abort();   /* a correct initiator must get through */
		for (size_t i = 0; i < ch.n; i++) {
			const uint8_t *p = ch.p[i];
			size_t len = ch.len[i];
			if (stage == 7) {
				/* raw, with this negotiation's cookies */
				uint8_t *m = malloc(len ? len : 1);
				if (!m)
					abort();
				memcpy(m, p, len);
				if (len >= 16) {
					memcpy(m, P.icookie, 8);
					memcpy(m + 8, P.rcookie, 8);
				}
				deliver(m, len);
				free(m);
			} else if (replace == STEP_DONE) {
				free_form(p, len, fix);
			} else if (len >= 1) {
				send_body(step_xchg[replace], step_msgid[replace], p[0], p + 1, len - 1,
					  replace >= STEP_MI3, fix, NULL);
			}
		}
	}
	debug_global = 0;
	expected_peer = NULL;
	reset();
	return 0;
}
