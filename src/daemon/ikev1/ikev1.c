/* The IKEv1 dispatcher: runs every received message through its row of
 * the state table (ikev1_states.c), so the handlers only do protocol
 * work:
 *
 *   header check -> find the state (cookies; cookies + message id) ->
 *   duplicate? (the row that reached the state says whether our reply is
 *   re-sent) -> no state: a message ID the ISAKMP SA already used is a
 *   replay, dropped (msgid_memory.h) -> decrypt (the IV is only
 *   committed when the message is accepted) -> parse -> payloads against
 *   the row's rules -> the row's HASH (the message ID is then used) ->
 *   handler -> new state, the row's timer, what reaching the state does.
 *
 * Aggressive Mode is refused (the man page implements Main Mode only):
 * the first Aggressive Mode message is answered with an unencrypted
 * N(INVALID_EXCHANGE_TYPE) — the exchange type is valid but not one we
 * take part in — and logged. */
#include "daemon/ikev1/ikev1.h"

#include <string.h>

#include <systemd/sd-event.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/demux.h"
#include "daemon/ikev1/dpd.h"
#include "daemon/ikev1/ikev1_states.h"
#include "daemon/ikev1/v1_crypto.h"
#include "daemon/events.h"
#include "daemon/log.h"
#include "daemon/progress.h"
#include "daemon/log_limit.h"
#include "daemon/rxload.h"

struct sd_event *ikev1_loop;

/* A line about a message for st that a peer which has not authenticated
 * can make us write once per datagram (no state, or an ISAKMP SA not yet
 * established): limited per source and globally (log_limit.h). */
static bool unauthenticated_may_log(const struct state *st, const struct v1_msg *m)
{
	if (st && (st->kind != STATE_KIND_ISAKMP || st->established))
		return true;
	return log_limit_allow(&m->from);
}

/* The message's payloads against the row's rules: types it does not
 * name are INVALID_PAYLOAD_TYPE (unless the row ignores them), too many
 * or a missing one PAYLOAD_MALFORMED. Private-use types are recorded by
 * the parser and never ours to judge. */
static bool check_payloads(const struct v1_row *row, struct v1_msg *m, const struct connection *c,
			   struct state *st)
{
	uint8_t seen[ISAKMP_PRIVATE_PAYLOAD_MIN] = { 0 };
	const char *name = state_name_str(row->from);
	for (size_t i = 0; i < m->md.n_payloads; i++) {
		unsigned t = m->md.payloads[i].type;
		if (t >= ISAKMP_PRIVATE_PAYLOAD_MIN)
			continue;
		const struct v1_payload_rule *rule = v1_row_rule(row, (uint8_t)t);
		if (!rule) {
			if (row->flags & F_ANY_OTHER)
				continue;
			if (unauthenticated_may_log(st, m))
				llog(LOGGER(c, st), LS_SERIOUS, MSGID_GENERIC,
				     "%s: unexpected %s payload; message dropped", name, payload_type_name(t));
			m->notify = N_INVALID_PAYLOAD_TYPE;
			return false;
		}
		if (seen[t] == rule->max) {
			bool say = unauthenticated_may_log(st, m);
			if (say && rule->max == 1)
				llog(LOGGER(c, st), LS_SERIOUS, MSGID_GENERIC,
				     "%s: more than one %s payload; message dropped", name,
				     payload_type_name(t));
			else if (say)
				llog(LOGGER(c, st), LS_SERIOUS, MSGID_GENERIC,
				     "%s: more than %u %s payloads; message dropped", name, rule->max,
				     payload_type_name(t));
			m->notify = N_PAYLOAD_MALFORMED;
			return false;
		}
		seen[t]++;
	}
	for (size_t i = 0; i < V1_RULES_MAX && row->payloads[i].type; i++) {
		const struct v1_payload_rule *rule = &row->payloads[i];
		if (seen[rule->type] < rule->min) {
			if (unauthenticated_may_log(st, m))
				llog(LOGGER(c, st), LS_SERIOUS, MSGID_GENERIC,
				     "%s: missing %s payload; message dropped", name, payload_type_name(rule->type));
			m->notify = N_PAYLOAD_MALFORMED;
			return false;
		}
	}
	return true;
}

