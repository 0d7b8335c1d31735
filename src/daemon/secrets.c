/* ipsec.secrets: lexer, parser, the current set and the lookup.
 *
 * The file is a sequence of entries. An entry starts with a token in
 * column 0 and continues over following lines that start with a blank, so
 * the lexer reports for every token whether it starts in column 0. Errors
 * name FILE:LINE and the problem, never a token that could be (part of) a
 * secret: after the ':' nothing from the file is quoted back. */
#include "daemon/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/bounded_file.h"
#include "common/util.h"
#include "daemon/log.h"
#include "daemon/rsa_text.h"

#define SECRETS_FILE_MAX (16u * 1024 * 1024)
/* a PEM private key of 16384 bits is about 13 KiB */
#define RSA_KEY_FILE_MAX (1024u * 1024)

/* ---- lexer ---- */

enum tok_type { T_EOF, T_WORD, T_STRING, T_LBRACE, T_RBRACE };

struct token {
	enum tok_type type;
	const char *s;        /* T_WORD: the word; T_STRING: inside the quotes */
	size_t len;
	unsigned line;
	bool col0;            /* starts a line: begins a new entry */
};

struct parser {
	const char *text;
	size_t len, pos;
	unsigned line;
	const char *name;     /* file name for messages and relative paths */
	unsigned depth;       /* include nesting */
	unsigned flags;
	struct token cur;     /* one token of lookahead */
	struct secrets *out;
	struct secret **tail;
	struct ctl_error *err;
};

