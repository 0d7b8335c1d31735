/* org.freeswan.pluto1.State: one object per ISAKMP or IPsec SA under
 * /org/freeswan/pluto1/state/<serial>, served by a fallback vtable that
 * looks the state up by serial. Serials never repeat, so a path never
 * names a different state later. */
#include "bus/dbus-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/state.h"

static struct state *state_from_path(const char *path)
{
	char *id = NULL;
	unsigned long long serial;
	if (sd_bus_path_decode(path, PLUTO_DBUS_STATE_PREFIX, &id) <= 0)
		return NULL;
	/* only the canonical spelling: "7", not "07" */
	bool ok = id[0] != '0' && parse_uint(id, 0xffffffffu, &serial);
	free(id);
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
	char **list = calloc(states_count() + 1, sizeof(char *));
	if (!list)
		return -ENOMEM;
	size_t i = 0;
	for (struct state *st = states_first(); st; st = st->next_in_list) {
		if (!(list[i] = dbus_state_path(st->serial))) {
			dbus_strv_free(list);
			return -ENOMEM;
		}
		i++;
	}
	*nodes = list;
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

/* One getter for every property: a table from name to how to append it
 * would only move this switch elsewhere. */
static int property_get(sd_bus *bus, const char *path, const char *interface,
			const char *property, sd_bus_message *reply, void *userdata,
			sd_bus_error *error)
{
	const struct state *st = userdata;
	char buf[IP_STR_MAX];

	if (streq(property, "Serial"))
		return sd_bus_message_append(reply, "u", st->serial);
	if (streq(property, "Connection")) {
		char *p = dbus_connection_path(st->connection);
		if (!p)
			return -ENOMEM;
		int r = sd_bus_message_append_basic(reply, 'o', p);
		free(p);
		return r;
	}
	if (streq(property, "Kind"))
		return sd_bus_message_append(reply, "s", st->kind == STATE_KIND_ISAKMP ? "isakmp" : "ipsec");
	if (streq(property, "Name"))
		return sd_bus_message_append(reply, "s", state_name_str(st->name));
	if (streq(property, "Established"))
		return sd_bus_message_append(reply, "b", (int)st->established);
	if (streq(property, "Initiator"))
		return sd_bus_message_append(reply, "b", (int)st->initiator);
	if (streq(property, "PeerAddress"))
		return sd_bus_message_append(reply, "s", ip_is_set(&st->peer) ? ip_str(&st->peer, buf) : "");
	if (streq(property, "PeerId"))
		return sd_bus_message_append(reply, "s", st->peer_id);
	if (streq(property, "Algorithms"))
		return sd_bus_message_append(reply, "s", st->algorithms);
	if (streq(property, "InboundSpis"))
		return sd_bus_message_append_array(reply, 'u', st->inbound_spis,
						    MIN(st->n_inbound_spis, SPIS_MAX) * sizeof(uint32_t));
	if (streq(property, "OutboundSpis"))
		return sd_bus_message_append_array(reply, 'u', st->outbound_spis,
						    MIN(st->n_outbound_spis, SPIS_MAX) * sizeof(uint32_t));
	if (streq(property, "ExpiresAt"))
		return sd_bus_message_append(reply, "t", (uint64_t)st->expires_at_usec);
	if (streq(property, "RekeyAt"))
		return sd_bus_message_append(reply, "t", (uint64_t)st->rekey_at_usec);
	return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "no property %s", property);
}

/* Serial and Kind never change; everything else may, as negotiation goes
 * on (the engine may even move a state to a new instance connection). */
const sd_bus_vtable dbus_state_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Serial", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Connection", "o", property_get, 0, DBUS_CHANGES),
	SD_BUS_PROPERTY("Kind", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Name", "s", property_get, 0, DBUS_CHANGES),
	SD_BUS_PROPERTY("Established", "b", property_get, 0, DBUS_CHANGES),
	SD_BUS_PROPERTY("Initiator", "b", property_get, 0, DBUS_CHANGES),
	SD_BUS_PROPERTY("PeerAddress", "s", property_get, 0, DBUS_CHANGES),
	SD_BUS_PROPERTY("PeerId", "s", property_get, 0, DBUS_CHANGES),
	SD_BUS_PROPERTY("Algorithms", "s", property_get, 0, DBUS_CHANGES),
	SD_BUS_PROPERTY("InboundSpis", "au", property_get, 0, DBUS_CHANGES),
	SD_BUS_PROPERTY("OutboundSpis", "au", property_get, 0, DBUS_CHANGES),
	SD_BUS_PROPERTY("ExpiresAt", "t", property_get, 0, DBUS_CHANGES),
	SD_BUS_PROPERTY("RekeyAt", "t", property_get, 0, DBUS_CHANGES),
	SD_BUS_METHOD("Delete", "", "", method_delete, DBUS_OPEN),
	SD_BUS_VTABLE_END
};
