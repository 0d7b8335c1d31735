/* The Transaction exchange (draft-ietf-ipsec-isakmp-mode-cfg-05 3):
 * HASH(1) and ATTR, encrypted with the ISAKMP SA's keys, each exchange
 * pair (REQUEST/REPLY, SET/ACK) with its own message id and CBC chain,
 * its IV derived from the last phase-1 block and the message id as in
 * Quick Mode (RFC 2409 appendix B). It runs on the ISAKMP state: what
 * comes after Main Mode (XAUTH, then Mode Config, then Quick Mode) is
 * decided here from the ends' roles; the phases themselves are in
 * xauth.c and modecfg.c. */
#include <string.h>

#include "common/util.h"
#include "daemon/addresspool.h"
#include "daemon/connections.h"
#include "daemon/events.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
#include "daemon/wire/cfg_attrs.h"

uint8_t *transaction_iv(struct v1_state *s, uint32_t msgid, uint8_t *fresh)
{
	if (msgid && msgid == s->tx_msgid)
		return s->tx_iv;
	if (ikev1_phase2_iv(s->ike.hash, s->ike.cipher, s->iv, msgid, fresh) < 0)
		memset(fresh, 0, CRYPTO_MAX_BLOCK);   /* decryption then fails: dropped */
	return fresh;
}

bool transaction_send(struct v1_state *s, bool new_exchange, uint8_t cfg_type, uint16_t identifier,
		      const uint8_t *attrs, size_t len)
{
	if (new_exchange) {
		/* never one this SA used (the current exchange's is remembered) */
		uint32_t msgid = v1_msgid_new(s, MSGID_LANE_EXCHANGE);
		s->tx_msgid = msgid;
		if (ikev1_phase2_iv(s->ike.hash, s->ike.cipher, s->iv, msgid, s->tx_iv) < 0)
			return false;
	}
	struct isakmp_hdr h = { .np = PT_HASH, .version = ISAKMP_VERSION, .xchg = XCHG_TRANSACTION,
				.msgid = s->tx_msgid };
	memcpy(h.icookie, s->icookie, 8);
	memcpy(h.rcookie, s->rcookie, 8);
	struct pbuf pb;
	pbuf_init(&pb);
	pb.conn = s->st->connection;
	emit_hdr(&pb, &h);
	uint8_t zeros[CRYPTO_MAX_HASH] = { 0 };
	size_t hoff = emit_hash(&pb, zeros, s->keys->hash_len);
	emit_attr(&pb, cfg_type, identifier, attrs, len);
	bool ok = false;
	size_t total = pbuf_finish(&pb), hash_len;
	uint8_t *hash = total ? pbuf_payload_body(&pb, hoff, &hash_len) : NULL;
	if (hash && hash_len == s->keys->hash_len) {
		/* HASH(1) = prf(SKEYID_a, M-ID | ATTR) (draft 3.1) */
		const uint8_t *after = hash + hash_len;
		struct chunk rest = CHUNK(after, total - (size_t)(after - pb.data));
		ok = v1_hash_skeyid_a(s, s->tx_msgid, false, &rest, 1, hash) &&
		     v1_send_msg(s, &pb, true, s->tx_iv, true);
	}
	pbuf_free(&pb);
	if (!ok)
		llog(STATE_LOGGER(s->st), LS_ERROR, MSGID_GENERIC, "cannot send %s", cfg_msg_type_name(cfg_type));
	return ok;
}

bool transaction_attrs(struct v1_state *s, struct v1_msg *m, unsigned want, struct cfg_attrs *out)
{
	const struct payload *p = md_first(&m->md, PT_ATTR);
	char why[200];
	if (!p || cfg_attrs_parse(p->body, p->body_len, out, why, sizeof(why)) < 0) {
		llog(STATE_LOGGER(s->st), LS_SERIOUS, MSGID_GENERIC, "%s: malformed ATTR payload; dropped",
		     state_name_str(s->st->name));
		m->notify = N_PAYLOAD_MALFORMED;
		return false;
	}
	/* msg_type is the peer's byte: only types below 32 can be in WANT */
	if (out->msg_type >= 32 || !(want & (1u << out->msg_type))) {
		llog(STATE_LOGGER(s->st), LS_SERIOUS, MSGID_GENERIC, "%s: unexpected %s; dropped",
		     state_name_str(s->st->name), cfg_msg_type_name(out->msg_type));
		return false;
	}
	return true;
}

/* The ISAKMP SA this one rekeys, when it finished XAUTH and Mode Config:
 * the rekey takes over what it proved and lent (the peers do not redo
 * XAUTH for a rekey). The client knows (it replaces that SA); the gateway
 * takes an established SA of the same connection from the same address,
 * port and identity as the one being replaced — the same client socket
 * that already proved its user (another user on another host, or behind
 * a NAT on another port, is asked again). */
