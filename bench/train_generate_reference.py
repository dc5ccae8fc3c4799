"""PyTorch reference for bench/train-generate.ts: the same GPT-2 (HF GPT2LMHeadModel's layout:
learned positions, pre-LayerNorm blocks, fused q/k/v, tanh GELU, tied head), the same batch and the
same work, timed on the CPU with Debian's python3-torch and OpenBLAS.

  /usr/bin/python3 bench/train_generate_reference.py --threads 2 --json

Prints one JSON document: training tokens/s (forward + backward + clipping + AdamW), generation
tokens/s (KV cache, sampling at temperature 1), and the GFLOP/s of a large matrix product, the
machine's measured matmul peak. Each is the best of --repeats timed runs (a shared machine is noisy).
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width, eps=1e-5)
        self.c_attn = nn.Linear(width, 3 * width)
        self.c_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width, eps=1e-5)
        self.c_fc = nn.Linear(width, 4 * width)
        self.mlp_proj = nn.Linear(4 * width, width)

    def forward(self, x, past=None):
        batch, time_, width = x.shape
        head = width // self.heads
        q, k, v = self.c_attn(self.ln_1(x)).split(width, dim=2)
        q, k, v = (t.view(batch, time_, self.heads, head).transpose(1, 2) for t in (q, k, v))  # (B, H, T, D)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        keys = k.shape[2]
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(head)  # (B, H, T, S)
        causal = torch.ones(time_, keys, dtype=torch.bool).tril(keys - time_)
        scores = scores.masked_fill(~causal, -1e9)
        attended = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, time_, width)
        x = x + self.c_proj(attended)
        x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate='tanh'))
        return x, (k, v)


class GPT2(nn.Module):
    def __init__(self, vocabulary, width, layers, heads, positions):
        super().__init__()
        self.wte = nn.Embedding(vocabulary, width)
        self.wpe = nn.Embedding(positions, width)
        self.h = nn.ModuleList([Block(width, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(width, eps=1e-5)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)

    def forward(self, ids, past=None):
        start = 0 if past is None else past[0][0].shape[2]
        positions = torch.arange(start, start + ids.shape[1])
        x = self.wte(ids) + self.wpe(positions)
        cache = []
        for index, block in enumerate(self.h):
            x, kv = block(x, None if past is None else past[index])
            cache.append(kv)
        return self.ln_f(x) @ self.wte.weight.T, cache


def train_tokens_per_second(model, args):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    generator = torch.Generator().manual_seed(0)
    data = torch.randint(0, args.vocabulary, (args.batch, args.context + 1), generator=generator)

    def step():
        optimizer.zero_grad(set_to_none=True)
        logits, _ = model(data[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, args.vocabulary), data[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    for _ in range(args.warmup):
        step()
    best = math.inf
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        best = min(best, (time.perf_counter() - start) / args.steps)
    return args.batch * args.context / best, best


@torch.inference_mode()
def generate_tokens_per_second(model, args):
    generator = torch.Generator().manual_seed(1)
    prompts = torch.randint(0, args.vocabulary, (args.batch, args.prompt), generator=generator)

    def run(new_tokens):
        logits, cache = model(prompts)
        for _ in range(new_tokens):
            probabilities = logits[:, -1, :].softmax(-1)
            token = torch.multinomial(probabilities, 1, generator=generator)  # (B, 1)
            logits, cache = model(token, cache)

    run(4)
    best = math.inf
    for _ in range(args.repeats):
        start = time.perf_counter()
        run(args.new_tokens)
        best = min(best, time.perf_counter() - start)
    return args.batch * args.new_tokens / best, best


def matmul_gflops(size=1024, repeats=10, rounds=3):
    a = torch.randn(size, size)
    b = torch.randn(size, size)
    for _ in range(3):
        a @ b
    best = math.inf
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        best = min(best, (time.perf_counter() - start) / repeats)
    return 2 * size**3 / best / 1e9


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--vocabulary', type=int, default=512)
    parser.add_argument('--width', type=int, default=128)
    parser.add_argument('--layers', type=int, default=4)
    parser.add_argument('--heads', type=int, default=4)
    parser.add_argument('--context', type=int, default=64)
    parser.add_argument('--positions', type=int, default=128)
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--prompt', type=int, default=16)
    parser.add_argument('--new-tokens', type=int, default=48)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--repeats', type=int, default=3, help='timed runs; the best counts (a shared machine is noisy)')
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = GPT2(args.vocabulary, args.width, args.layers, args.heads, args.positions)
    parameters = sum(parameter.numel() for parameter in model.parameters())
    train, step_seconds = train_tokens_per_second(model, args)
    model.eval()
    generate, generate_seconds = generate_tokens_per_second(model, args)
    peak = matmul_gflops()
    result = {
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'blas': 'openblas' if 'openblas' in torch.__config__.show().lower() else 'see torch.__config__.show()',
        'parameters': parameters,
        'train_tokens_per_second': train,
        'train_step_seconds': step_seconds,
        'generate_tokens_per_second': generate,
        'generate_seconds': generate_seconds,
        'matmul_gflops': peak,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f'{key:28}{value}')


if __name__ == '__main__':
    main()
