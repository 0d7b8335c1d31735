/* Dead Peer Detection (RFC 3706) for the IKEv1 engine: the options, the
 * sequence numbers, answering R-U-THERE, and the per-ISAKMP-SA timer that
 * asks and declares a silent peer dead. What it does is in dpd.h and in
 * pluto(8), section DEAD PEER DETECTION. */
#include "daemon/ikev1/dpd.h"

#include <stdio.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/engine.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
#include "daemon/ikev1/vendor.h"
#include "klips/routing.h"

/* What one ISAKMP SA remembers (v1_state.dpd; only while DPD watches it). */
struct dpd {
	struct dpd_seq seq;
	uint64_t last_heard;         /* CLOCK_MONOTONIC usec: last authenticated message */
	uint64_t last_sent;          /* CLOCK_MONOTONIC usec: last R-U-THERE, 0 = none yet */
	struct sd_event_source *timer;
};

/* --- sequence numbers --- */

void dpd_seq_init(struct dpd_seq *q, uint32_t random)
{
	/* RFC 3706 7: a random start makes a replayed ACK of an earlier SA
	 * useless; below 2^31 so it does not wrap for years */
	q->next = random & 0x7fffffffu;
	if (q->next == 0)
		q->next = 1;
	q->first_unacked = q->next;
	q->outstanding = false;
}

uint32_t dpd_seq_send(struct dpd_seq *q)
{
	if (!q->outstanding) {
		q->first_unacked = q->next;
		q->outstanding = true;
	}
	uint32_t seq = q->next++;
	if (q->next == 0)
		q->next = 1;
	return seq;
}

bool dpd_seq_ack(struct dpd_seq *q, uint32_t seq)
{
	if (!q->outstanding)
		return false;
	/* in [first_unacked, next): unsigned differences survive the wrap */
	if (seq - q->first_unacked >= q->next - q->first_unacked)
		return false;
	q->outstanding = false;
	q->first_unacked = q->next;
	return true;
}

/* --- time --- */

#define USEC(s) ((uint64_t)(s) * 1000000ULL)
/* sd-event may coalesce wake-ups within this (its default is 250 ms,
 * a quarter of a short dpddelay) */
#define DPD_ACCURACY_USEC 100000ULL

static bool wants_dpd(const struct v1_state *s)
{
	const struct connection *c = s->st->connection;
	return c && c->cfg.dpddelay > 0 && (s->peer_caps & VID_DPD) && s->st->kind == STATE_KIND_ISAKMP &&
	       s->st->established && s->have_keys;
}

/* --- the dead peer --- */

static void delete_ipsec(struct state *st, void *ud)
{
	(void)ud;
	if (st->kind == STATE_KIND_IPSEC)
		v1_delete_state(st, false);
}

static void delete_any(struct state *st, void *ud)
{
	(void)ud;
	v1_delete_state(st, false);
}

static void peer_dead(struct connection *c, struct state *st, unsigned long long silent)
{
	enum dpd_action action = (enum dpd_action)c->cfg.dpdaction;
	bool instance = c->template != NULL;
	bool phase2 = c->cfg.policy & (POLICY_ENCRYPT | POLICY_AUTHENTICATE);
	llog(LOGGER(c, st), LS_SERIOUS, MSGID_STATE,
	     "DPD: no response from peer for %llu s: peer declared dead; dpdaction=%s%s", silent,
	     dpd_action_name(action), instance && action != DPD_ACTION_CLEAR ? " (an instance: clear)" : "");
	if (instance)
		action = DPD_ACTION_CLEAR;
	/* a dead peer gets no Delete; IPsec SAs first, as everywhere */
	states_for_connection(c, delete_ipsec, NULL);
	states_for_connection(c, delete_any, NULL);
	if (instance)
		return;   /* the instance goes with its states (v1_schedule_instance_gc) */
	struct ctl_error err;
	switch (action) {
	case DPD_ACTION_CLEAR:
		if (c->cfg.auto_action == AUTO_ROUTE && phase2) {
			if (routing_route(c, false, &err) < 0)
				llog(CONN_LOGGER(c), LS_SERIOUS, MSGID_STATE, "DPD: %s", err.message);
		} else if (c->routing != RT_UNROUTED && routing_unroute(c, false, &err) < 0) {
			llog(CONN_LOGGER(c), LS_SERIOUS, MSGID_STATE, "DPD: %s", err.message);
		}
		llog(CONN_LOGGER(c), LS_INFO, MSGID_STATE, "DPD: connection cleared (%s)",
		     routing_state_name(c->routing));
		break;
	case DPD_ACTION_HOLD:
		if (phase2 && c->routing == RT_UNROUTED && routing_route(c, false, &err) < 0)
			llog(CONN_LOGGER(c), LS_SERIOUS, MSGID_STATE, "DPD: cannot hold: %s", err.message);
		llog(CONN_LOGGER(c), LS_INFO, MSGID_STATE,
		     "DPD: holding (%s): outbound traffic negotiates again", routing_state_name(c->routing));
		break;
	case DPD_ACTION_RESTART:
		llog(CONN_LOGGER(c), LS_INFO, MSGID_STATE, "DPD: restarting the connection");
		if (engine_core_initiate(c, &err) < 0)
			llog(CONN_LOGGER(c), LS_SERIOUS, MSGID_STATE, "DPD: cannot restart: %s", err.message);
		break;
	}
}

