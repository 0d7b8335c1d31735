/* The indexes that keep per-packet, per-SA and per-delete paths off the
 * full lists (issue 13): each test changes the thing indexed (delete,
 * move, rekey, re-route, instance removal) and asks the index again, so
 * a stale index fails here (and under ASan a dangling entry is a
 * use-after-free).
 *   - common/hindex: growth, removal, collisions;
 *   - state.c: by serial, by peer address, by peer_id, the per-connection
 *     list and count;
 *   - connections.c: by peer host, the template list;
 *   - klips/kernel.c: SA records by (dst, proto, spi) and by serial,
 *     policies by selector;
 *   - klips/routing.c: routed connections by peer client (conflicts
 *     found, taken-down and deleted ones forgotten). */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "common/errors.h"
#include "common/hindex.h"
#include "daemon/connections.h"
#include "daemon/events.h"
#include "daemon/state.h"
#include "klips/kernel.h"
#include "klips/kernel_ops.h"
#include "klips/routing.h"
#include "policy/algs.h"

/* --- common/hindex --- */

struct item {
	int key;
	struct hlink link;
};

static struct item *find_item(struct hindex *ix, int key)
{
	uint32_t h = (uint32_t)key % 7;   /* many collisions on purpose */
	for (struct hlink *l = hindex_first(ix, h); l; l = hlink_next_same(l, h)) {
		struct item *it = HLINK_OWNER(l, struct item, link);
		if (it->key == key)
			return it;
	}
	return NULL;
}

static void test_hindex(void)
{
	struct hindex ix = { 0 };
	enum { N = 5000 };
	struct item *items = g_new0(struct item, N);
	for (int i = 0; i < N; i++) {
		items[i].key = i;
		hindex_add(&ix, &items[i].link, (uint32_t)i % 7);
	}
	g_assert_cmpuint(ix.count, ==, N);
	g_assert_cmpuint(ix.n_buckets, >=, N);   /* it grew */
	for (int i = 0; i < N; i += 2)
		hindex_del(&ix, &items[i].link);
	hindex_del(&ix, &items[0].link);          /* twice: a no-op */
	g_assert_cmpuint(ix.count, ==, N / 2);
	for (int i = 0; i < N; i++)
		g_assert_true((find_item(&ix, i) != NULL) == (i % 2 == 1));
	/* one chain, newest first, across growth */
	struct hindex one = { 0 };
	for (int i = 0; i < N; i++) {
		hlink_linked(&items[i].link) ? hindex_del(&ix, &items[i].link) : (void)0;
		hindex_add(&one, &items[i].link, 42);
	}
	int expect = N - 1;
	for (struct hlink *l = hindex_first(&one, 42); l; l = hlink_next_same(l, 42))
		g_assert_cmpint(HLINK_OWNER(l, struct item, link)->key, ==, expect--);
	g_assert_cmpint(expect, ==, -1);
	hindex_free(&one);
	hindex_free(&ix);
	g_assert_false(hlink_linked(&items[1].link));
	g_free(items);
}

/* --- helpers --- */

static struct connection *add_conn(const char *name, const char *const *kv, size_t n_pairs)
{
	const char *keys[16], *values[16];
	for (size_t i = 0; i < n_pairs; i++) {
		keys[i] = kv[2 * i];
		values[i] = kv[2 * i + 1];
	}
	struct connection_config cfg;
	struct ctl_error err = { 0 };
	struct connection *c = NULL;
	if (connection_config_parse(&cfg, keys, values, n_pairs, &err) < 0)
		g_error("%s: %s", name, err.message);
	if (connection_add(name, CONNECTION_SOURCE_API, &cfg, &c, &err) < 0)
		g_error("%s: %s", name, err.message);
	return c;
}

static struct connection *add_peer(const char *name, const char *peer)
{
	const char *kv[] = { "left", "127.0.0.1", "right", peer };
	return add_conn(name, kv, 2);
}

static size_t count_list(const struct connection *c)
{
	size_t n = 0;
	for (struct state *st = connection_states(c); st; st = st->conn_next) {
		g_assert_true(st->connection == c);
		n++;
	}
	g_assert_cmpuint(n, ==, states_count_for_connection(c));
	return n;
}

static void addr(const char *s, ip_address *a)
{
	g_assert_true(ip_parse(s, a));
}

/* --- state.c --- */