/* The row's HASH(n) over m with isakmp's SKEYID_a; s holds the nonces
 * (Quick Mode). A mismatch is logged and m->notify set (unless the row
 * never answers). */
static bool verify_hash(const struct v1_row *row, const struct v1_state *isakmp, const struct v1_state *s,
			struct v1_msg *m, const struct connection *c, struct state *st)
{
	static const char *const names[] = {
		[V1_HASH_1] = "HASH(1)", [V1_HASH_2] = "HASH(2)", [V1_HASH_3] = "HASH(3)",
	};
	struct chunk parts[2];
	size_t n = 0;
	bool zero_prefix = false;
	switch (row->hash) {
	case V1_HASH_NONE:
		return true;
	case V1_HASH_1:
		parts[n++] = v1_after_hash(m);
		break;
	case V1_HASH_2:
		parts[n++] = CHUNK(s->ni, s->ni_len);
		parts[n++] = v1_after_hash(m);
		break;
	case V1_HASH_3:
		zero_prefix = true;
		parts[n++] = CHUNK(s->ni, s->ni_len);
		parts[n++] = CHUNK(s->nr, s->nr_len);
		break;
	}
	bool answer = !(row->flags & F_NO_ANSWER);
	uint8_t expected[CRYPTO_MAX_HASH];
	if (!v1_hash_skeyid_a(isakmp, m->md.hdr.msgid, zero_prefix, parts, n, expected))
		return false;
	size_t len = isakmp->keys->hash_len;
	const struct payload *h = m->md.n_payloads ? &m->md.payloads[0] : NULL;
	if (!h || h->type != PT_HASH) {
		llog(LOGGER(c, st), LS_SERIOUS, MSGID_GENERIC, "%s must be the first payload; message dropped",
		     names[row->hash]);
		if (answer)
			m->notify = N_PAYLOAD_MALFORMED;
		return false;
	}
	if (h->data_len != len || CRYPTO_memcmp(h->data, expected, len) != 0) {
		llog(LOGGER(c, st), LS_SERIOUS, MSGID_GENERIC,
		     "received %s does not match the message; message dropped", names[row->hash]);
		if (answer)
			m->notify = N_INVALID_HASH_INFORMATION;
		return false;
	}
	return true;
}

/* Decrypt m's body with *iv (not changed: the new IV goes to m->new_iv)
 * and parse it. */
static bool open_msg(struct v1_state *isakmp, const uint8_t *iv, struct v1_msg *m,
		     const struct connection *c, const struct state *st)
{
	char why[200];
	const uint8_t *body = m->packet + ISAKMP_HDR_LEN;
	size_t len = m->packet_len - ISAKMP_HDR_LEN;
	if (m->encrypted) {
		if (!isakmp || !isakmp->have_keys) {
			llog(LOGGER(c, st), LS_SERIOUS, MSGID_GENERIC,
			     "encrypted message before the keys are known; dropped");
			return false;
		}
		size_t block = crypto_cipher_block(isakmp->ike.cipher);
		if (len == 0 || (block && len % block)) {
			llog(LOGGER(c, st), LS_SERIOUS, MSGID_GENERIC,
			     "encrypted body of %zu bytes is not a multiple of the cipher block; dropped", len);
			m->notify = N_PAYLOAD_MALFORMED;
			return false;
		}
		m->body = xmalloc(len);
		memcpy(m->body, body, len);
		memcpy(m->new_iv, iv, isakmp->iv_len);
		if (crypto_cbc_decrypt(isakmp->ike.cipher, isakmp->keys->enc_key, isakmp->keys->enc_key_len,
				       m->new_iv, m->body, len) < 0) {
			llog(LOGGER(c, st), LS_SERIOUS, MSGID_GENERIC, "decryption failed; message dropped");
			return false;
		}
		body = m->body;
		m->body_len = len;
	}
	unsigned notify = 0;
	if (payloads_parse(&m->md, m->md.hdr.np, body, len, m->encrypted, &notify, why, sizeof(why)) < 0) {
		llog(LOGGER(c, st), LS_SERIOUS, MSGID_GENERIC, "malformed %smessage: %s%s; dropped",
		     m->encrypted ? "decrypted " : "", why,
		     m->encrypted && st && st->kind == STATE_KIND_ISAKMP && !st->established
		     ? " (probably the preshared keys differ)" : "");
		m->notify = notify ? notify : N_PAYLOAD_MALFORMED;
		return false;
	}
	return true;
}

