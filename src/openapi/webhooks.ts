// The events Paywarden sends to merchant endpoints, for the description's `webhooks` section. The
// event types are the API's own list (EVENT_TYPES); each names the object it carries.
import type { TSchema } from 'typebox';
import { EventPayloadOf, IncidentEventData, PaymentObjectSchema, PayoutObjectSchema } from '../api/objects.ts';
import { EVENT_TYPES } from '../api/schemas.ts';

export interface WebhookEventDoc {
  readonly type: string;
  readonly summary: string;
  readonly payload: TSchema;
}

const OBJECTS: Readonly<Record<string, TSchema>> = { payment: PaymentObjectSchema, payout: PayoutObjectSchema };

export function webhookEventDocs(): WebhookEventDoc[] {
  return EVENT_TYPES.map((type) => {
    const incident = IncidentEventData[type];
    if (incident !== undefined) return { type, summary: incident.summary, payload: incident.payload };
    const [objectName = '', change = ''] = type.split('.');
    const object = OBJECTS[objectName];
    if (object === undefined) throw new Error(`No object schema for the events of ${objectName}`);
    const summary = `The ${objectName} became ${change.replaceAll('_', ' ')}.`;
    return { type, summary, payload: EventPayloadOf(object, summary) };
  });
}
