/* IKEv1 cryptography through OpenSSL EVP: Diffie-Hellman groups, the
 * PRF (HMAC), CBC ciphers, and the RFC 2409 derivations (SKEYID, SKEYID_d/
 * a/e, key expansion, phase-1 and phase-2 IVs, Quick Mode KEYMAT), plus
 * PKCS#1 RSA signatures over HASH_I/HASH_R. Algorithms are descriptor
 * rows of src/policy/algs.h; each is fetched from OpenSSL by the row's
 * ossl_name (a cipher's at the key length asked for). AEAD rows are for
 * ESP in the kernel only: the CBC functions here refuse them.
 *
 * Every int function returns 0 on success and a negative errno on failure:
 * -EINVAL for an unknown algorithm, a bad length or a bad peer value,
 * -EIO / -ENOMEM when OpenSSL fails. Files: crypto.c (hash, PRF, CBC,
 * RNG), crypto_dh.c, crypto_kdf.c (RFC 2409), crypto_rsa.c. */
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
/* In place, len a multiple of the block (the engine pads; no padding is
 * added or removed here); iv (one block) is updated to the last
 * ciphertext block (IKEv1 IV chaining), also when decrypting. key_len
 * picks AES-128/192/256; 3DES takes 24. */
int crypto_cbc_encrypt(const struct alg *cipher, const uint8_t *key, size_t key_len,
		       uint8_t *iv, uint8_t *buf, size_t len);
int crypto_cbc_decrypt(const struct alg *cipher, const uint8_t *key, size_t key_len,
		       uint8_t *iv, uint8_t *buf, size_t len);

/* --- Diffie-Hellman --- */
struct dh_secret;                /* our private value, wiped on free */
/* KE payload length: the prime's length for MODP, x|y for ECP (RFC 5903,
 * no 0x04 prefix), 32 for curve25519; 0 for an unknown group. */
size_t dh_public_len(const struct alg *group);
/* g^xy length: prime length for MODP, one coordinate for ECP, 32. */
size_t dh_shared_len(const struct alg *group);
/* Generates a key pair (short exponents for MODP, as libreswan/strongSwan
 * do: 2x the group's strength, table in crypto_dh.c); writes our public
 * value, left-padded to dh_public_len(). */
int dh_generate(const struct alg *group, struct dh_secret **secret, uint8_t *pub);
/* Computes g^xy from the peer's public value after checks: exact length,
 * 1 < y < p-1 for MODP, on the curve for ECP, not low-order for
 * curve25519; -EINVAL with a sentence in why[] on a bad value. shared
 * must hold dh_shared_len() bytes (CRYPTO_MAX_DH always does); it gets
 * the prime length for MODP (left-padded), the x coordinate for ECP, 32
 * bytes for curve25519, and *shared_len says how many. */
int dh_compute(const struct dh_secret *secret, const uint8_t *peer_pub, size_t peer_len,
	       uint8_t *shared, size_t *shared_len, char *why, size_t why_len);
const struct alg *dh_secret_group(const struct dh_secret *secret);
void dh_secret_free(struct dh_secret *secret);
/* Known-answer tests only: a key pair from a given private value
 * (ECP: the scalar, coordinate-sized; curve25519: 32 bytes); MODP is not
 * supported (-EOPNOTSUPP). Writes the public value like dh_generate(). */
int dh_import_private(const struct alg *group, const uint8_t *priv, size_t priv_len,
		      struct dh_secret **secret, uint8_t *pub);
/* MODP only: the bit length of our private exponent (tests check it is
 * short); -EINVAL otherwise. */
int dh_private_bits(const struct dh_secret *secret);
/* The MODP prime, big-endian, into out[dh_public_len()]; returns its
 * length, 0 for a group that is not MODP (tests and debug dumps). */
size_t dh_modp_prime(const struct alg *group, uint8_t *out);

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
/* SKEYID_d/a/e and the encryption key, from keys->skeyid (set by one of
 * the two above, which also set keys->hash_len). key_bits 0 = the
 * cipher's default length. */
int ikev1_skeyid_derive(const struct alg *hash, const struct alg *cipher, unsigned key_bits,
			struct chunk gxy, const uint8_t cky_i[8], const uint8_t cky_r[8],
			struct ike_keys *keys);
/* phase-1 IV = hash(g^xi | g^xr) truncated to the block size */
int ikev1_phase1_iv(const struct alg *hash, const struct alg *cipher, struct chunk gxi,
		    struct chunk gxr, uint8_t *iv);
/* phase-2 IV = hash(last phase-1 CBC block | M-ID) truncated; the M-ID
 * is the host-order number, hashed big-endian as on the wire. The last
 * phase-1 CBC block is the last ciphertext block of Main Mode message 6
 * (after an Aggressive Mode with no encrypted message, the phase-1 IV). */
int ikev1_phase2_iv(const struct alg *hash, const struct alg *cipher, const uint8_t *last_block,
		    uint32_t msgid, uint8_t *iv);
/* KEYMAT = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
 * expanded K1 | K2 | ... to out_len bytes, Kn = prf(SKEYID_d, Kn-1 | same
 * inputs). gqm.len == 0 without PFS. spi is the host-order number of the
 * SA's inbound SPI (hashed big-endian, as on the wire). */
int ikev1_keymat(const struct alg *hash, const struct ike_keys *keys, struct chunk gqm,
		 uint8_t protocol, uint32_t spi, struct chunk ni, struct chunk nr,
		 uint8_t *out, size_t out_len);

/* Main Mode's proof of identity (RFC 2409 5), computed by both ends for
 * either side (engine and load generator):
 * HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b),
 * HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b).
 * of_initiator picks the order; out gets keys->hash_len bytes. */
int ikev1_phase1_hash(const struct alg *hash, const struct ike_keys *keys, bool of_initiator,
		      struct chunk gxi, struct chunk gxr, const uint8_t cky_i[8], const uint8_t cky_r[8],
		      struct chunk sa_i_b, struct chunk id_b, uint8_t *out);
/* The SKEYID_a hashes of phase-2 messages (RFC 2409 5.5, 5.7):
 * prf(SKEYID_a, [0 |] M-ID | parts...), M-ID the host-order number hashed
 * big-endian; zero_prefix for Quick Mode's HASH(3). At most 6 parts. */
int ikev1_hash_msgid(const struct alg *hash, const struct ike_keys *keys, uint32_t msgid,
		     bool zero_prefix, const struct chunk *parts, size_t n, uint8_t *out);

/* --- RSA signatures (RFC 2409 5.1: PKCS#1 type 1 over the raw hash, no
 * DigestInfo) --- */
/* *sig_len: the buffer's size in (at least the modulus length), the
 * signature's length out. */
int rsa_sign_hash(EVP_PKEY *priv, const uint8_t *hash, size_t hash_len, uint8_t *sig,
		  size_t *sig_len);
/* false unless sig (exactly the modulus length) is a valid type-1
 * signature of exactly these hash bytes. */
bool rsa_verify_hash(EVP_PKEY *pub, const uint8_t *hash, size_t hash_len, const uint8_t *sig,
		     size_t sig_len);

/* Random bytes (cookies, nonces, SPIs); aborts if the RNG fails. */
void crypto_random(void *buf, size_t len);
