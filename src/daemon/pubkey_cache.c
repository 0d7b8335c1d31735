/* A road warrior's connection names its peer's key as text, and every
 * instance carries the template's text: parsing it (base64 or PEM, and
 * for %file: opening and reading the file) at each handshake cost a
 * tenth of an RSA handshake's CPU. The parsed keys are kept here, by
 * their text: as many as the configuration names (a bounded table whose
 * oldest entry gives way), a %file: key checked against the file's
 * stat so that a replaced file is read again, as it was before. */
#include "daemon/pubkey_cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "daemon/keys.h"

#define PUBKEY_CACHE_SLOTS 64

struct cached_key {
	char *text;           /* as the connection gives it; NULL: slot free */
	EVP_PKEY *key;
	bool is_file;
	struct stat st;       /* %file: the file when it was read */
};

static struct cached_key slots[PUBKEY_CACHE_SLOTS];
static size_t next_victim;    /* round robin: the table is full rarely if ever */

static void slot_clear(struct cached_key *k)
{
	free(k->text);
	EVP_PKEY_free(k->key);
	*k = (struct cached_key){ 0 };
}

void pubkey_cache_clear(void)
{
	for (size_t i = 0; i < PUBKEY_CACHE_SLOTS; i++)
		slot_clear(&slots[i]);
	next_victim = 0;
}

enum key_source { KEY_INLINE, KEY_FILE, KEY_FILE_UNSEEN };

/* Where text's key comes from; a %file: that cannot be stat'ed is
 * KEY_FILE_UNSEEN (parsed, never kept: the parse says what is wrong). */
static enum key_source key_source(const char *text, struct stat *st)
{
	_cleanup_free_ char *path = pubkey_file_path(text);
	if (!path)
		return KEY_INLINE;
	return stat(path, st) == 0 ? KEY_FILE : KEY_FILE_UNSEEN;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

EVP_PKEY *pubkey_parse_cached(const char *text, struct ctl_error *err)
{
	if (!text)
		return pubkey_parse(text, err);
	struct stat st;
	enum key_source source = key_source(text, &st);
	if (source == KEY_FILE_UNSEEN)
		return pubkey_parse(text, err);
	bool is_file = source == KEY_FILE;
	struct cached_key *hit = NULL;
	for (size_t i = 0; i < PUBKEY_CACHE_SLOTS && !hit; i++)
		if (slots[i].text && strcmp(slots[i].text, text) == 0)
			hit = &slots[i];
	if (hit && (!is_file || same_file(&hit->st, &st))) {
		EVP_PKEY_up_ref(hit->key);
		return hit->key;
	}
	if (hit)
		slot_clear(hit);   /* the file changed or went: read it again */

	EVP_PKEY *key = pubkey_parse(text, err);
	if (!key)
		return NULL;       /* not kept: the error is said again next time */
	struct cached_key *slot = hit;
	for (size_t i = 0; i < PUBKEY_CACHE_SLOTS && !slot; i++)
		if (!slots[i].text)
			slot = &slots[i];
	if (!slot) {
		slot = &slots[next_victim];
		next_victim = (next_victim + 1) % PUBKEY_CACHE_SLOTS;
		slot_clear(slot);
	}
	*slot = (struct cached_key){ .text = xstrdup(text), .key = key, .is_file = is_file };
	if (is_file)
		slot->st = st;
	EVP_PKEY_up_ref(key);
	return key;
}
