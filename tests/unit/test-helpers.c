/* The crypto helper pool (daemon/helpers/helpers.h): with no threads a
 * job runs inline; with threads every job comes back to the loop, done()
 * only for jobs not cancelled (a state deleted while its job ran: its
 * result must never be applied), release() for all of them; urgent jobs
 * before new ones. */
#include <glib.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "daemon/helpers/helpers.h"

struct test_job {
	struct helper_job h;
	int input, output;
	bool *applied;               /* set by done(): the "state" took the result */
	int *released;
};

static void work(struct helper_job *h)
{
	struct test_job *j = (struct test_job *)h;
	usleep(20000);               /* long enough for the loop to cancel meanwhile */
	j->output = j->input * 2;
}

static unsigned done_count;
static void done(struct helper_job *h)
{
	struct test_job *j = (struct test_job *)h;
	g_assert_cmpint(j->output, ==, j->input * 2);
	*j->applied = true;
	done_count++;
}

static void release(struct helper_job *h)
{
	struct test_job *j = (struct test_job *)h;
	(*j->released)++;
	g_free(j);
}

static struct test_job *job_new(unsigned serial, int input, bool *applied, int *released)
{
	struct test_job *j = g_new0(struct test_job, 1);
	j->h = (struct helper_job){ .serial = serial, .work = work, .done = done, .release = release };
	j->input = input;
	j->applied = applied;
	j->released = released;
	return j;
}

static void test_inline(void)
{
	bool applied = false;
	int released = 0;
	struct test_job *j = job_new(1, 21, &applied, &released);
	g_assert_cmpuint(helpers_count(), ==, 0);
	g_assert_false(helpers_submit(&j->h));   /* ran in the caller */
	g_assert_cmpint(j->output, ==, 42);
	g_assert_false(applied);                 /* the caller uses the results itself */
	g_assert_cmpuint(helpers_backlog(), ==, 0);
	g_free(j);
}

static void test_threads_cancel(void)
{
	sd_event *e = NULL;
	g_assert_cmpint(sd_event_new(&e), >=, 0);
	g_assert_cmpint(helpers_start(e, 2), ==, 0);
	g_assert_cmpuint(helpers_count(), ==, 2);
	enum { N = 6 };
	bool applied[N] = { false };
	int released = 0;
	struct test_job *jobs[N];
	done_count = 0;
	for (int i = 0; i < N; i++) {
		jobs[i] = job_new((unsigned)i + 1, i, &applied[i], &released);
		jobs[i]->h.urgent = i % 2;
		g_assert_true(helpers_submit(&jobs[i]->h));
	}
	g_assert_cmpuint(helpers_backlog(), ==, N);
	g_assert_cmpuint(helpers_backlog_new(), ==, N / 2);
	/* states 2 and 5 are deleted while their jobs are queued or running */
	helpers_cancel(&jobs[1]->h);
	helpers_cancel(&jobs[4]->h);
	for (int spins = 0; released < N && spins < 1000; spins++)
		sd_event_run(e, 10000);
	g_assert_cmpint(released, ==, N);
	g_assert_cmpuint(done_count, ==, N - 2);
	for (int i = 0; i < N; i++)
		g_assert_true(applied[i] == (i != 1 && i != 4));
	g_assert_cmpuint(helpers_backlog(), ==, 0);
	g_assert_cmpuint(helpers_backlog_new(), ==, 0);
	helpers_stop();
	g_assert_cmpuint(helpers_count(), ==, 0);
	sd_event_unref(e);
}

/* jobs still queued at shutdown are released, never applied */
static void test_stop_releases(void)
{
	sd_event *e = NULL;
	g_assert_cmpint(sd_event_new(&e), >=, 0);
	g_assert_cmpint(helpers_start(e, 1), ==, 0);
	bool applied[4] = { false };
	int released = 0;
	done_count = 0;
	for (int i = 0; i < 4; i++)
		helpers_submit(&job_new((unsigned)i + 1, i, &applied[i], &released)->h);
	helpers_stop();
	g_assert_cmpint(released, ==, 4);
	g_assert_cmpuint(done_count, ==, 0);
	sd_event_unref(e);
}

static void test_default_count(void)
{
	unsigned n = helpers_default_count();
	g_assert_cmpuint(n, >=, 1);
	g_assert_cmpuint(n, <=, 64);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/helpers/inline", test_inline);
	g_test_add_func("/helpers/threads-cancel", test_threads_cancel);
	g_test_add_func("/helpers/stop-releases", test_stop_releases);
	g_test_add_func("/helpers/default-count", test_default_count);
	return g_test_run();
}
