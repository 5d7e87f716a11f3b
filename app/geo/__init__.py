"""French communes: offline lookup by INSEE code, postal code and name.

The data file ``resources/geodata/communes.csv.gz`` is built by
``scripts/build_communes.py`` (see ``docs/geodata.md``). This package has no
dependency beyond the standard library and never imports Qt.

    >>> index = CommuneIndex.load()
    >>> index.by_insee("17300").name
    'La Rochelle'
    >>> [c.name for c in index.search("st martin de re")][:1]
    ['Saint-Martin-de-Ré']
"""

from __future__ import annotations

import bisect
import csv
import gzip
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from app.resources import resource

__all__ = [
    "COORD_SOURCES",
    "Commune",
    "CommuneIndex",
    "DEFAULT_PATH",
    "EARTH_RADIUS_KM",
    "FIELDNAMES",
    "default_index",
    "distance_km",
    "normalize_name",
]

#: Where the coordinates of a commune come from (the ``coord_source`` column).
COORD_SOURCES = ("official", "geonames", "postal_centroid", "department_centroid")

#: Columns of ``communes.csv.gz``, in order. ``postal_codes`` and ``former_names``
#: are ``|``-separated lists.
FIELDNAMES = (
    "insee",
    "name",
    "postal_codes",
    "department",
    "lat",
    "lon",
    "population",
    "coord_source",
    "former_names",
)

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius


DEFAULT_PATH = resource("geodata", "communes.csv.gz")

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—'’`´_.,/()]+")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_ARTICLES = ("le ", "la ", "les ", "l ")


