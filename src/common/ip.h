/* IP addresses and subnets as pluto holds them: family plus raw bytes. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct {
	int family;                  /* AF_INET, AF_INET6 or AF_UNSPEC (unset) */
	union {
		uint8_t bytes[16];
		struct in_addr v4;
		struct in6_addr v6;
	} u;
} ip_address;

typedef struct {
	ip_address addr;             /* network address, host bits cleared */
	unsigned prefix;
} ip_subnet;

#define IP_STR_MAX 64            /* enough for an IPv6 address with "/128" */

bool ip_parse(const char *s, ip_address *out);
const char *ip_str(const ip_address *a, char buf[IP_STR_MAX]);
bool ip_equal(const ip_address *a, const ip_address *b);
bool ip_is_set(const ip_address *a);
size_t ip_len(const ip_address *a);
void ip_from_sockaddr(const struct sockaddr *sa, ip_address *out, uint16_t *port);
socklen_t ip_to_sockaddr(const ip_address *a, uint16_t port, struct sockaddr_storage *ss);

/* "10.0.0.0/8"; a bare address is a /32 or /128. Rejects host bits set. */
bool subnet_parse(const char *s, ip_subnet *out, const char **why);
const char *subnet_str(const ip_subnet *s, char buf[IP_STR_MAX]);
bool subnet_equal(const ip_subnet *a, const ip_subnet *b);
void subnet_from_address(const ip_address *a, ip_subnet *out);
