/* The IPsec SA of one Quick Mode: our proposal (ESP or AH, optionally
 * AND-ed with IPCOMP), the responder's choice, the initiator's check of
 * the answer (see the decisions in proposals.h). */
#include "policy/proposals.h"

#include <stdio.h>
#include <string.h>

#include "policy/proposals-common.h"

/* One IPsec DOI transform, decoded; 0 = attribute absent. */
struct ipsec_xform {
	uint8_t protocol, id;
	uint32_t encap, auth, key_len, group;
	struct life life;
	const struct alg *cipher, *integ, *group_alg;   /* NULL: not in the registry */
	unsigned key_bits;     /* the cipher's key length (KEY_LENGTH or its fixed one) */
	char bad[96];          /* why it is unusable whatever our policy; "" if usable */
};

/* The ESP (or AH) proposal and the IPCOMP one sharing a proposal number. */
struct bundle {
	const struct sa_proposal *main, *comp;
	uint8_t other;         /* protocol of a proposal we cannot bundle; 0 = none */
	size_t begin, end;     /* index range in the SA payload */
};

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static uint32_t spi_value(const struct sa_proposal *p)
{
	uint32_t v = 0;
	for (size_t i = 0; i < p->spi_size && i < SA_SPI_MAX; i++)
		v = (v << 8) | p->spi[i];
	return v;
}

unsigned ipsec_encap_normalize(uint32_t mode)
{
	switch (mode) {
	case ENCAP_TUNNEL:
	case ENCAP_TRANSPORT:
	case ENCAP_UDP_TUNNEL:
	case ENCAP_UDP_TRANSPORT:
		return mode;
	case ENCAP_UDP_TUNNEL_DRAFT:
		return ENCAP_UDP_TUNNEL;
	case ENCAP_UDP_TRANSPORT_DRAFT:
		return ENCAP_UDP_TRANSPORT;
	default:
		return 0;
	}
}

static unsigned our_encap(const struct ipsec_policy *pol)
{
	if (pol->udp_encap)
		return pol->tunnel ? ENCAP_UDP_TUNNEL : ENCAP_UDP_TRANSPORT;
	return pol->tunnel ? ENCAP_TUNNEL : ENCAP_TRANSPORT;
}

static const char *encap_word(uint32_t mode)
{
	switch (mode) {
	case 0: return "no mode";
	case ENCAP_TUNNEL: return "tunnel";
	case ENCAP_TRANSPORT: return "transport";
	case ENCAP_UDP_TUNNEL: return "udp-tunnel";
	case ENCAP_UDP_TRANSPORT: return "udp-transport";
	case ENCAP_UDP_TUNNEL_DRAFT: return "udp-tunnel(draft)";
	case ENCAP_UDP_TRANSPORT_DRAFT: return "udp-transport(draft)";
	default: return NULL;
	}
}

static const char *protocol_word(uint8_t protocol)
{
	switch (protocol) {
	case PROTO_IPSEC_ESP: return "ESP";
	case PROTO_IPSEC_AH: return "AH";
	case PROTO_IPCOMP: return "IPCOMP";
	case PROTO_ISAKMP: return "ISAKMP";
	default: return NULL;
	}
}

const struct alg *ipsec_policy_pfs_group(const struct ipsec_policy *pol)
{
	if (pol->pfs_group)
		return pol->pfs_group;
	if (pol->protocol == PROTO_IPSEC_ESP && pol->esp)
		for (size_t i = 0; i < pol->esp->n; i++)
			if (pol->esp->p[i].dh)
				return pol->esp->p[i].dh;
	return NULL;
}

static void set_bad(struct ipsec_xform *x, const char *reason)
{
	if (!x->bad[0])
		snprintf(x->bad, sizeof(x->bad), "%s", reason);
}

