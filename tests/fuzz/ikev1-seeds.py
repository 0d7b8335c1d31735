#!/usr/bin/python3
"""Seeds of fuzz-ikev1's stage 5 (see the comment at the top of
fuzz-ikev1.c and free_form there): after a correct Main Mode, the
plaintext of Quick Mode, Informational, XAUTH and Mode Config messages,
which the harness completes with a HASH and encrypts. They start the
fuzzer at the handlers' doors; the fuzzer finds the rest.

    tests/fuzz/ikev1-seeds.py DIR      writes seed-*.bin into DIR

Run it into a scratch directory and merge (-merge=1) into
tests/fuzz/corpus/ikev1, which keeps only what adds coverage."""
import os
import struct
import sys

STAGE_FREE = 5
WHO_RW, WHO_RW_FQDN, WHO_FIXED, WHO_RA = 0, 1, 2, 3

PT_SA, PT_HASH, PT_N, PT_D, PT_VID, PT_ATTR = 1, 8, 11, 12, 13, 14
PROTO_ISAKMP, PROTO_ESP = 1, 3
CFG_REQUEST, CFG_REPLY, CFG_SET, CFG_ACK = 1, 2, 3, 4

ICOOKIE = b"fuzz\x1c\x00K\x1e"
ICOOKIE_MARKER = b"icookie!"    # the harness puts the initiator's cookie here (gateway mode)
RCOOKIE = b"rcookie!"          # the harness puts the responder's cookie here
OUR_SPI = 0x5ec0ffee           # the SPI the harness's QI1 proposes

# selector bits (free_form)
X_MAIN, X_QUICK, X_INFO, X_AGGR = 0, 1, 2, 3
ENC = 0x04
MSGID_ZERO, MSGID_QM_OR_TX, MSGID_FRESH, MSGID_GIVEN = 0x00, 0x08, 0x10, 0x18
TRANSACTION = 0x20
AUTO_HASH = 0x40
HARNESS_QM = 0x80


def payload(np, body):
    return struct.pack(">BBH", np, 0, 4 + len(body)) + body


def chain(*payloads):
    """(type, body) pairs -> first payload type and the linked payloads"""
    out = b""
    for i, (_, body) in enumerate(payloads):
        np = payloads[i + 1][0] if i + 1 < len(payloads) else 0
        out += payload(np, body)
    return payloads[0][0], out


def notify(ntype, proto=PROTO_ISAKMP, spi=ICOOKIE + RCOOKIE, data=b""):
    return PT_N, struct.pack(">IBBH", 1, proto, len(spi), ntype) + spi + data


def delete(proto, spis, size):
    return PT_D, struct.pack(">IBBH", 1, proto, size, len(spis)) + b"".join(spis)


def tv(atype, value):
    return struct.pack(">HH", 0x8000 | atype, value)


def tlv(atype, value):
    return struct.pack(">HH", atype, len(value)) + value


def attr(cfg_type, identifier, attrs):
    return PT_ATTR, struct.pack(">BBH", cfg_type, 0, identifier) + b"".join(attrs)


def msg(sel, *payloads, msgid=None):
    np, body = chain(*payloads) if payloads else (0, b"")
    head = bytes([sel])
    if msgid is not None:
        head += struct.pack(">I", msgid)
    return head + bytes([np]) + body


def harness_qm():
    return bytes([HARNESS_QM])


def seed(who, *chunks, fix=False, gateway=False, stage=STAGE_FREE):
    """gateway: pluto initiates to the harness's gateway (who 3, bit 7)"""
    ctl = stage | who << 3 | (0x20 if fix else 0) | (0x80 if gateway else 0)
    out = bytes([ctl])
    for c in chunks:
        out += struct.pack(">H", len(c)) + c
    return out


INFO = X_INFO | ENC | AUTO_HASH | MSGID_FRESH
TX = TRANSACTION | ENC | AUTO_HASH
N_INVALID_ID, N_NO_PROPOSAL = 18, 14
N_RESPONDER_LIFETIME, N_REPLAY_STATUS, N_INITIAL_CONTACT = 24576, 24577, 24578
R_U_THERE, R_U_THERE_ACK = 36136, 36137
XAUTH_TYPE, XAUTH_USER_NAME, XAUTH_USER_PASSWORD, XAUTH_STATUS = 16520, 16521, 16522, 16527
IP4_ADDRESS, IP4_NETMASK, IP4_DNS, IP4_NBNS, ADDRESS_EXPIRY = 1, 2, 3, 4, 5
APPLICATION_VERSION, IP4_SUBNET, SUPPORTED_ATTRIBUTES = 7, 13, 14
UNITY_BANNER, UNITY_DEF_DOMAIN, UNITY_SPLIT_INCLUDE = 28672, 28674, 28676

