/* Varlink transport: the listening socket, one object per client, NUL
 * framing of JSON messages, per-client input buffer and output queue.
 * Single-threaded on the daemon's sd-event loop; every socket is
 * non-blocking and output waits for EPOLLOUT. Requests are handed to
 * vl_dispatch() (varlink-dispatch.c). */
#include "bus/bus.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "bus/varlink-internal.h"
#include "common/fd_limit.h"
#include "common/util.h"
#include "daemon/log.h"

/* Enough for a thousand admin tools at once; beyond that a local user
 * could only be trying to exhaust our file descriptors. Fewer when the fd
 * limit is lower: see client_budget(). */
#define VL_CLIENTS_MAX 1024
/* Descriptors never given to clients, whatever they do: the IKE sockets
 * (two per interface, opened when Listen comes), netlink (XFRM, routes),
 * the journal or syslog, the system bus, updown pipes, the files a reload
 * reads. A quarter of the limit, within these bounds. */
#define VL_FD_RESERVE_MIN 16
#define VL_FD_RESERVE_MAX 256
/* After EMFILE/ENFILE with no client to wait for (the descriptors are
 * held elsewhere): try accepting again this often, not in a loop. */
#define VL_ACCEPT_RETRY_USEC (1000 * 1000)
#define VL_READ_CHUNK (64 * 1024)
/* reads per wakeup, so one busy client cannot starve the others */
#define VL_READS_PER_WAKEUP 16

struct vl_client {
	int fd;                      /* -1: no socket (fuzz target) */
	sd_event_source *io;
	sd_event_source *close_later;
	unsigned id;
	uid_t uid;
	pid_t pid;
	bool privileged;
	bool input_closed;           /* the peer shut down its sending side */
	bool closing;                /* being torn down: no more input or output */
	char describe[64];

	char *in;                    /* received bytes not yet dispatched */
	size_t in_len, in_cap;
	size_t in_scanned;           /* in[0..in_scanned) holds no NUL: a long
	                              * message is searched once, not per read */
	char *out;                   /* queued replies: out[out_off..out_len) unsent */
	size_t out_off, out_len, out_cap;

	struct vl_pending *pending;  /* calls still running (Initiate, Monitor) */
	struct vl_client *prev, *next;
};

static struct {
	sd_event *event;
	int fd;
	sd_event_source *source;
	char *path;                  /* socket file we created, removed on stop */
	dev_t dev;                   /* of the socket file we bound: removed */
	ino_t ino;                   /* on stop only while it is still ours */
	long admin_gid;
	struct vl_client *clients;
	unsigned n_clients, next_id;
	unsigned clients_max;        /* VL_CLIENTS_MAX or what the fd limit allows */
	unsigned long fd_limit;      /* RLIMIT_NOFILE when clients_max was set */
	/* Refusing: clients_max reached; new clients are accepted and closed
	 * at once (they see the connection end), one log line per episode. */
	bool refusing;
	unsigned long refused;
	/* Paused: accept failed for want of descriptors; the listening source
	 * is off until a client leaves or the retry timer fires. */
	bool paused;
	sd_event_source *retry;
} server = { .fd = -1, .admin_gid = -1, .clients_max = VL_CLIENTS_MAX };

/* --- accepting within the descriptors we have --- */

static void listen_enable(bool on)
{
	if (server.source)
		sd_event_source_set_enabled(server.source, on ? SD_EVENT_ON : SD_EVENT_OFF);
}

static int on_accept_retry(sd_event_source *s, uint64_t usec, void *ud)
{
	/* still paused: accept once more; on_listen pauses again (quietly)
	 * if descriptors are still short */
	listen_enable(true);
	return 0;
}

/* accept() failed with EMFILE/ENFILE: stop watching the socket, so that
 * a pending connection does not wake us again at once. Connections wait
 * in the backlog until a client leaves or the retry timer fires. */
static void listen_pause(int errnum)
{
	listen_enable(false);
	if (!server.paused)
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC,
		     "varlink: out of file descriptors (%s) with %u clients connected: "
		     "not accepting until a client leaves",
		     strerror(errnum), server.n_clients);
	server.paused = true;
	if (!server.event)
		return;
	uint64_t now;
	sd_event_now(server.event, CLOCK_MONOTONIC, &now);
	if (!server.retry) {
		if (sd_event_add_time(server.event, &server.retry, CLOCK_MONOTONIC, now + VL_ACCEPT_RETRY_USEC,
				      0, on_accept_retry, NULL) < 0)
			server.retry = NULL;
	} else {
		sd_event_source_set_time(server.retry, now + VL_ACCEPT_RETRY_USEC);
		sd_event_source_set_enabled(server.retry, SD_EVENT_ONESHOT);
	}
}

