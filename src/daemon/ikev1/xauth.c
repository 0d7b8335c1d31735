/* XAUTH (draft-beaulieu-ike-xauth-02), generic type, over the
 * transaction exchange: the gateway sends REQUEST (XAUTH_TYPE,
 * USER_NAME and USER_PASSWORD empty), the client REPLY with them, the
 * gateway SET with XAUTH_STATUS, the client ACK. A wrong password gets a
 * new REQUEST, up to XAUTH_TRIES of them, then STATUS FAIL and a Delete.
 * The password is compared and sent, never logged: only the user name is
 * (the ATTR dump masks it too). */
#include <stdio.h>
#include <string.h>

#include "daemon/connections.h"
#include "daemon/events.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
#include "daemon/progress.h"
#include "daemon/secrets.h"
#include "daemon/wire/cfg_attrs.h"

/* A user name from the wire as a C string: printable ASCII only (it goes
 * into log lines and the State), "?" for anything else. */
static void printable_copy(const struct cfg_attr *a, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; a && i < a->len && n + 1 < cap; i++)
		out[n++] = a->data[i] >= 0x20 && a->data[i] < 0x7f && a->data[i] != '"' ? (char)a->data[i] : '?';
	out[n] = '\0';
}

/* --- the gateway --- */

void xauth_server_start(struct v1_state *s)
{
	struct cfg_builder b = { .len = 0 };
	cfg_put_tv(&b, XAUTH_TYPE, XAUTH_TYPE_GENERIC);
	cfg_put_tlv(&b, XAUTH_USER_NAME, NULL, 0);
	cfg_put_tlv(&b, XAUTH_USER_PASSWORD, NULL, 0);
	s->xauth_tries++;
	s->tx_identifier++;
	if (!transaction_send(s, true, CFG_REQUEST, s->tx_identifier, b.buf, b.len))
		return;   /* logged; the retransmission timer gives up for us */
	state_set_name(s->st, STATE_XAUTH_R0);
	s->retransmits = 0;
	v1_arm_retransmit(s);
	llog_rc(STATE_LOGGER(s->st), LS_INFO, RC_NEW_STATE + STATE_XAUTH_R0, MSGID_STATE,
		"%s: sent XAUTH REQUEST (try %u of %u), expecting REPLY", state_name_str(STATE_XAUTH_R0),
		s->xauth_tries, XAUTH_TRIES);
}

static bool password_ok(const struct connection *c, const char *user, const struct cfg_attr *pw)
{
	if (c->cfg.xauthby == XAUTHBY_ALWAYSOK)
		return true;
	const struct secret *sec = secret_find_xauth(user);
	if (!sec || !pw || pw->len != sec->password_len)
		return false;
	return CRYPTO_memcmp(pw->data, sec->password, pw->len) == 0;
}

static bool send_status(struct v1_state *s, uint16_t status)
{
	struct cfg_builder b = { .len = 0 };
	cfg_put_tv(&b, XAUTH_STATUS, status);
	s->tx_identifier++;
	return transaction_send(s, true, CFG_SET, s->tx_identifier, b.buf, b.len);
}

enum stf xauth_inREPLY(struct v1_state *s, struct v1_msg *m)
{
	struct state *st = s->st;
	struct connection *c = st->connection;
	struct cfg_attrs a;
	if (!transaction_attrs(s, m, 1u << CFG_REPLY, &a))
		return STF_FAIL;
	char user[128];   /* the longest user name kept */
	printable_copy(cfg_attrs_find(&a, XAUTH_USER_NAME), user, sizeof(user));
	if (password_ok(c, user, cfg_attrs_find(&a, XAUTH_USER_PASSWORD)) && user[0]) {
		state_set_text(&st->xauth_user, "%s", user);
		event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);
		llog(STATE_LOGGER(st), LS_INFO, MSGID_STATE, "XAUTH: user \"%s\" authenticated%s", user,
		     c->cfg.xauthby == XAUTHBY_ALWAYSOK ? " (xauthby=alwaysok)" : "");
		return send_status(s, XAUTH_STATUS_OK) ? STF_OK : STF_FATAL;
	}
	llog(STATE_LOGGER(st), LS_SERIOUS, MSGID_STATE, "XAUTH: user \"%s\" failed to authenticate (try %u of %u)",
	     user, s->xauth_tries, XAUTH_TRIES);
	if (s->xauth_tries < XAUTH_TRIES) {
		xauth_server_start(s);
		s->tx_next = STATE_XAUTH_R0;
		return STF_OK;
	}
	llog(STATE_LOGGER(st), LS_SERIOUS, MSGID_NEGOTIATION_FAILED,
	     "XAUTH: user \"%s\" refused after %u tries; sending STATUS FAIL", user, XAUTH_TRIES);
	s->xauth_failed = true;
	return send_status(s, XAUTH_STATUS_FAIL) ? STF_OK : STF_FATAL;
}

