/* Proposals: what we build has the layout the peers expect; what we
 * build, we select and accept back (seed and modern algorithms); SAs
 * copied by hand from real strongSwan 5.9.8 / libreswan 4.10 captures
 * (the tshark dumps under /work/shared/interop/captures) are chosen or refused as our
 * default and seed policies should; every refusal says why. */
#include <glib.h>
#include <stdarg.h>
#include <string.h>

#include "policy/algs.h"
#include "policy/proposals.h"
#include "policy/sa.h"

#define SEED_IKE "3des-md5-modp1024,3des-sha1-modp1024,3des-md5-modp1536,3des-sha1-modp1536"
#define SEED_ESP "3des-md5,3des-sha1"
#define PSK (1u << OAKLEY_PRESHARED_KEY)
#define RSA (1u << OAKLEY_RSA_SIG)

/* ---- helpers ---- */

/* A cipher's name at its key length ("aes128"): the descriptor row is
 * one per algorithm, the key length travels beside it. */
static const char *keyed(const struct alg *a, unsigned key_bits)
{
	static char bufs[4][ALG_NAME_MAX];
	static unsigned next;
	g_assert_nonnull(a);
	return alg_name_at(a, key_bits, bufs[next++ % 4]);
}

static struct sa_payload *sa_new(void)
{
	struct sa_payload *sa = g_new0(struct sa_payload, 1);
	sa->doi = ISAKMP_DOI_IPSEC;
	sa->situation = SIT_IDENTITY_ONLY;
	return sa;
}

static struct sa_proposal *prop_add(struct sa_payload *sa, uint8_t number, uint8_t protocol,
				    uint8_t spi_size, uint32_t spi)
{
	g_assert_cmpuint(sa->n_proposals, <, SA_PROPOSALS_MAX);
	struct sa_proposal *p = &sa->proposals[sa->n_proposals++];
	p->number = number;
	p->protocol = protocol;
	p->spi_size = spi_size;
	for (unsigned i = 0; i < spi_size; i++)
		p->spi[spi_size - 1 - i] = (uint8_t)(spi >> (8 * i));
	return p;
}

/* attributes as (type, value) pairs ending with type 0 */
static struct sa_transform *xform_add(struct sa_proposal *p, uint8_t number, unsigned id, ...)
{
	g_assert_cmpuint(p->n_transforms, <, SA_TRANSFORMS_MAX);
	struct sa_transform *t = &p->transforms[p->n_transforms++];
	t->number = number;
	t->id = (uint8_t)id;
	va_list ap;
	va_start(ap, id);
	for (;;) {
		unsigned type = va_arg(ap, unsigned);
		if (!type)
			break;
		unsigned value = va_arg(ap, unsigned);
		g_assert_true(sa_attr_add(t, (uint16_t)type, value));
	}
	va_end(ap);
	return t;
}

static uint32_t spi_of(const struct sa_proposal *p)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < p->spi_size; i++)
		v = (v << 8) | p->spi[i];
	return v;
}

static void assert_same_transform(const struct sa_transform *a, const struct sa_transform *b)
{
	g_assert_cmpuint(a->number, ==, b->number);
	g_assert_cmpuint(a->id, ==, b->id);
	g_assert_cmpuint(a->n_attrs, ==, b->n_attrs);
	for (size_t i = 0; i < a->n_attrs; i++) {
		g_assert_cmpuint(a->attrs[i].type, ==, b->attrs[i].type);
		g_assert_cmpuint(a->attrs[i].value, ==, b->attrs[i].value);
	}
}

struct ike_setup {
	struct ike_proposals props;
	struct ike_policy pol;
};

static void ike_setup(struct ike_setup *s, const char *list, unsigned mask, uint32_t life)
{
	char why[256];
	memset(s, 0, sizeof(*s));
	g_assert_true(ike_proposals_parse(list, &s->props, why, sizeof(why)));
	s->pol.proposals = &s->props;
	s->pol.auth_mask = mask;
	s->pol.lifetime = life;
}

struct ipsec_setup {
	struct esp_proposals esp;
	struct ah_proposals ah;
	struct ipsec_policy pol;
};

static void esp_setup(struct ipsec_setup *s, const char *list, uint32_t spi)
{
	char why[256];
	memset(s, 0, sizeof(*s));
	g_assert_true(esp_proposals_parse(list, &s->esp, why, sizeof(why)));
	s->pol.protocol = PROTO_IPSEC_ESP;
	s->pol.esp = &s->esp;
	s->pol.tunnel = true;
	s->pol.lifetime = 3600;
	s->pol.our_spi = spi;
}

static void ah_setup(struct ipsec_setup *s, const char *list, uint32_t spi)
{
	char why[256];
	memset(s, 0, sizeof(*s));
	g_assert_true(ah_proposals_parse(list, &s->ah, why, sizeof(why)));
	s->pol.protocol = PROTO_IPSEC_AH;
	s->pol.ah = &s->ah;
	s->pol.tunnel = true;
	s->pol.lifetime = 3600;
	s->pol.our_spi = spi;
}

/* ---- attributes and registry ---- */

static void test_attr(void)
{
	struct sa_transform t = { 0 };
	uint32_t v = 77;
	g_assert_false(sa_attr_get(&t, OAKLEY_HASH_ALGORITHM, &v));
	g_assert_cmpuint(v, ==, 77);
	g_assert_true(sa_attr_add(&t, OAKLEY_HASH_ALGORITHM, 2));
	g_assert_true(sa_attr_add(&t, OAKLEY_LIFE_DURATION, 95040));   /* a TLV value */
	g_assert_true(sa_attr_add(&t, OAKLEY_HASH_ALGORITHM, 4));
	g_assert_cmpuint(t.n_attrs, ==, 3);
	g_assert_true(sa_attr_get(&t, OAKLEY_HASH_ALGORITHM, &v));
	g_assert_cmpuint(v, ==, 2);                                     /* the first one */
	g_assert_true(sa_attr_get(&t, OAKLEY_LIFE_DURATION, &v));
	g_assert_cmpuint(v, ==, 95040);
	g_assert_true(sa_attr_get(&t, OAKLEY_LIFE_DURATION, NULL));
	g_assert_false(sa_attr_get(&t, OAKLEY_GROUP_DESCRIPTION, NULL));
	while (t.n_attrs < SA_ATTRS_MAX)
		g_assert_true(sa_attr_add(&t, OAKLEY_LIFE_TYPE, 1));
	g_assert_false(sa_attr_add(&t, OAKLEY_KEY_LENGTH, 128));
	g_assert_cmpuint(t.n_attrs, ==, SA_ATTRS_MAX);
	g_assert_false(sa_attr_get(&t, OAKLEY_KEY_LENGTH, NULL));
}

static void test_registry(void)
{
	const struct alg *md5 = alg_by_name(ALG_HASH, "md5"), *sha1 = alg_by_name(ALG_HASH, "sha");
	g_assert_cmpuint(md5->ike_id, ==, 1);
	g_assert_cmpuint(md5->esp_id, ==, 1);
	g_assert_cmpuint(md5->ah_id, ==, AH_MD5);
	g_assert_cmpuint(sha1->ah_id, ==, AH_SHA);
	g_assert_cmpuint(sha1->esp_id, ==, 2);
	g_assert_cmpuint(alg_by_name(ALG_HASH, "sha2_256")->ah_id, ==, AH_SHA2_256);
	g_assert_cmpuint(alg_by_name(ALG_HASH, "sha2_512")->esp_id, ==, 7);
	g_assert_cmpstr(alg_by_ike_id(ALG_HASH, 2, 0)->name, ==, "sha1");
	g_assert_cmpstr(keyed(alg_by_ike_id(ALG_CIPHER, 7, 256), 256), ==, "aes256");
	g_assert_cmpstr(keyed(alg_by_ike_id(ALG_CIPHER, 7, 128), 128), ==, "aes128");
	g_assert_null(alg_by_ike_id(ALG_CIPHER, 7, 0));
	g_assert_null(alg_by_ike_id(ALG_CIPHER, 7, 512));
	g_assert_cmpstr(alg_by_ike_id(ALG_CIPHER, 5, 0)->name, ==, "3des");
	g_assert_cmpstr(alg_by_esp_id(ALG_CIPHER, 3, 0)->name, ==, "3des");
	g_assert_cmpstr(alg_by_esp_id(ALG_HASH, 5, 0)->name, ==, "sha2_256");
	g_assert_cmpstr(alg_by_ah_id(AH_SHA)->name, ==, "sha1");
	g_assert_null(alg_by_ah_id(1));
	g_assert_cmpstr(alg_by_ike_id(ALG_DH, 14, 0)->name, ==, "modp2048");
	g_assert_cmpstr(alg_by_ike_id(ALG_DH, 19, 0)->name, ==, "ecp256");
	g_assert_null(alg_by_ike_id(ALG_DH, 1, 0));
	g_assert_true(alg_by_name(ALG_CIPHER, "aes")->key_length_attr);
	g_assert_false(alg_by_name(ALG_CIPHER, "3des")->key_length_attr);
}

/* ---- ISAKMP SA ---- */

/* the AUTHENTICATION_METHOD of transform i of a built SA */
static uint32_t built_auth(const struct sa_payload *sa, size_t i)
{
	const struct sa_transform *t = &sa->proposals[0].transforms[i];
	for (size_t a = 0; a < t->n_attrs; a++)
		if (t->attrs[a].type == OAKLEY_AUTHENTICATION_METHOD)
			return t->attrs[a].value;
	return 0;
}

/* XAUTH in the authentication method (draft-beaulieu-ike-xauth-02): the
 * client initiating proposes XAUTHInit*, the gateway initiating
 * XAUTHResp*; a responder takes its role's method or the plain one, and
 * the choice is the plain method either way */
