#!/usr/bin/env python3
"""Draws the LIMS audit-trail screenshot used as OQ evidence (standard library only).

Usage: python3 demo/tools/make_screenshot.py OUTPUT.png
The picture is a simplified LIMS "Audit trail" window: title bar, sample header, an audit
table whose pH row has an empty "previous value" cell, highlighted in red by the test hook.
"""
import struct
import sys
import zlib

W, H = 640, 400

WHITE = (255, 255, 255)
BG = (243, 245, 248)
TITLE = (31, 58, 96)
HEADER = (214, 222, 235)
GRID = (200, 206, 214)
TEXT = (70, 76, 88)
RED = (204, 45, 45)
RED_FILL = (253, 226, 226)
GREEN = (46, 139, 87)


def canvas():
    return [[BG for _ in range(W)] for _ in range(H)]


def rect(px, x0, y0, x1, y1, colour):
    for y in range(max(0, y0), min(H, y1)):
        row = px[y]
        for x in range(max(0, x0), min(W, x1)):
            row[x] = colour


def frame(px, x0, y0, x1, y1, colour, t=1):
    rect(px, x0, y0, x1, y0 + t, colour)
    rect(px, x0, y1 - t, x1, y1, colour)
    rect(px, x0, y0, x0 + t, y1, colour)
    rect(px, x1 - t, y0, x1, y1, colour)


def text_bar(px, x, y, width, colour=TEXT):
    """Stands in for a line of text: a row of word-sized blocks."""
    cx = x
    widths = [18, 30, 12, 26, 20, 34, 14, 22]
    i = 0
    while cx < x + width:
        w = min(widths[i % len(widths)], x + width - cx)
        rect(px, cx, y, cx + w, y + 6, colour)
        cx += w + 6
        i += 1


def draw():
    px = canvas()
    rect(px, 0, 0, W, 34, TITLE)
    text_bar(px, 14, 14, 180, WHITE)
    for i, c in enumerate([(237, 106, 94), (245, 191, 79), (98, 197, 84)]):
        rect(px, W - 70 + i * 20, 12, W - 58 + i * 20, 24, c)
    rect(px, 0, 34, 150, H, (226, 231, 239))
    for i in range(7):
        text_bar(px, 16, 56 + i * 28, 100 if i != 3 else 80, TEXT if i != 3 else TITLE)
    rect(px, 170, 50, W - 20, 100, WHITE)
    frame(px, 170, 50, W - 20, 100, GRID)
    text_bar(px, 184, 64, 220, TITLE)
    text_bar(px, 184, 82, 300)
    top, row_h, cols = 116, 32, [170, 250, 340, 420, 500, W - 20]
    rect(px, 170, top, W - 20, top + row_h, HEADER)
    for r in range(7):
        y = top + r * row_h
        if r > 0:
            rect(px, 170, y, W - 20, y + row_h, WHITE)
        if r == 3:
            rect(px, cols[2] + 1, y + 1, cols[3], y + row_h, RED_FILL)
            frame(px, cols[2], y, cols[3] + 1, y + row_h + 1, RED, 2)
        for c in range(len(cols) - 1):
            if r == 3 and c == 2:
                continue
            text_bar(px, cols[c] + 8, y + 13, cols[c + 1] - cols[c] - 20, TITLE if r == 0 else TEXT)
    for x in cols:
        rect(px, x, top, x + 1, top + 7 * row_h, GRID)
    for r in range(8):
        rect(px, 170, top + r * row_h, W - 20, top + r * row_h + 1, GRID)
    rect(px, 170, H - 48, W - 20, H - 20, RED_FILL)
    frame(px, 170, H - 48, W - 20, H - 20, RED)
    text_bar(px, 184, H - 37, 330, RED)
    rect(px, W - 120, 62, W - 34, 88, GREEN)
    text_bar(px, W - 110, 72, 66, WHITE)
    return px


def png(px):
    raw = b"".join(b"\x00" + bytes(v for p in row for v in p) for row in px)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_screenshot.py OUTPUT.png")
    with open(sys.argv[1], "wb") as f:
        f.write(png(draw()))
