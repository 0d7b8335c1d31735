/* pluto: the process around the IKE engine. Options, lock file, daemon
 * fork, signals, the sd-event loop, sd_notify, and the control front ends. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "bus/bus.h"
#include "bus/varlink-claim.h"
#include "common/fd_limit.h"
#include "common/util.h"
#include "daemon/config_apply.h"
#include "daemon/helpers/helpers.h"
#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/demux.h"
#include "daemon/engine.h"
#include "daemon/events.h"
#include "daemon/heap.h"
#include "daemon/ikev1/half_open.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/ipsec_conf.h"
#include "daemon/keys.h"
#include "daemon/log.h"
#include "daemon/ikev1/nat_traversal.h"
#include "daemon/options.h"
#include "daemon/ikev1/peer_replace.h"
#include "daemon/secrets.h"
#include "daemon/state.h"
#include "klips/kernel.h"
#include "klips/rtnl_route.h"
#include "klips/rtnl_watch.h"
#include "klips/updown.h"
#include "klips/routing.h"

static sd_event *event;
static char *lock_path;

static void request_exit(void)
{
	sd_event_exit(event, 0);
}

/* O_EXCL: a leftover lock file must be removed by hand, as the man page says. */
static int create_lock(const char *rundir)
{
	lock_path = xasprintf("%s/pluto.pid", rundir);
	if (mkdir(rundir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "pluto: cannot create run directory %s: %s\n", rundir, strerror(errno));
		return -1;
	}
	int fd = open(lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "pluto: lock file \"%s\" already exists: another pluto is running, "
				"or remove the leftover file\n", lock_path);
		else
			fprintf(stderr, "pluto: cannot create lock file \"%s\": %s\n", lock_path, strerror(errno));
		free(lock_path);
		lock_path = NULL;
		return -1;
	}
	return fd;
}

static void write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, buf, (size_t)n) != n)
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "cannot write pid to %s: %s", lock_path, strerror(errno));
	close(fd);
}

static void remove_lock(void)
{
	if (lock_path) {
		unlink(lock_path);
		free(lock_path);
		lock_path = NULL;
	}
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_SHUTDOWN, "%s received: shutting down",
	     si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
	sd_event_exit(event, 0);
	return 0;
}

/* SIGHUP = Reload (systemctl reload): the control core logs what changed,
 * or why nothing did. */
static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	struct ctl_reload_result res;
	struct ctl_error err;
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_CONTROL, "SIGHUP received: reloading %s",
	     ctl_config_path() ? ctl_config_path() : "the configuration");
	sd_notify(0, "RELOADING=1");
	if (ctl_reload(&res, &err) < 0)
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_CONTROL, "SIGHUP: reload failed: %s", err.message);
	else
		ctl_reload_result_free(&res);
	sd_notify(0, "READY=1");
	return 0;
}

/* The configuration file (API.md 5): --config FILE must load; the default
 * file may be missing, and then pluto waits for Listen as it always did.
 * false when the daemon must not start. */
static bool start_from_config(const struct pluto_options *o)
{
	const char *path = o->config;
	struct ctl_error err;
	if (!o->config_given && access(path, F_OK) < 0 && errno == ENOENT) {
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_STARTUP,
		     "no configuration file %s: waiting for Listen (whack --listen) and connections", path);
		ctl_set_config_path(path);   /* a Reload reads it once it exists */
		return true;
	}
	const struct ctl_cmdline_setup cmdline = {
		.interfaces = o->n_interfaces > 0,
		.uniqueids = o->uniqueids,
		.debug = o->debug != 0,
		.set_uniqueids = peer_replace_set_uniqueids,
	};
	if (ctl_start_from_config(path, &cmdline, &err) < 0) {
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_STARTUP, "cannot start: %s", err.message);
		return false;
	}
	return true;
}

/* STATUS= for systemctl status: kept current as connections come and go. */
static void notify_status(void)
{
	sd_notifyf(0, "STATUS=%zu connection%s, %zu state%s, %s%s", connections_count(),
		   connections_count() == 1 ? "" : "s", states_count(), states_count() == 1 ? "" : "s",
		   ctl_listening() ? "listening" : "not listening (need whack --listen)", dbus_status());
}

