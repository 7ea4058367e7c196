"""Every query over the warehouse's bookkeeping: what was delivered, when, and how it fared.

The `deliveries` table (one row per delivery received, accepted or rejected, never deleted)
is declared here, and whatever reads it asks this module: the ingest's ledger, `hgkm
deliveries`, the job's look-up of a rejection recorded before, `hgkm status`, and the mart's
delivery log and findings. Its rows are written by the load alone, inside the transaction
that loads their cases (`pipelines.load`). The approach profiles' imports are kept, written
and read by their own module (`pipelines.approach`).
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl

SCHEMA = """
create sequence if not exists delivery_id_seq start 1;

create table if not exists deliveries (
    delivery_id      integer primary key default nextval('delivery_id_seq'),
    content_hash     varchar not null,          -- sha256 of the delivery's files' bytes
    municipality_code varchar,                  -- null when the manifest was unreadable
    extract_date     date,
    source_system    varchar,
    source_name      varchar not null,          -- file or folder name as received
    shape            varchar not null,          -- folder | zip | xlsx
    received_at      timestamp not null,
    status           varchar not null,          -- accepted | rejected
    rows_loaded      json,                      -- {"cases": n, ...}
    rows_dropped     json,                      -- {"help": {"rule": n}} with --drop-invalid-rows
    warnings         json,                      -- [{rule, file, count, message}]
    errors           json,                      -- capped {file,row,column,rule,message}; no values
    error_count      integer not null default 0,
    formats          json                       -- per file: encoding, delimiter, date format found
);
-- Added after v1 of this schema: complete per-rule totals ({"rule": n}); `errors` is capped.
alter table deliveries add column if not exists error_counts json;
"""

# The current delivery of a municipality: its accepted delivery with the latest extract date;
# for the same extract date, the one received last (a correction).
CURRENT_DELIVERIES = """
create or replace view current_deliveries as
select * from deliveries
where status = 'accepted'
qualify row_number() over (
    partition by municipality_code
    order by extract_date desc, received_at desc, delivery_id desc
) = 1;
"""


def received_by(con: duckdb.DuckDBPyConnection, database: str, as_of: date | None) -> None:
    """On `con`, the view `deliveries` over the attached warehouse `database`'s deliveries
    received on or before `as_of` (all when None), so a publication can be reproduced."""
    received = "" if as_of is None else f"where received_at < date '{as_of.isoformat()}' + 1"
    con.execute(f"create view deliveries as select * from {database}.deliveries {received}")


def has_deliveries(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse has its bookkeeping yet (a warehouse is made on first use)."""
    return bool(
        con.sql(
            "select count(*) from information_schema.tables where table_name = 'deliveries'"
        ).fetchall()[0][0]
    )


