/* Peers' RSA public keys: parsing the text forms and the store by id. */
#include "daemon/keys.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>

#include "common/bounded_file.h"
#include "common/util.h"
#include "daemon/log.h"
#include "daemon/rsa_text.h"

#define PUBKEY_FILE_MAX (64 * 1024)   /* a PEM public key is a few KiB at most */

static struct pubkey *pubkeys;

/* RFC 3110 section 2: exponent length (1 byte, or 0 then 2 bytes),
 * exponent, modulus. */
static EVP_PKEY *pubkey_from_rfc3110(const unsigned char *b, size_t len, const char **why)
{
	size_t off, elen;
	if (len < 1) {
		*why = "key blob is empty";
		return NULL;
	}
	if (b[0] != 0) {
		elen = b[0];
		off = 1;
	} else {
		if (len < 3) {
			*why = "key blob too short for its 3-byte exponent length";
			return NULL;
		}
		elen = (size_t)b[1] << 8 | b[2];
		off = 3;
		if (elen == 0) {
			*why = "key blob gives an exponent length of 0";
			return NULL;
		}
	}
	if (len - off <= elen) {
		*why = "key blob too short for its exponent and a modulus";
		return NULL;
	}
	return rsa_public_from_ne(b + off + elen, len - off - elen, b + off, elen, why);
}

/* PEM "PUBLIC KEY" (SubjectPublicKeyInfo) or "RSA PUBLIC KEY" (PKCS#1). */
static EVP_PKEY *pubkey_from_pem(const char *text, size_t len, const char **why)
{
	static const char *const headers[] = {
		"-----BEGIN PUBLIC KEY-----",
		"-----BEGIN RSA PUBLIC KEY-----",
	};
	bool known = false;
	for (size_t i = 0; i < ARRAY_SIZE(headers); i++)
		known |= len >= strlen(headers[i]) && strncmp(text, headers[i], strlen(headers[i])) == 0;
	if (!known) {
		/* in particular, a PRIVATE KEY block is refused: it has no
		 * business being passed around as a peer's key */
		*why = "PEM text must be a PUBLIC KEY or RSA PUBLIC KEY block";
		return NULL;
	}
	EVP_PKEY *decoded = NULL;
	OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&decoded, "PEM", NULL, "RSA",
							       EVP_PKEY_PUBLIC_KEY, NULL, NULL);
	const unsigned char *p = (const unsigned char *)text;
	size_t left = len;
	if (!dctx || !OSSL_DECODER_from_data(dctx, &p, &left) || !decoded) {
		OSSL_DECODER_CTX_free(dctx);
		EVP_PKEY_free(decoded);
		*why = "PEM text is not a valid RSA public key (bad base64, DER or not RSA)";
		return NULL;
	}
	OSSL_DECODER_CTX_free(dctx);

	/* rebuild from n and e so the same size rules apply to every form */
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY *key = NULL;
	if (EVP_PKEY_get_bn_param(decoded, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
	    EVP_PKEY_get_bn_param(decoded, OSSL_PKEY_PARAM_RSA_E, &e) == 1) {
		size_t nlen = (size_t)BN_num_bytes(n), elen = (size_t)BN_num_bytes(e);
		unsigned char *nb = xmalloc(nlen + 1), *eb = xmalloc(elen + 1);
		BN_bn2bin(n, nb);
		BN_bn2bin(e, eb);
		key = rsa_public_from_ne(nb, nlen, eb, elen, why);
		free(nb);
		free(eb);
	} else {
		*why = "PEM key is not an RSA key";
	}
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(decoded);
	return key;
}

static EVP_PKEY *parse_inline(const char *s, size_t len, const char **form, const char **why)
{
	if (len >= 2 && s[0] == '0' && (s[1] == 's' || s[1] == 'S' || s[1] == 'x' || s[1] == 'X')) {
		bool hex = s[1] == 'x' || s[1] == 'X';
		*form = hex ? "0x hex RFC 3110 key" : "0s base64 RFC 3110 key";
		unsigned char *blob;
		size_t blen;
		if (!text_decode_data(s, len, true, &blob, &blen, why))
			return NULL;
		EVP_PKEY *k = pubkey_from_rfc3110(blob, blen, why);
		free(blob);
		return k;
	}
	if (len >= 5 && strncmp(s, "-----", 5) == 0) {
		*form = "PEM public key";
		return pubkey_from_pem(s, len, why);
	}
	*form = "public key";
	*why = "expected 0s base64 (RFC 3110), 0x hex (RFC 3110), PEM text "
	       "(-----BEGIN PUBLIC KEY-----) or %file:/path.pem";
	return NULL;
}

static char *read_small_file(const char *path, size_t *len, const char **why)
{
	/* a FIFO or /dev/zero named by a %file: key must not hang the daemon */
	int fd = bounded_open(path, PUBKEY_FILE_MAX, why);
	if (fd < 0)
		return NULL;
	char *buf = bounded_read_fd(fd, PUBKEY_FILE_MAX, len, why);
	close(fd);
	return buf;
}

static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

