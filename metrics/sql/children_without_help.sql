-- children_without_help: children of cases with R + 182 <= E; numerator no offer to the child or its family.
with cohort as (
    select case_key, municipality_code, case_id, report_date, extract_date
    from current_cases
),

children as (
    select
        c.case_key, c.municipality_code, c.case_id, c.report_date, c.extract_date,
        ch.child_id, ch.age_band
    from cohort as c
    join current_children as ch
        on ch.case_key = c.case_key
),

offers_in_window as (
    select h.case_key, h.recipient, h.child_id
    from cohort as c
    join current_help as h
        on h.case_key = c.case_key
    where h.offered_date between c.report_date and c.report_date + 182
        and h.recipient in ('child', 'family')
),

-- Help to the whole family system counts for every child of the case, help to a child for
-- that child: two equi-joins, instead of pairing every child with every offer of its case
-- and filtering on either.
family_helped as (
    select distinct case_key
    from offers_in_window
    where recipient = 'family'
),

child_helped as (
    select distinct case_key, child_id
    from offers_in_window
    where recipient = 'child'
),

final as (
    select
        ch.municipality_code,
        ch.child_id as unit_id,
        ch.report_date,
        ch.report_date + 182 <= ch.extract_date as in_population,
        (ch.report_date + 182 <= ch.extract_date)
            and fh.case_key is null
            and kh.child_id is null as in_numerator,
        ch.age_band
    from children as ch
    left join family_helped as fh using (case_key)
    left join child_helped as kh using (case_key, child_id)
)

select * from final
