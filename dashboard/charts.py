"""Chart builders: a prepared polars frame in, a Plotly figure out (no streamlit here).

Colours are Okabe–Ito (colour-blind safe) and never the only carrier of meaning: every
coloured mark also has a symbol (▲ better, ● similar, ▼ worse, – suppressed) and a hover
text that says the comparison in words.
"""

from __future__ import annotations

import math
import textwrap

import plotly.graph_objects as go
import polars as pl

from dashboard import format as fmt
from dashboard.i18n import t
from dashboard.tables import SYMBOLS
from hgkm.mart import NATIONAL

COLOURS = {
    "better": "#56B4E9",  # sky blue
    "similar": "#F0E442",  # yellow
    "worse": "#D55E00",  # vermillion
    "not_compared": "#FFFFFF",
    "suppressed": "#E4E4E4",
    "no_data": "#E4E4E4",
}
MARKERS = {  # plotly marker symbols matching the text symbols
    "better": "triangle-up",
    "similar": "circle",
    "worse": "triangle-down",
    "not_compared": "circle-open",
    "suppressed": "line-ew-open",
    "no_data": "line-ew-open",
}
LEGEND_KEYS = {
    "better": "legend_better",
    "similar": "legend_similar",
    "worse": "legend_worse",
    "not_compared": "legend_not_compared",
    "suppressed": "legend_suppressed",
    "no_data": "legend_no_data",
}
INK = "#1F2933"
# the figures inside the grid's cells: black reaches 4.5:1 on every cell colour, vermillion too
CELL_INK = "#000000"
GRID = "#E5E7EB"
LINE_COLOURS = ["#0072B2", "#CC79A7", "#009E73", "#E69F00", "#56B4E9", "#D55E00", "#000000"]
BENCHMARK_REGION = "#6B7280"
BENCHMARK_NATIONAL = "#111827"
FONT = dict(family="Source Sans Pro, Segoe UI, Helvetica, Arial, sans-serif", color=INK, size=13)


def _layout(fig: go.Figure, title: str | None = None, height: int | None = None) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=16)) if title else None,
        font=FONT,
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=10, r=10, t=60 if title else 20, b=10),
        hoverlabel=dict(bgcolor="white", font_size=13, align="left"),
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0),
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    if height:
        fig.update_layout(height=height)
    return fig


def _separators(lang: str) -> str:
    """Plotly's decimal and thousands separators for axis ticks."""
    return ",." if lang == "nl" else ".,"


def _legend_entries(fig: go.Figure, statuses: list[str], lang: str) -> None:
    """Invisible traces that put the comparison key (colour + symbol + word) in the legend."""
    for status in statuses:
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker=dict(
                    symbol="square",
                    size=14,
                    color=COLOURS[status],
                    line=dict(color="#9CA3AF", width=1),
                ),
                name=t(LEGEND_KEYS[status], lang),
                hoverinfo="skip",
                showlegend=True,
            )
        )


