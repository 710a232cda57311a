#!/usr/bin/env node
// The `paywarden` command. Node strips the TypeScript types itself (22.18+; npm scripts use the
// Node 24 pinned in devDependencies), so there is no build step between a checkout and a run.
await import('../src/main.ts');
