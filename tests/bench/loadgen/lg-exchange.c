/* One tunnel's IKEv1 exchange as initiator (RFC 2409 5 and 5.5):
 *
 *   MI1 SA            ->  <- MR1 SA
 *   MI2 KE, Ni        ->  <- MR2 KE, Nr
 *   MI3* ID, HASH_I|SIG_I -> <- MR3* ID, HASH_R|SIG_R
 *   QI1* HASH(1), SA, Ni [, KE], IDci, IDcr -> <- QR1* HASH(2), SA, Nr [, KE], IDs
 *   QI2* HASH(3)      ->
 *
 * A tunnel counts as established only once MR3's proof and QR1's HASH(2)
 * verified, QR1's SA is one we proposed and QI2 is sent. Messages are
 * built with the wire codec, keys come from crypto/, proposals from
 * policy/: the same code pluto negotiates with. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lg.h"

static void *xzalloc(size_t n)
{
	void *p = calloc(1, n);
	if (!p)
		abort();
	return p;
}

static void exchange_free(struct lg_exchange *x)
{
	if (!x)
		return;
	dh_secret_free(x->dh);
	dh_secret_free(x->qm_dh);
	free(x->proposed);
	free(x->qm_proposed);
	free(x->sa_i_b);
	free(x->last_sent);
	OPENSSL_cleanse(x, sizeof(*x));
	free(x);
}

static void finish(struct lg_tunnel *t, enum lg_step step, enum lg_reason reason, uint64_t now_us)
{
	t->step = step;
	t->reason = reason;
	t->end_us = now_us;
	exchange_free(t->x);
	t->x = NULL;
}

static void fail(struct lg_tunnel *t, enum lg_reason reason, uint64_t now_us)
{
	t->failed_at = t->step;
	finish(t, LG_FAILED, reason, now_us);
}

static void header(struct pbuf *pb, const struct lg_exchange *x, uint8_t np, uint8_t xchg, uint32_t msgid)
{
	struct isakmp_hdr h = { .np = np, .version = ISAKMP_VERSION, .xchg = xchg, .msgid = msgid };
	memcpy(h.icookie, x->icookie, 8);
	memcpy(h.rcookie, x->rcookie, 8);
	pbuf_init(pb);
	emit_hdr(pb, &h);
}

/* Finish pb (encrypted with iv when iv != NULL: zero padding to the
 * block, as pluto pads), keep it for retransmission and send it. */
static bool send_msg(const struct lg_config *cfg, struct lg_tunnel *t, struct pbuf *pb, uint8_t *iv,
		     uint64_t now_us)
{
	struct lg_exchange *x = t->x;
	size_t len = pbuf_finish(pb);
	if (len < ISAKMP_HDR_LEN)
		return false;
	size_t total = len;
	if (iv) {
		size_t block = crypto_cipher_block(x->ike.cipher);
		total += (block - (len - ISAKMP_HDR_LEN) % block) % block;
	}
	uint8_t *buf = xzalloc(total);
	memcpy(buf, pb->data, len);
	if (iv) {
		isakmp_hdr_mark_encrypted(buf, total);
		if (crypto_cbc_encrypt(x->ike.cipher, x->keys.enc_key, x->keys.enc_key_len, iv,
				       buf + ISAKMP_HDR_LEN, total - ISAKMP_HDR_LEN) < 0) {
			free(buf);
			return false;
		}
	}
	free(x->last_sent);
	x->last_sent = buf;
	x->last_sent_len = total;
	x->sends = 1;
	x->next_send_us = now_us + (uint64_t)cfg->retransmit_ms * 1000;
	return lg_net_send(t->source, cfg->responder, cfg->port, buf, total);
}

/* --- building what we send --- */

