/* Quick Mode (RFC 2409 5.5), initiator and responder:
 *
 *   QI1 HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr] ->
 *                      <- QR1 HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr]
 *   QI2 HDR*, HASH(3)                              ->
 *
 * HASH(1) = prf(SKEYID_a, M-ID | rest), HASH(2) = prf(SKEYID_a, M-ID | Ni_b
 * | rest), HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b). We always send
 * client IDs (the interop peers do); without IDs the peers' host
 * addresses are the clients (RFC 2409 5.5). The dispatcher has checked
 * the payloads and the HASH of each message (ikev1_states.c). */
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/events.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
#include "daemon/ikev1/nat_traversal.h"
#include "klips/kernel.h"
#include "klips/routing.h"

#define LOGS(s, fmt, ...) llog(STATE_LOGGER((s)->st), LS_SERIOUS, MSGID_GENERIC, fmt, ##__VA_ARGS__)

/* Our inbound SPI: the kernel layer reserves it (xfrm: ALLOCSPI in
 * 0x1000..0xffffffff; none: random above 0xFFF, as the man page leaves
 * 0..0xFFF to IANA and manual keying). */
static int new_spi(struct v1_state *s, struct connection *c, struct ctl_error *err)
{
	uint8_t proto = c->cfg.policy & POLICY_ENCRYPT ? PROTO_IPSEC_ESP : PROTO_IPSEC_AH;
	return kernel_get_spi(s->st->serial, &s->st->peer, &s->local, proto, routing_reqid(c), &s->our_spi, err);
}

/* CPIs: 256..61439 may be negotiated (RFC 3173 3.3) */
static uint16_t new_cpi(void)
{
	uint16_t cpi;
	crypto_random(&cpi, sizeof(cpi));
	return (uint16_t)(0x1000 + cpi % (61440 - 0x1000));
}

static const struct alg *pfs_group_for(const struct connection *c, const struct v1_state *isakmp)
{
	if (!(c->cfg.policy & POLICY_PFS))
		return NULL;
	return c->cfg.pfs_group ? c->cfg.pfs_group : isakmp->ike.group;
}

static void ipsec_policy_for(const struct connection *c, const struct v1_state *isakmp,
			     const struct v1_state *s, struct ipsec_policy *pol)
{
	*pol = (struct ipsec_policy){
		.protocol = c->cfg.policy & POLICY_ENCRYPT ? PROTO_IPSEC_ESP : PROTO_IPSEC_AH,
		.esp = c->cfg.esp_proposals,
		.ah = c->cfg.ah_proposals,
		.tunnel = c->cfg.policy & POLICY_TUNNEL,
		.ipcomp = c->cfg.policy & POLICY_COMPRESS,
		.pfs_group = pfs_group_for(c, isakmp),
		.lifetime = (uint32_t)c->cfg.salifetime,
		.our_spi = s->our_spi,
		.our_cpi = s->our_cpi,
		.udp_encap = natt_udp_encap(isakmp),   /* RFC 3947 modes 3/4 once a NAT was found */
	};
}

/* A replacement proposes exactly what the old IPsec SA uses (the man
 * page: its policy is taken from the old SA). */
static bool policy_of_old_sa(const struct keying *k, const struct connection *c, struct ipsec_policy *pol,
			     struct esp_proposals *esp, struct ah_proposals *ah)
{
	struct state *old = k && k->replacing ? state_by_serial(k->replacing) : NULL;
	if (!old || !old->v1 || old->kind != STATE_KIND_IPSEC || old->connection != c || !old->established)
		return false;
	const struct ipsec_choice *ch = &old->v1->ipsec;
	if (ch->protocol != pol->protocol)
		return false;
	esp->n = 1;
	esp->p[0] = (struct esp_proposal){ .cipher = ch->cipher, .key_bits = ch->key_bits,
					   .integ = ch->integ, .dh = ch->pfs_group };
	ah->n = 1;
	ah->p[0] = (struct ah_proposal){ ch->integ };
	pol->esp = esp;
	pol->ah = ah;
	pol->pfs_group = ch->pfs_group;
	pol->ipcomp = ch->ipcomp;
	return true;
}

/* RFC 2407 4.6.3.1: RESPONDER-LIFETIME carries SA Life Type (seconds)
 * and SA Life Duration as data attributes. */
