// `npm run openapi`: writes docs/openapi.json from the routes (run it after changing a /v1 route;
// src/openapi/openapi.test.ts fails until the committed file matches).
import { writeFileSync } from 'node:fs';
import { COMMITTED_OPENAPI_PATH, generateOpenApiJson } from '../src/openapi/generate.ts';

writeFileSync(COMMITTED_OPENAPI_PATH, await generateOpenApiJson());
console.log(`wrote ${COMMITTED_OPENAPI_PATH.pathname}`);
