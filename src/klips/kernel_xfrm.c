/* The `xfrm` backend: Linux XFRM over NETLINK_XFRM, written directly on
 * the socket API (a handful of fixed messages do not need a library).
 * One request socket (each request acked, with the kernel's extended
 * error text when it gives one) and one socket on the ACQUIRE and EXPIRE
 * multicast groups, watched on the sd-event loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "common/random.h"
#include "common/util.h"
#include "daemon/log.h"
#include "klips/kernel_ops.h"
#include "klips/netlink_msg.h"

#define IPPROTO_COMP_ 108

static int req_fd = -1, mc_fd = -1;
static uint32_t seq;
static sd_event_source *mc_source;

/* One request: the message in an aligned buffer and its builder, which
 * knows the buffer's capacity (netlink_msg.h). */
struct nlreq {
	struct nl_request req;
	union {
		struct nlmsghdr h;
		unsigned char buf[NLMSG_HDRLEN + 3072];
	} msg;
};

static int open_socket(unsigned groups)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	return fd;
}

static void *nl_start(struct nlreq *r, uint16_t type, size_t len)
{
	void *fixed = nlreq_start(&r->req, r->msg.buf, sizeof(r->msg.buf), type,
				  NLM_F_REQUEST | NLM_F_ACK, ++seq, len);
	if (!fixed)
		abort();    /* a fixed part is a struct of this file: never too big */
	return fixed;
}

/* An attribute that does not fit is not written; nl_talk() then refuses
 * to send the request, so a caller need not check every attribute. */
static int nl_attr(struct nlreq *r, uint16_t type, const void *data, size_t len)
{
	return nlreq_attr(&r->req, type, data, len);
}

/* Send one request and read until its ack. A reply message of
 * reply_type is copied to reply. 0, or -errno with why. */
static int nl_talk(struct nlreq *r, uint16_t reply_type, void *reply, size_t reply_len, char *why, size_t why_len)
{
	if (req_fd < 0) {
		snprintf(why, why_len, "the xfrm netlink socket is not open");
		return -EBADF;
	}
	if (r->req.overflowed) {
		snprintf(why, why_len, "netlink request does not fit in %zu bytes: not sent", r->req.capacity);
		return -EMSGSIZE;
	}
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(req_fd, &r->msg.h, r->msg.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		int e = errno;
		snprintf(why, why_len, "netlink send: %s", strerror(e));
		return -e;
	}
	union {
		struct nlmsghdr h;
		char buf[8192];
	} in;
	for (;;) {
		ssize_t n = recv(req_fd, in.buf, sizeof(in.buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			snprintf(why, why_len, "netlink receive: %s", strerror(e));
			return -e;
		}
		size_t left = (size_t)n;
		for (struct nlmsghdr *h = &in.h; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != r->msg.h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				if (e->error == 0)
					return 0;
				netlink_error_text(h, -e->error, why, why_len);
				return e->error;
			}
			/* the reply is the answer: the kernel's ack that follows
			 * it (same seq) is skipped by the next request, whose seq
			 * differs. Not waiting for it also lets pluto run on the
			 * interop xfrm stub, which answers ALLOCSPI without one. */
			if (h->nlmsg_type == reply_type && reply &&
			    h->nlmsg_len >= NLMSG_LENGTH(reply_len)) {
				memcpy(reply, NLMSG_DATA(h), reply_len);
				return 0;
			}
		}
	}
}

static void put_addr(xfrm_address_t *x, const ip_address *a)
{
	memset(x, 0, sizeof(*x));
	if (a->family == AF_INET)
		memcpy(&x->a4, &a->u.v4, 4);
	else if (a->family == AF_INET6)
		memcpy(x->a6, &a->u.v6, 16);
}

static void put_selector(struct xfrm_selector *sel, const ip_subnet *src, const ip_subnet *dst)
{
	memset(sel, 0, sizeof(*sel));
	put_addr(&sel->saddr, &src->addr);
	put_addr(&sel->daddr, &dst->addr);
	sel->prefixlen_s = (uint8_t)src->prefix;
	sel->prefixlen_d = (uint8_t)dst->prefix;
	sel->family = (uint16_t)src->addr.family;
}

