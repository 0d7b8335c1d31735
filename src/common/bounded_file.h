/* Reading a file a user named, without trusting it: only a regular file
 * of at most a given size is read. /dev/zero, a FIFO, a directory or a
 * sparse file of a terabyte is refused at once with a reason, instead of
 * blocking or eating memory. Shared by pluto and its clients (ipsecctl,
 * whack) so every "read FILE" option behaves the same. */
#pragma once
#include <stddef.h>

/* The limit for files of options and configuration a client reads
 * (ipsecctl --file, --optionsfrom): far beyond any real file, small enough
 * that a mistake cannot fill the memory. */
#define BOUNDED_FILE_MAX (16u * 1024 * 1024)

/* Open path for reading if it is a regular file of at most max bytes:
 * the fd (O_CLOEXEC), or -1 with why set to a static reason ("not a
 * regular file (a FIFO)", "larger than 16 MiB", strerror). Opening never
 * blocks, even on a FIFO nobody writes to. */
int bounded_open(const char *path, size_t max, const char **why);

/* The whole content of fd, NUL-terminated, at most max bytes: for a
 * stream (a pipe on standard input) whose size cannot be known ahead.
 * NULL with why set when it is longer or unreadable. */
char *bounded_read_fd(int fd, size_t max, size_t *len, const char **why);

/* bounded_open + bounded_read_fd: NULL with "PATH: reason" in err. */
char *bounded_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);
