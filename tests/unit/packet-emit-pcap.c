/* Writes messages built with packet.c's emit_* into a pcap (Ethernet,
 * IPv4, UDP 500), so tests/integration/tshark-packets.sh can check that
 * an independent decoder (Wireshark's) reads them without complaint.
 * Usage: packet-emit-pcap FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/wire/packet.h"

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static uint16_t ip_checksum(const uint8_t *h, size_t n)
{
	uint32_t sum = 0;
	for (size_t i = 0; i < n; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void write_frame(FILE *f, unsigned seq, const uint8_t *msg, size_t len, bool reply)
{
	uint8_t hdr[14 + 20 + 8] = { 0 };
	memcpy(hdr, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);   /* MACs, IPv4 */
	uint8_t *ip = hdr + 14, *udp = ip + 20;
	ip[0] = 0x45;
	put16(ip + 2, (unsigned)(20 + 8 + len));
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, reply ? "\xc0\0\x02\x02" : "\xc0\0\x02\x01", 4);   /* 192.0.2.1 <-> .2 */
	memcpy(ip + 16, reply ? "\xc0\0\x02\x01" : "\xc0\0\x02\x02", 4);
	put16(ip + 10, ip_checksum(ip, 20));
	put16(udp, 500);
	put16(udp + 2, 500);
	put16(udp + 4, (unsigned)(8 + len));     /* checksum 0: none (IPv4) */
	uint32_t rec[4] = { 1800000000u + seq, 0, (uint32_t)(sizeof(hdr) + len),
			    (uint32_t)(sizeof(hdr) + len) };
	fwrite(rec, sizeof(rec), 1, f);
	fwrite(hdr, sizeof(hdr), 1, f);
	fwrite(msg, len, 1, f);
}

static void fill(uint8_t *b, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 13);
}

static struct isakmp_hdr hdr_for(uint8_t xchg, uint32_t msgid)
{
	struct isakmp_hdr h = { .icookie = "\x11\x22\x33\x44\x55\x66\x77\x88",
				.rcookie = "\x99\xaa\xbb\xcc\xdd\xee\xff\x01",
				.version = ISAKMP_VERSION, .xchg = xchg, .msgid = msgid };
	return h;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE.pcap\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "wb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };   /* pcap, Ethernet */
	fwrite(gh, sizeof(gh), 1, f);

	uint8_t ke[256], nonce[32], hash[20], natd[20], spi16[16], spis[8];
	fill(ke, sizeof(ke), 1); fill(nonce, sizeof(nonce), 2); fill(hash, sizeof(hash), 3);
	fill(natd, sizeof(natd), 4); fill(spi16, sizeof(spi16), 5); fill(spis, sizeof(spis), 6);
	const uint8_t dpd_vid[] = { 0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9,
				    0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00 };
	const uint8_t ip1[4] = { 192, 0, 2, 1 }, subnet[8] = { 198, 51, 100, 0, 255, 255, 255, 0 };
	unsigned seq = 0;
	struct pbuf pb;
	struct isakmp_hdr h;

