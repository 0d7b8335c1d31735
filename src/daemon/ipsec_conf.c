/* ipsec.conf(5): read the file and its includes into sections, resolve
 * %default and also= into each conn's effective settings, validate every
 * conn through the one option parser, and collect every error as
 * "FILE:LINE: what" in file order. Nothing here touches the daemon.
 *
 * Two passes: parsing (syntax, keywords, duplicates) keeps the raw lines of
 * each section; resolution and validation run once everything is read, so
 * also= may name a conn defined further down or in an included file. */
#include "daemon/ipsec_conf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/debug_class.h"
#include "common/errors.h"
#include "common/util.h"
#include "daemon/conn_options.h"
#include "daemon/keys.h"

#define INCLUDE_DEPTH_MAX   8          /* nested include levels */
#define INCLUDE_FILES_MAX   1024       /* files one load may read */
#define FILE_SIZE_MAX       (64u << 20)
#define ALSO_DEPTH_MAX      32         /* nested also= levels */
#define ALSO_SETTINGS_MAX   4096       /* settings one conn may pull in through also= */
#define ECHO_MAX            64         /* bytes of the file quoted in a message */

/* --- a string -> index hash table (conn names, messages already given) --- */

struct name_index {
	const char **keys;       /* not owned; NULL = empty slot */
	size_t *vals;
	size_t cap, n;           /* cap: a power of two */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;    /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static size_t *index_find(const struct name_index *ix, const char *key)
{
	if (!ix->cap)
		return NULL;
	for (size_t i = hash_str(key) & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
		if (!ix->keys[i])
			return NULL;
		if (streq(ix->keys[i], key))
			return &ix->vals[i];
	}
}

static void index_put(struct name_index *ix, const char *key, size_t val);

static void index_grow(struct name_index *ix)
{
	struct name_index old = *ix;
	ix->cap = old.cap ? old.cap * 2 : 64;
	ix->n = 0;
	ix->keys = xcalloc(ix->cap, sizeof(*ix->keys));
	ix->vals = xcalloc(ix->cap, sizeof(*ix->vals));
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i])
			index_put(ix, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
}

/* key must outlive the index; an existing key keeps its value */
static void index_put(struct name_index *ix, const char *key, size_t val)
{
	if (2 * (ix->n + 1) > ix->cap)
		index_grow(ix);
	size_t i = hash_str(key) & (ix->cap - 1);
	while (ix->keys[i]) {
		if (streq(ix->keys[i], key))
			return;
		i = (i + 1) & (ix->cap - 1);
	}
	ix->keys[i] = key;
	ix->vals[i] = val;
	ix->n++;
}

static void index_free(struct name_index *ix)
{
	free(ix->keys);
	free(ix->vals);
	memset(ix, 0, sizeof(*ix));
}

/* --- the loader's state --- */

struct raw_setting {
	char *key, *value;
	size_t file;             /* index into loader.files */
	unsigned line;
	unsigned long ord;       /* reading order of its line: sorts messages */
};

struct section {
	char *name;
	size_t file;
	unsigned line;
	unsigned long ord;
	struct raw_setting *v;
	size_t n, cap;
	bool in_loop;            /* an also= loop through it was reported */
	bool broken;             /* a line of it was refused: its settings are incomplete */
};

struct diag_entry {
	unsigned long ord;
	size_t seq;
	char *text;
};

struct file_id {
	dev_t dev;
	ino_t ino;
};

enum context { CTX_NONE, CTX_SETUP, CTX_CONN, CTX_DISCARD };

struct loader {
	unsigned flags;
	char **files;
	size_t n_files, cap_files;
	unsigned long ord;
	struct section *conns;   /* file order; %default is not among them */
	size_t n_conns, cap_conns;
	struct section deflt;
	bool have_default;
	struct name_index by_name;
	struct conf_setup setup;
	struct raw_setting setup_seen[4];   /* where each setup keyword was given */
	unsigned long setup_ord;             /* of the first "config setup", 0 = none */
	unsigned setup_line;
	size_t setup_file;
	unsigned long version_ord;
	unsigned version_line;
	struct diag_entry *diags;
	size_t n_diags, cap_diags;
	struct name_index said;              /* messages already given, once each */
	struct file_id stack[INCLUDE_DEPTH_MAX + 1];
	unsigned depth;
	/* the section the lines go to */
	enum context ctx;
	struct section *cur;                 /* CTX_CONN: a conn or &deflt */
	size_t cur_index;                    /* its index in conns, SIZE_MAX for %default */
};

static const char *file_name(const struct loader *L, size_t f)
{
	return L->files[f];
}

/* Keep text (owned) as a message, unless the same was already said: a bad
 * %default or also= line is reported once, not once per conn using it. */
