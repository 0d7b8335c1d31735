/* Main Mode (RFC 2409 5, identity protection exchange), initiator and
 * responder, authenticated with preshared keys or RSA signatures:
 *
 *   MI1 HDR, SA                 ->
 *                               <-  MR1 HDR, SA
 *   MI2 HDR, KE, Ni             ->
 *                               <-  MR2 HDR, KE, Nr
 *   MI3 HDR*, IDii, HASH_I|SIG_I ->
 *                               <-  MR3 HDR*, IDir, HASH_R|SIG_R
 *
 * The dispatcher (ikev1.c) has already checked which payloads are there;
 * here their contents are checked. */
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/demux.h"
#include "daemon/events.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
#include "daemon/log_limit.h"
#include "daemon/ikev1/nat_traversal.h"
#include "daemon/ikev1/peer_replace.h"
#include "daemon/secrets.h"
#include "daemon/ikev1/v1_crypto.h"
#include "daemon/ikev1/vendor.h"

#define LOGS(s, fmt, ...) llog(STATE_LOGGER((s)->st), LS_SERIOUS, MSGID_GENERIC, fmt, ##__VA_ARGS__)
/* before the peer is authenticated, as a responder: what a forger can
 * make us say (log_limit.h) */
#define LOGS_UNAUTH(s, fmt, ...) \
	llog_peer(&(s)->st->peer, STATE_LOGGER((s)->st), LS_SERIOUS, MSGID_GENERIC, fmt, ##__VA_ARGS__)

static const char *auth_name(unsigned auth)
{
	return auth == OAKLEY_PRESHARED_KEY ? "PSK" : auth == OAKLEY_RSA_SIG ? "RSASIG" : "?";
}

static void isakmp_header(struct pbuf *pb, const struct v1_state *s, uint8_t np)
{
	struct isakmp_hdr h = { .np = np, .version = ISAKMP_VERSION, .xchg = XCHG_IDPROT };
	memcpy(h.icookie, s->icookie, 8);
	memcpy(h.rcookie, s->rcookie, 8);
	pbuf_init(pb);
	pb->conn = s->st->connection;
	emit_hdr(pb, &h);
}

static void set_algorithms(struct v1_state *s)
{
	const struct ike_choice *k = &s->ike;
	char name[ALG_NAME_MAX];
	const char *cipher = k->cipher ? alg_name_at(k->cipher, k->key_bits, name) : "?";
	state_set_text(&s->st->algorithms, "%s-%s-%s %s", cipher,
		 k->hash ? k->hash->name : "?", k->group ? k->group->name : "?", auth_name(k->auth));
	event_state(EV_STATE_CHANGED, s->st, VIEW_STATE_ALGORITHMS);
}

static void hex(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 3 <= outlen; i++)
		k += (size_t)snprintf(out + k, outlen - k, "%02x", p[i]);
	out[k] = '\0';
}

static bool check_nonce(struct v1_state *s, struct v1_msg *m, uint8_t *dst, size_t *dst_len)
{
	const struct payload *n = md_first(&m->md, PT_NONCE);
	if (n->data_len < NONCE_LEN_MIN || n->data_len > NONCE_LEN_MAX) {
		LOGS(s, "nonce of %zu bytes (must be %d..%d); message dropped", n->data_len, NONCE_LEN_MIN,
		     NONCE_LEN_MAX);
		m->notify = N_PAYLOAD_MALFORMED;
		return false;
	}
	memcpy(dst, n->data, n->data_len);
	*dst_len = n->data_len;
	return true;
}

static bool check_ke(struct v1_state *s, struct v1_msg *m, const struct alg *group, uint8_t *dst)
{
	const struct payload *ke = md_first(&m->md, PT_KE);
	size_t want = dh_public_len(group);
	if (ke->data_len != want) {
		LOGS(s, "KE payload of %zu bytes, %s needs %zu; message dropped", ke->data_len, group->name, want);
		m->notify = N_INVALID_KEY_INFORMATION;
		return false;
	}
	memcpy(dst, ke->data, want);
	return true;
}

