/* Quick Mode client IDs (RFC 2409 5.5), against the in-process engine
 * over an ISAKMP SA whose keys the test sets itself (no Main Mode):
 *
 *  - responder: IDs naming a protocol or port are refused with
 *    INVALID_ID_INFORMATION (no protoport= exists, so accepting them would
 *    install a whole-subnet SA the initiator did not ask for, and echo
 *    IDs different from the ones received);
 *  - initiator: a QR1 without the client IDs we sent is refused (the
 *    responder then means its host addresses, a different SA than ours);
 *  - message IDs (RFC 2408 3.1, issue 14): a QI1 sent again while its
 *    exchange runs gets the same QR1 again; once its state is gone the
 *    same QI1 is a replay, dropped with a log line and no answer, while a
 *    new message ID still works; a protected R-U-THERE is answered once,
 *    and our own R-U-THERE reflected back is not answered at all.
 *
 * Datagrams go through the engine's packet handler, answers to
 * v1_send_hook: no socket. */
#include <glib.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/demux.h"
#include "daemon/ikev1/ike_sa.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
#include "daemon/state.h"

#define LOCAL "127.0.0.1"
#define PEER "127.0.0.2"

static uint8_t *reply;
static size_t reply_len;

static bool capture(const ip_address *local, uint16_t local_port, const ip_address *peer,
		    uint16_t peer_port, const uint8_t *buf, size_t len)
{
	(void)local;
	(void)local_port;
	(void)peer;
	(void)peer_port;
	free(reply);
	reply = g_memdup2(buf, len);
	reply_len = len;
	return true;
}

static unsigned replays_logged;

static void quiet(int priority, const char *line, void *ud)
{
	(void)priority;
	(void)ud;
	if (strstr(line, "replayed") && strstr(line, "was already used on this ISAKMP SA"))
		replays_logged++;
}

struct fixture {
	sd_event *loop;
	packet_handler_fn handler;
	struct iface ifp;
	ip_address peer;
	struct connection *c;
	struct v1_state *isakmp;
};

static void setup(struct fixture *f)
{
	g_assert_cmpint(sd_event_new(&f->loop), >=, 0);
	ikev1_init(f->loop);
	v1_send_hook = capture;
	f->handler = demux_packet_handler();
	g_assert_nonnull(f->handler);
	f->ifp = (struct iface){ .name = "test0", .port = 500, .fd = -1 };
	g_assert_true(ip_parse(LOCAL, &f->ifp.addr));
	g_assert_true(ip_parse(PEER, &f->peer));
	const char *keys[] = { "left", "right", "leftsubnet", "rightsubnet", "authby", "esp" };
	const char *values[] = { LOCAL, PEER, "10.1.0.0/16", "10.2.0.0/16", "secret", "aes128-sha1" };
	struct ctl_error err;
	g_assert_cmpint(ctl_add_connection("net", keys, values, 6, &f->c, &err), ==, 0);

	/* an established ISAKMP SA with keys of our choosing */
	struct v1_state *s = v1_state_new(f->c, STATE_KIND_ISAKMP, false, &f->peer, 500, &f->ifp.addr, 500);
	memset(s->icookie, 0xa1, 8);
	memset(s->rcookie, 0xb2, 8);
	s->ike = (struct ike_choice){
		.cipher = alg_by_name(ALG_CIPHER, "aes128"), .key_bits = 128,
		.hash = alg_by_name(ALG_HASH, "sha1"), .group = alg_by_name(ALG_DH, "modp2048"),
		.auth = OAKLEY_PRESHARED_KEY, .lifetime = 3600,
	};
	g_assert_nonnull(s->ike.cipher);
	g_assert_nonnull(s->ike.hash);
	s->keys->hash_len = 20;
	memset(s->keys->skeyid_a, 0x11, 20);
	memset(s->keys->skeyid_d, 0x12, 20);
	s->keys->enc_key_len = 16;
	memset(s->keys->enc_key, 0x22, 16);
	s->iv_len = 16;
	memset(s->iv, 0x33, 16);
	s->have_keys = true;
	s->st->established = true;
	s->st->name = STATE_MAIN_R3;
	v1_hash_isakmp(s);
	f->isakmp = s;
}

