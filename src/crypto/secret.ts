// Secrets travel inside this wrapper so that a stray `console.log(config)`, a pino object dump or a
// JSON.stringify of an error context prints "[redacted]" instead of the value (LOG-6).
const hidden = new WeakMap<Secret, string>();

export class Secret {
  constructor(value: string) {
    hidden.set(this, value);
  }

  /** The only way to read the value; grep for `.reveal()` to audit every use. */
  reveal(): string {
    return hidden.get(this) ?? '';
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'Secret([redacted])';
  }
}