/* Protocol-specific rules once the attributes are known. */
static void ipsec_decode_algs(struct ipsec_xform *x)
{
	switch (x->protocol) {
	case PROTO_IPSEC_ESP:
	{
		x->cipher = alg_by_esp_id(ALG_CIPHER, x->id, x->key_len);
		const struct alg *row = alg_by_esp_id(ALG_CIPHER, x->id, ALG_ANY_KEY);
		bool aead = row && row->kind == ALG_AEAD;
		if (x->cipher)
			x->key_bits = x->cipher->key_length_attr ? x->key_len : x->cipher->key_bits;
		if (x->cipher && !x->cipher->key_length_attr && x->key_len)
			set_bad(x, "KEY_LENGTH given for a fixed-key cipher");
		if (!x->cipher && !x->key_len && row && row->key_length_attr)
			set_bad(x, aead ? "no KEY_LENGTH, which RFC 4106 requires" : "no KEY_LENGTH, which RFC 3602 requires");
		/* RFC 4106 section 7: AES-GCM protects integrity itself; an
		 * AUTH_ALGORITHM beside it is refused */
		if (aead && x->auth)
			set_bad(x, "AUTH_ALGORITHM given for an AEAD cipher");
		x->integ = alg_by_esp_id(ALG_HASH, x->auth, 0);
		break;
	}
	case PROTO_IPSEC_AH:
		x->integ = alg_by_ah_id(x->id);
		if (x->key_len)
			set_bad(x, "KEY_LENGTH in an AH transform");
		if (!x->auth)
			set_bad(x, "AH transform without AUTH_ALGORITHM");
		else if (x->integ && x->integ->esp_id != x->auth)
			set_bad(x, "AUTH_ALGORITHM does not match the AH transform");
		break;
	case PROTO_IPCOMP:
		if (x->auth || x->key_len)
			set_bad(x, "AUTH_ALGORITHM or KEY_LENGTH in an IPCOMP transform");
		break;
	default:
		set_bad(x, "unsupported protocol");
		break;
	}
	x->group_alg = alg_by_esp_id(ALG_DH, x->group, 0);
	if (x->encap && !ipsec_encap_normalize(x->encap))
		set_bad(x, "unknown encapsulation mode");
}

/* Every attribute is decoded even after a fault (so that why[] can name
 * the transform); only the first fault is kept. */
static void ipsec_decode(uint8_t protocol, const struct sa_transform *t, struct ipsec_xform *x)
{
	memset(x, 0, sizeof(*x));
	x->protocol = protocol;
	x->id = t->id;
	struct life_decoder ld = { 0 };
	uint32_t seen = 0;
	for (size_t i = 0; i < t->n_attrs && i < SA_ATTRS_MAX; i++) {
		uint16_t type = t->attrs[i].type;
		uint32_t v = t->attrs[i].value;
		uint32_t *slot = NULL;
		const char *reason = NULL;
		switch (type) {
		case IPSEC_SA_LIFE_TYPE: reason = life_type(&ld, v); break;
		case IPSEC_SA_LIFE_DURATION: reason = life_duration(&ld, v); break;
		case IPSEC_GROUP_DESCRIPTION: slot = &x->group; break;
		case IPSEC_ENCAPSULATION_MODE: slot = &x->encap; break;
		case IPSEC_AUTH_ALGORITHM: slot = &x->auth; break;
		case IPSEC_KEY_LENGTH: slot = &x->key_len; break;
		default: {
			char buf[48];
			snprintf(buf, sizeof(buf), "unsupported attribute %u", type);
			set_bad(x, buf);
			continue;
		}
		}
		if (slot && (seen & (1u << type)))
			reason = "attribute repeated";
		if (reason)
			set_bad(x, reason);
		if (slot) {
			seen |= 1u << type;
			*slot = v;
		}
	}
	const char *reason = life_end(&ld);
	if (reason)
		set_bad(x, reason);
	x->life = ld.life;
	ipsec_decode_algs(x);
}

