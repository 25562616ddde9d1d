"""Prints bench/quality's result as a Markdown table: per size, each tool's mean
SSIMULACRA2 score and total bytes over the inputs. usage: table.py quality.json"""
import json, sys

d = json.load(open(sys.argv[1]))
tools = ["avatar", "libvips", "sharp", "pillow"]
print(f"{len(d['inputs'])} inputs: " + ", ".join(d["inputs"]))
print()
print("| size | " + " | ".join(f"{t} score | {t} bytes" for t in tools) + " | avatar vs best peer |")
print("|---|" + "---|---|" * len(tools) + "---|")
for row in d["sizes"]:
    best = max(tools[1:], key=lambda t: row[t]["score"])
    diff = row["avatar"]["score"] - row[best]["score"]
    cells = " | ".join(f"{row[t]['score']:.2f} | {row[t]['bytes']}" for t in tools)
    print(f"| {row['size']} | {cells} | {diff:+.2f} vs {best} ({row['avatar']['bytes'] / row[best]['bytes']:.0%} of its bytes) |")
