-- Migration 0023: every numeric, real and double precision column of public carries a validated check
-- <table>_<column>_finite refusing NaN, Infinity and -Infinity. The columns come from the catalog, so a new
-- one without its check fails here (tests/migrations/finite-numbers.test.ts also writes each value).
begin;

create temporary table finite_cols on commit drop as
select c.relname::text as tbl, a.attname::text as col
from pg_catalog.pg_attribute a
join pg_catalog.pg_class c on c.oid = a.attrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
  and a.atttypid in ('pg_catalog.numeric'::pg_catalog.regtype, 'pg_catalog.float4'::pg_catalog.regtype, 'pg_catalog.float8'::pg_catalog.regtype);

select plan((select count(*)::int + 1 from finite_cols));

select ok((select count(*) from finite_cols where tbl = 'usage_metrics' and col = 'quantity') = 1, 'the catalog query finds usage_metrics.quantity');

select ok(
  exists (
    select from pg_catalog.pg_constraint k
    where k.conrelid = pg_catalog.format('public.%I', f.tbl)::pg_catalog.regclass
      and k.conname = f.tbl || '_' || f.col || '_finite'
      and k.contype = 'c' and k.convalidated
      and pg_catalog.pg_get_constraintdef(k.oid) like '%' || f.col || '%NaN%Infinity%-Infinity%'
  ),
  pg_catalog.format('public.%s.%s refuses NaN and ±Infinity (check %s_%s_finite)', f.tbl, f.col, f.tbl, f.col)
)
from finite_cols f
order by f.tbl, f.col;

select * from finish();
rollback;
