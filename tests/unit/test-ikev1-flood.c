/* A flood of first Main Mode messages (forged sources, fresh cookies)
 * must not grow the daemon without bound nor lock configured peers out
 * (ikev1/half_open.h): the %any pool refuses an address over its
 * per-source limit and any MI1 once full (no state, no %any instance);
 * the configured pool replaces its oldest unproven state, never a proven
 * one; the counts follow states that are deleted; the responder timeout
 * shrinks as a pool fills. Datagrams go through the packet handler the
 * engine gives demux and the answers to v1_send_hook: no socket is
 * opened. The daemon runs with --half-open-max 16 --half-open-per-source 2
 * (12 %any slots, 4 for configured peers). */
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/demux.h"
#include "daemon/ikev1/half_open.h"
#include "daemon/ikev1/ike_sa.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
#include "daemon/log_limit.h"
#include "daemon/secrets.h"
#include "daemon/state.h"

static unsigned replies;

static bool count_reply(const ip_address *local, uint16_t local_port, const ip_address *peer,
			uint16_t peer_port, const uint8_t *buf, size_t len)
{
	(void)local;
	(void)local_port;
	(void)peer;
	(void)peer_port;
	(void)buf;
	(void)len;
	replies++;
	return true;
}

static void quiet(int priority, const char *line, void *ud)
{
	(void)priority;
	(void)line;
	(void)ud;
}

/* MI1 from addr with an initiator cookie made of n */
static void send_mi1_from(packet_handler_fn handler, struct iface *ifp, const struct connection *c,
			  const char *addr, unsigned n)
{
	struct sa_payload sa;
	memset(&sa, 0, sizeof(sa));
	struct ike_policy pol = { c->cfg.ike_proposals, 1u << OAKLEY_PRESHARED_KEY, 3600, IKE_XAUTH_NONE };
	ike_sa_build(&pol, &sa);
	struct isakmp_hdr h = { .np = PT_SA, .version = ISAKMP_VERSION, .xchg = XCHG_IDPROT };
	h.icookie[0] = 0xc0;
	put_be32(h.icookie + 4, n + 1);
	struct pbuf pb;
	pbuf_init(&pb);
	emit_hdr(&pb, &h);
	emit_sa(&pb, &sa);
	size_t len = pbuf_finish(&pb);
	g_assert_cmpuint(len, >, ISAKMP_HDR_LEN);
	ip_address from;
	g_assert_true(ip_parse(addr, &from));
	handler(ifp, pb.data, len, &from, 500);
	pbuf_free(&pb);
}

/* from 10.(n>>8).(n&255).1 */
static void send_mi1(packet_handler_fn handler, struct iface *ifp, const struct connection *c, unsigned n)
{
	char addr[32];
	snprintf(addr, sizeof(addr), "10.%u.%u.1", (n >> 8) & 0xff, n & 0xff);
	send_mi1_from(handler, ifp, c, addr, n);
}

#define ANY_SLOTS 12
#define CONFIGURED_SLOTS 4
#define PEER "10.99.0.1"

static sd_event *loop;
static packet_handler_fn handler;
static struct iface ifp = { .name = "test0", .port = 500, .fd = -1 };
static struct connection *rw, *peer;

static void delete_all_states(void)
{
	struct state *st;
	while ((st = states_first()))
		v1_delete_state(st, false);
	for (int i = 0; i < 64 && sd_event_run(loop, 0) > 0; i++)
		;
}

static void setup(void)
{
	g_assert_cmpint(sd_event_new(&loop), >=, 0);
	ikev1_init(loop);
	half_open_configure(16, 2);
	v1_send_hook = count_reply;
	handler = demux_packet_handler();
	g_assert_nonnull(handler);

	char path[] = "/tmp/test-ikev1-flood-XXXXXX";
	int fd = g_mkstemp(path);
	g_assert_cmpint(fd, >=, 0);
	const char text[] = "127.0.0.1 %any : PSK \"flood-test-secret\"\n";
	g_assert_cmpint(write(fd, text, sizeof(text) - 1), ==, (ssize_t)sizeof(text) - 1);
	close(fd);
	secrets_set_path(path);
	struct ctl_error err;
	g_assert_cmpint(secrets_reload(&err), ==, 0);
	unlink(path);
	const char *keys[] = { "left", "right", "authby", "ike" };
	const char *values[] = { "127.0.0.1", "%any", "secret", "aes128-sha1-modp2048" };
	g_assert_cmpint(ctl_add_connection("rw", keys, values, 4, &rw, &err), ==, 0);
	const char *pvalues[] = { "127.0.0.1", PEER, "secret", "aes128-sha1-modp2048" };
	g_assert_cmpint(ctl_add_connection("peer", keys, pvalues, 4, &peer, &err), ==, 0);
	g_assert_true(ip_parse("127.0.0.1", &ifp.addr));
}

