"""Page state kept in the URL, and the furniture every page shares (banners, downloads, source).

Each control is bound to one `st.query_params` key, so a copied link reopens the same view:
the URL wins when it names a valid option the session has not seen yet, otherwise the
control keeps its value and writes it back to the URL.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard import alternatives, data, tables
from dashboard import format as fmt
from dashboard.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from hgkm.access import Scope
from hgkm.reference import SOURCE_NOTE
from hgkm.safe_csv import csv_text

LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}
CONTEXT_KEY = "_hgkm_context"


@dataclass(frozen=True)
class Context:
    """What the sidebar chose for this run: every page reads it."""

    mart: data.MartVersion
    lang: str
    region: str
    region_name: str
    municipality: str
    municipality_name: str
    period: str
    scope: Scope  # what the viewer may see (dashboard.account): pass it to restricted queries
    country: str  # the name of `NL` here: the Netherlands, or the delivering municipalities


def _bound(param: str, options: Sequence[str], default: str) -> str:
    """Reconcile session state with the URL before the widget for `param` is drawn."""
    key, seen = f"qp_{param}", f"_url_{param}"
    wanted, last = st.query_params.get(param), st.session_state.get(seen)
    current = st.session_state.get(key)
    if wanted in options and wanted != last:
        current = wanted
    elif current not in options:
        current = last if last in options else default
    # Assigned on every run: a page's widget state does not survive a page switch by itself.
    st.session_state[key] = current
    return key


def _publish(param: str, value: str) -> None:
    st.query_params[param] = value
    st.session_state[f"_url_{param}"] = value


def select(
    param: str,
    options: Sequence[str],
    labels: dict[str, str],
    label: str,
    default: str | None = None,
    container=st.sidebar,
    help: str | None = None,
) -> str:
    """A selectbox bound to query parameter `param`."""
    options = list(options)
    key = _bound(param, options, default if default in options else options[0])
    value = container.selectbox(
        label, options, key=key, format_func=lambda o: labels.get(o, o), help=help
    )
    _publish(param, value)
    return value


def radio(
    param: str, options: Sequence[str], labels: dict[str, str], label: str, container=st
) -> str:
    options = list(options)
    key = _bound(param, options, options[0])
    value = container.radio(
        label, options, key=key, format_func=lambda o: labels.get(o, o), horizontal=True
    )
    _publish(param, value)
    return value


def multiselect(
    param: str,
    options: Sequence[str],
    labels: dict[str, str],
    label: str,
    default: list[str],
    container=st,
) -> list[str]:
    """A multiselect bound to a comma-separated query parameter."""
    key, seen = f"qp_{param}", f"_url_{param}"
    raw = st.query_params.get(param)
    wanted = [v for v in (raw or "").split(",") if v in options]
    last = st.session_state.get(seen)
    current = st.session_state.get(key)
    if raw is not None and raw != last and wanted:
        current = wanted
    elif current is None or not set(current) <= set(options):
        remembered = [v for v in (last or "").split(",") if v in options]
        current = remembered or [d for d in default if d in options]
    st.session_state[key] = current
    values = container.multiselect(label, options, key=key, format_func=lambda o: labels.get(o, o))
    _publish(param, ",".join(values))
    return values


def language() -> str:
    key = _bound("lang", LANGUAGES, DEFAULT_LANGUAGE)
    lang = st.sidebar.radio(
        "Taal / Language",
        LANGUAGES,
        key=key,
        format_func=LANGUAGE_NAMES.get,
        horizontal=True,
    )
    _publish("lang", lang)
    return lang


def sidebar(mart: data.MartVersion, lang: str, scope: Scope) -> Context:
    """Region, municipality and period: chosen once, shared by every page."""
    regions = data.regions(mart)
    region_labels = dict(regions.select("area_code", "area_name").iter_rows())
    with_data = regions.filter(pl.col("n_delivered") > 0)["area_code"]
    home_region, home = _home(mart, scope)
    region = select(
        "region",
        list(region_labels),
        region_labels,
        t("region", lang),
        home_region or (with_data[0] if len(with_data) else None),
    )
    members = data.region_members(mart, region)
    choosable = members.filter(pl.col("area_code").is_in(data.delivered(mart)))
    if choosable.is_empty():
        choosable = members
    muni_labels = dict(choosable.select("area_code", "area_name").iter_rows())
    largest = choosable.sort("population", descending=True, nulls_last=True)["area_code"][0]
    municipality = select(
        "municipality",
        list(muni_labels),
        muni_labels,
        t("municipality", lang),
        home if home in muni_labels else largest,
    )
    periods = data.periods(mart)
    period_labels = dict(
        periods.select("period", fmt.period_expr(pl.col("period"), lang).alias("label")).iter_rows()
    )
    default = periods.filter(pl.col("is_default"))["period"]
    period = select(
        "period",
        list(period_labels),
        period_labels,
        t("period", lang),
        default[0] if len(default) else None,
    )
    context = Context(
        mart=mart,
        lang=lang,
        region=region,
        region_name=region_labels[region],
        municipality=municipality,
        municipality_name=muni_labels[municipality],
        period=period,
        scope=scope,
        country=country_name(mart, lang),
    )
    st.session_state[CONTEXT_KEY] = context
    return context


def _home(mart: data.MartVersion, scope: Scope) -> tuple[str | None, str | None]:
    """The region and municipality a signed-in person opens on: their own."""
    if scope.municipalities:
        own = data.municipalities(mart).filter(pl.col("area_code") == scope.municipalities[0])
        return (own["veilig_thuis_region"][0] if own.height else None), scope.municipalities[0]
    if scope.regions:
        return f"{data.DEFAULT_REGION_TYPE}:{scope.regions[0]}", None
    return None, None


def context() -> Context:
    return st.session_state[CONTEXT_KEY]


def indicator(context: Context, container=st, proportions_only: bool = False) -> str:
    """The page's indicator, shared between pages through the `indicator` parameter."""
    catalogue = data.catalogue(context.mart)
    if proportions_only:
        catalogue = catalogue.filter(pl.col("unit") == "proportion")
    labels = dict(catalogue.select("indicator_id", f"title_{context.lang}").iter_rows())
    return select("indicator", list(labels), labels, t("indicator", context.lang), None, container)


