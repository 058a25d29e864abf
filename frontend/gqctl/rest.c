/* SPDX-License-Identifier: MIT */
/*
 * rest.c - gqd's admin API over libcurl (contract in rest.h).  One easy
 * handle lives in g->rest for the whole run; each call resets the
 * per-request options and keeps the connection.  The answer is collected
 * in memory (admin answers are small documents) and parsed with jansson.
 */
#include "rest.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "goqueue-version.h"

/* Admin answers are documents of a few KiB; a cap keeps a confused peer
 * (something else on the port) from eating memory. */
#define MAX_ANSWER (64u << 20)

struct rest {
	CURL *curl;
	char *base; /* "http://host:port", no trailing slash */
};

struct answer {
	char *data;
	size_t len;
	size_t cap;
	bool too_big;
};

static size_t
on_data(char *ptr, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n;
	char *nd;

	if (a->len + len + 1 > MAX_ANSWER) {
		a->too_big = true;
		return 0;
	}
	if (a->len + len + 1 > a->cap) {
		size_t cap = a->cap == 0 ? 4096 : a->cap;

		while (cap < a->len + len + 1)
			cap *= 2;
		if ((nd = realloc(a->data, cap)) == NULL)
			return 0;
		a->data = nd;
		a->cap = cap;
	}
	memcpy(a->data + a->len, ptr, len);
	a->len += len;
	a->data[a->len] = '\0';
	return len;
}

/* "host:port" -> "http://host:port"; a URL is kept as it is. */
static char *
base_url(const char *admin)
{
	size_t len = strlen(admin);
	char *s;

	while (len > 0 && admin[len - 1] == '/')
		len--;
	if (strncmp(admin, "http://", 7) == 0 ||
	    strncmp(admin, "https://", 8) == 0) {
		if ((s = malloc(len + 1)) == NULL)
			return NULL;
		memcpy(s, admin, len);
		s[len] = '\0';
		return s;
	}
	if ((s = malloc(len + sizeof("http://"))) == NULL)
		return NULL;
	memcpy(s, "http://", 7);
	memcpy(s + 7, admin, len);
	s[len + 7] = '\0';
	return s;
}

static int
rest_open(struct gqctl *g)
{
	struct rest *r;

	if (g->rest != NULL)
		return GQCTL_OK;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		gqctl_err("cannot initialise libcurl");
		return GQCTL_FAILED;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->base = base_url(g->admin)) == NULL ||
	    (r->curl = curl_easy_init()) == NULL) {
		if (r != NULL)
			free(r->base);
		free(r);
		curl_global_cleanup();
		gqctl_err("out of memory");
		return GQCTL_FAILED;
	}
	g->rest = r;
	return GQCTL_OK;
}

void
rest_close(struct gqctl *g)
{
	if (g->rest == NULL)
		return;
	curl_easy_cleanup(g->rest->curl);
	free(g->rest->base);
	free(g->rest);
	g->rest = NULL;
	curl_global_cleanup();
}

/* Whether curl failed before any answer arrived (exit 3) rather than on
 * something local (exit 1). */
