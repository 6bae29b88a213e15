# Build: compile TypeScript, then keep only production dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Run: no compiler, no dev dependencies, no secrets. Mount the config and provide secrets
# through the environment (JWT_APP_SECRET, GATEWAY_COOKIE_SECRET) or a mounted file.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8080
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
USER node
EXPOSE 8080
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["run"]
