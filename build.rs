//! Exports the target triple as `TRACKSEED_TARGET`, which `trackseed --version` prints, so a
//! binary copied onto a router says which build it is (mips, mipsel, armv7, aarch64, ...).

fn main() {
    // Cargo always sets TARGET for build scripts; an empty value would only blur the version.
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=TRACKSEED_TARGET={target}");
    // Only this file affects the output; without this line every source change reruns it.
    println!("cargo:rerun-if-changed=build.rs");
}
