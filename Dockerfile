# memcached-ts in a container: port 11211, persistence in the volume /data.
#
#   docker build -t memcached-ts .
#   docker run -d --name cache -p 11211:11211 -v cache-data:/data memcached-ts -m 1024
#
# Arguments after the image name are memcached flags, added to `--aof /data`. Keep the port at
# 11211 inside the container (publish it elsewhere with -p HOST:11211): the health check uses it.
# Not built or run in this project's CI (its machines have no container engine): see README,
# "Container".

# Build: compile src/ to dist/ with the dev dependencies (TypeScript).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime: dist/, package.json and the production dependencies only.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The image's unprivileged user owns the data directory; the volume inherits that ownership.
RUN mkdir /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 11211
# Healthy once the server answers `version` (it listens only after recovery has loaded /data:
# a large cache can take a while, hence the start period). The slim image has no nc: plain node.
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 \
  CMD ["node", "-e", "const s=require('net').connect(11211,'127.0.0.1');s.setTimeout(4000,()=>process.exit(1));s.on('error',()=>process.exit(1));s.on('connect',()=>s.write('version\\r\\n'));s.on('data',d=>process.exit(/^VERSION /.test(d.toString())?0:1))"]
# SIGTERM (docker stop) is a graceful stop: connections finish, the log is written and fsynced.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/main.js", "--aof", "/data"]
CMD []
