/* IV chaining against real peers: for each capture in tests/data/captures
 * whose .keys file gives the initiator cookie and the phase-1 encryption
 * key, take g^xi and g^xr from the Main Mode KE payloads, compute the
 * phase-1 IV, decrypt MM5 and MM6 (each must start with an ID payload
 * chain that ends inside the message), then the phase-2 IV for the first
 * Quick Mode message from the last CBC block of MM6, and decrypt QM1 to
 * HASH followed by SA. Packets are read with a minimal pcap / pcapng
 * reader, and payloads are walked by hand here, independently of the
 * engine's parser. */
#include <glib.h>
#include <string.h>

#include "daemon/crypto/crypto.h"

#define ISAKMP_HDR 28
#define ISAKMP_FLAG_ENCRYPTED 0x01
#define EXCH_MAIN 2
#define EXCH_QUICK 32
#define PT_SA 1
#define PT_KE 4
#define PT_ID 5
#define PT_HASH 8

struct msg {
	uint32_t src;             /* IPv4 source, host order */
	const uint8_t *data;      /* the ISAKMP message */
	size_t len;
};

struct capture {
	GBytes *file;
	GArray *msgs;             /* struct msg, in capture order */
};

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static uint32_t file32(const uint8_t *p, bool swap)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return swap ? GUINT32_SWAP_LE_BE(v) : v;
}

static uint16_t file16(const uint8_t *p, bool swap)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return swap ? GUINT16_SWAP_LE_BE(v) : v;
}

/* One link-layer frame: find IPv4/UDP on port 500 or 4500 and keep the
 * ISAKMP message (after the non-ESP marker on 4500). */
static void add_frame(struct capture *c, unsigned linktype, const uint8_t *f, size_t len)
{
	size_t off;
	uint16_t proto;
	switch (linktype) {
	case 1:    /* Ethernet */
		if (len < 14)
			return;
		proto = get16(f + 12);
		off = 14;
		break;
	case 113:  /* Linux cooked (SLL) */
		if (len < 16)
			return;
		proto = get16(f + 14);
		off = 16;
		break;
	case 276:  /* Linux cooked v2 (SLL2) */
		if (len < 20)
			return;
		proto = get16(f);
		off = 20;
		break;
	case 101:  /* raw IP */
		proto = 0x0800;
		off = 0;
		break;
	default:
		g_error("unsupported link type %u", linktype);
	}
	if (proto != 0x0800 || len < off + 20 || (f[off] >> 4) != 4 || f[off + 9] != 17)
		return;
	size_t ihl = (size_t)(f[off] & 0x0f) * 4;
	if (ihl < 20 || len < off + ihl + 8)
		return;
	uint32_t src = get32(f + off + 12);
	const uint8_t *udp = f + off + ihl;
	uint16_t sport = get16(udp), dport = get16(udp + 2), ulen = get16(udp + 4);
	if (ulen < 8 || off + ihl + ulen > len)
		return;
	const uint8_t *payload = udp + 8;
	size_t plen = ulen - 8u;
	if (sport == 4500 || dport == 4500) {
		/* RFC 3948: IKE on 4500 has four zero bytes first; anything else
		 * is ESP or a one-byte keepalive */
		if (plen < 4 || get32(payload) != 0)
			return;
		payload += 4;
		plen -= 4;
	} else if (sport != 500 && dport != 500) {
		return;
	}
	if (plen < ISAKMP_HDR)
		return;
	struct msg m = { .src = src, .data = payload, .len = plen };
	g_array_append_val(c->msgs, m);
}

static void read_pcapng(struct capture *c, const uint8_t *p, size_t n)
{
	GArray *linktypes = g_array_new(FALSE, FALSE, sizeof(unsigned));
	bool swap = false;
	size_t off = 0;
	while (off + 12 <= n) {
		uint32_t type = file32(p + off, swap);
		if (type == 0x0A0D0D0A) {   /* section header: byte order */
			uint32_t bom;
			memcpy(&bom, p + off + 8, 4);
			g_assert_true(bom == 0x1A2B3C4D || bom == 0x4D3C2B1A);
			swap = bom == 0x4D3C2B1A;
			g_array_set_size(linktypes, 0);
		}
		uint32_t blen = file32(p + off + 4, swap);
		g_assert_cmpuint(blen, >=, 12);
		g_assert_cmpuint(off + blen, <=, n);
		const uint8_t *b = p + off + 8;
		if (type == 1) {            /* interface description */
			unsigned lt = file16(b, swap);
			g_array_append_val(linktypes, lt);
		} else if (type == 6) {     /* enhanced packet */
			uint32_t ifid = file32(b, swap), caplen = file32(b + 12, swap);
			g_assert_cmpuint(ifid, <, linktypes->len);
			g_assert_cmpuint(20 + caplen, <=, blen - 12);
			add_frame(c, g_array_index(linktypes, unsigned, ifid), b + 20, caplen);
		}
		off += blen;
	}
	g_assert_cmpuint(off, ==, n);
	g_array_free(linktypes, TRUE);
}

