/* Small helpers used everywhere: allocation that never returns NULL,
 * a growing string buffer, and cleanup attributes in systemd's style. */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define streq(a, b) (strcmp((a), (b)) == 0)

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* freep, _cleanup_free_ and friends */
#include "common/cleanup.h"

/* A NUL-terminated string that grows; data is never NULL after init. */
struct strbuf {
	char *data;
	size_t len, cap;
};
void strbuf_init(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const char *s);
/* Room for more bytes (and the NUL) without another reallocation; a
 * writer may then fill data[len..] itself and add to len. */
void strbuf_grow(struct strbuf *sb, size_t more);
/* n bytes of s (which need not be NUL-terminated) */
void strbuf_addn(struct strbuf *sb, const char *s, size_t n);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
char *strbuf_steal(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);

/* Parse a whole string as an unsigned integer in [0, max]; false on junk. */
bool parse_uint(const char *s, unsigned long long max, unsigned long long *out);
/* "90", "90s", "15m", "8h", "1d" -> seconds */
bool parse_duration(const char *s, unsigned long long *seconds);
/* true for a name usable as a connection name (also in updown command lines) */
bool valid_connection_name(const char *name);
/* Format an error message into err (errlen bytes) and return -1: the
 * parsers' one-line "fail and say why". */
int fail_msg(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
