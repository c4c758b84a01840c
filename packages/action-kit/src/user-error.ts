/**
 * An error caused by what the user gave us (an input, a file, Azure's configuration), with a
 * message that says what to fix. Actions report it without a stack trace; anything else is a
 * bug and is reported with one.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(fix ? `${message}\nFix: ${fix}` : message);
    this.name = "UserError";
  }
}
