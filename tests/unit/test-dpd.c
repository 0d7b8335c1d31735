/* Dead Peer Detection (RFC 3706), the pure parts: sequence numbers, the
 * dpddelay/dpdtimeout/dpdaction options (defaults, suffixes, bad values
 * naming keyword and value, the timeout/delay check, the normalised map),
 * and which R-U-THERE / R-U-THERE-ACK notifications are answered or
 * ignored (log lines captured; no socket, no keys: the answer is only
 * announced, which is what the checks look at). */
#include <glib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/ikev1/dpd.h"
#include "daemon/ikev1/ike_sa.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
#include "daemon/state.h"
#include "daemon/ikev1/vendor.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* --- sequence numbers --- */

static void test_seq_start(void)
{
	struct dpd_seq q;
	dpd_seq_init(&q, 0xffffffffu);
	g_assert_cmpuint(q.next, ==, 0x7fffffffu);   /* top bit cleared */
	g_assert_false(q.outstanding);
	dpd_seq_init(&q, 0x80000000u);
	g_assert_cmpuint(q.next, ==, 1);             /* never 0 */
	dpd_seq_init(&q, 1234);
	g_assert_cmpuint(q.next, ==, 1234);
}

static void test_seq_ack(void)
{
	struct dpd_seq q;
	dpd_seq_init(&q, 100);
	g_assert_false(dpd_seq_ack(&q, 100));        /* nothing sent yet */
	g_assert_cmpuint(dpd_seq_send(&q), ==, 100);
	g_assert_true(q.outstanding);
	g_assert_false(dpd_seq_ack(&q, 99));         /* before the window */
	g_assert_false(dpd_seq_ack(&q, 101));        /* not sent yet */
	g_assert_true(dpd_seq_ack(&q, 100));
	g_assert_false(q.outstanding);
	g_assert_false(dpd_seq_ack(&q, 100));        /* a replayed ACK */

	/* re-sends while waiting: each a new number; the ACK of any of them
	 * ends the wait, and the older ones are stale afterwards */
	g_assert_cmpuint(dpd_seq_send(&q), ==, 101);
	g_assert_cmpuint(dpd_seq_send(&q), ==, 102);
	g_assert_cmpuint(dpd_seq_send(&q), ==, 103);
	g_assert_true(dpd_seq_ack(&q, 101));
	g_assert_false(dpd_seq_ack(&q, 103));
	g_assert_cmpuint(dpd_seq_send(&q), ==, 104);
	g_assert_false(dpd_seq_ack(&q, 102));
	g_assert_true(dpd_seq_ack(&q, 104));
}

static void test_seq_wrap(void)
{
	struct dpd_seq q = { .next = 0xfffffffeu, .first_unacked = 0xfffffffeu };
	g_assert_cmpuint(dpd_seq_send(&q), ==, 0xfffffffeu);
	g_assert_cmpuint(dpd_seq_send(&q), ==, 0xffffffffu);
	g_assert_cmpuint(dpd_seq_send(&q), ==, 1);   /* 0 is skipped */
	g_assert_false(dpd_seq_ack(&q, 2));
	g_assert_true(dpd_seq_ack(&q, 0xffffffffu));
}

/* --- options --- */

static int parse(struct connection_config *cfg, const char *const *kv, size_t n_pairs, struct ctl_error *err)
{
	const char *keys[16], *values[16];
	g_assert_cmpuint(n_pairs, <=, 14);
	keys[0] = "left", values[0] = "192.0.2.1";
	keys[1] = "right", values[1] = "192.0.2.2";
	for (size_t i = 0; i < n_pairs; i++) {
		keys[i + 2] = kv[2 * i];
		values[i + 2] = kv[2 * i + 1];
	}
	memset(err, 0, sizeof(*err));
	return connection_config_parse(cfg, keys, values, n_pairs + 2, err);
}

static const char *lookup(size_t n, char **keys, char **values, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (streq(keys[i], key))
			return values[i];
	return NULL;
}

static void free_map(size_t n, char **keys, char **values)
{
	for (size_t i = 0; i < n; i++) {
		free(keys[i]);
		free(values[i]);
	}
	free(keys);
	free(values);
}

static void test_option_defaults(void)
{
	struct connection_config cfg;
	struct ctl_error err;
	g_assert_cmpint(parse(&cfg, NULL, 0, &err), ==, 0);
	g_assert_cmpuint(cfg.dpddelay, ==, 0);
	g_assert_cmpuint(cfg.dpdtimeout, ==, 120);
	g_assert_cmpuint(cfg.dpdaction, ==, DPD_ACTION_HOLD);
	size_t n;
	char **k, **v;
	connection_config_normalise(&cfg, &n, &k, &v);
	g_assert_cmpstr(lookup(n, k, v, "dpddelay"), ==, "0s");
	g_assert_cmpstr(lookup(n, k, v, "dpdtimeout"), ==, "120s");
	g_assert_cmpstr(lookup(n, k, v, "dpdaction"), ==, "hold");
	free_map(n, k, v);
	connection_config_free(&cfg);
}

