/* The ATTR payload codec (src/daemon/wire/cfg_attrs.c): round trips of
 * what the engine sends, refusals of what does not fit the table, unknown
 * types skipped, the payload in a message, and the password never shown
 * by the debug dump. */
#include <glib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/wire/cfg_attrs.h"
#include "daemon/wire/packet.h"

static char why[256];

/* fixed part: type, reserved, identifier */
static size_t with_header(uint8_t type, uint16_t id, const struct cfg_builder *b, uint8_t *out)
{
	out[0] = type;
	out[1] = 0;
	out[2] = (uint8_t)(id >> 8);
	out[3] = (uint8_t)id;
	memcpy(out + 4, b->buf, b->len);
	return 4 + b->len;
}

static void test_roundtrip(void)
{
	struct cfg_builder b = { .len = 0 };
	static const uint8_t addr[4] = { 10, 9, 0, 1 }, dns[4] = { 10, 0, 0, 53 };
	cfg_put_tv(&b, XAUTH_TYPE, XAUTH_TYPE_GENERIC);
	cfg_put_tlv(&b, XAUTH_USER_NAME, "alice", 5);
	cfg_put_tlv(&b, XAUTH_USER_PASSWORD, "", 0);
	cfg_put_tlv(&b, CFG_INTERNAL_IP4_ADDRESS, addr, 4);
	cfg_put_tlv(&b, CFG_INTERNAL_IP4_DNS, dns, 4);
	cfg_put_tlv(&b, UNITY_BANNER, "hello", 5);
	cfg_put_tv(&b, XAUTH_STATUS, XAUTH_STATUS_OK);
	g_assert_false(b.overflow);
	uint8_t body[4 + sizeof(b.buf)];
	size_t len = with_header(CFG_REPLY, 0x1234, &b, body);
	struct cfg_attrs a;
	g_assert_cmpint(cfg_attrs_parse(body, len, &a, why, sizeof(why)), ==, 0);
	g_assert_cmpuint(a.msg_type, ==, CFG_REPLY);
	g_assert_cmpuint(a.identifier, ==, 0x1234);
	g_assert_cmpuint(a.n, ==, 7);
	g_assert_cmpuint(a.n_unknown, ==, 0);
	g_assert_cmpuint(cfg_attrs_find(&a, XAUTH_TYPE)->value, ==, XAUTH_TYPE_GENERIC);
	const struct cfg_attr *u = cfg_attrs_find(&a, XAUTH_USER_NAME);
	g_assert_cmpuint(u->len, ==, 5);
	g_assert_cmpmem(u->data, u->len, "alice", 5);
	g_assert_cmpuint(cfg_attrs_find(&a, XAUTH_USER_PASSWORD)->len, ==, 0);
	g_assert_cmpmem(cfg_attrs_find(&a, CFG_INTERNAL_IP4_ADDRESS)->data, 4, addr, 4);
	g_assert_cmpuint(cfg_attrs_find(&a, XAUTH_STATUS)->value, ==, XAUTH_STATUS_OK);
	g_assert_null(cfg_attrs_find(&a, CFG_INTERNAL_IP6_DNS));
	/* the wire bytes: AF bit on TV, type and length on TLV */
	g_assert_cmphex(body[4], ==, 0xc0);   /* 0x8000 | 16520 = 0xc088 */
	g_assert_cmphex(body[5], ==, 0x88);
	g_assert_cmphex(body[8], ==, 0x40);   /* 16521 = 0x4089, TLV */
	g_assert_cmphex(body[9], ==, 0x89);
	g_assert_cmphex(body[11], ==, 5);
}

static int parse_bytes(const uint8_t *attrs, size_t len, struct cfg_attrs *a)
{
	uint8_t body[64] = { CFG_REPLY, 0, 0, 1 };
	g_assert_cmpuint(len + 4, <=, sizeof(body));
	memcpy(body + 4, attrs, len);
	why[0] = '\0';
	return cfg_attrs_parse(body, len + 4, a, why, sizeof(why));
}

