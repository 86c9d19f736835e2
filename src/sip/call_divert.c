/*
 * call_divert.c - serving a user and diverting a call (see call_private.h).
 *
 * Serving a user means: pick the user's applicable rule per service
 * (core/rules.c), divert at once when a rule applies before the user is
 * tried (CFU; CFNL when the user is known to be logged out; CFB when the
 * user has max_calls calls already), else try the user. Diverting means:
 * check the limits (core/divert_limits.c), extend the History-Info chain
 * (core/history_info.c), tell the caller (181) and the served user (a
 * MESSAGE, when the rule asks), record the diversion for the KMS inquiry,
 * then serve the target when it is a subscriber with rules (a chain) or
 * simply try it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/tport_tag.h>
#include "core/divert_limits.h"
#include "core/diversion.h"
#include "core/inquiry.h"
#include "core/ledger.h"
#include "log/log.h"
#include "sip/call_private.h"

/* ---------------------------------------------------------------- diversion */

static bool served_has_key(const char *key, void *ctx)
{
  return cd_subscriber_has_key((const struct cd_subscriber *)ctx, key);
}

static void notify_served_user(struct cd_call *call, enum cd_service service, int cause,
                               const char *target)
{
  char text[1024];
  snprintf(text, sizeof text, "Call %s from %s was diverted to %s (%s, cause %d).\r\n",
           call->call_id, call->caller_uri ? call->caller_uri : "an unknown caller",
           target, cd_service_name(service), cause);
  const struct cd_route *route = call->calls->route;
  url_string_t const *next_hop = (url_string_t const *)route->outbound_proxy;
  const char *ident = route->dual_stack && next_hop ? cd_route_family_ident(next_hop->us_url->url_host) : NULL;
  nta_outgoing_t *orq = nta_outgoing_tcreate(
      call->calls->default_leg, NULL, NULL, next_hop, SIP_METHOD_MESSAGE,
      URL_STRING_MAKE(call->served->user), TAG_IF(ident, TPTAG_IDENT(ident)),
      SIPTAG_FROM_STR(call->conf->identity), SIPTAG_TO_STR(call->served->user),
      SIPTAG_CONTENT_TYPE_STR("text/plain"), SIPTAG_PAYLOAD_STR(text), TAG_END());
  if (orq == NULL)
    cd_log(CD_LOG_WARNING, "call-id=%s: cannot send the MESSAGE to %s", call->call_id,
           call->served->user);
  else
    nta_outgoing_destroy(orq);   /* fire and forget: nta finishes the transaction */
}

/* The ledger entry the KMS inquiry will be answered from. Identities are
 * stored as the keys cd_inquiry_canonical() gives, so aliases match.
 * `key` is the target's identity key (NULL: the target is no identity). */
static void call_record_diversion(struct cd_call *call, enum cd_service service, int cause,
                                  const char *key, const char *hi_index)
{
  char caller[CD_IDENTITY_KEY_MAX], target_key[CD_IDENTITY_KEY_MAX];
  if (!call->calls->keeps_ledger || call->caller_key[0] == '\0' || key == NULL)
    return;
  cd_inquiry_canonical(call->conf, call->caller_key, caller);
  cd_inquiry_canonical(call->conf, key, target_key);
  struct cd_ledger_record rec = {
    .caller = caller, .served = call->served->key, .target = target_key,
    .service = service, .cause = cause, .when = (long)time(NULL),
    .call_id = call->call_id, .hi_index = hi_index, .ticket_hash = call->ticket_hash,
  };
  cd_store_ledger_add(call->calls->store, &rec);
  cd_log(CD_LOG_DEBUG, "call-id=%s: recorded %s -> %s for %s, ticket %s", call->call_id,
         rec.served, rec.target, rec.caller, rec.ticket_hash[0] ? rec.ticket_hash : "none");
}

/* The Diversion header (RFC 5806) of a diversion away from the served
 * user, whose History-Info entry is `served`: on top of those of earlier
 * diversions in this call, for every branch from now on. */
static void add_diversion(struct cd_call *call, int cause, const cd_hi_entry *served)
{
  char *entry = cd_diversion_format(call->served_uri, cause, cd_hi_private(served));
  const char *value = NULL;
  if (entry)
    value = call->our_diversions ? su_sprintf(call->home, "%s, %s", entry, call->our_diversions)
                                 : su_strdup(call->home, entry);
  free(entry);
  if (value == NULL) {
    cd_log(CD_LOG_WARNING, "call-id=%s: no Diversion header for the diversion of %s",
           call->call_id, call->served->user);
    return;
  }
  call->our_diversions = value;
  call->calls->stats.diversion_headers++;
}

