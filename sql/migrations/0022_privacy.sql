-- 0022 privacy: data export for the signed-in user (GDPR Art. 15/20) and the data inventory.
--
-- export_my_data() is SECURITY DEFINER with an explicit owner filter rather than SECURITY INVOKER under RLS:
-- the right of access covers every row about the person, including rows or columns the API does not let
-- them read (e.g. usage_metrics they may only insert), and it must not change when a policy changes. The
-- tables come from the catalog at call time (every public table with a uuid column referencing auth.users
-- or named user_id), so a new user-owned table is exported without touching this function; the test
-- compares the export with a superuser query built from the catalog.

create function public.export_my_data()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_tables jsonb := '{}'::jsonb;
  v_rows jsonb;
  t record;
begin
  if v_uid is null then
    raise exception 'export_my_data: no signed-in user (auth.uid() is null)' using errcode = '42501';
  end if;
  for t in
    select c.relname as table_name,
           pg_catalog.string_agg(pg_catalog.format('x.%I = $1', a.attname), ' or ' order by a.attnum) as owner_filter
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = 'public'
      and c.relkind in ('r', 'p')
      and a.atttypid = 'uuid'::regtype
      and (a.attname = 'user_id'
           or exists (
             select from pg_catalog.pg_constraint k
             where k.conrelid = c.oid and k.contype = 'f' and k.confrelid = 'auth.users'::regclass
               and k.conkey = array[a.attnum]))
    group by c.relname
    order by c.relname
  loop
    execute pg_catalog.format(
      'select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)), ''[]''::jsonb) from public.%I x where %s',
      t.table_name, t.owner_filter)
    into v_rows
    using v_uid;
    v_tables := v_tables || pg_catalog.jsonb_build_object(t.table_name, v_rows);
  end loop;
  return pg_catalog.jsonb_build_object(
    'format', 'shipspeak-export/1',
    'exported_at', pg_catalog.now(),
    'user_id', v_uid,
    'account', (
      select pg_catalog.jsonb_build_object(
        'id', u.id, 'email', u.email, 'phone', u.phone, 'created_at', u.created_at,
        'email_confirmed_at', u.email_confirmed_at, 'last_sign_in_at', u.last_sign_in_at,
        'user_metadata', u.raw_user_meta_data, 'app_metadata', u.raw_app_meta_data)
      from auth.users u where u.id = v_uid),
    'tables', v_tables,
    'audit_events', (
      select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(e) order by e.id), '[]'::jsonb)
      from public.my_audit_events(1000) e)
  );
end;
$$;

comment on function public.export_my_data() is
  'RPC for the signed-in user (GDPR Art. 15/20): one JSON document with their account, every row of every public table that references them (found from the catalog at call time) and their audit events. SECURITY DEFINER with an explicit auth.uid() filter.';

revoke all on function public.export_my_data() from public;

revoke all on function public.export_my_data() from anon;

revoke all on function public.export_my_data() from service_role;

grant execute on function public.export_my_data() to authenticated;

create view audit.data_inventory as
select c.relname::text as table_name,
       a.attname::text as column_name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) as data_type,
       coalesce(cc.category, 'unclassified') as category,
       coalesce(cc.audit_treatment, 'redact') as audit_treatment,
       case when rp.enabled then rp.keep_days end as retention_days,
       case when rp.enabled then rp.timestamp_column end as retention_column,
       cc.note
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
left join audit.column_classification cc on cc.table_name = c.relname and cc.column_name = a.attname
left join audit.retention_policies rp on rp.table_schema = n.nspname and rp.table_name = c.relname
where n.nspname = 'public' and c.relkind in ('r', 'p');

comment on view audit.data_inventory is
  'Data inventory generated from the catalog: every column of every public table with its category (identifier / content / metric / personal / operational, or unclassified), how the audit trail stores it, and the retention that applies (null = kept for the life of the account). Read by src/privacy/inventory.ts for the compliance report.';

revoke all on table audit.data_inventory from public, anon, authenticated, service_role;
