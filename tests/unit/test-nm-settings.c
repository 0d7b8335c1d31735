/* clients/nm/nm-settings.c: NetworkManager's vpn.data / vpn.secrets ->
 * the pluto connection nm-pluto-service adds and the secrets it hands
 * over, NeedSecrets' answer, and the errors naming the bad key. */
#include <glib.h>
#include <string.h>

#include "nm-settings.h"

#define UUID "0b7c4a56-5d0f-4a8e-9d35-6a1f3e2b9c10"
#define PSK "grp psk 31337"
#define PW "alice-Pw-7f3e"

#define KV(...) ((const struct nmp_kv[]){ __VA_ARGS__ })
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct nmp_kv ra_data[] = {
	{ "right", "192.0.2.1" }, { "rightsubnet", "10.2.0.0/16" },
	{ "leftxauthclient", "yes" }, { "leftmodecfgclient", "yes" }, { "leftusername", "alice" },
	{ "rightxauthserver", "yes" }, { "rightmodecfgserver", "yes" },
};
static const struct nmp_kv both_secrets[] = { { "pskvalue", PSK }, { "xauthpassword", PW } };

static int translate(const struct nmp_kv *data, size_t n_data, const struct nmp_kv *secrets, size_t n_secrets,
		     const char *user, struct nmp_request *req, char *err)
{
	struct nmp_input in = { .uuid = UUID, .user_name = user, .data = data, .n_data = n_data,
				.secrets = secrets, .n_secrets = n_secrets };
	return nmp_settings_translate(&in, req, err, 512);
}

static const char *opt(const struct nmp_request *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->keys[i], key) == 0)
			return r->values[i];
	return NULL;
}

/* data with one extra key=value must fail naming what */
static void expect_error(const struct nmp_kv *extra, size_t n_extra, const char *want)
{
	struct nmp_kv data[32];
	size_t n = 0;
	for (size_t i = 0; i < N(ra_data); i++)
		data[n++] = ra_data[i];
	for (size_t i = 0; i < n_extra; i++)
		data[n++] = extra[i];
	struct nmp_request req;
	char err[512] = "";
	g_assert_cmpint(translate(data, n, both_secrets, N(both_secrets), NULL, &req, err), ==, -1);
	if (!strstr(err, want))
		g_error("error \"%s\" does not say \"%s\"", err, want);
	/* a secret never appears in a message */
	g_assert_null(strstr(err, PSK));
	g_assert_null(strstr(err, PW));
	g_assert_null(req.name);
}

static void test_remote_access(void)
{
	struct nmp_request req;
	char err[512] = "";
	g_assert_cmpint(translate(ra_data, N(ra_data), both_secrets, N(both_secrets), NULL, &req, err), ==, 0);
	g_assert_cmpstr(req.name, ==, "nm-" UUID);
	g_assert_cmpstr(opt(&req, "left"), ==, "%defaultroute");   /* the default */
	g_assert_cmpstr(opt(&req, "right"), ==, "192.0.2.1");
	g_assert_cmpstr(opt(&req, "rightsubnet"), ==, "10.2.0.0/16");
	g_assert_cmpstr(req.right, ==, "192.0.2.1");
	g_assert_cmpstr(req.rightsubnet, ==, "10.2.0.0/16");
	g_assert_true(req.modecfg);
	/* the secrets are not options */
	g_assert_null(opt(&req, "pskvalue"));
	g_assert_null(opt(&req, "xauthpassword"));
	const struct nmp_secret *psk = &req.secret[NMP_SECRET_PSK], *xa = &req.secret[NMP_SECRET_XAUTH];
	g_assert_true(psk->wanted);
	g_assert_cmpstr(psk->kind, ==, "psk");
	g_assert_cmpstr(psk->value, ==, PSK);
	g_assert_cmpuint(psk->n_ids, ==, 1);
	g_assert_cmpstr(psk->ids[0], ==, "192.0.2.1");   /* the peer as pluto names it */
	g_assert_true(xa->wanted);
	g_assert_cmpstr(xa->kind, ==, "xauth");
	g_assert_cmpstr(xa->value, ==, PW);
	g_assert_cmpuint(xa->n_ids, ==, 1);
	g_assert_cmpstr(xa->ids[0], ==, "alice");
	g_assert_cmpstr(nmp_settings_need_secrets(&req), ==, "");
	nmp_request_free(&req);
	g_assert_null(req.name);
}

