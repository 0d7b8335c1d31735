/* The invariants of the IKEv1 state table (ikev1_states.c): what the
 * dispatcher relies on without checking at run time. Each check walks a
 * table given to it, so besides passing on the real table every check is
 * shown to fail on a copy broken in the way it guards against. */
#include <ctype.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon/ikev1/ikev1_states.h"
#include "daemon/wire/packet.h"

struct table {
	const struct v1_row *rows;
	size_t n;
};

static char why[256];

static bool fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return false;
}

/* 'I' or 'R' for STATE_x_I1 / STATE_x_R0 ..., 0 for the pseudo-states */
static char role(enum state_name s)
{
	const char *name = state_name_str(s);
	const char *p = strrchr(name, '_');
	if (p && (p[1] == 'I' || p[1] == 'R') && isdigit((unsigned char)p[2]))
		return p[1];
	return 0;
}

static bool establishes(const struct v1_row *r)
{
	return r->reach == REACH_ESTABLISHED || r->reach == REACH_START_QUICK || r->reach == REACH_FINISH;
}

static const struct v1_payload_rule *rule_of(const struct v1_row *r, uint8_t type)
{
	for (size_t i = 0; i < V1_RULES_MAX && r->payloads[i].type; i++)
		if (r->payloads[i].type == type)
			return &r->payloads[i];
	return NULL;
}

/* no two rows for the same (state, exchange): the dispatcher takes the first */
static bool check_unique_keys(const struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		for (size_t j = i + 1; j < t->n; j++)
			if (t->rows[i].from == t->rows[j].from && t->rows[i].xchg == t->rows[j].xchg)
				return fail("rows %zu and %zu are both for %s, exchange %u", i, j,
					    state_name_str(t->rows[i].from), t->rows[i].xchg);
	return true;
}

/* each state reached by at most one row: its duplicate handling is that row's */
static bool check_unique_targets(const struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		for (size_t j = i + 1; j < t->n; j++)
			if (t->rows[i].reach != REACH_NOTHING && t->rows[j].reach != REACH_NOTHING &&
			    t->rows[i].to == t->rows[j].to)
				return fail("rows %zu and %zu both lead to %s", i, j, state_name_str(t->rows[i].to));
	return true;
}

/* every state is reachable from an initial one, and a state no row
 * leaves is an established one (nothing waits there for a message) */
static bool check_reachable(const struct table *t)
{
	bool reached[STATE_NAME__MAX] = { false };
	for (size_t i = 0; i < v1_n_initial_states; i++)
		reached[v1_initial_states[i]] = true;
	for (bool more = true; more;) {
		more = false;
		for (size_t i = 0; i < t->n; i++) {
			const struct v1_row *r = &t->rows[i];
			if (reached[r->from] && !reached[r->to])
				reached[r->to] = more = true;
		}
	}
	for (unsigned s = STATE_UNDEFINED + 1; s < STATE_NAME__MAX; s++) {
		if (!reached[s])
			return fail("%s is not reachable from an initial state", state_name_str((enum state_name)s));
		bool leaves = false, final = false;
		for (size_t i = 0; i < t->n; i++) {
			leaves |= t->rows[i].from == s;
			final |= t->rows[i].to == s && establishes(&t->rows[i]);
		}
		if (!leaves && !final)
			return fail("%s waits for nothing but is not established", state_name_str((enum state_name)s));
		if (leaves && final)
			return fail("%s is established but waits for a message", state_name_str((enum state_name)s));
	}
	return true;
}

/* timers: a request is retransmitted, a responder that waits times out,
 * nothing waits once established */
