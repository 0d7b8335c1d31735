/* Text forms of key material shared by ipsec.secrets and public keys:
 * "0x" hex and "0s" base64 values, and building OpenSSL RSA keys from the
 * raw big-endian numbers (the FreeS/WAN "RSA { ... }" fields, or the
 * exponent and modulus of an RFC 3110 blob).
 *
 * Error strings ("why") describe the problem, never the value: the values
 * are often secrets. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

/* Key sizes accepted anywhere: below 1024 bits RSA is breakable, above
 * 8192 bits a signature check becomes a denial of service. */
#define RSA_MIN_BITS 1024
#define RSA_MAX_BITS 8192
/* OpenSSL refuses public exponents over 64 bits for large moduli; so do we. */
#define RSA_MAX_EXPONENT_BYTES 8

/* Decode "0x..." (hex digits, '_' allowed between them) or "0s..."
 * (base64, '=' padding) into a fresh buffer *out of *outlen bytes; the
 * caller wipes and frees it. allow_space skips blanks inside the value.
 * Returns false with *why set. */
bool text_decode_data(const char *s, size_t len, bool allow_space,
		      unsigned char **out, size_t *outlen, const char **why);

/* Plain base64 (no prefix), NUL-terminated, malloc'ed. */
char *base64_encode(const unsigned char *p, size_t n);

/* The eight fields of the FreeS/WAN inline RSA private key, in file order. */
enum rsa_field {
	RSA_F_MODULUS,
	RSA_F_PUBLIC_EXPONENT,
	RSA_F_PRIVATE_EXPONENT,
	RSA_F_PRIME1,
	RSA_F_PRIME2,
	RSA_F_EXPONENT1,
	RSA_F_EXPONENT2,
	RSA_F_COEFFICIENT,
	RSA_F__MAX
};

struct rsa_fields {
	unsigned char *v[RSA_F__MAX];   /* big-endian numbers, wiped on free */
	size_t len[RSA_F__MAX];
};

/* "Modulus:" (with the colon, case-insensitive) -> field; -1 if unknown. */
int rsa_field_by_name(const char *name, size_t len);
const char *rsa_field_name(enum rsa_field f);
/* All eight fields must be set; checks the key is consistent. */
EVP_PKEY *rsa_private_from_fields(const struct rsa_fields *f, const char **why);
void rsa_fields_wipe(struct rsa_fields *f);

/* A public key from big-endian modulus and exponent, with the size checks
 * above. */
EVP_PKEY *rsa_public_from_ne(const unsigned char *n, size_t nlen, const unsigned char *e,
			     size_t elen, const char **why);
/* Is this an RSA key of an accepted size? */
bool rsa_key_size_ok(EVP_PKEY *key, const char **why);
