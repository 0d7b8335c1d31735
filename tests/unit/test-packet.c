/* packet.c: round trips of every payload kind, the real plaintext Main
 * Mode messages of tests/data/captures parsed and re-emitted byte
 * for byte, truncated and garbled variants refused with the notification
 * the RFC calls for, the ISAKMP header checks, and the debug dump. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/wire/packet.h"

/* --- a small pcap / pcapng reader: Ethernet or Linux cooked, IPv4, UDP --- */

struct msg { uint8_t *data; size_t len; uint16_t sport, dport; };

static uint32_t rd32(const uint8_t *p, bool swap)
{
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return swap ? GUINT32_SWAP_LE_BE(v) : v;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* One link-layer frame -> the ISAKMP message in it, if any. */
static void frame_add(GArray *out, unsigned linktype, const uint8_t *f, size_t len)
{
	size_t l2;
	uint16_t ethertype;
	if (linktype == 1) {            /* Ethernet */
		if (len < 14)
			return;
		l2 = 14;
		ethertype = be16(f + 12);
	} else if (linktype == 113) {   /* Linux cooked (SLL) */
		if (len < 16)
			return;
		l2 = 16;
		ethertype = be16(f + 14);
	} else if (linktype == 101) {   /* raw IP */
		l2 = 0;
		ethertype = 0x0800;
	} else {
		g_error("unsupported link type %u", linktype);
	}
	if (ethertype != 0x0800 || len < l2 + 20)
		return;
	const uint8_t *ip = f + l2;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4, tot = be16(ip + 2);
	if ((ip[0] >> 4) != 4 || ip[9] != 17 || tot > len - l2 || tot < ihl + 8)
		return;
	const uint8_t *udp = ip + ihl;
	size_t ulen = be16(udp + 4);
	g_assert_cmpuint(ulen, <=, tot - ihl);
	struct msg m = { .sport = be16(udp), .dport = be16(udp + 2) };
	const uint8_t *payload = udp + 8;
	size_t plen = ulen - 8;
	if (m.sport == 4500 || m.dport == 4500) {
		/* RFC 3948: IKE after a 4-byte zero non-ESP marker; else ESP or keepalive */
		if (plen < 4 || memcmp(payload, "\0\0\0\0", 4) != 0)
			return;
		payload += 4;
		plen -= 4;
	}
	m.data = g_memdup2(payload, plen);
	m.len = plen;
	g_array_append_val(out, m);
}

static void msgs_free(gpointer p)
{
	g_free(((struct msg *)p)->data);
}

static GArray *pcap_read(const char *path)
{
	gchar *buf;
	gsize len;
	GError *err = NULL;
	if (!g_file_get_contents(path, &buf, &len, &err))
		g_error("%s: %s", path, err->message);
	GArray *out = g_array_new(FALSE, TRUE, sizeof(struct msg));
	g_array_set_clear_func(out, msgs_free);
	const uint8_t *p = (const uint8_t *)buf;
	g_assert_cmpuint(len, >=, 24);
	uint32_t magic = rd32(p, false);
	if (magic == 0xa1b2c3d4 || magic == 0xd4c3b2a1) {       /* classic pcap */
		bool swap = magic == 0xd4c3b2a1;
		unsigned linktype = rd32(p + 20, swap);
		for (size_t off = 24; off + 16 <= len;) {
			size_t incl = rd32(p + off + 8, swap);
			g_assert_cmpuint(incl, <=, len - off - 16);
			frame_add(out, linktype, p + off + 16, incl);
			off += 16 + incl;
		}
	} else if (magic == 0x0a0d0d0a) {                        /* pcapng */
		bool swap = rd32(p + 8, false) != 0x1a2b3c4d;
		GArray *linktypes = g_array_new(FALSE, TRUE, sizeof(unsigned));
		for (size_t off = 0; off + 12 <= len;) {
			uint32_t type = rd32(p + off, swap), blen = rd32(p + off + 4, swap);
			g_assert_cmpuint(blen, >=, 12);
			g_assert_cmpuint(blen, <=, len - off);
			if (type == 1) {                                 /* interface description */
				unsigned lt = (unsigned)(swap ? be16(p + off + 8) :
							 (p[off + 8] | p[off + 9] << 8));
				g_array_append_val(linktypes, lt);
			} else if (type == 6) {                          /* enhanced packet */
				unsigned ifid = rd32(p + off + 8, swap);
				size_t cap = rd32(p + off + 20, swap);
				g_assert_cmpuint(ifid, <, linktypes->len);
				g_assert_cmpuint(cap, <=, blen - 32);
				frame_add(out, g_array_index(linktypes, unsigned, ifid), p + off + 28, cap);
			}
			off += blen;
		}
		g_array_unref(linktypes);
	} else {
		g_error("%s: not a pcap file", path);
	}
	g_free(buf);
	return out;
}

/* --- helpers --- */

static bool attr(const struct sa_transform *t, uint16_t type, uint32_t *v)
{
	for (size_t i = 0; i < t->n_attrs; i++)
		if (t->attrs[i].type == type) {
			*v = t->attrs[i].value;
			return true;
		}
	return false;
}

static uint32_t attr_must(const struct sa_transform *t, uint16_t type)
{
	uint32_t v = 0;
	if (!attr(t, type, &v))
		g_error("attribute %u missing", type);
	return v;
}

/* Parses a whole message: header then payloads. Returns 0 or the notify. */
static unsigned parse_msg(const uint8_t *buf, size_t len, struct msg_digest *md, char *why,
			  size_t why_len)
{
	unsigned notify = 0;
	why[0] = '\0';
	if (isakmp_hdr_check(buf, len, &md->hdr, &notify, why, why_len) < 0) {
		g_assert_cmpuint(notify, !=, 0);
		g_assert_cmpstr(why, !=, "");
		return notify;
	}
	if (payloads_parse(md, md->hdr.np, buf + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN, false,
			   &notify, why, why_len) < 0) {
		g_assert_cmpuint(notify, !=, 0);
		g_assert_cmpstr(why, !=, "");
		g_assert_cmpuint(md->n_payloads, ==, 0);
		return notify;
	}
	return 0;
}

/* Emits a parsed message again, payload by payload, from what the parser
 * decoded (the SA from struct sa_payload). */
static size_t reemit(const struct msg_digest *md, struct pbuf *pb)
{
	pbuf_init(pb);
	emit_hdr(pb, &md->hdr);
	for (size_t i = 0; i < md->n_payloads; i++) {
		const struct payload *p = &md->payloads[i];
		switch (p->type) {
		case PT_SA: emit_sa(pb, p->sa); break;
		case PT_KE: emit_ke(pb, p->data, p->data_len); break;
		case PT_NONCE: emit_nonce(pb, p->data, p->data_len); break;
		case PT_ID: emit_id(pb, p->u.id.id_type, p->u.id.protocol, p->u.id.port, p->data,
				    p->data_len); break;
		case PT_HASH: emit_hash(pb, p->data, p->data_len); break;
		case PT_SIG: emit_sig(pb, p->data, p->data_len); break;
		case PT_CERT: case PT_CR:
			emit_cert(pb, p->type, p->u.cert.encoding, p->data, p->data_len); break;
		case PT_VID: emit_vid(pb, p->data, p->data_len); break;
		case PT_NATD: emit_natd(pb, p->data, p->data_len); break;
		case PT_NATOA: emit_natoa(pb, p->u.natoa.id_type, p->data, p->data_len); break;
		case PT_N: emit_notify(pb, p->u.n.doi, p->u.n.protocol, p->u.n.type, p->u.n.spi,
				       p->u.n.spi_size, p->data, p->data_len); break;
		case PT_D: emit_delete(pb, p->u.d.doi, p->u.d.protocol, p->u.d.spi_size,
				       p->u.d.spis, p->u.d.n_spis); break;
		default: g_error("cannot re-emit payload type %u", p->type);
		}
	}
	return pbuf_finish(pb);
}

static void assert_same_sa(const struct sa_payload *a, const struct sa_payload *b)
{
	g_assert_cmpuint(a->doi, ==, b->doi);
	g_assert_cmpuint(a->situation, ==, b->situation);
	g_assert_cmpuint(a->n_proposals, ==, b->n_proposals);
	for (size_t i = 0; i < a->n_proposals; i++) {
		const struct sa_proposal *p = &a->proposals[i], *q = &b->proposals[i];
		g_assert_cmpuint(p->number, ==, q->number);
		g_assert_cmpuint(p->protocol, ==, q->protocol);
		g_assert_cmpuint(p->spi_size, ==, q->spi_size);
		g_assert_cmpmem(p->spi, p->spi_size, q->spi, q->spi_size);
		g_assert_cmpuint(p->n_transforms, ==, q->n_transforms);
		for (size_t j = 0; j < p->n_transforms; j++) {
			const struct sa_transform *t = &p->transforms[j], *u = &q->transforms[j];
			g_assert_cmpuint(t->number, ==, u->number);
			g_assert_cmpuint(t->id, ==, u->id);
			g_assert_cmpuint(t->n_attrs, ==, u->n_attrs);
			for (size_t k = 0; k < t->n_attrs; k++) {
				g_assert_cmpuint(t->attrs[k].type, ==, u->attrs[k].type);
				g_assert_cmpuint(t->attrs[k].value, ==, u->attrs[k].value);
			}
		}
	}
}

/* --- the captures --- */

struct capture_expect {
	const char *name;
	bool initiator_strongswan;
	uint32_t auth, life;
	size_t vids[4];                 /* VIDs in MM1, MM2 */
};

static const struct capture_expect captures[] = {
	{ "dpd-retransmit.strongswan-init.libreswan-resp.natt4500", true, OAKLEY_PRESHARED_KEY, 15840, { 5, 3 } },
	{ "mm-qm-psk-aes.libreswan-init.strongswan-resp.natt4500", false, OAKLEY_PRESHARED_KEY, 14400, { 6, 4 } },
	{ "mm-qm-psk-aes.strongswan-init.libreswan-resp.udp500", true, OAKLEY_PRESHARED_KEY, 15840, { 5, 3 } },
	{ "pfs.strongswan-init.libreswan-resp.udp500", true, OAKLEY_PRESHARED_KEY, 15840, { 5, 3 } },
	{ "rsa-raw.libreswan-init.strongswan-resp.udp500", false, OAKLEY_RSA_SIG, 28800, { 6, 4 } },
};

static GArray *capture_msgs(const struct capture_expect *ce)
{
	gchar *path = g_strdup_printf("%s/tests/data/captures/%s.pcap", g_getenv("SRCDIR"), ce->name);
	GArray *msgs = pcap_read(path);
	g_free(path);
	return msgs;
}

/* The plaintext Main Mode messages MM1..MM4 (the first four, in order). */
static size_t main_mode_plain(GArray *msgs, const struct msg *mm[4])
{
	size_t n = 0;
	for (size_t i = 0; i < msgs->len && n < 4; i++) {
		const struct msg *m = &g_array_index(msgs, struct msg, i);
		if (m->len >= ISAKMP_HDR_LEN && m->data[18] == XCHG_IDPROT && !(m->data[19] & 1))
			mm[n++] = m;
	}
	return n;
}

/* strongswan_style: numbered from 1, strongSwan's attribute order. MM2
 * always is: libreswan as responder echoes strongSwan's transform, and
 * strongSwan as responder encodes its own. */
static void check_ike_sa(const struct sa_payload *sa, const struct capture_expect *ce,
			 bool strongswan_style)
{
	g_assert_cmpuint(sa->doi, ==, ISAKMP_DOI_IPSEC);
	g_assert_cmpuint(sa->situation, ==, SIT_IDENTITY_ONLY);
	g_assert_cmpuint(sa->n_proposals, ==, 1);
	const struct sa_proposal *p = &sa->proposals[0];
	g_assert_cmpuint(p->protocol, ==, PROTO_ISAKMP);
	g_assert_cmpuint(p->spi_size, ==, 0);
	g_assert_cmpuint(p->n_transforms, ==, 1);
	/* strongSwan numbers from 1, libreswan from 0 */
	g_assert_cmpuint(p->number, ==, strongswan_style ? 1 : 0);
	const struct sa_transform *t = &p->transforms[0];
	g_assert_cmpuint(t->id, ==, KEY_IKE);
	g_assert_cmpuint(t->n_attrs, ==, 7);
	g_assert_cmpuint(attr_must(t, OAKLEY_ENCRYPTION_ALGORITHM), ==, 7);   /* AES-CBC */
	g_assert_cmpuint(attr_must(t, OAKLEY_KEY_LENGTH), ==, 128);
	g_assert_cmpuint(attr_must(t, OAKLEY_HASH_ALGORITHM), ==, 2);         /* SHA1 */
	g_assert_cmpuint(attr_must(t, OAKLEY_GROUP_DESCRIPTION), ==, 14);     /* MODP2048 */
	g_assert_cmpuint(attr_must(t, OAKLEY_AUTHENTICATION_METHOD), ==, ce->auth);
	g_assert_cmpuint(attr_must(t, OAKLEY_LIFE_TYPE), ==, OAKLEY_LIFE_SECONDS);
	g_assert_cmpuint(attr_must(t, OAKLEY_LIFE_DURATION), ==, ce->life);
	/* the attribute order tells the implementations apart */
	g_assert_cmpuint(t->attrs[0].type, ==,
			 strongswan_style ? OAKLEY_ENCRYPTION_ALGORITHM : OAKLEY_LIFE_TYPE);
}

static void test_captures(void)
{
	size_t total = 0;
	for (size_t c = 0; c < G_N_ELEMENTS(captures); c++) {
		const struct capture_expect *ce = &captures[c];
		GArray *msgs = capture_msgs(ce);
		const struct msg *mm[4];
		g_assert_cmpuint(main_mode_plain(msgs, mm), ==, 4);
		struct msg_digest *md = g_new0(struct msg_digest, 1);
		char why[256];
		for (int i = 0; i < 4; i++) {
			g_test_message("%s MM%d: %zu bytes", ce->name, i + 1, mm[i]->len);
			unsigned notify = parse_msg(mm[i]->data, mm[i]->len, md, why, sizeof(why));
			if (notify)
				g_error("%s MM%d: %s: %s", ce->name, i + 1, notify_type_name(notify), why);
			g_assert_cmpuint(md->hdr.xchg, ==, XCHG_IDPROT);
			g_assert_cmpuint(md->hdr.version, ==, 0x10);
			g_assert_cmpuint(md->hdr.msgid, ==, 0);
			if (i < 2) {
				g_assert_cmpuint(md_count(md, PT_SA), ==, 1);
				g_assert_cmpuint(md->payloads[0].type, ==, PT_SA);
				check_ike_sa(md_first(md, PT_SA)->sa, ce,
					     i == 1 || ce->initiator_strongswan);
				g_assert_cmpuint(md_count(md, PT_VID), ==, ce->vids[i]);
				g_assert_cmpuint(md->n_payloads, ==, 1 + ce->vids[i]);
			} else {
				g_assert_cmpuint(md_count(md, PT_KE), ==, 1);
				g_assert_cmpuint(md_first(md, PT_KE)->data_len, ==, 256);   /* MODP2048 */
				g_assert_cmpuint(md_count(md, PT_NONCE), ==, 1);
				g_assert_cmpuint(md_first(md, PT_NONCE)->data_len, >=, 16);
				g_assert_cmpuint(md_count(md, PT_NATD), ==, 2);
				g_assert_cmpuint(md_first(md, PT_NATD)->data_len, ==, 20);  /* SHA1 */
				g_assert_cmpuint(md->n_payloads, ==, 4);
			}
			/* the same bytes from what was decoded: both peers use
			 * pluto's encodings (TV attributes, chained numbering) */
			struct pbuf pb;
			size_t n = reemit(md, &pb);
			g_assert_cmpmem(pb.data, n, mm[i]->data, mm[i]->len);
			pbuf_free(&pb);
			msg_digest_release(md);
			total++;
		}
		/* every later message is either encrypted or an informational/QM: the
		 * header alone must pass */
		for (size_t i = 0; i < msgs->len; i++) {
			const struct msg *m = &g_array_index(msgs, struct msg, i);
			struct isakmp_hdr hdr;
			g_assert_cmpint(isakmp_hdr_parse(m->data, m->len, &hdr, why, sizeof(why)), ==, 0);
		}
		g_free(md);
		g_array_unref(msgs);
	}
	g_assert_cmpuint(total, ==, 4 * G_N_ELEMENTS(captures));
}

/* Every truncation of every MM1-MM4: the header says how long it is
 * (UNEQUAL_PAYLOAD_LENGTHS); with the header's length made to match, the
 * payload chain runs out (PAYLOAD_MALFORMED). Never a crash. */
static void test_truncations(void)
{
	for (size_t c = 0; c < G_N_ELEMENTS(captures); c++) {
		GArray *msgs = capture_msgs(&captures[c]);
		const struct msg *mm[4];
		g_assert_cmpuint(main_mode_plain(msgs, mm), ==, 4);
		struct msg_digest *md = g_new0(struct msg_digest, 1);
		char why[256];
		for (int i = 0; i < 4; i++) {
			for (size_t n = 0; n < mm[i]->len; n++) {
				uint8_t *b = g_memdup2(mm[i]->data, n ? n : 1);
				unsigned notify = parse_msg(b, n, md, why, sizeof(why));
				g_assert_cmpuint(notify, ==, n < ISAKMP_HDR_LEN ? N_PAYLOAD_MALFORMED :
						 N_UNEQUAL_PAYLOAD_LENGTHS);
				if (n > ISAKMP_HDR_LEN) {
					b[24] = (uint8_t)(n >> 24); b[25] = (uint8_t)(n >> 16);
					b[26] = (uint8_t)(n >> 8); b[27] = (uint8_t)n;
					notify = parse_msg(b, n, md, why, sizeof(why));
					g_assert_cmpuint(notify, ==, N_PAYLOAD_MALFORMED);
				}
				g_free(b);
			}
		}
		g_free(md);
		g_array_unref(msgs);
	}
}

/* Length fields made wrong: the top-level ones, and inside the SA. */
static void test_flipped_lengths(void)
{
	GArray *msgs = capture_msgs(&captures[2]);
	const struct msg *mm[4];
	g_assert_cmpuint(main_mode_plain(msgs, mm), ==, 4);
	struct msg_digest *md = g_new0(struct msg_digest, 1);
	char why[256];
	for (int i = 0; i < 4; i++) {
		size_t len = mm[i]->len;
		/* walk the payloads: every generic length */
		for (size_t off = ISAKMP_HDR_LEN; off < len;) {
			size_t plen = be16(mm[i]->data + off + 2);
			static const size_t bad[] = { 0, 1, 3 };
			for (size_t k = 0; k < G_N_ELEMENTS(bad) + 2; k++) {
				size_t v = k < G_N_ELEMENTS(bad) ? bad[k] : k == 3 ? len - off + 1 : 0xffff;
				uint8_t *b = g_memdup2(mm[i]->data, len);
				b[off + 2] = (uint8_t)(v >> 8);
				b[off + 3] = (uint8_t)v;
				g_assert_cmpuint(parse_msg(b, len, md, why, sizeof(why)), ==,
						 N_PAYLOAD_MALFORMED);
				g_free(b);
			}
			/* one byte short or long: refused, whatever it then runs into */
			for (int d = -1; d <= 1; d += 2) {
				uint8_t *b = g_memdup2(mm[i]->data, len);
				b[off + 3] = (uint8_t)(plen + d);
				b[off + 2] = (uint8_t)((plen + d) >> 8);
				g_assert_cmpuint(parse_msg(b, len, md, why, sizeof(why)), !=, 0);
				g_free(b);
			}
			off += plen;
		}
	}
	/* MM1's SA: SA at 28, proposal at 28+4+8 = 40, transform at 48 */
	const struct msg *m = mm[0];
	g_assert_cmpuint(m->data[16], ==, PT_SA);
	g_assert_cmpuint(m->data[40], ==, PT_NONE);   /* the only proposal */
	for (size_t field = 40; field <= 48; field += 8) {
		static const int deltas[] = { -1, 1, -100, 100 };
		for (size_t k = 0; k < G_N_ELEMENTS(deltas); k++) {
			uint8_t *b = g_memdup2(m->data, m->len);
			size_t v = be16(b + field + 2) + deltas[k];
			b[field + 2] = (uint8_t)(v >> 8);
			b[field + 3] = (uint8_t)v;
			g_assert_cmpuint(parse_msg(b, m->len, md, why, sizeof(why)), ==,
					 N_BAD_PROPOSAL_SYNTAX);
			g_free(b);
		}
	}
	/* the transform count */
	uint8_t *b = g_memdup2(m->data, m->len);
	b[47] = 2;
	g_assert_cmpuint(parse_msg(b, m->len, md, why, sizeof(why)), ==, N_BAD_PROPOSAL_SYNTAX);
	b[47] = 0;
	g_assert_cmpuint(parse_msg(b, m->len, md, why, sizeof(why)), ==, N_BAD_PROPOSAL_SYNTAX);
	b[47] = 40;
	g_assert_cmpuint(parse_msg(b, m->len, md, why, sizeof(why)), ==, N_BAD_PROPOSAL_SYNTAX);
	g_assert_nonnull(strstr(why, "more than 32"));
	b[47] = 1;
	/* SPI size wrong for ISAKMP, protocol unknown */
	b[46] = 4;
	g_assert_cmpuint(parse_msg(b, m->len, md, why, sizeof(why)), ==, N_INVALID_SPI);
	b[46] = 0;
	b[45] = 9;
	g_assert_cmpuint(parse_msg(b, m->len, md, why, sizeof(why)), ==, N_INVALID_PROTOCOL_ID);
	b[45] = PROTO_ISAKMP;
	/* DOI, situation */
	b[35] = 2;
	g_assert_cmpuint(parse_msg(b, m->len, md, why, sizeof(why)), ==, N_DOI_NOT_SUPPORTED);
	b[35] = 1;
	b[39] = 2;
	g_assert_cmpuint(parse_msg(b, m->len, md, why, sizeof(why)), ==, N_SITUATION_NOT_SUPPORTED);
	b[39] = 1;
	/* the first attribute (at 56) as TLV of 5 bytes / of 200 bytes */
	g_assert_cmpuint(b[56] & 0x80, ==, 0x80);
	b[56] &= 0x7f;
	b[58] = 0; b[59] = 5;
	g_assert_cmpuint(parse_msg(b, m->len, md, why, sizeof(why)), ==, N_ATTRIBUTES_NOT_SUPPORTED);
	b[59] = 200;
	g_assert_cmpuint(parse_msg(b, m->len, md, why, sizeof(why)), ==, N_BAD_PROPOSAL_SYNTAX);
	/* untouched again: parses */
	g_free(b);
	b = g_memdup2(m->data, m->len);
	g_assert_cmpuint(parse_msg(b, m->len, md, why, sizeof(why)), ==, 0);
	msg_digest_release(md);
	g_free(b);
	g_free(md);
	g_array_unref(msgs);
}

/* Every byte of every MM1-MM4 inverted: accepted or refused with a
 * notification and a reason, never a crash (ASan watches). */
static void test_garbled(void)
{
	struct msg_digest *md = g_new0(struct msg_digest, 1);
	char why[256];
	size_t refused = 0;
	for (size_t c = 0; c < G_N_ELEMENTS(captures); c++) {
		GArray *msgs = capture_msgs(&captures[c]);
		const struct msg *mm[4];
		g_assert_cmpuint(main_mode_plain(msgs, mm), ==, 4);
		for (int i = 0; i < 4; i++)
			for (size_t k = 0; k < mm[i]->len; k++) {
				uint8_t *b = g_memdup2(mm[i]->data, mm[i]->len);
				b[k] ^= 0xff;
				if (parse_msg(b, mm[i]->len, md, why, sizeof(why)))
					refused++;
				else
					msg_digest_release(md);
				g_free(b);
			}
		g_array_unref(msgs);
	}
	g_assert_cmpuint(refused, >, 0);
	g_free(md);
}

/* --- round trips --- */

static void fill(uint8_t *b, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 7);
}