static void teardown(void)
{
	delete_all_states();
	v1_instances_shutdown();
	connections_delete_all();
	secrets_clear();
	v1_send_hook = NULL;
	sd_event_unref(loop);
	loop = NULL;
}

static void test_any_pool_cap(void)
{
	setup();
	unsigned base = replies;
	for (unsigned n = 0; n < ANY_SLOTS; n++)
		send_mi1(handler, &ifp, rw, n);
	g_assert_cmpuint(replies - base, ==, ANY_SLOTS);
	g_assert_cmpuint(states_count(), ==, ANY_SLOTS);
	g_assert_cmpuint(half_open_in_pool(HALF_OPEN_ANY), ==, ANY_SLOTS);
	g_assert_cmpuint(connections_count(), ==, 2 + ANY_SLOTS);   /* the instances */

	/* full: dropped unanswered, nothing created */
	for (unsigned n = ANY_SLOTS; n < ANY_SLOTS + 10; n++)
		send_mi1(handler, &ifp, rw, n);
	g_assert_cmpuint(replies - base, ==, ANY_SLOTS);
	g_assert_cmpuint(states_count(), ==, ANY_SLOTS);
	g_assert_cmpuint(connections_count(), ==, 2 + ANY_SLOTS);

	/* the configured peer is still answered: its own pool */
	send_mi1_from(handler, &ifp, peer, PEER, 500);
	g_assert_cmpuint(replies - base, ==, ANY_SLOTS + 1);
	g_assert_cmpuint(half_open_in_pool(HALF_OPEN_CONFIGURED), ==, 1);

	/* one goes (as after the responder timeout): room for exactly one more */
	ip_address first;
	g_assert_true(ip_parse("10.0.0.1", &first));
	g_assert_nonnull(state_by_peer(&first));
	v1_delete_state(state_by_peer(&first), false);
	g_assert_cmpuint(ikev1_half_open(), ==, ANY_SLOTS);
	send_mi1(handler, &ifp, rw, 100);
	send_mi1(handler, &ifp, rw, 101);
	g_assert_cmpuint(replies - base, ==, ANY_SLOTS + 2);
	g_assert_cmpuint(ikev1_half_open(), ==, ANY_SLOTS + 1);

	/* all gone: the counts are back to 0 and the instances are collected */
	delete_all_states();
	g_assert_cmpuint(ikev1_half_open(), ==, 0);
	g_assert_cmpuint(connections_count(), ==, 2);
	send_mi1(handler, &ifp, rw, 7);
	g_assert_cmpuint(replies - base, ==, ANY_SLOTS + 3);
	teardown();
}

static void test_per_source(void)
{
	setup();
	unsigned base = replies;
	/* one address, fresh cookies: two answered, the rest refused */
	for (unsigned n = 0; n < 10; n++)
		send_mi1_from(handler, &ifp, rw, "192.0.2.9", n);
	g_assert_cmpuint(replies - base, ==, 2);
	g_assert_cmpuint(half_open_in_pool(HALF_OPEN_ANY), ==, 2);
	/* another address is not held back by it */
	send_mi1_from(handler, &ifp, rw, "192.0.2.10", 50);
	g_assert_cmpuint(replies - base, ==, 3);
	/* one of the first address's goes: it may have one more */
	ip_address nine;
	g_assert_true(ip_parse("192.0.2.9", &nine));
	struct state *st = state_by_peer(&nine);
	g_assert_nonnull(st);
	v1_delete_state(st, false);
	send_mi1_from(handler, &ifp, rw, "192.0.2.9", 60);
	send_mi1_from(handler, &ifp, rw, "192.0.2.9", 61);
	g_assert_cmpuint(replies - base, ==, 4);
	teardown();
}

/* a forger with the configured peer's address: every MI1 answered, but
 * only CONFIGURED_SLOTS states, the oldest replaced; a proven state (its
 * peer returned our cookie) is never replaced */
