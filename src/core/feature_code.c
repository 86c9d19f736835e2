/*
 * feature_code.c - call forwarding feature codes (see feature_code.h).
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* strdup */
#endif
#include "core/feature_code.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/identity.h"

#define ALL_SERVICES ((1u << CD_SVC_CFU) | (1u << CD_SVC_CFB) | (1u << CD_SVC_CFNR) | \
                      (1u << CD_SVC_CFNRC) | (1u << CD_SVC_CFNL))
#define CONDITIONAL (ALL_SERVICES & ~(1u << CD_SVC_CFU))

static const struct { const char *code; unsigned services; } service_codes[] = {
  { "21", 1u << CD_SVC_CFU }, { "67", 1u << CD_SVC_CFB }, { "61", 1u << CD_SVC_CFNR },
  { "62", 1u << CD_SVC_CFNRC }, { "63", 1u << CD_SVC_CFNL },
  { "002", ALL_SERVICES }, { "004", CONDITIONAL },
};

const char *cd_feature_service_name(enum cd_service svc)
{
  switch (svc) {
  case CD_SVC_CFU: return "call forwarding unconditional";
  case CD_SVC_CFB: return "call forwarding on busy";
  case CD_SVC_CFNR: return "call forwarding on no reply";
  case CD_SVC_CFNRC: return "call forwarding on not reachable";
  case CD_SVC_CFNL: return "call forwarding on not logged-in";
  case CD_SVC_CD: return "communication deflection";
  case CD_SVC_COUNT: break;
  }
  return "call forwarding";
}

/* ------------------------------------------------------------ parsing */

struct ruri {
  char dial[128];               /* the dial string, decoded */
  bool tel;
  char context[200];            /* tel: phone-context; sip: the host */
};

static int hexval(char c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes s[0..n) into out; false on a bad escape or when it does not fit. */
static bool decode(const char *s, size_t n, char *out, size_t size)
{
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= n)
        return false;
      int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
      if (h < 0 || l < 0 || (h == 0 && l == 0))
        return false;
      c = (char)(h * 16 + l);
      i += 2;
    }
    if (k + 1 >= size)
      return false;
    out[k++] = c;
  }
  out[k] = '\0';
  return true;
}

/* The dial string and its context, from sip:user@host;... or tel:number;... */
static bool split_uri(const char *uri, struct ruri *r)
{
  memset(r, 0, sizeof *r);
  while (*uri == ' ' || *uri == '<')
    uri++;
  if (strncasecmp(uri, "tel:", 4) == 0) {
    r->tel = true;
    const char *num = uri + 4;
    size_t n = strcspn(num, ";>");
    if (!decode(num, n, r->dial, sizeof r->dial))
      return false;
    for (const char *p = num + n; *p == ';';) {
      p++;
      size_t pn = strcspn(p, ";>");
      if (pn > 14 && strncasecmp(p, "phone-context=", 14) == 0)
        decode(p + 14, pn - 14, r->context, sizeof r->context);
      p += pn;
    }
    return true;
  }
  const char *user;
  if (strncasecmp(uri, "sip:", 4) == 0)
    user = uri + 4;
  else if (strncasecmp(uri, "sips:", 5) == 0)
    user = uri + 5;
  else
    return false;
  const char *at = strchr(user, '@');
  if (at == NULL)
    return false;
  size_t un = strcspn(user, ";@:");  /* the user part may hold ;params before @ */
  if (user + un > at)
    un = (size_t)(at - user);
  if (!decode(user, un, r->dial, sizeof r->dial))
    return false;
  const char *host = at + 1;
  size_t hn = strcspn(host, ":;>?");
  if (hn >= sizeof r->context)
    return false;
  memcpy(r->context, host, hn);
  r->context[hn] = '\0';
  return true;
}

/* DN: [+]digits, 1 to 32 digits. */
static bool number(const char *s, size_t n)
{
  size_t i = s[0] == '+' ? 1 : 0;
  if (n <= i || n - i > 32)
    return false;
  for (; i < n; i++)
    if (!isdigit((unsigned char)s[i]))
      return false;
  return true;
}