static struct v1_state *done_sibling(struct v1_state *s)
{
	if (s->st->initiator) {
		struct state *old = s->replacing ? state_by_serial(s->replacing) : NULL;
		return old && old->kind == STATE_KIND_ISAKMP && old->v1 && old->v1->tx_done ? old->v1 : NULL;
	}
	struct v1_state *best = NULL;
	for (struct state *st = connection_states(s->st->connection); st; st = st->conn_next) {
		if (st == s->st || st->kind != STATE_KIND_ISAKMP || !st->v1 || !st->v1->tx_done ||
		    !ip_equal(&st->peer, &s->st->peer) ||
		    st->peer_port != s->st->peer_port || !id_equal(st->v1->peer_id, s->peer_id))
			continue;
		if (!best || st->serial > best->st->serial)
			best = st->v1;
	}
	return best;
}

static void inherit(struct v1_state *s, struct v1_state *old)
{
	struct state *st = s->st, *o = old->st;
	state_set_text(&st->xauth_user, "%s", o->xauth_user);
	state_set_text(&st->domains, "%s", o->domains);
	state_set_text(&st->banner, "%s", o->banner);
	/* the lent address, DNS and split include (the peer's client of a
	 * conn without rightsubnet comes from there: losing it would move
	 * the next Quick Mode to the gateway's host) */
	if (o->modecfg)
		*state_modecfg_mut(st) = *o->modecfg;
	/* the lease moves with them: deleting the old SA must not free it */
	s->pool = old->pool;
	old->pool = NULL;
	free(s->lease_identity);
	s->lease_identity = old->lease_identity;
	old->lease_identity = NULL;
	s->tx_done = true;
	llog(STATE_LOGGER(st), LS_INFO, MSGID_STATE, "XAUTH and Mode Config of #%u carried over (no new exchange)",
	     o->serial);
	event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);
}

static bool wants_transaction(const struct connection *c)
{
	const struct end *me = END_THIS(c);
	return me->xauthserver || me->xauthclient || me->modecfgserver || me->modecfgclient;
}

bool transaction_start(struct v1_state *s)
{
	struct connection *c = s->st->connection;
	if (s->st->kind != STATE_KIND_ISAKMP || !wants_transaction(c) || s->tx_done)
		return false;
	struct v1_state *old = done_sibling(s);
	if (old) {
		inherit(s, old);
		return false;
	}
	const struct end *me = END_THIS(c);
	if (me->xauthserver) {
		xauth_server_start(s);
		return true;
	}
	if (me->xauthclient) {
		state_set_name(s->st, STATE_XAUTH_I0);
		v1_arm_responder_timeout(s);
		llog_rc(STATE_LOGGER(s->st), LS_INFO, RC_NEW_STATE + STATE_XAUTH_I0, MSGID_STATE,
			"%s: expecting the gateway's XAUTH REQUEST", state_name_str(s->st->name));
		return true;
	}
	if (modecfg_start(s))
		return true;
	s->tx_done = true;
	return false;
}

void transaction_next(struct v1_state *s)
{
	struct connection *c = s->st->connection;
	const struct end *me = END_THIS(c);
	if (s->xauth_again)
		return;   /* XAUTH again on an SA that inherited the rest: done */
	switch (s->st->name) {
	case STATE_XAUTH_R2:
	case STATE_XAUTH_I2:
		if (modecfg_start(s))
			return;   /* Mode Config runs (or the state is gone) */
		break;
	default:
		break;
	}
	s->tx_done = true;
	/* the client started the negotiation: its Quick Mode follows */
	if (me->xauthclient || me->modecfgclient)
		v1_start_quick(s);
}

bool transaction_again(struct v1_state *s)
{
	struct state *st = s->st;
	if (st->kind != STATE_KIND_ISAKMP || st->name != STATE_MAIN_I4 || !s->tx_done ||
	    !END_THIS(st->connection)->xauthclient)
		return false;
	s->xauth_again = true;
	state_set_name(st, STATE_XAUTH_I0);
	llog(STATE_LOGGER(st), LS_INFO, MSGID_STATE,
	     "XAUTH: the gateway authenticates the user again on this ISAKMP SA; user and address stay");
	return true;
}

void transaction_free(struct v1_state *s)
{
	if (!s->pool)
		return;
	const char *identity = s->lease_identity ? s->lease_identity : "";
	address_pool_release(s->pool, identity);
	llog(STATE_LOGGER(s->st), LS_INFO, MSGID_STATE, "released the Mode Config lease of %s", identity);
	address_pool_put(s->pool);
	s->pool = NULL;
}
