/* pluto-loadgen: options, and the closed loop: at most C handshakes in
 * flight, a new one started as soon as one ends, until N tunnels have
 * finished (established or failed). See lg.h and tests/bench/README.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "lg.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pluto-loadgen -s FIRST_SOURCE -d RESPONDER [options]\n"
		"  -n N            tunnels, one per source address FIRST_SOURCE + i (default 1000)\n"
		"  -c C            handshakes in flight (default 16)\n"
		"  -a psk|rsa      authentication (default psk)\n"
		"  -k SECRET       the preshared key\n"
		"  --id FQDN       our Main Mode ID for every tunnel (default: each one's source address)\n"
		"  --key FILE      our RSA private key (PEM), --peer-key FILE the responder's public key (PEM)\n"
		"  -i IKE          ike= proposals, pluto's vocabulary (default aes128-sha1-modp2048)\n"
		"  -e ESP          esp= proposals (default aes128-sha1)\n"
		"  -g GROUP        pfsgroup= (default: none, unless esp= names a group)\n"
		"  -p PORT         the responder's IKE port, also ours (default 500)\n"
		"  -r MS           first retransmission after MS (doubled each time; default 2000)\n"
		"  -t TRIES        sends of one message before giving up (default 4)\n"
		"  -T MS           give a handshake up after MS in all (default 60000)\n"
		"  -P PID[,PID]    the responder's processes: their CPU time is reported\n"
		"  -b B            /proc sample every B finished handshakes (default 1000)\n"
		"  -o FILE         one CSV line per tunnel (result, reason, latency)\n"
		"  --linger MS     stay MS after the last tunnel finished (default 5000): a finished tunnel\n"
		"                  answers a repeated QR1 (the responder lost our QI2 and re-sends its QR1\n"
		"                  after 2 s) with its QI2 again, so that no tunnel stays half up\n"
		"  --delete        then delete every established tunnel as its peer would (Informational\n"
		"                  Delete of the IPsec SA, then of the ISAKMP SA), C tunnels per millisecond\n"
		"  --hold MS       with --delete: keep the tunnels up MS after the summary line (default 0)\n"
		"  --delete-rate R with --delete: R tunnels a second (default 0: C a millisecond)\n"
		"  --flood RATE    no tunnels: -n MI1s with fresh cookies at RATE a second (lg-flood.c)\n"
		"  --sources K     with --flood: from FIRST_SOURCE + a random 0..K-1 (default 1)\n"
		"  --forge ADDR    with --flood: every --forge-every M-th MI1 (default 10) from ADDR\n");
}

static EVP_PKEY *read_key(const char *file, bool private)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "pluto-loadgen: %s: %s\n", file, strerror(errno));
		return NULL;
	}
	EVP_PKEY *k = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!k)
		fprintf(stderr, "pluto-loadgen: %s: not a PEM %s key\n", file, private ? "private" : "public");
	return k;
}

static bool parse_addr(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*out = ntohl(a.s_addr);
	return true;
}

static int parse_options(int argc, char **argv, struct lg_config *cfg, const char **pids, unsigned *batch,
			 const char **csv, unsigned *linger_ms, struct lg_flood *flood)
{
	static const struct option longs[] = {
		{ "key", required_argument, NULL, 'K' }, { "peer-key", required_argument, NULL, 'Q' },
		{ "linger", required_argument, NULL, 'L' }, { "id", required_argument, NULL, 'I' },
		{ "delete", no_argument, NULL, 'D' }, { "hold", required_argument, NULL, 'H' },
		{ "delete-rate", required_argument, NULL, 'R' },
		{ "flood", required_argument, NULL, 'F' }, { "sources", required_argument, NULL, 'S' },
		{ "forge", required_argument, NULL, 'G' }, { "forge-every", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *ike = "aes128-sha1-modp2048", *esp = "aes128-sha1", *pfs = NULL, *key = NULL, *peer = NULL;
	char why[256];
	bool have_src = false, have_dst = false;
	int o;
	while ((o = getopt_long(argc, argv, "n:c:s:d:a:k:i:e:g:p:r:t:T:P:b:o:h", longs, NULL)) != -1) {
		switch (o) {
		case 'n': cfg->n = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': cfg->in_flight = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': have_src = parse_addr(optarg, &cfg->first_source); break;
		case 'd': have_dst = parse_addr(optarg, &cfg->responder); break;
		case 'a':
			if (strcmp(optarg, "psk") && strcmp(optarg, "rsa")) {
				fprintf(stderr, "pluto-loadgen: -a takes psk or rsa\n");
				return 2;
			}
			cfg->auth = strcmp(optarg, "rsa") ? OAKLEY_PRESHARED_KEY : OAKLEY_RSA_SIG;
			break;
		case 'k': cfg->psk = optarg; break;
		case 'i': ike = optarg; break;
		case 'e': esp = optarg; break;
		case 'g': pfs = optarg; break;
		case 'p': cfg->port = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 'r': cfg->retransmit_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': cfg->tries = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': cfg->timeout_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': *pids = optarg; break;
		case 'b': *batch = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'o': *csv = optarg; break;
		case 'K': key = optarg; break;
		case 'Q': peer = optarg; break;
		case 'I': cfg->fqdn = optarg; break;
		case 'L': *linger_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'D': cfg->delete_after = true; break;
		case 'H': cfg->hold_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'R': cfg->delete_rate = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'F': flood->rate = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'S': flood->sources = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'G':
			if (!parse_addr(optarg, &flood->forge)) {
				fprintf(stderr, "pluto-loadgen: --forge %s: not an IPv4 address\n", optarg);
				return 2;
			}
			break;
		case 'E': flood->forge_every = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (!have_src || !have_dst || !cfg->n || !cfg->in_flight || !cfg->tries || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!ike_proposals_parse(ike, &cfg->ike, why, sizeof(why)) ||
	    !esp_proposals_parse(esp, &cfg->esp, why, sizeof(why))) {
		fprintf(stderr, "pluto-loadgen: %s\n", why);
		return 2;
	}
	if (pfs) {
		unsigned bits;
		cfg->pfs_group = alg_parse(1u << ALG_DH, pfs, &bits, why, sizeof(why));
		if (!cfg->pfs_group) {
			fprintf(stderr, "pluto-loadgen: -g: %s\n", why);
			return 2;
		}
	}
	if (cfg->auth == OAKLEY_RSA_SIG) {
		if (!key || !peer) {
			fprintf(stderr, "pluto-loadgen: -a rsa needs --key and --peer-key\n");
			return 2;
		}
		if (!(cfg->own_key = read_key(key, true)) || !(cfg->peer_key = read_key(peer, false)))
			return 2;
	} else if (!cfg->psk && !flood->rate) {
		fprintf(stderr, "pluto-loadgen: -a psk needs -k SECRET\n");
		return 2;
	}
	return 0;
}

/* tunnels[i] ended: report it and start the next one in its slot */
static void on_finished(const struct lg_config *cfg, struct lg_tunnel *tunnels, unsigned i,
			struct lg_report *rep, unsigned *next, unsigned *slot, uint64_t now_us)
{
	lg_report_finished(rep, &tunnels[i], i, now_us);
	if (*next < cfg->n) {
		*slot = (*next)++;
		lg_start(cfg, &tunnels[*slot], now_us);
		if (!tunnels[*slot].x)   /* failed at once: report, try the next */
			on_finished(cfg, tunnels, *slot, rep, next, slot, now_us);
	} else {
		*slot = UINT32_MAX;
	}
}

