/*
 * Unit tests for the simservs mapping (src/simservs/cdiv.c), the safe XML
 * reading (xml.c) and XCAP node selectors (selector.c): every condition and
 * action both ways, round trips, what is refused and with which XCAP
 * error, and hostile XML (billion laughs, external entities, deep
 * nesting, huge documents, bad UTF-8) refused cleanly.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/rules.h"
#include "simservs/cdiv.h"
#include "simservs/selector.h"

#define SS "xmlns:ss=\"" SS_NS_SIMSERVS "\" xmlns:cp=\"" SS_NS_CP "\""

/* ------------------------------------------------------------ helpers */

static struct cd_own_rules *parse_ok(const char *xml)
{
  struct ss_error err = {0};
  struct cd_own_rules *own = ss_cdiv_parse_text(xml, strlen(xml), &err);
  ck_assert_msg(own != NULL, "refused (%d): %s\n%s", err.kind, err.phrase, xml);
  return own;
}

/* Refused with `kind`, the phrase containing `part`. */
static void parse_refused(const char *xml, enum ss_error_kind kind, const char *part)
{
  struct ss_error err = {0};
  struct cd_own_rules *own = ss_cdiv_parse_text(xml, strlen(xml), &err);
  ck_assert_msg(own == NULL, "accepted: %s", xml);
  ck_assert_msg(err.kind == kind, "kind %d (expected %d): %s", err.kind, kind, err.phrase);
  ck_assert_msg(strstr(err.phrase, part) != NULL, "phrase '%s' lacks '%s'", err.phrase, part);
}

/* A document of one rule with these conditions and forward-to content. */
static const char *doc1(const char *conds, const char *fwd)
{
  static char buf[8192];
  snprintf(buf, sizeof buf,
           "<ss:simservs " SS "><ss:communication-diversion active=\"true\"><cp:ruleset>"
           "<cp:rule id=\"r1\"><cp:conditions>%s</cp:conditions>"
           "<cp:actions><ss:forward-to>%s</ss:forward-to></cp:actions></cp:rule>"
           "</cp:ruleset></ss:communication-diversion></ss:simservs>", conds, fwd);
  return buf;
}

#define TARGET "<ss:target>tel:+4930123</ss:target>"

static char *text_of(const struct ss_cdiv *v, char etag[33])
{
  size_t len;
  char *t = ss_cdiv_text(v, &len, etag);
  ck_assert_ptr_nonnull(t);
  ck_assert_uint_eq(strlen(t), len);
  return t;
}

static void same_rule(const struct cd_rule *a, const struct cd_rule *b)
{
  ck_assert_str_eq(a->id, b->id);
  ck_assert_int_eq(a->service, b->service);
  if (a->target == NULL || b->target == NULL)
    ck_assert_ptr_eq(a->target, b->target);
  else
    ck_assert_str_eq(a->target, b->target);
  ck_assert_uint_eq(a->n_callers, b->n_callers);
  for (size_t i = 0; i < a->n_callers; i++)
    ck_assert_str_eq(a->callers[i], b->callers[i]);
  /* anonymous = false beside callers says nothing more: callers are never anonymous */
  int an_a = a->n_callers && a->anonymous == 0 ? -1 : a->anonymous;
  int an_b = b->n_callers && b->anonymous == 0 ? -1 : b->anonymous;
  ck_assert_int_eq(an_a, an_b);
  ck_assert_uint_eq(a->media, b->media);
  ck_assert_uint_eq(a->n_validity, b->n_validity);
  for (size_t i = 0; i < a->n_validity; i++) {
    ck_assert_uint_eq(a->validity[i].days, b->validity[i].days);
    ck_assert_int_eq(a->validity[i].from_min, b->validity[i].from_min);
    ck_assert_int_eq(a->validity[i].to_min, b->validity[i].to_min);
  }
  ck_assert_uint_eq(a->n_periods, b->n_periods);
  for (size_t i = 0; i < a->n_periods; i++) {
    ck_assert_int_eq(a->periods[i].from, b->periods[i].from);
    ck_assert_int_eq(a->periods[i].until, b->periods[i].until);
  }
  ck_assert_int_eq(a->active, b->active);
  ck_assert_int_eq(a->no_reply_timer, b->no_reply_timer);
  ck_assert_int_eq(a->notify_caller, b->notify_caller);
  ck_assert_int_eq(a->reveal_identity_to_caller, b->reveal_identity_to_caller);
  ck_assert_int_eq(a->reveal_served_user_identity_to_caller, b->reveal_served_user_identity_to_caller);
  ck_assert_int_eq(a->reveal_identity_to_target, b->reveal_identity_to_target);
  ck_assert_int_eq(a->notify_served_user, b->notify_served_user);
}

/* model -> XML -> model gives the same rules, and XML -> model -> XML
 * the same text. */
static void round_trip(const struct ss_cdiv *v)
{
  char etag1[33], etag2[33];
  char *t1 = text_of(v, etag1);
  struct cd_own_rules *own = parse_ok(t1);
  ck_assert_int_eq(own->deactivated, v->deactivated);
  ck_assert_int_eq(own->no_reply_timer, v->no_reply_timer);
  ck_assert_uint_eq(own->n_rules, v->n_rules);
  for (size_t i = 0; i < v->n_rules; i++)
    same_rule(&own->rules[i], &v->rules[i]);
  struct ss_cdiv again = ss_cdiv_of_own(own);
  char *t2 = text_of(&again, etag2);
  ck_assert_str_eq(t1, t2);
  ck_assert_str_eq(etag1, etag2);
  free(t1);
  free(t2);
  cd_own_rules_unref(own);
}

static struct cd_rule base_rule(const char *id, enum cd_service svc, const char *target)
{
  struct cd_rule r = {0};
  r.id = (char *)id;
  r.service = svc;
  r.target = (char *)target;
  r.anonymous = -1;
  r.active = true;
  r.notify_caller = true;
  r.reveal_identity_to_caller = true;
  r.reveal_served_user_identity_to_caller = true;
  r.reveal_identity_to_target = true;
  return r;
}

/* ------------------------------------------------------------ model -> XML -> model */

