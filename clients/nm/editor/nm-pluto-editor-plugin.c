/* libnm-vpn-plugin-pluto.so: the NMVpnEditorPlugin that nmcli (and any
 * libnm editor) loads through the plugin= key of nm-pluto-service.name.
 * It imports and exports ipsec.conf conn sections (conn-section.h does the
 * work; this file is only the GObject glue). No GTK page is built: the
 * vpn.data keys are the ipsec.conf keywords, set with nmcli. */
#include <NetworkManager.h>
#include <stdlib.h>
#include <string.h>

#include "conn-section.h"

#define PLUTO_SERVICE "org.freedesktop.NetworkManager.pluto"
#define PLUTO_NAME    "pluto"
#define PLUTO_DESC    "IPsec IKEv1 through the pluto daemon (imports and exports ipsec.conf conn sections)"

typedef struct {
	GObject parent;
} PlutoEditorPlugin;

typedef struct {
	GObjectClass parent;
} PlutoEditorPluginClass;

enum { PROP_0, PROP_NAME, PROP_DESC, PROP_SERVICE };

static void pluto_editor_plugin_iface_init(NMVpnEditorPluginInterface *iface);
static GType pluto_editor_plugin_get_type(void);

G_DEFINE_TYPE_WITH_CODE(PlutoEditorPlugin, pluto_editor_plugin, G_TYPE_OBJECT,
			G_IMPLEMENT_INTERFACE(NM_TYPE_VPN_EDITOR_PLUGIN, pluto_editor_plugin_iface_init))

/* a message of conn-section.c (malloc'd) into a GError, freeing it */
static void take_error(GError **error, char *msg)
{
	g_set_error_literal(error, NM_CONNECTION_ERROR, NM_CONNECTION_ERROR_FAILED, msg);
	free(msg);
}

static NMConnection *import_from_file(NMVpnEditorPlugin *plugin, const char *path, GError **error)
{
	struct conn_section sec;
	char *msg;
	if (conn_section_read(path, &sec, &msg) < 0) {
		take_error(error, msg);
		return NULL;
	}
	NMConnection *conn = nm_simple_connection_new();
	NMSetting *s_con = nm_setting_connection_new();
	g_autofree char *uuid = nm_utils_uuid_generate();
	g_object_set(s_con, NM_SETTING_CONNECTION_ID, sec.name, NM_SETTING_CONNECTION_UUID, uuid,
		     NM_SETTING_CONNECTION_TYPE, NM_SETTING_VPN_SETTING_NAME, NULL);
	nm_connection_add_setting(conn, s_con);
	NMSetting *s_vpn = nm_setting_vpn_new();
	g_object_set(s_vpn, NM_SETTING_VPN_SERVICE_TYPE, PLUTO_SERVICE, NULL);
	for (size_t i = 0; i < sec.n; i++)
		nm_setting_vpn_add_data_item(NM_SETTING_VPN(s_vpn), sec.keys[i], sec.values[i]);
	nm_connection_add_setting(conn, s_vpn);
	conn_section_free(&sec);
	return conn;
}

static gboolean export_to_file(NMVpnEditorPlugin *plugin, const char *path, NMConnection *conn, GError **error)
{
	NMSettingVpn *s_vpn = nm_connection_get_setting_vpn(conn);
	const char *service = s_vpn ? nm_setting_vpn_get_service_type(s_vpn) : NULL;
	if (!service || (strcmp(service, PLUTO_SERVICE) != 0 && strcmp(service, PLUTO_NAME) != 0)) {
		g_set_error(error, NM_CONNECTION_ERROR, NM_CONNECTION_ERROR_FAILED,
			    "connection '%s' is not a pluto VPN (vpn.service-type %s)", nm_connection_get_id(conn),
			    service ? service : "not set");
		return FALSE;
	}
	guint n = 0;
	g_autofree const char **keys = nm_setting_vpn_get_data_keys(s_vpn, &n);
	g_autofree const char **values = g_new0(const char *, n + 1);
	for (guint i = 0; i < n; i++)
		values[i] = nm_setting_vpn_get_data_item(s_vpn, keys[i]);
	char *msg;
	char *text = conn_section_write(nm_connection_get_id(conn), keys, values, n, &msg);
	if (!text) {
		take_error(error, msg);
		return FALSE;
	}
	GError *werr = NULL;
	gboolean ok = g_file_set_contents(path, text, -1, &werr);
	free(text);
	if (!ok) {
		g_set_error(error, NM_CONNECTION_ERROR, NM_CONNECTION_ERROR_FAILED, "%s", werr->message);
		g_error_free(werr);
	}
	return ok;
}

/* <id>.conf, with what a file name cannot hold replaced */
static char *get_suggested_filename(NMVpnEditorPlugin *plugin, NMConnection *conn)
{
	const char *id = nm_connection_get_id(conn);
	if (!id || !*id)
		return NULL;
	char *name = g_strdup_printf("%s.conf", id);
	g_strdelimit(name, "/", '_');
	return name;
}

static NMVpnEditor *get_editor(NMVpnEditorPlugin *plugin, NMConnection *conn, GError **error)
{
	g_set_error_literal(error, NM_CONNECTION_ERROR, NM_CONNECTION_ERROR_FAILED,
			    "the pluto VPN plugin has no graphical editor page (not built): "
			    "use nmcli; vpn.data keys are ipsec.conf keywords, or import an ipsec.conf conn section");
	return NULL;
}

static NMVpnEditorPluginCapability get_capabilities(NMVpnEditorPlugin *plugin)
{
	return NM_VPN_EDITOR_PLUGIN_CAPABILITY_IMPORT | NM_VPN_EDITOR_PLUGIN_CAPABILITY_EXPORT;
}

static void get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	switch (prop_id) {
	case PROP_NAME:
		g_value_set_string(value, PLUTO_NAME);
		break;
	case PROP_DESC:
		g_value_set_string(value, PLUTO_DESC);
		break;
	case PROP_SERVICE:
		g_value_set_string(value, PLUTO_SERVICE);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void pluto_editor_plugin_init(PlutoEditorPlugin *plugin)
{
}

static void pluto_editor_plugin_class_init(PlutoEditorPluginClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = get_property;
	g_object_class_override_property(object_class, PROP_NAME, NM_VPN_EDITOR_PLUGIN_NAME);
	g_object_class_override_property(object_class, PROP_DESC, NM_VPN_EDITOR_PLUGIN_DESCRIPTION);
	g_object_class_override_property(object_class, PROP_SERVICE, NM_VPN_EDITOR_PLUGIN_SERVICE);
}

static void pluto_editor_plugin_iface_init(NMVpnEditorPluginInterface *iface)
{
	iface->get_editor = get_editor;
	iface->get_capabilities = get_capabilities;
	iface->import_from_file = import_from_file;
	iface->export_to_file = export_to_file;
	iface->get_suggested_filename = get_suggested_filename;
}

/* the one symbol the library exports (libnm-vpn-plugin-pluto.ver) */
G_MODULE_EXPORT NMVpnEditorPlugin *nm_vpn_editor_plugin_factory(GError **error)
{
	return g_object_new(pluto_editor_plugin_get_type(), NULL);
}
