import type { Queryable } from '../db/database.js';

/** One column of the data inventory (audit.data_inventory, generated from the catalog). */
export interface InventoryColumn {
  table: string;
  column: string;
  dataType: string;
  /** identifier / content / metric / personal / operational, or 'unclassified' for a column nobody classified yet. */
  category: string;
  /** How the audit trail stores the column: keep, redact or pseudonymise. */
  auditTreatment: string;
  /** Days a row is kept (enabled retention policy), or null: kept for the life of the account. */
  retentionDays: number | null;
  retentionColumn: string | null;
  note: string | null;
}

/**
 * The data inventory for the compliance report: every column of every public table, its category, audit
 * treatment and retention. Read from the database (not from a file), so it always describes the schema
 * actually deployed. Needs a role that may read schema audit (the owner / a superuser).
 */
export async function dataInventory(db: Queryable): Promise<InventoryColumn[]> {
  const r = await db.query<{
    table_name: string;
    column_name: string;
    data_type: string;
    category: string;
    audit_treatment: string;
    retention_days: number | null;
    retention_column: string | null;
    note: string | null;
  }>(`select table_name, column_name, data_type, category, audit_treatment, retention_days, retention_column, note
        from audit.data_inventory order by table_name, column_name`);
  return r.rows.map((x) => ({
    table: x.table_name,
    column: x.column_name,
    dataType: x.data_type,
    category: x.category,
    auditTreatment: x.audit_treatment,
    retentionDays: x.retention_days,
    retentionColumn: x.retention_column,
    note: x.note,
  }));
}
