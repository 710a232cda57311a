// The customer data page's forms (DAT-3): find, export (a JSON download), erase (a confirmation
// step that repeats the id). Each needs manage_customer_data; export and erasure also a password
// entered within 5 minutes (OPS-8) and a reason; both run the audited service the API and the
// command line use, acting as the signed-in operator.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DataRightsContext } from '../../privacy/customer-data.ts';
import {
  permit,
  permitSensitive,
  sendMessage,
  sendPage,
  type DashboardDeps,
  type SignedInOperator,
} from '../context.ts';
import { confirmErasurePage, customersPage, erasedPage, foundCustomersPage } from '../pages/customers.ts';
import { CustomerActionBody, CustomerFindBody } from '../schemas.ts';

const PAGE = { title: 'Customer data', active: 'customers' } as const;

function contextOf(request: FastifyRequest, who: SignedInOperator): DataRightsContext {
  return {
    mode: who.mode,
    apiKeyId: 'dashboard',
    requestId: request.id,
    ip: request.ip,
    operatorId: who.operator.id,
    actor: { actorType: 'operator', actorId: who.operator.id },
  };
}

export function customerRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get('/customers', async (request, reply) => {
    const who = await permit(deps, request, reply, 'manage_customer_data');
    if (who === undefined) return reply;
    return sendPage(request, reply, PAGE, customersPage(who.csrfToken));
  });

  api.post('/customers/find', { schema: { body: CustomerFindBody } }, async (request, reply) => {
    const who = await permit(deps, request, reply, 'manage_customer_data');
    if (who === undefined) return reply;
    const { email = '', customer_id: customerId = '' } = request.body;
    if ((email === '') === (customerId === ''))
      return sendMessage(request, reply, 400, 'Not accepted', 'Give an email or a customer id, one of the two.');
    const found = await deps.customers.findCustomers(who.mode, email !== '' ? { email } : { customerId });
    return sendPage(request, reply, PAGE, foundCustomersPage(found, who.csrfToken));
  });

  api.post('/customers/export', { schema: { body: CustomerActionBody } }, async (request, reply) => {
    const who = await permitSensitive(deps, request, reply, 'manage_customer_data', '/dashboard/customers');
    if (who === undefined) return reply;
    const { customer_id: customerId, reason } = request.body;
    if ((await deps.customers.findCustomers(who.mode, { customerId })).length === 0)
      return sendMessage(request, reply, 404, 'Not found', 'There is no such customer in this mode.');
    const document = await deps.customers.exportCustomer(contextOf(request, who), { customerId }, { reason });
    return reply
      .header('content-disposition', `attachment; filename="${customerId}-export.json"`)
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(document, null, 2));
  });

  api.post('/customers/erase', { schema: { body: CustomerActionBody } }, async (request, reply) => {
    const who = await permitSensitive(deps, request, reply, 'manage_customer_data', '/dashboard/customers');
    if (who === undefined) return reply;
    const { customer_id: customerId, reason, confirm } = request.body;
    const [customer] = await deps.customers.findCustomers(who.mode, { customerId });
    if (customer === undefined)
      return sendMessage(request, reply, 404, 'Not found', 'There is no such customer in this mode.');
    if (customer.erased_at !== null)
      return sendMessage(request, reply, 409, 'Already erased', 'This customer was already erased.');
    if (confirm === undefined || confirm.trim() !== customerId)
      return sendPage(
        request,
        reply,
        { ...PAGE, title: 'Confirm the erasure', status: confirm === undefined ? 200 : 400 },
        confirmErasurePage(customerId, reason, customer.payments, who.csrfToken),
      );
    const result = await deps.customers.eraseCustomer(contextOf(request, who), { customerId }, reason);
    return sendPage(
      request,
      reply,
      { ...PAGE, title: 'Customer erased' },
      erasedPage(customerId, result.payments.length),
    );
  });
}
