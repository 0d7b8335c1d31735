#include "daemon/control.h"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/demux.h"
#include "daemon/engine.h"
#include "daemon/events.h"
#include "daemon/keys.h"
#include "daemon/log.h"
#include "daemon/progress.h"
#include "daemon/secrets.h"
#include "daemon/state.h"
#include "daemon/views.h"
#include "klips/kernel.h"
#include "klips/routing.h"

static void (*shutdown_hook)(void);

void ctl_set_shutdown_hook(void (*hook)(void))
{
	shutdown_hook = hook;
}

static struct connection *find(const char *name, struct ctl_error *err)
{
	struct connection *c = name ? connection_by_name(name) : NULL;
	if (!c)
		ctl_fail(err, PE_UNKNOWN_NAME, "no connection named \"%s\"", name ? name : "");
	return c;
}

/* auto=route|start: what to do right after adding (API.md 1). The add
 * itself has succeeded either way; a failure here is logged on the
 * connection, as libreswan does for its auto= actions. auto=start before
 * Listen waits for the Listen (see ctl_listen), which reads the secrets
 * first. */
void ctl_apply_auto(struct connection *c, unsigned *routed, unsigned *started)
{
	struct ctl_error err;
	enum auto_action a = c->cfg.auto_action;
	if (a == AUTO_ADD || c->is_template)
		return;
	if (routing_route(c, false, &err) < 0)
		llog(CONN_LOGGER(c), LS_SERIOUS, MSGID_CONTROL, "auto=%s: %s",
		     a == AUTO_ROUTE ? "route" : "start", err.message);
	else if (routed)
		(*routed)++;
	if (a != AUTO_START || !demux_listening())
		return;
	if (engine_initiate(c, &err) < 0)
		llog(CONN_LOGGER(c), LS_SERIOUS, MSGID_CONTROL, "auto=start: %s", err.message);
	else if (started)
		(*started)++;
}

int ctl_config_from_options(const char *name, const char *const *keys, const char *const *values,
			    size_t n, struct connection_config *cfg, struct ctl_error *err)
{
	if (!valid_connection_name(name))
		return ctl_fail(err, PE_INVALID_OPTION,
				"invalid connection name \"%s\": use 1-64 letters, digits, '-', '_', '.', '+'",
				name ? name : "");
	/* auto=ignore means "skip this conn" in a file; a request to add a
	 * connection that is to be ignored is a mistake worth saying */
	for (size_t i = 0; i < n; i++)
		if (streq(keys[i], "auto") && streq(values[i], "ignore"))
			return ctl_fail(err, PE_INVALID_OPTION,
					"invalid value 'ignore' for option 'auto': only for conns of an ipsec.conf(5) file");
	if (connection_config_parse(cfg, keys, values, n, err) < 0)
		return -1;
	/* public keys are decoded now so a bad one fails the whole add */
	for (int i = 0; i < 2; i++) {
		const char *text = cfg->end[i].rsasigkey;
		if (!text)
			continue;
		struct ctl_error kerr;
		EVP_PKEY *k = pubkey_parse(text, &kerr);
		if (!k) {
			connection_config_free(cfg);
			return ctl_fail(err, PE_INVALID_OPTION, "invalid value for option '%srsasigkey': %s",
					i == 0 ? "left" : "right", kerr.message);
		}
		EVP_PKEY_free(k);
	}
	if (connection_config_check_orient(name, cfg, err) < 0) {
		connection_config_free(cfg);
		return -1;
	}
	return 0;
}

static void free_option_map(size_t n, char **keys, char **values)
{
	for (size_t i = 0; i < n; i++) {
		free(keys[i]);
		free(values[i]);
	}
	free(keys);
	free(values);
}

/* The keep-if-unchanged rule: equal normalised option maps (both sorted
 * by key, every keyword with its effective value). */
static bool same_options(const struct connection *c, const struct connection_config *cfg)
{
	size_t n;
	char **keys, **values;
	connection_config_normalise(cfg, &n, &keys, &values);
	bool same = n == c->options->n;
	char buf[IP_STR_MAX];
	for (size_t i = 0; same && i < n; i++)
		same = streq(keys[i], c->options->keys[i]) && streq(values[i], connection_option_value(c, i, buf));
	free_option_map(n, keys, values);
	return same;
}

