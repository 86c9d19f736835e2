/*
 * source.c - the text a conf loader walks: reading the main file and its
 * @includes with libconfig, and telling for each setting the file and
 * line it was written at (see reader.h).
 *
 * libconfig 1.5 opens whatever an @include names and has no hook to
 * refuse it, so every @include is checked here first. File names are
 * interned in the reader (files[0] the main file) because the tree, and
 * the names libconfig keeps in it, go away with rd_close() while a
 * loaded snapshot keeps pointing at them.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* strdup, strndup, getline */
#endif
#include "conf/reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* The interned copy of `name` (added when new), or NULL. */
static const char *intern(struct reader *R, const char *name)
{
  for (size_t i = 0; i < R->n_files; i++)
    if (strcmp(R->files[i], name) == 0)
      return R->files[i];
  char **f = realloc(R->files, (R->n_files + 1) * sizeof *f);
  if (f == NULL) {
    R->oom = true;
    return NULL;
  }
  R->files = f;
  if ((f[R->n_files] = rd_strdup(R, name)) == NULL)
    return NULL;
  return f[R->n_files++];
}

const char *rd_path(const struct reader *R)
{
  return R->n_files > 0 ? R->files[0] : NULL;
}

void rd_take_files(struct reader *R, char ***files, size_t *n_files)
{
  *files = R->files;
  *n_files = R->n_files;
  R->files = NULL;
  R->n_files = 0;
}

/* The name libconfig is given for the main file: read_beside() reads it
 * from inside its own directory. */
static const char *main_name(const struct reader *R)
{
  const char *path = rd_path(R), *slash = strrchr(path, '/');
  return R->incdir != NULL && slash != NULL ? slash + 1 : path;
}

/* The name under which errors in the file libconfig calls `raw` are
 * reported: the main file as it was given; an included file as libconfig
 * opened it (include directory + "/" + the name in the @include line). */
static const char *shown_file(struct reader *R, const char *raw)
{
  const char *path = rd_path(R);
  if (raw == NULL || path == NULL || strcmp(raw, path) == 0 || strcmp(raw, main_name(R)) == 0)
    return path;
  if (raw[0] == '/' || R->incdir == NULL) {
    const char *f = intern(R, raw);
    return f != NULL ? f : path;
  }
  size_t dl = strlen(R->incdir);
  bool slash = dl > 0 && R->incdir[dl - 1] == '/';
  char *joined = rd_asprintf("%s%s%s", R->incdir, slash ? "" : "/", raw);
  if (joined == NULL) {
    R->oom = true;
    return path;
  }
  const char *f = intern(R, joined);
  free(joined);
  return f != NULL ? f : path;
}

int rd_line_of(const config_setting_t *s)
{
  while (s != NULL && config_setting_source_line(s) == 0)
    s = config_setting_parent(s);
  return s != NULL ? (int)config_setting_source_line(s) : 1;
}

const char *rd_file_of(struct reader *R, const config_setting_t *s)
{
  while (s != NULL && config_setting_source_file(s) == NULL)
    s = config_setting_parent(s);
  return shown_file(R, s != NULL ? config_setting_source_file(s) : NULL);
}

/* libconfig 1.5 opens whatever an @include names: a directory makes its
 * scanner call exit(), a FIFO or device hangs the load. So every @include
 * is checked first, recursively: it must exist and be a regular file. */
