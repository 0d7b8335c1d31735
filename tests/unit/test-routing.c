/* The man page's routing rules as pure functions (klips/route_rules.c):
 * route conflicts (same peer client, another interface or nexthop),
 * eroute conflicts (identical local and remote clients), who is taken
 * down and who blocks, the responder's road-warrior exception, the
 * subnet test used to match ACQUIREs, and eroute priorities; plus the
 * kernel algorithm names the xfrm backend installs. */
#include <glib.h>
#include <string.h>

#include "klips/kernel.h"
#include "klips/route_rules.h"

static ip_address addr(const char *s)
{
	ip_address a;
	g_assert_true(ip_parse(s, &a));
	return a;
}

static ip_subnet net(const char *s)
{
	ip_subnet n;
	const char *why = NULL;
	g_assert_true(subnet_parse(s, &n, &why));
	return n;
}

/* a routed view: our host, nexthop, clients */
static struct route_view view(const char *iface, const char *nexthop, const char *ours, const char *theirs)
{
	struct route_view v;
	memset(&v, 0, sizeof(v));
	v.interface = addr(iface);
	v.nexthop = addr(nexthop);
	v.our_client = net(ours);
	v.peer_client = net(theirs);
	v.routed = true;
	return v;
}

static void test_route_conflicts(void)
{
	struct route_view a = view("192.0.2.1", "192.0.2.254", "10.1.0.0/24", "10.2.0.0/24");
	struct route_view same = view("192.0.2.1", "192.0.2.254", "10.1.1.0/24", "10.2.0.0/24");
	struct route_view other_hop = view("192.0.2.1", "192.0.2.253", "10.1.1.0/24", "10.2.0.0/24");
	struct route_view other_if = view("198.51.100.1", "192.0.2.254", "10.1.1.0/24", "10.2.0.0/24");
	struct route_view other_peer = view("198.51.100.1", "192.0.2.253", "10.1.0.0/24", "10.3.0.0/24");
	g_assert_false(route_conflicts(&a, &same));          /* a shared route is left in place */
	g_assert_true(route_conflicts(&a, &other_hop));
	g_assert_true(route_conflicts(&a, &other_if));
	g_assert_false(route_conflicts(&a, &other_peer));    /* another peer client */
	other_hop.routed = false;
	g_assert_false(route_conflicts(&a, &other_hop));     /* only routed connections count */
}

static void test_eroute_conflicts(void)
{
	struct route_view a = view("192.0.2.1", "192.0.2.254", "10.1.0.0/24", "10.2.0.0/24");
	struct route_view b = view("192.0.2.9", "192.0.2.250", "10.1.0.0/24", "10.2.0.0/24");
	struct route_view c = view("192.0.2.1", "192.0.2.254", "10.1.1.0/24", "10.2.0.0/24");
	g_assert_false(eroute_conflicts(&a, &b));            /* b has no eroute */
	b.erouted = c.erouted = true;
	g_assert_true(eroute_conflicts(&a, &b));             /* identical clients, whatever the route */
	g_assert_false(eroute_conflicts(&a, &c));            /* local clients are taken into account */
	struct route_view others[] = { c, b };
	g_assert_cmpuint(eroute_find_conflict(&a, others, 2), ==, 1);
	g_assert_cmpuint(eroute_find_conflict(&a, others, 1), ==, 1);   /* none: n */
}

static void test_route_decide(void)
{
	struct route_view me = view("192.0.2.1", "192.0.2.254", "10.1.0.0/24", "10.2.0.0/24");
	struct route_view others[3] = {
		view("192.0.2.1", "192.0.2.253", "10.1.1.0/24", "10.2.0.0/24"),   /* conflicts, no SA */
		view("192.0.2.1", "192.0.2.254", "10.1.2.0/24", "10.2.0.0/24"),   /* shares the route */
		view("198.51.100.1", "192.0.2.254", "10.1.3.0/24", "10.2.0.0/24"), /* conflicts */
	};
	size_t victims[3], n_victims = 99, blocker = 99;
	g_assert_cmpint(route_decide(&me, others, 3, false, victims, &n_victims, &blocker), ==, ROUTE_OK);
	g_assert_cmpuint(n_victims, ==, 2);
	g_assert_cmpuint(victims[0], ==, 0);
	g_assert_cmpuint(victims[1], ==, 2);

	/* an IPsec SA uses the conflicting route: refused, naming it, nothing taken down */
	others[2].has_sa = true;
	g_assert_cmpint(route_decide(&me, others, 3, false, victims, &n_victims, &blocker), ==, ROUTE_REFUSED);
	g_assert_cmpuint(blocker, ==, 2);
	g_assert_cmpuint(n_victims, ==, 0);

	/* the responder exception: the SAs holding the route make room */
	g_assert_cmpint(route_decide(&me, others, 3, true, victims, &n_victims, &blocker), ==, ROUTE_OK);
	g_assert_cmpuint(n_victims, ==, 2);
	g_assert_cmpuint(victims[1], ==, 2);

	g_assert_cmpint(route_decide(&me, others, 0, false, victims, &n_victims, &blocker), ==, ROUTE_OK);
	g_assert_cmpuint(n_victims, ==, 0);
}

