#include "policy/sa.h"

bool sa_attr_get(const struct sa_transform *t, uint16_t type, uint32_t *value)
{
	for (size_t i = 0; i < t->n_attrs && i < SA_ATTRS_MAX; i++) {
		if (t->attrs[i].type == type) {
			if (value)
				*value = t->attrs[i].value;
			return true;
		}
	}
	return false;
}

bool sa_attr_add(struct sa_transform *t, uint16_t type, uint32_t value)
{
	if (t->n_attrs >= SA_ATTRS_MAX)
		return false;
	t->attrs[t->n_attrs].type = type;
	t->attrs[t->n_attrs].value = value;
	t->n_attrs++;
	return true;
}