static int perr(struct parser *p, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(struct parser *p, unsigned line, const char *fmt, ...)
{
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ctl_fail(p->err, PE_INVALID_SECRETS, "%s:%u: %s", p->name, line, what);
}

static bool is_word_char(char c)
{
	return !(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
		 c == '"' || c == '\'' || c == '#' || c == '{' || c == '}' || c == '\0');
}

/* Move p->cur to the next token. */
static int advance(struct parser *p)
{
	struct token *t = &p->cur;
	for (;;) {
		if (p->pos >= p->len) {
			*t = (struct token){ .type = T_EOF, .line = p->line, .col0 = true };
			return 0;
		}
		char c = p->text[p->pos];
		if (c == '\n') {
			p->line++;
			p->pos++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			p->pos++;
		} else if (c == '#') {
			while (p->pos < p->len && p->text[p->pos] != '\n')
				p->pos++;
		} else if (c == '\0') {
			return perr(p, p->line, "NUL byte in the file");
		} else {
			break;
		}
	}
	size_t start = p->pos;
	char c = p->text[start];
	t->line = p->line;
	t->col0 = start == 0 || p->text[start - 1] == '\n';
	if (c == '"' || c == '\'') {
		size_t end = start + 1;
		while (end < p->len && p->text[end] != c && p->text[end] != '\n')
			end++;
		if (end >= p->len || p->text[end] != c)
			return perr(p, t->line, "unterminated quoted string (it must end on the same line)");
		t->type = T_STRING;
		t->s = p->text + start + 1;
		t->len = end - start - 1;
		p->pos = end + 1;
	} else if (c == '{' || c == '}') {
		t->type = c == '{' ? T_LBRACE : T_RBRACE;
		t->s = p->text + start;
		t->len = 1;
		p->pos++;
	} else {
		size_t end = start;
		while (end < p->len && is_word_char(p->text[end]))
			end++;
		t->type = T_WORD;
		t->s = p->text + start;
		t->len = end - start;
		p->pos = end;
	}
	return 0;
}

static bool tok_is(const struct token *t, const char *word)
{
	return t->type == T_WORD && strlen(word) == t->len && strncasecmp(t->s, word, t->len) == 0;
}

/* Is the current token part of the entry being parsed (not EOF, not the
 * start of the next entry)? */
static bool in_entry(const struct parser *p)
{
	return p->cur.type != T_EOF && !p->cur.col0;
}

/* ---- secrets ---- */

/* wipe and free what s holds, not s itself */
static void secret_free_fields(struct secret *s)
{
	if (s->psk) {
		OPENSSL_cleanse(s->psk, s->psk_len);
		free(s->psk);
	}
	if (s->password) {
		OPENSSL_cleanse(s->password, s->password_len);
		free(s->password);
	}
	EVP_PKEY_free(s->rsa);   /* OpenSSL clears the private numbers */
	for (size_t i = 0; i < s->n_users; i++)
		free(s->users[i]);
	free(s->users);
	free(s->ids);
	free(s->file);
}

static void secret_free(struct secret *s)
{
	secret_free_fields(s);
	free(s);
}

void secrets_free(struct secrets *s)
{
	while (s->list) {
		struct secret *next = s->list->next;
		secret_free(s->list);
		s->list = next;
	}
	s->count = 0;
}

static void append_secret(struct parser *p, struct secret *s)
{
	s->file = xstrdup(p->name);
	/* an include since the last entry appended behind our tail */
	while (*p->tail)
		p->tail = &(*p->tail)->next;
	*p->tail = s;
	p->tail = &s->next;
	p->out->count++;
}

/* "dir/of/including/file" + rel, or path itself when absolute */
static char *resolve_path(const char *including, const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	const char *slash = strrchr(including, '/');
	if (!slash)
		return xstrdup(path);
	return xasprintf("%.*s/%s", (int)(slash - including), including, path);
}

/* ---- ids ---- */

/* the spellings of "any peer" an entry may use besides %any */
static const char *const any_forms[] = { "%any", "%any6", "0.0.0.0", "::" };

static bool parse_any_form(const char *word, struct pluto_id *id)
{
	for (size_t i = 0; i < ARRAY_SIZE(any_forms); i++) {
		if (streq(word, any_forms[i])) {
			*id = (struct pluto_id){ .kind = ID_ANY };
			return true;
		}
	}
	return false;
}

/* The id in the current token; false with msg set when it is not one
 * (the caller reports it, or takes the word as an XAUTH user name). */
static bool parse_id(const struct parser *p, struct pluto_id *id, char *msg, size_t len)
{
	const struct token *t = &p->cur;
	char word[300];
	if (t->len >= sizeof(word)) {
		snprintf(msg, len, "id longer than 255 characters");
		return false;
	}
	memcpy(word, t->s, t->len);
	word[t->len] = '\0';
	if (parse_any_form(word, id))
		return true;
	const char *why = NULL;
	if (!id_parse(word, id, &why)) {
		if (t->len > 1 && word[t->len - 1] == ':')
			snprintf(msg, len, "bad id \"%.64s\": the ':' must be separated from the ids by blanks",
				 word);
		else
			snprintf(msg, len, "bad id \"%.64s\": %s", word, why);
		return false;
	}
	return true;
}

/* ---- PSK ---- */

/* The secret of a PSK or XAUTH entry: a quoted string, 0x hex or 0s
 * base64, into *bytes (what = "PSK" or "XAUTH" for the messages). */
static int parse_secret_bytes(struct parser *p, const struct secret *s, const char *what,
			      unsigned char **bytes, size_t *len)
{
	const struct token *t = &p->cur;
	if (!in_entry(p) || (t->type != T_WORD && t->type != T_STRING))
		return perr(p, in_entry(p) ? t->line : s->line,
			    "%s needs a secret: a quoted string, 0x hex or 0s base64", what);
	if (t->type == T_STRING) {
		if (t->len == 0)
			return perr(p, t->line, "%s is empty", what);
		*bytes = xmalloc(t->len);
		memcpy(*bytes, t->s, t->len);
		*len = t->len;
	} else {
		const char *why = NULL;
		if (t->len < 2 || t->s[0] != '0' || !strchr("xXsS", t->s[1]))
			return perr(p, t->line, "%s must be a quoted string, 0x hex or 0s base64", what);
		if (!text_decode_data(t->s, t->len, false, bytes, len, &why))
			return perr(p, t->line, "%s: %s", what, why);
		if (*len == 0)
			return perr(p, t->line, "%s is empty", what);
	}
	return advance(p);
}

static int parse_psk(struct parser *p, struct secret *s)
{
	return parse_secret_bytes(p, s, "PSK", &s->psk, &s->psk_len);
}

/* ---- XAUTH ---- */

static const char *bad_user_name(const char *user);

/* `@alice : XAUTH "pw"` or `alice : XAUTH "pw"`: the words before the
 * ':' are user names (a leading '@' is dropped: both spellings are in
 * use), not IKE identities. */
static int parse_xauth(struct parser *p, struct secret *s, char **words, size_t n_words)
{
	if (n_words == 0)
		return perr(p, s->line, "XAUTH needs the user name(s) before the ':'");
	s->users = xcalloc(n_words, sizeof(*s->users));
	for (size_t i = 0; i < n_words; i++) {
		const char *user = words[i][0] == '@' ? words[i] + 1 : words[i];
		const char *why = bad_user_name(user);
		for (size_t j = 0; j < ARRAY_SIZE(any_forms) && !why; j++)
			if (streq(words[i], any_forms[j]))
				why = "XAUTH entries name users: %any is not a user name";
		if (why)
			return perr(p, s->line, "bad XAUTH user \"%.64s\": %s", words[i], why);
		s->users[s->n_users++] = xstrdup(user);
	}
	free(s->ids);
	s->ids = NULL;
	s->n_ids = 0;
	return parse_secret_bytes(p, s, "XAUTH", &s->password, &s->password_len);
}

/* ---- RSA ---- */

static int parse_rsa_block(struct parser *p, struct secret *s)
{
	unsigned start = p->cur.line;
	struct rsa_fields f = { 0 };
	int r = advance(p);
	while (r == 0) {
		const struct token *t = &p->cur;
		if (t->type == T_EOF) {
			r = perr(p, start, "RSA { block is not closed with '}'");
			break;
		}
		if (t->type == T_RBRACE) {
			r = advance(p);
			break;
		}
		if (t->col0) {
			r = perr(p, t->line, "RSA { block started at line %u is not closed before this new entry "
				 "(lines inside it must start with a blank)", start);
			break;
		}
		if (t->type != T_WORD) {
			r = perr(p, t->line, "RSA { block: expected a field name such as Modulus:");
			break;
		}
		int fi = rsa_field_by_name(t->s, t->len);
		if (fi < 0) {
			r = perr(p, t->line, "RSA { block: unknown field (expected Modulus:, PublicExponent:, "
				 "PrivateExponent:, Prime1:, Prime2:, Exponent1:, Exponent2:, Coefficient:)");
			break;
		}
		if (f.v[fi]) {
			r = perr(p, t->line, "RSA { block: duplicate %s", rsa_field_name(fi));
			break;
		}
		unsigned fline = t->line;
		if ((r = advance(p)) < 0)
			break;
		if (!in_entry(p) || t->type != T_WORD) {
			r = perr(p, fline, "RSA { block: %s has no value (0x hex or 0s base64)", rsa_field_name(fi));
			break;
		}
		const char *why = NULL;
		if (!text_decode_data(t->s, t->len, false, &f.v[fi], &f.len[fi], &why)) {
			r = perr(p, t->line, "RSA { block: %s %s", rsa_field_name(fi), why);
			break;
		}
		r = advance(p);
	}
	if (r == 0) {
		const char *why = NULL;
		s->rsa = rsa_private_from_fields(&f, &why);
		if (!s->rsa)
			r = perr(p, start, "%s", why);
		ERR_clear_error();
	}
	rsa_fields_wipe(&f);
	return r;
}

/* OpenSSL asks for the passphrase of an encrypted PEM file; never prompt */
static int pem_passphrase(char *buf, int size, int rwflag, void *u)
{
	const char *pass = u;
	if (!pass)
		return -1;
	size_t n = strlen(pass);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pass, n);
	return (int)n;
}

