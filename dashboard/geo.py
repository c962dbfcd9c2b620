"""Banner outlines of Alxa League from the reference GeoJSON, for the app's maps and the report."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

BANNERS_GEOJSON = Path(__file__).resolve().parents[1] / "data" / "reference" / "alxa_152900_banners.geojson"


@lru_cache(maxsize=1)
def banner_features() -> tuple[dict, ...]:
    """The three banner outlines, read from disk once per process; properties.code is the
    region code as text (the file carries it as the integer adcode)."""
    data = json.loads(BANNERS_GEOJSON.read_text(encoding="utf-8"))
    features = []
    for feature in data["features"]:
        props = feature["properties"]
        features.append({
            "type": "Feature",
            "geometry": feature["geometry"],
            "properties": {"code": str(props["adcode"]), "centroid": props.get("centroid") or props.get("center")},
        })
    return tuple(features)
