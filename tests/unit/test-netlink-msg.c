/* klips/netlink_msg.c: the bounds check of a netlink request. An
 * attribute that would pass the buffer's capacity is refused, writes
 * nothing (the bytes past the end keep their guard pattern) and marks the
 * request so the xfrm backend never sends it. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "klips/netlink_msg.h"

#define GUARD 0xA5

/* an aligned buffer: capacity bytes for the message, then a guard area */
static union {
	struct nlmsghdr h;
	unsigned char bytes[512];
} area;

static void fill_guard(void)
{
	memset(area.bytes, GUARD, sizeof(area.bytes));
}

static gboolean guard_intact(size_t from)
{
	for (size_t i = from; i < sizeof(area.bytes); i++)
		if (area.bytes[i] != GUARD)
			return FALSE;
	return TRUE;
}

static void test_fits(void)
{
	fill_guard();
	struct nl_request r;
	uint32_t *fixed = nlreq_start(&r, area.bytes, 64, 7, NLM_F_REQUEST, 42, sizeof(uint32_t));
	g_assert_nonnull(fixed);
	g_assert_cmpuint(*fixed, ==, 0);
	g_assert_cmpuint(area.h.nlmsg_len, ==, NLMSG_LENGTH(4));
	g_assert_cmpuint(area.h.nlmsg_seq, ==, 42);
	const unsigned char three[3] = { 1, 2, 3 };
	g_assert_cmpint(nlreq_attr(&r, 9, three, sizeof(three)), ==, 0);
	const struct nlattr *a = (const struct nlattr *)(area.bytes + NLMSG_ALIGN(NLMSG_LENGTH(4)));
	g_assert_cmpuint(a->nla_type, ==, 9);
	g_assert_cmpuint(a->nla_len, ==, NLA_HDRLEN + 3);
	g_assert_cmpmem((const unsigned char *)a + NLA_HDRLEN, 3, three, 3);
	g_assert_cmpuint(((const unsigned char *)a)[NLA_HDRLEN + 3], ==, 0);   /* padding zeroed */
	g_assert_cmpuint(area.h.nlmsg_len, ==, NLMSG_ALIGN(NLMSG_LENGTH(4)) + NLA_ALIGN(NLA_HDRLEN + 3));
	g_assert_false(r.overflowed);
	g_assert_true(guard_intact(area.h.nlmsg_len));
}

/* exactly up to the capacity: allowed; one byte more: refused */
static void test_exact_capacity(void)
{
	fill_guard();
	struct nl_request r;
	size_t capacity = NLMSG_HDRLEN + NLA_HDRLEN + 8;
	g_assert_nonnull(nlreq_start(&r, area.bytes, capacity, 1, 0, 1, 0));
	unsigned char data[9] = { 0 };
	g_assert_cmpint(nlreq_attr(&r, 2, data, 8), ==, 0);
	g_assert_cmpuint(area.h.nlmsg_len, ==, capacity);
	g_assert_true(guard_intact(capacity));

	fill_guard();
	g_assert_nonnull(nlreq_start(&r, area.bytes, capacity, 1, 0, 1, 0));
	g_assert_cmpint(nlreq_attr(&r, 2, data, 9), ==, -EMSGSIZE);
	g_assert_true(r.overflowed);
	g_assert_cmpuint(area.h.nlmsg_len, ==, NLMSG_HDRLEN);   /* unchanged */
	g_assert_true(guard_intact(NLMSG_HDRLEN));               /* nothing written */
}

static void test_overflow_refused(void)
{
	fill_guard();
	struct nl_request r;
	size_t capacity = 128;
	g_assert_nonnull(nlreq_start(&r, area.bytes, capacity, 1, 0, 1, 16));
	unsigned char big[200];
	memset(big, 0x11, sizeof(big));
	g_assert_cmpint(nlreq_attr(&r, 3, big, 40), ==, 0);
	uint32_t len_before = area.h.nlmsg_len;
	g_assert_cmpint(nlreq_attr(&r, 4, big, 100), ==, -EMSGSIZE);
	g_assert_true(r.overflowed);
	g_assert_cmpuint(area.h.nlmsg_len, ==, len_before);
	g_assert_true(guard_intact(len_before));
	/* once overflowed, even a small attribute is refused: the request
	 * is incomplete and must not be sent */
	g_assert_cmpint(nlreq_attr(&r, 5, big, 1), ==, -EMSGSIZE);
	g_assert_cmpuint(area.h.nlmsg_len, ==, len_before);
	g_assert_true(guard_intact(len_before));
}

/* an attribute longer than nla_len can say, and a fixed part bigger than
 * the buffer */
static void test_limits(void)
{
	struct nl_request r;
	fill_guard();
	g_assert_nonnull(nlreq_start(&r, area.bytes, sizeof(area.bytes), 1, 0, 1, 0));
	static unsigned char huge[70000];
	g_assert_cmpint(nlreq_attr(&r, 6, huge, sizeof(huge)), ==, -EMSGSIZE);
	g_assert_true(guard_intact(NLMSG_HDRLEN));
	fill_guard();
	g_assert_null(nlreq_start(&r, area.bytes, 32, 1, 0, 1, 64));
	g_assert_true(r.overflowed);
	g_assert_true(guard_intact(0));
	g_assert_cmpint(nlreq_attr(&r, 6, huge, 1), ==, -EMSGSIZE);
	g_assert_true(guard_intact(0));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/netlink-msg/fits", test_fits);
	g_test_add_func("/netlink-msg/exact-capacity", test_exact_capacity);
	g_test_add_func("/netlink-msg/overflow-refused", test_overflow_refused);
	g_test_add_func("/netlink-msg/limits", test_limits);
	return g_test_run();
}
