/* IKEv1 cryptography through OpenSSL EVP: Diffie-Hellman groups, the
 * PRF (HMAC), CBC ciphers, and the RFC 2409 derivations (SKEYID, SKEYID_d/
 * a/e, key expansion, phase-1 and phase-2 IVs, Quick Mode KEYMAT), plus
 * PKCS#1 RSA signatures over HASH_I/HASH_R. Algorithms are named by the
 * registry entries of src/policy/algs.h. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "policy/algs.h"

#define CRYPTO_MAX_HASH 64       /* SHA-512 */
#define CRYPTO_MAX_BLOCK 16
#define CRYPTO_MAX_KEY 32        /* AES-256 */
#define CRYPTO_MAX_DH 1024       /* MODP8192 public value */

struct chunk {
	const uint8_t *ptr;
	size_t len;
};
#define CHUNK(p, l) ((struct chunk){ (const uint8_t *)(p), (l) })

/* --- hashes and PRF --- */
size_t crypto_hash_len(const struct alg *hash);
/* hash(parts...) */
int crypto_hash(const struct alg *hash, const struct chunk *parts, size_t n, uint8_t *out);
/* prf(key, parts...) = HMAC-hash */
int crypto_prf(const struct alg *hash, struct chunk key, const struct chunk *parts, size_t n,
	       uint8_t *out);

/* --- ciphers (CBC) --- */
size_t crypto_cipher_block(const struct alg *cipher);
/* key length in bytes for this cipher at key_bits (3DES: 24) */
size_t crypto_cipher_key_len(const struct alg *cipher, unsigned key_bits);
/* In place, len a multiple of the block; iv is updated to the last
 * ciphertext block (IKEv1 IV chaining). */
int crypto_cbc_encrypt(const struct alg *cipher, const uint8_t *key, size_t key_len,
		       uint8_t *iv, uint8_t *buf, size_t len);
int crypto_cbc_decrypt(const struct alg *cipher, const uint8_t *key, size_t key_len,
		       uint8_t *iv, uint8_t *buf, size_t len);

/* --- Diffie-Hellman --- */
struct dh_secret;                /* our private value, wiped on free */
size_t dh_public_len(const struct alg *group);
/* Generates a key pair (short exponents for MODP, as libreswan/strongSwan
 * do: enough bits for the group's strength); writes our public value,
 * left-padded to dh_public_len(). */
int dh_generate(const struct alg *group, struct dh_secret **secret, uint8_t *pub);
/* Computes g^xy from the peer's public value after a range check
 * (1 < y < p-1 for MODP; on-curve for ECP); -1 with why[] on a bad
 * value. shared gets dh_public_len() bytes for MODP (left-padded), the
 * x coordinate for ECP, 32 bytes for curve25519. */
int dh_compute(const struct dh_secret *secret, const uint8_t *peer_pub, size_t peer_len,
	       uint8_t *shared, size_t *shared_len, char *why, size_t why_len);
void dh_secret_free(struct dh_secret *secret);

/* --- RFC 2409 derivations --- */
struct ike_keys {
	size_t hash_len;
	uint8_t skeyid[CRYPTO_MAX_HASH];
	uint8_t skeyid_d[CRYPTO_MAX_HASH];
	uint8_t skeyid_a[CRYPTO_MAX_HASH];
	uint8_t skeyid_e[CRYPTO_MAX_HASH];
	size_t enc_key_len;
	uint8_t enc_key[CRYPTO_MAX_KEY];  /* from SKEYID_e, expanded when needed (appendix B) */
};

/* SKEYID = prf(psk, Ni_b | Nr_b) */
int ikev1_skeyid_psk(const struct alg *hash, struct chunk psk, struct chunk ni, struct chunk nr,
		     struct ike_keys *keys);
/* SKEYID = prf(Ni_b | Nr_b, g^xy) */
int ikev1_skeyid_sig(const struct alg *hash, struct chunk ni, struct chunk nr, struct chunk gxy,
		     struct ike_keys *keys);
/* SKEYID_d/a/e and the encryption key, from keys->skeyid. */
int ikev1_skeyid_derive(const struct alg *hash, const struct alg *cipher, unsigned key_bits,
			struct chunk gxy, const uint8_t cky_i[8], const uint8_t cky_r[8],
			struct ike_keys *keys);
/* phase-1 IV = hash(g^xi | g^xr) truncated to the block size */
int ikev1_phase1_iv(const struct alg *hash, const struct alg *cipher, struct chunk gxi,
		    struct chunk gxr, uint8_t *iv);
/* phase-2 IV = hash(last phase-1 CBC block | M-ID) truncated */
int ikev1_phase2_iv(const struct alg *hash, const struct alg *cipher, const uint8_t *last_block,
		    uint32_t msgid, uint8_t *iv);
/* KEYMAT = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
 * expanded K1 | K2 | ... to out_len bytes. gqm.len == 0 without PFS. */
int ikev1_keymat(const struct alg *hash, const struct ike_keys *keys, struct chunk gqm,
		 uint8_t protocol, uint32_t spi, struct chunk ni, struct chunk nr,
		 uint8_t *out, size_t out_len);

/* --- RSA signatures (RFC 2409 5.1: PKCS#1 type 1 over the raw hash, no
 * DigestInfo) --- */
int rsa_sign_hash(EVP_PKEY *priv, const uint8_t *hash, size_t hash_len, uint8_t *sig,
		  size_t *sig_len);
bool rsa_verify_hash(EVP_PKEY *pub, const uint8_t *hash, size_t hash_len, const uint8_t *sig,
		     size_t sig_len);

/* Random bytes (cookies, nonces, SPIs); aborts if the RNG fails. */
void crypto_random(void *buf, size_t len);
