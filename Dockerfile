# syntax=docker/dockerfile:1
# townhall: a static binary on a distroless, non-root base.
#   docker build -t townhall .
#   docker run -d --name townhall -e SLACK_APP_TOKEN -e SLACK_BOT_TOKEN \
#     -v townhall-data:/data townhall

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# modernc.org/sqlite is pure Go, so the binary needs no libc.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/townhall ./cmd/townhall \
 && mkdir -p /out/data

# distroless/static has CA certificates and /etc/passwd with the nonroot
# user (65532), and nothing else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/townhall /townhall
COPY --from=build --chown=65532:65532 /out/data /data
ENV TOWNHALL_DATABASE_PATH=/data/townhall.db \
    TOWNHALL_ARCHIVE_EXPORT_DIR=/data/exports \
    TOWNHALL_HTTP_ADDR=:8080 \
    TOWNHALL_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/townhall", "healthcheck"]
ENTRYPOINT ["/townhall"]
CMD ["run"]
