/* Overload control of new Main Modes (daemon/rxload.h): the decision at
 * each threshold, which reason is named when several hold, and the
 * refusals' log lines: at most one a second, and together they count
 * every refusal (the benchmark sums them). */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "daemon/log.h"
#include "daemon/rxload.h"

static const struct rxload_facts quiet = {
	.since_drop_usec = UINT64_MAX, .helpers = 2,
};

static void test_quiet(void)
{
	g_assert_cmpint(rxload_verdict(&quiet), ==, RXLOAD_OK);
}

static void test_loop_behind(void)
{
	struct rxload_facts f = quiet;
	f.queued_usec = RXLOAD_LOOP_BEHIND_USEC;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_OK);
	f.queued_usec++;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_LOOP_BEHIND);
	char text[96];
	f.queued_usec = 350 * 1000;
	rxload_reason_text(RXLOAD_LOOP_BEHIND, &f, text, sizeof(text));
	g_assert_cmpstr(text, ==, "event loop 350 ms behind");
}

static void test_kernel_drops(void)
{
	struct rxload_facts f = quiet;
	f.since_drop_usec = 0;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_KERNEL_DROPS);
	f.since_drop_usec = RXLOAD_DROPS_WINDOW_USEC - 1;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_KERNEL_DROPS);
	f.since_drop_usec = RXLOAD_DROPS_WINDOW_USEC;   /* a second ago: over */
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_OK);
}

static void test_helpers_full(void)
{
	struct rxload_facts f = quiet;
	/* 2 helpers of 16 jobs: refused beyond 3/4, 24 */
	f.helper_backlog = 24;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_OK);
	f.helper_backlog = 25;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_HELPERS_FULL);
	char text[96];
	rxload_reason_text(RXLOAD_HELPERS_FULL, &f, text, sizeof(text));
	g_assert_cmpstr(text, ==, "25 jobs queued for 2 crypto helpers");
	/* without helpers the work is the loop's: its delay tells */
	f.helpers = 0;
	f.helper_backlog = 1000;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_OK);
}

static void test_half_open(void)
{
	struct rxload_facts f = quiet;
	f.ho.refusal = RXLOAD_HALF_OPEN;
	f.ho.in_pool = 768;
	f.ho.pool = "%any";
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_HALF_OPEN);
	char text[96];
	rxload_reason_text(RXLOAD_HALF_OPEN, &f, text, sizeof(text));
	g_assert_cmpstr(text, ==, "768 half-open Main Mode negotiations of %any");
	f.ho.refusal = RXLOAD_HALF_OPEN_SOURCE;
	f.ho.from_source = 5;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_HALF_OPEN_SOURCE);
	rxload_reason_text(RXLOAD_HALF_OPEN_SOURCE, &f, text, sizeof(text));
	g_assert_cmpstr(text, ==, "5 half-open Main Mode negotiations from this address");
	f.ho.refusal = RXLOAD_OK;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_OK);
}

/* a configured peer's MI1 is not refused for load, only by its pool */
static void test_load_exempt(void)
{
	struct rxload_facts f = quiet;
	f.queued_usec = 500 * 1000;
	f.since_drop_usec = 10;
	f.helper_backlog = 100;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_LOOP_BEHIND);
	f.ho.load_exempt = true;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_OK);
	f.ho.refusal = RXLOAD_HALF_OPEN;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_HALF_OPEN);
}

static void test_first_reason_named(void)
{
	struct rxload_facts f = quiet;
	f.helper_backlog = 100;
	f.ho.refusal = RXLOAD_HALF_OPEN;
	f.since_drop_usec = 10;
	f.queued_usec = 500 * 1000;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_LOOP_BEHIND);
	f.queued_usec = 0;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_KERNEL_DROPS);
	f.since_drop_usec = UINT64_MAX;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_HELPERS_FULL);
	f.helper_backlog = 0;
	g_assert_cmpint(rxload_verdict(&f), ==, RXLOAD_HALF_OPEN);
}