int ctl_define_connection(const char *name, const char *source, struct connection_config *cfg,
			  bool with_auto, enum ctl_define_outcome *outcome, struct connection **ret,
			  struct ctl_error *err)
{
	struct connection *old = connection_by_name(name);
	if (old && same_options(old, cfg)) {
		connection_config_free(cfg);
		connection_set_source(old, source);
		*outcome = CTL_DEFINE_UNCHANGED;
		if (ret)
			*ret = old;
		return 0;
	}
	bool replacing = old != NULL;
	if (replacing) {
		llog(CONN_LOGGER(old), LS_INFO, MSGID_CONTROL, "replacing connection: its options changed");
		ctl_remove_connection(old);   /* Deletes sent, unrouted, freed */
		old = NULL;
	}
	struct connection *c;
	if (connection_add(name, source, cfg, &c, err) < 0) {
		connection_config_free(cfg);
		return -1;
	}
	llog(CONN_LOGGER(c), LS_INFO, MSGID_CONNECTION_ADDED, "added connection description (%s end is this host)",
	     c->this == 0 ? "left" : "right");
	*outcome = replacing ? CTL_DEFINE_CHANGED : CTL_DEFINE_ADDED;
	if (ret)
		*ret = c;
	if (with_auto)
		ctl_apply_auto(c, NULL, NULL);
	return 0;
}

int ctl_add_connection(const char *name, const char *const *keys, const char *const *values,
		       size_t n, struct connection **ret, struct ctl_error *err)
{
	struct connection_config cfg;
	if (name && connection_by_name(name))
		return ctl_fail(err, PE_DUPLICATE_NAME, "attempt to redefine connection \"%s\"", name);
	if (ctl_config_from_options(name, keys, values, n, &cfg, err) < 0)
		return -1;
	enum ctl_define_outcome outcome;
	return ctl_define_connection(name, CONNECTION_SOURCE_API, &cfg, true, &outcome, ret, err);
}

int ctl_replace_connection(const char *name, const char *const *keys, const char *const *values,
			   size_t n, struct connection **ret, struct ctl_error *err)
{
	struct connection_config cfg;
	if (ctl_config_from_options(name, keys, values, n, &cfg, err) < 0)
		return -1;
	enum ctl_define_outcome outcome;
	if (ctl_define_connection(name, CONNECTION_SOURCE_API, &cfg, true, &outcome, ret, err) < 0)
		return -1;
	if (outcome == CTL_DEFINE_UNCHANGED)
		llog(CONN_LOGGER(connection_by_name(name)), LS_INFO, MSGID_CONTROL,
		     "replace: options unchanged, connection and its SAs kept");
	return 0;
}

/* Terminate (Deletes to the peer), unroute (eroutes, updown unroute),
 * forget: the one way a connection goes, by request, reload or at
 * shutdown. */
void ctl_remove_connection(struct connection *c)
{
	struct ctl_error ignored;
	engine_terminate(c);
	routing_unroute(c, true, &ignored);
	llog(CONN_LOGGER(c), LS_INFO, MSGID_CONNECTION_DELETED, "deleting connection");
	connection_delete(c);
}

int ctl_delete_connection(const char *name, struct ctl_error *err)
{
	struct connection *c = find(name, err);
	if (!c)
		return -1;
	ctl_remove_connection(c);
	return 0;
}

void ctl_delete_all(void)
{
	while (connections_first())
		ctl_remove_connection(connections_first());
}

int ctl_route(const char *name, struct ctl_error *err)
{
	struct connection *c = find(name, err);
	if (!c)
		return -1;
	return routing_route(c, false, err);
}

int ctl_unroute(const char *name, struct ctl_error *err)
{
	struct connection *c = find(name, err);
	if (!c)
		return -1;
	return routing_unroute(c, false, err);
}