static void diag_push(struct loader *L, unsigned long ord, char *text)
{
	if (index_find(&L->said, text)) {
		free(text);
		return;
	}
	if (L->n_diags == L->cap_diags) {
		L->cap_diags = L->cap_diags ? 2 * L->cap_diags : 16;
		L->diags = xrealloc(L->diags, L->cap_diags * sizeof(*L->diags));
	}
	L->diags[L->n_diags] = (struct diag_entry){ .ord = ord, .seq = L->n_diags, .text = text };
	L->n_diags++;
	index_put(&L->said, text, 0);
}

/* "FILE:LINE: what" */
__attribute__((format(printf, 5, 6)))
static void diag_at(struct loader *L, size_t file, unsigned line, unsigned long ord, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_addf(&sb, "%s:%u: ", file_name(L, file), line);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	diag_push(L, ord, strbuf_steal(&sb));
}

/* A piece of the file as it may appear in a message: printable ASCII, the
 * rest as \xNN, cut at ECHO_MAX bytes. Static: one message at a time. */
static const char *echo(const char *s, size_t len)
{
	static char buf[ECHO_MAX * 4 + 8];
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (i == ECHO_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			buf[o++] = (char)ch;
		else
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\x%02x", ch);
	}
	buf[o] = '\0';
	return buf;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Bytes no text file holds: everything below 0x20 but tab, CR and LF, and DEL. */
static bool is_binary(unsigned char ch)
{
	return (ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f;
}

/* The words of a section header or include line, up to a # comment; a word
 * may be "quoted". Returns the count, or -1 with *why set. The words are
 * cut out of line in place. */
static int split_words(char *line, char **words, int max, const char **why)
{
	int n = 0;
	char *p = line;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (*p == '\0' || *p == '#')
			return n;
		if (n == max) {
			*why = "too many words";
			return -1;
		}
		if (*p == '"') {
			char *end = strchr(p + 1, '"');
			if (!end) {
				*why = "unterminated quoted value";
				return -1;
			}
			*end = '\0';
			words[n++] = p + 1;
			p = end + 1;
			if (*p && !is_blank(*p) && *p != '#') {
				*why = "text right after the closing quote";
				return -1;
			}
			continue;
		}
		words[n++] = p;
		while (*p && !is_blank(*p) && *p != '#')
			p++;
		if (*p == '#') {
			*p = '\0';
			return n;
		}
		if (*p)
			*p++ = '\0';
	}
}

/* --- "config setup" --- */

typedef bool (*setup_fn)(struct conf_setup *s, const char *v, char *why, size_t whylen);

static bool setup_yes_no(const char *v, int *out, char *why, size_t whylen)
{
	if (streq(v, "yes"))
		*out = 1;
	else if (streq(v, "no"))
		*out = 0;
	else
		return fail_msg(why, whylen, "must be yes or no"), false;
	return true;
}

static bool setup_uniqueids(struct conf_setup *s, const char *v, char *why, size_t whylen)
{
	return setup_yes_no(v, &s->uniqueids, why, whylen);
}

static bool setup_listen(struct conf_setup *s, const char *v, char *why, size_t whylen)
{
	return setup_yes_no(v, &s->listen, why, whylen);
}

static bool valid_ifname(const char *w)
{
	size_t n = strlen(w);
	if (n == 0 || n > 15 || streq(w, ".") || streq(w, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)w[i];
		if (!(isalnum(ch) || strchr("-_.:@", ch)))
			return false;
	}
	return true;
}

/* interfaces="eth0 eth1"; FreeS/WAN's interfaces=%defaultroute is taken as
 * "not given": pluto then listens on every interface, the default route's
 * among them. */
static bool setup_interfaces(struct conf_setup *s, const char *v, char *why, size_t whylen)
{
	_cleanup_free_ char *copy = xstrdup(v);
	char *words[17];
	const char *err = NULL;
	int n = split_words(copy, words, 16, &err);
	if (n < 0)
		return fail_msg(why, whylen, "at most 16 interfaces"), false;
	if (n == 1 && streq(words[0], "%defaultroute"))
		return true;
	for (int i = 0; i < n; i++)
		if (!valid_ifname(words[i]))
			return fail_msg(why, whylen, "'%s' is not an interface name (or %%defaultroute alone)",
					echo(words[i], strlen(words[i]))), false;
	strv_free(s->interfaces);
	s->interfaces = xcalloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; i < n; i++)
		s->interfaces[i] = xstrdup(words[i]);
	return true;
}

static bool setup_plutodebug(struct conf_setup *s, const char *v, char *why, size_t whylen)
{
	_cleanup_free_ char *copy = xstrdup(v);
	char *words[64];
	const char *err = NULL;
	int n = split_words(copy, words, 64, &err);
	if (n <= 0)
		return fail_msg(why, whylen, "must be all, none or debug class names"), false;
	for (int i = 0; i < n; i++) {
		unsigned mask;
		bool none;
		if (!debug_class_parse(words[i], &mask, &none))
			return fail_msg(why, whylen, "unknown debug class '%s' (see pluto(8) --debug-CLASS)",
					echo(words[i], strlen(words[i]))), false;
	}
	free(s->plutodebug);
	s->plutodebug = xstrdup(v);
	return true;
}

