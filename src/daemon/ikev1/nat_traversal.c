/* NAT traversal (RFC 3947 for IKEv1, RFC 3948 for ESP in UDP): see
 * nat_traversal.h for where the engine calls in. */
#include "daemon/ikev1/nat_traversal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/demux.h"
#include "daemon/ikev1/ike_sa.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
#include "daemon/options.h"
#include "daemon/ikev1/vendor.h"
#include "klips/kernel.h"
#include "policy/sa.h"

static unsigned keepalive_seconds = NATT_KEEPALIVE_DEFAULT;

void natt_set_port(uint16_t port) { demux_set_natt_port(port); }
uint16_t natt_port(void) { return demux_natt_port(); }
void natt_set_keepalive(unsigned seconds) { keepalive_seconds = seconds; }
unsigned natt_keepalive(void) { return keepalive_seconds; }

/* --- NAT-D --- */

int natt_hash(const struct alg *hash, const uint8_t icookie[8], const uint8_t rcookie[8],
	      const ip_address *addr, uint16_t port, uint8_t *out, size_t *out_len)
{
	if (!hash || !addr)
		return -1;
	/* the address and port as they are on the wire: network byte order */
	const void *ip = addr->family == AF_INET6 ? (const void *)&addr->u.v6 : (const void *)&addr->u.v4;
	size_t ip_len = addr->family == AF_INET6 ? 16 : 4;
	uint8_t p[2] = { (uint8_t)(port >> 8), (uint8_t)port };
	struct chunk parts[4] = { CHUNK(icookie, 8), CHUNK(rcookie, 8), CHUNK(ip, ip_len), CHUNK(p, 2) };
	if (crypto_hash(hash, parts, 4, out) < 0)
		return -1;
	*out_len = crypto_hash_len(hash);
	return 0;
}

bool natt_wanted(const struct v1_state *s)
{
	const struct connection *c = s->st->connection;
	return (s->peer_caps & VID_NATT_RFC) && !(c && c->cfg.encapsulation == ENCAPS_NO);
}

static bool forced(const struct v1_state *s)
{
	const struct connection *c = s->st->connection;
	return c && c->cfg.encapsulation == ENCAPS_YES;
}

void natt_emit_natd(struct v1_state *s, struct pbuf *pb)
{
	if (!natt_wanted(s))
		return;
	uint8_t h[CRYPTO_MAX_HASH];
	size_t n;
	/* the destination of this message first: the peer as we address it */
	if (natt_hash(s->ike.hash, s->icookie, s->rcookie, &s->st->peer, s->st->peer_port, h, &n) < 0)
		return;
	emit_natd(pb, h, n);
	/* then ourselves; encapsulation=yes sends a hash nobody can match, so
	 * the peer believes we are behind a NAT (as strongSwan's forceencaps) */
	if (forced(s))
		crypto_random(h, n);
	else if (natt_hash(s->ike.hash, s->icookie, s->rcookie, &s->local, s->local_port, h, &n) < 0)
		return;
	emit_natd(pb, h, n);
}

void natt_check_natd(struct v1_state *s, const struct v1_msg *m)
{
	struct connection *c = s->st->connection;
	if (!natt_wanted(s))
		return;
	size_t count = md_count(&m->md, PT_NATD);
	if (count == 0) {
		llog(LOGGER(c, s->st), LS_INFO, MSGID_GENERIC,
		     "NAT-T: the peer announced RFC 3947 but sent no NAT-D payloads: no NAT traversal");
		return;
	}
	uint8_t ours[CRYPTO_MAX_HASH], theirs[CRYPTO_MAX_HASH];
	size_t ours_len, theirs_len;
	if (natt_hash(s->ike.hash, s->icookie, s->rcookie, &s->local, s->local_port, ours, &ours_len) < 0 ||
	    natt_hash(s->ike.hash, s->icookie, s->rcookie, &m->from, m->from_port, theirs, &theirs_len) < 0)
		return;
	s->nat |= NATT_NEGOTIATED;
	/* the first NAT-D is us as the peer addressed us; the others are the
	 * addresses the peer may send from */
	bool first = true, us_seen = false, peer_seen = false;
	for (size_t i = 0; i < m->md.n_payloads; i++) {
		const struct payload *p = &m->md.payloads[i];
		if (p->type != PT_NATD)
			continue;
		if (first)
			us_seen = p->data_len == ours_len && memcmp(p->data, ours, ours_len) == 0;
		else if (p->data_len == theirs_len && memcmp(p->data, theirs, theirs_len) == 0)
			peer_seen = true;
		first = false;
	}
	if (!us_seen)
		s->nat |= NATT_US_BEHIND;
	if (!peer_seen)
		s->nat |= NATT_PEER_BEHIND;
	if (forced(s))
		s->nat |= NATT_US_BEHIND | NATT_FORCED;
	char ab[IP_STR_MAX];
	if (us_seen && peer_seen)   /* the usual case: said at debug level only */
		DBG(DBG_CONTROL, c, "#%u: NAT-T: NAT-D from %s:%u: no NAT", s->st->serial, ip_str(&m->from, ab),
		    m->from_port);
	else
		llog(LOGGER(c, s->st), LS_INFO, MSGID_GENERIC, "NAT-T: NAT-D from %s:%u: %s%s%s",
		     ip_str(&m->from, ab), m->from_port, !us_seen ? "we are behind NAT" : "",
		     !us_seen && !peer_seen ? ", " : "", !peer_seen ? "peer behind NAT" : "");
	if (s->nat & NATT_FORCED)
		llog(LOGGER(c, s->st), LS_INFO, MSGID_GENERIC,
		     "NAT-T: encapsulation=yes: acting as if we were behind a NAT");
}

