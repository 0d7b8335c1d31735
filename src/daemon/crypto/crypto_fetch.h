/* OpenSSL algorithm objects fetched once per process (crypto_fetch.c). */
#pragma once
#include <stddef.h>

#include <openssl/evp.h>

#include "policy/algs.h"

/* What a row (and key length, or 0) makes, built by make the first time
 * and kept: make runs under a lock and returns NULL when it cannot (then
 * it is asked again next time). The object is shared by every thread,
 * so only read it. */
typedef void *(*fetch_maker)(const struct alg *row, size_t key_len);
void *fetched_once(fetch_maker make, const struct alg *row, size_t key_len);

/* The digest of a hash row; NULL when OpenSSL has none. Not to be freed. */
const EVP_MD *fetched_md(const struct alg *hash);
/* The cipher of a row at this key length (its OpenSSL name filled by
 * alg_fill_key); NULL when OpenSSL has none. Not to be freed. */
const EVP_CIPHER *fetched_cipher(const struct alg *cipher, size_t key_len);
/* A new HMAC context for the hash row, its digest already set: pass a
 * NULL params to EVP_MAC_init. EVP_MAC_CTX_free() it. */
EVP_MAC_CTX *hmac_ctx_new(const struct alg *hash);