int ctl_initiate(const char *name, struct progress_sink *sink, struct ctl_error *err)
{
	struct connection *c = find(name, err);
	if (!c)
		return -1;
	if (!demux_listening())
		return ctl_fail(err, PE_NOT_LISTENING,
				"\"%s\": we have no ipsecN interface to talk to: need --listen before --initiate", name);
	if (c->this < 0)
		return ctl_fail(err, PE_CANNOT_ORIENT, "\"%s\": cannot initiate: connection is not oriented", name);
	if (END_THAT(c)->host_kind == HOST_ANY)
		return ctl_fail(err, PE_NO_PEER_ADDRESS,
				"\"%s\": cannot initiate: the peer's address is %%any (a road-warrior template)", name);
	if (sink)
		progress_sink_attach(c, sink);
	if (engine_initiate(c, err) < 0) {
		if (sink)
			progress_sink_detach(c, sink);
		/* the log prefix names the connection already */
		char prefix[80];
		snprintf(prefix, sizeof(prefix), "\"%s\": ", c->name);
		const char *msg = err->message;
		if (strncmp(msg, prefix, strlen(prefix)) == 0)
			msg += strlen(prefix);
		llog(CONN_LOGGER(c), LS_SERIOUS, MSGID_NEGOTIATION_FAILED, "%s", msg);
		return -1;
	}
	return 0;
}

int ctl_terminate(const char *name, struct ctl_error *err)
{
	struct connection *c = find(name, err);
	if (!c)
		return -1;
	llog(CONN_LOGGER(c), LS_INFO, MSGID_GENERIC, "terminating SAs using this connection");
	engine_terminate(c);
	struct ctl_error stopped = { .code = PE_NEGOTIATION_FAILED };
	snprintf(stopped.message, sizeof(stopped.message), "\"%s\": terminated", name);
	progress_sinks_done(c, &stopped);
	return 0;
}

int ctl_delete_state(unsigned serial, struct ctl_error *err)
{
	struct state *st = state_by_serial(serial);
	if (!st)
		return ctl_fail(err, PE_UNKNOWN_STATE, "no state #%u", serial);
	llog(STATE_LOGGER(st), LS_INFO, MSGID_STATE, "deleting state");
	engine_delete_state(st);
	return 0;
}

int ctl_listen_sockets(struct ctl_error *err)
{
	sd_event *event = NULL;
	int r = sd_event_default(&event);
	if (r < 0)
		return ctl_fail(err, PE_INTERNAL, "cannot get the event loop: %s", strerror(-r));
	bool was = demux_listening();
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_LISTEN, "listening for IKE messages");
	r = demux_listen(event);
	sd_event_unref(event);
	if (r < 0)
		return ctl_fail(err, PE_INTERNAL, "cannot list interfaces: %s", strerror(-r));
	connections_reorient();
	kernel_recheck();
	if (!was)
		event_manager(VIEW_MGR_LISTENING);
	event_manager(VIEW_MGR_INTERFACES);
	return 0;
}

int ctl_read_secrets(struct ctl_error *err)
{
	if (access(secrets_path(), F_OK) < 0 && errno == ENOENT) {
		/* a host may have no secrets yet: say so, it is no error */
		llog(GLOBAL_LOGGER, LS_SERIOUS, MSGID_SECRETS,
		     "no secrets file %s: no PSK or RSA private key is available", secrets_path());
		return 0;
	}
	return ctl_reload_secrets(err);
}

int ctl_listen(struct ctl_error *err)
{
	/* Listen is also the trigger to reread ipsec.secrets (the man page),
	 * and that comes first: the auto=start connections started below
	 * need them. Listening goes ahead when the file is bad, and the
	 * secrets in force stay; the caller still hears about it as an
	 * error, since a silently ignored secrets file is the worse surprise. */
	struct ctl_error serr;
	bool secrets_ok = ctl_read_secrets(&serr) == 0;
	bool was = demux_listening();
	if (ctl_listen_sockets(err) < 0)
		return -1;
	/* auto=start connections added before we listened start now */
	if (!was) {
		for (struct connection *c = connections_first(); c; c = c->next) {
			struct ctl_error aerr;
			if (c->cfg.auto_action == AUTO_START && !c->is_template && !c->newest_isakmp &&
			    c->this >= 0 && engine_initiate(c, &aerr) < 0)
				llog(CONN_LOGGER(c), LS_SERIOUS, MSGID_CONTROL, "auto=start: %s", aerr.message);
		}
	}
	if (!secrets_ok)
		return ctl_fail(err, serr.code, "listening, but secrets not reloaded: %s", serr.message);
	return 0;
}