static const struct {
	const char *keyword;
	setup_fn set;
} setup_keywords[] = {
	{ "interfaces", setup_interfaces },
	{ "uniqueids",  setup_uniqueids },
	{ "plutodebug", setup_plutodebug },
	{ "listen",     setup_listen },
};

static void setup_line(struct loader *L, size_t file, unsigned line, const char *key, const char *value)
{
	for (size_t i = 0; i < ARRAY_SIZE(setup_keywords); i++) {
		if (!streq(key, setup_keywords[i].keyword))
			continue;
		struct raw_setting *seen = &L->setup_seen[i];
		if (seen->ord) {
			diag_at(L, file, line, L->ord, "'%s' given twice in config setup (first at %s:%u)", key,
				file_name(L, seen->file), seen->line);
			return;
		}
		*seen = (struct raw_setting){ .file = file, .line = line, .ord = L->ord };
		char why[200];
		if (!setup_keywords[i].set(&L->setup, value, why, sizeof(why)))
			diag_at(L, file, line, L->ord, "invalid value '%s' for '%s': %s", echo(value, strlen(value)),
				key, why);
		return;
	}
	diag_at(L, file, line, L->ord, "unknown keyword '%s'", echo(key, strlen(key)));
}

/* --- conn sections --- */

static void section_add(struct section *sec, const char *key, const char *value, size_t file, unsigned line,
			unsigned long ord)
{
	if (sec->n == sec->cap) {
		sec->cap = sec->cap ? 2 * sec->cap : 16;
		sec->v = xrealloc(sec->v, sec->cap * sizeof(*sec->v));
	}
	sec->v[sec->n++] = (struct raw_setting){ .key = xstrdup(key), .value = xstrdup(value), .file = file,
						  .line = line, .ord = ord };
}

static void conn_line(struct loader *L, size_t file, unsigned line, const char *key, const char *value)
{
	bool is_also = streq(key, "also");
	if (!is_also && !connection_option_known(key)) {
		diag_at(L, file, line, L->ord, "unknown keyword '%s'", echo(key, strlen(key)));
		return;
	}
	if (L->ctx == CTX_DISCARD)
		return;
	struct section *sec = L->cur;
	if (is_also && sec == &L->deflt) {
		diag_at(L, file, line, L->ord, "also= cannot be used in conn %%default");
		return;
	}
	if (!is_also) {
		for (size_t i = 0; i < sec->n; i++) {
			const struct raw_setting *r = &sec->v[i];
			if (!streq(r->key, key))
				continue;
			if (r->file == file)
				diag_at(L, file, line, L->ord, "'%s' given twice in conn %s (first at line %u)", key,
					sec->name, r->line);
			else
				diag_at(L, file, line, L->ord, "'%s' given twice in conn %s (first at %s:%u)", key,
					sec->name, file_name(L, r->file), r->line);
			return;
		}
	}
	section_add(sec, key, value, file, line, L->ord);
}

/* An indented "key=value" line (s: the text after the indentation). */
static void setting_line(struct loader *L, size_t file, unsigned line, char *s, bool last_line)
{
	if (L->ctx == CTX_NONE) {
		diag_at(L, file, line, L->ord, "indented line outside a section: put it under a conn or config setup line");
		return;
	}
	char *key = s;
	char *p = s;
	while (*p && *p != '=' && !is_blank(*p) && *p != '#' && *p != '"')
		p++;
	char *key_end = p;
	while (is_blank(*p))
		p++;
	if (*p != '=') {
		char *stop = strchr(s, '#');
		size_t len = stop ? (size_t)(stop - s) : strlen(s);
		while (len && is_blank(s[len - 1]))
			len--;
		diag_at(L, file, line, L->ord, "'%s' is not key=value: no '='", echo(s, len));
		return;
	}
	if (key_end == key) {
		diag_at(L, file, line, L->ord, "missing keyword before '='");
		return;
	}
	*key_end = '\0';
	p++;
	while (is_blank(*p))
		p++;
	char *value = p;
	if (*p == '"') {
		char *end = strchr(p + 1, '"');
		if (!end) {
			diag_at(L, file, line, L->ord, last_line ? "the file ends inside a quoted value"
								 : "unterminated quoted value (a quote cannot span lines)");
			return;
		}
		*end = '\0';
		value = p + 1;
		p = end + 1;
		while (is_blank(*p))
			p++;
		if (*p && *p != '#') {
			diag_at(L, file, line, L->ord, "text after the closing quote of '%s'", echo(key, strlen(key)));
			return;
		}
	} else {
		while (*p && *p != '#') {
			if (*p == '"') {
				diag_at(L, file, line, L->ord,
					"a quote inside the value of '%s': quote the whole value", echo(key, strlen(key)));
				return;
			}
			p++;
		}
		while (p > value && is_blank(p[-1]))
			p--;
		*p = '\0';
	}
	if (*value == '\0') {
		diag_at(L, file, line, L->ord, "'%s' needs a value", echo(key, strlen(key)));
		return;
	}
	if (L->ctx == CTX_SETUP)
		setup_line(L, file, line, key, value);
	else
		conn_line(L, file, line, key, value);
}

