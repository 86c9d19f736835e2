/*
 * inquiry.c - the inquiry group of cdivas.conf (cdivas.conf(5), INQUIRY
 * SETTINGS): the HTTP(S) listener that answers the diversion inquiries of
 * KMSs, and the KMSs it trusts with the key each signs with. See loader.h
 * for what a group loader does.
 *
 * The TLS files are checked for readability here, so that "cdivas -t"
 * finds a wrong path, not the first inquiry.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* strdup */
#endif
#include "conf/loader.h"

#include <string.h>

/* kms = ( { id = "..."; key = "<64 hex digits>"; }, ... ) */
static void load_kms_list(struct loader *L, const config_setting_t *s)
{
  struct reader *R = &L->rd;
  struct cd_inquiry_conf *q = &L->conf->inquiry;
  if (!rd_group_list(R, s))
    return;
  int n = config_setting_length(s);
  q->kms = rd_calloc(R, (size_t)n + 1, sizeof *q->kms);
  if (q->kms == NULL)
    return;
  for (int i = 0; i < n; i++) {
    const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
    if (!rd_group_elem(R, s, g))
      continue;
    const char *id = NULL, *key = NULL;
    for (int k = 0; k < config_setting_length(g); k++) {
      const config_setting_t *e = config_setting_get_elem(g, (unsigned)k);
      if (rd_named(e, "id"))
        id = rd_get_string(R, e);
      else if (rd_named(e, "key"))
        key = rd_get_string(R, e);
      else
        rd_error_at(R, e, "unknown setting '%s' in kms", config_setting_name(e));
    }
    if (id == NULL || *id == '\0' || strlen(id) >= 128) {
      rd_error_at(R, g, "kms entry needs an id of 1 to 127 characters");
      continue;
    }
    if (cd_conf_kms(L->conf, id)) {
      rd_error_at(R, g, "duplicate kms id '%s'", id);
      continue;
    }
    struct cd_kms *kms = &q->kms[q->n_kms];
    if (!rd_hex32(key, kms->key)) {
      rd_error_at(R, g, "kms '%s' needs a key of exactly 64 hex digits", id);
      continue;
    }
    kms->id = rd_strdup(R, id);
    q->n_kms++;
  }
}

void conf_load_inquiry(struct loader *L, const config_setting_t *g)
{
  struct reader *R = &L->rd;
  struct cd_inquiry_conf *q = &L->conf->inquiry;
  const struct rd_listener listener = { &q->listen, &q->tls, &q->host, &q->port,
                                         &q->tls_certificate, &q->tls_key, &q->tls_client_ca };
  if (!config_setting_is_group(g)) {
    rd_error_at(R, g, "inquiry must be a group { ... }, not %s", rd_type_name(g));
    return;
  }
  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
    if (rd_listener_setting(R, s, "inquiry", &listener))
      continue;
    if (rd_named(s, "record_ttl")) {
      rd_get_int(R, s, 10, 86400, &q->record_ttl);
    } else if (rd_named(s, "max_records")) {
      rd_get_int(R, s, 1, 10000000, &q->max_records);
    } else if (rd_named(s, "kms")) {
      load_kms_list(L, s);
    } else {
      rd_error_at(R, s, "unknown setting '%s' in inquiry", config_setting_name(s));
    }
  }
  if (q->listen == NULL)
    rd_error_at(R, g, "missing required setting 'listen' in inquiry");
  if (q->listen && q->tls && (q->tls_certificate == NULL || q->tls_key == NULL))
    rd_error_at(R, g, "an https:// inquiry listener needs tls_certificate and tls_key");
  if (q->listen && !q->tls && (q->tls_certificate || q->tls_key || q->tls_client_ca))
    rd_error_at(R, g, "tls_certificate, tls_key and tls_client_ca need an https:// listen URL");
  if (q->n_kms == 0)
    rd_error_at(R, g, "inquiry needs at least one kms = ( { id = \"...\"; key = \"<64 hex digits>\"; } )");
}
