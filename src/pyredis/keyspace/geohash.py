"""Geohash math of Redis 7.0 (geohash.c, geohash_helper.c), in C double arithmetic.

A position is stored as the score of a sorted-set member: the 52-bit interleaved geohash
(step 26) of (longitude, latitude), latitude bits at the even positions, over the WGS84
ranges longitude [-180, 180] and latitude [-85.05112878, 85.05112878]. Searches cover the
query shape with the geohash box of an estimated step and its 8 neighbours, then filter the
members of those score ranges by distance (haversine, Redis's Earth radius).

API:
    encode(lon, lat, step=26) -> bits | None
    decode_score(score) -> (lon, lat)                  # centre of the step-26 box, clamped
    distance(lon1, lat1, lon2, lat2) -> metres
    areas(shape) -> list of (bits, step) for the 9 boxes in Redis's order (zeroed = None)
    within(shape, lon, lat) -> distance | None
    box_range(bits, step) -> (min_score, max_score)    # [min, max)
    geohash_string(score) -> 11-char standard geohash
"""

from __future__ import annotations

import math

LONG_MIN, LONG_MAX = -180.0, 180.0
LAT_MIN, LAT_MAX = -85.05112878, 85.05112878
STEP_MAX = 26

D_R = math.pi / 180.0
EARTH_RADIUS_IN_METERS = 6372797.560856
MERCATOR_MAX = 20037726.37

_M64 = (1 << 64) - 1
_sin, _cos, _asin, _sqrt, _fabs = math.sin, math.cos, math.asin, math.sqrt, math.fabs


def _spread(v: int) -> int:
    """The 32 bits of v at the even bit positions of a 64-bit word."""
    v &= 0xFFFFFFFF
    v = (v | (v << 16)) & 0x0000FFFF0000FFFF
    v = (v | (v << 8)) & 0x00FF00FF00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v << 2)) & 0x3333333333333333
    return (v | (v << 1)) & 0x5555555555555555


def _squash(v: int) -> int:
    v &= 0x5555555555555555
    v = (v | (v >> 1)) & 0x3333333333333333
    v = (v | (v >> 2)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v >> 4)) & 0x00FF00FF00FF00FF
    v = (v | (v >> 8)) & 0x0000FFFF0000FFFF
    return (v | (v >> 16)) & 0x00000000FFFFFFFF


def encode_range(lon: float, lat: float, step: int, lon_min: float, lon_max: float,
                 lat_min: float, lat_max: float) -> int | None:
    """geohashEncode: interleave64(lat_offset, long_offset) or None when out of range."""
    if lon > LONG_MAX or lon < LONG_MIN or lat > LAT_MAX or lat < LAT_MIN:
        return None
    if lat < lat_min or lat > lat_max or lon < lon_min or lon > lon_max:
        return None
    lat_off = (lat - lat_min) / (lat_max - lat_min)
    lon_off = (lon - lon_min) / (lon_max - lon_min)
    lat_off *= float(1 << step)
    lon_off *= float(1 << step)
    return _spread(int(lat_off)) | (_spread(int(lon_off)) << 1)


def encode(lon: float, lat: float, step: int = STEP_MAX) -> int | None:
    return encode_range(lon, lat, step, LONG_MIN, LONG_MAX, LAT_MIN, LAT_MAX)


def decode_area(bits: int, step: int):
    """geohashDecode over the WGS84 ranges -> (lon_min, lon_max, lat_min, lat_max)."""
    ilato = _squash(bits)
    ilono = _squash(bits >> 1)
    div = float(1 << step)
    lat_scale = LAT_MAX - LAT_MIN
    lon_scale = LONG_MAX - LONG_MIN
    return (LONG_MIN + (ilono * 1.0 / div) * lon_scale,
            LONG_MIN + (((ilono + 1) & 0xFFFFFFFF) * 1.0 / div) * lon_scale,
            LAT_MIN + (ilato * 1.0 / div) * lat_scale,
            LAT_MIN + (((ilato + 1) & 0xFFFFFFFF) * 1.0 / div) * lat_scale)


