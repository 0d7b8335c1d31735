/* The D-Bus adapter for State objects and for Initiate(wait=true), in
 * process: no IKE engine can produce states yet, so the test makes them
 * with state_new() and the change events, and stands in for the engine
 * (engine_register) to finish Initiate calls. The daemon side (sd-event
 * with dbus_start on a private dbus-daemon) and a GDBus client share this
 * thread: the sd-event loop is pumped from the GLib main loop, and every
 * client call is asynchronous, so neither side ever blocks the other. */
#include <errno.h>
#include <gio/gio.h>
#include <glib.h>
#include <glib-unix.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "bus/bus.h"
#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/engine.h"
#include "daemon/events.h"
#include "daemon/log.h"
#include "daemon/progress.h"
#include "daemon/secrets.h"
#include "daemon/state.h"
#include "test-util.h"

#define DEST "org.freeswan.pluto1"
#define ROOT "/org/freeswan/pluto1"
#define CONN_IFACE "org.freeswan.pluto1.Connection"
#define STATE_IFACE "org.freeswan.pluto1.State"
#define PROPS_IFACE "org.freedesktop.DBus.Properties"
#define WEST ROOT "/connection/west"

static sd_event *event;
static GDBusConnection *client;
static GPtrArray *signals_seen;   /* "path iface.member params" */

/* --- one thread, two loops: GLib drives, sd-event is pumped --- */

static gboolean pump_sd_event(gpointer ud)
{
	while (sd_event_run(event, 0) > 0)
		;
	return G_SOURCE_CONTINUE;
}

static gboolean pump_sd_event_fd(gint fd, GIOCondition cond, gpointer ud)
{
	return pump_sd_event(ud);
}

/* Run both loops until cond holds; false after 10 s. Blocking is fine:
 * the sd-event pump's 5 ms timer wakes the GLib loop. */
static gboolean pump_until(test_cond_fn cond, gconstpointer ud)
{
	return test_loop_until(cond, ud, TRUE);
}

struct call_result {
	gboolean done;
	GVariant *reply;
	GError *error;
};

static void call_done(GObject *source, GAsyncResult *res, gpointer ud)
{
	struct call_result *r = ud;
	r->reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &r->error);
	r->done = TRUE;
}

static gboolean call_finished(gconstpointer ud)
{
	return ((const struct call_result *)ud)->done;
}

static void call_start(GDBusConnection *conn, const char *path, const char *iface, const char *method,
		       GVariant *args, const char *reply_type, struct call_result *r)
{
	memset(r, 0, sizeof(*r));
	g_dbus_connection_call(conn, DEST, path, iface, method, args,
			       reply_type ? G_VARIANT_TYPE(reply_type) : NULL, G_DBUS_CALL_FLAGS_NONE,
			       20000, NULL, call_done, r);
}

/* A call whose reply we wait for while pluto's loop keeps running. */
static GVariant *call(const char *path, const char *iface, const char *method, GVariant *args,
		      const char *reply_type, GError **error)
{
	struct call_result r;
	call_start(client, path, iface, method, args, reply_type, &r);
	g_assert_true(pump_until(call_finished, &r));
	if (r.error)
		g_propagate_error(error, r.error);
	return r.reply;
}

static GVariant *get_property(const char *path, const char *iface, const char *name)
{
	GError *error = NULL;
	GVariant *reply = call(path, PROPS_IFACE, "Get", g_variant_new("(ss)", iface, name), "(v)", &error);
	g_assert_no_error(error);
	GVariant *value;
	g_variant_get(reply, "(v)", &value);
	g_variant_unref(reply);
	return value;
}

static char *get_string(const char *path, const char *iface, const char *name)
{
	GVariant *v = get_property(path, iface, name);
	char *s = g_strdup(g_variant_get_string(v, NULL));
	g_variant_unref(v);
	return s;
}

/* --- signals: recorded as text, searched by substrings --- */

static void on_signal(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
		      const char *member, GVariant *params, gpointer ud)
{
	char *p = g_variant_print(params, TRUE);
	g_ptr_array_add(signals_seen, g_strdup_printf("%s %s.%s %s", path, iface, member, p));
	g_free(p);
}