/* The job for g^xy, SKEYID and its offspring and the phase-1 IV (our
 * key pair first when we have none yet): copies of this state's values,
 * and of the preshared key. NULL (logged, m->notify set) when the
 * connection has no preshared key any more. */
static struct v1_crypto_job *keys_job(struct v1_state *s, struct v1_msg *m, bool urgent)
{
	struct v1_crypto_job *job = v1_crypto_job_new(s, urgent);
	if (s->ike.auth == OAKLEY_PRESHARED_KEY) {
		const struct secret *psk = v1_find_psk(s->st->connection);
		if (!psk) {
			LOGS(s, "no preshared key for this connection any more");
			m->notify = N_AUTHENTICATION_FAILED;
			v1_crypto_job_free(job);
			return NULL;
		}
		job->psk = xmalloc(psk->psk_len ? psk->psk_len : 1);
		memcpy(job->psk, psk->psk, psk->psk_len);
		job->psk_len = psk->psk_len;
	}
	bool initiator = s->st->initiator;
	job->generate = true;
	job->derive = true;
	job->dh = s->dh;             /* the job owns our secret until it comes back */
	s->dh = NULL;
	if (job->dh)
		memcpy(job->our_pub, initiator ? s->g_i : s->g_r, s->g_len);
	job->group = s->ike.group;
	job->hash = s->ike.hash;
	job->cipher = s->ike.cipher;
	job->key_bits = s->ike.key_bits;
	job->auth = s->ike.auth;
	job->initiator = initiator;
	job->g_len = s->g_len;
	memcpy(job->peer_pub, initiator ? s->g_r : s->g_i, s->g_len);
	memcpy(job->ni, s->ni, s->ni_len);
	job->ni_len = s->ni_len;
	memcpy(job->nr, s->nr, s->nr_len);
	job->nr_len = s->nr_len;
	memcpy(job->icookie, s->icookie, 8);
	memcpy(job->rcookie, s->rcookie, 8);
	return job;
}

/* A job's key pair, g^xy and keys into the state; false (logged) when
 * the job failed. */
static bool take_keys(struct v1_state *s, struct v1_msg *m, struct v1_crypto_job *job)
{
	struct connection *c = s->st->connection;
	bool initiator = s->st->initiator;
	if (job->dh) {
		if (s->dh)
			dh_secret_free(s->dh);
		s->dh = job->dh;
		job->dh = NULL;
		memcpy(initiator ? s->g_i : s->g_r, job->our_pub, job->g_len);
	}
	if (job->generate_status < 0) {
		LOGS(s, "Diffie-Hellman key generation failed");
		return false;
	}
	if (job->dh_refused) {
		LOGS(s, "peer's Diffie-Hellman value refused: %s", job->why);
		m->notify = N_INVALID_KEY_INFORMATION;
		return false;
	}
	if (job->derive_status < 0) {
		LOGS(s, "key derivation failed");
		return false;
	}
	memcpy(s->gxy, job->gxy, job->gxy_len);
	s->gxy_len = job->gxy_len;
	*s->keys = job->keys;
	memcpy(s->iv, job->iv, sizeof(s->iv));
	s->iv_len = crypto_cipher_block(s->ike.cipher);
	s->have_keys = true;
	if (debugging(DBG_PRIVATE, c)) {
		char ic[20], key[2 * CRYPTO_MAX_KEY + 1];
		hex(s->icookie, 8, ic, sizeof(ic));
		hex(s->keys->enc_key, s->keys->enc_key_len, key, sizeof(key));
		dbg_full(c, s->st, "ISAKMP SA #%u: icookie %s encryption key %s", s->st->serial, ic, key);
	}
	DBG(DBG_CRYPT, c, "#%u: ISAKMP SA keys derived (%zu-byte encryption key)", s->st->serial,
	    s->keys->enc_key_len);
	return true;
}

