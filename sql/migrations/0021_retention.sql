-- 0021 retention: how long each kind of data is kept, and the purge that enforces it.
--
-- audit.retention_policies holds one row per table (keep N days after <timestamp column>, enabled); a
-- trigger rejects a policy naming an unknown table or column, a non-timestamp column or a non-positive
-- number of days. public.purge_expired() (service role, or pg_cron where installed) deletes expired rows
-- in bounded batches (FOR UPDATE SKIP LOCKED, so concurrent runs neither wait on nor double-count each
-- other), aggregates usage events into an anonymous daily table before dropping them, and records one
-- PURGE entry per table in the audit trail instead of one entry per row.

create table audit.retention_policies (
  table_schema text not null default 'public',
  table_name text not null,
  timestamp_column text not null,
  keep_days integer not null,
  enabled boolean not null default true,
  comment text,
  constraint retention_policies_pkey primary key (table_schema, table_name),
  constraint retention_policies_keep_days_positive check (keep_days > 0)
);

comment on table audit.retention_policies is
  'Retention per table: rows whose timestamp_column is older than keep_days are deleted by public.purge_expired() when enabled. Validated by a trigger (table and column must exist, column must be a timestamp, days > 0).';

comment on column audit.retention_policies.timestamp_column is
  'Column (timestamptz, timestamp or date) the age of a row is measured from.';

comment on column audit.retention_policies.keep_days is
  'Rows older than this many days are purged.';

create function audit.validate_retention_policy()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_rel regclass;
  v_type regtype;
begin
  if new.table_schema not in ('public', 'audit') or (new.table_schema = 'audit' and new.table_name <> 'log') then
    raise exception 'retention policy for %.%: only tables in schema public and audit.log can have a retention policy',
      new.table_schema, new.table_name
      using errcode = '22023';
  end if;
  v_rel := pg_catalog.to_regclass(pg_catalog.format('%I.%I', new.table_schema, new.table_name));
  if v_rel is null then
    raise exception 'retention policy for %.%: table does not exist', new.table_schema, new.table_name
      using errcode = '22023';
  end if;
  select a.atttypid::regtype into v_type
  from pg_catalog.pg_attribute a
  where a.attrelid = v_rel and a.attname = new.timestamp_column and a.attnum > 0 and not a.attisdropped;
  if not found then
    raise exception 'retention policy for %.%: column "%" does not exist', new.table_schema, new.table_name, new.timestamp_column
      using errcode = '22023';
  end if;
  if v_type not in ('timestamp with time zone'::regtype, 'timestamp without time zone'::regtype, 'date'::regtype) then
    raise exception 'retention policy for %.%: column "%" is of type %, not a timestamp or date',
      new.table_schema, new.table_name, new.timestamp_column, v_type
      using errcode = '22023';
  end if;
  if new.keep_days is null or new.keep_days <= 0 then
    raise exception 'retention policy for %.%: keep_days must be a positive number of days, got %',
      new.table_schema, new.table_name, coalesce(new.keep_days::text, 'null')
      using errcode = '22023';
  end if;
  return new;
end;
$$;

comment on function audit.validate_retention_policy() is
  'BEFORE INSERT/UPDATE trigger on audit.retention_policies: rejects (SQLSTATE 22023, message naming the policy) unknown tables or columns, non-timestamp columns and non-positive keep_days.';

revoke all on function audit.validate_retention_policy() from public;

create trigger validate_retention_policy
  before insert or update on audit.retention_policies
  for each row
  execute function audit.validate_retention_policy();

insert into audit.retention_policies (table_schema, table_name, timestamp_column, keep_days, enabled, comment) values
  ('public', 'meeting_transcripts', 'created_at', 90, true,
   'Raw transcripts are the most sensitive content: kept long enough to re-run an analysis, then dropped.'),
  ('public', 'meeting_analyses', 'created_at', 365, true,
   'Derived insights outlive the transcript they came from (one year of coaching history).'),
  ('public', 'meetings', 'created_at', 730, true,
   'Meeting metadata and status, two years; deleting a meeting also deletes what is left of its transcript and analyses.'),
  ('public', 'practice_sessions', 'started_at', 730, true,
   'Two years of practice history for improvement tracking.'),
  ('public', 'session_feedback', 'created_at', 730, true,
   'Kept as long as the practice sessions it belongs to.'),
  ('public', 'usage_metrics', 'occurred_at', 90, true,
   'Raw usage events cover the longest quota window with margin; before deletion they are added to the anonymous daily totals (private.usage_daily_totals).'),
  ('public', 'user_progress', 'updated_at', 1095, false,
   'Disabled: progress is current state, kept as long as the account (erasure removes it).'),
  ('audit', 'log', 'occurred_at', 2555, true,
   'The audit trail is kept longest (seven years); its entries are pseudonymised and redacted, so it holds no content.');

create table private.usage_daily_totals (
  day date not null,
  kind public.usage_metric_kind not null,
  events bigint not null,
  total_quantity numeric(20, 3) not null,
  constraint usage_daily_totals_pkey primary key (day, kind)
);

comment on table private.usage_daily_totals is
  'Anonymous daily usage totals (no user id) that public.usage_metrics events are folded into when the retention purge drops them; kept indefinitely for product analytics.';

revoke all on table private.usage_daily_totals from public, anon, authenticated, service_role;