static void teardown(struct fixture *f)
{
	struct state *st;
	while ((st = states_first()))
		v1_delete_state(st, false);
	for (int i = 0; i < 64 && sd_event_run(f->loop, 0) > 0; i++)
		;
	v1_instances_shutdown();
	connections_delete_all();
	v1_send_hook = NULL;
	free(reply);
	reply = NULL;
	sd_event_unref(f->loop);
}

static void hash1(const struct v1_state *isakmp, uint32_t msgid, const uint8_t *nonce, size_t nonce_len,
		  const uint8_t *rest, size_t rest_len, uint8_t *out)
{
	struct chunk parts[2];
	size_t n = 0;
	if (nonce)
		parts[n++] = CHUNK(nonce, nonce_len);
	parts[n++] = CHUNK(rest, rest_len);
	g_assert_true(v1_hash_skeyid_a(isakmp, msgid, false, parts, n, out));
}

/* Encrypt pb (header + HASH at hoff, HASH filled over the rest with the
 * optional nonce) with *iv (updated) and hand it to the engine. */
static void seal_deliver(struct fixture *f, struct pbuf *pb, uint32_t msgid, size_t hoff, const uint8_t *nonce,
			 size_t nonce_len, uint8_t *iv)
{
	size_t len = pbuf_finish(pb);
	size_t after = hoff + 4 + 20;
	hash1(f->isakmp, msgid, nonce, nonce_len, pb->data + after, len - after, pb->data + hoff + 4);
	size_t body = len - ISAKMP_HDR_LEN, padded = (body + 15) / 16 * 16;
	uint8_t *m = g_malloc0(ISAKMP_HDR_LEN + padded);
	memcpy(m, pb->data, len);
	m[19] |= ISAKMP_FLAG_ENCRYPTION;
	put_be32(m + 24, (uint32_t)(ISAKMP_HDR_LEN + padded));
	g_assert_cmpint(crypto_cbc_encrypt(f->isakmp->ike.cipher, f->isakmp->keys->enc_key, 16, iv,
					   m + ISAKMP_HDR_LEN, padded), ==, 0);
	free(reply);
	reply = NULL;
	reply_len = 0;
	f->handler(&f->ifp, m, ISAKMP_HDR_LEN + padded, &f->peer, 500);
	g_free(m);
}

/* set: the peer's client ID of the next QI1 is 10.2.0.5/16 (host bits set) */
static bool qi1_host_bits;

static void emit_subnet_id(struct pbuf *pb, const char *net, uint8_t protocol, uint16_t port)
{
	ip_subnet s;
	const char *why;
	g_assert_true(subnet_parse(net, &s, &why));
	uint8_t buf[8];
	memcpy(buf, s.addr.u.bytes, 4);
	memset(buf + 4, 0, 4);
	for (unsigned i = 0; i < s.prefix; i++)
		buf[4 + i / 8] |= (uint8_t)(0x80 >> (i % 8));
	if (qi1_host_bits && strcmp(net, "10.2.0.0/16") == 0)
		buf[3] = 5;
	emit_id(pb, ID_TYPE_IPV4_ADDR_SUBNET, protocol, port, buf, 8);
}

static uint8_t reply_xchg(void)
{
	g_assert_nonnull(reply);
	g_assert_cmpuint(reply_len, >=, ISAKMP_HDR_LEN);
	return reply[18];
}