static void no_limits(struct xfrm_lifetime_cfg *l)
{
	/* pluto expires SAs itself (its own timers), so the kernel's are off */
	l->soft_byte_limit = l->hard_byte_limit = XFRM_INF;
	l->soft_packet_limit = l->hard_packet_limit = XFRM_INF;
}

static uint8_t ip_proto_of(uint8_t ipsec_proto)
{
	return ipsec_proto == 2 ? IPPROTO_AH : ipsec_proto == 4 ? IPPROTO_COMP_ : IPPROTO_ESP;
}

/* --- SAs --- */

static int add_one_sa(const struct kernel_ipsec_sa *sa, bool comp, char *why, size_t why_len)
{
	struct nlreq r;
	/* an inbound SPI reserved by ALLOCSPI is a larval SA: it is updated */
	bool update = !comp && sa->inbound && sa->spi_from_kernel;
	struct xfrm_usersa_info *p = nl_start(&r, update ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA, sizeof(*p));
	/* with IPComp in tunnel mode the IPComp SA makes the tunnel and
	 * ESP/AH run in transport mode inside it */
	bool tunnel = sa->tunnel && (comp || !sa->ipcomp);
	if (!tunnel)
		put_selector(&p->sel, &sa->src_client, &sa->dst_client);
	else
		p->sel.family = (uint16_t)sa->src.family;
	put_addr(&p->id.daddr, &sa->dst);
	put_addr(&p->saddr, &sa->src);
	p->id.spi = htonl(comp ? sa->cpi : sa->spi);
	p->id.proto = ip_proto_of(comp ? 4 : sa->protocol);
	p->family = (uint16_t)sa->src.family;
	p->mode = tunnel ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
	p->reqid = sa->reqid;
	p->replay_window = comp ? 0 : 32;
	no_limits(&p->lft);
	if (comp) {
		struct xfrm_algo c;
		memset(&c, 0, sizeof(c));
		snprintf(c.alg_name, sizeof(c.alg_name), "deflate");
		nl_attr(&r, XFRMA_ALG_COMP, &c, sizeof(c));
		return nl_talk(&r, 0, NULL, 0, why, why_len);
	}
	struct kernel_keys keys;
	if (kernel_sa_keys(sa, &keys, why, why_len) < 0)
		return -EINVAL;
	/* the xfrm_algo* structs end in the key (a flexible array): room
	 * for it in an aligned byte buffer */
	enum { KEY_ROOM = 64 };
	if (keys.cipher_key_len > KEY_ROOM || keys.integ_key_len > KEY_ROOM) {
		snprintf(why, why_len, "key material too long for the kernel request");
		return -EINVAL;
	}
	if (sa->cipher && sa->cipher->kind == ALG_AEAD) {
		/* RFC 4106: the kernel's rfc4106(gcm(aes)) takes key || salt
		 * as its key and the ICV length in bits */
		_Alignas(struct xfrm_algo_aead) uint8_t buf[sizeof(struct xfrm_algo_aead) + KEY_ROOM];
		struct xfrm_algo_aead *a = (struct xfrm_algo_aead *)buf;
		memset(buf, 0, sizeof(buf));
		snprintf(a->alg_name, sizeof(a->alg_name), "%s", sa->cipher->xfrm_name);
		a->alg_key_len = (unsigned)(keys.cipher_key_len * 8);
		a->alg_icv_len = sa->cipher->icv_bytes * 8;
		memcpy(a->alg_key, keys.cipher_key, keys.cipher_key_len);
		nl_attr(&r, XFRMA_ALG_AEAD, buf, sizeof(struct xfrm_algo_aead) + keys.cipher_key_len);
		explicit_bzero(buf, sizeof(buf));
	} else if (sa->cipher) {
		_Alignas(struct xfrm_algo) uint8_t buf[sizeof(struct xfrm_algo) + KEY_ROOM];
		struct xfrm_algo *c = (struct xfrm_algo *)buf;
		memset(buf, 0, sizeof(buf));
		snprintf(c->alg_name, sizeof(c->alg_name), "%s", sa->cipher->xfrm_name);
		c->alg_key_len = (unsigned)(keys.cipher_key_len * 8);
		memcpy(c->alg_key, keys.cipher_key, keys.cipher_key_len);
		nl_attr(&r, XFRMA_ALG_CRYPT, buf, sizeof(struct xfrm_algo) + keys.cipher_key_len);
		explicit_bzero(buf, sizeof(buf));
	}
	if (sa->integ) {
		_Alignas(struct xfrm_algo_auth) uint8_t buf[sizeof(struct xfrm_algo_auth) + KEY_ROOM];
		struct xfrm_algo_auth *a = (struct xfrm_algo_auth *)buf;
		memset(buf, 0, sizeof(buf));
		snprintf(a->alg_name, sizeof(a->alg_name), "%s", sa->integ->xfrm_name);
		a->alg_key_len = (unsigned)(keys.integ_key_len * 8);
		a->alg_trunc_len = sa->integ->icv_bytes * 8;
		memcpy(a->alg_key, keys.integ_key, keys.integ_key_len);
		nl_attr(&r, XFRMA_ALG_AUTH_TRUNC, buf, sizeof(struct xfrm_algo_auth) + keys.integ_key_len);
		explicit_bzero(buf, sizeof(buf));
	}
	if (sa->udp_encap) {
		/* NAT-T (RFC 3948): ESP in UDP between the IKE ports; encap_oa
		 * (the peer's original address) lets transport mode fix checksums */
		struct xfrm_encap_tmpl e;
		memset(&e, 0, sizeof(e));
		e.encap_type = 2;   /* UDP_ENCAP_ESPINUDP */
		e.encap_sport = htons(sa->encap_sport);
		e.encap_dport = htons(sa->encap_dport);
		if (ip_is_set(&sa->encap_oa))
			put_addr(&e.encap_oa, &sa->encap_oa);
		nl_attr(&r, XFRMA_ENCAP, &e, sizeof(e));
	}
	int ret = nl_talk(&r, 0, NULL, 0, why, why_len);
	explicit_bzero(&r, sizeof(r));
	return ret;
}