static struct sa_payload *sample_sa(void)
{
	struct sa_payload *sa = g_new0(struct sa_payload, 1);
	sa->doi = ISAKMP_DOI_IPSEC;
	sa->situation = SIT_IDENTITY_ONLY;
	/* proposal 1: ESP with two transforms AND IPCOMP; proposal 2: AH */
	struct sa_proposal *p = &sa->proposals[0];
	p->number = 1; p->protocol = PROTO_IPSEC_ESP; p->spi_size = 4;
	memcpy(p->spi, "\x12\x34\x56\x78", 4);
	p->n_transforms = 2;
	p->transforms[0] = (struct sa_transform){ .number = 1, .id = 12, .n_attrs = 6, .attrs = {
		{ IPSEC_KEY_LENGTH, 256 }, { IPSEC_AUTH_ALGORITHM, 2 },
		{ IPSEC_ENCAPSULATION_MODE, ENCAP_UDP_TUNNEL }, { IPSEC_SA_LIFE_TYPE, SA_LIFE_SECONDS },
		{ IPSEC_SA_LIFE_DURATION, 86400 }, { IPSEC_GROUP_DESCRIPTION, 14 } } };
	p->transforms[1] = (struct sa_transform){ .number = 2, .id = 3, .n_attrs = 5, .attrs = {
		{ IPSEC_SA_LIFE_TYPE, SA_LIFE_SECONDS }, { IPSEC_SA_LIFE_DURATION, 0xffff },
		{ IPSEC_SA_LIFE_TYPE, SA_LIFE_KILOBYTES }, { IPSEC_SA_LIFE_DURATION, 0x10000 },
		{ IPSEC_AUTH_ALGORITHM, 1 } } };
	p = &sa->proposals[1];
	p->number = 1; p->protocol = PROTO_IPCOMP; p->spi_size = 2;
	memcpy(p->spi, "\xab\xcd", 2);
	p->n_transforms = 1;
	p->transforms[0] = (struct sa_transform){ .number = 1, .id = IPCOMP_DEFLATE, .n_attrs = 1,
		.attrs = { { IPSEC_ENCAPSULATION_MODE, ENCAP_TUNNEL } } };
	p = &sa->proposals[2];
	p->number = 2; p->protocol = PROTO_IPSEC_AH; p->spi_size = 4;
	memcpy(p->spi, "\x00\x00\x01\x00", 4);
	p->n_transforms = 1;
	p->transforms[0] = (struct sa_transform){ .number = 1, .id = AH_SHA2_256, .n_attrs = 2,
		.attrs = { { IPSEC_AUTH_ALGORITHM, 5 }, { IPSEC_SA_LIFE_DURATION, 95040 } } };
	sa->n_proposals = 3;
	return sa;
}

