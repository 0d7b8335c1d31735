/* Hashes, the HMAC PRF, CBC ciphers with IKEv1 IV chaining, and the RNG,
 * all through OpenSSL 3 EVP. Algorithms arrive as registry entries
 * (policy/algs.h) and are mapped by their IKEv1 attribute numbers, so the
 * aliases of the registry ("sha" / "sha1", "sha256" / "sha2_256") behave
 * identically. */
#include "daemon/crypto/crypto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

/* OAKLEY_HASH_ALGORITHM values (RFC 2409 appendix A, RFC 4868 numbering
 * for SHA-2 as used by IKEv1 implementations). */
static const struct {
	unsigned ike_id;
	const char *ossl_name;
	size_t len;
} hash_table[] = {
	{ 1, "MD5", 16 },
	{ 2, "SHA1", 20 },
	{ 4, "SHA256", 32 },
	{ 5, "SHA384", 48 },
	{ 6, "SHA512", 64 },
};

static int hash_index(const struct alg *hash)
{
	if (!hash || hash->kind != ALG_HASH)
		return -1;
	for (size_t i = 0; i < sizeof(hash_table) / sizeof(hash_table[0]); i++)
		if (hash_table[i].ike_id == hash->ike_id)
			return (int)i;
	return -1;
}

static const EVP_MD *hash_md(const struct alg *hash)
{
	int i = hash_index(hash);
	if (i < 0)
		return NULL;
	switch (hash_table[i].ike_id) {
	case 1: return EVP_md5();
	case 2: return EVP_sha1();
	case 4: return EVP_sha256();
	case 5: return EVP_sha384();
	default: return EVP_sha512();
	}
}

size_t crypto_hash_len(const struct alg *hash)
{
	int i = hash_index(hash);
	return i < 0 ? 0 : hash_table[i].len;
}

int crypto_hash(const struct alg *hash, const struct chunk *parts, size_t n, uint8_t *out)
{
	const EVP_MD *md = hash_md(hash);
	if (!md)
		return -EINVAL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	int ok = EVP_DigestInit_ex(ctx, md, NULL);
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, parts[i].ptr, parts[i].len);
	unsigned out_len = 0;
	ok = ok && EVP_DigestFinal_ex(ctx, out, &out_len);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

int crypto_prf(const struct alg *hash, struct chunk key, const struct chunk *parts, size_t n,
	       uint8_t *out)
{
	int i = hash_index(hash);
	if (i < 0)
		return -EINVAL;
	/* EVP_MAC_init() with a NULL key means "keep the previous key"; an
	 * empty key must still be a real (if empty) key. */
	static const uint8_t empty;
	const uint8_t *key_ptr = key.len ? key.ptr : &empty;

	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)hash_table[i].ossl_name, 0),
		OSSL_PARAM_construct_end(),
	};
	int ok = ctx && EVP_MAC_init(ctx, key_ptr, key.len, params);
	for (size_t k = 0; ok && k < n; k++)
		ok = EVP_MAC_update(ctx, parts[k].ptr, parts[k].len);
	size_t out_len = 0;
	ok = ok && EVP_MAC_final(ctx, out, &out_len, hash_table[i].len);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok && out_len == hash_table[i].len ? 0 : -EIO;
}

/* OAKLEY_ENCRYPTION_ALGORITHM values: 5 = 3DES-CBC, 7 = AES-CBC. */
#define IKE_CIPHER_3DES 5
#define IKE_CIPHER_AES 7

size_t crypto_cipher_block(const struct alg *cipher)
{
	if (!cipher || cipher->kind != ALG_CIPHER)
		return 0;
	switch (cipher->ike_id) {
	case IKE_CIPHER_3DES: return 8;
	case IKE_CIPHER_AES: return 16;
	default: return 0;
	}
}

size_t crypto_cipher_key_len(const struct alg *cipher, unsigned key_bits)
{
	if (!cipher || cipher->kind != ALG_CIPHER)
		return 0;
	switch (cipher->ike_id) {
	case IKE_CIPHER_3DES:
		return 24;   /* three DES keys, parity bits included */
	case IKE_CIPHER_AES:
		if (key_bits == 0)
			key_bits = cipher->key_bits;
		return key_bits == 128 || key_bits == 192 || key_bits == 256 ? key_bits / 8 : 0;
	default:
		return 0;
	}
}

static const EVP_CIPHER *cbc_cipher(const struct alg *cipher, size_t key_len)
{
	if (!cipher || cipher->kind != ALG_CIPHER)
		return NULL;
	switch (cipher->ike_id) {
	case IKE_CIPHER_3DES:
		return key_len == 24 ? EVP_des_ede3_cbc() : NULL;
	case IKE_CIPHER_AES:
		switch (key_len) {
		case 16: return EVP_aes_128_cbc();
		case 24: return EVP_aes_192_cbc();
		case 32: return EVP_aes_256_cbc();
		default: return NULL;
		}
	default:
		return NULL;
	}
}

/* One CBC pass in place. IKEv1 carries the IV from message to message:
 * the next IV is the last ciphertext block, which for decryption has to
 * be saved before the buffer is overwritten. */
static int cbc_crypt(const struct alg *cipher, const uint8_t *key, size_t key_len, uint8_t *iv,
		     uint8_t *buf, size_t len, int encrypt)
{
	const EVP_CIPHER *evp = cbc_cipher(cipher, key_len);
	size_t block = crypto_cipher_block(cipher);
	if (!evp || !key || !iv || (len && !buf) || len % block != 0 || len > INT32_MAX)
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
