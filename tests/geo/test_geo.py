"""The shipped communes file and its loader, on real data and real lookups."""

from __future__ import annotations

import gzip
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from app.geo import (
    COORD_SOURCES,
    DEFAULT_PATH,
    Commune,
    CommuneIndex,
    default_index,
    distance_km,
    normalize_name,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def index() -> CommuneIndex:
    return default_index()


def test_file_is_shipped_compressed_and_small() -> None:
    assert DEFAULT_PATH.is_file()
    assert DEFAULT_PATH.stat().st_size < 2_000_000
    header = gzip.decompress(DEFAULT_PATH.read_bytes()).split(b"\n", 1)[0].decode()
    assert header.split(",")[:8] == [
        "insee",
        "name",
        "postal_codes",
        "department",
        "lat",
        "lon",
        "population",
        "coord_source",
    ]


def test_loads_all_communes_fast() -> None:
    # Measured in a fresh interpreter so that nothing is cached.
    code = (
        "import time; t = time.perf_counter();"
        "from app.geo import CommuneIndex; i = CommuneIndex.load();"
        "print(len(i), time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    count, seconds = int(out[0]), float(out[1])
    assert count > 34_000
    # A guard against a pathological regression (about 0.3 s on a quiet machine), not a
    # benchmark: CI machines are shared and noisy.
    assert seconds < 5.0


def test_every_commune_is_well_formed(index: CommuneIndex) -> None:
    seen_sources = set()
    for c in index:
        assert len(c.insee) == 5, c
        assert c.name, c
        assert c.postal_codes, c
        assert all(len(pc) == 5 and pc.isdigit() for pc in c.postal_codes), c
        assert c.insee.startswith(c.department) or c.department in ("2A", "2B"), c
        assert c.coord_source in COORD_SOURCES, c
        seen_sources.add(c.coord_source)
        if c.department.startswith("97"):
            assert -22 < c.lat < 17 and -62 < c.lon < 56, c
        else:  # metropolitan France and Corsica
            assert 41.3 < c.lat < 51.2 and -5.3 < c.lon < 9.7, c
    assert "geonames" in seen_sources


def test_current_communes_only(index: CommuneIndex) -> None:
    # Arrondissements municipaux are not communes: Paris is one commune with all
    # its postal codes; communes déléguées are folded into their commune nouvelle.
    paris = index.by_insee("75056")
    assert paris is not None and paris.name == "Paris"
    assert index.by_insee("75101") is None  # Paris 1er arrondissement
    assert index.by_insee("13201") is None  # Marseille 1er arrondissement
    assert [c.insee for c in index.by_postal_code("75011")] == ["75056"]
    assert [c.insee for c in index.by_postal_code("69003")] == ["69123"]


def test_la_rochelle(index: CommuneIndex) -> None:
    lr = index.by_insee("17300")
    assert lr is not None
    assert lr.name == "La Rochelle"
    assert lr.department == "17"
    assert "17000" in lr.postal_codes
    assert lr.population and lr.population > 70_000
    assert lr.coord_source == "geonames"
    assert abs(lr.lat - 46.16) < 0.05 and abs(lr.lon + 1.15) < 0.05
    assert index.by_postal_code("17000") == [lr]
    assert lr.label == "La Rochelle (17000)"
    # 17300 is La Rochelle's INSEE code but Rochefort's postal code.
    assert [c.name for c in index.by_postal_code("17300")][0] == "Rochefort"


def test_saint_martin_de_re(index: CommuneIndex) -> None:
    smr = index.by_insee("17369")
    assert smr is not None
    assert smr.name == "Saint-Martin-de-Ré"
    assert smr.postal_codes == ("17410",)
    for query in ("st martin de re", "Saint-Martin-de-Ré", "ST MARTIN DE RE", "st-martin-de-r"):
        assert index.search(query)[0] == smr, query
    # Department filter narrows homonyms.
    assert index.search("saint martin", department="17", limit=50)
    assert all(c.department == "17" for c in index.search("saint martin", department="17"))


def test_name_with_apostrophe(index: CommuneIndex) -> None:
    houmeau = index.by_insee("17190")
    assert houmeau is not None
    assert houmeau.name == "L'Houmeau"
    for query in ("l'houmeau", "L’Houmeau", "l houmeau", "houmeau"):
        assert houmeau in index.search(query), query
    aix = index.search("ile d'aix")[0]
    assert (aix.insee, aix.name) == ("17004", "Île-d'Aix")


def test_search_without_article_and_ranking(index: CommuneIndex) -> None:
    # Exact names first, then by population: La Rochelle (17) before La Rochelle (70).
    found = index.search("rochelle")
    assert [c.insee for c in found[:2]] == ["17300", "70450"]
    assert index.search("la rochelle")[0].insee == "17300"
    assert index.search("") == []
    assert index.search("zzzzzz") == []


def test_search_by_postal_prefix(index: CommuneIndex) -> None:
    found = index.search("1741")
    assert any(c.insee == "17369" for c in found)
    assert all(any(pc.startswith("1741") for pc in c.postal_codes) for c in found)


def test_postal_code_shared_by_several_communes(index: CommuneIndex) -> None:
    # 17590: Ars-en-Ré and Saint-Clément-des-Baleines (Île de Ré).
    communes = index.by_postal_code("17590")
    assert {c.insee for c in communes} == {"17019", "17318"}
    assert communes[0].name == "Ars-en-Ré"  # most populated first
    # 17137: several communes north of La Rochelle.
    names = {c.name for c in index.by_postal_code("17137")}
    assert {"L'Houmeau", "Nieul-sur-Mer", "Marsilly", "Esnandes"} <= names


def test_former_commune_names_find_the_commune_nouvelle(index: CommuneIndex) -> None:
    # Communes déléguées are not rows, but their names find the commune they joined.
    with_former = [c for c in index if c.former_names]
    assert len(with_former) > 500
    c = with_former[0]
    assert c in index.search(c.former_names[0], limit=50)


def test_distance_la_rochelle_rochefort(index: CommuneIndex) -> None:
    lr, rochefort = index.by_insee("17300"), index.by_insee("17299")
    assert lr is not None and rochefort is not None
    d = distance_km(lr, rochefort)
    assert 24 < d < 34  # about 28 km as the crow flies
    assert distance_km(rochefort, lr) == pytest.approx(d)
    assert lr.distance_to(lr) == 0


def test_distance_known_values() -> None:
    paris, marseille = (48.8566, 2.3522), (43.2965, 5.3698)
    assert distance_km(paris, marseille) == pytest.approx(661, abs=5)
    assert distance_km((0.0, 0.0), (0.0, 180.0)) == pytest.approx(20015, abs=2)


def test_nearest(index: CommuneIndex) -> None:
    # A point in the old harbour of La Rochelle.
    assert index.nearest(46.156, -1.152)[0].insee == "17300"


def test_normalize_name() -> None:
    assert normalize_name("St-Martin-de-Ré") == "saint martin de re"
    assert normalize_name("SAINTE-SOULLE") == "sainte soulle"
    assert normalize_name("L’Houmeau") == "l houmeau"
    assert normalize_name("Œuilly") == "oeuilly"
    assert normalize_name("  Châtelaillon -- Plage ") == "chatelaillon plage"


def test_index_rejects_duplicate_codes() -> None:
    c = Commune("17300", "La Rochelle", ("17000",), "17", 46.16, -1.15)
    with pytest.raises(ValueError):
        CommuneIndex([c, c])


def test_load_from_plain_csv(tmp_path: Path) -> None:
    path = tmp_path / "communes.csv"
    path.write_text(
        "insee,name,postal_codes,department,lat,lon,population,coord_source,former_names\n"
        "17369,Saint-Martin-de-Ré,17410,17,46.2031,-1.36746,2355,official,\n",
        encoding="utf-8",
    )
    idx = CommuneIndex.load(path)
    assert len(idx) == 1
    assert idx.search("st martin")[0].coord_source == "official"


# -- the build script's official-file reader (pure function, no network) ------------


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_communes", ROOT / "scripts" / "build_communes.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_official_file_semicolon_and_decimal_comma(tmp_path: Path) -> None:
    path = tmp_path / "communes-france.csv"
    path.write_text(
        "\ufeffcode_insee;nom_standard;latitude_centre;longitude_centre\n"
        "17300;La Rochelle;46,1591;-1,1520\n"
        "1001;L'Abergement-Clémenciat;46,1534;4,9260\n"
        "99999;bad;;\n",
        encoding="utf-8",
    )
    coords = _build_module().load_official(path)
    assert coords == {"17300": (46.1591, -1.152), "01001": (46.1534, 4.926)}


def test_official_file_with_coordinate_pair(tmp_path: Path) -> None:
    path = tmp_path / "laposte.csv"
    path.write_text(
        "Code_commune_INSEE;Nom_commune;Code_postal;coordonnees_gps\n"
        '17369;SAINT MARTIN DE RE;17410;"46.2031, -1.3675"\n',
        encoding="utf-8",
    )
    assert _build_module().load_official(path) == {"17369": (46.2031, -1.3675)}
