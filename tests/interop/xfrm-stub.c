/*
 * xfrm-stub.c - LD_PRELOAD "kernel stub" for the reference IKE peers of the
 * interop tests (strongSwan's charon and libreswan's pluto). Test use only.
 *
 * Why: the test machines' kernel has XFRM but no ESP/AH/IPComp
 * (CONFIG_INET_ESP/AH/IPCOMP unset), so XFRM_MSG_NEWSA fails with
 * EPROTONOSUPPORT. libreswan installs the inbound SA before it answers
 * Quick Mode, so without help it never sends QR1/QI2; strongSwan with
 * kernel-netlink fails the CHILD_SA the same way. This stub makes the daemon
 * *believe* the SAs were installed; XFRM policies still reach the kernel of
 * the test's own network namespace. No traffic is protected.
 *
 * Mechanism: for sockets created with socket(AF_NETLINK, *, NETLINK_XFRM)
 * every request written with write()/send()/sendto()/sendmsg() is inspected:
 *
 *   XFRM_MSG_ALLOCSPI  ESP/AH/COMP -> answered here with a NEWSA carrying a
 *                      random SPI/CPI in [min,max]; not sent to the kernel,
 *                      so no larval state hard-expires 30 s later
 *                      (net.core.xfrm_acq_expires) and kills the child SA
 *   XFRM_MSG_NEWSA/UPDSA ESP/AH/COMP -> remembered, answered with ACK(0)
 *   XFRM_MSG_DELSA     ESP/AH/COMP -> forgotten, answered with ACK(0)
 *   XFRM_MSG_GETSA     ESP/AH/COMP -> the remembered SA (zero counters) or ESRCH
 *   anything else      -> to the kernel unchanged
 *
 * The faked answer is returned by the next recv()/recvfrom()/recvmsg()/read()
 * on that socket, from nl_pid 0 (the kernel), as libreswan's netlink code
 * (write() then recvfrom() matching nlmsg_seq) expects; select()/poll()
 * report the socket readable (strongSwan's kernel-netlink does sendto(),
 * select(), recv()). The real functions are looked up lazily too, because
 * another library's constructor may call socket() before ours has run.
 * Every faked operation is logged to stderr as "xfrm-stub[PID]: ...".
 *
 * Built by tests/lib/scenario.sh without sanitizers (it is preloaded into
 * programs that are not built with them):
 *   gcc -shared -fPIC -O2 -Wall -Wextra -o xfrm-stub.so xfrm-stub.c -ldl
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAXFD 4096
#define MAXSA 512
#define RSPMAX 4096

static unsigned char is_xfrm[MAXFD];
static struct pending { size_t len; unsigned char buf[RSPMAX]; } *pend[MAXFD];
static struct { int used; struct xfrm_usersa_info info; } sas[MAXSA];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static int     (*real_socket)(int, int, int);
static int     (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static int     (*real_select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
static int     (*real_poll)(struct pollfd *, nfds_t, int);

/* called from a constructor *and* lazily: other libraries' constructors may
 * call socket()/read()/close() before ours has run */
__attribute__((constructor)) static void init(void)
{
	if (real_recvmsg) return;
	real_socket   = dlsym(RTLD_NEXT, "socket");
	real_close    = dlsym(RTLD_NEXT, "close");
	real_write    = dlsym(RTLD_NEXT, "write");
	real_send     = dlsym(RTLD_NEXT, "send");
	real_sendto   = dlsym(RTLD_NEXT, "sendto");
	real_sendmsg  = dlsym(RTLD_NEXT, "sendmsg");
	real_read     = dlsym(RTLD_NEXT, "read");
	real_recv     = dlsym(RTLD_NEXT, "recv");
	real_recvfrom = dlsym(RTLD_NEXT, "recvfrom");
	real_select   = dlsym(RTLD_NEXT, "select");
	real_poll     = dlsym(RTLD_NEXT, "poll");
	real_recvmsg  = dlsym(RTLD_NEXT, "recvmsg");
}

static void logf_(const char *fmt, ...)
{
	char b[512];
	va_list ap;
	int n = snprintf(b, sizeof(b), "xfrm-stub[%d]: ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(b + n, sizeof(b) - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(b) - 2) n = sizeof(b) - 2;
	b[n++] = '\n';
	int e = errno;
	real_write(2, b, n);
	errno = e;
}

static int ipsec_proto(unsigned p)
{
	return p == IPPROTO_ESP || p == IPPROTO_AH || p == IPPROTO_COMP;
}

static const char *pname(unsigned p)
{
	return p == IPPROTO_ESP ? "esp" : p == IPPROTO_AH ? "ah" : p == IPPROTO_COMP ? "comp" : "?";
}

static uint32_t local_portid(int fd)
{
	struct sockaddr_nl a; socklen_t l = sizeof(a);
	memset(&a, 0, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &l);
	return a.nl_pid;
}

/* queue a reply for fd; called with mu held */
static void queue(int fd, const void *msg, size_t len)
{
	if (!pend[fd]) pend[fd] = calloc(1, sizeof(*pend[fd]));
	if (len > RSPMAX) len = RSPMAX;
	memcpy(pend[fd]->buf, msg, len);
	pend[fd]->len = len;
}

static void queue_ack(int fd, const struct nlmsghdr *req, int err)
{
	struct { struct nlmsghdr n; struct nlmsgerr e; } r;
	memset(&r, 0, sizeof(r));
	r.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr));
	r.n.nlmsg_type = NLMSG_ERROR;
	r.n.nlmsg_flags = NLM_F_CAPPED;     /* only the request header is echoed */
	r.n.nlmsg_seq = req->nlmsg_seq;
	r.n.nlmsg_pid = local_portid(fd);
	r.e.error = -err;
	r.e.msg = *req;
	queue(fd, &r, sizeof(r));
}

