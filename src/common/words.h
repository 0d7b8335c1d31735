/* The --optionsfrom word splitter, shared by pluto and whack so that one
 * file means the same to both. The rules (pluto(8), whack(8)) are the
 * shell's, without expansions:
 *   - blanks (space, tab, CR) and newlines separate words;
 *   - '#' at the start of a word starts a comment up to the end of the line;
 *   - '...' keeps everything inside as it is, backslashes included;
 *   - "..." keeps blanks and '#'; inside it a backslash escapes only '"',
 *     '\' and a newline (which then disappears);
 *   - outside quotes a backslash makes the next character ordinary, and a
 *     backslash-newline joins two lines;
 *   - quoted and unquoted parts next to each other make one word ("" alone
 *     is an empty word).
 * An unterminated quote, a backslash at the very end or a NUL byte is an
 * error naming the file and the line. */
#pragma once
#include <stddef.h>

struct words {
	char **v;      /* n words, each malloc'd, then NULL */
	size_t n;
};

/* Split len bytes of text; origin names them in errors ("file:line: ...").
 * 0, or -1 with err filled and out empty. */
int words_split(const char *text, size_t len, const char *origin, struct words *out,
		char *err, size_t errlen);
/* The same for a whole file: only a regular file of at most
 * BOUNDED_FILE_MAX (16 MiB) is read; otherwise "path: reason". */
int words_from_file(const char *path, struct words *out, char *err, size_t errlen);
/* Free every word and the array. */
void words_free(struct words *w);
