/* The updown command: build the PLUTO_* environment and run a
 * connection's own command line with /bin/sh -c, log its output line by
 * line, judge its exit; or, when the connection names none, do what the
 * shipped script would do in-process (updown_builtin.c); or nothing
 * (%disabled).
 *
 * Inside the daemon an external command never blocks the event loop: it
 * is queued, started with fork/exec, its output read by an sd-event IO
 * source, its exit reaped by an sd-event child source and its time limit
 * kept by a timer. The commands of one connection run one after the
 * other, in the order asked (route before up, up before down), while up
 * to ASYNC_MAX_RUNNING of different connections run at once. Without an
 * event loop (unit tests, and at shutdown after the loop ended) a command
 * runs to its end before updown_run returns. */
#include "klips/updown.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "common/fd_limit.h"
#include "common/id.h"
#include "common/ifaddr.h"
#include "common/ip.h"
#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/log.h"
#include "daemon/state.h"
#include "klips/updown_facts.h"

/* The version of the script interface (FreeS/WAN's numbering: 1.1 added
 * the protocol/port and id variables). Not the daemon's version. */
#define UPDOWN_INTERFACE_VERSION "1.1"
#define UPDOWN_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
#define LINE_MAX_LOGGED 1024      /* longer lines are logged in pieces */
#define LINES_MAX_LOGGED 200      /* a chatty script cannot flood the log */
#define ASYNC_MAX_RUNNING 4       /* external commands of different connections at once */
#define ASYNC_LOOKAHEAD 64        /* queued commands looked at for one that may start */

static char *default_path;
static unsigned timeout_msec = 30000;

void updown_set_default(const char *path)
{
	free(default_path);
	default_path = path ? xstrdup(path) : NULL;
}

const char *updown_default(void)
{
	return default_path;
}

void updown_set_timeout(unsigned msec)
{
	timeout_msec = msec ? msec : 1;
}

static const char *const verb_names[][2] = {
	[UPDOWN_PREPARE] = { "prepare-host", "prepare-client" },
	[UPDOWN_ROUTE]   = { "route-host",   "route-client" },
	[UPDOWN_UNROUTE] = { "unroute-host", "unroute-client" },
	[UPDOWN_UP]      = { "up-host",      "up-client" },
	[UPDOWN_DOWN]    = { "down-host",    "down-client" },
};

const char *updown_verb_name(enum updown_verb verb, bool client)
{
	if ((unsigned)verb >= ARRAY_SIZE(verb_names))
		return "unknown";
	return verb_names[verb][client];
}

/* ---- the environment ---- */

struct env {
	char *v[48];
	size_t n;
};

static void env_add(struct env *e, const char *name, const char *value)
{
	if (e->n + 1 < ARRAY_SIZE(e->v))
		e->v[e->n++] = xasprintf("%s=%s", name, value);
}

static void env_free(struct env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	e->n = 0;
}

/* The classic form of a mask: written as an address of the same family
 * (255.255.255.0, ffff:ffff:ffff:ffff::), so both families read alike. */
static const char *mask_str(const ip_subnet *s, char buf[IP_STR_MAX])
{
	ip_address m = { .family = s->addr.family };
	size_t len = ip_len(&s->addr);
	for (size_t i = 0; i < len; i++) {
		unsigned bits = s->prefix > i * 8 ? s->prefix - i * 8 : 0;
		m.u.bytes[i] = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
	}
	return ip_str(&m, buf);
}

/* The unspecified address of our family stands for an unknown peer (a
 * %any template that is routed before anyone connected). */
static void unspecified(int family, ip_address *out)
{
	memset(out, 0, sizeof(*out));
	out->family = family;
}

static void add_client(struct env *e, const char *prefix, ip_subnet client)
{
	char name[64], buf[IP_STR_MAX];
	snprintf(name, sizeof(name), "%s_CLIENT", prefix);
	env_add(e, name, subnet_str(&client, buf));
	snprintf(name, sizeof(name), "%s_CLIENT_NET", prefix);
	env_add(e, name, ip_str(&client.addr, buf));
	snprintf(name, sizeof(name), "%s_CLIENT_MASK", prefix);
	env_add(e, name, mask_str(&client, buf));
	/* no protoport option yet: 0 means every protocol and port */
	snprintf(name, sizeof(name), "%s_PROTOCOL", prefix);
	env_add(e, name, "0");
	snprintf(name, sizeof(name), "%s_PORT", prefix);
	env_add(e, name, "0");
}

