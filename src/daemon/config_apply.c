/* Start-up from the configuration file and Reload (config_apply.h): what
 * the loaded file means for the running daemon. Every connection change
 * goes through the steps AddConnection and DeleteConnection use
 * (control.h), so the log lines and events are the same. */
#include "daemon/config_apply.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/debug_class.h"
#include "common/ifaddr.h"
#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/demux.h"
#include "daemon/events.h"
#include "daemon/ipsec_conf.h"
#include "daemon/log.h"
#include "daemon/secrets.h"

static char *config_path;

void ctl_set_config_path(const char *path)
{
	free(config_path);
	config_path = path ? xstrdup(path) : NULL;
}

const char *ctl_config_path(void)
{
	return config_path;
}

/* --- config setup: applied at start-up; on reload only plutodebug is,
 * the rest needs a restart (what was applied is remembered to tell) --- */

struct applied_setup {
	char *interfaces;            /* "eth0 eth1", or NULL */
	int uniqueids, listen;
	char *plutodebug;
	char **interface_names;      /* what demux_set_interfaces holds */
	size_t n_interface_names;
};
static struct applied_setup applied = { .uniqueids = -1, .listen = -1 };

static char *join_words(char *const *words)
{
	if (!words || !words[0])
		return NULL;
	struct strbuf sb;
	strbuf_init(&sb);
	for (size_t i = 0; words[i]; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", words[i]);
	return strbuf_steal(&sb);
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && streq(a, b));
}

/* plutodebug="control crypt": as SetDebug with those classes */
static void apply_plutodebug(const char *value)
{
	char *copy = xstrdup(value);
	const char *classes[64];
	size_t n = 0;
	char *save = NULL;
	for (char *w = strtok_r(copy, " \t,", &save); w && n < 64; w = strtok_r(NULL, " \t,", &save))
		classes[n++] = w;
	struct ctl_error err;
	if (n == 0)
		classes[n++] = "none";
	if (ctl_set_debug(classes, n, NULL, &err) < 0)
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_CONTROL, "config setup plutodebug: %s", err.message);
	free(copy);
}

static void remember_setup(const struct conf_setup *s)
{
	free(applied.interfaces);
	free(applied.plutodebug);
	applied.interfaces = join_words(s->interfaces);
	applied.plutodebug = s->plutodebug ? xstrdup(s->plutodebug) : NULL;
	applied.uniqueids = s->uniqueids;
	applied.listen = s->listen;
}

static void apply_setup_at_start(const struct conf_setup *s, const struct ctl_cmdline_setup *cmdline)
{
	if (s->interfaces && s->interfaces[0] && !cmdline->interfaces) {
		size_t n = 0;
		while (s->interfaces[n])
			n++;
		/* demux keeps the pointers: they live as long as the daemon */
		applied.interface_names = xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			applied.interface_names[i] = xstrdup(s->interfaces[i]);
		applied.n_interface_names = n;
		demux_set_interfaces((const char *const *)applied.interface_names, (unsigned)n);
	}
	if (s->uniqueids >= 0 && !cmdline->uniqueids && cmdline->set_uniqueids)
		cmdline->set_uniqueids(s->uniqueids == 1);
	if (s->plutodebug && !cmdline->debug)
		apply_plutodebug(s->plutodebug);
	remember_setup(s);
}

static void apply_setup_at_reload(const struct conf_setup *s)
{
	if (!same_text(s->plutodebug, applied.plutodebug))
		apply_plutodebug(s->plutodebug ? s->plutodebug : "none");
	char *ifs = join_words(s->interfaces);
	static const char restart[] = "config setup %s changed: it takes effect when pluto is restarted";
	if (!same_text(ifs, applied.interfaces))
		llog(GLOBAL_LOGGER, LS_SERIOUS, MSGID_CONTROL, restart, "interfaces");
	if (s->uniqueids != applied.uniqueids)
		llog(GLOBAL_LOGGER, LS_SERIOUS, MSGID_CONTROL, restart, "uniqueids");
	if (s->listen != applied.listen)
		llog(GLOBAL_LOGGER, LS_SERIOUS, MSGID_CONTROL, restart, "listen");
	free(ifs);
	remember_setup(s);
}

