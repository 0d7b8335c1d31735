/* Hashes, the HMAC PRF, CBC ciphers with IKEv1 IV chaining, and the RNG,
 * all through OpenSSL 3 EVP. Algorithms arrive as descriptor rows
 * (policy/algs.h) and are fetched by the OpenSSL name the row gives. */
#include "daemon/crypto/crypto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "daemon/crypto/crypto_fetch.h"

/* Every algorithm is fetched from OpenSSL by the name its descriptor
 * row gives (policy/algs.h), so adding a row adds it here too; once per
 * process (crypto_fetch.c). */

static bool is_hash(const struct alg *hash)
{
	return hash && hash->kind == ALG_HASH && hash->ossl_name && hash->hash_bytes;
}

size_t crypto_hash_len(const struct alg *hash)
{
	return is_hash(hash) ? hash->hash_bytes : 0;
}

int crypto_hash(const struct alg *hash, const struct chunk *parts, size_t n, uint8_t *out)
{
	if (!is_hash(hash))
		return -EINVAL;
	const EVP_MD *md = fetched_md(hash);
	EVP_MD_CTX *ctx = md ? EVP_MD_CTX_new() : NULL;
	if (!ctx)
		return md ? -ENOMEM : -EIO;
	int ok = EVP_DigestInit_ex(ctx, md, NULL);
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, parts[i].ptr, parts[i].len);
	unsigned out_len = 0;
	ok = ok && EVP_DigestFinal_ex(ctx, out, &out_len);
	EVP_MD_CTX_free(ctx);
	return ok && out_len == hash->hash_bytes ? 0 : -EIO;
}

int crypto_prf(const struct alg *hash, struct chunk key, const struct chunk *parts, size_t n,
	       uint8_t *out)
{
	if (!is_hash(hash))
		return -EINVAL;
	/* EVP_MAC_init() with a NULL key means "keep the previous key"; an
	 * empty key must still be a real (if empty) key. */
	static const uint8_t empty;
	const uint8_t *key_ptr = key.len ? key.ptr : &empty;

	EVP_MAC_CTX *ctx = hmac_ctx_new(hash);
	int ok = ctx && EVP_MAC_init(ctx, key_ptr, key.len, NULL);
	for (size_t k = 0; ok && k < n; k++)
		ok = EVP_MAC_update(ctx, parts[k].ptr, parts[k].len);
	size_t out_len = 0;
	ok = ok && EVP_MAC_final(ctx, out, &out_len, hash->hash_bytes);
	EVP_MAC_CTX_free(ctx);
	return ok && out_len == hash->hash_bytes ? 0 : -EIO;
}

/* IKEv1 encrypts with CBC ciphers only; AEAD rows are for ESP (the
 * kernel's), so none of these accepts them. */
static bool is_cbc(const struct alg *cipher)
{
	return cipher && cipher->kind == ALG_CIPHER && cipher->ossl_name && cipher->block_bytes;
}

size_t crypto_cipher_block(const struct alg *cipher)
{
	return is_cbc(cipher) ? cipher->block_bytes : 0;
}

size_t crypto_cipher_key_len(const struct alg *cipher, unsigned key_bits)
{
	if (!is_cbc(cipher))
		return 0;
	if (key_bits == 0)
		key_bits = cipher->key_bits;
	/* 3DES: three DES keys, parity bits included, 24 bytes */
	return alg_key_ok(cipher, key_bits) ? key_bits / 8 : 0;
}

/* The cipher at this key length in bytes; NULL when the row has no such
 * length. */
static const EVP_CIPHER *cbc_cipher(const struct alg *cipher, size_t key_len)
{
	if (!is_cbc(cipher) || key_len == 0 || crypto_cipher_key_len(cipher, (unsigned)key_len * 8) != key_len)
		return NULL;
	return fetched_cipher(cipher, key_len);
}

/* One CBC pass in place. IKEv1 carries the IV from message to message:
 * the next IV is the last ciphertext block, which for decryption has to
 * be saved before the buffer is overwritten. */
static int cbc_crypt(const struct alg *cipher, const uint8_t *key, size_t key_len, uint8_t *iv,
		     uint8_t *buf, size_t len, int encrypt)
{
	size_t block = crypto_cipher_block(cipher);
	if (!block || !key || !iv || (len && !buf) || len % block != 0 || len > INT32_MAX)
		return -EINVAL;
	const EVP_CIPHER *evp = cbc_cipher(cipher, key_len);
	if (!evp)
		return -EINVAL;
	if (len == 0)
		return 0;

	uint8_t next_iv[CRYPTO_MAX_BLOCK];
	if (!encrypt)
		memcpy(next_iv, buf + len - block, block);

	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	int out_len = 0, fin_len = 0;
	int ok = EVP_CipherInit_ex2(ctx, evp, key, iv, encrypt, NULL) &&
		 EVP_CIPHER_CTX_set_padding(ctx, 0) &&
		 EVP_CipherUpdate(ctx, buf, &out_len, buf, (int)len) &&
		 EVP_CipherFinal_ex(ctx, buf + out_len, &fin_len) &&
		 (size_t)(out_len + fin_len) == len;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return -EIO;

	memcpy(iv, encrypt ? buf + len - block : next_iv, block);
	return 0;
}

int crypto_cbc_encrypt(const struct alg *cipher, const uint8_t *key, size_t key_len,
		       uint8_t *iv, uint8_t *buf, size_t len)
{
	return cbc_crypt(cipher, key, key_len, iv, buf, len, 1);
}

int crypto_cbc_decrypt(const struct alg *cipher, const uint8_t *key, size_t key_len,
		       uint8_t *iv, uint8_t *buf, size_t len)
{
	return cbc_crypt(cipher, key, key_len, iv, buf, len, 0);
}

void crypto_random(void *buf, size_t len)
{
	/* RAND_bytes() takes an int; cookies, nonces and SPIs are small, but
	 * keep the loop so no caller can hit the limit. */
	uint8_t *p = buf;
	while (len > 0) {
		int n = len > 1 << 20 ? 1 << 20 : (int)len;
		if (RAND_bytes(p, n) != 1)
			abort();   /* no randomness means no safe cookie, nonce or key */
		p += n;
		len -= (size_t)n;
	}
}