struct wanted { const char *a, *b, *c; };

static gboolean signal_seen(gconstpointer ud)
{
	const struct wanted *w = ud;
	for (guint i = 0; i < signals_seen->len; i++) {
		const char *s = signals_seen->pdata[i];
		if (strstr(s, w->a) && (!w->b || strstr(s, w->b)) && (!w->c || strstr(s, w->c)))
			return TRUE;
	}
	return FALSE;
}

/* Wait for a signal whose text contains all of a, b (optional), c (optional). */
static void assert_signal(const char *a, const char *b, const char *c)
{
	struct wanted w = { a, b, c };
	if (!pump_until(signal_seen, &w)) {
		for (guint i = 0; i < signals_seen->len; i++)
			g_test_message("seen: %s", (const char *)signals_seen->pdata[i]);
		g_error("no signal with \"%s\" \"%s\" \"%s\"", a, b ? b : "", c ? c : "");
	}
}

/* --- the daemon side --- */

static struct connection *add_west(void)
{
	const char *keys[] = { "left", "right", "rightid" };
	const char *values[] = { "127.0.0.1", "192.0.2.2", "@east.example" };
	struct connection *c = NULL;
	struct ctl_error err = { 0 };
	if (ctl_add_connection("west", keys, values, 3, &c, &err) < 0)
		g_error("adding west: %s", err.message);
	return c;
}

static struct state *make_state(struct connection *c, enum state_kind kind, enum state_name name)
{
	struct state *st = state_new(c, kind, true);
	st->name = name;
	st->established = true;
	ip_parse("192.0.2.2", &st->peer);
	st->peer_port = 500;
	state_set_text(&st->peer_id, "%s", "@east.example");
	if (kind == STATE_KIND_ISAKMP) {
		state_set_text(&st->algorithms, "%s", "aes128-sha2_256-modp2048");
		c->newest_isakmp = st->serial;
		event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN_NEWEST_ISAKMP);
	} else {
		state_set_text(&st->algorithms, "%s", "esp:aes128-sha2_256");
		st->n_inbound_spis = 2;
		st->inbound_spis[0] = 0xc0ffee01;
		st->inbound_spis[1] = 0x00001234;
		st->n_outbound_spis = 1;
		st->outbound_spis[0] = 0xdeadbeef;
		c->newest_ipsec = st->serial;
		event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN_NEWEST_IPSEC);
	}
	st->expires_at_usec = 1700000000000000ull;
	st->rekey_at_usec = kind == STATE_KIND_ISAKMP ? 1699999000000000ull : 0;
	event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);   /* several properties changed */
	return st;
}

static char *state_path(const struct state *st)
{
	return g_strdup_printf(ROOT "/state/%u", st->serial);
}

/* --- tests --- */

static const struct { const char *name, *type; } state_props[] = {
	{ "Serial", "u" }, { "Connection", "o" }, { "Kind", "s" }, { "Name", "s" },
	{ "Established", "b" }, { "Initiator", "b" }, { "PeerAddress", "s" }, { "PeerId", "s" },
	{ "Algorithms", "s" }, { "InboundSpis", "au" }, { "OutboundSpis", "au" },
	{ "ExpiresAt", "t" }, { "RekeyAt", "t" },
	{ "XauthUser", "s" }, { "VirtualAddress", "s" }, { "Dns", "as" }, { "Domains", "as" },
	{ "Banner", "s" }, { "SplitInclude", "as" },
};

