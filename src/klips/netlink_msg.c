#include "klips/netlink_msg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/netlink.h>

void *nlreq_start(struct nl_request *r, void *buf, size_t capacity, uint16_t type, uint16_t flags,
		  uint32_t seq, size_t len)
{
	r->buf = buf;
	r->capacity = capacity;
	r->overflowed = false;
	if (capacity < NLMSG_HDRLEN || len > capacity - NLMSG_HDRLEN) {
		r->overflowed = true;
		return NULL;
	}
	memset(r->buf, 0, NLMSG_LENGTH(len));
	struct nlmsghdr *h = nlreq_hdr(r);
	h->nlmsg_len = NLMSG_LENGTH(len);
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	return NLMSG_DATA(h);
}

int nlreq_attr(struct nl_request *r, uint16_t type, const void *data, size_t len)
{
	if (r->overflowed)
		return -EMSGSIZE;
	struct nlmsghdr *h = nlreq_hdr(r);
	size_t off = NLMSG_ALIGN(h->nlmsg_len);
	/* every size checked before it is added, so nothing wraps */
	if (len > UINT16_MAX - NLA_HDRLEN || off > r->capacity ||
	    NLA_ALIGN(NLA_HDRLEN + len) > r->capacity - off) {
		r->overflowed = true;
		return -EMSGSIZE;
	}
	unsigned char *at = r->buf + off;
	size_t attr_len = NLA_HDRLEN + len, padded = NLA_ALIGN(attr_len);
	/* the gap between the previous end and this attribute, and the
	 * padding after it, go to the kernel: zeros, never stale bytes */
	memset(r->buf + h->nlmsg_len, 0, off - h->nlmsg_len);
	struct nlattr a = { .nla_len = (uint16_t)attr_len, .nla_type = type };
	memcpy(at, &a, sizeof(a));
	if (len)
		memcpy(at + NLA_HDRLEN, data, len);
	memset(at + attr_len, 0, padded - attr_len);
	h->nlmsg_len = (uint32_t)(off + padded);
	return 0;
}

void netlink_error_text(const struct nlmsghdr *h, int error, char *why, size_t why_len)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	const char *msg = NULL;
	if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
		size_t off = NLMSG_LENGTH(sizeof(*e));
		if (!(h->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - NLMSG_HDRLEN;
		while (off + NLA_HDRLEN <= h->nlmsg_len) {
			const struct nlattr *a = (const struct nlattr *)((const char *)h + off);
			if (a->nla_len < NLA_HDRLEN || off + a->nla_len > h->nlmsg_len)
				break;
			if (a->nla_type == NLMSGERR_ATTR_MSG && a->nla_len > NLA_HDRLEN)
				msg = (const char *)a + NLA_HDRLEN;
			off += NLA_ALIGN(a->nla_len);
		}
	}
	if (msg)
		snprintf(why, why_len, "%.*s (%s)", 120, msg, strerror(error));
	else
		snprintf(why, why_len, "%s", strerror(error));
}
