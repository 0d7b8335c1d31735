/* pluto-loadgen --flood RATE: what an attacker sends (issue 14), not a
 * negotiation. N Main Mode first messages (MI1, the proposals of -i) at
 * RATE a second, each with a fresh initiator cookie, from source addresses
 * that need not be ours: the socket is IP_TRANSPARENT (root, or
 * CAP_NET_ADMIN), so IP_PKTINFO may name any address. Sources are
 * FIRST_SOURCE + a random 0..K-1 (--sources K, default 1: one address),
 * and with --forge ADDR every M-th MI1 (--forge-every, default 10) comes
 * from ADDR (a configured peer's address). Answers are read and
 * dropped. One line for scripts at the end:
 *   FLOOD sent=N failed=F seconds=S rate=R */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg.h"

/* The MI1 once; each send changes only its initiator cookie (bytes 0-7
 * of the ISAKMP header) */
static size_t build_mi1(const struct lg_config *cfg, struct pbuf *pb)
{
	struct ike_policy pol = { &cfg->ike, 1u << cfg->auth, cfg->ike_lifetime, IKE_XAUTH_NONE };
	struct sa_payload sa;
	memset(&sa, 0, sizeof(sa));
	ike_sa_build(&pol, &sa);
	struct isakmp_hdr h = { .np = PT_SA, .version = ISAKMP_VERSION, .xchg = XCHG_IDPROT };
	pbuf_init(pb);
	emit_hdr(pb, &h);
	emit_sa(pb, &sa);
	return pbuf_finish(pb);
}

/* xorshift: fast, and good enough to spread sources and cookies */
static uint64_t rng_state;
static uint64_t next_random(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

int lg_flood(const struct lg_config *cfg, const struct lg_flood *f)
{
	if (lg_net_transparent() < 0) {
		perror("pluto-loadgen: IP_TRANSPARENT (needs CAP_NET_ADMIN)");
		return 2;
	}
	struct pbuf pb;
	size_t len = build_mi1(cfg, &pb);
	if (len < ISAKMP_HDR_LEN) {
		fprintf(stderr, "pluto-loadgen: cannot build an MI1\n");
		return 2;
	}
	crypto_random(&rng_state, sizeof(rng_state));
	rng_state |= 1;
	static uint8_t sink[65536];
	unsigned sent = 0, failed = 0;
	uint64_t start = lg_now_us();
	for (unsigned i = 0; i < cfg->n; i++) {
		uint64_t due = start + (uint64_t)i * 1000000 / f->rate, now = lg_now_us();
		if (due > now + 1000) {
			/* between bursts: drop what came back, then sleep */
			uint32_t to;
			while (lg_net_recv(sink, sizeof(sink), &to) > 0)
				;
			poll(NULL, 0, (int)((due - now) / 1000));
		}
		uint64_t cookie = next_random() | 1;   /* never all zero */
		memcpy(pb.data, &cookie, 8);
		uint32_t source = cfg->first_source + (f->sources > 1 ? (uint32_t)(next_random() % f->sources) : 0);
		if (f->forge && f->forge_every && i % f->forge_every == f->forge_every - 1)
			source = f->forge;
		if (lg_net_send(source, cfg->responder, cfg->port, pb.data, len))
			sent++;
		else
			failed++;
	}
	double seconds = (double)(lg_now_us() - start) / 1e6;
	printf("FLOOD sent=%u failed=%u seconds=%.2f rate=%.0f\n", sent, failed, seconds,
	       seconds > 0 ? sent / seconds : 0.0);
	fflush(stdout);
	pbuf_free(&pb);
	return 0;
}
