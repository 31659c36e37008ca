"""What a browser shows of a page: the DOM it built, where it drew each element, and the pixels.

`render(path)` opens a copy of the page in Debian's headless Chromium (`chromium-headless-shell`)
and returns a `Rendered`: the DOM from `--dump-dom`, parsed into `Element`s, and the
`--screenshot`, decoded into an `Image`. Each element carries its `box` (getBoundingClientRect, in
CSS pixels, which are the screenshot's pixels at a device scale factor of 1) and the computed
`style` properties asked for, so a test can check that what the page means to draw is drawn there:
`rendered.drawn_colour(element)` against `css_colour(element.style["background-color"])`.

The headless shell has no way to ask it for a box but a script in the page. The report must never
carry one, so the script goes into a copy: it runs where it stands, at the end of <body>, writes
each element's box and styles into attributes, and removes itself, so the DOM returned is the
page's own. Those attributes are moved onto the `Element`s here. `--dump-dom` waits for the load
event, so a script that runs as the page is parsed, or on load, needs no `--virtual-time-budget`
(a timer or an animation frame would).

The screenshot shows the window only, so a first run measures the page and the next one is sized to
show all of it, at a fixed width (a page wider than that gets a wider window).

Standard library only: the PNG decoder reads the 8-bit RGB and RGBA images Chromium writes.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import accumulate
from pathlib import Path
from typing import Iterator, Sequence

BROWSER = "chromium-headless-shell"
STYLES = ("background-color", "color", "display", "visibility")
WIDTH = 1280
BOX_ATTR, STYLE_ATTR, PAGE_ATTR = "data-browser-box", "data-browser-style", "data-browser-page"

# Runs as the parser reaches it, after the whole body: every element is laid out.
_PROBE = """<script>
(() => {
  document.currentScript.remove();
  const styles = %s;
  for (const el of document.querySelectorAll("*")) {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    el.setAttribute("%s", [r.left + scrollX, r.top + scrollY, r.width, r.height].join(" "));
    el.setAttribute("%s", JSON.stringify(Object.fromEntries(styles.map(p => [p, s.getPropertyValue(p)]))));
  }
  const d = document.documentElement;
  d.setAttribute("%s", [d.scrollWidth, d.scrollHeight, innerWidth, innerHeight].join(" "));
})();
</script>"""

# Elements html.parser sees opened but never closed in Chromium's serialisation.
_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())


class BrowserError(RuntimeError):
    """The browser failed, or what it gave back is not what render() asked for."""


def find_browser() -> str | None:
    """The headless shell's path, or None when it is not installed."""
    return shutil.which(BROWSER)


# --- geometry and colour ------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A rectangle in page (= screenshot) pixels; fractional where layout put it."""
    x: float
    y: float
    width: float
    height: float

    @property
    def centre(self) -> tuple[int, int]:
        return int(self.x + self.width / 2), int(self.y + self.height / 2)

    def inset(self, n: float) -> Box:
        return Box(self.x + n, self.y + n, max(self.width - 2 * n, 0), max(self.height - 2 * n, 0))

    def points(self) -> Iterator[tuple[int, int]]:
        """The pixels wholly inside the box (its edges are blended with what is beside it)."""
        x0, y0 = -int(-self.x // 1), -int(-self.y // 1)
        for y in range(y0, int(self.y + self.height)):
            for x in range(x0, int(self.x + self.width)):
                yield x, y


def css_colour(value: str) -> tuple[int, int, int] | None:
    """A computed colour ("rgb(r, g, b)" or "rgba(r, g, b, a)") as RGB; None when transparent.
    A colour that is neither opaque nor transparent is refused: it draws blended with what is under it."""
    m = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)", value.strip())
    if not m:
        raise ValueError(f"not a computed sRGB colour: {value!r}")
    alpha = float(m.group(4)) if m.group(4) is not None else 1.0
    if alpha == 0:
        return None
    if alpha != 1:
        raise ValueError(f"a translucent colour draws blended with what is under it: {value!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


# --- the DOM ------------------------------------------------------------------------------------


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = field(default=None, repr=False)
    children: list[Element | str] = field(default_factory=list, repr=False)
    box: Box | None = None
    style: dict[str, str] = field(default_factory=dict, repr=False)

    def iter(self, tag: str | None = None, *, cls: str | None = None) -> Iterator[Element]:
        """This element and every element under it, in document order, that has the tag and class."""
        if (tag is None or self.tag == tag) and (cls is None or cls in self.classes):
            yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter(tag, cls=cls)

    def find_all(self, tag: str | None = None, *, cls: str | None = None) -> list[Element]:
        return list(self.iter(tag, cls=cls))

    def find(self, tag: str | None = None, *, cls: str | None = None) -> Element | None:
        return next(self.iter(tag, cls=cls), None)

    def following(self, tag: str | None = None) -> Iterator[Element]:
        """The elements after this one in document order, outside it."""
        node = self
        while node.parent is not None:
            siblings = node.parent.children
            for sibling in siblings[siblings.index(node) + 1:]:
                if isinstance(sibling, Element):
                    yield from sibling.iter(tag)
            node = node.parent

    def background(self) -> tuple[int, int, int]:
        """The colour behind the element's content: its own computed background-color, else the
        nearest ancestor's that is opaque, else the white of the browser's canvas."""
        node: Element | None = self
        while node is not None:
            if "background-color" in node.style and (colour := css_colour(node.style["background-color"])):
                return colour
            node = node.parent
        return 255, 255, 255

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    @property
    def text(self) -> str:
        """The text as the DOM's textContent gives it, white space collapsed."""
        return " ".join("".join(self._texts()).split())

    def _texts(self) -> Iterator[str]:
        for child in self.children:
            yield from (child,) if isinstance(child, str) else child._texts()


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, parent=self.open[-1])
        self.open[-1].children.append(element)
        if tag not in _VOID:
            self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.open.pop()

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.open[-1].children.append(data)


