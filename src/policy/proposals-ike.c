/* The ISAKMP SA: our Main/Aggressive Mode proposal, the responder's
 * choice among the peer's transforms, and the initiator's check of the
 * answer (see the decisions in proposals.h). */
#include "policy/proposals.h"

#include <stdio.h>
#include <string.h>

#include "policy/proposals-common.h"

static const unsigned auth_methods[] = { OAKLEY_PRESHARED_KEY, OAKLEY_RSA_SIG };

/* One ISAKMP transform, decoded; 0 = attribute absent. */
struct ike_xform {
	uint32_t enc, key_len, hash, group, auth;
	struct life life;
	const struct alg *cipher, *hash_alg, *group_alg;   /* NULL: not in the registry */
	unsigned key_bits;     /* the cipher's key length (KEY_LENGTH or its fixed one) */
	char bad[96];          /* why it is unusable whatever our policy; "" if usable */
};

/* The XAUTH authentication methods: the base method whose keys and
 * proofs they use, and who initiates the Main Mode. */
static const struct xauth_method {
	uint32_t wire, base;
	bool client_initiates;
	const char *label;
} xauth_methods[] = {
	{ XAUTH_INIT_PRESHARED, OAKLEY_PRESHARED_KEY, true, "XAUTHInitPSK" },
	{ XAUTH_RESP_PRESHARED, OAKLEY_PRESHARED_KEY, false, "XAUTHRespPSK" },
	{ XAUTH_INIT_RSA, OAKLEY_RSA_SIG, true, "XAUTHInitRSA" },
	{ XAUTH_RESP_RSA, OAKLEY_RSA_SIG, false, "XAUTHRespRSA" },
};

static const struct xauth_method *xauth_method(uint32_t wire)
{
	for (size_t i = 0; i < sizeof(xauth_methods) / sizeof(xauth_methods[0]); i++)
		if (xauth_methods[i].wire == wire)
			return &xauth_methods[i];
	return NULL;
}

/* The base method of a wire value (itself when it is not an XAUTH one). */
static uint32_t auth_base(uint32_t wire)
{
	const struct xauth_method *m = xauth_method(wire);
	return m ? m->base : wire;
}

/* What goes on the wire for base when we play role and initiate (or not). */
static uint32_t auth_wire(uint32_t base, enum ike_xauth_role role, bool we_initiate)
{
	if (role == IKE_XAUTH_NONE)
		return base;
	bool client_initiates = (role == IKE_XAUTH_CLIENT) == we_initiate;
	for (size_t i = 0; i < sizeof(xauth_methods) / sizeof(xauth_methods[0]); i++)
		if (xauth_methods[i].base == base && xauth_methods[i].client_initiates == client_initiates)
			return xauth_methods[i].wire;
	return base;
}

static bool auth_in_mask(unsigned mask, uint32_t auth)
{
	return auth < 32 && (mask & (1u << auth));
}

/* Responder: the plain method, or the XAUTH one that fits our role. */
static bool auth_acceptable(const struct ike_policy *pol, uint32_t wire)
{
	uint32_t base = auth_base(wire);
	if (!auth_in_mask(pol->auth_mask, base))
		return false;
	return wire == base || wire == auth_wire(base, pol->xauth, false);
}

static const char *auth_label(uint32_t auth)
{
	const struct xauth_method *m = xauth_method(auth);
	if (m)
		return m->label;
	return auth == OAKLEY_PRESHARED_KEY ? "PSK" : auth == OAKLEY_RSA_SIG ? "RSA" : NULL;
}

/* A cipher with a variable key named without KEY_LENGTH, or a fixed one
 * with it, gets a reason; a cipher we do not know at all is not "bad", it
 * just matches nothing. */
static void ike_decode_cipher(struct ike_xform *x)
{
	x->cipher = alg_by_ike_id(ALG_CIPHER, x->enc, x->key_len);
	x->key_bits = x->cipher && x->cipher->key_length_attr ? x->key_len : x->cipher ? x->cipher->key_bits : 0;
	if (x->bad[0])
		return;
	if (x->cipher) {
		if (!x->cipher->key_length_attr && x->key_len)
			snprintf(x->bad, sizeof(x->bad), "KEY_LENGTH given for a fixed-key cipher");
		return;
	}
	if (x->key_len == 0 && alg_by_ike_id(ALG_CIPHER, x->enc, ALG_ANY_KEY))
		snprintf(x->bad, sizeof(x->bad), "no KEY_LENGTH, which RFC 3602 requires");
}

