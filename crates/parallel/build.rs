// Bakes libtorch's library folder into the rpath of this crate's test binaries, so they start
// without LD_LIBRARY_PATH (cargo only adds folders inside target/ to the library path).
fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Ok(libtorch) = std::env::var("LIBTORCH") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{libtorch}/lib");
    }
}
