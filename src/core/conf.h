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

/* An absolute validity period (common-policy <validity>, RFC 4745 10.3):
 * Unix seconds, from <= t < until. */
struct cd_period {
  long long from;
  long long until;
};

struct cd_rule {
  char *id;                     /* the simservs rule id, unique per subscriber (conf: id, else
                                   cd_rules_assign_ids()) */
  enum cd_service service;
  char *target;                 /* forward-to URI as written; NULL for cd (the Contact decides) */
  char **callers;               /* canonical identity keys; NULL/0 = any caller */
  size_t n_callers;
  int anonymous;                /* -1 not set, 0 only non-anonymous, 1 only anonymous */
  unsigned media;               /* set of cd_media bits; 0 = any */
  struct cd_validity *validity; /* NULL/0 = always */
  size_t n_validity;
  struct cd_period *periods;    /* NULL/0 = always; else within one of them */
  size_t n_periods;
  bool active;                  /* default true */
  int no_reply_timer;           /* seconds, 0 = not set (cfnr only) */
  bool notify_caller;                        /* default true  */
  bool reveal_identity_to_caller;            /* default true  */
  bool reveal_served_user_identity_to_caller;/* default true  */
  bool reveal_identity_to_target;            /* default true  */
  bool notify_served_user;                   /* default false */
  const char *file;             /* where the rule was written; NULL for a subscriber's own rule */
  int line;
};

struct cd_own_rules;

struct cd_subscriber {
  char *user;                   /* as written */
  char key[CD_IDENTITY_KEY_MAX];/* canonical key of user */
  char **aliases;               /* as written */
  char **alias_keys;            /* canonical keys */
  size_t n_aliases;
  struct cd_rule *rules;
  size_t n_rules;
  int no_reply_timer;           /* seconds, 0 = not set */
  bool deactivated;             /* communication-diversion active="false": no rule applies */
  int max_calls;                /* 0 = no network-determined busy */
  int diversion_header;         /* -1 not set (the server's), 0 false, 1 true */
  char *password;               /* XCAP HTTP Digest password; NULL: none (no Digest) */
  bool self_service;            /* may change its rules over XCAP and by feature codes (default true) */
  /* Set when rules, no_reply_timer and deactivated are the subscriber's own
   * document's (cd_conf_with_own), not the conf file's. */
  const struct cd_own_rules *own;
  const char *file;
  int line;
};

/* What a subscriber's own simservs document (set over XCAP or by a feature
 * code) says, in place of the conf file's rules: immutable once shared,
 * reference-counted (snapshots and documents share it). */
struct cd_own_rules {
  int refs;
  bool deactivated;
  int no_reply_timer;           /* 0 = not set */
  struct cd_rule *rules;
  size_t n_rules;
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

/* The XCAP server of the subscribers' simservs documents and the
 * documents themselves (doc/xcap.md); absent when enabled is false. */
enum { CD_XCAP_AUTH_DIGEST = 1, CD_XCAP_AUTH_ASSERTED = 2 };
/* An address block: family 4 or 6, the address in network order, the
 * prefix length in bits. */
struct cd_net {
  int family;
  unsigned char addr[16];
  int prefix;
};
/* True when the address (4 or 16 bytes, network order) is in the block. */
bool cd_net_contains(const struct cd_net *net, int family, const unsigned char *addr);

struct cd_xcap_conf {
  bool enabled;                 /* the xcap group is there */
  char *listen;                 /* "http://host:port" or "https://host:port"; NULL: no listener */
  bool tls;
  char *host;
  int port;
  char *tls_certificate;
  char *tls_key;
  char *tls_client_ca;
  unsigned auth;                /* CD_XCAP_AUTH_* bits, default digest */
  char *realm;                  /* Digest realm, default the host of server.identity */
  struct cd_net *trusted_proxies; /* from "a.b.c.d[/len]" or "v6addr[/len]" */
  size_t n_trusted_proxies;
  char *state_dir;              /* one document per subscriber (memory store) */
  bool feature_codes;           /* TS 22.030 codes in originating INVITEs, default true */
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
  struct cd_xcap_conf xcap;
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
  /* private: a snapshot made by cd_conf_with_own() shares everything above
   * with its base (a loaded snapshot, referenced) except the subscribers
   * it overrides: own[] sorted by index, each a copy of the base's
   * subscriber with its own rules. NULL/0 for a loaded snapshot. */
  struct cd_conf *base;
  struct cd_own_entry *own;
  size_t n_own;
  int refs;                     /* not atomic: ref/unref from one thread */
};

struct cd_own_entry {
  size_t index;                 /* in base->subscribers */
  struct cd_subscriber sub;
  struct cd_own_rules *rules;   /* referenced */
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

/* A rule's defaults before its settings are read, the same whether it
 * comes from the conf file or a simservs document (cdivas.conf(5), RULES):
 * active, the caller and target told, anonymity not a condition. */
void cd_rule_defaults(struct cd_rule *rule);

/* For loaders: frees a snapshot whatever its reference count, and the hash
 * the subscriber index is built with. */
void cd_conf_free(struct cd_conf *conf);
uint64_t cd_conf_key_hash(const char *key);

/* ------------------------------------------------- subscribers' own rules */

/* A snapshot equal to `base` (a loaded one; a derived one stands for its
 * base) but for subs[i] (subscribers of base, found with cd_conf_find),
 * whose rules, no_reply_timer and deactivated become own[i]'s. The new
 * snapshot references base and every own[i]; refs = 1. With n = 0 it is
 * base itself, referenced once more. NULL when out of memory. A later
 * duplicate of a subscriber wins. */
struct cd_conf *cd_conf_with_own(struct cd_conf *base, size_t n,
                                 const struct cd_subscriber *const *subs,
                                 struct cd_own_rules *const *own);

/* The loaded snapshot a snapshot was derived from (itself when loaded). */
struct cd_conf *cd_conf_base(struct cd_conf *conf);

/* An empty document's rules (refs = 1): no rule, active, no timer. */
struct cd_own_rules *cd_own_rules_new(void);
struct cd_own_rules *cd_own_rules_ref(struct cd_own_rules *own);
void cd_own_rules_unref(struct cd_own_rules *own);

/* Frees what a rule owns (not the rule itself). */
void cd_rule_free(struct cd_rule *rule);

/* A deep copy of `src` into `dst` (file and line cleared). Returns 0, or -1
 * when out of memory (dst then owns nothing). */
int cd_rule_copy(struct cd_rule *dst, const struct cd_rule *src);

/* The id cd_rules_assign_ids() gives the nth (1, 2, ...) rule of a service:
 * the ids phones use, "call-diversion-unconditional", "-busy", "-no-reply",
 * "-not-logged-in", "-not-reachable", "call-deflection"; "-2" appended for
 * the second, and so on. Returns buf. */
const char *cd_rule_default_id(enum cd_service svc, unsigned nth, char *buf, size_t size);

/* Gives every rule without an id its default one, skipping ids already
 * taken. Returns 0, or -1 when out of memory. */
int cd_rules_assign_ids(struct cd_rule *rules, size_t n);

/* The first id that two of the rules share, or NULL. */
const char *cd_rules_duplicate_id(const struct cd_rule *rules, size_t n);

#endif
