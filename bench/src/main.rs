//! `make bench`: boots the kernel in its benchmark modes and writes the
//! results as JSON and SVG under `bench/results/`.
fn main() {
    eprintln!("bench: no benchmarks yet");
}