static bool check_timeouts(const struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct v1_row *r = &t->rows[i];
		const char *n = state_name_str(r->from);
		if ((r->flags & F_REQUEST) && !(r->flags & F_SENDS))
			return fail("%s: a request that is not sent", n);
		if (!!(r->flags & F_REQUEST) != (r->timeout == TIMEOUT_RETRANSMIT))
			return fail("%s: sends a request without retransmitting it, or retransmits no request", n);
		/* in a transaction exchange (XAUTH, Mode Config) the client
		 * also answers the gateway's requests and then waits */
		bool answers = role(r->to) == 'R' || (r->xchg == XCHG_TRANSACTION && !(r->flags & F_REQUEST));
		if (r->timeout == TIMEOUT_RESPONDER && (!answers || establishes(r)))
			return fail("%s: responder timeout for a state that is not a responder's waiting one", n);
		if (!establishes(r) && r->reach != REACH_NOTHING && r->timeout == TIMEOUT_NONE)
			return fail("%s: leads to an unfinished state with no timer", n);
		if (establishes(r) && r->timeout != TIMEOUT_NONE)
			return fail("%s: established but a timer runs", n);
	}
	return true;
}

/* duplicates: only what we sent can be re-sent; a final answer nobody
 * retransmits must be re-sent when the peer's message comes again; our
 * own retransmitted request is never sent in answer to a duplicate */
static bool check_duplicates(const struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct v1_row *r = &t->rows[i];
		const char *n = state_name_str(r->from);
		if (r->duplicate == DUP_RESEND && !(r->flags & F_SENDS))
			return fail("%s: re-sends on a duplicate but sends nothing", n);
		if ((r->flags & F_SENDS) && !(r->flags & F_REQUEST) && r->duplicate != DUP_RESEND)
			return fail("%s: a lost answer would never be re-sent", n);
		if ((r->flags & F_REQUEST) && role(r->from) == 'I' && r->duplicate != DUP_DROP)
			return fail("%s: an initiator's request answers duplicates (ping-pong)", n);
	}
	return true;
}

/* HASH(1) on Quick Mode's first message and protected Informationals,
 * HASH(2) on its second, HASH(3) on its third; encrypted, HASH first */
static bool check_hashes(const struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct v1_row *r = &t->rows[i];
		const char *n = state_name_str(r->from);
		bool ok;
		switch (r->hash) {
		case V1_HASH_NONE:
			ok = r->xchg == XCHG_IDPROT || (r->xchg == XCHG_INFO && !(r->flags & F_ENCRYPTED));
			break;
		case V1_HASH_1:
			ok = (r->xchg == XCHG_QUICK && r->from == STATE_QUICK_R0) ||
			     (r->xchg == XCHG_INFO && r->from == STATE_INFO_PROTECTED) ||
			     r->xchg == XCHG_TRANSACTION;   /* prf(SKEYID_a, M-ID | ATTR) */
			break;
		case V1_HASH_2:
			ok = r->xchg == XCHG_QUICK && r->from == STATE_QUICK_I1;
			break;
		case V1_HASH_3:
			ok = r->xchg == XCHG_QUICK && r->from == STATE_QUICK_R1;
			break;
		default:
			ok = false;
		}
		if (!ok)
			return fail("%s: HASH kind %d does not fit exchange %u", n, r->hash, r->xchg);
		if (r->hash == V1_HASH_NONE)
			continue;
		const struct v1_payload_rule *h = rule_of(r, PT_HASH);
		if (!(r->flags & F_ENCRYPTED) || !h || h->min < 1)
			return fail("%s: checks a HASH but the message need not be encrypted or carry one", n);
		if (r->xchg == XCHG_QUICK && h->max != 1)
			return fail("%s: Quick Mode with more than one HASH", n);
	}
	return true;
}

/* payload counts: sane bounds, listed once each in type order (the first
 * missing one is reported), only top-level types the parser knows */
static bool check_payload_rules(const struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct v1_row *r = &t->rows[i];
		const char *n = state_name_str(r->from);
		unsigned prev = 0, required = 0;
		for (size_t k = 0; k < V1_RULES_MAX && r->payloads[k].type; k++) {
			const struct v1_payload_rule *p = &r->payloads[k];
			if (p->type <= prev)
				return fail("%s: payload %s out of order or listed twice", n, payload_type_name(p->type));
			prev = p->type;
			if (p->type == PT_P || p->type == PT_T || p->type >= ISAKMP_PRIVATE_PAYLOAD_MIN ||
			    !strcmp(payload_type_name(p->type), "unknown"))
				return fail("%s: rule for payload type %u, not a top-level one", n, p->type);
			if (p->max < 1 || p->min > p->max)
				return fail("%s: %s payload %u..%u", n, payload_type_name(p->type), p->min, p->max);
			required += p->min > 0;
		}
		if (!required && !(r->flags & F_ANY_OTHER))
			return fail("%s: a message without any payload would be accepted", n);
		if (rule_of(r, PT_D) && r->xchg != XCHG_INFO)
			return fail("%s: Delete payloads outside Informational", n);
		if (r->xchg == XCHG_QUICK && rule_of(r, PT_SA) && rule_of(r, PT_SA)->max != 1)
			return fail("%s: Quick Mode with several SA payloads", n);
	}
	return true;
}

