/* Mode Config (draft-ietf-ipsec-isakmp-mode-cfg-05) after XAUTH, or
 * right after Main Mode without it: pull (client REQUEST with empty
 * values, gateway REPLY) when modecfgpull=yes, push (gateway SET, client
 * ACK) otherwise. The gateway lends the client's address from the pool
 * of the client's end (one lease per XAUTH user, else per peer id;
 * released when the ISAKMP SA goes, transaction_free) and sends the DNS
 * servers, domains, banner and its own subnet as a Unity split include;
 * the client keeps them on its ISAKMP state, and its Quick Mode proposes
 * the address as its own client. */
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "daemon/addresspool.h"
#include "daemon/connections.h"
#include "daemon/events.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
#include "daemon/wire/cfg_attrs.h"

/* --- the gateway --- */

/* The client's address: the lease its identity holds, else a new one.
 * false (logged) when there is no pool or it is exhausted. */
static bool lend(struct v1_state *s, ip_address *out)
{
	struct state *st = s->st;
	struct connection *c = st->connection;
	const struct end *peer = END_THAT(c);
	if (!peer->has_addresspool) {
		llog(STATE_LOGGER(st), LS_SERIOUS, MSGID_STATE, "Mode Config: no address pool for the client end");
		return false;
	}
	struct ctl_error err;
	struct address_pool *pool = address_pool_get(&peer->pool_first, &peer->pool_last, &err);
	if (!pool) {
		llog(STATE_LOGGER(st), LS_SERIOUS, MSGID_STATE, "Mode Config: %s", err.message);
		return false;
	}
	const char *identity = st->xauth_user[0] ? st->xauth_user : st->peer_id;
	if (address_pool_lease(pool, identity, out, &err) < 0) {
		llog(STATE_LOGGER(st), LS_SERIOUS, MSGID_NEGOTIATION_FAILED, "Mode Config: %s; refusing \"%s\"",
		     err.message, identity);
		address_pool_put(pool);
		return false;
	}
	if (s->pool)
		address_pool_put(pool);   /* the same lease again: one reference is enough */
	else
		s->pool = pool;
	free(s->lease_identity);
	s->lease_identity = xstrdup(identity);
	struct state_modecfg *m = state_modecfg_mut(st);
	m->has_virtual_address = true;
	subnet_from_address(out, &m->virtual_address);
	event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);
	char ab[IP_STR_MAX];
	llog(STATE_LOGGER(st), LS_INFO, MSGID_STATE, "Mode Config: lent %s to \"%s\"", ip_str(out, ab), identity);
	return true;
}

/* What the gateway tells the client (REPLY or SET). */
static void server_attrs(const struct connection *c, const ip_address *addr, struct cfg_builder *b)
{
	if (addr->family == AF_INET) {
		static const uint8_t host_mask[4] = { 255, 255, 255, 255 };
		cfg_put_tlv(b, CFG_INTERNAL_IP4_ADDRESS, addr->u.bytes, 4);
		cfg_put_tlv(b, CFG_INTERNAL_IP4_NETMASK, host_mask, 4);
	} else {
		uint8_t v6[17];
		memcpy(v6, addr->u.bytes, 16);
		v6[16] = 128;
		cfg_put_tlv(b, CFG_INTERNAL_IP6_ADDRESS, v6, sizeof(v6));
	}
	for (size_t i = 0; i < c->cfg.n_modecfgdns; i++) {
		const ip_address *d = &c->cfg.modecfgdns[i];
		if (d->family == AF_INET)
			cfg_put_tlv(b, CFG_INTERNAL_IP4_DNS, d->u.bytes, 4);
		else
			cfg_put_tlv(b, CFG_INTERNAL_IP6_DNS, d->u.bytes, 16);
	}
	/* one DEF_DOMAIN per domain of the comma list */
	for (const char *p = c->cfg.modecfgdomains; p && *p;) {
		size_t n = strcspn(p, ",");
		if (n)
			cfg_put_tlv(b, UNITY_DEF_DOMAIN, p, n);
		p += n + (p[n] == ',');
	}
	if (c->cfg.modecfgbanner)
		cfg_put_tlv(b, UNITY_BANNER, c->cfg.modecfgbanner, strlen(c->cfg.modecfgbanner));
	const struct end *me = END_THIS(c);
	if (me->has_client && me->client.addr.family == AF_INET) {
		uint8_t split[UNITY_SPLIT_ENTRY_LEN] = { 0 };
		memcpy(split, me->client.addr.u.bytes, 4);
		uint32_t mask = me->client.prefix ? 0xffffffffu << (32 - me->client.prefix) : 0;
		put_be32(split + 4, mask);
		cfg_put_tlv(b, UNITY_SPLIT_INCLUDE, split, sizeof(split));
	}
}

