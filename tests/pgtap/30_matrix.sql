-- The whole expected-outcome matrix (tests/rls/matrix.json, loaded into tests.matrix by the runner), acted
-- out cell by cell: each persona really runs select/insert/update/delete on the fixture, and the observed
-- behaviour (tests.observe) must equal the matrix. Update/delete probes also verify that another user's
-- row stayed untouched whenever 0 rows were reported.
begin;

select plan((select count(*)::integer from tests.matrix) + 2);

select tests.setup_fixture();

select set_eq(
  $$select c.relname::text from pg_catalog.pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f')$$,
  $$select distinct tbl from tests.matrix$$,
  'the matrix covers exactly the relations of schema public'
);

select is(
  (select count(*)::integer from tests.matrix),
  (select count(*)::integer * 6 * 4 from tests.matrix_tables),
  'the matrix has a cell for every table x 6 personas x 4 operations'
);

select is(tests.observe(persona, tbl, op), expected, format('%s: %s on %s -> %s', persona, op, tbl, expected))
from tests.matrix
order by tbl, persona, op;

select * from finish();

rollback;
