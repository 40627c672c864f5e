# syntax=docker/dockerfile:1
# Roomcast node image. The server runs from its TypeScript sources through
# tsx (a runtime dependency), so there is no build output to copy: the first
# stage type-checks the tree so that a broken tree never becomes an image,
# the second installs production dependencies only.

FROM node:20-bookworm-slim AS check
WORKDIR /app
COPY package.json package-lock.json ./
COPY client-sdk/package.json client-sdk/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc --noEmit -p tsconfig.json && npx tsc --noEmit -p web/tsconfig.json

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
COPY client-sdk/package.json client-sdk/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# Copied from the checked stage (which also makes BuildKit run that stage).
# A new top-level source folder needs a line here.
COPY --from=check /app/server server
COPY --from=check /app/db db
# Operator commands (`npm run migrate`, `npm run admin`).
COPY --from=check /app/scripts scripts
COPY --from=check /app/client-sdk/src client-sdk/src
# The web client's sources: the node bundles them in memory at start (esbuild is a runtime dependency).
COPY --from=check /app/web web
COPY --from=check /app/tsconfig.json ./
# The image runs as the unprivileged `node` user; DATA_DIR is its only writable place.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
# fetch is built into Node 20: no curl in the image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1's only process (no npm or shell in between), so SIGTERM from
# `docker stop` reaches the server, which drains and exits 0 within 10 s.
CMD ["node", "--import", "tsx", "server/main.ts"]