START_TEST(every_service_round_trips)
{
  struct cd_rule rules[] = {
    base_rule("call-diversion-unconditional", CD_SVC_CFU, "sip:carol@ims.example.net"),
    base_rule("call-diversion-busy", CD_SVC_CFB, "tel:+15551000003"),
    base_rule("call-diversion-no-reply", CD_SVC_CFNR, "sip:voicemail@ims.example.net"),
    base_rule("call-diversion-not-logged-in", CD_SVC_CFNL, "tel:+15551000010"),
    base_rule("call-deflection", CD_SVC_CD, NULL),
    base_rule("call-diversion-not-reachable", CD_SVC_CFNRC, "sip:voicemail@ims.example.net"),
  };
  rules[2].no_reply_timer = 15;
  struct ss_cdiv v = { false, 30, rules, 6 };
  round_trip(&v);
  v.deactivated = true;
  v.no_reply_timer = 0;
  round_trip(&v);
  struct ss_cdiv empty = { false, 0, NULL, 0 };
  round_trip(&empty);
  char *t = text_of(&empty, NULL);
  ck_assert_ptr_nonnull(strstr(t, "<cp:ruleset/>"));      /* there to insert rules into */
  ck_assert_ptr_nonnull(strstr(t, "active=\"true\""));
  free(t);
}
END_TEST

START_TEST(every_condition_and_action_round_trips)
{
  char *callers[] = { "sip:alice@ims.example.net", "tel:+15551000001" };
  struct cd_validity weekly[] = { { 0x1f, 8 * 60 + 30, 18 * 60 }, { 0x10, 22 * 60, 6 * 60 },
                                  { 0x60, 0, 24 * 60 } };
  struct cd_period periods[] = { { 1750000000, 1750086400 }, { 1760000000, 1760003600 } };
  struct cd_rule rules[8];
  rules[0] = base_rule("callers", CD_SVC_CFU, "sip:carol@ims.example.net");
  rules[0].callers = callers;
  rules[0].n_callers = 2;
  rules[1] = base_rule("anon", CD_SVC_CFB, "tel:+1");
  rules[1].anonymous = 1;
  rules[2] = base_rule("identified", CD_SVC_CFB, "tel:+2");
  rules[2].anonymous = 0;
  rules[3] = base_rule("media", CD_SVC_CFNR, "tel:+3");
  rules[3].media = CD_MEDIA_AUDIO | CD_MEDIA_VIDEO;
  rules[3].no_reply_timer = 180;
  rules[4] = base_rule("times", CD_SVC_CFNL, "tel:+4");
  rules[4].validity = weekly;
  rules[4].n_validity = 3;
  rules[4].periods = periods;
  rules[4].n_periods = 2;
  rules[5] = base_rule("options", CD_SVC_CFNRC, "tel:+5");
  rules[5].notify_caller = false;
  rules[5].reveal_identity_to_caller = false;
  rules[5].reveal_served_user_identity_to_caller = false;
  rules[5].reveal_identity_to_target = false;
  rules[5].notify_served_user = true;
  rules[6] = base_rule("off", CD_SVC_CFU, NULL);          /* erased the way phones do */
  rules[6].active = false;
  rules[7] = base_rule("cd-alice", CD_SVC_CD, NULL);
  rules[7].callers = callers;
  rules[7].n_callers = 1;
  rules[7].active = false;
  struct ss_cdiv v = { false, 0, rules, 8 };
  round_trip(&v);

  char *t = text_of(&v, NULL);
  static const char *const parts[] = {
    "<cp:identity>", "<cp:one id=\"sip:alice@ims.example.net\"/>", "<ss:anonymous/>", "<cp:many/>",
    "<ss:media>audio</ss:media>", "<ss:media>video</ss:media>", "<ss:busy/>", "<ss:no-answer/>",
    "<ss:not-registered/>", "<ss:not-reachable/>", "<cdv:deflection/>", "<ss:rule-deactivated/>",
    "<cp:from>2025-06-15T15:06:40Z</cp:from>", "<cp:until>2025-06-16T15:06:40Z</cp:until>",
    "<cdv:period days=\"mon-fri\" from=\"08:30\" to=\"18:00\"/>",
    "<cdv:period days=\"fri\" from=\"22:00\" to=\"06:00\"/>",
    "<cdv:period days=\"sat-sun\" from=\"00:00\" to=\"24:00\"/>",
    "<ss:NoReplyTimer>180</ss:NoReplyTimer>", "<ss:notify-caller>false</ss:notify-caller>",
    "<ss:reveal-identity-to-caller>false</ss:reveal-identity-to-caller>",
    "<ss:reveal-served-user-identity-to-caller>false</ss:reveal-served-user-identity-to-caller>",
    "<ss:notify-served-user>true</ss:notify-served-user>",
    "<ss:reveal-identity-to-target>false</ss:reveal-identity-to-target>",
    "xmlns:cdv=\"" SS_NS_CDV "\"", "<ss:simservs xmlns:ss=\"" SS_NS_SIMSERVS "\"",
  };
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    ck_assert_msg(strstr(t, parts[i]) != NULL, "no %s in\n%s", parts[i], t);
  free(t);
}
END_TEST

START_TEST(etag_follows_the_document)
{
  struct cd_rule r = base_rule("a", CD_SVC_CFU, "tel:+1");
  struct ss_cdiv v = { false, 0, &r, 1 };
  char e1[33], e2[33], e3[33];
  free(text_of(&v, e1));
  free(text_of(&v, e2));
  ck_assert_str_eq(e1, e2);
  ck_assert_uint_eq(strlen(e1), 32);
  r.target = "tel:+2";
  free(text_of(&v, e3));
  ck_assert_str_ne(e1, e3);
}
END_TEST

/* ------------------------------------------------------------ XML -> model */