int ctl_unlisten(struct ctl_error *err)
{
	if (!demux_listening())
		return 0;
	demux_unlisten();
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_LISTEN, "no longer listening for IKE messages");
	event_manager(VIEW_MGR_LISTENING);
	event_manager(VIEW_MGR_INTERFACES);
	return 0;
}

int ctl_add_public_key(const char *id, const char *key, struct ctl_error *err)
{
	/* pubkey_add logs the key id it stored */
	return pubkey_add(id, key, err);
}

int ctl_reload_secrets(struct ctl_error *err)
{
	if (secrets_reload(err) < 0) {
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_SECRETS, "%s", err->message);
		return -1;
	}
	return 0;
}

int ctl_set_debug(const char *const *classes, size_t n, const char *name, struct ctl_error *err)
{
	struct connection *c = NULL;
	unsigned mask = 0;
	if (name && !(c = find(name, err)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned bits;
		bool none;
		if (!debug_class_parse(classes[i], &bits, &none))
			return ctl_fail(err, PE_INVALID_OPTION,
					"unknown debug class '%s' (none, all, raw, crypt, parsing, emitting, "
					"control, lifecycle, klips, dns, oppo, private)", classes[i]);
		mask = none ? 0 : mask | bits;
	}
	if (c) {
		c->debug = mask;
		event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN_DEBUG_CLASSES);
	} else {
		debug_global = mask;
		event_manager(VIEW_MGR_DEBUG_CLASSES);
	}
	const char *names[16];
	debug_class_list(mask, names, ARRAY_SIZE(names));
	struct strbuf sb;
	strbuf_init(&sb);
	for (unsigned i = 0; names[i]; i++)
		strbuf_addf(&sb, "%s%s", i ? "+" : "", names[i]);
	llog(CONN_LOGGER(c), LS_INFO, MSGID_CONTROL, "debug classes set to %s", sb.len ? sb.data : "none");
	strbuf_free(&sb);
	return 0;
}

unsigned ctl_debug_classes(const struct connection *c, const char *out[], unsigned max)
{
	return debug_class_list(c ? c->debug : debug_global, out, max);
}

bool ctl_listening(void)
{
	return demux_listening();
}

const char *const *ctl_interfaces(void)
{
	static char **names;
	static size_t n_names;
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	n_names = 0;
	size_t count = 0;
	for (struct iface *ifp = demux_interfaces(); ifp; ifp = ifp->next)
		count++;
	names = xrealloc(names, (count + 1) * sizeof(char *));
	for (struct iface *ifp = demux_interfaces(); ifp; ifp = ifp->next) {
		char ab[IP_STR_MAX];
		names[n_names++] = xasprintf("%s/%s:%u", ifp->name, ip_str(&ifp->addr, ab), ifp->port);
	}
	names[n_names] = NULL;
	return (const char *const *)names;
}

const char *ctl_kernel_backend(void)
{
	return kernel_backend_name();
}

static const struct view_manager_facts manager_facts = {
	.listening = ctl_listening,
	.interfaces = ctl_interfaces,
	.kernel_backend = ctl_kernel_backend,
};

/* Registered when the program is loaded, before main() or any test runs:
 * the view table sits below the control core and must not call up. */
__attribute__((constructor)) static void manager_facts_register(void)
{
	views_set_manager_facts(&manager_facts);
}

void ctl_shutdown(void)
{
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_SHUTDOWN, "shutting down");
	if (shutdown_hook)
		shutdown_hook();
}

/* --- status: the text of whack --status --- */