/* The backlog was emptied without running short: a pause, if any, is
 * over. (Not at the first accept that works: a client taken from the
 * backlog may be gone already and the next accept fail again, which is
 * still the same episode.) */
static void listen_drained(void)
{
	if (!server.paused)
		return;
	server.paused = false;
	if (server.retry)
		sd_event_source_set_enabled(server.retry, SD_EVENT_OFF);
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "varlink: descriptors available again: accepting clients");
}

static void listen_client_left(void)
{
	if (server.paused)
		listen_enable(true);   /* the freed descriptor is for the next in line */
	if (server.refusing && server.n_clients < server.clients_max) {
		server.refusing = false;
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC,
		     "varlink: %u clients connected: accepting clients again (%lu refused meanwhile)",
		     server.n_clients, server.refused);
		server.refused = 0;
	}
}

/* How many clients the fd limit allows: what is not open yet, less the
 * reserve. Counted once at start, against the limit main() raised. */
static unsigned client_budget(unsigned long *limit, unsigned long *open_now, unsigned long *reserve)
{
	*limit = fd_limit_current();
	*open_now = fd_count_open();
	*reserve = *limit / 4;
	if (*reserve < VL_FD_RESERVE_MIN)
		*reserve = VL_FD_RESERVE_MIN;
	if (*reserve > VL_FD_RESERVE_MAX)
		*reserve = VL_FD_RESERVE_MAX;
	unsigned long used = *open_now + *reserve;
	/* at least one client, so an admin can always look; EMFILE is then
	 * handled by pausing */
	unsigned long budget = *limit > used ? *limit - used : 1;
	return budget > VL_CLIENTS_MAX ? VL_CLIENTS_MAX : (unsigned)budget;
}

/* --- clients --- */

static size_t out_pending(const struct vl_client *c)
{
	return c->out_len - c->out_off;
}

bool vl_client_closing(const struct vl_client *c)
{
	return c->closing;
}

bool vl_client_privileged(const struct vl_client *c)
{
	return c->privileged;
}

const char *vl_client_describe(const struct vl_client *c)
{
	return c->describe;
}

void vl_pending_add(struct vl_client *c, struct vl_pending *p)
{
	p->client = c;
	p->prev = NULL;
	p->next = c->pending;
	if (c->pending)
		c->pending->prev = p;
	c->pending = p;
}

void vl_pending_remove(struct vl_pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else if (p->client)
		p->client->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
}

static void client_free(struct vl_client *c)
{
	/* every running call lets go of the daemon first: sinks detached,
	 * observers unsubscribed, so nothing calls back into a freed client */
	while (c->pending) {
		struct vl_pending *p = c->pending;
		vl_pending_remove(p);
		p->cancel(p);
	}
	c->io = sd_event_source_disable_unref(c->io);
	c->close_later = sd_event_source_disable_unref(c->close_later);
	if (c->fd >= 0)
		close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		server.clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	server.n_clients--;
	free(c->in);
	free(c->out);
	free(c);
	listen_client_left();
}

static int on_close_later(sd_event_source *s, void *ud)
{
	client_free(ud);
	return 0;
}

/* Stop all input and output now, free on the next loop iteration: the
 * client may be deep in our own call stack (a Monitor client's observer
 * runs inside another client's request). */
static void client_close(struct vl_client *c)
{
	if (c->closing)
		return;
	c->closing = true;
	/* what was answered before the client misbehaved still gets a chance */
	if (c->fd >= 0 && out_pending(c))
		(void)!send(c->fd, c->out + c->out_off, out_pending(c), MSG_NOSIGNAL | MSG_DONTWAIT);
	if (c->io)
		sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
	if (server.event && !c->close_later)
		sd_event_add_defer(server.event, &c->close_later, on_close_later, c);
	/* without a loop (fuzz target) the owner frees it */
}

void vl_client_fail(struct vl_client *c, const char *fmt, ...)
{
	if (c->closing)
		return;
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "varlink: client %u (%s): %s; disconnecting", c->id, c->describe, why);
	client_close(c);
}

static void client_update_events(struct vl_client *c);

/* Append a message (a, then b) and its terminating NUL to the output. */
static void queue_output(struct vl_client *c, const char *a, size_t a_len, const char *b, size_t b_len)
{
	if (c->fd < 0)
		return;
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	size_t len = a_len + b_len;
	if (c->out_len + len + 1 > c->out_cap) {
		c->out_cap = (c->out_len + len + 1) * 2;
		c->out = xrealloc(c->out, c->out_cap);
	}
	memcpy(c->out + c->out_len, a, a_len);
	if (b_len)
		memcpy(c->out + c->out_len + a_len, b, b_len);
	c->out[c->out_len + len] = '\0';
	c->out_len += len + 1;
	client_update_events(c);
}

