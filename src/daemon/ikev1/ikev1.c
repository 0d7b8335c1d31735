/* The IKEv1 state table and dispatcher.
 *
 * One row per state that waits for a message: the exchange it belongs
 * to, whether the message must be encrypted, which payloads it must and
 * may carry, the handler, the state it leads to and what that next state
 * waits for. The dispatcher does everything the rows have in common, so
 * the handlers only do protocol work:
 *
 *   header check -> find the state (cookies; cookies + message id) ->
 *   duplicate? (re-send our reply where the exchange calls for it) ->
 *   decrypt (the IV is only committed when the message is accepted) ->
 *   parse -> payloads against the row -> handler -> new state, progress
 *   line, retransmission or responder timer.
 *
 * Aggressive Mode is refused (the man page implements Main Mode only):
 * the first Aggressive Mode message is answered with an unencrypted
 * N(INVALID_EXCHANGE_TYPE) — the exchange type is valid but not one we
 * take part in — and logged. */
#include "daemon/ikev1/ikev1.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/demux.h"
#include "daemon/ikev1/dpd.h"
#include "daemon/engine.h"
#include "daemon/events.h"
#include "daemon/log.h"
#include "daemon/ikev1/nat_traversal.h"
#include "daemon/progress.h"
#include "klips/kernel.h"
#include "klips/routing.h"

struct sd_event *ikev1_loop;
static bool shutting_down;
/* Responder ISAKMP states not yet established (HALF_OPEN_MAX): counted up
 * where Main Mode creates one, down when it is established or freed
 * before that. */
static unsigned half_open;

unsigned ikev1_half_open(void)
{
	return half_open;
}

static bool is_half_open(const struct state *st)
{
	return st->kind == STATE_KIND_ISAKMP && !st->initiator && !st->established;
}

enum row_flags {
	F_ENCRYPTED = 1 << 0,    /* the message must arrive encrypted */
	F_REQUEST   = 1 << 1,    /* what we send from here wants an answer: retransmit it */
};

struct v1_row {
	enum state_name from, to;
	uint8_t xchg;
	unsigned flags;
	uint32_t required, optional;
	v1_handler handler;
	const char *what;        /* progress text of the state reached */
};

#define P1_EXTRA (P(PT_VID) | P(PT_N) | P(PT_CR))

static const struct v1_row rows[] = {
	{ STATE_MAIN_R0, STATE_MAIN_R1, XCHG_IDPROT, 0,
	  P(PT_SA), P1_EXTRA, main_inI1_outR1, "sent MR1, expecting MI2" },
	{ STATE_MAIN_I1, STATE_MAIN_I2, XCHG_IDPROT, F_REQUEST,
	  P(PT_SA), P1_EXTRA, main_inR1_outI2, "sent MI2, expecting MR2" },
	{ STATE_MAIN_R1, STATE_MAIN_R2, XCHG_IDPROT, 0,
	  P(PT_KE) | P(PT_NONCE), P1_EXTRA | P(PT_NATD), main_inI2_outR2, "sent MR2, expecting MI3" },
	{ STATE_MAIN_I2, STATE_MAIN_I3, XCHG_IDPROT, F_REQUEST,
	  P(PT_KE) | P(PT_NONCE), P1_EXTRA | P(PT_NATD), main_inR2_outI3, "sent MI3, expecting MR3" },
	{ STATE_MAIN_R2, STATE_MAIN_R3, XCHG_IDPROT, F_ENCRYPTED,
	  P(PT_ID), P1_EXTRA | P(PT_HASH) | P(PT_SIG) | P(PT_CERT), main_inI3_outR3,
	  "sent MR3, ISAKMP SA established" },
	{ STATE_MAIN_I3, STATE_MAIN_I4, XCHG_IDPROT, F_ENCRYPTED,
	  P(PT_ID), P1_EXTRA | P(PT_HASH) | P(PT_SIG) | P(PT_CERT), main_inR3, "ISAKMP SA established" },
	/* QR1 is re-sent until QI2 comes (as libreswan does): QI2 is the
	 * exchange's last message and nobody would re-send it otherwise, so
	 * a lost one would leave us half way while the initiator uses the SA */
	{ STATE_QUICK_R0, STATE_QUICK_R1, XCHG_QUICK, F_ENCRYPTED | F_REQUEST,
	  P(PT_HASH) | P(PT_SA) | P(PT_NONCE), P(PT_KE) | P(PT_ID) | P(PT_N) | P(PT_NATOA),
	  quick_inI1_outR1, "sent QR1, inbound IPsec SA installed, expecting QI2" },
	{ STATE_QUICK_I1, STATE_QUICK_I2, XCHG_QUICK, F_ENCRYPTED,
	  P(PT_HASH) | P(PT_SA) | P(PT_NONCE), P(PT_KE) | P(PT_ID) | P(PT_N) | P(PT_NATOA),
	  quick_inR1_outI2, "sent QI2, IPsec SA established" },
	{ STATE_QUICK_R1, STATE_QUICK_R2, XCHG_QUICK, F_ENCRYPTED,
	  P(PT_HASH), P(PT_N), quick_inI2, "IPsec SA established" },
};

