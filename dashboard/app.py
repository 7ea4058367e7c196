"""Entry point of the Streamlit app: routes the pages and holds the shared sidebar and state."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import account, data, state
from dashboard.i18n import t

PAGES = (
    ("app_pages/regio_overzicht.py", "page_overview", ":material/grid_view:"),
    ("app_pages/gemeenteprofiel.py", "page_profile", ":material/location_city:"),
    ("app_pages/vergelijken.py", "page_compare", ":material/compare_arrows:"),
    ("app_pages/trends.py", "page_trends", ":material/show_chart:"),
    ("app_pages/aanpak.py", "page_approach", ":material/hub:"),
    ("app_pages/indicatoren.py", "page_catalogue", ":material/menu_book:"),
    ("app_pages/aanleveringen.py", "page_deliveries", ":material/inbox:"),
    ("app_pages/rapport.py", "page_report", ":material/description:"),
    ("app_pages/toegankelijkheid.py", "page_accessibility", ":material/accessibility:"),
)
# The pages that come with sign-in: there only when it is configured, listed only for the roles
# that may open them (anyone else who types the address is refused, and that is recorded).
SIGNED_IN_PAGES = (
    ("app_pages/verwerking.py", "page_status", ":material/sync:", "run_status"),
    ("app_pages/auditlog.py", "page_audit", ":material/policy:", "audit"),
    ("app_pages/aanleveren.py", "page_upload", ":material/upload_file:", "deliver"),
    ("app_pages/aanpak_bewerken.py", "page_profile_edit", ":material/edit_note:", "deliver"),
    ("app_pages/publicatie.py", "page_publication", ":material/verified:", "publish"),
)

# a local icon: a material icon as favicon would be fetched from fonts.gstatic.com
ICON = Path(__file__).resolve().parent / "assets" / "favicon.png"
st.set_page_config(page_icon=str(ICON), layout="wide")
lang = state.language()
viewer = account.viewer(lang)
pages = [
    st.Page(path, title=t(key, lang), icon=icon, default=i == 0)
    for i, (path, key, icon) in enumerate(PAGES)
]
if viewer.auth:
    pages += [
        st.Page(
            path,
            title=t(key, lang),
            icon=icon,
            visibility="visible" if viewer.may(may) else "hidden",
        )
        for path, key, icon, may in SIGNED_IN_PAGES
    ]
# expanded: a signed-in analyst has more pages than Streamlit shows collapsed, and a collapsed
# menu hides the rest behind Streamlit's own "View … more" (English, whatever the language)
navigation = st.navigation(
    pages, position="sidebar" if viewer.may_browse else "hidden", expanded=True
)
# each page its own title in the browser's tab and history
st.set_page_config(page_title=f"{navigation.title} · {t('app_title', lang)}")
state.document(lang)
st.sidebar.caption(t("app_subtitle", lang))
if not viewer.may_browse:
    account.sign_in_screen(lang)
    st.stop()
mart = data.current_version()
if mart is None:
    st.title(t("app_title", lang))
    st.info(t("no_mart", lang), icon=":material/hourglass_empty:")
    state.footer(None, lang)
    account.sidebar(viewer, lang)
    st.stop()
state.sidebar(mart, lang, viewer.scope)
account.sidebar(viewer, lang)
navigation.run()
