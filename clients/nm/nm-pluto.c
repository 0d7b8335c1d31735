/* pluto's D-Bus API, the plugin's calls (nm-pluto.h) */
#include "nm-pluto.h"
#include "nm-bus-read.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"


static int call_async(sd_bus *bus, sd_bus_message *m, sd_bus_message_handler_t cb, void *ud, uint64_t usec)
{
	return sd_bus_call_async(bus, NULL, m, cb, ud, usec);
}

static int new_manager_call(sd_bus *bus, sd_bus_message **m, const char *member)
{
	return sd_bus_message_new_method_call(bus, m, PLUTO_BUS_NAME, PLUTO_ROOT_PATH, PLUTO_MANAGER_IF, member);
}

static int append_ids(sd_bus_message *m, const struct nmp_secret *s)
{
	int r = sd_bus_message_append(m, "s", s->kind);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "s");
	for (size_t i = 0; r >= 0 && i < s->n_ids; i++)
		r = sd_bus_message_append(m, "s", s->ids[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

int nmp_pluto_set_secret(sd_bus *bus, const struct nmp_secret *s, sd_bus_message_handler_t cb, void *ud)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = new_manager_call(bus, &m, "SetSecret");
	/* the message holds a secret: sd-bus wipes it when freed */
	if (r >= 0)
		r = sd_bus_message_sensitive(m);
	if (r >= 0)
		r = append_ids(m, s);
	if (r >= 0)
		r = sd_bus_message_append(m, "s", s->value);
	return r < 0 ? r : call_async(bus, m, cb, ud, 0);
}

int nmp_pluto_delete_secret(sd_bus *bus, const struct nmp_secret *s, sd_bus_message_handler_t cb, void *ud)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = new_manager_call(bus, &m, "DeleteSecret");
	if (r >= 0)
		r = append_ids(m, s);
	return r < 0 ? r : call_async(bus, m, cb, ud, 0);
}

int nmp_pluto_add_connection(sd_bus *bus, const struct nmp_request *req, sd_bus_message_handler_t cb, void *ud)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = new_manager_call(bus, &m, "AddConnection");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", req->name);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{ss}");
	for (size_t i = 0; r >= 0 && i < req->n; i++)
		r = sd_bus_message_append(m, "{ss}", req->keys[i], req->values[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r < 0 ? r : call_async(bus, m, cb, ud, 0);
}

int nmp_pluto_delete_connection(sd_bus *bus, const char *name, sd_bus_message_handler_t cb, void *ud)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = new_manager_call(bus, &m, "DeleteConnection");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", name);
	return r < 0 ? r : call_async(bus, m, cb, ud, 0);
}

int nmp_pluto_listen(sd_bus *bus, sd_bus_message_handler_t cb, void *ud)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = new_manager_call(bus, &m, "Listen");
	return r < 0 ? r : call_async(bus, m, cb, ud, 0);
}

int nmp_pluto_initiate(sd_bus *bus, const char *conn_path, sd_bus_message_handler_t cb, void *ud)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(bus, &m, PLUTO_BUS_NAME, conn_path, PLUTO_CONNECTION_IF,
					       "Initiate");
	if (r >= 0)
		r = sd_bus_message_append(m, "b", 1);
	return r < 0 ? r : call_async(bus, m, cb, ud, NMP_INITIATE_TIMEOUT_USEC);
}

int nmp_pluto_get_state(sd_bus *bus, const char *state_path, sd_bus_message_handler_t cb, void *ud)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(bus, &m, PLUTO_BUS_NAME, state_path,
					       "org.freedesktop.DBus.Properties", "GetAll");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", PLUTO_STATE_IF);
	return r < 0 ? r : call_async(bus, m, cb, ud, 0);
}

int nmp_pluto_watch_progress(sd_bus *bus, sd_bus_slot **slot, const char *conn_path,
			     sd_bus_message_handler_t cb, void *ud)
{
	return sd_bus_match_signal_async(bus, slot, PLUTO_BUS_NAME, conn_path, PLUTO_CONNECTION_IF, "Progress",
					 cb, NULL, ud);
}

int nmp_pluto_watch_connection(sd_bus *bus, sd_bus_slot **slot, const char *conn_path,
			       sd_bus_message_handler_t cb, void *ud)
{
	return sd_bus_match_signal_async(bus, slot, PLUTO_BUS_NAME, conn_path, "org.freedesktop.DBus.Properties",
					 "PropertiesChanged", cb, NULL, ud);
}

int nmp_pluto_get_connection_property(sd_bus *bus, const char *conn_path, const char *property,
				      sd_bus_message_handler_t cb, void *ud)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(bus, &m, PLUTO_BUS_NAME, conn_path,
					       "org.freedesktop.DBus.Properties", "Get");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", PLUTO_CONNECTION_IF, property);
	return r < 0 ? r : call_async(bus, m, cb, ud, 0);
}

int nmp_watch_name_owner(sd_bus *bus, sd_bus_slot **slot, const char *name, sd_bus_message_handler_t cb,
			 void *ud)
{
	char rule[512];
	snprintf(rule, sizeof(rule),
		 "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
		 "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='%s'", name);
	return sd_bus_add_match_async(bus, slot, rule, cb, NULL, ud);
}

