-- coordinator_within_30d: cases with R + 30 <= E; numerator a coordinator assigned by R + 30.
with cohort as (
    select
        case_key, municipality_code, case_id, report_date, extract_date, violence_type,
        coordinator_date
    from current_cases
),

final as (
    select
        municipality_code,
        case_id as unit_id,
        report_date,
        report_date + 30 <= extract_date as in_population,
        (report_date + 30 <= extract_date)
            and coalesce(coordinator_date <= report_date + 30, false) as in_numerator,
        violence_type
    from cohort
)

select * from final