static void test_option_values(void)
{
	static const struct { const char *delay, *timeout, *action; unsigned long long d, t; unsigned a; } ok[] = {
		{ "30", "2m", "clear", 30, 120, DPD_ACTION_CLEAR },
		{ "1s", "4", "restart", 1, 4, DPD_ACTION_RESTART },
		{ "1m", "1h", "hold", 60, 3600, DPD_ACTION_HOLD },
		{ "0", "5", "restart", 0, 5, DPD_ACTION_RESTART },
	};
	for (size_t i = 0; i < N(ok); i++) {
		const char *kv[] = { "dpddelay", ok[i].delay, "dpdtimeout", ok[i].timeout, "dpdaction", ok[i].action };
		struct connection_config cfg;
		struct ctl_error err;
		g_assert_cmpint(parse(&cfg, kv, 3, &err), ==, 0);
		g_assert_cmpuint(cfg.dpddelay, ==, ok[i].d);
		g_assert_cmpuint(cfg.dpdtimeout, ==, ok[i].t);
		g_assert_cmpuint(cfg.dpdaction, ==, ok[i].a);
		size_t n;
		char **k, **v;
		connection_config_normalise(&cfg, &n, &k, &v);
		char want[32];
		snprintf(want, sizeof(want), "%llus", ok[i].d);
		g_assert_cmpstr(lookup(n, k, v, "dpddelay"), ==, want);
		snprintf(want, sizeof(want), "%llus", ok[i].t);
		g_assert_cmpstr(lookup(n, k, v, "dpdtimeout"), ==, want);
		g_assert_cmpstr(lookup(n, k, v, "dpdaction"), ==, ok[i].action);
		free_map(n, k, v);
		connection_config_free(&cfg);
	}
}

static void test_option_bad(void)
{
	static const struct { const char *key, *value; } bad[] = {
		{ "dpddelay", "-1" }, { "dpddelay", "soon" }, { "dpddelay", "10x" }, { "dpddelay", "" },
		{ "dpdtimeout", "0" }, { "dpdtimeout", "forever" }, { "dpdtimeout", "5y" },
		{ "dpdaction", "restart_by_peer" }, { "dpdaction", "none" }, { "dpdaction", "HOLD" },
	};
	for (size_t i = 0; i < N(bad); i++) {
		const char *kv[] = { bad[i].key, bad[i].value };
		struct connection_config cfg;
		struct ctl_error err;
		g_assert_cmpint(parse(&cfg, kv, 1, &err), ==, -1);
		g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);
		g_assert_nonnull(strstr(err.message, bad[i].key));
		char quoted[64];
		snprintf(quoted, sizeof(quoted), "'%s'", bad[i].value);
		g_assert_nonnull(strstr(err.message, quoted));
	}
}

static void test_option_timeout_vs_delay(void)
{
	static const char *const pairs[][2] = { { "30", "30" }, { "60", "30" }, { "2m", "1m" } };
	for (size_t i = 0; i < N(pairs); i++) {
		const char *kv[] = { "dpddelay", pairs[i][0], "dpdtimeout", pairs[i][1] };
		struct connection_config cfg;
		struct ctl_error err;
		g_assert_cmpint(parse(&cfg, kv, 2, &err), ==, -1);
		g_assert_cmpint(err.code, ==, PE_INVALID_OPTION);
		g_assert_nonnull(strstr(err.message, "dpdtimeout"));
		g_assert_nonnull(strstr(err.message, "dpddelay"));
	}
	/* only the default timeout against a longer delay */
	const char *kv[] = { "dpddelay", "5m" };
	struct connection_config cfg;
	struct ctl_error err;
	g_assert_cmpint(parse(&cfg, kv, 1, &err), ==, -1);
	g_assert_nonnull(strstr(err.message, "dpdtimeout (120s) must be longer than dpddelay (300s)"));
}

/* --- notifications --- */

static GString *logged;

static void capture(int priority, const char *line, void *ud)
{
	(void)priority;
	(void)ud;
	g_string_append(logged, line);
	g_string_append_c(logged, '\n');
}

struct fixture {
	struct connection c;
	struct v1_state *s;
	uint8_t spi[16];
	uint8_t seq[4];
	struct payload p;
};

