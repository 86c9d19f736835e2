/*
 * conf.h - the cdivas configuration as an immutable, validated snapshot:
 * settings, subscribers and their diversion rules (the simservs model of
 * cdivas.conf(5)). src/conf/load.h makes one from a file.
 *
 * The running daemon holds a pointer to the current snapshot; calls keep a
 * reference to the snapshot they started with (see cd_conf_ref), so a
 * reload never changes the rules of a call in flight.
 */
#ifndef CDIVAS_CONF_H
#define CDIVAS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/identity.h"

enum cd_service {
  CD_SVC_CFU = 0, CD_SVC_CFB, CD_SVC_CFNR, CD_SVC_CFNL, CD_SVC_CD, CD_SVC_CFNRC,
  CD_SVC_COUNT
};
/* "cfu", "cfb", ... */
const char *cd_service_name(enum cd_service svc);
/* Returns 0 and sets *svc, or -1 for an unknown name. */
int cd_service_parse(const char *name, enum cd_service *svc);

enum cd_log_level { CD_LOG_ERROR = 0, CD_LOG_WARNING, CD_LOG_NOTICE, CD_LOG_INFO, CD_LOG_DEBUG };
const char *cd_log_level_name(enum cd_log_level level);
int cd_log_level_parse(const char *name, enum cd_log_level *level);

enum cd_media { CD_MEDIA_AUDIO = 1, CD_MEDIA_VIDEO = 2 };

/* A validity window: days is a bit set (bit 0 = Monday .. bit 6 = Sunday),
 * from/to are minutes after midnight in server.timezone; to_min may be 1440
 * ("24:00", end of the day); to < from wraps past midnight (days then names
 * the day the window starts on). from == to is rejected by the loader. */
struct cd_validity {
  unsigned days;
  int from_min;
  int to_min;
};

struct cd_rule {
  enum cd_service service;
  char *target;                 /* forward-to URI as written; NULL for cd (the Contact decides) */
  char **callers;               /* canonical identity keys; NULL/0 = any caller */
  size_t n_callers;
  int anonymous;                /* -1 not set, 0 only non-anonymous, 1 only anonymous */
  unsigned media;               /* set of cd_media bits; 0 = any */
  struct cd_validity *validity; /* NULL/0 = always */
  size_t n_validity;
  bool active;                  /* default true */
  int no_reply_timer;           /* seconds, 0 = not set (cfnr only) */
  bool notify_caller;                        /* default true  */
  bool reveal_identity_to_caller;            /* default true  */
  bool reveal_served_user_identity_to_caller;/* default true  */
  bool reveal_identity_to_target;            /* default true  */
  bool notify_served_user;                   /* default false */
  const char *file;             /* where the rule was written */
  int line;
};

struct cd_subscriber {
  char *user;                   /* as written */
  char key[CD_IDENTITY_KEY_MAX];/* canonical key of user */
  char **aliases;               /* as written */
  char **alias_keys;            /* canonical keys */
  size_t n_aliases;
  struct cd_rule *rules;
  size_t n_rules;
  int no_reply_timer;           /* seconds, 0 = not set */
  int max_calls;                /* 0 = no network-determined busy */
  int diversion_header;         /* -1 not set (the server's), 0 false, 1 true */
  const char *file;
  int line;
};

/* A KMS allowed to send inquiries, with its HMAC key (the 32 bytes the 64
 * hex digits of the conf encode). */
struct cd_kms {
  char *id;
  unsigned char key[32];
};

/* The inquiry endpoint (doc/inquiry-api.md); absent when listen is NULL. */
struct cd_inquiry_conf {
  char *listen;                 /* "http://host:port" or "https://host:port" */
  bool tls;                     /* https */
  char *host;                   /* parsed from listen */
  int port;
  char *tls_certificate;        /* PEM files (https only) */
  char *tls_key;
  char *tls_client_ca;          /* NULL: no client certificate asked for */
  int record_ttl;               /* seconds, default 300 */
  int max_records;              /* default 100000 */
  struct cd_kms *kms;
  size_t n_kms;
};

