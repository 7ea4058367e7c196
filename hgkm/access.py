"""Who may see what: the roles, the scope a signed-in person gets, and hgkm.toml's [roles].

The CLI (`hgkm users`, `hgkm audit`) and the dashboard both read this module; the dashboard's
data layer turns a `Scope` into the bound parameters of its queries (`Scope.reach`).

    [roles]
    public = true           # with sign-in configured, the published figures stay open to all
    claim = "groups"        # the ID-token claim [roles.groups] is matched against

    [roles.users]           # an e-mail address (any case) or an OpenID Connect subject
    "a.jansen@zwolle.nl" = { role = "municipality", municipalities = ["GM0193"] }
    "k.devries@ijsselland.nl" = { role = "analyst", regions = ["VT11"] }

    [roles.groups]          # a value of the claim
    "hgkm-beheer" = { role = "admin" }

An entry for the person (subject first, then e-mail) wins over groups; of several matching
groups the highest role wins and the scopes of its groups are joined. Anyone else, signed in
or not, is `public`: never more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from hgkm import reference
from hgkm.config import ConfigError, read_section

SECTION = "roles"
NOTHING, SCOPE, ALL = "nothing", "scope", "all"
REGION_TYPE = reference.DEFAULT_REGION_TYPE  # analysts are scoped to Veilig Thuis regions


@dataclass(frozen=True)
class Role:
    """What one role may see. Coverage is NOTHING, SCOPE (the municipalities of the person's
    scope) or ALL (every municipality)."""

    name: str
    grants: str | None  # the scope its [roles] entries name: "municipalities", "regions", None
    reasons: str  # why deliveries were rejected or warned: status, counts, rule summaries
    reports: str  # the full delivery reports: every finding with file, row, column
    notes: str  # the notes of the approach profiles
    audit: str  # the lines of the audit log
    run_status: bool  # the page of the scheduled job's runs
    deliver: str  # upload deliveries and edit approach profiles (the browser intake)
    publish: bool  # review a staged mart and approve or reject it
    sees: str  # in words, for `hgkm users` and docs/dashboard.md


ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role(
            "public", None, NOTHING, NOTHING, NOTHING, NOTHING, False, NOTHING, False,
            "published figures, the catalogue, approach profiles without notes, "
            "delivery freshness (delivered or not, dates) without reasons",
        ),
        Role(
            "municipality", "municipalities", SCOPE, SCOPE, SCOPE, NOTHING, False, SCOPE, False,
            "what the public sees, plus its municipalities' full delivery reports "
            "(rejections, warnings, every finding) and their approach-profile notes; "
            "uploads their deliveries and edits their approach profiles",
        ),
        Role(
            "analyst", "regions", SCOPE, SCOPE, SCOPE, SCOPE, True, SCOPE, True,
            "what the public sees, plus everything of its regions' municipalities: delivery "
            "reports, profile notes, the run status page and the audit log of its regions; "
            "uploads and edits for them, and reviews and approves a staged mart",
        ),
        Role(
            "admin", None, ALL, ALL, ALL, ALL, True, ALL, True,
            "everything, for every municipality",
        ),
    )
}  # fmt: skip
# Without sign-in configured (no [auth] in secrets.toml) the dashboard stays what it was before
# roles existed: open to whoever reaches it, with the delivery reasons it always showed, and
# nothing that came with sign-in. Not a role anyone can be given.
OPEN = Role(
    "open", None, ALL, NOTHING, NOTHING, NOTHING, False, NOTHING, False,
    "without sign-in configured: published figures and every municipality's delivery status "
    "with its rule summaries, as before roles existed",
)  # fmt: skip
RANK = {name: rank for rank, name in enumerate(ROLES)}


class Reach(NamedTuple):
    """Which municipalities a kind of restricted data may be shown for: all, or these codes."""

    all: bool
    codes: tuple[str, ...]

    def covers(self, municipality_code: str | None) -> bool:
        return self.all or municipality_code in self.codes

    def params(self) -> dict[str, Any]:
        """The bound parameters `$all` and `$codes` of a data-layer query."""
        return {"all": self.all, "codes": list(self.codes)}


@dataclass(frozen=True)
class Scope:
    """A role and the municipalities or regions it is given: the key of every restricted query
    (and of its cache entry). Holds no identity, so people with the same scope share answers."""

    role: str = "public"
    municipalities: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # Veilig Thuis region codes, e.g. VT11

    @property
    def spec(self) -> Role:
        return OPEN if self.role == OPEN.name else ROLES[self.role]

    def covered(self) -> tuple[str, ...]:
        """The municipality codes of the scope (for an analyst: its regions' members)."""
        if self.spec.grants == "regions":
            members = region_members()
            return tuple(sorted({c for region in self.regions for c in members[region]}))
        return self.municipalities

    def reach(self, kind: str) -> Reach:
        """Where `kind` (reasons, reports, notes, audit) may be shown, or (deliver) for which
        municipalities deliveries may be uploaded and profiles edited."""
        coverage = getattr(self.spec, kind)
        if coverage == ALL:
            return Reach(True, ())
        return Reach(False, self.covered() if coverage == SCOPE else ())


PUBLIC = Scope()
OPEN_SCOPE = Scope(OPEN.name)


@dataclass(frozen=True)
class Grant:
    """What a [roles] entry (or no entry) gives a person, and which entry it was."""

    role: str
    municipalities: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    source: str = "no entry: public"

    @property
    def scope(self) -> Scope:
        return Scope(self.role, self.municipalities, self.regions)


@dataclass(frozen=True)
class RolesConfig:
    """The parsed [roles] section."""

    public: bool = True
    claim: str = "groups"
    users: Mapping[str, Grant] = field(default_factory=dict)  # subject or lower-case e-mail
    groups: Mapping[str, Grant] = field(default_factory=dict)

    def resolve(self, claims: Mapping[str, Any]) -> Grant:
        """The grant of a signed-in person, from the claims of their ID token."""
        for key in identifiers(claims):
            if key in self.users:
                return self.users[key]
        matched = [self.groups[g] for g in claim_values(claims.get(self.claim)) if g in self.groups]
        if not matched:
            return Grant("public")
        top = max((g.role for g in matched), key=RANK.__getitem__)
        chosen = [g for g in matched if g.role == top]
        return Grant(
            top,
            tuple(sorted({c for g in chosen for c in g.municipalities})),
            tuple(sorted({r for g in chosen for r in g.regions})),
            " + ".join(g.source for g in chosen),
        )


def identifiers(claims: Mapping[str, Any]) -> list[str]:
    """The keys a person is looked up by in [roles.users]: the subject as it is, then the
    e-mail address and the preferred user name (Entra ID's UPN) in lower case. An address the
    provider marks as unverified is not used: whoever typed it in need not own it."""
    keys = [str(claims["sub"])] if claims.get("sub") else []
    names = ["preferred_username"]
    if claims.get("email_verified") is not False:
        names.insert(0, "email")
    for name in names:
        value = claims.get(name)
        if isinstance(value, str) and "@" in value:
            keys.append(value.strip().lower())
    return keys


def claim_values(value: Any) -> list[str]:
    """A claim as a list of strings (providers send one group as a string, several as a list)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return []


@cache
def region_members() -> dict[str, tuple[str, ...]]:
    """Veilig Thuis region code -> its municipality codes (reference data 2025)."""
    column = reference.REGION_TYPES[REGION_TYPE][0]
    frame = reference.municipalities().group_by(column).agg("municipality_code")
    return {
        region: tuple(sorted(codes)) for region, codes in frame.iter_rows() if region is not None
    }


def _codes(value: Any, where: str, kind: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        example = '["GM0193"]' if kind == "municipalities" else '["VT11"]'
        raise ConfigError(f"{where}: {kind} must be a non-empty list of codes, e.g. {example}")
    if kind == "municipalities":
        codes = [v.strip().upper() for v in value]
        unknown = [c for c in codes if c not in reference.municipality_codes()]
        hint = "a municipality code of 2025, e.g. GM0193"
    else:
        codes = [v.strip().removeprefix(f"{REGION_TYPE}:").upper() for v in value]
        unknown = [c for c in codes if c not in region_members()]
        hint = "a Veilig Thuis region code of 2025, e.g. VT11"
    if unknown:
        raise ConfigError(f"{where}: unknown {kind} {', '.join(unknown)} (expected {hint})")
    return tuple(sorted(set(codes)))


def _grant(value: Any, where: str) -> Grant:
    if not isinstance(value, dict):
        raise ConfigError(f'{where}: expected {{ role = "..." }}, not {value!r}')
    role = value.get("role")
    if role not in ROLES:
        raise ConfigError(f"{where}: role = {role!r} is not one of {', '.join(ROLES)}")
    needs = ROLES[role].grants
    allowed = {"role", *([needs] if needs else [])}
    extra = sorted(set(value) - allowed)
    if extra:
        takes = f"takes only {needs}" if needs else "takes no scope"
        raise ConfigError(f"{where}: role {role!r} {takes}; remove {', '.join(extra)}")
    if needs and needs not in value:
        raise ConfigError(f"{where}: role {role!r} needs {needs} = [...]")
    codes = _codes(value[needs], where, needs) if needs else ()
    return Grant(
        role,
        municipalities=codes if needs == "municipalities" else (),
        regions=codes if needs == "regions" else (),
        source=where.split(": ", 1)[-1],
    )


def parse_roles(raw: Mapping[str, Any], source: str = "hgkm.toml") -> RolesConfig:
    """[roles] as written in the file -> RolesConfig; anything unusable is a ConfigError that
    names the file, the entry and what to write instead."""
    known = {"public", "claim", "users", "groups"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(
            f"{source}: [roles] has unknown key(s) {', '.join(unknown)}; known: "
            + ", ".join(sorted(known))
        )
    public = raw.get("public", True)
    if not isinstance(public, bool):
        raise ConfigError(f"{source}: [roles] public = {public!r} must be true or false")
    claim = raw.get("claim", "groups")
    if not isinstance(claim, str) or not claim:
        raise ConfigError(f"{source}: [roles] claim = {claim!r} must be a claim's name")
    users: dict[str, Grant] = {}
    for key, value in _table(raw, "users", source).items():
        # E-mail addresses are compared without case; subjects exactly, as issued.
        name = key.strip().lower() if "@" in key else key
        if name in users:
            raise ConfigError(f'{source}: [roles.users] names "{key}" twice (case is ignored)')
        users[name] = _grant(value, f'{source}: [roles.users] "{key}"')
    groups = {
        key: _grant(value, f'{source}: [roles.groups] "{key}"')
        for key, value in _table(raw, "groups", source).items()
    }
    return RolesConfig(public=public, claim=claim, users=users, groups=groups)


def _table(raw: Mapping[str, Any], name: str, source: str) -> dict[str, Any]:
    table = raw.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [roles] {name} must be a table ([roles.{name}])")
    return table


def load_roles(
    *, environ: Mapping[str, str] | None = None, file: Path | None = None
) -> RolesConfig:
    """The [roles] of hgkm.toml ($HGKM_CONFIG); the defaults when there is none."""
    raw, path = read_section(SECTION, environ=environ, file=file)
    return parse_roles(raw, str(path))


@cache
def area_names() -> dict[str, str]:
    """Municipality codes (GM…) and Veilig Thuis region codes (VT…) -> their 2025 names."""
    municipalities = reference.municipalities().select("municipality_code", "municipality_name")
    regions = reference.regions().filter(region_type=REGION_TYPE)
    return dict(
        [*municipalities.iter_rows(), *regions.select("region_code", "region_name").iter_rows()]
    )


def describe(grant: Grant) -> str:
    """A grant in words: role and scope with codes and names."""
    names = area_names()
    scope = ", ".join(
        f"{c} {names.get(c, '')}".strip() for c in grant.municipalities + grant.regions
    )
    return grant.role + (f" of {scope}" if scope else "")
