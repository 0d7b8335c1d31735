#include "common/bounded_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "not a regular file (a directory)";
	if (S_ISFIFO(mode))
		return "not a regular file (a FIFO)";
	if (S_ISCHR(mode))
		return "not a regular file (a character device)";
	if (S_ISBLK(mode))
		return "not a regular file (a block device)";
	if (S_ISSOCK(mode))
		return "not a regular file (a socket)";
	return "not a regular file";
}

/* "larger than 16 MiB" for the limits in use, exact bytes otherwise;
 * per thread, as why must stay valid for the caller */
static const char *too_large(size_t max)
{
	static _Thread_local char text[64];
	if (max >= 1024 * 1024 && max % (1024 * 1024) == 0)
		snprintf(text, sizeof(text), "larger than %zu MiB", max / (1024 * 1024));
	else if (max >= 1024 && max % 1024 == 0)
		snprintf(text, sizeof(text), "larger than %zu KiB", max / 1024);
	else
		snprintf(text, sizeof(text), "larger than %zu bytes", max);
	return text;
}

int bounded_open(const char *path, size_t max, const char **why)
{
	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		*why = strerror(errno);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = file_kind(st.st_mode);
		close(fd);
		return -1;
	}
	if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
		*why = too_large(max);
		close(fd);
		return -1;
	}
	/* a regular file never blocks; readers may still use blocking I/O */
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

char *bounded_read_fd(int fd, size_t max, size_t *len, const char **why)
{
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		/* room for one byte more than max, and the NUL: reading past
		 * max is how a stream that is too long shows */
		if (n + 1 >= cap) {
			cap = cap * 2 > max + 2 ? max + 2 : cap * 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t got = read(fd, buf + n, cap - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			*why = strerror(errno);
			free(buf);
			return NULL;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > max) {
			free(buf);
			*why = too_large(max);
			return NULL;
		}
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

char *bounded_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	const char *why;
	int fd = bounded_open(path, max, &why);
	if (fd < 0) {
		fail_msg(err, errlen, "%s: %s", path, why);
		return NULL;
	}
	/* a file that grew after the check still stops at max */
	char *text = bounded_read_fd(fd, max, len, &why);
	close(fd);
	if (!text)
		fail_msg(err, errlen, "%s: %s", path, why);
	return text;
}
