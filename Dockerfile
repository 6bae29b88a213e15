# Build: compile TypeScript, then keep only production dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Run: no compiler, no dev dependencies, no site configuration, no secrets. Mount the config
# file (GATEWAY_CONFIG) and pass the secrets in the environment (JWT_APP_SECRET,
# GATEWAY_COOKIE_SECRET). package.json stays: it makes dist/ an ES module package.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8080 \
    GATEWAY_METRICS_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
# Files stay owned by root: the gateway can read its code, not change it.
USER node
# 9464 is used only when GATEWAY_METRICS_PORT=9464 starts the metrics listener.
EXPOSE 8080 9464
# The slim image has no curl; Node's own fetch asks the liveness endpoint.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.GATEWAY_PORT || 8080) + '/_gateway/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node runs as PID 1 and handles SIGTERM (graceful stop) and SIGHUP (reload) itself.
ENTRYPOINT ["node", "--no-allocation-site-pretenuring", "dist/cli.js"]
CMD ["run"]
