"""Reference data: the 2025 municipalities, their regions, population and map outlines.

Source: CBS/PDOK gebiedsindelingen 2025, via cartomap/nl (see reference_data/README.md).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

REFERENCE_DIR = Path(__file__).parent / "reference_data"
SOURCE_NOTE = "Bron: CBS/PDOK gebiedsindelingen 2025, via cartomap/nl"
MUNICIPALITY_GEOJSON = REFERENCE_DIR / "gemeente_2025.geojson"

# Region types as published in the mart (area_code "<type>:<code>"), with the columns
# of municipality_regions_2025.csv and the region_type of regions_2025.csv they come from.
REGION_TYPES: dict[str, tuple[str, str]] = {
    "veilig_thuis_region": ("veilig_thuis_region_code", "veiligthuisregio"),
    "safety_region": ("safety_region_code", "veiligheidsregio"),
    "ggd_region": ("ggd_region_code", "ggdregio"),
    "youth_care_region": ("jeugdregio_code", "jeugdregio"),
}
DEFAULT_REGION_TYPE = "veilig_thuis_region"


@cache
def municipalities() -> pl.DataFrame:
    """One row per municipality: code, name, population and its region code of every type."""
    regions = pl.read_csv(REFERENCE_DIR / "municipality_regions_2025.csv")
    population = pl.read_csv(REFERENCE_DIR / "population_2024.csv").select(
        "municipality_code", "population"
    )
    return regions.join(population, on="municipality_code", how="left").sort("municipality_code")


@cache
def regions() -> pl.DataFrame:
    """One row per region: region_type (as in the mart), code, name, n_municipalities."""
    source_to_type = {source: rtype for rtype, (_, source) in REGION_TYPES.items()}
    return (
        pl.read_csv(REFERENCE_DIR / "regions_2025.csv")
        .with_columns(pl.col("region_type").replace_strict(source_to_type))
        .sort("region_type", "region_code")
    )


@cache
def municipality_codes() -> frozenset[str]:
    return frozenset(municipalities()["municipality_code"].to_list())


def memberships() -> pl.DataFrame:
    """Long table: region_type, region_code, municipality_code (every region of every type)."""
    muni = municipalities()
    return pl.concat(
        muni.select(
            pl.lit(rtype).alias("region_type"),
            pl.col(column).alias("region_code"),
            "municipality_code",
        )
        for rtype, (column, _) in REGION_TYPES.items()
    )