def chart(
    figure: go.Figure,
    key: str,
    alternative: alternatives.Alternative,
    lang: str,
    min_width: int | None = None,
    table_open: bool = False,
) -> None:
    """A Plotly chart with its text alternative: the page script names the chart (role="img")
    by its title and summary, the summary follows in words, the data as a table to open (or
    shown, with `table_open`). `min_width`: narrower screens scroll the chart sideways
    instead of squeezing it."""
    if min_width:
        st.html(
            f"<style>.st-key-{key} {{ overflow-x: auto; }}"
            f" .st-key-{key} > div {{ min-width: {min_width}px; }}</style>"
        )
    st.plotly_chart(
        figure,
        key=key,
        theme=None,
        config={"displaylogo": False, "locale": "nl"},
    )
    scroll = ' data-scroll="1"' if min_width else ""
    st.html(
        f'<p class="hgkm-summary" data-chart="{key}" data-label="{html.escape(alternative.label)}"'
        f' data-title="{html.escape(alternative.title)}"{scroll}>'
        f"{html.escape(alternative.summary)}</p>"
    )
    if table_open:
        st.html(alternatives.table_html(alternative))
        return
    with st.expander(t("alt_show_table", lang, title=alternative.title)):
        st.html(alternatives.table_html(alternative))


# Streamlit's index.html says lang="en" whatever the page's language, and Plotly's SVGs have
# no accessible name: this script (run in the page, not in an iframe) sets the document's
# language and names each chart after the summary paragraph that follows it. The name goes on
# the plot's SVG (role="img"), not on the chart's box, which also holds Plotly's tool buttons.
DOCUMENT_SCRIPT = """
document.documentElement.lang = LANG;
if (!window.hgkmCharts) {
  window.hgkmCharts = true;
  const name = () => document.querySelectorAll(".hgkm-summary[data-chart]").forEach((p) => {
    const box = document.querySelector(".st-key-" + CSS.escape(p.dataset.chart));
    if (!box) return;
    box.querySelectorAll(".js-plotly-plot svg.main-svg").forEach((svg, i) => {
      if (i > 0) svg.setAttribute("aria-hidden", "true");
      else if (svg.getAttribute("aria-label") !== p.dataset.label) {
        svg.setAttribute("role", "img");
        svg.setAttribute("aria-label", p.dataset.label);
      }
    });
    if (p.dataset.scroll && !box.hasAttribute("tabindex")) {
      box.tabIndex = 0;
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", p.dataset.title);
    }
  });
  new MutationObserver(name).observe(document.body, { childList: true, subtree: true });
  name();
}
"""
DOCUMENT_STYLE = """
[data-testid="stSidebarNav"] a:focus-visible, a:focus-visible {
  outline: 3px solid #0072B2; outline-offset: 2px; border-radius: 4px; }
"""


