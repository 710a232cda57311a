import type { Selectable } from 'kysely';
import type { EventsTable } from '../db/schema.ts';

/** The event as the API returns it and as it is delivered (Standard Webhooks payload shape). */
export function toEventObject(row: Selectable<EventsTable>) {
  return {
    id: row.id,
    object: 'event' as const,
    type: row.type,
    timestamp: new Date(row.created_at).toISOString(),
    livemode: row.mode === 'live',
    data: JSON.parse(row.data_json) as Record<string, unknown>,
  };
}

/** The exact bytes that are signed and sent; the same for every attempt of an event. */
export function buildEventPayload(row: Selectable<EventsTable>): string {
  return JSON.stringify(toEventObject(row));
}
