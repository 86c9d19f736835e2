/*
 * docs_dir.c - the subscribers' own documents as files of a state
 * directory (store.h, the memory back end; cdivas -t reads them too).
 *
 * One file per subscriber, named after its canonical key with every byte
 * but letters, digits and "@._+-" %-encoded (so "sip:bob@ims.example.net"
 * is "sip%3Abob@ims.example.net.xml": no '/', no leading '.', reversible).
 * A write goes to a temporary ".name.tmp" in the same directory, is
 * fsync'ed, renamed over the document and the directory fsync'ed: after
 * a crash the file is either the old document or the new one. Temporary
 * and foreign files are ignored when the directory is read.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store/store.h"

/* A document file is never read beyond this (the XML limit is lower). */
#define DOC_FILE_MAX (1024 * 1024)

static bool plain(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '@' || c == '.' || c == '_' || c == '+' || c == '-';
}

int cd_store_doc_file_name(const char *key, char *out, size_t size)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t k = 0;
  if (key == NULL || *key == '\0')
    return -1;
  for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
    /* a leading '.' would hide the file: encode it */
    if (plain(*p) && !(p == (const unsigned char *)key && *p == '.')) {
      if (k + 1 >= size)
        return -1;
      out[k++] = (char)*p;
    } else {
      if (k + 3 >= size)
        return -1;
      out[k++] = '%';
      out[k++] = hex[*p >> 4];
      out[k++] = hex[*p & 15];
    }
  }
  if (k + 5 >= size)
    return -1;
  memcpy(out + k, ".xml", 5);
  return 0;
}

static int hexval(char c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int cd_store_doc_file_key(const char *name, char key[CD_IDENTITY_KEY_MAX])
{
  size_t n = strlen(name), k = 0;
  if (n <= 4 || strcmp(name + n - 4, ".xml") != 0 || name[0] == '.')
    return -1;
  for (size_t i = 0; i < n - 4; i++) {
    int c;
    if (name[i] == '%') {
      if (i + 2 >= n - 4)
        return -1;
      int h = hexval(name[i + 1]), l = hexval(name[i + 2]);
      if (h < 0 || l < 0)
        return -1;
      c = h * 16 + l;
      i += 2;
      if (c == 0 || plain((unsigned char)c))
        return -1;            /* not how we write names: a foreign file */
    } else if (plain((unsigned char)name[i])) {
      c = (unsigned char)name[i];
    } else {
      return -1;
    }
    if (k + 1 >= CD_IDENTITY_KEY_MAX)
      return -1;
    key[k++] = (char)c;
  }
  key[k] = '\0';
  return k > 0 ? 0 : -1;
}

static int write_all(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int sync_dir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

int cd_store_docs_dir_write(const char *dir, const char *key, const char *text, size_t len)
{
  char name[CD_IDENTITY_KEY_MAX * 3 + 8];
  if (cd_store_doc_file_name(key, name, sizeof name) < 0) {
    errno = ENAMETOOLONG;
    return -1;
  }
  size_t dl = strlen(dir);
  char *path = malloc(dl + strlen(name) + 2), *tmp = malloc(dl + strlen(name) + 8);
  int rc = -1, saved = 0;
  if (path == NULL || tmp == NULL) {
    errno = ENOMEM;
    goto out;
  }
  sprintf(path, "%s/%s", dir, name);
  sprintf(tmp, "%s/.%s.tmp", dir, name);
  if (text == NULL) {
    if (unlink(path) < 0 && errno != ENOENT)
      goto out;
    rc = sync_dir(dir);
    goto out;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0)
    goto out;
  if (write_all(fd, text, len) < 0 || fsync(fd) < 0) {
    saved = errno;
    close(fd);
    unlink(tmp);
    errno = saved;
    goto out;
  }
  if (close(fd) < 0 || rename(tmp, path) < 0) {
    saved = errno;
    unlink(tmp);
    errno = saved;
    goto out;
  }
  rc = sync_dir(dir);
out:
  saved = errno;
  free(path);
  free(tmp);
  errno = saved;
  return rc;
}

/* Reads one document file: malloc'd text, or NULL with why. */
static char *read_doc(const char *path, size_t *len, const char **why)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) {
    *why = strerror(errno);
    if (fd >= 0)
      close(fd);
    return NULL;
  }
  if (!S_ISREG(st.st_mode) || st.st_size > DOC_FILE_MAX) {
    *why = S_ISREG(st.st_mode) ? "larger than 1 MiB" : "not a regular file";
    close(fd);
    return NULL;
  }
  char *text = malloc((size_t)st.st_size + 1);
  size_t got = 0;
  while (text && got < (size_t)st.st_size) {
    ssize_t r = read(fd, text + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  if (text == NULL || got != (size_t)st.st_size) {
    *why = text ? "short read" : "out of memory";
    free(text);
    return NULL;
  }
  text[got] = '\0';
  *len = got;
  return text;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int cd_store_docs_dir_load(const char *dir, cd_store_doc_each each, void *arg,
                           char *err, size_t errlen)
{
  DIR *d = opendir(dir);
  if (d == NULL) {
    snprintf(err, errlen, "%s: %s", dir, strerror(errno));
    return -1;
  }
  /* In name order, so that messages come in the same order every time. */
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  char key[CD_IDENTITY_KEY_MAX];
  while ((e = readdir(d)) != NULL) {
    if (cd_store_doc_file_key(e->d_name, key) < 0)
      continue;
    if (n == cap) {
      char **g = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof *names);
      if (g == NULL)
        break;
      names = g;
    }
    if ((names[n] = strdup(e->d_name)) != NULL)
      n++;
  }
  closedir(d);
  if (n > 0)
    qsort(names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n; i++) {
    size_t len = 0;
    const char *why = NULL;
    char *path = malloc(strlen(dir) + strlen(names[i]) + 2);
    if (path == NULL)
      break;
    sprintf(path, "%s/%s", dir, names[i]);
    cd_store_doc_file_key(names[i], key);
    char *text = read_doc(path, &len, &why);
    each(arg, key, text, len, path, text ? NULL : why);
    free(text);
    free(path);
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return 0;
}
