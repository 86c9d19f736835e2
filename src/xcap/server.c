/*
 * server.c - the XCAP server (see server.h).
 *
 * A request goes through the same steps whatever it asks:
 *   1. the URI: a simservs document of some XUI (else 404), the method
 *      (GET, PUT, DELETE, else 405);
 *   2. who asks: an asserted identity from a trusted proxy, else Digest
 *      (401 with a challenge when there is none or it fails);
 *   3. whose document: the XUI's subscriber (404), the same subscriber as
 *      the one who asks (403), allowed to change it (403);
 *   4. the document in force, rendered canonically, and its ETag:
 *      If-Match / If-None-Match (412, or 304 for a GET);
 *   5. the operation on that tree, the result read back as a whole
 *      document (409 with the XCAP error when it is not one cdivas can
 *      take), rendered again and checked to hold what was PUT (or no
 *      longer what was DELETEd);
 *   6. the new document stored and put in force (docs.h), then 200/201.
 * Every refusal is logged with who asked, from where, and why.
 *
 * Length (over 700 lines): the six steps above for three methods, in the
 * order a request meets them; the node selection itself is in
 * simservs/selector, the authentication in xcap/digest.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "xcap/server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sofia-sip/http.h>
#include <sofia-sip/http_header.h>
#include <sofia-sip/msg_header.h>
#include "core/identity.h"
#include "http/server.h"
#include "log/log.h"
#include "simservs/cdiv.h"
#include "simservs/selector.h"
#include "xcap/digest.h"
#include "xcap/uri.h"

#define CT_DOCUMENT "application/vnd.etsi.simservs+xml"
#define CT_ELEMENT "application/xcap-el+xml"
#define CT_ATTRIBUTE "application/xcap-att+xml"
#define CT_ERROR "application/xcap-error+xml"

/* A change waiting for the store. */
struct pending {
  struct pending *next, **prev;
  struct cd_xcap_service *x;
  struct cd_http_request *req;
  struct cd_docs_change *change;
  int status;                       /* when stored: 200 or 201 */
  char etag[33];                    /* of the new document */
  char what[700];                   /* for the log */
  bool in_handler, done;
  struct cd_http_reply reply;
};

struct cd_xcap_service {
  struct cd_xcap_env env;
  struct cd_http_server *server;
  unsigned char secret[CD_DIGEST_SECRET_LEN];
  struct pending *pending;
  struct cd_xcap_stats stats;
};

/* ------------------------------------------------------------ replies */

static struct cd_http_reply reply(int status, const char *phrase, const char *type, char *body, size_t len)
{
  struct cd_http_reply r = { status, phrase, type, body, len, NULL, NULL };
  return r;
}