def delivery_log(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every delivery received, oldest first, with whether it is its municipality's current one."""
    return con.sql(
        """
        select d.delivery_id, d.municipality_code, d.extract_date, d.received_at, d.status,
               c.delivery_id is not null as current, d.content_hash, d.source_name, d.shape,
               d.rows_loaded, d.rows_dropped, d.warnings, d.error_count, d.error_counts, d.errors,
               d.formats
        from deliveries d left join current_deliveries c using (delivery_id)
        order by d.received_at, d.delivery_id
        """
    ).pl()


def accepted_content(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Each content hash ever accepted, with the first delivery that loaded it."""
    accepted = con.sql(
        "select content_hash, min(delivery_id) from deliveries"
        " where status = 'accepted' group by content_hash"
    ).fetchall()
    return {h: int(i) for h, i in accepted}


def current_deliveries(
    con: duckdb.DuckDBPyConnection,
) -> list[tuple[str, date, datetime, int, int]]:
    """Each municipality's current delivery: (code, extract date, received at, delivery id,
    cases loaded)."""
    rows = con.sql(
        """
        select municipality_code, extract_date, received_at, delivery_id,
               coalesce(try_cast(rows_loaded ->> 'cases' as bigint), 0)
        from current_deliveries
        """
    ).fetchall()
    return [(m, d, r, int(i), int(n)) for m, d, r, i, n in rows]


def current_content(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The content hashes of the current deliveries: what a mart built now is built from."""
    return {h for (h,) in con.sql("select content_hash from current_deliveries").fetchall()}


def last_accepted_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """When a delivery was last accepted (None if never)."""
    (stamp,) = con.sql(
        "select max(received_at) from deliveries where status = 'accepted'"
    ).fetchall()[0]
    return stamp


def delivered_municipalities(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The municipalities with a current delivery, in code order."""
    frame = con.sql("select distinct municipality_code from current_deliveries order by 1").pl()
    return frame["municipality_code"].to_list()


def recorded_rejections(con: duckdb.DuckDBPyConnection, source_name: str) -> pl.DataFrame:
    """The rejected deliveries recorded under this name, oldest first, their rows whole."""
    return con.sql(
        "select * from deliveries where status = 'rejected' and source_name = ?"
        " order by delivery_id",
        params=[source_name],
    ).pl()


def statuses_of(con: duckdb.DuckDBPyConnection, content_hash: str) -> set[str]:
    """How each load of this content fared (accepted, rejected; empty if never loaded)."""
    rows = con.execute(
        "select status from deliveries where content_hash = ?", [content_hash]
    ).fetchall()
    return {status for (status,) in rows}


ATTENTION_SQL = """
with latest as (
    select municipality_code, status, received_at, source_name, error_count, errors
    from deliveries
    where municipality_code is not null
    qualify row_number() over (
        partition by municipality_code order by received_at desc, delivery_id desc
    ) = 1
),
final as (
    select
        l.municipality_code,
        l.status as last_status,
        l.received_at as last_received_at,
        l.source_name as last_source_name,
        l.error_count as last_error_count,
        list_distinct(json_extract_string(l.errors, '$[*].rule')) as last_error_rules,
        c.extract_date as current_extract_date,
        date_diff('day', c.extract_date, $today) as days_since_extract
    from latest l
    left join current_deliveries c using (municipality_code)
)
select
    *,
    last_status = 'rejected' as last_rejected,
    current_extract_date is null or days_since_extract > $staleness as stale
from final
where last_status = 'rejected' or current_extract_date is null or days_since_extract > $staleness
order by municipality_code
"""

UNKNOWN_MUNICIPALITY_SQL = """
select source_name, received_at, error_count,
       list_distinct(json_extract_string(errors, '$[*].rule')) as error_rules
from deliveries
where municipality_code is null and received_at >= $since
order by received_at desc
"""


def needing_attention(con: duckdb.DuckDBPyConnection, today: date, staleness: int) -> pl.DataFrame:
    """The municipalities whose last delivery was rejected, or whose current one is older than
    `staleness` days on `today` (or who have none)."""
    return con.sql(ATTENTION_SQL, params={"today": today, "staleness": staleness}).pl()


def unknown_municipality_rejections(
    con: duckdb.DuckDBPyConnection, since: datetime
) -> pl.DataFrame:
    """Rejected deliveries that named no known municipality, received since `since`."""
    return con.sql(UNKNOWN_MUNICIPALITY_SQL, params={"since": since}).pl()


DELIVERY_LOG_SQL = """
with issues as (
    select delivery_id, 'errors' as kind, e->>'rule' as rule, 1::bigint as n
    from (select delivery_id, unnest(from_json(errors, '["json"]')) as e from deliveries)
    union all
    select delivery_id, 'warnings', e->>'rule', coalesce((e->>'count')::bigint, 1)
    from (select delivery_id, unnest(from_json(warnings, '["json"]')) as e from deliveries)
),

summaries as (
    select delivery_id, kind, string_agg(rule || ': ' || n, '; ' order by rule) as summary
    from (select delivery_id, kind, rule, sum(n) as n from issues group by all)
    group by all
),

final as (
    select
        d.municipality_code,
        d.extract_date,
        d.received_at,
        d.status,
        d.delivery_id in (select delivery_id from current_deliveries) as current,
        d.content_hash,
        coalesce((select sum(value::bigint) from json_each(d.rows_loaded)), 0)::bigint
            as rows_loaded,
        coalesce(json_array_length(d.warnings), 0)::integer as n_warnings,
        d.error_count::integer as n_errors,
        s.summary
    from deliveries as d
    left join summaries as s
        on s.delivery_id = d.delivery_id
        and s.kind = case when d.status = 'rejected' then 'errors' else 'warnings' end
)

select * from final order by received_at, municipality_code
"""


# Every finding recorded with a delivery, as the ingest report lists it: file, row, column,
# rule and what to fix (the errors are capped per rule; `n_errors` of delivery_log is the
# total). Rules, places and fixed texts only, never a value. Restricted in the dashboard to
# the municipality's own users, its analysts and administrators.
DELIVERY_ISSUES_SQL = """
with findings as (
    select delivery_id, 'error' as kind, unnest(from_json(errors, '["json"]')) as f
    from deliveries
    union all
    select delivery_id, 'warning', unnest(from_json(warnings, '["json"]'))
    from deliveries
),

final as (
    select
        d.municipality_code,
        d.received_at,
        d.content_hash,
        i.kind,
        i.f->>'file' as file,
        (i.f->>'row')::bigint as row_number,
        i.f->>'column' as column_name,
        i.f->>'rule' as rule,
        i.f->>'message' as message,
        coalesce((i.f->>'count')::bigint, 1) as count
    from findings as i
    join deliveries as d using (delivery_id)
)

select * from final
order by received_at, municipality_code, kind, file, row_number nulls first, rule
"""


def mart_delivery_log(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every delivery as the mart's delivery log shows it: no names, a summary of its rules."""
    return con.sql(DELIVERY_LOG_SQL).pl()


def delivery_findings(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every finding recorded with a delivery (the mart's delivery issues)."""
    return con.sql(DELIVERY_ISSUES_SQL).pl()
