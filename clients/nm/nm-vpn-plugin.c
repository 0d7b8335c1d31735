/* org.freedesktop.NetworkManager.VPN.Plugin and the state machine that
 * drives pluto (nm-vpn-plugin.h).
 *
 * Connecting is a chain of pluto calls, one table row each (steps[]):
 * delete a stale connection of the same name (a plugin that died), hand
 * over the PSK and the XAUTH password (SetSecret), AddConnection,
 * Initiate(true), read the ISAKMP State. Then Config, Ip4Config/Ip6Config,
 * LoginBanner and StateChanged(STARTED). A failed step ends in Failure
 * (LOGIN_FAILED when pluto says AuthenticationFailed, CONNECT_FAILED
 * otherwise) and the teardown: DeleteConnection and DeleteSecret for
 * everything that was sent, then StateChanged(STOPPED) and exit.
 *
 * What NetworkManager 1.42 makes of it (src/core/vpn/nm-vpn-connection.c):
 * Failure only records a reason, StateChanged(STOPPED) fails the VPN with
 * it (LOGIN_FAILED -> "login-failed"; CONNECT_FAILED has no reason of its
 * own there and shows as "unknown"); the plugin's bus name disappearing
 * while the VPN is up is SERVICE_STOPPED -- which is why a plugin whose
 * pluto left the bus just exits. */
#include "nm-vpn-plugin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/ip.h"
#include "nm-ipconfig-emit.h"
#include "nm-ipconfig.h"
#include "nm-pluto.h"
#include "nm-settings-read.h"
#include "nm-settings.h"

#define NM_VPN_PATH   "/org/freedesktop/NetworkManager/VPN/Plugin"
#define NM_VPN_IF     "org.freedesktop.NetworkManager.VPN.Plugin"
#define NM_VPN_ERROR  "org.freedesktop.NetworkManager.VPN.Error."
#define NM_BUS_NAME   "org.freedesktop.NetworkManager"

/* NMVpnServiceState */
enum svc_state {
	SVC_UNKNOWN = 0, SVC_INIT, SVC_SHUTDOWN, SVC_STARTING, SVC_STARTED, SVC_STOPPING, SVC_STOPPED,
};
/* NMVpnPluginFailure */
enum failure { FAIL_LOGIN = 0, FAIL_CONNECT = 1, FAIL_BAD_IP_CONFIG = 2 };

/* Nobody asked to connect (or to go on asking for secrets) for this long:
 * exit, as libnm's plugins do. */
#define IDLE_USEC (180ULL * 1000000ULL)
/* After STOPPED: time for NetworkManager's Disconnect to find us */
#define LINGER_USEC (1ULL * 1000000ULL)
/* A teardown whose replies do not come back is given up after this */
#define CLEANUP_USEC (5ULL * 1000000ULL)

struct nmp_plugin {
	sd_bus *bus;
	sd_event *event;
	char *bus_name;
	const char *tag;             /* for log lines: the bus name's last part */
	sd_bus_slot *vtable_slot, *progress_slot, *conn_watch, *pluto_watch, *nm_watch;
	sd_event_source *timer;
	enum svc_state state;

	struct nmp_request req;
	bool have_req;
	bool interactive, waiting_secrets;
	unsigned step;               /* index in steps[] */
	bool sent_add;               /* AddConnection sent: DeleteConnection on teardown */
	bool sent_secret[NMP_SECRET_COUNT];
	char *conn_path;
	char **state_paths;          /* Initiate's reply */
	size_t state_try;

	unsigned last_progress;      /* the code of pluto's last Progress line */
	bool sent_mi3, got_mi4;      /* how far Main Mode came */
	bool cleaning, quitting, pluto_gone;
	unsigned cleanup_pending;

	/* SetConfig / SetIp4Config / SetIp6Config by a helper */
	bool cfg_has4, cfg_has6, got4, got6;
};

/* --- log lines (stderr; NetworkManager keeps them in its log) --- */

static void logp(struct nmp_plugin *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logp(struct nmp_plugin *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "nm-pluto-service[%s]: ", p->tag);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* --- signals and the State property --- */

static int emit_u(struct nmp_plugin *p, const char *member, uint32_t u)
{
	return sd_bus_emit_signal(p->bus, NM_VPN_PATH, NM_VPN_IF, member, "u", u);
}

static void set_state(struct nmp_plugin *p, enum svc_state s)
{
	if (p->state == s)
		return;
	p->state = s;
	emit_u(p, "StateChanged", s);
	sd_bus_emit_properties_changed(p->bus, NM_VPN_PATH, NM_VPN_IF, "State", NULL);
}

static int property_state(sd_bus *bus, const char *path, const char *interface, const char *property,
			  sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct nmp_plugin *p = userdata;
	return sd_bus_message_append(reply, "u", (uint32_t)p->state);
}

typedef int (*dict_fn)(sd_bus_message *m, const struct nmp_ipconfig *c);

static int emit_dict(struct nmp_plugin *p, const char *member, dict_fn fn, const struct nmp_ipconfig *c)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = sd_bus_message_new_signal(p->bus, &m, NM_VPN_PATH, NM_VPN_IF, member);
	if (r >= 0)
		r = fn(m, c);
	if (r >= 0)
		r = sd_bus_send(p->bus, m, NULL);
	return r;
}