static void read_pcap(struct capture *c, const uint8_t *p, size_t n)
{
	uint32_t magic;
	memcpy(&magic, p, 4);
	bool swap = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
	unsigned linktype = file32(p + 20, swap) & 0xffff;
	size_t off = 24;
	while (off + 16 <= n) {
		uint32_t caplen = file32(p + off + 8, swap);
		g_assert_cmpuint(off + 16 + caplen, <=, n);
		add_frame(c, linktype, p + off + 16, caplen);
		off += 16 + caplen;
	}
	g_assert_cmpuint(off, ==, n);
}

static void capture_load(struct capture *c, const char *path)
{
	gchar *data;
	gsize n;
	GError *err = NULL;
	if (!g_file_get_contents(path, &data, &n, &err))
		g_error("%s: %s", path, err->message);
	c->file = g_bytes_new_take(data, n);
	c->msgs = g_array_new(FALSE, FALSE, sizeof(struct msg));
	const uint8_t *p = (const uint8_t *)data;
	g_assert_cmpuint(n, >=, 24);
	uint32_t magic;
	memcpy(&magic, p, 4);
	if (magic == 0x0A0D0D0A)
		read_pcapng(c, p, n);
	else if (magic == 0xa1b2c3d4 || magic == 0xd4c3b2a1 || magic == 0xa1b23c4d ||
		 magic == 0x4d3cb2a1)
		read_pcap(c, p, n);
	else
		g_error("%s: neither pcap nor pcapng", path);
}

static void capture_free(struct capture *c)
{
	g_array_free(c->msgs, TRUE);
	g_bytes_unref(c->file);
}

/* --- ISAKMP walking --- */

/* Finds payload `want` in the chain starting with `first` at body[0..len);
 * returns its offset or -1. Every length is checked. */
static long find_payload(uint8_t first, const uint8_t *body, size_t len, uint8_t want)
{
	uint8_t type = first;
	size_t off = 0;
	while (type != 0) {
		g_assert_cmpuint(off + 4, <=, len);
		uint16_t plen = get16(body + off + 2);
		g_assert_cmpuint(plen, >=, 4);
		g_assert_cmpuint(off + plen, <=, len);
		if (type == want)
			return (long)off;
		type = body[off];
		off += plen;
	}
	return -1;
}

/* The chain in a decrypted body: returns where it ends, which must be
 * inside the message; what follows is padding. */
static size_t chain_end(uint8_t first, const uint8_t *body, size_t len, unsigned *count)
{
	uint8_t type = first;
	size_t off = 0;
	*count = 0;
	while (type != 0) {
		g_assert_cmpuint(type, <, 128);
		g_assert_cmpuint(off + 4, <=, len);
		uint16_t plen = get16(body + off + 2);
		g_assert_cmpuint(body[off + 1], ==, 0);     /* RESERVED */
		g_assert_cmpuint(plen, >=, 4);
		g_assert_cmpuint(off + plen, <=, len);
		type = body[off];
		off += plen;
		(*count)++;
	}
	return off;
}

static const struct alg *hash_from_attr(unsigned v)
{
	switch (v) {
	case 1: return alg_by_name(ALG_HASH, "md5");
	case 2: return alg_by_name(ALG_HASH, "sha1");
	case 4: return alg_by_name(ALG_HASH, "sha2_256");
	case 5: return alg_by_name(ALG_HASH, "sha2_384");
	case 6: return alg_by_name(ALG_HASH, "sha2_512");
	default: g_error("hash attribute %u", v);
	}
}

/* The responder's chosen transform in MM2: the one transform of its one
 * proposal (RFC 2409: OAKLEY attributes 1 = encryption, 2 = hash,
 * 4 = group, 14 = key length). */
