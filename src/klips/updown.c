/* The updown command: build the PLUTO_* environment, run the command line
 * with /bin/sh -c, log its output line by line, judge its exit.
 *
 * It runs synchronously: routing and SA installation wait for it anyway,
 * and a bounded wait (the time limit) is simpler to reason about than a
 * child-process state machine in the event loop. */
#include "klips/updown.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "common/id.h"
#include "common/ip.h"
#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/log.h"
#include "daemon/state.h"

#ifndef PLUTO_DEFAULT_UPDOWN
#define PLUTO_DEFAULT_UPDOWN "/usr/libexec/pluto/pluto-updown"
#endif

/* The version of the script interface (FreeS/WAN's numbering: 1.1 added
 * the protocol/port and id variables). Not the daemon's version. */
#define UPDOWN_INTERFACE_VERSION "1.1"
#define UPDOWN_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
#define LINE_MAX_LOGGED 1024      /* longer lines are logged in pieces */
#define LINES_MAX_LOGGED 200      /* a chatty script cannot flood the log */

static char *default_path;
static unsigned timeout_msec = 30000;

void updown_set_default(const char *path)
{
	free(default_path);
	default_path = path ? xstrdup(path) : NULL;
}

const char *updown_default(void)
{
	return default_path ? default_path : PLUTO_DEFAULT_UPDOWN;
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

/* Name of the interface holding our address ("" when none does). */
static void interface_of(const ip_address *a, char *out, size_t len)
{
	struct ifaddrs *ifs, *i;
	out[0] = '\0';
	if (getifaddrs(&ifs) < 0)
		return;
	for (i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != a->family)
			continue;
		ip_address x;
		uint16_t port;
		ip_from_sockaddr(i->ifa_addr, &x, &port);
		if (ip_equal(&x, a)) {
			snprintf(out, len, "%s", i->ifa_name);
			break;
		}
	}
	freeifaddrs(ifs);
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
	return st && (st->xauth_user[0] || st->has_virtual_address || st->n_dns || st->domains[0] ||
		      st->banner[0]);
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
	if (ra->has_virtual_address && END_THIS(c)->modecfgclient)
		env_add(e, "PLUTO_MY_SOURCEIP", ip_str(&ra->virtual_address.addr, buf));
	if (ra->n_dns) {
		size_t used = 0;
		list[0] = '\0';
		for (size_t i = 0; i < ra->n_dns && i < ARRAY_SIZE(ra->dns); i++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? " " : "",
						 ip_str(&ra->dns[i], buf));
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

static void build_env(struct env *e, const char *verb, const struct connection *c,
		      const struct state *st)
{
	const struct end *me = END_THIS(c), *peer = END_THAT(c);
	char buf[IP_STR_MAX], idbuf[ID_STR_MAX], ifname[64], pol[128];
	ip_address peer_host = peer->host;

	if (!ip_is_set(&peer_host)) {
		if (st && ip_is_set(&st->peer))
			peer_host = st->peer;
		else
			unspecified(me->host.family, &peer_host);
	}

	env_add(e, "PLUTO_VERSION", UPDOWN_INTERFACE_VERSION);
	env_add(e, "PLUTO_VERB", verb);
	env_add(e, "PLUTO_CONNECTION", c->name);
	/* no nexthop, or %direct: the peer itself is the next hop */
	env_add(e, "PLUTO_NEXT_HOP", ip_str(ip_is_set(&me->nexthop) && !me->nexthop_direct
					     ? &me->nexthop : &peer_host, buf));
	interface_of(&me->host, ifname, sizeof(ifname));
	env_add(e, "PLUTO_INTERFACE", ifname);

	env_add(e, "PLUTO_ME", ip_str(&me->host, buf));
	env_add(e, "PLUTO_MY_ID", me->id.kind != ID_NONE ? id_str(&me->id, idbuf)
						       : ip_str(&me->host, buf));
	ip_subnet client;
	connection_this_client(c, &client);
	add_client(e, "PLUTO_MY", client);

	env_add(e, "PLUTO_PEER", ip_str(&peer_host, buf));
	if (st && st->peer_id[0])
		env_add(e, "PLUTO_PEER_ID", st->peer_id);
	else if (peer->id.kind != ID_NONE)
		env_add(e, "PLUTO_PEER_ID", id_str(&peer->id, idbuf));
	else
		env_add(e, "PLUTO_PEER_ID", ip_str(&peer_host, buf));
	if (!connection_that_client(c, &client))
		subnet_from_address(&peer_host, &client);   /* the instance's actual peer */
	add_client(e, "PLUTO_PEER", client);

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
	const struct state *ra = remote_access_state(c, st);
	if (ra)
		add_remote_access(e, c, ra);
	e->v[e->n++] = xstrdup(UPDOWN_PATH);
	e->v[e->n] = NULL;
}

/* ---- running it ---- */

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
	execve("/bin/sh", argv, envp);
	_exit(127);
}

struct output {
	const struct connection *c;
	const struct state *st;
	const char *verb;
	char line[LINE_MAX_LOGGED + 1];
	size_t len;
	unsigned lines;
};

static void output_flush(struct output *o)
{
	if (o->len == 0)
		return;
	o->line[o->len] = '\0';
	o->len = 0;
	if (++o->lines <= LINES_MAX_LOGGED)
		llog(LOGGER(o->c, o->st), LS_INFO, MSGID_GENERIC, "%s output: %s", o->verb, o->line);
	else if (o->lines == LINES_MAX_LOGGED + 1)
		llog(LOGGER(o->c, o->st), LS_WARNING, MSGID_GENERIC,
		     "%s output: more than %d lines, the rest is not logged", o->verb,
		     LINES_MAX_LOGGED);
}

static void output_add(struct output *o, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n') {
			if (o->len == 0) {        /* keep empty lines visible as such */
				o->line[0] = ' ';
				o->len = 1;
			}
			output_flush(o);
		} else {
			o->line[o->len++] = data[i] ? data[i] : ' ';
			if (o->len == LINE_MAX_LOGGED)
				output_flush(o);
		}
	}
}

