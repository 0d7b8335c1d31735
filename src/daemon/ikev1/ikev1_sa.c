/* The SA lifecycle (ikev1.h "progress and failure"): a state becoming
 * established, its IPsec SA going into the kernel, its deletion (telling
 * the peer), its timers running out; the half-open count; and the engine
 * ops the control core calls (engine.h). */
#include "daemon/ikev1/ikev1.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/engine.h"
#include "daemon/events.h"
#include "daemon/ikev1/dpd.h"
#include "daemon/log.h"
#include "daemon/log_limit.h"
#include "daemon/ikev1/nat_traversal.h"
#include "daemon/progress.h"
#include "klips/kernel.h"
#include "klips/routing.h"

static bool shutting_down;
/* Responder ISAKMP states not yet established: counted in half_open.h's
 * pools where Main Mode creates one, out when it is established or freed
 * before that. */
unsigned ikev1_half_open(void)
{
	return half_open_total();
}

uint64_t ikev1_retransmit_delay(unsigned retransmits_done)
{
	/* 2 s, 4 s, then 8 s of waiting for the answer to the third send */
	return 2000000ULL << (retransmits_done > 2 ? 2 : retransmits_done);
}

/* --- logging helpers --- */

void v1_progress(struct v1_state *s, const char *what)
{
	llog_rc(STATE_LOGGER(s->st), LS_INFO, RC_NEW_STATE + s->st->name, MSGID_STATE,
		"%s: %s", state_name_str(s->st->name), what);
}

void v1_fail(struct connection *c, struct state *st, unsigned rc, const char *fmt, ...)
{
	struct ctl_error err = { .code = PE_NEGOTIATION_FAILED };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	if (rc > 999)      /* whack codes have three digits: a private notification type */
		rc = RC_LOG_SERIOUS;
	if (rc != RC_LOG && rc != RC_LOG_SERIOUS && rc != RC_COMMENT)
		err.rc = rc;   /* whack exits with the code of this last line */
	/* the peer's AUTHENTICATION_FAILED (a wrong PSK or signature): the API
	 * says AuthenticationFailed, not a generic failure */
	if (rc == RC_AUTHENTICATION_FAILED)
		err.code = PE_AUTHENTICATION_FAILED;
	llog_rc(LOGGER(c, st), LS_SERIOUS, rc, MSGID_NEGOTIATION_FAILED, "%s", err.message);
	if (c)
		progress_sinks_done(c, &err);
}

/* --- states --- */

void v1_established(struct v1_state *s)
{
	struct state *st = s->st;
	struct connection *c = st->connection;
	half_open_remove(&s->half_open);
	v1_instance_authenticated(c);
	st->established = true;
	if (st->kind == STATE_KIND_ISAKMP)
		c->newest_isakmp = st->serial;
	else
		c->newest_ipsec = st->serial;
	v1_stop_retransmit(s);
	if (s->in_transition)
		s->change_pending = true;   /* announced after the new name */
	else
		event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN__ALL);
}

/* One direction of st's IPsec SA for the kernel layer: inbound we
 * receive on our SPI with keymat_in, outbound on the peer's. */
static void kernel_sa_of(const struct v1_state *s, bool inbound, struct kernel_ipsec_sa *sa)
{
	*sa = (struct kernel_ipsec_sa){
		.serial = s->st->serial,
		.inbound = inbound,
		.src = inbound ? s->st->peer : s->local,
		.dst = inbound ? s->local : s->st->peer,
		.src_client = inbound ? s->peer_client : s->our_client,
		.dst_client = inbound ? s->our_client : s->peer_client,
		.protocol = s->ipsec.protocol,
		.spi = inbound ? s->our_spi : s->ipsec.peer_spi,
		.spi_from_kernel = inbound && kernel_backend_installs(),
		.tunnel = s->ipsec.encap == ENCAP_TUNNEL || s->ipsec.encap == ENCAP_UDP_TUNNEL,
		.reqid = routing_reqid(s->st->connection),
		.cipher = s->ipsec.cipher,
		.key_bits = s->ipsec.key_bits,
		.integ = s->ipsec.integ,
		.keymat = inbound ? s->keymat_in : s->keymat_out,
		.keymat_len = s->keymat_len,
		.ipcomp = s->ipsec.ipcomp,
		.cpi = inbound ? s->our_cpi : s->ipsec.peer_cpi,
	};
	natt_kernel_sa(s, inbound, sa);
}