/* protection: Main Mode encrypted from its third message on, Quick Mode
 * always, Informational as its row says; handlers and texts present */
static bool check_rows(const struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct v1_row *r = &t->rows[i];
		const char *n = state_name_str(r->from);
		bool enc = r->flags & F_ENCRYPTED;
		if (!r->handler)
			return fail("%s: no handler", n);
		if (r->xchg == XCHG_QUICK && !enc)
			return fail("%s: unencrypted Quick Mode", n);
		if (r->xchg == XCHG_IDPROT && enc != (r->from == STATE_MAIN_R2 || r->from == STATE_MAIN_I3))
			return fail("%s: Main Mode encrypted before the keys or plain after", n);
		if (r->xchg == XCHG_INFO && enc != (r->from == STATE_INFO_PROTECTED))
			return fail("%s: Informational protection does not match its pseudo-state", n);
		if ((r->reach == REACH_NOTHING) != (r->from == r->to))
			return fail("%s: a row without a transition must stay, and only it", n);
		if (r->reach != REACH_NOTHING && !r->what)
			return fail("%s: no text for the state reached", n);
		if (r->reach == REACH_PROGRESS && r->rc != RC_NEW_STATE)
			return fail("%s: a progress line not coded as a new state", n);
		if (r->reach == REACH_FINISH && r->rc != RC_SUCCESS)
			return fail("%s: the callers' wait ends without success", n);
		if ((r->reach == REACH_START_QUICK || r->reach == REACH_FINISH) && role(r->from) != 'I')
			return fail("%s: only an initiator has callers to finish or Quick Mode to start", n);
		if (r->reach == REACH_START_QUICK && r->xchg != XCHG_IDPROT)
			return fail("%s: Quick Mode started by something other than Main Mode", n);
		if ((r->flags & F_NO_ANSWER) && r->xchg != XCHG_INFO)
			return fail("%s: an exchange that never answers refusals", n);
	}
	return true;
}

typedef bool (*check_fn)(const struct table *t);
static const struct { const char *name; check_fn fn; } checks[] = {
	{ "unique keys", check_unique_keys },
	{ "unique targets", check_unique_targets },
	{ "reachable", check_reachable },
	{ "timeouts", check_timeouts },
	{ "duplicates", check_duplicates },
	{ "hashes", check_hashes },
	{ "payload rules", check_payload_rules },
	{ "rows", check_rows },
};

static const struct table real = { v1_rows, 0 };

static struct table real_table(void)
{
	struct table t = real;
	t.n = v1_n_rows;
	return t;
}

static void test_real_table(void)
{
	struct table t = real_table();
	g_assert_cmpuint(t.n, >=, 9);
	for (size_t i = 0; i < G_N_ELEMENTS(checks); i++) {
		why[0] = '\0';
		if (!checks[i].fn(&t))
			g_error("%s: %s", checks[i].name, why);
	}
}

