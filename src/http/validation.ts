import { Ajv, type ErrorObject } from 'ajv';
import addFormatsImport from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { addFreeTextKeyword, describeForbidden, FREE_TEXT_KEYWORD } from '../text/free-text.ts';

// Bodies are validated strictly: no type coercion ("100" is not an amount), no silent removal of
// unknown fields (they are refused, API-10). Query strings and path parameters are text on the
// wire, so only they may be coerced to numbers.
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: false,
    coerceTypes: coerce,
    removeAdditional: false,
    useDefaults: true,
    strict: false,
  });
  addFormats(ajv);
  addFreeTextKeyword(ajv);
  return ajv;
}

const strictAjv = makeAjv(false);
const coercingAjv = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? strictAjv : coercingAjv).compile(schema as object) as ReturnType<
    FastifySchemaCompiler<unknown>
  >;

export interface ValidationProblem {
  code: 'parameter_missing' | 'parameter_unknown' | 'parameter_invalid' | 'invalid_characters';
  param: string;
  message: string;
}

/** Turns the first schema error into our error shape, naming the offending field. */
export function describeValidationError(errors: readonly ErrorObject[], part: string | undefined): ValidationProblem {
  const first = errors[0];
  const base = (first?.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
  const join = (leaf: string) => (base === '' ? leaf : `${base}.${leaf}`);
  if (first === undefined)
    return { code: 'parameter_invalid', param: part ?? 'body', message: 'The request is not valid.' };
  if (first.keyword === 'required') {
    const param = join(String((first.params as { missingProperty: string }).missingProperty));
    return { code: 'parameter_missing', param, message: `Missing required parameter: ${param}.` };
  }
  if (first.keyword === 'additionalProperties') {
    const param = join(String((first.params as { additionalProperty: string }).additionalProperty));
    return { code: 'parameter_unknown', param, message: `Unknown parameter: ${param}.` };
  }
  const param = base === '' ? (part ?? 'body') : base;
  if (first.keyword === FREE_TEXT_KEYWORD) {
    const { codePoint, index } = first.params as { codePoint: number; index: number };
    return { code: 'invalid_characters', param, message: describeForbidden(param, { codePoint, index }) };
  }
  return { code: 'parameter_invalid', param, message: `Invalid ${param}: ${first.message ?? 'not valid'}.` };
}