static void policy_str(unsigned policy, char *out, size_t len)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ POLICY_PSK, "PSK" }, { POLICY_RSASIG, "RSASIG" },
		{ POLICY_ENCRYPT, "ENCRYPT" }, { POLICY_AUTHENTICATE, "AUTHENTICATE" },
		{ POLICY_TUNNEL, "TUNNEL" }, { POLICY_COMPRESS, "COMPRESS" },
		{ POLICY_PFS, "PFS" }, { POLICY_DONT_REKEY, "DONT_REKEY" },
	};
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(policy & names[i].bit))
			continue;
		int n = snprintf(out + used, len - used, "%s%s", used ? "+" : "", names[i].name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
}

static void spi_list(const uint32_t *spis, unsigned n, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < n && i < SPIS_MAX; i++) {
		int k = snprintf(out + used, len - used, "%s0x%08x", i ? " " : "", spis[i]);
		if (k < 0 || (size_t)k >= len - used)
			break;
		used += (size_t)k;
	}
}

static bool has_remote_access(const struct state *st)
{
	if (!st)
		return false;
	const struct state_modecfg *m = state_modecfg(st);
	return st->xauth_user[0] || m->has_virtual_address || m->n_dns || st->domains[0] || st->banner[0];
}

/* XAUTH and Mode Config results live on the ISAKMP state; up and down
 * run with the IPsec state, so fall back to the connection's newest
 * ISAKMP state. NULL when neither has any. */
static const struct state *remote_access_state(const struct connection *c, const struct state *st)
{
	if (has_remote_access(st))
		return st;
	const struct state *isakmp = c->newest_isakmp ? state_by_serial(c->newest_isakmp) : NULL;
	return has_remote_access(isakmp) ? isakmp : NULL;
}

/* The libreswan names: PLUTO_MY_SOURCEIP (the virtual address alone),
 * PLUTO_PEER_DNS_INFO and PLUTO_PEER_DOMAIN_INFO (space-separated),
 * PLUTO_PEER_BANNER, PLUTO_XAUTH_USERNAME; each only when known. The
 * address is ours only on a Mode Config client: on the gateway the same
 * state field holds the address it lent, which is the peer's client
 * (PLUTO_PEER_CLIENT), and the script must not put it on our interface. */
static void add_remote_access(struct env *e, const struct connection *c, const struct state *ra)
{
	char buf[IP_STR_MAX], list[4 * IP_STR_MAX + 4], domains[256];
	const struct state_modecfg *m = state_modecfg(ra);
	if (m->has_virtual_address && END_THIS(c)->modecfgclient)
		env_add(e, "PLUTO_MY_SOURCEIP", ip_str(&m->virtual_address.addr, buf));
	if (m->n_dns) {
		size_t used = 0;
		list[0] = '\0';
		for (size_t i = 0; i < m->n_dns && i < ARRAY_SIZE(m->dns); i++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? " " : "",
						 ip_str(&m->dns[i], buf));
		env_add(e, "PLUTO_PEER_DNS_INFO", list);
	}
	if (ra->domains[0]) {
		snprintf(domains, sizeof(domains), "%s", ra->domains);
		for (char *p = domains; *p; p++)
			if (*p == ',')
				*p = ' ';
		env_add(e, "PLUTO_PEER_DOMAIN_INFO", domains);
	}
	if (ra->banner[0])
		env_add(e, "PLUTO_PEER_BANNER", ra->banner);
	if (ra->xauth_user[0])
		env_add(e, "PLUTO_XAUTH_USERNAME", ra->xauth_user);
}

void updown_facts_of(const struct connection *c, const struct state *st, struct updown_facts *f)
{
	const struct end *me = END_THIS(c), *peer = END_THAT(c);
	memset(f, 0, sizeof(*f));
	f->peer = peer->host;
	if (!ip_is_set(&f->peer)) {
		if (st && ip_is_set(&st->peer))
			f->peer = st->peer;
		else
			unspecified(me->host.family, &f->peer);
	}
	/* no nexthop, or %direct: the peer itself is the next hop */
	f->nexthop = ip_is_set(&me->nexthop) && !me->nexthop_direct ? me->nexthop : f->peer;
	local_address_interface(&me->host, f->ifname, sizeof(f->ifname), &f->ifindex);
	f->my_has_client = connection_this_client(c, &f->my_client);
	if (!connection_that_client(c, &f->peer_client))
		subnet_from_address(&f->peer, &f->peer_client);   /* the instance's actual peer */
	/* the peer itself (no client subnet) is reached as IKE reaches it */
	f->peer_only = ip_equal(&f->peer_client.addr, &f->peer) &&
		       f->peer_client.prefix == ip_len(&f->peer) * 8;
	f->ra = remote_access_state(c, st);
	const struct state_modecfg *m = f->ra ? state_modecfg(f->ra) : NULL;
	if (m && m->has_virtual_address && me->modecfgclient) {
		f->has_sourceip = true;
		f->sourceip = m->virtual_address.addr;
	}
}

