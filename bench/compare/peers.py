"""The avatar job, done by libvips (pyvips) or Pillow, timed like `avatar bench`.

usage: peers.py vips|pillow DIR ITERATIONS WARMUP

The job, as in avatar-engine: decode once, apply EXIF orientation, letterbox to a
square (black bars when opaque, transparent when the image has transparency), resize
to 1024, 512, 192, 72, 48, 32 and 24 with Lanczos3, encode JPEG q85 4:2:0 baseline
(or PNG when any pixel is transparent) with metadata stripped; an animated GIF gives
an animated GIF per size. One thread. Prints one JSON object like `avatar bench`.

Each peer at its documented best for thumbnails:
- libvips: one decode, then `resize` per size. Shrink-on-load was tried and is
  slower here: `thumbnail_buffer` per size (each decoding the file again, at 1/2, 1/4
  or 1/8 scale where it can) took 52 ms against 34 for a 1024x768 JPEG, 111 against
  74 for the progressive one; using it only for sizes of a quarter or less, 49-54
  against 36-38.
- Pillow: one decode, then `resize(..., reducing_gap=2.0)` per size, what
  `Image.thumbnail` does (an integer `reduce()` first, then Lanczos).
"""
import io, json, os, statistics, sys, time

SIZES = [1024, 512, 192, 72, 48, 32, 24]


def vips_job(data):
    import pyvips
    probe = pyvips.Image.new_from_buffer(data, "")
    pages = probe.get("n-pages") if "n-pages" in probe.get_fields() else 1
    if probe.get("vips-loader").startswith("gifload") and pages > 1:
        im = pyvips.Image.new_from_buffer(data, "", n=-1)
        ph = im.get("page-height")
        w = im.width
        side = max(w, ph)
        if im.bands < 4:
            im = im.bandjoin(255)
        frames = [im.crop(0, i * ph, w, ph).gravity("centre", side, side, extend="background", background=[0, 0, 0, 0])
                  for i in range(pages)]
        sq = pyvips.Image.arrayjoin(frames, across=1).copy_memory()
        sq.set_type(pyvips.GValue.gint_type, "page-height", side)
        total = 0
        for s in SIZES:
            r = sq.resize(s / side, kernel="lanczos3")
            total += len(r.gifsave_buffer(keep="none"))
        return total
    im = pyvips.Image.new_from_buffer(data, "").autorot()
    alpha = im.hasalpha() and im.extract_band(im.bands - 1).min() < 255
    if not alpha and im.hasalpha():
        im = im.extract_band(0, n=im.bands - 1)
    if im.bands < 3:
        im = im.colourspace("srgb")
    side = max(im.width, im.height)
    bg = [0, 0, 0, 0] if alpha else [0, 0, 0]
    sq = im.gravity("centre", side, side, extend="background", background=bg).copy_memory()
    total = 0
    for s in SIZES:
        r = sq.resize(s / side, kernel="lanczos3")
        if alpha:
            total += len(r.pngsave_buffer(keep="none"))
        else:
            total += len(r.jpegsave_buffer(Q=85, subsample_mode="on", keep="none"))
    return total


def pillow_job(data):
    from PIL import Image, ImageOps, ImageSequence
    im = Image.open(io.BytesIO(data))
    if im.format == "GIF" and getattr(im, "n_frames", 1) > 1:
        side = max(im.size)
        frames, durations = [], []
        for f in ImageSequence.Iterator(im):
            fr = f.convert("RGBA")
            sq = Image.new("RGBA", (side, side), (0, 0, 0, 0))
            sq.paste(fr, ((side - fr.width) // 2, (side - fr.height) // 2))
            frames.append(sq)
            durations.append(f.info.get("duration", 100))
        total = 0
        for s in SIZES:
            rs = [f.resize((s, s), Image.LANCZOS, reducing_gap=2.0) for f in frames]
            buf = io.BytesIO()
            rs[0].save(buf, "GIF", save_all=True, append_images=rs[1:], duration=durations, loop=im.info.get("loop", 0), disposal=2)
            total += len(buf.getvalue())
        return total
    im = ImageOps.exif_transpose(im)
    im = im.convert("RGBA") if (im.mode in ("RGBA", "LA", "PA", "P") or "transparency" in im.info) else im.convert("RGB")
    alpha = im.mode == "RGBA" and im.getchannel("A").getextrema()[0] < 255
    if im.mode == "RGBA" and not alpha:
        im = im.convert("RGB")
    side = max(im.size)
    sq = Image.new(im.mode, (side, side), (0, 0, 0, 0) if alpha else (0, 0, 0))
    sq.paste(im, ((side - im.width) // 2, (side - im.height) // 2))
    total = 0
    for s in SIZES:
        r = sq.resize((s, s), Image.LANCZOS, reducing_gap=2.0)
        buf = io.BytesIO()
        if alpha:
            r.save(buf, "PNG")
        else:
            r.save(buf, "JPEG", quality=85, subsampling=2)
        total += len(buf.getvalue())
    return total


def main():
    lib, folder, iterations, warmup = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if lib == "vips":
        import pyvips
        pyvips.cache_set_max(0)
        job = vips_job
    else:
        job = pillow_job
    results = []
    for name in sorted(os.listdir(folder)):
        if not name.lower().endswith((".jpg", ".jpeg", ".png", ".gif")):
            continue
        data = open(os.path.join(folder, name), "rb").read()
        out = 0
        for _ in range(max(warmup, 1)):
            out = job(data)
        times = []
        start = time.perf_counter()
        for _ in range(iterations):
            t = time.perf_counter()
            job(data)
            times.append((time.perf_counter() - t) * 1e3)
        wall = time.perf_counter() - start
        results.append({"input": name, "ms_per_job": statistics.median(times),
                        "jobs_per_s": iterations / wall, "iters": iterations, "output_bytes": out})
    import resource
    print(json.dumps({"lib": lib, "threads": 1, "in_flight": 1, "results": results,
                      "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main()