def document(lang: str) -> None:
    """The document's language, visible focus on links, the tables' style, the charts' names."""
    st.html(f"<style>{DOCUMENT_STYLE}{alternatives.TABLE_STYLE}</style>")
    script = DOCUMENT_SCRIPT.replace("LANG", json.dumps(lang), 1)
    st.sidebar.html(f"<script>{script}</script>", unsafe_allow_javascript=True)


def csv_download(frame: pl.DataFrame, name: str, context: Context, key: str, what: str) -> None:
    """The chart's data as CSV: the mart's own columns, without hover markup. `what` names the
    chart or table in the button (`de trendgrafiek`), so each button says what it downloads."""
    columns = [c for c in frame.columns if c not in {"hover", "sort_key"}]
    st.download_button(
        t("download_csv_of", context.lang, what=what),
        csv_text(frame.select(columns)),
        file_name=f"hgkm_{name}_{context.period}.csv",
        mime="text/csv",
        key=key,
        icon=":material/download:",
    )


def banners(context: Context, codes: list[str]) -> None:
    """A warning for each municipality among `codes` that is stale, rejected or missing, and
    a note where the national benchmark counted one of them from another delivery."""
    benchmark_differences(context, codes)
    status = data.delivery_status(context.mart, context.scope)
    lang = context.lang
    for row in tables.attention(status, codes).iter_rows(named=True):
        name = row["municipality_name"]
        if not row["delivered"]:
            st.warning(t("banner_missing", lang, name=name), icon=":material/block:")
            continue
        if row["stale"]:
            st.warning(
                t(
                    "banner_stale",
                    lang,
                    name=name,
                    date=fmt.day(row["current_extract_date"], lang),
                    days=row["days_since_extract"],
                ),
                icon=":material/schedule:",
            )
        if row["last_status"] == "rejected":
            received = row["last_received_at"]
            st.error(
                t(
                    "banner_rejected",
                    lang,
                    name=name,
                    date=fmt.day(received.date() if received else None, lang),
                ),
                icon=":material/report:",
            )


def footer(context: Context | None, lang: str) -> None:
    """The source and method line every page carries, and what its comparison row is."""
    published = ""
    if context is not None:
        stamp = data.publication(context.mart).get("published_at")
        published = fmt.day(stamp.date(), lang) if stamp else ""
    st.divider()
    st.caption(f"{SOURCE_NOTE}. {t('method_line', lang, published=published)}")
    if context is not None:
        st.caption(tables.benchmark_line(data.benchmark(context.mart), lang))


def country_name(mart: data.MartVersion, lang: str) -> str:
    return tables.country_name(data.benchmark(mart), data.national_coverage(mart), lang)


def benchmark_differences(context: Context, codes: list[str]) -> None:
    """A note when the benchmark counted some of `codes` from another delivery than this
    dashboard (typically an older one: the region's newer deliveries reached the hub later)."""
    found = data.benchmark(context.mart)
    if not found:
        return
    lang = context.lang
    differ = data.benchmark_deliveries(context.mart)
    differ = differ.filter(pl.col("municipality_code").is_in(codes)) if differ.height else differ
    if differ.is_empty():
        return
    items = [
        t(
            "benchmark_differs_item",
            lang,
            name=row["municipality_name"] or row["municipality_code"],
            theirs=fmt.day(row["benchmark_extract_date"], lang)
            if row["benchmark_extract_date"]
            else t("benchmark_absent", lang),
            ours=fmt.day(row["extract_date"], lang),
        )
        for row in differ.iter_rows(named=True)
    ]
    st.info(
        t(
            "benchmark_differs",
            lang,
            date=fmt.day(found["published_at"].date(), lang),
            items=", ".join(items),
        ),
        icon=":material/difference:",
    )