/* Where the state shared by several instances lives (store.h). */
enum cd_store_backend { CD_STORE_MEMORY = 0, CD_STORE_REDIS };
struct cd_store_conf {
  enum cd_store_backend backend;  /* default memory */
  char *host;                   /* redis: from address "host:port", default 127.0.0.1 */
  int port;                     /* default 6379 */
  char *socket;                 /* redis: a unix socket path; used instead of the address */
  char *password;               /* redis: AUTH before anything else; NULL for none */
  int database;                 /* redis: SELECT, default 0 */
  char *prefix;                 /* redis: key prefix, default "cdivas:" */
  int timeout_ms;               /* how long a call waits for the store, default 200 */
  int registration_retain;      /* seconds registration news outlives its expiry, default 86400 */
};

struct cd_conf {
  const char *path;             /* the file given to cd_conf_load */
  /* server */
  char **listen;                /* SIP URIs to bind, at least one */
  size_t n_listen;
  char *identity;               /* ID-AS URI */
  char identity_key[CD_IDENTITY_KEY_MAX];
  char **aliases;               /* other sip: URIs naming this AS (server.aliases) */
  size_t n_aliases;
  char *outbound_proxy;         /* NULL when empty */
  int no_reply_timer;           /* 5..180, default 20 */
  int max_diversions;           /* 1..20, default 5 */
  enum cd_log_level log_level;  /* default info */
  char *timezone;               /* NULL = local time of the host */
  int limit_response;           /* 4xx..6xx, default 480 */
  char *limit_destination;      /* NULL = answer limit_response */
  char **limit_exempt;          /* canonical keys */
  size_t n_limit_exempt;
  int not_reachable_timer;      /* seconds without any answer from the served user before CFNRc; 0 = the transaction timeout (32 s) */
  bool decline_is_busy;         /* 603 Decline triggers cfb, default false */
  bool diversion_header;        /* add a Diversion header (RFC 5806) per diversion, default false */
  int shutdown_grace;           /* seconds to let transactions end on SIGTERM, default 32 */
  struct cd_inquiry_conf inquiry;
  struct cd_store_conf store;
  /* subscribers */
  struct cd_subscriber *subscribers;
  size_t n_subscribers;
  /* private: identity key -> subscriber index (open addressing, FNV-1a,
   * linear probing; index_size is a power of two, at least twice the number
   * of keys, or 0 when there are no subscribers). index_slots[i] is the
   * subscriber index + 1, 0 for an empty slot; index_keys[i] points to the
   * key stored in that slot (the subscriber's key or one of its alias_keys). */
  size_t *index_slots;
  const char **index_keys;
  size_t index_size;
  /* private: the file names that path, cd_rule.file and cd_subscriber.file
   * point into (files[0] is a copy of the path given to cd_conf_load; the
   * others are the @include'd files, named as they were opened). */
  char **files;
  size_t n_files;
  int refs;                     /* not atomic: ref/unref from one thread */
};

/* The subscriber whose user or alias has canonical key `key`, or NULL. O(1). */
const struct cd_subscriber *cd_conf_find(const struct cd_conf *conf, const char *key);

/* Whether diversions away from `sub` add a Diversion header: the
 * subscriber's diversion_header, else the server's. */
bool cd_conf_diversion_header(const struct cd_conf *conf, const struct cd_subscriber *sub);

/* True when `key` (canonical) is the subscriber's identity or an alias. */
bool cd_subscriber_has_key(const struct cd_subscriber *sub, const char *key);

/* The configured KMS called `id`, or NULL. */
const struct cd_kms *cd_conf_kms(const struct cd_conf *conf, const char *id);

/* Reference counting: a call holds the snapshot it started with. */
struct cd_conf *cd_conf_ref(struct cd_conf *conf);
void cd_conf_unref(struct cd_conf *conf);

/* For loaders: frees a snapshot whatever its reference count, and the hash
 * the subscriber index is built with. */
void cd_conf_free(struct cd_conf *conf);
uint64_t cd_conf_key_hash(const char *key);

#endif