/* "AES128-SHA1-MODP2048 tunnel", numbers for what we do not know. */
static void ipsec_label(struct text *t, const struct ipsec_xform *x)
{
	char buf[32];
	switch (x->protocol) {
	case PROTO_IPSEC_ESP:
	{
		const struct alg *row = alg_by_esp_id(ALG_CIPHER, x->id, ALG_ANY_KEY);
		if (x->cipher) {
			alg_label(x->cipher, x->key_bits, buf, sizeof(buf));
			text_printf(t, "%s", buf);
		} else if (row) {
			alg_label_bare(row, x->key_len, buf, sizeof(buf));
			text_printf(t, "%s", buf);
		} else {
			text_printf(t, "ESP_TRANSFORM%u", x->id);
		}
		if (x->integ) {
			alg_label(x->integ, 0, buf, sizeof(buf));
			text_printf(t, "-%s", buf);
		} else if (x->auth) {
			text_printf(t, "-AUTH%u", x->auth);
		} else if (!row || row->kind != ALG_AEAD) {
			text_printf(t, "-NOAUTH");
		}
	}
		break;
	case PROTO_IPSEC_AH:
		if (x->integ) {
			alg_label(x->integ, 0, buf, sizeof(buf));
			text_printf(t, "%s", buf);
		} else {
			text_printf(t, "AH_TRANSFORM%u", x->id);
		}
		break;
	case PROTO_IPCOMP:
		text_printf(t, x->id == IPCOMP_DEFLATE ? "DEFLATE" : "IPCOMP_TRANSFORM%u", x->id);
		break;
	default:
		text_printf(t, "TRANSFORM%u", x->id);
		break;
	}
	if (x->group_alg) {
		alg_label(x->group_alg, 0, buf, sizeof(buf));
		text_printf(t, "-%s", buf);
	} else if (x->group) {
		text_printf(t, "-GROUP%u", x->group);
	}
	if (encap_word(x->encap))
		text_printf(t, " %s", encap_word(x->encap));
	else
		text_printf(t, " mode%u", x->encap);
	if (x->bad[0])
		text_printf(t, " (%s)", x->bad);
}

static void bundle_of(const struct sa_payload *sa, size_t begin, uint8_t main_protocol, struct bundle *b)
{
	memset(b, 0, sizeof(*b));
	b->begin = begin;
	size_t n = min_size(sa->n_proposals, SA_PROPOSALS_MAX);
	size_t i = begin;
	for (; i < n && sa->proposals[i].number == sa->proposals[begin].number; i++) {
		const struct sa_proposal *p = &sa->proposals[i];
		if (p->protocol == main_protocol && !b->main)
			b->main = p;
		else if (p->protocol == PROTO_IPCOMP && !b->comp)
			b->comp = p;
		else if (!b->other)
			b->other = p->protocol;
	}
	b->end = i;
}

/* What makes a bundle unusable before looking at transforms; NULL if
 * nothing. */
static const char *bundle_fault(const struct bundle *b, uint8_t want, bool ipcomp_ok,
				char *buf, size_t len)
{
	if (!b->main) {
		snprintf(buf, len, "no %s proposal", protocol_word(want));
		return buf;
	}
	if (b->other) {
		const char *w = protocol_word(b->other);
		if (w)
			snprintf(buf, len, "bundle with %s not supported", w);
		else
			snprintf(buf, len, "bundle with protocol %u not supported", b->other);
		return buf;
	}
	if (b->comp && !ipcomp_ok)
		return "IPCOMP not wanted";
	if (b->main->spi_size != 4) {
		snprintf(buf, len, "SPI size %u", b->main->spi_size);
		return buf;
	}
	if (spi_value(b->main) <= SPI_RESERVED_MAX) {
		snprintf(buf, len, "reserved SPI %u", spi_value(b->main));
		return buf;
	}
	if (b->comp && b->comp->spi_size != 2 && b->comp->spi_size != 4) {
		snprintf(buf, len, "CPI size %u", b->comp->spi_size);
		return buf;
	}
	/* RFC 3173: a 4-byte field carries the CPI in its low-order 2 bytes */
	if (b->comp && (spi_value(b->comp) & 0xffff) <= SPI_RESERVED_MAX) {
		snprintf(buf, len, "reserved CPI %u", spi_value(b->comp) & 0xffff);
		return buf;
	}
	return NULL;
}

static void bundle_label(struct text *t, const struct sa_payload *sa, const struct bundle *b,
			 uint8_t want, bool ipcomp_ok)
{
	for (size_t i = b->begin; i < b->end; i++) {
		const struct sa_proposal *p = &sa->proposals[i];
		const char *w = protocol_word(p->protocol);
		if (i > b->begin)
			text_printf(t, "+");
		if (w)
			text_printf(t, "%s[", w);
		else
			text_printf(t, "PROTOCOL%u[", p->protocol);
		bool first = true;
		for (size_t k = 0; k < min_size(p->n_transforms, SA_TRANSFORMS_MAX); k++) {
			struct ipsec_xform x;
			ipsec_decode(p->protocol, &p->transforms[k], &x);
			text_sep(t, &first, ", ");
			ipsec_label(t, &x);
		}
		text_printf(t, "]");
	}
	char buf[64];
	const char *fault = bundle_fault(b, want, ipcomp_ok, buf, sizeof(buf));
	if (fault)
		text_printf(t, " (%s)", fault);
}