/* the log lines, through log.c's test hook */
static GPtrArray *lines;
static void capture(int priority, const char *line, void *ud)
{
	(void)priority, (void)ud;
	if (strstr(line, "overloaded ("))
		g_ptr_array_add(lines, g_strdup(line));
}

/* "..., N refused in the last second; ...": N */
static unsigned refused_in(const char *line)
{
	const char *p = strstr(line, "refused, ");
	g_assert_nonnull(p);
	return (unsigned)strtoul(p + strlen("refused, "), NULL, 10);
}

static void run_for(sd_event *e, uint64_t usec)
{
	uint64_t until = g_get_monotonic_time() + usec;
	while ((uint64_t)g_get_monotonic_time() < until)
		sd_event_run(e, until - (uint64_t)g_get_monotonic_time());
}

static void test_refusals_logged(void)
{
	sd_event *e = NULL;
	g_assert_cmpint(sd_event_new(&e), >=, 0);
	rxload_set_event(e);
	lines = g_ptr_array_new_with_free_func(g_free);
	log_set_hook(capture, NULL);
	ip_address from;
	g_assert_true(ip_parse("192.0.2.7", &from));
	uint64_t before = rxload_refused_total();
	const struct rxload_half_open admit = { .refusal = RXLOAD_OK };

	/* a datagram that did not wait: admitted */
	rxload_datagram(1000, 0);
	g_assert_false(rxload_refuse_main_mode(&admit, &from, 500));
	/* one that waited 300 ms: refused, and said at once */
	rxload_datagram(300 * 1000, 0);
	g_assert_true(rxload_refuse_main_mode(&admit, &from, 500));
	g_assert_cmpuint(lines->len, ==, 1);
	g_assert_nonnull(strstr(g_ptr_array_index(lines, 0),
				"overloaded (event loop 300 ms behind): new Main Mode from 192.0.2.7:500 refused, "
				"1 refused in the last second; negotiations under way continue"));
	/* the kernel dropped some: refused for a second, quietly */
	rxload_datagram(0, 3);
	for (unsigned i = 0; i < 4; i++)
		g_assert_true(rxload_refuse_main_mode(&admit, &from, 500));
	g_assert_cmpuint(lines->len, ==, 1);
	/* a second after the first line, the timer says the 4 */
	rxload_datagram(0, 0);
	run_for(e, RXLOAD_DROPS_WINDOW_USEC + 100 * 1000);
	g_assert_cmpuint(lines->len, ==, 2);
	g_assert_nonnull(strstr(g_ptr_array_index(lines, 1), "(kernel dropped IKE datagrams"));
	g_assert_cmpuint(refused_in(g_ptr_array_index(lines, 1)), ==, 4);
	/* the half-open limit the engine passes */
	struct rxload_half_open full = { .refusal = RXLOAD_HALF_OPEN, .pool = "%any", .in_pool = 768 };
	g_assert_true(rxload_refuse_main_mode(&full, &from, 500));
	run_for(e, 1200 * 1000);   /* the flush of that one, then quiet */
	g_assert_cmpuint(lines->len, ==, 3);
	g_assert_nonnull(strstr(g_ptr_array_index(lines, 2), "(768 half-open Main Mode negotiations of %any)"));

	unsigned sum = 0;
	for (unsigned i = 0; i < lines->len; i++)
		sum += refused_in(g_ptr_array_index(lines, i));
	g_assert_cmpuint(sum, ==, rxload_refused_total() - before);
	g_assert_cmpuint(sum, ==, 6);

	log_set_hook(NULL, NULL);
	g_ptr_array_unref(lines);
	rxload_set_event(NULL);
	sd_event_unref(e);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rxload/quiet", test_quiet);
	g_test_add_func("/rxload/loop-behind", test_loop_behind);
	g_test_add_func("/rxload/kernel-drops", test_kernel_drops);
	g_test_add_func("/rxload/helpers-full", test_helpers_full);
	g_test_add_func("/rxload/half-open", test_half_open);
	g_test_add_func("/rxload/load-exempt", test_load_exempt);
	g_test_add_func("/rxload/first-reason-named", test_first_reason_named);
	g_test_add_func("/rxload/refusals-logged", test_refusals_logged);
	return g_test_run();
}
