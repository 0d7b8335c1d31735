/* Taking a tunnel down as its peer does (RFC 2408 3.15, RFC 2409 5.7):
 * two protected Informational exchanges over the ISAKMP SA, each with
 * its own message id, IV (from the last phase-1 block) and HASH(1) =
 * prf(SKEYID_a, M-ID | Delete): first the IPsec SA, named by the SPI we
 * receive on, then the ISAKMP SA, named by its cookies. A Delete is
 * not answered: the benchmark checks the responder's own count. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lg.h"

void lg_keep_sa(struct lg_tunnel *t)
{
	const struct lg_exchange *x = t->x;
	struct lg_sa *sa = calloc(1, sizeof(*sa));
	if (!sa)
		abort();
	memcpy(sa->rcookie, x->rcookie, 8);
	sa->hash = x->ike.hash;
	sa->cipher = x->ike.cipher;
	sa->keys = x->keys;
	memcpy(sa->iv, x->iv, sizeof(sa->iv));
	sa->our_spi = x->our_spi;
	t->sa = sa;
}

/* One protected Informational carrying one Delete payload. */
static bool send_delete(const struct lg_config *cfg, const struct lg_tunnel *t, uint8_t protocol,
			const uint8_t *spi, uint8_t spi_size)
{
	const struct lg_sa *sa = t->sa;
	uint32_t msgid;
	do
		crypto_random(&msgid, sizeof(msgid));
	while (msgid == 0);
	uint8_t iv[CRYPTO_MAX_BLOCK];
	if (ikev1_phase2_iv(sa->hash, sa->cipher, sa->iv, msgid, iv) < 0)
		return false;
	struct isakmp_hdr h = { .np = PT_HASH, .version = ISAKMP_VERSION, .xchg = XCHG_INFO, .msgid = msgid };
	memcpy(h.icookie, t->icookie, 8);
	memcpy(h.rcookie, sa->rcookie, 8);
	struct pbuf pb;
	pbuf_init(&pb);
	emit_hdr(&pb, &h);
	const uint8_t zeros[CRYPTO_MAX_HASH] = { 0 };
	size_t hoff = emit_hash(&pb, zeros, sa->keys.hash_len);
	emit_delete(&pb, ISAKMP_DOI_IPSEC, protocol, spi_size, spi, 1);
	size_t len = pbuf_finish(&pb), hash_len;
	uint8_t *hash = len ? pbuf_payload_body(&pb, hoff, &hash_len) : NULL;
	bool ok = hash && hash_len == sa->keys.hash_len;
	if (ok) {
		const uint8_t *after = hash + hash_len;
		struct chunk rest = CHUNK(after, len - (size_t)(after - pb.data));
		ok = ikev1_hash_msgid(sa->hash, &sa->keys, msgid, false, &rest, 1, hash) == 0;
	}
	size_t block = crypto_cipher_block(sa->cipher);
	size_t total = ok && block ? len + (block - (len - ISAKMP_HDR_LEN) % block) % block : 0;
	uint8_t *buf = total ? calloc(1, total) : NULL;
	if (buf) {
		memcpy(buf, pb.data, len);
		isakmp_hdr_mark_encrypted(buf, total);
		ok = crypto_cbc_encrypt(sa->cipher, sa->keys.enc_key, sa->keys.enc_key_len, iv, buf + ISAKMP_HDR_LEN,
					total - ISAKMP_HDR_LEN) == 0 &&
		     lg_net_send(t->source, cfg->responder, cfg->port, buf, total);
	} else {
		ok = false;
	}
	free(buf);
	pbuf_free(&pb);
	return ok;
}

bool lg_delete(const struct lg_config *cfg, struct lg_tunnel *t)
{
	if (!t->sa)
		return false;
	const uint8_t spi[4] = { t->sa->our_spi >> 24, t->sa->our_spi >> 16, t->sa->our_spi >> 8, t->sa->our_spi };
	uint8_t cookies[16];
	memcpy(cookies, t->icookie, 8);
	memcpy(cookies + 8, t->sa->rcookie, 8);
	bool ok = send_delete(cfg, t, PROTO_IPSEC_ESP, spi, sizeof(spi)) &&
		  send_delete(cfg, t, PROTO_ISAKMP, cookies, sizeof(cookies));
	OPENSSL_cleanse(t->sa, sizeof(*t->sa));
	free(t->sa);
	t->sa = NULL;
	return ok;
}