static void test_roundtrip_sa(void)
{
	struct sa_payload *sa = sample_sa();
	struct pbuf pb;
	pbuf_init(&pb);
	struct isakmp_hdr hdr = { .icookie = "\1\2\3\4\5\6\7\x8", .version = ISAKMP_VERSION,
				  .xchg = XCHG_QUICK, .msgid = 0xdeadbeef };
	emit_hdr(&pb, &hdr);
	size_t at = emit_sa(&pb, sa);
	g_assert_cmpuint(at, ==, ISAKMP_HDR_LEN);
	size_t len = pbuf_finish(&pb);
	g_assert_cmpuint(len, ==, pb.len);
	g_assert_cmpuint(pb.data[16], ==, PT_SA);
	/* 86400 as TLV: type 2 without AF, length 4, value 0x00015180 */
	static const uint8_t tlv[] = { 0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x51, 0x80 };
	g_assert_nonnull(memmem(pb.data, len, tlv, sizeof(tlv)));
	/* 0xffff stays TV */
	static const uint8_t tv[] = { 0x80, 0x02, 0xff, 0xff };
	g_assert_nonnull(memmem(pb.data, len, tv, sizeof(tv)));
	/* proposal chaining: first proposal's np = P, the last's = 0 */
	size_t p1 = ISAKMP_HDR_LEN + 4 + 8;
	g_assert_cmpuint(pb.data[p1], ==, PT_P);
	g_assert_cmpuint(pb.data[p1 + 8 + 4], ==, PT_T);   /* transform 1 of 2 */

	struct msg_digest *md = g_new0(struct msg_digest, 1);
	char why[256];
	unsigned notify = parse_msg(pb.data, len, md, why, sizeof(why));
	if (notify)
		g_error("%s: %s", notify_type_name(notify), why);
	g_assert_cmpuint(md->hdr.msgid, ==, 0xdeadbeef);
	g_assert_cmpuint(md->hdr.xchg, ==, XCHG_QUICK);
	assert_same_sa(md_first(md, PT_SA)->sa, sa);
	struct pbuf again;
	size_t n2 = reemit(md, &again);
	g_assert_cmpmem(again.data, n2, pb.data, len);
	pbuf_free(&again);
	msg_digest_release(md);
	g_free(md);
	pbuf_free(&pb);
	g_free(sa);
}

