"""sd_train_reference.py DUMP: the engine's DDPM schedule, min-SNR weights and its DDIM and
Euler ancestral steps against diffusers 0.27's DDPMScheduler, DDIMScheduler and
EulerAncestralDiscreteScheduler given the same model outputs and noise. TAP."""
import json
import subprocess
import sys

import numpy as np
import torch
from diffusers import DDIMScheduler, DDPMScheduler, EulerAncestralDiscreteScheduler
import diffusers.schedulers.scheduling_euler_ancestral_discrete as euler_mod
from sd_tap import check, done


SD = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
          beta_schedule="scaled_linear")
for steps in (5, 20):
    d = json.loads(subprocess.run([sys.argv[1], str(steps)], check=True,
                                  capture_output=True, text=True).stdout)
    ddpm = DDPMScheduler(**SD)
    acp = ddpm.alphas_cumprod.double().numpy()
    err = np.abs(np.array(d["acp"]) - acp).max()
    check(err < 1e-6, f"alphas_cumprod equal diffusers' scaled_linear (max diff {err:.2e})")
    for t, w in d["snr_weight_5"]:
        snr = acp[t] / (1 - acp[t])
        if abs(w - min(snr, 5.0) / snr) > 1e-4 * max(w, 1e-3):
            check(False, f"min-SNR weight at t={t}")
            break
    else:
        check(True, "min-SNR weights (gamma 5) equal min(SNR, gamma) / SNR")

    ddim = DDIMScheduler(**SD, clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    ddim.set_timesteps(steps)
    check(ddim.timesteps.tolist() == d["ddim_timesteps"],
          f"DDIM {steps} timesteps equal diffusers' {ddim.timesteps.tolist()[:5]}...")
    x = torch.tensor(d["x0"], dtype=torch.float64)
    worst = 0.0
    for i, t in enumerate(ddim.timesteps):
        eps = torch.tensor(d["ddim"][i]["eps"], dtype=torch.float64)
        x = ddim.step(eps, t, x, eta=0.0).prev_sample
        worst = max(worst, (x - torch.tensor(d["ddim"][i]["x"], dtype=torch.float64)).abs().max().item())
    check(worst < 1e-4, f"DDIM {steps} steps equal DDIMScheduler.step (max diff {worst:.2e})")

    eu = EulerAncestralDiscreteScheduler(**SD)
    eu.set_timesteps(steps)
    tdiff = np.abs(eu.timesteps.numpy() - np.array(d["euler_timesteps"])).max()
    sdiff = np.abs(eu.sigmas.numpy() - np.array(d["euler_sigmas"])).max()
    check(tdiff < 1e-3 and sdiff < 1e-4,
          f"Euler a {steps} timesteps and sigmas equal diffusers' ({tdiff:.1e}, {sdiff:.1e})")
    check(abs(float(eu.init_noise_sigma) - d["euler_init_sigma"]) < 1e-4,
          "Euler a initial noise sigma equals diffusers'")
    x = torch.tensor(d["x0"], dtype=torch.float32) * float(eu.init_noise_sigma)
    worst = 0.0
    scale_worst = 0.0
    real_randn = euler_mod.randn_tensor
    for i, t in enumerate(eu.timesteps):
        step = d["euler"][i]
        scaled = eu.scale_model_input(x, t)
        scale_worst = max(scale_worst, (scaled - x * step["input_scale"]).abs().max().item())
        noise = torch.tensor(step["noise"], dtype=torch.float32)
        euler_mod.randn_tensor = lambda *a, **k: noise
        eps = torch.tensor(step["eps"], dtype=torch.float32)
        x = eu.step(eps, t, x).prev_sample
        worst = max(worst, (x - torch.tensor(step["x"])).abs().max().item() / max(1.0, x.abs().max().item()))
    euler_mod.randn_tensor = real_randn
    check(scale_worst < 1e-3, f"Euler a model input scaling equals scale_model_input ({scale_worst:.1e})")
    check(worst < 1e-3, f"Euler a {steps} steps equal EulerAncestralDiscreteScheduler.step "
          f"with the same noise (max rel diff {worst:.2e})")

done()
