/* Blocking Varlink client: messages are JSON objects, each terminated by a
 * NUL byte, in both directions. */
#include "varlink-client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "common/errors.h"

/* A reply bigger than this is not from a sane daemon; stop reading.
 * Status of 50,000 tunnels (50,001 connections, 100,000 states) with the
 * whack text is some 140 MB. */
#define VL_MAX_MESSAGE (256u * 1024 * 1024)

struct vl_conn {
	int fd;
	int timeout_ms;
	char *buf;        /* bytes received but not yet consumed */
	size_t len, cap;
	size_t lent;      /* the first message, handed out by vl_call_text: dropped
			   * (with its NUL) before the next one is read */
};

int vl_connect(const char *path, struct vl_conn **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	struct vl_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->timeout_ms = -1;
	*ret = c;
	return 0;
}

/* errno of a failed connect -> what it means here and what to do */
static const struct {
	int err;
	const char *what;
} connect_failures[] = {
	{ ENOENT, "no such socket: is pluto running? (systemctl start pluto; or give the socket's "
		  "path, or set $PLUTO_SOCKET)" },
	{ ECONNREFUSED, "nobody is listening: is pluto running? (a pluto that died leaves its socket "
			"behind; systemctl start pluto)" },
	{ EACCES, "permission denied: run as root (the socket or its directory is not open to this user)" },
	{ EPERM, "permission denied: run as root" },
	{ ENOTDIR, "a part of the path is not a directory: check --socket / $PLUTO_SOCKET" },
	{ ENAMETOOLONG, "the path is too long for a unix socket" },
};

const char *vl_connect_failure(const char *path, int r, char *buf, size_t len)
{
	const char *what = NULL;
	for (size_t i = 0; i < sizeof(connect_failures) / sizeof(connect_failures[0]); i++)
		if (connect_failures[i].err == -r)
			what = connect_failures[i].what;
	snprintf(buf, len, "cannot connect to pluto at %s: %s", path, what ? what : strerror(-r));
	return buf;
}

void vl_close(struct vl_conn *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

void vl_set_timeout(struct vl_conn *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			/* the daemon closed first (it refuses clients beyond
			 * its descriptor budget that way): the same as a
			 * close seen while reading, not a "Broken pipe" */
			if (errno == EPIPE || errno == ECONNRESET)
				return -ECONNRESET;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int vl_send(struct vl_conn *c, const char *method, json_object *parameters, unsigned flags)
{
	json_object *msg = json_object_new_object();
	json_object_object_add(msg, "method", json_object_new_string(method));
	if (parameters)
		json_object_object_add(msg, "parameters", json_object_get(parameters));
	if (flags & VL_MORE)
		json_object_object_add(msg, "more", json_object_new_boolean(1));
	if (flags & VL_ONEWAY)
		json_object_object_add(msg, "oneway", json_object_new_boolean(1));
	size_t n;
	const char *text = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &n);
	int r = write_all(c->fd, text, n + 1); /* + the terminating NUL */
	json_object_put(msg);
	return r;
}

/* Read more bytes into the buffer, honouring the timeout. */
static int fill(struct vl_conn *c)
{
	if (c->len >= VL_MAX_MESSAGE)
		return -EMSGSIZE;
	if (c->cap - c->len < 4096) {
		size_t cap = c->cap ? c->cap * 2 : 8192;
		char *p = realloc(c->buf, cap);
		if (!p)
			return -ENOMEM;
		c->buf = p;
		c->cap = cap;
	}
	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int p = poll(&pfd, 1, c->timeout_ms);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			return -errno;
		if (p == 0)
			return -ETIMEDOUT;
		ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ECONNRESET;
		c->len += (size_t)r;
		return 0;
	}
}

/* Wait until the buffer holds a whole message; *msglen its length
 * (without the NUL). */
static void consume(struct vl_conn *c, size_t msglen);

static int recv_message(struct vl_conn *c, size_t *msglen)
{
	char *end = NULL;
	size_t scanned = 0;
	if (c->lent) {
		consume(c, c->lent - 1);
		c->lent = 0;
	}
	while (c->len == scanned || !(end = memchr(c->buf + scanned, '\0', c->len - scanned))) {
		scanned = c->len;
		int r = fill(c);
		if (r < 0)
			return r;
	}
	*msglen = (size_t)(end - c->buf);
	return 0;
}

/* Drop the first message (msglen bytes and its NUL) from the buffer. */
static void consume(struct vl_conn *c, size_t msglen)
{
	memmove(c->buf, c->buf + msglen + 1, c->len - msglen - 1);
	c->len -= msglen + 1;
}

/* Parse the first message of the buffer into reply, and consume it. */
static int parse_message(struct vl_conn *c, size_t msglen, struct vl_reply *reply)
{
	json_tokener *tok = json_tokener_new();
	json_object *root = tok ? json_tokener_parse_ex(tok, c->buf, (int)msglen) : NULL;
	bool complete = tok && json_tokener_get_error(tok) == json_tokener_success &&
			json_tokener_get_parse_end(tok) == msglen;
	json_tokener_free(tok);
	consume(c, msglen);
	if (!root || !complete || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return -EBADMSG;
	}

	reply->root = root;
	json_object *v;
	if (json_object_object_get_ex(root, "parameters", &v) && json_object_is_type(v, json_type_object)) {
		reply->parameters = v;
	} else {
		reply->parameters = json_object_new_object();
		json_object_object_add(root, "parameters", reply->parameters);
	}
	if (json_object_object_get_ex(root, "error", &v) && json_object_is_type(v, json_type_string))
		reply->error = json_object_get_string(v);
	if (json_object_object_get_ex(root, "continues", &v))
		reply->continues = json_object_get_boolean(v);
	return 0;
}