static bool target_uri(const char *dn, size_t n, const struct ruri *r, char *out, size_t size)
{
  int w;
  if (dn[0] == '+')
    w = snprintf(out, size, "tel:%.*s", (int)n, dn);
  else if (r->tel && r->context[0])
    w = snprintf(out, size, "tel:%.*s;phone-context=%s", (int)n, dn, r->context);
  else if (r->tel)
    w = snprintf(out, size, "tel:%.*s", (int)n, dn);
  else
    w = snprintf(out, size, "sip:%.*s@%s;user=phone", (int)n, dn, r->context);
  char key[CD_IDENTITY_KEY_MAX];
  return w > 0 && (size_t)w < size && cd_identity_key(out, key, NULL) == 0;
}

int cd_feature_code_parse(const char *request_uri, struct cd_feature_code *fc, const char **why)
{
  struct ruri r;
  memset(fc, 0, sizeof *fc);
  if (request_uri == NULL || !split_uri(request_uri, &r))
    return 0;
  const char *s = r.dial;
  if (s[0] != '*' && s[0] != '#')
    return 0;
  size_t len = strlen(s);
  if (len < 3 || s[len - 1] != '#') {
    *why = "a feature code ends with #";
    return -1;
  }
  /* the procedure */
  size_t i;
  if (strncmp(s, "*#", 2) == 0)
    fc->action = CD_FC_INTERROGATE, i = 2;
  else if (strncmp(s, "**", 2) == 0)
    fc->action = CD_FC_REGISTER, i = 2;
  else if (strncmp(s, "##", 2) == 0)
    fc->action = CD_FC_ERASE, i = 2;
  else if (s[0] == '#')
    fc->action = CD_FC_DEACTIVATE, i = 1;
  else
    fc->action = CD_FC_ACTIVATE, i = 1;
  /* SC, then up to three *-separated fields before the final # */
  size_t sc = i;
  while (i < len && isdigit((unsigned char)s[i]))
    i++;
  size_t scn = i - sc;
  bool known = false;
  for (size_t k = 0; k < sizeof service_codes / sizeof service_codes[0]; k++)
    if (strlen(service_codes[k].code) == scn && strncmp(s + sc, service_codes[k].code, scn) == 0) {
      fc->services = service_codes[k].services;
      memcpy(fc->code, s + sc, scn);
      known = true;
    }
  if (!known) {
    *why = "not a call forwarding code (21, 67, 61, 62, 63, 002, 004)";
    return -1;
  }
  const char *field[4] = { NULL };
  size_t flen[4] = { 0 }, nf = 0;
  while (i < len - 1) {
    if (s[i] != '*' || nf == 3) {
      *why = "malformed feature code";
      return -1;
    }
    i++;
    field[nf] = s + i;
    while (i < len - 1 && s[i] != '*')
      i++;
    flen[nf] = (size_t)(s + i - field[nf]);
    nf++;
  }
  if (i != len - 1) {
    *why = "malformed feature code";
    return -1;
  }
  if (fc->action == CD_FC_INTERROGATE || fc->action == CD_FC_DEACTIVATE || fc->action == CD_FC_ERASE) {
    if (nf > 0) {
      *why = "this procedure takes no number";
      return -1;
    }
    return 1;
  }
  if (nf == 0) {
    if (fc->action == CD_FC_REGISTER) {
      *why = "registration needs a number: **SC*number#";
      return -1;
    }
    return 1;                   /* *SC#: activation */
  }
  fc->action = CD_FC_REGISTER;
  if (!number(field[0], flen[0]) || !target_uri(field[0], flen[0], &r, fc->target, sizeof fc->target)) {
    *why = "not a number to forward to";
    return -1;
  }
  /* *61*DN*T#, *61*DN**T#; a basic service group is not supported */
  const char *timer = NULL;
  size_t tn = 0;
  if (nf == 2 && strcmp(fc->code, "61") == 0) {
    timer = field[1], tn = flen[1];
  } else if (nf == 3 && strcmp(fc->code, "61") == 0 && flen[1] == 0) {
    timer = field[2], tn = flen[2];
  } else if (nf >= 2) {
    *why = "basic service groups are not supported (dial *SC*number#)";
    return -1;
  }
  if (timer) {
    int t = 0;
    for (size_t k = 0; k < tn && t <= 1000; k++)
      t = isdigit((unsigned char)timer[k]) ? t * 10 + (timer[k] - '0') : 10000;
    if (tn == 0 || t < 5 || t > 180) {
      *why = "the no-reply time must be 5 to 180 seconds";
      return -1;
    }
    fc->timer = t;
  }
  return 1;
}