static void test_state_objects(void)
{
	GError *error = NULL;
	struct connection *c = add_west();
	assert_signal("InterfacesAdded", "'" WEST "'", NULL);

	struct state *isakmp = make_state(c, STATE_KIND_ISAKMP, STATE_MAIN_I4);
	struct state *ipsec = make_state(c, STATE_KIND_IPSEC, STATE_QUICK_I2);
	char *ip1 = state_path(isakmp), *ip2 = state_path(ipsec);

	/* the objects appear, with the State interface */
	assert_signal("InterfacesAdded", ip1, "'org.freeswan.pluto1.State'");
	assert_signal("InterfacesAdded", ip2, "'org.freeswan.pluto1.State'");

	/* every property of API.md, with its type */
	GVariant *reply = call(ip2, PROPS_IFACE, "GetAll", g_variant_new("(s)", STATE_IFACE), "(a{sv})", &error);
	g_assert_no_error(error);
	GVariant *props = g_variant_get_child_value(reply, 0);
	g_assert_cmpuint(g_variant_n_children(props), ==, G_N_ELEMENTS(state_props));
	for (size_t i = 0; i < G_N_ELEMENTS(state_props); i++) {
		GVariant *v = g_variant_lookup_value(props, state_props[i].name, G_VARIANT_TYPE(state_props[i].type));
		if (!v)
			g_error("State property %s of type %s missing", state_props[i].name, state_props[i].type);
		g_variant_unref(v);
	}
	guint32 u;
	gboolean b;
	guint64 t;
	const char *s;
	g_assert_true(g_variant_lookup(props, "Serial", "u", &u));
	g_assert_cmpuint(u, ==, ipsec->serial);
	g_assert_true(g_variant_lookup(props, "Connection", "&o", &s));
	g_assert_cmpstr(s, ==, WEST);
	g_assert_true(g_variant_lookup(props, "Kind", "&s", &s));
	g_assert_cmpstr(s, ==, "ipsec");
	g_assert_true(g_variant_lookup(props, "Name", "&s", &s));
	g_assert_cmpstr(s, ==, "STATE_QUICK_I2");
	g_assert_true(g_variant_lookup(props, "Established", "b", &b));
	g_assert_true(b);
	g_assert_true(g_variant_lookup(props, "Initiator", "b", &b));
	g_assert_true(b);
	g_assert_true(g_variant_lookup(props, "PeerAddress", "&s", &s));
	g_assert_cmpstr(s, ==, "192.0.2.2");
	g_assert_true(g_variant_lookup(props, "PeerId", "&s", &s));
	g_assert_cmpstr(s, ==, "@east.example");
	g_assert_true(g_variant_lookup(props, "Algorithms", "&s", &s));
	g_assert_cmpstr(s, ==, "esp:aes128-sha2_256");
	GVariant *spis = g_variant_lookup_value(props, "InboundSpis", G_VARIANT_TYPE("au"));
	gsize n;
	const guint32 *sp = g_variant_get_fixed_array(spis, &n, sizeof(guint32));
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpuint(sp[0], ==, 0xc0ffee01);
	g_assert_cmpuint(sp[1], ==, 0x1234);
	g_variant_unref(spis);
	spis = g_variant_lookup_value(props, "OutboundSpis", G_VARIANT_TYPE("au"));
	sp = g_variant_get_fixed_array(spis, &n, sizeof(guint32));
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpuint(sp[0], ==, 0xdeadbeef);
	g_variant_unref(spis);
	g_assert_true(g_variant_lookup(props, "ExpiresAt", "t", &t));
	g_assert_cmpuint(t, ==, 1700000000000000ull);
	g_assert_true(g_variant_lookup(props, "RekeyAt", "t", &t));
	g_assert_cmpuint(t, ==, 0);
	/* no remote access: empty */
	g_assert_true(g_variant_lookup(props, "XauthUser", "&s", &s));
	g_assert_cmpstr(s, ==, "");
	g_assert_true(g_variant_lookup(props, "VirtualAddress", "&s", &s));
	g_assert_cmpstr(s, ==, "");
	GVariant *dns = g_variant_lookup_value(props, "Dns", G_VARIANT_TYPE("as"));
	g_assert_cmpuint(g_variant_n_children(dns), ==, 0);
	g_variant_unref(dns);
	g_variant_unref(props);
	g_variant_unref(reply);

	/* the ISAKMP SA's own values */
	char *kind = get_string(ip1, STATE_IFACE, "Kind");
	g_assert_cmpstr(kind, ==, "isakmp");
	g_free(kind);
	char *name = get_string(ip1, STATE_IFACE, "Name");
	g_assert_cmpstr(name, ==, "STATE_MAIN_I4");
	g_free(name);
	GVariant *v = get_property(ip1, STATE_IFACE, "RekeyAt");
	g_assert_cmpuint(g_variant_get_uint64(v), ==, 1699999000000000ull);
	g_variant_unref(v);
	/* XAUTH and Mode Config results, as the engine leaves them */
	state_set_text(&isakmp->xauth_user, "%s", "alice");
	state_modecfg_mut(isakmp)->has_virtual_address = true;
	g_assert_true(subnet_parse("10.8.0.10/32", &state_modecfg_mut(isakmp)->virtual_address, NULL));
	state_modecfg_mut(isakmp)->n_dns = 2;
	g_assert_true(ip_parse("10.1.0.53", &state_modecfg_mut(isakmp)->dns[0]));
	g_assert_true(ip_parse("2001:db8::53", &state_modecfg_mut(isakmp)->dns[1]));
	state_set_text(&isakmp->domains, "%s", "corp.example,lab.example");
	char *xuser = get_string(ip1, STATE_IFACE, "XauthUser");
	g_assert_cmpstr(xuser, ==, "alice");
	g_free(xuser);
	char *vaddr = get_string(ip1, STATE_IFACE, "VirtualAddress");
	g_assert_cmpstr(vaddr, ==, "10.8.0.10/32");
	g_free(vaddr);
	v = get_property(ip1, STATE_IFACE, "Dns");
	char *printed = g_variant_print(v, FALSE);
	g_assert_cmpstr(printed, ==, "['10.1.0.53', '2001:db8::53']");
	g_free(printed);
	g_variant_unref(v);
	v = get_property(ip1, STATE_IFACE, "Domains");
	printed = g_variant_print(v, FALSE);
	g_assert_cmpstr(printed, ==, "['corp.example', 'lab.example']");
	g_free(printed);
	g_variant_unref(v);

	/* the connection follows: States, NewestIsakmpState, NewestIpsecState */
	v = get_property(WEST, CONN_IFACE, "States");
	g_assert_cmpuint(g_variant_n_children(v), ==, 2);
	char *all = g_variant_print(v, FALSE);
	g_assert_nonnull(strstr(all, ip1));
	g_assert_nonnull(strstr(all, ip2));
	g_free(all);
	g_variant_unref(v);
	char *newest = get_string(WEST, CONN_IFACE, "NewestIsakmpState");
	g_assert_cmpstr(newest, ==, ip1);
	g_free(newest);
	newest = get_string(WEST, CONN_IFACE, "NewestIpsecState");
	g_assert_cmpstr(newest, ==, ip2);
	g_free(newest);

	/* PropertiesChanged for the connection (announced before); the states,
	 * made and changed before the loop ran again, are announced once, by
	 * an InterfacesAdded carrying their final values (dbus-signals.c) */
	assert_signal(WEST " org.freedesktop.DBus.Properties.PropertiesChanged", "'NewestIsakmpState'", ip1);
	assert_signal(WEST " org.freedesktop.DBus.Properties.PropertiesChanged", "'NewestIpsecState'", ip2);
	assert_signal(WEST " org.freedesktop.DBus.Properties.PropertiesChanged", "'States'", NULL);
	assert_signal("InterfacesAdded", ip2, "'InboundSpis': <[uint32 3237998081, 4660]>");
	assert_signal("InterfacesAdded", ip2, "'Name': <'STATE_QUICK_I2'>");
	assert_signal("InterfacesAdded", ip2, "'Established': <true>");
	assert_signal("InterfacesAdded", ip1, "'PeerAddress': <'192.0.2.2'>");
	assert_signal("InterfacesAdded", ip1, "'ExpiresAt': <uint64 1700000000000000>");
	for (guint i = 0; i < signals_seen->len; i++) {
		const char *sig = signals_seen->pdata[i];
		if (strstr(sig, "PropertiesChanged") && (strstr(sig, ip1) == sig || strstr(sig, ip2) == sig))
			g_error("a state announced by InterfacesAdded also got PropertiesChanged: %s", sig);
	}

	/* one property changes */
	state_set_name(isakmp, STATE_MAIN_R3);
	assert_signal(ip1, "PropertiesChanged", "{'Name': <'STATE_MAIN_R3'>}");

	/* GetManagedObjects lists connection and states */
	reply = call(ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL, "(a{oa{sa{sv}}})", &error);
	g_assert_no_error(error);
	char *text = g_variant_print(reply, FALSE);
	g_assert_nonnull(strstr(text, ip1));
	g_assert_nonnull(strstr(text, ip2));
	g_assert_nonnull(strstr(text, "'STATE_QUICK_I2'"));
	g_free(text);
	g_variant_unref(reply);

	/* State.Delete() over the bus removes the object and updates the connection */
	unsigned ipsec_serial = ipsec->serial;
	reply = call(ip2, STATE_IFACE, "Delete", NULL, "()", &error);
	g_assert_no_error(error);
	g_variant_unref(reply);
	g_assert_null(state_by_serial(ipsec_serial));   /* freed: only the serial is safe to use */
	assert_signal("InterfacesRemoved", ip2, "'org.freeswan.pluto1.State'");
	newest = get_string(WEST, CONN_IFACE, "NewestIpsecState");
	g_assert_cmpstr(newest, ==, "/");
	g_free(newest);
	assert_signal(WEST " org.freedesktop.DBus.Properties.PropertiesChanged", "'NewestIpsecState': <objectpath '/'>", NULL);
	v = get_property(WEST, CONN_IFACE, "States");
	g_assert_cmpuint(g_variant_n_children(v), ==, 1);
	g_variant_unref(v);

	/* the deleted object is gone for good */
	reply = call(ip2, PROPS_IFACE, "Get", g_variant_new("(ss)", STATE_IFACE, "Name"), "(v)", &error);
	g_assert_null(reply);
	g_assert_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT);
	g_clear_error(&error);
	/* a path that is no serial */
	reply = call(ROOT "/state/07", PROPS_IFACE, "Get", g_variant_new("(ss)", STATE_IFACE, "Name"), "(v)", &error);
	g_assert_null(reply);
	g_assert_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT);
	g_clear_error(&error);

	/* a state deleted by the daemon itself */
	state_delete(isakmp);
	assert_signal("InterfacesRemoved", ip1, NULL);
	newest = get_string(WEST, CONN_IFACE, "NewestIsakmpState");
	g_assert_cmpstr(newest, ==, "/");
	g_free(newest);

	g_assert_cmpint(ctl_delete_connection("west", NULL), ==, 0);
	assert_signal("InterfacesRemoved", "'" WEST "'", NULL);
	g_free(ip1);
	g_free(ip2);
}

