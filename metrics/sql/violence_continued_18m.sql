-- violence_continued_18m: cases with a yes/no follow-up 456..639 days after R; numerator the latest says yes.
with cohort as (
    select case_key, municipality_code, case_id, report_date, violence_type
    from current_cases
),

answered_in_window as (
    select
        c.case_key,
        f.followup_date,
        f.violence_since_previous = 'yes' as violence
    from cohort as c
    join current_followups as f
        on f.case_key = c.case_key
    where f.followup_date between c.report_date + 456 and c.report_date + 639
        and f.violence_since_previous in ('yes', 'no')
),

latest as (
    -- the latest follow-up decides; two on the same day: 'yes' wins (the cautious reading)
    select case_key, violence
    from answered_in_window
    qualify row_number() over (
        partition by case_key order by followup_date desc, violence desc
    ) = 1
),

final as (
    select
        c.municipality_code,
        c.case_id as unit_id,
        c.report_date,
        l.case_key is not null as in_population,
        coalesce(l.violence, false) as in_numerator,
        c.violence_type
    from cohort as c
    left join latest as l using (case_key)
)

select * from final