static void test_roundtrip_payloads(void)
{
	uint8_t ke[256], nonce[32], hash[20], sig[128], cert[300], vid[16], natd[20], spi16[16];
	uint8_t spis[8], ndata[4];
	fill(ke, sizeof(ke), 1); fill(nonce, sizeof(nonce), 2); fill(hash, sizeof(hash), 3);
	fill(sig, sizeof(sig), 4); fill(cert, sizeof(cert), 5); fill(vid, sizeof(vid), 6);
	fill(natd, sizeof(natd), 7); fill(spi16, sizeof(spi16), 8); fill(spis, sizeof(spis), 9);
	fill(ndata, sizeof(ndata), 10);
	const uint8_t ip[4] = { 192, 0, 2, 1 };
	struct pbuf pb;
	pbuf_init(&pb);
	struct isakmp_hdr hdr = { .icookie = "abcdefgh", .rcookie = "ijklmnop",
				  .xchg = XCHG_INFO, .flags = 0, .msgid = 7 };
	emit_hdr(&pb, &hdr);
	size_t offs[16];
	int n = 0;
	offs[n++] = emit_ke(&pb, ke, sizeof(ke));
	offs[n++] = emit_nonce(&pb, nonce, sizeof(nonce));
	offs[n++] = emit_id(&pb, ID_TYPE_IPV4_ADDR_SUBNET, 17, 500, ip, sizeof(ip));
	offs[n++] = emit_hash(&pb, hash, sizeof(hash));
	offs[n++] = emit_sig(&pb, sig, sizeof(sig));
	offs[n++] = emit_cert(&pb, PT_CERT, 4, cert, sizeof(cert));
	offs[n++] = emit_cert(&pb, PT_CR, 4, NULL, 0);
	offs[n++] = emit_vid(&pb, vid, sizeof(vid));
	offs[n++] = emit_natd(&pb, natd, sizeof(natd));
	offs[n++] = emit_natoa(&pb, ID_TYPE_IPV4_ADDR, ip, sizeof(ip));
	offs[n++] = emit_notify(&pb, ISAKMP_DOI_IPSEC, PROTO_ISAKMP, N_R_U_THERE, spi16, 16,
				ndata, sizeof(ndata));
	offs[n++] = emit_notify(&pb, ISAKMP_DOI_IPSEC, PROTO_IPSEC_ESP, N_INITIAL_CONTACT, NULL, 0,
				NULL, 0);
	offs[n++] = emit_delete(&pb, ISAKMP_DOI_IPSEC, PROTO_IPSEC_ESP, 4, spis, 2);
	size_t len = pbuf_finish(&pb);
	g_assert_cmpuint(len, >, 0);
	g_assert_cmpuint(offs[0], ==, ISAKMP_HDR_LEN);
	/* header length field, big-endian */
	g_assert_cmpuint((size_t)pb.data[24] << 24 | pb.data[25] << 16 | pb.data[26] << 8 | pb.data[27], ==, len);

	struct msg_digest *md = g_new0(struct msg_digest, 1);
	char why[256];
	unsigned notify = parse_msg(pb.data, len, md, why, sizeof(why));
	if (notify)
		g_error("%s: %s", notify_type_name(notify), why);
	g_assert_cmpuint(md->n_payloads, ==, (size_t)n);
	for (int i = 0; i < n; i++)
		g_assert_true(md->payloads[i].raw == pb.data + offs[i]);
	const struct payload *p;
	p = md_first(md, PT_KE); g_assert_cmpmem(p->data, p->data_len, ke, sizeof(ke));
	p = md_first(md, PT_NONCE); g_assert_cmpmem(p->data, p->data_len, nonce, sizeof(nonce));
	p = md_first(md, PT_ID);
	g_assert_cmpuint(p->u.id.id_type, ==, ID_TYPE_IPV4_ADDR_SUBNET);
	g_assert_cmpuint(p->u.id.protocol, ==, 17);
	g_assert_cmpuint(p->u.id.port, ==, 500);
	g_assert_cmpmem(p->data, p->data_len, ip, sizeof(ip));
	p = md_first(md, PT_HASH); g_assert_cmpmem(p->data, p->data_len, hash, sizeof(hash));
	p = md_first(md, PT_SIG); g_assert_cmpmem(p->data, p->data_len, sig, sizeof(sig));
	p = md_first(md, PT_CERT);
	g_assert_cmpuint(p->u.cert.encoding, ==, 4);
	g_assert_cmpmem(p->data, p->data_len, cert, sizeof(cert));
	p = md_first(md, PT_CR);
	g_assert_cmpuint(p->u.cert.encoding, ==, 4);
	g_assert_cmpuint(p->data_len, ==, 0);
	p = md_first(md, PT_VID); g_assert_cmpmem(p->data, p->data_len, vid, sizeof(vid));
	p = md_first(md, PT_NATD); g_assert_cmpmem(p->data, p->data_len, natd, sizeof(natd));
	p = md_first(md, PT_NATOA);
	g_assert_cmpuint(p->u.natoa.id_type, ==, ID_TYPE_IPV4_ADDR);
	g_assert_cmpmem(p->data, p->data_len, ip, sizeof(ip));
	g_assert_cmpuint(md_count(md, PT_N), ==, 2);
	p = md_first(md, PT_N);
	g_assert_cmpuint(p->u.n.doi, ==, ISAKMP_DOI_IPSEC);
	g_assert_cmpuint(p->u.n.protocol, ==, PROTO_ISAKMP);
	g_assert_cmpuint(p->u.n.type, ==, N_R_U_THERE);
	g_assert_cmpmem(p->u.n.spi, p->u.n.spi_size, spi16, 16);
	g_assert_cmpmem(p->data, p->data_len, ndata, sizeof(ndata));
	p = &md->payloads[11];
	g_assert_cmpuint(p->u.n.type, ==, N_INITIAL_CONTACT);
	g_assert_cmpuint(p->u.n.spi_size, ==, 0);
	g_assert_cmpuint(p->data_len, ==, 0);
	p = md_first(md, PT_D);
	g_assert_cmpuint(p->u.d.protocol, ==, PROTO_IPSEC_ESP);
	g_assert_cmpuint(p->u.d.spi_size, ==, 4);
	g_assert_cmpuint(p->u.d.n_spis, ==, 2);
	g_assert_cmpmem(p->u.d.spis, 8, spis, 8);
	g_assert_null(md_first(md, PT_SA));

	struct pbuf again;
	size_t n2 = reemit(md, &again);
	g_assert_cmpmem(again.data, n2, pb.data, len);
	pbuf_free(&again);
	msg_digest_release(md);

	/* as an encrypted body: padding after the last payload is allowed
	 * only when the caller says so */
	uint8_t *padded = g_malloc0(len + 7);
	memcpy(padded, pb.data, len);
	g_assert_cmpint(payloads_parse(md, pb.data[16], padded + ISAKMP_HDR_LEN,
				       len + 7 - ISAKMP_HDR_LEN, true, &notify, why, sizeof(why)), ==, 0);
	msg_digest_release(md);
	g_assert_cmpint(payloads_parse(md, pb.data[16], padded + ISAKMP_HDR_LEN,
				       len + 7 - ISAKMP_HDR_LEN, false, &notify, why, sizeof(why)), ==, -1);
	g_assert_cmpuint(notify, ==, N_PAYLOAD_MALFORMED);
	g_free(padded);
	g_free(md);
	pbuf_free(&pb);
}

