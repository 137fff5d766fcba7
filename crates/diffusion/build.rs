// Bakes libtorch's library folder into the rpath of this crate's test binaries, so they start
// without LD_LIBRARY_PATH (cargo only adds folders inside target/ to the library path), and
// compiles the one-line shim that sets CUDA autocast to bf16 against libtorch's headers.
fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    println!("cargo:rerun-if-changed=csrc/autocast_bf16.cpp");
    println!("cargo::rustc-check-cfg=cfg(vidnas_autocast_shim)");
    let Ok(libtorch) = std::env::var("LIBTORCH") else {
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{libtorch}/lib");
    let include = std::path::Path::new(&libtorch).join("include");
    if !include.join("ATen/autocast_mode.h").exists() {
        return;
    }
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into());
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .include(&include)
        .define("_GLIBCXX_USE_CXX11_ABI", abi.as_str())
        .flag_if_supported("-w")
        .file("csrc/autocast_bf16.cpp")
        .compile("vidnas_autocast_bf16");
    println!("cargo:rustc-cfg=vidnas_autocast_shim");
}
