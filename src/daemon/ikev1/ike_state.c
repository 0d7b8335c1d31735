/* IKEv1 per-state data: allocation, the cookie and message-id hash
 * tables, and the sd-event timers (retransmission, responder timeout,
 * hard expiry). */
#include "daemon/ikev1/ike_sa.h"

#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <systemd/sd-event.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/ikev1/dpd.h"
#include "daemon/events.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/ikev1/v1_crypto.h"
#include "daemon/log.h"
#include "daemon/ikev1/nat_traversal.h"

/* What an exchange computes and then no longer needs (ike_sa.h). */
struct v1_exchange_values {
	uint8_t g_i[CRYPTO_MAX_DH], g_r[CRYPTO_MAX_DH], gxy[CRYPTO_MAX_DH];
	uint8_t ni[NONCE_LEN_MAX], nr[NONCE_LEN_MAX];
};

/* They grow with the states (a fixed table of 1,024 buckets held 50
 * ISAKMP SAs and 50 Quick Modes per chain at 50,000 tunnels). */
static struct hindex cookie_index, msgid_index;
static sd_event *loop;

bool cookie_is_zero(const uint8_t cookie[8])
{
	static const uint8_t zero[8];
	return memcmp(cookie, zero, 8) == 0;
}

/* The initiator cookie is the peer's choice: hashed, not taken as is,
 * so a peer cannot pick cookies that share a bucket by their low bits. */
static uint32_t cookie_hash(const uint8_t icookie[8])
{
	return hash_bytes(HASH_SEED, icookie, 8);
}

static uint32_t msgid_hash(const uint8_t icookie[8], uint32_t msgid)
{
	return hash_bytes(hash_bytes(HASH_SEED, icookie, 8), &msgid, sizeof(msgid));
}

/* What only an ISAKMP SA holds (ike_sa.h: keys, peer_id), in one block,
 * keys first (s->keys leads back to it). msgids: the message IDs of its
 * phase-2, Transaction and Informational exchanges, ours and the peer's
 * (msgid_memory.h), so that a repeat is dropped once its exchange is
 * over; made with the first one (a half-open SA has none). */
struct v1_isakmp_block {
	struct ike_keys keys;
	struct pluto_id peer_id;
	struct msgid_memory *msgids;
};

static struct v1_isakmp_block *isakmp_block(const struct v1_state *s)
{
	return s->keys ? (struct v1_isakmp_block *)(void *)s->keys : NULL;   /* its first member */
}

struct v1_state *v1_state_new(struct connection *c, enum state_kind kind, bool initiator,
			      const ip_address *peer, uint16_t peer_port,
			      const ip_address *local, uint16_t local_port)
{
	struct v1_state *s = xcalloc(1, sizeof(*s));
	struct v1_exchange_values *x = xcalloc(1, sizeof(*x));
	s->exchange_values = x;
	s->g_i = x->g_i;
	s->g_r = x->g_r;
	s->gxy = x->gxy;
	s->ni = x->ni;
	s->nr = x->nr;
	if (kind == STATE_KIND_ISAKMP) {
		struct v1_isakmp_block *b = xcalloc(1, sizeof(*b));
		s->keys = &b->keys;
		s->peer_id = &b->peer_id;
	}
	struct state *st = state_new(c, kind, initiator);
	st->v1 = s;
	s->st = st;
	state_set_peer(st, peer);
	st->peer_port = peer_port;
	s->local = *local;
	s->local_port = local_port;
	return s;
}

void v1_hash_isakmp(struct v1_state *s)
{
	hindex_del(&cookie_index, &s->cookie_link);
	hindex_add(&cookie_index, &s->cookie_link, cookie_hash(s->icookie));
}

static void unhash_isakmp(struct v1_state *s)
{
	hindex_del(&cookie_index, &s->cookie_link);
}

/* The bucket only depends on the initiator cookie: nothing to move. */
void v1_rehash_isakmp(struct v1_state *s)
{
	(void)s;
}

