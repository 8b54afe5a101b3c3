import { buildSchemaCache, type RawCatalog, type SchemaCache } from '../../../src/rest/schema-cache.js';
import { cachedName as n } from '../../../src/rest/sql.js';

/**
 * Catalog rows, shaped as loadSchemaCache reads them, for a small schema like the conformance fixture's
 * (tests/rest/support/fixture.ts): the parser, planner and renderer tests build their schema cache from these
 * rows and run without any database.
 */
const col = (name: string, type: string, notNull = false, hasDefault = false) => ({
  name: n(name),
  type,
  notNull,
  hasDefault,
});

const T = (name: string, columns: ReturnType<typeof col>[], pk: string[], uniques: string[][] = [pk]) => ({
  schema: n('public'),
  name: n(name),
  kind: 'table' as const,
  columns,
  pk: pk.map(n),
  uniques: uniques.map((u) => u.map(n)),
});

const fk = (name: string, table: string, columns: string[], refTable: string, refColumns: string[]) => ({
  name: n(name),
  schema: n('public'),
  table: n(table),
  columns: columns.map(n),
  refSchema: n('public'),
  refTable: n(refTable),
  refColumns: refColumns.map(n),
});

const type = (name: string, display: string, arrayName: string | null) => ({
  schema: n('pg_catalog'),
  name: n(name),
  display,
  arrayName: arrayName === null ? null : n(arrayName),
});