START_TEST(each_condition_maps)
{
  struct { const char *cond; enum cd_service svc; } triggers[] = {
    { "", CD_SVC_CFU }, { "<ss:busy/>", CD_SVC_CFB }, { "<ss:no-answer/>", CD_SVC_CFNR },
    { "<ss:not-registered/>", CD_SVC_CFNL }, { "<ss:not-reachable/>", CD_SVC_CFNRC },
    { "<cdv:deflection xmlns:cdv=\"" SS_NS_CDV "\"/>", CD_SVC_CD },
  };
  for (size_t i = 0; i < sizeof triggers / sizeof triggers[0]; i++) {
    struct cd_own_rules *own = parse_ok(doc1(triggers[i].cond, TARGET));
    ck_assert_int_eq(own->rules[0].service, triggers[i].svc);
    ck_assert(own->rules[0].active);
    if (triggers[i].svc == CD_SVC_CD)
      ck_assert_ptr_null(own->rules[0].target);          /* the 302 decides */
    else
      ck_assert_str_eq(own->rules[0].target, "tel:+4930123");
    cd_own_rules_unref(own);
  }
  struct cd_own_rules *own = parse_ok(doc1("<ss:rule-deactivated/><ss:media>video</ss:media>"
                                           "<cp:identity><cp:one id=\"sip:Alice@IMS.example.net:5060\"/>"
                                           "<cp:one id=\"tel:+1-555-100-0001\"/></cp:identity>", TARGET));
  const struct cd_rule *r = &own->rules[0];
  ck_assert(!r->active);
  ck_assert_uint_eq(r->media, CD_MEDIA_VIDEO);
  ck_assert_uint_eq(r->n_callers, 2);
  ck_assert_str_eq(r->callers[0], "sip:Alice@ims.example.net");   /* canonical keys */
  ck_assert_str_eq(r->callers[1], "tel:+15551000001");
  cd_own_rules_unref(own);
  own = parse_ok(doc1("<ss:anonymous/>", TARGET));
  ck_assert_int_eq(own->rules[0].anonymous, 1);
  cd_own_rules_unref(own);
  own = parse_ok(doc1("<cp:identity><cp:one id=\"sip:a@x\"/><cp:many/></cp:identity>", TARGET));
  ck_assert_int_eq(own->rules[0].anonymous, 0);            /* any identified caller */
  ck_assert_uint_eq(own->rules[0].n_callers, 0);
  cd_own_rules_unref(own);
  own = parse_ok(doc1("<cp:validity><cp:from>2025-06-01T08:00:00+02:00</cp:from>"
                      "<cp:until>2025-06-01T10:00:00.5Z</cp:until></cp:validity>", TARGET));
  ck_assert_uint_eq(own->rules[0].n_periods, 1);
  ck_assert_int_eq(own->rules[0].periods[0].from, 1748757600);
  ck_assert_int_eq(own->rules[0].periods[0].until, 1748772000);
  cd_own_rules_unref(own);
}
END_TEST

START_TEST(each_action_maps)
{
  struct cd_own_rules *own = parse_ok(doc1("<ss:no-answer/>",
      "<ss:target> sip:carol@ims.example.net </ss:target><ss:notify-caller>0</ss:notify-caller>"
      "<ss:reveal-identity-to-caller>false</ss:reveal-identity-to-caller>"
      "<ss:reveal-served-user-identity-to-caller>false</ss:reveal-served-user-identity-to-caller>"
      "<ss:notify-served-user>true</ss:notify-served-user>"
      "<ss:notify-served-user-on-outbound-call>false</ss:notify-served-user-on-outbound-call>"
      "<ss:reveal-identity-to-target>false</ss:reveal-identity-to-target>"
      "<ss:NoReplyTimer> 25 </ss:NoReplyTimer>"));
  const struct cd_rule *r = &own->rules[0];
  ck_assert_str_eq(r->target, "sip:carol@ims.example.net");
  ck_assert(!r->notify_caller);
  ck_assert(!r->reveal_identity_to_caller);
  ck_assert(!r->reveal_served_user_identity_to_caller);
  ck_assert(r->notify_served_user);
  ck_assert(!r->reveal_identity_to_target);
  ck_assert_int_eq(r->no_reply_timer, 25);
  cd_own_rules_unref(own);
  /* the defaults when nothing is said */
  own = parse_ok(doc1("", TARGET));
  r = &own->rules[0];
  ck_assert(r->notify_caller && r->reveal_identity_to_caller && r->reveal_served_user_identity_to_caller &&
            r->reveal_identity_to_target && !r->notify_served_user);
  ck_assert_int_eq(r->anonymous, -1);
  ck_assert_int_eq(r->no_reply_timer, 0);
  cd_own_rules_unref(own);
}
END_TEST

/* What an Android phone GETs and PUTs (AOSP ImsStack's fixture), the
 * NoReplyTimer among the conditions; and the same without any namespace
 * declaration, as a namespace-unaware client cuts it out. */
START_TEST(phone_documents)
{
  static const char *const rule =
    "<cp:rule id=\"call-diversion-no-reply\">"
    "<cp:conditions><ss:rule-deactivated/><ss:NoReplyTimer>20</ss:NoReplyTimer><ss:no-answer/></cp:conditions>"
    "<cp:actions><ss:forward-to><ss:target>tel:+1234567890</ss:target>"
    "<ss:notify-caller>true</ss:notify-caller><ss:reveal-identity-to-caller>true</ss:reveal-identity-to-caller>"
    "<ss:reveal-served-user-identity-to-caller>false</ss:reveal-served-user-identity-to-caller>"
    "<ss:reveal-identity-to-target>false</ss:reveal-identity-to-target></ss:forward-to></cp:actions></cp:rule>";
  char with[4096], without[4096];
  snprintf(with, sizeof with, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ss:simservs " SS ">"
           "<ss:communication-diversion active=\"true\"><cp:ruleset>%s</cp:ruleset>"
           "</ss:communication-diversion></ss:simservs>", rule);
  snprintf(without, sizeof without, "<ss:simservs><ss:communication-diversion active=\"true\">"
           "<cp:ruleset>%s</cp:ruleset></ss:communication-diversion></ss:simservs>", rule);
  const char *docs[] = { with, without };
  for (int i = 0; i < 2; i++) {
    struct cd_own_rules *own = parse_ok(docs[i]);
    ck_assert_uint_eq(own->n_rules, 1);
    const struct cd_rule *r = &own->rules[0];
    ck_assert_str_eq(r->id, "call-diversion-no-reply");
    ck_assert_int_eq(r->service, CD_SVC_CFNR);
    ck_assert(!r->active);
    ck_assert_int_eq(r->no_reply_timer, 20);
    ck_assert(!r->reveal_served_user_identity_to_caller);
    cd_own_rules_unref(own);
  }
  /* an unprefixed document in the simservs default namespace */
  struct cd_own_rules *own = parse_ok("<simservs xmlns=\"" SS_NS_SIMSERVS "\">"
                                      "<communication-diversion active=\"false\"><NoReplyTimer>40</NoReplyTimer>"
                                      "</communication-diversion></simservs>");
  ck_assert(own->deactivated);
  ck_assert_int_eq(own->no_reply_timer, 40);
  ck_assert_uint_eq(own->n_rules, 0);
  cd_own_rules_unref(own);
  /* a rule erased the phone's way: deactivated, empty target */
  own = parse_ok(doc1("<ss:rule-deactivated/>", "<ss:target/>"));
  ck_assert_ptr_null(own->rules[0].target);
  cd_own_rules_unref(own);
}
END_TEST