static int parse_rsa_file(struct parser *p, struct secret *s)
{
	const struct token *t = &p->cur;
	unsigned line = t->line;
	if (p->flags & SECRETS_NO_FILES)
		return perr(p, line, "RSA key files are not allowed here");
	char *rel = strndup(t->s, t->len);
	if (!rel)
		abort();
	_cleanup_free_ char *path = resolve_path(p->name, rel);
	free(rel);
	int r = advance(p);
	if (r < 0)
		return r;
	char *pass = NULL;
	if (in_entry(p) && t->type == T_STRING) {
		pass = xmalloc(t->len + 1);
		memcpy(pass, t->s, t->len);
		pass[t->len] = '\0';
		r = advance(p);
	}
	if (r == 0) {
		/* checked first: a FIFO or /dev/zero would hang the PEM reader */
		const char *bad;
		int fd = bounded_open(path, RSA_KEY_FILE_MAX, &bad);
		FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
		if (fd >= 0 && !f) {
			bad = strerror(errno);
			close(fd);
		}
		if (!f) {
			r = perr(p, line, "cannot open RSA key file %s: %s", path, bad);
		} else {
			s->rsa = PEM_read_PrivateKey(f, NULL, pem_passphrase, pass);
			fclose(f);
			ERR_clear_error();
			const char *why = NULL;
			if (!s->rsa)
				r = perr(p, line, "cannot read a PEM private key from %s (%s)", path,
					 pass ? "not a PEM private key, or wrong passphrase"
					      : "not a PEM private key, or encrypted and no passphrase given");
			else if (!rsa_key_size_ok(s->rsa, &why))
				r = perr(p, line, "key file %s: %s", path, why);
		}
	}
	if (pass) {
		OPENSSL_cleanse(pass, strlen(pass));
		free(pass);
	}
	return r;
}