static void chosen_transform(const struct msg *mm2, const struct alg **cipher,
			     unsigned *key_bits, const struct alg **hash, unsigned *group)
{
	const uint8_t *body = mm2->data + ISAKMP_HDR;
	size_t len = mm2->len - ISAKMP_HDR;
	long sa = find_payload(mm2->data[16], body, len, PT_SA);
	g_assert_cmpint(sa, >=, 0);
	const uint8_t *p = body + sa;
	size_t sa_len = get16(p + 2);
	g_assert_cmpuint(get32(p + 4), ==, 1);                 /* IPsec DOI */
	size_t off = 12;                                      /* proposal */
	g_assert_cmpuint(off + 8, <=, sa_len);
	g_assert_cmpuint(p[off + 7], ==, 1);                  /* one transform */
	off += 8 + p[off + 6];                                /* SPI size */
	g_assert_cmpuint(off + 8, <=, sa_len);
	size_t t_end = off + get16(p + off + 2);
	g_assert_cmpuint(t_end, <=, sa_len);
	*cipher = NULL;
	*hash = NULL;
	*key_bits = 0;
	*group = 0;
	unsigned enc = 0;
	for (off += 8; off + 4 <= t_end;) {
		uint16_t type = get16(p + off) & 0x7fff;
		bool tv = get16(p + off) & 0x8000;
		unsigned val = get16(p + off + 2);
		size_t next = off + 4 + (tv ? 0 : val);
		g_assert_cmpuint(next, <=, t_end);
		if (!tv)
			val = 0;   /* life duration and the like; not needed */
		switch (type) {
		case 1: enc = val; break;
		case 2: *hash = hash_from_attr(val); break;
		case 4: *group = val; break;
		case 14: *key_bits = val; break;
		}
		off = next;
	}
	if (enc == 5)
		*cipher = alg_by_name(ALG_CIPHER, "3des");
	else if (enc == 7)
		*cipher = alg_by_name(ALG_CIPHER, *key_bits == 256 ? "aes256" :
					  *key_bits == 192 ? "aes192" : "aes128");
	g_assert_nonnull(*cipher);
	g_assert_nonnull(*hash);
}

static const struct msg *find_msg(struct capture *c, const uint8_t icookie[8], uint8_t exch,
				  bool encrypted, int from_initiator, uint32_t initiator,
				  uint8_t with_payload)
{
	for (guint i = 0; i < c->msgs->len; i++) {
		const struct msg *m = &g_array_index(c->msgs, struct msg, i);
		if (memcmp(m->data, icookie, 8) != 0 || m->data[18] != exch ||
		    !!(m->data[19] & ISAKMP_FLAG_ENCRYPTED) != encrypted)
			continue;
		if (from_initiator >= 0 && (m->src == initiator) != (from_initiator == 1))
			continue;
		if (with_payload && find_payload(m->data[16], m->data + ISAKMP_HDR,
						 m->len - ISAKMP_HDR, with_payload) < 0)
			continue;
		return m;
	}
	return NULL;
}

/* Decrypts the body of an encrypted message into a copy, chaining iv. */
static uint8_t *decrypt_body(const struct msg *m, const struct alg *cipher, const uint8_t *key,
			     size_t key_len, uint8_t *iv, size_t *len)
{
	uint32_t total = get32(m->data + 24);
	g_assert_cmpuint(total, <=, m->len);
	g_assert_cmpuint(total, >, ISAKMP_HDR);
	*len = total - ISAKMP_HDR;
	g_assert_cmpuint(*len % crypto_cipher_block(cipher), ==, 0);
	uint8_t *body = g_memdup2(m->data + ISAKMP_HDR, *len);
	g_assert_cmpint(crypto_cbc_decrypt(cipher, key, key_len, iv, body, *len), ==, 0);
	/* the IV for what follows is this message's last ciphertext block */
	size_t bl = crypto_cipher_block(cipher);
	g_assert_cmpmem(iv, bl, m->data + total - bl, bl);
	return body;
}

static void check_identity_message(const char *what, const struct msg *m, const uint8_t *body,
				   size_t len, size_t block)
{
	g_assert_cmpuint(m->data[16], ==, PT_ID);
	unsigned n;
	size_t end = chain_end(PT_ID, body, len, &n);
	/* ID payload: type, protocol, port, then the identity */
	uint16_t id_len = get16(body + 2);
	g_assert_cmpuint(id_len, >=, 8);
	g_assert_true(body[4] >= 1 && body[4] <= 11);          /* ID_IPV4_ADDR .. ID_KEY_ID */
	if (body[4] == 1)                                      /* ID_IPV4_ADDR */
		g_assert_cmpuint(id_len, ==, 12);
	g_assert_cmpuint(n, >=, 2);                            /* ID and HASH or SIG */
	g_assert_true(body[0] == PT_HASH || body[0] == 9);
	/* what follows the chain is padding, less than one block here */
	g_assert_cmpuint(end, <=, len);
	g_assert_cmpuint(len - end, <, block + 1);
	g_test_message("%s: %u payloads, %zu of %zu bytes, ID type %u", what, n, end, len, body[4]);
}