/* The pool is exhausted (or missing): the negotiation is refused. */
static void refuse(struct v1_state *s)
{
	llog(STATE_LOGGER(s->st), LS_SERIOUS, MSGID_NEGOTIATION_FAILED,
	     "Mode Config: no address for the client; deleting ISAKMP State #%u", s->st->serial);
	v1_delete_state(s->st, true);
}

/* REPLY to the client's REQUEST a */
static enum stf reply_to(struct v1_state *s, const struct cfg_attrs *a)
{
	ip_address addr;
	if (!lend(s, &addr)) {
		refuse(s);
		return STF_FATAL;
	}
	struct cfg_builder b = { .len = 0 };
	server_attrs(s->st->connection, &addr, &b);
	if (b.overflow || !transaction_send(s, false, CFG_REPLY, a->identifier, b.buf, b.len))
		return STF_FATAL;
	return STF_OK;
}

enum stf modecfg_inREQUEST(struct v1_state *s, struct v1_msg *m)
{
	struct cfg_attrs a;
	if (!transaction_attrs(s, m, 1u << CFG_REQUEST, &a))
		return STF_FAIL;
	return reply_to(s, &a);
}

/* After our SET: its ACK, or a REQUEST from a client that pulls anyway
 * (strongSwan and libreswan clients ask even when the gateway pushes, and
 * strongSwan holds our SET back until its REQUEST is answered): the REPLY
 * carries the same lease and ends Mode Config as the ACK would. */
enum stf modecfg_inACK(struct v1_state *s, struct v1_msg *m)
{
	struct cfg_attrs a;
	if (!transaction_attrs(s, m, (1u << CFG_ACK) | (1u << CFG_REQUEST), &a))
		return STF_FAIL;
	if (a.msg_type == CFG_REQUEST)
		return reply_to(s, &a);
	return STF_OK;
}

/* --- the client --- */

/* text of an attribute, printable only, appended to *field (a comma
 * list), at most cap - 1 characters in all */
#define DOMAINS_MAX 256
#define BANNER_MAX 512
static void append_text(const char **field, size_t cap, const struct cfg_attr *x, const char *sep)
{
	char out[BANNER_MAX > DOMAINS_MAX ? BANNER_MAX : DOMAINS_MAX];
	if (cap > sizeof(out))
		cap = sizeof(out);
	snprintf(out, cap, "%s", *field);
	size_t n = strlen(out);
	if (n && n + strlen(sep) < cap) {
		strcpy(out + n, sep);
		n += strlen(sep);
	}
	for (size_t i = 0; i < x->len && n + 1 < cap; i++)
		out[n++] = x->data[i] >= 0x20 && x->data[i] < 0x7f ? (char)x->data[i] : ' ';
	out[n] = '\0';
	state_set_text(field, "%s", out);
}

/* The networks of a UNITY_SPLIT_INCLUDE onto the state's split include. */
static void take_split_include(struct state *st, struct state_modecfg *m, const struct cfg_attr *x)
{
	if (cfg_split_include_parse(x->data, x->len, m->split_include, &m->n_split_include,
				    sizeof(m->split_include) / sizeof(m->split_include[0])))
		llog(STATE_LOGGER(st), LS_SERIOUS, MSGID_STATE,
		     "Mode Config: split include with a netmask that is not a prefix ignored");
}

/* The gateway's answer (REPLY or SET) onto our ISAKMP state. */
static void take_attrs(struct v1_state *s, const struct cfg_attrs *a)
{
	struct state *st = s->st;
	struct state_modecfg *m = state_modecfg_mut(st);
	m->n_dns = 0;
	state_set_text(&st->domains, "%s", "");
	state_set_text(&st->banner, "%s", "");
	m->n_split_include = 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct cfg_attr *x = &a->attrs[i];
		ip_address ip = { .family = AF_UNSPEC };
		switch (x->type) {
		case CFG_INTERNAL_IP4_ADDRESS:
		case CFG_INTERNAL_IP6_ADDRESS:
			if (!x->len)
				break;
			ip.family = x->type == CFG_INTERNAL_IP4_ADDRESS ? AF_INET : AF_INET6;
			memcpy(ip.u.bytes, x->data, x->type == CFG_INTERNAL_IP4_ADDRESS ? 4 : 16);
			if (!m->has_virtual_address || ip.family == AF_INET) {
				m->has_virtual_address = true;
				subnet_from_address(&ip, &m->virtual_address);
			}
			break;
		case CFG_INTERNAL_IP4_DNS:
		case CFG_INTERNAL_IP6_DNS:
			if (!x->len || m->n_dns == sizeof(m->dns) / sizeof(m->dns[0]))
				break;
			ip.family = x->type == CFG_INTERNAL_IP4_DNS ? AF_INET : AF_INET6;
			memcpy(ip.u.bytes, x->data, x->len);
			m->dns[m->n_dns++] = ip;
			break;
		case UNITY_DEF_DOMAIN:
			append_text(&st->domains, DOMAINS_MAX, x, ",");
			break;
		case UNITY_BANNER:
			append_text(&st->banner, BANNER_MAX, x, " ");
			break;
		case UNITY_SPLIT_INCLUDE:
			take_split_include(st, m, x);
			break;
		default:
			break;
		}
	}
	event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);
	char ab[IP_STR_MAX];
	if (m->has_virtual_address)
		llog(STATE_LOGGER(st), LS_INFO, MSGID_STATE, "Mode Config: received address %s%s%s",
		     subnet_str(&m->virtual_address, ab), st->domains[0] ? ", domains " : "", st->domains);
	else
		llog(STATE_LOGGER(st), LS_SERIOUS, MSGID_STATE, "Mode Config: the gateway sent no address");
}