/* QI1 from the peer for 10.2.0.0/16 -> 10.1.0.0/16, IDs with protocol/port */
static void send_qi1(struct fixture *f, uint32_t msgid, uint8_t protocol, uint16_t port)
{
	struct ipsec_policy pol = {
		.protocol = PROTO_IPSEC_ESP, .esp = f->c->cfg.esp_proposals, .ah = f->c->cfg.ah_proposals,
		.tunnel = true, .lifetime = 3600, .our_spi = 0x12345678,
	};
	struct sa_payload sa;
	memset(&sa, 0, sizeof(sa));
	ipsec_sa_build(&pol, &sa);
	struct isakmp_hdr h = { .np = PT_HASH, .version = ISAKMP_VERSION, .xchg = XCHG_QUICK, .msgid = msgid };
	memcpy(h.icookie, f->isakmp->icookie, 8);
	memcpy(h.rcookie, f->isakmp->rcookie, 8);
	struct pbuf pb;
	pbuf_init(&pb);
	emit_hdr(&pb, &h);
	uint8_t zeros[20] = { 0 }, ni[32];
	memset(ni, 0x5a, sizeof(ni));
	size_t hoff = emit_hash(&pb, zeros, 20);
	emit_sa(&pb, &sa);
	emit_nonce(&pb, ni, sizeof(ni));
	emit_subnet_id(&pb, "10.2.0.0/16", protocol, port);
	emit_subnet_id(&pb, "10.1.0.0/16", protocol, port);
	uint8_t iv[16];
	g_assert_cmpint(ikev1_phase2_iv(f->isakmp->ike.hash, f->isakmp->ike.cipher, f->isakmp->iv, msgid, iv), ==, 0);
	seal_deliver(f, &pb, msgid, hoff, NULL, 0, iv);
	pbuf_free(&pb);
}

static void test_responder_refuses_protoport(void)
{
	struct fixture f;
	setup(&f);
	/* the plain request is answered with QR1: the harness is right */
	send_qi1(&f, 0x1001, 0, 0);
	g_assert_cmpuint(reply_xchg(), ==, XCHG_QUICK);
	g_assert_nonnull(v1_find_phase2(f.isakmp->icookie, f.isakmp->rcookie, 0x1001));
	/* UDP port 500 only: refused, no Quick Mode state left */
	send_qi1(&f, 0x1002, 17, 500);
	g_assert_cmpuint(reply_xchg(), ==, XCHG_INFO);
	g_assert_null(v1_find_phase2(f.isakmp->icookie, f.isakmp->rcookie, 0x1002));
	teardown(&f);
}

/* 10.2.0.5/16 is no subnet: refused (INVALID_ID_INFORMATION), not
 * silently turned into 10.2.0.0/16 and echoed differently */
static void test_responder_refuses_host_bits(void)
{
	struct fixture f;
	setup(&f);
	qi1_host_bits = true;
	send_qi1(&f, 0x2001, 0, 0);
	qi1_host_bits = false;
	g_assert_cmpuint(reply_xchg(), ==, XCHG_INFO);
	g_assert_null(v1_find_phase2(f.isakmp->icookie, f.isakmp->rcookie, 0x2001));
	send_qi1(&f, 0x2002, 0, 0);
	g_assert_cmpuint(reply_xchg(), ==, XCHG_QUICK);
	teardown(&f);
}

