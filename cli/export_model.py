"""A star architecture as a standalone PyTorch module (written by `star export --format pytorch`).

Needs only torch. `StarModel()` builds the architecture in ARCH (at the end of this file);
`StarModel.load_safetensors(path)` or `model.load_state_dict(...)` loads star's weights:
the state_dict names are star's tensor names (embed, final_norm, liv.<i>.proj.<slot>, ...;
docs/export.md lists them). forward(tokens [B, T] int64) returns logits [B, T, vocab] and
computes exactly what star's CPU engine computes:

  embedding (tied with the LM head) -> LIV blocks -> final RMSNorm -> logits = h @ embed^T

Each LIV: features (a projection of its input per feature-group slot, dense or
block-diagonal, optionally followed by a depthwise causal short conv), the class's token
mixer, an output projection (dense or diagonal). Its norm gene: pre x + f(RMSNorm(x)),
post RMSNorm(x + f(x)), none x + f(x).
Featurizer sharing is weight tying: a tied LIV has no projection weights of its own and
uses its owner's (the owner's names in the state_dict). Feature-group sharing is reuse:
a LIV with kv_from >= 0 does not compute its memory features (K and V; Rec-2: B, X and
dt) and reads those its owner computed.
"""
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def rms_norm(x, weight, eps):
    """x * rsqrt(mean(x^2) + eps) * weight, over the last dim (star computes the mean in double)."""
    ms = x.double().pow(2).mean(-1, keepdim=True)
    r = torch.rsqrt(ms + eps).to(x.dtype)
    y = x * r
    return y * weight if weight is not None else y


def activation(x, kind):
    if kind == "identity":
        return x
    if kind == "sigmoid":
        return torch.sigmoid(x)
    if kind == "silu":
        return F.silu(x)
    if kind == "gelu":
        return F.gelu(x, approximate="tanh")
    if kind == "elu1":
        return F.elu(x) + 1
    raise ValueError("unknown activation " + kind)


def causal_depthwise_conv(x, w):
    """y[:, t, c] = sum_k w[c, k] * x[:, t - k, c] (w[c, 0] is the current token). x [B, T, C], w [C, K]."""
    C, K = w.shape
    xt = F.pad(x.transpose(1, 2), (K - 1, 0))
    return F.conv1d(xt, w.flip(-1).unsqueeze(1), groups=C).transpose(1, 2)


def project(x, w):
    """Dense [dim, D] (y = x w^T) or block-diagonal [G, dim/G, D/G] (block g maps input channels
    g*D/G.. to output channels g*dim/G..)."""
    if w.dim() == 2:
        return F.linear(x, w)
    G, o, c = w.shape
    y = torch.einsum("btgc,goc->btgo", x.reshape(*x.shape[:-1], G, c), w)
    return y.reshape(*x.shape[:-1], G * o)


def rope(x, base):
    """Rotary positions on x [B, T, H, d] (pairs i and i + d/2; angle pos * base^(-2i/d), in double)."""
    T, d = x.shape[1], x.shape[-1]
    half = d // 2
    pos = torch.arange(T, dtype=torch.float64, device=x.device)
    inv = base ** (-2.0 * torch.arange(half, dtype=torch.float64, device=x.device) / d)
    ang = pos[:, None] * inv[None, :]
    c = torch.cos(ang).to(x.dtype)[None, :, None, :]
    s = torch.sin(ang).to(x.dtype)[None, :, None, :]
    a, z = x[..., :half], x[..., half:2 * half]
    return torch.cat([a * c - z * s, a * s + z * c], dim=-1)


def softmax_attention(q, k, v, window, scale):
    """q [B, T, H, e], k [B, T, Hkv, e], v [B, T, Hkv, hd] -> [B, T, H, hd]. Causal; a window w > 0
    keeps the keys j with i - w < j <= i. Query head h reads key/value head h // (H / Hkv).
    Through torch's scaled_dot_product_attention (a fused kernel where the device has one, so
    the T x T scores are not kept): is_causal without a window, a boolean mask with one."""
    H, Hkv, T = q.shape[2], k.shape[2], q.shape[1]
    rep = H // Hkv
    if rep > 1:
        k = k.repeat_interleave(rep, dim=2)
        v = v.repeat_interleave(rep, dim=2)
    q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # [B, H, T, .]
    if window > 0:
        i = torch.arange(T, device=q.device)[:, None]
        j = torch.arange(T, device=q.device)[None, :]
        mask = (j <= i) & (j > i - window)
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)
    else:
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale)
    return o.transpose(1, 2)