void vl_client_send(struct vl_client *c, json_object *parameters, const char *error, bool continues)
{
	if (c->closing) {
		json_object_put(parameters);
		return;
	}
	if (continues && out_pending(c) > VL_OUTPUT_MAX) {
		json_object_put(parameters);
		vl_client_fail(c, "does not read its replies (over %u bytes queued)", VL_OUTPUT_MAX);
		return;
	}
	json_object *msg = json_object_new_object();
	json_object_object_add(msg, "parameters", parameters ? parameters : json_object_new_object());
	if (error)
		json_object_object_add(msg, "error", json_object_new_string(error));
	if (continues)
		json_object_object_add(msg, "continues", json_object_new_boolean(true));
	size_t len;
	const char *text = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	queue_output(c, text, len, NULL, 0);
	json_object_put(msg);
}

void vl_client_send_message(struct vl_client *c, struct strbuf *message)
{
	if (c->closing || c->fd < 0)
		return;
	if (c->out_off == c->out_len) {
		/* nothing queued: the message's buffer becomes the queue, its
		 * NUL the message's terminator */
		free(c->out);
		c->out_cap = message->cap;
		c->out_len = message->len + 1;
		c->out_off = 0;
		c->out = strbuf_steal(message);
		client_update_events(c);
		return;
	}
	queue_output(c, message->data, message->len, NULL, 0);
}

/* Dispatch every complete message in the input buffer, unless the client
 * already has too much unread output (then wait for it to catch up). */
static void client_process_input(struct vl_client *c)
{
	size_t start = 0;
	while (!c->closing && out_pending(c) <= VL_OUTPUT_MAX) {
		size_t from = c->in_scanned > start ? c->in_scanned : start;
		char *nul = memchr(c->in + from, '\0', c->in_len - from);
		if (!nul) {
			c->in_scanned = c->in_len;
			break;
		}
		size_t len = (size_t)(nul - (c->in + start));
		if (len > VL_MESSAGE_MAX) {
			vl_client_fail(c, "message of %zu bytes is over the limit of %u", len, VL_MESSAGE_MAX);
			return;
		}
		vl_dispatch(c, c->in + start, len);
		start += len + 1;
	}
	if (c->closing)
		return;
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	c->in_scanned = c->in_scanned > start ? c->in_scanned - start : 0;
	if (c->in_len > VL_MESSAGE_MAX && c->in_scanned == c->in_len)
		vl_client_fail(c, "message longer than the limit of %u bytes", VL_MESSAGE_MAX);
}

/* Room for ROOM more input bytes. The buffer doubles: growing it by the
 * read size would copy a 32 MiB message some five hundred times. */
static void input_reserve(struct vl_client *c, size_t room)
{
	if (c->in_cap - c->in_len >= room)
		return;
	size_t cap = c->in_cap * 2;
	if (cap < c->in_len + room)
		cap = c->in_len + room;
	c->in_cap = cap;
	c->in = xrealloc(c->in, c->in_cap);
}

static bool client_input_paused(const struct vl_client *c)
{
	return out_pending(c) > VL_OUTPUT_MAX;
}

static void client_update_events(struct vl_client *c)
{
	if (c->closing || !c->io)
		return;
	/* a client that said all it had to say, got every answer and waits
	 * for nothing more is done */
	if (c->input_closed && !c->pending && out_pending(c) == 0 &&
	    !memchr(c->in, '\0', c->in_len)) {
		DBG(DBG_CONTROL, NULL, "varlink: client %u finished", c->id);
		client_close(c);
		return;
	}
	uint32_t events = 0;
	if (!c->input_closed && !client_input_paused(c))
		events |= EPOLLIN;
	if (out_pending(c))
		events |= EPOLLOUT;
	sd_event_source_set_io_events(c->io, events);
}

