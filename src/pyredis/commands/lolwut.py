"""LOLWUT [VERSION v] [args...]: Redis 7.0's lolwut.c, lolwut5.c and lolwut6.c.

VERSION 5 draws Georg Nees's "Schotter" in braille characters, VERSION 6 a skyline in
terminal colours; any other version prints the version line only. The drawing follows
Redis's arithmetic (C float rounding and round()-half-away-from-zero included), so every
deterministic part matches byte for byte: the canvas size, the first two rows of squares
(Schotter rotates and moves only the rows after them) and the text lines. Where Redis calls
rand(), pyredis draws from Python's random module: those parts cannot be reproduced.
"""

from __future__ import annotations

import math
import random
import struct

from ..core.args import to_int
from ..core.client import Client
from ..core.spec import command
from ..protocol.replies import Verbatim

_F = struct.Struct("f")
RAND_MAX = 2147483647


def f32(x: float) -> float:
    """A C float: x rounded to single precision."""
    return _F.unpack(_F.pack(x))[0]


def c_round(x: float) -> float:
    """C's round(): halfway cases away from zero."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def _rand() -> int:
    return random.randint(0, RAND_MAX)


class Canvas:
    def __init__(self, width: int, height: int, bg: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray([bg]) * (width * height)

    def set(self, x: int, y: int, color: int) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self.pixels[x + y * self.width] = color

    def get(self, x: int, y: int) -> int:
        if 0 <= x < self.width and 0 <= y < self.height:
            return self.pixels[x + y * self.width]
        return 0

    def line(self, x1: int, y1: int, x2: int, y2: int, color: int) -> None:
        """Bresenham, as lwDrawLine."""
        dx, dy = abs(x2 - x1), abs(y2 - y1)
        sx = 1 if x1 < x2 else -1
        sy = 1 if y1 < y2 else -1
        err = dx - dy
        while True:
            self.set(x1, y1, color)
            if x1 == x2 and y1 == y2:
                return
            e2 = err * 2
            if e2 > -dy:
                err -= dy
                x1 += sx
            if e2 < dx:
                err += dx
                y1 += sy

    def square(self, x: int, y: int, size: float, angle: float, color: int) -> None:
        """lwDrawSquare: the four corners on a circle, rotated by angle."""
        size = f32(c_round(f32(size / 1.4142135623)))
        k = f32(math.pi / 4 + angle)
        px, py = [], []
        for _ in range(4):
            px.append(int(c_round(math.sin(k) * size + x)))
            py.append(int(c_round(math.cos(k) * size + y)))
            k = f32(k + math.pi / 2)
        for j in range(4):
            self.line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color)


def _schotter(cols: int, per_row: int, per_col: int) -> Canvas:
    width = cols * 2
    padding = 2 if width > 4 else 0
    side = f32(f32(width - padding * 2) / per_row)
    height = int(f32(f32(side * per_col) + padding * 2))
    canvas = Canvas(width, height, 0)
    half = f32(side / 2)
    for y in range(per_col):
        for x in range(per_row):
            sx = int(f32(f32(f32(x * side) + half) + padding))
            sy = int(f32(f32(f32(y * side) + half) + padding))
            angle = 0.0
            if y > 1:
                r1, r2, r3 = (f32(f32(f32(_rand() / RAND_MAX) / per_col) * y) for _ in range(3))
                if _rand() % 2:
                    r1 = -r1
                if _rand() % 2:
                    r2 = -r2
                if _rand() % 2:
                    r3 = -r3
                angle = r1
                sx = int(f32(sx + f32(f32(r2 * side) / 3)))
                sy = int(f32(sy + f32(f32(r3 * side) / 3)))
            canvas.square(sx, sy, side, angle, 1)
    return canvas


# Pixel (dx, dy) of a 2x4 group -> bit of the braille character.
_BRAILLE_BITS = ((0, 0, 0), (0, 1, 1), (0, 2, 2), (1, 0, 3), (1, 1, 4), (1, 2, 5), (0, 3, 6), (1, 3, 7))


def _render_braille(canvas: Canvas) -> bytes:
    parts = []
    for y in range(0, canvas.height, 4):
        chars = []
        for x in range(0, canvas.width, 2):
            byte = 0
            for dx, dy, bit in _BRAILLE_BITS:
                if canvas.get(x + dx, y + dy):
                    byte |= 1 << bit
            chars.append(chr(0x2800 + byte))
        parts.append("".join(chars).encode())
        if y != canvas.height - 1:  # as renderCanvas: no newline after a row starting on the last line
            parts.append(b"\n")
    return b"".join(parts)


def _skyscraper(canvas: Canvas, xoff: int, width: int, height: int, windows: bool, color: int) -> None:
    starty = canvas.height - 1
    endy = starty - height + 1
    for y in range(starty, endy - 1, -1):
        for x in range(xoff, xoff + width):
            if y == endy and (x <= xoff + 1 or x >= xoff + width - 2):
                continue  # the roof is four pixels narrower
            c = color
            if windows and xoff + 1 < x < xoff + width - 2 and endy + 1 < y < starty - 1:
                relx, rely = x - (xoff + 1), y - (endy + 1)
                if (relx // 2) % 2 and rely % 2:
                    c = 1 + _rand() % 2
                    while c == color:
                        c = 1 + _rand() % 2
                    if relx % 2:
                        c = canvas.get(x - 1, y)
            canvas.set(x, y, c)


def _skyline(canvas: Canvas) -> None:
    h = canvas.height
    for color in (2, 1):  # background, lighter ones behind
        offset = -10
        while offset < canvas.width:
            offset += _rand() % 8
            width = 10 + _rand() % 9
            height = h // 2 + (_rand() % h) // (2 if color == 2 else 3)
            _skyscraper(canvas, offset, width, height, False, color)
            offset += width // 2 if color == 2 else width + 1
    offset = -10
    while offset < canvas.width:
        offset += _rand() % 8
        width = 5 + _rand() % 14
        if width % 4:
            width += width % 3
        height = h // 3 + (_rand() % h) // 2
        _skyscraper(canvas, offset, width, height, True, 0)
        offset += width + 5


_GRAYS = {0: b"0;30;40m", 1: b"0;90;100m", 2: b"0;37;47m", 3: b"0;97;107m"}


def _render_colors(canvas: Canvas) -> bytes:
    cells = {c: b"\033[" + e + b" \033[0m" for c, e in _GRAYS.items()}
    rows = []
    for y in range(canvas.height):
        row = canvas.pixels[y * canvas.width:(y + 1) * canvas.width]
        rows.append(b"".join(cells.get(p, cells[0]) for p in row))
    return b"\n".join(rows)


def _clamp(v: int, hi: int) -> int:
    return 1 if v < 1 else hi if v > hi else v


def lolwut5(args: tuple[bytes, ...], ver: bytes) -> bytes:
    cols, per_row, per_col = 66, 8, 12
    if len(args) > 0:
        cols = to_int(args[0])
    if len(args) > 1:
        per_row = to_int(args[1])
    if len(args) > 2:
        per_col = to_int(args[2])
    canvas = _schotter(_clamp(cols, 1000), _clamp(per_row, 200), _clamp(per_col, 200))
    return (_render_braille(canvas) + b"\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. "
            + ver + b"\n")


def lolwut6(args: tuple[bytes, ...], ver: bytes) -> bytes:
    cols, rows = 80, 20
    if len(args) > 0:
        cols = to_int(args[0])
    if len(args) > 1:
        rows = to_int(args[1])
    canvas = Canvas(_clamp(cols, 1000), _clamp(rows, 1000), 3)
    _skyline(canvas)
    return (_render_colors(canvas) + b"\nDedicated to the 8 bit game developers of past and present.\n"
            b"Original 8 bit image from Plaguemon by hikikomori. Redis ver. " + ver + b"\n")


@command("LOLWUT", arity=-1, flags="readonly fast", group="server", acl="", since="5.0.0")
def lolwut(ctx: Client, *args: bytes):
    """Display some computer art and the Redis version"""
    # the server's own version (Valkey's, on Valkey: which still prints "Redis ver.")
    ver = ctx.server.compat.version
    version = ver
    if len(args) >= 2 and args[0].lower() == b"version":
        version = "%d.0.0" % (to_int(args[1]) & 0xFFFFFFFF)  # "%u" of an (unsigned int)
        args = args[2:]
    if (version[:2] == "5." and version[2] != "9") or version[:3] == "4.9":
        return Verbatim(lolwut5(args, ver.encode()))
    if (version[:2] == "6." and version[2] != "9") or version[:3] == "5.9":
        return Verbatim(lolwut6(args, ver.encode()))
    return Verbatim(b"Redis ver. " + ver.encode() + b"\n")
