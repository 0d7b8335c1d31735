/* org.freeswan.pluto1.Manager on /org/freeswan/pluto1: one thin adapter per
 * method of API.md section 2 over the control core. */
#include "bus/dbus-internal.h"

#include <errno.h>
#include <stdlib.h>

#include "config.h"
#include "common/cleanup.h"
#include "common/util.h"
#include "daemon/config_apply.h"
#include "daemon/control.h"

/* Methods without arguments and without a result share one shape. */
static int reply_simple(sd_bus_message *m, int (*fn)(struct ctl_error *), sd_bus_error *error)
{
	struct ctl_error err;
	REQUIRE_ADMIN(m, error);
	if (fn(&err) < 0)
		return dbus_reply_ctl_error(error, &err);
	return sd_bus_reply_method_return(m, NULL);
}

typedef int (*define_fn)(const char *name, const char *const *keys, const char *const *values,
			 size_t n, struct connection **ret, struct ctl_error *err);

/* Read an a{ss} into keys/values (malloc'd arrays of pointers into m). */
static int read_option_map(sd_bus_message *m, const char ***keys, const char ***values, size_t *n)
{
	size_t cap = 0;
	*n = 0;
	int r = sd_bus_message_enter_container(m, 'a', "{ss}");
	while (r >= 0) {
		const char *k, *v;
		r = sd_bus_message_read(m, "{ss}", &k, &v);
		if (r <= 0)
			break;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*keys = xrealloc(*keys, cap * sizeof(**keys));
			*values = xrealloc(*values, cap * sizeof(**values));
		}
		(*keys)[*n] = k;
		(*values)[*n] = v;
		(*n)++;
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

/* AddConnection and ReplaceConnection: (s name, a{ss} options) -> o */
static int define_connection(sd_bus_message *m, define_fn define, sd_bus_error *error)
{
	const char *name;
	struct ctl_error err;
	int r;

	REQUIRE_ADMIN(m, error);
	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	/* collect the map first: nothing is added unless all of it reads */
	size_t n = 0;
	_cleanup_free_ const char **keys = NULL, **values = NULL;
	r = read_option_map(m, &keys, &values, &n);
	if (r < 0)
		return r;

	struct connection *c;
	if (define(name, keys, values, n, &c, &err) < 0)
		return dbus_reply_ctl_error(error, &err);
	_cleanup_free_ char *path = dbus_connection_path(c);
	return path ? sd_bus_reply_method_return(m, "o", path) : -ENOMEM;
}

static void free_defs(struct ctl_connection_def *defs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((void *)defs[i].keys);
		free((void *)defs[i].values);
	}
	free(defs);
}

/* Read the a(sa{ss}) of AddConnections: every entry before anything is
 * added. The strings point into m. */
