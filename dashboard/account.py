"""Who is asking: sign-in through st.login / st.user, the scope it gives, the sidebar's account
block, polite refusals, and the audit lines the app writes (hgkm.audit).

Without an [auth] block in secrets.toml none of this shows: every visitor gets the open view
(hgkm.access.OPEN), the app as it was before sign-in existed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard.i18n import t
from hgkm import access, audit
from hgkm.config import ConfigError, config_file_path
from hgkm.settings import resolve_paths

VIEWER_KEY = "_hgkm_viewer"
_log = logging.getLogger("hgkm.dashboard")


@dataclass(frozen=True)
class Viewer:
    """The person behind this session and what they may see."""

    scope: access.Scope
    auth: bool = False  # sign-in is configured
    signed_in: bool = False
    user: str = ""  # e-mail address (or subject), as the audit log names them
    name: str = ""
    public_open: bool = True  # the published part is open without sign-in
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def may_browse(self) -> bool:
        return self.signed_in or self.public_open

    def may(self, capability: str) -> bool:
        """`run_status`, or a kind of data (reasons, reports, notes, audit) anywhere."""
        value = getattr(self.scope.spec, capability)
        return value is True or value in (access.SCOPE, access.ALL)

    def outside(self, kind: str, municipality: str) -> bool:
        """Whether a request for `kind` of `municipality` falls outside this viewer's scope:
        their role reaches that kind for a scope, and the municipality is not in it. (The
        public has no scope to fall outside of: it simply sees the public part.)"""
        return getattr(self.scope.spec, kind) == access.SCOPE and not self.scope.reach(kind).covers(
            municipality
        )


def sign_in_configured() -> bool:
    """Whether secrets.toml has an [auth] block (st.secrets is AppTest's when it sets one)."""
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


def viewer(lang: str) -> Viewer:
    """This run's viewer, kept in the session for the pages; stops the run with a notice when
    the [roles] configuration cannot be read (nobody gets more than they should meanwhile)."""
    if not sign_in_configured():
        found = Viewer(access.OPEN_SCOPE)
    else:
        try:
            roles = _roles()
        except ConfigError as exc:
            _log.error("sign-in is misconfigured: %s", exc)
            st.error(t("roles_broken", lang), icon=":material/lock:")
            st.stop()
        user = st.user.to_dict()
        if not user.get("is_logged_in"):
            found = Viewer(access.PUBLIC, auth=True, public_open=roles.public)
        else:
            grant = roles.resolve(user)
            who = user.get("email") or user.get("preferred_username") or user.get("sub") or "?"
            found = Viewer(
                grant.scope,
                auth=True,
                signed_in=True,
                user=str(who),
                name=str(user.get("name") or who),
                public_open=roles.public,
                claims=user,
            )
            _note_sign_in(found, grant)
    st.session_state[VIEWER_KEY] = found
    return found


def current() -> Viewer:
    return st.session_state[VIEWER_KEY]


def _roles() -> access.RolesConfig:
    """[roles] of hgkm.toml, read again when the file changes (no restart to add a person)."""
    path = config_file_path()
    try:
        stat = path.stat()
        identity = (str(path), stat.st_mtime_ns, stat.st_size)
    except FileNotFoundError:
        identity = (str(path), 0, 0)
    return _parsed_roles(identity)


@st.cache_resource(show_spinner=False, max_entries=4)
def _parsed_roles(identity: tuple[str, int, int]) -> access.RolesConfig:
    return access.load_roles(file=Path(identity[0]))


# ---- the audit lines the app writes


def record(viewer: Viewer, action: str, what: dict[str, Any], concerns: Iterable[str] = ()):
    """One audit line for this viewer; a failed write goes to the server log, never the page."""
    try:
        audit.record(
            resolve_paths().audit_log,
            user=viewer.user or "anonymous",
            role=viewer.scope.role,
            action=action,
            what=what,
            concerns=[*viewer.scope.covered(), *concerns],
        )
    except OSError as exc:
        _log.error("could not write the audit log: %s", exc)


class _SignIns:
    """The sign-ins already recorded (user, token issue time), so a new tab or a page reload
    with the same login cookie is not recorded again; seeded from the log after a restart."""

    def __init__(self, path: Path) -> None:
        self.lock = threading.Lock()
        self.seen = {
            (e["user"], (e.get("what") or {}).get("issued_at"))
            for e in audit.read(path).events
            if e["action"] == "signin"
        }


@st.cache_resource(show_spinner=False)
def _sign_ins(path: str) -> _SignIns:
    return _SignIns(Path(path))


def _note_sign_in(viewer: Viewer, grant: access.Grant) -> None:
    key = (viewer.user, viewer.claims.get("iat"))
    if st.session_state.get("_hgkm_sign_in") == key:
        return
    path = resolve_paths().audit_log
    registry = _sign_ins(str(path))
    with registry.lock:
        if key not in registry.seen:
            registry.seen.add(key)
            record(viewer, "signin", {"issued_at": key[1], "entry": grant.source})
    st.session_state["_hgkm_sign_in"] = key


# ---- what the visitor sees


def scope_words(scope: access.Scope, lang: str) -> str:
    """The role and its municipalities or regions, by name."""
    names = access.area_names()
    codes = scope.municipalities + scope.regions
    role = t(f"role_{scope.role}", lang)
    return f"{role}: " + ", ".join(names.get(c, c) for c in codes) if codes else role


def regions_note(scope: access.Scope, key: str, lang: str) -> str:
    """Message `key` naming an analyst's regions, for a page's introduction; else empty."""
    return t(key, lang, regions=scope_words(scope, lang)) if scope.regions else ""


def sidebar(viewer: Viewer, lang: str) -> None:
    """The account block: name, role and sign out; or sign in. Nothing without sign-in set up."""
    if not viewer.auth:
        return
    st.sidebar.divider()
    if viewer.signed_in:
        st.sidebar.markdown(
            f"**{t('account', lang)}**  \n{viewer.name}  \n{scope_words(viewer.scope, lang)}"
        )
        if st.sidebar.button(t("sign_out", lang), key="sign_out", icon=":material/logout:"):
            record(viewer, "signout", {})
            st.logout()
    else:
        st.sidebar.caption(t("sign_in_hint", lang))
        if st.sidebar.button(t("sign_in", lang), key="sign_in", icon=":material/login:"):
            st.login()


def sign_in_screen(lang: str) -> None:
    """The whole page when the published part is closed and nobody is signed in."""
    st.title(t("app_title", lang))
    st.info(t("sign_in_required", lang), icon=":material/lock:")
    if st.button(t("sign_in", lang), key="sign_in_main", icon=":material/login:"):
        st.login()


def refuse(lang: str, page: str, municipality: str | None = None) -> None:
    """A polite refusal instead of the data, recorded once per session and request."""
    viewer = current()
    if municipality:
        name = access.area_names().get(municipality, municipality)
        st.warning(
            t("refused_municipality", lang, name=name, scope=scope_words(viewer.scope, lang)),
            icon=":material/lock:",
        )
    else:
        st.warning(
            t("refused_page", lang, scope=scope_words(viewer.scope, lang)), icon=":material/lock:"
        )
    if viewer.auth and not viewer.signed_in:
        st.caption(t("sign_in_hint", lang))
    refused = st.session_state.setdefault("_hgkm_refused", set())
    if (page, municipality) not in refused:
        refused.add((page, municipality))
        what = {"page": page, **({"municipality": municipality} if municipality else {})}
        record(viewer, "refused", what, [municipality] if municipality else [])


def require(capability: str, lang: str, page: str) -> Viewer:
    """The viewer, when they may open this page; otherwise a refusal and the run stops."""
    viewer = current()
    if not viewer.may(capability):
        st.title(t(f"page_{page}", lang))
        refuse(lang, page)
        st.stop()
    return viewer
