/* The IDL's Connection, State and Change types as JSON: the same fields as
 * the D-Bus Connection and State properties (API.md sections 2 and 3). */
#include <string.h>

#include "bus/varlink-internal.h"
#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/events.h"
#include "daemon/state.h"

static void add_string(json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, json_object_new_string(value ? value : ""));
}

static json_object *debug_classes_json(const struct connection *c)
{
	const char *names[32];
	ctl_debug_classes(c, names, ARRAY_SIZE(names));
	json_object *a = json_object_new_array();
	for (unsigned i = 0; names[i]; i++)
		json_object_array_add(a, json_object_new_string(names[i]));
	return a;
}

json_object *vl_connection_json(const struct connection *c)
{
	json_object *o = json_object_new_object();
	add_string(o, "name", c->name);
	json_object *opts = json_object_new_object();
	for (size_t i = 0; i < c->n_options; i++)
		json_object_object_add(opts, c->option_keys[i], json_object_new_string(c->option_values[i]));
	json_object_object_add(o, "options", opts);
	add_string(o, "routing", routing_state_name(c->routing));
	json_object_object_add(o, "template", json_object_new_boolean(c->is_template));
	if (c->template)   /* a road-warrior instance: its template's name */
		add_string(o, "instanceOf", c->template->name);
	json_object *states = json_object_new_array();
	for (struct state *st = states_first(); st; st = st->next_in_list)
		if (st->connection == c)
			json_object_array_add(states, json_object_new_int64(st->serial));
	json_object_object_add(o, "states", states);
	json_object_object_add(o, "newestIsakmpState", json_object_new_int64(c->newest_isakmp));
	json_object_object_add(o, "newestIpsecState", json_object_new_int64(c->newest_ipsec));
	json_object_object_add(o, "debugClasses", debug_classes_json(c));
	return o;
}

static json_object *spis_json(const uint32_t *spis, unsigned n)
{
	json_object *a = json_object_new_array();
	for (unsigned i = 0; i < n && i < SPIS_MAX; i++)
		json_object_array_add(a, json_object_new_int64(spis[i]));
	return a;
}

json_object *vl_state_json(const struct state *st)
{
	char ab[IP_STR_MAX];
	json_object *o = json_object_new_object();
	json_object_object_add(o, "serial", json_object_new_int64(st->serial));
	add_string(o, "connection", st->connection ? st->connection->name : "");
	add_string(o, "kind", st->kind == STATE_KIND_ISAKMP ? "isakmp" : "ipsec");
	add_string(o, "name", state_name_str(st->name));
	json_object_object_add(o, "established", json_object_new_boolean(st->established));
	json_object_object_add(o, "initiator", json_object_new_boolean(st->initiator));
	add_string(o, "peerAddress", ip_is_set(&st->peer) ? ip_str(&st->peer, ab) : "");
	add_string(o, "peerId", st->peer_id);
	add_string(o, "algorithms", st->algorithms);
	json_object_object_add(o, "inboundSpis", spis_json(st->inbound_spis, st->n_inbound_spis));
	json_object_object_add(o, "outboundSpis", spis_json(st->outbound_spis, st->n_outbound_spis));
	json_object_object_add(o, "expiresAt", json_object_new_uint64(st->expires_at_usec));
	json_object_object_add(o, "rekeyAt", json_object_new_uint64(st->rekey_at_usec));
	return o;
}

/* indexed by enum pluto_event_kind; the IDL's Change.event enum */
static const char *const event_names[] = {
	[EV_CONNECTION_ADDED]   = "connectionAdded",
	[EV_CONNECTION_REMOVED] = "connectionRemoved",
	[EV_CONNECTION_CHANGED] = "connectionChanged",
	[EV_STATE_ADDED]        = "stateAdded",
	[EV_STATE_REMOVED]      = "stateRemoved",
	[EV_STATE_CHANGED]      = "stateChanged",
	[EV_MANAGER_CHANGED]    = "managerChanged",
	[EV_PROGRESS]           = "progress",
};

/* Objects are still alive while their *_REMOVED event is delivered, so
 * removals carry the last view of what went away. */
json_object *vl_change_json(const struct pluto_event *ev)
{
	json_object *o = json_object_new_object();
	const char *name = (unsigned)ev->kind < ARRAY_SIZE(event_names) ? event_names[ev->kind] : NULL;
	add_string(o, "event", name ? name : "managerChanged");
	switch (ev->kind) {
	case EV_CONNECTION_ADDED:
	case EV_CONNECTION_REMOVED:
	case EV_CONNECTION_CHANGED:
		if (ev->c)
			json_object_object_add(o, "connection", vl_connection_json(ev->c));
		break;
	case EV_STATE_ADDED:
	case EV_STATE_REMOVED:
	case EV_STATE_CHANGED:
		if (ev->st)
			json_object_object_add(o, "state", vl_state_json(ev->st));
		break;
	case EV_PROGRESS:
		json_object_object_add(o, "code", json_object_new_int64(ev->rc));
		add_string(o, "message", ev->text);
		break;
	case EV_MANAGER_CHANGED:
		break;
	}
	const struct connection *c = ev->c ? ev->c : ev->st ? ev->st->connection : NULL;
	if (c)
		add_string(o, "connectionName", c->name);
	if (ev->property)
		add_string(o, "property", ev->property);
	return o;
}