static bool send_mi1(const struct lg_config *cfg, struct lg_tunnel *t, uint64_t now_us)
{
	struct lg_exchange *x = t->x;
	struct ike_policy pol = { &cfg->ike, 1u << cfg->auth, cfg->ike_lifetime, IKE_XAUTH_NONE };
	x->proposed = xzalloc(sizeof(*x->proposed));
	ike_sa_build(&pol, x->proposed);
	struct pbuf pb;
	header(&pb, x, PT_SA, XCHG_IDPROT, 0);
	size_t off = emit_sa(&pb, x->proposed);
	size_t sa_len = 0;
	const uint8_t *sa = pbuf_finish(&pb) ? pbuf_payload_body(&pb, off, &sa_len) : NULL;
	bool ok = sa && sa_len;
	if (ok) {
		x->sa_i_b = xzalloc(sa_len);
		memcpy(x->sa_i_b, sa, sa_len);
		x->sa_i_b_len = sa_len;
		ok = send_msg(cfg, t, &pb, NULL, now_us);
	}
	pbuf_free(&pb);
	return ok;
}

/* our Main Mode identity: the source address (ID_IPV4_ADDR), or one
 * FQDN for every tunnel (a responder that knows one RSA key by name) */
static size_t our_id_body(const struct lg_config *cfg, const struct lg_tunnel *t, uint8_t *out, size_t cap)
{
	if (cfg->fqdn)
		return id_body_encode(ID_TYPE_FQDN, 0, 0, (const uint8_t *)cfg->fqdn, strlen(cfg->fqdn), out, cap);
	const uint8_t a[4] = { t->source >> 24, t->source >> 16, t->source >> 8, t->source };
	return id_body_encode(ID_TYPE_IPV4_ADDR, 0, 0, a, 4, out, cap);
}

static bool send_mi3(const struct lg_config *cfg, struct lg_tunnel *t, uint64_t now_us)
{
	struct lg_exchange *x = t->x;
	uint8_t id_b[4 + 256], h[CRYPTO_MAX_HASH];
	size_t id_len = our_id_body(cfg, t, id_b, sizeof(id_b));
	if (ikev1_phase1_hash(x->ike.hash, &x->keys, true, CHUNK(x->g_i, x->g_len), CHUNK(x->g_r, x->g_len),
			      x->icookie, x->rcookie, CHUNK(x->sa_i_b, x->sa_i_b_len), CHUNK(id_b, id_len),
			      h) < 0)
		return false;
	struct pbuf pb;
	header(&pb, x, PT_ID, XCHG_IDPROT, 0);
	if (id_len < 4) {
		pbuf_free(&pb);
		return false;
	}
	emit_id(&pb, id_b[0], 0, 0, id_b + 4, id_len - 4);
	bool ok = true;
	if (x->ike.auth == OAKLEY_RSA_SIG) {
		uint8_t sig[1024];
		size_t sig_len = sizeof(sig);
		ok = rsa_sign_hash(cfg->own_key, h, x->keys.hash_len, sig, &sig_len) == 0;
		if (ok)
			emit_sig(&pb, sig, sig_len);
	} else {
		emit_hash(&pb, h, x->keys.hash_len);
	}
	ok = ok && send_msg(cfg, t, &pb, x->iv, now_us);
	pbuf_free(&pb);
	return ok;
}

static void emit_host_id(struct pbuf *pb, uint32_t addr)
{
	const uint8_t a[4] = { addr >> 24, addr >> 16, addr >> 8, addr };
	emit_id(pb, ID_TYPE_IPV4_ADDR, 0, 0, a, 4);
}

/* QI1 and QI2 start with a HASH over what follows it (plus, for
 * QI2, nothing: its HASH(3) covers the nonces only) */
static bool seal_hash(const struct lg_exchange *x, struct pbuf *pb, size_t hoff, bool zero_prefix,
		      const struct chunk *extra, size_t n_extra)
{
	size_t len = pbuf_finish(pb), hash_len;
	uint8_t *hash = len ? pbuf_payload_body(pb, hoff, &hash_len) : NULL;
	if (!hash || hash_len != x->keys.hash_len)
		return false;
	struct chunk parts[4];
	size_t n = 0;
	for (size_t i = 0; i < n_extra && n < 3; i++)
		parts[n++] = extra[i];
	const uint8_t *after = hash + hash_len;
	if (!zero_prefix)
		parts[n++] = CHUNK(after, len - (size_t)(after - pb->data));
	return ikev1_hash_msgid(x->ike.hash, &x->keys, x->msgid, zero_prefix, parts, n, hash) == 0;
}

