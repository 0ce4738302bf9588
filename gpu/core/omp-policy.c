/* omp-policy.c: the engine's default OpenMP wait policy (see omp-policy.h). */
#include "omp-policy.h"

#include <stdlib.h>
#include <unistd.h>

void
le_omp_wait_policy_reexec (char **argv)
{
  if (getenv ("OMP_WAIT_POLICY") != NULL || getenv ("GOMP_SPINCOUNT") != NULL)
    return;
  if (setenv ("GOMP_SPINCOUNT", LE_OMP_SPIN_COUNT, 1) != 0)
    return;
  /* the variable is now set, so the new image returns at the check above */
  execv ("/proc/self/exe", argv);
}