static int xfrm_add_sa(const struct kernel_ipsec_sa *sa, char *why, size_t why_len)
{
	if (sa->ipcomp && add_one_sa(sa, true, why, why_len) < 0)
		return -1;
	if (add_one_sa(sa, false, why, why_len) < 0) {
		char ignore[64];
		if (sa->ipcomp) {
			struct nlreq r;
			struct xfrm_usersa_id *id = nl_start(&r, XFRM_MSG_DELSA, sizeof(*id));
			put_addr(&id->daddr, &sa->dst);
			id->spi = htonl(sa->cpi);
			id->family = (uint16_t)sa->dst.family;
			id->proto = IPPROTO_COMP_;
			nl_talk(&r, 0, NULL, 0, ignore, sizeof(ignore));
		}
		return -1;
	}
	return 0;
}

static int xfrm_del_sa(const ip_address *dst, uint8_t protocol, uint32_t spi, char *why, size_t why_len)
{
	struct nlreq r;
	struct xfrm_usersa_id *id = nl_start(&r, XFRM_MSG_DELSA, sizeof(*id));
	put_addr(&id->daddr, dst);
	id->spi = htonl(spi);
	id->family = (uint16_t)dst->family;
	id->proto = ip_proto_of(protocol);
	int ret = nl_talk(&r, 0, NULL, 0, why, why_len);
	return ret == -ESRCH || ret == -ENOENT ? 0 : ret;
}

static int xfrm_get_spi(const ip_address *src, const ip_address *dst, uint8_t protocol, uint32_t reqid,
			uint32_t *spi, char *why, size_t why_len)
{
	struct nlreq r;
	struct xfrm_userspi_info *p = nl_start(&r, XFRM_MSG_ALLOCSPI, sizeof(*p));
	put_addr(&p->info.id.daddr, dst);
	put_addr(&p->info.saddr, src);
	p->info.id.proto = ip_proto_of(protocol);
	p->info.family = (uint16_t)dst->family;
	p->info.reqid = reqid;
	/* the man page: 0..0xFF are IANA's, 0x100..0xFFF are for manual keying */
	p->min = 0x1000;
	p->max = 0xffffffff;
	struct xfrm_usersa_info reply = { 0 };
	if (nl_talk(&r, XFRM_MSG_NEWSA, &reply, sizeof(reply), why, why_len) < 0)
		return -1;
	*spi = ntohl(reply.id.spi);
	if (*spi <= 0xFFF) {
		snprintf(why, why_len, "the kernel gave SPI 0x%x, outside 0x1000..0xffffffff", (unsigned)*spi);
		return -1;
	}
	return 0;
}