static int parse_rsa(struct parser *p, struct secret *s)
{
	if (in_entry(p) && p->cur.type == T_LBRACE)
		return parse_rsa_block(p, s);
	if (in_entry(p) && p->cur.type == T_WORD)
		return parse_rsa_file(p, s);
	return perr(p, in_entry(p) ? p->cur.line : s->line,
		    "RSA needs a { ... } block or the name of a PEM private key file");
}

/* ---- entries ---- */

/* Secret kinds of other IKE daemons, named so the error can say so. */
static const char *const unsupported_kinds[] = { "ECDSA", "PPK", "PIN", "EAP", "NTLM", "NULL" };

static int parse_entry(struct parser *p)
{
	struct secret *s = xcalloc(1, sizeof(*s));
	s->line = p->cur.line;
	size_t cap = 0;
	int r = 0;
	bool first = true;
	/* The words before the ':' are ids, except for XAUTH, whose kind
	 * comes after them: keep the words, and the first id error to
	 * report unless the entry turns out to be XAUTH. */
	char **words = NULL;
	size_t n_words = 0;
	char id_error[400] = "", later_error[400];
	unsigned id_error_line = 0;

	/* ids up to the ':' */
	for (;;) {
		const struct token *t = &p->cur;
		if (t->type == T_EOF || (t->col0 && !first)) {
			r = perr(p, s->line, "missing ':' between the ids and the secret");
			goto fail;
		}
		first = false;
		if (tok_is(t, ":")) {
			r = advance(p);
			break;
		}
		if (tok_is(t, "PSK") || tok_is(t, "RSA")) {
			r = perr(p, t->line, "missing ':' before %.3s", t->s);
			goto fail;
		}
		if (tok_is(t, "XAUTH")) {
			id_error_line = 0;   /* the words were user names */
			r = perr(p, t->line, "missing ':' before XAUTH");
			goto fail;
		}
		if (t->type != T_WORD) {
			r = perr(p, t->line, "missing ':' before the secret");
			goto fail;
		}
		if (s->n_ids == cap) {
			cap = cap ? 2 * cap : 4;
			s->ids = xrealloc(s->ids, cap * sizeof(*s->ids));
			words = xrealloc(words, cap * sizeof(*words));
		}
		words[n_words] = strndup(t->s, t->len < 300 ? t->len : 300);
		if (!words[n_words++])
			abort();
		char *msg = id_error_line ? later_error : id_error;
		if (!parse_id(p, &s->ids[s->n_ids], msg, sizeof(id_error)) && !id_error_line)
			id_error_line = t->line;
		s->n_ids++;
		if ((r = advance(p)) < 0)
			goto fail;
	}
	if (r < 0)
		goto fail;

	if (!in_entry(p) || p->cur.type != T_WORD) {
		r = perr(p, in_entry(p) ? p->cur.line : s->line,
			 "missing secret kind after ':' (expected PSK, RSA or XAUTH)");
		goto fail;
	}
	if (tok_is(&p->cur, "XAUTH")) {
		s->kind = SECRET_XAUTH;
		id_error_line = 0;           /* user names, not ids */
		if ((r = advance(p)) < 0 || (r = parse_xauth(p, s, words, n_words)) < 0)
			goto fail;
	} else if (id_error_line) {
		r = -1;
		goto fail;
	} else if (tok_is(&p->cur, "PSK")) {
		s->kind = SECRET_PSK;
		if ((r = advance(p)) < 0 || (r = parse_psk(p, s)) < 0)
			goto fail;
	} else if (tok_is(&p->cur, "RSA")) {
		s->kind = SECRET_RSA;
		if ((r = advance(p)) < 0 || (r = parse_rsa(p, s)) < 0)
			goto fail;
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(unsupported_kinds); i++) {
			if (tok_is(&p->cur, unsupported_kinds[i])) {
				r = perr(p, p->cur.line, "secret kind %s is not supported (only PSK, RSA and XAUTH)",
					 unsupported_kinds[i]);
				goto fail;
			}
		}
		r = perr(p, p->cur.line, "unknown secret kind after ':' (expected PSK, RSA or XAUTH)");
		goto fail;
	}
	if (in_entry(p)) {
		r = perr(p, p->cur.line, "unexpected text after the secret of the entry at line %u", s->line);
		goto fail;
	}
	append_secret(p, s);
	r = 0;
	goto out;
