/* Sending (ikev1.h "sending"): datagrams from a state's own address and
 * port, the encryption of a message's body, the last message kept for
 * re-sending, and the notifications and Deletes pluto sends: unprotected
 * ones in phase 1, HASH(1)-protected Informational exchanges after. */
#include "daemon/ikev1/ikev1.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/demux.h"
#include "daemon/log.h"
#include "daemon/log_limit.h"
#include "daemon/ikev1/nat_traversal.h"

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
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "cannot send %zu bytes to %s:%u: not listening on %s:%u any more", len,
		     ip_str(peer, pb), peer_port, ip_str(local, lb), local_port);
		goto out;
	}
	struct sockaddr_storage ss;
	socklen_t sl = ip_to_sockaddr(peer, peer_port, &ss);
	DBG(DBG_RAW, NULL, "sending %zu bytes from %s:%u to %s:%u", len, use->name, local_port, ip_str(peer, pb),
	    peer_port);
	if (sendto(use->fd, buf, len, 0, (struct sockaddr *)&ss, sl) < 0) {
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "sendto %s:%u failed: %s", ip_str(peer, pb), peer_port, strerror(errno));
		goto out;
	}
	ok = true;
out:
	free(framed);
	return ok;
}

struct v1_state *v1_keyed_isakmp(struct v1_state *s)
{
	return s->st->kind == STATE_KIND_ISAKMP ? s : v1_parent(s);
}

bool v1_send_msg(struct v1_state *s, struct pbuf *pb, bool encrypt, uint8_t *iv, bool keep)
{
	size_t len = pbuf_finish(pb);
	if (len < ISAKMP_HDR_LEN) {
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "cannot build a message for #%u", s->st->serial);
		return false;
	}
	size_t total = len;
	uint8_t *buf;
	if (encrypt) {
		struct v1_state *isakmp = v1_keyed_isakmp(s);
		if (!isakmp || !isakmp->have_keys)
			return false;
		size_t block = crypto_cipher_block(isakmp->ike.cipher);
		size_t body = len - ISAKMP_HDR_LEN;
		size_t pad = block ? (block - body % block) % block : 0;
		total = len + pad;
		buf = xcalloc(1, total);
		memcpy(buf, pb->data, len);
		isakmp_hdr_mark_encrypted(buf, total);
		if (crypto_cbc_encrypt(isakmp->ike.cipher, isakmp->keys->enc_key, isakmp->keys->enc_key_len,
				       iv, buf + ISAKMP_HDR_LEN, total - ISAKMP_HDR_LEN) < 0) {
			free(buf);
			llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "encryption failed for #%u", s->st->serial);
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
	/* answers to unauthenticated messages: limited (log_limit.h) */
	llog_peer(peer, GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "sending unprotected notification %s to %s:%u",
		  notify_type_name(type), ip_str(peer, ab), peer_port);
	if (len)
		v1_send_raw(local, local_port, peer, peer_port, pb.data, len);
	pbuf_free(&pb);
}

bool v1_hash_skeyid_a(const struct v1_state *isakmp, uint32_t msgid, bool zero_prefix,
		      const struct chunk *parts, size_t n, uint8_t *out)
{
	return ikev1_hash_msgid(isakmp->ike.hash, isakmp->keys, msgid, zero_prefix, parts, n, out) == 0;
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

static void emit_protected_info(struct v1_state *isakmp, int kind, uint8_t protocol, const uint8_t *spi,
				uint8_t spi_size, unsigned type, const uint8_t *data, size_t data_len)
{
	if (!isakmp || !isakmp->have_keys)
		return;
	/* a fresh one, remembered: the peer's message with it would be ours reflected */
	uint32_t msgid = v1_msgid_new(isakmp, MSGID_LANE_INFO);
	size_t hlen = isakmp->keys->hash_len;
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
	size_t hash_len;
	uint8_t *hash = pbuf_payload_body(&pb, hoff, &hash_len);
	if (!hash || hash_len != hlen) {
		pbuf_free(&pb);
		return;
	}
	/* HASH(1) covers everything after the HASH payload */
	const uint8_t *after = hash + hash_len;
	struct chunk rest = CHUNK(after, len - (size_t)(after - pb.data));
	v1_hash_skeyid_a(isakmp, msgid, false, &rest, 1, hash);
	uint8_t iv[CRYPTO_MAX_BLOCK];
	if (ikev1_phase2_iv(isakmp->ike.hash, isakmp->ike.cipher, isakmp->iv, msgid, iv) == 0)
		v1_send_msg(isakmp, &pb, true, iv, false);
	pbuf_free(&pb);
}

void v1_send_protected_notify(struct v1_state *isakmp, uint8_t protocol, const uint8_t *spi,
			      uint8_t spi_size, unsigned type, const uint8_t *data, size_t data_len)
{
	llog(STATE_LOGGER(isakmp->st), LS_INFO, MSGID_GENERIC,
	     "sending notification %s", notify_type_name(type));
	emit_protected_info(isakmp, 'N', protocol, spi, spi_size, type, data, data_len);
}

void v1_send_delete(struct v1_state *isakmp, uint8_t protocol, const uint8_t *spi, uint8_t spi_size)
{
	emit_protected_info(isakmp, 'D', protocol, spi, spi_size, 0, NULL, 0);
}

/* Answer a refused message: protected once the ISAKMP SA is established,
 * unprotected before. */
void v1_answer_notify(struct v1_state *s, struct v1_msg *m)
{
	if (!m->notify)
		return;
	struct v1_state *isakmp = v1_keyed_isakmp(s);
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