static void policy_label(struct text *t, const struct ipsec_policy *pol, const struct alg *pfs)
{
	char c[32], h[32];
	bool first = true;
	text_printf(t, "%s ", protocol_word(pol->protocol) ? protocol_word(pol->protocol) : "?");
	if (pol->protocol == PROTO_IPSEC_ESP && pol->esp) {
		for (size_t i = 0; i < pol->esp->n; i++) {
			const struct esp_proposal *p = &pol->esp->p[i];
			alg_label(p->cipher, p->key_bits, c, sizeof(c));
			text_sep(t, &first, ", ");
			text_printf(t, "%s", c);
			if (p->integ) {
				alg_label(p->integ, 0, h, sizeof(h));
				text_printf(t, "-%s", h);
			}
		}
	} else if (pol->protocol == PROTO_IPSEC_AH && pol->ah) {
		for (size_t i = 0; i < pol->ah->n; i++) {
			alg_label(pol->ah->p[i].integ, 0, h, sizeof(h));
			text_sep(t, &first, ", ");
			text_printf(t, "%s", h);
		}
	}
	text_printf(t, " in %s mode", encap_word(our_encap(pol)));
	if (pfs) {
		alg_label(pfs, 0, c, sizeof(c));
		text_printf(t, " with PFS %s", c);
	}
	if (pol->ipcomp)
		text_printf(t, ", IPCOMP optional");
}

/* Does the ESP/AH transform fit our policy? On success the policy's
 * algorithms (so that names are the user's). */
static bool ipsec_match(const struct ipsec_policy *pol, const struct alg *pfs,
			const struct ipsec_xform *x, const struct alg **cipher, unsigned *key_bits,
			const struct alg **integ)
{
	if (x->bad[0] || !x->encap || ipsec_encap_normalize(x->encap) != our_encap(pol))
		return false;
	if (pfs ? x->group != pfs->esp_id : (x->group && !x->group_alg))
		return false;
	if (pol->protocol == PROTO_IPSEC_ESP && pol->esp) {
		if (!x->cipher || (!x->integ && x->cipher->kind != ALG_AEAD))
			return false;
		for (size_t i = 0; i < pol->esp->n; i++) {
			const struct esp_proposal *p = &pol->esp->p[i];
			if (p->cipher->esp_id != x->id ||
			    (p->cipher->key_length_attr && p->key_bits != x->key_len) ||
			    (p->integ ? p->integ->esp_id : 0) != x->auth)
				continue;
			*cipher = p->cipher;
			*key_bits = p->key_bits;
			*integ = p->integ;
			return true;
		}
	} else if (pol->protocol == PROTO_IPSEC_AH && pol->ah) {
		for (size_t i = 0; i < pol->ah->n; i++) {
			const struct ah_proposal *p = &pol->ah->p[i];
			if (p->integ->ah_id != x->id || p->integ->esp_id != x->auth)
				continue;
			*cipher = NULL;
			*key_bits = 0;
			*integ = p->integ;
			return true;
		}
	}
	return false;
}

/* The IPCOMP transform goes with the chosen ESP/AH one. */
static bool ipcomp_match(const struct ipsec_xform *c, const struct ipsec_xform *main)
{
	return !c->bad[0] && c->id == IPCOMP_DEFLATE &&
	       (!c->encap || ipsec_encap_normalize(c->encap) == ipsec_encap_normalize(main->encap)) &&
	       (!c->group || c->group == main->group);
}

static void put_spi(struct sa_proposal *rp, uint32_t value)
{
	memset(rp->spi, 0, sizeof(rp->spi));
	for (size_t i = 0; i < rp->spi_size && i < 4; i++)
		rp->spi[rp->spi_size - 1 - i] = (uint8_t)(value >> (8 * i));
}