/* Every attribute is decoded even after a fault, so that the label in
 * why[] names the transform; only the first fault is kept. */
static void ike_decode(const struct sa_transform *t, struct ike_xform *x)
{
	memset(x, 0, sizeof(*x));
	struct life_decoder ld = { 0 };
	uint32_t seen = 0;
	char *bad = x->bad;
	size_t bad_len = sizeof(x->bad);

	if (t->id != KEY_IKE)
		snprintf(bad, bad_len, "transform id %u is not KEY_IKE", t->id);
	for (size_t i = 0; i < t->n_attrs && i < SA_ATTRS_MAX; i++) {
		uint16_t type = t->attrs[i].type;
		uint32_t v = t->attrs[i].value;
		uint32_t *slot = NULL;
		const char *reason = NULL;
		switch (type) {
		case OAKLEY_ENCRYPTION_ALGORITHM: slot = &x->enc; break;
		case OAKLEY_HASH_ALGORITHM: slot = &x->hash; break;
		case OAKLEY_AUTHENTICATION_METHOD: slot = &x->auth; break;
		case OAKLEY_GROUP_DESCRIPTION: slot = &x->group; break;
		case OAKLEY_KEY_LENGTH: slot = &x->key_len; break;
		case OAKLEY_LIFE_TYPE: reason = life_type(&ld, v); break;
		case OAKLEY_LIFE_DURATION: reason = life_duration(&ld, v); break;
		default:
			if (!bad[0])
				snprintf(bad, bad_len, "unsupported attribute %u", type);
			continue;
		}
		if (slot && (seen & (1u << type)))
			reason = "attribute repeated";
		if (reason && !bad[0])
			snprintf(bad, bad_len, "%s", reason);
		if (slot) {
			seen |= 1u << type;
			*slot = v;
		}
	}
	const char *reason = life_end(&ld);
	if (reason && !bad[0])
		snprintf(bad, bad_len, "%s", reason);
	x->life = ld.life;
	if (!bad[0] && (!x->enc || !x->hash || !x->auth || !x->group))
		snprintf(bad, bad_len, "missing %s",
			 !x->enc ? "ENCRYPTION_ALGORITHM" : !x->hash ? "HASH_ALGORITHM" :
			 !x->auth ? "AUTHENTICATION_METHOD" : "GROUP_DESCRIPTION");
	if (!bad[0] && x->life.kilobytes_given && !x->life.seconds_given)
		snprintf(bad, bad_len, "kilobyte lifetime without a seconds lifetime");
	ike_decode_cipher(x);
	x->hash_alg = alg_by_ike_id(ALG_HASH, x->hash, 0);
	x->group_alg = alg_by_ike_id(ALG_DH, x->group, 0);
}

/* "AES128-SHA1-MODP2048-PSK", numbers for what we do not know. */
static void ike_label(struct text *t, const struct ike_xform *x)
{
	char buf[32];
	if (x->cipher) {
		alg_label(x->cipher, x->key_bits, buf, sizeof(buf));
		text_printf(t, "%s", buf);
	} else if (alg_by_ike_id(ALG_CIPHER, x->enc, ALG_ANY_KEY)) {
		/* a key length the row does not allow, or none */
		alg_label_bare(alg_by_ike_id(ALG_CIPHER, x->enc, ALG_ANY_KEY), x->key_len, buf, sizeof(buf));
		text_printf(t, "%s", buf);
	} else {
		text_printf(t, "ENC%u", x->enc);
	}
	if (x->hash_alg) {
		alg_label(x->hash_alg, 0, buf, sizeof(buf));
		text_printf(t, "-%s", buf);
	} else {
		text_printf(t, "-HASH%u", x->hash);
	}
	if (x->group_alg) {
		alg_label(x->group_alg, 0, buf, sizeof(buf));
		text_printf(t, "-%s", buf);
	} else {
		text_printf(t, "-GROUP%u", x->group);
	}
	if (auth_label(x->auth))
		text_printf(t, "-%s", auth_label(x->auth));
	else
		text_printf(t, "-AUTH%u", x->auth);
}

static void ike_offer_label(struct text *t, const struct ike_xform *x)
{
	ike_label(t, x);
	if (x->bad[0])
		text_printf(t, " (%s)", x->bad);
}

