# NeoForge API developer recipes. `just --list` shows them.

pg_url := env_var_or_default("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")

# Run the server on the embedded SQLite default (GraphiQL at http://127.0.0.1:8080/graphql).
run *args:
    cargo run -- {{args}}

# Run the server against PostgreSQL (DATABASE_URL must point at a database).
run-pg url="postgres://postgres@127.0.0.1:5432/neoforge":
    DATABASE_URL={{url}} cargo run -- serve

# The whole test suite on SQLite.
test *args:
    cargo test --workspace {{args}}

# The same suite on PostgreSQL: one fresh database per test, dropped afterwards.
test-pg *args:
    TEST_DATABASE_URL={{pg_url}} cargo test --workspace {{args}}

# Formatting and lints exactly as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Database migrations: just migrate up|down|status|fresh
migrate action="up":
    cargo run -- migrate {{action}}

# Regenerate schema.graphql from the code (a test fails when it is stale).
schema:
    cargo run --quiet -- schema > schema.graphql

# Everything CI runs.
ci:
    bash .ci/run

# Load benchmark against the HTTP and SQL ceilings (docs/benchmarks.md): release server on the
# local PostgreSQL at its shipped log level, W1 also at RUST_LOG=info against RUST_LOG=error;
# `just bench --quick`, `just bench --sqlite`, `just bench --help`. Old against new, turn about
# on one database: `just bench --baseline-bin path/to/old/neoforge`.
bench *args:
    cargo build --release --bin neoforge
    cargo build --release -p neoforge-bench --bins
    cargo run --release -p neoforge-bench -- {{args}}

# Smoke test of the release binary as an operator starts it, on SQLite then PostgreSQL:
# `just smoke`, `just smoke --sqlite`, `just smoke --break STEP`, `just smoke --self-test`.
smoke *args:
    bash .ci/smoke {{args}}

# Line coverage of the suite on SQLite (cargo-tarpaulin): target/ci-artifacts/coverage/.
coverage *args:
    bash .ci/coverage {{args}}

# Soak: a mixed read/write load against one release server for a bounded time (default 120 s,
# loopback only), printing RSS, open descriptors, database sessions and p99 per 10 s window;
# fails on errors or growth beyond noise. `just soak 300`, `just soak 120 --sqlite`.
soak seconds="120" *args:
    cargo build --release --bin neoforge
    cargo build --release -p neoforge-bench --bins
    cargo run --release -p neoforge-bench -- --soak {{seconds}} {{args}}
