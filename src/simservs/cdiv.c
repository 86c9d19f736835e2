/*
 * cdiv.c - communication-diversion XML <-> the rule model (see cdiv.h).
 *
 * Parsing walks the tree once, element by element, with a table of what
 * each parent may hold; the first problem ends the walk with its XCAP
 * error. Whitespace in values is collapsed the XML Schema way (booleans,
 * integers, URIs are trimmed), and booleans are xs:boolean (true, false,
 * 1, 0). Rendering writes every option of a rule explicitly, so the
 * document says what applies without knowing the defaults.
 *
 * Length (over 700 lines): the two directions of one mapping, kept side by
 * side so that every element the parser accepts is one the renderer
 * writes (the fuzz target checks that the rendering is a fixed point).
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* strdup, gmtime_r */
#endif
#include "simservs/cdiv.h"

#include <stdarg.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include "core/identity.h"
#include "core/rules.h"

/* ------------------------------------------------------------ views */

struct ss_cdiv ss_cdiv_of(const struct cd_subscriber *sub)
{
  struct ss_cdiv v = { sub->deactivated, sub->no_reply_timer, sub->rules, sub->n_rules };
  return v;
}

struct ss_cdiv ss_cdiv_of_own(const struct cd_own_rules *own)
{
  struct ss_cdiv v = { own->deactivated, own->no_reply_timer, own->rules, own->n_rules };
  return v;
}

/* ------------------------------------------------------------ date-time */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
  y -= m <= 2;
  long long era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (long long)doe - 719468;
}

static int digits(const char *s, int n)
{
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i]))
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

int ss_datetime_parse(const char *s, long long *out)
{
  /* YYYY-MM-DDThh:mm:ss */
  if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':')
    return -1;
  int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
  int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      sec < 0 || sec > 60)
    return -1;
  static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
    return -1;
  const char *p = s + 19;
  if (*p == '.') {
    p++;
    if (!isdigit((unsigned char)*p))
      return -1;
    while (isdigit((unsigned char)*p))
      p++;
  }
  long long offset = 0;
  if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
    offset = 0;
  } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
    int oh = digits(p + 1, 2), om = digits(p + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59)
      return -1;
    offset = (oh * 60LL + om) * 60 * (*p == '+' ? 1 : -1);
  } else {
    return -1;
  }
  *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600LL + mi * 60LL + sec - offset;
  return 0;
}