enum stf modecfg_inREPLY(struct v1_state *s, struct v1_msg *m)
{
	struct cfg_attrs a;
	if (!transaction_attrs(s, m, 1u << CFG_REPLY, &a))
		return STF_FAIL;
	take_attrs(s, &a);
	return STF_OK;
}

enum stf modecfg_inSET(struct v1_state *s, struct v1_msg *m)
{
	struct cfg_attrs a;
	if (!transaction_attrs(s, m, 1u << CFG_SET, &a))
		return STF_FAIL;
	take_attrs(s, &a);
	/* ACK: the attributes accepted, without values (draft 3.2) */
	struct cfg_builder b = { .len = 0 };
	for (size_t i = 0; i < a.n; i++) {
		if (a.attrs[i].desc->tv)
			cfg_put_tv(&b, a.attrs[i].type, 0);
		else
			cfg_put_tlv(&b, a.attrs[i].type, NULL, 0);
	}
	if (!transaction_send(s, false, CFG_ACK, a.identifier, b.buf, b.len))
		return STF_FATAL;
	return STF_OK;
}

/* --- starting the phase --- */

bool modecfg_start(struct v1_state *s)
{
	struct state *st = s->st;
	struct connection *c = st->connection;
	const struct end *me = END_THIS(c);
	bool pull = c->cfg.modecfgpull;
	if (me->modecfgserver && pull) {
		state_set_name(st, STATE_MODE_CFG_R0);
		v1_arm_responder_timeout(s);
		llog_rc(STATE_LOGGER(st), LS_INFO, RC_NEW_STATE + STATE_MODE_CFG_R0, MSGID_STATE,
			"%s: expecting the client's Mode Config REQUEST", state_name_str(st->name));
		return true;
	}
	if (me->modecfgserver) {
		ip_address addr;
		if (!lend(s, &addr)) {
			refuse(s);
			return true;   /* gone */
		}
		struct cfg_builder b = { .len = 0 };
		server_attrs(c, &addr, &b);
		s->tx_identifier++;
		if (b.overflow || !transaction_send(s, true, CFG_SET, s->tx_identifier, b.buf, b.len)) {
			v1_delete_state(st, true);
			return true;
		}
		state_set_name(st, STATE_MODE_CFG_R2);
		s->retransmits = 0;
		v1_arm_retransmit(s);
		llog_rc(STATE_LOGGER(st), LS_INFO, RC_NEW_STATE + STATE_MODE_CFG_R2, MSGID_STATE,
			"%s: sent Mode Config SET, expecting ACK", state_name_str(st->name));
		return true;
	}
	if (me->modecfgclient && !pull) {
		state_set_name(st, STATE_MODE_CFG_I0);
		v1_arm_responder_timeout(s);
		llog_rc(STATE_LOGGER(st), LS_INFO, RC_NEW_STATE + STATE_MODE_CFG_I0, MSGID_STATE,
			"%s: expecting the gateway's Mode Config SET", state_name_str(st->name));
		return true;
	}
	if (me->modecfgclient) {
		static const uint16_t asked[] = {
			CFG_INTERNAL_IP4_ADDRESS, CFG_INTERNAL_IP4_NETMASK, CFG_INTERNAL_IP4_DNS,
			CFG_INTERNAL_IP6_ADDRESS, CFG_INTERNAL_IP6_DNS,
			UNITY_BANNER, UNITY_DEF_DOMAIN, UNITY_SPLIT_INCLUDE,
		};
		struct cfg_builder b = { .len = 0 };
		for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++)
			cfg_put_tlv(&b, asked[i], NULL, 0);
		s->tx_identifier++;
		if (!transaction_send(s, true, CFG_REQUEST, s->tx_identifier, b.buf, b.len)) {
			v1_delete_state(st, false);
			return true;
		}
		state_set_name(st, STATE_MODE_CFG_I1);
		s->retransmits = 0;
		v1_arm_retransmit(s);
		llog_rc(STATE_LOGGER(st), LS_INFO, RC_NEW_STATE + STATE_MODE_CFG_I1, MSGID_STATE,
			"%s: sent Mode Config REQUEST, expecting REPLY", state_name_str(st->name));
		return true;
	}
	return false;
}