/* --- one conn of the file as AddConnection would take it --- */

static char *conn_where(const struct conf_conn *cc)
{
	return xasprintf("%s:%u", cc->file, cc->line);
}

/* Check cc as AddConnection would: 0 with *cfg, or -1 with err saying
 * "FILE:LINE: conn "NAME": what". */
static int conn_config(const struct conf_conn *cc, struct connection_config *cfg, struct ctl_error *err)
{
	const char **keys = xcalloc(cc->n_settings + 1, sizeof(char *));
	const char **values = xcalloc(cc->n_settings + 1, sizeof(char *));
	for (size_t i = 0; i < cc->n_settings; i++) {
		keys[i] = cc->settings[i].key;
		values[i] = cc->settings[i].value;
	}
	struct ctl_error why;
	int r = ctl_config_from_options(cc->name, keys, values, cc->n_settings, cfg, &why);
	free(keys);
	free(values);
	/* neither end is this host: not an error of the file (the same file
	 * may serve both gateways, or an address may come later), so kept
	 * apart from InvalidConfig: the callers skip such a conn */
	if (r < 0)
		return ctl_fail(err, why.code == PE_CANNOT_ORIENT ? PE_CANNOT_ORIENT : PE_INVALID_CONFIG,
				"%s:%u: conn \"%s\": %s", cc->file, cc->line, cc->name, why.message);
	return 0;
}

static void log_not_ours(const struct ctl_error *err)
{
	llog(GLOBAL_LOGGER, LS_SERIOUS, MSGID_CONTROL, "%s; skipped", err->message);
}

/* A file conn whose name an API connection holds is left alone. */
static bool held_by_api(const struct conf_conn *cc)
{
	struct connection *c = connection_by_name(cc->name);
	if (!c || !connection_source_is_api(c))
		return false;
	llog(GLOBAL_LOGGER, LS_SERIOUS, MSGID_CONTROL,
	     "%s:%u: conn \"%s\" skipped: a connection of that name was added through the API",
	     cc->file, cc->line, cc->name);
	return true;
}

static void log_diag(const struct conf_diag *diag)
{
	for (size_t i = 0; i < diag->n; i++)
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_CONTROL, "%s", diag->lines[i]);
}

static int load(const char *path, struct ipsec_conf *conf, struct ctl_error *err)
{
	struct conf_diag diag = { 0 };
	if (ipsec_conf_load(path, conf, &diag) == 0) {
		conf_diag_free(&diag);
		return 0;
	}
	log_diag(&diag);
	if (diag.n > 1)
		ctl_fail(err, PE_INVALID_CONFIG, "%s (and %zu more error%s)", diag.lines[0], diag.n - 1,
			 diag.n == 2 ? "" : "s");
	else
		ctl_fail(err, PE_INVALID_CONFIG, "%s", diag.n ? diag.lines[0] : "cannot load the configuration");
	conf_diag_free(&diag);
	return -1;
}

/* A file is parsed whole before it is applied: for a big one that peak is
 * tens of MB of freed heap that glibc would otherwise keep for good. */
static void give_back_memory(void)
{
	malloc_trim(0);
}

/* --- start-up --- */