/* States whose last message answers the peer's last one: a duplicate of
 * that one means ours was lost, so it is sent again. Everywhere else a
 * duplicate is dropped (re-sending there could start a ping-pong). */
static bool resend_on_duplicate(enum state_name n)
{
	switch (n) {
	case STATE_MAIN_R1: case STATE_MAIN_R2: case STATE_MAIN_R3:
	case STATE_QUICK_R1: case STATE_QUICK_I2:
		return true;
	default:
		return false;
	}
}

static const struct v1_row *row_for(enum state_name from)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		if (rows[i].from == from)
			return &rows[i];
	return NULL;
}

uint64_t ikev1_retransmit_delay(unsigned retransmits_done)
{
	/* 2 s, 4 s, then 8 s of waiting for the answer to the third send */
	return 2000000ULL << (retransmits_done > 2 ? 2 : retransmits_done);
}

/* --- logging helpers --- */

void v1_progress(struct v1_state *s, const char *what)
{
	plog_full(6, MSGID_STATE, (enum whack_rc)(RC_NEW_STATE + s->st->name), s->st->connection, s->st,
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
	plog_full(4, MSGID_NEGOTIATION_FAILED, (enum whack_rc)rc, c, st, "%s", err.message);
	if (c)
		progress_sinks_done(c, &err);
}

/* --- sending --- */

v1_send_hook_fn v1_send_hook;

bool v1_send_raw(const ip_address *local, uint16_t local_port, const ip_address *peer,
		 uint16_t peer_port, const uint8_t *buf, size_t len)
{
	/* on the NAT-T port IKE follows the non-ESP marker (RFC 3948 2.2) */
	uint8_t *framed = NULL;
	if (natt_needs_marker(local_port, peer_port))
		buf = framed = natt_frame(buf, &len);
	bool ok = false;
	char pb[IP_STR_MAX], lb[IP_STR_MAX];
	if (v1_send_hook) {
		ok = v1_send_hook(local, local_port, peer, peer_port, buf, len);
		goto out;
	}
	/* only from the state's own address and port: any other socket would
	 * give the peer a source it does not know (and a NAT another mapping) */
	struct iface *use = demux_iface_for(local, local_port);
	if (!use) {
		plog_err("cannot send %zu bytes to %s:%u: not listening on %s:%u any more", len,
			 ip_str(peer, pb), peer_port, ip_str(local, lb), local_port);
		goto out;
	}
	struct sockaddr_storage ss;
	socklen_t sl = ip_to_sockaddr(peer, peer_port, &ss);
	DBG(DBG_RAW, NULL, "sending %zu bytes from %s:%u to %s:%u", len, use->name, local_port, ip_str(peer, pb),
	    peer_port);
	if (sendto(use->fd, buf, len, 0, (struct sockaddr *)&ss, sl) < 0) {
		plog_err("sendto %s:%u failed: %s", ip_str(peer, pb), peer_port, strerror(errno));
		goto out;
	}
	ok = true;
out:
	free(framed);
	return ok;
}

static struct v1_state *keyed_isakmp(struct v1_state *s)
{
	return s->st->kind == STATE_KIND_ISAKMP ? s : v1_parent(s);
}

bool v1_send_msg(struct v1_state *s, struct pbuf *pb, bool encrypt, uint8_t *iv, bool keep)
{
	size_t len = pbuf_finish(pb);
	if (len < ISAKMP_HDR_LEN) {
		plog_err("cannot build a message for #%u", s->st->serial);
		return false;
	}
	size_t total = len;
	uint8_t *buf;
	if (encrypt) {
		struct v1_state *isakmp = keyed_isakmp(s);
		if (!isakmp || !isakmp->have_keys)
			return false;
		size_t block = crypto_cipher_block(isakmp->ike.cipher);
		size_t body = len - ISAKMP_HDR_LEN;
		size_t pad = block ? (block - body % block) % block : 0;
		total = len + pad;
		buf = xcalloc(1, total);
		memcpy(buf, pb->data, len);
		buf[19] |= ISAKMP_FLAG_ENCRYPTION;
		put_be32(buf + 24, (uint32_t)total);
		if (crypto_cbc_encrypt(isakmp->ike.cipher, isakmp->keys.enc_key, isakmp->keys.enc_key_len,
				       iv, buf + ISAKMP_HDR_LEN, total - ISAKMP_HDR_LEN) < 0) {
			free(buf);
			plog_err("encryption failed for #%u", s->st->serial);
			return false;
		}
	} else {
		buf = xmalloc(total);
		memcpy(buf, pb->data, len);
	}
	bool ok = v1_send_raw(&s->local, s->local_port, &s->st->peer, s->st->peer_port, buf, total);
	if (keep) {
		free(s->last_sent);
		s->last_sent = buf;
		s->last_sent_len = total;
		s->retransmits = 0;
	} else {
		free(buf);
	}
	return ok;
}

void v1_resend(struct v1_state *s)
{
	if (s->last_sent)
		v1_send_raw(&s->local, s->local_port, &s->st->peer, s->st->peer_port, s->last_sent,
			    s->last_sent_len);
}

void v1_send_plain_notify(const ip_address *local, uint16_t local_port, const ip_address *peer,
			  uint16_t peer_port, const uint8_t icookie[8], const uint8_t rcookie[8],
			  unsigned type)
{
	struct pbuf pb;
	pbuf_init(&pb);
	struct isakmp_hdr h = { .np = PT_N, .version = ISAKMP_VERSION, .xchg = XCHG_INFO };
	memcpy(h.icookie, icookie, 8);
	memcpy(h.rcookie, rcookie, 8);
	emit_hdr(&pb, &h);
	uint8_t spi[16];
	memcpy(spi, icookie, 8);
	memcpy(spi + 8, rcookie, 8);
	emit_notify(&pb, ISAKMP_DOI_IPSEC, PROTO_ISAKMP, (uint16_t)type, spi, 16, NULL, 0);
	size_t len = pbuf_finish(&pb);
	char ab[IP_STR_MAX];
	plog("sending unprotected notification %s to %s:%u", notify_type_name(type), ip_str(peer, ab), peer_port);
	if (len)
		v1_send_raw(local, local_port, peer, peer_port, pb.data, len);
	pbuf_free(&pb);
}

bool v1_hash_skeyid_a(const struct v1_state *isakmp, uint32_t msgid, bool zero_prefix,
		      const struct chunk *parts, size_t n, uint8_t *out)
{
	struct chunk all[8];
	size_t k = 0;
	static const uint8_t zero = 0;
	uint8_t mid[4];
	put_be32(mid, msgid);
	if (zero_prefix)
		all[k++] = CHUNK(&zero, 1);
	all[k++] = CHUNK(mid, 4);
	for (size_t i = 0; i < n && k < ARRAY_SIZE(all); i++)
		all[k++] = parts[i];
	return crypto_prf(isakmp->ike.hash, CHUNK(isakmp->keys.skeyid_a, isakmp->keys.hash_len), all, k, out) == 0;
}

struct chunk v1_after_hash(const struct v1_msg *m)
{
	if (m->md.n_payloads == 0)
		return CHUNK(NULL, 0);
	const struct payload *h = &m->md.payloads[0];
	const struct payload *last = &m->md.payloads[m->md.n_payloads - 1];
	const uint8_t *start = h->raw + h->raw_len;
	const uint8_t *end = last->raw + last->raw_len;
	return CHUNK(start, end > start ? (size_t)(end - start) : 0);
}

bool v1_check_hash(struct v1_state *s, struct v1_msg *m, const uint8_t *expected, size_t len,
		   const char *which)
{
	const struct payload *h = m->md.n_payloads ? &m->md.payloads[0] : NULL;
	if (!h || h->type != PT_HASH) {
		plog_full(4, MSGID_GENERIC, RC_LOG_SERIOUS, s->st->connection, s->st,
			  "%s must be the first payload; message dropped", which);
		m->notify = N_PAYLOAD_MALFORMED;
		return false;
	}
	if (h->data_len != len || CRYPTO_memcmp(h->data, expected, len) != 0) {
		plog_full(4, MSGID_GENERIC, RC_LOG_SERIOUS, s->st->connection, s->st,
			  "received %s does not match the message; message dropped", which);
		m->notify = N_INVALID_HASH_INFORMATION;
		return false;
	}
	return true;
}

static void emit_protected_info(struct v1_state *isakmp, int kind, uint8_t protocol, const uint8_t *spi,
				uint8_t spi_size, unsigned type, const uint8_t *data, size_t data_len)
{
	if (!isakmp || !isakmp->have_keys)
		return;
	uint32_t msgid;
	do
		crypto_random(&msgid, sizeof(msgid));
	while (msgid == 0);
	size_t hlen = isakmp->keys.hash_len;
	struct pbuf pb;
	pbuf_init(&pb);
	pb.conn = isakmp->st->connection;
	struct isakmp_hdr h = { .np = PT_HASH, .version = ISAKMP_VERSION, .xchg = XCHG_INFO, .msgid = msgid };
	memcpy(h.icookie, isakmp->icookie, 8);
	memcpy(h.rcookie, isakmp->rcookie, 8);
	emit_hdr(&pb, &h);
	uint8_t zeros[CRYPTO_MAX_HASH] = { 0 };
	size_t hoff = emit_hash(&pb, zeros, hlen);
	if (kind == 'N')
		emit_notify(&pb, ISAKMP_DOI_IPSEC, protocol, (uint16_t)type, spi, spi_size, data, data_len);
	else
		emit_delete(&pb, ISAKMP_DOI_IPSEC, protocol, spi_size, spi, 1);
	size_t len = pbuf_finish(&pb);
	if (len == 0) {
		pbuf_free(&pb);
		return;
	}
	size_t after = hoff + 4 + hlen;
	struct chunk rest = CHUNK(pb.data + after, len - after);
	v1_hash_skeyid_a(isakmp, msgid, false, &rest, 1, pb.data + hoff + 4);
	uint8_t iv[CRYPTO_MAX_BLOCK];
	if (ikev1_phase2_iv(isakmp->ike.hash, isakmp->ike.cipher, isakmp->iv, msgid, iv) == 0)
		v1_send_msg(isakmp, &pb, true, iv, false);
	pbuf_free(&pb);
}

void v1_send_protected_notify(struct v1_state *isakmp, uint8_t protocol, const uint8_t *spi,
			      uint8_t spi_size, unsigned type, const uint8_t *data, size_t data_len)
{
	plog_full(6, MSGID_GENERIC, RC_LOG, isakmp->st->connection, isakmp->st,
		  "sending notification %s", notify_type_name(type));
	emit_protected_info(isakmp, 'N', protocol, spi, spi_size, type, data, data_len);
}

void v1_send_delete(struct v1_state *isakmp, uint8_t protocol, const uint8_t *spi, uint8_t spi_size)
{
	emit_protected_info(isakmp, 'D', protocol, spi, spi_size, 0, NULL, 0);
}

/* Answer a refused message: protected once the ISAKMP SA is established,
 * unprotected before. */
static void answer_notify(struct v1_state *s, struct v1_msg *m)
{
	if (!m->notify)
		return;
	struct v1_state *isakmp = keyed_isakmp(s);
	if (isakmp && isakmp->st->established && isakmp->have_keys) {
		uint8_t spi[16];
		memcpy(spi, isakmp->icookie, 8);
		memcpy(spi + 8, isakmp->rcookie, 8);
		v1_send_protected_notify(isakmp, PROTO_ISAKMP, spi, 16, m->notify, NULL, 0);
	} else {
		v1_send_plain_notify(&s->local, s->local_port, &m->from, m->from_port, m->md.hdr.icookie,
				     s->rcookie, m->notify);
	}
}

/* --- states --- */

void v1_established(struct v1_state *s)
{
	struct state *st = s->st;
	struct connection *c = st->connection;
	if (is_half_open(st) && half_open)
		half_open--;
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
		.cipher = s->ipsec.cipher ? s->ipsec.cipher->name : NULL,
		.integ = s->ipsec.integ ? s->ipsec.integ->name : NULL,
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
		plog_full(4, MSGID_STATE, RC_LOG_SERIOUS, s->st->connection, s->st, "%s", err.message);
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
	if (is_half_open(st) && half_open)
		half_open--;
	if (!shutting_down && st->connection && st->connection->template)
		v1_schedule_instance_gc();
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
		plog_full(6, MSGID_STATE, RC_RETRANSMISSION, st->connection, st,
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
	plog_full(6, MSGID_STATE, RC_LOG, s->st->connection, s->st,
		  "%s: peer stopped talking; deleting the unfinished negotiation", state_name_str(s->st->name));
	v1_delete_state(s->st, false);
}

void ikev1_expire(struct v1_state *s)
{
	plog_full(6, MSGID_STATE, RC_LOG, s->st->connection, s->st, "%s SA expired (hard lifetime)",
		  s->st->kind == STATE_KIND_ISAKMP ? "ISAKMP" : "IPsec");
	v1_delete_state(s->st, true);
}

/* --- the dispatcher --- */

static bool check_payloads(struct v1_state *s, const struct v1_row *row, struct v1_msg *m)
{
	uint32_t seen = 0;
	for (size_t i = 0; i < m->md.n_payloads; i++) {
		unsigned t = m->md.payloads[i].type;
		if (t >= ISAKMP_PRIVATE_PAYLOAD_MIN)
			continue;      /* private use: recorded by the parser, not ours */
		if (t >= 32 || !((row->required | row->optional) & P(t))) {
			plog_full(4, MSGID_GENERIC, RC_LOG_SERIOUS, s->st->connection, s->st,
				  "%s: unexpected %s payload; message dropped", state_name_str(s->st->name),
				  payload_type_name(t));
			m->notify = N_INVALID_PAYLOAD_TYPE;
			return false;
		}
		/* one of each, except IDs (Quick Mode: two), VIDs, notifications, CRs */
		if ((seen & P(t)) && t != PT_VID && t != PT_N && t != PT_CR && t != PT_ID &&
		    t != PT_NATD && t != PT_CERT) {
			plog_full(4, MSGID_GENERIC, RC_LOG_SERIOUS, s->st->connection, s->st,
				  "%s: more than one %s payload; message dropped", state_name_str(s->st->name),
				  payload_type_name(t));
			m->notify = N_PAYLOAD_MALFORMED;
			return false;
		}
		seen |= P(t);
	}
	uint32_t missing = row->required & ~seen;
	if (missing) {
		unsigned t = 0;
		while (!(missing & P(t)))
			t++;
		plog_full(4, MSGID_GENERIC, RC_LOG_SERIOUS, s->st->connection, s->st,
			  "%s: missing %s payload; message dropped", state_name_str(s->st->name),
			  payload_type_name(t));
		m->notify = N_PAYLOAD_MALFORMED;
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
			plog_full(4, MSGID_GENERIC, RC_LOG_SERIOUS, c, st,
				  "encrypted message before the keys are known; dropped");
			return false;
		}
		size_t block = crypto_cipher_block(isakmp->ike.cipher);
		if (len == 0 || (block && len % block)) {
			plog_full(4, MSGID_GENERIC, RC_LOG_SERIOUS, c, st,
				  "encrypted body of %zu bytes is not a multiple of the cipher block; dropped", len);
			m->notify = N_PAYLOAD_MALFORMED;
			return false;
		}
		m->body = xmalloc(len);
		memcpy(m->body, body, len);
		memcpy(m->new_iv, iv, isakmp->iv_len);
		if (crypto_cbc_decrypt(isakmp->ike.cipher, isakmp->keys.enc_key, isakmp->keys.enc_key_len,
				       m->new_iv, m->body, len) < 0) {
			plog_full(4, MSGID_GENERIC, RC_LOG_SERIOUS, c, st, "decryption failed; message dropped");
			return false;
		}
		body = m->body;
		m->body_len = len;
	}
	unsigned notify = 0;
	if (payloads_parse(&m->md, m->md.hdr.np, body, len, m->encrypted, &notify, why, sizeof(why)) < 0) {
		plog_full(4, MSGID_GENERIC, RC_LOG_SERIOUS, c, st, "malformed %smessage: %s%s; dropped",
			  m->encrypted ? "decrypted " : "", why,
			  m->encrypted && st && st->kind == STATE_KIND_ISAKMP && !st->established
			  ? " (probably the preshared keys differ)" : "");
		m->notify = notify ? notify : N_PAYLOAD_MALFORMED;
		return false;
	}
	return true;
}

static bool same_packet(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return a && alen == blen && memcmp(a, b, alen) == 0;
}

/* The peer sent its last message again: where our last message answered
 * it, the peer lost our answer and gets it again; otherwise the copy is
 * dropped. True when m was such a duplicate. */
static bool handled_as_duplicate(struct v1_state *s, const struct v1_msg *m)
{
	if (!same_packet(s->last_recv, s->last_recv_len, m->packet, m->packet_len))
		return false;
	if (resend_on_duplicate(s->st->name) && s->last_sent) {
		plog_full(6, MSGID_GENERIC, RC_LOG, s->st->connection, s->st,
			  "%s: retransmitted message received; re-sending our reply",
			  state_name_str(s->st->name));
		v1_resend(s);
	} else {
		DBG(DBG_CONTROL, s->st->connection, "#%u: duplicate message dropped", s->st->serial);
	}
	return true;
}

static void finish_transition(struct v1_state *s, const struct v1_row *row);

/* Run one message through s's row. created: s was made for this message
 * (deleted again unless the handler accepts it). */
static void run_row(struct v1_state *s, struct v1_msg *m, bool created)
{
	struct state *st = s->st;
	struct connection *c = st->connection;
	const struct v1_row *row = row_for(st->name);
	if (!row || row->xchg != m->md.hdr.xchg) {
		plog_full(6, MSGID_GENERIC, RC_LOG, c, st, "%s: unexpected %s message; dropped",
			  state_name_str(st->name), exchange_name(m->md.hdr.xchg));
		goto refused;
	}
	if (!!(row->flags & F_ENCRYPTED) != m->encrypted) {
		plog_full(4, MSGID_GENERIC, RC_LOG_SERIOUS, c, st, "%s: message must %sbe encrypted; dropped",
			  state_name_str(st->name), row->flags & F_ENCRYPTED ? "" : "not ");
		goto refused;
	}
	/* which IV decrypts it: the ISAKMP SA's chain in Main Mode, the
	 * exchange's own in Quick Mode */
	struct v1_state *isakmp = keyed_isakmp(s);
	if (!open_msg(isakmp, s->iv, m, c, st)) {
		/* MI3/MR3 that does not decrypt to a valid message: with a
		 * preshared key that is the peer failing to prove it knows
		 * the key (wrong PSK), so say AUTHENTICATION_FAILED */
		if (m->encrypted && m->body && st->kind == STATE_KIND_ISAKMP && !st->established)
			m->notify = N_AUTHENTICATION_FAILED;
		answer_notify(s, m);
		goto refused;
	}
	if (!check_payloads(s, row, m)) {
		answer_notify(s, m);
		goto refused;
	}
	uint8_t old_iv[CRYPTO_MAX_BLOCK];
	memcpy(old_iv, s->iv, sizeof(old_iv));
	if (m->encrypted)
		memcpy(s->iv, m->new_iv, isakmp->iv_len);
	unsigned serial = st->serial;
	s->in_transition = true;
	enum stf r = row->handler(s, m);
	if (state_by_serial(serial) == st)
		s->in_transition = false;
	if (r != STF_OK) {
		/* the handler may have deleted nothing; the state still exists */
		if (state_by_serial(serial) != st)
			return;
		memcpy(s->iv, old_iv, sizeof(old_iv));
		if (s->change_pending) {
			s->change_pending = false;
			event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);
		}
		if (m->notify)
			answer_notify(s, m);
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
	state_set_name(st, row->to);
	if (s->change_pending) {
		s->change_pending = false;
		event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);
	}
	finish_transition(s, row);
	return;

refused:
	if (created)
		v1_delete_state(st, false);
}