/* --- policies --- */

static int xfrm_add_policy(const struct kernel_policy *k, char *why, size_t why_len)
{
	struct nlreq r;
	struct xfrm_userpolicy_info *p = nl_start(&r, XFRM_MSG_UPDPOLICY, sizeof(*p));
	put_selector(&p->sel, &k->src_client, &k->dst_client);
	no_limits(&p->lft);
	p->priority = k->priority;
	p->dir = k->dir == KDIR_OUT ? XFRM_POLICY_OUT : k->dir == KDIR_IN ? XFRM_POLICY_IN : XFRM_POLICY_FWD;
	p->action = XFRM_POLICY_ALLOW;
	p->share = XFRM_SHARE_ANY;
	struct xfrm_user_tmpl t[2];
	memset(t, 0, sizeof(t));
	size_t n = 0;
	if (k->ipcomp) {
		/* inbound (in, fwd) the comp template is optional: small packets
		 * arrive uncompressed (RFC 3173 2.2), in tunnel mode through the
		 * IPIP state the kernel attaches to the comp SA, which only an
		 * optional template accepts. Outbound the comp SA always runs (it
		 * decides per packet whether to compress), and the kernel refuses
		 * an optional tunnel-mode template in an out policy. */
		put_addr(&t[n].id.daddr, &k->tmpl_dst);
		put_addr(&t[n].saddr, &k->tmpl_src);
		t[n].id.proto = IPPROTO_COMP_;
		t[n].mode = k->tunnel ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
		t[n].optional = k->dir != KDIR_OUT;
		n++;
	}
	put_addr(&t[n].id.daddr, &k->tmpl_dst);
	put_addr(&t[n].saddr, &k->tmpl_src);
	t[n].id.proto = ip_proto_of(k->protocol);
	t[n].mode = k->tunnel && !k->ipcomp ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
	n++;
	for (size_t i = 0; i < n; i++) {
		t[i].family = (uint16_t)k->tmpl_dst.family;
		t[i].reqid = k->reqid;
		t[i].share = XFRM_SHARE_ANY;
		t[i].aalgos = t[i].ealgos = t[i].calgos = ~0u;
	}
	nl_attr(&r, XFRMA_TMPL, t, n * sizeof(t[0]));
	return nl_talk(&r, 0, NULL, 0, why, why_len);
}

static int xfrm_del_policy(const struct kernel_policy *k, char *why, size_t why_len)
{
	struct nlreq r;
	struct xfrm_userpolicy_id *p = nl_start(&r, XFRM_MSG_DELPOLICY, sizeof(*p));
	put_selector(&p->sel, &k->src_client, &k->dst_client);
	p->dir = k->dir == KDIR_OUT ? XFRM_POLICY_OUT : k->dir == KDIR_IN ? XFRM_POLICY_IN : XFRM_POLICY_FWD;
	int ret = nl_talk(&r, 0, NULL, 0, why, why_len);
	return ret == -ENOENT ? 0 : ret;
}

/* --- ACQUIRE / EXPIRE --- */

static void get_addr(ip_address *a, const xfrm_address_t *x, uint16_t family)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	if (family == AF_INET)
		memcpy(&a->u.v4, &x->a4, 4);
	else
		memcpy(&a->u.v6, x->a6, 16);
}

static int on_multicast(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	union {
		struct nlmsghdr h;
		char buf[8192];
	} in;
	ssize_t n = recv(fd, in.buf, sizeof(in.buf), MSG_DONTWAIT);
	if (n <= 0)
		return 0;
	size_t left = (size_t)n;
	for (struct nlmsghdr *h = &in.h; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		if (h->nlmsg_type == XFRM_MSG_ACQUIRE && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct xfrm_user_acquire))) {
			const struct xfrm_user_acquire *a = NLMSG_DATA(h);
			uint16_t fam = a->sel.family ? a->sel.family : a->policy.sel.family;
			if (fam != AF_INET && fam != AF_INET6)
				continue;
			ip_address src, dst;
			get_addr(&src, &a->sel.saddr, fam);
			get_addr(&dst, &a->sel.daddr, fam);
			kernel_acquire(&src, &dst);
		} else if (h->nlmsg_type == XFRM_MSG_EXPIRE) {
			/* pluto expires SAs by its own timers; the kernel's are off */
			DBG(DBG_KLIPS, NULL, "xfrm: EXPIRE message ignored (pluto keeps the lifetimes)");
		}
	}
	return 0;
}