/* --- timers --- */

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void arm_timer(struct nmp_plugin *p, uint64_t usec)
{
	if (!p->timer) {
		if (sd_event_add_time_relative(p->event, &p->timer, CLOCK_MONOTONIC, usec, 0, on_timer, p) < 0)
			return;
	} else {
		sd_event_source_set_time_relative(p->timer, usec);
	}
	sd_event_source_set_enabled(p->timer, SD_EVENT_ONESHOT);
}

static void disarm_timer(struct nmp_plugin *p)
{
	if (p->timer)
		sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
}

static void leave(struct nmp_plugin *p)
{
	sd_event_exit(p->event, 0);
}

/* --- teardown: everything sent to pluto is taken back --- */

static void teardown_done(struct nmp_plugin *p)
{
	p->cleaning = false;
	set_state(p, SVC_STOPPED);
	if (p->quitting)
		leave(p);
	else
		arm_timer(p, LINGER_USEC);
}

static int on_cleanup_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct nmp_plugin *p = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	/* UnknownName: never added (the call failed) or already gone */
	if (e && strcmp(nmp_pluto_error_short(e), "UnknownName") != 0)
		logp(p, "cleanup in pluto: %s", e->message ? e->message : e->name);
	if (p->cleanup_pending > 0 && --p->cleanup_pending == 0 && p->cleaning)
		teardown_done(p);
	return 0;
}

static int on_cleanup_objects(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct nmp_plugin *p = userdata;
	const struct nmp_secret *xa = &p->req.secret[NMP_SECRET_XAUTH];
	char *other = NULL;
	if (!sd_bus_message_is_method_error(m, NULL))
		other = nmp_pluto_xauth_user_elsewhere(m, p->req.name, xa->ids[0]);
	if (other)
		logp(p, "the XAUTH password of \"%s\" stays in pluto: %s logs in as that user too", xa->ids[0], other);
	else if (nmp_pluto_delete_secret(p->bus, xa, on_cleanup_reply, p) >= 0)
		p->cleanup_pending++;
	free(other);
	return on_cleanup_reply(m, userdata, ret_error);
}

static void teardown(struct nmp_plugin *p)
{
	if (p->cleaning)
		return;
	p->cleaning = true;
	p->waiting_secrets = false;
	p->progress_slot = sd_bus_slot_unref(p->progress_slot);
	p->conn_watch = sd_bus_slot_unref(p->conn_watch);
	if (p->state == SVC_STARTING || p->state == SVC_STARTED)
		set_state(p, SVC_STOPPING);
	if (p->have_req && !p->pluto_gone) {
		/* pluto handles one sender's calls in order: a DeleteConnection
		 * sent after an AddConnection still in flight removes it */
		if (p->sent_add && nmp_pluto_delete_connection(p->bus, p->req.name, on_cleanup_reply, p) >= 0)
			p->cleanup_pending++;
		if (p->sent_secret[NMP_SECRET_PSK] &&
		    nmp_pluto_delete_secret(p->bus, &p->req.secret[NMP_SECRET_PSK], on_cleanup_reply, p) >= 0)
			p->cleanup_pending++;
		/* the XAUTH password is one per user name in pluto: it stays while
		 * another VPN of ours logs in as the same user (asked first) */
		if (p->sent_secret[NMP_SECRET_XAUTH] &&
		    nmp_pluto_get_managed_objects(p->bus, on_cleanup_objects, p) >= 0)
			p->cleanup_pending++;
	}
	p->sent_add = false;
	memset(p->sent_secret, 0, sizeof(p->sent_secret));
	if (p->cleanup_pending == 0)
		teardown_done(p);
	else
		arm_timer(p, CLEANUP_USEC);
}

static void fail(struct nmp_plugin *p, enum failure reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct nmp_plugin *p, enum failure reason, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	static const char *const names[] = { "login failed", "connect failed", "bad IP configuration" };
	logp(p, "%s: %s", names[reason], msg);
	emit_u(p, "Failure", reason);
	teardown(p);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct nmp_plugin *p = userdata;
	if (p->cleaning) {
		logp(p, "pluto did not answer the cleanup in time");
		p->cleanup_pending = 0;
		teardown_done(p);
	} else if (p->state == SVC_STOPPED) {
		leave(p);
	} else if (p->waiting_secrets) {
		fail(p, FAIL_CONNECT, "no secrets came (NewSecrets) in time");
	} else if (p->state == SVC_INIT) {
		logp(p, "nobody asked to connect: exiting");
		leave(p);
	}
	return 0;
}

