/* Informational exchanges (RFC 2408 4.8, RFC 2409 5.7): Notifications and
 * Deletes. Protected ones carry HASH(1) = prf(SKEYID_a, M-ID | N/D),
 * checked by the dispatcher as their row says, and are acted upon;
 * unprotected ones are logged and ignored — except that an initiator
 * still negotiating Main Mode takes an unprotected error notification
 * carrying its own cookies as the end of the negotiation
 * (that is how a responder refuses MI1, e.g. NO_PROPOSAL_CHOSEN, and how
 * a responder that cannot decrypt MI3 says so; only someone who saw our
 * cookie can forge it). */
#include <string.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/ikev1/dpd.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
#include "daemon/ikev1/peer_replace.h"

static void fail_pending_quick(struct state *st, void *ud)
{
	unsigned *type = ud;
	if (st->kind == STATE_KIND_IPSEC && st->initiator && !st->established && st->v1) {
		v1_fail(st->connection, st, RC_NOTIFICATION + *type, "%s: received %s",
			state_name_str(st->name), notify_type_name(*type));
		v1_delete_state(st, false);
	}
}

static void notification(struct v1_state *isakmp, struct v1_msg *m, const struct payload *p)
{
	unsigned type = p->u.n.type;
	struct connection *c = isakmp ? isakmp->st->connection : NULL;
	struct state *st = isakmp ? isakmp->st : NULL;
	char ab[IP_STR_MAX];
	if (!m->encrypted) {
		if (isakmp && st->kind == STATE_KIND_ISAKMP && st->initiator && !st->established && type < 8192) {
			v1_fail(c, st, RC_NOTIFICATION + type, "%s: received unprotected %s from %s",
				state_name_str(st->name), notify_type_name(type), ip_str(&m->from, ab));
			v1_delete_state(st, false);
			return;
		}
		llog(LOGGER(c, st), LS_INFO, MSGID_GENERIC, "ignoring unprotected notification %s from %s",
		     notify_type_name(type), ip_str(&m->from, ab));
		return;
	}
	switch (type) {
	case N_R_U_THERE:
	case N_R_U_THERE_ACK:
		dpd_notification(isakmp, p);
		return;
	case N_INITIAL_CONTACT:
		peer_replace_initial_contact(isakmp);   /* the peer restarted: its older SAs go */
		return;
	case N_RESPONDER_LIFETIME:
	case N_REPLAY_STATUS:
		DBG(DBG_CONTROL, c, "received %s", notify_type_name(type));
		return;
	default:
		break;
	}
	llog_rc(LOGGER(c, st), LS_INFO, (enum whack_rc)(RC_NOTIFICATION + (type < 800 ? type : 0)), MSGID_GENERIC,
		"received notification %s", notify_type_name(type));
	if (type >= 8192 || !c)
		return;
	/* an error about a Quick Mode we started (e.g. NO_PROPOSAL_CHOSEN):
	 * give it up now rather than retransmit in vain — only when an
	 * authenticated peer says so (not over a half-open ISAKMP SA) */
	if (st->established)
		states_for_connection(c, fail_pending_quick, &type);
	if (!st->established && st->initiator) {
		v1_fail(c, st, RC_NOTIFICATION + type, "%s: received %s", state_name_str(st->name),
			notify_type_name(type));
		v1_delete_state(st, false);
	}
}

/* The peer names the SPI it receives on: our outbound SPI. Among the
 * states of that peer (the index by peer address, not a walk of all:
 * every tunnel's expiry ends in a Delete), the newest that has it. */
static void deleted_ipsec(const struct v1_state *isakmp, uint8_t protocol, uint32_t spi)
{
	struct state *st = NULL;
	for (struct state *o = state_by_peer(&isakmp->st->peer); o; o = state_by_peer_next(o, &isakmp->st->peer)) {
		if (o->kind != STATE_KIND_IPSEC || !o->v1 || (st && st->serial > o->serial))
			continue;
		if (o->v1->ipsec.protocol == protocol && o->v1->ipsec.peer_spi == spi)
			st = o;
	}
	if (st) {
		llog(STATE_LOGGER(st), LS_INFO, MSGID_STATE,
		     "received Delete SA(0x%08x) payload: deleting IPsec State #%u", spi, st->serial);
		v1_delete_state(st, false);
		return;
	}
	llog(STATE_LOGGER(isakmp->st), LS_INFO, MSGID_GENERIC,
	     "received Delete for unknown SPI 0x%08x; ignored", spi);
}

static void delete_payload(struct v1_state *isakmp, struct v1_msg *m, const struct payload *p,
			   bool *delete_isakmp)
{
	if (!m->encrypted || !isakmp) {
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "ignoring unprotected Delete payload");
		return;
	}
	/* Keys exist from MR2/MI3 on, but the peer is not authenticated
	 * until MI3/MR3 verified: with RSA signatures anyone who did the
	 * DH can compute SKEYID_a, and could otherwise delete the IPsec SAs
	 * of the host whose address it uses. */
	if (!isakmp->st->established) {
		llog(STATE_LOGGER(isakmp->st), LS_SERIOUS, MSGID_GENERIC,
		     "ignoring Delete payload over an ISAKMP SA not yet established");
		return;
	}
	uint8_t proto = p->u.d.protocol;
	size_t size = p->u.d.spi_size;
	if (proto == PROTO_ISAKMP) {
		if (size != 16) {
			llog(STATE_LOGGER(isakmp->st), LS_SERIOUS, MSGID_GENERIC,
			     "ISAKMP Delete with SPI size %zu (must be 16); ignored", size);
			return;
		}
		for (unsigned i = 0; i < p->u.d.n_spis; i++) {
			const uint8_t *spi = p->u.d.spis + 16 * i;
			if (memcmp(spi, isakmp->icookie, 8) == 0 && memcmp(spi + 8, isakmp->rcookie, 8) == 0)
				*delete_isakmp = true;
			else
				llog(STATE_LOGGER(isakmp->st), LS_INFO, MSGID_GENERIC,
				     "Delete names another ISAKMP SA; ignored");
		}
		return;
	}
	if ((proto != PROTO_IPSEC_ESP && proto != PROTO_IPSEC_AH) || size != 4) {
		llog(STATE_LOGGER(isakmp->st), LS_SERIOUS, MSGID_GENERIC,
		     "Delete for protocol %u with SPI size %zu; ignored", proto, size);
		return;
	}
	for (unsigned i = 0; i < p->u.d.n_spis; i++)
		deleted_ipsec(isakmp, proto, get_be32(p->u.d.spis + 4 * i));
}

enum stf informational_in(struct v1_state *isakmp, struct v1_msg *m)
{
	if (m->encrypted)
		dpd_heard(isakmp);   /* its HASH(1) verified: the peer is alive */
	bool delete_isakmp = false;
	unsigned serial = isakmp ? isakmp->st->serial : 0;
	for (size_t i = 0; i < m->md.n_payloads; i++) {
		const struct payload *p = &m->md.payloads[i];
		if (isakmp && state_by_serial(serial) != isakmp->st)
			return STF_OK;   /* a notification ended it */
		if (p->type == PT_N)
			notification(isakmp, m, p);
		else if (p->type == PT_D)
			delete_payload(isakmp, m, p, &delete_isakmp);
	}
	if (delete_isakmp && state_by_serial(serial) == isakmp->st) {
		llog(STATE_LOGGER(isakmp->st), LS_INFO, MSGID_STATE,
		     "received Delete SA payload: deleting ISAKMP State #%u", serial);
		v1_delete_state(isakmp->st, false);
	}
	return STF_OK;
}