/* --- header and chain policy --- */

static uint8_t *small_msg(size_t *len)
{
	struct pbuf pb;
	pbuf_init(&pb);
	struct isakmp_hdr hdr = { .icookie = "abcdefgh", .xchg = XCHG_IDPROT };
	emit_hdr(&pb, &hdr);
	uint8_t v[8] = { 0 };
	emit_vid(&pb, v, sizeof(v));
	*len = pbuf_finish(&pb);
	return pb.data;
}

static void test_header(void)
{
	size_t len;
	uint8_t *m = small_msg(&len);
	struct isakmp_hdr hdr;
	unsigned notify;
	char why[256];
	g_assert_cmpint(isakmp_hdr_check(m, len, &hdr, &notify, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(hdr.version, ==, 0x10);
	g_assert_cmpuint(hdr.np, ==, PT_VID);
	g_assert_cmpuint(hdr.length, ==, len);
	struct { size_t off; uint8_t value; unsigned notify; const char *why; } cases[] = {
		{ 17, 0x20, N_INVALID_MAJOR_VERSION, "major version 2" },   /* IKEv2 */
		{ 17, 0x00, N_INVALID_MAJOR_VERSION, "major version 0" },
		{ 17, 0x11, N_INVALID_MINOR_VERSION, "minor version 1" },
		{ 18, 0, N_INVALID_EXCHANGE_TYPE, "exchange type 0" },
		{ 18, 34, N_INVALID_EXCHANGE_TYPE, "exchange type 34" },
		{ 18, 240, N_INVALID_EXCHANGE_TYPE, "exchange type 240" },
		{ 19, 0x08, N_INVALID_FLAGS, "0x08" },
		{ 27, 0xff, N_UNEQUAL_PAYLOAD_LENGTHS, "arrived" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint8_t *b = g_memdup2(m, len);
		b[cases[i].off] = cases[i].value;
		g_assert_cmpint(isakmp_hdr_check(b, len, &hdr, &notify, why, sizeof(why)), ==, -1);
		g_assert_cmpuint(notify, ==, cases[i].notify);
		if (!strstr(why, cases[i].why))
			g_error("case %zu: \"%s\" does not mention \"%s\"", i, why, cases[i].why);
		g_assert_cmpint(isakmp_hdr_parse(b, len, &hdr, why, sizeof(why)), ==, -1);
		g_free(b);
	}
	/* every exchange pluto knows passes */
	static const uint8_t known[] = { 1, 2, 3, 4, 5, 32, 33 };
	for (size_t i = 0; i < sizeof(known); i++) {
		m[18] = known[i];
		g_assert_cmpint(isakmp_hdr_check(m, len, &hdr, &notify, why, sizeof(why)), ==, 0);
	}
	memset(m, 0, 8);
	g_assert_cmpint(isakmp_hdr_check(m, len, &hdr, &notify, why, sizeof(why)), ==, -1);
	g_assert_cmpuint(notify, ==, N_INVALID_COOKIE);
	g_assert_cmpint(isakmp_hdr_check(m, 27, &hdr, &notify, why, sizeof(why)), ==, -1);
	g_assert_cmpuint(notify, ==, N_PAYLOAD_MALFORMED);
	free(m);
	g_assert_cmpstr(exchange_name(XCHG_IDPROT), ==, "Main Mode");
	g_assert_cmpstr(payload_type_name(PT_NATD), ==, "NAT-D");
	g_assert_cmpstr(payload_type_name(200), ==, "private use");
	g_assert_cmpstr(notify_type_name(N_R_U_THERE_ACK), ==, "R_U_THERE_ACK");
	g_assert_cmpstr(notify_type_name(31), ==, "unknown");
}

/* A body with payloads written by hand: type, length, data bytes. */
static size_t raw_chain(uint8_t *out, const uint8_t *types, size_t n, size_t data_len)
{
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		out[off] = i + 1 < n ? types[i + 1] : 0;
		out[off + 1] = 0;
		out[off + 2] = 0;
		out[off + 3] = (uint8_t)(4 + data_len);
		memset(out + off + 4, 0x55, data_len);
		off += 4 + data_len;
	}
	return off;
}

static void test_chain_policy(void)
{
	struct msg_digest *md = g_new0(struct msg_digest, 1);
	uint8_t body[4096];
	unsigned notify;
	char why[256];
	/* a private-use payload between two VIDs is skipped but recorded */
	const uint8_t t1[] = { PT_VID, 130, PT_VID };
	size_t n = raw_chain(body, t1, 3, 8);
	g_assert_cmpint(payloads_parse(md, PT_VID, body, n, false, &notify, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(md->n_payloads, ==, 3);
	g_assert_cmpuint(md_count(md, 130), ==, 1);
	g_assert_cmpuint(md_count(md, PT_VID), ==, 2);
	msg_digest_release(md);
	/* unknown below 128: refused; P and T outside an SA too */
	static const uint8_t refused[] = { 15, 19, 22, 50, 127, PT_P, PT_T };   /* 14 is ATTR now */
	for (size_t i = 0; i < sizeof(refused); i++) {
		const uint8_t t2[] = { PT_VID, refused[i] };
		n = raw_chain(body, t2, 2, 8);
		g_assert_cmpint(payloads_parse(md, PT_VID, body, n, false, &notify, why, sizeof(why)), ==, -1);
		g_assert_cmpuint(notify, ==, N_INVALID_PAYLOAD_TYPE);
		g_assert_cmpuint(md->n_payloads, ==, 0);
	}
	/* ISAKMP_MAX_PAYLOADS */
	uint8_t many[ISAKMP_MAX_PAYLOADS + 1];
	memset(many, PT_VID, sizeof(many));
	n = raw_chain(body, many, ISAKMP_MAX_PAYLOADS, 4);
	g_assert_cmpint(payloads_parse(md, PT_VID, body, n, false, &notify, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(md->n_payloads, ==, ISAKMP_MAX_PAYLOADS);
	msg_digest_release(md);
	n = raw_chain(body, many, ISAKMP_MAX_PAYLOADS + 1, 4);
	g_assert_cmpint(payloads_parse(md, PT_VID, body, n, false, &notify, why, sizeof(why)), ==, -1);
	g_assert_cmpuint(notify, ==, N_PAYLOAD_MALFORMED);
	g_assert_nonnull(strstr(why, "more than 32"));
	/* nonce bounds (RFC 2409: 8 to 256 bytes) */
	const uint8_t t3[] = { PT_NONCE };
	n = raw_chain(body, t3, 1, 7);
	g_assert_cmpint(payloads_parse(md, PT_NONCE, body, n, false, &notify, why, sizeof(why)), ==, -1);
	g_assert_cmpuint(notify, ==, N_PAYLOAD_MALFORMED);
	/* a notification whose SPI size runs past the payload */
	const uint8_t t4[] = { PT_N };
	n = raw_chain(body, t4, 1, 8);
	body[4 + 5] = 16;
	g_assert_cmpint(payloads_parse(md, PT_N, body, n, false, &notify, why, sizeof(why)), ==, -1);
	g_assert_cmpuint(notify, ==, N_PAYLOAD_MALFORMED);
	/* a delete whose SPIs do not fill it */
	const uint8_t t5[] = { PT_D };
	n = raw_chain(body, t5, 1, 8 + 4);
	body[4 + 5] = 4;           /* SPI size */
	body[4 + 6] = 0; body[4 + 7] = 2;
	g_assert_cmpint(payloads_parse(md, PT_D, body, n, false, &notify, why, sizeof(why)), ==, -1);
	g_assert_cmpuint(notify, ==, N_PAYLOAD_MALFORMED);
	body[4 + 7] = 1;
	g_assert_cmpint(payloads_parse(md, PT_D, body, n, false, &notify, why, sizeof(why)), ==, 0);
	msg_digest_release(md);
	g_free(md);
}

/* SA limits: proposals, attributes. */
static void test_sa_limits(void)
{
	struct sa_payload *sa = sample_sa();
	struct msg_digest *md = g_new0(struct msg_digest, 1);
	unsigned notify;
	char why[256];
	struct pbuf pb;
	/* SA_PROPOSALS_MAX proposals parse; one more is refused (built by
	 * emitting a full SA and splicing a copy of its last proposal) */
	sa->n_proposals = SA_PROPOSALS_MAX;
	for (size_t i = 3; i < SA_PROPOSALS_MAX; i++) {
		sa->proposals[i] = sa->proposals[2];
		sa->proposals[i].number = (uint8_t)(i + 1);
	}
	pbuf_init(&pb);
	emit_sa(&pb, sa);
	pbuf_finish(&pb);
	if (payloads_parse(md, PT_SA, pb.data, pb.len, false, &notify, why, sizeof(why)) < 0)
		g_error("%s", why);
	g_assert_cmpuint(md_first(md, PT_SA)->sa->n_proposals, ==, SA_PROPOSALS_MAX);
	msg_digest_release(md);
	/* find the last proposal: walk the chain */
	size_t off = 4 + 8, last = 0;
	while (off < pb.len) {
		last = off;
		off += (size_t)pb.data[off + 2] << 8 | pb.data[off + 3];
	}
	size_t plen = pb.len - last;
	uint8_t *big = g_malloc(pb.len + plen);
	memcpy(big, pb.data, pb.len);
	memcpy(big + pb.len, pb.data + last, plen);
	big[last] = PT_P;
	size_t total = pb.len + plen;
	big[2] = (uint8_t)(total >> 8);
	big[3] = (uint8_t)total;
	g_assert_cmpint(payloads_parse(md, PT_SA, big, total, false, &notify, why, sizeof(why)), ==, -1);
	g_assert_cmpuint(notify, ==, N_BAD_PROPOSAL_SYNTAX);
	g_assert_nonnull(strstr(why, "more than 8 proposals"));
	g_free(big);
	pbuf_free(&pb);

	/* SA_ATTRS_MAX attributes, TV and TLV mixed, parse back the same */
	sa->n_proposals = 1;
	struct sa_transform *t = &sa->proposals[0].transforms[0];
	t->n_attrs = SA_ATTRS_MAX;
	for (size_t i = 0; i < SA_ATTRS_MAX; i++)
		t->attrs[i] = (struct sa_attr){ IPSEC_SA_LIFE_DURATION, (uint32_t)(i * 50000) };
	pbuf_init(&pb);
	emit_sa(&pb, sa);
	pbuf_finish(&pb);
	if (payloads_parse(md, PT_SA, pb.data, pb.len, false, &notify, why, sizeof(why)) < 0)
		g_error("%s", why);
	assert_same_sa(md_first(md, PT_SA)->sa, sa);
	msg_digest_release(md);
	pbuf_free(&pb);
	g_free(md);
	g_free(sa);
}

/* --- the debug dump --- */

static GPtrArray *lines;

static void capture_line(int priority, const char *line, void *ud)
{
	(void)priority;
	(void)ud;
	g_ptr_array_add(lines, g_strdup(line));
}

static bool logged(const char *needle)
{
	for (size_t i = 0; i < lines->len; i++)
		if (strstr(g_ptr_array_index(lines, i), needle))
			return true;
	return false;
}

static void test_dump(void)
{
	lines = g_ptr_array_new_with_free_func(g_free);
	log_set_hook(capture_line, NULL);
	GArray *msgs = capture_msgs(&captures[2]);
	const struct msg *mm[4];
	g_assert_cmpuint(main_mode_plain(msgs, mm), ==, 4);

	/* off: nothing */
	debug_global = 0;
	packet_dump(NULL, "received", mm[0]->data, mm[0]->len, false);
	g_assert_cmpuint(lines->len, ==, 0);

	debug_global = DBG_PARSING;
	packet_dump(NULL, "received", mm[0]->data, mm[0]->len, false);
	g_assert_true(logged("| received: 180 bytes"));
	g_assert_true(logged("initiator cookie: 3914f44a048b58f4"));
	g_assert_true(logged("exchange type: Main Mode (2)"));
	g_assert_true(logged("Proposal Payload"));
	g_assert_true(logged("number of transforms: 1"));
	g_assert_true(logged("attribute Encryption-Algorithm (1), TV: 7 (AES-CBC)"));
	g_assert_true(logged("attribute Life-Duration (12), TV: 15840"));
	g_assert_true(logged("Vendor ID Payload"));
	g_assert_true(logged("vendor ID: 16 bytes"));
	g_assert_false(logged("malformed"));
	g_ptr_array_set_size(lines, 0);
	packet_dump(NULL, "received", mm[2]->data, mm[2]->len, false);
	g_assert_true(logged("NAT-D Payload"));
	g_assert_true(logged("key exchange data: 256 bytes"));
	/* garbled: the dump names what is wrong and stops */
	uint8_t *b = g_memdup2(mm[0]->data, mm[0]->len);
	b[48 + 3] = 0xff;
	g_ptr_array_set_size(lines, 0);
	packet_dump(NULL, "received", b, mm[0]->len, false);
	g_assert_true(logged("malformed"));
	g_free(b);
	g_ptr_array_set_size(lines, 0);
	packet_dump(NULL, "received", mm[0]->data, mm[0]->len, true);
	g_assert_true(logged("encrypted body: 152 bytes"));
	g_assert_false(logged("Vendor ID Payload"));

	/* emitting */
	g_ptr_array_set_size(lines, 0);
	debug_global = DBG_EMITTING;
	struct sa_payload *sa = sample_sa();
	struct pbuf pb;
	pbuf_init(&pb);
	struct isakmp_hdr hdr = { .icookie = "abcdefgh", .xchg = XCHG_QUICK };
	emit_hdr(&pb, &hdr);
	emit_sa(&pb, sa);
	emit_notify(&pb, 1, PROTO_ISAKMP, N_INITIAL_CONTACT, NULL, 0, NULL, 0);
	pbuf_finish(&pb);
	g_assert_true(logged("emitting SA payload"));
	g_assert_true(logged("Transform Payload"));
	g_assert_true(logged("attribute SA-Life-Duration (2), TLV: 86400"));
	g_assert_true(logged("notify message type: INITIAL_CONTACT (24578)"));
	g_assert_true(logged("emitting length of ISAKMP message"));
	pbuf_free(&pb);
	g_free(sa);

	debug_global = 0;
	log_set_hook(NULL, NULL);
	g_ptr_array_unref(lines);
	g_array_unref(msgs);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	log_init(LOG_TO_STDERR, "test-packet");
	g_test_add_func("/packet/header", test_header);
	g_test_add_func("/packet/chain-policy", test_chain_policy);
	g_test_add_func("/packet/roundtrip-payloads", test_roundtrip_payloads);
	g_test_add_func("/packet/roundtrip-sa", test_roundtrip_sa);
	g_test_add_func("/packet/sa-limits", test_sa_limits);
	g_test_add_func("/packet/captures", test_captures);
	g_test_add_func("/packet/truncations", test_truncations);
	g_test_add_func("/packet/flipped-lengths", test_flipped_lengths);
	g_test_add_func("/packet/garbled", test_garbled);
	g_test_add_func("/packet/dump", test_dump);
	return g_test_run();
}