create function public.purge_expired(batch_size integer default 1000, max_batches integer default 1000)
returns table (table_name text, timestamp_column text, cutoff timestamptz, purged bigint)
language plpgsql
security definer
set search_path = ''
as $$
declare
  p record;
  v_txid text := pg_catalog.pg_current_xact_id()::text;
  v_cutoff timestamptz;
  v_n bigint;
  v_entries bigint;
  v_total bigint;
  v_batches integer;
  v_boundary bigint;
begin
  if batch_size is null or batch_size < 1 or max_batches is null or max_batches < 1 then
    raise exception 'purge_expired: batch_size and max_batches must be positive, got % and %', batch_size, max_batches
      using errcode = '22023';
  end if;
  -- The token that lets the audit capture functions skip per-row entries and audit.refuse_change() allow deletes.
  insert into audit.purge_runs (txid) values (v_txid::bigint) on conflict do nothing;
  perform pg_catalog.set_config('audit.purge_txid', v_txid, true);

  for p in
    select r.* from audit.retention_policies r
    where r.enabled
    order by r.table_schema = 'audit', r.table_name
  loop
    v_cutoff := pg_catalog.now() - pg_catalog.make_interval(days => p.keep_days);
    v_total := 0;
    v_batches := 0;
    if p.table_schema = 'audit' then
      -- Seal first (this also holds the sealer's lock to commit): only sealed entries go, and only a prefix
      -- of the chain in seal order, so the rest still verifies from the new anchor.
      perform audit.seal(null);
      select pg_catalog.min(s.seq) into v_boundary
      from audit.seals s join audit.log l on l.id = s.entry_id
      where l.occurred_at >= v_cutoff;
      loop
        with gone as (
          delete from audit.seals s
          where s.ctid = any (array(
            select x.ctid from audit.seals x
            where x.seq < coalesce(v_boundary, 9223372036854775807)
            order by x.seq
            limit batch_size
            for update skip locked))
          returning s.entry_id
        ),
        entries as (
          delete from audit.log l
          where l.id in (select g.entry_id from gone g)
          returning l.id
        )
        select (select pg_catalog.count(*) from gone), (select pg_catalog.count(*) from entries) into v_n, v_entries;
        v_total := v_total + v_entries;
        v_batches := v_batches + 1;
        exit when v_n < batch_size or v_batches >= max_batches;
      end loop;
      if v_total > 0 then
        update audit.chain_head h
           set anchor_hash = coalesce((select s.prev_hash from audit.seals s order by s.seq limit 1), h.last_hash);
      end if;
    elsif p.table_schema = 'public' and p.table_name = 'usage_metrics' then
      loop
        with gone as (
          delete from public.usage_metrics u
          where u.ctid = any (array(
            select x.ctid from public.usage_metrics x
            where x.occurred_at < v_cutoff
            limit batch_size
            for update skip locked))
          returning u.kind, u.quantity, u.occurred_at
        ),
        folded as (
          insert into private.usage_daily_totals as t (day, kind, events, total_quantity)
          select (g.occurred_at at time zone 'UTC')::date, g.kind, pg_catalog.count(*), pg_catalog.sum(g.quantity)
          from gone g
          group by 1, 2
          on conflict (day, kind) do update
            set events = t.events + excluded.events,
                total_quantity = t.total_quantity + excluded.total_quantity
          returning t.events
        )
        select pg_catalog.count(*) into v_n from gone;
        v_total := v_total + v_n;
        v_batches := v_batches + 1;
        exit when v_n < batch_size or v_batches >= max_batches;
      end loop;
    else
      loop
        execute pg_catalog.format(
          'delete from %1$I.%2$I t where t.ctid = any (array(select x.ctid from %1$I.%2$I x where x.%3$I < $1 limit $2 for update skip locked))',
          p.table_schema, p.table_name, p.timestamp_column)
        using v_cutoff, batch_size;
        get diagnostics v_n = row_count;
        v_total := v_total + v_n;
        v_batches := v_batches + 1;
        exit when v_n < batch_size or v_batches >= max_batches;
      end loop;
    end if;
    if v_total > 0 then
      perform audit.append_event('PURGE', p.table_schema || '.' || p.table_name, null,
        pg_catalog.jsonb_build_object('policy', p.table_schema || '.' || p.table_name),
        pg_catalog.jsonb_build_object('rows', v_total, 'cutoff', v_cutoff, 'keep_days', p.keep_days,
                                      'timestamp_column', p.timestamp_column));
    end if;
    table_name := p.table_schema || '.' || p.table_name;
    timestamp_column := p.timestamp_column;
    cutoff := v_cutoff;
    purged := v_total;
    return next;
  end loop;
  -- Whatever the caller does next in this transaction is audited again.
  perform pg_catalog.set_config('audit.purge_txid', '', true);
end;
$$;

comment on function public.purge_expired(integer, integer) is
  'Retention purge (service role; pg_cron daily where installed): for each enabled audit.retention_policies row deletes rows older than keep_days in batches of batch_size (at most max_batches per table per call, FOR UPDATE SKIP LOCKED), folds usage events into private.usage_daily_totals, records one PURGE audit entry per table, returns per-table counts.';

revoke all on function public.purge_expired(integer, integer) from public;

revoke all on function public.purge_expired(integer, integer) from anon;

revoke all on function public.purge_expired(integer, integer) from authenticated;

grant execute on function public.purge_expired(integer, integer) to service_role;

revoke all on table audit.retention_policies from public, anon, authenticated, service_role;

-- pg_cron, where installed in this database (Supabase: create extension pg_cron): purge daily at 03:17 UTC.
do $$
begin
  if exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
    perform cron.schedule('shipspeak-purge-expired', '17 3 * * *', 'select public.purge_expired()');
  end if;
end
$$;