static bool includes_are_files(struct reader *R, const char *file, const char *incdir, int depth)
{
  FILE *f = fopen(file, "r");
  if (f == NULL)
    return true;   /* libconfig reports what it cannot read */
  bool ok = true;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  for (int lineno = 1; (len = getline(&line, &cap, f)) >= 0; lineno++) {
    if (memchr(line, '\0', (size_t)len) != NULL) {
      /* libconfig would cut the line there, an @include name included. */
      rd_report(R, file, lineno, "NUL byte in the file");
      ok = false;
      break;
    }
    const char *p = line;
    while (*p == ' ' || *p == '\t')
      p++;
    if (strncmp(p, "@include", 8) != 0)
      continue;
    const char *q = strchr(p + 8, '"'), *e = q ? strchr(q + 1, '"') : NULL;
    if (q == NULL || e == NULL)
      continue;   /* a syntax error libconfig will report */
    if (memchr(q + 1, '\\', (size_t)(e - q - 1)) != NULL) {
      rd_report(R, file, lineno, "@include names may not contain backslashes");
      ok = false;
      continue;
    }
    char target[4096];
    int n = (q[1] == '/' || incdir == NULL)
              ? snprintf(target, sizeof target, "%.*s", (int)(e - q - 1), q + 1)
              : snprintf(target, sizeof target, "%s/%.*s", incdir, (int)(e - q - 1), q + 1);
    if (n < 0 || (size_t)n >= sizeof target)
      continue;
    struct stat st;
    if (stat(target, &st) != 0) {
      /* libconfig would say only "cannot open include file". */
      rd_report(R, file, lineno, "cannot open @include \"%.*s\": %s", (int)(e - q - 1), q + 1,
                strerror(errno));
      ok = false;
    } else if (!S_ISREG(st.st_mode)) {
      rd_report(R, file, lineno, "@include \"%.*s\" is not a regular file", (int)(e - q - 1), q + 1);
      ok = false;
    } else if (depth >= 10) {
      rd_report(R, file, lineno, "@include nested more than 10 deep");
      ok = false;
    } else if (!includes_are_files(R, target, incdir, depth + 1)) {
      ok = false;
    }
  }
  free(line);
  fclose(f);
  return ok;
}

/* config_read_file() from inside the main file's directory, so that a
 * relative @include is found there and an absolute one as written:
 * libconfig 1.5's include directory is put in front of every @include
 * name, absolute ones too, and it has no hook to do otherwise. The
 * working directory is restored before returning (cdivas has one thread). */
static int read_beside(struct reader *R, const char *path)
{
  if (R->incdir == NULL)
    return config_read_file(&R->cfg, path);
  int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (here < 0 || chdir(R->incdir) != 0) {
    /* Cannot go there and back: relative @includes still work through
     * libconfig's include directory, absolute ones then fail. */
    if (here >= 0)
      close(here);
    config_set_include_dir(&R->cfg, R->incdir);
    return config_read_file(&R->cfg, path);
  }
  int rc = config_read_file(&R->cfg, main_name(R));
  int e = errno;
  if (fchdir(here) != 0)
    rd_push(R, rd_asprintf("%s: cannot return to the working directory: %s", path, strerror(errno)));
  close(here);
  errno = e;
  return rc;
}

const config_setting_t *rd_open(struct reader *R, const char *path, struct cd_conf_errors *errs)
{
  *R = (struct reader){ .errs = errs };
  config_init(&R->cfg);
  if (errs != NULL) {
    errs->msgs = NULL;
    errs->count = 0;
  }
  if (intern(R, path) == NULL)
    return NULL;

  /* @include "x" is looked for next to the main file; a path without a
   * directory leaves libconfig to open "x" relative to the working
   * directory, which is the same place. */
  const char *slash = strrchr(path, '/');
  if (slash != NULL) {
    R->incdir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
    if (R->incdir == NULL) {
      R->oom = true;
      return NULL;
    }
  }
  if (!includes_are_files(R, path, R->incdir, 0))
    return NULL;   /* reported; libconfig must not open what is not a file */
  errno = 0;
  if (read_beside(R, path) == CONFIG_TRUE)
    return R->oom ? NULL : config_root_setting(&R->cfg);
  int e = errno;
  if (config_error_type(&R->cfg) == CONFIG_ERR_FILE_IO && config_error_file(&R->cfg) == NULL) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
      e = EISDIR;
    rd_push(R, rd_asprintf("%s: cannot read: %s", path,
                           e != 0 ? strerror(e) : config_error_text(&R->cfg)));
  } else {
    rd_report(R, shown_file(R, config_error_file(&R->cfg)), config_error_line(&R->cfg), "%s",
              config_error_text(&R->cfg) != NULL ? config_error_text(&R->cfg) : "syntax error");
  }
  return NULL;
}

void rd_close(struct reader *R)
{
  config_destroy(&R->cfg);
  for (size_t i = 0; i < R->n_files; i++)
    free(R->files[i]);
  free(R->files);
  R->files = NULL;
  R->n_files = 0;
  free(R->incdir);
  R->incdir = NULL;
}