/* --- connecting: the steps --- */

static int on_step_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);

static int st_delete_stale(struct nmp_plugin *p)
{
	int r = nmp_pluto_delete_connection(p->bus, p->req.name, on_step_reply, p);
	return r < 0 ? r : 1;
}

/* Listen: pluto learns the interfaces NetworkManager brought up since it
 * started (it lists them only when told to listen), as FreeS/WAN's
 * `ipsec setup` re-ran whack --listen when the network changed */
static int st_listen(struct nmp_plugin *p)
{
	int r = nmp_pluto_listen(p->bus, on_step_reply, p);
	return r < 0 ? r : 1;
}

static int set_secret(struct nmp_plugin *p, enum nmp_secret_id id)
{
	const struct nmp_secret *s = &p->req.secret[id];
	if (!s->wanted || !s->value)
		return 0;   /* not used, or left to ipsec.secrets (flags 4) */
	int r = nmp_pluto_set_secret(p->bus, s, on_step_reply, p);
	if (r < 0)
		return r;
	p->sent_secret[id] = true;
	return 1;
}

static int st_set_psk(struct nmp_plugin *p)
{
	return set_secret(p, NMP_SECRET_PSK);
}

static int st_set_xauth(struct nmp_plugin *p)
{
	return set_secret(p, NMP_SECRET_XAUTH);
}

static int st_add(struct nmp_plugin *p)
{
	int r = nmp_pluto_add_connection(p->bus, &p->req, on_step_reply, p);
	if (r < 0)
		return r;
	p->sent_add = true;
	return 1;
}

static int on_progress(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct nmp_plugin *p = userdata;
	uint32_t code;
	const char *text;
	if (sd_bus_message_read(m, "us", &code, &text) >= 0) {
		logp(p, "pluto: %03u %s", code, text);
		p->last_progress = code;
		p->sent_mi3 |= code == PLUTO_RC_MAIN_I3;
		p->got_mi4 |= code == PLUTO_RC_MAIN_I4;
	}
	return 0;
}

static int done_add(struct nmp_plugin *p, sd_bus_message *reply)
{
	const char *path;
	if (sd_bus_message_read(reply, "o", &path) < 0) {
		fail(p, FAIL_CONNECT, "AddConnection: unexpected reply");
		return -1;
	}
	free(p->conn_path);
	p->conn_path = strdup(path);
	if (!p->conn_path) {
		fail(p, FAIL_CONNECT, "out of memory");
		return -1;
	}
	/* pluto's progress lines while it negotiates */
	nmp_pluto_watch_progress(p->bus, &p->progress_slot, p->conn_path, on_progress, p);
	return 0;
}

static int st_initiate(struct nmp_plugin *p)
{
	logp(p, "initiating %s to %s", p->req.name, p->req.right);
	int r = nmp_pluto_initiate(p->bus, p->conn_path, on_step_reply, p);
	return r < 0 ? r : 1;
}

static int done_initiate(struct nmp_plugin *p, sd_bus_message *reply)
{
	strv_free(p->state_paths);
	p->state_paths = NULL;
	p->state_try = 0;
	int r = sd_bus_message_read_strv(reply, &p->state_paths);
	if (r < 0 || !p->state_paths || !p->state_paths[0]) {
		fail(p, FAIL_CONNECT, "Initiate: no states in the reply");
		return -1;
	}
	return 0;
}

static int st_get_state(struct nmp_plugin *p)
{
	int r = nmp_pluto_get_state(p->bus, p->state_paths[p->state_try], on_step_reply, p);
	return r < 0 ? r : 1;
}

static void connected(struct nmp_plugin *p, const struct nmp_state_facts *sf);

/* the ISAKMP State among Initiate's states (the newest ISAKMP SA first) */
static int done_get_state(struct nmp_plugin *p, sd_bus_message *reply)
{
	struct nmp_state_facts sf;
	if (nmp_state_facts_read(reply, &sf) < 0) {
		fail(p, FAIL_CONNECT, "cannot read pluto's state %s", p->state_paths[p->state_try]);
		return -1;
	}
	if (!sf.kind || strcmp(sf.kind, "isakmp") != 0) {
		nmp_state_facts_free(&sf);
		if (p->state_paths[++p->state_try]) {
			int r = st_get_state(p);
			if (r < 0) {
				fail(p, FAIL_CONNECT, "cannot call pluto: %s", strerror(-r));
				return -1;
			}
			return 1;   /* wait for that one */
		}
		fail(p, FAIL_CONNECT, "Initiate gave no ISAKMP state");
		return -1;
	}
	connected(p, &sf);
	nmp_state_facts_free(&sf);
	return 1;   /* connected() took over */
}

