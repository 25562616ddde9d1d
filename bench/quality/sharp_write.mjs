// sharp's renditions for bench/quality: fit "contain" on black (or transparent) bars,
// Lanczos3, JPEG q85 4:2:0 or PNG. usage: node sharp_write.mjs INPUT OUT_DIR ALPHA(0|1)
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
const require = createRequire(path.join(process.cwd(), "package.json"));
const sharp = require("sharp");

const SIZES = [1024, 512, 192, 72, 48, 32, 24];
const [input, out, alpha] = [process.argv[2], process.argv[3], process.argv[4] === "1"];
fs.mkdirSync(out, { recursive: true });
for (const s of SIZES) {
  const img = sharp(input).rotate().resize(s, s, {
    fit: "contain", kernel: "lanczos3",
    background: { r: 0, g: 0, b: 0, alpha: alpha ? 0 : 1 },
  });
  const buf = alpha
    ? await img.png().toBuffer()
    : await img.flatten({ background: "#000000" }).jpeg({ quality: 85, chromaSubsampling: "4:2:0" }).toBuffer();
  fs.writeFileSync(path.join(out, `${s}.${alpha ? "png" : "jpg"}`), buf);
}