static void finish_transition(struct v1_state *s, const struct v1_row *row)
{
	struct state *st = s->st;
	struct connection *c = st->connection;
	if (row->flags & F_REQUEST) {
		s->retransmits = 0;
		v1_arm_retransmit(s);
	} else if (!st->established && !st->initiator) {
		v1_arm_responder_timeout(s);
	} else {
		v1_stop_retransmit(s);
	}
	bool phase2 = c->cfg.policy & (POLICY_ENCRYPT | POLICY_AUTHENTICATE);
	if (st->name == STATE_MAIN_I4 || st->name == STATE_MAIN_R3) {
		plog_full(6, MSGID_STATE, st->initiator && !phase2 ? RC_SUCCESS : (enum whack_rc)(RC_NEW_STATE + st->name),
			  c, st, "%s: %s {%s}", state_name_str(st->name), row->what, st->algorithms);
		if (st->name == STATE_MAIN_I4) {
			if (!phase2) {
				progress_sinks_done(c, NULL);
			} else if (s->phase1_only && !c->sinks) {
				/* an ISAKMP SA's replacement; unless somebody asked
				 * for the connection meanwhile, that is all */
			} else {
				struct ctl_error err;
				/* the Quick Mode continues this keying attempt, and
				 * replaces what the Main Mode was started to replace */
				struct state *old = s->replacing ? state_by_serial(s->replacing) : NULL;
				struct keying k = { .attempt = s->keying_attempt,
						    .replacing = old && old->kind == STATE_KIND_IPSEC ? s->replacing : 0 };
				if (quick_outI1(s, c, &k, &err) < 0)
					v1_fail(c, st, RC_LOG_SERIOUS, "%s", err.message);
			}
		}
		return;
	}
	if (st->name == STATE_QUICK_I2 || st->name == STATE_QUICK_R2) {
		plog_full(6, MSGID_STATE, RC_SUCCESS, c, st, "%s: %s {%s}", state_name_str(st->name), row->what,
			  st->algorithms);
		if (st->initiator)
			progress_sinks_done(c, NULL);
		return;
	}
	v1_progress(s, row->what);
}

