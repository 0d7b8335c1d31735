/* RFC 3948 2.2 framing on the NAT-T port: an IKE message follows a 4-byte
 * zero "non-ESP marker" (an ESP packet starts with its SPI, never 0), and
 * a single 0xFF byte is a NAT keepalive. Pure byte work: which sockets
 * carry the marker is the engine's and demux's business. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define NATT_MARKER_LEN 4

/* A copy of buf behind the 4 zero bytes (caller frees); *len updated. */
uint8_t *natt_frame(const uint8_t *buf, size_t *len);

enum natt_rx { NATT_RX_IKE, NATT_RX_KEEPALIVE, NATT_RX_ESP };
/* What a datagram received on the NAT-T port is; for IKE, *skip is the
 * marker's length (the IKE message starts after it). */
enum natt_rx natt_classify(const uint8_t *buf, size_t len, size_t *skip);
