"""tests/browser.py's own parts that need no browser: the PNG decoder, against images written
here with every PNG filter, and the DOM parser, on a DOM as Chromium serialises it."""

from __future__ import annotations

import struct
import zlib

import pytest

from browser import Box, css_colour, decode_png, parse_dom


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _filter(kind: int, row: bytes, prior: bytes, bpp: int) -> bytes:
    """The PNG specification's filters, written the plain way, as an encoder applies them."""
    def left(i: int) -> int:
        return row[i - bpp] if i >= bpp else 0

    def up_left(i: int) -> int:
        return prior[i - bpp] if i >= bpp else 0

    predict = [lambda i: 0, left, lambda i: prior[i], lambda i: (left(i) + prior[i]) // 2,
               lambda i: _paeth(left(i), prior[i], up_left(i))][kind]
    return bytes([kind]) + bytes((row[i] - predict(i)) & 255 for i in range(len(row)))


def _png(width: int, height: int, channels: int, pixels: bytes, kinds: list[int]) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    stride, prior, raw = width * channels, bytes(width * channels), b""
    for y in range(height):
        row = pixels[y * stride:(y + 1) * stride]
        raw += _filter(kinds[y % len(kinds)], row, prior, channels)
        prior = row
    header = struct.pack(">IIBBBBB", width, height, 8, 2 if channels == 3 else 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("channels", [3, 4], ids=["rgb", "rgba"])
@pytest.mark.parametrize("kind", range(5), ids=["none", "sub", "up", "average", "paeth"])
def test_png_decoder_undoes_each_filter(kind, channels):
    width, height = 7, 5
    # Values that wrap past 255 in every predictor, and no two pixels alike.
    pixels = bytes((x * 97 + y * 61 + c * 151 + (x * y) % 13) & 255
                   for y in range(height) for x in range(width) for c in range(channels))
    image = decode_png(_png(width, height, channels, pixels, [kind, 0]))
    assert (image.width, image.height, image.channels) == (width, height, channels)
    for y in range(height):
        for x in range(width):
            i = (y * width + x) * channels
            assert image.pixel(x, y) == tuple(pixels[i:i + channels]), (x, y)


def test_png_decoder_refuses_a_corrupt_chunk():
    data = bytearray(_png(2, 2, 3, bytes(12), [0]))
    data[20] ^= 1  # inside IHDR's width
    with pytest.raises(ValueError, match="bad CRC"):
        decode_png(bytes(data))


def test_colours_of_a_box_count_only_the_pixels_wholly_inside_it():
    image = decode_png(_png(4, 1, 3, bytes([1] * 3 + [2] * 3 + [3] * 3 + [4] * 3), [1]))
    assert image.colours(Box(0.5, 0, 2.5, 1)) == {(2, 2, 2): 1, (3, 3, 3): 1}
    assert image.colours() == {(n, n, n): 1 for n in (1, 2, 3, 4)}


def test_computed_colours_are_read_and_translucent_ones_refused():
    assert css_colour("rgb(217, 242, 217)") == (217, 242, 217)
    assert css_colour("rgba(0, 0, 0, 0)") is None
    with pytest.raises(ValueError, match="translucent"):
        css_colour("rgba(10, 20, 30, 0.5)")


def test_dom_parser_builds_the_tree_and_takes_the_probes_attributes_off_it():
    dom = parse_dom('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                    '<table><tbody><tr><th>&lt;b&gt;x</th><td class="n0 wide" data-browser-box="1 2 3.5 4" '
                    'data-browser-style="{&quot;color&quot;: &quot;rgb(1, 2, 3)&quot;}">a<br>b</td></tr>'
                    '</tbody></table><p>after</p></body></html>')
    (td,) = dom.find_all("td", cls="n0")
    assert (td.attrs, td.box, td.style) == ({"class": "n0 wide"}, Box(1, 2, 3.5, 4), {"color": "rgb(1, 2, 3)"})
    assert td.text == "ab" and td.parent.tag == "tr" and dom.find("th").text == "<b>x"
    assert [e.tag for e in dom.find("table").following()] == ["p"]
    assert dom.find("body").background() == (255, 255, 255) and td.background() == (255, 255, 255)