static void reply_add(struct sa_payload *reply, const struct sa_proposal *src,
		      const struct sa_transform *chosen, uint32_t spi)
{
	struct sa_proposal *rp = &reply->proposals[reply->n_proposals++];
	rp->number = src->number;
	rp->protocol = src->protocol;
	rp->spi_size = src->spi_size;
	put_spi(rp, spi);
	rp->n_transforms = 1;
	rp->transforms[0] = *chosen;
}

static uint32_t min_kilobytes(const struct life *a, const struct life *b)
{
	uint32_t ka = a->kilobytes_given ? a->kilobytes : 0;
	uint32_t kb = b && b->kilobytes_given ? b->kilobytes : 0;
	if (!ka)
		return kb;
	return kb && kb < ka ? kb : ka;
}

static bool try_bundle(const struct sa_payload *peer, const struct bundle *b,
		       const struct ipsec_policy *pol, const struct alg *pfs,
		       struct ipsec_choice *choice, struct sa_payload *reply)
{
	char buf[64];
	if (bundle_fault(b, pol->protocol, pol->ipcomp, buf, sizeof(buf)))
		return false;

	const struct sa_transform *mt = NULL, *ct = NULL;
	struct ipsec_xform mx, cx;
	const struct alg *cipher = NULL, *integ = NULL;
	unsigned key_bits = 0;
	for (size_t i = 0; i < min_size(b->main->n_transforms, SA_TRANSFORMS_MAX) && !mt; i++) {
		ipsec_decode(b->main->protocol, &b->main->transforms[i], &mx);
		if (ipsec_match(pol, pfs, &mx, &cipher, &key_bits, &integ))
			mt = &b->main->transforms[i];
	}
	if (!mt)
		return false;
	for (size_t i = 0; b->comp && i < min_size(b->comp->n_transforms, SA_TRANSFORMS_MAX) && !ct; i++) {
		ipsec_decode(PROTO_IPCOMP, &b->comp->transforms[i], &cx);
		if (ipcomp_match(&cx, &mx))
			ct = &b->comp->transforms[i];
	}
	if (b->comp && !ct)
		return false;

	memset(choice, 0, sizeof(*choice));
	choice->protocol = pol->protocol;
	choice->cipher = cipher;
	choice->key_bits = key_bits;
	choice->integ = integ;
	choice->encap = ipsec_encap_normalize(mx.encap);
	choice->lifetime = life_capped(&mx.life, pol->lifetime);
	if (ct && cx.life.seconds_given && cx.life.seconds < choice->lifetime)
		choice->lifetime = cx.life.seconds;
	choice->lifetime_capped = (mx.life.seconds_given ? mx.life.seconds : SA_DEFAULT_LIFETIME) > choice->lifetime;
	choice->life_kilobytes = min_kilobytes(&mx.life, ct ? &cx.life : NULL);
	choice->pfs_group = mx.group ? mx.group_alg : NULL;
	choice->ipcomp = ct != NULL;
	choice->peer_spi = spi_value(b->main);
	choice->peer_cpi = ct ? (uint16_t)(spi_value(b->comp) & 0xffff) : 0;

	memset(reply, 0, sizeof(*reply));
	reply->doi = peer->doi;
	reply->situation = peer->situation;
	/* in the peer's order, which RFC 2408 does not fix */
	for (size_t i = b->begin; i < b->end; i++) {
		const struct sa_proposal *p = &peer->proposals[i];
		if (p == b->main)
			reply_add(reply, p, mt, pol->our_spi);
		else if (p == b->comp)
			reply_add(reply, p, ct, pol->our_cpi);
	}
	return true;
}

static const char *ipsec_sa_header_check(const struct sa_payload *sa)
{
	const char *bad = sa_envelope_check(sa);
	if (bad)
		return bad;
	if (sa->n_proposals == 0)
		return "no proposal";
	if (sa->n_proposals > SA_PROPOSALS_MAX)
		return "too many proposals";
	return NULL;
}

bool ipsec_sa_select(const struct sa_payload *peer, const struct ipsec_policy *pol,
		     struct ipsec_choice *choice, struct sa_payload *reply, char *why, size_t why_len)
{
	struct text w;
	text_init(&w, why, why_len);
	const char *bad = ipsec_sa_header_check(peer);
	if (bad) {
		text_printf(&w, PROPOSAL_SYNTAX_PREFIX "%s", bad);
		return false;
	}
	const struct alg *pfs = ipsec_policy_pfs_group(pol);
	struct bundle b;
	for (size_t i = 0; i < peer->n_proposals; i = b.end) {
		bundle_of(peer, i, pol->protocol, &b);
		if (try_bundle(peer, &b, pol, pfs, choice, reply))
			return true;
	}

