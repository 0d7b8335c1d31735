/* Mode Config address pools (addresspool.h): leases, one per identity,
 * the same address for a returning identity, exhaustion, release, pools
 * shared between connections, overlap refused, IPv6. */
#include <glib.h>
#include <string.h>

#include "common/ip.h"
#include "daemon/addresspool.h"

static void range(const char *text, ip_address *first, ip_address *last)
{
	const char *why = NULL;
	if (!address_range_parse(text, first, last, &why))
		g_error("%s: %s", text, why);
}

static struct address_pool *get(const char *text)
{
	ip_address first, last;
	struct ctl_error err = { 0 };
	range(text, &first, &last);
	struct address_pool *p = address_pool_get(&first, &last, &err);
	if (!p)
		g_error("%s: %s", text, err.message);
	return p;
}

static const char *lease(struct address_pool *p, const char *who, char buf[IP_STR_MAX])
{
	ip_address a;
	struct ctl_error err = { 0 };
	if (address_pool_lease(p, who, &a, &err) < 0)
		g_error("lease for %s: %s", who, err.message);
	return ip_str(&a, buf);
}

static void test_leases(void)
{
	struct address_pool *p = get("10.8.0.10-10.8.0.12");
	char buf[IP_STR_MAX], name[64];
	g_assert_cmpuint(address_pool_size(p), ==, 3);
	g_assert_cmpstr(address_pool_str(p, name, sizeof(name)), ==, "10.8.0.10-10.8.0.12");
	g_assert_cmpstr(lease(p, "alice", buf), ==, "10.8.0.10");
	g_assert_cmpstr(lease(p, "bob", buf), ==, "10.8.0.11");
	/* one lease per identity: asking again gives the same one */
	g_assert_cmpstr(lease(p, "alice", buf), ==, "10.8.0.10");
	g_assert_cmpuint(address_pool_in_use(p), ==, 2);
	address_pool_put(p);
}

static void test_reuse_and_release(void)
{
	struct address_pool *p = get("10.9.0.0/29");   /* .1 - .6 */
	char buf[IP_STR_MAX];
	g_assert_cmpuint(address_pool_size(p), ==, 6);
	g_assert_cmpstr(lease(p, "alice", buf), ==, "10.9.0.1");
	g_assert_cmpstr(lease(p, "bob", buf), ==, "10.9.0.2");
	g_assert_cmpstr(lease(p, "carol", buf), ==, "10.9.0.3");
	address_pool_release(p, "bob");
	g_assert_cmpuint(address_pool_in_use(p), ==, 2);
	/* bob comes back: his address is still free, he gets it */
	g_assert_cmpstr(lease(p, "bob", buf), ==, "10.9.0.2");
	/* alice leaves, dave takes the lowest free (alice's), alice then
	 * gets the lowest free instead */
	address_pool_release(p, "alice");
	g_assert_cmpstr(lease(p, "dave", buf), ==, "10.9.0.1");
	g_assert_cmpstr(lease(p, "alice", buf), ==, "10.9.0.4");
	/* releasing twice or an unknown identity changes nothing */
	address_pool_release(p, "alice");
	address_pool_release(p, "alice");
	address_pool_release(p, "nobody");
	g_assert_cmpuint(address_pool_in_use(p), ==, 3);
	address_pool_put(p);
}

static void test_exhaustion(void)
{
	struct address_pool *p = get("10.10.0.1-10.10.0.2");
	char buf[IP_STR_MAX];
	ip_address a;
	struct ctl_error err = { 0 };
	lease(p, "a", buf);
	lease(p, "b", buf);
	g_assert_cmpint(address_pool_lease(p, "c", &a, &err), ==, -1);
	g_assert_cmpint(err.code, ==, PE_INTERNAL);
	g_assert_cmpstr(err.message, ==, "address pool 10.10.0.1-10.10.0.2 is exhausted");
	/* a holder asking again still gets its own */
	g_assert_cmpstr(lease(p, "a", buf), ==, "10.10.0.1");
	address_pool_release(p, "b");
	g_assert_cmpstr(lease(p, "c", buf), ==, "10.10.0.2");
	address_pool_put(p);
}

/* Two connections naming one range share one pool: no address twice. */
static void test_shared(void)
{
	struct address_pool *p1 = get("10.11.0.1-10.11.0.9");
	struct address_pool *p2 = get("10.11.0.1-10.11.0.9");
	char buf[IP_STR_MAX];
	g_assert_true(p1 == p2);
	g_assert_cmpstr(lease(p1, "alice", buf), ==, "10.11.0.1");
	g_assert_cmpstr(lease(p2, "bob", buf), ==, "10.11.0.2");
	g_assert_cmpstr(lease(p2, "alice", buf), ==, "10.11.0.1");
	/* one connection goes: the pool and its leases stay for the other */
	address_pool_put(p1);
	g_assert_cmpuint(address_pool_in_use(p2), ==, 2);
	g_assert_cmpstr(lease(p2, "carol", buf), ==, "10.11.0.3");
	address_pool_put(p2);
	/* the last one gone, the range is new again */
	struct address_pool *p3 = get("10.11.0.1-10.11.0.9");
	g_assert_cmpuint(address_pool_in_use(p3), ==, 0);
	g_assert_cmpstr(lease(p3, "carol", buf), ==, "10.11.0.1");
	address_pool_put(p3);
}