/* --- the timer --- */

static int on_timer(sd_event_source *src, uint64_t usec, void *ud);

static void arm(struct v1_state *s, uint64_t when)
{
	struct dpd *d = s->dpd;
	if (!ikev1_loop)
		return;
	if (d->timer) {
		sd_event_source_set_time(d->timer, when);
		sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
	} else if (sd_event_add_time(ikev1_loop, &d->timer, CLOCK_MONOTONIC, when, DPD_ACCURACY_USEC, on_timer, s) < 0) {
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "cannot arm the DPD timer of #%u", s->st->serial);
	}
}

static void send_r_u_there(struct v1_state *s)
{
	uint8_t spi[16], data[4];
	uint32_t seq = dpd_seq_send(&s->dpd->seq);
	memcpy(spi, s->icookie, 8);
	memcpy(spi + 8, s->rcookie, 8);
	put_be32(data, seq);
	DBG(DBG_CONTROL, s->st->connection, "DPD: #%u: sending R-U-THERE seq %u", s->st->serial, seq);
	v1_send_protected_notify(s, PROTO_ISAKMP, spi, 16, N_R_U_THERE, data, 4);
	s->dpd->last_sent = v1_mono_now();
}

static int on_timer(sd_event_source *src, uint64_t usec, void *ud)
{
	struct v1_state *s = ud;
	struct state *st = s->st;
	struct connection *c = st->connection;
	struct dpd *d = s->dpd;
	(void)src;
	uint64_t now = usec > v1_mono_now() ? usec : v1_mono_now();
	if (!wants_dpd(s))
		return 0;   /* the connection changed under us: nothing to watch */
	/* the newest ISAKMP SA of the connection does the asking */
	if (c->newest_isakmp != st->serial && state_by_serial(c->newest_isakmp)) {
		DBG(DBG_CONTROL, c, "DPD: #%u is not the newest ISAKMP SA (#%u): stops", st->serial,
		    c->newest_isakmp);
		return 0;
	}
	uint64_t delay = USEC(c->cfg.dpddelay), timeout = USEC(c->cfg.dpdtimeout);
	uint64_t silent = now - d->last_heard;
	if (silent >= timeout) {
		peer_dead(c, st, (unsigned long long)(silent / 1000000ULL));   /* frees s and d */
		return 0;
	}
	/* an R-U-THERE sent after the last thing we heard is still waiting */
	bool waiting = d->seq.outstanding && d->last_sent >= d->last_heard;
	uint64_t next;
	if (silent < delay) {
		next = d->last_heard + delay;
	} else if (waiting && now - d->last_sent < delay) {
		next = d->last_sent + delay;
	} else {
		send_r_u_there(s);
		next = now + delay;
	}
	if (next > d->last_heard + timeout)
		next = d->last_heard + timeout;
	arm(s, next);
	return 0;
}

/* --- hooks --- */

static struct v1_state *isakmp_of(struct v1_state *s)
{
	return s->st->kind == STATE_KIND_ISAKMP ? s : v1_parent(s);
}

