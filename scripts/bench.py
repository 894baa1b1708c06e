#!/usr/bin/env python3
"""The measuring half of scripts/bench (which builds first). Runs the peer and cardsynth side by
side on workload W1 and prints, and optionally appends to docs/BENCHMARKS.md, the figures."""
import argparse
import datetime
import os
import re
import shlex
import subprocess
import sys
import time

import h5py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("CARDSYNTH_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
BIN = os.environ.get("CARDSYNTH_BIN") or os.path.join(ROOT, "build", "release", "cardsynth")
WORK = os.path.join(ROOT, "build", "bench")


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return p.stdout


def inputs(cards):
    """W1's 500 cards from make_inputs.py; a larger catalog as links to those 500 files, each
    link a distinct card with its own rank (decoding and caching work as for distinct files)."""
    base = os.path.join(WORK, "w1")
    if not os.path.exists(os.path.join(base, "popularity.csv")):
        run(["/usr/bin/python3", os.path.join(SHARED, "bench", "make_inputs.py"), base])
    if cards == 500:
        return base
    out = os.path.join(WORK, f"w1-{cards}")
    if not os.path.exists(os.path.join(out, "popularity.csv")):
        os.makedirs(os.path.join(out, "cards"), exist_ok=True)
        if not os.path.lexists(os.path.join(out, "backgrounds")):
            os.symlink(os.path.join(base, "backgrounds"), os.path.join(out, "backgrounds"))
        files = sorted(os.listdir(os.path.join(base, "cards")))
        rows = []
        for i in range(cards):
            name = f"card_{i:05d}.jpg"
            link = os.path.join(out, "cards", name)
            if not os.path.lexists(link):
                os.symlink(os.path.join(base, "cards", files[i % len(files)]), link)
            rows.append(f"{name},{i + 1}\n")
        with open(os.path.join(out, "popularity.csv"), "w") as f:
            f.write("file,rank\n")
            f.writelines(rows)
    return out


def peer(inp, n):
    out = run(["/usr/bin/python3", os.path.join(SHARED, "bench", "pil_baseline.py"), inp,
               os.path.join(WORK, "peer-out"), "--num-images", str(n)])
    m = re.search(r"([\d.]+) images/s with (\d+) threads", out)
    return float(m.group(1)), int(m.group(2))


def cardsynth(inp, n, launcher=(), extra=(), env=None, config="w1.yaml", out="w1.h5"):
    cmd = list(launcher) + [BIN, "generate", "--config", os.path.join(ROOT, "configs", config),
                            "--card-dirs", os.path.join(inp, "cards"),
                            "--popularity", os.path.join(inp, "popularity.csv"),
                            "--backgrounds", os.path.join(inp, "backgrounds"),
                            "-n", str(n), "-o", os.path.join(WORK, out), "--overwrite",
                            "--quiet"] + list(extra)
    out = run(cmd, env=env)
    total = re.search(r"total (\d+) images in ([\d.]+) s: ([\d.]+) images/s; start-up ([\d.]+) s, "
                      r"rounds ([\d.]+) s; coordinator overhead ([\d.-]+)%", out)
    timing = re.search(r"CPU ms per image: (.*); peak RSS (\d+) MB", out)
    rows = re.findall(r"\[summary\]\s+(\d+)\s+\S+\s+(\d+)\s+([\d.]+)\s+([\d.]+)", out)
    return {"rate": float(total.group(3)), "wall": float(total.group(2)),
            "startup": float(total.group(4)), "rounds": float(total.group(5)),
            "overhead": float(total.group(6)), "stages": timing.group(1),
            "rss": int(timing.group(2)),
            "ranks": [(int(r), int(i), float(s), float(b)) for r, i, s, b in rows]}


DEFAULT_EFFECTS = {"lighting": 0.25, "shadow": 0.35, "glare": 0.15, "noise": 2}


def effect_flags(effects):
    return [arg for k, v in effects.items() for arg in ("--set", f"scene.effects.{k}={v}")]


# The camera's effects (scene.camera), each alone at a modest range. With W1's JPEG storage the
# drawn JPEG quality only replaces output.jpeg_quality, so its pass is measured with raw storage,
# where it costs an encode and a decode per frame.
# The camera's effects and the objects over the cards, each measured alone.
CAMERA_EFFECTS = {"camera.white_balance": "0.1", "camera.exposure": "[-0.5, 0.5]",
                  "camera.gamma": "[0.8, 1.25]", "camera.saturation": "[0.7, 1.3]",
                  "camera.motion_blur": "[3, 9]", "camera.lens_distortion": "[-0.1, 0]",
                  "occluders": "[1, 3]"}
CAMERA_JPEG = "[50, 95]"


def camera_costs(inp, n, plain, out="w1.h5"):
    """CPU ms per image of each camera effect over W1 without effects (`plain`), as text."""
    costs = []
    for name, value in CAMERA_EFFECTS.items():
        one = cardsynth(inp, n, extra=["--threads", "2", "--set", f"scene.{name}={value}"],
                        out=out)
        costs.append(f"{name} {cpu_ms(one) - cpu_ms(plain):+.2f}")
    raw = ["--threads", "2", "--storage", "raw"]
    raw_plain = cardsynth(inp, n, extra=raw, out=out)
    raw_jpeg = cardsynth(inp, n, extra=raw + ["--set", f"scene.camera.jpeg_quality={CAMERA_JPEG}"],
                         out=out)
    costs.append(f"camera.jpeg_quality (raw storage) {cpu_ms(raw_jpeg) - cpu_ms(raw_plain):+.2f}")
    return costs


def cpu_ms(result):
    """CPU ms per image, all stages: steadier than images/s on a shared machine."""
    return sum(float(v) for v in re.findall(r"[a-z]+ ([\d.]+)", result["stages"]))


def effects_and_table(inp, n, peer_rate):
    """W1 with the default effects, each effect alone, and the table scene, each beside a W1 run
    without effects made just before it; returns report rows and lines."""
    rows, lines = [], []
    plain = cardsynth(inp, n, extra=["--threads", "2"])
    fx = cardsynth(inp, n, extra=["--threads", "2"] + effect_flags(DEFAULT_EFFECTS))
    rows.append(("W1 + default effects", fx, peer_rate))
    lines.append(f"W1 + default effects: {fx['rate'] / plain['rate']:.2f}x the rate of W1 "
                 f"without them ({fx['rate']:.1f} vs {plain['rate']:.1f} images/s); by CPU ms "
                 f"per image {cpu_ms(plain) / cpu_ms(fx):.2f}x ({cpu_ms(fx):.2f} vs "
                 f"{cpu_ms(plain):.2f})")
    costs = []
    for name, value in DEFAULT_EFFECTS.items():
        one = cardsynth(inp, n, extra=["--threads", "2"] + effect_flags({name: value}))
        costs.append(f"{name} {cpu_ms(one) - cpu_ms(plain):+.2f}")
    costs += camera_costs(inp, n, plain)
    lines.append("per-effect cost, CPU ms per 1280x720 image over W1 without effects: " +
                 ", ".join(costs))
    table = cardsynth(inp, max(n // 3, 100), extra=["--threads", "2"], config="table.yaml")
    rows.append(("configs/table.yaml (10-40 cards, masks, effects)", table, peer_rate))
    lines.append(f"configs/table.yaml: {cpu_ms(table):.2f} CPU ms per image, "
                 f"{cpu_ms(table) / cpu_ms(plain):.2f}x W1's {cpu_ms(plain):.2f}")
    for line in lines:
        print(line)
    return rows, lines


def dd_rate(n, width=1280, height=720):
    """images/s at which dd writes the bytes of n raw frames into the directory cardsynth writes
    to, fdatasync included: the writer syncs each round before setting /done, so its rate is
    bounded by the disk's, not by the page cache's."""
    block = 64 << 20
    count = max(1, round(n * width * height * 3 / block))
    path = os.path.join(WORK, "dd.bin")
    p = subprocess.run(["dd", "if=/dev/zero", f"of={path}", f"bs={block}", f"count={count}",
                        "conv=fdatasync"], capture_output=True, text=True)
    if os.path.exists(path):
        os.remove(path)
    m = re.search(r"copied, ([\d.]+) s", p.stderr)
    if p.returncode != 0 or not m:
        sys.exit(f"bench: dd failed ({p.returncode}):\n{p.stderr[-2000:]}")
    seconds = float(m.group(1))
    return count * block / seconds / (width * height * 3), count * block / seconds / 1e6


def export_rate(source, fmt):
    """images/s of `cardsynth export` of `source` in `fmt`: the export's own figure (from the
    opened file to the last file written) and the whole command's (process and MPI start-up,
    about half a second here, included)."""
    out = os.path.join(WORK, f"export-{fmt}")
    start = time.monotonic()
    text = run([BIN, "export", source, "--format", fmt, "--out", out, "--overwrite",
                "--threads", "2"])
    seconds = time.monotonic() - start
    with h5py.File(source, "r") as f:
        n = int(f.attrs["num_images"])
    own = re.search(r"\[export\] .*, ([\d.]+) images/s", text)
    return (float(own.group(1)) if own else float("nan")), n / seconds


def training_rates(inp, n):
    """Export rates (YOLO from JPEG storage, COCO with RLE from masks) and the DataLoader rate
    against bare Pillow decoding, each printed; returns the lines for the Markdown report."""
    jpeg_file = os.path.join(WORK, "w1-jpeg.h5")
    masks_file = os.path.join(WORK, "w1-masks.h5")
    for path, extra in ((jpeg_file, []), (masks_file, ["--masks"])):
        run([BIN, "generate", "--config", os.path.join(ROOT, "configs", "w1.yaml"),
             "--card-dirs", os.path.join(inp, "cards"), "--popularity",
             os.path.join(inp, "popularity.csv"), "--backgrounds",
             os.path.join(inp, "backgrounds"), "-n", str(n), "-o", path, "--overwrite",
             "--quiet"] + extra)
    lines = []
    for fmt, source in (("yolo-detect", jpeg_file), ("yolo-pose", jpeg_file),
                        ("yolo-seg", masks_file), ("coco", masks_file)):
        own, whole = export_rate(source, fmt)
        what = "RLE from masks" if source == masks_file else "JPEG storage"
        lines.append(f"export {fmt} ({what}, {n} images, 2 threads): {own:.0f} images/s "
                     f"({whole:.0f} images/s for the whole command, start-up included)")
    out = run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "bench_dataloader.py"),
               jpeg_file, "--workers", "2"])
    pil = re.search(r"Pillow decode, 1 process:\s+([\d.]+)", out)
    loader = re.search(r"CardsynthDataset, 2 workers:\s+([\d.]+)", out)
    if pil and loader:
        lines.append(f"CardsynthDataset, 2 DataLoader workers: {float(loader.group(1)):.0f} "
                     f"images/s; Pillow decoding the same bytes, 1 process: "
                     f"{float(pil.group(1)):.0f} images/s; ratio "
                     f"{float(loader.group(1)) / float(pil.group(1)):.2f}")
    for line in lines:
        print(line)
    return lines


