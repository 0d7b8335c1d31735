/* The helpers every kernel backend shares (kernel_ops.h). */
#include "klips/kernel_ops.h"

#include <stdio.h>
#include <string.h>

/* --- algorithms: the descriptor rows say everything --- */

int kernel_sa_keys(const struct kernel_ipsec_sa *sa, struct kernel_keys *k, char *why, size_t why_len)
{
	char name[ALG_NAME_MAX];
	memset(k, 0, sizeof(*k));
	if (sa->cipher && !sa->cipher->xfrm_name) {
		snprintf(why, why_len, "cipher %s has no kernel name", alg_name_at(sa->cipher, sa->key_bits, name));
		return -1;
	}
	if (sa->integ && !sa->integ->xfrm_name) {
		snprintf(why, why_len, "integrity %s has no kernel name", sa->integ->name);
		return -1;
	}
	if (sa->cipher && sa->cipher->kind == ALG_AEAD && sa->integ) {
		snprintf(why, why_len, "AEAD cipher %s with integrity %s", sa->cipher->name, sa->integ->name);
		return -1;
	}
	size_t want = alg_keymat_len(sa->cipher, sa->key_bits, sa->integ);
	if (sa->keymat_len != want) {
		snprintf(why, why_len, "%zu bytes of key material where %s needs %zu", sa->keymat_len,
			 sa->cipher ? alg_name_at(sa->cipher, sa->key_bits, name) : sa->integ ? sa->integ->name : "nothing",
			 want);
		return -1;
	}
	k->cipher_key_len = want - (sa->integ ? sa->integ->hash_bytes : 0);
	k->cipher_key = sa->keymat;
	k->integ_key_len = sa->integ ? sa->integ->hash_bytes : 0;
	k->integ_key = sa->keymat + k->cipher_key_len;
	return 0;
}

void kernel_sa_algs(const struct kernel_ipsec_sa *sa, char *buf, size_t len)
{
	char name[ALG_NAME_MAX] = "";
	if (sa->cipher)
		alg_name_at(sa->cipher, sa->key_bits, name);
	snprintf(buf, len, "%s%s%s", name, sa->cipher && sa->integ ? "-" : "", sa->integ ? sa->integ->name : "");
}

const char *kernel_dir_name(enum kernel_dir d)
{
	return d == KDIR_OUT ? "out" : d == KDIR_IN ? "in" : "fwd";
}

/* --- ACQUIREs --- */

static kernel_acquire_fn acquire_handler;

void kernel_set_acquire_handler(kernel_acquire_fn fn)
{
	acquire_handler = fn;
}

void kernel_acquire(const ip_address *src, const ip_address *dst)
{
	if (acquire_handler)
		acquire_handler(src, dst);
}