/* Names for the debug trace of change events (enum pluto_event_kind order). */
static const char *const event_kind_names[] = {
	[EV_CONNECTION_ADDED] = "connection added",
	[EV_CONNECTION_REMOVED] = "connection removed",
	[EV_CONNECTION_CHANGED] = "connection changed",
	[EV_STATE_ADDED] = "state added",
	[EV_STATE_REMOVED] = "state removed",
	[EV_STATE_CHANGED] = "state changed",
	[EV_MANAGER_CHANGED] = "manager changed",
	[EV_PROGRESS] = "progress",
};

/* Events come before the change is complete (EV_CONNECTION_REMOVED is sent
 * before the connection is freed) and in bursts: rebuild STATUS= once, when
 * the loop is idle again. */
static sd_event_source *status_update;

static int on_status_update(sd_event_source *s, void *ud)
{
	notify_status();
	return 0;
}

static void schedule_status_update(void)
{
	if (!status_update) {
		if (sd_event_add_defer(event, &status_update, on_status_update, NULL) < 0)
			notify_status();   /* cannot defer: better early than never */
		return;
	}
	sd_event_source_set_enabled(status_update, SD_EVENT_ONESHOT);
}

static void on_event(const struct pluto_event *ev, void *ud)
{
	/* Every change a control command makes, as a "control" debug line:
	 * with the connection, so that per-connection debugging sees its own. */
	if (ev->kind != EV_PROGRESS && (unsigned)ev->kind < ARRAY_SIZE(event_kind_names)) {
		const struct connection *c = ev->c ? ev->c : ev->st ? ev->st->connection : NULL;
		if (debugging(DBG_CONTROL, c)) {
			char fields[256];
			view_mask_names(event_view_kind(ev), ev->changed, fields, sizeof(fields));
			dbg_full(c, ev->st, "event: %s%s%s", event_kind_names[ev->kind],
				 *fields ? ": " : "", fields);
		}
	}
	switch (ev->kind) {
	case EV_CONNECTION_ADDED:
	case EV_CONNECTION_REMOVED:
	case EV_STATE_ADDED:
	case EV_STATE_REMOVED:
	case EV_MANAGER_CHANGED:
		schedule_status_update();
		break;
	default:
		break;
	}
}

/* What the layers below the control core ask of it: an ACQUIRE and
 * dpdaction=restart start a connection exactly as a command does (the
 * same checks, the same log lines); a responder taking over a route ends
 * the SAs of the connection that held it. Registered here so that neither
 * src/klips nor the engine calls control.c. */
static int initiate_connection(struct connection *c, struct ctl_error *err)
{
	return ctl_initiate(c->name, NULL, err);
}

static const struct routing_hooks routing_hooks = {
	.initiate = initiate_connection,
	.terminate = engine_terminate,
};

static const struct engine_core_hooks engine_core_hooks = {
	.initiate = initiate_connection,
};

/* The Varlink socket systemd passed us, by name "varlink" (or the only
 * unnamed one). -1 when we were not socket-activated. */
static int passed_varlink_fd(void)
{
	char **names = NULL;
	int n = sd_listen_fds_with_names(1, &names);
	int fd = -1;
	if (n < 0)
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "cannot take the sockets systemd passed: %s", strerror(-n));
	for (int i = 0; i < n; i++) {
		if (fd < 0 && (streq(names[i], "varlink") || (n == 1 && streq(names[i], "unknown")))) {
			fd = SD_LISTEN_FDS_START + i;
			llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "using the Varlink socket passed by systemd (fd %d, name \"%s\")", fd, names[i]);
		} else {
			/* not ours: a socket unit with a name we do not serve */
			llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "ignoring passed socket fd %d named \"%s\" (expected \"varlink\")",
			     SD_LISTEN_FDS_START + i, names[i]);
			close(SD_LISTEN_FDS_START + i);
		}
	}
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	return fd;
}

/* systemd's default soft limit is 1024: raise it to the hard limit (the
 * unit sets LimitNOFILE), so the Varlink clients' budget and the reserve
 * for IKE and kernel sockets come out of a sane number. */