def parse_dom(text: str) -> Element:
    """A serialised DOM as a tree: the document, whose child is <html>. The probe's attributes,
    where present, become each element's box and style."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    for element in builder.root.iter():
        if BOX_ATTR in element.attrs:
            element.box = Box(*map(float, element.attrs.pop(BOX_ATTR).split()))
        if STYLE_ATTR in element.attrs:
            element.style = json.loads(element.attrs.pop(STYLE_ATTR))
    return builder.root


# --- the screenshot -----------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    channels: int  # 3: RGB, 4: RGBA
    data: bytes  # rows top to bottom, channels bytes a pixel

    def pixel(self, x: int, y: int) -> tuple[int, ...]:
        if not (0 <= x < self.width and 0 <= y < self.height):
            raise IndexError(f"({x}, {y}) is outside the {self.width}x{self.height} image")
        i = (y * self.width + x) * self.channels
        return tuple(self.data[i:i + self.channels])

    def colours(self, box: Box | None = None) -> Counter[tuple[int, ...]]:
        """How many pixels of each colour the image, or the box of it, has."""
        if box is not None:
            return Counter(self.pixel(x, y) for x, y in box.points())
        c = self.channels
        counts = Counter(self.data[i:i + c] for i in range(0, len(self.data), c))
        return Counter({tuple(k): n for k, n in counts.items()})


def decode_png(data: bytes) -> Image:
    """An 8-bit RGB or RGBA, non-interlaced PNG's pixels (the CRC of every chunk checked)."""
    if data[:8] != PNG_SIGNATURE:
        raise ValueError("not a PNG")
    pos, header, idat = 8, None, []
    while True:
        if pos + 8 > len(data):
            raise ValueError("PNG ends before its IEND chunk")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise ValueError(f"PNG chunk {kind!r} at byte {pos}: bad CRC")
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG has no IHDR chunk")
    width, height, depth, colour_type, _, _, interlace = header
    if depth != 8 or colour_type not in (2, 6) or interlace:
        raise ValueError(f"PNG of bit depth {depth}, colour type {colour_type}, interlace {interlace}: "
                         "only 8-bit RGB (2) and RGBA (6), not interlaced, are read")
    bpp = 3 if colour_type == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    if len(raw) != height * (stride + 1):
        raise ValueError(f"PNG data is {len(raw)} bytes, not {height} rows of {stride + 1}")
    rows, prior = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        prior = _unfilter(raw[start], raw[start + 1:start + 1 + stride], prior, bpp)
        rows.append(prior)
    return Image(width, height, bpp, b"".join(rows))


_BYTE = (255).__and__


