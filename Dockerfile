# The Work in France back office: one image for `wif serve` (admin, scheduled jobs) and
# `wif serve-public`. Build: docker compose build (or docker build -t wif .).
# Works with the legacy builder as with BuildKit: no BuildKit-only syntax.

# 1. The DSFR assets, from package-lock.json; the test tools (axe-core, the OpenID provider of
#    the tests) are development dependencies, left out.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --omit=dev --no-audit --no-fund

# 2. The binary, with the assets embedded by build.rs.
FROM rust:1-bookworm AS build
WORKDIR /src
# The dependencies first, against stub sources: this layer (most of the build time) is
# rebuilt only when Cargo.toml or Cargo.lock change, not on every change of the code.
COPY Cargo.toml Cargo.lock ./
COPY benches benches
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > build.rs \
    && cargo build --release --locked --bin wif \
    && rm -rf src build.rs
COPY --from=assets /src/node_modules node_modules
COPY build.rs package.json package-lock.json ./
COPY src src
COPY migrations migrations
COPY static static
# The copies may keep older times than the stubs' build: touch makes Cargo rebuild the crate.
RUN touch build.rs src/main.rs src/lib.rs \
    && cargo build --release --locked --bin wif \
    && ./target/release/wif --version

# 3. A small runtime image, run as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --shell /usr/sbin/nologin --home-dir /var/lib/wif --create-home wif \
    && mkdir -p /var/lib/wif/media \
    && chown -R wif:wif /var/lib/wif
COPY --from=build /src/target/release/wif /usr/local/bin/wif
USER wif
WORKDIR /var/lib/wif
ENV WIF_MEDIA_ROOT=/var/lib/wif/media \
    WIF_BIND=0.0.0.0:8000 \
    WIF_PUBLIC_BIND=0.0.0.0:1337 \
    WIF_LOG_FORMAT=json
EXPOSE 8000 1337
CMD ["wif", "serve"]