static void test_capture(gconstpointer data)
{
	const char *base = data;
	gchar *keys_text = NULL;
	gchar *keys_path = g_strconcat(base, ".keys", NULL);
	gchar *pcap_path = g_strconcat(base, ".pcap", NULL);
	g_assert_true(g_file_get_contents(keys_path, &keys_text, NULL, NULL));

	uint8_t icookie[8], key[CRYPTO_MAX_KEY];
	size_t key_len = 0;
	bool have_cookie = false;
	gchar **words = g_strsplit_set(g_strstrip(keys_text), " \t\n", -1);
	for (gchar **w = words; *w; w++) {
		if (g_str_has_prefix(*w, "icookie=")) {
			g_assert_cmpuint(strlen(*w + 8), ==, 16);
			for (int i = 0; i < 8; i++)
				icookie[i] = (uint8_t)(g_ascii_xdigit_value((*w)[8 + 2 * i]) << 4 |
						       g_ascii_xdigit_value((*w)[9 + 2 * i]));
			have_cookie = true;
		} else if (g_str_has_prefix(*w, "enckey=")) {
			key_len = strlen(*w + 7) / 2;
			g_assert_cmpuint(key_len, <=, sizeof(key));
			for (size_t i = 0; i < key_len; i++)
				key[i] = (uint8_t)(g_ascii_xdigit_value((*w)[7 + 2 * i]) << 4 |
						   g_ascii_xdigit_value((*w)[8 + 2 * i]));
		}
	}
	g_strfreev(words);
	g_assert_true(have_cookie && key_len > 0);

	struct capture c;
	capture_load(&c, pcap_path);
	/* the initiator sent MM1: our cookie, responder cookie zero */
	const struct msg *mm1 = find_msg(&c, icookie, EXCH_MAIN, false, -1, 0, PT_SA);
	g_assert_nonnull(mm1);
	static const uint8_t zero[8];
	g_assert_cmpmem(mm1->data + 8, 8, zero, 8);
	uint32_t init = mm1->src;

	const struct msg *mm2 = find_msg(&c, icookie, EXCH_MAIN, false, 0, init, PT_SA);
	g_assert_nonnull(mm2);
	const struct alg *cipher, *hash;
	unsigned key_bits, group;
	chosen_transform(mm2, &cipher, &key_bits, &hash, &group);
	g_assert_cmpuint(crypto_cipher_key_len(cipher, key_bits), ==, key_len);
	g_test_message("%s: %s-%u %s group %u", base, cipher->name, key_bits, hash->name, group);

	/* g^xi and g^xr from the KE payloads of MM3 and MM4 */
	const struct msg *mm3 = find_msg(&c, icookie, EXCH_MAIN, false, 1, init, PT_KE);
	const struct msg *mm4 = find_msg(&c, icookie, EXCH_MAIN, false, 0, init, PT_KE);
	g_assert_nonnull(mm3);
	g_assert_nonnull(mm4);
	long ke3 = find_payload(mm3->data[16], mm3->data + ISAKMP_HDR, mm3->len - ISAKMP_HDR, PT_KE);
	long ke4 = find_payload(mm4->data[16], mm4->data + ISAKMP_HDR, mm4->len - ISAKMP_HDR, PT_KE);
	const uint8_t *gxi = mm3->data + ISAKMP_HDR + ke3, *gxr = mm4->data + ISAKMP_HDR + ke4;
	struct chunk gi = CHUNK(gxi + 4, get16(gxi + 2) - 4u), gr = CHUNK(gxr + 4, get16(gxr + 2) - 4u);
	const struct alg *dh = NULL;
	for (const char *const *name = (const char *const[]){ "modp1024", "modp1536", "modp2048",
							      "modp3072", "modp4096", NULL };
	     *name; name++)
		if (alg_by_name(ALG_DH, *name)->ike_id == group)
			dh = alg_by_name(ALG_DH, *name);
	g_assert_nonnull(dh);
	g_assert_cmpuint(gi.len, ==, dh_public_len(dh));
	g_assert_cmpuint(gr.len, ==, dh_public_len(dh));

	size_t bl = crypto_cipher_block(cipher);
	uint8_t iv[CRYPTO_MAX_BLOCK];
	g_assert_cmpint(ikev1_phase1_iv(hash, cipher, gi, gr, iv), ==, 0);

	/* MM5 and MM6: the first encrypted Main Mode message each way (a
	 * retransmission repeats the same bytes) */
	const struct msg *mm5 = find_msg(&c, icookie, EXCH_MAIN, true, 1, init, 0);
	const struct msg *mm6 = find_msg(&c, icookie, EXCH_MAIN, true, 0, init, 0);
	g_assert_nonnull(mm5);
	g_assert_nonnull(mm6);
	size_t len;
	uint8_t *body = decrypt_body(mm5, cipher, key, key_len, iv, &len);
	check_identity_message("MM5", mm5, body, len, bl);
	g_free(body);
	body = decrypt_body(mm6, cipher, key, key_len, iv, &len);
	check_identity_message("MM6", mm6, body, len, bl);
	g_free(body);

	/* QM1: IV = hash(last CBC block of MM6 | M-ID) */
	const struct msg *qm1 = find_msg(&c, icookie, EXCH_QUICK, true, -1, init, 0);
	g_assert_nonnull(qm1);
	uint32_t msgid = get32(qm1->data + 20);
	g_assert_cmpuint(msgid, !=, 0);
	uint8_t iv2[CRYPTO_MAX_BLOCK];
	g_assert_cmpint(ikev1_phase2_iv(hash, cipher, iv, msgid, iv2), ==, 0);
	body = decrypt_body(qm1, cipher, key, key_len, iv2, &len);
	g_assert_cmpuint(qm1->data[16], ==, PT_HASH);
	unsigned n;
	size_t end = chain_end(PT_HASH, body, len, &n);
	g_assert_cmpuint(end, <=, len);
	g_assert_cmpuint(get16(body + 2), ==, 4 + crypto_hash_len(hash));   /* HASH(1) */
	g_assert_cmpuint(body[0], ==, PT_SA);
	size_t sa = 4 + crypto_hash_len(hash);
	g_assert_cmpuint(get32(body + sa + 4), ==, 1);                      /* IPsec DOI */
	g_assert_cmpuint(get32(body + sa + 8), ==, 1);                      /* SIT_IDENTITY_ONLY */
	/* with PFS (the pfs capture), QM1 carries KE of the phase-1 group */
	long ke = find_payload(PT_HASH, body, end, PT_KE);
	if (strstr(base, "/pfs."))
		g_assert_cmpuint(ke >= 0 ? get16(body + ke + 2) : 0, ==, 4 + dh_public_len(dh));
	else
		g_assert_cmpint(ke, <, 0);
	g_test_message("QM1 %08x: %u payloads, %zu of %zu bytes", msgid, n, end, len);
	g_free(body);

	/* the wrong IV (phase 1's instead of phase 2's) garbles the first
	 * block, so this check can fail */
	uint8_t wrong[CRYPTO_MAX_BLOCK];
	g_assert_cmpint(ikev1_phase1_iv(hash, cipher, gi, gr, wrong), ==, 0);
	body = decrypt_body(qm1, cipher, key, key_len, wrong, &len);
	g_assert_false(body[0] == PT_SA && get16(body + 2) == 4 + crypto_hash_len(hash));
	g_free(body);

	capture_free(&c);
	g_free(keys_text);
	g_free(keys_path);
	g_free(pcap_path);
}

