//! Builds the Postgres variants of the storage tests only when a test server is named, so
//! `cargo test` elsewhere lists them as ignored with the reason (see tests/backends).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(trailsight_postgres_tests)");
    println!("cargo::rerun-if-env-changed=TRAILSIGHT_TEST_POSTGRES_URL");
    if std::env::var_os("TRAILSIGHT_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=trailsight_postgres_tests");
    }
}
