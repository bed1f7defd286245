#!/usr/bin/env python3
"""Draws the Countersign app icon and writes every size tauri.conf.json refers to.

The mark is a seal: a calm blue disc with a scalloped rim, a thin inner ring and a white check
mark. It is drawn from geometry (no source image), with 4x4 supersampling for smooth edges, and
written with nothing but the Python standard library (zlib + struct), so the icons can be
regenerated anywhere:

    python3 icons/generate.py

Outputs (next to this script): 32x32.png, 128x128.png, 128x128@2x.png, icon.png (512x512) and
icon.ico (PNG-compressed entries 16, 32, 48, 256).
"""

import math
import os
import struct
import zlib

BLUE = (37, 99, 168)  # the seal
BLUE_DARK = (24, 70, 124)  # the rim's shadow edge
WHITE = (255, 255, 255)
SAMPLES = 4  # supersampling per axis


def seal_radius(angle):
    """Radius (in units of the half-size) of the scalloped rim at `angle`."""
    return 0.90 + 0.035 * math.cos(16 * angle)


def dist_to_segment(px, py, ax, ay, bx, by):
    vx, vy = bx - ax, by - ay
    wx, wy = px - ax, py - ay
    t = max(0.0, min(1.0, (wx * vx + wy * vy) / (vx * vx + vy * vy)))
    dx, dy = px - (ax + t * vx), py - (ay + t * vy)
    return math.hypot(dx, dy)


# The check mark as two strokes, in the same unit space (centre 0,0; y grows downwards).
CHECK = [(-0.40, 0.02), (-0.12, 0.30), (0.42, -0.28)]
CHECK_WIDTH = 0.085
RING_RADIUS = 0.70
RING_WIDTH = 0.025


def colour_at(x, y):
    """RGBA for a point in unit space, or None when outside the mark."""
    r = math.hypot(x, y)
    angle = math.atan2(y, x)
    rim = seal_radius(angle)
    if r > rim:
        return None
    a = dist_to_segment(x, y, *CHECK[0], *CHECK[1])
    b = dist_to_segment(x, y, *CHECK[1], *CHECK[2])
    if min(a, b) < CHECK_WIDTH:
        return WHITE
    if abs(r - RING_RADIUS) < RING_WIDTH:
        return WHITE
    if r > rim - 0.04:
        return BLUE_DARK
    return BLUE


def render(size):
    """Rows of RGBA bytes for a square icon of `size` pixels."""
    rows = []
    half = size / 2.0
    for py in range(size):
        row = bytearray()
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (px + (sx + 0.5) / SAMPLES - half) / half
                    y = (py + (sy + 0.5) / SAMPLES - half) / half
                    c = colour_at(x, y)
                    if c is not None:
                        acc[0] += c[0]
                        acc[1] += c[1]
                        acc[2] += c[2]
                        acc[3] += 255
            n = SAMPLES * SAMPLES
            alpha = acc[3] // n
            if alpha == 0:
                row += b"\0\0\0\0"
            else:
                covered = acc[3] // 255
                row += bytes(
                    (acc[0] // covered, acc[1] // covered, acc[2] // covered, alpha)
                )
        rows.append(bytes(row))
    return rows


def png_bytes(size):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\0" + row for row in render(size))  # filter type 0 per row
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def ico_bytes(pngs):
    """An .ico whose entries are PNG images (supported since Windows Vista)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries, blobs = b"", b""
    for size, data in pngs:
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    cache = {}

    def png(size):
        if size not in cache:
            cache[size] = png_bytes(size)
        return cache[size]

    outputs = {
        "32x32.png": png(32),
        "128x128.png": png(128),
        "128x128@2x.png": png(256),
        "icon.png": png(512),
        "icon.ico": ico_bytes([(s, png(s)) for s in (16, 32, 48, 256)]),
    }
    for name, data in outputs.items():
        with open(os.path.join(here, name), "wb") as f:
            f.write(data)
        print(f"wrote icons/{name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