START_TEST(what_the_model_cannot_say_is_refused)
{
  parse_refused(doc1("<ss:busy/><ss:no-answer/>", TARGET), SS_ERR_CONSTRAINT, "more than one of busy");
  parse_refused(doc1("<ss:external-list/>", TARGET), SS_ERR_CONSTRAINT, "unknown condition ss:external-list");
  parse_refused(doc1("<x:foo xmlns:x=\"urn:x\"/>", TARGET), SS_ERR_CONSTRAINT, "unknown condition {urn:x}foo");
  parse_refused(doc1("<ss:media>message</ss:media>", TARGET), SS_ERR_CONSTRAINT, "media 'message'");
  parse_refused(doc1("<cp:identity><cp:many domain=\"x.net\"/></cp:identity>", TARGET), SS_ERR_CONSTRAINT,
                "domain");
  parse_refused(doc1("<cp:identity><cp:many><cp:except id=\"sip:a@x\"/></cp:many></cp:identity>", TARGET),
                SS_ERR_CONSTRAINT, "exceptions");
  parse_refused(doc1("<cp:identity><cp:many/></cp:identity><ss:anonymous/>", TARGET), SS_ERR_CONSTRAINT,
                "never hold");
  parse_refused(doc1("<cp:sphere value=\"work\"/>", TARGET), SS_ERR_CONSTRAINT, "sphere");
  parse_refused(doc1("", "<ss:target>http://example.net/</ss:target>"), SS_ERR_CONSTRAINT, "bad target URI");
  parse_refused(doc1("", "<ss:target>sip:</ss:target>"), SS_ERR_CONSTRAINT, "bad target URI 'sip:'");
  parse_refused(doc1("", ""), SS_ERR_CONSTRAINT, "needs a ss:target");
  parse_refused(doc1("", "<ss:target/>"), SS_ERR_CONSTRAINT, "needs a ss:target");
  parse_refused(doc1("<ss:no-answer/>", TARGET "<ss:NoReplyTimer>200</ss:NoReplyTimer>"), SS_ERR_CONSTRAINT,
                "between 5 and 180 seconds, not 200");
  parse_refused(doc1("<ss:no-answer/>", TARGET "<ss:NoReplyTimer>4</ss:NoReplyTimer>"), SS_ERR_CONSTRAINT,
                "not 4");
  parse_refused(doc1("<ss:no-answer/>", TARGET "<ss:NoReplyTimer>soon</ss:NoReplyTimer>"), SS_ERR_SCHEMA,
                "number of seconds");
  parse_refused(doc1("<ss:busy/>", TARGET "<ss:NoReplyTimer>20</ss:NoReplyTimer>"), SS_ERR_CONSTRAINT,
                "only allowed in no-answer rules");
  parse_refused(doc1("<ss:no-answer/><ss:NoReplyTimer>20</ss:NoReplyTimer>",
                     TARGET "<ss:NoReplyTimer>30</ss:NoReplyTimer>"), SS_ERR_CONSTRAINT, "two different");
  parse_refused(doc1("", TARGET "<ss:notify-caller>yes</ss:notify-caller>"), SS_ERR_SCHEMA, "true or false");
  parse_refused(doc1("", TARGET "<ss:reveal-identity-to-caller>not-reveal-as-GRUU</ss:reveal-identity-to-caller>"),
                SS_ERR_CONSTRAINT, "not-reveal-as-GRUU");
  parse_refused(doc1("", TARGET "<ss:notify-served-user-on-outbound-call>true</ss:notify-served-user-on-outbound-call>"),
                SS_ERR_CONSTRAINT, "on-outbound-call");
  parse_refused(doc1("", TARGET "<ss:colour>blue</ss:colour>"), SS_ERR_CONSTRAINT, "unknown ss:colour");
  parse_refused(doc1("<cp:validity><cp:from>2025-06-01</cp:from><cp:until>2025-06-02T00:00:00Z</cp:until>"
                     "</cp:validity>", TARGET), SS_ERR_SCHEMA, "bad date-time");
  parse_refused(doc1("<cp:validity><cp:from>2025-06-02T00:00:00Z</cp:from><cp:until>2025-06-01T00:00:00Z"
                     "</cp:until></cp:validity>", TARGET), SS_ERR_CONSTRAINT, "end after it starts");
  parse_refused(doc1("<cp:validity><cp:from>2025-06-02T00:00:00Z</cp:from></cp:validity>", TARGET),
                SS_ERR_SCHEMA, "pairs");
  parse_refused(doc1("<cdv:weekly xmlns:cdv=\"" SS_NS_CDV "\"><cdv:period days=\"mon-sat-sun\"/></cdv:weekly>",
                     TARGET), SS_ERR_CONSTRAINT, "bad days");
  parse_refused(doc1("<cdv:weekly xmlns:cdv=\"" SS_NS_CDV "\"><cdv:period from=\"8:00\"/></cdv:weekly>",
                     TARGET), SS_ERR_CONSTRAINT, "bad time '8:00'");
  parse_refused(doc1("<ss:busy foo=\"1\"/>", TARGET), SS_ERR_SCHEMA, "unexpected attribute 'foo'");
  parse_refused(doc1("<ss:busy>now</ss:busy>", TARGET), SS_ERR_SCHEMA, "must be empty");
  /* document level */
  parse_refused("<ss:simservs " SS "><ss:communication-diversion/><ss:originating-identity-presentation/>"
                "</ss:simservs>", SS_ERR_CONSTRAINT, "only ss:communication-diversion");
  parse_refused("<ss:communication-diversion " SS "/>", SS_ERR_SCHEMA, "must be ss:simservs");
  parse_refused("<ss:simservs " SS "><ss:communication-diversion active=\"maybe\"/></ss:simservs>",
                SS_ERR_SCHEMA, "active must be true or false");
  parse_refused("<ss:simservs " SS "><ss:communication-diversion><ss:NoReplyTimer>181</ss:NoReplyTimer>"
                "</ss:communication-diversion></ss:simservs>", SS_ERR_CONSTRAINT, "not 181");
  parse_refused("<ss:simservs " SS "><ss:communication-diversion><cp:ruleset><cp:rule>"
                "<cp:actions/></cp:rule></cp:ruleset></ss:communication-diversion></ss:simservs>",
                SS_ERR_SCHEMA, "without id");
  parse_refused("<ss:simservs " SS "><ss:communication-diversion><cp:ruleset>"
                "<cp:rule id=\"a\"><cp:actions><ss:forward-to>" TARGET "</ss:forward-to></cp:actions></cp:rule>"
                "<cp:rule id=\"a\"><cp:actions><ss:forward-to>" TARGET "</ss:forward-to></cp:actions></cp:rule>"
                "</cp:ruleset></ss:communication-diversion></ss:simservs>", SS_ERR_UNIQUENESS, "'a'");
  parse_refused("<ss:simservs " SS "><ss:communication-diversion><cp:ruleset>"
                "<cp:rule id=\"a b\"/></cp:ruleset></ss:communication-diversion></ss:simservs>",
                SS_ERR_CONSTRAINT, "bad rule id");
  parse_refused("<ss:simservs " SS "><ss:communication-diversion><cp:ruleset><cp:rule id=\"a\">"
                "<cp:actions><ss:allow>false</ss:allow></cp:actions></cp:rule></cp:ruleset>"
                "</ss:communication-diversion></ss:simservs>", SS_ERR_CONSTRAINT, "only ss:forward-to");
  parse_refused("<ss:simservs " SS "><ss:communication-diversion><cp:ruleset><cp:rule id=\"a\">"
                "<cp:transformations><x/></cp:transformations></cp:rule></cp:ruleset>"
                "</ss:communication-diversion></ss:simservs>", SS_ERR_CONSTRAINT, "transformations");
}
END_TEST

