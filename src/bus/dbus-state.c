/* org.freeswan.pluto1.State: one object per ISAKMP or IPsec SA under
 * /org/freeswan/pluto1/state/<serial>, served by a fallback vtable that
 * looks the state up by serial. Serials never repeat, so a path never
 * names a different state later. */
#include "bus/dbus-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/state.h"

static struct state *state_from_path(const char *path)
{
	_cleanup_free_ char *id = NULL;
	unsigned long long serial;
	if (sd_bus_path_decode(path, PLUTO_DBUS_STATE_PREFIX, &id) <= 0)
		return NULL;
	/* only the canonical spelling: "7", not "07" */
	bool ok = id[0] != '0' && parse_uint(id, 0xffffffffu, &serial);
	return ok ? state_by_serial((unsigned)serial) : NULL;
}

int dbus_state_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
		    void **found, sd_bus_error *error)
{
	struct state *st = state_from_path(path);
	if (!st)
		return 0;
	*found = st;
	return 1;
}

int dbus_state_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
			 sd_bus_error *error)
{
	_cleanup_strv_free_ char **list = calloc(states_count() + 1, sizeof(char *));
	if (!list)
		return -ENOMEM;
	size_t i = 0;
	for (struct state *st = states_first(); st; st = st->next_in_list)
		if (!(list[i++] = dbus_state_path(st->serial)))
			return -ENOMEM;
	*nodes = TAKE_PTR(list);
	return 1;
}

static int method_delete(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct state *st = userdata;
	struct ctl_error err;
	REQUIRE_ADMIN(m, error);
	if (ctl_delete_state(st->serial, &err) < 0)
		return dbus_reply_ctl_error(error, &err);
	return sd_bus_reply_method_return(m, NULL);
}

/* The properties come from the view (dbus-view.c): only methods here. */
const sd_bus_vtable dbus_state_methods[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Delete", "", "", method_delete, DBUS_OPEN),
	SD_BUS_VTABLE_END
};