static bool send_qi1(const struct lg_config *cfg, struct lg_tunnel *t, uint64_t now_us)
{
	struct lg_exchange *x = t->x;
	do
		crypto_random(&x->msgid, sizeof(x->msgid));
	while (x->msgid == 0);
	do
		crypto_random(&x->our_spi, sizeof(x->our_spi));
	while (x->our_spi <= 0xfff);
	if (ikev1_phase2_iv(x->ike.hash, x->ike.cipher, x->iv, x->msgid, x->qm_iv) < 0)
		return false;
	struct ipsec_policy pol = {
		.protocol = PROTO_IPSEC_ESP, .esp = &cfg->esp, .tunnel = true,
		.pfs_group = cfg->pfs_group, .lifetime = cfg->sa_lifetime, .our_spi = x->our_spi,
	};
	x->qm_proposed = xzalloc(sizeof(*x->qm_proposed));
	ipsec_sa_build(&pol, x->qm_proposed);
	crypto_random(x->qm_ni, NONCE_LEN);
	const struct alg *pfs = ipsec_policy_pfs_group(&pol);
	if (pfs) {
		x->qm_g_len = dh_public_len(pfs);
		if (dh_generate(pfs, &x->qm_dh, x->qm_g_i) < 0)
			return false;
	}
	struct pbuf pb;
	header(&pb, x, PT_HASH, XCHG_QUICK, x->msgid);
	const uint8_t zeros[CRYPTO_MAX_HASH] = { 0 };
	size_t hoff = emit_hash(&pb, zeros, x->keys.hash_len);
	emit_sa(&pb, x->qm_proposed);
	emit_nonce(&pb, x->qm_ni, NONCE_LEN);
	if (pfs)
		emit_ke(&pb, x->qm_g_i, x->qm_g_len);
	emit_host_id(&pb, t->source);
	emit_host_id(&pb, cfg->responder);
	bool ok = seal_hash(x, &pb, hoff, false, NULL, 0) && send_msg(cfg, t, &pb, x->qm_iv, now_us);
	pbuf_free(&pb);
	return ok;
}

/* QI2: HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b); kept after the
 * exchange is freed, for a QR1 that comes again (our QI2 was lost). */
static bool send_qi2(const struct lg_config *cfg, struct lg_tunnel *t, uint64_t now_us)
{
	struct lg_exchange *x = t->x;
	struct pbuf pb;
	header(&pb, x, PT_HASH, XCHG_QUICK, x->msgid);
	const uint8_t zeros[CRYPTO_MAX_HASH] = { 0 };
	size_t hoff = emit_hash(&pb, zeros, x->keys.hash_len);
	const struct chunk nonces[] = { CHUNK(x->qm_ni, NONCE_LEN), CHUNK(x->qm_nr, x->qm_nr_len) };
	bool ok = seal_hash(x, &pb, hoff, true, nonces, 2) && send_msg(cfg, t, &pb, x->qm_iv, now_us);
	pbuf_free(&pb);
	if (ok) {
		t->qi2 = x->last_sent;
		t->qi2_len = x->last_sent_len;
		x->last_sent = NULL;
		if (cfg->delete_after)
			lg_keep_sa(t);
	}
	return ok;
}

/* --- what we receive --- */

static bool nonce_of(const struct msg_digest *md, uint8_t *dst, size_t *len)
{
	const struct payload *n = md_first(md, PT_NONCE);
	if (!n || n->data_len < 8 || n->data_len > 256)
		return false;
	memcpy(dst, n->data, n->data_len);
	*len = n->data_len;
	return true;
}