static void build_env(struct env *e, const char *verb, const struct connection *c,
		      const struct state *st, const struct updown_facts *f)
{
	const struct end *me = END_THIS(c), *peer = END_THAT(c);
	char buf[IP_STR_MAX], idbuf[ID_STR_MAX], pol[128];
	const ip_address *peer_host = &f->peer;

	env_add(e, "PLUTO_VERSION", UPDOWN_INTERFACE_VERSION);
	env_add(e, "PLUTO_VERB", verb);
	env_add(e, "PLUTO_CONNECTION", c->name);
	env_add(e, "PLUTO_NEXT_HOP", ip_str(&f->nexthop, buf));
	env_add(e, "PLUTO_INTERFACE", f->ifname);

	env_add(e, "PLUTO_ME", ip_str(&me->host, buf));
	env_add(e, "PLUTO_MY_ID", me->id.kind != ID_NONE ? id_str(&me->id, idbuf)
						       : ip_str(&me->host, buf));
	add_client(e, "PLUTO_MY", f->my_client);

	env_add(e, "PLUTO_PEER", ip_str(peer_host, buf));
	if (st && st->peer_id[0])
		env_add(e, "PLUTO_PEER_ID", st->peer_id);
	else if (peer->id.kind != ID_NONE)
		env_add(e, "PLUTO_PEER_ID", id_str(&peer->id, idbuf));
	else
		env_add(e, "PLUTO_PEER_ID", ip_str(peer_host, buf));
	add_client(e, "PLUTO_PEER", f->peer_client);

	policy_str(c->cfg.policy, pol, sizeof(pol));
	env_add(e, "PLUTO_CONN_POLICY", pol);
	if (st) {
		char spis[SPIS_MAX * 11 + 1];
		snprintf(buf, sizeof(buf), "%u", st->serial);
		env_add(e, "PLUTO_SERIAL", buf);
		if (st->n_inbound_spis) {
			spi_list(st->inbound_spis, st->n_inbound_spis, spis, sizeof(spis));
			env_add(e, "PLUTO_SPI_IN", spis);
		}
		if (st->n_outbound_spis) {
			spi_list(st->outbound_spis, st->n_outbound_spis, spis, sizeof(spis));
			env_add(e, "PLUTO_SPI_OUT", spis);
		}
	}
	if (f->ra)
		add_remote_access(e, c, f->ra);
	e->v[e->n++] = xstrdup(UPDOWN_PATH);
	e->v[e->n] = NULL;
}

/* ---- running an external command ---- */

/* In the child, between fork and exec: only async-signal-safe calls. */
static void __attribute__((noreturn)) child_exec(int out_fd, int null_fd, char *const argv[],
						 char *const envp[])
{
	sigset_t none;
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	/* The daemon blocks its signals for sd-event and ignores SIGPIPE;
	 * both are inherited across exec, so give the script a clean slate. */
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Own process group, so the time limit kills what the script started. */
	setpgid(0, 0);

	if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(126);
	if (null_fd == 0)   /* dup2 onto itself keeps close-on-exec */
		fcntl(0, F_SETFD, 0);
	/* Everything is close-on-exec already; closing the rest anyway
	 * guards against a descriptor some library opened without it. */
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3u, ~0u, 0u) < 0)
#endif
	{
		long max = sysconf(_SC_OPEN_MAX);
		for (long fd = 3; fd < (max > 0 ? max : 1024); fd++)
			close((int)fd);
	}
	/* the script gets the fd limit pluto was started with, not the
	 * one pluto raised for itself (a select() user would break) */
	fd_limit_restore_for_exec();
	execve("/bin/sh", argv, envp);
	_exit(127);
}

/* One run of an external command: everything it needs is copied in, so
 * that it outlives the connection and state that asked for it (a queued
 * "down" of a state being deleted). */