static void status_end(struct strbuf *sb, const struct end *e, bool left_side)
{
	char hb[IP_STR_MAX], cb[IP_STR_MAX], nb[IP_STR_MAX], ib[ID_STR_MAX];
	const char *host = e->host_kind == HOST_ANY ? "%any"
			 : ip_is_set(&e->host) ? ip_str(&e->host, hb) : "%defaultroute";
	char idpart[ID_STR_MAX + 2] = "";
	if (e->id.kind != ID_NONE)
		snprintf(idpart, sizeof(idpart), "[%s]", id_str(&e->id, ib));
	char hop[IP_STR_MAX + 3] = "";
	if (ip_is_set(&e->nexthop))
		snprintf(hop, sizeof(hop), "---%s", ip_str(&e->nexthop, nb));
	char client[IP_STR_MAX + 3] = "";
	if (e->has_client)
		snprintf(client, sizeof(client), "%s", subnet_str(&e->client, cb));
	if (left_side)
		strbuf_addf(sb, "%s%s%s%s:%u%s", client, *client ? "===" : "", host, idpart, e->ikeport, hop);
	else
		strbuf_addf(sb, "%s%s%s:%u%s%s", hop, host, idpart, e->ikeport, *client ? "===" : "", client);
}

static void policy_str(struct strbuf *sb, unsigned p)
{
	static const struct { unsigned bit; const char *name; } bits[] = {
		{ POLICY_PSK, "PSK" }, { POLICY_RSASIG, "RSASIG" }, { POLICY_ENCRYPT, "ENCRYPT" },
		{ POLICY_AUTHENTICATE, "AUTHENTICATE" }, { POLICY_TUNNEL, "TUNNEL" },
		{ POLICY_COMPRESS, "COMPRESS" }, { POLICY_PFS, "PFS" }, { POLICY_DONT_REKEY, "DONT_REKEY" },
	};
	bool first = true;
	for (size_t i = 0; i < ARRAY_SIZE(bits); i++) {
		if (p & bits[i].bit) {
			strbuf_addf(sb, "%s%s", first ? "" : "+", bits[i].name);
			first = false;
		}
	}
	if (first)
		strbuf_add(sb, "none");
}

static void status_kernel_line(const char *line, void *ud)
{
	strbuf_addf(ud, "kernel %s\n", line);
}

/* When an established SA is replaced and when it ends, as FreeS/WAN
 * showed its pending events ("" for an SA still being negotiated). */
static const char *lifetime_status_str(const struct state *st, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!st->established || !st->expires_at_usec || !st->connection)
		return buf;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	const struct connection *c = st->connection;
	bool newest = st->serial == (st->kind == STATE_KIND_ISAKMP ? c->newest_isakmp : c->newest_ipsec);
	size_t k = 0;
	if (st->rekey_at_usec && newest)
		k += (size_t)snprintf(buf, len, "EVENT_SA_REPLACE in %llds; ",
				      (long long)(((int64_t)st->rekey_at_usec - now) / 1000000));
	if (k < len)
		snprintf(buf + k, len - k, "EVENT_SA_EXPIRE in %llds; %s",
			 (long long)(((int64_t)st->expires_at_usec - now) / 1000000),
			 newest ? (st->kind == STATE_KIND_ISAKMP ? "newest ISAKMP" : "newest IPSEC") : "superseded");
	return buf;
}