/* HASH_I or HASH_R (crypto.h: ikev1_phase1_hash) over this state's values */
static bool phase1_hash(const struct v1_state *s, bool of_initiator, const uint8_t *id_b, size_t id_len,
			uint8_t *out)
{
	return ikev1_phase1_hash(s->ike.hash, s->keys, of_initiator, CHUNK(s->g_i, s->g_len),
				 CHUNK(s->g_r, s->g_len), s->icookie, s->rcookie,
				 CHUNK(s->sa_i_b, s->sa_i_b_len), CHUNK(id_b, id_len), out) == 0;
}

/* The policy of a replacement is the old SA's (the man page): exactly
 * the algorithms and authentication it uses. */
static bool policy_of_old_sa(const struct keying *k, struct connection *c, struct ike_proposals *one,
			     unsigned *auth)
{
	struct state *old = k && k->replacing ? state_by_serial(k->replacing) : NULL;
	if (!old || !old->v1 || old->kind != STATE_KIND_ISAKMP || old->connection != c || !old->v1->ike.cipher)
		return false;
	const struct ike_choice *ch = &old->v1->ike;
	one->n = 1;
	one->p[0] = (struct ike_proposal){ .cipher = ch->cipher, .key_bits = ch->key_bits,
					   .hash = ch->hash, .dh = ch->group };
	*auth &= 1u << ch->auth;
	return true;
}

/* Our XAUTH role names the Main Mode authentication method (proposals.h). */
static enum ike_xauth_role xauth_role(const struct connection *c)
{
	const struct end *me = END_THIS(c);
	return me->xauthclient ? IKE_XAUTH_CLIENT : me->xauthserver ? IKE_XAUTH_SERVER : IKE_XAUTH_NONE;
}

/* MI1 */
int main_outI1(struct connection *c, const struct keying *k, struct ctl_error *err)
{
	struct pluto_id peer_id;
	v1_peer_id(c, &peer_id);
	unsigned auth = v1_auth_mask(c, &peer_id);
	if (!auth)
		return ctl_fail(err, PE_NO_KEY,
				"\"%s\": cannot initiate: no preshared key and no RSA key pair (our private key "
				"and the peer's public key) for this connection", c->name);
	const struct end *that = END_THAT(c), *this = END_THIS(c);
	struct v1_state *s = v1_state_new(c, STATE_KIND_ISAKMP, true, &that->host,
					  that->ikeport ? that->ikeport : 500, &this->host, demux_port());
	do
		crypto_random(s->icookie, 8);
	while (cookie_is_zero(s->icookie));
	v1_hash_isakmp(s);
	s->keying_attempt = k ? k->attempt : 1;
	s->replacing = k ? k->replacing : 0;
	s->phase1_only = k && k->phase1_only;
	struct ike_proposals old_policy;
	unsigned old_auth = auth;
	bool from_old = policy_of_old_sa(k, c, &old_policy, &old_auth) && old_auth;
	struct ike_policy pol = { from_old ? &old_policy : c->cfg.ike_proposals, from_old ? old_auth : auth,
				  (uint32_t)c->cfg.ikelifetime, xauth_role(c) };
	s->proposed = xcalloc(1, sizeof(*s->proposed));
	ike_sa_build(&pol, s->proposed);

	struct pbuf pb;
	isakmp_header(&pb, s, PT_SA);
	size_t off = emit_sa(&pb, s->proposed);
	vid_emit_ours(&pb, 0, 1);
	size_t sa_len;
	const uint8_t *sa_body = pbuf_finish(&pb) ? pbuf_payload_body(&pb, off, &sa_len) : NULL;
	if (sa_body && sa_len) {
		s->sa_i_b_len = sa_len;
		s->sa_i_b = xmalloc(s->sa_i_b_len);
		memcpy(s->sa_i_b, sa_body, s->sa_i_b_len);
	}
	if (!s->sa_i_b) {
		pbuf_free(&pb);
		v1_delete_state(s->st, false);
		return ctl_fail(err, PE_INTERNAL, "\"%s\": cannot build the SA payload", c->name);
	}
	v1_send_msg(s, &pb, false, NULL, true);
	pbuf_free(&pb);
	state_set_name(s->st, STATE_MAIN_I1);
	v1_progress(s, "initiate");
	v1_arm_retransmit(s);
	return 0;
}