/* --- ports --- */

void natt_float(struct v1_state *s)
{
	uint16_t natt_udp_port = natt_port();
	if (!(s->nat & NATT_DETECTED) || !natt_udp_port || s->local_port == natt_udp_port)
		return;
	s->local_port = natt_udp_port;
	s->st->peer_port = natt_udp_port;
	char ab[IP_STR_MAX];
	llog(STATE_LOGGER(s->st), LS_INFO, MSGID_GENERIC,
	     "NAT-T: floating to port %u (peer %s:%u)", natt_udp_port, ip_str(&s->st->peer, ab),
	     s->st->peer_port);
}

static void follow_one(struct v1_state *s, const struct v1_msg *m)
{
	if (s->local_port == m->ifp->port && s->st->peer_port == m->from_port)
		return;
	char ab[IP_STR_MAX];
	if (s->st->kind == STATE_KIND_ISAKMP)
		llog(STATE_LOGGER(s->st), LS_INFO, MSGID_GENERIC,
		     "NAT-T: peer now at %s:%u, answering from port %u", ip_str(&m->from, ab),
		     m->from_port, m->ifp->port);
	s->local_port = m->ifp->port;
	s->st->peer_port = m->from_port;
}

void natt_follow(struct v1_state *s, const struct v1_msg *m)
{
	/* only towards the NAT-T port: a message on 500 after the float is a
	 * stray retransmission, not a reason to go back */
	if (!m->ifp || !m->ifp->natt)
		return;
	struct v1_state *isakmp = s->st->kind == STATE_KIND_ISAKMP ? s : v1_parent(s);
	if (isakmp && isakmp != s)
		follow_one(isakmp, m);
	follow_one(s, m);
}

bool natt_udp_encap(const struct v1_state *isakmp)
{
	return isakmp && (isakmp->nat & NATT_DETECTED);
}

/* --- datagrams --- */

bool natt_needs_marker(uint16_t local_port, uint16_t peer_port)
{
	(void)peer_port;
	/* what goes out of the NAT-T socket is read by the peer's NAT-T
	 * socket (a NAT maps our 4500 to some other port, never the reverse) */
	uint16_t natt = natt_port();
	return natt && local_port == natt;
}

/* --- Quick Mode --- */

unsigned natt_encap_mode(bool tunnel, bool udp)
{
	if (udp)
		return tunnel ? ENCAP_UDP_TUNNEL : ENCAP_UDP_TRANSPORT;
	return tunnel ? ENCAP_TUNNEL : ENCAP_TRANSPORT;
}

static void emit_one_natoa(struct pbuf *pb, const ip_address *a)
{
	if (a->family == AF_INET6)
		emit_natoa(pb, ID_TYPE_IPV6_ADDR, (const uint8_t *)&a->u.v6, 16);
	else
		emit_natoa(pb, ID_TYPE_IPV4_ADDR, (const uint8_t *)&a->u.v4, 4);
}

void natt_emit_natoa(const struct v1_state *s, struct pbuf *pb, bool want)
{
	if (!want)
		return;
	/* NAT-OAi, then NAT-OAr: the initiator's address first */
	const ip_address *ours = &s->local, *peers = &s->st->peer;
	emit_one_natoa(pb, s->st->initiator ? ours : peers);
	emit_one_natoa(pb, s->st->initiator ? peers : ours);
}

bool natt_read_natoa(struct v1_state *s, struct v1_msg *m)
{
	size_t n = md_count(&m->md, PT_NATOA);
	if (n == 0)
		return true;
	if (n != 2) {
		llog(STATE_LOGGER(s->st), LS_SERIOUS, MSGID_GENERIC,
		     "Quick Mode with %zu NAT-OA payloads (0 or 2 expected); message dropped", n);
		m->notify = N_PAYLOAD_MALFORMED;
		return false;
	}
	/* the peer's own original address: NAT-OAi when it initiated */
	size_t want = s->st->initiator ? 1 : 0, k = 0;
	for (size_t i = 0; i < m->md.n_payloads; i++) {
		const struct payload *p = &m->md.payloads[i];
		if (p->type != PT_NATOA)
			continue;
		bool v6 = p->u.natoa.id_type == ID_TYPE_IPV6_ADDR;
		if ((!v6 && p->u.natoa.id_type != ID_TYPE_IPV4_ADDR) || p->data_len != (v6 ? 16u : 4u)) {
			llog(STATE_LOGGER(s->st), LS_SERIOUS, MSGID_GENERIC,
			     "NAT-OA payload of ID type %u with %zu bytes (an IPv4 or IPv6 address expected); "
			     "message dropped", p->u.natoa.id_type, p->data_len);
			m->notify = N_PAYLOAD_MALFORMED;
			return false;
		}
		if (k++ != want)
			continue;
		ip_address oa = { .family = v6 ? AF_INET6 : AF_INET };
		memcpy(v6 ? (void *)&oa.u.v6 : (void *)&oa.u.v4, p->data, p->data_len);
		s->peer_natoa = oa;
		char ab[IP_STR_MAX];
		DBG(DBG_CONTROL, s->st->connection, "#%u: peer's original address (NAT-OA) %s", s->st->serial,
		    ip_str(&oa, ab));
	}
	return true;
}