/* The 181 Call Is Being Forwarded, with the whole chain: the served user's
 * entry and the target's hidden as the rule asks. It carries a To tag, so
 * it opens an early dialog and needs a Contact (RFC 3261 12.1.1): cdivas's
 * own address. It is sent unreliably, as RFC 3262 3 allows of a response
 * the UAS did not send: with Require: 100rel in the INVITE nta would mark
 * it reliable (RSeq) itself, and nobody downstream would take the PRACK,
 * so then it bypasses the server transaction: a stateless response with
 * the transaction's To tag, sent on the caller's transport. */
static void tell_caller(struct cd_call *call, const struct cd_rule *rule, size_t served_pos,
                        size_t target_pos)
{
  char *history = cd_hi_format_hiding(&call->chain,
                                      rule->reveal_identity_to_caller ? -1 : (long)target_pos,
                                      rule->reveal_served_user_identity_to_caller ? -1 : (long)served_pos);
  if (history == NULL || call->irq == NULL) {
    free(history);
    return;
  }
  const struct cd_route *route = call->calls->route;
  url_t const *contact = route->n_own_urls > 1 ? route->own_urls[1] : route->own_urls[0];
  /* Require: is never changed in the branch made of call->request. */
  sip_t const *invite = sip_object(call->request);
  bool must_100rel = invite->sip_require && sip_has_feature(invite->sip_require, "100rel");
  char const *hi = su_sprintf(call->home, "History-Info: %s", history);
  free(history);
  if (!must_100rel) {
    nta_incoming_treply(call->irq, SIP_181_CALL_IS_BEING_FORWARDED,
                        SIPTAG_CONTACT(sip_contact_create(call->home, (url_string_t const *)contact, NULL)),
                        SIPTAG_HEADER_STR(hi), TAG_END());
    return;
  }
  /* The transaction's To tag, so that the 181 and what follows from
   * cdivas share one early dialog. The stateless reply is made from the
   * INVITE as received (its Via), not from a branch made of it. */
  msg_t *received = call_invite(call);
  if (received == NULL) {
    cd_log(CD_LOG_WARNING, "call-id=%s: cannot send the 181", call->call_id);
    return;
  }
  sip_to_t *to = sip_to_dup(call->home, invite->sip_to);
  tport_t *tp = nta_incoming_transport(call->calls->agent, call->irq, NULL);
  if (to == NULL || tp == NULL ||
      sip_to_tag(call->home, to, nta_incoming_tag(call->irq, NULL)) < 0 ||
      nta_msg_treply(call->calls->agent, msg_ref(received), SIP_181_CALL_IS_BEING_FORWARDED,
                     SIPTAG_TO(to),
                     SIPTAG_CONTACT(sip_contact_create(call->home, (url_string_t const *)contact, NULL)),
                     SIPTAG_HEADER_STR(hi), NTATAG_TPORT(tp), TAG_END()) < 0)
    cd_log(CD_LOG_WARNING, "call-id=%s: cannot send the 181", call->call_id);
  tport_unref(tp);
}