static size_t responder_lifetime_data(uint8_t protocol, uint32_t seconds, uint8_t out[16])
{
	struct sa_transform t = { 0 };
	sa_attr_add(&t, IPSEC_SA_LIFE_TYPE, SA_LIFE_SECONDS);
	sa_attr_add(&t, IPSEC_SA_LIFE_DURATION, seconds);
	return sa_attrs_encode(protocol, &t, out, 16);
}

/* The seconds of a RESPONDER-LIFETIME's attributes, 0 when it has none
 * (a duration counts when the life type before it is seconds). */
static uint32_t responder_lifetime_seconds(struct v1_state *s, const struct payload *p)
{
	struct sa_transform t;
	char why[160];
	if (sa_attrs_parse(p->u.n.protocol, p->data, p->data_len, &t, why, sizeof(why)) < 0) {
		LOGS(s, "RESPONDER-LIFETIME ignored: %s", why);
		return 0;
	}
	uint32_t type = 0, found = 0;
	for (size_t i = 0; i < t.n_attrs; i++) {
		if (t.attrs[i].type == IPSEC_SA_LIFE_TYPE)
			type = t.attrs[i].value;
		else if (t.attrs[i].type == IPSEC_SA_LIFE_DURATION && type == SA_LIFE_SECONDS)
			found = t.attrs[i].value;
	}
	return found;
}

/* Initiator: a shorter lifetime the responder insists on is ours too. */
static void accept_responder_lifetime(struct v1_state *s, const struct v1_msg *m)
{
	for (size_t i = 0; i < m->md.n_payloads; i++) {
		const struct payload *p = &m->md.payloads[i];
		if (p->type != PT_N || p->u.n.type != N_RESPONDER_LIFETIME)
			continue;
		uint32_t seconds = responder_lifetime_seconds(s, p);
		if (seconds && seconds < s->ipsec.lifetime) {
			llog(STATE_LOGGER(s->st), LS_INFO, MSGID_STATE,
			     "responder lifetime %us accepted (we proposed %us)", seconds, s->ipsec.lifetime);
			s->ipsec.lifetime = seconds;
		}
	}
}

static bool compute_keymat(struct v1_state *s, struct v1_state *isakmp)
{
	size_t len = alg_keymat_len(s->ipsec.cipher, s->ipsec.key_bits, s->ipsec.integ);
	if (len == 0)
		return true;
	s->keymat_len = len;
	s->keymat_in = xmalloc(len);
	s->keymat_out = xmalloc(len);
	struct chunk gqm = CHUNK(s->gxy, s->pfs_group ? s->gxy_len : 0);
	struct chunk ni = CHUNK(s->ni, s->ni_len), nr = CHUNK(s->nr, s->nr_len);
	if (ikev1_keymat(isakmp->ike.hash, isakmp->keys, gqm, s->ipsec.protocol, s->our_spi, ni, nr,
			 s->keymat_in, len) < 0 ||
	    ikev1_keymat(isakmp->ike.hash, isakmp->keys, gqm, s->ipsec.protocol, s->ipsec.peer_spi, ni, nr,
			 s->keymat_out, len) < 0) {
		LOGS(s, "KEYMAT derivation failed");
		return false;
	}
	DBG(DBG_CRYPT, s->st->connection, "#%u: KEYMAT derived, %zu bytes each direction", s->st->serial, len);
	return true;
}

static void set_spis_and_algs(struct v1_state *s)
{
	struct state *st = s->st;
	const struct ipsec_choice *ch = &s->ipsec;
	st->n_inbound_spis = st->n_outbound_spis = 0;
	st->inbound_spis[st->n_inbound_spis++] = s->our_spi;
	st->outbound_spis[st->n_outbound_spis++] = ch->peer_spi;
	if (ch->ipcomp) {
		st->inbound_spis[st->n_inbound_spis++] = s->our_cpi;
		st->outbound_spis[st->n_outbound_spis++] = ch->peer_cpi;
	}
	char cipher[ALG_NAME_MAX] = "";
	if (ch->cipher)
		alg_name_at(ch->cipher, ch->key_bits, cipher);
	state_set_text(&st->algorithms, "%s %s%s%s%s %s%s%s%s",
		 ch->protocol == PROTO_IPSEC_AH ? "AH" : "ESP",
		 cipher, ch->cipher && ch->integ ? "-" : "",
		 ch->integ ? ch->integ->name : "", "",
		 ch->encap == ENCAP_TRANSPORT || ch->encap == ENCAP_UDP_TRANSPORT ? "transport" : "tunnel",
		 ch->ipcomp ? " IPComp" : "", ch->pfs_group ? " PFS " : "",
		 ch->pfs_group ? ch->pfs_group->name : "");
	event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);
}