def _fold_char(ch: str) -> str:
    decomposed = unicodedata.normalize("NFKD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


# Latin-1 and Latin Extended-A folded once; anything else goes through NFKD.
_FOLD = {cp: _fold_char(chr(cp)) for cp in range(0xC0, 0x180)}
_FOLD.update({ord("œ"): "oe", ord("Œ"): "oe", ord("æ"): "ae", ord("Æ"): "ae", ord("ß"): "ss"})


def normalize_name(text: str) -> str:
    """Fold a place name for matching: no accents, no case, no punctuation.

    Hyphens, apostrophes and dots become spaces; ``st``/``ste`` become
    ``saint``/``sainte``; ligatures are expanded. ``"St-Martin-de-Ré"``,
    ``"saint martin de re"`` and ``"ST MARTIN DE RE"`` all give
    ``"saint martin de re"``.
    """
    folded = text.translate(_FOLD).lower()
    if not folded.isascii():
        folded = "".join(_fold_char(ch) if ord(ch) > 0x7F else ch for ch in folded)
    words = _SEPARATORS.sub(" ", folded).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


def _without_article(norm: str) -> str | None:
    for article in _ARTICLES:
        if norm.startswith(article) and len(norm) > len(article):
            return norm[len(article) :]
    return None


@dataclass(frozen=True, slots=True)
class Commune:
    """One current French commune (INSEE type COM)."""

    insee: str
    name: str
    postal_codes: tuple[str, ...]
    department: str
    lat: float
    lon: float
    population: int | None = None
    coord_source: str = "geonames"
    former_names: tuple[str, ...] = field(default=(), compare=False)

    @property
    def postal_code(self) -> str:
        """The main postal code (first one), or ``""``."""
        return self.postal_codes[0] if self.postal_codes else ""

    @property
    def label(self) -> str:
        """``"La Rochelle (17000)"`` — how a desk shows a commune."""
        return f"{self.name} ({self.postal_code})" if self.postal_code else self.name

    def distance_to(self, other: Commune | tuple[float, float]) -> float:
        return distance_km(self, other)


def _coords(point: Commune | tuple[float, float]) -> tuple[float, float]:
    if isinstance(point, Commune):
        return point.lat, point.lon
    lat, lon = point
    return float(lat), float(lon)


def distance_km(a: Commune | tuple[float, float], b: Commune | tuple[float, float]) -> float:
    """Great-circle (haversine) distance in kilometres between two communes or
    ``(lat, lon)`` pairs in decimal degrees."""
    lat1, lon1 = _coords(a)
    lat2, lon2 = _coords(b)
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def read_rows(path: Path | str) -> Iterator[dict[str, str]]:
    """Yield the raw CSV rows of a communes file (``.csv`` or ``.csv.gz``)."""
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    yield from csv.DictReader(io.StringIO(raw.decode("utf-8")))


def read_communes(path: Path | str) -> Iterator[Commune]:
    """Yield the communes of a communes file (``.csv`` or ``.csv.gz``)."""
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    reader = csv.reader(io.StringIO(raw.decode("utf-8")))
    header = next(reader)
    missing = [f for f in FIELDNAMES[:6] if f not in header]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    i = {name: header.index(name) for name in header}
    i_pop, i_src, i_old = (i.get(k) for k in ("population", "coord_source", "former_names"))
    i_ins, i_nam, i_pc, i_dep, i_lat, i_lon = (i[k] for k in FIELDNAMES[:6])
    for row in reader:
        if not row:
            continue
        pop = row[i_pop] if i_pop is not None else ""
        pcs = row[i_pc]
        old = row[i_old] if i_old is not None else ""
        yield Commune(
            row[i_ins],
            row[i_nam],
            tuple(pcs.split("|")) if pcs else (),
            row[i_dep],
            float(row[i_lat]),
            float(row[i_lon]),
            int(pop) if pop else None,
            (row[i_src] if i_src is not None else "") or "geonames",
            tuple(old.split("|")) if old else (),
        )


class CommuneIndex:
    """All communes in memory, with the lookups a regulation desk needs."""

    def __init__(self, communes: Iterable[Commune]):
        self._by_insee: dict[str, Commune] = {}
        self._by_postal: dict[str, list[Commune]] = {}
        for commune in communes:
            if commune.insee in self._by_insee:
                raise ValueError(f"duplicate INSEE code {commune.insee}")
            self._by_insee[commune.insee] = commune
            for postal in commune.postal_codes:
                self._by_postal.setdefault(postal, []).append(commune)
        # The name index is built on the first search (about 0.15 s for France).
        self._keys: list[tuple[str, int, str]] | None = None
        self._key_names: list[str] = []

    def _name_index(self) -> list[tuple[str, int, str]]:
        if self._keys is None:
            keys: list[tuple[str, int, str]] = []  # (normalised name, rank, insee)
            for commune in self._by_insee.values():
                norm = normalize_name(commune.name)
                keys.append((norm, 0, commune.insee))
                bare = _without_article(norm)
                if bare:
                    keys.append((bare, 1, commune.insee))
                for former in commune.former_names:
                    keys.append((normalize_name(former), 2, commune.insee))
            keys.sort()
            self._key_names = [k[0] for k in keys]
            self._keys = keys
        return self._keys

    # -- construction -------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | str | None = None) -> CommuneIndex:
        """Load the shipped file (or ``path``)."""
        return cls(read_communes(path or DEFAULT_PATH))

    # -- lookups -------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._by_insee)

    def __iter__(self) -> Iterator[Commune]:
        return iter(self._by_insee.values())

    def __contains__(self, insee: object) -> bool:
        return insee in self._by_insee

    def by_insee(self, insee: str) -> Commune | None:
        return self._by_insee.get(insee.strip().upper())

    def by_postal_code(self, postal_code: str) -> list[Commune]:
        """Communes served by a postal code, most populated first."""
        found = self._by_postal.get(postal_code.strip().replace(" ", ""), [])
        return sorted(found, key=lambda c: (-(c.population or 0), c.name))

    def in_department(self, department: str) -> list[Commune]:
        return [c for c in self._by_insee.values() if c.department == department]

    def search(
        self, query: str, *, limit: int = 20, department: str | None = None
    ) -> list[Commune]:
        """Communes whose name starts with ``query``.

        Insensitive to accents, case, hyphens, apostrophes and ``St``/``Saint``;
        the leading article may be left out (``"rochelle"`` finds La Rochelle) and
        the names of former communes (communes déléguées or associées) find the
        commune they now belong to. Exact names come first, then the most
        populated. A query made only of digits is taken as a postal code prefix.
        """
        q = query.strip()
        if q.isdigit():
            return self._search_postal(q, limit=limit, department=department)
        norm = normalize_name(q)
        if not norm:
            return []
        keys = self._name_index()
        seen: dict[str, tuple[int, int, int, str]] = {}
        start = bisect.bisect_left(self._key_names, norm)
        for i in range(start, len(keys)):
            name, rank, insee = keys[i]
            if not name.startswith(norm):
                break
            commune = self._by_insee[insee]
            if department and commune.department != department:
                continue
            exact = 0 if name == norm else 1
            order = (exact, rank, -(commune.population or 0), commune.name)
            if insee not in seen or order < seen[insee]:
                seen[insee] = order
        ranked = sorted(seen, key=lambda insee: seen[insee])
        return [self._by_insee[insee] for insee in ranked[:limit]]

    def _search_postal(self, prefix: str, *, limit: int, department: str | None) -> list[Commune]:
        found: dict[str, Commune] = {}
        for postal in sorted(self._by_postal):
            if postal.startswith(prefix):
                for commune in self._by_postal[postal]:
                    if department is None or commune.department == department:
                        found.setdefault(commune.insee, commune)
        ranked = sorted(found.values(), key=lambda c: (c.postal_code, -(c.population or 0)))
        return ranked[:limit]

    def nearest(self, lat: float, lon: float, *, limit: int = 1) -> list[Commune]:
        """Communes closest to a point (linear scan: fine for a few calls a second)."""
        return sorted(self._by_insee.values(), key=lambda c: distance_km(c, (lat, lon)))[:limit]


@lru_cache(maxsize=1)
def default_index() -> CommuneIndex:
    """The shipped communes, loaded once per process."""
    return CommuneIndex.load()
