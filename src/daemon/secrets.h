/* ipsec.secrets(5): preshared keys and RSA private keys, indexed by
 * identities. The file is read at Listen and ReloadSecrets; a file with an
 * error is rejected whole (the old secrets stay in force) and the error
 * names file and line. Secrets are wiped when freed and never printed. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "common/errors.h"
#include "common/id.h"

enum secret_kind { SECRET_PSK, SECRET_RSA };

struct secret {
	enum secret_kind kind;
	size_t n_ids;                /* 0 ids = the line had none (matches any) */
	struct pluto_id *ids;
	unsigned char *psk;          /* SECRET_PSK: bytes, wiped on free */
	size_t psk_len;
	EVP_PKEY *rsa;               /* SECRET_RSA */
	unsigned line;               /* where it came from, for logs */
	struct secret *next;
};

struct secrets {
	struct secret *list;
	size_t count;
};

/* Parse text (from a file or a test) into *out. name is used in error
 * messages ("FILE:LINE: ..."). include directives are resolved relative to
 * the including file. Returns 0 or -1 with err (InvalidSecrets). */
int secrets_parse_text(const char *text, size_t len, const char *name, struct secrets *out,
		       struct ctl_error *err);
int secrets_load_file(const char *path, struct secrets *out, struct ctl_error *err);
void secrets_free(struct secrets *s);

/* The daemon's current set */
void secrets_set_path(const char *path);
const char *secrets_path(void);
/* Reload from secrets_path(); on error the old set stays. */
int secrets_reload(struct ctl_error *err);
const struct secrets *secrets_current(void);
void secrets_clear(void);

/* Best match for a pair of ids (as libreswan/FreeS/WAN: an exact match on
 * both beats one on a single id, which beats %any / id-less lines).
 * either id may be NULL. */
const struct secret *secret_find(enum secret_kind kind, const struct pluto_id *this_id,
				 const struct pluto_id *that_id);