struct v1_state *v1_find_isakmp(const uint8_t icookie[8], const uint8_t rcookie[8])
{
	bool rzero = cookie_is_zero(rcookie);
	struct v1_state *wild = NULL;
	uint32_t h = cookie_hash(icookie);
	for (struct hlink *l = hindex_first(&cookie_index, h); l; l = hlink_next_same(l, h)) {
		struct v1_state *s = HLINK_OWNER(l, struct v1_state, cookie_link);
		if (memcmp(s->icookie, icookie, 8) != 0)
			continue;
		if (memcmp(s->rcookie, rcookie, 8) == 0)
			return s;
		if (rzero || cookie_is_zero(s->rcookie))
			wild = s;
	}
	return wild;
}

void v1_hash_phase2(struct v1_state *s)
{
	hindex_del(&msgid_index, &s->msgid_link);
	hindex_add(&msgid_index, &s->msgid_link, msgid_hash(s->icookie, s->msgid));
}

static void unhash_phase2(struct v1_state *s)
{
	hindex_del(&msgid_index, &s->msgid_link);
}

struct v1_state *v1_find_phase2(const uint8_t icookie[8], const uint8_t rcookie[8], uint32_t msgid)
{
	uint32_t h = msgid_hash(icookie, msgid);
	for (struct hlink *l = hindex_first(&msgid_index, h); l; l = hlink_next_same(l, h)) {
		struct v1_state *s = HLINK_OWNER(l, struct v1_state, msgid_link);
		if (s->msgid == msgid && memcmp(s->icookie, icookie, 8) == 0 &&
		    memcmp(s->rcookie, rcookie, 8) == 0)
			return s;
	}
	return NULL;
}

bool v1_msgid_used(const struct v1_state *isakmp, uint32_t msgid)
{
	const struct v1_isakmp_block *b = isakmp_block(isakmp);
	return b && b->msgids && msgid_memory_has(b->msgids, msgid);
}

void v1_msgid_remember(struct v1_state *isakmp, enum msgid_lane lane, uint32_t msgid)
{
	struct v1_isakmp_block *b = isakmp_block(isakmp);
	if (msgid == 0 || !b)
		return;
	if (!b->msgids)
		b->msgids = xcalloc(1, sizeof(*b->msgids));
	msgid_memory_add(b->msgids, lane, msgid);
}

uint32_t v1_msgid_new(struct v1_state *isakmp, enum msgid_lane lane)
{
	uint32_t msgid;
	do
		crypto_random(&msgid, sizeof(msgid));
	while (msgid == 0 || v1_msgid_used(isakmp, msgid) ||
	       v1_find_phase2(isakmp->icookie, isakmp->rcookie, msgid));
	v1_msgid_remember(isakmp, lane, msgid);
	return msgid;
}

struct v1_state *v1_parent(const struct v1_state *s)
{
	struct state *p = s->isakmp_serial ? state_by_serial(s->isakmp_serial) : NULL;
	return p ? p->v1 : NULL;
}

static void wipe_free(uint8_t *p, size_t len)
{
	if (p) {
		OPENSSL_cleanse(p, len);
		free(p);
	}
}

void v1_exchange_done(struct v1_state *s, bool keep_last_sent)
{
	if (s->exchange_values) {
		wipe_free((uint8_t *)s->exchange_values, sizeof(*s->exchange_values));
		s->exchange_values = NULL;
		s->g_i = s->g_r = s->gxy = s->ni = s->nr = NULL;
		s->g_len = s->gxy_len = s->ni_len = s->nr_len = 0;
	}
	if (s->dh) {
		dh_secret_free(s->dh);
		s->dh = NULL;
	}
	free(s->sa_i_b);
	s->sa_i_b = NULL;
	s->sa_i_b_len = 0;
	free(s->proposed);
	s->proposed = NULL;
	free(s->qm_proposed);
	s->qm_proposed = NULL;
	if (!keep_last_sent) {
		free(s->last_sent);
		s->last_sent = NULL;
		s->last_sent_len = 0;
	}
}