void dpd_heard(struct v1_state *s)
{
	struct v1_state *isakmp = s ? isakmp_of(s) : NULL;
	if (!isakmp)
		return;
	if (isakmp->dpd) {
		isakmp->dpd->last_heard = v1_mono_now();
		return;
	}
	if (!wants_dpd(isakmp))
		return;
	struct connection *c = isakmp->st->connection;
	struct dpd *d = xcalloc(1, sizeof(*d));
	uint32_t r;
	crypto_random(&r, sizeof(r));
	dpd_seq_init(&d->seq, r);
	d->last_heard = v1_mono_now();
	isakmp->dpd = d;
	llog(LOGGER(c, isakmp->st), LS_INFO, MSGID_STATE,
	     "DPD: active, delay %llu s, timeout %llu s, action %s", c->cfg.dpddelay, c->cfg.dpdtimeout,
	     dpd_action_name((enum dpd_action)c->cfg.dpdaction));
	arm(isakmp, d->last_heard + USEC(c->cfg.dpddelay));
}

void dpd_notification(struct v1_state *isakmp, const struct payload *p)
{
	struct state *st = isakmp->st;
	struct connection *c = st->connection;
	const char *what = p->u.n.type == N_R_U_THERE ? "R-U-THERE" : "R-U-THERE-ACK";
	/* with RSA signatures anyone who did the DH has SKEYID_a: before
	 * Main Mode verified the peer, nothing it says counts */
	if (!st->established) {
		llog(LOGGER(c, st), LS_SERIOUS, MSGID_GENERIC,
		     "DPD: %s over an ISAKMP SA not yet established; ignored", what);
		return;
	}
	if (p->u.n.protocol != PROTO_ISAKMP || p->u.n.spi_size != 16) {
		llog(LOGGER(c, st), LS_SERIOUS, MSGID_GENERIC,
		     "DPD: %s with protocol %u and SPI size %u (must be ISAKMP and 16); ignored", what,
		     p->u.n.protocol, p->u.n.spi_size);
		return;
	}
	if (memcmp(p->u.n.spi, isakmp->icookie, 8) != 0 || memcmp(p->u.n.spi + 8, isakmp->rcookie, 8) != 0) {
		llog(LOGGER(c, st), LS_SERIOUS, MSGID_GENERIC,
		     "DPD: %s whose SPI is not this ISAKMP SA's cookies; ignored", what);
		return;
	}
	if (p->data_len != 4) {
		llog(LOGGER(c, st), LS_SERIOUS, MSGID_GENERIC,
		     "DPD: %s with %zu bytes of data (must be a 4-byte sequence number); ignored", what,
		     p->data_len);
		return;
	}
	uint32_t seq = get_be32(p->data);
	if (p->u.n.type == N_R_U_THERE) {
		DBG(DBG_CONTROL, c, "DPD: #%u: received R-U-THERE seq %u, answering", st->serial, seq);
		v1_send_protected_notify(isakmp, PROTO_ISAKMP, p->u.n.spi, 16, N_R_U_THERE_ACK, p->data, 4);
		return;
	}
	if (isakmp->dpd && dpd_seq_ack(&isakmp->dpd->seq, seq))
		DBG(DBG_CONTROL, c, "DPD: #%u: received R-U-THERE-ACK seq %u", st->serial, seq);
	else
		llog(LOGGER(c, st), LS_INFO, MSGID_GENERIC,
		     "DPD: R-U-THERE-ACK with sequence %u we are not waiting for; ignored", seq);
}

void dpd_free(struct v1_state *s)
{
	if (!s->dpd)
		return;
	s->dpd->timer = sd_event_source_disable_unref(s->dpd->timer);
	free(s->dpd);
	s->dpd = NULL;
}

const char *dpd_status_str(const struct state *st, char *buf, size_t len)
{
	const struct v1_state *s = st->v1;
	buf[0] = '\0';
	if (!s || !s->dpd)
		return buf;
	const struct connection *c = st->connection;
	snprintf(buf, len, "DPD: active, delay %llu s, timeout %llu s, action %s%s", c->cfg.dpddelay,
		 c->cfg.dpdtimeout, dpd_action_name((enum dpd_action)c->cfg.dpdaction),
		 s->dpd->seq.outstanding ? ", waiting for R-U-THERE-ACK" : "");
	return buf;
}