int call_divert(struct cd_call *call, enum cd_service service, int cause, int reason_status,
                const char *deflect_to, const char *deflect_key)
{
  const struct cd_rule *rule = call->rules[service];
  const char *target = deflect_to ? deflect_to : rule->target;
  /* A deflection's other Contacts belong to it; a later diversion ends them. */
  if (deflect_to) {
    call->deflected_by = call->served;
    call->deflect_cause = cause;
  } else {
    call->n_next_targets = 0;
  }
  /* The target's key, worked out once for the checks, the chain, the
   * ledger and the next served user. */
  char target_key[CD_IDENTITY_KEY_MAX];
  bool target_valid = true;
  if (deflect_key)
    snprintf(target_key, sizeof target_key, "%s", deflect_key);
  else
    target_valid = cd_identity_key(target, target_key, NULL) == 0;
  const char *refusal = target_valid
                          ? cd_divert_refusal(call->conf, &call->chain, call->earlier_diversions, call->served, target_key)
                          : "Diversion Target Invalid";
  bool to_limit_destination = false;
  if (refusal) {
    call->calls->stats.limit_hits++;
    cd_log(CD_LOG_NOTICE, "call-id=%s: no diversion of %s to %s: %s", call->call_id,
           call->served->user, target, refusal);
    if (call->conf->limit_destination == NULL) {
      call_reply(call, call->conf->limit_response, refusal);
      return -1;
    }
    target = call->conf->limit_destination;
    to_limit_destination = true;
    target_valid = cd_identity_key(target, target_key, NULL) == 0;
  }

  char reason[96] = "";
  if (reason_status)
    snprintf(reason, sizeof reason, "SIP;cause=%d;text=\"%s\"", reason_status,
             sip_status_phrase(reason_status) ? sip_status_phrase(reason_status) : "");
  long target_pos = cd_hi_divert(&call->chain, call->served_uri, served_has_key,
                                 (void *)call->served, target, cause,
                                 reason_status ? reason : NULL, !rule->reveal_identity_to_target);
  if (target_pos < 0) {
    /* The chain has no room for two more entries (entry count or index
     * depth): as good as the diversion limit. */
    call->calls->stats.limit_hits++;
    cd_log(CD_LOG_NOTICE, "call-id=%s: no diversion of %s to %s: History-Info full",
           call->call_id, call->served->user, target);
    call_reply(call, call->conf->limit_response, "Diversion Limit Reached");
    return -1;
  }
  cd_hi_entry *target_entry = &call->chain.entries[target_pos];
  if (target_valid)
    cd_hi_set_key(target_entry, target_key);   /* a failure only costs a later normalisation */
  size_t served_pos = (size_t)target_pos - 1;
  for (size_t i = 0; i < (size_t)target_pos; i++)
    if (strcmp(call->chain.entries[i].index, target_entry->parent) == 0)
      served_pos = i;

  call->calls->stats.diversions[service]++;
  if (cd_conf_diversion_header(call->conf, call->served))
    add_diversion(call, cause, &call->chain.entries[served_pos]);
  call_record_diversion(call, service, cause, target_valid ? target_key : NULL, target_entry->index);
  cd_log(CD_LOG_INFO, "diversion call-id=%s served=%s service=%s cause=%d target=%s",
         call->call_id, call->served->user, cd_service_name(service), cause, target);

  if (rule->notify_caller)
    tell_caller(call, rule, served_pos, (size_t)target_pos);
  if (rule->notify_served_user)
    notify_served_user(call, service, cause, target);

  char hi_index[CD_HI_INDEX_MAX];
  snprintf(hi_index, sizeof hi_index, "%s", target_entry->index);
  const struct cd_subscriber *next = !to_limit_destination && target_valid
                                       ? cd_conf_find(call->conf, target_key) : NULL;
  if (next && next->n_rules > 0)
    return call_serve(call, next, su_strdup(call->home, target), false);
  call->served = next;
  return call_send_branch(call, target, 0, hi_index);
}

int call_divert_next(struct cd_call *call, int reason_status)
{
  char reason[96];
  snprintf(reason, sizeof reason, "SIP;cause=%d;text=\"%s\"", reason_status,
           sip_status_phrase(reason_status) ? sip_status_phrase(reason_status) : "");
  while (call->n_next_targets > 0) {
    const char *target = call->next_targets[0];
    call->next_targets++;
    call->n_next_targets--;
    char key[CD_IDENTITY_KEY_MAX];
    const char *refusal = cd_identity_key(target, key, NULL) < 0 ? "Diversion Target Invalid"
                          : cd_divert_refusal(call->conf, &call->chain, call->earlier_diversions, call->deflected_by, key);
    if (refusal) {
      cd_log(CD_LOG_NOTICE, "call-id=%s: next Contact %s of the deflection skipped: %s",
             call->call_id, target, refusal);
      continue;
    }
    long pos = cd_hi_retry(&call->chain, target, call->deflect_cause, reason);
    if (pos < 0)
      break;
    cd_hi_entry *entry = &call->chain.entries[pos];
    cd_hi_set_key(entry, key);
    /* The ledger and the log name the user who deflected; the branch
     * then serves the new target (a plain one: the other Contacts are
     * where the user asked the call to go). */
    call->served = call->deflected_by;
    call->calls->stats.diversions[CD_SVC_CD]++;
    call_record_diversion(call, CD_SVC_CD, call->deflect_cause, key, entry->index);
    cd_log(CD_LOG_INFO, "diversion call-id=%s served=%s service=cd cause=%d target=%s (next Contact, the last gave %d)",
           call->call_id, call->served->user, call->deflect_cause, target, reason_status);
    call->served = cd_conf_find(call->conf, key);
    char hi_index[CD_HI_INDEX_MAX];
    snprintf(hi_index, sizeof hi_index, "%s", entry->index);
    return call_send_branch(call, target, 0, hi_index);
  }
  call_reply(call, reason_status, sip_status_phrase(reason_status));
  return -1;
}

