"""Altair chart builders. They take small aggregated frames and display texts (already translated),
never raw usage rows and never the translator, so a chart is a pure function of what it shows."""

from __future__ import annotations

import copy

import altair as alt
import pandas as pd

from dashboard.formatting import ACCENT, INK, PRIMARY, RULE, SEQUENTIAL_SCHEME
from dashboard.geo import banner_features

# Colours come from dashboard.formatting (one colour-blind-safe palette for every chart); PRIMARY
# and ACCENT are re-exported for the view modules. Text colour: INK.
__all__ = ["ACCENT", "PRIMARY", "distribution_bars", "region_map", "usage_history"]
MAP_HEIGHT = 430


def _features_with(regions: pd.DataFrame) -> list[dict]:
    """Banner features carrying the figures of `regions` (code, label, instruments, value_wan, units)."""
    rows = regions.set_index("code").to_dict("index")
    out = []
    for feature in banner_features():
        feature = copy.deepcopy(feature)
        row = rows.get(feature["properties"]["code"], {})
        feature["properties"].update({
            "label": row.get("label", feature["properties"]["code"]),
            "instruments": int(row.get("instruments", 0)),
            "value_wan": round(float(row.get("value_wan", 0.0)), 2),
            "units": int(row.get("units", 0)),
        })
        out.append(feature)
    return out


def region_map(regions: pd.DataFrame, points: pd.DataFrame, measure: str, titles: dict[str, str]) -> alt.LayerChart:
    """Banner map coloured by `measure` ("instruments" or "value_wan"), with unit points.

    regions: code, label, instruments, value_wan, units (one row per banner).
    points: label, lat, lon, instruments, value_wan (one row per holding unit).
    titles: display names for region, unit, instruments, value_wan, units."""
    features = _features_with(regions)
    shapes = (
        alt.Chart(alt.Data(values=features))
        .mark_geoshape(stroke="white", strokeWidth=1.5)
        .encode(
            color=alt.Color(f"properties.{measure}:Q", title=titles[measure],
                            scale=alt.Scale(scheme=SEQUENTIAL_SCHEME, zero=True),
                            legend=alt.Legend(orient="bottom-left", gradientLength=160,
                                              **({"format": "d", "tickMinStep": 1} if measure == "instruments" else {}))),
            tooltip=[
                alt.Tooltip("properties.label:N", title=titles["region"]),
                alt.Tooltip("properties.instruments:Q", title=titles["instruments"]),
                alt.Tooltip("properties.value_wan:Q", title=titles["value_wan"], format=",.2f"),
                alt.Tooltip("properties.units:Q", title=titles["units"]),
            ],
        )
    )
    names = pd.DataFrame([
        {"label": f["properties"]["label"], "lon": f["properties"]["centroid"][0], "lat": f["properties"]["centroid"][1]}
        for f in features
    ])
    # Dark names with a white halo stay readable on light and dark fills alike.
    name_base = alt.Chart(names).encode(longitude="lon:Q", latitude="lat:Q", text="label:N")
    name_style = {"fontSize": 13, "fontWeight": "bold", "dy": -14}
    halo = name_base.mark_text(color="white", stroke="white", strokeWidth=4, strokeJoin="round", **name_style)
    layers = [shapes, halo, name_base.mark_text(color=INK, **name_style)]
    if not points.empty:
        layers.append(
            alt.Chart(points)
            .mark_circle(color=ACCENT, stroke="white", strokeWidth=1, opacity=0.9)
            .encode(
                longitude="lon:Q",
                latitude="lat:Q",
                size=alt.Size("instruments:Q", title=titles["unit_instruments"], scale=alt.Scale(range=[60, 600], zero=False),
                              legend=alt.Legend(orient="bottom-right", format="d", tickMinStep=1)),
                tooltip=[
                    alt.Tooltip("label:N", title=titles["unit"]),
                    alt.Tooltip("instruments:Q", title=titles["instruments"]),
                    alt.Tooltip("value_wan:Q", title=titles["value_wan"], format=",.2f"),
                ],
            )
        )
    return (
        alt.layer(*layers)
        .project(type="mercator")
        .properties(height=MAP_HEIGHT, width="container")
        .configure_view(stroke=None)
    )


def distribution_bars(frame: pd.DataFrame, measure: str, titles: dict[str, str]) -> alt.Chart:
    """Horizontal bars of one distribution, in the frame's row order.

    frame: label, instruments, value_wan. measure: "instruments" or "value_wan" (bar length).
    titles: category, instruments, value_wan."""
    counts = measure == "instruments"
    fmt = ",d" if counts else ",.2f"
    base = alt.Chart(frame).encode(
        y=alt.Y("label:N", sort=list(frame["label"]), title=None, axis=alt.Axis(labelLimit=220)),
        # Whole instruments on a count axis, never 0.5 of one.
        # Headroom on the right so the value printed after the longest bar is not cut off.
        x=alt.X(f"{measure}:Q", title=titles[measure],
                scale=alt.Scale(domain=[0, max(1.0, float(frame[measure].max() if len(frame) else 0) * 1.15)], nice=False),
                axis=alt.Axis(format="d", tickMinStep=1) if counts else alt.Axis(format=",.0f", tickCount=5)),
    )
    bars = base.mark_bar(color=PRIMARY).encode(
        tooltip=[
            alt.Tooltip("label:N", title=titles["category"]),
            alt.Tooltip("instruments:Q", title=titles["instruments"]),
            alt.Tooltip("value_wan:Q", title=titles["value_wan"], format=",.2f"),
        ]
    )
    values = base.mark_text(align="left", dx=3, color=INK).encode(text=alt.Text(f"{measure}:Q", format=fmt))
    # A fixed band per row: the chart grows with the number of categories and labels never overlap.
    return (bars + values).properties(height=alt.Step(34), width="container")


def usage_history(frame: pd.DataFrame, series: dict[str, str], rated_monthly: float, titles: dict[str, str]) -> alt.LayerChart:
    """Monthly effective vs external hours of one instrument, with the rated hours per month as a
    dashed line. frame: month, effective_hours, external_hours; series: column -> legend label;
    titles: month, hours, series, rated."""
    long = frame.melt(id_vars="month", value_vars=list(series), var_name="series", value_name="hours")
    long["series"] = long["series"].map(series)
    lines = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title=titles["month"], axis=alt.Axis(format="%Y-%m")),
            y=alt.Y("hours:Q", title=titles["hours"]),
            color=alt.Color("series:N", title=titles["series"],
                            scale=alt.Scale(domain=list(series.values()), range=[PRIMARY, ACCENT]),
                            legend=alt.Legend(orient="top")),
            tooltip=[
                alt.Tooltip("month:T", title=titles["month"], format="%Y-%m"),
                alt.Tooltip("series:N", title=titles["series"]),
                alt.Tooltip("hours:Q", title=titles["hours"], format=",.1f"),
            ],
        )
    )
    rated = (
        alt.Chart(pd.DataFrame({"rated": [rated_monthly], "label": [titles["rated"]]}))
        .mark_rule(strokeDash=[6, 4], color=RULE)
        .encode(y="rated:Q", tooltip=[alt.Tooltip("rated:Q", title=titles["rated"], format=",.1f")])
    )
    return alt.layer(lines, rated).properties(height=300, width="container")
