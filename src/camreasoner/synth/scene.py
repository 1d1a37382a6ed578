"""A 3D scene of textured rectangles and boxes at clearly different depths, seen by a pinhole camera.

World frame = the camera's frame at the first frame: x right, y down, z forward (conventions.md).
Poses are world-to-camera: ``X_cam = R @ X_world + t``; intrinsics use OpenCV's pixel-centre
convention (pixel (0, 0) is centred at (0, 0); the principal point of a W x H image is
((W - 1) / 2, (H - 1) / 2)).

Layout: objects occupy disjoint slabs of world depth (near boxes, moving distractors, middle
billboards, a far backdrop), so while the camera stays in front of all of them (it does: a dolly
moves at most half the nearest depth), drawing from far to near slab is an exact occlusion order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np


def rot_x(a: float) -> np.ndarray:
    """Rotation about x by ``a`` radians (3x3)."""
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=np.float64)


def rot_y(a: float) -> np.ndarray:
    """Rotation about y by ``a`` radians (3x3)."""
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=np.float64)


def rot_z(a: float) -> np.ndarray:
    """Rotation about z by ``a`` radians (3x3)."""
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=np.float64)


@dataclass
class Camera:
    """A pinhole camera: focal length ``f`` (px, fx = fy), principal point, world-to-camera R, t."""

    f: float
    cx: float
    cy: float
    R: np.ndarray
    t: np.ndarray

    @property
    def K(self) -> np.ndarray:  # noqa: N802 - the usual name
        """The 3x3 intrinsic matrix."""
        return np.array([[self.f, 0, self.cx], [0, self.f, self.cy], [0, 0, 1]], dtype=np.float64)

    @property
    def center(self) -> np.ndarray:
        """The camera centre in world coordinates."""
        return -self.R.T @ self.t

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (N, 3) -> camera coordinates (N, 3)."""
        return np.asarray(points, np.float64) @ self.R.T + self.t

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (N, 3) -> pixel coordinates (N, 2) and depths (N,)."""
        pc = self.to_camera(points)
        z = pc[:, 2]
        uv = np.stack([self.f * pc[:, 0] / z + self.cx, self.f * pc[:, 1] / z + self.cy], axis=1)
        return uv, z

    def pixel_rays(self, pixels: np.ndarray) -> np.ndarray:
        """World directions (N, 3) of the rays through pixel coordinates (N, 2)."""
        d = np.stack(
            [(pixels[:, 0] - self.cx) / self.f, (pixels[:, 1] - self.cy) / self.f, np.ones(len(pixels))],
            axis=1,
        )
        return d @ self.R  # R^T d, row-wise

    def intrinsics(self) -> list[float]:
        """``[fx, fy, cx, cy]``."""
        return [float(self.f), float(self.f), float(self.cx), float(self.cy)]

    def pose(self) -> list[list[float]]:
        """World-to-camera ``[R | t]`` as a 3x4 nested list."""
        return np.hstack([self.R, self.t[:, None]]).tolist()


def camera_from_params(f: float, cx: float, cy: float, r_cw: np.ndarray, center: np.ndarray) -> Camera:
    """A camera from its camera-to-world rotation and centre."""
    R = r_cw.T  # noqa: N806
    return Camera(f=f, cx=cx, cy=cy, R=R, t=-R @ center)


@dataclass
class Face:
    """A textured rectangle: world corner ``origin`` (texture pixel (-0.5, -0.5)) and edges ``u``, ``v``.

    ``u`` spans the texture's width, ``v`` its height. ``normal`` (outward) makes the face one-sided
    (culled when seen from behind); None means two-sided.
    """

    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    normal: np.ndarray | None = None
    texture: np.ndarray | None = None

    @property
    def size(self) -> tuple[float, float]:
        """(width, height) in metres."""
        return float(np.linalg.norm(self.u)), float(np.linalg.norm(self.v))

    @cached_property
    def center(self) -> np.ndarray:
        """The face's centre (world)."""
        return self.origin + 0.5 * self.u + 0.5 * self.v

    @cached_property
    def corner_array(self) -> np.ndarray:
        """The 4 world corners (cached; faces do not change once built)."""
        return self.corners()

    def corners(self) -> np.ndarray:
        """The 4 world corners (4, 3) in order origin, +u, +u+v, +v."""
        o, u, v = self.origin, self.u, self.v
        return np.stack([o, o + u, o + u + v, o + v])

    def texture_to_world(self) -> np.ndarray:
        """3x3 matrix A with X_world = A @ [i, j, 1] for texture pixel (i, j) of the assigned texture."""
        if self.texture is None:
            raise ValueError("face has no texture yet (assign_textures)")
        th, tw = self.texture.shape[:2]
        du, dv = self.u / tw, self.v / th
        return np.stack([du, dv, self.origin + 0.5 * du + 0.5 * dv], axis=1)