static void release_msg(struct v1_msg *m)
{
	msg_digest_release(&m->md);
	if (m->body) {
		OPENSSL_cleanse(m->body, m->body_len);
		free(m->body);
	}
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
		plog("Main Mode message from %s:%u for an unknown ISAKMP SA; dropped", ip_str(&m->from, ab),
		     m->from_port);
		return;
	}
	/* said once per episode: a flood must not flood the log too */
	static bool said_full;
	if (half_open >= HALF_OPEN_MAX) {
		if (!said_full)
			plog("%u half-open Main Mode negotiations: dropping new ones (from %s:%u and others) "
			     "until some complete or time out", half_open, ip_str(&m->from, ab), m->from_port);
		said_full = true;
		return;
	}
	said_full = false;
	struct connection *c = v1_conn_for_mm(&m->ifp->addr, &m->from);
	if (!c) {
		plog("initial Main Mode message received on %s:%u but no connection has been authorized "
		     "for %s; dropped", ip_str(&m->ifp->addr, ab), m->ifp->port, ip_str(&m->from, ab));
		return;
	}
	s = v1_state_new(c, STATE_KIND_ISAKMP, false, &m->from, m->from_port, &m->ifp->addr, m->ifp->port);
	half_open++;
	memcpy(s->icookie, h->icookie, 8);
	v1_hash_isakmp(s);
	s->st->name = STATE_MAIN_R0;
	plog_full(6, MSGID_STATE, RC_LOG, c, s->st, "responding to Main Mode from %s", ip_str(&m->from, ab));
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
		plog("Quick Mode message from %s for no established ISAKMP SA; dropped", ip_str(&m->from, ab));
		return;
	}
	if (h->msgid == 0 || !m->encrypted) {
		plog_full(4, MSGID_GENERIC, RC_LOG_SERIOUS, isakmp->st->connection, isakmp->st,
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

static void process_informational(struct v1_msg *m)
{
	const struct isakmp_hdr *h = &m->md.hdr;
	char ab[IP_STR_MAX];
	struct v1_state *isakmp = v1_find_isakmp(h->icookie, h->rcookie);
	if (isakmp && !ip_equal(&isakmp->st->peer, &m->from))
		isakmp = NULL;
	if (m->encrypted) {
		if (!isakmp || !isakmp->have_keys || memcmp(isakmp->rcookie, h->rcookie, 8) != 0 || h->msgid == 0) {
			plog("encrypted Informational message from %s for no known ISAKMP SA; dropped",
			     ip_str(&m->from, ab));
			return;
		}
		uint8_t iv[CRYPTO_MAX_BLOCK];
		if (ikev1_phase2_iv(isakmp->ike.hash, isakmp->ike.cipher, isakmp->iv, h->msgid, iv) < 0)
			return;
		if (!open_msg(isakmp, iv, m, isakmp->st->connection, isakmp->st))
			return;
	} else if (!open_msg(NULL, NULL, m, isakmp ? isakmp->st->connection : NULL,
			     isakmp ? isakmp->st : NULL)) {
		return;
	}
	informational_in(isakmp, m);
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
		plog("dropping %zu-byte packet from %s:%u: %s", len, ip_str(from, ab), from_port, why);
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
	case XCHG_AGGRESSIVE:
		plog("Aggressive Mode message from %s:%u refused: this pluto only implements Main Mode",
		     ip_str(from, ab), from_port);
		if (cookie_is_zero(m.md.hdr.rcookie) && !m.encrypted) {
			static const uint8_t zero[8];
			v1_send_plain_notify(&ifp->addr, ifp->port, from, from_port, m.md.hdr.icookie, zero,
					     N_INVALID_EXCHANGE_TYPE);
		}
		break;
	default:
		plog("%s message from %s:%u not supported; dropped", exchange_name(m.md.hdr.xchg),
		     ip_str(from, ab), from_port);
		break;
	}
	release_msg(&m);
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
			plog_full(6, MSGID_STATE, RC_SUCCESS, c, f.isakmp, "ISAKMP SA #%u already established",
				  f.isakmp->serial);
			progress_sinks_done(c, NULL);
			return 0;
		}
		return quick_outI1(f.isakmp->v1, c, NULL, err);
	}
	if (f.negotiating) {
		plog_full(6, MSGID_STATE, RC_LOG, c, f.negotiating, "Main Mode already under way");
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

void ikev1_init(struct sd_event *event)
{
	ikev1_loop = event;
	v1_timers_init(event);
	state_set_free_hook(v1_state_free_hook);
	demux_set_packet_handler(on_packet);
	engine_register(&ikev1_ops);
	if (sd_event_add_exit(event, NULL, on_exit_loop, NULL) < 0)
		plog_err("cannot register the shutdown hook: Deletes will not be sent at shutdown");
}