static enum lg_reason ke_of(const struct msg_digest *md, const struct alg *group, struct dh_secret *dh,
			    uint8_t *peer_g, size_t g_len, uint8_t *gxy, size_t *gxy_len)
{
	const struct payload *ke = md_first(md, PT_KE);
	char why[160];
	if (!ke || ke->data_len != g_len || !group)
		return LG_MALFORMED;
	memcpy(peer_g, ke->data, g_len);
	return dh_compute(dh, peer_g, g_len, gxy, gxy_len, why, sizeof(why)) < 0 ? LG_DH : LG_OK;
}

/* MR1: the SA must be one we proposed; then MI2 */
static enum lg_reason on_mr1(const struct lg_config *cfg, struct lg_tunnel *t, const struct msg_digest *md,
			     uint64_t now_us)
{
	struct lg_exchange *x = t->x;
	const struct payload *sa = md_first(md, PT_SA);
	char why[512];
	if (!sa || !sa->sa)
		return LG_MALFORMED;
	if (!ike_sa_check_reply(x->proposed, sa->sa, &x->ike, why, sizeof(why)))
		return LG_PROPOSAL;
	free(x->proposed);
	x->proposed = NULL;
	memcpy(x->rcookie, md->hdr.rcookie, 8);
	x->g_len = dh_public_len(x->ike.group);
	if (dh_generate(x->ike.group, &x->dh, x->g_i) < 0)
		return LG_INTERNAL;
	crypto_random(x->ni, NONCE_LEN);
	struct pbuf pb;
	header(&pb, x, PT_KE, XCHG_IDPROT, 0);
	emit_ke(&pb, x->g_i, x->g_len);
	emit_nonce(&pb, x->ni, NONCE_LEN);
	bool ok = send_msg(cfg, t, &pb, NULL, now_us);
	pbuf_free(&pb);
	return ok ? LG_OK : LG_INTERNAL;
}

/* MR2: g^xy, SKEYID and the rest; then MI3 */
static enum lg_reason on_mr2(const struct lg_config *cfg, struct lg_tunnel *t, const struct msg_digest *md,
			     uint64_t now_us)
{
	struct lg_exchange *x = t->x;
	enum lg_reason r = ke_of(md, x->ike.group, x->dh, x->g_r, x->g_len, x->gxy, &x->gxy_len);
	if (r != LG_OK)
		return r;
	if (!nonce_of(md, x->nr, &x->nr_len))
		return LG_MALFORMED;
	struct chunk ni = CHUNK(x->ni, NONCE_LEN), nr = CHUNK(x->nr, x->nr_len), gxy = CHUNK(x->gxy, x->gxy_len);
	int e = x->ike.auth == OAKLEY_PRESHARED_KEY
			? ikev1_skeyid_psk(x->ike.hash, CHUNK(cfg->psk, strlen(cfg->psk)), ni, nr, &x->keys)
			: ikev1_skeyid_sig(x->ike.hash, ni, nr, gxy, &x->keys);
	if (e < 0 ||
	    ikev1_skeyid_derive(x->ike.hash, x->ike.cipher, x->ike.key_bits, gxy, x->icookie, x->rcookie,
				&x->keys) < 0 ||
	    ikev1_phase1_iv(x->ike.hash, x->ike.cipher, CHUNK(x->g_i, x->g_len), CHUNK(x->g_r, x->g_len),
			    x->iv) < 0)
		return LG_INTERNAL;
	return send_mi3(cfg, t, now_us) ? LG_OK : LG_INTERNAL;
}

