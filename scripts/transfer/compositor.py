"""The transfer check's real test set: real card designs on real wallpapers, composited here.

Independent of cardsynth on purpose (no code, no conventions beyond the label format): designs are
the SVG decks of kdegames-card-data-kf5 rasterised with rsvg-convert, surfaces the wallpapers of
plasma-workspace-wallpapers and mate-backgrounds. Ground truth is exact: each card is warped by a
known homography, so its centre and corners are that homography applied to the card's own centre
and corners, and an id buffer written while pasting gives visibility and the face mask.
"""

import glob
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

DECK_ROOT = "/usr/share/carddecks"
WALLPAPER_ROOTS = ["/usr/share/wallpapers", "/usr/share/backgrounds/mate"]
# A spread of pip cards and court cards from every deck.
CARD_IDS = ["1_spade", "3_heart", "5_diamond", "7_club", "9_spade", "10_heart", "2_club",
            "jack_club", "queen_diamond", "king_spade", "king_heart", "queen_heart"]
RASTER_HEIGHT = 240  # cached card height; cards are drawn at 40..80 px
WALLPAPER_WIDTH = 960


def deck_files():
    """(deck name, svgz path) of every installed SVG deck, sorted."""
    out = []
    for path in sorted(glob.glob(os.path.join(DECK_ROOT, "svg-*", "*.svgz"))):
        out.append((os.path.basename(os.path.dirname(path))[4:], path))
    return out


def crop_to_alpha(rgba):
    ys, xs = np.nonzero(rgba[:, :, 3] > 8)
    if len(xs) == 0:
        return None
    return rgba[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def rasterise_card(svg, card_id, out_png):
    # rsvg-convert's box for one element may include the document origin, so the card is
    # rendered large and cut out by its alpha.
    tmp = out_png + ".tmp.png"
    r = subprocess.run(["rsvg-convert", "-i", card_id, "-h", "1400", svg, "-o", tmp],
                       capture_output=True)
    if r.returncode != 0 or not os.path.exists(tmp):
        return False
    rgba = cv2.imread(tmp, cv2.IMREAD_UNCHANGED)
    os.remove(tmp)
    if rgba is None or rgba.ndim != 3 or rgba.shape[2] != 4:
        return False
    card = crop_to_alpha(rgba)
    if card is None or card.shape[0] < 60:
        return False
    w = max(1, round(card.shape[1] * RASTER_HEIGHT / card.shape[0]))
    card = cv2.resize(card, (w, RASTER_HEIGHT), interpolation=cv2.INTER_AREA)
    cv2.imwrite(out_png, card)
    return True


def prepare_decks(cache, log):
    """Rasterised cards per deck, {deck: [RGBA arrays]}, cached as PNG under cache/cards."""
    root = os.path.join(cache, "cards")
    os.makedirs(root, exist_ok=True)
    jobs = []
    for deck, svgz in deck_files():
        d = os.path.join(root, deck)
        os.makedirs(d, exist_ok=True)
        missing = [c for c in CARD_IDS if not os.path.exists(os.path.join(d, c + ".png"))
                   and not os.path.exists(os.path.join(d, c + ".none"))]
        if missing:
            jobs.append((deck, svgz, d, missing))
    if jobs:
        log(f"rasterising {sum(len(j[3]) for j in jobs)} cards of {len(jobs)} decks (cached)")

    def run(job):
        deck, svgz, d, missing = job
        svg = os.path.join(d, "deck.svg")
        subprocess.run(f"gzip -dc '{svgz}' > '{svg}'", shell=True, check=True)
        for c in missing:
            if not rasterise_card(svg, c, os.path.join(d, c + ".png")):
                open(os.path.join(d, c + ".none"), "w").close()
        os.remove(svg)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(run, jobs))
    decks = {}
    for deck, _ in deck_files():
        cards = []
        for c in CARD_IDS:
            p = os.path.join(root, deck, c + ".png")
            if os.path.exists(p):
                cards.append(cv2.cvtColor(cv2.imread(p, cv2.IMREAD_UNCHANGED), cv2.COLOR_BGRA2RGBA))
        if len(cards) >= 4:
            decks[deck] = cards
    return decks