int ctl_start_from_config(const char *path, const struct ctl_cmdline_setup *cmdline, struct ctl_error *err)
{
	struct ipsec_conf conf;
	ctl_set_config_path(path);
	if (load(path, &conf, err) < 0)
		return -1;
	apply_setup_at_start(&conf.setup, cmdline);
	local_addresses_hold();   /* one look at the addresses for every conn */

	/* load: every conn, no auto= yet (that needs the secrets and the
	 * sockets); remembered by index, looked up again by name below */
	size_t *loaded = xcalloc(conf.n_conns + 1, sizeof(*loaded));
	size_t n_loaded = 0;
	for (size_t i = 0; i < conf.n_conns; i++) {
		const struct conf_conn *cc = &conf.conns[i];
		struct connection_config cfg;
		struct ctl_error cerr;
		enum ctl_define_outcome outcome;
		if (cc->ignore || held_by_api(cc))
			continue;
		char *where = conn_where(cc);
		if (conn_config(cc, &cfg, &cerr) < 0) {
			if (cerr.code == PE_CANNOT_ORIENT)
				log_not_ours(&cerr);
			else
				llog(GLOBAL_LOGGER, LS_ERROR, MSGID_CONTROL, "%s", cerr.message);
		} else if (ctl_define_connection(cc->name, where, &cfg, false, &outcome, NULL, &cerr) < 0)
			llog(GLOBAL_LOGGER, LS_ERROR, MSGID_CONTROL, "%s", cerr.message);
		else
			loaded[n_loaded++] = i;
		free(where);
	}

	/* a bad secrets file is logged there; the daemon comes up anyway
	 * (Listen and Reload read it again once it is fixed) */
	struct ctl_error serr;
	(void)ctl_read_secrets(&serr);
	bool listen = conf.setup.listen != 0;
	struct ctl_error lerr;
	if (listen && ctl_listen_sockets(&lerr) < 0) {
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_LISTEN, "%s", lerr.message);
		listen = false;
	}
	local_addresses_release();

	unsigned routed = 0, started = 0;
	for (size_t i = 0; i < n_loaded; i++) {
		struct connection *c = connection_by_name(conf.conns[loaded[i]].name);
		if (c)
			ctl_apply_auto(c, &routed, &started);
	}
	free(loaded);

	struct strbuf where;
	strbuf_init(&where);
	if (listen) {
		const char *const *ifs = ctl_interfaces();
		strbuf_add(&where, "listening on");
		for (size_t i = 0; ifs[i]; i++)
			strbuf_addf(&where, "%s %s", i ? "," : "", ifs[i]);
		if (!ifs[0])
			strbuf_add(&where, " no interface");
	} else {
		strbuf_add(&where, conf.setup.listen == 0 ? "not listening (config setup listen=no)"
							  : "not listening");
	}
	const struct secrets *secrets = secrets_current();
	size_t n_secrets = secrets ? secrets->count : 0;
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_STARTUP, "loaded %s: %zu connection%s (%u routed, %u started); %zu secret%s; %s",
	     path, n_loaded, n_loaded == 1 ? "" : "s", routed, started, n_secrets, n_secrets == 1 ? "" : "s",
	     where.data ? where.data : "");
	strbuf_free(&where);
	ipsec_conf_free(&conf);
	give_back_memory();
	return 0;
}

/* --- reload --- */

static void list_add(struct ctl_name_list *l, const char *name)
{
	l->names = xrealloc(l->names, (l->n + 2) * sizeof(char *));
	l->names[l->n++] = xstrdup(name);
	l->names[l->n] = NULL;
}