def overview_grid(cells: pl.DataFrame, lang: str, title: str | None = None) -> go.Figure:
    """Areas × indicators, each cell coloured by its comparison and showing value + symbol."""
    statuses = list(COLOURS)
    codes = {s: i for i, s in enumerate(statuses)}
    columns = cells.select("indicator_id", "title").unique(maintain_order=True)
    rows = cells.select("area_code", "area_name").unique(maintain_order=True)

    def wide(col: str) -> pl.DataFrame:
        return (
            cells.pivot(on="indicator_id", index="area_code", values=col)
            .join(rows, on="area_code", how="right")
            .select(columns["indicator_id"].to_list())
        )

    # the middle of each status's band on the stepped colour scale below
    z = wide("status").with_columns(pl.all().replace_strict(codes, return_dtype=pl.Float64) + 0.5)
    n = len(statuses) - 1
    # a stepped colour scale: each status code maps onto exactly one colour
    scale = []
    for status, i in codes.items():
        scale += [[i / (n + 1), COLOURS[status]], [(i + 1) / (n + 1), COLOURS[status]]]
    # ids as categories (titles may repeat), readable wrapped titles as tick labels
    x_ids = columns["indicator_id"].to_list()
    wrapped = [textwrap.wrap(label, 13, break_long_words=False) for label in columns["title"]]
    x_labels = ["<br>".join(lines) for lines in wrapped]
    label_lines = max((len(lines) for lines in wrapped), default=1)
    y_ids = rows["area_code"].to_list()
    y_labels = [
        f"<b>{name}</b>" if code == NATIONAL or ":" in code else name
        for code, name in rows.iter_rows()
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z.to_numpy(),
            x=x_ids,
            y=y_ids,
            zmin=0,
            zmax=n + 1,
            colorscale=scale,
            showscale=False,
            text=wide("text").to_numpy(),
            texttemplate="%{text}",
            textfont=dict(size=13, color=CELL_INK),
            customdata=wide("hover").to_numpy(),
            hovertemplate="%{customdata}<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    _legend_entries(fig, ["better", "similar", "worse", "suppressed", "no_data"], lang)
    _layout(fig, title, height=120 + 16 * label_lines + 38 * rows.height)
    fig.update_xaxes(
        side="top",
        showgrid=False,
        tickfont=dict(size=12),
        fixedrange=True,
        tickangle=0,
        tickvals=x_ids,
        ticktext=x_labels,
    )
    fig.update_yaxes(
        autorange="reversed", showgrid=False, fixedrange=True, tickvals=y_ids, ticktext=y_labels
    )
    # room above the cells for the wrapped column titles (and the chart title above them)
    top = 30 + 16 * label_lines + (40 if title else 0)
    fig.update_layout(legend=dict(y=-0.02, yanchor="top"), margin=dict(t=top))
    if title:
        fig.update_layout(title=dict(y=1, yref="container", yanchor="top", pad=dict(t=10)))
    return fig


def grid_width(columns: int) -> int:
    """The narrowest the overview grid can be drawn without its column titles (the longest
    words, such as "Specialistische", cannot wrap) or cells overlapping; narrower screens
    scroll it sideways."""
    return 150 + 88 * columns


def _bounds(geojson: dict) -> tuple[float, float, float, float]:
    """lon_min, lon_max, lat_min, lat_max of every ring in the features."""
    lons, lats = [], []
    for feature in geojson["features"]:
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else [geometry["coordinates"]]
        )
        for polygon in polygons:
            for ring in polygon:
                lons += [p[0] for p in ring]
                lats += [p[1] for p in ring]
    return min(lons), max(lons), min(lats), max(lats)


def region_map(cells: pl.DataFrame, geojson: dict, lang: str, title: str | None = None):
    """A choropleth of the region's municipalities for one indicator, on a blank background.

    `cells`: one indicator's rows of `overview_cells` for the municipalities. Uses only the
    shipped GeoJSON (`map_style="white-bg"`): nothing is fetched from the internet.
    """
    codes = set(cells["area_code"].to_list())
    shapes = {
        "type": "FeatureCollection",
        "features": [f for f in geojson["features"] if f["properties"]["statcode"] in codes],
    }
    fig = go.Figure()
    for status in COLOURS:
        part = cells.filter(pl.col("status") == status)
        if part.is_empty():
            continue
        fig.add_trace(
            go.Choroplethmap(
                geojson=shapes,
                featureidkey="properties.statcode",
                locations=part["area_code"].to_list(),
                z=[1] * part.height,
                colorscale=[[0, COLOURS[status]], [1, COLOURS[status]]],
                showscale=False,
                marker=dict(line=dict(color="#374151", width=1), opacity=0.9),
                customdata=part["hover"].to_list(),
                hovertemplate="%{customdata}<extra></extra>",
                name=t(LEGEND_KEYS[status], lang),
                showlegend=True,
            )
        )
    if shapes["features"]:
        lon_min, lon_max, lat_min, lat_max = _bounds(shapes)
        span = max(lon_max - lon_min, (lat_max - lat_min) * 1.6, 0.05)
        zoom = math.log2(360 / span) - 0.6
        center = dict(lon=(lon_min + lon_max) / 2, lat=(lat_min + lat_max) / 2)
    else:
        zoom, center = 6, dict(lon=5.3, lat=52.2)
    fig.update_layout(map=dict(style="white-bg", center=center, zoom=zoom))
    # the legend below the map, not over it: on a narrow screen it would hide municipalities
    _layout(fig, title, height=520)
    fig.update_layout(legend=dict(y=-0.02, yanchor="top"))
    return fig