fail:
	/* a bad id comes first, as it comes first in the line */
	if (id_error_line)
		r = perr(p, id_error_line, "%s", id_error);
	secret_free(s);
out:
	for (size_t i = 0; i < n_words; i++)
		free(words[i]);
	free(words);
	return r;
}

static int parse_buffer(struct parser *p);
static int load_file(struct parser *parent, unsigned line, const char *path, struct secrets *out,
		     struct ctl_error *err);

static bool has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int parse_include(struct parser *p)
{
	unsigned line = p->cur.line;
	int r = advance(p);
	if (r < 0)
		return r;
	if (p->flags & SECRETS_NO_FILES)
		return perr(p, line, "include is not allowed here");
	if (!in_entry(p) || (p->cur.type != T_WORD && p->cur.type != T_STRING))
		return perr(p, line, "include needs a file name or pattern");
	char *rel = strndup(p->cur.s, p->cur.len);
	if (!rel)
		abort();
	_cleanup_free_ char *pattern = resolve_path(p->name, rel);
	free(rel);
	if ((r = advance(p)) < 0)
		return r;
	if (in_entry(p))
		return perr(p, p->cur.line, "unexpected text after the include file name");
	if (p->depth + 1 > SECRETS_MAX_INCLUDE_DEPTH)
		return perr(p, line, "include nested more than %d levels deep (an include loop?)",
			    SECRETS_MAX_INCLUDE_DEPTH);

	glob_t g;
	int gr = glob(pattern, 0, NULL, &g);
	if (gr == GLOB_NOMATCH) {
		/* a pattern may match nothing (an empty ipsec.d); a plain name must exist */
		if (has_glob_chars(pattern))
			return 0;
		return perr(p, line, "include file %s does not exist", pattern);
	}
	if (gr != 0)
		return perr(p, line, "cannot expand include pattern %s", pattern);
	for (size_t i = 0; r == 0 && i < g.gl_pathc; i++)
		r = load_file(p, line, g.gl_pathv[i], p->out, p->err);
	globfree(&g);
	return r;
}

static int parse_buffer(struct parser *p)
{
	if (memchr(p->text, '\0', p->len)) {
		/* find the line for the message */
		const char *nul = memchr(p->text, '\0', p->len);
		unsigned line = 1;
		for (const char *c = p->text; c < nul; c++)
			line += *c == '\n';
		return perr(p, line, "NUL byte in the file");
	}
	int r = advance(p);
	while (r == 0 && p->cur.type != T_EOF) {
		if (!p->cur.col0)
			return perr(p, p->cur.line, "line starts with a blank (a continuation) but no entry precedes it");
		if (tok_is(&p->cur, "include"))
			r = parse_include(p);
		else
			r = parse_entry(p);
	}
	return r;
}

/* Read a whole file; the buffer is wiped by the caller (it holds secrets). */
static char *read_file(const char *path, size_t *len, int *errnum, const char **why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);   /* a FIFO must not block */
	if (fd < 0) {
		*errnum = errno;
		*why = strerror(errno);
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		*errnum = errno;
		*why = strerror(errno);
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > SECRETS_FILE_MAX) {
		*errnum = EINVAL;
		*why = !S_ISREG(st.st_mode) ? "not a regular file" : "file is larger than 16 MiB";
		close(fd);
		return NULL;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			*errnum = errno;
			*why = strerror(errno);
			OPENSSL_cleanse(buf, n);
			free(buf);
			close(fd);
			return NULL;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n == cap) {
			/* the file grew while we read it: stop at the limit */
			if (cap > SECRETS_FILE_MAX) {
				*errnum = EFBIG;
				*why = "file is larger than 16 MiB";
				OPENSSL_cleanse(buf, n);
				free(buf);
				close(fd);
				return NULL;
			}
			char *bigger = xmalloc(cap * 2);
			memcpy(bigger, buf, n);
			OPENSSL_cleanse(buf, n);
			free(buf);
			buf = bigger;
			cap *= 2;
		}
	}
	close(fd);
	*len = n;
	return buf;
}

static int run_parser(const char *text, size_t len, const char *name, unsigned flags, unsigned depth,
		      struct secrets *out, struct ctl_error *err)
{
	struct parser p = {
		.text = text, .len = len, .line = 1, .name = name, .depth = depth, .flags = flags,
		.out = out, .err = err,
	};
	/* append after what is there already (the including file's entries) */
	p.tail = &out->list;
	while (*p.tail)
		p.tail = &(*p.tail)->next;
	return parse_buffer(&p);
}

