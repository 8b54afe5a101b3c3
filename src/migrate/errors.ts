/** A refusal to plan or run migrations. `file` names the file at fault so the message is actionable. */
export class MigrationError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'MigrationError';
  }
}