static void test_states_by_serial_and_connection(void)
{
	struct connection *a = add_peer("sa", "192.0.2.1"), *b = add_peer("sb", "192.0.2.2");
	enum { N = 600 };
	unsigned serials[N];
	for (int i = 0; i < N; i++)
		serials[i] = state_new(i % 3 ? a : b, i % 2 ? STATE_KIND_IPSEC : STATE_KIND_ISAKMP, false)->serial;
	g_assert_cmpuint(count_list(a), ==, 400);
	g_assert_cmpuint(count_list(b), ==, 200);
	/* newest first, as the list of all states */
	g_assert_cmpuint(connection_states(a)->serial, ==, serials[N - 1]);
	for (int i = 0; i < N; i++)
		g_assert_cmpuint(state_by_serial(serials[i])->serial, ==, serials[i]);
	/* a Quick Mode switched to another connection: both lists follow */
	struct state *moved = state_by_serial(serials[1]);
	state_set_connection(moved, b);
	g_assert_cmpuint(count_list(a), ==, 399);
	g_assert_cmpuint(count_list(b), ==, 201);
	/* deleted: gone from the serial index and the connection's list */
	for (int i = 0; i < N; i += 2)
		state_delete(state_by_serial(serials[i]));
	for (int i = 0; i < N; i++)
		g_assert_true((state_by_serial(serials[i]) != NULL) == (i % 2 == 1));
	g_assert_cmpuint(count_list(a) + count_list(b), ==, N / 2);
	/* deleting a connection's states through the per-connection walk,
	 * which must survive the deletions it makes */
	states_delete_for_connection(a);
	g_assert_cmpuint(count_list(a), ==, 0);
	g_assert_null(connection_states(a));
	states_delete_all();
	g_assert_cmpuint(count_list(b), ==, 0);
	g_assert_null(state_by_serial(serials[1]));
	connections_delete_all();
}

static size_t count_by_peer(const ip_address *a)
{
	size_t n = 0;
	for (struct state *st = state_by_peer(a); st; st = state_by_peer_next(st, a))
		n++;
	return n;
}

static size_t count_by_peer_id(const char *id)
{
	size_t n = 0;
	for (struct state *st = state_by_peer_id(id); st; st = state_by_peer_id_next(st, id))
		n++;
	return n;
}

static void test_states_by_peer(void)
{
	struct connection *c = add_peer("p", "192.0.2.9");
	ip_address p1, p2;
	addr("192.0.2.9", &p1);
	addr("198.51.100.7", &p2);
	struct state *s1 = state_new(c, STATE_KIND_ISAKMP, false);
	struct state *s2 = state_new(c, STATE_KIND_IPSEC, false);
	struct state *s3 = state_new(c, STATE_KIND_IPSEC, false);
	state_set_peer(s1, &p1);
	state_set_peer(s2, &p1);
	state_set_peer(s3, &p2);
	g_assert_cmpuint(count_by_peer(&p1), ==, 2);
	g_assert_cmpuint(count_by_peer(&p2), ==, 1);
	/* no peer_id until established */
	g_assert_cmpuint(count_by_peer_id(""), ==, 0);
	state_set_peer_id(s1, "@road");
	state_set_peer_id(s2, "@road");
	g_assert_cmpuint(count_by_peer_id("@road"), ==, 2);
	/* a rekeyed state's ID that changed: the old one no longer finds it */
	state_set_peer_id(s2, "@other");
	g_assert_cmpuint(count_by_peer_id("@road"), ==, 1);
	g_assert_true(state_by_peer_id("@other") == s2);
	state_set_peer(s2, &p2);
	g_assert_cmpuint(count_by_peer(&p1), ==, 1);
	g_assert_cmpuint(count_by_peer(&p2), ==, 2);
	state_delete(s1);
	g_assert_cmpuint(count_by_peer(&p1), ==, 0);
	g_assert_cmpuint(count_by_peer_id("@road"), ==, 0);
	state_delete(s2);
	g_assert_null(state_by_peer_id("@other"));
	g_assert_true(state_by_peer(&p2) == s3);
	states_delete_all();
	connections_delete_all();
}

/* --- connections.c --- */

static size_t count_by_peer_host(const char *peer)
{
	ip_address a;
	addr(peer, &a);
	size_t n = 0;
	for (struct connection *c = connection_by_peer_host(&a); c; c = connection_by_peer_host_next(c, &a))
		n++;
	return n;
}