def spine_chart(
    profile: pl.DataFrame,
    lang: str,
    name: str,
    title: str | None = None,
    country: str | None = None,
):
    """Fingertips' spine chart: per indicator the national spread of municipalities, the
    country in the middle, the region (◆) and the municipality (coloured, with symbol).

    Each indicator is scaled so the country sits at 0 and the furthest municipality at ±1,
    with better always to the right.
    """
    sign = pl.when(pl.col("polarity") == "lower_is_better").then(-1.0).otherwise(1.0)
    reach = pl.max_horizontal(
        (pl.col("maximum") - pl.col("national_value")).abs(),
        (pl.col("minimum") - pl.col("national_value")).abs(),
        pl.col("national_value").abs() * 1e-6 + 1e-12,
    )

    def scaled(col: str) -> pl.Expr:
        return ((pl.col(col) - pl.col("national_value")) * sign / reach).clip(-1.05, 1.05)

    frame = profile.with_columns(
        scaled("minimum").alias("s_min"),
        scaled("maximum").alias("s_max"),
        scaled("q25").alias("s_q25"),
        scaled("q75").alias("s_q75"),
        scaled("value").alias("s_value"),
        scaled("region_value").alias("s_region"),
    ).with_columns(
        pl.min_horizontal("s_min", "s_max").alias("worst"),
        pl.max_horizontal("s_min", "s_max").alias("best"),
        pl.min_horizontal("s_q25", "s_q75").alias("mid_low"),
        pl.max_horizontal("s_q25", "s_q75").alias("mid_high"),
    )
    labels = frame["title"].to_list()
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=labels,
            x=(frame["best"] - frame["worst"]).to_list(),
            base=frame["worst"].to_list(),
            orientation="h",
            marker=dict(color="#E5E7EB"),
            hoverinfo="skip",
            showlegend=False,
            width=0.55,
        )
    )
    fig.add_trace(
        go.Bar(
            y=labels,
            x=(frame["mid_high"] - frame["mid_low"]).to_list(),
            base=frame["mid_low"].to_list(),
            orientation="h",
            marker=dict(color="#9CA3AF"),
            hoverinfo="skip",
            showlegend=False,
            width=0.55,
        )
    )
    region_hover = frame.select(
        pl.lit("<b>")
        + pl.col("title")
        + "</b><br>"
        + pl.lit(t("table_region", lang) + ": ")
        + pl.col("region_shown").fill_null(fmt.SUPPRESSED)
        + "<br>"
        + pl.lit((country or t("netherlands", lang)) + ": ")
        + pl.col("national_shown").fill_null(fmt.SUPPRESSED)
    ).to_series()
    fig.add_trace(
        go.Scatter(
            y=labels,
            x=frame["s_region"].to_list(),
            mode="markers",
            marker=dict(symbol="diamond", size=11, color="white", line=dict(color=INK, width=2)),
            name=t("table_region", lang),
            customdata=region_hover.to_list(),
            hovertemplate="%{customdata}<extra></extra>",
        )
    )
    for status in ["better", "similar", "worse", "not_compared"]:
        part = frame.filter(pl.col("status") == status)
        if part.is_empty():
            continue
        fig.add_trace(
            go.Scatter(
                y=part["title"].to_list(),
                x=part["s_value"].fill_null(0).to_list(),
                mode="markers",
                marker=dict(
                    symbol=MARKERS[status],
                    size=16,
                    color=COLOURS[status],
                    line=dict(color=INK, width=1.5),
                ),
                name=f"{name}: {t(LEGEND_KEYS[status], lang)}",
                customdata=part["hover"].to_list(),
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    hidden = frame.filter(pl.col("status").is_in(["suppressed", "no_data"]))
    if not hidden.is_empty():
        fig.add_trace(
            go.Scatter(
                y=hidden["title"].to_list(),
                x=[0] * hidden.height,
                mode="text",
                text=[fmt.SUPPRESSED] * hidden.height,
                textfont=dict(size=20, color=INK),
                name=t("legend_suppressed", lang),
                customdata=hidden["hover"].to_list(),
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    fig.add_vline(x=0, line=dict(color=BENCHMARK_NATIONAL, width=2))
    fig.update_xaxes(
        range=[-1.12, 1.12],
        tickvals=[-1, 0, 1],
        ticktext=[
            "◀ " + ("slechter" if lang == "nl" else "worse"),
            country or t("netherlands", lang),
            ("beter" if lang == "nl" else "better") + " ▶",
        ],
        showgrid=False,
        zeroline=False,
        fixedrange=True,
    )
    fig.update_yaxes(autorange="reversed", fixedrange=True)
    _layout(fig, title, height=120 + 48 * frame.height)
    fig.update_layout(barmode="overlay", legend=dict(y=-0.05, yanchor="top"))
    return fig


def trend_chart(
    series: pl.DataFrame,
    value_format: str,
    lang: str,
    title: str | None = None,
    benchmarks: tuple[str, ...] = (),
) -> go.Figure:
    """Lines over cohort periods; `benchmarks` (area codes) are drawn dashed and grey.

    `series` is described (hover etc.) and sorted by period. Points of an area with a 95%
    interval carry error bars; suppressed points sit on the axis as `–` with their reason.
    """
    percent = value_format != "days"
    scale = 100.0 if percent else 1.0
    fig = go.Figure()
    areas = series.select("area_code", "area_name").unique(maintain_order=True)
    colour_index = 0
    for code, name in areas.iter_rows():
        part = series.filter(pl.col("area_code") == code)
        is_benchmark = code in benchmarks
        if is_benchmark:
            colour = BENCHMARK_NATIONAL if code == NATIONAL else BENCHMARK_REGION
            line = dict(color=colour, width=2, dash="dash" if code == NATIONAL else "dot")
        else:
            colour = LINE_COLOURS[colour_index % len(LINE_COLOURS)]
            colour_index += 1
            line = dict(color=colour, width=3)
        value = (part["value"] * scale).to_list()
        error = None
        if not is_benchmark:
            error = dict(
                type="data",
                symmetric=False,
                array=((part["ci_high"] - part["value"]) * scale).to_list(),
                arrayminus=((part["value"] - part["ci_low"]) * scale).to_list(),
                color=colour,
                thickness=1.2,
                width=4,
            )
        fig.add_trace(
            go.Scatter(
                x=fmt_periods(part, lang),
                y=value,
                mode="lines+markers",
                name=name,
                line=line,
                marker=dict(size=8 if not is_benchmark else 6, color=colour),
                error_y=error,
                customdata=part["hover"].to_list(),
                hovertemplate="%{customdata}<extra></extra>",
                connectgaps=False,
            )
        )
    hidden = series.filter(pl.col("suppressed").fill_null(False))
    if not hidden.is_empty():
        fig.add_trace(
            go.Scatter(
                x=fmt_periods(hidden, lang),
                y=[0] * hidden.height,
                mode="markers+text",
                text=[fmt.SUPPRESSED] * hidden.height,
                textposition="top center",
                marker=dict(symbol="line-ew-open", size=12, color="#6B7280"),
                name=t("legend_suppressed", lang),
                customdata=hidden["hover"].to_list(),
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    top = series.select(pl.max_horizontal("value", "ci_high").max()).item()
    fig.update_yaxes(
        range=[0, (top or 1) * scale * 1.15],
        ticksuffix="%" if percent else "",
        title=None if percent else fmt.DAYS[lang][1],
        gridcolor=GRID,
        rangemode="tozero",
    )
    fig.update_xaxes(type="category", showgrid=False)
    _layout(fig, title, height=420)
    fig.update_layout(separators=_separators(lang), hovermode="closest")
    return fig


def fmt_periods(frame: pl.DataFrame, lang: str) -> list[str]:
    return frame.select(fmt.period_expr(pl.col("period"), lang)).to_series().to_list()


def km_chart(curves: pl.DataFrame, lang: str, title: str | None = None) -> go.Figure:
    """Kaplan–Meier: the share still without specialist help over days, with a 95% band for
    the first area and a 50% line where the median lies."""
    fig = go.Figure()
    areas = curves.select("area_code", "area_name").unique(maintain_order=True)
    for i, (code, name) in enumerate(areas.iter_rows()):
        part = curves.filter(pl.col("area_code") == code).sort("time")
        if code == NATIONAL:
            colour, dash, width = BENCHMARK_NATIONAL, "dash", 2
        elif i == 0:
            colour, dash, width = LINE_COLOURS[0], "solid", 3
        else:
            colour, dash, width = BENCHMARK_REGION, "dot", 2
        hover = part.select(
            pl.lit(f"<b>{name}</b><br>")
            + fmt.number_expr(pl.col("time"), 0, lang)
            + pl.lit(f" {fmt.DAYS[lang][1]}: ")
            + fmt.percent_expr(pl.col("survival"), lang)
            + pl.lit(f" {t('km_yaxis', lang)}<br>{t('interval', lang)}: ")
            + fmt.interval_expr(pl.col("ci_low"), pl.col("ci_high"), "percent", lang)
            + pl.lit(f"<br>{t('cases', lang)}: ")
            + fmt.number_expr(pl.col("at_risk"), 0, lang)
        ).to_series()
        if i == 0:
            fig.add_trace(
                go.Scatter(
                    x=part["time"].to_list() + part["time"].reverse().to_list(),
                    y=(part["ci_high"] * 100).to_list()
                    + (part["ci_low"] * 100).reverse().to_list(),
                    fill="toself",
                    fillcolor="rgba(0,114,178,0.15)",
                    line=dict(width=0, shape="hv"),
                    hoverinfo="skip",
                    name=t("interval", lang),
                )
            )
        fig.add_trace(
            go.Scatter(
                x=part["time"].to_list(),
                y=(part["survival"] * 100).to_list(),
                mode="lines",
                line=dict(color=colour, width=width, dash=dash, shape="hv"),
                name=name,
                customdata=hover.to_list(),
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    fig.add_hline(
        y=50,
        line=dict(color="#6B7280", width=1, dash="dot"),
        annotation_text=t("median_line", lang),
        annotation_position="top right",
    )
    fig.update_yaxes(range=[0, 102], ticksuffix="%", title=t("km_yaxis", lang), gridcolor=GRID)
    fig.update_xaxes(title=t("km_xaxis", lang), gridcolor=GRID, rangemode="tozero")
    _layout(fig, title, height=400)
    fig.update_layout(separators=_separators(lang))
    return fig


def funnel_chart(
    points: pl.DataFrame,
    funnel: dict,
    limits: pl.DataFrame,
    lang: str,
    highlight: str | None = None,
    title: str | None = None,
    country: str | None = None,
) -> go.Figure:
    """Funnel plot of municipalities (proportion against denominator) with 95% and 99.8%
    control limits around the pooled benchmark, and random-effects limits when the mart
    found over-dispersion (with a note saying so)."""
    fig = go.Figure()
    x = limits["denominator"].to_list()
    for column, key, dash, width in (
        ("998", "funnel_998", "solid", 1.5),
        ("95", "funnel_95", "dash", 1.2),
    ):
        for side in ("lower", "upper"):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=(limits[f"{side}_{column}"] * 100).to_list(),
                    mode="lines",
                    line=dict(color="#4B5563", width=width, dash=dash),
                    name=t(key, lang),
                    legendgroup=key,
                    showlegend=side == "lower",
                    hoverinfo="skip",
                )
            )
    overdispersed = bool(funnel.get("overdispersed")) and "re_lower_998" in limits.columns
    if overdispersed and limits["re_lower_998"].is_not_null().any():
        for side in ("lower", "upper"):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=(limits[f"re_{side}_998"] * 100).to_list(),
                    mode="lines",
                    line=dict(color="#CC79A7", width=2, dash="dot"),
                    name=t("funnel_re", lang),
                    legendgroup="re",
                    showlegend=side == "lower",
                    hoverinfo="skip",
                )
            )
    benchmark = funnel.get("benchmark")
    if benchmark is not None:
        fig.add_hline(
            y=benchmark * 100,
            line=dict(color=BENCHMARK_NATIONAL, width=2),
            annotation_text=f"{country or t('netherlands', lang)} {fmt.percent(benchmark, lang)}",
            annotation_position="top right",
        )
    shown = points.filter(pl.col("suppressed").not_() & pl.col("value").is_not_null())
    for status in ["better", "similar", "worse", "not_compared"]:
        part = shown.filter(pl.col("status") == status)
        if part.is_empty():
            continue
        fig.add_trace(
            go.Scatter(
                x=part["denominator"].to_list(),
                y=(part["value"] * 100).to_list(),
                mode="markers",
                marker=dict(
                    symbol=MARKERS[status],
                    size=11,
                    color=COLOURS[status],
                    line=dict(color=INK, width=1),
                ),
                name=t(LEGEND_KEYS[status], lang),
                customdata=part["hover"].to_list(),
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    if highlight is not None:
        own = shown.filter(pl.col("area_code") == highlight)
        if not own.is_empty():
            fig.add_trace(
                go.Scatter(
                    x=own["denominator"].to_list(),
                    y=(own["value"] * 100).to_list(),
                    mode="markers+text",
                    text=own["area_name"].to_list(),
                    textposition="top center",
                    textfont=dict(size=13, color=INK),
                    marker=dict(size=20, color="rgba(0,0,0,0)", line=dict(color=INK, width=2.5)),
                    showlegend=False,
                    customdata=own["hover"].to_list(),
                    hovertemplate="%{customdata}<extra></extra>",
                )
            )
    if overdispersed:
        phi = fmt.number(funnel.get("phi"), 1, lang)
        fig.add_annotation(
            text=t("funnel_overdispersed", lang, phi=phi),
            xref="paper",
            yref="paper",
            x=0,
            y=-0.45,
            showarrow=False,
            align="left",
            xanchor="left",
            yanchor="top",
            font=dict(size=12, color="#7A1F5C"),
        )
    fig.update_xaxes(type="log", title=t("funnel_x", lang), gridcolor=GRID)
    fig.update_yaxes(ticksuffix="%", gridcolor=GRID)
    _layout(fig, title, height=560 if overdispersed else 480)
    fig.update_layout(separators=_separators(lang), legend=dict(y=-0.22))
    if overdispersed:
        fig.update_layout(margin=dict(b=150))
    return fig


def ranked_bar(
    points: pl.DataFrame,
    value_format: str,
    lang: str,
    benchmark: float | None = None,
    highlight: str | None = None,
    title: str | None = None,
    country: str | None = None,
) -> go.Figure:
    """Municipalities ranked by value, each bar coloured by its comparison, with its 95%
    interval as an error bar; suppressed ones listed at the bottom as `–`."""
    percent = value_format != "days"
    scale = 100.0 if percent else 1.0
    shown = points.filter(pl.col("suppressed").not_() & pl.col("value").is_not_null()).sort(
        "value", descending=True
    )
    hidden = points.filter(pl.col("suppressed") | pl.col("value").is_null()).sort("area_name")
    ordered = pl.concat([shown, hidden], how="diagonal_relaxed")
    # the value and symbol sit in the label, clear of the bars and their intervals
    names = [
        (f"<b>{name}</b>" if code == highlight else name)
        + (
            f"  {shown_text} {SYMBOLS.get(status, '')}".rstrip()
            if status not in ("suppressed", "no_data")
            else f"  {SYMBOLS[status]}"
        )
        for code, name, shown_text, status in ordered.select(
            "area_code", "area_name", "shown", "status"
        ).iter_rows()
    ]
    fig = go.Figure(
        go.Bar(
            y=names,
            x=(ordered["value"].fill_null(0) * scale).to_list(),
            orientation="h",
            marker=dict(
                color=[COLOURS[s] for s in ordered["status"].to_list()],
                line=dict(
                    color=[INK if c == highlight else "#6B7280" for c in ordered["area_code"]],
                    width=[2.5 if c == highlight else 0.8 for c in ordered["area_code"]],
                ),
            ),
            error_x=dict(
                type="data",
                symmetric=False,
                array=((ordered["ci_high"] - ordered["value"]) * scale).to_list(),
                arrayminus=((ordered["value"] - ordered["ci_low"]) * scale).to_list(),
                color="#374151",
                thickness=1.2,
                width=3,
            ),
            customdata=ordered["hover"].to_list(),
            hovertemplate="%{customdata}<extra></extra>",
            showlegend=False,
        )
    )
    if benchmark is not None:
        fig.add_vline(
            x=benchmark * scale,
            line=dict(color=BENCHMARK_NATIONAL, width=2, dash="dash"),
            annotation_text=country or t("netherlands", lang),
            annotation_position="top",
        )
    _legend_entries(fig, ["better", "similar", "worse"], lang)
    top = ordered.select(pl.max_horizontal("value", "ci_high").max()).item() or 1
    fig.update_xaxes(
        range=[0, top * scale * 1.25],
        ticksuffix="%" if percent else "",
        gridcolor=GRID,
    )
    fig.update_yaxes(autorange="reversed")
    _layout(fig, title, height=140 + 26 * ordered.height)
    fig.update_layout(separators=_separators(lang))
    return fig


def approach_timeline(
    profile: pl.DataFrame, labels: dict[str, str], today, lang: str, title: str | None = None
) -> go.Figure:
    """One row per element, a bar per period from `in_place_from` to `in_place_until` (or
    today while in place); an element without a period still gets its (empty) row."""
    fig = go.Figure()
    for element, label in labels.items():
        part = profile.filter(pl.col("element") == element)
        for start, until in part.select("in_place_from", "in_place_until").iter_rows():
            end = until or today
            still = until is None
            hover = f"{label}<br>{fmt.day(start, lang)} – " + (
                t("approach_in_place", lang) if still else fmt.day(until, lang)
            )
            fig.add_trace(
                go.Scatter(
                    x=[start, end],
                    y=[label, label],
                    mode="lines+markers",
                    line=dict(color=LINE_COLOURS[0], width=14),
                    marker=dict(
                        symbol=["line-ns", "triangle-right" if still else "line-ns"],
                        size=16,
                        color=INK,
                    ),
                    hovertemplate=hover + "<extra></extra>",
                    showlegend=False,
                )
            )
    # Keep every element on the axis, in the contract's order, even those never in place.
    fig.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=list(reversed(labels.values())),
        range=[-0.5, len(labels) - 0.5],
    )
    fig.update_xaxes(type="date", gridcolor=GRID)
    _layout(fig, title, height=80 + 42 * len(labels))
    return fig


def approach_differences(rows: pl.DataFrame, lang: str, title: str | None = None) -> go.Figure:
    """Difference (with − without, percentage points) with its 95% interval per period, one
    marker series per area; `rows` needs `area_name, period_label, difference,
    difference_low, difference_high, hover`. A line at zero: no difference."""
    fig = go.Figure()
    symbols = ["circle", "diamond", "square"]
    for i, (name,) in enumerate(rows.select("area_name").unique(maintain_order=True).iter_rows()):
        part = rows.filter(pl.col("area_name") == name)
        fig.add_trace(
            go.Scatter(
                x=(part["difference"] * 100).to_list(),
                y=part["period_label"].to_list(),
                mode="markers",
                name=name,
                marker=dict(symbol=symbols[i % 3], size=10, color=LINE_COLOURS[i]),
                error_x=dict(
                    type="data",
                    symmetric=False,
                    array=((part["difference_high"] - part["difference"]) * 100).to_list(),
                    arrayminus=((part["difference"] - part["difference_low"]) * 100).to_list(),
                    color=LINE_COLOURS[i],
                    thickness=1.5,
                ),
                customdata=part["hover"].to_list(),
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    fig.add_vline(x=0, line=dict(color=INK, width=1))
    fig.update_xaxes(ticksuffix=" " + t("approach_points", lang), gridcolor=GRID, zeroline=False)
    fig.update_yaxes(type="category", autorange="reversed")
    _layout(fig, title, height=120 + 34 * max(rows.select("period_label").n_unique(), 1))
    fig.update_layout(separators=_separators(lang), scattermode="group")
    return fig


def approach_groups(rows: pl.DataFrame, lang: str, title: str | None = None) -> go.Figure:
    """Two groups per row (e.g. before and after), each a percentage with its 95% interval;
    `rows` needs `label, group, value, ci_low, ci_high, hover`, groups in drawing order."""
    fig = go.Figure()
    for i, (group,) in enumerate(rows.select("group").unique(maintain_order=True).iter_rows()):
        part = rows.filter(pl.col("group") == group)
        fig.add_trace(
            go.Scatter(
                x=(part["value"] * 100).to_list(),
                y=part["label"].to_list(),
                mode="markers",
                name=group,
                marker=dict(
                    symbol=["circle-open", "circle"][i % 2], size=11, color=LINE_COLOURS[i]
                ),
                error_x=dict(
                    type="data",
                    symmetric=False,
                    array=((part["ci_high"] - part["value"]) * 100).to_list(),
                    arrayminus=((part["value"] - part["ci_low"]) * 100).to_list(),
                    color=LINE_COLOURS[i],
                    thickness=1.5,
                ),
                customdata=part["hover"].to_list(),
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    fig.update_xaxes(ticksuffix="%", gridcolor=GRID, rangemode="tozero")
    fig.update_yaxes(type="category", autorange="reversed")
    _layout(fig, title, height=120 + 40 * max(rows.select("label").n_unique(), 1))
    fig.update_layout(separators=_separators(lang), scattermode="group")
    return fig