/* RFC 2408 3.1: a message ID isakmp already used (the peer's, or ours
 * reflected) whose exchange is over or gone: a replay, dropped before any
 * decryption. A retransmission of an exchange still running never gets
 * here: its state is found first. */
static bool replayed(struct v1_state *isakmp, const struct v1_msg *m)
{
	if (!v1_msgid_used(isakmp, m->md.hdr.msgid))
		return false;
	char ab[IP_STR_MAX];
	/* checked before decryption: anyone who captured the message can
	 * send it again, so the line is rate-limited like the others */
	llog_peer(&m->from, STATE_LOGGER(isakmp->st), LS_SERIOUS, MSGID_GENERIC,
	     "replayed %s message from %s:%u: message ID 0x%08x was already used on this ISAKMP SA "
	     "and its exchange is over; dropped",
	     exchange_name(m->md.hdr.xchg), ip_str(&m->from, ab), m->from_port, m->md.hdr.msgid);
	return true;
}

static bool same_packet(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return a && alen == blen && memcmp(a, b, alen) == 0;
}

/* The peer sent its last message again: the row that brought s to its
 * state says whether our answer is re-sent or the copy dropped. True
 * when m was such a duplicate. */
static bool handled_as_duplicate(struct v1_state *s, const struct v1_msg *m)
{
	if (!same_packet(s->last_recv, s->last_recv_len, m->packet, m->packet_len))
		return false;
	const struct v1_row *reached_by = v1_row_reaching(s->st->name);
	if (reached_by && reached_by->duplicate == DUP_RESEND && s->last_sent) {
		llog(STATE_LOGGER(s->st), LS_INFO, MSGID_GENERIC,
		     "%s: retransmitted message received; re-sending our reply",
		     state_name_str(s->st->name));
		v1_resend(s);
	} else {
		DBG(DBG_CONTROL, s->st->connection, "#%u: duplicate message dropped", s->st->serial);
	}
	return true;
}

static void answer(struct v1_state *s, const struct v1_row *row, struct v1_msg *m)
{
	if (!row || !(row->flags & F_NO_ANSWER))
		v1_answer_notify(s, m);
}

static void finish_transition(struct v1_state *s, const struct v1_row *row);

/* Run one message through s's row. created: s was made for this message
 * (deleted again unless the handler accepts it). */
