/* omp-policy.h: how the engine's OpenMP threads wait between parallel regions. */
#pragma once

/* How long idle OpenMP threads spin before they sleep, in libgomp's spin iterations
 * (about 10-30 microseconds here). */
#define LE_OMP_SPIN_COUNT "10000"

/* Bounds how long OpenMP threads spin between parallel regions when the user has not
 * chosen (neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set): sets GOMP_SPINCOUNT to
 * LE_OMP_SPIN_COUNT and re-executes the program once with ARGV, because libgomp reads the
 * variable when it is loaded, before main. Returns only when no re-exec happened (already
 * chosen, or exec failed: the run goes on with libgomp's default).
 *
 * Why, measured on 2 cores (bench/README.md, "OpenMP waiting"): libgomp's default spins
 * 300,000 iterations after each region; on a machine busy with other work the spinning
 * threads burn the cores their own partners wait for (a LLaMA 30M step: 57-65 s instead of
 * 3.4-5.9 s). Sleeping at once (OMP_WAIT_POLICY=passive, the earlier choice) pays a
 * wake-up per region instead, which made the SD UNet step on an idle machine 3-4x slower
 * (37-46 ms instead of 10-14). A short spin keeps both: idle 10-14 ms; with four busy
 * processes beside it 48 ms for the SD step (passive 51) and 2.6 s for the LLaMA step
 * (passive 3.0). */
void le_omp_wait_policy_reexec (char **argv);