static void test_overlap_refused(void)
{
	struct address_pool *p = get("10.12.0.10-10.12.0.20");
	static const char *const overlapping[] = {
		"10.12.0.20-10.12.0.30", "10.12.0.0-10.12.0.10", "10.12.0.15-10.12.0.16",
		"10.12.0.0/24",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(overlapping); i++) {
		ip_address first, last;
		struct ctl_error err = { 0 };
		range(overlapping[i], &first, &last);
		g_assert_null(address_pool_get(&first, &last, &err));
		g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);
		g_assert_nonnull(strstr(err.message, "overlaps pool 10.12.0.10-10.12.0.20"));
	}
	/* adjacent is fine */
	struct address_pool *q = get("10.12.0.21-10.12.0.30");
	address_pool_put(q);
	address_pool_put(p);
}

static void test_bad_ranges(void)
{
	static const struct { const char *a, *b, *expect; } cases[] = {
		{ "10.0.0.9", "10.0.0.1", "first address is above its last" },
		{ "10.0.0.1", "2001:db8::1", "different address families" },
		{ "10.0.0.0", "10.16.0.0", "at most 1048576" },
		{ "2001:db8::", "2001:db8::10:0", "at most 1048576" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		ip_address first, last;
		struct ctl_error err = { 0 };
		g_assert_true(ip_parse(cases[i].a, &first));
		g_assert_true(ip_parse(cases[i].b, &last));
		g_assert_null(address_pool_get(&first, &last, &err));
		g_assert_nonnull(strstr(err.message, cases[i].expect));
	}
	/* exactly 2^20 is accepted */
	struct address_pool *p = get("10.32.0.0-10.47.255.255");
	g_assert_cmpuint(address_pool_size(p), ==, 1u << 20);
	char buf[IP_STR_MAX];
	g_assert_cmpstr(lease(p, "x", buf), ==, "10.32.0.0");
	address_pool_put(p);
}

static void test_v6(void)
{
	struct address_pool *p = get("2001:db8:8::/126");   /* ::1 - ::3 */
	char buf[IP_STR_MAX], name[128];
	ip_address a;
	struct ctl_error err = { 0 };
	g_assert_cmpuint(address_pool_size(p), ==, 3);
	g_assert_cmpstr(address_pool_str(p, name, sizeof(name)), ==, "2001:db8:8::1-2001:db8:8::3");
	g_assert_cmpstr(lease(p, "alice", buf), ==, "2001:db8:8::1");
	g_assert_cmpstr(lease(p, "bob", buf), ==, "2001:db8:8::2");
	g_assert_cmpstr(lease(p, "carol", buf), ==, "2001:db8:8::3");
	g_assert_cmpint(address_pool_lease(p, "dave", &a, &err), ==, -1);
	address_pool_release(p, "bob");
	g_assert_cmpstr(lease(p, "bob", buf), ==, "2001:db8:8::2");
	/* a v4 pool with the same numbers is another pool */
	struct address_pool *v4 = get("0.0.0.1-0.0.0.3");
	g_assert_true(v4 != p);
	address_pool_put(v4);
	address_pool_put(p);
	/* a range crossing a 32-bit boundary inside the address */
	p = get("2001:db8::ffff:fffe-2001:db8::1:0:1");
	g_assert_cmpuint(address_pool_size(p), ==, 4);
	g_assert_cmpstr(lease(p, "a", buf), ==, "2001:db8::ffff:fffe");
	g_assert_cmpstr(lease(p, "b", buf), ==, "2001:db8::ffff:ffff");
	g_assert_cmpstr(lease(p, "c", buf), ==, "2001:db8::1:0:0");
	address_pool_put(p);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/addresspool/leases", test_leases);
	g_test_add_func("/addresspool/reuse-and-release", test_reuse_and_release);
	g_test_add_func("/addresspool/exhaustion", test_exhaustion);
	g_test_add_func("/addresspool/shared", test_shared);
	g_test_add_func("/addresspool/overlap-refused", test_overlap_refused);
	g_test_add_func("/addresspool/bad-ranges", test_bad_ranges);
	g_test_add_func("/addresspool/v6", test_v6);
	return g_test_run();
}
