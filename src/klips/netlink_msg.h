/* Building one netlink request in a buffer of known capacity: the header,
 * the fixed part, then attributes. Nothing is ever written past the
 * capacity: an attribute that does not fit is refused, and the request
 * remembers it (overflowed) so that it is never sent half built, even by
 * a caller that does not check nlreq_attr()'s result. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

struct nl_request {
	unsigned char *buf;   /* the message, header first; aligned for struct nlmsghdr */
	size_t capacity;      /* bytes of buf the message may use */
	bool overflowed;      /* something did not fit: do not send */
};

static inline struct nlmsghdr *nlreq_hdr(const struct nl_request *r)
{
	return (struct nlmsghdr *)(void *)r->buf;
}

/* Start a request of type with a zeroed fixed part of len bytes in buf;
 * returns the fixed part, or NULL (and overflowed) when capacity cannot
 * hold it. */
void *nlreq_start(struct nl_request *r, void *buf, size_t capacity, uint16_t type, uint16_t flags,
		  uint32_t seq, size_t len);

/* Append attribute type with len bytes of data (padding zeroed).
 * 0, or -EMSGSIZE when it does not fit the capacity (or an attribute's
 * 16-bit length): then nothing is written and the request is overflowed. */
int nlreq_attr(struct nl_request *r, uint16_t type, const void *data, size_t len);

/* The kernel's words for a NLMSG_ERROR reply h with error (positive
 * errno): the extended ack message when there is one (e.g. "Requested
 * type not found"), followed by strerror; else strerror alone. */
void netlink_error_text(const struct nlmsghdr *h, int error, char *why, size_t why_len);
