/** Every value a simulator prints into HTML goes through this (numeric entities). */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}