/* ------------------------------------------------------------ hostile XML */

START_TEST(hostile_xml_is_refused_cleanly)
{
  parse_refused("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
                "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
                "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
                "<ss:simservs " SS ">&lol3;</ss:simservs>", SS_ERR_NOT_WELL_FORMED, "not well-formed");
  parse_refused("<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><ss:simservs " SS ">&xxe;</ss:simservs>",
                SS_ERR_NOT_WELL_FORMED, "not well-formed");
  parse_refused("<ss:simservs " SS ">&xxe;</ss:simservs>", SS_ERR_NOT_WELL_FORMED, "not well-formed");
  parse_refused("<!DOCTYPE x SYSTEM \"http://example.net/x.dtd\"><ss:simservs " SS "/>",
                SS_ERR_NOT_WELL_FORMED, "not well-formed");
  parse_refused("<ss:simservs " SS "><xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" "
                "href=\"file:///etc/passwd\"/></ss:simservs>", SS_ERR_CONSTRAINT, "only ss:communication-diversion");
  /* deep nesting: 5000 levels, and 40 (past our limit, within libxml2's) */
  size_t cap = 5000 * 8 + 64;
  char *deep = malloc(cap), *p = deep;
  for (int i = 0; i < 5000; i++)
    p += sprintf(p, "<a>");
  for (int i = 0; i < 5000; i++)
    p += sprintf(p, "</a>");
  struct ss_error err = {0};
  ck_assert_ptr_null(ss_cdiv_parse_text(deep, strlen(deep), &err));
  ck_assert_int_eq(err.kind, SS_ERR_NOT_WELL_FORMED);
  p = deep;
  for (int i = 0; i < 40; i++)
    p += sprintf(p, "<a>");
  for (int i = 0; i < 40; i++)
    p += sprintf(p, "</a>");
  parse_refused(deep, SS_ERR_TOO_LARGE, "levels");
  free(deep);
  /* huge: past SS_BODY_MAX */
  size_t n = SS_BODY_MAX + 100;
  char *huge = malloc(n + 1);
  memset(huge, ' ', n);
  memcpy(huge, "<ss:simservs " SS ">", strlen("<ss:simservs " SS ">"));
  memcpy(huge + n - 14, "</ss:simservs>", 14);
  huge[n] = '\0';
  parse_refused(huge, SS_ERR_TOO_LARGE, "larger than");
  free(huge);
  /* many nodes within the size */
  char *wide = malloc(SS_BODY_MAX);
  p = wide + sprintf(wide, "<ss:simservs " SS ">");
  while ((size_t)(p - wide) < SS_BODY_MAX - 100)
    p += sprintf(p, "<a/>");
  sprintf(p, "</ss:simservs>");
  parse_refused(wide, SS_ERR_TOO_LARGE, "nodes");
  free(wide);
  parse_refused("<ss:simservs " SS ">\xff\xfe</ss:simservs>", SS_ERR_NOT_UTF8, "not UTF-8");
  parse_refused("<ss:simservs " SS ">\xc0\xaf</ss:simservs>", SS_ERR_NOT_UTF8, "not UTF-8");     /* overlong */
  parse_refused("<ss:simservs " SS ">\xed\xa0\x80</ss:simservs>", SS_ERR_NOT_UTF8, "not UTF-8"); /* surrogate */
  parse_refused("<ss:simservs " SS ">\xe2\x82</ss:simservs>", SS_ERR_NOT_UTF8, "not UTF-8");     /* cut off */
  parse_refused("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><ss:simservs " SS "/>", SS_ERR_NOT_UTF8,
                "encoding other than UTF-8");
  parse_refused("<?xml version=\"1.0\"", SS_ERR_NOT_WELL_FORMED, "unterminated");
  parse_refused("<ss:simservs " SS "/><ss:simservs " SS "/>", SS_ERR_NOT_XML_FRAG, "exactly one");
  parse_refused("hello", SS_ERR_NOT_XML_FRAG, "exactly one");
  parse_refused("", SS_ERR_NOT_XML_FRAG, "exactly one");
  parse_refused("</cdivas-wrap><ss:simservs " SS "/><cdivas-wrap>", SS_ERR_NOT_WELL_FORMED, "not well-formed");
  parse_refused("<ss:simservs " SS "><unclosed></ss:simservs>", SS_ERR_NOT_WELL_FORMED, "line 1");
  parse_refused("<ss:simservs " SS "><zz:x/></ss:simservs>", SS_ERR_NOT_WELL_FORMED, "not well-formed");
  /* a NUL inside */
  struct ss_error e2 = {0};
  ck_assert_ptr_null(ss_cdiv_parse_text("<a>\0</a>", 8, &e2));
  ck_assert_int_eq(e2.kind, SS_ERR_NOT_UTF8);
}
END_TEST

