# syntax=docker/dockerfile:1
# Roomcast node image. The first stage type-checks the tree (a broken tree
# never becomes an image) and runs `npm run build`: the server compiled to
# JavaScript and the web client bundled, in dist/. The second installs the
# production dependencies only (no tsx, no esbuild, no TypeScript) and takes
# dist/ alone from the first: the node runs plain JavaScript with no loader
# and no bundler process. docs/operations.md ("The Docker image") lists the
# image's contents; test/production-build.test.ts runs the same build and
# this file's CMD without Docker.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY client-sdk/package.json client-sdk/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc --noEmit -p tsconfig.json && npx tsc --noEmit -p web/tsconfig.json
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
COPY client-sdk/package.json client-sdk/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# The build output only: the compiled server, migrations and operator
# commands (`node dist/scripts/migrate-cli.js`, `node dist/scripts/admin-cli.js`),
# the web client's bundle and static files.
COPY --from=build /app/dist dist
# The image runs as the unprivileged `node` user; DATA_DIR is its only writable place.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
# fetch is built into Node 20: no curl in the image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1's only process (no npm or shell in between), so SIGTERM from
# `docker stop` reaches the server, which drains and exits 0 within 10 s.
CMD ["node", "dist/server/main.js"]
