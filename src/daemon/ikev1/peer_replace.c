/* Replacing a peer's old SAs (peer_replace.h).
 *
 * Both policies pick states by the peer's identity as the ISAKMP SA
 * authenticated it (st->peer_id, copied to the IPsec SAs negotiated over
 * it; empty until established, so half-open negotiations are never
 * picked) and never touch the new ISAKMP SA itself.
 *
 * uniqueids: a peer identity is one host at a time. When an ISAKMP SA is
 * established with identity X from address A, the states of OTHER
 * connections (instances included) whose peer is X at an address other
 * than A are deleted, and the peer is told (Deletes): that is a road
 * warrior that moved. The new SA's own connection is left alone (rekeying
 * replaces its SAs when they expire), and so are other connections to X
 * at A: they are the same host's parallel connections (a Quick Mode
 * switched to another subnet lives on another connection); a host that
 * restarted at A says so with INITIAL-CONTACT.
 *
 * INITIAL-CONTACT (RFC 2407 4.6.3.3): the peer has just started and has
 * forgotten every SA it had with us, so every other state whose peer has
 * the same identity and address goes, without Deletes (nobody would
 * understand them), whether or not --uniqueids is on. We send it in MI3
 * (encrypted, as strongSwan does in MM5) only when we have no established
 * SA at all, ISAKMP or IPsec, with the peer's identity: IPsec SAs outlive
 * their ISAKMP SA, and the peer would drop them on our word. We
 * honour it in an authenticated MI3 or MR3 or a protected Informational. */
#include "daemon/ikev1/peer_replace.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/connections.h"
#include "daemon/ikev1/ikev1.h"
#include "daemon/log.h"
#include "policy/sa.h"

static bool uniqueids;

void peer_replace_set_uniqueids(bool on)
{
	uniqueids = on;
}

/* --- choosing and deleting --- */

enum replace_why { WHY_UNIQUEIDS, WHY_INITIAL_CONTACT };

struct victims {
	unsigned *serials;
	size_t n;
};

static bool picked(const struct state *st, const struct state *fresh, enum replace_why why)
{
	if (st == fresh || !st->v1 || strcmp(st->peer_id, fresh->peer_id) != 0)
		return false;
	/* IPsec SAs negotiated over the new ISAKMP SA (INITIAL_CONTACT in an
	 * Informational after Quick Mode) belong to the fresh start */
	if (st->kind == STATE_KIND_IPSEC && st->v1->isakmp_serial == fresh->serial)
		return false;
	bool same_host = ip_equal(&st->peer, &fresh->peer);
	if (why == WHY_INITIAL_CONTACT)
		return same_host;
	return !same_host && st->connection != fresh->connection;
}

/* Serials of the states to go: IPsec SAs first, so each Delete for one
 * still has its ISAKMP SA to travel over. */
static int newest_first(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x > y ? -1 : x < y;
}

/* The candidates share the fresh state's peer_id: the index by peer_id
 * gives them (never a walk of all states); newest first, as the list. */
static void collect(const struct state *fresh, enum replace_why why, struct victims *v)
{
	size_t max = 0;
	for (const struct state *st = state_by_peer_id(fresh->peer_id); st; st = state_by_peer_id_next(st, fresh->peer_id))
		max++;
	v->serials = xcalloc(max + 1, sizeof(*v->serials));
	v->n = 0;
	for (int pass = 0; pass < 2; pass++) {
		enum state_kind kind = pass == 0 ? STATE_KIND_IPSEC : STATE_KIND_ISAKMP;
		size_t first = v->n;
		for (const struct state *st = state_by_peer_id(fresh->peer_id); st;
		     st = state_by_peer_id_next(st, fresh->peer_id))
			if (st->kind == kind && picked(st, fresh, why))
				v->serials[v->n++] = st->serial;
		qsort(v->serials + first, v->n - first, sizeof(*v->serials), newest_first);
	}
}

