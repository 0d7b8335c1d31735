/* The IKEv1 state table (ikev1_states.h): RFC 2409 Main Mode and Quick
 * Mode, RFC 2408 Informational, the Transaction exchange of XAUTH and
 * Mode Config. */
#include "daemon/ikev1/ikev1_states.h"

#include "common/util.h"
#include "daemon/wire/packet.h"

#define ONE(t) { t, 1, 1 }               /* required, once */
#define OPT(t) { t, 0, 1 }               /* optional, at most once */
#define ANY(t) { t, 0, PAYLOAD_MANY }    /* optional, any number */
#define SOME(t) { t, 1, PAYLOAD_MANY }   /* required, any number */

/* Rules are listed by payload type: the first missing one is the one
 * reported. Vendor IDs, notifications and certificate requests may come
 * with any phase-1 message; IDs, certificates and NAT-Ds as often as the
 * peer likes (the handler picks what it needs). */
const struct v1_row v1_rows[] = {
	/* Main Mode (RFC 2409 5) */
	{ .from = STATE_MAIN_R0, .to = STATE_MAIN_R1, .xchg = XCHG_IDPROT, .flags = F_SENDS,
	  .payloads = { ONE(PT_SA), ANY(PT_CR), ANY(PT_N), ANY(PT_VID) },
	  .handler = main_inI1_outR1, .timeout = TIMEOUT_RESPONDER, .duplicate = DUP_RESEND,
	  .reach = REACH_PROGRESS, .rc = RC_NEW_STATE, .what = "sent MR1, expecting MI2" },
	{ .from = STATE_MAIN_I1, .to = STATE_MAIN_I2, .xchg = XCHG_IDPROT, .flags = F_SENDS | F_REQUEST,
	  .payloads = { ONE(PT_SA), ANY(PT_CR), ANY(PT_N), ANY(PT_VID) },
	  .handler = main_inR1_outI2, .timeout = TIMEOUT_RETRANSMIT, .duplicate = DUP_DROP,
	  .reach = REACH_PROGRESS, .rc = RC_NEW_STATE, .what = "sent MI2, expecting MR2" },
	{ .from = STATE_MAIN_R1, .to = STATE_MAIN_R2, .xchg = XCHG_IDPROT, .flags = F_SENDS,
	  .payloads = { ONE(PT_KE), ANY(PT_CR), ONE(PT_NONCE), ANY(PT_N), ANY(PT_VID), ANY(PT_NATD) },
	  .handler = main_inI2_outR2, .timeout = TIMEOUT_RESPONDER, .duplicate = DUP_RESEND,
	  .reach = REACH_PROGRESS, .rc = RC_NEW_STATE, .what = "sent MR2, expecting MI3" },
	{ .from = STATE_MAIN_I2, .to = STATE_MAIN_I3, .xchg = XCHG_IDPROT, .flags = F_SENDS | F_REQUEST,
	  .payloads = { ONE(PT_KE), ANY(PT_CR), ONE(PT_NONCE), ANY(PT_N), ANY(PT_VID), ANY(PT_NATD) },
	  .handler = main_inR2_outI3, .timeout = TIMEOUT_RETRANSMIT, .duplicate = DUP_DROP,
	  .reach = REACH_PROGRESS, .rc = RC_NEW_STATE, .what = "sent MI3, expecting MR3" },
	{ .from = STATE_MAIN_R2, .to = STATE_MAIN_R3, .xchg = XCHG_IDPROT, .flags = F_ENCRYPTED | F_SENDS,
	  .payloads = { SOME(PT_ID), ANY(PT_CERT), ANY(PT_CR), OPT(PT_HASH), OPT(PT_SIG), ANY(PT_N),
			ANY(PT_VID) },
	  .handler = main_inI3_outR3, .timeout = TIMEOUT_NONE, .duplicate = DUP_RESEND,
	  .reach = REACH_ESTABLISHED, .rc = RC_NEW_STATE, .what = "sent MR3, ISAKMP SA established" },
	{ .from = STATE_MAIN_I3, .to = STATE_MAIN_I4, .xchg = XCHG_IDPROT, .flags = F_ENCRYPTED,
	  .payloads = { SOME(PT_ID), ANY(PT_CERT), ANY(PT_CR), OPT(PT_HASH), OPT(PT_SIG), ANY(PT_N),
			ANY(PT_VID) },
	  .handler = main_inR3, .timeout = TIMEOUT_NONE, .duplicate = DUP_DROP,
	  .reach = REACH_START_QUICK, .rc = RC_NEW_STATE, .what = "ISAKMP SA established" },

	/* Quick Mode (RFC 2409 5.5). QR1 is re-sent until QI2 comes (as
	 * libreswan does): QI2 is the exchange's last message and nobody
	 * would re-send it otherwise, so a lost one would leave us half way
	 * while the initiator uses the SA. IDs come in pairs or not at all:
	 * the handler checks that (INVALID_ID_INFORMATION). */
	{ .from = STATE_QUICK_R0, .to = STATE_QUICK_R1, .xchg = XCHG_QUICK,
	  .flags = F_ENCRYPTED | F_SENDS | F_REQUEST, .hash = V1_HASH_1,
	  .payloads = { ONE(PT_SA), OPT(PT_KE), ANY(PT_ID), ONE(PT_HASH), ONE(PT_NONCE), ANY(PT_N),
			OPT(PT_NATOA) },
	  .handler = quick_inI1_outR1, .timeout = TIMEOUT_RETRANSMIT, .duplicate = DUP_RESEND,
	  .reach = REACH_PROGRESS, .rc = RC_NEW_STATE,
	  .what = "sent QR1, inbound IPsec SA installed, expecting QI2" },
	{ .from = STATE_QUICK_I1, .to = STATE_QUICK_I2, .xchg = XCHG_QUICK, .flags = F_ENCRYPTED | F_SENDS,
	  .hash = V1_HASH_2,
	  .payloads = { ONE(PT_SA), OPT(PT_KE), ANY(PT_ID), ONE(PT_HASH), ONE(PT_NONCE), ANY(PT_N),
			OPT(PT_NATOA) },
	  .handler = quick_inR1_outI2, .timeout = TIMEOUT_NONE, .duplicate = DUP_RESEND,
	  .reach = REACH_FINISH, .rc = RC_SUCCESS, .what = "sent QI2, IPsec SA established" },
	{ .from = STATE_QUICK_R1, .to = STATE_QUICK_R2, .xchg = XCHG_QUICK, .flags = F_ENCRYPTED,
	  .hash = V1_HASH_3,
	  .payloads = { ONE(PT_HASH), ANY(PT_N) },
	  .handler = quick_inI2, .timeout = TIMEOUT_NONE, .duplicate = DUP_DROP,
	  .reach = REACH_ESTABLISHED, .rc = RC_SUCCESS, .what = "IPsec SA established" },

	/* Transaction exchanges (draft-ietf-ipsec-isakmp-mode-cfg-05, XAUTH
	 * draft-beaulieu-ike-xauth-02) on the ISAKMP state after Main Mode:
	 * every message is HASH(1) = prf(SKEYID_a, M-ID | ATTR) then ATTR.
	 * The side that sends a REQUEST or SET retransmits it until the
	 * REPLY or ACK comes; the answering side re-sends its answer when the
	 * request comes again and otherwise waits with a timeout. The R
	 * states are the gateway's, the I states the client's; the states a
	 * phase starts in are entered by transaction.c (initial states). */
	{ .from = STATE_XAUTH_R0, .to = STATE_XAUTH_R1, .xchg = XCHG_TRANSACTION,
	  .flags = F_ENCRYPTED | F_SENDS | F_REQUEST, .hash = V1_HASH_1,
	  .payloads = { ONE(PT_HASH), ONE(PT_ATTR) },
	  .handler = xauth_inREPLY, .timeout = TIMEOUT_RETRANSMIT, .duplicate = DUP_DROP,
	  .reach = REACH_PROGRESS, .rc = RC_NEW_STATE, .what = "XAUTH: sent STATUS, expecting ACK" },
	{ .from = STATE_XAUTH_R1, .to = STATE_XAUTH_R2, .xchg = XCHG_TRANSACTION,
	  .flags = F_ENCRYPTED, .hash = V1_HASH_1,
	  .payloads = { ONE(PT_HASH), ONE(PT_ATTR) },
	  .handler = xauth_inACK, .timeout = TIMEOUT_NONE, .duplicate = DUP_DROP,
	  .reach = REACH_ESTABLISHED, .rc = RC_NEW_STATE, .what = "XAUTH completed" },
	{ .from = STATE_MODE_CFG_R0, .to = STATE_MODE_CFG_R1, .xchg = XCHG_TRANSACTION,
	  .flags = F_ENCRYPTED | F_SENDS, .hash = V1_HASH_1,
	  .payloads = { ONE(PT_HASH), ONE(PT_ATTR) },
	  .handler = modecfg_inREQUEST, .timeout = TIMEOUT_NONE, .duplicate = DUP_RESEND,
	  .reach = REACH_ESTABLISHED, .rc = RC_NEW_STATE, .what = "Mode Config: sent REPLY" },
	{ .from = STATE_MODE_CFG_R2, .to = STATE_MODE_CFG_R3, .xchg = XCHG_TRANSACTION,
	  .flags = F_ENCRYPTED, .hash = V1_HASH_1,
	  .payloads = { ONE(PT_HASH), ONE(PT_ATTR) },
	  .handler = modecfg_inACK, .timeout = TIMEOUT_NONE, .duplicate = DUP_DROP,
	  .reach = REACH_ESTABLISHED, .rc = RC_NEW_STATE, .what = "Mode Config: SET acknowledged" },
	{ .from = STATE_XAUTH_I0, .to = STATE_XAUTH_I1, .xchg = XCHG_TRANSACTION,
	  .flags = F_ENCRYPTED | F_SENDS, .hash = V1_HASH_1,
	  .payloads = { ONE(PT_HASH), ONE(PT_ATTR) },
	  .handler = xauth_inREQUEST, .timeout = TIMEOUT_RESPONDER, .duplicate = DUP_RESEND,
	  .reach = REACH_PROGRESS, .rc = RC_NEW_STATE, .what = "XAUTH: sent REPLY, expecting STATUS" },
	{ .from = STATE_XAUTH_I1, .to = STATE_XAUTH_I2, .xchg = XCHG_TRANSACTION,
	  .flags = F_ENCRYPTED | F_SENDS, .hash = V1_HASH_1,
	  .payloads = { ONE(PT_HASH), ONE(PT_ATTR) },
	  .handler = xauth_inSET, .timeout = TIMEOUT_NONE, .duplicate = DUP_RESEND,
	  .reach = REACH_ESTABLISHED, .rc = RC_NEW_STATE, .what = "XAUTH: sent ACK, user authenticated" },
	{ .from = STATE_MODE_CFG_I0, .to = STATE_MODE_CFG_I3, .xchg = XCHG_TRANSACTION,
	  .flags = F_ENCRYPTED | F_SENDS, .hash = V1_HASH_1,
	  .payloads = { ONE(PT_HASH), ONE(PT_ATTR) },
	  .handler = modecfg_inSET, .timeout = TIMEOUT_NONE, .duplicate = DUP_RESEND,
	  .reach = REACH_ESTABLISHED, .rc = RC_NEW_STATE, .what = "Mode Config: sent ACK" },
	{ .from = STATE_MODE_CFG_I1, .to = STATE_MODE_CFG_I2, .xchg = XCHG_TRANSACTION,
	  .flags = F_ENCRYPTED, .hash = V1_HASH_1,
	  .payloads = { ONE(PT_HASH), ONE(PT_ATTR) },
	  .handler = modecfg_inREPLY, .timeout = TIMEOUT_NONE, .duplicate = DUP_DROP,
	  .reach = REACH_ESTABLISHED, .rc = RC_NEW_STATE, .what = "Mode Config: received REPLY" },

	/* Informational (RFC 2408 4.8, RFC 2409 5.7): notifications and
	 * deletes are acted upon, anything else is ignored; never answered */
	{ .from = STATE_INFO, .to = STATE_INFO, .xchg = XCHG_INFO, .flags = F_NO_ANSWER | F_ANY_OTHER,
	  .payloads = { ANY(PT_N), ANY(PT_D) },
	  .handler = informational_in, .timeout = TIMEOUT_NONE, .duplicate = DUP_DROP,
	  .reach = REACH_NOTHING, .rc = RC_LOG },
	{ .from = STATE_INFO_PROTECTED, .to = STATE_INFO_PROTECTED, .xchg = XCHG_INFO,
	  .flags = F_ENCRYPTED | F_NO_ANSWER | F_ANY_OTHER, .hash = V1_HASH_1,
	  .payloads = { SOME(PT_HASH), ANY(PT_N), ANY(PT_D) },
	  .handler = informational_in, .timeout = TIMEOUT_NONE, .duplicate = DUP_DROP,
	  .reach = REACH_NOTHING, .rc = RC_LOG },
};
const size_t v1_n_rows = ARRAY_SIZE(v1_rows);

