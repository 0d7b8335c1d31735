/* The load generator's results: every tunnel's outcome and latency,
 * failures counted by reason and by the message waited for, and the
 * responder's CPU time (utime + stime of its process(es), children
 * included, from /proc/PID/stat) sampled at the start, after every batch
 * of finished handshakes and at the end, so that a run shows whether the
 * cost per handshake stays flat as tunnels accumulate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg.h"

#define MAX_PIDS 16
#define NOTIFY_TYPES 32      /* RFC 2408 error types are 1..30 */

struct lg_report {
	int pids[MAX_PIDS];
	size_t n_pids;
	unsigned batch;
	FILE *per_tunnel;
	uint64_t start_us;
	double cpu_start_ms, cpu_batch_ms;
	unsigned finished, established;
	uint32_t *latency_us;        /* of the established ones */
	size_t n_latency, cap_latency;
	unsigned failures[LG_REASON__MAX][LG_FAILED + 1];
	unsigned notifies[NOTIFY_TYPES + 1];   /* the last slot: any other type */
	char batches[8192];          /* "cpu_ms,cpu_ms,..." of every whole batch */
	size_t batches_len;
	uint64_t batch_start_us;
	uint64_t last_us;            /* when the last tunnel finished (lingering excluded) */
};

const char *lg_reason_name(enum lg_reason r)
{
	static const char *const names[] = {
		[LG_OK] = "ok", [LG_TIMEOUT] = "timeout", [LG_NOTIFY] = "notification",
		[LG_PROPOSAL] = "proposal not ours", [LG_MALFORMED] = "malformed",
		[LG_AUTH] = "authentication", [LG_DH] = "bad KE value", [LG_INTERNAL] = "internal",
	};
	return r < LG_REASON__MAX ? names[r] : "?";
}

/* utime + stime + cutime + cstime of every pid, in ms; -1 when a pid
 * is gone (the responder died: the caller says so) */
static double cpu_ms(const struct lg_report *r)
{
	double total = 0;
	long hz = sysconf(_SC_CLK_TCK);
	for (size_t i = 0; i < r->n_pids; i++) {
		char path[64], line[1024];
		snprintf(path, sizeof(path), "/proc/%d/stat", r->pids[i]);
		FILE *f = fopen(path, "r");
		if (!f)
			return -1;
		size_t n = fread(line, 1, sizeof(line) - 1, f);
		fclose(f);
		line[n] = '\0';
		/* the command name may hold spaces and parentheses: fields
		 * count from the last ')' (proc(5): utime is field 14) */
		char *p = strrchr(line, ')');
		unsigned long long v[4];
		if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
				 &v[0], &v[1], &v[2], &v[3]) != 4)
			return -1;
		total += (double)(v[0] + v[1] + v[2] + v[3]) * 1000.0 / (double)hz;
	}
	return total;
}

struct lg_report *lg_report_new(const char *pids, unsigned batch, const char *per_tunnel_file)
{
	struct lg_report *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	for (const char *p = pids; p && *p && r->n_pids < MAX_PIDS;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		r->pids[r->n_pids++] = (int)v;
		p = *end == ',' ? end + 1 : end;
	}
	r->batch = batch ? batch : 1000;
	if (per_tunnel_file) {
		r->per_tunnel = fopen(per_tunnel_file, "w");
		if (r->per_tunnel)
			fprintf(r->per_tunnel, "index,source,result,waiting_for,notify,latency_ms\n");
	}
	return r;
}

void lg_report_start(struct lg_report *r, uint64_t now_us)
{
	r->start_us = r->batch_start_us = now_us;
	r->cpu_start_ms = r->cpu_batch_ms = r->n_pids ? cpu_ms(r) : 0;
}