static void begin_conn(struct loader *L, size_t file, unsigned line, const char *name)
{
	L->ctx = CTX_DISCARD;        /* unless the name is good */
	if (streq(name, "%default")) {
		if (!L->have_default) {
			L->have_default = true;
			L->deflt.name = xstrdup("%default");
			L->deflt.file = file;
			L->deflt.line = line;
			L->deflt.ord = L->ord;
		}
		L->ctx = CTX_CONN;
		L->cur = &L->deflt;
		L->cur_index = SIZE_MAX;
		return;
	}
	if (!valid_connection_name(name)) {
		diag_at(L, file, line, L->ord,
			"invalid conn name '%s': use 1-64 letters, digits, '-', '_', '.', '+'", echo(name, strlen(name)));
		return;
	}
	size_t *prev = index_find(&L->by_name, name);
	if (prev) {
		const struct section *first = &L->conns[*prev];
		diag_at(L, file, line, L->ord, "conn %s defined twice (first at %s:%u)", name,
			file_name(L, first->file), first->line);
		return;
	}
	if (L->n_conns == L->cap_conns) {
		L->cap_conns = L->cap_conns ? 2 * L->cap_conns : 64;
		L->conns = xrealloc(L->conns, L->cap_conns * sizeof(*L->conns));
	}
	struct section *sec = &L->conns[L->n_conns];
	*sec = (struct section){ .name = xstrdup(name), .file = file, .line = line, .ord = L->ord };
	index_put(&L->by_name, sec->name, L->n_conns);
	L->cur_index = L->n_conns++;
	L->ctx = CTX_CONN;
	/* conns may move when the array grows: cur is re-read per line */
	L->cur = NULL;
}

static void load_file(struct loader *L, const char *path, size_t from_file, unsigned from_line, unsigned long from_ord);

