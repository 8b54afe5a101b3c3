-- 0037 cheap jsonb schema checks (issue #17): the same validator, private.jsonb_matches_schema, at a fraction
-- of the cost per row. The scale seed spent ~90 % of its CPU on meeting_analyses, practice_sessions and
-- session_feedback in 0034's body, which per JSON node ran a query over jsonb_object_keys for the keyword
-- check, an enum and a required subquery and a jsonb_each query, and popped its work list by slicing the
-- array (a copy per pop, quadratic in a long array).
--
-- What changes: the body only (create or replace, same signature, volatility, parallel safety and search
-- path), so the nine check constraints of 0034 keep their names, text and validated state: no constraint is
-- dropped, added or revalidated and no table is locked beyond the catalog update. Replacing the body does not
-- recheck stored rows, which is right only because every document gets the same verdict as before:
--   * keyword check: one jsonb "-" text[] operator per node (the query runs only to name the bad keyword);
--   * the work list is a stack with a top index: push and pop are O(1), elements are pushed and popped in
--     0034's order, so which unknown keyword raises first is unchanged too;
--   * enum on a scalar: containment in the enum array, which for a scalar is equality with an element;
--     objects and arrays keep 0034's element-by-element equality (containment would accept a subset);
--   * required, items and the members of an object: loops over jsonb indexes and jsonpath keyvalue()
--     (evaluated in C, same member order as jsonb_each) instead of a query each;
--   * minimum/maximum/minLength/maxLength/pattern/minItems/maxItems: comparisons with an absent keyword are
--     null, which an if treats as false, exactly as 0034's "s ? keyword and ..." did.
-- tests/migrations/jsonb-schemas.test.ts and jsonb-schemas-property.test.ts compare the verdicts with Ajv.

create or replace function private.jsonb_matches_schema(schema jsonb, instance jsonb)
returns boolean
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
  -- A stack of (schema, value) pairs instead of recursion: a recursive call would look the function up by
  -- name at run time, which needs usage on schema private, a right the API roles must not have. The stack
  -- never shrinks (top marks its end), so a push or pop is O(1); 0034 sliced the arrays on every pop.
  -- The keywords this validator implements (+ the two annotations); anything else in a schema raises.
  known constant text[] := '{type,enum,properties,required,additionalProperties,items,minItems,maxItems,uniqueItems,minLength,maxLength,pattern,minimum,maximum,description,title}';
  stack_schemas jsonb[] := array[schema];
  stack_values jsonb[] := array[instance];
  top int := 1;
  s jsonb;
  v jsonb;
  kind text;
  types jsonb;
  props jsonb;
  extra jsonb;
  sub jsonb;
  entries jsonb;
  entry jsonb;
  len int;
  str text;
  num numeric;
  i int;
begin
  while top > 0 loop
    s := stack_schemas[top];
    v := stack_values[top];
    top := top - 1;
    -- SQL null (only ever the whole value): the column's nullability decides, as for any check constraint.
    continue when v is null;
    -- An unknown keyword fails loudly rather than being ignored (the same rule the tests' Ajv has). One jsonb
    -- operator in C instead of a query over jsonb_object_keys per node.
    if (s - known) <> '{}'::jsonb then
      -- The first unknown key in jsonb order: the one 0034's loop named. (A schema that is not an object
      -- raises here too, in jsonb_object_keys, as in 0034.)
      raise exception 'jsonb_matches_schema: unsupported JSON Schema keyword "%"',
        (select k from pg_catalog.jsonb_object_keys(s - known) as k limit 1);
    end if;
    kind := pg_catalog.jsonb_typeof(v);
    types := s -> 'type';
    if types is not null then
      if pg_catalog.jsonb_typeof(types) = 'string' then
        types := pg_catalog.jsonb_build_array(types);
      end if;
      if not (types ? kind
        or (kind = 'number' and types ? 'integer' and v::numeric = pg_catalog.trunc(v::numeric))) then
        return false;
      end if;
    end if;
    if s ? 'enum' then
      -- A scalar's containment in the enum array is equality with one of its elements; a container's is not
      -- (containment would accept a subset), so objects and arrays keep the exact comparison of 0034, as does
      -- an enum that is not an array (jsonb_array_elements raises on it, as in 0034).
      if kind in ('object', 'array') or pg_catalog.jsonb_typeof(s -> 'enum') <> 'array' then
        if not exists (select from pg_catalog.jsonb_array_elements(s -> 'enum') as e (x) where e.x = v) then
          return false;
        end if;
      elsif not (s -> 'enum') @> pg_catalog.jsonb_build_array(v) then
        return false;
      end if;
    end if;
    if kind = 'number' then
      if s ? 'minimum' or s ? 'maximum' then
        num := v::numeric;
        if num < (s ->> 'minimum')::numeric or num > (s ->> 'maximum')::numeric then
          return false;
        end if;
      end if;
    elsif kind = 'string' then
      if s ? 'minLength' or s ? 'maxLength' or s ? 'pattern' then
        str := v #>> '{}';
        if pg_catalog.char_length(str) < (s ->> 'minLength')::int
          or pg_catalog.char_length(str) > (s ->> 'maxLength')::int
          or str !~ (s ->> 'pattern') then
          return false;
        end if;
      end if;
    elsif kind = 'array' then
      len := pg_catalog.jsonb_array_length(v);
      if len < (s ->> 'minItems')::int or len > (s ->> 'maxItems')::int then
        return false;
      end if;
      if coalesce((s -> 'uniqueItems')::boolean, false) and (
        select pg_catalog.count(distinct e.x) <> pg_catalog.count(*) from pg_catalog.jsonb_array_elements(v) as e (x)
      ) then
        return false;
      end if;
      sub := s -> 'items';
      if sub is not null then
        for i in 0 .. len - 1 loop
          top := top + 1;
          stack_schemas[top] := sub;
          stack_values[top] := v -> i;
        end loop;
      end if;
    elsif kind = 'object' then
      sub := s -> 'required';
      if sub is not null then
        for i in 0 .. pg_catalog.jsonb_array_length(sub) - 1 loop
          if not v ? (sub ->> i) then
            return false;
          end if;
        end loop;
      end if;
      props := s -> 'properties';
      extra := s -> 'additionalProperties';
      -- Members in jsonb_each order, without a query: keyvalue() is evaluated in C.
      entries := pg_catalog.jsonb_path_query_array(v, '$.keyvalue()');
      for i in 0 .. pg_catalog.jsonb_array_length(entries) - 1 loop
        entry := entries -> i;
        sub := props -> (entry ->> 'key');
        if sub is not null then
          top := top + 1;
          stack_schemas[top] := sub;
          stack_values[top] := entry -> 'value';
        elsif extra = 'false'::jsonb then
          return false;
        elsif pg_catalog.jsonb_typeof(extra) = 'object' then
          top := top + 1;
          stack_schemas[top] := extra;
          stack_values[top] := entry -> 'value';
        end if;
      end loop;
    end if;
  end loop;
  return true;
end
$$;

comment on function private.jsonb_matches_schema(jsonb, jsonb) is
  'Check-constraint validator: true when instance satisfies the draft-07 JSON Schema subset our fixtures/schemas use (type incl. integer and type lists, enum, properties, required, additionalProperties false or a schema, items, minItems, maxItems, uniqueItems, minLength, maxLength, pattern as a PostgreSQL regex, minimum, maximum); an unknown keyword raises. SQL null is true (nullability is the column''s job). Same argument order as Supabase''s pg_jsonschema jsonb_matches_schema, so a project with that extension can switch. Body from 0037: constant work per JSON node (no query per node, O(1) stack), same verdicts as 0034.';