@dataclass
class SceneObject:
    """A rigid object made of faces; ``velocity`` (world metres over the whole clip) moves distractors."""

    name: str
    kind: str  # "backdrop" | "ground" | "plane" | "box" | "distractor"
    faces: list[Face]
    z_near: float  # the smallest world z the object reaches (its slab's front)
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(3))
    bob: float = 0.0  # vertical bobbing amplitude (m) of a distractor

    def offset(self, s: float) -> np.ndarray:
        """World displacement at clip time ``s`` in [0, 1]."""
        if self.kind != "distractor":
            return np.zeros(3)
        return self.velocity * s + np.array([0.0, self.bob * np.sin(2 * np.pi * 2 * s), 0.0])


@dataclass
class Scene:
    """The objects of a scene and the depths that trajectories are scaled by."""

    objects: list[SceneObject]
    near_depth: float  # world z of the nearest object's front (reference depth of recipes)
    mid_depth: float
    far_depth: float  # the backdrop's z
    ground_y: float | None = None  # world y of the ground plane (y points down), None without ground

    def draw_order(self) -> list[tuple[int, SceneObject]]:
        """(index, object): backdrop, ground, then far to near.

        Exact for disjoint depth slabs in front of the camera; the ground comes right after the
        backdrop because a camera and objects above a plane are never hidden by it.
        """
        rank = {"backdrop": 0, "ground": 1}
        return sorted(enumerate(self.objects), key=lambda io: (rank.get(io[1].kind, 2), -io[1].z_near))


def fronto_plane(cx: float, cy: float, z: float, w: float, h: float) -> Face:
    """A two-sided rectangle facing the camera, centred at (cx, cy, z), w x h metres."""
    return Face(
        origin=np.array([cx - w / 2, cy - h / 2, z]),
        u=np.array([w, 0.0, 0.0]),
        v=np.array([0.0, h, 0.0]),
    )


def box_faces(cx: float, cy: float, z0: float, w: float, h: float, d: float) -> list[Face]:
    """The five faces a camera in front can see of an axis-aligned box (front at z0, depth d)."""
    x0, x1, y0, y1, z1 = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2, z0 + d

    def face(o: tuple[float, float, float], u: tuple[float, float, float], v: tuple[float, float, float],
             n: tuple[float, float, float]) -> Face:  # fmt: skip
        return Face(
            origin=np.array(o, float), u=np.array(u, float), v=np.array(v, float), normal=np.array(n, float)
        )

    return [
        face((x0, y0, z0), (w, 0, 0), (0, h, 0), (0, 0, -1)),  # front
        face((x0, y0, z1), (0, 0, -d), (0, h, 0), (-1, 0, 0)),  # left side
        face((x1, y0, z0), (0, 0, d), (0, h, 0), (1, 0, 0)),  # right side
        face((x0, y0, z1), (w, 0, 0), (0, 0, -d), (0, -1, 0)),  # top
        face((x0, y1, z0), (w, 0, 0), (0, 0, d), (0, 1, 0)),  # bottom
    ]