static bool has_wildcard(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* include GLOB: relative to the including file's directory */
static void include_line(struct loader *L, size_t file, unsigned line, const char *pattern)
{
	unsigned long ord = L->ord;
	if (L->flags & IPSEC_CONF_NO_FILES) {
		diag_at(L, file, line, ord, "include is not allowed here");
		return;
	}
	if (L->depth >= INCLUDE_DEPTH_MAX) {
		diag_at(L, file, line, ord, "include %s: includes nested deeper than %d levels",
			echo(pattern, strlen(pattern)), INCLUDE_DEPTH_MAX);
		return;
	}
	_cleanup_free_ char *full = NULL;
	if (pattern[0] == '/') {
		full = xstrdup(pattern);
	} else {
		const char *name = file_name(L, file);
		const char *slash = strrchr(name, '/');
		full = slash ? xasprintf("%.*s/%s", (int)(slash - name), name, pattern) : xstrdup(pattern);
	}
	if (!has_wildcard(pattern)) {
		load_file(L, full, file, line, ord);
		return;
	}
	glob_t g;
	int r = glob(full, GLOB_MARK, NULL, &g);
	if (r == GLOB_NOMATCH)
		return;                 /* an empty include directory is fine */
	if (r != 0) {
		diag_at(L, file, line, ord, "include %s: cannot expand the pattern", echo(pattern, strlen(pattern)));
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *p = g.gl_pathv[i];
		size_t len = strlen(p);
		if (len && p[len - 1] == '/')
			continue;       /* a directory the wildcard also matched */
		load_file(L, p, file, line, ord);
	}
	globfree(&g);
}

/* An unindented line: a section header, include or version. */
static void top_line(struct loader *L, size_t file, unsigned line, char *s)
{
	char *words[4];
	const char *why = NULL;
	L->ctx = CTX_NONE;
	/* a first word with '=' in it is a setting that lost its indentation */
	size_t word = strcspn(s, " \t\r#");
	char *eq = memchr(s, '=', word);
	if (eq) {
		size_t len = (size_t)(eq - s);
		diag_at(L, file, line, L->ord, "'%s=...' is not indented: settings go under a conn or config setup line",
			echo(s, len));
		return;
	}
	int n = split_words(s, words, 3, &why);
	if (n < 0) {
		diag_at(L, file, line, L->ord, "%s", why);
		return;
	}
	const char *kw = words[0];
	if (streq(kw, "conn")) {
		if (n != 2)
			diag_at(L, file, line, L->ord, "conn needs one name: conn NAME");
		else
			begin_conn(L, file, line, words[1]);
	} else if (streq(kw, "config")) {
		if (n != 2 || !streq(words[1], "setup")) {
			diag_at(L, file, line, L->ord, "only 'config setup' exists");
		} else if (L->setup_ord) {
			/* its lines are still checked, against the first one's */
			diag_at(L, file, line, L->ord, "config setup given twice (first at %s:%u)",
				file_name(L, L->setup_file), L->setup_line);
			L->ctx = CTX_SETUP;
		} else {
			L->setup_ord = L->ord;
			L->setup_file = file;
			L->setup_line = line;
			L->ctx = CTX_SETUP;
		}
	} else if (streq(kw, "include")) {
		if (n != 2)
			diag_at(L, file, line, L->ord, "include needs one file name or pattern");
		else
			include_line(L, file, line, words[1]);
	} else if (streq(kw, "version")) {
		if (n != 2 || !(streq(words[1], "2") || streq(words[1], "2.0")))
			diag_at(L, file, line, L->ord, "only version 2 (or 2.0) of the format exists");
		else if (L->version_ord)
			diag_at(L, file, line, L->ord, "version given twice (first at line %u)", L->version_line);
		else {
			L->version_ord = L->ord;
			L->version_line = line;
		}
	} else {
		diag_at(L, file, line, L->ord, "unknown keyword '%s': expected conn, config setup, include or version",
			echo(kw, strlen(kw)));
	}
}

static size_t add_file(struct loader *L, const char *name)
{
	if (L->n_files + 2 > L->cap_files) {
		L->cap_files = L->cap_files ? 2 * L->cap_files : 8;
		L->files = xrealloc(L->files, L->cap_files * sizeof(char *));
	}
	L->files[L->n_files] = xstrdup(name);
	L->files[L->n_files + 1] = NULL;
	return L->n_files++;
}

/* The current section lost a line to an error. */
static void mark_broken(struct loader *L)
{
	if (L->ctx != CTX_CONN)
		return;
	if (L->cur_index == SIZE_MAX)
		L->deflt.broken = true;
	else
		L->conns[L->cur_index].broken = true;
}

static void parse_text(struct loader *L, const char *text, size_t len, size_t file)
{
	unsigned line = 0;
	size_t pos = 0;
	while (pos < len) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		line++;
		L->ord++;
		bool last_line = end >= len - 1;
		size_t said = L->n_diags;
		for (size_t i = pos; i < end; i++) {
			if (is_binary((unsigned char)text[i])) {
				diag_at(L, file, line, L->ord, "binary data (byte 0x%02x): not a text file",
					(unsigned char)text[i]);
				mark_broken(L);
				L->ctx = CTX_NONE;
				return;
			}
		}
		_cleanup_free_ char *s = xmalloc(end - pos + 1);
		memcpy(s, text + pos, end - pos);
		s[end - pos] = '\0';
		pos = end + 1;
		char *p = s;
		while (is_blank(*p))
			p++;
		if (*p == '\0' || *p == '#')
			continue;               /* blank or comment: never ends a section */
		if (p == s) {
			top_line(L, file, line, s);
			continue;
		}
		if (L->ctx == CTX_CONN && L->cur_index != SIZE_MAX)
			L->cur = &L->conns[L->cur_index];
		setting_line(L, file, line, p, last_line);
		if (L->n_diags != said)
			mark_broken(L);
	}
	/* a section ends with its file */
	L->ctx = CTX_NONE;
}