int vl_recv(struct vl_conn *c, struct vl_reply *reply)
{
	memset(reply, 0, sizeof(*reply));
	size_t msglen;
	int r = recv_message(c, &msglen);
	return r < 0 ? r : parse_message(c, msglen, reply);
}

/* --- a reply's parameters as text, for replies of megabytes --- */

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* Past the string starting at p (a quote), or NULL when unterminated. */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Past the JSON value at p, or NULL when it is cut short. Only the
 * structure is followed (the message is checked as JSON by whoever reads
 * the text): strings, and brackets by depth. */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;
	while (p && p < end) {
		switch (*p) {
		case '"':
			p = skip_string(p, end);
			if (depth == 0)
				return p;
			continue;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return p;
			if (--depth == 0)
				return p + 1;
			break;
		case ',':
			if (depth == 0)
				return p;
			break;
		default:
			break;
		}
		p++;
	}
	return depth == 0 ? p : NULL;
}

/* The span of the member "parameters" of the message's top object, and
 * whether it has an "error" member; false when the text is not an object. */
static bool find_parameters(const char *p, const char *end, const char **params, size_t *len, bool *error)
{
	*params = NULL;
	*error = false;
	p = skip_space(p, end);
	if (p == end || *p++ != '{')
		return false;
	for (;;) {
		p = skip_space(p, end);
		if (p < end && *p == '}')
			return true;
		if (p == end || *p != '"')
			return false;
		const char *key = p + 1, *key_end = skip_string(p, end);
		if (!key_end)
			return false;
		size_t key_len = (size_t)(key_end - 1 - key);
		p = skip_space(key_end, end);
		if (p == end || *p++ != ':')
			return false;
		p = skip_space(p, end);
		const char *value = p;
		p = skip_value(p, end);
		if (!p)
			return false;
		if (key_len == 10 && memcmp(key, "parameters", 10) == 0) {
			*params = value;
			*len = (size_t)(p - value);
		} else if (key_len == 5 && memcmp(key, "error", 5) == 0) {
			*error = true;
		}
		p = skip_space(p, end);
		if (p < end && *p == ',')
			p++;
	}
}

int vl_call_text(struct vl_conn *c, const char *method, json_object *parameters, const char **text,
		 size_t *text_len, struct vl_reply *reply)
{
	memset(reply, 0, sizeof(*reply));
	*text = NULL;
	*text_len = 0;
	int r = vl_send(c, method, parameters, 0);
	size_t msglen;
	if (r >= 0)
		r = recv_message(c, &msglen);
	if (r < 0)
		return r;
	const char *params;
	size_t len = 0;
	bool error;
	if (!find_parameters(c->buf, c->buf + msglen, &params, &len, &error) || error || !params)
		return parse_message(c, msglen, reply);   /* errors and odd replies: as vl_call */
	/* megabytes: lent where they are, dropped at the next read */
	*text = params;
	*text_len = len;
	c->lent = msglen + 1;
	return 0;
}

void vl_reply_clear(struct vl_reply *reply)
{
	json_object_put(reply->root);
	memset(reply, 0, sizeof(*reply));
}

int vl_call(struct vl_conn *c, const char *method, json_object *parameters, struct vl_reply *reply)
{
	int r = vl_send(c, method, parameters, 0);
	if (r < 0)
		return r;
	return vl_recv(c, reply);
}

const char *vl_error_short_name(const struct vl_reply *reply)
{
	const char *e = reply->error ? reply->error : "";
	size_t n = strlen(PLUTO_VARLINK_ERROR_PREFIX);
	if (strncmp(e, PLUTO_VARLINK_ERROR_PREFIX, n) == 0 && strchr(e + n, '.') == NULL)
		return e + n;
	return e;
}

const char *vl_error_message(const struct vl_reply *reply)
{
	return vl_get_string(reply->parameters, "message", "");
}

const char *vl_get_string(json_object *obj, const char *key, const char *fallback)
{
	json_object *v;
	if (obj && json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return fallback;
}

long long vl_get_int(json_object *obj, const char *key, long long fallback)
{
	json_object *v;
	if (obj && json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_int))
		return (long long)json_object_get_int64(v);
	return fallback;
}

bool vl_get_bool(json_object *obj, const char *key, bool fallback)
{
	json_object *v;
	if (obj && json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v);
	return fallback;
}

bool vl_has(json_object *obj, const char *key)
{
	json_object *v;
	return obj && json_object_object_get_ex(obj, key, &v) && v != NULL;
}

const char *vl_socket_path(const char *from_command_line)
{
	if (from_command_line && *from_command_line)
		return from_command_line;
	const char *env = getenv("PLUTO_SOCKET");
	if (env && *env)
		return env;
	return PLUTO_DEFAULT_SOCKET;
}
