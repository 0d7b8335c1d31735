#include "klips/kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hindex.h"
#include "common/util.h"
#include "daemon/log.h"

static const struct kernel_ops *const backends[] = { &kernel_xfrm_ops, &kernel_none_ops };

static const struct kernel_ops *current = &kernel_none_ops;
static bool explicit_choice;
static bool started;

/* --- the record of what is installed --- */

/* A list, newest first (status shows it so), and indexes: SAs by their
 * key (dst, protocol, spi) and by their state's serial, policies by
 * theirs (selector, dir). Installing or deleting one SA or eroute looks
 * in one bucket, never at every record (50,000 tunnels hold 100,000 SA
 * records).
 *
 * A record keeps only what deleting it and describing it need: the
 * status line is written when status asks (kernel_record_foreach), not
 * held as text in every record (it was 200 bytes of a 408-byte record). */
struct sa_record {
	unsigned serial;                 /* the state */
	ip_address src, dst;             /* dst, protocol, spi: the key */
	uint32_t spi;
	uint8_t protocol;
	bool tunnel;
	bool udp_encap;                  /* NAT-T: ESP in UDP between these ports */
	uint16_t encap_sport, encap_dport;
	struct hlink serial_link;        /* by_serial */
};

struct record {
	struct record *next, *prev;
	struct hlink key_link;           /* SAs: by_sa_key; policies: by_policy */
	bool is_policy;
	union {
		struct sa_record sa;
		struct kernel_policy policy; /* the key (selector, dir) and the rest */
	} u;
};
/* a record's status line (two IPv6 selectors, two addresses and the rest) */
#define RECORD_LINE_MAX 320

static struct record *records;
static struct hindex by_sa_key, by_serial, by_policy;
static size_t n_records[2];          /* [is_policy] */

static uint32_t sa_key_hash(const ip_address *dst, uint8_t protocol, uint32_t spi)
{
	uint32_t h = hash_address(HASH_SEED, dst);
	h = hash_bytes(h, &protocol, sizeof(protocol));
	return hash_bytes(h, &spi, sizeof(spi));
}

static uint32_t serial_hash(unsigned serial)
{
	return hash_bytes(HASH_SEED, &serial, sizeof(serial));
}

static uint32_t policy_hash(const struct kernel_policy *p)
{
	uint32_t h = hash_subnet(HASH_SEED, &p->src_client);
	h = hash_subnet(h, &p->dst_client);
	return hash_bytes(h, &p->dir, sizeof(p->dir));
}

static void record_link(struct record *r)
{
	r->prev = NULL;
	r->next = records;
	if (records)
		records->prev = r;
	records = r;
	n_records[r->is_policy]++;
	if (r->is_policy) {
		hindex_add(&by_policy, &r->key_link, policy_hash(&r->u.policy));
	} else {
		hindex_add(&by_sa_key, &r->key_link, sa_key_hash(&r->u.sa.dst, r->u.sa.protocol, r->u.sa.spi));
		hindex_add(&by_serial, &r->u.sa.serial_link, serial_hash(r->u.sa.serial));
	}
}

static void record_unlink_free(struct record *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		records = r->next;
	if (r->next)
		r->next->prev = r->prev;
	n_records[r->is_policy]--;
	hindex_del(r->is_policy ? &by_policy : &by_sa_key, &r->key_link);
	if (!r->is_policy)
		hindex_del(&by_serial, &r->u.sa.serial_link);
	free(r);
}

static struct record *find_sa(const ip_address *dst, uint8_t protocol, uint32_t spi)
{
	uint32_t h = sa_key_hash(dst, protocol, spi);
	for (struct hlink *l = hindex_first(&by_sa_key, h); l; l = hlink_next_same(l, h)) {
		struct record *r = HLINK_OWNER(l, struct record, key_link);
		if (r->u.sa.spi == spi && r->u.sa.protocol == protocol && ip_equal(&r->u.sa.dst, dst))
			return r;
	}
	return NULL;
}

/* One of the SA records of serial's state, or NULL. */
static struct record *find_serial(unsigned serial)
{
	uint32_t h = serial_hash(serial);
	for (struct hlink *l = hindex_first(&by_serial, h); l; l = hlink_next_same(l, h)) {
		struct sa_record *sa = HLINK_OWNER(l, struct sa_record, serial_link);
		if (sa->serial == serial)
			return HLINK_OWNER(sa, struct record, u.sa);
	}
	return NULL;
}

static const char *proto_name(uint8_t p)
{
	return p == 2 ? "ah" : p == 3 ? "esp" : p == 4 ? "comp" : "?";
}

static struct record *record_sa(unsigned serial, const ip_address *src, const ip_address *dst, uint8_t protocol,
				 uint32_t spi, bool tunnel)
{
	/* replaces the record of a reserved SPI (ALLOCSPI's larval SA) */
	struct record *o = find_sa(dst, protocol, spi);
	if (o)
		record_unlink_free(o);
	struct record *r = xcalloc(1, sizeof(*r));
	r->u.sa.serial = serial;
	r->u.sa.src = *src;
	r->u.sa.dst = *dst;
	r->u.sa.protocol = protocol;
	r->u.sa.spi = spi;
	r->u.sa.tunnel = tunnel;
	record_link(r);
	return r;
}

