"""A small fully convolutional heatmap net (card centres, card corners of any kind), its training on
a cardsynth file, and the evaluation: centre AP at 8 px, corner recall at 4 px, false corner peaks
per image on card faces and on background."""

import time

import cv2
import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

STRIDE = 4
MIN_VISIBLE = 0.3      # cards seen less than this are neither found nor missed
CORNER_THRESHOLD = 0.3  # a corner peak counts from this score
CENTRE_RADIUS = 8.0
CORNER_RADIUS = 4.0


def conv(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class HeatmapNet(nn.Module):
    """Encoder to stride 16, decoder back to stride 4 with skips; two output maps. About 0.5 M
    parameters and 0.35 GMAC per 320x192 frame, so that it trains on two CPU cores."""

    def __init__(self):
        super().__init__()
        self.s4 = nn.Sequential(conv(3, 16, 2), conv(16, 32, 2), conv(32, 32))
        self.s8 = nn.Sequential(conv(32, 64, 2), conv(64, 64))
        self.s16 = nn.Sequential(conv(64, 128, 2), conv(128, 128),
                                 nn.Conv2d(128, 128, 3, 1, 2, dilation=2, bias=False),
                                 nn.BatchNorm2d(128), nn.ReLU(inplace=True))
        self.up8 = nn.Sequential(nn.Conv2d(128 + 64, 64, 1), nn.ReLU(inplace=True), conv(64, 64))
        self.up4 = nn.Sequential(nn.Conv2d(64 + 32, 32, 1), nn.ReLU(inplace=True), conv(32, 32))
        self.head = nn.Sequential(conv(32, 32), nn.Conv2d(32, 2, 1))
        self.head[-1].bias.data.fill_(-2.2)

    def forward(self, x):
        a = self.s4(x)
        b = self.s8(a)
        c = self.s16(b)
        u = self.up8(torch.cat([F.interpolate(c, size=b.shape[2:]), b], 1))
        u = self.up4(torch.cat([F.interpolate(u, size=a.shape[2:]), a], 1))
        return self.head(u)


def to_tensor(images):
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1.0


def targets(labels, h, w):
    """Gaussian heatmaps at stride 4: channel 0 card centres (visible enough), 1 seen corners."""
    gh, gw = h // STRIDE, w // STRIDE
    ys, xs = np.mgrid[0:gh, 0:gw]
    cx, cy = (xs + 0.5) * STRIDE, (ys + 0.5) * STRIDE
    out = np.zeros((2, gh, gw), np.float32)
    for k in range(len(labels["centres"])):
        if labels["visible"][k] >= MIN_VISIBLE:
            x, y = labels["centres"][k]
            g = np.exp(-((cx - x) ** 2 + (cy - y) ** 2) / (2 * (1.5 * STRIDE) ** 2))
            out[0] = np.maximum(out[0], g)
        for j in range(4):
            if labels["corner_state"][k][j] == 2:
                x, y = labels["corners"][k][j]
                g = np.exp(-((cx - x) ** 2 + (cy - y) ** 2) / (2 * (0.8 * STRIDE) ** 2))
                out[1] = np.maximum(out[1], g)
    return out


def focal_loss(logits, target):
    """CenterNet's penalty-reduced focal loss."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = target.ge(0.97).float()
    neg = 1 - pos
    pos_loss = -(torch.log(p) * (1 - p) ** 2 * pos).sum()
    neg_loss = -(torch.log(1 - p) * p ** 2 * (1 - target) ** 4 * neg).sum()
    return (pos_loss + neg_loss) / pos.sum().clamp(min=1)


class CardsynthFile:
    """Frames and labels of a cardsynth HDF5 file, JPEG bytes kept, decoded per batch."""

    def __init__(self, path, with_masks=False):
        with h5py.File(path, "r") as f:
            self.n = int(f.attrs["num_images"])
            self.h, self.w = int(f.attrs["height"]), int(f.attrs["width"])
            blob = f["images_encoded"][:]
            off, size = f["images_offset"][:], f["images_size"][:]
            self.jpegs = [blob[o:o + s] for o, s in zip(off, size)]
            lab = f["labels"]
            count = lab["count"][:]
            corners, vis = lab["corners"][:], lab["corner_visible"][:]
            frac = lab["visible_fraction"][:]
            self.masks = f["masks"][:] if with_masks else None
        self.labels = []
        for i in range(self.n):
            c = int(count[i])
            q = corners[i, :c]
            self.labels.append({"corners": q, "corner_state": vis[i, :c],
                                "centres": np.array([centre_of(x) for x in q], np.float32)
                                .reshape(-1, 2), "visible": frac[i, :c]})

    def image(self, i):
        return cv2.imdecode(self.jpegs[i], cv2.IMREAD_COLOR)[:, :, ::-1]


def centre_of(q):
    """Where the diagonals cross: the image of the card's centre under any homography."""
    p1, p2, p3, p4 = q
    d1, d2 = p3 - p1, p4 - p2
    den = d1[0] * d2[1] - d1[1] * d2[0]
    if abs(den) < 1e-9:
        return q.mean(0)
    t = ((p2[0] - p1[0]) * d2[1] - (p2[1] - p1[1]) * d2[0]) / den
    return p1 + t * d1


def augment(x, t, rng):
    """Mirrors and recolours a batch (x as to_tensor gives it, t its target maps): half the frames
    mirrored with their targets; per frame a channel gain of 0.8-1.2, a contrast of 0.6-1.4 and a
    brightness shift; 15% made grey, 10% inverted. Real faces and surfaces take colours and
    tones that no built-in content shows, so the net is kept from leaning on them."""
    n = len(x)

    def per_frame(lo, hi, shape=(1, 1, 1)):
        return torch.from_numpy(rng.uniform(lo, hi, (n,) + shape).astype(np.float32))

    def chosen(p):
        return torch.from_numpy(rng.random(n) < p)[:, None, None, None]

    flip = chosen(0.5)
    x, t = torch.where(flip, x.flip(3), x), torch.where(flip, t.flip(3), t)
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (x - mean) * per_frame(0.6, 1.4) * per_frame(0.8, 1.2, (3, 1, 1)) + mean \
        + per_frame(-0.2, 0.2)
    x = torch.where(chosen(0.15), x.mean(1, keepdim=True).expand_as(x), x)
    x = torch.where(chosen(0.1), -x, x)
    return x.clamp(-1.5, 1.5), t


class Average:
    """An exponential moving average of a net's weights and batch-norm statistics, over the last
    few hundred steps: read once, it found more of the real set's cards than the last step's
    weights did (docs/BENCHMARKS.md)."""

    def __init__(self, net, decay):
        self.decay = decay
        self.state = {k: v.detach().clone() for k, v in net.state_dict().items()}

    def update(self, net):
        with torch.no_grad():
            for k, v in net.state_dict().items():
                if v.dtype.is_floating_point:
                    self.state[k].mul_(self.decay).add_(v, alpha=1 - self.decay)
                else:
                    self.state[k].copy_(v)

    def net(self):
        out = HeatmapNet()
        out.load_state_dict(self.state)
        return out


def train(data, minutes, log, steps=0, batch=16, seed=0, average=0.998):
    """Trains for `minutes`, or for exactly `steps` steps when steps > 0 (comparable runs on a
    machine shared with other work). With `average` > 0 it returns the moving average of the
    weights with that decay per step, not the last step's weights."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = HeatmapNet()
    avg = Average(net, average) if average > 0 else None
    log(f"net: {sum(p.numel() for p in net.parameters()) / 1e6:.2f} M parameters; training "
        + (f"{steps} steps" if steps > 0 else f"{minutes:g} min") + f" on {data.n} frames")
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    tgts = {}
    start, step, seen = time.time(), 0, 0
    budget = minutes * 60.0
    net.train()

    def progress():
        return step / steps if steps > 0 else (time.time() - start) / budget

    while progress() < 1.0:
        idx = rng.integers(0, data.n, batch)
        imgs = np.stack([data.image(i) for i in idx])
        for i in idx:
            if i not in tgts:
                tgts[i] = targets(data.labels[i], data.h, data.w)
        t = torch.from_numpy(np.stack([tgts[i] for i in idx]))
        # Cosine decay over the time budget, so a short budget still ends at a small rate.
        frac = min(1.0, progress())
        for g in opt.param_groups:
            g["lr"] = 2e-3 * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * frac)))
        x, t = augment(to_tensor(imgs), t, rng)
        loss = focal_loss(net(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if avg is not None:
            avg.update(net)
        step += 1
        seen += batch
        if step % 50 == 0:
            log(f"  step {step}, {seen} frames, loss {loss.item():.3f}, "
                f"{time.time() - start:.0f} s")
    log(f"trained {step} steps ({seen} frames, {seen / max(1, data.n):.1f} epochs)")
    return avg.net() if avg is not None else net


def peaks(heat, threshold):
    """Local maxima of a stride-4 map, refined by the 3x3 centroid, in frame pixels."""
    t = torch.from_numpy(heat)[None, None]
    keep = (F.max_pool2d(t, 3, 1, 1) == t)[0, 0].numpy() & (heat >= threshold)
    ys, xs = np.nonzero(keep)
    out = []
    gh, gw = heat.shape
    for y, x in zip(ys, xs):
        y0, y1, x0, x1 = max(0, y - 1), min(gh, y + 2), max(0, x - 1), min(gw, x + 2)
        win = heat[y0:y1, x0:x1]
        wy, wx = np.mgrid[y0:y1, x0:x1]
        s = win.sum()
        out.append(((wx * win).sum() / s, (wy * win).sum() / s, heat[y, x]))
    return [((px + 0.5) * STRIDE, (py + 0.5) * STRIDE, s) for px, py, s in out]


# The views a frame is read in: (dims flipped) for each; the flips undo themselves.
VIEWS = {1: ((),), 2: ((), (3,)), 4: ((), (3,), (2,), (2, 3))}


def flip(t, dims):
    return t.flip(dims) if dims else t


def predict(net, images, batch=32, views=4):
    """The maps of each frame: the mean over `views` (1, 2 or 4) of the maps of the frame and its
    mirror images (left-right, up-down, both), each flipped back. A face's one-sided marks (an
    index, an off-centre figure) pull a peak aside in one view and the other way in its mirror;
    the mean keeps the peak the views share."""
    net.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = to_tensor(np.stack(images[i:i + batch]))
            heat = sum(flip(torch.sigmoid(net(flip(x, d))), d) for d in VIEWS[views])
            out.append((heat / views).numpy())
    return np.concatenate(out)


def average_precision(scored, n_gt):
    """All-point interpolated AP from (score, is_true) pairs."""
    if n_gt == 0:
        return float("nan")
    scored.sort(key=lambda s: -s[0])
    tp = np.cumsum([t for _, t in scored]) if scored else np.zeros(0)
    fp = np.cumsum([1 - t for _, t in scored]) if scored else np.zeros(0)
    recall = tp / n_gt
    precision = tp / np.maximum(tp + fp, 1)
    mrec = np.concatenate([[0], recall, [1]])
    mpre = np.concatenate([[0], precision, [0]])
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    return float(np.sum((mrec[1:] - mrec[:-1]) * mpre[1:]))


def match_centres(centre_map, centres):
    """The centre peaks of one image, strongest first, each matched to the nearest card centre
    within CENTRE_RADIUS that no stronger peak took: [(score, card index or None)]."""
    used = np.zeros(len(centres), bool)
    matched = []
    for x, y, s in sorted(peaks(centre_map, 0.05), key=lambda p: -p[2]):
        d = np.hypot(centres[:, 0] - x, centres[:, 1] - y) if len(centres) else np.zeros(0)
        hit = next((k for k in np.argsort(d) if d[k] <= CENTRE_RADIUS and not used[k]), None)
        if hit is not None:
            used[hit] = True
        matched.append((s, hit))
    return matched


def evaluate(heat, labels, faces):
    """Per-image matching; returns the pooled counts that summarise() turns into figures."""
    scored, n_gt = [], 0
    corner_gt = corner_found = 0
    false_face = false_bg = 0
    for maps, lab, face in zip(heat, labels, faces):
        vis = lab["visible"]
        n_gt += int((vis >= MIN_VISIBLE).sum())
        for s, hit in match_centres(maps[0], lab["centres"]):
            if hit is None:
                scored.append((s, 0))
            elif vis[hit] >= MIN_VISIBLE:
                scored.append((s, 1))  # a hit on a barely seen card is ignored
        corner_peaks = peaks(maps[1], CORNER_THRESHOLD)
        q = lab["corners"].reshape(-1, 2)
        st = lab["corner_state"].reshape(-1)
        seen = q[st == 2]
        in_frame = q[st > 0]
        for cx, cy in seen:
            corner_gt += 1
            if any(np.hypot(px - cx, py - cy) <= CORNER_RADIUS for px, py, _ in corner_peaks):
                corner_found += 1
        for px, py, _ in corner_peaks:
            if len(in_frame) and np.hypot(in_frame[:, 0] - px, in_frame[:, 1] - py).min() \
                    <= CORNER_RADIUS:
                continue
            yy = min(face.shape[0] - 1, int(py))
            xx = min(face.shape[1] - 1, int(px))
            if face[yy, xx]:
                false_face += 1
            else:
                false_bg += 1
    n = len(labels)
    return {"images": n, "centre_ap": average_precision(scored, n_gt),
            "corner_recall": corner_found / max(1, corner_gt),
            "false_face": false_face / max(1, n), "false_bg": false_bg / max(1, n),
            "false_total": (false_face + false_bg) / max(1, n)}


VISIBLE_BUCKETS = ((0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01))


def found_by_visibility(heat, labels, threshold=CORNER_THRESHOLD):
    """The share of cards whose centre a peak of at least `threshold` finds (matched as for AP,
    match_centres), per visible-fraction bucket: [(lo, hi, cards, share found)]."""
    vis_all, score_all = [], []
    for maps, lab in zip(heat, labels):
        best = np.zeros(len(lab["centres"]))
        for s, hit in match_centres(maps[0], lab["centres"]):
            if hit is not None:
                best[hit] = s
        vis_all += list(lab["visible"])
        score_all += list(best)
    vis, score = np.array(vis_all), np.array(score_all)
    out = []
    for lo, hi in VISIBLE_BUCKETS:
        m = (vis >= lo) & (vis < hi)
        out.append((lo, min(hi, 1.0), int(m.sum()), float((score[m] >= threshold).mean())
                    if m.any() else float("nan")))
    return out
