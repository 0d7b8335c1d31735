/* The load generator's network side: ONE UDP socket bound to the IKE
 * port of the wildcard address. Each tunnel has its own source address
 * (all of them on one interface of the namespace): IP_PKTINFO picks it
 * per datagram on the way out, and tells on the way in which address a
 * reply came to, which is the tunnel's index. One socket instead of N
 * keeps 50,000 tunnels under any file descriptor limit. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lg.h"

static int fd = -1;

int lg_net_fd(void)
{
	return fd;
}

uint64_t lg_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int lg_net_open(uint16_t port)
{
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	/* a large receive buffer: C responders' answers may arrive at once */
	int rcvbuf = 4 << 20;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &rcvbuf, sizeof(rcvbuf));
	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		int e = -errno;
		close(fd);
		fd = -1;
		return e;
	}
	return 0;
}

int lg_net_transparent(void)
{
	int one = 1;
	return setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one));
}

bool lg_net_send(uint32_t source, uint32_t dest, uint16_t port, const uint8_t *buf, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(dest) };
	struct iovec iov = { (void *)buf, len };
	union {
		char b[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} control = { 0 };
	struct msghdr msg = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control.b, .msg_controllen = sizeof(control.b) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	struct in_pktinfo pi = { .ipi_spec_dst.s_addr = htonl(source) };
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	for (;;) {
		if (sendmsg(fd, &msg, 0) >= 0)
			return true;
		if (errno == EINTR)
			continue;
		/* a full send buffer: the retransmission timer sends it again */
		return false;
	}
}

size_t lg_net_recv(uint8_t *buf, size_t cap, uint32_t *to)
{
	struct sockaddr_in from;
	struct iovec iov = { buf, cap };
	union {
		char b[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control.b, .msg_controllen = sizeof(control.b) };
	ssize_t n = recvmsg(fd, &msg, 0);
	if (n <= 0)
		return 0;
	*to = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			*to = ntohl(pi.ipi_addr.s_addr);
		}
	}
	return (size_t)n;
}
