// Prints the signed-request test vectors for docs/api-keys.md (request-signing.test.ts checks they agree).
import { renderSigningVectors } from '../src/keys/signing-vectors.ts';

console.log(renderSigningVectors());