/* parent == NULL: the top-level file */
static int load_file(struct parser *parent, unsigned line, const char *path, struct secrets *out,
		     struct ctl_error *err)
{
	size_t len = 0;
	int errnum = 0;
	const char *why = NULL;
	char *text = read_file(path, &len, &errnum, &why);
	if (!text) {
		if (parent) {
			if (errnum == ENOENT)
				return perr(parent, line, "include file %s does not exist", path);
			return perr(parent, line, "cannot read include file %s: %s", path, why);
		}
		if (errnum == ENOENT)
			return ctl_fail(err, PE_INVALID_SECRETS, "secrets file %s does not exist", path);
		return ctl_fail(err, PE_INVALID_SECRETS, "cannot read secrets file %s: %s", path, why);
	}
	int r = run_parser(text, len, path, parent ? parent->flags : 0, parent ? parent->depth + 1 : 0,
			   out, err);
	OPENSSL_cleanse(text, len);
	free(text);
	return r;
}

int secrets_parse_text(const char *text, size_t len, const char *name, unsigned flags,
		       struct secrets *out, struct ctl_error *err)
{
	*out = (struct secrets){ 0 };
	int r = run_parser(text ? text : "", text ? len : 0, name ? name : "(text)", flags, 0, out, err);
	if (r < 0)
		secrets_free(out);
	return r;
}

int secrets_load_file(const char *path, struct secrets *out, struct ctl_error *err)
{
	*out = (struct secrets){ 0 };
	int r = load_file(NULL, 0, path, out, err);
	if (r < 0)
		secrets_free(out);
	return r;
}

/* ---- the daemon's set ---- */

static char current_path[PATH_MAX];
static struct secrets current;
static struct secrets api;     /* SetSecret's: in memory only, no reload touches it */

void secrets_set_path(const char *path)
{
	snprintf(current_path, sizeof(current_path), "%s", path ? path : "");
}

const char *secrets_path(void)
{
	return current_path[0] ? current_path : NULL;
}

int secrets_reload(struct ctl_error *err)
{
	if (!secrets_path())
		return ctl_fail(err, PE_INVALID_SECRETS, "no secrets file configured");
	struct secrets fresh;
	if (secrets_load_file(current_path, &fresh, err) < 0)
		return -1;
	secrets_free(&current);
	current = fresh;
	/* say that SetSecret's entries stay, so nobody wonders where a PSK
	 * that is not in the file comes from */
	char kept[64] = "";
	if (api.count)
		snprintf(kept, sizeof(kept), " (%zu more set by SetSecret, kept)", api.count);
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_SECRETS, "loaded %zu secrets from %s%s", current.count,
	     current_path, kept);
	return 0;
}

const struct secrets *secrets_current(void)
{
	return &current;
}

void secrets_clear(void)
{
	secrets_free(&current);
	secrets_free(&api);
}

/* ---- SetSecret / DeleteSecret ---- */

static const struct {
	const char *name;
	enum secret_kind kind;
} api_kinds[] = {
	{ "psk", SECRET_PSK },
	{ "xauth", SECRET_XAUTH },
};

static int api_kind(const char *name, enum secret_kind *kind, struct ctl_error *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(api_kinds); i++) {
		if (name && streq(name, api_kinds[i].name)) {
			*kind = api_kinds[i].kind;
			return 0;
		}
	}
	/* a kind is a short word; quote at most a little of whatever came */
	return ctl_fail(err, PE_INVALID_OPTION, "unknown secret kind \"%.32s\" (expected psk or xauth)",
			name ? name : "");
}

static const char *api_kind_name(enum secret_kind kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(api_kinds); i++)
		if (api_kinds[i].kind == kind)
			return api_kinds[i].name;
	return "?";
}

/* XAUTH user names go into log lines: printable, no blanks at either end */
static const char *bad_user_name(const char *user)
{
	size_t n = strlen(user);
	if (n == 0)
		return "empty user name";
	if (n > 255)
		return "user name longer than 255 bytes";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f)
			return "user name with a control character";
	if (user[0] == ' ' || user[n - 1] == ' ')
		return "user name starting or ending with a blank";
	return NULL;
}

/* The ids of a request, checked and converted into e (ids or users): the
 * same for SetSecret and DeleteSecret, so both name an entry alike. */