/* MR1 */
enum stf main_inI1_outR1(struct v1_state *s, struct v1_msg *m)
{
	struct connection *c = s->st->connection;
	const struct payload *sa = md_first(&m->md, PT_SA);
	char why[200];
	if (!sa->sa) {
		LOGS_UNAUTH(s, "SA payload could not be decoded");
		m->notify = N_PAYLOAD_MALFORMED;
		return STF_FATAL;
	}
	unsigned auth = v1_auth_mask(c, NULL);
	struct ike_policy pol = { c->cfg.ike_proposals, auth, (uint32_t)c->cfg.ikelifetime, xauth_role(c) };
	struct sa_payload *reply = xcalloc(1, sizeof(*reply));
	if (!auth) {
		LOGS_UNAUTH(s, "no preshared key or RSA private key for this connection: cannot respond");
		m->notify = N_NO_PROPOSAL_CHOSEN;
		free(reply);
		return STF_FATAL;
	}
	if (!ike_sa_select(sa->sa, &pol, &s->ike, reply, why, sizeof(why))) {
		LOGS_UNAUTH(s, "no acceptable Oakley transform: %s", why);
		m->notify = N_NO_PROPOSAL_CHOSEN;
		free(reply);
		return STF_FATAL;
	}
	s->sa_i_b_len = sa->body_len;
	s->sa_i_b = xmalloc(s->sa_i_b_len ? s->sa_i_b_len : 1);
	memcpy(s->sa_i_b, sa->body, s->sa_i_b_len);
	do
		crypto_random(s->rcookie, 8);
	while (cookie_is_zero(s->rcookie));
	set_algorithms(s);
	s->peer_caps = vid_scan(&m->md, c);

	struct pbuf pb;
	isakmp_header(&pb, s, PT_SA);
	emit_sa(&pb, reply);
	vid_emit_ours(&pb, s->peer_caps, 0);
	free(reply);
	v1_send_msg(s, &pb, false, NULL, true);
	pbuf_free(&pb);
	return STF_OK;
}

static void send_ke_nonce(struct v1_state *s, const uint8_t *g, const uint8_t *nonce, size_t nonce_len)
{
	struct pbuf pb;
	isakmp_header(&pb, s, PT_KE);
	emit_ke(&pb, g, s->g_len);
	emit_nonce(&pb, nonce, nonce_len);
	natt_emit_natd(s, &pb);
	v1_send_msg(s, &pb, false, NULL, true);
	pbuf_free(&pb);
}

/* MI2: our key pair comes from a helper (urgent: a tunnel we were asked
 * for); the run that comes back with it starts at the key pair. */
enum stf main_inR1_outI2(struct v1_state *s, struct v1_msg *m)
{
	struct connection *c = s->st->connection;
	struct v1_crypto_job *job = v1_crypto_ready(s);
	if (!job) {
		char why[200];
		const struct payload *sa = md_first(&m->md, PT_SA);
		if (!sa->sa || !s->proposed || !ike_sa_check_reply(s->proposed, sa->sa, &s->ike, why, sizeof(why))) {
			v1_fail(c, s->st, RC_LOG_SERIOUS, "%s: the responder's SA is not one we proposed: %s",
				state_name_str(s->st->name), sa->sa ? why : "undecodable");
			m->notify = N_NO_PROPOSAL_CHOSEN;
			return STF_FATAL;
		}
		free(s->proposed);
		s->proposed = NULL;
		s->peer_caps = vid_scan(&m->md, c);
		memcpy(s->rcookie, m->md.hdr.rcookie, 8);
		v1_rehash_isakmp(s);
		set_algorithms(s);
		s->g_len = dh_public_len(s->ike.group);
		s->ni_len = NONCE_LEN_OURS;
		crypto_random(s->ni, s->ni_len);
		job = v1_crypto_job_new(s, true);
		job->generate = true;
		job->group = s->ike.group;
		job->g_len = s->g_len;
		if (!v1_crypto_run(s, job))
			return STF_SUSPEND;
	}
	bool ok = job->generate_status == 0 && job->dh;
	if (ok) {
		s->dh = job->dh;
		job->dh = NULL;
		memcpy(s->g_i, job->our_pub, s->g_len);
	}
	v1_crypto_job_free(job);
	if (!ok) {
		v1_fail(c, s->st, RC_LOG_SERIOUS, "Diffie-Hellman key generation failed");
		return STF_FATAL;
	}
	send_ke_nonce(s, s->g_i, s->ni, s->ni_len);
	return STF_OK;
}