static bool
unreachable(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

/* Say why a non-2xx answer failed, from its error document if it has
 * one. */
static int
http_error(const char *what, long status, const struct answer *a)
{
	json_t *doc = NULL;
	const char *msg = NULL;
	const char *code = NULL;
	int rv = status == 503 ? GQCTL_UNREACHABLE : GQCTL_FAILED;

	if (a->len > 0)
		doc = json_loadb(a->data, a->len, 0, NULL);
	if (json_is_object(doc)) {
		msg = rest_str(doc, "error", NULL);
		code = rest_str(doc, "code", NULL);
	}
	if (msg != NULL && code != NULL &&
	    rest_int(doc, "coordinator", -1) >= 0)
		/* 421: a group asked of a node that does not coordinate it;
		 * the admin address of the one that does is not known here,
		 * so say which broker it is. */
		gqctl_err("%s: %s (%s); its coordinator is broker %lld", what,
			  msg, code, rest_int(doc, "coordinator", -1));
	else if (msg != NULL && code != NULL)
		gqctl_err("%s: %s (%s)", what, msg, code);
	else if (msg != NULL)
		gqctl_err("%s: %s", what, msg);
	else
		gqctl_err("%s: the server answered HTTP %ld", what, status);
	json_decref(doc);
	return rv;
}

int
rest_call(struct gqctl *g, const char *what, const char *method,
	  const char *path, json_t *body, json_t **out)
{
	struct curl_slist *hdrs = NULL;
	struct answer a = { NULL, 0, 0, false };
	char errbuf[CURL_ERROR_SIZE] = "";
	json_error_t jerr;
	char *payload = NULL;
	char *url = NULL;
	CURL *c;
	CURLcode cc;
	long status = 0;
	int rv;

	if (out != NULL)
		*out = NULL;
	if ((rv = rest_open(g)) != GQCTL_OK)
		return rv;
	c = g->rest->curl;
	rv = GQCTL_FAILED;
	if ((url = malloc(strlen(g->rest->base) + strlen(path) + 1)) == NULL)
		goto oom;
	strcpy(url, g->rest->base);
	strcat(url, path);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "gqctl/" GQ_VERSION_STRING);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, g->timeout_ms);
	/* The admin port is local or near: a dead host should fail fast
	 * even when the request may take long (topic create waits for
	 * leaders). */
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 g->timeout_ms > 0 && g->timeout_ms < 10000
				 ? g->timeout_ms
				 : 10000L);
	/* A proxy from the environment would only get in the way of an
	 * admin port. */
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if ((hdrs = curl_slist_append(hdrs, "Accept: application/json")) ==
	    NULL)
		goto oom;
	if (body != NULL) {
		if ((payload = json_dumps(body, JSON_COMPACT)) == NULL)
			goto oom;
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
		if ((hdrs = curl_slist_append(
			     hdrs, "Content-Type: application/json")) == NULL)
			goto oom;
	} else if (strcmp(method, "POST") == 0) {
		/* An empty POST still needs a body length. */
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		if (a.too_big)
			gqctl_err("%s: the answer is larger than %u MiB", what,
				  MAX_ANSWER >> 20);
		else
			gqctl_err("%s: %s: %s", what, g->admin,
				  errbuf[0] != '\0' ? errbuf
						    : curl_easy_strerror(cc));
		rv = unreachable(cc) ? GQCTL_UNREACHABLE : GQCTL_FAILED;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		rv = http_error(what, status, &a);
		goto out;
	}
	rv = GQCTL_OK;
	if (out != NULL && a.len > 0) {
		*out = json_loadb(a.data, a.len, 0, &jerr);
		if (*out == NULL) {
			gqctl_err("%s: the answer is not JSON: %s", what,
				  jerr.text);
			rv = GQCTL_FAILED;
		}
	}
	goto out;
oom:
	gqctl_err("%s: out of memory", what);
out:
	curl_slist_free_all(hdrs);
	free(payload);
	free(url);
	free(a.data);
	return rv;
}

int
rest_get(struct gqctl *g, const char *what, const char *path, json_t **out)
{
	return rest_call(g, what, "GET", path, NULL, out);
}

char *
rest_escape(const char *s)
{
	char *e;
	char *copy;

	/* libcurl >= 7.82 escapes without a handle. */
	if ((e = curl_easy_escape(NULL, s, 0)) == NULL) {
		gqctl_err("out of memory");
		return NULL;
	}
	copy = strdup(e);
	curl_free(e);
	if (copy == NULL)
		gqctl_err("out of memory");
	return copy;
}

long long
rest_int(const json_t *o, const char *key, long long def)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		return (long long)json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return def;
}

const char *
rest_str(const json_t *o, const char *key, const char *def)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : def;
}

bool
rest_bool(const json_t *o, const char *key, bool def)
{
	json_t *v = json_object_get(o, key);

	return json_is_boolean(v) ? json_is_true(v) : def;
}

void
rest_ids(const json_t *a, char *buf, size_t size)
{
	size_t used = 0;
	size_t i;
	json_t *v;
	int n;

	snprintf(buf, size, "-");
	json_array_foreach((json_t *)a, i, v)
	{
		n = snprintf(buf + used, size - used, "%s%lld",
			     i > 0 ? "," : "",
			     (long long)json_integer_value(v));
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}
