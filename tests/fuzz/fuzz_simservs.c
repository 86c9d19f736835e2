/*
 * fuzz_simservs.c - libFuzzer target for the XML path of the XCAP server
 * (src/simservs): the safe reading of client XML, the simservs document
 * <-> rule model mapping, and node selectors with GET, PUT and DELETE.
 *
 * The first byte chooses what the rest is:
 *   0: a whole document (a PUT of simservs.xml, a stored document)
 *   1: a node selector, then '\n', then a query: applied (GET, DELETE) to
 *      a sample document
 *   2: an element body PUT at one of the selectors phones use
 * Invariants (abort() when broken):
 *   - a document that is accepted renders to a text that is accepted
 *     again and renders to the same text (the canonical form is a fixed
 *     point) with the same ETag;
 *   - whatever an operation leaves is either refused with an XCAP error
 *     of a known kind or is a document whose rendering is accepted;
 *   - no input is accepted beyond SS_BODY_MAX bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "simservs/cdiv.h"
#include "simservs/selector.h"

static void check_canonical(const struct cd_own_rules *own)
{
  struct ss_cdiv v = ss_cdiv_of_own(own);
  size_t len1 = 0, len2 = 0;
  char e1[33], e2[33];
  char *t1 = ss_cdiv_text(&v, &len1, e1);
  if (t1 == NULL)
    return;                     /* out of memory */
  struct ss_error err = {0};
  struct cd_own_rules *again = ss_cdiv_parse_text(t1, len1, &err);
  if (again == NULL)
    abort();                    /* our own rendering refused */
  struct ss_cdiv w = ss_cdiv_of_own(again);
  char *t2 = ss_cdiv_text(&w, &len2, e2);
  if (t2 && (len1 != len2 || memcmp(t1, t2, len1) != 0 || strcmp(e1, e2) != 0))
    abort();
  free(t1);
  free(t2);
  cd_own_rules_unref(again);
}

static void after_operation(xmlDocPtr doc)
{
  struct ss_error err = {0};
  struct cd_own_rules *own = ss_cdiv_parse(xmlDocGetRootElement(doc), &err);
  if (own == NULL) {
    if (err.kind == SS_ERR_NONE)
      abort();
    return;
  }
  check_canonical(own);
  cd_own_rules_unref(own);
}

static xmlDocPtr sample(void)
{
  static char *callers[] = { "sip:alice@ims.example.net" };
  static struct cd_rule rules[2];
  memset(rules, 0, sizeof rules);
  for (int i = 0; i < 2; i++) {
    rules[i].anonymous = -1;
    rules[i].active = rules[i].notify_caller = rules[i].reveal_identity_to_caller = true;
    rules[i].reveal_served_user_identity_to_caller = rules[i].reveal_identity_to_target = true;
  }
  rules[0].id = "call-diversion-unconditional";
  rules[0].service = CD_SVC_CFU;
  rules[0].target = "sip:carol@ims.example.net";
  rules[0].callers = callers;
  rules[0].n_callers = 1;
  rules[1].id = "call-diversion-no-reply";
  rules[1].service = CD_SVC_CFNR;
  rules[1].target = "tel:+15551000003";
  rules[1].no_reply_timer = 20;
  struct ss_cdiv v = { false, 25, rules, 2 };
  return ss_cdiv_render(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  ss_xml_init();
  const char *body = (const char *)data + 1;
  size_t len = size - 1;
  struct ss_error err = {0};
  if (data[0] % 3 == 0) {
    struct cd_own_rules *own = ss_cdiv_parse_text(body, len, &err);
    if (own) {
      if (len > SS_BODY_MAX)
        abort();
      check_canonical(own);
      cd_own_rules_unref(own);
    } else if (err.kind == SS_ERR_NONE) {
      abort();
    }
    return 0;
  }
  xmlDocPtr doc = sample();
  if (doc == NULL)
    return 0;
  if (data[0] % 3 == 1) {
    /* selector '\n' query, as strings */
    char *s = malloc(len + 1);
    if (s == NULL) {
      xmlFreeDoc(doc);
      return 0;
    }
    memcpy(s, body, len);
    s[len] = '\0';
    char *nl = memchr(s, '\n', len);
    const char *query = NULL;
    if (nl) {
      *nl = '\0';
      query = nl + 1;
    }
    struct ss_selector sel;
    const char *why = NULL;
    char buf[64];
    if (strlen(s) == len - (nl ? strlen(query) + 1 : 0) &&
        ss_selector_parse(s, query, &sel, &why, buf, sizeof buf) == 0) {
      char *out = NULL;
      size_t n = 0;
      if (ss_get(doc, &sel, &out, &n) == 0 && (out == NULL || strlen(out) != n))
        abort();
      free(out);
      if (ss_delete(doc, &sel, &err) == 0)
        after_operation(doc);
      ss_selector_free(&sel);
    }
    free(s);
    xmlFreeDoc(doc);
    return 0;
  }
  static const char *const selectors[] = {
    "simservs/communication-diversion/cp:ruleset/cp:rule[@id=\"call-diversion-unconditional\"]",
    "simservs/communication-diversion/cp:ruleset/cp:rule[@id=\"call-diversion-busy\"]",
    "simservs/communication-diversion/cp:ruleset/cp:rule[2]",
    "simservs/communication-diversion/NoReplyTimer",
    "simservs/communication-diversion",
    "simservs/communication-diversion/cp:ruleset/cp:rule[1]/cp:conditions",
  };
  struct ss_selector sel;
  const char *why = NULL;
  char buf[64];
  if (ss_selector_parse(selectors[(data[0] / 3) % 6], NULL, &sel, &why, buf, sizeof buf) == 0) {
    xmlDocPtr bdoc;
    xmlNodePtr elem = ss_xml_parse(body, len, &bdoc, &err);
    bool created;
    if (elem) {
      if (ss_put_element(doc, &sel, elem, &created, &err) == 0)
        after_operation(doc);
      xmlFreeDoc(bdoc);
    }
    ss_selector_free(&sel);
  }
  xmlFreeDoc(doc);
  return 0;
}