enum { UNDO_NONE = -1, UNDO_ADD = NMP_SECRET_COUNT };

typedef int (*step_start_fn)(struct nmp_plugin *p);   /* 1 sent, 0 skipped, <0 errno */
typedef int (*step_done_fn)(struct nmp_plugin *p, sd_bus_message *reply);   /* 0 next, 1 wait, -1 failed */

static const struct step {
	const char *what;
	step_start_fn start;
	step_done_fn done;
	bool ignore_error;
	int undo;          /* what a failed call did not leave in pluto: UNDO_* */
} steps[] = {
	{ "deleting a stale connection", st_delete_stale, NULL, true, UNDO_NONE },
	{ "Listen", st_listen, NULL, true, UNDO_NONE },
	{ "SetSecret (PSK)", st_set_psk, NULL, false, NMP_SECRET_PSK },
	{ "SetSecret (XAUTH password)", st_set_xauth, NULL, false, NMP_SECRET_XAUTH },
	{ "AddConnection", st_add, done_add, false, UNDO_ADD },
	{ "Initiate", st_initiate, done_initiate, false, UNDO_NONE },
	{ "reading the ISAKMP state", st_get_state, done_get_state, false, UNDO_NONE },
};
#define N_STEPS (sizeof(steps) / sizeof(steps[0]))

static void run_steps(struct nmp_plugin *p)
{
	while (p->step < N_STEPS) {
		int r = steps[p->step].start(p);
		if (r > 0)
			return;
		if (r < 0) {
			fail(p, FAIL_CONNECT, "%s: cannot call pluto: %s", steps[p->step].what, strerror(-r));
			return;
		}
		p->step++;
	}
}

/* pluto's error -> NM's failure reason and a readable message */
static void step_failed(struct nmp_plugin *p, const struct step *s, const sd_bus_error *e)
{
	const char *name = nmp_pluto_error_short(e);
	const char *msg = e->message ? e->message : "";
	/* 224: the gateway's AUTHENTICATION_FAILED notification (a wrong PSK),
	 * which older plutos report as NegotiationFailed */
	if (strcmp(name, "AuthenticationFailed") == 0 || p->last_progress == PLUTO_RC_AUTHENTICATION_FAILED)
		fail(p, FAIL_LOGIN, "%s: %s", s->what, msg);
	/* The gateway answered Main Mode until its authenticated exchange and
	 * then nothing pluto could read (strongSwan answers a wrong PSK so):
	 * the PSK differs, a login failure rather than an unreachable gateway */
	else if (strcmp(name, "NegotiationFailed") == 0 && p->sent_mi3 && !p->got_mi4 &&
		 p->req.secret[NMP_SECRET_PSK].wanted)
		fail(p, FAIL_LOGIN, "%s: %s (the gateway stopped answering at Main Mode's authentication: "
		     "most likely the preshared key differs)", s->what, msg);
	else if (strcmp(e->name, "org.freedesktop.DBus.Error.ServiceUnknown") == 0 ||
		 strcmp(e->name, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0 ||
		 strncmp(e->name, "org.freedesktop.DBus.Error.Spawn.", 33) == 0)
		fail(p, FAIL_CONNECT, "%s: pluto is not running and the bus could not start it (%s): %s",
		     s->what, PLUTO_BUS_NAME, msg);
	else
		fail(p, FAIL_CONNECT, "%s: %s%s%s", s->what, name, *msg ? ": " : "", msg);
}

static int on_step_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct nmp_plugin *p = userdata;
	if (p->state != SVC_STARTING || p->cleaning || p->step >= N_STEPS)
		return 0;   /* torn down meanwhile: nothing more to do */
	const struct step *s = &steps[p->step];
	const sd_bus_error *e = sd_bus_message_get_error(m);
	if (e && !s->ignore_error) {
		/* refused: nothing of it to take back (nor to wake pluto for) */
		if (s->undo == UNDO_ADD)
			p->sent_add = false;
		else if (s->undo != UNDO_NONE)
			p->sent_secret[s->undo] = false;
		step_failed(p, s, e);
		return 0;
	}
	if (e && strcmp(nmp_pluto_error_short(e), "UnknownName") != 0)
		logp(p, "%s: %s (going on)", s->what, e->message ? e->message : e->name);
	if (!e && s->done) {
		int r = s->done(p, m);
		if (r != 0)
			return 0;
	}
	p->step++;
	run_steps(p);
	return 0;
}