static gint compare_paths(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	const char *srcdir = g_getenv("SRCDIR");
	g_assert_nonnull(srcdir);
	gchar *dir = g_build_filename(srcdir, "tests", "data", "captures", NULL);
	GDir *d = g_dir_open(dir, 0, NULL);
	g_assert_nonnull(d);
	GPtrArray *bases = g_ptr_array_new_with_free_func(g_free);
	for (const char *name; (name = g_dir_read_name(d));) {
		if (!g_str_has_suffix(name, ".keys"))
			continue;
		gchar *path = g_build_filename(dir, name, NULL);
		gchar *text = NULL;
		bool usable = g_file_get_contents(path, &text, NULL, NULL) &&
			      strstr(text, "icookie=") && strstr(text, "enckey=");
		g_free(text);
		if (usable) {
			path[strlen(path) - strlen(".keys")] = '\0';
			g_ptr_array_add(bases, path);
		} else {
			g_free(path);
		}
	}
	g_dir_close(d);
	g_ptr_array_sort(bases, compare_paths);
	/* five captures as the data stands; a lost one must not go unnoticed */
	g_assert_cmpuint(bases->len, >=, 5);
	for (guint i = 0; i < bases->len; i++) {
		const char *base = g_ptr_array_index(bases, i);
		gchar *test = g_strconcat("/captures/", strrchr(base, '/') + 1, NULL);
		g_test_add_data_func(test, base, test_capture);
		g_free(test);
	}
	int r = g_test_run();
	g_ptr_array_free(bases, TRUE);
	g_free(dir);
	return r;
}
