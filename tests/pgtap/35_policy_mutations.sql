-- Policy mutation check: every RLS policy in turn is weakened to `true` (its USING and/or WITH CHECK), the
-- whole expected-outcome matrix is acted out again, and at least one cell must come out different. A
-- policy whose weakening no cell notices is one the matrix does not really test: that fails here, naming
-- the policy. Each mutant lives in a subtransaction that is rolled back before the next.
begin;

select plan((select count(*)::integer from pg_catalog.pg_policies where schemaname = 'public') + 1);

select tests.setup_fixture();

create function pg_temp.mutation_kills()
returns table (tablename text, policyname text, cmd text, cells_changed integer)
language plpgsql
as $$
declare
  p record;
  v_changed integer;
begin
  for p in
    select pp.tablename::text as tbl, pp.policyname::text as pol, pp.cmd::text as cmd,
           pp.qual is not null as has_using, pp.with_check is not null as has_check
      from pg_catalog.pg_policies pp
     where pp.schemaname = 'public'
     order by 1, 2
  loop
    begin
      if p.has_using then
        execute format('alter policy %I on public.%I using (true)', p.pol, p.tbl);
      end if;
      if p.has_check then
        execute format('alter policy %I on public.%I with check (true)', p.pol, p.tbl);
      end if;
      select count(*)::integer into v_changed
        from tests.matrix m
       where tests.observe(m.persona, m.tbl, m.op) is distinct from m.expected;
      raise exception using errcode = 'P0001', message = 'undo mutant';
    exception when sqlstate 'P0001' then
      if sqlerrm <> 'undo mutant' then raise; end if;
    end;
    tablename := p.tbl;
    policyname := p.pol;
    cmd := p.cmd;
    cells_changed := v_changed;
    return next;
  end loop;
end;
$$;

create temporary table mutants on commit drop as select * from pg_temp.mutation_kills();

select ok(cells_changed > 0, format('weakening %s (%s on %s) to true is caught by %s matrix cell(s)', policyname, cmd, tablename, cells_changed))
from mutants
order by tablename, policyname;

-- The mutants were undone: acted out again, the matrix is exactly as expected.
select is(
  (select count(*)::integer from tests.matrix m where tests.observe(m.persona, m.tbl, m.op) is distinct from m.expected),
  0,
  'after the mutation run every policy is restored (the matrix holds again)'
);

select * from finish();

rollback;
