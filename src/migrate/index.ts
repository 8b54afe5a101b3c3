export { loadMigrations, SQL_DIR, type MigrationFile } from './files.js';
export { migrateUp, migrateDown, migrationStatus, type StepResult } from './runner.js';
export { MigrationError } from './errors.js';
export { plan, type PlannedMigration, type MigrationState } from './plan.js';
export { MIGRATION_LOCK_KEY } from './history.js';
