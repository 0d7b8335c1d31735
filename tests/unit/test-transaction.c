/* The Transaction exchange's crypto (src/daemon/ikev1/transaction.c):
 * HASH(1) = prf(SKEYID_a, M-ID | ATTR) as the draft gives it, checked
 * against HMAC computed here from the definition, and the IV of each
 * exchange: the current exchange's chain for its own message id, else
 * hash(last phase-1 block | M-ID) (RFC 2409 appendix B), never the
 * phase-1 chain itself. */
#include <glib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "daemon/ikev1/ikev1.h"
#include "daemon/wire/cfg_attrs.h"
#include "policy/algs.h"

static struct ike_keys sa_keys;

static void setup_sa(struct v1_state *s)
{
	memset(s, 0, sizeof(*s));
	memset(&sa_keys, 0, sizeof(sa_keys));
	s->keys = &sa_keys;
	s->ike.hash = alg_by_name(ALG_HASH, "sha2_256");
	s->ike.cipher = alg_by_name(ALG_CIPHER, "aes");
	g_assert_nonnull(s->ike.hash);
	g_assert_nonnull(s->ike.cipher);
	s->keys->hash_len = 32;
	for (size_t i = 0; i < 32; i++)
		s->keys->skeyid_a[i] = (uint8_t)(0xa0 + i);
	s->iv_len = 16;
	for (size_t i = 0; i < 16; i++)
		s->iv[i] = (uint8_t)(0x10 + i);
}

static void test_hash1(void)
{
	struct v1_state s;
	setup_sa(&s);
	/* an ATTR payload (generic header included): REPLY with a user name */
	struct cfg_builder b = { .len = 0 };
	cfg_put_tlv(&b, XAUTH_USER_NAME, "alice", 5);
	uint8_t attr[64] = { 0, 0, 0, (uint8_t)(8 + b.len), CFG_REPLY, 0, 0, 7 };
	memcpy(attr + 8, b.buf, b.len);
	size_t attr_len = 8 + b.len;
	uint32_t msgid = 0x0badcafe;
	uint8_t got[CRYPTO_MAX_HASH];
	struct chunk rest = CHUNK(attr, attr_len);
	g_assert_true(v1_hash_skeyid_a(&s, msgid, false, &rest, 1, got));
	/* the definition: HMAC-SHA256(SKEYID_a, M-ID (big endian) | ATTR) */
	uint8_t input[4 + 64];
	input[0] = 0x0b, input[1] = 0xad, input[2] = 0xca, input[3] = 0xfe;
	memcpy(input + 4, attr, attr_len);
	uint8_t want[EVP_MAX_MD_SIZE];
	unsigned want_len = 0;
	g_assert_nonnull(HMAC(EVP_sha256(), s.keys->skeyid_a, 32, input, 4 + attr_len, want, &want_len));
	g_assert_cmpuint(want_len, ==, 32);
	g_assert_cmpmem(got, 32, want, 32);
	/* another message id gives another HASH */
	uint8_t other[CRYPTO_MAX_HASH];
	g_assert_true(v1_hash_skeyid_a(&s, msgid + 1, false, &rest, 1, other));
	g_assert_true(memcmp(other, got, 32) != 0);
}

static void test_iv(void)
{
	struct v1_state s;
	setup_sa(&s);
	uint8_t fresh[CRYPTO_MAX_BLOCK];
	uint32_t msgid = 0x01020304;
	/* a new exchange: hash(phase-1 last block | M-ID), cut to the block */
	uint8_t *iv = transaction_iv(&s, msgid, fresh);
	g_assert_true(iv == fresh);
	uint8_t input[20], digest[32];
	memcpy(input, s.iv, 16);
	input[16] = 1, input[17] = 2, input[18] = 3, input[19] = 4;
	unsigned dlen = 0;
	g_assert_true(EVP_Digest(input, sizeof(input), digest, &dlen, EVP_sha256(), NULL));
	g_assert_cmpmem(iv, 16, digest, 16);
	/* the current exchange continues its own chain */
	s.tx_msgid = msgid;
	memset(s.tx_iv, 0x77, sizeof(s.tx_iv));
	g_assert_true(transaction_iv(&s, msgid, fresh) == s.tx_iv);
	/* another message id starts a new chain from the phase-1 block, which
	 * the transaction never changed */
	g_assert_true(transaction_iv(&s, msgid + 1, fresh) == fresh);
	g_assert_cmphex(s.iv[0], ==, 0x10);
	/* message id 0 is never an exchange of its own */
	s.tx_msgid = 0;
	g_assert_true(transaction_iv(&s, 0, fresh) == fresh);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/transaction/hash1", test_hash1);
	g_test_add_func("/transaction/iv", test_iv);
	return g_test_run();
}