/* MR2: our key pair, g^xy and the SKEYID chain are a new Main Mode's
 * work in a helper (not urgent: an overload delays new tunnels first). */
enum stf main_inI2_outR2(struct v1_state *s, struct v1_msg *m)
{
	s->g_len = dh_public_len(s->ike.group);
	if (!check_ke(s, m, s->ike.group, s->g_i) || !check_nonce(s, m, s->ni, &s->ni_len))
		return STF_FAIL;
	struct v1_crypto_job *job = v1_crypto_ready(s);
	if (!job) {
		s->nr_len = NONCE_LEN_OURS;
		crypto_random(s->nr, s->nr_len);
		job = keys_job(s, m, false);
		if (!job)
			return STF_FAIL;
		if (!v1_crypto_run(s, job))
			return STF_SUSPEND;
	}
	bool ok = take_keys(s, m, job);
	bool fatal = job->generate_status < 0;
	v1_crypto_job_free(job);
	if (!ok)
		return fatal ? STF_FATAL : STF_FAIL;
	natt_check_natd(s, m);
	send_ke_nonce(s, s->g_r, s->nr, s->nr_len);
	return STF_OK;
}

/* The signature a helper made over exactly this hash, or NULL. */
static const uint8_t *signed_already(const struct v1_crypto_job *job, const uint8_t *h, size_t hash_len,
				     size_t *sig_len)
{
	if (!job || !job->sign || job->sign_status < 0 || job->hash_len != hash_len ||
	    memcmp(job->sign_hash, h, hash_len) != 0)
		return NULL;
	*sig_len = job->sig_len;
	return job->sig;
}

/* Our ID and HASH or SIG, encrypted (MI3 and MR3); pre: a helper's job
 * that may hold our signature already. */
static bool send_id_auth(struct v1_state *s, const struct v1_crypto_job *pre)
{
	struct connection *c = s->st->connection;
	struct pluto_id me;
	v1_our_id(c, &me);
	uint8_t id_b[4 + 256];
	size_t id_len = v1_id_body(&me, id_b);
	uint8_t h[CRYPTO_MAX_HASH];
	if (!phase1_hash(s, s->st->initiator, id_b, id_len, h))
		return false;
	struct pbuf pb;
	isakmp_header(&pb, s, PT_ID);
	v1_emit_id(&pb, &me);
	if (s->ike.auth == OAKLEY_RSA_SIG) {
		uint8_t sig[V1_SIG_MAX];
		size_t sig_len = sizeof(sig);
		const uint8_t *ready = signed_already(pre, h, s->keys->hash_len, &sig_len);
		const struct secret *key = ready ? NULL : v1_find_rsa(c);
		if (!ready && (!key || rsa_sign_hash(key->rsa, h, s->keys->hash_len, sig, &sig_len) < 0)) {
			LOGS(s, "cannot sign with our RSA private key");
			pbuf_free(&pb);
			return false;
		}
		emit_sig(&pb, ready ? ready : sig, sig_len);
	} else {
		emit_hash(&pb, h, s->keys->hash_len);
	}
	if (s->st->initiator)
		peer_replace_emit_initial_contact(s, &pb);
	bool ok = v1_send_msg(s, &pb, true, s->iv, true);
	pbuf_free(&pb);
	return ok;
}