def stage_ms(result, stage):
    m = re.search(stage + r" ([\d.]+)", result["stages"])
    return float(m.group(1))


def median(values):
    return sorted(values)[len(values) // 2]


def multi_node(inp, n, repeats):
    """The same ranks on two simulated nodes (scripts/sim-nodes: namespaces joined by a veth pair,
    all MPI traffic over TCP) and on one node, run in turns `repeats` times: the write stage's
    CPU ms per image (all ranks, collective writes and flushes) and the coordinator overhead,
    medians. Returns report lines; none when nodes cannot be simulated here."""
    sim = os.path.join(ROOT, "scripts", "sim-nodes")
    why = subprocess.run([sim, "check"], capture_output=True, text=True)
    if why.returncode != 0:
        print(f"multi-node: skipped ({why.stdout.strip() or why.stderr.strip()})")
        return []
    state = run([sim, "up", "--owner", str(os.getpid())]).strip().splitlines()[-1]
    base = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]
    lines = []
    try:
        for ranks in (2, 4):
            layouts = {
                "1 node": base + ["-np", str(ranks)],
                "2 nodes": [sim, "exec", state, "csnode1"] + base + [
                    "--hostfile", os.path.join(state, "hostfile"), "--map-by", "node",
                    "-np", str(ranks)],
            }
            got = {name: [] for name in layouts}
            for _ in range(repeats):
                for name, launcher in layouts.items():
                    got[name].append(cardsynth(inp, n, launcher=launcher, out="w1-nodes.h5",
                                               extra=["--threads", "1"]))
            for name, runs in got.items():
                write = median([stage_ms(r, "write") for r in runs])
                line = (f"{ranks} ranks x 1 thread on {name}: write {write:.1f} "
                        f"CPU ms per image, coordinator overhead "
                        f"{median([r['overhead'] for r in runs]):.1f}%, start-up "
                        f"{median([r['startup'] for r in runs]):.2f} s, "
                        f"{median([r['rate'] for r in runs]):.1f} images/s (medians of {repeats}, "
                        f"{n} images)")
                print(f"multi-node: {line}")
                lines.append(line)
    finally:
        subprocess.run([sim, "down", state])
    return lines