static void test_ike_xauth_methods(void)
{
	struct ike_setup cl, gw, plain;
	g_autofree struct sa_payload *sa = g_new0(struct sa_payload, 1);
	g_autofree struct sa_payload *reply = g_new0(struct sa_payload, 1);
	struct ike_choice c = { 0 }, back = { 0 };
	char why[1024];

	ike_setup(&cl, "aes128-sha1-modp2048", PSK, 3600);
	cl.pol.xauth = IKE_XAUTH_CLIENT;
	ike_setup(&gw, "aes128-sha1-modp2048", PSK, 3600);
	gw.pol.xauth = IKE_XAUTH_SERVER;
	ike_setup(&plain, "aes128-sha1-modp2048", PSK, 3600);

	ike_sa_build(&cl.pol, sa);
	g_assert_cmpuint(built_auth(sa, 0), ==, XAUTH_INIT_PRESHARED);
	g_assert_true(ike_sa_select(sa, &gw.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.auth, ==, OAKLEY_PRESHARED_KEY);
	g_assert_cmpuint(built_auth(reply, 0), ==, XAUTH_INIT_PRESHARED);
	g_assert_true(ike_sa_check_reply(sa, reply, &back, why, sizeof(why)));
	g_assert_cmpuint(back.auth, ==, OAKLEY_PRESHARED_KEY);
	/* a peer without XAUTH refuses it and names it */
	g_assert_false(ike_sa_select(sa, &plain.pol, &c, reply, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "XAUTHInitPSK"));
	/* the client does not take its own initiator's method as responder */
	g_assert_false(ike_sa_select(sa, &cl.pol, &c, reply, why, sizeof(why)));

	/* the gateway initiating: XAUTHRespPSK, which the client takes */
	ike_sa_build(&gw.pol, sa);
	g_assert_cmpuint(built_auth(sa, 0), ==, XAUTH_RESP_PRESHARED);
	g_assert_true(ike_sa_select(sa, &cl.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.auth, ==, OAKLEY_PRESHARED_KEY);
	g_assert_false(ike_sa_select(sa, &gw.pol, &c, reply, why, sizeof(why)));

	/* the plain method is still taken by a gateway */
	ike_sa_build(&plain.pol, sa);
	g_assert_cmpuint(built_auth(sa, 0), ==, OAKLEY_PRESHARED_KEY);
	g_assert_true(ike_sa_select(sa, &gw.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.auth, ==, OAKLEY_PRESHARED_KEY);

	/* RSA: XAUTHInitRSA */
	ike_setup(&cl, "aes128-sha1-modp2048", 1u << OAKLEY_RSA_SIG, 3600);
	cl.pol.xauth = IKE_XAUTH_CLIENT;
	ike_setup(&gw, "aes128-sha1-modp2048", 1u << OAKLEY_RSA_SIG, 3600);
	gw.pol.xauth = IKE_XAUTH_SERVER;
	ike_sa_build(&cl.pol, sa);
	g_assert_cmpuint(built_auth(sa, 0), ==, XAUTH_INIT_RSA);
	g_assert_true(ike_sa_select(sa, &gw.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.auth, ==, OAKLEY_RSA_SIG);
	ike_sa_build(&gw.pol, sa);
	g_assert_cmpuint(built_auth(sa, 0), ==, XAUTH_RESP_RSA);
}

static void test_ike_build(void)
{
	struct ike_setup s;
	g_autofree struct sa_payload *sa = g_new0(struct sa_payload, 1);
	ike_setup(&s, "aes128-sha1-modp2048,3des-md5-modp1024", PSK | RSA, 3600);
	ike_sa_build(&s.pol, sa);
	g_assert_cmpuint(sa->doi, ==, ISAKMP_DOI_IPSEC);
	g_assert_cmpuint(sa->situation, ==, SIT_IDENTITY_ONLY);
	g_assert_cmpuint(sa->n_proposals, ==, 1);
	const struct sa_proposal *p = &sa->proposals[0];
	g_assert_cmpuint(p->number, ==, 1);
	g_assert_cmpuint(p->protocol, ==, PROTO_ISAKMP);
	g_assert_cmpuint(p->spi_size, ==, 0);
	g_assert_cmpuint(p->n_transforms, ==, 4);
	for (unsigned i = 0; i < 4; i++) {
		g_assert_cmpuint(p->transforms[i].number, ==, i + 1);
		g_assert_cmpuint(p->transforms[i].id, ==, KEY_IKE);
	}
	/* strongSwan's order, exactly as in its MM1 */
	g_autofree struct sa_payload *want = sa_new();
	struct sa_proposal *w = prop_add(want, 1, PROTO_ISAKMP, 0, 0);
	xform_add(w, 1, KEY_IKE, 1, 7, 14, 128, 2, 2, 4, 14, 3, 1, 11, 1, 12, 3600, 0);
	xform_add(w, 2, KEY_IKE, 1, 7, 14, 128, 2, 2, 4, 14, 3, 3, 11, 1, 12, 3600, 0);
	xform_add(w, 3, KEY_IKE, 1, 5, 2, 1, 4, 2, 3, 1, 11, 1, 12, 3600, 0);    /* no KEY_LENGTH */
	xform_add(w, 4, KEY_IKE, 1, 5, 2, 1, 4, 2, 3, 3, 11, 1, 12, 3600, 0);
	for (unsigned i = 0; i < 4; i++)
		assert_same_transform(&p->transforms[i], &w->transforms[i]);

	/* only RSA: one transform per proposal; lifetime 0 means 8 hours */
	ike_setup(&s, "aes256-sha2_256-modp2048", RSA, 0);
	ike_sa_build(&s.pol, sa);
	g_assert_cmpuint(sa->proposals[0].n_transforms, ==, 1);
	uint32_t v = 0;
	g_assert_true(sa_attr_get(&sa->proposals[0].transforms[0], OAKLEY_AUTHENTICATION_METHOD, &v));
	g_assert_cmpuint(v, ==, OAKLEY_RSA_SIG);
	g_assert_true(sa_attr_get(&sa->proposals[0].transforms[0], OAKLEY_KEY_LENGTH, &v));
	g_assert_cmpuint(v, ==, 256);
	g_assert_true(sa_attr_get(&sa->proposals[0].transforms[0], OAKLEY_LIFE_DURATION, &v));
	g_assert_cmpuint(v, ==, 28800);
}

/* build on one side, select on the other, check the reply on the first */
static void ike_roundtrip(const char *list, unsigned mask, const char *cipher, const char *hash,
			  const char *group, unsigned auth)
{
	struct ike_setup s;
	g_autofree struct sa_payload *sa = g_new0(struct sa_payload, 1);
	g_autofree struct sa_payload *reply = g_new0(struct sa_payload, 1);
	struct ike_choice resp = { 0 }, init = { 0 };
	char why[1024];

	ike_setup(&s, list, mask, 3600);
	ike_sa_build(&s.pol, sa);
	g_assert_true(ike_sa_select(sa, &s.pol, &resp, reply, why, sizeof(why)));
	g_assert_cmpstr(keyed(resp.cipher, resp.key_bits), ==, cipher);
	g_assert_cmpstr(resp.hash->name, ==, hash);
	g_assert_cmpstr(resp.group->name, ==, group);
	g_assert_cmpuint(resp.auth, ==, auth);
	g_assert_true(resp.key_bits != 0 && alg_key_ok(resp.cipher, resp.key_bits));
	g_assert_cmpuint(resp.lifetime, ==, 3600);
	g_assert_cmpuint(reply->n_proposals, ==, 1);
	g_assert_cmpuint(reply->proposals[0].n_transforms, ==, 1);
	assert_same_transform(&reply->proposals[0].transforms[0], &sa->proposals[0].transforms[0]);
	g_assert_true(ike_sa_check_reply(sa, reply, &init, why, sizeof(why)));
	g_assert_true(init.cipher == resp.cipher);
	g_assert_true(init.hash == resp.hash);
	g_assert_true(init.group == resp.group);
	g_assert_cmpuint(init.auth, ==, auth);
	g_assert_cmpuint(init.lifetime, ==, 3600);
}

static void test_ike_roundtrip(void)
{
	/* the seed's algorithms */
	ike_roundtrip("3des-md5-modp1024", PSK, "3des", "md5", "modp1024", OAKLEY_PRESHARED_KEY);
	ike_roundtrip("3des-sha1-modp1536", RSA, "3des", "sha1", "modp1536", OAKLEY_RSA_SIG);
	ike_roundtrip(SEED_IKE, PSK | RSA, "3des", "md5", "modp1024", OAKLEY_PRESHARED_KEY);
	/* modern ones */
	ike_roundtrip("aes128-sha1-modp2048", PSK, "aes128", "sha1", "modp2048", OAKLEY_PRESHARED_KEY);
	ike_roundtrip("aes256-sha2_256-modp2048", PSK, "aes256", "sha2_256", "modp2048", OAKLEY_PRESHARED_KEY);
	ike_roundtrip("aes128-sha2_512-ecp256", RSA, "aes128", "sha2_512", "ecp256", OAKLEY_RSA_SIG);
	ike_roundtrip("aes192-sha2_384-modp3072", PSK, "aes192", "sha2_384", "modp3072", OAKLEY_PRESHARED_KEY);
	ike_roundtrip(default_ike_proposals, PSK, "aes256", "sha2_256", "modp2048", OAKLEY_PRESHARED_KEY);
}

/* libreswan 4.10's default IKEv1 list: AES256, AES128 x SHA2_256,
 * SHA2_512, SHA1 x MODP2048, MODP1536, then 3DES, numbered from 0. */
static void libreswan_default_offer(struct sa_payload *sa)
{
	struct sa_proposal *p = prop_add(sa, 0, PROTO_ISAKMP, 0, 0);
	static const unsigned ciphers[][2] = { { 7, 256 }, { 7, 128 }, { 5, 0 } };
	static const unsigned hashes[] = { 4, 6, 2 };
	static const unsigned groups[] = { 14, 5 };
	uint8_t n = 0;
	for (unsigned c = 0; c < 3; c++)
		for (unsigned h = 0; h < 3; h++)
			for (unsigned g = 0; g < 2; g++) {
				struct sa_transform *t = xform_add(p, n++, KEY_IKE, 11, 1, 12, 86400,
								   1, ciphers[c][0], 2, hashes[h], 3, 1, 4, groups[g], 0);
				if (ciphers[c][1])
					sa_attr_add(t, OAKLEY_KEY_LENGTH, ciphers[c][1]);
			}
	g_assert_cmpuint(p->n_transforms, ==, 18);
}

static void test_ike_libreswan_list(void)
{
	struct ike_setup s;
	g_autofree struct sa_payload *peer = sa_new();
	g_autofree struct sa_payload *reply = g_new0(struct sa_payload, 1);
	struct ike_choice c = { 0 };
	char why[2048];

	libreswan_default_offer(peer);
	/* only the 12th (AES128-SHA1-MODP1536, number 11) is ours */
	ike_setup(&s, "aes128-sha1-modp1536,aes128-md5-modp2048", PSK, 3600);
	g_assert_true(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpstr(keyed(c.cipher, c.key_bits), ==, "aes128");
	g_assert_cmpstr(c.hash->name, ==, "sha1");
	g_assert_cmpstr(c.group->name, ==, "modp1536");
	g_assert_cmpuint(c.lifetime, ==, 3600);              /* 86400 capped */
	g_assert_cmpuint(reply->proposals[0].number, ==, 0); /* echoed, from 0 */
	g_assert_cmpuint(reply->proposals[0].n_transforms, ==, 1);
	assert_same_transform(&reply->proposals[0].transforms[0], &peer->proposals[0].transforms[11]);

	/* the seed's policy meets libreswan's 3DES-SHA1-MODP1536 (the 18th, number 17) */
	ike_setup(&s, SEED_IKE, PSK, 3600);
	g_assert_true(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpstr(keyed(c.cipher, c.key_bits), ==, "3des");
	g_assert_cmpuint(reply->proposals[0].transforms[0].number, ==, 17);

	/* nothing matches: why names every offer and what we accept */
	ike_setup(&s, "3des-md5-modp1024", PSK | RSA, 3600);
	g_assert_false(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_false(proposal_syntax_error(why));
	g_assert_true(g_str_has_prefix(why, "no acceptable transform: peer offered AES256-SHA2_256-MODP2048-PSK, "));
	g_assert_nonnull(strstr(why, "AES128-SHA1-MODP1536-PSK, 3DES-SHA2_256-MODP2048-PSK"));
	g_assert_true(g_str_has_suffix(why, "3DES-SHA1-MODP1536-PSK; we accept 3DES-MD5-MODP1024 with PSK or RSA"));
}

static void test_ike_no_match(void)
{
	struct ike_setup s;
	g_autofree struct sa_payload *peer = sa_new();
	g_autofree struct sa_payload *reply = g_new0(struct sa_payload, 1);
	struct ike_choice c = { 0 };
	char why[512];
	struct sa_proposal *p = prop_add(peer, 1, PROTO_ISAKMP, 0, 0);
	xform_add(p, 1, KEY_IKE, 1, 5, 2, 1, 4, 2, 3, 1, 0);
	xform_add(p, 2, KEY_IKE, 1, 7, 14, 128, 2, 2, 4, 5, 3, 1, 0);
	ike_setup(&s, "aes128-sha1-modp2048", PSK, 3600);
	g_assert_false(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpstr(why, ==, "no acceptable transform: peer offered 3DES-MD5-MODP1024-PSK, "
			"AES128-SHA1-MODP1536-PSK; we accept AES128-SHA1-MODP2048 with PSK");

	/* right algorithms, wrong authentication method */
	sa_attr_add(xform_add(p, 3, KEY_IKE, 1, 7, 2, 2, 4, 14, 3, 3, 0), OAKLEY_KEY_LENGTH, 128);
	g_assert_false(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "AES128-SHA1-MODP2048-RSA; we accept"));
	s.pol.auth_mask = PSK | RSA;
	g_assert_true(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.auth, ==, OAKLEY_RSA_SIG);
	g_assert_cmpuint(c.lifetime, ==, 3600);              /* no life attrs: 8 h, capped */

	/* a tiny why buffer is truncated, never overflowed */
	char tiny[8];
	memset(tiny, 'x', sizeof(tiny));
	s.pol.auth_mask = PSK;
	g_assert_false(ike_sa_select(peer, &s.pol, &c, reply, tiny, sizeof(tiny)));
	g_assert_cmpstr(tiny, ==, "no acce");
}

static void test_ike_syntax(void)
{
	struct ike_setup s;
	g_autofree struct sa_payload *peer = sa_new();
	g_autofree struct sa_payload *reply = g_new0(struct sa_payload, 1);
	struct ike_choice c = { 0 };
	char why[512];
	ike_setup(&s, "aes128-sha1-modp2048", PSK, 3600);

	g_assert_false(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));   /* no proposal */
	g_assert_true(proposal_syntax_error(why));
	struct sa_proposal *p = prop_add(peer, 1, PROTO_ISAKMP, 0, 0);
	xform_add(p, 1, KEY_IKE, 1, 7, 14, 128, 2, 2, 4, 14, 3, 1, 0);
	g_assert_true(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	/* two proposals */
	struct sa_proposal *p2 = prop_add(peer, 2, PROTO_ISAKMP, 0, 0);
	xform_add(p2, 1, KEY_IKE, 1, 7, 14, 128, 2, 2, 4, 14, 3, 1, 0);
	g_assert_false(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_true(proposal_syntax_error(why));
	g_assert_nonnull(strstr(why, "exactly one proposal"));
	/* one proposal, but not ISAKMP */
	peer->n_proposals = 1;
	p->protocol = PROTO_IPSEC_ESP;
	g_assert_false(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_true(proposal_syntax_error(why));
	g_assert_nonnull(strstr(why, "not ISAKMP"));
	p->protocol = PROTO_ISAKMP;
	peer->doi = 2;
	g_assert_false(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_true(proposal_syntax_error(why));
	peer->doi = ISAKMP_DOI_IPSEC;
	g_assert_true(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
}

/* Faulty transforms before a good one: each is skipped, the good one won. */
static void test_ike_bad_transforms(void)
{
	struct ike_setup s;
	g_autofree struct sa_payload *peer = sa_new();
	g_autofree struct sa_payload *reply = g_new0(struct sa_payload, 1);
	struct ike_choice c = { 0 };
	char why[1024];
	ike_setup(&s, "aes128-sha1-modp2048,3des-sha1-modp2048", PSK, 3600);
	struct sa_proposal *p = prop_add(peer, 1, PROTO_ISAKMP, 0, 0);
	xform_add(p, 1, KEY_IKE, 1, 7, 2, 2, 4, 14, 3, 1, 0);                 /* AES, no KEY_LENGTH */
	xform_add(p, 2, KEY_IKE, 1, 5, 14, 192, 2, 2, 4, 14, 3, 1, 0);        /* 3DES with one */
	xform_add(p, 3, KEY_IKE, 1, 7, 14, 128, 2, 2, 4, 14, 3, 1, 16, 5, 0); /* unknown attr 16 */
	xform_add(p, 4, KEY_IKE, 1, 7, 14, 128, 2, 2, 4, 14, 3, 1, 11, 1, 0); /* type, no duration */
	xform_add(p, 5, KEY_IKE, 1, 7, 14, 128, 2, 2, 4, 14, 3, 1, 12, 3600, 0); /* duration, no type */
	xform_add(p, 6, KEY_IKE, 1, 7, 14, 128, 2, 2, 2, 1, 4, 14, 3, 1, 0);  /* hash twice */
	xform_add(p, 7, KEY_IKE, 1, 7, 14, 128, 2, 2, 4, 14, 3, 1, 11, 2, 12, 1000, 0); /* only KB */
	xform_add(p, 8, KEY_IKE, 1, 7, 14, 128, 2, 2, 3, 1, 0);               /* no group */
	xform_add(p, 9, 2, 1, 7, 14, 128, 2, 2, 4, 14, 3, 1, 0);              /* not KEY_IKE */
	xform_add(p, 10, KEY_IKE, 1, 7, 14, 128, 2, 2, 4, 14, 3, 1, 11, 1, 12, 0, 0); /* life 0 */
	g_assert_false(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "offered AES-SHA1-MODP2048-PSK (no KEY_LENGTH, which RFC 3602 requires), "));
	g_assert_nonnull(strstr(why, "3DES-SHA1-MODP2048-PSK (KEY_LENGTH given for a fixed-key cipher)"));
	g_assert_nonnull(strstr(why, "(unsupported attribute 16)"));
	g_assert_nonnull(strstr(why, "(life type without a duration)"));
	g_assert_nonnull(strstr(why, "(life duration without a life type)"));
	g_assert_nonnull(strstr(why, "(attribute repeated)"));
	g_assert_nonnull(strstr(why, "(kilobyte lifetime without a seconds lifetime)"));
	g_assert_nonnull(strstr(why, "(missing GROUP_DESCRIPTION)"));
	g_assert_nonnull(strstr(why, "(transform id 2 is not KEY_IKE)"));
	g_assert_nonnull(strstr(why, "(life duration 0)"));

	/* kilobytes together with seconds are fine (and ignored) */
	xform_add(p, 11, KEY_IKE, 1, 7, 14, 128, 2, 2, 4, 14, 3, 1, 11, 2, 12, 1000, 11, 1, 12, 600, 0);
	g_assert_true(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.lifetime, ==, 600);
	g_assert_cmpuint(reply->proposals[0].transforms[0].number, ==, 11);
	g_assert_cmpuint(reply->proposals[0].transforms[0].n_attrs, ==, 9);
}

static void test_ike_lifetime(void)
{
	struct ike_setup s;
	g_autofree struct sa_payload *peer = sa_new();
	g_autofree struct sa_payload *reply = g_new0(struct sa_payload, 1);
	struct ike_choice c = { 0 };
	char why[512];
	ike_setup(&s, "aes128-sha1-modp2048", PSK, 3600);
	struct sa_proposal *p = prop_add(peer, 1, PROTO_ISAKMP, 0, 0);
	struct sa_transform *t = xform_add(p, 1, KEY_IKE, 1, 7, 14, 128, 2, 2, 4, 14, 3, 1, 11, 1, 12, 95040, 0);

	/* longer: capped in the choice, echoed in the reply */
	g_assert_true(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.lifetime, ==, 3600);
	uint32_t v = 0;
	g_assert_true(sa_attr_get(&reply->proposals[0].transforms[0], OAKLEY_LIFE_DURATION, &v));
	g_assert_cmpuint(v, ==, 95040);
	/* shorter: taken */
	t->attrs[6].value = 1200;
	g_assert_true(ike_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.lifetime, ==, 1200);

	/* initiator side: shorter reply accepted, longer refused */
	g_autofree struct sa_payload *ours = g_new0(struct sa_payload, 1);
	ike_sa_build(&s.pol, ours);
	g_assert_true(ike_sa_check_reply(ours, peer, &c, why, sizeof(why)));
	g_assert_cmpuint(c.lifetime, ==, 1200);
	t->attrs[6].value = 3600;
	g_assert_true(ike_sa_check_reply(ours, peer, &c, why, sizeof(why)));
	g_assert_cmpuint(c.lifetime, ==, 3600);
	t->attrs[6].value = 3601;
	g_assert_false(ike_sa_check_reply(ours, peer, &c, why, sizeof(why)));
	g_assert_cmpstr(why, ==, "reply SA refused: transform AES128-SHA1-MODP2048-PSK has a "
			"lifetime longer than proposed (3601 s)");
	/* lifetime left out by the responder */
	t->n_attrs = 5;
	g_assert_false(ike_sa_check_reply(ours, peer, &c, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "lifetime in seconds missing"));
}

static void test_ike_check_reply_refusals(void)
{
	struct ike_setup s;
	g_autofree struct sa_payload *ours = g_new0(struct sa_payload, 1);
	g_autofree struct sa_payload *reply = sa_new();
	struct ike_choice c = { 0 };
	char why[512];
	ike_setup(&s, "aes128-sha1-modp2048,aes256-sha2_256-modp2048", PSK, 3600);
	ike_sa_build(&s.pol, ours);

	/* what we proposed, renumbered and reordered like strongSwan: fine */
	struct sa_proposal *p = prop_add(reply, 7, PROTO_ISAKMP, 0, 0);
	struct sa_transform *t = xform_add(p, 9, KEY_IKE, 11, 1, 12, 3600, 3, 1, 4, 14, 2, 4, 14, 256, 1, 7, 0);
	g_assert_true(ike_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	g_assert_cmpstr(keyed(c.cipher, c.key_bits), ==, "aes256");
	g_assert_cmpstr(c.hash->name, ==, "sha2_256");

	/* a different hash */
	t->attrs[4].value = 2;
	g_assert_false(ike_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	g_assert_cmpstr(why, ==, "reply SA refused: transform AES256-SHA1-MODP2048-PSK is not one we proposed");
	t->attrs[4].value = 4;
	/* a different key length */
	t->attrs[5].value = 128;
	g_assert_false(ike_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	t->attrs[5].value = 256;
	/* an auth method we did not offer */
	t->attrs[2].value = OAKLEY_RSA_SIG;
	g_assert_false(ike_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	t->attrs[2].value = OAKLEY_PRESHARED_KEY;
	g_assert_true(ike_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	/* an extra attribute */
	sa_attr_add(t, 13, 4);
	g_assert_false(ike_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "unsupported attribute 13"));
	t->n_attrs--;

	/* two transforms */
	xform_add(p, 10, KEY_IKE, 1, 7, 14, 128, 2, 2, 4, 14, 3, 1, 11, 1, 12, 3600, 0);
	g_assert_false(ike_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	g_assert_cmpstr(why, ==, "reply SA refused: 2 transforms, expected exactly one");
	p->n_transforms = 1;
	g_assert_true(ike_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	/* an extra proposal */
	struct sa_proposal *p2 = prop_add(reply, 8, PROTO_ISAKMP, 0, 0);
	xform_add(p2, 1, KEY_IKE, 1, 7, 14, 128, 2, 2, 4, 14, 3, 1, 11, 1, 12, 3600, 0);
	g_assert_false(ike_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "not exactly one proposal"));
}

/* ---- IPsec SA ---- */

static void test_ipsec_build(void)
{
	struct ipsec_setup s;
	g_autofree struct sa_payload *sa = g_new0(struct sa_payload, 1);
	esp_setup(&s, "aes128-sha1,3des-md5", 0xc7f8902f);
	s.pol.pfs_group = alg_by_name(ALG_DH, "modp2048");
	ipsec_sa_build(&s.pol, sa);
	g_assert_cmpuint(sa->doi, ==, ISAKMP_DOI_IPSEC);
	g_assert_cmpuint(sa->situation, ==, SIT_IDENTITY_ONLY);
	g_assert_cmpuint(sa->n_proposals, ==, 1);
	struct sa_proposal *p = &sa->proposals[0];
	g_assert_cmpuint(p->number, ==, 1);
	g_assert_cmpuint(p->protocol, ==, PROTO_IPSEC_ESP);
	g_assert_cmpuint(p->spi_size, ==, 4);
	g_assert_cmpmem(p->spi, 4, "\xc7\xf8\x90\x2f", 4);
	g_autofree struct sa_payload *want = sa_new();
	struct sa_proposal *w = prop_add(want, 1, PROTO_IPSEC_ESP, 4, 0);
	/* strongSwan's order, as in the pfs capture */
	xform_add(w, 1, 12, 6, 128, 5, 2, 3, 14, 4, 1, 1, 1, 2, 3600, 0);
	xform_add(w, 2, 3, 5, 1, 3, 14, 4, 1, 1, 1, 2, 3600, 0);
	g_assert_cmpuint(p->n_transforms, ==, 2);
	assert_same_transform(&p->transforms[0], &w->transforms[0]);
	assert_same_transform(&p->transforms[1], &w->transforms[1]);

	/* NAT-T transport, no PFS, IPComp: second proposal, same number, CPI */
	s.pol.pfs_group = NULL;
	s.pol.tunnel = false;
	s.pol.udp_encap = true;
	s.pol.ipcomp = true;
	s.pol.our_cpi = 0x4a21;
	ipsec_sa_build(&s.pol, sa);
	g_assert_cmpuint(sa->n_proposals, ==, 2);
	uint32_t v = 0;
	g_assert_true(sa_attr_get(&sa->proposals[0].transforms[0], IPSEC_ENCAPSULATION_MODE, &v));
	g_assert_cmpuint(v, ==, ENCAP_UDP_TRANSPORT);
	g_assert_false(sa_attr_get(&sa->proposals[0].transforms[0], IPSEC_GROUP_DESCRIPTION, NULL));
	struct sa_proposal *c = &sa->proposals[1];
	g_assert_cmpuint(c->number, ==, 1);
	g_assert_cmpuint(c->protocol, ==, PROTO_IPCOMP);
	g_assert_cmpuint(c->spi_size, ==, 2);
	g_assert_cmpmem(c->spi, 2, "\x4a\x21", 2);
	g_assert_cmpuint(c->n_transforms, ==, 1);
	w = prop_add(want, 1, PROTO_IPCOMP, 2, 0);
	xform_add(w, 1, IPCOMP_DEFLATE, 4, 4, 1, 1, 2, 3600, 0);
	assert_same_transform(&c->transforms[0], &w->transforms[0]);

	/* PFS group written in esp= */
	esp_setup(&s, "aes256-sha2_256-ecp256", 0x1000);
	g_assert_cmpstr(ipsec_policy_pfs_group(&s.pol)->name, ==, "ecp256");
	ipsec_sa_build(&s.pol, sa);
	g_assert_true(sa_attr_get(&sa->proposals[0].transforms[0], IPSEC_GROUP_DESCRIPTION, &v));
	g_assert_cmpuint(v, ==, 19);
	g_assert_true(sa_attr_get(&sa->proposals[0].transforms[0], IPSEC_AUTH_ALGORITHM, &v));
	g_assert_cmpuint(v, ==, 5);

	/* AH: transform id from the integrity algorithm, plus AUTH_ALGORITHM */
	ah_setup(&s, "md5,sha1,sha2_256", 0x2000);
	ipsec_sa_build(&s.pol, sa);
	p = &sa->proposals[0];
	g_assert_cmpuint(p->protocol, ==, PROTO_IPSEC_AH);
	g_assert_cmpuint(p->n_transforms, ==, 3);
	static const unsigned ah_ids[] = { AH_MD5, AH_SHA, AH_SHA2_256 }, auth_ids[] = { 1, 2, 5 };
	for (unsigned i = 0; i < 3; i++) {
		g_assert_cmpuint(p->transforms[i].id, ==, ah_ids[i]);
		g_assert_true(sa_attr_get(&p->transforms[i], IPSEC_AUTH_ALGORITHM, &v));
		g_assert_cmpuint(v, ==, auth_ids[i]);
		g_assert_false(sa_attr_get(&p->transforms[i], IPSEC_KEY_LENGTH, NULL));
	}
}

static void ipsec_roundtrip(struct ipsec_setup *s, const char *cipher, const char *integ, const char *pfs)
{
	g_autofree struct sa_payload *sa = g_new0(struct sa_payload, 1);
	g_autofree struct sa_payload *reply = g_new0(struct sa_payload, 1);
	struct ipsec_choice resp = { 0 }, init = { 0 };
	char why[1024];
	struct ipsec_policy responder = s->pol;
	responder.our_spi = 0xabcdef01;
	responder.our_cpi = 0x7777;

	ipsec_sa_build(&s->pol, sa);
	g_assert_true(ipsec_sa_select(sa, &responder, &resp, reply, why, sizeof(why)));
	g_assert_cmpuint(resp.protocol, ==, s->pol.protocol);
	if (cipher)
		g_assert_cmpstr(keyed(resp.cipher, resp.key_bits), ==, cipher);
	else
		g_assert_null(resp.cipher);
	g_assert_cmpstr(resp.integ->name, ==, integ);
	if (pfs)
		g_assert_cmpstr(resp.pfs_group->name, ==, pfs);
	else
		g_assert_null(resp.pfs_group);
	g_assert_cmpuint(resp.peer_spi, ==, s->pol.our_spi);
	g_assert_cmpuint(resp.lifetime, ==, s->pol.lifetime);
	g_assert_cmpuint(resp.ipcomp, ==, s->pol.ipcomp);
	g_assert_cmpuint(reply->n_proposals, ==, s->pol.ipcomp ? 2 : 1);
	g_assert_cmpuint(spi_of(&reply->proposals[0]), ==, 0xabcdef01);

	g_assert_true(ipsec_sa_check_reply(sa, reply, &init, why, sizeof(why)));
	g_assert_cmpuint(init.protocol, ==, resp.protocol);
	g_assert_true(init.cipher == NULL || init.cipher->esp_id == resp.cipher->esp_id);
	g_assert_cmpuint(init.key_bits, ==, resp.key_bits);
	g_assert_cmpuint(init.integ->esp_id, ==, resp.integ->esp_id);
	g_assert_cmpuint(init.encap, ==, resp.encap);
	g_assert_true(init.pfs_group == resp.pfs_group);
	g_assert_cmpuint(init.peer_spi, ==, 0xabcdef01);
	g_assert_cmpuint(init.lifetime, ==, s->pol.lifetime);
	g_assert_cmpuint(init.ipcomp, ==, s->pol.ipcomp);
	if (s->pol.ipcomp) {
		g_assert_cmpuint(resp.peer_cpi, ==, s->pol.our_cpi);
		g_assert_cmpuint(init.peer_cpi, ==, 0x7777);
	}
}

static void test_ipsec_roundtrip(void)
{
	struct ipsec_setup s;
	esp_setup(&s, "3des-md5", 0x1234);
	ipsec_roundtrip(&s, "3des", "md5", NULL);
	esp_setup(&s, SEED_ESP, 0x1234);
	s.pol.pfs_group = alg_by_name(ALG_DH, "modp1536");
	ipsec_roundtrip(&s, "3des", "md5", "modp1536");
	esp_setup(&s, "3des-sha1", 0x1234);
	s.pol.pfs_group = alg_by_name(ALG_DH, "modp1024");
	s.pol.tunnel = false;
	ipsec_roundtrip(&s, "3des", "sha1", "modp1024");
	esp_setup(&s, default_esp_proposals, 0x10000);
	ipsec_roundtrip(&s, "aes256", "sha2_256", NULL);
	esp_setup(&s, "aes128-sha2_512", 0xffffffff);
	s.pol.pfs_group = alg_by_name(ALG_DH, "ecp256");
	s.pol.udp_encap = true;
	ipsec_roundtrip(&s, "aes128", "sha2_512", "ecp256");
	esp_setup(&s, "aes256-sha2_384-modp2048", 0x100);
	ipsec_roundtrip(&s, "aes256", "sha2_384", "modp2048");
	ah_setup(&s, "sha1", 0x5555);
	ipsec_roundtrip(&s, NULL, "sha1", NULL);
	ah_setup(&s, "sha2_256,md5", 0x5555);
	s.pol.pfs_group = alg_by_name(ALG_DH, "modp2048");
	ipsec_roundtrip(&s, NULL, "sha2_256", "modp2048");
	esp_setup(&s, "aes128-sha1", 0x9999);
	s.pol.ipcomp = true;
	s.pol.our_cpi = 0x4000;
	ipsec_roundtrip(&s, "aes128", "sha1", NULL);
	ah_setup(&s, "md5", 0x9999);
	s.pol.ipcomp = true;
	s.pol.our_cpi = 0x4000;
	ipsec_roundtrip(&s, NULL, "md5", NULL);
}

static void test_ipsec_ipcomp(void)
{
	struct ipsec_setup s;
	g_autofree struct sa_payload *sa = g_new0(struct sa_payload, 1);
	g_autofree struct sa_payload *reply = g_new0(struct sa_payload, 1);
	g_autofree struct sa_payload *plain = g_new0(struct sa_payload, 1);
	struct ipsec_choice c = { 0 };
	char why[1024];

	esp_setup(&s, "aes128-sha1", 0x9999);
	s.pol.ipcomp = true;
	s.pol.our_cpi = 0x4000;
	ipsec_sa_build(&s.pol, sa);

	/* a responder without ipcomp refuses the bundle */
	struct ipsec_policy nocomp = s.pol;
	nocomp.ipcomp = false;
	g_assert_false(ipsec_sa_select(sa, &nocomp, &c, reply, why, sizeof(why)));
	g_assert_cmpstr(why, ==, "no acceptable proposal: peer offered ESP[AES128-SHA1 tunnel]+IPCOMP[DEFLATE tunnel] "
			"(IPCOMP not wanted); we accept ESP AES128-SHA1 in tunnel mode");
	/* one with ipcomp accepts plain ESP too */
	ipsec_sa_build(&nocomp, plain);
	g_assert_true(ipsec_sa_select(plain, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_false(c.ipcomp);
	g_assert_cmpuint(reply->n_proposals, ==, 1);
	/* but an initiator that offered ESP+IPCOMP refuses a plain ESP answer */
	g_assert_false(ipsec_sa_check_reply(sa, reply, &c, why, sizeof(why)));
	g_assert_cmpstr(why, ==, "reply SA refused: we did not propose ESP without IPCOMP");

	/* the reply: both proposals, same number, our SPI and CPI */
	g_assert_true(ipsec_sa_select(sa, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(reply->n_proposals, ==, 2);
	g_assert_cmpuint(reply->proposals[0].protocol, ==, PROTO_IPSEC_ESP);
	g_assert_cmpuint(reply->proposals[1].protocol, ==, PROTO_IPCOMP);
	g_assert_cmpuint(reply->proposals[1].number, ==, reply->proposals[0].number);
	g_assert_cmpuint(reply->proposals[1].spi_size, ==, 2);
	g_assert_cmpuint(spi_of(&reply->proposals[1]), ==, 0x4000);

	/* a 4-byte CPI field (RFC 3173: CPI in the low-order bytes) */
	sa->proposals[1].spi_size = 4;
	memcpy(sa->proposals[1].spi, "\x00\x00\x12\x34", 4);
	g_assert_true(ipsec_sa_select(sa, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.peer_cpi, ==, 0x1234);
	g_assert_cmpuint(reply->proposals[1].spi_size, ==, 4);
	g_assert_cmpuint(spi_of(&reply->proposals[1]), ==, 0x4000);
	/* a reserved CPI */
	memcpy(sa->proposals[1].spi, "\x00\x00\x00\x02", 4);
	g_assert_false(ipsec_sa_select(sa, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "(reserved CPI 2)"));
	memcpy(sa->proposals[1].spi, "\x00\x00\x12\x34", 4);
	/* the IPCOMP transform in another mode than the ESP one */
	sa->proposals[1].transforms[0].attrs[0].value = ENCAP_TRANSPORT;
	g_assert_false(ipsec_sa_select(sa, &s.pol, &c, reply, why, sizeof(why)));
	/* no mode at all in the IPCOMP transform is fine */
	sa->proposals[1].transforms[0].attrs[0].type = IPSEC_SA_LIFE_TYPE;
	sa->proposals[1].transforms[0].attrs[0].value = SA_LIFE_SECONDS;
	sa->proposals[1].transforms[0].attrs[1].type = IPSEC_SA_LIFE_DURATION;
	sa->proposals[1].transforms[0].attrs[1].value = 60;
	sa->proposals[1].transforms[0].n_attrs = 2;
	g_assert_true(ipsec_sa_select(sa, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.lifetime, ==, 60);      /* the bundle's shortest */

	/* ESP+AH bundles are refused */
	struct sa_proposal *ah = prop_add(sa, 1, PROTO_IPSEC_AH, 4, 0x3333);
	xform_add(ah, 1, AH_SHA, 5, 2, 4, 1, 0);
	g_assert_false(ipsec_sa_select(sa, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "(bundle with AH not supported)"));
}

static void test_ipsec_choice_rules(void)
{
	struct ipsec_setup s;
	g_autofree struct sa_payload *peer = sa_new();
	g_autofree struct sa_payload *reply = g_new0(struct sa_payload, 1);
	struct ipsec_choice c = { 0 };
	char why[1024];
	esp_setup(&s, "aes128-sha1", 0x9999);
	struct sa_proposal *p = prop_add(peer, 0, PROTO_IPSEC_ESP, 4, 0x100);
	struct sa_transform *t = xform_add(p, 0, 12, 4, 1, 1, 1, 2, 86400, 5, 2, 6, 128, 0);

	g_assert_true(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.lifetime, ==, 3600);                 /* capped */
	g_assert_cmpuint(c.peer_spi, ==, 0x100);
	g_assert_cmpuint(c.encap, ==, ENCAP_TUNNEL);
	g_assert_cmpuint(reply->proposals[0].number, ==, 0);
	assert_same_transform(&reply->proposals[0].transforms[0], t);   /* echoed */
	t->attrs[2].value = 600;
	g_assert_true(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.lifetime, ==, 600);
	/* kilobytes recorded for the kernel */
	sa_attr_add(t, IPSEC_SA_LIFE_TYPE, SA_LIFE_KILOBYTES);
	sa_attr_add(t, IPSEC_SA_LIFE_DURATION, 500000);
	g_assert_true(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.life_kilobytes, ==, 500000);
	g_assert_cmpuint(c.lifetime, ==, 600);
	t->n_attrs -= 2;

	/* reserved SPIs */
	memcpy(p->spi, "\x00\x00\x00\xff", 4);
	g_assert_false(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpstr(why, ==, "no acceptable proposal: peer offered ESP[AES128-SHA1 tunnel] (reserved SPI 255); "
			"we accept ESP AES128-SHA1 in tunnel mode");
	memcpy(p->spi, "\x00\x00\x00\x00", 4);
	g_assert_false(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	memcpy(p->spi, "\x00\x00\x01\x00", 4);
	p->spi_size = 2;
	g_assert_false(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "(SPI size 2)"));
	p->spi_size = 4;

	/* encapsulation mode */
	s.pol.tunnel = false;
	g_assert_false(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "we accept ESP AES128-SHA1 in transport mode"));
	s.pol.tunnel = true;
	t->attrs[0].value = ENCAP_UDP_TUNNEL;
	g_assert_false(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	s.pol.udp_encap = true;
	g_assert_true(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.encap, ==, ENCAP_UDP_TUNNEL);
	t->attrs[0].value = ENCAP_UDP_TUNNEL_DRAFT;
	g_assert_true(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.encap, ==, ENCAP_UDP_TUNNEL);
	uint32_t v = 0;
	g_assert_true(sa_attr_get(&reply->proposals[0].transforms[0], IPSEC_ENCAPSULATION_MODE, &v));
	g_assert_cmpuint(v, ==, ENCAP_UDP_TUNNEL_DRAFT);         /* echoed as sent */
	t->attrs[0].value = ENCAP_TUNNEL;
	g_assert_false(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	s.pol.udp_encap = false;

	/* AES without KEY_LENGTH */
	t->attrs[4].type = 9;
	g_assert_false(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "unsupported attribute 9"));
	t->n_attrs = 4;
	g_assert_false(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "ESP[AES-SHA1 tunnel (no KEY_LENGTH, which RFC 3602 requires)]"));
	sa_attr_add(t, IPSEC_KEY_LENGTH, 128);
	g_assert_true(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));

	/* PFS: the peer asks, we do not require: granted */
	sa_attr_add(t, IPSEC_GROUP_DESCRIPTION, 14);
	g_assert_true(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpstr(c.pfs_group->name, ==, "modp2048");
	/* we require another group */
	s.pol.pfs_group = alg_by_name(ALG_DH, "ecp256");
	g_assert_false(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpstr(why, ==, "no acceptable proposal: peer offered ESP[AES128-SHA1-MODP2048 tunnel]; "
			"we accept ESP AES128-SHA1 in tunnel mode with PFS ECP256");
	s.pol.pfs_group = alg_by_name(ALG_DH, "modp2048");
	g_assert_true(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	/* we require PFS, the peer offers none */
	t->n_attrs--;
	g_assert_false(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	s.pol.pfs_group = NULL;
	g_assert_true(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_null(c.pfs_group);

	/* a second proposal (other number) is chosen when the first fails */
	struct sa_proposal *p2 = prop_add(peer, 1, PROTO_IPSEC_ESP, 4, 0x200);
	xform_add(p2, 0, 3, 4, 1, 5, 2, 0);                      /* 3DES-SHA1 */
	esp_setup(&s, "3des-sha1", 0x9999);
	g_assert_true(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.peer_spi, ==, 0x200);
	g_assert_cmpuint(c.lifetime, ==, 3600);                  /* no life attrs: 8 h, capped */
	g_assert_cmpuint(reply->proposals[0].number, ==, 1);
	/* 3DES with KEY_LENGTH */
	sa_attr_add(&p2->transforms[0], IPSEC_KEY_LENGTH, 192);
	g_assert_false(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_nonnull(strstr(why, " or ESP[3DES-SHA1 tunnel (KEY_LENGTH given for a fixed-key cipher)]"));

	/* AH policy meets only ESP */
	ah_setup(&s, "sha1", 0x9999);
	g_assert_false(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "(no AH proposal)"));
	g_assert_nonnull(strstr(why, "we accept AH SHA1 in tunnel mode"));
}

static void test_ipsec_ah(void)
{
	struct ipsec_setup s;
	g_autofree struct sa_payload *peer = sa_new();
	g_autofree struct sa_payload *reply = g_new0(struct sa_payload, 1);
	struct ipsec_choice c = { 0 };
	char why[1024];
	ah_setup(&s, "sha2_256,sha1", 0x9999);
	/* libreswan's ah case: AH_SHA + HMAC-SHA, numbered from 0 */
	struct sa_proposal *p = prop_add(peer, 0, PROTO_IPSEC_AH, 4, 0x8a1b2c3d);
	struct sa_transform *t = xform_add(p, 0, AH_SHA, 4, 1, 1, 1, 2, 28800, 5, 2, 0);
	g_assert_true(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.protocol, ==, PROTO_IPSEC_AH);
	g_assert_null(c.cipher);
	g_assert_cmpstr(c.integ->name, ==, "sha1");
	g_assert_cmpuint(c.peer_spi, ==, 0x8a1b2c3d);
	g_assert_cmpuint(reply->proposals[0].protocol, ==, PROTO_IPSEC_AH);
	/* AUTH_ALGORITHM must go with the transform id */
	t->attrs[3].value = 1;
	g_assert_false(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "AUTH_ALGORITHM does not match the AH transform"));
	t->n_attrs = 3;
	g_assert_false(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "AH transform without AUTH_ALGORITHM"));
	/* AH_MD5 is not in our list */
	t->id = AH_MD5;
	sa_attr_add(t, IPSEC_AUTH_ALGORITHM, 1);
	g_assert_false(ipsec_sa_select(peer, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpstr(why, ==, "no acceptable proposal: peer offered AH[MD5 tunnel]; "
			"we accept AH SHA2_256, SHA1 in tunnel mode");
}

static void test_ipsec_check_reply_refusals(void)
{
	struct ipsec_setup s;
	g_autofree struct sa_payload *ours = g_new0(struct sa_payload, 1);
	g_autofree struct sa_payload *reply = sa_new();
	struct ipsec_choice c = { 0 };
	char why[1024];
	esp_setup(&s, "aes128-sha1,aes256-sha2_256", 0x9999);
	s.pol.pfs_group = alg_by_name(ALG_DH, "modp2048");
	ipsec_sa_build(&s.pol, ours);

	struct sa_proposal *p = prop_add(reply, 3, PROTO_IPSEC_ESP, 4, 0xe3ce4e21);
	struct sa_transform *t = xform_add(p, 5, 12, 1, 1, 2, 1800, 4, 1, 3, 14, 5, 5, 6, 256, 0);
	g_assert_true(ipsec_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	g_assert_cmpstr(keyed(c.cipher, c.key_bits), ==, "aes256");
	g_assert_cmpstr(c.integ->name, ==, "sha2_256");
	g_assert_cmpstr(c.pfs_group->name, ==, "modp2048");
	g_assert_cmpuint(c.lifetime, ==, 1800);
	g_assert_cmpuint(c.peer_spi, ==, 0xe3ce4e21);
	/* a different integrity algorithm */
	t->attrs[4].value = 2;
	g_assert_false(ipsec_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	g_assert_cmpstr(why, ==, "reply SA refused: ESP[AES256-SHA1-MODP2048 tunnel]: not one we proposed");
	t->attrs[4].value = 5;
	g_assert_true(ipsec_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	/* no PFS group where we asked for one */
	t->n_attrs = 0;
	sa_attr_add(t, IPSEC_SA_LIFE_TYPE, SA_LIFE_SECONDS);
	sa_attr_add(t, IPSEC_SA_LIFE_DURATION, 1800);
	sa_attr_add(t, IPSEC_ENCAPSULATION_MODE, ENCAP_TUNNEL);
	sa_attr_add(t, IPSEC_AUTH_ALGORITHM, 5);
	sa_attr_add(t, IPSEC_KEY_LENGTH, 256);
	g_assert_false(ipsec_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	g_assert_cmpstr(why, ==, "reply SA refused: ESP[AES256-SHA2_256 tunnel]: not one we proposed");
	t->n_attrs = 0;
	sa_attr_add(t, IPSEC_SA_LIFE_TYPE, SA_LIFE_SECONDS);
	sa_attr_add(t, IPSEC_SA_LIFE_DURATION, 1800);
	sa_attr_add(t, IPSEC_ENCAPSULATION_MODE, ENCAP_TUNNEL);
	sa_attr_add(t, IPSEC_GROUP_DESCRIPTION, 14);
	sa_attr_add(t, IPSEC_AUTH_ALGORITHM, 5);
	sa_attr_add(t, IPSEC_KEY_LENGTH, 256);
	g_assert_true(ipsec_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	/* a longer lifetime */
	t->attrs[1].value = 3601;
	g_assert_false(ipsec_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	g_assert_nonnull(strstr(why, ": lifetime longer than proposed"));
	t->attrs[1].value = 3600;
	/* a reserved SPI */
	memcpy(p->spi, "\x00\x00\x00\x10", 4);
	g_assert_false(ipsec_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	g_assert_cmpstr(why, ==, "reply SA refused: reserved SPI 16");
	memcpy(p->spi, "\x00\x00\x10\x00", 4);
	g_assert_true(ipsec_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	/* two transforms */
	xform_add(p, 6, 12, 1, 1, 2, 1800, 4, 1, 3, 14, 5, 2, 6, 128, 0);
	g_assert_false(ipsec_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "not exactly one transform"));
	p->n_transforms = 1;
	/* proposals after the first bundle are ignored (strongSwan echoes
	 * its other proposals after the chosen one), even unacceptable ones */
	struct sa_proposal *p2 = prop_add(reply, 4, PROTO_IPSEC_ESP, 4, 0x5000);
	xform_add(p2, 1, 12, 1, 1, 2, 1800, 4, 1, 3, 14, 5, 1, 6, 256, 0);   /* HMAC-MD5: not ours */
	g_assert_true(ipsec_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	g_assert_cmpuint(c.peer_spi, ==, 0x1000);
	/* but the first bundle must still be ours: swap them */
	struct sa_proposal tmp = reply->proposals[0];
	reply->proposals[0] = reply->proposals[1];
	reply->proposals[1] = tmp;
	g_assert_false(ipsec_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	tmp = reply->proposals[0];
	reply->proposals[0] = reply->proposals[1];
	reply->proposals[1] = tmp;
	p = &reply->proposals[0];
	p2 = &reply->proposals[1];
	/* an IPCOMP we never asked for */
	p2->number = 3;
	p2->protocol = PROTO_IPCOMP;
	p2->spi_size = 2;
	memcpy(p2->spi, "\x50\x00", 2);
	p2->transforms[0].id = IPCOMP_DEFLATE;
	p2->transforms[0].n_attrs = 3;
	g_assert_false(ipsec_sa_check_reply(ours, reply, &c, why, sizeof(why)));
	g_assert_cmpstr(why, ==, "reply SA refused: we did not propose ESP+IPCOMP");
	/* AH where we proposed ESP */
	reply->n_proposals = 1;
	p->protocol = PROTO_IPSEC_AH;
	g_assert_false(ipsec_sa_check_reply(ours, reply, &c, why, sizeof(why)));
}

/* ---- real captures ---- */

/* mm-qm-psk-aes.libreswan-init.strongswan-resp.natt4500: MM1/MM2, QI1/QR1 */
static void test_capture_libreswan_to_strongswan(void)
{
	struct ike_setup s;
	struct ipsec_setup e;
	g_autofree struct sa_payload *mm1 = sa_new();
	g_autofree struct sa_payload *mm2 = sa_new();
	g_autofree struct sa_payload *reply = g_new0(struct sa_payload, 1);
	struct ike_choice c = { 0 };
	struct ipsec_choice q = { 0 };
	char why[1024];

	xform_add(prop_add(mm1, 0, PROTO_ISAKMP, 0, 0), 0, KEY_IKE,
		  11, 1, 12, 14400, 1, 7, 2, 2, 3, 1, 4, 14, 14, 128, 0);
	xform_add(prop_add(mm2, 1, PROTO_ISAKMP, 0, 0), 1, KEY_IKE,
		  1, 7, 14, 128, 2, 2, 4, 14, 3, 1, 11, 1, 12, 14400, 0);

	/* we as the responder, default policy */
	ike_setup(&s, default_ike_proposals, PSK | RSA, 3600);
	g_assert_true(ike_sa_select(mm1, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpstr(keyed(c.cipher, c.key_bits), ==, "aes128");
	g_assert_cmpuint(c.key_bits, ==, 128);
	g_assert_cmpstr(c.hash->name, ==, "sha1");
	g_assert_cmpstr(c.group->name, ==, "modp2048");
	g_assert_cmpuint(c.auth, ==, OAKLEY_PRESHARED_KEY);
	g_assert_cmpuint(c.lifetime, ==, 3600);
	assert_same_transform(&reply->proposals[0].transforms[0], &mm1->proposals[0].transforms[0]);
	/* the seed's policy refuses it, naming both sides */
	ike_setup(&s, SEED_IKE, PSK, 28800);
	g_assert_false(ike_sa_select(mm1, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpstr(why, ==, "no acceptable transform: peer offered AES128-SHA1-MODP2048-PSK; we accept "
			"3DES-MD5-MODP1024, 3DES-SHA1-MODP1024, 3DES-MD5-MODP1536, 3DES-SHA1-MODP1536 with PSK");
	/* strongSwan's answer passes our initiator check of libreswan's offer:
	 * renumbered 0 -> 1, attributes reordered */
	g_assert_true(ike_sa_check_reply(mm1, mm2, &c, why, sizeof(why)));
	g_assert_cmpuint(c.lifetime, ==, 14400);

	/* Quick Mode over NAT-T: UDP-Encapsulated-Tunnel */
	g_autofree struct sa_payload *qi1 = sa_new();
	g_autofree struct sa_payload *qr1 = sa_new();
	xform_add(prop_add(qi1, 0, PROTO_IPSEC_ESP, 4, 0xd233a73e), 0, 12,
		  4, 3, 1, 1, 2, 3600, 5, 2, 6, 128, 0);
	xform_add(prop_add(qr1, 1, PROTO_IPSEC_ESP, 4, 0x7c0df97a), 1, 12,
		  6, 128, 5, 2, 4, 3, 1, 1, 2, 3600, 0);
	esp_setup(&e, default_esp_proposals, 0x7c0df97a);
	g_assert_false(ipsec_sa_select(qi1, &e.pol, &q, reply, why, sizeof(why)));   /* not NATed */
	g_assert_nonnull(strstr(why, "ESP[AES128-SHA1 udp-tunnel]"));
	e.pol.udp_encap = true;
	g_assert_true(ipsec_sa_select(qi1, &e.pol, &q, reply, why, sizeof(why)));
	g_assert_cmpstr(keyed(q.cipher, q.key_bits), ==, "aes128");
	g_assert_cmpstr(q.integ->name, ==, "sha1");
	g_assert_cmpuint(q.encap, ==, ENCAP_UDP_TUNNEL);
	g_assert_cmpuint(q.peer_spi, ==, 0xd233a73e);
	g_assert_null(q.pfs_group);
	g_assert_cmpuint(spi_of(&reply->proposals[0]), ==, 0x7c0df97a);
	g_assert_cmpuint(q.lifetime, ==, 3600);
	g_assert_true(ipsec_sa_check_reply(qi1, qr1, &q, why, sizeof(why)));
	g_assert_cmpuint(q.peer_spi, ==, 0x7c0df97a);
	g_assert_cmpuint(q.encap, ==, ENCAP_UDP_TUNNEL);
	/* seed ESP refuses it */
	esp_setup(&e, SEED_ESP, 0x1000);
	e.pol.udp_encap = true;
	g_assert_false(ipsec_sa_select(qi1, &e.pol, &q, reply, why, sizeof(why)));
}

/* mm-qm-psk-aes / pfs .strongswan-init.libreswan-resp.udp500 */
static void test_capture_strongswan_to_libreswan(void)
{
	struct ike_setup s;
	struct ipsec_setup e;
	g_autofree struct sa_payload *mm1 = sa_new();
	g_autofree struct sa_payload *reply = g_new0(struct sa_payload, 1);
	struct ike_choice c = { 0 };
	struct ipsec_choice q = { 0 };
	char why[1024];

	xform_add(prop_add(mm1, 1, PROTO_ISAKMP, 0, 0), 1, KEY_IKE,
		  1, 7, 14, 128, 2, 2, 4, 14, 3, 1, 11, 1, 12, 15840, 0);
	ike_setup(&s, default_ike_proposals, PSK, 28800);
	g_assert_true(ike_sa_select(mm1, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.lifetime, ==, 15840);
	/* libreswan's MM2 was MM1's transform verbatim: so is ours */
	assert_same_transform(&reply->proposals[0].transforms[0], &mm1->proposals[0].transforms[0]);
	g_assert_cmpuint(reply->proposals[0].number, ==, 1);
	g_assert_true(ike_sa_check_reply(mm1, reply, &c, why, sizeof(why)));

	/* QI1 without PFS, QI1 with PFS MODP2048 */
	g_autofree struct sa_payload *qi1 = sa_new();
	g_autofree struct sa_payload *qi1_pfs = sa_new();
	xform_add(prop_add(qi1, 1, PROTO_IPSEC_ESP, 4, 0xc7f8902f), 1, 12,
		  6, 128, 5, 2, 4, 1, 1, 1, 2, 3960, 0);
	xform_add(prop_add(qi1_pfs, 1, PROTO_IPSEC_ESP, 4, 0xc408381d), 1, 12,
		  6, 128, 5, 2, 3, 14, 4, 1, 1, 1, 2, 3960, 0);
	esp_setup(&e, default_esp_proposals, 0xe3ce4e21);
	e.pol.lifetime = 28800;
	g_assert_true(ipsec_sa_select(qi1, &e.pol, &q, reply, why, sizeof(why)));
	g_assert_cmpuint(q.lifetime, ==, 3960);
	g_assert_cmpuint(q.encap, ==, ENCAP_TUNNEL);
	g_assert_true(ipsec_sa_select(qi1_pfs, &e.pol, &q, reply, why, sizeof(why)));
	g_assert_cmpstr(q.pfs_group->name, ==, "modp2048");
	/* PFS required: the first has none */
	e.pol.pfs_group = alg_by_name(ALG_DH, "modp2048");
	g_assert_false(ipsec_sa_select(qi1, &e.pol, &q, reply, why, sizeof(why)));
	g_assert_true(ipsec_sa_select(qi1_pfs, &e.pol, &q, reply, why, sizeof(why)));
	g_assert_cmpuint(q.peer_spi, ==, 0xc408381d);
	/* libreswan's QR1 echoed the transform with its own SPI a9218f7b */
	g_autofree struct sa_payload *qr1 = sa_new();
	xform_add(prop_add(qr1, 1, PROTO_IPSEC_ESP, 4, 0xa9218f7b), 1, 12,
		  6, 128, 5, 2, 3, 14, 4, 1, 1, 1, 2, 3960, 0);
	g_assert_true(ipsec_sa_check_reply(qi1_pfs, qr1, &q, why, sizeof(why)));
	g_assert_cmpuint(q.peer_spi, ==, 0xa9218f7b);
	g_assert_cmpstr(q.pfs_group->name, ==, "modp2048");
}

/* rsa-raw.libreswan-init.strongswan-resp.udp500 */
static void test_capture_rsa(void)
{
	struct ike_setup s;
	g_autofree struct sa_payload *mm1 = sa_new();
	g_autofree struct sa_payload *reply = g_new0(struct sa_payload, 1);
	struct ike_choice c = { 0 };
	struct ipsec_choice q = { 0 };
	char why[1024];
	xform_add(prop_add(mm1, 0, PROTO_ISAKMP, 0, 0), 0, KEY_IKE,
		  11, 1, 12, 28800, 1, 7, 2, 2, 3, 3, 4, 14, 14, 128, 0);
	ike_setup(&s, default_ike_proposals, PSK, 3600);
	g_assert_false(ike_sa_select(mm1, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "AES128-SHA1-MODP2048-RSA; we accept"));
	s.pol.auth_mask = RSA;
	g_assert_true(ike_sa_select(mm1, &s.pol, &c, reply, why, sizeof(why)));
	g_assert_cmpuint(c.auth, ==, OAKLEY_RSA_SIG);

	/* QI1 numbered 0, strongSwan's QR1 renumbered 1 */
	g_autofree struct sa_payload *qi1 = sa_new();
	g_autofree struct sa_payload *qr1 = sa_new();
	xform_add(prop_add(qi1, 0, PROTO_IPSEC_ESP, 4, 0x19a490dd), 0, 12,
		  4, 1, 1, 1, 2, 28800, 5, 2, 6, 128, 0);
	xform_add(prop_add(qr1, 1, PROTO_IPSEC_ESP, 4, 0xc5a1cf24), 1, 12,
		  6, 128, 5, 2, 4, 1, 1, 1, 2, 28800, 0);
	g_assert_true(ipsec_sa_check_reply(qi1, qr1, &q, why, sizeof(why)));
	g_assert_cmpuint(q.peer_spi, ==, 0xc5a1cf24);
	g_assert_cmpuint(q.lifetime, ==, 28800);
	g_assert_cmpstr(keyed(q.cipher, q.key_bits), ==, "aes128");
}

/* ---- the descriptor table and AES-GCM (RFC 4106) ---- */

/* Every row is complete for its kind, every canonical name parses back to
 * its own row and key length, and no two rows share a number. */
static void test_descriptor_rows(void)
{
	size_t n;
	const struct alg *t = alg_table_get(&n);
	g_assert_cmpuint(n, ==, 20);   /* 2 CBC, 3 AEAD, 5 hashes, 10 groups */
	for (size_t i = 0; i < n; i++) {
		const struct alg *a = &t[i];
		char name[ALG_NAME_MAX], why[256];
		unsigned bits = 0;
		g_test_message("row %s", a->name);
		g_assert_nonnull(a->spellings[0]);
		g_assert_true(alg_parse(1u << a->kind, a->name, &bits, why, sizeof(why)) == a);
		for (size_t k = 0; k < ALG_KEY_SIZES_MAX && a->key_sizes[k]; k++) {
			g_assert_true(alg_parse(1u << a->kind, alg_name_at(a, a->key_sizes[k], name), &bits, why,
						sizeof(why)) == a);
			g_assert_cmpuint(bits, ==, a->key_sizes[k]);
		}
		/* a default key length that is one of the allowed ones */
		g_assert_true(a->key_length_attr == (a->key_sizes[0] != 0));
		if (a->key_sizes[0])
			g_assert_true(alg_key_ok(a, a->key_bits));
		switch (a->kind) {
		case ALG_CIPHER:
			g_assert_true(a->ike_id && a->esp_id && a->block_bytes && a->key_bits);
			g_assert_nonnull(a->ossl_name);
			g_assert_nonnull(a->xfrm_name);
			g_assert_cmpuint(a->icv_bytes, ==, 0);
			break;
		case ALG_AEAD:
			/* ESP only (IKEv1 has no AEAD), ICV 8/12/16, 4-byte salt */
			g_assert_cmpuint(a->ike_id, ==, 0);
			g_assert_cmpuint(a->esp_id, >=, 18);
			g_assert_cmpuint(a->esp_id, <=, 20);
			g_assert_cmpuint(a->icv_bytes, ==, 8 + 4 * (a->esp_id - 18));
			g_assert_cmpuint(a->salt_bytes, ==, 4);
			g_assert_cmpstr(a->xfrm_name, ==, "rfc4106(gcm(aes))");
			g_assert_nonnull(a->ossl_name);
			break;
		case ALG_HASH:
			g_assert_true(a->ike_id && a->esp_id && a->ah_id && a->hash_bytes);
			g_assert_cmpuint(a->icv_bytes, <, a->hash_bytes);
			g_assert_nonnull(a->ossl_name);
			g_assert_nonnull(a->xfrm_name);
			break;
		case ALG_DH:
			g_assert_true(a->ike_id && a->esp_id == a->ike_id && a->dh_bytes && a->dh_family);
			g_assert_null(a->xfrm_name);
			break;
		}
		for (size_t j = 0; j < i; j++) {
			const struct alg *b = &t[j];
			bool esp_space = (a->kind == ALG_CIPHER || a->kind == ALG_AEAD) &&
					 (b->kind == ALG_CIPHER || b->kind == ALG_AEAD);
			g_assert_cmpstr(a->name, !=, b->name);
			if (a->kind == b->kind && a->ike_id)
				g_assert_cmpuint(a->ike_id, !=, b->ike_id);
			if ((a->kind == b->kind || esp_space) && a->esp_id)
				g_assert_cmpuint(a->esp_id, !=, b->esp_id);
		}
	}
	/* reverse lookups of the AEAD rows: the ESP id says the ICV */
	g_assert_cmpstr(alg_by_esp_id(ALG_CIPHER, 20, 128)->name, ==, "aes_gcm");
	g_assert_cmpstr(alg_by_esp_id(ALG_CIPHER, 19, 256)->name, ==, "aes_gcm12");
	g_assert_cmpstr(alg_by_esp_id(ALG_CIPHER, 18, 192)->name, ==, "aes_gcm8");
	g_assert_null(alg_by_esp_id(ALG_CIPHER, 20, 0));
	g_assert_null(alg_by_esp_id(ALG_CIPHER, 20, 64));
	g_assert_null(alg_by_ike_id(ALG_CIPHER, 20, 128));
	/* KEYMAT per direction: key + salt for AEAD, key + HMAC key else */
	g_assert_cmpuint(alg_keymat_len(alg_by_name(ALG_CIPHER, "aes_gcm"), 128, NULL), ==, 20);
	g_assert_cmpuint(alg_keymat_len(alg_by_name(ALG_CIPHER, "aes_gcm"), 256, NULL), ==, 36);
	g_assert_cmpuint(alg_keymat_len(alg_by_name(ALG_CIPHER, "aes"), 256, alg_by_name(ALG_HASH, "sha1")), ==, 52);
	g_assert_cmpuint(alg_keymat_len(alg_by_name(ALG_CIPHER, "3des"), 0, alg_by_name(ALG_HASH, "md5")), ==, 40);
	g_assert_cmpuint(alg_keymat_len(NULL, 0, alg_by_name(ALG_HASH, "sha2_512")), ==, 64);
}

/* esp= spellings: ours, libreswan's and strongSwan's, each to a row, a
 * key length, and the absence of an integrity algorithm */
static void test_gcm_spellings(void)
{
	static const struct { const char *esp, *row; unsigned bits; const char *dh; } cases[] = {
		{ "aes_gcm128", "aes_gcm", 128, NULL },
		{ "aes_gcm256", "aes_gcm", 256, NULL },
		{ "aes_gcm192", "aes_gcm", 192, NULL },
		{ "aes_gcm", "aes_gcm", 128, NULL },
		{ "AES_GCM256", "aes_gcm", 256, NULL },
		{ "aes_gcm-null", "aes_gcm", 128, NULL },
		{ "aes_gcm128-modp2048", "aes_gcm", 128, "modp2048" },
		{ "aes_gcm256-null-ecp256", "aes_gcm", 256, "ecp256" },
		/* libreswan */
		{ "aes_gcm_c", "aes_gcm", 128, NULL },
		{ "aes_gcm_c-256", "aes_gcm", 256, NULL },
		{ "aes_gcm_c-128-null", "aes_gcm", 128, NULL },
		{ "aes_gcm_c_256", "aes_gcm", 256, NULL },
		{ "aes_gcm_b-128", "aes_gcm12", 128, NULL },
		{ "aes_gcm_b-256", "aes_gcm12", 256, NULL },
		{ "aes_gcm_a-128", "aes_gcm8", 128, NULL },
		{ "aes_gcm_a-256-dh14", "aes_gcm8", 256, "modp2048" },
		{ "aes_gcm_16", "aes_gcm", 128, NULL },
		{ "aes_gcm_16-256", "aes_gcm", 256, NULL },
		{ "aes_gcm_12", "aes_gcm12", 128, NULL },
		{ "aes_gcm_8_256", "aes_gcm8", 256, NULL },
		/* strongSwan: ICV in bytes or bits */
		{ "aes128gcm16", "aes_gcm", 128, NULL },
		{ "aes256gcm16", "aes_gcm", 256, NULL },
		{ "aes192gcm16", "aes_gcm", 192, NULL },
		{ "aes128gcm12", "aes_gcm12", 128, NULL },
		{ "aes256gcm12", "aes_gcm12", 256, NULL },
		{ "aes128gcm8", "aes_gcm8", 128, NULL },
		{ "aes128gcm128", "aes_gcm", 128, NULL },
		{ "aes256gcm96", "aes_gcm12", 256, NULL },
		{ "aes128gcm64", "aes_gcm8", 128, NULL },
		{ "aes256gcm16-modp3072", "aes_gcm", 256, "modp3072" },
		/* our own keyed names read back */
		{ "aes_gcm12_256", "aes_gcm12", 256, NULL },
		{ "aes_gcm8_128", "aes_gcm8", 128, NULL },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct esp_proposals e;
		char why[256] = "";
		g_test_message("esp=%s", cases[i].esp);
		if (!esp_proposals_parse(cases[i].esp, &e, why, sizeof(why)))
			g_error("esp=%s: %s", cases[i].esp, why);
		g_assert_cmpuint(e.n, ==, 1);
		g_assert_cmpstr(e.p[0].cipher->name, ==, cases[i].row);
		g_assert_true(e.p[0].cipher->kind == ALG_AEAD);
		g_assert_cmpuint(e.p[0].key_bits, ==, cases[i].bits);
		g_assert_null(e.p[0].integ);
		if (cases[i].dh)
			g_assert_cmpstr(e.p[0].dh->name, ==, cases[i].dh);
		else
			g_assert_null(e.p[0].dh);
	}
	/* GCM and CBC mixed in one list */
	struct esp_proposals e;
	char why[256];
	g_assert_true(esp_proposals_parse("aes_gcm256,aes128-sha1,aes128gcm8", &e, why, sizeof(why)));
	g_assert_cmpuint(e.n, ==, 3);
	g_assert_null(e.p[0].integ);
	g_assert_cmpstr(e.p[1].integ->name, ==, "sha1");
	g_assert_cmpstr(keyed(e.p[2].cipher, e.p[2].key_bits), ==, "aes_gcm8_128");
	/* libreswan's key length after a dash works for CBC too */
	g_assert_true(esp_proposals_parse("aes-256-sha1", &e, why, sizeof(why)));
	g_assert_cmpstr(keyed(e.p[0].cipher, e.p[0].key_bits), ==, "aes256");
}

/* Syntax errors say what was wrong */
static void test_gcm_syntax_errors(void)
{
	static const struct { const char *what, *list, *why; } cases[] = {
		{ "esp", "aes_gcm100", "cipher 'aes_gcm100': key length 100 is not one of aes_gcm's (128, 192, 256)" },
		{ "esp", "aes64gcm16", "key length 64 is not one of aes_gcm's (128, 192, 256)" },
		{ "esp", "aes_gcm_c-512", "key length 512 is not one of aes_gcm's" },
		{ "esp", "aes_gcm128-sha1",
		  "esp proposal 1: aes_gcm128 is an AEAD cipher and takes no integrity algorithm ('sha1'); "
		  "write aes_gcm128 or aes_gcm128-null" },
		{ "esp", "aes128-sha1,aes256gcm16-sha2_256", "esp proposal 2: aes_gcm256 is an AEAD cipher" },
		{ "esp", "aes128", "esp proposal 1: cipher aes128 needs an integrity algorithm" },
		{ "esp", "aes128-null", "esp proposal 1: cipher aes128 needs an integrity algorithm" },
		{ "esp", "aes_gcm_d128", "unknown cipher 'aes_gcm_d128'" },
		{ "esp", "aes_gcm128-modp2048-sha1", "esp proposal 1: 'sha1' after the DH group" },
		{ "esp", "aes_gcm128-crc32", "unknown DH group 'crc32'" },
		{ "ike", "aes_gcm128-sha1-modp2048",
		  "ike proposal 1: aes_gcm128 is an AEAD cipher, for ESP only (IKEv1 encrypts with CBC)" },
		{ "ike", "aes128gcm16-sha1-modp2048", "is an AEAD cipher, for ESP only" },
		{ "ike", "aes100-sha1-modp2048", "key length 100 is not one of aes's (128, 192, 256)" },
		{ "ah", "aes_gcm128", "unknown integrity algorithm 'aes_gcm128'" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char why[512] = "";
		bool ok;
		if (strcmp(cases[i].what, "esp") == 0) {
			struct esp_proposals e;
			ok = esp_proposals_parse(cases[i].list, &e, why, sizeof(why));
		} else if (strcmp(cases[i].what, "ike") == 0) {
			struct ike_proposals k;
			ok = ike_proposals_parse(cases[i].list, &k, why, sizeof(why));
		} else {
			struct ah_proposals a;
			ok = ah_proposals_parse(cases[i].list, &a, why, sizeof(why));
		}
		g_test_message("%s=%s: %s", cases[i].what, cases[i].list, why);
		g_assert_false(ok);
		if (!strstr(why, cases[i].why))
			g_error("%s=%s: got '%s', want '%s'", cases[i].what, cases[i].list, why, cases[i].why);
	}
}

/* Our GCM SA payload (RFC 4106 section 7: transform id by ICV, KEY_LENGTH,
 * no AUTH_ALGORITHM), chosen by a responder and checked by us */
static void test_gcm_sa(void)
{
	struct ipsec_setup s;
	g_autofree struct sa_payload *sa = g_new0(struct sa_payload, 1);
	g_autofree struct sa_payload *reply = g_new0(struct sa_payload, 1);
	struct ipsec_choice resp = { 0 }, init = { 0 };
	char why[1024];
	uint32_t v;

	esp_setup(&s, "aes_gcm256,aes128gcm12,aes_gcm_a-128,aes128-sha1", 0x12345678);
	ipsec_sa_build(&s.pol, sa);
	const struct sa_proposal *p = &sa->proposals[0];
	g_assert_cmpuint(p->n_transforms, ==, 4);
	static const unsigned ids[] = { 20, 19, 18, 12 }, bits[] = { 256, 128, 128, 128 };
	for (unsigned i = 0; i < 4; i++) {
		g_assert_cmpuint(p->transforms[i].id, ==, ids[i]);
		g_assert_true(sa_attr_get(&p->transforms[i], IPSEC_KEY_LENGTH, &v));
		g_assert_cmpuint(v, ==, bits[i]);
		g_assert_cmpuint(sa_attr_get(&p->transforms[i], IPSEC_AUTH_ALGORITHM, NULL), ==, i == 3);
	}

	/* the same policy answers itself with the first, and checks the reply */
	g_assert_true(ipsec_sa_select(sa, &s.pol, &resp, reply, why, sizeof(why)));
	g_assert_cmpstr(keyed(resp.cipher, resp.key_bits), ==, "aes_gcm256");
	g_assert_null(resp.integ);
	g_assert_true(ipsec_sa_check_reply(sa, reply, &init, why, sizeof(why)));
	g_assert_true(init.cipher == resp.cipher);
	g_assert_cmpuint(init.key_bits, ==, 256);
	g_assert_null(init.integ);
	g_assert_cmpuint(alg_keymat_len(init.cipher, init.key_bits, init.integ), ==, 36);

	/* a peer offering what strongSwan sends for esp=aes128gcm16: id 20,
	 * KEY_LENGTH 128; we want 256 or ICV 12/8 at 128: ICV 16 at 128 is
	 * none of ours, and the refusal names both sides */
	g_autofree struct sa_payload *peer = sa_new();
	struct sa_proposal *pp = prop_add(peer, 1, PROTO_IPSEC_ESP, 4, 0xc0ffee01);
	xform_add(pp, 1, 20, IPSEC_KEY_LENGTH, 128, IPSEC_ENCAPSULATION_MODE, ENCAP_TUNNEL,
		  IPSEC_SA_LIFE_TYPE, 1, IPSEC_SA_LIFE_DURATION, 3600, 0);
	esp_setup(&s, "aes_gcm256,aes128gcm12", 0x12345678);
	g_assert_false(ipsec_sa_select(peer, &s.pol, &resp, reply, why, sizeof(why)));
	g_assert_cmpstr(why, ==, "no acceptable proposal: peer offered ESP[AES_GCM128 tunnel]; "
			"we accept ESP AES_GCM256, AES_GCM12_128 in tunnel mode");
	esp_setup(&s, "aes128gcm16", 0x12345678);
	g_assert_true(ipsec_sa_select(peer, &s.pol, &resp, reply, why, sizeof(why)));
	g_assert_cmpstr(keyed(resp.cipher, resp.key_bits), ==, "aes_gcm128");
	g_assert_cmpuint(resp.peer_spi, ==, 0xc0ffee01);

	/* GCM with an AUTH_ALGORITHM, or without KEY_LENGTH, is refused */
	peer = (g_free(peer), sa_new());
	pp = prop_add(peer, 1, PROTO_IPSEC_ESP, 4, 0xc0ffee01);
	xform_add(pp, 1, 20, IPSEC_KEY_LENGTH, 128, IPSEC_AUTH_ALGORITHM, 2, IPSEC_ENCAPSULATION_MODE,
		  ENCAP_TUNNEL, 0);
	xform_add(pp, 2, 19, IPSEC_ENCAPSULATION_MODE, ENCAP_TUNNEL, 0);
	esp_setup(&s, "aes_gcm128,aes_gcm12_128", 0x12345678);
	g_assert_false(ipsec_sa_select(peer, &s.pol, &resp, reply, why, sizeof(why)));
	g_assert_nonnull(strstr(why, "AES_GCM128-SHA1 tunnel (AUTH_ALGORITHM given for an AEAD cipher)"));
	g_assert_nonnull(strstr(why, "AES_GCM12 tunnel (no KEY_LENGTH, which RFC 4106 requires)"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/proposals/attr", test_attr);
	g_test_add_func("/proposals/registry", test_registry);
	g_test_add_func("/proposals/descriptor-rows", test_descriptor_rows);
	g_test_add_func("/proposals/gcm/spellings", test_gcm_spellings);
	g_test_add_func("/proposals/gcm/syntax-errors", test_gcm_syntax_errors);
	g_test_add_func("/proposals/gcm/sa", test_gcm_sa);
	g_test_add_func("/proposals/ike/build", test_ike_build);
	g_test_add_func("/proposals/ike/xauth-methods", test_ike_xauth_methods);
	g_test_add_func("/proposals/ike/roundtrip", test_ike_roundtrip);
	g_test_add_func("/proposals/ike/libreswan-list", test_ike_libreswan_list);
	g_test_add_func("/proposals/ike/no-match", test_ike_no_match);
	g_test_add_func("/proposals/ike/syntax", test_ike_syntax);
	g_test_add_func("/proposals/ike/bad-transforms", test_ike_bad_transforms);
	g_test_add_func("/proposals/ike/lifetime", test_ike_lifetime);
	g_test_add_func("/proposals/ike/check-reply", test_ike_check_reply_refusals);
	g_test_add_func("/proposals/ipsec/build", test_ipsec_build);
	g_test_add_func("/proposals/ipsec/roundtrip", test_ipsec_roundtrip);
	g_test_add_func("/proposals/ipsec/ipcomp", test_ipsec_ipcomp);
	g_test_add_func("/proposals/ipsec/choice-rules", test_ipsec_choice_rules);
	g_test_add_func("/proposals/ipsec/ah", test_ipsec_ah);
	g_test_add_func("/proposals/ipsec/check-reply", test_ipsec_check_reply_refusals);
	g_test_add_func("/proposals/capture/libreswan-to-strongswan", test_capture_libreswan_to_strongswan);
	g_test_add_func("/proposals/capture/strongswan-to-libreswan", test_capture_strongswan_to_libreswan);
	g_test_add_func("/proposals/capture/rsa", test_capture_rsa);
	return g_test_run();
}