static int read_connection_defs(sd_bus_message *m, struct ctl_connection_def **defs, size_t *n)
{
	size_t cap = 0;
	*n = 0;
	int r = sd_bus_message_enter_container(m, 'a', "(sa{ss})");
	while (r >= 0) {
		r = sd_bus_message_enter_container(m, 'r', "sa{ss}");
		if (r <= 0)
			break;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*defs = xrealloc(*defs, cap * sizeof(**defs));
		}
		struct ctl_connection_def *d = &(*defs)[(*n)++];
		const char **keys = NULL, **values = NULL;
		*d = (struct ctl_connection_def){ 0 };
		r = sd_bus_message_read(m, "s", &d->name);
		if (r >= 0)
			r = read_option_map(m, &keys, &values, &d->n);
		d->keys = keys;
		d->values = values;
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

/* AddConnections(a(sa{ss}) connections) -> (ao): all or nothing */
static int method_add_connections(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	REQUIRE_ADMIN(m, error);
	struct ctl_connection_def *defs = NULL;
	size_t n = 0;
	int r = read_connection_defs(m, &defs, &n);
	struct ctl_error err;
	struct connection **added = xcalloc(n ? n : 1, sizeof(*added));
	if (r >= 0 && ctl_add_connections(defs, n, added, &err) < 0)
		r = dbus_reply_ctl_error(error, &err);
	free_defs(defs, n);
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	if (r >= 0)
		r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "o");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		_cleanup_free_ char *path = dbus_connection_path(added[i]);
		r = path ? sd_bus_message_append_basic(reply, 'o', path) : -ENOMEM;
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	free(added);
	return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int method_add_connection(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return define_connection(m, ctl_add_connection, error);
}

static int method_replace_connection(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return define_connection(m, ctl_replace_connection, error);
}

static int append_names(sd_bus_message *reply, const struct ctl_name_list *l)
{
	int r = sd_bus_message_open_container(reply, 'a', "s");
	for (size_t i = 0; r >= 0 && i < l->n; i++)
		r = sd_bus_message_append(reply, "s", l->names[i]);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* Reload() -> (as added, as changed, as removed) */
static int method_reload(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct ctl_error err;
	struct ctl_reload_result res;
	REQUIRE_ADMIN(m, error);
	if (ctl_reload(&res, &err) < 0)
		return dbus_reply_ctl_error(error, &err);
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = append_names(reply, &res.added);
	if (r >= 0)
		r = append_names(reply, &res.changed);
	if (r >= 0)
		r = append_names(reply, &res.removed);
	ctl_reload_result_free(&res);
	return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int method_delete_connection(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *name;
	struct ctl_error err;
	REQUIRE_ADMIN(m, error);
	int r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	if (ctl_delete_connection(name, &err) < 0)
		return dbus_reply_ctl_error(error, &err);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_listen(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return reply_simple(m, ctl_listen, error);
}

static int method_unlisten(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return reply_simple(m, ctl_unlisten, error);
}

static int method_reload_secrets(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return reply_simple(m, ctl_reload_secrets, error);
}

static int method_add_public_key(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *id, *key;
	struct ctl_error err;
	REQUIRE_ADMIN(m, error);
	int r = sd_bus_message_read(m, "ss", &id, &key);
	if (r < 0)
		return r;
	if (ctl_add_public_key(id, key, &err) < 0)
		return dbus_reply_ctl_error(error, &err);
	return sd_bus_reply_method_return(m, NULL);
}

/* (s kind, as ids): the arguments SetSecret and DeleteSecret start with */
static int read_secret_kind_ids(sd_bus_message *m, const char **kind, char ***ids, size_t *n)
{
	int r = sd_bus_message_read(m, "s", kind);
	return r < 0 ? r : dbus_read_strv(m, ids, n);
}

/* The message carries the secret: the vtable marks the method
 * SD_BUS_VTABLE_SENSITIVE, so sd-bus wipes the message when it frees it. */
static int method_set_secret(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *kind, *secret;
	_cleanup_strv_free_ char **ids = NULL;
	size_t n = 0;
	struct ctl_error err;
	REQUIRE_ADMIN(m, error);
	int r = read_secret_kind_ids(m, &kind, &ids, &n);
	if (r >= 0)
		r = sd_bus_message_read(m, "s", &secret);
	if (r < 0)
		return r;
	if (ctl_set_secret(kind, (const char *const *)ids, n, secret, &err) < 0)
		return dbus_reply_ctl_error(error, &err);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_delete_secret(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *kind;
	_cleanup_strv_free_ char **ids = NULL;
	size_t n = 0;
	struct ctl_error err;
	REQUIRE_ADMIN(m, error);
	int r = read_secret_kind_ids(m, &kind, &ids, &n);
	if (r < 0)
		return r;
	if (ctl_delete_secret(kind, (const char *const *)ids, n, &err) < 0)
		return dbus_reply_ctl_error(error, &err);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_set_debug(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return dbus_set_debug(m, NULL, error);
}

/* Read-only, so open to everyone, like reading the properties. */
static int method_status(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_free_ char *text = ctl_status_text();
	return sd_bus_reply_method_return(m, "s", text);
}

static int method_shutdown(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	REQUIRE_ADMIN(m, error);
	/* reply first: the reply is flushed when the front end stops */
	int r = sd_bus_reply_method_return(m, NULL);
	ctl_shutdown();
	return r;
}

/* The properties come from the view (dbus-view.c): only methods here. */
const sd_bus_vtable dbus_manager_methods[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_NAMES("AddConnection", "sa{ss}", SD_BUS_PARAM(name) SD_BUS_PARAM(options),
				 "o", SD_BUS_PARAM(connection), method_add_connection, DBUS_OPEN),
	SD_BUS_METHOD_WITH_NAMES("AddConnections", "a(sa{ss})", SD_BUS_PARAM(connections),
				 "ao", SD_BUS_PARAM(connections), method_add_connections, DBUS_OPEN),
	SD_BUS_METHOD_WITH_NAMES("ReplaceConnection", "sa{ss}", SD_BUS_PARAM(name) SD_BUS_PARAM(options),
				 "o", SD_BUS_PARAM(connection), method_replace_connection, DBUS_OPEN),
	SD_BUS_METHOD_WITH_NAMES("Reload", "", , "asasas",
				 SD_BUS_PARAM(added) SD_BUS_PARAM(changed) SD_BUS_PARAM(removed),
				 method_reload, DBUS_OPEN),
	SD_BUS_METHOD_WITH_NAMES("DeleteConnection", "s", SD_BUS_PARAM(name), "", ,
				 method_delete_connection, DBUS_OPEN),
	SD_BUS_METHOD("Listen", "", "", method_listen, DBUS_OPEN),
	SD_BUS_METHOD("Unlisten", "", "", method_unlisten, DBUS_OPEN),
	SD_BUS_METHOD_WITH_NAMES("AddPublicKey", "ss", SD_BUS_PARAM(id) SD_BUS_PARAM(key), "", ,
				 method_add_public_key, DBUS_OPEN),
	SD_BUS_METHOD("ReloadSecrets", "", "", method_reload_secrets, DBUS_OPEN),
	SD_BUS_METHOD_WITH_NAMES("SetSecret", "sass", SD_BUS_PARAM(kind) SD_BUS_PARAM(ids) SD_BUS_PARAM(secret),
				 "", , method_set_secret, DBUS_OPEN | SD_BUS_VTABLE_SENSITIVE),
	SD_BUS_METHOD_WITH_NAMES("DeleteSecret", "sas", SD_BUS_PARAM(kind) SD_BUS_PARAM(ids), "", ,
				 method_delete_secret, DBUS_OPEN),
	SD_BUS_METHOD_WITH_NAMES("SetDebug", "as", SD_BUS_PARAM(classes), "", ,
				 method_set_debug, DBUS_OPEN),
	SD_BUS_METHOD_WITH_NAMES("Status", "", , "s", SD_BUS_PARAM(text), method_status, DBUS_OPEN),
	SD_BUS_METHOD("Shutdown", "", "", method_shutdown, DBUS_OPEN),
	SD_BUS_VTABLE_END
};