	/* MM1: two ISAKMP transforms, TLV and TV lifetimes */
	struct sa_payload *sa = calloc(1, sizeof(*sa));
	if (!sa)
		return 1;
	sa->doi = ISAKMP_DOI_IPSEC;
	sa->situation = SIT_IDENTITY_ONLY;
	sa->n_proposals = 1;
	sa->proposals[0] = (struct sa_proposal){ .number = 1, .protocol = PROTO_ISAKMP,
		.n_transforms = 2 };
	sa->proposals[0].transforms[0] = (struct sa_transform){ .number = 1, .id = KEY_IKE,
		.n_attrs = 7, .attrs = { { OAKLEY_ENCRYPTION_ALGORITHM, 7 },
		{ OAKLEY_KEY_LENGTH, 128 }, { OAKLEY_HASH_ALGORITHM, 2 },
		{ OAKLEY_GROUP_DESCRIPTION, 14 }, { OAKLEY_AUTHENTICATION_METHOD, 1 },
		{ OAKLEY_LIFE_TYPE, 1 }, { OAKLEY_LIFE_DURATION, 86400 } } };
	sa->proposals[0].transforms[1] = (struct sa_transform){ .number = 2, .id = KEY_IKE,
		.n_attrs = 6, .attrs = { { OAKLEY_ENCRYPTION_ALGORITHM, 5 },
		{ OAKLEY_HASH_ALGORITHM, 2 }, { OAKLEY_GROUP_DESCRIPTION, 5 },
		{ OAKLEY_AUTHENTICATION_METHOD, 3 }, { OAKLEY_LIFE_TYPE, 1 },
		{ OAKLEY_LIFE_DURATION, 3600 } } };
	h = hdr_for(XCHG_IDPROT, 0);
	memset(h.rcookie, 0, 8);
	pbuf_init(&pb);
	emit_hdr(&pb, &h);
	emit_sa(&pb, sa);
	emit_vid(&pb, dpd_vid, sizeof(dpd_vid));
	emit_vid(&pb, (const uint8_t *)"\x4a\x13\x1c\x81\x07\x03\x58\x45\x5c\x57\x28\xf2\x0e\x95\x45\x2f", 16);
	write_frame(f, seq++, pb.data, pbuf_finish(&pb), false);
	pbuf_free(&pb);

	/* MM3: KE, Ni, NAT-D x2 */
	h = hdr_for(XCHG_IDPROT, 0);
	pbuf_init(&pb);
	emit_hdr(&pb, &h);
	emit_ke(&pb, ke, sizeof(ke));
	emit_nonce(&pb, nonce, sizeof(nonce));
	emit_natd(&pb, natd, sizeof(natd));
	emit_natd(&pb, hash, sizeof(hash));
	write_frame(f, seq++, pb.data, pbuf_finish(&pb), false);
	pbuf_free(&pb);

	/* MM5 contents, unencrypted so the decoder sees them: ID, HASH, N */
	pbuf_init(&pb);
	emit_hdr(&pb, &h);
	emit_id(&pb, ID_TYPE_IPV4_ADDR, 0, 0, ip1, sizeof(ip1));
	emit_hash(&pb, hash, sizeof(hash));
	uint8_t cookies[16];
	memcpy(cookies, h.icookie, 8);
	memcpy(cookies + 8, h.rcookie, 8);
	emit_notify(&pb, ISAKMP_DOI_IPSEC, PROTO_ISAKMP, N_INITIAL_CONTACT, cookies, 16, NULL, 0);
	write_frame(f, seq++, pb.data, pbuf_finish(&pb), false);
	pbuf_free(&pb);