xauth_reply = msg(TX | MSGID_QM_OR_TX, attr(CFG_REPLY, 1, [tv(XAUTH_TYPE, 0), tlv(XAUTH_USER_NAME, b"alice"),
                                                         tlv(XAUTH_USER_PASSWORD, b"secret")]))
xauth_ack = msg(TX | MSGID_QM_OR_TX, attr(CFG_ACK, 2, [tv(XAUTH_STATUS, 1)]))
modecfg_ack = msg(TX | MSGID_QM_OR_TX, attr(CFG_ACK, 3, [tlv(IP4_ADDRESS, b""), tlv(IP4_DNS, b"")]))
modecfg_request = msg(TX | MSGID_FRESH, attr(CFG_REQUEST, 7, [
    tlv(IP4_ADDRESS, b""), tlv(IP4_NETMASK, b""), tlv(IP4_DNS, b""), tlv(IP4_NBNS, b""),
    tlv(ADDRESS_EXPIRY, b""), tlv(APPLICATION_VERSION, b"fuzz 1.0"), tlv(IP4_SUBNET, b""),
    tlv(SUPPORTED_ATTRIBUTES, b""), tlv(UNITY_BANNER, b""), tlv(UNITY_DEF_DOMAIN, b""),
    tlv(UNITY_SPLIT_INCLUDE, b"")]))
delete_isakmp = msg(INFO, delete(PROTO_ISAKMP, [ICOOKIE + RCOOKIE], 16))
delete_esp = msg(INFO, delete(PROTO_ESP, [struct.pack(">I", OUR_SPI), struct.pack(">I", 0x12345678)], 4))

SEEDS = {
    # Quick Mode by the harness, then Informationals on the IPsec SA
    "qm-delete-esp": seed(WHO_FIXED, harness_qm(), harness_qm(), delete_esp, delete_isakmp),
    "qm-rw-delete": seed(WHO_RW, harness_qm(), harness_qm(), delete_esp),
    "qm-fqdn-then-notify": seed(WHO_RW_FQDN, harness_qm(), msg(INFO, notify(N_INVALID_ID, PROTO_ESP,
                                                                              struct.pack(">I", OUR_SPI)))),
    # the fuzzer's own QI2 (HASH(3) written by the harness)
    "qm-own-qi2": seed(WHO_RW, harness_qm(), msg(X_QUICK | ENC | AUTO_HASH | MSGID_QM_OR_TX)),
    # Quick Mode plaintext with the harness's HASH(1): an SA with no proposal
    "qm-own-qi1": seed(WHO_FIXED, msg(X_QUICK | ENC | AUTO_HASH | MSGID_FRESH, (PT_SA, struct.pack(">II", 1, 1)))),
    # Informationals on the ISAKMP SA
    "info-delete-isakmp": seed(WHO_RW, delete_isakmp),
    "info-delete-other": seed(WHO_RW, msg(INFO, delete(PROTO_ISAKMP, [ICOOKIE + ICOOKIE], 16),
                                          delete(PROTO_ESP, [b"\0\0\0\1"], 4))),
    "info-initial-contact": seed(WHO_RW, msg(INFO, notify(N_INITIAL_CONTACT))),
    "info-lifetime": seed(WHO_FIXED, msg(INFO, notify(N_RESPONDER_LIFETIME, PROTO_ESP, struct.pack(">I", OUR_SPI),
                                                      tv(1, 1) + tlv(2, b"\0\0\x0e\x10")))),
    "info-replay": seed(WHO_FIXED, msg(INFO, notify(N_REPLAY_STATUS, PROTO_ESP, b"\0\0\0\1", b"\0\0\0\1"))),
    "info-error": seed(WHO_RW, msg(INFO, notify(N_NO_PROPOSAL, PROTO_ISAKMP))),
    "info-dpd": seed(WHO_RW, msg(INFO, notify(R_U_THERE, data=b"\0\0\0\7")),
                     msg(INFO, notify(R_U_THERE_ACK, data=b"\0\0\0\7"))),
    "info-plain": seed(WHO_RW, msg(X_INFO | MSGID_FRESH, notify(N_INITIAL_CONTACT))),
    "info-vid": seed(WHO_RW, msg(INFO, (PT_VID, b"\xaf\xca\xd7\x13\x68\xa1\xf1\xc9\x6b\x86\x96\xfc\x77\x57\x01\x00"))),
    # XAUTH and Mode Config against the gateway, then Quick Mode
    "ra-xauth": seed(WHO_RA, xauth_reply),
    "ra-xauth-empty": seed(WHO_RA, msg(TX | MSGID_QM_OR_TX, attr(CFG_REPLY, 1, []))),
    "ra-xauth-ack": seed(WHO_RA, xauth_reply, xauth_ack),
    "ra-modecfg-ack": seed(WHO_RA, xauth_reply, xauth_ack, modecfg_ack, harness_qm(), harness_qm()),
    "ra-modecfg-request": seed(WHO_RA, xauth_reply, xauth_ack, modecfg_request, harness_qm(), harness_qm(),
                               delete_esp),
    "ra-early-qm": seed(WHO_RA, harness_qm(), xauth_reply),
    "ra-early-request": seed(WHO_RA, modecfg_request),
    "ra-set": seed(WHO_RA, xauth_reply, msg(TX | MSGID_QM_OR_TX, attr(CFG_SET, 2, [tv(XAUTH_STATUS, 0)]))),
}


