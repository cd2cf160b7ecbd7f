#!/usr/bin/env python3
"""PyTorch reference timings for `ld bench --reference` (see perf/README.md).

Times, with PyTorch ops only (no diffusers), the same components at the same shapes as `ld bench`, and writes
the same JSON schema (one record per measurement), so `ld bench --reference THIS.json` gives ratios per
component. Record names and shape texts must stay identical to the C# side (src/Engine/Bench):

  attention          F.scaled_dot_product_attention at the SDXL UNet's and the transparent decoder's shapes
                     ("b2 h10 q4096 k4096 d64"), shapes derived from the configs exactly as AttentionBench does
  unet_step          one SDXL UNet forward (torch.nn modules in the ldm layout), per size and batch ("b2 1024x1024")
  vae_encode/decode  the SDXL VAE encoder (posterior moments) / decoder, batch 1 ("b1 1024x1024")
  tdec_single        the transparent decoder (UNet1024, torch.nn modules matching ours), one pass
  tdec_8way          the same with the 8-way flip/rotate augmentation and median, 8 sequential passes as released
  tdec_8way_batched  the 8 passes batched (two batches of 4 when H != W); PyTorch only, no C# counterpart
  tenc               the transparent (offset) encoder

Random weights (PyTorch's default init; values do not change the work). Conventions: CUDA events around each
run after warm-up runs, median/p10/p90 with numpy's linear interpolation, peak = torch.cuda.max_memory_allocated
after reset_peak_memory_stats (live tensors, weights included), device_used = total - free from mem_get_info.

  python3 perf/torch_reference.py --out torch.json                      # GPU, fp16, released shapes
  python3 perf/torch_reference.py --device cpu --profile tiny --out t.json   # tiny shapes, matches `ld bench --device cpu`
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# The configurations `ld bench` measures: "real" = SdxlLayout.RealUnet / SdxlSizes.Real / RealDecoderWidths /
# BenchLayouts.RealEncoderWidths; "tiny" = DemoModels (Unet, Sizes, DecoderWidths) and the tiny encoder widths.
PROFILES = {
    "real": dict(
        unet=dict(in_ch=4, out_ch=4, mc=320, mult=[1, 2, 4], num_res=2, input_depths=[0, 0, 2, 2, 10, 10],
                  output_depths=[10, 10, 10, 2, 2, 2, 0, 0, 0], middle_depth=10, context=2048, adm=2816, temb=1280),
        vae=dict(channels=[128, 256, 512, 512], res_blocks=2, z=4),
        decoder=[32, 32, 64, 128, 256, 512, 512],
        encoder=[32, 32, 64, 64, 128, 128, 256, 256],
        sizes=[(1024, 1024), (896, 1152)]),
    "tiny": dict(
        unet=dict(in_ch=4, out_ch=4, mc=32, mult=[1, 2, 4], num_res=2, input_depths=[0, 0, 1, 1, 1, 1],
                  output_depths=[1, 1, 1, 1, 1, 1, 0, 0, 0], middle_depth=1, context=128, adm=32 + 6 * 256, temb=128),
        vae=dict(channels=[32, 32, 64, 64], res_blocks=1, z=4),
        decoder=[8, 8, 16, 16, 32, 32, 32],
        encoder=[8, 8, 16, 16, 16, 16, 32, 32],
        sizes=[(128, 128), (128, 192)]),
}
COMPONENTS = ["attention", "unet_step", "vae_encode", "vae_decode", "tdec_single", "tdec_8way", "tdec_8way_batched", "tenc"]
UNET_HEAD = 64
DEC_HEAD = 8
DEC_GROUPS = 4


# ---------------------------------------------------------------- SDXL UNet (ldm layout, use_linear_in_transformer)
class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.in_layers = nn.Sequential(nn.GroupNorm(32, cin), nn.SiLU(), nn.Conv2d(cin, cout, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(temb, cout))
        self.out_layers = nn.Sequential(nn.GroupNorm(32, cout), nn.SiLU(), nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb):
        h = self.in_layers(x) + self.emb_layers(emb)[:, :, None, None]
        return self.skip(x) + self.out_layers(h)


class CrossAttention(nn.Module):
    def __init__(self, c, ctx, head_width, bias_qkv=False):
        super().__init__()
        self.heads = c // head_width
        self.to_q = nn.Linear(c, c, bias=bias_qkv)
        self.to_k = nn.Linear(ctx, c, bias=bias_qkv)
        self.to_v = nn.Linear(ctx, c, bias=bias_qkv)
        self.to_out = nn.Linear(c, c)

    def forward(self, x, context=None):
        ctx = x if context is None else context
        b, n, c = x.shape
        q = self.to_q(x).view(b, n, self.heads, -1).transpose(1, 2)
        k = self.to_k(ctx).view(b, ctx.shape[1], self.heads, -1).transpose(1, 2)
        v = self.to_v(ctx).view(b, ctx.shape[1], self.heads, -1).transpose(1, 2)
        o = F.scaled_dot_product_attention(q, k, v)
        return self.to_out(o.transpose(1, 2).reshape(b, n, c))


class GEGLUFeedForward(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.proj = nn.Linear(c, 8 * c)
        self.out = nn.Linear(4 * c, c)

    def forward(self, x):
        a, g = self.proj(x).chunk(2, dim=-1)
        return self.out(a * F.gelu(g))


class TransformerBlock(nn.Module):
    def __init__(self, c, ctx):
        super().__init__()
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(c), nn.LayerNorm(c), nn.LayerNorm(c)
        self.attn1 = CrossAttention(c, c, UNET_HEAD)
        self.attn2 = CrossAttention(c, ctx, UNET_HEAD)
        self.ff = GEGLUFeedForward(c)

    def forward(self, x, context):
        x = x + self.attn1(self.norm1(x))
        x = x + self.attn2(self.norm2(x), context)
        return x + self.ff(self.norm3(x))


class SpatialTransformer(nn.Module):
    def __init__(self, c, depth, ctx):
        super().__init__()
        self.norm = nn.GroupNorm(32, c, eps=1e-6)
        self.proj_in = nn.Linear(c, c)
        self.blocks = nn.ModuleList([TransformerBlock(c, ctx) for _ in range(depth)])
        self.proj_out = nn.Linear(c, c)

    def forward(self, x, context):
        b, c, h, w = x.shape
        t = self.proj_in(self.norm(x).permute(0, 2, 3, 1).reshape(b, h * w, c))
        for blk in self.blocks:
            t = blk(t, context)
        return x + self.proj_out(t).reshape(b, h, w, c).permute(0, 3, 1, 2)


class Step(nn.Module):
    """One entry of input_blocks / output_blocks: a ResBlock, then optionally a transformer and a resampler."""

    def __init__(self, res=None, transformer=None, resample=None):
        super().__init__()
        self.res, self.transformer, self.resample = res, transformer, resample

    def forward(self, x, emb, context):
        if self.res is not None:
            x = self.res(x, emb)
        if self.transformer is not None:
            x = self.transformer(x, context)
        if self.resample is not None:
            x = self.resample(x)
        return x


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class SdxlUnet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        mc, t = cfg["mc"], cfg["temb"]
        self.mc = mc
        self.time_embed = nn.Sequential(nn.Linear(mc, t), nn.SiLU(), nn.Linear(t, t))
        self.label_emb = nn.Sequential(nn.Linear(cfg["adm"], t), nn.SiLU(), nn.Linear(t, t))
        self.conv_in = nn.Conv2d(cfg["in_ch"], mc, 3, padding=1)
        mult, nr, ctx = cfg["mult"], cfg["num_res"], cfg["context"]
        self.input_blocks = nn.ModuleList()
        skips, ch = [mc], mc
        for level, m in enumerate(mult):
            for r in range(nr):
                o, depth = m * mc, cfg["input_depths"][level * nr + r]
                self.input_blocks.append(Step(ResBlock(ch, o, t), SpatialTransformer(o, depth, ctx) if depth else None))
                ch = o
                skips.append(ch)
            if level != len(mult) - 1:
                self.input_blocks.append(Step(resample=nn.Conv2d(ch, ch, 3, stride=2, padding=1)))
                skips.append(ch)
        self.middle = nn.ModuleList([Step(ResBlock(ch, ch, t), SpatialTransformer(ch, cfg["middle_depth"], ctx)),
                                     Step(ResBlock(ch, ch, t))])
        self.output_blocks = nn.ModuleList()
        n = 0
        for level in reversed(range(len(mult))):
            for i in range(nr + 1):
                o, depth = mult[level] * mc, cfg["output_depths"][n]
                up = Upsample(o) if level > 0 and i == nr else None
                self.output_blocks.append(Step(ResBlock(ch + skips.pop(), o, t), SpatialTransformer(o, depth, ctx) if depth else None, up))
                ch = o
                n += 1
        self.out = nn.Sequential(nn.GroupNorm(32, ch), nn.SiLU(), nn.Conv2d(ch, cfg["out_ch"], 3, padding=1))

    def timestep_embedding(self, t):
        half = self.mc // 2
        freqs = torch.exp(-torch.log(torch.tensor(10000.0)) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
        args = t.float()[:, None] * freqs[None]
        return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)

    def forward(self, x, t, context, y):
        emb = self.time_embed(self.timestep_embedding(t).to(x.dtype)) + self.label_emb(y)
        h = self.conv_in(x)
        hs = [h]
        for s in self.input_blocks:
            h = s(h, emb, context)
            hs.append(h)
        for s in self.middle:
            h = s(h, emb, context)
        for s in self.output_blocks:
            h = s(torch.cat([h, hs.pop()], dim=1), emb, context)
        return self.out(h)


# ---------------------------------------------------------------- SDXL VAE (ldm Encoder / Decoder)
class VaeResBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(32, cin, eps=1e-6), nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2, self.conv2 = nn.GroupNorm(32, cout, eps=1e-6), nn.Conv2d(cout, cout, 3, padding=1)
        self.nin_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.nin_shortcut(x) + h


class VaeAttn(nn.Module):
    """One head as wide as the channels over the H·W tokens (1×1 conv projections)."""

    def __init__(self, c):
        super().__init__()
        self.norm = nn.GroupNorm(32, c, eps=1e-6)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(c, c, 1) for _ in range(4))

    def forward(self, x):
        b, c, h, w = x.shape
        n = self.norm(x)
        q, k, v = (p(n).reshape(b, 1, c, h * w).transpose(2, 3) for p in (self.q, self.k, self.v))
        o = F.scaled_dot_product_attention(q, k, v)
        return x + self.proj_out(o.transpose(2, 3).reshape(b, c, h, w))


class VaeMid(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.block_1, self.attn_1, self.block_2 = VaeResBlock(c, c), VaeAttn(c), VaeResBlock(c, c)

    def forward(self, x):
        return self.block_2(self.attn_1(self.block_1(x)))


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Vae(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch, nr, z = cfg["channels"], cfg["res_blocks"], cfg["z"]
        enc = [nn.Conv2d(3, ch[0], 3, padding=1)]
        prev = ch[0]
        for i, c in enumerate(ch):
            for _ in range(nr):
                enc.append(VaeResBlock(prev, c))
                prev = c
            if i != len(ch) - 1:
                enc.append(Downsample(c))
        enc += [VaeMid(ch[-1]), nn.GroupNorm(32, ch[-1], eps=1e-6), nn.SiLU(), nn.Conv2d(ch[-1], 2 * z, 3, padding=1),
                nn.Conv2d(2 * z, 2 * z, 1)]
        self.encoder = nn.Sequential(*enc)
        dec = [nn.Conv2d(z, z, 1), nn.Conv2d(z, ch[-1], 3, padding=1), VaeMid(ch[-1])]
        prev = ch[-1]
        for i in reversed(range(len(ch))):
            for _ in range(nr + 1):
                dec.append(VaeResBlock(prev, ch[i]))
                prev = ch[i]
            if i != 0:
                dec.append(Upsample(ch[i]))
        dec += [nn.GroupNorm(32, ch[0], eps=1e-6), nn.SiLU(), nn.Conv2d(ch[0], 3, 3, padding=1)]
        self.decoder = nn.Sequential(*dec)
        self.z = z

    def encode_moments(self, x):
        m = self.encoder(x)
        return m[:, :self.z], m[:, self.z:].clamp(-30.0, 20.0)

    def decode(self, z):
        return self.decoder(z)


# ---------------------------------------------------------------- transparent decoder (UNet1024) and encoder
class DecResnet(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(DEC_GROUPS, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2, self.conv2 = nn.GroupNorm(DEC_GROUPS, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        return self.conv_shortcut(x) + self.conv2(F.silu(self.norm2(h)))


class DecAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.group_norm = nn.GroupNorm(DEC_GROUPS, c)
        self.attn = CrossAttention(c, c, DEC_HEAD, bias_qkv=True)

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.group_norm(x).reshape(b, c, h * w).transpose(1, 2)
        return x + self.attn(t).transpose(1, 2).reshape(b, c, h, w)


class TransparentDecoder(nn.Module):
    """UNet1024: 7 down blocks of 2 resnets (attention in the last 3), mid, 7 up blocks of 3 (attention in the first 3)."""

    def __init__(self, widths, attention_levels=3, layers=2):
        super().__init__()
        n = len(widths)
        self.conv_in = nn.Conv2d(3, widths[0], 3, padding=1)
        self.latent_conv_in = nn.Conv2d(4, widths[2], 1)
        self.down = nn.ModuleList()
        prev = widths[0]
        for i, c in enumerate(widths):
            d = dict(res=nn.ModuleList([DecResnet(prev if j == 0 else c, c) for j in range(layers)]))
            if i >= n - attention_levels:
                d["attn"] = nn.ModuleList([DecAttention(c) for _ in range(layers)])
            if i != n - 1:
                d["resample"] = nn.Conv2d(c, c, 3, stride=2, padding=1)
            self.down.append(nn.ModuleDict(d))
            prev = c
        self.mid = nn.ModuleList([DecResnet(widths[-1], widths[-1]), DecAttention(widths[-1]), DecResnet(widths[-1], widths[-1])])
        rev = widths[::-1]
        self.up = nn.ModuleList()
        prev = rev[0]
        for u in range(n):
            out, inp = rev[u], rev[min(u + 1, n - 1)]
            res = nn.ModuleList([DecResnet((prev if j == 0 else out) + (inp if j == layers else out), out) for j in range(layers + 1)])
            d = dict(res=res)
            if u < attention_levels:
                d["attn"] = nn.ModuleList([DecAttention(out) for _ in range(layers + 1)])
            if u != n - 1:
                d["resample"] = Upsample(out)
            self.up.append(nn.ModuleDict(d))
            prev = out
        self.conv_norm_out = nn.GroupNorm(DEC_GROUPS, widths[0])
        self.conv_out = nn.Conv2d(widths[0], 4, 3, padding=1)
        self.latent_block = 3  # the first down block at 1/8 resolution

    def forward(self, pixel, latent):
        lat = self.latent_conv_in(latent)
        h = self.conv_in(pixel)
        skips = [h]
        for i, blk in enumerate(self.down):
            if i == self.latent_block:
                h = h + lat
            for j, r in enumerate(blk["res"]):
                h = r(h)
                if "attn" in blk:
                    h = blk["attn"][j](h)
                skips.append(h)
            if "resample" in blk:
                h = blk["resample"](h)
                skips.append(h)
        for m in self.mid:
            h = m(h)
        for blk in self.up:
            for j, r in enumerate(blk["res"]):
                h = r(torch.cat([h, skips.pop()], dim=1))
                if "attn" in blk:
                    h = blk["attn"][j](h)
            if "resample" in blk:
                h = blk["resample"](h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))

    def augmented(self, pixel, latent):
        """As released (estimate_augmented): 8 sequential passes, each clipped and transformed back, then the median."""
        result = []
        for flip in (False, True):
            for k in range(4):
                p, l = (torch.flip(pixel, dims=(3,)), torch.flip(latent, dims=(3,))) if flip else (pixel, latent)
                y = self(torch.rot90(p, k, dims=(2, 3)), torch.rot90(l, k, dims=(2, 3))).clip(0, 1)
                y = torch.rot90(y, -k, dims=(2, 3))
                result.append(torch.flip(y, dims=(3,)) if flip else y)
        return torch.median(torch.stack(result, dim=0), dim=0).values

    def augmented_batched(self, pixel, latent):
        """The same 8 passes as batches: one of 8 when square, else one per orientation (k even / k odd) of 4."""
        variants = [(flip, k) for flip in (False, True) for k in range(4)]

        def fwd(f, k, t):
            return torch.rot90(torch.flip(t, dims=(3,)) if f else t, k, dims=(2, 3))

        def back(f, k, t):
            t = torch.rot90(t, -k, dims=(2, 3))
            return torch.flip(t, dims=(3,)) if f else t

        groups = [variants] if pixel.shape[2] == pixel.shape[3] else [[v for v in variants if v[1] % 2 == 0], [v for v in variants if v[1] % 2 == 1]]
        result = []
        for g in groups:
            y = self(torch.cat([fwd(f, k, pixel) for f, k in g]), torch.cat([fwd(f, k, latent) for f, k in g])).clip(0, 1)
            result += [back(f, k, y[i:i + 1]) for i, (f, k) in enumerate(g)]
        return torch.median(torch.stack(result, dim=0), dim=0).values


class TransparentEncoder(nn.Module):
    def __init__(self, widths):
        super().__init__()
        layers, prev = [], 4
        for j, c in enumerate(widths):
            stride = 2 if j >= 2 and j % 2 == 0 else 1
            layers += [nn.Conv2d(prev, c, 3, padding=1, stride=stride), nn.SiLU()]
            prev = c
        layers.append(nn.Conv2d(prev, 4, 3, padding=1))
        self.blocks = nn.Sequential(*layers)

    def forward(self, x):
        return self.blocks(x)


# ---------------------------------------------------------------- shapes (as AttentionBench computes them)
def unet_attention_shapes(cfg, width, height, batch):
    nr = cfg["num_res"]
    for level, m in enumerate(cfg["mult"]):
        if cfg["input_depths"][level * nr] == 0:
            continue
        heads = m * cfg["mc"] // UNET_HEAD
        tokens = ((height // 8) >> level) * ((width // 8) >> level)
        yield (batch, heads, tokens, tokens, UNET_HEAD)
        yield (batch, heads, tokens, 77, UNET_HEAD)


def decoder_attention_shapes(widths, width, height, attention_levels=3):
    n = len(widths)
    multiple = 1 << (n - 1)
    width = (width + multiple - 1) // multiple * multiple
    height = (height + multiple - 1) // multiple * multiple
    for i, c in enumerate(widths):
        if i >= n - attention_levels:
            yield (1, c // DEC_HEAD, (height >> i) * (width >> i), (height >> i) * (width >> i), DEC_HEAD)


def shape_text(s):
    return "b%d h%d q%d k%d d%d" % s


# ---------------------------------------------------------------- timing
def percentile(sorted_values, q):
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


class Bench:
    def __init__(self, args, device, dtype):
        self.args, self.device, self.dtype = args, device, dtype
        self.records = []
        cuda = device.type == "cuda"
        self.device_name = torch.cuda.get_device_name(device) if cuda else "CPU (%d threads, torch)" % torch.get_num_threads()
        self.driver = driver_version() if cuda else ""
        self.commit = os.environ.get("LD_COMMIT") or git_commit()

    def measure(self, name, shape, fn, note=None):
        cuda = self.device.type == "cuda"
        with torch.inference_mode():
            for _ in range(self.args.warmup):
                fn()
            if cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            times = []
            for _ in range(self.args.runs):
                if cuda:
                    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    start.record()
                    fn()
                    end.record()
                    end.synchronize()
                    times.append(start.elapsed_time(end))
                else:
                    t0 = time.perf_counter()
                    fn()
                    times.append((time.perf_counter() - t0) * 1000.0)
        times.sort()
        if cuda:
            free, total = torch.cuda.mem_get_info(self.device)
            peak, used, source = torch.cuda.max_memory_allocated(self.device), total - free, "allocator"
        else:
            peak, used, source = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, 0, "process_peak_rss"
        r = dict(name=name, shape=shape, dtype=self.args.dtype, device=self.device_name, driver=self.driver, runs=len(times),
                 median_ms=round(percentile(times, 0.5), 4), p10_ms=round(percentile(times, 0.1), 4),
                 p90_ms=round(percentile(times, 0.9), 4), peak_bytes=int(peak), peak_source=source,
                 device_used_bytes=int(used), commit=self.commit)
        if note:
            r["note"] = note
        self.records.append(r)
        print("%-18s %-28s median %10.3f ms  p10 %10.3f  p90 %10.3f  peak %9.1f MiB"
              % (name, shape, r["median_ms"], r["p10_ms"], r["p90_ms"], peak / 1048576.0), file=sys.stderr, flush=True)
        self.write()

    def write(self):
        tmp = self.args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.records, f, indent=2)
        os.replace(tmp, self.args.out)

    def randn(self, *shape, scale=1.0):
        return torch.randn(*shape, device=self.device, dtype=self.dtype) * scale

    def rand(self, *shape):
        return torch.rand(*shape, device=self.device, dtype=self.dtype)

    def build(self, make):
        with torch.device(self.device):
            m = make()
        return m.to(self.dtype).eval()

    def release(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.empty_cache()


def driver_version():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def git_commit():
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--profile", choices=sorted(PROFILES), help="shapes: real (default on cuda) or tiny (default on cpu)")
    ap.add_argument("--dtype", choices=["fp16", "bf16", "fp32"], help="default fp16 on cuda, fp32 on cpu")
    ap.add_argument("--size", help="WxH,... (default: the profile's, as ld bench)")
    ap.add_argument("--batch", default="1,2")
    ap.add_argument("--components", default=",".join(COMPONENTS))
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--runs", type=int)
    ap.add_argument("--out", default="torch_reference.json")
    args = ap.parse_args()

    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        sys.exit("torch_reference.py: no CUDA device (use --device cpu --profile tiny)")
    args.profile = args.profile or ("real" if cuda else "tiny")
    args.dtype = args.dtype or ("fp16" if cuda else "fp32")
    args.warmup = args.warmup if args.warmup is not None else (3 if cuda else 1)
    args.runs = args.runs or (10 if cuda else 5)
    prof = PROFILES[args.profile]
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.size.split(",")] if args.size else prof["sizes"]
    batches = [int(b) for b in args.batch.split(",")]
    wanted = [c.strip() for c in args.components.split(",") if c.strip()]
    for c in wanted:
        if c not in COMPONENTS:
            sys.exit("torch_reference.py: unknown component %r (valid: %s)" % (c, ", ".join(COMPONENTS)))
    device = torch.device("cuda:0" if cuda else "cpu")
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[args.dtype]
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    bench = Bench(args, device, dtype)
    print("torch %s on %s, %s, profile %s, warm-up %d, runs %d" % (torch.__version__, bench.device_name, args.dtype, args.profile,
                                                                    args.warmup, args.runs), file=sys.stderr)

    def sz(w, h):
        return "%dx%d" % (w, h)

    if "attention" in wanted:
        shapes = []
        for w, h in sizes:
            for b in batches:
                shapes += list(unet_attention_shapes(prof["unet"], w, h, b))
        for w, h in sizes:
            shapes += list(decoder_attention_shapes(prof["decoder"], w, h))
        for s in dict.fromkeys(shapes):
            b, heads, nq, nk, d = s
            q, k, v = bench.randn(b, heads, nq, d), bench.randn(b, heads, nk, d), bench.randn(b, heads, nk, d)
            bench.measure("attention", shape_text(s), lambda: F.scaled_dot_product_attention(q, k, v))
            del q, k, v

    if "unet_step" in wanted:
        cfg = prof["unet"]
        unet = bench.build(lambda: SdxlUnet(cfg))
        for w, h in sizes:
            for b in batches:
                x, ctx, y = bench.randn(b, cfg["in_ch"], h // 8, w // 8), bench.randn(b, 77, cfg["context"]), bench.randn(b, cfg["adm"])
                t = torch.full((b,), 500.0, device=device)
                bench.measure("unet_step", "b%d %s" % (b, sz(w, h)), lambda: unet(x, t, ctx, y))
        del unet
        bench.release()

    if "vae_encode" in wanted or "vae_decode" in wanted:
        vae = bench.build(lambda: Vae(prof["vae"]))
        for w, h in sizes:
            if "vae_encode" in wanted:
                px = bench.rand(1, 3, h, w) * 2 - 1
                bench.measure("vae_encode", "b1 " + sz(w, h), lambda: vae.encode_moments(px))
            if "vae_decode" in wanted:
                z = bench.randn(1, 4, h // 8, w // 8, scale=3.0)
                bench.measure("vae_decode", "b1 " + sz(w, h), lambda: vae.decode(z))
        del vae
        bench.release()

    if any(c.startswith("tdec") for c in wanted):
        dec = bench.build(lambda: TransparentDecoder(prof["decoder"]))
        multiple = 1 << (len(prof["decoder"]) - 1)
        for w, h in sizes:
            if w % multiple or h % multiple:
                print("tdec %s: skipped (sides must be multiples of %d here; ld pads)" % (sz(w, h), multiple), file=sys.stderr)
                continue
            px, lat = bench.rand(1, 3, h, w), bench.randn(1, 4, h // 8, w // 8, scale=3.0)
            if "tdec_single" in wanted:
                bench.measure("tdec_single", "b1 " + sz(w, h), lambda: dec(px, lat))
            if "tdec_8way" in wanted:
                bench.measure("tdec_8way", "b1 " + sz(w, h), lambda: dec.augmented(px, lat), note="8 sequential passes + median, as released")
            if "tdec_8way_batched" in wanted:
                bench.measure("tdec_8way_batched", "b1 " + sz(w, h), lambda: dec.augmented_batched(px, lat),
                              note="passes batched (8, or 2x4 when not square)")
        del dec
        bench.release()

    if "tenc" in wanted:
        enc = bench.build(lambda: TransparentEncoder(prof["encoder"]))
        for w, h in sizes:
            xin = bench.rand(1, 4, h, w)
            bench.measure("tenc", "b1 " + sz(w, h), lambda: enc(xin))
        del enc
        bench.release()

    bench.write()
    print("wrote %s (%d records)" % (args.out, len(bench.records)), file=sys.stderr)


if __name__ == "__main__":
    main()