void ctl_reload_result_free(struct ctl_reload_result *res)
{
	struct ctl_name_list *lists[] = { &res->added, &res->changed, &res->removed };
	for (size_t i = 0; i < 3; i++) {
		for (size_t j = 0; j < lists[i]->n; j++)
			free(lists[i]->names[j]);
		free(lists[i]->names);
		lists[i]->names = NULL;
		lists[i]->n = 0;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Connections a reload owns: loaded from a file, not a road-warrior
 * instance of a template that still exists (the template owns those). */
static bool from_file(const struct connection *c)
{
	return !connection_source_is_api(c) && !c->template;
}

int ctl_reload(struct ctl_reload_result *res, struct ctl_error *err)
{
	struct ipsec_conf conf;
	memset(res, 0, sizeof(*res));
	if (!config_path)
		return ctl_fail(err, PE_INVALID_CONFIG, "no configuration file to reload");
	if (load(config_path, &conf, err) < 0) {
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_CONTROL, "reload of %s failed, nothing changed", config_path);
		return -1;
	}
	local_addresses_hold();   /* one look at the addresses for every conn */
	int r = ctl_reload_apply(&conf, res, err);
	local_addresses_release();
	ipsec_conf_free(&conf);
	give_back_memory();
	return r;
}

int ctl_reload_apply(const struct ipsec_conf *loaded, struct ctl_reload_result *res, struct ctl_error *err)
{
	const struct ipsec_conf conf = *loaded;
	memset(res, 0, sizeof(*res));

	/* check every conn that would be applied before changing anything */
	struct connection_config *cfgs = xcalloc(conf.n_conns + 1, sizeof(*cfgs));
	bool *apply = xcalloc(conf.n_conns + 1, sizeof(*apply));
	const char **wanted = xcalloc(conf.n_conns + 1, sizeof(char *));
	size_t n_wanted = 0;
	int r = 0;
	for (size_t i = 0; i < conf.n_conns && r == 0; i++) {
		const struct conf_conn *cc = &conf.conns[i];
		if (cc->ignore)
			continue;
		if (held_by_api(cc)) {
			wanted[n_wanted++] = cc->name;
			continue;
		}
		r = conn_config(cc, &cfgs[i], err);
		if (r < 0 && err->code == PE_CANNOT_ORIENT) {
			/* skipped as at start-up; loaded before, it goes as removed */
			log_not_ours(err);
			r = 0;
			continue;
		}
		wanted[n_wanted++] = cc->name;
		apply[i] = r == 0;
	}
	/* then the secrets: the connections started below need them */
	if (r == 0 && ctl_read_secrets(err) < 0)
		r = -1;
	if (r < 0) {
		for (size_t i = 0; i < conf.n_conns; i++)
			if (apply[i])
				connection_config_free(&cfgs[i]);
		llog(GLOBAL_LOGGER, LS_ERROR, MSGID_CONTROL, "reload failed, nothing changed: %s", err->message);
		goto out;
	}
	apply_setup_at_reload(&conf.setup);

	/* gone (or now auto=ignore): deleted first, freeing their routes */
	qsort(wanted, n_wanted, sizeof(char *), cmp_str);
	for (struct connection *c = connections_first(), *next; c; c = next) {
		next = c->next;
		if (from_file(c) && !bsearch(&c->name, wanted, n_wanted, sizeof(char *), cmp_str))
			list_add(&res->removed, c->name);
	}
	for (size_t i = 0; i < res->removed.n; i++) {
		struct connection *c = connection_by_name(res->removed.names[i]);
		if (c)
			ctl_remove_connection(c);
	}

	/* then in file order: kept, replaced or added with its auto */
	size_t unchanged = 0;
	for (size_t i = 0; i < conf.n_conns; i++) {
		if (!apply[i])
			continue;
		const struct conf_conn *cc = &conf.conns[i];
		char *where = conn_where(cc);
		enum ctl_define_outcome outcome;
		struct ctl_error cerr;
		if (ctl_define_connection(cc->name, where, &cfgs[i], true, &outcome, NULL, &cerr) < 0)
			/* checked above; only the host's addresses can have moved since */
			llog(GLOBAL_LOGGER, LS_ERROR, MSGID_CONTROL, "%s: %s", where, cerr.message);
		else if (outcome == CTL_DEFINE_ADDED)
			list_add(&res->added, cc->name);
		else if (outcome == CTL_DEFINE_CHANGED)
			list_add(&res->changed, cc->name);
		else
			unchanged++;
		free(where);
	}
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_CONTROL, "reload: %zu added, %zu changed, %zu removed, %zu unchanged",
	     res->added.n, res->changed.n, res->removed.n, unchanged);
out:
	free(wanted);
	free(apply);
	free(cfgs);
	return r;
}