const char *ss_datetime_format(long long t, char *buf, size_t size)
{
  time_t tt = (time_t)t;
  struct tm tm;
  if (gmtime_r(&tt, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    snprintf(buf, size, "1970-01-01T00:00:00Z");
  return buf;
}

/* ------------------------------------------------------------ rendering */

struct render {
  xmlDocPtr doc;
  xmlNsPtr ss, cp, cdv;
  bool oom;
};

static xmlNodePtr child(struct render *r, xmlNodePtr parent, xmlNsPtr ns, const char *name,
                        const char *text)
{
  if (parent == NULL) {
    r->oom = true;
    return NULL;
  }
  xmlNodePtr n = xmlNewChild(parent, ns, (const xmlChar *)name, NULL);
  if (n == NULL) {
    r->oom = true;
    return NULL;
  }
  if (text != NULL)
    xmlNodeAddContent(n, (const xmlChar *)text);
  return n;
}

static void attr(struct render *r, xmlNodePtr node, const char *name, const char *value)
{
  if (node == NULL || xmlNewProp(node, (const xmlChar *)name, (const xmlChar *)value) == NULL)
    r->oom = true;
}

static xmlNsPtr cdv_ns(struct render *r)
{
  if (r->cdv == NULL && (r->cdv = xmlNewNs(xmlDocGetRootElement(r->doc), (const xmlChar *)SS_NS_CDV,
                                           (const xmlChar *)"cdv")) == NULL)
    r->oom = true;
  return r->cdv;
}

static const char *trigger_name(enum cd_service svc)
{
  switch (svc) {
  case CD_SVC_CFB: return "busy";
  case CD_SVC_CFNR: return "no-answer";
  case CD_SVC_CFNL: return "not-registered";
  case CD_SVC_CFNRC: return "not-reachable";
  case CD_SVC_CD: return "deflection";   /* cdv: */
  case CD_SVC_CFU:
  case CD_SVC_COUNT:
    break;
  }
  return NULL;
}

static void render_conditions(struct render *r, xmlNodePtr rule, const struct cd_rule *ru)
{
  xmlNodePtr c = child(r, rule, r->cp, "conditions", NULL);
  const char *trigger = trigger_name(ru->service);
  if (ru->service == CD_SVC_CD)
    child(r, c, cdv_ns(r), trigger, NULL);
  else if (trigger)
    child(r, c, r->ss, trigger, NULL);
  if (!ru->active)
    child(r, c, r->ss, "rule-deactivated", NULL);
  if (ru->n_callers > 0 || ru->anonymous == 0) {
    xmlNodePtr id = child(r, c, r->cp, "identity", NULL);
    if (ru->n_callers == 0)
      child(r, id, r->cp, "many", NULL);
    for (size_t i = 0; i < ru->n_callers; i++)
      attr(r, child(r, id, r->cp, "one", NULL), "id", ru->callers[i]);
  }
  if (ru->anonymous == 1)
    child(r, c, r->ss, "anonymous", NULL);
  if (ru->media & CD_MEDIA_AUDIO)
    child(r, c, r->ss, "media", "audio");
  if (ru->media & CD_MEDIA_VIDEO)
    child(r, c, r->ss, "media", "video");
  if (ru->n_periods > 0) {
    xmlNodePtr v = child(r, c, r->cp, "validity", NULL);
    for (size_t i = 0; i < ru->n_periods; i++) {
      char buf[32];
      child(r, v, r->cp, "from", ss_datetime_format(ru->periods[i].from, buf, sizeof buf));
      child(r, v, r->cp, "until", ss_datetime_format(ru->periods[i].until, buf, sizeof buf));
    }
  }
  if (ru->n_validity > 0) {
    xmlNodePtr w = child(r, c, cdv_ns(r), "weekly", NULL);
    for (size_t i = 0; i < ru->n_validity; i++) {
      const struct cd_validity *v = &ru->validity[i];
      char days[64], from[8], to[8];
      xmlNodePtr p = child(r, w, cdv_ns(r), "period", NULL);
      attr(r, p, "days", cd_days_format(v->days, days, sizeof days));
      snprintf(from, sizeof from, "%02d:%02d", v->from_min / 60 % 100, v->from_min % 60);
      snprintf(to, sizeof to, "%02d:%02d", v->to_min / 60 % 100, v->to_min % 60);
      attr(r, p, "from", from);
      attr(r, p, "to", to);
    }
  }
}

static void render_actions(struct render *r, xmlNodePtr rule, const struct cd_rule *ru)
{
  xmlNodePtr a = child(r, rule, r->cp, "actions", NULL);
  xmlNodePtr f = child(r, a, r->ss, "forward-to", NULL);
  if (ru->service != CD_SVC_CD)
    child(r, f, r->ss, "target", ru->target ? ru->target : "");
  child(r, f, r->ss, "notify-caller", ru->notify_caller ? "true" : "false");
  child(r, f, r->ss, "reveal-identity-to-caller", ru->reveal_identity_to_caller ? "true" : "false");
  child(r, f, r->ss, "reveal-served-user-identity-to-caller",
        ru->reveal_served_user_identity_to_caller ? "true" : "false");
  child(r, f, r->ss, "notify-served-user", ru->notify_served_user ? "true" : "false");
  child(r, f, r->ss, "reveal-identity-to-target", ru->reveal_identity_to_target ? "true" : "false");
  if (ru->no_reply_timer > 0) {
    char t[16];
    snprintf(t, sizeof t, "%d", ru->no_reply_timer);
    child(r, f, r->ss, "NoReplyTimer", t);
  }
}

xmlDocPtr ss_cdiv_render(const struct ss_cdiv *cdiv)
{
  struct render r = {0};
  if ((r.doc = xmlNewDoc((const xmlChar *)"1.0")) == NULL)
    return NULL;
  xmlNodePtr root = xmlNewDocNode(r.doc, NULL, (const xmlChar *)"simservs", NULL);
  if (root == NULL) {
    xmlFreeDoc(r.doc);
    return NULL;
  }
  xmlDocSetRootElement(r.doc, root);
  /* Prefixed, as phones expect (doc/xcap.md): ss: and cp: */
  r.ss = xmlNewNs(root, (const xmlChar *)SS_NS_SIMSERVS, (const xmlChar *)"ss");
  r.cp = xmlNewNs(root, (const xmlChar *)SS_NS_CP, (const xmlChar *)"cp");
  if (r.ss == NULL || r.cp == NULL)
    r.oom = true;
  if (cdiv->n_rules > 0) {
    bool needs_cdv = false;
    for (size_t i = 0; i < cdiv->n_rules; i++)
      if (cdiv->rules[i].service == CD_SVC_CD || cdiv->rules[i].n_validity > 0)
        needs_cdv = true;
    if (needs_cdv)
      cdv_ns(&r);
  }
  xmlSetNs(root, r.ss);
  xmlNodePtr cd = child(&r, root, r.ss, "communication-diversion", NULL);
  attr(&r, cd, "active", cdiv->deactivated ? "false" : "true");
  if (cdiv->no_reply_timer > 0) {
    char t[16];
    snprintf(t, sizeof t, "%d", cdiv->no_reply_timer);
    child(&r, cd, r.ss, "NoReplyTimer", t);
  }
  xmlNodePtr rs = child(&r, cd, r.cp, "ruleset", NULL);
  for (size_t i = 0; i < cdiv->n_rules && !r.oom; i++) {
    const struct cd_rule *ru = &cdiv->rules[i];
    xmlNodePtr rule = child(&r, rs, r.cp, "rule", NULL);
    attr(&r, rule, "id", ru->id ? ru->id : "");
    render_conditions(&r, rule, ru);
    render_actions(&r, rule, ru);
  }
  if (r.oom) {
    xmlFreeDoc(r.doc);
    return NULL;
  }
  return r.doc;
}

char *ss_cdiv_text(const struct ss_cdiv *cdiv, size_t *len, char etag[33])
{
  xmlDocPtr doc = ss_cdiv_render(cdiv);
  if (doc == NULL)
    return NULL;
  char *text = ss_xml_text(doc, len);
  xmlFreeDoc(doc);
  if (text != NULL && etag != NULL) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(text, *len, md, &n, EVP_sha256(), NULL) != 1 || n < 16) {
      free(text);
      return NULL;
    }
    for (int i = 0; i < 16; i++)
      snprintf(etag + 2 * i, 3, "%02x", md[i]);
  }
  return text;
}

