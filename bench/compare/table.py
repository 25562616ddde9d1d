"""Prints the comparison table from the JSON files run.sh wrote (medians, ms/job)."""
import json, os, sys

d = sys.argv[1]
load = lambda n: {r["input"]: r for r in json.load(open(os.path.join(d, n)))["results"]}
ours, ours2t, ours2j = load("avatar.json"), load("avatar-2t.json"), load("avatar-2j.json")
peers = {n: load(n + ".json") for n in ("vips", "sharp", "pillow")}
print("| input | avatar 1t ms | avatar 2t ms | libvips ms | sharp ms | Pillow ms | speed-up vs fastest peer | avatar bytes | libvips bytes |")
print("|---|---|---|---|---|---|---|---|---|")
still = []
for name, r in ours.items():
    p = {k: v[name]["ms_per_job"] for k, v in peers.items() if name in v}
    best = min(p.values())
    if not name.endswith(".gif"):
        still.append((r["ms_per_job"], p))
    print(f"| {name} | {r['ms_per_job']:.1f} | {ours2t[name]['ms_per_job']:.1f} | {p['vips']:.1f} | {p['sharp']:.1f} | {p['pillow']:.1f} "
          f"| {best / r['ms_per_job']:.2f}x | {r['output_bytes']} | {peers['vips'][name]['output_bytes']} |")
mean = lambda xs: sum(xs) / len(xs)
ours_mean = mean([o for o, _ in still])
peer_means = {k: mean([p[k] for _, p in still]) for k in peers}
print(f"\nstill images, mean ms/job: avatar {ours_mean:.1f}; " + ", ".join(f"{k} {v:.1f}" for k, v in peer_means.items())
      + f"; speed-up vs fastest peer {min(peer_means.values()) / ours_mean:.2f}x")
ours2t_mean = mean([ours2t[n]["ms_per_job"] for n in ours if not n.endswith(".gif")])
print(f"avatar, one job on 2 threads: still mean {ours2t_mean:.1f} ms vs {ours_mean:.1f} on 1 thread: {ours_mean / ours2t_mean:.2f}x")
jobs = sum(r["jobs_per_s"] for n, r in ours2j.items() if not n.endswith(".gif")) / max(1, len(still))
print(f"avatar, 2 threads, 2 jobs in flight: {jobs:.1f} still jobs/s (mean over inputs)")
# A peer on two cores: two one-thread processes, each at its one-thread median.
peer_jobs = {k: 2 * mean([1000 / p[k] for _, p in still]) for k in peers}
best = max(peer_jobs, key=peer_jobs.get)
print(f"best peer on 2 cores (two processes, from its 1-thread median): {best} {peer_jobs[best]:.1f} still jobs/s; "
      f"avatar {jobs / peer_jobs[best]:.2f}x")
for n in ("avatar.json", "vips.json", "sharp.json", "pillow.json"):
    print(f"peak RSS {n[:-5]}: {json.load(open(os.path.join(d, n)))['peak_rss_kb'] // 1024} MiB")
