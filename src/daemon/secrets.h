/* ipsec.secrets(5): preshared keys and RSA private keys, indexed by
 * identities. The file is read at Listen and ReloadSecrets; a file with an
 * error is rejected whole (the old secrets stay in force) and the error
 * names file and line. Secrets are wiped when freed and never printed.
 * man/ipsec.secrets.5 is the reference for the syntax and matching. */
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
	struct pluto_id *ids;        /* "%any", "%any6", "0.0.0.0", "::" are ID_ANY */
	unsigned char *psk;          /* SECRET_PSK: bytes, wiped on free */
	size_t psk_len;
	EVP_PKEY *rsa;               /* SECRET_RSA: private key */
	char *file;                  /* where it came from, for logs */
	unsigned line;
	struct secret *next;         /* file order (includes inline) */
};

struct secrets {
	struct secret *list;
	size_t count;
};

/* Nesting limit of "include" (a loop hits it quickly). */
#define SECRETS_MAX_INCLUDE_DEPTH 10

enum secrets_parse_flags {
	/* refuse "include" and "RSA /path" (for fuzzing untrusted text) */
	SECRETS_NO_FILES = 1 << 0,
};

/* Parse text (from a file or a test) into *out. name is used in error
 * messages ("FILE:LINE: ...") and its directory resolves relative include
 * and key file names. Returns 0, or -1 with err (InvalidSecrets) and *out
 * empty. */
int secrets_parse_text(const char *text, size_t len, const char *name, unsigned flags,
		       struct secrets *out, struct ctl_error *err);
int secrets_load_file(const char *path, struct secrets *out, struct ctl_error *err);
void secrets_free(struct secrets *s);

/* The daemon's current set */
void secrets_set_path(const char *path);
const char *secrets_path(void);
/* Reload from secrets_path(); on error the old set stays and err says why
 * (the caller logs it); on success logs "loaded N secrets from FILE". */
int secrets_reload(struct ctl_error *err);
const struct secrets *secrets_current(void);
void secrets_clear(void);

/* Best match for a pair of ids, as FreeS/WAN: an entry naming both ids
 * beats one naming one of them (the other matched by %any or left open),
 * which beats %any-only / id-less entries; ties go to the earliest entry.
 * For RSA only this_id has to be named. Either id may be NULL (unknown;
 * ID_ANY and ID_NONE are unknown too). NULL when nothing matches. */
const struct secret *secret_find(enum secret_kind kind, const struct pluto_id *this_id,
				 const struct pluto_id *that_id);
