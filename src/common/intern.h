/* Interned values: one refcounted copy per distinct content, shared by
 * everyone who holds the same bytes. Connections hold their parsed
 * proposal tables this way (conn_options.c): a road-warrior instance and
 * its template, and the many connections written with the same ike= and
 * esp=, share one table instead of each carrying half a kilobyte.
 *
 * Values are compared byte by byte: callers zero what their struct does
 * not use (padding, unused array slots) before interning, so equal
 * contents are equal bytes. Not thread-safe: the event loop's. */
#pragma once
#include <stddef.h>

/* A shared copy of len bytes at data (an existing one when the same bytes
 * are interned already), with one more reference. */
const void *intern(const void *data, size_t len);
/* One more reference to an interned value (NULL stays NULL). */
const void *intern_ref(const void *value);
/* One reference less; the copy is freed with its last. NULL is a no-op. */
void intern_release(const void *value);
/* How many distinct values are interned (for tests). */
size_t intern_count(void);