static void load_file(struct loader *L, const char *path, size_t from_file, unsigned from_line, unsigned long from_ord)
{
	bool top = L->n_files == 0;
	/* messages about the file itself: at the include line, or bare for the main file */
#define FILE_ERROR(fmt, ...)                                                                          \
	do {                                                                                          \
		if (top)                                                                              \
			diag_push(L, 0, xasprintf("%s: " fmt, path, __VA_ARGS__));                    \
		else                                                                                  \
			diag_at(L, from_file, from_line, from_ord, "include %s: " fmt, path, __VA_ARGS__); \
	} while (0)
	if (L->n_files >= INCLUDE_FILES_MAX) {
		FILE_ERROR("more than %d files%s", INCLUDE_FILES_MAX, "");
		return;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);   /* a FIFO must not block */
	struct stat st;
	if (fd < 0) {
		FILE_ERROR("%s", strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		FILE_ERROR("%s", "not a regular file");
		close(fd);
		return;
	}
	if (st.st_size > (off_t)FILE_SIZE_MAX) {
		FILE_ERROR("larger than %u MiB", FILE_SIZE_MAX >> 20);
		close(fd);
		return;
	}
	for (unsigned i = 0; i < L->depth; i++) {
		if (L->stack[i].dev == st.st_dev && L->stack[i].ino == st.st_ino) {
			FILE_ERROR("%s", "include loop: the file includes itself");
			close(fd);
			return;
		}
	}
	size_t size = (size_t)st.st_size, got = 0;
	_cleanup_free_ char *text = xmalloc(size + 1);
	while (got < size) {
		ssize_t r = read(fd, text + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			FILE_ERROR("%s", strerror(errno));
			close(fd);
			return;
		}
		if (r == 0)
			break;          /* shrank while read: take what is there */
		got += (size_t)r;
	}
	close(fd);
#undef FILE_ERROR
	size_t file = add_file(L, path);
	L->stack[L->depth++] = (struct file_id){ st.st_dev, st.st_ino };
	parse_text(L, text, got, file);
	L->depth--;
}

/* --- resolving %default and also= --- */

/* The effective settings of one conn: one per keyword, in the order the
 * keywords first appeared. Which value wins goes by how far its section is
 * from the conn, as libreswan and FreeS/WAN have it: the conn's own line
 * beats anything pulled in with also=, a section beats what it pulls in
 * itself, and between sections at the same distance the first one named
 * wins. Where the also= line stands does not matter. */
struct effective {
	const struct raw_setting **v;
	size_t *depth;           /* of each v[i]: 1 = the conn's own line */
	size_t n, cap;
	size_t pulled;           /* settings applied through also= */
	bool broken;             /* a section it draws on lost a refused line */
};

static void effective_set(struct effective *e, const struct raw_setting *r, size_t depth)
{
	for (size_t i = 0; i < e->n; i++) {
		if (streq(e->v[i]->key, r->key)) {
			if (depth < e->depth[i]) {
				e->v[i] = r;
				e->depth[i] = depth;
			}
			return;
		}
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 32;
		e->v = xrealloc(e->v, e->cap * sizeof(*e->v));
		e->depth = xrealloc(e->depth, e->cap * sizeof(*e->depth));
	}
	e->depth[e->n] = depth;
	e->v[e->n++] = r;
}

/* the chain "a -> b -> c" of the also= stack from index from, then name */
static char *also_chain(const struct loader *L, const size_t *stack, size_t depth, size_t from, const char *name)
{
	struct strbuf sb;
	strbuf_init(&sb);
	for (size_t i = from; i < depth; i++)
		strbuf_addf(&sb, "%s -> ", L->conns[stack[i]].name);
	strbuf_add(&sb, name);
	return strbuf_steal(&sb);
}

/* Apply the lines of conns[stack[depth-1]] in order, also= where it stands
 * (effective_set decides which value wins).
 * false when an error was reported (the conn is then not validated). */
static bool apply_section(struct loader *L, struct effective *e, size_t *stack, size_t depth)
{
	const struct section *sec = &L->conns[stack[depth - 1]];
	bool ok = true;
	e->broken |= sec->broken;
	for (size_t i = 0; i < sec->n; i++) {
		const struct raw_setting *r = &sec->v[i];
		if (depth > 1 && ++e->pulled > ALSO_SETTINGS_MAX) {
			const struct section *top = &L->conns[stack[0]];
			diag_at(L, top->file, top->line, top->ord,
				"conn %s: also= pulls in more than %d settings", top->name, ALSO_SETTINGS_MAX);
			return false;
		}
		/* auto= says what to do with the section it is written in: a
		 * fragment's auto=ignore must not make the conns using it ignored */
		if (depth > 1 && streq(r->key, "auto"))
			continue;
		if (!streq(r->key, "also")) {
			effective_set(e, r, depth);
			continue;
		}
		_cleanup_free_ char *names = xstrdup(r->value);
		char *words[64];
		const char *why = NULL;
		int n = split_words(names, words, 64, &why);
		if (n < 0) {
			diag_at(L, r->file, r->line, r->ord, "also=: at most 64 names on one line");
			ok = false;
			continue;
		}
		for (int w = 0; w < n; w++) {
			const char *name = words[w];
			size_t *idx = index_find(&L->by_name, name);
			if (!idx) {
				const char *shown = echo(name, strlen(name));
				diag_at(L, r->file, r->line, r->ord, "also=%s: no conn '%s'%s", shown, shown,
					streq(name, "%default") ? " (%default applies to every conn already)" : "");
				ok = false;
				continue;
			}
			size_t on = SIZE_MAX;
			for (size_t k = 0; k < depth; k++)
				if (stack[k] == *idx)
					on = k;
			if (on != SIZE_MAX) {
				/* one message per loop, whichever of its conns meets it first */
				bool all_known = true;
				for (size_t k = on; k < depth; k++)
					all_known &= L->conns[stack[k]].in_loop;
				if (!all_known) {
					_cleanup_free_ char *chain = also_chain(L, stack, depth, on, name);
					diag_at(L, r->file, r->line, r->ord, "also=%s: loop %s", name, chain);
					for (size_t k = on; k < depth; k++)
						L->conns[stack[k]].in_loop = true;
				}
				ok = false;
				continue;
			}
			if (depth >= ALSO_DEPTH_MAX) {
				diag_at(L, r->file, r->line, r->ord, "also=%s: nested deeper than %d levels", name,
					ALSO_DEPTH_MAX);
				ok = false;
				continue;
			}
			stack[depth] = *idx;
			if (!apply_section(L, e, stack, depth + 1))
				ok = false;
			if (e->pulled > ALSO_SETTINGS_MAX)
				return false;
		}
	}
	return ok;
}

static const struct raw_setting *effective_get(const struct effective *e, const char *key)
{
	for (size_t i = 0; i < e->n; i++)
		if (streq(e->v[i]->key, key))
			return e->v[i];
	return NULL;
}

/* Validate one resolved conn through the option parser (and decode its
 * public keys as AddConnection does); messages point at the setting that
 * failed, or at the conn line when the error spans keywords. */
static bool validate_conn(struct loader *L, const struct section *sec, const struct effective *e, bool *ignore)
{
	const char **keys = xmalloc((e->n + 1) * sizeof(char *));
	const char **values = xmalloc((e->n + 1) * sizeof(char *));
	for (size_t i = 0; i < e->n; i++) {
		keys[i] = e->v[i]->key;
		values[i] = e->v[i]->value;
	}
	const struct raw_setting *autos = effective_get(e, "auto");
	*ignore = autos && streq(autos->value, "ignore");
	struct connection_config cfg;
	struct ctl_error err;
	size_t bad;
	bool ok = true;
	if (connection_config_parse_at(&cfg, keys, values, e->n, &bad, &err) < 0) {
		if (bad < e->n) {
			const struct raw_setting *r = e->v[bad];
			diag_at(L, r->file, r->line, r->ord, "%s", err.message);
			ok = false;
		} else if (!*ignore && !e->broken) {
			/* an auto=ignore conn may be a fragment for also=: its values
			 * are checked above, its completeness is not; nor is that of a
			 * conn that lost a refused line (that error is enough) */
			diag_at(L, sec->file, sec->line, sec->ord, "conn %s: %s", sec->name, err.message);
			ok = false;
		}
		free(keys);
		free(values);
		return ok;
	}
	for (int i = 0; i < 2; i++) {
		const char *text = cfg.end[i].rsasigkey;
		if (!text)
			continue;
		if ((L->flags & IPSEC_CONF_NO_FILES) && strstr(text, "%file:"))
			continue;       /* no files opened for untrusted text */
		const char *key = i == 0 ? "leftrsasigkey" : "rightrsasigkey";
		struct ctl_error kerr;
		EVP_PKEY *k = pubkey_parse(text, &kerr);
		if (!k) {
			const struct raw_setting *r = effective_get(e, key);
			diag_at(L, r->file, r->line, r->ord, "invalid value for option '%s': %s", key, kerr.message);
			ok = false;
		}
		EVP_PKEY_free(k);
	}
	connection_config_free(&cfg);
	free(keys);
	free(values);
	return ok;
}

/* --- the result --- */

static void section_free(struct section *sec)
{
	for (size_t i = 0; i < sec->n; i++) {
		free(sec->v[i].key);
		free(sec->v[i].value);
	}
	free(sec->v);
	free(sec->name);
}

static void loader_free(struct loader *L)
{
	for (size_t i = 0; i < L->n_conns; i++)
		section_free(&L->conns[i]);
	free(L->conns);
	section_free(&L->deflt);
	index_free(&L->by_name);
	strv_free(L->files);
	strv_free(L->setup.interfaces);
	free(L->setup.plutodebug);
	for (size_t i = 0; i < L->n_diags; i++)
		free(L->diags[i].text);
	free(L->diags);
	index_free(&L->said);
}

static int cmp_diag(const void *a, const void *b)
{
	const struct diag_entry *x = a, *y = b;
	if (x->ord != y->ord)
		return x->ord < y->ord ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void give_diags(struct loader *L, struct conf_diag *diag)
{
	qsort(L->diags, L->n_diags, sizeof(*L->diags), cmp_diag);
	diag->n = L->n_diags;
	diag->lines = xcalloc(L->n_diags + 1, sizeof(char *));
	for (size_t i = 0; i < L->n_diags; i++) {
		diag->lines[i] = L->diags[i].text;
		L->diags[i].text = NULL;
	}
	L->n_diags = 0;
}

/* Resolve, validate and hand over; *out stays empty on any error. */
static int finish(struct loader *L, struct ipsec_conf *out, struct conf_diag *diag)
{
	struct conf_conn *conns = xcalloc(L->n_conns + 1, sizeof(*conns));
	size_t n_out = 0;
	size_t stack[ALSO_DEPTH_MAX + 1];
	struct effective e = { 0 };
	for (size_t c = 0; c < L->n_conns; c++) {
		const struct section *sec = &L->conns[c];
		e.n = 0;
		e.pulled = 0;
		e.broken = L->deflt.broken;
		/* %default is farther than any also= level: anything else wins */
		for (size_t i = 0; i < L->deflt.n; i++)
			effective_set(&e, &L->deflt.v[i], ALSO_DEPTH_MAX + 1);
		stack[0] = c;
		if (!apply_section(L, &e, stack, 1))
			continue;
		bool ignore;
		if (!validate_conn(L, sec, &e, &ignore) || L->n_diags)
			continue;       /* the result is dropped anyway: build nothing */
		struct conf_conn *out_c = &conns[n_out++];
		out_c->name = xstrdup(sec->name);
		out_c->line = sec->line;
		out_c->file = L->files[sec->file];   /* the strings stay when out takes the array */
		out_c->ignore = ignore;
		out_c->n_settings = e.n;
		out_c->settings = xcalloc(e.n ? e.n : 1, sizeof(struct conf_setting));
		for (size_t i = 0; i < e.n; i++) {
			out_c->settings[i] = (struct conf_setting){
				.key = xstrdup(e.v[i]->key), .value = xstrdup(e.v[i]->value),
				.file = L->files[e.v[i]->file], .line = e.v[i]->line };
		}
	}
	free(e.v);
	free(e.depth);

	memset(out, 0, sizeof(*out));
	out->setup.uniqueids = out->setup.listen = -1;
	if (L->n_diags) {
		struct ipsec_conf partial = { .conns = conns, .n_conns = n_out };
		ipsec_conf_free(&partial);
		give_diags(L, diag);
		return -1;
	}
	out->files = L->files;
	L->files = NULL;
	out->conns = conns;
	out->n_conns = n_out;
	out->setup = L->setup;
	memset(&L->setup, 0, sizeof(L->setup));
	struct name_index *ix = xcalloc(1, sizeof(*ix));
	for (size_t i = 0; i < n_out; i++)
		index_put(ix, conns[i].name, i);
	out->index = ix;
	return 0;
}

static void loader_init(struct loader *L, unsigned flags, struct conf_diag *diag)
{
	memset(L, 0, sizeof(*L));
	L->flags = flags;
	L->setup.uniqueids = L->setup.listen = -1;
	L->cur_index = SIZE_MAX;
	diag->lines = NULL;
	diag->n = 0;
}

int ipsec_conf_load(const char *path, struct ipsec_conf *out, struct conf_diag *diag)
{
	struct loader L;
	loader_init(&L, 0, diag);
	load_file(&L, path, 0, 0, 0);
	int r;
	if (L.n_files == 0) {           /* the main file could not be read */
		memset(out, 0, sizeof(*out));
		out->setup.uniqueids = out->setup.listen = -1;
		give_diags(&L, diag);
		r = -1;
	} else {
		r = finish(&L, out, diag);
	}
	loader_free(&L);
	return r;
}

int ipsec_conf_parse_text(const char *text, size_t len, const char *name, unsigned flags,
			  struct ipsec_conf *out, struct conf_diag *diag)
{
	struct loader L;
	loader_init(&L, flags, diag);
	size_t file = add_file(&L, name);
	L.depth = 1;                    /* the text is the top of the include stack */
	L.stack[0] = (struct file_id){ (dev_t)-1, (ino_t)-1 };
	parse_text(&L, text, len, file);
	int r = finish(&L, out, diag);
	loader_free(&L);
	return r;
}

void ipsec_conf_free(struct ipsec_conf *conf)
{
	for (size_t i = 0; i < conf->n_conns; i++) {
		struct conf_conn *c = &conf->conns[i];
		for (size_t k = 0; k < c->n_settings; k++) {
			free(c->settings[k].key);
			free(c->settings[k].value);
		}
		free(c->settings);
		free(c->name);
	}
	free(conf->conns);
	strv_free(conf->files);
	strv_free(conf->setup.interfaces);
	free(conf->setup.plutodebug);
	if (conf->index) {
		index_free(conf->index);
		free(conf->index);
	}
	memset(conf, 0, sizeof(*conf));
	conf->setup.uniqueids = conf->setup.listen = -1;
}

void conf_diag_free(struct conf_diag *diag)
{
	strv_free(diag->lines);
	diag->lines = NULL;
	diag->n = 0;
}

const struct conf_conn *ipsec_conf_conn(const struct ipsec_conf *conf, const char *name)
{
	size_t *i = conf->index ? index_find(conf->index, name) : NULL;
	return i ? &conf->conns[*i] : NULL;
}

int ipsec_conf_check(const char *path, FILE *out, FILE *errs)
{
	struct ipsec_conf conf;
	struct conf_diag diag;
	int r = ipsec_conf_load(path, &conf, &diag);
	for (size_t i = 0; i < diag.n; i++)
		fprintf(errs, "%s\n", diag.lines[i]);
	conf_diag_free(&diag);
	if (r < 0)
		return 1;
	fprintf(out, "%s: %zu conns OK\n", path, conf.n_conns);
	ipsec_conf_free(&conf);
	return 0;
}