bool v1_install_sa(struct v1_state *s, bool inbound, bool responder)
{
	struct connection *c = s->st->connection;
	struct ctl_error err;
	struct kernel_ipsec_sa sa;
	/* the man page: the connection must be routed first (automatically if
	 * need be), and a conflicting eroute stops the SA */
	if (inbound || !responder) {
		if (routing_prepare_sa(c, responder, &err) < 0)
			goto failed;
	}
	kernel_sa_of(s, inbound, &sa);
	if (kernel_install_ipsec_sa(&sa, &err) < 0)
		goto failed;
	return true;
failed:
	/* never hidden: on the connection and the state, to whoever waits */
	v1_fail(c, s->st, RC_LOG_SERIOUS, "%s", err.message);
	return false;
}

void v1_ipsec_sa_up(struct v1_state *s)
{
	struct ctl_error err;
	if (routing_sa_installed(s->st, &err) < 0)
		llog(STATE_LOGGER(s->st), LS_SERIOUS, MSGID_STATE, "%s", err.message);
}

struct newest_isakmp_ctx { struct state *found; const ip_address *peer; };

static void newest_isakmp_of(struct state *st, void *ud)
{
	struct newest_isakmp_ctx *n = ud;
	if (st->kind == STATE_KIND_ISAKMP && st->established && st->v1 && st->v1->have_keys &&
	    ip_equal(&st->peer, n->peer) && (!n->found || st->serial > n->found->serial))
		n->found = st;
}

struct v1_state *v1_newest_isakmp(struct connection *c, const ip_address *peer)
{
	struct newest_isakmp_ctx n = { .peer = peer };
	states_for_connection(c, newest_isakmp_of, &n);
	return n.found ? n.found->v1 : NULL;
}

void v1_delete_state(struct state *st, bool send_delete)
{
	struct v1_state *s = st->v1;
	if (s && send_delete && st->established) {
		if (st->kind == STATE_KIND_IPSEC) {
			/* over the newest ISAKMP SA: never on a superseded one,
			 * and the one that negotiated it may be gone */
			struct v1_state *isakmp = v1_newest_isakmp(st->connection, &st->peer);
			if (!isakmp)
				isakmp = v1_parent(s);
			if (isakmp && isakmp->have_keys) {
				uint8_t spi[4];
				put_be32(spi, s->our_spi);
				v1_send_delete(isakmp, s->ipsec.protocol, spi, 4);
			}
		} else if (s->have_keys) {
			uint8_t spi[16];
			memcpy(spi, s->icookie, 8);
			memcpy(spi + 8, s->rcookie, 8);
			v1_send_delete(s, PROTO_ISAKMP, spi, 16);
		}
	}
	struct connection *c = st->connection;
	if (c && st->initiator && !st->established && c->sinks) {
		struct ctl_error err = { .code = PE_NEGOTIATION_FAILED };
		snprintf(err.message, sizeof(err.message), "\"%s\" #%u: state deleted before it was established",
			 c->name, st->serial);
		progress_sinks_done(c, &err);
	}
	DBG(DBG_LIFECYCLE, c, "deleting state #%u (%s)", st->serial, state_name_str(st->name));
	state_delete(st);
}

void ikev1_state_gone(struct state *st)
{
	routing_state_gone(st);   /* updown down, SAs out of the kernel, eroute handed on */
	half_open_remove(&st->v1->half_open);
	if (!shutting_down && st->connection && st->connection->template)
		v1_schedule_instance_gc(st->connection);
}

void ikev1_retransmit(struct v1_state *s)
{
	struct state *st = s->st;
	if (s->retransmits < RETRANSMIT_MAX) {
		s->retransmits++;
		DBG(DBG_CONTROL, st->connection, "#%u: retransmitting in %s (%u of %u)", st->serial,
		    state_name_str(st->name), s->retransmits, RETRANSMIT_MAX);
		v1_resend(s);
		v1_arm_retransmit(s);
		/* whoever waits (whack, D-Bus, Varlink) sees the peer is silent */
		llog_rc(STATE_LOGGER(st), LS_INFO, RC_RETRANSMISSION, MSGID_STATE,
			"%s: retransmission; will wait %us for response", state_name_str(st->name),
			(unsigned)(ikev1_retransmit_delay(s->retransmits) / 1000000));
		return;
	}
	if (v1_keying_retry(s))
		return;
	v1_fail(st->connection, st, RC_NORETRANSMISSION, "max number of retransmissions (%u) reached %s",
		RETRANSMIT_MAX, state_name_str(st->name));
	v1_delete_state(st, false);
}