START_TEST(xcap_error_body)
{
  struct ss_error err = {0};
  ss_error_set(&err, SS_ERR_CONSTRAINT, "bad <target> \"x\" & y");
  ss_error_set(&err, SS_ERR_SCHEMA, "ignored: the first error stays");
  size_t len;
  char *body = ss_error_body(&err, &len);
  ck_assert_str_eq(body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<xcap-error xmlns=\"urn:ietf:params:xml:ns:xcap-error\">\n"
                         "  <constraint-failure phrase=\"bad &lt;target&gt; &quot;x&quot; &amp; y\"/>\n"
                         "</xcap-error>\n");
  ck_assert_uint_eq(len, strlen(body));
  free(body);
  struct ss_error u = { SS_ERR_UNIQUENESS, "x" };
  body = ss_error_body(&u, &len);
  ck_assert_ptr_nonnull(strstr(body, "<uniqueness-failure phrase=\"x\"/>"));
  free(body);
}
END_TEST

START_TEST(datetimes)
{
  long long t;
  char buf[32];
  ck_assert_int_eq(ss_datetime_parse("1970-01-01T00:00:00Z", &t), 0);
  ck_assert_int_eq(t, 0);
  ck_assert_int_eq(ss_datetime_parse("2024-02-29T23:59:59-01:30", &t), 0);
  ck_assert_int_eq(t, 1709256599);
  ck_assert_str_eq(ss_datetime_format(t, buf, sizeof buf), "2024-03-01T01:29:59Z");
  ck_assert_int_eq(ss_datetime_parse("2023-02-29T00:00:00Z", &t), -1);
  ck_assert_int_eq(ss_datetime_parse("2023-13-01T00:00:00Z", &t), -1);
  ck_assert_int_eq(ss_datetime_parse("2023-01-01T00:00:00", &t), -1);
  ck_assert_int_eq(ss_datetime_parse("2023-01-01T00:00:00+1:00", &t), -1);
  ck_assert_int_eq(ss_datetime_parse("1969-12-31T23:59:59Z", &t), -1);
  ck_assert_int_eq(ss_datetime_parse("2023-01-01T00:00:00.Z", &t), -1);
}
END_TEST

/* ------------------------------------------------------------ node selectors */

static struct ss_selector sel_ok(const char *s, const char *q)
{
  struct ss_selector sel;
  const char *why = NULL;
  char buf[64];
  ck_assert_msg(ss_selector_parse(s, q, &sel, &why, buf, sizeof buf) == 0, "%s: %s", s, why);
  return sel;
}

static void sel_bad(const char *s, const char *q, const char *part)
{
  struct ss_selector sel;
  const char *why = NULL;
  char buf[64];
  ck_assert_msg(ss_selector_parse(s, q, &sel, &why, buf, sizeof buf) < 0, "accepted %s", s);
  ck_assert_msg(strstr(why, part) != NULL, "%s: '%s' lacks '%s'", s, why, part);
}

START_TEST(selector_syntax)
{
  struct ss_selector s = sel_ok("simservs/communication-diversion/cp:ruleset/cp:rule[@id=\"a/b]\"]", NULL);
  ck_assert_uint_eq(s.n_steps, 4);
  ck_assert_str_eq(s.steps[0].ns, SS_NS_SIMSERVS);
  ck_assert_str_eq(s.steps[1].name, "communication-diversion");
  ck_assert_str_eq(s.steps[2].ns, SS_NS_CP);
  ck_assert_str_eq(s.steps[3].attr_name, "id");
  ck_assert_str_eq(s.steps[3].attr_value, "a/b]");
  ck_assert_ptr_null(s.attribute);
  ss_selector_free(&s);
  s = sel_ok("ss:simservs/*/p:ruleset/p:rule[2][@id='x']", "xmlns(p=" SS_NS_CP ")xmlns(ss=" SS_NS_SIMSERVS ")");
  ck_assert_ptr_null(s.steps[1].name);
  ck_assert_str_eq(s.steps[2].ns, SS_NS_CP);
  ck_assert_int_eq(s.steps[3].position, 2);
  ck_assert_str_eq(s.steps[3].attr_value, "x");
  ss_selector_free(&s);
  /* a query may rebind cp to another namespace */
  s = sel_ok("simservs/cp:x", "xmlns(cp=urn:other)");
  ck_assert_str_eq(s.steps[1].ns, "urn:other");
  ss_selector_free(&s);
  s = sel_ok("simservs/communication-diversion/@active", NULL);
  ck_assert_uint_eq(s.n_steps, 2);
  ck_assert_str_eq(s.attribute, "active");
  ss_selector_free(&s);
  sel_bad("", NULL, "empty");
  sel_bad("simservs//x", NULL, "empty step");
  sel_bad("simservs/", NULL, "ends with /");
  sel_bad("simservs/q:x", NULL, "bound to no namespace");
  sel_bad("simservs/cp:rule[0]", NULL, "bad position");
  sel_bad("simservs/cp:rule[@id=x]", NULL, "quoted");
  sel_bad("simservs/cp:rule[@id=\"x]", NULL, "unterminated");
  sel_bad("simservs/cp:rule[@id=\"x\"][2]", NULL, "bad predicate");
  sel_bad("simservs/cp:rule[last()]", NULL, "bad predicate");
  sel_bad("simservs/@active/x", NULL, "last step");
  sel_bad("@active", NULL, "starts with an element");
  sel_bad("simservs/namespace::*", NULL, "namespace selectors");
  sel_bad("simservs/1x", NULL, "bad name");
  sel_bad("simservs", "xpointer(/)", "only bind namespaces");
  sel_bad("simservs", "xmlns(p)", "expected xmlns");
}
END_TEST

