/* Lifetimes, rekeying and keying attempts, as the man page describes:
 *
 * - An SA we initiated is replaced when less than rekeymargin plus a
 *   random 0..rekeyfuzz percent of rekeymargin of its life remains; one
 *   the peer initiated when half of rekeymargin remains, with roles
 *   reversed (we initiate the replacement). rekey=no: never.
 * - Only the newest SA of its kind (ISAKMP or IPsec) of a connection is
 *   replaced, and the replacement proposes exactly what the old SA uses.
 * - The old SA lives on until its hard expiry: the kernel sends on the
 *   newest SA (eroute takeover, klips/routing.c) and the engine uses the
 *   newest ISAKMP SA for new exchanges, while both keep accepting.
 * - A negotiation that runs out of retransmissions is attempted again
 *   until keyingtries attempts were made (0 = for ever): "starting
 *   keying attempt N of at most M". A Quick Mode that got no answer
 *   starts over with a new Main Mode: its ISAKMP SA is probably dead
 *   (the peer restarted).
 */
#include <stdio.h>

#include <systemd/sd-event.h>

#include "daemon/connections.h"
#include "daemon/crypto/crypto.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
#include "daemon/progress.h"

uint64_t rekey_margin_for(uint64_t lifetime, uint64_t rekeymargin, unsigned fuzz_draw, bool initiator)
{
	uint64_t margin = initiator ? rekeymargin + rekeymargin * fuzz_draw / 100 : rekeymargin / 2;
	uint64_t cap = initiator ? lifetime / 2 : lifetime / 4;
	return margin < cap ? margin : cap;
}

static unsigned fuzz_draw(unsigned rekeyfuzz)
{
	uint32_t r;
	crypto_random(&r, sizeof(r));
	return r % (rekeyfuzz + 1);
}

static const char *kind_name(const struct state *st)
{
	return st->kind == STATE_KIND_ISAKMP ? "ISAKMP" : "IPsec";
}

/* --- starting a negotiation for a connection --- */

/* Quick Mode over the newest ISAKMP SA, or Main Mode first. */
static int start_keying(struct connection *c, bool want_isakmp_only, const struct keying *k,
			struct ctl_error *err)
{
	struct v1_state *isakmp = want_isakmp_only ? NULL : v1_newest_isakmp(c, &END_THAT(c)->host);
	if (isakmp)
		return quick_outI1(isakmp, c, k, err);
	return main_outI1(c, k, err);
}

/* --- replacement --- */

static void replace_sa(struct v1_state *s)
{
	struct state *st = s->st;
	struct connection *c = st->connection;
	unsigned newest = st->kind == STATE_KIND_ISAKMP ? c->newest_isakmp : c->newest_ipsec;
	if (newest != st->serial) {
		DBG(DBG_LIFECYCLE, c, "#%u is not the newest %s SA of \"%s\" (#%u is): not replaced", st->serial,
		    kind_name(st), c->name, newest);
		return;
	}
	llog(LOGGER(c, st), LS_INFO, MSGID_STATE, "initiating rekey to replace %s SA #%u (%s)", kind_name(st),
	     st->serial, st->initiator ? "we initiated it" : "the peer initiated it: roles reversed");
	/* as FreeS/WAN: an ISAKMP SA's replacement is phase 1 only (the IPsec
	 * SAs have their own lifetimes and are replaced on their own) */
	struct keying k = { .attempt = 1, .replacing = st->serial, .phase1_only = st->kind == STATE_KIND_ISAKMP };
	struct ctl_error err;
	if (start_keying(c, st->kind == STATE_KIND_ISAKMP, &k, &err) < 0)
		llog(LOGGER(c, st), LS_SERIOUS, MSGID_STATE, "cannot start the replacement of #%u: %s",
		     st->serial, err.message);
}

static int on_replace(sd_event_source *src, uint64_t usec, void *ud)
{
	(void)src;
	(void)usec;
	replace_sa(ud);
	return 0;
}

void v1_sa_lifetime(struct v1_state *s, uint64_t lifetime)
{
	struct state *st = s->st;
	struct connection *c = st->connection;
	v1_arm_expiry(s, lifetime);
	st->rekey_at_usec = 0;
	if (c->cfg.policy & POLICY_DONT_REKEY)
		return;
	uint64_t margin = rekey_margin_for(lifetime, c->cfg.rekeymargin,
					   st->initiator ? fuzz_draw(c->cfg.rekeyfuzz) : 0, st->initiator);
	uint64_t delay = lifetime - margin;
	if (v1_arm_timer(s, &s->replace_timer, delay * 1000000ULL, on_replace))
		st->rekey_at_usec = st->expires_at_usec - margin * 1000000ULL;
	DBG(DBG_LIFECYCLE, c, "#%u: %s SA lives %llus, replaced %llus before it ends", st->serial, kind_name(st),
	    (unsigned long long)lifetime, (unsigned long long)margin);
}

void v1_rekey_free(struct v1_state *s)
{
	s->replace_timer = sd_event_source_disable_unref(s->replace_timer);
}

/* --- keyingtries --- */

bool v1_keying_retry(struct v1_state *s)
{
	struct state *st = s->st;
	struct connection *c = st->connection;
	unsigned attempt = s->keying_attempt ? s->keying_attempt : 1;
	unsigned limit = c->cfg.keyingtries;
	if (!st->initiator || (limit && attempt >= limit))
		return false;
	char story[48], line[160];
	if (limit)
		snprintf(story, sizeof(story), "at most %u", limit);
	else
		snprintf(story, sizeof(story), "an unlimited number");
	bool waiting = c->sinks != NULL;
	snprintf(line, sizeof(line), "starting keying attempt %u of %s%s", attempt + 1, story,
		 waiting ? ", but releasing whack" : "");
	struct ctl_error why = { .code = PE_NEGOTIATION_FAILED, .rc = RC_NORETRANSMISSION };
	snprintf(why.message, sizeof(why.message), "max number of retransmissions (%u) reached %s",
		 RETRANSMIT_MAX, state_name_str(st->name));
	llog_rc(LOGGER(c, st), LS_INFO, RC_NORETRANSMISSION, MSGID_STATE, "%s", why.message);
	llog_rc(LOGGER(c, st), LS_INFO, RC_COMMENT, MSGID_STATE, "%s", line);
	/* as FreeS/WAN: whoever waits is told now why this attempt ended
	 * (whack prints no line twice), and the attempts go on */
	if (waiting)
		progress_sinks_done(c, &why);
	struct keying k = { .attempt = attempt + 1, .replacing = s->replacing, .phase1_only = s->phase1_only };
	v1_delete_state(st, false);
	/* an unanswered Quick Mode: its ISAKMP SA is likely dead, start over */
	struct ctl_error err;
	if (main_outI1(c, &k, &err) < 0)
		llog(CONN_LOGGER(c), LS_SERIOUS, MSGID_STATE, "keying attempt %u cannot start: %s",
		     attempt + 1, err.message);
	return true;
}
