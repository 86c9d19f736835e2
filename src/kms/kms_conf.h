/*
 * kms_conf.h - the reference KMS's configuration (cdivas-kms.8): its
 * identity and listener, the ticket protection key, the users and their
 * pre-shared keys, and the application servers it trusts for diversion
 * inquiries. Same style as cdivas.conf: libconfig, every error reported
 * as file:line: message, a conf with any error is never used.
 */
#ifndef CDIVAS_KMS_CONF_H
#define CDIVAS_KMS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include "core/identity.h"

struct kms_user {
  char *id;                          /* as written */
  char key[CD_IDENTITY_KEY_MAX];     /* canonical identity key */
  unsigned char psk[32];
};

struct kms_as {
  char *identity;                    /* ID-AS as written */
  char key[CD_IDENTITY_KEY_MAX];
  char *inquiry_url;                 /* http(s)://host:port (the path /cdiv/v1/inquiry is added) */
  unsigned char hmac_key[32];        /* shared with the AS's inquiry.kms entry */
  char *tls_ca, *tls_certificate, *tls_key;   /* https: verify the AS, present ours */
};

struct kms_conf {
  char *id;
  char *listen;
  bool tls;
  char *host;
  int port;
  char *tls_certificate, *tls_key, *tls_client_ca;
  unsigned char ticket_key[32];
  int ticket_lifetime;               /* seconds, default 3600 */
  int inquiry_timeout;               /* seconds, default 3 */
  int log_level;                     /* enum cd_log_level */
  struct kms_user *users;
  size_t n_users;
  struct kms_as *ases;
  size_t n_ases;
};

/* Loads `path`; NULL with every error printed to stderr as file:line: message. */
struct kms_conf *kms_conf_load(const char *path, size_t *n_errors);
void kms_conf_free(struct kms_conf *conf);

const struct kms_user *kms_conf_user(const struct kms_conf *conf, const char *key);
const struct kms_as *kms_conf_as(const struct kms_conf *conf, const char *key);

#endif
