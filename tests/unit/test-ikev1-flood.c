/* A flood of first Main Mode messages (forged sources, fresh cookies)
 * must not grow the daemon without bound: beyond HALF_OPEN_MAX half-open
 * responder negotiations a new MI1 is dropped unanswered (no state, no
 * %any instance); once one of them goes, new peers are answered again, and
 * the count follows states that are deleted. Datagrams go through the
 * packet handler the engine gives demux and the answers to
 * v1_send_hook: no socket is opened. */
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "daemon/connections.h"
#include "daemon/control.h"
#include "daemon/demux.h"
#include "daemon/ikev1/ike_sa.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
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

/* MI1 from 10.(n>>8).(n&255).1 with an initiator cookie made of n */
static void send_mi1(packet_handler_fn handler, struct iface *ifp, const struct connection *c, unsigned n)
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
	char addr[32];
	snprintf(addr, sizeof(addr), "10.%u.%u.1", (n >> 8) & 0xff, n & 0xff);
	ip_address from;
	g_assert_true(ip_parse(addr, &from));
	handler(ifp, pb.data, len, &from, 500);
	pbuf_free(&pb);
}

static void test_half_open_cap(void)
{
	sd_event *loop;
	g_assert_cmpint(sd_event_new(&loop), >=, 0);
	ikev1_init(loop);
	v1_send_hook = count_reply;
	packet_handler_fn handler = demux_packet_handler();
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
	struct connection *rw = NULL;
	g_assert_cmpint(ctl_add_connection("rw", keys, values, 4, &rw, &err), ==, 0);

	struct iface ifp = { .name = "test0", .port = 500, .fd = -1 };
	g_assert_true(ip_parse("127.0.0.1", &ifp.addr));

	for (unsigned n = 0; n < HALF_OPEN_MAX; n++)
		send_mi1(handler, &ifp, rw, n);
	g_assert_cmpuint(replies, ==, HALF_OPEN_MAX);
	g_assert_cmpuint(states_count(), ==, HALF_OPEN_MAX);
	g_assert_cmpuint(ikev1_half_open(), ==, HALF_OPEN_MAX);
	g_assert_cmpuint(connections_count(), ==, 1 + HALF_OPEN_MAX);   /* the instances */

	/* full: dropped unanswered, nothing created */
	for (unsigned n = HALF_OPEN_MAX; n < HALF_OPEN_MAX + 10; n++)
		send_mi1(handler, &ifp, rw, n);
	g_assert_cmpuint(replies, ==, HALF_OPEN_MAX);
	g_assert_cmpuint(states_count(), ==, HALF_OPEN_MAX);
	g_assert_cmpuint(connections_count(), ==, 1 + HALF_OPEN_MAX);

	/* one goes (as after RESPONDER_TIMEOUT): room for exactly one more */
	v1_delete_state(states_first(), false);
	g_assert_cmpuint(ikev1_half_open(), ==, HALF_OPEN_MAX - 1);
	send_mi1(handler, &ifp, rw, HALF_OPEN_MAX + 20);
	send_mi1(handler, &ifp, rw, HALF_OPEN_MAX + 21);
	g_assert_cmpuint(replies, ==, HALF_OPEN_MAX + 1);
	g_assert_cmpuint(ikev1_half_open(), ==, HALF_OPEN_MAX);

	/* all gone: the count is back to 0 and the instances are collected */
	struct state *st;
	while ((st = states_first()))
		v1_delete_state(st, false);
	g_assert_cmpuint(ikev1_half_open(), ==, 0);
	for (int i = 0; i < 64 && sd_event_run(loop, 0) > 0; i++)
		;
	g_assert_cmpuint(connections_count(), ==, 1);
	send_mi1(handler, &ifp, rw, 7);
	g_assert_cmpuint(replies, ==, HALF_OPEN_MAX + 2);

	while ((st = states_first()))
		v1_delete_state(st, false);
	for (int i = 0; i < 64 && sd_event_run(loop, 0) > 0; i++)
		;
	v1_instances_shutdown();
	connections_delete_all();
	secrets_clear();
	v1_send_hook = NULL;
	sd_event_unref(loop);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	log_init(LOG_TO_SYSLOG, "test-ikev1-flood");
	log_set_hook(quiet, NULL);
	g_test_add_func("/ikev1/half-open-cap", test_half_open_cap);
	return g_test_run();
}