def wallpaper_files():
    """One image per wallpaper: for Plasma's multi-size packages the smallest landscape one that
    is at least 1280 wide."""
    files = []
    for pkg in sorted(glob.glob("/usr/share/wallpapers/*/contents/images")):
        best = None
        for p in sorted(os.listdir(pkg)):
            m = re.match(r"(\d+)x(\d+)\.(png|jpg|jpeg)$", p)
            if m and int(m[1]) >= int(m[2]) and int(m[1]) >= 1280:
                if best is None or int(m[1]) < best[0]:
                    best = (int(m[1]), os.path.join(pkg, p))
        if best:
            files.append(best[1])
    for p in sorted(glob.glob("/usr/share/backgrounds/mate/**/*", recursive=True)):
        if re.search(r"\.(png|jpg|jpeg)$", p, re.I):
            files.append(p)
    return files


def prepare_wallpapers(cache, log):
    root = os.path.join(cache, "wallpapers")
    os.makedirs(root, exist_ok=True)
    files = wallpaper_files()
    out_paths = [os.path.join(root, f"{i:03d}.png") for i in range(len(files))]
    todo = [(f, o) for f, o in zip(files, out_paths) if not os.path.exists(o)]
    if todo:
        log(f"scaling {len(todo)} wallpapers to {WALLPAPER_WIDTH} px (cached)")

    def run(job):
        src, dst = job
        img = cv2.imread(src, cv2.IMREAD_COLOR)
        if img is None:
            return
        h = max(1, round(img.shape[0] * WALLPAPER_WIDTH / img.shape[1]))
        img = cv2.resize(img, (WALLPAPER_WIDTH, h), interpolation=cv2.INTER_AREA)
        cv2.imwrite(dst, img)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(run, todo))
    walls = []
    for o in out_paths:
        if os.path.exists(o):
            walls.append(cv2.cvtColor(cv2.imread(o, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))
    return walls


def background(rng, walls, width, height):
    wall = walls[rng.integers(len(walls))]
    # A crop 1x to 2.5x the frame, as a camera sees a patch of a surface.
    s = rng.uniform(1.0, min(2.5, wall.shape[1] / width, wall.shape[0] / height))
    cw, ch = int(width * s), int(height * s)
    x = rng.integers(0, wall.shape[1] - cw + 1)
    y = rng.integers(0, wall.shape[0] - ch + 1)
    crop = wall[y:y + ch, x:x + cw]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)