static void test_initiator_requires_echoed_ids(void)
{
	struct fixture f;
	setup(&f);
	struct ctl_error err;
	g_assert_cmpint(quick_outI1(f.isakmp, f.c, NULL, &err), ==, 0);
	g_assert_cmpuint(reply_xchg(), ==, XCHG_QUICK);
	uint32_t msgid = get_be32(reply + 20);
	struct v1_state *qm = v1_find_phase2(f.isakmp->icookie, f.isakmp->rcookie, msgid);
	g_assert_nonnull(qm);
	unsigned serial = qm->st->serial;
	/* decrypt QI1 for its SA and Ni; the IV of QR1 is its last block */
	size_t body_len = reply_len - ISAKMP_HDR_LEN;
	uint8_t *body = g_memdup2(reply + ISAKMP_HDR_LEN, body_len);
	uint8_t iv[16];
	g_assert_cmpint(ikev1_phase2_iv(f.isakmp->ike.hash, f.isakmp->ike.cipher, f.isakmp->iv, msgid, iv), ==, 0);
	g_assert_cmpint(crypto_cbc_decrypt(f.isakmp->ike.cipher, f.isakmp->keys->enc_key, 16, iv, body, body_len), ==, 0);
	struct msg_digest md;
	memset(&md, 0, sizeof(md));
	unsigned notify;
	char why[200];
	g_assert_cmpint(payloads_parse(&md, reply[16], body, body_len, true, &notify, why, sizeof(why)), ==, 0);
	const struct payload *sa = md_first(&md, PT_SA), *ni = md_first(&md, PT_NONCE);
	g_assert_nonnull(sa);
	g_assert_nonnull(ni);
	struct ipsec_policy pol = {
		.protocol = PROTO_IPSEC_ESP, .esp = f.c->cfg.esp_proposals, .ah = f.c->cfg.ah_proposals,
		.tunnel = true, .lifetime = 3600, .our_spi = 0x87654321,
	};
	struct ipsec_choice ch;
	struct sa_payload chosen;
	memset(&chosen, 0, sizeof(chosen));
	g_assert_true(ipsec_sa_select(sa->sa, &pol, &ch, &chosen, why, sizeof(why)));
	uint8_t ni_b[NONCE_LEN_MAX];
	size_t ni_len = ni->data_len;
	memcpy(ni_b, ni->data, ni_len);
	msg_digest_release(&md);
	g_free(body);

	/* QR1 without IDs */
	struct isakmp_hdr h = { .np = PT_HASH, .version = ISAKMP_VERSION, .xchg = XCHG_QUICK, .msgid = msgid };
	memcpy(h.icookie, f.isakmp->icookie, 8);
	memcpy(h.rcookie, f.isakmp->rcookie, 8);
	struct pbuf pb;
	pbuf_init(&pb);
	emit_hdr(&pb, &h);
	uint8_t zeros[20] = { 0 }, nr[32];
	memset(nr, 0x6b, sizeof(nr));
	size_t hoff = emit_hash(&pb, zeros, 20);
	emit_sa(&pb, &chosen);
	emit_nonce(&pb, nr, sizeof(nr));
	memcpy(iv, qm->iv, 16);
	seal_deliver(&f, &pb, msgid, hoff, ni_b, ni_len, iv);
	pbuf_free(&pb);
	/* no QI2, the exchange is given up */
	g_assert_true(reply == NULL || reply_xchg() != XCHG_QUICK);
	g_assert_null(state_by_serial(serial));
	teardown(&f);
}

static size_t quick_states(void)
{
	size_t n = 0;
	for (struct state *st = states_first(); st; st = st->next_in_list)
		n += st->kind == STATE_KIND_IPSEC;
	return n;
}

static void test_qi1_retransmitted_then_replayed(void)
{
	struct fixture f;
	setup(&f);
	replays_logged = 0;
	send_qi1(&f, 0x3001, 0, 0);
	g_assert_cmpuint(reply_xchg(), ==, XCHG_QUICK);
	uint8_t *qr1 = g_memdup2(reply, reply_len);
	size_t qr1_len = reply_len;
	/* the same QI1 while the exchange runs (STATE_QUICK_R1): QR1 again */
	send_qi1(&f, 0x3001, 0, 0);
	g_assert_nonnull(reply);
	g_assert_cmpmem(reply, reply_len, qr1, qr1_len);
	g_assert_cmpuint(quick_states(), ==, 1);
	g_assert_cmpuint(replays_logged, ==, 0);
	/* its state gone: the same QI1 is a replay */
	struct v1_state *qm = v1_find_phase2(f.isakmp->icookie, f.isakmp->rcookie, 0x3001);
	g_assert_nonnull(qm);
	v1_delete_state(qm->st, false);
	send_qi1(&f, 0x3001, 0, 0);
	g_assert_null(reply);
	g_assert_cmpuint(quick_states(), ==, 0);
	g_assert_cmpuint(replays_logged, ==, 1);
	/* a new message ID is a new exchange */
	send_qi1(&f, 0x3002, 0, 0);
	g_assert_cmpuint(reply_xchg(), ==, XCHG_QUICK);
	g_assert_cmpuint(quick_states(), ==, 1);
	g_free(qr1);
	teardown(&f);
}