/* Reads what is available now; false at end of file or on error. */
static bool output_drain(struct output *o, int fd)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			output_add(o, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

static long long now_msec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(struct ctl_error *err, enum updown_verb verb, const struct connection *c,
		const struct state *st, const char *fmt, const char *cmd, const char *vname,
		int n)
{
	char what[256];
	snprintf(what, sizeof(what), fmt, n);
	llog(LOGGER(c, st), LS_ERROR, MSGID_GENERIC, "%s: updown command \"%s\" failed: %s",
	     vname, cmd, what);
	return ctl_fail(err, verb == UPDOWN_UP || verb == UPDOWN_DOWN ? PE_INTERNAL
								      : PE_CANNOT_ROUTE,
			"%s: updown command \"%s\" failed: %s", vname, cmd, what);
}

int updown_run(enum updown_verb verb, const struct connection *c, const struct state *st,
	       struct ctl_error *err)
{
	if ((unsigned)verb >= ARRAY_SIZE(verb_names))
		return ctl_fail(err, PE_INTERNAL, "unknown updown verb %d", (int)verb);
	if (!c || c->this < 0)
		return ctl_fail(err, PE_CANNOT_ORIENT, "connection \"%s\" is not oriented: no updown",
				c ? c->name : "?");

	const struct end *me = END_THIS(c);
	const char *cmd = me->updown && me->updown[0] ? me->updown : updown_default();
	ip_subnet my_client;
	const char *vname = updown_verb_name(verb, connection_this_client(c, &my_client));
	struct env env = { .n = 0 };
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)cmd, NULL };
	int pipefd[2], null_fd;

	build_env(&env, vname, c, st);
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0) {
		env_free(&env);
		return fail(err, verb, c, st, "cannot open /dev/null (errno %d)", cmd, vname, errno);
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		int e = errno;
		close(null_fd);
		env_free(&env);
		return fail(err, verb, c, st, "cannot create a pipe (errno %d)", cmd, vname, e);
	}
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
	DBG(DBG_KLIPS, c, "running updown %s: %s", vname, cmd);

	pid_t pid = fork();
	if (pid == 0)
		child_exec(pipefd[1], null_fd, argv, env.v);
	int fork_errno = errno;
	close(pipefd[1]);
	close(null_fd);
	env_free(&env);
	if (pid < 0) {
		close(pipefd[0]);
		return fail(err, verb, c, st, "cannot fork (errno %d)", cmd, vname, fork_errno);
	}
	/* Avoid a race with the child's own setpgid: either wins, same result. */
	setpgid(pid, pid);

	struct output out = { .c = c, .st = st, .verb = vname };
	long long deadline = now_msec() + timeout_msec;
	bool open_pipe = true, timed_out = false;
	int status = 0;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR)) {
			/* The script is gone; take what it left in the pipe but
			 * do not wait for a background child still holding it. */
			if (open_pipe)
				output_drain(&out, pipefd[0]);
			if (r < 0)
				status = -1;
			break;
		}
		long long left = deadline - now_msec();
		if (left <= 0) {
			timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			if (open_pipe)
				output_drain(&out, pipefd[0]);
			break;
		}
		/* poll the pipe while it is open; once it is closed, check the
		 * child every few milliseconds */
		struct pollfd pfd = { .fd = open_pipe ? pipefd[0] : -1, .events = POLLIN };
		int wait_ms = open_pipe ? 50 : 10;
		if (wait_ms > left)
			wait_ms = (int)left;
		if (poll(&pfd, 1, wait_ms) > 0 && open_pipe)
			open_pipe = output_drain(&out, pipefd[0]);
	}
	output_flush(&out);
	close(pipefd[0]);

	if (timed_out)
		return fail(err, verb, c, st, "timed out after %d ms, killed", cmd, vname,
			    (int)timeout_msec);
	if (status == -1)
		return fail(err, verb, c, st, "lost the child process (errno %d)", cmd, vname, ECHILD);
	if (WIFSIGNALED(status))
		return fail(err, verb, c, st, "killed by signal %d", cmd, vname, WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail(err, verb, c, st, "exit status %d", cmd, vname,
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	DBG(DBG_KLIPS, c, "updown %s succeeded", vname);
	return 0;
}