/* our own address toward the gateway: what the kernel would send from */
static bool local_address_to(const char *gateway, char *out, size_t len)
{
	ip_address gw, self;
	struct sockaddr_storage ss;
	if (!ip_parse(gateway, &gw))
		return false;
	socklen_t sl = ip_to_sockaddr(&gw, 500, &ss);
	int fd = socket(gw.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool ok = connect(fd, (struct sockaddr *)&ss, sl) == 0;
	sl = sizeof(ss);
	ok = ok && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0;
	close(fd);
	if (!ok)
		return false;
	ip_from_sockaddr((struct sockaddr *)&ss, &self, NULL);
	char buf[IP_STR_MAX];
	snprintf(out, len, "%s", ip_str(&self, buf));
	return true;
}

static void log_config(struct nmp_plugin *p, const struct nmp_ipconfig *c)
{
	const struct nmp_ipx *xs[2] = { &c->ip4, &c->ip6 };
	for (size_t i = 0; i < 2; i++) {
		const struct nmp_ipx *x = xs[i];
		if (!x->present)
			continue;
		char a[IP_STR_MAX], line[1024];
		int n = snprintf(line, sizeof(line), "address %s/%u", ip_str(&x->address, a), x->prefix);
		for (size_t k = 0; k < x->n_dns && n < (int)sizeof(line); k++)
			n += snprintf(line + n, sizeof(line) - n, "%s%s", k ? "," : ", dns ", ip_str(&x->dns[k], a));
		for (size_t k = 0; k < x->n_routes && n < (int)sizeof(line); k++)
			n += snprintf(line + n, sizeof(line) - n, "%s%s", k ? "," : ", routes ",
				      subnet_str(&x->routes[k], a));
		logp(p, "up: %s%s", line, x->never_default ? "" : ", default route");
	}
}

/* --- once up: the tunnel's IPsec SA going away (the gateway deleted it,
 * DPD cleared it) takes the VPN down --- */

static int on_newest_ipsec(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct nmp_plugin *p = userdata;
	const char *path;
	if (p->state != SVC_STARTED || p->cleaning || sd_bus_message_is_method_error(m, NULL) ||
	    sd_bus_message_read(m, "v", "o", &path) < 0)
		return 0;
	if (strcmp(path, "/") == 0)
		fail(p, FAIL_CONNECT, "the tunnel's IPsec SA is gone (deleted by the gateway, or its peer is dead)");
	return 0;
}

static int on_connection_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct nmp_plugin *p = userdata;
	/* whether the value came along or was only invalidated: ask */
	if (p->state == SVC_STARTED && !p->cleaning)
		nmp_pluto_get_connection_property(p->bus, p->conn_path, "NewestIpsecState", on_newest_ipsec, p);
	return 0;
}

static void connected(struct nmp_plugin *p, const struct nmp_state_facts *sf)
{
	char local[IP_STR_MAX] = "";
	const char *gateway = sf->peer_address && *sf->peer_address ? sf->peer_address : p->req.right;
	if (!sf->virtual_address || !*sf->virtual_address)
		local_address_to(gateway, local, sizeof(local));
	struct nmp_facts f = {
		.gateway = gateway,
		.local = local,
		.virtual_address = sf->virtual_address,
		.dns = (const char *const *)sf->dns,
		.n_dns = nmp_strv_len(sf->dns),
		.domains = (const char *const *)sf->domains,
		.n_domains = nmp_strv_len(sf->domains),
		.banner = sf->banner,
		.split_include = (const char *const *)sf->split_include,
		.n_split = nmp_strv_len(sf->split_include),
		.rightsubnet = p->req.rightsubnet,
	};
	struct nmp_ipconfig c;
	char err[256];
	if (nmp_ipconfig_build(&f, &c, err, sizeof(err)) < 0) {
		fail(p, FAIL_BAD_IP_CONFIG, "%s", err);
		return;
	}
	log_config(p, &c);
	emit_dict(p, "Config", nmp_emit_config, &c);
	if (c.ip4.present)
		emit_dict(p, "Ip4Config", nmp_emit_ip4, &c);
	if (c.ip6.present)
		emit_dict(p, "Ip6Config", nmp_emit_ip6, &c);
	if (c.banner)
		sd_bus_emit_signal(p->bus, NM_VPN_PATH, NM_VPN_IF, "LoginBanner", "s", c.banner);
	p->step = N_STEPS;
	set_state(p, SVC_STARTED);
	nmp_pluto_watch_connection(p->bus, &p->conn_watch, p->conn_path, on_connection_changed, p);
}

/* --- methods --- */

static int reply_error(sd_bus_message *m, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int reply_error(sd_bus_message *m, const char *name, const char *fmt, ...)
{
	char full[128], msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), NM_VPN_ERROR "%s", name);
	return sd_bus_reply_method_errorf(m, full, "%s", msg);
}