static void ipsec_established(struct v1_state *s)
{
	struct connection *c = s->st->connection;
	set_spis_and_algs(s);
	struct v1_state *isakmp = v1_parent(s);
	if (isakmp)
		state_set_peer_id(s->st, isakmp->st->peer_id);
	/* lifetimes first: whoever sees Established turn true sees ExpiresAt too */
	v1_sa_lifetime(s, s->ipsec.lifetime ? s->ipsec.lifetime : c->cfg.salifetime);
	v1_established(s);
	v1_ipsec_sa_up(s);
	if (s->dh) {
		dh_secret_free(s->dh);
		s->dh = NULL;
	}
}

static void qm_header(struct pbuf *pb, const struct v1_state *s, uint8_t np)
{
	struct isakmp_hdr h = { .np = np, .version = ISAKMP_VERSION, .xchg = XCHG_QUICK, .msgid = s->msgid };
	memcpy(h.icookie, s->icookie, 8);
	memcpy(h.rcookie, s->rcookie, 8);
	pbuf_init(pb);
	pb->conn = s->st->connection;
	emit_hdr(pb, &h);
}

/* Finish a Quick Mode message whose first payload is a HASH at hoff:
 * HASH = prf(SKEYID_a, M-ID | [nonce |] rest). */
static bool seal_and_send(struct v1_state *s, struct v1_state *isakmp, struct pbuf *pb, size_t hoff,
			  const uint8_t *nonce, size_t nonce_len)
{
	size_t len = pbuf_finish(pb);
	size_t hash_len;
	uint8_t *hash = len ? pbuf_payload_body(pb, hoff, &hash_len) : NULL;
	if (!hash || hash_len != isakmp->keys->hash_len)
		return false;
	const uint8_t *after = hash + hash_len;
	struct chunk parts[2];
	size_t n = 0;
	if (nonce)
		parts[n++] = CHUNK(nonce, nonce_len);
	parts[n++] = CHUNK(after, len - (size_t)(after - pb->data));
	if (!v1_hash_skeyid_a(isakmp, s->msgid, false, parts, n, hash))
		return false;
	return v1_send_msg(s, pb, true, s->iv, true);
}

int quick_outI1(struct v1_state *isakmp, struct connection *c, const struct keying *k,
		struct ctl_error *err)
{
	struct v1_state *s = v1_state_new(c, STATE_KIND_IPSEC, true, &isakmp->st->peer, isakmp->st->peer_port,
					  &isakmp->local, isakmp->local_port);
	memcpy(s->icookie, isakmp->icookie, 8);
	memcpy(s->rcookie, isakmp->rcookie, 8);
	s->isakmp_serial = isakmp->st->serial;
	s->keying_attempt = k ? k->attempt : 1;
	s->replacing = k ? k->replacing : 0;
	s->msgid = v1_msgid_new(isakmp, MSGID_LANE_EXCHANGE);
	v1_hash_phase2(s);
	s->iv_len = isakmp->iv_len;
	ikev1_phase2_iv(isakmp->ike.hash, isakmp->ike.cipher, isakmp->iv, s->msgid, s->iv);
	struct ctl_error serr;
	if (new_spi(s, c, &serr) < 0) {
		v1_delete_state(s->st, false);
		return ctl_fail(err, PE_INTERNAL, "\"%s\": %s", c->name, serr.message);
	}
	if (c->cfg.policy & POLICY_COMPRESS)
		s->our_cpi = new_cpi();
	struct ipsec_policy pol;
	ipsec_policy_for(c, isakmp, s, &pol);
	struct esp_proposals old_esp;
	struct ah_proposals old_ah;
	if (policy_of_old_sa(k, c, &pol, &old_esp, &old_ah))
		DBG(DBG_CONTROL, c, "#%u: proposing what #%u uses", s->st->serial, k->replacing);
	if (!pol.ipcomp)
		s->our_cpi = 0;
	s->pfs_group = pol.pfs_group;
	s->qm_proposed = xcalloc(1, sizeof(*s->qm_proposed));
	ipsec_sa_build(&pol, s->qm_proposed);
	s->ni_len = NONCE_LEN_OURS;
	crypto_random(s->ni, s->ni_len);
	if (s->pfs_group) {
		s->g_len = dh_public_len(s->pfs_group);
		if (dh_generate(s->pfs_group, &s->dh, s->g_i) < 0) {
			v1_delete_state(s->st, false);
			return ctl_fail(err, PE_INTERNAL, "\"%s\": PFS Diffie-Hellman generation failed", c->name);
		}
	}
	v1_end_client(c, true, &s->our_client);
	v1_end_client(c, false, &s->peer_client);
	/* a Mode Config client's own client is the address it was lent */
	if (END_THIS(c)->modecfgclient && state_modecfg(isakmp->st)->has_virtual_address)
		s->our_client = state_modecfg(isakmp->st)->virtual_address;
	/* without rightsubnet it reaches the gateway's first split include */
	if (END_THIS(c)->modecfgclient && !END_THAT(c)->has_client && state_modecfg(isakmp->st)->n_split_include)
		s->peer_client = state_modecfg(isakmp->st)->split_include[0];

