/* The RFC 2409 key derivations: SKEYID for pre-shared keys and for
 * signatures (section 5), SKEYID_d/a/e, the encryption key with the
 * appendix B expansion, the phase-1 and phase-2 IVs (appendix B) and the
 * Quick Mode KEYMAT (section 5.5). Everything is prf() = HMAC or hash()
 * over concatenations, so each step is a list of chunks. */
#include "daemon/crypto/crypto.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int keys_init(const struct alg *hash, struct ike_keys *keys)
{
	size_t len = crypto_hash_len(hash);
	if (!len || !keys)
		return -EINVAL;
	OPENSSL_cleanse(keys, sizeof(*keys));
	keys->hash_len = len;
	return 0;
}

int ikev1_skeyid_psk(const struct alg *hash, struct chunk psk, struct chunk ni, struct chunk nr,
		     struct ike_keys *keys)
{
	int r = keys_init(hash, keys);
	if (r < 0)
		return r;
	const struct chunk parts[] = { ni, nr };
	return crypto_prf(hash, psk, parts, N(parts), keys->skeyid);
}

int ikev1_skeyid_sig(const struct alg *hash, struct chunk ni, struct chunk nr, struct chunk gxy,
		     struct ike_keys *keys)
{
	int r = keys_init(hash, keys);
	if (r < 0)
		return r;
	/* the key is Ni_b | Nr_b: nonces are at most 256 bytes each (RFC 2409) */
	uint8_t nonces[512];
	if (ni.len + nr.len > sizeof(nonces))
		return -EINVAL;
	memcpy(nonces, ni.ptr, ni.len);
	memcpy(nonces + ni.len, nr.ptr, nr.len);
	const struct chunk parts[] = { gxy };
	r = crypto_prf(hash, CHUNK(nonces, ni.len + nr.len), parts, N(parts), keys->skeyid);
	OPENSSL_cleanse(nonces, sizeof(nonces));
	return r;
}

int ikev1_skeyid_derive(const struct alg *hash, const struct alg *cipher, unsigned key_bits,
			struct chunk gxy, const uint8_t cky_i[8], const uint8_t cky_r[8],
			struct ike_keys *keys)
{
	size_t hl = crypto_hash_len(hash);
	size_t key_len = crypto_cipher_key_len(cipher, key_bits);
	if (!hl || !keys || keys->hash_len != hl || !key_len || key_len > CRYPTO_MAX_KEY)
		return -EINVAL;
	const struct chunk skeyid = CHUNK(keys->skeyid, hl);
	static const uint8_t zero = 0, one = 1, two = 2;

	/* SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0) */
	const struct chunk d[] = { gxy, CHUNK(cky_i, 8), CHUNK(cky_r, 8), CHUNK(&zero, 1) };
	/* SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1) */
	const struct chunk a[] = { CHUNK(keys->skeyid_d, hl), gxy, CHUNK(cky_i, 8),
				   CHUNK(cky_r, 8), CHUNK(&one, 1) };
	/* SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2) */
	const struct chunk e[] = { CHUNK(keys->skeyid_a, hl), gxy, CHUNK(cky_i, 8),
				   CHUNK(cky_r, 8), CHUNK(&two, 1) };
	int r;
	if ((r = crypto_prf(hash, skeyid, d, N(d), keys->skeyid_d)) < 0 ||
	    (r = crypto_prf(hash, skeyid, a, N(a), keys->skeyid_a)) < 0 ||
	    (r = crypto_prf(hash, skeyid, e, N(e), keys->skeyid_e)) < 0)
		return r;

	/* Appendix B: a key longer than SKEYID_e is Ka = K1 | K2 | ... with
	 * K1 = prf(SKEYID_e, 0) (one zero octet) and Kn = prf(SKEYID_e, Kn-1);
	 * otherwise the leading bytes of SKEYID_e are the key. */
	keys->enc_key_len = key_len;
	if (key_len <= hl) {
		memcpy(keys->enc_key, keys->skeyid_e, key_len);
		return 0;
	}
	uint8_t k[CRYPTO_MAX_HASH];
	struct chunk in = CHUNK(&zero, 1);
	for (size_t done = 0; done < key_len; done += hl) {
		if ((r = crypto_prf(hash, CHUNK(keys->skeyid_e, hl), &in, 1, k)) < 0)
			break;
		memcpy(keys->enc_key + done, k, key_len - done < hl ? key_len - done : hl);
		in = CHUNK(k, hl);
	}
	OPENSSL_cleanse(k, sizeof(k));
	return r;
}