/* m's a{sa{sv}} -> p->req; on error replies to m and returns -1 */
static int read_request(struct nmp_plugin *p, sd_bus_message *m, struct nmp_request *req)
{
	struct nmp_settings_read sr;
	char err[512];
	int r = nmp_settings_read(m, &sr);
	if (r < 0)
		return reply_error(m, "InvalidConnection", "cannot read the connection: %s", strerror(-r)), -1;
	r = nmp_settings_translate(&sr.in, req, err, sizeof(err));
	nmp_settings_read_free(&sr);
	if (r < 0) {
		logp(p, "%s", err);
		reply_error(m, "InvalidConnection", "%s", err);
		return -1;
	}
	return 0;
}

static int method_need_secrets(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct nmp_plugin *p = userdata;
	struct nmp_settings_read sr;
	int r = nmp_settings_read(m, &sr);
	if (r < 0)
		return reply_error(m, "InvalidConnection", "cannot read the connection: %s", strerror(-r));
	/* A connection pluto would refuse needs no secrets: Connect says
	 * what is wrong with it (NetworkManager would report a NeedSecrets
	 * error as missing secrets) */
	struct nmp_request req;
	char err[512];
	const char *setting = "";
	if (nmp_settings_translate(&sr.in, &req, err, sizeof(err)) == 0) {
		setting = nmp_settings_need_secrets(&req);
		nmp_request_free(&req);
	}
	nmp_settings_read_free(&sr);
	if (p->state == SVC_INIT)
		arm_timer(p, IDLE_USEC);   /* an agent may take a while */
	return sd_bus_reply_method_return(m, "s", setting);
}

static void start_connecting(struct nmp_plugin *p)
{
	p->waiting_secrets = false;
	disarm_timer(p);
	p->step = 0;
	run_steps(p);
}

static void describe_missing(const struct nmp_request *req, char *out, size_t len)
{
	const char *hints[NMP_SECRET_COUNT + 1];
	size_t n = nmp_settings_missing_hints(req, hints), off = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += snprintf(out + off, len - off, "%s%s", i ? ", " : "", hints[i]);
}

static int begin_connect(sd_bus_message *m, struct nmp_plugin *p, bool interactive)
{
	if (p->state != SVC_INIT)
		return reply_error(m, "WrongState", "cannot connect: this plugin instance is in state %u",
				   (unsigned)p->state);
	if (p->have_req)
		nmp_request_free(&p->req);
	p->have_req = false;
	if (read_request(p, m, &p->req) < 0) {
		set_state(p, SVC_STOPPED);
		arm_timer(p, LINGER_USEC);
		return 1;
	}
	p->have_req = true;
	p->interactive = interactive;
	char missing[128];
	describe_missing(&p->req, missing, sizeof(missing));
	if (*missing && !interactive) {
		logp(p, "missing secrets: %s", missing);
		reply_error(m, "BadArguments",
			    "missing secrets: %s (agent-owned or not-saved ones need an agent that takes VPN hints)",
			    missing);
		set_state(p, SVC_STOPPED);
		arm_timer(p, LINGER_USEC);
		return 1;
	}
	int r = sd_bus_reply_method_return(m, "");
	set_state(p, SVC_STARTING);
	if (*missing) {
		const char *hints[NMP_SECRET_COUNT + 1];
		nmp_settings_missing_hints(&p->req, hints);
		char msg[256];
		snprintf(msg, sizeof(msg), "pluto needs %s for the gateway %s", missing, p->req.right);
		logp(p, "asking for %s (SecretsRequired)", missing);
		p->waiting_secrets = true;
		sd_bus_emit_signal(p->bus, NM_VPN_PATH, NM_VPN_IF, "SecretsRequired", "sas", msg,
				   (unsigned)nmp_settings_missing_hints(&p->req, hints), hints[0], hints[1]);
		arm_timer(p, IDLE_USEC);
		return r;
	}
	start_connecting(p);
	return r;
}

static int method_connect(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return begin_connect(m, userdata, false);
}

static int method_connect_interactive(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	/* the details a{sv} follow the connection; nothing in them is used */
	return begin_connect(m, userdata, true);
}

static int method_new_secrets(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct nmp_plugin *p = userdata;
	if (!p->waiting_secrets || p->state != SVC_STARTING)
		return reply_error(m, "WrongState", "no secrets were asked for");
	struct nmp_settings_read sr;
	int r = nmp_settings_read(m, &sr);
	if (r < 0)
		return reply_error(m, "BadArguments", "cannot read the connection: %s", strerror(-r));
	nmp_settings_merge_secrets(&p->req, sr.in.secrets, sr.in.n_secrets);
	nmp_settings_read_free(&sr);
	char missing[128];
	describe_missing(&p->req, missing, sizeof(missing));
	if (*missing) {
		reply_error(m, "BadArguments", "still missing: %s", missing);
		fail(p, FAIL_CONNECT, "the secrets that came lack %s", missing);
		return 1;
	}
	r = sd_bus_reply_method_return(m, "");
	start_connecting(p);
	return r;
}