/* A protected R-U-THERE from the peer with message ID msgid. */
static void send_r_u_there(struct fixture *f, uint32_t msgid, uint32_t seq)
{
	struct isakmp_hdr h = { .np = PT_HASH, .version = ISAKMP_VERSION, .xchg = XCHG_INFO, .msgid = msgid };
	memcpy(h.icookie, f->isakmp->icookie, 8);
	memcpy(h.rcookie, f->isakmp->rcookie, 8);
	struct pbuf pb;
	pbuf_init(&pb);
	emit_hdr(&pb, &h);
	uint8_t zeros[20] = { 0 }, spi[16], data[4];
	memcpy(spi, f->isakmp->icookie, 8);
	memcpy(spi + 8, f->isakmp->rcookie, 8);
	put_be32(data, seq);
	size_t hoff = emit_hash(&pb, zeros, 20);
	emit_notify(&pb, ISAKMP_DOI_IPSEC, PROTO_ISAKMP, N_R_U_THERE, spi, 16, data, 4);
	uint8_t iv[16];
	g_assert_cmpint(ikev1_phase2_iv(f->isakmp->ike.hash, f->isakmp->ike.cipher, f->isakmp->iv, msgid, iv), ==, 0);
	seal_deliver(f, &pb, msgid, hoff, NULL, 0, iv);
	pbuf_free(&pb);
}

static void test_informational_replayed_or_reflected(void)
{
	struct fixture f;
	setup(&f);
	replays_logged = 0;
	send_r_u_there(&f, 0x4001, 7);
	g_assert_cmpuint(reply_xchg(), ==, XCHG_INFO);   /* the ACK */
	uint32_t ack_msgid = get_be32(reply + 20);
	g_assert_cmpuint(ack_msgid, !=, 0x4001);
	uint8_t *ack = g_memdup2(reply, reply_len);
	size_t ack_len = reply_len;
	send_r_u_there(&f, 0x4001, 7);
	g_assert_null(reply);
	g_assert_cmpuint(replays_logged, ==, 1);
	/* our own ACK sent back to us */
	free(reply);
	reply = NULL;
	f.handler(&f.ifp, ack, ack_len, &f.peer, 500);
	g_assert_null(reply);
	g_assert_cmpuint(replays_logged, ==, 2);
	/* a new one is answered */
	send_r_u_there(&f, 0x4002, 8);
	g_assert_cmpuint(reply_xchg(), ==, XCHG_INFO);
	g_assert_true(v1_msgid_used(f.isakmp, 0x4002));
	g_free(ack);
	teardown(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	log_set_hook(quiet, NULL);
	g_test_add_func("/ikev1/qm/responder-refuses-protoport", test_responder_refuses_protoport);
	g_test_add_func("/ikev1/qm/initiator-requires-echoed-ids", test_initiator_requires_echoed_ids);
	g_test_add_func("/ikev1/qm/responder-refuses-host-bits", test_responder_refuses_host_bits);
	g_test_add_func("/ikev1/qm/qi1-retransmitted-then-replayed", test_qi1_retransmitted_then_replayed);
	g_test_add_func("/ikev1/info/replayed-or-reflected", test_informational_replayed_or_reflected);
	return g_test_run();
}
