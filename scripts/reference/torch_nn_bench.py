#!/usr/bin/env python3
"""PyTorch reference for `./rift bench nn` (same workloads; reference numbers only, never used by Rift).

Trains an MLP (forward, MSE, backward, Adam lr 3e-4, batch 256, random data) for repeated timed runs and
reports the median training steps per second, plus the median latency of a single-sample forward through
1024-512-512-1. Run with Debian's python3-torch and libopenblas0-pthread:

    OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 scripts/reference/torch_nn_bench.py --json torch_nn.json
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def train_steps_per_s(sizes, threads, steps, warmup, seed, batch=256):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    net = mlp(sizes)
    x = torch.randn(batch, sizes[0])
    y = torch.randn(batch, sizes[-1])
    opt = torch.optim.Adam(net.parameters(), lr=3e-4)

    def step():
        loss = nn.functional.mse_loss(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - t0)


def infer_us(sizes, calls, seed):
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    net = mlp(sizes)
    x = torch.randn(1, sizes[0])
    times = []
    with torch.inference_mode():
        for _ in range(200):
            net(x)
        for _ in range(calls):
            t0 = time.perf_counter()
            net(x)
            times.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", help="comma-separated metric keys to run")
    args = ap.parse_args()
    reps, n = args.repeats, args.steps
    if args.quick:
        reps, n = min(reps, 3), min(n, 100)
    work = [
        ("nn/sac_critic_1t_steps_per_s", [32, 400, 300, 1], 1, False),
        ("nn/sac_critic_2t_steps_per_s", [32, 400, 300, 1], 2, False),
        ("nn/wide_1t_steps_per_s", [512, 512, 512, 1], 1, False),
        ("nn/wide_2t_steps_per_s", [512, 512, 512, 1], 2, False),
        ("nn/infer_1x1024_us", [1024, 512, 512, 1], 1, True),
    ]
    if args.only:
        keep = set(args.only.split(","))
        work = [w for w in work if w[0] in keep]
    runs = {k: [] for k, *_ in work}
    for r in range(reps):
        for key, sizes, threads, infer in work:
            if infer:
                v = infer_us(sizes, 2000, r)
            else:
                v = train_steps_per_s(sizes, threads, max(n // 4, 4) if sizes[0] >= 512 else n, 10, r)
            runs[key].append(v)
    metrics = {k: statistics.median(v) for k, v in runs.items()}
    for k, v in runs.items():
        print(f"{k:32s} median {metrics[k]:9.1f}  min {min(v):9.1f}  max {max(v):9.1f}  runs {len(v)}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads max, config: {torch.__config__.parallel_info().splitlines()[0]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"metrics": metrics}, f, indent=2)


if __name__ == "__main__":
    main()
