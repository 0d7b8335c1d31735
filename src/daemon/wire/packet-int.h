/* Inside packet*.c: the declarative structure tables and the one piece of
 * code that reads, writes and dumps any of them. A structure is a list of
 * fixed-size big-endian fields; offsets come from summing the sizes, so
 * no offset is written by hand anywhere. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/wire/packet.h"

struct connection;

struct enum_name { unsigned value; const char *name; };
struct enum_table { const struct enum_name *names; size_t n; };
#define ENUM_TABLE(arr) { arr, sizeof(arr) / sizeof((arr)[0]) }
/* NULL when the value has no name */
const char *enum_lookup(const struct enum_table *t, unsigned value);

/* What a field means: how it is shown, and which ones the machinery
 * itself fills in (next payload, length) or interprets (SPI size and
 * count split the variable part). */
enum field_kind {
	FK_INT,          /* unsigned integer, shown in decimal */
	FK_HEX,          /* unsigned integer, shown in hex (flags, version) */
	FK_COOKIE,       /* 8 opaque bytes (a uint8_t[8] target), shown in hex */
	FK_ENUM,         /* unsigned integer named by field.names */
	FK_NP,           /* the next payload's type (named): chained by the emitter */
	FK_LENGTH,       /* the structure's length, header included: set when it is closed */
	FK_RESERVED,     /* sent as 0, ignored on receipt, shown in hex */
	FK_SPI_SIZE,     /* bytes of each SPI at the start of the variable part */
	FK_COUNT,        /* how many of them (SPIs of a Delete, transforms of a proposal) */
};

/* No place in the decoded structure: the field is only read, checked
 * and shown (reserved bytes, lengths, counts). */
#define NO_TARGET UINT16_MAX

struct field {
	const char *name;
	uint8_t size;                    /* bytes: 1, 2, 3, 4 or 8 */
	uint8_t kind;                    /* enum field_kind */
	const struct enum_table *names;  /* FK_ENUM, FK_NP */
	uint16_t target;                 /* offsetof the member it decodes into, or NO_TARGET;
					    an integer member is as wide as the field */
};

#define FIELDS_MAX 8
struct struct_desc {
	const char *name;
	const struct field *fields;
	unsigned n_fields;
	const char *data_name;           /* the variable part after the fields, NULL if none */
	/* offsetof the const uint8_t * that points at the SPI(s) starting the
	 * variable part (FK_SPI_SIZE x FK_COUNT, or one without a count: the
	 * rest is then the data), NO_TARGET when there are none */
	uint16_t spi_target;
};

struct field_values {
	uint64_t v[FIELDS_MAX];
	const uint8_t *data;             /* the bytes after the fixed fields */
	size_t data_len;
};

size_t desc_fixed_len(const struct struct_desc *d);
/* Reads the fixed fields of d from buf[len]; the rest becomes fv->data.
 * false when len is shorter than the fixed part. */
bool fields_read(const struct struct_desc *d, const uint8_t *buf, size_t len,
		 struct field_values *fv);
/* Writes the fixed fields (desc_fixed_len bytes) to out. */
void fields_write(const struct struct_desc *d, const struct field_values *fv, uint8_t *out);
/* The fields with a target, from fv into the structure at dst / from
 * the structure at src into fv (fields without one are left as they
 * are: set them by kind). */
void fields_decode(const struct struct_desc *d, const struct field_values *fv, void *dst);
void fields_encode(const struct struct_desc *d, const void *src, struct field_values *fv);
/* The index of d's first field of that kind, -1 when it has none. */
int field_of_kind(const struct struct_desc *d, enum field_kind kind);
/* Its offset from the start of the structure, SIZE_MAX when none. */
size_t field_offset_of_kind(const struct struct_desc *d, enum field_kind kind);
/* Writes v into that field of the structure written at out. */
void field_put_kind(const struct struct_desc *d, enum field_kind kind, uint8_t *out, uint64_t v);
/* "| " lines: the structure's name, then every field and its value, then
 * the variable part (length and hex). */
void fields_dump(const struct connection *c, unsigned cls, unsigned depth,
		 const struct struct_desc *d, const struct field_values *fv);
void hex_dump(const struct connection *c, unsigned cls, unsigned depth, const char *name,
	      const uint8_t *data, size_t len);

/* --- the tables (packet-tables.c) --- */
/* The generic payload header, decoded (RFC 2408 3.2). */
struct generic_hdr {
	uint8_t np;
	uint8_t reserved;
	uint16_t length;
};
enum { ATTR_TYPE, ATTR_VALUE };             /* ATTR_VALUE: TV value or TLV length */
#define ATTR_AF 0x8000u      /* attribute format bit: TV */

extern const struct struct_desc isakmp_hdr_desc, generic_hdr_desc, proposal_desc,
	transform_desc, attribute_desc;

/* One row per payload type pluto knows at the top level of a message. */
struct payload_desc {
	uint8_t type;
	const struct struct_desc *body;  /* fields after the generic header */
	bool own_struct;                 /* they decode into a structure of the payload's own
					    (the SA payload's, by check), not into struct payload */
	size_t min_data, max_data;       /* bounds of the variable part */
	/* what the fields cannot say, after they are decoded: -1 with
	 * *notify and why[] when the payload is malformed; NULL: nothing */
	int (*check)(struct payload *p, unsigned *notify, char *why, size_t why_len);
};
/* NULL for types that may not appear at the top level (P, T) or unknown */
const struct payload_desc *payload_desc_get(unsigned type);

/* value names of an attribute, NULL if it has none */
const struct enum_table *sa_attr_values(uint8_t protocol, uint16_t type);
const char *protocol_name(unsigned proto);

/* --- SA payload (packet-sa.c) --- */
/* body = the SA payload after the generic header */
int sa_parse(const uint8_t *body, size_t len, struct sa_payload *sa, unsigned *notify,
	     char *why, size_t why_len);
/* proposals and transforms after the SA payload's generic header */
void sa_emit_body(struct pbuf *pb, const struct sa_payload *sa);
void sa_dump(const struct connection *c, unsigned cls, unsigned depth, const uint8_t *body,
	     size_t len);

/* One payload of type `type` at buf[len] (len = what is left of the
 * message): checked, fixed fields decoded into *p, *np its successor.
 * On failure p->sa may be set: the caller frees it. */
int payload_parse_one(struct payload *p, uint8_t type, const uint8_t *buf, size_t len,
		      uint8_t *np, unsigned *notify, char *why, size_t why_len);

/* --- emitting helpers (packet.c) --- */
bool pbuf_reserve(struct pbuf *pb, size_t more);
void pbuf_put(struct pbuf *pb, const void *bytes, size_t len);
/* Appends the fixed fields of d and dumps them at DBG_EMITTING. */
void pbuf_put_fields(struct pbuf *pb, unsigned depth, const struct struct_desc *d,
		     const struct field_values *fv);
/* Chains a payload of this type to the previous one, writes its generic
 * header; returns its offset. */
size_t payload_open(struct pbuf *pb, uint8_t type);
/* Writes the length of the structure at start (payload, proposal or
 * transform: they share the generic header). */
void pbuf_close_at(struct pbuf *pb, size_t start);
void put_be(uint8_t *out, uint64_t v, unsigned size);
uint64_t get_be(const uint8_t *in, unsigned size);

void why_set(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