static void run_row(struct v1_state *s, struct v1_msg *m, bool created)
{
	struct state *st = s->st;
	struct connection *c = st->connection;
	if (s->crypto_job) {
		/* the previous message's crypto is still in a helper: its
		 * answer comes when that is done (a retransmit meets it) */
		DBG(DBG_CONTROL, c, "#%u: crypto for the last message still running; message dropped",
		    st->serial);
		goto refused;
	}
	const struct v1_row *row = v1_row_for(st->name, m->md.hdr.xchg);
	if (!row && m->md.hdr.xchg == XCHG_TRANSACTION && transaction_again(s))
		row = v1_row_for(st->name, m->md.hdr.xchg);
	if (!row) {
		if (unauthenticated_may_log(st, m))
			llog(LOGGER(c, st), LS_INFO, MSGID_GENERIC, "%s: unexpected %s message; dropped",
			     state_name_str(st->name), exchange_name(m->md.hdr.xchg));
		goto refused;
	}
	if (!!(row->flags & F_ENCRYPTED) != m->encrypted) {
		if (unauthenticated_may_log(st, m))
			llog(LOGGER(c, st), LS_SERIOUS, MSGID_GENERIC, "%s: message must %sbe encrypted; dropped",
			     state_name_str(st->name), row->flags & F_ENCRYPTED ? "" : "not ");
		goto refused;
	}
	/* which IV decrypts it: the ISAKMP SA's chain in Main Mode, the
	 * exchange's own in Quick Mode and in a transaction exchange (kept
	 * beside the phase-1 one on the ISAKMP state) */
	struct v1_state *isakmp = v1_keyed_isakmp(s);
	bool tx = m->md.hdr.xchg == XCHG_TRANSACTION;
	uint8_t fresh_iv[CRYPTO_MAX_BLOCK];
	uint8_t *iv = tx ? transaction_iv(s, m->md.hdr.msgid, fresh_iv) : s->iv;
	uint8_t *chain = tx ? s->tx_iv : s->iv;   /* where the IV after it is committed */
	if (!open_msg(isakmp, iv, m, c, st)) {
		/* MI3/MR3 that does not decrypt to a valid message: with a
		 * preshared key that is the peer failing to prove it knows
		 * the key (wrong PSK), so say AUTHENTICATION_FAILED */
		if (m->encrypted && m->body && st->kind == STATE_KIND_ISAKMP && !st->established)
			m->notify = N_AUTHENTICATION_FAILED;
		answer(s, row, m);
		goto refused;
	}
	if (!check_payloads(row, m, c, st)) {
		answer(s, row, m);
		goto refused;
	}
	/* an encrypted message decrypted: isakmp has keys */
	if (!verify_hash(row, isakmp, s, m, c, st)) {
		if (m->notify)
			answer(s, row, m);
		goto refused;
	}
	/* authentic: its message ID is used on this ISAKMP SA for good,
	 * whatever the handler makes of it (Main Mode's 0 is not kept) */
	if (isakmp && row->hash != V1_HASH_NONE)
		v1_msgid_remember(isakmp, MSGID_LANE_EXCHANGE, m->md.hdr.msgid);
	uint8_t old_iv[CRYPTO_MAX_BLOCK];
	memcpy(old_iv, chain, sizeof(old_iv));
	uint32_t old_tx_msgid = s->tx_msgid;
	if (m->encrypted)
		memcpy(chain, m->new_iv, isakmp->iv_len);
	if (tx)
		s->tx_msgid = m->md.hdr.msgid;
	unsigned serial = st->serial;
	s->in_transition = true;
	s->tx_next = STATE_UNDEFINED;
	enum stf r = row->handler(s, m);
	if (state_by_serial(serial) == st)
		s->in_transition = false;
	if (r == STF_SUSPEND) {
		/* as if the message had not come yet, until it comes again
		 * from v1_replay with the results */
		if (state_by_serial(serial) != st)
			return;
		memcpy(chain, old_iv, sizeof(old_iv));
		s->tx_msgid = old_tx_msgid;
		v1_crypto_park(s, m);
		return;
	}
	if (r != STF_OK) {
		/* the handler may have deleted nothing; the state still exists */
		if (state_by_serial(serial) != st)
			return;
		memcpy(chain, old_iv, sizeof(old_iv));
		s->tx_msgid = old_tx_msgid;
		if (s->change_pending) {
			s->change_pending = false;
			event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);
		}
		if (m->notify)
			answer(s, row, m);
		if (r == STF_FATAL || created)
			v1_delete_state(st, false);
		return;
	}
	if (m->encrypted)
		dpd_heard(s);   /* authenticated by its handler: the peer is alive */
	free(s->last_recv);
	s->last_recv = xmalloc(m->packet_len);
	memcpy(s->last_recv, m->packet, m->packet_len);
	s->last_recv_len = m->packet_len;
	/* a transaction handler may choose another state (a new XAUTH
	 * REQUEST after a wrong password): it armed that state's timer */
	enum state_name to = s->tx_next ? s->tx_next : row->to;
	s->tx_next = STATE_UNDEFINED;
	state_set_name(st, to);
	if (s->change_pending) {
		s->change_pending = false;
		event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);
	}
	if (st->established) {
		/* only what answers a copy of the peer's last message stays */
		const struct v1_row *reached = v1_row_reaching(to);
		v1_exchange_done(s, (reached && reached->duplicate == DUP_RESEND) ||
					    row->timeout == TIMEOUT_RETRANSMIT);
	}
	if (to == row->to)
		finish_transition(s, row);
	return;

refused:
	if (created)
		v1_delete_state(st, false);
}