static void replace(struct state *fresh, enum replace_why why)
{
	struct victims v;
	collect(fresh, why, &v);
	unsigned fresh_serial = fresh->serial;
	for (size_t i = 0; i < v.n; i++) {
		struct state *st = state_by_serial(v.serials[i]);
		if (!st)
			continue;   /* went with an earlier one */
		char ab[IP_STR_MAX];
		const char *kind = st->kind == STATE_KIND_ISAKMP ? "ISAKMP" : "IPsec";
		if (why == WHY_UNIQUEIDS)
			llog(STATE_LOGGER(st), LS_INFO, MSGID_STATE,
			     "uniqueids: replacing older %s SA #%u of peer id %s at %s (new ISAKMP SA #%u)",
			     kind, st->serial, st->peer_id, ip_str(&st->peer, ab), fresh_serial);
		else
			llog(STATE_LOGGER(st), LS_INFO, MSGID_STATE,
			     "INITIAL_CONTACT: deleting older %s SA #%u of peer id %s at %s without a Delete "
			     "(the peer has forgotten it)", kind, st->serial, st->peer_id, ip_str(&st->peer, ab));
		v1_delete_state(st, why == WHY_UNIQUEIDS);
	}
	free(v.serials);
}

static void honour_initial_contact(struct v1_state *isakmp, const char *where)
{
	struct state *st = isakmp->st;
	char ab[IP_STR_MAX];
	llog(STATE_LOGGER(st), LS_INFO, MSGID_STATE,
	     "received INITIAL_CONTACT in %s from peer id %s at %s: its older SAs are stale", where,
	     st->peer_id, ip_str(&st->peer, ab));
	replace(st, WHY_INITIAL_CONTACT);
}

/* --- the engine's calls --- */

void peer_replace_emit_initial_contact(struct v1_state *s, struct pbuf *pb)
{
	struct connection *c = s->st->connection;
	struct pluto_id want;
	v1_peer_id(c, &want);
	char wb[ID_STR_MAX];
	id_str(&want, wb);
	/* a peer we know only by its address: compare the address; each
	 * through its index, not a walk of all states */
	bool by_address = want.kind == ID_ANY;
	for (const struct state *st = by_address ? state_by_peer(&s->st->peer) : state_by_peer_id(wb); st;
	     st = by_address ? state_by_peer_next(st, &s->st->peer) : state_by_peer_id_next(st, wb)) {
		/* IPsec SAs count too: they outlive their ISAKMP SA, and the
		 * peer would drop them on our word */
		if (st == s->st || !st->established)
			continue;
		if (by_address ? ip_equal(&st->peer, &s->st->peer) : streq(st->peer_id, wb)) {
			DBG(DBG_CONTROL, c, "#%u: %s SA #%u with the peer exists: no INITIAL_CONTACT",
			    s->st->serial, st->kind == STATE_KIND_ISAKMP ? "ISAKMP" : "IPsec", st->serial);
			return;
		}
	}
	uint8_t spi[16];
	memcpy(spi, s->icookie, 8);
	memcpy(spi + 8, s->rcookie, 8);
	emit_notify(pb, ISAKMP_DOI_IPSEC, PROTO_ISAKMP, N_INITIAL_CONTACT, spi, 16, NULL, 0);
	DBG(DBG_CONTROL, c, "#%u: sending INITIAL_CONTACT in MI3 (no ISAKMP SA with the peer yet)",
	    s->st->serial);
}

static bool has_initial_contact(const struct v1_msg *m)
{
	for (size_t i = 0; i < m->md.n_payloads; i++) {
		const struct payload *p = &m->md.payloads[i];
		if (p->type == PT_N && p->u.n.type == N_INITIAL_CONTACT && p->u.n.protocol == PROTO_ISAKMP)
			return true;
	}
	return false;
}

void peer_replace_established(struct v1_state *s, const struct v1_msg *m)
{
	if (m && has_initial_contact(m))
		honour_initial_contact(s, s->st->initiator ? "MR3" : "MI3");
	if (uniqueids && state_by_serial(s->st->serial) == s->st)
		replace(s->st, WHY_UNIQUEIDS);
}

void peer_replace_initial_contact(struct v1_state *isakmp)
{
	if (!isakmp || isakmp->st->kind != STATE_KIND_ISAKMP || !isakmp->st->established) {
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "ignoring INITIAL_CONTACT outside an established ISAKMP SA");
		return;
	}
	honour_initial_contact(isakmp, "an Informational exchange");
}