/* A change announced for values that did not change sends no
 * PropertiesChanged: after the no-ops, a real change is the first
 * PropertiesChanged the client sees (signals from one sender arrive in
 * order, so one sent for a no-op would have come before it). */
static void test_no_op_signals(void)
{
	struct connection *c = add_west();
	assert_signal("InterfacesAdded", "'" WEST "'", NULL);
	struct state *st = make_state(c, STATE_KIND_ISAKMP, STATE_MAIN_I4);
	char *path = state_path(st);
	assert_signal("InterfacesAdded", path, "'Established': <true>");
	g_ptr_array_set_size(signals_seen, 0);

	/* each of these says something changed; none did */
	state_set_name(st, STATE_MAIN_I4);
	event_state(EV_STATE_CHANGED, st, VIEW_STATE__ALL);
	event_state(EV_STATE_CHANGED, st, VIEW_STATE_PEER_ADDRESS);
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN__ALL);
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN_ROUTING);
	event_connection(EV_CONNECTION_CHANGED, c, VIEW_CONN_NEWEST_ISAKMP);
	event_manager(VIEW_MGR__ALL);
	event_manager(VIEW_MGR_LISTENING);

	/* the marker: a real change */
	state_set_name(st, STATE_MAIN_R3);
	assert_signal(path, "PropertiesChanged", "{'Name': <'STATE_MAIN_R3'>}");
	for (guint i = 0; i < signals_seen->len; i++) {
		const char *sig = signals_seen->pdata[i];
		if (strstr(sig, "PropertiesChanged") && !strstr(sig, "STATE_MAIN_R3"))
			g_error("PropertiesChanged for a value that did not change: %s", sig);
	}
	state_delete(st);
	assert_signal("InterfacesRemoved", path, NULL);
	g_assert_cmpint(ctl_delete_connection("west", NULL), ==, 0);
	assert_signal("InterfacesRemoved", "'" WEST "'", NULL);
	g_free(path);
}