/* The lookups the dispatcher uses agree with the table. */
static void test_lookups(void)
{
	for (size_t i = 0; i < v1_n_rows; i++) {
		const struct v1_row *r = &v1_rows[i];
		g_assert_true(v1_row_for(r->from, r->xchg) == r);
		if (r->reach != REACH_NOTHING)
			g_assert_true(v1_row_reaching(r->to) == r);
		for (size_t k = 0; k < V1_RULES_MAX && r->payloads[k].type; k++)
			g_assert_true(v1_row_rule(r, r->payloads[k].type) == &r->payloads[k]);
		g_assert_null(v1_row_rule(r, PT_P));
	}
	g_assert_null(v1_row_for(STATE_MAIN_R0, XCHG_AGGRESSIVE));
	g_assert_null(v1_row_for(STATE_MAIN_R3, XCHG_IDPROT));
	g_assert_null(v1_row_reaching(STATE_MAIN_I1));
	g_assert_null(v1_row_reaching(STATE_INFO));
	/* what the man page's whack sees: 1xx while under way, 004 at the end */
	const struct v1_row *i2 = v1_row_for(STATE_MAIN_I1, XCHG_IDPROT);
	g_assert_cmpint(v1_row_rc(i2, STATE_MAIN_I2, false), ==, RC_NEW_STATE + STATE_MAIN_I2);
	g_assert_cmpint(v1_row_rc(i2, STATE_MAIN_I2, true), ==, RC_SUCCESS);
	const struct v1_row *qi2 = v1_row_for(STATE_QUICK_I1, XCHG_QUICK);
	g_assert_cmpint(v1_row_rc(qi2, STATE_QUICK_I2, false), ==, RC_SUCCESS);
}

/* What the handlers used to decide in code, now read from the rows. */
static void test_columns(void)
{
	/* the responder's answers are re-sent on duplicates (was resend_on_duplicate) */
	static const enum state_name resend[] = { STATE_MAIN_R1, STATE_MAIN_R2, STATE_MAIN_R3,
						  STATE_QUICK_R1, STATE_QUICK_I2,
						  /* answers in transaction exchanges */
						  STATE_XAUTH_I1, STATE_XAUTH_I2, STATE_MODE_CFG_R1,
						  STATE_MODE_CFG_I3 };
	for (unsigned s = STATE_UNDEFINED + 1; s < STATE_NAME__MAX; s++) {
		const struct v1_row *r = v1_row_reaching((enum state_name)s);
		bool want = false;
		for (size_t i = 0; i < G_N_ELEMENTS(resend); i++)
			want |= resend[i] == s;
		g_assert_cmpint(r && r->duplicate == DUP_RESEND, ==, want);
	}
	g_assert_cmpint(v1_row_for(STATE_QUICK_R0, XCHG_QUICK)->hash, ==, V1_HASH_1);
	g_assert_cmpint(v1_row_for(STATE_QUICK_I1, XCHG_QUICK)->hash, ==, V1_HASH_2);
	g_assert_cmpint(v1_row_for(STATE_QUICK_R1, XCHG_QUICK)->hash, ==, V1_HASH_3);
	g_assert_cmpint(v1_row_for(STATE_INFO_PROTECTED, XCHG_INFO)->hash, ==, V1_HASH_1);
	g_assert_cmpint(v1_row_for(STATE_INFO, XCHG_INFO)->hash, ==, V1_HASH_NONE);
	g_assert_cmpint(v1_row_for(STATE_MAIN_I3, XCHG_IDPROT)->reach, ==, REACH_START_QUICK);
	g_assert_cmpint(v1_row_for(STATE_MAIN_R1, XCHG_IDPROT)->timeout, ==, TIMEOUT_RESPONDER);
	g_assert_cmpint(v1_row_for(STATE_QUICK_R0, XCHG_QUICK)->timeout, ==, TIMEOUT_RETRANSMIT);
	/* one SA in MI1, VIDs without limit, one HASH in Quick Mode */
	const struct v1_row *r0 = v1_row_for(STATE_MAIN_R0, XCHG_IDPROT);
	g_assert_cmpuint(v1_row_rule(r0, PT_SA)->min, ==, 1);
	g_assert_cmpuint(v1_row_rule(r0, PT_SA)->max, ==, 1);
	g_assert_cmpuint(v1_row_rule(r0, PT_VID)->max, ==, PAYLOAD_MANY);
	g_assert_null(v1_row_rule(r0, PT_KE));
	g_assert_cmpuint(v1_row_rule(v1_row_for(STATE_QUICK_R1, XCHG_QUICK), PT_HASH)->max, ==, 1);
}

/* The transaction rows (XAUTH, Mode Config): HASH(1) then one ATTR,
 * encrypted; the side that sends REQUEST/SET retransmits, the other
 * re-sends its answer; whack codes 100 + state continue after the
 * Informational pseudo-states. */
