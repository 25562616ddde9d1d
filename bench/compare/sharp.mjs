// The avatar job done by sharp, timed like `avatar bench` (see peers.py for the job).
// usage: node sharp.mjs DIR ITERATIONS WARMUP
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
const require = createRequire(path.join(process.cwd(), "package.json"));
const sharp = require("sharp");
sharp.concurrency(1);
sharp.cache(false);

const SIZES = [1024, 512, 192, 72, 48, 32, 24];

async function job(data) {
  const meta = await sharp(data).metadata();
  let total = 0;
  if (meta.format === "gif" && (meta.pages || 1) > 1) {
    for (const s of SIZES) {
      const out = await sharp(data, { animated: true })
        .resize(s, s, { fit: "contain", background: { r: 0, g: 0, b: 0, alpha: 0 }, kernel: "lanczos3" })
        .gif().toBuffer();
      total += out.length;
    }
    return total;
  }
  if (meta.format !== "jpeg") return await fromOneDecode(data);
  // A JPEG: each size from the file, as sharp's docs advise for thumbnails: `resize`
  // then shrinks on load (libjpeg's 1/2, 1/4, 1/8 scaling) where the size allows.
  // 1024x768: 60 ms against 97 from one decode; progressive 115 against 153.
  const background = { r: 0, g: 0, b: 0, alpha: 1 };
  for (const s of SIZES) {
    const out = await sharp(data).rotate()
      .resize(s, s, { fit: "contain", background, kernel: "lanczos3" })
      .jpeg({ quality: 85, chromaSubsampling: "4:2:0" }).toBuffer();
    total += out.length;
  }
  return total;
}

// PNG (no shrink-on-load: seven decodes took 315 ms against 199): one decode to raw
// RGBA, letterboxed once, each size from that.
async function fromOneDecode(data) {
  let total = 0;
  const { data: raw, info } = await sharp(data).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  let alpha = false;
  for (let i = 3; i < raw.length; i += 4) if (raw[i] < 255) { alpha = true; break; }
  const side = Math.max(info.width, info.height);
  const base = sharp(raw, { raw: { width: info.width, height: info.height, channels: 4 } });
  const square = await base
    .resize(side, side, { fit: "contain", background: { r: 0, g: 0, b: 0, alpha: alpha ? 0 : 1 } })
    .raw().toBuffer();
  for (const s of SIZES) {
    let img = sharp(square, { raw: { width: side, height: side, channels: 4 } })
      .resize(s, s, { kernel: "lanczos3" });
    const out = alpha
      ? await img.png().toBuffer()
      : await img.removeAlpha().jpeg({ quality: 85, chromaSubsampling: "4:2:0" }).toBuffer();
    total += out.length;
  }
  return total;
}

const [dir, iterations, warmup] = [process.argv[2], +process.argv[3], +process.argv[4]];
const results = [];
for (const name of fs.readdirSync(dir).sort()) {
  if (!/\.(jpe?g|png|gif)$/i.test(name)) continue;
  const data = fs.readFileSync(path.join(dir, name));
  let out = 0;
  for (let i = 0; i < Math.max(warmup, 1); i++) out = await job(data);
  const times = [];
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await job(data);
    times.push(performance.now() - t);
  }
  const wall = (performance.now() - start) / 1e3;
  times.sort((a, b) => a - b);
  results.push({ input: name, ms_per_job: times[Math.floor(times.length / 2)],
                 jobs_per_s: iterations / wall, iters: iterations, output_bytes: out });
}
console.log(JSON.stringify({ lib: "sharp", threads: 1, in_flight: 1, results,
                             peak_rss_kb: Math.round(process.resourceUsage().maxRSS) }));
