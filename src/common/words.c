#include "common/words.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/bounded_file.h"
#include "common/util.h"


struct word_buf {
	char *s;
	size_t len, cap;
};

static void add_char(struct word_buf *w, char ch)
{
	if (w->len + 2 > w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->s = xrealloc(w->s, w->cap);
	}
	w->s[w->len++] = ch;
	w->s[w->len] = '\0';
}

static void end_word(struct words *out, struct word_buf *w)
{
	out->v = xrealloc(out->v, (out->n + 2) * sizeof(char *));
	out->v[out->n++] = w->s ? w->s : xstrdup("");
	out->v[out->n] = NULL;
	*w = (struct word_buf){ 0 };
}

void words_free(struct words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	*w = (struct words){ 0 };
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

int words_split(const char *text, size_t len, const char *origin, struct words *out,
		char *err, size_t errlen)
{
	*out = (struct words){ 0 };
	struct word_buf w = { 0 };
	bool in_word = false;
	char quote = 0;             /* the quote we are inside, or 0 */
	unsigned line = 1, quote_line = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
		if (ch == '\0') {
			fail_msg(err, errlen, "%s:%u: NUL byte", origin, line);
			goto bad;
		}
		if (quote == '\'') {
			if (ch == '\'')
				quote = 0;
			else
				add_char(&w, ch);
		} else if (ch == '\\' && (quote == 0 || (i + 1 < len && memchr("\"\\\n", text[i + 1], 3)))) {
			if (i + 1 >= len) {
				fail_msg(err, errlen, "%s:%u: backslash at the end of the file", origin, line);
				goto bad;
			}
			ch = text[++i];
			if (ch == '\0') {
				fail_msg(err, errlen, "%s:%u: NUL byte", origin, line);
				goto bad;
			}
			if (ch == '\n') {
				line++;     /* a line continuation: nothing of it stays */
			} else {
				add_char(&w, ch);
				in_word = true;
			}
			continue;
		} else if (quote == '"') {
			if (ch == '"')
				quote = 0;
			else
				add_char(&w, ch);
		} else if (ch == '\'' || ch == '"') {
			quote = ch;
			quote_line = line;
			in_word = true;
		} else if (is_blank(ch)) {
			if (in_word)
				end_word(out, &w);
			in_word = false;
		} else if (ch == '#' && !in_word) {
			while (i + 1 < len && text[i + 1] != '\n')
				i++;
		} else {
			add_char(&w, ch);
			in_word = true;
		}
		if (ch == '\n')
			line++;
	}
	if (quote) {
		fail_msg(err, errlen, "%s:%u: unterminated quote (the %c opened on line %u is never closed)",
		     origin, quote_line, quote, quote_line);
		goto bad;
	}
	if (in_word)
		end_word(out, &w);
	return 0;
bad:
	free(w.s);
	words_free(out);
	return -1;
}

int words_from_file(const char *path, struct words *out, char *err, size_t errlen)
{
	*out = (struct words){ 0 };
	size_t len;
	char *text = bounded_read_file(path, BOUNDED_FILE_MAX, &len, err, errlen);
	if (!text)
		return -1;
	int r = words_split(text, len, path, out, err, errlen);
	free(text);
	return r;
}