/* For a job that signs HASH_x once the keys are derived (MI3): what the
 * hash covers, and our private key. False when there is nothing to sign
 * with (send_id_auth then says so). */
static bool sign_derived(struct v1_state *s, struct v1_crypto_job *job)
{
	struct connection *c = s->st->connection;
	const struct secret *key = v1_find_rsa(c);
	if (!key || !key->rsa || !s->sa_i_b)
		return false;
	struct pluto_id me;
	v1_our_id(c, &me);
	uint8_t id_b[4 + 256];
	job->id_b_len = v1_id_body(&me, id_b);
	job->id_b = xmalloc(job->id_b_len ? job->id_b_len : 1);
	memcpy(job->id_b, id_b, job->id_b_len);
	job->sa_i_b = xmalloc(s->sa_i_b_len ? s->sa_i_b_len : 1);
	memcpy(job->sa_i_b, s->sa_i_b, s->sa_i_b_len);
	job->sa_i_b_len = s->sa_i_b_len;
	EVP_PKEY_up_ref(key->rsa);
	job->sign_key = key->rsa;
	job->sign = job->sign_derived = true;
	return true;
}

/* MI3: g^xy, the SKEYID chain and, with RSA, our signature in one
 * helper job (urgent). */
enum stf main_inR2_outI3(struct v1_state *s, struct v1_msg *m)
{
	if (!check_ke(s, m, s->ike.group, s->g_r) || !check_nonce(s, m, s->nr, &s->nr_len))
		return STF_FAIL;
	struct v1_crypto_job *job = v1_crypto_ready(s);
	if (!job) {
		job = keys_job(s, m, true);
		if (!job)
			return STF_FAIL;
		if (s->ike.auth == OAKLEY_RSA_SIG)
			sign_derived(s, job);
		if (!v1_crypto_run(s, job))
			return STF_SUSPEND;
	}
	if (!take_keys(s, m, job)) {
		bool fatal = job->generate_status < 0;
		v1_crypto_job_free(job);
		return fatal ? STF_FATAL : STF_FAIL;
	}
	natt_check_natd(s, m);
	natt_float(s);
	bool sent = send_id_auth(s, job);
	v1_crypto_job_free(job);
	if (!sent) {
		v1_fail(s->st->connection, s->st, RC_LOG_SERIOUS, "cannot build MI3");
		return STF_FATAL;
	}
	return STF_OK;
}

/* The peer's ID payload and its HASH_x / SIG_x over it; pre: a helper's
 * job that may have checked the signature already. */
static bool verify_peer(struct v1_state *s, struct v1_msg *m, struct connection *c,
			const struct v1_crypto_job *pre)
{
	const struct payload *id = md_first(&m->md, PT_ID);
	uint8_t h[CRYPTO_MAX_HASH];
	if (!phase1_hash(s, !s->st->initiator, id->body, id->body_len, h))
		return false;
	if (s->ike.auth == OAKLEY_PRESHARED_KEY) {
		const struct payload *hp = md_first(&m->md, PT_HASH);
		if (!hp || hp->data_len != s->keys->hash_len || CRYPTO_memcmp(hp->data, h, hp->data_len) != 0) {
			LOGS(s, "%s: %s", state_name_str(s->st->name),
			     hp ? "received HASH does not match: the preshared keys differ"
				: "no HASH payload for preshared key authentication");
			m->notify = hp ? N_AUTHENTICATION_FAILED : N_PAYLOAD_MALFORMED;
			return false;
		}
		return true;
	}
	const struct payload *sig = md_first(&m->md, PT_SIG);
	if (!sig) {
		LOGS(s, "no SIG payload for RSA signature authentication");
		m->notify = N_PAYLOAD_MALFORMED;
		return false;
	}
	char ib[ID_STR_MAX];
	bool ok;
	if (pre && pre->verify && pre->hash_len == s->keys->hash_len && !memcmp(pre->verify_hash, h, pre->hash_len) &&
	    pre->verify_sig_len == sig->data_len && !memcmp(pre->verify_sig, sig->data, sig->data_len)) {
		ok = pre->verified;
	} else {
		EVP_PKEY *pub = v1_peer_pubkey(c, s->peer_id);
		if (!pub) {
			LOGS(s, "no RSA public key known for %s", id_str(s->peer_id, ib));
			m->notify = N_AUTHENTICATION_FAILED;
			return false;
		}
		ok = rsa_verify_hash(pub, h, s->keys->hash_len, sig->data, sig->data_len);
		EVP_PKEY_free(pub);
	}
	if (!ok) {
		LOGS(s, "RSA signature of %s does not verify", id_str(s->peer_id, ib));
		m->notify = N_INVALID_SIGNATURE;
	}
	return ok;
}

