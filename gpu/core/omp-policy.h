/* omp-policy.h: how the engine's OpenMP threads wait between parallel regions. */
#pragma once

/* Makes OpenMP threads sleep, not spin, between parallel regions when the user has not
 * chosen (neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set): sets OMP_WAIT_POLICY=passive
 * and re-executes the program once with ARGV, because libgomp reads the variable when it
 * is loaded, before main. Returns only when no re-exec happened (already chosen, or exec
 * failed: the run goes on with libgomp's default).
 *
 * Why: libgomp's default keeps idle threads spinning for a while after each region; on a
 * machine busy with other work they burn the cores their own partners wait for. Measured
 * on 2 cores under load (bench/README.md, "LLaMA CPU"): a LLaMA 30M training step took
 * 57-65 s with the default and 3.4-5.9 s passive; on an idle machine passive costs a
 * wake-up per region (~480 per step), well under 1% of a step. */
void le_omp_wait_policy_reexec (char **argv);
