# syntax=docker/dockerfile:1
# The strata image: the binary and the committed plans, on a minimal non-root base.
#   docker build -t ghcr.io/sovd/strata:0.1.0 .

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin strata \
 && install -D -m 0755 target/release/strata /out/strata

# distroless/cc: glibc and libgcc only, no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/strata /usr/local/bin/strata
COPY plans /plans
USER 1001:1001
ENTRYPOINT ["/usr/local/bin/strata"]
CMD ["apply", "--plans", "/plans"]