static int method_disconnect(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct nmp_plugin *p = userdata;
	switch (p->state) {
	case SVC_STOPPING:
		return reply_error(m, "StoppingInProgress", "already disconnecting");
	case SVC_STOPPED:
		sd_bus_reply_method_error(m, &SD_BUS_ERROR_MAKE_CONST(NM_VPN_ERROR "AlreadyStopped",
								       "not connected"));
		arm_timer(p, 0);
		return 1;
	case SVC_STARTING:
		/* what libnm's plugins do too: an unfinished connect failed */
		emit_u(p, "Failure", FAIL_CONNECT);
		/* fall through */
	default:
		logp(p, "disconnecting");
		teardown(p);
		return sd_bus_reply_method_return(m, "");
	}
}

/* --- SetConfig / SetIp4Config / SetIp6Config / SetFailure (helpers) --- */

static void helper_check_complete(struct nmp_plugin *p)
{
	if (p->state == SVC_STARTING && p->cfg_has4 == p->got4 && p->cfg_has6 == p->got6)
		set_state(p, SVC_STARTED);
}

/* re-emit the a{sv} of m as the signal member */
static int reemit(struct nmp_plugin *p, sd_bus_message *m, const char *member)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;
	int r = sd_bus_message_new_signal(p->bus, &s, NM_VPN_PATH, NM_VPN_IF, member);
	if (r >= 0)
		r = sd_bus_message_copy(s, m, true);
	if (r >= 0)
		r = sd_bus_send(p->bus, s, NULL);
	return r;
}

/* a bool of a{sv} at m's start */
static bool dict_bool(sd_bus_message *m, const char *key)
{
	int found = 0;
	if (sd_bus_message_rewind(m, true) < 0 || sd_bus_message_enter_container(m, 'a', "{sv}") <= 0)
		return false;
	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		const char *k;
		if (sd_bus_message_read(m, "s", &k) < 0)
			break;
		if (strcmp(k, key) == 0 && sd_bus_message_read(m, "v", "b", &found) >= 0) {
			sd_bus_message_exit_container(m);
			break;
		}
		if (sd_bus_message_skip(m, "v") < 0 || sd_bus_message_exit_container(m) < 0)
			break;
	}
	sd_bus_message_rewind(m, true);
	return found;
}

static int method_set_config(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct nmp_plugin *p = userdata;
	p->cfg_has4 = dict_bool(m, "has-ip4");
	p->cfg_has6 = dict_bool(m, "has-ip6");
	int r = reemit(p, m, "Config");
	if (r < 0)
		return r;
	helper_check_complete(p);
	return sd_bus_reply_method_return(m, "");
}

static int method_set_ip4_config(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct nmp_plugin *p = userdata;
	int r = reemit(p, m, "Ip4Config");
	if (r < 0)
		return r;
	p->got4 = true;
	helper_check_complete(p);
	return sd_bus_reply_method_return(m, "");
}

static int method_set_ip6_config(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct nmp_plugin *p = userdata;
	int r = reemit(p, m, "Ip6Config");
	if (r < 0)
		return r;
	p->got6 = true;
	helper_check_complete(p);
	return sd_bus_reply_method_return(m, "");
}

static int method_set_failure(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct nmp_plugin *p = userdata;
	const char *reason;
	int r = sd_bus_message_read(m, "s", &reason);
	if (r < 0)
		return r;
	r = sd_bus_reply_method_return(m, "");
	if (p->state == SVC_STARTING || p->state == SVC_STARTED)
		fail(p, FAIL_BAD_IP_CONFIG, "SetFailure: %s", reason);
	return r;
}