static void test_refusals(void)
{
	struct cfg_attrs a;
	uint8_t short_body[3] = { 1, 0, 0 };
	g_assert_cmpint(cfg_attrs_parse(short_body, 3, &a, why, sizeof(why)), ==, -1);
	g_assert_nonnull(strstr(why, "shorter"));
	/* truncated attribute header */
	static const uint8_t trunc_hdr[] = { 0x00, 0x01, 0x00 };
	g_assert_cmpint(parse_bytes(trunc_hdr, sizeof(trunc_hdr), &a), ==, -1);
	g_assert_nonnull(strstr(why, "truncated"));
	/* TLV longer than what follows */
	static const uint8_t trunc_val[] = { 0x00, 0x01, 0x00, 0x04, 10, 0, 0 };
	g_assert_cmpint(parse_bytes(trunc_val, sizeof(trunc_val), &a), ==, -1);
	g_assert_nonnull(strstr(why, "INTERNAL_IP4_ADDRESS"));
	/* an IPv4 address of 3 bytes */
	static const uint8_t wrong_len[] = { 0x00, 0x01, 0x00, 0x03, 10, 0, 0 };
	g_assert_cmpint(parse_bytes(wrong_len, sizeof(wrong_len), &a), ==, -1);
	g_assert_nonnull(strstr(why, "3 bytes"));
	/* XAUTH_STATUS must be TV */
	static const uint8_t status_tlv[] = { 0x40, 0x8f, 0x00, 0x02, 0, 1 };
	g_assert_cmpint(parse_bytes(status_tlv, sizeof(status_tlv), &a), ==, -1);
	g_assert_nonnull(strstr(why, "XAUTH_STATUS"));
	/* USER_NAME must be TLV */
	static const uint8_t name_tv[] = { 0xc0, 0x89, 0x00, 0x02 };
	g_assert_cmpint(parse_bytes(name_tv, sizeof(name_tv), &a), ==, -1);
	/* split include: whole 14-byte entries only */
	uint8_t split[4 + 15] = { 0x70, 0x04, 0x00, 15 };
	g_assert_cmpint(parse_bytes(split, sizeof(split), &a), ==, -1);
	split[3] = 14;
	g_assert_cmpint(parse_bytes(split, sizeof(split) - 1, &a), ==, 0);
	/* ... or strongSwan's one subnet as address and mask (8 bytes) */
	split[3] = 8;
	g_assert_cmpint(parse_bytes(split, 4 + 8, &a), ==, 0);
	split[3] = 9;
	g_assert_cmpint(parse_bytes(split, 4 + 9, &a), ==, -1);
	/* strongSwan's ACK names XAUTH_STATUS as an empty TLV */
	static const uint8_t status_ack[] = { 0x40, 0x8f, 0x00, 0x00 };
	g_assert_cmpint(parse_bytes(status_ack, sizeof(status_ack), &a), ==, 0);
	g_assert_cmpuint(a.n, ==, 1);
	/* libreswan's zero padding to 4 bytes ends the list; other bytes do not */
	static const uint8_t padded[] = { 0x00, 0x01, 0x00, 0x00, 0, 0, 0 };
	g_assert_cmpint(parse_bytes(padded, sizeof(padded), &a), ==, 0);
	g_assert_cmpuint(a.n, ==, 1);
	static const uint8_t not_padding[] = { 0x00, 0x01, 0x00, 0x00, 0, 1 };
	g_assert_cmpint(parse_bytes(not_padding, sizeof(not_padding), &a), ==, -1);
	g_assert_nonnull(strstr(why, "truncated"));
	/* empty values ask for them (REQUEST) */
	static const uint8_t empty[] = { 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00 };
	g_assert_cmpint(parse_bytes(empty, sizeof(empty), &a), ==, 0);
	g_assert_cmpuint(a.n, ==, 2);
}