void v1_state_free_hook(struct state *st)
{
	struct v1_state *s = st->v1;
	if (!s)
		return;
	unhash_isakmp(s);
	unhash_phase2(s);
	s->retransmit_timer = sd_event_source_disable_unref(s->retransmit_timer);
	s->expire_timer = sd_event_source_disable_unref(s->expire_timer);
	v1_rekey_free(s);
	dpd_free(s);
	natt_state_free(s);
	transaction_free(s);   /* the Mode Config lease goes back to its pool */
	v1_crypto_state_free(s);   /* a job still running is cancelled: its result is dropped */
	v1_exchange_done(s, false);
	free(s->last_recv);
	wipe_free(s->keymat_in, s->keymat_len);
	wipe_free(s->keymat_out, s->keymat_len);
	free(s->lease_identity);
	struct v1_isakmp_block *b = isakmp_block(s);
	if (b) {
		free(b->msgids);
		OPENSSL_cleanse(b, sizeof(*b));
		free(b);
	}
	ikev1_state_gone(st);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
	st->v1 = NULL;
}

/* --- timers --- */

void v1_timers_init(sd_event *event)
{
	loop = event;
}

uint64_t v1_mono_now(void)
{
	uint64_t now = 0;
	if (!loop || sd_event_now(loop, CLOCK_MONOTONIC, &now) < 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
	}
	return now;
}

static int on_retransmit(sd_event_source *src, uint64_t usec, void *ud)
{
	struct v1_state *s = ud;
	(void)src;
	(void)usec;
	if (s->timer_is_timeout)
		ikev1_responder_timeout(s);
	else
		ikev1_retransmit(s);
	return 0;
}

bool v1_arm_timer(struct v1_state *s, sd_event_source **src, uint64_t usec, sd_event_time_handler_t fn)
{
	if (!loop)
		return false;
	uint64_t when = v1_mono_now() + usec;
	if (*src) {
		sd_event_source_set_time(*src, when);
		sd_event_source_set_enabled(*src, SD_EVENT_ONESHOT);
		return true;
	}
	if (sd_event_add_time(loop, src, CLOCK_MONOTONIC, when, 0, fn, s) < 0) {
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "cannot arm a timer of #%u", s->st->serial);
		return false;
	}
	return true;
}

static void set_timer(struct v1_state *s, uint64_t delay_usec)
{
	v1_arm_timer(s, &s->retransmit_timer, delay_usec, on_retransmit);
}

void v1_arm_retransmit(struct v1_state *s)
{
	s->timer_is_timeout = false;
	set_timer(s, ikev1_retransmit_delay(s->retransmits));
}

void v1_stop_retransmit(struct v1_state *s)
{
	if (s->retransmit_timer)
		sd_event_source_set_enabled(s->retransmit_timer, SD_EVENT_OFF);
}

void v1_arm_responder_timeout(struct v1_state *s)
{
	s->timer_is_timeout = true;
	/* a half-open state's shrinks when its pool fills (half_open.h) */
	set_timer(s, half_open_counted(&s->half_open) ? half_open_timeout_usec(&s->half_open)
						       : RESPONDER_TIMEOUT_USEC);
}

static int on_expire(sd_event_source *src, uint64_t usec, void *ud)
{
	(void)src;
	(void)usec;
	ikev1_expire(ud);
	return 0;
}

uint64_t v1_realtime_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

void v1_arm_expiry(struct v1_state *s, uint64_t seconds)
{
	s->st->expires_at_usec = v1_realtime_now() + seconds * 1000000ULL;
	s->expire_at_mono = v1_mono_now() + seconds * 1000000ULL;
	v1_arm_timer(s, &s->expire_timer, seconds * 1000000ULL, on_expire);
	event_state(EV_STATE_CHANGED, s->st, VIEW_STATE__ALL);
}