/* MR3: the responder's HASH_R or SIG_R over its ID; then QI1 */
static enum lg_reason on_mr3(const struct lg_config *cfg, struct lg_tunnel *t, const struct msg_digest *md,
			     uint64_t now_us)
{
	struct lg_exchange *x = t->x;
	const struct payload *id = md_first(md, PT_ID);
	uint8_t h[CRYPTO_MAX_HASH];
	if (!id)
		return LG_MALFORMED;
	if (ikev1_phase1_hash(x->ike.hash, &x->keys, false, CHUNK(x->g_i, x->g_len), CHUNK(x->g_r, x->g_len),
			      x->icookie, x->rcookie, CHUNK(x->sa_i_b, x->sa_i_b_len),
			      CHUNK(id->body, id->body_len), h) < 0)
		return LG_INTERNAL;
	if (x->ike.auth == OAKLEY_RSA_SIG) {
		const struct payload *sig = md_first(md, PT_SIG);
		if (!sig)
			return LG_MALFORMED;
		if (!rsa_verify_hash(cfg->peer_key, h, x->keys.hash_len, sig->data, sig->data_len))
			return LG_AUTH;
	} else {
		const struct payload *hp = md_first(md, PT_HASH);
		if (!hp || hp->data_len != x->keys.hash_len)
			return LG_MALFORMED;
		if (CRYPTO_memcmp(hp->data, h, hp->data_len) != 0)
			return LG_AUTH;
	}
	dh_secret_free(x->dh);   /* phase 1 is over: its secret is not needed */
	x->dh = NULL;
	return send_qi1(cfg, t, now_us) ? LG_OK : LG_INTERNAL;
}

/* QR1: HASH(2) = prf(SKEYID_a, M-ID | Ni_b | rest), the SA one we
 * proposed, the nonce, the PFS KE; KEYMAT both ways; then QI2 */
static enum lg_reason on_qr1(const struct lg_config *cfg, struct lg_tunnel *t, const struct msg_digest *md,
			     uint64_t now_us)
{
	struct lg_exchange *x = t->x;
	const struct payload *hp = md->n_payloads ? &md->payloads[0] : NULL;
	if (!hp || hp->type != PT_HASH || hp->data_len != x->keys.hash_len)
		return LG_MALFORMED;
	const struct payload *last = &md->payloads[md->n_payloads - 1];
	const uint8_t *start = hp->raw + hp->raw_len, *end = last->raw + last->raw_len;
	const struct chunk parts[] = { CHUNK(x->qm_ni, NONCE_LEN), CHUNK(start, (size_t)(end - start)) };
	uint8_t h[CRYPTO_MAX_HASH];
	if (ikev1_hash_msgid(x->ike.hash, &x->keys, x->msgid, false, parts, 2, h) < 0)
		return LG_INTERNAL;
	if (CRYPTO_memcmp(hp->data, h, hp->data_len) != 0)
		return LG_AUTH;
	const struct payload *sa = md_first(md, PT_SA);
	char why[512];
	if (!sa || !sa->sa || !nonce_of(md, x->qm_nr, &x->qm_nr_len))
		return LG_MALFORMED;
	if (!ipsec_sa_check_reply(x->qm_proposed, sa->sa, &x->ipsec, why, sizeof(why)))
		return LG_PROPOSAL;
	if (x->ipsec.pfs_group) {
		if (!x->qm_dh)
			return LG_PROPOSAL;
		enum lg_reason r = ke_of(md, x->ipsec.pfs_group, x->qm_dh, x->qm_g_r, x->qm_g_len, x->qm_gxy,
					 &x->qm_gxy_len);
		if (r != LG_OK)
			return r;
	}
	/* the KEYMAT a kernel would get: derived to prove the exchange's
	 * keys are usable, then wiped */
	size_t klen = alg_keymat_len(x->ipsec.cipher, x->ipsec.key_bits, x->ipsec.integ);
	uint8_t km[2 * CRYPTO_MAX_KEY + CRYPTO_MAX_HASH + 8];
	struct chunk gqm = CHUNK(x->qm_gxy, x->ipsec.pfs_group ? x->qm_gxy_len : 0);
	if (klen > sizeof(km))
		return LG_INTERNAL;
	for (int dir = 0; dir < 2; dir++)
		if (ikev1_keymat(x->ike.hash, &x->keys, gqm, PROTO_IPSEC_ESP, dir ? x->ipsec.peer_spi : x->our_spi,
				 CHUNK(x->qm_ni, NONCE_LEN), CHUNK(x->qm_nr, x->qm_nr_len), km, klen) < 0)
			return LG_INTERNAL;
	OPENSSL_cleanse(km, sizeof(km));
	return send_qi2(cfg, t, now_us) ? LG_OK : LG_INTERNAL;
}