# pluto as the XAUTH + Mode Config client of the harness's gateway
GW_TX1, GW_TX2, GW_TX3 = 0x0a000001, 0x0a000002, 0x0a000003
gw_request = msg(TX | MSGID_GIVEN, attr(CFG_REQUEST, 1, [tv(XAUTH_TYPE, 0), tlv(XAUTH_USER_NAME, b""),
                                                          tlv(XAUTH_USER_PASSWORD, b"")]), msgid=GW_TX1)
gw_status_ok = msg(TX | MSGID_GIVEN, attr(CFG_SET, 2, [tv(XAUTH_STATUS, 1)]), msgid=GW_TX2)
gw_status_fail = msg(TX | MSGID_GIVEN, attr(CFG_SET, 2, [tv(XAUTH_STATUS, 0)]), msgid=GW_TX2)
gw_lease = [tlv(IP4_ADDRESS, bytes([10, 7, 1, 5])), tlv(IP4_NETMASK, bytes([255, 255, 255, 255])),
            tlv(IP4_DNS, bytes([10, 7, 0, 53])), tlv(UNITY_DEF_DOMAIN, b"fuzz.example"),
            tlv(UNITY_BANNER, b"welcome"),
            tlv(UNITY_SPLIT_INCLUDE, bytes([10, 7, 0, 0, 255, 255, 0, 0]) + bytes(6))]
gw_reply = msg(TX | MSGID_QM_OR_TX, attr(CFG_REPLY, 0, gw_lease))
gw_set = msg(TX | MSGID_GIVEN, attr(CFG_SET, 3, gw_lease), msgid=GW_TX3)
gw_delete_isakmp = msg(INFO, delete(PROTO_ISAKMP, [ICOOKIE_MARKER + RCOOKIE], 16))
gw_mr = {1: bytes([PT_SA]) + bytes(8), 2: bytes([4]) + bytes(8), 3: bytes([5]) + bytes(8)}

SEEDS.update({
    "gw-xauth": seed(WHO_RA, gw_request, gateway=True),
    "gw-xauth-ok": seed(WHO_RA, gw_request, gw_status_ok, gateway=True),
    "gw-xauth-fail": seed(WHO_RA, gw_request, gw_status_fail, gateway=True),
    "gw-modecfg-pull": seed(WHO_RA, gw_request, gw_status_ok, gw_reply, harness_qm(), gw_delete_isakmp,
                            gateway=True),
    "gw-modecfg-push": seed(WHO_RA, gw_request, gw_status_ok, gw_set, harness_qm(), gateway=True),
    "gw-early-set": seed(WHO_RA, gw_set, gateway=True),
    "gw-notify": seed(WHO_RA, msg(INFO, notify(N_INITIAL_CONTACT, spi=ICOOKIE_MARKER + RCOOKIE)),
                      msg(INFO, notify(R_U_THERE, spi=ICOOKIE_MARKER + RCOOKIE, data=b"\0\0\0\1")), gateway=True),
    "gw-mr1": seed(WHO_RA, gw_mr[1], gateway=True, stage=1),
    "gw-mr2": seed(WHO_RA, gw_mr[2], gateway=True, stage=2),
    "gw-mr3": seed(WHO_RA, gw_mr[3], gateway=True, stage=3),
})


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    os.makedirs(sys.argv[1], exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(sys.argv[1], "seed-" + name + ".bin"), "wb") as f:
            f.write(data)


main()