/* --- Initiate: a stand-in engine that finishes when the test says --- */

static bool fake_creates_state;

static int fake_initiate(struct connection *c, struct ctl_error *err)
{
	if (fake_creates_state)
		make_state(c, STATE_KIND_ISAKMP, STATE_MAIN_I1);
	return 0;
}

static void fake_terminate(struct connection *c)
{
	states_delete_for_connection(c);
}

static void fake_delete_state(struct state *st)
{
	state_delete(st);
}

static const struct engine_ops fake_engine = {
	.name = "test", .initiate = fake_initiate, .terminate = fake_terminate,
	.delete_state = fake_delete_state,
};

static gboolean has_sink(gconstpointer ud)
{
	const struct connection *c = connection_by_name(ud);
	return c && c->sinks;
}

static gboolean has_no_sink(gconstpointer ud)
{
	return !has_sink(ud);
}

static void assert_negotiation_failed(struct call_result *r, const char *why)
{
	g_assert_true(pump_until(call_finished, r));
	g_assert_null(r->reply);
	g_assert_nonnull(r->error);
	char *name = g_dbus_error_get_remote_error(r->error);
	g_assert_cmpstr(name, ==, "org.freeswan.pluto1.Error.NegotiationFailed");
	g_assert_nonnull(strstr(r->error->message, why));
	g_free(name);
	g_clear_error(&r->error);
}