/* What each step waits for: the exchange, whether it comes encrypted,
 * the first payload of a plain message (MR1 and MR2 are both plain Main
 * Mode: a responder that got our MI1 twice answers MR1 again while we
 * wait for MR2), and who handles it. A message that fits no row of the
 * tunnel's step is a duplicate or stray: ignored. */
typedef enum lg_reason handler_fn(const struct lg_config *, struct lg_tunnel *, const struct msg_digest *,
				  uint64_t);
static const struct {
	enum lg_step step;
	uint8_t xchg;
	bool encrypted;
	uint8_t first;               /* plain messages only; PT_NONE: not checked */
	handler_fn *handler;
	enum lg_step next;
} rows[] = {
	{ LG_WAIT_MR1, XCHG_IDPROT, false, PT_SA, on_mr1, LG_WAIT_MR2 },
	{ LG_WAIT_MR2, XCHG_IDPROT, false, PT_KE, on_mr2, LG_WAIT_MR3 },
	{ LG_WAIT_MR3, XCHG_IDPROT, true, PT_NONE, on_mr3, LG_WAIT_QR1 },
	{ LG_WAIT_QR1, XCHG_QUICK, true, PT_NONE, on_qr1, LG_DONE },
};

const char *lg_step_name(enum lg_step s)
{
	static const char *const names[] = {
		[LG_IDLE] = "idle", [LG_WAIT_MR1] = "MR1", [LG_WAIT_MR2] = "MR2", [LG_WAIT_MR3] = "MR3",
		[LG_WAIT_QR1] = "QR1", [LG_DONE] = "done", [LG_FAILED] = "failed",
	};
	return s < sizeof(names) / sizeof(names[0]) && names[s] ? names[s] : "?";
}

void lg_start(const struct lg_config *cfg, struct lg_tunnel *t, uint64_t now_us)
{
	t->x = xzalloc(sizeof(*t->x));
	do
		crypto_random(t->x->icookie, 8);
	while (!memcmp(t->x->icookie, "\0\0\0\0\0\0\0\0", 8));   /* RFC 2408: never zero */
	memcpy(t->icookie, t->x->icookie, 8);
	t->start_us = now_us;
	t->step = LG_WAIT_MR1;
	if (!send_mi1(cfg, t, now_us))
		fail(t, LG_INTERNAL, now_us);
}

/* A notification from the responder ends the tunnel: unprotected in
 * phase 1, protected (HASH(1), own message id and IV) after it. Its
 * HASH(1) is not checked: the notification only names the failure of a
 * tunnel that would otherwise time out, it never makes one succeed. */
static void on_info(struct lg_tunnel *t, const struct isakmp_hdr *hdr, uint8_t *body, size_t len,
		    uint64_t now_us)
{
	struct lg_exchange *x = t->x;
	if (hdr->flags & ISAKMP_FLAG_ENCRYPTION) {
		uint8_t iv[CRYPTO_MAX_BLOCK];
		size_t block = x->keys.hash_len ? crypto_cipher_block(x->ike.cipher) : 0;
		/* before MR3 our chain is not the phase-2 seed yet: use what we have */
		if (!block || len % block || ikev1_phase2_iv(x->ike.hash, x->ike.cipher, x->iv, hdr->msgid, iv) < 0 ||
		    crypto_cbc_decrypt(x->ike.cipher, x->keys.enc_key, x->keys.enc_key_len, iv, body, len) < 0)
			return;
	}
	struct msg_digest md = { .hdr = *hdr };
	char why[160];
	if (payloads_parse(&md, hdr->np, body, len, true, NULL, why, sizeof(why)) == 0) {
		const struct payload *n = md_first(&md, PT_N);
		if (n && n->u.n.type < N_RESPONDER_LIFETIME) {   /* an error, not a status */
			t->notify = n->u.n.type;
			msg_digest_release(&md);
			fail(t, LG_NOTIFY, now_us);
			return;
		}
	}
	msg_digest_release(&md);
}