/* ------------------------------------------------------------ applying */

/* The rules of `sub` as a new rule set (refs 1), or NULL. */
static struct cd_own_rules *copy_of(const struct cd_subscriber *sub)
{
  struct cd_own_rules *own = cd_own_rules_new();
  if (own == NULL)
    return NULL;
  own->deactivated = sub->deactivated;
  own->no_reply_timer = sub->no_reply_timer;
  if (sub->n_rules > 0 && (own->rules = calloc(sub->n_rules, sizeof *own->rules)) == NULL) {
    cd_own_rules_unref(own);
    return NULL;
  }
  for (size_t i = 0; i < sub->n_rules; i++) {
    if (cd_rule_copy(&own->rules[i], &sub->rules[i]) < 0) {
      cd_own_rules_unref(own);
      return NULL;
    }
    own->n_rules++;
  }
  return own;
}

/* The service's rule of the default id, made unconditional, to target. */
static bool register_rule(struct cd_own_rules *own, enum cd_service svc, const char *target, int timer)
{
  char id[64];
  cd_rule_default_id(svc, 1, id, sizeof id);
  struct cd_rule *r = NULL;
  for (size_t i = 0; i < own->n_rules && !r; i++)
    if (own->rules[i].service == svc && own->rules[i].id && strcmp(own->rules[i].id, id) == 0)
      r = &own->rules[i];
  if (r == NULL) {
    struct cd_rule *g = realloc(own->rules, (own->n_rules + 1) * sizeof *g);
    if (g == NULL)
      return false;
    own->rules = g;
    r = &own->rules[own->n_rules++];
    memset(r, 0, sizeof *r);
    r->service = svc;
    r->notify_caller = r->reveal_identity_to_caller = true;
    r->reveal_served_user_identity_to_caller = r->reveal_identity_to_target = true;
    /* its id: the default one, or the next free when another service took it */
    if (cd_rules_assign_ids(own->rules, own->n_rules) < 0)
      return false;
  }
  char *t = strdup(target);
  if (t == NULL)
    return false;
  free(r->target);
  r->target = t;
  for (size_t i = 0; i < r->n_callers; i++)
    free(r->callers[i]);
  free(r->callers);
  r->callers = NULL;
  r->n_callers = 0;
  r->anonymous = -1;
  r->media = 0;
  free(r->validity);
  r->validity = NULL;
  r->n_validity = 0;
  free(r->periods);
  r->periods = NULL;
  r->n_periods = 0;
  r->active = true;
  if (svc == CD_SVC_CFNR && timer)
    r->no_reply_timer = timer;
  if (svc != CD_SVC_CFNR)
    r->no_reply_timer = 0;
  return true;
}

static size_t add(char *text, size_t size, size_t k, const char *fmt, const char *a, const char *b)
{
  if (k < size) {
    int n = snprintf(text + k, size - k, fmt, a, b);
    if (n > 0)
      k += (size_t)n;
  }
  return k;
}