static void raise_fd_limit(void)
{
	struct fd_limit l = fd_limit_raise();
	if (l.error)
		llog(GLOBAL_LOGGER, LS_WARNING, MSGID_STARTUP,
		     "cannot raise the file descriptor limit from %lu to %lu: %s", l.before, l.hard, strerror(l.error));
	else if (l.now != l.before)
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_STARTUP, "file descriptor limit raised from %lu to %lu (the hard limit)",
		     l.before, l.now);
	else
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_STARTUP, "file descriptor limit %lu (the hard limit already)", l.now);
}

/* Parent of the daemon fork: wait for the child to say it is ready, so
 * that a failure to start shows up in the exit status. */
static int daemonize(int *ready_fd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	log_flush();   /* or both processes would write the buffered lines */
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		char ok;
		close(p[1]);
		ssize_t n = read(p[0], &ok, 1);
		_exit(n == 1 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	*ready_fd = p[1];
	return 0;
}

int main(int argc, char **argv)
{
	struct pluto_options o;
	struct ctl_error err;
	int r, ready_fd = -1, exit_code = 1;

	if (pluto_options_parse(argc, argv, &o) < 0) {
		fputs("pluto: try --help\n", stderr);
		return 1;
	}
	if (o.help) {
		pluto_usage(stdout);
		return 0;
	}
	if (o.version) {
		printf("pluto %s\n", PLUTO_VERSION);
		return 0;
	}
	/* validate only: no lock file, rundir, bus or root needed. A missing
	 * default file is fine (pluto then waits for Listen), so the unit's
	 * ExecStartPre passes on a host without one. */
	if (o.check_config) {
		if (!o.config_given && access(o.config, F_OK) < 0 && errno == ENOENT) {
			printf("%s: no configuration file: nothing to check (pluto will wait for Listen)\n", o.config);
			return 0;
		}
		return ipsec_conf_check(o.config, stdout, stderr);
	}

	/* journal when systemd runs us, syslog otherwise, stderr on request */
	enum log_target target = o.stderrlog ? LOG_TO_STDERR
			       : (getenv("JOURNAL_STREAM") || getenv("INVOCATION_ID")) ? LOG_TO_JOURNAL
			       : LOG_TO_SYSLOG;
	log_init(target, "pluto");
	debug_global = o.debug;

	int varlink_fd = passed_varlink_fd();
	int lock_fd = create_lock(o.rundir);
	if (lock_fd < 0)
		return 1;
	/* The control socket is claimed before anything else is done: a
	 * second pluto with another --rundir but the same socket stops here,
	 * before it binds IKE ports or touches the first one's socket. A
	 * socket systemd passed is systemd's: nothing to claim. */
	const char *socket_path = o.ctlbase ? o.ctlbase : getenv("PLUTO_SOCKET");
	_cleanup_free_ char *default_socket = NULL;
	if (!socket_path)
		socket_path = default_socket = xasprintf("%s/org.freeswan.pluto", o.rundir);
	if (varlink_fd < 0 && varlink_claim(socket_path, &err) < 0) {
		fprintf(stderr, "pluto: %s\n", err.message);
		close(lock_fd);
		remove_lock();
		return 1;
	}
	if (!o.nofork && daemonize(&ready_fd) < 0) {
		fprintf(stderr, "pluto: fork failed: %s\n", strerror(errno));
		varlink_unclaim();
		remove_lock();
		return 1;
	}
	write_pid(lock_fd);
	varlink_claim_note_pid();

	llog(GLOBAL_LOGGER, LS_INFO, MSGID_STARTUP, "Starting pluto %s (pid %d)", PLUTO_VERSION,
	     (int)getpid());
	raise_fd_limit();
	if (o.adns)
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "--adns %s ignored: this pluto does no DNS lookups", o.adns);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);   /* updown children are reaped by sd-event */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = sd_event_default(&event);
	if (r < 0) {
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "cannot create the event loop: %s", strerror(-r));
		goto out;
	}
	sd_event_add_signal(event, NULL, SIGTERM, on_sigterm, NULL);
	sd_event_add_signal(event, NULL, SIGINT, on_sigterm, NULL);
	sd_event_add_signal(event, NULL, SIGHUP, on_sighup, NULL);
	log_set_event(event);
	/* the interfaces as the kernel announces them: no getifaddrs per
	 * handshake (orientation of instances, the updown environment) */
	if ((r = rtnl_watch_start(event)) < 0)
		llog(GLOBAL_LOGGER, LS_WARNING, MSGID_INTERFACE,
		     "no rtnetlink announcements (%s): interfaces are asked for each time", strerror(-r));
	updown_set_event(event);
	ctl_set_shutdown_hook(request_exit);
	events_subscribe_kinds(on_event, NULL);

	demux_set_port((uint16_t)o.ikeport);
	demux_set_natt_port((uint16_t)o.natt_port);
	natt_set_keepalive(o.keep_alive);
	demux_set_interfaces(o.interfaces, o.n_interfaces);
	secrets_set_path(o.secretsfile);
	if (o.updown)
		updown_set_default(o.updown);
	if (kernel_select(o.kernel, &err) < 0) {
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "%s", err.message);
		goto out;
	}
	routing_init(&routing_hooks);
	engine_set_core_hooks(&engine_core_hooks);
	ikev1_init(event);
	half_open_configure(o.half_open_max, o.half_open_per_source);
	heap_init(event);
	/* after the fork: threads do not survive it */
	unsigned nhelpers = o.nhelpers < 0 ? helpers_default_count() : (unsigned)o.nhelpers;
	r = helpers_start(event, nhelpers);
	if (r < 0)
		llog(GLOBAL_LOGGER, LS_SERIOUS, MSGID_STARTUP,
		     "cannot start %u crypto helper threads (%s): crypto runs in the event loop", nhelpers,
		     strerror(-r));
	peer_replace_set_uniqueids(o.uniqueids);
	/* before the front ends: no command sees a half-loaded file */
	if (!start_from_config(&o))
		goto out;

	r = varlink_start(event, socket_path, varlink_fd, o.admin_gid, &err);
	if (r < 0) {
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "%s", err.message);
		goto out;
	}
	dbus_set_status_hook(schedule_status_update);
	if (!o.nodbus && dbus_start(event, o.admin_gid, o.dbus_max_message, &err) < 0) {
		/* only what no retry mends (out of memory): a missing or lost
		 * bus is retried by the front end itself (dbus-heal.c); either
		 * way Varlink and whack still work */
		llog(GLOBAL_LOGGER, LS_SERIOUS, MSGID_STARTUP, "D-Bus disabled: %s", err.message);
	}

	sd_notify(0, "READY=1");
	notify_status();   /* a second datagram: STATUS= is rebuilt in one place */
	if (ready_fd >= 0) {
		if (write(ready_fd, "", 1) != 1)
			llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, "cannot tell the parent we are ready: %s", strerror(errno));
		close(ready_fd);
		ready_fd = -1;
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			if (target != LOG_TO_STDERR) {
				dup2(devnull, STDOUT_FILENO);
				dup2(devnull, STDERR_FILENO);
			}
			close(devnull);
		}
	}

	r = sd_event_loop(event);
	exit_code = r < 0 ? 1 : 0;
	sd_notify(0, "STOPPING=1\nSTATUS=shutting down");
	/* the loop is over: what is queued runs now, what comes runs at once */
	updown_set_event(NULL);
	log_set_event(NULL);

	/* The man page: "When pluto shuts down, it closes all Security Associations." */
	ctl_delete_all();
	states_delete_all();
	kernel_shutdown();   /* whatever is still recorded as installed */
	demux_unlisten();
out:
	helpers_stop();   /* jobs of the states deleted above are dropped */
	status_update = sd_event_source_unref(status_update);
	dbus_stop();
	varlink_stop();
	events_unsubscribe(on_event, NULL);
	secrets_clear();
	pubkeys_clear();
	updown_set_event(NULL);
	rtnl_watch_stop();
	rtnl_route_close();
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_SHUTDOWN, "pluto exiting");
	log_set_event(NULL);
	varlink_unclaim();   /* after the socket is gone */
	remove_lock();
	sd_event_unref(event);
	return exit_code;
}