/* Coalesced signals (src/bus/dbus-signals.c): what happens between two
 * turns of the loop is sent once. A state made, changed and deleted before
 * the loop runs is never announced; several changes to one object make
 * one PropertiesChanged with the final values. The marker (a change of
 * the connection after them) proves that nothing was sent before it:
 * signals from one sender arrive in order. */
static void test_coalesced_signals(void)
{
	struct connection *c = add_west();
	struct state *kept = make_state(c, STATE_KIND_ISAKMP, STATE_MAIN_I4);
	char *kept_path = state_path(kept);
	assert_signal("InterfacesAdded", kept_path, "'Established': <true>");
	g_ptr_array_set_size(signals_seen, 0);

	/* a state that lives and dies within one turn */
	struct state *brief = make_state(c, STATE_KIND_IPSEC, STATE_QUICK_I2);
	char *brief_path = state_path(brief);
	state_delete(brief);
	/* three changes of one state within the same turn */
	state_set_name(kept, STATE_MAIN_R1);
	state_set_name(kept, STATE_MAIN_R2);
	state_set_name(kept, STATE_MAIN_R3);
	assert_signal(kept_path, "PropertiesChanged", "{'Name': <'STATE_MAIN_R3'>}");
	guint changes = 0;
	for (guint i = 0; i < signals_seen->len; i++) {
		const char *sig = signals_seen->pdata[i];
		if (strstr(sig, brief_path))
			g_error("a state made and deleted in one turn was announced: %s", sig);
		if (strstr(sig, kept_path) == sig && strstr(sig, "PropertiesChanged"))
			changes++;
		if (strstr(sig, "STATE_MAIN_R1") || strstr(sig, "STATE_MAIN_R2"))
			g_error("an intermediate value was announced: %s", sig);
	}
	g_assert_cmpuint(changes, ==, 1);
	state_delete(kept);
	assert_signal("InterfacesRemoved", kept_path, NULL);
	g_assert_cmpint(ctl_delete_connection("west", NULL), ==, 0);
	assert_signal("InterfacesRemoved", "'" WEST "'", NULL);
	g_free(brief_path);
	g_free(kept_path);
}