static int api_ids(struct secret *e, const char *const *ids, size_t n_ids, struct ctl_error *err)
{
	if (e->kind == SECRET_XAUTH && n_ids == 0)
		return ctl_fail(err, PE_INVALID_OPTION, "an xauth secret needs at least one user name as id");
	if (n_ids > 64)
		return ctl_fail(err, PE_INVALID_OPTION, "more than 64 ids for one secret");
	if (e->kind == SECRET_XAUTH) {
		e->users = xcalloc(n_ids, sizeof(*e->users));
		for (size_t i = 0; i < n_ids; i++) {
			const char *why = ids[i] ? bad_user_name(ids[i]) : "missing user name";
			if (why)
				return ctl_fail(err, PE_INVALID_OPTION, "bad id %zu of the xauth secret: %s",
						i + 1, why);
			for (size_t j = 0; j < i; j++)
				if (streq(e->users[j], ids[i]))
					return ctl_fail(err, PE_INVALID_OPTION,
							"bad id \"%s\": user name given twice", ids[i]);
			e->users[e->n_users++] = xstrdup(ids[i]);
		}
		return 0;
	}
	e->ids = xcalloc(n_ids ? n_ids : 1, sizeof(*e->ids));
	for (size_t i = 0; i < n_ids; i++) {
		const char *why = "empty identity";
		struct pluto_id *id = &e->ids[i];
		if (!ids[i] || (!parse_any_form(ids[i], id) && !id_parse(ids[i], id, &why)))
			return ctl_fail(err, PE_INVALID_OPTION, "bad id \"%.64s\" of the psk secret: %s",
					ids[i] ? ids[i] : "", why);
		for (size_t j = 0; j < i; j++)
			if (id_equal(&e->ids[j], id))
				return ctl_fail(err, PE_INVALID_OPTION, "bad id \"%.64s\": given twice", ids[i]);
		e->n_ids++;
	}
	return 0;
}

/* Same kind and the same ids, in any order (api_ids refused repeats, so
 * equal counts and every id of a found in b make the sets equal). */
static bool api_same_ids(const struct secret *a, const struct secret *b)
{
	if (a->kind != b->kind || a->n_ids != b->n_ids || a->n_users != b->n_users)
		return false;
	for (size_t i = 0; i < a->n_ids; i++) {
		bool found = false;
		for (size_t j = 0; j < b->n_ids && !found; j++)
			found = id_equal(&a->ids[i], &b->ids[j]);
		if (!found)
			return false;
	}
	for (size_t i = 0; i < a->n_users; i++) {
		bool found = false;
		for (size_t j = 0; j < b->n_users && !found; j++)
			found = streq(a->users[i], b->users[j]);
		if (!found)
			return false;
	}
	return true;
}

/* "psk for @a @b", "xauth for alice": what a log line may say of an entry */
static void api_describe(const struct secret *e, char *buf, size_t len)
{
	size_t k = (size_t)snprintf(buf, len, "%s for", api_kind_name(e->kind));
	char ib[ID_STR_MAX];
	for (size_t i = 0; i < e->n_ids && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, " %s", id_str(&e->ids[i], ib));
	for (size_t i = 0; i < e->n_users && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, " %s", e->users[i]);
	if (e->n_ids == 0 && e->n_users == 0 && k < len)
		snprintf(buf + k, len - k, " any ids");
}

/* The API entry with e's kind and ids: the link that points at it */
static struct secret **api_slot(const struct secret *e)
{
	for (struct secret **at = &api.list; *at; at = &(*at)->next)
		if (api_same_ids(*at, e))
			return at;
	return NULL;
}

int secrets_api_set(const char *kind, const char *const *ids, size_t n_ids, const char *secret,
		    struct ctl_error *err)
{
	struct secret *e = xcalloc(1, sizeof(*e));
	int r = api_kind(kind, &e->kind, err);
	if (r == 0)
		r = api_ids(e, ids, n_ids, err);
	size_t len = secret ? strlen(secret) : 0;
	if (r == 0 && len == 0)
		r = ctl_fail(err, PE_INVALID_OPTION, "the secret is empty");
	if (r == 0 && len > SECRET_API_MAX_LEN)
		r = ctl_fail(err, PE_INVALID_OPTION, "the secret is longer than %d bytes", SECRET_API_MAX_LEN);
	if (r < 0) {
		secret_free(e);
		return -1;
	}
	unsigned char *bytes = xmalloc(len);
	memcpy(bytes, secret, len);
	if (e->kind == SECRET_XAUTH) {
		e->password = bytes;
		e->password_len = len;
	} else {
		e->psk = bytes;
		e->psk_len = len;
	}
	char what[600];
	api_describe(e, what, sizeof(what));
	struct secret **slot = api_slot(e);
	if (slot) {
		/* in place: the entry keeps its rank among equals */
		e->next = (*slot)->next;
		secret_free(*slot);
		*slot = e;
	} else {
		struct secret **tail = &api.list;
		while (*tail)
			tail = &(*tail)->next;
		*tail = e;
		api.count++;
	}
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_SECRETS, "%s the %s secret (SetSecret, kept in memory only)",
	     slot ? "replaced" : "stored", what);
	return 0;
}