static void test_configured_replaced(void)
{
	setup();
	unsigned base = replies;
	uint64_t replaced = half_open_replaced_total();
	for (unsigned n = 0; n < 20; n++)
		send_mi1_from(handler, &ifp, peer, PEER, n);
	g_assert_cmpuint(replies - base, ==, 20);
	g_assert_cmpuint(half_open_in_pool(HALF_OPEN_CONFIGURED), ==, CONFIGURED_SLOTS);
	g_assert_cmpuint(states_count(), ==, CONFIGURED_SLOTS);
	g_assert_cmpuint(half_open_replaced_total() - replaced, ==, 20 - CONFIGURED_SLOTS);

	/* the newest is proven: 20 more replace only the other three */
	struct state *newest = connection_states(peer);   /* newest first */
	g_assert_nonnull(newest);
	half_open_proven(&newest->v1->half_open);
	unsigned proven_serial = newest->serial;
	for (unsigned n = 100; n < 120; n++)
		send_mi1_from(handler, &ifp, peer, PEER, n);
	g_assert_cmpuint(states_count(), ==, CONFIGURED_SLOTS);
	g_assert_nonnull(state_by_serial(proven_serial));
	/* all proven: a full pool refuses */
	for (struct state *st = connection_states(peer); st; st = st->conn_next)
		half_open_proven(&st->v1->half_open);
	unsigned before = replies;
	send_mi1_from(handler, &ifp, peer, PEER, 200);
	g_assert_cmpuint(replies, ==, before);
	teardown();
}

static void test_timeout_shrinks(void)
{
	g_assert_cmpuint(half_open_timeout_for(0, 768), ==, HALF_OPEN_TIMEOUT_USEC);
	g_assert_cmpuint(half_open_timeout_for(384, 768), ==, HALF_OPEN_TIMEOUT_USEC);
	g_assert_cmpuint(half_open_timeout_for(576, 768), <, HALF_OPEN_TIMEOUT_USEC);
	g_assert_cmpuint(half_open_timeout_for(576, 768), >, HALF_OPEN_TIMEOUT_MIN_USEC);
	g_assert_cmpuint(half_open_timeout_for(768, 768), ==, HALF_OPEN_TIMEOUT_MIN_USEC);
	g_assert_cmpuint(half_open_timeout_for(5000, 768), ==, HALF_OPEN_TIMEOUT_MIN_USEC);
	/* the verdict table */
	struct half_open_facts f = { .pool = HALF_OPEN_ANY, .pool_cap = 3, .per_source = 2 };
	g_assert_cmpint(half_open_verdict(&f), ==, HALF_OPEN_ADMIT);
	f.from_source = 2;
	g_assert_cmpint(half_open_verdict(&f), ==, HALF_OPEN_REFUSE_SOURCE);
	f.from_source = 0;
	f.in_pool = 3;
	f.can_replace = true;
	g_assert_cmpint(half_open_verdict(&f), ==, HALF_OPEN_REFUSE_FULL);
	f.pool = HALF_OPEN_CONFIGURED;
	f.from_source = 50;
	g_assert_cmpint(half_open_verdict(&f), ==, HALF_OPEN_ADMIT_REPLACING);
	f.can_replace = false;
	g_assert_cmpint(half_open_verdict(&f), ==, HALF_OPEN_REFUSE_FULL);
}

/* log_limit.h: the per-source and the global buckets */
static void test_log_limit(void)
{
	log_limit_reset();
	ip_address a, b;
	g_assert_true(ip_parse("192.0.2.1", &a));
	uint64_t t = 1000ULL * 1000 * 1000;
	uint64_t suppressed = log_limit_suppressed_total();
	for (unsigned i = 0; i < LOG_LIMIT_SOURCE_BURST; i++)
		g_assert_true(log_limit_allow_at(&a, t));
	g_assert_false(log_limit_allow_at(&a, t));
	g_assert_cmpuint(log_limit_suppressed_total() - suppressed, ==, 1);
	/* one more after an interval */
	g_assert_true(log_limit_allow_at(&a, t + LOG_LIMIT_SOURCE_INTERVAL_USEC));
	g_assert_false(log_limit_allow_at(&a, t + LOG_LIMIT_SOURCE_INTERVAL_USEC));
	/* many sources at one moment: the global burst, then nothing */
	log_limit_reset();
	unsigned allowed = 0;
	for (unsigned n = 0; n < 500; n++) {
		char s[32];
		snprintf(s, sizeof(s), "10.1.%u.%u", n >> 8, n & 255);
		g_assert_true(ip_parse(s, &b));
		allowed += log_limit_allow_at(&b, t);
	}
	g_assert_cmpuint(allowed, ==, LOG_LIMIT_GLOBAL_BURST);
	log_limit_reset();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	log_init(LOG_TO_SYSLOG, "test-ikev1-flood");
	log_set_hook(quiet, NULL);
	g_test_add_func("/ikev1/half-open/any-pool-cap", test_any_pool_cap);
	g_test_add_func("/ikev1/half-open/per-source", test_per_source);
	g_test_add_func("/ikev1/half-open/configured-replaced", test_configured_replaced);
	g_test_add_func("/ikev1/half-open/timeout-shrinks", test_timeout_shrinks);
	g_test_add_func("/log-limit/buckets", test_log_limit);
	return g_test_run();
}