int nmp_pluto_get_managed_objects(sd_bus *bus, sd_bus_message_handler_t cb, void *ud)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(bus, &m, PLUTO_BUS_NAME, PLUTO_ROOT_PATH,
					       "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
	return r < 0 ? r : call_async(bus, m, cb, ud, 0);
}

/* One Connection interface's a{sv}: its Name, and whether its Options make
 * it an XAUTH client as user */
struct connection_props {
	const char *user;
	char **name;
	bool client, same_user;
};

static int connection_option(const char *k, const char *v, void *ud)
{
	struct connection_props *p = ud;
	if (strcmp(k, "leftxauthclient") == 0 && strcmp(v, "yes") == 0)
		p->client = true;
	if (strcmp(k, "leftusername") == 0 && strcmp(v, p->user) == 0)
		p->same_user = true;
	return 1;
}

static int connection_prop(sd_bus_message *m, const char *prop, void *ud)
{
	struct connection_props *p = ud;
	if (strcmp(prop, "Name") == 0)
		return nmp_read_variant_string(m, p->name);
	if (strcmp(prop, "Options") == 0)
		return nmp_read_variant_pairs(m, connection_option, p);
	return sd_bus_message_skip(m, "v");
}

static int read_connection_props(sd_bus_message *m, const char *user, char **name, bool *xauth_user)
{
	struct connection_props p = { .user = user, .name = name };
	int r = nmp_read_dict(m, "sv", connection_prop, &p);
	*xauth_user = p.client && p.same_user;
	return r;
}

char *nmp_pluto_xauth_user_elsewhere(sd_bus_message *m, const char *self, const char *user)
{
	char *found = NULL;
	int r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");
	while (r >= 0 && !found) {
		const char *path;
		r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}");
		if (r <= 0)
			break;
		r = sd_bus_message_read(m, "o", &path);
		if (r >= 0)
			r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
		while (r >= 0) {
			const char *iface;
			r = sd_bus_message_enter_container(m, 'e', "sa{sv}");
			if (r <= 0)
				break;
			r = sd_bus_message_read(m, "s", &iface);
			if (r >= 0 && strcmp(iface, PLUTO_CONNECTION_IF) == 0) {
				char *name = NULL;
				bool uses = false;
				r = read_connection_props(m, user, &name, &uses);
				if (r >= 0 && uses && name && strncmp(name, "nm-", 3) == 0 && strcmp(name, self) != 0)
					found = name;
				else
					free(name);
			} else if (r >= 0) {
				r = sd_bus_message_skip(m, "a{sv}");
			}
			if (r >= 0)
				r = sd_bus_message_exit_container(m);
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	return found;
}

/* --- the State's properties --- */

static int read_strv(sd_bus_message *m, char ***out)
{
	int r = sd_bus_message_enter_container(m, 'v', "as");
	if (r < 0)
		return r;
	strv_free(*out);
	*out = NULL;
	r = sd_bus_message_read_strv(m, out);
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* the properties read, by name and type */
static const struct {
	const char *name;
	size_t string_off, strv_off;   /* one of them is set: offsetof + 1 */
} fields[] = {
#define STR(n, f) { n, offsetof(struct nmp_state_facts, f) + 1, 0 }
#define STRV(n, f) { n, 0, offsetof(struct nmp_state_facts, f) + 1 }
	STR("Kind", kind),
	STR("PeerAddress", peer_address),
	STR("VirtualAddress", virtual_address),
	STR("Banner", banner),
	STRV("Dns", dns),
	STRV("Domains", domains),
	STRV("SplitInclude", split_include),
#undef STR
#undef STRV
};

/* one of the State's properties: a field of the table, or skipped */
static int read_state_field(sd_bus_message *m, const char *name, void *ud)
{
	struct nmp_state_facts *f = ud;
	size_t k;
	for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
		if (strcmp(fields[k].name, name) == 0)
			break;
	if (k == sizeof(fields) / sizeof(fields[0]))
		return sd_bus_message_skip(m, "v");
	if (fields[k].string_off)
		return nmp_read_variant_string(m, (char **)((char *)f + fields[k].string_off - 1));
	return read_strv(m, (char ***)((char *)f + fields[k].strv_off - 1));
}

int nmp_state_facts_read(sd_bus_message *m, struct nmp_state_facts *f)
{
	*f = (struct nmp_state_facts){ 0 };
	int r = nmp_read_dict(m, "sv", read_state_field, f);
	if (r < 0)
		nmp_state_facts_free(f);
	return r;
}

void nmp_state_facts_free(struct nmp_state_facts *f)
{
	free(f->kind);
	free(f->peer_address);
	free(f->virtual_address);
	free(f->banner);
	strv_free(f->dns);
	strv_free(f->domains);
	strv_free(f->split_include);
	*f = (struct nmp_state_facts){ 0 };
}

size_t nmp_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

const char *nmp_pluto_error_short(const sd_bus_error *e)
{
	if (!e || !e->name)
		return "";
	size_t len = strlen(PLUTO_ERROR_PREFIX);
	return strncmp(e->name, PLUTO_ERROR_PREFIX, len) == 0 ? e->name + len : e->name;
}