static void test_connections_by_peer_host(void)
{
	struct connection *t1 = add_peer("t1", "%any");
	struct connection *x = add_peer("x", "192.0.2.20");
	struct connection *y = add_peer("y", "192.0.2.20");
	struct connection *t2 = add_peer("t2", "%any");
	g_assert_cmpuint(count_by_peer_host("192.0.2.20"), ==, 2);
	g_assert_cmpuint(count_by_peer_host("192.0.2.21"), ==, 0);
	g_assert_true(x->seq < y->seq);
	/* the templates, in list order, and only them */
	g_assert_true(connection_templates() == t1);
	g_assert_true(t1->tmpl_next == t2);
	g_assert_null(t2->tmpl_next);
	connection_delete(x);
	g_assert_cmpuint(count_by_peer_host("192.0.2.20"), ==, 1);
	g_assert_true(connection_by_peer_host(&END_THAT(y)->host) == y);
	connection_delete(t1);
	g_assert_true(connection_templates() == t2);
	g_assert_null(t2->tmpl_next);
	connection_delete(t2);
	g_assert_null(connection_templates());
	connection_delete(y);
	g_assert_cmpuint(count_by_peer_host("192.0.2.20"), ==, 0);
	/* many: the index grows and still finds each one */
	char name[32], peer[32];
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		snprintf(peer, sizeof(peer), "10.2.%d.%d", i / 250, i % 250 + 1);
		add_peer(name, peer);
	}
	for (int i = 0; i < 500; i++) {
		snprintf(peer, sizeof(peer), "10.2.%d.%d", i / 250, i % 250 + 1);
		g_assert_cmpuint(count_by_peer_host(peer), ==, 1);
	}
	connections_delete_all();
	g_assert_cmpuint(count_by_peer_host("10.2.0.1"), ==, 0);
}

/* --- klips/kernel.c --- */

static void install(unsigned serial, const char *dst, uint32_t spi)
{
	static const uint8_t keymat[64];
	struct kernel_ipsec_sa sa = { .serial = serial, .protocol = 3, .spi = spi, .tunnel = true };
	sa.cipher = alg_by_name(ALG_CIPHER, "aes");
	sa.key_bits = 128;
	sa.keymat = keymat;
	sa.keymat_len = alg_keymat_len(sa.cipher, sa.key_bits, NULL);
	addr("127.0.0.1", &sa.src);
	addr(dst, &sa.dst);
	struct ctl_error err = { 0 };
	if (kernel_install_ipsec_sa(&sa, &err) < 0)
		g_error("install: %s", err.message);
}

static void test_kernel_records(void)
{
	struct ctl_error err = { 0 };
	g_assert_cmpint(kernel_select("none", &err), ==, 0);
	for (unsigned s = 1; s <= 300; s++) {
		install(s, "192.0.2.1", 0x1000 + s);      /* outbound */
		install(s, "127.0.0.1", 0x2000 + s);      /* inbound */
	}
	g_assert_cmpuint(kernel_record_count(false), ==, 600);
	/* the same (dst, proto, spi) again replaces its record */
	install(7, "192.0.2.1", 0x1007);
	g_assert_cmpuint(kernel_record_count(false), ==, 600);
	/* a state's SAs go with it, and only its */
	kernel_delete_state_sas(7);
	kernel_delete_state_sas(7);
	g_assert_cmpuint(kernel_record_count(false), ==, 598);
	/* its SPI can be used again: no stale key record */
	install(301, "192.0.2.1", 0x1007);
	g_assert_cmpuint(kernel_record_count(false), ==, 599);
	for (unsigned s = 1; s <= 301; s++)
		kernel_delete_state_sas(s);
	g_assert_cmpuint(kernel_record_count(false), ==, 0);

	/* policies by (selector, dir): adding one again updates it */
	struct kernel_policy p = { .dir = KDIR_OUT, .protocol = 3, .tunnel = true, .reqid = 1 };
	const char *why;
	g_assert_true(subnet_parse("10.0.0.0/24", &p.src_client, &why));
	g_assert_true(subnet_parse("10.9.0.0/16", &p.dst_client, &why));
	g_assert_cmpint(kernel_add_policy(&p, &err), ==, 0);
	p.reqid = 2;
	g_assert_cmpint(kernel_add_policy(&p, &err), ==, 0);
	g_assert_cmpuint(kernel_record_count(true), ==, 1);
	p.dir = KDIR_IN;
	g_assert_cmpint(kernel_add_policy(&p, &err), ==, 0);
	g_assert_cmpuint(kernel_record_count(true), ==, 2);
	g_assert_cmpint(kernel_del_policy(&p, &err), ==, 0);
	g_assert_cmpint(kernel_del_policy(&p, &err), ==, 0);
	g_assert_cmpuint(kernel_record_count(true), ==, 1);
	p.dir = KDIR_OUT;
	g_assert_cmpint(kernel_del_policy(&p, &err), ==, 0);
	g_assert_cmpuint(kernel_record_count(true), ==, 0);
	kernel_shutdown();
}

/* --- klips/routing.c --- */

static struct connection *add_subnet_conn(const char *name, const char *peer)
{
	const char *kv[] = { "left", "127.0.0.1", "leftsubnet", "10.0.0.0/24", "right", peer,
			     "rightsubnet", "10.9.0.0/16" };
	return add_conn(name, kv, 4);
}