	struct pbuf pb;
	qm_header(&pb, s, PT_HASH);
	uint8_t zeros[CRYPTO_MAX_HASH] = { 0 };
	size_t hoff = emit_hash(&pb, zeros, isakmp->keys->hash_len);
	emit_sa(&pb, s->qm_proposed);
	emit_nonce(&pb, s->ni, s->ni_len);
	if (s->pfs_group)
		emit_ke(&pb, s->g_i, s->g_len);
	v1_emit_client_id(&pb, &s->our_client);
	v1_emit_client_id(&pb, &s->peer_client);
	natt_emit_natoa(s, &pb, natt_udp_encap(isakmp) && !(c->cfg.policy & POLICY_TUNNEL));
	bool ok = seal_and_send(s, isakmp, &pb, hoff, NULL, 0);
	pbuf_free(&pb);
	if (!ok) {
		v1_delete_state(s->st, false);
		return ctl_fail(err, PE_INTERNAL, "\"%s\": cannot build or send QI1", c->name);
	}
	state_set_name(s->st, STATE_QUICK_I1);
	v1_progress(s, "initiate");
	v1_arm_retransmit(s);
	return 0;
}

static bool read_ids(struct v1_state *s, struct v1_msg *m, ip_subnet *ci, ip_subnet *cr)
{
	size_t n = md_count(&m->md, PT_ID);
	if (n == 0)
		return false;
	char why[160];
	if (n != 2) {
		LOGS(s, "Quick Mode needs 0 or 2 ID payloads, got %zu", n);
		m->notify = N_INVALID_ID_INFORMATION;
		return false;
	}
	const struct payload *ids[2];
	size_t k = 0;
	for (size_t i = 0; i < m->md.n_payloads && k < 2; i++)
		if (m->md.payloads[i].type == PT_ID)
			ids[k++] = &m->md.payloads[i];
	/* no protoport= exists: an ID limited to one protocol or port would
	 * get a whole-subnet SA and an echo different from what was sent */
	for (size_t i = 0; i < 2; i++) {
		if (ids[i]->u.id.protocol || ids[i]->u.id.port) {
			LOGS(s, "Quick Mode ID refused: protocol %u port %u (only whole clients are supported)",
			     ids[i]->u.id.protocol, ids[i]->u.id.port);
			m->notify = N_INVALID_ID_INFORMATION;
			return false;
		}
	}
	if (!v1_subnet_from_id(ids[0], ci, why, sizeof(why)) || !v1_subnet_from_id(ids[1], cr, why, sizeof(why))) {
		LOGS(s, "Quick Mode ID refused: %s", why);
		m->notify = N_INVALID_ID_INFORMATION;
		return false;
	}
	return true;
}

static bool check_qm_nonce(struct v1_state *s, struct v1_msg *m, uint8_t *dst, size_t *len)
{
	const struct payload *n = md_first(&m->md, PT_NONCE);
	if (n->data_len < NONCE_LEN_MIN || n->data_len > NONCE_LEN_MAX) {
		LOGS(s, "nonce of %zu bytes (must be %d..%d)", n->data_len, NONCE_LEN_MIN, NONCE_LEN_MAX);
		m->notify = N_PAYLOAD_MALFORMED;
		return false;
	}
	memcpy(dst, n->data, n->data_len);
	*len = n->data_len;
	return true;
}