/* ---------------------------------------------------------------- serving a user */

/* The rest of call_serve, once it is known whether the served user is
 * logged out. */
static int call_serve_decided(struct cd_call *call, bool logged_out)
{
  const struct cd_subscriber *sub = call->served;
  const struct cd_rule *now = cd_rules_first_immediate(sub, call->rules, logged_out, call->serve_busy);
  if (now == NULL && call->serve_busy) {
    call_reply(call, SIP_486_BUSY_HERE);
    return -1;
  }
  if (now)
    return call_divert(call, now->service,
                       now->service == CD_SVC_CFU ? 302 : now->service == CD_SVC_CFNL ? 404 : 486,
                       0, NULL, NULL);

  char hi_index[CD_HI_INDEX_MAX] = "";
  if (!call->serve_initial) {
    const cd_hi_entry *last = &call->chain.entries[call->chain.count - 1];
    snprintf(hi_index, sizeof hi_index, "%s", last->index);
  }
  return call_send_branch(call, call->serve_initial ? NULL : call->served_uri,
                          call->services & ~(1u << CD_SVC_CFU), hi_index);
}

static void on_registration(void *arg, enum cd_reg_status status, bool available)
{
  struct cd_call *call = arg;
  if (call->asking_store) {
    call->store_answered = true;
    call->store_answer = status;
    return;
  }
  call->store_query = NULL;
  if (!available)
    cd_log(CD_LOG_DEBUG, "call-id=%s: state store unavailable, %s tried as if registered",
           call->call_id, call->served->user);
  /* A CANCEL meanwhile was answered already: nothing left to do. */
  if (call->answered || call_serve_decided(call, status == CD_REG_UNREGISTERED) < 0)
    call_destroy(call);
}

/* Makes `sub` the call's served user: diverts at once when a rule applies
 * before trying the user, else tries the user (initial: the Request-URI
 * unchanged; in a chain: `uri`). Returns 0 also while the call waits for
 * the state store (on_registration goes on). */
int call_serve(struct cd_call *call, const struct cd_subscriber *sub, const char *uri,
               bool initial)
{
  call->served = sub;
  call->served_uri = uri;
  call->serve_initial = initial;
  call->services = cd_rules_select_all(sub, &call->facts, call->rules);

  call->serve_busy = false;
  if (sub->max_calls > 0 && call->counted_key == NULL) {
    call->serve_busy = cd_keycount_get(call->calls->per_user, sub->key) >= sub->max_calls;
    if (!call->serve_busy) {
      call->counted_key = su_strdup(call->home, sub->key);
      cd_keycount_add(call->calls->per_user, sub->key, +1);
    }
  }
  /* The S-CSCF's word (P-Served-User regstate) comes first; the store is
   * asked only when its answer could change what happens: a CFNL rule
   * that comes before the rule that applies anyway (CFU, or CFB when busy). */
  if (initial && call->psu_regstate != CD_REGSTATE_UNKNOWN)
    return call_serve_decided(call, call->psu_regstate == CD_REGSTATE_UNREG);
  const struct cd_rule *anyway = cd_rules_first_immediate(sub, call->rules, false, call->serve_busy);
  if (call->rules[CD_SVC_CFNL] == NULL || (anyway && anyway < call->rules[CD_SVC_CFNL]))
    return call_serve_decided(call, false);

  call->asking_store = true;
  call->store_answered = false;
  struct cd_store_query *query = cd_store_reg_status(call->calls->store, sub->key,
                                                     on_registration, call);
  call->asking_store = false;
  if (call->store_answered)
    return call_serve_decided(call, call->store_answer == CD_REG_UNREGISTERED);
  call->store_query = query;
  return 0;
}