void lg_report_finished(struct lg_report *r, const struct lg_tunnel *t, unsigned index, uint64_t now_us)
{
	uint64_t lat = t->end_us - t->start_us;
	r->finished++;
	r->last_us = now_us;
	if (t->step == LG_DONE) {
		r->established++;
		if (r->n_latency == r->cap_latency) {
			r->cap_latency = r->cap_latency ? 2 * r->cap_latency : 1024;
			r->latency_us = realloc(r->latency_us, r->cap_latency * sizeof(*r->latency_us));
			if (!r->latency_us)
				abort();
		}
		r->latency_us[r->n_latency++] = (uint32_t)(lat > UINT32_MAX ? UINT32_MAX : lat);
	} else {
		r->failures[t->reason][t->failed_at]++;
		if (t->reason == LG_NOTIFY)
			r->notifies[t->notify < NOTIFY_TYPES ? t->notify : NOTIFY_TYPES]++;
	}
	if (r->per_tunnel)
		fprintf(r->per_tunnel, "%u,%u.%u.%u.%u,%s,%s,%s,%.3f\n", index, t->source >> 24,
			(t->source >> 16) & 255, (t->source >> 8) & 255, t->source & 255,
			t->step == LG_DONE ? "established" : lg_reason_name(t->reason),
			t->step == LG_DONE ? "" : lg_step_name(t->failed_at),
			t->reason == LG_NOTIFY ? notify_type_name(t->notify) : "", (double)lat / 1000.0);
	if (r->finished % r->batch == 0) {
		double now_cpu = r->n_pids ? cpu_ms(r) : 0;
		double d = now_cpu - r->cpu_batch_ms;
		double secs = (double)(now_us - r->batch_start_us) / 1e6;
		printf("batch %u: %u finished, responder cpu %.0f ms (%.3f ms/handshake), %.1f handshakes/s\n",
		       r->finished / r->batch, r->finished, d, d / r->batch, secs > 0 ? r->batch / secs : 0);
		fflush(stdout);
		if (r->batches_len + 32 < sizeof(r->batches))
			r->batches_len += (size_t)snprintf(r->batches + r->batches_len,
							   sizeof(r->batches) - r->batches_len, "%s%.0f",
							   r->batches_len ? "," : "", d);
		r->cpu_batch_ms = now_cpu;
		r->batch_start_us = now_us;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(const struct lg_report *r, double p)
{
	if (!r->n_latency)
		return 0;
	size_t i = (size_t)(p * (double)(r->n_latency - 1) + 0.5);
	return r->latency_us[i] / 1000.0;
}

unsigned lg_report_end(struct lg_report *r, uint64_t now_us)
{
	double secs = (double)((r->last_us ? r->last_us : now_us) - r->start_us) / 1e6;
	double cpu = r->n_pids ? cpu_ms(r) - r->cpu_start_ms : 0;
	unsigned failed = r->finished - r->established;
	if (r->n_latency)
		qsort(r->latency_us, r->n_latency, sizeof(*r->latency_us), cmp_u32);
	printf("established %u of %u in %.2f s: %.1f handshakes/s\n", r->established, r->finished, secs,
	       secs > 0 ? r->established / secs : 0);
	printf("latency ms: p50 %.1f, p90 %.1f, p99 %.1f, max %.1f\n", pct(r, .5), pct(r, .9), pct(r, .99),
	       pct(r, 1));
	if (r->n_pids)
		printf("responder cpu: %.0f ms, %.3f ms per established handshake\n", cpu,
		       r->established ? cpu / r->established : 0);
	for (int reason = 1; reason < LG_REASON__MAX; reason++)
		for (int step = 0; step <= LG_FAILED; step++)
			if (r->failures[reason][step])
				printf("failed: %s waiting for %s: %u\n", lg_reason_name((enum lg_reason)reason),
				       lg_step_name((enum lg_step)step), r->failures[reason][step]);
	for (unsigned type = 0; type <= NOTIFY_TYPES; type++)
		if (r->notifies[type])
			printf("failed: notification %s: %u\n", type < NOTIFY_TYPES ? notify_type_name(type) : "other",
			       r->notifies[type]);
	/* one line for scripts (tests/bench/handshakes.sh) */
	printf("RESULT established=%u failed=%u elapsed_ms=%.0f cpu_ms=%.0f p50_ms=%.1f p99_ms=%.1f "
	       "batch_cpu_ms=%s\n",
	       r->established, failed, secs * 1000, cpu, pct(r, .5), pct(r, .99),
	       r->batches_len ? r->batches : "-");
	fflush(stdout);
	if (r->per_tunnel)
		fclose(r->per_tunnel);
	free(r->latency_us);
	free(r);
	return failed;
}