static void test_initiate_wait(void)
{
	struct ctl_error err = { 0 };
	struct call_result r;
	if (ctl_listen(&err) < 0)
		g_error("Listen: %s", err.message);
	engine_register(&fake_engine);
	fake_creates_state = false;
	struct connection *c = add_west();

	/* success: the reply waits for the sink, then lists the states */
	call_start(client, WEST, CONN_IFACE, "Initiate", g_variant_new("(b)", TRUE), "(ao)", &r);
	g_assert_true(pump_until(has_sink, "west"));
	g_assert_false(r.done);
	struct state *isakmp = make_state(c, STATE_KIND_ISAKMP, STATE_MAIN_I4);
	struct state *ipsec = make_state(c, STATE_KIND_IPSEC, STATE_QUICK_I2);
	g_main_context_iteration(NULL, FALSE);
	g_assert_false(r.done);
	progress_sinks_done(c, NULL);
	g_assert_true(pump_until(call_finished, &r));
	g_assert_no_error(r.error);
	char *got = g_variant_print(r.reply, FALSE);
	char *want = g_strdup_printf("(['" ROOT "/state/%u', '" ROOT "/state/%u'],)",
				     isakmp->serial, ipsec->serial);
	g_assert_cmpstr(got, ==, want);
	g_free(got);
	g_free(want);
	g_variant_unref(r.reply);

	/* failure from the engine: NegotiationFailed, saying why */
	call_start(client, WEST, CONN_IFACE, "Initiate", g_variant_new("(b)", TRUE), "(ao)", &r);
	g_assert_true(pump_until(has_sink, "west"));
	struct ctl_error why = { .code = PE_NO_KEY };
	g_strlcpy(why.message, "\"west\": no RSA key for @east.example", sizeof(why.message));
	progress_sinks_done(c, &why);
	assert_negotiation_failed(&r, "no RSA key for @east.example");

	/* Terminate ends the wait */
	call_start(client, WEST, CONN_IFACE, "Initiate", g_variant_new("(b)", TRUE), "(ao)", &r);
	g_assert_true(pump_until(has_sink, "west"));
	g_assert_cmpint(ctl_terminate("west", NULL), ==, 0);
	assert_negotiation_failed(&r, "terminated");

	/* so does deleting the connection, and nothing is touched afterwards */
	call_start(client, WEST, CONN_IFACE, "Initiate", g_variant_new("(b)", TRUE), "(ao)", &r);
	g_assert_true(pump_until(has_sink, "west"));
	g_assert_cmpint(ctl_delete_connection("west", NULL), ==, 0);
	assert_negotiation_failed(&r, "deleted");

	engine_register(NULL);
}

static void test_initiate_caller_vanishes(void)
{
	GError *error = NULL;
	struct call_result r;
	engine_register(&fake_engine);
	fake_creates_state = false;
	add_west();

	GDBusConnection *other = test_bus_connect();
	call_start(other, WEST, CONN_IFACE, "Initiate", g_variant_new("(b)", TRUE), "(ao)", &r);
	g_assert_true(pump_until(has_sink, "west"));
	g_dbus_connection_close_sync(other, NULL, &error);
	g_assert_no_error(error);
	/* pluto notices the caller left and stops waiting for it */
	g_assert_true(pump_until(has_no_sink, "west"));
	g_assert_true(pump_until(call_finished, &r));   /* closed: GDBus fails the call locally */
	g_clear_error(&r.error);
	/* the engine finishing later reaches no one, and frees nothing twice */
	progress_sinks_done(connection_by_name("west"), NULL);
	g_object_unref(other);

	/* a pending call when the front end stops is dropped cleanly */
	call_start(client, WEST, CONN_IFACE, "Initiate", g_variant_new("(b)", TRUE), "(ao)", &r);
	g_assert_true(pump_until(has_sink, "west"));
	dbus_stop();
	g_assert_false(has_sink("west"));
	struct ctl_error err;
	g_assert_cmpint(dbus_start(event, -1, 0, &err), ==, 0);
	g_assert_true(pump_until(call_finished, &r));   /* the bus tells the caller pluto left */
	g_assert_nonnull(r.error);
	g_clear_error(&r.error);

	g_assert_cmpint(ctl_delete_connection("west", NULL), ==, 0);
	engine_register(NULL);
}