static void test_site_to_site(void)
{
	struct nmp_request req;
	char err[512] = "";
	const struct nmp_kv *data = KV({ "left", "192.0.2.2" }, { "right", "192.0.2.1" },
				      { "leftid", "@client" }, { "rightid", "@gw" },
				      { "leftsubnet", "10.1.0.0/24" }, { "rightsubnet", "10.2.0.0/16" },
				      { "authby", "secret" });
	g_assert_cmpint(translate(data, 7, both_secrets, 1, NULL, &req, err), ==, 0);
	g_assert_cmpstr(opt(&req, "left"), ==, "192.0.2.2");
	g_assert_false(req.modecfg);
	const struct nmp_secret *psk = &req.secret[NMP_SECRET_PSK];
	g_assert_cmpuint(psk->n_ids, ==, 2);   /* both ids when both are given */
	g_assert_cmpstr(psk->ids[0], ==, "@client");
	g_assert_cmpstr(psk->ids[1], ==, "@gw");
	g_assert_false(req.secret[NMP_SECRET_XAUTH].wanted);
	g_assert_cmpstr(nmp_settings_need_secrets(&req), ==, "");
	nmp_request_free(&req);

	/* auto=add (an imported conn section): passed on */
	data = KV({ "right", "192.0.2.1" }, { "auto", "add" });
	g_assert_cmpint(translate(data, 2, both_secrets, 1, NULL, &req, err), ==, 0);
	g_assert_cmpstr(opt(&req, "auto"), ==, "add");
	nmp_request_free(&req);

	/* RSA only: no PSK wanted, none asked */
	data = KV({ "right", "192.0.2.1" }, { "authby", "rsasig" }, { "rightrsasigkey", "%file:/nonexistent.pem" });
	g_assert_cmpint(translate(data, 2, NULL, 0, NULL, &req, err), ==, 0);
	g_assert_false(req.secret[NMP_SECRET_PSK].wanted);
	g_assert_cmpstr(nmp_settings_need_secrets(&req), ==, "");
	nmp_request_free(&req);
}

static void test_user_name(void)
{
	struct nmp_request req;
	char err[512] = "";
	/* no leftusername: the connection's vpn.user-name */
	const struct nmp_kv *data = KV({ "right", "192.0.2.1" }, { "leftxauthclient", "yes" },
				      { "rightxauthserver", "yes" });
	if (translate(data, 3, both_secrets, 2, "bob", &req, err) < 0)
		g_error("%s", err);
	g_assert_cmpstr(opt(&req, "leftusername"), ==, "bob");
	g_assert_cmpstr(req.secret[NMP_SECRET_XAUTH].ids[0], ==, "bob");
	nmp_request_free(&req);
	/* pluto's parser checks the whole: its message comes through */
	data = KV({ "right", "192.0.2.1" }, { "leftxauthclient", "yes" }, { "leftusername", "bob" });
	g_assert_cmpint(translate(data, 3, both_secrets, 2, NULL, &req, err), ==, -1);
	g_assert_nonnull(strstr(err, "rightxauthserver=yes"));
	/* neither: refused, naming the key */
	data = KV({ "right", "192.0.2.1" }, { "leftxauthclient", "yes" }, { "rightxauthserver", "yes" });
	g_assert_cmpint(translate(data, 3, both_secrets, 2, NULL, &req, err), ==, -1);
	g_assert_nonnull(strstr(err, "leftusername"));
}

