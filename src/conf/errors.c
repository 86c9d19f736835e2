/*
 * errors.c - releasing a conf load's error list (see errors.h).
 */
#include "conf/errors.h"

#include <stdlib.h>

void cd_conf_errors_free(struct cd_conf_errors *errs)
{
  if (errs == NULL)
    return;
  for (size_t i = 0; i < errs->count; i++)
    free(errs->msgs[i]);
  free(errs->msgs);
  errs->msgs = NULL;
  errs->count = 0;
}