const enum state_name v1_initial_states[] = {
	STATE_MAIN_R0, STATE_MAIN_I1, STATE_QUICK_R0, STATE_QUICK_I1, STATE_INFO, STATE_INFO_PROTECTED,
	/* entered by transaction.c: the gateway sent REQUEST / waits for the
	 * client's REQUEST / sent SET; the client waits for REQUEST / SET,
	 * or sent its REQUEST */
	STATE_XAUTH_R0, STATE_MODE_CFG_R0, STATE_MODE_CFG_R2,
	STATE_XAUTH_I0, STATE_MODE_CFG_I0, STATE_MODE_CFG_I1,
};
const size_t v1_n_initial_states = ARRAY_SIZE(v1_initial_states);

const struct v1_row *v1_row_for(enum state_name from, uint8_t xchg)
{
	for (size_t i = 0; i < v1_n_rows; i++)
		if (v1_rows[i].from == from && v1_rows[i].xchg == xchg)
			return &v1_rows[i];
	return NULL;
}

const struct v1_row *v1_row_reaching(enum state_name to)
{
	for (size_t i = 0; i < v1_n_rows; i++)
		if (v1_rows[i].to == to && v1_rows[i].reach != REACH_NOTHING)
			return &v1_rows[i];
	return NULL;
}

const struct v1_payload_rule *v1_row_rule(const struct v1_row *row, uint8_t type)
{
	for (size_t i = 0; i < V1_RULES_MAX && row->payloads[i].type; i++)
		if (row->payloads[i].type == type)
			return &row->payloads[i];
	return NULL;
}

enum whack_rc v1_row_rc(const struct v1_row *row, enum state_name to, bool ends_wait)
{
	if (ends_wait)
		return RC_SUCCESS;
	return row->rc == RC_NEW_STATE ? (enum whack_rc)(RC_NEW_STATE + to) : row->rc;
}
