/* Public keys of peers, given by AddPublicKey / whack --pubkeyrsa or
 * leftrsasigkey/rightrsasigkey: RFC 3110 "0s" base64, "0x" hex, or PEM
 * (text or %file:/path.pem). Only RSA keys of 1024..8192 bits with a
 * public exponent of at most 64 bits are accepted. */
#pragma once
#include <openssl/evp.h>

#include "common/errors.h"
#include "common/id.h"

/* Parse a public key in any accepted form. Returns NULL with err
 * (InvalidOption, naming the form expected and what was wrong) on failure. */
EVP_PKEY *pubkey_parse(const char *text, struct ctl_error *err);
/* The path of a %file: key text, as pubkey_parse reads it (malloc'ed);
 * NULL when text is not that form. */
char *pubkey_file_path(const char *text);

/* RFC 3110 encoding with the "0s" prefix, malloc'ed (usable as
 * leftrsasigkey); NULL when the key is not RSA. */
char *pubkey_rfc3110_base64(EVP_PKEY *key);
/* The FreeS/WAN key id (ipsec_keyblobtoid(3)): the first 9 characters of
 * the base64 RFC 3110 blob, exponent length byte included, so keys with
 * e=3 start "AQO" or "AQP" and keys with e=65537 start "AwEAA". "" when not RSA. */
#define PUBKEY_KEYID_CHARS 9
void pubkey_keyid(EVP_PKEY *key, char out[16]);

struct pubkey {
	struct pluto_id id;
	EVP_PKEY *key;
	char keyid[16];
	struct pubkey *next;
};

/* The public key store; adding a key for an id that has one replaces it.
 * A malformed id fails with BadId, a malformed key with InvalidOption. */
int pubkey_add(const char *id, const char *keytext, struct ctl_error *err);
const struct pubkey *pubkeys_first(void);
const struct pubkey *pubkey_find(const struct pluto_id *id);
void pubkeys_clear(void);