	text_printf(&w, "no acceptable proposal: peer offered ");
	bool first = true;
	for (size_t i = 0; i < peer->n_proposals; i = b.end) {
		bundle_of(peer, i, pol->protocol, &b);
		text_sep(&w, &first, " or ");
		bundle_label(&w, peer, &b, pol->protocol, pol->ipcomp);
	}
	text_printf(&w, "; we accept ");
	policy_label(&w, pol, pfs);
	return false;
}

void ipsec_sa_build(const struct ipsec_policy *pol, struct sa_payload *out)
{
	memset(out, 0, sizeof(*out));
	out->doi = ISAKMP_DOI_IPSEC;
	out->situation = SIT_IDENTITY_ONLY;
	const struct alg *pfs = ipsec_policy_pfs_group(pol);
	uint32_t life = pol->lifetime ? pol->lifetime : SA_DEFAULT_LIFETIME;
	unsigned encap = our_encap(pol);

	struct sa_proposal *main = &out->proposals[out->n_proposals++];
	main->number = 1;
	main->protocol = pol->protocol;
	main->spi_size = 4;
	put_spi(main, pol->our_spi);
	size_t n = 0;
	size_t count = pol->protocol == PROTO_IPSEC_ESP ? (pol->esp ? pol->esp->n : 0)
						      : (pol->ah ? pol->ah->n : 0);
	for (size_t i = 0; i < count && n < SA_TRANSFORMS_MAX; i++) {
		struct sa_transform *t = &main->transforms[n++];
		t->number = (uint8_t)n;
		if (pol->protocol == PROTO_IPSEC_ESP) {
			const struct esp_proposal *p = &pol->esp->p[i];
			t->id = (uint8_t)p->cipher->esp_id;
			if (p->cipher->key_length_attr)
				sa_attr_add(t, IPSEC_KEY_LENGTH, p->key_bits);
			if (p->integ)   /* none with AEAD (RFC 4106 section 7) */
				sa_attr_add(t, IPSEC_AUTH_ALGORITHM, p->integ->esp_id);
		} else {
			const struct ah_proposal *p = &pol->ah->p[i];
			t->id = (uint8_t)p->integ->ah_id;
			sa_attr_add(t, IPSEC_AUTH_ALGORITHM, p->integ->esp_id);
		}
		if (pfs)
			sa_attr_add(t, IPSEC_GROUP_DESCRIPTION, pfs->esp_id);
		sa_attr_add(t, IPSEC_ENCAPSULATION_MODE, encap);
		sa_attr_add(t, IPSEC_SA_LIFE_TYPE, SA_LIFE_SECONDS);
		sa_attr_add(t, IPSEC_SA_LIFE_DURATION, life);
	}
	main->n_transforms = n;

	if (pol->ipcomp) {
		/* RFC 2407 4.4.5 / RFC 3173 4.1: same proposal number = AND */
		struct sa_proposal *comp = &out->proposals[out->n_proposals++];
		comp->number = 1;
		comp->protocol = PROTO_IPCOMP;
		comp->spi_size = 2;
		put_spi(comp, pol->our_cpi);
		struct sa_transform *t = &comp->transforms[0];
		comp->n_transforms = 1;
		t->number = 1;
		t->id = IPCOMP_DEFLATE;
		sa_attr_add(t, IPSEC_ENCAPSULATION_MODE, encap);
		sa_attr_add(t, IPSEC_SA_LIFE_TYPE, SA_LIFE_SECONDS);
		sa_attr_add(t, IPSEC_SA_LIFE_DURATION, life);
	}
}

/* The reply's transform must be one of ours in the proposal of the same
 * protocol; NULL when it is, else the reason. */
