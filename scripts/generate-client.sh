#!/usr/bin/env bash
# Regenerates the typed TypeScript client's types (clients/typescript/src/schema.d.ts) from the server's
# OpenAPI document, and keeps the document it was generated from beside it (clients/typescript/openapi.json):
# test/client.test.ts fails when the served document and that copy differ, so run this after changing a route.
# openapi-typescript runs through npx (it needs TypeScript 5; the server builds with another version).
set -euo pipefail
cd "$(dirname "$0")/.."
node --import tsx test/tools/openapi-dump.ts clients/typescript/openapi.json
npx -y -p openapi-typescript@7.13.0 -p typescript@5.9 openapi-typescript clients/typescript/openapi.json \
  -o clients/typescript/src/schema.d.ts
