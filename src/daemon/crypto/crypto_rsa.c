/* IKEv1 RSA signatures (RFC 2409 section 5.1): PKCS#1 v1.5 block type 1
 * over the raw HASH_I / HASH_R bytes, with no DigestInfo around them,
 * which is what libreswan and strongSwan put in the SIG payload. With
 * RSA_PKCS1_PADDING and no signature digest set, EVP_PKEY_sign() pads
 * and signs exactly the bytes it is given. */
#include "daemon/crypto/crypto.h"

#include <errno.h>
#include <string.h>

#include <openssl/rsa.h>

static EVP_PKEY_CTX *rsa_ctx(EVP_PKEY *key, int sign)
{
	if (!key || !EVP_PKEY_is_a(key, "RSA"))
		return NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	if (!ctx)
		return NULL;
	if ((sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int rsa_sign_hash(EVP_PKEY *priv, const uint8_t *hash, size_t hash_len, uint8_t *sig,
		  size_t *sig_len)
{
	if (!hash || !sig || !sig_len)
		return -EINVAL;
	size_t need = priv ? (size_t)EVP_PKEY_get_size(priv) : 0;
	if (!need || *sig_len < need)
		return -EINVAL;
	EVP_PKEY_CTX *ctx = rsa_ctx(priv, 1);
	if (!ctx)
		return -EINVAL;
	size_t len = *sig_len;
	int ok = EVP_PKEY_sign(ctx, sig, &len, hash, hash_len) > 0;
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		return -EIO;
	*sig_len = len;
	return 0;
}

bool rsa_verify_hash(EVP_PKEY *pub, const uint8_t *hash, size_t hash_len, const uint8_t *sig,
		     size_t sig_len)
{
	if (!hash || !sig || !pub || sig_len != (size_t)EVP_PKEY_get_size(pub))
		return false;
	EVP_PKEY_CTX *ctx = rsa_ctx(pub, 0);
	if (!ctx)
		return false;
	bool ok = EVP_PKEY_verify(ctx, sig, sig_len, hash, hash_len) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}