/* ------------------------------------------------------------ parsing */

struct parse {
  struct ss_error *err;
  bool failed;
};

static bool fail(struct parse *P, enum ss_error_kind kind, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static bool fail(struct parse *P, enum ss_error_kind kind, const char *fmt, ...)
{
  if (!P->failed) {
    char phrase[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(phrase, sizeof phrase, fmt, ap);
    va_end(ap);
    ss_error_set(P->err, kind, "%s", phrase);
  }
  P->failed = true;
  return false;
}

/* "ss:busy", "cp:rule", "{urn:x}name": how messages name an element. */
static const char *name_of(const xmlNode *n, char *buf, size_t size)
{
  const char *href = n->ns && n->ns->href ? (const char *)n->ns->href : "";
  const char *prefix = strcmp(href, SS_NS_SIMSERVS) == 0 ? "ss:" : strcmp(href, SS_NS_CP) == 0 ? "cp:"
                       : strcmp(href, SS_NS_CDV) == 0 ? "cdv:" : NULL;
  if (prefix)
    snprintf(buf, size, "%s%.60s", prefix, (const char *)n->name);
  else if (*href)
    snprintf(buf, size, "{%.80s}%.60s", href, (const char *)n->name);
  else
    snprintf(buf, size, "%.60s", (const char *)n->name);
  return buf;
}

/* No attribute but those listed (NULL-terminated); namespaced ones never. */
static bool only_attrs(struct parse *P, const xmlNode *n, const char *const *allowed)
{
  for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
    bool ok = false;
    for (const char *const *p = allowed; p && *p && a->ns == NULL; p++)
      if (strcmp((const char *)a->name, *p) == 0)
        ok = true;
    if (!ok) {
      char b[160];
      return fail(P, SS_ERR_SCHEMA, "unexpected attribute '%.60s' on %s", (const char *)a->name,
                  name_of(n, b, sizeof b));
    }
  }
  return true;
}

/* The trimmed text content of a simple element (no element children):
 * malloc'd, or NULL after failing. */
static char *text_of(struct parse *P, const xmlNode *n)
{
  char b[160];
  for (const xmlNode *c = n->children; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE) {
      fail(P, SS_ERR_SCHEMA, "%s must hold text, not elements", name_of(n, b, sizeof b));
      return NULL;
    }
  xmlChar *t = xmlNodeGetContent(n);
  const char *s = t ? (const char *)t : "";
  while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
    s++;
  size_t len = strlen(s);
  while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n'))
    len--;
  char *out = malloc(len + 1);
  if (out == NULL) {
    fail(P, SS_ERR_TOO_LARGE, "out of memory");
  } else {
    memcpy(out, s, len);
    out[len] = '\0';
  }
  xmlFree(t);
  return out;
}

/* An element with no content (conditions such as ss:busy); its
 * attributes are checked by the caller, or here for none. */
static bool no_content(struct parse *P, const xmlNode *n)
{
  char b[160];
  for (const xmlNode *c = n->children; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE ||
        (c->type == XML_TEXT_NODE && c->content && strspn((const char *)c->content, " \t\r\n") !=
                                                        strlen((const char *)c->content)))
      return fail(P, SS_ERR_SCHEMA, "%s must be empty", name_of(n, b, sizeof b));
  return true;
}

static bool empty_elem(struct parse *P, const xmlNode *n)
{
  return only_attrs(P, n, NULL) && no_content(P, n);
}

static bool bool_value(struct parse *P, const xmlNode *n, bool *out)
{
  char b[160];
  char *t = text_of(P, n);
  if (t == NULL || !only_attrs(P, n, NULL)) {
    free(t);
    return false;
  }
  bool ok = true;
  if (strcmp(t, "true") == 0 || strcmp(t, "1") == 0)
    *out = true;
  else if (strcmp(t, "false") == 0 || strcmp(t, "0") == 0)
    *out = false;
  else
    ok = fail(P, SS_ERR_SCHEMA, "%s must be true or false, not '%.40s'", name_of(n, b, sizeof b), t);
  free(t);
  return ok;
}

static bool timer_value(struct parse *P, const xmlNode *n, int *out)
{
  char *t = text_of(P, n);
  if (t == NULL || !only_attrs(P, n, NULL)) {
    free(t);
    return false;
  }
  char *end;
  long v = strtol(t, &end, 10);
  bool ok = *t != '\0' && *end == '\0' && isdigit((unsigned char)t[0]);
  if (!ok)
    fail(P, SS_ERR_SCHEMA, "NoReplyTimer must be a number of seconds, not '%.40s'", t);
  else if (v < 5 || v > 180)
    ok = fail(P, SS_ERR_CONSTRAINT, "NoReplyTimer must be between 5 and 180 seconds, not %.20s", t);
  else
    *out = (int)v;
  free(t);
  return ok;
}

/* A URI a rule names: the model's identity syntax (sip, sips, tel). */
static char *uri_value(struct parse *P, const xmlNode *n, const char *what, bool allow_empty)
{
  char *t = text_of(P, n);
  if (t == NULL)
    return NULL;
  if (*t == '\0' && allow_empty)
    return t;
  char key[CD_IDENTITY_KEY_MAX];
  const char *why = NULL;
  if (strlen(t) > 512 || cd_identity_key(t, key, &why) < 0) {
    fail(P, SS_ERR_CONSTRAINT, "bad %s URI '%.100s': %s", what, t,
         strlen(t) > 512 ? "longer than 512 characters" : why ? why : "malformed");
    free(t);
    return NULL;
  }
  return t;
}

static void *grow(struct parse *P, void *array, size_t n, size_t size, size_t max, const char *what)
{
  if (n >= max) {
    fail(P, SS_ERR_CONSTRAINT, "more than %zu %s", max, what);
    return NULL;
  }
  void *a = realloc(array, (n + 1) * size);
  if (a == NULL)
    fail(P, SS_ERR_TOO_LARGE, "out of memory");
  return a;
}

static bool parse_identity(struct parse *P, const xmlNode *id, struct cd_rule *r, bool *many)
{
  char b[160];
  if (!only_attrs(P, id, NULL))
    return false;
  for (const xmlNode *c = id->children; c != NULL; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if (ss_is(c, SS_NS_CP, "one")) {
      static const char *const a[] = { "id", NULL };
      if (!only_attrs(P, c, a) || !no_content(P, c))
        return false;
      xmlChar *v = xmlGetNoNsProp(c, (const xmlChar *)"id");
      char key[CD_IDENTITY_KEY_MAX];
      const char *why = NULL;
      if (v == NULL || cd_identity_key((const char *)v, key, &why) < 0) {
        fail(P, SS_ERR_CONSTRAINT, "bad cp:one id '%.100s': %s", v ? (const char *)v : "",
             v ? (why ? why : "malformed") : "missing");
        xmlFree(v);
        return false;
      }
      xmlFree(v);
      char **callers = grow(P, r->callers, r->n_callers, sizeof *callers, SS_MAX_CALLERS, "callers in a rule");
      if (callers == NULL)
        return false;
      r->callers = callers;
      if ((r->callers[r->n_callers] = strdup(key)) == NULL)
        return fail(P, SS_ERR_TOO_LARGE, "out of memory");
      r->n_callers++;
    } else if (ss_is(c, SS_NS_CP, "many")) {
      if (xmlHasProp(c, (const xmlChar *)"domain"))
        return fail(P, SS_ERR_CONSTRAINT, "cp:many with a domain is not supported (list the callers with cp:one)");
      for (const xmlNode *e = c->children; e != NULL; e = e->next)
        if (e->type == XML_ELEMENT_NODE)
          return fail(P, SS_ERR_CONSTRAINT, "cp:many with exceptions is not supported");
      if (!empty_elem(P, c))
        return false;
      *many = true;
    } else if (ss_is(c, SS_NS_CP, "except")) {
      return fail(P, SS_ERR_CONSTRAINT, "cp:except is not supported");
    } else {
      return fail(P, SS_ERR_SCHEMA, "unexpected %s in cp:identity", name_of(c, b, sizeof b));
    }
  }
  return true;
}

static bool parse_validity(struct parse *P, const xmlNode *v, struct cd_rule *r)
{
  char b[160];
  long long from = 0;
  bool have_from = false;
  if (!only_attrs(P, v, NULL))
    return false;
  for (const xmlNode *c = v->children; c != NULL; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    bool is_from = ss_is(c, SS_NS_CP, "from"), is_until = ss_is(c, SS_NS_CP, "until");
    if (!is_from && !is_until)
      return fail(P, SS_ERR_SCHEMA, "unexpected %s in cp:validity", name_of(c, b, sizeof b));
    if (is_from == have_from)
      return fail(P, SS_ERR_SCHEMA, "cp:validity must hold cp:from and cp:until pairs");
    char *t = text_of(P, c);
    long long when;
    if (t == NULL || !only_attrs(P, c, NULL))
      return free(t), false;
    if (ss_datetime_parse(t, &when) < 0) {
      fail(P, SS_ERR_SCHEMA, "bad date-time '%.60s' in %s (expected e.g. 2025-06-01T08:00:00Z)", t,
           name_of(c, b, sizeof b));
      free(t);
      return false;
    }
    free(t);
    if (is_from) {
      from = when;
      have_from = true;
      continue;
    }
    have_from = false;
    if (when <= from)
      return fail(P, SS_ERR_CONSTRAINT, "a validity period must end after it starts");
    struct cd_period *p = grow(P, r->periods, r->n_periods, sizeof *p, SS_MAX_PERIODS, "validity periods");
    if (p == NULL)
      return false;
    r->periods = p;
    r->periods[r->n_periods++] = (struct cd_period){ from, when };
  }
  if (have_from || r->n_periods == 0)
    return fail(P, SS_ERR_SCHEMA, "cp:validity must hold cp:from and cp:until pairs");
  return true;
}

static bool parse_weekly(struct parse *P, const xmlNode *w, struct cd_rule *r)
{
  char b[160];
  if (!only_attrs(P, w, NULL))
    return false;
  for (const xmlNode *c = w->children; c != NULL; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    static const char *const a[] = { "days", "from", "to", NULL };
    if (!ss_is(c, SS_NS_CDV, "period"))
      return fail(P, SS_ERR_SCHEMA, "unexpected %s in cdv:weekly", name_of(c, b, sizeof b));
    if (!only_attrs(P, c, a) || !no_content(P, c))
      return false;
    struct cd_validity v = { 0x7f, 0, 24 * 60 };
    xmlChar *days = xmlGetNoNsProp(c, (const xmlChar *)"days");
    xmlChar *from = xmlGetNoNsProp(c, (const xmlChar *)"from");
    xmlChar *to = xmlGetNoNsProp(c, (const xmlChar *)"to");
    char buf[160];
    const char *why = days ? cd_days_parse((const char *)days, &v.days, buf, sizeof buf) : NULL;
    bool ok = true;
    if (why)
      ok = fail(P, SS_ERR_CONSTRAINT, "bad days '%.40s' in cdv:period: %s", (const char *)days, why);
    else if (from && (v.from_min = cd_time_parse((const char *)from, false)) < 0)
      ok = fail(P, SS_ERR_CONSTRAINT, "bad time '%.20s' in cdv:period from: expected HH:MM from 00:00 to 23:59",
                (const char *)from);
    else if (to && (v.to_min = cd_time_parse((const char *)to, true)) < 0)
      ok = fail(P, SS_ERR_CONSTRAINT, "bad time '%.20s' in cdv:period to: expected HH:MM from 00:00 to 24:00",
                (const char *)to);
    else if (v.from_min == v.to_min)
      ok = fail(P, SS_ERR_CONSTRAINT, "empty cdv:period: from and to are both %02d:%02d",
                v.from_min / 60, v.from_min % 60);
    xmlFree(days);
    xmlFree(from);
    xmlFree(to);
    if (!ok)
      return false;
    struct cd_validity *vs = grow(P, r->validity, r->n_validity, sizeof *vs, SS_MAX_PERIODS, "weekly periods");
    if (vs == NULL)
      return false;
    r->validity = vs;
    r->validity[r->n_validity++] = v;
  }
  if (r->n_validity == 0)
    return fail(P, SS_ERR_SCHEMA, "cdv:weekly must hold at least one cdv:period");
  return true;
}

struct rule_extra {
  int triggers;                 /* trigger conditions seen */
  bool many;                    /* cp:many: any identified caller */
  bool identity, media_seen, validity, weekly;
  int cond_timer;               /* ss:NoReplyTimer among the conditions */
  int action_timer;
  bool forward_to;
  bool target_written;
};

static bool parse_conditions(struct parse *P, const xmlNode *conds, struct cd_rule *r, struct rule_extra *x)
{
  char b[160];
  if (!only_attrs(P, conds, NULL))
    return false;
  for (const xmlNode *c = conds->children; c != NULL; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    enum cd_service svc = CD_SVC_CFU;
    bool trigger = true;
    if (ss_is(c, SS_NS_SIMSERVS, "busy"))
      svc = CD_SVC_CFB;
    else if (ss_is(c, SS_NS_SIMSERVS, "no-answer"))
      svc = CD_SVC_CFNR;
    else if (ss_is(c, SS_NS_SIMSERVS, "not-registered"))
      svc = CD_SVC_CFNL;
    else if (ss_is(c, SS_NS_SIMSERVS, "not-reachable"))
      svc = CD_SVC_CFNRC;
    else if (ss_is(c, SS_NS_CDV, "deflection"))
      svc = CD_SVC_CD;
    else
      trigger = false;
    if (trigger) {
      if (!empty_elem(P, c))
        return false;
      if (x->triggers++ > 0)
        return fail(P, SS_ERR_CONSTRAINT, "rule '%.64s': more than one of busy, no-answer, not-registered, "
                    "not-reachable and deflection in one rule is not supported (write one rule each)", r->id);
      r->service = svc;
    } else if (ss_is(c, SS_NS_SIMSERVS, "rule-deactivated")) {
      if (!empty_elem(P, c))
        return false;
      r->active = false;
    } else if (ss_is(c, SS_NS_CP, "identity")) {
      if (x->identity)
        return fail(P, SS_ERR_CONSTRAINT, "rule '%.64s': more than one cp:identity", r->id);
      x->identity = true;
      if (!parse_identity(P, c, r, &x->many))
        return false;
    } else if (ss_is(c, SS_NS_SIMSERVS, "anonymous")) {
      if (!empty_elem(P, c))
        return false;
      r->anonymous = 1;
    } else if (ss_is(c, SS_NS_SIMSERVS, "media")) {
      char *t = text_of(P, c);
      if (t == NULL || !only_attrs(P, c, NULL))
        return free(t), false;
      bool ok = true;
      if (strcmp(t, "audio") == 0)
        r->media |= CD_MEDIA_AUDIO;
      else if (strcmp(t, "video") == 0)
        r->media |= CD_MEDIA_VIDEO;
      else
        ok = fail(P, SS_ERR_CONSTRAINT, "media '%.40s' is not supported (audio or video)", t);
      free(t);
      if (!ok)
        return false;
    } else if (ss_is(c, SS_NS_CP, "validity")) {
      if (x->validity)
        return fail(P, SS_ERR_CONSTRAINT, "rule '%.64s': more than one cp:validity", r->id);
      x->validity = true;
      if (!parse_validity(P, c, r))
        return false;
    } else if (ss_is(c, SS_NS_CDV, "weekly")) {
      if (x->weekly)
        return fail(P, SS_ERR_CONSTRAINT, "rule '%.64s': more than one cdv:weekly", r->id);
      x->weekly = true;
      if (!parse_weekly(P, c, r))
        return false;
    } else if (ss_is(c, SS_NS_SIMSERVS, "NoReplyTimer")) {
      if (x->cond_timer)
        return fail(P, SS_ERR_SCHEMA, "rule '%.64s': more than one NoReplyTimer", r->id);
      if (!timer_value(P, c, &x->cond_timer))
        return false;
    } else if (ss_is(c, SS_NS_CP, "sphere")) {
      return fail(P, SS_ERR_CONSTRAINT, "the cp:sphere condition is not supported");
    } else {
      return fail(P, SS_ERR_CONSTRAINT, "unknown condition %s in rule '%.64s'", name_of(c, b, sizeof b), r->id);
    }
  }
  return true;
}

static bool parse_forward_to(struct parse *P, const xmlNode *f, struct cd_rule *r, struct rule_extra *x)
{
  char b[160];
  if (!only_attrs(P, f, NULL))
    return false;
  for (const xmlNode *c = f->children; c != NULL; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    bool v;
    if (ss_is(c, SS_NS_SIMSERVS, "target")) {
      if (x->target_written)
        return fail(P, SS_ERR_SCHEMA, "rule '%.64s': more than one ss:target", r->id);
      x->target_written = true;
      if (!only_attrs(P, c, NULL) || (r->target = uri_value(P, c, "target", true)) == NULL)
        return false;
    } else if (ss_is(c, SS_NS_SIMSERVS, "notify-caller")) {
      if (!bool_value(P, c, &r->notify_caller))
        return false;
    } else if (ss_is(c, SS_NS_SIMSERVS, "reveal-identity-to-caller") ||
               ss_is(c, SS_NS_SIMSERVS, "reveal-identity-to-target")) {
      bool caller = ss_is(c, SS_NS_SIMSERVS, "reveal-identity-to-caller");
      char *t = text_of(P, c);
      if (t && strcmp(t, "not-reveal-as-GRUU") == 0) {
        free(t);
        return fail(P, SS_ERR_CONSTRAINT, "%s not-reveal-as-GRUU is not supported (true or false)",
                    name_of(c, b, sizeof b));
      }
      free(t);
      if (!bool_value(P, c, caller ? &r->reveal_identity_to_caller : &r->reveal_identity_to_target))
        return false;
    } else if (ss_is(c, SS_NS_SIMSERVS, "reveal-served-user-identity-to-caller")) {
      if (!bool_value(P, c, &r->reveal_served_user_identity_to_caller))
        return false;
    } else if (ss_is(c, SS_NS_SIMSERVS, "notify-served-user")) {
      if (!bool_value(P, c, &r->notify_served_user))
        return false;
    } else if (ss_is(c, SS_NS_SIMSERVS, "notify-served-user-on-outbound-call")) {
      if (!bool_value(P, c, &v))
        return false;
      if (v)
        return fail(P, SS_ERR_CONSTRAINT, "notify-served-user-on-outbound-call true is not supported");
    } else if (ss_is(c, SS_NS_SIMSERVS, "NoReplyTimer")) {
      if (x->action_timer)
        return fail(P, SS_ERR_SCHEMA, "rule '%.64s': more than one NoReplyTimer", r->id);
      if (!timer_value(P, c, &x->action_timer))
        return false;
    } else {
      return fail(P, SS_ERR_CONSTRAINT, "unknown %s in ss:forward-to", name_of(c, b, sizeof b));
    }
  }
  return true;
}

static bool parse_actions(struct parse *P, const xmlNode *acts, struct cd_rule *r, struct rule_extra *x)
{
  char b[160];
  if (!only_attrs(P, acts, NULL))
    return false;
  for (const xmlNode *c = acts->children; c != NULL; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if (!ss_is(c, SS_NS_SIMSERVS, "forward-to"))
      return fail(P, SS_ERR_CONSTRAINT, "unknown action %s in rule '%.64s' (only ss:forward-to)",
                  name_of(c, b, sizeof b), r->id);
    if (x->forward_to)
      return fail(P, SS_ERR_CONSTRAINT, "rule '%.64s': more than one ss:forward-to", r->id);
    x->forward_to = true;
    if (!parse_forward_to(P, c, r, x))
      return false;
  }
  return true;
}

static bool valid_id(const char *id)
{
  size_t n = strlen(id);
  return n > 0 && n <= 64 &&
         strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static bool parse_rule(struct parse *P, const xmlNode *n, struct cd_rule *r)
{
  static const char *const a[] = { "id", NULL };
  char b[160];
  cd_rule_defaults(r);
  if (!only_attrs(P, n, a))
    return false;
  xmlChar *id = xmlGetNoNsProp(n, (const xmlChar *)"id");
  if (id == NULL)
    return fail(P, SS_ERR_SCHEMA, "a cp:rule without id");
  bool ok = valid_id((const char *)id);
  if (ok && (r->id = strdup((const char *)id)) == NULL)
    ok = fail(P, SS_ERR_TOO_LARGE, "out of memory");
  else if (!ok)
    fail(P, SS_ERR_CONSTRAINT, "bad rule id '%.64s': 1 to 64 letters, digits, '-', '_' or '.'", (const char *)id);
  xmlFree(id);
  if (!ok)
    return false;
  struct rule_extra x = {0};
  bool conds = false, acts = false;
  for (const xmlNode *c = n->children; c != NULL; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if (ss_is(c, SS_NS_CP, "conditions") && !conds) {
      conds = true;
      if (!parse_conditions(P, c, r, &x))
        return false;
    } else if (ss_is(c, SS_NS_CP, "actions") && !acts) {
      acts = true;
      if (!parse_actions(P, c, r, &x))
        return false;
    } else if (ss_is(c, SS_NS_CP, "transformations")) {
      for (const xmlNode *t = c->children; t != NULL; t = t->next)
        if (t->type == XML_ELEMENT_NODE)
          return fail(P, SS_ERR_CONSTRAINT, "cp:transformations are not supported");
    } else {
      return fail(P, SS_ERR_SCHEMA, "unexpected %s in cp:rule '%.64s'", name_of(c, b, sizeof b), r->id);
    }
  }
  /* What the conditions and actions mean together. */
  if (x.many && r->anonymous == 1)
    return fail(P, SS_ERR_CONSTRAINT, "rule '%.64s': cp:identity and ss:anonymous together never hold", r->id);
  if (x.many) {
    /* cp:many matches every identified caller, a cp:one beside it adds nothing */
    for (size_t i = 0; i < r->n_callers; i++)
      free(r->callers[i]);
    free(r->callers);
    r->callers = NULL;
    r->n_callers = 0;
    r->anonymous = 0;
  }
  if (x.cond_timer && x.action_timer && x.cond_timer != x.action_timer)
    return fail(P, SS_ERR_CONSTRAINT, "rule '%.64s': two different NoReplyTimer values", r->id);
  int timer = x.action_timer ? x.action_timer : x.cond_timer;
  if (timer && r->service != CD_SVC_CFNR)
    return fail(P, SS_ERR_CONSTRAINT, "rule '%.64s': NoReplyTimer is only allowed in no-answer rules", r->id);
  r->no_reply_timer = timer;
  if (r->target && *r->target == '\0') {
    free(r->target);
    r->target = NULL;
  }
  if (r->service == CD_SVC_CD) {
    free(r->target);            /* ignored: the 302 decides (cdivas.conf(5)) */
    r->target = NULL;
  } else if (r->target == NULL && r->active) {
    return fail(P, SS_ERR_CONSTRAINT, "rule '%.64s' forwards nowhere: an active rule needs a ss:target", r->id);
  }
  return true;
}

static bool parse_ruleset(struct parse *P, const xmlNode *rs, struct cd_own_rules *own)
{
  char b[160];
  if (!only_attrs(P, rs, NULL))
    return false;
  for (const xmlNode *c = rs->children; c != NULL; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if (!ss_is(c, SS_NS_CP, "rule"))
      return fail(P, SS_ERR_SCHEMA, "unexpected %s in cp:ruleset", name_of(c, b, sizeof b));
    struct cd_rule *rules = grow(P, own->rules, own->n_rules, sizeof *rules, SS_MAX_RULES, "rules");
    if (rules == NULL)
      return false;
    own->rules = rules;
    memset(&own->rules[own->n_rules], 0, sizeof *own->rules);
    own->n_rules++;
    if (!parse_rule(P, c, &own->rules[own->n_rules - 1]))
      return false;
  }
  const char *dup = cd_rules_duplicate_id(own->rules, own->n_rules);
  if (dup)
    return fail(P, SS_ERR_UNIQUENESS, "two rules with id '%.64s'", dup);
  return true;
}

static bool parse_cdiv(struct parse *P, const xmlNode *cd, struct cd_own_rules *own)
{
  static const char *const a[] = { "active", NULL };
  char b[160];
  if (!only_attrs(P, cd, a))
    return false;
  xmlChar *active = xmlGetNoNsProp(cd, (const xmlChar *)"active");
  if (active) {
    const char *v = (const char *)active;
    while (*v == ' ')
      v++;
    size_t n = strcspn(v, " ");
    bool ok = true;
    if ((n == 4 && strncmp(v, "true", 4) == 0) || (n == 1 && *v == '1'))
      own->deactivated = false;
    else if ((n == 5 && strncmp(v, "false", 5) == 0) || (n == 1 && *v == '0'))
      own->deactivated = true;
    else
      ok = fail(P, SS_ERR_SCHEMA, "active must be true or false, not '%.20s'", (const char *)active);
    xmlFree(active);
    if (!ok)
      return false;
  }
  bool timer = false, ruleset = false;
  for (const xmlNode *c = cd->children; c != NULL; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if (ss_is(c, SS_NS_SIMSERVS, "NoReplyTimer") && !timer) {
      timer = true;
      if (!timer_value(P, c, &own->no_reply_timer))
        return false;
    } else if (ss_is(c, SS_NS_CP, "ruleset") && !ruleset) {
      ruleset = true;
      if (!parse_ruleset(P, c, own))
        return false;
    } else {
      return fail(P, SS_ERR_SCHEMA, "unexpected %s in ss:communication-diversion", name_of(c, b, sizeof b));
    }
  }
  return true;
}

struct cd_own_rules *ss_cdiv_parse(const xmlNode *root, struct ss_error *err)
{
  struct parse P = { err, false };
  char b[160];
  struct cd_own_rules *own = cd_own_rules_new();
  if (own == NULL) {
    ss_error_set(err, SS_ERR_TOO_LARGE, "out of memory");
    return NULL;
  }
  if (!ss_is(root, SS_NS_SIMSERVS, "simservs")) {
    fail(&P, SS_ERR_SCHEMA, "the document element must be ss:simservs, not %s", name_of(root, b, sizeof b));
  } else if (only_attrs(&P, root, NULL)) {
    bool cdiv = false;
    for (const xmlNode *c = root->children; c != NULL && !P.failed; c = c->next) {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      if (!ss_is(c, SS_NS_SIMSERVS, "communication-diversion"))
        fail(&P, SS_ERR_CONSTRAINT, "%s: only ss:communication-diversion is served here",
             name_of(c, b, sizeof b));
      else if (cdiv)
        fail(&P, SS_ERR_SCHEMA, "more than one ss:communication-diversion");
      else
        cdiv = true, parse_cdiv(&P, c, own);
    }
  }
  if (P.failed) {
    cd_own_rules_unref(own);
    return NULL;
  }
  return own;
}

struct cd_own_rules *ss_cdiv_parse_text(const char *text, size_t len, struct ss_error *err)
{
  xmlDocPtr doc;
  xmlNodePtr root = ss_xml_parse(text, len, &doc, err);
  if (root == NULL)
    return NULL;
  struct cd_own_rules *own = ss_cdiv_parse(root, err);
  xmlFreeDoc(doc);
  return own;
}