static void client_read(struct vl_client *c)
{
	for (int i = 0; i < VL_READS_PER_WAKEUP && !c->closing && !c->input_closed &&
			!client_input_paused(c); i++) {
		input_reserve(c, VL_READ_CHUNK);
		ssize_t n = read(c->fd, c->in + c->in_len, VL_READ_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				vl_client_fail(c, "read error: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			c->input_closed = true;
			if (c->in_len > 0 && !memchr(c->in, '\0', c->in_len))
				DBG(DBG_CONTROL, NULL, "varlink: client %u: %zu bytes without a terminating NUL ignored",
				    c->id, c->in_len);
			return;
		}
		c->in_len += (size_t)n;
		client_process_input(c);
	}
}

static void client_write(struct vl_client *c)
{
	bool was_paused = client_input_paused(c);
	while (out_pending(c) > 0) {
		ssize_t n = send(c->fd, c->out + c->out_off, out_pending(c), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			/* the peer went away: nothing to tell anybody */
			DBG(DBG_CONTROL, NULL, "varlink: client %u: write failed: %s", c->id, strerror(errno));
			client_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	if (c->out_cap > 4 * VL_READ_CHUNK) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	/* requests left in the buffer while the client lagged behind */
	if (was_paused)
		client_process_input(c);
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct vl_client *c = ud;
	if (c->closing)
		return 0;
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
		client_read(c);
	if (!c->closing && (revents & EPOLLOUT))
		client_write(c);
	if (!c->closing && (revents & (EPOLLHUP | EPOLLERR))) {
		/* both directions are gone: no reply can reach it */
		DBG(DBG_CONTROL, NULL, "varlink: client %u hung up", c->id);
		client_close(c);
		return 0;
	}
	client_update_events(c);
	return 0;
}

static struct vl_client *client_new(int fd)
{
	struct vl_client *c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->id = ++server.next_id;
	c->uid = (uid_t)-1;
	c->next = server.clients;
	if (server.clients)
		server.clients->prev = c;
	server.clients = c;
	server.n_clients++;
	c->in_cap = 256;
	c->in = xmalloc(c->in_cap);
	return c;
}

static bool gid_is_admin(int fd, gid_t primary)
{
	if (server.admin_gid < 0)
		return false;
	if (primary == (gid_t)server.admin_gid)
		return true;
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	bool found = false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		if (errno != ERANGE)
			return false;
		groups = xmalloc(len);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
			len = 0;
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == (gid_t)server.admin_gid)
			found = true;
	if (groups != small)
		free(groups);
	return found;
}

static void client_accept(int fd)
{
	if (server.n_clients >= server.clients_max) {
		/* closed at once: the client sees the connection end instead of
		 * waiting in the backlog; one line for the whole episode */
		if (!server.refusing)
			llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC,
			     "varlink: %u clients connected, the most allowed (at most %u, descriptor limit %lu): "
			     "refusing new clients until one leaves",
			     server.n_clients, VL_CLIENTS_MAX, server.fd_limit);
		server.refusing = true;
		server.refused++;
		close(fd);
		return;
	}
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "varlink: cannot read the credentials of a client: %s", strerror(errno));
	struct vl_client *c = client_new(fd);
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->privileged = cred.uid == 0 || gid_is_admin(fd, cred.gid);
	snprintf(c->describe, sizeof(c->describe), "uid %d pid %d", (int)cred.uid, (int)cred.pid);
	int r = sd_event_add_io(server.event, &c->io, fd, EPOLLIN, on_client_io, c);
	if (r < 0) {
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "varlink: cannot watch a client: %s", strerror(-r));
		client_free(c);
		return;
	}
	DBG(DBG_CONTROL, NULL, "varlink: client %u connected (%s)", c->id, c->describe);
}

static int on_listen(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* the connection stays pending: returning would wake us
			 * again at once, so stop watching (never spin) */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				listen_pause(errno);
			else if (errno == EAGAIN)
				listen_drained();
			else
				llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "varlink: accept failed: %s", strerror(errno));
			return 0;
		}
		client_accept(cfd);
	}
}

/* --- the listening socket --- */

