#include "common/intern.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/hindex.h"
#include "common/util.h"

struct interned {
	struct hlink link;           /* by_content, hashed over the bytes */
	size_t refs;
	size_t len;
	alignas(max_align_t) unsigned char data[];
};

static struct hindex by_content;

static struct interned *owner(const void *value)
{
	return (struct interned *)(void *)((unsigned char *)(uintptr_t)value - offsetof(struct interned, data));
}

const void *intern(const void *data, size_t len)
{
	uint32_t h = hash_bytes(HASH_SEED, data, len);
	for (struct hlink *l = hindex_first(&by_content, h); l; l = hlink_next_same(l, h)) {
		struct interned *i = HLINK_OWNER(l, struct interned, link);
		if (i->len == len && memcmp(i->data, data, len) == 0) {
			i->refs++;
			return i->data;
		}
	}
	struct interned *i = xmalloc(sizeof(*i) + len);
	memset(&i->link, 0, sizeof(i->link));
	i->refs = 1;
	i->len = len;
	memcpy(i->data, data, len);
	hindex_add(&by_content, &i->link, h);
	return i->data;
}

const void *intern_ref(const void *value)
{
	if (value)
		owner(value)->refs++;
	return value;
}

void intern_release(const void *value)
{
	if (!value)
		return;
	struct interned *i = owner(value);
	if (--i->refs)
		return;
	hindex_del(&by_content, &i->link);
	free(i);
	if (by_content.count == 0)
		hindex_free(&by_content);   /* nothing left: no table to leak at exit */
}

size_t intern_count(void)
{
	return by_content.count;
}