export const RAW_CATALOG: RawCatalog = {
  schemas: ['public'],
  tables: [
    T(
      'parents',
      [
        col('id', 'bigint', true, true),
        col('owner_id', 'uuid', true, true),
        col('name', 'text', true),
        col('score', 'numeric'),
        col('tags', 'text[]', true, true),
        col('meta', 'jsonb', true, true),
        col('created_at', 'timestamp with time zone', true, true),
      ],
      ['id'],
    ),
    T(
      'children',
      [
        col('id', 'bigint', true, true),
        col('parent_id', 'bigint', true),
        col('owner_id', 'uuid', true, true),
        col('label', 'text', true),
        col('position', 'integer', true, true),
        col('done', 'boolean', true, true),
      ],
      ['id'],
    ),
    T('parent_details', [col('parent_id', 'bigint', true), col('bio', 'text')], ['parent_id']),
    T(
      'items',
      [
        col('id', 'integer', true),
        col('name', 'text', true),
        col('category', 'text', true),
        col('price', 'numeric(10,2)', true),
        col('note', 'text'),
        col('created_at', 'timestamp with time zone', true),
      ],
      ['id'],
      [['id'], ['name']],
    ),
    T('people', [col('id', 'integer', true), col('name', 'text', true)], ['id']),
    T(
      'messages',
      [
        col('id', 'integer', true),
        col('sender_id', 'integer', true),
        col('recipient_id', 'integer', true),
        col('body', 'text', true),
      ],
      ['id'],
    ),
    // Many-to-many: parents ↔ tags through a junction whose foreign keys make up its primary key.
    T('tags', [col('id', 'integer', true), col('name', 'text', true)], ['id']),
    T('parent_tags', [col('parent_id', 'bigint', true), col('tag_id', 'integer', true)], ['parent_id', 'tag_id']),
    // A self-referencing table.
    T('staff', [col('id', 'integer', true), col('name', 'text', true), col('boss_id', 'integer')], ['id']),
    // A view over parents showing its key (embeddable through the base table's foreign keys).
    { ...T('parents_v', [col('pid', 'bigint'), col('name', 'text')], []), kind: 'view' as const, pk: null },
    // A hostile but legal catalog name: identifiers from the cache are quoted, so even this is safe.
    T('odd"name', [col('id', 'integer', true), col('we"ird col', 'text')], ['id']),
  ],
  foreignKeys: [
    fk('children_parent_id_fkey', 'children', ['parent_id'], 'parents', ['id']),
    fk('parent_details_parent_id_fkey', 'parent_details', ['parent_id'], 'parents', ['id']),
    fk('messages_recipient_id_fkey', 'messages', ['recipient_id'], 'people', ['id']),
    fk('messages_sender_id_fkey', 'messages', ['sender_id'], 'people', ['id']),
    fk('parent_tags_parent_id_fkey', 'parent_tags', ['parent_id'], 'parents', ['id']),
    fk('parent_tags_tag_id_fkey', 'parent_tags', ['tag_id'], 'tags', ['id']),
    fk('staff_boss_id_fkey', 'staff', ['boss_id'], 'staff', ['id']),
  ],
  viewColumns: [
    {
      schema: n('public'),
      view: n('parents_v'),
      column: n('pid'),
      baseSchema: n('public'),
      baseTable: n('parents'),
      baseColumn: n('id'),
    },
    {
      schema: n('public'),
      view: n('parents_v'),
      column: n('name'),
      baseSchema: n('public'),
      baseTable: n('parents'),
      baseColumn: n('name'),
    },
  ],
  routines: [
    {
      schema: n('public'),
      name: n('add'),
      volatility: 'i',
      returnsSet: false,
      returnsVoid: false,
      nDefaults: 0,
      allArgs: [
        { name: n('a'), type: 'integer', typeSchema: n('pg_catalog'), typeName: n('int4'), mode: 'i' },
        { name: n('b'), type: 'integer', typeSchema: n('pg_catalog'), typeName: n('int4'), mode: 'i' },
      ],
      retRelSchema: null,
      retRelName: null,
      retRelKind: null,
      retColumns: null,
    },
    {
      schema: n('public'),
      name: n('item_names'),
      volatility: 's',
      returnsSet: true,
      returnsVoid: false,
      nDefaults: 1,
      allArgs: [{ name: n('max_id'), type: 'integer', typeSchema: n('pg_catalog'), typeName: n('int4'), mode: 'i' }],
      retRelSchema: null,
      retRelName: null,
      retRelKind: null,
      retColumns: null,
    },
    {
      schema: n('public'),
      name: n('items_by_category'),
      volatility: 's',
      returnsSet: true,
      returnsVoid: false,
      nDefaults: 0,
      allArgs: [{ name: n('cat'), type: 'text', typeSchema: n('pg_catalog'), typeName: n('text'), mode: 'i' }],
      retRelSchema: n('public'),
      retRelName: n('items'),
      retRelKind: 'r',
      retColumns: [
        col('id', 'integer'),
        col('name', 'text'),
        col('category', 'text'),
        col('price', 'numeric(10,2)'),
        col('note', 'text'),
        col('created_at', 'timestamp with time zone'),
      ],
    },
    // A computed field of parents (one parameter of its row type, a scalar result) …
    {
      schema: n('public'),
      name: n('parent_title'),
      volatility: 's',
      returnsSet: false,
      returnsVoid: false,
      nDefaults: 0,
      allArgs: [{ name: n(''), type: 'parents', typeSchema: n('public'), typeName: n('parents'), mode: 'i' }],
      retRelSchema: null,
      retRelName: null,
      retRelKind: null,
      retColumns: null,
    },
    // … and a computed relationship (rows of children).
    {
      schema: n('public'),
      name: n('parent_kids'),
      volatility: 's',
      returnsSet: true,
      returnsVoid: false,
      nDefaults: 0,
      allArgs: [{ name: n(''), type: 'parents', typeSchema: n('public'), typeName: n('parents'), mode: 'i' }],
      retRelSchema: n('public'),
      retRelName: n('children'),
      retRelKind: 'r',
      retColumns: [
        col('id', 'bigint'),
        col('parent_id', 'bigint'),
        col('owner_id', 'uuid'),
        col('label', 'text'),
        col('position', 'integer'),
        col('done', 'boolean'),
      ],
      rows: 1000,
    },
  ],
  roles: ['anon', 'authenticated', 'service_role', 'authenticator', 'postgres'],
  types: [
    type('int4', 'integer', '_int4'),
    type('int8', 'bigint', '_int8'),
    type('text', 'text', '_text'),
    type('numeric', 'numeric', '_numeric'),
    type('jsonb', 'jsonb', '_jsonb'),
    type('json', 'json', '_json'),
    type('bool', 'boolean', '_bool'),
    type('uuid', 'uuid', '_uuid'),
    type('float8', 'double precision', '_float8'),
    type('date', 'date', '_date'),
    type('timestamptz', 'timestamp with time zone', '_timestamptz'),
  ],
};

export const catalogCache = (): SchemaCache => buildSchemaCache(RAW_CATALOG);

/** Every name the cache holds: the only identifiers (besides the gateway's own aliases and output labels) SQL may carry. */
export function cacheNames(cache: SchemaCache): Set<string> {
  const names = new Set<string>(cache.schemas);
  for (const t of cache.tables.values()) {
    names.add(t.schema).add(t.name);
    for (const c of t.columnOrder) names.add(c);
  }
  for (const f of cache.foreignKeys)
    for (const x of [f.name, f.schema, f.table, f.refSchema, f.refTable, ...f.columns, ...f.refColumns]) names.add(x);
  for (const rs of cache.routines.values()) {
    for (const r of rs) {
      names.add(r.schema).add(r.name);
      for (const a of r.args) names.add(a.name).add(a.typeRef.schema).add(a.typeRef.name);
      for (const c of r.returnColumns ?? []) names.add(c.name);
    }
  }
  for (const t of cache.types.values()) names.add(t.schema).add(t.name);
  return names;
}