static void queue_sa(int fd, const struct nlmsghdr *req, const struct xfrm_usersa_info *info)
{
	struct { struct nlmsghdr n; struct xfrm_usersa_info i; } r;
	memset(&r, 0, sizeof(r));
	r.n.nlmsg_len = NLMSG_LENGTH(sizeof(r.i));
	r.n.nlmsg_type = XFRM_MSG_NEWSA;
	r.n.nlmsg_seq = req->nlmsg_seq;
	r.n.nlmsg_pid = local_portid(fd);
	r.i = *info;
	queue(fd, &r, sizeof(r));
}

static int same_sa(const struct xfrm_usersa_info *i, const xfrm_address_t *d, __be32 spi, unsigned proto)
{
	return i->id.spi == spi && i->id.proto == proto && !memcmp(&i->id.daddr, d, sizeof(*d));
}

static char *addr_str(unsigned fam, const xfrm_address_t *a, char *b, size_t l)
{
	inet_ntop(fam == AF_INET6 ? AF_INET6 : AF_INET, a, b, l);
	return b;
}

/* returns 1 if the request was handled locally */
static int maybe_fake(int fd, const void *buf, size_t len)
{
	const struct nlmsghdr *n = buf;
	char a[INET6_ADDRSTRLEN];
	int handled = 0, i;

	if (fd < 0 || fd >= MAXFD || !is_xfrm[fd] || len < sizeof(*n) || n->nlmsg_len > len)
		return 0;
	pthread_mutex_lock(&mu);
	switch (n->nlmsg_type) {
	case XFRM_MSG_ALLOCSPI: {
		const struct xfrm_userspi_info *s = NLMSG_DATA(n);
		if (n->nlmsg_len < NLMSG_LENGTH(sizeof(*s)) || !ipsec_proto(s->info.id.proto)) break;
		uint32_t r = 0, lo = s->min, hi = s->max;
		getrandom(&r, sizeof(r), 0);
		if (hi < lo) hi = lo;
		uint32_t spi = lo + (hi - lo == UINT32_MAX ? r : r % (hi - lo + 1));
		struct xfrm_usersa_info info = s->info;
		info.id.spi = htonl(spi);
		queue_sa(fd, n, &info);
		logf_("faked ALLOCSPI %s dst %s -> spi 0x%08x", pname(info.id.proto),
		      addr_str(info.family, &info.id.daddr, a, sizeof(a)), spi);
		handled = 1;
		break;
	}
	case XFRM_MSG_NEWSA:
	case XFRM_MSG_UPDSA: {
		const struct xfrm_usersa_info *s = NLMSG_DATA(n);
		if (n->nlmsg_len < NLMSG_LENGTH(sizeof(*s)) || !ipsec_proto(s->id.proto)) break;
		int slot = -1;
		for (i = 0; i < MAXSA; i++) {
			if (sas[i].used && same_sa(&sas[i].info, &s->id.daddr, s->id.spi, s->id.proto)) { slot = i; break; }
			if (!sas[i].used && slot < 0) slot = i;
		}
		if (slot >= 0) { sas[slot].used = 1; sas[slot].info = *s; }
		queue_ack(fd, n, 0);
		logf_("faked %s %s spi 0x%08x dst %s mode %s (NOT installed in kernel)",
		      n->nlmsg_type == XFRM_MSG_NEWSA ? "NEWSA" : "UPDSA", pname(s->id.proto),
		      ntohl(s->id.spi), addr_str(s->family, &s->id.daddr, a, sizeof(a)),
		      s->mode == XFRM_MODE_TUNNEL ? "tunnel" : "transport");
		handled = 1;
		break;
	}
	case XFRM_MSG_DELSA:
	case XFRM_MSG_GETSA: {
		const struct xfrm_usersa_id *s = NLMSG_DATA(n);
		if (n->nlmsg_len < NLMSG_LENGTH(sizeof(*s)) || !ipsec_proto(s->proto)) break;
		int found = -1;
		for (i = 0; i < MAXSA; i++)
			if (sas[i].used && same_sa(&sas[i].info, &s->daddr, s->spi, s->proto)) { found = i; break; }
		if (n->nlmsg_type == XFRM_MSG_DELSA) {
			if (found >= 0) sas[found].used = 0;
			queue_ack(fd, n, 0);
			logf_("faked DELSA %s spi 0x%08x", pname(s->proto), ntohl(s->spi));
		} else if (found >= 0) {
			queue_sa(fd, n, &sas[found].info);
		} else {
			queue_ack(fd, n, ESRCH);
		}
		handled = 1;
		break;
	}
	}
	pthread_mutex_unlock(&mu);
	return handled;
}