struct job {
	struct job *next;
	char *conn;                 /* the connection's name: the order key */
	unsigned serial;            /* the state's, 0 = none */
	char verb[32];
	enum updown_verb v;
	char *cmd;
	struct env env;
	pid_t pid;                  /* > 0 once started */
	int out_fd;                 /* read end of the output pipe, -1 once closed */
	bool timed_out;
	sd_event_source *child_source, *io_source, *timer_source;
	char line[LINE_MAX_LOGGED + 1];
	size_t len;
	unsigned lines;
};

static sd_event *loop;                  /* set: commands run as children of the loop */
static struct job *queue, **queue_tail = &queue;
static unsigned n_running;

/* The connection and state of a job, when they still exist, give the
 * usual prefix, journal fields and progress sinks; once gone, the prefix
 * is written out by hand so the line reads the same. */
static void job_log(const struct job *j, enum log_stream stream, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void job_log(const struct job *j, enum log_stream stream, const char *fmt, ...)
{
	char text[LINE_MAX_LOGGED + 300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	const struct connection *c = connection_by_name(j->conn);
	const struct state *st = j->serial ? state_by_serial(j->serial) : NULL;
	if (c && (!j->serial || (st && st->connection == c)))
		llog(LOGGER(c, st), stream, MSGID_GENERIC, "%s", text);
	else if (j->serial)
		llog(GLOBAL_LOGGER, stream, MSGID_GENERIC, "\"%s\" #%u: %s", j->conn, j->serial, text);
	else
		llog(GLOBAL_LOGGER, stream, MSGID_GENERIC, "\"%s\": %s", j->conn, text);
}

static void output_flush(struct job *j)
{
	if (j->len == 0)
		return;
	j->line[j->len] = '\0';
	j->len = 0;
	if (++j->lines <= LINES_MAX_LOGGED)
		job_log(j, LS_INFO, "%s output: %s", j->verb, j->line);
	else if (j->lines == LINES_MAX_LOGGED + 1)
		job_log(j, LS_WARNING, "%s output: more than %d lines, the rest is not logged", j->verb,
			LINES_MAX_LOGGED);
}

static void output_add(struct job *j, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n') {
			if (j->len == 0) {        /* keep empty lines visible as such */
				j->line[0] = ' ';
				j->len = 1;
			}
			output_flush(j);
		} else {
			j->line[j->len++] = data[i] ? data[i] : ' ';
			if (j->len == LINE_MAX_LOGGED)
				output_flush(j);
		}
	}
}