static void test_unknown_skipped(void)
{
	struct cfg_attrs a;
	/* TLV 0x3000 (unknown) with 3 bytes, TV 0x7777 (unknown), then a known one */
	static const uint8_t attrs[] = { 0x30, 0x00, 0x00, 0x03, 1, 2, 3, 0xf7, 0x77, 0x00, 0x05,
					 0x00, 0x03, 0x00, 0x04, 8, 8, 8, 8 };
	g_assert_cmpint(parse_bytes(attrs, sizeof(attrs), &a), ==, 0);
	g_assert_cmpuint(a.n_unknown, ==, 2);
	g_assert_cmpuint(a.n, ==, 1);
	g_assert_cmpuint(a.attrs[0].type, ==, CFG_INTERNAL_IP4_DNS);
	g_assert_cmpstr(cfg_attr_name(0x3000), ==, "unknown");
	g_assert_cmpstr(cfg_attr_name(UNITY_SPLIT_INCLUDE), ==, "UNITY_SPLIT_INCLUDE");
}

/* the numbers of the drafts, as the table has them */
static void test_numbers(void)
{
	g_assert_cmpuint(PT_ATTR, ==, 14);
	g_assert_cmpuint(XCHG_TRANSACTION, ==, 6);
	g_assert_cmpstr(exchange_name(6), ==, "Transaction");
	g_assert_cmpstr(payload_type_name(14), ==, "ATTR");
	g_assert_cmpstr(cfg_attr_name(16520), ==, "XAUTH_TYPE");
	g_assert_cmpstr(cfg_attr_name(16522), ==, "XAUTH_USER_PASSWORD");
	g_assert_cmpstr(cfg_attr_name(16527), ==, "XAUTH_STATUS");
	g_assert_cmpstr(cfg_attr_name(28674), ==, "UNITY_DEF_DOMAIN");
	g_assert_cmpstr(cfg_attr_name(10), ==, "INTERNAL_IP6_DNS");
	g_assert_cmpstr(cfg_attr_name(14), ==, "SUPPORTED_ATTRIBUTES");
	g_assert_true(cfg_attr_desc_get(XAUTH_TYPE)->tv);
	g_assert_false(cfg_attr_desc_get(CFG_INTERNAL_IP6_ADDRESS)->tv);
	g_assert_cmpstr(cfg_msg_type_name(CFG_ACK), ==, "ISAKMP_CFG_ACK");
}

static GString *captured;
static void capture(int priority, const char *line, void *ud)
{
	(void)priority;
	(void)ud;
	g_string_append(captured, line);
	g_string_append_c(captured, '\n');
}

/* emitted into a message, parsed back by the payload parser; the dumps
 * (emitting and parsing) name the attributes and never show the password */
