import { test } from 'node:test';
import assert from 'node:assert/strict';
import { can, canAssignRole, OPERATOR_ACTIONS, PERMISSIONS } from './permissions.ts';
import { OPERATOR_ROLES } from './schema.ts';

test('a viewer only views payments: cannot rotate a key, approve a payout or read the audit log', () => {
  assert.equal(can('viewer', 'view_payments'), true);
  for (const action of OPERATOR_ACTIONS.filter((a) => a !== 'view_payments'))
    assert.equal(can('viewer', action), false, action);
});

test('finance approves payouts but cannot manage operators, keys or settings', () => {
  assert.equal(can('finance', 'approve_payouts'), true);
  assert.equal(can('finance', 'create_payouts'), true, 'makes payout files (another operator approves them)');
  assert.equal(can('finance', 'manage_payouts'), true);
  assert.equal(can('finance', 'manage_operators'), false);
  assert.equal(can('finance', 'manage_api_keys'), false);
  assert.equal(can('finance', 'change_settings'), false);
});

test('a developer manages keys, endpoints and failed jobs but neither moves money nor manages people', () => {
  assert.equal(can('developer', 'manage_api_keys'), true);
  assert.equal(can('developer', 'manage_jobs'), true);
  assert.equal(can('finance', 'manage_jobs'), false);
  assert.equal(can('developer', 'manage_webhook_endpoints'), true);
  assert.equal(can('developer', 'approve_payouts'), false);
  assert.equal(can('developer', 'create_payouts'), false);
  assert.equal(can('developer', 'manage_payouts'), false);
  assert.equal(can('developer', 'manage_operators'), false);
});

test('acting on a payout (cancel, OTP, review, new attempt): the roles that decide on money', () => {
  for (const role of OPERATOR_ROLES) assert.equal(can(role, 'manage_payouts'), can(role, 'approve_payouts'), role);
});

test('delivery responses: seen by those who manage endpoints, not by finance or viewers', () => {
  for (const role of OPERATOR_ROLES)
    assert.equal(can(role, 'view_delivery_responses'), can(role, 'manage_webhook_endpoints'), role);
  assert.equal(can('viewer', 'view_delivery_responses'), false);
  assert.equal(can('finance', 'view_delivery_responses'), false);
});

test('only an owner manages owners; an admin manages everyone else', () => {
  for (const role of OPERATOR_ROLES) assert.equal(can(role, 'manage_owners'), role === 'owner', role);
  assert.equal(canAssignRole('admin', 'finance'), true);
  assert.equal(canAssignRole('admin', 'owner'), false);
  assert.equal(canAssignRole('owner', 'owner'), true);
  assert.equal(canAssignRole('developer', 'viewer'), false);
});

test('only owners unlock operators; owners and admins respond to incidents', () => {
  for (const role of OPERATOR_ROLES) {
    assert.equal(can(role, 'unlock_operators'), role === 'owner', role);
    assert.equal(can(role, 'respond_to_incidents'), role === 'owner' || role === 'admin', role);
    assert.equal(can(role, 'manage_customer_data'), role === 'owner', role);
  }
});

test('the matrix is frozen, complete, and unknown input is refused', () => {
  assert.ok(Object.isFrozen(PERMISSIONS));
  for (const role of OPERATOR_ROLES) {
    assert.ok(Object.isFrozen(PERMISSIONS[role]));
    assert.deepEqual(Object.keys(PERMISSIONS[role]).sort(), [...OPERATOR_ACTIONS].sort());
  }
  assert.throws(() => {
    (PERMISSIONS.viewer as Record<string, boolean>).manage_owners = true;
  });
  assert.equal(can('intruder' as never, 'view_payments'), false);
  assert.equal(can('viewer', 'do_anything' as never), false);
});
