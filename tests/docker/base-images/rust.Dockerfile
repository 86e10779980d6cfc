# Stand-in for rust:1-bookworm: the machine's own stable toolchain (without its documentation)
# on Debian bookworm with the C toolchain the official image has, in the official layout.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev make pkg-config git curl \
    && rm -rf /var/lib/apt/lists/*
ENV RUSTUP_HOME=/usr/local/rustup \
    CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY . /usr/local/rustup/toolchains/stable-x86_64-unknown-linux-gnu/
RUN mkdir -p /usr/local/cargo/bin \
    && ln -s /usr/local/rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/* /usr/local/cargo/bin/ \
    && rustc --version && cargo --version
