"""Trains a heatmap net on cardsynth's built-in content only, evaluates it on real designs on real
wallpapers (compositor.py) and on held-out cardsynth frames, and prints one table."""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compositor  # noqa: E402
import heatmap  # noqa: E402

T0 = time.time()
# Decks whose designs are not card-shaped: `future`'s are landscape tabs with a notch, so the
# corners of their box, which the compositor labels, lie on transparent pixels. They stay in
# "real (all decks)"; "real (card-shaped decks)" leaves them out.
NOT_CARD_SHAPED = {"future"}


def log(msg):
    print(f"transfer-check [{time.time() - T0:6.1f} s] {msg}", flush=True)


def generate(args, out, n, seed, masks):
    cmd = [args.cardsynth, "generate", "--config", args.config, "-n", str(n), "-o", out,
           "--overwrite", "--set", f"seed={seed}", "--threads", str(args.threads)]
    if masks:
        cmd += ["--masks"]
    for s in args.set or []:
        cmd += ["--set", s]
    t = time.time()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    rate = n / (time.time() - t)
    log(f"generated {n} frames in {time.time() - t:.1f} s ({rate:.0f} images/s): {out}")
    return rate


def cardsynth_eval_set(path):
    data = heatmap.CardsynthFile(path, with_masks=True)
    images = [data.image(i) for i in range(data.n)]
    return images, data.labels, [m > 0 for m in data.masks]


def table(rows):
    head = f"{'set':<28} {'images':>6} {'centre AP@8':>11} {'corner R@4':>10} " \
           f"{'false/img':>9} {'on faces':>8} {'on bg':>6}"
    lines = [head, "-" * len(head)]
    for name, r in rows:
        lines.append(f"{name:<28} {r['images']:>6} {r['centre_ap']:>11.3f} "
                     f"{r['corner_recall']:>10.3f} {r['false_total']:>9.2f} "
                     f"{r['false_face']:>8.2f} {r['false_bg']:>6.2f}")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cardsynth", required=True, help="the cardsynth binary")
    p.add_argument("--config", required=True, help="the training configuration (YAML)")
    p.add_argument("--set", action="append", help="a --set KEY=VALUE for cardsynth, repeatable")
    p.add_argument("--work", required=True, help="folder for the frames, the cache, the net")
    p.add_argument("--cache", help="rasterised decks and scaled wallpapers (default WORK/cache)")
    p.add_argument("--minutes", type=float, default=12.0, help="training time budget")
    p.add_argument("--steps", type=int, default=0,
                   help="train exactly this many steps of 16 frames instead (comparable runs)")
    p.add_argument("--train-images", type=int, default=6000)
    p.add_argument("--heldout-images", type=int, default=200)
    p.add_argument("--per-deck", type=int, default=20, help="real test images per deck")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", help="also write the figures here")
    p.add_argument("--save-net", help="write the trained net's weights here")
    p.add_argument("--load-net", help="evaluate these weights instead of training a net")
    p.add_argument("--views", type=int, choices=sorted(heatmap.VIEWS), default=4,
                   help="read each frame as the mean of this many views: itself and its mirror "
                        "images (left-right, up-down, both)")
    p.add_argument("--no-mirror", dest="views", action="store_const", const=1,
                   help="the same as --views 1: each frame read once")
    p.add_argument("--average", type=float, default=0.998,
                   help="evaluate the moving average of the weights with this decay per step "
                        "(0: the last step's weights)")
    p.add_argument("--label", default="", help="a name for this run, kept in the JSON")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    cv_threads = args.threads
    import cv2
    cv2.setNumThreads(cv_threads)
    os.makedirs(args.work, exist_ok=True)

    width, height = 320, 192
    real = compositor.make_real_set(args.cache or os.path.join(args.work, "cache"), args.per_deck,
                                    width, height, seed=2024, log=log)
    train_path = os.path.join(args.work, "train.h5")
    held_path = os.path.join(args.work, "heldout.h5")
    # A saved net needs no training frames: only the held-out ones are made.
    rate = None if args.load_net else generate(args, train_path, args.train_images, 1, False)
    generate(args, held_path, args.heldout_images, 999, masks=True)
    data = heatmap.CardsynthFile(held_path if args.load_net else train_path)
    if (data.w, data.h) != (width, height):
        sys.exit(f"transfer-check: {args.config} makes {data.w}x{data.h} frames, not 320x192")
    if args.load_net:
        net = heatmap.HeatmapNet()
        net.load_state_dict(torch.load(args.load_net))
        log(f"evaluating the net in {args.load_net} (not trained here)")
    else:
        net = heatmap.train(data, args.minutes, log, steps=args.steps, average=args.average)
    if args.save_net:
        torch.save(net.state_dict(), args.save_net)

    rows = []
    held_imgs, held_labels, held_faces = cardsynth_eval_set(held_path)
    held_heat = heatmap.predict(net, held_imgs, views=args.views)
    rows.append(("cardsynth held-out", heatmap.evaluate(held_heat, held_labels, held_faces)))
    heat = heatmap.predict(net, real["images"], views=args.views)
    rows.append(("real (all decks)", heatmap.evaluate(heat, real["labels"], real["face"])))
    decks = np.array(real["deck"])
    shaped = np.nonzero(~np.isin(decks, list(NOT_CARD_SHAPED)))[0]
    rows.append(("real (card-shaped decks)",
                 heatmap.evaluate(heat[shaped], [real["labels"][i] for i in shaped],
                                  [real["face"][i] for i in shaped])))
    for deck in sorted(set(real["deck"])):
        sel = np.nonzero(decks == deck)[0]
        rows.append((f"  {deck}", heatmap.evaluate(heat[sel], [real["labels"][i] for i in sel],
                                                   [real["face"][i] for i in sel])))
    print(table(rows))
    # Where the cards are missed: how much of each card is seen decides more than its deck.
    by_visibility = {}
    for name, heat_, labels_ in (("cardsynth held-out", held_heat, held_labels),
                                 ("real (all decks)", heat, real["labels"])):
        found = by_visibility[name] = heatmap.found_by_visibility(heat_, labels_)
        print(f"centres found (peak >= {heatmap.CORNER_THRESHOLD}) by visible fraction, {name}: "
              + ", ".join(f"{lo:.1f}-{hi:.1f} {share:.2f} of {n}" for lo, hi, n, share in found))
    log("done" + ("" if rate is None else f"; generation at these settings: {rate:.0f} images/s"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"label": args.label, "minutes": args.minutes, "steps": args.steps,
                       "config": args.config, "set": args.set or [],
                       "train_images": args.train_images, "views": args.views,
                       "average": args.average,
                       "generate_images_per_s": rate,
                       "rows": {name.strip(): r for name, r in rows},
                       "found_by_visibility": by_visibility}, f, indent=1)


if __name__ == "__main__":
    main()