static const sd_bus_vtable plugin_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("State", "u", property_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD_WITH_NAMES("NeedSecrets", "a{sa{sv}}", SD_BUS_PARAM(settings), "s",
				 SD_BUS_PARAM(setting_name), method_need_secrets, SD_BUS_VTABLE_SENSITIVE),
	SD_BUS_METHOD_WITH_NAMES("Connect", "a{sa{sv}}", SD_BUS_PARAM(connection), "", ,
				 method_connect, SD_BUS_VTABLE_SENSITIVE),
	SD_BUS_METHOD_WITH_NAMES("ConnectInteractive", "a{sa{sv}}a{sv}",
				 SD_BUS_PARAM(connection) SD_BUS_PARAM(details), "", ,
				 method_connect_interactive, SD_BUS_VTABLE_SENSITIVE),
	SD_BUS_METHOD_WITH_NAMES("NewSecrets", "a{sa{sv}}", SD_BUS_PARAM(connection), "", ,
				 method_new_secrets, SD_BUS_VTABLE_SENSITIVE),
	SD_BUS_METHOD("Disconnect", "", "", method_disconnect, 0),
	SD_BUS_METHOD_WITH_NAMES("SetConfig", "a{sv}", SD_BUS_PARAM(config), "", , method_set_config, 0),
	SD_BUS_METHOD_WITH_NAMES("SetIp4Config", "a{sv}", SD_BUS_PARAM(config), "", , method_set_ip4_config, 0),
	SD_BUS_METHOD_WITH_NAMES("SetIp6Config", "a{sv}", SD_BUS_PARAM(config), "", , method_set_ip6_config, 0),
	SD_BUS_METHOD_WITH_NAMES("SetFailure", "s", SD_BUS_PARAM(reason), "", , method_set_failure, 0),
	SD_BUS_SIGNAL_WITH_NAMES("StateChanged", "u", SD_BUS_PARAM(state), 0),
	SD_BUS_SIGNAL_WITH_NAMES("SecretsRequired", "sas", SD_BUS_PARAM(message) SD_BUS_PARAM(secrets), 0),
	SD_BUS_SIGNAL_WITH_NAMES("Config", "a{sv}", SD_BUS_PARAM(config), 0),
	SD_BUS_SIGNAL_WITH_NAMES("Ip4Config", "a{sv}", SD_BUS_PARAM(ip4config), 0),
	SD_BUS_SIGNAL_WITH_NAMES("Ip6Config", "a{sv}", SD_BUS_PARAM(ip6config), 0),
	SD_BUS_SIGNAL_WITH_NAMES("LoginBanner", "s", SD_BUS_PARAM(banner), 0),
	SD_BUS_SIGNAL_WITH_NAMES("Failure", "u", SD_BUS_PARAM(reason), 0),
	SD_BUS_VTABLE_END
};

/* --- who else is on the bus --- */

/* NetworkManager's name going away (it quit or crashed): nobody will say
 * Disconnect. Only the well-known name is watched, not the caller: a test
 * or a helper may call the plugin directly with busctl or gdbus. */
static int on_nm_owner(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	const char *name, *old_owner, *new_owner;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) >= 0 && !*new_owner)
		nmp_plugin_quit(userdata, "NetworkManager left the bus");
	return 0;
}

static int on_pluto_owner(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct nmp_plugin *p = userdata;
	const char *name, *old_owner, *new_owner;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || *new_owner || !*old_owner)
		return 0;
	/* pluto's connections and secrets went with it: nothing to take back */
	p->pluto_gone = true;
	if (p->state == SVC_STARTED) {
		logp(p, "pluto left the bus: the VPN is gone");
		p->quitting = true;
		leave(p);   /* NetworkManager sees our name go: SERVICE_STOPPED */
	} else if (p->state == SVC_STARTING && !p->cleaning) {
		fail(p, FAIL_CONNECT, "pluto left the bus while connecting");
	}
	return 0;
}

void nmp_plugin_quit(struct nmp_plugin *p, const char *why)
{
	if (p->quitting)
		return;
	logp(p, "%s: exiting", why);
	p->quitting = true;
	if (p->cleaning) {
		return;   /* teardown_done() leaves */
	}
	if (p->state == SVC_STARTING || p->state == SVC_STARTED)
		teardown(p);
	else
		leave(p);
}

struct nmp_plugin *nmp_plugin_new(sd_bus *bus, sd_event *event, const char *bus_name)
{
	struct nmp_plugin *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->bus = sd_bus_ref(bus);
	p->event = sd_event_ref(event);
	p->bus_name = strdup(bus_name);
	if (!p->bus_name)
		goto fail;
	const char *dot = strrchr(p->bus_name, '.');
	p->tag = dot ? dot + 1 : p->bus_name;
	p->state = SVC_INIT;
	if (sd_bus_add_object_vtable(bus, &p->vtable_slot, NM_VPN_PATH, NM_VPN_IF, plugin_vtable, p) < 0 ||
	    nmp_watch_name_owner(bus, &p->pluto_watch, PLUTO_BUS_NAME, on_pluto_owner, p) < 0 ||
	    nmp_watch_name_owner(bus, &p->nm_watch, NM_BUS_NAME, on_nm_owner, p) < 0)
		goto fail;
	arm_timer(p, IDLE_USEC);
	return p;
fail:
	nmp_plugin_free(p);
	return NULL;
}

void nmp_plugin_free(struct nmp_plugin *p)
{
	if (!p)
		return;
	sd_event_source_disable_unref(p->timer);
	sd_bus_slot_unref(p->progress_slot);
	sd_bus_slot_unref(p->conn_watch);
	sd_bus_slot_unref(p->pluto_watch);
	sd_bus_slot_unref(p->nm_watch);
	sd_bus_slot_unref(p->vtable_slot);
	if (p->have_req)
		nmp_request_free(&p->req);
	strv_free(p->state_paths);
	free(p->conn_path);
	free(p->bus_name);
	sd_event_unref(p->event);
	sd_bus_unref(p->bus);
	free(p);
}
