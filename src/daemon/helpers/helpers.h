/* The crypto helper pool: a few worker threads that run the expensive
 * part of a handshake (Diffie-Hellman, the SKEYID PRF chain, RSA
 * signatures) off the sd-event loop, so handshakes use every core and
 * the loop stays free for packets, timers, Varlink and D-Bus.
 *
 * States stay single-threaded: a worker only sees a self-contained job
 * (copies of its inputs, its own outputs) and never a struct state. The
 * loop learns that a job finished through an eventfd; it then calls the
 * job's done() with the job, unless the job was cancelled meanwhile (its
 * state was deleted), and always the job's release() after, which wipes
 * the secrets in it.
 *
 * Two queues: urgent jobs (work of established ISAKMP SAs and of
 * negotiations already past their first exchange) are always taken
 * before new Main Modes, so an overload delays new tunnels, not the ones
 * being built.
 *
 * With 0 helpers (the default of tests and fuzzers, which never call
 * helpers_start) helpers_submit() runs the job at once in the caller:
 * everything stays deterministic and single-threaded. */
#pragma once
#include <stdbool.h>

struct sd_event;

struct helper_job {
	unsigned serial;             /* the state the result is for (logs, checks) */
	bool urgent;                 /* served before every non-urgent job */
	/* in a worker thread: only the job's own memory */
	void (*work)(struct helper_job *job);
	/* in the loop, when the job was not cancelled */
	void (*done)(struct helper_job *job);
	/* in the loop, always last: wipes and frees the job */
	void (*release)(struct helper_job *job);
	/* set in the loop by helpers_cancel(); a worker that has not
	 * started the job yet skips its work */
	bool cancelled;
	struct helper_job *next;
};

/* The default number of helpers: one per CPU this process may run on. */
unsigned helpers_default_count(void);
/* Starts n worker threads whose results come back on event (after any
 * fork). n == 0: no threads, every job runs inline. Returns 0 or -errno
 * (then no thread runs and jobs run inline). */
int helpers_start(struct sd_event *event, unsigned n);
/* Joins the workers; queued jobs are released without their done(). */
void helpers_stop(void);
unsigned helpers_count(void);

/* Queues the job: true when a worker will run it (done() and release()
 * follow in the loop). false when there are no helpers: work() has run
 * in the caller, which uses the results and releases the job itself. */
bool helpers_submit(struct helper_job *job);
/* Its state is gone: done() will not be called, release() still is. */
void helpers_cancel(struct helper_job *job);
/* Jobs submitted whose results the loop has not handled yet, and of
 * those the non-urgent ones (the overload checks of new Main Modes). */
unsigned helpers_backlog(void);
unsigned helpers_backlog_new(void);