static int create_socket(const char *path, long admin_gid, struct ctl_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return ctl_fail(err, PE_INVALID_OPTION, "Varlink socket path \"%s\" is too long (max %zu bytes)",
				path, sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);

	/* A socket file left by a pluto that died: main() claimed the path
	 * (varlink-claim.c: PATH.lock held, nobody answers on the socket), so
	 * nobody else serves it. Anything that is not a socket is not ours. */
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return ctl_fail(err, PE_INVALID_OPTION, "\"%s\" exists and is not a socket: not replacing it",
					path);
		if (unlink(path) < 0)
			return ctl_fail(err, PE_INTERNAL, "cannot remove stale socket \"%s\": %s", path,
					strerror(errno));
	}

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ctl_fail(err, PE_INTERNAL, "cannot create the Varlink socket: %s", strerror(errno));
	/* created 0600 from the start: no window in which others may connect
	 * before the mode below is set */
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0) {
		ctl_fail(err, PE_INTERNAL, "cannot bind the Varlink socket \"%s\": %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* Everyone may connect, so status, show and monitor work for any
	 * local user: the dispatcher refuses every method that changes state
	 * (all but the VL_READ_ONLY ones) to callers that are not root or in
	 * the admin group, as D-Bus policy does. The group is kept so the
	 * admin group's members are recognised by their credentials. */
	if (admin_gid >= 0 && chown(path, (uid_t)-1, (gid_t)admin_gid) < 0) {
		ctl_fail(err, PE_INTERNAL, "cannot give the Varlink socket \"%s\" to group %ld: %s", path,
			 admin_gid, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	if (chmod(path, 0666) < 0) {
		ctl_fail(err, PE_INTERNAL, "cannot open the Varlink socket \"%s\" to all users: %s", path,
			 strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	if (listen(fd, SOMAXCONN) < 0) {
		ctl_fail(err, PE_INTERNAL, "cannot listen on the Varlink socket \"%s\": %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	/* which file is ours, so that stop removes no one else's */
	if (lstat(path, &st) == 0) {
		server.dev = st.st_dev;
		server.ino = st.st_ino;
	}
	return fd;
}

int varlink_start(struct sd_event *event, const char *path, int listen_fd, long admin_gid,
		  struct ctl_error *err)
{
	server.admin_gid = admin_gid;
	if (listen_fd >= 0) {
		if (sd_is_socket_unix(listen_fd, SOCK_STREAM, 1, NULL, 0) <= 0)
			return ctl_fail(err, PE_INVALID_OPTION,
					"the socket passed as \"varlink\" is not a listening unix stream socket");
		int fl = fcntl(listen_fd, F_GETFL);
		if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0)
			return ctl_fail(err, PE_INTERNAL, "cannot make the passed Varlink socket non-blocking: %s",
					strerror(errno));
		server.fd = listen_fd;
	} else {
		server.fd = create_socket(path, admin_gid, err);
		if (server.fd < 0)
			return -1;
		server.path = xstrdup(path);
	}
	int r = sd_event_add_io(event, &server.source, server.fd, EPOLLIN, on_listen, NULL);
	if (r < 0) {
		ctl_fail(err, PE_INTERNAL, "cannot watch the Varlink socket: %s", strerror(-r));
		varlink_stop();
		return -1;
	}
	server.event = sd_event_ref(event);
	unsigned long limit, open_now, reserve;
	server.clients_max = client_budget(&limit, &open_now, &reserve);
	server.fd_limit = limit;
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "varlink: serving org.freeswan.pluto on %s", listen_fd >= 0 ? "the socket passed by systemd" : path);
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC,
	     "varlink: up to %u clients (descriptor limit %lu, %lu open, %lu kept for IKE, netlink and logging)",
	     server.clients_max, limit, open_now, reserve);
	return 0;
}

void varlink_stop(void)
{
	/* no "accepting again" while the clients are let go below */
	server.paused = server.refusing = false;
	while (server.clients) {
		struct vl_client *c = server.clients;
		/* one last non-blocking attempt, so e.g. Shutdown's reply arrives */
		if (c->fd >= 0 && !c->closing && out_pending(c))
			(void)!send(c->fd, c->out + c->out_off, out_pending(c), MSG_NOSIGNAL | MSG_DONTWAIT);
		client_free(c);
	}
	server.source = sd_event_source_disable_unref(server.source);
	server.retry = sd_event_source_disable_unref(server.retry);
	server.paused = server.refusing = false;
	if (server.fd >= 0)
		close(server.fd);
	server.fd = -1;
	if (server.path) {
		/* only if the file is still the one we bound: never another
		 * daemon's socket that replaced ours */
		struct stat st;
		if (lstat(server.path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == server.dev &&
		    st.st_ino == server.ino)
			unlink(server.path);
		else
			DBG(DBG_CONTROL, NULL, "varlink: %s is no longer our socket: left alone", server.path);
		free(server.path);
		server.path = NULL;
	}
	server.event = sd_event_unref(server.event);
}

/* --- fuzz entry point --- */

void varlink_fuzz_feed(const uint8_t *data, size_t len, bool privileged)
{
	struct vl_client *c = client_new(-1);
	c->privileged = privileged;
	c->uid = privileged ? 0 : 65534;
	snprintf(c->describe, sizeof(c->describe), "fuzz");
	/* in uneven pieces, as reads would split them */
	size_t off = 0, piece = 1;
	while (off < len && !c->closing) {
		size_t n = len - off < piece ? len - off : piece;
		input_reserve(c, n);
		memcpy(c->in + c->in_len, data + off, n);
		c->in_len += n;
		off += n;
		client_process_input(c);
		piece = piece * 3 + 1;
	}
	client_free(c);
}
