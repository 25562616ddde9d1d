"""Output quality of avatar-engine and its peers, scored with SSIMULACRA2 against a
float reference.

usage: quality.py DIR WORK AVATAR_BIN SCORER_BIN SHARP_DIR

For every still in DIR (animated GIFs are left out: see README), each tool makes the
seven renditions its own best way (Pillow `ImageOps.pad`, libvips `thumbnail_image` +
`gravity`, sharp `fit: "contain"`, `avatar render`), JPEG q85 4:2:0, or PNG when the
picture has transparency. The reference is computed here, in float64, and never
rounded: the picture decoded by Pillow (libjpeg-turbo), EXIF orientation applied,
alpha premultiplied, resized with Lanczos3 (support 3 x the scale when shrinking,
weights normalised, as Pillow and libvips define it) to its fitted size (long side =
size, short side rounded half up, centred, the odd pixel after), unpremultiplied and
placed on exact bars (black, or alpha 0). Renditions with transparency are composited
on black and on white and the lower score kept (as libjxl's ssimulacra2 does). Sizes
under 256 are enlarged, reference and rendition alike, by nearest neighbour to at
least 256 so the metric's six scales exist. Prints one JSON object.
"""
import io, json, math, os, subprocess, sys

import numpy as np
from PIL import Image, ImageOps

SIZES = [1024, 512, 192, 72, 48, 32, 24]
TOOLS = ["avatar", "libvips", "sharp", "pillow"]


def load(path):
    """The picture as displayed: float RGBA in 0..1, and whether it has transparency."""
    im = ImageOps.exif_transpose(Image.open(path))
    im = im.convert("RGBA")
    a = np.asarray(im, dtype=np.float64) / 255.0
    return a, bool((a[..., 3] < 1.0).any())


def lanczos3(n_in, n_out):
    """The (n_out, n_in) weight matrix of a Lanczos3 resize."""
    scale = n_in / n_out
    fs = max(scale, 1.0)
    support = 3.0 * fs
    centre = (np.arange(n_out) + 0.5) * scale
    src = np.arange(n_in) + 0.5
    x = (src[None, :] - centre[:, None]) / fs
    w = np.where(np.abs(x) < 3.0, np.sinc(x) * np.sinc(x / 3.0), 0.0)
    w[np.abs(src[None, :] - centre[:, None]) > support] = 0.0
    return w / w.sum(axis=1, keepdims=True)


def fitted(w, h, s):
    """Fitted size and offset of a w x h picture in an s x s square."""
    if w >= h:
        fw, fh = s, max(1, math.floor(h * s / w + 0.5))
    else:
        fw, fh = max(1, math.floor(w * s / h + 0.5)), s
    return fw, fh, (s - fw) // 2, (s - fh) // 2


def reference(rgba, alpha, s):
    h, w = rgba.shape[:2]
    fw, fh, x0, y0 = fitted(w, h, s)
    pre = rgba.copy()
    pre[..., :3] *= pre[..., 3:4]
    wy, wx = lanczos3(h, fh), lanczos3(w, fw)
    r = np.tensordot(wy, pre, axes=(1, 0))  # (fh, w, 4)
    r = np.tensordot(r, wx, axes=(1, 1)).transpose(0, 2, 1)  # (fh, fw, 4)
    a = np.clip(r[..., 3:4], 0.0, 1.0)
    rgb = np.where(a > 0, r[..., :3] / np.maximum(a, 1e-12), 0.0)
    out = np.zeros((s, s, 4))
    if not alpha:
        out[..., 3] = 1.0
    out[y0:y0 + fh, x0:x0 + fw, :3] = np.clip(rgb, 0.0, 1.0)
    out[y0:y0 + fh, x0:x0 + fw, 3:4] = a if alpha else 1.0
    return out


def render_pillow(path, alpha, s):
    im = ImageOps.exif_transpose(Image.open(path))
    im = im.convert("RGBA" if alpha else "RGB")
    sq = ImageOps.pad(im, (s, s), Image.LANCZOS, color=(0, 0, 0, 0) if alpha else (0, 0, 0))
    buf = io.BytesIO()
    sq.save(buf, "PNG") if alpha else sq.save(buf, "JPEG", quality=85, subsampling=2)
    return buf.getvalue()


