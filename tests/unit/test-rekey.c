/* When an SA is replaced (src/daemon/rekey.c rekey_margin_for): the man
 * page's rekeymargin + 0..rekeyfuzz% for SAs we initiated, half of
 * rekeymargin for the peer's, and the caps that keep a short-lived SA from
 * being replaced at once. */
#include <glib.h>

#include "daemon/ikev1/ikev1.h"

static void test_initiator(void)
{
	/* 8 h SA, margin 9 min: no fuzz drawn -> 540 s; 100% drawn -> 1080 s */
	g_assert_cmpuint(rekey_margin_for(28800, 540, 0, true), ==, 540);
	g_assert_cmpuint(rekey_margin_for(28800, 540, 100, true), ==, 1080);
	g_assert_cmpuint(rekey_margin_for(28800, 540, 50, true), ==, 810);
}

static void test_responder(void)
{
	/* the peer's SA: half of rekeymargin, whatever the fuzz */
	g_assert_cmpuint(rekey_margin_for(28800, 540, 0, false), ==, 270);
	g_assert_cmpuint(rekey_margin_for(3600, 60, 0, false), ==, 30);
	/* the responder always waits longer than the initiator would */
	for (unsigned fuzz = 0; fuzz <= 100; fuzz += 10)
		g_assert_cmpuint(rekey_margin_for(28800, 540, 0, false), <, rekey_margin_for(28800, 540, fuzz, true));
}

static void test_caps(void)
{
	/* a 20 s SA (a peer's short lifetime) with the default 9 min margin:
	 * replaced half way (we initiated it) or at 3/4 (the peer did) */
	g_assert_cmpuint(rekey_margin_for(20, 540, 0, true), ==, 10);
	g_assert_cmpuint(rekey_margin_for(20, 540, 0, false), ==, 5);
	g_assert_cmpuint(rekey_margin_for(20, 540, 100, true), ==, 10);
	/* a margin that fits is not touched */
	g_assert_cmpuint(rekey_margin_for(16, 6, 0, true), ==, 6);
	g_assert_cmpuint(rekey_margin_for(16, 8, 0, false), ==, 4);
	g_assert_cmpuint(rekey_margin_for(0, 540, 0, true), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rekey/initiator", test_initiator);
	g_test_add_func("/rekey/responder", test_responder);
	g_test_add_func("/rekey/caps", test_caps);
	return g_test_run();
}
