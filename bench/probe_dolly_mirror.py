"""Diagnostic: a dolly beside a zoom has a mirror image that moves every point the same way, over
any number of frames.

A camera moving along its optical axis by ``c(t)`` while its focal length follows ``f(t)`` sees a
point at lateral offset ``X`` and inverse depth ``rho`` at ``x(t) = f X rho / (1 - c rho)``. With
``rho' = alpha - beta rho`` (depth order reversed: the nearest point becomes the farthest),
``c'(t) = -c / (beta - alpha c)`` (the camera moves the other way), ``f'(t) = f beta / (beta -
alpha c)`` and ``X' = X rho / rho'``, the identity ``1 - c' rho' = beta (1 - c rho) / (beta -
alpha c)`` gives ``x'(t) = x(t)`` for every point and frame. Every ``alpha > beta * max(rho)`` and
``beta > alpha * max(c)`` (all points stay in front of both cameras) is such a mirror, so neither
two frames nor a whole shot of point tracks tell a dolly in under a zoom from a dolly out under a
stronger zoom; only depth order from elsewhere (occlusion) or a prior can. (With sideways motion
too, the mirror's extra image motion between two frames is a zoom and a uniform shift, which a
small pan or tilt matches but for its perspective terms.)

This script builds a rendered-like case (near objects at 3-6 m, middle ones at 8-15 m, a backdrop
at 30-40 m; a dolly of ``--dolly`` times the nearest depth; a zoom of ``--zoom`` per cent; smooth
easing; 13 frames) and its mirror with the weakest zoom (``alpha`` just over ``max(rho)``), and
prints what the mirror camera does and the largest image difference (px) between the two.

    .venv/bin/python bench/probe_dolly_mirror.py [--dolly 0.3] [--zoom 20] [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np


def project(f: np.ndarray, c: np.ndarray, X: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Image x (px, from the principal point) of points (offset ``X`` m, inverse depth ``rho``) for
    frames with focal length ``f`` (px) and forward travel ``c`` (m): (frames, points)."""
    return f[:, None] * X[None, :] * rho[None, :] / (1.0 - c[:, None] * rho[None, :])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dolly", type=float, default=0.3, help="forward travel as a share of the nearest depth")
    ap.add_argument("--zoom", type=float, default=20.0, help="focal length change over the shot (%%)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not 0.0 < args.dolly < 0.95:
        ap.error(f"--dolly must lie in (0, 0.95) of the nearest depth (got {args.dolly:g}): the camera stays in front")
    if args.zoom <= -100.0:
        ap.error(f"--zoom must be above -100 per cent (got {args.zoom:g})")

    rng = np.random.default_rng(args.seed)
    depth = np.concatenate([rng.uniform(3, 6, 20), rng.uniform(8, 15, 20), rng.uniform(30, 40, 40)])
    rho = 1.0 / depth
    f0 = 320 / (2 * np.tan(np.radians(30)))  # 320 px wide, 60 degrees across
    X = rng.uniform(-0.45, 0.45, depth.size) * 320 / f0 * depth  # inside the first frame
    a = np.linspace(0.0, 1.0, 13)
    ease = a * a * (3 - 2 * a)
    c = args.dolly * depth.min() * ease
    f = f0 * (1 + args.zoom / 100 * ease)
    x = project(f, c, X, rho)

    beta = 1.0
    alpha = 1.05 * beta * rho.max()
    rho_m = alpha - beta * rho
    c_m = -c / (beta - alpha * c)
    f_m = f * beta / (beta - alpha * c)
    X_m = X * rho / rho_m
    x_m = project(f_m, c_m, X_m, rho_m)

    print(f"true camera: dolly in {c[-1]:.2f} m (nearest point {depth.min():.1f} m), zoom {f[-1] / f[0] - 1:+.1%}; "
          f"depths {depth.min():.1f}-{depth.max():.1f} m")
    order = np.argsort(depth)
    reversed_order = bool(np.all(np.diff(1.0 / rho_m[order]) < 0))
    print(f"mirror:      dolly out {-c_m[-1]:.2f} m, zoom {f_m[-1] / f_m[0] - 1:+.1%}; depths "
          f"{(1 / rho_m).min():.1f}-{(1 / rho_m).max():.1f} m, order {'reversed' if reversed_order else 'NOT reversed'}")
    print(f"largest image difference over {len(a)} frames and {depth.size} points: {np.abs(x - x_m).max():.2e} px")


if __name__ == "__main__":
    main()