void ikev1_responder_timeout(struct v1_state *s)
{
	/* a half-open state that never answered may be a forger's: its line
	 * is one an unauthenticated peer can make us write (log_limit.h) */
	if (half_open_counted(&s->half_open) && !s->half_open.proven)
		llog_peer(&s->st->peer, STATE_LOGGER(s->st), LS_INFO, MSGID_STATE,
			  "%s: peer stopped talking; deleting the unfinished negotiation",
			  state_name_str(s->st->name));
	else
		llog(STATE_LOGGER(s->st), LS_INFO, MSGID_STATE,
		     "%s: peer stopped talking; deleting the unfinished negotiation", state_name_str(s->st->name));
	v1_delete_state(s->st, false);
}

void ikev1_expire(struct v1_state *s)
{
	llog(STATE_LOGGER(s->st), LS_INFO, MSGID_STATE, "%s SA expired (hard lifetime)",
	     s->st->kind == STATE_KIND_ISAKMP ? "ISAKMP" : "IPsec");
	v1_delete_state(s->st, true);
}

/* --- the engine ops --- */

struct find_ctx { struct state *isakmp, *negotiating; };

static void find_isakmp_of(struct state *st, void *ud)
{
	struct find_ctx *f = ud;
	if (st->kind != STATE_KIND_ISAKMP || !st->v1)
		return;
	if (st->established && st->v1->have_keys) {
		if (!f->isakmp || st->serial > f->isakmp->serial)
			f->isakmp = st;
	} else if (st->initiator) {
		f->negotiating = st;
	}
}

static int v1_initiate(struct connection *c, struct ctl_error *err)
{
	struct find_ctx f = { 0 };
	states_for_connection(c, find_isakmp_of, &f);
	bool phase2 = c->cfg.policy & (POLICY_ENCRYPT | POLICY_AUTHENTICATE);
	if (f.isakmp) {
		if (!phase2) {
			llog_rc(LOGGER(c, f.isakmp), LS_INFO, RC_SUCCESS, MSGID_STATE, "ISAKMP SA #%u already established",
				f.isakmp->serial);
			progress_sinks_done(c, NULL);
			return 0;
		}
		return quick_outI1(f.isakmp->v1, c, NULL, err);
	}
	if (f.negotiating) {
		llog(LOGGER(c, f.negotiating), LS_INFO, MSGID_STATE, "Main Mode already under way");
		return 0;
	}
	return main_outI1(c, NULL, err);
}

static void delete_ipsec_of(struct state *st, void *ud)
{
	(void)ud;
	if (st->kind == STATE_KIND_IPSEC)
		v1_delete_state(st, true);
}

static void delete_isakmp_of(struct state *st, void *ud)
{
	(void)ud;
	v1_delete_state(st, true);
}

static void v1_terminate(struct connection *c)
{
	states_for_connection(c, delete_ipsec_of, NULL);
	states_for_connection(c, delete_isakmp_of, NULL);
}

static void v1_delete_one(struct state *st)
{
	v1_delete_state(st, true);
}

static const struct engine_ops ikev1_ops = {
	.name = "ikev1",
	.initiate = v1_initiate,
	.terminate = v1_terminate,
	.delete_state = v1_delete_one,
	.status = dpd_status_str,
};

/* The man page: "When pluto shuts down, it closes all Security
 * Associations" — and tells the peers, IPsec SAs first. Runs as an
 * sd-event exit source, before main() tears the databases down. */
static int on_exit_loop(sd_event_source *src, void *ud)
{
	(void)src;
	(void)ud;
	struct state *st, *next;
	for (st = states_first(); st; st = next) {
		next = st->next_in_list;
		if (st->kind == STATE_KIND_IPSEC)
			v1_delete_state(st, true);
	}
	while ((st = states_first()))
		v1_delete_state(st, true);
	shutting_down = true;
	v1_instances_shutdown();
	return 0;
}

void v1_sa_init(struct sd_event *event)
{
	state_set_free_hook(v1_state_free_hook);
	engine_register(&ikev1_ops);
	if (sd_event_add_exit(event, NULL, on_exit_loop, NULL) < 0)
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "cannot register the shutdown hook: Deletes will not be sent at shutdown");
}
