# syntax=docker/dockerfile:1
# One static binary on distroless: no shell, no package manager, runs as
# uid 65532. Build with: docker build -t twofold .

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so editing code does not re-download modules.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /twofold ./cmd/twofold
# The data directory must exist, owned by the nonroot user, so a fresh named
# volume mounted on it inherits a writable owner.
RUN mkdir -p /out/data && chown 65532:65532 /out/data

# distroless/static carries CA certificates (Twilio and SMTP over TLS) and
# tzdata, and nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /twofold /twofold
COPY --from=build --chown=65532:65532 /out/data /data
ENV TWOFOLD_DATA_DIR=/data \
    TWOFOLD_LISTEN=0.0.0.0:8080
USER nonroot:nonroot
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/twofold"]
CMD ["serve"]
