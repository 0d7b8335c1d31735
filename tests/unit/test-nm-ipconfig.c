/* clients/nm/nm-ipconfig.c: pluto's facts about an established connection
 * -> what nm-pluto-service tells NetworkManager (Config, Ip4Config,
 * Ip6Config): Mode Config's address, DNS, domains, split include and
 * banner, or the local address and rightsubnet without Mode Config. */
#include <glib.h>
#include <string.h>

#include "nm-ipconfig.h"

#define STRV(...) ((const char *const[]){ __VA_ARGS__ })

static const char *addr(const ip_address *a)
{
	static char buf[4][IP_STR_MAX];
	static int i;
	return ip_str(a, buf[i++ % 4]);
}

static const char *net(const ip_subnet *s)
{
	static char buf[4][IP_STR_MAX];
	static int i;
	return subnet_str(s, buf[i++ % 4]);
}

static void test_mode_config(void)
{
	struct nmp_facts f = {
		.gateway = "192.0.2.1",
		.virtual_address = "10.9.0.1/32",
		.dns = STRV("10.2.0.53", "10.2.0.54"), .n_dns = 2,
		.domains = STRV("corp.example", "lab.example"), .n_domains = 2,
		.banner = "Authorised users only",
		.rightsubnet = "10.2.0.0/16",
	};
	struct nmp_ipconfig c;
	char err[256] = "";
	g_assert_cmpint(nmp_ipconfig_build(&f, &c, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(addr(&c.gateway), ==, "192.0.2.1");
	g_assert_cmpstr(c.banner, ==, "Authorised users only");
	g_assert_true(c.ip4.present);
	g_assert_false(c.ip6.present);
	g_assert_cmpstr(addr(&c.ip4.address), ==, "10.9.0.1");
	g_assert_cmpuint(c.ip4.prefix, ==, 32);
	g_assert_cmpuint(c.ip4.n_dns, ==, 2);
	g_assert_cmpstr(addr(&c.ip4.dns[1]), ==, "10.2.0.54");
	g_assert_true(c.ip4.domains);
	g_assert_cmpuint(c.n_domains, ==, 2);
	g_assert_cmpuint(c.ip4.n_routes, ==, 1);
	g_assert_cmpstr(net(&c.ip4.routes[0]), ==, "10.2.0.0/16");
	g_assert_true(c.ip4.never_default);

	/* the gateway's split include wins over rightsubnet */
	f.split_include = STRV("10.2.0.0/24", "172.16.0.0/12");
	f.n_split = 2;
	g_assert_cmpint(nmp_ipconfig_build(&f, &c, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(c.ip4.n_routes, ==, 2);
	g_assert_cmpstr(net(&c.ip4.routes[1]), ==, "172.16.0.0/12");

	/* everything through the tunnel: the default route, no 0/0 route */
	f.split_include = STRV("0.0.0.0/0");
	f.n_split = 1;
	g_assert_cmpint(nmp_ipconfig_build(&f, &c, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(c.ip4.n_routes, ==, 0);
	g_assert_false(c.ip4.never_default);

	/* no banner: none told */
	f.banner = "";
	g_assert_cmpint(nmp_ipconfig_build(&f, &c, err, sizeof(err)), ==, 0);
	g_assert_null(c.banner);
}

static void test_site_to_site(void)
{
	struct nmp_facts f = { .gateway = "192.0.2.1", .local = "192.0.2.2", .virtual_address = "",
			       .rightsubnet = "10.2.0.0/16" };
	struct nmp_ipconfig c;
	char err[256] = "";
	g_assert_cmpint(nmp_ipconfig_build(&f, &c, err, sizeof(err)), ==, 0);
	g_assert_true(c.ip4.present);
	g_assert_cmpstr(addr(&c.ip4.address), ==, "192.0.2.2");
	g_assert_cmpuint(c.ip4.prefix, ==, 32);
	g_assert_cmpuint(c.ip4.n_dns, ==, 0);
	g_assert_cmpuint(c.ip4.n_routes, ==, 1);
	g_assert_cmpstr(net(&c.ip4.routes[0]), ==, "10.2.0.0/16");
	g_assert_true(c.ip4.never_default);
	g_assert_null(c.banner);

	/* host to host: no routes, still never the default route */
	f.rightsubnet = NULL;
	g_assert_cmpint(nmp_ipconfig_build(&f, &c, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(c.ip4.n_routes, ==, 0);
	g_assert_true(c.ip4.never_default);

	/* IPv6 outside and inside */
	f = (struct nmp_facts){ .gateway = "2001:db8::1", .local = "2001:db8::2", .rightsubnet = "2001:db8:2::/48" };
	g_assert_cmpint(nmp_ipconfig_build(&f, &c, err, sizeof(err)), ==, 0);
	g_assert_false(c.ip4.present);
	g_assert_true(c.ip6.present);
	g_assert_cmpuint(c.ip6.prefix, ==, 128);
	g_assert_cmpstr(net(&c.ip6.routes[0]), ==, "2001:db8:2::/48");
	g_assert_cmpint(c.gateway.family, ==, AF_INET6);
}

/* an IPv6 pool over IPv4 IKE: Ip6Config only, its DNS the IPv6 ones */
static void test_v6_inside_v4(void)
{
	struct nmp_facts f = {
		.gateway = "192.0.2.1",
		.virtual_address = "2001:db8:9::5/128",
		.dns = STRV("10.2.0.53", "2001:db8:2::53"), .n_dns = 2,
		.domains = STRV("corp.example"), .n_domains = 1,
		.split_include = STRV("2001:db8:2::/48", "10.2.0.0/16"), .n_split = 2,
	};
	struct nmp_ipconfig c;
	char err[256] = "";
	g_assert_cmpint(nmp_ipconfig_build(&f, &c, err, sizeof(err)), ==, 0);
	g_assert_cmpint(c.gateway.family, ==, AF_INET);
	g_assert_false(c.ip4.present);
	g_assert_true(c.ip6.present);
	g_assert_cmpstr(addr(&c.ip6.address), ==, "2001:db8:9::5");
	g_assert_cmpuint(c.ip6.prefix, ==, 128);
	g_assert_cmpuint(c.ip6.n_dns, ==, 1);
	g_assert_cmpstr(addr(&c.ip6.dns[0]), ==, "2001:db8:2::53");
	g_assert_cmpuint(c.ip6.n_routes, ==, 1);   /* the IPv4 one has no IPv4 address to go with */
	g_assert_true(c.ip6.domains);
}

static void expect_error(const struct nmp_facts *f, const char *want)
{
	struct nmp_ipconfig c;
	char err[256] = "";
	g_assert_cmpint(nmp_ipconfig_build(f, &c, err, sizeof(err)), ==, -1);
	if (!strstr(err, want))
		g_error("error \"%s\" does not say \"%s\"", err, want);
}

static void test_errors(void)
{
	expect_error(&(struct nmp_facts){ .gateway = "gw.example", .local = "192.0.2.2" }, "gateway \"gw.example\"");
	expect_error(&(struct nmp_facts){ .gateway = "192.0.2.1" }, "no inner address");
	expect_error(&(struct nmp_facts){ .gateway = "192.0.2.1", .virtual_address = "10.9.0.1/33" },
		     "Mode Config address \"10.9.0.1/33\"");
	expect_error(&(struct nmp_facts){ .gateway = "192.0.2.1", .virtual_address = "10.9.0.1/0" }, "10.9.0.1/0");
	expect_error(&(struct nmp_facts){ .gateway = "192.0.2.1", .local = "192.0.2.2", .rightsubnet = "10.2.0.1/16" },
		     "route \"10.2.0.1/16\"");
	expect_error(&(struct nmp_facts){ .gateway = "192.0.2.1", .virtual_address = "10.9.0.1/32",
					  .dns = STRV("dns.example"), .n_dns = 1 },
		     "DNS server \"dns.example\"");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/nm-ipconfig/mode-config", test_mode_config);
	g_test_add_func("/nm-ipconfig/site-to-site", test_site_to_site);
	g_test_add_func("/nm-ipconfig/v6-inside-v4", test_v6_inside_v4);
	g_test_add_func("/nm-ipconfig/errors", test_errors);
	return g_test_run();
}
