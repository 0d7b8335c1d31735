/* Peers' public keys given as connection text (leftrsasigkey=...), parsed
 * once rather than at every handshake (pubkey_cache.c). */
#pragma once
#include <openssl/evp.h>

#include "common/errors.h"

/* pubkey_parse(text) as last parsed: a new reference (EVP_PKEY_free it),
 * or NULL with err as pubkey_parse sets it. A %file: key is read again
 * when the file changed (device, inode, size or modification time). */
EVP_PKEY *pubkey_parse_cached(const char *text, struct ctl_error *err);
/* Forget every key (tests; the daemon keeps them for its life). */
void pubkey_cache_clear(void);