static struct cd_http_reply text_reply(int status, const char *phrase, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static struct cd_http_reply text_reply(int status, const char *phrase, const char *fmt, ...)
{
  char buf[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  size_t n = strlen(buf);
  char *body = malloc(n + 2);
  if (body) {
    memcpy(body, buf, n);
    body[n] = '\n';
    body[n + 1] = '\0';
  }
  return reply(status, phrase, "text/plain; charset=utf-8", body, body ? n + 1 : 0);
}

static void add_header(struct cd_http_reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_header(struct cd_http_reply *r, const char *fmt, ...)
{
  char line[600];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 2, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof line - 2)
    return;
  size_t old = r->headers ? strlen(r->headers) : 0;
  char *h = realloc(r->headers, old + (size_t)n + 3);
  if (h == NULL)
    return;
  memcpy(h + old, line, (size_t)n);
  memcpy(h + old + n, "\r\n", 3);
  r->headers = h;
}

static void with_etag(struct cd_http_reply *r, const char *etag)
{
  if (etag && *etag)
    add_header(r, "ETag: \"%s\"", etag);
}

static const char *phrase_of(int status)
{
  switch (status) {
  case 200: return "OK";
  case 201: return "Created";
  case 304: return "Not Modified";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 409: return "Conflict";
  case 412: return "Precondition Failed";
  case 413: return "Payload Too Large";
  case 415: return "Unsupported Media Type";
  case 503: return "Service Unavailable";
  default: return "Internal Server Error";
  }
}

/* 409 with the XCAP error (or 413 for one too large). */
static struct cd_http_reply xcap_error(const struct ss_error *err, const char *etag)
{
  if (err->kind == SS_ERR_TOO_LARGE) {
    struct cd_http_reply r = text_reply(413, phrase_of(413), "%s", err->phrase);
    with_etag(&r, etag);
    return r;
  }
  size_t len = 0;
  char *body = ss_error_body(err, &len);
  struct cd_http_reply r = reply(409, phrase_of(409), CT_ERROR, body, len);
  with_etag(&r, etag);
  return r;
}

/* ------------------------------------------------------------ request facts */

struct request {
  struct cd_xcap_service *x;
  struct cd_http_request *req;
  http_t const *http;
  const char *method;
  struct cd_xcap_uri uri;
  struct ss_selector sel;
  bool has_sel;
  char who[CD_IDENTITY_KEY_MAX];    /* the authenticated identity, canonical */
  char how[24];                     /* "digest", "asserted identity" */
  const char *peer;
  char etag[33];
};

static const char *header_value(http_t const *http, const char *name)
{
  for (msg_header_t const *h = (msg_header_t const *)http->http_unknown; h; h = h->sh_next)
    if (h->sh_unknown->un_name && strcasecmp(h->sh_unknown->un_name, name) == 0)
      return h->sh_unknown->un_value;
  return NULL;
}

static void log_refusal(const struct request *q, int status, const char *why)
{
  cd_log(status == 401 || status == 403 ? CD_LOG_NOTICE : CD_LOG_INFO,
         "xcap: %s /%s%s%s from %s%s%s: %d %s", q->method, q->http->http_request->rq_url->url_path,
         q->http->http_request->rq_url->url_headers ? "?" : "",
         q->http->http_request->rq_url->url_headers ? q->http->http_request->rq_url->url_headers : "",
         q->peer[0] ? q->peer : "?", q->who[0] ? " as " : "", q->who, status, why);
}

static struct cd_http_reply refuse(struct request *q, int status, const char *why)
{
  log_refusal(q, status, why);
  if (status == 401 || status == 403)
    q->x->stats.auth_failures++;
  else
    q->x->stats.refused++;
  struct cd_http_reply r = text_reply(status, phrase_of(status), "%s", why);
  if (status != 401 && status != 403)
    with_etag(&r, q->etag);
  return r;
}

/* ------------------------------------------------------------ who asks */

/* The first identity of an X-3GPP-*-Identity value: "uri" or uri,
 * several separated by commas. */
static bool asserted_key(const char *value, char key[CD_IDENTITY_KEY_MAX])
{
  char buf[1024];
  while (*value == ' ' || *value == '\t')
    value++;
  size_t n;
  if (*value == '"') {
    value++;
    n = strcspn(value, "\"");
    if (value[n] != '"')
      return false;
  } else {
    n = strcspn(value, ", \t");
  }
  if (n == 0 || n >= sizeof buf)
    return false;
  memcpy(buf, value, n);
  buf[n] = '\0';
  return cd_identity_key(buf, key, NULL) == 0;
}

static bool from_trusted_proxy(const struct request *q, const struct cd_conf *conf)
{
  unsigned char addr[16];
  int family = cd_http_request_peer(q->req, addr);
  for (size_t i = 0; family && i < conf->xcap.n_trusted_proxies; i++)
    if (cd_net_contains(&conf->xcap.trusted_proxies[i], family, addr))
      return true;
  return false;
}

/* The Authorization header's parameters, or NULL when it is no Digest. */
static const char *const *digest_params(http_t const *http)
{
  msg_auth_t const *au = http->http_authorization;
  if (au == NULL || au->au_scheme == NULL || strcasecmp(au->au_scheme, "Digest") != 0)
    return NULL;
  return (const char *const *)au->au_params;
}

/* The request URI as decoded text, for Digest's uri parameter. */
static bool same_request_uri(http_t const *http, const char *digest_uri)
{
  url_t const *u = http->http_request->rq_url;
  size_t n = strlen(u->url_path ? u->url_path : "") + (u->url_headers ? strlen(u->url_headers) : 0) + 4;
  char *mine = malloc(n);
  if (mine == NULL)
    return false;
  snprintf(mine, n, "/%s%s%s", u->url_path ? u->url_path : "", u->url_headers ? "?" : "",
           u->url_headers ? u->url_headers : "");
  const char *theirs = digest_uri;
  /* an absolute URI names the same path after scheme://authority */
  const char *scheme = strstr(theirs, "://");
  if (scheme && scheme < strchr(theirs, '/') + 1) {
    const char *path = strchr(scheme + 3, '/');
    theirs = path ? path : "/";
  }
  char *a = cd_xcap_pct_decode(mine, strlen(mine)), *b = cd_xcap_pct_decode(theirs, strlen(theirs));
  bool same = a && b && strcmp(a, b) == 0;
  free(mine);
  free(a);
  free(b);
  return same;
}

/* The subscriber a Digest username names: its identity as written (or
 * with sip: added when it has no scheme). */
static const struct cd_subscriber *digest_user(const struct cd_conf *conf, const char *username)
{
  char key[CD_IDENTITY_KEY_MAX];
  if (cd_identity_key(username, key, NULL) == 0) {
    const struct cd_subscriber *s = cd_conf_find(conf, key);
    if (s)
      return s;
  }
  char with[300];
  snprintf(with, sizeof with, "sip:%s", username);
  return strchr(username, ':') == NULL && cd_identity_key(with, key, NULL) == 0 ? cd_conf_find(conf, key)
                                                                                : NULL;
}

/* 0 with q->who set, or the status to answer (*r filled). */
static int authenticate(struct request *q, const struct cd_conf *conf, struct cd_http_reply *r)
{
  unsigned auth = conf->xcap.auth;
  const char *asserted = header_value(q->http, "X-3GPP-Asserted-Identity");
  const char *intended = header_value(q->http, "X-3GPP-Intended-Identity");
  const char *claimed = asserted ? asserted : intended;
  if (claimed && (auth & CD_XCAP_AUTH_ASSERTED)) {
    if (from_trusted_proxy(q, conf)) {
      if (!asserted_key(claimed, q->who)) {
        *r = refuse(q, 403, "malformed X-3GPP identity header");
        return 403;
      }
      snprintf(q->how, sizeof q->how, "asserted identity");
      return 0;
    }
    cd_log(CD_LOG_WARNING, "xcap: %s from %s, which is not a trusted proxy: ignored",
           asserted ? "X-3GPP-Asserted-Identity" : "X-3GPP-Intended-Identity", q->peer);
  }
  if (!(auth & CD_XCAP_AUTH_DIGEST)) {
    *r = refuse(q, 403, "no identity asserted by a trusted proxy");
    return 403;
  }
  long now = (long)time(NULL);
  const char *const *params = digest_params(q->http);
  bool stale = false;
  const char *why = "credentials required";
  if (params) {
    struct cd_digest_credentials c;
    int fresh = -1;
    const struct cd_subscriber *sub = NULL;
    if (cd_digest_parse(params, &c) < 0)
      why = "malformed Digest credentials";
    else if (strcmp(c.realm, conf->xcap.realm) != 0)
      why = "wrong realm";
    else if ((fresh = cd_digest_nonce_check(q->x->secret, conf->xcap.realm, c.nonce, now)) < 0)
      why = "not our nonce";
    else if (!same_request_uri(q->http, c.uri))
      why = "the Digest uri is not the request's";
    else if ((sub = digest_user(conf, c.username)) == NULL || sub->password == NULL)
      why = sub ? "this user has no password" : "unknown user";
    else if (!cd_digest_verify(&c, q->method, sub->password))
      why = "wrong password";
    else if (fresh == 1)
      why = "stale nonce", stale = true;
    else {
      snprintf(q->who, sizeof q->who, "%s", sub->key);
      snprintf(q->how, sizeof q->how, "digest");
      return 0;
    }
    if (!stale)
      snprintf(q->who, sizeof q->who, "%.200s", c.username[0] ? c.username : "?");
  }
  if (params && !stale)
    log_refusal(q, 401, why);
  else
    cd_log(CD_LOG_DEBUG, "xcap: %s from %s: 401 (%s)", q->method, q->peer, why);
  q->who[0] = '\0';
  if (params && !stale)
    q->x->stats.auth_failures++;
  *r = text_reply(401, phrase_of(401), "%s", why);
  r->headers = cd_digest_challenge(q->x->secret, conf->xcap.realm, now, stale);
  return 401;
}

/* ------------------------------------------------------------ preconditions */

/* Whether an If-Match / If-None-Match list holds the ETag (or *). */
static bool list_matches(msg_list_t const *l, const char *etag)
{
  for (msg_param_t const *p = l ? l->k_items : NULL; p && *p; p++) {
    const char *v = *p;
    if (strcmp(v, "*") == 0)
      return true;
    if (strncmp(v, "W/", 2) == 0)
      v += 2;
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"' && n - 2 == strlen(etag) && strncmp(v + 1, etag, n - 2) == 0)
      return true;
  }
  return false;
}

/* 0, or 412 / 304. */
static int preconditions(const struct request *q, bool get)
{
  http_t const *h = q->http;
  if (h->http_if_match && !list_matches(h->http_if_match, q->etag))
    return 412;
  if (h->http_if_none_match && list_matches(h->http_if_none_match, q->etag))
    return get ? 304 : 412;
  return 0;
}

/* ------------------------------------------------------------ changes */

static void pending_free(struct pending *p)
{
  if (p->next)
    p->next->prev = p->prev;
  *p->prev = p->next;
  free(p);
}

static void on_stored(void *arg, bool ok)
{
  struct pending *p = arg;
  p->change = NULL;
  struct cd_http_reply r;
  if (ok) {
    cd_log(CD_LOG_INFO, "xcap: %s: %d", p->what, p->status);
    r = reply(p->status, phrase_of(p->status), NULL, NULL, 0);
    with_etag(&r, p->etag);
  } else {
    cd_log(CD_LOG_ERROR, "xcap: %s: the store did not take it: 503", p->what);
    r = text_reply(503, phrase_of(503), "the document could not be stored; nothing changed");
    add_header(&r, "Retry-After: 5");
  }
  if (p->in_handler) {
    p->reply = r;
    p->done = true;
    return;
  }
  cd_http_respond(p->req, r);
  pending_free(p);
}

/* Stores `own` (NULL: back to the conf's rules) for sub and answers
 * `status` with the new document's ETag once it is in force. */
static struct cd_http_reply store_change(struct request *q, const struct cd_subscriber *sub,
                                         struct cd_own_rules *own, const char *text, size_t len,
                                         const char *etag, int status)
{
  struct cd_xcap_service *x = q->x;
  struct pending *p = calloc(1, sizeof *p);
  if (p == NULL)
    return text_reply(503, phrase_of(503), "out of memory");
  p->x = x;
  p->req = q->req;
  p->status = status;
  snprintf(p->etag, sizeof p->etag, "%s", etag);
  snprintf(p->what, sizeof p->what, "%.10s %.200s%s%.200s by %.200s (%s)", q->method, sub->user,
           q->has_sel ? "/~~/" : "", q->has_sel ? q->uri.selector : "", q->who, q->how);
  p->next = x->pending;
  if (p->next)
    p->next->prev = &p->next;
  p->prev = &x->pending;
  x->pending = p;
  p->in_handler = true;
  bool busy = false;
  p->change = cd_docs_set(x->env.docs, sub->key, own, text, len, on_stored, p, &busy);
  p->in_handler = false;
  if (busy) {
    pending_free(p);
    struct cd_http_reply r = text_reply(503, phrase_of(503), "another change of this document is on its way");
    add_header(&r, "Retry-After: 1");
    return r;
  }
  if (!p->done)
    return reply(0, NULL, NULL, NULL, 0);
  struct cd_http_reply r = p->reply;
  pending_free(p);
  return r;
}

/* The tree after a PUT or DELETE, read back: the new document's rules
 * and text, checked against the selector. */
static struct cd_http_reply finish_change(struct request *q, const struct cd_subscriber *sub,
                                          xmlDocPtr doc, bool put, bool created)
{
  struct ss_error err = {0};
  struct cd_own_rules *own = ss_cdiv_parse(xmlDocGetRootElement(doc), &err);
  if (own == NULL) {
    log_refusal(q, err.kind == SS_ERR_TOO_LARGE ? 413 : 409, err.phrase);
    q->x->stats.refused++;
    return xcap_error(&err, q->etag);
  }
  struct ss_cdiv view = ss_cdiv_of_own(own);
  size_t len = 0;
  char etag[33];
  char *text = ss_cdiv_text(&view, &len, etag);
  xmlDocPtr canonical = text ? ss_cdiv_render(&view) : NULL;
  if (canonical == NULL) {
    free(text);
    cd_own_rules_unref(own);
    return text_reply(503, phrase_of(503), "out of memory");
  }
  /* RFC 4825 7.4, 7.5: a GET of the same URI now finds what was PUT,
   * and nothing after a DELETE. */
  bool selects = q->has_sel ? ss_selects(canonical, &q->sel) : true;
  xmlFreeDoc(canonical);
  if (q->has_sel && selects != put) {
    ss_error_set(&err, put ? SS_ERR_CANNOT_INSERT : SS_ERR_CANNOT_DELETE,
                 put ? "the node selector would not find what was PUT in the document that results"
                     : "the node selector would still find an element after the DELETE");
    free(text);
    cd_own_rules_unref(own);
    log_refusal(q, 409, err.phrase);
    q->x->stats.refused++;
    return xcap_error(&err, q->etag);
  }
  struct cd_http_reply r;
  if (sub->own && strcmp(etag, q->etag) == 0) {
    /* Nothing changes: the document stays as it is. */
    r = reply(200, phrase_of(200), NULL, NULL, 0);
    with_etag(&r, etag);
  } else {
    r = store_change(q, sub, own, text, len, etag, created ? 201 : 200);
  }
  free(text);
  cd_own_rules_unref(own);
  return r;
}

static bool content_type_is(http_t const *http, const char *type)
{
  return http->http_content_type && http->http_content_type->c_type &&
         strcasecmp(http->http_content_type->c_type, type) == 0;
}

static struct cd_http_reply do_get(struct request *q, xmlDocPtr doc, const char *text, size_t len)
{
  struct cd_http_reply r;
  if (!q->has_sel) {
    char *body = malloc(len + 1);
    if (body == NULL)
      return text_reply(503, phrase_of(503), "out of memory");
    memcpy(body, text, len + 1);
    r = reply(200, phrase_of(200), CT_DOCUMENT, body, len);
  } else {
    char *out = NULL;
    size_t n = 0;
    int rc = ss_get(doc, &q->sel, &out, &n);
    if (rc == 404)
      return refuse(q, 404, "no such element or attribute in the document");
    if (rc != 0)
      return text_reply(503, phrase_of(503), "out of memory");
    r = reply(200, phrase_of(200), q->sel.attribute ? CT_ATTRIBUTE : CT_ELEMENT, out, n);
  }
  q->x->stats.gets++;
  with_etag(&r, q->etag);
  return r;
}

static struct cd_http_reply do_put(struct request *q, const struct cd_subscriber *sub, xmlDocPtr doc)
{
  http_t const *h = q->http;
  const char *body = h->http_payload ? h->http_payload->pl_data : "";
  size_t len = h->http_payload ? h->http_payload->pl_len : 0;
  struct ss_error err = {0};
  const char *want = !q->has_sel ? CT_DOCUMENT : q->sel.attribute ? CT_ATTRIBUTE : CT_ELEMENT;
  if (!content_type_is(h, want)) {
    char why[160];
    snprintf(why, sizeof why, "Content-Type must be %s here", want);
    return refuse(q, 415, why);
  }
  if (len > SS_BODY_MAX)
    return refuse(q, 413, "the body is too large");
  bool created = false;
  if (!q->has_sel) {
    xmlDocPtr bdoc;
    xmlNodePtr root = ss_xml_parse(body, len, &bdoc, &err);
    if (root == NULL) {
      log_refusal(q, 409, err.phrase);
      q->x->stats.refused++;
      return xcap_error(&err, q->etag);
    }
    /* The body as the new document (its wrapper was only for parsing). */
    xmlDocPtr whole = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr copy = whole ? xmlDocCopyNode(root, whole, 1) : NULL;
    xmlFreeDoc(bdoc);
    if (copy == NULL) {
      xmlFreeDoc(whole);
      return text_reply(503, phrase_of(503), "out of memory");
    }
    xmlDocSetRootElement(whole, copy);
    struct cd_http_reply r = finish_change(q, sub, whole, true, false);
    xmlFreeDoc(whole);
    return r;
  }
  int rc;
  if (q->sel.attribute) {
    rc = ss_put_attribute(doc, &q->sel, body, len, &created, &err);
  } else {
    xmlDocPtr bdoc;
    xmlNodePtr elem = ss_xml_parse(body, len, &bdoc, &err);
    if (elem == NULL) {
      if (err.kind == SS_ERR_NOT_WELL_FORMED || err.kind == SS_ERR_NOT_XML_FRAG)
        err.kind = SS_ERR_NOT_XML_FRAG;
      log_refusal(q, 409, err.phrase);
      q->x->stats.refused++;
      return xcap_error(&err, q->etag);
    }
    rc = ss_put_element(doc, &q->sel, elem, &created, &err);
    xmlFreeDoc(bdoc);
  }
  if (rc == 409) {
    log_refusal(q, 409, err.phrase);
    q->x->stats.refused++;
    return xcap_error(&err, q->etag);
  }
  if (rc != 0)
    return text_reply(503, phrase_of(503), "out of memory");
  return finish_change(q, sub, doc, true, created);
}

static struct cd_http_reply do_delete(struct request *q, const struct cd_subscriber *sub, xmlDocPtr doc)
{
  if (!q->has_sel) {
    /* The subscriber's document goes: the conf file's rules apply again. */
    if (sub->own == NULL) {
      struct cd_http_reply r = reply(200, phrase_of(200), NULL, NULL, 0);
      with_etag(&r, q->etag);
      return r;
    }
    const struct cd_subscriber *in_conf = cd_conf_find(cd_conf_base(q->x->env.current(q->x->env.ctx)), sub->key);
    char etag[33] = "";
    size_t len;
    if (in_conf) {
      struct ss_cdiv view = ss_cdiv_of(in_conf);
      free(ss_cdiv_text(&view, &len, etag));
    }
    return store_change(q, sub, NULL, NULL, 0, etag, 200);
  }
  struct ss_error err = {0};
  int rc = ss_delete(doc, &q->sel, &err);
  if (rc == 404)
    return refuse(q, 404, "no such element or attribute in the document");
  if (rc == 409) {
    log_refusal(q, 409, err.phrase);
    q->x->stats.refused++;
    return xcap_error(&err, q->etag);
  }
  return finish_change(q, sub, doc, false, false);
}

/* ------------------------------------------------------------ dispatch */

static struct cd_http_reply handle(struct request *q)
{
  struct cd_xcap_service *x = q->x;
  http_t const *http = q->http;
  const char *why = NULL;
  url_t const *u = http->http_request->rq_url;
  http_method_t m = http->http_request->rq_method;
  struct cd_http_reply r;

  if (cd_xcap_uri_parse(u->url_path, u->url_headers, &q->uri, &why) < 0)
    return refuse(q, 404, why);
  if (m != http_method_get && m != http_method_put && m != http_method_delete) {
    r = refuse(q, 405, "use GET, PUT or DELETE");
    r.allow = "GET, PUT, DELETE";
    return r;
  }
  struct cd_conf *conf = x->env.current(x->env.ctx);
  if (authenticate(q, conf, &r) != 0)
    return r;

  char key[CD_IDENTITY_KEY_MAX];
  const struct cd_subscriber *sub = cd_identity_key(q->uri.xui, key, NULL) == 0 ? cd_conf_find(conf, key) : NULL;
  if (sub == NULL)
    return refuse(q, 404, "no such user");
  const struct cd_subscriber *me = cd_conf_find(conf, q->who);
  if (me == NULL || strcmp(me->key, sub->key) != 0)
    return refuse(q, 403, "a subscriber may only reach its own document");
  if (m != http_method_get && !sub->self_service)
    return refuse(q, 403, "self-service is off for this subscriber (self_service = false)");

  if (q->uri.selector) {
    char buf[64];
    if (ss_selector_parse(q->uri.selector, q->uri.query, &q->sel, &why, buf, sizeof buf) < 0)
      return refuse(q, 400, why);
    q->has_sel = true;
  }
  struct ss_cdiv view = ss_cdiv_of(sub);
  size_t len = 0;
  char *text = ss_cdiv_text(&view, &len, q->etag);
  xmlDocPtr doc = text ? ss_cdiv_render(&view) : NULL;
  if (doc == NULL) {
    free(text);
    return text_reply(503, phrase_of(503), "out of memory");
  }
  int pre = preconditions(q, m == http_method_get);
  if (pre == 304) {
    r = reply(304, phrase_of(304), NULL, NULL, 0);
    with_etag(&r, q->etag);
  } else if (pre == 412) {
    r = refuse(q, 412, "the document has changed (its ETag is another)");
  } else if (m == http_method_get) {
    r = do_get(q, doc, text, len);
  } else if (m == http_method_put) {
    r = do_put(q, sub, doc);
    if (r.status == 0 || r.status < 300)
      x->stats.puts++;
  } else {
    r = do_delete(q, sub, doc);
    if (r.status == 0 || r.status < 300)
      x->stats.deletes++;
  }
  xmlFreeDoc(doc);
  free(text);
  return r;
}

static struct cd_http_reply route(void *ctx, struct cd_http_request *req, http_t const *http)
{
  struct request q = { .x = ctx, .req = req, .http = http };
  q.method = http->http_request->rq_method_name ? http->http_request->rq_method_name : "?";
  q.peer = cd_http_request_peer_text(req);
  struct cd_http_reply r = handle(&q);
  cd_xcap_uri_free(&q.uri);
  if (q.has_sel)
    ss_selector_free(&q.sel);
  OPENSSL_cleanse(&q.who, sizeof q.who);
  return r;
}

/* ------------------------------------------------------------ start, stop */

struct cd_xcap_service *cd_xcap_start(su_root_t *root, const struct cd_conf *conf,
                                      const struct cd_xcap_env *env)
{
  const struct cd_xcap_conf *c = &conf->xcap;
  struct cd_xcap_service *x = calloc(1, sizeof *x);
  if (x == NULL)
    return NULL;
  x->env = *env;
  if (RAND_bytes(x->secret, sizeof x->secret) != 1) {
    cd_log(CD_LOG_ERROR, "xcap: no random bytes for the Digest nonces");
    free(x);
    return NULL;
  }
  ss_xml_init();
  struct cd_http_listen listen = {
    .url = c->listen, .host = c->host, .port = c->port, .tls = c->tls,
    .certificate = c->tls_certificate, .key = c->tls_key, .client_ca = c->tls_client_ca,
    .max_body = SS_BODY_MAX,
  };
  if ((x->server = cd_http_server_start(root, &listen, route, x)) == NULL) {
    cd_xcap_destroy(x);
    return NULL;
  }
  cd_log(CD_LOG_NOTICE, "xcap: simservs documents on %s (auth:%s%s)", c->listen,
         c->auth & CD_XCAP_AUTH_DIGEST ? " digest" : "", c->auth & CD_XCAP_AUTH_ASSERTED ? " asserted-identity" : "");
  return x;
}

void cd_xcap_destroy(struct cd_xcap_service *x)
{
  if (x == NULL)
    return;
  while (x->pending) {
    struct pending *p = x->pending;
    cd_docs_cancel(p->change);
    cd_http_respond(p->req, text_reply(503, phrase_of(503), "shutting down"));
    pending_free(p);
  }
  cd_http_server_destroy(x->server);
  OPENSSL_cleanse(x->secret, sizeof x->secret);
  free(x);
}

void cd_xcap_stats(const struct cd_xcap_service *x, struct cd_xcap_stats *out)
{
  memset(out, 0, sizeof *out);
  if (x)
    *out = x->stats;
}