def _score_bits(score: float) -> int:
    """(uint64_t)score as gcc compiles it on x86-64: below 2^63 cvttsd2si (out of range:
    0x8000000000000000), from 2^63 cvttsd2si(x - 2^63) with the top bit flipped."""
    if score != score:
        return 1 << 63
    if score >= 9223372036854775808.0:
        t = score - 9223372036854775808.0
        r = int(t) if t < 9223372036854775808.0 else 1 << 63
        return r ^ (1 << 63)
    if score < -9223372036854775808.0:
        return 1 << 63
    return int(score) & _M64


def decode_score(score: float) -> tuple[float, float]:
    """decodeGeohash: the centre of the step-26 box, clamped to the WGS84 ranges."""
    lo_min, lo_max, la_min, la_max = decode_area(_score_bits(score), STEP_MAX)
    x = (lo_min + lo_max) / 2
    if x > LONG_MAX:
        x = LONG_MAX
    if x < LONG_MIN:
        x = LONG_MIN
    y = (la_min + la_max) / 2
    if y > LAT_MAX:
        y = LAT_MAX
    if y < LAT_MIN:
        y = LAT_MIN
    return x, y


def lat_distance(lat1: float, lat2: float) -> float:
    return EARTH_RADIUS_IN_METERS * _fabs(lat2 * D_R - lat1 * D_R)


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """geohashGetDistance: haversine over Redis's Earth radius."""
    lon1r = lon1 * D_R
    lon2r = lon2 * D_R
    v = _sin((lon2r - lon1r) / 2)
    if v == 0.0:
        return lat_distance(lat1, lat2)
    lat1r = lat1 * D_R
    lat2r = lat2 * D_R
    u = _sin((lat2r - lat1r) / 2)
    a = u * u + _cos(lat1r) * _cos(lat2r) * v * v
    return 2.0 * EARTH_RADIUS_IN_METERS * _asin(_sqrt(a))


class Shape:
    """GeoShape: centre (lon, lat), conversion (metres per unit), and either a radius or a
    width/height box, in units."""

    __slots__ = ("lon", "lat", "conversion", "radius", "width", "height", "box")

    def __init__(self) -> None:
        self.lon = self.lat = 0.0
        self.conversion = 1.0
        self.radius = self.width = self.height = 0.0
        self.box = False


def within(shape: Shape, lon: float, lat: float) -> float | None:
    """The distance in metres when (lon, lat) is inside the shape (geoAppendIfWithinShape)."""
    if not shape.box:
        d = distance(shape.lon, shape.lat, lon, lat)
        if d > shape.radius * shape.conversion:
            return None
        return d
    height_m = shape.height * shape.conversion
    width_m = shape.width * shape.conversion
    if lat_distance(lat, shape.lat) > height_m / 2:
        return None
    if distance(lon, lat, shape.lon, lat) > width_m / 2:
        return None
    return distance(shape.lon, shape.lat, lon, lat)


def _steps_by_radius(range_meters: float, lat: float) -> int:
    if range_meters == 0:
        return 26
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    if step < 1:
        step = 1
    if step > 26:
        step = 26
    return step


def _move_x(bits: int, step: int, d: int) -> int:
    x = bits & 0xAAAAAAAAAAAAAAAA
    y = bits & 0x5555555555555555
    zz = 0x5555555555555555 >> (64 - step * 2)
    if d > 0:
        x = (x + (zz + 1)) & _M64
    else:
        x = x | zz
        x = (x - (zz + 1)) & _M64
    x &= 0xAAAAAAAAAAAAAAAA >> (64 - step * 2)
    return x | y


def _move_y(bits: int, step: int, d: int) -> int:
    x = bits & 0xAAAAAAAAAAAAAAAA
    y = bits & 0x5555555555555555
    zz = 0xAAAAAAAAAAAAAAAA >> (64 - step * 2)
    if d > 0:
        y = (y + (zz + 1)) & _M64
    else:
        y = y | zz
        y = (y - (zz + 1)) & _M64
    y &= 0x5555555555555555 >> (64 - step * 2)
    return x | y


