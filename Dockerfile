# syntax=docker/dockerfile:1
# Multi-stage: build with dev dependencies, run with production ones only, as the non-root `node` user.
# Node 24 (LTS, supported until April 2028); the code needs >= 20.19 (package.json engines), and Node 20 left support in April 2026
ARG NODE_VERSION=24-bookworm-slim

FROM node:${NODE_VERSION} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.base.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:${NODE_VERSION} AS runtime
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# data tsc does not copy: the RDAP bootstrap files (npm run rdap:bootstrap refreshes them)
COPY --from=build --chown=node:node /app/src/features/targets/rdap/bootstrap ./dist/features/targets/rdap/bootstrap
COPY --chown=node:node package.json ./
USER node
EXPOSE 3000
# no shell tools needed: node itself asks /healthz (with --liftoff-only, see the ENTRYPOINT: 55 instead of 84 MB a check)
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "--liftoff-only", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node as PID 1 receives SIGTERM directly; close-with-grace drains in-flight requests.
# --liftoff-only: the HTTP client's parser (llhttp, WebAssembly) stays on V8's baseline compiler. Otherwise V8 compiles
# its one large function with its optimising compiler on the first responses, which takes ~34 MB of memory for about a
# second: 30 MB of the process's start-up peak (bench/README.md, "The start-up transient, found").
ENTRYPOINT ["node", "--enable-source-maps", "--liftoff-only", "dist/server.js"]
