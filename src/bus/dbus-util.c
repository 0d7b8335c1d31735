/* Helpers shared by the D-Bus adapters: error names, access control,
 * object paths and argument marshalling. */
#include "bus/dbus-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/control.h"

static long admin_gid = -1;

void dbus_set_admin_gid(long gid)
{
	admin_gid = gid;
}

/* The D-Bus error names with their errnos, from the one error table
 * (common/errors.h). */
#define DBUS_ERROR_NAME_(id, name, rc, errno_) [id] = PLUTO_DBUS_ERROR_PREFIX name,
static const char *const dbus_error_names[PE__MAX] = { PLUTO_ERRORS(DBUS_ERROR_NAME_) };

int dbus_register_error_map(void)
{
	/* sd-bus keeps the pointer: static storage, filled once; Ok has no errno */
	static sd_bus_error_map map[PE__MAX + 1];
	static bool registered;
	if (registered)
		return 0;
	size_t n = 0;
	for (unsigned e = 0; e < PE__MAX; e++)
		if (pluto_error_info(e)->errno_code > 0)
			map[n++] = (sd_bus_error_map)SD_BUS_ERROR_MAP(dbus_error_names[e],
								     pluto_error_info(e)->errno_code);
	map[n] = (sd_bus_error_map)SD_BUS_ERROR_MAP_END;
	int r = sd_bus_error_add_map(map);
	if (r >= 0)
		registered = true;
	return r;
}

int dbus_reply_ctl_error(sd_bus_error *error, const struct ctl_error *err)
{
	enum pluto_error code = (unsigned)err->code < PE__MAX ? err->code : PE_INTERNAL;
	/* sd-bus copies both strings; the map gives the errno returned */
	return sd_bus_error_set(error, dbus_error_names[code], err->message);
}

static bool in_admin_group(sd_bus_creds *creds)
{
	if (admin_gid < 0)
		return false;
	gid_t egid;
	if (sd_bus_creds_get_egid(creds, &egid) >= 0 && (long)egid == admin_gid)
		return true;
	const gid_t *gids;
	int n = sd_bus_creds_get_supplementary_gids(creds, &gids);
	for (int i = 0; i < n; i++)
		if ((long)gids[i] == admin_gid)
			return true;
	return false;
}

/* The daemon enforces access itself (the bus policy lets everyone send,
 * like systemd's services): reading is open, changing needs root or the
 * admin group. Credentials we cannot read mean no. */
int dbus_check_admin(sd_bus_message *m, sd_bus_error *error)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	int r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID |
					  SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_AUGMENT, &creds);
	uid_t euid = (uid_t)-1;
	bool allowed = false;
	if (r >= 0 && sd_bus_creds_get_euid(creds, &euid) >= 0)
		allowed = euid == 0 || in_admin_group(creds);
	if (allowed)
		return 1;
	if (euid == (uid_t)-1)
		sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
				  "%s.%s(): cannot determine the caller's user id",
				  sd_bus_message_get_interface(m), sd_bus_message_get_member(m));
	else
		sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
				  "%s.%s() changes pluto's state: only root%s may call it (caller uid %u)",
				  sd_bus_message_get_interface(m), sd_bus_message_get_member(m),
				  admin_gid >= 0 ? " or the admin group" : "", (unsigned)euid);
	return 0;
}

char *dbus_connection_path(const struct connection *c)
{
	char *path = NULL;
	if (!c)
		return strdup("/");
	if (sd_bus_path_encode(PLUTO_DBUS_CONN_PREFIX, c->name, &path) < 0)
		return NULL;
	return path;
}

char *dbus_state_path(unsigned serial)
{
	char *path = NULL;
	if (serial == 0)
		return strdup("/");
	if (asprintf(&path, PLUTO_DBUS_STATE_PREFIX "/%u", serial) < 0)
		return NULL;
	return path;
}

int dbus_read_strv(sd_bus_message *m, char ***strv, size_t *n)
{
	int r = sd_bus_message_read_strv(m, strv);
	if (r < 0)
		return r;
	if (!*strv) {
		/* an empty array may come back as NULL */
		*strv = calloc(1, sizeof(char *));
		if (!*strv)
			return -ENOMEM;
	}
	size_t count = 0;
	while ((*strv)[count])
		count++;
	*n = count;
	return 0;
}

int dbus_set_debug(sd_bus_message *m, const char *connection, sd_bus_error *error)
{
	_cleanup_strv_free_ char **classes = NULL;
	size_t n;
	struct ctl_error err;
	REQUIRE_ADMIN(m, error);
	int r = dbus_read_strv(m, &classes, &n);
	if (r < 0)
		return r;
	if (ctl_set_debug((const char *const *)classes, n, connection, &err) < 0)
		return dbus_reply_ctl_error(error, &err);
	return sd_bus_reply_method_return(m, NULL);
}

int dbus_append_state_paths(sd_bus_message *reply, const unsigned *serials, size_t n)
{
	int r = sd_bus_message_open_container(reply, 'a', "o");
	for (size_t i = 0; r >= 0 && i < n; i++)
		if (serials[i] != 0)
			r = dbus_append_state_ref(reply, serials[i], NULL);
	if (r < 0)
		return r;
	return sd_bus_message_close_container(reply);
}