def render_vips(path, alpha, s):
    import pyvips
    im = pyvips.Image.thumbnail(path, s, height=s, size="both")
    if not alpha and im.hasalpha():
        im = im.flatten(background=[0, 0, 0])
    if im.bands < 3:
        im = im.colourspace("srgb")
    bg = [0, 0, 0, 0] if alpha else [0, 0, 0]
    sq = im.gravity("centre", s, s, extend="background", background=bg)
    if alpha:
        return sq.pngsave_buffer(keep="none")
    return sq.jpegsave_buffer(Q=85, subsample_mode="on", keep="none")


def decoded(data):
    im = Image.open(io.BytesIO(data)).convert("RGBA")
    return np.asarray(im, dtype=np.float64) / 255.0


def on(rgba, bg):
    return rgba[..., :3] * rgba[..., 3:4] + bg * (1.0 - rgba[..., 3:4])


def main():
    folder, work, avatar, scorer, sharp_dir = sys.argv[1:6]
    os.makedirs(work, exist_ok=True)
    names = sorted(n for n in os.listdir(folder)
                   if n.lower().endswith((".jpg", ".jpeg", ".png")))
    outputs = {}  # (input, tool, size) -> bytes
    for name in names:
        path = os.path.join(folder, name)
        stem = os.path.splitext(name)[0]
        rgba, alpha = load(path)
        d = os.path.join(work, "avatar", stem)
        subprocess.run([avatar, "render", path, "--out", d], check=True, stdout=subprocess.DEVNULL)
        for s in SIZES:
            ext = "png" if alpha else "jpg"
            outputs[(name, "avatar", s)] = open(os.path.join(d, f"{s}.{ext}"), "rb").read()
            outputs[(name, "pillow", s)] = render_pillow(path, alpha, s)
            outputs[(name, "libvips", s)] = render_vips(path, alpha, s)
        sd = os.path.join(work, "sharp", stem)
        subprocess.run(["node", os.path.join(os.path.dirname(__file__), "sharp_write.mjs"),
                        path, sd, "1" if alpha else "0"], check=True, cwd=sharp_dir)
        for s in SIZES:
            outputs[(name, "sharp", s)] = open(os.path.join(sd, f"{s}.{'png' if alpha else 'jpg'}"), "rb").read()

    # Write every pair as raw float32 RGB and score them in one scorer process.
    pairs, lines = [], []
    raw = os.path.join(work, "raw")
    os.makedirs(raw, exist_ok=True)
    for name in names:
        rgba, alpha = load(os.path.join(folder, name))
        for s in SIZES:
            ref = reference(rgba, alpha, s)
            k = max(1, math.ceil(256 / s))
            big = lambda a: np.repeat(np.repeat(a, k, axis=0), k, axis=1)
            bgs = [0.0, 1.0] if alpha else [0.0]
            for bg in bgs:
                rp = os.path.join(raw, f"{name}-{s}-{bg}-ref.f32")
                big(on(ref, bg)).astype("<f4").tofile(rp)
                for tool in TOOLS:
                    out = decoded(outputs[(name, tool, s)])
                    if out.shape[:2] != (s, s):
                        raise SystemExit(f"{tool} {name} {s}: {out.shape}")
                    op = os.path.join(raw, f"{name}-{s}-{bg}-{tool}.f32")
                    big(on(out, bg)).astype("<f4").tofile(op)
                    pairs.append((name, tool, s))
                    lines.append(f"{s * k} {s * k} {rp} {op}\n")
    res = subprocess.run([scorer], input="".join(lines), capture_output=True, text=True, check=True)
    scores = {}
    for (name, tool, s), v in zip(pairs, res.stdout.split()):
        key = (name, tool, s)
        scores[key] = min(scores.get(key, math.inf), float(v))
    rows = []
    for s in SIZES:
        row = {"size": s}
        for tool in TOOLS:
            row[tool] = {
                "score": sum(scores[(n, tool, s)] for n in names) / len(names),
                "bytes": sum(len(outputs[(n, tool, s)]) for n in names),
            }
        rows.append(row)
    per_input = [{"input": n, "tool": t, "size": s, "score": scores[(n, t, s)],
                  "bytes": len(outputs[(n, t, s)])} for n in names for t in TOOLS for s in SIZES]
    print(json.dumps({"inputs": names, "sizes": rows, "per_input": per_input}))


if __name__ == "__main__":
    main()