/* The ISAKMP SA is up and we started it: Quick Mode follows, unless the
 * connection wants no phase 2 (then the callers are done) or this was
 * an ISAKMP SA's replacement nobody asked for more of. */
void v1_start_quick(struct v1_state *s)
{
	struct state *st = s->st;
	struct connection *c = st->connection;
	bool phase2 = c->cfg.policy & (POLICY_ENCRYPT | POLICY_AUTHENTICATE);
	if (!phase2) {
		progress_sinks_done(c, NULL);
		return;
	}
	if (s->phase1_only && !c->sinks)
		return;
	struct ctl_error err;
	/* the Quick Mode continues this keying attempt, and replaces what
	 * the Main Mode was started to replace */
	struct state *old = s->replacing ? state_by_serial(s->replacing) : NULL;
	struct keying k = { .attempt = s->keying_attempt,
			    .replacing = old && old->kind == STATE_KIND_IPSEC ? s->replacing : 0 };
	if (quick_outI1(s, c, &k, &err) < 0)
		v1_fail(c, st, RC_LOG_SERIOUS, "%s", err.message);
}

/* The row's timer for the state reached, then what reaching it does. */
static void finish_transition(struct v1_state *s, const struct v1_row *row)
{
	struct state *st = s->st;
	struct connection *c = st->connection;
	switch (row->timeout) {
	case TIMEOUT_RETRANSMIT:
		s->retransmits = 0;
		v1_arm_retransmit(s);
		break;
	case TIMEOUT_RESPONDER:
		v1_arm_responder_timeout(s);
		break;
	case TIMEOUT_NONE:
		v1_stop_retransmit(s);
		break;
	}
	bool phase2 = c->cfg.policy & (POLICY_ENCRYPT | POLICY_AUTHENTICATE);
	bool ends_wait = row->reach == REACH_FINISH || (row->reach == REACH_START_QUICK && !phase2);
	enum whack_rc rc = v1_row_rc(row, st->name, ends_wait);
	switch (row->reach) {
	case REACH_NOTHING:
		return;
	case REACH_PROGRESS:
		/* a responder whose peer never returned our cookie: a forger
		 * can make us say this once per MI1 (log_limit.h) */
		if (half_open_counted(&s->half_open) && !s->half_open.proven) {
			if (log_limit_allow(&st->peer))
				llog_rc(LOGGER(c, st), LS_INFO, rc, MSGID_STATE, "%s: %s", state_name_str(st->name),
					row->what);
			return;
		}
		llog_rc(LOGGER(c, st), LS_INFO, rc, MSGID_STATE, "%s: %s", state_name_str(st->name), row->what);
		return;
	case REACH_ESTABLISHED:
	case REACH_START_QUICK:
	case REACH_FINISH:
		llog_rc(LOGGER(c, st), LS_INFO, rc, MSGID_STATE, "%s: %s {%s}", state_name_str(st->name), row->what,
			st->algorithms);
		break;
	}
	/* XAUTH and Mode Config after Main Mode, before Quick Mode */
	if (row->xchg == XCHG_TRANSACTION) {
		transaction_next(s);
		return;
	}
	if (row->xchg == XCHG_IDPROT && (row->reach == REACH_ESTABLISHED || row->reach == REACH_START_QUICK) &&
	    transaction_start(s))
		return;
	if (row->reach == REACH_START_QUICK)
		v1_start_quick(s);
	else if (row->reach == REACH_FINISH)
		progress_sinks_done(c, NULL);
}

static void release_msg(struct v1_msg *m)
{
	msg_digest_release(&m->md);
	if (m->body) {
		OPENSSL_cleanse(m->body, m->body_len);
		free(m->body);
	}
}

/* The admission of a new Main Mode of pool (half_open.h, rxload.h):
 * true when it is refused. A configured peer's MI1 over a full pool
 * replaces the pool's oldest unproven half-open state. */