def make_layout(rng: np.random.Generator, hfov_deg: float, aspect: float, n_distractors: int = 0,
                distractor_speed: float = 0.4, ground_prob: float = 0.5) -> Scene:  # fmt: skip
    """A random scene layout (no textures yet): near boxes, distractors, middle billboards, backdrop,
    and with probability ``ground_prob`` a ground plane 1.5-2.5 m below the camera that objects stand on.

    ``aspect`` is height / width of the image. Distractors move across the view by about
    ``distractor_speed`` of the view's width at their depth over the clip.
    """
    tan_h = float(np.tan(np.radians(hfov_deg) / 2))
    tan_v = tan_h * aspect
    objects: list[SceneObject] = []
    ground = float(rng.uniform(1.5, 2.5)) if rng.random() < ground_prob else None

    def place(
        cy: float, h: float, z: float, standing: float = 0.75, lift: float = 0.0
    ) -> tuple[float, float]:
        """(cy, h): on the ground (bottom at the ground, taller) or floating above it."""
        if ground is None:
            return cy, h
        if rng.random() < standing:
            h = max(h, float(rng.uniform(0.35, 0.8)) * 2 * z * tan_v)
            return ground - lift - h / 2, h
        return min(cy, ground - h / 2 - 0.05 - lift), h

    z = float(rng.uniform(3.5, 4.5))
    near_depth = z
    for i in range(int(rng.integers(1, 4))):
        half_w = z * tan_h
        w = float(rng.uniform(0.15, 0.3)) * 2 * half_w
        h = w * float(rng.uniform(0.6, 1.5))
        d = w * float(rng.uniform(0.3, 0.8))
        cx = float(rng.uniform(-0.75, 0.75)) * half_w
        cy, h = place(float(rng.uniform(-0.4, 0.5)) * z * tan_v, h, z)
        objects.append(SceneObject(f"box{i}", "box", box_faces(cx, cy, z, w, h, d), z_near=z))
        z += d + float(rng.uniform(0.3, 1.0))
    for i in range(n_distractors):
        half_w = z * tan_h
        w = float(rng.uniform(0.12, 0.22)) * 2 * half_w
        h = w * float(rng.uniform(0.7, 1.4))
        direction = 1.0 if rng.random() < 0.5 else -1.0
        travel = distractor_speed * float(rng.uniform(0.6, 1.4)) * 2 * half_w
        cx = -direction * travel / 2 + float(rng.uniform(-0.3, 0.3)) * half_w
        bob = float(rng.uniform(0, 0.05)) * h
        cy = float(rng.uniform(-0.3, 0.4)) * z * tan_v
        vy = float(rng.uniform(-0.15, 0.15)) * travel
        if ground is not None:  # walks on the ground (or flies above it)
            cy, h = place(cy, h, z, standing=0.8, lift=bob + 0.01)
            vy = 0.0
        obj = SceneObject(f"distractor{i}", "distractor", [fronto_plane(cx, cy, z, w, h)], z_near=z,
                          velocity=np.array([direction * travel, vy, 0.0]), bob=bob)  # fmt: skip
        objects.append(obj)
        z += float(rng.uniform(0.3, 0.8))
    z = max(z + 1.0, float(rng.uniform(9.0, 11.0)))
    mid_depth = z
    for i in range(int(rng.integers(2, 5))):
        half_w = z * tan_h
        w = float(rng.uniform(0.2, 0.45)) * 2 * half_w
        h = w * float(rng.uniform(0.5, 1.3))
        cx = float(rng.uniform(-0.95, 0.95)) * half_w
        cy, h = place(float(rng.uniform(-0.6, 0.6)) * z * tan_v, h, z, standing=0.6)
        objects.append(SceneObject(f"plane{i}", "plane", [fronto_plane(cx, cy, z, w, h)], z_near=z))
        z += float(rng.uniform(0.8, 2.5))
    far = max(z + 15.0, float(rng.uniform(30.0, 50.0)))
    objects.append(SceneObject("backdrop", "backdrop", [], z_near=far))
    if ground is not None:
        objects.append(SceneObject("ground", "ground", [], z_near=-np.inf))
    return Scene(objects=objects, near_depth=near_depth, mid_depth=mid_depth, far_depth=far, ground_y=ground)