static void fixture_setup(struct fixture *f, bool established)
{
	memset(f, 0, sizeof(*f));
	f->c.name = (char *)"dpd-unit";
	f->c.this = 0;
	f->c.that = 1;
	f->c.cfg.dpddelay = 5;
	f->c.cfg.dpdtimeout = 20;
	f->c.cfg.dpdaction = DPD_ACTION_HOLD;
	ip_address peer, local;
	g_assert_true(ip_parse("192.0.2.2", &peer));
	g_assert_true(ip_parse("192.0.2.1", &local));
	f->s = v1_state_new(&f->c, STATE_KIND_ISAKMP, true, &peer, 500, &local, 500);
	memset(f->s->icookie, 0x11, 8);
	memset(f->s->rcookie, 0x22, 8);
	f->s->st->established = established;
	memcpy(f->spi, f->s->icookie, 8);
	memcpy(f->spi + 8, f->s->rcookie, 8);
	put_be32(f->seq, 0x01020304);
	f->p = (struct payload){ .type = PT_N, .data = f->seq, .data_len = 4 };
	f->p.u.n.type = N_R_U_THERE;
	f->p.u.n.protocol = PROTO_ISAKMP;
	f->p.u.n.spi_size = 16;
	f->p.u.n.spi = f->spi;
	g_string_truncate(logged, 0);
}

static void fixture_teardown(struct fixture *f)
{
	state_delete(f->s->st);   /* the free hook releases v1 and DPD data */
}

static void test_r_u_there_answered(void)
{
	struct fixture f;
	fixture_setup(&f, true);
	dpd_notification(f.s, &f.p);
	g_assert_nonnull(strstr(logged->str, "sending notification R_U_THERE_ACK"));
	g_assert_null(strstr(logged->str, "ignored"));
	fixture_teardown(&f);
}

static void test_r_u_there_refused(void)
{
	static const char *const whys[] = {
		"not yet established", "SPI size", "protocol", "cookies", "bytes of data",
	};
	for (size_t i = 0; i < N(whys); i++) {
		struct fixture f;
		fixture_setup(&f, i != 0);
		uint8_t other[16];
		memset(other, 0x33, sizeof(other));
		switch (i) {
		case 1: f.p.u.n.spi_size = 8; break;
		case 2: f.p.u.n.protocol = PROTO_IPSEC_ESP; break;
		case 3: f.p.u.n.spi = other; break;
		case 4: f.p.data_len = 3; break;
		default: break;
		}
		dpd_notification(f.s, &f.p);
		g_assert_null(strstr(logged->str, "sending notification"));
		g_assert_nonnull(strstr(logged->str, "ignored"));
		g_assert_nonnull(strstr(logged->str, whys[i]));
		fixture_teardown(&f);
	}
}

static void test_ack_unexpected(void)
{
	struct fixture f;
	fixture_setup(&f, true);
	f.p.u.n.type = N_R_U_THERE_ACK;
	dpd_notification(f.s, &f.p);
	g_assert_nonnull(strstr(logged->str, "not waiting for; ignored"));
	g_assert_null(strstr(logged->str, "sending"));
	fixture_teardown(&f);
}

static void test_heard_starts_dpd(void)
{
	struct fixture f;
	char buf[128];
	/* the peer did not announce DPD: nothing to watch */
	fixture_setup(&f, true);
	f.s->have_keys = true;
	dpd_heard(f.s);
	g_assert_null(f.s->dpd);
	g_assert_cmpstr(dpd_status_str(f.s->st, buf, sizeof(buf)), ==, "");
	/* announced: watched from the first authenticated message on */
	f.s->peer_caps = VID_DPD;
	dpd_heard(f.s);
	g_assert_nonnull(f.s->dpd);
	g_assert_nonnull(strstr(logged->str, "DPD: active, delay 5 s, timeout 20 s, action hold"));
	g_assert_cmpstr(dpd_status_str(f.s->st, buf, sizeof(buf)), ==,
			"DPD: active, delay 5 s, timeout 20 s, action hold");
	fixture_teardown(&f);
	/* dpddelay=0: we answer but never ask */
	fixture_setup(&f, true);
	f.s->have_keys = true;
	f.s->peer_caps = VID_DPD;
	f.c.cfg.dpddelay = 0;
	dpd_heard(f.s);
	g_assert_null(f.s->dpd);
	fixture_teardown(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	logged = g_string_new(NULL);
	log_init(LOG_TO_STDERR, "test-dpd");
	log_set_hook(capture, NULL);
	state_set_free_hook(v1_state_free_hook);
	g_test_add_func("/dpd/seq/start", test_seq_start);
	g_test_add_func("/dpd/seq/ack", test_seq_ack);
	g_test_add_func("/dpd/seq/wrap", test_seq_wrap);
	g_test_add_func("/dpd/options/defaults", test_option_defaults);
	g_test_add_func("/dpd/options/values", test_option_values);
	g_test_add_func("/dpd/options/bad", test_option_bad);
	g_test_add_func("/dpd/options/timeout-vs-delay", test_option_timeout_vs_delay);
	g_test_add_func("/dpd/notify/r-u-there-answered", test_r_u_there_answered);
	g_test_add_func("/dpd/notify/r-u-there-refused", test_r_u_there_refused);
	g_test_add_func("/dpd/notify/ack-unexpected", test_ack_unexpected);
	g_test_add_func("/dpd/heard-starts-dpd", test_heard_starts_dpd);
	int r = g_test_run();
	g_string_free(logged, TRUE);
	return r;
}
