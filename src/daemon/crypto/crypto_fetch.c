/* OpenSSL 3 looks an algorithm up by name, through its provider store
 * and property query, on every explicit fetch, and its HMAC fetches the
 * digest by name again on every init that names one. A handshake makes
 * some forty hashes, PRFs and CBC passes, and those lookups (string
 * hashing, locks, reference counts) cost about as much as the hashing.
 * So each algorithm is fetched once and kept for the life of the
 * process; HMAC keeps one context per hash with its digest set, which
 * each PRF duplicates. The objects are immutable once fetched and the
 * crypto helper threads share them: the table is filled under a mutex. */
#include "daemon/crypto/crypto_fetch.h"

#include <pthread.h>

#include <openssl/core_names.h>

#include "common/util.h"

struct fetched {
	fetch_maker make;     /* what built it: the kind of object */
	const struct alg *row;
	size_t key_len;       /* ciphers: the length in the name; else 0 */
	void *object;         /* EVP_MD, EVP_CIPHER, EVP_MAC_CTX (a template), ... */
};

/* As many as the algorithm rows and key lengths in use: a few dozen at
 * most, so a list; a failed fetch is not kept (asked again next time). */
static struct fetched *table;
static size_t n_table, cap_table;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

void *fetched_once(fetch_maker make, const struct alg *row, size_t key_len)
{
	if (!row)
		return NULL;
	void *object = NULL;
	pthread_mutex_lock(&table_lock);
	for (size_t i = 0; i < n_table && !object; i++)
		if (table[i].make == make && table[i].row == row && table[i].key_len == key_len)
			object = table[i].object;
	if (!object && (object = make(row, key_len))) {
		if (n_table == cap_table) {
			cap_table = cap_table ? 2 * cap_table : 16;
			table = xrealloc(table, cap_table * sizeof(*table));
		}
		table[n_table++] = (struct fetched){ make, row, key_len, object };
	}
	pthread_mutex_unlock(&table_lock);
	return object;
}

static void *make_md(const struct alg *row, size_t key_len)
{
	(void)key_len;
	return row->ossl_name ? EVP_MD_fetch(NULL, row->ossl_name, NULL) : NULL;
}

static void *make_cipher(const struct alg *row, size_t key_len)
{
	char name[64];
	if (!row->ossl_name)
		return NULL;
	return EVP_CIPHER_fetch(NULL, alg_fill_key(row->ossl_name, (unsigned)key_len * 8, name, sizeof(name)),
				NULL);
}

static void *make_hmac(const struct alg *row, size_t key_len)
{
	(void)key_len;
	if (!row->ossl_name)
		return NULL;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);   /* the context holds its own reference */
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)row->ossl_name, 0),
		OSSL_PARAM_construct_end(),
	};
	if (ctx && !EVP_MAC_CTX_set_params(ctx, params)) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

const EVP_MD *fetched_md(const struct alg *hash)
{
	return fetched_once(make_md, hash, 0);
}

const EVP_CIPHER *fetched_cipher(const struct alg *cipher, size_t key_len)
{
	return fetched_once(make_cipher, cipher, key_len);
}

EVP_MAC_CTX *hmac_ctx_new(const struct alg *hash)
{
	/* EVP_MAC_CTX_dup only reads the template: safe from any thread */
	EVP_MAC_CTX *template = fetched_once(make_hmac, hash, 0);
	return template ? EVP_MAC_CTX_dup(template) : NULL;
}