static void test_routing_index(void)
{
	struct ctl_error err = { 0 };
	g_assert_cmpint(kernel_select("none", &err), ==, 0);
	routing_init(NULL);
	/* same peer client, other nexthop: routing one takes the other's
	 * route down, each time, whichever was routed last */
	struct connection *a = add_subnet_conn("ra", "192.0.2.1");
	struct connection *b = add_subnet_conn("rb", "192.0.2.2");
	struct connection *far = add_peer("far", "192.0.2.3");
	g_assert_cmpint(routing_route(far, false, &err), ==, 0);
	g_assert_cmpint(routing_route(a, false, &err), ==, 0);
	g_assert_cmpint(a->routing, ==, RT_PROSPECTIVE);
	g_assert_cmpint(routing_route(b, false, &err), ==, 0);
	g_assert_cmpint(a->routing, ==, RT_UNROUTED);
	g_assert_cmpint(b->routing, ==, RT_PROSPECTIVE);
	g_assert_cmpint(far->routing, ==, RT_PROSPECTIVE);   /* another peer client */
	g_assert_cmpint(routing_route(a, false, &err), ==, 0);
	g_assert_cmpint(b->routing, ==, RT_UNROUTED);
	/* an unrouted one is no victim, and routes again */
	g_assert_cmpint(routing_unroute(a, true, &err), ==, 0);
	g_assert_cmpint(routing_route(b, false, &err), ==, 0);
	g_assert_cmpint(a->routing, ==, RT_UNROUTED);
	/* a deleted routed connection (an instance collected with its
	 * route) leaves the index: routing a again must not look at it */
	connection_delete(b);
	g_assert_cmpint(routing_route(a, false, &err), ==, 0);
	g_assert_cmpint(a->routing, ==, RT_PROSPECTIVE);
	struct connection *c = add_subnet_conn("rc", "192.0.2.4");
	g_assert_cmpint(routing_route(c, false, &err), ==, 0);
	g_assert_cmpint(a->routing, ==, RT_UNROUTED);
	connections_delete_all();
	kernel_shutdown();
}

/* A road-warrior instance is its template's config with the peer's
 * address (connection_add_instance): its option map, shared with the
 * template, reads as the map of its own config would (what status and
 * D-Bus show), its proposal tables are the template's, and it outlives
 * its template. */
static void test_instance_shares_template(void)
{
	const char *kv[] = { "left", "127.0.0.1", "right", "%any", "leftsubnet", "10.1.0.0/16",
			     "ike", "aes256-sha2_256-modp2048,aes128-sha1-modp2048", "esp", "aes128-sha1",
			     "rightxauthclient", "yes", "leftxauthserver", "yes", "dpddelay", "30" };
	struct connection *t = add_conn("rw", kv, sizeof(kv) / sizeof(kv[0]) / 2);
	ip_address peer;
	g_assert_true(ip_parse("192.0.2.7", &peer));
	struct connection *c = NULL;
	struct ctl_error err = { 0 };
	g_assert_cmpint(connection_add_instance("rw+1", t, &peer, &c, &err), ==, 0);
	g_assert_true(c->template == t && !c->is_template);
	g_assert_true(END_THAT(c)->host_kind == HOST_ADDRESS && ip_equal(&END_THAT(c)->host, &peer));
	g_assert_true(c->cfg.ike_proposals == t->cfg.ike_proposals);
	g_assert_true(c->cfg.esp_proposals == t->cfg.esp_proposals);
	g_assert_true(c->cfg.ike == t->cfg.ike);
	size_t n;
	char **keys, **values, buf[IP_STR_MAX];
	connection_config_normalise(&c->cfg, &n, &keys, &values);
	g_assert_cmpuint(n, ==, c->options->n);
	for (size_t i = 0; i < n; i++) {
		g_assert_cmpstr(keys[i], ==, c->options->keys[i]);
		g_assert_cmpstr(values[i], ==, connection_option_value(c, i, buf));
		free(keys[i]);
		free(values[i]);
	}
	free(keys);
	free(values);
	g_assert_cmpstr(connection_option_value(t, (size_t)c->option_peer, buf), ==, "%any");
	connection_delete(t);
	g_assert_null(c->template);
	g_assert_cmpuint(c->cfg.ike_proposals->n, ==, 2);
	g_assert_cmpstr(connection_option_value(c, (size_t)c->option_peer, buf), ==, "192.0.2.7");
	connection_delete(c);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/indexes/hindex", test_hindex);
	g_test_add_func("/indexes/states-by-serial-and-connection", test_states_by_serial_and_connection);
	g_test_add_func("/indexes/states-by-peer", test_states_by_peer);
	g_test_add_func("/indexes/connections-by-peer-host", test_connections_by_peer_host);
	g_test_add_func("/indexes/kernel-records", test_kernel_records);
	g_test_add_func("/indexes/routing", test_routing_index);
	g_test_add_func("/indexes/instance-shares-template", test_instance_shares_template);
	return g_test_run();
}