/* With RSA signatures: a job that checks the peer's SIG over its ID
 * (c's public key for the peer's ID) and, when sign, makes ours as c's
 * side; NULL when there is nothing to hand a helper (no SIG, no key: the
 * inline checks then say what is missing). */
static struct v1_crypto_job *rsa_job(struct v1_state *s, struct v1_msg *m, struct connection *c, bool sign)
{
	const struct payload *id = md_first(&m->md, PT_ID);
	const struct payload *sig = md_first(&m->md, PT_SIG);
	if (s->ike.auth != OAKLEY_RSA_SIG || !sig || sig->data_len > V1_SIG_MAX)
		return NULL;
	const struct secret *key = sign ? v1_find_rsa(c) : NULL;
	if (sign && (!key || !key->rsa))
		return NULL;
	EVP_PKEY *pub = v1_peer_pubkey(c, s->peer_id);
	if (!pub)
		return NULL;
	struct v1_crypto_job *job = v1_crypto_job_new(s, true);
	job->verify = true;
	job->verify_key = pub;
	job->hash_len = s->keys->hash_len;
	memcpy(job->verify_sig, sig->data, sig->data_len);
	job->verify_sig_len = sig->data_len;
	bool ok = phase1_hash(s, !s->st->initiator, id->body, id->body_len, job->verify_hash);
	if (ok && sign) {
		struct pluto_id me;
		v1_our_id(c, &me);
		uint8_t id_b[4 + 256];
		size_t id_len = v1_id_body(&me, id_b);
		ok = phase1_hash(s, s->st->initiator, id_b, id_len, job->sign_hash);
		EVP_PKEY_up_ref(key->rsa);
		job->sign_key = key->rsa;
		job->sign = true;
	}
	if (!ok) {
		v1_crypto_job_free(job);
		return NULL;
	}
	return job;
}

/* The RSA job for this message: its results when it ran, else a new one
 * handed to a helper (*suspend) or run inline. NULL with PSK. */
static struct v1_crypto_job *rsa_work(struct v1_state *s, struct v1_msg *m, struct connection *c, bool sign,
				      bool *suspend)
{
	*suspend = false;
	struct v1_crypto_job *job = v1_crypto_ready(s);
	if (job || s->ike.auth != OAKLEY_RSA_SIG)
		return job;
	job = rsa_job(s, m, c, sign);
	if (job && !v1_crypto_run(s, job)) {
		*suspend = true;
		return NULL;
	}
	return job;
}

static bool read_peer_id(struct v1_state *s, struct v1_msg *m)
{
	char why[160];
	if (!v1_id_from_payload(md_first(&m->md, PT_ID), s->peer_id, why, sizeof(why))) {
		LOGS(s, "peer's ID payload refused: %s", why);
		m->notify = N_INVALID_ID_INFORMATION;
		return false;
	}
	return true;
}