static void policy_label(struct text *t, const struct ike_policy *pol)
{
	char c[32], h[32], g[32];
	bool first = true;
	for (size_t i = 0; pol->proposals && i < pol->proposals->n; i++) {
		const struct ike_proposal *p = &pol->proposals->p[i];
		alg_label(p->cipher, p->key_bits, c, sizeof(c));
		alg_label(p->hash, 0, h, sizeof(h));
		alg_label(p->dh, 0, g, sizeof(g));
		text_sep(t, &first, ", ");
		text_printf(t, "%s-%s-%s", c, h, g);
	}
	text_printf(t, " with");
	first = true;
	for (size_t i = 0; i < sizeof(auth_methods) / sizeof(auth_methods[0]); i++) {
		if (!auth_in_mask(pol->auth_mask, auth_methods[i]))
			continue;
		text_printf(t, first ? " %s" : " or %s", auth_label(auth_methods[i]));
		if (pol->xauth != IKE_XAUTH_NONE)
			text_printf(t, " or %s", auth_label(auth_wire(auth_methods[i], pol->xauth, false)));
		first = false;
	}
	if (first)
		text_printf(t, " no authentication method");
}

/* The policy's proposal this transform matches, or NULL. */
static const struct ike_proposal *ike_match(const struct ike_policy *pol, const struct ike_xform *x)
{
	if (x->bad[0] || !x->cipher || !x->hash_alg || !x->group_alg ||
	    !auth_acceptable(pol, x->auth) || !pol->proposals)
		return NULL;
	for (size_t i = 0; i < pol->proposals->n; i++) {
		const struct ike_proposal *p = &pol->proposals->p[i];
		if (p->cipher->ike_id != x->enc ||
		    (p->cipher->key_length_attr && p->key_bits != x->key_len))
			continue;
		if (p->hash->ike_id == x->hash && p->dh->ike_id == x->group)
			return p;
	}
	return NULL;
}

void ike_sa_build(const struct ike_policy *pol, struct sa_payload *out)
{
	memset(out, 0, sizeof(*out));
	out->doi = ISAKMP_DOI_IPSEC;
	out->situation = SIT_IDENTITY_ONLY;
	out->n_proposals = 1;
	struct sa_proposal *prop = &out->proposals[0];
	prop->number = 1;
	prop->protocol = PROTO_ISAKMP;
	prop->spi_size = 0;
	uint32_t life = pol->lifetime ? pol->lifetime : SA_DEFAULT_LIFETIME;

	size_t n = 0;
	for (size_t i = 0; pol->proposals && i < pol->proposals->n; i++) {
		const struct ike_proposal *p = &pol->proposals->p[i];
		for (size_t a = 0; a < sizeof(auth_methods) / sizeof(auth_methods[0]); a++) {
			if (!auth_in_mask(pol->auth_mask, auth_methods[a]) || n == SA_TRANSFORMS_MAX)
				continue;
			struct sa_transform *t = &prop->transforms[n++];
			t->number = (uint8_t)n;      /* from 1, as strongSwan */
			t->id = KEY_IKE;
			sa_attr_add(t, OAKLEY_ENCRYPTION_ALGORITHM, p->cipher->ike_id);
			if (p->cipher->key_length_attr)
				sa_attr_add(t, OAKLEY_KEY_LENGTH, p->key_bits);
			sa_attr_add(t, OAKLEY_HASH_ALGORITHM, p->hash->ike_id);
			sa_attr_add(t, OAKLEY_GROUP_DESCRIPTION, p->dh->ike_id);
			sa_attr_add(t, OAKLEY_AUTHENTICATION_METHOD, auth_wire(auth_methods[a], pol->xauth, true));
			sa_attr_add(t, OAKLEY_LIFE_TYPE, OAKLEY_LIFE_SECONDS);
			sa_attr_add(t, OAKLEY_LIFE_DURATION, life);
		}
	}
	prop->n_transforms = n;
}

static void fill_choice(struct ike_choice *choice, const struct alg *cipher, unsigned key_bits,
			const struct alg *hash, const struct alg *group, uint32_t auth, uint32_t lifetime)
{
	memset(choice, 0, sizeof(*choice));
	choice->cipher = cipher;
	choice->key_bits = key_bits;
	choice->hash = hash;
	choice->group = group;
	choice->auth = auth;
	choice->lifetime = lifetime;
}