/* "call forwarding on busy", or "all call forwarding" for 002. */
static const char *what(const struct cd_feature_code *fc, char *buf, size_t size)
{
  if (strcmp(fc->code, "002") == 0)
    return "all call forwarding";
  if (strcmp(fc->code, "004") == 0)
    return "all conditional call forwarding";
  for (int s = 0; s < CD_SVC_COUNT; s++)
    if (fc->services == 1u << s)
      return cd_feature_service_name((enum cd_service)s);
  snprintf(buf, size, "call forwarding");
  return buf;
}

static void interrogate(const struct cd_feature_code *fc, const struct cd_subscriber *sub, char *text, size_t size)
{
  size_t k = 0;
  text[0] = '\0';
  for (int s = 0; s < CD_SVC_COUNT; s++) {
    if (!(fc->services & (1u << s)))
      continue;
    const char *target = NULL;
    int timer = 0;
    size_t on = 0;
    for (size_t i = 0; i < sub->n_rules; i++) {
      const struct cd_rule *r = &sub->rules[i];
      if ((int)r->service == s && r->active && !sub->deactivated) {
        if (on++ == 0)
          target = r->target, timer = r->no_reply_timer;
      }
    }
    if (k)
      k = add(text, size, k, "%s%s", "; ", "");
    k = add(text, size, k, "%s is %s", cd_feature_service_name((enum cd_service)s), on ? "on" : "off");
    if (on && target)
      k = add(text, size, k, " to %s%s", target, on > 1 ? " (and more rules)" : "");
    if (on && timer) {
      char t[24];
      snprintf(t, sizeof t, "%d s", timer);
      k = add(text, size, k, " after %s%s", t, "");
    }
  }
}

int cd_feature_code_apply(const struct cd_feature_code *fc, const struct cd_subscriber *sub,
                          struct cd_own_rules **out, char *text, size_t size)
{
  char buf[64];
  *out = NULL;
  if (fc->action == CD_FC_INTERROGATE) {
    interrogate(fc, sub, text, size);
    return 0;
  }
  struct cd_own_rules *own = copy_of(sub);
  if (own == NULL) {
    snprintf(text, size, "out of memory");
    return -1;
  }
  const char *name = what(fc, buf, sizeof buf);
  size_t touched = 0;
  switch (fc->action) {
  case CD_FC_REGISTER:
    for (int s = 0; s < CD_SVC_COUNT; s++)
      if ((fc->services & (1u << s)) && !register_rule(own, (enum cd_service)s, fc->target, fc->timer)) {
        cd_own_rules_unref(own);
        snprintf(text, size, "out of memory");
        return -1;
      }
    own->deactivated = false;
    if (fc->timer)
      snprintf(text, size, "%s on to %s after %d s", name, fc->target, fc->timer);
    else
      snprintf(text, size, "%s on to %s", name, fc->target);
    break;
  case CD_FC_ACTIVATE:
    for (size_t i = 0; i < own->n_rules; i++)
      if ((fc->services & (1u << own->rules[i].service)) && own->rules[i].target) {
        own->rules[i].active = true;
        touched++;
      }
    if (touched == 0) {
      snprintf(text, size, "%s: no number registered (dial *%s*number#)", name, fc->code);
      cd_own_rules_unref(own);
      return -1;
    }
    own->deactivated = false;
    snprintf(text, size, "%s on", name);
    break;
  case CD_FC_DEACTIVATE:
    for (size_t i = 0; i < own->n_rules; i++)
      if (fc->services & (1u << own->rules[i].service))
        own->rules[i].active = false;
    snprintf(text, size, "%s off", name);
    break;
  case CD_FC_ERASE: {
    size_t w = 0;
    for (size_t i = 0; i < own->n_rules; i++) {
      if (fc->services & (1u << own->rules[i].service))
        cd_rule_free(&own->rules[i]);
      else
        own->rules[w++] = own->rules[i];
    }
    own->n_rules = w;
    snprintf(text, size, "%s erased", name);
    break;
  }
  case CD_FC_INTERROGATE:
    break;
  }
  *out = own;
  return 0;
}
