/* The journal's native protocol, written by pluto itself rather than by
 * sd_journal_sendv(3), which was tried (tests/hostile/journal-heal.sh)
 * and does not heal in the two ways that matter:
 *   - with no socket (journald gone, its socket removed) it returns 0:
 *     ENOENT is a silent success, the lines are lost unseen;
 *   - when journald does not read (stopped, hung) it blocks without
 *     limit once the socket's queue is full (net.unix.max_dgram_qlen
 *     datagrams), and the daemon's event loop, IKE included, with it.
 * Here a send waits at most JOURNAL_SEND_TIMEOUT_MS; a line the journal
 * does not take goes to stderr (under systemd, the journal's stream,
 * kept by pid 1 across journald restarts; else a terminal or a file),
 * pluto says once that the journal is unreachable, then tries the
 * journal again with each line, without waiting, and says once, in the
 * journal, that it is back. The socket is never connected: each
 * datagram is addressed to the path, so a journald that comes back on a
 * new socket is found without reopening anything.
 *
 * The protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL): one datagram per
 * entry, each field "NAME=value\n", or, when the value holds a newline,
 * "NAME\n", its length as 64-bit little endian, the value and "\n". */
#include "daemon/journal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* more than log.c sends (10 fields), each at most 4 pieces */
#define MAX_FIELDS 16

static int journal_fd = -1;
/* the journal did not take a line: lines go to stderr */
static bool unreachable;
static long long unreachable_since_ms;
static unsigned lines_to_stderr;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_socket(void)
{
	if (journal_fd >= 0)
		return journal_fd;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	const struct timeval timeout = { .tv_usec = JOURNAL_SEND_TIMEOUT_MS * 1000 };
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return journal_fd = fd;
}

int journal_sendv(const struct iovec *fields, size_t n, bool wait)
{
	if (n > MAX_FIELDS)
		return -E2BIG;
	int fd = open_socket();
	if (fd < 0)
		return fd;
	struct iovec iov[MAX_FIELDS * 4];
	uint8_t lengths[MAX_FIELDS][8];
	size_t k = 0;
	static char newline[] = "\n";
	for (size_t i = 0; i < n; i++) {
		char *field = fields[i].iov_base;
		size_t len = fields[i].iov_len;
		char *eq = memchr(field, '=', len);
		if (!eq)
			return -EINVAL;
		size_t name_len = (size_t)(eq - field), value_len = len - name_len - 1;
		if (!memchr(eq + 1, '\n', value_len)) {
			iov[k++] = (struct iovec){ field, len };
		} else {
			uint64_t v = value_len;
			for (size_t b = 0; b < 8; b++)
				lengths[i][b] = (uint8_t)(v >> (8 * b));
			iov[k++] = (struct iovec){ field, name_len };
			iov[k++] = (struct iovec){ newline, 1 };
			iov[k++] = (struct iovec){ lengths[i], 8 };
			iov[k++] = (struct iovec){ eq + 1, value_len };
		}
		iov[k++] = (struct iovec){ newline, 1 };
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
	struct msghdr mh = {
		.msg_name = &sa,
		.msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(JOURNAL_SOCKET)),
		.msg_iov = iov,
		.msg_iovlen = k,
	};
	ssize_t sent;
	do
		sent = sendmsg(fd, &mh, MSG_NOSIGNAL | (wait ? 0 : MSG_DONTWAIT));
	while (sent < 0 && errno == EINTR);
	return sent < 0 ? -errno : 0;
}

/* Only write(2): stderr is not buffered when the journal is the target. */
static void to_stderr(int priority, const char *text)
{
	char line[1400];
	int len = snprintf(line, sizeof(line), "<%d>%s\n", priority, text);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(line)) {
		len = sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	for (size_t done = 0; done < (size_t)len;) {
		ssize_t w = write(STDERR_FILENO, line + done, (size_t)len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;   /* stderr is gone too: nowhere left to say it */
		done += (size_t)w;
	}
}

/* The first line the journal did not take: said once, on stderr. */
static void went_unreachable(int r)
{
	char note[300];
	snprintf(note, sizeof(note),
		 "pluto: the journal does not take log lines (%s: %s): they go to stderr until it does",
		 JOURNAL_SOCKET, strerror(-r));
	to_stderr(3, note);
	unreachable = true;
	unreachable_since_ms = now_ms();
	lines_to_stderr = 0;
}

/* While unreachable, each line first offers this note to the journal,
 * without waiting: when it is taken, the journal is back. Not on stderr
 * too: under systemd that is the journal's stream, the note would be
 * there twice. */
static bool back_again(void)
{
	char message[300];
	long long ms = now_ms() - unreachable_since_ms;
	int len = snprintf(message, sizeof(message),
			   "MESSAGE=the journal takes log lines again after %lld.%lld s; %u went to stderr meanwhile",
			   ms / 1000, ms % 1000 / 100, lines_to_stderr);
	const struct iovec note[] = {
		{ message, len < (int)sizeof(message) ? (size_t)len : sizeof(message) - 1 },
		{ (char *)"PRIORITY=5", strlen("PRIORITY=5") },
		{ (char *)"SYSLOG_IDENTIFIER=pluto", strlen("SYSLOG_IDENTIFIER=pluto") },
	};
	if (journal_sendv(note, sizeof(note) / sizeof(note[0]), false) < 0)
		return false;
	unreachable = false;
	return true;
}

void journal_log(int priority, const struct iovec *fields, size_t n, const char *text)
{
	if (!unreachable || back_again()) {
		int r = journal_sendv(fields, n, true);
		if (r >= 0)
			return;
		went_unreachable(r);
	}
	lines_to_stderr++;
	to_stderr(priority, text);
}