def size_backdrop(scene: Scene, cameras: list[Camera], width: int, height: int, margin: float = 0.1) -> None:
    """Give the backdrop a face covering every camera's whole view (no black borders), plus a margin."""
    corners = np.array([[-1.0, -1.0], [width, -1.0], [width, height], [-1.0, height]])
    zb = scene.far_depth
    hits = []
    for cam in cameras:
        rays = cam.pixel_rays(corners)
        c = cam.center
        dz = np.maximum(rays[:, 2], 1e-3)
        lam = (zb - c[2]) / dz
        hits.append(c[None, :2] + lam[:, None] * rays[:, :2])
    pts = np.concatenate(hits)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = (hi - lo) * margin + 1.0
    lo, hi = lo - pad, hi + pad
    backdrop = next(o for o in scene.objects if o.kind == "backdrop")
    backdrop.faces = [Face(origin=np.array([lo[0], lo[1], zb]), u=np.array([hi[0] - lo[0], 0, 0]),
                           v=np.array([0, hi[1] - lo[1], 0]))]  # fmt: skip
    if scene.ground_y is None:
        return
    # The ground: strips of doubling depth (each gets a texture resolution fit for its distance),
    # from behind the camera to the backdrop, wide enough for every view ray that reaches them.
    centers = np.array([c.center for c in cameras])
    cz0 = float(centers[:, 2].min())
    reach = max(abs(lo[0]), abs(hi[0])) / max(zb - cz0, 1.0)
    side = float(np.abs(centers[:, 0]).max()) + 1.0
    edges = [cz0 - 1.0] + [z for z in (2.0, 4.0, 8.0, 16.0, 32.0) if cz0 - 1.0 < z < zb] + [zb]
    ground = next(o for o in scene.objects if o.kind == "ground")
    ground.faces = []
    for z0, z1 in zip(edges[:-1], edges[1:], strict=True):
        half = reach * max(z1 - cz0, 1.0) * (1 + margin) + side
        ground.faces.append(Face(origin=np.array([-half, scene.ground_y, z0]), u=np.array([2 * half, 0, 0]),
                                 v=np.array([0, 0, z1 - z0])))  # fmt: skip


def assign_textures(scene: Scene, cameras: list[Camera], seed_key: list[int], max_side: int = 1024) -> None:
    """Give every face a texture whose resolution matches its finest on-screen footprint in the clip.

    Random choices come from ``seed_key`` and the object's index only (not from the clip's motion),
    so two clips of a confusable pair share their scene's look.
    """
    from camreasoner.synth.textures import fit_texture, mosaic_texture, source_image

    centers = np.array([c.center for c in cameras])
    f_max = max(c.f for c in cameras)
    cz_max = float(centers[:, 2].max())
    for k, obj in enumerate(scene.objects):
        rng = np.random.default_rng(np.random.SeedSequence([*seed_key, 7, k]))
        density = f_max / max(obj.z_near - cz_max, 0.3)  # texture pixels per metre
        if obj.kind in ("ground", "backdrop"):
            # Non-repeating mosaics anchored in the world; each face's resolution fits its distance.
            cell_m = (
                float(rng.uniform(4.0, 8.0))
                if obj.kind == "ground"
                else float(rng.uniform(0.1, 0.2)) * scene.far_depth
            )
            for face in obj.faces:
                near_z = face.origin[2] if obj.kind == "ground" else obj.z_near
                dens = f_max / max(near_z - cz_max, 1.5)
                w_m, h_m = face.size
                w_px = int(min(max(w_m * dens, 16), 1024 if obj.kind == "ground" else 2048))
                h_px = int(min(max(h_m * dens, 8), 1024 if obj.kind == "ground" else 2048))
                # Plane coordinates: (x, z) on the ground, (x, y) on the backdrop.
                origin = (face.origin[0], face.origin[2] if obj.kind == "ground" else face.origin[1])
                face.texture = mosaic_texture(w_px, h_px, origin, (w_m, h_m), cell_m, [*seed_key, 7, k])
            continue
        src = source_image(rng, photo_prob=0.75)
        for face in obj.faces:
            w_m, h_m = face.size
            w_px = int(min(max(w_m * density, 8), max_side))
            h_px = int(min(max(h_m * density, 8), max_side))
            face.texture = fit_texture(src, w_px, h_px, rng)
