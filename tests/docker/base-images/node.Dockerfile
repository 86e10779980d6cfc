# Stand-in for node:20-bookworm-slim: the machine's own Node.js 20 and npm, laid out as in the
# official image (/usr/local/bin/node, /usr/local/lib/node_modules/npm).
FROM debian:bookworm-slim
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
# Node carries its own CA list; the machine's extra authorities come from the trust store.
RUN cat /usr/local/share/ca-certificates/*.crt > /usr/local/share/wif-extra-ca.pem 2>/dev/null || true \
    && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && node --version && npm --version
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/wif-extra-ca.pem
CMD ["node"]