def w1_overrides(inp):
    """The W1 inputs as Generator overrides (the flags cardsynth() passes)."""
    return {"cards.dirs": [os.path.join(inp, "cards")],
            "cards.popularity": os.path.join(inp, "popularity.csv"),
            "backgrounds.dir": os.path.join(inp, "backgrounds")}


def load_binding(build):
    """cardsynth with the compiled module of `build` (not whichever build last placed its copy
    in python/cardsynth); None when that build has none."""
    import glob
    import importlib.util
    found = glob.glob(os.path.join(build, "src", "python", "_cardsynth*.so"))
    if not found:
        return None
    spec = importlib.util.spec_from_file_location("cardsynth._cardsynth", found[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["cardsynth._cardsynth"] = module
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import cardsynth as package
    return package


def batch_rate(package, inp, n, threads, batch=32, skip=0):
    """render_batch over images 0..n-1 of W1 with a fresh Generator (cold texture cache, as a
    run starts), `batch` images a call into one reused array (as the CLI reuses its round
    buffers): wall images/s, process CPU ms per image (everything: Python, the generator's
    threads waiting at the end of each call), and the generator's own stage CPU ms (sample +
    render + labels, the CLI's accounting). The rates count images skip..n-1 only (`skip` a
    multiple of `batch`), the first `skip` warming the texture cache; the stages count all."""
    import numpy as np
    gen = package.Generator(os.path.join(ROOT, "configs", "w1.yaml"), threads=threads,
                            **w1_overrides(inp))
    out = np.empty((batch, gen.height, gen.width, 3), np.uint8)
    for b in range(0, n, batch):
        if b == skip:
            wall, cpu = time.perf_counter(), time.process_time()
        m = min(n, b + batch) - b
        gen.render_batch(range(b, b + m), out=out[:m])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    st = gen.stage_seconds()
    n -= skip
    return {"rate": n / wall, "cpu_ms": 1000 * cpu / n,
            "stage_ms": 1000 * (st["sample"] + st["render"] + st["labels"]) / st["images"]}


def stream_rate(package, inp, n, workers, batch=8, skip=0):
    """A DataLoader with `workers` workers over CardsynthStream (threads auto: the cores shared
    among the workers; 0 workers: this process renders on all of them), targets and the hand-over
    to this process included: wall images/s from the first batch to the last (from the batch
    that completes the first `skip` images, when given: each process has warmed its texture cache
    by then), and CPU ms per image of this process and the workers together, over all n images,
    less each generator's start-up (a Generator's construction, measured here)."""
    import resource

    import torch
    from cardsynth.torch import CardsynthStream, collate_fn
    config = os.path.join(ROOT, "configs", "w1.yaml")
    cpu = time.process_time()
    package.Generator(config, threads=1, **w1_overrides(inp))
    startup = time.process_time() - cpu

    def cpu_now():
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    stream = CardsynthStream(config, length=n, **w1_overrides(inp))
    cpu = cpu_now()
    loader = torch.utils.data.DataLoader(stream, batch_size=batch, num_workers=workers,
                                         collate_fn=collate_fn)
    seen, count, start = 0, 0, None
    for images, _ in loader:
        if start is None:
            seen += len(images)
            if seen >= skip:
                start = time.perf_counter()
        else:
            count += len(images)
    wall = time.perf_counter() - start
    del loader  # joins the workers, whose CPU time then counts as the children's
    return {"rate": count / wall,
            "cpu_ms": 1000 * (cpu_now() - cpu - max(workers, 1) * startup) / n}


def binding_rates(inp, n, build, repeats, threads=2):
    """The in-process renderer against the CLI's render rate, `repeats` rounds of each, medians
    reported. The CLI's render rate is its sample + render + labels CPU ms per image (no encode,
    no write) as a rate at `threads` busy cores; render_batch (`threads` threads) and a 2-worker
    DataLoader stream are given the same way from their CPU ms, everything in their processes
    counted, and in wall images/s, which on a shared machine also measures the neighbours."""
    package = load_binding(build)
    if package is None:
        line = f"binding: {build} has no Python module (CARDSYNTH_PYTHON); not measured"
        print(line)
        return [line]
    # render_batch at the stream's call size (CardsynthStream's chunk: 4 images a thread) and
    # at 32, where each call's array no longer stays in the caches between calls.
    chunk = 4 * threads
    cli, batches, large, streams, local = [], [], [], [], []
    for r in range(repeats):
        run_ = cardsynth(inp, n, extra=["--threads", str(threads), "--storage", "raw"])
        cli.append(sum(float(v) for v in re.findall(r"(?:sample|render|labels) ([\d.]+)",
                                                    run_["stages"])))
        batches.append(batch_rate(package, inp, n, threads, batch=chunk))
        large.append(batch_rate(package, inp, n, threads, batch=32))
        streams.append(stream_rate(package, inp, n, 2))
        local.append(stream_rate(package, inp, n, 0))
        print(f"binding round {r + 1}: CLI render-only {cli[-1]:.2f} CPU ms per image; "
              f"render_batch ({chunk} a call) {batches[-1]['cpu_ms']:.2f} CPU ms "
              f"({batches[-1]['stage_ms']:.2f} in the stages), {batches[-1]['rate']:.1f} images/s "
              f"wall; render_batch (32 a call) {large[-1]['cpu_ms']:.2f} CPU ms "
              f"({large[-1]['stage_ms']:.2f} in the stages), {large[-1]['rate']:.1f} images/s "
              f"wall; 2-worker stream "
              f"{streams[-1]['cpu_ms']:.2f} CPU ms, {streams[-1]['rate']:.1f} images/s wall; "
              f"0-worker stream {local[-1]['cpu_ms']:.2f} CPU ms, {local[-1]['rate']:.1f} "
              f"images/s wall")
    cli_ms = median(cli)
    b_ms, b_wall = median([b["cpu_ms"] for b in batches]), median([b["rate"] for b in batches])
    g_ms, g_wall = median([b["cpu_ms"] for b in large]), median([b["rate"] for b in large])
    s_ms, s_wall = median([s["cpu_ms"] for s in streams]), median([s["rate"] for s in streams])
    l_ms, l_wall = median([s["cpu_ms"] for s in local]), median([s["rate"] for s in local])

    def ratios(runs):
        """Each round's rate over the CLI's of the same round (they ran back to back): the
        median, and all of them."""
        r = [c / x["cpu_ms"] for c, x in zip(cli, runs)]
        return f"{median(r):.2f} of the CLI's (rounds: {', '.join(f'{v:.2f}' for v in r)})"

    def rate(ms):
        return threads * 1000 / ms

    lines = [
        f"binding, W1 {n} images, {threads} threads, medians of {repeats}: the CLI's render rate "
        f"(sample + render + labels, no encode, no write) {rate(cli_ms):.1f} images/s = "
        f"{threads} x 1000 / {cli_ms:.2f} CPU ms per image; render_batch, {chunk} images a call "
        f"(the stream's), {rate(b_ms):.1f} images/s ({b_ms:.2f} CPU ms, all of the process), "
        f"{ratios(batches)}; {b_wall:.1f} images/s wall",
        f"binding, render_batch at 32 images a call: {rate(g_ms):.1f} images/s ({g_ms:.2f} CPU "
        f"ms), {ratios(large)}; {g_wall:.1f} images/s wall",
        f"binding, 2-worker DataLoader over CardsynthStream (threads auto: 1 per worker), "
        f"workers and the training process together: {rate(s_ms):.1f} images/s ({s_ms:.2f} CPU "
        f"ms), {ratios(streams)}; {s_wall:.1f} images/s wall, {s_wall / b_wall:.2f} of "
        f"render_batch's",
        f"binding, DataLoader with 0 workers over CardsynthStream (the training process renders "
        f"on {threads} threads): {rate(l_ms):.1f} images/s ({l_ms:.2f} CPU ms), "
        f"{ratios(local)}; {l_wall:.1f} images/s wall"]
    # Warm: images 1024-3071 only, after each process has warmed its texture cache on the first
    # 1024 (an endless stream's state).
    steady = [(batch_rate(package, inp, 3 * 1024, threads, skip=1024)["rate"],
               stream_rate(package, inp, 3 * 1024, 2, skip=1024)["rate"]) for _ in range(2)]
    lines.append(
        f"binding, warm (images 1024-3071, after each process warmed its texture cache on the "
        f"first 1024), twice: render_batch 32 a call "
        f"{', '.join(f'{b:.1f}' for b, _ in steady)} images/s wall, 2-worker stream "
        f"{', '.join(f'{s:.1f}' for _, s in steady)}: "
        f"{', '.join(f'{s / b:.2f}' for b, s in steady)} of render_batch's")
    for line in lines:
        print(line)
    return lines


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--peer-images", type=int, default=100)
    ap.add_argument("--pairs", type=int, default=3,
                    help="peer and cardsynth JPEG runs back to back this many times; the median "
                         "pair's ratio is reported")
    ap.add_argument("--launcher", default="")
    ap.add_argument("--no-append", action="store_true")
    ap.add_argument("--large-catalog", type=int, default=0,
                    help="also measure peak RSS with this many cards (e.g. 30000)")
    ap.add_argument("--no-training", action="store_true",
                    help="skip the export and DataLoader rates")
    ap.add_argument("--multi-node", type=int, default=0, metavar="N",
                    help="also compare N images on two simulated nodes with the same ranks on "
                         "one node (root; scripts/sim-nodes): write cost and coordinator overhead")
    ap.add_argument("--multi-node-repeats", type=int, default=3)
    ap.add_argument("--only-multi-node", action="store_true",
                    help="run only the multi-node comparison (N from --multi-node, default 200)")
    ap.add_argument("--no-binding", action="store_true",
                    help="skip the in-process renderer (render_batch, CardsynthStream)")
    ap.add_argument("--only-binding", action="store_true",
                    help="run only the in-process renderer against the CLI's render rate")
    ap.add_argument("--binding-repeats", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"),
                    help="the build whose Python module is measured")
    ap.add_argument("--scaling", type=int, default=0,
                    help="also run this many images (e.g. 10000): time per image and peak RSS "
                         "against --images")
    a = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    launcher = shlex.split(a.launcher)
    inp = inputs(500)
    rows = []
    if a.only_binding:
        lines = binding_rates(inp, a.images, a.build, a.binding_repeats)
        if not a.no_append:
            append_lines("--only-binding", "The in-process renderer (cardsynth.Generator) against "
                         "the CLI's render rate:", lines)
        return
    if a.only_multi_node:
        nodes = multi_node(inp, a.multi_node or 200, a.multi_node_repeats)
        if nodes and not a.no_append:
            append_multi_node(nodes)
        return

    # The headline ratio: the peer and cardsynth run back to back, --pairs times; every pair is
    # printed and the median pair is the one reported, so a burst of load on a shared machine
    # during one run does not decide the figure either way.
    pairs = []
    for i in range(a.pairs):
        peer_rate, peer_threads = peer(inp, a.peer_images)
        jpeg = cardsynth(inp, a.images, extra=["--threads", "2"])
        pairs.append((jpeg["rate"] / peer_rate, peer_rate, peer_threads, jpeg))
        print(f"pair {i + 1}: peer (Pillow, {peer_threads} threads) {peer_rate:.2f} images/s on "
              f"{a.peer_images} images; cardsynth jpeg 1x2 {jpeg['rate']:.1f} images/s; "
              f"ratio {jpeg['rate'] / peer_rate:.1f}x")
    pairs.sort(key=lambda p: p[0])
    _, peer_rate, peer_threads, jpeg = pairs[len(pairs) // 2]
    print(f"median pair of {a.pairs}: ratio {jpeg['rate'] / peer_rate:.1f}x "
          f"(all: {', '.join(f'{p[0]:.1f}' for p in pairs)})")
    print(f"peer (Pillow, {peer_threads} threads): {peer_rate:.2f} images/s on {a.peer_images} images")
    raw = cardsynth(inp, a.images, extra=["--threads", "2", "--storage", "raw"])
    dd_images, dd_mb = dd_rate(a.images)
    print(f"cardsynth jpeg 1x2: {jpeg['rate']:.1f} images/s, ratio {jpeg['rate'] / peer_rate:.1f}x; "
          f"CPU ms per image: {jpeg['stages']}; peak RSS {jpeg['rss']} MB")
    print(f"cardsynth raw  1x2: {raw['rate']:.1f} images/s, ratio {raw['rate'] / peer_rate:.1f}x; "
          f"CPU ms per image: {raw['stages']}; peak RSS {raw['rss']} MB")
    raw_vs_dd = (f"raw vs dd: dd writes the same bytes to the same directory (fdatasync "
                 f"included) at {dd_mb:.0f} MB/s = {dd_images:.1f} images/s; cardsynth raw "
                 f"reaches {raw['rate'] / dd_images:.2f} of it")
    print(raw_vs_dd)
    rows += [("W1 jpeg, 1 rank x 2 threads", jpeg, peer_rate),
             ("W1 raw, 1 rank x 2 threads", raw, peer_rate)]
    fx_rows, fx_lines = effects_and_table(inp, a.images, peer_rate)
    rows += fx_rows
    if launcher:
        two = cardsynth(inp, a.images, launcher=launcher, extra=["--threads", "1"])
        print(f"cardsynth jpeg 2x1: {two['rate']:.1f} images/s, ratio {two['rate'] / peer_rate:.1f}x; "
              f"coordinator overhead {two['overhead']:.1f}%")
        rows.append(("W1 jpeg, 2 ranks x 1 thread", two, peer_rate))
        print(f"  start-up {two['startup']:.1f} s, rounds {two['rounds']:.1f} s")
        # Load balance: 3 ranks, rank 2 slowed 3x (a test hook). The ideal split finishes when
        # all ranks together have made N at their measured rates: N / sum of rates.
        three = launcher[:]
        three[three.index("-np") + 1] = "3"
        env = dict(os.environ, CARDSYNTH_TEST_SLOW_RANK="2:3")
        # Long enough that texture-cache warm-up (each rank has its own) does not dominate.
        n_bal = max(a.images, 3000)
        bal = cardsynth(inp, n_bal, launcher=three, extra=["--threads", "1"], env=env)
        ideal = n_bal / sum(i / b for _, i, _, b in bal["ranks"] if b > 0)
        share = ", ".join(f"rank {r}: {i}" for r, i, _, _ in bal["ranks"])
        print(f"load balance, 3 ranks, rank 2 slowed 3x: {share}; rounds {bal['rounds']:.1f} s vs "
              f"ideal {ideal:.1f} s ({100 * (bal['rounds'] / ideal - 1):+.0f}%)")
        rows.append((f"W1 jpeg, 3 ranks, rank 2 slowed 3x ({share}; rounds/ideal "
                     f"{bal['rounds'] / ideal:.2f})", bal, peer_rate))
    if a.large_catalog:
        big = cardsynth(inputs(a.large_catalog), a.images, extra=["--threads", "2"])
        print(f"cardsynth jpeg with {a.large_catalog} cards: {big['rate']:.1f} images/s, peak RSS {big['rss']} MB")
        rows.append((f"W1 jpeg, {a.large_catalog} cards", big, peer_rate))

    if a.scaling:
        big = cardsynth(inp, a.scaling, extra=["--threads", "2"])
        for n, r in ((a.images, jpeg), (a.scaling, big)):
            print(f"N = {n}: {1000 * r['wall'] / n:.2f} ms per image (wall), peak RSS {r['rss']} MB")
        rows.append((f"W1 jpeg, {a.scaling} images ({1000 * big['wall'] / a.scaling:.2f} ms per image "
                     f"vs {1000 * jpeg['wall'] / a.images:.2f} at {a.images})", big, peer_rate))

    training = [] if a.no_training else training_rates(inp, a.images)
    nodes = multi_node(inp, a.multi_node, a.multi_node_repeats) if a.multi_node else []
    binding = [] if a.no_binding else binding_rates(inp, a.images, a.build, a.binding_repeats)

    if not a.no_append:
        path = os.path.join(ROOT, "docs", "BENCHMARKS.md")
        now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
        with open(path, "a") as f:
            f.write(f"\n### scripts/bench, {now}, {machine()}\n\n")
            f.write(f"Peer: {peer_rate:.2f} images/s ({peer_threads} threads, {a.peer_images} images); "
                    f"cardsynth: {a.images} images. JPEG ratios of the {a.pairs} back-to-back "
                    f"pairs: {', '.join(f'{p[0]:.1f}' for p in pairs)} (the median pair is "
                    f"reported; the other rows use its peer rate).\n\n")
            f.write("| run | images/s | ratio to peer | CPU ms per image | peak RSS MB |\n")
            f.write("| --- | ---: | ---: | --- | ---: |\n")
            for name, r, p in rows:
                f.write(f"| {name} | {r['rate']:.1f} | {r['rate'] / p:.1f} | {r['stages']} | {r['rss']} |\n")
            f.write(f"\n{raw_vs_dd}.\n")
            f.writelines(f"\n{line}.\n" for line in fx_lines)
            if training:
                f.write("\nFrom the file to training:\n\n")
                f.writelines(f"- {line}\n" for line in training)
            if nodes:
                f.write("\nTwo simulated nodes against one (scripts/sim-nodes):\n\n")
                f.writelines(f"- {line}\n" for line in nodes)
            if binding:
                f.write("\nThe in-process renderer (cardsynth.Generator):\n\n")
                f.writelines(f"- {line}\n" for line in binding)
        print(f"appended to {path}")


def append_lines(mode, intro, lines):
    path = os.path.join(ROOT, "docs", "BENCHMARKS.md")
    now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
    with open(path, "a") as f:
        f.write(f"\n### scripts/bench {mode}, {now}, {machine()}\n\n{intro}\n\n")
        f.writelines(f"- {line}\n" for line in lines)
    print(f"appended to {path}")


def append_multi_node(lines):
    path = os.path.join(ROOT, "docs", "BENCHMARKS.md")
    now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
    with open(path, "a") as f:
        f.write(f"\n### scripts/bench --only-multi-node, {now}, {machine()}\n\n")
        f.write("W1 on two simulated nodes (scripts/sim-nodes) against the same ranks on one "
                "node:\n\n")
        f.writelines(f"- {line}\n" for line in lines)
    print(f"appended to {path}")


if __name__ == "__main__":
    main()