char *pubkey_file_path(const char *text)
{
	const char *s = text ? text : "";
	size_t len = strlen(s);
	trim(&s, &len);
	if (len < 6 || strncmp(s, "%file:", 6) != 0)
		return NULL;
	return xasprintf("%.*s", (int)(len - 6), s + 6);
}

EVP_PKEY *pubkey_parse(const char *text, struct ctl_error *err)
{
	const char *s = text ? text : "";
	size_t len = strlen(s);
	const char *why = NULL, *form = "public key";
	trim(&s, &len);
	if (len == 0) {
		ctl_fail(err, PE_INVALID_OPTION, "public key is empty: expected 0s base64 (RFC 3110), "
			 "0x hex, PEM text or %%file:/path.pem");
		return NULL;
	}
	_cleanup_free_ char *path = pubkey_file_path(s);
	if (path) {
		if (path[0] != '/') {
			ctl_fail(err, PE_INVALID_OPTION, "%%file: public key needs an absolute path (%%file:/path.pem)");
			return NULL;
		}
		size_t flen = 0;
		_cleanup_free_ char *content = read_small_file(path, &flen, &why);
		if (!content) {
			ctl_fail(err, PE_INVALID_OPTION, "cannot read public key file %s: %s", path, why);
			return NULL;
		}
		const char *c = content;
		trim(&c, &flen);
		if (memchr(c, '\0', flen)) {
			ctl_fail(err, PE_INVALID_OPTION, "public key file %s is binary: expected PEM or 0s/0x text", path);
			return NULL;
		}
		EVP_PKEY *k = parse_inline(c, flen, &form, &why);
		if (!k)
			ctl_fail(err, PE_INVALID_OPTION, "public key file %s: invalid %s: %s", path, form, why);
		return k;
	}
	EVP_PKEY *k = parse_inline(s, len, &form, &why);
	if (!k)
		ctl_fail(err, PE_INVALID_OPTION, "invalid %s: %s", form, why);
	return k;
}

static unsigned char *rfc3110_blob(EVP_PKEY *key, size_t *len)
{
	BIGNUM *n = NULL, *e = NULL;
	unsigned char *blob = NULL;
	if (key && EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1) {
		size_t nlen = (size_t)BN_num_bytes(n), elen = (size_t)BN_num_bytes(e);
		size_t hdr = elen <= 255 ? 1 : 3;
		blob = xmalloc(hdr + elen + nlen);
		if (hdr == 1) {
			blob[0] = (unsigned char)elen;
		} else {
			blob[0] = 0;
			blob[1] = (unsigned char)(elen >> 8);
			blob[2] = (unsigned char)elen;
		}
		BN_bn2bin(e, blob + hdr);
		BN_bn2bin(n, blob + hdr + elen);
		*len = hdr + elen + nlen;
	}
	BN_free(n);
	BN_free(e);
	return blob;
}

static char *rfc3110_b64(EVP_PKEY *key)
{
	size_t len;
	_cleanup_free_ unsigned char *blob = rfc3110_blob(key, &len);
	return blob ? base64_encode(blob, len) : NULL;
}

char *pubkey_rfc3110_base64(EVP_PKEY *key)
{
	_cleanup_free_ char *b64 = rfc3110_b64(key);
	return b64 ? xasprintf("0s%s", b64) : NULL;
}

void pubkey_keyid(EVP_PKEY *key, char out[16])
{
	_cleanup_free_ char *b64 = rfc3110_b64(key);
	snprintf(out, 16, "%.*s", PUBKEY_KEYID_CHARS, b64 ? b64 : "");
}

int pubkey_add(const char *id, const char *keytext, struct ctl_error *err)
{
	struct pluto_id pid;
	const char *why = NULL;
	if (!id_parse(id, &pid, &why))
		return ctl_fail(err, PE_BAD_ID, "bad id \"%s\" for a public key: %s", id ? id : "", why);
	EVP_PKEY *key = pubkey_parse(keytext, err);
	if (!key)
		return -1;

	struct pubkey *pk = NULL;
	for (struct pubkey *p = pubkeys; p; p = p->next) {
		if (id_equal(&p->id, &pid)) {
			pk = p;
			break;
		}
	}
	if (pk) {
		EVP_PKEY_free(pk->key);   /* replaced in place: lookups stay valid */
	} else {
		pk = xcalloc(1, sizeof(*pk));
		pk->id = pid;
		pk->next = pubkeys;
		pubkeys = pk;
	}
	pk->key = key;
	pubkey_keyid(key, pk->keyid);
	char ids[ID_STR_MAX];
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_CONTROL, "added public key for %s (keyid %s)",
	     id_str(&pid, ids), pk->keyid);
	return 0;
}

const struct pubkey *pubkeys_first(void)
{
	return pubkeys;
}

const struct pubkey *pubkey_find(const struct pluto_id *id)
{
	for (struct pubkey *p = pubkeys; id && p; p = p->next) {
		if (id_equal(&p->id, id))
			return p;
	}
	return NULL;
}

void pubkeys_clear(void)
{
	while (pubkeys) {
		struct pubkey *next = pubkeys->next;
		EVP_PKEY_free(pubkeys->key);
		free(pubkeys);
		pubkeys = next;
	}
}