int ikev1_phase1_iv(const struct alg *hash, const struct alg *cipher, struct chunk gxi,
		    struct chunk gxr, uint8_t *iv)
{
	uint8_t h[CRYPTO_MAX_HASH];
	size_t block = crypto_cipher_block(cipher);
	size_t hl = crypto_hash_len(hash);
	if (!block || !hl || block > hl)
		return -EINVAL;
	const struct chunk parts[] = { gxi, gxr };
	int r = crypto_hash(hash, parts, N(parts), h);
	if (r == 0)
		memcpy(iv, h, block);
	return r;
}

int ikev1_phase2_iv(const struct alg *hash, const struct alg *cipher, const uint8_t *last_block,
		    uint32_t msgid, uint8_t *iv)
{
	uint8_t h[CRYPTO_MAX_HASH];
	size_t block = crypto_cipher_block(cipher);
	size_t hl = crypto_hash_len(hash);
	if (!block || !hl || block > hl)
		return -EINVAL;
	const uint8_t mid[4] = { msgid >> 24, msgid >> 16, msgid >> 8, msgid };
	const struct chunk parts[] = { CHUNK(last_block, block), CHUNK(mid, 4) };
	int r = crypto_hash(hash, parts, N(parts), h);
	if (r == 0)
		memcpy(iv, h, block);
	return r;
}

int ikev1_keymat(const struct alg *hash, const struct ike_keys *keys, struct chunk gqm,
		 uint8_t protocol, uint32_t spi, struct chunk ni, struct chunk nr,
		 uint8_t *out, size_t out_len)
{
	size_t hl = crypto_hash_len(hash);
	if (!hl || !keys || keys->hash_len != hl || !out)
		return -EINVAL;
	const uint8_t spi_b[4] = { spi >> 24, spi >> 16, spi >> 8, spi };
	const struct chunk skeyid_d = CHUNK(keys->skeyid_d, hl);

	/* K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
	 * Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
	 * (RFC 2409 section 5.5). parts[0] is Kn-1, empty for K1. */
	uint8_t k[CRYPTO_MAX_HASH];
	struct chunk parts[] = { CHUNK(k, 0), gqm, CHUNK(&protocol, 1), CHUNK(spi_b, 4), ni, nr };
	int r = 0;
	for (size_t done = 0; done < out_len; done += hl) {
		if ((r = crypto_prf(hash, skeyid_d, parts, N(parts), k)) < 0)
			break;
		memcpy(out + done, k, out_len - done < hl ? out_len - done : hl);
		parts[0] = CHUNK(k, hl);
	}
	OPENSSL_cleanse(k, sizeof(k));
	return r;
}

int ikev1_phase1_hash(const struct alg *hash, const struct ike_keys *keys, bool of_initiator,
		      struct chunk gxi, struct chunk gxr, const uint8_t cky_i[8], const uint8_t cky_r[8],
		      struct chunk sa_i_b, struct chunk id_b, uint8_t *out)
{
	if (!keys || keys->hash_len != crypto_hash_len(hash))
		return -EINVAL;
	const struct chunk parts[] = {
		of_initiator ? gxi : gxr,
		of_initiator ? gxr : gxi,
		CHUNK(of_initiator ? cky_i : cky_r, 8),
		CHUNK(of_initiator ? cky_r : cky_i, 8),
		sa_i_b,
		id_b,
	};
	return crypto_prf(hash, CHUNK(keys->skeyid, keys->hash_len), parts, N(parts), out);
}

int ikev1_hash_msgid(const struct alg *hash, const struct ike_keys *keys, uint32_t msgid,
		     bool zero_prefix, const struct chunk *parts, size_t n, uint8_t *out)
{
	struct chunk all[8];
	size_t k = 0;
	static const uint8_t zero = 0;
	const uint8_t mid[4] = { msgid >> 24, msgid >> 16, msgid >> 8, msgid };
	if (!keys || keys->hash_len != crypto_hash_len(hash) || n > N(all) - 2)
		return -EINVAL;
	if (zero_prefix)
		all[k++] = CHUNK(&zero, 1);
	all[k++] = CHUNK(mid, 4);
	for (size_t i = 0; i < n; i++)
		all[k++] = parts[i];
	return crypto_prf(hash, CHUNK(keys->skeyid_a, keys->hash_len), all, k, out);
}