def _unfilter(kind: int, line: bytes, prior: bytes, bpp: int) -> bytes:
    """One scanline with its PNG filter undone. Sub and Up, most of Chromium's rows, run in C:
    Sub as a running sum per channel, Up as a carry-less bytewise sum of two big integers."""
    n = len(line)
    if kind == 0:
        return line
    if kind == 1:
        out = bytearray(n)
        for c in range(bpp):
            out[c::bpp] = bytes(map(_BYTE, accumulate(line[c::bpp])))
        return bytes(out)
    if kind == 2:
        low, high = int.from_bytes(b"\x7f" * n, "big"), int.from_bytes(b"\x80" * n, "big")
        a, b = int.from_bytes(line, "big"), int.from_bytes(prior, "big")
        return (((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(n, "big")
    out = bytearray(line)
    if kind == 3:
        for i in range(n):
            left = out[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + ((left + prior[i]) >> 1)) & 255
        return bytes(out)
    if kind == 4:
        for i in range(n):
            if i < bpp:
                out[i] = (out[i] + prior[i]) & 255
                continue
            a, b, c = out[i - bpp], prior[i], prior[i - bpp]
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            out[i] = (out[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        return bytes(out)
    raise ValueError(f"PNG filter type {kind} does not exist")


# --- the browser --------------------------------------------------------------------------------


@dataclass
class Rendered:
    dom: Element  # the document; its <html> is dom.find("html")
    image: Image

    def find_all(self, tag: str | None = None, *, cls: str | None = None) -> list[Element]:
        return self.dom.find_all(tag, cls=cls)

    def find(self, tag: str | None = None, *, cls: str | None = None) -> Element | None:
        return self.dom.find(tag, cls=cls)

    def drawn_colour(self, element: Element, inset: float = 2) -> tuple[int, ...]:
        """The colour most of the element's box is drawn in (its text and border aside: the box
        is taken inset by `inset` pixels, and a cell's text covers less than its background)."""
        if element.box is None:
            raise ValueError(f"<{element.tag}> has no box: it was not in the page the browser rendered")
        counts = self.image.colours(element.box.inset(inset))
        if not counts:
            raise ValueError(f"<{element.tag}> at {element.box} draws no whole pixel")
        return counts.most_common(1)[0][0]


def render(html_path: Path, *, width: int = WIDTH, styles: Sequence[str] = STYLES,
           browser: str | None = None, timeout: float = 120) -> Rendered:
    """The page at html_path as the browser shows it, in a window `width` CSS pixels wide and as
    tall as the page. `styles` are the computed properties recorded on each element."""
    browser = browser or find_browser()
    if browser is None:
        raise BrowserError(f"{BROWSER} is not installed (apt-get install {BROWSER})")
    page = Path(html_path).read_text(encoding="utf-8")
    probe = _PROBE % (json.dumps(list(styles)), BOX_ATTR, STYLE_ATTR, PAGE_ATTR)
    end = page.lower().rfind("</body>")
    probed = page[:end] + probe + page[end:] if end >= 0 else page + probe
    with tempfile.TemporaryDirectory(prefix="errata-db-browser-") as tmp:
        copy, shot = Path(tmp, "page.html"), Path(tmp, "screenshot.png")
        copy.write_text(probed, encoding="utf-8")
        size = (width, 600)
        for _ in range(3):
            dom = _run(browser, copy, size, shot, Path(tmp, "profile"), timeout)
            html = dom.find("html")
            if html is None or PAGE_ATTR not in html.attrs:
                raise BrowserError(f"the probe did not run: {browser} gave no {PAGE_ATTR} on <html>")
            page_w, page_h, view_w, view_h = map(int, html.attrs.pop(PAGE_ATTR).split())
            if not shot.exists():
                raise BrowserError(f"{browser} wrote no screenshot")
            if page_w <= view_w and page_h <= view_h:
                image = decode_png(shot.read_bytes())
                if (image.width, image.height) != size:
                    raise BrowserError(f"asked for a {size[0]}x{size[1]} screenshot, got {image.width}x{image.height}")
                return Rendered(dom, image)
            size = (max(width, page_w), page_h)
        raise BrowserError(f"the page never fitted the window: last {page_w}x{page_h} in {view_w}x{view_h}")


def _run(browser: str, page: Path, size: tuple[int, int], shot: Path, profile: Path, timeout: float) -> Element:
    shot.unlink(missing_ok=True)
    argv = [browser, "--headless", "--no-sandbox", f"--user-data-dir={profile}", "--hide-scrollbars",
            "--force-device-scale-factor=1", "--force-color-profile=srgb", f"--window-size={size[0]},{size[1]}",
            f"--screenshot={shot}", "--dump-dom", page.as_uri()]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise BrowserError(f"{browser} did not finish within {timeout} s: {' '.join(argv)}") from exc
    if result.returncode != 0 or not result.stdout.strip():
        raise BrowserError(f"{' '.join(argv)} exited {result.returncode}; stderr ends:\n{result.stderr[-2000:]}")
    return parse_dom(result.stdout)