enum stf xauth_inACK(struct v1_state *s, struct v1_msg *m)
{
	struct cfg_attrs a;
	if (!transaction_attrs(s, m, 1u << CFG_ACK, &a))
		return STF_FAIL;
	if (s->xauth_failed) {
		llog(STATE_LOGGER(s->st), LS_INFO, MSGID_STATE, "XAUTH failed: deleting ISAKMP State #%u",
		     s->st->serial);
		v1_delete_state(s->st, true);
		return STF_FATAL;
	}
	return STF_OK;
}

/* --- the client --- */

/* The negotiation is over because the gateway refused us: whoever waits
 * gets AuthenticationFailed (whack: 224), not a timeout. */
static void authentication_failed(struct v1_state *s, const char *fmt, const char *user)
{
	struct connection *c = s->st->connection;
	struct ctl_error err = { .code = PE_AUTHENTICATION_FAILED, .rc = RC_AUTHENTICATION_FAILED };
	snprintf(err.message, sizeof(err.message), fmt, user);
	llog_rc(LOGGER(c, s->st), LS_SERIOUS, RC_AUTHENTICATION_FAILED, MSGID_NEGOTIATION_FAILED, "%s", err.message);
	progress_sinks_done(c, &err);
}

static const char *our_user(const struct connection *c)
{
	return END_THIS(c)->username;
}

/* REPLY to the gateway's REQUEST a: our user name and password */
static enum stf reply_credentials(struct v1_state *s, const struct cfg_attrs *a)
{
	struct connection *c = s->st->connection;
	const char *user = our_user(c);
	const struct secret *sec = user ? secret_find_xauth(user) : NULL;
	if (!user || !sec) {
		authentication_failed(s, user ? "XAUTH: no password for user \"%s\" in the secrets"
					      : "XAUTH: the gateway asks for a user name but this end has no username=%s",
				      user ? user : "");
		v1_delete_state(s->st, true);
		return STF_FATAL;
	}
	const struct cfg_attr *type = cfg_attrs_find(a, XAUTH_TYPE);
	if (type && type->value != XAUTH_TYPE_GENERIC) {
		authentication_failed(s, "XAUTH: the gateway asks for an XAUTH type other than generic%s", "");
		v1_delete_state(s->st, true);
		return STF_FATAL;
	}
	struct cfg_builder b = { .len = 0 };
	if (type)
		cfg_put_tv(&b, XAUTH_TYPE, XAUTH_TYPE_GENERIC);
	cfg_put_tlv(&b, XAUTH_USER_NAME, user, strlen(user));
	cfg_put_tlv(&b, XAUTH_USER_PASSWORD, sec->password, sec->password_len);
	bool ok = !b.overflow && transaction_send(s, false, CFG_REPLY, a->identifier, b.buf, b.len);
	OPENSSL_cleanse(b.buf, sizeof(b.buf));
	if (!ok)
		return STF_FATAL;
	llog(STATE_LOGGER(s->st), LS_INFO, MSGID_STATE, "XAUTH: sent user name \"%s\" and its password", user);
	return STF_OK;
}

enum stf xauth_inREQUEST(struct v1_state *s, struct v1_msg *m)
{
	struct cfg_attrs a;
	if (!transaction_attrs(s, m, 1u << CFG_REQUEST, &a))
		return STF_FAIL;
	return reply_credentials(s, &a);
}

enum stf xauth_inSET(struct v1_state *s, struct v1_msg *m)
{
	struct state *st = s->st;
	struct cfg_attrs a;
	if (!transaction_attrs(s, m, 1u << CFG_SET | 1u << CFG_REQUEST, &a))
		return STF_FAIL;
	if (a.msg_type == CFG_REQUEST) {
		/* the gateway refused the password and asks again */
		llog(STATE_LOGGER(st), LS_SERIOUS, MSGID_STATE, "XAUTH: the gateway asks again (password refused?)");
		enum stf r = reply_credentials(s, &a);
		if (r == STF_OK) {
			s->tx_next = STATE_XAUTH_I1;
			v1_arm_responder_timeout(s);
		}
		return r;
	}
	const struct cfg_attr *status = cfg_attrs_find(&a, XAUTH_STATUS);
	struct cfg_builder b = { .len = 0 };
	cfg_put_tv(&b, XAUTH_STATUS, status ? status->value : XAUTH_STATUS_FAIL);
	if (!transaction_send(s, false, CFG_ACK, a.identifier, b.buf, b.len))
		return STF_FATAL;
	const char *user = our_user(st->connection);
	if (!status || status->value != XAUTH_STATUS_OK) {
		authentication_failed(s, "XAUTH: the gateway refused user \"%s\" (STATUS FAIL)", user ? user : "");
		v1_delete_state(st, false);
		return STF_FATAL;
	}
	state_set_text(&st->xauth_user, "%.127s", user ? user : "");
	event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);
	llog(STATE_LOGGER(st), LS_INFO, MSGID_STATE, "XAUTH: user \"%s\" authenticated by the gateway", st->xauth_user);
	return STF_OK;
}