static void ike_established(struct v1_state *s, const struct v1_msg *m)
{
	struct state *st = s->st;
	struct connection *c = st->connection;
	char idb[ID_STR_MAX];
	state_set_peer_id(st, id_str(s->peer_id, idb));
	/* lifetimes first: whoever sees Established turn true sees ExpiresAt too */
	v1_sa_lifetime(s, s->ike.lifetime ? s->ike.lifetime : c->cfg.ikelifetime);
	natt_follow(s, m);
	natt_established(s);
	v1_established(s);
	/* the SA payload and the DH secret are not needed any more */
	if (s->dh) {
		dh_secret_free(s->dh);
		s->dh = NULL;
	}
	peer_replace_established(s, m);   /* INITIAL_CONTACT, uniqueids */
}

/* MR3 */
enum stf main_inI3_outR3(struct v1_state *s, struct v1_msg *m)
{
	struct connection *c = s->st->connection;
	if (!read_peer_id(s, m))
		return STF_FAIL;
	const struct secret *psk = s->ike.auth == OAKLEY_PRESHARED_KEY ? v1_find_psk(c) : NULL;
	struct connection *better = v1_conn_refine_id(c, &s->st->peer, s->peer_id, s->ike.auth, psk);
	char ib[ID_STR_MAX];
	if (!better) {
		LOGS(s, "no connection is known for peer id %s with this authentication; negotiation ends",
		     id_str(s->peer_id, ib));
		m->notify = N_INVALID_ID_INFORMATION;
		return STF_FATAL;
	}
	bool suspend;
	struct v1_crypto_job *job = rsa_work(s, m, better, true, &suspend);
	if (suspend || !verify_peer(s, m, better, job)) {
		/* better may be an instance made for this ID: the state stays
		 * on c, so collect it, or every retried MI3 would leave one
		 * (one found again when the helper's results are back) */
		v1_crypto_job_free(job);
		if (better != c)
			v1_schedule_instance_gc(better);
		return suspend ? STF_SUSPEND : STF_FAIL;
	}
	if (better != c) {
		llog(LOGGER(better, s->st), LS_INFO, MSGID_STATE, "switched from \"%s\" to \"%s\" for peer id %s",
		     c->name, better->name, id_str(s->peer_id, ib));
		v1_switch_connection(s->st, better);
	}
	natt_follow(s, m);   /* MR3 goes back the way MI3 came (NAT-T port) */
	bool sent = send_id_auth(s, job);
	v1_crypto_job_free(job);
	if (!sent)
		return STF_FATAL;
	ike_established(s, m);
	return STF_OK;
}

/* I4 */
enum stf main_inR3(struct v1_state *s, struct v1_msg *m)
{
	struct connection *c = s->st->connection;
	if (!read_peer_id(s, m)) {
		v1_fail(c, s->st, RC_NOTIFICATION + N_INVALID_ID_INFORMATION, "%s: peer's ID payload refused",
			state_name_str(s->st->name));
		return STF_FATAL;
	}
	struct pluto_id want;
	v1_peer_id(c, &want);
	char ib[ID_STR_MAX], wb[ID_STR_MAX];
	if (want.kind != ID_ANY && !id_equal(&want, s->peer_id)) {
		v1_fail(c, s->st, RC_NOTIFICATION + N_INVALID_ID_INFORMATION,
			"%s: we require peer id %s but the peer says it is %s", state_name_str(s->st->name),
			id_str(&want, wb), id_str(s->peer_id, ib));
		m->notify = N_INVALID_ID_INFORMATION;
		return STF_FATAL;
	}
	bool suspend;
	struct v1_crypto_job *job = rsa_work(s, m, c, false, &suspend);
	if (suspend)
		return STF_SUSPEND;
	bool verified = verify_peer(s, m, c, job);
	v1_crypto_job_free(job);
	if (!verified) {
		v1_fail(c, s->st, RC_NOTIFICATION + m->notify, "%s: peer authentication failed (%s)",
			state_name_str(s->st->name), notify_type_name(m->notify));
		return STF_FATAL;
	}
	ike_established(s, m);
	return STF_OK;
}