static xmlDocPtr sample_doc(void)
{
  static char *callers[] = { "sip:alice@ims.example.net" };
  static struct cd_rule rules[3];
  rules[0] = base_rule("call-diversion-unconditional", CD_SVC_CFU, "sip:carol@ims.example.net");
  rules[0].callers = callers;
  rules[0].n_callers = 1;
  rules[1] = base_rule("call-diversion-busy", CD_SVC_CFB, "tel:+15551000003");
  rules[2] = base_rule("call-diversion-no-reply", CD_SVC_CFNR, "tel:+15551000004");
  struct ss_cdiv v = { false, 20, rules, 3 };
  xmlDocPtr doc = ss_cdiv_render(&v);
  ck_assert_ptr_nonnull(doc);
  return doc;
}

static char *get(xmlDocPtr doc, const char *s, const char *q, int want)
{
  struct ss_selector sel = sel_ok(s, q);
  char *out = NULL;
  size_t len = 0;
  int rc = ss_get(doc, &sel, &out, &len);
  ss_selector_free(&sel);
  ck_assert_msg(rc == want, "GET %s: %d, expected %d", s, rc, want);
  if (out)
    ck_assert_uint_eq(strlen(out), len);
  return out;
}

START_TEST(selector_get)
{
  xmlDocPtr doc = sample_doc();
  char *t = get(doc, "simservs/communication-diversion", NULL, 0);
  ck_assert_msg(strncmp(t, "<ss:communication-diversion xmlns:ss=", 37) == 0, "%s", t);
  ck_assert_ptr_nonnull(strstr(t, "xmlns:cp=\"" SS_NS_CP "\""));
  ck_assert_ptr_nonnull(strstr(t, "<ss:NoReplyTimer>20</ss:NoReplyTimer>"));
  free(t);
  t = get(doc, "simservs/communication-diversion/cp:ruleset", NULL, 0);
  ck_assert_msg(strncmp(t, "<cp:ruleset", 11) == 0, "%s", t);
  free(t);
  t = get(doc, "simservs/communication-diversion/cp:ruleset/cp:rule[@id=\"call-diversion-busy\"]", NULL, 0);
  ck_assert_ptr_nonnull(strstr(t, "tel:+15551000003"));
  ck_assert_ptr_nonnull(strstr(t, "<ss:busy/>"));
  free(t);
  t = get(doc, "simservs/communication-diversion/cp:ruleset/cp:rule[3]", NULL, 0);
  ck_assert_ptr_nonnull(strstr(t, "call-diversion-no-reply"));
  free(t);
  t = get(doc, "simservs/communication-diversion/cp:ruleset/cp:rule[1][@id=\"call-diversion-unconditional\"]",
          NULL, 0);
  ck_assert_ptr_nonnull(strstr(t, "sip:alice@ims.example.net"));
  free(t);
  t = get(doc, "simservs/communication-diversion/@active", NULL, 0);
  ck_assert_str_eq(t, "true");
  free(t);
  t = get(doc, "simservs/communication-diversion/NoReplyTimer", NULL, 0);
  ck_assert_ptr_nonnull(strstr(t, ">20</ss:NoReplyTimer>"));
  free(t);
  t = get(doc, "ss:simservs/ss:communication-diversion/r:ruleset/r:rule[2]",
          "xmlns(ss=" SS_NS_SIMSERVS ")xmlns(r=" SS_NS_CP ")", 0);
  ck_assert_ptr_nonnull(strstr(t, "call-diversion-busy"));
  free(t);
  get(doc, "simservs/communication-diversion/cp:ruleset/cp:rule[4]", NULL, 404);
  get(doc, "simservs/communication-diversion/cp:ruleset/cp:rule", NULL, 404);   /* three of them */
  get(doc, "simservs/communication-diversion/cp:ruleset/cp:rule[@id=\"nope\"]", NULL, 404);
  get(doc, "simservs/communication-diversion/@colour", NULL, 404);
  get(doc, "simservs/originating-identity-presentation", NULL, 404);
  get(doc, "simservs/communication-diversion/ruleset", NULL, 404);   /* ruleset is cp's */
  xmlFreeDoc(doc);
}
END_TEST

static xmlNodePtr body_elem(const char *xml, xmlDocPtr *doc)
{
  struct ss_error err = {0};
  xmlNodePtr e = ss_xml_parse(xml, strlen(xml), doc, &err);
  ck_assert_msg(e != NULL, "%s", err.phrase);
  return e;
}

/* The document after an operation, checked as a simservs document. */
static struct cd_own_rules *doc_rules(xmlDocPtr doc)
{
  struct ss_error err = {0};
  struct cd_own_rules *own = ss_cdiv_parse(xmlDocGetRootElement(doc), &err);
  ck_assert_msg(own != NULL, "%s", err.phrase);
  return own;
}