/* PFS: KE present exactly when the chosen SA has a group. */
static bool qm_ke(struct v1_state *s, struct v1_msg *m, uint8_t *peer_g)
{
	const struct payload *ke = md_first(&m->md, PT_KE);
	if (!s->pfs_group) {
		if (ke) {
			LOGS(s, "KE payload without a group in the chosen SA");
			m->notify = N_PAYLOAD_MALFORMED;
			return false;
		}
		return true;
	}
	if (!ke) {
		LOGS(s, "PFS with %s chosen but no KE payload", s->pfs_group->name);
		m->notify = N_PAYLOAD_MALFORMED;
		return false;
	}
	s->g_len = dh_public_len(s->pfs_group);
	if (ke->data_len != s->g_len) {
		LOGS(s, "KE payload of %zu bytes, %s needs %zu", ke->data_len, s->pfs_group->name, s->g_len);
		m->notify = N_INVALID_KEY_INFORMATION;
		return false;
	}
	memcpy(peer_g, ke->data, s->g_len);
	return true;
}

static bool qm_dh(struct v1_state *s, struct v1_msg *m, const uint8_t *peer_g)
{
	char why[160];
	if (!s->pfs_group)
		return true;
	if (dh_compute(s->dh, peer_g, s->g_len, s->gxy, &s->gxy_len, why, sizeof(why)) < 0) {
		LOGS(s, "peer's PFS Diffie-Hellman value refused: %s", why);
		m->notify = N_INVALID_KEY_INFORMATION;
		return false;
	}
	return true;
}