def card_homography(rng, w, h, height_px, width, height):
    """Card pixels -> frame: scale to height_px, tilt each corner by up to 8%, turn, place."""
    s = height_px / h
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    quad = (src - [w / 2, h / 2]) * s
    quad += rng.uniform(-0.08, 0.08, size=(4, 2)) * height_px
    a = rng.uniform(0, 2 * np.pi)
    rot = np.float32([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    quad = quad @ rot.T + [rng.uniform(0, width), rng.uniform(0, height)]
    return cv2.getPerspectiveTransform(src, np.float32(quad))


def apply_h(H, pts):
    p = np.concatenate([pts, np.ones((len(pts), 1))], 1) @ H.T
    return p[:, :2] / p[:, 2:3]


def paste(frame, ids, card, H, k, rng):
    W, Hh = frame.shape[1], frame.shape[0]
    # OpenCV puts pixel i at coordinate i, the labels at i + 0.5 (pixel i is the square [i, i+1)).
    half = np.float64([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    Hcv = np.linalg.inv(half) @ H @ half
    warped = cv2.warpPerspective(card.astype(np.float32), Hcv, (W, Hh), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    alpha = warped[:, :, 3:4] / 255.0
    # A soft drop shadow under most cards.
    if rng.random() < 0.7:
        off = rng.uniform(1, 4, size=2)
        T = np.float32([[1, 0, off[0]], [0, 1, off[1]]])
        sh = cv2.warpAffine(alpha[:, :, 0], T, (W, Hh))
        sh = cv2.GaussianBlur(sh, (0, 0), rng.uniform(1, 3))[:, :, None]
        frame *= 1 - rng.uniform(0.2, 0.5) * sh
    frame[:] = frame * (1 - alpha) + warped[:, :, :3] * alpha
    ids[alpha[:, :, 0] >= 0.5] = k + 1


def compose_image(rng, deck_cards, walls, width, height):
    frame = background(rng, walls, width, height)
    ids = np.zeros((height, width), np.uint8)
    n = int(rng.integers(3, 9))
    cards = []
    for k in range(n):
        card = deck_cards[rng.integers(len(deck_cards))]
        h, w = card.shape[:2]
        H = card_homography(rng, w, h, rng.uniform(40, 80), width, height)
        # Drawn from a copy at about the drawn size, so that warping does not alias.
        scale = max(1.0, h / (1.5 * 80))
        small = cv2.resize(card, (round(w / scale), round(h / scale)), interpolation=cv2.INTER_AREA)
        Hs = H @ np.diag([w / small.shape[1], h / small.shape[0], 1.0])
        paste(frame, ids, small, Hs, k, rng)
        corners = apply_h(H, np.float32([[0, 0], [w, 0], [w, h], [0, h]]))
        centre = apply_h(H, np.float32([[w / 2, h / 2]]))[0]
        # A point just inside each corner, past the rounded cut, tells whether it is seen.
        d = 0.06 * w
        insets = apply_h(H, np.float32([[d, d], [w - d, d], [w - d, h - d], [d, h - d]]))
        cards.append((corners, centre, insets, w * h, H))
    # Global photometric variety: exposure, colour cast, blur, noise, JPEG.
    frame *= rng.uniform(0.75, 1.2)
    frame *= rng.uniform(0.92, 1.08, size=3)
    sigma = rng.uniform(0.0, 0.9)
    if sigma > 0.2:
        frame = cv2.GaussianBlur(frame, (0, 0), sigma)
    frame += rng.normal(0, rng.uniform(0.5, 4.0), size=frame.shape)
    img = np.clip(frame, 0, 255).astype(np.uint8)
    ok, jpg = cv2.imencode(".jpg", img[:, :, ::-1],
                           [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 96))])
    img = cv2.imdecode(jpg, cv2.IMREAD_COLOR)[:, :, ::-1]
    return img, ids, labels_of(cards, ids, width, height)


def labels_of(cards, ids, width, height):
    n = len(cards)
    corners = np.zeros((n, 4, 2), np.float32)
    state = np.zeros((n, 4), np.uint8)
    centres = np.zeros((n, 2), np.float32)
    vis = np.zeros(n, np.float32)
    for k, (q, c, insets, area_src, H) in enumerate(cards):
        corners[k], centres[k] = q, c
        poly_area = cv2.contourArea(q.astype(np.float32))
        vis[k] = min(1.0, (ids == k + 1).sum() / max(poly_area, 1.0))
        for j in range(4):
            x, y = q[j]
            if not (0 <= x < width and 0 <= y < height):
                continue
            px = int(np.clip(np.floor(insets[j][0]), 0, width - 1))
            py = int(np.clip(np.floor(insets[j][1]), 0, height - 1))
            state[k, j] = 2 if ids[py, px] == k + 1 else 1
    return {"corners": corners, "corner_state": state, "centres": centres, "visible": vis}


def make_real_set(cache, per_deck, width, height, seed, log):
    """The real test set: per_deck images for every deck. Returns a dict of lists."""
    decks = prepare_decks(cache, log)
    walls = prepare_wallpapers(cache, log)
    log(f"real set: {len(decks)} decks, {len(walls)} wallpapers, {per_deck} images per deck")
    out = {"images": [], "face": [], "labels": [], "deck": []}
    for di, (deck, cards) in enumerate(sorted(decks.items())):
        rng = np.random.default_rng([seed, di])
        for _ in range(per_deck):
            img, ids, lab = compose_image(rng, cards, walls, width, height)
            out["images"].append(img)
            out["face"].append(ids > 0)
            out["labels"].append(lab)
            out["deck"].append(deck)
    return out