/* Reads what is available now; false at end of file or on error. */
static bool output_drain(struct job *j)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(j->out_fd, buf, sizeof(buf));
		if (n > 0) {
			output_add(j, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

static void output_close(struct job *j)
{
	j->io_source = sd_event_source_disable_unref(j->io_source);
	if (j->out_fd >= 0)
		close(j->out_fd);
	j->out_fd = -1;
}

static void job_free(struct job *j)
{
	output_close(j);
	j->child_source = sd_event_source_unref(j->child_source);
	j->timer_source = sd_event_source_disable_unref(j->timer_source);
	env_free(&j->env);
	free(j->conn);
	free(j->cmd);
	free(j);
}

/* The verdict on a finished run: 0, or -1 with err; logged either way. */
static int job_judge(struct job *j, int status, struct ctl_error *err)
{
	char what[128];
	if (j->out_fd >= 0)
		output_drain(j);   /* what it left; a background holder of the pipe is not waited for */
	output_flush(j);
	output_close(j);
	if (j->timed_out)
		snprintf(what, sizeof(what), "timed out after %u ms, killed", timeout_msec);
	else if (status == -1)
		snprintf(what, sizeof(what), "lost the child process (errno %d)", ECHILD);
	else if (WIFSIGNALED(status))
		snprintf(what, sizeof(what), "killed by signal %d", WTERMSIG(status));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		snprintf(what, sizeof(what), "exit status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	else {
		if (debugging(DBG_KLIPS, connection_by_name(j->conn)))
			job_log(j, LS_INFO, "| updown %s succeeded", j->verb);
		return 0;
	}
	job_log(j, LS_ERROR, "%s: updown command \"%s\" failed: %s", j->verb, j->cmd, what);
	return ctl_fail(err, j->v == UPDOWN_UP || j->v == UPDOWN_DOWN ? PE_INTERNAL : PE_CANNOT_ROUTE,
			"%s: updown command \"%s\" failed: %s", j->verb, j->cmd, what);
}

/* fork/exec with the output on a non-blocking pipe; 0 or -1 with err. */
static int job_start(struct job *j, struct ctl_error *err)
{
	char *argv[] = { (char *)"sh", (char *)"-c", j->cmd, NULL };
	int pipefd[2], null_fd;
	const char *fmt = NULL;
	int e = 0;

	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0) {
		fmt = "cannot open /dev/null (errno %d)";
		e = errno;
	} else if (pipe2(pipefd, O_CLOEXEC) < 0) {
		fmt = "cannot create a pipe (errno %d)";
		e = errno;
		close(null_fd);
	}
	if (fmt)
		goto failed;
	/* we read without blocking; the script writes as it likes */
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	/* a daemon with a closed stdio could get 0..2 here, which the child's
	 * dup2s would clobber: move the write end out of the way */
	if (pipefd[1] < 3) {
		int fd = fcntl(pipefd[1], F_DUPFD_CLOEXEC, 3);
		if (fd >= 0) {
			close(pipefd[1]);
			pipefd[1] = fd;
		}
	}
	log_flush();   /* the child must not inherit (and so repeat) buffered lines */
	pid_t pid = fork();
	if (pid == 0)
		child_exec(pipefd[1], null_fd, argv, j->env.v);
	e = errno;
	close(pipefd[1]);
	close(null_fd);
	if (pid < 0) {
		close(pipefd[0]);
		fmt = "cannot fork (errno %d)";
		goto failed;
	}
	/* Avoid a race with the child's own setpgid: either wins, same result. */
	setpgid(pid, pid);
	j->pid = pid;
	j->out_fd = pipefd[0];
	return 0;
failed: {
		char what[128];
		snprintf(what, sizeof(what), fmt, e);
		job_log(j, LS_ERROR, "%s: updown command \"%s\" failed: %s", j->verb, j->cmd, what);
		return ctl_fail(err, j->v == UPDOWN_UP || j->v == UPDOWN_DOWN ? PE_INTERNAL : PE_CANNOT_ROUTE,
				"%s: updown command \"%s\" failed: %s", j->verb, j->cmd, what);
	}
}

static long long now_msec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for a started job, blocking (no event loop): the old way, used
 * only in tests and at shutdown. Returns its verdict. */
static int job_wait(struct job *j, struct ctl_error *err)
{
	long long deadline = now_msec() + timeout_msec;
	int status = 0;
	/* the loop's child source, if any, must not reap it behind our back */
	j->child_source = sd_event_source_unref(j->child_source);
	j->timer_source = sd_event_source_disable_unref(j->timer_source);
	j->io_source = sd_event_source_disable_unref(j->io_source);
	for (;;) {
		pid_t r = waitpid(j->pid, &status, WNOHANG);
		if (r == j->pid || (r < 0 && errno != EINTR)) {
			if (r < 0)
				status = -1;
			break;
		}
		long long left = deadline - now_msec();
		if (left <= 0) {
			j->timed_out = true;
			kill(-j->pid, SIGKILL);
			kill(j->pid, SIGKILL);
			while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		/* poll the pipe while it is open; once it is closed, check the
		 * child every few milliseconds */
		struct pollfd pfd = { .fd = j->out_fd, .events = POLLIN };
		int wait_ms = j->out_fd >= 0 ? 50 : 10;
		if (wait_ms > left)
			wait_ms = (int)left;
		if (poll(&pfd, 1, wait_ms) > 0 && j->out_fd >= 0 && !output_drain(j))
			output_close(j);
	}
	return job_judge(j, status, err);
}

/* --- the asynchronous queue --- */

static void queue_remove(struct job *j)
{
	for (struct job **pp = &queue; *pp; pp = &(*pp)->next) {
		if (*pp != j)
			continue;
		*pp = j->next;
		if (queue_tail == &j->next)
			queue_tail = pp;
		return;
	}
}

static void schedule(void);

static void job_done(struct job *j, int status)
{
	struct ctl_error ignored;
	job_judge(j, status, &ignored);
	n_running--;
	queue_remove(j);
	job_free(j);
	schedule();
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *ud)
{
	struct job *j = ud;
	int status = si->si_code == CLD_EXITED ? W_EXITCODE(si->si_status, 0)
		   : (si->si_status & 0x7f);   /* killed / dumped: the signal */
	job_done(j, status);
	return 0;
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct job *j = ud;
	if (!output_drain(j))
		output_close(j);   /* end of file: the child's exit is still to come */
	return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *ud)
{
	struct job *j = ud;
	j->timed_out = true;
	kill(-j->pid, SIGKILL);
	kill(j->pid, SIGKILL);
	return 0;   /* the child source reports its end */
}

/* Starts a queued job on the loop: the child, its output and its time
 * limit become event sources. false when it could not be started (it is
 * then already logged and freed). */
static bool job_launch(struct job *j)
{
	struct ctl_error ignored;
	if (job_start(j, &ignored) < 0) {
		queue_remove(j);
		job_free(j);
		return false;
	}
	n_running++;
	int r = sd_event_add_child(loop, &j->child_source, j->pid, WEXITED, on_child, j);
	if (r >= 0)
		r = sd_event_add_io(loop, &j->io_source, j->out_fd, EPOLLIN, on_output, j);
	if (r >= 0)
		r = sd_event_add_time_relative(loop, &j->timer_source, CLOCK_MONOTONIC,
					       (uint64_t)timeout_msec * 1000, 0, on_timeout, j);
	if (r < 0) {
		/* cannot watch it: wait for it here rather than lose it */
		job_log(j, LS_WARNING, "%s: cannot watch the updown child (%s): waiting for it",
			j->verb, strerror(-r));
		job_wait(j, &ignored);
		n_running--;
		queue_remove(j);
		job_free(j);
		return false;
	}
	return true;
}

/* Is an earlier job of the same connection queued or running? */
static bool waits_for_earlier(const struct job *j)
{
	for (const struct job *o = queue; o != j; o = o->next)
		if (streq(o->conn, j->conn))
			return true;
	return false;
}

/* Starts what may start: at most ASYNC_MAX_RUNNING at once, each after
 * every earlier job of its connection. Only the first ASYNC_LOOKAHEAD
 * queued jobs are looked at, so a long queue costs no more per event. */
static void schedule(void)
{
	unsigned looked = 0;
	for (struct job *j = queue, *next; j && n_running < ASYNC_MAX_RUNNING &&
	     looked < ASYNC_LOOKAHEAD; j = next, looked++) {
		next = j->next;
		if (j->pid <= 0 && !waits_for_earlier(j))
			job_launch(j);
	}
}

void updown_set_event(sd_event *event)
{
	if (event == loop)
		return;
	if (!event)
		updown_finish();
	loop = event;
}

void updown_finish(void)
{
	/* in queue order, so that each connection's order holds */
	while (queue) {
		struct job *j = queue;
		struct ctl_error ignored;
		bool running = j->pid > 0;
		if (running || job_start(j, &ignored) == 0)
			job_wait(j, &ignored);
		if (running)
			n_running--;
		queue = j->next;
		if (!queue)
			queue_tail = &queue;
		job_free(j);
	}
}

size_t updown_pending(void)
{
	size_t n = 0;
	for (const struct job *j = queue; j; j = j->next)
		n++;
	return n;
}

/* ---- the entry point ---- */

/* The command line a connection's updown runs: NULL for the in-process
 * default, "" for %disabled. */
static const char *command_of(const struct connection *c)
{
	const char *cmd = END_THIS(c)->updown;
	if (cmd && streq(cmd, UPDOWN_DISABLED))
		return "";
	return cmd ? cmd : default_path;
}

int updown_run(enum updown_verb verb, const struct connection *c, const struct state *st,
	       struct ctl_error *err)
{
	if ((unsigned)verb >= ARRAY_SIZE(verb_names))
		return ctl_fail(err, PE_INTERNAL, "unknown updown verb %d", (int)verb);
	if (!c || c->this < 0)
		return ctl_fail(err, PE_CANNOT_ORIENT, "connection \"%s\" is not oriented: no updown",
				c ? c->name : "?");
	const char *cmd = command_of(c);
	if (cmd && !cmd[0])
		return 0;   /* %disabled */

	struct updown_facts f;
	updown_facts_of(c, st, &f);
	const char *vname = updown_verb_name(verb, f.my_has_client);
	if (!cmd)
		return updown_builtin(verb, vname, &f, c, st, err);

	struct job *j = xcalloc(1, sizeof(*j));
	j->conn = xstrdup(c->name);
	j->serial = st ? st->serial : 0;
	snprintf(j->verb, sizeof(j->verb), "%s", vname);
	j->v = verb;
	j->cmd = xstrdup(cmd);
	j->out_fd = -1;
	build_env(&j->env, vname, c, st, &f);
	DBG(DBG_KLIPS, c, "running updown %s: %s", vname, cmd);
	if (loop) {
		*queue_tail = j;
		queue_tail = &j->next;
		schedule();
		return 0;
	}
	int r = job_start(j, err);
	if (r == 0)
		r = job_wait(j, err);
	job_free(j);
	return r;
}