/* QR1 */
enum stf quick_inI1_outR1(struct v1_state *s, struct v1_msg *m)
{
	struct v1_state *isakmp = v1_parent(s);
	if (!isakmp)
		return STF_FATAL;
	natt_follow(s, m);
	if (!natt_read_natoa(s, m))
		return STF_FATAL;
	const struct payload *sa = md_first(&m->md, PT_SA);
	if (!sa->sa) {
		m->notify = N_PAYLOAD_MALFORMED;
		return STF_FATAL;
	}
	if (!check_qm_nonce(s, m, s->ni, &s->ni_len))
		return STF_FATAL;
	ip_subnet ci, cr;
	bool have_ids = read_ids(s, m, &ci, &cr);
	if (!have_ids && m->notify)
		return STF_FATAL;
	if (!have_ids) {
		subnet_from_address(&s->st->peer, &ci);
		subnet_from_address(&s->local, &cr);
	}
	struct connection *c = s->st->connection;
	char a[IP_STR_MAX], b[IP_STR_MAX];
	/* a gateway's XAUTH and Mode Config come first; then the client's
	 * subnet is exactly the address lent to it */
	const struct end *me = END_THIS(c);
	if ((me->xauthserver || me->modecfgserver) && !isakmp->tx_done) {
		LOGS(s, "Quick Mode refused: XAUTH/Mode Config of ISAKMP State #%u not finished", isakmp->st->serial);
		m->notify = N_INVALID_ID_INFORMATION;
		return STF_FATAL;
	}
	struct connection *d;
	ip_subnet narrowed = cr;   /* our side of the SA: cr unless narrowed */
	if (isakmp->pool) {
		d = c;
		if (!subnet_equal(&ci, &state_modecfg(isakmp->st)->virtual_address)) {
			LOGS(s, "Quick Mode refused: the client proposes %s but was lent %s", subnet_str(&ci, a),
			     subnet_str(&state_modecfg(isakmp->st)->virtual_address, b));
			m->notify = N_INVALID_ID_INFORMATION;
			return STF_FATAL;
		}
		/* and our side is exactly what this conn protects: the lease
		 * pins the connection, so nothing else may be asked of it (nor
		 * a subnet of the other family than the lent address) */
		ip_subnet ours;
		v1_end_client(c, true, &ours);
		if (cr.prefix == 0 && cr.addr.family == ours.addr.family && !subnet_equal(&cr, &ours)) {
			/* a Unity client (strongSwan with its unity plugin, Cisco)
			 * asks for everything and leaves the narrowing to us; IKEv1
			 * cannot narrow in the reply, so the IDs are echoed but the
			 * SA's selectors carry only what this conn protects */
			llog(STATE_LOGGER(s->st), LS_INFO, MSGID_STATE,
			     "Quick Mode: the client asks for %s; its SA carries only %s", subnet_str(&cr, a),
			     subnet_str(&ours, b));
			narrowed = ours;
		} else if (!subnet_equal(&cr, &ours)) {
			LOGS(s, "Quick Mode refused: the client asks for %s but \"%s\" protects %s", subnet_str(&cr, a),
			     c->name, subnet_str(&ours, b));
			m->notify = N_INVALID_ID_INFORMATION;
			return STF_FATAL;
		}
		llog(STATE_LOGGER(s->st), LS_INFO, MSGID_STATE, "Quick Mode: client %s is the address lent to \"%s\"",
		     subnet_str(&ci, a), isakmp->lease_identity ? isakmp->lease_identity : "");
	} else {
		d = v1_conn_for_qm(c, &s->st->peer, isakmp->peer_id, &cr, &ci);
	}
	if (!d) {
		LOGS(s, "cannot respond to IPsec SA request: no connection for %s===%s", subnet_str(&cr, a),
		     subnet_str(&ci, b));
		m->notify = N_INVALID_ID_INFORMATION;
		return STF_FATAL;
	}
	if (d != c) {
		llog(LOGGER(d, s->st), LS_INFO, MSGID_STATE, "Quick Mode uses connection \"%s\" for %s===%s", d->name,
		     subnet_str(&cr, a), subnet_str(&ci, b));
		v1_switch_connection(s->st, d);
		c = d;
	}
	s->our_client = narrowed;
	s->peer_client = ci;
	struct ctl_error serr;
	if (new_spi(s, c, &serr) < 0) {
		LOGS(s, "%s", serr.message);
		return STF_FATAL;
	}
	if (c->cfg.policy & POLICY_COMPRESS)
		s->our_cpi = new_cpi();
	struct ipsec_policy pol;
	ipsec_policy_for(c, isakmp, s, &pol);
	/* a peer that offers PFS gets it with the group it offered, as libreswan and
	 * strongSwan do; the proposal code checks the group is one we know */
	struct sa_payload *reply = xcalloc(1, sizeof(*reply));
	char why[200];
	if (!ipsec_sa_select(sa->sa, &pol, &s->ipsec, reply, why, sizeof(why))) {
		LOGS(s, "no acceptable IPsec proposal: %s", why);
		m->notify = N_NO_PROPOSAL_CHOSEN;
		free(reply);
		return STF_FATAL;
	}
	s->pfs_group = s->ipsec.pfs_group;
	uint8_t peer_g[CRYPTO_MAX_DH];
	if (!qm_ke(s, m, peer_g)) {
		free(reply);
		return STF_FATAL;
	}
	if (s->pfs_group && dh_generate(s->pfs_group, &s->dh, s->g_r) < 0) {
		free(reply);
		return STF_FATAL;
	}
	if (!qm_dh(s, m, peer_g)) {
		free(reply);
		return STF_FATAL;
	}
	s->nr_len = NONCE_LEN_OURS;
	crypto_random(s->nr, s->nr_len);
	if (!compute_keymat(s, isakmp)) {
		free(reply);
		return STF_FATAL;
	}
	/* inbound SA before our reply: the initiator may send at once */
	if (!v1_install_sa(s, true, true)) {
		free(reply);
		return STF_FATAL;
	}
	struct pbuf pb;
	qm_header(&pb, s, PT_HASH);
	uint8_t zeros[CRYPTO_MAX_HASH] = { 0 };
	size_t hoff = emit_hash(&pb, zeros, isakmp->keys->hash_len);
	emit_sa(&pb, reply);
	free(reply);
	emit_nonce(&pb, s->nr, s->nr_len);
	if (s->pfs_group)
		emit_ke(&pb, s->g_r, s->g_len);
	if (have_ids) {
		v1_emit_client_id(&pb, &ci);
		v1_emit_client_id(&pb, &cr);
	}
	natt_emit_natoa(s, &pb, s->ipsec.encap == ENCAP_UDP_TRANSPORT);
	if (s->ipsec.lifetime_capped) {
		uint8_t spi[4], life[16];
		put_be32(spi, s->our_spi);
		size_t life_len = responder_lifetime_data(s->ipsec.protocol, s->ipsec.lifetime, life);
		emit_notify(&pb, ISAKMP_DOI_IPSEC, s->ipsec.protocol, N_RESPONDER_LIFETIME, spi, 4, life, life_len);
		llog(LOGGER(c, s->st), LS_INFO, MSGID_STATE, "peer proposed a longer lifetime: capped at %us (RESPONDER-LIFETIME sent)",
		     s->ipsec.lifetime);
	}
	bool ok = seal_and_send(s, isakmp, &pb, hoff, s->ni, s->ni_len);
	pbuf_free(&pb);
	return ok ? STF_OK : STF_FATAL;
}