/* returns bytes delivered, or -1 if nothing is pending for fd */
static ssize_t take(int fd, void *buf, size_t len, struct sockaddr *from, socklen_t *fromlen)
{
	ssize_t r = -1;
	if (fd < 0 || fd >= MAXFD || !is_xfrm[fd]) return -1;
	pthread_mutex_lock(&mu);
	if (pend[fd] && pend[fd]->len) {
		r = pend[fd]->len < len ? pend[fd]->len : len;
		memcpy(buf, pend[fd]->buf, r);
		pend[fd]->len = 0;
		if (from && fromlen) {
			struct sockaddr_nl k = { .nl_family = AF_NETLINK };
			socklen_t l = *fromlen < sizeof(k) ? *fromlen : sizeof(k);
			memcpy(from, &k, l);
			*fromlen = sizeof(k);
		}
	}
	pthread_mutex_unlock(&mu);
	return r;
}

int socket(int domain, int type, int protocol)
{
	init();
	int fd = real_socket(domain, type, protocol);
	if (fd >= 0 && fd < MAXFD)
		is_xfrm[fd] = (domain == AF_NETLINK && protocol == NETLINK_XFRM);
	return fd;
}

int close(int fd)
{
	init();
	if (fd >= 0 && fd < MAXFD && is_xfrm[fd]) {
		pthread_mutex_lock(&mu);
		is_xfrm[fd] = 0;
		if (pend[fd]) pend[fd]->len = 0;
		pthread_mutex_unlock(&mu);
	}
	return real_close(fd);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	init();
	if (maybe_fake(fd, buf, len)) return len;
	return real_write(fd, buf, len);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	init();
	if (maybe_fake(fd, buf, len)) return len;
	return real_send(fd, buf, len, flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tl)
{
	init();
	if (maybe_fake(fd, buf, len)) return len;
	return real_sendto(fd, buf, len, flags, to, tl);
}

ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	init();
	if (m && m->msg_iovlen == 1 && maybe_fake(fd, m->msg_iov[0].iov_base, m->msg_iov[0].iov_len))
		return m->msg_iov[0].iov_len;
	return real_sendmsg(fd, m, flags);
}

ssize_t read(int fd, void *buf, size_t len)
{
	init();
	ssize_t r = take(fd, buf, len, NULL, NULL);
	return r >= 0 ? r : real_read(fd, buf, len);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	init();
	ssize_t r = take(fd, buf, len, NULL, NULL);
	return r >= 0 ? r : real_recv(fd, buf, len, flags);
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fl)
{
	init();
	ssize_t r = take(fd, buf, len, from, fl);
	return r >= 0 ? r : real_recvfrom(fd, buf, len, flags, from, fl);
}

ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	init();
	if (m && m->msg_iovlen >= 1) {
		socklen_t nl = m->msg_namelen;
		ssize_t r = take(fd, m->msg_iov[0].iov_base, m->msg_iov[0].iov_len,
				 m->msg_name, m->msg_name ? &nl : NULL);
		if (r >= 0) {
			m->msg_namelen = m->msg_name ? nl : 0;
			m->msg_controllen = 0;
			m->msg_flags = 0;
			return r;
		}
	}
	return real_recvmsg(fd, m, flags);
}

static int has_pending(int fd)
{
	int r;
	if (fd < 0 || fd >= MAXFD || !is_xfrm[fd]) return 0;
	pthread_mutex_lock(&mu);
	r = pend[fd] && pend[fd]->len;
	pthread_mutex_unlock(&mu);
	return r;
}

int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	int fd, n = 0;
	fd_set ready;
	init();
	FD_ZERO(&ready);
	for (fd = 0; rd && fd < nfds && fd < MAXFD; fd++)
		if (FD_ISSET(fd, rd) && has_pending(fd)) { FD_SET(fd, &ready); n++; }
	if (!n) return real_select(nfds, rd, wr, ex, tv);
	*rd = ready;
	if (wr) FD_ZERO(wr);
	if (ex) FD_ZERO(ex);
	return n;
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	nfds_t i;
	int n = 0;
	init();
	for (i = 0; i < nfds; i++)
		if ((fds[i].events & POLLIN) && has_pending(fds[i].fd)) n++;
	if (!n) return real_poll(fds, nfds, timeout);
	for (i = 0; i < nfds; i++)
		fds[i].revents = ((fds[i].events & POLLIN) && has_pending(fds[i].fd)) ? POLLIN : 0;
	return n;
}