static const char *reply_transform_check(const struct sa_proposal *ours, const struct sa_proposal *theirs,
					 struct ipsec_xform *rx)
{
	if (theirs->n_transforms != 1)
		return "not exactly one transform";
	ipsec_decode(theirs->protocol, &theirs->transforms[0], rx);
	if (rx->bad[0])
		return rx->bad;
	const char *life_reason = NULL;
	for (size_t i = 0; i < min_size(ours->n_transforms, SA_TRANSFORMS_MAX); i++) {
		struct ipsec_xform ox;
		ipsec_decode(ours->protocol, &ours->transforms[i], &ox);
		if (ox.id != rx->id || ox.encap != rx->encap || ox.auth != rx->auth ||
		    ox.key_len != rx->key_len || ox.group != rx->group)
			continue;
		const char *r = life_reply_check(&ox.life, &rx->life);
		if (!r)
			return NULL;
		life_reason = r;
	}
	return life_reason ? life_reason : "not one we proposed";
}

bool ipsec_sa_check_reply(const struct sa_payload *proposed, const struct sa_payload *reply,
			  struct ipsec_choice *choice, char *why, size_t why_len)
{
	struct text w;
	text_init(&w, why, why_len);
	const char *bad = ipsec_sa_header_check(reply);
	if (bad) {
		text_printf(&w, "reply SA refused: %s", bad);
		return false;
	}
	uint8_t main_protocol = 0;
	for (size_t i = 0; i < reply->n_proposals && !main_protocol; i++)
		if (reply->proposals[i].protocol != PROTO_IPCOMP)
			main_protocol = reply->proposals[i].protocol;
	if (main_protocol != PROTO_IPSEC_ESP && main_protocol != PROTO_IPSEC_AH) {
		text_printf(&w, "reply SA refused: neither ESP nor AH");
		return false;
	}
	struct bundle rb;
	bundle_of(reply, 0, main_protocol, &rb);
	/* RFC 2409 wants exactly the chosen proposal back, but strongSwan 5.9
	 * as responder to ESP+IPCOMP echoes the chosen bundle followed by our
	 * other proposals (#1 ESP+IPCOMP, #2 ESP). Like libreswan we take
	 * the first bundle as the answer and ignore what follows; that first
	 * bundle must still be exactly one we proposed. */
	char buf[64];
	const char *fault = bundle_fault(&rb, main_protocol, true, buf, sizeof(buf));
	if (fault) {
		text_printf(&w, "reply SA refused: %s", fault);
		return false;
	}

	/* the bundle of ours with the same protocols */
	struct bundle ob = { 0 };
	bool found = false;
	for (size_t i = 0; i < min_size(proposed->n_proposals, SA_PROPOSALS_MAX) && !found; i = ob.end) {
		bundle_of(proposed, i, main_protocol, &ob);
		found = ob.main && !ob.other && !ob.comp == !rb.comp;
	}
	if (!found) {
		text_printf(&w, "reply SA refused: we did not propose %s%s", protocol_word(main_protocol),
			    rb.comp ? "+IPCOMP" : " without IPCOMP");
		return false;
	}

	struct ipsec_xform mx, cx;
	const char *r = reply_transform_check(ob.main, rb.main, &mx);
	if (!r && rb.comp)
		r = reply_transform_check(ob.comp, rb.comp, &cx);
	if (r) {
		text_printf(&w, "reply SA refused: ");
		bundle_label(&w, reply, &rb, main_protocol, true);
		text_printf(&w, ": %s", r);
		return false;
	}

	memset(choice, 0, sizeof(*choice));
	choice->protocol = main_protocol;
	choice->cipher = mx.cipher;
	choice->key_bits = mx.key_bits;
	choice->integ = mx.integ;
	choice->encap = ipsec_encap_normalize(mx.encap);
	/* already checked to be no longer than ours */
	choice->lifetime = mx.life.seconds_given ? mx.life.seconds : SA_DEFAULT_LIFETIME;
	if (rb.comp && cx.life.seconds_given && cx.life.seconds < choice->lifetime)
		choice->lifetime = cx.life.seconds;
	choice->life_kilobytes = min_kilobytes(&mx.life, rb.comp ? &cx.life : NULL);
	choice->pfs_group = mx.group ? mx.group_alg : NULL;
	choice->ipcomp = rb.comp != NULL;
	choice->peer_spi = spi_value(rb.main);
	choice->peer_cpi = rb.comp ? (uint16_t)(spi_value(rb.comp) & 0xffff) : 0;
	return true;
}