	/* QM1 contents: HASH, SA (ESP + IPCOMP, AH), Ni, KE, IDci, IDcr */
	memset(sa, 0, sizeof(*sa));
	sa->doi = ISAKMP_DOI_IPSEC;
	sa->situation = SIT_IDENTITY_ONLY;
	sa->n_proposals = 3;
	sa->proposals[0] = (struct sa_proposal){ .number = 1, .protocol = PROTO_IPSEC_ESP,
		.spi_size = 4, .spi = { 0xc0, 0xff, 0xee, 0x01 }, .n_transforms = 1 };
	sa->proposals[0].transforms[0] = (struct sa_transform){ .number = 1, .id = 12,
		.n_attrs = 7, .attrs = { { IPSEC_KEY_LENGTH, 128 }, { IPSEC_AUTH_ALGORITHM, 2 },
		{ IPSEC_ENCAPSULATION_MODE, ENCAP_TUNNEL }, { IPSEC_SA_LIFE_TYPE, SA_LIFE_SECONDS },
		{ IPSEC_SA_LIFE_DURATION, 28800 }, { IPSEC_SA_LIFE_TYPE, SA_LIFE_KILOBYTES },
		{ IPSEC_SA_LIFE_DURATION, 4608000 } } };
	sa->proposals[1] = (struct sa_proposal){ .number = 1, .protocol = PROTO_IPCOMP,
		.spi_size = 2, .spi = { 0x12, 0x34 }, .n_transforms = 1 };
	sa->proposals[1].transforms[0] = (struct sa_transform){ .number = 1, .id = IPCOMP_DEFLATE,
		.n_attrs = 1, .attrs = { { IPSEC_ENCAPSULATION_MODE, ENCAP_TUNNEL } } };
	sa->proposals[2] = (struct sa_proposal){ .number = 2, .protocol = PROTO_IPSEC_AH,
		.spi_size = 4, .spi = { 0xc0, 0xff, 0xee, 0x02 }, .n_transforms = 1 };
	sa->proposals[2].transforms[0] = (struct sa_transform){ .number = 1, .id = AH_SHA,
		.n_attrs = 3, .attrs = { { IPSEC_AUTH_ALGORITHM, 2 },
		{ IPSEC_SA_LIFE_TYPE, SA_LIFE_SECONDS }, { IPSEC_SA_LIFE_DURATION, 86400 } } };
	h = hdr_for(XCHG_QUICK, 0x01020304);
	pbuf_init(&pb);
	emit_hdr(&pb, &h);
	emit_hash(&pb, hash, sizeof(hash));
	emit_sa(&pb, sa);
	emit_nonce(&pb, nonce, sizeof(nonce));
	emit_ke(&pb, ke, sizeof(ke));
	emit_id(&pb, ID_TYPE_IPV4_ADDR_SUBNET, 0, 0, subnet, sizeof(subnet));
	emit_id(&pb, ID_TYPE_IPV4_ADDR_SUBNET, 0, 0, subnet, sizeof(subnet));
	write_frame(f, seq++, pb.data, pbuf_finish(&pb), false);
	pbuf_free(&pb);

	/* Informational: R_U_THERE (sequence number) and its ACK */
	for (int ack = 0; ack < 2; ack++) {
		h = hdr_for(XCHG_INFO, 0x0a0b0c0d + (uint32_t)ack);
		pbuf_init(&pb);
		emit_hdr(&pb, &h);
		emit_hash(&pb, hash, sizeof(hash));
		emit_notify(&pb, ISAKMP_DOI_IPSEC, PROTO_ISAKMP, ack ? N_R_U_THERE_ACK : N_R_U_THERE,
			    cookies, 16, (const uint8_t *)"\0\0\x12\x34", 4);
		write_frame(f, seq++, pb.data, pbuf_finish(&pb), ack);
		pbuf_free(&pb);
	}

	/* Informational: Deletes, IPsec SAs then ISAKMP */
	h = hdr_for(XCHG_INFO, 0x05060708);
	pbuf_init(&pb);
	emit_hdr(&pb, &h);
	emit_hash(&pb, hash, sizeof(hash));
	emit_delete(&pb, ISAKMP_DOI_IPSEC, PROTO_IPSEC_ESP, 4, spis, 2);
	emit_delete(&pb, ISAKMP_DOI_IPSEC, PROTO_ISAKMP, 16, cookies, 1);
	write_frame(f, seq++, pb.data, pbuf_finish(&pb), false);
	pbuf_free(&pb);

	/* an unencrypted NO_PROPOSAL_CHOSEN, as sent for a refused MM1 */
	h = hdr_for(XCHG_INFO, 0);
	pbuf_init(&pb);
	emit_hdr(&pb, &h);
	emit_notify(&pb, ISAKMP_DOI_IPSEC, PROTO_ISAKMP, N_NO_PROPOSAL_CHOSEN, NULL, 0, NULL, 0);
	write_frame(f, seq++, pb.data, pbuf_finish(&pb), true);
	pbuf_free(&pb);

	free(sa);
	if (fclose(f) != 0) {
		perror(argv[1]);
		return 1;
	}
	printf("%u messages\n", seq);
	return 0;
}