char *ctl_status_text(void)
{
	struct strbuf sb;
	strbuf_init(&sb);
	/* about 450 bytes a connection, 200 a state: grown once, not copied
	 * as it doubles its way to megabytes */
	strbuf_grow(&sb, connections_count() * 450 + states_count() * 200);
	const char *dbg[16];
	debug_class_list(debug_global, dbg, ARRAY_SIZE(dbg));
	strbuf_addf(&sb, "pluto %s: %s, kernel backend %s, %zu connection%s, %zu state%s\n",
		    PLUTO_VERSION, demux_listening() ? "listening" : "not listening",
		    kernel_backend_name(), connections_count(), connections_count() == 1 ? "" : "s",
		    states_count(), states_count() == 1 ? "" : "s");
	strbuf_add(&sb, "debug:");
	if (!dbg[0])
		strbuf_add(&sb, " none");
	for (unsigned i = 0; dbg[i]; i++)
		strbuf_addf(&sb, " %s", dbg[i]);
	strbuf_add(&sb, "\n");
	for (struct iface *ifp = demux_interfaces(); ifp; ifp = ifp->next) {
		char ab[IP_STR_MAX];
		strbuf_addf(&sb, "interface %s %s:%u\n", ifp->name, ip_str(&ifp->addr, ab), ifp->port);
	}
	/* what the kernel holds (with backend none: what it would hold) */
	kernel_record_foreach(status_kernel_line, &sb);
	strbuf_add(&sb, "\n");
	for (struct connection *c = connections_first(); c; c = c->next) {
		strbuf_addf(&sb, "\"%s\": ", c->name);
		status_end(&sb, &c->cfg.end[0], true);
		strbuf_add(&sb, "...");
		status_end(&sb, &c->cfg.end[1], false);
		strbuf_addf(&sb, "; %s; %s%s\n", routing_state_name(c->routing),
			    c->this < 0 ? "unoriented" : c->this == 0 ? "this host is left" : "this host is right",
			    c->is_template ? "; template" : "");
		strbuf_addf(&sb, "\"%s\":   ike_life: %llus; ipsec_life: %llus; rekey_margin: %llus; "
			    "rekey_fuzz: %u%%; keyingtries: %u\n", c->name, c->cfg.ikelifetime,
			    c->cfg.salifetime, c->cfg.rekeymargin, c->cfg.rekeyfuzz, c->cfg.keyingtries);
		strbuf_addf(&sb, "\"%s\":   policy: ", c->name);
		policy_str(&sb, c->cfg.policy);
		strbuf_addf(&sb, "; ike: %s; esp: %s; ah: %s\n", c->cfg.ike, c->cfg.esp, c->cfg.ah);
		strbuf_addf(&sb, "\"%s\":   newest ISAKMP SA: #%u; newest IPsec SA: #%u\n", c->name,
			    c->newest_isakmp, c->newest_ipsec);
	}
	if (connections_first())
		strbuf_add(&sb, "\n");
	for (struct state *st = states_first(); st; st = st->next_in_list) {
		char ab[IP_STR_MAX];
		strbuf_addf(&sb, "#%u: \"%s\" %s:%u %s (%s%s)%s%s%s%s\n", st->serial,
			    st->connection ? st->connection->name : "?", ip_str(&st->peer, ab), st->peer_port,
			    state_name_str(st->name), st->kind == STATE_KIND_ISAKMP ? "ISAKMP SA" : "IPsec SA",
			    st->established ? " established" : "", st->algorithms[0] ? "; " : "",
			    st->algorithms, st->nat_status[0] ? "; " : "", st->nat_status);
		char life[128];
		if (*lifetime_status_str(st, life, sizeof(life)))
			strbuf_addf(&sb, "#%u: \"%s\"   %s\n", st->serial, st->connection->name, life);
		char engine_line[128];
		if (*engine_status(st, engine_line, sizeof(engine_line)))   /* e.g. an ISAKMP SA watched by DPD */
			strbuf_addf(&sb, "#%u: \"%s\"   %s\n", st->serial, st->connection->name, engine_line);
	}
	return strbuf_steal(&sb);
}

/* --- SetSecret / DeleteSecret --- */

/* The secrets module validates, stores and logs (kind and ids only); the
 * core adds nothing, so every door gives the same error and log line. A
 * negotiation under way looks the PSK up again when it needs it, so the
 * new secret counts from the next message on. */
int ctl_set_secret(const char *kind, const char *const *ids, size_t n_ids, const char *secret,
		   struct ctl_error *err)
{
	return secrets_api_set(kind, ids, n_ids, secret, err);
}

int ctl_delete_secret(const char *kind, const char *const *ids, size_t n_ids, struct ctl_error *err)
{
	return secrets_api_delete(kind, ids, n_ids, err);
}