static bool refuse_new_main_mode(const struct v1_msg *m, enum half_open_pool pool)
{
	struct half_open_facts f;
	struct half_open_slot *victim;
	enum half_open_verdict v = half_open_admit(pool, &m->from, &f, &victim);
	static const enum rxload_reason refusal_of[] = {
		[HALF_OPEN_ADMIT] = RXLOAD_OK,
		[HALF_OPEN_ADMIT_REPLACING] = RXLOAD_OK,
		[HALF_OPEN_REFUSE_SOURCE] = RXLOAD_HALF_OPEN_SOURCE,
		[HALF_OPEN_REFUSE_FULL] = RXLOAD_HALF_OPEN,
	};
	struct rxload_half_open ho = {
		.refusal = refusal_of[v],
		.load_exempt = !half_open_pool_load_refusable(pool),
		.pool = half_open_pool_name(pool),
		.in_pool = f.in_pool,
		.from_source = f.from_source,
	};
	if (rxload_refuse_main_mode(&ho, &m->from, m->from_port))
		return true;
	if (victim) {
		struct v1_state *old = HALF_OPEN_OWNER(victim);
		char ab[IP_STR_MAX];
		llog_peer(&m->from, STATE_LOGGER(old->st), LS_INFO, MSGID_STATE,
			  "%s: replaced by a new Main Mode from %s: %u half-open negotiations of %s, this the "
			  "oldest that never answered", state_name_str(old->st->name), ip_str(&m->from, ab),
			  f.in_pool, half_open_pool_name(pool));
		v1_delete_state(old->st, false);
	}
	return false;
}

static void process_main_mode(struct v1_msg *m)
{
	const struct isakmp_hdr *h = &m->md.hdr;
	char ab[IP_STR_MAX];
	struct v1_state *s = v1_find_isakmp(h->icookie, h->rcookie);
	if (s && (!ip_equal(&s->st->peer, &m->from))) {
		DBG(DBG_CONTROL, NULL, "Main Mode message from %s for #%u of another peer; dropped",
		    ip_str(&m->from, ab), s->st->serial);
		return;
	}
	if (s) {
		if (handled_as_duplicate(s, m))
			return;
		/* a zero responder cookie only finds a state that has one to let
		 * a retransmitted MI1 be recognised (above); anything else after
		 * MR1 must carry the responder's cookie exactly */
		if (cookie_is_zero(h->rcookie) && !cookie_is_zero(s->rcookie)) {
			DBG(DBG_CONTROL, s->st->connection,
			    "#%u: message without the responder cookie; dropped", s->st->serial);
			return;
		}
		/* our responder cookie came back: the peer got MR1, it is no
		 * forger (half_open.h) */
		if (!cookie_is_zero(h->rcookie))
			half_open_proven(&s->half_open);
		if (s->st->name == STATE_MAIN_I1 && cookie_is_zero(s->rcookie)) {
			if (cookie_is_zero(h->rcookie)) {
				DBG(DBG_CONTROL, s->st->connection, "reply without responder cookie; dropped");
				return;
			}
		}
		run_row(s, m, false);
		return;
	}
	if (!cookie_is_zero(h->rcookie) || h->msgid != 0 || m->encrypted) {
		llog_peer(&m->from, GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC,
			  "Main Mode message from %s:%u for an unknown ISAKMP SA; dropped", ip_str(&m->from, ab),
			  m->from_port);
		return;
	}
	/* a new Main Mode: which connection would take it (one for this
	 * address, perhaps an instance, else a %any template), without making
	 * an instance yet; then the half-open limits (half_open.h) and overload
	 * (rxload.h) decide, before any state or DH */
	struct connection *c = v1_conn_configured_for_mm(&m->ifp->addr, &m->from);
	struct connection *t = c ? NULL : v1_template_for_mm(&m->ifp->addr);
	if (!c && !t) {
		llog_peer(&m->from, GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC,
			  "initial Main Mode message received on %s:%u but no connection has been authorized "
			  "for %s; dropped", ip_str(&m->ifp->addr, ab), m->ifp->port, ip_str(&m->from, ab));
		return;
	}
	/* an instance of a %any template is no configured peer: its
	 * address came from an MI1 (perhaps a forged one) */
	enum half_open_pool pool = c && !c->template ? HALF_OPEN_CONFIGURED : HALF_OPEN_ANY;
	if (refuse_new_main_mode(m, pool))
		return;
	if (!c)
		c = v1_instantiate_for_mm(t, &m->from);   /* its lines limited until it is established */
	if (!c)
		return;
	s = v1_state_new(c, STATE_KIND_ISAKMP, false, &m->from, m->from_port, &m->ifp->addr, m->ifp->port);
	half_open_add(&s->half_open, pool, &m->from);
	memcpy(s->icookie, h->icookie, 8);
	v1_hash_isakmp(s);
	s->st->name = STATE_MAIN_R0;
	llog_peer(&m->from, LOGGER(c, s->st), LS_INFO, MSGID_STATE, "responding to Main Mode from %s",
		  ip_str(&m->from, ab));
	run_row(s, m, true);
}