static void describe_sa(const struct sa_record *sa, char *buf, size_t len)
{
	char s[IP_STR_MAX], d[IP_STR_MAX];
	int k = snprintf(buf, len, "sa %s 0x%08x %s->%s %s #%u", proto_name(sa->protocol), sa->spi,
			 ip_str(&sa->src, s), ip_str(&sa->dst, d), sa->tunnel ? "tunnel" : "transport",
			 sa->serial);
	/* NAT-T: the record says so, for status and tests */
	if (sa->udp_encap && k > 0 && (size_t)k < len)
		snprintf(buf + k, len - (size_t)k, " encap espinudp %u->%u", sa->encap_sport, sa->encap_dport);
}

static bool same_policy(const struct kernel_policy *a, const struct kernel_policy *b)
{
	return a->dir == b->dir && subnet_equal(&a->src_client, &b->src_client) &&
	       subnet_equal(&a->dst_client, &b->dst_client);
}

static struct record *find_policy(const struct kernel_policy *p)
{
	uint32_t h = policy_hash(p);
	for (struct hlink *l = hindex_first(&by_policy, h); l; l = hlink_next_same(l, h)) {
		struct record *r = HLINK_OWNER(l, struct record, key_link);
		if (same_policy(&r->u.policy, p))
			return r;
	}
	return NULL;
}

static void describe_policy(const struct kernel_policy *p, char *buf, size_t len)
{
	char s[IP_STR_MAX], d[IP_STR_MAX], ts[IP_STR_MAX], td[IP_STR_MAX];
	snprintf(buf, len, "policy %s %s->%s tmpl %s->%s %s%s %s reqid %u priority %u", kernel_dir_name(p->dir),
		 subnet_str(&p->src_client, s), subnet_str(&p->dst_client, d), ip_str(&p->tmpl_src, ts),
		 ip_str(&p->tmpl_dst, td), p->ipcomp ? "comp+" : "", proto_name(p->protocol),
		 p->tunnel ? "tunnel" : "transport", p->reqid, p->priority);
}

size_t kernel_record_count(bool policies)
{
	return n_records[policies];
}

static void describe_record(const struct record *r, char *buf, size_t len)
{
	if (r->is_policy)
		describe_policy(&r->u.policy, buf, len);
	else
		describe_sa(&r->u.sa, buf, len);
}

void kernel_record_foreach(void (*fn)(const char *line, void *ud), void *ud)
{
	char line[RECORD_LINE_MAX];
	for (struct record *r = records; r; r = r->next) {
		describe_record(r, line, sizeof(line));
		fn(line, ud);
	}
}

/* --- selection --- */

bool kernel_backend_known(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (streq(backends[i]->name, name))
			return true;
	return false;
}

static int start(const struct kernel_ops *ops, struct ctl_error *err)
{
	char why[256] = "";
	if (started && current == ops)
		return 0;
	if (ops->init(why, sizeof(why)) < 0)
		return ctl_fail(err, PE_INTERNAL, "kernel backend %s cannot be used: %s", ops->name, why);
	if (started && current != ops)
		current->fini();
	current = ops;
	started = true;
	return 0;
}

/* The automatic choice: xfrm when the kernel can hold an ESP SA. */
static void choose_automatically(bool quiet_when_same)
{
	char why[256] = "";
	const struct kernel_ops *want = &kernel_none_ops;
	if (kernel_xfrm_ops.probe(why, sizeof(why)))
		want = &kernel_xfrm_ops;
	/* Listen rechecks; it speaks only when the answer changed */
	if (quiet_when_same && started && want == current)
		return;
	if (want == &kernel_none_ops)
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "kernel cannot hold an ESP SA (%s): using kernel backend none, SAs are negotiated but not installed",
		     why);
	struct ctl_error err;
	if (start(want, &err) < 0) {
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "%s: using kernel backend none", err.message);
		start(&kernel_none_ops, &err);
	} else if (want == &kernel_xfrm_ops) {
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "kernel backend: xfrm");
	}
}

int kernel_select(const char *requested, struct ctl_error *err)
{
	if (!requested) {
		explicit_choice = false;
		choose_automatically(false);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
		if (!streq(backends[i]->name, requested))
			continue;
		if (start(backends[i], err) < 0)
			return -1;
		explicit_choice = true;
		char why[256] = "";
		/* --kernel xfrm on a kernel without ESP: say once what will fail */
		if (current == &kernel_xfrm_ops && !current->probe(why, sizeof(why)))
			llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "kernel backend: xfrm (as requested), but the kernel cannot hold an ESP SA (%s): every SA install will fail and be reported",
			     why);
		else
			llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "kernel backend: %s (as requested)", current->name);
		return 0;
	}
	return ctl_fail(err, PE_INVALID_OPTION, "unknown kernel backend '%s' (xfrm or none)", requested);
}

