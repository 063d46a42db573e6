# syntax=docker/dockerfile:1
# docspace-provision as a container: a static musl binary on an empty (scratch) base with only
# the CA certificates, running as an unprivileged user, the binary as entrypoint.
#   docker build -t docspace-provision --build-arg VERSION=0.1.0 .
#   docker run --rm -u "$(id -u)" -v "$PWD:/work" -e DOCSPACE_URL -e DOCSPACE_API_KEY \
#     docspace-provision plan rooms/

# Builder: pinned to a stable release at or above the crate's rust-version; Alpine's target is
# musl, so the binary links statically and needs no libc at run time.
ARG RUST_VERSION=1.89.0
FROM rust:${RUST_VERSION}-alpine3.22 AS build
# ring compiles C; the CA bundle is copied into the runtime image.
RUN apk add --no-cache musl-dev ca-certificates
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# Cargo resolves the bench targets declared by name in Cargo.toml even for a --bin build.
COPY benches ./benches
RUN cargo build --release --locked --bin docspace-provision \
    && cp target/release/docspace-provision /docspace-provision \
    && /docspace-provision --version
# A passwd entry for the unprivileged user, so tools that look the user up find a name.
RUN echo 'docspace:x:65532:65532:docspace-provision:/work:/sbin/nologin' > /passwd \
    && mkdir -p /work && chown 65532:65532 /work

FROM scratch AS runtime
ARG VERSION=dev
ARG SOURCE=https://github.com/docspace-provision/docspace-provision
LABEL org.opencontainers.image.title="docspace-provision" \
      org.opencontainers.image.description="Keep ONLYOFFICE DocSpace rooms and room membership as code: validate, plan, apply, export." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /passwd /etc/passwd
COPY --from=build --chown=65532:65532 /work /work
COPY --from=build /docspace-provision /usr/local/bin/docspace-provision
# The system roots are read from here (the tool adds --ca-cert PEMs on top of them).
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/docspace-provision"]
CMD ["--help"]