static struct v1_state *established_isakmp(const struct isakmp_hdr *h, const ip_address *from)
{
	struct v1_state *isakmp = v1_find_isakmp(h->icookie, h->rcookie);
	if (!isakmp || memcmp(isakmp->rcookie, h->rcookie, 8) != 0 || !ip_equal(&isakmp->st->peer, from))
		return NULL;
	return isakmp;
}

static void process_quick_mode(struct v1_msg *m)
{
	const struct isakmp_hdr *h = &m->md.hdr;
	char ab[IP_STR_MAX];
	struct v1_state *isakmp = established_isakmp(h, &m->from);
	if (!isakmp || !isakmp->st->established || !isakmp->have_keys) {
		llog_peer(&m->from, GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "Quick Mode message from %s for no established ISAKMP SA; dropped", ip_str(&m->from, ab));
		return;
	}
	if (h->msgid == 0 || !m->encrypted) {
		llog(STATE_LOGGER(isakmp->st), LS_SERIOUS, MSGID_GENERIC,
		     "Quick Mode message with message id 0 or unencrypted; dropped");
		return;
	}
	struct v1_state *s = v1_find_phase2(h->icookie, h->rcookie, h->msgid);
	if (s) {
		if (handled_as_duplicate(s, m))
			return;
		run_row(s, m, false);
		return;
	}
	if (replayed(isakmp, m))
		return;
	s = v1_state_new(isakmp->st->connection, STATE_KIND_IPSEC, false, &m->from, m->from_port,
			 &isakmp->local, isakmp->local_port);
	memcpy(s->icookie, h->icookie, 8);
	memcpy(s->rcookie, h->rcookie, 8);
	s->msgid = h->msgid;
	s->isakmp_serial = isakmp->st->serial;
	s->iv_len = isakmp->iv_len;
	ikev1_phase2_iv(isakmp->ike.hash, isakmp->ike.cipher, isakmp->iv, h->msgid, s->iv);
	v1_hash_phase2(s);
	s->st->name = STATE_QUICK_R0;
	run_row(s, m, true);
}

/* XAUTH and Mode Config: on the ISAKMP state itself, whose row says
 * what the message may be (transaction.c keeps the exchange's message id
 * and IV beside the phase-1 ones). */
static void process_transaction(struct v1_msg *m)
{
	const struct isakmp_hdr *h = &m->md.hdr;
	char ab[IP_STR_MAX];
	struct v1_state *isakmp = established_isakmp(h, &m->from);
	if (!isakmp || !isakmp->st->established || !isakmp->have_keys) {
		llog_peer(&m->from, GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC,
			  "Transaction message from %s for no established ISAKMP SA; dropped", ip_str(&m->from, ab));
		return;
	}
	if (h->msgid == 0 || !m->encrypted) {
		llog(STATE_LOGGER(isakmp->st), LS_SERIOUS, MSGID_GENERIC,
		     "Transaction message with message id 0 or unencrypted; dropped");
		return;
	}
	/* the current exchange's (tx_msgid) is handled as a retransmission */
	if (h->msgid != isakmp->tx_msgid && replayed(isakmp, m))
		return;
	if (handled_as_duplicate(isakmp, m))
		return;
	run_row(isakmp, m, false);
}