START_TEST(selector_put_and_delete)
{
  xmlDocPtr doc = sample_doc(), bdoc;
  struct ss_error err = {0};
  bool created;
  /* insert a rule the phone's way: prefixes without declarations */
  xmlNodePtr e = body_elem("<cp:rule id=\"call-diversion-not-reachable\"><cp:conditions><ss:not-reachable/>"
                           "</cp:conditions><cp:actions><ss:forward-to><ss:target>tel:+4930123</ss:target>"
                           "</ss:forward-to></cp:actions></cp:rule>", &bdoc);
  struct ss_selector s = sel_ok("simservs/communication-diversion/cp:ruleset/"
                                "cp:rule[@id=\"call-diversion-not-reachable\"]", NULL);
  ck_assert_int_eq(ss_put_element(doc, &s, e, &created, &err), 0);
  ck_assert(created);
  ck_assert(ss_selects(doc, &s));
  xmlFreeDoc(bdoc);
  struct cd_own_rules *own = doc_rules(doc);
  ck_assert_uint_eq(own->n_rules, 4);
  ck_assert_int_eq(own->rules[3].service, CD_SVC_CFNRC);
  cd_own_rules_unref(own);
  /* replace it */
  e = body_elem("<cp:rule id=\"call-diversion-not-reachable\"><cp:conditions><ss:not-reachable/>"
                "<ss:rule-deactivated/></cp:conditions><cp:actions><ss:forward-to><ss:target/>"
                "</ss:forward-to></cp:actions></cp:rule>", &bdoc);
  ck_assert_int_eq(ss_put_element(doc, &s, e, &created, &err), 0);
  ck_assert(!created);
  xmlFreeDoc(bdoc);
  own = doc_rules(doc);
  ck_assert_uint_eq(own->n_rules, 4);
  ck_assert(!own->rules[3].active);
  cd_own_rules_unref(own);
  /* the body must be what the selector names */
  e = body_elem("<cp:rule id=\"other\"/>", &bdoc);
  ck_assert_int_eq(ss_put_element(doc, &s, e, &created, &err), 409);
  ck_assert_int_eq(err.kind, SS_ERR_CANNOT_INSERT);
  xmlFreeDoc(bdoc);
  ss_selector_free(&s);
  /* no parent */
  memset(&err, 0, sizeof err);
  e = body_elem("<cp:rule id=\"x\"/>", &bdoc);
  s = sel_ok("simservs/communication-diversion/cp:nothing/cp:rule[@id=\"x\"]", NULL);
  ck_assert_int_eq(ss_put_element(doc, &s, e, &created, &err), 409);
  ck_assert_int_eq(err.kind, SS_ERR_NO_PARENT);
  ss_selector_free(&s);
  /* a position that does not follow on */
  memset(&err, 0, sizeof err);
  s = sel_ok("simservs/communication-diversion/cp:ruleset/cp:rule[9]", NULL);
  ck_assert_int_eq(ss_put_element(doc, &s, e, &created, &err), 409);
  ck_assert_int_eq(err.kind, SS_ERR_CANNOT_INSERT);
  ss_selector_free(&s);
  xmlFreeDoc(bdoc);
  /* NoReplyTimer: replace, delete, insert */
  s = sel_ok("simservs/communication-diversion/NoReplyTimer", NULL);
  e = body_elem("<ss:NoReplyTimer>35</ss:NoReplyTimer>", &bdoc);
  ck_assert_int_eq(ss_put_element(doc, &s, e, &created, &err), 0);
  ck_assert(!created);
  own = doc_rules(doc);
  ck_assert_int_eq(own->no_reply_timer, 35);
  cd_own_rules_unref(own);
  ck_assert_int_eq(ss_delete(doc, &s, &err), 0);
  ck_assert(!ss_selects(doc, &s));
  own = doc_rules(doc);
  ck_assert_int_eq(own->no_reply_timer, 0);
  cd_own_rules_unref(own);
  ck_assert_int_eq(ss_delete(doc, &s, &err), 404);
  ck_assert_int_eq(ss_put_element(doc, &s, e, &created, &err), 0);
  ck_assert(created);
  own = doc_rules(doc);
  ck_assert_int_eq(own->no_reply_timer, 35);
  cd_own_rules_unref(own);
  xmlFreeDoc(bdoc);
  ss_selector_free(&s);
  /* @active */
  s = sel_ok("simservs/communication-diversion/@active", NULL);
  ck_assert_int_eq(ss_put_attribute(doc, &s, "false", 5, &created, &err), 0);
  ck_assert(!created);
  own = doc_rules(doc);
  ck_assert(own->deactivated);
  cd_own_rules_unref(own);
  memset(&err, 0, sizeof err);
  ck_assert_int_eq(ss_put_attribute(doc, &s, "a<b", 3, &created, &err), 409);
  ck_assert_int_eq(err.kind, SS_ERR_NOT_XML_ATT_VALUE);
  ck_assert_int_eq(ss_put_attribute(doc, &s, "&#116;rue", 9, &created, &err), 0);
  own = doc_rules(doc);
  ck_assert(!own->deactivated);
  cd_own_rules_unref(own);
  ck_assert_int_eq(ss_delete(doc, &s, &err), 0);
  own = doc_rules(doc);
  ck_assert(!own->deactivated);             /* the default */
  cd_own_rules_unref(own);
  ss_selector_free(&s);
  /* delete a rule by position */
  s = sel_ok("simservs/communication-diversion/cp:ruleset/cp:rule[1]", NULL);
  ck_assert_int_eq(ss_delete(doc, &s, &err), 0);
  own = doc_rules(doc);
  ck_assert_uint_eq(own->n_rules, 3);
  ck_assert_str_eq(own->rules[0].id, "call-diversion-busy");
  cd_own_rules_unref(own);
  ss_selector_free(&s);
  /* the whole communication-diversion, and the root */
  s = sel_ok("simservs/communication-diversion", NULL);
  ck_assert_int_eq(ss_delete(doc, &s, &err), 0);
  own = doc_rules(doc);
  ck_assert_uint_eq(own->n_rules, 0);
  cd_own_rules_unref(own);
  ss_selector_free(&s);
  memset(&err, 0, sizeof err);
  s = sel_ok("simservs", NULL);
  ck_assert_int_eq(ss_delete(doc, &s, &err), 409);
  ck_assert_int_eq(err.kind, SS_ERR_CANNOT_DELETE);
  ss_selector_free(&s);
  xmlFreeDoc(doc);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("simservs");
  TCase *tc = tcase_create("mapping");
  tcase_add_test(tc, every_service_round_trips);
  tcase_add_test(tc, every_condition_and_action_round_trips);
  tcase_add_test(tc, etag_follows_the_document);
  tcase_add_test(tc, each_condition_maps);
  tcase_add_test(tc, each_action_maps);
  tcase_add_test(tc, phone_documents);
  tcase_add_test(tc, what_the_model_cannot_say_is_refused);
  tcase_add_test(tc, hostile_xml_is_refused_cleanly);
  tcase_add_test(tc, xcap_error_body);
  tcase_add_test(tc, datetimes);
  suite_add_tcase(s, tc);
  TCase *ts = tcase_create("selectors");
  tcase_add_test(ts, selector_syntax);
  tcase_add_test(ts, selector_get);
  tcase_add_test(ts, selector_put_and_delete);
  suite_add_tcase(s, ts);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
