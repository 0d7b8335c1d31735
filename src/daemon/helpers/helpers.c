/* The crypto helper pool (helpers.h): worker threads fed from two FIFO
 * queues under one mutex, results handed back through a list and an
 * eventfd the sd-event loop watches. */
#include "daemon/helpers/helpers.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "daemon/log.h"

#define HELPERS_MAX 64

struct fifo {
	struct helper_job *head, *tail;
};

static void fifo_push(struct fifo *q, struct helper_job *job)
{
	job->next = NULL;
	if (q->tail)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
}

static struct helper_job *fifo_pop(struct fifo *q)
{
	struct helper_job *job = q->head;
	if (job) {
		q->head = job->next;
		if (!q->head)
			q->tail = NULL;
		job->next = NULL;
	}
	return job;
}

/* shared with the workers, under lock */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct fifo urgent_q, new_q, done_q;
static bool stopping;

/* the loop's own */
static pthread_t threads[HELPERS_MAX];
static unsigned n_threads;
static int done_fd = -1;
static sd_event_source *done_source;
static unsigned backlog, backlog_new;

unsigned helpers_default_count(void)
{
	cpu_set_t set;
	long n = 0;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	if (n <= 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 0)
		n = 1;
	return n > HELPERS_MAX ? HELPERS_MAX : (unsigned)n;
}

unsigned helpers_count(void)
{
	return n_threads;
}

unsigned helpers_backlog(void)
{
	return backlog;
}

unsigned helpers_backlog_new(void)
{
	return backlog_new;
}

static void *worker_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		struct helper_job *job = NULL;
		while (!stopping && !(job = fifo_pop(&urgent_q)) && !(job = fifo_pop(&new_q)))
			pthread_cond_wait(&wake, &lock);
		if (!job)
			break;
		pthread_mutex_unlock(&lock);
		if (!__atomic_load_n(&job->cancelled, __ATOMIC_ACQUIRE))
			job->work(job);
		pthread_mutex_lock(&lock);
		bool was_empty = !done_q.head;
		fifo_push(&done_q, job);
		if (was_empty) {
			/* one wakeup per batch: the loop takes the whole list */
			uint64_t one = 1;
			ssize_t w = write(done_fd, &one, sizeof(one));
			(void)w;   /* only fails when the counter would overflow: already readable */
		}
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void finish(struct helper_job *job)
{
	backlog--;
	if (!job->urgent)
		backlog_new--;
	if (!__atomic_load_n(&job->cancelled, __ATOMIC_ACQUIRE))
		job->done(job);
	job->release(job);
}

static int on_done(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	(void)src, (void)revents, (void)userdata;
	uint64_t count;
	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return 0;
	pthread_mutex_lock(&lock);
	struct helper_job *list = done_q.head;
	done_q.head = done_q.tail = NULL;
	pthread_mutex_unlock(&lock);
	while (list) {
		struct helper_job *job = list;
		list = job->next;
		finish(job);
	}
	return 0;
}

int helpers_start(struct sd_event *event, unsigned n)
{
	if (n_threads || n == 0)
		return 0;
	if (n > HELPERS_MAX)
		n = HELPERS_MAX;
	done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (done_fd < 0)
		return -errno;
	int r = sd_event_add_io(event, &done_source, done_fd, EPOLLIN, on_done, NULL);
	if (r < 0) {
		close(done_fd);
		done_fd = -1;
		return r;
	}
	stopping = false;
	for (unsigned i = 0; i < n; i++) {
		r = -pthread_create(&threads[i], NULL, worker_main, NULL);
		if (r < 0)
			break;
		char name[16];
		snprintf(name, sizeof(name), "pluto-helper%u", i);
		pthread_setname_np(threads[i], name);
		n_threads++;
	}
	if (r < 0) {
		helpers_stop();
		return r;
	}
	llog(GLOBAL_LOGGER, LS_INFO, MSGID_STARTUP, "%u crypto helper thread%s started", n_threads,
	     n_threads == 1 ? "" : "s");
	return 0;
}

void helpers_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	for (unsigned i = 0; i < n_threads; i++)
		pthread_join(threads[i], NULL);
	n_threads = 0;
	/* nobody runs them any more: their states are going away too */
	struct helper_job *job;
	while ((job = fifo_pop(&urgent_q)) || (job = fifo_pop(&new_q)) || (job = fifo_pop(&done_q))) {
		__atomic_store_n(&job->cancelled, true, __ATOMIC_RELEASE);
		finish(job);
	}
	done_source = sd_event_source_disable_unref(done_source);
	if (done_fd >= 0)
		close(done_fd);
	done_fd = -1;
}

bool helpers_submit(struct helper_job *job)
{
	if (!n_threads) {
		job->work(job);
		return false;
	}
	backlog++;
	if (!job->urgent)
		backlog_new++;
	pthread_mutex_lock(&lock);
	fifo_push(job->urgent ? &urgent_q : &new_q, job);
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	return true;
}

void helpers_cancel(struct helper_job *job)
{
	if (job)
		__atomic_store_n(&job->cancelled, true, __ATOMIC_RELEASE);
}