static void process_informational(struct v1_msg *m)
{
	const struct isakmp_hdr *h = &m->md.hdr;
	char ab[IP_STR_MAX];
	struct v1_state *isakmp = v1_find_isakmp(h->icookie, h->rcookie);
	if (isakmp && !ip_equal(&isakmp->st->peer, &m->from))
		isakmp = NULL;
	struct connection *c = isakmp ? isakmp->st->connection : NULL;
	struct state *st = isakmp ? isakmp->st : NULL;
	if (m->encrypted) {
		if (!isakmp || !isakmp->have_keys || memcmp(isakmp->rcookie, h->rcookie, 8) != 0 || h->msgid == 0) {
			llog_peer(&m->from, GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "encrypted Informational message from %s for no known ISAKMP SA; dropped",
			     ip_str(&m->from, ab));
			return;
		}
		if (replayed(isakmp, m))
			return;
		uint8_t iv[CRYPTO_MAX_BLOCK];
		if (ikev1_phase2_iv(isakmp->ike.hash, isakmp->ike.cipher, isakmp->iv, h->msgid, iv) < 0)
			return;
		if (!open_msg(isakmp, iv, m, c, st))
			return;
	} else if (!open_msg(NULL, NULL, m, c, st)) {
		return;
	}
	/* no state of its own: the row is chosen by protection, and nothing
	 * is answered (F_NO_ANSWER) */
	const struct v1_row *row = v1_row_for(m->encrypted ? STATE_INFO_PROTECTED : STATE_INFO, XCHG_INFO);
	if (!row || !check_payloads(row, m, c, st) || !verify_hash(row, isakmp, isakmp, m, c, st))
		return;
	/* authentic (HASH(1) verified): its ID is now used, before the
	 * handler may delete the ISAKMP SA */
	if (m->encrypted)
		v1_msgid_remember(isakmp, MSGID_LANE_INFO, h->msgid);
	row->handler(isakmp, m);
}

static void on_packet(struct iface *ifp, const uint8_t *buf, size_t len, const ip_address *from,
		      uint16_t from_port)
{
	char why[200], ab[IP_STR_MAX];
	unsigned notify = 0;
	struct v1_msg m = {
		.ifp = ifp, .from = *from, .from_port = from_port, .packet = buf, .packet_len = len,
	};
	if (isakmp_hdr_check(buf, len, &m.md.hdr, &notify, why, sizeof(why)) < 0) {
		llog_peer(from, GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "dropping %zu-byte packet from %s:%u: %s", len,
			  ip_str(from, ab), from_port, why);
		return;
	}
	m.encrypted = m.md.hdr.flags & ISAKMP_FLAG_ENCRYPTION;
	if (debugging(DBG_PARSING, NULL))
		packet_dump(NULL, "received", buf, len, m.encrypted);
	switch (m.md.hdr.xchg) {
	case XCHG_IDPROT:
		process_main_mode(&m);
		break;
	case XCHG_QUICK:
		process_quick_mode(&m);
		break;
	case XCHG_INFO:
		process_informational(&m);
		break;
	case XCHG_TRANSACTION:
		process_transaction(&m);
		break;
	case XCHG_AGGRESSIVE:
		llog_peer(from, GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "Aggressive Mode message from %s:%u refused: this pluto only implements Main Mode",
		     ip_str(from, ab), from_port);
		if (cookie_is_zero(m.md.hdr.rcookie) && !m.encrypted) {
			static const uint8_t zero[8];
			v1_send_plain_notify(&ifp->addr, ifp->port, from, from_port, m.md.hdr.icookie, zero,
					     N_INVALID_EXCHANGE_TYPE);
		}
		break;
	default:
		llog_peer(from, GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "%s message from %s:%u not supported; dropped", exchange_name(m.md.hdr.xchg),
		     ip_str(from, ab), from_port);
		break;
	}
	release_msg(&m);
}

void v1_replay(struct v1_state *s, const uint8_t *packet, size_t len, const ip_address *local,
	       uint16_t local_port, const ip_address *from, uint16_t from_port)
{
	struct iface *ifp = demux_iface_for(local, local_port);
	if (!ifp) {
		DBG(DBG_CONTROL, s->st->connection, "#%u: the interface of the parked message is gone; dropped",
		    s->st->serial);
		return;
	}
	on_packet(ifp, packet, len, from, from_port);
}

void ikev1_init(struct sd_event *event)
{
	ikev1_loop = event;
	v1_timers_init(event);
	v1_sa_init(event);
	demux_set_packet_handler(on_packet);
}
