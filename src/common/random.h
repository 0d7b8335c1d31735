/* Random bytes for the layers below the crypto code (SPIs in src/klips):
 * the kernel's getrandom(2), so they need neither OpenSSL nor
 * daemon/crypto/. Keys, nonces and cookies keep using crypto_random(). */
#pragma once
#include <stddef.h>

/* Fills buf; aborts when the kernel has no randomness to give (no safe
 * SPI can be chosen then). */
void random_bytes(void *buf, size_t len);
