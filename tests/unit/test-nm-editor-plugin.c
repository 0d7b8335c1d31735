/* The built libnm-vpn-plugin-pluto.so as libnm sees it: loaded with
 * nm_vpn_editor_plugin_load_from_file() (the way nmcli loads the plugin=
 * of a .name file), its properties and capabilities, import of an
 * ipsec.conf conn into an NMConnection, export back to the same section
 * (no secret in the file), a refused file with its FILE:LINE. */
#include <NetworkManager.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define PLUTO_SERVICE "org.freedesktop.NetworkManager.pluto"

static NMVpnEditorPlugin *plugin;
static char *tmp_dir;

static char *data_path(const char *name)
{
	return g_build_filename(g_getenv("SRCDIR"), "tests", "data", "nm", name, NULL);
}

static void test_properties(void)
{
	g_autofree char *name = NULL, *desc = NULL, *service = NULL;
	g_object_get(plugin, NM_VPN_EDITOR_PLUGIN_NAME, &name, NM_VPN_EDITOR_PLUGIN_DESCRIPTION, &desc,
		     NM_VPN_EDITOR_PLUGIN_SERVICE, &service, NULL);
	g_assert_cmpstr(name, ==, "pluto");
	g_assert_cmpstr(service, ==, PLUTO_SERVICE);
	g_assert_nonnull(strstr(desc, "ipsec.conf"));
	g_assert_cmpuint(nm_vpn_editor_plugin_get_capabilities(plugin), ==,
			 NM_VPN_EDITOR_PLUGIN_CAPABILITY_IMPORT | NM_VPN_EDITOR_PLUGIN_CAPABILITY_EXPORT);
	/* no GTK page is built: a clear error, not a crash */
	g_autoptr(GError) err = NULL;
	g_assert_null(nm_vpn_editor_plugin_get_editor(plugin, NULL, &err));
	g_assert_nonnull(err);
	g_assert_nonnull(strstr(err->message, "no graphical editor page"));
}

static void test_import_export(void)
{
	g_autofree char *path = data_path("roadwarrior.conf");
	g_autofree char *expected_path = data_path("roadwarrior.expected");
	g_autoptr(GError) err = NULL;
	g_autoptr(NMConnection) conn = nm_vpn_editor_plugin_import(plugin, path, &err);
	g_assert_no_error(err);
	g_assert_nonnull(conn);
	g_assert_cmpstr(nm_connection_get_id(conn), ==, "office");
	g_assert_cmpuint(strlen(nm_connection_get_uuid(conn)), ==, 36);
	g_assert_cmpstr(nm_connection_get_connection_type(conn), ==, NM_SETTING_VPN_SETTING_NAME);
	NMSettingVpn *s_vpn = nm_connection_get_setting_vpn(conn);
	g_assert_nonnull(s_vpn);
	g_assert_cmpstr(nm_setting_vpn_get_service_type(s_vpn), ==, PLUTO_SERVICE);
	g_assert_cmpuint(nm_setting_vpn_get_num_data_items(s_vpn), ==, 13);
	g_assert_cmpstr(nm_setting_vpn_get_data_item(s_vpn, "right"), ==, "192.0.2.1");
	g_assert_cmpstr(nm_setting_vpn_get_data_item(s_vpn, "leftusername"), ==, "alice");
	g_assert_cmpstr(nm_setting_vpn_get_data_item(s_vpn, "leftupdown"), ==, "/etc/ipsec.d/office-updown --verbose");
	g_assert_cmpstr(nm_setting_vpn_get_data_item(s_vpn, "ikelifetime"), ==, "1h");
	g_assert_null(nm_setting_vpn_get_data_item(s_vpn, "auto"));
	/* what NetworkManager does with it when adding: it normalizes */
	g_assert_true(nm_connection_normalize(conn, NULL, NULL, &err));
	g_assert_no_error(err);

	g_autofree char *suggested = nm_vpn_editor_plugin_get_suggested_filename(plugin, conn);
	g_assert_cmpstr(suggested, ==, "office.conf");

	/* secrets NetworkManager holds stay out of the file */
	nm_setting_vpn_add_secret(s_vpn, "pskvalue", "not-in-the-file");
	nm_setting_vpn_add_data_item(s_vpn, "pskvalue-flags", "0");
	g_autofree char *out = g_build_filename(tmp_dir, suggested, NULL);
	g_assert_true(nm_vpn_editor_plugin_export(plugin, out, conn, &err));
	g_assert_no_error(err);
	g_autofree char *got = NULL, *expected = NULL;
	g_assert_true(g_file_get_contents(out, &got, NULL, NULL));
	g_assert_true(g_file_get_contents(expected_path, &expected, NULL, NULL));
	g_assert_cmpstr(got, ==, expected);
	g_assert_null(strstr(got, "not-in-the-file"));

	/* and the exported file imports to the same data */
	g_autoptr(NMConnection) again = nm_vpn_editor_plugin_import(plugin, out, &err);
	g_assert_no_error(err);
	NMSettingVpn *s_again = nm_connection_get_setting_vpn(again);
	g_assert_cmpuint(nm_setting_vpn_get_num_data_items(s_again), ==, 13);
	guint n = 0;
	g_autofree const char **keys = nm_setting_vpn_get_data_keys(s_again, &n);
	for (guint i = 0; i < n; i++)
		g_assert_cmpstr(nm_setting_vpn_get_data_item(s_again, keys[i]), ==,
				nm_setting_vpn_get_data_item(s_vpn, keys[i]));
	g_unlink(out);
}