int secrets_api_delete(const char *kind, const char *const *ids, size_t n_ids, struct ctl_error *err)
{
	struct secret key = { 0 };
	int r = api_kind(kind, &key.kind, err);
	if (r == 0)
		r = api_ids(&key, ids, n_ids, err);
	char what[600] = "";
	if (r == 0)
		api_describe(&key, what, sizeof(what));
	struct secret **slot = r == 0 ? api_slot(&key) : NULL;
	secret_free_fields(&key);
	if (r < 0)
		return -1;
	if (!slot)
		return ctl_fail(err, PE_UNKNOWN_NAME, "no %s secret was set by SetSecret", what);
	struct secret *gone = *slot;
	*slot = gone->next;
	secret_free(gone);
	api.count--;
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_SECRETS, "deleted the %s secret (DeleteSecret)", what);
	return 0;
}

const struct secrets *secrets_api_current(void)
{
	return &api;
}

/* ---- lookup ---- */

static bool id_known(const struct pluto_id *id)
{
	return id && id->kind != ID_ANY && id->kind != ID_NONE;
}

/* 2: the slot names this id; 1: the slot is %any (or the open other end
 * of a one-id entry, slot == NULL); 0: no match */
static int slot_match(const struct pluto_id *want, const struct pluto_id *slot)
{
	if (!slot || slot->kind == ID_ANY)
		return 1;
	return id_known(want) && id_equal(want, slot) ? 2 : 0;
}

/* 3: both ids named; 2: one named, the other %any/open; 1: id-less or
 * only %any and open ends; 0: no match. An entry stands for every pair of
 * two of its ids. A one-id entry also pairs its id with an open end on
 * either side; an RSA entry (a private key: this end's) pairs each of its
 * ids, as this end, with an open peer end. */
static int secret_rank(const struct secret *s, const struct pluto_id *this_id, const struct pluto_id *that_id)
{
	if (s->n_ids == 0)
		return 1;
	size_t n = s->n_ids;
	bool open_this = n == 1 && s->kind == SECRET_PSK;
	bool open_that = n == 1 || s->kind == SECRET_RSA;
	int best = 0;
	/* slot n is the open end */
	for (size_t i = 0; i <= n; i++) {
		if (i == n && !open_this)
			break;
		int a = slot_match(this_id, i < n ? &s->ids[i] : NULL);
		if (!a)
			continue;
		for (size_t j = 0; j <= n; j++) {
			if (j == i || (j == n && !open_that))
				continue;
			int b = slot_match(that_id, j < n ? &s->ids[j] : NULL);
			if (!b)
				continue;
			int rank = 1 + (a == 2) + (b == 2);
			if (rank > best)
				best = rank;
		}
	}
	return best;
}

static const struct secret *best_in(const struct secrets *set, enum secret_kind kind,
				    const struct pluto_id *this_id, const struct pluto_id *that_id)
{
	const struct secret *best = NULL;
	int best_rank = 0;
	for (const struct secret *s = set->list; s; s = s->next) {
		if (s->kind != kind)
			continue;
		int rank = secret_rank(s, this_id, that_id);
		if (rank > best_rank) {   /* ties: the earliest entry wins */
			best = s;
			best_rank = rank;
		}
	}
	return best;
}

const struct secret *secret_find(enum secret_kind kind, const struct pluto_id *this_id,
				 const struct pluto_id *that_id)
{
	const struct secret *s = best_in(&api, kind, this_id, that_id);
	return s ? s : best_in(&current, kind, this_id, that_id);
}

static const struct secret *xauth_in(const struct secrets *set, const char *user)
{
	for (const struct secret *s = set->list; s; s = s->next)
		for (size_t i = 0; s->kind == SECRET_XAUTH && i < s->n_users; i++)
			if (streq(s->users[i], user))
				return s;
	return NULL;
}

const struct secret *secret_find_xauth(const char *user)
{
	if (!user)
		return NULL;
	const struct secret *s = xauth_in(&api, user);
	return s ? s : xauth_in(&current, user);
}
