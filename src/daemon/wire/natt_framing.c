#include "daemon/wire/natt_framing.h"

#include <string.h>

#include "common/util.h"

uint8_t *natt_frame(const uint8_t *buf, size_t *len)
{
	uint8_t *out = xmalloc(*len + NATT_MARKER_LEN);
	memset(out, 0, NATT_MARKER_LEN);
	memcpy(out + NATT_MARKER_LEN, buf, *len);
	*len += NATT_MARKER_LEN;
	return out;
}

enum natt_rx natt_classify(const uint8_t *buf, size_t len, size_t *skip)
{
	static const uint8_t zero[NATT_MARKER_LEN];
	*skip = 0;
	if (len == 1 && buf[0] == 0xff)
		return NATT_RX_KEEPALIVE;
	if (len < NATT_MARKER_LEN || memcmp(buf, zero, NATT_MARKER_LEN) != 0)
		return NATT_RX_ESP;    /* an SPI is never 0: not IKE */
	*skip = NATT_MARKER_LEN;
	return NATT_RX_IKE;
}
