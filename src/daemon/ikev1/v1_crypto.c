/* Main Mode crypto jobs (v1_crypto.h). */
#include "daemon/ikev1/v1_crypto.h"

#include <string.h>

#include <openssl/crypto.h>

#include "common/util.h"
#include "daemon/demux.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"

/* the message a job's state waits with */
struct v1_parked {
	uint8_t *packet;
	size_t len;
	ip_address local, from;
	uint16_t local_port, from_port;
};

static void job_work(struct helper_job *h);
static void job_done(struct helper_job *h);
static void job_release(struct helper_job *h);

struct v1_crypto_job *v1_crypto_job_new(const struct v1_state *s, bool urgent)
{
	struct v1_crypto_job *job = xcalloc(1, sizeof(*job));
	job->h = (struct helper_job){ .serial = s->st->serial, .urgent = urgent, .work = job_work,
				      .done = job_done, .release = job_release };
	return job;
}

void v1_crypto_job_free(struct v1_crypto_job *job)
{
	if (!job)
		return;
	if (job->dh)
		dh_secret_free(job->dh);
	EVP_PKEY_free(job->verify_key);
	EVP_PKEY_free(job->sign_key);
	if (job->psk) {
		OPENSSL_cleanse(job->psk, job->psk_len);
		free(job->psk);
	}
	free(job->sa_i_b);
	free(job->id_b);
	OPENSSL_cleanse(job, sizeof(*job));
	free(job);
}

/* --- in a worker (or inline): the job's own memory only --- */

static void derive(struct v1_crypto_job *job)
{
	const uint8_t *g_i = job->initiator ? job->our_pub : job->peer_pub;
	const uint8_t *g_r = job->initiator ? job->peer_pub : job->our_pub;
	if (dh_compute(job->dh, job->peer_pub, job->g_len, job->gxy, &job->gxy_len, job->why,
		       sizeof(job->why)) < 0) {
		job->dh_refused = true;
		job->derive_status = -1;
		return;
	}
	struct chunk ni = CHUNK(job->ni, job->ni_len), nr = CHUNK(job->nr, job->nr_len);
	struct chunk gxy = CHUNK(job->gxy, job->gxy_len);
	int r = job->auth == OAKLEY_PRESHARED_KEY
		? ikev1_skeyid_psk(job->hash, CHUNK(job->psk, job->psk_len), ni, nr, &job->keys)
		: ikev1_skeyid_sig(job->hash, ni, nr, gxy, &job->keys);
	if (r < 0 ||
	    ikev1_skeyid_derive(job->hash, job->cipher, job->key_bits, gxy, job->icookie, job->rcookie,
				&job->keys) < 0 ||
	    ikev1_phase1_iv(job->hash, job->cipher, CHUNK(g_i, job->g_len), CHUNK(g_r, job->g_len), job->iv) < 0)
		job->derive_status = -1;
}

static void job_work(struct helper_job *h)
{
	struct v1_crypto_job *job = (struct v1_crypto_job *)h;
	if (job->generate && !job->dh)
		job->generate_status = dh_generate(job->group, &job->dh, job->our_pub);
	if (job->generate_status < 0)
		return;
	if (job->derive) {
		derive(job);
		if (job->derive_status < 0)
			return;
	}
	if (job->verify)
		job->verified = rsa_verify_hash(job->verify_key, job->verify_hash, job->hash_len, job->verify_sig,
						job->verify_sig_len);
	if (job->sign && job->sign_derived) {
		/* HASH_x over the keys just derived: what send_id_auth signs */
		const uint8_t *g_i = job->initiator ? job->our_pub : job->peer_pub;
		const uint8_t *g_r = job->initiator ? job->peer_pub : job->our_pub;
		job->hash_len = job->keys.hash_len;
		if (ikev1_phase1_hash(job->hash, &job->keys, job->initiator, CHUNK(g_i, job->g_len),
				      CHUNK(g_r, job->g_len), job->icookie, job->rcookie,
				      CHUNK(job->sa_i_b, job->sa_i_b_len), CHUNK(job->id_b, job->id_b_len),
				      job->sign_hash) < 0) {
			job->sign_status = -1;
			return;
		}
	}
	if (job->sign) {
		job->sig_len = sizeof(job->sig);
		job->sign_status = rsa_sign_hash(job->sign_key, job->sign_hash, job->hash_len, job->sig,
						 &job->sig_len);
	}
}

/* --- in the loop --- */

static struct v1_state *job_state(const struct v1_crypto_job *job)
{
	struct state *st = state_by_serial(job->h.serial);
	struct v1_state *s = st ? st->v1 : NULL;
	/* keyed by serial, and the state must still wait for this very job */
	return s && s->crypto_job == job ? s : NULL;
}

static void free_parked(struct v1_parked *p)
{
	if (p) {
		free(p->packet);
		free(p);
	}
}

static void job_done(struct helper_job *h)
{
	struct v1_crypto_job *job = (struct v1_crypto_job *)h;
	struct v1_state *s = job_state(job);
	if (!s) {
		DBG(DBG_CONTROL, NULL, "crypto result for #%u dropped: the state is gone", h->serial);
		return;
	}
	s->crypto_job = NULL;
	/* the state takes a copy with what the job owns; the pool releases
	 * the emptied original after this */
	struct v1_crypto_job *mine = xmalloc(sizeof(*mine));
	memcpy(mine, job, sizeof(*mine));
	job->dh = NULL;
	job->verify_key = job->sign_key = NULL;
	job->psk = job->sa_i_b = job->id_b = NULL;
	v1_crypto_job_free(s->crypto_done);
	s->crypto_done = mine;
	struct v1_parked *p = s->parked;
	s->parked = NULL;
	if (p)
		v1_replay(s, p->packet, p->len, &p->local, p->local_port, &p->from, p->from_port);
	free_parked(p);
	/* the replay did not take the results (the message was refused
	 * before its handler): they are of no further use */
	struct state *st = state_by_serial(h->serial);
	if (st && st->v1 && st->v1->crypto_done == mine) {
		st->v1->crypto_done = NULL;
		v1_crypto_job_free(mine);
	}
}

static void job_release(struct helper_job *h)
{
	v1_crypto_job_free((struct v1_crypto_job *)h);
}

bool v1_crypto_run(struct v1_state *s, struct v1_crypto_job *job)
{
	if (!helpers_submit(&job->h))
		return true;
	s->crypto_job = job;
	return false;
}

struct v1_crypto_job *v1_crypto_ready(struct v1_state *s)
{
	struct v1_crypto_job *job = s->crypto_done;
	s->crypto_done = NULL;
	return job;
}

void v1_crypto_park(struct v1_state *s, const struct v1_msg *m)
{
	free_parked(s->parked);
	struct v1_parked *p = xcalloc(1, sizeof(*p));
	p->packet = xmalloc(m->packet_len ? m->packet_len : 1);
	memcpy(p->packet, m->packet, m->packet_len);
	p->len = m->packet_len;
	p->local = m->ifp->addr;
	p->local_port = m->ifp->port;
	p->from = m->from;
	p->from_port = m->from_port;
	s->parked = p;
}

void v1_crypto_state_free(struct v1_state *s)
{
	if (s->crypto_job) {
		helpers_cancel(&s->crypto_job->h);   /* the pool releases it */
		s->crypto_job = NULL;
	}
	v1_crypto_job_free(s->crypto_done);
	s->crypto_done = NULL;
	free_parked(s->parked);
	s->parked = NULL;
}