static void test_errors(void)
{
	expect_error(KV({ "lefty", "1" }), 1, "unknown key \"lefty\"");
	expect_error(KV({ "auto", "start" }), 1, "\"auto\"");
	expect_error(KV({ "auto", "route" }), 1, "only auto=add");
	expect_error(KV({ "also", "other" }), 1, "unknown key \"also\"");
	expect_error(KV({ "pskvalue", PSK }), 1, "\"pskvalue\" is a secret");
	expect_error(KV({ "pfs", "maybe" }), 1, "pfs");
	expect_error(KV({ "ike", "rot13-md5-modp1" }), 1, "ike");
	expect_error(KV({ "pskvalue-flags", "8" }), 1, "pskvalue-flags=\"8\"");
	expect_error(KV({ "xauthpassword-flags", "agent" }), 1, "xauthpassword-flags");
	expect_error(KV({ "rightsubnet", "10.3.0.0/16" }), 1, "\"rightsubnet\" given twice");

	struct nmp_request req;
	char err[512] = "";
	/* the gateway: missing, not an address */
	g_assert_cmpint(translate(KV({ "leftid", "@me" }), 1, NULL, 0, NULL, &req, err), ==, -1);
	g_assert_nonnull(strstr(err, "\"right\""));
	g_assert_cmpint(translate(KV({ "right", "%any" }), 1, NULL, 0, NULL, &req, err), ==, -1);
	g_assert_nonnull(strstr(err, "right=\"%any\" is not an IP address"));
	g_assert_cmpint(translate(KV({ "right", "vpn.example.com" }), 1, NULL, 0, NULL, &req, err), ==, -1);
	g_assert_nonnull(strstr(err, "vpn.example.com"));
	/* no uuid */
	struct nmp_input in = { .data = ra_data, .n_data = N(ra_data) };
	g_assert_cmpint(nmp_settings_translate(&in, &req, err, sizeof(err)), ==, -1);
	g_assert_nonnull(strstr(err, "uuid"));
}

/* NeedSecrets and the hints of SecretsRequired, by the secrets' flags */
static void test_flags(void)
{
	static const struct {
		const char *psk_flags, *xauth_flags;
		bool with_psk, with_pw;
		const char *need;          /* NeedSecrets' answer */
		const char *hints;         /* SecretsRequired's hints, joined */
	} cases[] = {
		{ NULL, NULL, true, true, "", "" },
		{ NULL, NULL, false, true, "vpn", "pskvalue" },          /* system-owned, missing: ask NM */
		{ NULL, NULL, true, false, "vpn", "xauthpassword" },
		{ "0", "1", true, false, "", "xauthpassword" },          /* agent-owned: asked interactively */
		{ "0", "2", true, false, "", "xauthpassword" },          /* not saved: the same */
		{ "0", "3", true, false, "", "xauthpassword" },
		{ "4", "0", false, true, "", "" },                       /* not required: ipsec.secrets has it */
		{ "4", "6", false, false, "", "" },
		{ "1", "2", false, false, "", "pskvalue,xauthpassword" },
		{ "1", "0", false, false, "vpn", "pskvalue,xauthpassword" },
	};
	for (size_t c = 0; c < N(cases); c++) {
		struct nmp_kv data[16], secrets[2];
		size_t n = 0, ns = 0;
		for (size_t i = 0; i < N(ra_data); i++)
			data[n++] = ra_data[i];
		if (cases[c].psk_flags)
			data[n++] = (struct nmp_kv){ "pskvalue-flags", cases[c].psk_flags };
		if (cases[c].xauth_flags)
			data[n++] = (struct nmp_kv){ "xauthpassword-flags", cases[c].xauth_flags };
		if (cases[c].with_psk)
			secrets[ns++] = both_secrets[0];
		if (cases[c].with_pw)
			secrets[ns++] = both_secrets[1];
		struct nmp_request req;
		char err[512] = "";
		if (translate(data, n, secrets, ns, NULL, &req, err) < 0)
			g_error("case %zu: %s", c, err);
		g_assert_cmpstr(nmp_settings_need_secrets(&req), ==, cases[c].need);
		const char *hints[NMP_SECRET_COUNT + 1];
		size_t nh = nmp_settings_missing_hints(&req, hints);
		g_assert_null(hints[nh]);
		g_autofree char *joined = g_strjoinv(",", (char **)hints);
		if (strcmp(joined, cases[c].hints) != 0)
			g_error("case %zu: hints \"%s\", expected \"%s\"", c, joined, cases[c].hints);
		/* NewSecrets brings what was missing */
		nmp_settings_merge_secrets(&req, both_secrets, 2);
		g_assert_cmpuint(nmp_settings_missing_hints(&req, hints), ==, 0);
		g_assert_cmpstr(nmp_settings_need_secrets(&req), ==, "");
		nmp_request_free(&req);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/nm-settings/remote-access", test_remote_access);
	g_test_add_func("/nm-settings/site-to-site", test_site_to_site);
	g_test_add_func("/nm-settings/user-name", test_user_name);
	g_test_add_func("/nm-settings/errors", test_errors);
	g_test_add_func("/nm-settings/flags", test_flags);
	return g_test_run();
}
