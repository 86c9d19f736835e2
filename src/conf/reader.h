/*
 * reader.h - what every libconfig-based conf loader of cdivas shares: the
 * reading of a file with its @includes, the error list, the walk over the
 * libconfig tree with typed getters, and the value checks that more than
 * one conf format makes (URIs, keys, files, http(s) URLs).
 *
 * Internal to src/conf and to the conf loaders of the programs (cdivas.conf
 * in conf/load.c and its group files, kms.conf in kms/kms_conf.c). It
 * exists so that both formats report errors the one way cdivas.conf(5)
 * and cdivas-kms(8) document: each error "file:line: message", the file
 * being the one that holds the setting (an @include'd file is named as it
 * was opened), all errors of a load collected in one pass.
 *
 * Use: rd_open() reads and parses; if it returns a root, walk it with the
 * getters, which report every problem through rd_error_at(); then
 * rd_close(). Nothing returned by the getters outlives rd_close() (they
 * point into the libconfig tree): copy what is kept (rd_strdup). Names
 * from rd_file_of() live until rd_close(), or longer when the caller took
 * the name table with rd_take_files().
 *
 * Out of memory is never reported twice: any allocation that fails sets
 * R->oom, and the caller adds the one "out of memory" message at the end
 * when nothing else was reported.
 */
#ifndef CDIVAS_CONF_READER_H
#define CDIVAS_CONF_READER_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include "conf/errors.h"
#include "core/identity.h"

struct reader {
  struct cd_conf_errors *errs;  /* may be NULL: errors are only counted */
  size_t n_errors;              /* counted even when errs is NULL */
  bool oom;
  char **files;                 /* interned file names; files[0] is the main file */
  size_t n_files;
  char *incdir;                 /* directory of the main file, NULL if none */
  config_t cfg;
};

/* ------------------------------------------------------------ reading */

/* Initializes R (and `errs` when not NULL, to no errors), then reads
 * `path` and the files it @includes and parses them. Returns the root of
 * the tree, or NULL when there is nothing to walk: then the reason is
 * already reported ("<path>: cannot read: <strerror>" when the main file
 * cannot be opened, else "file:line: message"), or R->oom is set. Either
 * way R must be released with rd_close(). `path` must not be NULL or "". */
const config_setting_t *rd_open(struct reader *R, const char *path, struct cd_conf_errors *errs);

/* Frees the tree and, unless taken, the file names. */
void rd_close(struct reader *R);

/* The main file's name as given to rd_open() (files[0]), or NULL when
 * even that copy could not be made (R->oom). */
const char *rd_path(const struct reader *R);

/* Hands the interned names (files[0] the main file) to the caller, who
 * frees each and the array; rd_close() then leaves them alone. */
void rd_take_files(struct reader *R, char ***files, size_t *n_files);

/* ------------------------------------------------------------ errors */

/* Appends `msg` (ownership taken) to the list; NULL counts as an error and
 * sets oom. Control characters become '?': one error, one line. */
void rd_push(struct reader *R, char *msg);

/* "file:line: <fmt>" */
void rd_report(struct reader *R, const char *file, int line, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

/* "file:line: <fmt>" where `s` was written (rd_file_of, rd_line_of). */
void rd_error_at(struct reader *R, const config_setting_t *s, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* The file that holds `s` (or its nearest enclosing setting that libconfig
 * knows the file of), as errors name it: the main file as given, an
 * @include'd one as it was opened. Interned: lives as long as the names. */
const char *rd_file_of(struct reader *R, const config_setting_t *s);

/* The line of `s`, or of the nearest enclosing setting that has one (the
 * root has none: line 1). */
int rd_line_of(const config_setting_t *s);

/* ------------------------------------------------------------ memory */

/* malloc'ed printf, NULL when out of memory (R-less: the caller decides). */
char *rd_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* strdup / calloc (n = 0 allocates one element) that set R->oom on failure. */
char *rd_strdup(struct reader *R, const char *s);
void *rd_calloc(struct reader *R, size_t n, size_t size);

/* ------------------------------------------------------------ typed walk */

/* "an integer", "a string", ... for messages. */
const char *rd_type_name(const config_setting_t *s);
/* Whether `s` is called `name`. */
bool rd_named(const config_setting_t *s, const char *name);

/* Each getter either stores/returns the value or reports why not, as
 * "<setting> must be ..., not ...", and returns false/NULL. */
bool rd_get_int(struct reader *R, const config_setting_t *s, long long lo, long long hi, int *out);
bool rd_get_bool(struct reader *R, const config_setting_t *s, bool *out);
const char *rd_get_string(struct reader *R, const config_setting_t *s);

/* A list of strings, [ "a", "b" ] or ( "a", "b" ): false after an error
 * when `s` is none; each element is then read with rd_element_string(),
 * which sets *elem to it and reports one that is not a string. */
bool rd_string_list(struct reader *R, const config_setting_t *s);
const char *rd_element_string(struct reader *R, const config_setting_t *list, int i,
                              const config_setting_t **elem);

/* A list of groups ( { ... }, ... ), an empty [] too: false after an error
 * when `s` is none; each element is then checked with rd_group_elem(). */
bool rd_group_list(struct reader *R, const config_setting_t *s);
bool rd_group_elem(struct reader *R, const config_setting_t *list, const config_setting_t *e);

/* ------------------------------------------------------------ shared values */

/* Identity (sip, sips or tel URI) -> canonical key, or reports "malformed
 * URI '<uri>' in <in>: <reason from cd_identity_key()>" at `at`. */
bool rd_identity(struct reader *R, const config_setting_t *at, const char *uri, const char *in,
                 char key[CD_IDENTITY_KEY_MAX]);

/* A list of identities (see rd_string_list) stored as canonical keys in
 * *keys_out (n_out of them; a malformed one is reported and left NULL).
 * An empty list is reported unless allow_empty. */
void rd_key_list(struct reader *R, const config_setting_t *s, bool allow_empty,
                 char ***keys_out, size_t *n_out);

/* A file the process can read: false after "<setting> '<file>': <strerror>"
 * at `s` otherwise. */
bool rd_readable(struct reader *R, const config_setting_t *s, const char *file);

/* Exactly 64 hex digits -> 32 bytes. No error reported: the caller names
 * the key in its own words. */
bool rd_hex32(const char *hex, unsigned char out[32]);

/* "http://host:port" or "https://host:port" (a trailing "/" allowed, no
 * other path), host an IPv4 address, a [IPv6] reference (kept with its
 * brackets) or a name. Sets *tls, *host (malloc'ed) and *port and returns
 * NULL, or returns why not (possibly in buf) and sets nothing. */
const char *rd_http_url(const char *url, bool *tls, char **host, int *port, char *buf, size_t bufsize);

/* The settings of an HTTP(S) listener group (inquiry, xcap): listen (an
 * http(s) URL, rd_http_url), tls_certificate, tls_key, tls_client_ca
 * (readable files, "" for none). Returns true when `s` is one of them,
 * stored in the fields given or reported ("bad <group> listen URL ..."). */
struct rd_listener {
  char **listen;
  bool *tls;
  char **host;
  int *port;
  char **tls_certificate, **tls_key, **tls_client_ca;
};
bool rd_listener_setting(struct reader *R, const config_setting_t *s, const char *group,
                         const struct rd_listener *l);

#endif
