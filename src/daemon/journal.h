/* Log lines to the journal (its native protocol), healing: a line the
 * journal does not take goes to stderr instead, and pluto says once that
 * the journal is unreachable and once that it is back (journal.c). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct iovec;

/* The socket journald reads the native protocol on. */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"
/* The longest a line waits for a journald that does not read. */
#define JOURNAL_SEND_TIMEOUT_MS 250

/* One entry of fields ("NAME=value" each; a value may hold newlines).
 * wait: wait up to JOURNAL_SEND_TIMEOUT_MS for room in journald's queue.
 * 0 or a negative errno (-ENOENT: no journal socket at all). */
int journal_sendv(const struct iovec *fields, size_t n, bool wait);

/* journal_sendv, or, when the journal does not take the entry, text on
 * stderr with a "<priority>" prefix (sd-daemon(3): the journal's stream
 * reads it). */
void journal_log(int priority, const struct iovec *fields, size_t n, const char *text);