def _neighbors(bits: int, step: int) -> dict:
    return {
        "east": _move_x(bits, step, 1),
        "west": _move_x(bits, step, -1),
        "south": _move_y(bits, step, -1),
        "north": _move_y(bits, step, 1),
        "north_west": _move_y(_move_x(bits, step, -1), step, 1),
        "south_west": _move_y(_move_x(bits, step, -1), step, -1),
        "north_east": _move_y(_move_x(bits, step, 1), step, 1),
        "south_east": _move_y(_move_x(bits, step, 1), step, -1),
    }


_ORDER = ("north", "south", "east", "west", "north_east", "north_west", "south_east", "south_west")


def areas(shape: Shape) -> list:
    """geohashCalculateAreasByShapeWGS84 -> the 9 boxes [centre, N, S, E, W, NE, NW, SE, SW]
    as (bits, step), None for the ones excluded."""
    lon, lat = shape.lon, shape.lat
    if shape.box:
        height = shape.conversion * (shape.height / 2)
        width = shape.conversion * (shape.width / 2)
    else:
        height = width = shape.conversion * shape.radius
    lat_delta = (height / EARTH_RADIUS_IN_METERS) / D_R
    long_delta_top = (width / EARTH_RADIUS_IN_METERS / _cos((lat + lat_delta) * D_R)) / D_R
    long_delta_bottom = (width / EARTH_RADIUS_IN_METERS / _cos((lat - lat_delta) * D_R)) / D_R
    if lat < 0:
        min_lon, max_lon = lon - long_delta_bottom, lon + long_delta_bottom
    else:
        min_lon, max_lon = lon - long_delta_top, lon + long_delta_top
    min_lat = lat - lat_delta
    max_lat = lat + lat_delta

    if shape.box:
        radius_meters = _sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2))
    else:
        radius_meters = shape.radius
    radius_meters *= shape.conversion
    steps = _steps_by_radius(radius_meters, lat)

    def setup(steps):
        h = encode(lon, lat, steps)
        if h is None:
            h = 0
        return h, _neighbors(h, steps)

    h, nb = setup(steps)
    north = decode_area(nb["north"], steps)
    south = decode_area(nb["south"], steps)
    east = decode_area(nb["east"], steps)
    west = decode_area(nb["west"], steps)
    decrease = (north[3] < max_lat or south[2] > min_lat or east[1] < max_lon or west[0] > min_lon)
    if steps > 1 and decrease:
        steps -= 1
        h, nb = setup(steps)
    area = decode_area(h, steps)
    boxes = {k: (nb[k], steps) for k in _ORDER}
    if steps >= 2:
        if area[2] < min_lat:
            boxes["south"] = boxes["south_west"] = boxes["south_east"] = None
        if area[3] > max_lat:
            boxes["north"] = boxes["north_east"] = boxes["north_west"] = None
        if area[0] < min_lon:
            boxes["west"] = boxes["south_west"] = boxes["north_west"] = None
        if area[1] > max_lon:
            boxes["east"] = boxes["south_east"] = boxes["north_east"] = None
    return [(h, steps)] + [boxes[k] for k in _ORDER]


def box_range(bits: int, step: int) -> tuple[int, int]:
    """scoresOfGeoHashBox: [bits << (52 - 2 step), (bits + 1) << (52 - 2 step))."""
    shift = 52 - step * 2
    return (bits << shift) & _M64, ((bits + 1) << shift) & _M64


_ALPHABET = b"0123456789bcdefghjkmnpqrstuvwxyz"


def geohash_string(score: float) -> bytes:
    lon, lat = decode_score(score)
    bits = encode_range(lon, lat, 26, -180.0, 180.0, -90.0, 90.0) or 0
    out = bytearray(11)
    for i in range(10):
        out[i] = _ALPHABET[(bits >> (52 - (i + 1) * 5)) & 0x1F]
    out[10] = _ALPHABET[0]
    return bytes(out)