static void test_payload_and_dump(void)
{
	captured = g_string_new(NULL);
	log_set_hook(capture, NULL);
	debug_global = DBG_ALL_NONPRIVATE | DBG_PRIVATE;
	struct cfg_builder b = { .len = 0 };
	cfg_put_tlv(&b, XAUTH_USER_NAME, "bob", 3);
	cfg_put_tlv(&b, XAUTH_USER_PASSWORD, "Sup3rSecretPw", 13);
	struct pbuf pb;
	pbuf_init(&pb);
	struct isakmp_hdr h = { .np = PT_ATTR, .version = ISAKMP_VERSION, .xchg = XCHG_TRANSACTION,
				.icookie = { 1 }, .msgid = 7 };
	emit_hdr(&pb, &h);
	emit_attr(&pb, CFG_REPLY, 9, b.buf, b.len);
	size_t len = pbuf_finish(&pb);
	g_assert_cmpuint(len, ==, ISAKMP_HDR_LEN + 4 + 4 + b.len);
	packet_dump(NULL, "test", pb.data, len, false);
	struct msg_digest md = { 0 };
	unsigned notify = 0;
	g_assert_cmpint(payloads_parse(&md, PT_ATTR, pb.data + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN, false,
				       &notify, why, sizeof(why)), ==, 0);
	const struct payload *p = md_first(&md, PT_ATTR);
	g_assert_nonnull(p);
	g_assert_cmpuint(p->u.attr.type, ==, CFG_REPLY);
	g_assert_cmpuint(p->u.attr.identifier, ==, 9);
	msg_digest_release(&md);
	/* a malformed ATTR payload is refused by the payload parser */
	pb.data[ISAKMP_HDR_LEN + 8 + 3] = 200;   /* USER_NAME's length beyond the payload */
	memset(&md, 0, sizeof(md));
	g_assert_cmpint(payloads_parse(&md, PT_ATTR, pb.data + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN, false,
				       &notify, why, sizeof(why)), ==, -1);
	g_assert_cmpuint(notify, ==, N_PAYLOAD_MALFORMED);
	msg_digest_release(&md);
	pbuf_free(&pb);
	debug_global = 0;
	log_set_hook(NULL, NULL);
	g_assert_nonnull(strstr(captured->str, "XAUTH_USER_NAME"));
	g_assert_nonnull(strstr(captured->str, "bob"));
	g_assert_nonnull(strstr(captured->str, "masked"));
	g_assert_null(strstr(captured->str, "Sup3rSecretPw"));
	/* nor its bytes in hex */
	g_assert_null(strstr(captured->str, "53757033"));
	g_string_free(captured, TRUE);
}

/* UNITY_SPLIT_INCLUDE values: Cisco's 14-byte entries (several in one
 * attribute), strongSwan's 8-byte one, host bits cleared, a netmask that
 * is no prefix dropped and counted, at most max taken. */
static void test_split_include(void)
{
	static const uint8_t two[] = { 10, 2, 0, 0, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0,
				       172, 16, 4, 9, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0 };
	ip_subnet sn[4];
	size_t n = 0;
	char b[IP_STR_MAX];
	g_assert_cmpuint(cfg_split_include_parse(two, sizeof(two), sn, &n, 4), ==, 0);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpstr(subnet_str(&sn[0], b), ==, "10.2.0.0/16");
	g_assert_cmpstr(subnet_str(&sn[1], b), ==, "172.16.4.0/24");   /* host bits cleared */

	static const uint8_t short_one[] = { 192, 168, 7, 0, 255, 255, 255, 128 };
	g_assert_cmpuint(cfg_split_include_parse(short_one, sizeof(short_one), sn, &n, 4), ==, 0);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpstr(subnet_str(&sn[2], b), ==, "192.168.7.0/25");

	static const uint8_t holes[] = { 10, 0, 0, 0, 255, 0, 255, 0, 0, 0, 0, 0, 0, 0,
					 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	g_assert_cmpuint(cfg_split_include_parse(holes, sizeof(holes), sn, &n, 4), ==, 1);
	g_assert_cmpuint(n, ==, 4);
	g_assert_cmpstr(subnet_str(&sn[3], b), ==, "0.0.0.0/0");

	/* full: nothing more taken */
	g_assert_cmpuint(cfg_split_include_parse(two, sizeof(two), sn, &n, 4), ==, 0);
	g_assert_cmpuint(n, ==, 4);
	g_assert_cmpstr(subnet_str(&sn[0], b), ==, "10.2.0.0/16");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	log_init(LOG_TO_SYSLOG, "test-cfg-attrs");
	g_test_add_func("/cfg-attrs/split-include", test_split_include);
	g_test_add_func("/cfg-attrs/roundtrip", test_roundtrip);
	g_test_add_func("/cfg-attrs/refusals", test_refusals);
	g_test_add_func("/cfg-attrs/unknown-skipped", test_unknown_skipped);
	g_test_add_func("/cfg-attrs/numbers", test_numbers);
	g_test_add_func("/cfg-attrs/payload-and-dump", test_payload_and_dump);
	return g_test_run();
}
