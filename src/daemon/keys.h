/* Public keys of peers, given by AddPublicKey / whack --pubkeyrsa or
 * leftrsasigkey/rightrsasigkey: RFC 3110 "0s" base64, "0x" hex, or PEM
 * (text or %file:/path.pem). */
#pragma once
#include <openssl/evp.h>

#include "common/errors.h"
#include "common/id.h"

/* Parse a public key in any accepted form. Returns NULL with err
 * (InvalidOption / NoKey naming the form) on failure. */
EVP_PKEY *pubkey_parse(const char *text, struct ctl_error *err);

/* RFC 3110 encode (for status output: the key id "AQO..." prefix) */
char *pubkey_rfc3110_base64(EVP_PKEY *key);
/* The FreeS/WAN key id: first 9 characters of the base64 RFC 3110 form. */
void pubkey_keyid(EVP_PKEY *key, char out[16]);

struct pubkey {
	struct pluto_id id;
	EVP_PKEY *key;
	char keyid[16];
	struct pubkey *next;
};

/* The public key store; adding a key for an id that has one replaces it. */
int pubkey_add(const char *id, const char *keytext, struct ctl_error *err);
const struct pubkey *pubkeys_first(void);
const struct pubkey *pubkey_find(const struct pluto_id *id);
void pubkeys_clear(void);