unsigned lg_qi2_resent;

void lg_receive(const struct lg_config *cfg, struct lg_tunnel *t, const uint8_t *buf, size_t len,
		uint64_t now_us)
{
	struct isakmp_hdr hdr;
	char why[160];
	if (isakmp_hdr_parse(buf, len, &hdr, why, sizeof(why)) < 0 || memcmp(hdr.icookie, t->icookie, 8) != 0)
		return;
	if (t->step == LG_DONE) {
		/* QR1 again: the responder did not get our QI2 */
		if (hdr.xchg == XCHG_QUICK && t->qi2 &&
		    lg_net_send(t->source, cfg->responder, cfg->port, t->qi2, t->qi2_len))
			lg_qi2_resent++;
		return;
	}
	struct lg_exchange *x = t->x;
	if (!x)
		return;
	uint8_t body[65536];
	size_t body_len = len - ISAKMP_HDR_LEN;
	memcpy(body, buf + ISAKMP_HDR_LEN, body_len);
	if (hdr.xchg == XCHG_INFO) {
		on_info(t, &hdr, body, body_len, now_us);
		return;
	}
	size_t i = 0;
	while (i < sizeof(rows) / sizeof(rows[0]) && rows[i].step != t->step)
		i++;
	if (i == sizeof(rows) / sizeof(rows[0]) || rows[i].xchg != hdr.xchg ||
	    rows[i].encrypted != !!(hdr.flags & ISAKMP_FLAG_ENCRYPTION) ||
	    (rows[i].first != PT_NONE && hdr.np != rows[i].first) ||
	    (hdr.xchg == XCHG_QUICK && hdr.msgid != x->msgid) ||
	    (t->step != LG_WAIT_MR1 && memcmp(hdr.rcookie, x->rcookie, 8) != 0))
		return;
	/* the IV moves on only with a message that decrypts and parses:
	 * decrypt a copy of the chain */
	uint8_t *chain = t->step == LG_WAIT_QR1 ? x->qm_iv : x->iv;
	uint8_t iv[CRYPTO_MAX_BLOCK];
	memcpy(iv, chain, sizeof(iv));
	if (rows[i].encrypted) {
		size_t block = crypto_cipher_block(x->ike.cipher);
		if (!block || body_len == 0 || body_len % block ||
		    crypto_cbc_decrypt(x->ike.cipher, x->keys.enc_key, x->keys.enc_key_len, iv, body, body_len) < 0)
			return;
	}
	struct msg_digest md = { .hdr = hdr };
	if (payloads_parse(&md, hdr.np, body, body_len, rows[i].encrypted, NULL, why, sizeof(why)) < 0) {
		msg_digest_release(&md);
		/* a plain message that does not parse is the peer's error; an
		 * encrypted one may be a stale retransmission under another IV */
		if (!rows[i].encrypted)
			fail(t, LG_MALFORMED, now_us);
		return;
	}
	if (rows[i].encrypted)
		memcpy(chain, iv, sizeof(iv));
	enum lg_step next = rows[i].next;
	enum lg_reason r = rows[i].handler(cfg, t, &md, now_us);
	msg_digest_release(&md);
	if (r != LG_OK)
		fail(t, r, now_us);
	else if (next == LG_DONE)
		finish(t, LG_DONE, LG_OK, now_us);
	else
		t->step = next;
}

void lg_timer(const struct lg_config *cfg, struct lg_tunnel *t, uint64_t now_us)
{
	struct lg_exchange *x = t->x;
	if (!x || now_us < x->next_send_us)
		return;
	if (x->sends >= cfg->tries || now_us - t->start_us >= (uint64_t)cfg->timeout_ms * 1000) {
		fail(t, LG_TIMEOUT, now_us);
		return;
	}
	lg_net_send(t->source, cfg->responder, cfg->port, x->last_sent, x->last_sent_len);
	x->next_send_us = now_us + ((uint64_t)cfg->retransmit_ms * 1000 << x->sends);
	x->sends++;
}