static int xfrm_init(char *why, size_t why_len)
{
	if (req_fd >= 0)
		return 0;
	req_fd = open_socket(0);
	if (req_fd < 0) {
		snprintf(why, why_len, "cannot open the xfrm netlink socket: %s", strerror(-req_fd));
		req_fd = -1;
		return -1;
	}
	mc_fd = open_socket(XFRMGRP_ACQUIRE | XFRMGRP_EXPIRE);
	sd_event *event = NULL;
	if (mc_fd >= 0 && sd_event_default(&event) >= 0) {
		if (sd_event_add_io(event, &mc_source, mc_fd, EPOLLIN, on_multicast, NULL) < 0)
			llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "xfrm: cannot watch ACQUIRE messages: TRAP eroutes will not initiate");
		sd_event_unref(event);
	} else {
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, "xfrm: cannot join the ACQUIRE group: TRAP eroutes will not initiate");
	}
	return 0;
}

static void xfrm_fini(void)
{
	mc_source = sd_event_source_disable_unref(mc_source);
	if (mc_fd >= 0)
		close(mc_fd);
	if (req_fd >= 0)
		close(req_fd);
	mc_fd = req_fd = -1;
}

void kernel_bypass_socket(int fd, int family)
{
	for (int dir = XFRM_POLICY_IN; dir <= XFRM_POLICY_OUT; dir++) {
		struct xfrm_userpolicy_info p;
		memset(&p, 0, sizeof(p));
		p.action = XFRM_POLICY_ALLOW;
		p.dir = (uint8_t)dir;
		p.sel.family = (uint16_t)family;   /* the kernel refuses a policy without one */
		no_limits(&p.lft);
		int r = family == AF_INET6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_XFRM_POLICY, &p, sizeof(p))
					   : setsockopt(fd, IPPROTO_IP, IP_XFRM_POLICY, &p, sizeof(p));
		if (r < 0)
			DBG(DBG_KLIPS, NULL, "IKE socket: no IPsec bypass policy (%s)", strerror(errno));
	}
}

/* Can the kernel hold an ESP SA? Add one with a throw-away SPI between
 * loopback addresses, then delete it: nothing is left behind. */
static bool xfrm_probe(char *why, size_t why_len)
{
	bool opened_here = req_fd < 0;
	if (opened_here) {
		req_fd = open_socket(0);
		if (req_fd < 0) {
			snprintf(why, why_len, "no xfrm netlink: %s", strerror(-req_fd));
			req_fd = -1;
			return false;
		}
	}
	static const uint8_t key[16 + 20];
	ip_address lo = { .family = AF_INET };
	lo.u.v4.s_addr = htonl(0x7f000001);
	struct kernel_ipsec_sa sa = {
		.src = lo, .dst = lo, .protocol = 3, .cipher = alg_by_name(ALG_CIPHER, "aes"), .key_bits = 128,
		.integ = alg_by_name(ALG_HASH, "sha1"),
		.keymat = key, .keymat_len = sizeof(key),
	};
	subnet_from_address(&lo, &sa.src_client);
	sa.dst_client = sa.src_client;
	uint32_t r;
	random_bytes(&r, sizeof(r));
	sa.spi = 0x10000000u | (r & 0x0fffffffu);
	char msg[200];
	bool ok = add_one_sa(&sa, false, msg, sizeof(msg)) == 0;
	if (ok)
		xfrm_del_sa(&lo, 3, sa.spi, msg, sizeof(msg));
	else
		snprintf(why, why_len, "probe ESP SA refused: %s", msg);
	if (opened_here) {
		close(req_fd);
		req_fd = -1;
	}
	return ok;
}

const struct kernel_ops kernel_xfrm_ops = {
	.name = "xfrm",
	.probe = xfrm_probe,
	.init = xfrm_init,
	.fini = xfrm_fini,
	.get_spi = xfrm_get_spi,
	.add_sa = xfrm_add_sa,
	.del_sa = xfrm_del_sa,
	.add_policy = xfrm_add_policy,
	.del_policy = xfrm_del_policy,
};