class LIV(nn.Module):
    """The weights one LIV owns (tied weights live in their owner). Parameter names follow star."""

    def __init__(self, spec, owned, depth):
        super().__init__()
        self.spec = spec
        D, inner, H = spec["width"], spec["inner"], spec["n_heads"]
        if spec["norm"] != "none":
            self.norm = nn.Parameter(torch.ones(D))
        self.proj = nn.ParameterDict()
        self.fconv = nn.ParameterDict()
        for f in spec["features"]:
            if f["slot"] not in owned:
                continue
            g = f["groups"]
            shape = (f["dim"], D) if g == 1 else (g, f["dim"] // g, D // g)
            self.proj[f["slot"]] = nn.Parameter(torch.empty(shape))
            if f["conv_len"] > 0:
                self.fconv[f["slot"]] = nn.Parameter(torch.empty(f["dim"], f["conv_len"]))
        if spec["out_dense"]:
            self.out = nn.Parameter(torch.empty(D, inner))
        else:
            self.out_diag = nn.Parameter(torch.ones(D))
        cls = spec["class"]
        if cls == "SA-diff":
            self.register_parameter("lambda", nn.Parameter(torch.empty(H)))
        if cls == "Rec-2":
            if "dt" in owned:
                self.dt_proj = nn.Parameter(torch.empty(H, D))
                self.dt_bias = nn.Parameter(torch.empty(H))
                self.a_log = nn.Parameter(torch.empty(H))
            self.skip = nn.Parameter(torch.ones(H))
        if cls == "GConv-1":
            self.conv = nn.Parameter(torch.empty(inner, spec["conv_len"]))
        if cls == "GConv-2":
            M = spec["filter_modes"]
            self.filter_a = nn.Parameter(torch.empty(inner, M))
            self.filter_b = nn.Parameter(torch.empty(inner, M))
            self.filter_alpha = nn.Parameter(torch.empty(inner))
            self.skip = nn.Parameter(torch.ones(inner))
        self.reset_parameters(depth)

    @torch.no_grad()
    def reset_parameters(self, depth):
        """star's initialization (the same distributions, not the same random numbers)."""
        for name, p in self.named_parameters():
            if name.startswith("proj.") or name == "dt_proj":
                p.normal_(0.0, 0.02)
            elif name.startswith("fconv."):
                p.zero_()
                p[:, 0] = 1.0
            elif name == "out":
                p.normal_(0.0, 0.02 / math.sqrt(2.0 * depth))
            elif name in ("norm", "out_diag", "skip"):
                p.fill_(1.0)
            elif name == "lambda":
                p.fill_(0.8)
            elif name == "dt_bias":
                p.fill_(-2.0)
            elif name == "a_log":
                p.zero_()
            elif name == "conv":
                b = 1.0 / math.sqrt(p.shape[1])
                p.uniform_(-b, b)
            elif name in ("filter_a", "filter_b"):
                p.normal_(0.0, 0.5 / math.sqrt(p.shape[1]))
            elif name == "filter_alpha":
                p.uniform_(-1.0, 1.0)
            else:
                raise RuntimeError("no initialization for " + name)


class StarModel(nn.Module):
    def __init__(self, arch=None):
        super().__init__()
        self.arch = arch = arch if arch is not None else ARCH
        r = arch["resolved"]
        self.const = r["constants"]
        D, V = arch["width"], arch["vocab"]
        specs = r["livs"]
        # Which weights each LIV owns, and where each LIV reads each weight from (star's rule,
        # eval/model_params.c: a tied LIV uses its owner's tensor when the owner has one).
        self.source = []
        owned_sets = []
        for i, s in enumerate(specs):
            src, owned = {}, set()
            t = s["tie_to"]
            for f in s["features"]:
                if not f["computes"]:
                    continue
                if t >= 0 and ("proj", f["slot"]) in self.source[t]:
                    src[("proj", f["slot"])] = self.source[t][("proj", f["slot"])]
                    if f["conv_len"] > 0:
                        src[("fconv", f["slot"])] = self.source[t][("fconv", f["slot"])]
                else:
                    owned.add(f["slot"])
                    src[("proj", f["slot"])] = "liv.%d.proj.%s" % (i, f["slot"])
                    if f["conv_len"] > 0:
                        src[("fconv", f["slot"])] = "liv.%d.fconv.%s" % (i, f["slot"])
            if s["class"] == "Rec-2" and s["kv_from"] < 0:
                if t >= 0 and ("dt_proj",) in self.source[t]:
                    for k in ("dt_proj", "dt_bias", "a_log"):
                        src[(k,)] = self.source[t][(k,)]
                else:
                    owned.add("dt")
                    for k in ("dt_proj", "dt_bias", "a_log"):
                        src[(k,)] = "liv.%d.%s" % (i, k)
            self.source.append(src)
            owned_sets.append(owned)
        self.embed = nn.Parameter(torch.empty(V, D).normal_(0.0, 0.02))
        self.liv = nn.ModuleList(LIV(s, owned_sets[i], len(specs)) for i, s in enumerate(specs))
        self.final_norm = nn.Parameter(torch.ones(D))

    def load_safetensors(self, path):
        """Loads weights written by star export --weights (needs the safetensors package)."""
        from safetensors.torch import load_file
        self.load_state_dict(load_file(path), strict=True)
        return self

    def num_parameters(self):
        return sum(p.numel() for p in self.parameters())

    def forward(self, tokens):
        P = dict(self.named_parameters())
        eps = self.const["rmsnorm_eps"]
        x = F.embedding(tokens, self.embed)
        mem = {}  # per LIV: the memory features it computed (for LIVs that reuse them)
        for i, layer in enumerate(self.liv):
            s = layer.spec
            if s["norm"] == "pre":
                h = rms_norm(x, layer.norm, eps)
                x = x + self._liv_forward(i, layer, h, P, mem)
            elif s["norm"] == "post":
                x = rms_norm(x + self._liv_forward(i, layer, x, P, mem), layer.norm, eps)
            else:
                x = x + self._liv_forward(i, layer, x, P, mem)
        h = rms_norm(x, self.final_norm, eps)
        return F.linear(h, self.embed)

    def _liv_forward(self, i, layer, h, P, mem):
        s = layer.spec
        src = self.source[i]
        feat = {}
        for f in s["features"]:
            if not f["computes"]:
                continue
            y = project(h, P[src[("proj", f["slot"])]])
            if f["conv_len"] > 0:
                y = causal_depthwise_conv(y, P[src[("fconv", f["slot"])]])
            feat[f["slot"]] = y
        cls = s["class"]
        if cls in ("SA-1", "SA-2", "SA-3", "SA-diff"):
            core = self._attention(i, layer, feat, mem)
        elif cls == "Rec-1":
            core = self._linear_attention(i, layer, feat, mem)
        elif cls == "Rec-2":
            core = self._ssd(i, layer, h, feat, P, mem)
        elif cls in ("GConv-1", "GConv-2"):
            core = self._gated_conv(layer, feat)
        elif cls == "GMemless":
            core = activation(feat["gate"], s["act"]) * feat["up"]
        else:
            raise ValueError("unknown class " + cls)
        if s["out_dense"]:
            return F.linear(core, layer.out)
        return core * layer.out_diag

    def _attention(self, i, layer, feat, mem):
        s = layer.spec
        B, T = feat["q"].shape[:2]
        H, Hkv, hd = s["n_heads"], s["n_kv_heads"], s["head_dim"]
        base = self.const["rope_base"]
        diff = s["class"] == "SA-diff"
        # Differential attention ropes each half-head on its own.
        rh, rd = (2, hd // 2) if diff else (1, hd)
        q = rope(feat["q"].reshape(B, T, H * rh, rd), base).reshape(B, T, H, hd)
        if s["kv_from"] < 0:
            k = rope(feat["k"].reshape(B, T, Hkv * rh, rd), base).reshape(B, T, Hkv, hd)
            mem[i] = (k, feat["v"].reshape(B, T, Hkv, hd))
        k, v = mem[s["kv_from"] if s["kv_from"] >= 0 else i]
        w = s["window"]
        if not diff:
            o = softmax_attention(q, k, v, w, 1.0 / math.sqrt(hd))
        else:
            half = hd // 2
            scale = 1.0 / math.sqrt(half)
            o1 = softmax_attention(q[..., :half], k[..., :half], v, w, scale)
            o2 = softmax_attention(q[..., half:], k[..., half:], v, w, scale)
            lam = getattr(layer, "lambda")
            o = rms_norm(o1 - lam[None, None, :, None] * o2, None, self.const["rmsnorm_eps"])
            o = o * (1.0 - self.const["diff_lambda_init"])
        return o.reshape(B, T, H * hd)

    def _linear_attention(self, i, layer, feat, mem):
        s = layer.spec
        B, T = feat["q"].shape[:2]
        H, hd = s["n_heads"], s["head_dim"]
        if s["kv_from"] < 0:
            mem[i] = (feat["k"], feat["v"])
        k, v = mem[s["kv_from"] if s["kv_from"] >= 0 else i]
        fq = activation(feat["q"], s["act"]).reshape(B, T, H, hd) * (1.0 / math.sqrt(hd))
        fk = activation(k, s["act"]).reshape(B, T, H, hd)
        a = torch.einsum("bihd,bjhd->bhij", fq, fk)
        a = a * torch.tril(torch.ones(T, T, dtype=a.dtype, device=a.device))
        return torch.einsum("bhij,bjhp->bihp", a, v.reshape(B, T, H, hd)).reshape(B, T, H * hd)

    def _ssd(self, i, layer, h, feat, P, mem):
        """S_t = a_t S_{t-1} + dt_t B_t x_t^T, y_t = C_t^T S_t + D x_t, a_t = exp(-dt_t exp(A_log)),
        dt_t = softplus(h W_dt^T + dt_bias), per head; B and C shared by the heads."""
        s = layer.spec
        src = self.source[i]
        B, T = feat["c"].shape[:2]
        H, Pd = s["n_heads"], s["head_dim"]
        if s["kv_from"] < 0:
            dt_raw = F.linear(h, P[src[("dt_proj",)]])
            mem[i] = (feat["b"], feat["x"], dt_raw, P[src[("dt_bias",)]], P[src[("a_log",)]])
        Bm, X, dt_raw, dt_bias, a_log = mem[s["kv_from"] if s["kv_from"] >= 0 else i]
        dt = F.softplus(dt_raw + dt_bias)                      # [B, T, H]
        log_a = -dt * torch.exp(a_log)                         # [B, T, H]
        cum = torch.cumsum(log_a, dim=1).permute(0, 2, 1)      # [B, H, T]
        seg = cum[:, :, :, None] - cum[:, :, None, :]          # [B, H, i, j] = sum_{j<t<=i} log a_t
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool, device=cum.device))
        decay = torch.exp(seg.masked_fill(~causal, float("-inf")))
        cb = torch.einsum("bin,bjn->bij", feat["c"], Bm)       # [B, i, j]
        Xh = X.reshape(B, T, H, Pd)
        w = cb[:, None] * decay * dt.permute(0, 2, 1)[:, :, None, :]  # [B, H, i, j]
        y = torch.einsum("bhij,bjhp->bihp", w, Xh) + layer.skip[None, None, :, None] * Xh
        return y.reshape(B, T, H * Pd)

    def _gated_conv(self, layer, feat):
        s = layer.spec
        g, val = feat["gate"], feat["value"]
        if s["class"] == "GConv-1":
            u = causal_depthwise_conv(val, layer.conv)
        else:
            # The filter and the FFT in fp32 whatever the module's dtype (torch.fft needs it).
            T, dev = val.shape[1], val.device
            T0 = self.const["long_conv_t0"]
            M = layer.filter_a.shape[1]
            t = torch.arange(T, dtype=torch.float32, device=dev)
            wm = torch.tensor([math.pi * (m + 1) / T0 for m in range(M)], dtype=torch.float32, device=dev)
            ang = wm[:, None] * t[None, :]                     # [M, T]
            fa, fb, alpha = layer.filter_a.float(), layer.filter_b.float(), layer.filter_alpha.float()
            filt = fa @ torch.cos(ang) + fb @ torch.sin(ang)  # [C, T]
            filt = filt * torch.exp(-F.softplus(alpha)[:, None] * t[None, :] / T0)
            # Causal convolution by FFT, zero-padded to a power of two >= 2T.
            n = 1 << (2 * T - 1).bit_length()
            xf = torch.fft.rfft(val.float().transpose(1, 2), n=n)
            hf = torch.fft.rfft(filt, n=n)
            conv = torch.fft.irfft(xf * hf, n=n)[..., :T].transpose(1, 2)
            u = conv.to(val.dtype) + layer.skip * val
        return activation(g, s["act"]) * u


# @ARCH@