/* Checks common to both directions; NULL or the reason. */
static const char *ike_sa_header_check(const struct sa_payload *sa)
{
	const char *bad = sa_envelope_check(sa);
	if (bad)
		return bad;
	if (sa->n_proposals != 1)
		return "not exactly one proposal";
	if (sa->proposals[0].protocol != PROTO_ISAKMP)
		return "proposal protocol is not ISAKMP";
	if (sa->proposals[0].n_transforms == 0)
		return "proposal without transforms";
	if (sa->proposals[0].n_transforms > SA_TRANSFORMS_MAX)
		return "too many transforms";
	return NULL;
}

bool ike_sa_select(const struct sa_payload *peer, const struct ike_policy *pol,
		   struct ike_choice *choice, struct sa_payload *reply, char *why, size_t why_len)
{
	struct text w;
	text_init(&w, why, why_len);

	const char *bad = ike_sa_header_check(peer);
	if (bad) {
		text_printf(&w, PROPOSAL_SYNTAX_PREFIX "%s (got %zu proposal(s), first protocol %u)", bad,
			    peer->n_proposals, peer->n_proposals ? peer->proposals[0].protocol : 0);
		return false;
	}
	const struct sa_proposal *prop = &peer->proposals[0];

	for (size_t i = 0; i < prop->n_transforms; i++) {
		struct ike_xform x;
		ike_decode(&prop->transforms[i], &x);
		const struct ike_proposal *p = ike_match(pol, &x);
		if (!p)
			continue;
		fill_choice(choice, p->cipher, p->key_bits, p->hash, p->dh, auth_base(x.auth), life_capped(&x.life, pol->lifetime));
		memset(reply, 0, sizeof(*reply));
		reply->doi = peer->doi;
		reply->situation = peer->situation;
		reply->n_proposals = 1;
		reply->proposals[0] = *prop;
		reply->proposals[0].n_transforms = 1;
		reply->proposals[0].transforms[0] = prop->transforms[i];
		memset(&reply->proposals[0].transforms[1], 0,
		       sizeof(reply->proposals[0].transforms) - sizeof(reply->proposals[0].transforms[0]));
		return true;
	}

	text_printf(&w, "no acceptable transform: peer offered ");
	bool first = true;
	for (size_t i = 0; i < prop->n_transforms; i++) {
		struct ike_xform x;
		ike_decode(&prop->transforms[i], &x);
		text_sep(&w, &first, ", ");
		ike_offer_label(&w, &x);
	}
	text_printf(&w, "; we accept ");
	policy_label(&w, pol);
	return false;
}

bool ike_sa_check_reply(const struct sa_payload *proposed, const struct sa_payload *reply,
			struct ike_choice *choice, char *why, size_t why_len)
{
	struct text w;
	text_init(&w, why, why_len);

	const char *bad = ike_sa_header_check(reply);
	if (bad) {
		text_printf(&w, "reply SA refused: %s", bad);
		return false;
	}
	if (reply->proposals[0].n_transforms != 1) {
		text_printf(&w, "reply SA refused: %zu transforms, expected exactly one",
			    reply->proposals[0].n_transforms);
		return false;
	}
	struct ike_xform rx;
	ike_decode(&reply->proposals[0].transforms[0], &rx);
	if (rx.bad[0]) {
		text_printf(&w, "reply SA refused: transform ");
		ike_offer_label(&w, &rx);
		return false;
	}

	const char *life_reason = NULL;
	for (size_t pi = 0; pi < proposed->n_proposals; pi++) {
		const struct sa_proposal *prop = &proposed->proposals[pi];
		for (size_t i = 0; prop->protocol == PROTO_ISAKMP && i < prop->n_transforms; i++) {
			struct ike_xform ox;
			ike_decode(&prop->transforms[i], &ox);
			if (ox.bad[0] || ox.enc != rx.enc || ox.key_len != rx.key_len || ox.hash != rx.hash ||
			    ox.group != rx.group || ox.auth != rx.auth)
				continue;
			const char *r = life_reply_check(&ox.life, &rx.life);
			if (r) {
				life_reason = r;
				continue;
			}
			if (!ox.cipher || !ox.hash_alg || !ox.group_alg)
				continue;   /* we never propose what we do not know */
			fill_choice(choice, ox.cipher, ox.key_bits, ox.hash_alg, ox.group_alg, auth_base(rx.auth),
				    rx.life.seconds_given ? rx.life.seconds : life_capped(&ox.life, 0));
			return true;
		}
	}
	text_printf(&w, "reply SA refused: transform ");
	ike_label(&w, &rx);
	if (life_reason)
		text_printf(&w, " has a %s (%u s)", life_reason, rx.life.seconds);
	else
		text_printf(&w, " is not one we proposed");
	return false;
}
