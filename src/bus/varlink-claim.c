/* One daemon per control socket. The pid file in --rundir only keeps two
 * plutos with the same rundir apart; two with different rundirs but the
 * same --ctlbase would each unlink and bind the other's socket. So the
 * socket path itself is claimed: an flock()ed file PATH.lock beside it,
 * taken before anything is bound and held for the life of the process
 * (the kernel drops it when pluto dies, however it dies: no stale lock).
 * A socket found at PATH is only replaced when nobody answers on it, which
 * also protects a socket held by systemd (pluto.socket) or by a pluto that
 * takes no lock. */
#include "bus/varlink-claim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"

static struct {
	int fd;                      /* the lock file, flock()ed */
	char *path;
} claim = { .fd = -1 };

/* The pid written by the holder, for the message; 0 when unreadable. */
static long holder_pid(const char *lock_path)
{
	char buf[32] = "";
	int fd = open(lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static void write_pid(void)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	/* on failure only the other pluto's message lacks the pid */
	if (ftruncate(claim.fd, 0) == 0)
		(void)!pwrite(claim.fd, buf, (size_t)n, 0);
}

int varlink_claim(const char *socket_path, struct ctl_error *err)
{
	char *lock_path = xasprintf("%s.lock", socket_path);
	for (;;) {
		int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0) {
			ctl_fail(err, PE_INTERNAL, "cannot create the lock file \"%s\" of the control socket: %s",
				 lock_path, strerror(errno));
			free(lock_path);
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;
			close(fd);
			if (e == EWOULDBLOCK) {
				long pid = holder_pid(lock_path);
				char who[48] = "another pluto";
				if (pid > 0)
					snprintf(who, sizeof(who), "another pluto (pid %ld)", pid);
				ctl_fail(err, PE_INVALID_OPTION,
					 "control socket \"%s\" is in use: %s holds its lock \"%s\"; "
					 "give this one another --ctlbase", socket_path, who, lock_path);
			} else {
				ctl_fail(err, PE_INTERNAL, "cannot lock \"%s\": %s", lock_path, strerror(e));
			}
			free(lock_path);
			return -1;
		}
		/* the holder we waited behind may have removed the file as it
		 * left: a lock on an unlinked file protects nothing */
		struct stat held, named;
		if (fstat(fd, &held) == 0 && stat(lock_path, &named) == 0 && held.st_dev == named.st_dev &&
		    held.st_ino == named.st_ino) {
			claim.fd = fd;
			claim.path = lock_path;
			write_pid();
			break;
		}
		close(fd);
	}
	/* held: a socket at the path is ours to replace only if it is dead */
	if (varlink_socket_answers(socket_path)) {
		ctl_fail(err, PE_INVALID_OPTION,
			 "control socket \"%s\" is in use: a live process (another pluto without the lock, "
			 "or systemd's pluto.socket) accepts connections on it; give this one another --ctlbase",
			 socket_path);
		varlink_unclaim();
		return -1;
	}
	return 0;
}

void varlink_claim_note_pid(void)
{
	if (claim.fd >= 0)
		write_pid();
}

bool varlink_socket_answers(const char *socket_path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, socket_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	close(fd);
	/* EAGAIN: a listener whose backlog is full is alive all the same */
	return r == 0 || e == EAGAIN || e == EINPROGRESS;
}

void varlink_unclaim(void)
{
	if (claim.fd < 0)
		return;
	/* unlinked while still locked: whoever opened it meanwhile sees
	 * (after locking) that the name no longer leads to its file */
	unlink(claim.path);
	close(claim.fd);
	claim.fd = -1;
	free(claim.path);
	claim.path = NULL;
}