/* --- keepalives (RFC 3948 2.3): one 0xFF byte, no marker --- */

static void send_keepalive(struct v1_state *s)
{
	static const uint8_t ka = 0xff;
	char ab[IP_STR_MAX];
	if (v1_send_hook) {
		v1_send_hook(&s->local, s->local_port, &s->st->peer, s->st->peer_port, &ka, 1);
		return;
	}
	struct iface *ifp = demux_iface_for(&s->local, s->local_port);
	if (!ifp) {
		DBG(DBG_CONTROL, s->st->connection, "#%u: no socket on port %u for NAT-T keepalives",
		    s->st->serial, s->local_port);
		return;
	}
	struct sockaddr_storage ss;
	socklen_t sl = ip_to_sockaddr(&s->st->peer, s->st->peer_port, &ss);
	DBG(DBG_RAW, s->st->connection, "sending NAT-T keepalive to %s:%u", ip_str(&s->st->peer, ab),
	    s->st->peer_port);
	if (sendto(ifp->fd, &ka, 1, 0, (struct sockaddr *)&ss, sl) < 0)
		DBG(DBG_CONTROL, s->st->connection, "NAT-T keepalive to %s:%u: %s", ip_str(&s->st->peer, ab),
		    s->st->peer_port, strerror(errno));
}

static int on_keepalive(sd_event_source *src, uint64_t usec, void *ud)
{
	struct v1_state *s = ud;
	send_keepalive(s);
	if (sd_event_source_set_time(src, usec + (uint64_t)keepalive_seconds * 1000000ULL) >= 0)
		sd_event_source_set_enabled(src, SD_EVENT_ON);
	return 0;
}

static void start_keepalives(struct v1_state *s)
{
	uint64_t now;
	if (s->keepalive_timer || !keepalive_seconds || !ikev1_loop ||
	    sd_event_now(ikev1_loop, CLOCK_MONOTONIC, &now) < 0)
		return;
	if (sd_event_add_time(ikev1_loop, &s->keepalive_timer, CLOCK_MONOTONIC,
			      now + (uint64_t)keepalive_seconds * 1000000ULL, 0, on_keepalive, s) < 0) {
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "#%u: cannot start NAT-T keepalives", s->st->serial);
		s->keepalive_timer = NULL;
		return;
	}
	sd_event_source_set_description(s->keepalive_timer, "natt-keepalive");
	DBG(DBG_CONTROL, s->st->connection, "#%u: NAT-T keepalives every %u s", s->st->serial,
	    keepalive_seconds);
}

/* --- established, status, kernel, cleanup --- */

const char *natt_status(const struct v1_state *s, char *out, size_t len)
{
	out[0] = '\0';
	if (!(s->nat & NATT_DETECTED))
		return out;
	const char *who = (s->nat & NATT_US_BEHIND) && (s->nat & NATT_PEER_BEHIND) ? "both behind NAT"
			: s->nat & NATT_US_BEHIND ? "we are behind NAT" : "peer behind NAT";
	snprintf(out, len, "NAT-T: %s%s, port %u", who, s->nat & NATT_FORCED ? " (forced)" : "",
		 s->local_port);
	return out;
}

void natt_established(struct v1_state *s)
{
	uint16_t natt_udp_port = natt_port();
	char status[64];
	state_set_text(&s->st->nat_status, "%s", natt_status(s, status, sizeof(status)));
	/* the side behind the NAT keeps its mapping open */
	if ((s->nat & NATT_US_BEHIND) && s->local_port == natt_udp_port)
		start_keepalives(s);
}

void natt_kernel_sa(const struct v1_state *s, bool inbound, struct kernel_ipsec_sa *sa)
{
	if (s->ipsec.encap != ENCAP_UDP_TUNNEL && s->ipsec.encap != ENCAP_UDP_TRANSPORT)
		return;
	const struct v1_state *isakmp = v1_parent(s);
	const struct v1_state *p = isakmp ? isakmp : s;
	sa->udp_encap = true;
	sa->encap_sport = inbound ? p->st->peer_port : p->local_port;
	sa->encap_dport = inbound ? p->local_port : p->st->peer_port;
	sa->encap_oa = s->peer_natoa;
}

void natt_state_free(struct v1_state *s)
{
	s->keepalive_timer = sd_event_source_disable_unref(s->keepalive_timer);
}