/* QI2 */
enum stf quick_inR1_outI2(struct v1_state *s, struct v1_msg *m)
{
	struct connection *c = s->st->connection;
	struct v1_state *isakmp = v1_parent(s);
	if (!isakmp) {
		v1_fail(c, s->st, RC_LOG_SERIOUS, "the ISAKMP SA of this Quick Mode is gone");
		return STF_FATAL;
	}
	natt_follow(s, m);
	if (!natt_read_natoa(s, m)) {
		v1_fail(c, s->st, RC_LOG_SERIOUS, "%s: Quick Mode reply refused", state_name_str(s->st->name));
		return STF_FATAL;
	}
	char why[200];
	const struct payload *sa = md_first(&m->md, PT_SA);
	if (!sa->sa || !s->qm_proposed || !ipsec_sa_check_reply(s->qm_proposed, sa->sa, &s->ipsec, why, sizeof(why))) {
		v1_fail(c, s->st, RC_LOG_SERIOUS, "%s: the responder's IPsec SA is not one we proposed: %s",
			state_name_str(s->st->name), sa->sa ? why : "undecodable");
		m->notify = N_NO_PROPOSAL_CHOSEN;
		return STF_FATAL;
	}
	if (!check_qm_nonce(s, m, s->nr, &s->nr_len))
		goto bad;
	accept_responder_lifetime(s, m);
	uint8_t peer_g[CRYPTO_MAX_DH];
	if (!qm_ke(s, m, peer_g) || !qm_dh(s, m, peer_g))
		goto bad;
	ip_subnet ci, cr;
	if (read_ids(s, m, &ci, &cr)) {
		if (!subnet_equal(&ci, &s->our_client) || !subnet_equal(&cr, &s->peer_client)) {
			LOGS(s, "the responder's IDs are not the ones we sent");
			m->notify = N_INVALID_ID_INFORMATION;
			goto bad;
		}
	} else {
		/* we always send IDci/IDcr; a reply without them means the
		 * responder's host addresses (RFC 2409 5.5), not our clients */
		if (!m->notify) {
			LOGS(s, "the responder did not return the client IDs we sent");
			m->notify = N_INVALID_ID_INFORMATION;
		}
		goto bad;
	}
	if (!compute_keymat(s, isakmp))
		goto bad;
	/* both directions before QI2; a failure is reported by v1_install_sa */
	if (!v1_install_sa(s, true, false) || !v1_install_sa(s, false, false))
		return STF_FATAL;
	struct pbuf pb;
	qm_header(&pb, s, PT_HASH);
	uint8_t h3[CRYPTO_MAX_HASH];
	struct chunk n3[2] = { CHUNK(s->ni, s->ni_len), CHUNK(s->nr, s->nr_len) };
	v1_hash_skeyid_a(isakmp, s->msgid, true, n3, 2, h3);
	emit_hash(&pb, h3, isakmp->keys->hash_len);
	bool ok = v1_send_msg(s, &pb, true, s->iv, true);
	pbuf_free(&pb);
	if (!ok)
		goto bad;
	ipsec_established(s);
	return STF_OK;
bad:
	v1_fail(c, s->st, m->notify ? RC_NOTIFICATION + m->notify : RC_LOG_SERIOUS,
		"%s: Quick Mode reply refused", state_name_str(s->st->name));
	return STF_FATAL;
}

/* R2 */
enum stf quick_inI2(struct v1_state *s, struct v1_msg *m)
{
	natt_follow(s, m);
	/* outbound only now: the initiator has proven it has the keys */
	if (!v1_install_sa(s, false, true))
		return STF_FATAL;
	ipsec_established(s);
	return STF_OK;
}