void kernel_recheck(void)
{
	if (!explicit_choice && kernel_record_count(false) + kernel_record_count(true) == 0)
		choose_automatically(true);
}

const char *kernel_backend_name(void)
{
	return current->name;
}

bool kernel_backend_installs(void)
{
	return current != &kernel_none_ops;
}

void kernel_shutdown(void)
{
	while (records) {
		struct record *r = records;
		char why[256], line[RECORD_LINE_MAX];
		if (r->is_policy)
			current->del_policy(&r->u.policy, why, sizeof(why));
		else
			current->del_sa(&r->u.sa.dst, r->u.sa.protocol, r->u.sa.spi, why, sizeof(why));
		describe_record(r, line, sizeof(line));
		DBG(DBG_KLIPS, NULL, "%s backend: removed at shutdown: %s", current->name, line);
		record_unlink_free(r);
	}
	hindex_free(&by_sa_key);
	hindex_free(&by_serial);
	hindex_free(&by_policy);
	if (started)
		current->fini();
	started = false;
}

/* --- operations --- */

int kernel_get_spi(unsigned serial, const ip_address *src, const ip_address *dst, uint8_t protocol,
		   uint32_t reqid, uint32_t *spi, struct ctl_error *err)
{
	char why[256] = "";
	if (current->get_spi(src, dst, protocol, reqid, spi, why, sizeof(why)) < 0)
		return ctl_fail(err, PE_INTERNAL, "cannot get an SPI from the kernel: %s", why);
	/* xfrm: a larval SA now holds the SPI; delete it with the state */
	if (kernel_backend_installs())
		record_sa(serial, src, dst, protocol, *spi, false);
	return 0;
}

int kernel_install_ipsec_sa(const struct kernel_ipsec_sa *sa, struct ctl_error *err)
{
	char why[256] = "";
	char s[IP_STR_MAX], d[IP_STR_MAX];
	struct kernel_keys keys;
	if (kernel_sa_keys(sa, &keys, why, sizeof(why)) < 0)
		return ctl_fail(err, PE_INTERNAL, "cannot install IPsec SA: %s", why);
	if (current->add_sa(sa, why, sizeof(why)) < 0)
		return ctl_fail(err, PE_INTERNAL, "cannot install %s IPsec SA %s 0x%08x %s->%s: %s",
				sa->inbound ? "inbound" : "outbound", proto_name(sa->protocol), (unsigned)sa->spi,
				ip_str(&sa->src, s), ip_str(&sa->dst, d), why);
	struct record *r = record_sa(sa->serial, &sa->src, &sa->dst, sa->protocol, sa->spi, sa->tunnel && !sa->ipcomp);
	if (sa->udp_encap) {
		r->u.sa.udp_encap = true;
		r->u.sa.encap_sport = sa->encap_sport;
		r->u.sa.encap_dport = sa->encap_dport;
	}
	if (sa->ipcomp)
		record_sa(sa->serial, &sa->src, &sa->dst, 4, sa->cpi, sa->tunnel);
	return 0;
}

void kernel_delete_state_sas(unsigned serial)
{
	struct record *r;
	while ((r = find_serial(serial))) {
		char why[256] = "", line[RECORD_LINE_MAX];
		describe_record(r, line, sizeof(line));
		if (current->del_sa(&r->u.sa.dst, r->u.sa.protocol, r->u.sa.spi, why, sizeof(why)) < 0)
			llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "#%u: cannot delete %s: %s", serial, line, why);
		else
			DBG(DBG_KLIPS, NULL, "%s backend: deleted %s", current->name, line);
		record_unlink_free(r);
	}
}

int kernel_add_policy(const struct kernel_policy *p, struct ctl_error *err)
{
	char why[256] = "", line[RECORD_LINE_MAX];
	describe_policy(p, line, sizeof(line));
	if (current->add_policy(p, why, sizeof(why)) < 0)
		return ctl_fail(err, PE_CANNOT_ROUTE, "cannot install eroute (%s): %s", line, why);
	struct record *r = find_policy(p);
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		r->is_policy = true;
		r->u.policy = *p;
		record_link(r);
	}
	r->u.policy = *p;   /* same key: the template, reqid, priority may differ */
	return 0;
}

int kernel_del_policy(const struct kernel_policy *p, struct ctl_error *err)
{
	char why[256] = "", line[RECORD_LINE_MAX];
	struct record *r = find_policy(p);
	if (!r)
		return 0;
	describe_policy(&r->u.policy, line, sizeof(line));
	record_unlink_free(r);
	if (current->del_policy(p, why, sizeof(why)) < 0)
		return ctl_fail(err, PE_INTERNAL, "cannot remove eroute (%s): %s", line, why);
	return 0;
}
