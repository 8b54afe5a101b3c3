-- Inverse of 0037_cheap_jsonb_schema_checks: private.jsonb_matches_schema's body and comment exactly as 0034
-- created them. The constraints were never touched, so they need nothing.

create or replace function private.jsonb_matches_schema(schema jsonb, instance jsonb)
returns boolean
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
  -- A work list instead of recursion: a recursive call would look the function up by name at run time, which
  -- needs usage on schema private — a right the API roles whose writes this constraint checks must not have.
  pending_schemas jsonb[] := array[schema];
  pending_values jsonb[] := array[instance];
  n int;
  s jsonb;
  v jsonb;
  kind text;
  types jsonb;
  keyword text;
  prop record;
  element jsonb;
  extra jsonb;
begin
  while pg_catalog.cardinality(pending_schemas) > 0 loop
    n := pg_catalog.cardinality(pending_schemas);
    s := pending_schemas[n];
    v := pending_values[n];
    pending_schemas := pending_schemas[1:n - 1];
    pending_values := pending_values[1:n - 1];
    -- SQL null (only ever the whole value): the column's nullability decides, as for any check constraint.
    continue when v is null;
    kind := pg_catalog.jsonb_typeof(v);
    types := s -> 'type';
    extra := s -> 'additionalProperties';
    -- An unknown keyword fails loudly rather than being ignored (the same rule the tests' Ajv has).
    for keyword in select k from pg_catalog.jsonb_object_keys(s) as k loop
      if keyword not in ('type', 'enum', 'properties', 'required', 'additionalProperties', 'items', 'minItems',
        'maxItems', 'uniqueItems', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'description',
        'title') then
        raise exception 'jsonb_matches_schema: unsupported JSON Schema keyword "%"', keyword;
      end if;
    end loop;
    if types is not null then
      if pg_catalog.jsonb_typeof(types) = 'string' then
        types := pg_catalog.jsonb_build_array(types);
      end if;
      if not (types ? kind
        or (kind = 'number' and types ? 'integer' and v::numeric = pg_catalog.trunc(v::numeric))) then
        return false;
      end if;
    end if;
    if s ? 'enum' and not exists (
      select from pg_catalog.jsonb_array_elements(s -> 'enum') as e (x) where e.x = v
    ) then
      return false;
    end if;
    if kind = 'number' then
      if (s ? 'minimum' and v::numeric < (s ->> 'minimum')::numeric)
        or (s ? 'maximum' and v::numeric > (s ->> 'maximum')::numeric) then
        return false;
      end if;
    elsif kind = 'string' then
      if (s ? 'minLength' and pg_catalog.char_length(v #>> '{}') < (s ->> 'minLength')::int)
        or (s ? 'maxLength' and pg_catalog.char_length(v #>> '{}') > (s ->> 'maxLength')::int)
        or (s ? 'pattern' and (v #>> '{}') !~ (s ->> 'pattern')) then
        return false;
      end if;
    elsif kind = 'array' then
      if (s ? 'minItems' and pg_catalog.jsonb_array_length(v) < (s ->> 'minItems')::int)
        or (s ? 'maxItems' and pg_catalog.jsonb_array_length(v) > (s ->> 'maxItems')::int) then
        return false;
      end if;
      if coalesce((s -> 'uniqueItems')::boolean, false) and (
        select pg_catalog.count(distinct e.x) <> pg_catalog.count(*) from pg_catalog.jsonb_array_elements(v) as e (x)
      ) then
        return false;
      end if;
      if s ? 'items' then
        for element in select e.x from pg_catalog.jsonb_array_elements(v) as e (x) loop
          pending_schemas := pg_catalog.array_append(pending_schemas, s -> 'items');
          pending_values := pg_catalog.array_append(pending_values, element);
        end loop;
      end if;
    elsif kind = 'object' then
      if s ? 'required' and exists (
        select from pg_catalog.jsonb_array_elements_text(s -> 'required') as r (k) where not v ? r.k
      ) then
        return false;
      end if;
      for prop in select e.key, e.value from pg_catalog.jsonb_each(v) as e loop
        if s -> 'properties' ? prop.key then
          pending_schemas := pg_catalog.array_append(pending_schemas, s -> 'properties' -> prop.key);
          pending_values := pg_catalog.array_append(pending_values, prop.value);
        elsif extra = 'false'::jsonb then
          return false;
        elsif pg_catalog.jsonb_typeof(extra) = 'object' then
          pending_schemas := pg_catalog.array_append(pending_schemas, extra);
          pending_values := pg_catalog.array_append(pending_values, prop.value);
        end if;
      end loop;
    end if;
  end loop;
  return true;
end
$$;

comment on function private.jsonb_matches_schema(jsonb, jsonb) is
  'Check-constraint validator: true when instance satisfies the draft-07 JSON Schema subset our fixtures/schemas use (type incl. integer and type lists, enum, properties, required, additionalProperties false or a schema, items, minItems, maxItems, uniqueItems, minLength, maxLength, pattern as a PostgreSQL regex, minimum, maximum); an unknown keyword raises. SQL null is true (nullability is the column''s job). Same argument order as Supabase''s pg_jsonschema jsonb_matches_schema, so a project with that extension can switch.';