static void test_refused(void)
{
	g_autofree char *bad = data_path("bad-keyword.conf");
	g_autoptr(GError) err = NULL;
	g_assert_null(nm_vpn_editor_plugin_import(plugin, bad, &err));
	g_assert_nonnull(err);
	g_autofree char *want = g_strdup_printf("%s:5: unknown keyword 'rightsubnett'", bad);
	g_assert_cmpstr(err->message, ==, want);

	/* a connection whose id cannot be a conn name, and one of another VPN */
	g_autoptr(NMConnection) conn = nm_simple_connection_new();
	NMSetting *s_con = nm_setting_connection_new();
	g_object_set(s_con, NM_SETTING_CONNECTION_ID, "my vpn", NULL);
	nm_connection_add_setting(conn, s_con);
	NMSetting *s_vpn = nm_setting_vpn_new();
	g_object_set(s_vpn, NM_SETTING_VPN_SERVICE_TYPE, PLUTO_SERVICE, NULL);
	nm_setting_vpn_add_data_item(NM_SETTING_VPN(s_vpn), "right", "192.0.2.1");
	nm_connection_add_setting(conn, s_vpn);
	g_autofree char *out = g_build_filename(tmp_dir, "refused.conf", NULL);
	g_clear_error(&err);
	g_assert_false(nm_vpn_editor_plugin_export(plugin, out, conn, &err));
	g_assert_nonnull(strstr(err->message, "'my vpn' is not a conn name"));
	g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
	g_object_set(s_con, NM_SETTING_CONNECTION_ID, "other", NULL);
	g_object_set(s_vpn, NM_SETTING_VPN_SERVICE_TYPE, "org.freedesktop.NetworkManager.openvpn", NULL);
	g_clear_error(&err);
	g_assert_false(nm_vpn_editor_plugin_export(plugin, out, conn, &err));
	g_assert_nonnull(strstr(err->message, "is not a pluto VPN"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	const char *so = g_getenv("NM_EDITOR_PLUGIN");
	g_assert_nonnull(so);
	g_autoptr(GError) err = NULL;
	/* as nmcli loads it: the service must match, the file owned by us or root */
	plugin = nm_vpn_editor_plugin_load_from_file(so, PLUTO_SERVICE, (int)getuid(), NULL, NULL, &err);
	g_assert_no_error(err);
	g_assert_nonnull(plugin);
	tmp_dir = g_dir_make_tmp("nm-editor-plugin-XXXXXX", NULL);
	g_assert_nonnull(tmp_dir);
	g_test_add_func("/nm-editor-plugin/properties", test_properties);
	g_test_add_func("/nm-editor-plugin/import-export", test_import_export);
	g_test_add_func("/nm-editor-plugin/refused", test_refused);
	int r = g_test_run();
	g_rmdir(tmp_dir);
	g_free(tmp_dir);
	g_object_unref(plugin);
	return r;
}