static void test_subnet_contains(void)
{
	ip_subnet n = net("10.2.0.0/23"), all = net("0.0.0.0/0"), v6 = net("2001:db8::/33");
	ip_address in = addr("10.2.1.200"), out = addr("10.2.2.1"), a6 = addr("2001:db8:7fff::1"),
		   b6 = addr("2001:db8:8000::1");
	g_assert_true(subnet_contains(&n, &in));
	g_assert_false(subnet_contains(&n, &out));
	g_assert_true(subnet_contains(&all, &out));
	g_assert_false(subnet_contains(&n, &a6));            /* another family */
	g_assert_true(subnet_contains(&v6, &a6));
	g_assert_false(subnet_contains(&v6, &b6));
}

static void test_priority(void)
{
	ip_subnet h = net("10.1.0.1/32"), s = net("10.1.0.0/24"), any = net("0.0.0.0/0");
	g_assert_cmpuint(eroute_priority(&h, &h), <, eroute_priority(&s, &s));
	g_assert_cmpuint(eroute_priority(&s, &s), <, eroute_priority(&any, &any));
	ip_subnet h6 = net("2001:db8::1/128");
	g_assert_cmpuint(eroute_priority(&h6, &h6), >, 0);
}

/* The kernel's names and sizes now come from the descriptor rows; the
 * same facts as when kernel.c had its own table. */
static void test_kernel_algs(void)
{
	struct { const char *name, *kernel; unsigned key, trunc; } integ[] = {
		{ "md5", "hmac(md5)", 16, 96 },       { "sha1", "hmac(sha1)", 20, 96 },
		{ "sha2_256", "hmac(sha256)", 32, 128 }, { "sha2_384", "hmac(sha384)", 48, 192 },
		{ "sha2_512", "hmac(sha512)", 64, 256 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(integ); i++) {
		const struct alg *a = alg_by_name(ALG_HASH, integ[i].name);
		g_assert_nonnull(a);
		g_assert_cmpstr(a->xfrm_name, ==, integ[i].kernel);
		g_assert_cmpuint(a->hash_bytes, ==, integ[i].key);
		g_assert_cmpuint(a->icv_bytes * 8, ==, integ[i].trunc);
	}
	g_assert_cmpstr(alg_by_name(ALG_CIPHER, "3des")->xfrm_name, ==, "cbc(des3_ede)");
	g_assert_cmpstr(alg_by_name(ALG_CIPHER, "aes256")->xfrm_name, ==, "cbc(aes)");
	g_assert_null(alg_by_name(ALG_CIPHER, "blowfish"));
	g_assert_cmpstr(alg_by_name(ALG_CIPHER, "aes_gcm128")->xfrm_name, ==, "rfc4106(gcm(aes))");
}

/* Where the keys sit in KEYMAT: cipher key (+ salt for AEAD), then the
 * HMAC key; a keymat of any other length is refused. */
static void test_kernel_sa_keys(void)
{
	static const uint8_t keymat[64];
	struct kernel_keys k;
	char why[200];
	struct kernel_ipsec_sa sa = { .protocol = 3, .cipher = alg_by_name(ALG_CIPHER, "aes"), .key_bits = 256,
				      .integ = alg_by_name(ALG_HASH, "sha1"), .keymat = keymat, .keymat_len = 52 };
	g_assert_cmpint(kernel_sa_keys(&sa, &k, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(k.cipher_key_len, ==, 32);
	g_assert_true(k.cipher_key == keymat);
	g_assert_cmpuint(k.integ_key_len, ==, 20);
	g_assert_true(k.integ_key == keymat + 32);
	sa.keymat_len = 51;
	g_assert_cmpint(kernel_sa_keys(&sa, &k, why, sizeof(why)), <, 0);
	g_assert_nonnull(strstr(why, "51 bytes of key material where aes256 needs 52"));

	/* RFC 4106 8.1: AES-GCM takes its key and a 4-byte salt, no integrity */
	sa = (struct kernel_ipsec_sa){ .protocol = 3, .cipher = alg_by_name(ALG_CIPHER, "aes_gcm"), .key_bits = 128,
				       .keymat = keymat, .keymat_len = 20 };
	g_assert_cmpint(kernel_sa_keys(&sa, &k, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(k.cipher_key_len, ==, 20);
	g_assert_cmpuint(k.integ_key_len, ==, 0);
	sa.key_bits = 256;
	g_assert_cmpint(kernel_sa_keys(&sa, &k, why, sizeof(why)), <, 0);
	sa.keymat_len = 36;
	g_assert_cmpint(kernel_sa_keys(&sa, &k, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(k.cipher_key_len, ==, 36);
	sa.integ = alg_by_name(ALG_HASH, "sha1");
	sa.keymat_len = 56;
	g_assert_cmpint(kernel_sa_keys(&sa, &k, why, sizeof(why)), <, 0);
	g_assert_nonnull(strstr(why, "AEAD"));
	char line[64];
	sa.integ = NULL;
	kernel_sa_algs(&sa, line, sizeof(line));
	g_assert_cmpstr(line, ==, "aes_gcm256");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/routing/route-conflicts", test_route_conflicts);
	g_test_add_func("/routing/eroute-conflicts", test_eroute_conflicts);
	g_test_add_func("/routing/decide", test_route_decide);
	g_test_add_func("/routing/subnet-contains", test_subnet_contains);
	g_test_add_func("/routing/priority", test_priority);
	g_test_add_func("/routing/kernel-algs", test_kernel_algs);
	g_test_add_func("/routing/kernel-sa-keys", test_kernel_sa_keys);
	return g_test_run();
}