static void test_initiate_nowait(void)
{
	GError *error = NULL;
	engine_register(&fake_engine);
	add_west();

	/* nothing created at once: an empty list */
	fake_creates_state = false;
	GVariant *reply = call(WEST, CONN_IFACE, "Initiate", g_variant_new("(b)", FALSE), "(ao)", &error);
	g_assert_no_error(error);
	char *got = g_variant_print(reply, FALSE);
	g_assert_cmpstr(got, ==, "([],)");
	g_free(got);
	g_variant_unref(reply);

	/* the states the engine made during the call */
	fake_creates_state = true;
	reply = call(WEST, CONN_IFACE, "Initiate", g_variant_new("(b)", FALSE), "(ao)", &error);
	g_assert_no_error(error);
	struct connection *c = connection_by_name("west");
	char *want = g_strdup_printf("(['" ROOT "/state/%u'],)", c->newest_isakmp);
	got = g_variant_print(reply, FALSE);
	g_assert_cmpstr(got, ==, want);
	g_free(got);
	g_free(want);
	g_variant_unref(reply);

	/* Terminate deletes the states through the engine */
	reply = call(WEST, CONN_IFACE, "Terminate", NULL, "()", &error);
	g_assert_no_error(error);
	g_variant_unref(reply);
	g_assert_cmpuint(states_count(), ==, 0);

	g_assert_cmpint(ctl_delete_connection("west", NULL), ==, 0);
	engine_register(NULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	log_init(LOG_TO_STDERR, "pluto");
	signals_seen = g_ptr_array_new_with_free_func(g_free);
	test_tmpdir_make("pluto-dbus-states");
	test_bus_start();
	/* Listen (needed before Initiate) rereads the secrets */
	char *secrets = test_tmp_path("ipsec.secrets");
	GError *error = NULL;
	g_assert_true(g_file_set_contents(secrets, "", 0, &error));
	secrets_set_path(secrets);
	g_free(secrets);

	struct ctl_error err = { 0 };
	g_assert_cmpint(sd_event_default(&event), >=, 0);
	if (dbus_start(event, -1, 0, &err) < 0)
		g_error("dbus_start: %s", err.message);
	guint fd_source = g_unix_fd_add(sd_event_get_fd(event), G_IO_IN, pump_sd_event_fd, NULL);
	guint timer_source = g_timeout_add(5, pump_sd_event, NULL);

	client = test_bus_connect();
	guint sub = g_dbus_connection_signal_subscribe(client, NULL, NULL, NULL, NULL, NULL,
						       G_DBUS_SIGNAL_FLAGS_NONE, on_signal, NULL, NULL);
	/* AddMatch goes out asynchronously, and pluto's signals do not queue
	 * behind it: one round trip to the bus makes sure the match is in place */
	GVariant *id = g_dbus_connection_call_sync(client, "org.freedesktop.DBus", "/org/freedesktop/DBus",
						   "org.freedesktop.DBus", "GetId", NULL, G_VARIANT_TYPE("(s)"),
						   G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
	g_assert_no_error(error);
	g_variant_unref(id);

	g_test_add_func("/dbus-states/objects", test_state_objects);
	g_test_add_func("/dbus-states/no-op-signals", test_no_op_signals);
	g_test_add_func("/dbus-states/coalesced-signals", test_coalesced_signals);
	g_test_add_func("/dbus-states/initiate-wait", test_initiate_wait);
	g_test_add_func("/dbus-states/initiate-caller-vanishes", test_initiate_caller_vanishes);
	g_test_add_func("/dbus-states/initiate-nowait", test_initiate_nowait);
	int r = g_test_run();

	g_dbus_connection_signal_unsubscribe(client, sub);
	g_dbus_connection_close_sync(client, NULL, NULL);
	g_object_unref(client);
	dbus_stop();
	ctl_unlisten(NULL);
	states_delete_all();
	connections_delete_all();
	g_source_remove(fd_source);
	g_source_remove(timer_source);
	sd_event_unref(event);
	secrets_clear();
	test_bus_stop();
	test_tmpdir_remove();
	g_ptr_array_unref(signals_seen);
	return r;
}