static void test_transaction_rows(void)
{
	static const struct { enum state_name from, to; bool request; } rows[] = {
		{ STATE_XAUTH_R0, STATE_XAUTH_R1, true }, { STATE_XAUTH_R1, STATE_XAUTH_R2, false },
		{ STATE_MODE_CFG_R0, STATE_MODE_CFG_R1, false }, { STATE_MODE_CFG_R2, STATE_MODE_CFG_R3, false },
		{ STATE_XAUTH_I0, STATE_XAUTH_I1, false }, { STATE_XAUTH_I1, STATE_XAUTH_I2, false },
		{ STATE_MODE_CFG_I0, STATE_MODE_CFG_I3, false }, { STATE_MODE_CFG_I1, STATE_MODE_CFG_I2, false },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		const struct v1_row *r = v1_row_for(rows[i].from, XCHG_TRANSACTION);
		g_assert_nonnull(r);
		g_assert_cmpint(r->to, ==, rows[i].to);
		g_assert_cmpint(r->hash, ==, V1_HASH_1);
		g_assert_true(r->flags & F_ENCRYPTED);
		g_assert_cmpint(!!(r->flags & F_REQUEST), ==, rows[i].request);
		g_assert_cmpuint(v1_row_rule(r, PT_HASH)->min, ==, 1);
		g_assert_cmpuint(v1_row_rule(r, PT_ATTR)->min, ==, 1);
		g_assert_cmpuint(v1_row_rule(r, PT_ATTR)->max, ==, 1);
		g_assert_null(v1_row_for(rows[i].from, XCHG_QUICK));
	}
	/* nothing of the transaction before Main Mode is done */
	g_assert_null(v1_row_for(STATE_MAIN_R3, XCHG_TRANSACTION));
	g_assert_null(v1_row_for(STATE_MAIN_I4, XCHG_TRANSACTION));
	g_assert_cmpint(STATE_XAUTH_R0, ==, STATE_INFO_PROTECTED + 1);
	const struct v1_row *r = v1_row_for(STATE_XAUTH_I0, XCHG_TRANSACTION);
	g_assert_cmpint(v1_row_rc(r, STATE_XAUTH_I1, false), ==, RC_NEW_STATE + STATE_XAUTH_I1);
	g_assert_cmpstr(state_name_str(STATE_MODE_CFG_I3), ==, "STATE_MODE_CFG_I3");
}

/* A copy of the table with row `i` changed by fn, checked by check. */
static bool broken(size_t i, void (*fn)(struct v1_row *r, struct v1_row *all, size_t *n), check_fn check)
{
	static struct v1_row copy[64];
	g_assert_cmpuint(v1_n_rows + 1, <=, G_N_ELEMENTS(copy));
	memcpy(copy, v1_rows, v1_n_rows * sizeof(*copy));
	size_t n = v1_n_rows;
	fn(&copy[i], copy, &n);
	struct table t = { copy, n };
	why[0] = '\0';
	bool ok = check(&t);
	if (!ok)
		g_test_message("caught: %s", why);
	return ok;
}

static size_t row_index(enum state_name from, uint8_t xchg)
{
	return (size_t)(v1_row_for(from, xchg) - v1_rows);
}

