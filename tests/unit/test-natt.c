/* NAT traversal (RFC 3947 / RFC 3948), the parts that need no peer:
 *  - NAT-D hash: HASH(CKY-I | CKY-R | IP | port) with the phase-1 hash,
 *    checked against OpenSSL's EVP_Digest over bytes this test lays out
 *    itself (IPv4, IPv6, MD5/SHA1/SHA2-256);
 *  - NAT-D detection: which side is behind a NAT from the payloads a
 *    peer sends, and what we emit (peer first, then us);
 *  - the non-ESP marker on what v1_send_raw sends from the NAT-T port
 *    and the classification of what arrives there;
 *  - encapsulation modes (RFC values 3/4, draft 61443/61444);
 *  - NAT-OA read back from what we emit. */
#include <glib.h>
#include <string.h>

#include <arpa/inet.h>
#include <openssl/evp.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/demux.h"
#include "daemon/ikev1/ike_sa.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
#include "daemon/ikev1/nat_traversal.h"
#include "daemon/wire/packet.h"
#include "daemon/state.h"
#include "daemon/ikev1/vendor.h"
#include "klips/kernel.h"
#include "policy/algs.h"
#include "policy/sa.h"

static const uint8_t ICKY[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
static const uint8_t RCKY[8] = { 0xf1, 0xe2, 0xd3, 0xc4, 0xb5, 0xa6, 0x97, 0x88 };

static void quiet(int priority, const char *line, void *ud)
{
	(void)priority;
	(void)line;
	(void)ud;
}

static ip_address addr(const char *s)
{
	ip_address a;
	g_assert_true(ip_parse(s, &a));
	return a;
}

/* the expected hash, laid out by hand: cookies, address bytes, port in
 * network order */
static size_t expected(const char *md, const char *ip, uint16_t port, uint8_t *out)
{
	uint8_t buf[8 + 8 + 16 + 2];
	size_t k = 0;
	memcpy(buf + k, ICKY, 8), k += 8;
	memcpy(buf + k, RCKY, 8), k += 8;
	if (strchr(ip, ':')) {
		g_assert_cmpint(inet_pton(AF_INET6, ip, buf + k), ==, 1);
		k += 16;
	} else {
		g_assert_cmpint(inet_pton(AF_INET, ip, buf + k), ==, 1);
		k += 4;
	}
	buf[k++] = (uint8_t)(port >> 8);
	buf[k++] = (uint8_t)port;
	unsigned len = 0;
	g_assert_true(EVP_Digest(buf, k, out, &len, EVP_get_digestbyname(md), NULL));
	return len;
}

static void test_natd_hash(void)
{
	static const struct { const char *ours, *openssl, *ip; uint16_t port; } cases[] = {
		{ "sha1", "SHA1", "192.0.2.1", 500 },
		{ "sha1", "SHA1", "192.0.2.1", 4500 },
		{ "md5", "MD5", "10.1.2.3", 500 },
		{ "sha2_256", "SHA256", "2001:db8::1", 500 },
		{ "sha2_256", "SHA256", "198.51.100.7", 61234 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct alg *h = alg_by_name(ALG_HASH, cases[i].ours);
		g_assert_nonnull(h);
		uint8_t got[CRYPTO_MAX_HASH], want[CRYPTO_MAX_HASH];
		size_t got_len = 0, want_len = expected(cases[i].openssl, cases[i].ip, cases[i].port, want);
		ip_address a = addr(cases[i].ip);
		g_assert_cmpint(natt_hash(h, ICKY, RCKY, &a, cases[i].port, got, &got_len), ==, 0);
		g_assert_cmpmem(got, got_len, want, want_len);
	}
	/* the port is part of it: 500 and 4500 differ */
	const struct alg *sha1 = alg_by_name(ALG_HASH, "sha1");
	ip_address a = addr("192.0.2.1");
	uint8_t h500[CRYPTO_MAX_HASH], h4500[CRYPTO_MAX_HASH];
	size_t n1, n2;
	g_assert_cmpint(natt_hash(sha1, ICKY, RCKY, &a, 500, h500, &n1), ==, 0);
	g_assert_cmpint(natt_hash(sha1, ICKY, RCKY, &a, 4500, h4500, &n2), ==, 0);
	g_assert_cmpuint(n1, ==, 20);
	g_assert_true(memcmp(h500, h4500, n1) != 0);
	g_assert_cmpint(natt_hash(NULL, ICKY, RCKY, &a, 500, h500, &n1), ==, -1);
}

/* --- an ISAKMP SA without a connection or peer: enough for NAT-D --- */
struct fake {
	struct state st;
	struct v1_state v1;
	struct connection c;
};

static void fake_init(struct fake *f, const char *local, const char *peer, uint16_t peer_port)
{
	memset(f, 0, sizeof(*f));
	f->st.kind = STATE_KIND_ISAKMP;
	f->st.peer = addr(peer);
	f->st.peer_port = peer_port;
	f->st.connection = &f->c;
	f->st.v1 = &f->v1;
	f->v1.st = &f->st;
	f->v1.local = addr(local);
	f->v1.local_port = 500;
	f->v1.peer_caps = VID_NATT_RFC;
	f->v1.ike.hash = alg_by_name(ALG_HASH, "sha1");
	memcpy(f->v1.icookie, ICKY, 8);
	memcpy(f->v1.rcookie, RCKY, 8);
}

static void add_natd(struct v1_msg *m, uint8_t *store, const char *ip, uint16_t port)
{
	size_t n = expected("SHA1", ip, port, store);
	struct payload *p = &m->md.payloads[m->md.n_payloads++];
	p->type = PT_NATD;
	p->data = store;
	p->data_len = n;
}

/* what a peer at `from` would send: first the hash of where it sends
 * to (to_ip:to_port), then its own (own_ip:own_port) */
static unsigned detect(const char *to_ip, uint16_t to_port, const char *own_ip, uint16_t own_port,
		       const char *from, uint16_t from_port, enum encapsulation enc)
{
	struct fake f;
	fake_init(&f, "192.0.2.1", from, from_port);
	f.c.cfg.encapsulation = enc;
	struct iface ifp = { .port = 500 };
	struct v1_msg m = { .ifp = &ifp, .from = addr(from), .from_port = from_port };
	uint8_t h1[32], h2[32];
	add_natd(&m, h1, to_ip, to_port);
	add_natd(&m, h2, own_ip, own_port);
	natt_check_natd(&f.v1, &m);
	return f.v1.nat;
}

static void test_natd_detect(void)
{
	/* no NAT: both hashes are what we see */
	g_assert_cmpuint(detect("192.0.2.1", 500, "192.0.2.2", 500, "192.0.2.2", 500, ENCAPS_AUTO), ==,
			 NATT_NEGOTIATED);
	/* the peer addressed another address than ours: we are behind NAT */
	g_assert_cmpuint(detect("203.0.113.9", 500, "192.0.2.2", 500, "192.0.2.2", 500, ENCAPS_AUTO), ==,
			 NATT_NEGOTIATED | NATT_US_BEHIND);
	/* the peer comes from another address/port than it says: it is */
	g_assert_cmpuint(detect("192.0.2.1", 500, "10.0.0.5", 500, "192.0.2.2", 500, ENCAPS_AUTO), ==,
			 NATT_NEGOTIATED | NATT_PEER_BEHIND);
	g_assert_cmpuint(detect("192.0.2.1", 500, "192.0.2.2", 500, "192.0.2.2", 1025, ENCAPS_AUTO), ==,
			 NATT_NEGOTIATED | NATT_PEER_BEHIND);
	/* encapsulation=yes pretends we are behind one */
	g_assert_cmpuint(detect("192.0.2.1", 500, "192.0.2.2", 500, "192.0.2.2", 500, ENCAPS_YES), ==,
			 NATT_NEGOTIATED | NATT_US_BEHIND | NATT_FORCED);
	/* encapsulation=no: NAT-D is ignored */
	g_assert_cmpuint(detect("203.0.113.9", 500, "10.0.0.5", 500, "192.0.2.2", 500, ENCAPS_NO), ==, 0);

	/* a peer that did not announce RFC 3947: nothing is concluded */
	struct fake f;
	fake_init(&f, "192.0.2.1", "192.0.2.2", 500);
	f.v1.peer_caps = 0;
	struct iface ifp = { .port = 500 };
	struct v1_msg m = { .ifp = &ifp, .from = addr("192.0.2.2"), .from_port = 500 };
	uint8_t h1[32], h2[32];
	add_natd(&m, h1, "203.0.113.9", 500);
	add_natd(&m, h2, "10.0.0.5", 500);
	natt_check_natd(&f.v1, &m);
	g_assert_cmpuint(f.v1.nat, ==, 0);
	g_assert_false(natt_udp_encap(&f.v1));
}

/* what we emit: NAT-D of the peer first, then ours; encapsulation=yes
 * replaces ours with a hash nobody can match */
static void test_natd_emit(void)
{
	for (int forced = 0; forced < 2; forced++) {
		struct fake f;
		fake_init(&f, "192.0.2.1", "192.0.2.2", 500);
		f.c.cfg.encapsulation = forced ? ENCAPS_YES : ENCAPS_AUTO;
		struct pbuf pb;
		pbuf_init(&pb);
		natt_emit_natd(&f.v1, &pb);
		size_t len = pbuf_finish(&pb);
		g_assert_cmpuint(len, ==, 2 * (4 + 20));
		uint8_t peer[32], ours[32];
		expected("SHA1", "192.0.2.2", 500, peer);
		expected("SHA1", "192.0.2.1", 500, ours);
		g_assert_cmpuint(pb.data[0], ==, PT_NATD);   /* next payload of the first: NAT-D */
		g_assert_cmpmem(pb.data + 4, 20, peer, 20);
		if (forced)
			g_assert_true(memcmp(pb.data + 28, ours, 20) != 0);
		else
			g_assert_cmpmem(pb.data + 28, 20, ours, 20);
		pbuf_free(&pb);
	}
	/* without the peer's RFC 3947 VID: none */
	struct fake f;
	fake_init(&f, "192.0.2.1", "192.0.2.2", 500);
	f.v1.peer_caps = VID_NATT_DRAFT;
	struct pbuf pb;
	pbuf_init(&pb);
	natt_emit_natd(&f.v1, &pb);
	g_assert_cmpuint(pbuf_finish(&pb), ==, 0 + pb.len);
	g_assert_cmpuint(pb.len, ==, 0);
	pbuf_free(&pb);
}

/* the float and the peer's port after an authenticated message */
static void test_float_follow(void)
{
	natt_set_port(4500);
	struct fake f;
	fake_init(&f, "192.0.2.1", "192.0.2.2", 500);
	natt_float(&f.v1);     /* no NAT: stays */
	g_assert_cmpuint(f.v1.local_port, ==, 500);
	g_assert_cmpuint(f.st.peer_port, ==, 500);
	f.v1.nat = NATT_NEGOTIATED | NATT_PEER_BEHIND;
	natt_float(&f.v1);
	g_assert_cmpuint(f.v1.local_port, ==, 4500);
	g_assert_cmpuint(f.st.peer_port, ==, 4500);
	/* the NAT re-mapped the peer: answers go where the message came from */
	struct iface natt_if = { .port = 4500, .natt = true }, ike_if = { .port = 500 };
	struct v1_msg m = { .ifp = &natt_if, .from = addr("192.0.2.2"), .from_port = 61001 };
	natt_follow(&f.v1, &m);
	g_assert_cmpuint(f.st.peer_port, ==, 61001);
	/* never back to 500 */
	struct v1_msg m500 = { .ifp = &ike_if, .from = addr("192.0.2.2"), .from_port = 500 };
	natt_follow(&f.v1, &m500);
	g_assert_cmpuint(f.st.peer_port, ==, 61001);
	g_assert_cmpuint(f.v1.local_port, ==, 4500);

	char buf[64];
	g_assert_cmpstr(natt_status(&f.v1, buf, sizeof(buf)), ==, "NAT-T: peer behind NAT, port 4500");
	f.v1.nat = NATT_NEGOTIATED | NATT_US_BEHIND;
	g_assert_cmpstr(natt_status(&f.v1, buf, sizeof(buf)), ==, "NAT-T: we are behind NAT, port 4500");
	f.v1.nat = NATT_NEGOTIATED;
	g_assert_cmpstr(natt_status(&f.v1, buf, sizeof(buf)), ==, "");
}

/* --- the marker --- */
static uint8_t sent[256];
static size_t sent_len;
static uint16_t sent_from, sent_to;

static bool capture(const ip_address *local, uint16_t local_port, const ip_address *peer,
		    uint16_t peer_port, const uint8_t *buf, size_t len)
{
	(void)local;
	(void)peer;
	g_assert_cmpuint(len, <=, sizeof(sent));
	memcpy(sent, buf, len);
	sent_len = len;
	sent_from = local_port;
	sent_to = peer_port;
	return true;
}

static void test_marker(void)
{
	natt_set_port(4500);
	v1_send_hook = capture;
	ip_address l = addr("192.0.2.1"), p = addr("192.0.2.2");
	static const uint8_t msg[28] = { 0xaa, 0xbb, 0xcc, 0xdd };
	/* UDP 500: as it is */
	g_assert_true(v1_send_raw(&l, 500, &p, 500, msg, sizeof(msg)));
	g_assert_cmpmem(sent, sent_len, msg, sizeof(msg));
	/* from the NAT-T port (to whatever port the NAT gave the peer): marker first */
	g_assert_true(v1_send_raw(&l, 4500, &p, 61001, msg, sizeof(msg)));
	g_assert_cmpuint(sent_len, ==, sizeof(msg) + 4);
	g_assert_cmpmem(sent, 4, "\0\0\0\0", 4);
	g_assert_cmpmem(sent + 4, sent_len - 4, msg, sizeof(msg));
	g_assert_cmpuint(sent_from, ==, 4500);
	g_assert_cmpuint(sent_to, ==, 61001);
	/* --natt-port 0: no marker anywhere */
	natt_set_port(0);
	g_assert_true(v1_send_raw(&l, 4500, &p, 4500, msg, sizeof(msg)));
	g_assert_cmpuint(sent_len, ==, sizeof(msg));
	natt_set_port(4500);
	v1_send_hook = NULL;

	size_t len = 3;
	uint8_t *framed = natt_frame((const uint8_t *)"abc", &len);
	g_assert_cmpmem(framed, len, "\0\0\0\0abc", 7);
	free(framed);

	size_t skip = 99;
	g_assert_cmpint(natt_classify((const uint8_t *)"\xff", 1, &skip), ==, NATT_RX_KEEPALIVE);
	g_assert_cmpuint(skip, ==, 0);
	g_assert_cmpint(natt_classify((const uint8_t *)"\0\0\0\0IKE...", 11, &skip), ==, NATT_RX_IKE);
	g_assert_cmpuint(skip, ==, 4);
	/* an ESP header: the SPI is never zero */
	g_assert_cmpint(natt_classify((const uint8_t *)"\x00\x00\x12\x34\0\0\0\1", 8, &skip), ==, NATT_RX_ESP);
	g_assert_cmpint(natt_classify((const uint8_t *)"\0\0\0", 3, &skip), ==, NATT_RX_ESP);
	g_assert_cmpint(natt_classify((const uint8_t *)"\xfe", 1, &skip), ==, NATT_RX_ESP);
	g_assert_true(natt_needs_marker(4500, 4500));
	g_assert_true(natt_needs_marker(4500, 1234));
	g_assert_false(natt_needs_marker(500, 4500));
	g_assert_false(natt_needs_marker(500, 500));
}

static void test_encap_modes(void)
{
	g_assert_cmpuint(natt_encap_mode(true, false), ==, 1);
	g_assert_cmpuint(natt_encap_mode(false, false), ==, 2);
	g_assert_cmpuint(natt_encap_mode(true, true), ==, 3);
	g_assert_cmpuint(natt_encap_mode(false, true), ==, 4);
	g_assert_cmpuint(ipsec_encap_normalize(61443), ==, 3);
	g_assert_cmpuint(ipsec_encap_normalize(61444), ==, 4);
	g_assert_cmpuint(ipsec_encap_normalize(3), ==, 3);
	g_assert_cmpuint(ipsec_encap_normalize(1), ==, 1);
	g_assert_cmpuint(ipsec_encap_normalize(5), ==, 0);
	g_assert_cmpuint(ipsec_encap_normalize(61445), ==, 0);

	/* the kernel SA gets the ports only for modes 3/4 */
	struct fake f;
	fake_init(&f, "192.0.2.1", "192.0.2.2", 61001);
	f.v1.local_port = 4500;
	f.v1.ipsec.encap = ENCAP_UDP_TUNNEL;
	struct kernel_ipsec_sa in = { 0 }, out = { 0 };
	natt_kernel_sa(&f.v1, true, &in);
	natt_kernel_sa(&f.v1, false, &out);
	g_assert_true(in.udp_encap && out.udp_encap);
	g_assert_cmpuint(in.encap_sport, ==, 61001);
	g_assert_cmpuint(in.encap_dport, ==, 4500);
	g_assert_cmpuint(out.encap_sport, ==, 4500);
	g_assert_cmpuint(out.encap_dport, ==, 61001);
	f.v1.ipsec.encap = ENCAP_TUNNEL;
	struct kernel_ipsec_sa plain = { 0 };
	natt_kernel_sa(&f.v1, true, &plain);
	g_assert_false(plain.udp_encap);
}

/* NAT-OA: what the initiator emits, the responder reads as the peer's
 * original address (NAT-OAi) */
static void test_natoa(void)
{
	struct fake i, r;
	fake_init(&i, "10.0.0.5", "192.0.2.2", 4500);
	i.st.initiator = true;
	fake_init(&r, "192.0.2.2", "192.0.2.1", 4500);
	struct pbuf pb;
	pbuf_init(&pb);
	natt_emit_natoa(&i.v1, &pb, true);
	size_t len = pbuf_finish(&pb);
	g_assert_cmpuint(len, ==, 2 * 12);
	struct v1_msg m = { 0 };
	unsigned notify = 0;
	char why[200];
	g_assert_cmpint(payloads_parse(&m.md, PT_NATOA, pb.data, len, false, &notify, why, sizeof(why)), ==, 0);
	g_assert_true(natt_read_natoa(&r.v1, &m));
	char ab[IP_STR_MAX];
	g_assert_cmpstr(ip_str(&r.v1.peer_natoa, ab), ==, "10.0.0.5");
	msg_digest_release(&m.md);
	pbuf_free(&pb);

	/* one NAT-OA alone is refused */
	pbuf_init(&pb);
	emit_natoa(&pb, ID_TYPE_IPV4_ADDR, (const uint8_t *)"\x0a\0\0\x05", 4);
	len = pbuf_finish(&pb);
	struct v1_msg m1 = { 0 };
	g_assert_cmpint(payloads_parse(&m1.md, PT_NATOA, pb.data, len, false, &notify, why, sizeof(why)), ==, 0);
	g_assert_false(natt_read_natoa(&r.v1, &m1));
	g_assert_cmpuint(m1.notify, ==, N_PAYLOAD_MALFORMED);
	msg_digest_release(&m1.md);
	pbuf_free(&pb);

	/* not wanted: nothing emitted */
	pbuf_init(&pb);
	natt_emit_natoa(&i.v1, &pb, false);
	g_assert_cmpuint(pb.len, ==, 0);
	pbuf_free(&pb);
}

static void test_option(void)
{
	struct connection_config cfg = { 0 };
	const char *why = NULL;
	g_assert_true(conn_opt_encapsulation(&cfg, "yes", &why));
	g_assert_cmpuint(cfg.encapsulation, ==, ENCAPS_YES);
	g_assert_true(conn_opt_encapsulation(&cfg, "no", &why));
	g_assert_cmpuint(cfg.encapsulation, ==, ENCAPS_NO);
	g_assert_true(conn_opt_encapsulation(&cfg, "auto", &why));
	g_assert_cmpuint(cfg.encapsulation, ==, ENCAPS_AUTO);
	g_assert_false(conn_opt_encapsulation(&cfg, "maybe", &why));
	g_assert_cmpstr(why, ==, "must be auto, yes or no");
	g_assert_cmpstr(encapsulation_name(ENCAPS_NO), ==, "no");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	log_set_hook(quiet, NULL);
	g_test_add_func("/natt/natd-hash", test_natd_hash);
	g_test_add_func("/natt/natd-detect", test_natd_detect);
	g_test_add_func("/natt/natd-emit", test_natd_emit);
	g_test_add_func("/natt/float-follow", test_float_follow);
	g_test_add_func("/natt/marker", test_marker);
	g_test_add_func("/natt/encap-modes", test_encap_modes);
	g_test_add_func("/natt/natoa", test_natoa);
	g_test_add_func("/natt/option", test_option);
	return g_test_run();
}
