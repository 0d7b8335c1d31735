/* ipsec.secrets(5): preshared keys and RSA private keys, indexed by
 * identities. The file is read at Listen and ReloadSecrets; a file with an
 * error is rejected whole (the old secrets stay in force) and the error
 * names file and line. Beside the file's set, a second set holds what
 * SetSecret handed over (API.md 2): in memory only, never touched by a
 * reload, and looked at first. Secrets are wiped when freed and never
 * printed. man/ipsec.secrets.5 is the reference for the syntax and matching. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "common/errors.h"
#include "common/id.h"

enum secret_kind { SECRET_PSK, SECRET_RSA, SECRET_XAUTH };

struct secret {
	enum secret_kind kind;
	size_t n_ids;                /* 0 ids = the line had none (matches any) */
	struct pluto_id *ids;        /* "%any", "%any6", "0.0.0.0", "::" are ID_ANY */
	unsigned char *psk;          /* SECRET_PSK: bytes, wiped on free */
	size_t psk_len;
	EVP_PKEY *rsa;               /* SECRET_RSA: private key */
	char **users;                /* SECRET_XAUTH: the user names it is for */
	size_t n_users;
	unsigned char *password;     /* SECRET_XAUTH: bytes, wiped on free */
	size_t password_len;
	char *file;                  /* where it came from, for logs; NULL: SetSecret */
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
/* At exit: frees (and wipes) both sets, the file's and SetSecret's. A
 * reload must use secrets_reload(), which never touches SetSecret's. */
void secrets_clear(void);

/* SetSecret: kind "psk" (ids as in the file: @fqdn, user@fqdn, address,
 * %any; none = any pair) or "xauth" (ids: one or more XAUTH user names),
 * secret: the bytes of the string, non-empty, at most SECRET_API_MAX_LEN.
 * The same kind with the same ids (in any order) replaces the secret in
 * place. Logs the kind and the ids, never the secret. 0, or -1 with err
 * (InvalidOption naming what is wrong) and nothing changed. */
#define SECRET_API_MAX_LEN 8192
int secrets_api_set(const char *kind, const char *const *ids, size_t n_ids, const char *secret,
		    struct ctl_error *err);
/* DeleteSecret: forget (and wipe) the SetSecret entry of that kind whose
 * ids are exactly these, in any order. -1 with err: InvalidOption for a
 * bad kind or id, UnknownName when no entry has these ids. */
int secrets_api_delete(const char *kind, const char *const *ids, size_t n_ids, struct ctl_error *err);
/* SetSecret's set, in the order the entries were first set */
const struct secrets *secrets_api_current(void);

/* Best match for a pair of ids, as FreeS/WAN: an entry naming both ids
 * beats one naming one of them (the other matched by %any or left open),
 * which beats %any-only / id-less entries; ties go to the earliest entry.
 * For RSA only this_id has to be named. Either id may be NULL (unknown;
 * ID_ANY and ID_NONE are unknown too). NULL when nothing matches.
 * SetSecret's entries are searched first, by the same rule; the file's
 * only when none of them matches, so the file never overrides them. */
const struct secret *secret_find(enum secret_kind kind, const struct pluto_id *this_id,
				 const struct pluto_id *that_id);
/* The XAUTH password of a user name (exact, case-sensitive): SetSecret's
 * entry first, then the file's; NULL when neither has one. */
const struct secret *secret_find_xauth(const char *user);