static void no_timeout(struct v1_row *r, struct v1_row *all, size_t *n) { (void)all; (void)n; r->timeout = TIMEOUT_NONE; }
static void no_request(struct v1_row *r, struct v1_row *all, size_t *n) { (void)all; (void)n; r->flags &= ~(unsigned)F_REQUEST; }
static void drop_dup(struct v1_row *r, struct v1_row *all, size_t *n) { (void)all; (void)n; r->duplicate = DUP_DROP; }
static void resend_dup(struct v1_row *r, struct v1_row *all, size_t *n) { (void)all; (void)n; r->duplicate = DUP_RESEND; }
static void no_hash(struct v1_row *r, struct v1_row *all, size_t *n) { (void)all; (void)n; r->hash = V1_HASH_NONE; }
static void hash2(struct v1_row *r, struct v1_row *all, size_t *n) { (void)all; (void)n; r->hash = V1_HASH_2; }
static void bad_bounds(struct v1_row *r, struct v1_row *all, size_t *n) { (void)all; (void)n; r->payloads[0].min = 2; r->payloads[0].max = 1; }
static void swap_rules(struct v1_row *r, struct v1_row *all, size_t *n)
{
	(void)all;
	(void)n;
	struct v1_payload_rule x = r->payloads[0];
	r->payloads[0] = r->payloads[1];
	r->payloads[1] = x;
}
static void rule_for_t(struct v1_row *r, struct v1_row *all, size_t *n) { (void)all; (void)n; r->payloads[0].type = PT_T; }
static void unreach(struct v1_row *r, struct v1_row *all, size_t *n) { (void)all; (void)n; r->from = STATE_MAIN_R3; }
static void dup_key(struct v1_row *r, struct v1_row *all, size_t *n) { all[(*n)++] = *r; all[*n - 1].to = STATE_INFO; }
static void plain_qm(struct v1_row *r, struct v1_row *all, size_t *n) { (void)all; (void)n; r->flags &= ~(unsigned)F_ENCRYPTED; }
static void responder_finishes(struct v1_row *r, struct v1_row *all, size_t *n) { (void)all; (void)n; r->reach = REACH_FINISH; }

static void test_checks_catch(void)
{
	size_t mi1 = row_index(STATE_MAIN_I1, XCHG_IDPROT), mr0 = row_index(STATE_MAIN_R0, XCHG_IDPROT);
	size_t mr2 = row_index(STATE_MAIN_R2, XCHG_IDPROT), mi3 = row_index(STATE_MAIN_I3, XCHG_IDPROT);
	size_t qr0 = row_index(STATE_QUICK_R0, XCHG_QUICK), qi1 = row_index(STATE_QUICK_I1, XCHG_QUICK);
	size_t qr1 = row_index(STATE_QUICK_R1, XCHG_QUICK);
	size_t info = row_index(STATE_INFO_PROTECTED, XCHG_INFO);
	g_assert_false(broken(mi1, no_timeout, check_timeouts));      /* request without retransmission */
	g_assert_false(broken(mi1, no_request, check_timeouts));      /* retransmits no request */
	g_assert_false(broken(mr0, drop_dup, check_duplicates));      /* lost MR1 never re-sent */
	g_assert_false(broken(mi1, resend_dup, check_duplicates));    /* ping-pong */
	g_assert_false(broken(mi3, resend_dup, check_duplicates));    /* re-sends what it never sent */
	g_assert_false(broken(qr0, no_hash, check_hashes));           /* QI1 without HASH(1) */
	g_assert_false(broken(qr1, hash2, check_hashes));             /* QI2 checked as HASH(2) */
	g_assert_false(broken(info, no_hash, check_hashes));
	g_assert_false(broken(mr2, bad_bounds, check_payload_rules));
	g_assert_false(broken(qi1, swap_rules, check_payload_rules));
	g_assert_false(broken(mr0, rule_for_t, check_payload_rules));
	g_assert_false(broken(row_index(STATE_MAIN_R2, XCHG_IDPROT), unreach, check_reachable));
	g_assert_false(broken(mr0, dup_key, check_unique_keys));
	g_assert_false(broken(qr0, plain_qm, check_rows));
	g_assert_false(broken(qr1, responder_finishes, check_rows));
	size_t xr0 = row_index(STATE_XAUTH_R0, XCHG_TRANSACTION);
	g_assert_false(broken(xr0, no_hash, check_hashes));           /* ATTR without HASH(1) */
	g_assert_false(broken(xr0, no_timeout, check_timeouts));      /* REQUEST never re-sent */
	g_assert_false(broken(row_index(STATE_XAUTH_I0, XCHG_TRANSACTION), drop_dup, check_duplicates));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ikev1-table/invariants", test_real_table);
	g_test_add_func("/ikev1-table/lookups", test_lookups);
	g_test_add_func("/ikev1-table/columns", test_columns);
	g_test_add_func("/ikev1-table/checks-catch", test_checks_catch);
	g_test_add_func("/ikev1-table/transaction", test_transaction_rows);
	return g_test_run();
}
