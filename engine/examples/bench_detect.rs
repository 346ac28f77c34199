//! `cargo run --release -p engine --example bench_detect`: the figures of
//! `trailsight bench-detect --json` without building the web server in release mode.

fn main() {
    let figures = engine::eval::bench::run(1);
    println!("{}", serde_json::to_string_pretty(&figures).expect("figures serialise"));
}