/* --delete: every established tunnel's two Deletes, C tunnels at a time
 * with a millisecond between, or --delete-rate tunnels a second (Deletes
 * are not answered: what the responder's socket buffer cannot hold while
 * it works is lost, and the benchmark would count it as a leak); one
 * line for scripts. */
static void delete_all(const struct lg_config *cfg, struct lg_tunnel *tunnels)
{
	unsigned sent = 0, failed = 0;
	uint64_t start = lg_now_us();
	for (unsigned i = 0; i < cfg->n; i++) {
		if (!tunnels[i].sa)
			continue;
		if (cfg->delete_rate) {
			uint64_t due = start + (uint64_t)(sent + failed) * 1000000 / cfg->delete_rate, now = lg_now_us();
			if (due > now)
				poll(NULL, 0, (int)((due - now + 999) / 1000));
		} else if ((sent + failed) && (sent + failed) % cfg->in_flight == 0) {
			poll(NULL, 0, 1);
		}
		if (lg_delete(cfg, &tunnels[i]))
			sent++;
		else
			failed++;
	}
	printf("DELETED tunnels=%u failed=%u\n", sent, failed);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct lg_config cfg = {
		.port = 500, .n = 1000, .in_flight = 16, .auth = OAKLEY_PRESHARED_KEY,
		.ike_lifetime = 28800, .sa_lifetime = 28800,
		.retransmit_ms = 2000, .tries = 4, .timeout_ms = 60000,
	};
	const char *pids = NULL, *csv = NULL;
	unsigned batch = 1000, linger_ms = 5000;
	struct lg_flood flood = { .sources = 1, .forge_every = 10 };
	int r = parse_options(argc, argv, &cfg, &pids, &batch, &csv, &linger_ms, &flood);
	if (r)
		return r;
	if ((r = lg_net_open(cfg.port)) < 0) {
		fprintf(stderr, "pluto-loadgen: cannot bind UDP port %u: %s\n", cfg.port, strerror(-r));
		return 2;
	}
	if (flood.rate)
		return lg_flood(&cfg, &flood);
	struct lg_tunnel *tunnels = calloc(cfg.n, sizeof(*tunnels));
	unsigned *slots = calloc(cfg.in_flight, sizeof(*slots));
	if (!tunnels || !slots)
		return 2;
	for (unsigned i = 0; i < cfg.n; i++)
		tunnels[i].source = cfg.first_source + i;
	struct lg_report *rep = lg_report_new(pids, batch, csv);
	uint64_t now = lg_now_us();
	lg_report_start(rep, now);
	unsigned next = 0;
	for (unsigned s = 0; s < cfg.in_flight; s++) {
		slots[s] = UINT32_MAX;
		if (next < cfg.n) {
			slots[s] = next++;
			lg_start(&cfg, &tunnels[slots[s]], now);
			if (!tunnels[slots[s]].x)
				on_finished(&cfg, tunnels, slots[s], rep, &next, &slots[s], now);
		}
	}
	static uint8_t buf[65536];
	uint64_t linger_until = 0;
	for (;;) {
		unsigned busy = 0;   /* slots with a handshake in flight */
		uint64_t wake = now + 1000000;
		for (unsigned s = 0; s < cfg.in_flight; s++) {
			if (slots[s] == UINT32_MAX)
				continue;
			busy++;
			const struct lg_exchange *x = tunnels[slots[s]].x;
			if (x && x->next_send_us < wake)
				wake = x->next_send_us;
		}
		if (busy == 0) {
			/* all over: linger for repeated QR1s, then stop */
			if (!linger_until)
				linger_until = now + (uint64_t)linger_ms * 1000;
			if (now >= linger_until)
				break;
			wake = linger_until;
		}
		struct pollfd pfd = { .fd = lg_net_fd(), .events = POLLIN };
		int ms = wake > now ? (int)((wake - now + 999) / 1000) : 0;
		poll(&pfd, 1, ms);
		now = lg_now_us();
		uint32_t to;
		size_t len;
		/* every answer waiting before any timer: a tunnel whose answer
		 * is here (only not read yet) must not retransmit */
		while ((len = lg_net_recv(buf, sizeof(buf), &to)) > 0) {
			/* each answer's own time: a drain of many datagrams takes
			 * long (a DH for most), and the message it makes us send
			 * retransmits (and a tunnel ends) counted from then, not
			 * from when the drain began */
			now = lg_now_us();
			uint32_t i = to - cfg.first_source;
			if (i >= cfg.n || tunnels[i].step == LG_IDLE || tunnels[i].step == LG_FAILED)
				continue;
			bool was_live = tunnels[i].x != NULL;
			lg_receive(&cfg, &tunnels[i], buf, len, now);
			if (was_live && !tunnels[i].x) {
				for (unsigned s = 0; s < cfg.in_flight; s++)
					if (slots[s] == i) {
						on_finished(&cfg, tunnels, i, rep, &next, &slots[s], now);
						break;
					}
			}
		}
		now = lg_now_us();
		for (unsigned s = 0; s < cfg.in_flight; s++) {
			unsigned i = slots[s];
			if (i == UINT32_MAX || !tunnels[i].x)
				continue;
			lg_timer(&cfg, &tunnels[i], now);
			if (!tunnels[i].x)
				on_finished(&cfg, tunnels, i, rep, &next, &slots[s], now);
		}
	}
	if (lg_qi2_resent)
		printf("QI2 re-sent %u times, answering a repeated QR1\n", lg_qi2_resent);
	unsigned failed = lg_report_end(rep, lg_now_us());
	if (cfg.delete_after) {
		/* a benchmark measures the responder with every tunnel up */
		for (uint64_t until = lg_now_us() + (uint64_t)cfg.hold_ms * 1000; lg_now_us() < until;)
			poll(NULL, 0, (int)((until - lg_now_us()) / 1000 + 1));
		delete_all(&cfg, tunnels);
	}
	for (unsigned i = 0; i < cfg.n; i++)
		free(tunnels[i].qi2);
	free(tunnels);
	free(slots);
	EVP_PKEY_free(cfg.own_key);
	EVP_PKEY_free(cfg.peer_key);
	return failed ? 1 : 0;
}
